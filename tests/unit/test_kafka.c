/* Unit tests of the Kafka helpers against librdkafka's mock cluster (an
 * in-process fake broker: fine for unit tests, never for end-to-end
 * claims, which the integration tests make against a real broker). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "shared/config.h"
#include "shared/kafka.h"
#include "shared/log.h"
#include "shared/util.h"

#define DEADLINE_MS 10000

/* --- helpers ------------------------------------------------------------ */

static struct config config_for(const char *bootstrap)
{
        return (struct config){
                .bootstrap_servers = (char *)bootstrap,
                .group_id = "test-group",
                .auto_offset_reset = "earliest",
                .topic_partitions = 3,
                .topic_replication_factor = 1,
        };
}

static void assert_conf(rd_kafka_conf_t *conf, const char *name,
                        const char *expected)
{
        char value[512];
        size_t size = sizeof(value);

        assert_int_equal(rd_kafka_conf_get(conf, name, value, &size),
                         RD_KAFKA_CONF_OK);
        assert_string_equal(value, expected);
}

struct mock {
        rd_kafka_t *owner; /* the client the mock cluster lives in */
        rd_kafka_mock_cluster_t *cluster;
        rd_kafka_t *rk;    /* the client under test */
};

static void mock_start(struct mock *mk)
{
        char errstr[512];
        struct config cfg;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();

        assert_int_equal(rd_kafka_conf_set(conf, "log_level", "0", errstr,
                                           sizeof(errstr)),
                         RD_KAFKA_CONF_OK);
        mk->owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
                                 sizeof(errstr));
        assert_non_null(mk->owner);
        mk->cluster = rd_kafka_mock_cluster_new(mk->owner, 1);
        assert_non_null(mk->cluster);

        cfg = config_for(rd_kafka_mock_cluster_bootstraps(mk->cluster));
        conf = kafka_conf_new(&cfg, KAFKA_ROLE_PRODUCER, errstr,
                              sizeof(errstr));
        assert_non_null(conf);
        mk->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        assert_non_null(mk->rk);
        conf = NULL; /* now owned, and freed, by mk->rk */
}

static void mock_stop(struct mock *mk)
{
        rd_kafka_destroy(mk->rk);
        rd_kafka_mock_cluster_destroy(mk->cluster);
        rd_kafka_destroy(mk->owner);
}

/* The partition count of 'topic' as the cluster reports it, -1 if absent. */
static int partition_count(rd_kafka_t *rk, const char *topic)
{
        const struct rd_kafka_metadata *md;
        int n = -1;

        assert_int_equal(rd_kafka_metadata(rk, 1, NULL, &md, DEADLINE_MS), 0);
        for (int i = 0; i < md->topic_cnt; i++) {
                if (strcmp(md->topics[i].topic, topic) == 0 &&
                    !md->topics[i].err)
                        n = md->topics[i].partition_cnt;
        }
        rd_kafka_metadata_destroy(md);
        return n;
}

/* kafka_topics_ensure(), printing errstr when it fails. */
static int ensure(rd_kafka_t *rk, const char *const *topics, size_t n,
                  int partitions, int replication_factor, char *errstr,
                  size_t errstr_size)
{
        int ret = kafka_topics_ensure(rk, topics, n, partitions,
                                      replication_factor, DEADLINE_MS, errstr,
                                      errstr_size);

        if (ret != 0)
                print_message("kafka_topics_ensure: %s\n", errstr);
        return ret;
}

/* --- tests -------------------------------------------------------------- */

/* A producer gets bootstrap.servers, client.id (the executable's name) and
 * the pass-through properties, and no consumer settings. */
static void conf_new_producer(void **state)
{
        struct kafka_property props[] = {
                {.name = "linger.ms", .value = "7", .env = "KAFKA_LINGER_MS"},
                {.name = "message.max.bytes", .value = "2000000",
                 .env = "KAFKA_MESSAGE_MAX_BYTES"},
        };
        struct config cfg = config_for("b1:9092,b2:9092");
        char errstr[512] = "";
        char value[64];
        size_t size = sizeof(value);
        rd_kafka_conf_t *conf;

        cfg.kafka_props = props;
        cfg.kafka_props_count = 2;
        conf = kafka_conf_new(&cfg, KAFKA_ROLE_PRODUCER, errstr,
                              sizeof(errstr));
        assert_non_null(conf);
        assert_conf(conf, "bootstrap.servers", "b1:9092,b2:9092");
        assert_conf(conf, "client.id", "test_kafka");
        assert_conf(conf, "linger.ms", "7");
        assert_conf(conf, "message.max.bytes", "2000000");
        /* group.id stays unset for a producer. */
        if (rd_kafka_conf_get(conf, "group.id", value, &size) ==
            RD_KAFKA_CONF_OK)
                assert_string_equal(value, "");
        rd_kafka_conf_destroy(conf);
}

/* A consumer also gets group.id and auto.offset.reset, and a KAFKA_*
 * pass-through wins over our own defaults (client.id). */
static void conf_new_consumer(void **state)
{
        struct kafka_property props[] = {
                {.name = "client.id", .value = "custom",
                 .env = "KAFKA_CLIENT_ID"},
                {.name = "partition.assignment.strategy",
                 .value = "roundrobin",
                 .env = "KAFKA_PARTITION_ASSIGNMENT_STRATEGY"},
        };
        struct config cfg = config_for("localhost:9092");
        char errstr[512] = "";
        rd_kafka_conf_t *conf;

        cfg.auto_offset_reset = "latest";
        cfg.kafka_props = props;
        cfg.kafka_props_count = 2;
        conf = kafka_conf_new(&cfg, KAFKA_ROLE_CONSUMER, errstr,
                              sizeof(errstr));
        assert_non_null(conf);
        assert_conf(conf, "group.id", "test-group");
        /* librdkafka stores "latest" under its older name. */
        assert_conf(conf, "auto.offset.reset", "largest");
        assert_conf(conf, "client.id", "custom");
        assert_conf(conf, "partition.assignment.strategy", "roundrobin");
        rd_kafka_conf_destroy(conf);
}

/* A property librdkafka refuses is reported with the variable it came
 * from; a consumer without a group is refused. */
static void conf_new_names_the_variable(void **state)
{
        struct kafka_property bad[] = {
                {.name = "no.such.property", .value = "1",
                 .env = "KAFKA_NO_SUCH_PROPERTY"},
        };
        struct config cfg = config_for("localhost:9092");
        char errstr[512] = "";

        cfg.kafka_props = bad;
        cfg.kafka_props_count = 1;
        assert_null(kafka_conf_new(&cfg, KAFKA_ROLE_PRODUCER, errstr,
                                   sizeof(errstr)));
        assert_non_null(strstr(errstr, "KAFKA_NO_SUCH_PROPERTY"));

        cfg = config_for("localhost:9092");
        cfg.group_id = NULL;
        errstr[0] = '\0';
        assert_null(kafka_conf_new(&cfg, KAFKA_ROLE_CONSUMER, errstr,
                                   sizeof(errstr)));
        assert_non_null(strstr(errstr, "KAFKA_GROUP_ID"));
        assert_null(kafka_conf_new(NULL, KAFKA_ROLE_PRODUCER, errstr,
                                   sizeof(errstr)));
}

/* A default fills what the user left unset; the user's value stands, unless
 * the default is required, when a different one is refused by name. */
static void conf_default_user_wins_unless_required(void **state)
{
        struct kafka_property user[] = {
                {.name = "linger.ms", .value = "7", .env = "KAFKA_LINGER_MS"},
                {.name = "acks", .value = "1", .env = "KAFKA_ACKS"},
        };
        struct config cfg = config_for("localhost:9092");
        rd_kafka_conf_t *conf;
        char errstr[512] = "";

        cfg.kafka_props = user;
        cfg.kafka_props_count = 2;
        assert_string_equal(kafka_user_property(&cfg, "acks"), "1");
        assert_null(kafka_user_property(&cfg, "retry.backoff.ms"));
        conf = kafka_conf_new(&cfg, KAFKA_ROLE_PRODUCER, errstr,
                              sizeof(errstr));
        assert_non_null(conf);

        assert_int_equal(kafka_conf_default(conf, &cfg, "retry.backoff.ms",
                                            "20", KAFKA_REQUIRED, errstr,
                                            sizeof(errstr)),
                         0);
        assert_conf(conf, "retry.backoff.ms", "20");
        assert_int_equal(kafka_conf_default(conf, &cfg, "linger.ms", "2",
                                            KAFKA_DEFAULT, errstr,
                                            sizeof(errstr)),
                         0);
        assert_conf(conf, "linger.ms", "7");
        assert_int_equal(kafka_conf_default(conf, &cfg, "acks", "1",
                                            KAFKA_REQUIRED, errstr,
                                            sizeof(errstr)),
                         0);
        assert_int_equal(kafka_conf_default(conf, &cfg, "acks", "all",
                                            KAFKA_REQUIRED, errstr,
                                            sizeof(errstr)),
                         -1);
        assert_non_null(strstr(errstr, "KAFKA_ACKS: must be 'all'"));
        assert_int_equal(kafka_conf_default(conf, &cfg, "no.such.property",
                                            "1", KAFKA_DEFAULT, errstr,
                                            sizeof(errstr)),
                         -1);
        assert_non_null(strstr(errstr, "no.such.property"));
        rd_kafka_conf_destroy(conf);
}

/* Consumers get the eager "range" assignor; a cooperative one, which
 * librdkafka 2.0.2 aborts on when closed before its first assignment, is
 * refused by name, and "roundrobin" is the user's to choose. */
static void conf_new_consumer_assignor(void **state)
{
        struct kafka_property coop[] = {
                {.name = "partition.assignment.strategy",
                 .value = "cooperative-sticky",
                 .env = "KAFKA_PARTITION_ASSIGNMENT_STRATEGY"},
        };
        struct kafka_property rr[] = {
                {.name = "partition.assignment.strategy",
                 .value = "roundrobin",
                 .env = "KAFKA_PARTITION_ASSIGNMENT_STRATEGY"},
        };
        struct config cfg = config_for("localhost:9092");
        rd_kafka_conf_t *conf;
        char errstr[512] = "";

        conf = kafka_conf_new(&cfg, KAFKA_ROLE_CONSUMER, errstr,
                              sizeof(errstr));
        assert_non_null(conf);
        assert_conf(conf, "partition.assignment.strategy", "range");
        rd_kafka_conf_destroy(conf);

        cfg.kafka_props = coop;
        cfg.kafka_props_count = 1;
        assert_null(kafka_conf_new(&cfg, KAFKA_ROLE_CONSUMER, errstr,
                                   sizeof(errstr)));
        assert_non_null(strstr(errstr, "KAFKA_PARTITION_ASSIGNMENT_STRATEGY"));

        cfg.kafka_props = rr;
        conf = kafka_conf_new(&cfg, KAFKA_ROLE_CONSUMER, errstr,
                              sizeof(errstr));
        assert_non_null(conf);
        assert_conf(conf, "partition.assignment.strategy", "roundrobin");
        rd_kafka_conf_destroy(conf);
}

/* The contents of 'fd' (a regular file) as a new string. */
static char *file_contents(int fd)
{
        off_t size = lseek(fd, 0, SEEK_END);
        char *buf;

        assert_true(size >= 0);
        buf = calloc(1, (size_t)size + 1);
        assert_non_null(buf);
        assert_int_equal(pread(fd, buf, (size_t)size, 0), size);
        return buf;
}

/* librdkafka's own log lines reach log.h as ECS lines with kafka.fac and
 * kafka.client: a broker that refuses connections makes it log. */
static void conf_new_routes_librdkafka_logs(void **state)
{
        struct config cfg = config_for("127.0.0.1:1");
        char path[] = "/tmp/test_kafka_log.XXXXXX";
        char errstr[512] = "";
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        int64_t deadline = time_monotonic_ms() + DEADLINE_MS;
        char *text = NULL;
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        unlink(path);
        assert_int_equal(log_init("test_kafka", LOG_LEVEL_INFO, fd, errstr,
                                  sizeof(errstr)),
                         0);
        conf = kafka_conf_new(&cfg, KAFKA_ROLE_PRODUCER, errstr,
                              sizeof(errstr));
        assert_non_null(conf);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        assert_non_null(rk);
        conf = NULL; /* now owned, and freed, by rk */
        while (time_monotonic_ms() < deadline) {
                rd_kafka_poll(rk, 50);
                free(text);
                text = file_contents(fd);
                if (strstr(text, "\"kafka.fac\""))
                        break;
        }
        rd_kafka_destroy(rk);
        log_fini();
        close(fd);
        assert_non_null(strstr(text, "\"kafka.fac\""));
        assert_non_null(strstr(text, "\"kafka.client\":\"test_kafka#producer-"));
        assert_non_null(strstr(text, "\"service.name\":\"test_kafka\""));
        free(text);
}

/* Topics that exist already are found in the metadata and left alone:
 * no CreateTopics request, no change to their partitions. (librdkafka
 * 2.0.2's mock cluster has no controller and cannot create topics, so the
 * creation itself is proven by tests/integration/test_kafka_topics.c
 * against the real broker.) */
static void topics_ensure_skips_existing(void **state)
{
        static const char *const topics[] = {"orders", "notifications"};
        struct mock mk;
        char errstr[512] = "";
        int64_t started;

        mock_start(&mk);
        assert_int_equal(rd_kafka_mock_topic_create(mk.cluster, "orders", 2, 1),
                         0);
        assert_int_equal(rd_kafka_mock_topic_create(mk.cluster,
                                                    "notifications", 4, 1),
                         0);
        started = time_monotonic_ms();
        assert_int_equal(ensure(mk.rk, topics, 2, 6, 1, errstr,
                                sizeof(errstr)),
                         0);
        assert_int_equal(ensure(mk.rk, topics, 2, 6, 1, errstr,
                                sizeof(errstr)),
                         0);
        /* Had either call tried CreateTopics it would have waited for the
         * mock's missing controller until the deadline. */
        assert_true(time_monotonic_ms() - started < DEADLINE_MS);
        assert_int_equal(partition_count(mk.rk, "orders"), 2);
        assert_int_equal(partition_count(mk.rk, "notifications"), 4);
        assert_int_equal(ensure(mk.rk, topics, 0, 6, 1, errstr,
                                sizeof(errstr)),
                         0);
        mock_stop(&mk);
}

/* A topic that cannot be created, or a cluster that does not answer, is an
 * error with a reason, returned within the timeout (plus the second of
 * grace the Admin API result gets). */
static void topics_ensure_failure_is_bounded(void **state)
{
        static const char *const missing[] = {"missing"};
        struct mock mk;
        char errstr[512] = "";
        int64_t started;

        mock_start(&mk);
        started = time_monotonic_ms();
        assert_int_equal(kafka_topics_ensure(mk.rk, missing, 1, 1, 1, 2000,
                                             errstr, sizeof(errstr)),
                         -1);
        assert_true(time_monotonic_ms() - started < 2000 + 1500);
        assert_non_null(strstr(errstr, "cannot create topics"));

        assert_int_equal(rd_kafka_mock_broker_set_down(mk.cluster, 1), 0);
        errstr[0] = '\0';
        started = time_monotonic_ms();
        assert_int_equal(kafka_topics_ensure(mk.rk, missing, 1, 1, 1, 1000,
                                             errstr, sizeof(errstr)),
                         -1);
        assert_true(time_monotonic_ms() - started < 1000 + 1500);
        assert_non_null(strstr(errstr, "cluster metadata"));
        assert_int_equal(kafka_topics_ensure(NULL, missing, 1, 1, 1, 1000,
                                             errstr, sizeof(errstr)),
                         -1);
        mock_stop(&mk);
}

/* Ready needs every topic present and every partition led, and an
 * answering cluster. */
static void topics_ready_true_and_false(void **state)
{
        static const char *const both[] = {"orders", "notifications"};
        struct mock mk;

        mock_start(&mk);
        assert_int_equal(rd_kafka_mock_topic_create(mk.cluster, "orders", 2,
                                                    1),
                         0);
        assert_false(kafka_topics_ready(mk.rk, both, 2, DEADLINE_MS));
        assert_true(kafka_topics_ready(mk.rk, both, 1, DEADLINE_MS));

        assert_int_equal(rd_kafka_mock_topic_create(mk.cluster,
                                                    "notifications", 2, 1),
                         0);
        assert_true(kafka_topics_ready(mk.rk, both, 2, DEADLINE_MS));

        /* A partition without a leader. */
        assert_int_equal(rd_kafka_mock_partition_set_leader(
                                 mk.cluster, "notifications", 1, -1),
                         0);
        assert_false(kafka_topics_ready(mk.rk, both, 2, DEADLINE_MS));
        assert_int_equal(rd_kafka_mock_partition_set_leader(
                                 mk.cluster, "notifications", 1, 1),
                         0);
        assert_true(kafka_topics_ready(mk.rk, both, 2, DEADLINE_MS));

        /* The broker goes away: no answer within the timeout. */
        assert_int_equal(rd_kafka_mock_broker_set_down(mk.cluster, 1), 0);
        assert_false(kafka_topics_ready(mk.rk, both, 2, 1000));
        assert_false(kafka_topics_ready(NULL, both, 2, 1000));
        mock_stop(&mk);
}

/* kafka_header_dup copies a header's value of a consumed record,
 * NUL-terminated; the last of repeated headers wins; absent is NULL. */
static void header_dup(void **state)
{
        struct mock mk;
        struct config cfg;
        char errstr[512] = "";
        rd_kafka_conf_t *conf;
        rd_kafka_t *consumer;
        rd_kafka_topic_partition_list_t *parts;
        rd_kafka_message_t *msg = NULL;
        int64_t deadline;
        char *v;

        mock_start(&mk);
        assert_int_equal(rd_kafka_mock_topic_create(mk.cluster, "h", 1, 1), 0);
        assert_int_equal(
                rd_kafka_producev(mk.rk, RD_KAFKA_V_TOPIC("h"),
                                  RD_KAFKA_V_PARTITION(0),
                                  RD_KAFKA_V_VALUE("v", 1),
                                  RD_KAFKA_V_HEADER("traceparent", "old", 3),
                                  RD_KAFKA_V_HEADER("traceparent", "new", 3),
                                  RD_KAFKA_V_HEADER("empty", "", 0),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_END),
                RD_KAFKA_RESP_ERR_NO_ERROR);
        assert_int_equal(rd_kafka_flush(mk.rk, DEADLINE_MS), 0);

        cfg = config_for(rd_kafka_mock_cluster_bootstraps(mk.cluster));
        conf = kafka_conf_new(&cfg, KAFKA_ROLE_CONSUMER, errstr,
                              sizeof(errstr));
        assert_non_null(conf);
        consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr,
                                sizeof(errstr));
        assert_non_null(consumer);
        conf = NULL; /* now owned, and freed, by consumer */
        parts = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(parts, "h", 0)->offset =
                RD_KAFKA_OFFSET_BEGINNING;
        assert_int_equal(rd_kafka_assign(consumer, parts), 0);
        rd_kafka_topic_partition_list_destroy(parts);

        deadline = time_monotonic_ms() + DEADLINE_MS;
        while (time_monotonic_ms() < deadline) {
                msg = rd_kafka_consumer_poll(consumer, 100);
                if (msg && !msg->err)
                        break;
                if (msg)
                        rd_kafka_message_destroy(msg);
                msg = NULL;
        }
        assert_non_null(msg);

        v = kafka_header_dup(msg, "traceparent");
        assert_non_null(v);
        assert_string_equal(v, "new");
        free(v);
        v = kafka_header_dup(msg, "empty");
        assert_non_null(v);
        assert_string_equal(v, "");
        free(v);
        assert_null(kafka_header_dup(msg, "absent"));
        assert_null(kafka_header_dup(NULL, "traceparent"));
        assert_null(kafka_header_dup(msg, NULL));

        rd_kafka_message_destroy(msg);
        rd_kafka_consumer_close(consumer);
        rd_kafka_destroy(consumer);
        mock_stop(&mk);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(conf_new_producer),
                cmocka_unit_test(conf_new_consumer),
                cmocka_unit_test(conf_new_names_the_variable),
                cmocka_unit_test(conf_default_user_wins_unless_required),
                cmocka_unit_test(conf_new_consumer_assignor),
                cmocka_unit_test(conf_new_routes_librdkafka_logs),
                cmocka_unit_test(topics_ensure_skips_existing),
                cmocka_unit_test(topics_ensure_failure_is_bounded),
                cmocka_unit_test(topics_ready_true_and_false),
                cmocka_unit_test(header_dup),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
