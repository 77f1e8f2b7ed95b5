/* The order-status view's data, without threads or Kafka: a hash table of
 * orders by order_id, in the order they were first seen, each with its
 * status and the two events of its life (accepted from the orders topic,
 * confirmed or rejected from the notifications topic). Bounded by a count
 * and an age, the oldest evicted first. Pure, so tests/order_service/
 * test_order_view_store.c covers it alone; view.c owns the lock.
 *
 * Memory: one allocation per order, the struct and its three strings
 * (bench/order_view.sh measures the bytes per order). */
#ifndef ORDER_SERVICE_VIEW_STORE_H
#define ORDER_SERVICE_VIEW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/order.h"
#include "shared/strbuf.h"

enum view_status {
        VIEW_ACCEPTED,
        VIEW_CONFIRMED,
        VIEW_REJECTED,
};

/* Where an event's record is; seq 0: no such event (yet). 'seq' orders
 * the events of this view (this instance, this run). */
struct view_pos {
        int32_t partition;
        int64_t offset;
        uint64_t seq;
};

struct view_entry {
        struct view_entry *hnext;        /* hash chain */
        struct view_entry *older, *newer; /* age list */
        const char *order_id, *user_id, *item; /* packed after the struct */
        long long quantity;
        int64_t first_ms;                /* record time first seen (epoch) */
        enum view_status status;
        char created_at[ORDER_TIME_SIZE];   /* "" until the order is read */
        char processed_at[ORDER_TIME_SIZE]; /* "" while accepted */
        char reason[ORDER_REASON_MAX + 1];
        struct view_pos accepted, final;
};

struct view_store {
        struct view_entry **buckets;
        size_t nbuckets;        /* a power of two */
        size_t count;
        size_t max_orders;
        int64_t retention_ms;
        uint64_t last_seq;
        struct view_entry *oldest, *newest;
        char *orders_topic, *notifications_topic; /* for event ids */
};

/* An event as a stream sends it: "id" (topic-partition-offset), the
 * status name, and the order's status JSON as of that event. */
struct view_event {
        uint64_t seq;
        char id[300];
        const char *status; /* static */
        char *data;         /* owned: free(3) */
        size_t data_len;
};

/* Returns 0, or -1 when out of memory. Release with view_store_release. */
int view_store_init(struct view_store *s, size_t max_orders,
                    int64_t retention_ms, const char *orders_topic,
                    const char *notifications_topic);
void view_store_release(struct view_store *s);

/* The entry of 'order_id', or NULL. Borrowed until the next change. */
struct view_entry *view_store_find(struct view_store *s, const char *order_id);

/* Apply an orders record (at 'partition'/'offset', record time 'ts_ms').
 * Returns the entry when it made an event (*seq_out its seq), NULL when
 * it made none (the order was already known: the first record of an
 * order_id wins) or when out of memory (*oom set). */
struct view_entry *view_store_apply_order(struct view_store *s,
                                          const struct order *o,
                                          int32_t partition, int64_t offset,
                                          int64_t ts_ms, bool *oom);

/* Apply a notifications record, as view_store_apply_order(). A status
 * for an order not seen yet makes its entry; a second status of an order
 * is ignored (processing writes exactly one). */
struct view_entry *view_store_apply_status(struct view_store *s,
                                           const struct order_status *st,
                                           int32_t partition, int64_t offset,
                                           int64_t ts_ms, bool *oom);

/* Evict the oldest entries while over max_orders or older than the
 * retention at 'now_ms' (epoch). Returns how many went. */
size_t view_store_expire(struct view_store *s, int64_t now_ms);

/* True when an order's record time 'ts_ms' is already past retention. */
bool view_store_is_expired(const struct view_store *s, int64_t ts_ms,
                           int64_t now_ms);

/* Append the entry's status JSON ({order_id, status, reason, user_id,
 * item, quantity, created_at, processed_at}) to 'sb'; with 'as_accepted'
 * as it was before its final status. */
void view_entry_json(const struct view_entry *e, bool as_accepted,
                     struct strbuf *sb);

/* True when the entry has its final status. */
bool view_entry_is_final(const struct view_entry *e);

/* True when 'o' (a request) has the same content as the entry: user_id,
 * item and quantity. */
bool view_entry_same_order(const struct view_entry *e, const struct order *o);

/* Fill 'ev' with the entry's event whose position is 'pos' (&e->accepted
 * or &e->final). Returns 0, or -1 when out of memory. */
int view_event_of(const struct view_store *s, const struct view_entry *e,
                  const struct view_pos *pos, struct view_event *ev);

/* Free what 'ev' owns. */
void view_event_release(struct view_event *ev);

#endif
