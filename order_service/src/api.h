/* The HTTP API of order_service on civetweb: POST /orders, GET
 * /openapi.json, and the request metrics of every route. Handlers run on
 * civetweb's worker threads; the logic they use lives in request.c
 * (framing, headers, replies), libshared's order.c (validation) and
 * publisher.c (Kafka). */
#ifndef ORDER_SERVICE_API_H
#define ORDER_SERVICE_API_H

#include <stdbool.h>
#include <stddef.h>

#include <civetweb.h>

struct metrics;
struct publisher;
struct kafka_watch;
struct view;
struct auth;

struct api_options {
        struct publisher *publisher; /* borrowed */
        struct kafka_watch *watch;         /* borrowed: readiness gates POSTs */
        struct metrics *metrics;     /* borrowed */
        struct view *view;           /* borrowed: a reused order_id */
        const struct auth *auth;     /* borrowed: API keys, may be off */
        const char *topic;
        size_t max_body_bytes;
};

struct api;

/* Returns the API, or NULL when out of memory. */
struct api *api_new(const struct api_options *opts);
void api_destroy(struct api *api);

/* POST /orders (behind auth_require()). A mg_request_handler; 'arg' is
 * the api. */
int api_orders_handler(struct mg_connection *conn, void *arg);

/* GET /openapi.json: the embedded document. 'arg' is the api. */
int api_openapi_handler(struct mg_connection *conn, void *arg);

/* An http_request_done_fn: counts http_requests_total{route,code}. */
void api_request_done(void *arg, const struct mg_connection *conn,
                      int status);

/* From now on POST /orders answers 503 (shutting down); requests already
 * publishing finish. Any thread. */
void api_stop_accepting(struct api *api);

#endif
