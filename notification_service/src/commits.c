/* Which records are finished, and their offsets committed: an offset is
 * committed only once every record before it is finished (offsets.h), so
 * a crash or a rebalance makes the group read again what was not. Also
 * the rebalance callback, which commits before partitions go. See
 * notifier_int.h. */
#include "notifier_int.h"
#include "offsets.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/util.h"

/* How long a synchronous commit may wait for the coordinator. */
#define COMMIT_TIMEOUT_MS 5000

void commits_finish(struct notifier *n, int32_t partition, int64_t offset)
{
        pthread_mutex_lock(&n->tracker_lock);
        offsets_done(n->offsets, partition, offset); /* -1: revoked since */
        pthread_mutex_unlock(&n->tracker_lock);
        atomic_store(&n->dirty, true);
}

int commits_track(struct notifier *n, int32_t partition, int64_t offset)
{
        int ret;

        pthread_mutex_lock(&n->tracker_lock);
        ret = offsets_add(n->offsets, partition, offset);
        pthread_mutex_unlock(&n->tracker_lock);
        return ret == 0 ? 0 : -1;
}

/* Commit 'offsets' and wait for the result, at most COMMIT_TIMEOUT_MS:
 * rd_kafka_commit()'s synchronous mode waits for as long as the group
 * coordinator is unreachable, and a SIGTERM must not. Consumer thread. */
static rd_kafka_resp_err_t
commit_bounded(struct notifier *n, const rd_kafka_topic_partition_list_t *offsets)
{
        rd_kafka_queue_t *q = rd_kafka_queue_new(n->consumer);
        rd_kafka_event_t *ev;
        rd_kafka_resp_err_t err;

        err = rd_kafka_commit_queue(n->consumer, offsets, q, NULL, NULL);
        if (!err) {
                ev = rd_kafka_queue_poll(q, COMMIT_TIMEOUT_MS);
                if (!ev) {
                        err = RD_KAFKA_RESP_ERR__TIMED_OUT;
                } else {
                        err = rd_kafka_event_error(ev);
                        rd_kafka_event_destroy(ev);
                }
        }
        rd_kafka_queue_destroy(q); /* a late result is dropped with it */
        return err;
}

/* A commit that failed is tried again at the next interval. */
static void commit_failed(struct notifier *n, rd_kafka_resp_err_t err)
{
        metric_counter_inc(n->commit_errors);
        atomic_store(&n->dirty, true);
        log_write(LOG_LEVEL_WARN, "offset commit failed",
                  (struct log_field[]){
                          LOG_STR("error.code", rd_kafka_err2name(err)),
                          LOG_STR("error.message", rd_kafka_err2str(err)),
                  },
                  2);
}

void commits_commit(struct notifier *n,
                    const rd_kafka_topic_partition_list_t *parts, bool sync)
{
        rd_kafka_topic_partition_list_t *assigned = NULL, *commit;
        rd_kafka_resp_err_t err;

        if (!parts) {
                if (rd_kafka_assignment(n->consumer, &assigned))
                        return;
                parts = assigned;
        }
        atomic_store(&n->dirty, false);
        commit = rd_kafka_topic_partition_list_new(parts->cnt ? parts->cnt : 1);
        pthread_mutex_lock(&n->tracker_lock);
        for (int i = 0; i < parts->cnt; i++) {
                int64_t off = offsets_committable(n->offsets,
                                                  parts->elems[i].partition);

                if (off >= 0)
                        rd_kafka_topic_partition_list_add(
                                commit, parts->elems[i].topic,
                                parts->elems[i].partition)->offset = off;
        }
        pthread_mutex_unlock(&n->tracker_lock);
        if (commit->cnt > 0) {
                err = sync ? commit_bounded(n, commit)
                           : rd_kafka_commit(n->consumer, commit, 1);
                if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
                        commit_failed(n, err);
        }
        rd_kafka_topic_partition_list_destroy(commit);
        if (assigned)
                rd_kafka_topic_partition_list_destroy(assigned);
        n->last_commit_ms = time_monotonic_ms();
}

/* offset_commit_cb, on the consumer thread: the result of an asynchronous
 * commit. */
static void commit_done(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
        (void)rk;
        (void)offsets;
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
                commit_failed(opaque, err);
}

static void rebalance_assign(struct notifier *n, rd_kafka_t *rk,
                             rd_kafka_topic_partition_list_t *parts)
{
        pthread_mutex_lock(&n->tracker_lock);
        for (int i = 0; i < parts->cnt; i++)
                offsets_assign(n->offsets, parts->elems[i].partition);
        pthread_mutex_unlock(&n->tracker_lock);
        rd_kafka_assign(rk, parts);
        /* A partition paused before a rebalance stays paused when it comes
         * back; records_flow_control() pauses again if needed. */
        rd_kafka_resume_partitions(rk, parts);
        n->paused = false;
        log_write(LOG_LEVEL_INFO, "partitions assigned",
                  (struct log_field[]){LOG_INT("kafka.partitions", parts->cnt)},
                  1);
}

/* rebalance_cb, on the consumer thread (inside consumer_poll or close).
 * Eager protocol (range): the whole assignment changes at once. */
static void rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *parts, void *opaque)
{
        struct notifier *n = opaque;

        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                rebalance_assign(n, rk, parts);
                return;
        }
        if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
                /* What is finished is committed now; records still with a
                 * webhook worker are read again by the next owner. */
                commits_commit(n, parts, true);
                pthread_mutex_lock(&n->tracker_lock);
                for (int i = 0; i < parts->cnt; i++)
                        offsets_revoke(n->offsets, parts->elems[i].partition);
                pthread_mutex_unlock(&n->tracker_lock);
                log_write(LOG_LEVEL_INFO, "partitions revoked",
                          (struct log_field[]){LOG_INT("kafka.partitions",
                                                       parts->cnt)},
                          1);
        } else {
                log_write(LOG_LEVEL_ERROR, "rebalance failed",
                          (struct log_field[]){
                                  LOG_STR("error.code", rd_kafka_err2name(err)),
                                  LOG_STR("error.message", rd_kafka_err2str(err)),
                          },
                          2);
        }
        rd_kafka_assign(rk, NULL);
}

void commits_set_callbacks(struct notifier *n, rd_kafka_conf_t *conf)
{
        rd_kafka_conf_set_rebalance_cb(conf, rebalance);
        rd_kafka_conf_set_offset_commit_cb(conf, commit_done);
        rd_kafka_conf_set_opaque(conf, n);
}
