/* The load generator's pure parts; see lg.h. */
#include "lg.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NS_PER_S 1000000000ULL

uint64_t lg_schedule_at(uint64_t start_ns, uint64_t rate_per_s, uint64_t seq)
{
        /* 128-bit product: seq * 1e9 overflows 64 bits after ~1.8e10
         * requests, which a long saturation run at a high rate could reach. */
        return start_ns + (uint64_t)((unsigned __int128)seq * NS_PER_S /
                                     rate_per_s);
}

uint64_t lg_order_of(uint64_t seq, uint64_t retry_every)
{
        if (retry_every < 2 || seq % retry_every != retry_every - 1)
                return seq;
        return seq - retry_every / 2;
}

uint64_t lg_schedule_due(uint64_t start_ns, uint64_t rate_per_s,
                         uint64_t now_ns)
{
        if (now_ns < start_ns)
                return 0;
        /* Request k is due when start + ceil(k * 1e9 / rate) <= now; the
         * count of such k is floor((now - start) * rate / 1e9) + 1 exactly
         * when lg_schedule_at() floors: check with the inverse. */
        uint64_t n = (uint64_t)((unsigned __int128)(now_ns - start_ns) *
                                rate_per_s / NS_PER_S) + 1;
        while (n > 0 && lg_schedule_at(start_ns, rate_per_s, n - 1) > now_ns)
                n--;
        while (lg_schedule_at(start_ns, rate_per_s, n) <= now_ns)
                n++;
        return n;
}

/* Does header line [p, end) name 'name' (with its colon)? Then *value is
 * its value, leading blanks skipped. */
static bool header_is(const char *p, const char *end, const char *name,
                      const char **value)
{
        size_t n = strlen(name);

        if ((size_t)(end - p) < n || strncasecmp(p, name, n) != 0)
                return false;
        p += n;
        while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        *value = p;
        return true;
}

/* Does [p, end) contain 'word', ignoring case? */
static bool contains_word(const char *p, const char *end, const char *word)
{
        size_t n = strlen(word);

        for (; (size_t)(end - p) >= n; p++)
                if (strncasecmp(p, word, n) == 0)
                        return true;
        return false;
}

/* The first "\r\n\r\n" in buf[0, len), or NULL. */
static const char *find_head_end(const char *buf, size_t len)
{
        for (size_t i = 0; i + 4 <= len; i++)
                if (buf[i] == '\r' && memcmp(buf + i, "\r\n\r\n", 4) == 0)
                        return buf + i;
        return NULL;
}

int lg_response_parse(const char *buf, size_t len, struct lg_response *r)
{
        const char *head_end, *p, *eol, *value;
        size_t head_len;
        bool have_length = false, is_http10;
        unsigned long long body_len = 0;

        head_end = find_head_end(buf, len < LG_MAX_HEAD ? len : LG_MAX_HEAD);
        if (!head_end)
                return len >= LG_MAX_HEAD ? -1 : 0;
        head_len = (size_t)(head_end - buf) + 4;

        /* Status line: HTTP/1.x SSS reason */
        if (head_len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 ||
            (buf[7] != '0' && buf[7] != '1') || buf[8] != ' ' ||
            !isdigit((unsigned char)buf[9]) ||
            !isdigit((unsigned char)buf[10]) ||
            !isdigit((unsigned char)buf[11]))
                return -1;
        is_http10 = buf[7] == '0';
        r->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 +
                    (buf[11] - '0');
        r->is_close = is_http10;

        p = memchr(buf, '\n', head_len) + 1;
        while (p < head_end) {
                eol = memchr(p, '\r', (size_t)(head_end + 2 - p));
                if (!eol)
                        return -1;
                if (header_is(p, eol, "content-length:", &value)) {
                        char *num_end;

                        if (value == eol || !isdigit((unsigned char)*value))
                                return -1;
                        body_len = strtoull(value, &num_end, 10);
                        if (num_end != eol || body_len > (1ULL << 30))
                                return -1;
                        have_length = true;
                } else if (header_is(p, eol, "transfer-encoding:", &value)) {
                        return -1; /* chunked: not what our servers send */
                } else if (header_is(p, eol, "connection:", &value)) {
                        if (contains_word(value, eol, "close"))
                                r->is_close = true;
                        else if (contains_word(value, eol, "keep-alive"))
                                r->is_close = false;
                }
                p = eol + 2;
        }
        if (!have_length) {
                /* Only bodiless statuses may omit it for us. */
                if (r->status != 204 && r->status != 304 && r->status >= 200)
                        return -1;
                body_len = 0;
        }
        if (len - head_len < body_len)
                return 0;
        r->length = head_len + (size_t)body_len;
        return 1;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return (x > y) - (x < y);
}

void lg_sort(uint64_t *v, size_t n)
{
        if (n > 1)
                qsort(v, n, sizeof(*v), cmp_u64);
}

uint64_t lg_percentile(const uint64_t *sorted, size_t n, double p)
{
        double rank;
        size_t i;

        if (n == 0)
                return 0;
        /* The tiny epsilon keeps p = 99.9 of 1000 values at rank 999, not
         * 1000 from 99.9 / 100 * 1000 = 999.0000000000001. */
        rank = ceil(p / 100.0 * (double)n - 1e-9);
        i = rank < 1 ? 0 : (size_t)rank - 1;
        return sorted[i < n ? i : n - 1];
}
