/* The notification line: the contract's fields with the right values, and
 * no record, key or header can split or forge a line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ecs_line.h"

#define TRACEPARENT "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

/* Exactly one line ending in '\n' that parses as a JSON object. */
static json_t *parse_line(const struct jsonw *w)
{
        json_error_t err;
        json_t *root;

        assert_false(w->sb.failed);
        assert_true(w->sb.len > 1);
        assert_int_equal(w->sb.buf[w->sb.len - 1], '\n');
        assert_ptr_equal(memchr(w->sb.buf, '\n', w->sb.len), w->sb.buf + w->sb.len - 1);
        assert_null(memchr(w->sb.buf, '\r', w->sb.len));
        assert_int_equal(strlen(w->sb.buf), w->sb.len); /* no raw NUL */
        root = json_loadb(w->sb.buf, w->sb.len - 1, JSON_ALLOW_NUL, &err);
        if (!root)
                fail_msg("not JSON (%s): %s", err.text, w->sb.buf);
        assert_true(json_is_object(root));
        return root;
}

static const char *str(json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);

        if (!v || !json_is_string(v))
                fail_msg("%s is not a string", key);
        return json_string_value(v);
}

static struct order_status status_of(const char *item, const char *user,
                                     enum order_status_kind kind,
                                     const char *reason)
{
        struct order_status st;

        memset(&st, 0, sizeof(st));
        strcpy(st.order.order_id, "12345");
        strcpy(st.order.user_id, user);
        strcpy(st.order.item, item);
        st.order.quantity = 2;
        st.status = kind;
        strcpy(st.reason, reason);
        strcpy(st.processed_at, "2026-11-23T07:00:00.123Z");
        return st;
}

static void test_confirmed_line_has_contract_fields(void **state)
{
        struct order_status st =
                status_of("laptop", "user789", ORDER_STATUS_CONFIRMED, "");
        struct ecs_source src = {
                .topic = "notifications", .partition = 3, .offset = 42,
                .timestamp_ms = 1795417200123LL, .key = "12345", .key_len = 5,
                .traceparent = TRACEPARENT,
        };
        struct jsonw w;
        json_t *o;

        (void)state;
        jsonw_init(&w);
        assert_int_equal(ecs_line_format(&w, "notification_service", &src, &st), 0);
        o = parse_line(&w);
        assert_string_equal(str(o, "@timestamp"), "2026-11-23T07:00:00.123Z");
        assert_string_equal(str(o, "log.level"), "info");
        assert_string_equal(str(o, "message"), "order 12345 confirmed");
        assert_string_equal(str(o, "ecs.version"), "8.11");
        assert_string_equal(str(o, "service.name"), "notification_service");
        assert_string_equal(str(o, "event.dataset"),
                            "notification_service.notifications");
        assert_string_equal(str(o, "event.id"), "notifications-3-42");
        assert_string_equal(str(o, "event.created"), "2026-11-23T07:00:00.123Z");
        assert_string_equal(str(o, "order.id"), "12345");
        assert_string_equal(str(o, "order.status"), "confirmed");
        assert_true(json_is_null(json_object_get(o, "order.reason")));
        assert_string_equal(str(o, "user.id"), "user789");
        assert_string_equal(str(o, "order.item"), "laptop");
        assert_int_equal(json_integer_value(json_object_get(o, "order.quantity")), 2);
        assert_string_equal(str(o, "trace.id"), "0af7651916cd43dd8448eb211c80319c");
        assert_string_equal(str(o, "kafka.topic"), "notifications");
        assert_int_equal(json_integer_value(json_object_get(o, "kafka.partition")), 3);
        assert_int_equal(json_integer_value(json_object_get(o, "kafka.offset")), 42);
        json_decref(o);
        jsonw_release(&w);
}

static void test_rejected_line_names_reason(void **state)
{
        struct order_status st = status_of("laptop", "user789",
                                           ORDER_STATUS_REJECTED,
                                           "quantity_limit");
        struct ecs_source src = {.topic = "n", .partition = 0, .offset = 0,
                                 .timestamp_ms = -1};
        struct jsonw w;
        json_t *o;

        (void)state;
        jsonw_init(&w);
        assert_int_equal(ecs_line_format(&w, "notification_service", &src, &st), 0);
        o = parse_line(&w);
        assert_string_equal(str(o, "message"), "order 12345 rejected: quantity_limit");
        assert_string_equal(str(o, "order.status"), "rejected");
        assert_string_equal(str(o, "order.reason"), "quantity_limit");
        assert_null(json_object_get(o, "trace.id"));      /* no header */
        assert_null(json_object_get(o, "event.created")); /* no timestamp */
        json_decref(o);
        jsonw_release(&w);
}

/* A line written again (after a crash) is the same line. */
static void test_same_record_gives_same_line(void **state)
{
        struct order_status st =
                status_of("laptop", "u", ORDER_STATUS_CONFIRMED, "");
        struct ecs_source src = {.topic = "t", .partition = 1, .offset = 7,
                                 .timestamp_ms = 5};
        struct jsonw a, b;

        (void)state;
        jsonw_init(&a);
        jsonw_init(&b);
        ecs_line_format(&a, "s", &src, &st);
        ecs_line_format(&b, "s", &src, &st);
        assert_int_equal(a.sb.len, b.sb.len);
        assert_memory_equal(a.sb.buf, b.sb.buf, a.sb.len);
        jsonw_release(&a);
        jsonw_release(&b);
}

/* Values a status may legally carry (quotes, braces, U+2028, non-ASCII)
 * come back unchanged, and never make a second line or a forged field. */
static void test_hostile_valid_values_stay_one_line(void **state)
{
        const char *item = "lap\"top\",\"forged\":true,\"x\":\"{\xe2\x80\xa8}\\";
        const char *user = "\xe2\x80\xa9\"user.id\":\"admin";
        struct order_status st =
                status_of(item, user, ORDER_STATUS_CONFIRMED, "");
        struct ecs_source src = {.topic = "t", .partition = 0, .offset = 1,
                                 .timestamp_ms = 0};
        struct jsonw w;
        json_t *o;

        (void)state;
        jsonw_init(&w);
        assert_int_equal(ecs_line_format(&w, "notification_service", &src, &st), 0);
        o = parse_line(&w);
        assert_string_equal(str(o, "order.item"), item);
        assert_string_equal(str(o, "user.id"), user);
        assert_null(json_object_get(o, "forged"));
        /* U+2028 and U+2029 are escaped, not raw: they end lines in JS. */
        assert_null(strstr(w.sb.buf, "\xe2\x80\xa8"));
        assert_null(strstr(w.sb.buf, "\xe2\x80\xa9"));
        json_decref(o);
        jsonw_release(&w);
}

/* A record that is not a status: a warn line quoting the value and key,
 * escaped (NUL, ESC, newlines, invalid UTF-8) and truncated. */
static void test_invalid_record_warn_line_is_escaped(void **state)
{
        static const char value[] = "{\"order_id\":\"1\"}\n{\"forged\":1}\r\x1b[31m\0\xff\xfe";
        static const char key[] = "k\n\x00\xc3";
        struct model_error err = {.code = "invalid_json",
                                  .message = "bad \"json\"\n",
                                  .field = ""};
        struct ecs_source src = {.topic = "notifications", .partition = 2,
                                 .offset = 9, .timestamp_ms = 1000,
                                 .key = key, .key_len = sizeof(key) - 1,
                                 .traceparent = "00-zz\n"};
        struct jsonw w;
        json_t *o;
        const char *orig;

        (void)state;
        jsonw_init(&w);
        assert_int_equal(ecs_line_format_invalid(&w, "notification_service",
                                                 &src, value,
                                                 sizeof(value) - 1, &err),
                         0);
        o = parse_line(&w);
        assert_string_equal(str(o, "log.level"), "warn");
        assert_string_equal(str(o, "event.id"), "notifications-2-9");
        assert_string_equal(str(o, "@timestamp"), "1970-01-01T00:00:01.000Z");
        assert_string_equal(str(o, "error.code"), "invalid_json");
        assert_string_equal(str(o, "error.message"), "bad \"json\"\n");
        assert_null(json_object_get(o, "forged"));
        assert_null(json_object_get(o, "trace.id")); /* malformed header */
        orig = str(o, "event.original");
        assert_non_null(strstr(orig, "\n{\"forged\":1}\r\x1b[31m"));
        assert_non_null(strstr(w.sb.buf, "\xef\xbf\xbd")); /* \xff replaced */
        assert_non_null(strstr(w.sb.buf, "\\u0000"));
        assert_non_null(strstr(w.sb.buf, "\\u001b"));
        json_decref(o);
        jsonw_release(&w);
}

static void test_invalid_record_value_is_truncated(void **state)
{
        size_t len = ECS_ORIGINAL_MAX_BYTES * 4;
        char *value = malloc(len);
        struct model_error err = {.code = "invalid_json", .message = "m"};
        struct ecs_source src = {.topic = "t", .timestamp_ms = -1};
        struct jsonw w;
        json_t *o;

        (void)state;
        memset(value, 'a', len);
        jsonw_init(&w);
        assert_int_equal(ecs_line_format_invalid(&w, "s", &src, value, len, &err), 0);
        o = parse_line(&w);
        assert_int_equal(strlen(str(o, "event.original")), ECS_ORIGINAL_MAX_BYTES);
        assert_true(json_is_true(json_object_get(o, "event.original_truncated")));
        assert_null(json_object_get(o, "kafka.key")); /* no key */
        json_decref(o);
        jsonw_release(&w);
        free(value);
}

static void test_event_id_is_topic_partition_offset(void **state)
{
        char id[ECS_EVENT_ID_SIZE];

        (void)state;
        ecs_event_id(id, sizeof(id), "notifications", 5, 9223372036854775807LL);
        assert_string_equal(id, "notifications-5-9223372036854775807");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_confirmed_line_has_contract_fields),
                cmocka_unit_test(test_rejected_line_names_reason),
                cmocka_unit_test(test_same_record_gives_same_line),
                cmocka_unit_test(test_hostile_valid_values_stay_one_line),
                cmocka_unit_test(test_invalid_record_warn_line_is_escaped),
                cmocka_unit_test(test_invalid_record_value_is_truncated),
                cmocka_unit_test(test_event_id_is_topic_partition_offset),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
