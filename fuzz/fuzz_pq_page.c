/*
 * fuzz_pq_page.c: libFuzzer target for the decoders of one Parquet page (target/fmt/
 * parquet_dec.c and the block decompressors of compress.c). The first 4 bytes choose
 * what the rest is for: byte 0 the physical type, byte 1 the FIXED_LEN_BYTE_ARRAY
 * length, byte 2 a bit width; the rest is the page. It goes through every value encoding
 * (PLAIN, the dictionary indices over a small dictionary, RLE, DELTA_BINARY_PACKED,
 * DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT), the RLE hybrid and
 * BIT_PACKED level decoders at the chosen bit width, and every codec. At most 4096 values
 * are taken from each, so a page that claims billions costs nothing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "target/fmt/parquet_rd.h"

enum { MAX_VALUES = 4096 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    int ptype = data[0] % 8, flba = 1 + data[1] % 20, bw = data[2] % 33;
    size_t n = size - 4;
    uint8_t *page = malloc(n ? n : 1);
    if (!page)
        return 0;
    memcpy(page, data + 4, n);
    sl_err_t err;
    static const uint8_t dictbytes[64];
    pq_v_t dict[4];
    for (int i = 0; i < 4; i++)
        dict[i] = (pq_v_t){dictbytes + 4 * i, 4};
    static const int encs[] = {ENC_PLAIN, ENC_PLAIN_DICT, ENC_RLE, ENC_DELTA_BP, ENC_DELTA_LBA,
                               ENC_DELTA_BA, ENC_RLE_DICT, ENC_BSS};
    pq_vcur_t c;
    sl_pq_vcur_init(&c);
    uint64_t sum = 0;
    for (size_t e = 0; e < sizeof encs / sizeof encs[0]; e++) {
        int width = sl_pq_width(ptype, flba);
        if (sl_pq_vcur_start(&c, encs[e], ptype, width, page, n, n / 4, dict, 4, &err) < 0)
            continue;
        pq_v_t v;
        for (int i = 0; i < MAX_VALUES && sl_pq_vcur_next(&c, &v, &err) == 0; i++)
            for (uint32_t k = 0; k < v.n; k++) /* touch every byte: ASan checks the bounds */
                sum += v.p[k];
    }
    sl_pq_vcur_free(&c);
    pq_rle_t r;
    uint32_t x;
    sl_pq_rle_init(&r, page, n, bw);
    for (int i = 0; i < MAX_VALUES && sl_pq_rle_next(&r, &x) == 0; i++)
        sum += x;
    sl_pq_bitpacked_init(&r, page, n, bw);
    for (int i = 0; i < MAX_VALUES && sl_pq_rle_next(&r, &x) == 0; i++)
        sum += x;
    pq_dbp_t d;
    int64_t y;
    if (sl_pq_dbp_init(&d, page, n) == 0) {
        (void)sl_pq_dbp_end(&d);
        for (int i = 0; i < MAX_VALUES && sl_pq_dbp_next(&d, &y) == 0; i++)
            sum += (uint64_t)y;
    }
    sl_buf_t out;
    sl_buf_init(&out, 1 << 20);
    static const int codecs[] = {CODEC_NONE, CODEC_SNAPPY, CODEC_GZIP, CODEC_ZSTD, CODEC_LZ4,
                                 CODEC_LZ4_RAW, CODEC_BROTLI};
    size_t unc = (size_t)data[3] * 97;
    for (size_t k = 0; k < sizeof codecs / sizeof codecs[0]; k++)
        (void)sl_fmt_decompress_block(codecs[k], page, n, unc, &out, &err);
    sl_buf_free(&out);
    free(page);
    return (int)(sum & 0);
}
