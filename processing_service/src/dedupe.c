/* The dedupe store (dedupe.h): one chained hash table per input
 * partition, because a partition is what moves between instances and is
 * restored from its own changelog partition; an entry is one allocation
 * holding the order_id, its fingerprint and the second it was given a
 * status (48 bytes for a 20-character order_id with glibc's malloc, plus
 * 8 for its bucket: bench/ reports the measured figure per million).
 *
 * Chaining rather than open addressing: dropping one entry, a partition
 * or the expired ones is unlinking, and an entry never moves. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dedupe.h"
#include "shared/order.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL
#define FIRST_BUCKETS 64

struct entry {
        struct entry *next;
        uint64_t fingerprint;
        uint32_t at_s;    /* wall clock, seconds: good until 2106 */
        uint8_t len;      /* order_ids are at most ORDER_ID_MAX_CHARS bytes */
        char id[];        /* not NUL-terminated */
};

struct table {
        struct entry **buckets; /* nbuckets, a power of two; NULL: empty */
        size_t nbuckets;
        size_t count;
};

struct dedupe {
        struct table *parts; /* indexed by partition */
        int32_t nparts;
        int64_t retention_ms;
        size_t count;
        size_t bytes;
};

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
        const unsigned char *p = data;

        for (size_t i = 0; i < len; i++) {
                h ^= p[i];
                h *= FNV_PRIME;
        }
        return h;
}

uint64_t dedupe_fingerprint(const struct order *o)
{
        char quantity[32];
        uint64_t h = FNV_OFFSET;
        int n = snprintf(quantity, sizeof(quantity), "%lld", o->quantity);

        h = fnv1a(h, o->user_id, strlen(o->user_id) + 1);
        h = fnv1a(h, o->item, strlen(o->item) + 1);
        return fnv1a(h, quantity, (size_t)n + 1);
}

struct dedupe *dedupe_new(int64_t retention_ms)
{
        struct dedupe *d = calloc(1, sizeof(*d));

        if (d)
                d->retention_ms = retention_ms;
        return d;
}

/* What an entry or a bucket array takes from the allocator. */
static size_t alloc_bytes(void *ptr)
{
        return malloc_usable_size(ptr) + sizeof(size_t);
}

static void table_release(struct dedupe *d, struct table *t)
{
        for (size_t b = 0; b < t->nbuckets; b++) {
                struct entry *e = t->buckets[b], *next;

                for (; e; e = next) {
                        next = e->next;
                        d->bytes -= alloc_bytes(e);
                        free(e);
                }
        }
        if (t->buckets)
                d->bytes -= alloc_bytes(t->buckets);
        free(t->buckets);
        d->count -= t->count;
        memset(t, 0, sizeof(*t));
}

void dedupe_destroy(struct dedupe *d)
{
        if (!d)
                return;
        for (int32_t i = 0; i < d->nparts; i++)
                table_release(d, &d->parts[i]);
        free(d->parts);
        free(d);
}

/* The table of 'partition', grown into existence when 'create'; NULL when
 * absent (or out of memory). */
static struct table *table_of(struct dedupe *d, int32_t partition, bool create)
{
        struct table *parts;

        if (partition < 0)
                return NULL;
        if (partition < d->nparts)
                return &d->parts[partition];
        if (!create)
                return NULL;
        parts = realloc(d->parts, ((size_t)partition + 1) * sizeof(*parts));
        if (!parts)
                return NULL;
        memset(parts + d->nparts, 0,
               ((size_t)partition + 1 - (size_t)d->nparts) * sizeof(*parts));
        d->parts = parts;
        d->nparts = partition + 1;
        return &parts[partition];
}

static struct entry **bucket_of(const struct table *t, const char *id,
                                size_t len)
{
        return &t->buckets[fnv1a(FNV_OFFSET, id, len) & (t->nbuckets - 1)];
}

/* The link that points at the entry of 'id' (or the end of its chain). */
static struct entry **table_find(const struct table *t, const char *id,
                                 size_t len)
{
        struct entry **link = bucket_of(t, id, len);

        while (*link && ((*link)->len != len || memcmp((*link)->id, id, len)))
                link = &(*link)->next;
        return link;
}

static bool is_expired(const struct dedupe *d, const struct entry *e,
                       int64_t now_ms)
{
        return (int64_t)e->at_s * 1000 + d->retention_ms < now_ms;
}

enum dedupe_result dedupe_check(struct dedupe *d, int32_t partition,
                                const char *order_id, size_t len,
                                uint64_t fingerprint, int64_t now_ms)
{
        struct table *t = table_of(d, partition, false);
        struct entry *e;

        if (!t || !t->buckets)
                return DEDUPE_NEW;
        e = *table_find(t, order_id, len);
        if (!e || is_expired(d, e, now_ms))
                return DEDUPE_NEW;
        return e->fingerprint == fingerprint ? DEDUPE_SAME : DEDUPE_CONFLICT;
}

/* Double the buckets of 't' (or make the first ones). Returns 0, or -1
 * when out of memory (the table is unchanged and still works). */
static int table_grow(struct dedupe *d, struct table *t)
{
        size_t n = t->nbuckets ? t->nbuckets * 2 : FIRST_BUCKETS;
        struct table bigger = { calloc(n, sizeof(struct entry *)), n, t->count };

        if (!bigger.buckets)
                return -1;
        for (size_t b = 0; b < t->nbuckets; b++) {
                struct entry *e = t->buckets[b], *next;

                for (; e; e = next) {
                        struct entry **head = bucket_of(&bigger, e->id, e->len);

                        next = e->next;
                        e->next = *head;
                        *head = e;
                }
        }
        if (t->buckets)
                d->bytes -= alloc_bytes(t->buckets);
        free(t->buckets);
        d->bytes += alloc_bytes(bigger.buckets);
        *t = bigger;
        return 0;
}

int dedupe_put(struct dedupe *d, int32_t partition, const char *order_id,
               size_t len, uint64_t fingerprint, int64_t at_ms)
{
        struct table *t = table_of(d, partition, true);
        struct entry **link, *e;

        if (!t || len > ORDER_ID_MAX_CHARS)
                return -1;
        if (t->count >= t->nbuckets && table_grow(d, t) == -1 && !t->buckets)
                return -1;
        link = table_find(t, order_id, len);
        if (*link) {
                (*link)->fingerprint = fingerprint;
                (*link)->at_s = (uint32_t)(at_ms / 1000);
                return 0;
        }
        e = malloc(sizeof(*e) + len);
        if (!e)
                return -1;
        e->next = NULL;
        e->fingerprint = fingerprint;
        e->at_s = (uint32_t)(at_ms / 1000);
        e->len = (uint8_t)len;
        memcpy(e->id, order_id, len);
        *link = e;
        t->count++;
        d->count++;
        d->bytes += alloc_bytes(e);
        return 0;
}

void dedupe_drop(struct dedupe *d, int32_t partition)
{
        struct table *t = table_of(d, partition, false);

        if (t)
                table_release(d, t);
}

size_t dedupe_expire(struct dedupe *d, int64_t now_ms)
{
        size_t dropped = 0;

        for (int32_t i = 0; i < d->nparts; i++) {
                struct table *t = &d->parts[i];

                for (size_t b = 0; b < t->nbuckets; b++) {
                        struct entry **link = &t->buckets[b];

                        while (*link) {
                                struct entry *e = *link;

                                if (!is_expired(d, e, now_ms)) {
                                        link = &e->next;
                                        continue;
                                }
                                *link = e->next;
                                d->bytes -= alloc_bytes(e);
                                free(e);
                                t->count--;
                                d->count--;
                                dropped++;
                        }
                }
        }
        return dropped;
}

size_t dedupe_count(const struct dedupe *d)
{
        return d->count;
}

size_t dedupe_bytes(const struct dedupe *d)
{
        return d->bytes + sizeof(*d) +
               (size_t)d->nparts * sizeof(struct table);
}

void dedupe_value_encode(uint64_t fingerprint, char *out)
{
        static const char hex[] = "0123456789abcdef";

        for (int i = DEDUPE_VALUE_LEN - 1; i >= 0; i--) {
                out[i] = hex[fingerprint & 0xf];
                fingerprint >>= 4;
        }
}

int dedupe_value_decode(const void *value, size_t len, uint64_t *fingerprint)
{
        const char *s = value;
        uint64_t fp = 0;

        if (!s || len != DEDUPE_VALUE_LEN)
                return -1;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];

                if (c >= '0' && c <= '9')
                        fp = fp << 4 | (uint64_t)(c - '0');
                else if (c >= 'a' && c <= 'f')
                        fp = fp << 4 | (uint64_t)(c - 'a' + 10);
                else
                        return -1;
        }
        *fingerprint = fp;
        return 0;
}
