/*
 * test_pg_ddl.c: unit tests of the PostgreSQL target's pure half
 * (src/target/pg/pg_ddl.c): canonical → PostgreSQL types, native types kept for
 * PostgreSQL sources, enum type names, CREATE TABLE text, COPY row text and the
 * parsing of COPY error context. Also the source's native → canonical mapping and
 * literal defaults (src/source/pg/pg_describe.c). No server needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "source/pg/pg_source.h"
#include "target/pg/pg_target.h"

static sl_table_t *table(const char *engine, const char *name)
{
    sl_table_t *t = calloc(1, sizeof *t);
    t->engine = sl_strdup(engine);
    t->name = sl_strdup(name);
    return t;
}

static sl_column_t *col(sl_table_t *t, const char *name, sl_type_t type)
{
    sl_column_t *c = sl_table_add_col(t);
    c->name = sl_strdup(name);
    c->type = type;
    return c;
}

/* The DDL type of the table's last column. */
static const char *ddl(sl_table_t *t, sl_buf_t *b)
{
    sl_buf_reset(b);
    assert_int_equal(sl_pg_ddl_type(t, &t->columns[t->ncolumns - 1], "tgt", b, NULL), 0);
    return b->data;
}

static void test_canonical_types(void **state)
{
    sl_table_t *t = table("mysql", "Orders");
    sl_buf_t b;
    sl_buf_init(&b, 4096);
    static const struct {
        sl_type_t type;
        const char *want;
    } simple[] = {
        {SL_T_BOOL, "boolean"},        {SL_T_INT16, "smallint"},
        {SL_T_INT32, "integer"},       {SL_T_INT64, "bigint"},
        {SL_T_UINT64, "numeric(20,0)"}, {SL_T_FLOAT32, "real"},
        {SL_T_FLOAT64, "double precision"}, {SL_T_MONEY, "numeric(19,2)"},
        {SL_T_BYTES, "bytea"},         {SL_T_GEOMETRY, "bytea"},
        {SL_T_DATE, "date"},           {SL_T_INTERVAL, "interval"},
        {SL_T_JSON, "json"},           {SL_T_UUID, "uuid"},
        {SL_T_SET, "text"},            {SL_T_NET, "text"},
        {SL_T_TSVECTOR, "text"},
    };
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
        col(t, "c", simple[i].type);
        assert_string_equal(ddl(t, &b), simple[i].want);
    }
    sl_column_t *c = col(t, "d", SL_T_DECIMAL);
    assert_string_equal(ddl(t, &b), "numeric");
    c->precision = 65;
    c->scale = 30;
    assert_string_equal(ddl(t, &b), "numeric(65,30)");
    c->scale = -1;
    assert_string_equal(ddl(t, &b), "numeric(65,0)");

    c = col(t, "s", SL_T_TEXT);
    assert_string_equal(ddl(t, &b), "text");
    c->length = 20;
    assert_string_equal(ddl(t, &b), "varchar(20)");
    c->fixed = true;
    assert_string_equal(ddl(t, &b), "character(20)");
    c->fixed = false;
    c->length = 2000000000; /* beyond varchar's limit */
    assert_string_equal(ddl(t, &b), "text");

    c = col(t, "tm", SL_T_TIME);
    assert_string_equal(ddl(t, &b), "time");
    c->scale = 3;
    assert_string_equal(ddl(t, &b), "time(3)");
    c = col(t, "ts", SL_T_TIMESTAMP);
    c->scale = 9; /* MySQL never has more than 6, but clamp anyway */
    assert_string_equal(ddl(t, &b), "timestamp(6)");
    c = col(t, "tz", SL_T_TIMESTAMPTZ);
    c->scale = 0;
    assert_string_equal(ddl(t, &b), "timestamptz(0)");

    c = col(t, "bits", SL_T_BIT);
    c->length = 5;
    c->fixed = true;
    assert_string_equal(ddl(t, &b), "bit(5)");
    c->fixed = false;
    assert_string_equal(ddl(t, &b), "varbit(5)");
    c->length = 0;
    assert_string_equal(ddl(t, &b), "varbit");

    c = col(t, "status", SL_T_ENUM);
    assert_string_equal(ddl(t, &b), "\"tgt\".\"Orders_status\"");
    c = col(t, "arr", SL_T_ARRAY);
    c->elem = SL_T_INT32;
    assert_string_equal(ddl(t, &b), "integer[]");
    sl_buf_free(&b);
    sl_table_free(t);
}

static void test_native_types(void **state)
{
    sl_table_t *t = table("pg", "t");
    sl_buf_t b;
    sl_buf_init(&b, 4096);
    sl_column_t *c = col(t, "v", SL_T_TEXT);
    c->native = sl_strdup("character varying(20)");
    assert_string_equal(ddl(t, &b), "character varying(20)");
    c = col(t, "p", SL_T_TEXT);
    c->native = sl_strdup("point");
    assert_string_equal(ddl(t, &b), "point");
    /* enums move to the target schema under their own name */
    c = col(t, "e", SL_T_ENUM);
    c->native = sl_strdup("\"other\".\"My \"\"Mood\"\"\"");
    assert_string_equal(ddl(t, &b), "\"tgt\".\"My \"\"Mood\"\"\"");
    c = col(t, "ea", SL_T_ARRAY);
    c->elem = SL_T_ENUM;
    c->native = sl_strdup("mood[]");
    c->elem_native = sl_strdup("mood");
    assert_string_equal(ddl(t, &b), "\"tgt\".\"mood\"[]");
    char name[64];
    sl_pg_enum_name(t, &t->columns[0], name, sizeof name);
    assert_string_equal(name, ""); /* not an enum */
    sl_buf_free(&b);
    sl_table_free(t);
}

static void test_create_sql(void **state)
{
    sl_table_t *t = table("mysql", "Orders");
    sl_column_t *c = col(t, "id", SL_T_INT64);
    c->autoinc = true;
    c->nullable = false;
    c->pk_pos = 1;
    c = col(t, "name", SL_T_TEXT);
    c->length = 10;
    c->default_value = sl_strdup("it's");
    c = col(t, "raw", SL_T_BYTES);
    c->default_value = sl_strdup("\x01\xff");
    c = col(t, "gen", SL_T_INT64);
    c->generated = true;
    c->generation_expr = sl_strdup("`id` * 2");
    sl_buf_t b;
    sl_buf_init(&b, 4096);
    assert_int_equal(sl_pg_create_sql(t, "s", NULL, &b, NULL), 0);
    assert_string_equal(b.data, "CREATE TABLE \"s\".\"Orders\" (\n"
                                "  \"id\" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL,\n"
                                "  \"name\" varchar(10) DEFAULT 'it''s'::varchar(10),\n"
                                "  \"raw\" bytea DEFAULT '\\x01ff'::bytea,\n"
                                "  \"gen\" bigint,\n"
                                "  PRIMARY KEY (\"id\")\n)");
    /* PostgreSQL → PostgreSQL recreates the generated column */
    free(t->engine);
    t->engine = sl_strdup("pg");
    t->columns[3].native = sl_strdup("bigint");
    free(t->columns[3].generation_expr);
    t->columns[3].generation_expr = sl_strdup("(id * 2)");
    bool keep[4] = {true, false, true, true};
    sl_buf_reset(&b);
    for (int i = 0; i < 3; i++)
        t->columns[i].native = sl_strdup(i == 0 ? "bigint" : i == 1 ? "character varying(10)" : "bytea");
    assert_int_equal(sl_pg_create_sql(t, "s", keep, &b, NULL), 0);
    assert_non_null(strstr(b.data, "\"gen\" bigint GENERATED ALWAYS AS ((id * 2)) STORED"));
    assert_null(strstr(b.data, "it''s")); /* keep[1] false */
    sl_buf_free(&b);
    sl_table_free(t);
}

static void test_copy_row(void **state)
{
    sl_table_t *t = table("pg", "t");
    col(t, "a", SL_T_TEXT)->native = sl_strdup("text");
    col(t, "b", SL_T_BYTES)->native = sl_strdup("bytea");
    sl_column_t *g = col(t, "g", SL_T_INT32);
    g->native = sl_strdup("integer");
    g->generated = true;
    g->generation_expr = sl_strdup("1");
    col(t, "n", SL_T_INT32)->native = sl_strdup("integer");
    sl_value_t v[4] = {{"x\ty", 3}, {"\x00\x01", 2}, {"7", 1}, {NULL, -1}};
    sl_buf_t b;
    sl_buf_init(&b, 4096);
    int bad = -1;
    assert_int_equal(sl_pg_copy_row(t, v, &b, &bad, NULL), 0);
    assert_string_equal(b.data, "x\\ty\t\\\\x0001\t\\N\n"); /* generated column left out */
    /* from another engine the generated column is plain data */
    free(t->engine);
    t->engine = sl_strdup("mysql");
    sl_buf_reset(&b);
    assert_int_equal(sl_pg_copy_row(t, v, &b, &bad, NULL), 0);
    assert_string_equal(b.data, "x\\ty\t\\\\x0001\t7\t\\N\n");
    sl_value_t nul[4] = {{"a\0b", 3}, {NULL, -1}, {NULL, -1}, {NULL, -1}};
    sl_buf_reset(&b);
    assert_int_equal(sl_pg_copy_row(t, nul, &b, &bad, NULL), 1);
    assert_int_equal(bad, 0);
    sl_buf_free(&b);
    sl_table_free(t);
}

static void test_copy_context(void **state)
{
    long line;
    char colname[64];
    sl_pg_copy_context("COPY Orders, line 7, column tm: \"838:59:59\"", &line, colname,
                       sizeof colname);
    assert_int_equal(line, 7);
    assert_string_equal(colname, "tm");
    sl_pg_copy_context("COPY t, line 3", &line, colname, sizeof colname);
    assert_int_equal(line, 3);
    assert_string_equal(colname, "");
    sl_pg_copy_context(NULL, &line, colname, sizeof colname);
    assert_int_equal(line, 0);
}

static void test_map_type(void **state)
{
    sl_column_t c = {.scale = -1};
    assert_int_equal(sl_pg_map_type("numeric", true, 'b', ((12 << 16) | 3) + 4, &c), SL_T_DECIMAL);
    assert_int_equal(c.precision, 12);
    assert_int_equal(c.scale, 3);
    sl_column_t n = {.scale = -1};
    sl_pg_map_type("numeric", true, 'b', -1, &n);
    assert_int_equal(n.precision, 0);
    sl_column_t ch = {.scale = -1};
    assert_int_equal(sl_pg_map_type("bpchar", true, 'b', 5 + 4, &ch), SL_T_TEXT);
    assert_true(ch.fixed);
    assert_int_equal(ch.length, 5);
    sl_column_t ts = {.scale = -1};
    assert_int_equal(sl_pg_map_type("timestamptz", true, 'b', 3, &ts), SL_T_TIMESTAMPTZ);
    assert_int_equal(ts.scale, 3);
    sl_column_t vb = {.scale = -1};
    assert_int_equal(sl_pg_map_type("varbit", true, 'b', 10, &vb), SL_T_BIT);
    assert_false(vb.fixed);
    assert_int_equal(vb.length, 10);
    sl_column_t e = {.scale = -1};
    assert_int_equal(sl_pg_map_type("mood", false, 'e', -1, &e), SL_T_ENUM);
    sl_column_t x = {.scale = -1};
    assert_int_equal(sl_pg_map_type("xml", true, 'b', -1, &x), SL_T_TEXT);
    sl_column_t j = {.scale = -1};
    assert_int_equal(sl_pg_map_type("jsonb", true, 'b', -1, &j), SL_T_JSON);
    sl_column_t cit = {.scale = -1};
    assert_int_equal(sl_pg_map_type("citext", false, 'b', -1, &cit), SL_T_TEXT);
}

static void test_default_literal(void **state)
{
    static const struct {
        const char *expr;
        sl_type_t type;
        bool bpchar;
        const char *want; /* NULL: not a literal */
    } cases[] = {
        {"'-1'::integer", SL_T_INT32, false, "-1"},
        {"42", SL_T_INT32, false, "42"},
        {"(-1)", SL_T_INT32, false, "-1"},
        {"1.5", SL_T_FLOAT64, false, "1.5"},
        {"'it''s'::text", SL_T_TEXT, false, "it's"},
        {"'x'::character varying", SL_T_TEXT, false, "x"},
        {"'ab'::bpchar", SL_T_TEXT, true, "ab"},
        {"'ab   '::bpchar", SL_T_TEXT, true, "ab"},
        {"true", SL_T_BOOL, false, "t"},
        {"false", SL_T_BOOL, false, "f"},
        {"'ok'::mood", SL_T_ENUM, false, "ok"},
        {"'ok'::\"Other\".\"Mood\"", SL_T_ENUM, false, "ok"},
        {"'{1,2}'::integer[]", SL_T_ARRAY, false, "{1,2}"},
        {"'P1D'::interval", SL_T_INTERVAL, false, "P1D"},
        {"'2020-01-01 00:00:00+00'::timestamp with time zone", SL_T_TIMESTAMPTZ, false,
         "2020-01-01 00:00:00+00"},
        {"E'a\\\\b'::text", SL_T_TEXT, false, "a\\b"},
        {"'$1,234.50'::money", SL_T_MONEY, false, "1234.50"},
        {"'\\x6162'::bytea", SL_T_BYTES, false, "ab"},
        {"'\\x0062'::bytea", SL_T_BYTES, false, NULL}, /* a NUL byte cannot be a C string */
        {"now()", SL_T_TIMESTAMPTZ, false, NULL},
        {"CURRENT_TIMESTAMP", SL_T_TIMESTAMPTZ, false, NULL},
        {"nextval('t_id_seq'::regclass)", SL_T_INT32, false, NULL},
        {"(1 + 2)", SL_T_INT32, false, NULL},
        {"'a'::text || 'b'::text", SL_T_TEXT, false, NULL},
        {"NULL::text", SL_T_TEXT, false, NULL},
        {"'1.7'::numeric::integer", SL_T_INT32, false, NULL},
        {"'unterminated", SL_T_TEXT, false, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = sl_pg_default_literal(cases[i].expr, cases[i].type, cases[i].bpchar);
        if (!cases[i].want) {
            if (got)
                fail_msg("%s: expected no literal, got \"%s\"", cases[i].expr, got);
        } else {
            if (!got || strcmp(got, cases[i].want))
                fail_msg("%s: expected \"%s\", got \"%s\"", cases[i].expr, cases[i].want,
                         got ? got : "(null)");
        }
        free(got);
    }
}

static void test_scan_column_expr(void **state)
{
    sl_column_t m = {.name = "Price", .type = SL_T_MONEY};
    sl_column_t t = {.name = "a\"b", .type = SL_T_TEXT};
    sl_buf_t b;
    sl_buf_init(&b, 1024);
    assert_int_equal(sl_pg_scan_column_expr(&b, &m, NULL), 0);
    assert_string_equal(b.data, "\"Price\"::numeric");
    sl_buf_reset(&b);
    assert_int_equal(sl_pg_scan_column_expr(&b, &t, NULL), 0);
    assert_string_equal(b.data, "\"a\"\"b\"");
    sl_buf_free(&b);
}

static int refuses(const sl_table_t *t, const sl_column_t *c, const char *v, sl_refusal_t *r)
{
    sl_value_t val = {v, (int64_t)strlen(v)};
    memset(r, 0, sizeof *r);
    return sl_pg_refuses(t, c, &val, r);
}

/* Columns a mapping made: a cast is the user's type verbatim (no enum type made for it),
 * a mapping's target schema holds the table; what MySQL values PostgreSQL refuses. */
static void test_mapped_columns(void **state)
{
    (void)state;
    sl_buf_t b;
    sl_buf_init(&b, 1 << 20);
    sl_table_t *t = table("mysql", "t");
    sl_column_t *c = col(t, "d", SL_T_TIME);
    c->scale = 2;
    sl_refusal_t r;
    assert_int_equal(refuses(t, c, "-838:59:59", &r), 1);
    assert_string_equal(r.cast, "interval");
    assert_non_null(strstr(r.why, "-838:59:59"));
    assert_int_equal(refuses(t, c, "100:00:00", &r), 1);
    assert_int_equal(refuses(t, c, "24:00:00.01", &r), 1);
    assert_int_equal(refuses(t, c, "24:00:00", &r), 0);
    assert_int_equal(refuses(t, c, "23:59:59.99", &r), 0);
    assert_int_equal(refuses(t, c, "00:00:00", &r), 0);
    assert_int_equal(sl_pg_may_refuse(t, c, &r), 1);
    c->cast = sl_strdup("interval");
    assert_int_equal(refuses(t, c, "-838:59:59", &r), 0);
    assert_int_equal(sl_pg_may_refuse(t, c, &r), 0);
    assert_string_equal(ddl(t, &b), "interval");
    c = col(t, "s", SL_T_TEXT);
    sl_value_t nul = {"a\0b", 3};
    assert_int_equal(sl_pg_refuses(t, c, &nul, &r), 1);
    assert_null(r.cast);
    c = col(t, "e", SL_T_ENUM);
    c->labels = calloc(1, sizeof *c->labels);
    c->labels[0] = sl_strdup("x");
    c->nlabels = 1;
    assert_int_equal(refuses(t, c, "x", &r), 0);
    assert_int_equal(refuses(t, c, "", &r), 1);
    assert_string_equal(r.cast, "text");
    char name[64];
    sl_pg_enum_name(t, c, name, sizeof name);
    assert_string_equal(name, "t_e");
    c->cast = sl_strdup("text");
    sl_pg_enum_name(t, c, name, sizeof name);
    assert_string_equal(name, ""); /* a cast enum needs no type */
    /* a PostgreSQL source's own values are never screened */
    sl_table_t *same = table("pg", "u");
    c = col(same, "d", SL_T_TIME);
    assert_int_equal(refuses(same, c, "24:00:00", &r), 0);
    sl_table_free(same);
    /* the mapping's target schema */
    t->target_schema = sl_strdup("crm");
    sl_pg_t pg = {.schema = "public"};
    assert_string_equal(sl_pg_tschema(&pg, t), "crm");
    free(t->target_schema);
    t->target_schema = NULL;
    assert_string_equal(sl_pg_tschema(&pg, t), "public");
    sl_table_free(t);
    sl_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_types), cmocka_unit_test(test_native_types),
        cmocka_unit_test(test_mapped_columns),
        cmocka_unit_test(test_create_sql),      cmocka_unit_test(test_copy_row),
        cmocka_unit_test(test_copy_context),    cmocka_unit_test(test_map_type),
        cmocka_unit_test(test_default_literal), cmocka_unit_test(test_scan_column_expr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
