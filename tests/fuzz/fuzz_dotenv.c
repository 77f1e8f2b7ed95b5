/* libFuzzer target: the .env parser (dotenv_check: the parse of
 * dotenv_load without setenv). An error is one line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/dotenv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char errstr[512] = "";
        int n = dotenv_check((const char *)data, size, errstr, sizeof(errstr));

        if (n < 0 && (!errstr[0] || strchr(errstr, '\n')))
                abort();
        return 0;
}
