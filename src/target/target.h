/*
 * target.h: the one ops table every database target (PostgreSQL, MariaDB/MySQL)
 * implements.
 *
 * A sl_target_t is one connection, used by one thread at a time (each writer lane
 * opens its own). Implementations embed `sl_target_t base` as their first member.
 * Tables are created in the target's own namespace: PostgreSQL puts them in the
 * URL's ?schema= (default public), MySQL in the URL's database; the table's name
 * keeps its case and is always quoted.
 *
 * Checkpoints (docs/design.md "Exactly once") live in a table `_sluice_checkpoint`
 * (stream, key, epoch, seq, position, done, updated_at) beside the data, so that a
 * batch and its checkpoint commit in one transaction.
 *
 * Fencing (docs/cluster.md "Fencing"): a connection whose `fence` is set (the epoch of
 * the lease under which its process runs the stream) writes every checkpoint only
 * while the stream's fence checkpoint (key "fence", its epoch the newest lease's) is
 * not newer, checked in the same transaction under a shared lock on the fence row; a
 * ckpt_put of the key "fence" itself raises the fence (never lowers it) under an
 * exclusive lock, so it waits for the transactions in flight under the old fence.
 */
#ifndef SL_TARGET_TARGET_H
#define SL_TARGET_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/url.h"
#include "model/batch.h"
#include "model/change.h"
#include "model/schema.h"

typedef struct sl_target sl_target_t;

/* The data dir whose spool/ the file targets (s3://) encode in by default (`sluice run`
 * sets it at start; unset: a private temporary directory per target). */
void sl_target_spool_root(const char *data_dir);

typedef struct sl_ckpt {
    int64_t epoch;
    int64_t seq;
    char *position; /* owned; NULL when none */
    bool done;
} sl_ckpt_t;

void sl_ckpt_clear(sl_ckpt_t *ck); /* frees position, zeroes the rest */

typedef int (*sl_ckpt_fn)(void *ctx, const char *key, const sl_ckpt_t *ck, sl_err_t *err);

/* One row or change that options.on_error "reject" kept from the target (docs/mapping.md):
 * a row of `_sluice_rejects` (database targets) or a line of _sluice/rejects/ (files).
 * Every field is borrowed. */
typedef struct sl_reject {
    const char *table;    /* the source table, as in messages ("schema.name" or "name") */
    const char *key;      /* JSON array of the key values in key order; NULL: keyless */
    const char *column;   /* the column that could not be stored; NULL: not one column */
    const char *reason;
    const char *row;      /* JSON object of the row, by source column name */
    const char *position; /* the source position, as the source writes it */
} sl_reject_t;

/* Why a target would refuse a value, and the cast that would carry it (refuses op). */
typedef struct sl_refusal {
    char why[200];
    const char *cast;     /* a SQL type of the target that stores the value's text; NULL: none */
} sl_refusal_t;

typedef enum sl_savepoint_op {
    SL_SAVEPOINT_SET,      /* SAVEPOINT */
    SL_SAVEPOINT_RELEASE,  /* RELEASE SAVEPOINT */
    SL_SAVEPOINT_ROLLBACK, /* ROLLBACK TO SAVEPOINT, then RELEASE it */
} sl_savepoint_op_t;

#define SL_REJECTS_TABLE "_sluice_rejects"

struct sl_target_ops {
    const char *name; /* "pg", "mysql" */
    /* Rows a change stream copies beside its changes reach apply_changes as SL_OP_COPY
     * (file targets record them as snapshot rows, _op "read"); otherwise as INSERTs. */
    bool takes_copy_rows;
    int (*connect)(const sl_url_t *url, sl_target_t **out, sl_err_t *err);
    void (*close)(sl_target_t *tgt); /* NULL is a no-op */

    /* Schema phase (autocommit, before any data). */
    /* Creates _sluice_checkpoint if missing; a missing privilege is SL_E_PRIVILEGE with
     * a hint naming the GRANT to run. */
    int (*ckpt_setup)(sl_target_t *tgt, sl_err_t *err);
    /* Whether the target table exists, and if so whether it holds any row. */
    int (*table_state)(sl_target_t *tgt, const sl_table_t *t, bool *exists, bool *has_rows,
                       sl_err_t *err);
    /* Drops the table (if drop) and creates it: columns, NOT NULL, literal defaults,
     * primary key. No secondary index, unique constraint or foreign key yet. Also
     * creates the types the table needs (PostgreSQL enums). */
    int (*create_table)(sl_target_t *tgt, const sl_table_t *t, bool drop, sl_err_t *err);
    int (*truncate_table)(sl_target_t *tgt, const sl_table_t *t, sl_err_t *err);
    /* Drops the table if it exists (a table removed from a change stream with drop). */
    int (*drop_table)(sl_target_t *tgt, const sl_table_t *t, sl_err_t *err);
    /* After the data: secondary indexes and unique constraints, then the identity /
     * auto-increment counter past the largest value. Idempotent (a rerun after a crash
     * skips what exists). */
    int (*finish_table)(sl_target_t *tgt, const sl_table_t *t, sl_err_t *err);
    /* After every table is finished: its foreign keys. Idempotent. */
    int (*finish_fkeys)(sl_target_t *tgt, const sl_table_t *t, sl_err_t *err);

    /* Data phase: one transaction per batch. */
    int (*begin)(sl_target_t *tgt, sl_err_t *err);
    int (*commit)(sl_target_t *tgt, sl_err_t *err);
    void (*rollback)(sl_target_t *tgt);
    /* Reads (and locks until commit) one checkpoint. *found false leaves ck zeroed. */
    int (*ckpt_get)(sl_target_t *tgt, const char *stream, const char *key, sl_ckpt_t *ck,
                    bool *found, sl_err_t *err);
    /* Inserts or updates one checkpoint (in the open transaction, or autocommit). */
    int (*ckpt_put)(sl_target_t *tgt, const char *stream, const char *key, const sl_ckpt_t *ck,
                    sl_err_t *err);
    /* Optional (NULL: a commit is durable when it returns). A target that keeps committed
     * batches in a spool and stores them later (the file target's change files, which
     * rotate by rows, bytes and time) makes durable, between transactions, what is due
     * by now (everything when all), then sets *ck to the checkpoint of key that a crash
     * now would leave in effect (*found false: none). The engine confirms no source
     * position past it (docs/files.md "Exactly once"). */
    int (*ckpt_durable)(sl_target_t *tgt, const char *stream, const char *key, bool all, sl_ckpt_t *ck,
                        bool *found, sl_err_t *err);
    /* Calls fn for every checkpoint of the stream (autocommit read). A target without
     * the checkpoint table yet has no checkpoints: 0 calls, not an error. */
    int (*ckpt_list)(sl_target_t *tgt, const char *stream, sl_ckpt_fn fn, void *ctx,
                     sl_err_t *err);
    /* Deletes every checkpoint of the stream (nothing to do without the table). */
    int (*ckpt_delete)(sl_target_t *tgt, const char *stream, sl_err_t *err);
    /* Writes every row of the batch into t (in the open transaction). A value that
     * cannot be stored is SL_E_DATA naming the table, the column and the row's key. */
    int (*write_rows)(sl_target_t *tgt, const sl_table_t *t, sl_batch_view_t *batch,
                      sl_err_t *err);
    /* Deletes every row of t (in the open transaction). */
    int (*delete_all)(sl_target_t *tgt, const sl_table_t *t, sl_err_t *err);

    /* CDC (model/change.h). Applies n changes of table t, in order, in the open
     * transaction. The changes are borrowed for the call only; the target may copy and
     * hold them and apply them later in the same transaction (set-based apply, see
     * target/apply_set.h): at the latest in ckpt_get, ckpt_put or commit, whose errors
     * may therefore be a change's; rollback drops what is held. Held changes may be
     * applied grouped per table and, between changes of different keys, reordered, as
     * long as every row ends as applying them one by one in order would leave it and each
     * change is applied exactly once (so row triggers fire once per change); t must stay
     * valid until then. Rows are found by primary key (from old when given, else from
     * row); a keyless table matches one row on every column of old. Unchanged (TOASTed)
     * values are left as they are. An UPDATE or DELETE that finds no row is SL_E_DATA
     * ("the target has diverged"), naming the table and the key; TRUNCATE empties the
     * table without ending the transaction. */
    int (*apply_changes)(sl_target_t *tgt, const sl_table_t *t, const sl_change_t *chs, int n,
                         sl_err_t *err);
    /* Schema changes of a replicated table (autocommit, idempotent: a column that is
     * already there, or already gone, is not an error). t is the table before the change. */
    int (*add_column)(sl_target_t *tgt, const sl_table_t *t, const sl_column_t *c, sl_err_t *err);
    int (*drop_column)(sl_target_t *tgt, const sl_table_t *t, const char *name, sl_err_t *err);

    /* Rejected rows (options.on_error "reject"; docs/mapping.md). Rejects are written in
     * the batch's own transaction, so that they are exactly once with it. */
    /* Creates the rejects table if missing (autocommit, before any data); reset first
     * deletes every reject of the stream (a load that starts over). */
    int (*rejects_setup)(sl_target_t *tgt, const char *stream, bool reset, sl_err_t *err);
    /* Records n rejects in the open transaction; clear_table (may be NULL) first deletes
     * the stream's rejects of that source table (a keyless table copied again). */
    int (*rejects_write)(sl_target_t *tgt, const char *stream, const sl_reject_t *r, int n,
                         const char *clear_table, sl_err_t *err);
    /* In the open transaction: whether the stream recorded a reject of the row with key
     * `key` (JSON array) of source table `table`. */
    int (*rejects_find)(sl_target_t *tgt, const char *stream, const char *table, const char *key,
                        bool *found, sl_err_t *err);
    /* In the open transaction, the one savepoint sluice uses to isolate a row the server
     * refuses. SET and RELEASE first apply what apply_changes holds, so that a held
     * change's error surfaces there. NULL: the target has no savepoints (files). */
    int (*savepoint)(sl_target_t *tgt, sl_savepoint_op_t op, sl_err_t *err);

    /* Planning (pure: no connection, any thread; NULL when the target has none). */
    /* The CREATE TABLE statement(s) create_table runs for t, into out (`sluice check`);
     * url is the target's. */
    int (*create_sql)(const sl_url_t *url, const sl_table_t *t, sl_buf_t *out, sl_err_t *err);
    /* Whether value v (canonical, not NULL) of column c of t would be refused by the
     * column create_table makes for it: 0 when it fits, 1 with r filled when not. tgt
     * is a connection of this target when there is one (a file target's format is its
     * URL's), else NULL. */
    int (*refuses)(const sl_target_t *tgt, const sl_table_t *t, const sl_column_t *c, const sl_value_t *v,
                   sl_refusal_t *r);
    /* Whether values of column c of t may be refused, before any is seen (`sluice
     * check`): 1 with r saying which and the cast that carries them, 0 when every value
     * of its type fits. tgt as for refuses. */
    int (*may_refuse)(const sl_target_t *tgt, const sl_table_t *t, const sl_column_t *c, sl_refusal_t *r);
    /* Generated column col of t, from another engine: 0 with the expression in the
     * target's dialect appended to out (names: the target name of each column, NULL
     * entries for columns left out); 1 with why when it cannot be recreated faithfully. */
    int (*generated)(const sl_table_t *t, int col, const char *const *names, sl_buf_t *out, char *why,
                     size_t whylen, sl_err_t *err);
};

struct sl_target {
    const struct sl_target_ops *ops;
    int64_t fence; /* the lease epoch checkpoints are written under; 0: no fencing */
};

#define SL_CKPT_FENCE "fence" /* the checkpoint key of a stream's fence */

/* The fence every target connection this process opens gets (sl_target_open); 0 (the
 * default): none. `sluice run --fence-epoch N` sets it. */
void sl_target_fence_default(int64_t epoch);
/* Raises stream's fence on tgt to tgt->fence (autocommit): from then on the target
 * refuses the checkpoint writes of every connection with an older epoch, and those in
 * flight have ended. 0 also when tgt->fence is 0 or the target holds no checkpoint
 * table yet (nothing was written that a new owner reads); SL_E_CONFLICT (fatal) when a
 * newer fence is there: another process owns the stream now. */
int sl_target_fence_raise(sl_target_t *tgt, const char *stream, sl_err_t *err);
/* For implementations: the error of a checkpoint write that the fence refuses (mine:
 * the connection's epoch, theirs: the fence's). Returns -1. */
int sl_target_fenced(sl_err_t *err, const char *stream, const char *key, int64_t mine, int64_t theirs);

const struct sl_target_ops *sl_target_lookup(const char *scheme);
int sl_target_open(const char *url, sl_target_t **out, sl_err_t *err);

static inline void sl_target_close(sl_target_t *tgt)
{
    if (tgt)
        tgt->ops->close(tgt);
}

/* "key=(v1, v2)" describing row idx of a batch for error messages, into buf. */
const char *sl_target_row_key(const sl_table_t *t, const sl_batch_view_t *batch, uint32_t idx,
                              char *buf, int size);

#endif
