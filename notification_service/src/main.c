/* notification_service: a consumer group on the notifications topic that
 * writes one ECS JSON line per status (and POSTs it to a webhook when one
 * is configured). This file only names the parts; shared/service.h runs
 * them in the one order all three services share. */
#include "notifier.h"
#include "settings.h"
#include "shared/service.h"

static const struct service_def notification_service = {
        .name = "notification_service",
        .usage = notification_settings_usage,
        .group_id = "notification-service",
        .http_port = 8003,
        .topics = SERVICE_TOPIC_NOTIFICATIONS | SERVICE_TOPIC_NOTIFICATIONS_DLQ,
        .settings_size = sizeof(struct notification_settings),
        .settings_load = notification_settings_open,
        .settings_release = notification_settings_close,
        .start = notifier_service_start,
        .run = notifier_service_run,
        .destroy = notifier_service_destroy,
};

int main(int argc, char **argv)
{
        return service_main(&notification_service, argc, argv);
}
