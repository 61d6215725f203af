/*
 * test_array.c: PostgreSQL array literals as JSON arrays (model/array.h): nesting,
 * NULLs, quoting and escapes, element types, and what is refused (NaN, infinities,
 * explicit bounds, malformed text) without touching the output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "model/array.h"

/* The JSON of literal `in` with elements of type elem, or "REFUSED: why". */
static const char *conv(const char *in, sl_type_t elem, char *buf, size_t size)
{
    sl_buf_t b;
    sl_buf_init(&b, 1u << 20);
    char why[200];
    sl_err_t err = {0};
    int rc = sl_array_json(in, strlen(in), elem, &b, why, sizeof why, &err);
    assert_true(rc >= 0);
    if (rc == 1) {
        assert_int_equal(b.len, 0);
        snprintf(buf, size, "REFUSED: %s", why);
    } else {
        snprintf(buf, size, "%s", b.data);
    }
    sl_buf_free(&b);
    return buf;
}

static void converts(void **state)
{
    (void)state;
    char b[512];
    assert_string_equal(conv("{1,2,NULL}", SL_T_INT32, b, sizeof b), "[1,2,null]");
    assert_string_equal(conv("{{1,2},{3,4}}", SL_T_INT64, b, sizeof b), "[[1,2],[3,4]]");
    assert_string_equal(conv("{}", SL_T_INT32, b, sizeof b), "[]");
    assert_string_equal(conv("{{},{}}", SL_T_INT32, b, sizeof b), "[[],[]]");
    assert_string_equal(conv("{1.50,-0.25,1e+30}", SL_T_DECIMAL, b, sizeof b), "[1.50,-0.25,1e+30]");
    assert_string_equal(conv("{t,f,NULL}", SL_T_BOOL, b, sizeof b), "[true,false,null]");
    assert_string_equal(conv("{\"a b\",c,\"x\\\"y\",\"NULL\",NULL,\"\"}", SL_T_TEXT, b, sizeof b),
                        "[\"a b\",\"c\",\"x\\\"y\",\"NULL\",null,\"\"]");
    assert_string_equal(conv("{ a , \"b \" }", SL_T_TEXT, b, sizeof b), "[\"a\",\"b \"]");
    assert_string_equal(conv("{a\\,b,\\\\}", SL_T_TEXT, b, sizeof b), "[\"a,b\",\"\\\\\"]");
    assert_string_equal(conv("{\"{\\\"k\\\": [1, 2]}\",null}", SL_T_JSON, b, sizeof b), "[{\"k\": [1, 2]},null]");
    assert_string_equal(conv("{\"2024-01-01 10:00:00\",infinity}", SL_T_TIMESTAMP, b, sizeof b),
                        "[\"2024-01-01 10:00:00\",\"infinity\"]");
    assert_string_equal(conv("{\"ä€😀\"}", SL_T_TEXT, b, sizeof b), "[\"ä€😀\"]");
}

static void refuses(void **state)
{
    (void)state;
    char b[512];
    assert_string_equal(conv("{1,NaN}", SL_T_FLOAT64, b, sizeof b), "REFUSED: JSON has no NaN or infinite numbers");
    assert_string_equal(conv("{Infinity}", SL_T_FLOAT32, b, sizeof b), "REFUSED: JSON has no NaN or infinite numbers");
    assert_string_equal(conv("{NaN}", SL_T_DECIMAL, b, sizeof b), "REFUSED: JSON has no NaN or infinite numbers");
    assert_non_null(strstr(conv("[0:1]={1,2}", SL_T_INT32, b, sizeof b), "explicit bounds"));
    assert_non_null(strstr(conv("{1,2", SL_T_INT32, b, sizeof b), "REFUSED"));
    assert_non_null(strstr(conv("{1,,2}", SL_T_INT32, b, sizeof b), "REFUSED"));
    assert_non_null(strstr(conv("{\"abc}", SL_T_TEXT, b, sizeof b), "REFUSED"));
    assert_non_null(strstr(conv("{1} x", SL_T_INT32, b, sizeof b), "REFUSED"));
    assert_non_null(strstr(conv("{x}", SL_T_BOOL, b, sizeof b), "not a boolean"));
    assert_non_null(strstr(conv("{\"{oops\"}", SL_T_JSON, b, sizeof b), "not JSON"));
    assert_non_null(strstr(conv("{1.}", SL_T_DECIMAL, b, sizeof b), "not a number"));
    assert_non_null(strstr(conv("", SL_T_TEXT, b, sizeof b), "REFUSED"));
    /* nesting is bounded */
    char deep[200];
    memset(deep, '{', 100);
    memset(deep + 100, '}', 99);
    deep[199] = '\0';
    assert_non_null(strstr(conv(deep, SL_T_INT32, b, sizeof b), "REFUSED"));
}

/* A refusal leaves what the buffer held before. */
static void output_kept(void **state)
{
    (void)state;
    sl_buf_t b;
    sl_buf_init(&b, 1024);
    sl_buf_adds(&b, "keep", NULL);
    char why[64];
    sl_err_t err;
    assert_int_equal(sl_array_json("{1,NaN", 6, SL_T_FLOAT64, &b, why, sizeof why, &err), 1);
    assert_string_equal(b.data, "keep");
    assert_int_equal(sl_array_json("{7}", 3, SL_T_INT16, &b, why, sizeof why, &err), 0);
    assert_string_equal(b.data, "keep[7]");
    sl_buf_free(&b);
    /* a full buffer is an error, not a refusal */
    sl_buf_init(&b, 4);
    assert_int_equal(sl_array_json("{1,2,3,4,5}", 11, SL_T_INT32, &b, why, sizeof why, &err), -1);
    assert_int_equal(err.code, SL_E_LIMIT);
    sl_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(converts),
        cmocka_unit_test(refuses),
        cmocka_unit_test(output_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
