/* The dedupe store: per input partition, every order_id that has been
 * given a status, with a fingerprint of the order's content and when, so
 * that an order posted again gets no second status (CONTRACT.md "Exactly
 * one status per order_id").
 *
 * In memory, one hash table per partition; the changelog topic
 * (changelog.c) is what makes it durable. Pure: no Kafka, no I/O, so
 * test_dedupe.c checks it alone. Not thread-safe: the processor thread
 * owns it. */
#ifndef PROCESSING_DEDUPE_H
#define PROCESSING_DEDUPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct order;
struct dedupe;

/* What the store says of an order. */
enum dedupe_result {
        DEDUPE_NEW,      /* not seen within the retention: give it a status */
        DEDUPE_SAME,     /* seen with the same content: no second status */
        DEDUPE_CONFLICT, /* seen with other content: a reused order_id */
};

/* The changelog value: the fingerprint as 16 lowercase hex digits. */
#define DEDUPE_VALUE_LEN 16

/* A new, empty store that forgets entries older than 'retention_ms'
 * (> 0). Returns it (dedupe_destroy() it), or NULL when out of memory. */
struct dedupe *dedupe_new(int64_t retention_ms);

/* Free the store. No operation if NULL. */
void dedupe_destroy(struct dedupe *d);

/* The fingerprint of an order's content: FNV-1a (64 bits) over user_id,
 * item and quantity, each followed by a NUL. Stable across versions: it
 * is kept in the changelog. */
uint64_t dedupe_fingerprint(const struct order *o);

/* Whether 'order_id' (len bytes) on 'partition' was seen, at 'now_ms'
 * (wall clock): an entry older than the retention counts as not seen. */
enum dedupe_result dedupe_check(struct dedupe *d, int32_t partition,
                                const char *order_id, size_t len,
                                uint64_t fingerprint, int64_t now_ms);

/* Remember 'order_id' on 'partition' with 'fingerprint', given a status
 * at 'at_ms' (wall clock); replaces an earlier entry. Returns 0, or -1
 * when out of memory (nothing changed). */
int dedupe_put(struct dedupe *d, int32_t partition, const char *order_id,
               size_t len, uint64_t fingerprint, int64_t at_ms);

/* Forget every entry of 'partition' (revoked, or to be restored). */
void dedupe_drop(struct dedupe *d, int32_t partition);

/* Forget the entries older than the retention at 'now_ms'. Returns how
 * many were dropped. */
size_t dedupe_expire(struct dedupe *d, int64_t now_ms);

/* Entries held, and the bytes they take (tables and entries, as
 * allocated: the figure the benchmark reports per million). */
size_t dedupe_count(const struct dedupe *d);
size_t dedupe_bytes(const struct dedupe *d);

/* The changelog value of 'fingerprint' into out[DEDUPE_VALUE_LEN] (not
 * NUL-terminated), and back. dedupe_value_decode() returns 0, or -1 when
 * 'value' is not such a value. */
void dedupe_value_encode(uint64_t fingerprint, char *out);
int dedupe_value_decode(const void *value, size_t len, uint64_t *fingerprint);

#endif
