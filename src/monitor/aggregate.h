/*
 * aggregate.h: the server's figures of one stream, built from the snapshots its `sluice
 * run` processes publish (monitor/snap.h): totals over every run of the stream, rows/s
 * over the last few seconds, progress and ETA of a load, and the stats JSON of docs/api.md.
 *
 * Runs: each process counts from zero. When a snapshot of a new run arrives, the last
 * snapshot of the previous run is added to a base, so totals (and the Prometheus
 * counters built on them) keep growing across pause/resume and restarts of the child.
 * A run killed without its final snapshot loses at most its last second of counts.
 *
 * Rates use the publisher's monotonic clock ("t") between snapshots of one run, over a
 * window of about 5 s; they are 0 once the stream is done, no snapshot arrived for
 * SL_AGG_STALE_SECS (the process is gone), or the state given to the JSON functions is
 * one without a process (created, paused, stopped, completed, failed).
 *
 * Pure: no I/O, no locks; the caller (monitor.c) serialises access. `now` is the
 * receiver's monotonic clock in seconds.
 */
#ifndef SL_MONITOR_AGGREGATE_H
#define SL_MONITOR_AGGREGATE_H

#include <stdbool.h>

#include <jansson.h>

#include "monitor/snap.h"

#define SL_AGG_WINDOW_SECS 5.0
#define SL_AGG_STALE_SECS 3.5

typedef struct sl_agg sl_agg_t;

sl_agg_t *sl_agg_new(void);
void sl_agg_free(sl_agg_t *a); /* NULL: no-op */

/* Takes in snapshot s (copied) received at now. False when it was ignored: not newer
 * than the latest of its run (messages can arrive out of order). */
bool sl_agg_add(sl_agg_t *a, const sl_snap_t *s, double now);
/* Base + latest: every run's counters, the latest run's phase, lag and position. NULL
 * before the first snapshot. Valid until the next sl_agg_add(). */
const sl_snap_t *sl_agg_totals(const sl_agg_t *a);
/* Rows per second read and written over the window, 0 when unknown or idle. */
double sl_agg_rate(const sl_agg_t *a, bool written, double now);
/* Rows per second written into one table (by name). */
double sl_agg_table_rate(const sl_agg_t *a, const char *table, double now);

/* docs/api.md "Stats" for stream (a may be NULL: zeros and nulls); state may be NULL
 * (unknown: rates as the snapshots say). */
json_t *sl_agg_stats_json(const sl_agg_t *a, const char *stream, const char *state, double now);
/* {"rows_read", "rows_written", "rows_per_sec", "lag_seconds", "progress"}; state as above. */
json_t *sl_agg_summary_json(const sl_agg_t *a, const char *state, double now);

/* RFC 3339 UTC with milliseconds ("2026-11-27T05:00:01.000Z") of Unix time ts. */
void sl_agg_time(double ts, char buf[32]);

#endif
