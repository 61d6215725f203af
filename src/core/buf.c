/*
 * buf.c: see buf.h.
 */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sl_buf_init(sl_buf_t *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void sl_buf_free(sl_buf_t *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void sl_buf_reset(sl_buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int sl_buf_reserve(sl_buf_t *b, size_t extra, sl_err_t *err)
{
    size_t need = b->len + extra + 1;
    if (need - 1 > b->max)
        return sl_err_set(err, SL_E_LIMIT, "buffer limit of %zu bytes exceeded", b->max);
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *p = realloc(b->data, cap);
    if (!p)
        return sl_err_set(err, SL_E_LIMIT, "out of memory growing a buffer to %zu bytes", cap);
    b->data = p;
    b->cap = cap;
    return 0;
}

int sl_buf_add(sl_buf_t *b, const void *p, size_t n, sl_err_t *err)
{
    if (sl_buf_reserve(b, n, err))
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int sl_buf_adds(sl_buf_t *b, const char *s, sl_err_t *err)
{
    return sl_buf_add(b, s, strlen(s), err);
}

int sl_buf_addc(sl_buf_t *b, char c, sl_err_t *err)
{
    if (b->len + 2 <= b->cap) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return 0;
    }
    return sl_buf_add(b, &c, 1, err);
}

int sl_buf_printf(sl_buf_t *b, sl_err_t *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return sl_err_set(err, SL_E_INTERNAL, "bad format string");
    if (sl_buf_reserve(b, (size_t)n, err))
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int sl_buf_add_varint(sl_buf_t *b, uint64_t v, sl_err_t *err)
{
    unsigned char tmp[10];
    int n = 0;
    do {
        unsigned char c = v & 0x7f;
        v >>= 7;
        if (v)
            c |= 0x80;
        tmp[n++] = c;
    } while (v);
    return sl_buf_add(b, tmp, (size_t)n, err);
}

char *sl_buf_steal(sl_buf_t *b, size_t *len)
{
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
