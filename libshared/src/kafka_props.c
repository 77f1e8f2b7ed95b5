/* KAFKA_<NAME> variables: every one that is not a shared setting of
 * config.c is a librdkafka property ("KAFKA_SECURITY_PROTOCOL" is
 * "security.protocol"), checked by librdkafka itself on a scratch
 * configuration when the configuration is loaded, so an unknown property
 * or a bad value stops the start with librdkafka's own words. */
#include <ctype.h>
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

/* Collect every KAFKA_<NAME> variable that is not in the table, sorted by
 * variable so that errors do not depend on the order of environ, and check
 * each one on a scratch librdkafka configuration. */
int kafka_props_load(struct config *cfg, char *errstr, size_t errstr_size)
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
                if (name_len == 6 || config_is_shared_var(*e, name_len) ||
                    eq[1] == '\0') /* empty means unset, as everywhere */
                        continue;
                if (cfg->kafka_props_count == cap) {
                        size_t ncap = cap ? cap * 2 : 8;
                        p = realloc(cfg->kafka_props, ncap * sizeof(*p));
                        if (!p) {
                                ret = props_error(errstr, errstr_size, "KAFKA_*: out of memory", NULL);
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
                        ret = props_error(errstr, errstr_size, "KAFKA_*: out of memory", NULL);
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
                        ret = props_error(errstr, errstr_size, p->env, rk_errstr);
                        goto out;
                }
        }
out:
        if (scratch)
                rd_kafka_conf_destroy(scratch);
        return ret;
}
