/* The life of a service, the same for all three (Redis's main(): init,
 * run, shutdown): each main.c fills a struct service_def and calls
 * service_main(), which does, in this one order,
 *
 *   cli → .env → config → the service's settings and Kafka checks
 *       → log → signals → metrics → readiness watch → the service's start
 *       → HTTP (+ its routes) → run → teardown in reverse.
 *
 * Everything up to the settings runs before logging starts: a failure
 * there is a bad configuration, one line on stderr and exit status 2.
 * After it, a failure is logged and the exit status is 1; a start that
 * fails because shutdown was requested meanwhile is a clean stop (0).
 *
 * Hooks run on the main thread. Each is given the service, whose fields
 * below are theirs to read (and 'settings'/'app' theirs to own). */
#ifndef SHARED_SERVICE_H
#define SHARED_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "shared/config.h"
#include "shared/http.h"

struct kafka_watch;
struct metrics;

/* The topics of a service (struct config names them). */
#define SERVICE_TOPIC_ORDERS            1u
#define SERVICE_TOPIC_NOTIFICATIONS     2u
#define SERVICE_TOPIC_ORDERS_DLQ        4u /* "<orders>.dlq" */
#define SERVICE_TOPIC_NOTIFICATIONS_DLQ 8u /* "<notifications>.dlq" */

struct service {
        const struct service_def *def;
        struct config cfg;
        void *settings;            /* def->settings_size bytes, loaded */
        struct metrics *metrics;
        struct kafka_watch *watch; /* broker and topics, for /readyz */
        struct http_server *http;
        void *app;                 /* from def->start */
        char dlq_topic[256];       /* its *_DLQ topic, or "" */
};

struct service_def {
        const char *name;     /* "order_service" */
        const char *usage;    /* printed by --help after the synopsis */
        const char *group_id; /* default KAFKA_GROUP_ID, NULL if none */
        int http_port;        /* default HTTP_PORT */
        /* The topics the readiness watch checks, and creates when
         * missing: SERVICE_TOPIC_* bits. */
        unsigned topics;
        /* The service's own settings: service_main() allocates
         * 'settings_size' zeroed bytes (svc->settings) and frees them.
         * settings_load reads the service's variables into them and
         * checks that its Kafka clients can be configured from svc->cfg;
         * returns 0, or -1 with errstr: a bad configuration. Then (also
         * after a failed load) settings_release, when not NULL, frees
         * what they own. */
        size_t settings_size;
        int (*settings_load)(const struct service *svc, void *settings,
                             char *errstr, size_t errstr_size);
        void (*settings_release)(void *settings);
        /* Fill in what the service adds to the HTTP server (threads,
         * request metrics...); 'opts' holds the shared defaults. Called
         * after start. NULL: the defaults. */
        void (*http_options)(const struct service *svc,
                             struct http_server_options *opts);
        /* Create the service's objects (logging, signals, metrics and the
         * watch are up). Returns them (svc->app), or NULL with errstr,
         * having released what it made. */
        void *(*start)(struct service *svc, char *errstr, size_t errstr_size);
        /* Add the service's HTTP routes. NULL: none. Returns 0 or -1. */
        int (*routes)(struct service *svc, char *errstr, size_t errstr_size);
        /* Work until shutdown_requested(). NULL: wait for it. Returns 0,
         * or -1 after an error it has logged. */
        int (*run)(struct service *svc);
        /* Readiness beyond the broker's, asked with svc->app once the
         * watch is ready (NULL: none). Runs on HTTP worker threads. */
        http_ready_fn is_ready;
        /* Stop taking work, before the HTTP server stops. Returns how
         * long to drain the server for (0: no drain). NULL: no drain. */
        int (*stop)(struct service *svc);
        /* Destroy svc->app (after the HTTP server is gone). */
        void (*destroy)(struct service *svc);
};

/* Run the service; returns main()'s exit status. */
int service_main(const struct service_def *def, int argc, char **argv);

#endif
