/*
 * mysql_apply.h: internals of CDC apply on the MariaDB/MySQL target, shared by
 * mysql_apply.c (apply_changes: the hold, the flush, single changes, multi-row
 * INSERTs) and mysql_apply_set.c (a group of UPDATEs or DELETEs, one statement).
 * Everything runs on the writer lane's thread, inside the lane's open transaction.
 */
#ifndef SL_TARGET_MYSQL_MYSQL_APPLY_H
#define SL_TARGET_MYSQL_MYSQL_APPLY_H

#include <stdint.h>

#include "target/apply_set.h"
#include "target/mysql/mysql_target.h"

/* What the target's copy of a table allows (read from information_schema, kept for a
 * minute). */
typedef struct sl_mysql_tinfo {
    char *name; /* owned */
    int64_t read_ms;
    bool found;   /* the table exists */
    bool leveled; /* no unique index but the primary key */
} sl_mysql_tinfo_t;

struct sl_mysql_apply {
    sl_apply_hold_t hold; /* changes received, not yet applied */
    sl_apply_plan_t plan;
    sl_mysql_tinfo_t *info;
    int ninfo;
};

/* ---- mysql_apply.c ---- */
/* Appends the literal of value v of column col of t, or NULL; a value MySQL cannot
 * store is SL_E_DATA naming the table, the column and ch's key. */
int sl_mysql_apply_value(sl_buf_t *b, const sl_table_t *t, int col, const sl_value_t *v,
                         const sl_change_t *ch, sl_err_t *err);
/* Runs the statement in tgt->stmt; a server error names the table and ch ("rows" when
 * NULL). */
int sl_mysql_apply_run(sl_mysql_tgt_t *tgt, const sl_table_t *t, const sl_change_t *ch,
                       const char *verb, sl_err_t *err);
/* The largest statement to build: below max_allowed_packet. */
size_t sl_mysql_apply_bound(const sl_mysql_tgt_t *tgt);

/* ---- mysql_apply_set.c ---- */
/* Applies a group of UPDATEs (one multi-table UPDATE ... JOIN over the rows as a derived
 * table) or DELETEs (DELETE ... WHERE key IN (...)) of distinct keys; a row that is
 * missing is the "diverged" error naming its key. */
int sl_mysql_apply_group(sl_mysql_tgt_t *tgt, const sl_table_t *t, const sl_change_t *const *chs,
                         int n, sl_step_kind_t kind, sl_err_t *err);

#endif
