/*
 * test_mysql_cdc_pos.c: unit tests of how a MariaDB/MySQL change stream prints its
 * positions (src/source/mysql/mysql_cdc.c): "mysql-bin.000003:1234" with the binlog's
 * base name and width, "GTID 0-11-500" with the server id that wrote the GTID (after a
 * fail-over, the new one from its first GTID on), and the ops' parser reading them back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "source/mysql/mysql_cdc.h"

extern const struct sl_cdc_ops sl_mysql_cdc_ops;

static void test_format(void **state)
{
    (void)state;
    sl_my_cdc_t c;
    memset(&c, 0, sizeof c);
    c.base.ops = &sl_mysql_cdc_ops;
    char buf[64];
    uint64_t p = 0;
    /* before the server said anything */
    sl_mysql_cdc_ops.pos_format(&c.base, sl_my_gtid_pos(0, 500), buf, sizeof buf);
    assert_string_equal(buf, "GTID 0-x-500");
    /* file positions with the server's base name */
    snprintf(c.base_name, sizeof c.base_name, "mysql-bin");
    c.digits = 6;
    sl_mysql_cdc_ops.pos_format(&c.base, sl_my_cdc_pos(3, 1234), buf, sizeof buf);
    assert_string_equal(buf, "mysql-bin.000003:1234");
    assert_int_equal(sl_mysql_cdc_ops.pos_parse(buf, &p), 0);
    assert_int_equal(p, sl_my_cdc_pos(3, 1234));
    /* GTIDs with their writer: 11 up to seq 599, then 12 (a fail-over) */
    sl_my_cdc_writer(&c, 400, 11);
    sl_my_cdc_writer(&c, 401, 11);
    sl_my_cdc_writer(&c, 600, 12);
    sl_mysql_cdc_ops.pos_format(&c.base, sl_my_gtid_pos(0, 500), buf, sizeof buf);
    assert_string_equal(buf, "GTID 0-11-500");
    assert_int_equal(sl_mysql_cdc_ops.pos_parse(buf, &p), 0);
    assert_int_equal(p, sl_my_gtid_pos(0, 500));
    sl_mysql_cdc_ops.pos_format(&c.base, sl_my_gtid_pos(0, 650), buf, sizeof buf);
    assert_string_equal(buf, "GTID 0-12-650");
    sl_mysql_cdc_ops.pos_format(&c.base, sl_my_gtid_pos(0, 300), buf, sizeof buf);
    assert_string_equal(buf, "GTID 0-x-300"); /* before the first writer known */
    /* the oldest writers give way, bounded */
    for (uint32_t i = 0; i < 3 * SL_MY_CDC_WRITERS; i++)
        sl_my_cdc_writer(&c, 1000 + i, 100 + i);
    assert_int_equal(c.nwriters, SL_MY_CDC_WRITERS);
    sl_mysql_cdc_ops.pos_format(&c.base, sl_my_gtid_pos(0, 5000), buf, sizeof buf);
    assert_string_equal(buf, "GTID 0-123-5000");
    assert_false(sl_mysql_cdc_ops.byte_positions);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
