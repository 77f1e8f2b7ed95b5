/* Small helpers with no better home: time stamps, ids, UTF-8, memory and
 * descriptors. */
#ifndef SHARED_UTIL_H
#define SHARED_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Write the current UTC time as RFC 3339 with milliseconds
 * ("2026-11-23T07:00:00.123Z") into buf, which holds at least 32 bytes. */
void time_now_rfc3339(char *buf, size_t size);

/* The same for 'epoch_ms' milliseconds since 1970 (UTC); a time before
 * 1970 or after 9999 is written as the epoch. */
void time_format_rfc3339(int64_t epoch_ms, char *buf, size_t size);

/* Milliseconds since 1970 (CLOCK_REALTIME): to compare with a Kafka
 * record's timestamp. */
int64_t time_epoch_ms(void);

/* Milliseconds of CLOCK_MONOTONIC, for deadlines and latencies. */
int64_t time_monotonic_ms(void);
/* Microseconds of CLOCK_MONOTONIC. */
int64_t time_monotonic_us(void);

/* Write a random (version 4) UUID, 36 characters and a NUL, into buf
 * (at least 37 bytes). Returns 0, or -1 when no randomness is available. */
int uuid_v4(char *buf, size_t size);

/* True when 'len' bytes of 's' are valid UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF). Sets *chars, when not NULL, to the
 * number of code points. */
bool utf8_is_valid(const char *s, size_t len, size_t *chars);

/* True when 's' has a C0 control character, DEL, or a C1 control (U+0080
 * to U+009F); 's' must be valid UTF-8. */
bool utf8_has_control(const char *s, size_t len);

/* Write the message into 'errstr' (when not NULL) and return -1, for
 * "return error_set(errstr, size, ...);" in the 0/-1 + errstr idiom. */
int error_set(char *errstr, size_t errstr_size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* A copy of the 'len' bytes at 'p' with a NUL after them (so a string
 * stays one), or NULL when out of memory. You own it: free(3) it. */
char *memdup(const void *p, size_t len);

/* Write all 'len' bytes of 'buf' to 'fd' through EINTR and short writes.
 * On a non-blocking descriptor that is full, wait for room at most
 * 'stall_ms' each time (-1: as long as it takes). Returns 0, or -1 with
 * errno set (EAGAIN when a stall lasted 'stall_ms'). */
int write_all(int fd, const void *buf, size_t len, int stall_ms);

#endif
