/* Webhook delivery: each notification is POSTed (libcurl) by one of a few
 * worker threads fed by a bounded queue, retried with backoff and jitter
 * (webhook_policy.h), and handed back with its outcome to 'done_fn'. The
 * consumer thread only enqueues, so a slow or failing receiver never holds
 * up the log lines until the queue is full. */
#ifndef NOTIFICATION_WEBHOOK_H
#define NOTIFICATION_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "ecs_line.h"
#include "webhook_policy.h"

struct metric_counter;

struct webhook_options {
        const char *url;            /* validated by webhook_url_is_valid() */
        long timeout_ms;            /* whole attempt */
        long connect_timeout_ms;
        unsigned retry_limit;       /* retries after the first attempt */
        int64_t retry_base_ms;
        int64_t retry_max_ms;
        int workers;
        size_t queue_size;
        struct metric_counter *attempts; /* counted per attempt; may be NULL */
};

/* One notification to deliver. Every pointer is owned by the job. */
struct webhook_job {
        char event_id[ECS_EVENT_ID_SIZE]; /* also the Idempotency-Key */
        char *topic;
        int32_t partition;
        int64_t offset;
        char *value;            /* the status record's value: the body */
        size_t value_len;
        char *key;              /* may be NULL */
        size_t key_len;
        char *traceparent;      /* may be NULL; sent on when valid */
        rd_kafka_headers_t *headers; /* the record's headers; may be NULL */
};

struct webhook_result {
        enum webhook_verdict verdict; /* of the last attempt */
        unsigned attempts;
        long http_status;             /* 0 when no response */
        int curl_code;
        char error[256];              /* "HTTP 503", or curl's message */
};

/* Called on a worker thread once a job is finished (delivered, refused for
 * good, or out of retries); it owns 'job' from then on and frees it with
 * webhook_job_free(). Not called for jobs dropped by webhook_stop(). */
typedef void (*webhook_done_fn)(void *arg, struct webhook_job *job,
                                const struct webhook_result *res);

struct webhook;

/* A new job copying the record's value, key, traceparent and headers.
 * Returns NULL when out of memory. */
struct webhook_job *webhook_job_new(const rd_kafka_message_t *msg,
                                    const char *traceparent);

/* Free a job. No operation if NULL. */
void webhook_job_free(struct webhook_job *job);

/* Start the workers. Returns the pool, or NULL with errstr. */
struct webhook *webhook_new(const struct webhook_options *opts,
                            webhook_done_fn done_fn, void *done_arg,
                            char *errstr, size_t errstr_size);

/* Queue 'job', waiting while the queue is full. Returns 0 (the pool owns
 * the job), or -1 when stopping or shutdown is requested (shutdown.h)
 * first (the caller still owns it). */
int webhook_enqueue(struct webhook *wh, struct webhook_job *job);

/* True when the next webhook_enqueue() would wait. */
bool webhook_is_full(struct webhook *wh);

/* Jobs queued or being delivered. */
size_t webhook_in_flight(struct webhook *wh);

/* Stop: no new attempt starts (one in progress ends within its timeout),
 * the workers are joined, and queued or unfinished jobs are freed without
 * done_fn: their offsets stay uncommitted, so they are read again. */
void webhook_stop(struct webhook *wh);

/* Stop if needed and free the pool. No operation if NULL. */
void webhook_destroy(struct webhook *wh);

#endif
