/* A small JSON writer into a growable buffer, for the lines we write on hot
 * paths (log lines, ECS notification lines). Strings are escaped so that the
 * output is always one line of valid JSON: control characters as \uXXXX or
 * their short escapes, '"' and '\\' escaped, invalid UTF-8 replaced by
 * U+FFFD, U+2028 and U+2029 escaped.
 *
 * Usage:
 *   struct jsonw w; jsonw_init(&w);
 *   jsonw_object_begin(&w);
 *   jsonw_key_str(&w, "order.id", id);
 *   jsonw_key_int(&w, "quantity", 2);
 *   jsonw_object_end(&w);
 *   ... w.sb.buf, w.sb.len ... ; jsonw_release(&w);
 *
 * An allocation failure sets w.sb.failed; every later call is a no-op. */
#ifndef SHARED_JSONW_H
#define SHARED_JSONW_H

#include <stdbool.h>
#include <stddef.h>

#include "shared/strbuf.h"

struct jsonw {
        struct strbuf sb; /* the NUL-terminated output, owned */
        bool need_comma;
};

void jsonw_init(struct jsonw *w);
void jsonw_release(struct jsonw *w);
/* Empty the buffer, keeping its memory. */
void jsonw_reset(struct jsonw *w);
/* Hand the buffer to the caller (free(3) it) and re-init 'w'. */
char *jsonw_steal(struct jsonw *w, size_t *len_out);

void jsonw_object_begin(struct jsonw *w);
void jsonw_object_end(struct jsonw *w);
/* 'len' bytes of 's', escaped, as a JSON string. */
void jsonw_key_strn(struct jsonw *w, const char *key, const char *s, size_t len);
/* NUL-terminated 's'; NULL is written as null. */
void jsonw_key_str(struct jsonw *w, const char *key, const char *s);
void jsonw_key_int(struct jsonw *w, const char *key, long long v);
void jsonw_key_bool(struct jsonw *w, const char *key, bool v);
void jsonw_key_null(struct jsonw *w, const char *key);
/* Append 'json' as the value of 'key' verbatim: it must be valid JSON. */
void jsonw_key_raw(struct jsonw *w, const char *key, const char *json, size_t len);
/* Append a raw '\n'. */
void jsonw_newline(struct jsonw *w);

/* Append the escaped form of 'len' bytes of 's', without quotes. */
void jsonw_escape(struct jsonw *w, const char *s, size_t len);

#endif
