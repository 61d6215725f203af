/*
 * test_mysql_text.c: unit tests of the pure MariaDB/MySQL text helpers
 * (src/db/mysql/mysql_text.c) and the error classification of mysql_db.c:
 * identifier and string quoting, hex literals, BIT bytes to '0'/'1' text, number
 * checks, fraction trimming, zero dates, and which server errors are retriable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "db/mysql/mysql_db.h"

static void test_ident_quoting(void **state)
{
    sl_buf_t b;
    sl_err_t err = {0};
    sl_buf_init(&b, 1024);
    assert_int_equal(sl_mysql_add_ident(&b, "plain", &err), 0);
    assert_string_equal(b.data, "`plain`");
    sl_buf_reset(&b);
    assert_int_equal(sl_mysql_add_ident(&b, "we`ird` name", &err), 0);
    assert_string_equal(b.data, "`we``ird`` name`");
    sl_buf_free(&b);
}

static void test_string_escaping(void **state)
{
    sl_buf_t b;
    sl_err_t err = {0};
    sl_buf_init(&b, 1024);
    const char in[] = "a'b\"c\\d\ne\rf\0g\032h 😀";
    assert_int_equal(sl_mysql_add_string(&b, in, sizeof in - 1, &err), 0);
    assert_string_equal(b.data, "'a\\'b\\\"c\\\\d\\ne\\rf\\0g\\Zh 😀'");
    sl_buf_reset(&b);
    assert_int_equal(sl_mysql_add_string(&b, "", 0, &err), 0);
    assert_string_equal(b.data, "''");
    sl_buf_free(&b);
}

static void test_string_respects_buffer_limit(void **state)
{
    sl_buf_t b;
    sl_err_t err = {0};
    sl_buf_init(&b, 8);
    assert_int_equal(sl_mysql_add_string(&b, "0123456789", 10, &err), -1);
    assert_int_equal(err.code, SL_E_LIMIT);
    sl_buf_free(&b);
}

static void test_hex(void **state)
{
    sl_buf_t b;
    sl_err_t err = {0};
    sl_buf_init(&b, 1024);
    assert_int_equal(sl_mysql_add_hex(&b, "\x00\xff\x10", 3, &err), 0);
    assert_string_equal(b.data, "x'00ff10'");
    sl_buf_reset(&b);
    assert_int_equal(sl_mysql_add_hex(&b, "", 0, &err), 0);
    assert_string_equal(b.data, "x''");
    sl_buf_free(&b);
}

static void test_bits_to_text(void **state)
{
    char out[80];
    /* BIT(10) b'0000000101' arrives as two big-endian bytes 0x00 0x05 */
    assert_int_equal(sl_mysql_bits_to_text((const unsigned char *)"\x00\x05", 2, 10, out), 0);
    assert_string_equal(out, "0000000101");
    assert_int_equal(sl_mysql_bits_to_text((const unsigned char *)"\x03\xff", 2, 10, out), 0);
    assert_string_equal(out, "1111111111");
    assert_int_equal(sl_mysql_bits_to_text((const unsigned char *)"\x01", 1, 1, out), 0);
    assert_string_equal(out, "1");
    /* BIT(64) with the top and bottom bits set */
    assert_int_equal(sl_mysql_bits_to_text((const unsigned char *)"\x80\0\0\0\0\0\0\x01", 8, 64, out), 0);
    assert_int_equal(strlen(out), 64);
    assert_int_equal(out[0], '1');
    assert_int_equal(out[63], '1');
    assert_int_equal(strspn(out + 1, "0"), 62);
    /* fewer bytes than bits: pads with zeros on the left */
    assert_int_equal(sl_mysql_bits_to_text((const unsigned char *)"\x05", 1, 12, out), 0);
    assert_string_equal(out, "000000000101");
    /* a set bit beyond the width would be lost */
    assert_int_equal(sl_mysql_bits_to_text((const unsigned char *)"\x04\x00", 2, 10, out), -1);
}

static void test_number_checks(void **state)
{
    assert_true(sl_mysql_is_integer("0", 1));
    assert_true(sl_mysql_is_integer("-9223372036854775808", 20));
    assert_true(sl_mysql_is_integer("18446744073709551615", 20));
    assert_false(sl_mysql_is_integer("", 0));
    assert_false(sl_mysql_is_integer("-", 1));
    assert_false(sl_mysql_is_integer("1 OR 1=1", 8));
    assert_false(sl_mysql_is_integer("1.0", 3));
    assert_false(sl_mysql_is_integer("123456789012345678901", 21));

    assert_true(sl_mysql_is_plain_decimal("-123.4500", 9));
    assert_true(sl_mysql_is_plain_decimal(".5", 2));
    assert_true(sl_mysql_is_plain_decimal("7", 1));
    assert_false(sl_mysql_is_plain_decimal("1e5", 3));
    assert_false(sl_mysql_is_plain_decimal("NaN", 3));
    assert_false(sl_mysql_is_plain_decimal(".", 1));

    assert_true(sl_mysql_is_float("1e23", 4));
    assert_true(sl_mysql_is_float("-1.7976931348623157e308", 23));
    assert_true(sl_mysql_is_float("3.4028235e+38", 13));
    assert_false(sl_mysql_is_float("Infinity", 8));
    assert_false(sl_mysql_is_float("1e", 2));
    assert_false(sl_mysql_is_float("0x10", 4));
}

static void test_decimal_digits(void **state)
{
    int i, f;
    sl_mysql_decimal_digits("-00123.4500", 11, &i, &f);
    assert_int_equal(i, 3);
    assert_int_equal(f, 2);
    sl_mysql_decimal_digits("0.000", 5, &i, &f);
    assert_int_equal(i, 0);
    assert_int_equal(f, 0);
    sl_mysql_decimal_digits("99999999.99", 11, &i, &f);
    assert_int_equal(i, 8);
    assert_int_equal(f, 2);
}

static void test_trim_fraction(void **state)
{
    assert_int_equal(sl_mysql_trim_fraction("10:00:00.500000", 15), 10);
    assert_int_equal(sl_mysql_trim_fraction("10:00:00.000", 12), 8);
    assert_int_equal(sl_mysql_trim_fraction("10:00:00", 8), 8);
    assert_int_equal(sl_mysql_trim_fraction("2020-01-01 00:00:00.120", 23), 22);
    assert_int_equal(sl_mysql_trim_fraction("-838:59:59.000001", 17), 17);
}

static void test_zero_dates(void **state)
{
    assert_true(sl_mysql_is_zero_date("0000-00-00", 10));
    assert_true(sl_mysql_is_zero_date("0000-00-00 00:00:00.000000", 26));
    assert_true(sl_mysql_is_zero_date("2020-00-10", 10));
    assert_true(sl_mysql_is_zero_date("2020-05-00 10:00:00", 19));
    assert_true(sl_mysql_is_zero_date("0000-01-01", 10));
    assert_false(sl_mysql_is_zero_date("2020-02-29", 10));
    assert_false(sl_mysql_is_zero_date("1000-01-01 00:00:00", 19));
    assert_false(sl_mysql_is_zero_date("10:00:00", 8));
}

static void test_account(void **state)
{
    char b[64];
    assert_string_equal(sl_mysql_account("nc_user@localhost", b, sizeof b), "'nc_user'@'localhost'");
    assert_string_equal(sl_mysql_account("nc_user", b, sizeof b), "'nc_user'@'%'");
    assert_string_equal(sl_mysql_account("a@b@%", b, sizeof b), "'a@b'@'%'"); /* the last '@' splits */
    assert_string_equal(sl_mysql_account("o'neil@h", b, sizeof b), "'o''neil'@'h'");
    assert_string_equal(sl_mysql_account(NULL, b, sizeof b), "CURRENT_USER");
    assert_string_equal(sl_mysql_account("", b, sizeof b), "CURRENT_USER");
    char tiny[6];
    sl_mysql_account("abcdefgh@host", tiny, sizeof tiny); /* cut, still terminated */
    assert_true(strlen(tiny) < sizeof tiny);
}

static void test_error_classes(void **state)
{
    sl_err_t err = {0};
    sl_mysql_fail_code(2013, "HY000", "Lost connection", "read rows", "db", "u", &err);
    assert_int_equal(err.code, SL_E_CONNECT);
    assert_true(err.retriable);
    sl_mysql_fail_code(1213, "40001", "Deadlock found", "write rows", "db", "u", &err);
    assert_true(err.retriable);
    assert_false(err.fatal);
    sl_mysql_fail_code(1205, "HY000", "Lock wait timeout", "write rows", "db", "u", &err);
    assert_true(err.retriable);
    sl_mysql_fail_code(1142, "42000", "INSERT command denied", "write rows", "shop", "bob", &err);
    assert_int_equal(err.code, SL_E_PRIVILEGE);
    assert_true(err.fatal);
    assert_non_null(strstr(err.hint, "GRANT"));
    assert_non_null(strstr(err.hint, "`shop`.*"));
    sl_mysql_fail_code(1227, "42000", "Access denied; you need RELOAD", "lock", "shop", "bob", &err);
    assert_int_equal(err.code, SL_E_PRIVILEGE);
    /* the GRANT names the account as the server knows it, so that it can be pasted */
    sl_mysql_fail_code(1227, "42000", "Access denied; you need RELOAD", "lock", "shop", "nc_user@10.0.%", &err);
    assert_string_equal(err.hint, "grant the global privilege named above, e.g. GRANT RELOAD ON *.* TO "
                                  "'nc_user'@'10.0.%'");
    static const unsigned data_errors[] = {1264, 1366, 1292, 1406, 1048, 1062, 1452};
    for (size_t i = 0; i < sizeof data_errors / sizeof data_errors[0]; i++) {
        sl_mysql_fail_code(data_errors[i], "22000", "bad value", "write rows", "db", "u", &err);
        assert_int_equal(err.code, SL_E_DATA);
        assert_true(err.fatal);
        assert_false(err.retriable);
    }
    assert_string_equal(err.message, "could not write rows: bad value");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ident_quoting),
        cmocka_unit_test(test_string_escaping),
        cmocka_unit_test(test_string_respects_buffer_limit),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_bits_to_text),
        cmocka_unit_test(test_number_checks),
        cmocka_unit_test(test_decimal_digits),
        cmocka_unit_test(test_trim_fraction),
        cmocka_unit_test(test_zero_dates),
        cmocka_unit_test(test_error_classes), cmocka_unit_test(test_account),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
