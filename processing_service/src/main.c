/* processing_service: a consumer group on the orders topic that checks each
 * order against the business rules and writes its status to the
 * notifications topic, exactly once (Kafka transactions). This file only
 * names the parts; shared/service.h runs them in the one order all three
 * services share. */
#include "processor.h"
#include "settings.h"
#include "shared/service.h"

static const struct service_def processing_service = {
        .name = "processing_service",
        .usage = processing_settings_usage,
        .group_id = "processing-service",
        .http_port = 8002,
        .topics = SERVICE_TOPIC_ORDERS | SERVICE_TOPIC_NOTIFICATIONS |
                  SERVICE_TOPIC_ORDERS_DLQ,
        .settings_size = sizeof(struct processing_settings),
        .settings_load = processing_settings_load,
        .settings_release = processing_settings_release,
        .start = processor_service_start,
        .run = processor_service_run,
        .is_ready = processor_is_ready,
        .destroy = processor_service_destroy,
};

int main(int argc, char **argv)
{
        return service_main(&processing_service, argc, argv);
}
