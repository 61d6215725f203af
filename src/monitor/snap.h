/*
 * snap.h: one stats snapshot of a stream, the message of the monitoring plane.
 *
 * A running `sluice run` (monitor/stats.h) publishes a snapshot every second on the core
 * NATS subject "sluice.stats.<stream>"; the server (monitor.c) decodes it and aggregates
 * it (monitor/aggregate.h). The encoder and the decoder sit side by side here and are
 * pure (no I/O, no globals), so the wire format is unit-tested and cannot drift.
 *
 * Wire format (JSON, one object; docs/monitoring.md):
 *   {"v": 1, "stream": "shop", "id": "s_…"|null, "run": "<hex>", "seq": 7, "t": 7.01,
 *    "ts": 1795000000.123, "phase": "load|cdc|done", "batches": 12, "redeliveries": 0,
 *    "duplicates_skipped": 0, "errors": 0, "lag_seconds": 0.08|null,
 *    "slot_bytes": 1024|null, "position": "0/1A2B3C8"|"GTID 0-11-500"|"mysql-bin.000003:1234"|null,
 *    "totals": {"rows_read", "rows_written", "bytes_read", "bytes_written",
 *               "rows_loaded", "changes_read", "changes_applied", "rows_rejected"},
 *    "tables": [{"name", "rows_read", "rows_written", "bytes_read", "bytes_written",
 *                "rows_loaded", "changes_read", "changes_applied", "rows_rejected",
 *                "est_rows": n|null, "done": bool, "state"?: "copying|streaming|failed|removed",
 *                "copied"?: n, "error"?: "…"}], "tables_truncated": false}
 * rows_read/rows_written count everything; rows_loaded (rows a load or an initial load
 * wrote), changes_read and changes_applied (change events of the change stream) count
 * the two kinds apart; rows_rejected counts the rows options.on_error "reject" kept from
 * the target (a decoder takes each of these four as 0 when absent).
 * "run" identifies one process (counters start at zero in each); "seq" grows in a run;
 * "t" is seconds since that run's publisher started (a monotonic clock, for rates);
 * "ts" the wall-clock time of the sample. Counters count this run only.
 *
 * Ownership: a sl_snap_t owns its strings and table array; sl_snap_clear() frees them.
 * Not thread-safe: one thread at a time per snapshot.
 */
#ifndef SL_MONITOR_SNAP_H
#define SL_MONITOR_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define SL_SNAP_SUBJECT_PREFIX "sluice.stats."
#define SL_SNAP_MAX_TABLES 2000     /* tables sent per snapshot (totals count them all) */
#define SL_SNAP_MAX_BYTES (1 << 20) /* a larger message is refused by the decoder */

typedef struct sl_snap_table {
    char *name;
    int64_t rows_read, rows_written, bytes_read, bytes_written;
    int64_t rows_loaded, changes_read, changes_applied; /* the kinds apart */
    int64_t rows_rejected; /* recorded in _sluice_rejects instead of written */
    int64_t rows_copied;   /* input only: rows a change stream copied (its loaded rows) */
    int64_t est_rows; /* the source's estimate; -1 unknown */
    bool done;        /* a load copied every chunk of the table */
    /* a cdc stream's table: "copying", "streaming", "failed" or "removed" ("" for a
     * load); copied: rows of the copy under way (-1: none); error: why it failed */
    char state[12];
    int64_t copied;
    char error[400];
} sl_snap_table_t;

typedef struct sl_snap {
    char *stream;   /* the spec's name */
    char *id;       /* the control plane's stream id (SLUICE_STREAM_ID), NULL unknown */
    char *run;      /* the publishing process's run id */
    int64_t seq;
    double t, ts;
    char phase[8];  /* "load", "cdc" or "done" */
    int64_t batches, redeliveries, duplicates, errors;
    double lag_seconds; /* source commit to target commit; < 0 unknown */
    int64_t slot_bytes; /* PostgreSQL slot lag; < 0 unknown */
    char *position;     /* the confirmed source position as the source writes it, NULL unknown */
    int64_t rows_read, rows_written, bytes_read, bytes_written; /* over all tables */
    int64_t rows_loaded, changes_read, changes_applied;
    int64_t rows_rejected;
    sl_snap_table_t *tables;
    int ntables, cap;
    bool truncated; /* tables were left out of the message (totals still count them) */
} sl_snap_t;

/* An empty snapshot: counters zero, lag/slot/est unknown, phase "load". */
void sl_snap_init(sl_snap_t *s);
void sl_snap_clear(sl_snap_t *s); /* frees and re-initialises */
/* dst becomes a deep copy of src (dst's old content is freed). */
void sl_snap_copy(sl_snap_t *dst, const sl_snap_t *src);
/* Appends a table with zero counters (no check for a duplicate name). */
sl_snap_table_t *sl_snap_append(sl_snap_t *s, const char *name);
/* Adds src's counters to dst, table by table (by name): the sum of two runs or two
 * phases. est_rows and done come from src when it knows them; lag, slot lag and
 * position from src when known. */
void sl_snap_add(sl_snap_t *dst, const sl_snap_t *src);
/* Sets the totals to the sums over the tables. */
void sl_snap_sum(sl_snap_t *s);
/* Sets the kinds of the tables' counters from rows_read/rows_written: change events when
 * changes (the change stream's phase), else rows loaded. */
void sl_snap_kind(sl_snap_t *s, bool changes);
/* Copies a string field (NULL clears it). */
void sl_snap_set(char **field, const char *value);

/* The plane's clocks in seconds: monotonic (rates) and Unix wall-clock time. */
double sl_snap_mono(void);
double sl_snap_wall(void);

/* The wire JSON (malloc'd, NUL-terminated; caller frees). */
char *sl_snap_encode(const sl_snap_t *s);
/* Parses the wire JSON into out (initialised here; cleared on failure). Rejects what
 * is not a version-1 snapshot with a message naming the field. */
int sl_snap_decode(const char *data, size_t len, sl_snap_t *out, sl_err_t *err);

#endif
