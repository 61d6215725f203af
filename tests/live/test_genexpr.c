/*
 * test_genexpr.c: generation expressions translated by src/target/mysql/genexpr*.c
 * compute in MariaDB what PostgreSQL computes. A PostgreSQL table with ~90 generated
 * columns (arithmetic, rounding at .5 both ways, casts, text functions on unicode and
 * trailing spaces, dates) and rows of edge values is described and read by the PostgreSQL
 * source; each generated column is translated, created as a STORED generated column of a
 * MariaDB table whose other columns are made the way the MariaDB target makes them, the
 * same base values are inserted as the target would write them, and the MariaDB source
 * reads the rows back: every generated value must equal PostgreSQL's, row by row.
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
#include "target/mysql/genexpr.h"
#include "target/mysql/mysql_target.h"
#include "source_rows.h"

#define DB "sl_genexpr_test"

static const char base[] =
    "id int PRIMARY KEY, a int, b bigint, s smallint, n numeric(10,2), f float8, r real, t text, "
    "v varchar(20), c char(5), d date, ts timestamp(6), bo boolean, \"My Col\" int, nu numeric";

/* name, type, expression: PostgreSQL stores them and prints them back with pg_get_expr. */
static const char *const gen[][3] = {
    {"g1", "bigint", "a + b * 2 - s"}, {"g2", "int", "a / 3"}, {"g3", "numeric", "n * 2 + 1.5"},
    {"g4", "text", "t || '-' || v"}, {"g5", "text", "lower(t) || upper(v)"},
    {"g6", "int", "length(t)"}, {"g7", "text", "substr(t, 2, 3)"},
    {"g8", "text", "substring(t from 2 for 3)"}, {"g9", "text", "trim(t)"},
    {"g10", "text", "btrim(t, 'x')"},
    {"g11", "int", "CASE WHEN a > 10 THEN 1 WHEN a IS NULL THEN -1 ELSE 0 END"},
    {"g12", "int", "coalesce(a, -1)"}, {"g13", "int", "nullif(a, 0)"},
    {"g14", "numeric(10,2)", "round(n, 1)"}, {"g15", "int", "a::numeric(10,2)::int"},
    {"g16", "text", "a::text"}, {"g17", "float8", "date_part('year', d)"},
    {"g18", "numeric", "extract(month from ts)"}, {"g19", "int", "greatest(a, s, 3)"},
    {"g20", "text", "replace(t, 'a', 'b')"}, {"g21", "text", "left(t, 2) || right(v, 2)"},
    {"g22", "text", "md5(t)"}, {"g23", "boolean", "t like 'a%' and a between 1 and 5"},
    {"g24", "boolean", "a in (1, 2, 3, 7)"}, {"g25", "int", "-a + (-1)"},
    {"g26", "date", "d + 1"}, {"g27", "int", "abs(a) % 7"}, {"g29", "float8", "f * 2 / r"},
    {"g30", "text", "CASE t WHEN 'x' THEN 'X' ELSE 'y' END"},
    {"g31", "boolean", "a IS DISTINCT FROM s"},
    {"g32", "float8", "floor(n) + ceil(n) + ceiling(f)"}, {"g33", "text", "ltrim(rtrim(v))"},
    {"g34", "boolean", "not bo or c = 'ab'"}, {"g36", "int", "char_length(v) + octet_length(t)"},
    {"g37", "timestamp", "d::timestamp"}, {"g38", "text", "E'a\\\\b''c' || t"},
    {"g40", "bigint", "9999999999 + a"}, {"g42", "boolean", "t NOT LIKE '%x\\_%'"},
    {"g43", "int", "least(a, NULL, s)"}, {"g45", "int", "a * -2"},
    {"g46", "numeric", "-1.5 * n"}, {"g47", "text", "v::text || c"},
    {"g48", "boolean", "a <> ALL (ARRAY[1, 2])"}, {"g49", "int", "extract(dow from d)::int"},
    {"g50", "int", "d - '2000-01-01'::date"}, {"g51", "text", "n::text"},
    {"g54", "varchar(10)", "v::varchar(10)"}, {"g55", "int", "b::int + s::int"},
    {"g56", "float8", "r::float8 + a"}, {"g57", "text", "t || null"},
    {"g58", "int", "case when bo then 1 end"},
    {"h1", "text", "trim(leading 'x' from t)"}, {"h2", "text", "trim(trailing from t)"},
    {"h3", "text", "substring(t from 2)"}, {"h4", "numeric(10,2)", "nu::numeric(10,2)"},
    {"h5", "bigint", "\"My Col\"::bigint + a::smallint"}, {"h7", "int", "mod(a, 3)"},
    {"h8", "date", "ts::date"},
    {"h10", "boolean", "bo is true and a is not null and not (t is null)"},
    {"h11", "int", "extract(year from d)"},
    {"h12", "boolean", "ts > '2024-01-01 10:00' and d <= '2024-01-01'"},
    {"h14", "text", "t || 'it''s'"}, {"h15", "text", "substring(t, 2)"},
    {"h16", "int", "strpos(t, 'a') + position('b' in t)"}, {"h19", "boolean", "t not in ('a', 'x')"},
    {"h20", "int", "a::int2::int4"}, {"h24", "numeric", "n::numeric(12,0)"},
    {"h26", "text", "a::varchar"}, {"h27", "int", "-(-a)"}, {"h28", "boolean", "a >= -5"},
    {"h33", "text", "reverse(t)"}, {"h34", "text", "repeat(t, 2)"},
    {"k1", "int", "n * 2"}, {"k2", "bigint", "f"}, {"k5", "text", "c"}, {"k6", "float8", "a"},
    {"k7", "real", "f / 3"}, {"k8", "date", "ts"},
    {"s1", "numeric", "extract(second from ts)"}, {"s2", "float8", "date_part('isodow', ts)"},
    {"s3", "numeric", "extract(week from d)"}, {"s4", "numeric", "extract(isoyear from d)"},
    {"s5", "numeric", "extract(quarter from d)"}, {"s6", "numeric", "extract(doy from d)"},
    {"s7", "numeric", "extract(millisecond from ts)"}, {"s8", "numeric", "extract(microsecond from ts)"},
    {"s9", "float8", "date_part('dow', ts)"},
    {"t1", "text", "left(t, -2)"}, {"t2", "text", "right(t, -2)"}, {"t3", "boolean", "t = v"},
    {"t4", "boolean", "c = 'ab '"}, {"t5", "text", "nullif(t, '')"}, {"t6", "numeric", "trunc(n, 1)"},
    {"t7", "float8", "round(f)"}, {"t8", "numeric", "sign(n)"}, {"t9", "numeric", "round(n)"},
    {"t10", "boolean", "a::boolean"}, {"t11", "int", "bo::int"},
    {"t12", "numeric", "case when bo then 1 else 2.5 end"},
    {"t13", "date", "greatest(d, '2000-01-01')"}, {"t14", "timestamp", "least(d, ts)"},
    {"t15", "text", "upper(v) || lower(t)"}, {"t16", "float8", "n::float8 / 3"},
    {"t17", "boolean", "t IS NOT DISTINCT FROM v"}, {"t18", "bigint", "round(f)::bigint % 1000"},
    {"t19", "numeric", "n + nu"}, {"t20", "boolean", "v = 'x'"}, {"t21", "boolean", "c = 'x'"},
    /* refused: the column is left out of the MariaDB table */
    {"x1", "numeric(12,3)", "n / 3"}, {"x2", "numeric(10,1)", "n::float8"}, {"x3", "boolean", "t < v"},
    {"x4", "text", "initcap(t)"}, {"x5", "real", "r - r"},
};
#define NGEN ((int)(sizeof gen / sizeof gen[0]))
#define NREFUSED 5

static const char *const rows[] = {
    "(1, 7, 10, 3, 1.25, 2.5, 1.5, 'abc', 'Hello', 'ab', '2024-02-29', '2024-02-29 13:45:30.5', "
    "true, 5, 1.005)",
    "(2, -7, -10, -3, -1.25, -2.5, -0.5, 'x', 'x ', 'x', '2000-01-01', '2000-01-01 00:00:00', false, "
    "-5, -2.5)",
    "(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    "(4, 0, 0, 0, 0.05, 0.1, 0.1, '', '', '', '1999-12-31', '1999-12-31 23:59:59.999999', NULL, 0, 0)",
    "(5, 32767, 2000000000, 32767, 9999999.99, 1e15, 3.4e38, 'ÉÀ😀 ', 'Straße', 'ÄÖ', '0001-01-01', "
    "'0001-01-01 00:00:00', true, 2147483647, 0.5)",
    "(6, -32768, -2000000000, -32768, -9999999.99, -1e-30, -3.4e38, 'a%_\\', 'it''s', 'z', "
    "'2038-01-19', '2038-01-19 03:14:07.999999', false, -1, 1234567.123456789)",
    "(7, 5, 5, 5, 2.55, 0.5, 2.5, 'xxabcxx', 'abcabc', 'abc', '2024-12-31', '2024-12-31 23:59:59', "
    "true, 1, -0.000001)",
    "(8, 2, 3, -1, -2.55, 3.5, -2.5, 'bab', 'bab', 'ab   ', '2021-01-03', '2021-01-03 00:00:00.000001', "
    "true, 0, -1.5)",
    "(9, 1, 1, 1, 0.15, -0.5, 1, 'x_y', 'xx x', 'x x', '2020-12-31', '2020-12-31 12:00:00.25', "
    "false, 2, 2.5)",
};
#define NROWS ((int)(sizeof rows / sizeof rows[0]))

static char pg_url[600], my_url[600];

/* Normalizes a canonical decimal: no trailing fraction zeros, no "-0". */
static void decimal_norm(const char *s, char *out, size_t size)
{
    snprintf(out, size, "%s", s);
    char *dot = strchr(out, '.');
    if (dot) {
        char *e = out + strlen(out);
        while (e > dot + 1 && e[-1] == '0')
            *--e = '\0';
        if (e == dot + 1)
            *dot = '\0';
    }
    if (!strcmp(out, "-0"))
        snprintf(out, size, "0");
}

/* Whether PostgreSQL's canonical value pv of column c equals MariaDB's mv. */
static bool same(const sl_column_t *c, const sl_value_t *pv, const sl_value_t *mv)
{
    if (pv->len < 0 || mv->len < 0)
        return pv->len < 0 && mv->len < 0;
    if (c->type == SL_T_BOOL) /* tinyint(1) on MariaDB */
        return (pv->p[0] == 't' && !strcmp(mv->p, "1")) || (pv->p[0] == 'f' && !strcmp(mv->p, "0"));
    if (c->type == SL_T_DECIMAL) {
        char a[200], b[200];
        decimal_norm(pv->p, a, sizeof a);
        decimal_norm(mv->p, b, sizeof b);
        return !strcmp(a, b);
    }
    if (c->type == SL_T_FLOAT64 || c->type == SL_T_FLOAT32)
        return strtod(pv->p, NULL) == strtod(mv->p, NULL);
    return pv->len == mv->len && !memcmp(pv->p, mv->p, (size_t)pv->len);
}

static void pg_exec(sl_pg_t *pg, const char *sql)
{
    sl_err_t err;
    if (sl_pg_exec(pg, sql, &err, "exec"))
        fail_msg("%s: %s", sql, err.message);
}

static void my_exec(sl_mysql_t *my, const char *sql)
{
    sl_err_t err;
    if (sl_mysql_exec(my, sql, &err))
        fail_msg("%.300s...: %s", sql, err.message);
}

/* The case mapping of the database, found as genexpr.h tells the engine to. */
static sl_genexpr_case_t case_of(sl_pg_t *pg)
{
    sl_err_t err;
    PGresult *r = sl_pg_query(pg, "SELECT datlocprovider, datctype FROM pg_database "
                                  "WHERE datname = current_database()", 0, NULL, &err, "ctype");
    if (!r)
        fail_msg("%s", err.message);
    const char *prov = PQgetvalue(r, 0, 0), *ctype = PQgetvalue(r, 0, 1);
    sl_genexpr_case_t m = prov[0] == 'i' ? SL_GENEXPR_CASE_UNKNOWN
                          : !strcmp(ctype, "C") || !strcmp(ctype, "POSIX") ? SL_GENEXPR_CASE_ASCII
                                                                           : SL_GENEXPR_CASE_LIBC;
    PQclear(r);
    return m;
}

/* Runs the whole comparison in the PostgreSQL database of pgurl, whose case mapping must
 * be want. */
static void run(const char *pgurl, sl_genexpr_case_t want)
{
    sl_url_t *u;
    sl_err_t err;
    sl_pg_t pg;
    if (sl_url_parse(pgurl, &u, &err) || sl_pg_connect(u, &pg, &err))
        fail_msg("%s", err.message);
    sl_url_free(u);
    sl_genexpr_opts_t opts_v = {.case_map = case_of(&pg)}, *opts = &opts_v;
    assert_int_equal(opts->case_map, want);
    pg_exec(&pg, "SET client_min_messages = warning");
    pg_exec(&pg, "DROP SCHEMA IF EXISTS " DB " CASCADE");
    pg_exec(&pg, "CREATE SCHEMA " DB);
    sl_buf_t b;
    sl_buf_init(&b, 1 << 20);
    sl_buf_printf(&b, NULL, "CREATE TABLE " DB ".g (%s", base);
    for (int i = 0; i < NGEN; i++)
        sl_buf_printf(&b, NULL, ", %s %s GENERATED ALWAYS AS (%s) STORED", gen[i][0], gen[i][1],
                      gen[i][2]);
    sl_buf_adds(&b, ")", NULL);
    pg_exec(&pg, b.data);
    for (int i = 0; i < NROWS; i++) {
        char sql[1024];
        snprintf(sql, sizeof sql, "INSERT INTO " DB ".g (id, a, b, s, n, f, r, t, v, c, d, ts, bo, "
                                  "\"My Col\", nu) VALUES %s", rows[i]);
        pg_exec(&pg, sql);
    }
    live_rows_t *pr, *mr;
    sl_table_t *t = live_read_table(pgurl, DB ".g", &pr);
    assert_int_equal(pr->n, NROWS);

    /* The MariaDB table: base columns as the target makes them, generated ones translated. */
    sl_mysql_t my;
    char url[700];
    snprintf(url, sizeof url, "%s/mysql", my_url);
    if (sl_url_parse(url, &u, &err) || sl_mysql_connect(u, &my, &err))
        fail_msg("%s", err.message);
    sl_url_free(u);
    my_exec(&my, "DROP DATABASE IF EXISTS " DB);
    my_exec(&my, "CREATE DATABASE " DB);
    my_exec(&my, "USE " DB);
    int *w = calloc((size_t)t->ncolumns, sizeof *w);
    sl_mysql_widths(t, w);
    bool *keep = calloc((size_t)t->ncolumns, sizeof *keep);
    int translated = 0, refused = 0;
    sl_buf_reset(&b);
    sl_buf_adds(&b, "CREATE TABLE g (", NULL);
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *c = &t->columns[i];
        sl_buf_t col;
        sl_buf_init(&col, 1 << 16);
        if (!c->generated) {
            assert_int_equal(sl_mysql_column_def(&col, t, c, w[i], false, &err), 0);
        } else {
            char why[256];
            sl_buf_t expr;
            sl_buf_init(&expr, 1 << 16);
            int rc = sl_genexpr_mariadb(t, i, NULL, opts, &expr, why, sizeof why, &err);
            assert_true(rc >= 0);
            bool expect_refused = c->name[0] == 'x';
            if (rc != expect_refused)
                fail_msg("%s (%s): %s", c->name, c->generation_expr,
                         rc ? why : "translated, but the engines differ");
            if (rc == 0) {
                sl_buf_printf(&col, NULL, "`%s` ", c->name);
                assert_int_equal(sl_mysql_column_type(&col, t, c, w[i], &err), 0);
                sl_buf_printf(&col, NULL, " GENERATED ALWAYS AS (%s) STORED", expr.data);
                translated++;
            } else {
                refused++;
            }
            sl_buf_free(&expr);
        }
        if (col.len) {
            keep[i] = true;
            sl_buf_printf(&b, NULL, "%s%s", i ? ", " : "", col.data);
        }
        sl_buf_free(&col);
    }
    sl_buf_adds(&b, ", PRIMARY KEY (id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin", NULL);
    if (getenv("GENEXPR_DUMP"))
        fprintf(stderr, "%s\n", b.data);
    my_exec(&my, b.data);
    assert_int_equal(translated, NGEN - NREFUSED);
    assert_int_equal(refused, NREFUSED);

    /* The base values, written as the MariaDB target writes them. */
    for (int r = 0; r < pr->n; r++) {
        sl_buf_reset(&b);
        sl_buf_adds(&b, "INSERT INTO g (", NULL);
        int k = 0;
        for (int i = 0; i < t->ncolumns; i++)
            if (!t->columns[i].generated)
                sl_buf_printf(&b, NULL, "%s`%s`", k++ ? ", " : "", t->columns[i].name);
        sl_buf_adds(&b, ") VALUES (", NULL);
        k = 0;
        for (int i = 0; i < t->ncolumns; i++) {
            const sl_column_t *c = &t->columns[i];
            if (c->generated)
                continue;
            if (k++)
                sl_buf_adds(&b, ", ", NULL);
            const sl_value_t *v = &pr->v[r][i];
            char why[256];
            if (v->len < 0)
                sl_buf_adds(&b, "NULL", NULL);
            else if (sl_mysql_literal(&b, t, c, v->p, (size_t)v->len, why, sizeof why, &err))
                fail_msg("row %d, %s: %s", r, c->name, why);
        }
        sl_buf_adds(&b, ")", NULL);
        my_exec(&my, b.data);
    }
    snprintf(url, sizeof url, "%s/" DB, my_url);
    sl_table_t *mt = live_read_table(url, "g", &mr);
    assert_int_equal(mr->n, NROWS);

    /* Every generated value, row by row (both scans are in key order). */
    int compared = 0;
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *c = &t->columns[i];
        if (!c->generated || !keep[i])
            continue;
        int mi = sl_table_find_col(mt, c->name);
        assert_true(mi >= 0);
        for (int r = 0; r < NROWS; r++) {
            const sl_value_t *pv = &pr->v[r][i], *mv = &mr->v[r][mi];
            if (!same(c, pv, mv))
                fail_msg("%s = %s, row %s: PostgreSQL %s, MariaDB %s", c->name, c->generation_expr,
                         pr->v[r][0].p, pv->len < 0 ? "NULL" : pv->p, mv->len < 0 ? "NULL" : mv->p);
            compared++;
        }
    }
    assert_int_equal(compared, (NGEN - NREFUSED) * NROWS);
    free(w);
    free(keep);
    sl_buf_free(&b);
    live_rows_free(pr);
    live_rows_free(mr);
    sl_table_free(t);
    sl_table_free(mt);
    my_exec(&my, "DROP DATABASE " DB);
    sl_mysql_close(&my);
    pg_exec(&pg, "DROP SCHEMA " DB " CASCADE");
    sl_pg_disconnect(&pg);
}

/* The default database of the test servers has ctype C: lower/upper are emulated. */
static void test_ctype_c(void **state)
{
    (void)state;
    run(pg_url, SL_GENEXPR_CASE_ASCII);
}

/* A database with a libc UTF-8 ctype: LOWER/UPPER on unicode text. */
static void test_ctype_utf8(void **state)
{
    (void)state;
    sl_url_t *u;
    sl_err_t err;
    sl_pg_t pg;
    if (sl_url_parse(pg_url, &u, &err) || sl_pg_connect(u, &pg, &err))
        fail_msg("%s", err.message);
    sl_url_free(u);
    pg_exec(&pg, "DROP DATABASE IF EXISTS " DB "_utf8");
    pg_exec(&pg, "CREATE DATABASE " DB "_utf8 TEMPLATE template0 ENCODING 'UTF8' "
                 "LOCALE_PROVIDER libc LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'");
    char url[700];
    snprintf(url, sizeof url, "%.*s/" DB "_utf8", (int)(strrchr(pg_url, '/') - pg_url), pg_url);
    run(url, SL_GENEXPR_CASE_LIBC);
    pg_exec(&pg, "DROP DATABASE " DB "_utf8");
    sl_pg_disconnect(&pg);
}

int main(void)
{
    const char *pg = getenv("SLUICE_TEST_PG_URL"), *my = getenv("SLUICE_TEST_MYSQL_URL");
    if (!pg || !my) {
        fprintf(stderr, "test_genexpr: SLUICE_TEST_PG_URL and SLUICE_TEST_MYSQL_URL must be set "
                        "(source the env.sh of scripts/test-servers.sh start DIR)\n");
        return 1;
    }
    snprintf(pg_url, sizeof pg_url, "%s/postgres", pg);
    snprintf(my_url, sizeof my_url, "%s", my);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctype_c),
        cmocka_unit_test(test_ctype_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
