/* libFuzzer target: the order decoder (order_decode), as a POST body and as
 * a record. A decoded order must encode, and decode again to the same
 * order (a record needs order_id and created_at, so those are set). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/order.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *json = (const char *)data;
        struct order order, again;
        struct model_error err;
        char *value;
        size_t len;

        if (order_decode(json, size, ORDER_FROM_RECORD, &order, &err) == 0) {
                value = order_encode(&order, &len);
                if (!value)
                        abort();
                if (order_decode(value, len, ORDER_FROM_RECORD, &again,
                                 &err) != 0 ||
                    memcmp(&order, &again, sizeof(order)) != 0)
                        abort(); /* what we write, we read back */
                free(value);
        }
        if (order_decode(json, size, ORDER_FROM_REQUEST, &order, &err) == 0 &&
            (!order.user_id[0] || !order.item[0]))
                abort();
        return 0;
}
