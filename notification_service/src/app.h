/* notification_service's notifier in the service life cycle
 * (shared/service.h). */
#ifndef NOTIFICATION_APP_H
#define NOTIFICATION_APP_H

#include <stddef.h>

struct service;

/* The hooks of service_def. */
void *notification_app_start(struct service *svc, char *errstr,
                             size_t errstr_size);
int notification_app_run(struct service *svc);
void notification_app_destroy(struct service *svc);

#endif
