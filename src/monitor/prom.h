/*
 * prom.h: the Prometheus text exposition format 0.0.4 of every stream's figures
 * (docs/monitoring.md lists the metrics): HELP and TYPE once per family, then one
 * sample per stream (and per table for the row and byte counters), label values
 * escaped. Pure: writes into a buffer, no I/O, no locks.
 */
#ifndef SL_MONITOR_PROM_H
#define SL_MONITOR_PROM_H

#include "core/buf.h"
#include "core/err.h"
#include "monitor/snap.h"

typedef struct sl_prom_stream {
    const char *name;        /* the "stream" label */
    const char *state;       /* lifecycle state, NULL unknown */
    const sl_snap_t *totals; /* figures over every run (aggregate.h), NULL none yet */
} sl_prom_stream_t;

/* Appends the metrics of streams[0..n) in that order. Fails only when out is full. */
int sl_prom_write(sl_buf_t *out, const sl_prom_stream_t *streams, int n, sl_err_t *err);
/* Appends s as a label value: backslash, double quote and newline escaped. */
int sl_prom_label(sl_buf_t *out, const char *s, sl_err_t *err);

#endif
