/* order_service's own settings, on top of struct config (CONTRACT.md):
 * read with config.h's typed readers, so a bad value is one line naming
 * the variable and exit status 2. */
#ifndef ORDER_SERVICE_SETTINGS_H
#define ORDER_SERVICE_SETTINGS_H

#include <stddef.h>

#include "auth.h"

struct service;

struct order_settings {
        int http_threads;        /* HTTP_THREADS */
        int delivery_timeout_ms; /* DELIVERY_TIMEOUT_MS */
        int linger_ms;           /* KAFKA_LINGER_MS, or ours */
        long long view_max_orders;   /* ORDER_VIEW_MAX_ORDERS */
        long long view_retention_s;  /* ORDER_VIEW_RETENTION, 0: none */
        int stream_max;              /* ORDER_STREAM_MAX */
        int stream_heartbeat_ms;     /* ORDER_STREAM_HEARTBEAT_MS */
        struct auth auth;        /* ORDER_API_KEYS(_FILE); empty: off */
        char *tls_cert_file;     /* HTTP_TLS_CERT_FILE, NULL: plain HTTP */
        char *tls_key_file;      /* HTTP_TLS_KEY_FILE */
};

/* service_def.settings_load: read the variables into 'settings' (a struct
 * order_settings: order_settings_release() frees what it owns) and check that the producer can be
 * configured. Returns 0, or -1 with errstr naming the variable at fault. */
int order_settings_load(const struct service *svc, void *settings,
                        char *errstr, size_t errstr_size);

/* service_def.settings_release. */
void order_settings_release(void *settings);

/* The variables and defaults, for --help. */
extern const char order_settings_usage[];

#endif
