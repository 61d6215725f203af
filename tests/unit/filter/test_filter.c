/*
 * test_filter.c: unit tests of row filters (src/filter/): syntax errors with their
 * positions and hints, binding errors, evaluation truth tables with NULLs and unchanged
 * TOASTed values, every comparable canonical type, LIKE's edge cases, CDC routing, and
 * the SQL rendered for PostgreSQL and MariaDB. No server: tests/live/test_filter_sql.c
 * checks against real servers that the rendered SQL and the evaluator agree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "filter/filter.h"

static const char UNCH_S[] = "<unchanged>";
#define UNCH UNCH_S

/* The fixture: one column of each comparable type and a few others. */
static const struct {
    const char *name;
    sl_type_t type;
    const char *value; /* the default row */
} cols[] = {
    {"id", SL_T_INT32, "1"},
    {"region", SL_T_TEXT, "EU"},
    {"i16", SL_T_INT16, "7"},
    {"i64", SL_T_INT64, "-9223372036854775808"},
    {"u64", SL_T_UINT64, "18446744073709551615"},
    {"dec", SL_T_DECIMAL, "1.50"},
    {"money", SL_T_MONEY, "12.50"},
    {"f4", SL_T_FLOAT32, "0.1"},
    {"f8", SL_T_FLOAT64, "0.1"},
    {"txt", SL_T_TEXT, "abc"},
    {"ch", SL_T_TEXT, "ab"},
    {"en", SL_T_ENUM, "b"},
    {"st", SL_T_SET, "a,b"},
    {"uu", SL_T_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
    {"b", SL_T_BOOL, "t"},
    {"d", SL_T_DATE, "2024-01-01"},
    {"ts", SL_T_TIMESTAMP, "2024-01-01 10:00:00.5"},
    {"tz", SL_T_TIMESTAMPTZ, "2024-01-01 08:00:00+00"},
    {"tm", SL_T_TIME, "10:00:00"},
    {"js", SL_T_JSON, "{}"},
    {"gen", SL_T_INT32, "2"},
    {"Dup", SL_T_TEXT, "x"},
    {"DUP", SL_T_TEXT, "y"},
    {"we\"ird", SL_T_TEXT, "w"},
};
#define NCOLS ((int)(sizeof cols / sizeof cols[0]))

static sl_table_t *table(const char *engine)
{
    sl_table_t *t = calloc(1, sizeof *t);
    t->engine = sl_strdup(engine);
    t->schema = sl_strdup("public");
    t->name = sl_strdup("t");
    for (int i = 0; i < NCOLS; i++) {
        sl_column_t *c = sl_table_add_col(t);
        c->name = sl_strdup(cols[i].name);
        c->type = cols[i].type;
        c->pk_pos = i == 0;
        c->nullable = i != 0;
        c->generated = !strcmp(cols[i].name, "gen");
        if (c->type == SL_T_ENUM || c->type == SL_T_SET) {
            c->nlabels = 3;
            c->labels = calloc(3, sizeof *c->labels);
            for (int k = 0; k < 3; k++)
                c->labels[k] = sl_strdup((const char[]){(char)('a' + k), 0});
        }
    }
    return t;
}

static int col_index(const char *name)
{
    for (int i = 0; i < NCOLS; i++)
        if (!strcmp(cols[i].name, name))
            return i;
    fail_msg("no column %s", name);
    return -1;
}

static sl_value_t val(const char *s)
{
    if (!s)
        return (sl_value_t){NULL, -1};
    if (s == UNCH)
        return (sl_value_t){NULL, SL_VALUE_UNCHANGED};
    return (sl_value_t){s, (int64_t)strlen(s)};
}

/* The default row with (name, value) overrides, up to a NULL name. */
static void row_with(sl_value_t *row, va_list ap)
{
    for (int i = 0; i < NCOLS; i++)
        row[i] = val(cols[i].value);
    const char *name;
    while ((name = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        row[col_index(name)] = val(v);
    }
}

static sl_filter_t *bound(const char *text, const char *engine)
{
    sl_filter_t *f = NULL;
    sl_err_t err;
    if (sl_filter_parse(text, &f, &err))
        fail_msg("parse %s: %s | %s | %s", text, err.message, err.detail, err.hint);
    sl_table_t *t = table(engine);
    if (sl_filter_bind(f, t, &err))
        fail_msg("bind %s: %s | %s | %s", text, err.message, err.detail, err.hint);
    sl_table_free(t);
    return f;
}

/* Evaluates text on the default row changed by (name, value)... NULL. */
static sl_filter_result_t ev(const char *text, ...)
{
    sl_filter_t *f = bound(text, "pg");
    sl_value_t row[NCOLS];
    va_list ap;
    va_start(ap, text);
    row_with(row, ap);
    va_end(ap);
    sl_err_t err;
    sl_filter_result_t r = sl_filter_eval(f, row, NCOLS, &err);
    if (r == SL_FILTER_ERROR)
        fail_msg("eval %s: %s | %s", text, err.message, err.detail);
    sl_filter_free(f);
    return r;
}

#define T SL_FILTER_TRUE
#define F SL_FILTER_FALSE
#define N SL_FILTER_NULL
#define U SL_FILTER_UNDECIDED

static void contains(const char *what, const char *s, const char *part)
{
    if (part && !strstr(s, part))
        fail_msg("%s \"%s\" lacks \"%s\"", what, s, part);
}

static void parse_fails(const char *text, const char *msg, const char *detail, const char *hint)
{
    sl_filter_t *f = NULL;
    sl_err_t err;
    if (sl_filter_parse(text, &f, &err) == 0)
        fail_msg("parsed: %s", text);
    assert_null(f);
    assert_int_equal(err.code, SL_E_CONFIG);
    contains("message", err.message, msg);
    contains("detail", err.detail, detail);
    contains("hint", err.hint, hint);
}

static void bind_fails(const char *text, const char *engine, const char *msg, const char *hint)
{
    sl_filter_t *f = NULL;
    sl_err_t err;
    if (sl_filter_parse(text, &f, &err))
        fail_msg("parse %s: %s", text, err.message);
    sl_table_t *t = table(engine);
    if (sl_filter_bind(f, t, &err) == 0)
        fail_msg("bound: %s", text);
    assert_int_equal(err.code, SL_E_CONFIG);
    contains("message", err.message, msg);
    contains("hint", err.hint, hint);
    contains("detail", err.detail, "of the filter of table \"t\"");
    sl_table_free(t);
    sl_filter_free(f);
}

static void test_parse_errors(void **state)
{
    (void)state;
    parse_fails("", "filter is empty", NULL, "leave \"where\" out");
    parse_fails("region == 'EU'", "syntax error at or near \"=\"", "at character 9 of the filter:\n"
                "region == 'EU'\n        ^", "single =");
    parse_fails("lower(region) = 'eu'", "syntax error at or near \"(\"", "at character 6", "cannot call functions");
    parse_fails("a + 1 > 2", "syntax error at or near \"+\"", NULL, "no arithmetic");
    parse_fails("a || 'x' = 'y'", "near \"||\"", NULL, "concatenation");
    parse_fails("region = 'EU", "unterminated quoted string at or near \"'EU\"", "at character 10", NULL);
    parse_fails("\"region = 1", "unterminated quoted identifier", NULL, NULL);
    parse_fails("(a = 1", "syntax error at end of filter", NULL, NULL);
    parse_fails("a = 1)", "syntax error at or near \")\"", NULL, "closes nothing");
    parse_fails("a = 1e5", "near \"1e5\"", NULL, "without an exponent");
    parse_fails("a = 12abc", "trailing junk after numeric literal", NULL, NULL);
    parse_fails("a IS TRUE", "near \"TRUE\"", NULL, "IS takes NULL or NOT NULL");
    parse_fails("a ILIKE 'x'", "near \"ILIKE\"", NULL, "ILIKE is not supported");
    parse_fails("a ~~ 'x'", "near \"~~\"", NULL, "regular expressions");
    parse_fails("a::int = 1", "near \"::\"", NULL, "no casts");
    parse_fails("a IN (SELECT b FROM t)", "near \"SELECT\"", NULL, "subquery");
    parse_fails("a = 1;", "near \";\"", NULL, "remove the ';'");
    parse_fails("t.a = 1", "near \".\"", NULL, "without its table");
    parse_fails("\"\" = 1", "zero-length delimited identifier", NULL, "between the quotes");
    parse_fails("a = 1 = 2", "near \"=\"", NULL, "with AND");
    parse_fails("a NOT NULL", "near \"NULL\"", NULL, "IN, BETWEEN or LIKE");
    parse_fails("a BETWEEN 1 OR 2", "near \"OR\"", NULL, "joined with AND");
    parse_fails("a BETWEEN SYMMETRIC 1 AND 2", "near \"SYMMETRIC\"", NULL, "smaller bound first");
    parse_fails("a LIKE b", "near \"b\"", NULL, "quoted pattern");
    parse_fails("a = 1 AND", "syntax error at end of filter", NULL, "AND, OR, NOT");
    parse_fails("a = 1 AND AND b = 2", "near \"AND\"", NULL, NULL);
    parse_fails("a = 1 /* open", "unterminated /* comment", NULL, NULL);
    parse_fails("a = 1 \x01", "unexpected character", NULL, NULL);
    parse_fails("5", "syntax error at end of filter", NULL, NULL);
    parse_fails("a = - 'x'", "near \"-\"", NULL, "no arithmetic");
    /* Positions count characters, as PostgreSQL does, not bytes. */
    parse_fails("txt = 'a\xff'", "filter is not valid UTF-8", "offset 8 (0xff)", "in UTF-8");
    parse_fails("txt = '\xc3'", "not valid UTF-8", "offset 7", NULL);       /* cut short */
    parse_fails("txt = '\xc0\xaf'", "not valid UTF-8", NULL, NULL);         /* overlong */
    parse_fails("txt = '\xed\xa0\x80'", "not valid UTF-8", NULL, NULL);    /* surrogate */
    parse_fails("txt = '\xf4\x90\x80\x80'", "not valid UTF-8", NULL, NULL); /* > U+10FFFF */
    parse_fails("\"é\" = 'ü' ==", "near \"=\"", "at character 11 of the filter:\n\"é\" = 'ü' ==\n          ^", NULL);
    /* Long filters show a window around the position. */
    char longf[400];
    snprintf(longf, sizeof longf, "%s", "a = 1");
    for (int i = 0; i < 20; i++)
        strcat(longf, " AND a = 1");
    strcat(longf, " + 2");
    parse_fails(longf, "near \"+\"", "...", NULL);
    char deep[300] = "";
    for (int i = 0; i < 100; i++)
        strcat(deep, "(");
    parse_fails(deep, "near \"(\"", NULL, "too deeply");
    char nots[600] = "";
    for (int i = 0; i < 100; i++)
        strcat(nots, "NOT ");
    strcat(nots, "b");
    parse_fails(nots, NULL, NULL, "too deeply");
}

static void test_parse_ok(void **state)
{
    (void)state;
    /* Comments, backquotes, keywords in any case, typed literals, a column called date. */
    const char *ok[] = {
        "region = 'EU' -- the EU only",
        "`region` = 'EU' /* x */ and not (id between 1 and 5) or id in (7) OR id NOT IN (8, 9)",
        "d >= DATE '2024-01-01' AND ts < TIMESTAMP '2024-01-02 00:00:00' AND tm = TIME '10:00:00'",
        "date = 1",
        "txt LIKE 'a%' ESCAPE '!' AND txt NOT LIKE '%b'",
        "b",
        "NOT b AND i16 IS NOT NULL AND i16 != -3 AND dec > .5",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        sl_filter_t *f = NULL;
        sl_err_t err;
        if (sl_filter_parse(ok[i], &f, &err))
            fail_msg("%s: %s", ok[i], err.message);
        assert_string_equal(sl_filter_text(f), ok[i]);
        sl_filter_free(f);
    }
    sl_filter_free(NULL);
}

static void test_bind_errors(void **state)
{
    (void)state;
    bind_fails("regoin = 'EU'", "pg", "column \"regoin\" does not exist in table \"t\"",
               "Perhaps you meant \"region\".");
    bind_fails("zzzzzzzzzz = 1", "pg", "does not exist", "The table's columns are: id, region, i16");
    bind_fails("\"REGION\" = 'EU'", "pg", "column \"REGION\" does not exist", "\"region\"");
    bind_fails("dup = 'x'", "pg", "column reference \"dup\" is ambiguous", "quote the name");
    bind_fails("gen = 1", "pg", "cannot filter on generated column \"gen\"", "computed from");
    bind_fails("js = '{}'", "pg", "column \"js\" of type json cannot be compared", "IS [NOT] NULL");
    bind_fails("txt = 5", "pg", "cannot compare a text column with a number", "Quote the value");
    bind_fails("id = 'abc'", "pg", "invalid input syntax for an integer: \"abc\"", NULL);
    bind_fails("id = '1.5'", "pg", "invalid input syntax for an integer: \"1.5\"", NULL);
    bind_fails("dec = 'x'", "pg", "invalid input syntax for a number", NULL);
    bind_fails("d = 'yesterday'", "pg", "invalid input syntax for a date or timestamp", NULL);
    bind_fails("d = DATE '2024-01-01 10:00'", "pg", "invalid input syntax for type date", NULL);
    bind_fails("d = 5", "pg", "cannot compare a date or timestamp column with a number", "Quote the date");
    bind_fails("txt = DATE '2024-01-01'", "pg", "cannot compare a text column with a date", NULL);
    bind_fails("ts = '2024-01-01 10:00:00+02'", "pg", "time zone in a literal", "without an offset");
    bind_fails("en < 'b'", "pg", "cannot order enum or set column \"en\"", "=, <>, IN or LIKE");
    bind_fails("st BETWEEN 'a' AND 'b'", "pg", "cannot order enum or set", NULL);
    bind_fails("en = 'zz'", "pg", "invalid input syntax for the enum column's labels: \"zz\"", "e.g. 'a'");
    bind_fails("uu = 'nope'", "pg", "invalid input syntax for type uuid", NULL);
    bind_fails("1 = 1", "pg", "a condition compares literals only", "Name a column");
    bind_fails("NULL IS NULL", "pg", "a condition compares literals only", NULL);
    bind_fails("id LIKE '1%'", "pg", "LIKE needs a text column", "compare it with");
    bind_fails("txt LIKE 'ab\\'", "pg", "LIKE pattern must not end with escape character", NULL);
    bind_fails("txt LIKE 'a' ESCAPE 'xy'", "pg", "invalid escape string", "empty or one character");
    bind_fails("id", "pg", "column \"id\" is not boolean", "id = 1");
    bind_fails("id = txt", "pg", "cannot compare column \"id\" (int32) with column \"txt\" (text)", NULL);
    bind_fails("b = 'maybe'", "pg", "invalid input syntax for type boolean", NULL);
    bind_fails("b = 1", "pg", "cannot compare a boolean column with a number", "TRUE or FALSE");
    bind_fails("tm = '25:00:00'", "pg", "invalid input syntax for type time", NULL);
    bind_fails("tm = '-01:00:00'", "pg", "invalid input syntax for type time", NULL);
    bind_fails("tm = '900:00:00'", "mysql", "invalid input syntax for a MariaDB time", NULL);
    bind_fails("tm = '2024-01-01'", "pg", "invalid input syntax for type time", NULL);
    bind_fails("f8 = 'abc'", "pg", "invalid input syntax for a double precision number", NULL);
    bind_fails("f8 = 'inf'", "pg", "invalid input syntax for a double precision", NULL);
    /* What MariaDB cannot express. */
    bind_fails("d < 'infinity'", "mysql", "MariaDB has no date \"infinity\"", NULL);
    bind_fails("d < '0044-03-15 BC'", "mysql", "MariaDB has no date", NULL);
    bind_fails("dec = 'NaN'", "mysql", "MariaDB numbers have no NaN", NULL);
    bind_fails("f8 = 'Infinity'", "mysql", "MariaDB numbers have no Infinity", NULL);
    bind_fails("dec = 1234567890123456789012345678901234567890123456789012345678901234567",
               "mysql", "has more than 65 digits", "as a double");
    /* ... and what PostgreSQL can. */
    sl_filter_free(bound("d < 'infinity' AND dec <> 'NaN' AND f8 < 'Infinity' AND tm <= '24:00:00'", "pg"));
    sl_filter_free(bound("tm > '-838:59:59'", "mysql"));
    /* Bare names match case-insensitively, quoted ones exactly; rebinding works. */
    sl_filter_t *f = bound("REGION = 'EU' AND \"Dup\" = 'x' AND `DUP` = 'y' AND \"we\"\"ird\" = 'w'", "pg");
    sl_table_t *t = table("pg");
    sl_err_t err;
    assert_int_equal(sl_filter_bind(f, t, &err), 0);
    sl_table_free(t);
    sl_filter_free(f);
}

static void test_eval_null_logic(void **state)
{
    (void)state;
    assert_int_equal(ev("i16 = 1", "i16", NULL, NULL), N);
    assert_int_equal(ev("NOT i16 = 1", "i16", NULL, NULL), N);
    assert_int_equal(ev("i16 = 1 OR id = 1", "i16", NULL, NULL), T);
    assert_int_equal(ev("i16 = 1 OR id = 2", "i16", NULL, NULL), N);
    assert_int_equal(ev("i16 = 1 AND id = 2", "i16", NULL, NULL), F);
    assert_int_equal(ev("i16 = 1 AND id = 1", "i16", NULL, NULL), N);
    assert_int_equal(ev("i16 IS NULL", "i16", NULL, NULL), T);
    assert_int_equal(ev("i16 IS NOT NULL", "i16", NULL, NULL), F);
    assert_int_equal(ev("i16 IS NULL", NULL), F);
    assert_int_equal(ev("id = NULL", NULL), N);
    assert_int_equal(ev("id <> NULL", NULL), N);
    assert_int_equal(ev("id IN (2, NULL)", NULL), N);
    assert_int_equal(ev("id IN (1, NULL)", NULL), T);
    assert_int_equal(ev("id NOT IN (2, NULL)", NULL), N);
    assert_int_equal(ev("id NOT IN (1, NULL)", NULL), F);
    assert_int_equal(ev("id NOT IN (2, 3)", NULL), T);
    assert_int_equal(ev("id IN (i16, 1)", "i16", NULL, NULL), T);
    assert_int_equal(ev("id BETWEEN 1 AND 3", NULL), T);
    assert_int_equal(ev("id BETWEEN 3 AND 1", NULL), F);
    assert_int_equal(ev("id BETWEEN NULL AND 0", NULL), F);
    assert_int_equal(ev("id BETWEEN 0 AND NULL", NULL), N);
    assert_int_equal(ev("id NOT BETWEEN 0 AND NULL", NULL), N);
    assert_int_equal(ev("id NOT BETWEEN 2 AND 5", NULL), T);
    assert_int_equal(ev("i16 BETWEEN 1 AND 9", "i16", NULL, NULL), N);
    assert_int_equal(ev("txt LIKE 'a%'", "txt", NULL, NULL), N);
    assert_int_equal(ev("txt NOT LIKE 'a%'", "txt", NULL, NULL), N);
    assert_int_equal(ev("b", "b", NULL, NULL), N);
    assert_int_equal(ev("NOT b", "b", NULL, NULL), N);
    assert_int_equal(ev("NOT (b OR id = 1)", "b", NULL, NULL), F);
    assert_int_equal(ev("(id = 1 OR i16 = 2) AND NOT (id = 2 AND i16 = 3)", "i16", NULL, NULL), T);
    assert_int_equal(ev("i16 = i64", "i16", NULL, NULL), N);
}

static void test_eval_numbers(void **state)
{
    (void)state;
    assert_int_equal(ev("dec = 1.5", NULL), T);
    assert_int_equal(ev("dec = '1.500'", NULL), T);
    assert_int_equal(ev("dec < 1.500001", NULL), T);
    assert_int_equal(ev("dec > 1.49999999999999999999999999", NULL), T);
    assert_int_equal(ev("dec = 0", "dec", "-0.00", NULL), T);
    assert_int_equal(ev("dec < 0", "dec", "-0.001", NULL), T);
    assert_int_equal(ev("dec < -1", "dec", "-10.5", NULL), T);
    assert_int_equal(ev("dec > -11", "dec", "-10.5", NULL), T);
    assert_int_equal(ev("dec = 100", "dec", "0100.000", NULL), T);
    assert_int_equal(ev("dec > 99999999999999999999", "dec", "NaN", NULL), T);
    assert_int_equal(ev("dec = 'NaN'", "dec", "NaN", NULL), T);
    assert_int_equal(ev("dec < 'Infinity'", "dec", "NaN", NULL), F);
    assert_int_equal(ev("dec < -99999", "dec", "-Infinity", NULL), T);
    assert_int_equal(ev("money = 12.5", NULL), T);
    assert_int_equal(ev("u64 = 18446744073709551615", NULL), T);
    assert_int_equal(ev("u64 > 18446744073709551614.9", NULL), T);
    assert_int_equal(ev("u64 > -1", NULL), T);
    assert_int_equal(ev("i64 = -9223372036854775808", NULL), T);
    assert_int_equal(ev("i64 < -9223372036854775807", NULL), T);
    assert_int_equal(ev("id < 1.5 AND id > 0.5 AND id = 1.0", NULL), T);
    assert_int_equal(ev("id = '1'", NULL), T);
    assert_int_equal(ev("i16 > id", NULL), T);
    /* Floats compare as doubles: a float4 0.1 is not the double 0.1. */
    assert_int_equal(ev("f4 = 0.1", NULL), F);
    assert_int_equal(ev("f4 < 0.1000001 AND f4 > 0.1", NULL), T);
    assert_int_equal(ev("f4 = 0.5", "f4", "0.5", NULL), T);
    assert_int_equal(ev("f8 = 0.1", NULL), T);
    assert_int_equal(ev("f8 = '1e-1'", NULL), T);
    assert_int_equal(ev("f8 = 100000000000000000000", "f8", "1e+20", NULL), T);
    assert_int_equal(ev("f8 > 99999999", "f8", "NaN", NULL), T);
    assert_int_equal(ev("f8 = 'NaN'", "f8", "NaN", NULL), T);
    assert_int_equal(ev("f8 < -99999999", "f8", "-Infinity", NULL), T);
    assert_int_equal(ev("f8 > f4", NULL), F); /* 0.1 < (double)0.1f */
    assert_int_equal(ev("dec < f8", "f8", "1.6", NULL), T);
    assert_int_equal(ev("i64 < f8", NULL), T);
}

static void test_eval_text(void **state)
{
    (void)state;
    assert_int_equal(ev("region = 'EU'", NULL), T);
    assert_int_equal(ev("region = 'eu'", NULL), F);
    assert_int_equal(ev("region = 'EU '", NULL), F);
    assert_int_equal(ev("region = 'EU'", "region", "EU ", NULL), F);
    assert_int_equal(ev("region < 'a'", NULL), T); /* code point order: 'E' < 'a' */
    assert_int_equal(ev("region > 'EU'", "region", "EU ", NULL), T);
    assert_int_equal(ev("region > 'z'", "region", "é", NULL), T);
    assert_int_equal(ev("region > '\xef\xbf\xbf'", "region", "😀", NULL), T);
    assert_int_equal(ev("region = ''", "region", "", NULL), T);
    assert_int_equal(ev("region < 'a'", "region", "", NULL), T);
    assert_int_equal(ev("txt = 'it''s'", "txt", "it's", NULL), T);
    assert_int_equal(ev("txt IN ('x', 'abc')", NULL), T);
    assert_int_equal(ev("txt BETWEEN 'abb' AND 'abd'", NULL), T);
    assert_int_equal(ev("ch = 'ab'", NULL), T);
    assert_int_equal(ev("en = 'b' AND en IN ('a', 'b') AND en <> 'c'", NULL), T);
    assert_int_equal(ev("st = 'a,b'", NULL), T);
    assert_int_equal(ev("uu = 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", NULL), T);
    assert_int_equal(ev("txt = region", "region", "abc", NULL), T);
    assert_int_equal(ev("txt = en", "en", "abc", NULL), T);
}

static void test_eval_like(void **state)
{
    (void)state;
    static const struct {
        const char *value, *filter;
        sl_filter_result_t want;
    } cases[] = {
        {"abc", "txt LIKE 'a%'", T},
        {"Abc", "txt LIKE 'a%'", F},
        {"abc", "txt LIKE 'abc'", T},
        {"abc", "txt LIKE 'ab'", F},
        {"abc ", "txt LIKE 'abc'", F},
        {"abc", "txt LIKE 'abc '", F},
        {"a_c", "txt LIKE 'a\\_c'", T},
        {"abc", "txt LIKE 'a\\_c'", F},
        {"a%", "txt LIKE 'a!%' ESCAPE '!'", T},
        {"ab", "txt LIKE 'a!%' ESCAPE '!'", F},
        {"a!b", "txt LIKE 'a!!b' ESCAPE '!'", T},
        {"a\\b", "txt LIKE 'a\\b' ESCAPE ''", T},
        {"a\\b", "txt LIKE 'a\\\\b'", T},
        {"a%b", "txt LIKE 'a%b' ESCAPE ''", T},
        {"axxb", "txt LIKE 'a§%b' ESCAPE '§'", F},
        {"a%b", "txt LIKE 'a§%b' ESCAPE '§'", T},
        {"é", "txt LIKE '_'", T},
        {"😀x", "txt LIKE '_x'", T},
        {"😀x", "txt LIKE '__x'", F},
        {"", "txt LIKE '%'", T},
        {"", "txt LIKE '_'", F},
        {"", "txt LIKE ''", T},
        {"abc", "txt LIKE '%b%'", T},
        {"aXbXc", "txt LIKE '%b%c'", T},
        {"abcabd", "txt LIKE '%abd'", T},
        {"abcabc", "txt LIKE '%abd'", F},
        {"aaa", "txt LIKE '%a%a%a%'", T},
        {"aa", "txt LIKE '%a%a%a%'", F},
        {"abc", "txt LIKE 'a_%_'", T},
        {"ab", "txt LIKE 'a_%_'", F},
        {"x", "txt NOT LIKE 'y'", T},
        {"über", "txt LIKE '%ber'", T},
        {"ÜBER", "txt LIKE 'ü%'", F},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_filter_result_t r = ev(cases[i].filter, "txt", cases[i].value, NULL);
        if (r != cases[i].want)
            fail_msg("'%s' %s: got %d, want %d", cases[i].value, cases[i].filter, r, cases[i].want);
    }
}

static void test_eval_time(void **state)
{
    (void)state;
    assert_int_equal(ev("b AND b = TRUE AND b = 'yes' AND b <> FALSE", NULL), T);
    assert_int_equal(ev("b", "b", "f", NULL), F);
    assert_int_equal(ev("b < TRUE", "b", "f", NULL), T);
    assert_int_equal(ev("d = '2024-01-01' AND d = DATE '2024-01-01'", NULL), T);
    assert_int_equal(ev("d < '2024-01-01 00:00:01'", NULL), T);
    assert_int_equal(ev("d < ts", NULL), T);
    assert_int_equal(ev("ts = '2024-01-01 10:00:00.500000'", NULL), T);
    assert_int_equal(ev("ts > '2024-01-01 10:00:00.499999'", NULL), T);
    assert_int_equal(ev("ts >= '2024-01-01'", NULL), T);
    assert_int_equal(ev("ts > tz", NULL), T);
    assert_int_equal(ev("tz = '2024-01-01 10:00:00+02'", NULL), T);
    assert_int_equal(ev("tz = '2024-01-01 08:00:00'", NULL), T);
    assert_int_equal(ev("tz = TIMESTAMP '2024-01-01 03:00:00-05'", NULL), T);
    assert_int_equal(ev("d > '9999-12-31'", "d", "infinity", NULL), T);
    assert_int_equal(ev("d = 'infinity'", "d", "infinity", NULL), T);
    assert_int_equal(ev("d < '0001-01-01'", "d", "-infinity", NULL), T);
    assert_int_equal(ev("d < '0001-01-01'", "d", "0044-03-15 BC", NULL), T);
    assert_int_equal(ev("d < '0001-01-01' AND d > '0002-12-31 BC'", "d", "0001-01-01 BC", NULL), T);
    assert_int_equal(ev("d = '4713-01-01 BC'", "d", "4713-01-01 BC", NULL), T);
    assert_int_equal(ev("d > '9999-12-31'", "d", "10000-01-01", NULL), T);
    assert_int_equal(ev("ts < '0001-01-01'", "ts", "0010-06-01 12:00:00 BC", NULL), T);
    assert_int_equal(ev("tz < '0001-01-01 00:00:00+00'", "tz", "0010-06-01 12:00:00+00 BC", NULL), T);
    assert_int_equal(ev("tm = '10:00:00' AND tm = TIME '10:00:00.000'", NULL), T);
    assert_int_equal(ev("tm < '24:00:00'", NULL), T);
    assert_int_equal(ev("tm > '10:00:00'", "tm", "10:00:00.000001", NULL), T);
    sl_filter_t *f = bound("tm < '01:00:00' AND tm > '-838:59:59'", "mysql");
    sl_value_t row[NCOLS];
    for (int i = 0; i < NCOLS; i++)
        row[i] = val(cols[i].value);
    row[col_index("tm")] = val("-12:00:00.25");
    sl_err_t err;
    assert_int_equal(sl_filter_eval(f, row, NCOLS, &err), T);
    row[col_index("tm")] = val("838:59:59");
    assert_int_equal(sl_filter_eval(f, row, NCOLS, &err), F);
    /* A value that is not canonical text is an error naming the column. */
    row[col_index("tm")] = val("noon");
    assert_int_equal(sl_filter_eval(f, row, NCOLS, &err), SL_FILTER_ERROR);
    assert_int_equal(err.code, SL_E_DATA);
    contains("message", err.message, "invalid time value for column \"tm\"");
    contains("detail", err.detail, "\"noon\"");
    assert_int_equal(sl_filter_eval(f, row, 3, &err), SL_FILTER_ERROR);
    assert_int_equal(err.code, SL_E_INTERNAL);
    sl_filter_free(f);
}

static void test_eval_unchanged(void **state)
{
    (void)state;
    assert_int_equal(ev("txt = 'x'", "txt", UNCH, NULL), U);
    assert_int_equal(ev("txt LIKE 'x%'", "txt", UNCH, NULL), U);
    assert_int_equal(ev("txt IS NULL", "txt", UNCH, NULL), F);
    assert_int_equal(ev("txt IS NOT NULL", "txt", UNCH, NULL), T);
    assert_int_equal(ev("id = 1 OR txt = 'x'", "txt", UNCH, NULL), T);
    assert_int_equal(ev("id = 2 AND txt = 'x'", "txt", UNCH, NULL), F);
    assert_int_equal(ev("id = 2 OR txt = 'x'", "txt", UNCH, NULL), U);
    assert_int_equal(ev("NOT (txt = 'x')", "txt", UNCH, NULL), U);
    assert_int_equal(ev("txt IN ('x', NULL)", "txt", UNCH, NULL), U);
    /* false or unknown either way: outside, so decided */
    assert_int_equal(ev("i16 = 1 AND txt = 'x'", "i16", NULL, "txt", UNCH, NULL), N);
    assert_int_equal(ev("txt = NULL", "txt", UNCH, NULL), N);
}

/* ---- CDC routing ---------------------------------------------------------------- */

typedef struct rrow {
    sl_value_t v[NCOLS];
} rrow_t;

static rrow_t mk(const char *id, const char *region, const char *txt)
{
    rrow_t r;
    for (int i = 0; i < NCOLS; i++)
        r.v[i] = val(cols[i].value);
    r.v[0] = val(id);
    r.v[1] = val(region);
    r.v[col_index("txt")] = val(txt);
    return r;
}

/* Old row as PostgreSQL sends it under REPLICA IDENTITY DEFAULT: the key, NULLs. */
static rrow_t key_only(const char *id)
{
    rrow_t r;
    for (int i = 0; i < NCOLS; i++)
        r.v[i] = val(NULL);
    r.v[0] = val(id);
    return r;
}

static int route(const sl_filter_t *f, sl_change_op_t op, const rrow_t *row, const rrow_t *old,
                 bool full, sl_change_t *out, sl_value_t *merged, sl_err_t *err)
{
    sl_change_t ch = {.op = op, .ncols = NCOLS, .row = row ? row->v : NULL, .old = old ? old->v : NULL};
    return sl_filter_route(f, &ch, full, merged, out, err);
}

static void test_route(void **state)
{
    (void)state;
    sl_filter_t *f = bound("region = 'EU'", "pg");
    sl_value_t merged[NCOLS];
    sl_change_t out;
    sl_err_t err;
    rrow_t eu = mk("1", "EU", "a"), us = mk("1", "US", "a"), eu_toast = mk("1", "EU", UNCH);
    rrow_t us_toast = mk("1", "US", UNCH), k1 = key_only("1");
    assert_int_equal(route(f, SL_OP_INSERT, &eu, NULL, false, &out, merged, &err), SL_FILTER_KEEP);
    assert_int_equal(out.op, SL_OP_INSERT);
    assert_int_equal(route(f, SL_OP_INSERT, &us, NULL, false, &out, merged, &err), SL_FILTER_SKIP);
    assert_int_equal(route(f, SL_OP_DELETE, NULL, &eu, true, &out, merged, &err), SL_FILTER_KEEP);
    assert_int_equal(route(f, SL_OP_DELETE, NULL, &us, true, &out, merged, &err), SL_FILTER_SKIP);
    /* Without REPLICA IDENTITY FULL a DELETE cannot be decided. */
    assert_int_equal(route(f, SL_OP_DELETE, NULL, &k1, false, &out, merged, &err), -1);
    assert_int_equal(err.code, SL_E_CONFIG);
    contains("message", err.message, "cannot be decided for a DELETE");
    contains("detail", err.detail, "old value of \"region\"");
    contains("hint", err.hint, "ALTER TABLE \"public\".\"t\" REPLICA IDENTITY FULL");
    /* UPDATEs in and out of the filter, old rows full. */
    assert_int_equal(route(f, SL_OP_UPDATE, &eu, &eu, true, &out, merged, &err), SL_FILTER_KEEP);
    assert_int_equal(out.op, SL_OP_UPDATE);
    assert_int_equal(route(f, SL_OP_UPDATE, &us, &us, true, &out, merged, &err), SL_FILTER_SKIP);
    assert_int_equal(route(f, SL_OP_UPDATE, &us, &eu, true, &out, merged, &err), SL_FILTER_AS_DELETE);
    assert_int_equal(out.op, SL_OP_DELETE);
    assert_ptr_equal(out.old, eu.v);
    assert_null(out.row);
    assert_int_equal(route(f, SL_OP_UPDATE, &eu, &us, true, &out, merged, &err), SL_FILTER_AS_INSERT);
    assert_int_equal(out.op, SL_OP_INSERT);
    assert_ptr_equal(out.row, merged);
    assert_null(out.old);
    /* Moved in with an unchanged TOASTed value: it comes from the old row. */
    assert_int_equal(route(f, SL_OP_UPDATE, &eu_toast, &us, true, &out, merged, &err),
                     SL_FILTER_AS_INSERT);
    int txt = col_index("txt");
    assert_int_equal(merged[txt].len, 1);
    assert_memory_equal(merged[txt].p, "a", 1);
    assert_int_equal(merged[1].len, 2);
    /* Moved out with a TOASTed value: a DELETE needs none. */
    assert_int_equal(route(f, SL_OP_UPDATE, &us_toast, &eu, true, &out, merged, &err),
                     SL_FILTER_AS_DELETE);
    /* Key-only old row or none: undecidable on a non-key column. */
    assert_int_equal(route(f, SL_OP_UPDATE, &eu, NULL, false, &out, merged, &err), -1);
    contains("hint", err.hint, "REPLICA IDENTITY FULL");
    assert_int_equal(route(f, SL_OP_UPDATE, &eu, &k1, false, &out, merged, &err), -1);
    /* TRUNCATE always goes through. */
    sl_change_t tr = {.op = SL_OP_TRUNCATE};
    assert_int_equal(sl_filter_route(f, &tr, false, merged, &out, &err), SL_FILTER_KEEP);
    /* A filter on an unchanged TOASTed column reads the old value under FULL. */
    sl_filter_free(f);
    f = bound("txt LIKE 'a%'", "pg");
    rrow_t a_toast = mk("1", "EU", UNCH), olda = mk("1", "EU", "abc"), oldb = mk("1", "EU", "bcd");
    assert_int_equal(route(f, SL_OP_UPDATE, &a_toast, &olda, true, &out, merged, &err), SL_FILTER_KEEP);
    assert_int_equal(route(f, SL_OP_UPDATE, &a_toast, &oldb, true, &out, merged, &err), SL_FILTER_SKIP);
    assert_int_equal(route(f, SL_OP_UPDATE, &a_toast, NULL, true, &out, merged, &err), -1);
    sl_filter_free(f);
    /* A key-only filter needs no old row: the key did not change when none is sent. */
    f = bound("id < 10", "pg");
    rrow_t r5 = mk("5", "EU", UNCH), r20 = mk("20", "EU", "x"), r5full = mk("5", "EU", "x");
    rrow_t k5 = key_only("5"), k20 = key_only("20");
    assert_int_equal(route(f, SL_OP_UPDATE, &r5, NULL, false, &out, merged, &err), SL_FILTER_KEEP);
    assert_int_equal(route(f, SL_OP_UPDATE, &r20, NULL, false, &out, merged, &err), SL_FILTER_SKIP);
    assert_int_equal(route(f, SL_OP_DELETE, NULL, &k5, false, &out, merged, &err), SL_FILTER_KEEP);
    assert_int_equal(route(f, SL_OP_DELETE, NULL, &k20, false, &out, merged, &err), SL_FILTER_SKIP);
    /* The key changed: in and out of the filter. */
    assert_int_equal(route(f, SL_OP_UPDATE, &r20, &k5, false, &out, merged, &err), SL_FILTER_AS_DELETE);
    assert_ptr_equal(out.old, k5.v);
    assert_int_equal(route(f, SL_OP_UPDATE, &r5full, &k20, false, &out, merged, &err),
                     SL_FILTER_AS_INSERT);
    /* ... but a moved-in row must be whole. */
    assert_int_equal(route(f, SL_OP_UPDATE, &r5, &k20, false, &out, merged, &err), -1);
    contains("message", err.message, "did not carry column \"txt\"");
    contains("hint", err.hint, "REPLICA IDENTITY FULL");
    /* Bad values and column counts. */
    rrow_t bad = mk("x", "EU", "a");
    assert_int_equal(route(f, SL_OP_INSERT, &bad, NULL, false, &out, merged, &err), -1);
    assert_int_equal(err.code, SL_E_DATA);
    sl_change_t shortc = {.op = SL_OP_INSERT, .ncols = 2, .row = bad.v};
    assert_int_equal(sl_filter_route(f, &shortc, false, merged, &out, &err), -1);
    sl_filter_free(f);
}

static void test_columns(void **state)
{
    (void)state;
    sl_filter_t *f = bound("(region = 'EU' AND id > 3) OR txt IS NULL OR region = 'US'", "pg");
    int c[8];
    assert_int_equal(sl_filter_columns(f, c, 8), 3);
    assert_int_equal(c[0], 0);
    assert_int_equal(c[1], 1);
    assert_int_equal(c[2], col_index("txt"));
    assert_int_equal(sl_filter_columns(f, c, 1), 3);
    assert_true(sl_filter_reads_non_key(f));
    sl_err_t err;
    assert_int_equal(sl_filter_check_old_row(f, true, &err), 0);
    assert_int_equal(sl_filter_check_old_row(f, false, &err), -1);
    assert_int_equal(err.code, SL_E_CONFIG);
    contains("message", err.message, "reads columns outside the primary key: \"region\", \"txt\"");
    contains("hint", err.hint, "ALTER TABLE \"public\".\"t\" REPLICA IDENTITY FULL");
    sl_filter_free(f);
    f = bound("id IN (1, 2) AND NOT id = 3", "pg");
    assert_false(sl_filter_reads_non_key(f));
    assert_int_equal(sl_filter_check_old_row(f, false, &err), 0);
    sl_filter_free(f);
    /* An unbound filter reads nothing yet and cannot be used. */
    sl_filter_parse("id = 1", &f, &err);
    assert_int_equal(sl_filter_columns(f, c, 8), 0);
    sl_value_t row[NCOLS];
    assert_int_equal(sl_filter_eval(f, row, 0, &err), SL_FILTER_ERROR);
    sl_buf_t b;
    sl_buf_init(&b, 1024);
    assert_int_equal(sl_filter_sql(f, SL_FILTER_PG, &b, &err), -1);
    sl_buf_free(&b);
    sl_filter_free(f);
}

/* ---- SQL ------------------------------------------------------------------------------ */

static void sql_is(const char *filter, const char *engine, const char *pg, const char *my)
{
    sl_filter_t *f = bound(filter, engine);
    sl_buf_t b;
    sl_err_t err;
    sl_buf_init(&b, 1 << 16);
    if (sl_filter_sql(f, SL_FILTER_PG, &b, &err))
        fail_msg("%s: %s", filter, err.message);
    if (pg && strcmp(b.data, pg))
        fail_msg("%s\n  pg: %s\nwant: %s", filter, b.data, pg);
    sl_buf_reset(&b);
    int rc = sl_filter_sql(f, SL_FILTER_MARIADB, &b, &err);
    if (!my) {
        assert_int_equal(rc, -1);
        assert_int_equal(b.len, 0);
        contains("message", err.message, "MariaDB cannot express");
    } else if (rc || strcmp(b.data, my)) {
        fail_msg("%s\n  my: %s\nwant: %s", filter, rc ? err.message : b.data, my);
    }
    sl_buf_free(&b);
    sl_filter_free(f);
}

static void test_sql(void **state)
{
    (void)state;
    sql_is("region = 'EU'", "pg", "((\"region\"::text COLLATE \"C\") = 'EU')",
           "((CONVERT(`region` USING utf8mb4) COLLATE utf8mb4_nopad_bin) = 'EU')");
    sql_is("id >= -5 AND dec BETWEEN 1 AND 2.5 OR NOT i16 IN (1, NULL)", "pg",
           "(((\"id\" >= (-5)) AND (\"dec\" BETWEEN 1 AND 2.5)) OR (NOT (\"i16\" IN (1, NULL))))",
           "(((`id` >= (-5)) AND (`dec` BETWEEN 1 AND 2.5)) OR (NOT (`i16` IN (1, NULL))))");
    sql_is("f4 = 0.5 OR f8 < id", "pg",
           "(((\"f4\"::float8) = '0.5'::float8) OR (\"f8\" < (\"id\"::float8)))",
           "((`f4` = 5.00000000000000000e-01) OR (`f8` < `id`))");
    sql_is("d < '2024-01-01' AND ts > '2024-01-01' AND tz >= '2024-01-01 10:00+02'", "pg",
           "((\"d\" < '2024-01-01'::date) AND (\"ts\" > '2024-01-01 00:00:00'::timestamp) AND "
           "(\"tz\" >= '2024-01-01 08:00:00+00'::timestamptz))",
           "((`d` < DATE'2024-01-01') AND (`ts` > TIMESTAMP'2024-01-01 00:00:00') AND "
           "(`tz` >= TIMESTAMP'2024-01-01 08:00:00'))");
    sql_is("d <= '2024-01-01 12:30:00.25' AND tm = '10:00:00.5'", "pg",
           "((\"d\" <= '2024-01-01 12:30:00.250000'::timestamp) AND (\"tm\" = '10:00:00.500000'::time))",
           "((`d` <= TIMESTAMP'2024-01-01 12:30:00.250000') AND (`tm` = TIME'10:00:00.500000'))");
    sql_is("tm > '-12:00:00'", "mysql", "(\"tm\" > '-12:00:00'::time)", "(`tm` > TIME'-12:00:00')");
    sql_is("txt LIKE 'a!%b\\c_' ESCAPE '!'", "pg",
           "((\"txt\"::text COLLATE \"C\") LIKE  E'a\\\\%b\\\\\\\\c_' ESCAPE  E'\\\\')",
           "((CONVERT(`txt` USING utf8mb4) COLLATE utf8mb4_nopad_bin) LIKE 'a\\\\%b\\\\\\\\c_' ESCAPE '\\\\')");
    sql_is("txt NOT IN ('a', 'it''s') AND b IS NOT NULL AND NOT b", "pg",
           "(((\"txt\"::text COLLATE \"C\") NOT IN ('a', 'it''s')) AND (\"b\" IS NOT NULL) AND (NOT (\"b\")))",
           "(((CONVERT(`txt` USING utf8mb4) COLLATE utf8mb4_nopad_bin) NOT IN ('a', 'it\\'s')) AND "
           "(`b` IS NOT NULL) AND (NOT (`b`)))");
    sql_is("\"we\"\"ird\" = 'w`'", "pg", "((\"we\"\"ird\"::text COLLATE \"C\") = 'w`')",
           "((CONVERT(`we\"ird` USING utf8mb4) COLLATE utf8mb4_nopad_bin) = 'w`')");
    sql_is("money = 12.5 AND b = TRUE AND i16 = TRUE", "pg",
           "(((\"money\"::numeric) = 12.5) AND (\"b\" = TRUE) AND (\"i16\" = 1))",
           "((`money` = 12.5) AND (`b` = TRUE) AND (`i16` = 1))");
    sql_is("uu = 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "pg",
           "((\"uu\"::text COLLATE \"C\") = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')",
           "((CONVERT(`uu` USING utf8mb4) COLLATE utf8mb4_nopad_bin) = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')");
    /* Literals only PostgreSQL has. */
    sql_is("d < 'infinity'", "pg", "(\"d\" < 'infinity'::date)", NULL);
    sql_is("d > '0044-03-15 BC'", "pg", "(\"d\" > '0044-03-15 BC'::date)", NULL);
    sql_is("tz > '0044-03-15 10:00:00+00 BC'", "pg",
           "(\"tz\" > '0044-03-15 10:00:00+00 BC'::timestamptz)", NULL);
    sql_is("dec < 'NaN'", "pg", "(\"dec\" < 'NaN'::numeric)", NULL);
    sql_is("f8 < 'Infinity'", "pg", "(\"f8\" < 'Infinity'::float8)", NULL);
    /* Buffer limits: nothing half-written. */
    sl_filter_t *f = bound("region = 'EU' AND txt = 'a long enough literal to overflow'", "pg");
    sl_buf_t b;
    sl_buf_init(&b, 40);
    sl_buf_adds(&b, "WHERE ", NULL);
    sl_err_t err;
    assert_int_equal(sl_filter_sql(f, SL_FILTER_PG, &b, &err), -1);
    assert_int_equal(err.code, SL_E_LIMIT);
    assert_string_equal(b.data, "WHERE ");
    sl_buf_free(&b);
    sl_filter_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_bind_errors),
        cmocka_unit_test(test_eval_null_logic),
        cmocka_unit_test(test_eval_numbers),
        cmocka_unit_test(test_eval_text),
        cmocka_unit_test(test_eval_like),
        cmocka_unit_test(test_eval_time),
        cmocka_unit_test(test_eval_unchanged),
        cmocka_unit_test(test_route),
        cmocka_unit_test(test_columns),
        cmocka_unit_test(test_sql),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
