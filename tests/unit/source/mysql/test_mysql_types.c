/*
 * test_mysql_types.c: unit tests of the MariaDB/MySQL source's pure mapping
 * (src/source/mysql/mysql_types.c): information_schema types to canonical types,
 * enum/set labels with escapes, column defaults as MariaDB and MySQL show them,
 * and scanned values to canonical text (FLOAT digits, zero dates, fractions, BIT,
 * YEAR, ZEROFILL, TIMESTAMP in UTC).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "source/mysql/mysql_source.h"

/* A column mapped from DATA_TYPE and COLUMN_TYPE; caller frees with free_col. */
static sl_table_t *mapped(const char *data_type, const char *column_type)
{
    sl_table_t *t = calloc(1, sizeof *t);
    sl_column_t *c = sl_table_add_col(t);
    c->name = sl_strdup("c");
    c->native = sl_strdup(column_type);
    if (sl_mysql_map_type(c, data_type, column_type))
        fail_msg("cannot map %s", column_type);
    return t;
}

static void check_type(const char *dt, const char *ct, sl_type_t want, int length, bool fixed)
{
    sl_table_t *t = mapped(dt, ct);
    if (t->columns[0].type != want)
        fail_msg("%s: got %s, want %s", ct, sl_type_name(t->columns[0].type), sl_type_name(want));
    assert_int_equal(t->columns[0].length, length);
    assert_int_equal(t->columns[0].fixed, fixed);
    sl_table_free(t);
}

static void test_integer_types(void **state)
{
    check_type("tinyint", "tinyint(4)", SL_T_INT16, 0, false);
    check_type("tinyint", "tinyint(3) unsigned", SL_T_INT16, 0, false);
    check_type("tinyint", "tinyint(1)", SL_T_INT16, 0, false); /* bool stays lossless */
    check_type("smallint", "smallint(6)", SL_T_INT16, 0, false);
    check_type("smallint", "smallint(5) unsigned", SL_T_INT32, 0, false);
    check_type("mediumint", "mediumint(8) unsigned", SL_T_INT32, 0, false);
    check_type("int", "int(11)", SL_T_INT32, 0, false);
    check_type("int", "int unsigned", SL_T_INT64, 0, false); /* MySQL 8 spelling */
    check_type("int", "int(6) unsigned zerofill", SL_T_INT64, 0, false);
    check_type("bigint", "bigint(20)", SL_T_INT64, 0, false);
    check_type("bigint", "bigint(20) unsigned", SL_T_UINT64, 0, false);
    check_type("year", "year(4)", SL_T_INT16, 0, false);
}

static void test_other_types(void **state)
{
    check_type("float", "float", SL_T_FLOAT32, 0, false);
    check_type("double", "double", SL_T_FLOAT64, 0, false);
    check_type("bit", "bit(10)", SL_T_BIT, 10, true);
    check_type("char", "char(5)", SL_T_TEXT, 5, true);
    check_type("varchar", "varchar(300)", SL_T_TEXT, 300, false);
    check_type("mediumtext", "mediumtext", SL_T_TEXT, 0, false);
    check_type("binary", "binary(4)", SL_T_BYTES, 4, true);
    check_type("varbinary", "varbinary(20)", SL_T_BYTES, 20, false);
    check_type("longblob", "longblob", SL_T_BYTES, 0, false);
    check_type("date", "date", SL_T_DATE, 0, false);
    check_type("json", "json", SL_T_JSON, 0, false);
    check_type("point", "point", SL_T_GEOMETRY, 0, false);
    check_type("geometrycollection", "geometrycollection", SL_T_GEOMETRY, 0, false);
    check_type("uuid", "uuid", SL_T_UUID, 0, false);

    sl_table_t *t = mapped("decimal", "decimal(65,30) unsigned");
    assert_int_equal(t->columns[0].type, SL_T_DECIMAL);
    assert_int_equal(t->columns[0].precision, 65);
    assert_int_equal(t->columns[0].scale, 30);
    sl_table_free(t);
    t = mapped("datetime", "datetime(3)");
    assert_int_equal(t->columns[0].type, SL_T_TIMESTAMP);
    assert_int_equal(t->columns[0].scale, 3);
    sl_table_free(t);
    t = mapped("timestamp", "timestamp");
    assert_int_equal(t->columns[0].type, SL_T_TIMESTAMPTZ);
    assert_int_equal(t->columns[0].scale, 0); /* MySQL's default precision is 0 */
    sl_table_free(t);
    t = mapped("time", "time(6)");
    assert_int_equal(t->columns[0].type, SL_T_TIME);
    assert_int_equal(t->columns[0].scale, 6);
    sl_table_free(t);

    sl_table_t u = {0};
    sl_column_t *c = sl_table_add_col(&u);
    assert_int_equal(sl_mysql_map_type(c, "vector", "vector(3)"), -1);
    assert_int_equal(c->type, SL_T_UNKNOWN);
    free(u.columns);
}

static void test_labels(void **state)
{
    char **labels;
    int n;
    /* COLUMN_TYPE as information_schema shows enum('a','b''c','x\\y','') */
    assert_int_equal(sl_mysql_parse_labels("enum('a','b''c','x\\\\y','')", &labels, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(labels[0], "a");
    assert_string_equal(labels[1], "b'c");
    assert_string_equal(labels[2], "x\\y");
    assert_string_equal(labels[3], "");
    for (int i = 0; i < n; i++)
        free(labels[i]);
    free(labels);
    assert_int_equal(sl_mysql_parse_labels("set('p,q')", &labels, &n), 0); /* MySQL forbids it, but parse */
    assert_int_equal(n, 1);
    assert_string_equal(labels[0], "p,q");
    free(labels[0]);
    free(labels);
    assert_int_equal(sl_mysql_parse_labels("enum('a", &labels, &n), -1);
}

/* Default of a column of the given type as information_schema shows it. */
static char *dflt(const char *dt, const char *ct, const char *shown, const char *extra, bool mariadb)
{
    sl_table_t *t = mapped(dt, ct);
    char *d = sl_mysql_parse_default(&t->columns[0], shown, extra, mariadb);
    sl_table_free(t);
    return d;
}

static void expect_default(char *got, const char *want)
{
    if (!want) {
        if (got)
            fail_msg("default: got \"%s\", want none", got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_defaults(void **state)
{
    /* MariaDB 10.2+: SQL expressions */
    expect_default(dflt("varchar", "varchar(20)", "'it''s \\\\ \"x\"'", "", true), "it's \\ \"x\"");
    expect_default(dflt("varchar", "varchar(20)", "NULL", "", true), NULL);
    expect_default(dflt("varchar", "varchar(20)", NULL, "", true), NULL);
    expect_default(dflt("int", "int(11)", "-5", "", true), "-5");
    expect_default(dflt("decimal", "decimal(10,2)", "1.50", "", true), "1.50");
    expect_default(dflt("int", "int(6) unsigned zerofill", "00007", "", true), "7");
    expect_default(dflt("bit", "bit(10)", "b'101'", "", true), "0000000101");
    expect_default(dflt("timestamp", "timestamp(2)", "current_timestamp(2)", "", true), NULL);
    expect_default(dflt("int", "int(11)", "(1 + 1)", "", true), NULL);
    expect_default(dflt("date", "date", "'0000-00-00'", "", true), NULL);
    expect_default(dflt("datetime", "datetime(6)", "'2020-01-01 10:00:00.500000'", "", true),
                   "2020-01-01 10:00:00.5");
    expect_default(dflt("timestamp", "timestamp", "'2020-01-01 10:00:00'", "", true),
                   "2020-01-01 10:00:00+00");
    expect_default(dflt("float", "float", "1.1", "", true), "1.1");
    expect_default(dflt("binary", "binary(3)", "'ab\\0'", "", true), NULL); /* NUL: no C string */
    expect_default(dflt("enum", "enum('a','b''c')", "'b''c'", "", true), "b'c");
    /* MySQL: raw values, expressions flagged in EXTRA */
    expect_default(dflt("varchar", "varchar(20)", "it's", "", false), "it's");
    expect_default(dflt("timestamp", "timestamp", "CURRENT_TIMESTAMP", "DEFAULT_GENERATED", false), NULL);
    expect_default(dflt("int", "int", "(1 + 1)", "DEFAULT_GENERATED", false), NULL);
}

/* Canonical text of one scanned value, or "NULL". */
static const char *canon(sl_table_t *t, const char *p, size_t n, char *out)
{
    char scratch[SL_MYV_SCRATCH];
    sl_value_t v;
    sl_column_t *c = &t->columns[0];
    int rc = sl_mysql_canon_value(sl_mysql_value_kind(c), c, p, n, scratch, &v);
    if (rc < 0)
        return "ERROR";
    if (rc == 0)
        return "NULL";
    memcpy(out, v.p, (size_t)v.len);
    out[v.len] = '\0';
    return out;
}

static void check_value(const char *dt, const char *ct, const char *in, size_t n, const char *want)
{
    char out[SL_MYV_SCRATCH + 8];
    sl_table_t *t = mapped(dt, ct);
    const char *got = canon(t, in, n, out);
    if (strcmp(got, want) != 0)
        fail_msg("%s value \"%s\": got \"%s\", want \"%s\"", ct, in, got, want);
    sl_table_free(t);
}

#define EXPECT(dt, ct, in, want) check_value(dt, ct, in, strlen(in), want)

static void test_values(void **state)
{
    /* FLOAT is read as CAST(c AS DOUBLE): shorten back to the float's digits */
    EXPECT("float", "float", "1.100000023841858", "1.1");
    EXPECT("float", "float", "3.4028234663852886e38", "3.4028235e+38");
    EXPECT("float", "float", "16777216", "16777216");
    EXPECT("float", "float", "1.401298464324817e-45", "1e-45");
    EXPECT("float", "float", "-0.0010000000474974513", "-0.001");
    EXPECT("double", "double", "0.30000000000000004", "0.30000000000000004");
    /* zero dates have no canonical form */
    EXPECT("date", "date", "0000-00-00", "NULL");
    EXPECT("date", "date", "2024-02-29", "2024-02-29");
    EXPECT("datetime", "datetime(3)", "0000-00-00 00:00:00.000", "NULL");
    EXPECT("datetime", "datetime", "2020-00-10 00:00:00", "NULL");
    EXPECT("datetime", "datetime(3)", "2020-01-01 10:00:00.120", "2020-01-01 10:00:00.12");
    EXPECT("datetime", "datetime(6)", "2020-01-01 10:00:00.000000", "2020-01-01 10:00:00");
    EXPECT("timestamp", "timestamp(6)", "2038-01-19 03:14:07.999999", "2038-01-19 03:14:07.999999+00");
    EXPECT("timestamp", "timestamp", "1970-01-01 00:00:01", "1970-01-01 00:00:01+00");
    EXPECT("timestamp", "timestamp", "0000-00-00 00:00:00", "NULL");
    EXPECT("time", "time(6)", "-838:59:59.000000", "-838:59:59");
    EXPECT("time", "time(3)", "00:00:00.500", "00:00:00.5");
    EXPECT("year", "year(4)", "0000", "0");
    EXPECT("year", "year(4)", "2155", "2155");
    EXPECT("int", "int(6) unsigned zerofill", "000042", "42");
    EXPECT("decimal", "decimal(6,2) unsigned zerofill", "0003.50", "3.50");
    EXPECT("decimal", "decimal(6,2) unsigned zerofill", "0000.50", "0.50");
    EXPECT("decimal", "decimal(10,2)", "-99999999.99", "-99999999.99");
    check_value("bit", "bit(10)", "\x00\x05", 2, "0000000101");
    check_value("bit", "bit(1)", "\x00", 1, "0");
    EXPECT("varchar", "varchar(5)", "héllo", "héllo");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integer_types),
        cmocka_unit_test(test_other_types),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
