/* Configuration from the environment (a .env file is read before, by
 * dotenv.c).
 *
 * Every shared variable is a row of one table (name, kind, bounds, default)
 * and goes through the same checks; every other KAFKA_<NAME> variable is a
 * librdkafka property, collected and checked by kafka.c at load time. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shared/config.h"
#include "shared/kafka.h"
#include "shared/log.h"
#include "shared/strbuf.h"
#include "shared/util.h"

/* How much of a bad value a message quotes. */
#define QUOTE_MAX 64

/* Copy 'v' for a message: at most QUOTE_MAX bytes (then "..."), control
 * characters, quotes and backslashes as '?', so that the message stays one
 * line whatever the value. */
static void quote_value(const char *v, char *out, size_t size)
{
        size_t i, n = 0;

        for (i = 0; v[i] && i < QUOTE_MAX && n + 1 < size; i++) {
                unsigned char c = (unsigned char)v[i];
                out[n++] = c < 0x20 || c == 0x7f || c == '\'' || c == '\\'
                                   ? '?'
                                   : (char)c;
        }
        if (v[i] && n + 3 < size) {
                memcpy(out + n, "...", 3);
                n += 3;
        }
        out[n] = '\0';
}

/* A file that X_FILE names holds a secret or a short list. */
#define CONFIG_FILE_MAX (64 * 1024)

/* The content of the file that 'file_var' names, one trailing newline
 * stripped, into *out (a new string, NULL when the file is empty). */
static int config_read_file(const char *file_var, const char *path,
                            char **out, char *errstr, size_t errstr_size)
{
        struct strbuf sb = STRBUF_INIT;
        char why[256];

        if (strbuf_read_file(&sb, path, CONFIG_FILE_MAX, why, sizeof(why)) ==
            -1) {
                strbuf_release(&sb);
                return error_set(errstr, errstr_size, "%s: %s", file_var,
                                 why);
        }
        if (sb.len > 0 && sb.buf[sb.len - 1] == '\n')
                sb.buf[--sb.len] = '\0';
        if (sb.len > 0 && memchr(sb.buf, '\0', sb.len)) {
                strbuf_release(&sb);
                return error_set(errstr, errstr_size,
                                 "%s: '%s' contains a NUL byte", file_var,
                                 path);
        }
        if (sb.failed) {
                strbuf_release(&sb);
                return error_set(errstr, errstr_size, "%s: out of memory",
                                 file_var);
        }
        *out = sb.len > 0 ? strbuf_detach(&sb, NULL) : NULL;
        strbuf_release(&sb);
        return 0;
}

int config_lookup(const char *name, char **out, char *errstr,
                  size_t errstr_size)
{
        char file_var[256];
        const char *v = getenv(name), *path;

        *out = NULL;
        if (snprintf(file_var, sizeof(file_var), "%s_FILE", name) >=
            (int)sizeof(file_var))
                return error_set(errstr, errstr_size, "%s: name too long",
                                 name);
        path = getenv(file_var);
        if (v && *v && path && *path)
                return error_set(errstr, errstr_size,
                                 "%s and %s are both set: set one", name,
                                 file_var);
        if (path && *path)
                return config_read_file(file_var, path, out, errstr,
                                        errstr_size);
        if (!v || !*v)
                return 0;
        *out = strdup(v);
        return *out ? 0 : error_set(errstr, errstr_size, "%s: out of memory",
                                    name);
}

enum parse_result {
        PARSE_OK,
        PARSE_NOT_A_NUMBER,
        PARSE_OUT_OF_RANGE, /* of long long */
};

/* Strict decimal: an optional '-' and digits, nothing else (no blanks, no
 * '+', no hex). */
static enum parse_result parse_ll(const char *s, long long *out)
{
        const char *p = s;
        char *end;

        if (*p == '-')
                p++;
        if (!isdigit((unsigned char)*p))
                return PARSE_NOT_A_NUMBER;
        for (; *p; p++)
                if (!isdigit((unsigned char)*p))
                        return PARSE_NOT_A_NUMBER;
        errno = 0;
        *out = strtoll(s, &end, 10);
        if (errno == ERANGE)
                return PARSE_OUT_OF_RANGE;
        return PARSE_OK;
}

/* Check 'v', the value of 'name', as an integer in min..max. */
static int config_parse_int(const char *name, const char *v, long long min,
                            long long max, long long *out, char *errstr,
                            size_t errstr_size)
{
        char q[QUOTE_MAX + 4];
        enum parse_result rc;
        long long n;

        quote_value(v, q, sizeof(q));
        rc = parse_ll(v, &n);
        if (rc == PARSE_NOT_A_NUMBER)
                return error_set(errstr, errstr_size,
                                    "%s: '%s' is not an integer", name, q);
        if (rc == PARSE_OUT_OF_RANGE || n < min || n > max)
                return error_set(errstr, errstr_size,
                                    "%s: '%s' is out of range %lld..%lld",
                                    name, q, min, max);
        *out = n;
        return 0;
}

int config_get_int(const char *name, long long def, long long min,
                   long long max, long long *out, char *errstr,
                   size_t errstr_size)
{
        long long n = def;
        char *v;
        int ret;

        if (config_lookup(name, &v, errstr, errstr_size) == -1)
                return -1;
        ret = v ? config_parse_int(name, v, min, max, &n, errstr,
                                   errstr_size)
                : 0;
        free(v);
        if (ret == 0) /* untouched on error */
                *out = n;
        return ret;
}

/* Check 'v', the value of 'name', as a boolean. */
static int config_parse_bool(const char *name, const char *v, bool *out,
                             char *errstr, size_t errstr_size)
{
        static const char *const truths[] = {"true", "1", "yes", "on"};
        static const char *const lies[] = {"false", "0", "no", "off"};
        char q[QUOTE_MAX + 4];

        for (size_t i = 0; i < sizeof(truths) / sizeof(truths[0]); i++) {
                if (strcasecmp(v, truths[i]) == 0) {
                        *out = true;
                        return 0;
                }
                if (strcasecmp(v, lies[i]) == 0) {
                        *out = false;
                        return 0;
                }
        }
        quote_value(v, q, sizeof(q));
        return error_set(errstr, errstr_size,
                            "%s: '%s' is not a boolean (expected true, false, "
                            "1, 0, yes, no, on, off)",
                            name, q);
}

int config_get_bool(const char *name, bool def, bool *out, char *errstr,
                    size_t errstr_size)
{
        bool b = def;
        char *v;
        int ret;

        if (config_lookup(name, &v, errstr, errstr_size) == -1)
                return -1;
        ret = v ? config_parse_bool(name, v, &b, errstr, errstr_size) : 0;
        free(v);
        if (ret == 0) /* untouched on error */
                *out = b;
        return ret;
}

/* Check 'v', the value of 'name', as a string of at most max_len bytes
 * without control characters. The message never quotes the value: it may
 * be a secret. */
static int config_check_string(const char *name, const char *v,
                               size_t max_len, char *errstr,
                               size_t errstr_size)
{
        size_t len = strlen(v);

        if (len > max_len)
                return error_set(errstr, errstr_size,
                                    "%s: value is too long (%zu bytes, at "
                                    "most %zu)",
                                    name, len, max_len);
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)v[i];
                if (c < 0x20 || c == 0x7f)
                        return error_set(errstr, errstr_size,
                                            "%s: value contains a control "
                                            "character",
                                            name);
        }
        return 0;
}

int config_get_string(const char *name, const char *def, size_t max_len,
                      char **out, char *errstr, size_t errstr_size)
{
        if (config_lookup(name, out, errstr, errstr_size) == -1)
                return -1;
        if (!*out && def && !(*out = strdup(def)))
                return error_set(errstr, errstr_size, "%s: out of memory",
                                    name);
        if (*out && config_check_string(name, *out, max_len, errstr,
                                        errstr_size) == -1) {
                free(*out);
                *out = NULL;
                return -1;
        }
        return 0;
}

/* A duration's unit and its length in milliseconds. */
static const struct {
        const char *suffix;
        long long ms;
} duration_units[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
};

/* Digits then one of duration_units: *out in ms. Returns 0, or -1 when
 * 's' is not such a duration or overflows. "0" alone is 0 in any unit. */
static int parse_duration_ms(const char *s, long long *out)
{
        const char *p = s;
        long long n = 0;

        if (!isdigit((unsigned char)*p))
                return -1;
        for (; isdigit((unsigned char)*p); p++) {
                if (n > (0x7fffffffffffffffLL - 9) / 10)
                        return -1;
                n = n * 10 + (*p - '0');
        }
        if (!*p && n == 0) {
                *out = 0;
                return 0;
        }
        for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]);
             i++) {
                if (strcmp(p, duration_units[i].suffix) != 0)
                        continue;
                if (n > 0x7fffffffffffffffLL / duration_units[i].ms)
                        return -1;
                *out = n * duration_units[i].ms;
                return 0;
        }
        return -1;
}

int config_get_duration_ms(const char *name, long long def_ms, long long min_ms,
                           long long max_ms, long long *out, char *errstr,
                           size_t errstr_size)
{
        char q[QUOTE_MAX + 4];
        long long ms = def_ms;
        int ret = 0;
        char *v;

        if (config_lookup(name, &v, errstr, errstr_size) == -1)
                return -1;
        if (v)
                quote_value(v, q, sizeof(q));
        if (v && parse_duration_ms(v, &ms) == -1)
                ret = error_set(errstr, errstr_size,
                                "%s: '%s' is not a duration (a whole number "
                                "and ms, s, m, h or d, e.g. 7d)",
                                name, q);
        else if (v && (ms < min_ms || ms > max_ms))
                ret = error_set(errstr, errstr_size,
                                "%s: '%s' is out of range %lldms..%lldms",
                                name, q, min_ms, max_ms);
        free(v);
        if (ret == 0) /* untouched on error */
                *out = ms;
        return ret;
}

int log_format_parse(const char *s, enum log_format *out)
{
        if (!s || !*s)
                *out = LOG_FORMAT_AUTO;
        else if (strcasecmp(s, "pretty") == 0)
                *out = LOG_FORMAT_PRETTY;
        else if (strcasecmp(s, "json") == 0)
                *out = LOG_FORMAT_JSON;
        else
                return -1;
        return 0;
}

/* The shared variables: one row each, all checked the same way. */
enum config_kind {
        KIND_STRING,       /* 1..max bytes, no control characters */
        KIND_TOPIC,        /* a valid Kafka topic name */
        KIND_INT,          /* min..max */
        KIND_LOG_LEVEL,    /* debug, info, warn, error */
        KIND_LOG_FORMAT,   /* pretty, json; unset: by the terminal */
        KIND_OFFSET_RESET, /* earliest, latest, error */
};

/* Where a default comes from when it differs between services. */
enum config_default_from { DEF_FIXED, DEF_GROUP_ID, DEF_HTTP_PORT };

struct config_var {
        const char *name;
        enum config_kind kind;
        long long min, max; /* KIND_INT: value; strings: max is bytes */
        const char *def;    /* DEF_FIXED: default, parsed like a value */
        enum config_default_from def_from;
        size_t offset;      /* of the field in struct config */
};

#define FIELD(f) offsetof(struct config, f)

static const struct config_var config_vars[] = {
        {"KAFKA_BOOTSTRAP_SERVERS", KIND_STRING, 1, 4096, "localhost:9092",
         DEF_FIXED, FIELD(bootstrap_servers)},
        {"KAFKA_GROUP_ID", KIND_STRING, 1, 255, NULL, DEF_GROUP_ID,
         FIELD(group_id)},
        {"KAFKA_AUTO_OFFSET_RESET", KIND_OFFSET_RESET, 0, 8, "earliest",
         DEF_FIXED, FIELD(auto_offset_reset)},
        /* Kafka allows 249 characters; the services add ".dlq". */
        {"ORDERS_TOPIC", KIND_TOPIC, 1, 245, "orders", DEF_FIXED,
         FIELD(orders_topic)},
        {"NOTIFICATIONS_TOPIC", KIND_TOPIC, 1, 245, "notifications",
         DEF_FIXED, FIELD(notifications_topic)},
        {"HTTP_PORT", KIND_INT, 1, 65535, NULL, DEF_HTTP_PORT,
         FIELD(http_port)},
        {"LOG_LEVEL", KIND_LOG_LEVEL, 0, 0, "info", DEF_FIXED,
         FIELD(log_level)},
        {"LOG_FORMAT", KIND_LOG_FORMAT, 0, 0, NULL, DEF_FIXED,
         FIELD(log_format)},
        {"TOPIC_PARTITIONS", KIND_INT, 1, 10000, "6", DEF_FIXED,
         FIELD(topic_partitions)},
        {"TOPIC_REPLICATION_FACTOR", KIND_INT, 1, 32, "1", DEF_FIXED,
         FIELD(topic_replication_factor)},
};

bool config_is_shared_var(const char *name, size_t len)
{
        for (size_t i = 0; i < sizeof(config_vars) / sizeof(config_vars[0]);
             i++)
                if (strlen(config_vars[i].name) == len &&
                    strncmp(config_vars[i].name, name, len) == 0)
                        return true;
        return false;
}

/* Kafka's rule: 1..249 of [a-zA-Z0-9._-], and neither "." nor "..". */
static bool topic_name_is_valid(const char *s, size_t max_len)
{
        size_t len = strlen(s);

        if (len < 1 || len > max_len || strcmp(s, ".") == 0 ||
            strcmp(s, "..") == 0)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!isalnum((unsigned char)s[i]) && s[i] != '.' &&
                    s[i] != '_' && s[i] != '-')
                        return false;
        return true;
}

int config_get_topic(const char *name, const char *def, char **out,
                     char *errstr, size_t errstr_size)
{
        char q[QUOTE_MAX + 4];

        if (config_get_string(name, def, 249, out, errstr, errstr_size) == -1)
                return -1;
        if (*out && !topic_name_is_valid(*out, 249)) {
                quote_value(*out, q, sizeof(q));
                free(*out);
                *out = NULL;
                return error_set(errstr, errstr_size,
                                 "%s: '%s' is not a valid topic name (1 to "
                                 "249 of a-z, A-Z, 0-9, '.', '_', '-')",
                                 name, q);
        }
        return 0;
}

/* Check a string row's value 's' for its kind (a log level or format is
 * parsed into 'field'). */
static int config_check_kind(const struct config_var *var, const char *s,
                             char *field, char *errstr, size_t errstr_size)
{
        char q[QUOTE_MAX + 4];
        enum log_level level;
        enum log_format format;

        quote_value(s ? s : "", q, sizeof(q));
        switch (var->kind) {
        case KIND_LOG_LEVEL:
                if (log_level_parse(s, &level) == -1)
                        return error_set(errstr, errstr_size,
                                            "%s: unknown log level '%s' "
                                            "(expected debug, info, warn, "
                                            "error)",
                                            var->name, q);
                *(enum log_level *)(void *)field = level;
                return 0;
        case KIND_LOG_FORMAT:
                if (log_format_parse(s, &format) == -1)
                        return error_set(errstr, errstr_size,
                                         "%s: unknown log format '%s' "
                                         "(expected pretty, json)",
                                         var->name, q);
                *(enum log_format *)(void *)field = format;
                return 0;
        case KIND_OFFSET_RESET:
                if (s && strcmp(s, "earliest") != 0 &&
                    strcmp(s, "latest") != 0 && strcmp(s, "error") != 0)
                        return error_set(errstr, errstr_size,
                                            "%s: unknown value '%s' "
                                            "(expected earliest, latest, "
                                            "error)",
                                            var->name, q);
                return 0;
        case KIND_TOPIC:
                if (s && !topic_name_is_valid(s, (size_t)var->max))
                        return error_set(errstr, errstr_size,
                                            "%s: '%s' is not a valid topic "
                                            "name (1 to %lld of a-z, A-Z, "
                                            "0-9, '.', '_', '-')",
                                            var->name, q, var->max);
                return 0;
        default:
                return 0;
        }
}

/* Read one row into 'cfg'. */
static int config_load_var(struct config *cfg, const struct config_var *var,
                           const struct config_defaults *defaults,
                           char *errstr, size_t errstr_size)
{
        char *field = (char *)cfg + var->offset;
        const char *def = var->def;
        char *s = NULL;
        long long n;

        if (var->kind == KIND_INT) {
                long long def_n = 0;
                if (var->def_from == DEF_HTTP_PORT)
                        def_n = defaults->http_port;
                else
                        parse_ll(def, &def_n);
                if (config_get_int(var->name, def_n, var->min, var->max, &n,
                                   errstr, errstr_size) == -1)
                        return -1;
                *(int *)(void *)field = (int)n;
                return 0;
        }
        if (var->def_from == DEF_GROUP_ID)
                def = defaults->group_id;
        if (var->kind == KIND_STRING)
                return config_get_string(var->name, def, (size_t)var->max,
                                         (char **)(void *)field, errstr,
                                         errstr_size);
        /* The other kinds check every byte themselves. */
        if (config_lookup(var->name, &s, errstr, errstr_size) == -1)
                return -1;
        if (!s && def && !(s = strdup(def)))
                return error_set(errstr, errstr_size, "%s: out of memory",
                                 var->name);
        if (config_check_kind(var, s, field, errstr, errstr_size) == -1) {
                free(s);
                return -1;
        }
        if (var->kind == KIND_LOG_LEVEL || var->kind == KIND_LOG_FORMAT)
                free(s);
        else
                *(char **)(void *)field = s;
        return 0;
}

int config_load(struct config *cfg, const struct config_defaults *defaults,
                char *errstr, size_t errstr_size)
{
        memset(cfg, 0, sizeof(*cfg));
        for (size_t i = 0; i < sizeof(config_vars) / sizeof(config_vars[0]);
             i++) {
                if (config_load_var(cfg, &config_vars[i], defaults, errstr,
                                    errstr_size) == -1)
                        goto fail;
        }
        if (kafka_props_load(cfg, errstr, errstr_size) == -1)
                goto fail;
        return 0;
fail:
        config_release(cfg);
        return -1;
}

void config_release(struct config *cfg)
{
        if (!cfg)
                return;
        free(cfg->bootstrap_servers);
        free(cfg->group_id);
        free(cfg->auto_offset_reset);
        free(cfg->orders_topic);
        free(cfg->notifications_topic);
        for (size_t i = 0; i < cfg->kafka_props_count; i++) {
                free(cfg->kafka_props[i].name);
                free(cfg->kafka_props[i].value);
                free(cfg->kafka_props[i].env);
        }
        free(cfg->kafka_props);
        memset(cfg, 0, sizeof(*cfg));
}
