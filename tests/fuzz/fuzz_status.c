/* libFuzzer target: the status decoder (order_status_decode). A decoded
 * status must encode and decode again to the same status. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/order.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct order_status st, again;
        struct model_error err;
        char *value;
        size_t len;

        if (order_status_decode((const char *)data, size, &st, &err) != 0) {
                /* A refusal names its code, always. */
                if (!err.code[0])
                        abort();
                return 0;
        }
        value = order_status_encode(&st, &len);
        if (!value)
                abort();
        if (order_status_decode(value, len, &again, &err) != 0 ||
            memcmp(&st, &again, sizeof(st)) != 0)
                abort();
        free(value);
        return 0;
}
