/* A small JSON writer: one line of valid JSON, whatever the input bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/jsonw.h"
#include "shared/strbuf.h"

/* U+FFFD REPLACEMENT CHARACTER, in UTF-8. */
static const char utf8_replacement[] = "\xef\xbf\xbd";

void jsonw_init(struct jsonw *w)
{
        memset(w, 0, sizeof(*w));
        strbuf_init(&w->sb);
}

void jsonw_release(struct jsonw *w)
{
        if (!w)
                return;
        strbuf_release(&w->sb);
        jsonw_init(w);
}

void jsonw_reset(struct jsonw *w)
{
        strbuf_reset(&w->sb);
        w->need_comma = false;
}

char *jsonw_steal(struct jsonw *w, size_t *len_out)
{
        char *buf;

        if (!w->sb.failed && !w->sb.buf)
                strbuf_add(&w->sb, "", 0); /* an empty string, not NULL */
        buf = strbuf_detach(&w->sb, len_out);
        jsonw_init(w); /* the buffer is now the caller's */
        return buf;
}

static bool jsonw_reserve(struct jsonw *w, size_t more)
{
        return strbuf_grow(&w->sb, more, 0) == 0;
}

static void jsonw_append(struct jsonw *w, const char *s, size_t len)
{
        strbuf_add(&w->sb, s, len);
}

static void jsonw_putc(struct jsonw *w, char c)
{
        strbuf_add(&w->sb, &c, 1);
}

/* Length of the valid UTF-8 sequence at s[0..len) (lead byte >= 0x80), or
 * 0 when it is not valid; then *skip is the length of its maximal valid
 * prefix (at least 1), which is replaced by one U+FFFD, as Unicode
 * recommends ("substitution of maximal subparts"). */
static size_t utf8_sequence(const unsigned char *s, size_t len, size_t *skip)
{
        unsigned char c = s[0];
        unsigned char lo = 0x80, hi = 0xbf; /* bounds of the second byte */
        size_t n, i;

        *skip = 1;
        if (c >= 0xc2 && c <= 0xdf) {
                n = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
                n = 3;
                if (c == 0xe0)
                        lo = 0xa0; /* overlong */
                else if (c == 0xed)
                        hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
                n = 4;
                if (c == 0xf0)
                        lo = 0x90; /* overlong */
                else if (c == 0xf4)
                        hi = 0x8f; /* above U+10FFFF */
        } else {
                return 0; /* continuation byte, C0, C1, F5..FF */
        }
        for (i = 1; i < n; i++) {
                unsigned char min = i == 1 ? lo : 0x80;
                unsigned char max = i == 1 ? hi : 0xbf;
                if (i >= len || s[i] < min || s[i] > max) {
                        *skip = i;
                        return 0;
                }
        }
        return n;
}

static void jsonw_escape_u(struct jsonw *w, unsigned cp)
{
        char esc[8];

        snprintf(esc, sizeof(esc), "\\u%04x", cp & 0xffffu);
        jsonw_append(w, esc, 6);
}

void jsonw_escape(struct jsonw *w, const char *s, size_t len)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0, run = 0; /* run: bytes from p+run_start copied as is */
        size_t run_start = 0;

        if (!jsonw_reserve(w, len + 2))
                return;
        while (i < len) {
                unsigned char c = p[i];
                const char *short_esc = NULL;
                size_t n = 1, skip = 1;

                if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                        i++;
                        run++;
                        continue;
                }
                if (c >= 0x80) {
                        n = utf8_sequence(p + i, len - i, &skip);
                        /* U+2028/U+2029 end lines in JavaScript; C1
                         * controls (U+0080..U+009F, such as NEL) end or
                         * steer lines in some terminals and tools. */
                        bool is_sep = n == 3 && c == 0xe2 && p[i + 1] == 0x80 &&
                                      (p[i + 2] == 0xa8 || p[i + 2] == 0xa9);
                        bool is_c1 = n == 2 && c == 0xc2 && p[i + 1] <= 0x9f;
                        if (n > 0 && !is_sep && !is_c1) {
                                i += n;
                                run += n;
                                continue;
                        }
                }
                jsonw_append(w, (const char *)p + run_start, run);
                switch (c) {
                case '"': short_esc = "\\\""; break;
                case '\\': short_esc = "\\\\"; break;
                case '\n': short_esc = "\\n"; break;
                case '\r': short_esc = "\\r"; break;
                case '\t': short_esc = "\\t"; break;
                case '\b': short_esc = "\\b"; break;
                case '\f': short_esc = "\\f"; break;
                default: break;
                }
                if (short_esc) {
                        jsonw_append(w, short_esc, 2);
                } else if (c < 0x80) { /* other C0, NUL, DEL */
                        jsonw_escape_u(w, c);
                } else if (n == 3) { /* U+2028, U+2029 */
                        jsonw_escape_u(w, 0x2000u | 0x28u | (p[i + 2] & 1u));
                } else if (n == 2) { /* C1 */
                        jsonw_escape_u(w, p[i + 1]);
                } else { /* invalid UTF-8 */
                        jsonw_append(w, utf8_replacement, 3);
                        n = skip;
                }
                i += n;
                run_start = i;
                run = 0;
        }
        jsonw_append(w, (const char *)p + run_start, run);
}

static void jsonw_string(struct jsonw *w, const char *s, size_t len)
{
        jsonw_putc(w, '"');
        jsonw_escape(w, s, len);
        jsonw_putc(w, '"');
}

/* The separator and "key": before a member's value. A NULL key writes the
 * separator only. */
static void jsonw_key(struct jsonw *w, const char *key)
{
        if (w->need_comma)
                jsonw_putc(w, ',');
        w->need_comma = true;
        if (key) {
                jsonw_string(w, key, strlen(key));
                jsonw_putc(w, ':');
        }
}

void jsonw_object_begin(struct jsonw *w)
{
        if (w->need_comma)
                jsonw_putc(w, ',');
        jsonw_putc(w, '{');
        w->need_comma = false;
}

void jsonw_object_end(struct jsonw *w)
{
        jsonw_putc(w, '}');
        w->need_comma = true;
}

void jsonw_key_strn(struct jsonw *w, const char *key, const char *s,
                    size_t len)
{
        jsonw_key(w, key);
        jsonw_string(w, s, len);
}

void jsonw_key_str(struct jsonw *w, const char *key, const char *s)
{
        if (!s) {
                jsonw_key_null(w, key);
                return;
        }
        jsonw_key_strn(w, key, s, strlen(s));
}

void jsonw_key_int(struct jsonw *w, const char *key, long long v)
{
        char num[32];
        int n = snprintf(num, sizeof(num), "%lld", v);

        jsonw_key(w, key);
        jsonw_append(w, num, (size_t)n);
}

void jsonw_key_bool(struct jsonw *w, const char *key, bool v)
{
        jsonw_key(w, key);
        if (v)
                jsonw_append(w, "true", 4);
        else
                jsonw_append(w, "false", 5);
}

void jsonw_key_null(struct jsonw *w, const char *key)
{
        jsonw_key(w, key);
        jsonw_append(w, "null", 4);
}

void jsonw_key_raw(struct jsonw *w, const char *key, const char *json,
                   size_t len)
{
        jsonw_key(w, key);
        jsonw_append(w, json, len);
}

void jsonw_newline(struct jsonw *w)
{
        jsonw_putc(w, '\n');
}
