/*
 * genexpr.h: a PostgreSQL generated column's expression (pg_get_expr text, as
 * source/pg/pg_describe.c keeps it in sl_column_t.generation_expr) translated into a
 * MariaDB expression that computes the same value for every row PostgreSQL accepted, so
 * that a MariaDB target can recreate the column as `GENERATED ALWAYS AS (...) STORED`
 * instead of refusing the stream.
 *
 * WHAT TRANSLATES: column references (re-quoted, renamed through `names`); integer,
 * numeric, float8, text, boolean and date/timestamp literals; + - * on numbers, / on
 * integers (DIV) and floats, % and mod(); date + integer and date - date; comparisons;
 * AND OR NOT, IS [NOT] NULL/TRUE/FALSE/UNKNOWN, IS [NOT] DISTINCT FROM; LIKE (~~, case-
 * sensitive); = ANY (ARRAY[...]) and <> ALL (...) as [NOT] IN; CASE (both forms),
 * COALESCE, NULLIF, GREATEST and LEAST (PostgreSQL's, which skip NULLs); || as CONCAT
 * (NULL in, NULL out on both); casts between those types where both engines convert
 * alike; lower and upper (see sl_genexpr_case_t), length, char_length, octet_length, substr/substring with literal
 * positions, trim/btrim/ltrim/rtrim (spaces or one literal character), replace, left,
 * right, reverse, repeat, strpos/position, md5, abs, sign, round, trunc, floor, ceil,
 * date_part and EXTRACT of year, month, day, hour, minute, second, quarter, dow, isodow,
 * doy, week, isoyear, millisecond, microsecond on date and timestamp.
 * Text equality uses a binary no-pad collation (utf8mb4_nopad_bin) as PostgreSQL's
 * deterministic collations do; char(n) values compare with their trailing spaces trimmed.
 * String literals are plain '...': the CREATE TABLE must run on a utf8mb4 session, as
 * every sluice MariaDB session is.
 *
 * WHAT DOES NOT (answer 1 with the reason): anything the engines compute differently:
 * numeric division (the quotient's scale differs), real (float4) arithmetic, ^ and
 * power, text ordering (PostgreSQL uses the column's collation), ILIKE and regular
 * expressions, timestamptz, intervals, json, arrays, floats or booleans to text,
 * text to numbers or dates, float to numeric, unknown functions and types, a column
 * the target leaves out.
 *
 * CONTRACT: pure (no I/O, no globals); the table, names and opts are borrowed.
 *   sl_genexpr_mariadb(t, col, names, opts, out, why, whylen, err)
 *     t: the source table (engine "pg"); col: the index of a generated column;
 *     names: the target name of each column (NULL entries for columns left out), or NULL
 *     when the names are the source's; opts: may be NULL (case mapping unknown).
 *     The engine sets opts->case_map from `SELECT datlocprovider, datctype FROM
 *     pg_database WHERE datname = current_database()`: provider 'c' with ctype C or POSIX
 *     is ASCII, another libc ctype LIBC, ICU ('i') UNKNOWN (ICU maps ß to SS); and
 *     UNKNOWN when a text column of the table has a collation of its own.
 *   Returns 0 with the expression appended to out (already converted to the column's
 *   own type, as PostgreSQL's assignment does), 1 when it cannot be translated faithfully
 *   (why: a short reason for the warning; out unchanged), -1 with err (SL_E_LIMIT: out is
 *   full; SL_E_INTERNAL: col is not a generated column).
 *
 * HOW THE ENGINE USES IT: when the MariaDB target creates a table from a PostgreSQL
 * source, each generated column is either `<name> <type> GENERATED ALWAYS AS (<expr>)
 * STORED` (the loader and CDC then leave it out of INSERTs and UPDATEs, as they do for
 * same-engine generated columns, see sl_mysql_col_written) or, on 1, left out of the
 * target with a warning naming it and the reason. MariaDB refuses a generated column in
 * the primary key: leave such a column out too.
 */
#ifndef SL_TARGET_MYSQL_GENEXPR_H
#define SL_TARGET_MYSQL_GENEXPR_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "model/schema.h"

/* How the source maps letter case (lower, upper): PostgreSQL uses the LC_CTYPE of the
 * collation the expression works in, normally the database's. */
typedef enum sl_genexpr_case {
    SL_GENEXPR_CASE_UNKNOWN = 0, /* lower() and upper() are refused */
    SL_GENEXPR_CASE_ASCII,       /* ctype C or POSIX: only A-Z and a-z change; emulated
                                    exactly with REPLACE */
    SL_GENEXPR_CASE_LIBC,        /* a libc UTF-8 locale: one character to one, as MariaDB's
                                    LOWER/UPPER do (their tables may differ on rare letters) */
} sl_genexpr_case_t;

typedef struct sl_genexpr_opts {
    sl_genexpr_case_t case_map;
} sl_genexpr_opts_t;

int sl_genexpr_mariadb(const sl_table_t *t, int col, const char *const *names,
                       const sl_genexpr_opts_t *opts, sl_buf_t *out, char *why, size_t whylen,
                       sl_err_t *err);

#endif
