/* The order-status view (view.h): its consumer thread and its lock.
 *
 * The consumer assigns every partition of both topics itself. librdkafka
 * 2.0.2 refuses rd_kafka_assign() without a group.id, so it gets one
 * ("<client>.view"), but it never subscribes, joins or commits: each
 * instance reads everything. It starts at the first record within the
 * retention (offsets_for_times), and counts a partition caught up at its
 * first end-of-partition event (enable.partition.eof), which for
 * read_committed is the last stable offset. */
#define _GNU_SOURCE /* program_invocation_short_name */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "shared/deadline.h"
#include "shared/kafka.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/util.h"
#include "view.h"
#include "view_subs.h"

#define VIEW_POLL_MS 100
#define VIEW_METADATA_TIMEOUT_MS 5000
#define VIEW_METADATA_RETRY_MS 1000

struct view {
        pthread_mutex_t lock; /* guards 'store' and 'subs' */
        struct view_store store;
        struct view_subs subs;
        rd_kafka_t *rk;
        char *topics[2];      /* orders, notifications */
        pthread_t thread;
        bool thread_started;
        atomic_bool stopping;
        atomic_bool ready;
        int eof_pending;      /* partitions not yet read to their end */
        unsigned char *eof_seen[2]; /* per topic, per partition */
        int partitions[2];
        int64_t start_ms;
        struct metric_counter *bad_records;
};

static const struct kafka_setting view_settings[] = {
        {"isolation.level", "read_committed", KAFKA_REQUIRED},
        {"enable.auto.commit", "false", KAFKA_REQUIRED},
        {"enable.auto.offset.store", "false", KAFKA_REQUIRED},
        {"enable.partition.eof", "true", KAFKA_REQUIRED},
        {"auto.offset.reset", "earliest", KAFKA_REQUIRED},
};

static int64_t wall_ms(void)
{
        struct timeval tv;

        gettimeofday(&tv, NULL);
        return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static double view_orders_gauge(void *arg)
{
        struct view *v = arg;
        double n;

        pthread_mutex_lock(&v->lock);
        n = (double)v->store.count;
        pthread_mutex_unlock(&v->lock);
        return n;
}

/* Which of the two topics 'name' is: 0, 1, or -1. */
static int topic_index(const struct view *v, const char *name)
{
        for (int i = 0; i < 2; i++)
                if (strcmp(v->topics[i], name) == 0)
                        return i;
        return -1;
}

/* Apply one record under the lock and wake whom it concerns. */
static void view_apply(struct view *v, const rd_kafka_message_t *m, int t)
{
        struct order_status st;
        struct model_error err;
        struct view_entry *e = NULL;
        int64_t ts = rd_kafka_message_timestamp(m, NULL), now = wall_ms();
        bool oom = false, ok;

        if (ts <= 0)
                ts = now;
        if (t == 0)
                ok = order_decode(m->payload, m->len, ORDER_FROM_RECORD,
                                  &st.order, &err) == 0;
        else
                ok = order_status_decode(m->payload, m->len, &st, &err) == 0;
        if (!ok) {
                /* orders.dlq is processing's to fill; the view skips. */
                metric_counter_inc(v->bad_records);
                return;
        }
        pthread_mutex_lock(&v->lock);
        if (!view_store_is_expired(&v->store, ts, now)) {
                if (t == 0)
                        e = view_store_apply_order(&v->store, &st.order,
                                                   m->partition, m->offset, ts,
                                                   &oom);
                else
                        e = view_store_apply_status(&v->store, &st, m->partition,
                                                    m->offset, ts, &oom);
        }
        if (e)
                view_subs_dispatch(&v->subs, &v->store, e,
                                   t == 0 ? &e->accepted : &e->final);
        view_store_expire(&v->store, now);
        pthread_mutex_unlock(&v->lock);
        if (oom)
                log_write(LOG_LEVEL_ERROR, "order view: out of memory",
                          (struct log_field[]){LOG_STR("order.id",
                                                       st.order.order_id)},
                          1);
}

/* A partition's first end: once every one has had it, the view is ready. */
static void view_partition_eof(struct view *v, const rd_kafka_message_t *m,
                               int t)
{
        if (m->partition < 0 || m->partition >= v->partitions[t] ||
            v->eof_seen[t][m->partition])
                return;
        v->eof_seen[t][m->partition] = 1;
        if (--v->eof_pending > 0)
                return;
        pthread_mutex_lock(&v->lock);
        size_t count = v->store.count;
        pthread_mutex_unlock(&v->lock);
        atomic_store(&v->ready, true);
        log_write(LOG_LEVEL_INFO, "order view caught up",
                  (struct log_field[]){
                          LOG_INT("order_view.orders", count),
                          LOG_INT("event.duration",
                                  (time_monotonic_ms() - v->start_ms) *
                                          1000000),
                  },
                  2);
}

/* The partition counts of both topics, waiting while they are missing.
 * Returns 0, or -1 once stopping. */
static int view_wait_topics(struct view *v)
{
        for (;;) {
                const struct rd_kafka_metadata *md = NULL;
                int found = 0;

                if (atomic_load(&v->stopping))
                        return -1;
                if (rd_kafka_metadata(v->rk, 1, NULL, &md,
                                      VIEW_METADATA_TIMEOUT_MS) == 0) {
                        for (int i = 0; i < md->topic_cnt; i++) {
                                int t = topic_index(v, md->topics[i].topic);

                                if (t >= 0 && !md->topics[i].err &&
                                    md->topics[i].partition_cnt > 0) {
                                        v->partitions[t] =
                                                md->topics[i].partition_cnt;
                                        found |= 1 << t;
                                }
                        }
                        rd_kafka_metadata_destroy(md);
                }
                if (found == 3)
                        return 0;
                for (int64_t d = deadline_in(VIEW_METADATA_RETRY_MS);
                     !deadline_passed(d) && !atomic_load(&v->stopping);)
                        rd_kafka_poll(v->rk, 100);
        }
}

/* Assign every partition from the first record within the retention. */
static int view_assign(struct view *v)
{
        rd_kafka_topic_partition_list_t *parts;
        rd_kafka_resp_err_t err;
        int64_t from = v->store.retention_ms > 0
                               ? wall_ms() - v->store.retention_ms
                               : 0;

        parts = rd_kafka_topic_partition_list_new(v->partitions[0] +
                                                  v->partitions[1]);
        for (int t = 0; t < 2; t++) {
                v->eof_seen[t] = calloc((size_t)v->partitions[t], 1);
                if (!v->eof_seen[t]) {
                        rd_kafka_topic_partition_list_destroy(parts);
                        return -1;
                }
                for (int p = 0; p < v->partitions[t]; p++)
                        rd_kafka_topic_partition_list_add(parts, v->topics[t], p)
                                ->offset = from;
        }
        v->eof_pending = parts->cnt;
        /* The offset of the first record at or after 'from' in each;
         * the end where there is none (librdkafka says -1: "latest"). */
        err = rd_kafka_offsets_for_times(v->rk, parts, VIEW_METADATA_TIMEOUT_MS);
        for (int i = 0; i < parts->cnt; i++)
                if (err || parts->elems[i].err)
                        parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
        err = rd_kafka_assign(v->rk, parts);
        rd_kafka_topic_partition_list_destroy(parts);
        if (err) {
                log_write(LOG_LEVEL_ERROR, "order view: cannot assign",
                          (struct log_field[]){LOG_STR("error.message",
                                                       rd_kafka_err2str(err))},
                          1);
                return -1;
        }
        return 0;
}

/* The consumer thread: the view's only writer. */
static void *view_run(void *arg)
{
        struct view *v = arg;

        if (view_wait_topics(v) == -1 || view_assign(v) == -1)
                return NULL;
        while (!atomic_load(&v->stopping)) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(v->rk,
                                                               VIEW_POLL_MS);
                int t;

                if (!m) {
                        pthread_mutex_lock(&v->lock);
                        view_store_expire(&v->store, wall_ms());
                        pthread_mutex_unlock(&v->lock);
                        continue;
                }
                t = m->rkt ? topic_index(v, rd_kafka_topic_name(m->rkt)) : -1;
                if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && t >= 0)
                        view_partition_eof(v, m, t);
                else if (m->err)
                        log_write(LOG_LEVEL_WARN, "order view: consumer error",
                                  (struct log_field[]){LOG_STR(
                                          "error.message",
                                          rd_kafka_message_errstr(m))},
                                  1);
                else if (t >= 0)
                        view_apply(v, m, t);
                rd_kafka_message_destroy(m);
        }
        return NULL;
}

static rd_kafka_t *view_consumer_new(const struct config *cfg, char *errstr,
                                     size_t errstr_size)
{
        struct config own = *cfg; /* shallow: only group_id differs */
        char group[128];
        rd_kafka_conf_t *conf;

        snprintf(group, sizeof(group), "%s.view",
                 program_invocation_short_name);
        own.group_id = group;
        own.auto_offset_reset = NULL;
        conf = kafka_conf_with(&own, KAFKA_ROLE_CONSUMER,
                               KAFKA_SETTINGS(view_settings), errstr,
                               errstr_size);
        if (!conf)
                return NULL;
        return kafka_client_new(RD_KAFKA_CONSUMER, conf, "the view's consumer",
                                errstr, errstr_size);
}

struct view *view_new(const struct view_options *opts, char *errstr,
                      size_t errstr_size)
{
        struct view *v = calloc(1, sizeof(*v));

        if (!v) {
                error_set(errstr, errstr_size, "out of memory");
                return NULL;
        }
        pthread_mutex_init(&v->lock, NULL);
        view_subs_init(&v->subs, opts->max_queued_events);
        v->start_ms = time_monotonic_ms();
        v->topics[0] = strdup(opts->cfg->orders_topic);
        v->topics[1] = strdup(opts->cfg->notifications_topic);
        if (!v->topics[0] || !v->topics[1] ||
            view_store_init(&v->store, opts->max_orders, opts->retention_ms,
                            v->topics[0], v->topics[1]) == -1) {
                error_set(errstr, errstr_size, "out of memory");
                goto fail;
        }
        v->bad_records = metrics_counter(opts->metrics,
                                         "order_view_skipped_records_total",
                                         "Records the view could not decode",
                                         NULL);
        if (metrics_gauge_fn(opts->metrics, "order_view_orders",
                             "Orders held by the order-status view", NULL,
                             view_orders_gauge, v) == -1)
                log_write(LOG_LEVEL_WARN, "cannot register the view gauge",
                          NULL, 0);
        if (!(v->rk = view_consumer_new(opts->cfg, errstr, errstr_size)))
                goto fail;
        if (pthread_create(&v->thread, NULL, view_run, v) != 0) {
                error_set(errstr, errstr_size, "cannot start the view thread");
                goto fail;
        }
        v->thread_started = true;
        return v;
fail:
        view_destroy(v);
        return NULL;
}

void view_stop_streams(struct view *v)
{
        pthread_mutex_lock(&v->lock);
        view_subs_stop(&v->subs);
        pthread_mutex_unlock(&v->lock);
}

void view_destroy(struct view *v)
{
        if (!v)
                return;
        atomic_store(&v->stopping, true);
        if (v->thread_started)
                pthread_join(v->thread, NULL);
        if (v->rk) {
                rd_kafka_consumer_close(v->rk);
                rd_kafka_destroy(v->rk);
        }
        view_subs_release(&v->subs);
        view_store_release(&v->store);
        for (int t = 0; t < 2; t++) {
                free(v->topics[t]);
                free(v->eof_seen[t]);
        }
        pthread_mutex_destroy(&v->lock);
        free(v);
}

bool view_is_ready(void *arg, char *reason, size_t reason_size)
{
        struct view *v = arg;

        if (atomic_load(&v->ready))
                return true;
        snprintf(reason, reason_size, "order_view_catching_up");
        return false;
}

enum view_get_result view_get(struct view *v, const char *order_id,
                              int64_t deadline, struct strbuf *json)
{
        struct view_sub *sub = NULL;
        struct view_entry *e;
        enum view_get_result ret;

        pthread_mutex_lock(&v->lock);
        e = view_store_find(&v->store, order_id);
        if (deadline && !(e && view_entry_is_final(e)))
                sub = view_subs_add(&v->subs, &v->store, VIEW_BY_ORDER,
                                    order_id, VIEW_SUB_WAKE_ONLY, NULL, NULL);
        /* Any event of the order wakes it: the status is looked at again. */
        while (sub && !((e = view_store_find(&v->store, order_id)) &&
                        view_entry_is_final(e)) &&
               view_subs_wait(&v->subs, sub, &v->lock, deadline) == 1)
                ;
        e = view_store_find(&v->store, order_id);
        if (e)
                view_entry_json(e, false, json);
        ret = !e ? VIEW_GET_NOT_FOUND
                 : json->failed ? VIEW_GET_NO_MEMORY : VIEW_GET_FOUND;
        view_subs_remove(&v->subs, sub);
        pthread_mutex_unlock(&v->lock);
        return ret;
}

enum view_match view_match(struct view *v, const struct order *o)
{
        struct view_entry *e;
        enum view_match ret = VIEW_MATCH_NONE;

        pthread_mutex_lock(&v->lock);
        e = view_store_find(&v->store, o->order_id);
        if (e)
                ret = view_entry_same_order(e, o) ? VIEW_MATCH_SAME
                                                  : VIEW_MATCH_CONFLICT;
        pthread_mutex_unlock(&v->lock);
        return ret;
}

struct view_sub *view_subscribe(struct view *v, enum view_filter filter,
                                const char *key, const char *since_id,
                                view_notify_fn notify, void *arg)
{
        struct view_sub *sub;

        pthread_mutex_lock(&v->lock);
        sub = view_subs_add(&v->subs, &v->store, filter, key, since_id, notify,
                            arg);
        pthread_mutex_unlock(&v->lock);
        return sub;
}

int view_sub_next(struct view *v, struct view_sub *sub, int64_t deadline,
                  struct view_event *ev)
{
        int ret;

        pthread_mutex_lock(&v->lock);
        for (;;) {
                ret = view_subs_take(sub, ev);
                /* An end (-1) is taken on the next turn, after the queue. */
                if (ret != 0 || !deadline ||
                    view_subs_wait(&v->subs, sub, &v->lock, deadline) == 0)
                        break;
        }
        pthread_mutex_unlock(&v->lock);
        return ret;
}

void view_unsubscribe(struct view *v, struct view_sub *sub)
{
        if (!sub)
                return;
        pthread_mutex_lock(&v->lock);
        view_subs_remove(&v->subs, sub);
        pthread_mutex_unlock(&v->lock);
}
