/* API keys for order_service (optional): ORDER_API_KEYS, or the file that
 * ORDER_API_KEYS_FILE names (config.h's X_FILE convention), one
 * "name:key" a line. A request sends "Authorization: Bearer <key>"; the
 * name says who it was in log lines and metrics, the key never shows.
 *
 * The table and the match are pure (unit-tested); auth_require() is the
 * one check a handler calls first: every route that needs a key calls it,
 * so /healthz, /readyz and /metrics (libshared's) stay open. */
#ifndef ORDER_SERVICE_AUTH_H
#define ORDER_SERVICE_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include <civetweb.h>

#define AUTH_NAME_MAX 64  /* [A-Za-z0-9._-] */
#define AUTH_KEY_MIN 16   /* bytes: a guessable key is refused at start */
#define AUTH_KEY_MAX 128  /* visible ASCII, no blank, no ':' or ',' */
#define AUTH_KEYS_MAX 256

struct metrics;
struct metric_counter;

struct auth_key {
        char name[AUTH_NAME_MAX + 1];
        unsigned char key[AUTH_KEY_MAX];
        size_t key_len;
        struct metric_counter *requests; /* order_api_key_requests_total */
};

/* Caller-owned; zeroed means "no keys: every request passes". */
struct auth {
        struct auth_key *keys;
        size_t count;
        struct metric_counter *refused[2]; /* missing, invalid */
};

/* Parse 'text' (lines, or entries separated by ','; blank lines and '#'
 * comments skipped) into 'a'. Returns 0, or -1 with errstr naming the
 * entry by number, never quoting a key. Release with auth_release(). */
int auth_parse(struct auth *a, const char *text, char *errstr,
               size_t errstr_size);

/* Read ORDER_API_KEYS (or its _FILE) into 'a'; unset leaves 'a' empty. */
int auth_load(struct auth *a, char *errstr, size_t errstr_size);

/* Register the per-key and refusal counters in 'm'. */
void auth_metrics(struct auth *a, struct metrics *m);

/* The key an Authorization header value carries, or NULL (no header, not
 * Bearer, or no such key). Compares in time independent of which key, and
 * of how much of it, matches. */
const struct auth_key *auth_match(const struct auth *a,
                                  const char *authorization);

static inline bool auth_is_enabled(const struct auth *a)
{
        return a && a->count > 0;
}

/* The check at the top of a protected handler: 0 when the request may go
 * on (keys off, or a valid key: counted), else the status of the 401 it
 * sent (JSON error, WWW-Authenticate). Worker thread. */
int auth_require(const struct auth *a, struct mg_connection *conn);

/* Free what 'a' owns (keys wiped first). No operation if NULL. */
void auth_release(struct auth *a);

#endif
