/*
 * filter.h: row filters (`where` in a spec's table entry): one small expression language
 * that a load pushes into the source's SELECT and that CDC evaluates on row images, with
 * the guarantee that both decide every row alike.
 *
 * THE LANGUAGE
 *   condition := condition OR condition | condition AND condition | NOT condition
 *              | ( condition ) | predicate                        (SQL precedence)
 *   predicate := operand cmp operand          cmp: = <> != < <= > >=
 *              | column IS [NOT] NULL
 *              | operand [NOT] IN ( literal, ... )
 *              | operand [NOT] BETWEEN operand AND operand
 *              | column [NOT] LIKE 'pattern' [ESCAPE 'c']         % any run, _ one character
 *              | column                                           a boolean column
 *   operand   := column | literal     (a predicate names at least one column)
 *   column    := name | "Name" (PostgreSQL style) | `Name` (MySQL style); a bare name
 *                matches case-insensitively (an exact match wins), a quoted one exactly
 *   literal   := 12 | -3 | 1.50 | 'text' ('' inside for a quote) | TRUE | FALSE | NULL
 *              | DATE 'yyyy-mm-dd' | TIME 'hh:mm:ss[.f]' | TIMESTAMP 'yyyy-mm-dd hh:mm:ss[.f][+hh[:mm]]'
 * Nothing else: no functions, arithmetic, subqueries or casts. A string literal compared
 * with a number, boolean, date or time column must read as one ('42' for an int column).
 *
 * THE SEMANTICS (the same on PostgreSQL and MariaDB, whatever the columns' collations)
 *   - Text compares by code point (byte order of UTF-8), case-sensitive, trailing spaces
 *     significant (no PAD SPACE): on MariaDB `region = 'eu'` does NOT match 'EU' even
 *     under a _ci collation, and 'a ' <> 'a'. CHAR(n) values compare without their pad
 *     spaces (as sluice carries them). LIKE is case-sensitive; `_` is one character.
 *     Enum and set columns compare as their label text; uuid as its lowercase text.
 *     Rendered SQL: PostgreSQL `(col::text COLLATE "C")`, MariaDB
 *     `(CONVERT(col USING utf8mb4) COLLATE utf8mb4_nopad_bin)`. Ordering assumes a UTF8
 *     PostgreSQL database (equality does not).
 *   - Numbers compare exactly (integers, decimals, money), or as doubles when a float
 *     column takes part (a `real`/FLOAT 0.1 is 0.100000001490116..., not 0.1). A number
 *     never equals a text column: that is a binding error, not MariaDB's silent cast.
 *     PostgreSQL's NaN is equal to itself and above every number, as PostgreSQL sorts it.
 *   - Dates and timestamps compare as instants (a date is its midnight; timestamptz and
 *     MariaDB TIMESTAMP in UTC, which is the session time zone of every sluice connection);
 *     times as signed durations (MariaDB TIME may be negative or over 24 hours).
 *   - NULL is SQL's: a comparison with NULL is unknown, NOT unknown is unknown, and a row
 *     whose condition is unknown is left out, as WHERE does. `x NOT IN (1, NULL)` is never
 *     true.
 *   - Generated columns cannot be filtered on (their values are not in the change stream);
 *     json, arrays, bytes, intervals, bit strings, geometry, network and timetz columns
 *     take only IS [NOT] NULL.
 *
 * LIFE CYCLE AND OWNERSHIP
 *   sl_filter_parse() checks the syntax alone (spec validation, no schema needed);
 *   sl_filter_bind() resolves it against the source table's description (the same
 *   sl_table_t whose column order the rows and change events follow) and copies what it
 *   needs, so the table may be freed afterwards; bind again after a schema change.
 *   A bound filter is immutable: evaluate and render it from any number of threads.
 *   sl_filter_free(NULL) is a no-op. Errors are SL_E_CONFIG in PostgreSQL's style: a
 *   syntax error names the token and its character position (detail with a caret line);
 *   a binding error names the column and suggests near matches.
 *
 * HOW THE ENGINE USES IT (integration contract)
 *   - Spec: parse each table's `where` when the spec is read (sl_filter_parse) so that a
 *     typo fails `sluice check` with exit code 2; bind once the table is described.
 *   - Load: sl_filter_sql(f, dialect, buf) appends one parenthesized boolean expression;
 *     the reader adds `AND <it>` to the WHERE of every stripe's SELECT (after the key range).
 *   - CDC: for each change of a filtered table, sl_filter_route() says what the target
 *     must do, and hands back the change to apply (an UPDATE may become an INSERT or a
 *     DELETE). Do it where changes are read or written, before any column mapping: the
 *     filter reads source columns.
 *   - What the source must send: a filter that reads only primary key columns works with
 *     any source. One that reads other columns needs the whole old row of UPDATEs and
 *     DELETEs: MariaDB sends it (sluice requires binlog_row_image=FULL); PostgreSQL needs
 *     REPLICA IDENTITY FULL on the table. sl_filter_check_old_row() refuses a spec that
 *     lacks it, with the ALTER TABLE as hint; call it when the stream starts.
 */
#ifndef SL_FILTER_FILTER_H
#define SL_FILTER_FILTER_H

#include <stdbool.h>

#include "core/buf.h"
#include "core/err.h"
#include "model/change.h"
#include "model/schema.h"

typedef struct sl_filter sl_filter_t;

/* Parses text. On success *out is the caller's (sl_filter_free); on a syntax error
 * *out is untouched and err says where (SL_E_CONFIG). */
int sl_filter_parse(const char *text, sl_filter_t **out, sl_err_t *err);
/* Resolves columns and literals against t (borrowed; nothing of it is kept). A filter may
 * be bound again (to a newer description of the table). */
int sl_filter_bind(sl_filter_t *f, const sl_table_t *t, sl_err_t *err);
void sl_filter_free(sl_filter_t *f);
/* The text the filter was parsed from. */
const char *sl_filter_text(const sl_filter_t *f);

/* ---- load: SQL for the source's SELECT ----------------------------------------- */

typedef enum sl_filter_dialect {
    SL_FILTER_PG,      /* PostgreSQL (the session sluice opens: UTF8, TimeZone UTC) */
    SL_FILTER_MARIADB, /* MariaDB 10.4+ (utf8mb4 session, time_zone +00:00). Not MySQL 8:
                          it has no utf8mb4_nopad_bin (utf8mb4_0900_bin would serve) */
} sl_filter_dialect_t;

/* Appends the bound filter as one parenthesized SQL boolean expression. Fails
 * (SL_E_CONFIG) only for literals the dialect cannot express (an infinite or BC date on
 * MariaDB), or SL_E_LIMIT when out is full. */
int sl_filter_sql(const sl_filter_t *f, sl_filter_dialect_t d, sl_buf_t *out, sl_err_t *err);

/* ---- evaluation -------------------------------------------------------------------- */

typedef enum sl_filter_result {
    SL_FILTER_FALSE = 0,
    SL_FILTER_TRUE = 1,
    SL_FILTER_NULL = 2,      /* unknown: the row is outside, as for WHERE (also when it is
                                false or unknown depending on a value not sent) */
    SL_FILTER_UNDECIDED = 3, /* depends on a value the row does not carry (see below) */
    SL_FILTER_ERROR = -1,    /* a value is not valid canonical text for its column: err */
} sl_filter_result_t;

/* Evaluates the bound filter on one row of ncols canonical values (model/types.h) in
 * the order of the table it was bound to. A value with len SL_VALUE_UNCHANGED (a TOASTed
 * value an UPDATE did not send) is known to be non-NULL but not known otherwise: when the
 * result depends on it the answer is SL_FILTER_UNDECIDED, and the caller must take that
 * value from the old row (which PostgreSQL sends under REPLICA IDENTITY FULL), as
 * sl_filter_route() does. */
sl_filter_result_t sl_filter_eval(const sl_filter_t *f, const sl_value_t *row, int ncols,
                                  sl_err_t *err);

/* ---- CDC ---------------------------------------------------------------------------- */

typedef enum sl_filter_action {
    SL_FILTER_KEEP = 0,  /* apply the change as it is */
    SL_FILTER_SKIP,      /* outside the filter before and after: write nothing */
    SL_FILTER_AS_INSERT, /* an UPDATE that moved the row into the filter */
    SL_FILTER_AS_DELETE, /* an UPDATE that moved the row out of the filter */
} sl_filter_action_t;

/* Decides what the target does with change ch of the filtered table:
 *   INSERT: KEEP when the new row passes, else SKIP.
 *   DELETE: KEEP when the old row passed, else SKIP (the target never had it).
 *   UPDATE: passed before and after: KEEP; only before: AS_DELETE; only after:
 *           AS_INSERT; neither: SKIP.          TRUNCATE: KEEP.
 * old_full says that ch->old, when present, carries every column (MariaDB; PostgreSQL
 * under REPLICA IDENTITY FULL); otherwise it carries the primary key columns only
 * (REPLICA IDENTITY DEFAULT) and the other old values are not read. An UPDATE without
 * old did not change its key, so its key values are the same before and after.
 * On KEEP, SKIP, AS_INSERT and AS_DELETE, *out is the change to apply (for SKIP, a copy
 * of ch): AS_INSERT carries the new row with every unchanged TOASTed value filled in
 * from the old row, written into merged (ncols values, the caller's; out->row points
 * there and into ch's values); AS_DELETE carries the old row (or the new one, which holds
 * the same key). Returns the action, or -1 with err: SL_E_CONFIG when the change does not
 * carry what the filter reads (the source lacks REPLICA IDENTITY FULL: the hint says so),
 * SL_E_DATA for a value that is not valid canonical text. */
int sl_filter_route(const sl_filter_t *f, const sl_change_t *ch, bool old_full,
                    sl_value_t *merged, sl_change_t *out, sl_err_t *err);

/* The columns the bound filter reads: writes up to cap column indexes, ascending, into
 * cols and returns how many there are (which may exceed cap). */
int sl_filter_columns(const sl_filter_t *f, int *cols, int cap);
/* True when the bound filter reads a column outside the primary key (or the table has
 * none): then CDC needs whole old rows. */
bool sl_filter_reads_non_key(const sl_filter_t *f);
/* For a source whose UPDATE and DELETE events carry the whole old row only when
 * old_full (PostgreSQL: REPLICA IDENTITY FULL): 0 when the filter can be decided,
 * else -1 with SL_E_CONFIG naming the non-key columns it reads and, as hint, the
 * ALTER TABLE ... REPLICA IDENTITY FULL that fixes it. */
int sl_filter_check_old_row(const sl_filter_t *f, bool old_full, sl_err_t *err);

#endif
