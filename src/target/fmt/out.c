/*
 * out.c: the output side of the text formats (CSV, JSONL): a staging buffer that the
 * encoder appends rows to, flushed to the sink in chunks of about 64 KiB, through a
 * streaming gzip (zlib, gzip wrapper) or zstd compressor when asked. Memory stays bounded
 * by the staging buffer plus the compressor's window, whatever the file's size.
 *
 * Ownership: the encoder owns its sl_fmt_out_t. Thread: the encoder's.
 */
#include <stdlib.h>
#include <zlib.h>
#include <zstd.h>

#include "target/fmt/fmt_int.h"

enum { FLUSH_AT = 64 * 1024, ZBUF = 64 * 1024 };
/* One row may be large (a 1 GB text value is the practical ceiling of the sources). */
#define OUT_MAX ((size_t)2 << 30)

struct sl_fmt_out {
    sl_fmt_sink_t sink;
    sl_codec_t codec;
    sl_buf_t buf;
    uint64_t written; /* bytes handed to the sink */
    z_stream z;
    bool z_on;
    ZSTD_CCtx *zc;
    unsigned char *zbuf;
};

int sl_fmt_out_open(sl_fmt_sink_t sink, sl_codec_t codec, int level, sl_fmt_out_t **out,
                    sl_err_t *err)
{
    if (codec == SL_CODEC_SNAPPY) {
        sl_err_set(err, SL_E_CONFIG, "snappy compresses Parquet pages only");
        sl_err_hint(err, "Use compression gzip or zstd for CSV and JSONL files.");
        return -1;
    }
    sl_fmt_out_t *o = calloc(1, sizeof *o);
    if (!o)
        return sl_err_set(err, SL_E_LIMIT, "out of memory");
    o->sink = sink;
    o->codec = codec;
    sl_buf_init(&o->buf, OUT_MAX);
    if (codec != SL_CODEC_NONE && !(o->zbuf = malloc(ZBUF)))
        goto oom;
    if (codec == SL_CODEC_GZIP) {
        if (deflateInit2(&o->z, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            goto oom;
        o->z_on = true;
    } else if (codec == SL_CODEC_ZSTD) {
        if (!(o->zc = ZSTD_createCCtx()))
            goto oom;
        ZSTD_CCtx_setParameter(o->zc, ZSTD_c_compressionLevel, level ? level : ZSTD_CLEVEL_DEFAULT);
    }
    *out = o;
    return 0;
oom:
    sl_fmt_out_free(o);
    return sl_err_set(err, SL_E_LIMIT, "out of memory starting a compressor");
}

sl_buf_t *sl_fmt_out_buf(sl_fmt_out_t *o) { return &o->buf; }

static int emit(sl_fmt_out_t *o, const void *p, size_t n, sl_err_t *err)
{
    if (n == 0)
        return 0;
    if (o->sink.write(o->sink.ctx, p, n, err) < 0)
        return -1;
    o->written += n;
    return 0;
}

/* Pushes in[0..n) through the compressor; `end` finishes the stream. */
static int push(sl_fmt_out_t *o, const void *in, size_t n, bool end, sl_err_t *err)
{
    if (o->codec == SL_CODEC_NONE)
        return emit(o, in, n, err);
    if (o->codec == SL_CODEC_GZIP) {
        o->z.next_in = (Bytef *)in;
        o->z.avail_in = (uInt)n;
        for (;;) {
            o->z.next_out = o->zbuf;
            o->z.avail_out = ZBUF;
            int rc = deflate(&o->z, end ? Z_FINISH : Z_NO_FLUSH);
            if (rc == Z_STREAM_ERROR)
                return sl_err_set(err, SL_E_INTERNAL, "gzip compression failed");
            if (emit(o, o->zbuf, ZBUF - o->z.avail_out, err) < 0)
                return -1;
            if (end ? rc == Z_STREAM_END : (o->z.avail_in == 0 && o->z.avail_out != 0))
                return 0;
        }
    }
    ZSTD_inBuffer ib = {in, n, 0};
    for (;;) {
        ZSTD_outBuffer ob = {o->zbuf, ZBUF, 0};
        size_t r = ZSTD_compressStream2(o->zc, &ob, &ib, end ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(r))
            return sl_err_set(err, SL_E_INTERNAL, "zstd compression failed: %s",
                              ZSTD_getErrorName(r));
        if (emit(o, o->zbuf, ob.pos, err) < 0)
            return -1;
        if (end ? r == 0 : ib.pos == ib.size)
            return 0;
    }
}

int sl_fmt_out_flush_maybe(sl_fmt_out_t *o, sl_err_t *err)
{
    if (o->buf.len < FLUSH_AT)
        return 0;
    int rc = push(o, o->buf.data, o->buf.len, false, err);
    sl_buf_reset(&o->buf);
    if (o->buf.cap > 4 * FLUSH_AT) { /* a huge row grew it: give the memory back */
        sl_buf_free(&o->buf);
        sl_buf_init(&o->buf, OUT_MAX);
    }
    return rc;
}

int sl_fmt_out_finish(sl_fmt_out_t *o, sl_err_t *err)
{
    int rc = push(o, o->buf.data, o->buf.len, true, err);
    sl_buf_reset(&o->buf);
    return rc;
}

uint64_t sl_fmt_out_size(const sl_fmt_out_t *o) { return o->written + o->buf.len; }

void sl_fmt_out_free(sl_fmt_out_t *o)
{
    if (!o)
        return;
    if (o->z_on)
        deflateEnd(&o->z);
    ZSTD_freeCCtx(o->zc);
    free(o->zbuf);
    sl_buf_free(&o->buf);
    free(o);
}
