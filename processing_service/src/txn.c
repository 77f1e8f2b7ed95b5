/* The transaction state machine of the processor (KIP-98, KIP-447): a
 * transaction is opened by the first record after the previous commit and
 * committed with the consumed offsets, so the statuses and the progress
 * on the orders topic become visible at once or not at all. A failed call
 * is retried, aborts the transaction (the consumer is rewound to the
 * committed offsets, so its records are processed again), or leaves the
 * producer to be replaced (txn_error_action()). See processor_int.h. */
#include <stdlib.h>
#include <string.h>

#include "processor_int.h"
#include "shared/kafka.h"
#include "shared/metrics.h"
#include "shared/shutdown.h"
#include "shared/util.h"

/* Forget the open transaction (after its commit or abort). One that is
 * still open here did not commit: what it wrote to the dedupe store is
 * not in the changelog (changelog.c restores it). */
void txn_reset(struct processor *p)
{
        if (p->txn_open && p->dedupe)
                p->dedupe_stale = true;
        p->txn_open = false;
        p->txn_records = 0;
        p->txn_polled_n = 0;
        memset(p->txn_outcomes, 0, sizeof(p->txn_outcomes));
        rd_kafka_topic_partition_list_destroy(p->txn_offsets);
        p->txn_offsets = rd_kafka_topic_partition_list_new(16);
        metric_gauge_set(p->m_open_records, 0);
}

/* What to do after a transactional call failed with 'error' (destroyed
 * here). */
enum txn_action txn_error_action(struct processor *p, const char *what,
                                 rd_kafka_error_t *error)
{
        enum txn_action action;

        if (rd_kafka_error_is_fatal(error)) {
                log_rderror(LOG_LEVEL_ERROR, what, error);
                action = TXN_FATAL;
        } else if (rd_kafka_error_txn_requires_abort(error)) {
                log_rderror(LOG_LEVEL_WARN, what, error);
                action = TXN_ABORT;
        } else if (rd_kafka_error_is_retriable(error)) {
                log_rderror(LOG_LEVEL_WARN, what, error);
                action = TXN_RETRY;
        } else {
                /* Neither abortable nor retriable: a state we did not
                 * expect. A new producer starts from a known one. */
                log_rderror(LOG_LEVEL_ERROR, what, error);
                action = TXN_FATAL;
        }
        if (action == TXN_FATAL)
                p->producer_fatal = true;
        rd_kafka_error_destroy(error);
        producer_check_fatal(p);
        return action;
}

void txn_track_record(struct processor *p, const rd_kafka_message_t *msg,
                      int64_t polled_us)
{
        int64_t age_ms = kafka_record_age_ms(msg);

        if (age_ms >= 0)
                metric_histogram_observe(p->m_record_wait, age_ms / 1e3);
        if (p->txn_polled_n == p->txn_polled_cap) {
                size_t cap = p->txn_polled_cap ? p->txn_polled_cap * 2 : 256;
                int64_t *n = realloc(p->txn_polled_us, cap * sizeof(*n));

                if (!n)
                        return; /* a sample less, nothing more */
                p->txn_polled_us = n;
                p->txn_polled_cap = cap;
        }
        p->txn_polled_us[p->txn_polled_n++] = polled_us;
}

int txn_begin(struct processor *p)
{
        rd_kafka_error_t *error;

        if (p->txn_open)
                return 0;
        error = rd_kafka_begin_transaction(p->producer);
        if (error) {
                txn_error_action(p, "cannot begin transaction", error);
                /* Not yet in a transaction: nothing to abort, but this
                 * record must be read again. */
                p->producer_fatal = true;
                return -1;
        }
        p->txn_open = true;
        p->txn_started_ms = time_monotonic_ms();
        return 0;
}

/* Seek the assigned partitions to 'parts' offsets (a partition without
 * one to where auto.offset.reset says), logging what fails. */
static void consumer_seek(struct processor *p,
                          rd_kafka_topic_partition_list_t *parts)
{
        rd_kafka_error_t *error;

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
                return;
        }
        for (int i = 0; i < parts->cnt; i++) {
                if (parts->elems[i].err)
                        log_write(LOG_LEVEL_ERROR, "cannot rewind a partition",
                                  (struct log_field[]){
                                          LOG_INT("kafka.partition",
                                                  parts->elems[i].partition),
                                          LOG_STR("error.code",
                                                  rd_kafka_err2name(
                                                          parts->elems[i].err)),
                                  },
                                  2);
        }
}

/* Seek the assigned partitions back to their committed offsets, where the
 * aborted transaction started. Returns 0, or -1 at shutdown. */
int consumer_rewind(struct processor *p)
{
        rd_kafka_topic_partition_list_t *parts = NULL;
        rd_kafka_resp_err_t err;
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
        consumer_seek(p, parts);
        ret = 0;
out:
        if (parts)
                rd_kafka_topic_partition_list_destroy(parts);
        return ret;
}

/* Abort the open transaction and, when 'rewind', seek the consumer back to
 * the committed offsets so its records are processed again. */
void txn_abort(struct processor *p, bool rewind)
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
                            TXN_RETRY ||
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

/* Send the consumed offsets to the open transaction. The group's
 * generation rides along: a zombie member that lost its partitions in a
 * rebalance cannot commit. Returns TXN_RETRY when sent (or none), else
 * what failed. */
static enum txn_action txn_send_offsets(struct processor *p)
{
        rd_kafka_consumer_group_metadata_t *cgmd;
        rd_kafka_error_t *error;
        enum txn_action action = TXN_RETRY;

        if (p->txn_offsets->cnt == 0)
                return TXN_RETRY;
        cgmd = rd_kafka_consumer_group_metadata(p->consumer);
        for (;;) {
                error = rd_kafka_send_offsets_to_transaction(
                        p->producer, p->txn_offsets, cgmd, TXN_CALL_TIMEOUT_MS);
                if (!error)
                        break;
                action = txn_error_action(
                        p, "cannot send offsets to transaction", error);
                if (action != TXN_RETRY || shutdown_requested()) {
                        if (action == TXN_RETRY)
                                action = TXN_ABORT;
                        break;
                }
                action = TXN_RETRY;
        }
        rd_kafka_consumer_group_metadata_destroy(cgmd);
        return action;
}

/* The metrics and the log line of a committed transaction. */
static void txn_committed(struct processor *p, int64_t start_us,
                          int64_t offsets_us)
{
        double commit_s = (double)(time_monotonic_us() - start_us) / 1e6;

        metric_histogram_observe(p->m_commit_seconds, commit_s);
        /* Per record, so that the stage means add up record by record. */
        for (size_t i = 0; i < p->txn_polled_n; i++) {
                metric_histogram_observe(
                        p->m_record_open,
                        (double)(start_us - p->txn_polled_us[i]) / 1e6);
                metric_histogram_observe(p->m_record_commit, commit_s);
        }
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
        p->txn_open = false; /* committed */
        txn_reset(p);
}

/* Commit the open transaction with the consumed offsets. Returns 0 when
 * committed (or none was open), -1 when it was aborted (and the consumer
 * rewound when 'rewind') or the producer is unusable. */
int txn_commit(struct processor *p, bool rewind)
{
        rd_kafka_error_t *error;
        int64_t start_us, offsets_us;
        enum txn_action action;

        if (!p->txn_open)
                return 0;
        if (p->producer_fatal)
                return -1;
        start_us = time_monotonic_us();
        action = txn_send_offsets(p);
        offsets_us = time_monotonic_us();
        while (action == TXN_RETRY) {
                error = rd_kafka_commit_transaction(p->producer,
                                                    TXN_CALL_TIMEOUT_MS);
                if (!error) {
                        txn_committed(p, start_us, offsets_us);
                        return 0;
                }
                action = txn_error_action(p, "cannot commit transaction",
                                          error);
                /* A retriable commit error (a timeout) leaves the
                 * transaction committing: calling again resumes it. */
                if (action == TXN_RETRY && shutdown_requested())
                        action = TXN_ABORT;
        }
        if (action == TXN_ABORT)
                txn_abort(p, rewind);
        return -1;
}
