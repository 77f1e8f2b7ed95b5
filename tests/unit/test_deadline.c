/* deadline: monotonic deadlines, and condition variables that time out on
 * the monotonic clock at their deadline. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "shared/deadline.h"
#include "shared/util.h"

static void test_deadline_arithmetic(void **state)
{
        int64_t d = deadline_in(60000);

        (void)state;
        assert_false(deadline_passed(d));
        assert_true(deadline_left_ms(d) > 59000);
        assert_true(deadline_passed(deadline_in(-1)));
        assert_int_equal(deadline_left_ms(deadline_in(-5)), 0);
}

/* A wait nobody signals ends at its deadline, not before. */
static void test_cond_wait_times_out_at_the_deadline(void **state)
{
        pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        pthread_cond_t cond;
        int64_t start = time_monotonic_ms(), d = deadline_in(50);
        bool signalled = true;

        (void)state;
        assert_int_equal(deadline_cond_init(&cond), 0);
        pthread_mutex_lock(&lock);
        while (signalled)
                signalled = deadline_cond_wait(&cond, &lock, d);
        pthread_mutex_unlock(&lock);
        assert_true(time_monotonic_ms() - start >= 49);
        assert_true(deadline_passed(d));
        pthread_cond_destroy(&cond);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_deadline_arithmetic),
                cmocka_unit_test(test_cond_wait_times_out_at_the_deadline),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
