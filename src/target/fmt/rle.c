/*
 * rle.c: the RLE / bit-packed hybrid encoding of Parquet (the format's encodings page,
 * https://github.com/apache/parquet-format/blob/master/Encodings.md): runs of 8 or
 * more equal values become RLE runs (varint header count<<1, the value in ceil(bw/8)
 * little-endian bytes); everything else is bit-packed in groups of 8 values, least
 * significant bit first (header groups<<1 | 1). The last bit-packed group is padded
 * with zeros; readers stop at the count the page header gives.
 */
#include <string.h>

#include "target/fmt/parquet_int.h"

int sl_rle_width(uint32_t max)
{
    int bw = 1;
    while (bw < 32 && (max >> bw) != 0)
        bw++;
    return bw;
}

/* Values are uint32_t, or uint8_t for levels (one < 2 test per value, no copies). */
typedef struct vals {
    const uint32_t *w;
    const uint8_t *b;
} vals_t;

static uint32_t at(vals_t v, size_t i) { return v.w ? v.w[i] : v.b[i]; }

/* Bit-packs v[from..from+n) (n padded up to a multiple of 8 with zeros). */
static int packed(sl_buf_t *b, vals_t v, size_t from, size_t n, int bw, sl_err_t *err)
{
    size_t groups = (n + 7) / 8;
    if (sl_buf_add_varint(b, groups << 1 | 1, err) < 0 ||
        sl_buf_reserve(b, groups * (size_t)bw, err) < 0)
        return -1;
    unsigned char *o = (unsigned char *)b->data + b->len;
    memset(o, 0, groups * (size_t)bw);
    size_t bit = 0;
    for (size_t i = 0; i < n; i++, bit += (size_t)bw) {
        uint64_t x = (uint64_t)at(v, from + i) << (bit & 7);
        for (size_t k = bit >> 3; x; k++, x >>= 8)
            o[k] |= (unsigned char)x;
    }
    b->len += groups * (size_t)bw;
    b->data[b->len] = 0;
    return 0;
}

static int run(sl_buf_t *b, uint32_t val, size_t count, int bw, sl_err_t *err)
{
    if (sl_buf_add_varint(b, (uint64_t)count << 1, err) < 0)
        return -1;
    for (int k = 0; k < (bw + 7) / 8; k++)
        if (sl_buf_addc(b, (char)(val >> (8 * k)), err) < 0)
            return -1;
    return 0;
}

static int encode(sl_buf_t *b, vals_t v, size_t n, int bw, sl_err_t *err)
{
    size_t lit = 0, i = 0; /* v[lit..i) waits to be bit-packed */
    while (i < n) {
        uint32_t x = at(v, i);
        size_t r = 1;
        while (i + r < n && at(v, i + r) == x)
            r++;
        size_t pad = (8 - (i - lit) % 8) % 8; /* values that complete the last group */
        if (r >= pad + 8) {
            i += pad;
            r -= pad;
            if (i > lit && packed(b, v, lit, i - lit, bw, err) < 0)
                return -1;
            if (run(b, x, r, bw, err) < 0)
                return -1;
            i += r;
            lit = i;
        } else {
            i += r;
        }
    }
    if (i > lit && packed(b, v, lit, i - lit, bw, err) < 0)
        return -1;
    return 0;
}

int sl_rle_encode(sl_buf_t *b, const uint32_t *v, size_t n, int bw, sl_err_t *err)
{
    return encode(b, (vals_t){.w = v}, n, bw, err);
}

int sl_rle_encode_bits(sl_buf_t *b, const uint8_t *v, size_t n, sl_err_t *err)
{
    return encode(b, (vals_t){.b = v}, n, 1, err);
}
