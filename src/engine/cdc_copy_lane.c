/*
 * cdc_copy_lane.c: the writer side of copying tables beside the change stream
 * (cdc_copy.h). In the transaction in which a lane applies a batch:
 *   - copy rows (SL_OP_COPY) are inserted like INSERTs, and the last one's key is how
 *     far the lane got in the open chunk;
 *   - marks (SL_OP_MARK) change the lane's copy state of a table (cdc_copy_state.c);
 *     a start mark that says so empties the table first;
 *   - the copy state is written into the lane's checkpoint with its position, so that
 *     rows and state commit together, and a crash loses neither nor repeats a row;
 *   - with options.table_errors "stop_table", a table whose changes the target refuses
 *     (a value it cannot store, a row that is not there) stops alone: the transaction
 *     is rolled back and applied again without that table's changes, and the lane's
 *     checkpoint records why (the reader drops the table's changes from then on, and a
 *     resync starts it again).
 *
 * Thread: the lane's; it reads the reader's generations of tables under the copy's mu.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "engine/cdc_copy_int.h"
#include "engine/cdc_copy_lane.h"

void sl_cdc_wcopy_init(sl_cdc_wcopy_t *w, int n)
{
    memset(w, 0, sizeof *w);
    w->n = n;
    w->l = calloc((size_t)n + 1, sizeof *w->l);
    w->has = calloc((size_t)n + 1, sizeof *w->has);
    w->copied = calloc((size_t)n + 1, sizeof *w->copied);
    w->stop = calloc((size_t)n + 1, sizeof *w->stop);
    if (!w->l || !w->has || !w->copied || !w->stop)
        sl_oom();
}

void sl_cdc_wcopy_batch(sl_cdc_wcopy_t *w)
{
    for (int i = 0; i < w->n; i++) {
        free(w->stop[i]);
        w->stop[i] = NULL;
    }
}

static void reset(sl_cdc_wcopy_t *w)
{
    for (int i = 0; i < w->n; i++) {
        sl_cdc_lcopy_clear(&w->l[i]);
        w->has[i] = false;
        w->copied[i] = 0;
    }
}

void sl_cdc_wcopy_free(sl_cdc_wcopy_t *w)
{
    if (!w->l)
        return;
    reset(w);
    sl_cdc_wcopy_batch(w);
    free(w->l);
    free(w->has);
    free(w->copied);
    free(w->stop);
    memset(w, 0, sizeof *w);
}

/* Table ti stops alone on this lane: its entry says why, in its current generation. */
static void stop_table(sl_cdc_run_t *cd, sl_cdc_wcopy_t *w, int ti)
{
    sl_copy_t *cp = cd->copy;
    int64_t gen = 0;
    if (cp && ti < cp->n) {
        pthread_mutex_lock(&cp->mu);
        gen = cp->t[ti].gen.gen;
        pthread_mutex_unlock(&cp->mu);
    }
    sl_cdc_lcopy_t *l = &w->l[ti];
    if (!w->has[ti] || l->gen < gen) {
        sl_cdc_lcopy_clear(l);
        l->gen = gen;
    }
    w->has[ti] = true;
    free(l->fail);
    l->fail = sl_strdup(w->stop[ti]);
}

static int load(sl_cdc_run_t *cd, sl_cdc_wcopy_t *w, const char *position, sl_err_t *err)
{
    reset(w);
    if (!position || !strstr(position, "\"copy\""))
        return 0;
    json_error_t je;
    json_t *j = json_loads(position, 0, &je);
    json_t *copy = json_object_get(j, "copy");
    int rc = 0;
    for (int i = 0; i < w->n && i < cd->ntables && json_is_object(copy) && !rc; i++) {
        char label[300];
        const json_t *e = json_object_get(copy, sl_table_label(cd->tables[i], label, sizeof label));
        if (!e)
            continue;
        if (sl_cdc_lcopy_from_json(e, cd->maps[i]->scan, &w->l[i]))
            rc = sl_err_set(err, SL_E_PROTOCOL, "a lane checkpoint of stream \"%s\" holds a copy state of table "
                            "\"%s\" that is not valid", cd->spec->name, label);
        else
            w->has[i] = true;
    }
    json_decref(j);
    return rc;
}

int sl_cdc_wcopy_load(sl_cdc_run_t *cd, sl_cdc_wcopy_t *w, const char *position, sl_err_t *err)
{
    if (load(cd, w, position, err))
        return -1;
    for (int i = 0; i < w->n; i++)
        if (w->stop[i])
            stop_table(cd, w, i);
    return 0;
}

char *sl_cdc_wcopy_position(sl_cdc_run_t *cd, const sl_cdc_wcopy_t *w, sl_pos_t last, uint64_t flush)
{
    char *base = sl_cdc_pos_json(last, flush);
    json_t *copy = NULL;
    for (int i = 0; i < w->n && i < cd->ntables; i++) {
        if (!w->has[i])
            continue;
        char label[300];
        if (!copy)
            copy = json_object();
        json_object_set_new(copy, sl_table_label(cd->tables[i], label, sizeof label), sl_cdc_lcopy_to_json(&w->l[i]));
    }
    if (!copy)
        return base;
    json_t *j = json_loads(base, 0, NULL);
    free(base);
    json_object_set_new(j, "copy", copy);
    char *out = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!out)
        sl_oom();
    return out;
}

int sl_cdc_wcopy_change(sl_cdc_run_t *cd, sl_cdc_wcopy_t *w, sl_change_t *c, bool keep_op)
{
    if (c->op == SL_OP_MARK)
        return 2;
    if (c->table >= (uint32_t)w->n)
        return 0;
    if (w->has[c->table] && w->l[c->table].fail)
        return 1;
    if (c->op == SL_OP_COPY) {
        if (!keep_op)
            c->op = SL_OP_INSERT;
        w->has[c->table] = true;
        sl_cdc_lcopy_row(&w->l[c->table], cd->maps[c->table]->scan, c->row);
        w->copied[c->table]++;
    }
    return 0;
}

int sl_cdc_wcopy_mark(sl_cdc_run_t *cd, sl_cdc_wcopy_t *w, sl_target_t *tgt, const sl_change_t *c, sl_err_t *err)
{
    if (c->table >= (uint32_t)w->n || c->ncols != 1 || !c->row || c->row[0].len < 0)
        return sl_err_set(err, SL_E_PROTOCOL, "a copy mark of stream \"%s\" that is not valid", cd->spec->name);
    json_error_t je;
    json_t *mark = json_loadb(c->row[0].p, (size_t)c->row[0].len, 0, &je);
    bool trunc = false, clean = false;
    sl_cdc_lcopy_t *l = &w->l[c->table];
    int rc = mark ? sl_cdc_lcopy_mark(l, cd->maps[c->table]->scan, mark, &trunc, &clean) : -1;
    json_decref(mark);
    if (rc)
        return sl_err_set(err, SL_E_PROTOCOL, "a copy mark of stream \"%s\" that is not valid: %.*s", cd->spec->name,
                          (int)(c->row[0].len > 200 ? 200 : c->row[0].len), c->row[0].p);
    w->has[c->table] = !clean;
    if (clean)
        sl_cdc_lcopy_clear(l);
    /* A target that takes copy rows (files) records a truncate as a change record: the
     * first copy of a table starts from nothing there, so only a resync's (generation 2
     * on) is one, telling readers to forget the table's rows before the copy's. */
    if (trunc && tgt->ops->takes_copy_rows && l->gen <= 1)
        trunc = false;
    if (trunc) {
        const sl_table_t *t = cd->maps[c->table]->tgt;
        sl_change_t tr = {.op = SL_OP_TRUNCATE, .table = c->table, .pos = c->pos, .ncols = t->ncolumns};
        /* its rejects go with its rows: the copy rejects what it still cannot write */
        const char *clear = cd->spec->opt.on_error == SL_ON_ERROR_REJECT && tgt->ops->rejects_write
                                ? cd->maps[c->table]->label
                                : NULL;
        if (tgt->ops->apply_changes(tgt, t, &tr, 1, err) ||
            (clear && tgt->ops->rejects_write(tgt, cd->spec->name, NULL, 0, clear, err))) {
            sl_err_prefix(err, "target: ");
            return -1;
        }
    }
    return 0;
}

/* The target refused the data (a value it cannot store, a row missing from it: target/
 * apply.c says SL_E_NOT_FOUND), as opposed to a lost connection or a bug. */
static bool refused(const sl_err_t *err)
{
    return err->code == SL_E_DATA || err->code == SL_E_SCHEMA || err->code == SL_E_LIMIT ||
           err->code == SL_E_NOT_FOUND;
}

bool sl_cdc_wcopy_fail(sl_cdc_run_t *cd, sl_cdc_wcopy_t *w, int ti, const sl_err_t *err)
{
    if (cd->spec->opt.table_errors != SL_TABLE_ERRORS_STOP_TABLE || ti < 0 || ti >= w->n || w->stop[ti] ||
        err->retriable || !refused(err))
        return false;
    char label[300];
    sl_table_label(cd->tables[ti], label, sizeof label);
    free(w->stop[ti]);
    w->stop[ti] = sl_strdup(err->message);
    sl_warn("table \"%s\" stops alone (options.table_errors is \"stop_table\"): %s", label, err->message);
    sl_cdc_copy_failed(cd, ti, err->message);
    return true;
}

int sl_cdc_wcopy_blame(struct sl_cdc_run *cd, const sl_err_t *err)
{
    if (!refused(err))
        return -1;
    /* the targets name the table as "name" or "schema.name" (target/apply.c) */
    for (const char *q = strchr(err->message, '"'); q; q = strchr(q + 1, '"')) {
        const char *end = strchr(q + 1, '"');
        if (!end)
            break;
        size_t len = (size_t)(end - q - 1);
        for (int i = 0; i < cd->ntables; i++) {
            const char *n = cd->maps[i]->tgt->name; /* the target's name for it */
            size_t nl = strlen(n);
            if (nl <= len && !memcmp(end - nl, n, nl) && (nl == len || end[-(ptrdiff_t)nl - 1] == '.'))
                return i;
        }
        q = end;
    }
    return -1;
}

void sl_cdc_wcopy_settled(sl_cdc_run_t *cd, const sl_cdc_wcopy_t *w)
{
    sl_copy_t *cp = cd->copy;
    for (int i = 0; cp && i < w->n && i < cp->n; i++)
        if (w->copied[i]) {
            atomic_fetch_add(&cp->t[i].copied, w->copied[i]);
            if (i < cd->ntstats) /* counted as loaded rows, not changes (monitor/snap.h) */
                atomic_fetch_add(&cd->tstats[i].rows_copied, w->copied[i]);
        }
}
