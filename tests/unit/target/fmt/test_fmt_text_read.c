/*
 * test_fmt_text_read.c: the CSV and JSONL readers (target/fmt/csv_read.c, jsonl_read.c),
 * the decompressing input stream (in.c) and type inference (infer.c): RFC 4180 quoting
 * with embedded newlines and doubled quotes, CRLF and LF, a byte order mark, NULL
 * markers, records that span chunk boundaries (the same file fed one byte at a time),
 * clear errors naming the line; JSONL escapes, surrogate pairs, numbers kept exactly,
 * nested values as written; gzip with two members and zstd; the type each sample gives
 * and the canonical form of values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include <cmocka.h>

#include "target/fmt/fmt_read.h"

/* All records of a CSV text as "a|b|NULL\n..." (fed `chunk` bytes at a time). */
static char *csv_rows(const char *text, size_t len, size_t chunk, const char *null_marker,
                      char delim, sl_err_t *err)
{
    sl_fmt_mem_t m;
    sl_fmt_stream_t in = sl_fmt_mem_stream(&m, text, len, chunk);
    sl_csvr_opts_t o;
    sl_csvr_opts_default(&o);
    o.null_marker = null_marker;
    o.delimiter = delim;
    sl_csvr_t *r;
    assert_int_equal(sl_csvr_open(in, &o, &r, err), 0);
    sl_buf_t out;
    sl_buf_init(&out, 1 << 20);
    const sl_value_t *v;
    int n, rc;
    while ((rc = sl_csvr_next(r, &v, &n, err)) == 1) {
        for (int i = 0; i < n; i++) {
            if (i)
                sl_buf_addc(&out, '|', NULL);
            if (v[i].len < 0)
                sl_buf_adds(&out, "NULL", NULL);
            else
                sl_buf_add(&out, v[i].p, (size_t)v[i].len, NULL);
        }
        sl_buf_addc(&out, '\n', NULL);
    }
    sl_csvr_free(r);
    if (rc < 0) {
        sl_buf_free(&out);
        return NULL;
    }
    if (!out.data)
        sl_buf_adds(&out, "", NULL);
    return sl_buf_steal(&out, NULL);
}

static void csv_quoting(void **state)
{
    (void)state;
    static const char f[] = "\xEF\xBB\xBFid,name,note\r\n"
                            "1,\"Smith, J\",\"say \"\"hi\"\"\"\r\n"
                            "2,\"two\nlines\",\r\n"
                            "\n"
                            "3,\"\",plain \"quote\" inside\n"
                            "4,last,no newline";
    const char *want = "id|name|note\n"
                       "1|Smith, J|say \"hi\"\n"
                       "2|two\nlines|NULL\n"
                       "3||plain \"quote\" inside\n"
                       "4|last|no newline\n";
    sl_err_t err = {0};
    for (size_t chunk = 1; chunk <= sizeof f; chunk = chunk * 3 + 1) {
        char *got = csv_rows(f, sizeof f - 1, chunk, "", ',', &err);
        assert_non_null(got);
        assert_string_equal(got, want);
        free(got);
    }
}

static void csv_null_markers(void **state)
{
    (void)state;
    static const char f[] = "a;b;c\n\\N;;\"\\N\"\n";
    sl_err_t err = {0};
    char *got = csv_rows(f, sizeof f - 1, 4, "\\N", ';', &err);
    assert_string_equal(got, "a|b|c\nNULL||\\N\n"); /* quoted \N is the text */
    free(got);
    got = csv_rows(f, sizeof f - 1, 4, NULL, ';', &err);
    assert_string_equal(got, "a|b|c\n\\N||\\N\n");
    free(got);
}

static void csv_errors(void **state)
{
    (void)state;
    sl_err_t err = {0};
    static const char open[] = "a,b\n1,2\n3,\"never closed\n4,5\n";
    assert_null(csv_rows(open, sizeof open - 1, 7, "", ',', &err));
    assert_int_equal(err.code, SL_E_DATA);
    assert_string_equal(err.message, "unterminated quoted CSV field on line 3");
    static const char after[] = "a,b\n\"x\"y,2\n";
    assert_null(csv_rows(after, sizeof after - 1, 100, "", ',', &err));
    assert_int_equal(err.code, SL_E_DATA);
    assert_non_null(strstr(err.message, "line 2"));
}

/* All objects of a JSONL text as "k=v(kind) k=v(kind)\n". */
static char *jsonl_rows(const char *text, size_t len, size_t chunk, sl_err_t *err)
{
    sl_fmt_mem_t m;
    sl_jsonlr_t *r;
    assert_int_equal(sl_jsonlr_open(sl_fmt_mem_stream(&m, text, len, chunk), &r, err), 0);
    sl_buf_t out;
    sl_buf_init(&out, 1 << 20);
    const sl_jsonl_kv_t *kv;
    int n, rc;
    while ((rc = sl_jsonlr_next(r, &kv, &n, err)) == 1) {
        for (int i = 0; i < n; i++) {
            if (i)
                sl_buf_addc(&out, ' ', NULL);
            sl_buf_add(&out, kv[i].key.p, (size_t)kv[i].key.len, NULL);
            sl_buf_addc(&out, '=', NULL);
            if (kv[i].val.len < 0)
                sl_buf_adds(&out, "NULL", NULL);
            else
                sl_buf_add(&out, kv[i].val.p, (size_t)kv[i].val.len, NULL);
            sl_buf_printf(&out, NULL, "(%d)", (int)kv[i].kind);
        }
        sl_buf_addc(&out, '\n', NULL);
    }
    sl_jsonlr_free(r);
    if (rc < 0) {
        sl_buf_free(&out);
        return NULL;
    }
    return sl_buf_steal(&out, NULL);
}

static void jsonl_values(void **state)
{
    (void)state;
    static const char f[] =
        "\xEF\xBB\xBF{\"id\": 12345678901234567890.125, \"s\": \"a\\\"b\\u00e9\\ud83d\\ude00\\n\", "
        "\"n\": {\"x\": [1, {\"y\": null}], \"z\": \"}\"}, \"ok\": true, \"no\": null}\r\n"
        "\n"
        "  {\"e\\u0041\": [], \"f\": -0.5e-3}  \n";
    const char *want = "id=12345678901234567890.125(2) s=a\"b\xC3\xA9\xF0\x9F\x98\x80\n(3) "
                       "n={\"x\": [1, {\"y\": null}], \"z\": \"}\"}(4) ok=true(1) no=NULL(0)\n"
                       "eA=[](5) f=-0.5e-3(2)\n";
    sl_err_t err = {0};
    for (size_t chunk = 1; chunk <= sizeof f; chunk = chunk * 4 + 1) {
        char *got = jsonl_rows(f, sizeof f - 1, chunk, &err);
        assert_non_null(got);
        assert_string_equal(got, want);
        free(got);
    }
}

static void jsonl_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"a\": 1,}", "{\"a\" 1}", "[1]", "{\"a\": 01}", "{\"a\": \"\\ud800\"}",
        "{\"a\": [1 2]}", "{\"a\": tru}", "{\"a\": \"x\"} extra", "{\"a\": {\"b\": }}",
        "{\"a\": \"ctl\x01\"}",
    };
    sl_err_t err = {0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[128];
        int n = snprintf(text, sizeof text, "{\"ok\": 1}\n%s\n", bad[i]);
        char *got = jsonl_rows(text, (size_t)n, 3, &err);
        if (got)
            fail_msg("accepted %s", bad[i]);
        assert_int_equal(err.code, SL_E_DATA);
        assert_non_null(strstr(err.message, "line 2: invalid JSON"));
    }
    assert_true(sl_json_is_container(" [1, {\"a\": [true]}] ", 20));
    assert_false(sl_json_is_container("{\"a\": 1", 7));
    assert_false(sl_json_is_container("\"x\"", 3));
}

/* --- in.c -------------------------------------------------------------------------------- */

static int buf_range_read(void *ctx, uint64_t off, void *dst, size_t n, sl_err_t *err)
{
    sl_buf_t *b = ctx;
    if (off + n > b->len)
        return sl_err_set(err, SL_E_IO, "past the end");
    memcpy(dst, b->data + off, n);
    return 0;
}

static char *read_stream(sl_buf_t *file, sl_codec_t codec, sl_err_t *err)
{
    sl_fmt_range_t src = {buf_range_read, file, file->len};
    sl_fmt_in_t *in;
    assert_int_equal(sl_fmt_in_open(&src, codec, &in, err), 0);
    sl_fmt_stream_t s = sl_fmt_in_stream(in);
    sl_buf_t out;
    sl_buf_init(&out, 1 << 24);
    char chunk[7];
    size_t got;
    int rc;
    while ((rc = s.read(s.ctx, chunk, sizeof chunk, &got, err)) == 0 && got)
        sl_buf_add(&out, chunk, got, NULL);
    sl_fmt_in_free(in);
    if (rc < 0) {
        sl_buf_free(&out);
        return NULL;
    }
    sl_buf_adds(&out, "", NULL);
    return sl_buf_steal(&out, NULL);
}

static void gzip_member(sl_buf_t *b, const char *text)
{
    sl_err_t err;
    sl_buf_t tmp;
    sl_buf_init(&tmp, 1 << 20);
    z_stream z = {0};
    deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    sl_buf_reserve(&tmp, 4096, &err);
    z.next_in = (Bytef *)text;
    z.avail_in = (uInt)strlen(text);
    z.next_out = (Bytef *)tmp.data;
    z.avail_out = 4096;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    sl_buf_add(b, tmp.data, z.total_out, NULL);
    deflateEnd(&z);
    sl_buf_free(&tmp);
}

static void compressed_input(void **state)
{
    (void)state;
    sl_err_t err = {0};
    sl_buf_t f;
    sl_buf_init(&f, 1 << 20);
    gzip_member(&f, "first member\n");
    gzip_member(&f, "second member\n");
    char *got = read_stream(&f, sl_fmt_codec_of_name("x.csv.gz"), &err);
    assert_string_equal(got, "first member\nsecond member\n");
    free(got);
    f.len -= 5; /* cut off */
    assert_null(read_stream(&f, SL_CODEC_GZIP, &err));
    assert_int_equal(err.code, SL_E_DATA);

    sl_buf_reset(&f);
    const char *text = "zstd frame one\n";
    sl_buf_reserve(&f, 256, &err);
    f.len = ZSTD_compress(f.data, 256, text, strlen(text), 3);
    got = read_stream(&f, sl_fmt_codec_of_name("x.jsonl.zst"), &err);
    assert_string_equal(got, text);
    free(got);
    f.len -= 3;
    assert_null(read_stream(&f, SL_CODEC_ZSTD, &err));
    assert_int_equal(sl_fmt_codec_of_name("x.parquet"), SL_CODEC_NONE);
    sl_buf_free(&f);
}

/* --- inference -------------------------------------------------------------------------- */

static sl_column_t infer(sl_json_kind_t kind, const char *const *vals)
{
    sl_infer_t f;
    sl_infer_init(&f);
    for (int i = 0; vals[i]; i++)
        sl_infer_add(&f, kind, vals[i], strlen(vals[i]));
    sl_column_t c = {0};
    sl_infer_column(&f, &c);
    return c;
}

#define INFER(kind, want, ...) \
    do { \
        const char *const v_[] = {__VA_ARGS__, NULL}; \
        sl_column_t c_ = infer(kind, v_); \
        if (c_.type != (want)) \
            fail_msg("%s: %s, expected %s", v_[0], sl_type_name(c_.type), sl_type_name(want)); \
    } while (0)

static void inference(void **state)
{
    (void)state;
    INFER(SL_JK_TEXT, SL_T_BOOL, "true", "f", "FALSE");
    INFER(SL_JK_TEXT, SL_T_INT64, "1", "-20", "007");
    INFER(SL_JK_TEXT, SL_T_DECIMAL, "1", "-2.50", "0.125");
    INFER(SL_JK_TEXT, SL_T_FLOAT64, "1", "2.5e10", "NaN");
    INFER(SL_JK_TEXT, SL_T_DECIMAL, "99999999999999999999"); /* past int64 */
    INFER(SL_JK_TEXT, SL_T_DATE, "2020-01-01", "1999-12-31");
    INFER(SL_JK_TEXT, SL_T_TIMESTAMP, "2020-01-01", "2020-01-01T10:00:00.5");
    INFER(SL_JK_TEXT, SL_T_TIMESTAMPTZ, "2020-01-01 10:00:00+02", "2020-01-01T10:00:00Z");
    INFER(SL_JK_TEXT, SL_T_TEXT, "2020-01-01 10:00:00+02", "2020-01-01 10:00:00");
    INFER(SL_JK_TEXT, SL_T_UUID, "550E8400-e29b-41d4-a716-446655440000");
    INFER(SL_JK_TEXT, SL_T_JSON, "{\"a\": 1}", "[1, 2]");
    INFER(SL_JK_TEXT, SL_T_TEXT, "1", "x");
    INFER(SL_JK_TEXT, SL_T_TEXT, "{\"a\": 1", "[1]");
    INFER(SL_JK_NUMBER, SL_T_INT64, "1", "2");
    INFER(SL_JK_STRING, SL_T_TEXT, "1", "2"); /* a JSON string is not a number */
    INFER(SL_JK_STRING, SL_T_DATE, "2020-01-01");
    INFER(SL_JK_OBJECT, SL_T_JSON, "{}");
    sl_infer_t f;
    sl_infer_init(&f);
    sl_column_t c = {0};
    sl_infer_column(&f, &c);
    assert_int_equal(c.type, SL_T_TEXT); /* nothing seen */
    const char *const d[] = {"12.5", "-1234.125", NULL};
    c = infer(SL_JK_TEXT, d);
    assert_int_equal(c.precision, 38);
    assert_int_equal(c.scale, 3);
}

/* want: the expected canonical text (of wlen bytes, 0 = strlen), NULL when refused */
static void canon_n(sl_type_t type, sl_json_kind_t kind, const char *in, const char *want,
                    size_t wlen)
{
    sl_column_t c = {.type = type, .precision = 38, .scale = 3};
    sl_buf_t b;
    sl_buf_init(&b, 1 << 20);
    sl_err_t err = {0};
    int rc = sl_infer_canon(&c, kind, in, strlen(in), &b, &err);
    if (want) {
        if (rc < 0)
            fail_msg("%s refused: %s", in, err.message);
        if (!wlen)
            wlen = strlen(want);
        assert_int_equal(b.len, wlen);
        assert_memory_equal(b.data, want, wlen);
    } else {
        assert_int_equal(rc, -1);
        assert_int_equal(err.code, SL_E_DATA);
    }
    sl_buf_free(&b);
}

static void canon(sl_type_t type, sl_json_kind_t kind, const char *in, const char *want)
{
    canon_n(type, kind, in, want, 0);
}

static void canonical_values(void **state)
{
    (void)state;
    canon(SL_T_BOOL, SL_JK_TEXT, "TRUE", "t");
    canon(SL_T_BOOL, SL_JK_BOOL, "false", "f");
    canon(SL_T_BOOL, SL_JK_TEXT, "yes", NULL);
    canon(SL_T_INT64, SL_JK_TEXT, "-42", "-42");
    canon(SL_T_INT16, SL_JK_TEXT, "40000", NULL);
    canon(SL_T_FLOAT64, SL_JK_TEXT, "-inf", "-Infinity");
    canon(SL_T_DECIMAL, SL_JK_TEXT, "1.25", "1.25");
    canon(SL_T_DECIMAL, SL_JK_TEXT, "1.2345", NULL); /* more digits than the scale */
    canon(SL_T_DECIMAL, SL_JK_TEXT, "1e5", NULL);
    canon(SL_T_TIMESTAMP, SL_JK_TEXT, "2020-01-01T10:00:00.500", "2020-01-01 10:00:00.5");
    canon(SL_T_TIMESTAMP, SL_JK_TEXT, "2020-01-01", "2020-01-01 00:00:00");
    canon(SL_T_TIMESTAMP, SL_JK_TEXT, "2020-01-01 10:00:00+02", NULL);
    canon(SL_T_TIMESTAMP, SL_JK_TEXT, "5000000-01-01", NULL); /* overflowed µs (fuzzing) */
    canon(SL_T_TIMESTAMPTZ, SL_JK_STRING, "2020-01-01T10:00:00+02:00", "2020-01-01 08:00:00+00");
    canon(SL_T_TIMESTAMPTZ, SL_JK_TEXT, "2020-01-01 10:00:00", "2020-01-01 10:00:00+00");
    canon(SL_T_UUID, SL_JK_TEXT, "550E8400-E29B-41D4-A716-446655440000",
          "550e8400-e29b-41d4-a716-446655440000");
    canon(SL_T_JSON, SL_JK_STRING, "a\"b", "\"a\\\"b\"");
    canon(SL_T_JSON, SL_JK_TEXT, "nope", NULL);
    canon_n(SL_T_BYTES, SL_JK_TEXT, "\\x00ff", "\x00\xff", 2);
    canon_n(SL_T_BYTES, SL_JK_STRING, "AP8=", "\x00\xff", 2);
    canon(SL_T_DATE, SL_JK_TEXT, "2020-02-30", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_quoting),      cmocka_unit_test(csv_null_markers),
        cmocka_unit_test(csv_errors),       cmocka_unit_test(jsonl_values),
        cmocka_unit_test(jsonl_errors),     cmocka_unit_test(compressed_input),
        cmocka_unit_test(inference),        cmocka_unit_test(canonical_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
