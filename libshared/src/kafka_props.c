/* KAFKA_<NAME> variables: every one that is not a shared setting of
 * config.c is a librdkafka property ("KAFKA_SECURITY_PROTOCOL" is
 * "security.protocol"), checked by librdkafka itself on a scratch
 * configuration when the configuration is loaded, so an unknown property
 * or a bad value stops the start with librdkafka's own words. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "shared/config.h"
#include "shared/kafka.h"

extern char **environ;

/* Set errstr to "<what>[: <why>]" and return -1. */
static int props_error(char *errstr, size_t errstr_size, const char *what,
                       const char *why)
{
        snprintf(errstr, errstr_size, "%s%s%s", what, why ? ": " : "",
                 why ? why : "");
        return -1;
}

static int kafka_property_cmp(const void *a, const void *b)
{
        const struct kafka_property *pa = a, *pb = b;

        return strcmp(pa->env, pb->env);
}

/* The variable a KAFKA_* environment entry of 'name_len' bytes stands
 * for, into 'var': KAFKA_X_FILE stands for KAFKA_X (read from the file).
 * Returns false for one to skip: a shared variable, one that X_FILE
 * stands for (counted once, under X), or a KAFKA_X_FILE beside a set
 * KAFKA_X (config_lookup() refuses the pair when X is read). No librdkafka
 * property ends in ".file", so the suffix is free for this. */
static bool props_variable(const char *entry, size_t name_len, char *var,
                           size_t var_size)
{
        const char *v;

        if (name_len == 6 || name_len >= var_size)
                return false;
        memcpy(var, entry, name_len);
        var[name_len] = '\0';
        if (name_len > 11 && strcmp(var + name_len - 5, "_FILE") == 0) {
                var[name_len - 5] = '\0';
                v = getenv(var);
                if (v && *v)
                        return false;
        }
        return name_len > 6 && var[6] != '\0' &&
               !config_is_shared_var(var, strlen(var));
}

/* Add the property of variable 'var' (its value from config_lookup()). */
static int props_add(struct config *cfg, size_t *cap, const char *var,
                     char *errstr, size_t errstr_size)
{
        struct kafka_property *p;
        char *value;

        if (config_lookup(var, &value, errstr, errstr_size) == -1)
                return -1;
        if (!value) /* empty means unset, as everywhere */
                return 0;
        if (cfg->kafka_props_count == *cap) {
                size_t ncap = *cap ? *cap * 2 : 8;
                p = realloc(cfg->kafka_props, ncap * sizeof(*p));
                if (!p) {
                        free(value);
                        return props_error(errstr, errstr_size,
                                           "KAFKA_*: out of memory", NULL);
                }
                cfg->kafka_props = p;
                *cap = ncap;
        }
        p = &cfg->kafka_props[cfg->kafka_props_count++];
        p->env = strdup(var);
        p->name = strdup(var + 6);
        p->value = value; /* now owned by cfg */
        if (!p->env || !p->name)
                return props_error(errstr, errstr_size,
                                   "KAFKA_*: out of memory", NULL);
        for (char *c = p->name; *c; c++)
                *c = *c == '_' ? '.' : (char)tolower((unsigned char)*c);
        return 0;
}

/* Collect every KAFKA_<NAME> variable that is not in the table, sorted by
 * variable so that errors do not depend on the order of environ, and check
 * each one on a scratch librdkafka configuration. */
int kafka_props_load(struct config *cfg, char *errstr, size_t errstr_size)
{
        rd_kafka_conf_t *scratch = NULL;
        char rk_errstr[256], var[256];
        size_t cap = 0;
        int ret = 0;

        for (char **e = environ; e && *e; e++) {
                const char *eq = strchr(*e, '=');

                if (!eq || strncmp(*e, "KAFKA_", 6) != 0 ||
                    !props_variable(*e, (size_t)(eq - *e), var, sizeof(var)))
                        continue;
                ret = props_add(cfg, &cap, var, errstr, errstr_size);
                if (ret == -1)
                        goto out;
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
                        ret = props_error(errstr, errstr_size, p->env, rk_errstr);
                        goto out;
                }
        }
out:
        if (scratch)
                rd_kafka_conf_destroy(scratch);
        return ret;
}
