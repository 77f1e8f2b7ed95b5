/* .env files (dotenv.h): the whole file is parsed first, so a bad line
 * changes nothing; then each name not already in the environment is set,
 * the last line for a name winning. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/dotenv.h"
#include "shared/util.h"

struct dotenv_entry {
        char *name;
        char *value;
};

struct dotenv {
        struct dotenv_entry *entries;
        size_t count, cap;
};

/* What one line of a .env file is. */
enum dotenv_line {
        DOTENV_LINE_ENTRY, /* NAME=VALUE: *name and *value point into it */
        DOTENV_LINE_BLANK, /* blank, or a comment */
        DOTENV_LINE_BAD,   /* malformed: *why says how */
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

/* 'p' is just past an opening double quote: unescape in place up to the
 * closing one (\n \r \t \" \\ \$ are escapes). */
static enum dotenv_line parse_double_quoted(char *p, char **value,
                                            const char **why)
{
        char *w;

        *value = w = p;
        for (;; p++) {
                if (*p == '\0') {
                        *why = "unterminated double quote";
                        return DOTENV_LINE_BAD;
                }
                if (*p == '"')
                        break;
                if (*p == '\\' && p[1] && strchr("nrt\"\\$", p[1])) {
                        char e = p[1];

                        *w++ = e == 'n' ? '\n' : e == 'r' ? '\r'
                                                : e == 't' ? '\t' : e;
                        p++;
                        continue;
                }
                *w++ = *p;
        }
        *w = '\0';
        if (!is_line_end(p + 1)) {
                *why = "unexpected text after the closing quote";
                return DOTENV_LINE_BAD;
        }
        return DOTENV_LINE_ENTRY;
}

/* The value that starts at 'p', in place. */
static enum dotenv_line parse_value(char *p, char **value, const char **why)
{
        char *q;

        if (*p == '\'') { /* literal up to the next quote */
                *value = ++p;
                q = strchr(p, '\'');
                if (!q) {
                        *why = "unterminated single quote";
                        return DOTENV_LINE_BAD;
                }
                *q = '\0';
                if (!is_line_end(q + 1)) {
                        *why = "unexpected text after the closing quote";
                        return DOTENV_LINE_BAD;
                }
                return DOTENV_LINE_ENTRY;
        }
        if (*p == '"')
                return parse_double_quoted(p + 1, value, why);
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
        return DOTENV_LINE_ENTRY;
}

/* Parse one line in place. */
static enum dotenv_line dotenv_parse_line(char *line, char **name,
                                          char **value, const char **why)
{
        char *p = skip_blanks(line), *q;

        if (*p == '\0' || *p == '#')
                return DOTENV_LINE_BLANK;
        if (strncmp(p, "export", 6) == 0 && is_blank(p[6]))
                p = skip_blanks(p + 6);
        *name = p;
        if (!isalpha((unsigned char)*p) && *p != '_') {
                *why = "expected NAME=VALUE";
                return DOTENV_LINE_BAD;
        }
        while (isalnum((unsigned char)*p) || *p == '_')
                p++;
        q = skip_blanks(p);
        if (*q != '=') {
                *why = "expected NAME=VALUE";
                return DOTENV_LINE_BAD;
        }
        *p = '\0';
        return parse_value(skip_blanks(q + 1), value, why);
}

static void dotenv_release(struct dotenv *d)
{
        for (size_t i = 0; i < d->count; i++) {
                free(d->entries[i].name);
                free(d->entries[i].value);
        }
        free(d->entries);
}

/* Keep a copy of one entry. Returns 0, or -1 when out of memory. */
static int dotenv_add(struct dotenv *d, const char *name, const char *value)
{
        struct dotenv_entry *e;

        if (d->count == d->cap) {
                size_t ncap = d->cap ? d->cap * 2 : 16;

                e = realloc(d->entries, ncap * sizeof(*e));
                if (!e)
                        return -1;
                d->entries = e;
                d->cap = ncap;
        }
        e = &d->entries[d->count++];
        e->name = strdup(name);
        e->value = strdup(value);
        return e->name && e->value ? 0 : -1;
}

/* Parse every line of 'f' into 'd'. Returns 0, or -1 with errstr. */
static int dotenv_read(struct dotenv *d, FILE *f, const char *path,
                       char *errstr, size_t errstr_size)
{
        size_t lineno = 0, line_cap = 0;
        char *line = NULL;
        ssize_t got;
        int ret = 0;

        while (ret == 0 && (got = getline(&line, &line_cap, f)) != -1) {
                size_t len = (size_t)got;
                const char *why = NULL;
                char *name, *value;

                lineno++;
                if (len > 0 && line[len - 1] == '\n')
                        line[--len] = '\0';
                if (len > 0 && line[len - 1] == '\r')
                        line[--len] = '\0';
                if (strlen(line) != len) {
                        ret = error_set(errstr, errstr_size,
                                           "%s:%zu: NUL byte in line", path,
                                           lineno);
                        break;
                }
                switch (dotenv_parse_line(line, &name, &value, &why)) {
                case DOTENV_LINE_BAD:
                        ret = error_set(errstr, errstr_size, "%s:%zu: %s",
                                           path, lineno, why);
                        break;
                case DOTENV_LINE_ENTRY:
                        if (dotenv_add(d, name, value) == -1)
                                ret = error_set(errstr, errstr_size,
                                                   "%s: out of memory", path);
                        break;
                case DOTENV_LINE_BLANK:
                        break;
                }
        }
        if (ret == 0 && ferror(f))
                ret = error_set(errstr, errstr_size, "cannot read '%s': %s",
                                   path, strerror(errno));
        free(line);
        return ret;
}

/* Set each entry whose name the environment did not have before the file
 * was read. Returns 0, or -1 with errstr. */
static int dotenv_apply(const struct dotenv *d, const char *path,
                        char *errstr, size_t errstr_size)
{
        bool *preset = calloc(d->count ? d->count : 1, sizeof(*preset));
        int ret = 0;

        if (!preset)
                return error_set(errstr, errstr_size, "%s: out of memory",
                                    path);
        /* Decided before any setenv(): the last line for a name wins. */
        for (size_t i = 0; i < d->count; i++)
                preset[i] = getenv(d->entries[i].name) != NULL;
        for (size_t i = 0; i < d->count && ret == 0; i++) {
                if (!preset[i] && setenv(d->entries[i].name,
                                         d->entries[i].value, 1) == -1)
                        ret = error_set(errstr, errstr_size,
                                           "%s: cannot set %s: %s", path,
                                           d->entries[i].name, strerror(errno));
        }
        free(preset);
        return ret;
}

int dotenv_load(const char *path, char *errstr, size_t errstr_size)
{
        struct dotenv d = {0};
        FILE *f;
        int ret;

        f = fopen(path, "r");
        if (!f) {
                if (errno == ENOENT)
                        return 0;
                return error_set(errstr, errstr_size, "cannot open '%s': %s",
                                    path, strerror(errno));
        }
        ret = dotenv_read(&d, f, path, errstr, errstr_size);
        if (ret == 0)
                ret = dotenv_apply(&d, path, errstr, errstr_size);
        dotenv_release(&d);
        fclose(f);
        return ret;
}

int dotenv_check(const char *text, size_t len, char *errstr,
                 size_t errstr_size)
{
        struct dotenv d = {0};
        FILE *f;
        int ret;

        if (len == 0)
                return 0;
        /* fmemopen() reads the bytes as they are, NULs included. */
        f = fmemopen((void *)text, len, "r");
        if (!f)
                return error_set(errstr, errstr_size, "<text>: %s",
                                 strerror(errno));
        ret = dotenv_read(&d, f, "<text>", errstr, errstr_size);
        if (ret == 0)
                ret = (int)d.count;
        dotenv_release(&d);
        fclose(f);
        return ret;
}
