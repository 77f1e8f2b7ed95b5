/* One record of the notifications topic: its ECS line to every sink
 * (ecs_line.h, line_out.h), then, for a record that is not a status, its
 * DLQ record, or for a status with a webhook configured, a webhook job;
 * otherwise it is finished at once. Consumer thread. See notifier_int.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs_line.h"
#include "notifier_int.h"
#include "shared/kafka.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/order.h"
#include "shared/shutdown.h"
#include "shared/util.h"
#include "webhook.h"

/* Write the line in n->line to every sink, trying again (every second)
 * until it is written or shutdown is requested. Returns 0 when written. */
static int write_line(struct notifier *n)
{
        unsigned done = 0;
        char errstr[256];

        while (line_out_write(&n->out, n->line.sb.buf, n->line.sb.len, &done,
                              errstr, sizeof(errstr)) < 0) {
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

/* Format the line of 'msg' into n->line. Returns 0, or -1 when out of
 * memory; *valid says whether it is a status ('merr' says why not). */
static int format_line(struct notifier *n, const rd_kafka_message_t *msg,
                       const char *traceparent, bool *valid,
                       struct model_error *merr)
{
        struct order_status st;
        struct ecs_source src = {
                .topic = rd_kafka_topic_name(msg->rkt),
                .partition = msg->partition,
                .offset = msg->offset,
                .timestamp_ms = rd_kafka_message_timestamp(msg, NULL),
                .key = msg->key,
                .key_len = msg->key_len,
                .traceparent = traceparent,
        };

        memset(merr, 0, sizeof(*merr));
        *valid = msg->payload &&
                 order_status_decode(msg->payload, msg->len, &st, merr) == 0;
        if (!msg->payload) {
                snprintf(merr->code, sizeof(merr->code), "invalid_json");
                snprintf(merr->message, sizeof(merr->message),
                         "the record has no value");
        }
        jsonw_reset(&n->line);
        return *valid ? ecs_line_format(&n->line, SERVICE_NAME, &src, &st)
                      : ecs_line_format_invalid(&n->line, SERVICE_NAME, &src,
                                                msg->payload, msg->len, merr);
}

/* Hand a status to the webhook workers; they finish it. */
static void webhook_queue(struct notifier *n, const rd_kafka_message_t *msg,
                          const char *traceparent)
{
        struct webhook_job *job = webhook_job_new(msg, traceparent);

        if (!job) {
                log_write(LOG_LEVEL_ERROR, "cannot queue a webhook",
                          (struct log_field[]){
                                  LOG_STR("error.message", "out of memory"),
                                  LOG_INT("kafka.offset", msg->offset),
                          },
                          2);
                return;
        }
        if (webhook_enqueue(n->webhook, job) < 0)
                webhook_job_free(job); /* stopping: read again */
}

/* The stage histograms of a record polled at 'polled_us', its line just
 * written. */
static void observe_stages(struct notifier *n, const rd_kafka_message_t *msg,
                           int64_t polled_us)
{
        int64_t age_ms = kafka_record_age_ms(msg);

        if (age_ms >= 0)
                metric_histogram_observe(n->record_wait, age_ms / 1e3);
        metric_histogram_observe(n->record_write,
                                 (double)(time_monotonic_us() - polled_us) /
                                         1e6);
}

void records_handle(struct notifier *n, rd_kafka_message_t *msg)
{
        int64_t polled_us = time_monotonic_us(); /* just polled */
        char *traceparent = kafka_header_dup(msg, "traceparent");
        bool tracked, valid;
        struct model_error merr;

        tracked = commits_track(n, msg->partition, msg->offset) == 0;
        if (format_line(n, msg, traceparent, &valid, &merr) < 0) {
                log_write(LOG_LEVEL_ERROR, "cannot format a notification line",
                          (struct log_field[]){
                                  LOG_STR("error.message", "out of memory"),
                                  LOG_INT("kafka.offset", msg->offset),
                          },
                          2);
                goto out; /* unfinished: read again after a restart */
        }
        /* Not tracked (out of memory, or an offset below one already
         * seen): its line is out, nothing more can be promised. */
        if (write_line(n) < 0)
                goto out;
        observe_stages(n, msg, polled_us);
        if (!tracked)
                goto out;
        if (!valid)
                dead_letters_invalid(n, msg, merr.code, merr.message);
        else if (n->webhook)
                webhook_queue(n, msg, traceparent);
        else
                commits_finish(n, msg->partition, msg->offset);
out:
        free(traceparent);
}

void records_flow_control(struct notifier *n)
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
        /* Paused, the consumer keeps polling (and stays in the group)
         * without reading more. */
        if (full)
                rd_kafka_pause_partitions(n->consumer, assigned);
        else
                rd_kafka_resume_partitions(n->consumer, assigned);
        rd_kafka_topic_partition_list_destroy(assigned);
        n->paused = full;
}
