/* The subscriptions to the order-status view: who waits for the events of
 * which order or user. A table of buckets by (filter, key), so that an
 * event wakes only the subscriptions it concerns, each on a condition
 * variable of its own: with a thousand open streams an event costs a
 * lookup and a signal or two, not a thousand wake-ups.
 *
 * Not thread-safe: every call is made under the view's lock (view.c),
 * which is also the mutex the waits release. */
#ifndef ORDER_SERVICE_VIEW_SUBS_H
#define ORDER_SERVICE_VIEW_SUBS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "view.h"
#include "view_store.h"

#define VIEW_SUBS_BUCKETS 4096

/* As 'since_id' of view_subs_add(): no queue at all, only wake-ups (a
 * long-poll looks at the status itself). */
extern const char VIEW_SUB_WAKE_ONLY[];

struct view_subs {
        struct view_sub *buckets[VIEW_SUBS_BUCKETS];
        size_t max_queued; /* events per subscription before it is ended */
        size_t count;
        bool stopped;
};

void view_subs_init(struct view_subs *subs, size_t max_queued);
/* Free what is left (every subscription should be gone). */
void view_subs_release(struct view_subs *subs);

/* A new subscription (see view_subscribe()), its queue filled from
 * 'store'. NULL when out of memory or stopped. */
struct view_sub *view_subs_add(struct view_subs *subs, struct view_store *store,
                               enum view_filter filter, const char *key,
                               const char *since_id, view_notify_fn notify,
                               void *arg);

/* Unlink and free 'sub', its queue too. No operation if NULL. */
void view_subs_remove(struct view_subs *subs, struct view_sub *sub);

/* Queue the event at 'pos' of 'e' for every subscription to its order or
 * its user, and wake them. */
void view_subs_dispatch(struct view_subs *subs, const struct view_store *store,
                        const struct view_entry *e, const struct view_pos *pos);

/* End every subscription and refuse new ones. */
void view_subs_stop(struct view_subs *subs);

/* Take the first queued event: 1, 0 when none, -1 when the subscription
 * has ended (and its queue is empty). */
int view_subs_take(struct view_sub *sub, struct view_event *ev);

/* Wait on the subscription's condition variable ('lock' held) until
 * signalled or 'deadline'. Returns 1 when woken, 0 at the deadline, -1
 * when the subscription has ended. */
int view_subs_wait(struct view_subs *subs, struct view_sub *sub,
                   pthread_mutex_t *lock, int64_t deadline);

#endif
