/* Unit tests of the publisher's failure paths against librdkafka's mock
 * cluster: acknowledged deliveries, a delivery timeout (504), a full local
 * queue (503), and recreation after a fatal idempotent-producer error. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "publisher.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/util.h"

#define TOPIC "orders"
#define DEADLINE_MS 30000

struct fixture {
        rd_kafka_t *owner; /* the client the mock cluster lives in */
        rd_kafka_mock_cluster_t *cluster;
        struct kafka_property props[2];
        struct config cfg;
        struct metrics *metrics;
        struct metric_counter *recreations;
        struct publisher *pub;
};

static struct publisher *fixture_publisher(struct fixture *f,
                                           int delivery_timeout_ms)
{
        char errstr[512];

        f->pub = publisher_new(&f->cfg,
                               &(struct publisher_options){
                                       .topic = TOPIC,
                                       .delivery_timeout_ms =
                                               delivery_timeout_ms,
                                       .linger_ms = 1,
                                       .recreations = f->recreations,
                               },
                               errstr, sizeof(errstr));
        if (!f->pub)
                fail_msg("publisher_new: %s", errstr);
        return f->pub;
}

static int setup(void **state)
{
        static struct fixture f;
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();

        memset(&f, 0, sizeof(f));
        rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr));
        f.owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        assert_non_null(f.owner);
        f.cluster = rd_kafka_mock_cluster_new(f.owner, 1);
        assert_non_null(f.cluster);
        assert_int_equal(rd_kafka_mock_topic_create(f.cluster, TOPIC, 2, 1), 0);
        f.cfg = (struct config){
                .bootstrap_servers =
                        (char *)rd_kafka_mock_cluster_bootstraps(f.cluster),
                .orders_topic = TOPIC,
                .topic_partitions = 2,
                .topic_replication_factor = 1,
                .kafka_props = f.props,
                .kafka_props_count = 0,
        };
        f.metrics = metrics_new();
        f.recreations = metrics_counter(f.metrics, "recreations", "", NULL);
        *state = &f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        publisher_destroy(f->pub, 1000);
        metrics_destroy(f->metrics);
        rd_kafka_mock_cluster_destroy(f->cluster);
        rd_kafka_destroy(f->owner);
        return 0;
}

static int publish(struct publisher *pub, const char *key,
                   struct publish_result *res)
{
        static const char value[] = "{\"order_id\":\"k\"}";

        return publisher_publish(pub, key, strlen(key), value,
                                 sizeof(value) - 1, NULL, res);
}

static void test_acknowledged_delivery_gives_partition_and_offset(void **state)
{
        struct fixture *f = *state;
        struct publisher *pub = fixture_publisher(f, 10000);
        struct publish_result a, b;
        int64_t deadline = time_monotonic_ms() + DEADLINE_MS;

        assert_int_equal(publish(pub, "k1", &a), 0);
        assert_int_equal(a.status, PUBLISH_OK);
        assert_in_range(a.partition, 0, 1);
        assert_true(a.offset >= 0);
        /* The same key goes to the same partition, one offset further. */
        assert_int_equal(publish(pub, "k1", &b), 0);
        assert_int_equal(b.partition, a.partition);
        assert_true(b.offset == a.offset + 1);
        /* librdkafka counts a message until its report has returned. */
        while (publisher_queue_depth(pub) > 0 &&
               time_monotonic_ms() < deadline)
                rd_kafka_poll(f->owner, 10);
        assert_int_equal(publisher_queue_depth(pub), 0);
}

static void test_unreachable_broker_times_out_as_504(void **state)
{
        struct fixture *f = *state;
        struct publisher *pub = fixture_publisher(f, 1000);
        struct publish_result res;

        assert_int_equal(publish(pub, "warm-up", &res), 0);
        rd_kafka_mock_broker_set_down(f->cluster, 1);
        assert_int_equal(publish(pub, "k2", &res), -1);
        assert_int_equal(res.status, PUBLISH_TIMED_OUT);
        assert_true(strlen(res.error) > 0);
        rd_kafka_mock_broker_set_up(f->cluster, 1);
}

struct background {
        struct publisher *pub;
        struct publish_result res;
};

static void *publish_in_background(void *arg)
{
        struct background *bg = arg;

        publish(bg->pub, "first", &bg->res);
        return NULL;
}

static void test_full_local_queue_is_refused_at_once(void **state)
{
        struct fixture *f = *state;
        struct background bg;
        struct publish_result res;
        pthread_t t;

        f->props[0] = (struct kafka_property){
                .name = "queue.buffering.max.messages", .value = "1",
                .env = "KAFKA_QUEUE_BUFFERING_MAX_MESSAGES"};
        f->cfg.kafka_props_count = 1;
        bg.pub = fixture_publisher(f, 3000);
        rd_kafka_mock_broker_set_down(f->cluster, 1);
        /* Two publishes at once, one slot, no broker: whichever comes
         * second is refused at once; the first waits and times out. */
        assert_int_equal(pthread_create(&t, NULL, publish_in_background, &bg),
                         0);
        assert_int_equal(publish(bg.pub, "second", &res), -1);
        pthread_join(t, NULL);
        assert_true((res.status == PUBLISH_QUEUE_FULL &&
                     bg.res.status == PUBLISH_TIMED_OUT) ||
                    (res.status == PUBLISH_TIMED_OUT &&
                     bg.res.status == PUBLISH_QUEUE_FULL));
        rd_kafka_mock_broker_set_up(f->cluster, 1);
}

static void test_fatal_error_recreates_the_producer(void **state)
{
        struct fixture *f = *state;
        struct publisher *pub = fixture_publisher(f, 5000);
        struct publish_result res;
        int64_t deadline = time_monotonic_ms() + DEADLINE_MS;
        bool ok = false;

        assert_int_equal(publish(pub, "before", &res), 0);
        assert_int_equal(publisher_inject_fatal_error(pub, "test"), 0);
        /* Refused (503) until the poll thread has swapped in a new
         * producer; then accepted again, with no restart. */
        while (!ok && time_monotonic_ms() < deadline) {
                ok = publish(pub, "after", &res) == 0;
                if (!ok)
                        assert_int_equal(res.status, PUBLISH_UNAVAILABLE);
        }
        assert_true(ok);
        assert_int_equal(metric_counter_value(f->recreations), 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(
                        test_acknowledged_delivery_gives_partition_and_offset,
                        setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_unreachable_broker_times_out_as_504, setup,
                        teardown),
                cmocka_unit_test_setup_teardown(
                        test_full_local_queue_is_refused_at_once, setup,
                        teardown),
                cmocka_unit_test_setup_teardown(
                        test_fatal_error_recreates_the_producer, setup,
                        teardown),
        };
        char errstr[256];

        if (log_init("test_order_publisher", LOG_LEVEL_ERROR, 2, errstr,
                     sizeof(errstr)) == -1)
                return 1;
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        log_fini();
        return r;
}
