/*
 * source_rows.h: for the live tests, a table read the way a load reads it (the source's
 * describe and scan, so values are canonical exactly as sluice carries them), kept in
 * memory for row-by-row comparisons. Header-only: each test is one executable.
 */
#ifndef SL_TESTS_LIVE_SOURCE_ROWS_H
#define SL_TESTS_LIVE_SOURCE_ROWS_H

#include <stdlib.h>
#include <string.h>

#include "source/source.h"

#define LIVE_MAXROWS 64
#define LIVE_MAXCOLS 160

typedef struct live_rows {
    int n, ncols;
    sl_value_t v[LIVE_MAXROWS][LIVE_MAXCOLS];
} live_rows_t;

static int live_copy_row(void *ctx, const sl_value_t *vals, int nvals, sl_err_t *err)
{
    (void)err;
    live_rows_t *r = ctx;
    assert_true(r->n < LIVE_MAXROWS && nvals <= LIVE_MAXCOLS);
    r->ncols = nvals;
    for (int i = 0; i < nvals; i++) {
        sl_value_t v = vals[i];
        if (v.len >= 0) {
            char *p = malloc((size_t)v.len + 1);
            assert_non_null(p);
            memcpy(p, v.p, (size_t)v.len);
            p[v.len] = '\0';
            v.p = p;
        }
        r->v[r->n][i] = v;
    }
    r->n++;
    return 0;
}

static void live_rows_free(live_rows_t *r)
{
    for (int i = 0; i < r->n; i++)
        for (int k = 0; k < r->ncols; k++)
            if (r->v[i][k].len >= 0)
                free((char *)r->v[i][k].p);
    free(r);
}

/* Describes table name at url and reads all its rows into *rows (the caller frees both
 * with sl_table_free and live_rows_free). */
static sl_table_t *live_read_table(const char *url, const char *name, live_rows_t **rows)
{
    sl_source_t *src = NULL;
    sl_err_t err;
    sl_table_t *t = NULL;
    if (sl_source_open(url, &src, &err) || src->ops->describe(src, name, &t, &err))
        fail_msg("%s: %s | %s", name, err.message, err.detail);
    sl_scan_t scan = {.table = t};
    *rows = calloc(1, sizeof **rows);
    assert_non_null(*rows);
    if (src->ops->scan(src, &scan, live_copy_row, *rows, &err))
        fail_msg("scan %s: %s", name, err.message);
    sl_source_close(src);
    return t;
}

#endif
