/* GET /orders/{id} and the paths under /orders (orders_get.h).
 *
 * A long-poll holds its worker thread while it waits, so it takes one of
 * the slots of the stream budget (stream.h) first: past the budget it
 * answers at once with the state it has, never making POST /orders wait
 * for a thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "orders_get.h"
#include "shared/deadline.h"
#include "shared/http.h"
#include "shared/order.h"
#include "shared/strbuf.h"
#include "stream.h"
#include "view.h"

#define ORDERS_PREFIX "/orders/"
#define EVENTS_SUFFIX "/events"

int orders_path_parse(const char *path, char *id, size_t id_size,
                      int *is_events)
{
        size_t prefix = sizeof(ORDERS_PREFIX) - 1, len;
        const char *slash;

        *is_events = 0;
        if (!path || strncmp(path, ORDERS_PREFIX, prefix) != 0)
                return -2;
        path += prefix;
        slash = strchr(path, '/');
        len = slash ? (size_t)(slash - path) : strlen(path);
        if (slash) {
                if (strcmp(slash, EVENTS_SUFFIX) != 0)
                        return -2;
                *is_events = 1;
        }
        if (len >= id_size || !order_id_is_valid(path, len))
                return -1;
        memcpy(id, path, len);
        id[len] = '\0';
        return 0;
}

int orders_wait_parse(const char *value, long *wait_ms)
{
        char *end;
        double s;

        if (!value || !*value || strspn(value, "0123456789.") != strlen(value))
                return -1;
        errno = 0;
        s = strtod(value, &end);
        if (errno || *end || !(s > 0) || s > ORDERS_WAIT_MAX_S)
                return -1;
        *wait_ms = (long)(s * 1000 + 0.5);
        if (*wait_ms < 1)
                *wait_ms = 1;
        return 0;
}

/* The ?wait= of the request: 0 without one, -1 for a bad one. */
static long request_wait_ms(const struct mg_request_info *ri)
{
        const char *q = ri->query_string;
        char value[32];
        long ms;
        int n;

        if (!q)
                return 0;
        n = mg_get_var(q, strlen(q), "wait", value, sizeof(value));
        if (n == -1)
                return 0;
        if (n < 0 || orders_wait_parse(value, &ms) == -1)
                return -1;
        return ms;
}

static int orders_get(struct orders_routes *r, struct mg_connection *conn,
                      const char *id)
{
        long wait_ms = request_wait_ms(mg_get_request_info(conn));
        struct strbuf json = STRBUF_INIT;
        int64_t deadline = 0;
        bool slot = false;
        char reason[64];
        int ret;

        if (wait_ms < 0)
                return http_reply_error(conn, 400, "invalid_value",
                                        "wait must be seconds, 0 < wait <= 30",
                                        "wait", NULL);
        if (wait_ms > 0 && (slot = stream_slot_take(r->stream)))
                deadline = deadline_in(wait_ms);
        switch (view_get(r->view, id, deadline, &json)) {
        case VIEW_GET_FOUND:
                ret = http_reply_json(conn, 200, json.buf, json.len, NULL);
                break;
        case VIEW_GET_NOT_FOUND:
                if (!view_is_ready(r->view, reason, sizeof(reason)))
                        ret = http_reply_error(conn, 503, reason,
                                               "the order view is still "
                                               "reading the topics; retry",
                                               NULL, "Retry-After: 1\r\n");
                else
                        ret = http_reply_error(conn, 404, "not_found",
                                               "no such order (or evicted "
                                               "from the view)",
                                               NULL, NULL);
                break;
        default:
                ret = http_reply_error(conn, 503, "out_of_memory",
                                       "out of memory", NULL,
                                       "Retry-After: 1\r\n");
                break;
        }
        if (slot)
                stream_slot_put(r->stream);
        strbuf_release(&json);
        return ret;
}

int orders_reply_known(struct view *view, struct mg_connection *conn,
                       const struct order *o)
{
        char body[128 + ORDER_ID_MAX_CHARS], location[32 + ORDER_ID_MAX_CHARS];

        switch (view ? view_match(view, o) : VIEW_MATCH_NONE) {
        case VIEW_MATCH_NONE:
                return 0;
        case VIEW_MATCH_CONFLICT:
                return http_reply_error(conn, 409, "order_id_conflict",
                                        "this order_id was used for another "
                                        "order",
                                        "order_id", NULL);
        case VIEW_MATCH_SAME:
                break;
        }
        /* order_id is [A-Za-z0-9._:-]: safe in JSON and in a header. */
        snprintf(body, sizeof(body),
                 "{\"order_id\":\"%s\",\"status\":\"accepted\","
                 "\"duplicate\":true}",
                 o->order_id);
        snprintf(location, sizeof(location), "Location: /orders/%s\r\n",
                 o->order_id);
        return http_reply_json(conn, 202, body, strlen(body), location);
}

int orders_route_handler(struct mg_connection *conn, void *arg)
{
        struct orders_routes *r = arg;
        const struct mg_request_info *ri = mg_get_request_info(conn);
        char id[ORDER_ID_MAX_CHARS + 1];
        int is_events = 0;

        if (strcmp(ri->local_uri, "/orders") == 0)
                return api_orders_handler(conn, r->api);
        switch (orders_path_parse(ri->local_uri, id, sizeof(id), &is_events)) {
        case -1:
                return http_reply_error(conn, 400, "invalid_value",
                                        "order_id must be 1-64 characters of "
                                        "[A-Za-z0-9._:-]",
                                        "order_id", NULL);
        case -2:
                return http_reply_error(conn, 404, "not_found",
                                        "no such resource", NULL, NULL);
        }
        if (strcmp(ri->request_method, "GET") != 0)
                return http_reply_error(conn, 405, "method_not_allowed",
                                        "use GET", NULL, "Allow: GET\r\n");
        if (is_events)
                return stream_order_events(r->stream, conn, id);
        return orders_get(r, conn, id);
}
