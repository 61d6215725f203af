/*
 * parquet_chunk.c: one column chunk, read entry by entry (an entry is a repetition
 * level, a definition level and, when the value is defined, the value).
 *
 * Bytes come through the range reader in windows of window_bytes (or one whole page
 * when a page is larger), so a local file costs one pread and an S3 object one ranged
 * GET per window. Each page is decompressed on its own; its levels and values are then
 * decoded as they are taken (parquet_dec.c). The dictionary page, when there is one, is
 * kept for the rest of the chunk. Memory: the window, one decompressed page and the
 * dictionary.
 *
 * Data pages v1 (levels inside the compressed body, RLE with a length prefix or the old
 * BIT_PACKED) and v2 (levels uncompressed ahead of the values, which may or may not be
 * compressed) are both read; index pages and unknown page types are skipped.
 */
#include <stdlib.h>
#include <string.h>

#include "target/fmt/parquet_rd.h"

struct pq_chunk {
    const sl_fmt_range_t *src;
    sl_pq_read_opts_t o;
    const pq_node_t *n;
    int max_def, max_rep, ptype, width, codec;
    uint64_t pos, end;       /* the next page header; the end of the chunk */
    sl_buf_t win;            /* file bytes [win_off, win_off + win.len) */
    uint64_t win_off;
    sl_buf_t page;           /* the current page, decompressed */
    sl_buf_t dictbuf;        /* the dictionary page, decompressed */
    pq_v_t *dict;
    uint32_t ndict;
    bool has_dict;
    pq_rle_t reps, defs;
    uint32_t left;           /* entries left in the current page */
    pq_vcur_t vals;
    bool peeked;
    int prep, pdef;
};

int sl_pq_chunk_new(const sl_fmt_range_t *src, const sl_pq_read_opts_t *o, const pq_node_t *n,
                    pq_chunk_t **out, sl_err_t *err)
{
    pq_chunk_t *c = calloc(1, sizeof *c);
    if (!c)
        return sl_err_set(err, SL_E_LIMIT, "out of memory");
    c->src = src;
    c->o = *o;
    c->n = n;
    c->max_def = n->def;
    c->max_rep = n->replvl;
    c->ptype = n->el->type;
    c->width = sl_pq_width(c->ptype, n->el->type_len);
    size_t max = o->max_page_bytes + 64;
    sl_buf_init(&c->win, max > o->window_bytes ? max + o->window_bytes : o->window_bytes);
    sl_buf_init(&c->page, max);
    sl_buf_init(&c->dictbuf, max);
    sl_pq_vcur_init(&c->vals);
    *out = c;
    return 0;
}

void sl_pq_chunk_free(pq_chunk_t *c)
{
    if (!c)
        return;
    sl_buf_free(&c->win);
    sl_buf_free(&c->page);
    sl_buf_free(&c->dictbuf);
    free(c->dict);
    sl_pq_vcur_free(&c->vals);
    free(c);
}

static int bad(sl_err_t *err, const char *fmt, int64_t a)
{
    sl_err_set(err, SL_E_DATA, "corrupt Parquet column chunk");
    sl_err_detail(err, fmt, (long long)a);
    return -1;
}

int sl_pq_chunk_start(pq_chunk_t *c, const pq_cmeta_t *m, sl_err_t *err)
{
    int64_t start = m->data_off;
    if (m->dict_off > 0 && m->dict_off < start)
        start = m->dict_off;
    if (m->type != c->ptype)
        return bad(err, "The chunk's physical type %lld differs from the schema's.", m->type);
    if (start < 4 || m->total_comp < 0 || (uint64_t)start > c->src->size ||
        (uint64_t)m->total_comp > c->src->size - (uint64_t)start)
        return bad(err, "The chunk at offset %lld lies outside the file.", start);
    c->pos = (uint64_t)start;
    c->end = (uint64_t)start + (uint64_t)m->total_comp;
    c->codec = m->codec;
    c->has_dict = false;
    c->ndict = 0;
    c->left = 0;
    c->peeked = false;
    return 0;
}

/* Makes the window hold file bytes [off, off + len) and returns a pointer to them. */
static const uint8_t *window(pq_chunk_t *c, uint64_t off, size_t len, sl_err_t *err)
{
    if (off >= c->win_off && off + len <= c->win_off + c->win.len)
        return (const uint8_t *)c->win.data + (off - c->win_off);
    if (off + len > c->end) {
        bad(err, "A page runs past the end of its chunk (at offset %lld).", (int64_t)off);
        return NULL;
    }
    size_t want = len > c->o.window_bytes ? len : c->o.window_bytes;
    if (want > c->end - off)
        want = (size_t)(c->end - off);
    sl_buf_reset(&c->win);
    c->win_off = 0;
    if (sl_buf_reserve(&c->win, want, err) < 0 ||
        c->src->read(c->src->ctx, off, c->win.data, want, err) < 0)
        return NULL;
    c->win.len = want;
    c->win_off = off;
    return (const uint8_t *)c->win.data;
}

/* The header of the page at c->pos: reads more of the file until it parses. */
static int header(pq_chunk_t *c, pq_page_t *h, size_t *hlen, sl_err_t *err)
{
    size_t want = 256;
    for (;;) {
        size_t avail = (size_t)(c->end - c->pos);
        if (want > avail)
            want = avail;
        const uint8_t *p = window(c, c->pos, want, err);
        if (!p)
            return -1;
        /* Parse all the window holds past pos (usually the whole page is there). */
        size_t have = (size_t)(c->win_off + c->win.len - c->pos);
        int rc = sl_pq_page_parse(p, have, h, hlen, err);
        if (rc != 0)
            return rc;
        if (have >= avail || want >= ((size_t)16 << 20))
            return bad(err, "A page header at offset %lld is cut off.", (int64_t)c->pos);
        want = have * 4;
    }
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* v1 levels at *p (of *n bytes): RLE with a 4-byte length, or BIT_PACKED. */
static int levels_v1(pq_rle_t *d, int enc, int max, uint32_t nvals, const uint8_t **p,
                     size_t *n, sl_err_t *err)
{
    int bw = sl_rle_width((uint32_t)max);
    if (enc == ENC_BIT_PACKED) {
        size_t len = ((size_t)nvals * (size_t)bw + 7) / 8;
        if (len > *n)
            return bad(err, "BIT_PACKED levels run past their page (%lld bytes).", (int64_t)len);
        sl_pq_bitpacked_init(d, *p, len, bw);
        *p += len;
        *n -= len;
        return 0;
    }
    if (enc != ENC_RLE)
        return bad(err, "Levels in encoding %lld.", enc);
    if (*n < 4 || rd32(*p) > *n - 4)
        return bad(err, "RLE levels run past their page (%lld bytes).", (int64_t)*n);
    uint32_t len = rd32(*p);
    sl_pq_rle_init(d, *p + 4, len, bw);
    *p += 4 + len;
    *n -= 4 + (size_t)len;
    return 0;
}

static int dictionary(pq_chunk_t *c, const pq_page_t *h, sl_err_t *err)
{
    if (c->has_dict)
        return bad(err, "A second dictionary page at offset %lld.", (int64_t)c->pos);
    if (h->enc != ENC_PLAIN && h->enc != ENC_PLAIN_DICT)
        return bad(err, "A dictionary page in encoding %lld.", h->enc);
    if (c->ptype == PT_BOOLEAN)
        return bad(err, "A dictionary page for booleans (%lld entries).", h->nvals);
    sl_buf_t t = c->dictbuf; /* the page just decompressed becomes the dictionary */
    c->dictbuf = c->page;
    c->page = t;
    size_t n = c->dictbuf.len, min = c->width ? (size_t)c->width : 4;
    if ((uint64_t)h->nvals * min > n)
        return bad(err, "The dictionary claims %lld entries more than its bytes hold.", h->nvals);
    pq_v_t *d = realloc(c->dict, ((size_t)h->nvals + 1) * sizeof *d);
    if (!d)
        return sl_err_set(err, SL_E_LIMIT, "out of memory for a Parquet dictionary");
    c->dict = d;
    pq_vcur_t *v = &c->vals;
    if (sl_pq_vcur_start(v, ENC_PLAIN, c->ptype, c->width, (const uint8_t *)c->dictbuf.data, n,
                         (uint64_t)h->nvals, NULL, 0, err) < 0)
        return -1;
    for (int32_t i = 0; i < h->nvals; i++)
        if (sl_pq_vcur_next(v, &c->dict[i], err) < 0)
            return -1;
    c->ndict = (uint32_t)h->nvals;
    c->has_dict = true;
    return 0;
}

static int check_enc(pq_chunk_t *c, int enc, sl_err_t *err)
{
    if ((enc == ENC_PLAIN_DICT || enc == ENC_RLE_DICT) && !c->has_dict)
        return bad(err, "A dictionary-encoded page without a dictionary at offset %lld.",
                   (int64_t)c->pos);
    return 0;
}

/* Reads the next page (skipping non-data pages) and sets up its decoders. */
static int next_page(pq_chunk_t *c, sl_err_t *err)
{
    pq_page_t h;
    size_t hlen;
    if (header(c, &h, &hlen, err) <= 0)
        return -1;
    if ((size_t)h.unc > c->o.max_page_bytes || (size_t)h.comp > c->o.max_page_bytes) {
        sl_err_set(err, SL_E_LIMIT, "a Parquet page of %d bytes is larger than the limit",
                   h.unc > h.comp ? h.unc : h.comp);
        return -1;
    }
    const uint8_t *body = window(c, c->pos + hlen, (size_t)h.comp, err);
    if (!body)
        return -1;
    uint64_t page_at = c->pos;
    c->pos += hlen + (uint64_t)h.comp;
    const uint8_t *p;
    size_t n;
    switch (h.type) {
    case PAGE_DICT:
        if (sl_fmt_decompress_block(c->codec, body, (size_t)h.comp, (size_t)h.unc, &c->page,
                                    err) < 0)
            return -1;
        return dictionary(c, &h, err);
    case PAGE_DATA_V1:
        if (check_enc(c, h.enc, err) < 0)
            return -1;
        if (c->codec == CODEC_NONE && h.comp == h.unc) {
            p = body;
        } else {
            if (sl_fmt_decompress_block(c->codec, body, (size_t)h.comp, (size_t)h.unc, &c->page,
                                        err) < 0)
                return -1;
            p = (const uint8_t *)c->page.data;
        }
        n = (size_t)h.unc;
        if (c->max_rep && levels_v1(&c->reps, h.rep_enc, c->max_rep, (uint32_t)h.nvals, &p, &n,
                                    err) < 0)
            return -1;
        if (c->max_def && levels_v1(&c->defs, h.def_enc, c->max_def, (uint32_t)h.nvals, &p, &n,
                                    err) < 0)
            return -1;
        break;
    case PAGE_DATA_V2: {
        if (check_enc(c, h.enc, err) < 0)
            return -1;
        size_t lv = (size_t)h.rep_len + (size_t)h.def_len;
        if (lv > (size_t)h.unc)
            return bad(err, "Levels longer than the page at offset %lld.", (int64_t)page_at);
        sl_pq_rle_init(&c->reps, body, (size_t)h.rep_len, sl_rle_width((uint32_t)c->max_rep));
        sl_pq_rle_init(&c->defs, body + h.rep_len, (size_t)h.def_len,
                       sl_rle_width((uint32_t)c->max_def));
        if (c->codec == CODEC_NONE || !h.v2_compressed) {
            p = body + lv;
            n = (size_t)h.comp - lv;
        } else {
            if (sl_fmt_decompress_block(c->codec, body + lv, (size_t)h.comp - lv,
                                        (size_t)h.unc - lv, &c->page, err) < 0)
                return -1;
            p = (const uint8_t *)c->page.data;
            n = (size_t)h.unc - lv;
        }
        break;
    }
    default: /* index pages and what a newer writer may add */
        return 0;
    }
    uint64_t nonnull = h.type == PAGE_DATA_V2 && h.nnulls <= h.nvals ? (uint64_t)(h.nvals - h.nnulls) : 0;
    if (sl_pq_vcur_start(&c->vals, h.enc, c->ptype, c->width, p, n, nonnull, c->dict, c->ndict,
                         err) < 0)
        return -1;
    c->left = (uint32_t)h.nvals;
    return 0;
}

static int fetch(pq_chunk_t *c, sl_err_t *err)
{
    while (c->left == 0) {
        if (c->pos >= c->end)
            return 0;
        if (next_page(c, err) < 0)
            return -1;
    }
    uint32_t r = 0, d = 0;
    if (c->max_rep && sl_pq_rle_next(&c->reps, &r) < 0)
        return bad(err, "Repetition levels end early (%lld left in the page).", c->left);
    if (c->max_def && sl_pq_rle_next(&c->defs, &d) < 0)
        return bad(err, "Definition levels end early (%lld left in the page).", c->left);
    if ((int)r > c->max_rep || (int)d > c->max_def)
        return bad(err, "A level above the column's maximum (%lld).", r > d ? r : d);
    c->left--;
    c->prep = (int)r;
    c->pdef = (int)d;
    c->peeked = true;
    return 1;
}

int sl_pq_chunk_peek(pq_chunk_t *c, int *rep, int *def, sl_err_t *err)
{
    if (!c->peeked) {
        int rc = fetch(c, err);
        if (rc <= 0)
            return rc;
    }
    *rep = c->prep;
    *def = c->pdef;
    return 1;
}

int sl_pq_chunk_take(pq_chunk_t *c, int *def, pq_v_t *v, sl_err_t *err)
{
    if (!c->peeked) {
        int rc = fetch(c, err);
        if (rc <= 0)
            return rc;
    }
    c->peeked = false;
    *def = c->pdef;
    if (c->pdef == c->max_def && sl_pq_vcur_next(&c->vals, v, err) < 0)
        return -1;
    return 1;
}
