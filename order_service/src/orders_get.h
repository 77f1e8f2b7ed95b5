/* GET /orders/{id} (with ?wait= for a long-poll) and the dispatch of the
 * paths under /orders: POST /orders goes to api.c, GET
 * /orders/{id}/events to stream.c. Handlers run on civetweb's worker
 * threads. */
#ifndef ORDER_SERVICE_ORDERS_GET_H
#define ORDER_SERVICE_ORDERS_GET_H

#include <stddef.h>

#include <civetweb.h>

#define ORDERS_WAIT_MAX_S 30

struct api;
struct stream;
struct view;

/* What the /orders route needs; all borrowed. */
struct orders_routes {
        struct api *api;
        struct view *view;
        struct stream *stream; /* the budget of connections held open */
};

/* The handler of "/orders" and everything under it; 'arg' is a struct
 * orders_routes. */
int orders_route_handler(struct mg_connection *conn, void *arg);

struct order;

/* POST /orders of an order whose order_id the view holds: the same
 * content gets 202 again with "duplicate":true (no new record), other
 * content 409. Returns the status sent, or 0 when the view does not hold
 * it (then nothing was sent). Worker thread. */
int orders_reply_known(struct view *view, struct mg_connection *conn,
                       const struct order *o);

/* Split a decoded path "/orders/<id>[/events]" into the id (copied into
 * 'id', ORDER_ID_MAX_CHARS + 1 bytes) and whether it names the events.
 * Returns 0, -1 for an id the contract does not allow (400), or -2 for a
 * path that is no resource (404). Pure. */
int orders_path_parse(const char *path, char *id, size_t id_size,
                      int *is_events);

/* Parse the value of ?wait= (seconds, 0 < S <= 30, decimals allowed) into
 * milliseconds. Returns 0, or -1 when it is no such number. Pure. */
int orders_wait_parse(const char *value, long *wait_ms);

#endif
