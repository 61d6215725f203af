/*
 * mysql_source.h: internals of the MariaDB/MySQL source, shared by its files
 * (mysql_source.c: connection, snapshot, scan; mysql_describe.c: information_schema
 * to sl_table_t; mysql_types.c: the pure native -> canonical mapping of types,
 * defaults and values, which the unit tests call directly).
 */
#ifndef SL_SOURCE_MYSQL_SOURCE_H
#define SL_SOURCE_MYSQL_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "db/mysql/mysql_db.h"
#include "source/source.h"

typedef struct sl_mysql_src {
    sl_source_t base;
    sl_mysql_t my;
    bool ftwrl; /* this connection holds FLUSH TABLES WITH READ LOCK (snapshot_export) */
    uint64_t lock_pos; /* the binlog position seen under that lock (0 = none) */
    int posmode;       /* the URL's position= (gtid.h sl_my_posmode_t) */
} sl_mysql_src_t;

extern const struct sl_source_ops sl_mysql_source_ops;

int sl_mysql_src_key_sample(sl_source_t *src, const sl_table_t *t, int64_t every, char ***keys,
                            int *n, sl_err_t *err);
int sl_mysql_src_describe(sl_source_t *src, const char *table, sl_table_t **out, sl_err_t *err);
/* Starts a consistent snapshot on src to copy a table in beside the change stream and
 * gives its binlog file position (packed: file number << 32 | offset): every
 * transaction before it is seen, none after. MariaDB: START TRANSACTION WITH CONSISTENT
 * SNAPSHOT and its Binlog_snapshot_*; MySQL (which reports no snapshot position): the
 * position under a brief FLUSH TABLES WITH READ LOCK. */
int sl_mysql_src_copy_snapshot(sl_source_t *src, uint64_t *pos, sl_err_t *err);

/* ---- pure mapping (mysql_types.c) ------------------------------------------ */

/* Sets col->type, length, fixed, precision, scale and labels from the
 * information_schema DATA_TYPE ("int") and COLUMN_TYPE ("int(10) unsigned").
 * Returns -1 (col->type SL_T_UNKNOWN) for a type sluice cannot carry. */
int sl_mysql_map_type(sl_column_t *col, const char *data_type, const char *column_type);
/* Parses the labels of enum('a','b''c') / set(...); caller frees. */
int sl_mysql_parse_labels(const char *column_type, char ***labels, int *n);
/* The canonical text of a column default as information_schema.COLUMNS shows it, or
 * NULL when there is none or it is not a literal (current_timestamp(), an
 * expression). MariaDB 10.2+ shows SQL (quoted strings, NULL); MySQL shows the raw
 * value and marks expressions with DEFAULT_GENERATED in `extra`. Caller frees. */
char *sl_mysql_parse_default(const sl_column_t *col, const char *shown, const char *extra,
                             bool mariadb);

/* How a scanned value turns into canonical text. */
typedef enum sl_mysql_vkind {
    SL_MYV_PLAIN,    /* as the server prints it (or raw bytes) */
    SL_MYV_FLOAT32,  /* CAST(... AS DOUBLE) text -> shortest float text */
    SL_MYV_NUMPAD,   /* ZEROFILL numbers: leading zeros dropped */
    SL_MYV_YEAR,     /* "0000" -> "0" */
    SL_MYV_DATE,     /* zero date -> NULL */
    SL_MYV_DATETIME, /* zero date -> NULL, fraction trimmed */
    SL_MYV_TSTZ,     /* as DATETIME, then "+00" */
    SL_MYV_TIME,     /* fraction trimmed */
    SL_MYV_BIT,      /* raw bytes -> '0'/'1' text */
} sl_mysql_vkind_t;

/* Scratch bytes a single value of any non-plain kind needs. */
#define SL_MYV_SCRATCH 96

sl_mysql_vkind_t sl_mysql_value_kind(const sl_column_t *col);
/* Converts one non-NULL server value into canonical form in *out (pointing at p or
 * into scratch[SL_MYV_SCRATCH]). Returns 1 for a value, 0 when it maps to NULL (a
 * zero date), -1 when the text is malformed. */
int sl_mysql_canon_value(sl_mysql_vkind_t kind, const sl_column_t *col, const char *p,
                         size_t n, char *scratch, sl_value_t *out);

#endif
