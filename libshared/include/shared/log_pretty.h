/* The log line for a person at a terminal (LOG_FORMAT=pretty):
 *
 *   2026-12-03T19:23:30.123Z INFO  order accepted order.id=12345 user.id="a b"
 *
 * time, level (in colour on a terminal), message, then key=value fields. It
 * is as safe as the JSON line: what could be misread is written in double
 * quotes with escapes, so no value can add a line, drive the terminal
 * (ANSI escapes, C1 controls, bidi overrides) or pose as another field.
 * The grammar, which the tests parse back to the same record:
 *
 *   line    = time SP level SP message *(SP field) LF
 *   level   = "DEBUG" / "INFO " / "WARN " / "ERROR"   (each in SGR colour
 *             codes when 'colour'; no other ESC byte is ever written)
 *   message = bare-message / quoted    bare: no '=', '"', '\', no leading
 *                                      or trailing space, not empty
 *   field   = key "=" [bare / quoted]  nothing after '=': a NULL string;
 *                                      bare: no space, '"', '\', not empty
 *   key     = 1*(ALPHA / DIGIT / "." / "_" / "-" / "@")   (any other byte
 *             of a key is written as '_')
 *   quoted  = DQUOTE *(char / "\" ("\" / DQUOTE / "n" / "r" / "t" /
 *             "x" 2HEXDIG / "u" 4HEXDIG)) DQUOTE
 *
 * Inside quotes \xHH is one raw byte (a control character or a byte of
 * invalid UTF-8) and \uHHHH one code point of valid UTF-8 that a terminal
 * would act on (U+0080..U+009F, U+2028, U+2029, U+202A..U+202E,
 * U+2066..U+2069). Other UTF-8 is written as it is, so names stay legible. */
#ifndef SHARED_LOG_PRETTY_H
#define SHARED_LOG_PRETTY_H

#include <stdbool.h>
#include <stddef.h>

#include "shared/log.h"

/* Format one record into 'buf' (at most 'size' bytes, NUL-terminated when
 * size > 0), ending in '\n'. 'timestamp' is written as given, NULL as "-";
 * a NULL message as "". Fields with a NULL key are skipped.
 * Returns the length of the whole line without its NUL, as snprintf(3)
 * does: a result >= size means it was cut; call again with result + 1. */
size_t log_pretty_format(char *buf, size_t size, const char *timestamp,
                         enum log_level level, const char *message,
                         const struct log_field *fields, size_t nfields,
                         bool colour);

#endif
