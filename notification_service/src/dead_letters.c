/* Records to notifications.dlq, with the headers of shared/record.h: a
 * record that is not a status (stage "decode") and a status whose webhook
 * failed (stage "webhook"). A dead-lettered record is finished only once
 * the DLQ has acknowledged it (dlq.h), so none is lost. See
 * notifier_int.h. */
#include <stdlib.h>

#include "dlq.h"
#include "notifier_int.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/record.h"
#include "webhook.h"

/* The DLQ record of offset 'offset' of 'partition': the opaque of its
 * dlq_produce(), owned by the dlq until dead_letters_acked() frees it. */
struct dlq_ref {
        int32_t partition;
        int64_t offset;
};

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
void dead_letters_acked(void *arg, void *opaque)
{
        struct dlq_ref *ref = opaque;

        commits_finish(arg, ref->partition, ref->offset);
        free(ref);
}

void dead_letters_invalid(struct notifier *n, const rd_kafka_message_t *msg,
                          const char *code, const char *message)
{
        const struct record_fault fault = {
                SERVICE_NAME, "decode", code, message, NULL,
        };

        metric_counter_inc(n->invalid);
        dead_letter(n, msg->partition, msg->offset, msg->key, msg->key_len,
                    msg->payload, msg->len, record_dlq_headers_of(msg, &fault));
}

/* A webhook that failed for good: its status to the DLQ. */
static void webhook_dead_letter(struct notifier *n, struct webhook_job *job,
                                const struct webhook_result *res,
                                const char *code)
{
        rd_kafka_headers_t *h;

        log_write(LOG_LEVEL_WARN, "webhook delivery failed, record dead-lettered",
                  (struct log_field[]){
                          LOG_STR("event.id", job->event_id),
                          LOG_STR("error.code", code),
                          LOG_STR("error.message", res->error),
                          LOG_INT("webhook.attempts", res->attempts),
                  },
                  4);
        h = record_dlq_headers(
                &(struct record_origin){
                        .topic = job->topic,
                        .partition = job->partition,
                        .offset = job->offset,
                        .headers = job->headers,
                },
                &(struct record_fault){
                        .service = SERVICE_NAME,
                        .stage = "webhook",
                        .code = code,
                        .message = res->error,
                });
        record_header_add_int(h, "dlq.attempts", res->attempts);
        if (res->http_status)
                record_header_add_int(h, "dlq.http.status", res->http_status);
        record_header_add_str(h, "dlq.event.id", job->event_id);
        dead_letter(n, job->partition, job->offset, job->key, job->key_len,
                    job->value, job->value_len, h);
}

/* webhook_done_fn, on a webhook worker thread. */
void dead_letters_webhook_done(void *arg, struct webhook_job *job,
                               const struct webhook_result *res)
{
        struct notifier *n = arg;

        if (res->verdict == WEBHOOK_DELIVERED) {
                metric_counter_inc(n->wh_delivered);
                commits_finish(n, job->partition, job->offset);
        } else if (res->verdict == WEBHOOK_PERMANENT) {
                metric_counter_inc(n->wh_rejected);
                webhook_dead_letter(n, job, res, "webhook_rejected");
        } else {
                metric_counter_inc(n->wh_failed);
                webhook_dead_letter(n, job, res, "webhook_retries_exhausted");
        }
        webhook_job_free(job);
}
