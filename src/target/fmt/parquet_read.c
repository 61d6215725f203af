/*
 * parquet_read.c: the Parquet reader (fmt_read.h). Opening reads the file's tail in one
 * request (the footer is usually inside the last 64 KiB; a larger one costs a second
 * read), parses FileMetaData (parquet_meta.c) and derives the table from the schema
 * (parquet_schema.c). Rows then come one row group at a time: every leaf column has its
 * own chunk reader (parquet_chunk.c) and each row takes one record from every top-level
 * field: a flat value as canonical text (parquet_text.c), a list or a nested field
 * assembled from its leaves (parquet_nest.c).
 *
 * Memory: the footer metadata, and per leaf column one window of the file, one
 * decompressed page and the dictionary; one row's values.
 * Ownership and threads: see fmt_read.h.
 */
#include <stdlib.h>
#include <string.h>

#include "target/fmt/parquet_rd.h"

enum { TAIL = 64 * 1024 };

struct sl_pq_reader {
    sl_fmt_range_t src;
    char *name;
    sl_pq_read_opts_t o;
    pq_meta_t m;
    pq_schema_t s;
    sl_table_t *t;
    pq_chunk_t **chunks;   /* by leaf */
    int rg;                /* the current row group, -1 before seek */
    int64_t row;           /* rows returned from it */
    sl_buf_t out;          /* the row's values */
    sl_buf_t tmp;
    size_t *offs;
    bool *nulls;
};

void sl_pq_read_opts_default(sl_pq_read_opts_t *o)
{
    o->window_bytes = (size_t)1 << 20;
    o->max_page_bytes = (size_t)1 << 30;
    o->max_value_bytes = (size_t)1 << 30;
}

static int file_err(sl_err_t *err, const char *name, const char *detail)
{
    sl_err_set(err, SL_E_DATA, "file \"%s\" is not a Parquet file", name);
    sl_err_detail(err, "%s", detail);
    return -1;
}

/* The footer: FileMetaData bytes into buf. */
static int footer(struct sl_pq_reader *r, sl_buf_t *buf, sl_err_t *err)
{
    uint64_t size = r->src.size;
    if (size < 12)
        return file_err(err, r->name, "It is shorter than Parquet's magic bytes and footer.");
    size_t tail = size < TAIL ? (size_t)size : TAIL;
    if (sl_buf_reserve(buf, tail, err) < 0 ||
        r->src.read(r->src.ctx, size - tail, buf->data, tail, err) < 0)
        return -1;
    const uint8_t *end = (const uint8_t *)buf->data + tail;
    if (memcmp(end - 4, "PARE", 4) == 0) {
        sl_err_set(err, SL_E_CONFIG, "file \"%s\" is an encrypted Parquet file", r->name);
        sl_err_hint(err, "sluice reads unencrypted Parquet files only.");
        return -1;
    }
    if (memcmp(end - 4, "PAR1", 4) != 0)
        return file_err(err, r->name, "It does not end with the magic bytes PAR1.");
    uint32_t flen = (uint32_t)end[-8] | (uint32_t)end[-7] << 8 | (uint32_t)end[-6] << 16 |
                    (uint32_t)end[-5] << 24;
    if ((uint64_t)flen + 12 > size)
        return file_err(err, r->name, "Its footer length is larger than the file.");
    if (flen + 8 <= tail) {
        memmove(buf->data, buf->data + tail - 8 - flen, flen);
    } else {
        sl_buf_reset(buf);
        if (sl_buf_reserve(buf, flen, err) < 0 ||
            r->src.read(r->src.ctx, size - 8 - flen, buf->data, flen, err) < 0)
            return -1;
    }
    buf->len = flen;
    return 0;
}

/* Every row group must hold one chunk per leaf, each with the leaf's physical type. */
static int check_row_groups(struct sl_pq_reader *r, sl_err_t *err)
{
    for (int g = 0; g < r->m.nrg; g++) {
        if (r->m.rgs[g].ncols != r->s.nleaves) {
            sl_err_set(err, SL_E_DATA, "malformed Parquet metadata in file \"%s\"", r->name);
            sl_err_detail(err, "Row group %d has %d column chunks; the schema has %d columns.",
                          g, r->m.rgs[g].ncols, r->s.nleaves);
            return -1;
        }
    }
    return 0;
}

int sl_pq_reader_open(const sl_fmt_range_t *src, const char *name, const sl_pq_read_opts_t *o,
                      sl_pq_reader_t **out, sl_err_t *err)
{
    struct sl_pq_reader *r = calloc(1, sizeof *r);
    if (!r)
        return sl_err_set(err, SL_E_LIMIT, "out of memory");
    r->src = *src;
    r->name = sl_strdup(name);
    if (o)
        r->o = *o;
    else
        sl_pq_read_opts_default(&r->o);
    r->rg = -1;
    if (!(r->t = calloc(1, sizeof *r->t))) {
        free(r->name);
        free(r);
        return sl_err_set(err, SL_E_LIMIT, "out of memory");
    }
    r->t->name = sl_strdup("");
    sl_buf_init(&r->out, r->o.max_value_bytes + ((size_t)64 << 20));
    sl_buf_init(&r->tmp, r->o.max_value_bytes + ((size_t)64 << 20));
    sl_buf_t fb;
    sl_buf_init(&fb, (size_t)1 << 30);
    int rc = footer(r, &fb, err);
    if (rc == 0 && (rc = sl_pq_meta_parse((const uint8_t *)fb.data, fb.len, &r->m, err)) < 0)
        sl_err_prefix(err, "file \"%s\": ", name);
    sl_buf_free(&fb);
    if (rc < 0)
        goto fail;
    if (sl_pq_schema_build(&r->m, &r->s, r->t, err) < 0) {
        sl_err_prefix(err, "file \"%s\": ", name);
        goto fail;
    }
    if (check_row_groups(r, err) < 0)
        goto fail;
    r->chunks = calloc((size_t)r->s.nleaves, sizeof *r->chunks);
    r->offs = calloc((size_t)r->s.nfields, sizeof *r->offs);
    r->nulls = calloc((size_t)r->s.nfields, sizeof *r->nulls);
    if (!r->chunks || !r->offs || !r->nulls) {
        sl_err_set(err, SL_E_LIMIT, "out of memory");
        goto fail;
    }
    for (int l = 0; l < r->s.nleaves; l++)
        if (sl_pq_chunk_new(&r->src, &r->o, r->s.leaves[l], &r->chunks[l], err) < 0)
            goto fail;
    r->t->est_rows = r->m.num_rows;
    r->t->est_bytes = (int64_t)src->size;
    *out = r;
    return 0;
fail:
    sl_pq_reader_free(r);
    return -1;
}

void sl_pq_reader_free(sl_pq_reader_t *r)
{
    if (!r)
        return;
    for (int l = 0; r->chunks && l < r->s.nleaves; l++)
        sl_pq_chunk_free(r->chunks[l]);
    free(r->chunks);
    free(r->offs);
    free(r->nulls);
    sl_buf_free(&r->out);
    sl_buf_free(&r->tmp);
    sl_pq_schema_free(&r->s);
    sl_pq_meta_free(&r->m);
    sl_table_free(r->t);
    free(r->name);
    free(r);
}

const sl_table_t *sl_pq_reader_table(const sl_pq_reader_t *r) { return r->t; }
int sl_pq_reader_row_groups(const sl_pq_reader_t *r) { return r->m.nrg; }
int64_t sl_pq_reader_rows(const sl_pq_reader_t *r) { return r->m.num_rows; }

int64_t sl_pq_reader_rg_rows(const sl_pq_reader_t *r, int rg)
{
    return rg >= 0 && rg < r->m.nrg ? r->m.rgs[rg].num_rows : 0;
}

const char *sl_pq_reader_created_by(const sl_pq_reader_t *r)
{
    return r->m.created_by ? r->m.created_by : "";
}

static void where(const struct sl_pq_reader *r, int leaf, sl_err_t *err)
{
    if (leaf >= 0)
        sl_err_prefix(err, "file \"%s\", row group %d, column \"%s\": ", r->name, r->rg,
                      r->s.leaves[leaf]->name);
    else
        sl_err_prefix(err, "file \"%s\", row group %d: ", r->name, r->rg);
}

int sl_pq_reader_seek(sl_pq_reader_t *r, int rg, sl_err_t *err)
{
    if (rg < 0 || rg >= r->m.nrg)
        return sl_err_set(err, SL_E_INTERNAL, "file \"%s\" has no row group %d", r->name, rg);
    r->rg = rg;
    r->row = 0;
    for (int l = 0; l < r->s.nleaves; l++)
        if (sl_pq_chunk_start(r->chunks[l], &r->m.rgs[rg].cols[l], err) < 0) {
            where(r, l, err);
            return -1;
        }
    return 0;
}

/* Field i's value of the current row, appended to r->out. */
static int field_value(struct sl_pq_reader *r, int i, sl_err_t *err)
{
    const pq_node_t *f = r->s.fields[i];
    r->nulls[i] = false;
    if (r->s.out[i] == OUT_FLAT) {
        int def;
        pq_v_t v;
        int rc = sl_pq_chunk_take(r->chunks[f->first_leaf], &def, &v, err);
        if (rc == 0) {
            sl_err_set(err, SL_E_DATA, "corrupt Parquet row group");
            sl_err_detail(err, "The column chunk holds fewer values than the row group's %lld rows.",
                          (long long)r->m.rgs[r->rg].num_rows);
        }
        if (rc <= 0)
            return -1;
        if (def < f->def) {
            r->nulls[i] = true;
            return 0;
        }
        return sl_pq_text(f, &v, &r->out, err);
    }
    pq_asm_t a = {.chunks = r->chunks, .out = &r->out, .tmp = &r->tmp, .max = r->o.max_value_bytes};
    return r->s.out[i] == OUT_ARRAY ? sl_pq_asm_array(&a, f, &r->nulls[i], err)
                                    : sl_pq_asm_json(&a, f, &r->nulls[i], err);
}

int sl_pq_reader_next(sl_pq_reader_t *r, sl_value_t *vals, sl_err_t *err)
{
    if (r->rg < 0)
        return sl_err_set(err, SL_E_INTERNAL, "Parquet reader used before seek");
    if (r->row >= r->m.rgs[r->rg].num_rows)
        return 0;
    sl_buf_reset(&r->out);
    for (int i = 0; i < r->s.nfields; i++) {
        r->offs[i] = r->out.len;
        if (field_value(r, i, err) < 0) {
            where(r, r->s.fields[i]->first_leaf, err);
            return -1;
        }
    }
    for (int i = 0; i < r->s.nfields; i++) {
        size_t end = i + 1 < r->s.nfields ? r->offs[i + 1] : r->out.len;
        vals[i].p = r->out.data ? r->out.data + r->offs[i] : "";
        vals[i].len = r->nulls[i] ? -1 : (int64_t)(end - r->offs[i]);
    }
    r->row++;
    return 1;
}
