/* The broker watch: a background thread that creates the service's topics
 * when they are missing (retrying while the broker is away) and keeps a
 * cheap readiness state (broker reachable, topics there), so that /readyz
 * (and order_service's POST /orders) never waits for a broker round trip.
 * Every service has one (service.c); a client that learns first that the
 * brokers are down says so with kafka_watch_mark_down().
 *
 * It uses a client of its own, so a slow metadata request never holds up
 * the producer or its lock. */
#ifndef SHARED_KAFKA_WATCH_H
#define SHARED_KAFKA_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "shared/config.h"

struct kafka_watch_options {
        const char *const *topics;
        size_t ntopics;
        int partitions;          /* for topics it creates */
        int replication_factor;
        int interval_ms;         /* between checks while ready */
        int timeout_ms;          /* of one metadata request */
};

struct kafka_watch;

/* Create the watch's client and start its thread (no broker needed).
 * 'cfg' is borrowed for the call only. Returns the watch, or NULL with
 * errstr. */
struct kafka_watch *kafka_watch_new(const struct config *cfg,
                        const struct kafka_watch_options *opts, char *errstr,
                        size_t errstr_size);

/* An http_ready_fn: true while the broker answered the last check and
 * every topic exists with leaders. Any thread; reads atomics only. */
bool kafka_watch_is_ready(void *w, char *reason, size_t reason_size);

/* The broker is known to be down (the producer said so): not ready until
 * the next check, which runs at once, succeeds. Any thread. */
void kafka_watch_mark_down(void *w);

/* Stop the thread and destroy the client. No operation if NULL. */
void kafka_watch_destroy(struct kafka_watch *w);

#endif
