/* The HTTP side every service shares, on civetweb: the server with
 * GET /healthz, GET /readyz and GET /metrics, and JSON replies.
 *
 * Handlers run on civetweb's worker threads. */
#ifndef SHARED_HTTP_H
#define SHARED_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <civetweb.h>

struct metrics;

/* Readiness as the service sees it: called on a worker thread for each
 * GET /readyz, so it must be thread-safe and quick (no broker round trip:
 * return a state the service keeps). 'reason' gets a short word when not
 * ready ("broker_unreachable"). */
typedef bool (*http_ready_fn)(void *arg, char *reason, size_t reason_size);

/* Called once a request has been answered with 'status', on the worker
 * thread that answered it (civetweb's end_request callback), for request
 * metrics. Must be thread-safe and quick. */
typedef void (*http_request_done_fn)(void *arg,
                                     const struct mg_connection *conn,
                                     int status);

struct http_server_options {
        const char *service_name;
        int port;                 /* bound on 0.0.0.0 (civetweb 1.15: IPv4) */
        int num_threads;          /* worker threads: one per open connection */
        int request_timeout_ms;
        http_ready_fn is_ready;   /* NULL: always ready */
        void *ready_arg;
        struct metrics *metrics;  /* rendered by /metrics; borrowed */
        /* Optional; zero values keep civetweb's defaults. */
        http_request_done_fn on_request_done; /* NULL: none */
        void *request_done_arg;
        bool tcp_nodelay;          /* no Nagle delay on small replies */
        bool cors_disabled;        /* no Access-Control-* answers at all
                                    * (civetweb's default origin is "*") */
        int keep_alive_timeout_ms; /* idle keep-alive wait; 0: 500 ms */
        int thread_stack_bytes;    /* a worker's stack; 0: the default */
        int websocket_ping_ms;     /* ping an idle WebSocket; 0: never */
        /* Both set: HTTPS only, with this PEM certificate (chain) and its
         * PEM private key (civetweb wants them in one file; we load them
         * into its OpenSSL context ourselves). Borrowed for the call. */
        const char *tls_cert_file;
        const char *tls_key_file;
};

struct http_server;

/* Start listening. Returns the server, or NULL with errstr ("port 8001 in
 * use"). Requests to routes other than the three above get a JSON 404
 * until the service adds its own with http_server_route(). */
struct http_server *http_server_start(const struct http_server_options *opts,
                                      char *errstr, size_t errstr_size);

/* Add a handler for 'uri' (exact path). Call before traffic is expected.
 * Returns 0, or -1 with errstr (out of memory): the service must not run
 * without a route it needs. */
int http_server_route(struct http_server *srv, const char *uri,
                      mg_request_handler handler, void *arg, char *errstr,
                      size_t errstr_size);

/* As http_server_route(), for 'uri' and every path under it ("uri/..."). */
int http_server_route_prefix(struct http_server *srv, const char *uri,
                             mg_request_handler handler, void *arg,
                             char *errstr, size_t errstr_size);

/* Serve WebSockets at 'uri' with civetweb's handlers (mg_set_websocket_
 * handler; they run on the connection's worker thread). Returns 0, or -1
 * with errstr. */
int http_server_websocket(struct http_server *srv, const char *uri,
                          mg_websocket_connect_handler connect,
                          mg_websocket_ready_handler ready,
                          mg_websocket_data_handler data,
                          mg_websocket_close_handler close, void *arg,
                          char *errstr, size_t errstr_size);

/* Stop accepting and wait for the workers. No operation if NULL.
 *
 * Civetweb's mg_stop() sends nothing once it has begun: a handler still
 * running writes its reply into the void, and a request read on an idle
 * keep-alive connection, or waiting in the listen backlog, ends in a
 * close without an answer. Call http_server_drain() first. */
void http_server_stop(struct http_server *srv);

/* Drain the server before http_server_stop(), on the thread that will stop
 * it: from now on connections are no longer established (their SYNs are
 * dropped, so a client's connect ends refused once the server is stopped,
 * before it could send a request), every reply carries "Connection: close",
 * and the call waits up to 'timeout_ms' until every connection already
 * accepted or queued has been answered and closed (an idle keep-alive one
 * closes after civetweb's keep_alive_timeout_ms). Returns 0 when none is
 * left, or -1 when some still were at the deadline (their clients may get
 * no answer) or new connections could not be refused. */
int http_server_drain(struct http_server *srv, int timeout_ms);

/* The port bound (useful when opts->port was 0 in tests). */
int http_server_port(const struct http_server *srv);

/* Send 'status' with a JSON body and the given extra header lines (each
 * ending in "\r\n", or NULL), in one write. An extra "Connection: close"
 * also makes the server close the connection after this reply (without
 * reading what is left of the request body). Returns 'status', as civetweb
 * handlers do. */
int http_reply_json(struct mg_connection *conn, int status, const char *json,
                    size_t len, const char *extra_headers);

/* Send {"error":{"code":...,"message":...,"field":...}} ('field' omitted
 * when NULL or ""). Returns 'status'. */
int http_reply_error(struct mg_connection *conn, int status, const char *code,
                     const char *message, const char *field,
                     const char *extra_headers);

/* After a reply sent with "Connection: close" to a request whose body is
 * not wanted (413): read and throw away what the client still sends, at
 * most 'max_bytes' and for at most 'max_ms', so that a client still
 * writing its body does not get a reset (and loses the reply) when the
 * server closes with unread data: nginx's lingering close. */
void http_discard_body(struct mg_connection *conn, size_t max_bytes,
                       int max_ms);

#endif
