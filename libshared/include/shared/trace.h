/* W3C Trace Context: the one traceparent parser of the tree. order_service
 * checks the header a client sends, processing_service passes it on with
 * the status, notification_service writes its trace id into the ECS line
 * and the webhook request. A malformed one is dropped everywhere, as the
 * specification asks. Pure: no I/O. */
#ifndef SHARED_TRACE_H
#define SHARED_TRACE_H

#include <stdbool.h>
#include <stddef.h>

/* "00-<32 hex>-<16 hex>-<2 hex>": version 00 is exactly this long. */
#define TRACEPARENT_LEN 55
/* A later version may append fields; a value longer than this is not a
 * traceparent we pass on. */
#define TRACEPARENT_MAX_BYTES 256
/* The trace id: 32 lower-case hex digits and a NUL. */
#define TRACE_ID_SIZE 33

/* True when 'tp' (NUL-terminated) is a well-formed traceparent: lower-case
 * hex, trace-id and parent-id not all zeros, version not ff, version 00
 * exactly TRACEPARENT_LEN long, a later version's extra fields after a
 * '-', at most TRACEPARENT_MAX_BYTES. Then, when 'trace_id' is not NULL,
 * its trace id is written there ('size' at least TRACE_ID_SIZE, else
 * false). False for NULL. */
bool traceparent_parse(const char *tp, char *trace_id, size_t size);

#endif
