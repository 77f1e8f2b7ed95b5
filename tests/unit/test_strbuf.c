/* strbuf: appends keep the buffer NUL-terminated, a capped growth fails
 * and stays failed, detach hands the buffer over and re-inits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shared/strbuf.h"

static void test_appends(void **state)
{
        struct strbuf sb = STRBUF_INIT;
        size_t len;
        char *s;

        (void)state;
        strbuf_addstr(&sb, "ab");
        strbuf_addch(&sb, 'c');
        strbuf_add(&sb, "d\0e", 3);
        strbuf_addf(&sb, "-%d-%s", 42, "x");
        assert_false(sb.failed);
        assert_int_equal(sb.len, 11);
        assert_memory_equal(sb.buf, "abcd\0e-42-x", 12); /* with the NUL */
        strbuf_reset(&sb);
        assert_int_equal(sb.len, 0);
        assert_string_equal(sb.buf, "");
        for (int i = 0; i < 10000; i++)
                strbuf_addch(&sb, 'z');
        s = strbuf_detach(&sb, &len);
        assert_int_equal(len, 10000);
        assert_int_equal(strlen(s), 10000);
        assert_null(sb.buf);
        free(s);
}

static void test_capped_growth_is_sticky(void **state)
{
        struct strbuf sb = STRBUF_INIT;

        (void)state;
        assert_int_equal(strbuf_grow(&sb, 10, 64), 0);
        assert_int_equal(strbuf_grow(&sb, 100, 64), -1);
        assert_true(sb.failed);
        strbuf_addstr(&sb, "ignored");
        assert_int_equal(sb.len, 0);
        assert_null(strbuf_detach(&sb, NULL));
        strbuf_release(&sb);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_appends),
                cmocka_unit_test(test_capped_growth_is_sticky),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
