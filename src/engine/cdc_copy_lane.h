/*
 * cdc_copy_lane.h: the writer lanes' side of copying tables beside the change stream
 * (cdc_copy_lane.c), the hooks engine/cdc_writer.c calls. Not a public interface.
 * Thread: one lane's; a sl_cdc_wcopy_t belongs to one lane.
 */
#ifndef SL_ENGINE_CDC_COPY_LANE_H
#define SL_ENGINE_CDC_COPY_LANE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/cdc_copy.h"
#include "target/target.h"

struct sl_cdc_run;

/* One lane's copy state of every table, as its checkpoint holds it, changed by the batch
 * being applied (loaded again for each attempt: a rollback forgets the changes). */
typedef struct sl_cdc_wcopy {
    sl_cdc_lcopy_t *l;
    bool *has;       /* l[i] is in the checkpoint */
    int64_t *copied; /* copy rows applied in the open transaction, per table (stats) */
    char **stop;     /* tables that stop alone in this batch: why */
    int n;
} sl_cdc_wcopy_t;

void sl_cdc_wcopy_init(sl_cdc_wcopy_t *w, int n);
void sl_cdc_wcopy_free(sl_cdc_wcopy_t *w);
/* A new batch: no table stops alone in it yet. */
void sl_cdc_wcopy_batch(sl_cdc_wcopy_t *w);
/* Loads it from the lane checkpoint's position text (NULL: no checkpoint), with the
 * tables that stop alone in this batch. */
int sl_cdc_wcopy_load(struct sl_cdc_run *cd, sl_cdc_wcopy_t *w, const char *position, sl_err_t *err);
/* The checkpoint position {"lsn", "idx", "flush", "copy"?} to commit (malloc'd). */
char *sl_cdc_wcopy_position(struct sl_cdc_run *cd, const sl_cdc_wcopy_t *w, sl_pos_t last, uint64_t flush);
/* Before change c is applied: 0 apply it (a copy row becomes an INSERT in *c, unless
 * keep_op: the target takes copy rows as they are), 1 skip
 * it (its table stopped on this lane), 2 it is a mark: apply what is pending first,
 * then sl_cdc_wcopy_mark(). */
int sl_cdc_wcopy_change(struct sl_cdc_run *cd, sl_cdc_wcopy_t *w, sl_change_t *c, bool keep_op);
int sl_cdc_wcopy_mark(struct sl_cdc_run *cd, sl_cdc_wcopy_t *w, sl_target_t *tgt, const sl_change_t *c, sl_err_t *err);
/* Applying table ti's changes failed with err: true when the table stops alone
 * (options.table_errors "stop_table", and the target refused the data): recorded in w,
 * and the transaction is to be applied again without it. */
bool sl_cdc_wcopy_fail(struct sl_cdc_run *cd, sl_cdc_wcopy_t *w, int ti, const sl_err_t *err);
/* The table a target error names, for an error raised after the changes were handed
 * over (a set-based apply runs what it holds at the checkpoint or COMMIT): the index of
 * the stream's table whose name the message quotes, -1 when none or not a data error. */
int sl_cdc_wcopy_blame(struct sl_cdc_run *cd, const sl_err_t *err);
/* After the commit: the copy rows into the stats. */
void sl_cdc_wcopy_settled(struct sl_cdc_run *cd, const sl_cdc_wcopy_t *w);

#endif
