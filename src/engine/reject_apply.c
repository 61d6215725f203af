/*
 * reject_apply.c: writing a load batch or a run of changes with on_error in force (see
 * reject.h): screen every row, write what fits, and, when the server refused the batch
 * before, write it again in halves under a savepoint down to the rows it refuses.
 *
 * Halving keeps the order of rows and changes (the left half is applied before the
 * right one), so a change never overtakes an earlier change of its row. A row is
 * rejected only when it fails on its own, so no row is both written and rejected.
 *
 * Thread: the writer lane's, in its open transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "engine/reject.h"
#include "target/apply.h"

/* The column a server error names ("column \"x\"", as both targets' messages say), as
 * its source name, into buf; NULL when none. */
static const char *error_column(const sl_map_t *m, const sl_err_t *e, char *buf, size_t size)
{
    const char *p = strstr(e->message, "column \"");
    if (!p)
        return NULL;
    p += 8;
    const char *q = strchr(p, '"');
    if (!q || (size_t)(q - p) >= size)
        return NULL;
    snprintf(buf, size, "%.*s", (int)(q - p), p);
    int c = sl_table_find_col(m->tgt, buf);
    if (c >= 0)
        snprintf(buf, size, "%s", sl_column_source(&m->tgt->columns[c]));
    return buf;
}

/* Runs part() under the savepoint: 0 applied; 1 refused (err holds why, the savepoint
 * rolled back); -1 failed otherwise. */
typedef int (*part_fn)(void *ctx, sl_err_t *err);

static int under_savepoint(sl_rejects_t *rj, sl_target_t *tgt, part_fn part, void *ctx, sl_err_t *err)
{
    if (tgt->ops->savepoint(tgt, SL_SAVEPOINT_SET, err))
        return -1;
    if (part(ctx, err) == 0 && tgt->ops->savepoint(tgt, SL_SAVEPOINT_RELEASE, err) == 0)
        return 0;
    if (!sl_rejects_isolable(rj, err))
        return -1;
    sl_err_t why = *err;
    if (tgt->ops->savepoint(tgt, SL_SAVEPOINT_ROLLBACK, err))
        return -1;
    *err = why;
    return 1;
}

/* Halving: items [lo, hi) of a batch, applied as one part under the savepoint; when the
 * server refuses it, each half on its own, in order, down to single items, which go to
 * leaf() with the server's error. */
typedef struct bisect {
    sl_rejects_t *rj;
    sl_target_t *tgt;
    void *ctx;
    int (*range)(void *ctx, int lo, int hi, sl_err_t *err); /* applies [lo, hi) */
    int (*leaf)(void *ctx, int i, sl_err_t *err);           /* item i refused on its own */
    int lo, hi;                                             /* the part under way */
} bisect_t;

static int bisect_part(void *ctx, sl_err_t *err)
{
    bisect_t *b = ctx;
    return b->range(b->ctx, b->lo, b->hi, err);
}

static int bisect(bisect_t *b, int lo, int hi, sl_err_t *err)
{
    if (lo >= hi)
        return 0;
    b->lo = lo;
    b->hi = hi;
    int rc = under_savepoint(b->rj, b->tgt, bisect_part, b, err);
    if (rc <= 0)
        return rc;
    if (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        return bisect(b, lo, mid, err) || bisect(b, mid, hi, err) ? -1 : 0;
    }
    return b->leaf(b->ctx, lo, err);
}

/* ---- load batches ------------------------------------------------------------------- */

typedef struct rows {
    sl_rejects_t *rj;
    sl_target_t *tgt;
    const sl_map_t *m;
    int ti;
    const char *position;
    const sl_batch_view_t *v;
    sl_value_t *all;        /* every row's values, decoded once */
    uint32_t *idx;          /* the rows to write */
    sl_batch_builder_t bb;
} rows_t;

/* Writes rows idx[lo..hi) as one batch. */
static int write_part(void *ctx, int lo, int hi, sl_err_t *err)
{
    rows_t *r = ctx;
    int nc = r->m->tgt->ncolumns;
    sl_batch_hdr_t h = r->v->hdr;
    h.nrows = 0;
    sl_batch_start(&r->bb, &h);
    for (int i = lo; i < hi; i++)
        if (sl_batch_add_row(&r->bb, r->all + (size_t)r->idx[i] * (size_t)nc, nc, err))
            return -1;
    const char *data;
    size_t len;
    sl_batch_view_t sub;
    if (sl_batch_finish(&r->bb, NULL, &data, &len, err) || sl_batch_decode(data, len, &sub, err))
        return -1;
    return r->tgt->ops->write_rows(r->tgt, r->m->tgt, &sub, err);
}

/* A row the server refuses on its own: rejected with its message. */
static int refused_row(void *ctx, int i, sl_err_t *err)
{
    rows_t *r = ctx;
    char col[256];
    const sl_value_t *row = r->all + (size_t)r->idx[i] * (size_t)r->m->tgt->ncolumns;
    sl_rejects_add(r->rj, r->m, r->ti, row, NULL, error_column(r->m, err, col, sizeof col), err->message, r->position);
    sl_err_clear(err);
    return 0;
}

int sl_rejects_write_rows(sl_rejects_t *rj, sl_target_t *tgt, const sl_map_t *m, int ti, sl_batch_view_t *v,
                          const char *position, bool isolate, sl_err_t *err)
{
    const sl_table_t *t = m->tgt;
    bool screen = tgt->ops->refuses != NULL;
    isolate = isolate && tgt->ops->savepoint;
    if (!screen && !isolate)
        return tgt->ops->write_rows(tgt, t, v, err);
    uint32_t n = v->hdr.nrows;
    int nc = t->ncolumns;
    rows_t r = {.rj = rj, .tgt = tgt, .m = m, .ti = ti, .position = position, .v = v};
    r.all = malloc(((size_t)n * (size_t)nc + 1) * sizeof *r.all);
    r.idx = malloc(((size_t)n + 1) * sizeof *r.idx);
    if (!r.all || !r.idx)
        sl_oom();
    uint32_t k = 0;
    int rc = 0;
    sl_batch_rewind(v);
    for (uint32_t i = 0; i < n && !rc; i++) {
        sl_value_t *row = r.all + (size_t)i * (size_t)nc;
        if (sl_batch_next_row(v, row, err) != 1) {
            rc = -1;
            break;
        }
        int s = screen ? sl_rejects_screen(rj, tgt, m, ti, row, NULL, position, err) : 0;
        if (s < 0)
            rc = -1;
        else if (s == 0)
            r.idx[k++] = i;
    }
    sl_batch_rewind(v);
    if (!rc && k == n && !isolate) {
        rc = tgt->ops->write_rows(tgt, t, v, err);
    } else if (!rc && k) {
        sl_batch_builder_init(&r.bb, n, v->len + 4096);
        bisect_t b = {.rj = rj, .tgt = tgt, .ctx = &r, .range = write_part, .leaf = refused_row};
        rc = isolate ? bisect(&b, 0, (int)k, err) : write_part(&r, 0, (int)k, err);
        sl_batch_builder_free(&r.bb);
    }
    free(r.all);
    free(r.idx);
    return rc ? -1 : 0;
}

/* ---- changes ------------------------------------------------------------------------ */

typedef struct chg {
    sl_rejects_t *rj;
    sl_target_t *tgt;
    const sl_map_t *m;
    int ti;
    const sl_change_t *chs; /* the changes to apply */
    sl_pos_text_fn pos_text;
    void *pos_ctx;
} chg_t;

static int apply_range(void *ctx, int lo, int hi, sl_err_t *err)
{
    chg_t *c = ctx;
    return c->tgt->ops->apply_changes(c->tgt, c->m->tgt, c->chs + lo, hi - lo, err);
}

static int apply_one(void *ctx, sl_err_t *err)
{
    return apply_range(ctx, 0, 1, err);
}

static const char *position(const chg_t *c, const sl_change_t *ch, char *buf, size_t size)
{
    char p[96];
    snprintf(buf, size, "%s#%u", c->pos_text(c->pos_ctx, ch->pos, p, sizeof p), ch->pos.idx);
    return buf;
}

/* Whether the change carries every value the target stores (generated columns are
 * computed there, and not sent by PostgreSQL). */
static bool whole_row(const sl_table_t *t, const sl_change_t *ch)
{
    for (int i = 0; i < ch->ncols; i++)
        if (ch->row[i].len == SL_VALUE_UNCHANGED && !t->columns[i].generated)
            return false;
    return true;
}

/* One change the server refused on its own (err): a change to a row rejected before
 * follows reject.h's rules; anything else is rejected, or fails when it is no value
 * problem. */
static int refused_change(chg_t *c, const sl_change_t *ch, sl_err_t *err)
{
    char pos[128], col[256];
    const sl_value_t *keyrow = sl_apply_key_row(ch);
    if (err->code == SL_E_NOT_FOUND && (ch->op == SL_OP_UPDATE || ch->op == SL_OP_DELETE)) {
        bool before = sl_rejects_has_key(c->rj, c->m, keyrow);
        char *key = sl_rejects_key(c->m, keyrow);
        sl_err_t e2 = {0};
        if (!before && key && c->tgt->ops->rejects_find &&
            c->tgt->ops->rejects_find(c->tgt, c->rj->stream, c->m->label, key, &before, &e2)) {
            free(key);
            *err = e2;
            return -1;
        }
        free(key);
        if (!before)
            return -1; /* never rejected: the target has diverged */
        if (ch->op == SL_OP_DELETE) {
            sl_err_clear(err);
            return 0; /* the row was never written */
        }
        if (!whole_row(c->m->tgt, ch)) {
            sl_rejects_add(c->rj, c->m, c->ti, ch->row, keyrow, NULL,
                           "the row was rejected before, and this update does not carry its whole new row",
                           position(c, ch, pos, sizeof pos));
            sl_err_clear(err);
            return 0;
        }
        /* the row as an INSERT: generated columns the source did not send are NULL, as
         * in the INSERTs it sends */
        sl_value_t *vals = malloc(sizeof *vals * (size_t)(ch->ncols + 1));
        if (!vals)
            sl_oom();
        for (int i = 0; i < ch->ncols; i++)
            vals[i] = ch->row[i].len == SL_VALUE_UNCHANGED ? (sl_value_t){NULL, -1} : ch->row[i];
        sl_change_t ins = *ch;
        ins.op = SL_OP_INSERT;
        ins.old = NULL;
        ins.row = vals;
        chg_t one = *c;
        one.chs = &ins;
        int rc = under_savepoint(c->rj, c->tgt, apply_one, &one, err);
        free(vals);
        if (rc <= 0)
            return rc;
    } else if (!sl_rejects_isolable(c->rj, err)) {
        return -1;
    }
    sl_rejects_add(c->rj, c->m, c->ti, ch->row ? ch->row : ch->old, keyrow, error_column(c->m, err, col, sizeof col),
                   err->message, position(c, ch, pos, sizeof pos));
    sl_err_clear(err);
    return 0;
}

static int refused_at(void *ctx, int i, sl_err_t *err)
{
    chg_t *c = ctx;
    return refused_change(c, &c->chs[i], err);
}

int sl_rejects_apply(sl_rejects_t *rj, sl_target_t *tgt, const sl_map_t *m, int ti, const sl_change_t *chs, int n,
                     bool isolate, sl_pos_text_fn pos_text, void *pos_ctx, sl_err_t *err)
{
    isolate = isolate && tgt->ops->savepoint;
    if (!tgt->ops->refuses && !isolate)
        return tgt->ops->apply_changes(tgt, m->tgt, chs, n, err);
    chg_t c = {.rj = rj, .tgt = tgt, .m = m, .ti = ti, .chs = chs, .pos_text = pos_text, .pos_ctx = pos_ctx};
    sl_change_t *keep = NULL;
    int k = 0, rc = 0;
    for (int i = 0; i < n; i++) {
        const sl_change_t *ch = &chs[i];
        int s = 0;
        if (tgt->ops->refuses && (ch->op == SL_OP_INSERT || ch->op == SL_OP_UPDATE)) {
            char pos[128];
            s = sl_rejects_screen(rj, tgt, m, ti, ch->row, sl_apply_key_row(ch), position(&c, ch, pos, sizeof pos), err);
            if (s < 0)
                goto out;
        }
        if (s && !keep) { /* the first change left out: keep a list of the others */
            if (!(keep = malloc(sizeof *keep * (size_t)n)))
                sl_oom();
            memcpy(keep, chs, sizeof *keep * (size_t)i);
            k = i;
        } else if (!s && keep) {
            keep[k++] = *ch;
        }
    }
    if (keep) {
        c.chs = keep;
        n = k;
    }
    bisect_t b = {.rj = rj, .tgt = tgt, .ctx = &c, .range = apply_range, .leaf = refused_at};
    if (!isolate)
        rc = n ? apply_range(&c, 0, n, err) : 0;
    else
        rc = bisect(&b, 0, n, err);
    free(keep);
    return rc ? -1 : 0;
out:
    free(keep);
    return -1;
}
