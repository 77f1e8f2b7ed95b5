/* SIGINT/SIGTERM set a flag and wake a self-pipe; SIGHUP sets another. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "shared/shutdown.h"

static volatile sig_atomic_t shutdown_asap;
static volatile sig_atomic_t hangup_seen;
static atomic_bool shutdown_flag;
/* [0] is read by waiters, [1] is written once by the handler or request. */
static int wake_pipe[2] = {-1, -1};

static void wake(void)
{
        int saved = errno; /* a handler must not change errno */
        if (wake_pipe[1] >= 0) {
                char c = 1;
                /* Non-blocking: a full pipe already wakes everyone. */
                ssize_t r = write(wake_pipe[1], &c, 1);
                (void)r;
        }
        errno = saved;
}

static void on_stop_signal(int sig)
{
        (void)sig;
        shutdown_asap = 1;
        wake();
}

static void on_hangup(int sig)
{
        (void)sig;
        hangup_seen = 1;
}

int shutdown_install(void)
{
        struct sigaction sa = {0};

        if (wake_pipe[0] < 0) {
                if (pipe(wake_pipe) == -1)
                        return -1;
                for (int i = 0; i < 2; i++) {
                        fcntl(wake_pipe[i], F_SETFD, FD_CLOEXEC);
                        fcntl(wake_pipe[i], F_SETFL,
                              fcntl(wake_pipe[i], F_GETFL) | O_NONBLOCK);
                }
        }

        sigemptyset(&sa.sa_mask);
        sa.sa_handler = on_stop_signal;
        if (sigaction(SIGINT, &sa, NULL) == -1 ||
            sigaction(SIGTERM, &sa, NULL) == -1)
                return -1;
        sa.sa_handler = on_hangup;
        sa.sa_flags   = SA_RESTART;
        if (sigaction(SIGHUP, &sa, NULL) == -1)
                return -1;
        /* A peer that closes its socket must not kill the process. */
        sa.sa_handler = SIG_IGN;
        if (sigaction(SIGPIPE, &sa, NULL) == -1)
                return -1;
        return 0;
}

bool shutdown_requested(void)
{
        return shutdown_asap || atomic_load(&shutdown_flag);
}

void shutdown_request(void)
{
        atomic_store(&shutdown_flag, true);
        wake();
}

bool shutdown_wait(int timeout_ms)
{
        struct pollfd pfd = {.fd = wake_pipe[0], .events = POLLIN};

        if (shutdown_requested())
                return true;
        if (wake_pipe[0] < 0)
                return false;
        /* The pipe is never drained, so once readable it stays readable and
         * every waiter, now or later, wakes at once. */
        if (poll(&pfd, 1, timeout_ms) == -1 && errno != EINTR)
                return shutdown_requested();
        return shutdown_requested();
}

int shutdown_fd(void)
{
        return wake_pipe[0];
}

bool shutdown_take_hangup(void)
{
        if (!hangup_seen)
                return false;
        hangup_seen = 0;
        return true;
}
