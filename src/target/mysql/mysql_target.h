/*
 * mysql_target.h: internals of the MariaDB/MySQL target, shared by its files
 * (mysql_target.c: connection, transactions, checkpoints; mysql_ddl.c: tables,
 * indexes, foreign keys; mysql_write.c: batched INSERTs and error mapping;
 * mysql_apply.c, mysql_apply_set.c: CDC row changes and column changes (mysql_apply.h);
 * mysql_literal.c: the pure canonical -> MySQL mapping of types and values, which
 * the unit tests call directly).
 */
#ifndef SL_TARGET_MYSQL_TARGET_H
#define SL_TARGET_MYSQL_TARGET_H

#include <stdbool.h>
#include <stddef.h>

#include "db/mysql/mysql_db.h"
#include "target/target.h"

typedef struct sl_mysql_tgt {
    sl_target_t base;
    sl_mysql_t my;
    sl_buf_t stmt; /* the INSERT being built (write_rows) */
    sl_buf_t row;  /* one row's VALUES tuple */
    struct sl_mysql_apply *apply; /* mysql_apply.h: changes held; NULL until first used */
} sl_mysql_tgt_t;

extern const struct sl_target_ops sl_mysql_target_ops;

/* mysql_ddl.c */
int sl_mysql_tgt_create_table(sl_target_t *tgt, const sl_table_t *t, bool drop, sl_err_t *err);
int sl_mysql_tgt_finish_table(sl_target_t *tgt, const sl_table_t *t, sl_err_t *err);
int sl_mysql_tgt_finish_fkeys(sl_target_t *tgt, const sl_table_t *t, sl_err_t *err);
/* Appends "`name` type [NOT NULL] [AUTO_INCREMENT] [DEFAULT literal]" (or the generation
 * expression) for column c; width is w[i] from sl_mysql_widths. */
int sl_mysql_column_def(sl_buf_t *b, const sl_table_t *t, const sl_column_t *c, int width,
                        bool autoinc, sl_err_t *err);
/* mysql_write.c */
int sl_mysql_tgt_write_rows(sl_target_t *tgt, const sl_table_t *t, sl_batch_view_t *batch,
                            sl_err_t *err);
/* Resets b to "INSERT INTO `t` (<written columns>) VALUES ". */
int sl_mysql_insert_head(sl_buf_t *b, const sl_table_t *t, sl_err_t *err);
/* mysql_apply.c */
int sl_mysql_tgt_apply_changes(sl_target_t *tgt, const sl_table_t *t, const sl_change_t *chs,
                               int n, sl_err_t *err);
int sl_mysql_tgt_add_column(sl_target_t *tgt, const sl_table_t *t, const sl_column_t *c,
                            sl_err_t *err);
int sl_mysql_tgt_drop_column(sl_target_t *tgt, const sl_table_t *t, const char *name,
                             sl_err_t *err);
/* Applies the changes apply_changes holds; the checkpoint calls and COMMIT call it
 * first. err NULL (rollback, close) drops them. */
int sl_mysql_apply_flush(sl_mysql_tgt_t *tgt, sl_err_t *err);
void sl_mysql_apply_free(struct sl_mysql_apply *a); /* NULL is a no-op */

/* mysql_rejects.c: the rejects and planning ops of target.h */
int sl_mysql_rejects_setup(sl_target_t *tgt, const char *stream, bool reset, sl_err_t *err);
int sl_mysql_rejects_write(sl_target_t *tgt, const char *stream, const sl_reject_t *r, int n,
                           const char *clear_table, sl_err_t *err);
int sl_mysql_rejects_find(sl_target_t *tgt, const char *stream, const char *table, const char *key,
                          bool *found, sl_err_t *err);
int sl_mysql_savepoint(sl_target_t *tgt, sl_savepoint_op_t op, sl_err_t *err);
int sl_mysql_create_sql_op(const sl_url_t *url, const sl_table_t *t, sl_buf_t *out, sl_err_t *err);
int sl_mysql_generated(const sl_table_t *t, int col, const char *const *names, sl_buf_t *out, char *why,
                       size_t whylen, sl_err_t *err);

/* ---- pure mapping (mysql_literal.c) ---------------------------------------- */

/* InnoDB's limits that shape the DDL: index key bytes and row bytes. */
#define SL_MYSQL_MAX_KEY_BYTES 3072
#define SL_MYSQL_MAX_ROW_BYTES 65535

/* True when t's `native` types are MySQL's, so columns are recreated verbatim. */
bool sl_mysql_same_engine(const sl_table_t *t);
/* True when the column is written by INSERT (same-engine generated columns are
 * recomputed by the target instead). */
bool sl_mysql_col_written(const sl_table_t *t, const sl_column_t *c);

/* True when the column is a PostgreSQL array stored as a JSON array (not a key column,
 * not cast). */
bool sl_mysql_array_json(const sl_table_t *t, const sl_column_t *c);
/* The target's refuses op (target.h): what sl_mysql_literal refuses. */
int sl_mysql_refuses(const sl_table_t *t, const sl_column_t *c, const sl_value_t *v, sl_refusal_t *r);
/* The target's may_refuse op: the types sl_mysql_refuses may refuse values of. */
int sl_mysql_may_refuse(const sl_table_t *t, const sl_column_t *c, sl_refusal_t *r);
/* The CREATE TABLE of t (mysql_ddl.c; pure but for its log lines). */
int sl_mysql_create_sql(const sl_table_t *t, sl_buf_t *b, sl_err_t *err);

/* Declared widths of a cross-engine table's varying text and bytes columns:
 * w[i] = characters (text) or bytes (bytes) of varchar/varbinary, 0 for
 * longtext/longblob, -1 for every other column. Primary key columns are narrowed to
 * fit InnoDB's key limit, and the widest non-key columns become long types while
 * the row would exceed MySQL's row size limit. w has t->ncolumns entries. */
void sl_mysql_widths(const sl_table_t *t, int *w);
/* Appends the column's MySQL type (with CHARACTER SET / COLLATE where it applies).
 * width is w[i] from sl_mysql_widths. SL_E_SCHEMA for a type MySQL cannot hold. */
int sl_mysql_column_type(sl_buf_t *b, const sl_table_t *t, const sl_column_t *c, int width,
                         sl_err_t *err);
/* The prefix length an index needs on this column (0 = whole column). */
int sl_mysql_index_prefix(const sl_table_t *t, const sl_column_t *c, int width, int ncols);

/* Appends the SQL literal of one canonical value for column c. Returns 0, or 1 when
 * MySQL cannot store the value (why[] says why: NaN, infinity, a decimal that would
 * be rounded, a BC date...), or -1 on a buffer error (err set). */
int sl_mysql_literal(sl_buf_t *b, const sl_table_t *t, const sl_column_t *c, const char *p,
                     size_t n, char *why, size_t whylen, sl_err_t *err);

#endif
