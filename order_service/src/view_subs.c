/* The subscriptions to the order-status view (view_subs.h). */
#include <stdlib.h>
#include <string.h>

#include "shared/deadline.h"
#include "view_subs.h"

const char VIEW_SUB_WAKE_ONLY[] = "";

struct view_queued {
        struct view_queued *next;
        struct view_event ev;
};

struct view_sub {
        struct view_sub *next, **pprev; /* in its bucket */
        enum view_filter filter;
        bool wake_only;
        bool ended;
        pthread_cond_t cond;
        view_notify_fn notify;
        void *arg;
        struct view_queued *head, **tail;
        size_t queued;
        char key[]; /* order_id or user_id */
};

/* A pair in the history of a new subscription. */
struct view_hit {
        const struct view_entry *e;
        const struct view_pos *pos;
};

static size_t bucket_of(enum view_filter filter, const char *key)
{
        uint64_t h = 1469598103934665603ull + (uint64_t)filter;

        for (; *key; key++)
                h = (h ^ (unsigned char)*key) * 1099511628211ull;
        return h & (VIEW_SUBS_BUCKETS - 1);
}

void view_subs_init(struct view_subs *subs, size_t max_queued)
{
        memset(subs, 0, sizeof(*subs));
        subs->max_queued = max_queued ? max_queued : 1;
}

void view_subs_release(struct view_subs *subs)
{
        for (size_t i = 0; i < VIEW_SUBS_BUCKETS; i++)
                while (subs->buckets[i])
                        view_subs_remove(subs, subs->buckets[i]);
}

static void sub_wake(struct view_sub *sub)
{
        pthread_cond_signal(&sub->cond);
        if (sub->notify)
                sub->notify(sub->arg);
}

/* Queue 'ev' (taken over). Past max_queued the subscription ends: its
 * client resumes from the last event it got (Last-Event-ID). */
static void sub_push(struct view_subs *subs, struct view_sub *sub,
                     struct view_event *ev)
{
        struct view_queued *q;

        if (sub->ended || sub->queued >= subs->max_queued ||
            !(q = malloc(sizeof(*q)))) {
                view_event_release(ev);
                sub->ended = true;
                return;
        }
        q->next = NULL;
        q->ev = *ev;
        *sub->tail = q;
        sub->tail = &q->next;
        sub->queued++;
}

static int hit_cmp(const void *a, const void *b)
{
        uint64_t x = ((const struct view_hit *)a)->pos->seq,
                 y = ((const struct view_hit *)b)->pos->seq;

        return x < y ? -1 : x > y;
}

/* Add the events of 'e' to 'hits' (room for two more). */
static size_t hits_of(const struct view_entry *e, struct view_hit *hits)
{
        size_t n = 0;

        if (e->accepted.seq)
                hits[n++] = (struct view_hit){e, &e->accepted};
        if (e->final.seq)
                hits[n++] = (struct view_hit){e, &e->final};
        return n;
}

/* The events the store holds for the subscription, oldest first: a new
 * array (free(3) it) of *n, or NULL with *n 0 (none, or no memory). */
static struct view_hit *history_collect(struct view_store *store,
                                        const struct view_sub *sub, size_t *n)
{
        struct view_hit *hits = NULL, *grown;
        size_t cap = 0;

        *n = 0;
        if (sub->filter == VIEW_BY_ORDER) {
                struct view_entry *e = view_store_find(store, sub->key);

                if (!e || !(hits = malloc(2 * sizeof(*hits))))
                        return NULL;
                *n = hits_of(e, hits);
        } else {
                for (struct view_entry *e = store->oldest; e; e = e->newer) {
                        if (strcmp(e->user_id, sub->key) != 0)
                                continue;
                        if (*n + 2 > cap) {
                                cap = cap ? cap * 2 : 16;
                                if (!(grown = realloc(hits, cap * sizeof(*hits)))) {
                                        free(hits);
                                        *n = 0;
                                        return NULL;
                                }
                                hits = grown;
                        }
                        *n += hits_of(e, hits + *n);
                }
        }
        if (*n > 1)
                qsort(hits, *n, sizeof(*hits), hit_cmp);
        return hits;
}

/* Queue the history after 'since_id' (all of it when the view does not
 * hold that event), at most max_queued of the newest events. */
static void sub_history(struct view_subs *subs, struct view_store *store,
                        struct view_sub *sub, const char *since_id)
{
        size_t n, first = 0;
        struct view_hit *hits = history_collect(store, sub, &n);
        struct view_event ev;

        for (size_t i = 0; since_id && i < n; i++) {
                if (view_event_of(store, hits[i].e, hits[i].pos, &ev) == 0 &&
                    strcmp(ev.id, since_id) == 0)
                        first = i + 1;
                view_event_release(&ev);
        }
        if (n - first > subs->max_queued)
                first = n - subs->max_queued;
        for (size_t i = first; i < n; i++)
                if (view_event_of(store, hits[i].e, hits[i].pos, &ev) == 0)
                        sub_push(subs, sub, &ev);
        free(hits);
}

struct view_sub *view_subs_add(struct view_subs *subs, struct view_store *store,
                               enum view_filter filter, const char *key,
                               const char *since_id, view_notify_fn notify,
                               void *arg)
{
        size_t key_len = strlen(key) + 1, b = bucket_of(filter, key);
        struct view_sub *sub;

        if (subs->stopped || !(sub = calloc(1, sizeof(*sub) + key_len)))
                return NULL;
        if (deadline_cond_init(&sub->cond) != 0) {
                free(sub);
                return NULL;
        }
        memcpy(sub->key, key, key_len);
        sub->filter = filter;
        sub->wake_only = since_id == VIEW_SUB_WAKE_ONLY;
        sub->notify = notify;
        sub->arg = arg;
        sub->tail = &sub->head;
        if (!sub->wake_only)
                sub_history(subs, store, sub, since_id);
        sub->next = subs->buckets[b];
        if (sub->next)
                sub->next->pprev = &sub->next;
        sub->pprev = &subs->buckets[b];
        subs->buckets[b] = sub;
        subs->count++;
        return sub;
}

void view_subs_remove(struct view_subs *subs, struct view_sub *sub)
{
        struct view_event ev;

        if (!sub)
                return;
        *sub->pprev = sub->next;
        if (sub->next)
                sub->next->pprev = sub->pprev;
        while (view_subs_take(sub, &ev) == 1)
                view_event_release(&ev);
        pthread_cond_destroy(&sub->cond);
        subs->count--;
        free(sub);
}

/* Queue the event for each subscription of (filter, key) and wake it. */
static void dispatch_to(struct view_subs *subs, const struct view_store *store,
                        enum view_filter filter, const char *key,
                        const struct view_entry *e, const struct view_pos *pos)
{
        for (struct view_sub *sub = subs->buckets[bucket_of(filter, key)]; sub;
             sub = sub->next) {
                struct view_event ev;

                if (sub->filter != filter || strcmp(sub->key, key) != 0)
                        continue;
                if (!sub->wake_only) {
                        if (view_event_of(store, e, pos, &ev) == 0)
                                sub_push(subs, sub, &ev);
                        else
                                sub->ended = true; /* out of memory */
                }
                sub_wake(sub);
        }
}

void view_subs_dispatch(struct view_subs *subs, const struct view_store *store,
                        const struct view_entry *e, const struct view_pos *pos)
{
        if (subs->count == 0)
                return;
        dispatch_to(subs, store, VIEW_BY_ORDER, e->order_id, e, pos);
        dispatch_to(subs, store, VIEW_BY_USER, e->user_id, e, pos);
}

void view_subs_stop(struct view_subs *subs)
{
        subs->stopped = true;
        for (size_t i = 0; i < VIEW_SUBS_BUCKETS; i++)
                for (struct view_sub *sub = subs->buckets[i]; sub;
                     sub = sub->next) {
                        sub->ended = true;
                        sub_wake(sub);
                }
}

int view_subs_take(struct view_sub *sub, struct view_event *ev)
{
        struct view_queued *q = sub->head;

        if (!q)
                return sub->ended ? -1 : 0;
        sub->head = q->next;
        if (!sub->head)
                sub->tail = &sub->head;
        sub->queued--;
        *ev = q->ev;
        free(q);
        return 1;
}

int view_subs_wait(struct view_subs *subs, struct view_sub *sub,
                   pthread_mutex_t *lock, int64_t deadline)
{
        (void)subs;
        if (sub->ended)
                return -1;
        if (!deadline_cond_wait(&sub->cond, lock, deadline))
                return 0;
        return sub->ended ? -1 : 1;
}
