/* The business rules: quantity limit and item catalog. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "shared/strbuf.h"

/* A catalog file larger than this is refused rather than read. */
#define RULES_CATALOG_MAX_BYTES (64 * 1024 * 1024)

void rules_init(struct rules *rules, long long max_quantity)
{
        memset(rules, 0, sizeof(*rules));
        rules->max_quantity = max_quantity;
}

static void catalog_free(char **items, size_t count)
{
        for (size_t i = 0; i < count; i++)
                free(items[i]);
        free(items);
}

void rules_release(struct rules *rules)
{
        if (!rules)
                return;
        catalog_free(rules->catalog, rules->catalog_count);
        rules_init(rules, 0);
}

static int compare_items(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Sort 'items' and free duplicates, for bsearch in rules_item_is_known().
 * Returns how many are left. */
static size_t catalog_sort_unique(char **items, size_t count)
{
        size_t n = 1;

        if (count == 0)
                return 0;
        qsort(items, count, sizeof(*items), compare_items);
        for (size_t i = 1; i < count; i++) {
                if (strcmp(items[i], items[n - 1]) == 0)
                        free(items[i]);
                else
                        items[n++] = items[i];
        }
        return n;
}

int rules_load_catalog_text(struct rules *rules, const char *name,
                            const char *text, size_t len, char *errstr,
                            size_t errstr_size)
{
        char **items = NULL;
        size_t count = 0, cap = 0, lineno = 0;
        const char *p = text, *end = text + len;
        int ret = -1;

        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t)(end - p));
                const char *b = p, *e = eol ? eol : end;

                p = eol ? eol + 1 : end;
                lineno++;
                while (b < e && is_blank(*b))
                        b++;
                while (e > b && is_blank(e[-1]))
                        e--;
                if (b == e || *b == '#')
                        continue;
                if (memchr(b, '\0', (size_t)(e - b))) {
                        snprintf(errstr, errstr_size,
                                 "'%s' line %zu: NUL byte in item", name,
                                 lineno);
                        goto out;
                }
                /* An item longer than an order's item can never match: it
                 * is a mistake in the file, not an item. */
                if ((size_t)(e - b) > sizeof(((struct order *)0)->item) - 1) {
                        snprintf(errstr, errstr_size,
                                 "'%s' line %zu: item longer than %d "
                                 "characters", name, lineno,
                                 ORDER_ITEM_MAX_CHARS);
                        goto out;
                }
                if (count == RULES_CATALOG_MAX_ITEMS) {
                        snprintf(errstr, errstr_size,
                                 "'%s': more than %d items", name,
                                 RULES_CATALOG_MAX_ITEMS);
                        goto out;
                }
                if (count == cap) {
                        size_t ncap = cap ? cap * 2 : 64;
                        char **n = realloc(items, ncap * sizeof(*items));

                        if (!n)
                                goto oom;
                        items = n;
                        cap = ncap;
                }
                items[count] = strndup(b, (size_t)(e - b));
                if (!items[count])
                        goto oom;
                count++;
        }

        count = catalog_sort_unique(items, count);
        catalog_free(rules->catalog, rules->catalog_count);
        rules->catalog = items;
        rules->catalog_count = count;
        rules->has_catalog = true;
        items = NULL; /* now owned by rules */
        count = 0;
        ret = 0;
        goto out;
oom:
        snprintf(errstr, errstr_size, "'%s': out of memory", name);
out:
        catalog_free(items, count);
        return ret;
}

int rules_load_catalog(struct rules *rules, const char *path, char *errstr,
                       size_t errstr_size)
{
        struct strbuf sb = STRBUF_INIT;
        int ret = -1;

        if (strbuf_read_file(&sb, path, RULES_CATALOG_MAX_BYTES, errstr,
                             errstr_size) == -1)
                goto out;
        ret = rules_load_catalog_text(rules, path, sb.buf ? sb.buf : "",
                                      sb.len, errstr, errstr_size);
out:
        strbuf_release(&sb);
        return ret;
}

bool rules_item_is_known(const struct rules *rules, const char *item)
{
        if (!rules->has_catalog)
                return true;
        if (rules->catalog_count == 0)
                return false;
        return bsearch(&item, rules->catalog, rules->catalog_count,
                       sizeof(*rules->catalog), compare_items) != NULL;
}

void rules_check(const struct order *order, const struct rules *rules,
                 struct order_status *status)
{
        memset(status, 0, sizeof(*status));
        status->order = *order;
        status->status = ORDER_STATUS_CONFIRMED;
        if (!rules_item_is_known(rules, order->item)) {
                status->status = ORDER_STATUS_REJECTED;
                snprintf(status->reason, sizeof(status->reason), "%s",
                         RULES_REASON_UNKNOWN_ITEM);
        } else if (order->quantity > rules->max_quantity) {
                status->status = ORDER_STATUS_REJECTED;
                snprintf(status->reason, sizeof(status->reason), "%s",
                         RULES_REASON_QUANTITY_LIMIT);
        }
}
