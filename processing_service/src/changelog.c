/* The dedupe store (dedupe.c) kept in step with its changelog topic, so
 * that "exactly one status per order_id" survives kill -9, rebalances and
 * partitions moving between instances.
 *
 * Writing: a status and its changelog entry (key order_id, value the
 * fingerprint, timestamp the time of the status) are produced in the same
 * transaction as the consumed offsets. Changelog partition N holds the
 * entries of orders partition N, so one partition's store is restored
 * from one changelog partition. The topic is cleanup.policy=compact,delete
 * with retention.ms = DEDUPE_RETENTION.
 *
 * Restoring (Kafka Streams' state stores work the same way): on
 * assignment, before a record of the partition is processed, its store is
 * rebuilt from the changelog, read with read_committed up to the end
 * measured at assignment. That end is the high watermark, read
 * read_uncommitted: were it the last stable offset, a transaction of the
 * previous owner still writing its commit markers would be left out while
 * its offsets count as consumed, and the orders it remembered would get a
 * second status. Waiting for the high watermark waits for such a
 * transaction to finish (committed: read; aborted: skipped). An instance
 * killed with a transaction open holds that up to transaction.timeout.ms,
 * as it holds up the read_committed consumer of the orders anyway.
 *
 * A transaction that wrote to the store and did not commit (aborted, or
 * its producer replaced) leaves entries that the changelog does not have:
 * the assigned stores are restored again before the next record.
 *
 * Everything runs on the processor thread (the rebalance callback too). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dedupe.h"
#include "processor_int.h"
#include "shared/kafka.h"
#include "shared/metrics.h"
#include "shared/order.h"
#include "shared/shutdown.h"
#include "shared/util.h"

/* How often expired entries are dropped from the store. */
#define EXPIRE_EVERY_MS 60000
/* Bound of one metadata or watermark request, retried until shutdown. */
#define CHANGELOG_CALL_MS 10000
/* Longest wait in one poll of the restorer. */
#define RESTORE_POLL_MS 100

static void changelog_metrics_init(struct processor *p, struct metrics *m)
{
        if (!m)
                return;
        p->m_outcomes[OUTCOME_DUPLICATE] = metrics_counter(
                m, "processing_duplicates_total",
                "Orders whose order_id already had a status (committed): "
                "ignored when the same order, dead-lettered when not.",
                "result=\"ignored\"");
        p->m_outcomes[OUTCOME_CONFLICT] = metrics_counter(
                m, "processing_duplicates_total",
                "Orders whose order_id already had a status (committed): "
                "ignored when the same order, dead-lettered when not.",
                "result=\"dead_lettered\"");
        p->m_restored = metrics_counter(
                m, "processing_dedupe_restored_total",
                "Entries read from the changelog into the dedupe store.", NULL);
        p->m_restore_seconds = metrics_histogram(
                m, "processing_dedupe_restore_seconds",
                "Time to restore the dedupe store of an assignment.", NULL,
                metrics_latency_buckets, metrics_latency_buckets_count);
        p->m_dedupe_entries = metrics_gauge(
                m, "processing_dedupe_entries",
                "order_ids in the dedupe store (assigned partitions).", NULL);
        p->m_dedupe_bytes = metrics_gauge(
                m, "processing_dedupe_bytes",
                "Memory the dedupe store takes, as allocated.", NULL);
}

/* A reader of the changelog: assign only (it never joins the group),
 * never commits; it skips aborted transactions ('isolation'
 * read_committed) or, for measuring ends, sees them (read_uncommitted).
 * Ours alone: these properties are set whatever a KAFKA_* variable says
 * (it means the group's consumer), and the restore relies on them. */
static rd_kafka_t *reader_new(const struct config *cfg, const char *isolation,
                              const char *what, char *errstr,
                              size_t errstr_size)
{
        const char *props[] = {
                "enable.auto.commit",   "false",
                "enable.partition.eof", "true",
                "isolation.level",      isolation,
        };
        rd_kafka_conf_t *conf = kafka_conf_new(cfg, KAFKA_ROLE_CONSUMER,
                                               errstr, errstr_size);

        for (size_t i = 0; conf && i < sizeof(props) / sizeof(props[0]);
             i += 2) {
                if (rd_kafka_conf_set(conf, props[i], props[i + 1], errstr,
                                      errstr_size) != RD_KAFKA_CONF_OK) {
                        rd_kafka_conf_destroy(conf);
                        conf = NULL;
                }
        }
        if (!conf)
                return NULL;
        return kafka_client_new(RD_KAFKA_CONSUMER, conf, what, errstr,
                                errstr_size);
}

int changelog_init(struct processor *p, const struct processor_options *opts,
                   struct metrics *m, char *errstr, size_t errstr_size)
{
        changelog_metrics_init(p, m);
        p->dedupe_retention_ms = opts->dedupe_retention_ms;
        if (opts->dedupe_retention_ms <= 0)
                return 0;
        p->dedupe = dedupe_new(opts->dedupe_retention_ms);
        p->changelog_topic = strdup(opts->changelog_topic);
        if (!p->dedupe || !p->changelog_topic)
                return error_set(errstr, errstr_size, "out of memory");
        p->restorer = reader_new(opts->cfg, "read_committed",
                                 "the changelog reader", errstr, errstr_size);
        if (!p->restorer)
                return -1;
        p->watermarks = reader_new(opts->cfg, "read_uncommitted",
                                   "the changelog watermarks reader", errstr,
                                   errstr_size);
        return p->watermarks ? 0 : -1;
}

void changelog_destroy(struct processor *p)
{
        if (p->restorer)
                rd_kafka_destroy(p->restorer);
        if (p->watermarks)
                rd_kafka_destroy(p->watermarks);
        dedupe_destroy(p->dedupe);
        free(p->changelog_topic);
}

/* Create the changelog with as many partitions as the orders topic and
 * check that it has them. Returns 0, or -1 with errstr. */
static int changelog_topic_ensure(struct processor *p, char *errstr,
                                  size_t errstr_size)
{
        char retention[32], segment[32];
        const char *configs[] = {
                "cleanup.policy", "compact,delete",
                "retention.ms",   retention,
                /* Segments are what retention deletes: a seventh of it. */
                "segment.ms",     segment,
        };
        int64_t seg = p->dedupe_retention_ms / 7;
        int orders, have;

        snprintf(retention, sizeof(retention), "%lld",
                 (long long)p->dedupe_retention_ms);
        snprintf(segment, sizeof(segment), "%lld",
                 (long long)(seg < 60000 ? 60000 : seg));
        orders = kafka_topic_partitions(p->producer, p->cfg->orders_topic,
                                        CHANGELOG_CALL_MS, errstr, errstr_size);
        if (orders < 0 ||
            kafka_topic_create(p->producer, p->changelog_topic, orders,
                               p->cfg->topic_replication_factor, configs, 3,
                               CHANGELOG_CALL_MS, errstr, errstr_size) < 0)
                return -1;
        have = kafka_topic_partitions(p->producer, p->changelog_topic,
                                      CHANGELOG_CALL_MS, errstr, errstr_size);
        if (have < 0)
                return -1;
        if (have < orders)
                return error_set(errstr, errstr_size,
                                 "the changelog '%s' has %d partitions, the "
                                 "orders topic %d: give it as many (or a new "
                                 "DEDUPE_TOPIC)",
                                 p->changelog_topic, have, orders);
        return 0;
}

int changelog_start(struct processor *p)
{
        char errstr[512];

        if (!p->dedupe)
                return 0;
        while (changelog_topic_ensure(p, errstr, sizeof(errstr)) < 0) {
                bool fatal = strstr(errstr, "partitions, the orders") != NULL;

                log_write(fatal ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN,
                          "cannot use the dedupe changelog",
                          (struct log_field[]){
                                  LOG_STR("kafka.topic", p->changelog_topic),
                                  LOG_STR("error.message", errstr),
                          },
                          2);
                if (fatal)
                        return -1;
                if (shutdown_wait(1000))
                        return 1;
        }
        p->dedupe_next_expire_ms = time_monotonic_ms() + EXPIRE_EVERY_MS;
        return 0;
}

void changelog_forget(struct processor *p,
                      const rd_kafka_topic_partition_list_t *parts)
{
        if (!p->dedupe)
                return;
        for (int i = 0; i < parts->cnt; i++)
                dedupe_drop(p->dedupe, parts->elems[i].partition);
        metric_gauge_set(p->m_dedupe_entries, (double)dedupe_count(p->dedupe));
        metric_gauge_set(p->m_dedupe_bytes, (double)dedupe_bytes(p->dedupe));
}

/* The changelog partitions of 'parts' that have entries, each with the
 * offset to read from (the start) and, in .metadata-free .err-free
 * 'ends', the high watermark to read up to. Returns the list (destroy
 * it), or NULL at shutdown. */
static rd_kafka_topic_partition_list_t *
restore_plan(struct processor *p, const rd_kafka_topic_partition_list_t *parts,
             int64_t *ends)
{
        rd_kafka_topic_partition_list_t *plan =
                rd_kafka_topic_partition_list_new(parts->cnt);

        for (int i = 0; i < parts->cnt; i++) {
                int32_t part = parts->elems[i].partition;
                int64_t low = 0, high = 0;
                rd_kafka_resp_err_t err;

                while ((err = rd_kafka_query_watermark_offsets(
                                p->watermarks, p->changelog_topic, part, &low,
                                &high, CHANGELOG_CALL_MS))) {
                        log_write(LOG_LEVEL_WARN,
                                  "cannot read the changelog's end",
                                  (struct log_field[]){
                                          LOG_INT("kafka.partition", part),
                                          LOG_STR("error.code",
                                                  rd_kafka_err2name(err)),
                                  },
                                  2);
                        if (shutdown_wait(500)) {
                                rd_kafka_topic_partition_list_destroy(plan);
                                return NULL;
                        }
                }
                if (high <= low)
                        continue;
                ends[plan->cnt] = high;
                rd_kafka_topic_partition_list_add(plan, p->changelog_topic, part)
                        ->offset = RD_KAFKA_OFFSET_BEGINNING;
        }
        return plan;
}

/* Put one changelog record into the store (when not expired). */
static void restore_apply(struct processor *p, const rd_kafka_message_t *msg,
                          int64_t now_ms, size_t *restored)
{
        rd_kafka_timestamp_type_t tstype;
        int64_t at_ms = rd_kafka_message_timestamp(msg, &tstype);
        uint64_t fp;

        if (!msg->key || msg->key_len == 0 ||
            msg->key_len > ORDER_ID_MAX_CHARS ||
            dedupe_value_decode(msg->payload, msg->len, &fp) < 0) {
                log_write(LOG_LEVEL_WARN, "changelog record ignored",
                          (struct log_field[]){
                                  LOG_INT("kafka.partition", msg->partition),
                                  LOG_INT("kafka.offset", msg->offset),
                          },
                          2);
                return;
        }
        if (at_ms < 0 || at_ms + p->dedupe_retention_ms < now_ms)
                return; /* expired, or no time to tell */
        if (dedupe_put(p->dedupe, msg->partition, msg->key, msg->key_len, fp,
                       at_ms) == 0)
                (*restored)++;
}

/* Index in 'plan' of partition 'part', or -1. */
static int plan_index(const rd_kafka_topic_partition_list_t *plan,
                      int32_t part)
{
        for (int i = 0; i < plan->cnt; i++)
                if (plan->elems[i].partition == part)
                        return i;
        return -1;
}

/* Mark done the partitions whose position reached their end; returns
 * how many are left. */
static int restore_left(struct processor *p,
                        rd_kafka_topic_partition_list_t *plan,
                        const int64_t *ends, bool *done)
{
        int left = 0;

        rd_kafka_position(p->restorer, plan);
        for (int i = 0; i < plan->cnt; i++) {
                if (plan->elems[i].offset >= ends[i])
                        done[i] = true;
                left += !done[i];
        }
        return left;
}

/* Read 'plan' until each partition reaches its end. Returns 0, or -1 at
 * shutdown. */
static int restore_read(struct processor *p,
                        rd_kafka_topic_partition_list_t *plan,
                        const int64_t *ends, size_t *restored)
{
        bool *done = calloc((size_t)plan->cnt, sizeof(*done));
        int left = plan->cnt, ret = -1;
        int64_t now_ms = time_epoch_ms();

        if (!done || rd_kafka_assign(p->restorer, plan))
                goto out;
        while (left > 0 && !shutdown_requested()) {
                rd_kafka_message_t *msg =
                        rd_kafka_consumer_poll(p->restorer, RESTORE_POLL_MS);
                int i;

                if (!msg) {
                        left = restore_left(p, plan, ends, done);
                        continue;
                }
                i = plan_index(plan, msg->partition);
                if (!msg->err)
                        restore_apply(p, msg, now_ms, restored);
                else if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                        log_write(LOG_LEVEL_WARN, "changelog read error",
                                  (struct log_field[]){
                                          LOG_STR("error.code",
                                                  rd_kafka_err2name(msg->err)),
                                  },
                                  1);
                /* EOF carries the next fetch offset, past control records. */
                if (i >= 0 && !done[i] &&
                    (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF
                             ? msg->offset >= ends[i]
                             : !msg->err && msg->offset + 1 >= ends[i])) {
                        done[i] = true;
                        left--;
                }
                rd_kafka_message_destroy(msg);
        }
        ret = left == 0 ? 0 : -1;
out:
        rd_kafka_assign(p->restorer, NULL);
        free(done);
        return ret;
}

int changelog_restore(struct processor *p,
                      const rd_kafka_topic_partition_list_t *parts)
{
        int64_t start_us = time_monotonic_us(), *ends;
        rd_kafka_topic_partition_list_t *plan = NULL;
        size_t restored = 0;
        int ret = -1;

        if (!p->dedupe)
                return 0;
        changelog_forget(p, parts);
        ends = calloc((size_t)parts->cnt + 1, sizeof(*ends));
        if (ends)
                plan = restore_plan(p, parts, ends);
        if (plan)
                ret = plan->cnt ? restore_read(p, plan, ends, &restored) : 0;
        if (ret == 0) {
                p->dedupe_stale = false;
                metric_counter_add(p->m_restored, restored);
                metric_histogram_observe(
                        p->m_restore_seconds,
                        (double)(time_monotonic_us() - start_us) / 1e6);
                log_write(LOG_LEVEL_INFO, "dedupe store restored",
                          (struct log_field[]){
                                  LOG_INT("kafka.partitions", parts->cnt),
                                  LOG_INT("dedupe.entries", (long long)restored),
                                  LOG_INT("dedupe.restore_ms",
                                          (time_monotonic_us() - start_us) / 1000),
                          },
                          3);
        }
        metric_gauge_set(p->m_dedupe_entries, (double)dedupe_count(p->dedupe));
        metric_gauge_set(p->m_dedupe_bytes, (double)dedupe_bytes(p->dedupe));
        if (plan)
                rd_kafka_topic_partition_list_destroy(plan);
        free(ends);
        return ret;
}

int changelog_turn(struct processor *p, int64_t now_ms)
{
        rd_kafka_topic_partition_list_t *parts = NULL;
        int ret = 0;

        if (!p->dedupe)
                return 0;
        if (p->dedupe_stale && !p->txn_open &&
            !rd_kafka_assignment(p->consumer, &parts)) {
                log_write(LOG_LEVEL_INFO,
                          "restoring the dedupe store: a transaction did not "
                          "commit",
                          NULL, 0);
                ret = changelog_restore(p, parts);
                rd_kafka_topic_partition_list_destroy(parts);
        }
        if (now_ms >= p->dedupe_next_expire_ms) {
                dedupe_expire(p->dedupe, time_epoch_ms());
                p->dedupe_next_expire_ms = now_ms + EXPIRE_EVERY_MS;
        }
        metric_gauge_set(p->m_dedupe_entries, (double)dedupe_count(p->dedupe));
        metric_gauge_set(p->m_dedupe_bytes, (double)dedupe_bytes(p->dedupe));
        return ret;
}

int changelog_check(struct processor *p, const rd_kafka_message_t *msg,
                    const struct order *order, uint64_t *fingerprint)
{
        if (!p->dedupe)
                return DEDUPE_NEW;
        *fingerprint = dedupe_fingerprint(order);
        return dedupe_check(p->dedupe, msg->partition, order->order_id,
                            strlen(order->order_id), *fingerprint,
                            time_epoch_ms());
}

int changelog_remember(struct processor *p, const rd_kafka_message_t *msg,
                       const struct order *order, uint64_t fingerprint,
                       rd_kafka_resp_err_t *errp)
{
        size_t len = strlen(order->order_id);
        int64_t now_ms = time_epoch_ms();
        char value[DEDUPE_VALUE_LEN];

        if (!p->dedupe)
                return 0;
        dedupe_value_encode(fingerprint, value);
        if (output_produce(p, p->changelog_topic, msg->partition,
                           order->order_id, len, value, sizeof(value), NULL,
                           errp) < 0)
                return -1;
        /* Until the transaction commits, the changelog may lose what the
         * store has: txn_reset() marks the store stale. */
        if (dedupe_put(p->dedupe, msg->partition, order->order_id, len,
                       fingerprint, now_ms) < 0) {
                *errp = RD_KAFKA_RESP_ERR__FAIL;
                return -1;
        }
        return 0;
}
