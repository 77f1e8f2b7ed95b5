/* The business rules of processing_service: which orders are confirmed and
 * which are rejected, and why.
 *
 * Pure: no Kafka, no clock. rules_load_catalog() is the only function that
 * touches the file system, and only at start. */
#ifndef PROCESSING_RULES_H
#define PROCESSING_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "shared/order.h"

#define RULES_REASON_QUANTITY_LIMIT "quantity_limit"
#define RULES_REASON_UNKNOWN_ITEM   "unknown_item"

/* The most items a catalog may hold: bounds memory and start-up time. */
#define RULES_CATALOG_MAX_ITEMS 1000000

struct rules {
        long long max_quantity; /* a larger quantity is rejected */
        bool has_catalog;       /* false: every item is known */
        char **catalog;         /* sorted, unique; owned */
        size_t catalog_count;
};

/* Set 'rules' to accept every item and at most 'max_quantity'.
 * Release with rules_release(). */
void rules_init(struct rules *rules, long long max_quantity);

/* Free what 'rules' owns and reset it as rules_init(rules, 0) would.
 * No operation if 'rules' is NULL. */
void rules_release(struct rules *rules);

/* Read the catalog 'path' into 'rules': one item per line, surrounding
 * white space trimmed, blank lines and lines starting with '#' skipped.
 * Returns 0, or -1 with errstr naming the file (and line) at fault; the
 * rules are then left as they were. */
int rules_load_catalog(struct rules *rules, const char *path, char *errstr,
                       size_t errstr_size);

/* Load catalog lines from memory ('len' bytes of 'text'), as
 * rules_load_catalog() does from a file; 'name' is used in messages. */
int rules_load_catalog_text(struct rules *rules, const char *name,
                            const char *text, size_t len, char *errstr,
                            size_t errstr_size);

/* True when 'item' is in the catalog, or when there is no catalog. */
bool rules_item_is_known(const struct rules *rules, const char *item);

/* Decide the status of 'order' into *status: a copy of the order,
 * "confirmed", or "rejected" with a reason. An unknown item is reported
 * before a quantity over the limit. processed_at is left empty: the
 * caller stamps it. */
void rules_check(const struct order *order, const struct rules *rules,
                 struct order_status *status);

#endif
