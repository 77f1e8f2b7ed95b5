/* Shutdown on SIGINT and SIGTERM, and log reopening on SIGHUP.
 *
 * The handlers only set a flag and write to a pipe, "as it is not ok doing
 * anything else inside a signal handler"; the services' loops poll the
 * flag between short waits, or wait on shutdown_fd() with poll(2). */
#ifndef SHARED_SHUTDOWN_H
#define SHARED_SHUTDOWN_H

#include <stdbool.h>

/* Install the handlers (SIGINT, SIGTERM, SIGHUP) and ignore SIGPIPE.
 * Call once in main(), before threads start. Returns 0 or -1. */
int shutdown_install(void);

/* True once SIGINT or SIGTERM arrived or shutdown_request() was called. */
bool shutdown_requested(void);

/* Ask for shutdown as a signal would (from any thread). */
void shutdown_request(void);

/* Wait up to 'timeout_ms' (-1: forever) for a shutdown request.
 * Returns true when shutdown has been requested. */
bool shutdown_wait(int timeout_ms);

/* A descriptor that becomes readable once shutdown is requested. */
int shutdown_fd(void);

/* True once per SIGHUP received since the last call. */
bool shutdown_take_hangup(void);

#endif
