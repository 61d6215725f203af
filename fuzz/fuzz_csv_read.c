/*
 * fuzz_csv_read.c: libFuzzer target for the CSV decoder (target/fmt/csv_read.c) and the
 * type inference of infer.c. Byte 0 picks the delimiter and NULL marker, byte 1 the size
 * of the chunks the stream hands out (1..64 bytes, so records and CRLFs and quotes fall
 * across chunk boundaries); the rest is the file. Every field is fed to the inference,
 * and each field's canonical form is computed for the inferred type of its column.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "target/fmt/fmt_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t *buf = malloc(size);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    static const char delims[] = {',', ';', '\t', '|'};
    static const char *const nulls[] = {"", "\\N", NULL, "NULL"};
    sl_csvr_opts_t o;
    sl_csvr_opts_default(&o);
    o.delimiter = delims[buf[0] & 3];
    o.null_marker = nulls[(buf[0] >> 2) & 3];
    sl_fmt_mem_t m;
    sl_fmt_stream_t in = sl_fmt_mem_stream(&m, buf + 2, size - 2, 1 + buf[1] % 64);
    sl_err_t err;
    sl_csvr_t *r;
    enum { COLS = 8 };
    sl_infer_t inf[COLS];
    for (int i = 0; i < COLS; i++)
        sl_infer_init(&inf[i]);
    sl_column_t cols[COLS];
    memset(cols, 0, sizeof cols);
    sl_buf_t canon;
    sl_buf_init(&canon, 1 << 20);
    if (sl_csvr_open(in, &o, &r, &err) == 0) {
        const sl_value_t *v;
        int n, rc, recs = 0;
        while ((rc = sl_csvr_next(r, &v, &n, &err)) == 1 && recs++ < 10000) {
            for (int i = 0; i < n && i < COLS; i++) {
                if (v[i].len < 0)
                    continue;
                sl_infer_add(&inf[i], SL_JK_TEXT, v[i].p, (size_t)v[i].len);
                sl_infer_column(&inf[i], &cols[i]);
                (void)sl_infer_canon(&cols[i], SL_JK_TEXT, v[i].p, (size_t)v[i].len, &canon, &err);
            }
        }
        sl_csvr_free(r);
    }
    sl_buf_free(&canon);
    free(buf);
    return 0;
}
