/* What the files of the notifier share (notifier.h is the outside view):
 * the struct, and who does what.
 *   notifier.c      the life cycle and the consume loop
 *   commits.c       finished records, offset commits, the rebalances
 *   dead_letters.c  records to the DLQ: not statuses, failed webhooks
 *   records.c       one record: its line, then its DLQ record or webhook
 * Threads: see notifier.h. */
#ifndef NOTIFICATION_NOTIFIER_INT_H
#define NOTIFICATION_NOTIFIER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "line_out.h"
#include "notifier.h"
#include "shared/jsonw.h"

#define SERVICE_NAME "notification_service"

struct webhook;
struct webhook_job;
struct webhook_result;

struct notifier {
        const struct config *cfg;
        const struct notification_settings *settings;
        char *dlq_topic;

        rd_kafka_t *consumer;
        bool consumer_closed;      /* rd_kafka_consumer_close() done */
        struct dlq *dlq;

        struct line_out out;       /* consumer thread only */
        struct jsonw line;         /* consumer thread only */
        struct webhook *webhook;   /* NULL without NOTIFY_WEBHOOK_URL */
        bool paused;               /* consumer thread only */

        /* tracker_lock guards offsets: the consumer thread adds and
         * commits, workers and delivery reports finish. */
        pthread_mutex_t tracker_lock;
        struct offsets *offsets;
        atomic_bool dirty;         /* something finished since the commit */
        int64_t last_commit_ms;
        int64_t last_lag_ms;

        struct metric_counter *lines, *invalid, *attempts, *dlq_records,
                *dlq_errors, *commit_errors;
        struct metric_counter *wh_delivered, *wh_failed, *wh_rejected;
        struct metric_gauge *lag;
        /* The stages of a record (docs/bench.md): its timestamp (the
         * status's produce) to its poll here, its poll to its line. */
        struct metric_histogram *record_wait, *record_write;
};

/* commits.c */
/* Mark a record finished; its offset may now be committed. Any thread. */
void commits_finish(struct notifier *n, int32_t partition, int64_t offset);
/* Start tracking a record read. Returns 0, or -1 when it is not tracked
 * (out of memory, or an offset below one already seen). */
int commits_track(struct notifier *n, int32_t partition, int64_t offset);
/* Commit, for each partition in 'parts' (NULL: the assignment), the
 * offset after what is finished; 'sync' waits (bounded). Consumer
 * thread. */
void commits_commit(struct notifier *n,
                    const rd_kafka_topic_partition_list_t *parts, bool sync);
/* Set the rebalance and commit callbacks (opaque: 'n') on 'conf'. */
void commits_set_callbacks(struct notifier *n, rd_kafka_conf_t *conf);

/* dead_letters.c */
/* The dlq_acked_fn of the notifier's dlq. */
void dead_letters_acked(void *arg, void *opaque);
/* A record that is not a status: to the DLQ, stage "decode". */
void dead_letters_invalid(struct notifier *n, const rd_kafka_message_t *msg,
                          const char *code, const char *message);
/* The webhook_done_fn: finished, or to the DLQ, stage "webhook". */
void dead_letters_webhook_done(void *arg, struct webhook_job *job,
                               const struct webhook_result *res);

/* records.c */
void records_handle(struct notifier *n, rd_kafka_message_t *msg);
/* Pause the assignment while the webhook queue is full. */
void records_flow_control(struct notifier *n);

#endif
