/*
 * reject.h: values the target cannot store (docs/mapping.md "on_error"). With
 * options.on_error "fail" (the default) such a value fails the stream with an error that
 * names the table, the column, the row's key, the value and the cast that would carry it;
 * with "reject" the row or change is not written but recorded, in the same target
 * transaction as its batch (target.h rejects_write), so rejects are exactly once too.
 *
 * How a writer finds the rows to reject, without slowing the batches that have none:
 *   1. screening in C: every row is checked against what the target is known to refuse
 *      (target.h refuses: NaN and infinite dates for MariaDB, a TIME past 24:00 or a NUL
 *      byte for PostgreSQL), column by column, only for the columns that can fail;
 *   2. isolating on the server: a batch the server still refuses (a strict-mode INSERT, a
 *      COPY, a constraint) is rolled back and applied again in halves under a savepoint,
 *      down to the single rows it refuses, which are rejected with the server's message.
 *      Only batches that hit such an error pay for it.
 * A change to a row that was rejected before (CDC): an UPDATE that finds no row is
 * written as an INSERT when it carries the whole new row, else rejected too; a DELETE
 * of it writes nothing. A missing row that was never rejected still fails: the target
 * has diverged.
 *
 * One sl_rejects_t per writer lane (its thread only): it collects the rejects of the
 * open transaction and counts them per table for the stats once committed.
 */
#ifndef SL_ENGINE_REJECT_H
#define SL_ENGINE_REJECT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "engine/mapping.h"
#include "model/batch.h"
#include "model/change.h"
#include "target/target.h"

typedef struct sl_rejects {
    const char *stream;
    bool reject;        /* options.on_error "reject" */
    sl_reject_t *items; /* this transaction's, their strings owned */
    int n, cap;
    int64_t *counts;    /* per table index: this transaction's rejects */
    int ntables;
} sl_rejects_t;

void sl_rejects_init(sl_rejects_t *rj, const char *stream, bool reject, int ntables);
void sl_rejects_free(sl_rejects_t *rj);
/* Forgets the transaction's rejects (rolled back, or written and committed). */
void sl_rejects_reset(sl_rejects_t *rj);

/* Writes the transaction's rejects in the open transaction (nothing when none, unless
 * clear_table: then the stream's rejects of that source table go first). */
int sl_rejects_write(sl_rejects_t *rj, sl_target_t *tgt, const char *clear_table, sl_err_t *err);

/* True when err is a value or constraint the server refused (worth isolating): not a
 * lost connection, not a bug. */
bool sl_rejects_isolable(const sl_rejects_t *rj, const sl_err_t *err);

/* Load: writes the rows of batch v of table ti (map m) into t = m->tgt, screening each
 * row first; isolate: the server refused this batch before, so write it in halves under
 * a savepoint and reject the rows it refuses. position names the batch in rejects. */
int sl_rejects_write_rows(sl_rejects_t *rj, sl_target_t *tgt, const sl_map_t *m, int ti, sl_batch_view_t *v,
                          const char *position, bool isolate, sl_err_t *err);

/* CDC: applies the n changes of table ti (map m: changes have m->tgt's columns) as
 * apply_changes does, screening each new row first; isolate as above, one change at a
 * time at the end, with the rules for changes to rejected rows. pos_text formats a
 * change's position for rejects. */
typedef const char *(*sl_pos_text_fn)(void *ctx, sl_pos_t pos, char *buf, size_t size);
int sl_rejects_apply(sl_rejects_t *rj, sl_target_t *tgt, const sl_map_t *m, int ti, const sl_change_t *chs, int n,
                     bool isolate, sl_pos_text_fn pos_text, void *pos_ctx, sl_err_t *err);

/* ---- shared by reject.c and reject_apply.c ---- */

/* Records row (m->tgt's columns; keyrow: the values that hold its key when row lacks
 * them, else NULL) of table ti as rejected. */
void sl_rejects_add(sl_rejects_t *rj, const sl_map_t *m, int ti, const sl_value_t *row, const sl_value_t *keyrow,
                    const char *column, const char *reason, const char *position);
/* Checks row with the target's refuses op: 0 when it fits; 1 when it was refused and
 * recorded ("reject"); -1 with the error that names table, column, key, value and cast
 * ("fail"). */
int sl_rejects_screen(sl_rejects_t *rj, const sl_target_t *tgt, const sl_map_t *m, int ti, const sl_value_t *row,
                      const sl_value_t *keyrow, const char *position, sl_err_t *err);
/* Whether this transaction rejected the row with keyrow's key. */
bool sl_rejects_has_key(const sl_rejects_t *rj, const sl_map_t *m, const sl_value_t *keyrow);
/* The key of keyrow as rejects record it (JSON; caller frees), NULL for a keyless table. */
char *sl_rejects_key(const sl_map_t *m, const sl_value_t *keyrow);

#endif
