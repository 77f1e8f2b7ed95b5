/* The DLQ producer against librdkafka's mock cluster: a record is only
 * handed back once acknowledged, a failed delivery is produced again, and
 * a producer that failed fatally is replaced without losing a record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "dlq.h"
#include "shared/metrics.h"
#include "shared/util.h"

#define DEADLINE_MS 20000
#define TOPIC "notifications.dlq"

struct fixture {
        rd_kafka_t *owner; /* the client the mock cluster lives in */
        rd_kafka_mock_cluster_t *cluster;
        struct config cfg;
        struct dlq *dlq;
        struct metrics *metrics;
        struct metric_counter *errors; /* failed deliveries */
        int acked[64];     /* acked[i]: times record i was acknowledged */
};

static void on_acked(void *arg, void *opaque)
{
        struct fixture *f = arg;
        int *id = opaque;

        f->acked[*id]++;
        free(id);
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[512];

        rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr));
        f->owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        assert_non_null(f->owner);
        f->cluster = rd_kafka_mock_cluster_new(f->owner, 1);
        assert_non_null(f->cluster);
        assert_int_equal(rd_kafka_mock_topic_create(f->cluster, TOPIC, 1, 1), 0);
        f->cfg = (struct config){
                .bootstrap_servers =
                        (char *)rd_kafka_mock_cluster_bootstraps(f->cluster),
                .topic_partitions = 1,
                .topic_replication_factor = 1,
        };
        f->metrics = metrics_new();
        f->errors = metrics_counter(f->metrics, "errors", "e", NULL);
        f->dlq = dlq_new(&f->cfg, TOPIC, on_acked, f, NULL, f->errors, errstr,
                         sizeof(errstr));
        assert_non_null(f->dlq);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        dlq_destroy(f->dlq);
        rd_kafka_mock_cluster_destroy(f->cluster);
        rd_kafka_destroy(f->owner);
        metrics_destroy(f->metrics);
        free(f);
        return 0;
}

static void produce(struct fixture *f, int id)
{
        int *opaque = malloc(sizeof(*opaque));
        rd_kafka_headers_t *h = rd_kafka_headers_new(1);

        *opaque = id;
        rd_kafka_header_add(h, "dlq.error.code", -1, "test", -1);
        assert_int_equal(dlq_produce(f->dlq, "k", 1, "{\"v\":1}", 7, h, opaque), 0);
}

/* Poll until records [0, n) are each acknowledged once. */
static void wait_acked(struct fixture *f, int n)
{
        int64_t deadline = time_monotonic_ms() + DEADLINE_MS;

        for (;;) {
                int done = 0;

                dlq_poll(f->dlq, 50);
                for (int i = 0; i < n; i++)
                        done += f->acked[i] >= 1;
                if (done == n)
                        break;
                if (time_monotonic_ms() > deadline)
                        fail_msg("%d of %d records acknowledged", done, n);
        }
        for (int i = 0; i < n; i++)
                assert_int_equal(f->acked[i], 1);
}

static void test_records_are_handed_back_once_acknowledged(void **state)
{
        struct fixture *f = *state;

        for (int i = 0; i < 5; i++)
                produce(f, i);
        wait_acked(f, 5);
        assert_int_equal(dlq_flush(f->dlq, 1000), 0);
}

/* The broker refuses the first produce request with an error librdkafka
 * does not retry itself: the delivery report fails, and the records are
 * produced again and acknowledged in the end. */
static void test_failed_delivery_is_produced_again(void **state)
{
        struct fixture *f = *state;

        produce(f, 0);
        wait_acked(f, 1); /* the producer is set up */
        rd_kafka_mock_push_request_errors(
                f->cluster, 0 /* ApiKey Produce */, 1,
                RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
        for (int i = 1; i < 4; i++)
                produce(f, i);
        wait_acked(f, 4);
        assert_true(metric_counter_value(f->errors) >= 1);
}

/* An idempotent producer's fatal error (as after some broker restarts):
 * the producer is replaced and every record still reaches the DLQ. */
static void test_fatal_error_replaces_producer_without_loss(void **state)
{
        struct fixture *f = *state;
        rd_kafka_t *before = dlq_handle(f->dlq);

        produce(f, 0);
        wait_acked(f, 1);
        assert_int_equal(rd_kafka_test_fatal_error(
                                 before, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                 "test: fatal"),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
        for (int i = 1; i < 6; i++)
                produce(f, i); /* queued, or kept for the next producer */
        wait_acked(f, 6);
        assert_ptr_not_equal(dlq_handle(f->dlq), before);
        assert_int_equal(dlq_flush(f->dlq, 1000), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(
                        test_records_are_handed_back_once_acknowledged, setup,
                        teardown),
                cmocka_unit_test_setup_teardown(
                        test_failed_delivery_is_produced_again, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_fatal_error_replaces_producer_without_loss, setup,
                        teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
