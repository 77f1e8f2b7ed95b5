/* The order and status model: decode with every rule of CONTRACT.md, encode.
 *
 * Decoding runs in three steps:
 *   1. a bounded pre-scan of the raw bytes (size, bracket depth outside
 *      strings), so hostile nesting never reaches jansson's recursion;
 *   2. jansson (duplicate keys refused, \u0000 allowed so that it is refused
 *      below as a control character with the field named);
 *   3. field rules in the contract's order.
 * When jansson fails on something inside a top-level member (a huge
 * integer, a lone surrogate, a duplicate key), a second small scan finds
 * that member's key from jansson's error position, so the client is told
 * which field is at fault rather than a vague parse error. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "shared/order.h"
#include "shared/util.h"

#define QUANTITY_RULE "quantity must be an integer from 1 to 1000000"

/* Which fields a document may carry, in the contract's order. */
enum doc_kind {
        DOC_REQUEST,
        DOC_RECORD,
        DOC_STATUS,
};

static const char *const request_fields[] = {
        "order_id", "user_id", "item", "quantity", NULL,
};
static const char *const record_fields[] = {
        "order_id", "user_id", "item", "quantity", "created_at", NULL,
};
static const char *const status_fields[] = {
        "order_id", "user_id", "item",         "quantity",
        "status",   "reason",  "processed_at", NULL,
};

static const char *const *doc_fields(enum doc_kind kind)
{
        switch (kind) {
        case DOC_REQUEST:
                return request_fields;
        case DOC_RECORD:
                return record_fields;
        case DOC_STATUS:
                return status_fields;
        }
        return request_fields;
}

static bool doc_has_field(enum doc_kind kind, const char *name)
{
        for (const char *const *f = doc_fields(kind); *f; f++)
                if (strcmp(*f, name) == 0)
                        return true;
        return false;
}

/* Copy a field name into err->field: at most 63 bytes, cut on a UTF-8
 * boundary, control characters replaced by '?', so the name is safe to
 * echo in a response or a log line. */
static void error_set_field(struct model_error *err, const char *name,
                            size_t len)
{
        size_t n = len < sizeof(err->field) - 1 ? len : sizeof(err->field) - 1;

        /* Back up off a cut multi-byte sequence (continuation bytes). */
        if (n < len)
                while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
                        n--;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)name[i];
                err->field[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
        }
        err->field[n] = '\0';
}

/* Fill *err and return -1. */
static int model_fail(struct model_error *err, const char *code,
                      const char *field, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int model_fail(struct model_error *err, const char *code,
                      const char *field, const char *fmt, ...)
{
        va_list ap;

        snprintf(err->code, sizeof(err->code), "%s", code);
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
        error_set_field(err, field ? field : "", field ? strlen(field) : 0);
        return -1;
}

/* Step 1: refuse what is too big or too deep before any parser sees it.
 * Counts '{' and '[' outside strings; a string's escapes are skipped so
 * that "\"" does not end it. */
static int prescan(const char *json, size_t len, struct model_error *err)
{
        bool in_string = false;
        size_t depth = 0;
        bool blank = true;

        if (len > ORDER_MAX_JSON_BYTES)
                return model_fail(err, "invalid_json", NULL,
                                  "json larger than %d bytes",
                                  ORDER_MAX_JSON_BYTES);
        for (size_t i = 0; i < len; i++) {
                char c = json[i];

                if (in_string) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_string = false;
                        continue;
                }
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                        blank = false;
                if (c == '"') {
                        in_string = true;
                } else if (c == '{' || c == '[') {
                        if (++depth > ORDER_MAX_JSON_DEPTH)
                                return model_fail(
                                        err, "invalid_json", NULL,
                                        "json nested deeper than %d levels",
                                        ORDER_MAX_JSON_DEPTH);
                } else if ((c == '}' || c == ']') && depth > 0) {
                        depth--;
                }
        }
        if (blank)
                return model_fail(err, "invalid_json", NULL, "empty json");
        return 0;
}

/* Where a byte offset falls in the document, as far as step 2 cares. */
struct locus {
        size_t depth;           /* brackets open at the offset */
        bool in_value;          /* inside the value of a top-level member */
        size_t key_start;       /* the raw key token of that member, quotes */
        size_t key_end;         /*   included; key_end == 0 when none */
        size_t value_start;     /* first byte of that member's value */
        size_t last_str_start;  /* the last string token closed before */
        size_t last_str_end;    /*   the offset, any depth; end 0 if none */
        bool in_string;         /* the offset is inside a string token */
        size_t str_start;       /*   that starts here */
};

/* Scan json[0..pos) and describe the position 'pos'. Used only after
 * jansson failed, on input that passed prescan(). */
static void locate(const char *json, size_t len, size_t pos, struct locus *l)
{
        bool in_string = false;
        bool after_colon = false;
        size_t str_start = 0;

        memset(l, 0, sizeof(*l));
        if (pos > len)
                pos = len;
        for (size_t i = 0; i < pos; i++) {
                char c = json[i];

                if (in_string) {
                        if (c == '\\') {
                                i++;
                        } else if (c == '"') {
                                in_string = false;
                                l->last_str_start = str_start;
                                l->last_str_end = i + 1;
                                if (l->depth == 1 && !after_colon) {
                                        l->key_start = str_start;
                                        l->key_end = i + 1;
                                }
                        }
                        continue;
                }
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
                        continue;
                if (l->depth == 1 && after_colon && l->value_start == 0)
                        l->value_start = i;
                if (c == '"') {
                        in_string = true;
                        str_start = i;
                } else if (c == '{' || c == '[') {
                        l->depth++;
                } else if ((c == '}' || c == ']') && l->depth > 0) {
                        l->depth--;
                } else if (c == ':' && l->depth == 1) {
                        after_colon = true;
                        l->value_start = 0;
                } else if (c == ',' && l->depth == 1) {
                        after_colon = false;
                        l->key_end = 0;
                        l->value_start = 0;
                }
        }
        l->in_string = in_string;
        l->str_start = str_start;
        /* A value begins at depth 1 and may open brackets of its own. */
        l->in_value = after_colon && l->key_end != 0 && l->depth >= 1;
}

/* Decode a raw string token (quotes included) into buf; false when it is
 * not a valid JSON string. */
static bool token_string(const char *json, size_t start, size_t end,
                         char *buf, size_t size)
{
        json_t *s = json_loadb(json + start, end - start, JSON_DECODE_ANY,
                               NULL);
        bool ok = json_is_string(s);

        if (ok)
                snprintf(buf, size, "%s", json_string_value(s));
        json_decref(s);
        return ok;
}

/* True when the number at 'v' (up to 'end') is a real: 1e999, 1.5. */
static bool number_is_real(const char *v, const char *end)
{
        for (const char *p = v; p < end; p++) {
                if (*p == '.' || *p == 'e' || *p == 'E')
                        return true;
                if (*p != '-' && *p != '+' && !(*p >= '0' && *p <= '9'))
                        break;
        }
        return false;
}

/* A failure inside the value of top-level member 'key' (at l->value_start):
 * returns -1 with the field's own error in *err, or 0 when the failure is
 * not one of these (the generic message follows). */
static int member_fail(const char *json, size_t len, enum doc_kind kind,
                       const json_error_t *jerr, const struct locus *l,
                       const char *key, struct model_error *err)
{
        enum json_error_code code = json_error_code(jerr);
        const char *v = json + l->value_start;
        bool is_number = l->value_start != 0 &&
                         (*v == '-' || (*v >= '0' && *v <= '9'));
        /* The failing token is the value's own string: jansson stops
         * inside it (bad byte) or just after it (bad escape). */
        bool is_string = l->value_start != 0 && *v == '"' &&
                         ((l->in_string && l->str_start == l->value_start) ||
                          (l->last_str_start == l->value_start &&
                           l->last_str_end == (size_t)jerr->position));

        if (!doc_has_field(kind, key))
                return model_fail(err, "unknown_field", key, "unknown field");
        /* A huge integer is the right type, out of range; a huge real
         * (1e999) is not an integer at all. */
        if (code == json_error_numeric_overflow && is_number &&
            strcmp(key, "quantity") == 0)
                return model_fail(err,
                                  number_is_real(v, json + len)
                                          ? "invalid_type"
                                          : "invalid_value",
                                  key, QUANTITY_RULE);
        if (code == json_error_numeric_overflow && is_number)
                return model_fail(err, "invalid_type", key,
                                  "%s must be a string", key);
        if (is_string && code == json_error_invalid_syntax &&
            strncmp(jerr->text, "control character", 17) == 0)
                return model_fail(err, "invalid_value", key,
                                  "%s must not contain control characters",
                                  key);
        /* Raw bytes that are not UTF-8, or an escape that is not a
         * character (a lone surrogate). */
        if (is_string && (code == json_error_invalid_utf8 ||
                          strncmp(jerr->text, "invalid Unicode", 15) == 0))
                return model_fail(err, "invalid_value", key,
                                  "%s must be valid utf-8", key);
        return 0;
}

/* A failure of the document as JSON. */
static int syntax_fail(const json_error_t *jerr, struct model_error *err)
{
        switch (json_error_code(jerr)) {
        case json_error_premature_end_of_input:
                return model_fail(err, "invalid_json", NULL,
                                  "truncated json at byte %d", jerr->position);
        case json_error_end_of_input_expected:
                return model_fail(err, "invalid_json", NULL,
                                  "trailing data after json at byte %d",
                                  jerr->position);
        case json_error_invalid_utf8:
                return model_fail(err, "invalid_json", NULL,
                                  "invalid utf-8 in json at byte %d",
                                  jerr->position);
        case json_error_null_byte_in_key:
                return model_fail(err, "invalid_json", NULL,
                                  "nul character in a field name");
        case json_error_out_of_memory:
                return model_fail(err, "invalid_json", NULL,
                                  "out of memory parsing json");
        default:
                return model_fail(err, "invalid_json", NULL,
                                  "malformed json at byte %d", jerr->position);
        }
}

/* Turn a jansson failure into a model error, naming the field at fault
 * when the failure lies inside a top-level member. */
static int parse_fail(const char *json, size_t len, enum doc_kind kind,
                      const json_error_t *jerr, struct model_error *err)
{
        enum json_error_code code = json_error_code(jerr);
        struct locus l;
        char key[256] = "";

        locate(json, len, jerr->position > 0 ? (size_t)jerr->position : 0,
               &l);
        if (code == json_error_duplicate_key) {
                if (l.last_str_end != 0)
                        token_string(json, l.last_str_start, l.last_str_end,
                                     key, sizeof(key));
                return model_fail(err, "duplicate_field", key,
                                  "duplicate field");
        }
        if (l.in_value && l.depth == 1 &&
            token_string(json, l.key_start, l.key_end, key, sizeof(key)) &&
            (code == json_error_numeric_overflow ||
             code == json_error_invalid_utf8 ||
             code == json_error_invalid_syntax) &&
            member_fail(json, len, kind, jerr, &l, key, err) == -1)
                return -1;
        return syntax_fail(jerr, err);
}

/* Steps 1 and 2: bounded parse into a top-level object (a new reference),
 * unknown fields refused. NULL and *err filled on failure. */
static json_t *parse_object(const char *json, size_t len, enum doc_kind kind,
                            struct model_error *err)
{
        json_error_t jerr;
        json_t *root;
        const char *key;
        json_t *value;

        if (!json) {
                model_fail(err, "invalid_json", NULL, "empty json");
                return NULL;
        }
        if (prescan(json, len, err) < 0)
                return NULL;
        root = json_loadb(json, len,
                          JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL |
                                  JSON_DECODE_ANY,
                          &jerr);
        if (!root) {
                parse_fail(json, len, kind, &jerr, err);
                return NULL;
        }
        if (!json_is_object(root)) {
                model_fail(err, "invalid_type", NULL,
                           "json must be an object");
                json_decref(root);
                return NULL;
        }
        json_object_foreach(root, key, value) {
                if (!doc_has_field(kind, key)) {
                        /* Keys cannot hold NUL (jansson refuses them), so
                         * strlen is the whole name. */
                        model_fail(err, "unknown_field", key,
                                   "unknown field");
                        json_decref(root);
                        return NULL;
                }
        }
        return root;
}

/* A text field: a string of 1..max_chars code points, valid UTF-8, no
 * control character (\u0000 included); copied into buf. 'required'
 * false lets it be absent (returns 1 then). */
static int get_text(json_t *root, const char *name, size_t max_chars,
                    bool required, char *buf, size_t size,
                    struct model_error *err)
{
        json_t *v = json_object_get(root, name);
        const char *s;
        size_t len, chars;

        if (!v) {
                if (!required)
                        return 1;
                return model_fail(err, "missing_field", name,
                                  "%s is required", name);
        }
        if (!json_is_string(v))
                return model_fail(err, "invalid_type", name,
                                  "%s must be a string", name);
        s = json_string_value(v);
        len = json_string_length(v);
        if (!utf8_is_valid(s, len, &chars))
                return model_fail(err, "invalid_value", name,
                                  "%s must be valid utf-8", name);
        if (chars < 1 || chars > max_chars)
                return model_fail(err, "invalid_value", name,
                                  "%s must be 1 to %zu characters", name,
                                  max_chars);
        if (utf8_has_control(s, len))
                return model_fail(err, "invalid_value", name,
                                  "%s must not contain control characters",
                                  name);
        if (len >= size) /* cannot happen: 4 bytes a code point at most */
                return model_fail(err, "invalid_value", name,
                                  "%s is too long", name);
        memcpy(buf, s, len);
        buf[len] = '\0';
        return 0;
}

bool order_id_is_valid(const char *s, size_t len)
{
        if (!s || len < 1 || len > ORDER_ID_MAX_CHARS)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
                    !(c >= '0' && c <= '9') && c != '.' && c != '_' &&
                    c != ':' && c != '-')
                        return false;
        }
        return true;
}

/* True when 's' is "YYYY-MM-DDTHH:MM:SS.mmmZ" with plausible ranges: the
 * one form our services write (RFC 3339, UTC, milliseconds). */
static bool time_is_valid(const char *s, size_t len)
{
        static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
        int mon, day, hour, min, sec;

        if (len != sizeof(shape) - 1)
                return false;
        for (size_t i = 0; i < len; i++) {
                if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9')
                                    : s[i] != shape[i])
                        return false;
        }
        mon = (s[5] - '0') * 10 + (s[6] - '0');
        day = (s[8] - '0') * 10 + (s[9] - '0');
        hour = (s[11] - '0') * 10 + (s[12] - '0');
        min = (s[14] - '0') * 10 + (s[15] - '0');
        sec = (s[17] - '0') * 10 + (s[18] - '0');
        return mon >= 1 && mon <= 12 && day >= 1 && day <= 31 && hour <= 23 &&
               min <= 59 && sec <= 60;
}

static int get_order_id(json_t *root, bool required, struct order *out,
                        struct model_error *err)
{
        json_t *v = json_object_get(root, "order_id");

        if (!v) {
                if (!required)
                        return 0;
                return model_fail(err, "missing_field", "order_id",
                                  "order_id is required");
        }
        if (!json_is_string(v))
                return model_fail(err, "invalid_type", "order_id",
                                  "order_id must be a string");
        if (!order_id_is_valid(json_string_value(v), json_string_length(v)))
                return model_fail(err, "invalid_value", "order_id",
                                  "order_id must be 1 to 64 characters of "
                                  "[A-Za-z0-9._:-]");
        memcpy(out->order_id, json_string_value(v), json_string_length(v));
        out->order_id[json_string_length(v)] = '\0';
        return 0;
}

static int get_quantity(json_t *root, struct order *out,
                        struct model_error *err)
{
        json_t *v = json_object_get(root, "quantity");
        json_int_t q;

        if (!v)
                return model_fail(err, "missing_field", "quantity",
                                  "quantity is required");
        /* jansson keeps 2.0 and 1e2 as reals, 2 as an integer. */
        if (!json_is_integer(v))
                return model_fail(err, "invalid_type", "quantity",
                                  QUANTITY_RULE);
        q = json_integer_value(v);
        if (q < ORDER_QUANTITY_MIN || q > ORDER_QUANTITY_MAX)
                return model_fail(err, "invalid_value", "quantity",
                                  QUANTITY_RULE);
        out->quantity = q;
        return 0;
}

static int get_time(json_t *root, const char *name, char *buf,
                    struct model_error *err)
{
        json_t *v = json_object_get(root, name);

        if (!v)
                return model_fail(err, "missing_field", name,
                                  "%s is required", name);
        if (!json_is_string(v))
                return model_fail(err, "invalid_type", name,
                                  "%s must be a string", name);
        if (!time_is_valid(json_string_value(v), json_string_length(v)))
                return model_fail(err, "invalid_value", name,
                                  "%s must be rfc 3339 utc with milliseconds",
                                  name);
        memcpy(buf, json_string_value(v), json_string_length(v) + 1);
        return 0;
}

/* Whether UTF-8 's' is only white space: ASCII blanks and Unicode's
 * White_Space outside C0/C1 (which get_text() refuses already). */
static bool text_is_blank(const char *s)
{
        static const char *const spaces[] = {
                "\xc2\xa0",     "\xe1\x9a\x80", "\xe2\x80\xa8",
                "\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\x9f",
                "\xe3\x80\x80",
        };
        const unsigned char *p = (const unsigned char *)s;

        while (*p) {
                size_t i, n = 0;

                if (*p == ' ') {
                        p++;
                        continue;
                }
                /* U+2000..U+200A */
                if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0x80 &&
                    p[2] <= 0x8a) {
                        p += 3;
                        continue;
                }
                for (i = 0; i < sizeof(spaces) / sizeof(spaces[0]); i++) {
                        n = strlen(spaces[i]);
                        if (strncmp((const char *)p, spaces[i], n) == 0)
                                break;
                }
                if (i == sizeof(spaces) / sizeof(spaces[0]))
                        return false;
                p += n;
        }
        return true;
}

/* A user_id or item of white space only says nothing: refused. */
static int refuse_blank(const char *name, const char *value,
                        struct model_error *err)
{
        if (!text_is_blank(value))
                return 0;
        return model_fail(err, "invalid_value", name,
                          "%s must not be blank", name);
}

/* The fields an order and a status share, in the contract's order. */
static int get_order_fields(json_t *root, bool id_required,
                            struct order *out, struct model_error *err)
{
        if (get_order_id(root, id_required, out, err) < 0 ||
            get_text(root, "user_id", ORDER_USER_MAX_CHARS, true, out->user_id,
                     sizeof(out->user_id), err) < 0 ||
            refuse_blank("user_id", out->user_id, err) < 0 ||
            get_text(root, "item", ORDER_ITEM_MAX_CHARS, true, out->item,
                     sizeof(out->item), err) < 0 ||
            refuse_blank("item", out->item, err) < 0 ||
            get_quantity(root, out, err) < 0)
                return -1;
        return 0;
}

int order_decode(const char *json, size_t len, enum order_source source,
                 struct order *out, struct model_error *err)
{
        bool is_record = source == ORDER_FROM_RECORD;
        json_t *root;
        int ret = -1;

        memset(out, 0, sizeof(*out));
        memset(err, 0, sizeof(*err));
        root = parse_object(json, len, is_record ? DOC_RECORD : DOC_REQUEST,
                            err);
        if (!root)
                return -1;
        if (get_order_fields(root, is_record, out, err) < 0)
                goto out;
        if (is_record && get_time(root, "created_at", out->created_at, err) < 0)
                goto out;
        ret = 0;
out:
        json_decref(root);
        if (ret < 0)
                memset(out, 0, sizeof(*out));
        return ret;
}

static bool reason_is_valid(const char *s, size_t len)
{
        if (len < 1 || len > ORDER_REASON_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') ||
                      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
                        return false;
        return true;
}

static int get_status(json_t *root, struct order_status *out,
                      struct model_error *err)
{
        json_t *st = json_object_get(root, "status");
        json_t *reason = json_object_get(root, "reason");
        const char *s;

        if (!st)
                return model_fail(err, "missing_field", "status",
                                  "status is required");
        if (!json_is_string(st))
                return model_fail(err, "invalid_type", "status",
                                  "status must be a string");
        s = json_string_value(st);
        if (json_string_length(st) == strlen("confirmed") &&
            strcmp(s, "confirmed") == 0)
                out->status = ORDER_STATUS_CONFIRMED;
        else if (json_string_length(st) == strlen("rejected") &&
                 strcmp(s, "rejected") == 0)
                out->status = ORDER_STATUS_REJECTED;
        else
                return model_fail(err, "invalid_value", "status",
                                  "status must be confirmed or rejected");

        if (!reason)
                return model_fail(err, "missing_field", "reason",
                                  "reason is required");
        if (out->status == ORDER_STATUS_CONFIRMED) {
                if (!json_is_null(reason))
                        return model_fail(err, "invalid_value", "reason",
                                          "reason must be null when "
                                          "confirmed");
                out->reason[0] = '\0';
                return 0;
        }
        if (!json_is_string(reason))
                return model_fail(err, "invalid_type", "reason",
                                  "reason must be a string when rejected");
        if (!reason_is_valid(json_string_value(reason),
                             json_string_length(reason)))
                return model_fail(err, "invalid_value", "reason",
                                  "reason must be 1 to 64 characters of "
                                  "[a-z0-9_]");
        memcpy(out->reason, json_string_value(reason),
               json_string_length(reason) + 1);
        return 0;
}

int order_status_decode(const char *json, size_t len, struct order_status *out,
                        struct model_error *err)
{
        json_t *root;
        int ret = -1;

        memset(out, 0, sizeof(*out));
        memset(err, 0, sizeof(*err));
        root = parse_object(json, len, DOC_STATUS, err);
        if (!root)
                return -1;
        if (get_order_fields(root, true, &out->order, err) < 0 ||
            get_status(root, out, err) < 0 ||
            get_time(root, "processed_at", out->processed_at, err) < 0)
                goto out;
        ret = 0;
out:
        json_decref(root);
        if (ret < 0)
                memset(out, 0, sizeof(*out));
        return ret;
}

/* Add the order's fields to 'obj' in the contract's order; order_id only
 * when set. Returns 0, or -1 when out of memory or a string is not UTF-8. */
static int put_order_fields(json_t *obj, const struct order *order)
{
        if (order->order_id[0] &&
            json_object_set_new(obj, "order_id",
                                json_string(order->order_id)) < 0)
                return -1;
        if (json_object_set_new(obj, "user_id", json_string(order->user_id)) <
                    0 ||
            json_object_set_new(obj, "item", json_string(order->item)) < 0 ||
            json_object_set_new(obj, "quantity",
                                json_integer(order->quantity)) < 0)
                return -1;
        return 0;
}

/* Dump 'obj' compactly (jansson keeps insertion order) and drop it. */
static char *dump(json_t *obj, size_t *len_out)
{
        char *s = json_dumps(obj, JSON_COMPACT);

        json_decref(obj);
        if (s && len_out)
                *len_out = strlen(s);
        return s;
}

char *order_encode(const struct order *order, size_t *len_out)
{
        json_t *obj = json_object();

        if (!obj || put_order_fields(obj, order) < 0 ||
            (order->created_at[0] &&
             json_object_set_new(obj, "created_at",
                                 json_string(order->created_at)) < 0)) {
                json_decref(obj);
                return NULL;
        }
        return dump(obj, len_out);
}

char *order_status_encode(const struct order_status *status, size_t *len_out)
{
        json_t *obj = json_object();

        if (!obj || put_order_fields(obj, &status->order) < 0 ||
            json_object_set_new(obj, "status",
                                json_string(order_status_kind_name(
                                        status->status))) < 0 ||
            json_object_set_new(obj, "reason",
                                status->reason[0]
                                        ? json_string(status->reason)
                                        : json_null()) < 0 ||
            json_object_set_new(obj, "processed_at",
                                json_string(status->processed_at)) < 0) {
                json_decref(obj);
                return NULL;
        }
        return dump(obj, len_out);
}

const char *order_status_kind_name(enum order_status_kind kind)
{
        switch (kind) {
        case ORDER_STATUS_CONFIRMED:
                return "confirmed";
        case ORDER_STATUS_REJECTED:
                return "rejected";
        }
        return "unknown";
}
