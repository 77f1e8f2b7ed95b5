/* The broker watch: topic creation and a readiness state kept by a
 * background thread, for the /readyz of every service. See
 * kafka_watch.h. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "shared/deadline.h"
#include "shared/kafka.h"
#include "shared/kafka_watch.h"
#include "shared/log.h"

/* While not ready the watch looks again sooner. */
#define WATCH_RETRY_MS 250

enum watch_state {
        WATCH_STARTING,     /* no check has finished yet */
        WATCH_UNREACHABLE,  /* the last metadata request failed */
        WATCH_TOPIC_MISSING, /* the broker answers; a topic is not usable */
        WATCH_READY,
};

struct kafka_watch {
        rd_kafka_t *rk; /* the watch thread's own client */
        char **topics;
        size_t ntopics;
        int partitions, replication_factor;
        int interval_ms, timeout_ms;

        _Atomic int state;          /* enum watch_state, read by any thread */
        /* Bumped by kafka_watch_mark_down(): a check that began before a "down"
         * must not mark the broker reachable with its older answer. */
        atomic_uint_fast64_t down_gen;

        pthread_mutex_t lock; /* guards 'stopping' and 'wake' */
        pthread_cond_t cond;
        bool stopping, wake;
        pthread_t thread;
        bool thread_started;
};

static const char *state_reason(enum watch_state s)
{
        switch (s) {
        case WATCH_STARTING:
                return "starting";
        case WATCH_UNREACHABLE:
                return "broker_unreachable";
        case WATCH_TOPIC_MISSING:
                return "topic_missing";
        case WATCH_READY:
                return "ready";
        }
        return "unknown";
}

bool kafka_watch_is_ready(void *arg, char *reason, size_t reason_size)
{
        struct kafka_watch *w = arg;
        enum watch_state s = atomic_load(&w->state);

        if (s == WATCH_READY)
                return true;
        if (reason && reason_size > 0)
                snprintf(reason, reason_size, "%s", state_reason(s));
        return false;
}

void kafka_watch_mark_down(void *arg)
{
        struct kafka_watch *w = arg;

        atomic_fetch_add(&w->down_gen, 1);
        atomic_store(&w->state, WATCH_UNREACHABLE);
        pthread_mutex_lock(&w->lock);
        w->wake = true;
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
}

/* One check: is the broker there, are the topics there (create them when
 * not). Watch thread. */
static enum watch_state kafka_watch_check(struct kafka_watch *w, char *errstr,
                                    size_t errstr_size)
{
        const struct rd_kafka_metadata *md = NULL;
        const char *const *topics = (const char *const *)w->topics;
        rd_kafka_resp_err_t err;

        *errstr = '\0';
        /* Brokers only (no topic is known to this client): a cheap
         * request that fails when no broker answers. */
        err = rd_kafka_metadata(w->rk, 0, NULL, &md, w->timeout_ms);
        if (err) {
                snprintf(errstr, errstr_size, "%s", rd_kafka_err2str(err));
                return WATCH_UNREACHABLE;
        }
        rd_kafka_metadata_destroy(md);
        if (kafka_topics_ready(w->rk, topics, w->ntopics, w->timeout_ms))
                return WATCH_READY;
        if (kafka_topics_ensure(w->rk, topics, w->ntopics, w->partitions,
                                w->replication_factor, w->timeout_ms, errstr,
                                errstr_size) == -1)
                return WATCH_TOPIC_MISSING;
        /* Just created: leaders may take a moment. */
        return kafka_topics_ready(w->rk, topics, w->ntopics, w->timeout_ms)
                       ? WATCH_READY
                       : WATCH_TOPIC_MISSING;
}

static void *kafka_watch_main(void *arg)
{
        struct kafka_watch *w = arg;
        enum watch_state last = WATCH_STARTING;
        char errstr[512], last_err[512] = "";

        for (;;) {
                uint_fast64_t gen = atomic_load(&w->down_gen);
                enum watch_state s = kafka_watch_check(w, errstr, sizeof(errstr));
                int64_t deadline;
                bool stop;

                rd_kafka_poll(w->rk, 0); /* its error events, if any */
                /* A "down" that came during the check wins over it. */
                if (s == WATCH_READY && atomic_load(&w->down_gen) != gen)
                        s = WATCH_UNREACHABLE;
                else
                        atomic_store(&w->state, s);
                if (s != last || (s != WATCH_READY &&
                                  strcmp(errstr, last_err) != 0)) {
                        struct log_field f[3] = {
                                LOG_STR("kafka.readiness", state_reason(s)),
                                LOG_STR("kafka.topic", w->topics[0]),
                                LOG_STR("error.message", errstr),
                        };

                        if (s == WATCH_READY) {
                                kafka_auth_succeeded();
                                log_write(LOG_LEVEL_INFO,
                                          "broker reachable and topics ready",
                                          f, 2);
                        } else
                                log_write(LOG_LEVEL_WARN, "not ready", f, 3);
                        last = s;
                        snprintf(last_err, sizeof(last_err), "%s", errstr);
                }

                deadline = deadline_in(s == WATCH_READY ? w->interval_ms
                                                        : WATCH_RETRY_MS);
                pthread_mutex_lock(&w->lock);
                while (!w->stopping && !w->wake &&
                       deadline_cond_wait(&w->cond, &w->lock, deadline))
                        ;
                w->wake = false;
                stop = w->stopping;
                pthread_mutex_unlock(&w->lock);
                if (stop)
                        break;
        }
        return NULL;
}

struct kafka_watch *kafka_watch_new(const struct config *cfg,
                        const struct kafka_watch_options *opts, char *errstr,
                        size_t errstr_size)
{
        struct kafka_watch *w;
        rd_kafka_conf_t *conf = NULL;

        w = calloc(1, sizeof(*w));
        if (!w) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        pthread_mutex_init(&w->lock, NULL);
        deadline_cond_init(&w->cond);
        atomic_init(&w->state, WATCH_STARTING);
        atomic_init(&w->down_gen, 0);
        w->partitions = opts->partitions;
        w->replication_factor = opts->replication_factor;
        w->interval_ms = opts->interval_ms;
        w->timeout_ms = opts->timeout_ms;
        w->topics = calloc(opts->ntopics ? opts->ntopics : 1,
                           sizeof(*w->topics));
        if (!w->topics) {
                snprintf(errstr, errstr_size, "out of memory");
                goto fail;
        }
        for (size_t i = 0; i < opts->ntopics; i++) {
                w->topics[i] = strdup(opts->topics[i]);
                if (!w->topics[i]) {
                        snprintf(errstr, errstr_size, "out of memory");
                        goto fail;
                }
                w->ntopics++;
        }

        conf = kafka_conf_new(cfg, KAFKA_ROLE_PRODUCER, errstr, errstr_size);
        if (!conf)
                goto fail;
        /* Find a broker that comes back within a second. */
        if (kafka_conf_default(conf, cfg, "reconnect.backoff.max.ms", "1000",
                               KAFKA_DEFAULT, errstr, errstr_size) < 0)
                goto fail;
        w->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
        if (!w->rk)
                goto fail;
        conf = NULL; /* now owned, and freed, by w->rk */
        if (pthread_create(&w->thread, NULL, kafka_watch_main, w) != 0) {
                snprintf(errstr, errstr_size, "cannot start the watch thread");
                goto fail;
        }
        w->thread_started = true;
        return w;
fail:
        if (conf)
                rd_kafka_conf_destroy(conf);
        kafka_watch_destroy(w);
        return NULL;
}

void kafka_watch_destroy(struct kafka_watch *w)
{
        if (!w)
                return;
        if (w->thread_started) {
                pthread_mutex_lock(&w->lock);
                w->stopping = true;
                pthread_cond_signal(&w->cond);
                pthread_mutex_unlock(&w->lock);
                /* At most one metadata request (timeout_ms) away. */
                pthread_join(w->thread, NULL);
        }
        if (w->rk)
                rd_kafka_destroy(w->rk);
        for (size_t i = 0; i < w->ntopics; i++)
                free(w->topics[i]);
        free(w->topics);
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w);
}
