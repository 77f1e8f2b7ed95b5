/* order_service's start and stop (app.h): the publisher reports a broker
 * outage to the readiness watch, the API publishes through it, and at
 * shutdown the requests in flight are answered before the producer goes. */
#include <stdio.h>
#include <stdlib.h>

#include <sys/resource.h>

#include "api.h"
#include "app.h"
#include "orders_get.h"
#include "page.h"
#include "publisher.h"
#include "settings.h"
#include "stream.h"
#include "view.h"
#include "ws.h"
#include "shared/kafka_watch.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/order.h"
#include "shared/service.h"

/* At shutdown, how long past the longest wait of a request for its
 * delivery report the drain waits for the last replies to go out. */
#define DRAIN_MARGIN_MS 2000
/* A worker's stack: civetweb's frames, ours (an 8 KiB reply buffer), a
 * produce call, with room for the sanitizers. The default (8 MiB) would
 * only be address space, but thousands of them add up. */
#define WORKER_STACK_BYTES (512 * 1024)
/* Events queued for one stream before it is ended (it resumes). */
#define STREAM_MAX_QUEUED 1024

struct order_app {
        struct publisher *pub;
        struct api *api;
        struct view *view;
        struct stream *stream;
        struct ws *ws;
        struct orders_routes routes;
};

void order_app_http_options(const struct service *svc,
                            struct http_server_options *opts)
{
        const struct order_settings *s = svc->settings;
        const struct order_app *app = svc->app;

        /* Streams hold at most stream_max workers (stream.h): the
         * others are left for everything else. */
        opts->num_threads = s->http_threads + s->stream_max;
        opts->thread_stack_bytes = WORKER_STACK_BYTES;
        opts->websocket_ping_ms = s->stream_heartbeat_ms;
        opts->on_request_done = api_request_done;
        opts->request_done_arg = app->api;
        opts->tcp_nodelay = true;
        opts->cors_disabled = true;
        opts->tls_cert_file = s->tls_cert_file;
        opts->tls_key_file = s->tls_key_file;
}

static struct publisher *app_publisher_new(struct service *svc, char *errstr,
                                           size_t errstr_size)
{
        const struct order_settings *s = svc->settings;

        return publisher_new(
                &svc->cfg,
                &(struct publisher_options){
                        .topic = svc->cfg.orders_topic,
                        .delivery_timeout_ms = s->delivery_timeout_ms,
                        .linger_ms = s->linger_ms,
                        .on_all_brokers_down = kafka_watch_mark_down,
                        .arg = svc->watch,
                        .recreations = metrics_counter(
                                svc->metrics,
                                "kafka_producer_recreations_total",
                                "Producers replaced after a fatal error",
                                NULL),
                },
                errstr, errstr_size);
}

/* Each held connection is a descriptor: raise the soft limit to the
 * hard one, which is often 1024 → 1048576. */
static void app_raise_fd_limit(void)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
                        log_write(LOG_LEVEL_WARN,
                                  "cannot raise the descriptor limit", NULL, 0);
        }
}

static struct view *app_view_new(struct service *svc, char *errstr,
                                 size_t errstr_size)
{
        const struct order_settings *s = svc->settings;

        return view_new(&(struct view_options){
                                .cfg = &svc->cfg,
                                .metrics = svc->metrics,
                                .max_orders = (size_t)s->view_max_orders,
                                .retention_ms = s->view_retention_s * 1000,
                                .max_queued_events = STREAM_MAX_QUEUED,
                        },
                        errstr, errstr_size);
}

void *order_app_start(struct service *svc, char *errstr, size_t errstr_size)
{
        struct order_settings *s = svc->settings;
        struct order_app *app = calloc(1, sizeof(*app));

        if (!app)
                goto oom;
        svc->app = app;
        app_raise_fd_limit();
        app->pub = app_publisher_new(svc, errstr, errstr_size);
        if (!app->pub || !(app->view = app_view_new(svc, errstr, errstr_size)))
                goto fail;
        app->stream = stream_new(&(struct stream_options){
                .view = app->view,
                .metrics = svc->metrics,
                .max_streams = s->stream_max,
                .heartbeat_ms = s->stream_heartbeat_ms,
        });
        if (!app->stream)
                goto oom;
        if (!(app->ws = ws_new(app->view, app->stream, errstr, errstr_size)))
                goto fail;
        app->api = api_new(&(struct api_options){
                .publisher = app->pub,
                .watch = svc->watch,
                .metrics = svc->metrics,
                .view = app->view,
                .auth = &s->auth,
                .topic = svc->cfg.orders_topic,
                .max_body_bytes = ORDER_MAX_JSON_BYTES,
        });
        if (!app->api)
                goto oom;
        app->routes = (struct orders_routes){app->api, app->view, app->stream};
        auth_metrics(&s->auth, svc->metrics);
        if (metrics_gauge_fn(svc->metrics, "kafka_producer_queue_depth",
                             "Messages waiting in the producer's queues", NULL,
                             publisher_queue_depth_gauge, app->pub) == -1)
                log_write(LOG_LEVEL_WARN,
                          "cannot register the queue depth gauge", NULL, 0);
        return app;
oom:
        snprintf(errstr, errstr_size, "out of memory");
fail:
        order_app_destroy(svc);
        return NULL;
}

int order_app_routes(struct service *svc, char *errstr, size_t errstr_size)
{
        struct order_app *app = svc->app;

        if (http_server_route_prefix(svc->http, "/orders",
                                     orders_route_handler, &app->routes,
                                     errstr, errstr_size) == -1 ||
            http_server_route(svc->http, "/events", stream_events_handler,
                              app->stream, errstr, errstr_size) == -1 ||
            ws_route(app->ws, svc->http, errstr, errstr_size) == -1 ||
            http_server_route(svc->http, "/", page_handler, NULL, errstr,
                              errstr_size) == -1 ||
            http_server_route(svc->http, "/openapi.json", api_openapi_handler,
                              app->api, errstr, errstr_size) == -1)
                return -1;
        return 0;
}

/* New orders get 503 shutting_down from here, and every reply closes its
 * connection. The drain (service.c) refuses new connections and waits
 * until each request taken is answered: those waiting for their delivery
 * report get their 202 or 504 before the producer is flushed and
 * destroyed. Only then mg_stop(), which once begun sends nothing. */
int order_app_stop(struct service *svc)
{
        const struct order_settings *s = svc->settings;
        struct order_app *app = svc->app;

        if (app->api)
                api_stop_accepting(app->api);
        /* Streams and long-polls end now, or the drain would wait for
         * them until its deadline. */
        if (app->view)
                view_stop_streams(app->view);
        return s->delivery_timeout_ms + PUBLISHER_REPORT_MARGIN_MS +
               DRAIN_MARGIN_MS;
}

void order_app_destroy(struct service *svc)
{
        const struct order_settings *s = svc->settings;
        struct order_app *app = svc->app;

        if (!app)
                return;
        publisher_destroy(app->pub, s->delivery_timeout_ms);
        api_destroy(app->api);
        ws_destroy(app->ws);
        stream_destroy(app->stream);
        view_destroy(app->view);
        free(app);
        svc->app = NULL;
}

bool order_app_is_ready(void *arg, char *reason, size_t reason_size)
{
        struct order_app *app = arg;

        return app && app->view &&
               view_is_ready(app->view, reason, reason_size);
}
