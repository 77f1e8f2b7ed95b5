/* The order-status view: every order of the orders topic (accepted) with
 * its status from the notifications topic (confirmed/rejected), read
 * read_committed from every partition by a consumer of its own that
 * assigns them all and joins no group, so each instance holds the whole
 * view and answers for an order posted to another. The data is
 * view_store.c's; this file owns the consumer thread, the one lock
 * ('lock' in view.c) and the subscriptions that streams, long-polls and
 * WebSockets wait on.
 *
 * Ready (view_is_ready) once it has read every partition up to its end
 * as of the start: before that a GET may miss an order that exists. */
#ifndef ORDER_SERVICE_VIEW_H
#define ORDER_SERVICE_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/order.h"
#include "shared/strbuf.h"
#include "view_store.h"

struct config;
struct metrics;

struct view_options {
        const struct config *cfg;  /* borrowed for the call */
        struct metrics *metrics;   /* borrowed */
        size_t max_orders;         /* ORDER_VIEW_MAX_ORDERS */
        int64_t retention_ms;      /* ORDER_VIEW_RETENTION, 0: no limit */
        size_t max_queued_events;  /* per subscription, then it is dropped */
};

struct view;

/* Create the consumer and start its thread (no broker needed yet).
 * Returns the view, or NULL with errstr. */
struct view *view_new(const struct view_options *opts, char *errstr,
                      size_t errstr_size);

/* End every subscription (their waits return -1) and refuse new ones;
 * for the drain at shutdown. Any thread. */
void view_stop_streams(struct view *v);

/* Stop the thread, destroy the consumer. No operation if NULL. The
 * subscriptions must be gone. */
void view_destroy(struct view *v);

/* An http_ready_fn: true once caught up with the ends seen at start. */
bool view_is_ready(void *v, char *reason, size_t reason_size);

enum view_get_result {
        VIEW_GET_FOUND,
        VIEW_GET_NOT_FOUND,
        VIEW_GET_NO_MEMORY,
};

/* The status JSON of 'order_id' appended to 'json'. With a 'deadline'
 * (deadline.h; 0: none) it waits until the status is final or the
 * deadline passes, and answers the state then. Worker thread. */
enum view_get_result view_get(struct view *v, const char *order_id,
                              int64_t deadline, struct strbuf *json);

enum view_match {
        VIEW_MATCH_NONE,     /* not in the view */
        VIEW_MATCH_SAME,     /* same user_id, item, quantity */
        VIEW_MATCH_CONFLICT, /* the order_id with other content */
};

/* How 'o' (a request with an order_id) compares with the view. */
enum view_match view_match(struct view *v, const struct order *o);

enum view_filter {
        VIEW_BY_ORDER,
        VIEW_BY_USER,
};

struct view_sub;

/* Called under the view's lock when a subscription has something new
 * (an event, an overflow, the end): it must only signal. */
typedef void (*view_notify_fn)(void *arg);

/* Subscribe to the events of one order or one user. Its queue starts with
 * the events the view holds for it after 'since_id' (an event id; NULL or
 * one the view does not hold: all of them), oldest first. 'notify' (NULL:
 * none) is called for each change besides the subscription's own
 * condition variable. Returns it, or NULL when out of memory or when the
 * streams are stopped. Release with view_unsubscribe(). */
struct view_sub *view_subscribe(struct view *v, enum view_filter filter,
                                const char *key, const char *since_id,
                                view_notify_fn notify, void *arg);

/* Take the next event of 'sub' into *ev (release it with
 * view_event_release), waiting until 'deadline' (0: do not wait).
 * Returns 1 with an event, 0 when none came in time, -1 when the
 * subscription is over (it fell too far behind, or shutdown). */
int view_sub_next(struct view *v, struct view_sub *sub, int64_t deadline,
                  struct view_event *ev);

/* End and free 'sub'. No operation if NULL. */
void view_unsubscribe(struct view *v, struct view_sub *sub);

#endif
