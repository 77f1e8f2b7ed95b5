/* order_service's own settings (settings.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "publisher.h"
#include "settings.h"
#include "shared/config.h"
#include "shared/service.h"
#include "shared/util.h"

const char order_settings_usage[] =
        "POST /orders validates a JSON order and publishes it to Kafka; it\n"
        "answers 202 once the broker has acknowledged it.\n\n"
        "Settings come from the environment (and ./.env); see\n"
        "docs/order_service.md. Besides the shared ones (KAFKA_*,\n"
        "ORDERS_TOPIC, HTTP_PORT, LOG_LEVEL, LOG_FORMAT, TOPIC_PARTITIONS,\n"
        "TOPIC_REPLICATION_FACTOR):\n"
        "  HTTP_THREADS          worker threads, one per open connection (128)\n"
        "  DELIVERY_TIMEOUT_MS   give up on a delivery, answer 504 (10000)\n"
        "  KAFKA_LINGER_MS       producer batching delay (2)\n"
        "  ORDER_VIEW_MAX_ORDERS orders the status view holds (100000)\n"
        "  ORDER_VIEW_RETENTION  seconds an order stays in the view (86400;\n"
        "                        0: until ORDER_VIEW_MAX_ORDERS evicts it)\n"
        "  ORDER_STREAM_MAX      connections held open by SSE, WebSocket and\n"
        "                        long-polls, on top of HTTP_THREADS (256)\n"
        "  ORDER_STREAM_HEARTBEAT_MS  idle stream heartbeat (15000)\n"
        "  ORDER_API_KEYS_FILE   API keys, one name:key a line; when set,\n"
        "                        POST /orders needs Authorization: Bearer <key>\n"
        "  HTTP_TLS_CERT_FILE    PEM certificate (chain): serve HTTPS\n"
        "  HTTP_TLS_KEY_FILE     PEM private key of that certificate\n"
        "Any variable X can be read from the file X_FILE names (secrets).\n";

/* The order-status view and the streams (view.h, stream.h). */
static int settings_read_view(struct order_settings *s, char *errstr,
                              size_t errstr_size)
{
        long long n;

        if (config_get_int("ORDER_VIEW_MAX_ORDERS", 100000, 1, 100000000,
                           &s->view_max_orders, errstr, errstr_size) == -1 ||
            config_get_int("ORDER_VIEW_RETENTION", 86400, 0, 365LL * 86400,
                           &s->view_retention_s, errstr, errstr_size) == -1)
                return -1;
        if (config_get_int("ORDER_STREAM_MAX", 256, 0, 60000, &n, errstr,
                           errstr_size) == -1)
                return -1;
        s->stream_max = (int)n;
        if (config_get_int("ORDER_STREAM_HEARTBEAT_MS", 15000, 100, 300000, &n,
                           errstr, errstr_size) == -1)
                return -1;
        s->stream_heartbeat_ms = (int)n;
        return 0;
}

static int settings_read(struct order_settings *s, char *errstr,
                         size_t errstr_size)
{
        long long n;

        if (config_get_int("HTTP_THREADS", 128, 4, 4096, &n, errstr,
                           errstr_size) == -1)
                return -1;
        s->http_threads = (int)n;
        if (config_get_int("DELIVERY_TIMEOUT_MS", 10000, 1000, 300000, &n,
                           errstr, errstr_size) == -1)
                return -1;
        s->delivery_timeout_ms = (int)n;
        /* KAFKA_LINGER_MS is a pass-through property that config_load()
         * has checked; when it is given the publisher leaves it alone.
         * librdkafka refuses a linger not below the message timeout. */
        s->linger_ms = 2;
        if (config_get_int("KAFKA_LINGER_MS", s->linger_ms, 0, 900000, &n,
                           errstr, errstr_size) == -1)
                return -1;
        if (n >= s->delivery_timeout_ms) {
                snprintf(errstr, errstr_size,
                         "KAFKA_LINGER_MS: %lld must be below "
                         "DELIVERY_TIMEOUT_MS (%d)",
                         n, s->delivery_timeout_ms);
                return -1;
        }
        return 0;
}

/* HTTPS needs both files, readable now rather than at the first
 * handshake. */
static int settings_read_tls(struct order_settings *s, char *errstr,
                             size_t errstr_size)
{
        const char *missing = NULL;

        if (config_get_string("HTTP_TLS_CERT_FILE", NULL, 4096,
                              &s->tls_cert_file, errstr, errstr_size) == -1 ||
            config_get_string("HTTP_TLS_KEY_FILE", NULL, 4096,
                              &s->tls_key_file, errstr, errstr_size) == -1)
                return -1;
        if (!s->tls_cert_file && !s->tls_key_file)
                return 0;
        if (!s->tls_cert_file)
                missing = "HTTP_TLS_CERT_FILE";
        else if (!s->tls_key_file)
                missing = "HTTP_TLS_KEY_FILE";
        if (missing)
                return error_set(errstr, errstr_size,
                                 "%s: not set (HTTPS needs both "
                                 "HTTP_TLS_CERT_FILE and HTTP_TLS_KEY_FILE)",
                                 missing);
        if (access(s->tls_cert_file, R_OK) == -1)
                return error_set(errstr, errstr_size,
                                 "HTTP_TLS_CERT_FILE: cannot read '%s': %s",
                                 s->tls_cert_file, strerror(errno));
        if (access(s->tls_key_file, R_OK) == -1)
                return error_set(errstr, errstr_size,
                                 "HTTP_TLS_KEY_FILE: cannot read '%s': %s",
                                 s->tls_key_file, strerror(errno));
        return 0;
}

int order_settings_load(const struct service *svc, void *settings,
                        char *errstr, size_t errstr_size)
{
        struct order_settings *s = settings;

        if (settings_read(s, errstr, errstr_size) == -1 ||
            settings_read_view(s, errstr, errstr_size) == -1 ||
            auth_load(&s->auth, errstr, errstr_size) == -1 ||
            settings_read_tls(s, errstr, errstr_size) == -1)
                return -1;
        return publisher_check_config(&svc->cfg, s->delivery_timeout_ms,
                                      s->linger_ms, errstr, errstr_size);
}

void order_settings_release(void *settings)
{
        struct order_settings *s = settings;

        auth_release(&s->auth);
        free(s->tls_cert_file);
        free(s->tls_key_file);
}
