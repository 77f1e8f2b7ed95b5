/* Per partition, a ring of the offsets in hand in increasing order, each
 * with a finished flag; finished ones are dropped from the front, so the
 * front is always the lowest unfinished offset. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "offsets.h"

struct entry {
        int64_t offset;
        bool done;
};

struct partition_state {
        bool assigned;
        struct entry *ring;
        size_t cap;   /* power of two, or 0 */
        size_t head;  /* index of the lowest pending entry */
        size_t count;
        int64_t last_added; /* -1: none since the assignment */
};

struct offsets {
        struct partition_state *parts; /* indexed by partition */
        size_t nparts;
};

struct offsets *offsets_new(void)
{
        return calloc(1, sizeof(struct offsets));
}

void offsets_destroy(struct offsets *o)
{
        if (!o)
                return;
        for (size_t i = 0; i < o->nparts; i++)
                free(o->parts[i].ring);
        free(o->parts);
        free(o);
}

static struct partition_state *part_get(const struct offsets *o,
                                        int32_t partition)
{
        if (partition < 0 || (size_t)partition >= o->nparts ||
            !o->parts[partition].assigned)
                return NULL;
        return &o->parts[partition];
}

int offsets_assign(struct offsets *o, int32_t partition)
{
        struct partition_state *p;

        if (partition < 0)
                return -1;
        if ((size_t)partition >= o->nparts) {
                size_t n = (size_t)partition + 1;
                struct partition_state *parts =
                        realloc(o->parts, n * sizeof(*parts));

                if (!parts)
                        return -1;
                memset(parts + o->nparts, 0, (n - o->nparts) * sizeof(*parts));
                o->parts = parts;
                o->nparts = n;
        }
        p = &o->parts[partition];
        p->assigned = true;
        p->head = 0;
        p->count = 0;
        p->last_added = -1;
        return 0;
}

void offsets_revoke(struct offsets *o, int32_t partition)
{
        struct partition_state *p = part_get(o, partition);

        if (!p)
                return;
        free(p->ring);
        memset(p, 0, sizeof(*p));
}

/* The i-th pending entry from the front. */
static struct entry *at(const struct partition_state *p, size_t i)
{
        return &p->ring[(p->head + i) & (p->cap - 1)];
}

static int grow(struct partition_state *p)
{
        size_t cap = p->cap ? p->cap * 2 : 64;
        struct entry *ring = malloc(cap * sizeof(*ring));

        if (!ring)
                return -1;
        for (size_t i = 0; i < p->count; i++)
                ring[i] = *at(p, i);
        free(p->ring);
        p->ring = ring;
        p->cap = cap;
        p->head = 0;
        return 0;
}

int offsets_add(struct offsets *o, int32_t partition, int64_t offset)
{
        struct partition_state *p = part_get(o, partition);
        struct entry *e;

        if (!p || offset < 0 || offset <= p->last_added)
                return -1;
        if (p->count == p->cap && grow(p) < 0)
                return -1;
        e = at(p, p->count);
        e->offset = offset;
        e->done = false;
        p->count++;
        p->last_added = offset;
        return 0;
}

int offsets_done(struct offsets *o, int32_t partition, int64_t offset)
{
        struct partition_state *p = part_get(o, partition);
        size_t lo = 0, hi;

        if (!p)
                return -1;
        /* Entries are sorted by offset: binary search. */
        hi = p->count;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (at(p, mid)->offset < offset)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo == p->count || at(p, lo)->offset != offset || at(p, lo)->done)
                return -1;
        at(p, lo)->done = true;
        while (p->count > 0 && at(p, 0)->done) {
                p->head = (p->head + 1) & (p->cap - 1);
                p->count--;
        }
        return 0;
}

int64_t offsets_committable(const struct offsets *o, int32_t partition)
{
        const struct partition_state *p = part_get(o, partition);

        if (!p || p->last_added < 0)
                return -1;
        if (p->count > 0)
                return at(p, 0)->offset;
        return p->last_added + 1;
}

size_t offsets_pending(const struct offsets *o, int32_t partition)
{
        const struct partition_state *p = part_get(o, partition);

        return p ? p->count : 0;
}
