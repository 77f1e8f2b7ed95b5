/* The Linux side of http_server_drain() (http_drain.c), private to
 * libshared. */
#ifndef SHARED_HTTP_DRAIN_H
#define SHARED_HTTP_DRAIN_H

/* Refuse new connections on the listening sockets of TCP port 'port' of
 * this process and wait up to 'timeout_ms' until no connection on it is
 * left, accepted or queued. Returns 0, or -1 when some were left at the
 * deadline or new connections could not be refused. */
int http_drain_port(int port, int timeout_ms);

#endif
