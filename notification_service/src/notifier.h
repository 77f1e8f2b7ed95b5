/* The notification service's work: a read_committed consumer group on the
 * notifications topic; one ECS line per record (ecs_line.h) to stdout and
 * the log file (line_out.h); records that are not statuses to the DLQ;
 * optionally a webhook per status (webhook.h), dead-lettered when it fails.
 * An offset is committed only once its record is finished (offsets.h).
 *
 * Threads: notifier_run() is the consumer thread; it also serves the DLQ
 * producer's delivery reports and the consumer's rebalance and commit
 * callbacks. Webhook workers finish jobs on their own threads. Readiness
 * is the service's broker watch (shared/kafka_watch.h). */
#ifndef NOTIFICATION_NOTIFIER_H
#define NOTIFICATION_NOTIFIER_H

#include <stdbool.h>
#include <stddef.h>

#include "settings.h"
#include "shared/config.h"

struct metrics;
struct notifier;

/* Check that the consumer and the DLQ producer can be configured from
 * 'cfg' without starting them: for main() to stop a bad start before any
 * thread runs. Returns 0, or -1 with errstr naming the variable at fault. */
int notifier_check_config(const struct config *cfg, char *errstr,
                          size_t errstr_size);

/* Create the clients, the topics when missing, the outputs and the webhook
 * workers. 'cfg', 'settings' and 'metrics' are borrowed and must outlive
 * the notifier. Returns it, or NULL with errstr. */
struct notifier *notifier_new(const struct config *cfg,
                              const struct notification_settings *settings,
                              struct metrics *metrics, char *errstr,
                              size_t errstr_size);

/* Consume until shutdown is requested (shutdown.h), then finish the record
 * in hand, commit what is finished and leave the group.
 * Returns 0, or -1 after a fatal error (logged). */
int notifier_run(struct notifier *n);

/* Free everything. No operation if NULL. */
void notifier_destroy(struct notifier *n);

/* The notifier as notification_service's service_def hooks
 * (shared/service.h): svc->app is the notifier. */
struct service;
void *notifier_service_start(struct service *svc, char *errstr,
                             size_t errstr_size);
int notifier_service_run(struct service *svc);
void notifier_service_destroy(struct service *svc);

#endif
