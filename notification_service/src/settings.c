/* notification_service's own settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "notifier.h"
#include "settings.h"
#include "shared/config.h"
#include "shared/service.h"
#include "shared/util.h"
#include "webhook_policy.h"

const char notification_settings_usage[] =
        "Consumes the notifications topic and writes one ECS JSON line per\n"
        "status to stdout and NOTIFICATION_LOG_FILE; optionally POSTs each to\n"
        "a webhook. Settings come from the environment (and ./.env):\n"
        "  KAFKA_BOOTSTRAP_SERVERS    localhost:9092\n"
        "  KAFKA_GROUP_ID             notification-service\n"
        "  NOTIFICATIONS_TOPIC        notifications (DLQ: <topic>.dlq)\n"
        "  HTTP_PORT                  8003 (/healthz /readyz /metrics)\n"
        "  NOTIFICATION_LOG_FILE      unset (stdout only)\n"
        "  NOTIFY_WEBHOOK_URL         unset (no webhook); http:// or https://\n"
        "  NOTIFY_TIMEOUT_MS          5000   NOTIFY_CONNECT_TIMEOUT_MS 2000\n"
        "  NOTIFY_RETRY_LIMIT         5      NOTIFY_RETRY_BASE_MS 200\n"
        "  NOTIFY_RETRY_MAX_MS        10000  NOTIFY_WORKERS 4\n"
        "  NOTIFY_QUEUE_SIZE          1000   NOTIFY_COMMIT_INTERVAL_MS 1000\n"
        "See docs/notification_service.md.\n";

int notification_settings_load(struct notification_settings *s, char *errstr,
                               size_t errstr_size)
{
        char why[128];

        memset(s, 0, sizeof(*s));
        if (config_get_string("NOTIFICATION_LOG_FILE", NULL, 4096, &s->log_file,
                              errstr, errstr_size) < 0 ||
            config_get_string("NOTIFY_WEBHOOK_URL", NULL, 2048,
                              &s->webhook_url, errstr, errstr_size) < 0 ||
            config_get_int("NOTIFY_TIMEOUT_MS", 5000, 1, 3600000,
                           &s->timeout_ms, errstr, errstr_size) < 0 ||
            config_get_int("NOTIFY_CONNECT_TIMEOUT_MS", 2000, 1, 3600000,
                           &s->connect_timeout_ms, errstr, errstr_size) < 0 ||
            config_get_int("NOTIFY_RETRY_LIMIT", 5, 0, 1000, &s->retry_limit,
                           errstr, errstr_size) < 0 ||
            config_get_int("NOTIFY_RETRY_BASE_MS", 200, 0, 3600000,
                           &s->retry_base_ms, errstr, errstr_size) < 0 ||
            config_get_int("NOTIFY_RETRY_MAX_MS", 10000, 0, 3600000,
                           &s->retry_max_ms, errstr, errstr_size) < 0 ||
            config_get_int("NOTIFY_WORKERS", 4, 1, 64, &s->workers, errstr,
                           errstr_size) < 0 ||
            config_get_int("NOTIFY_QUEUE_SIZE", 1000, 1, 1000000,
                           &s->queue_size, errstr, errstr_size) < 0 ||
            config_get_int("NOTIFY_COMMIT_INTERVAL_MS", 1000, 10, 60000,
                           &s->commit_interval_ms, errstr, errstr_size) < 0)
                goto fail;
        if (s->webhook_url &&
            !webhook_url_is_valid(s->webhook_url, why, sizeof(why))) {
                /* The URL itself is not echoed: it may carry credentials. */
                snprintf(errstr, errstr_size, "NOTIFY_WEBHOOK_URL: %s", why);
                goto fail;
        }
        return 0;
fail:
        notification_settings_release(s);
        return -1;
}

void notification_settings_release(struct notification_settings *s)
{
        if (!s)
                return;
        free(s->log_file);
        free(s->webhook_url);
        s->log_file = NULL;
        s->webhook_url = NULL;
}

int notification_settings_open(const struct service *svc, void *settings,
                               char *errstr, size_t errstr_size)
{
        struct notification_settings *s = settings;

        if (notification_settings_load(s, errstr, errstr_size) == -1 ||
            notifier_check_config(&svc->cfg, errstr, errstr_size) == -1)
                return -1;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return error_set(errstr, errstr_size,
                                 "cannot initialise libcurl");
        s->curl_ready = true;
        return 0;
}

void notification_settings_close(void *settings)
{
        struct notification_settings *s = settings;

        if (s->curl_ready)
                curl_global_cleanup();
        s->curl_ready = false;
        notification_settings_release(s);
}
