/* Logging: every line is one ECS JSON object that jansson parses back with
 * the values that went in, whatever those values hold; lines from several
 * threads stay whole; levels filter; long messages are not truncated; no
 * log4c rc file is read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <log4c/category.h>
#include <log4c/priority.h>
#include <log4c/rc.h>
#include <pthread.h>

#include "shared/jsonw.h"
#include "shared/log.h"

#define TS "2026-11-23T07:00:00.123Z"

/* Parse one line (with its '\n') strictly: one object, no duplicate keys,
 * no other newline. Returns a new reference. */
static json_t *parse_line(const char *line, size_t len)
{
        json_error_t err;
        json_t *root;

        assert_true(len > 0);
        assert_int_equal(line[len - 1], '\n');
        if (memchr(line, '\n', len - 1))
                fail_msg("line has an inner newline: %.*s", (int)len, line);
        assert_null(memchr(line, '\r', len));
        root = json_loadb(line, len - 1, JSON_REJECT_DUPLICATES, &err);
        if (!root)
                fail_msg("not JSON (%s): %.*s", err.text, (int)len, line);
        assert_true(json_is_object(root));
        return root;
}

static const char *get_str(const json_t *root, const char *key)
{
        const json_t *v = json_object_get(root, key);

        if (!json_is_string(v))
                fail_msg("'%s' is not a string", key);
        return json_string_value(v);
}

/* The ECS fields every line has, with their values. */
static void assert_base_fields(const json_t *root, const char *service,
                               const char *level)
{
        char dataset[128];

        snprintf(dataset, sizeof(dataset), "%s.log", service);
        assert_int_equal(strlen(get_str(root, "@timestamp")), strlen(TS));
        assert_int_equal(get_str(root, "@timestamp")[23], 'Z');
        assert_string_equal(get_str(root, "log.level"), level);
        assert_string_equal(get_str(root, "ecs.version"), ECS_VERSION);
        assert_string_equal(get_str(root, "service.name"), service);
        assert_string_equal(get_str(root, "event.dataset"), dataset);
        assert_int_equal(json_integer_value(json_object_get(root,
                                                            "process.pid")),
                         getpid());
}

/* Read everything from 'fd' (until EOF) into a new NUL-terminated buffer. */
static char *read_all(int fd, size_t *len_out)
{
        size_t len = 0, cap = 1 << 16;
        char *buf = malloc(cap);
        ssize_t n;

        assert_non_null(buf);
        while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
                len += (size_t)n;
                if (cap - len - 1 == 0) {
                        cap *= 2;
                        buf = realloc(buf, cap);
                        assert_non_null(buf);
                }
        }
        assert_true(n == 0);
        buf[len] = '\0';
        *len_out = len;
        return buf;
}

/* A temporary file, already unlinked. */
static int temp_fd(void)
{
        char path[] = "/tmp/test_log_XXXXXX";
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        unlink(path);
        return fd;
}

/* Everything written to 'fd' (a temp file) so far. */
static char *file_contents(int fd, size_t *len)
{
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        return read_all(fd, len);
}

/* Split 'buf' into lines; returns how many, sets *lines to a new array of
 * pointers into buf and *lens to their lengths (with '\n'). Fails on a
 * trailing partial line. */
static size_t split_lines(char *buf, size_t len, char ***lines,
                          size_t **lens)
{
        size_t n = 0, cap = 16, start = 0;

        *lines = malloc(cap * sizeof(**lines));
        *lens = malloc(cap * sizeof(**lens));
        for (size_t i = 0; i < len; i++) {
                if (buf[i] != '\n')
                        continue;
                if (n == cap) {
                        cap *= 2;
                        *lines = realloc(*lines, cap * sizeof(**lines));
                        *lens = realloc(*lens, cap * sizeof(**lens));
                }
                (*lines)[n] = buf + start;
                (*lens)[n] = i + 1 - start;
                n++;
                start = i + 1;
        }
        assert_int_equal(start, len); /* no partial line */
        return n;
}

static void test_format_line_has_the_ecs_fields_in_order(void **state)
{
        const struct log_field fields[] = {
                LOG_STR("order.id", "12345"),
                LOG_INT("kafka.partition", 3),
                LOG_STR("order.reason", NULL),
                LOG_INT("big", INT64_MIN),
        };
        size_t len;
        char *line = log_format_line("notification_service", LOG_LEVEL_WARN,
                                     TS, "sent", fields, 4, &len);
        json_t *root;

        assert_non_null(line);
        assert_int_equal(strlen(line), len);
        root = parse_line(line, len);
        assert_base_fields(root, "notification_service", "warn");
        assert_string_equal(get_str(root, "@timestamp"), TS);
        assert_string_equal(get_str(root, "message"), "sent");
        assert_string_equal(get_str(root, "order.id"), "12345");
        assert_int_equal(json_integer_value(json_object_get(root,
                                                            "kafka.partition")),
                         3);
        assert_true(json_is_null(json_object_get(root, "order.reason")));
        assert_true(json_integer_value(json_object_get(root, "big")) ==
                    INT64_MIN);
        assert_int_equal(json_object_size(root), 11);
        /* the documented order */
        assert_ptr_equal(strstr(line, "{\"@timestamp\":"), line);
        assert_true(strstr(line, "\"log.level\"") < strstr(line, "\"message\""));
        assert_true(strstr(line, "\"message\"") <
                    strstr(line, "\"ecs.version\""));
        assert_true(strstr(line, "\"event.dataset\"") <
                    strstr(line, "\"process.pid\""));
        assert_true(strstr(line, "\"process.pid\"") <
                    strstr(line, "\"order.id\""));
        json_decref(root);
        free(line);

        /* NULL timestamp: now, RFC 3339 UTC with milliseconds */
        line = log_format_line("s", LOG_LEVEL_INFO, NULL, "m", NULL, 0, &len);
        root = parse_line(line, len);
        assert_base_fields(root, "s", "info");
        json_decref(root);
        free(line);
}

struct hostile {
        const char *in;
        const char *want; /* what jansson must read back */
};

#define FFFD "\xef\xbf\xbd"

static const struct hostile hostile[] = {
        {"say \"hi\"", "say \"hi\""},
        {"a\nb\r\nc", "a\nb\r\nc"},
        {"\"}\n{\"forged\":1}", "\"}\n{\"forged\":1}"},
        {"\",\"forged\":1,\"x\":\"", "\",\"forged\":1,\"x\":\""},
        {"{\"forged\":1}", "{\"forged\":1}"},
        {"\x1b[31mred\x1b[0m\x1b]0;title\x07", "\x1b[31mred\x1b[0m\x1b]0;title\x07"},
        {"back\\slash\\", "back\\slash\\"},
        {"tab\tff\fbs\bdel\x7f", "tab\tff\fbs\bdel\x7f"},
        {"\xe2\x80\xa8js\xe2\x80\xa9", "\xe2\x80\xa8js\xe2\x80\xa9"},
        {"bad\xff\xc0\xafutf8\xed\xa0\x80", "bad" FFFD FFFD FFFD "utf8" FFFD FFFD FFFD},
        {"cut\xe2\x82", "cut" FFFD},
        {"%s%n%x", "%s%n%x"},
};

static void test_hostile_strings_stay_one_line(void **state)
{
        for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
                const struct log_field fields[] = {
                        LOG_STR("user.id", hostile[i].in),
                        LOG_STR(hostile[i].in, "key-is-hostile"),
                };
                size_t len;
                char *line = log_format_line("order_service", LOG_LEVEL_INFO,
                                             TS, hostile[i].in, fields, 2,
                                             &len);
                json_t *root = parse_line(line, len);

                assert_base_fields(root, "order_service", "info");
                assert_string_equal(get_str(root, "message"),
                                    hostile[i].want);
                assert_string_equal(get_str(root, "user.id"),
                                    hostile[i].want);
                assert_string_equal(get_str(root, hostile[i].want),
                                    "key-is-hostile");
                assert_null(json_object_get(root, "forged"));
                assert_int_equal(json_object_size(root), 9);
                json_decref(root);
                free(line);
        }
}

static void test_extra_fields_cannot_override_base_fields(void **state)
{
        const struct log_field fields[] = {
                LOG_STR("message", "forged"),
                LOG_STR("log.level", "error"),
                LOG_STR("service.name", "other"),
                LOG_INT("process.pid", 1),
                LOG_STR("ok", "kept"),
        };
        size_t len;
        char *line = log_format_line("svc", LOG_LEVEL_DEBUG, TS, "real",
                                     fields, 5, &len);
        json_t *root = parse_line(line, len); /* rejects duplicate keys */

        assert_base_fields(root, "svc", "debug");
        assert_string_equal(get_str(root, "message"), "real");
        assert_string_equal(get_str(root, "ok"), "kept");
        json_decref(root);
        free(line);
}

/* NUL: log_field strings and messages are C strings, so a NUL ends them;
 * a NUL in counted data is escaped by jsonw (jsonw_key_strn). */
static void test_nul_bytes(void **state)
{
        struct jsonw w;
        json_error_t err;
        json_t *root;
        size_t len;
        char *line;
        int fd = temp_fd();
        char errstr[128];

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_key_strn(&w, "v", "a\0\"}\n{\"forged\":1}", 17);
        jsonw_object_end(&w);
        assert_null(memchr(w.sb.buf, '\n', w.sb.len));
        root = json_loadb(w.sb.buf, w.sb.len, JSON_ALLOW_NUL, &err);
        assert_non_null(root);
        assert_int_equal(json_string_length(json_object_get(root, "v")), 17);
        assert_memory_equal(json_string_value(json_object_get(root, "v")),
                            "a\0\"}\n{\"forged\":1}", 17);
        json_decref(root);
        jsonw_release(&w);

        /* a formatted message with a NUL in it ends at the NUL */
        assert_int_equal(log_init("svc", LOG_LEVEL_INFO, fd, errstr,
                                  sizeof(errstr)),
                         0);
        log_printf(LOG_LEVEL_INFO, "a%cb\n{\"forged\":1}", '\0');
        log_fini();
        line = file_contents(fd, &len);
        root = parse_line(line, len);
        assert_string_equal(get_str(root, "message"), "a");
        json_decref(root);
        free(line);
        close(fd);
}

static void test_logger_writes_escaped_lines_to_its_fd(void **state)
{
        char errstr[128];
        int fd = temp_fd();
        char **lines;
        size_t *lens;
        size_t len, n;
        char *buf;

        assert_int_equal(log_init("processing_service", LOG_LEVEL_DEBUG, fd,
                                  errstr, sizeof(errstr)),
                         0);
        for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
                const struct log_field f[] = {LOG_STR("order.id",
                                                      hostile[i].in),
                                              LOG_INT("i", (long long)i)};
                log_write(LOG_LEVEL_ERROR, hostile[i].in, f, 2);
        }
        log_info("printf %d %s", 42, "\"}\n");
        log_fini();

        buf = file_contents(fd, &len);
        n = split_lines(buf, len, &lines, &lens);
        assert_int_equal(n, sizeof(hostile) / sizeof(hostile[0]) + 1);
        for (size_t i = 0; i + 1 < n; i++) {
                json_t *root = parse_line(lines[i], lens[i]);
                assert_base_fields(root, "processing_service", "error");
                assert_string_equal(get_str(root, "message"),
                                    hostile[i].want);
                assert_string_equal(get_str(root, "order.id"),
                                    hostile[i].want);
                assert_int_equal(json_integer_value(json_object_get(root, "i")),
                                 i);
                json_decref(root);
        }
        {
                json_t *root = parse_line(lines[n - 1], lens[n - 1]);
                assert_base_fields(root, "processing_service", "info");
                assert_string_equal(get_str(root, "message"),
                                    "printf 42 \"}\n");
                json_decref(root);
        }
        free(lines);
        free(lens);
        free(buf);
        close(fd);
}

static void test_level_filtering(void **state)
{
        char errstr[128];
        int fd = temp_fd();
        char **lines;
        size_t *lens;
        size_t len, n;
        char *buf;

        assert_int_equal(log_init("svc", LOG_LEVEL_WARN, fd, errstr,
                                  sizeof(errstr)),
                         0);
        assert_false(log_enabled(LOG_LEVEL_DEBUG));
        assert_false(log_enabled(LOG_LEVEL_INFO));
        assert_true(log_enabled(LOG_LEVEL_WARN));
        assert_true(log_enabled(LOG_LEVEL_ERROR));
        log_debug("d");
        log_info("i");
        log_warn("w");
        log_error("e");
        log_write(LOG_LEVEL_INFO, "i2", NULL, 0);
        log_write(LOG_LEVEL_WARN, "w2", NULL, 0);
        log_fini();

        buf = file_contents(fd, &len);
        n = split_lines(buf, len, &lines, &lens);
        assert_int_equal(n, 3);
        {
                const char *want[][2] = {
                        {"w", "warn"}, {"e", "error"}, {"w2", "warn"}};
                for (size_t i = 0; i < n; i++) {
                        json_t *root = parse_line(lines[i], lens[i]);
                        assert_string_equal(get_str(root, "message"),
                                            want[i][0]);
                        assert_string_equal(get_str(root, "log.level"),
                                            want[i][1]);
                        json_decref(root);
                }
        }
        free(lines);
        free(lens);
        free(buf);

        /* debug lets everything through */
        assert_int_equal(log_init("svc", LOG_LEVEL_DEBUG, fd, errstr,
                                  sizeof(errstr)),
                         0);
        assert_true(log_enabled(LOG_LEVEL_DEBUG));
        log_fini();
        close(fd);
}

static void test_long_message_not_truncated(void **state)
{
        size_t n = 100 * 1024, len;
        char *msg = malloc(n + 1);
        char errstr[128];
        int fd = temp_fd();
        char **lines;
        size_t *lens;
        char *buf;

        assert_non_null(msg);
        for (size_t i = 0; i < n; i++)
                msg[i] = (char)('a' + i % 26);
        msg[n] = '\0';
        msg[n / 3] = '\n'; /* escaped, so the line stays one line */
        assert_int_equal(log_init("svc", LOG_LEVEL_INFO, fd, errstr,
                                  sizeof(errstr)),
                         0);
        log_write(LOG_LEVEL_INFO, msg, NULL, 0);
        log_printf(LOG_LEVEL_INFO, "%s", msg);
        log_write(LOG_LEVEL_INFO, "short after long", NULL, 0);
        log_fini();

        buf = file_contents(fd, &len);
        assert_int_equal(split_lines(buf, len, &lines, &lens), 3);
        for (size_t i = 0; i < 2; i++) {
                json_t *root = parse_line(lines[i], lens[i]);
                assert_int_equal(strlen(get_str(root, "message")), n);
                assert_string_equal(get_str(root, "message"), msg);
                json_decref(root);
        }
        {
                json_t *root = parse_line(lines[2], lens[2]);
                assert_string_equal(get_str(root, "message"),
                                    "short after long");
                json_decref(root);
        }
        free(lines);
        free(lens);
        free(buf);
        free(msg);
        close(fd);
}

#define THREADS 4
#define LINES_PER_THREAD 2000

static void *log_thread(void *arg)
{
        long long t = (long long)(intptr_t)arg;
        char big[6000]; /* over PIPE_BUF, so a line can need several writes */

        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        for (long long i = 0; i < LINES_PER_THREAD; i++) {
                const struct log_field f[] = {
                        LOG_INT("thread", t),
                        LOG_INT("seq", i),
                        LOG_STR("pad", i % 50 == 0 ? big : "short\n\"x\""),
                };
                log_write(LOG_LEVEL_INFO, "concurrent \"line\"\n", f, 3);
        }
        return NULL;
}

/* Reads a pipe to EOF, so writers never block for long. */
struct pipe_reader {
        int fd;
        char *buf;
        size_t len;
};

static void *pipe_reader_run(void *arg)
{
        struct pipe_reader *r = arg;

        r->buf = read_all(r->fd, &r->len);
        return NULL;
}

static void check_concurrent_output(char *buf, size_t len)
{
        static bool seen[THREADS][LINES_PER_THREAD];
        char **lines;
        size_t *lens;
        size_t n = split_lines(buf, len, &lines, &lens);

        assert_int_equal(n, THREADS * LINES_PER_THREAD);
        memset(seen, 0, sizeof(seen));
        for (size_t i = 0; i < n; i++) {
                json_t *root = parse_line(lines[i], lens[i]);
                long long t = json_integer_value(json_object_get(root,
                                                                 "thread"));
                long long s = json_integer_value(json_object_get(root, "seq"));

                assert_string_equal(get_str(root, "message"),
                                    "concurrent \"line\"\n");
                assert_in_range(t, 0, THREADS - 1);
                assert_in_range(s, 0, LINES_PER_THREAD - 1);
                assert_false(seen[t][s]);
                seen[t][s] = true;
                assert_int_equal(strlen(get_str(root, "pad")),
                                 s % 50 == 0 ? 5999 : 9);
                json_decref(root);
        }
        free(lines);
        free(lens);
}

static void run_threads(void)
{
        pthread_t threads[THREADS];

        for (intptr_t t = 0; t < THREADS; t++)
                assert_int_equal(pthread_create(&threads[t], NULL, log_thread,
                                                (void *)t),
                                 0);
        for (int t = 0; t < THREADS; t++)
                assert_int_equal(pthread_join(threads[t], NULL), 0);
}

static void test_threads_to_a_file_give_whole_lines(void **state)
{
        char errstr[128];
        int fd = temp_fd();
        size_t len;
        char *buf;

        assert_int_equal(log_init("svc", LOG_LEVEL_INFO, fd, errstr,
                                  sizeof(errstr)),
                         0);
        run_threads();
        log_fini();
        buf = file_contents(fd, &len);
        check_concurrent_output(buf, len);
        free(buf);
        close(fd);
}

static void test_threads_to_a_pipe_give_whole_lines(void **state)
{
        struct pipe_reader reader = {0};
        pthread_t reader_thread;
        char errstr[128];
        int p[2];

        assert_int_equal(pipe(p), 0);
        reader.fd = p[0];
        assert_int_equal(pthread_create(&reader_thread, NULL, pipe_reader_run,
                                        &reader),
                         0);
        assert_int_equal(log_init("svc", LOG_LEVEL_INFO, p[1], errstr,
                                  sizeof(errstr)),
                         0);
        run_threads();
        log_fini();
        close(p[1]); /* EOF for the reader */
        assert_int_equal(pthread_join(reader_thread, NULL), 0);
        close(p[0]);
        check_concurrent_output(reader.buf, reader.len);
        free(reader.buf);
}

static void test_before_init_lines_go_to_stderr(void **state)
{
        int saved = dup(STDERR_FILENO);
        int p[2];
        size_t len;
        char *buf;
        json_t *root;

        assert_true(saved >= 0);
        assert_int_equal(pipe(p), 0);
        assert_int_equal(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
        close(p[1]);
        log_fini(); /* safe without log_init() */
        assert_false(log_enabled(LOG_LEVEL_DEBUG));
        log_debug("dropped");
        log_error("early \"%s\"", "x\ny");
        assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
        close(saved);
        buf = read_all(p[0], &len);
        close(p[0]);
        root = parse_line(buf, len);
        assert_string_equal(get_str(root, "message"), "early \"x\ny\"");
        assert_string_equal(get_str(root, "log.level"), "error");
        json_decref(root);
        free(buf);
}

static void test_init_rejects_bad_arguments(void **state)
{
        char errstr[128] = "";

        assert_int_equal(log_init("", LOG_LEVEL_INFO, 2, errstr,
                                  sizeof(errstr)),
                         -1);
        assert_true(strlen(errstr) > 0);
        assert_int_equal(log_init("svc", LOG_LEVEL_INFO, -1, errstr,
                                  sizeof(errstr)),
                         -1);
}

/* A ./log4crc (the file log4c_init() would read) has no effect on
 * log_init(); the file itself is valid, as loading it by hand shows. */
static void test_no_rc_file_is_read(void **state)
{
        static const char rc[] =
                "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
                "<!DOCTYPE log4c SYSTEM \"\">\n"
                "<log4c version=\"1.2.4\">\n"
                "  <config><bufsize>16</bufsize><reread>1</reread></config>\n"
                "  <category name=\"rc_probe\" priority=\"debug\"/>\n"
                "</log4c>\n";
        char dir[] = "/tmp/test_log_rc_XXXXXX";
        char cwd[4096], path[4200], errstr[128];
        int fd = temp_fd();
        FILE *f;
        size_t len;
        char *buf;
        json_t *root;

        assert_non_null(getcwd(cwd, sizeof(cwd)));
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/log4crc", dir);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(rc, f);
        fclose(f);
        assert_int_equal(chdir(dir), 0);
        setenv("LOG4C_RCPATH", dir, 1);

        assert_int_equal(log_init("svc", LOG_LEVEL_INFO, fd, errstr,
                                  sizeof(errstr)),
                         0);
        log_info("%s", "a message well over sixteen bytes long");
        assert_int_equal(log4c_category_get_priority(
                                 log4c_category_get("rc_probe")),
                         LOG4C_PRIORITY_NOTSET);
        assert_int_equal(log4c_rc->config.bufsize, 0);
        assert_int_equal(log4c_rc->config.reread, 0);
        log_fini();
        buf = file_contents(fd, &len);
        root = parse_line(buf, len);
        assert_string_equal(get_str(root, "message"),
                            "a message well over sixteen bytes long");
        json_decref(root);
        free(buf);

        /* control: the probe file works when log4c is asked to read it */
        assert_int_equal(log4c_load("log4crc"), 0);
        assert_int_equal(log4c_category_get_priority(
                                 log4c_category_get("rc_probe")),
                         LOG4C_PRIORITY_DEBUG);
        assert_int_equal(log4c_rc->config.bufsize, 16);
        /* and log_init() puts back what it needs */
        assert_int_equal(log_init("svc", LOG_LEVEL_INFO, fd, errstr,
                                  sizeof(errstr)),
                         0);
        assert_int_equal(log4c_rc->config.bufsize, 0);
        assert_int_equal(log4c_rc->config.reread, 0);
        log_fini();

        unsetenv("LOG4C_RCPATH");
        assert_int_equal(chdir(cwd), 0);
        unlink(path);
        rmdir(dir);
        close(fd);
}

/* The level names LOG_LEVEL takes, any case; nothing else. */
static void test_log_level_names(void **state)
{
        enum log_level level;

        (void)state;
        assert_int_equal(log_level_parse("error", &level), 0);
        assert_int_equal(level, LOG_LEVEL_ERROR);
        assert_int_equal(log_level_parse("Warn", &level), 0);
        assert_int_equal(level, LOG_LEVEL_WARN);
        assert_int_equal(log_level_parse("warning", &level), -1);
        assert_int_equal(log_level_parse(NULL, &level), -1);
        assert_string_equal(log_level_name(LOG_LEVEL_DEBUG), "debug");
        assert_string_equal(log_level_name(LOG_LEVEL_WARN), "warn");
        assert_string_equal(log_level_name((enum log_level)42), "unknown");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_log_level_names),
                cmocka_unit_test(test_format_line_has_the_ecs_fields_in_order),
                cmocka_unit_test(test_hostile_strings_stay_one_line),
                cmocka_unit_test(test_extra_fields_cannot_override_base_fields),
                cmocka_unit_test(test_nul_bytes),
                cmocka_unit_test(test_logger_writes_escaped_lines_to_its_fd),
                cmocka_unit_test(test_level_filtering),
                cmocka_unit_test(test_long_message_not_truncated),
                cmocka_unit_test(test_threads_to_a_file_give_whole_lines),
                cmocka_unit_test(test_threads_to_a_pipe_give_whole_lines),
                cmocka_unit_test(test_before_init_lines_go_to_stderr),
                cmocka_unit_test(test_init_rejects_bad_arguments),
                cmocka_unit_test(test_no_rc_file_is_read),
        };

        /* These lines are JSON whatever a developer's shell exports
         * (test_log_pretty covers the other form). */
        unsetenv("LOG_FORMAT");
        return cmocka_run_group_tests(tests, NULL, NULL);
}
