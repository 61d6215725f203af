/*
 * filter_eval.c: a bound filter on rows of canonical values, and the CDC routing built
 * on it (filter.h).
 *
 * Evaluation works on sets of truth values rather than single ones: a value the row does
 * not carry (an unchanged TOASTed value, an old value outside the replica identity) makes
 * its predicate "any of true, false, NULL" (only true or false for TOAST, which is never
 * NULL), and AND, OR and NOT combine the sets exactly. So `status = 'x' OR big_text LIKE
 * 'a%'` is still decided when status matches, and a result is undecided only when the
 * missing value really matters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "filter/filter_int.h"

enum { MT = 1, MF = 2, MN = 4, MALL = MT | MF | MN };

typedef enum { IMG_PLAIN, IMG_BEFORE, IMG_AFTER } img_mode_t;

/* Where a predicate reads its column values. */
typedef struct image {
    const sl_filter_t *f;
    img_mode_t mode;
    const sl_value_t *row; /* PLAIN: the row; BEFORE / AFTER: the change's new row */
    const sl_value_t *old; /* the change's old row, NULL when not sent */
    bool old_full;
    sl_err_t *err;
    bool failed;
} image_t;

typedef enum { V_KNOWN, V_UNCHANGED, V_UNKNOWN } vstate_t;

static vstate_t column_value(const image_t *im, int col, sl_value_t *v)
{
    bool from_old = im->old && (im->old_full || im->f->cols[col].key);
    switch (im->mode) {
    case IMG_PLAIN:
        *v = im->row[col];
        break;
    case IMG_BEFORE:
        if (im->old && from_old)
            *v = im->old[col];
        else if (!im->old && im->row && im->f->cols[col].key)
            *v = im->row[col]; /* no old row: the key did not change */
        else
            return V_UNKNOWN;
        break;
    case IMG_AFTER:
        *v = im->row[col];
        if (v->len == SL_VALUE_UNCHANGED && from_old)
            *v = im->old[col];
        break;
    }
    return v->len == SL_VALUE_UNCHANGED ? V_UNCHANGED : V_KNOWN;
}

/* One operand of a predicate: its state and, when known, its value in class c. */
typedef struct arg {
    vstate_t st;
    fval_t v;
} arg_t;

static void bad_value(image_t *im, int col, const sl_value_t *v)
{
    if (im->failed)
        return;
    im->failed = true;
    sl_err_set(im->err, SL_E_DATA, "invalid %s value for column \"%s\" in the filter of table \"%s\"",
               sl_type_name(im->f->cols[col].type), im->f->cols[col].name, im->f->table);
    int n = v->len > 80 ? 80 : (int)v->len;
    sl_err_detail(im->err, "The value is \"%.*s%s\".", n, v->p, v->len > 80 ? "..." : "");
}

static arg_t arg(image_t *im, const node_t *n, const operand_t *o)
{
    arg_t a = {.st = V_KNOWN};
    if (!o->is_col) {
        a.v = o->v;
        return a;
    }
    sl_value_t v;
    a.st = column_value(im, o->col, &v);
    if (a.st != V_KNOWN)
        return a;
    if (v.len < 0) {
        a.v.null = true;
        return a;
    }
    if (n->kind == N_ISNULL)
        return a;
    if (sl_filter_read(im->f->cols[o->col].type, n->cls, v.p, (size_t)v.len, &a.v)) {
        bad_value(im, o->col, &v);
        a.st = V_UNKNOWN;
    }
    return a;
}

/* The set of an unknown operand's comparison results. */
static int unknown_mask(const arg_t *a)
{
    return a->st == V_UNCHANGED ? MT | MF : MALL;
}

static int cmp_mask(cmp_t op, const arg_t *a, const arg_t *b, cls_t c)
{
    if ((a->st == V_KNOWN && a->v.null) || (b->st == V_KNOWN && b->v.null))
        return MN;
    if (a->st != V_KNOWN || b->st != V_KNOWN)
        return a->st == V_UNKNOWN || b->st == V_UNKNOWN ? MALL : MT | MF;
    int r = sl_filter_cmp(c, &a->v, &b->v);
    bool t;
    switch (op) {
    case CMP_EQ: t = r == 0; break;
    case CMP_NE: t = r != 0; break;
    case CMP_LT: t = r < 0; break;
    case CMP_LE: t = r <= 0; break;
    case CMP_GT: t = r > 0; break;
    default: t = r >= 0; break;
    }
    return t ? MT : MF;
}

static int not_mask(int m)
{
    return (m & MN) | (m & MT ? MF : 0) | (m & MF ? MT : 0);
}

/* AND or OR of two sets: every combination of their members. */
static int combine(int a, int b, bool and)
{
    int r = 0;
    for (int x = 1; x <= MN; x <<= 1)
        for (int y = 1; y <= MN; y <<= 1) {
            if (!(a & x) || !(b & y))
                continue;
            if (and)
                r |= x == MF || y == MF ? MF : x == MN || y == MN ? MN : MT;
            else
                r |= x == MT || y == MT ? MT : x == MN || y == MN ? MN : MF;
        }
    return r;
}

static int eval_node(image_t *im, const node_t *n)
{
    arg_t x, y, z;
    int m;
    switch (n->kind) {
    case N_AND:
    case N_OR:
        m = n->kind == N_AND ? MT : MF;
        for (int i = 0; i < n->nkids && !im->failed; i++) {
            m = combine(m, eval_node(im, n->kids[i]), n->kind == N_AND);
            if (m == (n->kind == N_AND ? MF : MT))
                break; /* decided whatever follows */
        }
        return m;
    case N_NOT:
        return not_mask(eval_node(im, n->kids[0]));
    case N_CMP:
        x = arg(im, n, &n->ops[0]);
        y = arg(im, n, &n->ops[1]);
        return cmp_mask(n->op, &x, &y, n->cls);
    case N_ISNULL:
        x = arg(im, n, &n->ops[0]);
        m = x.st == V_KNOWN ? (x.v.null ? MT : MF) : x.st == V_UNCHANGED ? MF : MT | MF;
        return n->neg ? not_mask(m) : m;
    case N_BOOLCOL:
        x = arg(im, n, &n->ops[0]);
        if (x.st != V_KNOWN)
            return unknown_mask(&x);
        return x.v.null ? MN : x.v.i ? MT : MF;
    case N_BETWEEN:
        x = arg(im, n, &n->ops[0]);
        y = arg(im, n, &n->ops[1]);
        z = arg(im, n, &n->ops[2]);
        m = combine(cmp_mask(CMP_GE, &x, &y, n->cls), cmp_mask(CMP_LE, &x, &z, n->cls), true);
        return n->neg ? not_mask(m) : m;
    case N_IN:
        x = arg(im, n, &n->ops[0]);
        m = MF;
        for (int i = 1; i < n->nops && m != MT; i++) {
            y = arg(im, n, &n->ops[i]);
            m = combine(m, cmp_mask(CMP_EQ, &x, &y, n->cls), false);
        }
        return n->neg ? not_mask(m) : m;
    case N_LIKE:
        x = arg(im, n, &n->ops[0]);
        if (x.st != V_KNOWN)
            m = unknown_mask(&x);
        else if (x.v.null)
            m = MN;
        else
            m = sl_filter_like(x.v.s, x.v.n, n->pattern, n->plen) ? MT : MF;
        return n->neg ? not_mask(m) : m;
    }
    return MALL;
}

static sl_filter_result_t result(const image_t *im, int m)
{
    if (im->failed)
        return SL_FILTER_ERROR;
    if (m == MT)
        return SL_FILTER_TRUE;
    if (m == MF)
        return SL_FILTER_FALSE;
    return m & MT ? SL_FILTER_UNDECIDED : SL_FILTER_NULL;
}

static sl_filter_result_t run(image_t *im)
{
    if (!im->f->bound) {
        sl_err_set(im->err, SL_E_INTERNAL, "filter evaluated before it was bound");
        return SL_FILTER_ERROR;
    }
    return result(im, eval_node(im, im->f->root));
}

sl_filter_result_t sl_filter_eval(const sl_filter_t *f, const sl_value_t *row, int ncols,
                                  sl_err_t *err)
{
    if (ncols != f->ncols) {
        sl_err_set(err, SL_E_INTERNAL, "filter of table \"%s\" bound to %d columns, row has %d",
                   f->table ? f->table : "?", f->ncols, ncols);
        return SL_FILTER_ERROR;
    }
    image_t im = {.f = f, .mode = IMG_PLAIN, .row = row, .err = err};
    return run(&im);
}

/* ---- CDC ------------------------------------------------------------------------------- */

/* Names the non-key columns the filter reads, for messages. */
static void non_key_names(const sl_filter_t *f, char *buf, size_t size)
{
    int cols[64];
    int n = sl_filter_columns(f, cols, 64);
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0, k = 0; i < n && i < 64 && o + 4 < size; i++) {
        if (f->cols[cols[i]].key && !f->keyless)
            continue;
        o += (size_t)snprintf(buf + o, size - o, "%s\"%s\"", k++ ? ", " : "", f->cols[cols[i]].name);
    }
}

static void replica_hint(const sl_filter_t *f, sl_err_t *err)
{
    if (f->schema)
        sl_err_hint(err, "Run ALTER TABLE \"%s\".\"%s\" REPLICA IDENTITY FULL on the source, or "
                         "filter on primary key columns only.", f->schema, f->table);
    else
        sl_err_hint(err, "Make the source send whole old rows (REPLICA IDENTITY FULL), or filter "
                         "on primary key columns only.");
}

static int undecided(const sl_filter_t *f, const sl_change_t *ch, sl_err_t *err)
{
    char names[400];
    non_key_names(f, names, sizeof names);
    sl_err_set(err, SL_E_CONFIG, "the filter of table \"%s\" cannot be decided for %s",
               f->table, ch->op == SL_OP_DELETE ? "a DELETE" : ch->op == SL_OP_INSERT ? "an INSERT"
                                                                                  : "an UPDATE");
    sl_err_detail(err, "The change does not carry the %s value of %s, which the filter reads.",
                  ch->op == SL_OP_INSERT ? "new" : "old", names[0] ? names : "a column");
    replica_hint(f, err);
    return -1;
}

static bool passes(sl_filter_result_t r)
{
    return r == SL_FILTER_TRUE;
}

int sl_filter_route(const sl_filter_t *f, const sl_change_t *ch, bool old_full,
                    sl_value_t *merged, sl_change_t *out, sl_err_t *err)
{
    *out = *ch;
    if (ch->op == SL_OP_TRUNCATE)
        return SL_FILTER_KEEP;
    if (ch->ncols != f->ncols) {
        sl_err_set(err, SL_E_INTERNAL, "filter of table \"%s\" bound to %d columns, change has %d",
                   f->table ? f->table : "?", f->ncols, ch->ncols);
        return -1;
    }
    image_t before = {.f = f, .mode = IMG_BEFORE, .row = ch->row, .old = ch->old,
                      .old_full = old_full, .err = err};
    image_t after = {.f = f, .mode = IMG_AFTER, .row = ch->row, .old = ch->old,
                     .old_full = old_full, .err = err};
    sl_filter_result_t b = SL_FILTER_FALSE, a = SL_FILTER_FALSE;
    if (ch->op != SL_OP_INSERT && (b = run(&before)) == SL_FILTER_ERROR)
        return -1;
    if (ch->op != SL_OP_DELETE && (a = run(&after)) == SL_FILTER_ERROR)
        return -1;
    if (b == SL_FILTER_UNDECIDED || a == SL_FILTER_UNDECIDED)
        return undecided(f, ch, err);
    switch (ch->op) {
    case SL_OP_INSERT:
        return passes(a) ? SL_FILTER_KEEP : SL_FILTER_SKIP;
    case SL_OP_DELETE:
        return passes(b) ? SL_FILTER_KEEP : SL_FILTER_SKIP;
    default:
        break;
    }
    if (passes(b) && passes(a))
        return SL_FILTER_KEEP;
    if (!passes(b) && !passes(a))
        return SL_FILTER_SKIP;
    if (passes(b)) {
        out->op = SL_OP_DELETE;
        out->old = ch->old ? ch->old : ch->row;
        out->row = NULL;
        return SL_FILTER_AS_DELETE;
    }
    /* Moved in: the target gets the whole new row, TOASTed values from the old one. */
    for (int i = 0; i < ch->ncols; i++) {
        sl_value_t v;
        if (column_value(&after, i, &v) == V_UNCHANGED) {
            sl_err_set(err, SL_E_CONFIG, "an UPDATE moved a row of table \"%s\" into the filter "
                       "but did not carry column \"%s\"", f->table, f->cols[i].name);
            sl_err_detail(err, "Its value did not change and is stored out of line (TOAST), so "
                               "the source sent only the changed values; the target needs the "
                               "whole row.");
            replica_hint(f, err);
            return -1;
        }
        merged[i] = v;
    }
    out->op = SL_OP_INSERT;
    out->row = merged;
    out->old = NULL;
    return SL_FILTER_AS_INSERT;
}

/* ---- what the filter reads -------------------------------------------------------------- */

static void mark(const node_t *n, bool *seen)
{
    for (int i = 0; i < n->nkids; i++)
        mark(n->kids[i], seen);
    for (int i = 0; i < n->nops; i++)
        if (n->ops[i].is_col && n->ops[i].col >= 0)
            seen[n->ops[i].col] = true;
}

int sl_filter_columns(const sl_filter_t *f, int *cols, int cap)
{
    if (!f->bound || f->ncols <= 0)
        return 0;
    bool *seen = calloc((size_t)f->ncols, sizeof *seen);
    if (!seen)
        sl_oom();
    mark(f->root, seen);
    int n = 0;
    for (int i = 0; i < f->ncols; i++)
        if (seen[i]) {
            if (n < cap)
                cols[n] = i;
            n++;
        }
    free(seen);
    return n;
}

bool sl_filter_reads_non_key(const sl_filter_t *f)
{
    int n = sl_filter_columns(f, NULL, 0);
    if (n == 0)
        return false;
    if (f->keyless)
        return true;
    int *cols = malloc(sizeof *cols * (size_t)n);
    if (!cols)
        sl_oom();
    sl_filter_columns(f, cols, n);
    bool any = false;
    for (int i = 0; i < n && !any; i++)
        any = !f->cols[cols[i]].key;
    free(cols);
    return any;
}

int sl_filter_check_old_row(const sl_filter_t *f, bool old_full, sl_err_t *err)
{
    if (old_full || !sl_filter_reads_non_key(f))
        return 0;
    char names[400];
    non_key_names(f, names, sizeof names);
    if (f->keyless)
        sl_err_set(err, SL_E_CONFIG, "the filter of table \"%s\" needs whole old rows: the table "
                   "has no primary key", f->table);
    else
        sl_err_set(err, SL_E_CONFIG, "the filter of table \"%s\" reads columns outside the "
                   "primary key: %s", f->table, names);
    sl_err_detail(err, "The source sends only the key of the old row of an UPDATE or DELETE, so "
                       "CDC could not tell whether the row was inside the filter before the change.");
    replica_hint(f, err);
    return -1;
}
