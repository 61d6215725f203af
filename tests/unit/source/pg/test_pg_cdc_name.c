/*
 * test_pg_cdc_name.c: unit tests of what names a PostgreSQL change stream's slot and
 * publication (src/source/pg/pg_cdc.c sl_pg_cdc_name): names that differ only in case or
 * punctuation get different objects, the names fit PostgreSQL's 63 bytes and need no
 * quoting, the names of an earlier sluice (legacy) are derived as that version did, and
 * the values tests/lib/cdc.sh computes with sha256sum agree; and the positions the
 * PostgreSQL ops print and parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "source/pg/pg_cdc.h"

extern const struct sl_cdc_ops sl_pg_cdc_ops;

static void name_of(const char *stream, bool legacy, char *buf)
{
    sl_pg_cdc_name(stream, legacy, buf, SL_PG_CDC_NAME_MAX + 1);
}

static void test_collisions(void **state)
{
    (void)state;
    char a[64], b[64];
    /* the attack of issue 12: one lossy name for two streams */
    name_of("Sales-Sync", true, a);
    name_of("sales_sync", true, b);
    assert_string_equal(a, "sluice_sales_sync");
    assert_string_equal(b, "sluice_sales_sync");
    name_of("Sales-Sync", false, a);
    name_of("sales_sync", false, b);
    assert_string_not_equal(a, b);
    assert_int_equal(strncmp(a, "sluice_sales_sync_", 18), 0);
    assert_int_equal(strncmp(b, "sluice_sales_sync_", 18), 0);
    /* what tests/lib/cdc.sh's cdc_slot_name prints (printf %s NAME | sha256sum) */
    name_of("cdc-PgBench", false, a);
    assert_string_equal(a, "sluice_cdc_pgbench_0526b40c1f71");
    name_of("ui-e2e", false, a);
    assert_string_equal(a, "sluice_ui_e2e_1f607741a804");
}

static void test_long(void **state)
{
    (void)state;
    char a[64], b[64], n1[101], n2[101];
    memset(n1, 'X', 100);
    n1[100] = '\0';
    memcpy(n2, n1, sizeof n1);
    n2[99] = 'Y'; /* differs past anything a name could keep */
    name_of(n1, false, a);
    name_of(n2, false, b);
    assert_string_not_equal(a, b);
    assert_int_equal(strlen(a), 7 + 40 + 1 + 12);
    for (const char *p = a; *p; p++)
        assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_');
    name_of(n1, true, a);
    assert_int_equal(strlen(a), 63);
    /* a small buffer cuts, and still ends the string */
    char small[10];
    sl_pg_cdc_name("abc", false, small, sizeof small);
    assert_true(strlen(small) <= 9);
}

static void test_positions(void **state)
{
    (void)state;
    char buf[32];
    uint64_t p = 0;
    sl_pg_cdc_ops.pos_format(NULL, (uint64_t)0x1 << 32 | 0xA2B3C8, buf, sizeof buf);
    assert_string_equal(buf, "1/A2B3C8");
    assert_int_equal(sl_pg_cdc_ops.pos_parse("0/1A2B3C8", &p), 0);
    assert_int_equal(p, 0x1A2B3C8);
    assert_int_equal(sl_pg_cdc_ops.pos_parse("0/1A2B3C8 ", &p), -1);
    assert_true(sl_pg_cdc_ops.byte_positions);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collisions),
        cmocka_unit_test(test_long),
        cmocka_unit_test(test_positions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
