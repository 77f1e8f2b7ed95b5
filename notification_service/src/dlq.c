/* The dead-letter producer, with its retries and its replacement after a
 * fatal error. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dlq.h"
#include "shared/deadline.h"
#include "shared/kafka.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/shutdown.h"
#include "shared/util.h"

/* A record to produce again. */
struct dlq_retry {
        struct dlq_retry *next;
        char *key; /* NULL when the record has no key */
        size_t key_len;
        char *value;
        size_t value_len;
        rd_kafka_headers_t *headers; /* may be NULL */
        void *opaque;
};

struct dlq {
        const struct config *cfg;
        char *topic;
        dlq_acked_fn acked;
        void *acked_arg;
        struct metric_counter *records, *errors;

        /* lock guards 'rk' (replaced by the polling thread while others
         * produce) and 'retries' (filled by delivery reports and by
         * dlq_produce() on any thread). */
        pthread_mutex_t lock;
        rd_kafka_t *rk;
        struct dlq_retry *retries;

        atomic_bool fatal;     /* rk failed fatally: replace it */
        int64_t retry_after_ms; /* polling thread only */
};

static void retry_free(struct dlq_retry *r)
{
        free(r->key);
        free(r->value);
        if (r->headers)
                rd_kafka_headers_destroy(r->headers);
        free(r->opaque);
        free(r);
}

/* Keep a record to produce again; 'hdrs' is consumed. Returns 0, or -1
 * when out of memory (then nothing is kept). */
static int retry_keep(struct dlq *d, const void *key, size_t key_len,
                      const void *value, size_t value_len,
                      rd_kafka_headers_t *hdrs, void *opaque)
{
        struct dlq_retry *r = calloc(1, sizeof(*r));

        if (!r) {
                if (hdrs)
                        rd_kafka_headers_destroy(hdrs);
                return -1;
        }
        r->key = key ? memdup(key, key_len) : NULL;
        r->key_len = key_len;
        r->value = value ? memdup(value, value_len) : NULL;
        r->value_len = value_len;
        r->headers = hdrs;
        if ((key && !r->key) || (value && !r->value)) {
                retry_free(r); /* also frees hdrs; not 'opaque' yet */
                return -1;
        }
        r->opaque = opaque;
        pthread_mutex_lock(&d->lock);
        r->next = d->retries;
        d->retries = r;
        pthread_mutex_unlock(&d->lock);
        return 0;
}

/* dr_msg_cb, on the thread polling the producer. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg,
                        void *arg)
{
        struct dlq *d = arg;
        rd_kafka_headers_t *hdrs = NULL;

        (void)rk;
        if (!msg->_private)
                return;
        if (!msg->err) {
                metric_counter_inc(d->records);
                d->acked(d->acked_arg, msg->_private);
                return;
        }
        /* Purged records (a replaced producer, or shutdown) are not
         * failures of their own. */
        if (msg->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE &&
            msg->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
                metric_counter_inc(d->errors);
                log_write(LOG_LEVEL_WARN,
                          "DLQ delivery failed, will produce again",
                          (struct log_field[]){LOG_STR(
                                  "error.message",
                                  rd_kafka_err2str(msg->err))},
                          1);
        }
        if (rd_kafka_message_headers(msg, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR)
                hdrs = rd_kafka_headers_copy(hdrs);
        else
                hdrs = NULL;
        if (retry_keep(d, msg->key, msg->key_len, msg->payload, msg->len, hdrs,
                       msg->_private) < 0) {
                /* Its source offset stays unfinished: read again later. */
                log_write(LOG_LEVEL_ERROR, "cannot keep a DLQ record",
                          (struct log_field[]){
                                  LOG_STR("error.message", "out of memory")},
                          1);
                free(msg->_private);
        }
}

/* error_cb, on the thread polling the producer. An idempotent producer's
 * fatal error cannot be cleared: dlq_poll() makes a new producer. */
static void on_error(rd_kafka_t *rk, int err, const char *reason, void *arg)
{
        struct dlq *d = arg;
        char fatal[256];
        rd_kafka_resp_err_t code = kafka_fatal_error(rk, err, fatal,
                                                     sizeof(fatal));

        if (kafka_error_is_auth(err))
                return; /* logged once by kafka.c's log callback */

        if (!code) {
                log_write(LOG_LEVEL_WARN, "DLQ producer error",
                          (struct log_field[]){
                                  LOG_STR("error.code", rd_kafka_err2name(err)),
                                  LOG_STR("error.message", reason),
                          },
                          2);
                return;
        }
        log_write(LOG_LEVEL_ERROR, "DLQ producer failed fatally",
                  (struct log_field[]){
                          LOG_STR("error.code", rd_kafka_err2name(code)),
                          LOG_STR("error.message", fatal),
                  },
                  2);
        atomic_store(&d->fatal, true);
}

/* The DLQ producer's guarantees: acks=all and idempotence (a dead letter
 * is never lost: no variable can weaken these). */
static const struct kafka_setting producer_settings[] = {
        {"enable.idempotence", "true", KAFKA_REQUIRED},
        {"acks", "all", KAFKA_REQUIRED},
};

int dlq_check_config(const struct config *cfg, char *errstr,
                     size_t errstr_size)
{
        return kafka_conf_check(kafka_conf_with(
                cfg, KAFKA_ROLE_PRODUCER, KAFKA_SETTINGS(producer_settings),
                errstr, errstr_size));
}

static rd_kafka_t *producer_new(struct dlq *d, char *errstr, size_t errstr_size)
{
        rd_kafka_conf_t *conf;

        conf = kafka_conf_with(d->cfg, KAFKA_ROLE_PRODUCER,
                               KAFKA_SETTINGS(producer_settings), errstr,
                               errstr_size);
        if (conf) {
                rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
                rd_kafka_conf_set_error_cb(conf, on_error);
                rd_kafka_conf_set_opaque(conf, d);
        }
        return kafka_client_new(RD_KAFKA_PRODUCER, conf, "the DLQ producer",
                                errstr, errstr_size);
}

struct dlq *dlq_new(const struct config *cfg, const char *topic,
                    dlq_acked_fn acked, void *acked_arg,
                    struct metric_counter *records,
                    struct metric_counter *errors, char *errstr,
                    size_t errstr_size)
{
        struct dlq *d = calloc(1, sizeof(*d));

        if (!d || !(d->topic = strdup(topic))) {
                free(d);
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        d->cfg = cfg;
        d->acked = acked;
        d->acked_arg = acked_arg;
        d->records = records;
        d->errors = errors;
        pthread_mutex_init(&d->lock, NULL);
        d->rk = producer_new(d, errstr, errstr_size);
        if (!d->rk) {
                dlq_destroy(d);
                return NULL;
        }
        return d;
}

int dlq_produce(struct dlq *d, const void *key, size_t key_len,
                const void *value, size_t value_len, rd_kafka_headers_t *hdrs,
                void *opaque)
{
        rd_kafka_resp_err_t err;

        if (!hdrs)
                hdrs = rd_kafka_headers_new(0);
        for (;;) {
                pthread_mutex_lock(&d->lock);
                err = rd_kafka_producev(
                        d->rk, RD_KAFKA_V_TOPIC(d->topic),
                        RD_KAFKA_V_KEY(key, key_len),
                        RD_KAFKA_V_VALUE((void *)value, value_len),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(opaque),
                        RD_KAFKA_V_END);
                pthread_mutex_unlock(&d->lock);
                if (!err)
                        return 0; /* hdrs now owned by librdkafka */
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || shutdown_requested())
                        break;
                /* Delivery reports (served by the polling thread) free
                 * room; wait for them a little. */
                nanosleep(&(struct timespec){.tv_nsec = 20 * 1000000L}, NULL);
        }
        if (err == RD_KAFKA_RESP_ERR__FATAL)
                atomic_store(&d->fatal, true); /* the next producer takes it */
        metric_counter_inc(d->errors);
        log_write(LOG_LEVEL_WARN, "cannot produce to the DLQ, will try again",
                  (struct log_field[]){LOG_STR("error.message",
                                               rd_kafka_err2str(err))},
                  1);
        if (!shutdown_requested())
                return retry_keep(d, key, key_len, value, value_len, hdrs,
                                  opaque);
        rd_kafka_headers_destroy(hdrs);
        return -1;
}

/* Replace a producer that failed fatally. Its undelivered records come
 * back as failed delivery reports, kept to be produced on the new one.
 * Polling thread. */
static void producer_replace(struct dlq *d)
{
        char errstr[256];
        rd_kafka_t *fresh = producer_new(d, errstr, sizeof(errstr)), *old;

        if (!fresh) {
                log_write(LOG_LEVEL_ERROR, "cannot recreate the DLQ producer",
                          (struct log_field[]){LOG_STR("error.message", errstr)},
                          1);
                return; /* tried again on the next poll */
        }
        pthread_mutex_lock(&d->lock);
        old = d->rk;
        d->rk = fresh;
        atomic_store(&d->fatal, false);
        pthread_mutex_unlock(&d->lock);
        /* Their delivery reports make them retries. */
        kafka_producer_retire(old, NULL, 1000);
        log_write(LOG_LEVEL_INFO, "DLQ producer recreated", NULL, 0);
}

/* Produce again what was kept. Polling thread. */
static void retry_all(struct dlq *d)
{
        struct dlq_retry *r;

        pthread_mutex_lock(&d->lock);
        r = d->retries;
        d->retries = NULL;
        pthread_mutex_unlock(&d->lock);
        while (r) {
                struct dlq_retry *next = r->next;

                if (dlq_produce(d, r->key, r->key_len, r->value, r->value_len,
                                r->headers, r->opaque) < 0)
                        free(r->opaque); /* its offset stays unfinished */
                r->headers = NULL;       /* consumed */
                r->opaque = NULL;        /* handed on */
                retry_free(r);
                r = next;
        }
}

void dlq_poll(struct dlq *d, int timeout_ms)
{
        bool pending;

        if (atomic_load(&d->fatal))
                producer_replace(d);
        rd_kafka_poll(d->rk, timeout_ms); /* only this thread replaces rk */
        pthread_mutex_lock(&d->lock);
        pending = d->retries != NULL;
        pthread_mutex_unlock(&d->lock);
        if (pending && !atomic_load(&d->fatal) &&
            time_monotonic_ms() >= d->retry_after_ms) {
                d->retry_after_ms = time_monotonic_ms() + 1000;
                retry_all(d);
        }
}

int dlq_flush(struct dlq *d, int timeout_ms)
{
        int64_t deadline = deadline_in(timeout_ms);

        for (;;) {
                int left;

                dlq_poll(d, 0);
                rd_kafka_flush(d->rk, 100);
                left = rd_kafka_outq_len(d->rk);
                pthread_mutex_lock(&d->lock);
                for (struct dlq_retry *r = d->retries; r; r = r->next)
                        left++;
                pthread_mutex_unlock(&d->lock);
                if (left == 0 || deadline_passed(deadline))
                        return left;
        }
}

rd_kafka_t *dlq_handle(struct dlq *d)
{
        rd_kafka_t *rk;

        pthread_mutex_lock(&d->lock);
        rk = d->rk;
        pthread_mutex_unlock(&d->lock);
        return rk;
}

void dlq_destroy(struct dlq *d)
{
        if (!d)
                return;
        if (d->rk) {
                /* Drop what is left; each record's opaque comes back in a
                 * delivery report (kept as a retry, freed below). */
                rd_kafka_purge(d->rk, RD_KAFKA_PURGE_F_QUEUE |
                                              RD_KAFKA_PURGE_F_INFLIGHT);
                rd_kafka_flush(d->rk, 1000);
                rd_kafka_destroy(d->rk);
        }
        while (d->retries) {
                struct dlq_retry *r = d->retries;

                d->retries = r->next;
                retry_free(r);
        }
        pthread_mutex_destroy(&d->lock);
        free(d->topic);
        free(d);
}
