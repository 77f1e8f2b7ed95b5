/* The DLQ header schema and the traceparent a record carries on
 * (record.h). */
#include <stdio.h>
#include <string.h>

#include "shared/record.h"
#include "shared/trace.h"

void record_header_add_str(rd_kafka_headers_t *hdrs, const char *name,
                           const char *value)
{
        rd_kafka_header_add(hdrs, name, -1, value ? value : "", -1);
}

void record_header_add_int(rd_kafka_headers_t *hdrs, const char *name,
                           long long value)
{
        char num[32];

        snprintf(num, sizeof(num), "%lld", value);
        rd_kafka_header_add(hdrs, name, -1, num, -1);
}

rd_kafka_headers_t *record_dlq_headers(const struct record_origin *origin,
                                       const struct record_fault *fault)
{
        rd_kafka_headers_t *h = origin->headers
                                        ? rd_kafka_headers_copy(origin->headers)
                                        : rd_kafka_headers_new(8);

        record_header_add_str(h, "dlq.service", fault->service);
        record_header_add_str(h, "dlq.stage", fault->stage);
        record_header_add_str(h, "dlq.error.code", fault->code);
        record_header_add_str(h, "dlq.error.message", fault->message);
        if (fault->field && fault->field[0])
                record_header_add_str(h, "dlq.error.field", fault->field);
        record_header_add_str(h, "dlq.source.topic", origin->topic);
        record_header_add_int(h, "dlq.source.partition", origin->partition);
        record_header_add_int(h, "dlq.source.offset", origin->offset);
        return h;
}

rd_kafka_headers_t *record_dlq_headers_of(const rd_kafka_message_t *msg,
                                          const struct record_fault *fault)
{
        struct record_origin origin = {
                .topic = rd_kafka_topic_name(msg->rkt),
                .partition = msg->partition,
                .offset = msg->offset,
        };
        rd_kafka_headers_t *orig = NULL;

        if (rd_kafka_message_headers(msg, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR)
                origin.headers = orig;
        return record_dlq_headers(&origin, fault);
}

void record_pass_traceparent(const rd_kafka_message_t *msg,
                             rd_kafka_headers_t *hdrs)
{
        rd_kafka_headers_t *orig = NULL;
        char tp[TRACEPARENT_MAX_BYTES + 1];
        const void *val = NULL;
        size_t len = 0;

        if (rd_kafka_message_headers(msg, &orig) != RD_KAFKA_RESP_ERR_NO_ERROR ||
            rd_kafka_header_get_last(orig, "traceparent", &val, &len) !=
                    RD_KAFKA_RESP_ERR_NO_ERROR ||
            !val || len > TRACEPARENT_MAX_BYTES || memchr(val, '\0', len))
                return;
        memcpy(tp, val, len);
        tp[len] = '\0';
        if (traceparent_parse(tp, NULL, 0))
                rd_kafka_header_add(hdrs, "traceparent", -1, tp, (ssize_t)len);
}
