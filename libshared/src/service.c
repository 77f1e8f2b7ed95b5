/* The one life cycle of the services (service.h). service_main() reads top
 * down as the order of start-up; teardown is the reverse, in
 * service_release(), which accepts a service stopped at any step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/cli.h"
#include "shared/dotenv.h"
#include "shared/kafka_watch.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/service.h"
#include "shared/shutdown.h"
#include "shared/util.h"

/* How the watch looks at the broker: every second while ready, each
 * metadata request bounded. */
#define SERVICE_WATCH_INTERVAL_MS 1000
#define SERVICE_WATCH_TIMEOUT_MS 2000

/* The configuration steps, before logging: 0, or -1 with errstr. */
static int service_configure(struct service *svc, char *errstr,
                             size_t errstr_size)
{
        const struct config_defaults defaults = {
                .service_name = svc->def->name,
                .group_id = svc->def->group_id,
                .http_port = svc->def->http_port,
        };

        if (dotenv_load(".env", errstr, errstr_size) == -1 ||
            config_load(&svc->cfg, &defaults, errstr, errstr_size) == -1)
                return -1;
        if (svc->def->topics & SERVICE_TOPIC_ORDERS_DLQ)
                snprintf(svc->dlq_topic, sizeof(svc->dlq_topic), "%s.dlq",
                         svc->cfg.orders_topic);
        else if (svc->def->topics & SERVICE_TOPIC_NOTIFICATIONS_DLQ)
                snprintf(svc->dlq_topic, sizeof(svc->dlq_topic), "%s.dlq",
                         svc->cfg.notifications_topic);
        svc->settings = calloc(1, svc->def->settings_size);
        if (!svc->settings)
                return error_set(errstr, errstr_size, "out of memory");
        return svc->def->settings_load(svc, svc->settings, errstr,
                                       errstr_size);
}

/* The readiness watch on the service's topics. */
static struct kafka_watch *service_watch_new(struct service *svc, char *errstr,
                                             size_t errstr_size)
{
        const char *topics[3];
        size_t n = 0;

        if (svc->def->topics & SERVICE_TOPIC_ORDERS)
                topics[n++] = svc->cfg.orders_topic;
        if (svc->def->topics & SERVICE_TOPIC_NOTIFICATIONS)
                topics[n++] = svc->cfg.notifications_topic;
        if (svc->dlq_topic[0])
                topics[n++] = svc->dlq_topic;
        return kafka_watch_new(
                &svc->cfg,
                &(struct kafka_watch_options){
                        .topics = topics,
                        .ntopics = n,
                        .partitions = svc->cfg.topic_partitions,
                        .replication_factor = svc->cfg.topic_replication_factor,
                        .interval_ms = SERVICE_WATCH_INTERVAL_MS,
                        .timeout_ms = SERVICE_WATCH_TIMEOUT_MS,
                },
                errstr, errstr_size);
}

/* http_ready_fn: the broker and topics, then what the service adds. */
static bool service_is_ready(void *arg, char *reason, size_t reason_size)
{
        struct service *svc = arg;

        if (!kafka_watch_is_ready(svc->watch, reason, reason_size))
                return false;
        return !svc->def->is_ready ||
               svc->def->is_ready(svc->app, reason, reason_size);
}

static int service_http_start(struct service *svc, char *errstr,
                              size_t errstr_size)
{
        struct http_server_options opts = {
                .service_name = svc->def->name,
                .port = svc->cfg.http_port,
                .num_threads = 4,
                .request_timeout_ms = 10000,
                .is_ready = service_is_ready,
                .ready_arg = svc,
                .metrics = svc->metrics,
        };

        if (svc->def->http_options)
                svc->def->http_options(svc, &opts);
        svc->http = http_server_start(&opts, errstr, errstr_size);
        if (!svc->http)
                return -1;
        return svc->def->routes ? svc->def->routes(svc, errstr, errstr_size)
                                : 0;
}

/* The steps after logging has started: 0, or -1 with errstr. */
static int service_start(struct service *svc, char *errstr,
                         size_t errstr_size)
{
        if (shutdown_install() == -1) {
                snprintf(errstr, errstr_size, "cannot install signal handlers");
                return -1;
        }
        svc->metrics = metrics_new();
        if (!svc->metrics) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        svc->watch = service_watch_new(svc, errstr, errstr_size);
        if (!svc->watch)
                return -1;
        svc->app = svc->def->start(svc, errstr, errstr_size);
        if (!svc->app)
                return -1;
        return service_http_start(svc, errstr, errstr_size);
}

/* The run of a service whose work happens on other threads (HTTP
 * workers): wait for the shutdown request. A signal other than the
 * shutdown ones (SIGHUP) ends a wait early. */
static int service_wait(struct service *svc)
{
        (void)svc;
        while (!shutdown_wait(1000))
                ;
        return 0;
}

/* Tear down in reverse whatever was started. */
static void service_release(struct service *svc)
{
        int drain_ms = svc->app && svc->def->stop ? svc->def->stop(svc) : 0;

        if (svc->http && drain_ms > 0 &&
            http_server_drain(svc->http, drain_ms) == 0)
                log_write(LOG_LEVEL_INFO, "every request in flight answered",
                          NULL, 0);
        http_server_stop(svc->http);
        if (svc->app)
                svc->def->destroy(svc);
        kafka_watch_destroy(svc->watch);
        metrics_destroy(svc->metrics);
}

int service_main(const struct service_def *def, int argc, char **argv)
{
        struct service svc = {.def = def};
        char errstr[CONFIG_ERRSTR_SIZE];
        int r;

        if ((r = cli_handle(argc, argv, def->name, def->usage)) >= 0)
                return r;
        if (service_configure(&svc, errstr, sizeof(errstr)) == -1) {
                fprintf(stderr, "%s: %s\n", def->name, errstr);
                r = CONFIG_EXIT_BAD;
                goto out;
        }
        if (log_init(def->name, svc.cfg.log_level, STDERR_FILENO, errstr,
                     sizeof(errstr)) == -1) {
                fprintf(stderr, "%s: %s\n", def->name, errstr);
                r = 1;
                goto out;
        }
        if (service_start(&svc, errstr, sizeof(errstr)) == -1) {
                /* Stopped while waiting for the broker: a clean stop. */
                r = shutdown_requested() ? 0 : 1;
                if (r)
                        log_write(LOG_LEVEL_ERROR, "cannot start",
                                  (struct log_field[]){
                                          LOG_STR("error.message", errstr)},
                                  1);
        } else {
                log_write(LOG_LEVEL_INFO, "started",
                          (struct log_field[]){
                                  LOG_STR("service.version", PIPELINE_VERSION),
                                  LOG_INT("http.port",
                                          http_server_port(svc.http)),
                          },
                          2);
                r = def->run ? def->run(&svc) : service_wait(&svc);
                r = r == 0 ? 0 : 1;
                log_write(LOG_LEVEL_INFO, "shutting down", NULL, 0);
        }
        service_release(&svc);
        log_write(LOG_LEVEL_INFO, "stopped",
                  (struct log_field[]){LOG_INT("process.exit_code", r)}, 1);
        log_fini();
out:
        if (svc.settings && def->settings_release)
                def->settings_release(svc.settings);
        free(svc.settings);
        config_release(&svc.cfg);
        return r;
}
