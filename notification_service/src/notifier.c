/* The consumer loop of notification_service. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dlq.h"
#include "ecs_line.h"
#include "line_out.h"
#include "notifier.h"
#include "offsets.h"
#include "shared/jsonw.h"
#include "shared/kafka.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/order.h"
#include "shared/shutdown.h"
#include "shared/util.h"
#include "webhook.h"

#define SERVICE_NAME "notification_service"
#define DLQ_FLUSH_MS 10000
#define TOPICS_TIMEOUT_MS 10000
#define COMMIT_TIMEOUT_MS 5000

/* The DLQ record of offset 'offset' of 'partition': the opaque of its
 * dlq_produce(), owned by the dlq until dead_lettered() frees it. */
struct dlq_ref {
        int32_t partition;
        int64_t offset;
};

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

        pthread_t ready_thread;
        bool ready_thread_started;
        atomic_bool ready;
        atomic_bool stop_ready;

        struct metric_counter *lines, *invalid, *attempts, *dlq_records,
                *dlq_errors, *commit_errors;
        struct metric_counter *wh_delivered, *wh_failed, *wh_rejected;
        struct metric_gauge *lag;
};

/* --- finishing records ------------------------------------------------ */

/* Mark a record finished; its offset may now be committed. Any thread. */
static void finish(struct notifier *n, int32_t partition, int64_t offset)
{
        pthread_mutex_lock(&n->tracker_lock);
        offsets_done(n->offsets, partition, offset); /* -1: revoked since */
        pthread_mutex_unlock(&n->tracker_lock);
        atomic_store(&n->dirty, true);
}

/* --- the dead-letter queue -------------------------------------------- */

static void header_add_str(rd_kafka_headers_t *h, const char *name,
                           const char *value)
{
        rd_kafka_header_add(h, name, -1, value, -1);
}

static void header_add_int(rd_kafka_headers_t *h, const char *name,
                           long long v)
{
        char buf[32];

        snprintf(buf, sizeof(buf), "%lld", v);
        rd_kafka_header_add(h, name, -1, buf, -1);
}

/* Produce one DLQ record for offset 'offset' of 'partition', which is
 * finished once the DLQ acknowledges it. 'hdrs' is consumed. Any thread.
 * When it cannot be produced the offset stays unfinished, so the record is
 * read again after a restart or rebalance. */
static void dead_letter(struct notifier *n, int32_t partition, int64_t offset,
                        const void *key, size_t key_len, const void *value,
                        size_t value_len, rd_kafka_headers_t *hdrs)
{
        struct dlq_ref *ref = malloc(sizeof(*ref));

        if (!ref) {
                rd_kafka_headers_destroy(hdrs);
                return;
        }
        ref->partition = partition;
        ref->offset = offset;
        if (dlq_produce(n->dlq, key, key_len, value, value_len, hdrs, ref) < 0)
                free(ref);
}

/* dlq_acked_fn, on the consumer thread (inside dlq_poll). */
static void dead_lettered(void *arg, void *opaque)
{
        struct dlq_ref *ref = opaque;

        finish(arg, ref->partition, ref->offset);
        free(ref);
}

/* The headers every DLQ record carries: the record's own, then what
 * failed and where the record came from. Returns a new list. */
static rd_kafka_headers_t *dlq_headers(const rd_kafka_headers_t *orig,
                                       const char *stage, const char *code,
                                       const char *message, const char *topic,
                                       int32_t partition, int64_t offset)
{
        rd_kafka_headers_t *h =
                orig ? rd_kafka_headers_copy(orig) : rd_kafka_headers_new(8);

        header_add_str(h, "dlq.stage", stage);
        header_add_str(h, "dlq.error.code", code);
        header_add_str(h, "dlq.error.message", message);
        header_add_str(h, "dlq.source.topic", topic);
        header_add_int(h, "dlq.source.partition", partition);
        header_add_int(h, "dlq.source.offset", offset);
        header_add_str(h, "dlq.service", SERVICE_NAME);
        return h;
}

/* --- webhooks ------------------------------------------------------------ */

/* webhook_done_fn, on a webhook worker thread. */
static void webhook_finished(void *arg, struct webhook_job *job,
                             const struct webhook_result *res)
{
        struct notifier *n = arg;
        rd_kafka_headers_t *h;
        const char *code;

        if (res->verdict == WEBHOOK_DELIVERED) {
                metric_counter_inc(n->wh_delivered);
                finish(n, job->partition, job->offset);
                webhook_job_free(job);
                return;
        }
        if (res->verdict == WEBHOOK_PERMANENT) {
                metric_counter_inc(n->wh_rejected);
                code = "webhook_rejected";
        } else {
                metric_counter_inc(n->wh_failed);
                code = "webhook_retries_exhausted";
        }
        {
                struct log_field f[4] = {
                        LOG_STR("event.id", job->event_id),
                        LOG_STR("error.code", code),
                        LOG_STR("error.message", res->error),
                        LOG_INT("webhook.attempts", res->attempts),
                };
                log_write(LOG_LEVEL_WARN,
                          "webhook delivery failed, record dead-lettered", f,
                          4);
        }
        h = dlq_headers(job->headers, "webhook", code, res->error, job->topic,
                        job->partition, job->offset);
        header_add_int(h, "dlq.attempts", res->attempts);
        if (res->http_status)
                header_add_int(h, "dlq.http.status", res->http_status);
        header_add_str(h, "dlq.event.id", job->event_id);
        dead_letter(n, job->partition, job->offset, job->key, job->key_len,
                    job->value, job->value_len, h);
        webhook_job_free(job);
}

/* --- the consumer -------------------------------------------------------- */

/* Commit 'offsets' and wait for the result, at most COMMIT_TIMEOUT_MS:
 * rd_kafka_commit()'s synchronous mode waits for as long as the group
 * coordinator is unreachable, and a SIGTERM must not. Consumer thread. */
static rd_kafka_resp_err_t
commit_bounded(struct notifier *n, const rd_kafka_topic_partition_list_t *offsets)
{
        rd_kafka_queue_t *q = rd_kafka_queue_new(n->consumer);
        rd_kafka_event_t *ev;
        rd_kafka_resp_err_t err;

        err = rd_kafka_commit_queue(n->consumer, offsets, q, NULL, NULL);
        if (!err) {
                ev = rd_kafka_queue_poll(q, COMMIT_TIMEOUT_MS);
                if (!ev) {
                        err = RD_KAFKA_RESP_ERR__TIMED_OUT;
                } else {
                        err = rd_kafka_event_error(ev);
                        rd_kafka_event_destroy(ev);
                }
        }
        rd_kafka_queue_destroy(q); /* a late result is dropped with it */
        return err;
}

/* Commit, for each partition in 'parts' (NULL: the assignment), the offset
 * after what is finished. Consumer thread. */
static void commit_finished(struct notifier *n,
                            const rd_kafka_topic_partition_list_t *parts,
                            bool sync)
{
        rd_kafka_topic_partition_list_t *assigned = NULL, *commit;
        rd_kafka_resp_err_t err;

        if (!parts) {
                if (rd_kafka_assignment(n->consumer, &assigned))
                        return;
                parts = assigned;
        }
        atomic_store(&n->dirty, false);
        commit = rd_kafka_topic_partition_list_new(parts->cnt ? parts->cnt : 1);
        pthread_mutex_lock(&n->tracker_lock);
        for (int i = 0; i < parts->cnt; i++) {
                int64_t off = offsets_committable(n->offsets,
                                                  parts->elems[i].partition);

                if (off >= 0)
                        rd_kafka_topic_partition_list_add(
                                commit, parts->elems[i].topic,
                                parts->elems[i].partition)->offset = off;
        }
        pthread_mutex_unlock(&n->tracker_lock);
        if (commit->cnt > 0) {
                err = sync ? commit_bounded(n, commit)
                           : rd_kafka_commit(n->consumer, commit, 1);
                if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
                        metric_counter_inc(n->commit_errors);
                        atomic_store(&n->dirty, true);
                        log_write(LOG_LEVEL_WARN, "offset commit failed",
                                  (struct log_field[]){LOG_STR(
                                          "error.message",
                                          rd_kafka_err2str(err))},
                                  1);
                }
        }
        rd_kafka_topic_partition_list_destroy(commit);
        if (assigned)
                rd_kafka_topic_partition_list_destroy(assigned);
        n->last_commit_ms = time_monotonic_ms();
}

/* offset_commit_cb, on the consumer thread: an asynchronous commit that
 * failed is tried again at the next interval. */
static void commit_done(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
        struct notifier *n = opaque;

        (void)rk;
        (void)offsets;
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
                metric_counter_inc(n->commit_errors);
                atomic_store(&n->dirty, true);
                log_write(LOG_LEVEL_WARN, "offset commit failed",
                          (struct log_field[]){LOG_STR("error.message",
                                                       rd_kafka_err2str(err))},
                          1);
        }
}

/* rebalance_cb, on the consumer thread (inside consumer_poll or close).
 * Eager protocol (range): the whole assignment changes at once. */
static void rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *parts, void *opaque)
{
        struct notifier *n = opaque;

        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                pthread_mutex_lock(&n->tracker_lock);
                for (int i = 0; i < parts->cnt; i++)
                        offsets_assign(n->offsets, parts->elems[i].partition);
                pthread_mutex_unlock(&n->tracker_lock);
                rd_kafka_assign(rk, parts);
                /* A partition paused before a rebalance stays paused when
                 * it comes back; flow_control() pauses again if needed. */
                rd_kafka_resume_partitions(rk, parts);
                n->paused = false;
                log_write(LOG_LEVEL_INFO, "partitions assigned",
                          (struct log_field[]){LOG_INT("kafka.partitions",
                                                       parts->cnt)},
                          1);
                return;
        }
        if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
                /* What is finished is committed now; records still with a
                 * webhook worker are read again by the next owner. */
                commit_finished(n, parts, true);
                pthread_mutex_lock(&n->tracker_lock);
                for (int i = 0; i < parts->cnt; i++)
                        offsets_revoke(n->offsets, parts->elems[i].partition);
                pthread_mutex_unlock(&n->tracker_lock);
                log_write(LOG_LEVEL_INFO, "partitions revoked",
                          (struct log_field[]){LOG_INT("kafka.partitions",
                                                       parts->cnt)},
                          1);
        } else {
                log_write(LOG_LEVEL_ERROR, "rebalance failed",
                          (struct log_field[]){LOG_STR("error.message",
                                                       rd_kafka_err2str(err))},
                          1);
        }
        rd_kafka_assign(rk, NULL);
}

/* The consumer's configuration: 'cfg' with the settings the delivery
 * guarantee rests on. Returns a new conf (the caller owns it), or NULL
 * with errstr naming the variable at fault. */
static rd_kafka_conf_t *consumer_conf_new(const struct config *cfg,
                                          char *errstr, size_t errstr_size)
{
        rd_kafka_conf_t *conf;
        /* These make the delivery guarantee, so a KAFKA_* variable that
         * contradicts one stops the start. Offsets are committed
         * explicitly (commit_finished), never automatically, so what is
         * committed is exactly what is finished. */
        static const char *const props[][2] = {
                {"isolation.level", "read_committed"},
                {"enable.auto.commit", "false"},
                {"enable.auto.offset.store", "false"},
                {"enable.partition.eof", "false"},
        };

        conf = kafka_conf_new(cfg, KAFKA_ROLE_CONSUMER, errstr, errstr_size);
        if (!conf)
                return NULL;
        for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
                if (kafka_conf_default(conf, cfg, props[i][0], props[i][1],
                                       KAFKA_REQUIRED, errstr,
                                       errstr_size) < 0) {
                        rd_kafka_conf_destroy(conf);
                        return NULL;
                }
        }
        return conf;
}

int notifier_check_config(const struct config *cfg, char *errstr,
                          size_t errstr_size)
{
        rd_kafka_conf_t *conf = consumer_conf_new(cfg, errstr, errstr_size);

        if (!conf)
                return -1;
        rd_kafka_conf_destroy(conf);
        return dlq_check_config(cfg, errstr, errstr_size);
}

static rd_kafka_t *consumer_new(struct notifier *n, char *errstr,
                                size_t errstr_size)
{
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        char rderr[256];

        conf = consumer_conf_new(n->cfg, errstr, errstr_size);
        if (!conf)
                return NULL;
        rd_kafka_conf_set_rebalance_cb(conf, rebalance);
        rd_kafka_conf_set_offset_commit_cb(conf, commit_done);
        rd_kafka_conf_set_opaque(conf, n);
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rderr, sizeof(rderr));
        if (!rk) {
                snprintf(errstr, errstr_size, "consumer: %s", rderr);
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        /* conf now owned, and freed, by rk */
        rd_kafka_poll_set_consumer(rk);
        return rk;
}

/* Write the line in n->line to every sink, trying again (every second)
 * until it is written or shutdown is requested. Returns 0 when written. */
static int write_line(struct notifier *n)
{
        unsigned done = 0;
        char errstr[256];

        while (line_out_write(&n->out, n->line.sb.buf, n->line.sb.len, &done, errstr,
                              sizeof(errstr)) < 0) {
                log_write(LOG_LEVEL_ERROR, "cannot write notification line",
                          (struct log_field[]){LOG_STR("error.message",
                                                       errstr)},
                          1);
                if (shutdown_wait(1000))
                        return -1;
        }
        metric_counter_inc(n->lines);
        return 0;
}

/* Handle one record: its line, then its DLQ record or webhook. */
static void handle_record(struct notifier *n, rd_kafka_message_t *msg)
{
        struct order_status st;
        struct model_error merr;
        struct ecs_source src;
        char *traceparent;
        bool tracked, valid;
        rd_kafka_headers_t *orig = NULL;

        pthread_mutex_lock(&n->tracker_lock);
        tracked = offsets_add(n->offsets, msg->partition, msg->offset) == 0;
        pthread_mutex_unlock(&n->tracker_lock);

        traceparent = kafka_header_dup(msg, "traceparent");
        src = (struct ecs_source){
                .topic = rd_kafka_topic_name(msg->rkt),
                .partition = msg->partition,
                .offset = msg->offset,
                .timestamp_ms = rd_kafka_message_timestamp(msg, NULL),
                .key = msg->key,
                .key_len = msg->key_len,
                .traceparent = traceparent,
        };
        valid = msg->payload &&
                order_status_decode(msg->payload, msg->len, &st, &merr) == 0;
        if (!msg->payload) {
                memset(&merr, 0, sizeof(merr));
                snprintf(merr.code, sizeof(merr.code), "invalid_json");
                snprintf(merr.message, sizeof(merr.message),
                         "the record has no value");
        }
        jsonw_reset(&n->line);
        if ((valid ? ecs_line_format(&n->line, SERVICE_NAME, &src, &st)
                   : ecs_line_format_invalid(&n->line, SERVICE_NAME, &src,
                                             msg->payload, msg->len, &merr)) <
            0) {
                log_error("out of memory formatting a notification line");
                goto out; /* unfinished: read again after a restart */
        }
        if (write_line(n) < 0)
                goto out;
        if (!tracked) {
                /* Not tracked (out of memory, or an offset below one already
                 * seen): its line is out, nothing more can be promised. */
                goto out;
        }

        if (!valid) {
                metric_counter_inc(n->invalid);
                rd_kafka_message_headers(msg, &orig);
                dead_letter(n, msg->partition, msg->offset, msg->key,
                            msg->key_len, msg->payload, msg->len,
                            dlq_headers(orig, "decode", merr.code,
                                        merr.message, src.topic,
                                        msg->partition, msg->offset));
                goto out;
        }
        if (n->webhook) {
                struct webhook_job *job = webhook_job_new(msg, traceparent);

                if (!job) {
                        log_error("out of memory queueing a webhook");
                        goto out;
                }
                if (webhook_enqueue(n->webhook, job) < 0)
                        webhook_job_free(job); /* stopping: read again */
                goto out;
        }
        finish(n, msg->partition, msg->offset);
out:
        free(traceparent);
}

/* Pause the assignment while the webhook queue is full, so that the
 * consumer keeps polling (and stays in the group) without reading more. */
static void flow_control(struct notifier *n)
{
        rd_kafka_topic_partition_list_t *assigned = NULL;
        bool full;

        if (!n->webhook)
                return;
        full = webhook_is_full(n->webhook);
        if (full == n->paused)
                return;
        if (rd_kafka_assignment(n->consumer, &assigned))
                return;
        if (full)
                rd_kafka_pause_partitions(n->consumer, assigned);
        else
                rd_kafka_resume_partitions(n->consumer, assigned);
        rd_kafka_topic_partition_list_destroy(assigned);
        n->paused = full;
}

/* Consumer lag: high watermark minus position, summed over the
 * assignment, from librdkafka's cached watermarks (no round trip). */
static void update_lag(struct notifier *n)
{
        rd_kafka_topic_partition_list_t *assigned = NULL;
        int64_t lag = 0;

        if (rd_kafka_assignment(n->consumer, &assigned))
                return;
        rd_kafka_position(n->consumer, assigned);
        for (int i = 0; i < assigned->cnt; i++) {
                int64_t lo, hi;
                rd_kafka_topic_partition_t *p = &assigned->elems[i];

                if (rd_kafka_get_watermark_offsets(n->consumer, p->topic,
                                                   p->partition, &lo,
                                                   &hi) == 0 &&
                    hi >= 0 && p->offset >= 0 && hi > p->offset)
                        lag += hi - p->offset;
        }
        rd_kafka_topic_partition_list_destroy(assigned);
        metric_gauge_set(n->lag, (double)lag);
        n->last_lag_ms = time_monotonic_ms();
}

/* --- readiness ----------------------------------------------------------- */

static void *ready_main(void *arg)
{
        struct notifier *n = arg;
        const char *topics[2] = {n->cfg->notifications_topic, n->dlq_topic};

        while (!atomic_load(&n->stop_ready)) {
                atomic_store(&n->ready,
                             kafka_topics_ready(n->consumer, topics, 2, 2000));
                for (int i = 0; i < 20 && !atomic_load(&n->stop_ready); i++)
                        nanosleep(&(struct timespec){.tv_nsec = 100000000L},
                                  NULL);
        }
        return NULL;
}

bool notifier_is_ready(void *arg, char *reason, size_t reason_size)
{
        struct notifier *n = arg;

        if (atomic_load(&n->ready))
                return true;
        snprintf(reason, reason_size, "broker_unreachable");
        return false;
}

/* --- life cycle ---------------------------------------------------------- */

static void metrics_register(struct notifier *n, struct metrics *m)
{
        n->lines = metrics_counter(m, "notification_lines_written_total",
                                   "Notification lines written", NULL);
        n->invalid = metrics_counter(m, "notification_records_invalid_total",
                                     "Records that are not valid statuses",
                                     NULL);
        n->attempts = metrics_counter(m, "notification_webhook_attempts_total",
                                      "Webhook HTTP attempts", NULL);
        n->wh_delivered = metrics_counter(
                m, "notification_webhook_results_total",
                "Webhook deliveries by outcome", "outcome=\"delivered\"");
        n->wh_failed = metrics_counter(
                m, "notification_webhook_results_total",
                "Webhook deliveries by outcome", "outcome=\"retries_exhausted\"");
        n->wh_rejected = metrics_counter(
                m, "notification_webhook_results_total",
                "Webhook deliveries by outcome", "outcome=\"rejected\"");
        n->dlq_records = metrics_counter(m, "notification_dlq_records_total",
                                         "Records acknowledged by the DLQ",
                                         NULL);
        n->dlq_errors = metrics_counter(m, "notification_dlq_errors_total",
                                        "DLQ deliveries that failed", NULL);
        n->commit_errors = metrics_counter(
                m, "notification_commit_errors_total",
                "Offset commits that failed", NULL);
        n->lag = metrics_gauge(m, "notification_consumer_lag",
                               "Records not yet read on the assignment",
                               NULL);
}

struct notifier *notifier_new(const struct config *cfg,
                              const struct notification_settings *settings,
                              struct metrics *metrics, char *errstr,
                              size_t errstr_size)
{
        struct notifier *n = calloc(1, sizeof(*n));
        const char *topics[2];
        size_t len;
        int err;

        if (!n) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        n->cfg = cfg;
        n->settings = settings;
        pthread_mutex_init(&n->tracker_lock, NULL);
        jsonw_init(&n->line);
        n->out.file_fd = -1;
        metrics_register(n, metrics);

        len = strlen(cfg->notifications_topic) + sizeof(".dlq");
        n->dlq_topic = malloc(len);
        n->offsets = offsets_new();
        if (!n->dlq_topic || !n->offsets) {
                snprintf(errstr, errstr_size, "out of memory");
                goto fail;
        }
        snprintf(n->dlq_topic, len, "%s.dlq", cfg->notifications_topic);
        if (line_out_init(&n->out, STDOUT_FILENO, settings->log_file, errstr,
                          errstr_size) < 0)
                goto fail;
        n->dlq = dlq_new(cfg, n->dlq_topic, dead_lettered, n, n->dlq_records,
                         n->dlq_errors, errstr, errstr_size);
        if (!n->dlq || !(n->consumer = consumer_new(n, errstr, errstr_size)))
                goto fail;

        /* The broker may still be starting: try until it answers. */
        topics[0] = cfg->notifications_topic;
        topics[1] = n->dlq_topic;
        while (kafka_topics_ensure(dlq_handle(n->dlq), topics, 2,
                                   cfg->topic_partitions,
                                   cfg->topic_replication_factor,
                                   TOPICS_TIMEOUT_MS, errstr,
                                   errstr_size) < 0) {
                log_write(LOG_LEVEL_WARN, "cannot create topics yet",
                          (struct log_field[]){LOG_STR("error.message",
                                                       errstr)},
                          1);
                if (shutdown_wait(2000)) {
                        snprintf(errstr, errstr_size,
                                 "stopped before the topics were created");
                        goto fail;
                }
        }
        {
                rd_kafka_topic_partition_list_t *sub =
                        rd_kafka_topic_partition_list_new(1);

                rd_kafka_topic_partition_list_add(sub, cfg->notifications_topic,
                                                  RD_KAFKA_PARTITION_UA);
                err = rd_kafka_subscribe(n->consumer, sub);
                rd_kafka_topic_partition_list_destroy(sub);
                if (err) {
                        snprintf(errstr, errstr_size, "cannot subscribe: %s",
                                 rd_kafka_err2str(err));
                        goto fail;
                }
        }
        if (settings->webhook_url) {
                struct webhook_options wo = {
                        .url = settings->webhook_url,
                        .timeout_ms = (long)settings->timeout_ms,
                        .connect_timeout_ms = (long)settings->connect_timeout_ms,
                        .retry_limit = (unsigned)settings->retry_limit,
                        .retry_base_ms = settings->retry_base_ms,
                        .retry_max_ms = settings->retry_max_ms,
                        .workers = (int)settings->workers,
                        .queue_size = (size_t)settings->queue_size,
                        .attempts = n->attempts,
                };

                n->webhook = webhook_new(&wo, webhook_finished, n, errstr,
                                         errstr_size);
                if (!n->webhook)
                        goto fail;
        }
        err = pthread_create(&n->ready_thread, NULL, ready_main, n);
        if (err) {
                snprintf(errstr, errstr_size, "cannot start a thread: %s",
                         strerror(err));
                goto fail;
        }
        n->ready_thread_started = true;
        return n;
fail:
        notifier_destroy(n);
        return NULL;
}

int notifier_run(struct notifier *n)
{
        char errstr[256];
        rd_kafka_resp_err_t err;

        log_write(LOG_LEVEL_INFO, "consuming",
                  (struct log_field[]){
                          LOG_STR("kafka.topic", n->cfg->notifications_topic),
                          LOG_STR("kafka.group", n->cfg->group_id),
                          LOG_STR("webhook", n->webhook ? "on" : "off")},
                  3);
        n->last_commit_ms = time_monotonic_ms();
        while (!shutdown_requested()) {
                rd_kafka_message_t *msg;
                int64_t now;

                if (shutdown_take_hangup()) {
                        if (line_out_reopen(&n->out, errstr, sizeof(errstr)) < 0)
                                log_write(LOG_LEVEL_ERROR,
                                          "cannot reopen the log file",
                                          (struct log_field[]){LOG_STR(
                                                  "error.message", errstr)},
                                          1);
                        else
                                log_info("log file reopened");
                }
                flow_control(n);

                msg = rd_kafka_consumer_poll(n->consumer, 100);
                if (msg) {
                        if (!msg->err)
                                handle_record(n, msg);
                        else if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                                log_write(LOG_LEVEL_WARN, "consumer error",
                                          (struct log_field[]){LOG_STR(
                                                  "error.message",
                                                  rd_kafka_message_errstr(msg))},
                                          1);
                        rd_kafka_message_destroy(msg);
                }
                dlq_poll(n->dlq, 0); /* delivery reports, retries */

                now = time_monotonic_ms();
                if (atomic_load(&n->dirty) &&
                    now - n->last_commit_ms >= n->settings->commit_interval_ms)
                        commit_finished(n, NULL, false);
                if (now - n->last_lag_ms >= 1000)
                        update_lag(n);
        }

        /* Shutdown: the record in hand is done. Webhooks in progress end
         * within their timeout; queued ones stay uncommitted. */
        log_info("stopping");
        if (n->webhook)
                webhook_stop(n->webhook);
        /* librdkafka 2.0.2's consumer close waits for as long as the group
         * coordinator is unreachable; then nothing could be acknowledged or
         * committed anyway, so leave without it. */
        if (!kafka_topics_ready(n->consumer,
                                (const char *const[]){n->cfg->notifications_topic},
                                1, 2000)) {
                log_warn("broker unreachable: leaving without committing; "
                         "unfinished records will be read again");
                return 0;
        }
        {
                int left = dlq_flush(n->dlq, DLQ_FLUSH_MS);

                if (left > 0)
                        log_write(LOG_LEVEL_WARN,
                                  "DLQ records not acknowledged, left "
                                  "uncommitted",
                                  (struct log_field[]){LOG_INT("dlq.pending",
                                                               left)},
                                  1);
        }
        commit_finished(n, NULL, true);
        err = rd_kafka_consumer_close(n->consumer); /* revokes: commits */
        if (err)
                log_write(LOG_LEVEL_WARN, "consumer close failed",
                          (struct log_field[]){LOG_STR("error.message",
                                                       rd_kafka_err2str(err))},
                          1);
        n->consumer_closed = true;
        return 0;
}

void notifier_destroy(struct notifier *n)
{
        if (!n)
                return;
        if (n->ready_thread_started) {
                atomic_store(&n->stop_ready, true);
                pthread_join(n->ready_thread, NULL);
        }
        if (n->webhook) {
                /* Workers may produce: stop them before the producer goes. */
                shutdown_request();
                webhook_destroy(n->webhook);
        }
        if (n->consumer)
                /* Not closed: the broker was unreachable, or start-up
                 * failed; destroying must not try to close again. */
                rd_kafka_destroy_flags(n->consumer,
                                       n->consumer_closed
                                               ? 0
                                               : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
        dlq_destroy(n->dlq);
        line_out_release(&n->out);
        jsonw_release(&n->line);
        offsets_destroy(n->offsets);
        free(n->dlq_topic);
        pthread_mutex_destroy(&n->tracker_lock);
        free(n);
}
