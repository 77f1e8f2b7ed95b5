/* Consume-transform-produce with Kafka transactions (KIP-98) and the
 * consumer group metadata (KIP-447), modelled on librdkafka's
 * examples/transactions.c, with one transactional producer per instance:
 * the life cycle and the loop. A transaction is committed once it holds
 * txn_max_records records or is txn_max_ms old, or, once txn_min_ms old,
 * as soon as no record is waiting (txn.c); each record's status or dead
 * letter is produced in it (output.c).
 *
 * Threads: everything runs on the thread of processor_run(), including
 * librdkafka's callbacks (clients.c: rebalance and error callbacks are
 * served by rd_kafka_consumer_poll() and rd_kafka_poll() on that thread).
 * Only 'ready' is read by other threads (HTTP workers), through an
 * atomic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "processor_int.h"
#include "settings.h"
#include "shared/kafka.h"
#include "shared/metrics.h"
#include "shared/service.h"
#include "shared/shutdown.h"
#include "shared/util.h"

/* Longest wait in rd_kafka_consumer_poll(), so a shutdown is seen soon. */
#define POLL_MAX_MS 100
/* How often the lag gauge is refreshed (from cached watermarks). */
#define LAG_REFRESH_MS 1000
/* Topic creation: each attempt bounded, then a pause. */
#define TOPICS_TIMEOUT_MS 30000
#define TOPICS_RETRY_MS 1000

static const char *const outcome_labels[OUTCOME_COUNT] = {
        [OUTCOME_CONFIRMED]      = "status=\"confirmed\",reason=\"\"",
        [OUTCOME_QUANTITY_LIMIT] = "status=\"rejected\",reason=\"quantity_limit\"",
        [OUTCOME_UNKNOWN_ITEM]   = "status=\"rejected\",reason=\"unknown_item\"",
        [OUTCOME_REJECTED_OTHER] = "status=\"rejected\",reason=\"other\"",
        [OUTCOME_DLQ]            = NULL,
        [OUTCOME_DUPLICATE]      = NULL, /* changelog.c */
        [OUTCOME_CONFLICT]       = NULL,
};

static void processor_metrics_init(struct processor *p, struct metrics *m)
{
        if (!m)
                return;
        for (int i = 0; i < OUTCOME_COUNT; i++) {
                if (outcome_labels[i])
                        p->m_outcomes[i] = metrics_counter(
                                m, "processing_records_total",
                                "Orders processed (committed), by status "
                                "and reason.",
                                outcome_labels[i]);
        }
        p->m_outcomes[OUTCOME_DLQ] = metrics_counter(
                m, "processing_dlq_records_total",
                "Records that were not orders, sent to the dead letter "
                "topic (committed).",
                NULL);
        p->m_committed = metrics_counter(
                m, "processing_transactions_total",
                "Transactions, by outcome.", "outcome=\"committed\"");
        p->m_aborted = metrics_counter(m, "processing_transactions_total",
                                       "Transactions, by outcome.",
                                       "outcome=\"aborted\"");
        p->m_recreated = metrics_counter(
                m, "processing_producer_recreated_total",
                "Transactional producers recreated after a fatal error.",
                NULL);
        p->m_rebalances = metrics_counter(
                m, "processing_rebalances_total",
                "Partition assignments received from the group.", NULL);
        p->m_commit_seconds = metrics_histogram(
                m, "processing_transaction_commit_seconds",
                "Time to send the offsets and commit a transaction.", NULL,
                metrics_latency_buckets, metrics_latency_buckets_count);
        p->m_record_wait = metrics_histogram(
                m, "processing_record_wait_seconds",
                "From a record's timestamp to its poll by the processor.",
                NULL, metrics_stage_buckets, metrics_stage_buckets_count);
        p->m_record_open = metrics_histogram(
                m, "processing_record_txn_open_seconds",
                "From a record's poll to the start of its transaction's "
                "commit.",
                NULL, metrics_stage_buckets, metrics_stage_buckets_count);
        p->m_record_commit = metrics_histogram(
                m, "processing_record_commit_seconds",
                "The commit of a record's transaction (observed once per "
                "record).",
                NULL, metrics_stage_buckets, metrics_stage_buckets_count);
        p->m_lag = metrics_gauge(
                m, "processing_consumer_lag_records",
                "Records on the assigned partitions not yet consumed, from "
                "the last fetched high watermarks.",
                NULL);
        p->m_open_records = metrics_gauge(
                m, "processing_transaction_open_records",
                "Records in the open (uncommitted) transaction.", NULL);
}

int processor_check_config(const struct processor_options *opts,
                           char *errstr, size_t errstr_size)
{
        if (kafka_conf_check(clients_producer_conf(opts, errstr,
                                                   errstr_size)) < 0)
                return -1;
        return kafka_conf_check(clients_consumer_conf(opts->cfg, errstr,
                                                      errstr_size));
}

/* Copy what 'p' keeps of 'opts'. Returns 0, or -1 when out of memory. */
static int processor_init(struct processor *p,
                          const struct processor_options *opts)
{
        const char *reset = opts->cfg->auto_offset_reset;

        p->cfg = opts->cfg;
        p->rules = opts->rules;
        p->txn_max_records = opts->txn_max_records;
        p->txn_max_ms = opts->txn_max_ms;
        p->txn_min_ms = opts->txn_min_ms;
        p->on_all_brokers_down = opts->on_all_brokers_down;
        p->arg = opts->arg;
        p->offset_reset_latest =
                reset && (!strcmp(reset, "latest") || !strcmp(reset, "end"));
        atomic_init(&p->ready, false);
        processor_metrics_init(p, opts->metrics);
        p->transactional_id = strdup(opts->transactional_id);
        p->dlq_topic = malloc(strlen(opts->cfg->orders_topic) + 5);
        p->txn_offsets = rd_kafka_topic_partition_list_new(16);
        if (!p->transactional_id || !p->dlq_topic)
                return -1;
        sprintf(p->dlq_topic, "%s.dlq", opts->cfg->orders_topic);
        return 0;
}

struct processor *processor_new(const struct processor_options *opts,
                                char *errstr, size_t errstr_size)
{
        struct processor *p = calloc(1, sizeof(*p));
        rd_kafka_conf_t *cconf;

        if (!p || processor_init(p, opts) == -1) {
                snprintf(errstr, errstr_size, "out of memory");
                goto fail;
        }
        if (changelog_init(p, opts, opts->metrics, errstr, errstr_size) < 0)
                goto fail;
        p->producer_conf = clients_producer_conf(opts, errstr, errstr_size);
        if (!p->producer_conf)
                goto fail;
        cconf = clients_consumer_conf(opts->cfg, errstr, errstr_size);
        if (!cconf)
                goto fail;
        clients_set_callbacks(p, p->producer_conf, cconf);
        p->consumer = kafka_client_new(RD_KAFKA_CONSUMER, cconf, "the consumer",
                                       errstr, errstr_size);
        if (!p->consumer)
                goto fail;
        return p;
fail:
        processor_destroy(p);
        return NULL;
}

void processor_destroy(struct processor *p)
{
        if (!p)
                return;
        if (p->consumer)
                rd_kafka_destroy(p->consumer);
        changelog_destroy(p);
        /* Whatever is still queued belongs to a transaction that was
         * aborted or never committed: do not wait for it. */
        if (p->producer)
                kafka_producer_retire(p->producer, NULL, 0);
        if (p->producer_conf)
                rd_kafka_conf_destroy(p->producer_conf);
        if (p->txn_offsets)
                rd_kafka_topic_partition_list_destroy(p->txn_offsets);
        free(p->txn_polled_us);
        free(p->dlq_topic);
        free(p->transactional_id);
        free(p);
}

bool processor_is_ready(void *arg, char *reason, size_t reason_size)
{
        struct processor *p = arg;

        if (atomic_load(&p->ready))
                return true;
        snprintf(reason, reason_size, "starting");
        return false;
}

/* Log a consumer error; true when it is fatal to the consumer. */
static bool consumer_error(const rd_kafka_message_t *msg)
{
        bool fatal = msg->err == RD_KAFKA_RESP_ERR__FATAL;

        if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
                return false;
        log_write(fatal ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN, "consumer error",
                  (struct log_field[]){
                          LOG_STR("error.code", rd_kafka_err2name(msg->err)),
                          LOG_STR("error.message", rd_kafka_message_errstr(msg)),
                  },
                  2);
        return fatal;
}

/* Start: the producer, the topics, the subscription. Returns 0, 1 at a
 * clean stop before it was done, or -1. */
static int processor_start(struct processor *p)
{
        const char *topics[3] = { p->cfg->orders_topic,
                                  p->cfg->notifications_topic, p->dlq_topic };
        char errstr[512];
        int ret;

        if (producer_start(p) < 0)
                return shutdown_requested() && !p->fenced ? 1 : -1;
        if (kafka_topics_ensure_retry(p->producer, topics, 3,
                                      p->cfg->topic_partitions,
                                      p->cfg->topic_replication_factor,
                                      TOPICS_TIMEOUT_MS, TOPICS_RETRY_MS) < 0)
                return 1;
        ret = changelog_start(p);
        if (ret != 0)
                return ret;
        if (kafka_subscribe(p->consumer, p->cfg->orders_topic, errstr,
                            sizeof(errstr)) < 0) {
                log_write(LOG_LEVEL_ERROR, "cannot subscribe",
                          (struct log_field[]){LOG_STR("error.message", errstr)},
                          1);
                return -1;
        }
        atomic_store(&p->ready, true);
        log_write(LOG_LEVEL_INFO, "processing",
                  (struct log_field[]){
                          LOG_STR("kafka.topic", p->cfg->orders_topic),
                          LOG_STR("kafka.group", p->cfg->group_id),
                          LOG_STR("kafka.transactional_id", p->transactional_id),
                  },
                  3);
        return 0;
}

/* One turn of the loop: what is due, then one record at most. Returns
 * false when the loop must end (fenced, a producer that cannot be
 * replaced, a fatal consumer error). */
static bool processor_turn(struct processor *p, int64_t *next_lag_ms)
{
        int64_t now = time_monotonic_ms();
        int timeout = POLL_MAX_MS;
        rd_kafka_message_t *msg;
        bool fatal, commit_if_drained = false;

        if (p->producer_fatal) {
                producer_check_fatal(p);
                return !p->fenced && producer_recreate(p) == 0;
        }
        if (p->txn_open) {
                int64_t age = now - p->txn_started_ms;
                int64_t left = p->txn_max_ms - age;

                if (p->txn_records >= p->txn_max_records || left <= 0) {
                        txn_commit(p, true);
                        return true;
                }
                /* Past TXN_MIN_MS, a transaction commits as soon as no
                 * record is waiting: under a backlog it fills up to
                 * TXN_MAX_MS or TXN_MAX_RECORDS, at a trickle each record
                 * is visible one commit round trip after its poll. The
                 * commit blocks this loop, so the cadence never outruns
                 * the broker: records polled during a commit share the
                 * next. */
                if (age >= p->txn_min_ms) {
                        commit_if_drained = true;
                        timeout = 0;
                } else if (p->txn_min_ms - age < timeout) {
                        timeout = (int)(p->txn_min_ms - age);
                }
                if (left < timeout)
                        timeout = (int)left;
        }
        if (now >= *next_lag_ms) {
                int64_t lag = kafka_consumer_lag(p->consumer);

                if (lag >= 0)
                        metric_gauge_set(p->m_lag, (double)lag);
                *next_lag_ms = now + LAG_REFRESH_MS;
        }
        if (changelog_turn(p, now) < 0)
                return true; /* at shutdown */
        /* Serves the producer's error callback. */
        rd_kafka_poll(p->producer, 0);
        msg = rd_kafka_consumer_poll(p->consumer, timeout);
        if (!msg) {
                if (commit_if_drained)
                        txn_commit(p, true);
                return true;
        }
        fatal = msg->err && consumer_error(msg);
        if (!msg->err)
                process_record(p, msg);
        rd_kafka_message_destroy(msg);
        return !fatal;
}

int processor_run(struct processor *p)
{
        int64_t next_lag_ms = 0;
        int ret = processor_start(p);

        if (ret != 0) {
                ret = ret == 1 ? 0 : -1;
                goto close;
        }
        ret = -1;
        while (!shutdown_requested() && processor_turn(p, &next_lag_ms))
                ;
        if (p->fenced) {
                log_write(LOG_LEVEL_ERROR,
                          "producer fenced: another instance uses the same "
                          "transactional.id; set a distinct TRANSACTIONAL_ID "
                          "per instance. Leaving the group.",
                          (struct log_field[]){
                                  LOG_STR("kafka.transactional_id",
                                          p->transactional_id),
                          },
                          1);
        } else if (shutdown_requested()) {
                /* What was processed so far becomes visible. */
                if (txn_commit(p, false) < 0)
                        txn_abort(p, false);
                ret = 0;
        }
close:
        atomic_store(&p->ready, false);
        /* Leave the group now, so its partitions move at once; the
         * rebalance callback sees no open transaction. */
        rd_kafka_consumer_close(p->consumer);
        log_write(LOG_LEVEL_INFO, "left the group", NULL, 0);
        return ret;
}

void *processor_service_start(struct service *svc, char *errstr,
                              size_t errstr_size)
{
        const struct processing_settings *s = svc->settings;
        struct processor_options opts;

        log_write(LOG_LEVEL_INFO, "rules loaded",
                  (struct log_field[]){
                          LOG_INT("rules.max_quantity", s->rules.max_quantity),
                          LOG_INT("rules.catalog_items",
                                  (long long)s->rules.catalog_count),
                  },
                  2);
        processing_settings_options(svc, &opts);
        return processor_new(&opts, errstr, errstr_size);
}

int processor_service_run(struct service *svc)
{
        return processor_run(svc->app);
}

void processor_service_destroy(struct service *svc)
{
        processor_destroy(svc->app);
        svc->app = NULL;
}
