/*
 * cdc_copy_state.c: the stored state of copies beside the change stream (cdc_copy.h),
 * shared by the reader, which sends marks and rows and keeps what each lane will have
 * applied, and the writer lanes, which apply them and commit the result in their
 * checkpoint. Both run the same functions on the same marks, so they agree.
 *
 * A lane's checkpoint position {"lsn", "idx", "flush"} gains "copy": {label: entry} for
 * every table whose copy is not finished on that lane:
 *   {"gen": 3, "after": "[\"500\"]" | "end", "rows": 12000, "opens": 4,
 *    "win": {"all": false, "upto": "[\"750\"]" | "end", "snap": {…}}, "fail": "…"}
 * gen: the generation of the copy (a resync starts a new one); after: every key up to it
 * (of this lane) is copied; win: a chunk read in snapshot snap whose changes may still
 * come in the stream (until its horizon), covering keys up to upto (or every key: a
 * table copied in one piece); fail: the table stopped alone on this lane.
 * snap: {"h": "X/Y", "below": "X/Y"} (by position) or {"h": "X/Y", "xmin": n, "xmax": n,
 * "xip": [n, …]} (by transaction id).
 *
 * Marks (SL_OP_MARK changes, row[0] the JSON):
 *   {"k": "start", "gen": g, "trunc": bool}   a copy begins (trunc: empty the table)
 *   {"k": "open", "gen": g, "all": bool, "snap": {…}}   a chunk is read in snap
 *   {"k": "end", "gen": g, "upto": "[…]" | "end"}       ... and ended at that key
 *   {"k": "clean"}                            the copy is finished: forget it
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "engine/cdc_copy.h"

void sl_cdc_lcopy_clear(sl_cdc_lcopy_t *l)
{
    sl_cdc_key_free(&l->after);
    sl_cdc_key_free(&l->upto);
    sl_cdc_snap_clear(&l->snap);
    free(l->fail);
    memset(l, 0, sizeof *l);
}

static json_t *key_json(const sl_cdc_key_t *k)
{
    char *s = sl_cdc_key_json_of(NULL, k);
    json_t *out = json_string(s);
    free(s);
    return out;
}

static void key_copy(sl_cdc_key_t *dst, const sl_cdc_key_t *src)
{
    sl_cdc_key_free(dst);
    dst->n = src->n;
    dst->v = calloc((size_t)(src->n ? src->n : 1), sizeof *dst->v);
    if (!dst->v)
        sl_oom();
    for (int i = 0; i < src->n; i++) {
        char *p = malloc((size_t)src->v[i].len + 1);
        if (!p)
            sl_oom();
        memcpy(p, src->v[i].p, (size_t)src->v[i].len);
        p[src->v[i].len] = '\0';
        dst->v[i] = (sl_value_t){p, src->v[i].len};
    }
}

json_t *sl_cdc_snap_to_json(const sl_cdc_snap_t *s)
{
    char h[32], b[32];
    sl_lsn_format(s->horizon, h, sizeof h);
    if (s->below) {
        sl_lsn_format(s->below, b, sizeof b);
        return json_pack("{s:s, s:s}", "h", h, "below", b);
    }
    json_t *xip = json_array();
    for (int i = 0; i < s->nxip; i++)
        json_array_append_new(xip, json_integer((json_int_t)s->xip[i]));
    return json_pack("{s:s, s:I, s:I, s:o}", "h", h, "xmin", (json_int_t)s->xmin, "xmax", (json_int_t)s->xmax,
                     "xip", xip);
}

int sl_cdc_snap_from_json(const json_t *j, sl_cdc_snap_t *s)
{
    memset(s, 0, sizeof *s);
    const char *h = json_string_value(json_object_get(j, "h"));
    const char *below = json_string_value(json_object_get(j, "below"));
    if (!h || sl_lsn_parse(h, &s->horizon))
        return -1;
    if (below)
        return sl_lsn_parse(below, &s->below) || !s->below ? -1 : 0;
    const json_t *xmin = json_object_get(j, "xmin"), *xmax = json_object_get(j, "xmax");
    const json_t *xip = json_object_get(j, "xip");
    if (!json_is_integer(xmin) || !json_is_integer(xmax) || !json_is_array(xip) || json_integer_value(xmin) < 0 ||
        json_integer_value(xmax) < json_integer_value(xmin))
        return -1;
    s->xmin = (uint64_t)json_integer_value(xmin);
    s->xmax = (uint64_t)json_integer_value(xmax);
    s->nxip = (int)json_array_size(xip);
    s->xip = calloc((size_t)s->nxip + 1, sizeof *s->xip);
    if (!s->xip)
        sl_oom();
    for (int i = 0; i < s->nxip; i++) {
        const json_t *x = json_array_get(xip, (size_t)i);
        if (!json_is_integer(x)) {
            sl_cdc_snap_clear(s);
            return -1;
        }
        s->xip[i] = (uint64_t)json_integer_value(x);
    }
    return 0;
}

json_t *sl_cdc_lcopy_to_json(const sl_cdc_lcopy_t *l)
{
    json_t *o = json_pack("{s:I, s:I, s:I}", "gen", (json_int_t)l->gen, "rows", (json_int_t)l->rows, "opens",
                          (json_int_t)l->opens);
    if (l->after_end)
        json_object_set_new(o, "after", json_string("end"));
    else if (l->has_after)
        json_object_set_new(o, "after", key_json(&l->after));
    if (l->win) {
        json_t *w = json_pack("{s:b, s:o}", "all", l->win_all, "snap", sl_cdc_snap_to_json(&l->snap));
        if (l->upto_end)
            json_object_set_new(w, "upto", json_string("end"));
        else if (l->has_upto)
            json_object_set_new(w, "upto", key_json(&l->upto));
        json_object_set_new(o, "win", w);
    }
    if (l->fail)
        json_object_set_new(o, "fail", json_string(l->fail));
    return o;
}

/* "end", or a key of t into *k (*has set). */
static int key_or_end(const json_t *v, const sl_table_t *t, bool *end, bool *has, sl_cdc_key_t *k)
{
    const char *s = json_string_value(v);
    *end = *has = false;
    if (!v)
        return 0;
    if (!s)
        return -1;
    if (!strcmp(s, "end")) {
        *end = true;
        return 0;
    }
    sl_cdc_key_free(k);
    if (sl_cdc_key_parse(s, sl_table_pk_count(t), k))
        return -1;
    *has = true;
    return 0;
}

int sl_cdc_lcopy_from_json(const json_t *j, const sl_table_t *t, sl_cdc_lcopy_t *l)
{
    memset(l, 0, sizeof *l);
    const json_t *gen = json_object_get(j, "gen"), *rows = json_object_get(j, "rows");
    const json_t *opens = json_object_get(j, "opens");
    const json_t *win = json_object_get(j, "win");
    const char *fail = json_string_value(json_object_get(j, "fail"));
    if (!json_is_object(j) || !json_is_integer(gen))
        return -1;
    l->gen = json_integer_value(gen);
    l->rows = json_is_integer(rows) ? json_integer_value(rows) : 0;
    l->opens = json_is_integer(opens) ? json_integer_value(opens) : 0;
    l->fail = fail ? sl_strdup(fail) : NULL;
    if (key_or_end(json_object_get(j, "after"), t, &l->after_end, &l->has_after, &l->after))
        goto bad;
    if (win) {
        l->win = true;
        l->win_all = json_is_true(json_object_get(win, "all"));
        if (key_or_end(json_object_get(win, "upto"), t, &l->upto_end, &l->has_upto, &l->upto) ||
            sl_cdc_snap_from_json(json_object_get(win, "snap"), &l->snap))
            goto bad;
    }
    return 0;
bad:
    sl_cdc_lcopy_clear(l);
    return -1;
}

void sl_cdc_lcopy_close(sl_cdc_lcopy_t *l, const sl_table_t *t)
{
    if (!l->win)
        return;
    /* never backwards: a chunk read from a lower key than this lane's (lanes commit
     * apart, so after a crash they stand at different keys) ends below it */
    if (l->upto_end) {
        l->after_end = true;
    } else if (l->has_upto && !l->win_all && (!l->has_after || sl_cdc_key_cmp_keys(t, &l->upto, &l->after) > 0)) {
        key_copy(&l->after, &l->upto);
        l->has_after = true;
    }
    l->win = l->win_all = l->upto_end = l->has_upto = false;
    sl_cdc_key_free(&l->upto);
    sl_cdc_snap_clear(&l->snap);
}

int sl_cdc_lcopy_mark(sl_cdc_lcopy_t *l, const sl_table_t *t, const json_t *mark, bool *trunc, bool *clean)
{
    const char *k = json_string_value(json_object_get(mark, "k"));
    const json_t *gen = json_object_get(mark, "gen");
    *trunc = *clean = false;
    if (!k)
        return -1;
    if (!strcmp(k, "clean")) {
        *clean = true;
        return 0;
    }
    if (!json_is_integer(gen))
        return -1;
    int64_t g = json_integer_value(gen);
    if (!strcmp(k, "start")) {
        sl_cdc_lcopy_clear(l);
        l->gen = g;
        *trunc = json_is_true(json_object_get(mark, "trunc"));
        return 0;
    }
    if (g != l->gen)
        return 0; /* a mark of a generation this lane did not start: never sent so */
    if (!strcmp(k, "open")) {
        sl_cdc_lcopy_close(l, t);
        if (sl_cdc_snap_from_json(json_object_get(mark, "snap"), &l->snap))
            return -1;
        l->win = true;
        l->win_all = json_is_true(json_object_get(mark, "all"));
        l->opens++;
        return 0;
    }
    if (!strcmp(k, "end")) {
        bool end, has;
        sl_cdc_key_t key = {0};
        if (!l->win || key_or_end(json_object_get(mark, "upto"), t, &end, &has, &key))
            return -1;
        l->upto_end = end;
        if (has) {
            sl_cdc_key_free(&l->upto);
            l->upto = key;
            l->has_upto = true;
        }
        return 0;
    }
    return -1;
}

void sl_cdc_lcopy_row(sl_cdc_lcopy_t *l, const sl_table_t *t, const sl_value_t *row)
{
    l->rows++;
    if (!l->win || l->win_all)
        return;
    int npk = sl_table_pk_count(t);
    if (!l->has_upto || l->upto.n != npk) {
        sl_cdc_key_free(&l->upto);
        l->upto.v = calloc((size_t)(npk ? npk : 1), sizeof *l->upto.v);
        if (!l->upto.v)
            sl_oom();
        l->upto.n = npk;
        l->has_upto = true;
    }
    for (int i = 0; i < npk; i++) {
        const sl_value_t *v = &row[sl_table_pk_col(t, i)];
        size_t n = v->len > 0 ? (size_t)v->len : 0;
        char *p = realloc((char *)l->upto.v[i].p, n + 1);
        if (!p)
            sl_oom();
        memcpy(p, v->p, n);
        p[n] = '\0';
        l->upto.v[i] = (sl_value_t){p, (int64_t)n};
    }
}

/* ---- generations ("cdc_copy") ------------------------------------------------------- */

int sl_cdc_gen_get(const json_t *all, const char *label, sl_cdc_gen_t *g)
{
    memset(g, 0, sizeof *g);
    const json_t *e = json_object_get(all, label);
    if (!e)
        return 0;
    const json_t *gen = json_object_get(e, "gen"), *done = json_object_get(e, "done");
    const char *rid = json_string_value(json_object_get(e, "rid"));
    if (!json_is_integer(gen) || !json_is_integer(done))
        return -1;
    g->gen = json_integer_value(gen);
    g->done = json_integer_value(done);
    snprintf(g->rid, sizeof g->rid, "%s", rid ? rid : "");
    return 0;
}

void sl_cdc_gen_set(json_t *all, const char *label, const sl_cdc_gen_t *g)
{
    json_object_set_new(all, label,
                        json_pack("{s:I, s:I, s:s}", "gen", (json_int_t)g->gen, "done", (json_int_t)g->done,
                                  "rid", g->rid));
}
