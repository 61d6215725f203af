/*
 * pg_source.h: internals of the PostgreSQL source, shared by its files:
 * pg_source.c (ops table, connection, table list, snapshots, key range),
 * pg_describe.c (catalog → sl_table_t) and pg_scan.c (COPY TO STDOUT → rows).
 */
#ifndef SL_SOURCE_PG_PG_SOURCE_H
#define SL_SOURCE_PG_PG_SOURCE_H

#include "db/pg/pg.h"
#include "source/source.h"

typedef struct sl_pg_source {
    sl_source_t base; /* first: the engine sees a sl_source_t */
    sl_pg_t pg;
} sl_pg_source_t;

extern const struct sl_source_ops sl_pg_source_ops;

int sl_pg_source_describe(sl_source_t *src, const char *table, sl_table_t **out, sl_err_t *err);
int sl_pg_source_key_sample(sl_source_t *src, const sl_table_t *t, int64_t every, char ***keys,
                            int *n, sl_err_t *err);
int sl_pg_source_scan(sl_source_t *src, const sl_scan_t *scan, sl_row_fn fn, void *ctx,
                      sl_err_t *err);

/* Pure helpers (unit-tested). */

/* Fills c's type and size facts (length, fixed, precision, scale) from a base
 * type: typname and typtype from pg_type, catalog when it lives in pg_catalog. */
sl_type_t sl_pg_map_type(const char *typname, bool catalog, char typtype, int typmod,
                         sl_column_t *c);
/* The canonical text of a column default as pg_get_expr() prints it, when it is a
 * literal ('abc'::text, 42, -1.5, true, 'x'::mood); NULL when it is an expression
 * (now(), nextval(...)) or NULL::type. The result is malloc'd. bpchar defaults lose
 * their pad, bytea defaults are decoded to raw bytes (NULL if
 * they hold a NUL), money defaults drop currency symbols. */
char *sl_pg_default_literal(const char *expr, sl_type_t type, bool bpchar);
/* The SELECT list entry that reads column c in canonical form (money as numeric). */
int sl_pg_scan_column_expr(sl_buf_t *b, const sl_column_t *c, sl_err_t *err);

#endif
