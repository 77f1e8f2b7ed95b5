/* Time stamps, random ids, UTF-8 checks, memdup and write_all. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "shared/util.h"

void time_format_rfc3339(int64_t epoch_ms, char *buf, size_t size)
{
        time_t secs = (time_t)(epoch_ms / 1000);
        struct tm tm;

        if (epoch_ms < 0 || !gmtime_r(&secs, &tm) || tm.tm_year + 1900 > 9999) {
                /* Never printed from an uninitialised tm, and always the
                 * same width: a year past 9999 is not RFC 3339. */
                snprintf(buf, size, "1970-01-01T00:00:00.000Z");
                return;
        }
        /* Every field is bounded above, so the line is 24 characters; the
         * casts tell the compiler so (-Wformat-truncation). */
        snprintf(buf, size, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
                 (unsigned)(tm.tm_year + 1900) % 10000u,
                 (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
                 (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
                 (unsigned)tm.tm_sec % 100u, (unsigned)(epoch_ms % 1000));
}

int64_t time_epoch_ms(void)
{
        struct timespec ts;

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return 0;
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void time_now_rfc3339(char *buf, size_t size)
{
        time_format_rfc3339(time_epoch_ms(), buf, size);
}

int64_t time_monotonic_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t time_monotonic_ms(void)
{
        return time_monotonic_us() / 1000;
}

int uuid_v4(char *buf, size_t size)
{
        unsigned char b[16];
        size_t got = 0;

        if (size < 37)
                return -1;
        while (got < sizeof(b)) {
                ssize_t r = getrandom(b + got, sizeof(b) - got, 0);
                /* Before the entropy pool is ready getrandom(2) blocks,
                 * and a signal then interrupts it: retry, do not fail. */
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return -1;
                got += (size_t)r;
        }
        b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
        b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
        snprintf(buf, size,
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                 "%02x%02x%02x%02x%02x%02x",
                 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
                 b[10], b[11], b[12], b[13], b[14], b[15]);
        return 0;
}

/* Length of the UTF-8 sequence at s[0..len), or 0 when it is not valid. */
static size_t utf8_sequence_length(const unsigned char *s, size_t len)
{
        unsigned char c = s[0];

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                return len >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
        if (c >= 0xe0 && c <= 0xef) {
                if (len < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
                        return 0;
                if (c == 0xe0 && s[1] < 0xa0) /* overlong */
                        return 0;
                if (c == 0xed && s[1] >= 0xa0) /* surrogate */
                        return 0;
                return 3;
        }
        if (c >= 0xf0 && c <= 0xf4) {
                if (len < 4 || (s[1] & 0xc0) != 0x80 ||
                    (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
                        return 0;
                if (c == 0xf0 && s[1] < 0x90) /* overlong */
                        return 0;
                if (c == 0xf4 && s[1] >= 0x90) /* above U+10FFFF */
                        return 0;
                return 4;
        }
        return 0;
}

bool utf8_is_valid(const char *s, size_t len, size_t *chars)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t n = 0;

        while (len > 0) {
                size_t l = utf8_sequence_length(p, len);
                if (l == 0)
                        return false;
                p += l;
                len -= l;
                n++;
        }
        if (chars)
                *chars = n;
        return true;
}

bool utf8_has_control(const char *s, size_t len)
{
        const unsigned char *p = (const unsigned char *)s;

        for (size_t i = 0; i < len; i++) {
                if (p[i] < 0x20 || p[i] == 0x7f)
                        return true;
                /* U+0080..U+009F are encoded as C2 80..C2 9F. */
                if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 &&
                    p[i + 1] <= 0x9f)
                        return true;
        }
        return false;
}

char *memdup(const void *p, size_t len)
{
        char *c = malloc(len + 1);

        if (!c)
                return NULL;
        if (len)
                memcpy(c, p, len);
        c[len] = '\0';
        return c;
}

int write_all(int fd, const void *buf, size_t len, int stall_ms)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);

                if (n > 0) {
                        p += n;
                        len -= (size_t)n;
                        continue;
                }
                if (n == -1 && errno == EINTR)
                        continue;
                if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
                        int r = poll(&pfd, 1, stall_ms);

                        if (r > 0 || (r == -1 && errno == EINTR))
                                continue;
                        if (r == 0)
                                errno = EAGAIN;
                }
                return -1;
        }
        return 0;
}

int error_set(char *errstr, size_t errstr_size, const char *fmt, ...)
{
        va_list ap;

        if (errstr && errstr_size > 0) {
                va_start(ap, fmt);
                vsnprintf(errstr, errstr_size, fmt, ap);
                va_end(ap);
        }
        return -1;
}
