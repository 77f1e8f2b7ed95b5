/* Request framing, header checks, bounded body reading, reply bodies. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "request.h"
#include "shared/strbuf.h"
#include "shared/jsonw.h"

#define BODY_INITIAL_BYTES 4096

static bool is_ows(char c)
{
        return c == ' ' || c == '\t';
}

/* 'value' without leading and trailing spaces or tabs: *len_out bytes
 * from the returned pointer. */
static const char *trim(const char *value, size_t len, size_t *len_out)
{
        while (len > 0 && is_ows(*value)) {
                value++;
                len--;
        }
        while (len > 0 && is_ows(value[len - 1]))
                len--;
        *len_out = len;
        return value;
}

enum body_framing body_framing_get(const char *content_length,
                                   const char *transfer_encoding,
                                   size_t max_body_bytes,
                                   long long *length_out)
{
        unsigned long long n = 0;
        const char *v;
        size_t len;

        *length_out = -1;
        if (transfer_encoding) {
                v = trim(transfer_encoding, strlen(transfer_encoding), &len);
                /* Both headers is how requests are smuggled past proxies
                 * (RFC 9112 6.3). A coding other than plain "chunked"
                 * (gzip, chunked) is not one civetweb can decode. */
                if (content_length || len != 7 ||
                    strncasecmp(v, "chunked", 7) != 0)
                        return BODY_FRAMING_BAD;
                return BODY_FRAMING_CHUNKED;
        }
        if (!content_length)
                return BODY_FRAMING_NO_LENGTH;
        v = trim(content_length, strlen(content_length), &len);
        if (len == 0)
                return BODY_FRAMING_BAD;
        for (size_t i = 0; i < len; i++) {
                if (v[i] < '0' || v[i] > '9')
                        return BODY_FRAMING_BAD;
                /* Past the limit is all we need to know; no overflow. */
                if (n <= max_body_bytes)
                        n = n * 10 + (unsigned long long)(v[i] - '0');
        }
        if (n > max_body_bytes)
                return BODY_FRAMING_TOO_LARGE;
        *length_out = (long long)n;
        return BODY_FRAMING_LENGTH;
}

enum body_read_result body_read(body_read_fn read, void *arg,
                                long long expected, size_t max_body_bytes,
                                char **body_out, size_t *len_out)
{
        struct strbuf sb = STRBUF_INIT;
        enum body_read_result ret = BODY_READ_NO_MEMORY;
        /* A known length is read exactly; an unknown one grows up to one
         * byte past the limit, which is how we see that it is over. */
        size_t limit = expected >= 0 ? (size_t)expected : max_body_bytes + 1;

        *body_out = NULL;
        *len_out = 0;
        if (expected > (long long)max_body_bytes)
                return BODY_READ_TOO_LARGE;
        if (strbuf_grow(&sb, limit < BODY_INITIAL_BYTES ? limit
                                                        : BODY_INITIAL_BYTES,
                        0) == -1)
                goto out;
        for (;;) {
                size_t room = limit - sb.len;
                int n;

                if (room == 0)
                        break;
                if (sb.len + 1 == sb.cap &&
                    strbuf_grow(&sb, room < sb.cap ? room : sb.cap, 0) == -1)
                        goto out;
                if (room > sb.cap - 1 - sb.len)
                        room = sb.cap - 1 - sb.len;
                n = read(arg, sb.buf + sb.len, room);
                if (n < 0) {
                        ret = BODY_READ_SHORT;
                        goto out;
                }
                if (n == 0)
                        break;
                sb.len += (size_t)n;
        }
        if (expected >= 0 && sb.len != (size_t)expected) {
                ret = BODY_READ_SHORT;
                goto out;
        }
        if (sb.len > max_body_bytes) {
                ret = BODY_READ_TOO_LARGE;
                goto out;
        }
        sb.buf[sb.len] = '\0';
        *len_out = sb.len;
        *body_out = strbuf_detach(&sb, NULL); /* now the caller's */
        ret = BODY_READ_OK;
out:
        strbuf_release(&sb);
        return ret;
}

bool content_type_is_json(const char *value)
{
        const char *p, *end;
        size_t len;

        if (!value)
                return false;
        end = value + strlen(value);
        p = strchr(value, ';');
        value = trim(value, (size_t)((p ? p : end) - value), &len);
        if (len != 16 || strncasecmp(value, "application/json", 16) != 0)
                return false;
        /* Parameters: only a charset, and only UTF-8 (RFC 8259 8.1). */
        while (p) {
                const char *param = p + 1, *next = strchr(param, ';');
                const char *v;
                size_t plen, vlen;

                param = trim(param, (size_t)((next ? next : end) - param),
                             &plen);
                p = next;
                if (plen == 0)
                        continue;
                if (plen < 8 || strncasecmp(param, "charset=", 8) != 0)
                        return false;
                v = param + 8;
                vlen = plen - 8;
                if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
                        v++;
                        vlen -= 2;
                }
                if (!(vlen == 5 && strncasecmp(v, "utf-8", 5) == 0) &&
                    !(vlen == 4 && strncasecmp(v, "utf8", 4) == 0))
                        return false;
        }
        return true;
}

char *accepted_json(const char *order_id, const char *topic, int partition,
                    long long offset, size_t *len_out)
{
        struct jsonw w;

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_key_str(&w, "order_id", order_id);
        jsonw_key_str(&w, "status", "accepted");
        jsonw_key_str(&w, "topic", topic);
        jsonw_key_int(&w, "partition", partition);
        jsonw_key_int(&w, "offset", offset);
        jsonw_object_end(&w);
        if (w.sb.failed) {
                jsonw_release(&w);
                return NULL;
        }
        return jsonw_steal(&w, len_out);
}

const char *route_label(const char *path)
{
        static const char *const routes[] = {
                "/orders", "/healthz", "/readyz", "/metrics", "/openapi.json",
                "/events", "/ws", "/",
        };
        size_t n;

        if (path && strncmp(path, "/orders/", 8) == 0) {
                n = strlen(path);
                return n > 15 && strcmp(path + n - 7, "/events") == 0
                               ? "/orders/{id}/events"
                               : "/orders/{id}";
        }
        if (path)
                for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
                        if (strcmp(path, routes[i]) == 0)
                                return routes[i];
        return "other";
}
