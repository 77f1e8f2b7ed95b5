/* The live status stream over WebSocket at /ws: a client sends
 * {"subscribe":{"order_id":"…"}} or {"subscribe":{"user_id":"…"}} (and
 * optionally "since": an event id to resume after) and then gets each
 * event as {"id","event","data"}, the same events as the SSE stream.
 *
 * Civetweb runs each connection's handlers on its worker thread, which
 * stays in civetweb's read loop for as long as the socket is open (one of
 * the stream budget's slots, stream.h). Events are written by one pusher
 * thread of ours, which civetweb's per-connection lock in
 * mg_websocket_write() allows. */
#ifndef ORDER_SERVICE_WS_H
#define ORDER_SERVICE_WS_H

#include <stddef.h>

struct http_server;
struct stream;
struct view;

struct ws;

/* Start the pusher thread. Returns the WebSocket side, or NULL with
 * errstr. */
struct ws *ws_new(struct view *view, struct stream *stream, char *errstr,
                  size_t errstr_size);

/* Serve /ws on 'srv'. Returns 0, or -1 with errstr. */
int ws_route(struct ws *ws, struct http_server *srv, char *errstr,
             size_t errstr_size);

/* Stop the pusher (after the HTTP server, so no connection is left). No
 * operation if NULL. */
void ws_destroy(struct ws *ws);

/* Parse a client message: 0 with the filter (0: order, 1: user), the key
 * and the optional "since" copied out, or -1 with a short reason. Pure. */
int ws_subscribe_parse(const char *msg, size_t len, int *by_user, char *key,
                       size_t key_size, char *since, size_t since_size,
                       const char **reason);

#endif
