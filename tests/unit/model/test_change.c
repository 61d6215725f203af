/*
 * test_change.c: the change batch codec (model/change.c): round trips with every op,
 * NULL vs empty vs unchanged values, limits, malformed input, LSN text, and spills:
 * the spill reference footer, the walk that numbers a streamed transaction's changes
 * and leaves out rolled-back ranges, and moving a batch's tail aside.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
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

/* A batch of n inserts with spill indexes 1..n (a streamed transaction's part). */
static void add_inserts(sl_cbatch_builder_t *b, uint64_t lsn, uint32_t first, uint32_t n)
{
    static sl_value_t row[1] = {{"r", 1}};
    sl_err_t err;
    for (uint32_t i = 0; i < n; i++) {
        sl_change_t c = {.op = SL_OP_INSERT, .pos = {lsn, first + i}, .ncols = 1, .row = row};
        assert_int_equal(sl_cbatch_add(b, &c, &err), 0);
    }
}

static void spill_footer(void **state)
{
    (void)state;
    sl_cbatch_builder_t b;
    sl_cbatch_builder_init(&b, 1000, 1 << 20);
    sl_cbatch_hdr_t h = {.epoch = 3, .lane = 0, .prev = {0x40, 2}};
    sl_cbatch_start(&b, &h);
    uint32_t ranges[] = {2, 3, 7, 7, 9, 12};
    sl_cspill_ref_t ref = {.id = 17, .first_seq = 123456789012ull, .nparts = 4, .nchanges = 12, .lsn = 0x5000010,
                           .nranges = 3};
    sl_cbatch_set_spilled(&b, &ref, ranges);
    add_inserts(&b, 0x5000100, 1, 2); /* own changes after the spill's */
    const char *data;
    size_t len;
    sl_cbatch_finish(&b, &data, &len);
    sl_cbatch_view_t v;
    sl_err_t err;
    assert_int_equal(sl_cbatch_decode(data, len, &v, &err), 0);
    assert_true(v.hdr.flags & SL_CBATCH_SPILLED);
    assert_int_equal(v.ref.id, 17);
    assert_true(v.ref.first_seq == 123456789012ull);
    assert_int_equal(v.ref.nparts, 4);
    assert_int_equal(v.ref.nchanges, 12);
    assert_true(v.ref.lsn == 0x5000010);
    assert_int_equal(v.ref.nranges, 3);
    size_t at = 0;
    uint32_t from, to;
    for (int i = 0; i < 3; i++) {
        assert_true(sl_cspill_range(&v.ref, &at, &from, &to));
        assert_int_equal(from, ranges[2 * i]);
        assert_int_equal(to, ranges[2 * i + 1]);
    }
    assert_false(sl_cspill_range(&v.ref, &at, &from, &to));
    /* the own changes are read as usual, and end where the footer begins */
    sl_value_t r[1], o[1];
    sl_change_t c;
    assert_int_equal(sl_cbatch_next(&v, &c, r, o, 1, &err), 1);
    assert_int_equal(sl_cbatch_next(&v, &c, r, o, 1, &err), 1);
    assert_int_equal(c.pos.idx, 2);
    assert_int_equal(sl_cbatch_next(&v, &c, r, o, 1, &err), 0);

    /* every truncation, and a footer whose ranges overlap or pass nchanges, fail */
    for (size_t cut = 0; cut < len; cut++) {
        if (sl_cbatch_decode(data, cut, &v, &err))
            continue;
        int rc;
        while ((rc = sl_cbatch_next(&v, &c, r, o, 1, &err)) == 1)
            ;
        assert_int_equal(rc, -1);
    }
    uint32_t bad[][4] = {{3, 5, 4, 6}, {3, 5, 5, 6}, {1, 13, 0, 0}, {0, 1, 0, 0}, {5, 4, 0, 0}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sl_cbatch_start(&b, &h);
        sl_cspill_ref_t r2 = ref;
        r2.nranges = bad[i][2] ? 2 : 1;
        sl_cbatch_set_spilled(&b, &r2, bad[i]);
        sl_cbatch_finish(&b, &data, &len);
        assert_int_equal(sl_cbatch_decode(data, len, &v, &err), -1);
        assert_int_equal(err.code, SL_E_PROTOCOL);
    }
    /* the footer counts against the batch's size */
    sl_cbatch_builder_t small;
    sl_cbatch_builder_init(&small, 1000, 200);
    sl_cbatch_start(&small, &h);
    add_inserts(&small, 1, 1, 1);
    sl_change_t one = {.op = SL_OP_INSERT, .pos = {1, 2}, .ncols = 1, .row = r};
    r[0] = (sl_value_t){"r", 1};
    assert_false(sl_cbatch_would_overflow(&small, sl_cbatch_change_size(&one)));
    sl_cbatch_set_spilled(&small, &ref, ranges);
    assert_true(sl_cbatch_would_overflow(&small, sl_cbatch_change_size(&one)));
    sl_cbatch_builder_free(&small);
    sl_cbatch_builder_free(&b);
}

/* Decodes part v and runs its changes through cur, appending "idx>pos " or "idx- ". */
static void walk(sl_cspill_cursor_t *cur, const char *data, size_t len, char *out, size_t size)
{
    sl_cbatch_view_t v;
    sl_err_t err;
    assert_int_equal(sl_cbatch_decode(data, len, &v, &err), 0);
    sl_value_t r[1], o[1];
    sl_change_t c;
    while (sl_cbatch_next(&v, &c, r, o, 1, &err) == 1) {
        uint32_t idx = c.pos.idx;
        int k = sl_cspill_keep(cur, &c);
        size_t n = strlen(out);
        if (k == 1)
            snprintf(out + n, size - n, "%u>%u ", idx, c.pos.idx);
        else
            snprintf(out + n, size - n, "%u%s ", idx, k == 0 ? "-" : "!");
    }
}

static void spill_cursor(void **state)
{
    (void)state;
    /* a streamed transaction of 10 changes in two parts; 2-3 and 6-8 rolled back */
    sl_cbatch_builder_t b;
    sl_cbatch_builder_init(&b, 1000, 1 << 20);
    sl_cbatch_hdr_t h = {.flags = SL_CBATCH_SPILL};
    sl_cbatch_start(&b, &h);
    add_inserts(&b, 0, 1, 5);
    const char *data;
    size_t len;
    sl_cbatch_finish(&b, &data, &len);
    char *p1 = malloc(len);
    memcpy(p1, data, len);
    size_t l1 = len;
    sl_cbatch_start(&b, &h);
    add_inserts(&b, 0, 6, 5);
    sl_cbatch_finish(&b, &data, &len);

    /* the reference as a lane batch carries it */
    sl_cbatch_builder_t m;
    sl_cbatch_builder_init(&m, 1000, 1 << 20);
    sl_cbatch_hdr_t mh = {0};
    sl_cbatch_start(&m, &mh);
    uint32_t ranges[] = {2, 3, 6, 8};
    sl_cspill_ref_t ref = {.id = 1, .nparts = 2, .nchanges = 10, .lsn = 0x900, .nranges = 2};
    sl_cbatch_set_spilled(&m, &ref, ranges);
    const char *md;
    size_t ml;
    sl_cbatch_finish(&m, &md, &ml);
    sl_cbatch_view_t mv;
    sl_err_t err;
    assert_int_equal(sl_cbatch_decode(md, ml, &mv, &err), 0);

    sl_cspill_cursor_t cur;
    sl_cspill_cursor_init(&cur, &mv.ref);
    char out[256] = "";
    walk(&cur, p1, l1, out, sizeof out);
    walk(&cur, data, len, out, sizeof out);
    assert_string_equal(out, "1>1 2- 3- 4>2 5>3 6- 7- 8- 9>4 10>5 ");
    assert_int_equal(cur.kept, 5);
    /* the same part twice is out of order, and so is anything past nchanges */
    out[0] = '\0';
    walk(&cur, data, len, out, sizeof out);
    assert_string_equal(out, "6! 7! 8! 9! 10! ");
    sl_cspill_cursor_init(&cur, &mv.ref);
    out[0] = '\0';
    walk(&cur, data, len, out, sizeof out);
    assert_string_equal(out, "6! 7! 8! 9! 10! ");

    /* a transaction sent whole keeps its positions */
    sl_cspill_ref_t whole = {.id = 2, .nparts = 1, .nchanges = 5};
    sl_cspill_cursor_init(&cur, &whole);
    sl_cbatch_start(&b, &h);
    add_inserts(&b, 0x777, 1, 5);
    sl_cbatch_finish(&b, &data, &len);
    out[0] = '\0';
    walk(&cur, data, len, out, sizeof out);
    assert_string_equal(out, "1>1 2>2 3>3 4>4 5>5 ");
    free(p1);
    sl_cbatch_builder_free(&m);
    sl_cbatch_builder_free(&b);
}

static void split_append(void **state)
{
    (void)state;
    sl_cbatch_builder_t b;
    sl_cbatch_builder_init(&b, 1000, 1 << 20);
    sl_cbatch_hdr_t h = {.epoch = 1, .prev = {0x10, 0}};
    sl_cbatch_start(&b, &h);
    add_inserts(&b, 0x20, 1, 3); /* a transaction that ended */
    sl_cbatch_mark_t mk = sl_cbatch_mark(&b);
    assert_int_equal(mk.n, 3);
    assert_int_equal(mk.last.idx, 3);
    add_inserts(&b, 0x30, 1, 4); /* the open one's share */
    sl_buf_t tail;
    sl_buf_init(&tail, 1 << 20);
    uint32_t n;
    sl_pos_t last;
    sl_err_t err;
    assert_int_equal(sl_cbatch_split(&b, mk, &tail, &n, &last, &err), 0);
    assert_int_equal(n, 4);
    assert_true(last.lsn == 0x30 && last.idx == 4);
    assert_int_equal(b.hdr.nchanges, 3);
    assert_true(b.hdr.last.lsn == 0x20);
    const char *data;
    size_t len;
    sl_cbatch_finish(&b, &data, &len);
    sl_cbatch_view_t v;
    assert_int_equal(sl_cbatch_decode(data, len, &v, &err), 0);
    sl_value_t r[1], o[1];
    sl_change_t c;
    int k = 0;
    while (sl_cbatch_next(&v, &c, r, o, 1, &err) == 1)
        k++;
    assert_int_equal(k, 3);
    /* the tail goes on in a fresh batch */
    h.prev = (sl_pos_t){0x20, 3};
    sl_cbatch_start(&b, &h);
    assert_int_equal(sl_cbatch_append(&b, &tail, n, last, &err), 0);
    sl_cbatch_finish(&b, &data, &len);
    assert_int_equal(sl_cbatch_decode(data, len, &v, &err), 0);
    assert_int_equal(v.hdr.nchanges, 4);
    assert_true(v.hdr.last.lsn == 0x30 && v.hdr.last.idx == 4);
    for (uint32_t i = 1; i <= 4; i++) {
        assert_int_equal(sl_cbatch_next(&v, &c, r, o, 1, &err), 1);
        assert_true(c.pos.lsn == 0x30 && c.pos.idx == i);
    }
    assert_int_equal(sl_cbatch_next(&v, &c, r, o, 1, &err), 0);
    /* a mark outside the batch is refused */
    mk.n = 99;
    assert_int_equal(sl_cbatch_split(&b, mk, &tail, &n, &last, &err), -1);
    sl_buf_free(&tail);
    sl_cbatch_builder_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(limits),
        cmocka_unit_test(lsn_text),
        cmocka_unit_test(spill_footer),
        cmocka_unit_test(spill_cursor),
        cmocka_unit_test(split_append),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
