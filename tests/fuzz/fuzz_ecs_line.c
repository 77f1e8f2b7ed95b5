/* libFuzzer target: the ECS line writer of notification_service
 * (ecs_line.c), round trip: whatever the bytes of the fields (split from
 * the input at NUL bytes: order_id, user_id, item, reason, processed_at,
 * topic, key, traceparent, then the value of an invalid record), each line
 * it writes is one line and parses as one JSON object. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ecs_line.h"

/* The next field of the input into 'buf' (at most size - 1 bytes). */
static void next_field(const char **p, const char *end, char *buf,
                       size_t size)
{
        const char *nul = memchr(*p, '\0', (size_t)(end - *p));
        size_t n = nul ? (size_t)(nul - *p) : (size_t)(end - *p);

        memcpy(buf, *p, n < size ? n : size - 1);
        buf[n < size ? n : size - 1] = '\0';
        *p += nul ? n + 1 : n;
}

/* One line, ending in its only '\n', that is one JSON object. */
static void check_line(const struct jsonw *w)
{
        const char *nl = memchr(w->sb.buf, '\n', w->sb.len);
        json_error_t error;
        json_t *o;

        if (w->sb.failed || !nl || nl != w->sb.buf + w->sb.len - 1)
                abort();
        /* \u0000 is valid JSON (RFC 8259); jansson wants to be told. */
        o = json_loadb(w->sb.buf, w->sb.len - 1,
                       JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
                       &error);
        if (!o || !json_is_object(o)) {
                fprintf(stderr, "not one JSON object (%s): %s", error.text,
                        w->sb.buf);
                abort();
        }
        json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *p = (const char *)data, *end = p + size;
        static char topic[256], key[ECS_KEY_MAX_BYTES + 8], tp[128];
        struct order_status st;
        struct model_error err = {"invalid_json", "not json", ""};
        struct ecs_source src = {topic, 3, 42, 1700000000000, NULL, 0, NULL};
        struct jsonw w;

        memset(&st, 0, sizeof(st));
        next_field(&p, end, st.order.order_id, sizeof(st.order.order_id));
        next_field(&p, end, st.order.user_id, sizeof(st.order.user_id));
        next_field(&p, end, st.order.item, sizeof(st.order.item));
        next_field(&p, end, st.reason, sizeof(st.reason));
        next_field(&p, end, st.processed_at, sizeof(st.processed_at));
        next_field(&p, end, topic, sizeof(topic));
        next_field(&p, end, key, sizeof(key));
        next_field(&p, end, tp, sizeof(tp));
        st.order.quantity = (long long)size * 7919;
        st.status = st.reason[0] ? ORDER_STATUS_REJECTED
                                 : ORDER_STATUS_CONFIRMED;
        src.key = key[0] ? key : NULL;
        src.key_len = strlen(key);
        src.traceparent = tp[0] ? tp : NULL;

        jsonw_init(&w);
        if (ecs_line_format(&w, "notification_service", &src, &st) != 0)
                abort();
        check_line(&w);
        jsonw_reset(&w);
        if (ecs_line_format_invalid(&w, "notification_service", &src, p,
                                    (size_t)(end - p), &err) != 0)
                abort();
        check_line(&w);
        jsonw_release(&w);
        return 0;
}
