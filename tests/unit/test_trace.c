/* trace: the one traceparent parser. Well-formed values of version 00 and
 * of later versions are accepted and give their trace id; every malformed
 * one (case, zeros, version ff, lengths, separators, control characters)
 * is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shared/trace.h"

#define TRACEPARENT "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

static bool valid(const char *tp)
{
        return traceparent_parse(tp, NULL, 0);
}

static void test_traceparent_valid(void **state)
{
        assert_true(valid(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        assert_true(valid(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"));
        /* A later version may carry more fields after a dash. */
        assert_true(valid(
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz"));
}

static void test_traceparent_malformed(void **state)
{
        static const char *const bad[] = {
                "",
                "00",
                "garbage",
                /* upper-case hex */
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                /* all-zero trace id, all-zero parent id */
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                /* version ff is forbidden; version 00 has no extra fields */
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
                /* wrong separators and lengths */
                "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nX: y",
        };

        assert_false(valid(NULL));
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (valid(bad[i]))
                        fail_msg("accepted '%s'", bad[i]);
}

static void test_trace_id_accepts_only_valid_traceparents(void **state)
{
        char id[TRACE_ID_SIZE];

        (void)state;
        assert_true(traceparent_parse(TRACEPARENT, id, sizeof(id)));
        assert_string_equal(id, "0af7651916cd43dd8448eb211c80319c");
        /* A later version may append fields. */
        assert_true(traceparent_parse("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-xyz",
                                 id, sizeof(id)));
        assert_false(traceparent_parse(NULL, id, sizeof(id)));
        assert_false(traceparent_parse("", id, sizeof(id)));
        assert_false(traceparent_parse(TRACEPARENT "-x", id, sizeof(id)));
        assert_false(traceparent_parse("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
                                  id, sizeof(id)));
        assert_false(traceparent_parse("00-00000000000000000000000000000000-b7ad6b7169203331-01",
                                  id, sizeof(id)));
        assert_false(traceparent_parse("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
                                  id, sizeof(id)));
        assert_false(traceparent_parse("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                                  id, sizeof(id)));
        assert_false(traceparent_parse("00-0af7651916cd43dd8448eb211c8031\n9c-b7ad6b7169203331-01",
                                  id, sizeof(id)));
        assert_false(traceparent_parse("00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                                  id, sizeof(id)));
        assert_false(traceparent_parse(TRACEPARENT, id, 10)); /* buffer too small */
}

/* Longer than TRACEPARENT_MAX_BYTES: not passed on, whatever follows. */
static void test_traceparent_too_long(void **state)
{
        char tp[TRACEPARENT_MAX_BYTES + 8];

        (void)state;
        memset(tp, 'a', sizeof(tp) - 1);
        tp[sizeof(tp) - 1] = '\0';
        memcpy(tp, TRACEPARENT, TRACEPARENT_LEN);
        tp[1] = '1'; /* version 01: extra fields allowed */
        tp[TRACEPARENT_LEN] = '-';
        tp[TRACEPARENT_MAX_BYTES] = '\0';
        assert_true(valid(tp));
        tp[TRACEPARENT_MAX_BYTES] = 'a';
        assert_false(valid(tp));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_traceparent_valid),
                cmocka_unit_test(test_traceparent_malformed),
                cmocka_unit_test(test_trace_id_accepts_only_valid_traceparents),
                cmocka_unit_test(test_traceparent_too_long),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
