/*
 * test_mysql_literal.c: unit tests of the MariaDB/MySQL target's pure mapping
 * (src/target/mysql/mysql_literal.c): canonical values to SQL literals (and the
 * values refused because MySQL would store them wrongly), canonical types to
 * column DDL for both a MySQL source (verbatim) and another engine, key and row
 * size limits, and index prefixes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "target/mysql/mysql_target.h"

static sl_table_t *table(const char *engine)
{
    sl_table_t *t = calloc(1, sizeof *t);
    t->engine = sl_strdup(engine);
    t->name = sl_strdup("t");
    return t;
}

static sl_column_t *add(sl_table_t *t, const char *name, sl_type_t type, int length)
{
    sl_column_t *c = sl_table_add_col(t);
    c->name = sl_strdup(name);
    c->type = type;
    c->length = length;
    return c;
}

/* Adds an enum column with two labels. */
static void add_enum(sl_table_t *t, const char *name, const char *l1, const char *l2)
{
    sl_column_t *c = add(t, name, SL_T_ENUM, 0);
    c->labels = calloc(2, sizeof *c->labels);
    c->labels[0] = sl_strdup(l1);
    c->labels[1] = sl_strdup(l2);
    c->nlabels = 2;
}

/* The literal for one value, or "REFUSED: <why>". */
static const char *lit(sl_table_t *t, sl_column_t *c, const char *v, sl_buf_t *b)
{
    static char out[512];
    char why[256];
    sl_err_t err = {0};
    sl_buf_reset(b);
    int rc = sl_mysql_literal(b, t, c, v, strlen(v), why, sizeof why, &err);
    if (rc < 0)
        fail_msg("literal error: %s", err.message);
    if (rc == 1)
        snprintf(out, sizeof out, "REFUSED: %s", why);
    else
        snprintf(out, sizeof out, "%s", b->data);
    return out;
}

#define LIT(col, in, want) assert_string_equal(lit(t, col, in, &b), want)
#define REFUSED(col, in) assert_memory_equal(lit(t, col, in, &b), "REFUSED", 7)

static void test_literals(void **state)
{
    sl_table_t *t = table("pg");
    sl_buf_t b;
    sl_buf_init(&b, 1 << 20);
    /* add every column first: adding reallocates the array */
    add(t, "bo", SL_T_BOOL, 0);
    add(t, "i8", SL_T_INT64, 0);
    add(t, "u8", SL_T_UINT64, 0);
    add(t, "f4", SL_T_FLOAT32, 0);
    add(t, "f8", SL_T_FLOAT64, 0);
    add(t, "tx", SL_T_TEXT, 0);
    add(t, "by", SL_T_BYTES, 0);
    add(t, "bt", SL_T_BIT, 4);
    add(t, "bl", SL_T_BIT, 100);
    add(t, "da", SL_T_DATE, 0);
    add(t, "ts", SL_T_TIMESTAMP, 0);
    add(t, "tz", SL_T_TIMESTAMPTZ, 0);
    add(t, "ge", SL_T_GEOMETRY, 0);
    add(t, "js", SL_T_JSON, 0);
    add(t, "un", SL_T_UNKNOWN, 0);
    sl_column_t *bo = &t->columns[0];
    sl_column_t *i8 = &t->columns[1];
    sl_column_t *u8 = &t->columns[2];
    sl_column_t *f4 = &t->columns[3];
    sl_column_t *f8 = &t->columns[4];
    sl_column_t *tx = &t->columns[5];
    sl_column_t *by = &t->columns[6];
    sl_column_t *bt = &t->columns[7];
    sl_column_t *bl = &t->columns[8];
    sl_column_t *da = &t->columns[9];
    sl_column_t *ts = &t->columns[10];
    sl_column_t *tz = &t->columns[11];
    sl_column_t *ge = &t->columns[12];
    sl_column_t *js = &t->columns[13];
    sl_column_t *un = &t->columns[14];

    LIT(bo, "t", "1");
    LIT(bo, "f", "0");
    REFUSED(bo, "maybe");
    LIT(i8, "-9223372036854775808", "-9223372036854775808");
    LIT(u8, "18446744073709551615", "18446744073709551615");
    REFUSED(i8, "1; DROP TABLE t");
    LIT(f8, "0.30000000000000004", "0.30000000000000004e0");
    LIT(f8, "1e23", "1e23");
    REFUSED(f8, "NaN");
    REFUSED(f8, "Infinity");
    REFUSED(f8, "-Infinity");
    /* the shortest float text is out of range as a double: write the exact value */
    LIT(f4, "3.4028235e+38", "3.4028234663852886e+38");
    LIT(f4, "1.1", "1.1000000238418579e+00");
    REFUSED(f4, "NaN");
    LIT(tx, "it's \\ 😀", "'it\\'s \\\\ 😀'");
    LIT(tx, "", "''");
    LIT(js, "{\"a\": \"b\"}", "'{\\\"a\\\": \\\"b\\\"}'");
    LIT(by, "\x01\xfe", "_binary x'01fe'");
    LIT(ge, "\x01\x01", "ST_GeomFromWKB(_binary x'0101')");
    bt->fixed = true; /* BIT(4) */
    LIT(bt, "0101", "b'0101'");
    bt->fixed = false; /* varbit(4): text, so that '01' keeps its length */
    LIT(bt, "01", "'01'");
    bt->fixed = true;
    REFUSED(bt, "0121");
    LIT(bl, "0101", "'0101'"); /* BIT(100) is text on MySQL */
    LIT(da, "2024-02-29", "'2024-02-29'");
    REFUSED(da, "infinity");
    REFUSED(da, "-infinity");
    REFUSED(da, "0044-03-15 BC");
    REFUSED(da, "12345-01-01");
    LIT(ts, "2020-01-01 10:00:00.5", "'2020-01-01 10:00:00.5'");
    REFUSED(ts, "infinity");
    LIT(tz, "2020-01-01 10:00:00.5+00", "'2020-01-01 10:00:00.5'");
    LIT(tz, "2020-01-01 10:00:00+00:00", "'2020-01-01 10:00:00'");
    REFUSED(tz, "2020-01-01 10:00:00+02");
    REFUSED(tz, "infinity");
    REFUSED(un, "x");
    sl_buf_free(&b);
    sl_table_free(t);
}

static void test_decimal_fit(void **state)
{
    sl_table_t *t = table("pg");
    sl_buf_t b;
    sl_buf_init(&b, 1 << 20);
    add(t, "d", SL_T_DECIMAL, 0);
    add(t, "u", SL_T_DECIMAL, 0); /* unconstrained: decimal(65,30) */
    add(t, "m", SL_T_MONEY, 0);
    sl_column_t *d = &t->columns[0], *u = &t->columns[1], *m = &t->columns[2];
    d->precision = 5;
    d->scale = 2;
    LIT(d, "-123.45", "-123.45");
    LIT(d, "123.4500", "123.4500"); /* trailing zeros do not count */
    LIT(d, "0000123.4", "0000123.4");
    REFUSED(d, "1234.5");  /* too many integer digits */
    REFUSED(d, "1.234");   /* MySQL would round */
    REFUSED(d, "NaN");
    REFUSED(d, "1e3");
    LIT(u, "12345678901234567890123456789012345.123456789012345678901234567890",
        "12345678901234567890123456789012345.123456789012345678901234567890");
    REFUSED(u, "123456789012345678901234567890123456.5");
    REFUSED(u, "0.1234567890123456789012345678901");
    LIT(m, "-92233720368547758.08", "-92233720368547758.08");
    REFUSED(m, "1.005");
    sl_buf_free(&b);
    sl_table_free(t);
}

/* The DDL type of column i with the table's widths. */
static const char *ddl(sl_table_t *t, int i, sl_buf_t *b)
{
    int w[64];
    sl_err_t err = {0};
    sl_mysql_widths(t, w);
    sl_buf_reset(b);
    if (sl_mysql_column_type(b, t, &t->columns[i], w[i], &err))
        return "ERROR";
    return b->data;
}

static void test_cross_engine_ddl(void **state)
{
    sl_table_t *t = table("pg");
    sl_buf_t b;
    sl_buf_init(&b, 1 << 20);
    struct {
        sl_type_t type;
        int length;
        bool fixed;
        int precision, scale;
        const char *want;
    } cases[] = {
        {SL_T_BOOL, 0, false, 0, -1, "tinyint(1)"},
        {SL_T_INT16, 0, false, 0, -1, "smallint"},
        {SL_T_INT32, 0, false, 0, -1, "int"},
        {SL_T_INT64, 0, false, 0, -1, "bigint"},
        {SL_T_UINT64, 0, false, 0, -1, "bigint unsigned"},
        {SL_T_FLOAT32, 0, false, 0, -1, "float"},
        {SL_T_FLOAT64, 0, false, 0, -1, "double"},
        {SL_T_DECIMAL, 0, false, 12, 4, "decimal(12,4)"},
        {SL_T_DECIMAL, 0, false, 0, -1, "decimal(65,30)"},
        {SL_T_DECIMAL, 0, false, 100, 2, "decimal(65,30)"},
        {SL_T_DECIMAL, 0, false, 5, 40, "decimal(65,30)"},
        {SL_T_DECIMAL, 0, false, 5, -2, "decimal(7,0)"}, /* PostgreSQL numeric(5,-2) */
        {SL_T_MONEY, 0, false, 0, -1, "money"},
        {SL_T_TEXT, 10, true, 0, -1, "char(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"},
        {SL_T_TEXT, 300, true, 0, -1, "varchar(300) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"},
        {SL_T_TEXT, 16000, false, 0, -1, "varchar(16000) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"},
        {SL_T_TEXT, 16384, false, 0, -1, "longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"},
        {SL_T_TEXT, 0, false, 0, -1, "longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"},
        {SL_T_BYTES, 16, true, 0, -1, "binary(16)"},
        {SL_T_BYTES, 100, false, 0, -1, "varbinary(100)"},
        {SL_T_BYTES, 0, false, 0, -1, "longblob"},
        {SL_T_DATE, 0, false, 0, -1, "date"},
        {SL_T_TIME, 0, false, 0, -1, "time(6)"},
        {SL_T_TIME, 0, false, 0, 3, "time(3)"},
        {SL_T_TIMETZ, 0, false, 0, -1, "varchar(32) CHARACTER SET ascii COLLATE ascii_bin"},
        {SL_T_TIMESTAMP, 0, false, 0, -1, "datetime(6)"},
        {SL_T_TIMESTAMP, 0, false, 0, 0, "datetime(0)"},
        {SL_T_TIMESTAMPTZ, 0, false, 0, 2, "datetime(2)"},
        {SL_T_INTERVAL, 0, false, 0, -1, "varchar(64) CHARACTER SET ascii COLLATE ascii_bin"},
        {SL_T_JSON, 0, false, 0, -1, "json"},
        {SL_T_UUID, 0, false, 0, -1, "char(36) CHARACTER SET ascii COLLATE ascii_bin"},
        {SL_T_BIT, 8, true, 0, -1, "bit(8)"},
        {SL_T_BIT, 64, true, 0, -1, "bit(64)"},
        /* varbit(64): BIT(64) would pad '101' to 64 bits, so it stays '0'/'1' text */
        {SL_T_BIT, 64, false, 0, -1, "varchar(64) CHARACTER SET ascii COLLATE ascii_bin"},
        {SL_T_BIT, 65, false, 0, -1, "varchar(65) CHARACTER SET ascii COLLATE ascii_bin"},
        {SL_T_ARRAY, 0, false, 0, -1, "json"}, /* a JSON array (model/array.h) */
        {SL_T_GEOMETRY, 0, false, 0, -1, "geometry"},
        {SL_T_NET, 0, false, 0, -1, "varchar(64) CHARACTER SET ascii COLLATE ascii_bin"},
        {SL_T_TSVECTOR, 0, false, 0, -1, "longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_table_free(t);
        t = table("pg"); /* alone, so the row size limit does not interfere */
        sl_column_t *c = add(t, "c", cases[i].type, cases[i].length);
        c->fixed = cases[i].fixed;
        c->precision = cases[i].precision;
        c->scale = cases[i].scale;
        const char *want = cases[i].type == SL_T_MONEY ? "decimal(19,2)" : cases[i].want;
        const char *got = ddl(t, t->ncolumns - 1, &b);
        if (strcmp(got, want) != 0)
            fail_msg("case %zu (%s): got \"%s\", want \"%s\"", i, sl_type_name(cases[i].type), got, want);
    }
    add_enum(t, "e", "a'b", "A");
    assert_string_equal(ddl(t, t->ncolumns - 1, &b),
                        "enum('a\\'b','A') CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
    /* MySQL strips the trailing space of an ENUM member: such labels need a varchar */
    add_enum(t, "sp", "x ", "longer");
    assert_string_equal(ddl(t, t->ncolumns - 1, &b),
                        "varchar(6) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
    add(t, "x", SL_T_UNKNOWN, 0);
    assert_string_equal(ddl(t, t->ncolumns - 1, &b), "ERROR");
    sl_buf_free(&b);
    sl_table_free(t);
}

static void test_same_engine_ddl(void **state)
{
    sl_table_t *t = table("mysql");
    sl_buf_t b;
    sl_buf_init(&b, 1 << 20);
    sl_column_t *c = add(t, "a", SL_T_INT64, 0);
    c->native = sl_strdup("int(10) unsigned");
    c = add(t, "b", SL_T_TEXT, 20);
    c->native = sl_strdup("varchar(20)");
    c->charset = sl_strdup("latin1");
    c = add(t, "j", SL_T_JSON, 0);
    c->native = sl_strdup("longtext");
    c->charset = sl_strdup("utf8mb4");
    c = add(t, "e", SL_T_ENUM, 0);
    c->native = sl_strdup("enum('x','y')");
    c->charset = sl_strdup("utf8mb4");
    c = add(t, "g", SL_T_INT32, 0);
    c->native = sl_strdup("int(11)");
    c->generated = true;
    c->generation_expr = sl_strdup("`a` + 1");
    assert_string_equal(ddl(t, 0, &b), "int(10) unsigned");
    assert_string_equal(ddl(t, 1, &b), "varchar(20) CHARACTER SET latin1 COLLATE latin1_bin");
    assert_string_equal(ddl(t, 2, &b), "json");
    assert_string_equal(ddl(t, 3, &b), "enum('x','y') CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
    assert_true(sl_mysql_col_written(t, &t->columns[0]));
    assert_false(sl_mysql_col_written(t, &t->columns[4]));
    free(t->engine);
    t->engine = sl_strdup("pg"); /* another engine's generated column is plain data */
    assert_true(sl_mysql_col_written(t, &t->columns[4]));
    sl_buf_free(&b);
    sl_table_free(t);
}

static void test_key_and_row_limits(void **state)
{
    sl_table_t *t = table("pg");
    int w[16];
    add(t, "k1", SL_T_TEXT, 0);
    add(t, "k2", SL_T_BYTES, 0);
    add(t, "big1", SL_T_TEXT, 8000);
    add(t, "big2", SL_T_TEXT, 8000);
    add(t, "small", SL_T_TEXT, 100);
    t->columns[0].pk_pos = 1;
    t->columns[1].pk_pos = 2;
    sl_mysql_widths(t, w);
    assert_int_equal(w[0], 384);  /* 3072 key bytes / 2 columns / 4 bytes a char */
    assert_int_equal(w[1], 1536); /* bytes: one byte each */
    /* two varchar(8000) utf8mb4 beside the key exceed the 65,535-byte row: one
     * becomes longtext */
    assert_true((w[2] == 0) != (w[3] == 0));
    assert_int_equal(w[4], 100);
    /* index prefixes: unbounded and over-long text need one, short text does not */
    assert_int_equal(sl_mysql_index_prefix(t, &t->columns[2], 0, 1), 768);
    assert_int_equal(sl_mysql_index_prefix(t, &t->columns[2], 8000, 2), 384);
    assert_int_equal(sl_mysql_index_prefix(t, &t->columns[4], 100, 1), 0);
    add(t, "n", SL_T_INT64, 0);
    assert_int_equal(sl_mysql_index_prefix(t, &t->columns[5], -1, 1), 0);
    sl_table_free(t);
}

/* Columns a mapping made (engine/mapping.h): a cast goes as its canonical text, an
 * array as a JSON array, a recreated generated column is never written; the refuses
 * and may_refuse ops say what a value or a column's type cannot do. */
static void test_mapped_columns(void **state)
{
    (void)state;
    sl_buf_t b;
    sl_buf_init(&b, 1 << 20);
    sl_table_t *t = table("pg");
    sl_column_t *c = add(t, "n", SL_T_DECIMAL, 0);
    assert_string_equal(lit(t, c, "NaN", &b), "REFUSED: MySQL decimals have no NaN");
    sl_refusal_t r = {0};
    sl_value_t v = {"NaN", 3};
    assert_int_equal(sl_mysql_refuses(t, c, &v, &r), 1);
    assert_string_equal(r.why, "MySQL decimals have no NaN");
    assert_string_equal(r.cast, "varchar(64)");
    memset(&r, 0, sizeof r);
    assert_int_equal(sl_mysql_may_refuse(t, c, &r), 1);
    assert_string_equal(r.cast, "varchar(64)");
    v = (sl_value_t){"1.5", 3};
    assert_int_equal(sl_mysql_refuses(t, c, &v, &r), 0);
    /* a cast: the user's type verbatim, the value as its text */
    c->cast = sl_strdup("varchar(64)");
    assert_string_equal(lit(t, c, "NaN", &b), "'NaN'");
    sl_buf_reset(&b);
    assert_int_equal(sl_mysql_column_type(&b, t, c, -1, NULL), 0);
    assert_string_equal(b.data, "varchar(64)");
    v = (sl_value_t){"NaN", 3};
    assert_int_equal(sl_mysql_refuses(t, c, &v, &r), 0);
    assert_int_equal(sl_mysql_may_refuse(t, c, &r), 0);
    /* dates: infinity refused, carried by varchar(40) */
    c = add(t, "d", SL_T_TIMESTAMP, 0);
    v = (sl_value_t){"infinity", 8};
    assert_int_equal(sl_mysql_refuses(t, c, &v, &r), 1);
    assert_string_equal(r.cast, "varchar(40)");
    /* arrays become JSON arrays, and refuse what JSON cannot hold */
    c = add(t, "a", SL_T_ARRAY, 0);
    c->elem = SL_T_FLOAT64;
    assert_true(sl_mysql_array_json(t, c));
    sl_buf_reset(&b);
    assert_int_equal(sl_mysql_column_type(&b, t, c, 0, NULL), 0);
    assert_string_equal(b.data, "json");
    assert_string_equal(lit(t, c, "{{1,2},{NULL,3.5}}", &b), "'[[1,2],[null,3.5]]'");
    assert_string_equal(lit(t, c, "{1,NaN}", &b), "REFUSED: JSON has no NaN or infinite numbers");
    v = (sl_value_t){"{1,NaN}", 7};
    assert_int_equal(sl_mysql_refuses(t, c, &v, &r), 1);
    assert_string_equal(r.cast, "longtext");
    /* an array in the key keeps PostgreSQL's literal */
    c->pk_pos = 1;
    assert_false(sl_mysql_array_json(t, c));
    c->pk_pos = 0;
    /* a generated column recreated from its translated expression is not written */
    c = add(t, "g", SL_T_INT32, 0);
    c->generated = true;
    c->generation_expr = sl_strdup("(id * 2)");
    assert_true(sl_mysql_col_written(t, c));
    c->target_expr = sl_strdup("(`id` * 2)");
    assert_false(sl_mysql_col_written(t, c));
    sl_buf_reset(&b);
    assert_int_equal(sl_mysql_column_def(&b, t, c, -1, false, NULL), 0);
    assert_string_equal(b.data, "`g` int GENERATED ALWAYS AS ((`id` * 2)) STORED");
    /* a MariaDB source's own values are never screened */
    sl_table_t *same = table("mysql");
    c = add(same, "f", SL_T_FLOAT64, 0);
    assert_int_equal(sl_mysql_may_refuse(same, c, &r), 0);
    sl_table_free(same);
    sl_table_free(t);
    sl_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_mapped_columns),
        cmocka_unit_test(test_decimal_fit),
        cmocka_unit_test(test_cross_engine_ddl),
        cmocka_unit_test(test_same_engine_ddl),
        cmocka_unit_test(test_key_and_row_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
