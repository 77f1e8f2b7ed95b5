/* The HTTP API of order_service: thin handlers on mg_connection that read,
 * check, publish and answer. See api.h. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "publisher.h"
#include "request.h"
#include "shared/http.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/trace.h"
#include "shared/order.h"
#include "shared/util.h"
#include "shared/kafka_watch.h"
#include "orders_get.h"

/* The document of order_service/openapi.json, embedded at build time. */
extern const char openapi_json[];
extern const size_t openapi_json_len;

/* Seconds a client should wait before trying again. */
#define RETRY_AFTER_UNREACHABLE "Retry-After: 5\r\n"
#define RETRY_AFTER_BUSY "Retry-After: 1\r\n"
/* After an error that leaves unread body bytes, or a framing we do not
 * trust, the connection is not reused. */
#define CONNECTION_CLOSE "Connection: close\r\n"

static const char *const routes[] = {
        "/orders", "/healthz", "/readyz", "/metrics", "/openapi.json",
        "/events", "/ws", "/", "/orders/{id}", "/orders/{id}/events", "other",
};
#define ROUTE_COUNT (sizeof(routes) / sizeof(routes[0]))
/* The statuses whose counters are looked up without the registry lock. */
static const int codes[] = {200, 202, 400, 401, 404, 405, 409, 411,
                            413, 415, 500, 503, 504};
#define CODE_COUNT (sizeof(codes) / sizeof(codes[0]))

struct api {
        struct publisher *publisher;
        struct kafka_watch *watch;
        struct metrics *metrics;
        struct view *view;
        const struct auth *auth;
        char *topic;
        size_t max_body_bytes;
        atomic_bool stopping;
        struct metric_gauge *in_flight;
        struct metric_histogram *publish_seconds;
        /* http_requests_total{route,code}, created when first seen. The
         * registry hands back the same series to racing creators. */
        _Atomic(struct metric_counter *) requests[ROUTE_COUNT][CODE_COUNT];
};

struct api *api_new(const struct api_options *opts)
{
        struct api *api = calloc(1, sizeof(*api));

        if (!api || !(api->topic = strdup(opts->topic))) {
                free(api);
                return NULL;
        }
        api->publisher = opts->publisher;
        api->watch = opts->watch;
        api->metrics = opts->metrics;
        api->view = opts->view;
        api->auth = opts->auth;
        api->max_body_bytes = opts->max_body_bytes;
        api->in_flight = metrics_gauge(
                api->metrics, "http_requests_in_flight",
                "POST /orders requests being handled", "route=\"/orders\"");
        api->publish_seconds = metrics_histogram(
                api->metrics, "order_publish_duration_seconds",
                "Time from produce to the broker's acknowledgement", NULL,
                metrics_stage_buckets, metrics_stage_buckets_count);
        return api;
}

void api_destroy(struct api *api)
{
        if (!api)
                return;
        free(api->topic);
        free(api);
}

void api_stop_accepting(struct api *api)
{
        atomic_store(&api->stopping, true);
}

void api_request_done(void *arg, const struct mg_connection *conn,
                      int status)
{
        struct api *api = arg;
        const struct mg_request_info *ri = mg_get_request_info(conn);
        const char *route = route_label(ri ? ri->local_uri : NULL);
        struct metric_counter *c = NULL;
        size_t r, k;
        char labels[64];

        for (r = 0; r < ROUTE_COUNT - 1; r++)
                if (strcmp(routes[r], route) == 0)
                        break;
        for (k = 0; k < CODE_COUNT; k++)
                if (codes[k] == status)
                        break;
        if (k < CODE_COUNT)
                c = atomic_load(&api->requests[r][k]);
        if (!c) {
                snprintf(labels, sizeof(labels), "route=\"%s\",code=\"%d\"",
                         routes[r], status);
                c = metrics_counter(api->metrics, "http_requests_total",
                                    "HTTP requests answered, by route and "
                                    "status", labels);
                if (k < CODE_COUNT)
                        atomic_store(&api->requests[r][k], c);
        }
        metric_counter_inc(c);
}

/* A body_read_fn over civetweb, which decodes chunked bodies itself. */
static int conn_read(void *arg, char *buf, size_t len)
{
        return mg_read(arg, buf, len);
}

/* What a 413 still reads of the body it refuses before closing. */
#define DISCARD_MAX_BYTES (8u << 20)
#define DISCARD_MAX_MS 5000

/* 413 for a body over 'max_body_bytes'. The reply goes first, then what
 * the client still sends is read and dropped (up to a bound) before the
 * connection closes: a close with unread data would reset the connection,
 * and a client still writing its body would never read the 413. */
static int reply_too_large(struct mg_connection *conn, size_t max_body_bytes)
{
        char message[64];

        snprintf(message, sizeof(message), "the body is over %zu bytes",
                 max_body_bytes);
        http_reply_error(conn, 413, "payload_too_large", message, NULL,
                         CONNECTION_CLOSE);
        http_discard_body(conn, DISCARD_MAX_BYTES, DISCARD_MAX_MS);
        return 413;
}

static int reply_model_error(struct mg_connection *conn,
                             const struct model_error *err)
{
        struct log_field f[2] = {
                LOG_STR("error.code", err->code),
                LOG_STR("error.field", err->field),
        };

        if (log_enabled(LOG_LEVEL_DEBUG))
                log_write(LOG_LEVEL_DEBUG, "order refused", f, 2);
        return http_reply_error(conn, 400, err->code, err->message,
                                err->field, NULL);
}

/* Publish 'order' and answer. Worker thread. */
static int orders_publish(struct api *api, struct mg_connection *conn,
                          struct order *order, const char *traceparent)
{
        struct publish_result res;
        char *value = NULL, *body = NULL;
        char location[32 + ORDER_ID_MAX_CHARS];
        size_t value_len = 0, body_len = 0;
        int64_t start_us;
        int ret;

        time_now_rfc3339(order->created_at, sizeof(order->created_at));
        value = order_encode(order, &value_len);
        if (!value)
                return http_reply_error(conn, 503, "out_of_memory",
                                        "out of memory", NULL,
                                        RETRY_AFTER_BUSY);
        start_us = time_monotonic_us();
        publisher_publish(api->publisher, order->order_id,
                          strlen(order->order_id), value, value_len,
                          traceparent, &res);
        free(value);

        switch (res.status) {
        case PUBLISH_OK:
                metric_histogram_observe(api->publish_seconds,
                                         (double)(time_monotonic_us() -
                                                  start_us) / 1e6);
                body = accepted_json(order->order_id, api->topic,
                                     res.partition, res.offset, &body_len);
                if (!body)
                        /* The order is on the topic: say so even so. */
                        return http_reply_json(conn, 202, NULL, 0, NULL);
                /* order_id is [A-Za-z0-9._:-]: safe in a header line. */
                snprintf(location, sizeof(location), "Location: /orders/%s\r\n",
                         order->order_id);
                ret = http_reply_json(conn, 202, body, body_len, location);
                free(body);
                return ret;
        case PUBLISH_QUEUE_FULL:
                return http_reply_error(conn, 503, "queue_full",
                                        "the local queue is full", NULL,
                                        RETRY_AFTER_BUSY);
        case PUBLISH_UNAVAILABLE: {
                struct log_field f[2] = {
                        LOG_STR("order.id", order->order_id),
                        LOG_STR("error.message", res.error),
                };

                log_write(LOG_LEVEL_WARN, "order not published", f, 2);
                return http_reply_error(conn, 503, "unavailable",
                                        "the order was not published; retry",
                                        NULL, RETRY_AFTER_UNREACHABLE);
        }
        case PUBLISH_TIMED_OUT: {
                struct log_field f[2] = {
                        LOG_STR("order.id", order->order_id),
                        LOG_STR("error.message", res.error),
                };

                log_write(LOG_LEVEL_WARN, "order delivery outcome unknown", f,
                          2);
                return http_reply_error(
                        conn, 504, "delivery_timeout",
                        "delivery not confirmed in time: outcome unknown, "
                        "safe to retry with the same order_id",
                        NULL, NULL);
        }
        }
        return http_reply_error(conn, 500, "internal", "unexpected outcome",
                                NULL, NULL);
}

/* POST /orders, after the in-flight accounting. Worker thread. */
/* Read the body of a POST /orders, framed as its headers say. Returns 0
 * with *body (free(3) it) and *len, or the status of the error reply it
 * sent. */
static int orders_read_body(struct api *api, struct mg_connection *conn,
                            char **body, size_t *len)
{
        enum body_framing framing;
        long long length;

        /* From the headers themselves: civetweb quietly prefers one of
         * Content-Length and chunked when a request has both. */
        framing = body_framing_get(mg_get_header(conn, "Content-Length"),
                                   mg_get_header(conn, "Transfer-Encoding"),
                                   api->max_body_bytes, &length);
        switch (framing) {
        case BODY_FRAMING_NO_LENGTH:
                return http_reply_error(conn, 411, "length_required",
                                        "Content-Length or chunked "
                                        "Transfer-Encoding required",
                                        NULL, CONNECTION_CLOSE);
        case BODY_FRAMING_TOO_LARGE:
                return reply_too_large(conn, api->max_body_bytes);
        case BODY_FRAMING_BAD:
                return http_reply_error(conn, 400, "invalid_framing",
                                        "use one valid Content-Length or "
                                        "Transfer-Encoding: chunked",
                                        NULL, CONNECTION_CLOSE);
        case BODY_FRAMING_LENGTH:
        case BODY_FRAMING_CHUNKED:
                break;
        }
        switch (body_read(conn_read, conn,
                          framing == BODY_FRAMING_LENGTH ? length : -1,
                          api->max_body_bytes, body, len)) {
        case BODY_READ_OK:
                break;
        case BODY_READ_TOO_LARGE:
                return reply_too_large(conn, api->max_body_bytes);
        case BODY_READ_SHORT:
                return http_reply_error(conn, 400, "incomplete_body",
                                        "the body ended early", NULL,
                                        CONNECTION_CLOSE);
        case BODY_READ_NO_MEMORY:
                return http_reply_error(conn, 503, "out_of_memory",
                                        "out of memory", NULL,
                                        RETRY_AFTER_BUSY);
        }
        return 0;
}

static int orders_handle(struct api *api, struct mg_connection *conn)
{
        const struct mg_request_info *ri = mg_get_request_info(conn);
        const char *traceparent;
        struct model_error err;
        struct order order;
        char *body = NULL;
        size_t len = 0;
        char reason[64];
        int status;

        if (strcmp(ri->request_method, "POST") != 0)
                return http_reply_error(conn, 405, "method_not_allowed",
                                        "use POST", NULL, "Allow: POST\r\n");
        if (atomic_load(&api->stopping))
                return http_reply_error(conn, 503, "shutting_down",
                                        "the service is shutting down", NULL,
                                        RETRY_AFTER_BUSY CONNECTION_CLOSE);
        if (!content_type_is_json(mg_get_header(conn, "Content-Type")))
                return http_reply_error(conn, 415, "unsupported_media_type",
                                        "Content-Type must be "
                                        "application/json",
                                        NULL, NULL);
        if ((status = orders_read_body(api, conn, &body, &len)) != 0)
                return status;

        if (order_decode(body, len, ORDER_FROM_REQUEST, &order, &err) == -1) {
                free(body);
                return reply_model_error(conn, &err);
        }
        free(body);
        /* An order_id the view holds: 202 again, or 409 (orders_get.c). */
        if (*order.order_id &&
            (status = orders_reply_known(api->view, conn, &order)) != 0)
                return status;
        if (!*order.order_id &&
            uuid_v4(order.order_id, sizeof(order.order_id)) == -1)
                return http_reply_error(conn, 503, "no_randomness",
                                        "cannot generate an order_id", NULL,
                                        RETRY_AFTER_BUSY);

        /* Refuse fast, without enqueueing, while the broker is away. */
        if (!kafka_watch_is_ready(api->watch, reason, sizeof(reason)))
                return http_reply_error(conn, 503, reason,
                                        "the broker is unreachable or the "
                                        "topic is missing; retry",
                                        NULL, RETRY_AFTER_UNREACHABLE);

        /* A malformed traceparent is dropped, as W3C Trace Context asks:
         * the order itself is fine. */
        traceparent = mg_get_header(conn, "traceparent");
        if (!traceparent_parse(traceparent, NULL, 0))
                traceparent = NULL;
        return orders_publish(api, conn, &order, traceparent);
}

int api_orders_handler(struct mg_connection *conn, void *arg)
{
        struct api *api = arg;
        int ret;

        if ((ret = auth_require(api->auth, conn)) != 0)
                return ret;
        metric_gauge_add(api->in_flight, 1);
        ret = orders_handle(api, conn);
        metric_gauge_add(api->in_flight, -1);
        return ret;
}

int api_openapi_handler(struct mg_connection *conn, void *arg)
{
        const struct mg_request_info *ri = mg_get_request_info(conn);

        if (strcmp(ri->request_method, "GET") != 0)
                return http_reply_error(conn, 405, "method_not_allowed",
                                        "use GET", NULL, "Allow: GET\r\n");
        return http_reply_json(conn, 200, openapi_json, openapi_json_len,
                               NULL);
}
