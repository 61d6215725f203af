/*
 * test_change.c: the change batch codec (model/change.c): round trips with every op,
 * NULL vs empty vs unchanged values, limits, malformed input, and LSN text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "model/change.h"

static void round_trip(void **state)
{
    (void)state;
    sl_cbatch_builder_t b;
    sl_cbatch_builder_init(&b, 100, 1 << 20);
    sl_cbatch_hdr_t h = {.flags = SL_CBATCH_FIRST, .epoch = 9, .lane = 2, .prev = {0x10, 0}, .flush = 0x55};
    sl_cbatch_start(&b, &h);
    sl_value_t row[3] = {{"7", 1}, {"", 0}, {NULL, -1}};
    sl_value_t row2[3] = {{"8", 1}, {NULL, SL_VALUE_UNCHANGED}, {"a\0b", 3}};
    sl_value_t old[3] = {{"7", 1}, {NULL, -1}, {NULL, -1}};
    sl_err_t err;
    sl_change_t in[4] = {
        {.op = SL_OP_INSERT, .table = 1, .pos = {0x20, 1}, .commit_us = 123456789, .ncols = 3, .row = row},
        {.op = SL_OP_UPDATE, .table = 1, .pos = {0x20, 2}, .commit_us = 123456789, .ncols = 3, .row = row2, .old = old},
        {.op = SL_OP_DELETE, .table = 1, .pos = {0x20, 3}, .ncols = 3, .old = old},
        {.op = SL_OP_TRUNCATE, .table = 0, .pos = {0x30, 1}},
    };
    for (int i = 0; i < 4; i++)
        assert_int_equal(sl_cbatch_add(&b, &in[i], &err), 0);
    const char *data;
    size_t len;
    sl_cbatch_finish(&b, &data, &len);

    sl_cbatch_view_t v;
    assert_int_equal(sl_cbatch_decode(data, len, &v, &err), 0);
    assert_int_equal(v.hdr.flags, SL_CBATCH_FIRST);
    assert_int_equal(v.hdr.epoch, 9);
    assert_int_equal(v.hdr.lane, 2);
    assert_int_equal(v.hdr.nchanges, 4);
    assert_int_equal(v.hdr.prev.lsn, 0x10);
    assert_int_equal(v.hdr.last.lsn, 0x30);
    assert_int_equal(v.hdr.last.idx, 1);
    assert_int_equal(v.hdr.flush, 0x55);
    sl_value_t r[3], o[3];
    sl_change_t c;
    assert_int_equal(sl_cbatch_next(&v, &c, r, o, 3, &err), 1);
    assert_int_equal(c.op, SL_OP_INSERT);
    assert_int_equal(c.commit_us, 123456789);
    assert_null(c.old);
    assert_int_equal(c.row[1].len, 0);
    assert_int_equal(c.row[2].len, -1);
    assert_int_equal(sl_cbatch_next(&v, &c, r, o, 3, &err), 1);
    assert_int_equal(c.op, SL_OP_UPDATE);
    assert_int_equal(c.row[1].len, SL_VALUE_UNCHANGED);
    assert_int_equal(c.row[2].len, 3);
    assert_memory_equal(c.row[2].p, "a\0b", 3);
    assert_non_null(c.old);
    assert_memory_equal(c.old[0].p, "7", 1);
    assert_int_equal(sl_cbatch_next(&v, &c, r, o, 3, &err), 1);
    assert_int_equal(c.op, SL_OP_DELETE);
    assert_null(c.row);
    assert_int_equal(sl_cbatch_next(&v, &c, r, o, 3, &err), 1);
    assert_int_equal(c.op, SL_OP_TRUNCATE);
    assert_int_equal(c.ncols, 0);
    assert_int_equal(sl_cbatch_next(&v, &c, r, o, 3, &err), 0);
    /* more columns than the caller has room for is an error, not an overflow */
    sl_cbatch_rewind(&v);
    assert_int_equal(sl_cbatch_next(&v, &c, r, o, 2, &err), -1);
    assert_int_equal(err.code, SL_E_PROTOCOL);

    /* every truncation is an error, never a crash */
    for (size_t cut = 0; cut < len; cut++) {
        if (sl_cbatch_decode(data, cut, &v, &err))
            continue;
        int rc;
        while ((rc = sl_cbatch_next(&v, &c, r, o, 3, &err)) == 1)
            ;
        assert_int_equal(rc, -1);
    }
    sl_cbatch_builder_free(&b);
}

static void limits(void **state)
{
    (void)state;
    sl_cbatch_builder_t b;
    sl_cbatch_builder_init(&b, 2, 4096);
    sl_cbatch_hdr_t h = {0};
    sl_cbatch_start(&b, &h);
    sl_value_t row[1] = {{"x", 1}};
    sl_change_t c = {.op = SL_OP_INSERT, .pos = {1, 1}, .ncols = 1, .row = row};
    sl_err_t err;
    assert_false(sl_cbatch_would_overflow(&b, sl_cbatch_change_size(&c)));
    assert_int_equal(sl_cbatch_add(&b, &c, &err), 0);
    c.pos.idx = 2;
    assert_int_equal(sl_cbatch_add(&b, &c, &err), 0);
    assert_true(sl_cbatch_would_overflow(&b, sl_cbatch_change_size(&c))); /* 2 changes max */
    /* a change larger than the hard maximum fails cleanly */
    static char big[200000];
    sl_value_t brow[1] = {{big, sizeof big}};
    sl_cbatch_start(&b, &h);
    c.row = brow;
    assert_int_equal(sl_cbatch_add(&b, &c, &err), -1);
    assert_int_equal(err.code, SL_E_LIMIT);
    assert_int_equal(b.hdr.nchanges, 0);
    sl_cbatch_builder_free(&b);
}

static void lsn_text(void **state)
{
    (void)state;
    char buf[32];
    sl_lsn_format(0x16B3748, buf, sizeof buf);
    assert_string_equal(buf, "0/16B3748");
    sl_lsn_format(0xA00000000ull | 0xFF, buf, sizeof buf);
    assert_string_equal(buf, "A/FF");
    uint64_t l;
    assert_int_equal(sl_lsn_parse("A/FF", &l), 0);
    assert_true(l == (0xA00000000ull | 0xFF));
    assert_int_equal(sl_lsn_parse("0/16b3748", &l), 0);
    assert_true(l == 0x16B3748);
    assert_int_equal(sl_lsn_parse("16B3748", &l), -1);
    assert_int_equal(sl_lsn_parse("0/1 ", &l), -1);
    assert_int_equal(sl_lsn_parse(NULL, &l), -1);
    sl_pos_t a = {5, 1}, b2 = {5, 2}, c = {6, 0};
    assert_true(sl_pos_cmp(a, b2) < 0);
    assert_true(sl_pos_cmp(b2, c) < 0);
    assert_true(sl_pos_cmp(c, c) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(limits),
        cmocka_unit_test(lsn_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
