/*
 * prom.c: Prometheus text format 0.0.4 (see prom.h).
 */
#include "monitor/prom.h"

#include <inttypes.h>
#include <stddef.h>
#include <string.h>

static const char *const STATES[] = {"created", "starting", "running",   "paused", "stopping",
                                     "stopped", "completed", "failed", NULL};

int sl_prom_label(sl_buf_t *out, const char *s, sl_err_t *err)
{
    for (; *s; s++) {
        int rc;
        if (*s == '\\')
            rc = sl_buf_adds(out, "\\\\", err);
        else if (*s == '"')
            rc = sl_buf_adds(out, "\\\"", err);
        else if (*s == '\n')
            rc = sl_buf_adds(out, "\\n", err);
        else
            rc = sl_buf_addc(out, *s, err);
        if (rc)
            return -1;
    }
    return 0;
}

static int family(sl_buf_t *out, const char *name, const char *type, const char *help, sl_err_t *err)
{
    return sl_buf_printf(out, err, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{stream="…"[,table="…"|,state="…"]} */
static int series(sl_buf_t *out, const char *name, const char *stream, const char *key2, const char *val2,
                  sl_err_t *err)
{
    if (sl_buf_printf(out, err, "%s{stream=\"", name) || sl_prom_label(out, stream, err))
        return -1;
    if (key2 && (sl_buf_printf(out, err, "\",%s=\"", key2) || sl_prom_label(out, val2, err)))
        return -1;
    return sl_buf_adds(out, "\"} ", err);
}

/* ---- per-table counters --------------------------------------------------------- */

typedef struct tcounter {
    const char *name, *help;
    size_t off; /* of the int64_t in sl_snap_table_t */
} tcounter_t;

static const tcounter_t TABLE_COUNTERS[] = {
    {"sluice_rows_read_total", "Rows read from the source (cdc: row changes).", offsetof(sl_snap_table_t, rows_read)},
    {"sluice_rows_written_total", "Rows written to the target (cdc: row changes applied).",
     offsetof(sl_snap_table_t, rows_written)},
    {"sluice_bytes_read_total", "Bytes of rows read from the source, as encoded on the bus.",
     offsetof(sl_snap_table_t, bytes_read)},
    {"sluice_bytes_written_total", "Bytes of rows written to the target, as encoded on the bus.",
     offsetof(sl_snap_table_t, bytes_written)},
    {"sluice_rows_loaded_total", "Rows a load or a change stream's initial load wrote to the target.",
     offsetof(sl_snap_table_t, rows_loaded)},
    {"sluice_changes_read_total", "Change events read from the source's log.",
     offsetof(sl_snap_table_t, changes_read)},
    {"sluice_changes_applied_total", "Change events applied to the target.",
     offsetof(sl_snap_table_t, changes_applied)},
    {"sluice_rows_rejected_total", "Rows (cdc: row changes) options.on_error \"reject\" recorded in _sluice_rejects "
                                   "instead of writing them.",
     offsetof(sl_snap_table_t, rows_rejected)},
};

typedef struct scounter {
    const char *name, *help;
    size_t off; /* of the int64_t in sl_snap_t */
} scounter_t;

static const scounter_t STREAM_COUNTERS[] = {
    {"sluice_batches_total", "Batches applied to the target.", offsetof(sl_snap_t, batches)},
    {"sluice_redeliveries_total", "Batches the broker delivered more than once.", offsetof(sl_snap_t, redeliveries)},
    {"sluice_duplicates_skipped_total", "Batches skipped because the target had applied them already.",
     offsetof(sl_snap_t, duplicates)},
    {"sluice_errors_total", "Failures: retried ones and the stream's own.", offsetof(sl_snap_t, errors)},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int64_t field(const void *base, size_t off) { return *(const int64_t *)((const char *)base + off); }

int sl_prom_write(sl_buf_t *out, const sl_prom_stream_t *streams, int n, sl_err_t *err)
{
    for (size_t c = 0; c < NELEM(TABLE_COUNTERS); c++) {
        const tcounter_t *tc = &TABLE_COUNTERS[c];
        if (family(out, tc->name, "counter", tc->help, err))
            return -1;
        for (int i = 0; i < n; i++) {
            const sl_snap_t *s = streams[i].totals;
            for (int t = 0; s && t < s->ntables; t++)
                if (series(out, tc->name, streams[i].name, "table", s->tables[t].name, err) ||
                    sl_buf_printf(out, err, "%" PRId64 "\n", field(&s->tables[t], tc->off)))
                    return -1;
        }
    }
    for (size_t c = 0; c < NELEM(STREAM_COUNTERS); c++) {
        const scounter_t *sc = &STREAM_COUNTERS[c];
        if (family(out, sc->name, "counter", sc->help, err))
            return -1;
        for (int i = 0; i < n; i++)
            if (streams[i].totals && (series(out, sc->name, streams[i].name, NULL, NULL, err) ||
                                      sl_buf_printf(out, err, "%" PRId64 "\n", field(streams[i].totals, sc->off))))
                return -1;
    }
    if (family(out, "sluice_lag_seconds", "gauge",
               "Seconds from a change's commit on the source to its commit on the target (cdc).", err))
        return -1;
    for (int i = 0; i < n; i++) {
        const sl_snap_t *s = streams[i].totals;
        if (s && strcmp(s->phase, "cdc") == 0 && s->lag_seconds >= 0 &&
            (series(out, "sluice_lag_seconds", streams[i].name, NULL, NULL, err) ||
             sl_buf_printf(out, err, "%.6g\n", s->lag_seconds)))
            return -1;
    }
    if (family(out, "sluice_slot_lag_bytes", "gauge",
               "WAL bytes the PostgreSQL replication slot holds back (server end minus confirmed position).",
               err))
        return -1;
    for (int i = 0; i < n; i++) {
        const sl_snap_t *s = streams[i].totals;
        if (s && strcmp(s->phase, "cdc") == 0 && s->slot_bytes >= 0 &&
            (series(out, "sluice_slot_lag_bytes", streams[i].name, NULL, NULL, err) ||
             sl_buf_printf(out, err, "%" PRId64 "\n", s->slot_bytes)))
            return -1;
    }
    if (family(out, "sluice_stream_state", "gauge", "The stream's lifecycle state: 1 for the current one.", err))
        return -1;
    for (int i = 0; i < n; i++) {
        if (!streams[i].state)
            continue;
        for (int k = 0; STATES[k]; k++)
            if (series(out, "sluice_stream_state", streams[i].name, "state", STATES[k], err) ||
                sl_buf_printf(out, err, "%d\n", strcmp(streams[i].state, STATES[k]) == 0))
                return -1;
    }
    if (family(out, "sluice_streams", "gauge", "Streams the server knows of.", err) ||
        sl_buf_printf(out, err, "sluice_streams %d\n", n))
        return -1;
    return 0;
}
