/* Configuration: environment variables (after an optional .env file,
 * dotenv.h).
 *
 * The names, defaults and rules are fixed by CONTRACT.md. Every value is
 * validated the same way (a table of name, bounds, default); a bad one is
 * reported as one line naming the variable, and main() exits with status 2. */
#ifndef SHARED_CONFIG_H
#define SHARED_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_ERRSTR_SIZE 512

/* Exit status of a service whose configuration is bad. */
#define CONFIG_EXIT_BAD 2

enum log_level {
        LOG_LEVEL_DEBUG = 0,
        LOG_LEVEL_INFO,
        LOG_LEVEL_WARN,
        LOG_LEVEL_ERROR,
};

/* LOG_FORMAT: the diagnostic log's form (notification lines are JSON
 * whatever it says). AUTO, when unset: pretty on a terminal, else JSON. */
enum log_format {
        LOG_FORMAT_AUTO = 0,
        LOG_FORMAT_JSON,
        LOG_FORMAT_PRETTY,
};

/* One librdkafka property taken from a KAFKA_<NAME> variable. */
struct kafka_property {
        char *name;  /* librdkafka name: "security.protocol" */
        char *value;
        char *env;   /* the variable it came from, for messages */
};

/* What differs between the services. */
struct config_defaults {
        const char *service_name; /* "order_service", used in messages */
        const char *group_id;     /* default KAFKA_GROUP_ID, NULL if none */
        int http_port;            /* default HTTP_PORT */
};

/* The settings every service shares. Strings are owned by the struct. */
struct config {
        char *bootstrap_servers;   /* KAFKA_BOOTSTRAP_SERVERS */
        char *group_id;            /* KAFKA_GROUP_ID, NULL when no default */
        char *auto_offset_reset;   /* KAFKA_AUTO_OFFSET_RESET */
        char *orders_topic;        /* ORDERS_TOPIC */
        char *notifications_topic; /* NOTIFICATIONS_TOPIC */
        int http_port;             /* HTTP_PORT, 1..65535 */
        enum log_level log_level;  /* LOG_LEVEL */
        enum log_format log_format; /* LOG_FORMAT (log_init() reads it) */
        int topic_partitions;      /* TOPIC_PARTITIONS, 1..10000 */
        int topic_replication_factor; /* TOPIC_REPLICATION_FACTOR, 1..32 */
        /* Every other KAFKA_* variable, already checked against librdkafka:
         * an unknown property or a bad value is a load error. */
        struct kafka_property *kafka_props;
        size_t kafka_props_count;
};

/* Fill 'cfg' from the environment. Returns 0, or -1 with a one-line errstr
 * that names the variable at fault; 'cfg' is then released.
 * Release with config_release(). */
int config_load(struct config *cfg, const struct config_defaults *defaults,
                char *errstr, size_t errstr_size);

/* Free what 'cfg' owns. No operation if 'cfg' is NULL. */
void config_release(struct config *cfg);

/* The value of 'name': the variable, or the content of the file that the
 * variable 'name'_FILE names (the Docker and Kubernetes secrets
 * convention), one trailing newline stripped. *out is a new string (free(3)
 * it), NULL when neither is set or the value is empty. Returns 0, or -1
 * with errstr naming the variable: both set, or the file unreadable or over
 * 64 KiB. No message quotes the file's content. Every reader below, and
 * every KAFKA_* property, goes through it. */
int config_lookup(const char *name, char **out, char *errstr,
                  size_t errstr_size);

/* Typed readers that services use for their own variables, with the same
 * validation and messages as config_load().
 * Each returns 0 and sets *out (to 'def' when the variable is unset or
 * empty), or -1 with errstr naming the variable. */
int config_get_int(const char *name, long long def, long long min,
                   long long max, long long *out, char *errstr,
                   size_t errstr_size);
/* A duration: a whole number and a unit, ms, s, m, h or d ("7d",
 * "90s"; "0" alone is 0), *out in milliseconds. */
int config_get_duration_ms(const char *name, long long def_ms, long long min_ms,
                           long long max_ms, long long *out, char *errstr,
                           size_t errstr_size);
int config_get_bool(const char *name, bool def, bool *out, char *errstr,
                    size_t errstr_size);
/* *out is a new string (free(3) it), or NULL when unset and def is NULL. */
int config_get_string(const char *name, const char *def, size_t max_len,
                      char **out, char *errstr, size_t errstr_size);

/* A topic name (Kafka's rule: 1..249 of [a-zA-Z0-9._-], not "." or
 * ".."); *out as config_get_string()'s. */
int config_get_topic(const char *name, const char *def, char **out,
                     char *errstr, size_t errstr_size);

/* True when the first 'len' bytes of 'name' are one of the shared
 * variables above (KAFKA_BOOTSTRAP_SERVERS is one, KAFKA_ACKS is not). */
bool config_is_shared_var(const char *name, size_t len);

/* Parse "pretty" or "json" (case-insensitive); NULL or "" is
 * LOG_FORMAT_AUTO. Returns 0, or -1 when 's' is anything else. */
int log_format_parse(const char *s, enum log_format *out);

#endif
