/* order_service: POST /orders validates an order and publishes it to the
 * orders topic, answering 202 once the broker has it. This file only
 * names the parts; shared/service.h runs them in the one order all three
 * services share. */
#include "app.h"
#include "settings.h"
#include "shared/service.h"

static const struct service_def order_service = {
        .name = "order_service",
        .usage = order_settings_usage,
        .group_id = NULL,
        .http_port = 8001,
        .topics = SERVICE_TOPIC_ORDERS | SERVICE_TOPIC_NOTIFICATIONS,
        .settings_size = sizeof(struct order_settings),
        .settings_load = order_settings_load,
        .settings_release = order_settings_release,
        .http_options = order_app_http_options,
        .start = order_app_start,
        .routes = order_app_routes,
        .is_ready = order_app_is_ready,
        .stop = order_app_stop,
        .destroy = order_app_destroy,
};

int main(int argc, char **argv)
{
        return service_main(&order_service, argc, argv);
}
