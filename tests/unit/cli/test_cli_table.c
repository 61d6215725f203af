/*
 * test_cli_table.c: unit tests of the CLI clients' human output (src/cli/client_table.c)
 * and of the bar and ETA shared with `sluice run` (src/core/meter.c): column alignment
 * (left and right, UTF-8 widths, missing cells, no trailing spaces), and the number
 * formats for counts, rates, bytes and lag.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/client_table.h"
#include "core/meter.h"

static void test_alignment(void **state)
{
    static const char *const hdr[] = {"NAME", "STATE", ">ROWS", "ID"};
    sl_tab_t *t = sl_tab_new(4, hdr);
    const char *r1[] = {"shop-to-pg", "running", "1,234,567", "s_1"};
    const char *r2[] = {"x", "paused", "12", NULL};
    sl_tab_row(t, r1);
    sl_tab_row(t, r2);
    assert_int_equal(sl_tab_rows(t), 2);
    char *s = sl_tab_render(t);
    assert_string_equal(s, "NAME        STATE         ROWS  ID\n"
                           "shop-to-pg  running  1,234,567  s_1\n"
                           "x           paused          12  -\n");
    free(s);
    sl_tab_free(t);
    sl_tab_free(NULL);
}

static void test_utf8_and_trailing_spaces(void **state)
{
    static const char *const hdr[] = {"TABLE", "NOTE"};
    sl_tab_t *t = sl_tab_new(2, hdr);
    const char *r1[] = {"größe", ""};
    const char *r2[] = {"a", "ok"};
    sl_tab_row(t, r1);
    sl_tab_row(t, r2);
    char *s = sl_tab_render(t);
    /* "größe" is 5 characters (7 bytes): the columns line up on screen; an empty last cell
     * leaves no trailing spaces. */
    assert_string_equal(s, "TABLE  NOTE\n"
                           "größe\n"
                           "a      ok\n");
    free(s);
    sl_tab_free(t);
    assert_int_equal(sl_utf8_width("größe"), 5);
    assert_int_equal(sl_utf8_width(""), 0);
}

static void test_empty_table_and_many_rows(void **state)
{
    static const char *const hdr[] = {">N"};
    sl_tab_t *t = sl_tab_new(1, hdr);
    char *s = sl_tab_render(t);
    assert_string_equal(s, "N\n");
    free(s);
    char cell[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(cell, sizeof cell, "%d", i);
        const char *row[] = {cell};
        sl_tab_row(t, row);
    }
    s = sl_tab_render(t);
    assert_int_equal(strncmp(s, "  N\n  0\n  1\n", 12), 0);
    assert_non_null(strstr(s, "\n999\n"));
    free(s);
    sl_tab_free(t);
}

static void test_counts(void **state)
{
    char b[32];
    assert_string_equal(sl_fmt_count(0, b, sizeof b), "0");
    assert_string_equal(sl_fmt_count(999, b, sizeof b), "999");
    assert_string_equal(sl_fmt_count(1000, b, sizeof b), "1,000");
    assert_string_equal(sl_fmt_count(1234567, b, sizeof b), "1,234,567");
    assert_string_equal(sl_fmt_count(-1234, b, sizeof b), "-1,234");
    assert_string_equal(sl_fmt_count(INT64_MIN, b, sizeof b), "-9,223,372,036,854,775,808");
}

static void test_rates_bytes_secs(void **state)
{
    char b[32];
    assert_string_equal(sl_fmt_rate(0, b, sizeof b), "0");
    assert_string_equal(sl_fmt_rate(12.5, b, sizeof b), "12.5");
    assert_string_equal(sl_fmt_rate(39500.4, b, sizeof b), "39,500");
    assert_string_equal(sl_fmt_rate(NAN, b, sizeof b), "-");
    assert_string_equal(sl_fmt_rate(-1, b, sizeof b), "-");

    assert_string_equal(sl_fmt_bytes(512, b, sizeof b), "512 B");
    assert_string_equal(sl_fmt_bytes(1536, b, sizeof b), "1.5 KiB");
    assert_string_equal(sl_fmt_bytes(3.0 * 1024 * 1024 * 1024, b, sizeof b), "3.0 GiB");

    assert_string_equal(sl_fmt_secs(0.08, b, sizeof b), "0.08 s");
    assert_string_equal(sl_fmt_secs(42.9, b, sizeof b), "42 s");
    assert_string_equal(sl_fmt_secs(192, b, sizeof b), "3m12s");
    assert_string_equal(sl_fmt_secs(7500, b, sizeof b), "2h05m");
    assert_string_equal(sl_fmt_secs(3 * 86400 + 4 * 3600, b, sizeof b), "3d04h");
    assert_string_equal(sl_fmt_secs(-1, b, sizeof b), "-");
    assert_string_equal(sl_fmt_secs(NAN, b, sizeof b), "-");
    assert_string_equal(sl_fmt_secs(INFINITY, b, sizeof b), "-");
}

static void test_meter(void **state)
{
    char bar[25], eta[32];
    sl_meter_bar(0, bar, 24);
    assert_string_equal(bar, "........................");
    sl_meter_bar(0.5, bar, 24);
    assert_string_equal(bar, "############............");
    sl_meter_bar(1.7, bar, 24);
    assert_string_equal(bar, "########################");
    sl_meter_bar(NAN, bar, 10);
    assert_string_equal(bar, "..........");
    sl_meter_eta(-1, eta, sizeof eta);
    assert_string_equal(eta, "--:--");
    sl_meter_eta(75, eta, sizeof eta);
    assert_string_equal(eta, "01:15");
    sl_meter_eta(3600 * 2 + 60 * 7, eta, sizeof eta);
    assert_string_equal(eta, "2h07m");
    sl_meter_eta(2e7, eta, sizeof eta);
    assert_string_equal(eta, "--:--");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment),
        cmocka_unit_test(test_utf8_and_trailing_spaces),
        cmocka_unit_test(test_empty_table_and_many_rows),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_rates_bytes_secs),
        cmocka_unit_test(test_meter),
    };
    return cmocka_run_group_tests_name("cli_table", tests, NULL, NULL);
}
