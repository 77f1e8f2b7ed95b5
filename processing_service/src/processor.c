/* Consume-transform-produce with Kafka transactions (KIP-98) and the
 * consumer group metadata (KIP-447), modelled on librdkafka's
 * examples/transactions.c, with one transactional producer per instance.
 *
 * A transaction is opened by the first record after the previous commit
 * and committed once it holds txn_max_records records or is txn_max_ms
 * old, together with the consumed offsets (send_offsets_to_transaction):
 * the statuses and the progress on the orders topic become visible at
 * once or not at all.
 *
 * Threads: everything runs on the thread of processor_run(), including
 * librdkafka's callbacks (rebalance and error callbacks are served by
 * rd_kafka_consumer_poll() and rd_kafka_poll() on that thread). Only
 * 'ready' is read by other threads (HTTP workers), through an atomic. */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "processor.h"
#include "shared/kafka.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/order.h"
#include "shared/shutdown.h"
#include "shared/util.h"

/* How long one blocking transactional call may take before it is retried
 * (or given up at shutdown). */
#define TXN_CALL_TIMEOUT_MS 30000
/* Longest wait in rd_kafka_consumer_poll(), so a shutdown is seen soon. */
#define POLL_MAX_MS 100
/* A traceparent longer than this is not one (W3C: 55 characters). */
#define TRACEPARENT_MAX_BYTES 256
/* How often the lag gauge is refreshed (from cached watermarks). */
#define LAG_REFRESH_MS 1000
/* The producer refuses larger records (message.max.bytes default). */
#define DLQ_TOO_LARGE_CODE "record_too_large"

/* Outcomes of the records of the open transaction, counted in the metrics
 * only once it commits. */
enum outcome {
        OUTCOME_CONFIRMED,
        OUTCOME_QUANTITY_LIMIT,
        OUTCOME_UNKNOWN_ITEM,
        OUTCOME_REJECTED_OTHER,
        OUTCOME_DLQ,
        OUTCOME_COUNT,
};

struct processor {
        const struct config *cfg;
        const struct rules *rules;
        char *transactional_id;
        char *dlq_topic;
        long long txn_max_records;
        int64_t txn_max_ms;
        bool offset_reset_latest; /* where a partition without offsets starts */

        rd_kafka_conf_t *producer_conf; /* template: duplicated per producer */
        rd_kafka_t *producer;
        rd_kafka_t *consumer;
        bool producer_fatal;  /* set by error_cb: recreate or stop */
        bool fenced;          /* another instance took our transactional.id */

        /* The open transaction. */
        bool txn_open;
        int64_t txn_started_ms;
        long long txn_records;
        rd_kafka_topic_partition_list_t *txn_offsets; /* next offset each */
        uint64_t txn_outcomes[OUTCOME_COUNT];

        atomic_bool ready; /* read by HTTP workers */
        atomic_bool brokers_down;

        struct metric_counter *m_outcomes[OUTCOME_COUNT];
        struct metric_counter *m_committed;
        struct metric_counter *m_aborted;
        struct metric_counter *m_recreated;
        struct metric_counter *m_rebalances;
        struct metric_histogram *m_commit_seconds;
        struct metric_gauge *m_lag;
        struct metric_gauge *m_open_records;
};

static const struct {
        const char *labels;
} outcome_labels[OUTCOME_COUNT] = {
        [OUTCOME_CONFIRMED]      = { "status=\"confirmed\",reason=\"\"" },
        [OUTCOME_QUANTITY_LIMIT] = { "status=\"rejected\",reason=\"quantity_limit\"" },
        [OUTCOME_UNKNOWN_ITEM]   = { "status=\"rejected\",reason=\"unknown_item\"" },
        [OUTCOME_REJECTED_OTHER] = { "status=\"rejected\",reason=\"other\"" },
        [OUTCOME_DLQ]            = { NULL },
};

/* The librdkafka error callback, served on the processor thread by
 * rd_kafka_poll() (producer) and rd_kafka_consumer_poll() (consumer). */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
        struct processor *p = opaque;

        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
                atomic_store(&p->brokers_down, true);
        } else if (err == RD_KAFKA_RESP_ERR__FATAL &&
                   rd_kafka_type(rk) == RD_KAFKA_PRODUCER) {
                /* Handled by the loop: recreate the producer, or stop
                 * when fenced. */
                p->producer_fatal = true;
        }
        log_write(err == RD_KAFKA_RESP_ERR__FATAL ? LOG_LEVEL_ERROR
                                                  : LOG_LEVEL_WARN,
                  "kafka client error",
                  (struct log_field[]){
                          LOG_STR("kafka.client", rd_kafka_name(rk)),
                          LOG_STR("error.code", rd_kafka_err2name(err)),
                          LOG_STR("error.message", reason),
                  },
                  3);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *partitions,
                         void *opaque);

static void processor_metrics_init(struct processor *p, struct metrics *m)
{
        if (!m)
                return;
        for (int i = 0; i < OUTCOME_COUNT; i++) {
                if (outcome_labels[i].labels)
                        p->m_outcomes[i] = metrics_counter(
                                m, "processing_records_total",
                                "Orders processed (committed), by status "
                                "and reason.",
                                outcome_labels[i].labels);
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
        p->m_lag = metrics_gauge(
                m, "processing_consumer_lag_records",
                "Records on the assigned partitions not yet consumed, from "
                "the last fetched high watermarks.",
                NULL);
        p->m_open_records = metrics_gauge(
                m, "processing_transaction_open_records",
                "Records in the open (uncommitted) transaction.", NULL);
}

struct processor *processor_new(const struct processor_options *opts,
                                char *errstr, size_t errstr_size)
{
        struct processor *p;
        rd_kafka_conf_t *cconf = NULL;
        char timeout[32];
        char rderr[512];

        p = calloc(1, sizeof(*p));
        if (!p) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        p->cfg = opts->cfg;
        p->rules = opts->rules;
        p->txn_max_records = opts->txn_max_records;
        p->txn_max_ms = opts->txn_max_ms;
        p->offset_reset_latest = opts->cfg->auto_offset_reset &&
                                 (!strcmp(opts->cfg->auto_offset_reset,
                                          "latest") ||
                                  !strcmp(opts->cfg->auto_offset_reset, "end"));
        p->transactional_id = strdup(opts->transactional_id);
        p->dlq_topic = malloc(strlen(opts->cfg->orders_topic) + 5);
        p->txn_offsets = rd_kafka_topic_partition_list_new(16);
        if (!p->transactional_id || !p->dlq_topic) {
                snprintf(errstr, errstr_size, "out of memory");
                goto fail;
        }
        sprintf(p->dlq_topic, "%s.dlq", opts->cfg->orders_topic);
        atomic_init(&p->ready, false);
        atomic_init(&p->brokers_down, false);
        processor_metrics_init(p, opts->metrics);

        /* The producer: transactional, so idempotent with acks=all. */
        p->producer_conf = kafka_conf_new(opts->cfg, KAFKA_ROLE_PRODUCER,
                                          errstr, errstr_size);
        if (!p->producer_conf)
                goto fail;
        if (kafka_conf_default(p->producer_conf, opts->cfg,
                               "transactional.id", p->transactional_id,
                               KAFKA_REQUIRED, errstr, errstr_size) < 0 ||
            kafka_conf_default(p->producer_conf, opts->cfg,
                               "enable.idempotence", "true", KAFKA_REQUIRED,
                               errstr, errstr_size) < 0 ||
            kafka_conf_default(p->producer_conf, opts->cfg, "acks", "all",
                               KAFKA_REQUIRED, errstr, errstr_size) < 0)
                goto fail;
        /* An instance that dies with a transaction open blocks the
         * read_committed readers of its partitions until the broker aborts
         * it: keep that short, but longer than a transaction lives. */
        snprintf(timeout, sizeof(timeout), "%lld",
                 p->txn_max_ms * 2 + 10000 > 900000 ? 900000LL
                                                    : p->txn_max_ms * 2 + 10000);
        if (kafka_conf_default(p->producer_conf, opts->cfg,
                               "transaction.timeout.ms", timeout, KAFKA_DEFAULT,
                               errstr, errstr_size) < 0)
                goto fail;
        /* Right after a commit the coordinator is still writing its
         * markers and answers the next transaction's first request with
         * CONCURRENT_TRANSACTIONS: retried after retry.backoff.ms, whose
         * default (100 ms) would cap a busy instance at a few commits per
         * second (the Java client uses 20 ms for this case). */
        if (kafka_conf_default(p->producer_conf, opts->cfg, "retry.backoff.ms",
                               "20", KAFKA_DEFAULT, errstr, errstr_size) < 0)
                goto fail;
        rd_kafka_conf_set_error_cb(p->producer_conf, error_cb);
        rd_kafka_conf_set_opaque(p->producer_conf, p);

        /* The consumer. */
        cconf = kafka_conf_new(opts->cfg, KAFKA_ROLE_CONSUMER, errstr,
                               errstr_size);
        if (!cconf)
                goto fail;
        /* kafka_conf_new() has refused a cooperative assignor: the
         * rebalance callback below is written for eager ones. */
        if (/* Offsets are committed by the producer's transactions only. */
            kafka_conf_default(cconf, opts->cfg, "enable.auto.commit", "false",
                               KAFKA_REQUIRED, errstr, errstr_size) < 0 ||
            /* Never read orders that a producer may still abort. */
            kafka_conf_default(cconf, opts->cfg, "isolation.level",
                               "read_committed", KAFKA_REQUIRED, errstr,
                               errstr_size) < 0)
                goto fail;
        rd_kafka_conf_set_error_cb(cconf, error_cb);
        rd_kafka_conf_set_rebalance_cb(cconf, rebalance_cb);
        rd_kafka_conf_set_opaque(cconf, p);
        p->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cconf, rderr,
                                   sizeof(rderr));
        if (!p->consumer) {
                snprintf(errstr, errstr_size, "cannot create consumer: %s",
                         rderr);
                goto fail;
        }
        cconf = NULL; /* now owned, and freed, by the consumer */
        rd_kafka_poll_set_consumer(p->consumer);
        return p;
fail:
        if (cconf)
                rd_kafka_conf_destroy(cconf);
        processor_destroy(p);
        return NULL;
}

void processor_destroy(struct processor *p)
{
        if (!p)
                return;
        if (p->consumer)
                rd_kafka_destroy(p->consumer);
        if (p->producer) {
                /* Whatever is still queued belongs to a transaction that
                 * was aborted or never committed: do not wait for it. */
                rd_kafka_purge(p->producer, RD_KAFKA_PURGE_F_QUEUE |
                                                    RD_KAFKA_PURGE_F_INFLIGHT);
                rd_kafka_destroy(p->producer);
        }
        if (p->producer_conf)
                rd_kafka_conf_destroy(p->producer_conf);
        if (p->txn_offsets)
                rd_kafka_topic_partition_list_destroy(p->txn_offsets);
        free(p->dlq_topic);
        free(p->transactional_id);
        free(p);
}

bool processor_is_ready(void *arg, char *reason, size_t reason_size)
{
        struct processor *p = arg;

        if (!atomic_load(&p->ready)) {
                snprintf(reason, reason_size, "starting");
                return false;
        }
        if (atomic_load(&p->brokers_down)) {
                snprintf(reason, reason_size, "broker_unreachable");
                return false;
        }
        return true;
}

static void log_rderror(enum log_level level, const char *what,
                        const rd_kafka_error_t *error)
{
        log_write(level, what,
                  (struct log_field[]){
                          LOG_STR("error.code", rd_kafka_error_name(error)),
                          LOG_STR("error.message", rd_kafka_error_string(error)),
                  },
                  2);
}

/* Forget the open transaction (after its commit or abort). */
static void txn_reset(struct processor *p)
{
        p->txn_open = false;
        p->txn_records = 0;
        memset(p->txn_outcomes, 0, sizeof(p->txn_outcomes));
        rd_kafka_topic_partition_list_destroy(p->txn_offsets);
        p->txn_offsets = rd_kafka_topic_partition_list_new(16);
        metric_gauge_set(p->m_open_records, 0);
}

/* Note a fatal error of the producer: is it fenced? */
static void producer_check_fatal(struct processor *p)
{
        char reason[512];
        rd_kafka_resp_err_t err;

        if (!p->producer)
                return;
        err = rd_kafka_fatal_error(p->producer, reason, sizeof(reason));
        if (!err)
                return;
        p->producer_fatal = true;
        if (err == RD_KAFKA_RESP_ERR__FENCED ||
            err == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
            err == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH)
                p->fenced = true;
}

/* What to do after a transactional call failed with 'error' (which is
 * destroyed): 1 retry it, 0 abort the transaction, -1 the producer is
 * unusable (producer_fatal is set). */
static int txn_error_action(struct processor *p, const char *what,
                            rd_kafka_error_t *error)
{
        int action;

        if (rd_kafka_error_is_fatal(error)) {
                log_rderror(LOG_LEVEL_ERROR, what, error);
                p->producer_fatal = true;
                action = -1;
        } else if (rd_kafka_error_txn_requires_abort(error)) {
                log_rderror(LOG_LEVEL_WARN, what, error);
                action = 0;
        } else if (rd_kafka_error_is_retriable(error)) {
                log_rderror(LOG_LEVEL_WARN, what, error);
                action = 1;
        } else {
                /* Neither abortable nor retriable: a state we did not
                 * expect. A new producer starts from a known one. */
                log_rderror(LOG_LEVEL_ERROR, what, error);
                p->producer_fatal = true;
                action = -1;
        }
        rd_kafka_error_destroy(error);
        producer_check_fatal(p);
        return action;
}

/* Seek the assigned partitions back to their committed offsets, where the
 * aborted transaction started. Returns 0, or -1 at shutdown. */
static int consumer_rewind(struct processor *p)
{
        rd_kafka_topic_partition_list_t *parts = NULL;
        rd_kafka_resp_err_t err;
        rd_kafka_error_t *error;
        int ret = -1;

        err = rd_kafka_assignment(p->consumer, &parts);
        if (err || parts->cnt == 0) {
                ret = 0;
                goto out;
        }
        /* read_committed consumers ask for stable offsets: this waits for
         * any transaction still completing on the coordinator. */
        while ((err = rd_kafka_committed(p->consumer, parts,
                                         TXN_CALL_TIMEOUT_MS))) {
                log_write(LOG_LEVEL_WARN, "cannot read committed offsets",
                          (struct log_field[]){
                                  LOG_STR("error.code", rd_kafka_err2name(err)),
                          },
                          1);
                if (shutdown_requested())
                        goto out;
        }
        for (int i = 0; i < parts->cnt; i++) {
                if (parts->elems[i].offset < 0)
                        parts->elems[i].offset = p->offset_reset_latest
                                                         ? RD_KAFKA_OFFSET_END
                                                         : RD_KAFKA_OFFSET_BEGINNING;
        }
        error = rd_kafka_seek_partitions(p->consumer, parts,
                                         TXN_CALL_TIMEOUT_MS);
        if (error) {
                log_rderror(LOG_LEVEL_ERROR, "cannot rewind the consumer",
                            error);
                rd_kafka_error_destroy(error);
                goto out;
        }
        for (int i = 0; i < parts->cnt; i++) {
                if (parts->elems[i].err)
                        log_write(LOG_LEVEL_ERROR,
                                  "cannot rewind a partition",
                                  (struct log_field[]){
                                          LOG_INT("kafka.partition",
                                                  parts->elems[i].partition),
                                          LOG_STR("error.code",
                                                  rd_kafka_err2name(
                                                          parts->elems[i].err)),
                                  },
                                  2);
        }
        ret = 0;
out:
        if (parts)
                rd_kafka_topic_partition_list_destroy(parts);
        return ret;
}

/* Abort the open transaction and, when 'rewind', seek the consumer back to
 * the committed offsets so its records are processed again. */
static void txn_abort(struct processor *p, bool rewind)
{
        rd_kafka_error_t *error;

        if (!p->txn_open)
                return;
        log_write(LOG_LEVEL_WARN, "aborting transaction",
                  (struct log_field[]){
                          LOG_INT("transaction.records", p->txn_records),
                  },
                  1);
        while (!p->producer_fatal) {
                error = rd_kafka_abort_transaction(p->producer,
                                                   TXN_CALL_TIMEOUT_MS);
                if (!error)
                        break;
                /* A failed abort leaves the producer in an unknown
                 * state unless it is only a timeout. */
                if (txn_error_action(p, "cannot abort transaction", error) !=
                            1 ||
                    shutdown_requested()) {
                        p->producer_fatal = true;
                        break;
                }
        }
        metric_counter_inc(p->m_aborted);
        txn_reset(p);
        if (rewind)
                consumer_rewind(p);
}

/* Commit the open transaction with the consumed offsets. Returns 0 when
 * committed (or none was open), -1 when it was aborted (and the consumer
 * rewound when 'rewind') or the producer is unusable. */
static int txn_commit(struct processor *p, bool rewind)
{
        rd_kafka_consumer_group_metadata_t *cgmd;
        rd_kafka_error_t *error;
        int64_t start_us, offsets_us;
        int action;

        if (!p->txn_open)
                return 0;
        if (p->producer_fatal)
                return -1;
        start_us = time_monotonic_us();
        if (p->txn_offsets->cnt > 0) {
                /* The group's generation rides along: a zombie member that
                 * lost its partitions in a rebalance cannot commit. */
                cgmd = rd_kafka_consumer_group_metadata(p->consumer);
                for (;;) {
                        error = rd_kafka_send_offsets_to_transaction(
                                p->producer, p->txn_offsets, cgmd,
                                TXN_CALL_TIMEOUT_MS);
                        if (!error)
                                break;
                        action = txn_error_action(
                                p, "cannot send offsets to transaction", error);
                        if (action == 1 && !shutdown_requested())
                                continue;
                        rd_kafka_consumer_group_metadata_destroy(cgmd);
                        if (action != -1)
                                txn_abort(p, rewind);
                        return -1;
                }
                rd_kafka_consumer_group_metadata_destroy(cgmd);
        }
        offsets_us = time_monotonic_us();
        for (;;) {
                error = rd_kafka_commit_transaction(p->producer,
                                                    TXN_CALL_TIMEOUT_MS);
                if (!error)
                        break;
                action = txn_error_action(p, "cannot commit transaction",
                                          error);
                /* A retriable commit error (a timeout) leaves the
                 * transaction committing: calling again resumes it. */
                if (action == 1 && !shutdown_requested())
                        continue;
                if (action != -1)
                        txn_abort(p, rewind);
                return -1;
        }
        metric_histogram_observe(p->m_commit_seconds,
                                 (double)(time_monotonic_us() - start_us) / 1e6);
        metric_counter_inc(p->m_committed);
        for (int i = 0; i < OUTCOME_COUNT; i++)
                metric_counter_add(p->m_outcomes[i], p->txn_outcomes[i]);
        log_write(LOG_LEVEL_DEBUG, "transaction committed",
                  (struct log_field[]){
                          LOG_INT("transaction.records", p->txn_records),
                          LOG_INT("transaction.offsets_us",
                                  offsets_us - start_us),
                          LOG_INT("transaction.commit_us",
                                  time_monotonic_us() - offsets_us),
                  },
                  3);
        atomic_store(&p->brokers_down, false);
        txn_reset(p);
        return 0;
}

/* The rebalance callback (eager protocol: range or roundrobin), served on
 * the processor thread by rd_kafka_consumer_poll() and
 * rd_kafka_consumer_close(). Before partitions are revoked, the open
 * transaction, which holds their offsets, is committed (or aborted when
 * the assignment was lost); newly assigned partitions start from their
 * committed offsets. */
static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *partitions,
                         void *opaque)
{
        struct processor *p = opaque;
        rd_kafka_resp_err_t aerr;

        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                log_write(LOG_LEVEL_INFO, "partitions assigned",
                          (struct log_field[]){
                                  LOG_INT("kafka.partitions", partitions->cnt),
                          },
                          1);
                metric_counter_inc(p->m_rebalances);
                /* Offsets are RD_KAFKA_OFFSET_INVALID: the consumer fetches
                 * the committed ones (stable: read_committed). */
                aerr = rd_kafka_assign(rk, partitions);
        } else {
                bool lost = rd_kafka_assignment_lost(rk);

                log_write(LOG_LEVEL_INFO,
                          lost ? "partitions lost" : "partitions revoked",
                          (struct log_field[]){
                                  LOG_INT("kafka.partitions", partitions->cnt),
                                  LOG_INT("transaction.records", p->txn_records),
                          },
                          2);
                if (p->txn_open && !p->producer_fatal) {
                        if (lost)
                                txn_abort(p, false);
                        else
                                txn_commit(p, false);
                }
                /* With the producer unusable the transaction stays open
                 * until the recreated producer (or the broker's timeout)
                 * aborts it; its records are no longer ours. */
                txn_reset(p);
                aerr = rd_kafka_assign(rk, NULL);
        }
        if (aerr)
                log_write(LOG_LEVEL_ERROR, "cannot change the assignment",
                          (struct log_field[]){
                                  LOG_STR("error.code", rd_kafka_err2name(aerr)),
                          },
                          1);
}

/* Create the transactional producer and initialise transactions, retrying
 * while the cluster is unreachable. Returns 0, or -1 when fenced, fatal or
 * at shutdown. */
static int producer_start(struct processor *p)
{
        rd_kafka_conf_t *conf;
        rd_kafka_error_t *error;
        char rderr[512];

        conf = rd_kafka_conf_dup(p->producer_conf);
        p->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rderr,
                                   sizeof(rderr));
        if (!p->producer) {
                rd_kafka_conf_destroy(conf);
                log_write(LOG_LEVEL_ERROR, "cannot create producer",
                          (struct log_field[]){ LOG_STR("error.message", rderr) },
                          1);
                return -1;
        }
        /* conf is now owned, and freed, by the producer */
        p->producer_fatal = false;
        /* This bumps the epoch of our transactional.id: an older producer
         * with it is fenced, and a transaction it left open is aborted. */
        while ((error = rd_kafka_init_transactions(p->producer,
                                                   TXN_CALL_TIMEOUT_MS))) {
                bool retry = rd_kafka_error_is_retriable(error) &&
                             !rd_kafka_error_is_fatal(error);

                log_rderror(retry ? LOG_LEVEL_WARN : LOG_LEVEL_ERROR,
                            "cannot initialise transactions", error);
                rd_kafka_error_destroy(error);
                producer_check_fatal(p);
                if (!retry || shutdown_requested())
                        return -1;
        }
        log_write(LOG_LEVEL_INFO, "transactions initialised",
                  (struct log_field[]){
                          LOG_STR("kafka.transactional_id", p->transactional_id),
                  },
                  1);
        return 0;
}

/* Replace a producer that hit a fatal error (not fencing): the new one's
 * init_transactions aborts what the old one left open, and the consumer
 * goes back to the committed offsets. Returns 0, or -1. */
static int producer_recreate(struct processor *p)
{
        log_write(LOG_LEVEL_WARN, "recreating the transactional producer",
                  NULL, 0);
        txn_reset(p);
        if (p->producer) {
                rd_kafka_purge(p->producer,
                               RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
                rd_kafka_destroy(p->producer);
                p->producer = NULL;
        }
        metric_counter_inc(p->m_recreated);
        if (producer_start(p) < 0)
                return -1;
        return consumer_rewind(p);
}

/* Produce one record in the open transaction; the producer copies what it
 * needs, except 'hdrs', which it owns on success. Returns 0, or -1 with
 * the error code in *errp (the caller still owns 'hdrs'). */
static int produce(struct processor *p, const char *topic, const void *key,
                   size_t key_len, void *value, size_t len,
                   rd_kafka_headers_t *hdrs, rd_kafka_resp_err_t *errp)
{
        rd_kafka_resp_err_t err;

        for (;;) {
                err = rd_kafka_producev(
                        p->producer, RD_KAFKA_V_TOPIC(topic),
                        RD_KAFKA_V_KEY(key, key_len),
                        RD_KAFKA_V_VALUE(value, len),
                        RD_KAFKA_V_HEADERS(hdrs),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        break;
                /* Wait for deliveries to make room. */
                rd_kafka_poll(p->producer, 10);
        }
        *errp = err;
        return err ? -1 : 0;
}

static void header_add_str(rd_kafka_headers_t *hdrs, const char *name,
                           const char *value)
{
        rd_kafka_header_add(hdrs, name, -1, value, -1);
}

/* Send the record 'msg' unchanged to the dead letter topic with headers
 * naming 'err'. Returns 0, or -1 with the produce error in *errp. */
static int send_to_dlq(struct processor *p, const rd_kafka_message_t *msg,
                       const struct model_error *err, rd_kafka_resp_err_t *errp)
{
        rd_kafka_headers_t *orig = NULL, *hdrs;
        char num[32];
        int ret;

        if (rd_kafka_message_headers(msg, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR)
                hdrs = rd_kafka_headers_copy(orig);
        else
                hdrs = rd_kafka_headers_new(8);
        header_add_str(hdrs, "dlq.error.code", err->code);
        header_add_str(hdrs, "dlq.error.message", err->message);
        if (err->field[0])
                header_add_str(hdrs, "dlq.error.field", err->field);
        header_add_str(hdrs, "dlq.source.topic", rd_kafka_topic_name(msg->rkt));
        snprintf(num, sizeof(num), "%" PRId32, msg->partition);
        header_add_str(hdrs, "dlq.source.partition", num);
        snprintf(num, sizeof(num), "%" PRId64, msg->offset);
        header_add_str(hdrs, "dlq.source.offset", num);

        ret = produce(p, p->dlq_topic, msg->key, msg->key_len, msg->payload,
                      msg->len, hdrs, errp);
        if (ret < 0 && *errp == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
                /* Larger than the producer may send: keep the key and the
                 * headers, say why the value is missing. Nothing stalls. */
                header_add_str(hdrs, "dlq.value.omitted", DLQ_TOO_LARGE_CODE);
                snprintf(num, sizeof(num), "%zu", msg->len);
                header_add_str(hdrs, "dlq.value.bytes", num);
                ret = produce(p, p->dlq_topic, msg->key, msg->key_len, NULL, 0,
                              hdrs, errp);
        }
        if (ret < 0)
                rd_kafka_headers_destroy(hdrs);
        return ret;
}

/* Produce the status of 'order' to the notifications topic, passing on
 * the traceparent of 'msg'. Returns 0, or -1 with *errp. */
static int send_status(struct processor *p, const rd_kafka_message_t *msg,
                       struct order_status *status, rd_kafka_resp_err_t *errp)
{
        rd_kafka_headers_t *orig = NULL, *hdrs;
        const void *tp = NULL;
        size_t tp_len = 0, len = 0;
        char *value;
        int ret;

        time_now_rfc3339(status->processed_at, sizeof(status->processed_at));
        value = order_status_encode(status, &len);
        if (!value) {
                *errp = RD_KAFKA_RESP_ERR__FAIL;
                return -1;
        }
        hdrs = rd_kafka_headers_new(2);
        header_add_str(hdrs, "content-type", "application/json");
        if (rd_kafka_message_headers(msg, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR &&
            rd_kafka_header_get_last(orig, "traceparent", &tp, &tp_len) ==
                    RD_KAFKA_RESP_ERR_NO_ERROR &&
            tp && tp_len > 0 && tp_len <= TRACEPARENT_MAX_BYTES)
                rd_kafka_header_add(hdrs, "traceparent", -1, tp, (ssize_t)tp_len);
        ret = produce(p, p->cfg->notifications_topic, status->order.order_id,
                      strlen(status->order.order_id), value, len, hdrs, errp);
        if (ret < 0)
                rd_kafka_headers_destroy(hdrs);
        free(value);
        return ret;
}

static enum outcome outcome_of(const struct order_status *status)
{
        if (status->status == ORDER_STATUS_CONFIRMED)
                return OUTCOME_CONFIRMED;
        if (!strcmp(status->reason, RULES_REASON_QUANTITY_LIMIT))
                return OUTCOME_QUANTITY_LIMIT;
        if (!strcmp(status->reason, RULES_REASON_UNKNOWN_ITEM))
                return OUTCOME_UNKNOWN_ITEM;
        return OUTCOME_REJECTED_OTHER;
}

/* Remember that 'msg' is processed: the transaction commits msg->offset+1
 * as the partition's next offset. */
static void txn_track_offset(struct processor *p, const rd_kafka_message_t *msg)
{
        const char *topic = rd_kafka_topic_name(msg->rkt);
        rd_kafka_topic_partition_t *tp;

        tp = rd_kafka_topic_partition_list_find(p->txn_offsets, topic,
                                                msg->partition);
        if (!tp)
                tp = rd_kafka_topic_partition_list_add(p->txn_offsets, topic,
                                                       msg->partition);
        tp->offset = msg->offset + 1;
}

/* Check one orders record and produce its status, or send it to the dead
 * letter topic, inside the open transaction (opened here if need be). */
static void process_record(struct processor *p, const rd_kafka_message_t *msg)
{
        struct order order;
        struct order_status status;
        struct model_error merr;
        rd_kafka_resp_err_t perr = RD_KAFKA_RESP_ERR_NO_ERROR;
        rd_kafka_error_t *error;
        enum outcome outcome;
        int ret;

        if (!p->txn_open) {
                error = rd_kafka_begin_transaction(p->producer);
                if (error) {
                        txn_error_action(p, "cannot begin transaction", error);
                        /* Not yet in a transaction: nothing to abort, but
                         * this record must be read again. */
                        p->producer_fatal = true;
                        return;
                }
                p->txn_open = true;
                p->txn_started_ms = time_monotonic_ms();
        }

        memset(&merr, 0, sizeof(merr));
        if (!msg->payload) {
                snprintf(merr.code, sizeof(merr.code), "invalid_json");
                snprintf(merr.message, sizeof(merr.message),
                         "the record has no value");
                ret = -1;
        } else {
                ret = order_decode(msg->payload, msg->len, ORDER_FROM_RECORD,
                                   &order, &merr);
        }
        if (ret < 0) {
                outcome = OUTCOME_DLQ;
                ret = send_to_dlq(p, msg, &merr, &perr);
                log_write(LOG_LEVEL_WARN, "record sent to the dead letter topic",
                          (struct log_field[]){
                                  LOG_INT("kafka.partition", msg->partition),
                                  LOG_INT("kafka.offset", msg->offset),
                                  LOG_STR("error.code", merr.code),
                                  LOG_STR("error.message", merr.message),
                          },
                          4);
        } else {
                rules_check(&order, p->rules, &status);
                outcome = outcome_of(&status);
                ret = send_status(p, msg, &status, &perr);
        }
        if (ret < 0) {
                log_write(LOG_LEVEL_ERROR, "cannot produce",
                          (struct log_field[]){
                                  LOG_STR("error.code", rd_kafka_err2name(perr)),
                          },
                          1);
                producer_check_fatal(p);
                if (!p->producer_fatal)
                        txn_abort(p, true);
                return;
        }
        p->txn_outcomes[outcome]++;
        p->txn_records++;
        txn_track_offset(p, msg);
        metric_gauge_set(p->m_open_records, (double)p->txn_records);
}

/* Sum, over the assigned partitions, of the high watermark (cached from
 * the last fetch: no request) minus the position. */
static void lag_refresh(struct processor *p)
{
        rd_kafka_topic_partition_list_t *parts = NULL;
        int64_t lag = 0;

        if (!p->m_lag || rd_kafka_assignment(p->consumer, &parts))
                return;
        rd_kafka_position(p->consumer, parts);
        for (int i = 0; i < parts->cnt; i++) {
                int64_t low, high;

                if (rd_kafka_get_watermark_offsets(
                            p->consumer, parts->elems[i].topic,
                            parts->elems[i].partition, &low, &high) ||
                    high < 0)
                        continue;
                if (parts->elems[i].offset >= 0)
                        lag += high > parts->elems[i].offset
                                       ? high - parts->elems[i].offset
                                       : 0;
                else
                        lag += high - (low > 0 ? low : 0);
        }
        rd_kafka_topic_partition_list_destroy(parts);
        metric_gauge_set(p->m_lag, (double)lag);
}

/* Create the topics, retrying while the cluster is unreachable.
 * Returns 0, or -1 at shutdown. */
static int topics_ensure(struct processor *p)
{
        const char *topics[3] = { p->cfg->orders_topic,
                                  p->cfg->notifications_topic, p->dlq_topic };
        char errstr[512];

        while (kafka_topics_ensure(p->producer, topics, 3,
                                   p->cfg->topic_partitions,
                                   p->cfg->topic_replication_factor, 30000,
                                   errstr, sizeof(errstr)) < 0) {
                log_write(LOG_LEVEL_WARN, "cannot create topics",
                          (struct log_field[]){ LOG_STR("error.message", errstr) },
                          1);
                if (shutdown_wait(1000))
                        return -1;
        }
        return 0;
}

static int consumer_subscribe(struct processor *p)
{
        rd_kafka_topic_partition_list_t *topics;
        rd_kafka_resp_err_t err;

        topics = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(topics, p->cfg->orders_topic,
                                          RD_KAFKA_PARTITION_UA);
        err = rd_kafka_subscribe(p->consumer, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        if (err) {
                log_write(LOG_LEVEL_ERROR, "cannot subscribe",
                          (struct log_field[]){
                                  LOG_STR("error.code", rd_kafka_err2name(err)),
                          },
                          1);
                return -1;
        }
        return 0;
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

int processor_run(struct processor *p)
{
        const char *topics[3] = { p->cfg->orders_topic,
                                  p->cfg->notifications_topic, p->dlq_topic };
        int64_t next_lag_ms = 0;
        int ret = -1;

        if (producer_start(p) < 0) {
                if (shutdown_requested() && !p->fenced)
                        ret = 0;
                goto close;
        }
        if (topics_ensure(p) < 0) {
                ret = 0;
                goto close;
        }
        if (consumer_subscribe(p) < 0)
                goto close;
        atomic_store(&p->ready, true);
        log_write(LOG_LEVEL_INFO, "processing",
                  (struct log_field[]){
                          LOG_STR("kafka.topic", p->cfg->orders_topic),
                          LOG_STR("kafka.group", p->cfg->group_id),
                          LOG_STR("kafka.transactional_id", p->transactional_id),
                  },
                  3);

        while (!shutdown_requested()) {
                rd_kafka_message_t *msg;
                int64_t now = time_monotonic_ms();
                int timeout = POLL_MAX_MS;

                if (p->producer_fatal) {
                        producer_check_fatal(p);
                        if (p->fenced || producer_recreate(p) < 0)
                                break;
                        continue;
                }
                if (p->txn_open) {
                        int64_t left = p->txn_started_ms + p->txn_max_ms - now;

                        if (p->txn_records >= p->txn_max_records || left <= 0) {
                                txn_commit(p, true);
                                continue;
                        }
                        if (left < timeout)
                                timeout = (int)left;
                }
                if (now >= next_lag_ms) {
                        lag_refresh(p);
                        next_lag_ms = now + LAG_REFRESH_MS;
                        /* Idle and told the brokers are down: ask again,
                         * so readiness comes back without traffic. */
                        if (atomic_load(&p->brokers_down) &&
                            kafka_topics_ready(p->producer, topics, 3, 1000))
                                atomic_store(&p->brokers_down, false);
                }
                /* Serves the producer's error callback. */
                rd_kafka_poll(p->producer, 0);
                msg = rd_kafka_consumer_poll(p->consumer, timeout);
                if (!msg)
                        continue;
                if (msg->err) {
                        bool fatal = consumer_error(msg);

                        rd_kafka_message_destroy(msg);
                        if (fatal)
                                break;
                        continue;
                }
                atomic_store(&p->brokers_down, false);
                process_record(p, msg);
                rd_kafka_message_destroy(msg);
        }

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
