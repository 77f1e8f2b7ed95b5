/* Line output: lines are appended to both sinks, and reopening follows a file moved away (logrotate). */
#include <fcntl.h>
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

#include "line_out.h"

static char dir[64];

static int setup(void **state)
{
        (void)state;
        snprintf(dir, sizeof(dir), "/tmp/test_line_out.XXXXXX");
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
        char path[128];

        (void)state;
        snprintf(path, sizeof(path), "%s/lines", dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/lines.1", dir);
        unlink(path);
        rmdir(dir);
        return 0;
}

static size_t slurp(const char *path, char *buf, size_t size)
{
        FILE *f = fopen(path, "rb");
        size_t n;

        if (!f)
                return 0;
        n = fread(buf, 1, size, f);
        fclose(f);
        return n;
}

static void test_lines_go_to_both_sinks_and_reopen_follows_rotation(void **state)
{
        char path[128], moved[128], buf[256], errstr[256];
        int fds[2];
        struct line_out out;
        unsigned mask = 0;

        (void)state;
        snprintf(path, sizeof(path), "%s/lines", dir);
        snprintf(moved, sizeof(moved), "%s/lines.1", dir);
        assert_int_equal(pipe(fds), 0);
        assert_int_equal(line_out_init(&out, fds[1], path, errstr, sizeof(errstr)), 0);
        assert_int_equal(line_out_write(&out, "a\n", 2, &mask, errstr, sizeof(errstr)), 0);
        assert_int_equal(mask, LINE_OUT_STDOUT | LINE_OUT_FILE);
        assert_int_equal(rename(path, moved), 0);
        mask = 0;
        line_out_write(&out, "b\n", 2, &mask, errstr, sizeof(errstr));
        assert_int_equal(line_out_reopen(&out, errstr, sizeof(errstr)), 0);
        mask = 0;
        line_out_write(&out, "c\n", 2, &mask, errstr, sizeof(errstr));
        assert_int_equal(slurp(moved, buf, sizeof(buf)), 4);
        assert_memory_equal(buf, "a\nb\n", 4);
        assert_int_equal(slurp(path, buf, sizeof(buf)), 2);
        assert_memory_equal(buf, "c\n", 2);
        assert_int_equal(read(fds[0], buf, sizeof(buf)), 6);
        assert_memory_equal(buf, "a\nb\nc\n", 6);
        line_out_release(&out);
        close(fds[0]);
        close(fds[1]);
}

/* A sink already written is not written again when another failed. */
static void test_retry_writes_only_failed_sink(void **state)
{
        char path[128], buf[64], errstr[256];
        int fds[2];
        struct line_out out;
        unsigned mask = LINE_OUT_STDOUT;

        (void)state;
        snprintf(path, sizeof(path), "%s/lines", dir);
        unlink(path);
        assert_int_equal(pipe(fds), 0);
        assert_int_equal(line_out_init(&out, fds[1], path, errstr, sizeof(errstr)), 0);
        assert_int_equal(line_out_write(&out, "z\n", 2, &mask, errstr, sizeof(errstr)), 0);
        close(fds[1]);
        assert_int_equal(read(fds[0], buf, sizeof(buf)), 0); /* nothing on stdout */
        assert_int_equal(slurp(path, buf, sizeof(buf)), 2);
        line_out_release(&out);
        close(fds[0]);
}

static void test_unwritable_path_is_an_error_naming_it(void **state)
{
        char errstr[256];
        struct line_out out;

        (void)state;
        assert_int_equal(line_out_init(&out, 1, "/nonexistent-dir/x.log", errstr,
                                       sizeof(errstr)), -1);
        assert_non_null(strstr(errstr, "NOTIFICATION_LOG_FILE"));
        assert_non_null(strstr(errstr, "/nonexistent-dir/x.log"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lines_go_to_both_sinks_and_reopen_follows_rotation),
                cmocka_unit_test(test_retry_writes_only_failed_sink),
                cmocka_unit_test(test_unwritable_path_is_an_error_naming_it),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
