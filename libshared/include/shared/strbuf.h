/* A growable byte buffer, git's strbuf in small: always NUL-terminated,
 * grown by doubling, and an allocation failure is sticky ('failed' is set
 * and every later append is a no-op), so a writer checks once at the end.
 *
 * Usage:
 *   struct strbuf sb = STRBUF_INIT;
 *   strbuf_add(&sb, "abc", 3); strbuf_addf(&sb, "%d", 42);
 *   if (sb.failed) ...; ... sb.buf, sb.len ...; strbuf_release(&sb); */
#ifndef SHARED_STRBUF_H
#define SHARED_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct strbuf {
        char *buf;   /* NUL-terminated once anything was added; owned */
        size_t len;
        size_t cap;
        bool failed; /* an allocation failed: the content is incomplete */
};

#define STRBUF_INIT { NULL, 0, 0, false }

void strbuf_init(struct strbuf *sb);
/* Free the memory and re-init. No operation if NULL. */
void strbuf_release(struct strbuf *sb);
/* Empty the buffer, keeping its memory. */
void strbuf_reset(struct strbuf *sb);
/* Make room for 'more' bytes and the NUL, growing to at most 'max_cap'
 * bytes (0: no limit). Returns 0, or -1 (and sets 'failed') without
 * memory or past 'max_cap'. */
int strbuf_grow(struct strbuf *sb, size_t more, size_t max_cap);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Append 'len' bytes. Inline: JSON and log lines append in small pieces,
 * and the room is nearly always there. */
static inline void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
        /* cap > len whenever cap > 0, so cap - len cannot wrap. */
        if (sb->failed ||
            (len >= sb->cap - sb->len && strbuf_grow(sb, len, 0) == -1))
                return;
        if (len)
                memcpy(sb->buf + sb->len, data, len);
        sb->len += len;
        sb->buf[sb->len] = '\0';
}

/* Append the whole file at 'path', at most 'max_bytes' of it. Returns 0,
 * or -1 with errstr ("cannot open '<path>': ...", "'<path>': larger than
 * N bytes"); the message quotes the path, never the content. */
int strbuf_read_file(struct strbuf *sb, const char *path, size_t max_bytes,
                     char *errstr, size_t errstr_size);
/* Hand the buffer to the caller (free(3) it; NULL when 'failed' or
 * empty-and-never-grown) with its length, and re-init 'sb'. */
char *strbuf_detach(struct strbuf *sb, size_t *len_out);

#endif
