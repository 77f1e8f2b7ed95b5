/* Which offsets of each partition may be committed: the lowest offset not
 * yet finished (its line written, its webhook delivered or dead-lettered,
 * its DLQ record acknowledged). Records finish out of order when webhooks
 * run on worker threads; the committed offset never passes one that has
 * not finished, so a crash loses nothing.
 *
 * Pure and not thread-safe: the caller holds one lock around every call
 * (notifier.c: tracker_lock). */
#ifndef NOTIFICATION_OFFSETS_H
#define NOTIFICATION_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

struct offsets;

struct offsets *offsets_new(void);
/* Free everything. No operation if NULL. */
void offsets_destroy(struct offsets *o);

/* Start tracking 'partition' afresh (after an assignment).
 * Returns 0, or -1 when out of memory or partition < 0. */
int offsets_assign(struct offsets *o, int32_t partition);

/* Forget 'partition' (after a revocation); later calls for it fail. */
void offsets_revoke(struct offsets *o, int32_t partition);

/* Record that 'offset' of 'partition' is in hand. Offsets must come in
 * increasing order per partition (as a consumer reads them). Returns 0, or
 * -1 when the partition is not assigned, the offset is not above the last
 * one added, or memory is short. */
int offsets_add(struct offsets *o, int32_t partition, int64_t offset);

/* Mark 'offset' of 'partition' finished. Returns 0, or -1 when it is not
 * pending there (unknown partition, revoked since, or already finished). */
int offsets_done(struct offsets *o, int32_t partition, int64_t offset);

/* The offset to commit for 'partition' (the next one to read): the lowest
 * pending offset, or the last added + 1 when none is pending; -1 when
 * nothing was added since the assignment. */
int64_t offsets_committable(const struct offsets *o, int32_t partition);

/* How many offsets of 'partition' are pending (0 when not assigned). */
size_t offsets_pending(const struct offsets *o, int32_t partition);

#endif
