/* The webhook's pure rules. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "webhook_policy.h"

enum webhook_verdict webhook_classify(int curl_code, long http_status)
{
        if (curl_code != CURLE_OK) {
                switch (curl_code) {
                /* The request itself is wrong: trying again cannot help. */
                case CURLE_UNSUPPORTED_PROTOCOL:
                case CURLE_URL_MALFORMAT:
                case CURLE_NOT_BUILT_IN:
                case CURLE_BAD_FUNCTION_ARGUMENT:
                case CURLE_OUT_OF_MEMORY:
                        return WEBHOOK_PERMANENT;
                default:
                        /* DNS, connect, TLS, timeouts, a reset connection:
                         * the receiver may be back later. */
                        return WEBHOOK_RETRY;
                }
        }
        if (http_status >= 200 && http_status < 300)
                return WEBHOOK_DELIVERED;
        if (http_status == 408 || http_status == 429 || http_status >= 500)
                return WEBHOOK_RETRY;
        return WEBHOOK_PERMANENT;
}

int64_t webhook_backoff_ms(unsigned retry, int64_t base_ms, int64_t max_ms,
                           uint32_t random)
{
        int64_t delay = base_ms > 0 ? base_ms : 0;
        int64_t half;

        if (max_ms < 0)
                max_ms = 0;
        for (unsigned i = 1; i < retry && delay < max_ms; i++)
                delay *= 2;
        if (delay > max_ms)
                delay = max_ms;
        half = delay / 2;
        if (delay - half <= 0)
                return delay;
        return half + (int64_t)(random % (uint64_t)(delay - half + 1));
}

bool webhook_url_is_valid(const char *url, char *why, size_t why_size)
{
        CURLU *u = NULL;
        char *scheme = NULL, *host = NULL;
        const char *reason = NULL;
        size_t len;

        if (!url || !*url) {
                reason = "empty";
                goto out;
        }
        len = strnlen(url, 2049);
        if (len > 2048) {
                reason = "longer than 2048 bytes";
                goto out;
        }
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)url[i];

                if (c <= 0x20 || c == 0x7f) {
                        reason = "has a space or a control character";
                        goto out;
                }
        }
        if (strncasecmp(url, "http://", 7) != 0 &&
            strncasecmp(url, "https://", 8) != 0) {
                reason = "must start with http:// or https://";
                goto out;
        }
        u = curl_url();
        if (!u) {
                reason = "out of memory";
                goto out;
        }
        if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
                reason = "not a valid URL";
                goto out;
        }
        if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
            (strcasecmp(scheme, "http") != 0 &&
             strcasecmp(scheme, "https") != 0)) {
                reason = "must start with http:// or https://";
                goto out;
        }
        if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
            !host || !*host) {
                reason = "has no host";
                goto out;
        }
out:
        if (reason && why && why_size)
                snprintf(why, why_size, "%s", reason);
        curl_free(host);
        curl_free(scheme);
        curl_url_cleanup(u);
        return reason == NULL;
}
