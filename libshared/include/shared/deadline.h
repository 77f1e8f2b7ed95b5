/* Deadlines on CLOCK_MONOTONIC, the one clock a timeout may use: a step of
 * the wall clock (NTP, an operator) must neither make a wait last for
 * ever nor end it at once.
 *
 * A deadline is a point in time_monotonic_ms() (util.h). Condition
 * variables that wait for one are made with deadline_cond_init(), so
 * pthread_cond_timedwait() measures on the same clock. */
#ifndef SHARED_DEADLINE_H
#define SHARED_DEADLINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* The deadline 'timeout_ms' from now. */
int64_t deadline_in(int64_t timeout_ms);

/* Milliseconds left until 'deadline', 0 once it has passed. */
int64_t deadline_left_ms(int64_t deadline);

/* True once 'deadline' has passed. */
bool deadline_passed(int64_t deadline);

/* 'deadline' as the absolute time pthread_cond_timedwait() wants, for a
 * condition variable made by deadline_cond_init(). */
void deadline_timespec(int64_t deadline, struct timespec *ts);

/* Initialise 'cond' to measure timed waits on CLOCK_MONOTONIC. Returns 0,
 * or an error number as pthread_cond_init(). */
int deadline_cond_init(pthread_cond_t *cond);

/* Wait on 'cond' (made by deadline_cond_init(), 'lock' held) until it is
 * signalled or 'deadline' passes. Returns false once it has passed. */
bool deadline_cond_wait(pthread_cond_t *cond, pthread_mutex_t *lock,
                        int64_t deadline);

#endif
