/*
 * fuzz_jsonl_read.c: libFuzzer target for the JSONL decoder (target/fmt/jsonl_read.c:
 * lines, the object parser, string unescaping, nested values) and the type inference of
 * infer.c. Byte 0 sets the size of the chunks the stream hands out (1..64 bytes); the
 * rest is the file. Every value is fed to the inference of its key's position and
 * converted to the canonical form of the inferred type; the whole input is also checked
 * as one JSON container.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "target/fmt/fmt_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t *buf = malloc(size);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    (void)sl_json_is_container((const char *)buf + 1, size - 1);
    sl_fmt_mem_t m;
    sl_fmt_stream_t in = sl_fmt_mem_stream(&m, buf + 1, size - 1, 1 + buf[0] % 64);
    sl_err_t err;
    sl_jsonlr_t *r;
    enum { COLS = 8 };
    sl_infer_t inf[COLS];
    for (int i = 0; i < COLS; i++)
        sl_infer_init(&inf[i]);
    sl_column_t cols[COLS];
    memset(cols, 0, sizeof cols);
    sl_buf_t canon;
    sl_buf_init(&canon, 1 << 20);
    if (sl_jsonlr_open(in, &r, &err) == 0) {
        const sl_jsonl_kv_t *kv;
        int n, recs = 0;
        for (;;) {
            int rc = sl_jsonlr_next(r, &kv, &n, &err);
            if (rc == 0 || recs++ > 10000)
                break;
            if (rc < 0)
                continue; /* a bad line: the reader goes on with the next one */
            for (int i = 0; i < n && i < COLS; i++) {
                if (kv[i].val.len < 0)
                    continue;
                sl_infer_add(&inf[i], kv[i].kind, kv[i].val.p, (size_t)kv[i].val.len);
                sl_infer_column(&inf[i], &cols[i]);
                (void)sl_infer_canon(&cols[i], kv[i].kind, kv[i].val.p, (size_t)kv[i].val.len,
                                     &canon, &err);
            }
        }
        sl_jsonlr_free(r);
    }
    sl_buf_free(&canon);
    free(buf);
    return 0;
}
