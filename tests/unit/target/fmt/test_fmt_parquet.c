/*
 * test_fmt_parquet.c: the pieces of the Parquet writer that a reader would not pinpoint:
 * canonical text parsing (dates, times, timestamps with offsets, decimals, uuids), the
 * RLE/bit-packed hybrid encoder against the example of the Parquet format's encodings page
 * (https://github.com/apache/parquet-format/blob/master/Encodings.md), Thrift compact field
 * headers, refused values (infinite dates, NaN decimals, MySQL durations, overflowing
 * precision) with their hints, a refused row leaving the file unchanged, and the file's
 * frame ("PAR1" at both ends, footer length). The values themselves are read back by
 * DuckDB and hyparquet in tests/files/fmt_prop.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "target/fmt/parquet_int.h"

static void parse_dates_and_times(void **state)
{
    (void)state;
    int32_t d;
    int inf;
    assert_int_equal(sl_fmtv_date("1970-01-01", 10, &d, &inf), 0);
    assert_int_equal(d, 0);
    assert_int_equal(sl_fmtv_date("0001-01-01", 10, &d, &inf), 0);
    assert_int_equal(d, -719162);
    assert_int_equal(sl_fmtv_date("9999-12-31", 10, &d, &inf), 0);
    assert_int_equal(d, 2932896);
    assert_int_equal(sl_fmtv_date("2000-02-29", 10, &d, &inf), 0);
    assert_int_equal(sl_fmtv_date("1900-02-29", 10, &d, &inf), -1);
    assert_int_equal(sl_fmtv_date("2021-13-01", 10, &d, &inf), -1);
    assert_int_equal(sl_fmtv_date("infinity", 8, &d, &inf), 0);
    assert_int_equal(inf, 1);
    assert_int_equal(sl_fmtv_date("-infinity", 9, &d, &inf), 0);
    assert_int_equal(inf, -1);

    int64_t us;
    assert_int_equal(sl_fmtv_time("23:59:59.999999", 15, &us), 0);
    assert_int_equal(us, INT64_C(86399999999));
    assert_int_equal(sl_fmtv_time("12:00:00.5", 10, &us), 0);
    assert_int_equal(us, INT64_C(43200500000));
    assert_int_equal(sl_fmtv_time("24:00:00", 8, &us), 0);
    assert_int_equal(sl_fmtv_time("24:00:01", 8, &us), -1);
    assert_int_equal(sl_fmtv_time("-01:00:00", 9, &us), -1);
    assert_int_equal(sl_fmtv_time("838:59:59", 9, &us), -1);
    assert_int_equal(sl_fmtv_time("12:00:00.1234567", 16, &us), -1);

    assert_int_equal(sl_fmtv_timestamp("1970-01-01 00:00:01.000001", 26, &us, &inf), 0);
    assert_int_equal(us, 1000001);
    assert_int_equal(sl_fmtv_timestamp("1970-01-01 00:00:00+00", 22, &us, &inf), 0);
    assert_int_equal(us, 0);
    assert_int_equal(sl_fmtv_timestamp("1970-01-01 02:00:00+02", 22, &us, &inf), 0);
    assert_int_equal(us, 0);
    assert_int_equal(sl_fmtv_timestamp("1969-12-31 19:30:00-04:30", 25, &us, &inf), 0);
    assert_int_equal(us, 0);
    assert_int_equal(sl_fmtv_timestamp("1969-12-31 23:59:59.5", 21, &us, &inf), 0);
    assert_int_equal(us, -500000);
    assert_int_equal(sl_fmtv_timestamp("2020-01-01T00:00:00Z", 20, &us, &inf), 0);
    assert_int_equal(sl_fmtv_timestamp("2020-01-01 00:00", 16, &us, &inf), -1);
}

static void parse_numbers(void **state)
{
    (void)state;
    __int128 x;
    assert_int_equal(sl_fmtv_decimal("-123.4500", 9, 4, &x), 0);
    assert_true(x == -1234500);
    assert_int_equal(sl_fmtv_decimal("5", 1, 3, &x), 0);
    assert_true(x == 5000);
    assert_int_equal(sl_fmtv_decimal("0.05", 4, 2, &x), 0);
    assert_true(x == 5);
    assert_int_equal(sl_fmtv_decimal("1.050", 5, 2, &x), 0); /* trailing zeros may go */
    assert_true(x == 105);
    assert_int_equal(sl_fmtv_decimal("1.055", 5, 2, &x), -1); /* no silent rounding */
    assert_int_equal(sl_fmtv_decimal("NaN", 3, 2, &x), -1);
    assert_int_equal(sl_fmtv_decimal("1e5", 3, 0, &x), -1);
    assert_int_equal(sl_fmtv_decimal("99999999999999999999999999999999999999", 38, 0, &x), 0);
    assert_int_equal(sl_fmtv_decimal("999999999999999999999999999999999999999", 39, 0, &x), -1);

    int64_t i;
    uint64_t u;
    assert_int_equal(sl_fmtv_i64("-9223372036854775808", 20, &i), 0);
    assert_true(i == INT64_MIN);
    assert_int_equal(sl_fmtv_i64("9223372036854775808", 19, &i), -1);
    assert_int_equal(sl_fmtv_u64("18446744073709551615", 20, &u), 0);
    assert_true(u == UINT64_MAX);
    assert_int_equal(sl_fmtv_u64("18446744073709551616", 20, &u), -1);
    assert_int_equal(sl_fmtv_u64("-1", 2, &u), -1);
    double f;
    assert_int_equal(sl_fmtv_f64("1e+300", 6, &f), 0);
    assert_int_equal(sl_fmtv_f64("inf", 3, &f), -1);
    assert_int_equal(sl_fmtv_f64("1e999", 5, &f), -1);
    uint8_t id[16];
    assert_int_equal(sl_fmtv_uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 36, id), 0);
    assert_int_equal(id[0], 0xa0);
    assert_int_equal(id[15], 0x11);
    assert_int_equal(sl_fmtv_uuid("a0eebc999c0b4ef8bb6d6bb9bd380a11", 32, id), -1);
}

static void rle_hybrid(void **state)
{
    (void)state;
    sl_buf_t b;
    sl_buf_init(&b, 1 << 20);
    /* the Parquet format's example: 0..7 bit-packed at width 3 is 10001000 11000110 11111010 */
    uint32_t v[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    assert_int_equal(sl_rle_encode(&b, v, 8, 3, NULL), 0);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "\x03\x88\xc6\xfa", 4);
    /* 100 equal values: one RLE run, header 100<<1 as a varint, value in 1 byte */
    uint32_t r[100];
    for (int i = 0; i < 100; i++)
        r[i] = 5;
    sl_buf_reset(&b);
    assert_int_equal(sl_rle_encode(&b, r, 100, 3, NULL), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "\xc8\x01\x05", 3);
    /* 3 literals then a run: the run gives 5 values to complete a group of 8 */
    uint32_t m[3 + 20] = {1, 0, 1};
    sl_buf_reset(&b);
    assert_int_equal(sl_rle_encode(&b, m, 23, 1, NULL), 0);
    assert_int_equal(b.len, 4); /* packed header + 1 byte, run header + 1 byte */
    assert_memory_equal(b.data, "\x03\x05\x1e\x00", 4);
    /* levels: 0/1 bytes at width 1, a padded last group */
    uint8_t lv[3] = {1, 1, 0};
    sl_buf_reset(&b);
    assert_int_equal(sl_rle_encode_bits(&b, lv, 3, NULL), 0);
    assert_memory_equal(b.data, "\x03\x03", 2);
    assert_int_equal(sl_rle_width(0), 1);
    assert_int_equal(sl_rle_width(1), 1);
    assert_int_equal(sl_rle_width(2), 2);
    assert_int_equal(sl_rle_width(255), 8);
    assert_int_equal(sl_rle_width(256), 9);
    sl_buf_free(&b);
}

static void thrift_compact(void **state)
{
    (void)state;
    sl_buf_t b;
    sl_buf_init(&b, 1 << 20);
    sl_tw_t w;
    sl_tw_init(&w, &b, NULL);
    sl_tw_i32(&w, 1, -1);     /* delta 1, type 5: 0x15; zigzag(-1) = 1 */
    sl_tw_i64(&w, 20, 300);   /* delta 19 > 15: long form 0x06, zigzag(20) = 40, 600 */
    sl_tw_bool(&w, 21, true); /* delta 1, true: 0x11 */
    sl_tw_struct(&w, 22);     /* 0x1c, then a nested struct with its own ids */
    sl_tw_bin(&w, 1, "ab", 2); /* 0x18 0x02 'a' 'b' */
    sl_tw_end(&w);            /* 0x00 */
    sl_tw_list(&w, 23, TC_I32, 2); /* 0x19 0x25 */
    sl_tw_raw_i32(&w, 1);
    sl_tw_raw_i32(&w, -2);
    assert_int_equal(sl_tw_done(&w), 0);
    assert_int_equal(b.len, 18);
    assert_memory_equal(b.data, "\x15\x01\x06\x28\xd8\x04\x11\x1c\x18\x02" "ab" "\x00\x19\x25\x02\x03\x00",
                        18);
    sl_buf_free(&b);
}

static int mem_write(void *ctx, const void *p, size_t n, sl_err_t *err)
{
    return sl_buf_add(ctx, p, n, err);
}

#define V(s) {s, (int64_t)sizeof(s) - 1}

/* Writes one value into a one-column Parquet file; returns write_row's status. */
static int write_one(sl_column_t col, sl_value_t v, sl_err_t *err)
{
    sl_table_t t = {.name = "t", .columns = &col, .ncolumns = 1};
    sl_fmt_opts_t o;
    sl_fmt_opts_default(&o);
    sl_buf_t out;
    sl_buf_init(&out, 1 << 20);
    sl_fmt_enc_t *enc;
    assert_int_equal(sl_fmt_parquet_ops.open(&t, &o, (sl_fmt_sink_t){mem_write, &out}, &enc, err), 0);
    int rc = sl_fmt_parquet_ops.write_row(enc, &v, err);
    sl_fmt_parquet_ops.free(enc);
    sl_buf_free(&out);
    return rc;
}

static void refused_values(void **state)
{
    (void)state;
    sl_err_t err;
    sl_column_t date = {.name = "d", .type = SL_T_DATE};
    assert_int_equal(write_one(date, (sl_value_t)V("infinity"), &err), -1);
    assert_int_equal(err.code, SL_E_DATA);
    assert_non_null(strstr(err.message, "\"d\""));
    assert_non_null(strstr(err.detail, "infinite"));
    assert_true(err.hint[0]);
    sl_column_t ts = {.name = "ts", .type = SL_T_TIMESTAMPTZ};
    assert_int_equal(write_one(ts, (sl_value_t)V("-infinity"), &err), -1);
    assert_int_equal(err.code, SL_E_DATA);
    assert_int_equal(write_one(ts, (sl_value_t)V("2020-01-01 00:00:00+00"), &err), 0);
    sl_column_t tm = {.name = "tm", .type = SL_T_TIME};
    assert_int_equal(write_one(tm, (sl_value_t)V("-838:59:59"), &err), -1);
    assert_true(err.hint[0]);
    sl_column_t dec = {.name = "n", .type = SL_T_DECIMAL, .precision = 5, .scale = 2};
    assert_int_equal(write_one(dec, (sl_value_t)V("NaN"), &err), -1);
    assert_non_null(strstr(err.detail, "NaN"));
    assert_int_equal(write_one(dec, (sl_value_t)V("999.99"), &err), 0);
    assert_int_equal(write_one(dec, (sl_value_t)V("1000.00"), &err), -1);
    assert_non_null(strstr(err.detail, "precision"));
    sl_column_t free_dec = {.name = "n", .type = SL_T_DECIMAL}; /* unconstrained: a string */
    assert_int_equal(write_one(free_dec, (sl_value_t)V("NaN"), &err), 0);
    sl_column_t i16 = {.name = "s", .type = SL_T_INT16};
    assert_int_equal(write_one(i16, (sl_value_t)V("32768"), &err), -1);
    sl_column_t u = {.name = "u", .type = SL_T_UUID};
    assert_int_equal(write_one(u, (sl_value_t)V("not-a-uuid"), &err), -1);
}

static void type_mapping(void **state)
{
    (void)state;
    pq_type_t pt;
    sl_column_t c = {.type = SL_T_DECIMAL, .precision = 9, .scale = 2};
    sl_pq_type(&c, &pt);
    assert_int_equal(pt.ptype, PT_INT32);
    c.precision = 18;
    sl_pq_type(&c, &pt);
    assert_int_equal(pt.ptype, PT_INT64);
    c.precision = 19;
    sl_pq_type(&c, &pt);
    assert_int_equal(pt.ptype, PT_FLBA);
    assert_int_equal(pt.type_len, 9);
    c.precision = 38;
    sl_pq_type(&c, &pt);
    assert_int_equal(pt.type_len, 16);
    c.precision = 39;
    sl_pq_type(&c, &pt);
    assert_int_equal(pt.kind, PK_STRING);
    c.precision = 0;
    sl_pq_type(&c, &pt);
    assert_int_equal(pt.kind, PK_STRING);
    c = (sl_column_t){.type = SL_T_UINT64};
    sl_pq_type(&c, &pt);
    assert_int_equal(pt.order, PO_UNSIGNED);
    c = (sl_column_t){.type = SL_T_INTERVAL};
    sl_pq_type(&c, &pt);
    assert_int_equal(pt.kind, PK_STRING);
}

static void file_frame(void **state)
{
    (void)state;
    sl_column_t cols[2] = {{.name = "id", .type = SL_T_INT64}, {.name = "d", .type = SL_T_DATE}};
    sl_table_t t = {.name = "t", .columns = cols, .ncolumns = 2};
    sl_fmt_opts_t o;
    sl_fmt_opts_default(&o);
    o.codec = SL_CODEC_SNAPPY;
    o.row_group_bytes = 1000; /* several row groups */
    sl_buf_t a, b;
    sl_buf_init(&a, 1 << 24);
    sl_buf_init(&b, 1 << 24);
    for (int pass = 0; pass < 2; pass++) {
        sl_fmt_enc_t *enc;
        sl_err_t err;
        assert_int_equal(sl_fmt_parquet_ops.open(&t, &o, (sl_fmt_sink_t){mem_write, pass ? &b : &a},
                                                 &enc, &err), 0);
        char num[32];
        for (int i = 0; i < 1000; i++) {
            snprintf(num, sizeof num, "%d", i);
            sl_value_t row[2] = {{num, (int64_t)strlen(num)}, V("2020-02-02")};
            assert_int_equal(sl_fmt_parquet_ops.write_row(enc, row, &err), 0);
            if (pass && i % 100 == 0) { /* pass 2: refused rows in between change nothing */
                sl_value_t bad[2] = {V("1"), V("2020-02-30")};
                assert_int_equal(sl_fmt_parquet_ops.write_row(enc, bad, &err), -1);
                assert_int_equal(err.code, SL_E_DATA);
            }
        }
        assert_true(sl_fmt_parquet_ops.size(enc) > 4);
        assert_int_equal(sl_fmt_parquet_ops.finish(enc, &err), 0);
        sl_fmt_parquet_ops.free(enc);
    }
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    assert_memory_equal(a.data, "PAR1", 4);
    assert_memory_equal(a.data + a.len - 4, "PAR1", 4);
    uint32_t flen = 0;
    memcpy(&flen, a.data + a.len - 8, 4);
    assert_true(flen > 20 && flen < a.len - 12);
    sl_buf_free(&a);
    sl_buf_free(&b);
}

/* Random bytes and mutated canonical text into every type of every format: each value is
 * taken or refused with SL_E_DATA, never read past its length (ASan watches) or crashed on. */
static void garbage_in(void **state)
{
    (void)state;
    static const char *const seeds[] = {"2020-01-01 00:00:00.5+02:30", "-12.5", "12:00:00.123456",
                                        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "1e+300", "t",
                                        "18446744073709551615", "-infinity", "{\"a\":1}"};
    static const char *const fmts[] = {"csv", "jsonl", "parquet"};
    uint64_t r = 88172645463325252ull;
    sl_column_t cols[SL_T__COUNT - 1];
    for (int i = 1; i < SL_T__COUNT; i++)
        cols[i - 1] = (sl_column_t){.name = "c", .type = (sl_type_t)i, .precision = i % 3 ? 20 : 5,
                                    .scale = 2};
    sl_table_t t = {.name = "g", .columns = cols, .ncolumns = SL_T__COUNT - 1};
    for (int f = 0; f < 3; f++) {
        const struct sl_fmt_ops *ops = sl_fmt_lookup(fmts[f]);
        sl_fmt_opts_t o;
        sl_fmt_opts_default(&o);
        o.page_bytes = 300;
        o.row_group_bytes = 5000;
        sl_buf_t out;
        sl_buf_init(&out, 1 << 26);
        sl_fmt_enc_t *enc;
        sl_err_t err;
        assert_int_equal(ops->open(&t, &o, (sl_fmt_sink_t){mem_write, &out}, &enc, &err), 0);
        sl_value_t vals[SL_T__COUNT - 1];
        for (int row = 0; row < 3000; row++) {
            char *heap[SL_T__COUNT - 1];
            for (int c = 0; c < t.ncolumns; c++) {
                r ^= r << 13, r ^= r >> 7, r ^= r << 17;
                const char *s = seeds[r % 9];
                size_t n = strlen(s);
                size_t len = (r >> 8) % (n + 3); /* cut short, or longer with junk */
                heap[c] = malloc(len ? len : 1); /* exact size: ASan sees any overread */
                for (size_t k = 0; k < len; k++)
                    heap[c][k] = k < n && (r >> 20) % 4 ? s[k] : (char)(r >> (k % 50));
                vals[c] = (r >> 30) % 10 ? (sl_value_t){heap[c], (int64_t)len}
                                         : (sl_value_t){NULL, -1};
            }
            if (ops->write_row(enc, vals, &err) < 0)
                assert_int_equal(err.code, SL_E_DATA);
            for (int c = 0; c < t.ncolumns; c++)
                free(heap[c]);
        }
        assert_int_equal(ops->finish(enc, &err), 0);
        ops->free(enc);
        sl_buf_free(&out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_dates_and_times),
        cmocka_unit_test(parse_numbers),
        cmocka_unit_test(rle_hybrid),
        cmocka_unit_test(thrift_compact),
        cmocka_unit_test(refused_values),
        cmocka_unit_test(type_mapping),
        cmocka_unit_test(file_frame),
        cmocka_unit_test(garbage_in),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
