/*
 * compress.c: one-shot compression of a block (a Parquet page) with SNAPPY (the raw
 * block format, not framed), GZIP (a gzip member, RFC 1952) or ZSTD (one frame).
 * Streaming whole-file compression of CSV/JSONL lives in out.c.
 */
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "target/fmt/fmt_int.h"

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
