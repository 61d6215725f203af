/*
 * fuzz_parquet.c: libFuzzer target for the whole Parquet reader (target/fmt/
 * parquet_read.c and everything under it): the input is a file, read through an
 * in-memory range reader, every row of every row group taken. Pages, windows and values
 * are capped small so that a file claiming huge sizes fails fast instead of allocating.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "target/fmt/fmt_read.h"

typedef struct mem {
    const uint8_t *p;
    size_t n;
} mem_t;

static int rd(void *ctx, uint64_t off, void *dst, size_t n, sl_err_t *err)
{
    mem_t *m = ctx;
    if (off > m->n || n > m->n - off)
        return sl_err_set(err, SL_E_IO, "read past the end");
    memcpy(dst, m->p + off, n);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    mem_t m = {buf, size};
    sl_fmt_range_t src = {.read = rd, .ctx = &m, .size = size};
    sl_pq_read_opts_t o = {.window_bytes = 512, .max_page_bytes = 1 << 20,
                           .max_value_bytes = 1 << 16};
    sl_err_t err;
    sl_pq_reader_t *r;
    if (sl_pq_reader_open(&src, "fuzz.parquet", &o, &r, &err) == 0) {
        const sl_table_t *t = sl_pq_reader_table(r);
        sl_value_t *vals = calloc((size_t)t->ncolumns + 1, sizeof *vals);
        int rows = 0;
        for (int g = 0; vals && g < sl_pq_reader_row_groups(r) && g < 64; g++) {
            if (sl_pq_reader_seek(r, g, &err) < 0)
                break;
            while (rows++ < 20000 && sl_pq_reader_next(r, vals, &err) == 1)
                ;
        }
        free(vals);
        sl_pq_reader_free(r);
    }
    free(buf);
    return 0;
}
