/* Unit tests of order_service's pure request helpers (request.c) and of
 * what a delivery report means for the client (publisher.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "publisher.h"
#include "request.h"

#define MAX_BODY (64 * 1024)

/* --- body framing ------------------------------------------------------- */

static enum body_framing framing(const char *cl, const char *te,
                                 long long *len)
{
        return body_framing_get(cl, te, MAX_BODY, len);
}

static void test_framing_content_length_within_limit(void **state)
{
        long long len;

        assert_int_equal(framing("0", NULL, &len), BODY_FRAMING_LENGTH);
        assert_int_equal(len, 0);
        assert_int_equal(framing(" 65536 ", NULL, &len), BODY_FRAMING_LENGTH);
        assert_int_equal(len, MAX_BODY);
}

static void test_framing_content_length_over_limit_is_413(void **state)
{
        long long len;

        assert_int_equal(framing("65537", NULL, &len), BODY_FRAMING_TOO_LARGE);
        assert_int_equal(len, -1);
        assert_int_equal(framing("99999999999999999999999999999", NULL, &len),
                         BODY_FRAMING_TOO_LARGE);
}

static void test_framing_malformed_length_is_bad(void **state)
{
        long long len;

        assert_int_equal(framing("", NULL, &len), BODY_FRAMING_BAD);
        assert_int_equal(framing("-1", NULL, &len), BODY_FRAMING_BAD);
        assert_int_equal(framing("+5", NULL, &len), BODY_FRAMING_BAD);
        assert_int_equal(framing("5, 5", NULL, &len), BODY_FRAMING_BAD);
        assert_int_equal(framing("0x10", NULL, &len), BODY_FRAMING_BAD);
}

static void test_framing_no_length_not_chunked_is_411(void **state)
{
        long long len;

        assert_int_equal(framing(NULL, NULL, &len), BODY_FRAMING_NO_LENGTH);
}

static void test_framing_chunked_in_any_case(void **state)
{
        long long len;

        assert_int_equal(framing(NULL, "chunked", &len), BODY_FRAMING_CHUNKED);
        assert_int_equal(framing(NULL, " Chunked ", &len),
                         BODY_FRAMING_CHUNKED);
        assert_int_equal(len, -1);
}

static void test_framing_both_headers_or_other_codings_are_bad(void **state)
{
        long long len;

        assert_int_equal(framing("10", "chunked", &len), BODY_FRAMING_BAD);
        assert_int_equal(framing(NULL, "gzip, chunked", &len),
                         BODY_FRAMING_BAD);
        assert_int_equal(framing(NULL, "identity", &len), BODY_FRAMING_BAD);
        assert_int_equal(framing(NULL, "", &len), BODY_FRAMING_BAD);
}

/* --- body reading ------------------------------------------------------- */

/* A body source that hands out at most 'step' bytes per read, then 0, or
 * an error after 'fail_after' bytes when that is set. */
struct source {
        const char *data;
        size_t len, pos, step;
        size_t fail_after; /* 0: never */
        size_t reads;
};

static int source_read(void *arg, char *buf, size_t len)
{
        struct source *s = arg;
        size_t n = s->len - s->pos;

        s->reads++;
        if (s->fail_after && s->pos >= s->fail_after)
                return -1;
        if (n > len)
                n = len;
        if (n > s->step)
                n = s->step;
        memcpy(buf, s->data + s->pos, n);
        s->pos += n;
        return (int)n;
}

static void test_body_read_exact_length(void **state)
{
        struct source s = {.data = "{\"a\":1}", .len = 7, .step = 3};
        char *body;
        size_t len;

        assert_int_equal(body_read(source_read, &s, 7, MAX_BODY, &body, &len),
                         BODY_READ_OK);
        assert_int_equal(len, 7);
        assert_string_equal(body, "{\"a\":1}");
        free(body);
}

static void test_body_read_empty_body(void **state)
{
        struct source s = {.data = "", .len = 0, .step = 1};
        char *body;
        size_t len;

        assert_int_equal(body_read(source_read, &s, 0, MAX_BODY, &body, &len),
                         BODY_READ_OK);
        assert_int_equal(len, 0);
        assert_string_equal(body, "");
        free(body);
}

static void test_body_read_short_body_is_refused(void **state)
{
        struct source s = {.data = "{\"a\"", .len = 4, .step = 100};
        char *body;
        size_t len;

        assert_int_equal(body_read(source_read, &s, 10, MAX_BODY, &body, &len),
                         BODY_READ_SHORT);
        assert_null(body);
}

static void test_body_read_error_is_short(void **state)
{
        static char data[100];
        struct source s = {.data = data, .len = 100, .step = 10,
                           .fail_after = 20};
        char *body;
        size_t len;

        assert_int_equal(body_read(source_read, &s, -1, MAX_BODY, &body, &len),
                         BODY_READ_SHORT);
        assert_null(body);
}

static void test_body_read_chunked_at_limit_is_accepted(void **state)
{
        char *data = malloc(MAX_BODY);
        struct source s = {.data = data, .len = MAX_BODY, .step = 1000};
        char *body;
        size_t len;

        memset(data, 'x', MAX_BODY);
        assert_int_equal(body_read(source_read, &s, -1, MAX_BODY, &body, &len),
                         BODY_READ_OK);
        assert_int_equal(len, MAX_BODY);
        assert_int_equal(body[len], '\0');
        free(body);
        free(data);
}

static void test_body_read_chunked_over_limit_stops_reading(void **state)
{
        size_t total = 10 * MAX_BODY;
        char *data = malloc(total);
        struct source s = {.data = data, .len = total, .step = 4096};
        char *body;
        size_t len;

        memset(data, 'x', total);
        assert_int_equal(body_read(source_read, &s, -1, MAX_BODY, &body, &len),
                         BODY_READ_TOO_LARGE);
        assert_null(body);
        /* It read one byte past the limit, not the whole body. */
        assert_int_equal(s.pos, MAX_BODY + 1);
        free(data);
}

static void test_body_read_never_trusts_a_large_length(void **state)
{
        struct source s = {.data = "", .len = 0, .step = 1};
        char *body;
        size_t len;

        assert_int_equal(body_read(source_read, &s, MAX_BODY + 1, MAX_BODY,
                                   &body, &len),
                         BODY_READ_TOO_LARGE);
        assert_int_equal(s.reads, 0);
}

/* --- headers ------------------------------------------------------------ */

static void test_content_type_json_variants(void **state)
{
        assert_true(content_type_is_json("application/json"));
        assert_true(content_type_is_json("Application/JSON"));
        assert_true(content_type_is_json("application/json; charset=utf-8"));
        assert_true(content_type_is_json("application/json;charset=UTF-8"));
        assert_true(content_type_is_json("application/json; charset=\"utf-8\""));
        assert_true(content_type_is_json(" application/json ; "));
}

static void test_content_type_others_refused(void **state)
{
        assert_false(content_type_is_json(NULL));
        assert_false(content_type_is_json(""));
        assert_false(content_type_is_json("text/plain"));
        assert_false(content_type_is_json("application/jsonx"));
        assert_false(content_type_is_json("application/json-patch+json"));
        assert_false(content_type_is_json("application/x-www-form-urlencoded"));
        assert_false(content_type_is_json("application/json; charset=latin1"));
        assert_false(content_type_is_json("application/json; boundary=x"));
        assert_false(content_type_is_json("multipart/form-data; application/json"));
}

/* --- replies ------------------------------------------------------------ */

static void test_accepted_json_has_exactly_the_contract_fields(void **state)
{
        size_t len = 0;
        char *s = accepted_json("o-1", "orders", 3, 9007199254740993LL, &len);
        json_error_t jerr;
        json_t *doc;

        assert_non_null(s);
        assert_int_equal(len, strlen(s));
        doc = json_loads(s, 0, &jerr);
        assert_non_null(doc);
        assert_int_equal(json_object_size(doc), 5);
        assert_string_equal(json_string_value(json_object_get(doc, "order_id")),
                            "o-1");
        assert_string_equal(json_string_value(json_object_get(doc, "status")),
                            "accepted");
        assert_string_equal(json_string_value(json_object_get(doc, "topic")),
                            "orders");
        assert_int_equal(json_integer_value(json_object_get(doc, "partition")),
                         3);
        assert_true(json_integer_value(json_object_get(doc, "offset")) ==
                    9007199254740993LL);
        json_decref(doc);
        free(s);
}

static void test_route_label_is_bounded(void **state)
{
        assert_string_equal(route_label("/orders"), "/orders");
        assert_string_equal(route_label("/openapi.json"), "/openapi.json");
        assert_string_equal(route_label("/metrics"), "/metrics");
        assert_string_equal(route_label("/orders/123"), "/orders/{id}");
        assert_string_equal(route_label("/orders/123/events"),
                            "/orders/{id}/events");
        assert_string_equal(route_label("/events"), "/events");
        assert_string_equal(route_label("/nope"), "other");
        assert_string_equal(route_label("/\"evil"), "other");
        assert_string_equal(route_label(NULL), "other");
}

/* --- delivery outcomes -------------------------------------------------- */

static void test_report_outcomes(void **state)
{
        assert_int_equal(publish_status_from_report(
                                 RD_KAFKA_RESP_ERR_NO_ERROR,
                                 RD_KAFKA_MSG_STATUS_PERSISTED),
                         PUBLISH_OK);
        /* A timeout is the contract's 504 even when never sent. */
        assert_int_equal(publish_status_from_report(
                                 RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
                                 RD_KAFKA_MSG_STATUS_NOT_PERSISTED),
                         PUBLISH_TIMED_OUT);
        assert_int_equal(publish_status_from_report(
                                 RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
                                 RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED),
                         PUBLISH_TIMED_OUT);
        /* Purged from the queue of a dead producer: never written. */
        assert_int_equal(publish_status_from_report(
                                 RD_KAFKA_RESP_ERR__PURGE_QUEUE,
                                 RD_KAFKA_MSG_STATUS_NOT_PERSISTED),
                         PUBLISH_UNAVAILABLE);
        /* Purged in flight: maybe written. */
        assert_int_equal(publish_status_from_report(
                                 RD_KAFKA_RESP_ERR__PURGE_INFLIGHT,
                                 RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED),
                         PUBLISH_TIMED_OUT);
        assert_int_equal(publish_status_from_report(
                                 RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                 RD_KAFKA_MSG_STATUS_NOT_PERSISTED),
                         PUBLISH_UNAVAILABLE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_framing_content_length_within_limit),
                cmocka_unit_test(test_framing_content_length_over_limit_is_413),
                cmocka_unit_test(test_framing_malformed_length_is_bad),
                cmocka_unit_test(test_framing_no_length_not_chunked_is_411),
                cmocka_unit_test(test_framing_chunked_in_any_case),
                cmocka_unit_test(test_framing_both_headers_or_other_codings_are_bad),
                cmocka_unit_test(test_body_read_exact_length),
                cmocka_unit_test(test_body_read_empty_body),
                cmocka_unit_test(test_body_read_short_body_is_refused),
                cmocka_unit_test(test_body_read_error_is_short),
                cmocka_unit_test(test_body_read_chunked_at_limit_is_accepted),
                cmocka_unit_test(test_body_read_chunked_over_limit_stops_reading),
                cmocka_unit_test(test_body_read_never_trusts_a_large_length),
                cmocka_unit_test(test_content_type_json_variants),
                cmocka_unit_test(test_content_type_others_refused),
                cmocka_unit_test(test_accepted_json_has_exactly_the_contract_fields),
                cmocka_unit_test(test_route_label_is_bounded),
                cmocka_unit_test(test_report_outcomes),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
