/*
 * test_binlog.c: the binlog decoder (source/mysql/binlog*.c): DOUBLE text as the
 * server prints it, DECIMAL, integer and temporal storage formats, the checksum, character sets, MySQL's
 * binary JSON, and a real MariaDB 10.11 binlog (fuzz/corpus/binlog) decoded event by
 * event, with values checked against what the load path reads for the same rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/change.h"
#include "source/mysql/binlog.h"

/* The corpus beside the fuzz target, found from this file's (absolute) path. */
static void corpus_path(const char *name, char *out, size_t size)
{
    const char *here = __FILE__;
    const char *cut = strstr(here, "tests/unit/");
    snprintf(out, size, "%.*sfuzz/corpus/binlog/%s", cut ? (int)(cut - here) : 0, here, name);
}

static void test_double_text(void **state)
{
    (void)state;
    /* what MariaDB 10.11 prints for these DOUBLE values */
    static const struct {
        double d;
        const char *text;
    } cases[] = {
        {0.30000000000000004, "0.30000000000000004"}, {1e-13, "0.0000000000001"},
        {1.5e-14, "0.000000000000015"}, {1e-15, "0.000000000000001"}, {1e-16, "1e-16"},
        {123456789012345.6, "123456789012345.6"}, {1234567890123456.7, "1234567890123456.8"},
        {9007199254740993.0, "9.007199254740992e15"}, {1e15, "1e15"}, {999999986991104.0, "999999986991104"},
        {1.7976931348623157e308, "1.7976931348623157e308"}, {-1.7976931348623157e308, "-1.7976931348623157e308"},
        {2.2250738585072014e-308, "2.2250738585072014e-308"}, {5e-324, "5e-324"},
        {0.000123456789012345678, "0.00012345678901234567"}, {-0.0, "0"}, {123456789.0, "123456789"},
        {1.2345678901234568e20, "1.2345678901234568e20"}, {1e-5, "0.00001"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        sl_binlog_double_text(cases[i].d, buf);
        assert_string_equal(buf, cases[i].text);
    }
}

static void value_is_n(const sl_binlog_col_t *bc, const sl_column_t *col, const void *bytes, size_t n,
                       const char *want, size_t wantlen)
{
    sl_binlog_cell_t cell = {.state = 2, .p = bytes, .len = (uint32_t)n};
    char out[512];
    size_t used = 0;
    sl_value_t v;
    sl_err_t err = {0};
    assert_true(sl_binlog_value_bound(bc, col, &cell) <= sizeof out);
    int rc = sl_binlog_value(bc, col, &cell, out, sizeof out, &used, &v, &err);
    if (rc)
        fail_msg("%s", err.message);
    if (!want) {
        assert_true(v.len < 0);
        return;
    }
    assert_int_equal(v.len, wantlen);
    assert_memory_equal(v.p, want, wantlen);
}

static void value_is(const sl_binlog_col_t *bc, const sl_column_t *col, const void *bytes, size_t n,
                     const char *want)
{
    value_is_n(bc, col, bytes, n, want, want ? strlen(want) : 0);
}

static void test_decimal(void **state)
{
    (void)state;
    sl_column_t col = {.name = "d", .type = SL_T_DECIMAL, .precision = 14, .scale = 4};
    sl_binlog_col_t bc = {.type = SL_BT_NEWDECIMAL, .meta = 14 << 8 | 4};
    /* the examples of MySQL's decimal storage documentation */
    value_is(&bc, &col, "\x81\x0D\xFB\x38\xD2\x04\xD2", 7, "1234567890.1234");
    value_is(&bc, &col, "\x7E\xF2\x04\xC7\x2D\xFB\x2D", 7, "-1234567890.1234");
    value_is(&bc, &col, "\x80\x00\x00\x00\x00\x00\x00", 7, "0.0000");
    sl_binlog_col_t frac = {.type = SL_BT_NEWDECIMAL, .meta = 3 << 8 | 3};
    col.precision = 3;
    col.scale = 3;
    value_is(&frac, &col, "\x7C\x18", 2, "-0.999"); /* 999 = 0x03E7, inverted */
    sl_binlog_cell_t bad = {.state = 2, .p = (const unsigned char *)"\x83\xE8", .len = 2};
    char out[128];
    size_t used = 0;
    sl_value_t v;
    sl_err_t err = {0};
    assert_int_equal(sl_binlog_value(&frac, &col, &bad, out, sizeof out, &used, &v, &err), -1);
    assert_int_equal(err.code, SL_E_PROTOCOL); /* 1000 does not fit 3 digits */
}

static void test_temporal(void **state)
{
    (void)state;
    sl_column_t time = {.name = "t", .type = SL_T_TIME, .scale = 6};
    sl_binlog_col_t t6 = {.type = SL_BT_TIME2, .meta = 6};
    /* -00:00:00.5 and 838:59:59 */
    value_is(&t6, &time, "\x7F\xFF\xFF\xF8\x5E\xE0", 6, "-00:00:00.5");
    sl_binlog_col_t t0 = {.type = SL_BT_TIME2, .meta = 0};
    time.scale = 0;
    value_is(&t0, &time, "\xB4\x6E\xFB", 3, "838:59:59");
    value_is(&t0, &time, "\x4B\x91\x05", 3, "-838:59:59");
    sl_column_t ts = {.name = "ts", .type = SL_T_TIMESTAMPTZ, .scale = 0};
    sl_binlog_col_t ts0 = {.type = SL_BT_TIMESTAMP2, .meta = 0};
    value_is(&ts0, &ts, "\x7F\xFF\xFF\xFF", 4, "2038-01-19 03:14:07+00");
    value_is(&ts0, &ts, "\x00\x00\x00\x00", 4, NULL); /* the zero timestamp */
    sl_column_t date = {.name = "d", .type = SL_T_DATE};
    sl_binlog_col_t d = {.type = SL_BT_DATE};
    value_is(&d, &date, "\x5D\xD0\x0F", 3, "2024-02-29");
    value_is(&d, &date, "\x00\x00\x00", 3, NULL);
    /* DATETIME2 (fraction trimmed, year padded), the old DATETIME, TIMESTAMP2(3) */
    sl_column_t dt = {.name = "dt", .type = SL_T_TIMESTAMP, .scale = 6};
    sl_binlog_col_t dt6 = {.type = SL_BT_DATETIME2, .meta = 6};
    value_is(&dt6, &dt, "\x99\xBB\x76\x81\x49\x01\xE2\x08", 8, "2026-11-27 08:05:09.1234");
    sl_binlog_col_t dt0 = {.type = SL_BT_DATETIME2, .meta = 0};
    value_is(&dt0, &dt, "\x8C\xAF\x05\x7E\xFB", 5, "0999-01-02 23:59:59");
    sl_binlog_col_t old = {.type = SL_BT_DATETIME};
    value_is(&old, &dt, "\x3D\x4A\x48\x69\x6D\x12\x00\x00", 8, "2026-11-27 08:05:09");
    sl_binlog_col_t ts3 = {.type = SL_BT_TIMESTAMP2, .meta = 3};
    ts.scale = 3;
    value_is(&ts3, &ts, "\x69\x28\x06\x35\x04\xB0", 6, "2025-11-27 08:05:09.12+00");
}

static void test_integers(void **state)
{
    (void)state;
    sl_column_t col = {.name = "i", .type = SL_T_INT64};
    sl_binlog_col_t ll = {.type = SL_BT_LONGLONG};
    value_is(&ll, &col, "\x00\x00\x00\x00\x00\x00\x00\x80", 8, "-9223372036854775808");
    value_is(&ll, &col, "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F", 8, "9223372036854775807");
    value_is(&ll, &col, "\x00\x00\x00\x00\x00\x00\x00\x00", 8, "0");
    sl_binlog_col_t tiny = {.type = SL_BT_TINY};
    value_is(&tiny, &col, "\x80", 1, "-128");
    value_is(&tiny, &col, "\x0A", 1, "10");
    sl_binlog_col_t ul = {.type = SL_BT_LONG, .is_unsigned = true};
    value_is(&ul, &col, "\xFF\xFF\xFF\xFF", 4, "4294967295");
    sl_binlog_col_t ull = {.type = SL_BT_LONGLONG, .is_unsigned = true};
    value_is(&ull, &col, "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 8, "18446744073709551615");
    /* the binlog checksum: zlib's CRC-32 ("123456789" is the standard check value) */
    assert_int_equal(sl_binlog_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(sl_binlog_crc32(sl_binlog_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
}

static void test_charsets(void **state)
{
    (void)state;
    sl_column_t col = {.name = "c", .type = SL_T_TEXT};
    sl_binlog_col_t latin1 = {.type = SL_BT_VARCHAR, .meta = 20, .collation = 8};
    value_is(&latin1, &col, "\xFF\x80\x81", 3, "ÿ€\xC2\x81");
    sl_binlog_col_t utf16 = {.type = SL_BT_VARCHAR, .meta = 20, .collation = 54};
    value_is(&utf16, &col, "\xD8\x3D\xDE\x00", 4, "😀");
    sl_binlog_col_t chr = {.type = SL_BT_STRING, .meta = 40, .collation = 45};
    col.fixed = true;
    value_is(&chr, &col, "ab  ", 4, "ab");
    sl_column_t bin = {.name = "b", .type = SL_T_BYTES, .fixed = true, .length = 4};
    sl_binlog_col_t bn = {.type = SL_BT_STRING, .meta = 4, .collation = 63};
    value_is_n(&bn, &bin, "ab", 2, "ab\0\0", 4);
    sl_binlog_col_t sjis = {.type = SL_BT_VARCHAR, .meta = 20, .collation = 13};
    sl_binlog_cell_t cell = {.state = 2, .p = (const unsigned char *)"x", .len = 1};
    char out[64];
    size_t used = 0;
    sl_value_t v;
    sl_err_t err = {0};
    col.fixed = false;
    assert_int_equal(sl_binlog_value(&sjis, &col, &cell, out, sizeof out, &used, &v, &err), -1);
    assert_int_equal(err.code, SL_E_SCHEMA);
}

static void test_json(void **state)
{
    (void)state;
    static const unsigned char doc[] = {
        0x00, 0x02, 0x00, 0x2b, 0x00, 0x12, 0x00, 0x01, 0x00, 0x13, 0x00, 0x01, 0x00, 0x02, 0x14,
        0x00, 0x0b, 0x23, 0x00, 'a', 'b', 0x03, 0x00, 0x0f, 0x00, 0x05, 0x01, 0x00, 0x04, 0x01,
        0x00, 0x0c, 0x0d, 0x00, 0x01, 'x', 0, 0, 0, 0, 0, 0, 0xf8, 0x3f};
    char out[512];
    size_t n;
    sl_err_t err = {0};
    assert_int_equal(sl_binlog_json_text(doc, sizeof doc, out, sizeof out, &n, &err), 0);
    assert_int_equal(n, strlen("{\"a\": [1, true, \"x\"], \"b\": 1.5}"));
    assert_memory_equal(out, "{\"a\": [1, true, \"x\"], \"b\": 1.5}", n);
    /* every truncation fails cleanly */
    for (size_t len = 1; len < sizeof doc; len++) {
        int rc = sl_binlog_json_text(doc, len, out, sizeof out, &n, &err);
        if (rc)
            assert_int_equal(err.code, SL_E_PROTOCOL);
    }
    static const unsigned char dbl[] = {0x0b, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f};
    assert_int_equal(sl_binlog_json_text(dbl, sizeof dbl, out, sizeof out, &n, &err), 0);
    assert_memory_equal(out, "1.0", n);
}

/* ---- a real binlog ------------------------------------------------------------- */

static unsigned char *slurp(const char *name, size_t *n)
{
    char path[4096];
    corpus_path(name, path, sizeof path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)len + 1);
    *n = fread(buf, 1, (size_t)len, f);
    fclose(f);
    return buf;
}

/* Decodes the captured type-matrix binlog; checks positions, GTIDs, the table map's
 * optional metadata and values of the first inserted row. */
static void test_matrix(void **state)
{
    (void)state;
    size_t size;
    unsigned char *data = slurp("mariadb-10.11-matrix.bin", &size);
    assert_non_null(data);
    sl_binlog_fmt_t fmt;
    sl_binlog_fmt_init(&fmt, true, true);
    sl_binlog_tmap_t *tm = NULL;
    size_t pos = 1;
    uint32_t expect_pos = 4;
    int tmaps = 0, rows = 0, xids = 0, gtids = 0;
    bool checked = false;
    while (pos < size) {
        sl_binlog_event_t ev;
        sl_err_t err = {0};
        size_t len = (size_t)data[pos + 9] | (size_t)data[pos + 10] << 8 | (size_t)data[pos + 11] << 16;
        if (sl_binlog_event_decode(data + pos, len, &fmt, &ev, &err))
            fail_msg("%s", err.message);
        expect_pos += ev.size;
        assert_int_equal(ev.log_pos, expect_pos);
        gtids += ev.type == SL_BL_GTID_MARIADB;
        xids += ev.type == SL_BL_XID;
        if (ev.type == SL_BL_TABLE_MAP) {
            sl_binlog_tmap_free(tm);
            tm = NULL;
            assert_int_equal(sl_binlog_tmap_decode(&ev, &fmt, &tm, &err), 0);
            assert_true(sl_binlog_tmap_same(tm, &ev));
            sl_binlog_event_t other = ev;
            other.len--;
            assert_false(sl_binlog_tmap_same(tm, &other));
            assert_false(sl_binlog_tmap_same(NULL, &ev));
            tmaps++;
            if (!strcmp(tm->table, "m")) {
                assert_string_equal(tm->db, "bl");
                assert_true(tm->has_names && tm->has_signedness);
                assert_true(tm->cols[0].pk);
                assert_true(tm->cols[2].is_unsigned);  /* tu */
                assert_false(tm->cols[1].is_unsigned); /* ti */
            }
        }
        if (ev.type == SL_BL_WRITE_V1 && tm && !strcmp(tm->table, "m") && !checked) {
            sl_binlog_rows_t r;
            sl_binlog_cell_t after[64];
            assert_int_equal(sl_binlog_rows_decode(&ev, &fmt, &r, &err), 0);
            assert_int_equal(sl_binlog_rows_next(&r, tm, NULL, after, &err), 1);
            /* columns described as the load path describes them */
            static const struct {
                int i;
                sl_type_t type;
                const char *want;
            } cols[] = {
                {10, SL_T_UINT64, "18446744073709551615"},
                {12, SL_T_DECIMAL, "-12345678901234567890123456789012345.123456789012345678901234567890"},
                {17, SL_T_FLOAT64, "0.30000000000000004"},
                {16, SL_T_FLOAT32, "3.14159"},
                {23, SL_T_TIME, "-00:00:00.5"},
                {28, SL_T_TIMESTAMPTZ, "2038-01-19 03:14:07+00"},
                {31, SL_T_ENUM, "b'c"},
                {32, SL_T_SET, "x,z"},
                {33, SL_T_TEXT, "héllo😀"},
                {34, SL_T_TEXT, "ÀÉü"},
            };
            for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
                sl_binlog_col_t *bc = &tm->cols[cols[k].i];
                sl_column_t col = {.name = "c", .type = cols[k].type, .scale = (int)(bc->meta & 0xff),
                                   .precision = (int)(bc->meta >> 8), .fixed = bc->type == SL_BT_STRING};
                if (cols[k].type == SL_T_TIME || cols[k].type == SL_T_TIMESTAMPTZ)
                    col.scale = (int)bc->meta;
                assert_true(sl_binlog_type_fits(bc, &col));
                value_is(bc, &col, after[cols[k].i].p, after[cols[k].i].len, cols[k].want);
            }
            checked = true;
        }
        if (ev.type >= SL_BL_WRITE_V1 && ev.type <= SL_BL_DELETE_V1)
            rows++;
        pos += len;
    }
    assert_true(checked);
    assert_true(tmaps >= 8 && rows >= 8 && xids >= 8 && gtids >= 8);
    sl_binlog_tmap_free(tm);
    free(data);
}

/* Every prefix and every single-byte corruption of a table map or rows event fails
 * with an error (or decodes), never reads past its end (ASan watches). */
static void test_truncations(void **state)
{
    (void)state;
    size_t size;
    unsigned char *data = slurp("mariadb-tx00-I.bin", &size);
    assert_non_null(data);
    sl_binlog_fmt_t fmt;
    sl_binlog_fmt_init(&fmt, true, false);
    size_t pos = 1;
    while (pos + SL_BINLOG_HEADER <= size) {
        size_t len = (size_t)data[pos + 9] | (size_t)data[pos + 10] << 8;
        sl_binlog_event_t ev;
        sl_err_t err = {0};
        assert_int_equal(sl_binlog_event_decode(data + pos, len, &fmt, &ev, &err), 0);
        if (ev.type == SL_BL_TABLE_MAP) {
            for (size_t cut = SL_BINLOG_HEADER; cut < len; cut++) {
                unsigned char *copy = malloc(cut);
                memcpy(copy, data + pos, cut);
                copy[9] = (unsigned char)cut;
                copy[10] = (unsigned char)(cut >> 8);
                sl_binlog_event_t e2;
                sl_binlog_tmap_t *tm = NULL;
                sl_binlog_fmt_t f2 = fmt;
                f2.checksum = false;
                if (sl_binlog_event_decode(copy, cut, &f2, &e2, &err) == 0 &&
                    sl_binlog_tmap_decode(&e2, &f2, &tm, &err) == 0)
                    sl_binlog_tmap_free(tm);
                free(copy);
            }
        }
        pos += len;
    }
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_double_text), cmocka_unit_test(test_decimal),
        cmocka_unit_test(test_temporal),    cmocka_unit_test(test_integers),
        cmocka_unit_test(test_charsets),
        cmocka_unit_test(test_json),        cmocka_unit_test(test_matrix),
        cmocka_unit_test(test_truncations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
