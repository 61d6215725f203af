/*
 * schema.h: a table's shape as sources describe it and targets create it.
 *
 * A sl_table_t owns every string and array it points to; sl_table_free() releases all
 * of it. Tables travel inside the load plan as JSON (sl_table_to_json /
 * sl_table_from_json), so a writer on another machine sees exactly what the reader saw.
 *
 * `native` keeps the source's own type text (e.g. "int(10) unsigned",
 * "character varying(20)", "public.mood") so that a target of the same engine can
 * recreate the column verbatim; `engine` on the table says which engine that is.
 *
 * A table is made from another one (a copy, or a derived table: columns kept, renamed,
 * cast, added) with sl_table_copy and sl_table_derive, never by editing a shared one:
 * the writer lanes read their tables without a lock while a schema change builds the
 * next description beside them.
 */
#ifndef SL_MODEL_SCHEMA_H
#define SL_MODEL_SCHEMA_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/mem.h"
#include "core/err.h"
#include "model/types.h"

typedef struct sl_column {
    char *name;
    char *source;       /* a derived column's name in the table it was derived from, when it
                           was renamed (sl_table_derive); NULL: the same as name */
    sl_type_t type;
    char *native;       /* source DDL type text */
    int length;         /* max chars (text), max bytes (bytes), bits (bit); 0 = unbounded */
    bool fixed;         /* CHAR(n), BINARY(n), BIT(n) as opposed to the varying forms */
    int precision;      /* decimal precision, 0 = unconstrained */
    int scale;          /* decimal scale; fractional-second digits of time types (-1 = default) */
    bool nullable;
    char *default_value; /* canonical text of a literal default, NULL when none or not literal */
    char **labels;      /* enum / set labels, in order */
    int nlabels;
    sl_type_t elem;     /* array element type */
    char *elem_native;  /* array element native type text, e.g. "integer" */
    bool autoinc;       /* MySQL AUTO_INCREMENT, PostgreSQL identity or serial */
    bool generated;     /* a generated (computed) column */
    char *generation_expr; /* its expression in the source's dialect */
    char *charset;      /* MySQL character set of text columns, NULL elsewhere */
    int pk_pos;         /* 1-based position in the primary key, 0 when not part of it */
    /* Set by a mapping (engine/mapping.h) on a target table only: */
    char *cast;         /* the column's SQL type on the target, in the target engine's own
                           dialect, written verbatim into its DDL; values keep the canonical
                           type above and go to the server as their canonical text (binary
                           types as the engine's bytes literal). NULL: no cast */
    char *target_expr;  /* a generated column of another engine recreated on the target: its
                           expression in the target's dialect; the column is then never
                           written (the target computes it). NULL: none */
} sl_column_t;

typedef struct sl_index {
    char *name;
    bool unique;
    char **columns;     /* column names in key order */
    int ncolumns;
} sl_index_t;

typedef struct sl_fkey {
    char *name;
    char **columns;
    int ncolumns;
    char *ref_schema;   /* the referenced table's source schema (PostgreSQL) or NULL */
    char *ref_table;
    char **ref_columns;
    char *on_delete;    /* "NO ACTION", "CASCADE", "SET NULL", "RESTRICT", "SET DEFAULT" */
    char *on_update;
} sl_fkey_t;

typedef struct sl_table {
    char *engine;       /* "pg" or "mysql": whose native types `native` holds */
    char *schema;       /* source schema (PostgreSQL) or database (MySQL) */
    char *name;         /* case kept */
    sl_column_t *columns;
    int ncolumns;
    sl_index_t *indexes;  /* secondary indexes and unique constraints, not the primary key */
    int nindexes;
    sl_fkey_t *fkeys;
    int nfkeys;
    int64_t est_rows;     /* the source's estimate, -1 unknown */
    int64_t est_bytes;    /* -1 unknown */
    bool view;            /* described from a view (copied as a table by a load) */
    bool old_full;        /* the change stream sends whole old rows of UPDATE and DELETE
                             (PostgreSQL: REPLICA IDENTITY FULL; MariaDB: always) */
    char *target_schema;  /* a mapping's target schema (PostgreSQL targets), NULL: the one
                             of the target URL */
} sl_table_t;

void sl_table_free(sl_table_t *t);
/* Number of primary key columns (0 = no key). */
int sl_table_pk_count(const sl_table_t *t);
/* Index into columns[] of the i-th (0-based) primary key column, -1 if none. */
int sl_table_pk_col(const sl_table_t *t, int i);
/* Index of the column called name, -1 if none. */
int sl_table_find_col(const sl_table_t *t, const char *name);
/* Appends a zeroed column and returns it (NULL on out of memory). */
sl_column_t *sl_table_add_col(sl_table_t *t);
sl_index_t *sl_table_add_index(sl_table_t *t);
sl_fkey_t *sl_table_add_fkey(sl_table_t *t);
/* Removes foreign key i of t (freeing it); the later ones move down. */
void sl_table_drop_fkey(sl_table_t *t, int i);
/* "schema.name" or "name" for messages, into buf. */
const char *sl_table_label(const sl_table_t *t, char *buf, int size);

/* The name of c in the table it was derived from (source, else name). */
const char *sl_column_source(const sl_column_t *c);

/* ---- copying and deriving ----------------------------------------------------------
 *
 * Both return a new table that shares nothing with their inputs (the caller frees it
 * with sl_table_free). Out of memory aborts, as in sl_strdup.
 */

/* A deep copy of t. */
sl_table_t *sl_table_copy(const sl_table_t *t);

/* One column of a derived table, in sl_table_derive: the column it is made from and
 * what changes.
 *
 * - `from` is copied whole: a column of the base table, of another description of it
 *   (a table re-described after a schema change), or a caller's literal (a column the
 *   target adds, such as a change file's "_op").
 * - `name` renames it. The derived column then records from's name in `source` (or
 *   keeps from->source when from was itself renamed), so that a mapping finds the
 *   source column of every target column by name, also after the source's columns
 *   were added or dropped; the key and the indexes follow the new name.
 * - `cast` gives it another type: type, native, length, fixed, precision, scale,
 *   labels, elem, elem_native and charset come from cast instead (cast->native, when
 *   set, is in the base table's engine dialect; NULL lets each target map the
 *   canonical type). The default value goes (a literal of the old type need not be
 *   one of the new); autoinc stays only on an integer type. A generated column cannot
 *   be cast: its expression computes the old type.
 * - `flags`: SL_COL_NULLABLE makes it accept NULL, SL_COL_NO_KEY takes it out of the
 *   primary key, SL_COL_NO_DEFAULT drops its default value.
 */
typedef struct sl_col_edit {
    const sl_column_t *from;
    const char *name;         /* NULL: from's name */
    const sl_column_t *cast;  /* NULL: from's type */
    unsigned flags;
} sl_col_edit_t;

#define SL_COL_NULLABLE 1u
#define SL_COL_NO_KEY 2u
#define SL_COL_NO_DEFAULT 4u

/* sl_table_derive flags: the derived table has no secondary index and no foreign key. */
#define SL_TABLE_NO_INDEXES 1u

/* Builds the table that has the columns cols[0..n) in that order, and base's engine,
 * schema, name and estimates (a caller that renames the table sets name and schema on
 * the result, which owns them). Primary key positions come from the columns; base's
 * indexes and foreign keys are kept with their columns renamed, and dropped when they
 * name a column that is not kept (a column is matched by its from->name). Foreign keys
 * keep their referenced columns as they are. Fails with SL_E_SCHEMA, naming the table
 * and the column, when two columns would have one name, when a column of base's
 * primary key would be left out while others stay in it, or when a generated column
 * is cast. */
int sl_table_derive(const sl_table_t *base, const sl_col_edit_t *cols, int n, unsigned flags, sl_table_t **out,
                    sl_err_t *err);

/* JSON round trip (used by the plan). The returned json_t is a new reference. */
json_t *sl_table_to_json(const sl_table_t *t);
int sl_table_from_json(const json_t *j, sl_table_t **out, sl_err_t *err);


#endif
