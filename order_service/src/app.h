/* order_service's objects wired together for the service life cycle
 * (shared/service.h): the publisher and the API, with the shared
 * readiness watch gating POST /orders. */
#ifndef ORDER_SERVICE_APP_H
#define ORDER_SERVICE_APP_H

#include <stdbool.h>
#include <stddef.h>

#include "shared/http.h"

struct service;

/* The hooks of service_def (service.h says when each runs). */
void order_app_http_options(const struct service *svc,
                            struct http_server_options *opts);
void *order_app_start(struct service *svc, char *errstr, size_t errstr_size);
int order_app_routes(struct service *svc, char *errstr, size_t errstr_size);
int order_app_stop(struct service *svc);
void order_app_destroy(struct service *svc);
/* Ready once the order view has caught up (view.h). 'arg': svc->app. */
bool order_app_is_ready(void *arg, char *reason, size_t reason_size);

#endif
