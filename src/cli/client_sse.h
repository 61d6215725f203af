/*
 * client_sse.h: a parser for server-sent events (text/event-stream, the WHATWG "event
 * stream interpretation"), for `sluice stream watch`.
 *
 * Pure: bytes in, events out through a callback; no I/O, no globals, so it is unit-tested
 * and fuzzable. Chunks may split anywhere (inside a line, between \r and \n). Lines end in
 * \n, \r\n or \r; `:` starts a comment (ignored); `event:`, `data:` (several lines join
 * with \n), `id:` and `retry:` are kept; an empty line dispatches the event (nothing when
 * it has no data). A leading UTF-8 BOM is skipped. An event (or line) longer than `max`
 * bytes is an SL_E_LIMIT error, so a broken server cannot make the client grow without
 * bound.
 *
 * Ownership: the parser owns its buffers (sl_sse_free). The strings passed to the
 * callback are borrowed for the duration of the call. Not thread-safe; one per stream.
 */
#ifndef SL_CLI_CLIENT_SSE_H
#define SL_CLI_CLIENT_SSE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

typedef struct sl_sse {
    sl_buf_t line;     /* the current line, until its end arrives */
    sl_buf_t data;     /* the current event's data lines, each followed by \n */
    sl_buf_t event;    /* the current event's type ("" = "message") */
    char last_id[256]; /* the last id: seen (truncated), for a reconnection */
    long retry_ms;     /* the last retry: value, -1 until one arrives */
    bool cr;           /* the previous byte ended a line with \r */
    bool bom_checked;
    bool has_data;     /* a data: field arrived for the current event */
} sl_sse_t;

/* Called once per dispatched event. event is never NULL ("message" by default); data is
 * NUL-terminated with len bytes. Returns 0 to go on, anything else to stop feeding (the
 * rest of the chunk is then left unparsed and sl_sse_feed returns 1). */
typedef int (*sl_sse_cb)(const char *event, const char *data, size_t len, void *arg);

void sl_sse_init(sl_sse_t *p, size_t max);
void sl_sse_free(sl_sse_t *p);
/* Forgets a partial line and event (after a reconnection); keeps last_id and retry_ms. */
void sl_sse_reset(sl_sse_t *p);
/* Parses len bytes. Returns 0 when all were consumed, 1 when the callback asked to stop,
 * -1 with err (SL_E_LIMIT) when a line or an event exceeds the maximum. */
int sl_sse_feed(sl_sse_t *p, const char *buf, size_t len, sl_sse_cb cb, void *arg, sl_err_t *err);

#endif
