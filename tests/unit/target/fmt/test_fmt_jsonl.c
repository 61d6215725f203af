/*
 * test_fmt_jsonl.c: the JSONL encoder (src/target/fmt/jsonl.c): every type's JSON form
 * (numbers with all their digits, NaN as a string, decimals as strings or numbers, base64,
 * ISO 8601 timestamps, embedded JSON kept on one line, escaping), NULL, a refused value
 * naming its column and leaving no partial line, and a zstd round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <zstd.h>

#include "target/fmt/fmt.h"

static int mem_write(void *ctx, const void *p, size_t n, sl_err_t *err)
{
    return sl_buf_add(ctx, p, n, err);
}

#define V(s) {s, (int64_t)sizeof(s) - 1}
#define NUL {NULL, -1}

/* Encodes one row of a one-column table of type `type` and returns the line. */
static const char *one(sl_type_t type, sl_value_t v, bool dec_num, sl_buf_t *out)
{
    sl_column_t col = {.name = "c", .type = type};
    sl_table_t t = {.name = "t", .columns = &col, .ncolumns = 1};
    sl_fmt_opts_t o;
    sl_fmt_opts_default(&o);
    o.decimal_as_number = dec_num;
    const struct sl_fmt_ops *ops = sl_fmt_lookup("jsonl");
    sl_fmt_enc_t *enc;
    sl_err_t err;
    sl_buf_reset(out);
    assert_int_equal(ops->open(&t, &o, (sl_fmt_sink_t){mem_write, out}, &enc, &err), 0);
    assert_int_equal(ops->write_row(enc, &v, &err), 0);
    assert_int_equal(ops->finish(enc, &err), 0);
    ops->free(enc);
    return out->data;
}

static void types(void **state)
{
    (void)state;
    sl_buf_t b;
    sl_buf_init(&b, 1 << 20);
    assert_string_equal(one(SL_T_BOOL, (sl_value_t)V("t"), false, &b), "{\"c\":true}\n");
    assert_string_equal(one(SL_T_BOOL, (sl_value_t)V("f"), false, &b), "{\"c\":false}\n");
    assert_string_equal(one(SL_T_INT64, (sl_value_t)V("-9223372036854775808"), false, &b),
                        "{\"c\":-9223372036854775808}\n");
    assert_string_equal(one(SL_T_UINT64, (sl_value_t)V("18446744073709551615"), false, &b),
                        "{\"c\":18446744073709551615}\n");
    assert_string_equal(one(SL_T_FLOAT64, (sl_value_t)V("1.5e-07"), false, &b), "{\"c\":1.5e-07}\n");
    assert_string_equal(one(SL_T_FLOAT64, (sl_value_t)V("NaN"), false, &b), "{\"c\":\"NaN\"}\n");
    assert_string_equal(one(SL_T_FLOAT32, (sl_value_t)V("-Infinity"), false, &b),
                        "{\"c\":\"-Infinity\"}\n");
    assert_string_equal(one(SL_T_DECIMAL, (sl_value_t)V("-12.50"), false, &b), "{\"c\":\"-12.50\"}\n");
    assert_string_equal(one(SL_T_DECIMAL, (sl_value_t)V("-12.50"), true, &b), "{\"c\":-12.50}\n");
    assert_string_equal(one(SL_T_DECIMAL, (sl_value_t)V("NaN"), true, &b), "{\"c\":\"NaN\"}\n");
    assert_string_equal(one(SL_T_BYTES, (sl_value_t)V("\x00\xff\x10"), false, &b), "{\"c\":\"AP8Q\"}\n");
    assert_string_equal(one(SL_T_BYTES, (sl_value_t)V("ab"), false, &b), "{\"c\":\"YWI=\"}\n");
    assert_string_equal(one(SL_T_BYTES, (sl_value_t)V("a"), false, &b), "{\"c\":\"YQ==\"}\n");
    assert_string_equal(one(SL_T_BYTES, (sl_value_t)V(""), false, &b), "{\"c\":\"\"}\n");
    assert_string_equal(one(SL_T_TIMESTAMP, (sl_value_t)V("2024-02-29 23:59:59.123456"), false, &b),
                        "{\"c\":\"2024-02-29T23:59:59.123456\"}\n");
    assert_string_equal(one(SL_T_TIMESTAMPTZ, (sl_value_t)V("1999-12-31 00:00:00+00"), false, &b),
                        "{\"c\":\"1999-12-31T00:00:00Z\"}\n");
    assert_string_equal(one(SL_T_TIMESTAMPTZ, (sl_value_t)V("infinity"), false, &b),
                        "{\"c\":\"infinity\"}\n");
    assert_string_equal(one(SL_T_DATE, (sl_value_t)V("0001-01-01"), false, &b), "{\"c\":\"0001-01-01\"}\n");
    assert_string_equal(one(SL_T_JSON, (sl_value_t)V("{\"a\":\n [1,\r\n 2]}"), false, &b),
                        "{\"c\":{\"a\":  [1,   2]}}\n");
    assert_string_equal(one(SL_T_TEXT, (sl_value_t)V("q\"\\\n\t\x01 é😀"), false, &b),
                        "{\"c\":\"q\\\"\\\\\\n\\t\\u0001 é😀\"}\n");
    assert_string_equal(one(SL_T_UUID, (sl_value_t)V("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), false, &b),
                        "{\"c\":\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"}\n");
    assert_string_equal(one(SL_T_TEXT, (sl_value_t)NUL, false, &b), "{\"c\":null}\n");
    sl_buf_free(&b);
}

static void refused_value(void **state)
{
    (void)state;
    sl_column_t cols[2] = {{.name = "id", .type = SL_T_INT32}, {.name = "n", .type = SL_T_INT64}};
    sl_table_t t = {.name = "things", .columns = cols, .ncolumns = 2};
    sl_fmt_opts_t o;
    sl_fmt_opts_default(&o);
    const struct sl_fmt_ops *ops = sl_fmt_lookup("jsonl");
    sl_fmt_enc_t *enc;
    sl_err_t err;
    sl_buf_t out;
    sl_buf_init(&out, 1 << 20);
    assert_int_equal(ops->open(&t, &o, (sl_fmt_sink_t){mem_write, &out}, &enc, &err), 0);
    sl_value_t good[2] = {V("1"), V("2")}, bad[2] = {V("2"), V("12abc")};
    assert_int_equal(ops->write_row(enc, good, &err), 0);
    assert_int_equal(ops->write_row(enc, bad, &err), -1);
    assert_int_equal(err.code, SL_E_DATA);
    assert_non_null(strstr(err.message, "\"n\""));
    assert_non_null(strstr(err.message, "things"));
    assert_non_null(strstr(err.detail, "12abc"));
    assert_int_equal(ops->write_row(enc, good, &err), 0);
    assert_int_equal(ops->finish(enc, &err), 0);
    ops->free(enc);
    assert_string_equal(out.data, "{\"id\":1,\"n\":2}\n{\"id\":1,\"n\":2}\n");
    sl_buf_free(&out);
}

static void zstd_round_trip(void **state)
{
    (void)state;
    sl_column_t cols[2] = {{.name = "id", .type = SL_T_INT64}, {.name = "s", .type = SL_T_TEXT}};
    sl_table_t t = {.name = "t", .columns = cols, .ncolumns = 2};
    sl_fmt_opts_t o;
    sl_fmt_opts_default(&o);
    const struct sl_fmt_ops *ops = sl_fmt_lookup("jsonl");
    sl_buf_t plain, zs;
    sl_buf_init(&plain, 1 << 26);
    sl_buf_init(&zs, 1 << 26);
    for (int pass = 0; pass < 2; pass++) {
        o.codec = pass ? SL_CODEC_ZSTD : SL_CODEC_NONE;
        sl_fmt_enc_t *enc;
        sl_err_t err;
        assert_int_equal(ops->open(&t, &o, (sl_fmt_sink_t){mem_write, pass ? &zs : &plain}, &enc, &err), 0);
        char num[32];
        for (int i = 0; i < 30000; i++) {
            snprintf(num, sizeof num, "%d", i * 7919);
            sl_value_t v[2] = {{num, (int64_t)strlen(num)}, V("a text that repeats")};
            assert_int_equal(ops->write_row(enc, v, &err), 0);
        }
        assert_int_equal(ops->finish(enc, &err), 0);
        ops->free(enc);
    }
    char *back = malloc(plain.len);
    ZSTD_DStream *ds = ZSTD_createDStream();
    ZSTD_inBuffer ib = {zs.data, zs.len, 0};
    ZSTD_outBuffer ob = {back, plain.len, 0};
    size_t r;
    do {
        r = ZSTD_decompressStream(ds, &ob, &ib);
        assert_false(ZSTD_isError(r));
    } while (r != 0 && ib.pos < ib.size);
    assert_int_equal(ob.pos, plain.len);
    assert_memory_equal(back, plain.data, plain.len);
    ZSTD_freeDStream(ds);
    free(back);
    sl_buf_free(&plain);
    sl_buf_free(&zs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(types),
        cmocka_unit_test(refused_value),
        cmocka_unit_test(zstd_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
