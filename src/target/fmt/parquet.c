/*
 * parquet.c: the Parquet encoder (fmt.h ops). A flat schema (one OPTIONAL leaf per
 * column, parquet_type.c), rows buffered column by column (parquet_col.c) until the row
 * group passes row_group_bytes (uncompressed), then every column chunk is written out in
 * order; finish writes the footer: FileMetaData (Thrift compact), its length, "PAR1".
 * The RowGroup metadata is serialized as each row group is written, so what stays in
 * memory is one row group plus a few hundred bytes per written row group.
 *
 * Ownership and threads: see fmt.h.
 */
#include <stdlib.h>
#include <string.h>

#include "target/fmt/parquet_int.h"

struct sl_fmt_enc {
    const sl_table_t *t;
    sl_fmt_opts_t o;
    sl_fmt_sink_t sink;
    pq_type_t *types;
    pq_col_t **cols;
    sl_buf_t plain;    /* one value's PLAIN bytes */
    sl_buf_t rowbuf;   /* the row's PLAIN values, column i at offs[i] */
    size_t *offs;
    sl_buf_t rgs;      /* serialized RowGroup structs, one per written row group */
    uint32_t nrg;
    int64_t pos;       /* bytes handed to the sink */
    int64_t rows, rg_rows;
    size_t rg_bytes;   /* estimate of the current row group */
    uint32_t since_check;
};

static int sink_write(struct sl_fmt_enc *e, const void *p, size_t n, sl_err_t *err)
{
    if (e->sink.write(e->sink.ctx, p, n, err) < 0)
        return -1;
    e->pos += (int64_t)n;
    return 0;
}

static void enc_free(sl_fmt_enc_t *e)
{
    if (!e)
        return;
    for (int i = 0; e->cols && i < e->t->ncolumns; i++)
        sl_pq_col_free(e->cols[i]);
    free(e->cols);
    free(e->types);
    sl_buf_free(&e->plain);
    sl_buf_free(&e->rowbuf);
    free(e->offs);
    sl_buf_free(&e->rgs);
    free(e);
}

static int pq_open(const sl_table_t *t, const sl_fmt_opts_t *o, sl_fmt_sink_t sink,
                   sl_fmt_enc_t **out, sl_err_t *err)
{
    if (o->codec != SL_CODEC_NONE && o->codec != SL_CODEC_SNAPPY && o->codec != SL_CODEC_GZIP &&
        o->codec != SL_CODEC_ZSTD)
        return sl_err_set(err, SL_E_CONFIG, "unknown Parquet codec %d", (int)o->codec);
    if (t->ncolumns <= 0) {
        char tb[256];
        return sl_err_set(err, SL_E_SCHEMA, "table %s has no columns",
                          sl_table_label(t, tb, sizeof tb));
    }
    struct sl_fmt_enc *e = calloc(1, sizeof *e);
    if (!e)
        return sl_err_set(err, SL_E_LIMIT, "out of memory");
    e->t = t;
    e->o = *o;
    e->sink = sink;
    if (e->o.row_group_bytes <= 0)
        e->o.row_group_bytes = INT64_C(64) << 20;
    if (e->o.page_bytes <= 0)
        e->o.page_bytes = INT64_C(1) << 20;
    if (e->o.page_bytes > (INT64_C(1) << 30))
        e->o.page_bytes = INT64_C(1) << 30;
    sl_buf_init(&e->plain, (size_t)3 << 30);
    sl_buf_init(&e->rowbuf, (size_t)3 << 30);
    sl_buf_init(&e->rgs, (size_t)1 << 30);
    e->types = calloc((size_t)t->ncolumns, sizeof *e->types);
    e->cols = calloc((size_t)t->ncolumns, sizeof *e->cols);
    e->offs = calloc((size_t)t->ncolumns + 1, sizeof *e->offs);
    if (!e->types || !e->cols || !e->offs) {
        enc_free(e);
        return sl_err_set(err, SL_E_LIMIT, "out of memory");
    }
    pq_col_opts_t co = {.codec = o->codec, .level = o->level,
                        .page_bytes = (size_t)e->o.page_bytes, .dictionary = o->dictionary};
    for (int i = 0; i < t->ncolumns; i++) {
        sl_pq_type(&t->columns[i], &e->types[i]);
        if (sl_pq_col_new(&e->types[i], &co, &e->cols[i], err) < 0) {
            enc_free(e);
            return -1;
        }
    }
    if (sink_write(e, "PAR1", 4, err) < 0) {
        enc_free(e);
        return -1;
    }
    *out = e;
    return 0;
}

static int flush_row_group(struct sl_fmt_enc *e, sl_err_t *err)
{
    if (e->rg_rows == 0)
        return 0;
    sl_tw_t w;
    sl_tw_init(&w, &e->rgs, err);
    int64_t start = e->pos, unc = 0;
    sl_tw_elem(&w); /* RowGroup */
    sl_tw_list(&w, 1, TC_STRUCT, (uint32_t)e->t->ncolumns);
    for (int i = 0; i < e->t->ncolumns; i++) {
        if (sl_pq_col_flush(e->cols[i], e->t->columns[i].name, e->sink, &e->pos, &w, &unc,
                            err) < 0)
            return -1;
    }
    sl_tw_i64(&w, 2, unc);
    sl_tw_i64(&w, 3, e->rg_rows);
    sl_tw_i64(&w, 5, start);
    sl_tw_i64(&w, 6, e->pos - start);
    if (e->nrg <= INT16_MAX) /* ordinal is optional and only 16 bits wide */
        sl_tw_i16(&w, 7, (int16_t)e->nrg);
    sl_tw_end(&w);
    if (w.failed)
        return -1;
    e->nrg++;
    e->rg_rows = 0;
    e->rg_bytes = 0;
    return 0;
}

static int pq_write_row(sl_fmt_enc_t *e, const sl_value_t *vals, sl_err_t *err)
{
    /* Convert the whole row first (into rowbuf, column i at offs[i]): a refused value
     * leaves the file as it was. */
    sl_buf_reset(&e->rowbuf);
    for (int i = 0; i < e->t->ncolumns; i++) {
        e->offs[i] = e->rowbuf.len;
        if (vals[i].len < 0)
            continue;
        if (sl_pq_plain(e->t, i, &e->types[i], &vals[i], &e->plain, err) < 0 ||
            sl_buf_add(&e->rowbuf, e->plain.data, e->plain.len, err) < 0)
            return -1;
    }
    e->offs[e->t->ncolumns] = e->rowbuf.len;
    for (int i = 0; i < e->t->ncolumns; i++) {
        sl_value_t pv = {NULL, -1};
        if (vals[i].len >= 0)
            pv = (sl_value_t){e->rowbuf.data + e->offs[i], (int64_t)(e->offs[i + 1] - e->offs[i])};
        if (sl_pq_col_add(e->cols[i], pv.len < 0 ? NULL : &pv, err) < 0)
            return -1;
        e->rg_bytes += pv.len < 0 ? 1 : (size_t)pv.len;
    }
    if (e->rowbuf.cap > ((size_t)16 << 20)) { /* a huge row: give the memory back */
        sl_buf_free(&e->rowbuf);
        sl_buf_init(&e->rowbuf, (size_t)3 << 30);
    }
    e->rows++;
    e->rg_rows++;
    /* The cheap running estimate triggers the exact count now and then. */
    if (e->rg_bytes >= (size_t)e->o.row_group_bytes) {
        size_t exact = 0;
        for (int i = 0; i < e->t->ncolumns; i++)
            exact += sl_pq_col_bytes(e->cols[i]);
        e->rg_bytes = exact;
        if (exact >= (size_t)e->o.row_group_bytes)
            return flush_row_group(e, err);
    }
    return 0;
}

static int pq_finish(sl_fmt_enc_t *e, sl_err_t *err)
{
    if (flush_row_group(e, err) < 0)
        return -1;
    sl_buf_t f;
    sl_buf_init(&f, (size_t)2 << 30);
    sl_tw_t w;
    sl_tw_init(&w, &f, err);
    sl_tw_i32(&w, 1, 1); /* version */
    sl_tw_list(&w, 2, TC_STRUCT, (uint32_t)e->t->ncolumns + 1);
    sl_tw_elem(&w); /* the root */
    sl_tw_bin(&w, 4, e->t->name, strlen(e->t->name));
    sl_tw_i32(&w, 5, e->t->ncolumns);
    sl_tw_end(&w);
    for (int i = 0; i < e->t->ncolumns; i++)
        sl_pq_schema_elem(&w, &e->t->columns[i], &e->types[i]);
    sl_tw_i64(&w, 3, e->rows);
    sl_tw_list(&w, 4, TC_STRUCT, e->nrg);
    if (!w.failed && sl_buf_add(&f, e->rgs.data, e->rgs.len, err) < 0)
        w.failed = true;
    static const char by[] = "sluice";
    sl_tw_bin(&w, 6, by, sizeof by - 1);
    sl_tw_list(&w, 7, TC_STRUCT, (uint32_t)e->t->ncolumns);
    for (int i = 0; i < e->t->ncolumns; i++) { /* ColumnOrder: TYPE_ORDER */
        sl_tw_elem(&w);
        sl_tw_empty(&w, 1);
        sl_tw_end(&w);
    }
    int rc = sl_tw_done(&w);
    if (rc == 0) {
        char tail[8];
        uint32_t n = (uint32_t)f.len;
        for (int i = 0; i < 4; i++)
            tail[i] = (char)(n >> (8 * i));
        memcpy(tail + 4, "PAR1", 4);
        rc = sink_write(e, f.data, f.len, err) < 0 || sink_write(e, tail, 8, err) < 0 ? -1 : 0;
    }
    sl_buf_free(&f);
    return rc;
}

static uint64_t pq_size(const sl_fmt_enc_t *e)
{
    size_t buffered = 0;
    for (int i = 0; i < e->t->ncolumns; i++)
        buffered += sl_pq_col_bytes(e->cols[i]);
    return (uint64_t)e->pos + buffered;
}

/* The values sl_pq_plain refuses for having no Parquet form (not for bad text). */
static int pq_refuses(const sl_table_t *t, int col, const sl_value_t *v, char *why, size_t whylen)
{
    pq_type_t pt;
    sl_pq_type(&t->columns[col], &pt);
    if (pt.kind != PK_DEC32 && pt.kind != PK_DEC64 && pt.kind != PK_DECFL && pt.kind != PK_DATE &&
        pt.kind != PK_TIME && pt.kind != PK_TS)
        return 0;
    sl_buf_t b;
    sl_buf_init(&b, 64);
    sl_err_t err = {0};
    int rc = sl_pq_plain(t, col, &pt, v, &b, &err);
    sl_buf_free(&b);
    if (rc == 0)
        return 0;
    snprintf(why, whylen, "%s", err.detail[0] ? err.detail : err.message);
    return 1;
}

const struct sl_fmt_ops sl_fmt_parquet_ops = {
    .name = "parquet",
    .ext = "parquet",
    .open = pq_open,
    .write_row = pq_write_row,
    .finish = pq_finish,
    .free = enc_free,
    .size = pq_size,
    .refuses = pq_refuses,
};
