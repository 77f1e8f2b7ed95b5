/* libFuzzer target: the HTTP body framing of order_service (request.c).
 * The input is a Content-Length value, a Transfer-Encoding value and a
 * body, split at the first two NUL bytes; the body is handed to body_read()
 * in pieces whose sizes come from the body's own bytes, as a socket would.
 * A body read whole is never over the limit, and is exactly what was sent
 * when the length was known. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

#define MAX_BODY 4096

struct feed {
        const char *data;
        size_t len, pos;
};

/* Up to 'len' bytes, at most 1 + the next byte's value at a time. */
static int feed_read(void *arg, char *buf, size_t len)
{
        struct feed *f = arg;
        size_t n;

        if (f->pos == f->len)
                return 0;
        n = 1 + (unsigned char)f->data[f->pos];
        if (n > len)
                n = len;
        if (n > f->len - f->pos)
                n = f->len - f->pos;
        memcpy(buf, f->data + f->pos, n);
        f->pos += n;
        return (int)n;
}

/* The next NUL-terminated header value of the input, or NULL for an empty
 * one (an absent header). */
static char *next_value(const char **p, const char *end)
{
        const char *nul = memchr(*p, '\0', (size_t)(end - *p));
        size_t n = nul ? (size_t)(nul - *p) : (size_t)(end - *p);
        char *v = NULL;

        if (n > 0) {
                v = malloc(n + 1);
                memcpy(v, *p, n);
                v[n] = '\0';
        }
        *p += nul ? n + 1 : n;
        return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *p = (const char *)data, *end = p + size;
        char *cl = next_value(&p, end), *te = next_value(&p, end);
        struct feed f = {p, (size_t)(end - p), 0};
        enum body_framing framing;
        long long length;
        char *body = NULL;
        size_t len = 0;

        framing = body_framing_get(cl, te, MAX_BODY, &length);
        if (framing == BODY_FRAMING_LENGTH &&
            (length < 0 || length > MAX_BODY))
                abort();
        if (framing == BODY_FRAMING_LENGTH || framing == BODY_FRAMING_CHUNKED) {
                enum body_read_result r = body_read(
                        feed_read, &f,
                        framing == BODY_FRAMING_LENGTH ? length : -1,
                        MAX_BODY, &body, &len);

                if (r == BODY_READ_OK &&
                    (len > MAX_BODY || body[len] != '\0' ||
                     (framing == BODY_FRAMING_LENGTH &&
                      (len != (size_t)length ||
                       memcmp(body, f.data, len) != 0))))
                        abort();
                free(body);
        }
        free(cl);
        free(te);
        return 0;
}
