/* kafka_topics_ensure() and kafka_topics_ready() against the real broker:
 * missing topics are created with the partitions asked for, a second call
 * is a no-op, and two instances racing to create the same topic both
 * succeed. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>

#include "shared/config.h"
#include "shared/kafka.h"
#include "shared/log.h"
#include "shared/util.h"

#define TIMEOUT_MS 30000

static char bootstrap[256];

static int read_bootstrap(void **state)
{
        const char *dir = getenv("PIPELINE_KAFKA_STATE_DIR");
        char path[1024];
        FILE *f;

        if (!dir) { /* run through ctest: the fixture sets it */
                fprintf(stderr, "PIPELINE_KAFKA_STATE_DIR is not set\n");
                return -1;
        }
        snprintf(path, sizeof(path), "%s/bootstrap", dir);
        f = fopen(path, "r");
        if (!f || !fgets(bootstrap, sizeof(bootstrap), f)) {
                fprintf(stderr, "cannot read '%s'\n", path);
                if (f)
                        fclose(f);
                return -1;
        }
        fclose(f);
        bootstrap[strcspn(bootstrap, "\r\n")] = '\0';
        return 0;
}

static rd_kafka_t *producer_new(void)
{
        struct config cfg = {.bootstrap_servers = bootstrap};
        char errstr[512];
        rd_kafka_conf_t *conf = kafka_conf_new(&cfg, KAFKA_ROLE_PRODUCER,
                                               errstr, sizeof(errstr));
        rd_kafka_t *rk;

        assert_non_null(conf);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        assert_non_null(rk);
        conf = NULL; /* now owned, and freed, by rk */
        return rk;
}

static int partition_count(rd_kafka_t *rk, const char *topic)
{
        const struct rd_kafka_metadata *md;
        int n = -1;

        assert_int_equal(rd_kafka_metadata(rk, 1, NULL, &md, TIMEOUT_MS), 0);
        for (int i = 0; i < md->topic_cnt; i++) {
                if (strcmp(md->topics[i].topic, topic) == 0 &&
                    !md->topics[i].err)
                        n = md->topics[i].partition_cnt;
        }
        rd_kafka_metadata_destroy(md);
        return n;
}

static void unique(char *buf, size_t size, const char *prefix)
{
        char id[37];

        assert_int_equal(uuid_v4(id, sizeof(id)), 0);
        snprintf(buf, size, "%s-%.8s", prefix, id);
}

/* Missing topics are created with the partitions asked for, then ready;
 * a second call finds them and changes nothing. */
static void ensure_creates_then_is_idempotent(void **state)
{
        char orders[64], notifications[64], errstr[512] = "";
        const char *topics[2] = {orders, notifications};
        rd_kafka_t *rk = producer_new();
        int64_t deadline;
        bool ready = false;

        unique(orders, sizeof(orders), "orders");
        unique(notifications, sizeof(notifications), "notifications");
        assert_false(kafka_topics_ready(rk, topics, 2, TIMEOUT_MS));
        if (kafka_topics_ensure(rk, topics, 2, 3, 1, TIMEOUT_MS, errstr,
                                sizeof(errstr)) != 0)
                fail_msg("kafka_topics_ensure: %s", errstr);
        /* Leaders are elected shortly after creation. */
        deadline = time_monotonic_ms() + TIMEOUT_MS;
        while (!ready && time_monotonic_ms() < deadline)
                ready = kafka_topics_ready(rk, topics, 2, 5000);
        assert_true(ready);
        assert_int_equal(partition_count(rk, orders), 3);
        assert_int_equal(partition_count(rk, notifications), 3);

        if (kafka_topics_ensure(rk, topics, 2, 6, 1, TIMEOUT_MS, errstr,
                                sizeof(errstr)) != 0)
                fail_msg("second kafka_topics_ensure: %s", errstr);
        assert_int_equal(partition_count(rk, orders), 3);
        rd_kafka_destroy(rk);
}

struct racer {
        const char *topic;
        int ret;
        char errstr[512];
};

static void *racer_run(void *arg)
{
        struct racer *r = arg;
        const char *topics[1] = {r->topic};
        rd_kafka_t *rk = producer_new();

        r->ret = kafka_topics_ensure(rk, topics, 1, 2, 1, TIMEOUT_MS,
                                     r->errstr, sizeof(r->errstr));
        rd_kafka_destroy(rk);
        return NULL;
}

/* Two instances starting together both see the topic as theirs: the one
 * that loses the race gets TOPIC_ALREADY_EXISTS, which is success. */
static void concurrent_ensure_both_succeed(void **state)
{
        char topic[64];
        struct racer racers[4];
        pthread_t t[4];

        unique(topic, sizeof(topic), "race");
        for (int i = 0; i < 4; i++) {
                racers[i] = (struct racer){.topic = topic, .ret = -2};
                assert_int_equal(pthread_create(&t[i], NULL, racer_run,
                                                &racers[i]),
                                 0);
        }
        for (int i = 0; i < 4; i++) {
                pthread_join(t[i], NULL);
                if (racers[i].ret != 0)
                        fail_msg("racer %d: %s", i, racers[i].errstr);
        }
}

/* A replication factor the cluster cannot meet is an error naming the
 * topic. */
static void impossible_replication_is_an_error(void **state)
{
        char topic[64], errstr[512] = "";
        const char *topics[1] = {topic};
        rd_kafka_t *rk = producer_new();

        unique(topic, sizeof(topic), "replicated");
        assert_int_equal(kafka_topics_ensure(rk, topics, 1, 1, 3, TIMEOUT_MS,
                                             errstr, sizeof(errstr)),
                         -1);
        assert_non_null(strstr(errstr, topic));
        rd_kafka_destroy(rk);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(ensure_creates_then_is_idempotent),
                cmocka_unit_test(concurrent_ensure_both_succeed),
                cmocka_unit_test(impossible_replication_is_an_error),
        };

        return cmocka_run_group_tests(tests, read_bootstrap, NULL);
}
