/*
 * apply_set.c: see apply_set.h. The hold copies changes into blocks that never move
 * (so the copies' pointers stay valid while more arrive), and the plan finds each
 * change's place with a hash table of the keys seen, stamped with a generation so
 * that starting a new run or segment costs nothing.
 */
#include "target/apply_set.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "target/apply.h"

#define BLOCK_SIZE (1u << 20)

/* ---- the hold ------------------------------------------------------------------- */

struct sl_apply_block {
    struct sl_apply_block *next;
    size_t len, cap;
    alignas(max_align_t) char data[];
};

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        sl_oom();
    return p;
}

/* size bytes from the hold's current block, aligned for sl_value_t. */
static void *take(sl_apply_hold_t *h, size_t size)
{
    size = (size + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
    struct sl_apply_block *b = h->blocks;
    if (!b || b->cap - b->len < size) {
        size_t cap = size > BLOCK_SIZE ? size : BLOCK_SIZE;
        b = malloc(sizeof *b + cap);
        if (!b)
            sl_oom();
        b->len = 0;
        b->cap = cap;
        b->next = h->blocks;
        h->blocks = b;
    }
    void *p = b->data + b->len;
    b->len += size;
    h->bytes += size;
    return p;
}

void sl_apply_hold_init(sl_apply_hold_t *h, int max_changes, size_t max_bytes)
{
    memset(h, 0, sizeof *h);
    h->max_changes = max_changes;
    h->max_bytes = max_bytes;
}

void sl_apply_hold_reset(sl_apply_hold_t *h)
{
    for (int i = 0; i < h->nq; i++)
        h->q[i].n = 0;
    h->nq = 0;
    h->nchanges = 0;
    h->bytes = 0;
    /* keep one ordinary block for the next batch */
    struct sl_apply_block *keep = NULL, *b = h->blocks;
    while (b) {
        struct sl_apply_block *next = b->next;
        if (!keep && b->cap == BLOCK_SIZE) {
            keep = b;
            keep->len = 0;
            keep->next = NULL;
        } else {
            free(b);
        }
        b = next;
    }
    h->blocks = keep;
}

void sl_apply_hold_free(sl_apply_hold_t *h)
{
    sl_apply_hold_reset(h);
    free(h->blocks);
    for (int i = 0; i < h->capq; i++)
        free(h->q[i].chs);
    free(h->q);
    memset(h, 0, sizeof *h);
}

static sl_apply_queue_t *queue_for(sl_apply_hold_t *h, const sl_table_t *t, bool movable)
{
    if (movable) {
        for (int i = h->nq - 1; i >= 0; i--)
            if (h->q[i].t == t && h->q[i].movable)
                return &h->q[i];
    } else if (h->nq > 0 && h->q[h->nq - 1].t == t) {
        return &h->q[h->nq - 1];
    }
    if (h->nq == h->capq) {
        int cap = h->capq ? 2 * h->capq : 8;
        h->q = xrealloc(h->q, (size_t)cap * sizeof *h->q);
        memset(h->q + h->capq, 0, (size_t)(cap - h->capq) * sizeof *h->q);
        h->capq = cap;
    }
    sl_apply_queue_t *q = &h->q[h->nq++];
    q->t = t;
    q->movable = movable;
    q->n = 0;
    return q;
}

static const sl_value_t *copy_values(sl_apply_hold_t *h, const sl_value_t *v, int ncols)
{
    if (!v)
        return NULL;
    sl_value_t *out = take(h, (size_t)ncols * sizeof *out);
    for (int i = 0; i < ncols; i++) {
        out[i] = v[i];
        if (v[i].len > 0) {
            char *p = take(h, (size_t)v[i].len);
            memcpy(p, v[i].p, (size_t)v[i].len);
            out[i].p = p;
        }
    }
    return out;
}

void sl_apply_hold_add(sl_apply_hold_t *h, const sl_table_t *t, bool movable,
                       const sl_change_t *chs, int n)
{
    if (n <= 0)
        return;
    sl_apply_queue_t *q = queue_for(h, t, movable);
    if (q->n + n > q->cap) {
        int cap = q->cap ? q->cap : 64;
        while (cap < q->n + n)
            cap *= 2;
        q->chs = xrealloc(q->chs, (size_t)cap * sizeof *q->chs);
        q->cap = cap;
    }
    for (int i = 0; i < n; i++) {
        sl_change_t *c = &q->chs[q->n++];
        *c = chs[i];
        c->row = copy_values(h, chs[i].row, chs[i].ncols);
        c->old = copy_values(h, chs[i].old, chs[i].ncols);
        h->bytes += sizeof *c;
    }
    h->nchanges += n;
}

bool sl_apply_hold_full(const sl_apply_hold_t *h)
{
    return h->nchanges >= h->max_changes || h->bytes >= h->max_bytes;
}

/* ---- keys ----------------------------------------------------------------------- */

static bool same_value(const sl_value_t *a, const sl_value_t *b)
{
    return a->len == b->len && (a->len <= 0 || memcmp(a->p, b->p, (size_t)a->len) == 0);
}

bool sl_apply_key_changes(const sl_table_t *t, const sl_change_t *ch)
{
    if (ch->op != SL_OP_UPDATE || !ch->old)
        return false;
    for (int i = 0; i < t->ncolumns; i++)
        if (t->columns[i].pk_pos > 0 && ch->row[i].len != SL_VALUE_UNCHANGED &&
            !same_value(&ch->row[i], &ch->old[i]))
            return true;
    return false;
}

bool sl_apply_same_columns(const sl_change_t *a, const sl_change_t *b)
{
    for (int i = 0; i < a->ncols; i++)
        if ((a->row[i].len == SL_VALUE_UNCHANGED) != (b->row[i].len == SL_VALUE_UNCHANGED))
            return false;
    return true;
}

/* A slot of the key table: the key values (a change's row or old row), valid while
 * gen is the plan's current generation. */
struct sl_key_slot {
    const sl_value_t *key;
    uint64_t hash;
    unsigned gen;
    int level;
};

typedef struct keys {
    struct sl_key_slot *slots;
    size_t mask;
    unsigned gen;
    const int *pkc; /* the key's column indexes */
    int npk;
} keys_t;

static uint64_t key_hash(const keys_t *k, const sl_value_t *key)
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < k->npk; i++) {
        const sl_value_t *v = &key[k->pkc[i]];
        h = (h ^ (uint64_t)v->len) * 1099511628211ull;
        for (int64_t j = 0; j < v->len; j++)
            h = (h ^ (unsigned char)v->p[j]) * 1099511628211ull;
    }
    return h ^ (h >> 29);
}

/* The slot of key (a free one with level 0 when the key is new in this generation). */
static struct sl_key_slot *key_slot(keys_t *k, const sl_value_t *key)
{
    uint64_t h = key_hash(k, key);
    for (size_t i = h & k->mask;; i = (i + 1) & k->mask) {
        struct sl_key_slot *s = &k->slots[i];
        if (s->gen != k->gen) {
            s->gen = k->gen;
            s->hash = h;
            s->key = key;
            s->level = 0;
            return s;
        }
        if (s->hash != h)
            continue;
        bool eq = true;
        for (int c = 0; c < k->npk && eq; c++)
            eq = same_value(&s->key[k->pkc[c]], &key[k->pkc[c]]);
        if (eq)
            return s;
    }
}

/* ---- the plan ------------------------------------------------------------------- */

void sl_apply_plan_free(sl_apply_plan_t *p)
{
    free(p->steps);
    free(p->order);
    free(p->level);
    free(p->idx);
    free(p->slots);
    memset(p, 0, sizeof *p);
}

typedef struct planner {
    sl_apply_plan_t *p;
    const sl_table_t *t;
    const sl_change_t *chs;
    const sl_apply_mode_t *mode;
    keys_t keys;
    int norder;
} planner_t;

static void add_step(planner_t *pl, sl_step_kind_t kind, int first, int n)
{
    sl_apply_plan_t *p = pl->p;
    if (p->nsteps == p->capsteps) {
        p->capsteps = p->capsteps ? 2 * p->capsteps : 64;
        p->steps = xrealloc(p->steps, (size_t)p->capsteps * sizeof *p->steps);
    }
    p->steps[p->nsteps++] = (sl_apply_step_t){.kind = kind, .first = first, .n = n};
}

/* Appends the changes chs[ix[0..n)] to the order as steps of kind: groups of at most
 * set_max, of even sizes, when there are at least set_min of them (so no group is
 * smaller than set_min while set_max >= 2 * set_min), else one step each. */
static void emit(planner_t *pl, sl_step_kind_t kind, const int *ix, int n)
{
    int groups = n < pl->mode->set_min ? 0 : (n + pl->mode->set_max - 1) / pl->mode->set_max;
    for (int i = 0, g = 0, next = 0; i < n; i++) {
        int at = pl->norder++;
        pl->p->order[at] = &pl->chs[ix[i]];
        if (!groups) {
            add_step(pl, SL_STEP_ONE, at, 1);
        } else if (i == next) {
            int size = n / groups + (g < n % groups);
            add_step(pl, kind, at, size);
            next += size;
            g++;
        }
    }
}

/* The level plan of chs[lo..hi) (no TRUNCATE among them). */
static void plan_levels(planner_t *pl, int lo, int hi)
{
    sl_apply_plan_t *p = pl->p;
    keys_t *k = &pl->keys;
    k->gen++;
    int maxl = 0;
    for (int i = lo; i < hi; i++) {
        const sl_change_t *ch = &pl->chs[i];
        struct sl_key_slot *a = key_slot(k, sl_apply_key_row(ch)), *b = NULL;
        int level = a->level + 1;
        if (sl_apply_key_changes(pl->t, ch)) {
            b = key_slot(k, ch->row);
            if (b->level + 1 > level)
                level = b->level + 1;
            b->level = level;
            b->key = ch->row;
        }
        a->level = level;
        a->key = sl_apply_key_row(ch);
        p->level[i - lo] = level;
        if (level > maxl)
            maxl = level;
    }
    /* counting sort by level, stable */
    int n = hi - lo;
    int *start = calloc((size_t)maxl + 2, sizeof *start);
    if (!start)
        sl_oom();
    for (int i = 0; i < n; i++)
        start[p->level[i] + 1]++;
    for (int l = 1; l <= maxl + 1; l++)
        start[l] += start[l - 1];
    int *sorted = p->idx; /* change indexes by level */
    for (int i = 0; i < n; i++)
        sorted[start[p->level[i]]++] = lo + i;
    /* start[l] is now the end of level l (levels are 1-based, start[0] = 0) */
    int *bucket = p->level; /* reused: changes of one kind within a level */
    for (int l = 1, from = 0; l <= maxl; l++) {
        int to = start[l];
        int nb = 0;
        for (int i = from; i < to; i++)
            if (pl->chs[sorted[i]].op == SL_OP_DELETE)
                bucket[nb++] = sorted[i];
        emit(pl, SL_STEP_DELETE, bucket, nb);
        /* updates: those that change their key alone, the rest by column set */
        for (int i = from; i < to; i++) {
            const sl_change_t *ch = &pl->chs[sorted[i]];
            if (ch->op == SL_OP_UPDATE && sl_apply_key_changes(pl->t, ch)) {
                int one = sorted[i];
                emit(pl, SL_STEP_ONE, &one, 1);
                sorted[i] = -1;
            }
        }
        for (int i = from; i < to; i++) {
            if (sorted[i] < 0 || pl->chs[sorted[i]].op != SL_OP_UPDATE)
                continue;
            const sl_change_t *first = &pl->chs[sorted[i]];
            nb = 0;
            for (int j = i; j < to; j++)
                if (sorted[j] >= 0 && pl->chs[sorted[j]].op == SL_OP_UPDATE &&
                    sl_apply_same_columns(first, &pl->chs[sorted[j]])) {
                    bucket[nb++] = sorted[j];
                    sorted[j] = -1;
                }
            emit(pl, SL_STEP_UPDATE, bucket, nb);
        }
        nb = 0;
        for (int i = from; i < to; i++)
            if (sorted[i] >= 0 && pl->chs[sorted[i]].op == SL_OP_INSERT)
                bucket[nb++] = sorted[i];
        emit(pl, SL_STEP_INSERT, bucket, nb);
        from = to;
    }
    free(start);
}

/* Whether chs[j] may join the run of the same kind that starts at chs[i]. */
static bool joins_run(planner_t *pl, int i, int j)
{
    const sl_change_t *a = &pl->chs[i], *b = &pl->chs[j];
    if (b->op != a->op)
        return false;
    if (b->op == SL_OP_INSERT)
        return true;
    if (b->op == SL_OP_UPDATE && (sl_apply_key_changes(pl->t, b) || !sl_apply_same_columns(a, b)))
        return false;
    struct sl_key_slot *s = key_slot(&pl->keys, sl_apply_key_row(b));
    if (s->level)
        return false; /* the key repeats: the run ends before it */
    s->level = 1;
    return true;
}

/* The in-order plan of chs[lo..hi) (no TRUNCATE among them). */
static void plan_runs(planner_t *pl, int lo, int hi)
{
    bool keyed = pl->keys.npk > 0;
    int *ix = pl->p->idx;
    for (int i = lo; i < hi;) {
        const sl_change_t *ch = &pl->chs[i];
        bool grouped = ch->op == SL_OP_INSERT ||
                       (keyed && (ch->op == SL_OP_DELETE ||
                                  (pl->mode->group_updates && !sl_apply_key_changes(pl->t, ch))));
        int j = i + 1;
        if (grouped) {
            pl->keys.gen++;
            if (ch->op != SL_OP_INSERT)
                key_slot(&pl->keys, sl_apply_key_row(ch))->level = 1;
            while (j < hi && joins_run(pl, i, j))
                j++;
        }
        for (int x = i; x < j; x++)
            ix[x - i] = x;
        sl_step_kind_t kind = ch->op == SL_OP_INSERT   ? SL_STEP_INSERT
                              : ch->op == SL_OP_DELETE ? SL_STEP_DELETE
                                                       : SL_STEP_UPDATE;
        emit(pl, grouped ? kind : SL_STEP_ONE, ix, j - i);
        i = j;
    }
}

/* Sizes the plan's arrays and key table for n changes. */
static void scratch(sl_apply_plan_t *p, int n)
{
    if (n > p->caporder) {
        p->order = xrealloc(p->order, (size_t)n * sizeof *p->order);
        p->caporder = n;
    }
    if (n > p->caplevel) {
        p->level = xrealloc(p->level, (size_t)n * sizeof *p->level);
        p->idx = xrealloc(p->idx, (size_t)n * sizeof *p->idx);
        p->caplevel = n;
    }
    size_t want = 16;
    while (want < 4 * (size_t)n)
        want *= 2;
    if (want > p->capslots || p->gen > UINT32_MAX - 2 * (unsigned)n - 2) {
        free(p->slots);
        p->slots = calloc(want > p->capslots ? want : p->capslots, sizeof *p->slots);
        if (!p->slots)
            sl_oom();
        p->capslots = want > p->capslots ? want : p->capslots;
        p->gen = 0;
    }
}

/* The key columns of t (npk of them; the caller frees). */
static int *key_columns(const sl_table_t *t, int *npk)
{
    *npk = sl_table_pk_count(t);
    int *pkc = xrealloc(NULL, (size_t)(*npk ? *npk : 1) * sizeof *pkc);
    for (int k = 0; k < *npk; k++)
        pkc[k] = sl_table_pk_col(t, k);
    return pkc;
}

int sl_apply_merge(sl_apply_plan_t *p, sl_apply_queue_t *q)
{
    const sl_table_t *t = q->t;
    scratch(p, q->n);
    int npk, out = 0;
    int *pkc = key_columns(t, &npk);
    if (!npk) {
        free(pkc);
        return 0;
    }
    keys_t k = {.slots = p->slots, .mask = p->capslots - 1, .gen = p->gen + 1, .pkc = pkc,
                .npk = npk};
    for (int i = 0; i < q->n; i++) {
        sl_change_t ch = q->chs[i];
        if (ch.op == SL_OP_TRUNCATE) {
            k.gen++; /* nothing merges across a TRUNCATE */
            q->chs[out++] = ch;
            continue;
        }
        bool moves = sl_apply_key_changes(t, &ch);
        struct sl_key_slot *s = key_slot(&k, sl_apply_key_row(&ch));
        if (ch.op == SL_OP_UPDATE && !moves && s->level > 0) {
            sl_change_t *last = &q->chs[s->level - 1];
            if (last->op == SL_OP_INSERT ||
                (last->op == SL_OP_UPDATE && !sl_apply_key_changes(t, last))) {
                /* the hold's own copy: the later values win, unchanged ones keep the
                 * earlier change's */
                sl_value_t *row = (sl_value_t *)last->row;
                for (int c = 0; c < ch.ncols; c++)
                    if (ch.row[c].len != SL_VALUE_UNCHANGED)
                        row[c] = ch.row[c];
                continue;
            }
        }
        q->chs[out] = ch;
        s->level = ++out;
        if (moves)
            key_slot(&k, ch.row)->level = out;
    }
    int merged = q->n - out;
    q->n = out;
    p->gen = k.gen;
    free(pkc);
    return merged;
}

void sl_apply_plan_build(sl_apply_plan_t *p, const sl_table_t *t, const sl_change_t *chs, int n,
                         const sl_apply_mode_t *mode)
{
    p->nsteps = 0;
    scratch(p, n);
    int npk;
    int *pkc = key_columns(t, &npk);
    planner_t pl = {.p = p, .t = t, .chs = chs, .mode = mode,
                    .keys = {.slots = p->slots, .mask = p->capslots - 1, .gen = p->gen,
                             .pkc = pkc, .npk = npk}};
    bool levels = mode->leveled && npk > 0;
    int lo = 0;
    for (int i = 0; i <= n; i++) {
        if (i < n && chs[i].op != SL_OP_TRUNCATE)
            continue;
        if (i > lo)
            (levels ? plan_levels : plan_runs)(&pl, lo, i);
        if (i < n) {
            p->order[pl.norder] = &chs[i];
            add_step(&pl, SL_STEP_TRUNCATE, pl.norder++, 1);
        }
        lo = i + 1;
    }
    p->gen = pl.keys.gen;
    free(pkc);
}
