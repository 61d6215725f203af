/*
 * compress.c: one-shot compression of a block (a Parquet page) with SNAPPY (the raw
 * block format, not framed), GZIP (a gzip member, RFC 1952) or ZSTD (one frame), and the
 * reverse for the reader, which also takes LZ4_RAW (a raw LZ4 block) and the old LZ4
 * codec (Hadoop's framing of LZ4 blocks, or a bare block as some writers made it).
 * Streaming whole-file compression of CSV/JSONL lives in out.c, its reverse in in.c.
 */
#include <lz4.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "target/fmt/parquet_rd.h"

static int gzip_block(int level, const void *in, size_t n, sl_buf_t *dst, sl_err_t *err)
{
    z_stream z = {0};
    if (deflateInit2(&z, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return sl_err_set(err, SL_E_INTERNAL, "could not start gzip compression");
    size_t bound = deflateBound(&z, (uLong)n) + 32;
    if (sl_buf_reserve(dst, bound, err) < 0) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)dst->data;
    z.avail_out = (uInt)bound;
    int rc = deflate(&z, Z_FINISH);
    dst->len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END)
        return sl_err_set(err, SL_E_INTERNAL, "gzip compression failed (%d)", rc);
    return 0;
}

int sl_fmt_compress_block(sl_codec_t codec, int level, const void *in, size_t n,
                          sl_buf_t *dst, sl_err_t *err)
{
    sl_buf_reset(dst);
    switch (codec) {
    case SL_CODEC_NONE:
        return sl_buf_add(dst, in, n, err);
    case SL_CODEC_SNAPPY: {
        size_t cap = snappy_max_compressed_length(n);
        if (sl_buf_reserve(dst, cap, err) < 0)
            return -1;
        if (snappy_compress(in, n, dst->data, &cap) != SNAPPY_OK)
            return sl_err_set(err, SL_E_INTERNAL, "snappy compression failed");
        dst->len = cap;
        return 0;
    }
    case SL_CODEC_GZIP:
        return gzip_block(level, in, n, dst, err);
    case SL_CODEC_ZSTD: {
        size_t cap = ZSTD_compressBound(n);
        if (sl_buf_reserve(dst, cap, err) < 0)
            return -1;
        size_t r = ZSTD_compress(dst->data, cap, in, n, level ? level : ZSTD_CLEVEL_DEFAULT);
        if (ZSTD_isError(r))
            return sl_err_set(err, SL_E_INTERNAL, "zstd compression failed: %s",
                              ZSTD_getErrorName(r));
        dst->len = r;
        return 0;
    }
    }
    return sl_err_set(err, SL_E_INTERNAL, "unknown codec %d", (int)codec);
}

/* --- decompression ----------------------------------------------------------------------- */

static int corrupt(sl_err_t *err, const char *codec)
{
    sl_err_set(err, SL_E_DATA, "corrupt %s-compressed Parquet page", codec);
    sl_err_detail(err, "The page does not decompress to the size its header gives.");
    return -1;
}

static int gunzip_block(const void *in, size_t n, size_t unc, sl_buf_t *dst, sl_err_t *err)
{
    z_stream z = {0};
    if (inflateInit2(&z, 15 + 32) != Z_OK) /* zlib or gzip header */
        return sl_err_set(err, SL_E_LIMIT, "could not start gzip decompression");
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)dst->data;
    z.avail_out = (uInt)unc;
    int rc;
    for (;;) {
        rc = inflate(&z, Z_FINISH);
        /* concatenated members: start over on what is left */
        if (rc == Z_STREAM_END && z.avail_in > 0 && z.avail_out > 0 && inflateReset(&z) == Z_OK)
            continue;
        break;
    }
    size_t out = unc - z.avail_out;
    inflateEnd(&z);
    if (rc != Z_STREAM_END || out != unc)
        return corrupt(err, "GZIP");
    dst->len = out;
    return 0;
}

/* Hadoop's LZ4 framing: blocks of [BE32 raw size][BE32 compressed size][LZ4 block]. */
static int hadoop_lz4(const uint8_t *in, size_t n, size_t unc, char *out)
{
    size_t o = 0;
    while (n >= 8) {
        uint32_t raw = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
        uint32_t cmp = (uint32_t)in[4] << 24 | (uint32_t)in[5] << 16 | (uint32_t)in[6] << 8 | in[7];
        in += 8;
        n -= 8;
        if (cmp > n || raw > unc - o || cmp > INT32_MAX || raw > INT32_MAX)
            return -1;
        int r = LZ4_decompress_safe((const char *)in, out + o, (int)cmp, (int)raw);
        if (r < 0 || (uint32_t)r != raw)
            return -1;
        in += cmp;
        n -= cmp;
        o += raw;
    }
    return n == 0 && o == unc ? 0 : -1;
}

int sl_fmt_decompress_block(int codec, const void *in, size_t n, size_t unc, sl_buf_t *dst,
                            sl_err_t *err)
{
    sl_buf_reset(dst);
    if (codec == CODEC_NONE) {
        if (n != unc)
            return corrupt(err, "un");
        return sl_buf_add(dst, in, n, err);
    }
    if (sl_buf_reserve(dst, unc, err) < 0)
        return -1;
    switch (codec) {
    case CODEC_SNAPPY: {
        size_t len;
        if (snappy_uncompressed_length(in, n, &len) != SNAPPY_OK || len != unc ||
            snappy_uncompress(in, n, dst->data, &len) != SNAPPY_OK || len != unc)
            return corrupt(err, "SNAPPY");
        dst->len = unc;
        return 0;
    }
    case CODEC_GZIP:
        return gunzip_block(in, n, unc, dst, err);
    case CODEC_ZSTD: {
        size_t r = ZSTD_decompress(dst->data, unc, in, n);
        if (ZSTD_isError(r) || r != unc)
            return corrupt(err, "ZSTD");
        dst->len = unc;
        return 0;
    }
    case CODEC_LZ4:
        if (hadoop_lz4(in, n, unc, dst->data) == 0) {
            dst->len = unc;
            return 0;
        }
        __attribute__((fallthrough)); /* a bare block */
    case CODEC_LZ4_RAW: {
        if (n > INT32_MAX || unc > INT32_MAX)
            return corrupt(err, "LZ4");
        int r = LZ4_decompress_safe(in, dst->data, (int)n, (int)unc);
        if (r < 0 || (size_t)r != unc)
            return corrupt(err, "LZ4");
        dst->len = unc;
        return 0;
    }
    }
    sl_err_set(err, SL_E_CONFIG, "%s-compressed Parquet files are not supported",
               codec == CODEC_LZO ? "LZO" : codec == CODEC_BROTLI ? "BROTLI" : "unknown-codec");
    sl_err_hint(err, "Rewrite the file with ZSTD, SNAPPY, GZIP or LZ4_RAW compression.");
    return -1;
}
