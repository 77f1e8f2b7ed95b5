/* The JSON writer: values round-trip through jansson, and no input can
 * break or forge a line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "shared/jsonw.h"

/* Parse w's buffer as one JSON object; fail when it is not exactly one
 * line. Returns a new reference. */
static json_t *parse_one_line(const char *buf, size_t len)
{
        json_error_t err;
        json_t *root;

        assert_non_null(buf);
        assert_int_equal(strlen(buf), len);
        assert_null(memchr(buf, '\n', len));
        assert_null(memchr(buf, '\r', len));
        root = json_loadb(buf, len, JSON_ALLOW_NUL, &err);
        if (!root)
                fail_msg("not JSON (%s): %s", err.text, buf);
        assert_true(json_is_object(root));
        return root;
}

/* Write {"v": <len bytes of s>} and return the parsed object. */
static json_t *roundtrip(const char *s, size_t len)
{
        struct jsonw w;
        json_t *root;

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_key_strn(&w, "v", s, len);
        jsonw_object_end(&w);
        assert_false(w.sb.failed);
        root = parse_one_line(w.sb.buf, w.sb.len);
        jsonw_release(&w);
        return root;
}

/* The string value of "v" after a round trip, as a new string. */
static char *roundtrip_value(const char *s, size_t len, size_t *out_len)
{
        json_t *root = roundtrip(s, len);
        json_t *v = json_object_get(root, "v");
        char *copy;

        assert_true(json_is_string(v));
        *out_len = json_string_length(v);
        copy = malloc(*out_len + 1);
        assert_non_null(copy);
        memcpy(copy, json_string_value(v), *out_len + 1);
        json_decref(root);
        return copy;
}

static void test_every_type_round_trips(void **state)
{
        struct jsonw w;
        json_t *root;

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_key_str(&w, "s", "laptop");
        jsonw_key_str(&w, "null_str", NULL);
        jsonw_key_int(&w, "min", INT64_MIN);
        jsonw_key_int(&w, "max", INT64_MAX);
        jsonw_key_int(&w, "zero", 0);
        jsonw_key_bool(&w, "t", true);
        jsonw_key_bool(&w, "f", false);
        jsonw_key_null(&w, "n");
        jsonw_key_raw(&w, "raw", "[1,{\"a\":2}]", 11);
        jsonw_key_str(&w, "order.id", "12345");
        jsonw_object_end(&w);
        root = parse_one_line(w.sb.buf, w.sb.len);

        assert_string_equal(json_string_value(json_object_get(root, "s")),
                            "laptop");
        assert_true(json_is_null(json_object_get(root, "null_str")));
        assert_true(json_integer_value(json_object_get(root, "min")) ==
                    INT64_MIN);
        assert_true(json_integer_value(json_object_get(root, "max")) ==
                    INT64_MAX);
        assert_int_equal(json_integer_value(json_object_get(root, "zero")), 0);
        assert_true(json_is_true(json_object_get(root, "t")));
        assert_true(json_is_false(json_object_get(root, "f")));
        assert_true(json_is_null(json_object_get(root, "n")));
        assert_int_equal(json_array_size(json_object_get(root, "raw")), 2);
        assert_string_equal(
                json_string_value(json_object_get(root, "order.id")), "12345");
        assert_int_equal(json_object_size(root), 10);
        json_decref(root);
        jsonw_release(&w);
}

static void test_empty_object_and_steal(void **state)
{
        struct jsonw w;
        size_t len;
        char *s;

        jsonw_init(&w);
        s = jsonw_steal(&w, &len);
        assert_non_null(s);
        assert_int_equal(len, 0);
        assert_string_equal(s, "");
        free(s);

        jsonw_object_begin(&w);
        jsonw_object_end(&w);
        jsonw_newline(&w);
        s = jsonw_steal(&w, &len);
        assert_string_equal(s, "{}\n");
        assert_int_equal(len, 3);
        assert_null(w.sb.buf); /* re-initialised: the buffer is ours now */
        assert_int_equal(w.sb.len, 0);
        free(s);
        jsonw_release(&w);
}

static void test_reset_keeps_memory(void **state)
{
        struct jsonw w;
        char *before;

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_key_int(&w, "a", 1);
        jsonw_object_end(&w);
        before = w.sb.buf;
        jsonw_reset(&w);
        assert_int_equal(w.sb.len, 0);
        assert_ptr_equal(w.sb.buf, before);
        jsonw_object_begin(&w);
        jsonw_key_int(&w, "b", 2);
        jsonw_object_end(&w);
        /* no stale comma from before the reset */
        assert_string_equal(w.sb.buf, "{\"b\":2}");
        jsonw_release(&w);
        jsonw_release(NULL);
}

static void test_short_escapes(void **state)
{
        struct jsonw w;

        jsonw_init(&w);
        jsonw_escape(&w, "a\"b\\c\n\r\t\b\f/", 11);
        assert_string_equal(w.sb.buf, "a\\\"b\\\\c\\n\\r\\t\\b\\f/");
        jsonw_release(&w);
}

static void test_other_controls_and_del_as_u_escapes(void **state)
{
        struct jsonw w;
        char in[33];
        size_t len;
        char *out;

        jsonw_init(&w);
        jsonw_escape(&w, "\x01\x1b[31m\x1f\x7f", 8);
        assert_string_equal(w.sb.buf, "\\u0001\\u001b[31m\\u001f\\u007f");
        jsonw_release(&w);

        for (int i = 0; i < 32; i++)
                in[i] = (char)i;
        in[32] = 0x7f;
        out = roundtrip_value(in, sizeof(in), &len);
        assert_int_equal(len, sizeof(in));
        assert_memory_equal(out, in, sizeof(in));
        free(out);
}

static void test_nul_inside_strn_is_u0000(void **state)
{
        struct jsonw w;
        size_t len;
        char *out;

        jsonw_init(&w);
        jsonw_escape(&w, "a\0b", 3);
        assert_int_equal(w.sb.len, 8);
        assert_string_equal(w.sb.buf, "a\\u0000b");
        jsonw_release(&w);

        out = roundtrip_value("x\0y\0", 4, &len);
        assert_int_equal(len, 4);
        assert_memory_equal(out, "x\0y\0", 4);
        free(out);
}

static void test_valid_utf8_passes_unchanged(void **state)
{
        const char *s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 "
                        "\xef\xbf\xbf \xf4\x8f\xbf\xbf \xed\x9f\xbf";
        struct jsonw w;
        size_t len;
        char *out;

        jsonw_init(&w);
        jsonw_escape(&w, s, strlen(s));
        assert_string_equal(w.sb.buf, s); /* copied, not escaped */
        jsonw_release(&w);

        out = roundtrip_value(s, strlen(s), &len);
        assert_string_equal(out, s);
        free(out);
}

static void test_line_separators_and_c1_escaped(void **state)
{
        struct jsonw w;
        size_t len;
        char *out;

        jsonw_init(&w);
        jsonw_escape(&w, "a\xe2\x80\xa8" "b\xe2\x80\xa9" "c\xc2\x85" "d", 12);
        assert_string_equal(w.sb.buf, "a\\u2028b\\u2029c\\u0085d");
        jsonw_release(&w);

        out = roundtrip_value("\xe2\x80\xa8\xc2\x9f", 5, &len);
        assert_int_equal(len, 5);
        assert_memory_equal(out, "\xe2\x80\xa8\xc2\x9f", 5);
        free(out);
}

struct bad_utf8 {
        const char *in;
        size_t len;
        const char *out; /* expected escaped form */
};

#define FFFD "\xef\xbf\xbd"

static void test_invalid_utf8_replaced(void **state)
{
        static const struct bad_utf8 cases[] = {
                {"a\x80z", 3, "a" FFFD "z"},            /* lone continuation */
                {"a\xffz", 3, "a" FFFD "z"},            /* never a lead byte */
                {"a\xc0\xafz", 4, "a" FFFD FFFD "z"},   /* overlong '/' */
                {"a\xc1\xbfz", 4, "a" FFFD FFFD "z"},   /* overlong */
                {"a\xe0\x80\xafz", 5, "a" FFFD FFFD FFFD "z"}, /* overlong */
                {"a\xf0\x80\x80\xafz", 6, "a" FFFD FFFD FFFD FFFD "z"},
                {"a\xed\xa0\x80z", 5, "a" FFFD FFFD FFFD "z"}, /* surrogate */
                {"a\xed\xbf\xbfz", 5, "a" FFFD FFFD FFFD "z"}, /* surrogate */
                {"a\xf4\x90\x80\x80z", 6, "a" FFFD FFFD FFFD FFFD "z"},
                {"a\xf5\x80\x80\x80z", 6, "a" FFFD FFFD FFFD FFFD "z"},
                {"a\xe2\x82z", 4, "a" FFFD "z"},        /* truncated 3 */
                {"a\xf0\x9f\x98z", 5, "a" FFFD "z"},    /* truncated 4 */
                {"a\xe2\x82", 3, "a" FFFD},             /* truncated at end */
                {"\xf0\x9f", 2, FFFD},
                {"\xc3", 1, FFFD},
                {"\xc3\"", 2, FFFD "\\\""},             /* eats no quote */
                {"\xe2\\", 2, FFFD "\\\\"},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct jsonw w;
                json_t *root;

                jsonw_init(&w);
                jsonw_escape(&w, cases[i].in, cases[i].len);
                if (strcmp(w.sb.buf, cases[i].out) != 0)
                        fail_msg("case %zu: got '%s'", i, w.sb.buf);
                jsonw_release(&w);
                root = roundtrip(cases[i].in, cases[i].len);
                json_decref(root);
        }
}

static void test_hostile_strings_give_one_parseable_line(void **state)
{
        static const struct {
                const char *s;
                size_t len;
        } hostile[] = {
                {"\"}\n{\"forged\":1}", 15},
                {"\",\"forged\":1,\"x\":\"", 18},
                {"line1\r\nline2\n", 13},
                {"\\", 1},
                {"\\\"", 2},
                {"\x1b]0;title\x07\x1b[2J", 15},
                {"\0\0\0", 3},
                {"\xe2\x80\xa8\xe2\x80\xa9\xc2\x85", 8},
                {"\xff\xfe\xfd\n\xc0", 5},
                {"\xed\xa0\x80\xed\xb0\x80", 6}, /* CESU-8 pair */
        };
        unsigned char all[256];

        for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
                struct jsonw w;
                json_t *root;

                jsonw_init(&w);
                jsonw_object_begin(&w);
                /* the key is escaped the same way */
                jsonw_key_strn(&w, hostile[i].s, hostile[i].s, hostile[i].len);
                jsonw_key_str(&w, "after", "ok");
                jsonw_object_end(&w);
                root = parse_one_line(w.sb.buf, w.sb.len);
                assert_int_equal(json_object_size(root), 2);
                assert_string_equal(
                        json_string_value(json_object_get(root, "after")),
                        "ok");
                assert_null(json_object_get(root, "forged"));
                json_decref(root);
                jsonw_release(&w);
        }

        /* Every byte value, twice, in one string. */
        for (int i = 0; i < 256; i++)
                all[i] = (unsigned char)i;
        json_decref(roundtrip((const char *)all, sizeof(all)));
}

static void test_random_bytes_always_parse(void **state)
{
        unsigned seed = 12345;
        char buf[64];

        for (int round = 0; round < 20000; round++) {
                size_t len = (size_t)(rand_r(&seed) % (int)sizeof(buf));
                for (size_t i = 0; i < len; i++)
                        buf[i] = (char)(rand_r(&seed) & 0xff);
                json_decref(roundtrip(buf, len));
        }
}

static void test_valid_random_utf8_round_trips(void **state)
{
        static const char *pieces[] = {"a", "\"", "\\", "\n", "\x01", "\x7f",
                                       "\xc3\xa9", "\xe2\x82\xac",
                                       "\xf0\x9f\x98\x80", "\xe2\x80\xa8",
                                       "\xc2\x80", "\xef\xbb\xbf"};
        unsigned seed = 7;

        for (int round = 0; round < 2000; round++) {
                char buf[256];
                size_t len = 0, out_len;
                int n = rand_r(&seed) % 40;
                char *out;

                for (int i = 0; i < n; i++) {
                        const char *p = pieces[rand_r(&seed) % 12];
                        memcpy(buf + len, p, strlen(p));
                        len += strlen(p);
                }
                out = roundtrip_value(buf, len, &out_len);
                assert_int_equal(out_len, len);
                assert_memory_equal(out, buf, len);
                free(out);
        }
}

static void test_large_value_grows_buffer(void **state)
{
        size_t n = 1 << 20, out_len;
        char *big = malloc(n);
        char *out;

        assert_non_null(big);
        for (size_t i = 0; i < n; i++)
                big[i] = (char)('a' + i % 26);
        big[n / 2] = '\n';
        out = roundtrip_value(big, n, &out_len);
        assert_int_equal(out_len, n);
        assert_memory_equal(out, big, n);
        free(out);
        free(big);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_type_round_trips),
                cmocka_unit_test(test_empty_object_and_steal),
                cmocka_unit_test(test_reset_keeps_memory),
                cmocka_unit_test(test_short_escapes),
                cmocka_unit_test(test_other_controls_and_del_as_u_escapes),
                cmocka_unit_test(test_nul_inside_strn_is_u0000),
                cmocka_unit_test(test_valid_utf8_passes_unchanged),
                cmocka_unit_test(test_line_separators_and_c1_escaped),
                cmocka_unit_test(test_invalid_utf8_replaced),
                cmocka_unit_test(test_hostile_strings_give_one_parseable_line),
                cmocka_unit_test(test_random_bytes_always_parse),
                cmocka_unit_test(test_valid_random_utf8_round_trips),
                cmocka_unit_test(test_large_value_grows_buffer),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
