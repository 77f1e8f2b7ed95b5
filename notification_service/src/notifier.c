/* The notifier's life cycle and its consume loop (notifier.h); the work
 * per record is in records.c, commits in commits.c, dead letters in
 * dead_letters.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dlq.h"
#include "notifier_int.h"
#include "offsets.h"
#include "shared/kafka.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/service.h"
#include "shared/shutdown.h"
#include "shared/util.h"
#include "webhook.h"

#define DLQ_FLUSH_MS 10000
#define TOPICS_TIMEOUT_MS 10000
#define TOPICS_RETRY_MS 2000
#define LAG_REFRESH_MS 1000

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
        n->record_wait = metrics_histogram(
                m, "notification_record_wait_seconds",
                "From a record's timestamp to its poll here",
                NULL, metrics_stage_buckets, metrics_stage_buckets_count);
        n->record_write = metrics_histogram(
                m, "notification_record_write_seconds",
                "From a record's poll to its line written", NULL,
                metrics_stage_buckets, metrics_stage_buckets_count);
}

/* The consumer's guarantees: a KAFKA_* variable that contradicts one stops
 * the start. Offsets are committed explicitly (commits.c), never
 * automatically, so what is committed is exactly what is finished. */
static const struct kafka_setting consumer_settings[] = {
        {"isolation.level", "read_committed", KAFKA_REQUIRED},
        {"enable.auto.commit", "false", KAFKA_REQUIRED},
        {"enable.auto.offset.store", "false", KAFKA_REQUIRED},
        {"enable.partition.eof", "false", KAFKA_REQUIRED},
};

int notifier_check_config(const struct config *cfg, char *errstr,
                          size_t errstr_size)
{
        if (kafka_conf_check(kafka_conf_with(cfg, KAFKA_ROLE_CONSUMER,
                                             KAFKA_SETTINGS(consumer_settings),
                                             errstr, errstr_size)) < 0)
                return -1;
        return dlq_check_config(cfg, errstr, errstr_size);
}

static rd_kafka_t *consumer_new(struct notifier *n, char *errstr,
                                size_t errstr_size)
{
        rd_kafka_conf_t *conf;

        conf = kafka_conf_with(n->cfg, KAFKA_ROLE_CONSUMER,
                               KAFKA_SETTINGS(consumer_settings), errstr,
                               errstr_size);
        if (conf)
                commits_set_callbacks(n, conf);
        return kafka_client_new(RD_KAFKA_CONSUMER, conf, "the consumer",
                                errstr, errstr_size);
}

static struct webhook *webhook_start(struct notifier *n, char *errstr,
                                     size_t errstr_size)
{
        const struct notification_settings *s = n->settings;
        struct webhook_options wo = {
                .url = s->webhook_url,
                .timeout_ms = (long)s->timeout_ms,
                .connect_timeout_ms = (long)s->connect_timeout_ms,
                .retry_limit = (unsigned)s->retry_limit,
                .retry_base_ms = s->retry_base_ms,
                .retry_max_ms = s->retry_max_ms,
                .workers = (int)s->workers,
                .queue_size = (size_t)s->queue_size,
                .attempts = n->attempts,
        };

        return webhook_new(&wo, dead_letters_webhook_done, n, errstr,
                           errstr_size);
}

/* The clients, the topics (the broker may still be starting: tried until
 * it answers) and the subscription. Returns 0, or -1 with errstr. */
static int notifier_connect(struct notifier *n, char *errstr,
                            size_t errstr_size)
{
        const char *topics[2] = {n->cfg->notifications_topic, n->dlq_topic};

        n->dlq = dlq_new(n->cfg, n->dlq_topic, dead_letters_acked, n,
                         n->dlq_records, n->dlq_errors, errstr, errstr_size);
        if (!n->dlq || !(n->consumer = consumer_new(n, errstr, errstr_size)))
                return -1;
        if (kafka_topics_ensure_retry(dlq_handle(n->dlq), topics, 2,
                                      n->cfg->topic_partitions,
                                      n->cfg->topic_replication_factor,
                                      TOPICS_TIMEOUT_MS, TOPICS_RETRY_MS) < 0) {
                snprintf(errstr, errstr_size,
                         "stopped before the topics were created");
                return -1;
        }
        return kafka_subscribe(n->consumer, n->cfg->notifications_topic,
                               errstr, errstr_size);
}

struct notifier *notifier_new(const struct config *cfg,
                              const struct notification_settings *settings,
                              struct metrics *metrics, char *errstr,
                              size_t errstr_size)
{
        struct notifier *n = calloc(1, sizeof(*n));
        size_t len = strlen(cfg->notifications_topic) + sizeof(".dlq");

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
        n->dlq_topic = malloc(len);
        n->offsets = offsets_new();
        if (!n->dlq_topic || !n->offsets) {
                snprintf(errstr, errstr_size, "out of memory");
                goto fail;
        }
        snprintf(n->dlq_topic, len, "%s.dlq", cfg->notifications_topic);
        if (line_out_init(&n->out, STDOUT_FILENO, settings->log_file, errstr,
                          errstr_size) < 0 ||
            notifier_connect(n, errstr, errstr_size) < 0)
                goto fail;
        if (settings->webhook_url &&
            !(n->webhook = webhook_start(n, errstr, errstr_size)))
                goto fail;
        return n;
fail:
        notifier_destroy(n);
        return NULL;
}

/* SIGHUP: logrotate moved the file away. */
static void reopen_on_hangup(struct notifier *n)
{
        char errstr[256];

        if (!shutdown_take_hangup())
                return;
        if (line_out_reopen(&n->out, errstr, sizeof(errstr)) < 0)
                log_write(LOG_LEVEL_ERROR, "cannot reopen the log file",
                          (struct log_field[]){LOG_STR("error.message",
                                                       errstr)},
                          1);
        else
                log_write(LOG_LEVEL_INFO, "log file reopened", NULL, 0);
}

/* One turn of the loop: at most one record, then what is due. */
static void notifier_turn(struct notifier *n)
{
        rd_kafka_message_t *msg;
        int64_t now;

        reopen_on_hangup(n);
        records_flow_control(n);
        msg = rd_kafka_consumer_poll(n->consumer, 100);
        if (msg) {
                if (!msg->err)
                        records_handle(n, msg);
                else if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                        log_write(LOG_LEVEL_WARN, "consumer error",
                                  (struct log_field[]){
                                          LOG_STR("error.code",
                                                  rd_kafka_err2name(msg->err)),
                                          LOG_STR("error.message",
                                                  rd_kafka_message_errstr(msg)),
                                  },
                                  2);
                rd_kafka_message_destroy(msg);
        }
        dlq_poll(n->dlq, 0); /* delivery reports, retries */
        now = time_monotonic_ms();
        if (atomic_load(&n->dirty) &&
            now - n->last_commit_ms >= n->settings->commit_interval_ms)
                commits_commit(n, NULL, false);
        if (now - n->last_lag_ms >= LAG_REFRESH_MS) {
                int64_t lag = kafka_consumer_lag(n->consumer);

                if (lag >= 0)
                        metric_gauge_set(n->lag, (double)lag);
                n->last_lag_ms = now;
        }
}

/* Shutdown: the record in hand is done. Webhooks in progress end within
 * their timeout; queued ones stay uncommitted. */
static void notifier_leave(struct notifier *n)
{
        int left;
        rd_kafka_resp_err_t err;

        log_write(LOG_LEVEL_INFO, "stopping", NULL, 0);
        if (n->webhook)
                webhook_stop(n->webhook);
        /* librdkafka 2.0.2's consumer close waits for as long as the group
         * coordinator is unreachable; then nothing could be acknowledged or
         * committed anyway, so leave without it. */
        if (!kafka_topics_ready(n->consumer,
                                (const char *const[]){n->cfg->notifications_topic},
                                1, 2000)) {
                log_write(LOG_LEVEL_WARN,
                          "broker unreachable: leaving without committing; "
                          "unfinished records will be read again",
                          NULL, 0);
                return;
        }
        left = dlq_flush(n->dlq, DLQ_FLUSH_MS);
        if (left > 0)
                log_write(LOG_LEVEL_WARN,
                          "DLQ records not acknowledged, left uncommitted",
                          (struct log_field[]){LOG_INT("dlq.pending", left)},
                          1);
        commits_commit(n, NULL, true);
        err = rd_kafka_consumer_close(n->consumer); /* revokes: commits */
        if (err)
                log_write(LOG_LEVEL_WARN, "consumer close failed",
                          (struct log_field[]){
                                  LOG_STR("error.code", rd_kafka_err2name(err)),
                                  LOG_STR("error.message", rd_kafka_err2str(err)),
                          },
                          2);
        n->consumer_closed = true;
}

int notifier_run(struct notifier *n)
{
        log_write(LOG_LEVEL_INFO, "consuming",
                  (struct log_field[]){
                          LOG_STR("kafka.topic", n->cfg->notifications_topic),
                          LOG_STR("kafka.group", n->cfg->group_id),
                          LOG_STR("webhook", n->webhook ? "on" : "off")},
                  3);
        n->last_commit_ms = time_monotonic_ms();
        while (!shutdown_requested())
                notifier_turn(n);
        notifier_leave(n);
        return 0;
}

void notifier_destroy(struct notifier *n)
{
        if (!n)
                return;
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

void *notifier_service_start(struct service *svc, char *errstr,
                             size_t errstr_size)
{
        return notifier_new(&svc->cfg, svc->settings, svc->metrics, errstr,
                            errstr_size);
}

int notifier_service_run(struct service *svc)
{
        return notifier_run(svc->app);
}

void notifier_service_destroy(struct service *svc)
{
        notifier_destroy(svc->app);
        svc->app = NULL;
}
