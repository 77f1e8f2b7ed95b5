/* record: the one DLQ header schema (CONTRACT.md "Dead-letter topics") and
 * the traceparent a status carries on. No broker: headers only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shared/record.h"

#define TRACEPARENT "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

/* The value of header 'name' (last one), as a string in 'buf'. */
static const char *header(const rd_kafka_headers_t *h, const char *name,
                          char *buf, size_t size)
{
        const void *v = NULL;
        size_t len = 0;

        if (rd_kafka_header_get_last(h, name, &v, &len) !=
                    RD_KAFKA_RESP_ERR_NO_ERROR ||
            len >= size)
                return NULL;
        memcpy(buf, v, len);
        buf[len] = '\0';
        return buf;
}

/* Every DLQ record names the service, the stage, the error and its
 * source, after the record's own headers, which are kept. */
static void test_dlq_headers_schema(void **state)
{
        rd_kafka_headers_t *orig = rd_kafka_headers_new(2), *h;
        char buf[128];

        (void)state;
        rd_kafka_header_add(orig, "traceparent", -1, TRACEPARENT, -1);
        h = record_dlq_headers(
                &(struct record_origin){.topic = "orders", .partition = 3,
                                        .offset = 9007199254740993LL,
                                        .headers = orig},
                &(struct record_fault){.service = "processing_service",
                                       .stage = "decode",
                                       .code = "missing_field",
                                       .message = "item is required",
                                       .field = "item"});
        assert_string_equal(header(h, "traceparent", buf, sizeof(buf)),
                            TRACEPARENT);
        assert_string_equal(header(h, "dlq.service", buf, sizeof(buf)),
                            "processing_service");
        assert_string_equal(header(h, "dlq.stage", buf, sizeof(buf)), "decode");
        assert_string_equal(header(h, "dlq.error.code", buf, sizeof(buf)),
                            "missing_field");
        assert_string_equal(header(h, "dlq.error.message", buf, sizeof(buf)),
                            "item is required");
        assert_string_equal(header(h, "dlq.error.field", buf, sizeof(buf)),
                            "item");
        assert_string_equal(header(h, "dlq.source.topic", buf, sizeof(buf)),
                            "orders");
        assert_string_equal(header(h, "dlq.source.partition", buf, sizeof(buf)),
                            "3");
        assert_string_equal(header(h, "dlq.source.offset", buf, sizeof(buf)),
                            "9007199254740993");
        assert_int_equal(rd_kafka_header_cnt(h), 9);
        rd_kafka_headers_destroy(h);
        rd_kafka_headers_destroy(orig);
}

/* Without a field or original headers, no empty header is written. */
static void test_dlq_headers_without_field(void **state)
{
        rd_kafka_headers_t *h;
        char buf[64];

        (void)state;
        h = record_dlq_headers(
                &(struct record_origin){.topic = "notifications"},
                &(struct record_fault){.service = "notification_service",
                                       .stage = "webhook",
                                       .code = "webhook_rejected",
                                       .message = "HTTP 400"});
        assert_null(header(h, "dlq.error.field", buf, sizeof(buf)));
        assert_int_equal(rd_kafka_header_cnt(h), 7);
        rd_kafka_headers_destroy(h);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dlq_headers_schema),
                cmocka_unit_test(test_dlq_headers_without_field),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
