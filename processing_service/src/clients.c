/* The processor's Kafka clients: their configurations, the callbacks
 * librdkafka calls, and the transactional producer's start and its
 * replacement after a fatal error. See processor_int.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "processor_int.h"
#include "shared/kafka.h"
#include "shared/metrics.h"
#include "shared/shutdown.h"

/* The librdkafka error callback, served on the processor thread by
 * rd_kafka_poll() (producer) and rd_kafka_consumer_poll() (consumer). */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
        struct processor *p = opaque;

        if (kafka_error_is_auth(err))
                return; /* logged once by kafka.c's log callback */

        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
                if (p->on_all_brokers_down)
                        p->on_all_brokers_down(p->arg);
        } else if (err == RD_KAFKA_RESP_ERR__FATAL &&
                   rd_kafka_type(rk) == RD_KAFKA_PRODUCER) {
                /* Handled by the loop: recreate the producer, or stop
                 * when fenced. */
                p->producer_fatal = true;
        }
        log_write(err == RD_KAFKA_RESP_ERR__FATAL ? LOG_LEVEL_ERROR
                                                  : LOG_LEVEL_WARN,
                  "kafka client error",
                  (struct log_field[]){
                          LOG_STR("kafka.client", rd_kafka_name(rk)),
                          LOG_STR("error.code", rd_kafka_err2name(err)),
                          LOG_STR("error.message", reason),
                  },
                  3);
}

/* Partitions revoked or lost: the open transaction holds their offsets,
 * so it is committed first (aborted when the assignment was lost). */
static void rebalance_revoke(struct processor *p, rd_kafka_t *rk,
                             rd_kafka_topic_partition_list_t *partitions)
{
        bool lost = rd_kafka_assignment_lost(rk);

        log_write(LOG_LEVEL_INFO, lost ? "partitions lost" : "partitions revoked",
                  (struct log_field[]){
                          LOG_INT("kafka.partitions", partitions->cnt),
                          LOG_INT("transaction.records", p->txn_records),
                  },
                  2);
        if (p->txn_open && !p->producer_fatal) {
                if (lost)
                        txn_abort(p, false);
                else
                        txn_commit(p, false);
        }
        /* With the producer unusable the transaction stays open until the
         * recreated producer (or the broker's timeout) aborts it; its
         * records are no longer ours. */
        txn_reset(p);
        changelog_forget(p, partitions);
}

/* The rebalance callback (eager protocol: range or roundrobin), served on
 * the processor thread by rd_kafka_consumer_poll() and
 * rd_kafka_consumer_close(). Newly assigned partitions start from their
 * committed offsets. */
static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *partitions,
                         void *opaque)
{
        struct processor *p = opaque;
        rd_kafka_resp_err_t aerr;

        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                log_write(LOG_LEVEL_INFO, "partitions assigned",
                          (struct log_field[]){
                                  LOG_INT("kafka.partitions", partitions->cnt),
                          },
                          1);
                metric_counter_inc(p->m_rebalances);
                /* The dedupe store of each partition first, whole
                 * (eager protocol: 'partitions' is the assignment). At
                 * shutdown, none is assigned: the loop ends. */
                if (changelog_restore(p, partitions) < 0)
                        aerr = rd_kafka_assign(rk, NULL);
                /* Offsets are RD_KAFKA_OFFSET_INVALID: the consumer fetches
                 * the committed ones (stable: read_committed). */
                else
                        aerr = rd_kafka_assign(rk, partitions);
        } else {
                rebalance_revoke(p, rk, partitions);
                aerr = rd_kafka_assign(rk, NULL);
        }
        if (aerr)
                log_write(LOG_LEVEL_ERROR, "cannot change the assignment",
                          (struct log_field[]){
                                  LOG_STR("error.code", rd_kafka_err2name(aerr)),
                          },
                          1);
}

rd_kafka_conf_t *clients_producer_conf(const struct processor_options *opts,
                                       char *errstr, size_t errstr_size)
{
        long long timeout_ms = opts->txn_max_ms * 2 + 10000;
        char timeout[32];
        /* Transactional, so idempotent with acks=all. An instance that
         * dies with a transaction open blocks the read_committed readers
         * of its partitions until the broker aborts it: keep that short,
         * but longer than a transaction lives. Right after a commit the
         * coordinator is still writing its markers and answers the next
         * transaction's first request with CONCURRENT_TRANSACTIONS:
         * retried after retry.backoff.ms, whose default (100 ms) would cap
         * a busy instance at a few commits per second. 20 ms (the Java
         * client's for this case) still made the commit the largest stage
         * of end-to-end latency: 72-131 ms mean against 52-58 ms with 2 ms
         * (bench/results/compare2.json); 5 ms keeps retries to a broker in
         * trouble less eager. */
        const struct kafka_setting settings[] = {
                {"transactional.id", opts->transactional_id, KAFKA_REQUIRED},
                {"enable.idempotence", "true", KAFKA_REQUIRED},
                {"acks", "all", KAFKA_REQUIRED},
                {"transaction.timeout.ms", timeout, KAFKA_DEFAULT},
                {"retry.backoff.ms", "5", KAFKA_DEFAULT},
        };

        snprintf(timeout, sizeof(timeout), "%lld",
                 timeout_ms > 900000 ? 900000LL : timeout_ms);
        return kafka_conf_with(opts->cfg, KAFKA_ROLE_PRODUCER,
                               KAFKA_SETTINGS(settings), errstr, errstr_size);
}

/* kafka_conf_new() refuses a cooperative assignor: the rebalance callback
 * is written for eager ones. Offsets are committed by the producer's
 * transactions only; orders that a producer may still abort are never
 * read. The prefetch is bounded: librdkafka's defaults (64 MiB queued, 1
 * MiB per partition and fetch) filled to 72 MiB of RSS during a catch-up
 * of 500k orders, for no gain in records/s (bench/results/REPORT.md). */
static const struct kafka_setting consumer_settings[] = {
        {"enable.auto.commit", "false", KAFKA_REQUIRED},
        {"isolation.level", "read_committed", KAFKA_REQUIRED},
        {"queued.max.messages.kbytes", "2048", KAFKA_DEFAULT},
        {"fetch.message.max.bytes", "262144", KAFKA_DEFAULT},
};

rd_kafka_conf_t *clients_consumer_conf(const struct config *cfg, char *errstr,
                                       size_t errstr_size)
{
        return kafka_conf_with(cfg, KAFKA_ROLE_CONSUMER,
                               KAFKA_SETTINGS(consumer_settings), errstr,
                               errstr_size);
}

void clients_set_callbacks(struct processor *p, rd_kafka_conf_t *producer_conf,
                           rd_kafka_conf_t *consumer_conf)
{
        rd_kafka_conf_set_error_cb(producer_conf, error_cb);
        rd_kafka_conf_set_opaque(producer_conf, p);
        rd_kafka_conf_set_error_cb(consumer_conf, error_cb);
        rd_kafka_conf_set_rebalance_cb(consumer_conf, rebalance_cb);
        rd_kafka_conf_set_opaque(consumer_conf, p);
}

void log_rderror(enum log_level level, const char *what,
                 const rd_kafka_error_t *error)
{
        log_write(level, what,
                  (struct log_field[]){
                          LOG_STR("error.code", rd_kafka_error_name(error)),
                          LOG_STR("error.message", rd_kafka_error_string(error)),
                  },
                  2);
}

/* Note a fatal error of the producer: is it fenced? */
void producer_check_fatal(struct processor *p)
{
        char reason[512];
        rd_kafka_resp_err_t err;

        if (!p->producer)
                return;
        err = rd_kafka_fatal_error(p->producer, reason, sizeof(reason));
        if (!err)
                return;
        p->producer_fatal = true;
        if (err == RD_KAFKA_RESP_ERR__FENCED ||
            err == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
            err == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH)
                p->fenced = true;
}

/* Create the transactional producer and initialise transactions, retrying
 * while the cluster is unreachable. Returns 0, or -1 when fenced, fatal or
 * at shutdown. */
int producer_start(struct processor *p)
{
        rd_kafka_error_t *error;
        char errstr[512];

        p->producer = kafka_client_new(RD_KAFKA_PRODUCER,
                                       rd_kafka_conf_dup(p->producer_conf),
                                       "the transactional producer", errstr,
                                       sizeof(errstr));
        if (!p->producer) {
                log_write(LOG_LEVEL_ERROR, "cannot create producer",
                          (struct log_field[]){LOG_STR("error.message", errstr)},
                          1);
                return -1;
        }
        p->producer_fatal = false;
        /* This bumps the epoch of our transactional.id: an older producer
         * with it is fenced, and a transaction it left open is aborted. */
        while ((error = rd_kafka_init_transactions(p->producer,
                                                   TXN_CALL_TIMEOUT_MS))) {
                bool retry = rd_kafka_error_is_retriable(error) &&
                             !rd_kafka_error_is_fatal(error);

                log_rderror(retry ? LOG_LEVEL_WARN : LOG_LEVEL_ERROR,
                            "cannot initialise transactions", error);
                rd_kafka_error_destroy(error);
                producer_check_fatal(p);
                if (!retry || shutdown_requested())
                        return -1;
        }
        log_write(LOG_LEVEL_INFO, "transactions initialised",
                  (struct log_field[]){
                          LOG_STR("kafka.transactional_id", p->transactional_id),
                  },
                  1);
        return 0;
}

/* Replace a producer that hit a fatal error (not fencing): the new one's
 * init_transactions aborts what the old one left open, and the consumer
 * goes back to the committed offsets. Returns 0, or -1. */
int producer_recreate(struct processor *p)
{
        log_write(LOG_LEVEL_WARN, "recreating the transactional producer",
                  NULL, 0);
        txn_reset(p);
        if (p->producer) {
                /* Whatever it still holds belongs to a transaction that is
                 * aborted: nothing to wait for. */
                kafka_producer_retire(p->producer, NULL, 0);
                p->producer = NULL;
        }
        metric_counter_inc(p->m_recreated);
        if (producer_start(p) < 0)
                return -1;
        return consumer_rewind(p);
}
