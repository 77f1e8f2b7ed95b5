/* The broker watch: a background thread that creates the service's topics
 * when they are missing (retrying while the broker is away) and keeps a
 * cheap readiness state (broker reachable, topics there), so that /readyz
 * and POST /orders never wait for a broker round trip.
 *
 * It uses a client of its own, so a slow metadata request never holds up
 * the producer or its lock. */
#ifndef ORDER_SERVICE_WATCH_H
#define ORDER_SERVICE_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "shared/config.h"

struct watch_options {
        const char *const *topics;
        size_t ntopics;
        int partitions;          /* for topics it creates */
        int replication_factor;
        int interval_ms;         /* between checks while ready */
        int timeout_ms;          /* of one metadata request */
};

struct watch;

/* Create the watch's client and start its thread (no broker needed).
 * 'cfg' is borrowed for the call only. Returns the watch, or NULL with
 * errstr. */
struct watch *watch_new(const struct config *cfg,
                        const struct watch_options *opts, char *errstr,
                        size_t errstr_size);

/* An http_ready_fn: true while the broker answered the last check and
 * every topic exists with leaders. Any thread; reads atomics only. */
bool watch_is_ready(void *w, char *reason, size_t reason_size);

/* The broker is known to be down (the producer said so): not ready until
 * the next check, which runs at once, succeeds. Any thread. */
void watch_mark_down(void *w);

/* Stop the thread and destroy the client. No operation if NULL. */
void watch_destroy(struct watch *w);

#endif
