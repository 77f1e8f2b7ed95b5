/* The order and status model: decode with every rule of CONTRACT.md, encode.
 *
 * Pure functions: no I/O, no Kafka, no HTTP, so they are unit-tested alone.
 * Decoding is bounded (ORDER_MAX_JSON_BYTES, ORDER_MAX_JSON_DEPTH), refuses
 * duplicate keys and unknown fields, and reports the first fault as a
 * code, a message and the field at fault. */
#ifndef SHARED_ORDER_H
#define SHARED_ORDER_H

#include <stdbool.h>
#include <stddef.h>

#define ORDER_MAX_JSON_BYTES  (64 * 1024) /* a request body or a record value */
#define ORDER_MAX_JSON_DEPTH  8
#define ORDER_ID_MAX_CHARS    64 /* [A-Za-z0-9._:-] only, so bytes == chars */
#define ORDER_USER_MAX_CHARS  64
#define ORDER_ITEM_MAX_CHARS  128
#define ORDER_QUANTITY_MIN    1
#define ORDER_QUANTITY_MAX    1000000
#define ORDER_REASON_MAX      64
#define ORDER_TIME_SIZE       32 /* "2026-11-23T07:00:00.123Z" + NUL */

/* Sizes in bytes: characters are counted in code points, up to 4 bytes. */
struct order {
        char order_id[ORDER_ID_MAX_CHARS + 1];       /* "" when absent */
        char user_id[ORDER_USER_MAX_CHARS * 4 + 1];
        char item[ORDER_ITEM_MAX_CHARS * 4 + 1];
        long long quantity;
        char created_at[ORDER_TIME_SIZE];            /* "" when absent */
};

enum order_status_kind {
        ORDER_STATUS_CONFIRMED,
        ORDER_STATUS_REJECTED,
};

/* The value of a record on the notifications topic. */
struct order_status {
        struct order order;        /* created_at is not part of a status */
        enum order_status_kind status;
        char reason[ORDER_REASON_MAX + 1];      /* "" means null (confirmed) */
        char processed_at[ORDER_TIME_SIZE];
};

/* What decoding found wrong. 'code' is machine-readable:
 *   "invalid_json"    malformed, truncated, or over the size or depth bound
 *   "invalid_type"    body is not an object, or a field has the wrong type
 *   "missing_field"   a required field is absent
 *   "unknown_field"   a field the contract does not name
 *   "duplicate_field" a key given twice
 *   "invalid_value"   right type, wrong value (length, charset, range)
 * 'field' is the field at fault, "" when none. */
struct model_error {
        char code[32];
        char message[192];
        char field[64];
};

/* Where an order comes from decides which fields it must have. */
enum order_source {
        ORDER_FROM_REQUEST, /* POST body: order_id optional, created_at refused */
        ORDER_FROM_RECORD,  /* orders topic: order_id and created_at required */
};

/* Decode and validate 'len' bytes of JSON (need not be NUL-terminated).
 * Returns 0 and fills *out, or -1 and fills *err. */
int order_decode(const char *json, size_t len, enum order_source source,
                 struct order *out, struct model_error *err);

/* Encode as compact JSON; created_at is written when set.
 * Returns a new NUL-terminated string (free(3) it) and its length in
 * *len_out, or NULL when out of memory. */
char *order_encode(const struct order *order, size_t *len_out);

/* Decode a notifications record value; every field is required.
 * Returns 0, or -1 and fills *err. */
int order_status_decode(const char *json, size_t len, struct order_status *out,
                        struct model_error *err);

/* Encode a status: the order's fields, "status", "reason" (null when
 * empty) and "processed_at". Returns a new string as order_encode(). */
char *order_status_encode(const struct order_status *status, size_t *len_out);

const char *order_status_kind_name(enum order_status_kind kind);

/* True when 's' is 1..64 bytes of [A-Za-z0-9._:-]. */
bool order_id_is_valid(const char *s, size_t len);

#endif
