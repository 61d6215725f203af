/*
 * mysql_ddl.h: what a DDL statement of the binlog (a QUERY event other than BEGIN and
 * COMMIT) does to tables, as far as a MariaDB/MySQL change stream cares: TRUNCATE is
 * replicated, ALTER TABLE clauses that leave the rows as they are (ADD/DROP COLUMN,
 * indexes, defaults, table options) are followed through the next TABLE_MAP, and
 * anything else that changes or replaces a table stops the stream.
 *
 * Pure: a small lexer over the statement text (comments, `quoted` and bare
 * identifiers, case-insensitive keywords), no I/O, no globals; it never reads past
 * sql + n. Unit-tested (tests/unit/source/mysql/test_mysql_ddl.c) and fuzzed
 * (fuzz/fuzz_mysql_ddl.c).
 */
#ifndef SL_SOURCE_MYSQL_DDL_H
#define SL_SOURCE_MYSQL_DDL_H

#include <stdbool.h>
#include <stddef.h>

typedef enum sl_my_ddl_kind {
    SL_MY_DDL_TRUNCATE,      /* TRUNCATE [TABLE] t */
    SL_MY_DDL_ALTER,         /* ALTER TABLE t whose every clause leaves the rows as they are */
    SL_MY_DDL_ALTER_REFUSED, /* ALTER TABLE t with a clause a target cannot follow */
    SL_MY_DDL_REPLACE,       /* DROP TABLE(S) / RENAME TABLE(S) (both sides) / CREATE OR REPLACE TABLE */
    SL_MY_DDL_DROP_DATABASE, /* DROP DATABASE|SCHEMA db: table is "" */
} sl_my_ddl_kind_t;

#define SL_MY_DDL_NAME_MAX 256 /* a name's buffer; longer names are cut (MariaDB allows 64) */

/* Called for each table the statement names, in order, with the database (the
 * statement's default when the name has none). A non-zero return stops the parse. */
typedef int (*sl_my_ddl_fn)(void *ctx, sl_my_ddl_kind_t kind, const char *db, const char *table);

/* Reads statement sql[0..n) run with default database defdb and calls fn for every
 * table it names; statements on no table (or ones the stream ignores: CREATE TABLE,
 * CREATE INDEX, GRANT, ...) call nothing. Returns fn's non-zero return, else 0. */
int sl_my_ddl_parse(const char *sql, size_t n, const char *defdb, sl_my_ddl_fn fn, void *ctx);

/* Whether sql[0..n) is keyword `word` alone ("BEGIN", "COMMIT", "ROLLBACK"), with
 * comments and an optional ';'. */
bool sl_my_ddl_is(const char *sql, size_t n, const char *word);

#endif
