/* processing_service's own settings, on top of struct config (CONTRACT.md):
 * the rules (with the catalog, read at start) and the transactions. Read
 * with config.h's typed readers, so a bad value is one line naming the
 * variable and exit status 2. */
#ifndef PROCESSING_SETTINGS_H
#define PROCESSING_SETTINGS_H

#include <stddef.h>

#include "rules.h"

struct service;

#define DEDUPE_RETENTION_DEFAULT_MS (7LL * 86400000)
/* The changelog's retention.ms is a long; a year is plenty. */
#define DEDUPE_RETENTION_MAX_MS (365LL * 86400000)

struct processing_settings {
        long long max_quantity;    /* MAX_QUANTITY */
        char *catalog_file;        /* CATALOG_FILE; NULL: no catalog */
        char *transactional_id;    /* TRANSACTIONAL_ID */
        long long txn_max_records; /* TXN_MAX_RECORDS */
        long long txn_max_ms;      /* TXN_MAX_MS */
        long long dedupe_retention_ms; /* DEDUPE_RETENTION; 0: off */
        char *dedupe_topic;        /* DEDUPE_TOPIC */
        long long txn_min_ms;      /* TXN_MIN_MS */
        struct rules rules;        /* MAX_QUANTITY and the catalog */
};

/* service_def.settings_load: read the variables into 'settings' (a
 * struct processing_settings), load the catalog and check the clients'
 * configuration. Returns 0, or -1 with errstr naming the variable at
 * fault. Release with processing_settings_release(). */
int processing_settings_load(const struct service *svc, void *settings,
                             char *errstr, size_t errstr_size);
void processing_settings_release(void *settings);

/* The options of the processor these settings give. */
struct processor_options;
void processing_settings_options(const struct service *svc,
                                 struct processor_options *opts);

/* The variables and defaults, for --help. */
extern const char processing_settings_usage[];

#endif
