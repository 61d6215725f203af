/*
 * test_normalize.c: verify's cross-engine normalisation of values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "engine/normalize.h"

static const char *norm(sl_type_t type, bool fixed, const char *in)
{
    static sl_buf_t out;
    static bool init;
    if (!init) {
        sl_buf_init(&out, 1 << 16);
        init = true;
    }
    sl_buf_reset(&out);
    sl_column_t col = {.type = type, .fixed = fixed};
    sl_value_t v = {in, (int64_t)strlen(in)};
    sl_err_t err;
    assert_int_equal(sl_value_normalize(&col, &v, &out, &err), 0);
    return out.data ? out.data : "";
}

static void booleans(void **state)
{
    (void)state;
    assert_string_equal(norm(SL_T_BOOL, false, "t"), "t");
    assert_string_equal(norm(SL_T_BOOL, false, "1"), "t"); /* MySQL TINYINT(1) */
    assert_string_equal(norm(SL_T_BOOL, false, "0"), "f");
    assert_string_equal(norm(SL_T_BOOL, false, "f"), "f");
    assert_string_equal(norm(SL_T_BOOL, false, "false"), "f");
    /* a TINYINT(1) target holding 2 is neither (type_matrix tampers with it) */
    assert_string_not_equal(norm(SL_T_BOOL, false, "2"), "f");
}

static void numbers(void **state)
{
    (void)state;
    assert_string_equal(norm(SL_T_DECIMAL, false, "1.500000"), "1.5");
    assert_string_equal(norm(SL_T_DECIMAL, false, "10.000"), "10");
    assert_string_equal(norm(SL_T_DECIMAL, false, "-0.00"), "0");
    assert_string_equal(norm(SL_T_DECIMAL, false, "100"), "100"); /* no '.' => keep zeros */
    assert_string_equal(norm(SL_T_DECIMAL, false, "NaN"), "NaN");
    /* float32 printed with 9 or 17 digits is the same float */
    assert_string_equal(norm(SL_T_FLOAT32, false, "3.1415927"), norm(SL_T_FLOAT32, false, "3.141592741012573"));
    assert_string_equal(norm(SL_T_FLOAT64, false, "Infinity"), "Infinity");
    assert_string_equal(norm(SL_T_FLOAT64, false, "-Infinity"), "-Infinity");
    assert_string_equal(norm(SL_T_FLOAT64, false, "NaN"), "NaN");
    assert_string_not_equal(norm(SL_T_FLOAT64, false, "0.1"), "0.2");
    /* MariaDB stores -0 as 0 (type_matrix row 3) */
    assert_string_equal(norm(SL_T_FLOAT64, false, "-0"), "0");
    assert_string_equal(norm(SL_T_FLOAT32, false, "-0"), "0");
}

static void times(void **state)
{
    (void)state;
    assert_string_equal(norm(SL_T_TIMESTAMP, false, "2020-01-02 03:04:05.120000"), "2020-01-02 03:04:05.12");
    assert_string_equal(norm(SL_T_TIMESTAMP, false, "2020-01-02 03:04:05.000000"), "2020-01-02 03:04:05");
    assert_string_equal(norm(SL_T_TIME, false, "-838:59:59.000000"), "-838:59:59");
    /* MySQL DATETIME holding the UTC value of a PostgreSQL timestamptz */
    assert_string_equal(norm(SL_T_TIMESTAMPTZ, false, "2020-01-02 03:04:05.500000"), "2020-01-02 03:04:05.5+00");
    assert_string_equal(norm(SL_T_TIMESTAMPTZ, false, "2020-01-02 03:04:05.5+00"), "2020-01-02 03:04:05.5+00");
    assert_string_equal(norm(SL_T_TIMESTAMPTZ, false, "infinity"), "infinity");
    assert_string_equal(norm(SL_T_TIMESTAMPTZ, false, "-infinity"), "-infinity");
}

static void text(void **state)
{
    (void)state;
    assert_string_equal(norm(SL_T_TEXT, true, "ab   "), "ab");   /* CHAR(n) padding */
    assert_string_equal(norm(SL_T_TEXT, false, "ab   "), "ab   "); /* VARCHAR keeps spaces */
    assert_string_equal(norm(SL_T_UUID, false, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"),
                        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
}

/* What casts and arrays compare as (verify under a mapping): an interval as PostgreSQL
 * prints it equals the MySQL TIME it was cast from; an array equals its JSON array. */
static void mapped(void **state)
{
    (void)state;
    char a[128];
    snprintf(a, sizeof a, "%s", norm(SL_T_INTERVAL, false, "-838:59:59"));
    assert_string_equal(a, norm(SL_T_INTERVAL, false, "PT-838H-59M-59S"));
    snprintf(a, sizeof a, "%s", norm(SL_T_INTERVAL, false, "-12:00:00.25"));
    assert_string_equal(a, norm(SL_T_INTERVAL, false, "PT-12H-0.25S"));
    assert_string_equal(norm(SL_T_INTERVAL, false, "P1Y2M3DT4H5M6.5S"), "14mo3d14706500000us");
    assert_string_equal(norm(SL_T_INTERVAL, false, "01:00:00"), "0mo0d3600000000us");
    snprintf(a, sizeof a, "%s", norm(SL_T_INTERVAL, false, "P1D"));
    assert_string_not_equal(a, norm(SL_T_INTERVAL, false, "PT24H")); /* as PostgreSQL keeps them */
    assert_string_equal(norm(SL_T_INTERVAL, false, "not an interval"), "not an interval");
    sl_column_t col = {.type = SL_T_ARRAY, .elem = SL_T_INT32};
    sl_buf_t out;
    sl_buf_init(&out, 1024);
    sl_err_t err;
    sl_value_t v = {"{1,NULL,{2}}", 12};
    assert_int_equal(sl_value_normalize(&col, &v, &out, &err), 0);
    assert_string_equal(out.data, "[1,null,[2]]");
    sl_buf_reset(&out);
    v = (sl_value_t){"[1,null,[2]]", 12};
    assert_int_equal(sl_value_normalize(&col, &v, &out, &err), 0);
    assert_string_equal(out.data, "[1,null,[2]]");
    sl_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(booleans),
        cmocka_unit_test(numbers),
        cmocka_unit_test(times),
        cmocka_unit_test(text),
        cmocka_unit_test(mapped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
