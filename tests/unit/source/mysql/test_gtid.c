/*
 * test_gtid.c: unit tests of the binlog position kinds (src/source/mysql/gtid.c):
 * packing and order of GTID positions, their text and its parser, the position= URL
 * parameter, and
 * parsing MariaDB GTID lists (domains, seq_no of a domain, which server wrote a GTID).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "source/mysql/gtid.h"

static void test_packing(void **state)
{
    (void)state;
    uint64_t p = sl_my_gtid_pos(0, 500);
    assert_true(sl_my_pos_is_gtid(p));
    assert_int_equal(sl_my_pos_domain(p), 0);
    assert_int_equal(sl_my_pos_seq(p), 500);
    assert_int_equal(p, UINT64_C(0x40000000000001F4)); /* shown as 40000000/1F4 */
    uint64_t q = sl_my_gtid_pos(SL_MY_GTID_DOMAIN_MAX, SL_MY_GTID_SEQ_MAX);
    assert_int_equal(sl_my_pos_domain(q), SL_MY_GTID_DOMAIN_MAX);
    assert_int_equal(sl_my_pos_seq(q), SL_MY_GTID_SEQ_MAX);
    assert_true(q < UINT64_C(1) << 63); /* positive as a signed 64-bit number, too */
    /* order within a domain follows seq_no; a file position is never a GTID one */
    assert_true(sl_my_gtid_pos(3, 7) < sl_my_gtid_pos(3, 8));
    uint64_t file = (uint64_t)999999 << 32 | UINT32_MAX;
    assert_false(sl_my_pos_is_gtid(file));
    assert_true(file < sl_my_gtid_pos(0, 0));
}

static void test_text(void **state)
{
    (void)state;
    char buf[64];
    sl_my_pos_text(sl_my_gtid_pos(2, 123456), "mysql-bin", 6, buf, sizeof buf);
    assert_string_equal(buf, "GTID 2-x-123456");
    sl_my_pos_text((uint64_t)7 << 32 | 1234, "mysql-bin", 6, buf, sizeof buf);
    assert_string_equal(buf, "mysql-bin.000007:1234");
    sl_my_pos_text((uint64_t)12 << 32 | 4, NULL, 0, buf, sizeof buf);
    assert_string_equal(buf, "binlog.000012:4");
}

static void test_parse(void **state)
{
    (void)state;
    uint64_t p = 0;
    /* what sl_my_pos_text and the change stream write, and the packed form */
    assert_int_equal(sl_my_pos_parse("GTID 0-11-500", &p), 0);
    assert_int_equal(p, sl_my_gtid_pos(0, 500));
    assert_int_equal(sl_my_pos_parse("GTID 2-x-123456", &p), 0);
    assert_int_equal(p, sl_my_gtid_pos(2, 123456));
    assert_int_equal(sl_my_pos_parse("mysql-bin.000003:1234", &p), 0);
    assert_int_equal(p, (uint64_t)3 << 32 | 1234);
    assert_int_equal(sl_my_pos_parse("my.host-bin.000012:4", &p), 0); /* a dot in the base name */
    assert_int_equal(p, (uint64_t)12 << 32 | 4);
    assert_int_equal(sl_my_pos_parse("40000000/1F4", &p), 0);
    assert_int_equal(p, sl_my_gtid_pos(0, 500));
    assert_int_equal(sl_my_pos_parse("7/7AE4D73", &p), 0);
    assert_int_equal(p, (uint64_t)7 << 32 | 0x7AE4D73);
    /* round trips */
    char buf[64];
    uint64_t all[] = {sl_my_gtid_pos(SL_MY_GTID_DOMAIN_MAX, SL_MY_GTID_SEQ_MAX), (uint64_t)999999 << 32 | UINT32_MAX,
                      sl_my_gtid_pos(0, 0), 4};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        sl_my_pos_text(all[i], "mysql-bin", 6, buf, sizeof buf);
        assert_int_equal(sl_my_pos_parse(buf, &p), 0);
        assert_int_equal(p, all[i]);
    }
    /* refused */
    const char *bad[] = {"", "GTID", "GTID 0-11", "GTID 0-11-", "GTID 16384-1-1", "GTID 0-y-1", "GTID 0-1-1x",
                         "GTID 0-1-281474976710656", "mysql-bin:12", "mysql-bin.:12", ".000001:4",
                         "mysql-bin.000001:", "mysql-bin.000001:4294967296", "mysql-bin.4294967296:4",
                         "mysql-bin.000001:12x", "0/", "x/1", "GTID -1-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(sl_my_pos_parse(bad[i], &p), -1);
}

static sl_my_posmode_t mode_of(const char *url, int *rc)
{
    sl_url_t *u = NULL;
    sl_err_t err = {0};
    assert_int_equal(sl_url_parse(url, &u, &err), 0);
    sl_my_posmode_t m = SL_MY_POS_FILE;
    *rc = sl_my_posmode_parse(u, &m, &err);
    if (*rc)
        assert_non_null(strstr(err.message, "position"));
    sl_url_free(u);
    return m;
}

static void test_posmode(void **state)
{
    (void)state;
    int rc;
    assert_int_equal(mode_of("mysql://u@h/db", &rc), SL_MY_POS_AUTO);
    assert_int_equal(rc, 0);
    assert_int_equal(mode_of("mysql://u@h/db?position=auto", &rc), SL_MY_POS_AUTO);
    assert_int_equal(mode_of("mysql://u@h/db?position=GTID", &rc), SL_MY_POS_GTID);
    assert_int_equal(rc, 0);
    assert_int_equal(mode_of("mysql://u@h/db?position=file", &rc), SL_MY_POS_FILE);
    assert_int_equal(rc, 0);
    mode_of("mysql://u@h/db?position=offset", &rc);
    assert_int_equal(rc, -1);
    assert_string_equal(sl_my_posmode_name(SL_MY_POS_GTID), "gtid");
    assert_string_equal(sl_my_posmode_name(SL_MY_POS_FILE), "file");
}

static void test_list_domains(void **state)
{
    (void)state;
    uint32_t d = 99;
    assert_int_equal(sl_my_gtid_list_domains("", &d), 0);
    assert_int_equal(sl_my_gtid_list_domains("0-1-146", &d), 1);
    assert_int_equal(d, 0);
    assert_int_equal(sl_my_gtid_list_domains("0-1-146,0-2-200", &d), 1);
    assert_int_equal(sl_my_gtid_list_domains("5-1-146,\n 7-2-9", &d), 2);
    assert_int_equal(d, 5);
    assert_int_equal(sl_my_gtid_list_domains("0-1", &d), -1);
    assert_int_equal(sl_my_gtid_list_domains("0-1-2,", &d), 1); /* a trailing comma is harmless */
    assert_int_equal(sl_my_gtid_list_domains("0-1-2 x", &d), -1);
    assert_int_equal(sl_my_gtid_list_domains("4294967296-1-2", &d), -1); /* domain over 32 bits */
    assert_int_equal(sl_my_gtid_list_domains("0-1-18446744073709551616", &d), -1);
}

static void test_list_seq(void **state)
{
    (void)state;
    uint64_t seq = 1;
    bool found = true;
    assert_int_equal(sl_my_gtid_list_seq("0-1-146,1-2-5", 1, &seq, &found), 0);
    assert_true(found);
    assert_int_equal(seq, 5);
    assert_int_equal(sl_my_gtid_list_seq("0-1-146", 3, &seq, &found), 0);
    assert_false(found);
    assert_int_equal(seq, 0);
    assert_int_equal(sl_my_gtid_list_seq("0-1-18446744073709551615", 0, &seq, &found), 0);
    assert_int_equal(seq, UINT64_MAX);
    assert_int_equal(sl_my_gtid_list_seq("zzz", 0, &seq, &found), -1);
}

static void test_writer(void **state)
{
    (void)state;
    uint32_t sid = 0;
    /* one server wrote the domain */
    assert_true(sl_my_gtid_writer("0-11-500", 0, 123, &sid));
    assert_int_equal(sid, 11);
    assert_true(sl_my_gtid_writer("0-11-500", 0, 500, &sid));
    assert_false(sl_my_gtid_writer("0-11-500", 0, 501, &sid)); /* beyond the binlog */
    assert_false(sl_my_gtid_writer("0-11-500", 1, 5, &sid));   /* no such domain */
    /* a fail-over from 11 to 12 at 500: each seq_no to its writer */
    assert_true(sl_my_gtid_writer("0-11-500,0-12-800,1-11-9000", 0, 480, &sid));
    assert_int_equal(sid, 11);
    assert_true(sl_my_gtid_writer("0-11-500,0-12-800,1-11-9000", 0, 501, &sid));
    assert_int_equal(sid, 12);
    assert_true(sl_my_gtid_writer("0-12-800,0-11-500", 0, 800, &sid));
    assert_int_equal(sid, 12);
    assert_false(sl_my_gtid_writer("bad", 0, 1, &sid));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packing),     cmocka_unit_test(test_text),        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_posmode),     cmocka_unit_test(test_list_domains),
        cmocka_unit_test(test_list_seq),    cmocka_unit_test(test_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
