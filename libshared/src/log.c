/* ECS JSON lines through log4c, configured in code.
 *
 * log4c 1.2.4 is used for what it is good at (categories, priorities, the
 * layout/appender split) with two types of our own:
 *  - layout "ecs_json": the event as one ECS JSON object, built with jsonw
 *    so every value is escaped, into a thread-local buffer that grows as
 *    needed (log4c's own event buffer would truncate long messages);
 *  - appender "fd_write": the line with write(2) on a file descriptor, under
 *    a mutex, looping on short writes and EINTR; no stdio buffering.
 * The extra fields of a line travel from log_write() to the layout in
 * log4c_location_info_t.loc_data. With LOG_FORMAT=pretty (or unset, on a
 * terminal) the layout writes log_pretty.c's line for people instead.
 *
 * No rc file. log_init() never calls log4c_init(): in 1.2.4 that function
 * only registers the built-in types and then reads /etc/log4crc (or
 * $LOG4C_RCPATH/log4crc), $HOME/.log4crc and ./log4crc, and honours
 * LOG4C_PRIORITY and LOG4C_APPENDER; an rc file there could change the
 * buffer size (truncating messages) or the root category. log4c creates its
 * factories lazily in log4c_category_get() and friends, so everything we
 * need works without it. Re-reading is off as well: Debian's build compiles
 * log4c_reread() to nothing, and log_init() still sets
 * log4c_rc->config.reread = 0 and bufsize = 0 (unbounded) in case a build
 * with rc support, or another user of log4c in the process, loaded one. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <log4c/appender.h>
#include <log4c/category.h>
#include <log4c/layout.h>
#include <log4c/priority.h>
#include <log4c/rc.h>

#include "shared/jsonw.h"
#include "shared/log.h"
#include "shared/log_pretty.h"
#include "shared/util.h"

#define LOG_CATEGORY "pipeline"
#define LOG_LAYOUT "ecs_json"
#define LOG_APPENDER "fd_write"

/* A thread's line buffer is given back after a line longer than this, so a
 * rare huge message does not pin its memory for the life of the thread. */
#define LOG_KEEP_BUFFER_BYTES (64 * 1024)

/* What log_write() hands to the layout through loc_data. */
struct log_event_data {
        enum log_level level;
        const struct log_field *fields;
        size_t nfields;
};

/* Set by log_init() before any thread logs, read-only afterwards. */
static struct {
        log4c_category_t *category; /* NULL: not initialised */
        char *service_name;
        enum log_level level;
        bool is_pretty; /* log_pretty_format() instead of JSON */
        bool is_colour; /* the pretty level in colour: fd is a terminal */
} log_state;

/* The descriptor lines go to; written by log_init()/log_fini() only, read
 * under write_lock. */
static int log_fd = -1;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

/* Each thread's line buffer, freed when the thread exits. */
static pthread_key_t line_key;
static pthread_once_t line_key_once = PTHREAD_ONCE_INIT;

static void line_buffer_free(void *p)
{
        struct jsonw *w = p;

        jsonw_release(w);
        free(w);
}

static void line_key_create(void)
{
        if (pthread_key_create(&line_key, line_buffer_free) != 0)
                abort(); /* only when the process is out of keys */
}

/* This thread's line buffer, created on first use; NULL without memory. */
static struct jsonw *line_buffer(void)
{
        struct jsonw *w;

        pthread_once(&line_key_once, line_key_create);
        w = pthread_getspecific(line_key);
        if (w)
                return w;
        w = malloc(sizeof(*w));
        if (!w)
                return NULL;
        jsonw_init(w);
        if (pthread_setspecific(line_key, w) != 0) {
                free(w);
                return NULL;
        }
        return w;
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

static int log4c_priority(enum log_level level)
{
        switch (level) {
        case LOG_LEVEL_DEBUG: return LOG4C_PRIORITY_DEBUG;
        case LOG_LEVEL_INFO: return LOG4C_PRIORITY_INFO;
        case LOG_LEVEL_WARN: return LOG4C_PRIORITY_WARN;
        case LOG_LEVEL_ERROR: return LOG4C_PRIORITY_ERROR;
        }
        return LOG4C_PRIORITY_ERROR;
}

/* The fields every line starts with; ignored as extra fields. */
static const char *const base_keys[] = {
        "@timestamp",   "log.level",     "message",    "ecs.version",
        "service.name", "event.dataset", "process.pid",
};

static bool is_base_key(const char *key)
{
        for (size_t i = 0; i < sizeof(base_keys) / sizeof(base_keys[0]); i++)
                if (strcmp(key, base_keys[i]) == 0)
                        return true;
        return false;
}

/* Append one ECS line, with its '\n', to 'w'. */
static void format_line(struct jsonw *w, const char *service_name,
                        enum log_level level, const char *timestamp,
                        const char *message, const struct log_field *fields,
                        size_t nfields)
{
        static const char dataset_suffix[] = ".log";
        size_t service_len = strlen(service_name);
        char dataset[256];

        jsonw_object_begin(w);
        jsonw_key_str(w, "@timestamp", timestamp);
        jsonw_key_str(w, "log.level", log_level_name(level));
        jsonw_key_str(w, "message", message ? message : "");
        jsonw_key_str(w, "ecs.version", ECS_VERSION);
        jsonw_key_str(w, "service.name", service_name);
        if (service_len + sizeof(dataset_suffix) <= sizeof(dataset)) {
                memcpy(dataset, service_name, service_len);
                memcpy(dataset + service_len, dataset_suffix,
                       sizeof(dataset_suffix));
                jsonw_key_str(w, "event.dataset", dataset);
        } else {
                jsonw_key_str(w, "event.dataset", "log");
        }
        jsonw_key_int(w, "process.pid", (long long)getpid());
        for (size_t i = 0; i < nfields; i++) {
                const struct log_field *f = &fields[i];
                if (!f->key || is_base_key(f->key))
                        continue; /* no duplicate keys in a line */
                if (f->type == LOG_FIELD_INT)
                        jsonw_key_int(w, f->key, f->num);
                else
                        jsonw_key_str(w, f->key, f->str);
        }
        jsonw_object_end(w);
        jsonw_newline(w);
}

char *log_format_line(const char *service_name, enum log_level level,
                      const char *timestamp, const char *message,
                      const struct log_field *fields, size_t nfields,
                      size_t *len_out)
{
        char now[32];
        struct jsonw w;

        if (!timestamp) {
                time_now_rfc3339(now, sizeof(now));
                timestamp = now;
        }
        jsonw_init(&w);
        format_line(&w, service_name, level, timestamp, message, fields,
                    nfields);
        return jsonw_steal(&w, len_out); /* NULL when w.sb.failed */
}

/* The pretty line into w's buffer, grown to fit: the appender writes
 * w->sb whatever the format. NULL without memory. */
static const char *pretty_line(struct jsonw *w, const char *timestamp,
                               const struct log_event_data *data,
                               const char *message)
{
        struct strbuf *sb = &w->sb;
        size_t len = log_pretty_format(sb->buf, sb->cap, timestamp,
                                       data->level, message, data->fields,
                                       data->nfields, log_state.is_colour);

        if (len >= sb->cap) {
                if (strbuf_grow(sb, len, 0) == -1)
                        return NULL;
                log_pretty_format(sb->buf, sb->cap, timestamp, data->level,
                                  message, data->fields, data->nfields,
                                  log_state.is_colour);
        }
        sb->len = len;
        return sb->buf;
}

/* Layout "ecs_json". Runs on the logging thread; returns that thread's
 * buffer, valid until its next line, or NULL without memory. */
static const char *ecs_json_format(const log4c_layout_t *layout,
                                   const log4c_logging_event_t *event)
{
        const struct log_event_data *data =
                event->evt_loc ? event->evt_loc->loc_data : NULL;
        struct jsonw *w = line_buffer();
        char timestamp[32];

        if (!w || !data)
                return NULL; /* not from log_write(): the appender drops it */
        jsonw_reset(w);
        time_format_rfc3339((int64_t)event->evt_timestamp.tv_sec * 1000 +
                                    event->evt_timestamp.tv_usec / 1000,
                            timestamp, sizeof(timestamp));
        if (log_state.is_pretty)
                return pretty_line(w, timestamp, data, event->evt_msg);
        format_line(w, log_state.service_name, data->level, timestamp,
                    event->evt_msg, data->fields, data->nfields);
        return w->sb.failed ? NULL : w->sb.buf;
}

static const log4c_layout_type_t ecs_json_layout_type = {
        LOG_LAYOUT,
        ecs_json_format,
};

/* How long a line waits for room on a full non-blocking descriptor: a
 * stalled reader must not stall every thread that logs. */
#define LOG_STALL_MS 1000

static int fd_write_open(log4c_appender_t *appender)
{
        return 0;
}

/* Appender "fd_write". Runs on the logging thread, after the layout. One
 * line, one write(2) as a rule; the lock keeps lines from our threads
 * whole even when a write is short or a line exceeds PIPE_BUF. */
static int fd_write_append(log4c_appender_t *appender,
                           const log4c_logging_event_t *event)
{
        struct jsonw *w = line_buffer();
        int rc = -1;

        /* log4c falls back to the raw message when the layout returned
         * NULL: never write that, it is not escaped. */
        if (!w || w->sb.failed || !w->sb.buf || event->evt_rendered_msg != w->sb.buf)
                return -1;
        pthread_mutex_lock(&write_lock);
        if (log_fd >= 0)
                rc = write_all(log_fd, w->sb.buf, w->sb.len, LOG_STALL_MS);
        pthread_mutex_unlock(&write_lock);
        if (w->sb.cap > LOG_KEEP_BUFFER_BYTES)
                jsonw_release(w);
        return rc;
}

static int fd_write_close(log4c_appender_t *appender)
{
        return 0; /* the descriptor is the caller's */
}

static const log4c_appender_type_t fd_write_appender_type = {
        LOG_APPENDER,
        fd_write_open,
        fd_write_append,
        fd_write_close,
};

int log_init(const char *service_name, enum log_level level, int fd,
             char *errstr, size_t errstr_size)
{
        log4c_category_t *category;
        log4c_appender_t *appender;
        log4c_layout_t *layout;
        enum log_format format;
        char *name;

        if (!service_name || !*service_name || fd < 0) {
                snprintf(errstr, errstr_size,
                         "log_init: a service name and a descriptor are "
                         "required");
                return -1;
        }
        name = strdup(service_name);
        if (!name) {
                snprintf(errstr, errstr_size, "log_init: out of memory");
                return -1;
        }
        /* See the top of this file: no log4c_init(), no rc file. */
        log4c_rc->config.reread = 0;
        log4c_rc->config.bufsize = 0;

        log4c_layout_type_set(&ecs_json_layout_type);
        log4c_appender_type_set(&fd_write_appender_type);
        layout = log4c_layout_get(LOG_LAYOUT);
        appender = log4c_appender_get(LOG_APPENDER);
        category = log4c_category_get(LOG_CATEGORY);
        if (!layout || !appender || !category) {
                free(name);
                snprintf(errstr, errstr_size,
                         "log_init: cannot create log4c objects");
                return -1;
        }
        log4c_layout_set_type(layout, &ecs_json_layout_type);
        log4c_appender_set_type(appender, &fd_write_appender_type);
        log4c_appender_set_layout(appender, layout);
        /* Opened here, before threads: log4c opens on first use without a
         * lock otherwise. */
        log4c_appender_open(appender);
        log4c_category_set_appender(category, appender);
        log4c_category_set_additivity(category, 0); /* nothing reaches root */
        log4c_category_set_priority(category, log4c_priority(level));

        pthread_mutex_lock(&write_lock);
        log_fd = fd;
        pthread_mutex_unlock(&write_lock);
        free(log_state.service_name);
        log_state.service_name = name;
        log_state.level = level;
        log_state.is_colour = isatty(fd) == 1;
        /* LOG_FORMAT as config_load() vetted it; unset: by the terminal. */
        if (log_format_parse(getenv("LOG_FORMAT"), &format) == -1)
                format = LOG_FORMAT_AUTO;
        log_state.is_pretty = format == LOG_FORMAT_PRETTY ||
                              (format == LOG_FORMAT_AUTO && log_state.is_colour);
        log_state.category = category;
        return 0;
}

void log_fini(void)
{
        struct jsonw *w;

        if (!log_state.category)
                return;
        /* The log4c objects stay (log4c_fini() only frees what
         * log4c_init() set up); detached, they write nothing. */
        log4c_category_set_appender(log_state.category, NULL);
        log_state.category = NULL;
        pthread_mutex_lock(&write_lock);
        log_fd = -1;
        pthread_mutex_unlock(&write_lock);
        free(log_state.service_name);
        log_state.service_name = NULL;
        pthread_once(&line_key_once, line_key_create);
        w = pthread_getspecific(line_key);
        if (w) {
                pthread_setspecific(line_key, NULL);
                line_buffer_free(w);
        }
}

int log_enabled(enum log_level level)
{
        if (!log_state.category)
                return level >= LOG_LEVEL_INFO;
        return level >= log_state.level;
}

void log_write(enum log_level level, const char *message,
               const struct log_field *fields, size_t nfields)
{
        const struct log_event_data data = {
                .level = level,
                .fields = fields,
                .nfields = nfields,
        };
        const log4c_location_info_t loc =
                LOG4C_LOCATION_INFO_INITIALIZER((void *)&data);

        if (!log_enabled(level))
                return;
        if (!message)
                message = "";
        if (!log_state.category) {
                /* Before log_init() or after log_fini(): nothing is lost,
                 * the line goes straight to stderr. */
                size_t len;
                char *line = log_format_line("unknown", level, NULL, message,
                                             fields, nfields, &len);
                if (line)
                        write_all(STDERR_FILENO, line, len, LOG_STALL_MS);
                free(line);
                return;
        }
        /* "%s": the message is data, never a format. */
        log4c_category_log_locinfo(log_state.category, &loc,
                                   log4c_priority(level), "%s", message);
}

void log_printf(enum log_level level, const char *fmt, ...)
{
        char small[512];
        char *message = small;
        va_list ap;
        int n;

        if (!log_enabled(level))
                return;
        va_start(ap, fmt);
        n = vsnprintf(small, sizeof(small), fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n >= sizeof(small)) {
                message = malloc((size_t)n + 1);
                if (!message)
                        return;
                va_start(ap, fmt);
                vsnprintf(message, (size_t)n + 1, fmt, ap);
                va_end(ap);
        }
        log_write(level, message, NULL, 0);
        if (message != small)
                free(message);
}
