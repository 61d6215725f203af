/*
 * parquet_col.c: one column chunk of the row group being built. Values arrive as PLAIN
 * bytes (parquet_type.c). The current page holds definition levels (one byte per row)
 * and either dictionary indices or PLAIN values; at page_bytes (or 20,000 values) it is
 * encoded, compressed and kept with its page header. The dictionary (PLAIN entries and
 * an open-addressing hash table) grows until it passes page_bytes, or until a page ends
 * with more than half of the chunk's values distinct; then the chunk falls back to PLAIN
 * for its remaining pages (the earlier pages keep using the dictionary). Statistics:
 * min, max (in the column's sort order, NaN left out; a value over 64 bytes makes the
 * chunk's min/max absent) and the NULL count.
 *
 * Memory: the finished pages of this row group (compressed), the current page, and the
 * dictionary; the encoder flushes the row group when the sum passes row_group_bytes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "target/fmt/parquet_int.h"

#define BUF_MAX ((size_t)3 << 30)
enum { STAT_MAX = 64, PAGE_ROWS = 20000 };
enum { ENC_PLAIN = 0, ENC_RLE = 3, ENC_RLE_DICTIONARY = 8 };
enum { PAGE_DATA = 0, PAGE_DICTIONARY = 2 };

struct pq_col {
    pq_type_t pt;
    pq_col_opts_t o;
    /* current page */
    sl_buf_t defs;    /* one byte (0/1) per value */
    sl_buf_t plain;   /* PLAIN values (plain mode) */
    uint32_t *idx;    /* dictionary indices (dictionary mode) */
    size_t nidx, capidx;
    uint32_t page_values;
    bool in_dict;     /* current values go to the dictionary */
    bool used_dict;   /* a page of this chunk is dictionary-encoded */
    bool used_plain;  /* a page of this chunk is PLAIN */
    /* dictionary */
    sl_buf_t dict;    /* PLAIN entries */
    uint32_t *off;    /* entry i starts at dict.data + off[i]; off[ndict] = dict.len */
    uint32_t ndict;
    size_t capoff;
    uint32_t *slot;   /* entry index + 1, 0 = empty */
    uint32_t nslot;
    /* finished pages of the chunk */
    sl_buf_t pages;
    int64_t unc_pages; /* their uncompressed size, headers included */
    int64_t values, nulls;
    /* statistics */
    bool has_mm, mm_off;
    sl_buf_t min, max;
    /* scratch */
    sl_buf_t body, comp, hdr;
};

static void bufs(pq_col_t *c, bool init)
{
    sl_buf_t *all[] = {&c->defs, &c->plain, &c->dict, &c->pages, &c->min, &c->max,
                       &c->body, &c->comp, &c->hdr};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (init)
            sl_buf_init(all[i], BUF_MAX);
        else
            sl_buf_free(all[i]);
}

int sl_pq_col_new(const pq_type_t *pt, const pq_col_opts_t *o, pq_col_t **out, sl_err_t *err)
{
    pq_col_t *c = calloc(1, sizeof *c);
    if (!c)
        return sl_err_set(err, SL_E_LIMIT, "out of memory");
    c->pt = *pt;
    c->o = *o;
    bufs(c, true);
    c->in_dict = o->dictionary && pt->ptype != PT_BOOLEAN;
    *out = c;
    return 0;
}

void sl_pq_col_free(pq_col_t *c)
{
    if (!c)
        return;
    bufs(c, false);
    free(c->idx);
    free(c->off);
    free(c->slot);
    free(c);
}

/* --- statistics ---------------------------------------------------------------------- */

/* The value's bytes as statistics hold them (BYTE_ARRAY without its length prefix). */
static void stat_bytes(const pq_col_t *c, const sl_value_t *plain, const char **p, size_t *n)
{
    bool ba = c->pt.ptype == PT_BYTE_ARRAY;
    *p = plain->p + (ba ? 4 : 0);
    *n = (size_t)plain->len - (ba ? 4 : 0);
}

static int64_t le(const char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | (unsigned char)p[i];
    return n == 4 ? (int64_t)(int32_t)(uint32_t)v : (int64_t)v;
}

static double fl(const pq_col_t *c, const char *p)
{
    if (c->pt.ptype == PT_FLOAT) {
        float f;
        memcpy(&f, p, 4);
        return f;
    }
    double d;
    memcpy(&d, p, 8);
    return d;
}

/* <0, 0, >0 as a is below, equal to, above b in the column's sort order. */
static int cmp(const pq_col_t *c, const char *a, size_t an, const char *b, size_t bn)
{
    switch (c->pt.order) {
    case PO_SIGNED: {
        int64_t x = le(a, (int)an), y = le(b, (int)bn);
        return x < y ? -1 : x > y;
    }
    case PO_UNSIGNED: {
        uint64_t x = (uint64_t)le(a, 8), y = (uint64_t)le(b, 8);
        return x < y ? -1 : x > y;
    }
    case PO_FLOAT: {
        double x = fl(c, a), y = fl(c, b);
        return x < y ? -1 : x > y;
    }
    case PO_BOOL:
        return (int)(unsigned char)a[0] - (int)(unsigned char)b[0];
    case PO_DECBE: { /* big-endian two's complement of equal length: flip the sign bit */
        int x = (unsigned char)a[0] ^ 0x80, y = (unsigned char)b[0] ^ 0x80;
        if (x != y)
            return x - y;
        return memcmp(a + 1, b + 1, an - 1);
    }
    case PO_BYTES:
    default: {
        int r = memcmp(a, b, an < bn ? an : bn);
        return r ? r : (an < bn ? -1 : an > bn);
    }
    }
}

static int stats_add(pq_col_t *c, const sl_value_t *plain, sl_err_t *err)
{
    if (c->mm_off)
        return 0;
    const char *p;
    size_t n;
    stat_bytes(c, plain, &p, &n);
    if (c->pt.order == PO_FLOAT && isnan(fl(c, p)))
        return 0;
    if (n > STAT_MAX) {
        c->mm_off = true;
        c->has_mm = false;
        return 0;
    }
    if (!c->has_mm) {
        c->has_mm = true;
        sl_buf_reset(&c->min);
        sl_buf_reset(&c->max);
        return sl_buf_add(&c->min, p, n, err) < 0 ? -1 : sl_buf_add(&c->max, p, n, err);
    }
    if (cmp(c, p, n, c->min.data, c->min.len) < 0) {
        sl_buf_reset(&c->min);
        if (sl_buf_add(&c->min, p, n, err) < 0)
            return -1;
    }
    if (cmp(c, p, n, c->max.data, c->max.len) > 0) {
        sl_buf_reset(&c->max);
        if (sl_buf_add(&c->max, p, n, err) < 0)
            return -1;
    }
    return 0;
}

/* --- dictionary ---------------------------------------------------------------------- */

/* Makes room for `need` elements in the uint32_t array *a of capacity *cap. */
static int grow(uint32_t **a, size_t *cap, size_t need, sl_err_t *err)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 1024;
    while (nc < need)
        nc *= 2;
    uint32_t *p = realloc(*a, nc * sizeof *p);
    if (!p)
        return sl_err_set(err, SL_E_LIMIT, "out of memory growing a Parquet column buffer");
    *a = p;
    *cap = nc;
    return 0;
}

/* A multiply-xorshift hash, 8 bytes a step (byte-wise FNV was the writer's hot spot). */
static uint64_t hash(const char *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
    for (; n >= 8; p += 8, n -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33; /* murmur3's finalizer: the low bits index the table */
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
}

static bool same(const pq_col_t *c, uint32_t e, const char *p, size_t n)
{
    size_t len = c->off[e + 1] - c->off[e];
    return len == n && memcmp(c->dict.data + c->off[e], p, n) == 0;
}

static int grow_slots(pq_col_t *c, sl_err_t *err)
{
    uint32_t ns = c->nslot ? c->nslot * 2 : 1024;
    uint32_t *s = calloc(ns, sizeof *s);
    if (!s)
        return sl_err_set(err, SL_E_LIMIT, "out of memory growing a Parquet dictionary");
    for (uint32_t e = 0; e < c->ndict; e++) {
        uint32_t h = (uint32_t)hash(c->dict.data + c->off[e], c->off[e + 1] - c->off[e]);
        for (uint32_t k = h & (ns - 1);; k = (k + 1) & (ns - 1))
            if (!s[k]) {
                s[k] = e + 1;
                break;
            }
    }
    free(c->slot);
    c->slot = s;
    c->nslot = ns;
    return 0;
}

/* Index of the entry equal to plain, added when new. */
static int dict_find(pq_col_t *c, const sl_value_t *plain, uint32_t *out, sl_err_t *err)
{
    if ((c->ndict + 1) * 2 > c->nslot && grow_slots(c, err) < 0)
        return -1;
    uint32_t h = (uint32_t)hash(plain->p, (size_t)plain->len);
    uint32_t k = h & (c->nslot - 1);
    for (; c->slot[k]; k = (k + 1) & (c->nslot - 1))
        if (same(c, c->slot[k] - 1, plain->p, (size_t)plain->len)) {
            *out = c->slot[k] - 1;
            return 0;
        }
    if (grow(&c->off, &c->capoff, c->ndict + 2, err) < 0)
        return -1;
    if (sl_buf_add(&c->dict, plain->p, (size_t)plain->len, err) < 0)
        return -1;
    c->off[c->ndict] = (uint32_t)(c->dict.len - (size_t)plain->len);
    c->off[++c->ndict] = (uint32_t)c->dict.len;
    c->slot[k] = c->ndict;
    *out = c->ndict - 1;
    return 0;
}

/* --- pages ---------------------------------------------------------------------------- */

/* Appends header + compressed body to pages. */
static int emit_page(pq_col_t *c, int type, uint32_t nvals, int enc, sl_err_t *err)
{
    if (c->body.len > INT32_MAX)
        return sl_err_set(err, SL_E_LIMIT, "a Parquet page exceeds 2 GB");
    if (sl_fmt_compress_block(c->o.codec, c->o.level, c->body.data, c->body.len, &c->comp,
                              err) < 0)
        return -1;
    sl_tw_t w;
    sl_buf_reset(&c->hdr);
    sl_tw_init(&w, &c->hdr, err);
    sl_tw_i32(&w, 1, type);
    sl_tw_i32(&w, 2, (int32_t)c->body.len);
    sl_tw_i32(&w, 3, (int32_t)c->comp.len);
    if (type == PAGE_DATA) {
        sl_tw_struct(&w, 5);
        sl_tw_i32(&w, 1, (int32_t)nvals);
        sl_tw_i32(&w, 2, enc);
        sl_tw_i32(&w, 3, ENC_RLE);
        sl_tw_i32(&w, 4, ENC_RLE);
        sl_tw_end(&w);
    } else {
        sl_tw_struct(&w, 7);
        sl_tw_i32(&w, 1, (int32_t)nvals);
        sl_tw_i32(&w, 2, ENC_PLAIN);
        sl_tw_end(&w);
    }
    if (sl_tw_done(&w) < 0 || sl_buf_add(&c->pages, c->hdr.data, c->hdr.len, err) < 0 ||
        sl_buf_add(&c->pages, c->comp.data, c->comp.len, err) < 0)
        return -1;
    c->unc_pages += (int64_t)(c->hdr.len + c->body.len);
    return 0;
}

static int flush_page(pq_col_t *c, sl_err_t *err)
{
    if (c->page_values == 0)
        return 0;
    sl_buf_reset(&c->body);
    /* definition levels: 4-byte length, then the RLE hybrid at bit width 1 */
    if (sl_buf_add(&c->body, "\0\0\0\0", 4, err) < 0 ||
        sl_rle_encode_bits(&c->body, (const uint8_t *)c->defs.data, c->defs.len, err) < 0)
        return -1;
    uint32_t dl = (uint32_t)(c->body.len - 4);
    for (int i = 0; i < 4; i++)
        c->body.data[i] = (char)(dl >> (8 * i));
    int enc = ENC_PLAIN;
    if (c->in_dict) {
        int bw = sl_rle_width(c->ndict ? c->ndict - 1 : 0);
        if (sl_buf_addc(&c->body, (char)bw, err) < 0 ||
            sl_rle_encode(&c->body, c->idx, c->nidx, bw, err) < 0)
            return -1;
        enc = ENC_RLE_DICTIONARY;
        c->used_dict = true;
    } else {
        if (c->pt.ptype == PT_BOOLEAN) { /* PLAIN booleans: bit-packed, LSB first */
            size_t nb = (c->plain.len + 7) / 8;
            if (sl_buf_reserve(&c->body, nb, err) < 0)
                return -1;
            unsigned char *o = (unsigned char *)c->body.data + c->body.len;
            memset(o, 0, nb);
            for (size_t i = 0; i < c->plain.len; i++)
                if (c->plain.data[i])
                    o[i >> 3] |= (unsigned char)(1u << (i & 7));
            c->body.len += nb;
        } else if (sl_buf_add(&c->body, c->plain.data, c->plain.len, err) < 0) {
            return -1;
        }
        c->used_plain = true;
    }
    if (emit_page(c, PAGE_DATA, c->page_values, enc, err) < 0)
        return -1;
    /* Mostly distinct values (keys, timestamps): the dictionary costs more than it saves. */
    if (c->in_dict && c->ndict > 1000 && (int64_t)c->ndict * 2 > c->values - c->nulls)
        c->in_dict = false;
    sl_buf_reset(&c->defs);
    sl_buf_reset(&c->plain);
    c->nidx = 0;
    c->page_values = 0;
    return 0;
}

static size_t page_bytes(const pq_col_t *c)
{
    size_t vals = c->in_dict ? c->nidx * (size_t)sl_rle_width(c->ndict) / 8 : c->plain.len;
    return c->defs.len / 8 + vals;
}

int sl_pq_col_add(pq_col_t *c, const sl_value_t *plain, sl_err_t *err)
{
    if (sl_buf_addc(&c->defs, plain ? 1 : 0, err) < 0)
        return -1;
    c->page_values++;
    c->values++;
    if (!plain) {
        c->nulls++;
    } else {
        if (stats_add(c, plain, err) < 0)
            return -1;
        if (c->in_dict) {
            uint32_t i = 0;
            if (dict_find(c, plain, &i, err) < 0)
                return -1;
            if (grow(&c->idx, &c->capidx, c->nidx + 1, err) < 0)
                return -1;
            c->idx[c->nidx++] = i;
        } else if (c->pt.ptype == PT_BOOLEAN) {
            if (sl_buf_addc(&c->plain, plain->p[0], err) < 0)
                return -1;
        } else if (sl_buf_add(&c->plain, plain->p, (size_t)plain->len, err) < 0) {
            return -1;
        }
    }
    if (c->in_dict && c->dict.len > c->o.page_bytes) { /* the dictionary stopped paying */
        if (flush_page(c, err) < 0)
            return -1;
        c->in_dict = false;
        return 0;
    }
    /* The row cap keeps the index and level arrays small when values encode to bits. */
    return page_bytes(c) >= c->o.page_bytes || c->page_values >= PAGE_ROWS ? flush_page(c, err) : 0;
}

size_t sl_pq_col_bytes(const pq_col_t *c)
{
    return (size_t)c->unc_pages + page_bytes(c) + c->dict.len;
}

static int emit_raw(sl_fmt_sink_t sink, int64_t *pos, const void *p, size_t n, sl_err_t *err)
{
    if (n && sink.write(sink.ctx, p, n, err) < 0)
        return -1;
    *pos += (int64_t)n;
    return 0;
}

/* Writes the statistics struct (field 12 of ColumnMetaData). */
static void stats_meta(pq_col_t *c, sl_tw_t *w)
{
    sl_tw_struct(w, 12);
    sl_tw_i64(w, 3, c->nulls);
    if (c->has_mm) {
        if (c->pt.order == PO_FLOAT) { /* -0.0 as min, +0.0 as max (the spec's rule) */
            double mn = fl(c, c->min.data), mx = fl(c, c->max.data);
            if (mn == 0 && c->pt.ptype == PT_DOUBLE) {
                double z = -0.0;
                memcpy(c->min.data, &z, 8);
            } else if (mn == 0) {
                float z = -0.0f;
                memcpy(c->min.data, &z, 4);
            }
            if (mx == 0 && c->pt.ptype == PT_DOUBLE) {
                double z = 0.0;
                memcpy(c->max.data, &z, 8);
            } else if (mx == 0) {
                float z = 0.0f;
                memcpy(c->max.data, &z, 4);
            }
        }
        sl_tw_bin(w, 5, c->max.data, c->max.len);
        sl_tw_bin(w, 6, c->min.data, c->min.len);
    }
    sl_tw_end(w);
}

int sl_pq_col_flush(pq_col_t *c, const char *name, sl_fmt_sink_t sink, int64_t *pos,
                    sl_tw_t *w, int64_t *unc_total, sl_err_t *err)
{
    if (flush_page(c, err) < 0)
        return -1;
    int64_t start = *pos, dict_off = -1, unc = c->unc_pages, comp = 0;
    if (c->used_dict) {
        sl_buf_reset(&c->body);
        if (sl_buf_add(&c->body, c->dict.data, c->dict.len, err) < 0)
            return -1;
        size_t before = c->pages.len;
        /* the dictionary page goes first: emit it into pages, then write it out ahead */
        if (emit_page(c, PAGE_DICTIONARY, c->ndict, ENC_PLAIN, err) < 0)
            return -1;
        unc = c->unc_pages;
        dict_off = *pos;
        size_t dn = c->pages.len - before;
        if (emit_raw(sink, pos, c->pages.data + before, dn, err) < 0)
            return -1;
        c->pages.len = before;
        comp += (int64_t)dn;
    }
    int64_t data_off = *pos;
    if (emit_raw(sink, pos, c->pages.data, c->pages.len, err) < 0)
        return -1;
    comp += (int64_t)c->pages.len;
    *unc_total += unc;

    sl_tw_elem(w); /* ColumnChunk */
    sl_tw_i64(w, 2, start);
    sl_tw_struct(w, 3); /* ColumnMetaData */
    sl_tw_i32(w, 1, c->pt.ptype);
    int encs[3], ne = 0;
    encs[ne++] = ENC_RLE; /* the definition levels */
    if (c->used_plain || c->used_dict)
        encs[ne++] = ENC_PLAIN; /* PLAIN values or the PLAIN dictionary page */
    if (c->used_dict)
        encs[ne++] = ENC_RLE_DICTIONARY;
    sl_tw_list(w, 2, TC_I32, (uint32_t)ne);
    for (int i = 0; i < ne; i++)
        sl_tw_raw_i32(w, encs[i]);
    sl_tw_list(w, 3, TC_BINARY, 1);
    sl_tw_raw_bin(w, name, strlen(name));
    sl_tw_i32(w, 4, c->o.codec == SL_CODEC_SNAPPY ? 1 : c->o.codec == SL_CODEC_GZIP ? 2
                    : c->o.codec == SL_CODEC_ZSTD ? 6 : 0);
    sl_tw_i64(w, 5, c->values);
    sl_tw_i64(w, 6, unc);
    sl_tw_i64(w, 7, comp);
    sl_tw_i64(w, 9, data_off);
    if (dict_off >= 0)
        sl_tw_i64(w, 11, dict_off);
    stats_meta(c, w);
    sl_tw_end(w); /* ColumnMetaData */
    sl_tw_end(w); /* ColumnChunk */

    /* reset for the next row group (keeps the allocations) */
    sl_buf_reset(&c->pages);
    sl_buf_reset(&c->dict);
    c->ndict = 0;
    if (c->slot)
        memset(c->slot, 0, c->nslot * sizeof *c->slot);
    c->unc_pages = 0;
    c->values = c->nulls = 0;
    c->has_mm = c->mm_off = false;
    c->used_dict = c->used_plain = false;
    c->in_dict = c->o.dictionary && c->pt.ptype != PT_BOOLEAN;
    if (c->pages.cap > ((size_t)64 << 20)) { /* do not keep a huge row group's memory */
        sl_buf_free(&c->pages);
        sl_buf_init(&c->pages, BUF_MAX);
    }
    return 0;
}
