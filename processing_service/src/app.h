/* processing_service's processor in the service life cycle
 * (shared/service.h). */
#ifndef PROCESSING_APP_H
#define PROCESSING_APP_H

#include <stddef.h>

struct service;

/* The hooks of service_def. */
void *processing_app_start(struct service *svc, char *errstr,
                           size_t errstr_size);
int processing_app_run(struct service *svc);
void processing_app_destroy(struct service *svc);

#endif
