/* order_service: wiring only. Load the configuration, start logging, the
 * broker watch, the publisher and the HTTP server; run until SIGTERM or
 * SIGINT; tear down in reverse, finishing the requests in flight. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "api.h"
#include "publisher.h"
#include "shared/cli.h"
#include "shared/config.h"
#include "shared/http.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/order.h"
#include "shared/shutdown.h"
#include "watch.h"

static const char usage[] =
        "POST /orders validates a JSON order and publishes it to Kafka; it\n"
        "answers 202 once the broker has acknowledged it.\n\n"
        "Settings come from the environment (and ./.env); see\n"
        "docs/order_service.md. Besides the shared ones (KAFKA_*,\n"
        "ORDERS_TOPIC, HTTP_PORT, LOG_LEVEL, LOG_FORMAT, TOPIC_PARTITIONS,\n"
        "TOPIC_REPLICATION_FACTOR):\n"
        "  HTTP_THREADS          worker threads, one per open connection (128)\n"
        "  DELIVERY_TIMEOUT_MS   give up on a delivery, answer 504 (10000)\n"
        "  KAFKA_LINGER_MS       producer batching delay (2)\n";

/* At shutdown, how long past the longest wait of a request for its
 * delivery report the drain waits for the last replies to go out. */
#define DRAIN_MARGIN_MS 2000

/* order_service's own settings, on top of struct config. */
struct order_settings {
        int http_threads;
        int delivery_timeout_ms;
        int linger_ms;
};

static int settings_load(struct order_settings *s, char *errstr,
                         size_t errstr_size)
{
        long long n;

        if (config_get_int("HTTP_THREADS", 128, 4, 4096, &n, errstr,
                           errstr_size) == -1)
                return -1;
        s->http_threads = (int)n;
        if (config_get_int("DELIVERY_TIMEOUT_MS", 10000, 1000, 300000, &n,
                           errstr, errstr_size) == -1)
                return -1;
        s->delivery_timeout_ms = (int)n;
        /* KAFKA_LINGER_MS is a pass-through property that config_load()
         * has checked; when it is given the publisher leaves it alone.
         * librdkafka refuses a linger not below the message timeout. */
        s->linger_ms = 2;
        if (config_get_int("KAFKA_LINGER_MS", s->linger_ms, 0, 900000, &n,
                           errstr, errstr_size) == -1)
                return -1;
        if (n >= s->delivery_timeout_ms) {
                snprintf(errstr, errstr_size,
                         "KAFKA_LINGER_MS: %lld must be below "
                         "DELIVERY_TIMEOUT_MS (%d)",
                         n, s->delivery_timeout_ms);
                return -1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        static const struct config_defaults defaults = {
                .service_name = "order_service",
                .group_id     = NULL,
                .http_port    = 8001,
        };
        char errstr[CONFIG_ERRSTR_SIZE];
        struct order_settings settings;
        struct config cfg;
        struct metrics *metrics = NULL;
        struct watch *watch = NULL;
        struct publisher *pub = NULL;
        struct api *api = NULL;
        struct http_server *srv = NULL;
        const char *topics[1];
        int r;

        if ((r = cli_handle(argc, argv, defaults.service_name, usage)) >= 0)
                return r;
        if (config_load_dotenv(".env", errstr, sizeof(errstr)) == -1 ||
            config_load(&cfg, &defaults, errstr, sizeof(errstr)) == -1) {
                fprintf(stderr, "%s: %s\n", defaults.service_name, errstr);
                return CONFIG_EXIT_BAD;
        }
        if (settings_load(&settings, errstr, sizeof(errstr)) == -1 ||
            publisher_check_config(&cfg, settings.delivery_timeout_ms,
                                   settings.linger_ms, errstr,
                                   sizeof(errstr)) == -1) {
                fprintf(stderr, "%s: %s\n", defaults.service_name, errstr);
                config_release(&cfg);
                return CONFIG_EXIT_BAD;
        }
        if (log_init(defaults.service_name, cfg.log_level, STDERR_FILENO,
                     errstr, sizeof(errstr)) == -1) {
                fprintf(stderr, "%s: %s\n", defaults.service_name, errstr);
                config_release(&cfg);
                return 1;
        }
        r = 1;
        if (shutdown_install() == -1) {
                log_error("cannot install signal handlers");
                goto out;
        }
        metrics = metrics_new();
        if (!metrics) {
                log_error("out of memory");
                goto out;
        }

        /* The watch creates the topic and tracks the broker; a broker that
         * is not up yet only keeps /readyz at 503 until it is. */
        topics[0] = cfg.orders_topic;
        watch = watch_new(&cfg,
                          &(struct watch_options){
                                  .topics = topics,
                                  .ntopics = 1,
                                  .partitions = cfg.topic_partitions,
                                  .replication_factor =
                                          cfg.topic_replication_factor,
                                  .interval_ms = 1000,
                                  .timeout_ms = 2000,
                          },
                          errstr, sizeof(errstr));
        if (!watch) {
                log_error("cannot start the broker watch: %s", errstr);
                goto out;
        }
        pub = publisher_new(
                &cfg,
                &(struct publisher_options){
                        .topic = cfg.orders_topic,
                        .delivery_timeout_ms = settings.delivery_timeout_ms,
                        .linger_ms = settings.linger_ms,
                        .on_all_brokers_down = watch_mark_down,
                        .arg = watch,
                        .recreations = metrics_counter(
                                metrics, "kafka_producer_recreations_total",
                                "Producers replaced after a fatal error",
                                NULL),
                },
                errstr, sizeof(errstr));
        if (!pub) {
                log_error("cannot create the producer: %s", errstr);
                goto out;
        }
        api = api_new(&(struct api_options){
                .publisher = pub,
                .watch = watch,
                .metrics = metrics,
                .topic = cfg.orders_topic,
                .max_body_bytes = ORDER_MAX_JSON_BYTES,
        });
        if (!api) {
                log_error("out of memory");
                goto out;
        }
        if (metrics_gauge_fn(metrics, "kafka_producer_queue_depth",
                             "Messages waiting in the producer's queues",
                             NULL,
                             publisher_queue_depth_gauge,
                             pub) == -1)
                log_warn("cannot register the queue depth gauge");

        srv = http_server_start(
                &(struct http_server_options){
                        .service_name = defaults.service_name,
                        .port = cfg.http_port,
                        .num_threads = settings.http_threads,
                        .request_timeout_ms = 10000,
                        .is_ready = watch_is_ready,
                        .ready_arg = watch,
                        .metrics = metrics,
                        .on_request_done = api_request_done,
                        .request_done_arg = api,
                        .tcp_nodelay = true,
                        .cors_disabled = true,
                },
                errstr, sizeof(errstr));
        if (!srv) {
                log_error("%s", errstr);
                goto out;
        }
        http_server_route(srv, "/orders", api_orders_handler, api);
        http_server_route(srv, "/openapi.json", api_openapi_handler, api);
        log_info("%s %s started on port %d, topic '%s'",
                 defaults.service_name, PIPELINE_VERSION,
                 http_server_port(srv), cfg.orders_topic);

        while (!shutdown_wait(1000))
                ;
        log_info("shutting down: finishing requests in flight");
        r = 0;
out:
        /* New orders get 503 shutting_down from here, and every reply
         * closes its connection. The drain refuses new connections and
         * waits until each request taken is answered: those waiting for
         * their delivery report get their 202 or 504 before the producer
         * is flushed and destroyed. Only then mg_stop(), which once begun
         * sends nothing (a reply written after it is lost) and closes what
         * is still open without an answer. */
        if (api)
                api_stop_accepting(api);
        if (srv && http_server_drain(srv, settings.delivery_timeout_ms +
                                                  PUBLISHER_REPORT_MARGIN_MS +
                                                  DRAIN_MARGIN_MS) == 0)
                log_info("every request in flight answered");
        http_server_stop(srv);
        publisher_destroy(pub, settings.delivery_timeout_ms);
        api_destroy(api);
        watch_destroy(watch);
        metrics_destroy(metrics);
        if (r == 0)
                log_info("%s stopped", defaults.service_name);
        log_fini();
        config_release(&cfg);
        return r;
}
