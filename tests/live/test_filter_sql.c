/*
 * test_filter_sql.c: row filters (src/filter/) against real PostgreSQL and MariaDB: for
 * each filter of a list, the rows the server returns for the rendered WHERE must be
 * exactly the rows the evaluator accepts, so that a load (which pushes the WHERE into the
 * source) and CDC (which evaluates change events) never disagree on a row.
 *
 * The tables hold the values where engines and evaluators part ways: NULLs, case
 * variants under MariaDB's case-insensitive default collation, trailing spaces under
 * PAD SPACE, a latin1 column, unicode beyond the BMP, LIKE's special characters, integer
 * limits, float4 0.1, NaN and infinities, BC dates, negative and long MariaDB times.
 * Rows are read the way a load reads them (the source's describe and scan), and the SQL
 * runs on connections opened with sluice's session settings (db/pg, db/mysql).
 *
 * Needs SLUICE_TEST_PG_URL and SLUICE_TEST_MYSQL_URL (source the env.sh that
 * `scripts/test-servers.sh start DIR` writes); fails when they are missing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/url.h"
#include "db/mysql/mysql_db.h"
#include "db/pg/pg.h"
#include "filter/filter.h"
#include "source_rows.h"

#define DB "sl_filter_test"
static char pg_url[600], my_url[600];

/* The ids (first column) of the rows the evaluator accepts, "1,4,7". */
static void eval_ids(const sl_filter_t *f, const live_rows_t *rows, char *out, size_t size)
{
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < rows->n; i++) {
        sl_err_t err;
        sl_filter_result_t r = sl_filter_eval(f, rows->v[i], rows->ncols, &err);
        if (r == SL_FILTER_ERROR || r == SL_FILTER_UNDECIDED)
            fail_msg("%s on row %s: %d %s | %s", sl_filter_text(f), rows->v[i][0].p, r,
                     err.message, err.detail);
        if (r == SL_FILTER_TRUE)
            o += (size_t)snprintf(out + o, size - o, "%s%s", o ? "," : "", rows->v[i][0].p);
    }
}

typedef struct engine {
    bool pg;
    sl_pg_t pgc;
    sl_mysql_t my;
} engine_t;

static void exec(engine_t *e, const char *sql)
{
    sl_err_t err;
    if (e->pg ? sl_pg_exec(&e->pgc, sql, &err, "exec") : sl_mysql_exec(&e->my, sql, &err))
        fail_msg("%s: %s", sql, err.message);
}

static void insert(engine_t *e, const char *table, const char *const *rows, int n)
{
    for (int i = 0; i < n; i++) {
        char sql[1024];
        snprintf(sql, sizeof sql, "INSERT INTO %s VALUES %s", table, rows[i]);
        exec(e, sql);
    }
}

/* The ids the server returns for sql. */
static void sql_ids(engine_t *e, const char *sql, char *out, size_t size)
{
    size_t o = 0;
    out[0] = '\0';
    sl_err_t err;
    if (e->pg) {
        PGresult *r = sl_pg_query(&e->pgc, sql, 0, NULL, &err, "filter");
        if (!r)
            fail_msg("%s: %s", sql, err.message);
        for (int i = 0; i < PQntuples(r); i++)
            o += (size_t)snprintf(out + o, size - o, "%s%s", o ? "," : "", PQgetvalue(r, i, 0));
        PQclear(r);
    } else {
        MYSQL_RES *res;
        if (sl_mysql_query(&e->my, sql, &res, &err))
            fail_msg("%s: %s", sql, err.message);
        MYSQL_ROW row;
        while ((row = mysql_fetch_row(res)) != NULL)
            o += (size_t)snprintf(out + o, size - o, "%s%s", o ? "," : "", row[0]);
        mysql_free_result(res);
    }
}

/* Runs every filter both ways; want[i], when not NULL, pins the expected ids too. */
static void check(engine_t *e, const sl_table_t *t, const live_rows_t *rows, const char *const *filters,
                  const char *const *want, int n)
{
    int nonempty = 0;
    for (int i = 0; i < n; i++) {
        sl_filter_t *f;
        sl_err_t err;
        if (sl_filter_parse(filters[i], &f, &err) || sl_filter_bind(f, t, &err))
            fail_msg("%s: %s | %s | %s", filters[i], err.message, err.detail, err.hint);
        sl_buf_t sql;
        sl_buf_init(&sql, 1 << 16);
        sl_buf_adds(&sql, e->pg ? "SELECT id FROM " DB ".flt WHERE " : "SELECT id FROM flt WHERE ", NULL);
        if (sl_filter_sql(f, e->pg ? SL_FILTER_PG : SL_FILTER_MARIADB, &sql, &err))
            fail_msg("%s: %s", filters[i], err.message);
        sl_buf_adds(&sql, " ORDER BY id", NULL);
        char server[1024], evaluator[1024];
        sql_ids(e, sql.data, server, sizeof server);
        eval_ids(f, rows, evaluator, sizeof evaluator);
        if (strcmp(server, evaluator))
            fail_msg("%s: filter %s\n  SQL: %s\n  server:    {%s}\n  evaluator: {%s}",
                     e->pg ? "PostgreSQL" : "MariaDB", filters[i], sql.data, server, evaluator);
        if (want && want[i] && strcmp(evaluator, want[i]))
            fail_msg("%s: filter %s gives {%s}, expected {%s}", e->pg ? "PostgreSQL" : "MariaDB",
                     filters[i], evaluator, want[i]);
        nonempty += server[0] != '\0';
        sl_buf_free(&sql);
        sl_filter_free(f);
    }
    /* The list must exercise the data: most filters select something. */
    assert_true(nonempty > n / 2);
}

/* Filters on the columns both tables have: text (txt, vc, ch) and integers (i2, i8). */
static const char *const common_filters[] = {
    "txt = 'EU'", "txt = 'eu'", "txt <> 'EU'", "txt < 'a'", "txt >= 'é'", "txt > 'z'",
    "txt LIKE 'E%'", "txt LIKE '%u'", "txt NOT LIKE '_U'", "txt LIKE 'a\\%b'",
    "txt LIKE 'a!%b' ESCAPE '!'", "txt LIKE 'a_b'", "txt LIKE '_'", "txt LIKE ''", "txt LIKE '%'",
    "txt IN ('EU', 'eu', NULL)", "txt NOT IN ('EU', NULL)", "txt NOT IN ('EU', 'eu')",
    "txt BETWEEN 'A' AND 'f'", "txt NOT BETWEEN 'E' AND 'F'", "txt IS NULL", "txt IS NOT NULL",
    "vc = 'eu'", "vc = 'eu '", "vc LIKE 'a\\\\b'", "vc LIKE 'a\\_b'", "vc = 'it''s'", "vc > '\uffff'",
    "ch = 'ab'", "ch = 'ab '", "ch LIKE 'ab'", "ch LIKE 'a\\\\b'", "ch LIKE 'ab!%' ESCAPE '!'",
    "txt = vc", "txt < ch",
    "i2 > -32768 AND i2 < 32767", "i2 = -32768", "i2 BETWEEN 0 AND 7", "i2 IN (1, 2, NULL)",
    "i8 = 9223372036854775807", "i8 < -9223372036854775807", "i8 > 1.5", "i8 = '7'",
};
#define NCOMMON ((int)(sizeof common_filters / sizeof common_filters[0]))

/* ---- PostgreSQL -------------------------------------------------------------------- */

static const char *const pg_rows[] = {
    "(1, 'EU', 'EU', 'ab', 1, 10, 1.500, 1.5, 0.1, 0.1, true, '2024-01-01', '2024-01-01 10:00:00', "
    "'2024-01-01 10:00:00+00', '10:00', 'happy', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{}', 5.25)",
    "(2, 'eu', 'eu ', 'ab ', -32768, -9223372036854775808, -0.500, 'NaN', 0.5, 'NaN', false, "
    "'2024-02-29', '2024-01-01 10:00:00.5', '2024-01-01 12:00:00+02', '24:00', 'sad', "
    "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12', NULL, 0)",
    "(3, 'EU ', 'x', 'x', 32767, 9223372036854775807, 0.000, 1000000, 'Infinity', 'Infinity', NULL, "
    "'infinity', '2024-01-01 10:00:00.499999', '2024-01-01 10:00:00.000001+00', '00:00:00.000001', "
    "'ok', NULL, '[1]', -1)",
    "(4, 'Eu', 'É', 'É', 0, 0, 999999999.999, '-Infinity', '-Infinity', '-Infinity', true, "
    "'0044-03-15 BC', '0010-06-01 12:00:00 BC', '-infinity', '23:59:59.999999', 'happy', NULL, NULL, 12.5)",
    "(5, 'é', 'é', 'é', 7, 7, 7, 7, 7, 7, false, '-infinity', 'infinity', 'infinity', '12:00', 'sad', "
    "NULL, NULL, 7)",
    "(6, '😀', '\uffff', 'z', 100, 100, 0.001, 0.0001, 0.1000001, 1e300, true, '1999-12-31', "
    "'1999-12-31 23:59:59.999999', '1999-12-31 23:59:59.999999+00', '12:00:01', 'ok', NULL, NULL, 0.01)",
    "(7, '', '', '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL)",
    "(8, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL)",
    "(9, 'a%b', 'a_b', 'a\\b', 1, 1, 1, 1, 1, 1, true, '2000-01-01', '2000-01-01 00:00:00', "
    "'2000-01-01 00:00:00+00', '01:00', 'happy', NULL, NULL, 1)",
    "(10, 'axb', 'a\\b', 'ab%', 2, 2, 2, 2, 0.30000001192092896, 0.30000000000000004, false, "
    "'2000-01-02', '2000-01-02 00:00:00', '2000-01-01 19:00:00-05', '01:00:00.5', 'sad', NULL, NULL, 2)",
    "(11, 'EUROPE', 'it''s', 'Ab', 3, 3, 3, 3, 3, -0.0, true, '2000-01-03', '2000-01-03 00:00:00', "
    "'2000-01-03 00:00:00+00', '02:00', 'ok', NULL, NULL, 3)",
};

static const char *const pg_filters[] = {
    "n = 0", "n > -0.5", "n BETWEEN -1 AND 1.5", "n = 1.5000", "n < 0.0009", "n = 999999999.999",
    "nu > 1000000", "nu = 'NaN'", "nu < 'Infinity'", "nu > 0.00009", "nu = n",
    "f4 = 0.1", "f4 = 0.5", "f4 < 0.1000001", "f4 > 0.1", "f4 = 'Infinity'", "f4 = 0.30000001192092896",
    "f8 = 0.1", "f8 > 99999999999999999999", "f8 = 'NaN'", "f8 < 0", "f8 = 0", "f8 > f4", "f8 < i2",
    "f8 = 0.30000000000000004", "f8 = 0.3",
    "b", "NOT b", "b = FALSE", "b IS NULL", "b <> 'yes'",
    "d < '2000-01-01'", "d = '2024-02-29'", "d > 'infinity'", "d >= '9999-12-31'",
    "d < '0001-01-01'", "d = DATE '2000-01-02'", "d > '1999-12-31 12:00'",
    "ts > '2024-01-01 10:00:00.5'", "ts >= '2024-01-01 10:00:00.499999'", "ts >= d",
    "ts < '0001-01-01'", "ts = 'infinity'",
    "tz = '2024-01-01 10:00:00+00'", "tz = '2024-01-01 10:00:00+02'", "tz < '2000-01-01 12:00:00+07'",
    "tz > ts", "tz = TIMESTAMP '2000-01-02 00:00:00+00'",
    "tm > '12:00'", "tm = '24:00:00'", "tm < '00:00:00.000002'", "tm BETWEEN '01:00' AND '02:00'",
    "e = 'happy'", "e IN ('sad', 'ok')", "e <> 'happy'", "e LIKE 'ha%'",
    "u = 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "u > 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
    "j IS NOT NULL", "m = 12.5", "m > 0.001", "m < 0",
    "NOT (txt = 'EU' OR i2 > 0)", "(txt LIKE 'E%' AND n > 0) OR b IS NULL",
    "txt = 'EU' AND NOT b", "NOT (i2 IN (1, NULL))", "NOT NOT b",
};

/* Pinned: case and padding are significant on both engines. */
static const char *const pg_want[NCOMMON] = {
    [0] = "1", [1] = "2", [29] = "",
};

static void test_pg(void **state)
{
    (void)state;
    engine_t e = {.pg = true};
    sl_url_t *u;
    sl_err_t err;
    if (sl_url_parse(pg_url, &u, &err) || sl_pg_connect(u, &e.pgc, &err))
        fail_msg("%s", err.message);
    sl_url_free(u);
    exec(&e, "SET client_min_messages = warning");
    exec(&e, "DROP SCHEMA IF EXISTS " DB " CASCADE");
    exec(&e, "CREATE SCHEMA " DB);
    exec(&e, "CREATE TYPE " DB ".mood AS ENUM ('sad', 'ok', 'happy')");
    /* Collations that differ from code point order: ICU's, and a case-insensitive
     * nondeterministic one (under which LIKE is not even allowed). */
    exec(&e, "CREATE COLLATION " DB ".ci (provider = icu, locale = 'und-u-ks-level2', "
             "deterministic = false)");
    exec(&e, "CREATE TABLE " DB ".flt (id int PRIMARY KEY, txt text COLLATE \"en-US-x-icu\", "
             "vc varchar(10) COLLATE " DB ".ci, ch char(5), "
             "i2 smallint, i8 bigint, n numeric(12,3), nu numeric, f4 real, f8 double precision, "
             "b boolean, d date, ts timestamp(6), tz timestamptz, tm time, e " DB ".mood, u uuid, "
             "j jsonb, m money)");
    insert(&e, DB ".flt", pg_rows, (int)(sizeof pg_rows / sizeof pg_rows[0]));
    live_rows_t *rows;
    sl_table_t *t = live_read_table(pg_url, DB ".flt", &rows);
    assert_int_equal(rows->n, (int)(sizeof pg_rows / sizeof pg_rows[0]));
    check(&e, t, rows, common_filters, pg_want, NCOMMON);
    check(&e, t, rows, pg_filters, NULL, (int)(sizeof pg_filters / sizeof pg_filters[0]));
    live_rows_free(rows);
    sl_table_free(t);
    exec(&e, "DROP SCHEMA " DB " CASCADE");
    sl_pg_disconnect(&e.pgc);
}

/* ---- MariaDB ------------------------------------------------------------------------ */

static const char *const my_rows[] = {
    "(1, 'EU', 'EU', 'ab', 1, 10, 1, 1.500, 0.1, 0.1, 1, '2024-01-01', '2024-01-01 10:00:00', "
    "'2024-01-01 10:00:00', '10:00', 'happy', 'a,b', 2024, 'é')",
    "(2, 'eu', 'eu ', 'ab ', -32768, -9223372036854775808, 18446744073709551615, -0.500, 0.5, 0.5, 0, "
    "'2024-02-29', '2024-01-01 10:00:00.5', '2024-01-01 10:00:00.5', '-12:00:00.25', 'sad', 'b', 1999, 'É')",
    "(3, 'EU ', 'x', 'x', 32767, 9223372036854775807, 9223372036854775808, 0.000, 3.4e38, 1e300, NULL, "
    "'9999-12-31', '2024-01-01 10:00:00.499999', '2038-01-19 03:14:07', '838:59:59', 'ok', '', 2000, 'e')",
    "(4, 'Eu', 'É', 'É', 0, 0, 0, 999999999.999, -3.4e38, -1e300, 1, '0001-01-01', '1000-01-01 00:00:00', "
    "'1970-01-01 00:00:01', '-838:59:59', 'happy', 'a,b,c', 2155, 'E')",
    "(5, 'é', 'é', 'é', 7, 7, 7, 7, 7, 7, 0, '1000-01-01', '9999-12-31 23:59:59.999999', "
    "'2000-01-01 00:00:00', '24:00:00', 'sad', 'c', 1901, NULL)",
    "(6, '😀', '\uffff', 'z', 100, 100, 100, 0.001, 0.1000001, 0.30000000000000004, 1, '1999-12-31', "
    "'1999-12-31 23:59:59.999999', '1999-12-31 23:59:59.999999', '00:00:00.000001', 'ok', 'a', NULL, 'x')",
    "(7, '', '', '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, '')",
    "(8, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL)",
    "(9, 'a%b', 'a_b', 'a\\\\b', 1, 1, 1, 1, 1, 1, 1, '2000-01-01', '2000-01-01 00:00:00', "
    "'2000-01-01 00:00:00', '01:00', 'happy', 'a,c', 2001, 'ae')",
    "(10, 'axb', 'a\\\\b', 'ab%', 2, 2, 2, 2, 0.3, 0.3, 0, '2000-01-02', '2000-01-02 00:00:00', "
    "'2000-01-02 00:00:00', '-00:00:01', 'sad', 'b,c', 2002, 'æ')",
    "(11, 'EUROPE', 'it''s', 'Ab', 3, 3, 3, 3, 3, -0.0, 2, '2000-01-03', '2000-01-03 00:00:00', "
    "'2000-01-03 00:00:00', '02:00', 'ok', 'a', 2003, 'Æ')",
};

static const char *const my_filters[] = {
    "lat = 'é'", "lat = 'E'", "lat > 'e'", "lat LIKE '_'", "lat = txt",
    "u8 > 9223372036854775807", "u8 = 18446744073709551615", "u8 > -1", "u8 < i8", "u8 = 2.0",
    "n = 0", "n > -0.5", "n BETWEEN -1 AND 1.5", "n = 1.5000", "n < 0.0009", "n = 999999999.999",
    "f4 = 0.1", "f4 = 0.5", "f4 < 0.1000001", "f4 > 0.1", "f4 = 0.30000001192092896", "f4 > '3e38'",
    "f8 = 0.1", "f8 > 99999999999999999999", "f8 < 0", "f8 = 0", "f8 > f4", "f8 < i2", "f8 = 0.3",
    "f8 = 0.30000000000000004",
    "b = TRUE", "b = FALSE", "b IS NULL", "b = 1", "b > 1", "y = 2024", "y > 2000", "y IS NULL",
    "d < '2000-01-01'", "d = '2024-02-29'", "d >= '9999-12-31'", "d = DATE '2000-01-02'",
    "d > '1999-12-31 12:00'", "d < '1000-01-02'",
    "ts > '2024-01-01 10:00:00.5'", "ts >= '2024-01-01 10:00:00.499999'", "ts >= d", "ts < '1000-01-01 00:00:01'",
    "tz = '2024-01-01 10:00:00.5'", "tz = '2024-01-01 12:00:00.5+02'", "tz < '2000-01-01 12:00:00+07'",
    "tz > ts", "tz = TIMESTAMP '2000-01-02 00:00:00'", "tz >= '2038-01-19 03:14:07'",
    "tm > '12:00'", "tm = '24:00:00'", "tm < '00:00:00'", "tm < '-01:00:00'", "tm > '838:00:00'",
    "tm BETWEEN '-00:00:02' AND '00:00:00.000001'", "tm = TIME '-12:00:00.25'",
    "e = 'happy'", "e IN ('sad', 'ok')", "e <> 'happy'", "e LIKE 'ha%'", "e LIKE 'HA%'",
    "st = 'a,b'", "st LIKE '%b%'", "st = ''", "st IN ('a', 'c')", "st = 'A'",
    "NOT (txt = 'EU' OR i2 > 0)", "(txt LIKE 'E%' AND n > 0) OR b IS NULL",
    "txt = 'EU' AND b = FALSE", "NOT (i2 IN (1, NULL))",
};

/* Pinned: MariaDB's _ci collations and PAD SPACE do not leak into the filter. */
static const char *const my_want[NCOMMON] = {
    [0] = "1", [1] = "2", [22] = "", [23] = "2", [28] = "1,2", [29] = "",
};

static void test_mariadb(void **state)
{
    (void)state;
    engine_t e = {.pg = false};
    sl_url_t *u;
    sl_err_t err;
    char url[700];
    snprintf(url, sizeof url, "%s/mysql", my_url);
    if (sl_url_parse(url, &u, &err) || sl_mysql_connect(u, &e.my, &err))
        fail_msg("%s", err.message);
    sl_url_free(u);
    exec(&e, "DROP DATABASE IF EXISTS " DB);
    exec(&e, "CREATE DATABASE " DB " DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci");
    exec(&e, "USE " DB);
    exec(&e, "CREATE TABLE flt (id int PRIMARY KEY, txt varchar(20), vc varchar(10), ch char(5), "
             "i2 smallint, i8 bigint, u8 bigint unsigned, n decimal(12,3), f4 float, f8 double, "
             "b tinyint(1), d date, ts datetime(6), tz timestamp(6) NULL DEFAULT NULL, tm time(6), "
             "e enum('sad','ok','happy'), st set('a','b','c'), y year, "
             "lat varchar(10) CHARACTER SET latin1 COLLATE latin1_swedish_ci)");
    insert(&e, "flt", my_rows, (int)(sizeof my_rows / sizeof my_rows[0]));
    live_rows_t *rows;
    snprintf(url, sizeof url, "%s/" DB, my_url);
    sl_table_t *t = live_read_table(url, "flt", &rows);
    assert_int_equal(rows->n, (int)(sizeof my_rows / sizeof my_rows[0]));
    check(&e, t, rows, common_filters, my_want, NCOMMON);
    check(&e, t, rows, my_filters, NULL, (int)(sizeof my_filters / sizeof my_filters[0]));
    live_rows_free(rows);
    sl_table_free(t);
    exec(&e, "DROP DATABASE " DB);
    sl_mysql_close(&e.my);
}

int main(void)
{
    const char *pg = getenv("SLUICE_TEST_PG_URL"), *my = getenv("SLUICE_TEST_MYSQL_URL");
    if (!pg || !my) {
        fprintf(stderr, "test_filter_sql: SLUICE_TEST_PG_URL and SLUICE_TEST_MYSQL_URL must be set "
                        "(source the env.sh of scripts/test-servers.sh start DIR)\n");
        return 1;
    }
    snprintf(pg_url, sizeof pg_url, "%s/postgres", pg);
    snprintf(my_url, sizeof my_url, "%s", my);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pg),
        cmocka_unit_test(test_mariadb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
