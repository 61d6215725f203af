/*
 * batch.c: encoder and decoder of the bus batch format (see batch.h).
 *
 * Header layout (little endian): 0 magic "SLB1", 4 flags u32, 8 epoch u64, 16 stripe
 * u32, 20 seq u32, 24 table u32, 28 ncols u32, 32 nrows u32, 36 rows_end u32,
 * 40 last_key_len u32, 44 reserved u32.
 */
#include "model/batch.h"

#include <string.h>

#include "core/bytes.h"

static const char magic[4] = {'S', 'L', 'B', '1'};

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

void sl_batch_builder_init(sl_batch_builder_t *b, uint32_t max_rows, size_t max_bytes)
{
    memset(b, 0, sizeof *b);
    /* The hard maximum leaves room for the header and a last key. */
    sl_buf_init(&b->buf, max_bytes + 64 * 1024);
    b->max_rows = max_rows ? max_rows : 1;
    b->max_bytes = max_bytes;
}

void sl_batch_builder_free(sl_batch_builder_t *b)
{
    if (b)
        sl_buf_free(&b->buf);
}

void sl_batch_start(sl_batch_builder_t *b, const sl_batch_hdr_t *hdr)
{
    b->hdr = *hdr;
    b->hdr.nrows = 0;
    b->raw_bytes = 0;
    sl_buf_reset(&b->buf);
    static const unsigned char zero[SL_BATCH_HDR];
    sl_buf_add(&b->buf, zero, SL_BATCH_HDR, NULL); /* cannot fail: max >= 64 KiB */
}

size_t sl_batch_row_size(const sl_value_t *vals, int n)
{
    size_t sz = 0;
    for (int i = 0; i < n; i++) {
        if (vals[i].len < 0)
            sz += 1;
        else
            sz += varint_size((uint64_t)vals[i].len + 1) + (size_t)vals[i].len;
    }
    return sz;
}

bool sl_batch_would_overflow(const sl_batch_builder_t *b, size_t rowsize)
{
    return b->hdr.nrows > 0 && b->buf.len + rowsize > b->max_bytes;
}

bool sl_batch_full(const sl_batch_builder_t *b)
{
    return b->hdr.nrows >= b->max_rows || b->buf.len >= b->max_bytes;
}

int sl_batch_add_row(sl_batch_builder_t *b, const sl_value_t *vals, int n, sl_err_t *err)
{
    if ((uint32_t)n != b->hdr.ncols)
        return sl_err_set(err, SL_E_INTERNAL, "row has %d values, batch expects %u", n, b->hdr.ncols);
    size_t rowsize = sl_batch_row_size(vals, n);
    if (SL_BATCH_HDR + rowsize > b->max_bytes) {
        sl_err_set(err, SL_E_LIMIT, "row of %zu bytes exceeds the batch limit of %zu bytes", rowsize,
                   b->max_bytes);
        sl_err_hint(err, "raise options.batch_bytes (and the broker's max_payload) above the largest row");
        return -1;
    }
    if (sl_buf_reserve(&b->buf, rowsize, err))
        return -1;
    for (int i = 0; i < n; i++) {
        if (vals[i].len < 0) {
            b->buf.data[b->buf.len++] = 0;
            continue;
        }
        sl_buf_add_varint(&b->buf, (uint64_t)vals[i].len + 1, NULL);
        memcpy(b->buf.data + b->buf.len, vals[i].p, (size_t)vals[i].len);
        b->buf.len += (size_t)vals[i].len;
        b->raw_bytes += (uint64_t)vals[i].len;
    }
    b->buf.data[b->buf.len] = '\0';
    b->hdr.nrows++;
    return 0;
}

int sl_batch_finish(sl_batch_builder_t *b, const char *last_key, const char **data, size_t *len,
                    sl_err_t *err)
{
    size_t rows_end = b->buf.len;
    size_t klen = last_key ? strlen(last_key) : 0;
    if (klen && sl_buf_add(&b->buf, last_key, klen, err))
        return -1;
    unsigned char *h = (unsigned char *)b->buf.data;
    memcpy(h, magic, 4);
    sl_put32le(h + 4, b->hdr.flags);
    sl_put64le(h + 8, b->hdr.epoch);
    sl_put32le(h + 16, b->hdr.stripe);
    sl_put32le(h + 20, b->hdr.seq);
    sl_put32le(h + 24, b->hdr.table);
    sl_put32le(h + 28, b->hdr.ncols);
    sl_put32le(h + 32, b->hdr.nrows);
    sl_put32le(h + 36, (uint32_t)rows_end);
    sl_put32le(h + 40, (uint32_t)klen);
    sl_put32le(h + 44, 0);
    *data = b->buf.data;
    *len = b->buf.len;
    return 0;
}

int sl_batch_decode(const void *data, size_t len, sl_batch_view_t *v, sl_err_t *err)
{
    const unsigned char *p = data;
    memset(v, 0, sizeof *v);
    if (len < SL_BATCH_HDR || memcmp(p, magic, 4) != 0)
        return sl_err_set(err, SL_E_PROTOCOL, "malformed batch: bad header");
    v->hdr.flags = sl_get32le(p + 4);
    v->hdr.epoch = sl_get64le(p + 8);
    v->hdr.stripe = sl_get32le(p + 16);
    v->hdr.seq = sl_get32le(p + 20);
    v->hdr.table = sl_get32le(p + 24);
    v->hdr.ncols = sl_get32le(p + 28);
    v->hdr.nrows = sl_get32le(p + 32);
    uint32_t rows_end = sl_get32le(p + 36);
    uint32_t klen = sl_get32le(p + 40);
    if (rows_end < SL_BATCH_HDR || rows_end > len || (uint64_t)rows_end + klen != len)
        return sl_err_set(err, SL_E_PROTOCOL, "malformed batch: bad lengths");
    if (v->hdr.ncols > 65536)
        return sl_err_set(err, SL_E_PROTOCOL, "malformed batch: %u columns", v->hdr.ncols);
    /* Every value takes at least one byte, so rows * columns cannot exceed the row bytes;
     * rows of no columns take none, and are bounded by the largest batch_rows instead
     * (else a 44-byte batch could claim four billion empty rows). */
    if (v->hdr.ncols ? (uint64_t)v->hdr.nrows * v->hdr.ncols > rows_end - SL_BATCH_HDR
                     : v->hdr.nrows > SL_BATCH_MAX_ROWS)
        return sl_err_set(err, SL_E_PROTOCOL, "malformed batch: %u rows of %u columns in %u bytes",
                          v->hdr.nrows, v->hdr.ncols, rows_end - SL_BATCH_HDR);
    v->data = p;
    v->len = len;
    v->rows_end = rows_end;
    v->last_key = (const char *)p + rows_end;
    v->last_key_len = klen;
    v->pos = SL_BATCH_HDR;
    return 0;
}

void sl_batch_rewind(sl_batch_view_t *v)
{
    v->pos = SL_BATCH_HDR;
    v->row = 0;
}

static int read_varint(const sl_batch_view_t *v, size_t *pos, uint64_t *out)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pos >= v->rows_end)
            return -1;
        unsigned char c = v->data[(*pos)++];
        r |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = r;
            return 0;
        }
    }
    return -1;
}

int sl_batch_next_row(sl_batch_view_t *v, sl_value_t *vals, sl_err_t *err)
{
    if (v->row >= v->hdr.nrows) {
        if (v->pos != v->rows_end)
            return sl_err_set(err, SL_E_PROTOCOL, "malformed batch: trailing bytes after %u rows",
                              v->hdr.nrows);
        return 0;
    }
    size_t pos = v->pos;
    for (uint32_t i = 0; i < v->hdr.ncols; i++) {
        uint64_t n;
        if (read_varint(v, &pos, &n))
            return sl_err_set(err, SL_E_PROTOCOL, "malformed batch: truncated row %u", v->row + 1);
        if (n == 0) {
            vals[i].p = NULL;
            vals[i].len = -1;
            continue;
        }
        n--;
        if (n > v->rows_end - pos)
            return sl_err_set(err, SL_E_PROTOCOL, "malformed batch: value overruns row %u", v->row + 1);
        vals[i].p = (const char *)v->data + pos;
        vals[i].len = (int64_t)n;
        pos += n;
    }
    v->pos = pos;
    v->row++;
    return 1;
}

int sl_batch_row_at(const sl_batch_view_t *v, uint32_t idx, sl_value_t *vals, sl_err_t *err)
{
    sl_batch_view_t it = *v;
    sl_batch_rewind(&it);
    int rc = 0;
    for (uint32_t i = 0; i <= idx; i++)
        if ((rc = sl_batch_next_row(&it, vals, err)) != 1)
            return rc;
    return 1;
}
