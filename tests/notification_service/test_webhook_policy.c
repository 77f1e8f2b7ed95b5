/* The webhook's rules: what is retried, how long to wait, which URLs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "webhook_policy.h"

static void test_classify_http_statuses(void **state)
{
        (void)state;
        assert_int_equal(webhook_classify(CURLE_OK, 200), WEBHOOK_DELIVERED);
        assert_int_equal(webhook_classify(CURLE_OK, 202), WEBHOOK_DELIVERED);
        assert_int_equal(webhook_classify(CURLE_OK, 204), WEBHOOK_DELIVERED);
        assert_int_equal(webhook_classify(CURLE_OK, 500), WEBHOOK_RETRY);
        assert_int_equal(webhook_classify(CURLE_OK, 503), WEBHOOK_RETRY);
        assert_int_equal(webhook_classify(CURLE_OK, 408), WEBHOOK_RETRY);
        assert_int_equal(webhook_classify(CURLE_OK, 429), WEBHOOK_RETRY);
        assert_int_equal(webhook_classify(CURLE_OK, 400), WEBHOOK_PERMANENT);
        assert_int_equal(webhook_classify(CURLE_OK, 404), WEBHOOK_PERMANENT);
        assert_int_equal(webhook_classify(CURLE_OK, 410), WEBHOOK_PERMANENT);
        assert_int_equal(webhook_classify(CURLE_OK, 301), WEBHOOK_PERMANENT);
}

static void test_classify_network_errors(void **state)
{
        (void)state;
        assert_int_equal(webhook_classify(CURLE_COULDNT_CONNECT, 0), WEBHOOK_RETRY);
        assert_int_equal(webhook_classify(CURLE_OPERATION_TIMEDOUT, 0), WEBHOOK_RETRY);
        assert_int_equal(webhook_classify(CURLE_COULDNT_RESOLVE_HOST, 0), WEBHOOK_RETRY);
        assert_int_equal(webhook_classify(CURLE_RECV_ERROR, 0), WEBHOOK_RETRY);
        assert_int_equal(webhook_classify(CURLE_GOT_NOTHING, 0), WEBHOOK_RETRY);
        assert_int_equal(webhook_classify(CURLE_URL_MALFORMAT, 0), WEBHOOK_PERMANENT);
        assert_int_equal(webhook_classify(CURLE_UNSUPPORTED_PROTOCOL, 0), WEBHOOK_PERMANENT);
}

static void test_backoff_grows_and_is_capped(void **state)
{
        (void)state;
        /* random 0: the lower bound, half the exponential delay. */
        assert_int_equal(webhook_backoff_ms(1, 100, 10000, 0), 50);
        assert_int_equal(webhook_backoff_ms(2, 100, 10000, 0), 100);
        assert_int_equal(webhook_backoff_ms(3, 100, 10000, 0), 200);
        assert_int_equal(webhook_backoff_ms(10, 100, 10000, 0), 5000);
        assert_int_equal(webhook_backoff_ms(1000, 100, 10000, 0), 5000);
        /* Every value stays within [delay/2, delay]. */
        for (uint32_t r = 0; r < 100000; r += 997) {
                for (unsigned n = 1; n < 40; n++) {
                        int64_t d = 100;
                        int64_t ms;

                        for (unsigned i = 1; i < n && d < 10000; i++)
                                d *= 2;
                        if (d > 10000)
                                d = 10000;
                        ms = webhook_backoff_ms(n, 100, 10000, r);
                        assert_true(ms >= d / 2 && ms <= d);
                }
        }
}

static void test_backoff_jitter_spreads(void **state)
{
        int64_t lo = INT64_MAX, hi = 0;

        (void)state;
        for (uint32_t r = 0; r < 1000; r++) {
                int64_t ms = webhook_backoff_ms(4, 100, 10000, r * 2654435761u);

                lo = ms < lo ? ms : lo;
                hi = ms > hi ? ms : hi;
        }
        assert_true(lo < 450);
        assert_true(hi > 750);
}

static void test_backoff_degenerate_bounds(void **state)
{
        (void)state;
        assert_int_equal(webhook_backoff_ms(3, 0, 1000, 12345), 0);
        assert_int_equal(webhook_backoff_ms(3, 100, 0, 12345), 0);
        assert_true(webhook_backoff_ms(0, 100, 1000, 7) <= 100);
        /* No overflow with huge retry numbers and bounds. */
        assert_true(webhook_backoff_ms(4000000000u, 3600000, 3600000, 99) <= 3600000);
}

static void test_url_validation(void **state)
{
        char why[128];

        (void)state;
        assert_true(webhook_url_is_valid("http://127.0.0.1:8080/hook", why, sizeof(why)));
        assert_true(webhook_url_is_valid("https://example.com/a?b=c", why, sizeof(why)));
        assert_true(webhook_url_is_valid("HTTP://example.com", why, sizeof(why)));
        assert_false(webhook_url_is_valid("", why, sizeof(why)));
        assert_false(webhook_url_is_valid("ftp://example.com/", why, sizeof(why)));
        assert_string_equal(why, "must start with http:// or https://");
        assert_false(webhook_url_is_valid("file:///etc/passwd", why, sizeof(why)));
        assert_false(webhook_url_is_valid("example.com/hook", why, sizeof(why)));
        assert_false(webhook_url_is_valid("http://", why, sizeof(why)));
        assert_false(webhook_url_is_valid("http://exa mple.com/", why, sizeof(why)));
        assert_false(webhook_url_is_valid("http://example.com/\r\nX-Evil: 1", why, sizeof(why)));
        assert_false(webhook_url_is_valid(NULL, why, sizeof(why)));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_classify_http_statuses),
                cmocka_unit_test(test_classify_network_errors),
                cmocka_unit_test(test_backoff_grows_and_is_capped),
                cmocka_unit_test(test_backoff_jitter_spreads),
                cmocka_unit_test(test_backoff_degenerate_bounds),
                cmocka_unit_test(test_url_validation),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
