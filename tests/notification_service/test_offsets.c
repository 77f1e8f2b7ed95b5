/* The commit position: never past a record that is not finished, whatever
 * order records finish in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "offsets.h"

static void test_nothing_added_nothing_to_commit(void **state)
{
        struct offsets *o = offsets_new();

        (void)state;
        assert_int_equal(offsets_assign(o, 0), 0);
        assert_int_equal(offsets_committable(o, 0), -1);
        assert_int_equal(offsets_committable(o, 1), -1); /* not assigned */
        offsets_destroy(o);
}

static void test_in_order_finish_commits_after_last(void **state)
{
        struct offsets *o = offsets_new();

        (void)state;
        offsets_assign(o, 2);
        assert_int_equal(offsets_add(o, 2, 10), 0);
        assert_int_equal(offsets_add(o, 2, 11), 0);
        assert_int_equal(offsets_committable(o, 2), 10);
        assert_int_equal(offsets_done(o, 2, 10), 0);
        assert_int_equal(offsets_committable(o, 2), 11);
        assert_int_equal(offsets_done(o, 2, 11), 0);
        assert_int_equal(offsets_committable(o, 2), 12);
        assert_int_equal(offsets_pending(o, 2), 0);
        offsets_destroy(o);
}

static void test_out_of_order_finish_waits_for_lowest(void **state)
{
        struct offsets *o = offsets_new();

        (void)state;
        offsets_assign(o, 0);
        for (int64_t i = 0; i < 5; i++)
                offsets_add(o, 0, i);
        offsets_done(o, 0, 3);
        offsets_done(o, 0, 1);
        offsets_done(o, 0, 4);
        assert_int_equal(offsets_committable(o, 0), 0); /* 0 unfinished */
        offsets_done(o, 0, 0);
        assert_int_equal(offsets_committable(o, 0), 2); /* 2 unfinished */
        offsets_done(o, 0, 2);
        assert_int_equal(offsets_committable(o, 0), 5);
        offsets_destroy(o);
}

/* Transaction markers leave gaps in a read_committed partition. */
static void test_gaps_in_offsets(void **state)
{
        struct offsets *o = offsets_new();

        (void)state;
        offsets_assign(o, 0);
        offsets_add(o, 0, 5);
        offsets_add(o, 0, 9);
        offsets_done(o, 0, 9);
        assert_int_equal(offsets_committable(o, 0), 5);
        assert_int_equal(offsets_done(o, 0, 7), -1); /* never added */
        offsets_done(o, 0, 5);
        assert_int_equal(offsets_committable(o, 0), 10);
        offsets_destroy(o);
}

static void test_rejects_bad_calls(void **state)
{
        struct offsets *o = offsets_new();

        (void)state;
        assert_int_equal(offsets_add(o, 0, 1), -1);   /* not assigned */
        assert_int_equal(offsets_assign(o, -1), -1);
        offsets_assign(o, 0);
        assert_int_equal(offsets_add(o, 0, 4), 0);
        assert_int_equal(offsets_add(o, 0, 4), -1);   /* not increasing */
        assert_int_equal(offsets_add(o, 0, 3), -1);
        assert_int_equal(offsets_add(o, 0, -2), -1);
        assert_int_equal(offsets_done(o, 0, 4), 0);
        assert_int_equal(offsets_done(o, 0, 4), -1);  /* twice */
        assert_int_equal(offsets_done(o, 1, 4), -1);  /* unknown partition */
        offsets_destroy(o);
        offsets_destroy(NULL);
}

/* A webhook finishing after its partition was revoked changes nothing,
 * and a partition assigned again starts afresh. */
static void test_revoke_forgets_partition(void **state)
{
        struct offsets *o = offsets_new();

        (void)state;
        offsets_assign(o, 1);
        offsets_add(o, 1, 100);
        offsets_revoke(o, 1);
        assert_int_equal(offsets_done(o, 1, 100), -1);
        assert_int_equal(offsets_committable(o, 1), -1);
        offsets_assign(o, 1);
        assert_int_equal(offsets_committable(o, 1), -1);
        assert_int_equal(offsets_add(o, 1, 50), 0);
        assert_int_equal(offsets_committable(o, 1), 50);
        offsets_destroy(o);
}

/* Many pending records across growth of the ring, finished in a
 * scrambled order: the commit position is always the lowest unfinished. */
static void test_many_scrambled(void **state)
{
        enum { N = 5000 };
        struct offsets *o = offsets_new();
        int64_t *order = malloc(N * sizeof(*order));
        unsigned char *done = calloc(N, 1);
        int64_t lowest = 0;

        (void)state;
        offsets_assign(o, 7);
        for (int64_t i = 0; i < N; i++) {
                assert_int_equal(offsets_add(o, 7, i * 2), 0);
                order[i] = i;
        }
        srand(42);
        for (int i = N - 1; i > 0; i--) {
                int j = rand() % (i + 1);
                int64_t t = order[i];

                order[i] = order[j];
                order[j] = t;
        }
        for (int i = 0; i < N; i++) {
                assert_int_equal(offsets_done(o, 7, order[i] * 2), 0);
                done[order[i]] = 1;
                while (lowest < N && done[lowest])
                        lowest++;
                assert_int_equal(offsets_committable(o, 7),
                                 lowest < N ? lowest * 2 : (N - 1) * 2 + 1);
        }
        assert_int_equal(offsets_pending(o, 7), 0);
        free(order);
        free(done);
        offsets_destroy(o);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_nothing_added_nothing_to_commit),
                cmocka_unit_test(test_in_order_finish_commits_after_last),
                cmocka_unit_test(test_out_of_order_finish_waits_for_lowest),
                cmocka_unit_test(test_gaps_in_offsets),
                cmocka_unit_test(test_rejects_bad_calls),
                cmocka_unit_test(test_revoke_forgets_partition),
                cmocka_unit_test(test_many_scrambled),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
