/* The notification line, built with jsonw so that it is always one line of
 * valid JSON whatever the record holds. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ecs_line.h"
#include "shared/log.h"
#include "shared/trace.h"
#include "shared/util.h"

void ecs_event_id(char *buf, size_t size, const char *topic, int32_t partition,
                  int64_t offset)
{
        snprintf(buf, size, "%s-%d-%lld", topic ? topic : "", (int)partition,
                 (long long)offset);
}

/* The fields every line has, after @timestamp and log.level. */
static void put_common(struct jsonw *w, const char *service_name,
                       const struct ecs_source *src, const char *event_id)
{
        char trace_id[TRACE_ID_SIZE];

        jsonw_key_str(w, "ecs.version", ECS_VERSION);
        jsonw_key_str(w, "service.name", service_name);
        jsonw_key_str(w, "event.dataset", "notification_service.notifications");
        jsonw_key_str(w, "event.id", event_id);
        if (src->timestamp_ms >= 0) {
                char created[ORDER_TIME_SIZE];

                time_format_rfc3339(src->timestamp_ms, created, sizeof(created));
                jsonw_key_str(w, "event.created", created);
        }
        if (traceparent_parse(src->traceparent, trace_id, sizeof(trace_id)))
                jsonw_key_str(w, "trace.id", trace_id);
        jsonw_key_str(w, "kafka.topic", src->topic);
        jsonw_key_int(w, "kafka.partition", src->partition);
        jsonw_key_int(w, "kafka.offset", src->offset);
}

int ecs_line_format(struct jsonw *w, const char *service_name,
                    const struct ecs_source *src, const struct order_status *st)
{
        char event_id[ECS_EVENT_ID_SIZE];
        char message[ORDER_ID_MAX_CHARS + ORDER_REASON_MAX + 64];
        const char *status = order_status_kind_name(st->status);
        bool has_reason = st->reason[0] != '\0';

        ecs_event_id(event_id, sizeof(event_id), src->topic, src->partition,
                     src->offset);
        /* order_id is [A-Za-z0-9._:-] and reason [a-z0-9_] (order.h), so
         * the message needs no escaping beyond what jsonw does anyway. */
        if (has_reason)
                snprintf(message, sizeof(message), "order %s %s: %s",
                         st->order.order_id, status, st->reason);
        else
                snprintf(message, sizeof(message), "order %s %s",
                         st->order.order_id, status);

        jsonw_object_begin(w);
        jsonw_key_str(w, "@timestamp", st->processed_at);
        jsonw_key_str(w, "log.level", "info");
        jsonw_key_str(w, "message", message);
        put_common(w, service_name, src, event_id);
        jsonw_key_str(w, "event.kind", "event");
        jsonw_key_str(w, "event.outcome",
                      st->status == ORDER_STATUS_CONFIRMED ? "success"
                                                           : "failure");
        jsonw_key_str(w, "order.id", st->order.order_id);
        jsonw_key_str(w, "order.status", status);
        if (has_reason)
                jsonw_key_str(w, "order.reason", st->reason);
        else
                jsonw_key_null(w, "order.reason");
        jsonw_key_str(w, "order.item", st->order.item);
        jsonw_key_int(w, "order.quantity", st->order.quantity);
        jsonw_key_str(w, "order.processed_at", st->processed_at);
        jsonw_key_str(w, "user.id", st->order.user_id);
        jsonw_object_end(w);
        jsonw_newline(w);
        return w->sb.failed ? -1 : 0;
}

int ecs_line_format_invalid(struct jsonw *w, const char *service_name,
                            const struct ecs_source *src, const char *value,
                            size_t value_len, const struct model_error *err)
{
        char event_id[ECS_EVENT_ID_SIZE];
        char ts[ORDER_TIME_SIZE];
        char message[ECS_EVENT_ID_SIZE + 64];

        ecs_event_id(event_id, sizeof(event_id), src->topic, src->partition,
                     src->offset);
        /* The record's own time, not ours: a line written again after a
         * crash stays the same line. */
        time_format_rfc3339(src->timestamp_ms, ts, sizeof(ts));
        snprintf(message, sizeof(message),
                 "record %s is not a valid status", event_id);

        jsonw_object_begin(w);
        jsonw_key_str(w, "@timestamp", ts);
        jsonw_key_str(w, "log.level", "warn");
        jsonw_key_str(w, "message", message);
        put_common(w, service_name, src, event_id);
        jsonw_key_str(w, "event.kind", "pipeline_error");
        jsonw_key_str(w, "event.outcome", "failure");
        jsonw_key_str(w, "error.code", err ? err->code : "invalid_record");
        jsonw_key_str(w, "error.message", err ? err->message : "");
        if (err && err->field[0])
                jsonw_key_str(w, "error.field", err->field);
        if (src->key)
                jsonw_key_strn(w, "kafka.key", src->key,
                               src->key_len < ECS_KEY_MAX_BYTES
                                       ? src->key_len
                                       : ECS_KEY_MAX_BYTES);
        if (value)
                jsonw_key_strn(w, "event.original", value,
                               value_len < ECS_ORIGINAL_MAX_BYTES
                                       ? value_len
                                       : ECS_ORIGINAL_MAX_BYTES);
        else
                jsonw_key_null(w, "event.original");
        if (value && value_len > ECS_ORIGINAL_MAX_BYTES)
                jsonw_key_bool(w, "event.original_truncated", true);
        jsonw_object_end(w);
        jsonw_newline(w);
        return w->sb.failed ? -1 : 0;
}
