/* processing_service's dedupe store: new, same and conflicting orders per
 * partition, the retention, dropping a partition, the fingerprint (what
 * it covers, and that it is stable: the changelog keeps it) and the
 * changelog value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dedupe.h"
#include "shared/order.h"

#define DAY_MS 86400000LL
#define T0 1780000000000LL /* 2026, ms */

static struct order make_order(const char *user, const char *item,
                               long long quantity, const char *created_at)
{
        struct order o;

        memset(&o, 0, sizeof(o));
        snprintf(o.order_id, sizeof(o.order_id), "o-1");
        snprintf(o.user_id, sizeof(o.user_id), "%s", user);
        snprintf(o.item, sizeof(o.item), "%s", item);
        o.quantity = quantity;
        snprintf(o.created_at, sizeof(o.created_at), "%s", created_at);
        return o;
}

static void test_fingerprint_covers_user_item_quantity_only(void **state)
{
        struct order a = make_order("u", "laptop", 2, "2026-11-23T07:00:00.123Z");
        struct order later = make_order("u", "laptop", 2, "2026-11-24T07:00:00.000Z");
        struct order user = make_order("v", "laptop", 2, "");
        struct order item = make_order("u", "laptops", 2, "");
        struct order qty = make_order("u", "laptop", 3, "");
        /* The fields are separated: "ab"+"c" is not "a"+"bc". */
        struct order shift1 = make_order("ab", "c", 1, "");
        struct order shift2 = make_order("a", "bc", 1, "");
        uint64_t fp = dedupe_fingerprint(&a);

        (void)state;
        assert_true(fp == dedupe_fingerprint(&later)); /* a retry */
        assert_true(fp != dedupe_fingerprint(&user));
        assert_true(fp != dedupe_fingerprint(&item));
        assert_true(fp != dedupe_fingerprint(&qty));
        assert_true(dedupe_fingerprint(&shift1) != dedupe_fingerprint(&shift2));
        /* FNV-1a 64 of "u\0laptop\0" "2\0": pinned, as the changelog
         * keeps it across versions. */
        assert_true(fp == 0x7a30c55a0c8e2d8eULL);
}

static void test_new_same_conflict_per_partition(void **state)
{
        struct dedupe *d = dedupe_new(7 * DAY_MS);

        (void)state;
        assert_non_null(d);
        assert_int_equal(dedupe_check(d, 0, "o-1", 3, 42, T0), DEDUPE_NEW);
        assert_int_equal(dedupe_put(d, 0, "o-1", 3, 42, T0), 0);
        assert_int_equal(dedupe_check(d, 0, "o-1", 3, 42, T0), DEDUPE_SAME);
        assert_int_equal(dedupe_check(d, 0, "o-1", 3, 43, T0), DEDUPE_CONFLICT);
        /* Another partition, another store; a prefix is another id. */
        assert_int_equal(dedupe_check(d, 1, "o-1", 3, 42, T0), DEDUPE_NEW);
        assert_int_equal(dedupe_check(d, 0, "o-", 2, 42, T0), DEDUPE_NEW);
        assert_int_equal(dedupe_check(d, 0, "o-12", 4, 42, T0), DEDUPE_NEW);
        assert_int_equal(dedupe_check(d, -1, "o-1", 3, 42, T0), DEDUPE_NEW);
        assert_int_equal(dedupe_count(d), 1);
        /* Put again replaces. */
        assert_int_equal(dedupe_put(d, 0, "o-1", 3, 43, T0), 0);
        assert_int_equal(dedupe_count(d), 1);
        assert_int_equal(dedupe_check(d, 0, "o-1", 3, 43, T0), DEDUPE_SAME);
        /* Too long to be an order_id. */
        assert_int_equal(dedupe_put(d, 0, "x", ORDER_ID_MAX_CHARS + 1, 1, T0), -1);
        dedupe_destroy(d);
        dedupe_destroy(NULL);
}

static void test_many_ids_grow_and_drop_a_partition(void **state)
{
        struct dedupe *d = dedupe_new(7 * DAY_MS);
        char id[32];
        size_t bytes;

        (void)state;
        for (int i = 0; i < 20000; i++) {
                int n = snprintf(id, sizeof(id), "order-%d", i);

                assert_int_equal(dedupe_put(d, i % 3, id, (size_t)n,
                                            (uint64_t)i, T0),
                                 0);
        }
        assert_int_equal(dedupe_count(d), 20000);
        bytes = dedupe_bytes(d);
        assert_true(bytes > 20000 * 40 && bytes < 20000 * 200);
        for (int i = 0; i < 20000; i++) {
                int n = snprintf(id, sizeof(id), "order-%d", i);

                assert_int_equal(dedupe_check(d, i % 3, id, (size_t)n,
                                              (uint64_t)i, T0),
                                 DEDUPE_SAME);
        }
        dedupe_drop(d, 1);
        dedupe_drop(d, 7); /* never seen: no operation */
        assert_int_equal(dedupe_count(d), 20000 - 6667);
        assert_int_equal(dedupe_check(d, 1, "order-1", 7, 1, T0), DEDUPE_NEW);
        assert_int_equal(dedupe_check(d, 0, "order-0", 7, 0, T0), DEDUPE_SAME);
        assert_true(dedupe_bytes(d) < bytes);
        dedupe_destroy(d);
}

static void test_retention_bounds_what_is_remembered(void **state)
{
        struct dedupe *d = dedupe_new(DAY_MS);

        (void)state;
        assert_int_equal(dedupe_put(d, 0, "old", 3, 1, T0 - 2 * DAY_MS), 0);
        assert_int_equal(dedupe_put(d, 0, "new", 3, 1, T0 - DAY_MS / 2), 0);
        /* Older than the retention: as if never seen, even before the
         * sweep. */
        assert_int_equal(dedupe_check(d, 0, "old", 3, 1, T0), DEDUPE_NEW);
        assert_int_equal(dedupe_check(d, 0, "old", 3, 1, T0 - DAY_MS), DEDUPE_SAME);
        assert_int_equal(dedupe_expire(d, T0), 1);
        assert_int_equal(dedupe_count(d), 1);
        assert_int_equal(dedupe_check(d, 0, "new", 3, 1, T0), DEDUPE_SAME);
        assert_int_equal(dedupe_expire(d, T0 + DAY_MS), 1);
        assert_int_equal(dedupe_count(d), 0);
        dedupe_destroy(d);
}

static void test_changelog_value_round_trip(void **state)
{
        char v[DEDUPE_VALUE_LEN];
        uint64_t fp = 0;

        (void)state;
        dedupe_value_encode(0x0123456789abcdefULL, v);
        assert_memory_equal(v, "0123456789abcdef", DEDUPE_VALUE_LEN);
        assert_int_equal(dedupe_value_decode(v, sizeof(v), &fp), 0);
        assert_true(fp == 0x0123456789abcdefULL);
        assert_int_equal(dedupe_value_decode("0123456789ABCDEF", 16, &fp), -1);
        assert_int_equal(dedupe_value_decode("0123456789abcde", 15, &fp), -1);
        assert_int_equal(dedupe_value_decode(NULL, 0, &fp), -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fingerprint_covers_user_item_quantity_only),
                cmocka_unit_test(test_new_same_conflict_per_partition),
                cmocka_unit_test(test_many_ids_grow_and_drop_a_partition),
                cmocka_unit_test(test_retention_bounds_what_is_remembered),
                cmocka_unit_test(test_changelog_value_round_trip),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
