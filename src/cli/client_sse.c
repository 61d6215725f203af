/*
 * client_sse.c: the server-sent events parser (see client_sse.h for the contract).
 */
#include "cli/client_sse.h"

#include <string.h>

void sl_sse_init(sl_sse_t *p, size_t max)
{
    memset(p, 0, sizeof *p);
    sl_buf_init(&p->line, max);
    sl_buf_init(&p->data, max);
    sl_buf_init(&p->event, 256);
    p->retry_ms = -1;
}

void sl_sse_free(sl_sse_t *p)
{
    if (!p)
        return;
    sl_buf_free(&p->line);
    sl_buf_free(&p->data);
    sl_buf_free(&p->event);
}

void sl_sse_reset(sl_sse_t *p)
{
    sl_buf_reset(&p->line);
    sl_buf_reset(&p->data);
    sl_buf_reset(&p->event);
    p->cr = false;
    p->has_data = false;
    p->bom_checked = false;
}

/* An empty line: hands the event to cb when it has data, then starts a new one. */
static int dispatch(sl_sse_t *p, sl_sse_cb cb, void *arg)
{
    int rc = 0;
    if (p->has_data) {
        size_t len = p->data.len;
        if (len > 0 && p->data.data[len - 1] == '\n')
            len--; /* the spec drops the last line feed */
        p->data.data[len] = '\0';
        const char *ev = p->event.len > 0 ? p->event.data : "message";
        rc = cb(ev, p->data.data, len, arg) != 0;
    }
    sl_buf_reset(&p->data);
    sl_buf_reset(&p->event);
    p->has_data = false;
    return rc;
}

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* One complete line (without its terminator). Returns 0, 1 (stop) or -1. */
static int process_line(sl_sse_t *p, const char *s, size_t n, sl_sse_cb cb, void *arg, sl_err_t *err)
{
    if (n == 0)
        return dispatch(p, cb, arg);
    if (s[0] == ':')
        return 0; /* a comment: the server's keep-alive ping */
    const char *colon = memchr(s, ':', n);
    size_t flen = colon ? (size_t)(colon - s) : n;
    const char *v = colon ? colon + 1 : s + n;
    size_t vlen = (size_t)(s + n - v);
    if (vlen > 0 && v[0] == ' ') {
        v++;
        vlen--;
    }
    if (flen == 5 && memcmp(s, "event", 5) == 0) {
        sl_buf_reset(&p->event);
        if (sl_buf_add(&p->event, v, vlen, err))
            return sl_err_set(err, SL_E_LIMIT, "server-sent event type longer than %zu bytes", p->event.max);
    } else if (flen == 4 && memcmp(s, "data", 4) == 0) {
        if (sl_buf_add(&p->data, v, vlen, err) || sl_buf_addc(&p->data, '\n', err))
            return sl_err_set(err, SL_E_LIMIT, "server-sent event longer than %zu bytes", p->data.max);
        p->has_data = true;
    } else if (flen == 2 && memcmp(s, "id", 2) == 0) {
        if (!memchr(v, '\0', vlen)) {
            size_t k = vlen < sizeof p->last_id - 1 ? vlen : sizeof p->last_id - 1;
            memcpy(p->last_id, v, k);
            p->last_id[k] = '\0';
        }
    } else if (flen == 5 && memcmp(s, "retry", 5) == 0) {
        if (all_digits(v, vlen) && vlen < 10) {
            long ms = 0;
            for (size_t i = 0; i < vlen; i++)
                ms = ms * 10 + (v[i] - '0');
            p->retry_ms = ms;
        }
    }
    /* Any other field is ignored, as the spec says. */
    return 0;
}

int sl_sse_feed(sl_sse_t *p, const char *buf, size_t len, sl_sse_cb cb, void *arg, sl_err_t *err)
{
    size_t i = 0;
    if (!p->bom_checked && len > 0) {
        /* The BOM may itself be split; only a whole one at the very start is skipped. */
        static const char bom[3] = {'\xEF', '\xBB', '\xBF'};
        size_t have = p->line.len;
        size_t k = 0;
        while (have + k < 3 && k < len && buf[k] == bom[have + k])
            k++;
        if (have + k == 3) {
            sl_buf_reset(&p->line);
            i = k;
            p->bom_checked = true;
        } else if (k == len) {
            /* Still a BOM prefix: keep it aside until the next chunk decides. */
            if (sl_buf_add(&p->line, buf, len, err))
                return -1;
            return 0;
        } else {
            p->bom_checked = true; /* not a BOM: what was kept aside is the line's start */
        }
    }
    while (i < len) {
        if (p->cr) {
            p->cr = false;
            if (buf[i] == '\n') {
                i++;
                continue;
            }
        }
        size_t j = i;
        while (j < len && buf[j] != '\n' && buf[j] != '\r')
            j++;
        if (j == len) {
            if (sl_buf_add(&p->line, buf + i, j - i, err))
                return sl_err_set(err, SL_E_LIMIT, "server-sent event line longer than %zu bytes", p->line.max);
            return 0;
        }
        p->cr = buf[j] == '\r';
        if (p->line.len + (j - i) > p->line.max) /* the same limit however the line arrived */
            return sl_err_set(err, SL_E_LIMIT, "server-sent event line longer than %zu bytes", p->line.max);
        int rc;
        if (p->line.len > 0) {
            if (sl_buf_add(&p->line, buf + i, j - i, err))
                return sl_err_set(err, SL_E_LIMIT, "server-sent event line longer than %zu bytes", p->line.max);
            rc = process_line(p, p->line.data, p->line.len, cb, arg, err);
            sl_buf_reset(&p->line);
        } else {
            rc = process_line(p, buf + i, j - i, cb, arg, err);
        }
        i = j + 1;
        if (rc != 0)
            return rc;
    }
    return 0;
}
