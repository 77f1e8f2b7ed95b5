/* The processor's failure paths against librdkafka's mock cluster (an
 * in-process fake broker that can inject protocol errors; the end-to-end
 * exactly-once claims are made against the real broker by the pytest
 * tests): an abortable error aborts and reprocesses, a fatal one
 * recreates the producer, fencing stops the processor.
 *
 * shutdown_request() cannot be undone in a process, so the fencing test,
 * which needs none, runs first. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "processor.h"
#include "rules.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/shutdown.h"
#include "shared/util.h"

#define ORDERS 20
#define DEADLINE_MS 60000
/* The Kafka protocol's ApiKey of AddOffsetsToTxn (librdkafka's RD_KAFKAP_*
 * are not in its public headers). */
#define KAFKA_API_ADD_OFFSETS_TO_TXN 25

struct fixture {
        rd_kafka_t *owner;
        rd_kafka_mock_cluster_t *cluster;
        struct config cfg;
        struct rules rules;
        struct metrics *metrics;
        struct processor *proc;
        pthread_t thread;
        int run_result;
        volatile int done;
};

static void *run_thread(void *arg)
{
        struct fixture *f = arg;

        f->run_result = processor_run(f->proc);
        f->done = 1;
        return NULL;
}

static void fixture_start(struct fixture *f, const char *group)
{
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        struct processor_options opts;

        memset(f, 0, sizeof(*f));
        assert_int_equal(rd_kafka_conf_set(conf, "log_level", "0", errstr,
                                           sizeof(errstr)),
                         RD_KAFKA_CONF_OK);
        f->owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        assert_non_null(f->owner);
        f->cluster = rd_kafka_mock_cluster_new(f->owner, 1);
        assert_non_null(f->cluster);
        assert_int_equal(rd_kafka_mock_topic_create(f->cluster, "orders", 2, 1), 0);
        assert_int_equal(rd_kafka_mock_topic_create(f->cluster, "notifications", 2, 1), 0);
        assert_int_equal(rd_kafka_mock_topic_create(f->cluster, "orders.dlq", 2, 1), 0);

        f->cfg = (struct config){
                .bootstrap_servers = (char *)rd_kafka_mock_cluster_bootstraps(f->cluster),
                .group_id = (char *)group,
                .auto_offset_reset = "earliest",
                .orders_topic = "orders",
                .notifications_topic = "notifications",
                .topic_partitions = 2,
                .topic_replication_factor = 1,
        };
        rules_init(&f->rules, 100);
        f->metrics = metrics_new();
        assert_non_null(f->metrics);
        opts = (struct processor_options){
                .cfg = &f->cfg,
                .rules = &f->rules,
                .transactional_id = group,
                .txn_max_records = 5,
                .txn_max_ms = 50,
                .metrics = f->metrics,
        };
        f->proc = processor_new(&opts, errstr, sizeof(errstr));
        assert_non_null(f->proc);
}

static void fixture_stop(struct fixture *f)
{
        processor_destroy(f->proc);
        metrics_destroy(f->metrics);
        rules_release(&f->rules);
        rd_kafka_mock_cluster_destroy(f->cluster);
        rd_kafka_destroy(f->owner);
}

/* Produce ORDERS valid orders to the mock's orders topic. */
static void produce_orders(struct fixture *f)
{
        char errstr[512], value[256], id[32];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *p;

        assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers",
                                           f->cfg.bootstrap_servers, errstr,
                                           sizeof(errstr)),
                         RD_KAFKA_CONF_OK);
        p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        assert_non_null(p);
        for (int i = 0; i < ORDERS; i++) {
                snprintf(id, sizeof(id), "m-%d", i);
                snprintf(value, sizeof(value),
                         "{\"order_id\":\"%s\",\"user_id\":\"u\",\"item\":\"i\","
                         "\"quantity\":%d,\"created_at\":"
                         "\"2026-11-23T07:00:00.123Z\"}", id, 1 + i);
                assert_int_equal(rd_kafka_producev(
                                         p, RD_KAFKA_V_TOPIC("orders"),
                                         RD_KAFKA_V_KEY(id, strlen(id)),
                                         RD_KAFKA_V_VALUE(value, strlen(value)),
                                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                         RD_KAFKA_V_END),
                                 0);
        }
        assert_int_equal(rd_kafka_flush(p, 10000), 0);
        rd_kafka_destroy(p);
}

static double metric(struct fixture *f, const char *series)
{
        size_t len;
        char *text = metrics_render(f->metrics, &len);
        char line_start[256];
        const char *at;
        double v = -1;

        assert_non_null(text);
        /* At the start of a line: not in a # HELP line. */
        snprintf(line_start, sizeof(line_start), "\n%s", series);
        at = strstr(text, line_start);
        if (at)
                v = atof(at + strlen(line_start));
        free(text);
        return v;
}

static double records_committed(struct fixture *f)
{
        return metric(f, "processing_records_total{status=\"confirmed\",reason=\"\"} ");
}

static void wait_for(struct fixture *f, double (*what)(struct fixture *),
                     double want)
{
        int64_t deadline = time_monotonic_ms() + DEADLINE_MS;

        while (what(f) < want && !f->done && time_monotonic_ms() < deadline)
                usleep(20 * 1000);
        assert_true(what(f) >= want);
}

/* Another instance took our transactional.id (the broker says our epoch
 * is old): the processor stops by itself, leaving the group, and returns
 * -1, with nothing committed. */
static void test_fenced_producer_stops_the_processor(void **state)
{
        struct fixture f;
        int64_t deadline;

        fixture_start(&f, "mock-fenced");
        rd_kafka_mock_push_request_errors(f.cluster, KAFKA_API_ADD_OFFSETS_TO_TXN, 1,
                                          RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH);
        produce_orders(&f);
        assert_int_equal(pthread_create(&f.thread, NULL, run_thread, &f), 0);
        deadline = time_monotonic_ms() + DEADLINE_MS;
        while (!f.done && time_monotonic_ms() < deadline)
                usleep(20 * 1000);
        assert_true(f.done);
        pthread_join(f.thread, NULL);
        assert_int_equal(f.run_result, -1);
        assert_false(shutdown_requested());
        assert_true(records_committed(&f) <= 0);
        assert_int_equal(metric(&f, "processing_producer_recreated_total "), 0);
        fixture_stop(&f);
}

/* An abortable error (the first commit's offsets refused), then a fatal
 * one (the second's): the first transaction is aborted and its records
 * processed again, the producer is recreated after the second, and in the
 * end every order is committed exactly once (counted once). */
static void test_abortable_then_fatal_errors_recover(void **state)
{
        struct fixture f;

        fixture_start(&f, "mock-recover");
        rd_kafka_mock_push_request_errors(
                f.cluster, KAFKA_API_ADD_OFFSETS_TO_TXN, 2,
                RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED,
                RD_KAFKA_RESP_ERR_INVALID_TXN_STATE);
        produce_orders(&f);
        assert_int_equal(pthread_create(&f.thread, NULL, run_thread, &f), 0);
        wait_for(&f, records_committed, ORDERS);
        shutdown_request();
        pthread_join(f.thread, NULL);
        assert_int_equal(f.run_result, 0);
        assert_true(metric(&f, "processing_transactions_total{outcome=\"aborted\"} ") >= 1);
        assert_int_equal(metric(&f, "processing_producer_recreated_total "), 1);
        /* Counted on commit only: reprocessing did not count twice. */
        assert_true(records_committed(&f) == ORDERS);
        fixture_stop(&f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fenced_producer_stops_the_processor),
                cmocka_unit_test(test_abortable_then_fatal_errors_recover),
        };
        char errstr[256];

        if (log_init("test_processor_mock", LOG_LEVEL_WARN, STDERR_FILENO,
                     errstr, sizeof(errstr)) < 0 ||
            shutdown_install() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
