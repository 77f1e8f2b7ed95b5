/* Shutdown: SIGTERM and SIGINT set the flag and wake every waiter, SIGHUP is
 * seen once, SIGPIPE no longer kills. The flag cannot be reset, so each
 * case runs in a child process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/shutdown.h"
#include "shared/util.h"

/* Run 'scenario' in a child; it returns 0 when the behaviour held. */
static void run_in_child(int (*scenario)(void))
{
        int status;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0)
                _exit(scenario());
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static int signal_sets_flag_and_wakes(int sig)
{
        if (shutdown_install() != 0)
                return 1;
        if (shutdown_requested() || shutdown_wait(10))
                return 2; /* nothing asked yet: a short wait times out */
        raise(sig);
        if (!shutdown_requested())
                return 3;
        int64_t t0 = time_monotonic_ms();
        if (!shutdown_wait(5000) || time_monotonic_ms() - t0 > 1000)
                return 4; /* returns at once */
        struct pollfd pfd = {.fd = shutdown_fd(), .events = POLLIN};
        if (poll(&pfd, 1, 0) != 1)
                return 5; /* the descriptor is readable for poll(2) users */
        return 0;
}

static int sigterm_scenario(void) { return signal_sets_flag_and_wakes(SIGTERM); }
static int sigint_scenario(void) { return signal_sets_flag_and_wakes(SIGINT); }

static void test_sigterm_requests_shutdown(void **state)
{
        (void)state;
        run_in_child(sigterm_scenario);
}

static void test_sigint_requests_shutdown(void **state)
{
        (void)state;
        run_in_child(sigint_scenario);
}

static void *waiter(void *arg)
{
        (void)arg;
        return shutdown_wait(-1) ? (void *)1 : NULL;
}

static int request_wakes_blocked_waiters_scenario(void)
{
        pthread_t t[3];
        void *ret;

        if (shutdown_install() != 0)
                return 1;
        for (int i = 0; i < 3; i++)
                pthread_create(&t[i], NULL, waiter, NULL);
        shutdown_request();
        for (int i = 0; i < 3; i++) {
                pthread_join(t[i], &ret); /* a lost wake-up hangs: ctest's timeout fails it */
                if (ret != (void *)1)
                        return 2;
        }
        return 0;
}

static void test_request_wakes_every_blocked_waiter(void **state)
{
        (void)state;
        run_in_child(request_wakes_blocked_waiters_scenario);
}

static int hangup_scenario(void)
{
        if (shutdown_install() != 0)
                return 1;
        if (shutdown_take_hangup())
                return 2;
        raise(SIGHUP);
        if (!shutdown_take_hangup())
                return 3;
        if (shutdown_take_hangup())
                return 4; /* seen once */
        if (shutdown_requested())
                return 5; /* SIGHUP is not a shutdown */
        return 0;
}

static void test_sighup_is_seen_once_and_does_not_stop(void **state)
{
        (void)state;
        run_in_child(hangup_scenario);
}

static int sigpipe_scenario(void)
{
        int fds[2];

        if (shutdown_install() != 0 || pipe(fds) != 0)
                return 1;
        close(fds[0]);
        /* Without the handler set-up this write would kill us with SIGPIPE. */
        if (write(fds[1], "x", 1) != -1)
                return 2;
        return 0;
}

static void test_sigpipe_is_ignored(void **state)
{
        (void)state;
        run_in_child(sigpipe_scenario);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sigterm_requests_shutdown),
                cmocka_unit_test(test_sigint_requests_shutdown),
                cmocka_unit_test(test_request_wakes_every_blocked_waiter),
                cmocka_unit_test(test_sighup_is_seen_once_and_does_not_stop),
                cmocka_unit_test(test_sigpipe_is_ignored),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
