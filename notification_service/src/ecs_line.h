/* The notification line: one Elastic Common Schema JSON object per record
 * of the notifications topic, for Filebeat. Pure functions: no I/O, so the
 * format is unit-tested alone (tests/notification_service/test_ecs_line.c). */
#ifndef NOTIFICATION_ECS_LINE_H
#define NOTIFICATION_ECS_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/jsonw.h"
#include "shared/order.h"

#define ECS_EVENT_ID_SIZE  320 /* topic (up to 249) + "-" + int32 + "-" + int64 */
/* How much of an invalid record's value and key a warn line quotes. */
#define ECS_ORIGINAL_MAX_BYTES 1024
#define ECS_KEY_MAX_BYTES      256

/* Where a record came from. Borrowed pointers; 'key' and 'traceparent'
 * may be NULL. 'timestamp_ms' is the record's timestamp, -1 when unknown. */
struct ecs_source {
        const char *topic;
        int32_t partition;
        int64_t offset;
        int64_t timestamp_ms;
        const char *key;
        size_t key_len;
        const char *traceparent; /* NUL-terminated header value */
};

/* Write "<topic>-<partition>-<offset>" into buf (ECS_EVENT_ID_SIZE bytes). */
void ecs_event_id(char *buf, size_t size, const char *topic, int32_t partition,
                  int64_t offset);

/* Append the line of a valid status 'st' read from 'src' to 'w', ending in
 * '\n'. @timestamp is the status's processed_at, so a line written again
 * after a crash is the same line. Returns 0, or -1 when out of memory. */
int ecs_line_format(struct jsonw *w, const char *service_name,
                    const struct ecs_source *src, const struct order_status *st);

/* Append the warn line of a record whose value 'value' is not a valid
 * status ('err' says why), ending in '\n'. The value and key are quoted,
 * escaped and truncated. Returns 0, or -1 when out of memory. */
int ecs_line_format_invalid(struct jsonw *w, const char *service_name,
                            const struct ecs_source *src, const char *value,
                            size_t value_len, const struct model_error *err);

#endif
