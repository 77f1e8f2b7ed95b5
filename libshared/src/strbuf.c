/* The growable buffer of the whole tree (strbuf.h): JSON lines, the
 * /metrics page, request bodies and files read whole all grow here. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/strbuf.h"

#define STRBUF_FIRST_CAP 256

void strbuf_init(struct strbuf *sb)
{
        *sb = (struct strbuf)STRBUF_INIT;
}

void strbuf_release(struct strbuf *sb)
{
        if (!sb)
                return;
        free(sb->buf);
        strbuf_init(sb);
}

void strbuf_reset(struct strbuf *sb)
{
        sb->len = 0;
        sb->failed = false;
        if (sb->buf)
                sb->buf[0] = '\0';
}

int strbuf_grow(struct strbuf *sb, size_t more, size_t max_cap)
{
        size_t need, cap;
        char *buf;

        if (sb->failed)
                return -1;
        if (more > SIZE_MAX - sb->len - 1)
                goto fail;
        need = sb->len + more + 1;
        if (need <= sb->cap)
                return 0;
        if (max_cap && need > max_cap)
                goto fail;
        cap = sb->cap ? sb->cap : STRBUF_FIRST_CAP;
        while (cap < need)
                cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        if (max_cap && cap > max_cap)
                cap = max_cap;
        buf = realloc(sb->buf, cap);
        if (!buf)
                goto fail;
        sb->buf = buf;
        sb->cap = cap;
        return 0;
fail:
        sb->failed = true;
        return -1;
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
        strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(struct strbuf *sb, char c)
{
        strbuf_add(sb, &c, 1);
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
                sb->failed = true;
                return;
        }
        if (strbuf_grow(sb, (size_t)n, 0) == -1)
                return;
        va_start(ap, fmt);
        vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        sb->len += (size_t)n;
}

char *strbuf_detach(struct strbuf *sb, size_t *len_out)
{
        char *buf = sb->failed ? NULL : sb->buf;

        if (sb->failed)
                free(sb->buf);
        if (len_out)
                *len_out = buf ? sb->len : 0;
        strbuf_init(sb);
        return buf;
}

int strbuf_read_file(struct strbuf *sb, const char *path, size_t max_bytes,
                     char *errstr, size_t errstr_size)
{
        size_t start = sb->len;
        FILE *f = fopen(path, "rb");
        int ret = -1;

        if (!f) {
                snprintf(errstr, errstr_size, "cannot open '%s': %s", path,
                         strerror(errno));
                return -1;
        }
        for (;;) {
                size_t n, room;

                if (strbuf_grow(sb, 4096, 0) == -1) {
                        snprintf(errstr, errstr_size, "'%s': out of memory",
                                 path);
                        goto out;
                }
                /* One byte past the bound tells "too large" from "full". */
                room = sb->cap - 1 - sb->len;
                if (room > max_bytes + 1 - (sb->len - start))
                        room = max_bytes + 1 - (sb->len - start);
                n = fread(sb->buf + sb->len, 1, room, f);
                sb->len += n;
                sb->buf[sb->len] = '\0';
                if (sb->len - start > max_bytes) {
                        snprintf(errstr, errstr_size,
                                 "'%s': larger than %zu bytes", path,
                                 max_bytes);
                        goto out;
                }
                if (n == 0)
                        break;
        }
        /* A directory opens but does not read: EISDIR lands here. */
        if (ferror(f)) {
                snprintf(errstr, errstr_size, "cannot read '%s': %s", path,
                         strerror(errno ? errno : EIO));
                goto out;
        }
        ret = 0;
out:
        fclose(f);
        return ret;
}
