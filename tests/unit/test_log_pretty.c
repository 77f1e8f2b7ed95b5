/* The terminal log format (LOG_FORMAT=pretty): a line parses back, with the
 * grammar of log_pretty.h, into the record that went in, whatever its
 * values hold; no value can add a line or write an escape sequence; the
 * level is the only thing in colour; the formatter cuts like snprintf(3);
 * log_init() picks the form by LOG_FORMAT and the terminal; config_load()
 * refuses an unknown LOG_FORMAT. */
/* posix_openpt(), grantpt(), unlockpt(), ptsname(): XSI */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <wchar.h>

#include <cmocka.h>

#include "shared/config.h"
#include "shared/log.h"
#include "shared/log_pretty.h"

#define TS "2026-12-03T19:23:30.123Z"
#define MAX_FIELDS 16

/* ---- a parser of the grammar in log_pretty.h, written from it ---------- */

struct record {
        char *timestamp;
        char level[6]; /* as written, trailing blank removed */
        char *message;
        size_t nfields;
        char *keys[MAX_FIELDS];
        char *values[MAX_FIELDS]; /* NULL: written as key= */
};

static void record_free(struct record *r)
{
        free(r->timestamp);
        free(r->message);
        for (size_t i = 0; i < r->nfields; i++) {
                free(r->keys[i]);
                free(r->values[i]);
        }
        memset(r, 0, sizeof(*r));
}

static char *copy(const char *s, size_t n)
{
        char *c = malloc(n + 1);

        assert_non_null(c);
        memcpy(c, s, n);
        c[n] = '\0';
        return c;
}

static int hex_digit(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        fail_msg("bad hex digit '%c'", c);
        return 0;
}

/* Decode the quoted string at *p (on its '"'); *p ends after the closing
 * quote. Returns a new string. */
static char *parse_quoted(const char **p)
{
        char *out = malloc(strlen(*p) * 4 + 1);
        const char *s = *p + 1;
        size_t n = 0;

        assert_non_null(out);
        while (*s != '"') {
                unsigned char c = (unsigned char)*s;
                if (c == '\0' || c < 0x20 || c == 0x7f)
                        fail_msg("raw control byte 0x%02x or no closing quote",
                                 c);
                if (c != '\\') {
                        out[n++] = *s++;
                        continue;
                }
                s++;
                switch (*s) {
                case '\\': out[n++] = '\\'; s++; break;
                case '"': out[n++] = '"'; s++; break;
                case 'n': out[n++] = '\n'; s++; break;
                case 'r': out[n++] = '\r'; s++; break;
                case 't': out[n++] = '\t'; s++; break;
                case 'x':
                        out[n++] = (char)(hex_digit(s[1]) * 16 + hex_digit(s[2]));
                        s += 3;
                        break;
                case 'u': {
                        unsigned cp = 0;
                        char mb[MB_LEN_MAX];
                        mbstate_t st;
                        size_t k;
                        for (int i = 1; i <= 4; i++)
                                cp = cp * 16 + (unsigned)hex_digit(s[i]);
                        memset(&st, 0, sizeof(st));
                        k = wcrtomb(mb, (wchar_t)cp, &st);
                        assert_true(k != (size_t)-1);
                        memcpy(out + n, mb, k);
                        n += k;
                        s += 5;
                        break;
                }
                default:
                        fail_msg("unknown escape '\\%c'", *s);
                }
        }
        *p = s + 1;
        out[n] = '\0';
        return out;
}

/* Remove the SGR sequences (ESC [ digits/';' m); any other ESC fails. */
static char *strip_sgr(const char *line)
{
        char *out = copy(line, strlen(line));
        size_t n = 0;

        for (const char *s = line; *s;) {
                if (*s != '\033') {
                        out[n++] = *s++;
                        continue;
                }
                assert_int_equal(s[1], '[');
                s += 2;
                while ((*s >= '0' && *s <= '9') || *s == ';')
                        s++;
                assert_int_equal(*s, 'm');
                s++;
        }
        out[n] = '\0';
        return out;
}

/* Every byte of 'line' (SGR removed) is printable ASCII or valid UTF-8 of a
 * printable character, but for the final '\n'. Checked with the C
 * library's decoder, not ours. */
static void assert_printable(const char *line)
{
        size_t len = strlen(line);
        mbstate_t st;

        assert_true(len > 0);
        assert_int_equal(line[len - 1], '\n');
        memset(&st, 0, sizeof(st));
        for (size_t i = 0; i + 1 < len;) {
                wchar_t wc;
                size_t k = mbrtowc(&wc, line + i, len - 1 - i, &st);
                if (k == (size_t)-1 || k == (size_t)-2 || k == 0)
                        fail_msg("invalid UTF-8 at byte %zu of %s", i, line);
                if (wc < 0x20 || wc == 0x7f || (wc >= 0x80 && wc <= 0x9f) ||
                    wc == 0x2028 || wc == 0x2029 ||
                    (wc >= 0x202a && wc <= 0x202e) ||
                    (wc >= 0x2066 && wc <= 0x2069))
                        fail_msg("U+%04x written raw at byte %zu",
                                 (unsigned)wc, i);
                i += k;
        }
}

/* Parse one whole line (with its '\n') into 'r'; fails the test on any
 * departure from the grammar. */
static void parse_pretty(const char *line, struct record *r)
{
        char *plain = strip_sgr(line);
        const char *p = plain, *sp, *eq;

        memset(r, 0, sizeof(*r));
        assert_printable(plain);
        sp = strchr(p, ' ');
        assert_non_null(sp);
        r->timestamp = copy(p, (size_t)(sp - p));
        p = sp + 1;
        assert_true(strlen(p) > 6 && p[5] == ' ');
        memcpy(r->level, p, 5);
        if (r->level[4] == ' ')
                r->level[4] = '\0';
        p += 6;
        if (*p == '"') {
                r->message = parse_quoted(&p);
        } else {
                /* bare: no '=' in it, so fields start after the last blank
                 * before the first '=' */
                const char *end = p + strlen(p) - 1; /* the '\n' */
                eq = strchr(p, '=');
                if (eq) {
                        end = eq;
                        while (end > p && end[-1] != ' ')
                                end--;
                        assert_true(end > p);
                        end--;
                }
                assert_true(end > p);
                r->message = copy(p, (size_t)(end - p));
                p = end;
        }
        while (*p == ' ') {
                size_t i = r->nfields++;
                p++;
                assert_true(i < MAX_FIELDS);
                eq = strchr(p, '=');
                assert_non_null(eq);
                assert_true(eq > p);
                assert_null(memchr(p, ' ', (size_t)(eq - p)));
                r->keys[i] = copy(p, (size_t)(eq - p));
                p = eq + 1;
                if (*p == '"') {
                        r->values[i] = parse_quoted(&p);
                } else {
                        size_t n = strcspn(p, " \n");
                        if (n > 0)
                                r->values[i] = copy(p, n);
                        assert_null(memchr(p, '"', n));
                        assert_null(memchr(p, '\\', n));
                        p += n;
                }
        }
        assert_string_equal(p, "\n");
        free(plain);
}

/* ---- helpers ------------------------------------------------------------ */

/* The line for a record, in a new buffer sized by a first call. */
static char *format(const char *message, const struct log_field *fields,
                    size_t nfields, enum log_level level, bool colour)
{
        size_t n = log_pretty_format(NULL, 0, TS, level, message, fields,
                                     nfields, colour);
        char *buf = malloc(n + 1);

        assert_non_null(buf);
        assert_int_equal(log_pretty_format(buf, n + 1, TS, level, message,
                                           fields, nfields, colour),
                         n);
        assert_int_equal(strlen(buf), n);
        return buf;
}

/* The key as the formatter writes it. */
static void sanitize_key(const char *key, char *out, size_t size)
{
        size_t n = 0;

        for (const char *k = key; *k && n + 1 < size; k++)
                out[n++] = (strchr("._-@", *k) && *k) ||
                                           (*k >= 'a' && *k <= 'z') ||
                                           (*k >= 'A' && *k <= 'Z') ||
                                           (*k >= '0' && *k <= '9')
                                   ? *k
                                   : '_';
        if (n == 0)
                out[n++] = '_';
        out[n] = '\0';
}

/* Format, parse back, compare with what went in. */
static void assert_round_trip(const char *message,
                              const struct log_field *fields, size_t nfields,
                              enum log_level level, bool colour)
{
        static const char *const names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
        char *line = format(message, fields, nfields, level, colour);
        struct record r;
        size_t k = 0;

        parse_pretty(line, &r);
        assert_string_equal(r.timestamp, TS);
        assert_string_equal(r.level, names[level]);
        assert_string_equal(r.message, message ? message : "");
        for (size_t i = 0; i < nfields; i++) {
                char key[256], num[24];
                if (!fields[i].key)
                        continue;
                assert_true(k < r.nfields);
                sanitize_key(fields[i].key, key, sizeof(key));
                assert_string_equal(r.keys[k], key);
                if (fields[i].type == LOG_FIELD_INT) {
                        snprintf(num, sizeof(num), "%lld", fields[i].num);
                        assert_string_equal(r.values[k], num);
                } else if (!fields[i].str) {
                        assert_null(r.values[k]);
                } else {
                        assert_non_null(r.values[k]);
                        assert_string_equal(r.values[k], fields[i].str);
                }
                k++;
        }
        assert_int_equal(k, r.nfields);
        record_free(&r);
        free(line);
}

/* ---- tests -------------------------------------------------------------- */

static void test_a_plain_line_reads_as_documented(void **state)
{
        const struct log_field f[] = {
                LOG_STR("order.id", "12345"),
                LOG_INT("http.response.status_code", 202),
                LOG_STR("user.id", "a b"),
                LOG_STR("error.message", NULL),
                LOG_STR("empty", ""),
                LOG_STR("url", "http://x/?a=b"),
        };
        char *line = format("order accepted", f, 6, LOG_LEVEL_INFO, false);

        assert_string_equal(line, TS " INFO  order accepted order.id=12345 "
                                     "http.response.status_code=202 "
                                     "user.id=\"a b\" error.message= "
                                     "empty=\"\" url=http://x/?a=b\n");
        free(line);
        line = format("k=v looks like a field", NULL, 0, LOG_LEVEL_ERROR,
                      false);
        assert_string_equal(line,
                            TS " ERROR \"k=v looks like a field\"\n");
        free(line);
}

static void test_only_the_level_is_in_colour(void **state)
{
        const struct log_field f[] = {LOG_STR("k", "v")};
        static const char *const want[] = {
                "\033[2mDEBUG\033[0m m k=v\n",
                "\033[32mINFO\033[0m  m k=v\n",
                "\033[33mWARN\033[0m  m k=v\n",
                "\033[1;31mERROR\033[0m m k=v\n",
        };

        for (int level = LOG_LEVEL_DEBUG; level <= LOG_LEVEL_ERROR; level++) {
                char *line = format("m", f, 1, (enum log_level)level, true);
                char *plain = format("m", f, 1, (enum log_level)level, false);
                char *stripped = strip_sgr(line);
                assert_string_equal(line + strlen(TS " "), want[level]);
                assert_string_equal(stripped, plain);
                free(stripped);
                free(plain);
                free(line);
        }
}

/* Values that try to end the line, colour or clear the terminal, pose as a
 * field or another line, or are not text at all. */
static const char *const hostile[] = {
        "",
        " ",
        "null",
        "two words",
        " leading",
        "trailing ",
        "a=b",
        "x\n" TS " ERROR forged k=v",
        "cr\rover",
        "\033[2J\033[31mred",
        "bell\a tab\t del\x7f",
        "q\"uote and back\\slash",
        "\" k=v",
        "\\x41 not an escape",
        "\xff\xfe invalid \xc3 utf-8 \xed\xa0\x80 surrogate \xc0\xaf overlong",
        "\xc2\x9b" "31m C1 CSI",
        "line\xe2\x80\xa8separator",
        "bidi \xe2\x80\xae override \xe2\x81\xa6 isolate",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
        "=",
        "==",
        "\"",
};

static void test_hostile_values_parse_back_unchanged(void **state)
{
        const size_t n = sizeof(hostile) / sizeof(hostile[0]);

        for (size_t i = 0; i < n; i++) {
                const struct log_field f[] = {
                        LOG_STR("order.id", hostile[i]),
                        LOG_STR(hostile[i], "key"),
                        LOG_STR("after", hostile[(i + 1) % n]),
                        LOG_INT("n", -42),
                };
                assert_round_trip(hostile[i], f, 4, LOG_LEVEL_WARN, false);
                assert_round_trip(hostile[i], f, 4, LOG_LEVEL_ERROR, true);
        }
}

/* Random bytes (no NUL) in the message, keys and values, many times, with
 * a fixed seed: each line parses back into its record. */
static void test_random_records_parse_back_unchanged(void **state)
{
        static const char interesting[] = " =\"\\\n\r\t\033\x7f\x80\xc2\x9b\xe2";
        unsigned seed = 14;
        char strs[2 * MAX_FIELDS + 1][48];

        for (int round = 0; round < 3000; round++) {
                struct log_field f[MAX_FIELDS];
                size_t nfields = (size_t)rand_r(&seed) % MAX_FIELDS;

                for (size_t s = 0; s < 2 * nfields + 1; s++) {
                        size_t len = (size_t)rand_r(&seed) % 40, i;
                        for (i = 0; i < len; i++) {
                                int r = rand_r(&seed);
                                char c = r % 3 == 0
                                                 ? interesting[(r / 3) % (sizeof(interesting) - 1)]
                                                 : (char)(1 + (r / 3) % 255);
                                strs[s][i] = c;
                        }
                        strs[s][i] = '\0';
                }
                for (size_t i = 0; i < nfields; i++) {
                        int kind = rand_r(&seed) % 8;
                        f[i] = kind == 0   ? LOG_INT(strs[2 * i + 1], rand_r(&seed) - RAND_MAX / 2)
                               : kind == 1 ? LOG_STR(strs[2 * i + 1], NULL)
                                           : LOG_STR(strs[2 * i + 1], strs[2 * i + 2]);
                }
                assert_round_trip(strs[0], f, nfields,
                                  (enum log_level)(round % 4), round % 2);
        }
}

static void test_formats_like_snprintf(void **state)
{
        const struct log_field f[] = {LOG_STR("order.id", "12345"),
                                      LOG_STR(NULL, "skipped")};
        char *whole = format("m", f, 2, LOG_LEVEL_INFO, false);
        size_t len = strlen(whole);
        char buf[64];

        assert_null(strstr(whole, "skipped"));
        for (size_t size = 1; size <= len + 1; size++) {
                memset(buf, 'Z', sizeof(buf));
                assert_int_equal(log_pretty_format(buf, size, TS,
                                                   LOG_LEVEL_INFO, "m", f, 2,
                                                   false),
                                 len);
                assert_int_equal(strlen(buf), size - 1);
                assert_memory_equal(buf, whole, size - 1);
        }
        assert_int_equal(log_pretty_format(NULL, 0, NULL, LOG_LEVEL_INFO, NULL,
                                           NULL, 0, false),
                         strlen("- INFO  \"\"\n"));
        free(whole);
}

/* ---- the choice: LOG_FORMAT and the terminal ---------------------------- */

/* One line logged through log_init() on 'wfd', read back from 'rfd'. */
static char *log_one_line(int wfd, int rfd)
{
        char errstr[128], buf[4096];
        ssize_t n;
        size_t len = 0;

        assert_int_equal(log_init("svc", LOG_LEVEL_INFO, wfd, errstr,
                                  sizeof(errstr)),
                         0);
        log_write(LOG_LEVEL_WARN, "hello there",
                  (struct log_field[]){LOG_STR("order.id", "1 2")}, 1);
        log_fini();
        while (len == 0 || buf[len - 1] != '\n') {
                n = read(rfd, buf + len, sizeof(buf) - 1 - len);
                assert_true(n > 0);
                len += (size_t)n;
        }
        buf[len] = '\0';
        return copy(buf, len);
}

static void assert_is_json(const char *line)
{
        assert_int_equal(line[0], '{');
        assert_non_null(strstr(line, "\"message\":\"hello there\""));
}

static void assert_is_pretty(const char *line, bool colour)
{
        struct record r;

        assert_true(strncmp(line, "20", 2) == 0);
        assert_true((strchr(line, '\033') != NULL) == colour);
        parse_pretty(line, &r);
        assert_string_equal(r.level, "WARN");
        assert_string_equal(r.message, "hello there");
        assert_int_equal(r.nfields, 1);
        assert_string_equal(r.values[0], "1 2");
        record_free(&r);
}

static void test_log_init_picks_the_form(void **state)
{
        int pipefd[2], master, slave;
        char *line;

        assert_int_equal(pipe(pipefd), 0);
        unsetenv("LOG_FORMAT");
        line = log_one_line(pipefd[1], pipefd[0]);
        assert_is_json(line); /* not a terminal */
        free(line);
        setenv("LOG_FORMAT", "pretty", 1);
        line = log_one_line(pipefd[1], pipefd[0]);
        assert_is_pretty(line, false); /* no colour codes into a pipe */
        free(line);

        master = posix_openpt(O_RDWR | O_NOCTTY);
        assert_true(master >= 0);
        assert_int_equal(grantpt(master), 0);
        assert_int_equal(unlockpt(master), 0);
        slave = open(ptsname(master), O_RDWR | O_NOCTTY);
        assert_true(slave >= 0);
        {
                /* raw: the terminal must not turn '\n' into "\r\n" */
                struct termios t;
                assert_int_equal(tcgetattr(slave, &t), 0);
                cfmakeraw(&t);
                assert_int_equal(tcsetattr(slave, TCSANOW, &t), 0);
        }
        unsetenv("LOG_FORMAT");
        line = log_one_line(slave, master);
        assert_is_pretty(line, true);
        free(line);
        setenv("LOG_FORMAT", "JSON", 1);
        line = log_one_line(slave, master);
        assert_is_json(line);
        free(line);
        unsetenv("LOG_FORMAT");
        close(slave);
        close(master);
        close(pipefd[0]);
        close(pipefd[1]);
}

static void test_config_refuses_an_unknown_log_format(void **state)
{
        static const struct config_defaults defaults = {
                .service_name = "order_service",
                .http_port = 8001,
        };
        char errstr[CONFIG_ERRSTR_SIZE];
        enum log_format format;
        struct config cfg;

        setenv("LOG_FORMAT", "loud\n\033[2J", 1);
        assert_int_equal(config_load(&cfg, &defaults, errstr, sizeof(errstr)),
                         -1);
        assert_non_null(strstr(errstr, "LOG_FORMAT: unknown log format '"));
        assert_non_null(strstr(errstr, "(expected pretty, json)"));
        assert_null(strpbrk(errstr, "\n\033"));
        setenv("LOG_FORMAT", "Pretty", 1);
        assert_int_equal(config_load(&cfg, &defaults, errstr, sizeof(errstr)),
                         0);
        assert_int_equal(cfg.log_format, LOG_FORMAT_PRETTY);
        config_release(&cfg);
        setenv("LOG_FORMAT", "", 1); /* empty is unset, as everywhere */
        assert_int_equal(config_load(&cfg, &defaults, errstr, sizeof(errstr)),
                         0);
        assert_int_equal(cfg.log_format, LOG_FORMAT_AUTO);
        config_release(&cfg);
        unsetenv("LOG_FORMAT");
        assert_int_equal(log_format_parse("json", &format), 0);
        assert_int_equal(format, LOG_FORMAT_JSON);
        assert_int_equal(log_format_parse("auto", &format), -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_a_plain_line_reads_as_documented),
                cmocka_unit_test(test_only_the_level_is_in_colour),
                cmocka_unit_test(test_hostile_values_parse_back_unchanged),
                cmocka_unit_test(test_random_records_parse_back_unchanged),
                cmocka_unit_test(test_formats_like_snprintf),
                cmocka_unit_test(test_log_init_picks_the_form),
                cmocka_unit_test(test_config_refuses_an_unknown_log_format),
        };

        /* The parser checks UTF-8 with the C library's decoder. */
        if (!setlocale(LC_CTYPE, "C.UTF-8"))
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
