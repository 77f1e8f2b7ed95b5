/* The HTTP server every service shares, on civetweb 1.15.
 *
 * Civetweb picks a request handler in three passes over the handlers in
 * the order they were added: an exact URI match, then a handler whose URI
 * is a prefix followed by '/' ("/orders" also gets "/orders/x"), then a
 * pattern match, where our catch-all "/" matches everything. So a route
 * added by http_server_route() wins over the catch-all, and each handler
 * checks that the path is exactly its own (a prefix match is a 404).
 *
 * Handlers run on civetweb's worker threads; the server's route list only
 * grows and is only read through civetweb's own handler table.
 *
 * HTTPS: civetweb wants the certificate and key in one PEM file; we load
 * the two files into its SSL_CTX from its init_ssl callback instead. */
#define _GNU_SOURCE /* pthread_setattr_default_np */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "http_drain.h"
#include "shared/deadline.h"
#include "shared/http.h"
#include "shared/jsonw.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/util.h"

#define HTTP_REASON_MAX 128
#define HTTP_PORT_OPTION_MAX 32

struct http_route {
        struct http_route *next;
        struct http_server *srv;
        char *uri;
        bool prefix; /* also the paths under 'uri' */
        mg_request_handler handler;
        void *arg;
};

struct http_tls_files;

struct http_server {
        struct mg_context *ctx;
        char *service_name;
        http_ready_fn is_ready;
        void *ready_arg;
        http_request_done_fn on_request_done;
        void *request_done_arg;
        struct metrics *metrics; /* borrowed */
        int port;
        pthread_mutex_t routes_lock; /* guards 'routes' */
        struct http_route *routes;
        /* Set by http_server_drain() (main thread), read by every reply
         * (worker threads): from then on each one closes its connection. */
        atomic_bool draining;
        struct http_tls_files *tls; /* during mg_start() only */
};

static pthread_once_t http_library_once = PTHREAD_ONCE_INIT;

static void http_library_init(void)
{
        /* Process-wide and never undone: mg_exit_library() would break a
         * second server started later in the same process (tests). */
        mg_init_library(0);
}

/* True when the client's request lets the connection stay open: its
 * Connection header when it has one, else the HTTP version's default
 * (civetweb's own rule, which decides whether it reads another request). */
static bool client_wants_keep_alive(const struct mg_connection *conn)
{
        const struct mg_request_info *ri = mg_get_request_info(conn);
        const char *header = mg_get_header(conn, "Connection");

        if (header) {
                for (const char *p = header; *p;) {
                        size_t n;

                        while (*p == ' ' || *p == '\t' || *p == ',')
                                p++;
                        n = strcspn(p, ", \t");
                        if (n == 10 && strncasecmp(p, "keep-alive", 10) == 0)
                                return true;
                        p += n;
                }
                return false;
        }
        return ri && ri->http_version && strcmp(ri->http_version, "1.1") == 0;
}

/* True once http_server_drain() has begun on the server of 'conn'. */
static bool server_is_draining(const struct mg_connection *conn)
{
        const struct mg_context *ctx = mg_get_context(conn);
        const struct http_server *srv = ctx ? mg_get_user_data(ctx) : NULL;

        return srv && atomic_load(&srv->draining);
}

/* The value of header 'name' in 'headers' (lines ending in CRLF): a
 * pointer into it, its length in *len; NULL when absent. */
static const char *lines_find(const char *headers, const char *name,
                              size_t *len)
{
        size_t n = strlen(name);

        for (const char *p = headers; p && *p;) {
                const char *eol = strstr(p, "\r\n");

                if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
                        const char *v = p + n + 1;

                        while (*v == ' ' || *v == '\t')
                                v++;
                        *len = eol ? (size_t)(eol - v) : strlen(v);
                        return v;
                }
                p = eol ? eol + 2 : NULL;
        }
        return NULL;
}

/* http_reply() through civetweb's header calls, a send(2) per line: for
 * extra headers too long for http_reply()'s buffer. */
static int http_reply_lines(struct mg_connection *conn, int status,
                            const char *content_type, const char *body,
                            size_t len, const char *extra_headers)
{
        char length[32];

        snprintf(length, sizeof(length), "%zu", len);
        mg_response_header_start(conn, status);
        mg_response_header_add(conn, "Content-Type", content_type, -1);
        mg_response_header_add(conn, "Content-Length", length, -1);
        mg_response_header_add(conn, "Cache-Control", "no-store", -1);
        if (extra_headers && *extra_headers)
                mg_response_header_add_lines(conn, extra_headers);
        mg_response_header_send(conn);
        if (len > 0)
                mg_write(conn, body, len);
        return status;
}

/* Send 'status' with 'content_type' and the body; every response carries
 * Content-Length so keep-alive connections stay usable.
 *
 * The status line, headers and body go out in one write when they fit in
 * HTTP_REPLY_BUFFER: civetweb 1.15 sends each header line with its own
 * send(2), which with TCP_NODELAY is a TCP segment per line. The bytes are
 * those civetweb would write (its status text, Date, Connection). */
#define HTTP_REPLY_BUFFER 8192
static int http_reply(struct mg_connection *conn, int status,
                      const char *content_type, const char *body, size_t len,
                      const char *extra_headers)
{
        const struct mg_request_info *ri;
        const char *connection;
        size_t connection_len = 0;
        bool has_connection, keep_alive;
        char buf[HTTP_REPLY_BUFFER];
        char date[64];
        struct tm tm;
        time_t now;
        int head;

        if (!conn)
                return status;
        if (!extra_headers)
                extra_headers = "";
        ri = mg_get_request_info(conn);
        connection = lines_find(extra_headers, "Connection", &connection_len);
        has_connection = connection != NULL;
        keep_alive = client_wants_keep_alive(conn) && !server_is_draining(conn);
        if (!keep_alive || (connection && connection_len >= 5 &&
                            strncasecmp(connection, "close", 5) == 0))
                /* Say it and do it: civetweb would otherwise read on. */
                mg_disable_connection_keep_alive(conn);
        now = time(NULL);
        gmtime_r(&now, &tm);
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        head = snprintf(buf, sizeof(buf),
                        "HTTP/%s %d %s\r\n"
                        "Content-Type: %s\r\n"
                        "Content-Length: %zu\r\n"
                        "Cache-Control: no-store\r\n"
                        "%s"
                        "Date: %s\r\n"
                        "%s"
                        "\r\n",
                        ri && ri->http_version ? ri->http_version : "1.1",
                        status, mg_get_response_code_text(conn, status),
                        content_type, len, extra_headers, date,
                        has_connection ? ""
                        : keep_alive   ? "Connection: keep-alive\r\n"
                                       : "Connection: close\r\n");
        if (head < 0 || (size_t)head >= sizeof(buf))
                return http_reply_lines(conn, status, content_type, body, len,
                                        extra_headers);
        if ((size_t)head + len <= sizeof(buf)) {
                if (len > 0)
                        memcpy(buf + head, body, len);
                mg_write(conn, buf, (size_t)head + len);
        } else {
                mg_write(conn, buf, (size_t)head);
                mg_write(conn, body, len);
        }
        return status;
}

int http_reply_json(struct mg_connection *conn, int status, const char *json,
                    size_t len, const char *extra_headers)
{
        if (!json)
                len = 0;
        return http_reply(conn, status, "application/json", json, len,
                          extra_headers);
}

int http_reply_error(struct mg_connection *conn, int status, const char *code,
                     const char *message, const char *field,
                     const char *extra_headers)
{
        /* Used when out of memory: still a well-formed error. */
        static const char fallback[] =
                "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
        struct jsonw inner, outer;
        int ret;

        /* jsonw escapes everything and replaces invalid UTF-8, so any
         * message gives one line of valid JSON. */
        jsonw_init(&inner);
        jsonw_object_begin(&inner);
        jsonw_key_str(&inner, "code", code ? code : "error");
        jsonw_key_str(&inner, "message", message ? message : "");
        if (field && *field)
                jsonw_key_str(&inner, "field", field);
        jsonw_object_end(&inner);
        jsonw_init(&outer);
        jsonw_object_begin(&outer);
        if (!inner.sb.failed)
                jsonw_key_raw(&outer, "error", inner.sb.buf, inner.sb.len);
        jsonw_object_end(&outer);
        if (inner.sb.failed || outer.sb.failed)
                ret = http_reply_json(conn, status, fallback,
                                      sizeof(fallback) - 1, extra_headers);
        else
                ret = http_reply_json(conn, status, outer.sb.buf, outer.sb.len,
                                      extra_headers);
        jsonw_release(&outer);
        jsonw_release(&inner);
        return ret;
}

static bool request_is(const struct mg_connection *conn, const char *uri)
{
        const struct mg_request_info *ri = mg_get_request_info(conn);

        return ri && ri->local_uri && strcmp(ri->local_uri, uri) == 0;
}

static bool method_is(const struct mg_connection *conn, const char *method)
{
        const struct mg_request_info *ri = mg_get_request_info(conn);

        return ri && ri->request_method &&
               strcmp(ri->request_method, method) == 0;
}

static int reply_not_found(struct mg_connection *conn)
{
        return http_reply_error(conn, 404, "not_found", "no such resource",
                                NULL, NULL);
}

static int reply_method_not_allowed(struct mg_connection *conn,
                                    const char *allow)
{
        char header[64];

        snprintf(header, sizeof(header), "Allow: %s\r\n", allow);
        return http_reply_error(conn, 405, "method_not_allowed",
                                "method not allowed", NULL, header);
}

/* GET /healthz: the process is alive. Worker thread. */
static int healthz_handler(struct mg_connection *conn, void *cbdata)
{
        static const char body[] = "{\"status\":\"ok\"}";

        if (!request_is(conn, "/healthz"))
                return reply_not_found(conn);
        if (!method_is(conn, "GET"))
                return reply_method_not_allowed(conn, "GET");
        return http_reply_json(conn, 200, body, sizeof(body) - 1, NULL);
}

/* GET /readyz: the service's own view of its dependencies. Worker thread. */
static int readyz_handler(struct mg_connection *conn, void *cbdata)
{
        static const char ready[] = "{\"status\":\"ready\"}";
        struct http_server *srv = cbdata;
        char reason[HTTP_REASON_MAX] = "";
        struct jsonw w;
        int ret;

        if (!request_is(conn, "/readyz"))
                return reply_not_found(conn);
        if (!method_is(conn, "GET"))
                return reply_method_not_allowed(conn, "GET");
        if (!srv->is_ready ||
            srv->is_ready(srv->ready_arg, reason, sizeof(reason)))
                return http_reply_json(conn, 200, ready, sizeof(ready) - 1,
                                       NULL);

        reason[sizeof(reason) - 1] = '\0';
        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_key_str(&w, "status", "not_ready");
        jsonw_key_str(&w, "reason", *reason ? reason : "unknown");
        jsonw_object_end(&w);
        if (w.sb.failed)
                ret = http_reply_error(conn, 503, "not_ready", "not ready",
                                       NULL, NULL);
        else
                ret = http_reply_json(conn, 503, w.sb.buf, w.sb.len, NULL);
        jsonw_release(&w);
        return ret;
}

/* GET /metrics: the registry in the Prometheus text format. Worker thread. */
static int metrics_handler(struct mg_connection *conn, void *cbdata)
{
        struct http_server *srv = cbdata;
        char *text;
        size_t len = 0;
        int ret;

        if (!request_is(conn, "/metrics"))
                return reply_not_found(conn);
        if (!method_is(conn, "GET"))
                return reply_method_not_allowed(conn, "GET");
        text = metrics_render(srv->metrics, &len);
        if (!text && srv->metrics)
                return http_reply_error(conn, 500, "internal",
                                        "cannot render metrics", NULL, NULL);
        ret = http_reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8",
                         text ? text : "", text ? len : 0, NULL);
        free(text);
        return ret;
}

/* Every path no other handler takes. Worker thread. */
static int not_found_handler(struct mg_connection *conn, void *cbdata)
{
        return reply_not_found(conn);
}

/* A route of http_server_route(): only its exact path. Worker thread. */
static int route_handler(struct mg_connection *conn, void *cbdata)
{
        struct http_route *route = cbdata;
        const struct mg_request_info *ri = mg_get_request_info(conn);
        size_t n = strlen(route->uri);

        if (!request_is(conn, route->uri) &&
            !(route->prefix && ri && ri->local_uri &&
              strncmp(ri->local_uri, route->uri, n) == 0 &&
              ri->local_uri[n] == '/'))
                return reply_not_found(conn);
        return route->handler(conn, route->arg);
}

/* Civetweb's own messages (bad requests, socket errors) into our log.
 * Runs on whichever civetweb thread hit the problem. Returning 1 tells
 * civetweb not to print them itself. */
static int log_message_cb(const struct mg_connection *conn,
                          const char *message)
{
        log_write(LOG_LEVEL_WARN, "civetweb error",
                  (struct log_field[]){LOG_STR("error.message", message)}, 1);
        return 1;
}

/* civetweb's end_request: hand the status to the service's hook. Runs on
 * the worker thread that served the request. */
static void end_request_cb(const struct mg_connection *conn, int status)
{
        const struct mg_context *ctx = mg_get_context(conn);
        struct http_server *srv = ctx ? mg_get_user_data(ctx) : NULL;

        if (srv && srv->on_request_done)
                srv->on_request_done(srv->request_done_arg, conn, status);
}

/* The certificate and key of the HTTPS listener, for tls_init_cb(), which
 * civetweb calls during mg_start() on the starting thread. */
struct http_tls_files {
        const char *cert_file, *key_file;
        char errstr[256];
};

/* Put "<var>: cannot use '<path>'" and OpenSSL's first error into
 * 'tls->errstr'; returns -1. */
static int tls_fail(struct http_tls_files *tls, const char *var,
                    const char *path)
{
        char why[200] = "";
        unsigned long e = ERR_get_error();

        if (e)
                ERR_error_string_n(e, why, sizeof(why));
        ERR_clear_error();
        snprintf(tls->errstr, sizeof(tls->errstr), "%s: cannot use '%s'%s%s",
                 var, path, *why ? ": " : "", why);
        return -1;
}

/* civetweb's init_ssl: load the chain and the key into its SSL_CTX, so
 * that they may stay two files (Kubernetes' tls secrets, certbot), and
 * accept only TLS 1.2 and later. Returns 1 (done), or -1 with the
 * reason in the http_tls_files. */
static int tls_init_cb(void *ssl_ctx, void *user_data)
{
        struct http_server *srv = user_data;
        struct http_tls_files *tls = srv->tls;
        SSL_CTX *ctx = ssl_ctx;

        if (!tls)
                return -1;
        if (SSL_CTX_use_certificate_chain_file(ctx, tls->cert_file) != 1)
                return tls_fail(tls, "HTTP_TLS_CERT_FILE", tls->cert_file);
        if (SSL_CTX_use_PrivateKey_file(ctx, tls->key_file,
                                        SSL_FILETYPE_PEM) != 1)
                return tls_fail(tls, "HTTP_TLS_KEY_FILE", tls->key_file);
        if (SSL_CTX_check_private_key(ctx) != 1)
                return tls_fail(tls, "HTTP_TLS_KEY_FILE", tls->key_file);
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        return 1;
}

/* civetweb's option strings for 'opts'. */
struct http_option_text {
        char listening[HTTP_PORT_OPTION_MAX];
        char threads[16], timeout[16], keep_alive_timeout[16];
        char ws_ping[16];
        const char *options[32]; /* name, value, ..., NULL */
};

static void http_options(const struct http_server_options *opts,
                         struct http_option_text *t)
{
        size_t n = 0;

        /* An 's' after the port: TLS on it (civetweb's notation). */
        snprintf(t->listening, sizeof(t->listening), "0.0.0.0:%d%s",
                 opts->port, opts->tls_cert_file ? "s" : "");
        snprintf(t->threads, sizeof(t->threads), "%d",
                 opts->num_threads > 0 ? opts->num_threads : 16);
        snprintf(t->timeout, sizeof(t->timeout), "%d",
                 opts->request_timeout_ms > 0 ? opts->request_timeout_ms
                                              : 10000);
        /* No document_root: nothing is served from disk, no listing. */
        t->options[n++] = "listening_ports";
        t->options[n++] = t->listening;
        t->options[n++] = "num_threads";
        t->options[n++] = t->threads;
        t->options[n++] = "request_timeout_ms";
        t->options[n++] = t->timeout;
        t->options[n++] = "enable_keep_alive";
        t->options[n++] = "yes";
        t->options[n++] = "enable_directory_listing";
        t->options[n++] = "no";
        if (opts->tcp_nodelay) {
                t->options[n++] = "tcp_nodelay";
                t->options[n++] = "1";
        }
        if (opts->cors_disabled) {
                /* An empty origin makes civetweb skip CORS preflights and
                 * headers; its default is the wildcard "*". */
                t->options[n++] = "access_control_allow_origin";
                t->options[n++] = "";
        }
        if (opts->keep_alive_timeout_ms > 0) {
                snprintf(t->keep_alive_timeout, sizeof(t->keep_alive_timeout),
                         "%d", opts->keep_alive_timeout_ms);
                t->options[n++] = "keep_alive_timeout_ms";
                t->options[n++] = t->keep_alive_timeout;
        }
        if (opts->websocket_ping_ms > 0) {
                snprintf(t->ws_ping, sizeof(t->ws_ping), "%d",
                         opts->websocket_ping_ms);
                t->options[n++] = "websocket_timeout_ms";
                t->options[n++] = t->ws_ping;
                t->options[n++] = "enable_websocket_ping_pong";
                t->options[n++] = "yes";
        }
        t->options[n++] = NULL;
}

/* mg_start() with workers of 'stack_bytes' stacks (0: the default).
 * Civetweb 1.15 sets a stack size only when built with USE_STACK_SIZE,
 * and creates every worker inside mg_start(): so the process's default
 * for new threads is changed for that call only. */
static struct mg_context *start_with_stack(const struct mg_callbacks *cb,
                                           void *user, const char **options,
                                           int stack_bytes)
{
        pthread_attr_t old, attr;
        struct mg_context *ctx;
        bool changed = false;

        if (stack_bytes > 0 && pthread_getattr_default_np(&old) == 0) {
                if (pthread_attr_init(&attr) == 0) {
                        changed = pthread_attr_setstacksize(
                                          &attr, (size_t)stack_bytes) == 0 &&
                                  pthread_setattr_default_np(&attr) == 0;
                        pthread_attr_destroy(&attr);
                }
        }
        ctx = mg_start(cb, user, options);
        if (stack_bytes > 0 && changed)
                pthread_setattr_default_np(&old);
        if (stack_bytes > 0)
                pthread_attr_destroy(&old);
        return ctx;
}

struct http_server *http_server_start(const struct http_server_options *opts,
                                      char *errstr, size_t errstr_size)
{
        struct http_server *srv = NULL;
        struct mg_callbacks callbacks = {0};
        struct mg_server_port ports[4];
        struct http_option_text text;
        struct http_tls_files tls = {0};

        if (!opts || opts->port < 0 || opts->port > 65535) {
                snprintf(errstr, errstr_size, "invalid HTTP port");
                return NULL;
        }
        pthread_once(&http_library_once, http_library_init);

        srv = calloc(1, sizeof(*srv));
        if (!srv) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        pthread_mutex_init(&srv->routes_lock, NULL);
        srv->service_name = strdup(opts->service_name ? opts->service_name : "");
        if (!srv->service_name) {
                snprintf(errstr, errstr_size, "out of memory");
                goto fail;
        }
        srv->is_ready = opts->is_ready;
        srv->ready_arg = opts->ready_arg;
        srv->metrics = opts->metrics;
        srv->on_request_done = opts->on_request_done;
        srv->request_done_arg = opts->request_done_arg;

        http_options(opts, &text);
        callbacks.log_message = log_message_cb;
        if (opts->tls_cert_file && opts->tls_key_file) {
                srv->tls = &tls;
                tls.cert_file = opts->tls_cert_file;
                tls.key_file = opts->tls_key_file;
                callbacks.init_ssl = tls_init_cb;
        }
        if (opts->on_request_done)
                callbacks.end_request = end_request_cb;
        srv->ctx = start_with_stack(&callbacks, srv, text.options,
                                    opts->thread_stack_bytes);
        srv->tls = NULL; /* the callback ran during mg_start() */
        if (!srv->ctx) {
                if (tls.errstr[0])
                        snprintf(errstr, errstr_size, "%s", tls.errstr);
                else
                        snprintf(errstr, errstr_size,
                                 "cannot listen on HTTP port %d (in use?%s)",
                                 opts->port,
                                 opts->tls_cert_file ? ", or TLS failed"
                                                     : "");
                goto fail;
        }
        if (mg_get_server_ports(srv->ctx, 4, ports) < 1) {
                snprintf(errstr, errstr_size,
                         "cannot read the bound HTTP port");
                goto fail;
        }
        srv->port = ports[0].port;

        mg_set_request_handler(srv->ctx, "/healthz", healthz_handler, srv);
        mg_set_request_handler(srv->ctx, "/readyz", readyz_handler, srv);
        mg_set_request_handler(srv->ctx, "/metrics", metrics_handler, srv);
        mg_set_request_handler(srv->ctx, "/", not_found_handler, srv);
        return srv;
fail:
        http_server_stop(srv);
        return NULL;
}

static int server_route(struct http_server *srv, const char *uri,
                        bool prefix, mg_request_handler handler, void *arg,
                        char *errstr, size_t errstr_size)
{
        struct http_route *route;

        if (!srv || !uri || !handler) {
                snprintf(errstr, errstr_size, "cannot add an HTTP route: "
                         "no server, path or handler");
                return -1;
        }
        route = calloc(1, sizeof(*route));
        if (!route || !(route->uri = strdup(uri))) {
                free(route);
                snprintf(errstr, errstr_size,
                         "cannot add HTTP route '%s': out of memory", uri);
                return -1;
        }
        route->srv = srv;
        route->prefix = prefix;
        route->handler = handler;
        route->arg = arg;
        pthread_mutex_lock(&srv->routes_lock);
        route->next = srv->routes;
        srv->routes = route;
        pthread_mutex_unlock(&srv->routes_lock);
        mg_set_request_handler(srv->ctx, uri, route_handler, route);
        return 0;
}

int http_server_route(struct http_server *srv, const char *uri,
                      mg_request_handler handler, void *arg, char *errstr,
                      size_t errstr_size)
{
        return server_route(srv, uri, false, handler, arg, errstr,
                            errstr_size);
}

int http_server_route_prefix(struct http_server *srv, const char *uri,
                             mg_request_handler handler, void *arg,
                             char *errstr, size_t errstr_size)
{
        return server_route(srv, uri, true, handler, arg, errstr, errstr_size);
}

int http_server_websocket(struct http_server *srv, const char *uri,
                          mg_websocket_connect_handler connect,
                          mg_websocket_ready_handler ready,
                          mg_websocket_data_handler data,
                          mg_websocket_close_handler close, void *arg,
                          char *errstr, size_t errstr_size)
{
        if (!srv || !srv->ctx)
                return error_set(errstr, errstr_size,
                                 "cannot add WebSocket '%s': no server", uri);
        mg_set_websocket_handler(srv->ctx, uri, connect, ready, data, close,
                                 arg);
        return 0;
}

void http_server_stop(struct http_server *srv)
{
        struct http_route *route, *next;

        if (!srv)
                return;
        /* mg_stop() waits for the worker threads, so no handler still
         * uses a route when they are freed below. */
        if (srv->ctx)
                mg_stop(srv->ctx);
        for (route = srv->routes; route; route = next) {
                next = route->next;
                free(route->uri);
                free(route);
        }
        pthread_mutex_destroy(&srv->routes_lock);
        free(srv->service_name);
        free(srv);
}

int http_server_drain(struct http_server *srv, int timeout_ms)
{
        if (!srv || !srv->ctx)
                return 0;
        /* From now on every reply closes its connection. */
        atomic_store(&srv->draining, true);
        return http_drain_port(srv->port, timeout_ms);
}

int http_server_port(const struct http_server *srv)
{
        return srv ? srv->port : -1;
}

void http_discard_body(struct mg_connection *conn, size_t max_bytes,
                       int max_ms)
{
        int64_t deadline = deadline_in(max_ms);
        char buf[16384];
        size_t total = 0;

        /* mg_read() stops at the end of a Content-Length or chunked body,
         * and at civetweb's request_timeout_ms when the client stalls. */
        while (total < max_bytes && !deadline_passed(deadline)) {
                size_t want = max_bytes - total;
                int n = mg_read(conn, buf,
                                want < sizeof(buf) ? want : sizeof(buf));

                if (n <= 0)
                        break;
                total += (size_t)n;
        }
}
