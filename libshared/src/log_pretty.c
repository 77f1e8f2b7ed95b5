/* The terminal form of a log line (LOG_FORMAT=pretty); the grammar and what
 * is escaped are in log_pretty.h.
 *
 * A pure function in the manner of snprintf(3): it writes what fits and
 * returns the full length, so log.c sizes its thread's line buffer once and
 * the tests need no logger. Bare values are the common case (ids, numbers,
 * topics), so a person reads `order.id=12345`, not `"order.id":"12345"`;
 * quotes appear only where a reader could otherwise be misled. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "shared/log_pretty.h"

/* Where the line goes: 'len' counts every byte, 'buf' takes what fits. */
struct out {
        char *buf;
        size_t size;
        size_t len;
};

static void out_byte(struct out *o, char c)
{
        if (o->len + 1 < o->size)
                o->buf[o->len] = c;
        o->len++;
}

static void out_bytes(struct out *o, const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                out_byte(o, s[i]);
}

static void out_str(struct out *o, const char *s)
{
        out_bytes(o, s, strlen(s));
}

/* The length of the valid, shortest-form UTF-8 sequence at s (at most 'n'
 * bytes) and its code point in *cp; 0 when the byte at s starts none. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
        unsigned char lo = 0x80, hi = 0xbf;
        size_t len;
        uint32_t c;

        if (s[0] >= 0xc2 && s[0] <= 0xdf) {
                len = 2;
                c = s[0] & 0x1f;
        } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                len = 3;
                c = s[0] & 0x0f;
                if (s[0] == 0xe0)
                        lo = 0xa0; /* overlong */
                if (s[0] == 0xed)
                        hi = 0x9f; /* surrogates */
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                len = 4;
                c = s[0] & 0x07;
                if (s[0] == 0xf0)
                        lo = 0x90; /* overlong */
                if (s[0] == 0xf4)
                        hi = 0x8f; /* above U+10FFFF */
        } else {
                return 0;
        }
        if (n < len || s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if (i > 1 && (s[i] < 0x80 || s[i] > 0xbf))
                        return 0;
                c = (c << 6) | (s[i] & 0x3f);
        }
        *cp = c;
        return len;
}

/* Code points a terminal acts on rather than shows: C1 controls (U+009B is
 * a CSI), line and paragraph separators, bidi embeddings and isolates. */
static bool is_unsafe_code_point(uint32_t cp)
{
        return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
               (cp >= 0x202a && cp <= 0x202e) ||
               (cp >= 0x2066 && cp <= 0x2069);
}

/* Whether 'len' bytes of 's' may be written without quotes: every byte
 * printable ASCII or safe UTF-8, none of '"' '\', and no '=' (is_message)
 * or no space (a field value). */
static bool is_bare(const char *s, size_t len, bool is_message)
{
        const unsigned char *p = (const unsigned char *)s;
        uint32_t cp;

        if (len == 0)
                return false;
        if (is_message && (p[0] == ' ' || p[len - 1] == ' '))
                return false;
        for (size_t i = 0; i < len;) {
                size_t n;

                if (p[i] == '"' || p[i] == '\\' ||
                    (is_message ? p[i] == '=' : p[i] == ' '))
                        return false;
                if (p[i] >= 0x20 && p[i] < 0x7f) {
                        i++;
                        continue;
                }
                n = utf8_decode(p + i, len - i, &cp);
                if (n == 0 || is_unsafe_code_point(cp))
                        return false;
                i += n;
        }
        return true;
}

static void out_quoted(struct out *o, const char *s, size_t len)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *p = (const unsigned char *)s;
        char esc[8];
        uint32_t cp;

        out_byte(o, '"');
        for (size_t i = 0; i < len;) {
                unsigned char c = p[i];
                size_t n;

                if (c == '"' || c == '\\') {
                        out_byte(o, '\\');
                        out_byte(o, (char)c);
                } else if (c == '\n') {
                        out_str(o, "\\n");
                } else if (c == '\r') {
                        out_str(o, "\\r");
                } else if (c == '\t') {
                        out_str(o, "\\t");
                } else if (c >= 0x20 && c < 0x7f) {
                        out_byte(o, (char)c);
                } else if (c >= 0x80 && (n = utf8_decode(p + i, len - i, &cp))) {
                        if (is_unsafe_code_point(cp)) {
                                snprintf(esc, sizeof(esc), "\\u%04x",
                                         (unsigned)cp);
                                out_str(o, esc);
                        } else {
                                out_bytes(o, s + i, n);
                        }
                        i += n;
                        continue;
                } else { /* C0, DEL, a byte of invalid UTF-8 */
                        out_str(o, "\\x");
                        out_byte(o, hex[c >> 4]);
                        out_byte(o, hex[c & 0xf]);
                }
                i++;
        }
        out_byte(o, '"');
}

static void out_key(struct out *o, const char *key)
{
        if (!*key)
                out_byte(o, '_');
        for (const char *k = key; *k; k++) {
                char c = *k;
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                          c == '-' || c == '@';
                out_byte(o, ok ? c : '_');
        }
}

static void out_level(struct out *o, enum log_level level, bool colour)
{
        static const struct {
                const char *name; /* padded to five */
                const char *sgr;
        } levels[] = {
                [LOG_LEVEL_DEBUG] = {"DEBUG", "\033[2m"},
                [LOG_LEVEL_INFO] = {"INFO ", "\033[32m"},
                [LOG_LEVEL_WARN] = {"WARN ", "\033[33m"},
                [LOG_LEVEL_ERROR] = {"ERROR", "\033[1;31m"},
        };
        const char *name;
        size_t word;

        if ((int)level < LOG_LEVEL_DEBUG || level > LOG_LEVEL_ERROR)
                level = LOG_LEVEL_ERROR;
        name = levels[level].name;
        word = strcspn(name, " ");
        if (colour)
                out_str(o, levels[level].sgr);
        out_bytes(o, name, word);
        if (colour)
                out_str(o, "\033[0m");
        out_str(o, name + word);
}

size_t log_pretty_format(char *buf, size_t size, const char *timestamp,
                         enum log_level level, const char *message,
                         const struct log_field *fields, size_t nfields,
                         bool colour)
{
        struct out o = {.buf = buf, .size = size, .len = 0};
        size_t message_len;
        char num[24];

        if (!message)
                message = "";
        message_len = strlen(message);
        out_str(&o, timestamp ? timestamp : "-");
        out_byte(&o, ' ');
        out_level(&o, level, colour);
        out_byte(&o, ' ');
        if (is_bare(message, message_len, true))
                out_bytes(&o, message, message_len);
        else
                out_quoted(&o, message, message_len);
        for (size_t i = 0; i < nfields; i++) {
                const struct log_field *f = &fields[i];

                if (!f->key)
                        continue;
                out_byte(&o, ' ');
                out_key(&o, f->key);
                out_byte(&o, '=');
                if (f->type == LOG_FIELD_INT) {
                        snprintf(num, sizeof(num), "%lld", f->num);
                        out_str(&o, num);
                } else if (f->str && is_bare(f->str, strlen(f->str), false)) {
                        out_str(&o, f->str);
                } else if (f->str) {
                        out_quoted(&o, f->str, strlen(f->str));
                }
        }
        out_byte(&o, '\n');
        if (size > 0)
                buf[o.len < size ? o.len : size - 1] = '\0';
        return o.len;
}
