/* order_service's start and stop (app.h): the publisher reports a broker
 * outage to the readiness watch, the API publishes through it, and at
 * shutdown the requests in flight are answered before the producer goes. */
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "app.h"
#include "publisher.h"
#include "settings.h"
#include "shared/kafka_watch.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/order.h"
#include "shared/service.h"

/* At shutdown, how long past the longest wait of a request for its
 * delivery report the drain waits for the last replies to go out. */
#define DRAIN_MARGIN_MS 2000

struct order_app {
        struct publisher *pub;
        struct api *api;
};

void order_app_http_options(const struct service *svc,
                            struct http_server_options *opts)
{
        const struct order_settings *s = svc->settings;
        const struct order_app *app = svc->app;

        opts->num_threads = s->http_threads;
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

void *order_app_start(struct service *svc, char *errstr, size_t errstr_size)
{
        struct order_settings *s = svc->settings;
        struct order_app *app = calloc(1, sizeof(*app));

        if (!app)
                goto oom;
        svc->app = app;
        app->pub = app_publisher_new(svc, errstr, errstr_size);
        if (!app->pub)
                goto fail;
        app->api = api_new(&(struct api_options){
                .publisher = app->pub,
                .watch = svc->watch,
                .metrics = svc->metrics,
                .auth = &s->auth,
                .topic = svc->cfg.orders_topic,
                .max_body_bytes = ORDER_MAX_JSON_BYTES,
        });
        if (!app->api)
                goto oom;
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

        if (http_server_route(svc->http, "/orders", api_orders_handler,
                              app->api, errstr, errstr_size) == -1 ||
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
        free(app);
        svc->app = NULL;
}
