/*
 * test_fmt_csv.c: the CSV encoder (src/target/fmt/csv.c): RFC 4180 quoting, NULL vs
 * empty string with the default and a custom NULL marker, delimiter and quote options,
 * bytes as hex, unicode, bad options, and gzip/zstd output decompressed here and compared
 * with the plain output (a file large enough to flush many times).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>
#include <zstd.h>

#include "target/fmt/fmt.h"

static int mem_write(void *ctx, const void *p, size_t n, sl_err_t *err)
{
    return sl_buf_add(ctx, p, n, err);
}

static sl_column_t cols[3] = {
    {.name = "id", .type = SL_T_INT32},
    {.name = "na,me", .type = SL_T_TEXT},
    {.name = "raw", .type = SL_T_BYTES},
};
static sl_table_t tbl = {.name = "t", .columns = cols, .ncolumns = 3};

/* Encodes rows (3 values each) with o into out. */
static void encode(const sl_fmt_opts_t *o, const sl_value_t *rows, int nrows, sl_buf_t *out)
{
    const struct sl_fmt_ops *ops = sl_fmt_lookup("csv");
    assert_non_null(ops);
    sl_fmt_enc_t *enc;
    sl_err_t err;
    sl_buf_init(out, (size_t)1 << 30);
    assert_int_equal(ops->open(&tbl, o, (sl_fmt_sink_t){mem_write, out}, &enc, &err), 0);
    for (int i = 0; i < nrows; i++)
        assert_int_equal(ops->write_row(enc, rows + 3 * i, &err), 0);
    assert_true(ops->size(enc) > 0);
    assert_int_equal(ops->finish(enc, &err), 0);
    ops->free(enc);
}

#define V(s) {s, (int64_t)sizeof(s) - 1}
#define NUL {NULL, -1}

static void quoting_and_nulls(void **state)
{
    (void)state;
    sl_fmt_opts_t o;
    sl_fmt_opts_default(&o);
    sl_value_t rows[] = {
        V("1"), V("plain"), V("\x00\xff"),
        V("2"), V(""), NUL,                      /* empty string vs NULL */
        V("3"), V("a,b"), V(""),
        V("4"), V("say \"hi\""), NUL,
        V("5"), V("line1\nline2\r"), NUL,
        V("6"), V("日本語 😀"), NUL,
    };
    sl_buf_t out;
    encode(&o, rows, 6, &out);
    assert_string_equal(out.data,
                        "id,\"na,me\",raw\r\n"
                        "1,plain,\\x00ff\r\n"
                        "2,\"\",\r\n"
                        "3,\"a,b\",\\x\r\n"
                        "4,\"say \"\"hi\"\"\",\r\n"
                        "5,\"line1\nline2\r\",\r\n"
                        "6,日本語 😀,\r\n");
    sl_buf_free(&out);
}

static void custom_options(void **state)
{
    (void)state;
    sl_fmt_opts_t o;
    sl_fmt_opts_default(&o);
    o.delimiter = ';';
    o.quote = '\'';
    o.null_marker = "\\N";
    o.header = false;
    sl_value_t rows[] = {
        V("1"), V("\\N"), NUL,  /* a value equal to the marker is quoted */
        V("2"), V(""), V("x"),  /* the empty string is always quoted */
        V("3"), V("it's;ok"), NUL,
    };
    sl_buf_t out;
    encode(&o, rows, 3, &out);
    assert_string_equal(out.data, "1;'\\N';\\N\r\n"
                                  "2;'';\\x78\r\n"
                                  "3;'it''s;ok';\\N\r\n");
    sl_buf_free(&out);
}

static void bad_options(void **state)
{
    (void)state;
    const struct sl_fmt_ops *ops = sl_fmt_lookup("csv");
    sl_fmt_opts_t o;
    sl_fmt_enc_t *enc = NULL;
    sl_err_t err;
    sl_buf_t out;
    sl_buf_init(&out, 1024);
    sl_fmt_opts_default(&o);
    o.delimiter = '"';
    assert_int_equal(ops->open(&tbl, &o, (sl_fmt_sink_t){mem_write, &out}, &enc, &err), -1);
    assert_int_equal(err.code, SL_E_CONFIG);
    sl_fmt_opts_default(&o);
    o.null_marker = "a,b";
    assert_int_equal(ops->open(&tbl, &o, (sl_fmt_sink_t){mem_write, &out}, &enc, &err), -1);
    assert_int_equal(err.code, SL_E_CONFIG);
    sl_fmt_opts_default(&o);
    o.codec = SL_CODEC_SNAPPY;
    assert_int_equal(ops->open(&tbl, &o, (sl_fmt_sink_t){mem_write, &out}, &enc, &err), -1);
    assert_int_equal(err.code, SL_E_CONFIG);
    assert_true(err.hint[0] != 0);
    assert_null(enc);
    sl_buf_free(&out);
}

static void registry(void **state)
{
    (void)state;
    assert_string_equal(sl_fmt_lookup("csv")->ext, "csv");
    assert_string_equal(sl_fmt_lookup("jsonl")->ext, "jsonl");
    assert_string_equal(sl_fmt_lookup("parquet")->ext, "parquet");
    assert_null(sl_fmt_lookup("xlsx"));
    assert_int_equal(sl_codec_from_name("zstd"), SL_CODEC_ZSTD);
    assert_int_equal(sl_codec_from_name("snappy"), SL_CODEC_SNAPPY);
    assert_int_equal(sl_codec_from_name("none"), SL_CODEC_NONE);
    assert_int_equal(sl_codec_from_name("lz4"), -1);
    assert_string_equal(sl_codec_ext(SL_CODEC_GZIP), ".gz");
    assert_string_equal(sl_codec_ext(SL_CODEC_ZSTD), ".zst");
    assert_string_equal(sl_codec_ext(SL_CODEC_NONE), "");
}

/* Many rows, so the staging buffer flushes through the compressor many times. */
static void big_rows(sl_value_t **rows, int *n, char *text)
{
    *n = 20000;
    *rows = calloc((size_t)*n * 3, sizeof **rows);
    for (int i = 0; i < *n; i++) {
        (*rows)[3 * i] = (sl_value_t){"42", 2};
        (*rows)[3 * i + 1] = (sl_value_t){text, i % 50};
        (*rows)[3 * i + 2] = i % 3 ? (sl_value_t){text, i % 7} : (sl_value_t){NULL, -1};
    }
}

static void gzip_and_zstd_round_trip(void **state)
{
    (void)state;
    char text[64];
    memset(text, 'q', sizeof text);
    text[10] = ',';
    sl_value_t *rows;
    int n;
    big_rows(&rows, &n, text);
    sl_fmt_opts_t o;
    sl_fmt_opts_default(&o);
    sl_buf_t plain, gz, zs;
    encode(&o, rows, n, &plain);
    o.codec = SL_CODEC_GZIP;
    encode(&o, rows, n, &gz);
    o.codec = SL_CODEC_ZSTD;
    o.level = 3;
    encode(&o, rows, n, &zs);
    assert_true(gz.len < plain.len / 4);
    assert_true(zs.len < plain.len / 4);

    /* gzip: one member, inflate with the gzip wrapper */
    char *back = malloc(plain.len + 1);
    z_stream z = {0};
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)gz.data;
    z.avail_in = (uInt)gz.len;
    z.next_out = (Bytef *)back;
    z.avail_out = (uInt)plain.len + 1;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.total_out, plain.len);
    assert_memory_equal(back, plain.data, plain.len);
    inflateEnd(&z);

    /* zstd: a streamed frame has no content size; decompress with the stream API */
    ZSTD_DStream *ds = ZSTD_createDStream();
    ZSTD_inBuffer ib = {zs.data, zs.len, 0};
    ZSTD_outBuffer ob = {back, plain.len + 1, 0};
    size_t r;
    do {
        r = ZSTD_decompressStream(ds, &ob, &ib);
        assert_false(ZSTD_isError(r));
    } while (r != 0 && ib.pos < ib.size);
    assert_int_equal(r, 0);
    assert_int_equal(ob.pos, plain.len);
    assert_memory_equal(back, plain.data, plain.len);
    ZSTD_freeDStream(ds);

    free(back);
    free(rows);
    sl_buf_free(&plain);
    sl_buf_free(&gz);
    sl_buf_free(&zs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quoting_and_nulls),
        cmocka_unit_test(custom_options),
        cmocka_unit_test(bad_options),
        cmocka_unit_test(registry),
        cmocka_unit_test(gzip_and_zstd_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
