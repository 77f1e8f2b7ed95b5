/* Server-Sent Events of the order-status view, and the budget of held
 * connections (stream.h).
 *
 * Each event is "id: <topic-partition-offset>\nevent: <status>\ndata:
 * <status JSON>\n\n", written in one mg_write(). A stream starts with the
 * events the view holds for it after Last-Event-ID (or ?since=), so a
 * client that reconnects with the last id it got misses nothing and gets
 * nothing twice, within the view's retention. A client that is gone is
 * noticed at the next write: an event or the heartbeat comment. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "shared/deadline.h"
#include "shared/http.h"
#include "shared/metrics.h"
#include "shared/order.h"
#include "shared/strbuf.h"
#include "shared/util.h"
#include "stream.h"
#include "view.h"

#define STREAM_ID_MAX 299 /* a view_event id */

struct stream {
        struct view *view;
        atomic_int open;
        int max_streams;
        int heartbeat_ms;
        struct metric_gauge *open_gauge;
};

struct stream *stream_new(const struct stream_options *opts)
{
        struct stream *s = calloc(1, sizeof(*s));

        if (!s)
                return NULL;
        s->view = opts->view;
        s->max_streams = opts->max_streams;
        s->heartbeat_ms = opts->heartbeat_ms;
        s->open_gauge = metrics_gauge(opts->metrics, "order_streams_open",
                                      "Connections held open: SSE, WebSocket "
                                      "and long-polls",
                                      NULL);
        return s;
}

void stream_destroy(struct stream *s)
{
        free(s);
}

bool stream_slot_take(struct stream *s)
{
        int n = atomic_fetch_add(&s->open, 1);

        if (n >= s->max_streams) {
                atomic_fetch_sub(&s->open, 1);
                return false;
        }
        metric_gauge_add(s->open_gauge, 1);
        return true;
}

void stream_slot_put(struct stream *s)
{
        atomic_fetch_sub(&s->open, 1);
        metric_gauge_add(s->open_gauge, -1);
}

int stream_heartbeat_ms(const struct stream *s)
{
        return s->heartbeat_ms;
}

/* The id to resume after: Last-Event-ID, else ?since=; NULL for none. */
static const char *stream_since(struct mg_connection *conn, char *buf,
                                size_t size)
{
        const struct mg_request_info *ri = mg_get_request_info(conn);
        const char *h = mg_get_header(conn, "Last-Event-ID");

        if (h && *h && strlen(h) < size) {
                strcpy(buf, h);
                return buf;
        }
        if (ri->query_string &&
            mg_get_var(ri->query_string, strlen(ri->query_string), "since",
                       buf, size) > 0)
                return buf;
        return NULL;
}

/* Write one event; returns 0, or -1 when the client is gone. */
static int stream_write_event(struct mg_connection *conn,
                              const struct view_event *ev)
{
        struct strbuf sb = STRBUF_INIT;
        int ret;

        strbuf_addf(&sb, "id: %s\nevent: %s\ndata: ", ev->id, ev->status);
        strbuf_add(&sb, ev->data, ev->data_len);
        strbuf_add(&sb, "\n\n", 2);
        ret = sb.failed || mg_write(conn, sb.buf, sb.len) <= 0 ? -1 : 0;
        strbuf_release(&sb);
        return ret;
}

/* Events until the client goes or the subscription ends. */
static void stream_pump(struct stream *s, struct mg_connection *conn,
                        struct view_sub *sub)
{
        static const char heartbeat[] = ":\n\n";
        struct view_event ev;
        int r;

        while ((r = view_sub_next(s->view, sub, deadline_in(s->heartbeat_ms),
                                  &ev)) != -1) {
                int w = r == 1 ? stream_write_event(conn, &ev)
                               : mg_write(conn, heartbeat,
                                          sizeof(heartbeat) - 1) > 0
                                         ? 0
                                         : -1;

                if (r == 1)
                        view_event_release(&ev);
                if (w == -1)
                        break;
        }
}

static int stream_serve(struct stream *s, struct mg_connection *conn,
                        enum view_filter filter, const char *key)
{
        static const char head[] = "HTTP/1.1 200 OK\r\n"
                                   "Content-Type: text/event-stream\r\n"
                                   "Cache-Control: no-store\r\n"
                                   "Connection: close\r\n"
                                   "X-Accel-Buffering: no\r\n\r\n"
                                   ": open\n\n";
        char since_buf[STREAM_ID_MAX + 1];
        const char *since = stream_since(conn, since_buf, sizeof(since_buf));
        struct view_sub *sub;

        if (!stream_slot_take(s))
                return http_reply_error(conn, 503, "too_many_streams",
                                        "the stream budget is spent; retry",
                                        NULL, "Retry-After: 1\r\n");
        sub = view_subscribe(s->view, filter, key, since, NULL, NULL);
        if (!sub) {
                stream_slot_put(s);
                return http_reply_error(conn, 503, "unavailable",
                                        "shutting down or out of memory",
                                        NULL, "Retry-After: 1\r\n");
        }
        mg_disable_connection_keep_alive(conn);
        if (mg_write(conn, head, sizeof(head) - 1) > 0)
                stream_pump(s, conn, sub);
        view_unsubscribe(s->view, sub);
        stream_slot_put(s);
        return 200;
}

int stream_order_events(struct stream *s, struct mg_connection *conn,
                        const char *order_id)
{
        return stream_serve(s, conn, VIEW_BY_ORDER, order_id);
}

/* True when 's' is a user_id the contract allows (order.c's rules). */
static bool user_id_is_valid(const char *s, size_t len)
{
        size_t chars;

        return len > 0 && utf8_is_valid(s, len, &chars) &&
               chars <= ORDER_USER_MAX_CHARS && !utf8_has_control(s, len);
}

int stream_events_handler(struct mg_connection *conn, void *arg)
{
        const struct mg_request_info *ri = mg_get_request_info(conn);
        char user[ORDER_USER_MAX_CHARS * 4 + 1];
        int n = -1;

        if (strcmp(ri->request_method, "GET") != 0)
                return http_reply_error(conn, 405, "method_not_allowed",
                                        "use GET", NULL, "Allow: GET\r\n");
        if (ri->query_string)
                n = mg_get_var(ri->query_string, strlen(ri->query_string),
                               "user_id", user, sizeof(user));
        if (n < 0 || !user_id_is_valid(user, (size_t)n))
                return http_reply_error(conn, 400, "invalid_value",
                                        "user_id must be 1-64 characters, "
                                        "no control characters",
                                        "user_id", NULL);
        return stream_serve(arg, conn, VIEW_BY_USER, user);
}
