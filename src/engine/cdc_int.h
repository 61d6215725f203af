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

/* A transaction's share of a lane (or a streamed transaction) sent to the broker as a
 * spill (model/change.h) while it is read (cdc_txn.c). */
typedef struct spill {
    uint64_t id;        /* 0: none yet */
    uint64_t first_seq; /* broker sequence of its first part */
    uint32_t nparts;
    uint32_t nchanges;  /* changes in its published parts */
    sl_pos_t first;     /* position of its first change (lane spills) */
} spill_t;

/* A transaction the source streams before it ends (cdc_txn.c). Its changes are spilled
 * as they come, numbered 1..n; a subtransaction's rollback leaves a range out. */
typedef struct subx {
    uint32_t xid;
    uint32_t n_before, kept_before; /* n and kept when its first change came */
} subx_t;

typedef struct sxact {
    uint32_t xid;
    spill_t sp;
    uint32_t n;           /* changes spilled (published or in the builder) */
    uint32_t kept;        /* of which not rolled back */
    uint32_t *ranges;     /* rolled-back index ranges, pairs [from, to] */
    uint32_t nranges, capranges;
    subx_t *subx;         /* subtransactions in the order of their first change */
    uint32_t nsubx, capsubx, last_subxid;
} sxact_t;

typedef struct lane {
    /* reader side */
    sl_cbatch_builder_t bb;
    bool open;            /* bb holds changes not yet published */
    sl_pos_t first;       /* position of bb's first change */
    int64_t opened_ms;
    sl_pos_t published;   /* last position published in this session */
    bool sent_first;
    /* transactions larger than a batch (cdc_txn.c) */
    uint64_t mark_lsn;    /* the transaction whose share of bb begins at mark */
    sl_cbatch_mark_t mark;
    sl_pos_t share_first; /* position of the first change of that share */
    spill_t sp;           /* the spill bb refers to (sp.id != 0: bb is SPILLED) */
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
    _Atomic int64_t rows_copied; /* of rows_written: rows copied beside the stream */
    int64_t est_rows; /* the source's estimate when the table was described */
} cdc_tstats_t;

/* A source transaction seen whole (or a heartbeat), not yet confirmed. */
typedef struct xact {
    uint64_t lsn, end;
} xact_t;

typedef struct sl_cdc_run {
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
    /* transactions larger than a batch (cdc_txn.c) */
    uint64_t spill_ids;      /* spill ids given in this session */
    sl_buf_t tail;           /* a builder's tail moved aside while its head is published */
    sl_cbatch_builder_t sbb; /* the parts of streamed transactions */
    sxact_t *sx;             /* streamed transactions in progress */
    int nsx, capsx;
    int sx_cur;              /* index in sx of the current stream block's, -1 outside */
    uint64_t piece_lsn;      /* the last transaction said to be committed in pieces */
    bool no_streaming;       /* the source streams no transaction in progress (this run) */
    bool streams_xacts;      /* this session's source streams transactions in progress: never
                                while a table is copied (cdc_copy.c judges a change by its
                                transaction, in commit order) */
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
} sl_cdc_run_t;

int64_t sl_cdc_now_ms(void);
/* The checkpoint key of a lane: "cdc:<n>". */
void sl_cdc_lane_key(int lane, char *buf, int size);
/* Lane checkpoint position text {"lsn":"X/Y","idx":n,"flush":"X/Y"} and back: packed
 * positions (source/cdc.h), the form every checkpoint has had. */
char *sl_cdc_pos_json(sl_pos_t pos, uint64_t flush);
int sl_cdc_pos_parse(const char *text, sl_pos_t *pos, uint64_t *flush);
/* pos as the source writes it ("0/1A2B3C8", "GTID 0-11-500", "mysql-bin.000003:1234")
 * into buf, which it returns. Reader thread (it asks the session's connection). */
const char *sl_cdc_pos_text(sl_cdc_run_t *cd, uint64_t pos, char *buf, size_t size);
/* Sets the confirmed position, and its text for the stats. Reader thread. */
void sl_cdc_set_confirmed(sl_cdc_run_t *cd, uint64_t pos);

/* The admin connection to the target (cd->admin, opened when first needed; closed
 * again after a failure). Reader thread, or the orchestrator between sessions. */
int sl_cdc_admin(sl_cdc_run_t *cd, sl_err_t *err);
void sl_cdc_admin_lost(sl_cdc_run_t *cd);

/* cdc_reader.c: the handler given to the source's stream(). */
void sl_cdc_reader_handler(sl_cdc_run_t *cd, sl_cdc_handler_t *h);
/* Publishes every open batch and waits until every lane has committed all it was
 * sent, and the target made it durable; false when stopping first. A batch that holds
 * the open transaction's share is published too: that transaction is then committed in
 * pieces (schema changes, and the barriers of ordering "key"). */
bool sl_cdc_drain(sl_cdc_run_t *cd);
/* The same without waiting for durability: a barrier between lanes (ordering "key"). */
bool sl_cdc_barrier(sl_cdc_run_t *cd);
void sl_cdc_reader_reset(sl_cdc_run_t *cd); /* a new session: empty queues and builders */
/* Publishes lane li's open batch (waiting for room in its window). */
int sl_cdc_publish(sl_cdc_run_t *cd, int li, sl_err_t *err);
void sl_cdc_open_batch(sl_cdc_run_t *cd, int li, sl_pos_t first, uint32_t flags);
/* Sends one message to the broker, retrying what may be retried: a lane batch (spill
 * 0) or a part of spill `spill` (*seq: its broker sequence). */
int sl_cdc_send(sl_cdc_run_t *cd, int li, uint64_t spill, const char *msgid, const char *data, size_t len,
                uint64_t *seq, sl_err_t *err);
/* A source transaction ended at position lsn, end `end` (confirmable once applied);
 * empty: it had no change for the stream. */
void sl_cdc_xact_ended(sl_cdc_run_t *cd, uint64_t lsn, uint64_t end, int64_t commit_us, bool empty);
/* A change of the source as its table's mapping makes it (engine/mapping.h): through the
 * filter (an UPDATE may become an INSERT or a DELETE, or nothing) onto the target's
 * columns, which is what is published. Returns 1 with *out (pointing into c's values or
 * the reader's scratch, valid until the next call), 0 when the filter drops it, -1. */
int sl_cdc_map(sl_cdc_run_t *cd, const sl_change_t *c, sl_change_t *out, sl_err_t *err);
/* Monitoring: a change read, of `size` bytes in a batch. */
void sl_cdc_count_read(sl_cdc_run_t *cd, const sl_change_t *c, size_t size);

/* cdc_txn.c: transactions larger than a batch, on the reader's side. */
/* Makes room in lane li's batch for change c (of the open transaction c->pos.lsn) of
 * `size` bytes, and opens the batch if needed: a full batch is published up to the
 * transaction's share and that share is moved to the next batch, or, when the batch
 * holds nothing but the share, the share is spilled. */
int sl_cdc_txn_room(sl_cdc_run_t *cd, int li, const sl_change_t *c, size_t size, sl_err_t *err);
/* After lane li's batch was published: its spill (if any) is now the writer's. Warns
 * when the batch holds a share of the open transaction (a piece). */
void sl_cdc_txn_published(sl_cdc_run_t *cd, int li);
/* Publishes what lane li's batch holds of transactions that ended (stopping inside a
 * transaction: its share is left to the next run). */
int sl_cdc_txn_publish_ended(sl_cdc_run_t *cd, int li, sl_err_t *err);
/* The STREAM_* events, and CHANGE/RELATION events inside a stream block. */
int sl_cdc_txn_stream_event(sl_cdc_run_t *cd, const sl_cdc_event_t *ev, sl_err_t *err);
void sl_cdc_txn_reset(sl_cdc_run_t *cd); /* a new session */
void sl_cdc_txn_free(sl_cdc_run_t *cd);

/* cdc_spill.c: the writer's side. Hands the parts of spill ref of lane `lane` to fn, in
 * order, keeping the lane's message msg in progress meanwhile. Returns 0; 1 when a part
 * is missing from the broker (it lost it: the session must restart); -1 on error. */
typedef int (*sl_cdc_part_fn)(void *ctx, sl_cbatch_view_t *part, sl_err_t *err);
int sl_cdc_spill_each(sl_cdc_run_t *cd, int lane, const sl_cspill_ref_t *ref, const sl_bus_msg_t *msg,
                      sl_cdc_part_fn fn, void *ctx, sl_err_t *err);
/* Drops spill id from the broker once its transaction is committed (best effort). */
void sl_cdc_spill_drop(sl_cdc_run_t *cd, uint64_t id);

/* cdc_writer.c: the change stream's writer lanes (the mode given to engine/lane.h,
 * with the sl_cdc_run_t as its state). */
extern const sl_lane_ops_t sl_cdc_lane_ops;

/* cdc_schema.c: the stream's tables and their mappings. Stores them as checkpoint
 * "cdc_tables" (so that a rerun maps the change stream with the columns the target
 * has, and as it started), and reads them back into cd->maps and cd->tables. */
int sl_cdc_store_tables(sl_cdc_run_t *cd, sl_target_t *tgt, sl_err_t *err);
int sl_cdc_tables_from_json(sl_cdc_run_t *cd, const char *text, sl_err_t *err);
/* Takes the maps maps[0..n) over as the stream's (cd->maps, cd->tables). */
void sl_cdc_set_maps(sl_cdc_run_t *cd, sl_map_t **maps, int n);
/* Frees the stream's maps and tables. */
void sl_cdc_free_maps(sl_cdc_run_t *cd);
/* The source now sends table ti with the columns relcols: ADD COLUMN and DROP COLUMN
 * are applied to the target and the description is swapped; anything else stops the
 * stream. Runs on the reader's thread with every lane drained. */
int sl_cdc_schema_change(sl_cdc_run_t *cd, int ti, const char *const *relcols, int nrel, sl_err_t *err);

#endif
