/*
 * pg_apply.h: internals of CDC apply on the PostgreSQL target, shared by
 * pg_apply.c (apply_changes: the hold, the flush, what the target's tables allow),
 * pg_apply_row.c (one change, one prepared statement) and pg_apply_set.c (a group of
 * changes, one statement over text arrays, or one COPY).
 *
 * Everything runs on the writer lane's thread, inside the lane's open transaction.
 * Statements are sent in libpq pipeline mode; each one sent leaves a `pend` entry that
 * says how to check its result (and which changes it carried, for the messages). The
 * results are read, and the pipeline left, by sl_pg_apply_drain() before anything is
 * run synchronously (a COPY, a PREPARE, the checkpoint, COMMIT).
 */
#ifndef SL_TARGET_PG_PG_APPLY_H
#define SL_TARGET_PG_PG_APPLY_H

#include <stdint.h>

#include "target/apply_set.h"
#include "target/pg/pg_target.h"

#define SL_PG_STMT_CACHE 128
#define SL_PG_NO_VALUE SIZE_MAX /* a NULL parameter in sl_pg_apply.offs */

typedef struct sl_pg_stmt {
    uint64_t hash;
    char *sql; /* owned; NULL for a free slot */
    uint64_t used;
    char name[24];
} sl_pg_stmt_t;

/* What the target's copy of a table allows (read from its catalog, kept for a
 * minute). */
typedef struct sl_pg_tinfo {
    char *name;      /* the table's name in g->pg.schema; owned */
    int64_t read_ms; /* when the catalog was read */
    bool found;      /* the table exists */
    bool movable;    /* no foreign key refers to it or from it */
    bool leveled;    /* no unique index but the primary key, no exclusion constraint,
                        no foreign key to itself */
    int ncols;
    char **cols;     /* column names, and the types to cast text to ("pg_catalog.int4") */
    char **types;
} sl_pg_tinfo_t;

/* How a pending statement's result is checked. */
typedef enum {
    PEND_ROW,      /* one INSERT, UPDATE or DELETE: an UPDATE or DELETE must find its row */
    PEND_TRUNCATE,
    PEND_INSERTS,  /* a set INSERT */
    PEND_UPDATES,  /* a set UPDATE: it must update n rows */
    PEND_DELETES,  /* a set DELETE: it returns the ordinal of the first key it missed */
} sl_pg_pend_kind_t;

typedef struct sl_pg_pend {
    sl_pg_pend_kind_t kind;
    const sl_table_t *t;
    int first, n; /* its changes: sl_pg_apply.pchs[first .. first + n) */
    int info;     /* index of its table's sl_pg_tinfo (set statements) */
} sl_pg_pend_t;

struct sl_pg_apply {
    sl_pg_stmt_t stmts[SL_PG_STMT_CACHE];
    uint64_t tick, next_id;
    sl_buf_t sql;    /* the statement being built */
    sl_buf_t params; /* its parameter values, each NUL-terminated */
    size_t *offs;    /* offset of each parameter in params, SL_PG_NO_VALUE for NULL */
    const char **vals;
    int nparams, cap;
    sl_apply_hold_t hold; /* changes received, not yet sent */
    sl_apply_plan_t plan;
    sl_pg_pend_t *pend;   /* statements sent, results not read yet */
    int npend, cappend;
    const sl_change_t **pchs; /* the changes of pending statements */
    int npchs, cappchs;
    sl_pg_tinfo_t *info;
    int ninfo;
};

/* ---- pg_apply.c ---- */
struct sl_pg_apply *sl_pg_apply_of(sl_pg_target_t *g);
/* Makes room for nparams parameters. */
void sl_pg_apply_params(struct sl_pg_apply *a, int nparams);
/* Reads the results of every pending statement and leaves pipeline mode; the first
 * failure (or a row that was not found) is the error. err NULL drops the results. */
int sl_pg_apply_drain(sl_pg_target_t *g, sl_err_t *err);
/* Sends a->sql's prepared statement with a->params in the pipeline and records how to
 * check its result (the changes chs[0..n) stay valid until the drain). */
int sl_pg_apply_send(sl_pg_target_t *g, sl_pg_pend_kind_t kind, const sl_table_t *t,
                     const sl_change_t *const *chs, int n, int info, const char *what,
                     sl_err_t *err);
/* "schema.table" of t into buf. */
const char *sl_pg_apply_label(const sl_pg_target_t *g, const sl_table_t *t, char *buf, size_t size);
/* The NUL-byte error for column col of ch. Returns -1. */
int sl_pg_apply_nul(const sl_table_t *t, const sl_change_t *ch, int col, const char *label,
                    sl_err_t *err);

/* ---- pg_apply_row.c ---- */
/* Sends one change (INSERT, UPDATE, DELETE) as one prepared statement. */
int sl_pg_apply_one(sl_pg_target_t *g, const sl_table_t *t, const sl_change_t *ch, sl_err_t *err);
/* Appends "$n" to a->sql and v as its value (bytes as bytea hex text). Returns 1 when
 * a text value holds a NUL byte, -1 on a buffer limit. */
int sl_pg_apply_param(struct sl_pg_apply *a, const sl_column_t *c, const sl_value_t *v,
                      sl_err_t *err);
/* The prepared statement for a->sql, preparing it on first use (draining the
 * pipeline first). NULL with err set on failure. */
const sl_pg_stmt_t *sl_pg_apply_prepared(sl_pg_target_t *g, const char *what, sl_err_t *err);
/* Forgets every prepared statement (after a schema change). Autocommit only. */
void sl_pg_apply_forget(sl_pg_target_t *g);

/* ---- pg_apply_set.c ---- */
/* Sends one step of the plan (a group of INSERTs, UPDATEs or DELETEs) of table t whose
 * catalog is a->info[info]. */
int sl_pg_apply_step(sl_pg_target_t *g, const sl_table_t *t, int info,
                     const sl_change_t *const *chs, int n, sl_step_kind_t kind, sl_err_t *err);
/* After a set UPDATE of chs[0..n) updated fewer rows than it carried: the first change
 * whose row is missing (NULL when none is, or on error with err set). */
const sl_change_t *sl_pg_apply_missing(sl_pg_target_t *g, const sl_table_t *t, int info,
                                       const sl_change_t *const *chs, int n, sl_err_t *err);

#endif
