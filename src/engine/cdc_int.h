/*
 * cdc_int.h: state shared by the cdc orchestrator (cdc.c), its reader side
 * (cdc_reader.c and cdc_schema.c, on the orchestrator's thread) and its writer lanes
 * (cdc_writer.c, engine/lane.h). Not a public interface.
 *
 * Locking: the run context's `mu` (engine/run.h) guards the lanes' committed
 * positions, and its `cv` is broadcast when one moves; the reader alone touches
 * builders, queues and the transaction list. `schema` is held shared by a writer
 * while it applies a batch and exclusively by the reader while it swaps a table
 * description after a schema change (with every lane drained).
 */
#ifndef SL_ENGINE_CDC_INT_H
#define SL_ENGINE_CDC_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "broker/bus.h"
#include "engine/cdc.h"
#include "engine/lane.h"
#include "engine/mapping.h"
#include "engine/run.h"
#include "model/change.h"
#include "source/cdc.h"
#include "target/target.h"

/* A published batch the reader has not yet seen committed. */
typedef struct pend {
    sl_pos_t first, last;
} pend_t;

typedef struct lane {
    /* reader side */
    sl_cbatch_builder_t bb;
    bool open;            /* bb holds changes not yet published */
    sl_pos_t first;       /* position of bb's first change */
    int64_t opened_ms;
    sl_pos_t published;   /* last position published in this session */
    bool sent_first;
    pend_t *q;
    int qhead, qn, qcap;
    /* writer side, under mu */
    sl_pos_t committed;   /* last position committed (or found committed) in this session */
    sl_pos_t safe;        /* the lane checkpoint a crash would keep (target ckpt_durable);
                             below committed while the target spools committed changes */
    /* the lane checkpoint read at the start of a session */
    bool ck_found;
    uint64_t ck_flush;
} lane_t;

struct sl_copy;    /* engine/cdc_copy_int.h */
struct sl_cdc_ctl; /* engine/cdc_ctl.c */

/* Monitoring (monitor/stats.h): one table's figures of the change stream. */
typedef struct cdc_tstats {
    _Atomic int64_t rows_read, rows_written, bytes_read, bytes_written, rows_rejected;
    int64_t est_rows; /* the source's estimate when the table was described */
} cdc_tstats_t;

/* A source transaction seen whole (or a heartbeat), not yet confirmed. */
typedef struct xact {
    uint64_t lsn, end;
} xact_t;

typedef struct cdc {
    sl_run_t run;            /* the bus, the flags, the lanes' counters, the stats publisher;
                                run.restart ends the session */
    const sl_spec_t *spec;
    const sl_load_opts_t *opts;
    int lanes;
    size_t batch_bytes;
    int batch_rows;
    const struct sl_cdc_ops *ops; /* the source's kind, for what every connection shares */
    sl_cdc_t *conn;               /* the session's source connection (reader thread) */

    sl_table_t **tables;     /* the source's descriptions: tables[i] is maps[i]->src */
    sl_map_t **maps;         /* each table's mapping (engine/mapping.h): what the reader
                                makes of its changes, and the target table writers write */
    int ntables;
    pthread_rwlock_t schema;

    lane_t *lane;
    uint64_t epoch;          /* the reader session */

    /* reader state (one thread) */
    xact_t *xq;
    int xhead, xn, xcap;
    bool in_xact;
    int64_t xact_changes;    /* changes seen in the open transaction */
    uint64_t empty_end;      /* end of the last transaction without changes (this session) */
    uint64_t cur_lsn;
    int64_t cur_commit_us;
    uint64_t last_end;       /* end of the last transaction seen whole */
    uint64_t flushable;      /* highest position known applied everywhere */
    sl_pos_t start;          /* where this session's stream starts */
    uint64_t handover;       /* the initial load's position (checkpoint "cdc_start") */
    int64_t last_hb_ms;
    int64_t last_log_ms;
    int64_t last_log_applied;
    int64_t stop_seen_ms;    /* when a stop request was first seen */
    sl_value_t *mapx;        /* the reader's scratch for mapped changes (sl_map_change) */
    int mapx_cap;
    sl_target_t *admin;      /* schema changes and the tables checkpoint */

    _Atomic bool session_over;
    _Atomic bool want_durable; /* a drain waits for every lane's commits to be durable */
    _Atomic int64_t target_down_ms;  /* since when a lane cannot reach the target (0: it can) */

    _Atomic int64_t changes_read;
    _Atomic int64_t changes_applied;
    _Atomic int64_t lag_us;
    _Atomic uint64_t server_end;
    _Atomic uint64_t confirmed;
    char confirmed_text[96];  /* confirmed as the source writes it, under mu */

    /* monitoring: per-table counters (index as in tables[]); the labels are copied
     * because a schema change swaps tables[] under the publisher */
    cdc_tstats_t *tstats;
    char **tnames;
    int ntstats;

    /* copying tables beside the stream and changing the table set (engine/cdc_copy.h) */
    struct sl_copy *copy;
    json_t *gens;              /* the "cdc_copy" checkpoint: each table's copy generations */
    struct sl_cdc_ctl *ctl;    /* requests while it runs (cdc_ctl.c) */
    json_t *retable;           /* a table set change, applied between two sessions */
    const char *const *removed; /* tables removed in this run (stats: "removed") */
} cdc_t;

int64_t sl_cdc_now_ms(void);
/* The checkpoint key of a lane: "cdc:<n>". */
void sl_cdc_lane_key(int lane, char *buf, int size);
/* Lane checkpoint position text {"lsn":"X/Y","idx":n,"flush":"X/Y"} and back: packed
 * positions (source/cdc.h), the form every checkpoint has had. */
char *sl_cdc_pos_json(sl_pos_t pos, uint64_t flush);
int sl_cdc_pos_parse(const char *text, sl_pos_t *pos, uint64_t *flush);
/* pos as the source writes it ("0/1A2B3C8", "GTID 0-11-500", "mysql-bin.000003:1234")
 * into buf, which it returns. Reader thread (it asks the session's connection). */
const char *sl_cdc_pos_text(cdc_t *cd, uint64_t pos, char *buf, size_t size);
/* Sets the confirmed position, and its text for the stats. Reader thread. */
void sl_cdc_set_confirmed(cdc_t *cd, uint64_t pos);

/* The admin connection to the target (cd->admin, opened when first needed; closed
 * again after a failure). Reader thread, or the orchestrator between sessions. */
int sl_cdc_admin(cdc_t *cd, sl_err_t *err);
void sl_cdc_admin_lost(cdc_t *cd);

/* cdc_reader.c: the handler given to the source's stream(). */
void sl_cdc_reader_handler(cdc_t *cd, sl_cdc_handler_t *h);
/* Publishes every open batch and waits until every lane has committed all it was
 * sent, and the target made it durable; false when stopping first. */
bool sl_cdc_drain(cdc_t *cd);
void sl_cdc_reader_reset(cdc_t *cd); /* a new session: empty queues and builders */

/* cdc_writer.c: the change stream's writer lanes (the mode given to engine/lane.h,
 * with the cdc_t as its state). */
extern const sl_lane_ops_t sl_cdc_lane_ops;

/* cdc_schema.c: the stream's tables and their mappings. Stores them as checkpoint
 * "cdc_tables" (so that a rerun maps the change stream with the columns the target
 * has, and as it started), and reads them back into cd->maps and cd->tables. */
int sl_cdc_store_tables(cdc_t *cd, sl_target_t *tgt, sl_err_t *err);
int sl_cdc_tables_from_json(cdc_t *cd, const char *text, sl_err_t *err);
/* Takes the maps maps[0..n) over as the stream's (cd->maps, cd->tables). */
void sl_cdc_set_maps(cdc_t *cd, sl_map_t **maps, int n);
/* Frees the stream's maps and tables. */
void sl_cdc_free_maps(cdc_t *cd);
/* The source now sends table ti with the columns relcols: ADD COLUMN and DROP COLUMN
 * are applied to the target and the description is swapped; anything else stops the
 * stream. Runs on the reader's thread with every lane drained. */
int sl_cdc_schema_change(cdc_t *cd, int ti, const char *const *relcols, int nrel, sl_err_t *err);

#endif
