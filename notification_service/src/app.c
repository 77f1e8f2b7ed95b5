/* notification_service's start, run and destroy (app.h): the notifier
 * (notifier.h) with the settings of settings.h. */
#include "app.h"
#include "notifier.h"
#include "settings.h"
#include "shared/service.h"

void *notification_app_start(struct service *svc, char *errstr,
                             size_t errstr_size)
{
        return notifier_new(&svc->cfg, svc->settings, svc->metrics, errstr,
                            errstr_size);
}

int notification_app_run(struct service *svc)
{
        return notifier_run(svc->app);
}

void notification_app_destroy(struct service *svc)
{
        notifier_destroy(svc->app);
        svc->app = NULL;
}
