/* loadgen: POST /orders at a fixed rate (open loop) or as fast as the server
 * answers (saturation), over N keep-alive HTTP/1.1 connections to one IPv4
 * address, from one epoll thread.
 *
 * Open loop: request k is due at start + k / rate whether or not earlier
 * ones were answered, and its latency runs from that intended time, so a
 * slow server shows as latency instead of silently lowering the offered
 * load (no coordinated omission). A due request waits for a free
 * connection; that wait is part of its latency.
 *
 * Every request carries a distinct order_id, PREFIX-COUNTER, except the
 * retries that --retry-every asks for (lg_order_of()): the same order
 * again. Each outcome is one CSV line in --out:
 *   order_id,intended_ns,status,latency_ns,error
 * intended_ns is the intended send time on the wall clock (epoch ns, for
 * matching against other processes' timestamps); status is the HTTP status,
 * or 0 with error "connect" (refused: nothing was sent), "reset" (sent, the
 * connection ended without an answer: outcome unknown), "timeout" (sent, no
 * answer within --timeout-ms: outcome unknown) or "protocol" (unreadable
 * answer: outcome unknown). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lg.h"

#define NS_PER_MS 1000000ULL
#define NS_PER_S  1000000000ULL
#define MAX_CONNECTIONS 4096
#define REQUEST_MAX 1024
/* civetweb closes a keep-alive connection idle for keep_alive_timeout_ms
 * (500 ms by default); we retire ours before that so a request never races
 * the server's close and ends as a needless "reset". */
#define IDLE_RETIRE_NS (400 * NS_PER_MS)
#define RECONNECT_BACKOFF_NS (50 * NS_PER_MS)

enum conn_state { CONN_CLOSED, CONN_CONNECTING, CONN_IDLE, CONN_BUSY };

struct conn {
        int fd;
        enum conn_state state;
        bool has_request;     /* a request is assigned (CONNECTING or BUSY) */
        bool wants_out;       /* EPOLLOUT registered */
        uint64_t seq;
        uint64_t intended_ns; /* monotonic */
        uint64_t deadline_ns; /* monotonic: abandon the request after this */
        uint64_t idle_since_ns;
        uint64_t retry_at_ns;
        char req[REQUEST_MAX];
        size_t req_len, req_off;
        char rbuf[LG_MAX_HEAD + 4096];
        size_t rlen;
};

struct options {
        struct in_addr addr;
        int port;
        const char *path;
        int connections;
        uint64_t rate;        /* 0: saturation */
        uint64_t duration_ns;
        uint64_t count;       /* UINT64_MAX: unbounded */
        char prefix[65];
        uint64_t start_seq;
        uint64_t retry_every; /* 0: no retries */
        const char *user;
        const char *item;
        long quantity;
        uint64_t timeout_ns;
        const char *out_path;
        const char *summary_path;
};

/* The outcomes, owned by the single loop thread. */
struct tally {
        uint64_t issued;
        uint64_t by_status[600];
        uint64_t err_connect, err_reset, err_timeout, err_protocol;
        uint64_t unsent;
        uint64_t *lat_2xx;   /* ns, one per 2xx answer */
        size_t n_2xx, cap_2xx;
        uint64_t *lat_all;   /* ns, one per HTTP answer */
        size_t n_all, cap_all;
        uint64_t first_ns, last_ns;
        FILE *out;
};

static volatile sig_atomic_t stop_requested;
static int64_t epoch_offset_ns; /* realtime - monotonic, at start */

static void on_signal(int sig)
{
        (void)sig;
        stop_requested = 1;
}

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static int push_latency(uint64_t **v, size_t *n, size_t *cap, uint64_t x)
{
        if (*n == *cap) {
                size_t ncap = *cap ? *cap * 2 : 65536;
                uint64_t *nv = realloc(*v, ncap * sizeof(*nv));

                if (!nv)
                        return -1;
                *v = nv;
                *cap = ncap;
        }
        (*v)[(*n)++] = x;
        return 0;
}

/* Record the outcome of request 'seq' (status 0: 'error' says why). */
static void tally_record(struct tally *t, const struct options *o,
                         uint64_t seq, uint64_t intended_ns, int status,
                         const char *error, uint64_t at_ns)
{
        uint64_t latency = at_ns > intended_ns ? at_ns - intended_ns : 0;

        if (status > 0 && status < 600) {
                t->by_status[status]++;
                if (push_latency(&t->lat_all, &t->n_all, &t->cap_all,
                                 latency) == -1 ||
                    (status / 100 == 2 &&
                     push_latency(&t->lat_2xx, &t->n_2xx, &t->cap_2xx,
                                  latency) == -1)) {
                        fprintf(stderr, "loadgen: out of memory\n");
                        exit(1);
                }
        } else if (strcmp(error, "connect") == 0) {
                t->err_connect++;
        } else if (strcmp(error, "timeout") == 0) {
                t->err_timeout++;
        } else if (strcmp(error, "protocol") == 0) {
                t->err_protocol++;
        } else {
                t->err_reset++;
        }
        t->last_ns = at_ns;
        if (t->out)
                fprintf(t->out, "%s-%" PRIu64 ",%" PRIu64 ",%d,%" PRIu64 ",%s\n",
                        o->prefix, lg_order_of(seq, o->retry_every),
                        (uint64_t)((int64_t)intended_ns + epoch_offset_ns),
                        status, latency, status ? "" : error);
}

static void conn_events(int ep, struct conn *c, int idx, bool want_out)
{
        struct epoll_event ev = { .events = EPOLLIN | (want_out ? EPOLLOUT : 0),
                                  .data.u32 = (uint32_t)idx };

        if (c->wants_out == want_out)
                return;
        c->wants_out = want_out;
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_close(struct conn *c, uint64_t retry_at)
{
        if (c->fd >= 0)
                close(c->fd); /* also leaves the epoll set */
        c->fd = -1;
        c->state = CONN_CLOSED;
        c->has_request = false;
        c->wants_out = false;
        c->rlen = 0;
        c->retry_at_ns = retry_at;
}

/* Write what is left of the request; 0, or -1 when the connection failed. */
static int conn_flush(int ep, struct conn *c, int idx)
{
        while (c->req_off < c->req_len) {
                ssize_t n = send(c->fd, c->req + c->req_off,
                                 c->req_len - c->req_off, MSG_NOSIGNAL);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK) {
                                conn_events(ep, c, idx, true);
                                return 0;
                        }
                        return -1;
                }
                c->req_off += (size_t)n;
        }
        conn_events(ep, c, idx, false);
        return 0;
}

static void conn_fail(struct conn *c, struct tally *t, const struct options *o,
                      const char *error, uint64_t now, uint64_t retry_at)
{
        if (c->has_request)
                tally_record(t, o, c->seq, c->intended_ns, 0, error, now);
        conn_close(c, retry_at);
}

static void conn_send(int ep, struct conn *c, int idx, struct tally *t,
                      const struct options *o, uint64_t now)
{
        c->state = CONN_BUSY;
        c->deadline_ns = now + o->timeout_ns;
        c->rlen = 0;
        if (conn_flush(ep, c, idx) == -1)
                /* Nothing may have reached the server, but we cannot know
                 * how much did: the outcome is unknown. */
                conn_fail(c, t, o, "reset", now, now);
}

/* Start a non-blocking connect; -1 when it failed at once (refused). */
static int conn_connect(int ep, struct conn *c, int idx,
                        const struct options *o)
{
        struct sockaddr_in sa = { .sin_family = AF_INET,
                                  .sin_port = htons((uint16_t)o->port),
                                  .sin_addr = o->addr };
        struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT,
                                  .data.u32 = (uint32_t)idx };
        int one = 1;

        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd < 0)
                return -1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 &&
            errno != EINPROGRESS) {
                close(c->fd);
                c->fd = -1;
                return -1;
        }
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
                close(c->fd);
                c->fd = -1;
                return -1;
        }
        c->wants_out = true;
        c->state = CONN_CONNECTING;
        return 0;
}

/* Give request 'seq' to connection 'c' (IDLE, or CLOSED and due for a
 * retry): send it now or once connected. */
static void conn_assign(int ep, struct conn *c, int idx, struct tally *t,
                        const struct options *o, uint64_t seq,
                        uint64_t intended, uint64_t now)
{
        char body[512];
        int blen, rlen;

        blen = snprintf(body, sizeof(body),
                        "{\"order_id\":\"%s-%" PRIu64 "\",\"user_id\":\"%s\","
                        "\"item\":\"%s\",\"quantity\":%ld}",
                        o->prefix, lg_order_of(seq, o->retry_every), o->user,
                        o->item, o->quantity);
        rlen = snprintf(c->req, sizeof(c->req),
                        "POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
                        "Content-Type: application/json\r\n"
                        "Content-Length: %d\r\n\r\n%s",
                        o->path, inet_ntoa(o->addr), o->port, blen, body);
        c->req_len = (size_t)rlen; /* bounded: options are checked at start */
        c->req_off = 0;
        c->seq = seq;
        c->intended_ns = intended;
        c->has_request = true;
        t->issued++;
        if (c->state == CONN_IDLE) {
                conn_send(ep, c, idx, t, o, now);
                return;
        }
        c->deadline_ns = now + o->timeout_ns; /* for the connect */
        if (conn_connect(ep, c, idx, o) == -1)
                conn_fail(c, t, o, "connect", now, now + RECONNECT_BACKOFF_NS);
}

/* Read and frame what the server sent on a busy connection. */
static void conn_read(struct conn *c, struct tally *t, const struct options *o,
                      uint64_t now)
{
        struct lg_response r;

        for (;;) {
                ssize_t n = read(c->fd, c->rbuf + c->rlen,
                                 sizeof(c->rbuf) - c->rlen);
                int rc;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        return;
                if (n <= 0) {
                        /* EOF or error: an idle connection just closes. */
                        if (c->state == CONN_BUSY)
                                conn_fail(c, t, o, "reset", now, now);
                        else
                                conn_close(c, now);
                        return;
                }
                if (c->state != CONN_BUSY) {
                        /* Bytes nobody asked for: drop the connection. */
                        conn_close(c, now);
                        return;
                }
                c->rlen += (size_t)n;
                rc = lg_response_parse(c->rbuf, c->rlen, &r);
                if (rc == 0) {
                        if (c->rlen == sizeof(c->rbuf)) {
                                conn_fail(c, t, o, "protocol", now, now);
                                return;
                        }
                        continue;
                }
                if (rc == -1 || r.length != c->rlen) {
                        /* Malformed, or more than one answer: not HTTP as
                         * we speak it. */
                        conn_fail(c, t, o, "protocol", now, now);
                        return;
                }
                tally_record(t, o, c->seq, c->intended_ns, r.status, NULL, now);
                c->has_request = false;
                c->rlen = 0;
                if (r.is_close) {
                        conn_close(c, now);
                } else {
                        c->state = CONN_IDLE;
                        c->idle_since_ns = now;
                }
                return;
        }
}

static void conn_writable(int ep, struct conn *c, int idx, struct tally *t,
                          const struct options *o, uint64_t now)
{
        if (c->state == CONN_CONNECTING) {
                int err = 0;
                socklen_t len = sizeof(err);

                if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
                    err != 0) {
                        conn_fail(c, t, o, "connect", now,
                                  now + RECONNECT_BACKOFF_NS);
                        return;
                }
                c->state = CONN_IDLE;
                c->idle_since_ns = now;
                if (c->has_request)
                        conn_send(ep, c, idx, t, o, now);
                else
                        conn_events(ep, c, idx, false);
                return;
        }
        if (c->state == CONN_BUSY && conn_flush(ep, c, idx) == -1)
                conn_fail(c, t, o, "reset", now, now);
}

static void usage(FILE *f)
{
        fprintf(f,
"usage: loadgen --port PORT [options]\n"
"POST JSON orders to http://HOST:PORT/PATH over keep-alive connections.\n"
"  --host ADDR          IPv4 address (default 127.0.0.1)\n"
"  --port PORT          required\n"
"  --path PATH          default /orders\n"
"  -c, --connections N  keep-alive connections (default 16; a civetweb\n"
"                       server needs a worker thread for each)\n"
"  -r, --rate R         requests/s, open loop; 0 = saturation (default 0)\n"
"  -d, --duration S     seconds of schedule (default 10)\n"
"  -n, --count N        at most N requests (default: no bound but -d)\n"
"  --prefix P           order_id prefix, [A-Za-z0-9._:-] (default lg-PID)\n"
"  --start-seq N        first order_id counter (default 0)\n"
"  --retry-every N      every Nth request posts again the order of the\n"
"                       request N/2 before it, a client's retry (N >= 2;\n"
"                       default 0: none)\n"
"  --user U --item I --quantity Q   the order's other fields\n"
"                       (defaults bench, laptop, 1)\n"
"  --timeout-ms MS      abandon a request unanswered after MS (default 30000)\n"
"  -o, --out FILE       per-request CSV: order_id,intended_ns,status,latency_ns,error\n"
"  --summary-json FILE  the summary as JSON too\n");
}

static int parse_u64(const char *s, uint64_t max, uint64_t *v)
{
        char *end;
        unsigned long long x;

        errno = 0;
        if (!*s || *s == '-')
                return -1;
        x = strtoull(s, &end, 10);
        if (errno || *end || x > max)
                return -1;
        *v = x;
        return 0;
}

static bool is_plain(const char *s, size_t max, bool id_chars)
{
        size_t n = strlen(s);

        if (n == 0 || n > max)
                return false;
        for (; *s; s++) {
                unsigned char ch = (unsigned char)*s;

                if (id_chars ? !(isalnum(ch) || strchr("._:-", ch))
                             : (ch < 0x20 || ch == '"' || ch == '\\' ||
                                ch >= 0x7f))
                        return false;
        }
        return true;
}

static int options_parse(int argc, char **argv, struct options *o)
{
        static const struct option longopts[] = {
                { "host", required_argument, NULL, 'H' },
                { "port", required_argument, NULL, 'p' },
                { "path", required_argument, NULL, 'P' },
                { "connections", required_argument, NULL, 'c' },
                { "rate", required_argument, NULL, 'r' },
                { "duration", required_argument, NULL, 'd' },
                { "count", required_argument, NULL, 'n' },
                { "prefix", required_argument, NULL, 'x' },
                { "start-seq", required_argument, NULL, 's' },
                { "retry-every", required_argument, NULL, 'R' },
                { "user", required_argument, NULL, 'u' },
                { "item", required_argument, NULL, 'i' },
                { "quantity", required_argument, NULL, 'q' },
                { "timeout-ms", required_argument, NULL, 't' },
                { "out", required_argument, NULL, 'o' },
                { "summary-json", required_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        uint64_t v;
        int ch;

        *o = (struct options){ .path = "/orders", .connections = 16,
                               .duration_ns = 10 * NS_PER_S,
                               .count = UINT64_MAX, .user = "bench",
                               .item = "laptop", .quantity = 1,
                               .timeout_ns = 30 * NS_PER_S };
        inet_pton(AF_INET, "127.0.0.1", &o->addr);
        snprintf(o->prefix, sizeof(o->prefix), "lg-%ld", (long)getpid());
        while ((ch = getopt_long(argc, argv, "c:r:d:n:o:h", longopts,
                                 NULL)) != -1) {
                switch (ch) {
                case 'H':
                        if (inet_pton(AF_INET, optarg, &o->addr) != 1)
                                goto bad;
                        break;
                case 'p':
                        if (parse_u64(optarg, 65535, &v) == -1 || v == 0)
                                goto bad;
                        o->port = (int)v;
                        break;
                case 'P':
                        if (optarg[0] != '/' || !is_plain(optarg, 200, false) ||
                            strchr(optarg, ' '))
                                goto bad;
                        o->path = optarg;
                        break;
                case 'c':
                        if (parse_u64(optarg, MAX_CONNECTIONS, &v) == -1 ||
                            v == 0)
                                goto bad;
                        o->connections = (int)v;
                        break;
                case 'r':
                        if (parse_u64(optarg, 10000000, &v) == -1)
                                goto bad;
                        o->rate = v;
                        break;
                case 'd':
                        if (parse_u64(optarg, 86400, &v) == -1 || v == 0)
                                goto bad;
                        o->duration_ns = v * NS_PER_S;
                        break;
                case 'n':
                        if (parse_u64(optarg, UINT64_MAX - 1, &v) == -1)
                                goto bad;
                        o->count = v;
                        break;
                case 'x':
                        if (!is_plain(optarg, 40, true))
                                goto bad;
                        snprintf(o->prefix, sizeof(o->prefix), "%s", optarg);
                        break;
                case 's':
                        if (parse_u64(optarg, UINT64_MAX / 2, &v) == -1)
                                goto bad;
                        o->start_seq = v;
                        break;
                case 'R':
                        if (parse_u64(optarg, 1000000, &v) == -1 || v == 1)
                                goto bad;
                        o->retry_every = v;
                        break;
                case 'u':
                        if (!is_plain(optarg, 64, false))
                                goto bad;
                        o->user = optarg;
                        break;
                case 'i':
                        if (!is_plain(optarg, 128, false))
                                goto bad;
                        o->item = optarg;
                        break;
                case 'q':
                        if (parse_u64(optarg, 1000000000, &v) == -1)
                                goto bad;
                        o->quantity = (long)v;
                        break;
                case 't':
                        if (parse_u64(optarg, 3600000, &v) == -1 || v == 0)
                                goto bad;
                        o->timeout_ns = v * NS_PER_MS;
                        break;
                case 'o':
                        o->out_path = optarg;
                        break;
                case 'j':
                        o->summary_path = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        exit(0);
                default:
                        usage(stderr);
                        return -1;
                }
        }
        if (optind != argc || o->port == 0) {
                usage(stderr);
                return -1;
        }
        return 0;
bad:
        fprintf(stderr, "loadgen: bad value '%s' for option -%c (see --help)\n",
                optarg, ch);
        return -1;
}

static double ms(uint64_t ns)
{
        return (double)ns / 1e6;
}

/* Print the summary (and write it as JSON when asked). */
static void summary_print(struct tally *t, const struct options *o,
                          uint64_t start)
{
        uint64_t end = t->last_ns > start ? t->last_ns : start + 1;
        double secs = (double)(end - start) / 1e9;
        uint64_t answered = t->n_all, n2 = t->n_2xx;
        const double ps[] = { 50, 90, 99, 99.9 };
        const char *pnames[] = { "p50", "p90", "p99", "p99_9" };
        FILE *j = NULL;
        bool first = true;
        int s;

        lg_sort(t->lat_2xx, t->n_2xx);
        lg_sort(t->lat_all, t->n_all);
        printf("loadgen: %s %" PRIu64 " requests over %.2f s (%.1f/s issued), "
               "%" PRIu64 " answered, %" PRIu64 " 2xx (%.1f/s)\n",
               o->rate ? "open loop" : "saturation", t->issued, secs,
               (double)t->issued / secs, answered, n2, (double)n2 / secs);
        if (o->rate)
                printf("loadgen: target %" PRIu64 "/s; %" PRIu64
                       " due requests never sent (too few connections)\n",
                       o->rate, t->unsent);
        for (s = 100; s < 600; s++)
                if (t->by_status[s])
                        printf("loadgen: status %d: %" PRIu64 "\n", s,
                               t->by_status[s]);
        printf("loadgen: no answer: connect %" PRIu64 ", reset %" PRIu64
               ", timeout %" PRIu64 ", protocol %" PRIu64 "\n",
               t->err_connect, t->err_reset, t->err_timeout, t->err_protocol);
        printf("loadgen: 2xx latency ms: p50 %.3f p90 %.3f p99 %.3f "
               "p99.9 %.3f max %.3f\n",
               ms(lg_percentile(t->lat_2xx, n2, 50)),
               ms(lg_percentile(t->lat_2xx, n2, 90)),
               ms(lg_percentile(t->lat_2xx, n2, 99)),
               ms(lg_percentile(t->lat_2xx, n2, 99.9)),
               ms(n2 ? t->lat_2xx[n2 - 1] : 0));

        if (!o->summary_path)
                return;
        j = fopen(o->summary_path, "w");
        if (!j) {
                fprintf(stderr, "loadgen: cannot write '%s': %s\n",
                        o->summary_path, strerror(errno));
                return;
        }
        fprintf(j, "{\"mode\":\"%s\",\"target_rate\":%" PRIu64
                ",\"connections\":%d,\"prefix\":\"%s\",\"issued\":%" PRIu64
                ",\"answered\":%" PRIu64 ",\"ok\":%" PRIu64
                ",\"unsent\":%" PRIu64 ",\"elapsed_s\":%.6f"
                ",\"issued_rate\":%.3f,\"ok_rate\":%.3f,\"status\":{",
                o->rate ? "open" : "saturation", o->rate, o->connections,
                o->prefix, t->issued, answered, n2, t->unsent, secs,
                (double)t->issued / secs, (double)n2 / secs);
        for (s = 100; s < 600; s++) {
                if (!t->by_status[s])
                        continue;
                fprintf(j, "%s\"%d\":%" PRIu64, first ? "" : ",", s,
                        t->by_status[s]);
                first = false;
        }
        fprintf(j, "},\"errors\":{\"connect\":%" PRIu64 ",\"reset\":%" PRIu64
                ",\"timeout\":%" PRIu64 ",\"protocol\":%" PRIu64 "}",
                t->err_connect, t->err_reset, t->err_timeout, t->err_protocol);
        for (int which = 0; which < 2; which++) {
                const uint64_t *v = which ? t->lat_all : t->lat_2xx;
                size_t n = which ? t->n_all : t->n_2xx;

                fprintf(j, ",\"%s\":{", which ? "latency_all_ms" : "latency_ms");
                for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
                        fprintf(j, "\"%s\":%.4f,", pnames[i],
                                ms(lg_percentile(v, n, ps[i])));
                fprintf(j, "\"max\":%.4f}", ms(n ? v[n - 1] : 0));
        }
        fprintf(j, "}\n");
        fclose(j);
}

int main(int argc, char **argv)
{
        struct options o;
        struct tally t = { 0 };
        struct conn *conns = NULL;
        struct epoll_event events[256];
        struct sigaction sa = { .sa_handler = on_signal };
        struct timespec rt;
        uint64_t start, sched_end, drain_end, due_total, issued_seq = 0;
        int ep = -1, r = 1;
        bool stopped = false;

        if (options_parse(argc, argv, &o) == -1)
                return 2;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        if (o.out_path) {
                t.out = fopen(o.out_path, "w");
                if (!t.out) {
                        fprintf(stderr, "loadgen: cannot open '%s': %s\n",
                                o.out_path, strerror(errno));
                        goto out;
                }
                fprintf(t.out, "order_id,intended_ns,status,latency_ns,error\n");
        }
        conns = calloc((size_t)o.connections, sizeof(*conns));
        ep = epoll_create1(EPOLL_CLOEXEC);
        if (!conns || ep < 0) {
                fprintf(stderr, "loadgen: cannot set up: %s\n", strerror(errno));
                goto out;
        }
        for (int i = 0; i < o.connections; i++) {
                conns[i].fd = -1;
                conns[i].state = CONN_CLOSED;
        }

        start = now_ns();
        clock_gettime(CLOCK_REALTIME, &rt);
        epoch_offset_ns = (int64_t)((uint64_t)rt.tv_sec * NS_PER_S +
                                    (uint64_t)rt.tv_nsec) - (int64_t)start;
        t.first_ns = start;
        sched_end = start + o.duration_ns;
        /* Requests due before the end of the schedule are all sent, late if
         * need be (their latency shows it), for at most one more timeout. */
        drain_end = sched_end + o.timeout_ns;
        due_total = o.rate ? lg_schedule_due(start, o.rate, sched_end - 1)
                           : UINT64_MAX;
        if (due_total > o.count)
                due_total = o.count;

        for (;;) {
                uint64_t now = now_ns(), due, wait_ns = 10 * NS_PER_MS;
                bool busy = false, open;
                struct timespec ts;
                int n;

                if (stop_requested && !stopped) {
                        /* Stopped early: what was due until now is the
                         * schedule; send no more. */
                        stopped = true;
                        drain_end = now < drain_end ? now : drain_end;
                        if (o.rate) {
                                uint64_t d = lg_schedule_due(start, o.rate, now);

                                if (d < due_total)
                                        due_total = d;
                        }
                }
                /* How many requests may have been issued by now. */
                if (o.rate) {
                        due = lg_schedule_due(start, o.rate, now);
                        if (due > due_total)
                                due = due_total;
                        open = issued_seq < due_total && now < drain_end;
                } else {
                        due = due_total; /* every free connection sends */
                        open = issued_seq < due_total && now < sched_end &&
                               !stop_requested;
                }

                for (int i = 0; i < o.connections; i++) {
                        struct conn *c = &conns[i];

                        if (c->has_request && now >= c->deadline_ns) {
                                /* A connect that never completed sent
                                 * nothing: refused, not unknown. */
                                conn_fail(c, &t, &o,
                                          c->state == CONN_CONNECTING ?
                                          "connect" : "timeout", now,
                                          now + RECONNECT_BACKOFF_NS);
                                continue;
                        }
                        if (c->state == CONN_IDLE &&
                            now - c->idle_since_ns > IDLE_RETIRE_NS)
                                conn_close(c, now);
                        if (open && issued_seq < due && !c->has_request &&
                            (c->state == CONN_IDLE ||
                             (c->state == CONN_CLOSED &&
                              now >= c->retry_at_ns))) {
                                uint64_t seq = issued_seq++;
                                uint64_t intended = o.rate ?
                                        lg_schedule_at(start, o.rate, seq) : now;

                                conn_assign(ep, c, i, &t, &o,
                                            o.start_seq + seq, intended, now);
                        }
                        if (c->has_request)
                                busy = true;
                }
                if (!busy && (!open || stop_requested))
                        break;
                if (o.rate && open && issued_seq < due_total) {
                        uint64_t next = lg_schedule_at(start, o.rate,
                                                       issued_seq);

                        if (issued_seq < due)
                                wait_ns = 1 * NS_PER_MS; /* backlog: poll */
                        else if (next > now && next - now < wait_ns)
                                wait_ns = next - now;
                        else if (next <= now)
                                wait_ns = 0;
                }
                ts.tv_sec = (time_t)(wait_ns / NS_PER_S);
                ts.tv_nsec = (long)(wait_ns % NS_PER_S);
                n = epoll_pwait2(ep, events, 256, &ts, NULL);
                if (n < 0 && errno != EINTR) {
                        fprintf(stderr, "loadgen: epoll: %s\n", strerror(errno));
                        goto out;
                }
                now = now_ns();
                for (int k = 0; k < n; k++) {
                        int i = (int)events[k].data.u32;
                        struct conn *c = &conns[i];

                        if (c->fd < 0)
                                continue;
                        if (events[k].events & (EPOLLOUT | EPOLLERR) &&
                            (c->state == CONN_CONNECTING ||
                             c->wants_out)) {
                                conn_writable(ep, c, i, &t, &o, now);
                                if (c->fd < 0)
                                        continue;
                        }
                        if (events[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR) &&
                            c->state != CONN_CONNECTING)
                                conn_read(c, &t, &o, now);
                }
        }
        if (o.rate)
                t.unsent = due_total - issued_seq;
        summary_print(&t, &o, start);
        r = 0;
out:
        if (conns)
                for (int i = 0; i < o.connections; i++)
                        if (conns[i].fd >= 0)
                                close(conns[i].fd);
        if (ep >= 0)
                close(ep);
        if (t.out && fclose(t.out) != 0) {
                fprintf(stderr, "loadgen: cannot write '%s'\n", o.out_path);
                r = 1;
        }
        free(conns);
        free(t.lat_2xx);
        free(t.lat_all);
        return r;
}
