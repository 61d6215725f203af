/*
 * test_fmt_parquet_read.c: the Parquet reader on what tests/files/pq_check.mjs cannot get
 * from DuckDB or arrow-rs: a round trip through sluice's own writer (every canonical type,
 * dictionary on and off, pages and row groups small enough that there are several; dates
 * and timestamps before 1 AD, which the writer once refused);
 * files built here by hand for what today's writers no longer make (INT96 timestamps,
 * a bare repeated field, a legacy two-level list, BIT_PACKED levels); the canonical text
 * of edge values; and broken files, which must fail with a clear error naming the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "target/fmt/parquet_rd.h"

/* --- an in-memory file ---------------------------------------------------------------- */

static int mem_write(void *ctx, const void *p, size_t n, sl_err_t *err)
{
    return sl_buf_add(ctx, p, n, err);
}

static int mem_read(void *ctx, uint64_t off, void *dst, size_t n, sl_err_t *err)
{
    sl_buf_t *b = ctx;
    if (off > b->len || n > b->len - off)
        return sl_err_set(err, SL_E_IO, "read past the end");
    memcpy(dst, b->data + off, n);
    return 0;
}

static sl_fmt_range_t range_of(sl_buf_t *b)
{
    return (sl_fmt_range_t){.read = mem_read, .ctx = b, .size = b->len};
}

/* Reads every row of the file in b; returns the rows as one string (its length in
 * *len), cells separated by '|', rows by '\n', NULL as "NULL". */
static char *read_all(sl_buf_t *b, sl_pq_reader_t **keep, size_t *len)
{
    sl_fmt_range_t src = range_of(b);
    sl_pq_read_opts_t o;
    sl_pq_read_opts_default(&o);
    o.window_bytes = 100; /* many windows */
    sl_pq_reader_t *r;
    sl_err_t err = {0};
    char eb[2048];
    if (sl_pq_reader_open(&src, "mem.parquet", &o, &r, &err) < 0)
        fail_msg("%s", sl_err_format(&err, eb, sizeof eb));
    const sl_table_t *t = sl_pq_reader_table(r);
    sl_value_t *vals = calloc((size_t)t->ncolumns, sizeof *vals);
    sl_buf_t out;
    sl_buf_init(&out, 1 << 26);
    for (int g = 0; g < sl_pq_reader_row_groups(r); g++) {
        assert_int_equal(sl_pq_reader_seek(r, g, &err), 0);
        int rc;
        while ((rc = sl_pq_reader_next(r, vals, &err)) == 1) {
            for (int i = 0; i < t->ncolumns; i++) {
                if (i)
                    sl_buf_addc(&out, '|', NULL);
                if (vals[i].len < 0)
                    sl_buf_adds(&out, "NULL", NULL);
                else
                    sl_buf_add(&out, vals[i].p, (size_t)vals[i].len, NULL);
            }
            sl_buf_addc(&out, '\n', NULL);
        }
        if (rc < 0)
            fail_msg("%s", sl_err_format(&err, eb, sizeof eb));
    }
    free(vals);
    if (keep)
        *keep = r;
    else
        sl_pq_reader_free(r);
    return sl_buf_steal(&out, len);
}

/* --- a round trip through sluice's writer ------------------------------------------- */

typedef struct coldef {
    const char *name;
    sl_type_t type;
    int precision, scale;
    sl_type_t back; /* the type the reader gives */
} coldef_t;

static const coldef_t COLS[] = {
    {"b", SL_T_BOOL, 0, -1, SL_T_BOOL},
    {"i16", SL_T_INT16, 0, -1, SL_T_INT16},
    {"i32", SL_T_INT32, 0, -1, SL_T_INT32},
    {"i64", SL_T_INT64, 0, -1, SL_T_INT64},
    {"u64", SL_T_UINT64, 0, -1, SL_T_UINT64},
    {"f32", SL_T_FLOAT32, 0, -1, SL_T_FLOAT32},
    {"f64", SL_T_FLOAT64, 0, -1, SL_T_FLOAT64},
    {"d9", SL_T_DECIMAL, 9, 2, SL_T_DECIMAL},
    {"d18", SL_T_DECIMAL, 18, 4, SL_T_DECIMAL},
    {"d30", SL_T_DECIMAL, 30, 5, SL_T_DECIMAL},
    {"t", SL_T_TEXT, 0, -1, SL_T_TEXT},
    {"by", SL_T_BYTES, 0, -1, SL_T_BYTES},
    {"dt", SL_T_DATE, 0, -1, SL_T_DATE},
    {"tm", SL_T_TIME, 0, 6, SL_T_TIME},
    {"ts", SL_T_TIMESTAMP, 0, 6, SL_T_TIMESTAMP},
    {"tz", SL_T_TIMESTAMPTZ, 0, 6, SL_T_TIMESTAMPTZ},
    {"u", SL_T_UUID, 0, -1, SL_T_UUID},
    {"j", SL_T_JSON, 0, -1, SL_T_JSON},
    {"iv", SL_T_INTERVAL, 0, -1, SL_T_TEXT}, /* the writer keeps it as its text */
};
enum { NCOLS = sizeof COLS / sizeof COLS[0] };

/* Row r's canonical text of column c into buf (NULL for some). */
static const char *value(int r, int c, char *buf, size_t n)
{
    if ((r + c) % 9 == 4)
        return NULL;
    int v = r * 37 % 1000 - 500;
    switch (COLS[c].type) {
    case SL_T_BOOL: snprintf(buf, n, "%s", r % 2 ? "t" : "f"); break;
    case SL_T_INT16: snprintf(buf, n, "%d", r == 1 ? -32768 : v); break;
    case SL_T_INT32: snprintf(buf, n, "%d", v * 4099); break;
    case SL_T_INT64: snprintf(buf, n, "%lld", r == 2 ? (long long)INT64_MIN : (long long)v * 1000000007LL); break;
    case SL_T_UINT64: snprintf(buf, n, "%s", r == 3 ? "18446744073709551615" : "42"); break;
    case SL_T_FLOAT32: snprintf(buf, n, "%s", r == 5 ? "NaN" : r == 6 ? "-Infinity" : r % 3 ? "1.5" : "0.1"); break;
    case SL_T_FLOAT64: snprintf(buf, n, "%s", r == 7 ? "1e+300" : r % 3 ? "-2.25" : "0.3"); break;
    case SL_T_DECIMAL:
        if (COLS[c].precision == 9)
            snprintf(buf, n, "%d.%02d", v, r % 100);
        else if (COLS[c].precision == 18)
            snprintf(buf, n, "%s", r % 2 ? "-12345678901234.5678" : "0.0001");
        else
            snprintf(buf, n, "%s", r % 2 ? "-1234567890123456789012345.00001" : "0.00000");
        if (v < 0 && COLS[c].precision == 9)
            snprintf(buf, n, "-%d.%02d", -v, r % 100);
        break;
    case SL_T_TEXT:
        if (r % 4 == 0)
            buf[0] = '\0';
        else
            snprintf(buf, n, "text %d, \"ü\"", r % 7);
        break;
    case SL_T_BYTES: snprintf(buf, n, "b%c%d", 0, r); return buf;
    case SL_T_DATE: snprintf(buf, n, "%s", r % 3 == 2 ? "0044-03-15 BC" : r % 2 ? "2024-02-29" : "0001-01-01"); break;
    case SL_T_TIME: snprintf(buf, n, "%s", r % 2 ? "23:59:59.999999" : "00:00:00"); break;
    case SL_T_TIMESTAMP:
        snprintf(buf, n, "%s", r % 5 == 3 ? "0001-02-29 04:05:06 BC" /* 1 BC was a leap year */
                             : r % 2 ? "1969-12-31 23:59:59.5" : "2038-01-19 03:14:08");
        break;
    case SL_T_TIMESTAMPTZ: snprintf(buf, n, "%s", r % 2 ? "2000-01-01 00:00:00+00" : "1900-06-01 12:30:00.000001+00"); break;
    case SL_T_UUID: snprintf(buf, n, "550e8400-e29b-41d4-a716-4466554400%02d", r % 100); break;
    case SL_T_JSON: snprintf(buf, n, "{\"k\": [%d, null]}", r); break;
    case SL_T_INTERVAL: snprintf(buf, n, "P1Y2M%dD", r % 30); break;
    default: return NULL;
    }
    return buf;
}

static size_t value_len(int c, const char *p)
{
    return COLS[c].type == SL_T_BYTES ? 3 + strlen(p + 2) : strlen(p);
}

static void roundtrip(bool dictionary, sl_codec_t codec)
{
    sl_table_t t = {.name = "rt"};
    sl_column_t cols[NCOLS];
    memset(cols, 0, sizeof cols);
    for (int c = 0; c < NCOLS; c++) {
        cols[c].name = (char *)COLS[c].name;
        cols[c].type = COLS[c].type;
        cols[c].precision = COLS[c].precision;
        cols[c].scale = COLS[c].scale;
        cols[c].nullable = true;
    }
    t.columns = cols;
    t.ncolumns = NCOLS;
    sl_fmt_opts_t o;
    sl_fmt_opts_default(&o);
    o.dictionary = dictionary;
    o.codec = codec;
    o.page_bytes = 300;
    o.row_group_bytes = 4000;
    sl_buf_t file, want;
    sl_buf_init(&file, 1 << 26);
    sl_buf_init(&want, 1 << 26);
    sl_fmt_enc_t *e;
    sl_err_t err = {0};
    assert_int_equal(sl_fmt_parquet_ops.open(&t, &o, (sl_fmt_sink_t){mem_write, &file}, &e, &err), 0);
    enum { ROWS = 700 };
    char bufs[NCOLS][128];
    for (int r = 0; r < ROWS; r++) {
        sl_value_t vals[NCOLS];
        for (int c = 0; c < NCOLS; c++) {
            const char *p = value(r, c, bufs[c], sizeof bufs[c]);
            vals[c] = p ? (sl_value_t){p, (int64_t)value_len(c, p)} : (sl_value_t){NULL, -1};
            if (c)
                sl_buf_addc(&want, '|', NULL);
            if (p)
                sl_buf_add(&want, p, value_len(c, p), NULL);
            else
                sl_buf_adds(&want, "NULL", NULL);
        }
        sl_buf_addc(&want, '\n', NULL);
        assert_int_equal(sl_fmt_parquet_ops.write_row(e, vals, &err), 0);
    }
    assert_int_equal(sl_fmt_parquet_ops.finish(e, &err), 0);
    sl_fmt_parquet_ops.free(e);
    sl_pq_reader_t *r;
    size_t glen;
    char *got = read_all(&file, &r, &glen);
    assert_true(sl_pq_reader_row_groups(r) > 1);
    assert_int_equal(sl_pq_reader_rows(r), ROWS);
    const sl_table_t *rt = sl_pq_reader_table(r);
    assert_int_equal(rt->ncolumns, NCOLS);
    for (int c = 0; c < NCOLS; c++) {
        assert_string_equal(rt->columns[c].name, COLS[c].name);
        if (rt->columns[c].type != COLS[c].back)
            fail_msg("column %s: %s, expected %s", COLS[c].name,
                     sl_type_name(rt->columns[c].type), sl_type_name(COLS[c].back));
        if (COLS[c].type == SL_T_DECIMAL) {
            assert_int_equal(rt->columns[c].precision, COLS[c].precision);
            assert_int_equal(rt->columns[c].scale, COLS[c].scale);
        }
    }
    assert_int_equal(want.len, glen);
    assert_memory_equal(got, want.data, want.len);
    free(got);
    sl_pq_reader_free(r);
    sl_buf_free(&file);
    sl_buf_free(&want);
}

static void roundtrip_dictionary_snappy(void **state) { (void)state; roundtrip(true, SL_CODEC_SNAPPY); }
static void roundtrip_plain_zstd(void **state) { (void)state; roundtrip(false, SL_CODEC_ZSTD); }
static void roundtrip_plain_gzip(void **state) { (void)state; roundtrip(false, SL_CODEC_GZIP); }

/* --- files built by hand -------------------------------------------------------------- */

/* A schema element (list element of FileMetaData.schema). */
static void sel(sl_tw_t *w, const char *name, int type, int rep, int nchildren, int conv)
{
    sl_tw_elem(w);
    if (type >= 0)
        sl_tw_i32(w, 1, type);
    if (rep >= 0)
        sl_tw_i32(w, 3, rep);
    sl_tw_bin(w, 4, name, strlen(name));
    if (nchildren > 0)
        sl_tw_i32(w, 5, nchildren);
    if (conv >= 0)
        sl_tw_i32(w, 6, conv);
    sl_tw_end(w);
}

/* Appends one uncompressed data page v1 (header + body) to f. */
static void page_v1(sl_buf_t *f, const sl_buf_t *body, int nvals, int enc, int def_enc)
{
    sl_buf_t h;
    sl_buf_init(&h, 1 << 20);
    sl_tw_t w;
    sl_tw_init(&w, &h, NULL);
    sl_tw_i32(&w, 1, PAGE_DATA_V1);
    sl_tw_i32(&w, 2, (int32_t)body->len);
    sl_tw_i32(&w, 3, (int32_t)body->len);
    sl_tw_struct(&w, 5);
    sl_tw_i32(&w, 1, nvals);
    sl_tw_i32(&w, 2, enc);
    sl_tw_i32(&w, 3, def_enc);
    sl_tw_i32(&w, 4, ENC_RLE);
    sl_tw_end(&w);
    assert_int_equal(sl_tw_done(&w), 0);
    sl_buf_add(f, h.data, h.len, NULL);
    sl_buf_add(f, body->data, body->len, NULL);
    sl_buf_free(&h);
}

/* Levels with their 4-byte length, RLE at the width of max. */
static void levels(sl_buf_t *b, const uint32_t *v, size_t n, uint32_t max)
{
    size_t at = b->len;
    sl_buf_add(b, "\0\0\0\0", 4, NULL);
    sl_rle_encode(b, v, n, sl_rle_width(max), NULL);
    uint32_t len = (uint32_t)(b->len - at - 4);
    memcpy(b->data + at, &len, 4);
}

static void le32(sl_buf_t *b, uint32_t v) { sl_buf_add(b, &v, 4, NULL); }

/* Column chunk metadata for a chunk at off of len bytes. */
static void chunk_meta(sl_tw_t *w, int type, const char *path, int64_t off, int64_t len, int64_t nvals)
{
    sl_tw_elem(w);
    sl_tw_i64(w, 2, off);
    sl_tw_struct(w, 3);
    sl_tw_i32(w, 1, type);
    sl_tw_list(w, 2, TC_I32, 1);
    sl_tw_raw_i32(w, ENC_PLAIN);
    sl_tw_list(w, 3, TC_BINARY, 1);
    sl_tw_raw_bin(w, path, strlen(path));
    sl_tw_i32(w, 4, CODEC_NONE);
    sl_tw_i64(w, 5, nvals);
    sl_tw_i64(w, 6, len);
    sl_tw_i64(w, 7, len);
    sl_tw_i64(w, 9, off);
    sl_tw_end(w);
    sl_tw_end(w);
}

/* A file with three rows and three columns of what old writers made:
 *   ts    required INT96 (Impala/Spark)
 *   r     a bare `repeated int32` (2-level list without an annotation)
 *   lst   optional group (LIST) { repeated int32 array; }, the old parquet-avro form,
 *         with its definition levels BIT_PACKED. */
static void legacy_file(sl_buf_t *f)
{
    sl_buf_add(f, "PAR1", 4, NULL);
    int64_t off[3], len[3];
    sl_buf_t body;
    sl_buf_init(&body, 1 << 20);
    /* ts: julian day 2440588 (1970-01-01) + 1.5 s; 2451545 (2000-01-01) + 0; 2440587 + 23:59:59.999999999 */
    off[0] = (int64_t)f->len;
    uint64_t ns[3] = {1500000000ull, 0, 86399999999999ull};
    uint32_t jd[3] = {2440588, 2451545, 2440587};
    for (int i = 0; i < 3; i++) {
        sl_buf_add(&body, &ns[i], 8, NULL);
        le32(&body, jd[i]);
    }
    page_v1(f, &body, 3, ENC_PLAIN, ENC_RLE);
    len[0] = (int64_t)f->len - off[0];
    /* r: rows {1,2}, {}, {3}: reps 0,1,0,0 defs 1,1,0,1 (max def 1, max rep 1) */
    off[1] = (int64_t)f->len;
    sl_buf_reset(&body);
    uint32_t reps[] = {0, 1, 0, 0}, defs[] = {1, 1, 0, 1};
    levels(&body, reps, 4, 1);
    levels(&body, defs, 4, 1);
    le32(&body, 1), le32(&body, 2), le32(&body, 3);
    page_v1(f, &body, 4, ENC_PLAIN, ENC_RLE);
    len[1] = (int64_t)f->len - off[1];
    /* lst: rows NULL, {7,8}, {}: reps 0,0,1,0 defs 0,2,2,1 (max def 2, max rep 1);
     * definition levels BIT_PACKED at width 2, most significant bit first */
    off[2] = (int64_t)f->len;
    sl_buf_reset(&body);
    uint32_t lreps[] = {0, 0, 1, 0};
    levels(&body, lreps, 4, 1);
    uint8_t packed = 0 << 6 | 2 << 4 | 2 << 2 | 1; /* 00 10 10 01 */
    sl_buf_addc(&body, (char)packed, NULL);
    le32(&body, 7), le32(&body, 8);
    page_v1(f, &body, 4, ENC_PLAIN, ENC_BIT_PACKED);
    len[2] = (int64_t)f->len - off[2];
    sl_buf_free(&body);

    sl_buf_t m;
    sl_buf_init(&m, 1 << 20);
    sl_tw_t w;
    sl_tw_init(&w, &m, NULL);
    sl_tw_i32(&w, 1, 1);
    sl_tw_list(&w, 2, TC_STRUCT, 5);
    sel(&w, "schema", -1, -1, 3, -1);
    sel(&w, "ts", PT_INT96, REP_REQUIRED, 0, -1);
    sel(&w, "r", PT_INT32, REP_REPEATED, 0, -1);
    sel(&w, "lst", -1, REP_OPTIONAL, 1, CV_LIST);
    sel(&w, "array", PT_INT32, REP_REPEATED, 0, -1);
    sl_tw_i64(&w, 3, 3);
    sl_tw_list(&w, 4, TC_STRUCT, 1);
    sl_tw_elem(&w);
    sl_tw_list(&w, 1, TC_STRUCT, 3);
    chunk_meta(&w, PT_INT96, "ts", off[0], len[0], 3);
    chunk_meta(&w, PT_INT32, "r", off[1], len[1], 4);
    chunk_meta(&w, PT_INT32, "array", off[2], len[2], 4);
    sl_tw_i64(&w, 2, 100);
    sl_tw_i64(&w, 3, 3);
    sl_tw_end(&w);
    assert_int_equal(sl_tw_done(&w), 0);
    sl_buf_add(f, m.data, m.len, NULL);
    le32(f, (uint32_t)m.len);
    sl_buf_add(f, "PAR1", 4, NULL);
    sl_buf_free(&m);
}

static void legacy_layouts(void **state)
{
    (void)state;
    sl_buf_t f;
    sl_buf_init(&f, 1 << 20);
    legacy_file(&f);
    sl_pq_reader_t *r;
    char *got = read_all(&f, &r, NULL);
    assert_string_equal(got, "1970-01-01 00:00:01.5|{1,2}|NULL\n"
                             "2000-01-01 00:00:00|{}|{7,8}\n"
                             "1969-12-31 23:59:59.999999|{3}|{}\n");
    const sl_table_t *t = sl_pq_reader_table(r);
    assert_int_equal(t->columns[0].type, SL_T_TIMESTAMP);
    assert_int_equal(t->columns[1].type, SL_T_ARRAY);
    assert_int_equal(t->columns[1].elem, SL_T_INT32);
    assert_false(t->columns[1].nullable);
    assert_int_equal(t->columns[2].type, SL_T_ARRAY);
    assert_true(t->columns[2].nullable);
    free(got);
    sl_pq_reader_free(r);
    sl_buf_free(&f);
}

/* --- canonical text of edge values --------------------------------------------------- */

static void text_of(pq_vk_t vk, int ptype, int type_len, int scale, bool utc, const void *p,
                    uint32_t n, const char *want)
{
    pq_sel_t el = {.type = ptype, .type_len = type_len};
    pq_node_t node = {.el = &el, .vk = vk, .scale = scale, .utc = utc,
                      .type = vk == VK_TIME_US && utc ? SL_T_TIMETZ : SL_T_UNKNOWN};
    pq_v_t v = {p, n};
    sl_buf_t b;
    sl_buf_init(&b, 1 << 20);
    sl_err_t err = {0};
    assert_int_equal(sl_pq_text(&node, &v, &b, &err), 0);
    assert_string_equal(b.data, want);
    sl_buf_free(&b);
}

static void canonical_text(void **state)
{
    (void)state;
    int32_t i32 = -5;
    text_of(VK_DEC_I32, PT_INT32, 0, 3, false, &i32, 4, "-0.005");
    i32 = 0;
    text_of(VK_DEC_I32, PT_INT32, 0, 2, false, &i32, 4, "0.00");
    int64_t i64 = INT64_MIN;
    text_of(VK_DEC_I64, PT_INT64, 0, 0, false, &i64, 8, "-9223372036854775808");
    uint8_t be[] = {0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}; /* -2^143 */
    text_of(VK_DEC_BE, PT_BYTE_ARRAY, 0, 4, false, be, sizeof be,
            "-1115037259926531157076785913632418075299.0208");
    uint8_t one[] = {0xff};
    text_of(VK_DEC_BE, PT_FLBA, 1, 1, false, one, 1, "-0.1");
    double d = 0.1;
    text_of(VK_F64, PT_DOUBLE, 0, 0, false, &d, 8, "0.1");
    d = 1e15;
    text_of(VK_F64, PT_DOUBLE, 0, 0, false, &d, 8, "1e+15");
    d = 123456789012345.6;
    text_of(VK_F64, PT_DOUBLE, 0, 0, false, &d, 8, "123456789012345.6");
    d = 0.0001;
    text_of(VK_F64, PT_DOUBLE, 0, 0, false, &d, 8, "0.0001");
    d = 0.00001;
    text_of(VK_F64, PT_DOUBLE, 0, 0, false, &d, 8, "1e-05");
    d = -0.0;
    text_of(VK_F64, PT_DOUBLE, 0, 0, false, &d, 8, "-0");
    d = -999999999999999.0; /* whole numbers take the integer path up to the exponent form */
    text_of(VK_F64, PT_DOUBLE, 0, 0, false, &d, 8, "-999999999999999");
    d = -1e15;
    text_of(VK_F64, PT_DOUBLE, 0, 0, false, &d, 8, "-1e+15");
    d = 42.0;
    text_of(VK_F64, PT_DOUBLE, 0, 0, false, &d, 8, "42");
    d = 1.0 / 7.0;
    text_of(VK_F64, PT_DOUBLE, 0, 0, false, &d, 8, "0.14285714285714285");
    d = 2.5e-308; /* subnormal-adjacent: candidates from 15 digits, built without printf */
    text_of(VK_F64, PT_DOUBLE, 0, 0, false, &d, 8, "2.5e-308");
    float f = 1e6f;
    text_of(VK_F32, PT_FLOAT, 0, 0, false, &f, 4, "1e+06");
    f = 999999.0f;
    text_of(VK_F32, PT_FLOAT, 0, 0, false, &f, 4, "999999");
    f = -16777216.0f;
    text_of(VK_F32, PT_FLOAT, 0, 0, false, &f, 4, "-1.6777216e+07");
    f = 3.4028235e38f;
    text_of(VK_F32, PT_FLOAT, 0, 0, false, &f, 4, "3.4028235e+38");
    uint16_t h = 0x3c00; /* 1.0 as a half */
    text_of(VK_F16, PT_FLBA, 2, 0, false, &h, 2, "1");
    i32 = -719163; /* 0000-12-31, 1 BC */
    text_of(VK_DATE, PT_INT32, 0, 0, false, &i32, 4, "0001-12-31 BC");
    i32 = INT32_MAX;
    text_of(VK_DATE, PT_INT32, 0, 0, false, &i32, 4, "infinity");
    i64 = -1;
    text_of(VK_TS_NS, PT_INT64, 0, 0, true, &i64, 8, "1969-12-31 23:59:59.999999+00");
    i64 = INT64_MAX;
    text_of(VK_TS_US, PT_INT64, 0, 0, false, &i64, 8, "infinity");
    i64 = 1234;
    text_of(VK_TS_MS, PT_INT64, 0, 0, false, &i64, 8, "1970-01-01 00:00:01.234");
    i64 = 86400000000;
    text_of(VK_TIME_US, PT_INT64, 0, 0, true, &i64, 8, "24:00:00+00");
    uint32_t iv[3] = {14, 3, 3723004};
    text_of(VK_INTERVAL, PT_FLBA, 12, 0, false, iv, 12, "P1Y2M3DT1H2M3.004S");
    uint32_t zero[3] = {0};
    text_of(VK_INTERVAL, PT_FLBA, 12, 0, false, zero, 12, "PT0S");
    uint8_t u[16] = {0x55, 0x0e, 0x84, 0, 0xe2, 0x9b, 0x41, 0xd4, 0xa7, 0x16, 0x44, 0x66, 0x55, 0x44, 0, 0xff};
    text_of(VK_UUID, PT_FLBA, 16, 0, false, u, 16, "550e8400-e29b-41d4-a716-4466554400ff");
    uint8_t i96[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f}; /* Julian day 2^31-1 */
    pq_sel_t el96 = {.type = PT_INT96};
    pq_node_t n96 = {.el = &el96, .vk = VK_INT96};
    pq_v_t v96 = {i96, 12};
    sl_buf_t b96;
    sl_buf_init(&b96, 1024);
    sl_err_t e96 = {0};
    assert_int_equal(sl_pq_text(&n96, &v96, &b96, &e96), -1); /* out of range, not overflow */
    assert_int_equal(e96.code, SL_E_DATA);
    sl_buf_free(&b96);
    uint32_t u32 = 4294967295u;
    text_of(VK_U32, PT_INT32, 0, 0, false, &u32, 4, "4294967295");
}

/* --- broken files ----------------------------------------------------------------------- */

static void expect_open_error(sl_buf_t *f, sl_errcode_t code, const char *in_message)
{
    sl_fmt_range_t src = range_of(f);
    sl_pq_reader_t *r = NULL;
    sl_err_t err = {0};
    assert_int_equal(sl_pq_reader_open(&src, "bad.parquet", NULL, &r, &err), -1);
    assert_null(r);
    assert_int_equal(err.code, code);
    if (!strstr(err.message, in_message))
        fail_msg("message \"%s\" lacks \"%s\"", err.message, in_message);
    assert_non_null(strstr(err.message, "bad.parquet"));
}

static void broken_files(void **state)
{
    (void)state;
    sl_buf_t f;
    sl_buf_init(&f, 1 << 20);
    sl_buf_adds(&f, "PAR1", NULL);
    expect_open_error(&f, SL_E_DATA, "is not a Parquet file");
    sl_buf_adds(&f, "not a parquet file at all", NULL);
    expect_open_error(&f, SL_E_DATA, "is not a Parquet file");
    sl_buf_reset(&f);
    sl_buf_adds(&f, "PAR1\x02\x03\x04\xff\xff\xff\x7fPAR1", NULL); /* footer length too large */
    expect_open_error(&f, SL_E_DATA, "is not a Parquet file");
    sl_buf_reset(&f);
    sl_buf_add(&f, "PAR1\x19\x2c\x45\x10\x03\x00\x00\x00PARE", 16, NULL);
    expect_open_error(&f, SL_E_CONFIG, "encrypted");
    /* a footer that does not parse */
    sl_buf_reset(&f);
    sl_buf_add(&f, "PAR1\x15\x99\x99\x99\x99\x05\x00\x00\x00PAR1", 17, NULL);
    expect_open_error(&f, SL_E_DATA, "malformed Parquet metadata");

    /* a page cut short: the legacy file with its first page's body damaged */
    sl_buf_reset(&f);
    legacy_file(&f);
    f.data[4] = 0x7f; /* the first page header's first field header */
    sl_fmt_range_t src = range_of(&f);
    sl_pq_reader_t *r;
    sl_err_t err = {0};
    assert_int_equal(sl_pq_reader_open(&src, "bad.parquet", NULL, &r, &err), 0);
    assert_int_equal(sl_pq_reader_seek(r, 0, &err), 0);
    sl_value_t vals[3];
    assert_int_equal(sl_pq_reader_next(r, vals, &err), -1);
    assert_int_equal(err.code, SL_E_DATA);
    assert_non_null(strstr(err.message, "bad.parquet"));
    assert_non_null(strstr(err.message, "row group 0"));
    sl_pq_reader_free(r);
    sl_buf_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip_dictionary_snappy),
        cmocka_unit_test(roundtrip_plain_zstd),
        cmocka_unit_test(roundtrip_plain_gzip),
        cmocka_unit_test(legacy_layouts),
        cmocka_unit_test(canonical_text),
        cmocka_unit_test(broken_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
