/*
 * fuzz_change.c: libFuzzer target for the change batch decoder (model/change.c). Any
 * input must decode to changes or a SL_E_PROTOCOL error, never read out of bounds; a
 * spill reference's ranges must walk as decode checked them (ascending, disjoint,
 * within 1..nchanges), and the spill cursor must take the batch's changes as a part.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "model/change.h"

#define CAP 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_cbatch_view_t v;
    sl_err_t err;
    if (sl_cbatch_decode(data, size, &v, &err))
        return 0;
    static sl_value_t row[CAP], old[CAP];
    sl_change_t c;
    size_t total = 0;
    sl_cspill_cursor_t cur;
    if (v.hdr.flags & SL_CBATCH_SPILLED) {
        size_t at = 0;
        uint32_t from, to, prev = 0, n = 0;
        while (sl_cspill_range(&v.ref, &at, &from, &to)) {
            if (from <= prev || to < from || to > v.ref.nchanges)
                abort();
            prev = to;
            n++;
        }
        if (n != v.ref.nranges)
            abort();
        sl_cspill_cursor_init(&cur, &v.ref);
    }
    while (sl_cbatch_next(&v, &c, row, old, CAP, &err) == 1) {
        if ((v.hdr.flags & SL_CBATCH_SPILLED) && sl_cspill_keep(&cur, &c) == 1 && v.ref.lsn &&
            (c.pos.lsn != v.ref.lsn || c.pos.idx != cur.kept))
            abort();
        for (int i = 0; i < c.ncols; i++) {
            if (c.row && c.row[i].len > 0)
                total += (unsigned char)c.row[i].p[c.row[i].len - 1];
            if (c.old && c.old[i].len > 0)
                total += (unsigned char)c.old[i].p[c.old[i].len - 1];
        }
    }
    (void)total;
    return 0;
}
