/*
 * fuzz_cli_sse.c: libFuzzer target for the server-sent events parser of `sluice stream
 * watch` (src/cli/client_sse.c), which reads whatever the server (or something posing as
 * it) sends. The input's first byte picks a split point: fed whole or in two chunks, the
 * parser must give the same events and the same outcome, within its size limit.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client_sse.h"
#include "core/buf.h"

static int record(const char *event, const char *data, size_t len, void *arg)
{
    sl_buf_t *b = arg;
    if (strlen(data) > len)
        abort(); /* data must be NUL-terminated at len */
    sl_buf_adds(b, event, NULL);
    sl_buf_addc(b, '\0', NULL);
    sl_buf_add(b, data, len, NULL);
    sl_buf_addc(b, '\0', NULL);
    return 0;
}

/* Parses data in two chunks split at cut; returns the feed outcome, events into out. */
static int run(const char *data, size_t size, size_t cut, sl_buf_t *out)
{
    sl_sse_t p;
    sl_sse_init(&p, 512);
    sl_err_t err;
    int rc = sl_sse_feed(&p, data, cut, record, out, &err);
    if (rc == 0)
        rc = sl_sse_feed(&p, data + cut, size - cut, record, out, &err);
    if (rc < 0 && err.code != SL_E_LIMIT)
        abort();
    sl_sse_free(&p);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t cut = data[0] % size;
    const char *text = (const char *)data + 1;
    size--;
    cut = cut > size ? size : cut;
    sl_buf_t a, b;
    sl_buf_init(&a, 1 << 24);
    sl_buf_init(&b, 1 << 24);
    int ra = run(text, size, size, &a);
    int rb = run(text, size, cut, &b);
    /* Events reported before an error may differ only in being fewer, never different. */
    if (ra != rb)
        abort();
    if (ra == 0 && (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0)))
        abort();
    sl_buf_free(&a);
    sl_buf_free(&b);
    return 0;
}
