/*
 * parquet_dec.c: the value encodings of Parquet
 * (https://github.com/apache/parquet-format/blob/master/Encodings.md) as streaming cursors over
 * one page's bytes: each call yields one value and nothing is decoded ahead, so memory
 * stays at the page itself (plus the previous value for DELTA_BYTE_ARRAY) whatever the
 * page's value count claims.
 *
 *   RLE / bit-packed hybrid   levels, dictionary indices, RLE booleans (rle.c encodes)
 *   BIT_PACKED                the deprecated level encoding (most significant bit first)
 *   PLAIN                     every physical type
 *   PLAIN_/RLE_DICTIONARY     a bit width byte, then RLE indices into the dictionary
 *   DELTA_BINARY_PACKED       INT32, INT64
 *   DELTA_LENGTH_BYTE_ARRAY   BYTE_ARRAY
 *   DELTA_BYTE_ARRAY          BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY
 *   BYTE_STREAM_SPLIT         FLOAT, DOUBLE, INT32, INT64, FIXED_LEN_BYTE_ARRAY
 *
 * Pure: no I/O, no globals; a cursor never reads outside the bytes it was given, and
 * malformed input is an error (fuzzed by fuzz_pq_page).
 */
#include <string.h>

#include "target/fmt/parquet_rd.h"

static int varint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
    const uint8_t *p = *pp;
    uint64_t x = 0;
    for (int shift = 0; shift < 64 && p < end; shift += 7) {
        uint8_t c = *p++;
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = x;
            *pp = p;
            return 0;
        }
    }
    return -1;
}

static int64_t unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* bw (0..64) bits at bit position pos of b, least significant bit first; the caller has
 * checked that they lie inside b. */
static uint64_t bits_lsb(const uint8_t *b, size_t pos, int bw)
{
    if (bw == 0)
        return 0;
    size_t k = pos >> 3;
    int shift = (int)(pos & 7);
    int nbytes = (shift + bw + 7) / 8; /* at most 9 */
    unsigned __int128 x = 0;
    for (int i = 0; i < nbytes; i++)
        x |= (unsigned __int128)b[k + i] << (8 * i);
    x >>= shift;
    return bw == 64 ? (uint64_t)x : (uint64_t)x & ((UINT64_C(1) << bw) - 1);
}

/* --- RLE / bit-packed hybrid ----------------------------------------------------------- */

void sl_pq_rle_init(pq_rle_t *d, const uint8_t *p, size_t n, int bw)
{
    memset(d, 0, sizeof *d);
    d->p = p;
    d->end = p + n;
    d->bw = bw;
}

void sl_pq_bitpacked_init(pq_rle_t *d, const uint8_t *p, size_t n, int bw)
{
    sl_pq_rle_init(d, p, n, bw);
    d->msb = true;
    d->packed = true;
    d->bits = p;
    d->nbits = n * 8;
    d->left = UINT32_MAX;
    d->p = d->end;
}

static int next_run(pq_rle_t *d)
{
    uint64_t h;
    if (varint(&d->p, d->end, &h) < 0 || (h >> 1) == 0)
        return -1;
    if (h & 1) {
        uint64_t groups = h >> 1;
        if (groups > (UINT64_C(1) << 28)) /* more than 2^31 values: not a real page */
            return -1;
        size_t want = (size_t)groups * (size_t)d->bw;
        size_t avail = (size_t)(d->end - d->p);
        /* Some writers end the last run short of its padding: keep what is there and
         * fail only when a value beyond it is asked for. */
        if (want > avail)
            want = avail;
        d->packed = true;
        d->bits = d->p;
        d->nbits = want * 8;
        d->bitpos = 0;
        d->p += want;
        d->left = (uint32_t)(groups * 8);
        return 0;
    }
    uint64_t count = h >> 1;
    int nbytes = (d->bw + 7) / 8;
    if (count > UINT32_MAX || d->end - d->p < nbytes)
        return -1;
    uint32_t v = 0;
    for (int i = 0; i < nbytes; i++)
        v |= (uint32_t)d->p[i] << (8 * i);
    d->p += nbytes;
    d->packed = false;
    d->val = d->bw < 32 ? v & ((1u << d->bw) - 1) : v;
    d->left = (uint32_t)count;
    return 0;
}

int sl_pq_rle_next(pq_rle_t *d, uint32_t *v)
{
    if (d->left == 0) {
        if (d->bw == 0 && d->p >= d->end) { /* a one-entry dictionary may have no runs */
            *v = 0;
            return 0;
        }
        if (next_run(d) < 0)
            return -1;
    }
    if (!d->packed) {
        d->left--;
        *v = d->val;
        return 0;
    }
    if (d->bitpos + (size_t)d->bw > d->nbits)
        return -1;
    if (d->msb) {
        uint32_t x = 0;
        for (int i = 0; i < d->bw; i++, d->bitpos++)
            x = x << 1 | ((d->bits[d->bitpos >> 3] >> (7 - (d->bitpos & 7))) & 1);
        *v = x;
    } else {
        *v = (uint32_t)bits_lsb(d->bits, d->bitpos, d->bw);
        d->bitpos += (size_t)d->bw;
        d->left--;
    }
    return 0;
}

/* --- DELTA_BINARY_PACKED --------------------------------------------------------------- */

int sl_pq_dbp_init(pq_dbp_t *d, const uint8_t *p, size_t n)
{
    memset(d, 0, sizeof *d);
    const uint8_t *end = p + n;
    uint64_t first;
    if (varint(&p, end, &d->block) < 0 || varint(&p, end, &d->nmini) < 0 ||
        varint(&p, end, &d->total) < 0 || varint(&p, end, &first) < 0)
        return -1;
    if (d->block == 0 || d->block % 128 || d->block > (UINT64_C(1) << 24) || d->nmini == 0 ||
        d->block % d->nmini || (d->block / d->nmini) % 32)
        return -1;
    d->per_mini = d->block / d->nmini;
    d->last = unzigzag(first);
    d->p = d->start = p;
    d->end = end;
    d->mini = d->nmini; /* the first value after `first` opens a block */
    return 0;
}

static int dbp_block(pq_dbp_t *d)
{
    uint64_t md;
    if (varint(&d->p, d->end, &md) < 0 || (uint64_t)(d->end - d->p) < d->nmini)
        return -1;
    d->min_delta = unzigzag(md);
    d->widths = d->p;
    d->p += d->nmini;
    d->mini = 0;
    return 0;
}

static int dbp_miniblock(pq_dbp_t *d)
{
    if (d->mini >= d->nmini && dbp_block(d) < 0)
        return -1;
    d->bw = d->widths[d->mini++];
    if (d->bw > 64)
        return -1;
    size_t want = (size_t)(d->per_mini * (uint64_t)d->bw / 8), avail = (size_t)(d->end - d->p);
    d->data = d->p;
    d->dlen = want < avail ? want : avail; /* the last miniblock may be cut short */
    d->p += d->dlen;
    d->in_mini = 0;
    return 0;
}

int sl_pq_dbp_next(pq_dbp_t *d, int64_t *v)
{
    if (d->done >= d->total)
        return -1;
    if (d->done++ == 0) {
        *v = d->last;
        return 0;
    }
    if ((!d->data || d->in_mini == d->per_mini) && dbp_miniblock(d) < 0)
        return -1;
    size_t pos = (size_t)d->in_mini * (size_t)d->bw;
    if (pos + (size_t)d->bw > d->dlen * 8)
        return -1;
    uint64_t delta = bits_lsb(d->data, pos, d->bw);
    d->in_mini++;
    /* Two's complement wrap-around is the encoding's arithmetic (INT32 wraps at 32 bits,
     * which truncation to 32 bits gives). */
    d->last = (int64_t)((uint64_t)d->last + (uint64_t)d->min_delta + delta);
    *v = d->last;
    return 0;
}

const uint8_t *sl_pq_dbp_end(const pq_dbp_t *d)
{
    const uint8_t *p = d->start;
    uint64_t left = d->total ? d->total - 1 : 0;
    while (left > 0) {
        uint64_t md;
        if (varint(&p, d->end, &md) < 0 || (uint64_t)(d->end - p) < d->nmini)
            return NULL;
        const uint8_t *w = p;
        p += d->nmini;
        for (uint64_t m = 0; m < d->nmini && left > 0; m++) {
            if (w[m] > 64)
                return NULL;
            uint64_t sz = d->per_mini * w[m] / 8;
            if (sz > (uint64_t)(d->end - p))
                return NULL;
            p += sz;
            left -= left < d->per_mini ? left : d->per_mini;
        }
    }
    return p;
}

/* --- the page's values ----------------------------------------------------------------- */

int sl_pq_width(int ptype, int type_len)
{
    switch (ptype) {
    case PT_BOOLEAN: return 1;
    case PT_INT32: case PT_FLOAT: return 4;
    case PT_INT64: case PT_DOUBLE: return 8;
    case PT_INT96: return 12;
    case PT_FLBA: return type_len;
    default: return 0;
    }
}

void sl_pq_vcur_init(pq_vcur_t *c)
{
    memset(c, 0, sizeof *c);
    sl_buf_init(&c->val[0], (size_t)1 << 30);
    sl_buf_init(&c->val[1], (size_t)1 << 30);
}

void sl_pq_vcur_free(pq_vcur_t *c)
{
    sl_buf_free(&c->val[0]);
    sl_buf_free(&c->val[1]);
}

static int data_err(sl_err_t *err, const char *what)
{
    return sl_err_set(err, SL_E_DATA, "corrupt Parquet page: %s", what);
}

static const char *enc_name(int enc)
{
    switch (enc) {
    case ENC_PLAIN: return "PLAIN";
    case ENC_PLAIN_DICT: return "PLAIN_DICTIONARY";
    case ENC_RLE: return "RLE";
    case ENC_BIT_PACKED: return "BIT_PACKED";
    case ENC_DELTA_BP: return "DELTA_BINARY_PACKED";
    case ENC_DELTA_LBA: return "DELTA_LENGTH_BYTE_ARRAY";
    case ENC_DELTA_BA: return "DELTA_BYTE_ARRAY";
    case ENC_RLE_DICT: return "RLE_DICTIONARY";
    case ENC_BSS: return "BYTE_STREAM_SPLIT";
    default: return "an unknown encoding";
    }
}

/* Whether encoding enc can carry physical type pt. */
static bool enc_fits(int enc, int pt)
{
    switch (enc) {
    case ENC_PLAIN: case ENC_PLAIN_DICT: case ENC_RLE_DICT: return true;
    case ENC_RLE: return pt == PT_BOOLEAN;
    case ENC_DELTA_BP: return pt == PT_INT32 || pt == PT_INT64;
    case ENC_DELTA_LBA: return pt == PT_BYTE_ARRAY;
    case ENC_DELTA_BA: return pt == PT_BYTE_ARRAY || pt == PT_FLBA;
    case ENC_BSS:
        return pt == PT_FLOAT || pt == PT_DOUBLE || pt == PT_INT32 || pt == PT_INT64 || pt == PT_FLBA;
    default: return false;
    }
}

/* The DELTA_LENGTH_BYTE_ARRAY part (lengths in d, then the bytes) starting at p. */
static int dlba_start(pq_dbp_t *d, const uint8_t **data, const uint8_t *p, const uint8_t *end)
{
    if (sl_pq_dbp_init(d, p, (size_t)(end - p)) < 0 || !(*data = sl_pq_dbp_end(d)))
        return -1;
    return 0;
}

int sl_pq_vcur_start(pq_vcur_t *c, int enc, int ptype, int width, const uint8_t *p, size_t n,
                     uint64_t nvals, const pq_v_t *dict, uint32_t ndict, sl_err_t *err)
{
    const uint8_t *end = p + n;
    if (!enc_fits(enc, ptype)) {
        sl_err_set(err, SL_E_DATA, "corrupt Parquet page: %s values in %s", "wrong type of",
                   enc_name(enc));
        sl_err_detail(err, "Encoding %d does not apply to physical type %d.", enc, ptype);
        return -1;
    }
    c->enc = enc;
    c->ptype = ptype;
    c->width = width;
    c->p = p;
    c->end = end;
    c->i = 0;
    c->cur = 0;
    sl_buf_reset(&c->val[0]);
    sl_buf_reset(&c->val[1]);
    switch (enc) {
    case ENC_PLAIN:
        c->n = ptype == PT_BOOLEAN ? (uint64_t)n * 8 : 0;
        if (ptype == PT_FLBA && width <= 0)
            return data_err(err, "a fixed-length column without a length");
        return 0;
    case ENC_PLAIN_DICT:
    case ENC_RLE_DICT:
        if (n < 1 || p[0] > 32)
            return data_err(err, "bad dictionary index bit width");
        c->dict = dict;
        c->ndict = ndict;
        sl_pq_rle_init(&c->rle, p + 1, n - 1, p[0]);
        return 0;
    case ENC_RLE: { /* booleans: a 4-byte length, then the hybrid at bit width 1 */
        if (n < 4)
            return data_err(err, "RLE booleans without their length");
        uint32_t len = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                       (uint32_t)p[3] << 24;
        if (len > n - 4)
            return data_err(err, "RLE booleans longer than the page");
        sl_pq_rle_init(&c->rle, p + 4, len, 1);
        return 0;
    }
    case ENC_DELTA_BP:
        if (sl_pq_dbp_init(&c->a, p, n) < 0)
            return data_err(err, "bad DELTA_BINARY_PACKED header");
        return 0;
    case ENC_DELTA_LBA:
        if (dlba_start(&c->a, &c->p, p, end) < 0)
            return data_err(err, "bad DELTA_LENGTH_BYTE_ARRAY lengths");
        return 0;
    case ENC_DELTA_BA: {
        if (sl_pq_dbp_init(&c->a, p, n) < 0)
            return data_err(err, "bad DELTA_BYTE_ARRAY prefix lengths");
        const uint8_t *s = sl_pq_dbp_end(&c->a);
        if (!s || dlba_start(&c->b, &c->p, s, end) < 0)
            return data_err(err, "bad DELTA_BYTE_ARRAY suffixes");
        return 0;
    }
    case ENC_BSS:
        if (width <= 0 || width > 16 || n % (size_t)width || n / (size_t)width < nvals)
            return data_err(err, "BYTE_STREAM_SPLIT data of the wrong size");
        c->base = p;
        c->n = n / (size_t)width;
        return 0;
    }
    return data_err(err, "unknown encoding");
}

static int fixed(pq_vcur_t *c, pq_v_t *v, sl_err_t *err)
{
    if ((size_t)(c->end - c->p) < (size_t)c->width)
        return data_err(err, "fewer values than the page header says");
    v->p = c->p;
    v->n = (uint32_t)c->width;
    c->p += c->width;
    return 0;
}

/* Stores an integer from a delta decoder as the column's PLAIN bytes. */
static void put_int(pq_vcur_t *c, int64_t x, pq_v_t *v)
{
    int w = c->ptype == PT_INT32 ? 4 : 8;
    for (int i = 0; i < w; i++)
        c->tmp[i] = (uint8_t)((uint64_t)x >> (8 * i));
    v->p = c->tmp;
    v->n = (uint32_t)w;
}

static int next_len(pq_dbp_t *d, const uint8_t *p, const uint8_t *end, int64_t *len)
{
    if (sl_pq_dbp_next(d, len) < 0 || *len < 0 || *len > end - p)
        return -1;
    return 0;
}

int sl_pq_vcur_next(pq_vcur_t *c, pq_v_t *v, sl_err_t *err)
{
    uint32_t idx;
    int64_t x, len, pre;
    switch (c->enc) {
    case ENC_PLAIN:
        if (c->ptype == PT_BOOLEAN) {
            if (c->i >= c->n)
                return data_err(err, "fewer booleans than the page header says");
            c->tmp[0] = (c->p[c->i >> 3] >> (c->i & 7)) & 1;
            c->i++;
            v->p = c->tmp;
            v->n = 1;
            return 0;
        }
        if (c->ptype == PT_BYTE_ARRAY) {
            if (c->end - c->p < 4)
                return data_err(err, "fewer values than the page header says");
            uint32_t l = (uint32_t)c->p[0] | (uint32_t)c->p[1] << 8 | (uint32_t)c->p[2] << 16 |
                         (uint32_t)c->p[3] << 24;
            if (l > (size_t)(c->end - c->p) - 4)
                return data_err(err, "a value longer than its page");
            v->p = c->p + 4;
            v->n = l;
            c->p += 4 + (size_t)l;
            return 0;
        }
        return fixed(c, v, err);
    case ENC_PLAIN_DICT:
    case ENC_RLE_DICT:
        if (sl_pq_rle_next(&c->rle, &idx) < 0)
            return data_err(err, "dictionary indices end early");
        if (idx >= c->ndict)
            return data_err(err, "a dictionary index past the dictionary");
        *v = c->dict[idx];
        return 0;
    case ENC_RLE:
        if (sl_pq_rle_next(&c->rle, &idx) < 0)
            return data_err(err, "RLE booleans end early");
        c->tmp[0] = (uint8_t)(idx & 1);
        v->p = c->tmp;
        v->n = 1;
        return 0;
    case ENC_DELTA_BP:
        if (sl_pq_dbp_next(&c->a, &x) < 0)
            return data_err(err, "DELTA_BINARY_PACKED values end early");
        put_int(c, x, v);
        return 0;
    case ENC_DELTA_LBA:
        if (next_len(&c->a, c->p, c->end, &len) < 0)
            return data_err(err, "DELTA_LENGTH_BYTE_ARRAY values end early");
        v->p = c->p;
        v->n = (uint32_t)len;
        c->p += len;
        return 0;
    case ENC_DELTA_BA: {
        sl_buf_t *prev = &c->val[c->cur], *cur = &c->val[c->cur ^ 1];
        if (sl_pq_dbp_next(&c->a, &pre) < 0 || pre < 0 || (uint64_t)pre > prev->len ||
            next_len(&c->b, c->p, c->end, &len) < 0)
            return data_err(err, "DELTA_BYTE_ARRAY values end early");
        sl_buf_reset(cur);
        if (sl_buf_add(cur, prev->data ? prev->data : "", (size_t)pre, err) < 0 ||
            sl_buf_add(cur, c->p, (size_t)len, err) < 0)
            return -1;
        c->p += len;
        c->cur ^= 1;
        if (c->ptype == PT_FLBA && cur->len != (size_t)c->width)
            return data_err(err, "a DELTA_BYTE_ARRAY value of the wrong fixed length");
        v->p = (const uint8_t *)cur->data;
        v->n = (uint32_t)cur->len;
        return 0;
    }
    case ENC_BSS:
        if (c->i >= c->n)
            return data_err(err, "fewer BYTE_STREAM_SPLIT values than the page header says");
        for (int k = 0; k < c->width; k++)
            c->tmp[k] = c->base[(size_t)k * c->n + c->i];
        c->i++;
        v->p = c->tmp;
        v->n = (uint32_t)c->width;
        return 0;
    }
    return data_err(err, "unknown encoding");
}
