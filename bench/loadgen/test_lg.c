/* The load generator's pure parts: schedule, response framing, percentiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lg.h"

static void test_schedule_is_even_and_exact(void **state)
{
        (void)state;
        /* 1000/s: one request per millisecond, from the start. */
        assert_int_equal(lg_schedule_at(500, 1000, 0), 500);
        assert_int_equal(lg_schedule_at(500, 1000, 1), 500 + 1000000);
        assert_int_equal(lg_schedule_at(0, 1000, 1000), 1000000000ULL);
        /* 3/s does not divide a second: floors, never drifts. */
        assert_int_equal(lg_schedule_at(0, 3, 1), 333333333ULL);
        assert_int_equal(lg_schedule_at(0, 3, 3), 1000000000ULL);
        /* Far out, no 64-bit overflow. */
        assert_int_equal(lg_schedule_at(0, 1, 30000000000ULL),
                         (uint64_t)30000000000ULL * 1000000000ULL);
}

static void test_schedule_due_counts_requests_at_or_before_now(void **state)
{
        (void)state;
        assert_int_equal(lg_schedule_due(1000, 1000, 999), 0);
        assert_int_equal(lg_schedule_due(1000, 1000, 1000), 1);
        assert_int_equal(lg_schedule_due(1000, 1000, 1000 + 999999), 1);
        assert_int_equal(lg_schedule_due(1000, 1000, 1000 + 1000000), 2);
        assert_int_equal(lg_schedule_due(0, 10000, 1000000000ULL), 10001);
        /* The inverse of lg_schedule_at for awkward rates. */
        for (uint64_t rate = 1; rate < 20000; rate += 997)
                for (uint64_t k = 0; k < 2000; k += 37) {
                        uint64_t at = lg_schedule_at(7, rate, k);

                        assert_int_equal(lg_schedule_due(7, rate, at), k + 1);
                        if (at > 7)
                                assert_true(lg_schedule_due(7, rate, at - 1) <= k);
                }
}

static void test_retry_every_reposts_an_earlier_order(void **state)
{
        (void)state;
        for (uint64_t seq = 0; seq < 100; seq++) {
                assert_int_equal(lg_order_of(seq, 0), seq);
                assert_int_equal(lg_order_of(seq, 1), seq);
        }
        /* Every 10th request: the order of 5 requests before. */
        assert_int_equal(lg_order_of(8, 10), 8);
        assert_int_equal(lg_order_of(9, 10), 4);
        assert_int_equal(lg_order_of(19, 10), 14);
        assert_int_equal(lg_order_of(20, 10), 20);
        /* Every other request: the one just before. */
        assert_int_equal(lg_order_of(1, 2), 0);
        assert_int_equal(lg_order_of(2, 2), 2);
}

static void test_response_complete_with_body(void **state)
{
        static const char r202[] =
                "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
                "content-length: 5\r\nLocation: /orders/1\r\n\r\n{\"a\"}";
        struct lg_response r;

        (void)state;
        assert_int_equal(lg_response_parse(r202, strlen(r202), &r), 1);
        assert_int_equal(r.status, 202);
        assert_int_equal(r.length, strlen(r202));
        assert_false(r.is_close);
        /* Each shorter prefix needs more bytes. */
        for (size_t n = 0; n < strlen(r202); n++)
                assert_int_equal(lg_response_parse(r202, n, &r), 0);
}

static void test_response_close_and_http10(void **state)
{
        static const char closing[] =
                "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
                "Retry-After: 1\r\nContent-Length: 0\r\n\r\n";
        static const char old[] = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";
        static const char old_ka[] = "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n"
                                     "Content-Length: 2\r\n\r\nok";
        struct lg_response r;

        (void)state;
        assert_int_equal(lg_response_parse(closing, strlen(closing), &r), 1);
        assert_int_equal(r.status, 503);
        assert_true(r.is_close);
        assert_int_equal(lg_response_parse(old, strlen(old), &r), 1);
        assert_true(r.is_close);
        assert_int_equal(lg_response_parse(old_ka, strlen(old_ka), &r), 1);
        assert_false(r.is_close);
}

static void test_response_refuses_what_it_cannot_frame(void **state)
{
        static const char chunked[] = "HTTP/1.1 200 OK\r\n"
                "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
        static const char no_length[] = "HTTP/1.1 200 OK\r\n\r\n";
        static const char bad_length[] = "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n";
        static const char not_http[] = "SMTP/1.1 200 OK\r\n\r\n";
        static const char no_content[] = "HTTP/1.1 204 No Content\r\n\r\n";
        static char huge[LG_MAX_HEAD + 10];
        struct lg_response r;

        (void)state;
        assert_int_equal(lg_response_parse(chunked, strlen(chunked), &r), -1);
        assert_int_equal(lg_response_parse(no_length, strlen(no_length), &r), -1);
        assert_int_equal(lg_response_parse(bad_length, strlen(bad_length), &r), -1);
        assert_int_equal(lg_response_parse(not_http, strlen(not_http), &r), -1);
        assert_int_equal(lg_response_parse(no_content, strlen(no_content), &r), 1);
        assert_int_equal(r.length, strlen(no_content));
        memset(huge, 'a', sizeof(huge));
        assert_int_equal(lg_response_parse(huge, sizeof(huge), &r), -1);
}

static void test_percentile_nearest_rank(void **state)
{
        uint64_t v[1000], one[1] = { 42 }, few[] = { 5, 1, 4, 2, 3 };

        (void)state;
        for (size_t i = 0; i < 1000; i++)
                v[i] = 1000 - i; /* 1000..1, unsorted */
        lg_sort(v, 1000);
        assert_int_equal(v[0], 1);
        assert_int_equal(lg_percentile(v, 1000, 50), 500);
        assert_int_equal(lg_percentile(v, 1000, 99), 990);
        assert_int_equal(lg_percentile(v, 1000, 99.9), 999);
        assert_int_equal(lg_percentile(v, 1000, 100), 1000);
        assert_int_equal(lg_percentile(v, 1000, 0.01), 1);
        assert_int_equal(lg_percentile(one, 1, 99.9), 42);
        assert_int_equal(lg_percentile(v, 0, 50), 0);
        lg_sort(few, 5);
        assert_int_equal(lg_percentile(few, 5, 50), 3);
        assert_int_equal(lg_percentile(few, 5, 99), 5);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_schedule_is_even_and_exact),
                cmocka_unit_test(test_schedule_due_counts_requests_at_or_before_now),
                cmocka_unit_test(test_retry_every_reposts_an_earlier_order),
                cmocka_unit_test(test_response_complete_with_body),
                cmocka_unit_test(test_response_close_and_http10),
                cmocka_unit_test(test_response_refuses_what_it_cannot_frame),
                cmocka_unit_test(test_percentile_nearest_rank),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
