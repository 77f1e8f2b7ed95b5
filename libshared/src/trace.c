/* The traceparent parser (trace.h). */
#include <string.h>

#include "shared/trace.h"

/* True when the n bytes at s are lower-case hex digits; *all_zero says
 * whether they are all '0'. */
static bool is_lower_hex(const char *s, size_t n, bool *all_zero)
{
        *all_zero = true;
        for (size_t i = 0; i < n; i++) {
                if (!((s[i] >= '0' && s[i] <= '9') ||
                      (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
                if (s[i] != '0')
                        *all_zero = false;
        }
        return true;
}

bool traceparent_parse(const char *tp, char *trace_id, size_t size)
{
        size_t len;
        bool zero;

        if (!tp || (trace_id && size < TRACE_ID_SIZE))
                return false;
        len = strnlen(tp, TRACEPARENT_MAX_BYTES + 1);
        /* version "-" trace-id "-" parent-id "-" flags: 2+1+32+1+16+1+2. */
        if (len < TRACEPARENT_LEN || len > TRACEPARENT_MAX_BYTES ||
            tp[2] != '-' || tp[35] != '-' || tp[52] != '-')
                return false;
        if (!is_lower_hex(tp, 2, &zero) || memcmp(tp, "ff", 2) == 0)
                return false;
        /* Version 00 is exactly 55 characters; a later version may append
         * fields after another '-' ("future versions"). */
        if (len > TRACEPARENT_LEN &&
            (memcmp(tp, "00", 2) == 0 || tp[TRACEPARENT_LEN] != '-'))
                return false;
        if (!is_lower_hex(tp + 3, 32, &zero) || zero ||
            !is_lower_hex(tp + 36, 16, &zero) || zero ||
            !is_lower_hex(tp + 53, 2, &zero))
                return false;
        if (trace_id) {
                memcpy(trace_id, tp + 3, 32);
                trace_id[32] = '\0';
        }
        return true;
}
