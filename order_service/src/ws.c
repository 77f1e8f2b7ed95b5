/* The WebSocket side of the live status stream (ws.h).
 *
 * A connection's life: connect (a slot of the stream budget, or refused)
 * → ready (its state) → data (one subscription) → close. The view wakes
 * the pusher through ws_notify(), under the view's lock; the pusher takes
 * the connections that have something, drains their events and writes
 * them. Locks: the view's, then 'lock' below, never the other way.
 *
 * A stalled client holds the pusher for as long as civetweb's write
 * waits (request_timeout_ms); the others' events wait meanwhile. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>
#include <jansson.h>

#include "shared/deadline.h"
#include "shared/http.h"
#include "shared/jsonw.h"
#include "shared/order.h"
#include "shared/strbuf.h"
#include "stream.h"
#include "view.h"
#include "ws.h"

#define WS_ID_MAX 299 /* a view_event id */

struct ws_conn {
        struct ws *ws;
        struct mg_connection *conn;
        struct view_sub *sub;   /* set once, under 'lock' */
        struct ws_conn *next;   /* in 'ready' */
        bool queued;            /* in 'ready' */
        bool busy;              /* the pusher is writing to it */
        bool closing;           /* never queued again */
};

struct ws {
        struct view *view;
        struct stream *stream;
        pthread_mutex_t lock;   /* guards 'ready', each queued/busy/sub */
        pthread_cond_t cond;    /* 'ready' has one, a 'busy' ended, stop */
        struct ws_conn *ready;
        bool stopping;
        pthread_t thread;
        bool started;
};

int ws_subscribe_parse(const char *msg, size_t len, int *by_user, char *key,
                       size_t key_size, char *since, size_t since_size,
                       const char **reason)
{
        json_t *root = json_loadb(msg, len, JSON_REJECT_DUPLICATES, NULL);
        json_t *sub = json_object_get(root, "subscribe");
        json_t *order = json_object_get(sub, "order_id");
        json_t *user = json_object_get(sub, "user_id");
        json_t *from = json_object_get(sub, "since");
        const char *k;
        int ret = -1;

        *reason = "expected {\"subscribe\":{\"order_id\" or \"user_id\"}}";
        if (!json_is_object(sub) || !order == !user ||
            (from && (!json_is_string(from) ||
                      json_string_length(from) >= since_size)))
                goto out;
        k = json_string_value(order ? order : user);
        *by_user = user != NULL;
        if (!k || !*k || strlen(k) >= key_size ||
            (order && !order_id_is_valid(k, strlen(k))) ||
            (user && strlen(k) > ORDER_USER_MAX_CHARS * 4)) {
                *reason = "invalid order_id or user_id";
                goto out;
        }
        strcpy(key, k);
        snprintf(since, since_size, "%s", from ? json_string_value(from) : "");
        ret = 0;
out:
        json_decref(root);
        return ret;
}

/* view_notify_fn: the connection has events (called under the view's
 * lock). */
static void ws_notify(void *arg)
{
        struct ws_conn *c = arg;
        struct ws *ws = c->ws;

        pthread_mutex_lock(&ws->lock);
        if (!c->queued && !c->closing) {
                c->queued = true;
                c->next = ws->ready;
                ws->ready = c;
                pthread_cond_broadcast(&ws->cond);
        }
        pthread_mutex_unlock(&ws->lock);
}

static int ws_send_text(struct mg_connection *conn, const char *s, size_t len)
{
        return mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_TEXT, s, len) > 0
                       ? 0
                       : -1;
}

/* Write every queued event of 'c'. The pusher thread, 'c' busy. */
static void ws_push(struct ws *ws, struct ws_conn *c)
{
        struct view_event ev;
        int r;

        while ((r = view_sub_next(ws->view, c->sub, 0, &ev)) == 1) {
                struct strbuf sb = STRBUF_INIT;

                strbuf_addf(&sb, "{\"id\":\"%s\",\"event\":\"%s\",\"data\":",
                            ev.id, ev.status);
                strbuf_add(&sb, ev.data, ev.data_len);
                strbuf_addch(&sb, '}');
                r = sb.failed ? -1 : ws_send_text(c->conn, sb.buf, sb.len);
                strbuf_release(&sb);
                view_event_release(&ev);
                if (r == -1)
                        break;
        }
        if (r == -1)
                /* Ended (too far behind, shutdown) or gone: close; the
                 * client resumes with "since". */
                mg_websocket_write(c->conn,
                                   MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, "",
                                   0);
}

static void *ws_run(void *arg)
{
        struct ws *ws = arg;
        struct ws_conn *c;

        pthread_mutex_lock(&ws->lock);
        while (!ws->stopping) {
                if (!(c = ws->ready)) {
                        pthread_cond_wait(&ws->cond, &ws->lock);
                        continue;
                }
                ws->ready = c->next;
                c->queued = false;
                if (!c->sub)
                        continue;
                c->busy = true;
                pthread_mutex_unlock(&ws->lock);
                ws_push(ws, c);
                pthread_mutex_lock(&ws->lock);
                c->busy = false;
                pthread_cond_broadcast(&ws->cond);
        }
        pthread_mutex_unlock(&ws->lock);
        return NULL;
}

/* mg_websocket_connect_handler: a slot of the budget, or refused. */
static int ws_on_connect(const struct mg_connection *conn, void *arg)
{
        struct ws *ws = arg;

        if (stream_slot_take(ws->stream))
                return 0;
        /* Still plain HTTP here: the same 503 as a stream's. */
        http_reply_error((struct mg_connection *)conn, 503, "too_many_streams",
                         "the stream budget is spent; retry", NULL,
                         "Retry-After: 1\r\n");
        return 1;
}

static void ws_on_ready(struct mg_connection *conn, void *arg)
{
        struct ws_conn *c = calloc(1, sizeof(*c));

        if (c) {
                c->ws = arg;
                c->conn = conn;
        }
        mg_set_user_connection_data(conn, c);
}

static void ws_reply_error(struct mg_connection *conn, const char *code,
                           const char *message)
{
        struct jsonw inner, outer;

        jsonw_init(&inner);
        jsonw_object_begin(&inner);
        jsonw_key_str(&inner, "code", code);
        jsonw_key_str(&inner, "message", message);
        jsonw_object_end(&inner);
        jsonw_init(&outer);
        jsonw_object_begin(&outer);
        jsonw_key_raw(&outer, "error", inner.sb.buf, inner.sb.len);
        jsonw_object_end(&outer);
        if (!inner.sb.failed && !outer.sb.failed)
                ws_send_text(conn, outer.sb.buf, outer.sb.len);
        jsonw_release(&outer);
        jsonw_release(&inner);
}

/* Subscribe 'c' as the message says, and wake the pusher for the
 * history. Returns 1 to keep the connection, 0 to close it. */
static int ws_subscribe(struct ws_conn *c, const char *msg, size_t len)
{
        char key[ORDER_USER_MAX_CHARS * 4 + 1], since[WS_ID_MAX + 1];
        const char *reason;
        struct view_sub *sub;
        int by_user;

        if (c->sub) {
                ws_reply_error(c->conn, "already_subscribed",
                               "one subscription per connection");
                return 1;
        }
        if (ws_subscribe_parse(msg, len, &by_user, key, sizeof(key), since,
                               sizeof(since), &reason) == -1) {
                ws_reply_error(c->conn, "invalid_value", reason);
                return 1;
        }
        sub = view_subscribe(c->ws->view, by_user ? VIEW_BY_USER : VIEW_BY_ORDER,
                             key, *since ? since : NULL, ws_notify, c);
        if (!sub) {
                ws_reply_error(c->conn, "unavailable",
                               "shutting down or out of memory");
                return 0;
        }
        pthread_mutex_lock(&c->ws->lock);
        c->sub = sub;
        pthread_mutex_unlock(&c->ws->lock);
        ws_notify(c);
        return 1;
}

/* mg_websocket_data_handler: text frames are subscriptions. */
static int ws_on_data(struct mg_connection *conn, int bits, char *data,
                      size_t len, void *arg)
{
        struct ws_conn *c = mg_get_user_connection_data(conn);
        int opcode = bits & 0xf;

        (void)arg;
        if (!c)
                return 0;
        if (opcode == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE)
                return 0;
        if (opcode != MG_WEBSOCKET_OPCODE_TEXT)
                return 1;
        if (len > 1024) {
                ws_reply_error(conn, "payload_too_large", "over 1024 bytes");
                return 0;
        }
        return ws_subscribe(c, data, len);
}

static void ws_on_close(const struct mg_connection *conn, void *arg)
{
        struct ws_conn *c = mg_get_user_connection_data(conn), **pp;
        struct ws *ws = arg;

        stream_slot_put(ws->stream);
        if (!c)
                return;
        /* Out of the pusher's hands first (it may be using the
         * subscription), then no notify can queue it again... */
        pthread_mutex_lock(&ws->lock);
        c->closing = true;
        for (pp = &ws->ready; *pp; pp = &(*pp)->next)
                if (*pp == c) {
                        *pp = c->next;
                        break;
                }
        while (c->busy)
                pthread_cond_wait(&ws->cond, &ws->lock);
        pthread_mutex_unlock(&ws->lock);
        /* ...and after this none runs at all (under the view's lock). */
        view_unsubscribe(ws->view, c->sub);
        mg_set_user_connection_data(conn, NULL);
        free(c);
}

struct ws *ws_new(struct view *view, struct stream *stream, char *errstr,
                  size_t errstr_size)
{
        struct ws *ws = calloc(1, sizeof(*ws));

        if (!ws) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        ws->view = view;
        ws->stream = stream;
        pthread_mutex_init(&ws->lock, NULL);
        pthread_cond_init(&ws->cond, NULL);
        if (pthread_create(&ws->thread, NULL, ws_run, ws) != 0) {
                snprintf(errstr, errstr_size, "cannot start the ws thread");
                ws_destroy(ws);
                return NULL;
        }
        ws->started = true;
        return ws;
}

int ws_route(struct ws *ws, struct http_server *srv, char *errstr,
             size_t errstr_size)
{
        return http_server_websocket(srv, "/ws", ws_on_connect, ws_on_ready,
                                     ws_on_data, ws_on_close, ws, errstr,
                                     errstr_size);
}

void ws_destroy(struct ws *ws)
{
        if (!ws)
                return;
        pthread_mutex_lock(&ws->lock);
        ws->stopping = true;
        pthread_cond_broadcast(&ws->cond);
        pthread_mutex_unlock(&ws->lock);
        if (ws->started)
                pthread_join(ws->thread, NULL);
        pthread_cond_destroy(&ws->cond);
        pthread_mutex_destroy(&ws->lock);
        free(ws);
}
