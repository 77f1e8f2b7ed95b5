/* util: UTF-8 checks at every boundary of RFC 3629, UUID v4 shape and
 * uniqueness, RFC 3339 time stamps, monotonic clocks, write_all through
 * short writes, memdup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "shared/util.h"

struct utf8_case {
        const char *bytes;
        size_t len;
        bool valid;
        size_t chars; /* when valid */
};

#define U(s, valid, chars) { s, sizeof(s) - 1, valid, chars }

static const struct utf8_case utf8_cases[] = {
        U("", true, 0),
        U("plain ascii", true, 11),
        U("a\0b", true, 3), /* NUL is valid UTF-8 (a control, see below) */
        U("\x7f", true, 1),
        U("\xc2\x80", true, 1),             /* U+0080, smallest 2-byte */
        U("\xdf\xbf", true, 1),             /* U+07FF */
        U("\xe0\xa0\x80", true, 1),         /* U+0800, smallest 3-byte */
        U("\xed\x9f\xbf", true, 1),         /* U+D7FF, below surrogates */
        U("\xee\x80\x80", true, 1),         /* U+E000, above surrogates */
        U("\xef\xbf\xbf", true, 1),         /* U+FFFF */
        U("\xf0\x90\x80\x80", true, 1),     /* U+10000, smallest 4-byte */
        U("\xf4\x8f\xbf\xbf", true, 1),     /* U+10FFFF, the last */
        U("\xc3\xa9t\xc3\xa9 \xe2\x82\xac\xf0\x9f\x98\x80", true, 6),

        U("\x80", false, 0),                 /* lone continuation */
        U("\xbf", false, 0),
        U("\xc0\x80", false, 0),             /* overlong NUL */
        U("\xc1\xbf", false, 0),             /* overlong U+007F */
        U("\xe0\x80\x80", false, 0),         /* overlong 3-byte */
        U("\xe0\x9f\xbf", false, 0),         /* overlong U+07FF */
        U("\xf0\x80\x80\x80", false, 0),     /* overlong 4-byte */
        U("\xf0\x8f\xbf\xbf", false, 0),     /* overlong U+FFFF */
        U("\xed\xa0\x80", false, 0),         /* U+D800 */
        U("\xed\xbf\xbf", false, 0),         /* U+DFFF */
        U("\xed\xa0\xbd\xed\xb8\x80", false, 0), /* CESU-8 pair */
        U("\xf4\x90\x80\x80", false, 0),     /* U+110000 */
        U("\xf5\x80\x80\x80", false, 0),
        U("\xf8\x88\x80\x80\x80", false, 0), /* 5-byte form */
        U("\xfe", false, 0),
        U("\xff", false, 0),
        U("\xc3", false, 0),                 /* truncated 2-byte */
        U("\xe2\x82", false, 0),             /* truncated 3-byte */
        U("\xf0\x9f\x98", false, 0),         /* truncated 4-byte */
        U("\xe2\x28\xa1", false, 0),         /* bad continuation */
        U("\xc3\x28", false, 0),
        U("\xf0\x9f\x28\x80", false, 0),
        U("ok\xc3", false, 0),               /* cut at the end */
        U("\xc3\xa9\x80", false, 0),         /* extra continuation */
};

static void test_utf8_is_valid(void **state)
{
        size_t failed = 0;

        for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]);
             i++) {
                const struct utf8_case *c = &utf8_cases[i];
                /* An exact-size heap copy, so ASan catches any overread. */
                char *copy = malloc(c->len ? c->len : 1);
                size_t chars = (size_t)-1;
                bool valid;

                assert_non_null(copy);
                memcpy(copy, c->bytes, c->len);
                valid = utf8_is_valid(copy, c->len, &chars);
                if (valid != c->valid || (valid && chars != c->chars)) {
                        print_error("case %zu: valid %d chars %zu, expected "
                                    "%d %zu\n",
                                    i, valid, chars, c->valid, c->chars);
                        failed++;
                }
                /* chars may be NULL. */
                if (utf8_is_valid(copy, c->len, NULL) != c->valid)
                        failed++;
                free(copy);
        }
        assert_int_equal(failed, 0);
}

/* Only 'len' bytes are read: a valid sequence cut by len is invalid, and
 * bytes beyond len do not matter. */
static void test_utf8_respects_len(void **state)
{
        size_t chars;

        assert_false(utf8_is_valid("\xc3\xa9", 1, &chars));
        assert_false(utf8_is_valid("\xf0\x9f\x98\x80", 3, &chars));
        assert_true(utf8_is_valid("ab\xff", 2, &chars));
        assert_int_equal(chars, 2);
}

struct control_case {
        const char *bytes;
        size_t len;
        bool control;
};

#define C(s, control) { s, sizeof(s) - 1, control }

static const struct control_case control_cases[] = {
        C("", false),
        C("plain text with spaces ~", false),
        C("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", false),
        C("\xc2\xa0", false),         /* U+00A0 NBSP: not a control */
        C("\xc2\xbf", false),
        C("\xc4\x80", false),         /* U+0100 */
        C("\xe2\x80\xa8", false),     /* U+2028: not C0/C1 */
        C("a\0b", true),
        C("\x01", true),
        C("tab\there", true),
        C("new\nline", true),
        C("cr\r", true),
        C("\x1b[31m", true),
        C("\x1f", true),
        C("del\x7f", true),
        C("\xc2\x80", true),          /* U+0080, first C1 */
        C("x\xc2\x85y", true),        /* U+0085 NEL */
        C("\xc2\x9f", true),          /* U+009F, last C1 */
};

static void test_utf8_has_control(void **state)
{
        size_t failed = 0;

        for (size_t i = 0;
             i < sizeof(control_cases) / sizeof(control_cases[0]); i++) {
                const struct control_case *c = &control_cases[i];

                if (utf8_has_control(c->bytes, c->len) != c->control) {
                        print_error("control case %zu: expected %d\n", i,
                                    c->control);
                        failed++;
                }
        }
        assert_int_equal(failed, 0);
        /* Only 'len' bytes are looked at. */
        assert_false(utf8_has_control("ab\n", 2));
}

static bool is_hex(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx, lower-case hex. */
static void assert_uuid_v4(const char *u)
{
        assert_int_equal(strlen(u), 36);
        for (size_t i = 0; i < 36; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23)
                        assert_int_equal(u[i], '-');
                else if (!is_hex(u[i]))
                        fail_msg("not lower-case hex at %zu: %s", i, u);
        }
        assert_int_equal(u[14], '4');
        if (!strchr("89ab", u[19]))
                fail_msg("variant is not RFC 4122: %s", u);
}

static int compare_uuid(const void *a, const void *b)
{
        return strcmp(a, b);
}

#define UUID_COUNT 10000

/* Many ids: every one well-formed, no two alike, and the random bits do
 * vary (each hex position takes more than one value). */
static void test_uuid_v4_format_and_uniqueness(void **state)
{
        char (*ids)[37] = calloc(UUID_COUNT, sizeof(*ids));
        unsigned seen[36] = { 0 }; /* bitmask of hex digits per position */

        assert_non_null(ids);
        for (size_t i = 0; i < UUID_COUNT; i++) {
                assert_int_equal(uuid_v4(ids[i], sizeof(ids[i])), 0);
                assert_uuid_v4(ids[i]);
                for (size_t j = 0; j < 36; j++)
                        if (is_hex(ids[i][j]))
                                seen[j] |= 1u << (ids[i][j] <= '9'
                                                          ? ids[i][j] - '0'
                                                          : ids[i][j] - 'a' + 10);
        }
        qsort(ids, UUID_COUNT, sizeof(*ids), compare_uuid);
        for (size_t i = 1; i < UUID_COUNT; i++)
                if (strcmp(ids[i - 1], ids[i]) == 0)
                        fail_msg("duplicate uuid %s", ids[i]);
        for (size_t j = 0; j < 36; j++) {
                if (j == 8 || j == 13 || j == 18 || j == 23)
                        continue;
                if (j == 14)
                        assert_int_equal(seen[j], 1u << 4);
                else if (j == 19) /* 8, 9, a, b: all four over 10000 ids */
                        assert_int_equal(seen[j], 0xf00u);
                else /* 16 values, 10000 draws: all appear */
                        assert_int_equal(seen[j], 0xffffu);
        }
        free(ids);
}

/* A buffer too small is refused, and not written. */
static void test_uuid_v4_small_buffer(void **state)
{
        char buf[36];

        memset(buf, 'z', sizeof(buf));
        assert_int_equal(uuid_v4(buf, sizeof(buf)), -1);
        for (size_t i = 0; i < sizeof(buf); i++)
                assert_int_equal(buf[i], 'z');
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ", and it is now (UTC). */
static void test_time_now_rfc3339(void **state)
{
        static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
        char buf[32];
        struct tm tm;
        struct timespec before, after;
        time_t stamp;

        /* Not time(2): glibc reads a coarse clock that may lag behind. */
        clock_gettime(CLOCK_REALTIME, &before);
        memset(buf, 'z', sizeof(buf));
        time_now_rfc3339(buf, sizeof(buf));
        clock_gettime(CLOCK_REALTIME, &after);

        assert_int_equal(strlen(buf), sizeof(shape) - 1);
        for (size_t i = 0; i < sizeof(shape) - 1; i++) {
                if (shape[i] == 'd' ? !(buf[i] >= '0' && buf[i] <= '9')
                                    : buf[i] != shape[i])
                        fail_msg("not RFC 3339 UTC ms at %zu: %s", i, buf);
        }
        memset(&tm, 0, sizeof(tm));
        assert_int_equal(sscanf(buf, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year,
                                &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                                &tm.tm_min, &tm.tm_sec),
                         6);
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        stamp = timegm(&tm);
        assert_true(stamp >= before.tv_sec && stamp <= after.tv_sec);
}

/* Lexical order is time order: stamps taken in sequence never go back. */
static void test_time_now_rfc3339_ordered(void **state)
{
        char prev[32], cur[32];

        time_now_rfc3339(prev, sizeof(prev));
        for (int i = 0; i < 1000; i++) {
                time_now_rfc3339(cur, sizeof(cur));
                assert_true(strcmp(prev, cur) <= 0);
                memcpy(prev, cur, sizeof(cur));
        }
}

/* A small buffer gets a truncated, still NUL-terminated, string. */
static void test_time_now_rfc3339_small_buffer(void **state)
{
        char buf[8];

        memset(buf, 'z', sizeof(buf));
        time_now_rfc3339(buf, 5);
        assert_int_equal(strlen(buf), 4);
        assert_int_equal(buf[5], 'z');
}

/* Fixed instants: milliseconds kept, leap day, out-of-range years. */
static void test_time_format_rfc3339(void **state)
{
        static const struct {
                int64_t ms;
                const char *want;
        } cases[] = {
                { 0, "1970-01-01T00:00:00.000Z" },
                { 1795849200123LL, "2026-11-28T07:00:00.123Z" },
                { 951782400999LL, "2000-02-29T00:00:00.999Z" },
                { 253402300799999LL, "9999-12-31T23:59:59.999Z" },
                { 253402300800000LL, "1970-01-01T00:00:00.000Z" },
                { -1, "1970-01-01T00:00:00.000Z" },
        };
        char buf[32];

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                time_format_rfc3339(cases[i].ms, buf, sizeof(buf));
                assert_string_equal(buf, cases[i].want);
        }
}

static void test_monotonic_clocks(void **state)
{
        int64_t us0 = time_monotonic_us();
        int64_t ms0 = time_monotonic_ms();
        struct timespec pause = { 0, 20 * 1000 * 1000 };
        int64_t us1, ms1;

        /* Here a sleep is the behaviour under test: time must pass. */
        nanosleep(&pause, NULL);
        us1 = time_monotonic_us();
        ms1 = time_monotonic_ms();
        assert_true(us1 - us0 >= 20000);
        assert_true(ms1 - ms0 >= 19); /* ms0 was read a little after us0 */
        assert_true(ms1 - ms0 < 10000);
        /* The same clock: ms1, read just after us1, is us1 in ms. */
        assert_true(ms1 >= us1 / 1000 && ms1 - us1 / 1000 < 1000);
}

/* A non-blocking pipe smaller than the line forces short writes and
 * EAGAIN: every byte still arrives, in order. */
static void test_write_all_through_short_writes(void **state)
{
        int fds[2];
        size_t len = 1 << 20, got = 0;
        char *big = malloc(len), *back = malloc(len);
        pid_t pid;

        (void)state;
        for (size_t i = 0; i < len; i++)
                big[i] = (char)('a' + i % 26);
        assert_int_equal(pipe(fds), 0);
        fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(fds[0]);
                _exit(write_all(fds[1], big, len, -1) == 0 ? 0 : 1);
        }
        close(fds[1]);
        for (;;) {
                ssize_t n = read(fds[0], back + got, len - got);

                if (n <= 0)
                        break;
                got += (size_t)n;
        }
        close(fds[0]);
        assert_int_equal(got, len);
        assert_memory_equal(big, back, len);
        free(big);
        free(back);
}

/* memdup copies exactly and adds a NUL, also for zero bytes. */
static void test_memdup(void **state)
{
        char *c;

        (void)state;
        c = memdup("ab\0cd", 5);
        assert_non_null(c);
        assert_memory_equal(c, "ab\0cd", 5);
        assert_int_equal(c[5], '\0');
        free(c);
        c = memdup(NULL, 0);
        assert_non_null(c);
        assert_int_equal(c[0], '\0');
        free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_utf8_is_valid),
                cmocka_unit_test(test_utf8_respects_len),
                cmocka_unit_test(test_utf8_has_control),
                cmocka_unit_test(test_uuid_v4_format_and_uniqueness),
                cmocka_unit_test(test_uuid_v4_small_buffer),
                cmocka_unit_test(test_time_now_rfc3339),
                cmocka_unit_test(test_time_now_rfc3339_ordered),
                cmocka_unit_test(test_time_now_rfc3339_small_buffer),
                cmocka_unit_test(test_time_format_rfc3339),
                cmocka_unit_test(test_monotonic_clocks),
                cmocka_unit_test(test_write_all_through_short_writes),
                cmocka_unit_test(test_memdup),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
