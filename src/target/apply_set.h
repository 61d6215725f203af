/*
 * apply_set.h: set-based apply, the engine-independent half shared by the PostgreSQL
 * and MariaDB/MySQL targets. Pure: no I/O, unit-tested without a server.
 *
 * Two parts:
 *
 * The hold (sl_apply_hold_t) keeps the changes apply_changes receives until the
 * target applies them (before the checkpoint, at the latest before COMMIT), copied,
 * so that apply_changes may return first. It keeps one queue per table in order of
 * first appearance. A table that is `movable` (nothing on the target ties its rows to
 * another table's: no foreign key either way) has one queue for the whole hold, so
 * its changes are applied together even when the source interleaves tables. A table
 * that is not movable starts a new queue whenever another table came in between, so
 * its changes keep their place relative to every other queue. The hold is bounded in
 * changes and bytes; the caller applies it when sl_apply_hold_full() says so.
 *
 * Before planning, sl_apply_merge() may fold an UPDATE into the INSERT or UPDATE of
 * the same key right before it in the queue (a hot row updated a thousand times in a
 * batch would otherwise grow a chain of a thousand versions inside one target
 * transaction, each update walking it). Every other change stays: inserts and deletes
 * are applied exactly once each, and an update that moves a row to another key is
 * never merged.
 *
 * The plan (sl_apply_plan_t) turns one queue into steps: groups of changes of one
 * kind that a target runs as one statement (a set INSERT, UPDATE or DELETE), and
 * single changes it runs as today, one statement each. Applying the steps in order
 * leaves every row as applying the changes one by one would, and applies every change
 * of the queue exactly once.
 *
 *  - `leveled` tables (a primary key, no other unique index or exclusion constraint,
 *    no foreign key to themselves) are planned by levels: a change's level is one
 *    more than the level of the last earlier change of the same key (both keys, for
 *    an UPDATE that changes its key). Changes of one level touch distinct keys, so
 *    they commute; a level runs its DELETEs, then its UPDATEs (one group per set of
 *    columns carried, see below), then its INSERTs. Deletes first only frees key
 *    values earlier; inserts last only takes them later.
 *  - Other tables keep the source order: runs of consecutive INSERTs become groups,
 *    runs of consecutive DELETEs of distinct keys too, and, when `group_updates`, runs
 *    of UPDATEs of distinct keys; everything else is single. A keyless table's UPDATEs
 *    and DELETEs are always single (rows are matched on every column).
 *  - An UPDATE that changes its key, and groups smaller than `set_min`, are single.
 *  - UPDATE groups carry one set of columns: those whose value is not
 *    SL_VALUE_UNCHANGED (the rest keep their target values).
 *  - TRUNCATE is a single step that everything before it precedes and everything
 *    after it follows.
 *
 * Keys are compared by their canonical bytes (two spellings of one value, "1.0" and
 * "1.00", count as two keys; a source sends one row's key in one spelling).
 *
 * Ownership: the hold owns its copies and its queues; sl_apply_hold_reset() releases
 * every copy at once. A plan owns its arrays and borrows the queue it was built from.
 */
#ifndef SL_TARGET_APPLY_SET_H
#define SL_TARGET_APPLY_SET_H

#include <stdbool.h>
#include <stddef.h>

#include "model/change.h"
#include "model/schema.h"

/* ---- the hold ------------------------------------------------------------------- */

typedef struct sl_apply_queue {
    const sl_table_t *t; /* borrowed: valid until the target's transaction ends */
    bool movable;
    sl_change_t *chs;    /* copies, values in the hold's blocks */
    int n, cap;
} sl_apply_queue_t;

typedef struct sl_apply_hold {
    sl_apply_queue_t *q;
    int nq, capq;
    struct sl_apply_block *blocks; /* where copied values live */
    size_t bytes;                  /* held, values and their bytes */
    int nchanges;
    size_t max_bytes;
    int max_changes;
} sl_apply_hold_t;

void sl_apply_hold_init(sl_apply_hold_t *h, int max_changes, size_t max_bytes);
void sl_apply_hold_free(sl_apply_hold_t *h);
/* Forgets every held change (keeps some memory for the next batch). */
void sl_apply_hold_reset(sl_apply_hold_t *h);
/* Copies chs[0..n) of table t into the hold (aborts when out of memory, as the rest
 * of sluice does). */
void sl_apply_hold_add(sl_apply_hold_t *h, const sl_table_t *t, bool movable,
                       const sl_change_t *chs, int n);
bool sl_apply_hold_full(const sl_apply_hold_t *h);

/* ---- the plan ------------------------------------------------------------------- */

typedef enum sl_step_kind {
    SL_STEP_ONE,      /* one change, on its own */
    SL_STEP_INSERT,   /* INSERTs of distinct keys (or of a keyless table) */
    SL_STEP_UPDATE,   /* UPDATEs of distinct keys, none changing its key, one column set */
    SL_STEP_DELETE,   /* DELETEs of distinct keys */
    SL_STEP_TRUNCATE, /* one TRUNCATE */
} sl_step_kind_t;

typedef struct sl_apply_step {
    sl_step_kind_t kind;
    int first, n; /* plan->order[first .. first + n): the step's changes */
} sl_apply_step_t;

typedef struct sl_apply_mode {
    bool leveled;       /* see above */
    bool group_updates; /* UPDATE runs may be grouped when not leveled */
    int set_min;        /* smallest group (>= 2) */
    int set_max;        /* largest group */
} sl_apply_mode_t;

typedef struct sl_apply_plan {
    sl_apply_step_t *steps;
    int nsteps, capsteps;
    const sl_change_t **order; /* the changes, in the order the steps take them */
    int caporder;
    /* scratch */
    int *level, *idx, caplevel;
    struct sl_key_slot *slots;
    size_t capslots;
    unsigned gen; /* of the slots */
} sl_apply_plan_t;

void sl_apply_plan_free(sl_apply_plan_t *p);
/* Plans chs[0..n) of table t (checked with sl_apply_check). Aborts when out of
 * memory. */
void sl_apply_plan_build(sl_apply_plan_t *p, const sl_table_t *t, const sl_change_t *chs, int n,
                         const sl_apply_mode_t *mode);

/* Merges, in the hold's own copies of queue q's changes (a table with a primary key),
 * every UPDATE that does not change its key into the change of the same key right
 * before it when that is an INSERT or such an UPDATE: the later values win, values the
 * later one left unchanged keep the earlier ones. The rows end the same; the target
 * makes one row operation where the source made several (a row updated many times in a
 * batch costs one UPDATE, not a growing chain of versions in one transaction). Returns
 * how many changes were merged away (q->n shrinks by as many). */
int sl_apply_merge(sl_apply_plan_t *p, sl_apply_queue_t *q);

/* Whether an UPDATE changes its row's key (old given, and a key value differs). */
bool sl_apply_key_changes(const sl_table_t *t, const sl_change_t *ch);
/* Whether two UPDATEs carry the same columns (the same ones SL_VALUE_UNCHANGED). */
bool sl_apply_same_columns(const sl_change_t *a, const sl_change_t *b);

#endif
