/*
 * client_table.c: aligned tables and number formats (see client_table.h).
 */
#include "cli/client_table.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"

struct sl_tab {
    int ncols;
    char **headers;
    bool *right;
    char **cells; /* nrows * ncols */
    int nrows, cap;
};

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        sl_oom();
    return p;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        sl_oom();
    return d;
}

sl_tab_t *sl_tab_new(int ncols, const char *const *headers)
{
    sl_tab_t *t = xcalloc(1, sizeof *t);
    t->ncols = ncols;
    t->headers = xcalloc((size_t)ncols, sizeof *t->headers);
    t->right = xcalloc((size_t)ncols, sizeof *t->right);
    for (int c = 0; c < ncols; c++) {
        const char *h = headers[c];
        t->right[c] = h[0] == '>';
        t->headers[c] = xstrdup(h + t->right[c]);
    }
    return t;
}

void sl_tab_free(sl_tab_t *t)
{
    if (!t)
        return;
    for (int c = 0; c < t->ncols; c++)
        free(t->headers[c]);
    for (int i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->headers);
    free(t->right);
    free(t->cells);
    free(t);
}

void sl_tab_row(sl_tab_t *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        char **n = realloc(t->cells, (size_t)t->cap * (size_t)t->ncols * sizeof *n);
        if (!n)
            sl_oom();
        t->cells = n;
    }
    for (int c = 0; c < t->ncols; c++)
        t->cells[t->nrows * t->ncols + c] = xstrdup(cells[c] ? cells[c] : "-");
    t->nrows++;
}

int sl_tab_rows(const sl_tab_t *t)
{
    return t->nrows;
}

size_t sl_utf8_width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static void pad(sl_buf_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sl_buf_addc(b, ' ', NULL);
}

/* Appends one line: cells aligned to widths, no trailing spaces. */
static void add_line(sl_buf_t *b, const sl_tab_t *t, char *const *cells, const size_t *width)
{
    size_t start = b->len;
    for (int c = 0; c < t->ncols; c++) {
        size_t w = sl_utf8_width(cells[c]);
        if (c > 0)
            pad(b, 2);
        if (t->right[c])
            pad(b, width[c] - w);
        sl_buf_adds(b, cells[c], NULL);
        if (!t->right[c] && c + 1 < t->ncols)
            pad(b, width[c] - w);
    }
    while (b->len > start && b->data[b->len - 1] == ' ')
        b->len--;
    sl_buf_addc(b, '\n', NULL);
}

char *sl_tab_render(const sl_tab_t *t)
{
    size_t *width = xcalloc((size_t)t->ncols, sizeof *width);
    for (int c = 0; c < t->ncols; c++)
        width[c] = sl_utf8_width(t->headers[c]);
    for (int r = 0; r < t->nrows; r++)
        for (int c = 0; c < t->ncols; c++) {
            size_t w = sl_utf8_width(t->cells[r * t->ncols + c]);
            if (w > width[c])
                width[c] = w;
        }
    sl_buf_t b;
    sl_buf_init(&b, (size_t)1 << 30);
    add_line(&b, t, t->headers, width);
    for (int r = 0; r < t->nrows; r++)
        add_line(&b, t, t->cells + r * t->ncols, width);
    free(width);
    if (!b.data)
        return xstrdup("");
    return sl_buf_steal(&b, NULL);
}

void sl_tab_print_free(sl_tab_t *t, FILE *f, const char *empty)
{
    if (t->nrows == 0) {
        if (empty)
            fprintf(f, "%s\n", empty);
    } else {
        char *s = sl_tab_render(t);
        fputs(s, f);
        free(s);
    }
    sl_tab_free(t);
}

const char *sl_fmt_count(int64_t n, char *buf, size_t size)
{
    char digits[32];
    uint64_t u = n < 0 ? (uint64_t)0 - (uint64_t)n : (uint64_t)n;
    snprintf(digits, sizeof digits, "%" PRIu64, u);
    char out[48];
    size_t len = strlen(digits), o = 0;
    if (n < 0)
        out[o++] = '-';
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    snprintf(buf, size, "%s", out);
    return buf;
}

const char *sl_fmt_rate(double r, char *buf, size_t size)
{
    if (!(r >= 0) || isinf(r))
        snprintf(buf, size, "-");
    else if (r > 0 && r < 100 && r != floor(r))
        snprintf(buf, size, "%.1f", r);
    else
        sl_fmt_count((int64_t)llround(r), buf, size);
    return buf;
}

const char *sl_fmt_bytes(double v, char *buf, size_t size)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (!(v >= 0) || isinf(v)) {
        snprintf(buf, size, "-");
        return buf;
    }
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, size, "%.0f B", v);
    else
        snprintf(buf, size, "%.1f %s", v, units[u]);
    return buf;
}

const char *sl_fmt_secs(double s, char *buf, size_t size)
{
    if (!(s >= 0) || isinf(s))
        snprintf(buf, size, "-");
    else if (s < 10)
        snprintf(buf, size, "%.2f s", s);
    else if (s < 60)
        snprintf(buf, size, "%.0f s", floor(s));
    else if (s < 3600)
        snprintf(buf, size, "%dm%02ds", (int)s / 60, (int)s % 60);
    else if (s < 86400)
        snprintf(buf, size, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
    else if (s < 1e9)
        snprintf(buf, size, "%dd%02dh", (int)(s / 86400), ((int)s % 86400) / 3600);
    else
        snprintf(buf, size, "-");
    return buf;
}
