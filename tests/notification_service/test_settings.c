/* notification_service's own settings: defaults, and a bad value names
 * its variable (main() then exits 2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "settings.h"

static const char *const vars[] = {
        "NOTIFICATION_LOG_FILE", "NOTIFY_WEBHOOK_URL", "NOTIFY_TIMEOUT_MS",
        "NOTIFY_CONNECT_TIMEOUT_MS", "NOTIFY_RETRY_LIMIT", "NOTIFY_RETRY_BASE_MS",
        "NOTIFY_RETRY_MAX_MS", "NOTIFY_WORKERS", "NOTIFY_QUEUE_SIZE",
        "NOTIFY_COMMIT_INTERVAL_MS",
};

static int clear_env(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
                unsetenv(vars[i]);
        return 0;
}

static void test_defaults(void **state)
{
        struct notification_settings s;
        char errstr[256];

        (void)state;
        assert_int_equal(notification_settings_load(&s, errstr, sizeof(errstr)), 0);
        assert_null(s.log_file);
        assert_null(s.webhook_url);
        assert_int_equal(s.timeout_ms, 5000);
        assert_int_equal(s.connect_timeout_ms, 2000);
        assert_int_equal(s.retry_limit, 5);
        assert_int_equal(s.retry_base_ms, 200);
        assert_int_equal(s.retry_max_ms, 10000);
        assert_int_equal(s.workers, 4);
        assert_int_equal(s.queue_size, 1000);
        assert_int_equal(s.commit_interval_ms, 1000);
        notification_settings_release(&s);
}

static void test_values_are_read(void **state)
{
        struct notification_settings s;
        char errstr[256];

        (void)state;
        setenv("NOTIFICATION_LOG_FILE", "/var/log/notifications.log", 1);
        setenv("NOTIFY_WEBHOOK_URL", "https://hooks.example.com/n?t=1", 1);
        setenv("NOTIFY_RETRY_LIMIT", "0", 1);
        setenv("NOTIFY_WORKERS", "16", 1);
        assert_int_equal(notification_settings_load(&s, errstr, sizeof(errstr)), 0);
        assert_string_equal(s.log_file, "/var/log/notifications.log");
        assert_string_equal(s.webhook_url, "https://hooks.example.com/n?t=1");
        assert_int_equal(s.retry_limit, 0);
        assert_int_equal(s.workers, 16);
        notification_settings_release(&s);
}

static void test_bad_number_names_variable(void **state)
{
        struct notification_settings s;
        char errstr[256];

        (void)state;
        setenv("NOTIFY_WORKERS", "0", 1);
        assert_int_equal(notification_settings_load(&s, errstr, sizeof(errstr)), -1);
        assert_non_null(strstr(errstr, "NOTIFY_WORKERS"));
        setenv("NOTIFY_WORKERS", "4", 1);
        setenv("NOTIFY_TIMEOUT_MS", "soon", 1);
        assert_int_equal(notification_settings_load(&s, errstr, sizeof(errstr)), -1);
        assert_non_null(strstr(errstr, "NOTIFY_TIMEOUT_MS"));
}

static void test_bad_url_names_variable_not_url(void **state)
{
        struct notification_settings s;
        char errstr[256];

        (void)state;
        setenv("NOTIFY_WEBHOOK_URL", "ftp://user:secret@example.com/", 1);
        assert_int_equal(notification_settings_load(&s, errstr, sizeof(errstr)), -1);
        assert_non_null(strstr(errstr, "NOTIFY_WEBHOOK_URL"));
        assert_null(strstr(errstr, "secret")); /* credentials stay out of logs */
        assert_null(s.webhook_url);            /* released on failure */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_defaults, clear_env),
                cmocka_unit_test_setup(test_values_are_read, clear_env),
                cmocka_unit_test_setup(test_bad_number_names_variable, clear_env),
                cmocka_unit_test_setup(test_bad_url_names_variable_not_url, clear_env),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
