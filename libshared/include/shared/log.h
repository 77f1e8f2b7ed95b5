/* Logging: one Elastic Common Schema JSON object per line on stderr, through
 * log4c with our own layout ("ecs_json") and appender ("fd_write", one
 * write(2) per line), configured in code: no rc file is read or re-read.
 *
 * Each line carries @timestamp, log.level, message, ecs.version,
 * service.name, event.dataset ("<service>.log"), process.pid and the extra
 * fields a call gives. Every value is escaped: control characters, quotes
 * and invalid UTF-8 can never split or forge a line.
 *
 * Thread-safe after log_init() has returned. */
#ifndef SHARED_LOG_H
#define SHARED_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "shared/config.h"

#define ECS_VERSION "8.11"

enum log_field_type { LOG_FIELD_STR, LOG_FIELD_INT };

/* An extra field of one line. Keys are ECS dotted names ("order.id"). */
struct log_field {
        const char *key;
        enum log_field_type type;
        const char *str; /* LOG_FIELD_STR; NULL is written as null */
        long long num;   /* LOG_FIELD_INT */
};

#define LOG_STR(k, v) ((struct log_field){.key = (k), .type = LOG_FIELD_STR, .str = (v)})
#define LOG_INT(k, v) ((struct log_field){.key = (k), .type = LOG_FIELD_INT, .num = (long long)(v)})

/* Parse "debug", "info", "warn", "error" (case-insensitive).
 * Returns 0, or -1 when 's' is none of them. */
int log_level_parse(const char *s, enum log_level *out);
/* The name of 'level' ("warn"), "unknown" when it is none. */
const char *log_level_name(enum log_level level);

/* Configure log4c for 'service_name' and 'level', writing to 'fd'
 * (STDERR_FILENO in the services), in the form LOG_FORMAT names (see
 * log_format_parse(); unset: log_pretty.h's when 'fd' is a terminal, else
 * JSON). Call once, before threads start.
 * Returns 0, or -1 with errstr. */
int log_init(const char *service_name, enum log_level level, int fd,
             char *errstr, size_t errstr_size);

/* Flush and release log4c. Safe to call when log_init() was not. */
void log_fini(void);

/* True when a line of 'level' would be written. */
int log_enabled(enum log_level level);

/* Write one line: 'message' plus 'nfields' extra fields. */
void log_write(enum log_level level, const char *message,
               const struct log_field *fields, size_t nfields);

/* Write one line whose message is formatted printf-style. The services do
 * not use it (tests/check_functions.py refuses it there): an error's text
 * belongs in "error.message", its subject in fields of its own, so that
 * the same kind of error reads the same way in Kibana wherever it comes
 * from. */
void log_printf(enum log_level level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_printf(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_printf(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)  log_printf(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_printf(LOG_LEVEL_ERROR, __VA_ARGS__)

/* Pure formatter behind the layout, for tests: one ECS line for the given
 * parts, ending in '\n'. 'timestamp' is RFC 3339 (NULL: now).
 * Returns a new string (free(3) it) and its length in *len_out. */
char *log_format_line(const char *service_name, enum log_level level,
                      const char *timestamp, const char *message,
                      const struct log_field *fields, size_t nfields,
                      size_t *len_out);

#endif
