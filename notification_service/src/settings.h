/* notification_service's own settings (CONTRACT.md fixes the shared ones):
 * the log file and the webhook. Read with config.h's typed readers, so a
 * bad value is one line naming the variable and exit status 2. */
#ifndef NOTIFICATION_SETTINGS_H
#define NOTIFICATION_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

struct notification_settings {
        char *log_file;           /* NOTIFICATION_LOG_FILE, NULL when unset */
        char *webhook_url;        /* NOTIFY_WEBHOOK_URL, NULL when unset */
        long long timeout_ms;     /* NOTIFY_TIMEOUT_MS */
        long long connect_timeout_ms; /* NOTIFY_CONNECT_TIMEOUT_MS */
        long long retry_limit;    /* NOTIFY_RETRY_LIMIT */
        long long retry_base_ms;  /* NOTIFY_RETRY_BASE_MS */
        long long retry_max_ms;   /* NOTIFY_RETRY_MAX_MS */
        long long workers;        /* NOTIFY_WORKERS */
        long long queue_size;     /* NOTIFY_QUEUE_SIZE */
        long long commit_interval_ms; /* NOTIFY_COMMIT_INTERVAL_MS */
        bool curl_ready;          /* curl_global_init() done */
};

/* Fill 's' from the environment. Returns 0, or -1 with errstr naming the
 * variable ('s' is then released). Release with
 * notification_settings_release(). */
int notification_settings_load(struct notification_settings *s, char *errstr,
                               size_t errstr_size);

/* Free what 's' owns. */
void notification_settings_release(struct notification_settings *s);

struct service;

/* service_def.settings_load: the settings above into 'settings' (a struct
 * notification_settings), then the clients' configuration checked and
 * libcurl initialised (once, before any thread that could use it starts:
 * curl_global_init() is not thread-safe). Returns 0, or -1 with errstr.
 * Release with notification_settings_close(), which also cleans up
 * libcurl. */
int notification_settings_open(const struct service *svc, void *settings,
                               char *errstr, size_t errstr_size);
void notification_settings_close(void *settings);

/* The variables and defaults, for --help. */
extern const char notification_settings_usage[];

#endif
