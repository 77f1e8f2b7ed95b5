/* processing_service: a consumer group on the orders topic that checks each
 * order against the business rules and writes its status to the
 * notifications topic, exactly once (Kafka transactions).
 *
 * This file only wires: configuration, logging, rules, metrics, the HTTP
 * server, the processor (processor.c), and teardown in reverse. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "processor.h"
#include "rules.h"
#include "shared/cli.h"
#include "shared/config.h"
#include "shared/dotenv.h"
#include "shared/http.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/shutdown.h"

#define SERVICE_NAME "processing_service"

static const char usage[] =
        "Checks each order on ORDERS_TOPIC and writes its status to\n"
        "NOTIFICATIONS_TOPIC, exactly once; records that are not orders go to\n"
        "ORDERS_TOPIC.dlq. Settings come from the environment (and ./.env):\n"
        "the shared ones of README.md, and\n"
        "  MAX_QUANTITY      a larger quantity is rejected (default 100)\n"
        "  CATALOG_FILE      known items, one per line (default: all known)\n"
        "  TRANSACTIONAL_ID  stable and distinct per instance\n"
        "                    (default: KAFKA_GROUP_ID-hostname)\n"
        "  TXN_MAX_RECORDS   records per transaction (default 10000)\n"
        "  TXN_MAX_MS        longest a transaction stays open (default 20)\n"
        "See docs/processing_service.md.\n";

/* The settings of this service beyond struct config. */
struct settings {
        long long max_quantity;
        char *catalog_file;     /* NULL: no catalog */
        char *transactional_id;
        long long txn_max_records;
        long long txn_max_ms;
};

static void settings_release(struct settings *s)
{
        free(s->catalog_file);
        free(s->transactional_id);
        memset(s, 0, sizeof(*s));
}

/* Read our variables. Returns 0, or -1 with errstr naming the variable. */
static int settings_load(struct settings *s, const struct config *cfg,
                         char *errstr, size_t errstr_size)
{
        char host[256], def_id[512];

        memset(s, 0, sizeof(*s));
        if (gethostname(host, sizeof(host)) != 0)
                snprintf(host, sizeof(host), "localhost");
        host[sizeof(host) - 1] = '\0';
        snprintf(def_id, sizeof(def_id), "%s-%s", cfg->group_id, host);
        if (config_get_int("MAX_QUANTITY", 100, ORDER_QUANTITY_MIN,
                           ORDER_QUANTITY_MAX, &s->max_quantity, errstr,
                           errstr_size) < 0 ||
            config_get_string("CATALOG_FILE", NULL, 4096, &s->catalog_file,
                              errstr, errstr_size) < 0 ||
            config_get_string("TRANSACTIONAL_ID", def_id, 255,
                              &s->transactional_id, errstr, errstr_size) < 0 ||
            config_get_int("TXN_MAX_RECORDS", 10000, 1, 100000,
                           &s->txn_max_records, errstr, errstr_size) < 0 ||
            config_get_int("TXN_MAX_MS", 20, 1, 600000, &s->txn_max_ms,
                           errstr, errstr_size) < 0) {
                settings_release(s);
                return -1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        static const struct config_defaults defaults = {
                .service_name = SERVICE_NAME,
                .group_id     = "processing-service",
                .http_port    = 8002,
        };
        char errstr[CONFIG_ERRSTR_SIZE], rerr[CONFIG_ERRSTR_SIZE];
        struct config cfg;
        struct settings settings;
        struct rules rules;
        struct metrics *metrics = NULL;
        struct processor *proc = NULL;
        struct http_server *http = NULL;
        int r;

        if ((r = cli_handle(argc, argv, SERVICE_NAME, usage)) >= 0)
                return r;
        if (dotenv_load(".env", errstr, sizeof(errstr)) == -1 ||
            config_load(&cfg, &defaults, errstr, sizeof(errstr)) == -1) {
                fprintf(stderr, "%s: %s\n", SERVICE_NAME, errstr);
                return CONFIG_EXIT_BAD;
        }
        if (settings_load(&settings, &cfg, errstr, sizeof(errstr)) == -1) {
                fprintf(stderr, "%s: %s\n", SERVICE_NAME, errstr);
                config_release(&cfg);
                return CONFIG_EXIT_BAD;
        }
        rules_init(&rules, settings.max_quantity);
        if (settings.catalog_file &&
            rules_load_catalog(&rules, settings.catalog_file, rerr,
                               sizeof(rerr)) == -1) {
                fprintf(stderr, "%s: CATALOG_FILE: %s\n", SERVICE_NAME, rerr);
                r = CONFIG_EXIT_BAD;
                goto out_settings;
        }
        if (log_init(SERVICE_NAME, cfg.log_level, STDERR_FILENO, errstr,
                     sizeof(errstr)) == -1) {
                fprintf(stderr, "%s: %s\n", SERVICE_NAME, errstr);
                r = 1;
                goto out_settings;
        }
        if (shutdown_install() == -1) {
                log_error("cannot install signal handlers");
                r = 1;
                goto out_log;
        }
        metrics = metrics_new();
        if (!metrics) {
                log_error("out of memory");
                r = 1;
                goto out_log;
        }
        {
                struct processor_options opts = {
                        .cfg = &cfg,
                        .rules = &rules,
                        .transactional_id = settings.transactional_id,
                        .txn_max_records = settings.txn_max_records,
                        .txn_max_ms = settings.txn_max_ms,
                        .metrics = metrics,
                };

                proc = processor_new(&opts, errstr, sizeof(errstr));
        }
        if (!proc) {
                /* A property librdkafka refused: a bad configuration. */
                fprintf(stderr, "%s: %s\n", SERVICE_NAME, errstr);
                r = CONFIG_EXIT_BAD;
                goto out_metrics;
        }
        {
                struct http_server_options hopts = {
                        .service_name = SERVICE_NAME,
                        .port = cfg.http_port,
                        .num_threads = 4,
                        .request_timeout_ms = 10000,
                        .is_ready = processor_is_ready,
                        .ready_arg = proc,
                        .metrics = metrics,
                };

                http = http_server_start(&hopts, errstr, sizeof(errstr));
        }
        if (!http) {
                log_write(LOG_LEVEL_ERROR, "cannot start the HTTP server",
                          (struct log_field[]){ LOG_STR("error.message", errstr) },
                          1);
                r = 1;
                goto out_proc;
        }
        log_write(LOG_LEVEL_INFO, SERVICE_NAME " started",
                  (struct log_field[]){
                          LOG_STR("service.version", PIPELINE_VERSION),
                          LOG_INT("http.port", cfg.http_port),
                          LOG_INT("rules.max_quantity", rules.max_quantity),
                          LOG_INT("rules.catalog_items",
                                  (long long)rules.catalog_count),
                  },
                  4);
        r = processor_run(proc) == 0 ? 0 : 1;
        log_write(LOG_LEVEL_INFO, SERVICE_NAME " stopped",
                  (struct log_field[]){ LOG_INT("process.exit_code", r) }, 1);
        http_server_stop(http);
out_proc:
        processor_destroy(proc);
out_metrics:
        metrics_destroy(metrics);
out_log:
        log_fini();
out_settings:
        rules_release(&rules);
        settings_release(&settings);
        config_release(&cfg);
        return r;
}
