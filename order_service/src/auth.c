/* API keys (auth.h): a small table parsed once at start, a match that
 * compares every key in full whatever the input, and the 401. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "shared/config.h"
#include "shared/http.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/util.h"

#define AUTH_VAR "ORDER_API_KEYS"

static bool name_char_ok(char c)
{
        return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-';
}

/* Visible ASCII but the separators. */
static bool key_char_ok(char c)
{
        return c > 0x20 && c < 0x7f && c != ':' && c != ',';
}

/* One "name:key" entry, 'len' bytes at 's' (blanks around trimmed), into
 * a->keys[a->count]. 'n' numbers it for messages. */
static int auth_parse_entry(struct auth *a, const char *s, size_t len,
                            size_t n, char *errstr, size_t errstr_size)
{
        const char *colon = memchr(s, ':', len);
        struct auth_key *k = &a->keys[a->count];
        size_t name_len, key_len;

        if (!colon)
                return error_set(errstr, errstr_size,
                                 AUTH_VAR ": entry %zu is not name:key", n);
        name_len = (size_t)(colon - s);
        key_len = len - name_len - 1;
        if (name_len < 1 || name_len > AUTH_NAME_MAX)
                return error_set(errstr, errstr_size,
                                 AUTH_VAR ": entry %zu: the name must be 1 "
                                 "to %d characters",
                                 n, AUTH_NAME_MAX);
        for (size_t i = 0; i < name_len; i++)
                if (!name_char_ok(s[i]))
                        return error_set(errstr, errstr_size,
                                         AUTH_VAR ": entry %zu: the name "
                                         "must be of A-Z, a-z, 0-9, '.', "
                                         "'_', '-'",
                                         n);
        if (key_len < AUTH_KEY_MIN || key_len > AUTH_KEY_MAX)
                return error_set(errstr, errstr_size,
                                 AUTH_VAR ": entry %zu (%.*s): the key must "
                                 "be %d to %d characters",
                                 n, (int)name_len, s, AUTH_KEY_MIN,
                                 AUTH_KEY_MAX);
        for (size_t i = 0; i < key_len; i++)
                if (!key_char_ok(colon[1 + i]))
                        return error_set(errstr, errstr_size,
                                         AUTH_VAR ": entry %zu (%.*s): the "
                                         "key must be visible ASCII without "
                                         "':' or ','",
                                         n, (int)name_len, s);
        memcpy(k->name, s, name_len);
        k->name[name_len] = '\0';
        memcpy(k->key, colon + 1, key_len);
        k->key_len = key_len;
        for (size_t i = 0; i < a->count; i++) {
                if (strcmp(a->keys[i].name, k->name) == 0)
                        return error_set(errstr, errstr_size,
                                         AUTH_VAR ": entry %zu: the name "
                                         "'%s' is used twice",
                                         n, k->name);
                if (a->keys[i].key_len == key_len &&
                    memcmp(a->keys[i].key, k->key, key_len) == 0)
                        return error_set(errstr, errstr_size,
                                         AUTH_VAR ": entry %zu (%s): the "
                                         "same key as '%s'",
                                         n, k->name, a->keys[i].name);
        }
        a->count++;
        return 0;
}

int auth_parse(struct auth *a, const char *text, char *errstr,
               size_t errstr_size)
{
        const char *p = text;
        size_t n = 0;

        memset(a, 0, sizeof(*a));
        a->keys = calloc(AUTH_KEYS_MAX, sizeof(*a->keys));
        if (!a->keys)
                return error_set(errstr, errstr_size,
                                 AUTH_VAR ": out of memory");
        while (*p) {
                size_t len = strcspn(p, "\n,");
                const char *b = p, *e = p + len;

                p = *e ? e + 1 : e;
                while (b < e && isspace((unsigned char)*b))
                        b++;
                while (e > b && isspace((unsigned char)e[-1]))
                        e--;
                if (b == e || *b == '#')
                        continue;
                if (++n > AUTH_KEYS_MAX) {
                        error_set(errstr, errstr_size,
                                  AUTH_VAR ": more than %d keys",
                                  AUTH_KEYS_MAX);
                        goto fail;
                }
                if (auth_parse_entry(a, b, (size_t)(e - b), n, errstr,
                                     errstr_size) == -1)
                        goto fail;
        }
        return 0;
fail:
        auth_release(a);
        return -1;
}

int auth_load(struct auth *a, char *errstr, size_t errstr_size)
{
        char *text = NULL;
        int ret;

        memset(a, 0, sizeof(*a));
        if (config_lookup(AUTH_VAR, &text, errstr, errstr_size) == -1)
                return -1;
        if (!text)
                return 0;
        ret = auth_parse(a, text, errstr, errstr_size);
        if (ret == 0 && a->count == 0)
                ret = error_set(errstr, errstr_size,
                                AUTH_VAR ": set, but holds no key");
        /* The keys now live in 'a' only. */
        memset(text, 0, strlen(text));
        free(text);
        if (ret == -1)
                auth_release(a);
        return ret;
}

void auth_metrics(struct auth *a, struct metrics *m)
{
        char labels[32 + AUTH_NAME_MAX];

        for (size_t i = 0; i < a->count; i++) {
                /* Names are [A-Za-z0-9._-]: nothing to escape. */
                snprintf(labels, sizeof(labels), "key=\"%s\"",
                         a->keys[i].name);
                a->keys[i].requests = metrics_counter(
                        m, "order_api_key_requests_total",
                        "Requests let through, by API key name", labels);
        }
        if (a->count == 0)
                return;
        a->refused[0] = metrics_counter(m, "order_api_unauthorized_total",
                                        "Requests refused with 401, by why",
                                        "reason=\"missing\"");
        a->refused[1] = metrics_counter(m, "order_api_unauthorized_total",
                                        "Requests refused with 401, by why",
                                        "reason=\"invalid\"");
}

/* Equal in time that depends on AUTH_KEY_MAX only: both sides padded with
 * zeros, the lengths folded into the difference. */
static bool key_equal(const unsigned char *k, size_t klen,
                      const unsigned char *t, size_t tlen)
{
        unsigned char diff = (unsigned char)(klen ^ tlen);

        for (size_t i = 0; i < AUTH_KEY_MAX; i++) {
                unsigned char x = i < klen ? k[i] : 0;
                unsigned char y = i < tlen ? t[i] : 0;

                diff |= (unsigned char)(x ^ y);
        }
        return diff == 0;
}

/* The token of "Bearer <token>", copied into 'buf' (AUTH_KEY_MAX bytes);
 * its length, or -1 when there is none or it is longer. */
static long bearer_token(const char *v, unsigned char *buf)
{
        size_t len;

        if (!v || strncasecmp(v, "Bearer ", 7) != 0)
                return -1;
        v += 7;
        while (*v == ' ')
                v++;
        len = strlen(v);
        while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
                len--;
        if (len == 0 || len > AUTH_KEY_MAX)
                return -1;
        memset(buf, 0, AUTH_KEY_MAX);
        memcpy(buf, v, len);
        return (long)len;
}

const struct auth_key *auth_match(const struct auth *a,
                                  const char *authorization)
{
        unsigned char token[AUTH_KEY_MAX];
        const struct auth_key *found = NULL;
        long len = bearer_token(authorization, token);

        if (len < 0)
                return NULL;
        /* Every key, in full, whichever matches. */
        for (size_t i = 0; i < a->count; i++)
                if (key_equal(a->keys[i].key, a->keys[i].key_len, token,
                              (size_t)len))
                        found = &a->keys[i];
        memset(token, 0, sizeof(token));
        return found;
}

int auth_require(const struct auth *a, struct mg_connection *conn)
{
        const char *header;
        const struct auth_key *k;
        bool missing;

        if (!auth_is_enabled(a))
                return 0;
        header = mg_get_header(conn, "Authorization");
        k = auth_match(a, header);
        if (k) {
                metric_counter_inc(k->requests);
                if (log_enabled(LOG_LEVEL_DEBUG))
                        log_write(LOG_LEVEL_DEBUG, "request authorized",
                                  (struct log_field[]){
                                          LOG_STR("api_key.name", k->name),
                                  },
                                  1);
                return 0;
        }
        missing = !header || !*header;
        metric_counter_inc(a->refused[missing ? 0 : 1]);
        log_write(LOG_LEVEL_INFO, "request refused: no valid API key",
                  (struct log_field[]){
                          LOG_STR("error.code",
                                  missing ? "missing" : "invalid"),
                  },
                  1);
        return http_reply_error(
                conn, 401, "unauthorized",
                missing ? "send Authorization: Bearer <API key>"
                        : "the API key is not valid",
                NULL,
                missing ? "WWW-Authenticate: Bearer realm=\"order_service\"\r\n"
                        : "WWW-Authenticate: Bearer realm=\"order_service\", "
                          "error=\"invalid_token\"\r\n");
}

void auth_release(struct auth *a)
{
        if (!a)
                return;
        if (a->keys) {
                memset(a->keys, 0, AUTH_KEYS_MAX * sizeof(*a->keys));
                free(a->keys);
        }
        memset(a, 0, sizeof(*a));
}
