/* The webhook's pure rules: which outcomes are retried, how long to wait
 * before the next attempt, which URLs are accepted. Unit-tested in
 * tests/notification_service/test_webhook_policy.c. */
#ifndef NOTIFICATION_WEBHOOK_POLICY_H
#define NOTIFICATION_WEBHOOK_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum webhook_verdict {
        WEBHOOK_DELIVERED, /* 2xx */
        WEBHOOK_RETRY,     /* 5xx, 408, 429, network errors, timeouts */
        WEBHOOK_PERMANENT, /* other 4xx, 1xx/3xx, a request curl cannot make */
};

/* Classify one attempt: 'curl_code' is its CURLcode (0 when an HTTP
 * response arrived), 'http_status' the response status (0 when none). */
enum webhook_verdict webhook_classify(int curl_code, long http_status);

/* Milliseconds to wait before retry number 'retry' (1 for the first retry):
 * min(max_ms, base_ms * 2^(retry-1)), of which the upper half is jitter
 * drawn from 'random' ("equal jitter": never less than half the
 * exponential delay, so retries spread out but still back off). */
int64_t webhook_backoff_ms(unsigned retry, int64_t base_ms, int64_t max_ms,
                           uint32_t random);

/* True when 'url' is an absolute http:// or https:// URL with a host, at
 * most 2048 bytes, no spaces or control characters. On false, 'why' (when
 * not NULL) gets a short reason. */
bool webhook_url_is_valid(const char *url, char *why, size_t why_size);

#endif
