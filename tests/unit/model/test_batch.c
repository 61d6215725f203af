/*
 * test_batch.c: the bus batch codec: round trips, limits, and malformed input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "model/batch.h"

static void round_trip(void **state)
{
    (void)state;
    sl_batch_builder_t b;
    sl_batch_builder_init(&b, 100, 1 << 20);
    sl_batch_hdr_t h = {.flags = SL_BATCH_FIRST, .epoch = 7, .stripe = 3, .seq = 1, .table = 2, .ncols = 3};
    sl_batch_start(&b, &h);
    char big[300];
    memset(big, 'x', sizeof big);
    sl_value_t r1[3] = {{"1", 1}, {NULL, -1}, {"", 0}};
    sl_value_t r2[3] = {{"2", 1}, {big, sizeof big}, {"a\0b", 3}};
    sl_err_t err;
    assert_int_equal(sl_batch_add_row(&b, r1, 3, &err), 0);
    assert_int_equal(sl_batch_add_row(&b, r2, 3, &err), 0);
    const char *data;
    size_t len;
    assert_int_equal(sl_batch_finish(&b, "[\"2\"]", &data, &len, &err), 0);

    sl_batch_view_t v;
    assert_int_equal(sl_batch_decode(data, len, &v, &err), 0);
    assert_int_equal(v.hdr.epoch, 7);
    assert_int_equal(v.hdr.stripe, 3);
    assert_int_equal(v.hdr.seq, 1);
    assert_int_equal(v.hdr.table, 2);
    assert_int_equal(v.hdr.nrows, 2);
    assert_int_equal(v.hdr.flags, SL_BATCH_FIRST);
    assert_int_equal(v.last_key_len, 5);
    assert_memory_equal(v.last_key, "[\"2\"]", 5);
    sl_value_t out[3];
    assert_int_equal(sl_batch_next_row(&v, out, &err), 1);
    assert_int_equal(out[0].len, 1);
    assert_memory_equal(out[0].p, "1", 1);
    assert_true(out[1].len < 0);             /* NULL */
    assert_int_equal(out[2].len, 0);         /* empty string is not NULL */
    assert_int_equal(sl_batch_next_row(&v, out, &err), 1);
    assert_int_equal(out[1].len, 300);
    assert_memory_equal(out[1].p, big, 300);
    assert_int_equal(out[2].len, 3);
    assert_memory_equal(out[2].p, "a\0b", 3); /* embedded NUL survives */
    assert_int_equal(sl_batch_next_row(&v, out, &err), 0);
    assert_int_equal(sl_batch_row_at(&v, 0, out, &err), 1);
    assert_memory_equal(out[0].p, "1", 1);
    sl_batch_builder_free(&b);
}

static void bounded_by_rows_and_bytes(void **state)
{
    (void)state;
    sl_batch_builder_t b;
    sl_batch_builder_init(&b, 2, 200);
    sl_batch_hdr_t h = {.ncols = 1};
    sl_batch_start(&b, &h);
    sl_err_t err;
    sl_value_t r[1] = {{"abc", 3}};
    assert_false(sl_batch_full(&b));
    assert_int_equal(sl_batch_add_row(&b, r, 1, &err), 0);
    assert_int_equal(sl_batch_add_row(&b, r, 1, &err), 0);
    assert_true(sl_batch_full(&b)); /* 2 rows */
    char big[400];
    memset(big, 'y', sizeof big);
    sl_value_t huge[1] = {{big, sizeof big}};
    assert_true(sl_batch_would_overflow(&b, sl_batch_row_size(huge, 1)));
    sl_batch_start(&b, &h);
    assert_int_equal(sl_batch_add_row(&b, huge, 1, &err), -1); /* larger than a batch */
    assert_int_equal(err.code, SL_E_LIMIT);
    sl_batch_builder_free(&b);
}

static void rejects_malformed(void **state)
{
    (void)state;
    sl_batch_builder_t b;
    sl_batch_builder_init(&b, 10, 4096);
    sl_batch_hdr_t h = {.ncols = 2};
    sl_batch_start(&b, &h);
    sl_err_t err;
    sl_value_t r[2] = {{"hello", 5}, {"world", 5}};
    sl_batch_add_row(&b, r, 2, &err);
    const char *data;
    size_t len;
    sl_batch_finish(&b, NULL, &data, &len, &err);
    sl_batch_view_t v;
    unsigned char copy[256];
    memcpy(copy, data, len);
    /* every truncation is an error, never a crash */
    for (size_t n = 0; n < len; n++)
        assert_int_equal(sl_batch_decode(copy, n, &v, &err), -1);
    /* a value length that overruns the row */
    copy[SL_BATCH_HDR] = 0x7f;
    assert_int_equal(sl_batch_decode(copy, len, &v, &err), 0);
    sl_value_t out[2];
    assert_int_equal(sl_batch_next_row(&v, out, &err), -1);
    assert_int_equal(err.code, SL_E_PROTOCOL);
    /* bad magic */
    memcpy(copy, data, len);
    copy[0] = 'X';
    assert_int_equal(sl_batch_decode(copy, len, &v, &err), -1);
    /* more rows than the row bytes can hold (each value takes a byte at least) */
    memcpy(copy, data, len);
    copy[32] = 3; /* nrows 3 of 2 columns in 12 bytes: fine to decode, short of rows */
    assert_int_equal(sl_batch_decode(copy, len, &v, &err), 0);
    copy[32] = 7; /* 14 values in 12 bytes */
    assert_int_equal(sl_batch_decode(copy, len, &v, &err), -1);
    assert_int_equal(err.code, SL_E_PROTOCOL);
    /* rows of no columns: four billion of them in 48 bytes were a loop of minutes */
    sl_batch_hdr_t h0 = {.ncols = 0};
    sl_batch_start(&b, &h0);
    sl_batch_finish(&b, NULL, &data, &len, &err);
    memcpy(copy, data, len);
    memset(copy + 32, 0xff, 4);
    assert_int_equal(sl_batch_decode(copy, len, &v, &err), -1);
    assert_int_equal(err.code, SL_E_PROTOCOL);
    sl_batch_builder_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(bounded_by_rows_and_bytes),
        cmocka_unit_test(rejects_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
