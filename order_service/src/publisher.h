/* The publisher: one idempotent producer (acks=all) shared by every request
 * thread, one thread that polls it (delivery reports and errors run there),
 * and a wait per request for its own delivery report.
 *
 * A fatal idempotent-producer error (librdkafka 2.0.2 can hit one after a
 * broker restart) makes the poll thread build a new producer, swap it in
 * under 'lock', purge the old one (its waiting requests get their honest
 * outcome: not persisted, or unknown) and destroy it. */
#ifndef ORDER_SERVICE_PUBLISHER_H
#define ORDER_SERVICE_PUBLISHER_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "shared/config.h"

struct metric_counter;

/* librdkafka scans for timed-out messages about once a second, so a report
 * can come a little after message.timeout.ms; past this margin a request
 * stops waiting and answers 504 itself. So publisher_publish() returns
 * within delivery_timeout_ms + this. */
#define PUBLISHER_REPORT_MARGIN_MS 5000

enum publish_status {
        PUBLISH_OK,          /* acknowledged by the broker: 202 */
        PUBLISH_UNAVAILABLE, /* not written: broker unreachable, producer
                              * replaced, or refused: 503 */
        PUBLISH_QUEUE_FULL,  /* the local queue is full: 503 */
        PUBLISH_TIMED_OUT,   /* outcome unknown (timed out, or lost with a
                              * dead producer): 504 */
};

struct publish_result {
        enum publish_status status;
        int32_t partition;
        int64_t offset;
        char error[128]; /* librdkafka's words when not PUBLISH_OK */
};

struct publisher_options {
        const char *topic;
        int delivery_timeout_ms; /* message.timeout.ms */
        int linger_ms;           /* unless KAFKA_LINGER_MS is given */
        /* Called on the poll thread when librdkafka reports that every
         * broker is down, so readiness drops at once. May be NULL. */
        void (*on_all_brokers_down)(void *arg);
        void *arg;
        /* Counts producer recreations; may be NULL. Borrowed. */
        struct metric_counter *recreations;
};

struct publisher;

/* Check that a producer can be configured from 'cfg' with these
 * settings (no KAFKA_* variable contradicts the contract), without
 * starting one: for main() to stop a bad start before any thread runs.
 * Returns 0, or -1 with errstr naming the variable at fault. */
int publisher_check_config(const struct config *cfg, int delivery_timeout_ms,
                           int linger_ms, char *errstr, size_t errstr_size);

/* Create the producer and start its poll thread. 'cfg' is borrowed and
 * must outlive the publisher. No broker is needed to start. Returns the
 * publisher, or NULL with errstr. */
struct publisher *publisher_new(const struct config *cfg,
                                const struct publisher_options *opts,
                                char *errstr, size_t errstr_size);

/* Produce one record (key, value and the headers content-type and, when
 * not NULL, traceparent; all copied) and wait for its delivery report.
 * Called on request threads, any number at once. Returns 0 when
 * acknowledged, or -1; res->status says which, in both cases. */
int publisher_publish(struct publisher *pub, const char *key, size_t key_len,
                      const char *value, size_t value_len,
                      const char *traceparent, struct publish_result *res);

/* Messages waiting in the producer's queues (any thread). */
size_t publisher_queue_depth(struct publisher *pub);
/* The same as a metric_gauge_fn: 'pub' is the publisher. */
double publisher_queue_depth_gauge(void *pub);

/* Stop the poll thread, flush what is queued for up to 'flush_timeout_ms',
 * log what is left, destroy. No operation if NULL. Call once no request
 * thread uses 'pub' any more. */
void publisher_destroy(struct publisher *pub, int flush_timeout_ms);

/* For tests: make the current producer raise a fatal error, as librdkafka
 * does after an idempotence failure. Returns 0 or -1. */
int publisher_inject_fatal_error(struct publisher *pub, const char *reason);

/* What a delivery report means for the client: 'err' and the message
 * status of a report. Pure. */
enum publish_status publish_status_from_report(rd_kafka_resp_err_t err,
                                               rd_kafka_msg_status_t status);

#endif
