/* The consume-transform-produce loop of processing_service: a consumer
 * group on the orders topic, one transactional producer, and exactly-once
 * delivery of one status per order to the notifications topic (records
 * that are not orders go to <orders>.dlq in the same transaction).
 *
 * Everything here runs on the thread that calls processor_run(), except
 * processor_is_ready(), which HTTP worker threads call. */
#ifndef PROCESSING_PROCESSOR_H
#define PROCESSING_PROCESSOR_H

#include <stdbool.h>
#include <stddef.h>

#include "shared/config.h"
#include "rules.h"

struct metrics;

struct processor_options {
        const struct config *cfg;     /* borrowed; outlives the processor */
        const struct rules *rules;    /* borrowed; outlives the processor */
        const char *transactional_id; /* copied */
        long long txn_max_records;    /* commit after this many records */
        long long txn_max_ms;         /* ... or this long after the first */
        /* How long an order_id is remembered (CONTRACT.md "Exactly one
         * status per order_id"); 0: not at all. */
        long long dedupe_retention_ms;
        const char *changelog_topic;  /* copied; the store's changelog */
        long long txn_min_ms;         /* ... or, this long after the first,
                                         as soon as nothing more is queued */
        struct metrics *metrics;      /* borrowed; NULL: no metrics */
        /* Called on the processor thread when librdkafka reports that
         * every broker is down, so readiness drops at once. May be NULL. */
        void (*on_all_brokers_down)(void *arg);
        void *arg;
};

struct processor;

/* Check that both clients can be configured from opts->cfg (no KAFKA_*
 * variable contradicts the transactions), without creating them: for a
 * bad start to stop before logging. Returns 0, or -1 with errstr naming
 * the variable at fault. */
int processor_check_config(const struct processor_options *opts,
                           char *errstr, size_t errstr_size);

/* Build the clients' configurations and the consumer; nothing is sent to
 * the brokers yet. Returns the processor, or NULL with errstr. */
struct processor *processor_new(const struct processor_options *opts,
                                char *errstr, size_t errstr_size);

/* Create the topics, initialise transactions (which fences an earlier
 * instance with the same transactional.id and aborts what it left open),
 * join the group and process records until shutdown_requested(). Then
 * commit the open transaction and leave the group.
 * Returns 0 after a clean shutdown, or -1 after an error the processor
 * cannot recover from (the producer was fenced by another instance with
 * the same transactional.id), already logged. */
int processor_run(struct processor *p);

/* http_ready_fn: true while the producer is initialised and the group
 * joined (the broker's side is the service's readiness watch).
 * Thread-safe. */
bool processor_is_ready(void *arg, char *reason, size_t reason_size);

/* Destroy the clients and free 'p'. No operation if NULL. */
void processor_destroy(struct processor *p);

/* The processor as processing_service's service_def hooks
 * (shared/service.h): svc->app is the processor. */
struct service;
void *processor_service_start(struct service *svc, char *errstr,
                              size_t errstr_size);
int processor_service_run(struct service *svc);
void processor_service_destroy(struct service *svc);

#endif
