/* Configuration from the environment, after an optional .env file.
 *
 * Every shared variable is a row of one table (name, kind, bounds, default)
 * and goes through the same checks; every other KAFKA_<NAME> variable is a
 * librdkafka property, checked by librdkafka itself at load time. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <librdkafka/rdkafka.h>

#include "shared/config.h"

extern char **environ;

/* How much of a bad value a message quotes. */
#define QUOTE_MAX 64

/* Set errstr and return -1. */
__attribute__((format(printf, 3, 4))) static int
config_error(char *errstr, size_t errstr_size, const char *fmt, ...)
{
        va_list ap;

        if (errstr && errstr_size > 0) {
                va_start(ap, fmt);
                vsnprintf(errstr, errstr_size, fmt, ap);
                va_end(ap);
        }
        return -1;
}

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

/* The value of 'name', or NULL when it is unset or empty: both mean "use
 * the default". */
static const char *config_value(const char *name)
{
        const char *v = getenv(name);

        return v && *v ? v : NULL;
}

/* Strict decimal: an optional '-' and digits, nothing else (no blanks, no
 * '+', no hex). Returns 0, 1 for not a number, 2 for out of long long. */
static int parse_ll(const char *s, long long *out)
{
        const char *p = s;
        char *end;

        if (*p == '-')
                p++;
        if (!isdigit((unsigned char)*p))
                return 1;
        for (; *p; p++)
                if (!isdigit((unsigned char)*p))
                        return 1;
        errno = 0;
        *out = strtoll(s, &end, 10);
        if (errno == ERANGE)
                return 2;
        return 0;
}

int config_get_int(const char *name, long long def, long long min,
                   long long max, long long *out, char *errstr,
                   size_t errstr_size)
{
        const char *v = config_value(name);
        char q[QUOTE_MAX + 4];
        long long n;
        int rc;

        if (!v) {
                *out = def;
                return 0;
        }
        quote_value(v, q, sizeof(q));
        rc = parse_ll(v, &n);
        if (rc == 1)
                return config_error(errstr, errstr_size,
                                    "%s: '%s' is not an integer", name, q);
        if (rc == 2 || n < min || n > max)
                return config_error(errstr, errstr_size,
                                    "%s: '%s' is out of range %lld..%lld",
                                    name, q, min, max);
        *out = n;
        return 0;
}

int config_get_bool(const char *name, bool def, bool *out, char *errstr,
                    size_t errstr_size)
{
        static const char *const truths[] = {"true", "1", "yes", "on"};
        static const char *const lies[] = {"false", "0", "no", "off"};
        const char *v = config_value(name);
        char q[QUOTE_MAX + 4];

        if (!v) {
                *out = def;
                return 0;
        }
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
        return config_error(errstr, errstr_size,
                            "%s: '%s' is not a boolean (expected true, false, "
                            "1, 0, yes, no, on, off)",
                            name, q);
}

int config_get_string(const char *name, const char *def, size_t max_len,
                      char **out, char *errstr, size_t errstr_size)
{
        const char *v = config_value(name);
        size_t len;

        *out = NULL;
        if (!v)
                v = def;
        if (!v)
                return 0;
        len = strlen(v);
        if (len > max_len)
                return config_error(errstr, errstr_size,
                                    "%s: value is too long (%zu bytes, at "
                                    "most %zu)",
                                    name, len, max_len);
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)v[i];
                if (c < 0x20 || c == 0x7f)
                        return config_error(errstr, errstr_size,
                                            "%s: value contains a control "
                                            "character",
                                            name);
        }
        *out = strdup(v);
        if (!*out)
                return config_error(errstr, errstr_size, "%s: out of memory",
                                    name);
        return 0;
}

static const char *const log_level_names[] = {
        [LOG_LEVEL_DEBUG] = "debug",
        [LOG_LEVEL_INFO] = "info",
        [LOG_LEVEL_WARN] = "warn",
        [LOG_LEVEL_ERROR] = "error",
};

int log_level_parse(const char *s, enum log_level *out)
{
        for (int i = LOG_LEVEL_DEBUG; i <= LOG_LEVEL_ERROR; i++) {
                if (s && strcasecmp(s, log_level_names[i]) == 0) {
                        *out = (enum log_level)i;
                        return 0;
                }
        }
        return -1;
}

const char *log_level_name(enum log_level level)
{
        if ((int)level < LOG_LEVEL_DEBUG || level > LOG_LEVEL_ERROR)
                return "unknown";
        return log_level_names[level];
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

static bool is_shared_var(const char *name, size_t len)
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

/* Read one row into 'cfg'. */
static int config_load_var(struct config *cfg, const struct config_var *var,
                           const struct config_defaults *defaults,
                           char *errstr, size_t errstr_size)
{
        char *field = (char *)cfg + var->offset;
        char q[QUOTE_MAX + 4];
        const char *def = var->def;
        const char *v;
        char *s = NULL;
        long long n;

        switch (var->kind) {
        case KIND_INT: {
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
        case KIND_LOG_LEVEL: {
                enum log_level level;
                v = config_value(var->name);
                if (!v)
                        v = def;
                if (log_level_parse(v, &level) == -1) {
                        quote_value(v, q, sizeof(q));
                        return config_error(errstr, errstr_size,
                                            "%s: unknown log level '%s' "
                                            "(expected debug, info, warn, "
                                            "error)",
                                            var->name, q);
                }
                *(enum log_level *)(void *)field = level;
                return 0;
        }
        case KIND_LOG_FORMAT: {
                enum log_format format;
                v = config_value(var->name);
                if (log_format_parse(v, &format) == -1) {
                        quote_value(v, q, sizeof(q));
                        return config_error(errstr, errstr_size,
                                            "%s: unknown log format '%s' "
                                            "(expected pretty, json)",
                                            var->name, q);
                }
                *(enum log_format *)(void *)field = format;
                return 0;
        }
        case KIND_OFFSET_RESET:
                v = config_value(var->name);
                if (v && strcmp(v, "earliest") != 0 &&
                    strcmp(v, "latest") != 0 && strcmp(v, "error") != 0) {
                        quote_value(v, q, sizeof(q));
                        return config_error(errstr, errstr_size,
                                            "%s: unknown value '%s' "
                                            "(expected earliest, latest, "
                                            "error)",
                                            var->name, q);
                }
                break;
        case KIND_TOPIC:
                v = config_value(var->name);
                if (v && !topic_name_is_valid(v, (size_t)var->max)) {
                        quote_value(v, q, sizeof(q));
                        return config_error(errstr, errstr_size,
                                            "%s: '%s' is not a valid topic "
                                            "name (1 to %lld of a-z, A-Z, "
                                            "0-9, '.', '_', '-')",
                                            var->name, q, var->max);
                }
                break;
        case KIND_STRING:
                break;
        }
        /* The string kinds. */
        if (var->def_from == DEF_GROUP_ID)
                def = defaults->group_id;
        if (config_get_string(var->name, def, (size_t)var->max, &s, errstr,
                              errstr_size) == -1)
                return -1;
        *(char **)(void *)field = s;
        return 0;
}

static int kafka_property_cmp(const void *a, const void *b)
{
        const struct kafka_property *pa = a, *pb = b;

        return strcmp(pa->env, pb->env);
}

/* Collect every KAFKA_<NAME> variable that is not in the table, sorted by
 * variable so that errors do not depend on the order of environ, and check
 * each one on a scratch librdkafka configuration. */
static int config_load_kafka_props(struct config *cfg, char *errstr,
                                   size_t errstr_size)
{
        rd_kafka_conf_t *scratch = NULL;
        char rk_errstr[256];
        size_t cap = 0;
        int ret = 0;

        for (char **e = environ; e && *e; e++) {
                const char *eq = strchr(*e, '=');
                struct kafka_property *p;
                size_t name_len;

                if (!eq || strncmp(*e, "KAFKA_", 6) != 0)
                        continue;
                name_len = (size_t)(eq - *e);
                if (name_len == 6 || is_shared_var(*e, name_len) ||
                    eq[1] == '\0') /* empty means unset, as everywhere */
                        continue;
                if (cfg->kafka_props_count == cap) {
                        size_t ncap = cap ? cap * 2 : 8;
                        p = realloc(cfg->kafka_props, ncap * sizeof(*p));
                        if (!p) {
                                ret = config_error(errstr, errstr_size,
                                                   "KAFKA_*: out of memory");
                                goto out;
                        }
                        cfg->kafka_props = p;
                        cap = ncap;
                }
                p = &cfg->kafka_props[cfg->kafka_props_count];
                p->env = strndup(*e, name_len);
                p->name = strndup(*e + 6, name_len - 6);
                p->value = strdup(eq + 1);
                cfg->kafka_props_count++;
                if (!p->env || !p->name || !p->value) {
                        ret = config_error(errstr, errstr_size,
                                           "KAFKA_*: out of memory");
                        goto out;
                }
                for (char *c = p->name; *c; c++)
                        *c = *c == '_' ? '.' : (char)tolower((unsigned char)*c);
        }
        if (cfg->kafka_props_count == 0)
                goto out;
        qsort(cfg->kafka_props, cfg->kafka_props_count,
              sizeof(cfg->kafka_props[0]), kafka_property_cmp);

        scratch = rd_kafka_conf_new();
        for (size_t i = 0; i < cfg->kafka_props_count; i++) {
                const struct kafka_property *p = &cfg->kafka_props[i];
                if (rd_kafka_conf_set(scratch, p->name, p->value, rk_errstr,
                                      sizeof(rk_errstr)) != RD_KAFKA_CONF_OK) {
                        ret = config_error(errstr, errstr_size, "%s: %s",
                                           p->env, rk_errstr);
                        goto out;
                }
        }
out:
        if (scratch)
                rd_kafka_conf_destroy(scratch);
        return ret;
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
        if (config_load_kafka_props(cfg, errstr, errstr_size) == -1)
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

/* .env files */

struct dotenv_entry {
        char *name;
        char *value;
};

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

static char *skip_blanks(char *p)
{
        while (is_blank(*p))
                p++;
        return p;
}

/* Only blanks or a '#' comment may follow a value. */
static bool is_line_end(const char *p)
{
        while (is_blank(*p))
                p++;
        return *p == '\0' || *p == '#';
}

/* Parse one line in place. Returns 1 with *name and *value pointing into
 * 'line', 0 for a blank or comment line, or -1 with *why. */
static int dotenv_parse_line(char *line, char **name, char **value,
                             const char **why)
{
        char *p = skip_blanks(line), *q, *w;

        if (*p == '\0' || *p == '#')
                return 0;
        if (strncmp(p, "export", 6) == 0 && is_blank(p[6]))
                p = skip_blanks(p + 6);
        *name = p;
        if (!isalpha((unsigned char)*p) && *p != '_') {
                *why = "expected NAME=VALUE";
                return -1;
        }
        while (isalnum((unsigned char)*p) || *p == '_')
                p++;
        q = skip_blanks(p);
        if (*q != '=') {
                *why = "expected NAME=VALUE";
                return -1;
        }
        *p = '\0';
        p = skip_blanks(q + 1);

        if (*p == '\'') { /* literal up to the next quote */
                *value = ++p;
                q = strchr(p, '\'');
                if (!q) {
                        *why = "unterminated single quote";
                        return -1;
                }
                *q = '\0';
                if (!is_line_end(q + 1)) {
                        *why = "unexpected text after the closing quote";
                        return -1;
                }
                return 1;
        }
        if (*p == '"') { /* \n \r \t \" \\ \$ are escapes */
                *value = w = ++p;
                for (;; p++) {
                        if (*p == '\0') {
                                *why = "unterminated double quote";
                                return -1;
                        }
                        if (*p == '"')
                                break;
                        if (*p == '\\' && p[1]) {
                                char e = p[1];
                                if (e == 'n' || e == 'r' || e == 't' ||
                                    e == '"' || e == '\\' || e == '$') {
                                        *w++ = e == 'n'   ? '\n'
                                               : e == 'r' ? '\r'
                                               : e == 't' ? '\t'
                                                          : e;
                                        p++;
                                        continue;
                                }
                        }
                        *w++ = *p;
                }
                *w = '\0';
                if (!is_line_end(p + 1)) {
                        *why = "unexpected text after the closing quote";
                        return -1;
                }
                return 1;
        }
        /* Unquoted: up to a '#' that follows a blank, blanks trimmed. */
        *value = p;
        for (q = p; *q; q++) {
                if (*q == '#' && (q == p || is_blank(q[-1]))) {
                        *q = '\0';
                        break;
                }
        }
        q = p + strlen(p);
        while (q > p && is_blank(q[-1]))
                *--q = '\0';
        return 1;
}

static void dotenv_entries_free(struct dotenv_entry *entries, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(entries[i].name);
                free(entries[i].value);
        }
        free(entries);
}

int config_load_dotenv(const char *path, char *errstr, size_t errstr_size)
{
        struct dotenv_entry *entries = NULL;
        size_t count = 0, cap = 0, lineno = 0, line_cap = 0;
        bool *preset = NULL;
        char *line = NULL;
        ssize_t got;
        FILE *f;
        int ret = 0;

        f = fopen(path, "r");
        if (!f) {
                if (errno == ENOENT)
                        return 0;
                return config_error(errstr, errstr_size,
                                    "cannot open '%s': %s", path,
                                    strerror(errno));
        }
        /* Parse the whole file first: a bad line changes nothing. */
        while ((got = getline(&line, &line_cap, f)) != -1) {
                char *name, *value;
                const char *why = NULL;
                size_t len = (size_t)got;
                int rc;

                lineno++;
                if (len > 0 && line[len - 1] == '\n')
                        line[--len] = '\0';
                if (len > 0 && line[len - 1] == '\r')
                        line[--len] = '\0';
                if (strlen(line) != len) {
                        ret = config_error(errstr, errstr_size,
                                           "%s:%zu: NUL byte in line", path,
                                           lineno);
                        goto out;
                }
                rc = dotenv_parse_line(line, &name, &value, &why);
                if (rc == -1) {
                        ret = config_error(errstr, errstr_size, "%s:%zu: %s",
                                           path, lineno, why);
                        goto out;
                }
                if (rc == 0)
                        continue;
                if (count == cap) {
                        size_t ncap = cap ? cap * 2 : 16;
                        struct dotenv_entry *n =
                                realloc(entries, ncap * sizeof(*n));
                        if (!n) {
                                ret = config_error(errstr, errstr_size,
                                                   "%s: out of memory", path);
                                goto out;
                        }
                        entries = n;
                        cap = ncap;
                }
                entries[count].name = strdup(name);
                entries[count].value = strdup(value);
                count++;
                if (!entries[count - 1].name || !entries[count - 1].value) {
                        ret = config_error(errstr, errstr_size,
                                           "%s: out of memory", path);
                        goto out;
                }
        }
        if (ferror(f)) {
                ret = config_error(errstr, errstr_size, "cannot read '%s': %s",
                                   path, strerror(errno));
                goto out;
        }
        /* The environment wins over the file; within the file, the last
         * line for a name wins. */
        preset = calloc(count ? count : 1, sizeof(*preset));
        if (!preset) {
                ret = config_error(errstr, errstr_size, "%s: out of memory",
                                   path);
                goto out;
        }
        for (size_t i = 0; i < count; i++)
                preset[i] = getenv(entries[i].name) != NULL;
        for (size_t i = 0; i < count; i++) {
                if (preset[i])
                        continue;
                if (setenv(entries[i].name, entries[i].value, 1) == -1) {
                        ret = config_error(errstr, errstr_size,
                                           "%s: cannot set %s: %s", path,
                                           entries[i].name, strerror(errno));
                        goto out;
                }
        }
out:
        free(preset);
        free(line);
        dotenv_entries_free(entries, count);
        fclose(f);
        return ret;
}
