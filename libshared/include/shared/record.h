/* What the services write on the records they produce, in one place: the
 * dead-letter headers (one schema for every DLQ, CONTRACT.md "Dead-letter
 * topics") and the traceparent a status carries on. */
#ifndef SHARED_RECORD_H
#define SHARED_RECORD_H

#include <stdint.h>

#include <librdkafka/rdkafka.h>

/* Where a dead-lettered record came from. */
struct record_origin {
        const char *topic;
        int32_t partition;
        int64_t offset;
        /* The record's own headers, copied first; NULL when none. */
        const rd_kafka_headers_t *headers;
};

/* Why it is dead-lettered. */
struct record_fault {
        const char *service; /* dlq.service: who dead-lettered it */
        const char *stage;   /* dlq.stage: "decode", "webhook" */
        const char *code;    /* dlq.error.code: machine-readable */
        const char *message; /* dlq.error.message */
        const char *field;   /* dlq.error.field; NULL or "": none */
};

/* The headers of a DLQ record: the original ones, then dlq.service,
 * dlq.stage, dlq.error.code, dlq.error.message, [dlq.error.field],
 * dlq.source.topic, dlq.source.partition, dlq.source.offset. A stage adds
 * its own after them with record_header_add_*() (CONTRACT.md lists them).
 * Returns a new list: you own it until it is handed to a produce call. */
rd_kafka_headers_t *record_dlq_headers(const struct record_origin *origin,
                                       const struct record_fault *fault);

/* The same for a record just consumed: its topic, partition, offset and
 * headers are the origin. */
rd_kafka_headers_t *record_dlq_headers_of(const rd_kafka_message_t *msg,
                                          const struct record_fault *fault);

void record_header_add_str(rd_kafka_headers_t *hdrs, const char *name,
                           const char *value);
void record_header_add_int(rd_kafka_headers_t *hdrs, const char *name,
                           long long value);

/* Add the traceparent header of 'msg' to 'hdrs' when it is a valid one
 * (trace.h); a malformed one is dropped, as W3C Trace Context asks. */
void record_pass_traceparent(const rd_kafka_message_t *msg,
                             rd_kafka_headers_t *hdrs);

#endif
