/*
 * cdc_copy.h: copying tables beside a running change stream (docs/cdc.md "Copying tables
 * beside the stream"): the initial copy of a new stream, a table added to a running one,
 * a table resynced. Not a public interface; engine/cdc.h is.
 *
 *   cdc_copy.c       the reader side: which tables copy, chunks read in snapshots and sent
 *                    through the lanes, the changes of a table being copied kept, dropped
 *                    or cut in half, the per-table state the stats show;
 *   cdc_copy_state.c the stored state: the "cdc_copy" checkpoint (generations), the copy
 *                    state of each lane in its checkpoint, marks;
 *   cdc_copy_lane.c  the writer side: copy rows and marks applied with the lane checkpoint;
 *                    a table that fails alone (options.table_errors "stop_table");
 *   cdc_tables.c     the stream's table set: adding, removing, resyncing tables (at run
 *                    start, and on requests while it runs);
 *   cdc_keys.c       primary keys in the source's order (pure).
 *
 * The algorithm in one paragraph (the proofs are in docs/cdc.md): a table is read in
 * chunks in key order, each in a snapshot of its own, on a connection beside the stream,
 * while the reader stands between two transactions; the rows go to the lanes at that
 * point of the stream. For each key the snapshot sees a prefix of the key's changes (row
 * locks order them), so a later change of a key in the chunk is dropped when the snapshot
 * saw it and kept when it did not; a change of a key above the chunk is dropped (a later
 * chunk reads its later state); below, it is applied. The snapshot's horizon bounds where
 * a change it saw can still come in the stream; past it the chunk's keys are plainly
 * copied. What a lane applied of a copy is in its checkpoint, committed with the rows.
 */
#ifndef SL_ENGINE_CDC_COPY_H
#define SL_ENGINE_CDC_COPY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "model/change.h"
#include "model/schema.h"
#include "source/cdc.h"

struct sl_cdc_run;

/* ---- keys (cdc_keys.c, pure) -------------------------------------------------------- */

/* A key: its values in primary-key order (owned). */
typedef struct sl_cdc_key {
    sl_value_t *v;
    int n;
} sl_cdc_key_t;

/* Whether values of this type compare in the source's order (see cdc_keys.c). */
bool sl_cdc_key_type_ok(sl_type_t type);
/* Whether t has a primary key of such types only. */
bool sl_cdc_key_orderable(const sl_table_t *t);
/* A JSON array of npk strings into k: 0, or -1 when it is not one. */
int sl_cdc_key_parse(const char *json, int npk, sl_cdc_key_t *k);
void sl_cdc_key_free(sl_cdc_key_t *k);
/* The key of row (a full row of t) as a JSON array of its canonical texts (malloc'd). */
char *sl_cdc_key_json(const sl_table_t *t, const sl_value_t *row);
/* The same for a key. */
char *sl_cdc_key_json_of(const sl_table_t *t, const sl_cdc_key_t *k);
/* Two values of one type, in the source's order: <0, 0, >0. */
int sl_cdc_key_cmp_values(sl_type_t type, const sl_value_t *a, const sl_value_t *b);
/* The key of row (a full row of t) against k. */
int sl_cdc_key_cmp(const sl_table_t *t, const sl_value_t *row, const sl_cdc_key_t *k);
/* Key a against key b (both of t). */
int sl_cdc_key_cmp_keys(const sl_table_t *t, const sl_cdc_key_t *a, const sl_cdc_key_t *b);

/* ---- a table's copy on one lane (cdc_copy_state.c) --------------------------------- */

/* What a lane has applied of one table's copy; the lane's checkpoint holds it as JSON
 * (sl_cdc_lcopy_to_json) beside its position, in the object "copy" keyed by the table's
 * label. The reader keeps the same, updated as it sends marks and rows. */
typedef struct sl_cdc_lcopy {
    int64_t gen;            /* the generation this lane started (0: none) */
    bool after_end;         /* every key is copied */
    bool has_after;         /* keys up to `after` (inclusive) are copied */
    sl_cdc_key_t after;
    bool win;               /* a window is open: rows read in `snap` */
    bool win_all;           /* ... of every key (a table copied in one piece) */
    bool upto_end;          /* ... above `after`, up to `upto` or to the end */
    bool has_upto;
    sl_cdc_key_t upto;
    sl_cdc_snap_t snap;     /* the window's snapshot and horizon */
    int64_t rows;           /* rows of this generation this lane applied */
    int64_t opens;          /* chunks opened (a piece that was opened and did not end
                               cannot resume) */
    char *fail;             /* options.table_errors stop_table: why it stopped */
} sl_cdc_lcopy_t;

void sl_cdc_lcopy_clear(sl_cdc_lcopy_t *l);
json_t *sl_cdc_lcopy_to_json(const sl_cdc_lcopy_t *l);
int sl_cdc_lcopy_from_json(const json_t *j, const sl_table_t *t, sl_cdc_lcopy_t *l);
/* Applies mark (the JSON of a SL_OP_MARK change) to l; *trunc: the table must be
 * emptied first (a start mark that says so); *clean: l is to be forgotten. */
int sl_cdc_lcopy_mark(sl_cdc_lcopy_t *l, const sl_table_t *t, const json_t *mark, bool *trunc, bool *clean);
/* A copy row with key k (JSON) was applied. */
void sl_cdc_lcopy_row(sl_cdc_lcopy_t *l, const sl_table_t *t, const sl_value_t *row);
/* Closes a window whose horizon the stream passed: its keys are copied. */
void sl_cdc_lcopy_close(sl_cdc_lcopy_t *l, const sl_table_t *t);

/* The snapshot's JSON (in marks and checkpoints) and back. */
json_t *sl_cdc_snap_to_json(const sl_cdc_snap_t *s);
int sl_cdc_snap_from_json(const json_t *j, sl_cdc_snap_t *s);

/* The "cdc_copy" checkpoint: per table label {"gen", "done", "rid"}: the generation of
 * its copy (0: never copied, streaming from the start), the last generation finished,
 * and the last resync request applied. */
typedef struct sl_cdc_gen {
    int64_t gen, done;
    char rid[64];
} sl_cdc_gen_t;

int sl_cdc_gen_get(const json_t *all, const char *label, sl_cdc_gen_t *g);
void sl_cdc_gen_set(json_t *all, const char *label, const sl_cdc_gen_t *g);

/* ---- the reader side (cdc_copy.c) --------------------------------------------------- */

typedef enum sl_cdc_tstate {
    SL_CDC_T_STREAMING,
    SL_CDC_T_COPYING,
    SL_CDC_T_FAILED,
    SL_CDC_T_REMOVED,
} sl_cdc_tstate_t;

const char *sl_cdc_tstate_name(sl_cdc_tstate_t s);

/* A session begins: the copy state of every table from the lanes' checkpoints (lanes[i]:
 * the "copy" object of lane i's checkpoint, or NULL) and cd->gens. The tables of cd are
 * those of the session. */
int sl_cdc_copy_session(struct sl_cdc_run *cd, json_t *const *lanes, sl_err_t *err);
/* Reader hooks (cdc_reader.c), on the reader's thread: */
void sl_cdc_copy_begin(struct sl_cdc_run *cd, const sl_cdc_event_t *ev);
/* The stream reached position `end` (a COMMIT's end, a position report). */
void sl_cdc_copy_reached(struct sl_cdc_run *cd, uint64_t end);
/* A change of the stream: 0 with *n changes to send in out[0..*n) (0, 1 or 2: a key
 * change cut in two), -1 on failure. out[] values may point into scratch owned by the
 * copy until the next call. */
int sl_cdc_copy_filter(struct sl_cdc_run *cd, const sl_change_t *c, sl_change_t *out, int *n, sl_err_t *err);
/* Between transactions: reads the next chunk, starts or finishes copies, applies
 * requests. */
int sl_cdc_copy_tick(struct sl_cdc_run *cd, sl_err_t *err);
/* Table ti's description changed (a schema change): a copy in progress starts over. */
int sl_cdc_copy_schema(struct sl_cdc_run *cd, int ti, sl_err_t *err);
/* A position between two transactions of the stream that is past everything sent:
 * marks, copy rows and heartbeats go there. */
sl_pos_t sl_cdc_copy_slot(struct sl_cdc_run *cd);
/* Writer side (cdc_copy_lane.c): a lane failed table ti alone (stop_table). */
void sl_cdc_copy_failed(struct sl_cdc_run *cd, int ti, const char *why);
/* The tables' states for the stats (stats thread). */
sl_cdc_tstate_t sl_cdc_copy_state(struct sl_cdc_run *cd, int ti, int64_t *copied, char *error, size_t size);
void sl_cdc_copy_free(struct sl_cdc_run *cd);
/* Whether a table is being copied (then the session streams no transaction in progress:
 * a change is judged by its transaction, in commit order). */
bool sl_cdc_copy_any(struct sl_cdc_run *cd);

#endif
