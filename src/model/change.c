/*
 * change.c: the bus encoding of change batches (see change.h), encoder and decoder
 * side by side, and LSN text.
 *
 * Layout: a 64-byte little-endian header (magic, flags, epoch, lane, nchanges, prev,
 * last, flush, commit_us), then per change: op byte, varint table, varint lsn, varint
 * idx, varint commit_us, varint ncols, a byte with bit 0 "row present" and bit 1 "old
 * present", then the row's and the old row's values (varint 0 NULL, 1 unchanged,
 * n+2 followed by n bytes). A SPILLED batch ends with its spill reference: varints id,
 * first_seq, nparts, nchanges, lsn, nranges, then per range from - previous to - 1 and
 * to - from, and last a 4-byte length of that footer.
 */
#include "model/change.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/mem.h"

#define HDR 64u

void sl_cbatch_builder_init(sl_cbatch_builder_t *b, uint32_t max_changes, size_t max_bytes)
{
    memset(b, 0, sizeof *b);
    sl_buf_init(&b->buf, max_bytes + 64 * 1024);
    b->max_changes = max_changes ? max_changes : 1;
    b->max_bytes = max_bytes;
}

void sl_cbatch_builder_free(sl_cbatch_builder_t *b)
{
    if (b)
        sl_buf_free(&b->buf);
}

void sl_cbatch_start(sl_cbatch_builder_t *b, const sl_cbatch_hdr_t *hdr)
{
    b->hdr = *hdr;
    b->hdr.nchanges = 0;
    b->hdr.last = hdr->prev;
    sl_buf_reset(&b->buf);
    sl_err_t ignored;
    sl_buf_reserve(&b->buf, HDR, &ignored);
    memset(b->buf.data, 0, HDR);
    b->buf.len = HDR;
}

static size_t vals_size(const sl_value_t *v, int n)
{
    size_t s = 0;
    for (int i = 0; v && i < n; i++)
        s += 10 + (v[i].len > 0 ? (size_t)v[i].len : 0);
    return s;
}

size_t sl_cbatch_change_size(const sl_change_t *c)
{
    return 48 + vals_size(c->row, c->ncols) + vals_size(c->old, c->ncols);
}

size_t sl_cspill_footer_size(uint32_t nranges) { return 6 * 10 + (size_t)nranges * 2 * 5 + 4; }

bool sl_cbatch_would_overflow(const sl_cbatch_builder_t *b, size_t size)
{
    if (b->hdr.nchanges == 0)
        return false;
    size_t footer = (b->hdr.flags & SL_CBATCH_SPILLED) ? sl_cspill_footer_size(b->ref.nranges) : 0;
    return b->hdr.nchanges >= b->max_changes || b->buf.len + size + footer > b->max_bytes;
}

void sl_cbatch_set_spilled(sl_cbatch_builder_t *b, const sl_cspill_ref_t *ref, const uint32_t *ranges)
{
    b->hdr.flags |= SL_CBATCH_SPILLED;
    b->ref = *ref;
    b->ref_ranges = ranges;
}

sl_cbatch_mark_t sl_cbatch_mark(const sl_cbatch_builder_t *b)
{
    return (sl_cbatch_mark_t){b->buf.len, b->hdr.nchanges, b->hdr.last};
}

int sl_cbatch_split(sl_cbatch_builder_t *b, sl_cbatch_mark_t m, sl_buf_t *tail, uint32_t *n, sl_pos_t *last,
                    sl_err_t *err)
{
    sl_buf_reset(tail);
    if (m.len < HDR || m.len > b->buf.len || m.n > b->hdr.nchanges)
        return sl_err_set(err, SL_E_INTERNAL, "a change batch split outside the batch");
    if (sl_buf_add(tail, b->buf.data + m.len, b->buf.len - m.len, err))
        return -1;
    *n = b->hdr.nchanges - m.n;
    *last = b->hdr.last;
    b->buf.len = m.len;
    b->hdr.nchanges = m.n;
    b->hdr.last = m.last;
    return 0;
}

int sl_cbatch_append(sl_cbatch_builder_t *b, const sl_buf_t *tail, uint32_t n, sl_pos_t last, sl_err_t *err)
{
    if (!n)
        return 0;
    if (sl_buf_add(&b->buf, tail->data, tail->len, err))
        return -1;
    b->hdr.nchanges += n;
    b->hdr.last = last;
    return 0;
}

static int add_vals(sl_buf_t *buf, const sl_value_t *v, int n, sl_err_t *err)
{
    for (int i = 0; i < n; i++) {
        uint64_t tag = v[i].len == SL_VALUE_UNCHANGED ? 1 : v[i].len < 0 ? 0 : (uint64_t)v[i].len + 2;
        if (sl_buf_add_varint(buf, tag, err))
            return -1;
        if (tag >= 2 && sl_buf_add(buf, v[i].p, (size_t)v[i].len, err))
            return -1;
    }
    return 0;
}

int sl_cbatch_add(sl_cbatch_builder_t *b, const sl_change_t *c, sl_err_t *err)
{
    size_t mark = b->buf.len;
    if (c->ncols < 0)
        return sl_err_set(err, SL_E_INTERNAL, "a change with %d columns", c->ncols);
    unsigned char present = (unsigned char)((c->row ? 1 : 0) | (c->old ? 2 : 0));
    if (sl_buf_addc(&b->buf, (char)c->op, err) || sl_buf_add_varint(&b->buf, c->table, err) ||
        sl_buf_add_varint(&b->buf, c->pos.lsn, err) || sl_buf_add_varint(&b->buf, c->pos.idx, err) ||
        sl_buf_add_varint(&b->buf, (uint64_t)(c->commit_us > 0 ? c->commit_us : 0), err) ||
        sl_buf_add_varint(&b->buf, (uint64_t)c->ncols, err) || sl_buf_addc(&b->buf, (char)present, err) ||
        (c->row && add_vals(&b->buf, c->row, c->ncols, err)) ||
        (c->old && add_vals(&b->buf, c->old, c->ncols, err))) {
        b->buf.len = mark;
        if (err->code == SL_E_LIMIT)
            sl_err_hint(err, "raise options.batch_bytes (a single row change must fit one batch)");
        return -1;
    }
    b->hdr.nchanges++;
    b->hdr.last = c->pos;
    return 0;
}

/* Appends b->ref as the footer. The buffer holds 64 KB beyond max_bytes, which
 * would_overflow() kept for it. */
static void add_footer(sl_cbatch_builder_t *b)
{
    const sl_cspill_ref_t *r = &b->ref;
    sl_err_t err;
    size_t start = b->buf.len;
    int rc = sl_buf_add_varint(&b->buf, r->id, &err) || sl_buf_add_varint(&b->buf, r->first_seq, &err) ||
             sl_buf_add_varint(&b->buf, r->nparts, &err) || sl_buf_add_varint(&b->buf, r->nchanges, &err) ||
             sl_buf_add_varint(&b->buf, r->lsn, &err) || sl_buf_add_varint(&b->buf, r->nranges, &err);
    uint32_t prev = 0;
    for (uint32_t i = 0; !rc && i < r->nranges; i++) {
        uint32_t from = b->ref_ranges[2 * i], to = b->ref_ranges[2 * i + 1];
        rc = sl_buf_add_varint(&b->buf, from - prev - 1, &err) || sl_buf_add_varint(&b->buf, to - from, &err);
        prev = to;
    }
    unsigned char n[4];
    sl_put32le(n, (uint32_t)(b->buf.len - start));
    if (rc || sl_buf_add(&b->buf, n, 4, &err))
        sl_oom(); /* would_overflow() left room; the reader bounds the ranges */
    b->ref_ranges = NULL;
}

void sl_cbatch_finish(sl_cbatch_builder_t *b, const char **data, size_t *len)
{
    if (b->hdr.flags & SL_CBATCH_SPILLED)
        add_footer(b);
    unsigned char *p = (unsigned char *)b->buf.data;
    const sl_cbatch_hdr_t *h = &b->hdr;
    sl_put32le(p, SL_CHANGE_MAGIC);
    sl_put32le(p + 4, h->flags);
    sl_put64le(p + 8, h->epoch);
    sl_put32le(p + 16, h->lane);
    sl_put32le(p + 20, h->nchanges);
    sl_put64le(p + 24, h->prev.lsn);
    sl_put32le(p + 32, h->prev.idx);
    sl_put64le(p + 36, h->last.lsn);
    sl_put32le(p + 44, h->last.idx);
    sl_put64le(p + 48, h->flush);
    sl_put64le(p + 56, (uint64_t)h->commit_us);
    *data = b->buf.data;
    *len = b->buf.len;
}

/* A varint of p[*at..end). */
static int fvarint(const unsigned char *p, size_t end, size_t *at, uint64_t *out)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*at >= end)
            return -1;
        unsigned char c = p[(*at)++];
        r |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = r;
            return 0;
        }
    }
    return -1;
}

bool sl_cspill_range(const sl_cspill_ref_t *ref, size_t *at, uint32_t *from, uint32_t *to)
{
    /* *at counts ranges read; the encoding is walked again up to it (ranges are few,
     * and the walk was checked by footer()) */
    if (*at >= ref->nranges)
        return false;
    size_t pos = 0;
    uint64_t prev = 0, gap = 0, len = 0;
    for (size_t i = 0; i <= *at; i++) {
        if (fvarint(ref->ranges, ref->ranges_len, &pos, &gap) || fvarint(ref->ranges, ref->ranges_len, &pos, &len))
            return false;
        *from = (uint32_t)(prev + gap + 1);
        *to = (uint32_t)(*from + len);
        prev = *to;
    }
    (*at)++;
    return true;
}

static void next_range(sl_cspill_cursor_t *cur)
{
    if (!sl_cspill_range(cur->ref, &cur->at, &cur->from, &cur->to)) {
        cur->from = 1;
        cur->to = 0;
    }
}

void sl_cspill_cursor_init(sl_cspill_cursor_t *cur, const sl_cspill_ref_t *ref)
{
    *cur = (sl_cspill_cursor_t){.ref = ref, .next = 1};
    next_range(cur);
}

int sl_cspill_keep(sl_cspill_cursor_t *cur, sl_change_t *c)
{
    const sl_cspill_ref_t *r = cur->ref;
    if (cur->next > r->nchanges)
        return -1;
    uint32_t i = cur->next++;
    if (!r->lsn) {
        cur->kept++;
        return 1;
    }
    if (c->pos.lsn != 0 || c->pos.idx != i)
        return -1;
    while (cur->from <= cur->to && i > cur->to)
        next_range(cur);
    if (cur->from <= cur->to && i >= cur->from)
        return 0;
    c->pos = (sl_pos_t){r->lsn, ++cur->kept};
    return 1;
}

/* The footer of a SPILLED batch into v->ref; v->len becomes the end of the changes. */
static int footer(sl_cbatch_view_t *v, sl_err_t *err)
{
    const unsigned char *p = v->data;
    if (v->len < HDR + 4)
        goto bad;
    uint32_t flen = sl_get32le(p + v->len - 4);
    if (flen > v->len - HDR - 4)
        goto bad;
    size_t at = v->len - 4 - flen, end = v->len - 4;
    uint64_t id, seq, nparts, nchanges, lsn, nranges;
    if (fvarint(p, end, &at, &id) || fvarint(p, end, &at, &seq) || fvarint(p, end, &at, &nparts) ||
        fvarint(p, end, &at, &nchanges) || fvarint(p, end, &at, &lsn) || fvarint(p, end, &at, &nranges) ||
        nparts > UINT32_MAX || nchanges > UINT32_MAX || nranges > nchanges)
        goto bad;
    sl_cspill_ref_t *r = &v->ref;
    *r = (sl_cspill_ref_t){.id = id, .first_seq = seq, .nparts = (uint32_t)nparts,
                           .nchanges = (uint32_t)nchanges, .lsn = lsn, .nranges = (uint32_t)nranges,
                           .ranges = p + at, .ranges_len = end - at};
    uint64_t prev = 0;
    for (uint64_t i = 0; i < nranges; i++) {
        uint64_t gap, len;
        if (fvarint(p, end, &at, &gap) || fvarint(p, end, &at, &len) || gap >= nchanges ||
            len >= nchanges || prev + gap + 1 + len > nchanges)
            goto bad;
        prev = prev + gap + 1 + len;
    }
    if (at != end)
        goto bad;
    v->len = v->len - 4 - flen;
    return 0;
bad:
    return sl_err_set(err, SL_E_PROTOCOL, "malformed change batch: bad spill reference");
}

int sl_cbatch_decode(const void *data, size_t len, sl_cbatch_view_t *v, sl_err_t *err)
{
    memset(v, 0, sizeof *v);
    const unsigned char *p = data;
    if (!p || len < HDR || sl_get32le(p) != SL_CHANGE_MAGIC)
        return sl_err_set(err, SL_E_PROTOCOL, "malformed change batch: bad header (%zu bytes)", len);
    sl_cbatch_hdr_t *h = &v->hdr;
    h->flags = sl_get32le(p + 4);
    h->epoch = sl_get64le(p + 8);
    h->lane = sl_get32le(p + 16);
    h->nchanges = sl_get32le(p + 20);
    h->prev.lsn = sl_get64le(p + 24);
    h->prev.idx = sl_get32le(p + 32);
    h->last.lsn = sl_get64le(p + 36);
    h->last.idx = sl_get32le(p + 44);
    h->flush = sl_get64le(p + 48);
    h->commit_us = (int64_t)sl_get64le(p + 56);
    v->data = p;
    v->len = len;
    v->pos = HDR;
    if ((h->flags & SL_CBATCH_SPILLED) && footer(v, err))
        return -1;
    return 0;
}

void sl_cbatch_rewind(sl_cbatch_view_t *v)
{
    v->pos = HDR;
    v->done = 0;
}

static int varint(sl_cbatch_view_t *v, uint64_t *out)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (v->pos >= v->len)
            return -1;
        unsigned char c = v->data[v->pos++];
        r |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = r;
            return 0;
        }
    }
    return -1;
}

static int read_vals(sl_cbatch_view_t *v, sl_value_t *vals, int n)
{
    for (int i = 0; i < n; i++) {
        uint64_t tag;
        if (varint(v, &tag))
            return -1;
        if (tag == 0) {
            vals[i] = (sl_value_t){NULL, -1};
        } else if (tag == 1) {
            vals[i] = (sl_value_t){NULL, SL_VALUE_UNCHANGED};
        } else {
            uint64_t n2 = tag - 2;
            if (n2 > v->len - v->pos)
                return -1;
            vals[i] = (sl_value_t){(const char *)v->data + v->pos, (int64_t)n2};
            v->pos += (size_t)n2;
        }
    }
    return 0;
}

int sl_cbatch_next(sl_cbatch_view_t *v, sl_change_t *c, sl_value_t *row, sl_value_t *old, int cap,
                   sl_err_t *err)
{
    if (v->done >= v->hdr.nchanges) {
        if (v->pos != v->len)
            return sl_err_set(err, SL_E_PROTOCOL, "malformed change batch: trailing bytes");
        return 0;
    }
    memset(c, 0, sizeof *c);
    uint64_t table, lsn, idx, ts, ncols;
    if (v->pos >= v->len)
        goto bad;
    unsigned char op = v->data[v->pos++];
    if (op != SL_OP_INSERT && op != SL_OP_UPDATE && op != SL_OP_DELETE && op != SL_OP_TRUNCATE &&
        op != SL_OP_COPY && op != SL_OP_MARK)
        goto bad;
    if (varint(v, &table) || varint(v, &lsn) || varint(v, &idx) || varint(v, &ts) || varint(v, &ncols) ||
        table > UINT32_MAX || idx > UINT32_MAX || ts > INT64_MAX || ncols > (uint64_t)cap ||
        v->pos >= v->len)
        goto bad;
    unsigned char present = v->data[v->pos++];
    if (present > 3)
        goto bad;
    c->op = (sl_change_op_t)op;
    c->table = (uint32_t)table;
    c->pos = (sl_pos_t){lsn, (uint32_t)idx};
    c->commit_us = (int64_t)ts;
    c->ncols = (int)ncols;
    if ((present & 1) && read_vals(v, row, c->ncols))
        goto bad;
    if ((present & 2) && read_vals(v, old, c->ncols))
        goto bad;
    c->row = (present & 1) ? row : NULL;
    c->old = (present & 2) ? old : NULL;
    v->done++;
    return 1;
bad:
    return sl_err_set(err, SL_E_PROTOCOL, "malformed change batch: change %u of %u is cut or corrupt",
                      v->done + 1, v->hdr.nchanges);
}

void sl_lsn_format(uint64_t lsn, char *buf, size_t size)
{
    snprintf(buf, size, "%" PRIX32 "/%" PRIX32, (uint32_t)(lsn >> 32), (uint32_t)lsn);
}

int sl_lsn_parse(const char *s, uint64_t *lsn)
{
    unsigned int hi, lo;
    int n = 0;
    if (!s || sscanf(s, "%X/%X%n", &hi, &lo, &n) != 2 || s[n] != '\0')
        return -1;
    *lsn = (uint64_t)hi << 32 | lo;
    return 0;
}
