/* Configuration: defaults, bounds, one-line errors naming the variable, the
 * KAFKA_* passthrough checked by librdkafka, and .env precedence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "shared/config.h"
#include "shared/dotenv.h"
#include "test_tmpfile.h"
#include "shared/log.h"

extern char **environ;

static const char *const shared_vars[] = {
        "ORDERS_TOPIC", "NOTIFICATIONS_TOPIC", "HTTP_PORT", "LOG_LEVEL",
        "TOPIC_PARTITIONS", "TOPIC_REPLICATION_FACTOR", "MAX_QUANTITY",
        "DOTENV_A", "DOTENV_B", "DOTENV_C", "DOTENV_D", "DOTENV_E",
        "DOTENV_F", "DOTENV_G", "DOTENV_H", "DOTENV_I", "T_INT", "T_DUR", "T_BOOL",
        "T_STR",
};

static const struct config_defaults processing = {
        .service_name = "processing_service",
        .group_id = "processing-service",
        .http_port = 8002,
};

static const struct config_defaults order = {
        .service_name = "order_service",
        .group_id = NULL,
        .http_port = 8001,
};

/* Every test starts from an environment without our variables and without
 * any KAFKA_* variable. */
static int clean_env(void **state)
{
        char names[64][128];
        size_t n = 0;

        for (size_t i = 0; i < sizeof(shared_vars) / sizeof(shared_vars[0]);
             i++)
                unsetenv(shared_vars[i]);
        do {
                n = 0;
                for (char **e = environ; *e && n < 64; e++) {
                        const char *eq = strchr(*e, '=');
                        if (strncmp(*e, "KAFKA_", 6) == 0 && eq &&
                            (size_t)(eq - *e) < sizeof(names[0])) {
                                memcpy(names[n], *e, (size_t)(eq - *e));
                                names[n][eq - *e] = '\0';
                                n++;
                        }
                }
                for (size_t i = 0; i < n; i++)
                        unsetenv(names[i]);
        } while (n > 0);
        return 0;
}

/* config_load must fail with exactly 'expected' as its message. */
static void expect_load_error(const char *expected)
{
        char errstr[CONFIG_ERRSTR_SIZE];
        struct config cfg;

        errstr[0] = '\0';
        assert_int_equal(config_load(&cfg, &processing, errstr,
                                     sizeof(errstr)),
                         -1);
        assert_string_equal(errstr, expected);
        /* released on failure */
        assert_null(cfg.bootstrap_servers);
        assert_null(cfg.kafka_props);
}

/* config_load must fail with a one-line message starting with 'prefix'. */
static void expect_load_error_prefix(const char *prefix, char *errstr,
                                     size_t errstr_size)
{
        struct config cfg;

        errstr[0] = '\0';
        assert_int_equal(config_load(&cfg, &processing, errstr, errstr_size),
                         -1);
        if (strncmp(errstr, prefix, strlen(prefix)) != 0)
                fail_msg("'%s' does not start with '%s'", errstr, prefix);
        assert_null(strchr(errstr, '\n'));
        assert_null(strchr(errstr, '\r'));
}

static void load_ok(struct config *cfg, const struct config_defaults *d)
{
        char errstr[CONFIG_ERRSTR_SIZE] = "";

        if (config_load(cfg, d, errstr, sizeof(errstr)) != 0)
                fail_msg("config_load: %s", errstr);
}

static void test_defaults_follow_the_contract(void **state)
{
        struct config cfg;

        load_ok(&cfg, &processing);
        assert_string_equal(cfg.bootstrap_servers, "localhost:9092");
        assert_string_equal(cfg.group_id, "processing-service");
        assert_string_equal(cfg.auto_offset_reset, "earliest");
        assert_string_equal(cfg.orders_topic, "orders");
        assert_string_equal(cfg.notifications_topic, "notifications");
        assert_int_equal(cfg.http_port, 8002);
        assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
        assert_int_equal(cfg.topic_partitions, 6);
        assert_int_equal(cfg.topic_replication_factor, 1);
        assert_int_equal(cfg.kafka_props_count, 0);
        config_release(&cfg);

        load_ok(&cfg, &order);
        assert_null(cfg.group_id); /* order_service has no group */
        assert_int_equal(cfg.http_port, 8001);
        config_release(&cfg);
        config_release(NULL);
}

static void test_environment_overrides_every_default(void **state)
{
        struct config cfg;

        setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092", 1);
        setenv("KAFKA_GROUP_ID", "g1", 1);
        setenv("KAFKA_AUTO_OFFSET_RESET", "latest", 1);
        setenv("ORDERS_TOPIC", "my.orders_v1-x", 1);
        setenv("NOTIFICATIONS_TOPIC", "n", 1);
        setenv("HTTP_PORT", "65535", 1);
        setenv("LOG_LEVEL", "DEBUG", 1);
        setenv("TOPIC_PARTITIONS", "10000", 1);
        setenv("TOPIC_REPLICATION_FACTOR", "3", 1);
        load_ok(&cfg, &order);
        assert_string_equal(cfg.bootstrap_servers, "k1:9092,k2:9092");
        assert_string_equal(cfg.group_id, "g1");
        assert_string_equal(cfg.auto_offset_reset, "latest");
        assert_string_equal(cfg.orders_topic, "my.orders_v1-x");
        assert_string_equal(cfg.notifications_topic, "n");
        assert_int_equal(cfg.http_port, 65535);
        assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
        assert_int_equal(cfg.topic_partitions, 10000);
        assert_int_equal(cfg.topic_replication_factor, 3);
        /* the shared KAFKA_* variables are not passed through */
        assert_int_equal(cfg.kafka_props_count, 0);
        config_release(&cfg);
}

static void test_empty_value_means_default(void **state)
{
        struct config cfg;

        setenv("HTTP_PORT", "", 1);
        setenv("LOG_LEVEL", "", 1);
        setenv("ORDERS_TOPIC", "", 1);
        setenv("KAFKA_CLIENT_ID", "", 1);
        load_ok(&cfg, &processing);
        assert_int_equal(cfg.http_port, 8002);
        assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
        assert_string_equal(cfg.orders_topic, "orders");
        assert_int_equal(cfg.kafka_props_count, 0);
        config_release(&cfg);
}

static void test_http_port_bounds_and_strict_numbers(void **state)
{
        static const struct {
                const char *value, *error;
        } bad[] = {
                {"70000", "HTTP_PORT: '70000' is out of range 1..65535"},
                {"0", "HTTP_PORT: '0' is out of range 1..65535"},
                {"-1", "HTTP_PORT: '-1' is out of range 1..65535"},
                {"99999999999999999999999",
                 "HTTP_PORT: '99999999999999999999999' is out of range "
                 "1..65535"},
                {"abc", "HTTP_PORT: 'abc' is not an integer"},
                {"80x", "HTTP_PORT: '80x' is not an integer"},
                {" 80", "HTTP_PORT: ' 80' is not an integer"},
                {"80 ", "HTTP_PORT: '80 ' is not an integer"},
                {"+80", "HTTP_PORT: '+80' is not an integer"},
                {"0x50", "HTTP_PORT: '0x50' is not an integer"},
                {"8.0", "HTTP_PORT: '8.0' is not an integer"},
                {"-", "HTTP_PORT: '-' is not an integer"},
        };
        struct config cfg;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                setenv("HTTP_PORT", bad[i].value, 1);
                expect_load_error(bad[i].error);
        }
        setenv("HTTP_PORT", "1", 1);
        load_ok(&cfg, &processing);
        assert_int_equal(cfg.http_port, 1);
        config_release(&cfg);
        setenv("HTTP_PORT", "08080", 1); /* leading zeros are decimal */
        load_ok(&cfg, &processing);
        assert_int_equal(cfg.http_port, 8080);
        config_release(&cfg);
}

static void test_topic_counts_bounded(void **state)
{
        setenv("TOPIC_PARTITIONS", "0", 1);
        expect_load_error("TOPIC_PARTITIONS: '0' is out of range 1..10000");
        unsetenv("TOPIC_PARTITIONS");
        setenv("TOPIC_REPLICATION_FACTOR", "33", 1);
        expect_load_error(
                "TOPIC_REPLICATION_FACTOR: '33' is out of range 1..32");
        setenv("TOPIC_REPLICATION_FACTOR", "three", 1);
        expect_load_error(
                "TOPIC_REPLICATION_FACTOR: 'three' is not an integer");
}

static void test_log_level(void **state)
{
        struct config cfg;

        setenv("LOG_LEVEL", "shouting", 1);
        expect_load_error("LOG_LEVEL: unknown log level 'shouting' (expected "
                          "debug, info, warn, error)");
        setenv("LOG_LEVEL", "Warn", 1);
        load_ok(&cfg, &processing);
        assert_int_equal(cfg.log_level, LOG_LEVEL_WARN);
        config_release(&cfg);
}

static void test_auto_offset_reset_values(void **state)
{
        setenv("KAFKA_AUTO_OFFSET_RESET", "smallest", 1);
        expect_load_error("KAFKA_AUTO_OFFSET_RESET: unknown value 'smallest' "
                          "(expected earliest, latest, error)");
        setenv("KAFKA_AUTO_OFFSET_RESET", "Latest", 1);
        expect_load_error("KAFKA_AUTO_OFFSET_RESET: unknown value 'Latest' "
                          "(expected earliest, latest, error)");
}

static void test_topic_names(void **state)
{
        static const char *const bad[] = {"orders topic", "a/b", ".", "..",
                                          "caf\xc3\xa9", "a:b"};
        char errstr[CONFIG_ERRSTR_SIZE];
        char name[251];
        struct config cfg;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                setenv("NOTIFICATIONS_TOPIC", bad[i], 1);
                expect_load_error_prefix("NOTIFICATIONS_TOPIC: ", errstr,
                                         sizeof(errstr));
                assert_non_null(strstr(errstr, "is not a valid topic name"));
        }
        unsetenv("NOTIFICATIONS_TOPIC");
        /* 245 at most, so that "<topic>.dlq" is still a topic name. */
        memset(name, 'x', 250);
        name[246] = '\0';
        setenv("ORDERS_TOPIC", name, 1);
        expect_load_error_prefix("ORDERS_TOPIC: ", errstr, sizeof(errstr));
        assert_non_null(strstr(errstr, "1 to 245"));
        name[245] = '\0';
        setenv("ORDERS_TOPIC", name, 1);
        load_ok(&cfg, &processing);
        assert_int_equal(strlen(cfg.orders_topic), 245);
        config_release(&cfg);
}

static void test_errors_are_one_line_whatever_the_value(void **state)
{
        char errstr[CONFIG_ERRSTR_SIZE];
        char long_value[1000];

        setenv("LOG_LEVEL", "x\ny\r\x1b[2J'z", 1);
        expect_load_error_prefix("LOG_LEVEL: unknown log level", errstr,
                                 sizeof(errstr));
        assert_null(strchr(errstr, '\x1b'));
        unsetenv("LOG_LEVEL");

        /* a long value is cut, not the message */
        memset(long_value, '9', sizeof(long_value) - 1);
        long_value[sizeof(long_value) - 1] = '\0';
        setenv("HTTP_PORT", long_value, 1);
        expect_load_error_prefix("HTTP_PORT: '999", errstr, sizeof(errstr));
        assert_non_null(strstr(errstr, "...' is out of range 1..65535"));
        unsetenv("HTTP_PORT");

        setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092\nk2:9092", 1);
        expect_load_error_prefix("KAFKA_BOOTSTRAP_SERVERS: value contains a "
                                 "control character",
                                 errstr, sizeof(errstr));
}

static void test_kafka_passthrough(void **state)
{
        struct config cfg;

        setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL", 1);
        setenv("KAFKA_SASL_MECHANISMS", "PLAIN", 1);
        setenv("KAFKA_CLIENT_ID", "me", 1);
        setenv("KAFKA_GROUP_ID", "shared-not-passed", 1);
        load_ok(&cfg, &processing);
        assert_int_equal(cfg.kafka_props_count, 3);
        /* sorted by variable */
        assert_string_equal(cfg.kafka_props[0].env, "KAFKA_CLIENT_ID");
        assert_string_equal(cfg.kafka_props[0].name, "client.id");
        assert_string_equal(cfg.kafka_props[0].value, "me");
        assert_string_equal(cfg.kafka_props[1].env, "KAFKA_SASL_MECHANISMS");
        assert_string_equal(cfg.kafka_props[1].name, "sasl.mechanisms");
        assert_string_equal(cfg.kafka_props[2].env,
                            "KAFKA_SECURITY_PROTOCOL");
        assert_string_equal(cfg.kafka_props[2].name, "security.protocol");
        assert_string_equal(cfg.kafka_props[2].value, "SASL_SSL");
        assert_string_equal(cfg.group_id, "shared-not-passed");
        config_release(&cfg);
}

static void test_kafka_unknown_property_is_an_error(void **state)
{
        char errstr[CONFIG_ERRSTR_SIZE];

        setenv("KAFKA_CLIENT_ID", "fine", 1);
        setenv("KAFKA_NOT_A_THING", "1", 1);
        expect_load_error_prefix("KAFKA_NOT_A_THING: ", errstr,
                                 sizeof(errstr));
        /* librdkafka's own errstr, naming the property */
        assert_non_null(strstr(errstr, "No such configuration property"));
        assert_non_null(strstr(errstr, "not.a.thing"));
}

static void test_kafka_bad_value_is_an_error(void **state)
{
        char errstr[CONFIG_ERRSTR_SIZE];

        setenv("KAFKA_SECURITY_PROTOCOL", "carrier_pigeon", 1);
        expect_load_error_prefix("KAFKA_SECURITY_PROTOCOL: ", errstr,
                                 sizeof(errstr));
        assert_non_null(strstr(errstr, "security.protocol"));
        unsetenv("KAFKA_SECURITY_PROTOCOL");

        setenv("KAFKA_MESSAGE_TIMEOUT_MS", "soon", 1);
        expect_load_error_prefix("KAFKA_MESSAGE_TIMEOUT_MS: ", errstr,
                                 sizeof(errstr));
        assert_non_null(strstr(errstr, "message.timeout.ms"));
}

static void test_get_int(void **state)
{
        char errstr[CONFIG_ERRSTR_SIZE];
        long long v = 0;

        assert_int_equal(config_get_int("T_INT", 100, 1, 1000000, &v, errstr,
                                        sizeof(errstr)),
                         0);
        assert_int_equal(v, 100);
        setenv("T_INT", "-5", 1);
        assert_int_equal(config_get_int("T_INT", 0, -10, 10, &v, errstr,
                                        sizeof(errstr)),
                         0);
        assert_int_equal(v, -5);
        setenv("T_INT", "9223372036854775807", 1);
        assert_int_equal(config_get_int("T_INT", 0, 0, INT64_MAX, &v, errstr,
                                        sizeof(errstr)),
                         0);
        assert_true(v == INT64_MAX);
        setenv("T_INT", "9223372036854775808", 1);
        assert_int_equal(config_get_int("T_INT", 0, 0, INT64_MAX, &v, errstr,
                                        sizeof(errstr)),
                         -1);
        assert_string_equal(errstr, "T_INT: '9223372036854775808' is out of "
                                    "range 0..9223372036854775807");
        setenv("T_INT", "12k", 1);
        v = 7;
        assert_int_equal(config_get_int("T_INT", 0, 0, 100, &v, errstr,
                                        sizeof(errstr)),
                         -1);
        assert_string_equal(errstr, "T_INT: '12k' is not an integer");
        assert_int_equal(v, 7); /* untouched on error */
}

static void test_get_duration(void **state)
{
        static const struct {
                const char *v;
                long long ms;
        } good[] = {
                {"0", 0}, {"250ms", 250}, {"90s", 90000}, {"15m", 900000},
                {"2h", 7200000}, {"7d", 604800000},
        };
        static const char *const bad[] = {"7", "7 d", "-1d", "d", "7w",
                                          "1.5h", "99999999999999999999d"};
        char errstr[CONFIG_ERRSTR_SIZE];
        long long v = 0;

        assert_int_equal(config_get_duration_ms("T_DUR", 42, 0, INT64_MAX, &v,
                                                errstr, sizeof(errstr)),
                         0);
        assert_int_equal(v, 42);
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                setenv("T_DUR", good[i].v, 1);
                assert_int_equal(config_get_duration_ms("T_DUR", 1, 0,
                                                        INT64_MAX, &v, errstr,
                                                        sizeof(errstr)),
                                 0);
                assert_true(v == good[i].ms);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                setenv("T_DUR", bad[i], 1);
                assert_int_equal(config_get_duration_ms("T_DUR", 1, 0,
                                                        INT64_MAX, &v, errstr,
                                                        sizeof(errstr)),
                                 -1);
                assert_non_null(strstr(errstr, "is not a duration"));
                assert_null(strchr(errstr, '\n'));
        }
        setenv("T_DUR", "500ms", 1);
        assert_int_equal(config_get_duration_ms("T_DUR", 1, 1000, 2000, &v,
                                                errstr, sizeof(errstr)),
                         -1);
        assert_string_equal(errstr,
                            "T_DUR: '500ms' is out of range 1000ms..2000ms");
}

static void test_get_bool(void **state)
{
        static const char *const truths[] = {"true", "TRUE", "1", "yes", "On"};
        static const char *const lies[] = {"false", "0", "No", "off"};
        char errstr[CONFIG_ERRSTR_SIZE];
        bool v = false;

        assert_int_equal(config_get_bool("T_BOOL", true, &v, errstr,
                                         sizeof(errstr)),
                         0);
        assert_true(v);
        for (size_t i = 0; i < sizeof(truths) / sizeof(truths[0]); i++) {
                setenv("T_BOOL", truths[i], 1);
                v = false;
                assert_int_equal(config_get_bool("T_BOOL", false, &v, errstr,
                                                 sizeof(errstr)),
                                 0);
                assert_true(v);
        }
        for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
                setenv("T_BOOL", lies[i], 1);
                v = true;
                assert_int_equal(config_get_bool("T_BOOL", true, &v, errstr,
                                                 sizeof(errstr)),
                                 0);
                assert_false(v);
        }
        setenv("T_BOOL", "maybe", 1);
        assert_int_equal(config_get_bool("T_BOOL", true, &v, errstr,
                                         sizeof(errstr)),
                         -1);
        assert_string_equal(errstr, "T_BOOL: 'maybe' is not a boolean "
                                    "(expected true, false, 1, 0, yes, no, "
                                    "on, off)");
}

static void test_get_string(void **state)
{
        char errstr[CONFIG_ERRSTR_SIZE];
        char *s = (char *)1;

        assert_int_equal(config_get_string("T_STR", NULL, 10, &s, errstr,
                                           sizeof(errstr)),
                         0);
        assert_null(s);
        assert_int_equal(config_get_string("T_STR", "dflt", 10, &s, errstr,
                                           sizeof(errstr)),
                         0);
        assert_string_equal(s, "dflt");
        free(s);
        setenv("T_STR", "/etc/catalog.txt", 1);
        assert_int_equal(config_get_string("T_STR", NULL, 16, &s, errstr,
                                           sizeof(errstr)),
                         0);
        assert_string_equal(s, "/etc/catalog.txt");
        free(s);
        assert_int_equal(config_get_string("T_STR", NULL, 15, &s, errstr,
                                           sizeof(errstr)),
                         -1);
        assert_null(s);
        assert_string_equal(errstr,
                            "T_STR: value is too long (16 bytes, at most 15)");
        setenv("T_STR", "a\tb", 1);
        assert_int_equal(config_get_string("T_STR", NULL, 16, &s, errstr,
                                           sizeof(errstr)),
                         -1);
        assert_string_equal(errstr, "T_STR: value contains a control character");
}

static void test_dotenv_environment_wins(void **state)
{
        char errstr[CONFIG_ERRSTR_SIZE] = "";
        struct config cfg;
        char *path = test_tmpfile("HTTP_PORT=9000\n"
                                  "LOG_LEVEL=debug\n"
                                  "DOTENV_A=from-file\n");

        setenv("HTTP_PORT", "9100", 1);
        setenv("DOTENV_A", "", 1); /* set, even if empty */
        assert_int_equal(dotenv_load(path, errstr, sizeof(errstr)), 0);
        load_ok(&cfg, &processing);
        assert_int_equal(cfg.http_port, 9100);
        assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
        assert_string_equal(getenv("DOTENV_A"), "");
        config_release(&cfg);
        unlink(path);
        free(path);
}

/* A temporary file holding 'content'; its path into 'path'. */
static void write_temp(char *path, size_t size, const char *content)
{
        int fd;

        snprintf(path, size, "/tmp/test_config.XXXXXX");
        fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, strlen(content)),
                         (ssize_t)strlen(content));
        close(fd);
}

static void test_file_variable_reads_the_value(void **state)
{
        struct config cfg;
        char path[64], path2[64], *s = NULL, errstr[CONFIG_ERRSTR_SIZE];
        long long n;

        /* KAFKA_X_FILE is the property of KAFKA_X; one newline stripped */
        write_temp(path, sizeof(path), "s3cret pass\n");
        setenv("KAFKA_SASL_PASSWORD_FILE", path, 1);
        setenv("KAFKA_SASL_USERNAME", "alice", 1);
        load_ok(&cfg, &processing);
        assert_int_equal(cfg.kafka_props_count, 2);
        assert_string_equal(cfg.kafka_props[0].env, "KAFKA_SASL_PASSWORD");
        assert_string_equal(cfg.kafka_props[0].name, "sasl.password");
        assert_string_equal(cfg.kafka_props[0].value, "s3cret pass");
        assert_string_equal(cfg.kafka_props[1].value, "alice");
        config_release(&cfg);

        /* a shared variable and the typed readers alike */
        write_temp(path2, sizeof(path2), "9001\n");
        setenv("HTTP_PORT_FILE", path2, 1);
        load_ok(&cfg, &processing);
        assert_int_equal(cfg.http_port, 9001);
        config_release(&cfg);
        assert_int_equal(config_get_int("HTTP_PORT", 1, 1, 65535, &n, errstr,
                                        sizeof(errstr)),
                         0);
        assert_int_equal(n, 9001);
        unsetenv("HTTP_PORT_FILE");
        setenv("T_STR_FILE", path, 1);
        assert_int_equal(config_get_string("T_STR", NULL, 64, &s, errstr,
                                           sizeof(errstr)),
                         0);
        assert_string_equal(s, "s3cret pass");
        free(s);
        unsetenv("T_STR_FILE");
        unlink(path);
        unlink(path2);
}

static void test_file_variable_errors_never_quote_the_secret(void **state)
{
        char path[64], errstr[CONFIG_ERRSTR_SIZE];

        write_temp(path, sizeof(path), "s3cret\n");
        /* both set */
        setenv("KAFKA_SASL_PASSWORD_FILE", path, 1);
        setenv("KAFKA_SASL_PASSWORD", "s3cret", 1);
        expect_load_error_prefix("KAFKA_SASL_PASSWORD and "
                                 "KAFKA_SASL_PASSWORD_FILE are both set",
                                 errstr, sizeof(errstr));
        assert_null(strstr(errstr, "s3cret"));
        unsetenv("KAFKA_SASL_PASSWORD");
        /* an unreadable file names the variable and the path */
        setenv("KAFKA_SASL_PASSWORD_FILE", "/nonexistent/secret", 1);
        expect_load_error_prefix("KAFKA_SASL_PASSWORD_FILE: cannot open "
                                 "'/nonexistent/secret'",
                                 errstr, sizeof(errstr));
        setenv("KAFKA_SASL_PASSWORD_FILE", "/tmp", 1);
        expect_load_error_prefix("KAFKA_SASL_PASSWORD_FILE: cannot read",
                                 errstr, sizeof(errstr));
        unsetenv("KAFKA_SASL_PASSWORD_FILE");
        /* a bad value from a file: the message does not quote it */
        unlink(path);
        write_temp(path, sizeof(path), "s3cret\nline two\n");
        setenv("KAFKA_BOOTSTRAP_SERVERS_FILE", path, 1);
        expect_load_error_prefix("KAFKA_BOOTSTRAP_SERVERS: value contains a "
                                 "control character",
                                 errstr, sizeof(errstr));
        assert_null(strstr(errstr, "s3cret"));
        unsetenv("KAFKA_BOOTSTRAP_SERVERS_FILE");
        unlink(path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, clean_env)
                T(test_defaults_follow_the_contract),
                T(test_environment_overrides_every_default),
                T(test_empty_value_means_default),
                T(test_http_port_bounds_and_strict_numbers),
                T(test_topic_counts_bounded),
                T(test_log_level),
                T(test_auto_offset_reset_values),
                T(test_topic_names),
                T(test_errors_are_one_line_whatever_the_value),
                T(test_kafka_passthrough),
                T(test_kafka_unknown_property_is_an_error),
                T(test_kafka_bad_value_is_an_error),
                T(test_get_int),
                T(test_get_duration),
                T(test_get_bool),
                T(test_get_string),
                T(test_dotenv_environment_wins),
                T(test_file_variable_reads_the_value),
                T(test_file_variable_errors_never_quote_the_secret),
#undef T
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
