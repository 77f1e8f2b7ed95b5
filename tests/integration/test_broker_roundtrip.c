/* The test broker works end to end: records produced with librdkafka
 * (acks=all, idempotent) come back, keys, values and headers intact, through
 * a consumer group. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>

#include "shared/util.h"

#define RECORDS 500

static char bootstrap[256];

static void read_bootstrap(void)
{
        const char *dir = getenv("PIPELINE_KAFKA_STATE_DIR");
        char path[1024];
        FILE *f;

        assert_non_null(dir); /* run through ctest: the fixture sets it */
        snprintf(path, sizeof(path), "%s/bootstrap", dir);
        f = fopen(path, "r");
        assert_non_null(f);
        assert_non_null(fgets(bootstrap, sizeof(bootstrap), f));
        fclose(f);
        bootstrap[strcspn(bootstrap, "\r\n")] = '\0';
}

static rd_kafka_t *client_new(rd_kafka_type_t type, const char *group)
{
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;

#define SET(k, v) assert_int_equal(rd_kafka_conf_set(conf, k, v, errstr, sizeof(errstr)), RD_KAFKA_CONF_OK)
        SET("bootstrap.servers", bootstrap);
        if (type == RD_KAFKA_PRODUCER) {
                SET("acks", "all");
                SET("enable.idempotence", "true");
        } else {
                SET("group.id", group);
                SET("auto.offset.reset", "earliest");
                SET("partition.assignment.strategy", "range");
                SET("enable.auto.commit", "false");
        }
#undef SET
        rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
        assert_non_null(rk); /* conf now owned by rk */
        return rk;
}

static void create_topic(rd_kafka_t *rk, const char *topic)
{
        char errstr[512];
        rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, 3, 1, errstr, sizeof(errstr));
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        rd_kafka_event_t *ev;
        const rd_kafka_topic_result_t **res;
        size_t n;

        rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
        ev = rd_kafka_queue_poll(q, 30000);
        assert_non_null(ev);
        res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        assert_int_equal(n, 1);
        assert_int_equal(rd_kafka_topic_result_error(res[0]), RD_KAFKA_RESP_ERR_NO_ERROR);
        rd_kafka_event_destroy(ev);
        rd_kafka_queue_destroy(q);
        rd_kafka_NewTopic_destroy(nt);
}

static void test_produce_then_consume_through_group(void **state)
{
        char topic[64], group[64], id[37];
        rd_kafka_t *producer, *consumer;
        rd_kafka_topic_partition_list_t *subs;
        int seen[RECORDS] = {0};
        int received = 0;
        int64_t deadline;

        (void)state;
        read_bootstrap();
        assert_int_equal(uuid_v4(id, sizeof(id)), 0);
        snprintf(topic, sizeof(topic), "roundtrip-%.8s", id);
        snprintf(group, sizeof(group), "roundtrip-group-%.8s", id);

        producer = client_new(RD_KAFKA_PRODUCER, NULL);
        create_topic(producer, topic);
        for (int i = 0; i < RECORDS; i++) {
                char key[32], value[64];
                snprintf(key, sizeof(key), "key-%d", i);
                snprintf(value, sizeof(value), "{\"n\":%d}", i);
                assert_int_equal(
                        rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic),
                                          RD_KAFKA_V_KEY(key, strlen(key)),
                                          RD_KAFKA_V_VALUE(value, strlen(value)),
                                          RD_KAFKA_V_HEADER("content-type", "application/json", -1),
                                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                          RD_KAFKA_V_END),
                        RD_KAFKA_RESP_ERR_NO_ERROR);
        }
        assert_int_equal(rd_kafka_flush(producer, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
        assert_int_equal(rd_kafka_outq_len(producer), 0);
        rd_kafka_destroy(producer);

        consumer = client_new(RD_KAFKA_CONSUMER, group);
        rd_kafka_poll_set_consumer(consumer);
        subs = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(subs, topic, RD_KAFKA_PARTITION_UA);
        assert_int_equal(rd_kafka_subscribe(consumer, subs), RD_KAFKA_RESP_ERR_NO_ERROR);
        rd_kafka_topic_partition_list_destroy(subs);

        deadline = time_monotonic_ms() + 60000;
        while (received < RECORDS && time_monotonic_ms() < deadline) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, 200);
                rd_kafka_headers_t *hdrs;
                const void *hv;
                size_t hlen;
                int n;

                if (!m)
                        continue;
                assert_int_equal(m->err, RD_KAFKA_RESP_ERR_NO_ERROR);
                assert_int_equal(sscanf((const char *)m->payload, "{\"n\":%d}", &n), 1);
                assert_true(n >= 0 && n < RECORDS);
                char want_key[32];
                snprintf(want_key, sizeof(want_key), "key-%d", n);
                assert_int_equal(m->key_len, strlen(want_key));
                assert_memory_equal(m->key, want_key, m->key_len);
                assert_int_equal(rd_kafka_message_headers(m, &hdrs), RD_KAFKA_RESP_ERR_NO_ERROR);
                assert_int_equal(rd_kafka_header_get_last(hdrs, "content-type", &hv, &hlen),
                                 RD_KAFKA_RESP_ERR_NO_ERROR);
                assert_int_equal(hlen, strlen("application/json"));
                assert_int_equal(seen[n], 0); /* no duplicates */
                seen[n] = 1;
                received++;
                rd_kafka_message_destroy(m);
        }
        assert_int_equal(received, RECORDS);
        assert_int_equal(rd_kafka_commit(consumer, NULL, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
        rd_kafka_consumer_close(consumer);
        rd_kafka_destroy(consumer);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_produce_then_consume_through_group),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
