/*
 * in.c: the input side of the text formats (CSV, JSONL), the reverse of out.c (and a
 * stream over memory for tests and fuzzers): a stream
 * over a range reader (a local file or an S3 object) that reads it front to back in
 * chunks and, for .gz and .zst files, decompresses on the way (gzip: also several
 * concatenated members, as `cat a.gz b.gz` makes; zstd: several frames). Memory: one
 * chunk of input plus the decompressor's window, whatever the file's size.
 *
 * Ownership: the caller owns the sl_fmt_in_t; the range is borrowed. Thread: one.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "target/fmt/fmt_read.h"

enum { CHUNK = 256 * 1024 };

struct sl_fmt_in {
    const sl_fmt_range_t *src;
    sl_codec_t codec;
    uint64_t off;          /* the next byte of the file to read */
    unsigned char *buf;    /* compressed input */
    size_t pos, len;
    z_stream z;
    bool z_on, z_end;
    bool zstd_open;        /* a zstd frame is not finished yet */
    ZSTD_DCtx *zd;
};

sl_codec_t sl_fmt_codec_of_name(const char *name)
{
    size_t n = strlen(name);
    if (n > 3 && strcmp(name + n - 3, ".gz") == 0)
        return SL_CODEC_GZIP;
    if (n > 4 && strcmp(name + n - 4, ".zst") == 0)
        return SL_CODEC_ZSTD;
    return SL_CODEC_NONE;
}

int sl_fmt_in_open(const sl_fmt_range_t *src, sl_codec_t codec, sl_fmt_in_t **out,
                   sl_err_t *err)
{
    if (codec != SL_CODEC_NONE && codec != SL_CODEC_GZIP && codec != SL_CODEC_ZSTD)
        return sl_err_set(err, SL_E_CONFIG, "whole-file %s compression is not supported",
                          codec == SL_CODEC_SNAPPY ? "snappy" : "unknown");
    sl_fmt_in_t *in = calloc(1, sizeof *in);
    if (!in || !(in->buf = malloc(CHUNK)))
        goto oom;
    in->src = src;
    in->codec = codec;
    if (codec == SL_CODEC_GZIP) {
        if (inflateInit2(&in->z, 15 + 32) != Z_OK)
            goto oom;
        in->z_on = true;
    } else if (codec == SL_CODEC_ZSTD && !(in->zd = ZSTD_createDCtx())) {
        goto oom;
    }
    *out = in;
    return 0;
oom:
    sl_fmt_in_free(in);
    return sl_err_set(err, SL_E_LIMIT, "out of memory starting a decompressor");
}

void sl_fmt_in_free(sl_fmt_in_t *in)
{
    if (!in)
        return;
    if (in->z_on)
        inflateEnd(&in->z);
    ZSTD_freeDCtx(in->zd);
    free(in->buf);
    free(in);
}

/* Refills buf from the file when it is used up; false at the end of the file. */
static int fill(sl_fmt_in_t *in, bool *more, sl_err_t *err)
{
    *more = true;
    if (in->pos < in->len)
        return 0;
    uint64_t left = in->src->size - in->off;
    size_t n = left < CHUNK ? (size_t)left : CHUNK;
    if (n == 0) {
        *more = false;
        return 0;
    }
    if (in->src->read(in->src->ctx, in->off, in->buf, n, err) < 0)
        return -1;
    in->off += n;
    in->pos = 0;
    in->len = n;
    return 0;
}

static int corrupt(sl_err_t *err, const char *what)
{
    sl_err_set(err, SL_E_DATA, "corrupt %s-compressed file", what);
    sl_err_hint(err, "Check that the file's name matches its compression (.gz, .zst).");
    return -1;
}

static int in_read(void *ctx, void *dst, size_t cap, size_t *got, sl_err_t *err)
{
    sl_fmt_in_t *in = ctx;
    bool more;
    *got = 0;
    while (*got == 0 && cap > 0) {
        if (fill(in, &more, err) < 0)
            return -1;
        if (in->codec == SL_CODEC_NONE) {
            if (!more)
                return 0;
            size_t n = in->len - in->pos < cap ? in->len - in->pos : cap;
            memcpy(dst, in->buf + in->pos, n);
            in->pos += n;
            *got = n;
        } else if (in->codec == SL_CODEC_GZIP) {
            if (!more) /* the file ends: it must end with a member */
                return in->z_end || in->off == 0 ? 0 : corrupt(err, "gzip");
            if (in->z_end) { /* another member follows */
                if (inflateReset(&in->z) != Z_OK)
                    return corrupt(err, "gzip");
                in->z_end = false;
            }
            in->z.next_in = in->buf + in->pos;
            in->z.avail_in = (uInt)(in->len - in->pos);
            in->z.next_out = dst;
            in->z.avail_out = (uInt)(cap > UINT32_MAX ? UINT32_MAX : cap);
            int rc = inflate(&in->z, Z_NO_FLUSH);
            if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
                return corrupt(err, "gzip");
            in->pos = in->len - in->z.avail_in;
            *got = (size_t)((unsigned char *)in->z.next_out - (unsigned char *)dst);
            in->z_end = rc == Z_STREAM_END;
        } else {
            if (!more)
                return in->zstd_open ? corrupt(err, "zstd") : 0;
            ZSTD_inBuffer zi = {in->buf, in->len, in->pos};
            ZSTD_outBuffer zo = {dst, cap, 0};
            size_t rc = ZSTD_decompressStream(in->zd, &zo, &zi);
            if (ZSTD_isError(rc))
                return corrupt(err, "zstd");
            in->pos = zi.pos;
            *got = zo.pos;
            in->zstd_open = rc != 0;
        }
    }
    return 0;
}

static int mem_read(void *ctx, void *dst, size_t cap, size_t *got, sl_err_t *err)
{
    sl_fmt_mem_t *m = ctx;
    size_t k = m->chunk && m->chunk < cap ? m->chunk : cap;
    if (k > m->n)
        k = m->n;
    memcpy(dst, m->p, k);
    m->p += k;
    m->n -= k;
    *got = k;
    return 0;
}

sl_fmt_stream_t sl_fmt_mem_stream(sl_fmt_mem_t *m, const void *p, size_t n, size_t chunk)
{
    m->p = p;
    m->n = n;
    m->chunk = chunk;
    return (sl_fmt_stream_t){.read = mem_read, .ctx = m};
}

sl_fmt_stream_t sl_fmt_in_stream(sl_fmt_in_t *in)
{
    return (sl_fmt_stream_t){.read = in_read, .ctx = in};
}
