/* The order model: every rule of CONTRACT.md's "Orders in" and "Kafka
 * records", each hostile case asserting the error code AND the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shared/order.h"

#define VALID_TIME "2026-11-23T07:00:00.123Z"

/* One decoding case: 'len' 0 means strlen(json). */
struct decode_case {
        const char *name;
        const char *json;
        size_t len;
        enum order_source source;
        const char *code;  /* NULL: must decode */
        const char *field; /* "" when no field is at fault */
};

#define REQ ORDER_FROM_REQUEST
#define REC ORDER_FROM_RECORD

static const struct decode_case cases[] = {
        /* valid */
        { "minimal request", "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":1}",
          0, REQ, NULL, "" },
        { "request with order_id",
          "{\"order_id\":\"a-Z_0.9:x\",\"user_id\":\"u\",\"item\":\"i\","
          "\"quantity\":1000000}",
          0, REQ, NULL, "" },
        { "whitespace around and inside",
          " \t\r\n{ \"user_id\" : \"u\" ,\n\"item\":\"i\", \"quantity\" : 2 } \n",
          0, REQ, NULL, "" },
        { "keys in any order",
          "{\"quantity\":2,\"item\":\"i\",\"user_id\":\"u\"}", 0, REQ, NULL,
          "" },
        { "record",
          "{\"order_id\":\"1\",\"user_id\":\"u\",\"item\":\"i\",\"quantity\":2,"
          "\"created_at\":\"" VALID_TIME "\"}",
          0, REC, NULL, "" },

        /* blank: white space only says nothing */
        { "blank user_id", "{\"user_id\":\"   \",\"item\":\"i\",\"quantity\":1}",
          0, REQ, "invalid_value", "user_id" },
        { "blank item (no-break and ideographic spaces)",
          "{\"user_id\":\"u\",\"item\":\" \u00a0\u3000\u2009\",\"quantity\":1}",
          0, REQ, "invalid_value", "item" },
        { "blank item in a record",
          "{\"order_id\":\"1\",\"user_id\":\"u\",\"item\":\" \",\"quantity\":2,"
          "\"created_at\":\"" VALID_TIME "\"}",
          0, REC, "invalid_value", "item" },
        { "spaces around text are fine",
          "{\"user_id\":\" u \",\"item\":\"\u00a0i\",\"quantity\":1}",
          0, REQ, NULL, "" },

        /* broken JSON */
        { "empty body", "", 0, REQ, "invalid_json", "" },
        { "whitespace only", " \n\t ", 0, REQ, "invalid_json", "" },
        { "truncated object", "{\"user_id\":\"u\",\"item\":\"i\"", 0, REQ,
          "invalid_json", "" },
        { "truncated string", "{\"user_id\":\"u", 0, REQ, "invalid_json",
          "" },
        { "lone brace", "{", 0, REQ, "invalid_json", "" },
        { "missing colon", "{\"user_id\" \"u\"}", 0, REQ, "invalid_json",
          "" },
        { "trailing comma",
          "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":1,}", 0, REQ,
          "invalid_json", "" },
        { "single quotes", "{'user_id':'u'}", 0, REQ, "invalid_json", "" },
        { "trailing garbage",
          "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":1} x", 0, REQ,
          "invalid_json", "" },
        { "two objects",
          "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":1}{}", 0, REQ,
          "invalid_json", "" },
        { "two strings in one value",
          "{\"user_id\":\"u\" \"v\",\"item\":\"i\",\"quantity\":1}", 0, REQ,
          "invalid_json", "" },
        { "leading zero", "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":02}",
          0, REQ, "invalid_json", "" },
        { "raw invalid utf-8 in a key", "{\"us\xffr\":\"u\"}", 0, REQ,
          "invalid_json", "" },
        { "nul in a key", "{\"a\\u0000b\":1}", 0, REQ, "invalid_json", "" },
        { "bare words", "hello", 0, REQ, "invalid_json", "" },

        /* top level not an object */
        { "array", "[{\"user_id\":\"u\"}]", 0, REQ, "invalid_type", "" },
        { "string", "\"order\"", 0, REQ, "invalid_type", "" },
        { "number", "42", 0, REQ, "invalid_type", "" },
        { "null", "null", 0, REQ, "invalid_type", "" },
        { "true", "true", 0, REQ, "invalid_type", "" },

        /* missing fields */
        { "empty object", "{}", 0, REQ, "missing_field", "user_id" },
        { "no item", "{\"user_id\":\"u\",\"quantity\":1}", 0, REQ,
          "missing_field", "item" },
        { "no quantity", "{\"user_id\":\"u\",\"item\":\"i\"}", 0, REQ,
          "missing_field", "quantity" },
        { "record without order_id",
          "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":2,\"created_at\":\"" VALID_TIME
          "\"}",
          0, REC, "missing_field", "order_id" },
        { "record without created_at",
          "{\"order_id\":\"1\",\"user_id\":\"u\",\"item\":\"i\",\"quantity\":2}",
          0, REC, "missing_field", "created_at" },

        /* unknown and duplicate fields */
        { "unknown field",
          "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":1,\"qty\":1}", 0, REQ,
          "unknown_field", "qty" },
        { "unknown field first in document order",
          "{\"b\":1,\"user_id\":\"u\",\"a\":1}", 0, REQ, "unknown_field", "b" },
        { "created_at refused on a request",
          "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":1,\"created_at\":\"" VALID_TIME
          "\"}",
          0, REQ, "unknown_field", "created_at" },
        { "status field refused on an order",
          "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":1,\"status\":\"confirmed\"}",
          0, REQ, "unknown_field", "status" },
        { "unknown field whose value is a huge integer",
          "{\"user_id\":\"u\",\"n\":99999999999999999999999}", 0, REQ,
          "unknown_field", "n" },
        { "field name with a control character is made printable",
          "{\"a\\u0001b\":1}", 0, REQ, "unknown_field", "a?b" },
        { "duplicate key",
          "{\"user_id\":\"u\",\"user_id\":\"v\",\"item\":\"i\",\"quantity\":1}",
          0, REQ, "duplicate_field", "user_id" },
        { "duplicate quantity",
          "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":1,\"quantity\":500}",
          0, REQ, "duplicate_field", "quantity" },
        { "duplicate key in a nested object",
          "{\"user_id\":{\"k\":1,\"k\":2}}", 0, REQ, "duplicate_field", "k" },

        /* wrong types */
        { "user_id a number", "{\"user_id\":7,\"item\":\"i\",\"quantity\":1}",
          0, REQ, "invalid_type", "user_id" },
        { "user_id null", "{\"user_id\":null,\"item\":\"i\",\"quantity\":1}",
          0, REQ, "invalid_type", "user_id" },
        { "user_id huge integer",
          "{\"user_id\":99999999999999999999999,\"item\":\"i\",\"quantity\":1}",
          0, REQ, "invalid_type", "user_id" },
        { "item an array", "{\"user_id\":\"u\",\"item\":[\"i\"],\"quantity\":1}",
          0, REQ, "invalid_type", "item" },
        { "item an object", "{\"user_id\":\"u\",\"item\":{},\"quantity\":1}",
          0, REQ, "invalid_type", "item" },
        { "order_id a number",
          "{\"order_id\":12345,\"user_id\":\"u\",\"item\":\"i\",\"quantity\":1}",
          0, REQ, "invalid_type", "order_id" },
        { "order_id null",
          "{\"order_id\":null,\"user_id\":\"u\",\"item\":\"i\",\"quantity\":1}",
          0, REQ, "invalid_type", "order_id" },
        { "quantity a string",
          "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":\"2\"}", 0, REQ,
          "invalid_type", "quantity" },
        { "quantity true", "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":true}",
          0, REQ, "invalid_type", "quantity" },
        { "quantity null", "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":null}",
          0, REQ, "invalid_type", "quantity" },
        { "quantity float", "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":2.0}",
          0, REQ, "invalid_type", "quantity" },
        { "quantity fraction",
          "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":2.5}", 0, REQ,
          "invalid_type", "quantity" },
        { "quantity exponent",
          "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":1e2}", 0, REQ,
          "invalid_type", "quantity" },
        { "quantity huge exponent",
          "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":1e999}", 0, REQ,
          "invalid_type", "quantity" },
        { "quantity array", "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":[1]}",
          0, REQ, "invalid_type", "quantity" },

        /* values out of range */
        { "quantity zero", "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":0}", 0,
          REQ, "invalid_value", "quantity" },
        { "quantity minus zero",
          "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":-0}", 0, REQ,
          "invalid_value", "quantity" },
        { "quantity negative",
          "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":-1}", 0, REQ,
          "invalid_value", "quantity" },
        { "quantity one over",
          "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":1000001}", 0, REQ,
          "invalid_value", "quantity" },
        { "quantity int64 max",
          "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":9223372036854775807}",
          0, REQ, "invalid_value", "quantity" },
        { "quantity beyond int64",
          "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":9223372036854775808}",
          0, REQ, "invalid_value", "quantity" },
        { "quantity huge",
          "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":"
          "123456789012345678901234567890}",
          0, REQ, "invalid_value", "quantity" },
        { "quantity huge negative",
          "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":"
          "-123456789012345678901234567890}",
          0, REQ, "invalid_value", "quantity" },
        { "empty user_id", "{\"user_id\":\"\",\"item\":\"i\",\"quantity\":1}", 0,
          REQ, "invalid_value", "user_id" },
        { "empty item", "{\"user_id\":\"u\",\"item\":\"\",\"quantity\":1}", 0,
          REQ, "invalid_value", "item" },
        { "empty order_id",
          "{\"order_id\":\"\",\"user_id\":\"u\",\"item\":\"i\",\"quantity\":1}",
          0, REQ, "invalid_value", "order_id" },
        { "order_id with a space",
          "{\"order_id\":\"a b\",\"user_id\":\"u\",\"item\":\"i\",\"quantity\":1}",
          0, REQ, "invalid_value", "order_id" },
        { "order_id with a slash",
          "{\"order_id\":\"../x\",\"user_id\":\"u\",\"item\":\"i\",\"quantity\":1}",
          0, REQ, "invalid_value", "order_id" },
        { "order_id not ascii",
          "{\"order_id\":\"caf\xc3\xa9\",\"user_id\":\"u\",\"item\":\"i\","
          "\"quantity\":1}",
          0, REQ, "invalid_value", "order_id" },

        /* control characters */
        { "user_id with an escaped newline",
          "{\"user_id\":\"a\\nb\",\"item\":\"i\",\"quantity\":1}", 0, REQ,
          "invalid_value", "user_id" },
        { "item with an escaped escape char",
          "{\"user_id\":\"u\",\"item\":\"\\u001b[31m\",\"quantity\":1}", 0, REQ,
          "invalid_value", "item" },
        { "item with DEL",
          "{\"user_id\":\"u\",\"item\":\"a\x7f\",\"quantity\":1}", 0, REQ,
          "invalid_value", "item" },
        { "item with a C1 control",
          "{\"user_id\":\"u\",\"item\":\"a\\u0085\",\"quantity\":1}", 0, REQ,
          "invalid_value", "item" },
        { "user_id with an escaped NUL",
          "{\"user_id\":\"a\\u0000b\",\"item\":\"i\",\"quantity\":1}", 0, REQ,
          "invalid_value", "user_id" },
        { "item with a raw tab",
          "{\"user_id\":\"u\",\"item\":\"a\tb\",\"quantity\":1}", 0, REQ,
          "invalid_value", "item" },

        /* invalid UTF-8 */
        { "user_id raw invalid byte",
          "{\"user_id\":\"a\xff\",\"item\":\"i\",\"quantity\":1}", 0, REQ,
          "invalid_value", "user_id" },
        { "item raw overlong slash",
          "{\"user_id\":\"u\",\"item\":\"\xc0\xaf\",\"quantity\":1}", 0, REQ,
          "invalid_value", "item" },
        { "item raw encoded surrogate",
          "{\"user_id\":\"u\",\"item\":\"\xed\xa0\x80\",\"quantity\":1}", 0, REQ,
          "invalid_value", "item" },
        { "item truncated sequence",
          "{\"user_id\":\"u\",\"item\":\"\xe2\x82\",\"quantity\":1}", 0, REQ,
          "invalid_value", "item" },
        { "user_id lone high surrogate escape",
          "{\"user_id\":\"\\ud800\",\"item\":\"i\",\"quantity\":1}", 0, REQ,
          "invalid_value", "user_id" },
        { "item lone low surrogate escape",
          "{\"user_id\":\"u\",\"item\":\"x\\udc00y\",\"quantity\":1}", 0, REQ,
          "invalid_value", "item" },

        /* nesting */
        { "nested 9 deep",
          "{\"a\":[[[[[[[[1]]]]]]]]}", 0, REQ, "invalid_json", "" },
        { "nested 8 deep is parsed (and refused as unknown)",
          "{\"a\":[[[[[[[1]]]]]]]}", 0, REQ, "unknown_field", "a" },
        { "brackets inside strings do not count",
          "{\"user_id\":\"[[[[[[[[[[[[\",\"item\":\"{{{{{{{{{{{\\\"[[[[\","
          "\"quantity\":1}",
          0, REQ, NULL, "" },
        { "unbalanced closers do not go negative",
          "]]]]]]{\"a\":1}", 0, REQ, "invalid_json", "" },

        /* records */
        { "record created_at not a time",
          "{\"order_id\":\"1\",\"user_id\":\"u\",\"item\":\"i\",\"quantity\":2,"
          "\"created_at\":\"yesterday\"}",
          0, REC, "invalid_value", "created_at" },
        { "record created_at not UTC",
          "{\"order_id\":\"1\",\"user_id\":\"u\",\"item\":\"i\",\"quantity\":2,"
          "\"created_at\":\"2026-11-23T07:00:00.123+01:00\"}",
          0, REC, "invalid_value", "created_at" },
        { "record created_at month 13",
          "{\"order_id\":\"1\",\"user_id\":\"u\",\"item\":\"i\",\"quantity\":2,"
          "\"created_at\":\"2026-13-23T07:00:00.123Z\"}",
          0, REC, "invalid_value", "created_at" },
        { "record created_at a number",
          "{\"order_id\":\"1\",\"user_id\":\"u\",\"item\":\"i\",\"quantity\":2,"
          "\"created_at\":1700000000}",
          0, REC, "invalid_type", "created_at" },
        { "record with an unknown field",
          "{\"order_id\":\"1\",\"user_id\":\"u\",\"item\":\"i\",\"quantity\":2,"
          "\"created_at\":\"" VALID_TIME "\",\"x\":1}",
          0, REC, "unknown_field", "x" },
};

/* Returns true when the case behaves as it says, else prints why. */
static bool check_case(const struct decode_case *c)
{
        struct order o;
        struct model_error err;
        size_t len = c->len ? c->len : strlen(c->json);
        int rc = order_decode(c->json, len, c->source, &o, &err);

        if (!c->code) {
                if (rc == 0)
                        return true;
                print_error("%s: expected success, got %s/%s: %s\n", c->name,
                            err.code, err.field, err.message);
                return false;
        }
        if (rc != -1) {
                print_error("%s: expected %s, decoded\n", c->name, c->code);
                return false;
        }
        if (strcmp(err.code, c->code) != 0 ||
            strcmp(err.field, c->field) != 0 || err.message[0] == '\0') {
                print_error("%s: expected %s/%s, got %s/%s (%s)\n", c->name,
                            c->code, c->field, err.code, err.field,
                            err.message);
                return false;
        }
        return true;
}

/* Every case of the table; each failure is printed with its name. */
static void test_decode_table(void **state)
{
        size_t failed = 0;

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                if (!check_case(&cases[i]))
                        failed++;
        assert_int_equal(failed, 0);
}

/* A body that is not NUL-terminated is read for exactly 'len' bytes. */
static void test_decode_not_nul_terminated(void **state)
{
        const char body[] = "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":7}";
        char *copy = malloc(sizeof(body) - 1);
        struct order o;
        struct model_error err;

        assert_non_null(copy);
        memcpy(copy, body, sizeof(body) - 1); /* no NUL: ASan sees overreads */
        assert_int_equal(order_decode(copy, sizeof(body) - 1, REQ, &o, &err),
                         0);
        assert_int_equal(o.quantity, 7);
        /* Cut short, the same bytes are a truncated document. */
        assert_int_equal(order_decode(copy, sizeof(body) - 5, REQ, &o, &err),
                         -1);
        assert_string_equal(err.code, "invalid_json");
        free(copy);
}

/* Decoded values land in the struct: order_id "" when absent. */
static void test_decode_fills_order(void **state)
{
        const char *json = "{\"user_id\":\"user789\",\"item\":\"laptop\","
                           "\"quantity\":2}";
        struct order o;
        struct model_error err;

        assert_int_equal(order_decode(json, strlen(json), REQ, &o, &err), 0);
        assert_string_equal(o.order_id, "");
        assert_string_equal(o.user_id, "user789");
        assert_string_equal(o.item, "laptop");
        assert_int_equal(o.quantity, 2);
        assert_string_equal(o.created_at, "");
}

/* The contract's quantity message, word for word. */
static void test_decode_quantity_message(void **state)
{
        const char *json = "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":0}";
        struct order o;
        struct model_error err;

        assert_int_equal(order_decode(json, strlen(json), REQ, &o, &err), -1);
        assert_string_equal(err.message,
                            "quantity must be an integer from 1 to 1000000");
}

/* Build {"user_id":U,"item":I,"quantity":1} with U and I made of 'n'
 * copies of 'unit'. */
static char *body_with(const char *user_unit, size_t user_n,
                       const char *item_unit, size_t item_n)
{
        size_t cap = 64 + strlen(user_unit) * user_n + strlen(item_unit) * item_n;
        char *b = malloc(cap);
        size_t len = 0;

        assert_non_null(b);
        len += (size_t)sprintf(b + len, "{\"user_id\":\"");
        for (size_t i = 0; i < user_n; i++)
                len += (size_t)sprintf(b + len, "%s", user_unit);
        len += (size_t)sprintf(b + len, "\",\"item\":\"");
        for (size_t i = 0; i < item_n; i++)
                len += (size_t)sprintf(b + len, "%s", item_unit);
        sprintf(b + len, "\",\"quantity\":1}");
        return b;
}

/* Decode such a body and expect 'code'/'field', or success (code NULL)
 * with user_id and item of user_bytes and item_bytes bytes once decoded. */
static void assert_lengths(const char *user_unit, size_t user_n,
                           const char *item_unit, size_t item_n,
                           size_t user_bytes, size_t item_bytes,
                           const char *code, const char *field)
{
        char *b = body_with(user_unit, user_n, item_unit, item_n);
        struct order o;
        struct model_error err;
        int rc = order_decode(b, strlen(b), REQ, &o, &err);

        if (!code) {
                if (rc != 0)
                        fail_msg("user %zux'%s' item %zux'%s': %s/%s", user_n,
                                 user_unit, item_n, item_unit, err.code,
                                 err.field);
                assert_int_equal(strlen(o.user_id), user_bytes);
                assert_int_equal(strlen(o.item), item_bytes);
        } else {
                assert_int_equal(rc, -1);
                assert_string_equal(err.code, code);
                assert_string_equal(err.field, field);
        }
        free(b);
}

/* Lengths count code points: 64/65 for user_id, 128/129 for item, with
 * one-, two-, three- and four-byte characters. */
static void test_decode_length_boundaries(void **state)
{
        static const char *const units[] = {
                "a", "\xc3\xa9" /* é */, "\xe2\x82\xac" /* € */,
                "\xf0\x9f\x98\x80" /* U+1F600 */,
        };

        for (size_t i = 0; i < 4; i++) {
                const char *u = units[i];
                size_t n = strlen(u);

                assert_lengths(u, 1, u, 1, n, n, NULL, "");
                assert_lengths(u, 64, u, 128, 64 * n, 128 * n, NULL, "");
                assert_lengths(u, 65, u, 1, 0, 0, "invalid_value", "user_id");
                assert_lengths(u, 1, u, 129, 0, 0, "invalid_value", "item");
        }
        /* An escaped character counts once too. */
        assert_lengths("\\u00e9", 64, "\\ud83d\\ude00", 128, 128, 512, NULL,
                       "");
        assert_lengths("\\u00e9", 65, "i", 1, 0, 0, "invalid_value",
                       "user_id");
        assert_lengths("u", 1, "\\ud83d\\ude00", 129, 0, 0, "invalid_value",
                       "item");
}

static void test_order_id_boundaries(void **state)
{
        char id[80];
        char body[256];
        struct order o;
        struct model_error err;

        memset(id, 'x', sizeof(id));
        assert_true(order_id_is_valid(id, 64));
        assert_false(order_id_is_valid(id, 65));
        assert_false(order_id_is_valid(id, 0));
        assert_false(order_id_is_valid("a\0b", 3));
        assert_false(order_id_is_valid("a/b", 3));
        assert_true(order_id_is_valid("AZaz09._:-", 10));

        snprintf(body, sizeof(body),
                 "{\"order_id\":\"%.64s\",\"user_id\":\"u\",\"item\":\"i\","
                 "\"quantity\":1}",
                 id);
        assert_int_equal(order_decode(body, strlen(body), REQ, &o, &err), 0);
        assert_int_equal(strlen(o.order_id), 64);
        snprintf(body, sizeof(body),
                 "{\"order_id\":\"%.65s\",\"user_id\":\"u\",\"item\":\"i\","
                 "\"quantity\":1}",
                 id);
        assert_int_equal(order_decode(body, strlen(body), REQ, &o, &err), -1);
        assert_string_equal(err.code, "invalid_value");
        assert_string_equal(err.field, "order_id");
}

/* The size bound: ORDER_MAX_JSON_BYTES is accepted, one more refused. */
static void test_decode_size_bound(void **state)
{
        const char *head = "{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":1}";
        size_t n = ORDER_MAX_JSON_BYTES + 1;
        char *b = malloc(n);
        struct order o;
        struct model_error err;

        assert_non_null(b);
        memset(b, ' ', n);
        memcpy(b, head, strlen(head));
        assert_int_equal(order_decode(b, n - 1, REQ, &o, &err), 0);
        assert_int_equal(order_decode(b, n, REQ, &o, &err), -1);
        assert_string_equal(err.code, "invalid_json");
        assert_string_equal(err.field, "");
        free(b);
}

/* Hostile depth is refused by the pre-scan, well before jansson. */
static void test_decode_hostile_depth(void **state)
{
        size_t n = ORDER_MAX_JSON_BYTES;
        char *b = malloc(n);
        struct order o;
        struct model_error err;

        assert_non_null(b);
        memset(b, '[', n);
        assert_int_equal(order_decode(b, n, REQ, &o, &err), -1);
        assert_string_equal(err.code, "invalid_json");
        memset(b, '{', n);
        assert_int_equal(order_decode(b, n, REQ, &o, &err), -1);
        assert_string_equal(err.code, "invalid_json");
        free(b);
}

/* A field name longer than err.field is cut on a character boundary. */
static void test_decode_long_unknown_field(void **state)
{
        char body[512];
        struct order o;
        struct model_error err;
        size_t len = 0;

        len += (size_t)sprintf(body, "{\"");
        for (int i = 0; i < 40; i++)
                len += (size_t)sprintf(body + len, "\xc3\xa9");
        sprintf(body + len, "\":1}");
        assert_int_equal(order_decode(body, strlen(body), REQ, &o, &err), -1);
        assert_string_equal(err.code, "unknown_field");
        assert_int_equal(strlen(err.field), 62); /* 31 two-byte characters */
}

static void test_decode_null_input(void **state)
{
        struct order o;
        struct model_error err;

        assert_int_equal(order_decode(NULL, 0, REQ, &o, &err), -1);
        assert_string_equal(err.code, "invalid_json");
}

static struct order sample_order(void)
{
        struct order o;

        memset(&o, 0, sizeof(o));
        strcpy(o.order_id, "12345");
        strcpy(o.user_id, "user789");
        strcpy(o.item, "laptop");
        o.quantity = 2;
        return o;
}

/* Encoding is compact and in the contract's key order. */
static void test_encode_order(void **state)
{
        struct order o = sample_order();
        size_t len = 0;
        char *s = order_encode(&o, &len);

        assert_non_null(s);
        assert_string_equal(s, "{\"order_id\":\"12345\",\"user_id\":\"user789\","
                               "\"item\":\"laptop\",\"quantity\":2}");
        assert_int_equal(len, strlen(s));
        free(s);

        strcpy(o.created_at, VALID_TIME);
        s = order_encode(&o, &len);
        assert_non_null(s);
        assert_string_equal(s, "{\"order_id\":\"12345\",\"user_id\":\"user789\","
                               "\"item\":\"laptop\",\"quantity\":2,"
                               "\"created_at\":\"" VALID_TIME "\"}");
        free(s);
}

/* What is encoded decodes to the same order: as a record with created_at,
 * as a request without it; quotes, backslashes and non-ASCII survive. */
static void test_order_round_trip(void **state)
{
        struct order o = sample_order();
        struct order back;
        struct model_error err;
        size_t len;
        char *s;

        strcpy(o.user_id, "\xc3\xa9l\xc3\xa8ve \"quoted\" \\ back");
        strcpy(o.item, "\xf0\x9f\x98\x80 </script> \xe2\x80\xa8");
        o.quantity = ORDER_QUANTITY_MAX;
        strcpy(o.created_at, VALID_TIME);
        s = order_encode(&o, &len);
        assert_non_null(s);
        assert_int_equal(order_decode(s, len, REC, &back, &err), 0);
        assert_memory_equal(&o, &back, sizeof(o));
        free(s);

        memset(o.created_at, 0, sizeof(o.created_at));
        memset(o.order_id, 0, sizeof(o.order_id));
        s = order_encode(&o, &len);
        assert_non_null(s);
        assert_int_equal(order_decode(s, len, REQ, &back, &err), 0);
        assert_memory_equal(&o, &back, sizeof(o));
        free(s);
}

static struct order_status sample_status(enum order_status_kind kind)
{
        struct order_status st;

        memset(&st, 0, sizeof(st));
        st.order = sample_order();
        st.status = kind;
        if (kind == ORDER_STATUS_REJECTED)
                strcpy(st.reason, "quantity_limit");
        strcpy(st.processed_at, VALID_TIME);
        return st;
}

static void test_status_encode(void **state)
{
        struct order_status st = sample_status(ORDER_STATUS_CONFIRMED);
        size_t len;
        char *s = order_status_encode(&st, &len);

        assert_non_null(s);
        assert_string_equal(s, "{\"order_id\":\"12345\",\"user_id\":\"user789\","
                               "\"item\":\"laptop\",\"quantity\":2,"
                               "\"status\":\"confirmed\",\"reason\":null,"
                               "\"processed_at\":\"" VALID_TIME "\"}");
        assert_int_equal(len, strlen(s));
        free(s);

        st = sample_status(ORDER_STATUS_REJECTED);
        s = order_status_encode(&st, &len);
        assert_non_null(s);
        assert_string_equal(s, "{\"order_id\":\"12345\",\"user_id\":\"user789\","
                               "\"item\":\"laptop\",\"quantity\":2,"
                               "\"status\":\"rejected\","
                               "\"reason\":\"quantity_limit\","
                               "\"processed_at\":\"" VALID_TIME "\"}");
        free(s);
}

static void test_status_round_trip(void **state)
{
        enum order_status_kind kinds[] = { ORDER_STATUS_CONFIRMED,
                                           ORDER_STATUS_REJECTED };

        for (size_t i = 0; i < 2; i++) {
                struct order_status st = sample_status(kinds[i]);
                struct order_status back;
                struct model_error err;
                size_t len;
                char *s = order_status_encode(&st, &len);

                assert_non_null(s);
                assert_int_equal(order_status_decode(s, len, &back, &err), 0);
                assert_memory_equal(&st, &back, sizeof(st));
                free(s);
        }
}

static void assert_status_error(const char *json, const char *code,
                                const char *field)
{
        struct order_status st;
        struct model_error err;

        if (order_status_decode(json, strlen(json), &st, &err) != -1)
                fail_msg("decoded: %s", json);
        if (strcmp(err.code, code) != 0 || strcmp(err.field, field) != 0)
                fail_msg("%s: expected %s/%s, got %s/%s (%s)", json, code,
                         field, err.code, err.field, err.message);
}

#define ST_HEAD "{\"order_id\":\"1\",\"user_id\":\"u\",\"item\":\"i\",\"quantity\":2,"
#define ST_TIME ",\"processed_at\":\"" VALID_TIME "\"}"

/* Every field of a status is checked. */
static void test_status_decode_errors(void **state)
{
        struct order_status st;
        struct model_error err;
        const char *ok = ST_HEAD "\"status\":\"rejected\",\"reason\":\"unknown_item\"" ST_TIME;

        assert_int_equal(order_status_decode(ok, strlen(ok), &st, &err), 0);
        assert_int_equal(st.status, ORDER_STATUS_REJECTED);
        assert_string_equal(st.reason, "unknown_item");

        assert_status_error("{\"user_id\":\"u\",\"item\":\"i\",\"quantity\":2,"
                            "\"status\":\"confirmed\",\"reason\":null" ST_TIME,
                            "missing_field", "order_id");
        assert_status_error(ST_HEAD "\"reason\":null" ST_TIME, "missing_field",
                            "status");
        assert_status_error(ST_HEAD "\"status\":\"confirmed\"" ST_TIME,
                            "missing_field", "reason");
        assert_status_error(ST_HEAD "\"status\":\"confirmed\",\"reason\":null}",
                            "missing_field", "processed_at");
        assert_status_error(ST_HEAD "\"status\":\"accepted\",\"reason\":null" ST_TIME,
                            "invalid_value", "status");
        assert_status_error(ST_HEAD "\"status\":\"Confirmed\",\"reason\":null" ST_TIME,
                            "invalid_value", "status");
        assert_status_error(ST_HEAD "\"status\":\"confirmed\\u0000\",\"reason\":null" ST_TIME,
                            "invalid_value", "status");
        assert_status_error(ST_HEAD "\"status\":1,\"reason\":null" ST_TIME,
                            "invalid_type", "status");
        assert_status_error(ST_HEAD "\"status\":\"confirmed\",\"reason\":\"x\"" ST_TIME,
                            "invalid_value", "reason");
        assert_status_error(ST_HEAD "\"status\":\"rejected\",\"reason\":null" ST_TIME,
                            "invalid_type", "reason");
        assert_status_error(ST_HEAD "\"status\":\"rejected\",\"reason\":\"\"" ST_TIME,
                            "invalid_value", "reason");
        assert_status_error(ST_HEAD "\"status\":\"rejected\",\"reason\":\"Bad Reason\"" ST_TIME,
                            "invalid_value", "reason");
        assert_status_error(ST_HEAD "\"status\":\"rejected\",\"reason\":"
                                    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"" ST_TIME,
                            "invalid_value", "reason"); /* 65 */
        assert_status_error(ST_HEAD "\"status\":\"confirmed\",\"reason\":null,"
                                    "\"processed_at\":\"now\"}",
                            "invalid_value", "processed_at");
        assert_status_error(ST_HEAD "\"status\":\"confirmed\",\"reason\":null,"
                                    "\"created_at\":\"" VALID_TIME "\"" ST_TIME,
                            "unknown_field", "created_at");
        assert_status_error(ST_HEAD "\"status\":\"confirmed\",\"status\":\"rejected\","
                                    "\"reason\":null" ST_TIME,
                            "duplicate_field", "status");
        assert_status_error("{\"order_id\":\"1\",\"user_id\":\"u\",\"item\":\"i\","
                            "\"quantity\":0,\"status\":\"confirmed\","
                            "\"reason\":null" ST_TIME,
                            "invalid_value", "quantity");
        assert_status_error("[]", "invalid_type", "");
        assert_status_error("{", "invalid_json", "");

        /* 64 characters is the longest reason. */
        {
                const char *r64 = ST_HEAD "\"status\":\"rejected\",\"reason\":"
                        "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"" ST_TIME;
                assert_int_equal(order_status_decode(r64, strlen(r64), &st, &err), 0);
                assert_int_equal(strlen(st.reason), 64);
        }
}

static void test_status_kind_name(void **state)
{
        assert_string_equal(order_status_kind_name(ORDER_STATUS_CONFIRMED),
                            "confirmed");
        assert_string_equal(order_status_kind_name(ORDER_STATUS_REJECTED),
                            "rejected");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_decode_table),
                cmocka_unit_test(test_decode_not_nul_terminated),
                cmocka_unit_test(test_decode_fills_order),
                cmocka_unit_test(test_decode_quantity_message),
                cmocka_unit_test(test_decode_length_boundaries),
                cmocka_unit_test(test_order_id_boundaries),
                cmocka_unit_test(test_decode_size_bound),
                cmocka_unit_test(test_decode_hostile_depth),
                cmocka_unit_test(test_decode_long_unknown_field),
                cmocka_unit_test(test_decode_null_input),
                cmocka_unit_test(test_encode_order),
                cmocka_unit_test(test_order_round_trip),
                cmocka_unit_test(test_status_encode),
                cmocka_unit_test(test_status_round_trip),
                cmocka_unit_test(test_status_decode_errors),
                cmocka_unit_test(test_status_kind_name),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
