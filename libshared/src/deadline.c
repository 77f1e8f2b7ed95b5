/* Monotonic deadlines and the condition variables that wait for them
 * (deadline.h). */
#include <errno.h>

#include "shared/deadline.h"
#include "shared/util.h"

int64_t deadline_in(int64_t timeout_ms)
{
        return time_monotonic_ms() + timeout_ms;
}

int64_t deadline_left_ms(int64_t deadline)
{
        int64_t left = deadline - time_monotonic_ms();

        return left > 0 ? left : 0;
}

bool deadline_passed(int64_t deadline)
{
        return time_monotonic_ms() >= deadline;
}

void deadline_timespec(int64_t deadline, struct timespec *ts)
{
        ts->tv_sec = (time_t)(deadline / 1000);
        ts->tv_nsec = (long)(deadline % 1000) * 1000000L;
}

int deadline_cond_init(pthread_cond_t *cond)
{
        pthread_condattr_t attr;
        int err;

        err = pthread_condattr_init(&attr);
        if (err)
                return err;
        err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        if (!err)
                err = pthread_cond_init(cond, &attr);
        pthread_condattr_destroy(&attr);
        return err;
}

bool deadline_cond_wait(pthread_cond_t *cond, pthread_mutex_t *lock,
                        int64_t deadline)
{
        struct timespec ts;

        deadline_timespec(deadline, &ts);
        return pthread_cond_timedwait(cond, lock, &ts) != ETIMEDOUT;
}
