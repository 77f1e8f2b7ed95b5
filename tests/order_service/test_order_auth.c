/* API keys (auth.c): the file's rules, each refusal naming the entry and
 * never the key, and the match (Bearer, exact key, every key compared). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"

#define K1 "k1-0123456789abcdef"
#define K2 "k2-fedcba9876543210"

static void test_parse_lines_comments_and_commas(void **state)
{
        struct auth a;
        char errstr[256] = "";

        assert_int_equal(auth_parse(&a, "# keys\n\nalice:" K1 "\r\n"
                                        "  bob : x\n",
                                    errstr, sizeof(errstr)),
                         -1); /* "bob " has a blank: a bad name */
        assert_int_equal(auth_parse(&a, "# keys\n\nalice:" K1 "\r\n"
                                        " bob:" K2 " \n",
                                    errstr, sizeof(errstr)),
                         0);
        assert_int_equal(a.count, 2);
        assert_string_equal(a.keys[0].name, "alice");
        assert_string_equal(a.keys[1].name, "bob");
        auth_release(&a);
        assert_int_equal(auth_parse(&a, "alice:" K1 ",bob:" K2, errstr,
                                    sizeof(errstr)),
                         0);
        assert_int_equal(a.count, 2);
        auth_release(&a);
}

static void expect_refused(const char *text, const char *msg)
{
        struct auth a;
        char errstr[256] = "";

        assert_int_equal(auth_parse(&a, text, errstr, sizeof(errstr)), -1);
        if (!strstr(errstr, msg))
                fail_msg("'%s' does not say '%s'", errstr, msg);
        assert_null(strstr(errstr, "0123456789"));
        assert_null(strstr(errstr, "fedcba"));
        assert_null(a.keys);
}

static void test_parse_refusals_never_quote_a_key(void **state)
{
        expect_refused("alice" K1, "entry 1 is not name:key");
        expect_refused("alice:" K1 "\nalice:" K2, "entry 2: the name 'alice' "
                                                 "is used twice");
        expect_refused("alice:" K1 "\nbob:" K1, "entry 2 (bob): the same key "
                                               "as 'alice'");
        expect_refused("alice:short", "entry 1 (alice): the key must be 16 "
                                      "to 128");
        expect_refused("al ice:" K1, "entry 1: the name must be of");
        expect_refused(":" K1, "entry 1: the name must be 1 to 64");
        expect_refused("alice:0123456789 abcdef", "visible ASCII");
}

static void test_match_bearer_exact_key(void **state)
{
        struct auth a;
        char errstr[256];

        assert_int_equal(auth_parse(&a, "alice:" K1 "\nbob:" K2, errstr,
                                    sizeof(errstr)),
                         0);
        assert_string_equal(auth_match(&a, "Bearer " K1)->name, "alice");
        assert_string_equal(auth_match(&a, "bearer   " K2 " ")->name, "bob");
        assert_null(auth_match(&a, NULL));
        assert_null(auth_match(&a, ""));
        assert_null(auth_match(&a, K1));                    /* no scheme */
        assert_null(auth_match(&a, "Basic " K1));
        assert_null(auth_match(&a, "Bearer " K1 "x"));      /* longer */
        assert_null(auth_match(&a, "Bearer k1-0123456789abcde")); /* prefix */
        assert_null(auth_match(&a, "Bearer "));
        assert_null(auth_match(&a, "Bearer alice"));        /* the name */
        {
                char big[300];

                memset(big, 'x', sizeof(big) - 1);
                big[sizeof(big) - 1] = '\0';
                memcpy(big, "Bearer ", 7);
                assert_null(auth_match(&a, big));
        }
        assert_true(auth_is_enabled(&a));
        auth_release(&a);
        assert_false(auth_is_enabled(&a));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_lines_comments_and_commas),
                cmocka_unit_test(test_parse_refusals_never_quote_a_key),
                cmocka_unit_test(test_match_bearer_exact_key),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
