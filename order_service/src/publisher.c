/* The publisher: a shared idempotent producer, its poll thread, a wait per
 * request, and recreation after a fatal error. See publisher.h. */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "publisher.h"
#include "shared/deadline.h"
#include "shared/kafka.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/util.h"

#define POLL_INTERVAL_MS 100
/* How long a replaced producer gets to hand back its purged messages. */
#define RETIRE_TIMEOUT_MS 3000
#define RECREATE_BACKOFF_MS 1000

/* One request's wait for its delivery report. Two references: the
 * request thread's and the report's (the message's opaque); whoever drops
 * the last one frees it, so a request that stops waiting never leaves the
 * report a dangling pointer. */
struct delivery {
        pthread_mutex_t lock; /* guards everything below */
        pthread_cond_t cond;
        int refs;
        bool done;
        rd_kafka_resp_err_t err;
        rd_kafka_msg_status_t status;
        int32_t partition;
        int64_t offset;
};

struct producer {
        rd_kafka_t *rk;
        rd_kafka_topic_t *rkt;
};

struct publisher {
        const struct config *cfg; /* borrowed */
        char *topic;
        int delivery_timeout_ms;
        int linger_ms;
        void (*on_all_brokers_down)(void *arg);
        void *arg;
        struct metric_counter *recreations; /* borrowed */

        /* 'current' is read by request threads under the read lock while
         * they produce, and replaced only by the poll thread under the
         * write lock; so the poll thread reads it without the lock. */
        pthread_rwlock_t lock;
        struct producer *current;

        atomic_bool fatal;    /* error_cb saw a fatal error of 'current' */
        atomic_bool stopping; /* publisher_destroy() asks the thread to end */
        pthread_t poll_thread;
        bool poll_thread_started;
};

enum publish_status publish_status_from_report(rd_kafka_resp_err_t err,
                                               rd_kafka_msg_status_t status)
{
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
                return PUBLISH_OK;
        /* The contract's 504: delivery timed out, outcome unknown. */
        if (err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)
                return PUBLISH_TIMED_OUT;
        /* Never sent, or refused by the broker: safe to say "not written". */
        if (status == RD_KAFKA_MSG_STATUS_NOT_PERSISTED)
                return PUBLISH_UNAVAILABLE;
        /* Possibly written (purged in flight, a fatal producer): unknown. */
        return PUBLISH_TIMED_OUT;
}

static void delivery_release(struct delivery *d)
{
        bool last;

        pthread_mutex_lock(&d->lock);
        last = --d->refs == 0;
        pthread_mutex_unlock(&d->lock);
        if (last) {
                pthread_cond_destroy(&d->cond);
                pthread_mutex_destroy(&d->lock);
                free(d);
        }
}

static struct delivery *delivery_new(void)
{
        struct delivery *d = calloc(1, sizeof(*d));

        if (!d)
                return NULL;
        pthread_mutex_init(&d->lock, NULL);
        /* Deadlines on the monotonic clock: a clock step must not make a
         * request wait for ever or give up at once. */
        deadline_cond_init(&d->cond);
        d->refs = 1;
        return d;
}

/* Delivery report: hand the outcome to the waiting request. Runs on the
 * poll thread (rd_kafka_poll()), also for a retired producer's purged
 * messages and during the final flush. */
static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg,
                      void *opaque)
{
        struct delivery *d = msg->_private;

        if (!d)
                return;
        pthread_mutex_lock(&d->lock);
        d->err = msg->err;
        d->status = rd_kafka_message_status(msg);
        d->partition = msg->partition;
        d->offset = msg->offset;
        d->done = true;
        pthread_cond_signal(&d->cond);
        pthread_mutex_unlock(&d->lock);
        delivery_release(d);
}

/* Producer-level errors. Runs on the poll thread. Errors of a producer
 * that has already been replaced are only logged. */
static void error_cb(rd_kafka_t *rk, int err, const char *reason,
                     void *opaque)
{
        struct publisher *pub = opaque;
        bool is_current = pub->current && pub->current->rk == rk;
        struct log_field fields[2] = {
                LOG_STR("error.code", rd_kafka_err2name(err)),
                LOG_STR("error.message", reason),
        };
        char why[512];
        rd_kafka_resp_err_t orig = kafka_fatal_error(rk, err, why, sizeof(why));

        if (kafka_error_is_auth(err))
                return; /* logged once by kafka.c's log callback */

        if (orig) {
                fields[0] = LOG_STR("error.code", rd_kafka_err2name(orig));
                fields[1] = LOG_STR("error.message", why);
                log_write(LOG_LEVEL_ERROR,
                          "fatal producer error: the producer will be recreated",
                          fields, 2);
                if (is_current)
                        atomic_store(&pub->fatal, true);
                return;
        }
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
                log_write(LOG_LEVEL_WARN, "all brokers are down", fields, 2);
                if (is_current && pub->on_all_brokers_down)
                        pub->on_all_brokers_down(pub->arg);
                return;
        }
        /* librdkafka has logged it already (kafka_conf_new routes its
         * log); repeat it only when debugging. */
        log_write(LOG_LEVEL_DEBUG, "producer error", fields, 2);
}

static void producer_destroy(struct producer *p)
{
        if (!p)
                return;
        if (p->rkt)
                rd_kafka_topic_destroy(p->rkt);
        if (p->rk)
                rd_kafka_destroy(p->rk);
        free(p);
}

/* The producer's configuration: 'cfg' with the contract's guarantees and
 * our latency defaults. Returns a new conf (the caller owns it), or NULL
 * with errstr naming the variable at fault. */
static rd_kafka_conf_t *producer_conf_new(const struct config *cfg,
                                          int delivery_timeout_ms,
                                          int linger_ms, char *errstr,
                                          size_t errstr_size)
{
        rd_kafka_conf_t *conf;
        char num[32];

        conf = kafka_conf_new(cfg, KAFKA_ROLE_PRODUCER, errstr, errstr_size);
        if (!conf)
                return NULL;
        /* The contract: acks=all and idempotence; a KAFKA_* variable that
         * says otherwise stops the start. DELIVERY_TIMEOUT_MS is the
         * delivery timeout. */
        snprintf(num, sizeof(num), "%d", delivery_timeout_ms);
        if (kafka_conf_default(conf, cfg, "enable.idempotence", "true",
                               KAFKA_REQUIRED, errstr, errstr_size) ||
            kafka_conf_default(conf, cfg, "acks", "all", KAFKA_REQUIRED,
                               errstr, errstr_size) ||
            kafka_conf_default(conf, cfg, "message.timeout.ms", num,
                               KAFKA_REQUIRED, errstr, errstr_size))
                goto fail;
        snprintf(num, sizeof(num), "%d", linger_ms);
        /* Small batches: a request waits for its batch, so linger is
         * latency. Nagle would add up to 40 ms more; a broker that comes
         * back should be found within a second, not librdkafka's 10 s. */
        if (!kafka_user_property(cfg, "queue.buffering.max.ms") &&
            kafka_conf_default(conf, cfg, "linger.ms", num, KAFKA_DEFAULT,
                               errstr, errstr_size))
                goto fail;
        if (kafka_conf_default(conf, cfg, "socket.nagle.disable", "true",
                               KAFKA_DEFAULT, errstr, errstr_size) ||
            kafka_conf_default(conf, cfg, "reconnect.backoff.max.ms", "1000",
                               KAFKA_DEFAULT, errstr, errstr_size))
                goto fail;
        return conf;
fail:
        rd_kafka_conf_destroy(conf);
        return NULL;
}

int publisher_check_config(const struct config *cfg, int delivery_timeout_ms,
                           int linger_ms, char *errstr, size_t errstr_size)
{
        rd_kafka_conf_t *conf = producer_conf_new(cfg, delivery_timeout_ms,
                                                  linger_ms, errstr,
                                                  errstr_size);

        if (!conf)
                return -1;
        rd_kafka_conf_destroy(conf);
        return 0;
}

static struct producer *producer_new(struct publisher *pub, char *errstr,
                                     size_t errstr_size)
{
        struct producer *p = NULL;
        rd_kafka_conf_t *conf;

        conf = producer_conf_new(pub->cfg, pub->delivery_timeout_ms,
                                 pub->linger_ms, errstr, errstr_size);
        if (!conf)
                return NULL;
        rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
        rd_kafka_conf_set_error_cb(conf, error_cb);
        rd_kafka_conf_set_opaque(conf, pub);

        p = calloc(1, sizeof(*p));
        if (!p) {
                snprintf(errstr, errstr_size, "out of memory");
                goto fail;
        }
        p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
        if (!p->rk)
                goto fail;
        conf = NULL; /* now owned, and freed, by p->rk */
        p->rkt = rd_kafka_topic_new(p->rk, pub->topic, NULL);
        if (!p->rkt) {
                snprintf(errstr, errstr_size, "topic '%s': %s", pub->topic,
                         rd_kafka_err2str(rd_kafka_last_error()));
                goto fail;
        }
        return p;
fail:
        if (conf)
                rd_kafka_conf_destroy(conf);
        producer_destroy(p);
        return NULL;
}

/* Give a replaced producer's messages back to their requests and destroy
 * it. Poll thread: the reports of 'old' run here, while 'current' keeps
 * being served. */
static void producer_retire(struct publisher *pub, struct producer *old)
{
        int left;

        /* The handle only; messages hold their own reference. */
        rd_kafka_topic_destroy(old->rkt);
        left = kafka_producer_retire(old->rk, pub->current->rk,
                                     RETIRE_TIMEOUT_MS);
        if (left > 0)
                log_write(LOG_LEVEL_WARN,
                          "retired producer still held messages: their "
                          "requests time out (504)",
                          (struct log_field[]){LOG_INT("kafka.messages", left)},
                          1);
        free(old);
}

/* Replace the current producer after a fatal error. Poll thread. Returns 0,
 * or -1 (the old one stays; try again later). */
static int publisher_recreate(struct publisher *pub)
{
        char errstr[512];
        struct producer *fresh, *old;

        fresh = producer_new(pub, errstr, sizeof(errstr));
        if (!fresh) {
                log_write(LOG_LEVEL_ERROR, "cannot recreate the producer",
                          (struct log_field[]){LOG_STR("error.message", errstr)},
                          1);
                return -1;
        }
        pthread_rwlock_wrlock(&pub->lock);
        old = pub->current;
        pub->current = fresh;
        pthread_rwlock_unlock(&pub->lock);
        metric_counter_inc(pub->recreations);
        log_write(LOG_LEVEL_WARN, "producer recreated after a fatal error",
                  NULL, 0);
        producer_retire(pub, old);
        return 0;
}

/* The poll thread: serves delivery reports and errors, and recreates the
 * producer after a fatal error. */
static void *poll_main(void *arg)
{
        struct publisher *pub = arg;
        int64_t next_attempt = 0;

        while (!atomic_load(&pub->stopping)) {
                rd_kafka_poll(pub->current->rk, POLL_INTERVAL_MS);
                if (atomic_load(&pub->fatal) &&
                    time_monotonic_ms() >= next_attempt) {
                        atomic_store(&pub->fatal, false);
                        if (publisher_recreate(pub) == -1) {
                                atomic_store(&pub->fatal, true);
                                next_attempt = time_monotonic_ms() +
                                               RECREATE_BACKOFF_MS;
                        }
                }
        }
        return NULL;
}

struct publisher *publisher_new(const struct config *cfg,
                                const struct publisher_options *opts,
                                char *errstr, size_t errstr_size)
{
        struct publisher *pub;
        pthread_rwlockattr_t attr;

        pub = calloc(1, sizeof(*pub));
        if (!pub || !(pub->topic = strdup(opts->topic))) {
                free(pub);
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        pub->cfg = cfg;
        pub->delivery_timeout_ms = opts->delivery_timeout_ms;
        pub->linger_ms = opts->linger_ms;
        pub->on_all_brokers_down = opts->on_all_brokers_down;
        pub->arg = opts->arg;
        pub->recreations = opts->recreations;
        /* Readers hold the lock for one produce call; a waiting writer
         * (recreation) must not starve behind a steady stream of them. */
        pthread_rwlockattr_init(&attr);
        pthread_rwlockattr_setkind_np(
                &attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        pthread_rwlock_init(&pub->lock, &attr);
        pthread_rwlockattr_destroy(&attr);

        pub->current = producer_new(pub, errstr, errstr_size);
        if (!pub->current)
                goto fail;
        if (pthread_create(&pub->poll_thread, NULL, poll_main, pub) != 0) {
                snprintf(errstr, errstr_size,
                         "cannot start the producer's poll thread");
                goto fail;
        }
        pub->poll_thread_started = true;
        return pub;
fail:
        publisher_destroy(pub, 0);
        return NULL;
}

/* Wait for the delivery report of 'd', at most the delivery timeout and
 * the report margin, and say what it means in 'res'. Request thread. */
static void delivery_wait(struct publisher *pub, struct delivery *d,
                          struct publish_result *res)
{
        int64_t deadline = deadline_in(pub->delivery_timeout_ms +
                                       PUBLISHER_REPORT_MARGIN_MS);

        pthread_mutex_lock(&d->lock);
        while (!d->done && deadline_cond_wait(&d->cond, &d->lock, deadline))
                ;
        if (d->done) {
                res->status = publish_status_from_report(d->err, d->status);
                res->partition = d->partition;
                res->offset = d->offset;
                if (d->err)
                        snprintf(res->error, sizeof(res->error), "%s",
                                 rd_kafka_err2str(d->err));
        } else {
                res->status = PUBLISH_TIMED_OUT;
                snprintf(res->error, sizeof(res->error),
                         "no delivery report within %d ms",
                         pub->delivery_timeout_ms + PUBLISHER_REPORT_MARGIN_MS);
        }
        pthread_mutex_unlock(&d->lock);
}

int publisher_publish(struct publisher *pub, const char *key, size_t key_len,
                      const char *value, size_t value_len,
                      const char *traceparent, struct publish_result *res)
{
        static const char content_type[] = "application/json";
        rd_kafka_headers_t *hdrs;
        rd_kafka_resp_err_t err;
        struct delivery *d;

        memset(res, 0, sizeof(*res));
        res->partition = -1;
        res->offset = -1;
        res->status = PUBLISH_UNAVAILABLE;
        d = delivery_new();
        hdrs = rd_kafka_headers_new(2);
        if (!d || !hdrs) {
                snprintf(res->error, sizeof(res->error), "out of memory");
                if (d)
                        delivery_release(d);
                if (hdrs)
                        rd_kafka_headers_destroy(hdrs);
                return -1;
        }
        rd_kafka_header_add(hdrs, "content-type", -1, content_type,
                            sizeof(content_type) - 1);
        if (traceparent)
                rd_kafka_header_add(hdrs, "traceparent", -1, traceparent, -1);
        d->refs = 2; /* ours and the report's, if the produce succeeds */

        pthread_rwlock_rdlock(&pub->lock);
        err = rd_kafka_producev(
                pub->current->rk, RD_KAFKA_V_RKT(pub->current->rkt),
                RD_KAFKA_V_KEY(key, key_len),
                RD_KAFKA_V_VALUE((void *)value, value_len),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(d),
                RD_KAFKA_V_END);
        pthread_rwlock_unlock(&pub->lock);
        if (err) {
                /* Not enqueued: the headers and the report's reference
                 * stay ours. */
                rd_kafka_headers_destroy(hdrs);
                d->refs = 1;
                delivery_release(d);
                snprintf(res->error, sizeof(res->error), "%s",
                         rd_kafka_err2str(err));
                /* ERR__FATAL needs nothing here: error_cb has seen it
                 * for this producer and the poll thread replaces it. (A
                 * request that used a producer already replaced must not
                 * flag the new one.) */
                if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        res->status = PUBLISH_QUEUE_FULL;
                return -1;
        }
        hdrs = NULL; /* now owned by the message */

        delivery_wait(pub, d, res);
        delivery_release(d);
        return res->status == PUBLISH_OK ? 0 : -1;
}

size_t publisher_queue_depth(struct publisher *pub)
{
        int n;

        if (!pub)
                return 0;
        pthread_rwlock_rdlock(&pub->lock);
        n = pub->current ? rd_kafka_outq_len(pub->current->rk) : 0;
        pthread_rwlock_unlock(&pub->lock);
        return n > 0 ? (size_t)n : 0;
}

int publisher_inject_fatal_error(struct publisher *pub, const char *reason)
{
        rd_kafka_resp_err_t err;

        pthread_rwlock_rdlock(&pub->lock);
        err = rd_kafka_test_fatal_error(
                pub->current->rk, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                reason);
        pthread_rwlock_unlock(&pub->lock);
        return err ? -1 : 0;
}

double publisher_queue_depth_gauge(void *pub)
{
        return (double)publisher_queue_depth(pub);
}

void publisher_destroy(struct publisher *pub, int flush_timeout_ms)
{
        if (!pub)
                return;
        if (pub->poll_thread_started) {
                atomic_store(&pub->stopping, true);
                pthread_join(pub->poll_thread, NULL);
        }
        if (pub->current) {
                /* rd_kafka_flush() serves the remaining reports here. */
                rd_kafka_resp_err_t err =
                        rd_kafka_flush(pub->current->rk, flush_timeout_ms);
                int left = rd_kafka_outq_len(pub->current->rk);

                if (err || left > 0) {
                        log_write(LOG_LEVEL_WARN,
                                  "producer closed with messages not delivered",
                                  (struct log_field[]){
                                          LOG_INT("kafka.messages", left),
                                          LOG_INT("kafka.flush_ms",
                                                  flush_timeout_ms),
                                  },
                                  2);
                        /* Their reports free what each message holds. */
                        rd_kafka_purge(pub->current->rk,
                                       RD_KAFKA_PURGE_F_QUEUE |
                                               RD_KAFKA_PURGE_F_INFLIGHT);
                        rd_kafka_flush(pub->current->rk, 1000);
                }
                producer_destroy(pub->current);
        }
        pthread_rwlock_destroy(&pub->lock);
        free(pub->topic);
        free(pub);
}
