/* Unit tests of the shared HTTP server: a real civetweb server on
 * 127.0.0.1 with a free port, driven by a raw socket client. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "shared/http.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/util.h"

#define IO_TIMEOUT_MS 5000

/* --- fixture ------------------------------------------------------------ */

struct fixture {
        struct http_server *srv;
        struct metrics *metrics;
        atomic_bool ready;
        int port;
};

static bool fixture_is_ready(void *arg, char *reason, size_t reason_size)
{
        struct fixture *fx = arg;

        if (atomic_load(&fx->ready))
                return true;
        snprintf(reason, reason_size, "broker_unreachable");
        return false;
}

/* POST /orders: 202 and the body echoed back; any other method 405. */
static int orders_handler(struct mg_connection *conn, void *arg)
{
        const struct mg_request_info *ri = mg_get_request_info(conn);
        char body[256];
        int n;

        if (strcmp(ri->request_method, "POST") != 0)
                return http_reply_error(conn, 405, "method_not_allowed",
                                        "use POST", NULL, "Allow: POST\r\n");
        n = mg_read(conn, body, sizeof(body));
        return http_reply_json(conn, 202, body, n > 0 ? (size_t)n : 0,
                               "Location: /orders/1\r\n");
}

/* GET /hostile: an error whose message and field need escaping. */
static int hostile_handler(struct mg_connection *conn, void *arg)
{
        return http_reply_error(conn, 400, "invalid",
                                "bad \"quote\" \\ and\nnewline\x01\x7f \xff",
                                "qu\"antity", NULL);
}

/* GET /closing: an answer that ends the connection. */
static int closing_handler(struct mg_connection *conn, void *arg)
{
        return http_reply_error(conn, 413, "payload_too_large", "too large",
                                NULL, "Connection: close\r\n");
}

static int setup(void **state)
{
        static struct fixture fx;
        struct http_server_options opts = {
                .service_name = "test_service",
                .port = 0,
                .num_threads = 4,
                .request_timeout_ms = 5000,
                .is_ready = fixture_is_ready,
                .ready_arg = &fx,
        };
        char errstr[256] = "";

        fx.metrics = metrics_new();
        atomic_init(&fx.ready, true);
        metric_counter_add(metrics_counter(fx.metrics, "test_total", "Test.",
                                           NULL),
                           7);
        opts.metrics = fx.metrics;
        fx.srv = http_server_start(&opts, errstr, sizeof(errstr));
        if (!fx.srv) {
                fprintf(stderr, "http_server_start: %s\n", errstr);
                return -1;
        }
        fx.port = http_server_port(fx.srv);
        assert_int_equal(http_server_route(fx.srv, "/orders", orders_handler, NULL, errstr, sizeof(errstr)), 0);
        assert_int_equal(http_server_route(fx.srv, "/hostile", hostile_handler, NULL, errstr, sizeof(errstr)), 0);
        assert_int_equal(http_server_route(fx.srv, "/closing", closing_handler, NULL, errstr, sizeof(errstr)), 0);
        *state = &fx;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *fx = *state;

        http_server_stop(fx->srv);
        metrics_destroy(fx->metrics);
        return 0;
}

/* --- a raw HTTP/1.1 client ---------------------------------------------- */

struct response {
        int status;
        char headers[4096]; /* the header block, without the status line */
        char *body;         /* NUL-terminated, malloc'd */
        size_t body_len;
};

static void response_release(struct response *r)
{
        free(r->body);
        r->body = NULL;
}

static int client_connect(int port)
{
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)port)};
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        assert_true(fd >= 0);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        return fd;
}

static void client_send(int fd, const char *req)
{
        size_t len = strlen(req), off = 0;

        while (off < len) {
                ssize_t w = write(fd, req + off, len - off);
                assert_true(w > 0);
                off += (size_t)w;
        }
}

/* Read exactly one byte, waiting at most IO_TIMEOUT_MS. 0 on EOF. */
static int client_read_byte(int fd, char *c)
{
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        ssize_t r;

        assert_int_equal(poll(&pfd, 1, IO_TIMEOUT_MS), 1);
        r = read(fd, c, 1);
        assert_true(r >= 0);
        return (int)r;
}

/* The value of header 'name' in r->headers, copied into out; false when
 * absent. */
static bool response_header(const struct response *r, const char *name,
                            char *out, size_t out_size)
{
        size_t nlen = strlen(name);

        for (const char *p = r->headers; *p;) {
                const char *eol = strstr(p, "\r\n");
                if (!eol)
                        break;
                if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0 &&
                    p[nlen] == ':') {
                        const char *v = p + nlen + 1;
                        while (*v == ' ')
                                v++;
                        snprintf(out, out_size, "%.*s", (int)(eol - v), v);
                        return true;
                }
                p = eol + 2;
        }
        return false;
}

/* Read one response: status line and headers byte by byte up to the blank
 * line, then exactly Content-Length bytes of body (which must be there). */
static void client_read_response(int fd, struct response *r)
{
        char head[sizeof(r->headers) + 64];
        char length[32];
        size_t n = 0;
        const char *eol;
        long long content_length;

        memset(r, 0, sizeof(*r));
        while (n < 4 || memcmp(head + n - 4, "\r\n\r\n", 4) != 0) {
                assert_true(n < sizeof(head) - 1);
                assert_int_equal(client_read_byte(fd, &head[n]), 1);
                n++;
        }
        head[n] = '\0';
        assert_int_equal(strncmp(head, "HTTP/1.1 ", 9), 0);
        r->status = atoi(head + 9);
        eol = strstr(head, "\r\n");
        snprintf(r->headers, sizeof(r->headers), "%s", eol + 2);

        assert_true(response_header(r, "Content-Length", length,
                                    sizeof(length)));
        content_length = atoll(length);
        assert_true(content_length >= 0 && content_length < 1000000);
        r->body_len = (size_t)content_length;
        r->body = calloc(1, r->body_len + 1);
        assert_non_null(r->body);
        for (size_t i = 0; i < r->body_len; i++)
                assert_int_equal(client_read_byte(fd, &r->body[i]), 1);
}

/* One request on a new connection ("Connection: close"). */
static void http_do(int port, const char *method, const char *path,
                    const char *body, struct response *r)
{
        char req[1024];
        int fd = client_connect(port);

        snprintf(req, sizeof(req),
                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                 method, path, body ? strlen(body) : 0, body ? body : "");
        client_send(fd, req);
        client_read_response(fd, r);
        close(fd);
}

static void assert_header(const struct response *r, const char *name,
                          const char *expected)
{
        char value[256];

        assert_true(response_header(r, name, value, sizeof(value)));
        assert_string_equal(value, expected);
}

/* The body is {"error":{"code":code,...}} with no "field" unless given. */
static void assert_error_body(const struct response *r, const char *code)
{
        json_error_t jerr;
        json_t *root = json_loadb(r->body, r->body_len, 0, &jerr);
        json_t *err;

        assert_non_null(root);
        err = json_object_get(root, "error");
        assert_true(json_is_object(err));
        assert_string_equal(json_string_value(json_object_get(err, "code")),
                            code);
        assert_true(json_is_string(json_object_get(err, "message")));
        assert_null(json_object_get(err, "field"));
        json_decref(root);
}

/* --- tests -------------------------------------------------------------- */

/* GET /healthz: 200 {"status":"ok"} as JSON, with no CORS header. */
static void healthz_ok(void **state)
{
        struct fixture *fx = *state;
        struct response r;
        char v[64];

        assert_true(fx->port > 0);
        http_do(fx->port, "GET", "/healthz", NULL, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "{\"status\":\"ok\"}");
        assert_header(&r, "Content-Type", "application/json");
        assert_false(response_header(&r, "Access-Control-Allow-Origin", v,
                                     sizeof(v)));
        response_release(&r);
}

/* GET /readyz follows the service's readiness callback. */
static void readyz_ready_and_not(void **state)
{
        struct fixture *fx = *state;
        struct response r;

        atomic_store(&fx->ready, true);
        http_do(fx->port, "GET", "/readyz", NULL, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "{\"status\":\"ready\"}");
        response_release(&r);

        atomic_store(&fx->ready, false);
        http_do(fx->port, "GET", "/readyz", NULL, &r);
        atomic_store(&fx->ready, true);
        assert_int_equal(r.status, 503);
        assert_string_equal(r.body, "{\"status\":\"not_ready\","
                                    "\"reason\":\"broker_unreachable\"}");
        assert_header(&r, "Content-Type", "application/json");
        response_release(&r);
}

/* GET /metrics: the registry in the 0.0.4 text format. */
static void metrics_text_format(void **state)
{
        struct fixture *fx = *state;
        struct response r;

        http_do(fx->port, "GET", "/metrics", NULL, &r);
        assert_int_equal(r.status, 200);
        assert_header(&r, "Content-Type",
                      "text/plain; version=0.0.4; charset=utf-8");
        assert_non_null(strstr(r.body, "# TYPE test_total counter\n"
                                       "test_total 7\n"));
        response_release(&r);
}

/* Unknown paths, sub-paths of known ones and "/" are JSON 404s. */
static void unknown_path_is_json_404(void **state)
{
        static const char *const paths[] = {"/nope", "/", "/healthz/x",
                                            "/orders/1", "/metricsx",
                                            "/index.html"};
        struct fixture *fx = *state;

        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                struct response r;

                http_do(fx->port, "GET", paths[i], NULL, &r);
                assert_int_equal(r.status, 404);
                assert_header(&r, "Content-Type", "application/json");
                assert_error_body(&r, "not_found");
                response_release(&r);
        }
}

/* Another method on a built-in endpoint: 405, JSON, Allow: GET. */
static void wrong_method_is_json_405_with_allow(void **state)
{
        static const char *const paths[] = {"/healthz", "/readyz", "/metrics"};
        struct fixture *fx = *state;

        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                struct response r;

                http_do(fx->port, "POST", paths[i], "{}", &r);
                assert_int_equal(r.status, 405);
                assert_header(&r, "Allow", "GET");
                assert_header(&r, "Content-Type", "application/json");
                assert_error_body(&r, "method_not_allowed");
                response_release(&r);
        }
}

/* A route added by the service wins over the catch-all 404 and gets its
 * extra headers through. */
static void custom_route(void **state)
{
        struct fixture *fx = *state;
        struct response r;

        http_do(fx->port, "POST", "/orders", "{\"a\":1}", &r);
        assert_int_equal(r.status, 202);
        assert_string_equal(r.body, "{\"a\":1}");
        assert_header(&r, "Location", "/orders/1");
        assert_header(&r, "Content-Type", "application/json");
        response_release(&r);

        http_do(fx->port, "GET", "/orders", NULL, &r);
        assert_int_equal(r.status, 405);
        assert_header(&r, "Allow", "POST");
        response_release(&r);
}

/* Quotes, backslashes and control characters in an error message come out
 * as valid JSON that decodes to the original text; an invalid UTF-8 byte
 * becomes U+FFFD. */
static void error_json_is_escaped(void **state)
{
        struct fixture *fx = *state;
        struct response r;
        json_t *root, *err;

        http_do(fx->port, "GET", "/hostile", NULL, &r);
        assert_int_equal(r.status, 400);
        assert_null(memchr(r.body, '\n', r.body_len));
        root = json_loadb(r.body, r.body_len, 0, NULL);
        assert_non_null(root);
        err = json_object_get(root, "error");
        assert_string_equal(json_string_value(json_object_get(err, "message")),
                            "bad \"quote\" \\ and\nnewline\x01\x7f \xef\xbf\xbd");
        assert_string_equal(json_string_value(json_object_get(err, "field")),
                            "qu\"antity");
        json_decref(root);
        response_release(&r);
}

/* Two requests on one keep-alive connection: Content-Length is right and
 * the connection stays usable. */
static void keep_alive_two_requests(void **state)
{
        struct fixture *fx = *state;
        struct response r;
        int fd = client_connect(fx->port);

        for (int i = 0; i < 2; i++) {
                client_send(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
                client_read_response(fd, &r);
                assert_int_equal(r.status, 200);
                assert_header(&r, "Connection", "keep-alive");
                response_release(&r);
        }
        client_send(fd, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
        client_read_response(fd, &r);
        assert_int_equal(r.status, 404);
        response_release(&r);
        close(fd);
}

/* A port in use is an error naming the port, not a crash. */
static void port_in_use_fails(void **state)
{
        struct fixture *fx = *state;
        struct http_server_options opts = {.service_name = "x",
                                           .port = fx->port};
        char errstr[256] = "";
        char expected[32];

        assert_null(http_server_start(&opts, errstr, sizeof(errstr)));
        snprintf(expected, sizeof(expected), "%d", fx->port);
        assert_non_null(strstr(errstr, expected));
        http_server_stop(NULL);
        assert_int_equal(http_server_port(NULL), -1);
}

/* A reply whose extra headers say "Connection: close" carries that one
 * Connection header and the server really closes, even on a keep-alive
 * request whose body it did not read. */
static void connection_close_is_kept(void **state)
{
        static const char req[] =
                "GET /closing HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Length: 5\r\n\r\nhello";
        struct fixture *fx = *state;
        struct response r;
        char c;
        int fd = client_connect(fx->port);

        client_send(fd, req);
        client_read_response(fd, &r);
        assert_int_equal(r.status, 413);
        assert_header(&r, "Connection", "close");
        assert_null(strstr(strstr(r.headers, "Connection:") + 1,
                           "Connection:"));
        assert_int_equal(client_read_byte(fd, &c), 0); /* EOF */
        close(fd);
        response_release(&r);
}

struct done_log {
        atomic_int calls;
        atomic_int last_status;
};

static void on_done(void *arg, const struct mg_connection *conn, int status)
{
        struct done_log *log = arg;

        atomic_store(&log->last_status, status);
        atomic_fetch_add(&log->calls, 1);
}

/* The optional settings: on_request_done sees each answered status;
 * cors_disabled answers a CORS preflight like any other request, without
 * civetweb's wildcard Access-Control-Allow-Origin. */
static void request_hook_and_no_cors(void **state)
{
        static const char preflight[] =
                "OPTIONS /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Origin: http://elsewhere.example\r\n"
                "Access-Control-Request-Method: POST\r\n"
                "Connection: close\r\n\r\n";
        struct done_log log;
        struct http_server_options opts = {
                .service_name = "test_service",
                .num_threads = 2,
                .on_request_done = on_done,
                .request_done_arg = &log,
                .tcp_nodelay = true,
                .cors_disabled = true,
                .keep_alive_timeout_ms = 2000,
        };
        char errstr[256] = "", v[64];
        struct http_server *srv;
        struct response r;
        int fd;

        atomic_init(&log.calls, 0);
        atomic_init(&log.last_status, 0);
        srv = http_server_start(&opts, errstr, sizeof(errstr));
        assert_non_null(srv);
        http_do(http_server_port(srv), "GET", "/nope", NULL, &r);
        assert_int_equal(r.status, 404);
        response_release(&r);
        http_do(http_server_port(srv), "GET", "/healthz", NULL, &r);
        assert_int_equal(r.status, 200);
        response_release(&r);

        fd = client_connect(http_server_port(srv));
        client_send(fd, preflight);
        client_read_response(fd, &r);
        close(fd);
        assert_int_equal(r.status, 405);
        assert_false(response_header(&r, "Access-Control-Allow-Origin", v,
                                     sizeof(v)));
        response_release(&r);
        /* mg_stop() waits for the workers, so every hook has run. */
        http_server_stop(srv);
        assert_int_equal(atomic_load(&log.calls), 3);
        assert_int_equal(atomic_load(&log.last_status), 405);
}

/* GET /slow: waits (bounded) until the test releases it, then 202. */
struct slow {
        atomic_bool entered;
        atomic_bool release;
};

static int slow_handler(struct mg_connection *conn, void *arg)
{
        struct slow *slow = arg;
        int64_t deadline = time_monotonic_ms() + 4 * IO_TIMEOUT_MS;

        atomic_store(&slow->entered, true);
        while (!atomic_load(&slow->release) && time_monotonic_ms() < deadline)
                nanosleep(&(struct timespec){.tv_nsec = 5000000L}, NULL);
        return http_reply_json(conn, 202, "{}", 2, NULL);
}

struct drain_run {
        struct http_server *srv;
        atomic_bool done;
        int ret;
};

static void *drain_main(void *arg)
{
        struct drain_run *run = arg;

        run->ret = http_server_drain(run->srv, 4 * IO_TIMEOUT_MS);
        atomic_store(&run->done, true);
        return NULL;
}

/* Poll until 'flag' is set, at most IO_TIMEOUT_MS. */
static bool wait_flag(atomic_bool *flag)
{
        int64_t deadline = time_monotonic_ms() + IO_TIMEOUT_MS;

        while (!atomic_load(flag) && time_monotonic_ms() < deadline)
                nanosleep(&(struct timespec){.tv_nsec = 5000000L}, NULL);
        return atomic_load(flag);
}

/* True when the peer has closed 'fd' (EOF within IO_TIMEOUT_MS). */
static bool client_sees_eof(int fd)
{
        char c;

        return client_read_byte(fd, &c) == 0;
}

/* http_server_drain(): a request in its handler is answered (with
 * "Connection: close") before the drain ends, so is a request sent on an
 * open keep-alive connection after it began; an idle keep-alive connection
 * is closed; a new connection is not established while draining, and is
 * refused, with nothing sent, once the server has stopped. */
static void drain_answers_every_request_taken(void **state)
{
        static const char keep_alive_get[] =
                "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        struct http_server_options opts = {
                .service_name = "test_service",
                .num_threads = 4,
                .request_timeout_ms = 5000,
        };
        struct sockaddr_in sa = {.sin_family = AF_INET};
        struct slow slow;
        struct drain_run run = {0};
        char errstr[256] = "", req[128];
        struct response r;
        struct pollfd pfd;
        pthread_t thread;
        int in_flight, idle, open_conn, late, err = 0;
        socklen_t err_len = sizeof(err);

        atomic_init(&slow.entered, false);
        atomic_init(&slow.release, false);
        atomic_init(&run.done, false);
        run.srv = http_server_start(&opts, errstr, sizeof(errstr));
        assert_non_null(run.srv);
        assert_int_equal(http_server_route(run.srv, "/slow", slow_handler, &slow, errstr, sizeof(errstr)), 0);

        /* One request in its handler, one idle keep-alive connection, one
         * open connection that has not sent its request yet. */
        in_flight = client_connect(http_server_port(run.srv));
        snprintf(req, sizeof(req), keep_alive_get, "/slow");
        client_send(in_flight, req);
        assert_true(wait_flag(&slow.entered));
        idle = client_connect(http_server_port(run.srv));
        snprintf(req, sizeof(req), keep_alive_get, "/healthz");
        client_send(idle, req);
        client_read_response(idle, &r);
        assert_header(&r, "Connection", "keep-alive");
        response_release(&r);
        open_conn = client_connect(http_server_port(run.srv));

        assert_int_equal(pthread_create(&thread, NULL, drain_main, &run), 0);

        /* A new connection is not established while draining. */
        late = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_true(late >= 0);
        sa.sin_port = htons((uint16_t)http_server_port(run.srv));
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        nanosleep(&(struct timespec){.tv_nsec = 50000000L}, NULL);
        assert_int_equal(connect(late, (struct sockaddr *)&sa, sizeof(sa)), -1);
        assert_int_equal(errno, EINPROGRESS);
        pfd = (struct pollfd){.fd = late, .events = POLLOUT};
        assert_int_equal(poll(&pfd, 1, 300), 0);

        /* A request on a connection already open is answered, and the
         * connection closed. */
        client_send(open_conn, req);
        client_read_response(open_conn, &r);
        assert_int_equal(r.status, 200);
        assert_header(&r, "Connection", "close");
        response_release(&r);
        assert_true(client_sees_eof(open_conn));
        /* The idle keep-alive connection is closed. */
        assert_true(client_sees_eof(idle));

        /* The drain waits for the handler, whose answer goes out. */
        assert_false(atomic_load(&run.done));
        atomic_store(&slow.release, true);
        client_read_response(in_flight, &r);
        assert_int_equal(r.status, 202);
        assert_header(&r, "Connection", "close");
        response_release(&r);
        assert_true(client_sees_eof(in_flight));
        assert_int_equal(pthread_join(thread, NULL), 0);
        assert_int_equal(run.ret, 0);

        /* Once stopped, the connection attempt is refused. */
        http_server_stop(run.srv);
        pfd = (struct pollfd){.fd = late, .events = POLLOUT};
        assert_int_equal(poll(&pfd, 1, IO_TIMEOUT_MS), 1);
        assert_int_equal(getsockopt(late, SOL_SOCKET, SO_ERROR, &err,
                                    &err_len), 0);
        assert_int_equal(err, ECONNREFUSED);
        close(late);
        close(open_conn);
        close(idle);
        close(in_flight);
}


int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(healthz_ok),
                cmocka_unit_test(readyz_ready_and_not),
                cmocka_unit_test(metrics_text_format),
                cmocka_unit_test(unknown_path_is_json_404),
                cmocka_unit_test(wrong_method_is_json_405_with_allow),
                cmocka_unit_test(custom_route),
                cmocka_unit_test(error_json_is_escaped),
                cmocka_unit_test(keep_alive_two_requests),
                cmocka_unit_test(port_in_use_fails),
                cmocka_unit_test(request_hook_and_no_cors),
                cmocka_unit_test(connection_close_is_kept),
                cmocka_unit_test(drain_answers_every_request_taken),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
