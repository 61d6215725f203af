/*
 * fuzz_batch.c: libFuzzer target for the bus batch decoder (model/batch.c). Any
 * input must decode to rows or a SL_E_PROTOCOL error, never read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>

#include "model/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_batch_view_t v;
    sl_err_t err;
    if (sl_batch_decode(data, size, &v, &err))
        return 0;
    if (v.hdr.ncols > 4096)
        return 0;
    sl_value_t vals[4096];
    size_t total = 0;
    int rc;
    while ((rc = sl_batch_next_row(&v, vals, &err)) == 1)
        for (uint32_t i = 0; i < v.hdr.ncols; i++)
            if (vals[i].len > 0)
                total += (unsigned char)vals[i].p[vals[i].len - 1]; /* touch the last byte */
    (void)total;
    return 0;
}
