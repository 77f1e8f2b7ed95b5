/* The order-status view's data (view_store.h): a chained hash table that
 * doubles when it is as full as it has buckets, and a list from the oldest
 * entry to the newest for eviction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/jsonw.h"
#include "view_store.h"

#define VIEW_STORE_MIN_BUCKETS 1024

static uint64_t hash_id(const char *s)
{
        uint64_t h = 1469598103934665603ull; /* FNV-1a */

        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ull;
        return h;
}

int view_store_init(struct view_store *s, size_t max_orders,
                    int64_t retention_ms, const char *orders_topic,
                    const char *notifications_topic)
{
        memset(s, 0, sizeof(*s));
        s->nbuckets = VIEW_STORE_MIN_BUCKETS;
        s->buckets = calloc(s->nbuckets, sizeof(*s->buckets));
        s->orders_topic = strdup(orders_topic);
        s->notifications_topic = strdup(notifications_topic);
        s->max_orders = max_orders;
        s->retention_ms = retention_ms;
        if (!s->buckets || !s->orders_topic || !s->notifications_topic) {
                view_store_release(s);
                return -1;
        }
        return 0;
}

void view_store_release(struct view_store *s)
{
        struct view_entry *e, *next;

        if (!s)
                return;
        for (e = s->oldest; e; e = next) {
                next = e->newer;
                free(e);
        }
        free(s->buckets);
        free(s->orders_topic);
        free(s->notifications_topic);
        memset(s, 0, sizeof(*s));
}

struct view_entry *view_store_find(struct view_store *s, const char *order_id)
{
        struct view_entry *e = s->buckets[hash_id(order_id) & (s->nbuckets - 1)];

        while (e && strcmp(e->order_id, order_id) != 0)
                e = e->hnext;
        return e;
}

/* Double the table; on failure keep the old one (longer chains only). */
static void store_grow(struct view_store *s)
{
        size_t n = s->nbuckets * 2;
        struct view_entry **b = calloc(n, sizeof(*b));

        if (!b)
                return;
        for (struct view_entry *e = s->oldest; e; e = e->newer) {
                size_t i = hash_id(e->order_id) & (n - 1);

                e->hnext = b[i];
                b[i] = e;
        }
        free(s->buckets);
        s->buckets = b;
        s->nbuckets = n;
}

/* A new entry for 'o', linked as the newest. NULL when out of memory. */
static struct view_entry *store_add(struct view_store *s, const struct order *o,
                                    int64_t ts_ms)
{
        size_t id_len = strlen(o->order_id) + 1, user_len = strlen(o->user_id) + 1,
               item_len = strlen(o->item) + 1, i;
        struct view_entry *e = calloc(1, sizeof(*e) + id_len + user_len + item_len);
        char *p;

        if (!e)
                return NULL;
        p = (char *)(e + 1);
        e->order_id = memcpy(p, o->order_id, id_len);
        e->user_id = memcpy(p + id_len, o->user_id, user_len);
        e->item = memcpy(p + id_len + user_len, o->item, item_len);
        e->quantity = o->quantity;
        e->first_ms = ts_ms;
        if (s->count >= s->nbuckets)
                store_grow(s);
        i = hash_id(e->order_id) & (s->nbuckets - 1);
        e->hnext = s->buckets[i];
        s->buckets[i] = e;
        e->older = s->newest;
        if (s->newest)
                s->newest->newer = e;
        else
                s->oldest = e;
        s->newest = e;
        s->count++;
        return e;
}

struct view_entry *view_store_apply_order(struct view_store *s,
                                          const struct order *o,
                                          int32_t partition, int64_t offset,
                                          int64_t ts_ms, bool *oom)
{
        struct view_entry *e = view_store_find(s, o->order_id);

        *oom = false;
        if (e) {
                /* The order after its status (two topics, read apart):
                 * fill in its time, but the status goes no way back. */
                if (!*e->created_at)
                        snprintf(e->created_at, sizeof(e->created_at), "%s",
                                 o->created_at);
                return NULL;
        }
        if (!(e = store_add(s, o, ts_ms))) {
                *oom = true;
                return NULL;
        }
        snprintf(e->created_at, sizeof(e->created_at), "%s", o->created_at);
        e->status = VIEW_ACCEPTED;
        e->accepted = (struct view_pos){partition, offset, ++s->last_seq};
        return e;
}

struct view_entry *view_store_apply_status(struct view_store *s,
                                           const struct order_status *st,
                                           int32_t partition, int64_t offset,
                                           int64_t ts_ms, bool *oom)
{
        struct view_entry *e = view_store_find(s, st->order.order_id);

        *oom = false;
        if (!e && !(e = store_add(s, &st->order, ts_ms))) {
                *oom = true;
                return NULL;
        }
        if (e->final.seq)
                return NULL;
        e->status = st->status == ORDER_STATUS_CONFIRMED ? VIEW_CONFIRMED
                                                         : VIEW_REJECTED;
        snprintf(e->reason, sizeof(e->reason), "%s", st->reason);
        snprintf(e->processed_at, sizeof(e->processed_at), "%s",
                 st->processed_at);
        e->final = (struct view_pos){partition, offset, ++s->last_seq};
        return e;
}

static void store_remove_oldest(struct view_store *s)
{
        struct view_entry *e = s->oldest, **pp;

        pp = &s->buckets[hash_id(e->order_id) & (s->nbuckets - 1)];
        while (*pp != e)
                pp = &(*pp)->hnext;
        *pp = e->hnext;
        s->oldest = e->newer;
        if (s->oldest)
                s->oldest->older = NULL;
        else
                s->newest = NULL;
        s->count--;
        free(e);
}

bool view_store_is_expired(const struct view_store *s, int64_t ts_ms,
                           int64_t now_ms)
{
        return s->retention_ms > 0 && ts_ms < now_ms - s->retention_ms;
}

size_t view_store_expire(struct view_store *s, int64_t now_ms)
{
        size_t n = 0;

        while (s->oldest && (s->count > s->max_orders ||
                             view_store_is_expired(s, s->oldest->first_ms,
                                                   now_ms))) {
                store_remove_oldest(s);
                n++;
        }
        return n;
}

static const char *status_name(enum view_status st)
{
        switch (st) {
        case VIEW_ACCEPTED:
                return "accepted";
        case VIEW_CONFIRMED:
                return "confirmed";
        case VIEW_REJECTED:
                return "rejected";
        }
        return "unknown";
}

static void key_str_or_null(struct jsonw *w, const char *key, const char *s,
                            bool is_null)
{
        if (is_null || !*s)
                jsonw_key_null(w, key);
        else
                jsonw_key_str(w, key, s);
}

void view_entry_json(const struct view_entry *e, bool as_accepted,
                     struct strbuf *sb)
{
        struct jsonw w;

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_key_str(&w, "order_id", e->order_id);
        jsonw_key_str(&w, "status",
                      status_name(as_accepted ? VIEW_ACCEPTED : e->status));
        key_str_or_null(&w, "reason", e->reason, as_accepted);
        jsonw_key_str(&w, "user_id", e->user_id);
        jsonw_key_str(&w, "item", e->item);
        jsonw_key_int(&w, "quantity", e->quantity);
        key_str_or_null(&w, "created_at", e->created_at, false);
        key_str_or_null(&w, "processed_at", e->processed_at, as_accepted);
        jsonw_object_end(&w);
        if (w.sb.failed)
                sb->failed = true;
        else
                strbuf_add(sb, w.sb.buf, w.sb.len);
        jsonw_release(&w);
}

bool view_entry_is_final(const struct view_entry *e)
{
        return e->status != VIEW_ACCEPTED;
}

bool view_entry_same_order(const struct view_entry *e, const struct order *o)
{
        return strcmp(e->user_id, o->user_id) == 0 &&
               strcmp(e->item, o->item) == 0 && e->quantity == o->quantity;
}

int view_event_of(const struct view_store *s, const struct view_entry *e,
                  const struct view_pos *pos, struct view_event *ev)
{
        bool as_accepted = pos == &e->accepted;
        struct strbuf sb = STRBUF_INIT;

        memset(ev, 0, sizeof(*ev));
        ev->seq = pos->seq;
        snprintf(ev->id, sizeof(ev->id), "%s-%d-%lld",
                 as_accepted ? s->orders_topic : s->notifications_topic,
                 (int)pos->partition, (long long)pos->offset);
        ev->status = status_name(as_accepted ? VIEW_ACCEPTED : e->status);
        view_entry_json(e, as_accepted, &sb);
        if (sb.failed) {
                strbuf_release(&sb);
                return -1;
        }
        ev->data = strbuf_detach(&sb, &ev->data_len);
        return ev->data ? 0 : -1;
}

void view_event_release(struct view_event *ev)
{
        if (ev) {
                free(ev->data);
                ev->data = NULL;
        }
}
