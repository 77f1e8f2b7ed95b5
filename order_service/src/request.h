/* The pure side of POST /orders: request framing and header checks, the
 * bounded body reader, the reply bodies. Nothing here touches civetweb or
 * librdkafka, so tests/order_service/test_request.c covers it alone. */
#ifndef ORDER_SERVICE_REQUEST_H
#define ORDER_SERVICE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* How a request says its body ends, and what that means for us. */
enum body_framing {
        BODY_FRAMING_LENGTH,         /* Content-Length within the limit */
        BODY_FRAMING_CHUNKED,        /* read with a cap */
        BODY_FRAMING_NO_LENGTH,      /* neither: 411 */
        BODY_FRAMING_TOO_LARGE,      /* Content-Length over the limit: 413 */
        BODY_FRAMING_BAD,            /* both, or an unknown transfer coding: 400 */
};

/* Decide the framing from the request's Content-Length and
 * Transfer-Encoding headers (NULL when absent). 'max_body_bytes' is the
 * largest body accepted. With BODY_FRAMING_LENGTH, *length_out is the
 * length; otherwise -1. */
enum body_framing body_framing_get(const char *content_length,
                                   const char *transfer_encoding,
                                   size_t max_body_bytes,
                                   long long *length_out);

/* Reads up to 'len' bytes into 'buf'; returns the count, 0 at the end of
 * the body, or a negative value on an error (civetweb's mg_read). */
typedef int (*body_read_fn)(void *arg, char *buf, size_t len);

enum body_read_result {
        BODY_READ_OK,
        BODY_READ_TOO_LARGE, /* more than max_body_bytes arrived */
        BODY_READ_SHORT,     /* ended before 'expected' bytes, or an error */
        BODY_READ_NO_MEMORY,
};

/* Read a whole body through 'read', never more than max_body_bytes + 1
 * bytes. 'expected' is the Content-Length, or -1 when the length is not
 * known (chunked). On BODY_READ_OK *body_out is a new NUL-terminated buffer
 * (free(3) it) of *len_out bytes; otherwise it is NULL. */
enum body_read_result body_read(body_read_fn read, void *arg,
                                long long expected, size_t max_body_bytes,
                                char **body_out, size_t *len_out);

/* True when a Content-Type value names JSON: "application/json" with
 * optional parameters, of which a charset must be utf-8 (any case). */
bool content_type_is_json(const char *value);

/* The 202 body: {"order_id","status":"accepted","topic","partition",
 * "offset"}. Returns a new string (free(3) it) and its length, or NULL when
 * out of memory. */
char *accepted_json(const char *order_id, const char *topic, int partition,
                    long long offset, size_t *len_out);

/* The label of a request path in metrics: one of the service's routes, or
 * "other", so a client cannot grow the number of series. */
const char *route_label(const char *path);

#endif
