/*
 * fuzz_snap.c: libFuzzer target for the stats snapshot decoder (monitor/snap.c), the
 * message the server takes from anyone who can publish on sluice.stats.>. A snapshot
 * that decodes must encode and decode again to the same figures, and aggregate.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/aggregate.h"
#include "monitor/snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_snap_t s, again;
    sl_err_t err;
    if (sl_snap_decode((const char *)data, size, &s, &err) != 0)
        return 0;
    char *text = sl_snap_encode(&s);
    if (sl_snap_decode(text, strlen(text), &again, &err) != 0 || again.ntables != s.ntables ||
        again.rows_written != s.rows_written || strcmp(again.stream, s.stream) != 0)
        abort();
    sl_agg_t *a = sl_agg_new();
    sl_agg_add(a, &s, 1.0);
    sl_agg_add(a, &again, 2.0);
    json_decref(sl_agg_stats_json(a, s.stream, "running", 2.0));
    json_decref(sl_agg_summary_json(a, "running", 2.0));
    sl_agg_free(a);
    free(text);
    sl_snap_clear(&s);
    sl_snap_clear(&again);
    return 0;
}
