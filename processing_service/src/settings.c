/* processing_service's own settings (settings.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "processor.h"
#include "settings.h"
#include "shared/config.h"
#include "shared/kafka_watch.h"
#include "shared/order.h"
#include "shared/service.h"
#include "shared/util.h"

const char processing_settings_usage[] =
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
        "  TXN_MIN_MS        shortest: after it, commit as soon as no record\n"
        "                    is waiting (default 0; TXN_MAX_MS: fixed cadence)\n"
        "  DEDUPE_RETENTION  how long an order_id is remembered: the same\n"
        "                    order_id gets one status within it (default 7d;\n"
        "                    units ms, s, m, h, d; 0: off)\n"
        "  DEDUPE_TOPIC      the store's changelog topic\n"
        "                    (default KAFKA_GROUP_ID-dedupe-changelog)\n"
        "See docs/processing_service.md.\n";

/* Read our variables. Returns 0, or -1 with errstr naming the variable. */
static int settings_read(struct processing_settings *s, const struct config *cfg,
                         char *errstr, size_t errstr_size)
{
        char host[256], def_id[512], def_topic[512];

        if (gethostname(host, sizeof(host)) != 0)
                snprintf(host, sizeof(host), "localhost");
        host[sizeof(host) - 1] = '\0';
        snprintf(def_id, sizeof(def_id), "%s-%s", cfg->group_id, host);
        snprintf(def_topic, sizeof(def_topic), "%.200s-dedupe-changelog",
                 cfg->group_id);
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
                           errstr, errstr_size) < 0 ||
            config_get_int("TXN_MIN_MS", 0, 0, s->txn_max_ms, &s->txn_min_ms,
                           errstr, errstr_size) < 0 ||
            config_get_duration_ms("DEDUPE_RETENTION", DEDUPE_RETENTION_DEFAULT_MS,
                                   0, DEDUPE_RETENTION_MAX_MS,
                                   &s->dedupe_retention_ms, errstr,
                                   errstr_size) < 0 ||
            config_get_topic("DEDUPE_TOPIC", def_topic, &s->dedupe_topic,
                             errstr, errstr_size) < 0)
                return -1;
        if (s->dedupe_retention_ms > 0 && s->dedupe_retention_ms < 1000)
                return error_set(errstr, errstr_size,
                                 "DEDUPE_RETENTION: at least 1s, or 0 (off)");
        return 0;
}

void processing_settings_options(const struct service *svc,
                                 struct processor_options *opts)
{
        struct processing_settings *s = svc->settings;

        *opts = (struct processor_options){
                .cfg = &svc->cfg,
                .rules = &s->rules,
                .transactional_id = s->transactional_id,
                .txn_max_records = s->txn_max_records,
                .txn_max_ms = s->txn_max_ms,
                .txn_min_ms = s->txn_min_ms,
                .dedupe_retention_ms = s->dedupe_retention_ms,
                .changelog_topic = s->dedupe_topic,
                .metrics = svc->metrics,
                .on_all_brokers_down = kafka_watch_mark_down,
                .arg = svc->watch,
        };
}

int processing_settings_load(const struct service *svc, void *settings,
                             char *errstr, size_t errstr_size)
{
        struct processing_settings *s = settings;
        struct service view = *svc;
        struct processor_options opts;
        char rerr[CONFIG_ERRSTR_SIZE];

        rules_init(&s->rules, 100);
        if (settings_read(s, &svc->cfg, errstr, errstr_size) == -1)
                return -1;
        rules_init(&s->rules, s->max_quantity);
        if (s->catalog_file && rules_load_catalog(&s->rules, s->catalog_file,
                                                  rerr, sizeof(rerr)) == -1)
                return error_set(errstr, errstr_size, "CATALOG_FILE: %s", rerr);
        view.settings = s;
        processing_settings_options(&view, &opts);
        return processor_check_config(&opts, errstr, errstr_size);
}

void processing_settings_release(void *settings)
{
        struct processing_settings *s = settings;

        rules_release(&s->rules);
        free(s->catalog_file);
        free(s->transactional_id);
        free(s->dedupe_topic);
        s->dedupe_topic = NULL;
        s->catalog_file = NULL;
        s->transactional_id = NULL;
}
