/*
 * libFuzzer target for the HTTP/1.1 layer: arbitrary bytes as a client's
 * stream over a socketpair. The server must answer or close, never crash.
 */
#include <stddef.h>
#include <stdint.h>

#include "../unit/http_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    free(http_exchange(data, size, 1));
    return 0;
}
