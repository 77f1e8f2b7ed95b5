/* The load generator's pure parts: the open-loop schedule, HTTP/1.1
 * response framing and percentiles. Nothing here touches a socket, so
 * test_lg.c checks them without a server. */
#ifndef LG_H
#define LG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The intended send time of request 'seq' when requests start at
 * 'start_ns' and follow 'rate_per_s' (> 0) evenly: start + seq / rate. */
uint64_t lg_schedule_at(uint64_t start_ns, uint64_t rate_per_s, uint64_t seq);

/* How many requests are due at 'now_ns' (request 0 is due at start_ns):
 * 0 before the start, then 1 + floor((now - start) * rate / 1e9). */
uint64_t lg_schedule_due(uint64_t start_ns, uint64_t rate_per_s,
                         uint64_t now_ns);

/* The order number request 'seq' posts. With 'retry_every' N >= 2, every
 * Nth request (seq % N == N - 1) posts again the order of the request
 * N / 2 before it, as a client retrying would (the same body); 0: every
 * request posts its own order, 'seq'. */
uint64_t lg_order_of(uint64_t seq, uint64_t retry_every);

/* One framed HTTP response: its status, its size on the wire (head and
 * body), and whether the server will close the connection after it. */
struct lg_response {
        int status;
        size_t length;
        bool is_close;
};

/* Frame the response at the start of 'buf'. Returns 1 when it is complete
 * (fills 'r'), 0 when more bytes are needed, -1 when it is malformed or
 * framed in a way we do not read (chunked, no Content-Length, a head over
 * LG_MAX_HEAD bytes). */
#define LG_MAX_HEAD 16384
int lg_response_parse(const char *buf, size_t len, struct lg_response *r);

/* Sort 'n' values ascending, in place. */
void lg_sort(uint64_t *v, size_t n);

/* The nearest-rank 'p'th percentile (0 < p <= 100) of ascending 'sorted':
 * the smallest value with at least p% of the values at or below it.
 * 0 when n == 0. */
uint64_t lg_percentile(const uint64_t *sorted, size_t n, double p);

#endif
