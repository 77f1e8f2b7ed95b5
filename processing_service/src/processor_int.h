/* What the files of the processor share (processor.h is the outside
 * view): the struct, and who does what.
 *   processor.c  the life cycle and the consume loop
 *   clients.c    the clients' configurations, the transactional producer
 *                (start, replacement after a fatal error), the callbacks
 *   txn.c        the transaction state machine: commit, abort, rewind
 *   output.c     one record in: its status or its dead letter out
 *   changelog.c  the dedupe store (dedupe.c) kept in step with its
 *                changelog topic: written in the transaction, restored
 *                on assignment
 * Everything runs on the thread of processor_run() (see processor.c). */
#ifndef PROCESSING_PROCESSOR_INT_H
#define PROCESSING_PROCESSOR_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "processor.h"
#include "shared/log.h"

/* How long one blocking transactional call may take before it is retried
 * (or given up at shutdown). */
#define TXN_CALL_TIMEOUT_MS 30000

/* Outcomes of the records of the open transaction, counted in the metrics
 * only once it commits. */
enum outcome {
        OUTCOME_CONFIRMED,
        OUTCOME_QUANTITY_LIMIT,
        OUTCOME_UNKNOWN_ITEM,
        OUTCOME_REJECTED_OTHER,
        OUTCOME_DLQ,
        OUTCOME_DUPLICATE, /* same order again: no second status */
        OUTCOME_CONFLICT,  /* order_id reused for another order: DLQ */
        OUTCOME_COUNT,
};

struct processor {
        const struct config *cfg;
        const struct rules *rules;
        char *transactional_id;
        char *dlq_topic;
        long long txn_max_records;
        int64_t txn_max_ms;
        int64_t txn_min_ms;
        bool offset_reset_latest; /* where a partition without offsets starts */
        void (*on_all_brokers_down)(void *arg);
        void *arg;

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
        /* When each of its records was polled (monotonic us), for the
         * stage histograms at its commit; grows to the largest
         * transaction, at most txn_max_records. */
        int64_t *txn_polled_us;
        size_t txn_polled_n, txn_polled_cap;

        atomic_bool ready; /* transactions initialised, group joined */

        /* The dedupe store and its changelog (changelog.c); all NULL/0
         * when DEDUPE_RETENTION is 0. */
        struct dedupe *dedupe;
        char *changelog_topic;
        int64_t dedupe_retention_ms;
        rd_kafka_t *restorer;   /* reads the changelog (read_committed) */
        rd_kafka_t *watermarks; /* its high watermarks (read_uncommitted) */
        bool dedupe_stale;      /* a transaction that wrote to the store
                                 * did not commit: restore before going on */
        int64_t dedupe_next_expire_ms;
        struct metric_counter *m_restored;
        struct metric_histogram *m_restore_seconds;
        struct metric_gauge *m_dedupe_entries;
        struct metric_gauge *m_dedupe_bytes;

        struct metric_counter *m_outcomes[OUTCOME_COUNT];
        struct metric_counter *m_committed;
        struct metric_counter *m_aborted;
        struct metric_counter *m_recreated;
        struct metric_counter *m_rebalances;
        struct metric_histogram *m_commit_seconds;
        /* The stages of a record (docs/bench.md): its timestamp to its
         * poll, its poll to its commit's start, that commit's duration. */
        struct metric_histogram *m_record_wait;
        struct metric_histogram *m_record_open;
        struct metric_histogram *m_record_commit;
        struct metric_gauge *m_lag;
        struct metric_gauge *m_open_records;
};

/* What to do after a transactional call failed. */
enum txn_action {
        TXN_RETRY,  /* retriable: call again */
        TXN_ABORT,  /* abort the transaction, then go on */
        TXN_FATAL,  /* the producer is unusable (producer_fatal is set) */
};

/* clients.c */
rd_kafka_conf_t *clients_producer_conf(const struct processor_options *opts,
                                       char *errstr, size_t errstr_size);
rd_kafka_conf_t *clients_consumer_conf(const struct config *cfg, char *errstr,
                                       size_t errstr_size);
/* Set the callbacks (opaque: 'p') on the configurations. */
void clients_set_callbacks(struct processor *p, rd_kafka_conf_t *producer_conf,
                           rd_kafka_conf_t *consumer_conf);
int producer_start(struct processor *p);
int producer_recreate(struct processor *p);
void producer_check_fatal(struct processor *p);
void log_rderror(enum log_level level, const char *what,
                 const rd_kafka_error_t *error);

/* txn.c */
void txn_reset(struct processor *p);
enum txn_action txn_error_action(struct processor *p, const char *what,
                                 rd_kafka_error_t *error);
/* Begin a transaction when none is open. Returns 0, or -1 (then the
 * producer is to be replaced and the record read again). */
int txn_begin(struct processor *p);
void txn_abort(struct processor *p, bool rewind);
int txn_commit(struct processor *p, bool rewind);
int consumer_rewind(struct processor *p);

/* txn.c: note that the record 'msg', polled at 'polled_us', joined the
 * open transaction. */
void txn_track_record(struct processor *p, const rd_kafka_message_t *msg,
                      int64_t polled_us);

/* output.c */
void process_record(struct processor *p, const rd_kafka_message_t *msg);
/* Produce one record to 'topic' ('partition', or RD_KAFKA_PARTITION_UA)
 * in the open transaction; the producer copies key and value and owns
 * 'hdrs' (may be NULL) on success. Returns 0, or -1 with *errp. */
int output_produce(struct processor *p, const char *topic, int32_t partition,
                   const void *key, size_t key_len, const void *value,
                   size_t len, rd_kafka_headers_t *hdrs,
                   rd_kafka_resp_err_t *errp);

/* changelog.c */
struct order;
struct metrics;
/* The store, its clients and metrics, from 'opts' (nothing when its
 * retention is 0). Returns 0, or -1 with errstr. */
int changelog_init(struct processor *p, const struct processor_options *opts,
                   struct metrics *m, char *errstr, size_t errstr_size);
/* Create the changelog topic (as many partitions as the orders topic)
 * and check it. Returns 0, 1 at a stop before it was done, or -1. */
int changelog_start(struct processor *p);
void changelog_destroy(struct processor *p);
/* Restore the store of each of 'parts' (orders partitions) from the
 * changelog. Returns 0, or -1 at shutdown (not restored). */
int changelog_restore(struct processor *p,
                      const rd_kafka_topic_partition_list_t *parts);
/* Forget the store of each of 'parts' (revoked). */
void changelog_forget(struct processor *p,
                      const rd_kafka_topic_partition_list_t *parts);
/* What is due between records: a restore after a transaction that did
 * not commit, dropping expired entries. Returns 0, or -1 at shutdown. */
int changelog_turn(struct processor *p, int64_t now_ms);
/* Has the order of 'msg' had a status? Sets *fingerprint. DEDUPE_NEW
 * (0) when the store is off. */
int changelog_check(struct processor *p, const rd_kafka_message_t *msg,
                    const struct order *order, uint64_t *fingerprint);
/* Remember that the order of 'msg' got its status: the changelog entry
 * in the open transaction, then the store. Returns 0, or -1 with *errp. */
int changelog_remember(struct processor *p, const rd_kafka_message_t *msg,
                       const struct order *order, uint64_t fingerprint,
                       rd_kafka_resp_err_t *errp);

#endif
