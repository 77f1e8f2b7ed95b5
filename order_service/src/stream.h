/* The live status stream over Server-Sent Events (GET /orders/{id}/events,
 * GET /events?user_id=U), and the budget of connections held open.
 *
 * Civetweb gives each connection a worker thread for as long as it is
 * open, so a stream, a WebSocket or a long-poll holds one. The server has
 * HTTP_THREADS + ORDER_STREAM_MAX workers (small stacks: settings.c), and
 * at most ORDER_STREAM_MAX of them are ever held by these: past that a new
 * stream gets 503 and a long-poll answers at once, so HTTP_THREADS
 * workers are always left for POST /orders. Handlers run on civetweb's
 * worker threads. */
#ifndef ORDER_SERVICE_STREAM_H
#define ORDER_SERVICE_STREAM_H

#include <stdbool.h>

#include <civetweb.h>

struct metrics;
struct view;

struct stream_options {
        struct view *view;       /* borrowed */
        struct metrics *metrics; /* borrowed */
        int max_streams;         /* ORDER_STREAM_MAX */
        int heartbeat_ms;        /* a comment line when idle this long */
};

struct stream;

/* Returns the stream budget, or NULL when out of memory. */
struct stream *stream_new(const struct stream_options *opts);
void stream_destroy(struct stream *s);

/* Take one of the budget's slots (false: none left) and give it back.
 * Any thread. */
bool stream_slot_take(struct stream *s);
void stream_slot_put(struct stream *s);

/* GET /orders/{id}/events for the valid 'order_id'. Returns the status. */
int stream_order_events(struct stream *s, struct mg_connection *conn,
                        const char *order_id);

/* GET /events?user_id=U. A mg_request_handler; 'arg' is the stream. */
int stream_events_handler(struct mg_connection *conn, void *arg);

/* The heartbeat interval, for the WebSocket side. */
int stream_heartbeat_ms(const struct stream *s);

#endif
