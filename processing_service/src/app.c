/* processing_service's start, run and destroy (app.h): the processor
 * (processor.h) with the rules and transactions of the settings. */
#include "app.h"
#include "processor.h"
#include "settings.h"
#include "shared/log.h"
#include "shared/service.h"

void *processing_app_start(struct service *svc, char *errstr,
                           size_t errstr_size)
{
        const struct processing_settings *s = svc->settings;
        struct processor_options opts;

        log_write(LOG_LEVEL_INFO, "rules loaded",
                  (struct log_field[]){
                          LOG_INT("rules.max_quantity", s->rules.max_quantity),
                          LOG_INT("rules.catalog_items",
                                  (long long)s->rules.catalog_count),
                  },
                  2);
        processing_settings_options(svc, &opts);
        return processor_new(&opts, errstr, errstr_size);
}

int processing_app_run(struct service *svc)
{
        return processor_run(svc->app);
}

void processing_app_destroy(struct service *svc)
{
        processor_destroy(svc->app);
        svc->app = NULL;
}
