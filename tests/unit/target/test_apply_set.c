/*
 * test_apply_set.c: unit tests of set-based apply's pure half (src/target/apply_set.c):
 * the hold (copies, one queue per movable table, order kept for the others) and the
 * plan. The plan is checked on hand-made cases and on random mixes of inserts,
 * updates (some changing their key, some with unchanged values) and deletes over a
 * few keys: every change is taken exactly once, two changes of one key keep their
 * order, groups hold one kind of change of distinct keys, and an in-order plan keeps
 * the source order exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "target/apply_set.h"

#define V(s) ((sl_value_t){(s), (int64_t)strlen(s)})
#define UNCH ((sl_value_t){NULL, SL_VALUE_UNCHANGED})
#define NUL_V ((sl_value_t){NULL, -1})

static sl_table_t *table(int npk)
{
    sl_table_t *t = calloc(1, sizeof *t);
    t->name = sl_strdup("t");
    const char *names[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        sl_column_t *c = sl_table_add_col(t);
        c->name = sl_strdup(names[i]);
        c->type = i == 0 ? SL_T_INT32 : SL_T_TEXT;
        c->pk_pos = i < npk ? i + 1 : 0;
    }
    return t;
}

static const sl_apply_mode_t LEVELED = {.leveled = true, .set_min = 3, .set_max = 5};
static const sl_apply_mode_t IN_ORDER = {.leveled = false, .group_updates = true, .set_min = 3,
                                         .set_max = 5};

/* ---- a pool of changes over keys "0".."K-1" -------------------------------------- */

enum { MAXCH = 400 };
static char keytext[64][4];
static sl_value_t rows[MAXCH][3], olds[MAXCH][3];
static sl_change_t chs[MAXCH];

static const char *key(int k)
{
    snprintf(keytext[k], sizeof keytext[k], "%d", k);
    return keytext[k];
}

static void mk(int i, sl_change_op_t op, int k, int newk, bool unchanged)
{
    rows[i][0] = V(key(newk >= 0 ? newk : k));
    rows[i][1] = V("b");
    rows[i][2] = unchanged ? UNCH : V("c");
    olds[i][0] = V(key(k));
    olds[i][1] = olds[i][2] = NUL_V;
    chs[i] = (sl_change_t){.op = op, .pos = {1, (uint32_t)i + 1}, .ncols = 3};
    if (op != SL_OP_DELETE && op != SL_OP_TRUNCATE)
        chs[i].row = rows[i];
    if (op == SL_OP_DELETE || newk >= 0)
        chs[i].old = olds[i];
}

/* The keys change i touches: its key row's, and the new one when it changes its key. */
static int keys_of(const sl_table_t *t, int i, int out[2])
{
    const sl_change_t *c = &chs[i];
    if (c->op == SL_OP_TRUNCATE)
        return 0;
    const sl_value_t *kr = c->old ? c->old : c->row;
    out[0] = atoi(kr[0].p);
    if (sl_apply_key_changes(t, c)) {
        out[1] = atoi(c->row[0].p);
        return 2;
    }
    return 1;
}

/* Checks the plan of chs[0..n) against the rules in apply_set.h. */
static void verify(const sl_table_t *t, int n, const sl_apply_plan_t *p, const sl_apply_mode_t *m)
{
    int pos[MAXCH];
    for (int i = 0; i < n; i++)
        pos[i] = -1;
    int at = 0;
    for (int s = 0; s < p->nsteps; s++) {
        const sl_apply_step_t *st = &p->steps[s];
        assert_int_equal(st->first, at);
        at += st->n;
        for (int j = 0; j < st->n; j++) {
            int i = (int)(p->order[st->first + j] - chs);
            assert_true(i >= 0 && i < n);
            assert_int_equal(pos[i], -1); /* taken once */
            pos[i] = st->first + j;
        }
        if (st->kind == SL_STEP_ONE || st->kind == SL_STEP_TRUNCATE) {
            assert_int_equal(st->n, 1);
            continue;
        }
        assert_true(st->n >= m->set_min && st->n <= m->set_max);
        sl_change_op_t op = st->kind == SL_STEP_INSERT   ? SL_OP_INSERT
                            : st->kind == SL_STEP_UPDATE ? SL_OP_UPDATE
                                                         : SL_OP_DELETE;
        const sl_change_t *first = p->order[st->first];
        for (int j = 0; j < st->n; j++) {
            const sl_change_t *c = p->order[st->first + j];
            assert_int_equal(c->op, op);
            if (op == SL_OP_UPDATE) {
                assert_false(sl_apply_key_changes(t, c));
                assert_true(sl_apply_same_columns(first, c));
            }
            if (op == SL_OP_INSERT && !m->leveled)
                continue;
            for (int x = 0; x < j; x++) { /* distinct keys */
                const sl_change_t *d = p->order[st->first + x];
                const sl_value_t *ka = c->old ? c->old : c->row, *kb = d->old ? d->old : d->row;
                assert_false(ka[0].len == kb[0].len && !memcmp(ka[0].p, kb[0].p, (size_t)ka[0].len));
            }
        }
    }
    for (int i = 0; i < n; i++)
        assert_true(pos[i] >= 0); /* every change taken */
    /* two changes of one key, or anything and a TRUNCATE, keep their order */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            int ki[2], kj[2], ni = keys_of(t, i, ki), nj = keys_of(t, j, kj);
            bool tied = chs[i].op == SL_OP_TRUNCATE || chs[j].op == SL_OP_TRUNCATE;
            for (int a = 0; a < ni && !tied; a++)
                for (int b = 0; b < nj && !tied; b++)
                    tied = ki[a] == kj[b];
            if (tied && pos[i] > pos[j])
                fail_msg("changes %d and %d share a key and were swapped", i, j);
            if (!m->leveled && pos[i] > pos[j])
                fail_msg("an in-order plan swapped changes %d and %d", i, j);
        }
}

/* ---- cases ------------------------------------------------------------------------ */

static void test_levels_by_hand(void **state)
{
    (void)state;
    sl_table_t *t = table(1);
    sl_apply_plan_t p = {0};
    /* key 1: I U U D I; keys 2..5: one update each */
    int n = 0;
    mk(n++, SL_OP_INSERT, 1, -1, false);
    for (int k = 2; k <= 5; k++)
        mk(n++, SL_OP_UPDATE, k, -1, false);
    mk(n++, SL_OP_UPDATE, 1, -1, false);
    mk(n++, SL_OP_UPDATE, 1, -1, false);
    mk(n++, SL_OP_DELETE, 1, -1, false);
    mk(n++, SL_OP_INSERT, 1, -1, false);
    sl_apply_plan_build(&p, t, chs, n, &LEVELED);
    verify(t, n, &p, &LEVELED);
    /* level 1: the insert of 1 alone (no group of 3), the 4 updates as one group */
    assert_int_equal(p.steps[0].kind, SL_STEP_UPDATE);
    assert_int_equal(p.steps[0].n, 4);
    assert_int_equal(p.steps[1].kind, SL_STEP_ONE);
    assert_ptr_equal(p.order[p.steps[1].first], &chs[0]);
    assert_int_equal(p.nsteps, 6); /* then U, U, D, I of key 1, one each */
    sl_apply_plan_free(&p);
    sl_table_free(t);
}

static void test_key_change(void **state)
{
    (void)state;
    sl_table_t *t = table(1);
    sl_apply_plan_t p = {0};
    int n = 0;
    for (int k = 10; k < 14; k++)
        mk(n++, SL_OP_INSERT, k, -1, false);
    mk(n++, SL_OP_UPDATE, 10, 20, false); /* 10 -> 20 */
    mk(n++, SL_OP_INSERT, 10, -1, false); /* 10 again: after the key change */
    mk(n++, SL_OP_UPDATE, 20, -1, false); /* the moved row: after it too */
    sl_apply_plan_build(&p, t, chs, n, &LEVELED);
    verify(t, n, &p, &LEVELED);
    assert_true(sl_apply_key_changes(t, &chs[4]));
    assert_false(sl_apply_key_changes(t, &chs[6]));
    sl_apply_plan_free(&p);
    sl_table_free(t);
}

static void test_truncate_and_columns(void **state)
{
    (void)state;
    sl_table_t *t = table(1);
    sl_apply_plan_t p = {0};
    int n = 0;
    for (int k = 0; k < 4; k++)
        mk(n++, SL_OP_UPDATE, k, -1, k % 2 == 1); /* two column sets */
    mk(n++, SL_OP_TRUNCATE, 0, -1, false);
    for (int k = 0; k < 3; k++)
        mk(n++, SL_OP_INSERT, k, -1, false);
    sl_apply_plan_build(&p, t, chs, n, &LEVELED);
    verify(t, n, &p, &LEVELED);
    /* 2 + 2 updates: no group reaches 3, so four single steps, the truncate, a group */
    assert_int_equal(p.nsteps, 6);
    assert_int_equal(p.steps[4].kind, SL_STEP_TRUNCATE);
    assert_int_equal(p.steps[5].kind, SL_STEP_INSERT);
    assert_int_equal(p.steps[5].n, 3);
    sl_apply_plan_free(&p);
    sl_table_free(t);
}

static void test_in_order_runs(void **state)
{
    (void)state;
    sl_table_t *t = table(1);
    sl_apply_plan_t p = {0};
    int n = 0;
    for (int k = 0; k < 4; k++)
        mk(n++, SL_OP_DELETE, k, -1, false);
    mk(n++, SL_OP_DELETE, 1, -1, false); /* key 1 again: a new run */
    mk(n++, SL_OP_DELETE, 5, -1, false);
    mk(n++, SL_OP_DELETE, 6, -1, false);
    sl_apply_plan_build(&p, t, chs, n, &IN_ORDER);
    verify(t, n, &p, &IN_ORDER);
    assert_int_equal(p.nsteps, 2);
    assert_int_equal(p.steps[0].n, 4);
    assert_int_equal(p.steps[1].n, 3);
    /* a keyless table: deletes and updates one by one, inserts grouped */
    sl_table_t *k = table(0);
    n = 0;
    for (int i = 0; i < 4; i++)
        mk(n++, SL_OP_INSERT, i, -1, false);
    for (int i = 0; i < 4; i++) {
        mk(n, SL_OP_DELETE, i, -1, false);
        chs[n].old = rows[n]; /* a keyless delete carries the whole row */
        n++;
    }
    sl_apply_plan_build(&p, k, chs, n, &IN_ORDER);
    assert_int_equal(p.nsteps, 5);
    assert_int_equal(p.steps[0].kind, SL_STEP_INSERT);
    for (int s = 1; s < 5; s++)
        assert_int_equal(p.steps[s].kind, SL_STEP_ONE);
    sl_apply_plan_free(&p);
    sl_table_free(k);
    sl_table_free(t);
}

/* Random mixes over K keys, valid as a source would send them (an insert of an absent
 * key, an update or delete of a present one). */
static void random_mix(const sl_apply_mode_t *m, int nkeys, unsigned seed)
{
    sl_table_t *t = table(1);
    sl_apply_plan_t p = {0};
    srand(seed);
    for (int round = 0; round < 40; round++) {
        bool present[64] = {0};
        int n = 0;
        while (n < MAXCH) {
            int k = rand() % nkeys, r = rand() % 100;
            if (r < 2) {
                mk(n++, SL_OP_TRUNCATE, 0, -1, false);
                memset(present, 0, sizeof present);
            } else if (!present[k]) {
                mk(n++, SL_OP_INSERT, k, -1, false);
                present[k] = true;
            } else if (r < 30) {
                mk(n++, SL_OP_DELETE, k, -1, false);
                present[k] = false;
            } else if (r < 36) {
                int nk = rand() % nkeys;
                if (present[nk])
                    continue;
                mk(n++, SL_OP_UPDATE, k, nk, false);
                present[k] = false;
                present[nk] = true;
            } else {
                mk(n++, SL_OP_UPDATE, k, -1, r % 3 == 0);
            }
        }
        sl_apply_plan_build(&p, t, chs, n, m);
        verify(t, n, &p, m);
    }
    sl_apply_plan_free(&p);
    sl_table_free(t);
}

static void test_random_leveled(void **state)
{
    (void)state;
    random_mix(&LEVELED, 3, 1);  /* hot keys: many levels */
    random_mix(&LEVELED, 60, 2); /* few repeats: large groups */
}

static void test_random_in_order(void **state)
{
    (void)state;
    random_mix(&IN_ORDER, 3, 3);
    random_mix(&IN_ORDER, 60, 4);
}

/* ---- the hold --------------------------------------------------------------------- */

static void test_hold(void **state)
{
    (void)state;
    sl_table_t *a = table(1), *b = table(1), *c = table(1);
    sl_apply_hold_t h;
    sl_apply_hold_init(&h, 1000, 1u << 20);
    char buf[8] = "1";
    sl_value_t r[3] = {V(buf), V("b"), NUL_V};
    sl_change_t one = {.op = SL_OP_INSERT, .ncols = 3, .row = r};
    /* A A A B B A A B C B: A is movable, B and C are not */
    sl_change_t three[3] = {one, one, one};
    sl_apply_hold_add(&h, a, true, three, 3);
    sl_apply_hold_add(&h, b, false, three, 2);
    sl_apply_hold_add(&h, a, true, three, 2);
    sl_apply_hold_add(&h, b, false, three, 1);
    sl_apply_hold_add(&h, c, false, three, 1);
    sl_apply_hold_add(&h, b, false, three, 1);
    assert_int_equal(h.nq, 4);
    assert_ptr_equal(h.q[0].t, a);
    assert_int_equal(h.q[0].n, 5);
    assert_ptr_equal(h.q[1].t, b);
    assert_int_equal(h.q[1].n, 3); /* only the movable A came between */
    assert_ptr_equal(h.q[2].t, c);
    assert_ptr_equal(h.q[3].t, b);
    assert_int_equal(h.nchanges, 10);
    /* copies: the caller's buffer may change */
    strcpy(buf, "9");
    assert_int_equal(h.q[0].chs[0].row[0].len, 1);
    assert_memory_equal(h.q[0].chs[0].row[0].p, "1", 1);
    assert_int_equal(h.q[0].chs[0].row[2].len, -1);
    assert_false(sl_apply_hold_full(&h));
    /* bounded in changes */
    for (int i = 0; i < 330; i++)
        sl_apply_hold_add(&h, a, true, three, 3);
    assert_true(sl_apply_hold_full(&h));
    sl_apply_hold_reset(&h);
    assert_int_equal(h.nq, 0);
    assert_int_equal(h.nchanges, 0);
    assert_false(sl_apply_hold_full(&h));
    /* bounded in bytes: one large value */
    char *big = calloc(1, 2u << 20);
    memset(big, 'x', (2u << 20) - 1);
    sl_value_t rb[3] = {V("1"), V(big), NUL_V};
    sl_change_t cb = {.op = SL_OP_INSERT, .ncols = 3, .row = rb};
    sl_apply_hold_add(&h, a, true, &cb, 1);
    assert_true(sl_apply_hold_full(&h));
    assert_memory_equal(h.q[0].chs[0].row[1].p, big, (2u << 20) - 1);
    free(big);
    sl_apply_hold_free(&h);
    sl_table_free(a);
    sl_table_free(b);
    sl_table_free(c);
}

/* ---- merging ------------------------------------------------------------------------ */

static void test_merge(void **state)
{
    (void)state;
    sl_table_t *t = table(1);
    sl_apply_hold_t h;
    sl_apply_hold_init(&h, 1000, 1u << 20);
    sl_apply_plan_t p = {0};
    static const char *const b[] = {"b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9"};
    int n = 0;
    /* key 1: I U(c unchanged) U; key 2: U U D I U; key 3: U(3 -> 4) U(4); key 5: U T U */
    mk(n++, SL_OP_INSERT, 1, -1, false);
    mk(n++, SL_OP_UPDATE, 1, -1, true);
    mk(n++, SL_OP_UPDATE, 2, -1, false);
    mk(n++, SL_OP_UPDATE, 1, -1, false);
    mk(n++, SL_OP_UPDATE, 2, -1, true);
    mk(n++, SL_OP_DELETE, 2, -1, false);
    mk(n++, SL_OP_INSERT, 2, -1, false);
    mk(n++, SL_OP_UPDATE, 2, -1, true);
    mk(n++, SL_OP_UPDATE, 3, 4, false);
    mk(n++, SL_OP_UPDATE, 4, -1, false);
    mk(n++, SL_OP_UPDATE, 5, -1, false);
    mk(n++, SL_OP_TRUNCATE, 0, -1, false);
    mk(n++, SL_OP_UPDATE, 5, -1, false);
    for (int i = 0; i < n; i++)
        if (chs[i].row)
            rows[i][1] = V(b[i % 10]);
    sl_apply_hold_add(&h, t, true, chs, n);
    sl_apply_queue_t *q = &h.q[0];
    assert_int_equal(sl_apply_merge(&p, q), 4);
    assert_int_equal(q->n, n - 4);
    /* what is left, in order */
    static const struct { char op; const char *key, *b; bool c; } want[] = {
        {'I', "1", "b3", true}, /* I + U + U: the last b, c from the first update on */
        {'U', "2", "b4", true}, /* U + U: b from the second, c kept from the first */
        {'D', "2", NULL, false}, {'I', "2", "b7", true}, /* I + U (c unchanged: the insert's) */
        {'U', "4", "b8", true}, {'U', "4", "b9", true},  /* a key change takes nothing in */
        {'U', "5", "b0", true}, {'T', NULL, NULL, false}, {'U', "5", "b2", true},
    };
    assert_int_equal(q->n, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < q->n; i++) {
        const sl_change_t *c = &q->chs[i];
        assert_int_equal(c->op, want[i].op);
        if (want[i].key)
            assert_memory_equal((c->old && c->op != SL_OP_UPDATE ? c->old : c->row)[0].p,
                                want[i].key, strlen(want[i].key));
        if (want[i].b) {
            assert_int_equal(c->row[1].len, 2);
            assert_memory_equal(c->row[1].p, want[i].b, 2);
            assert_int_equal(c->row[2].len, want[i].c ? 1 : SL_VALUE_UNCHANGED);
        }
    }
    /* keyless: nothing merges */
    sl_apply_hold_reset(&h);
    sl_table_t *k = table(0);
    sl_apply_hold_add(&h, k, true, chs, 4);
    assert_int_equal(sl_apply_merge(&p, &h.q[0]), 0);
    sl_apply_plan_free(&p);
    sl_apply_hold_free(&h);
    sl_table_free(t);
    sl_table_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_by_hand), cmocka_unit_test(test_key_change),
        cmocka_unit_test(test_truncate_and_columns), cmocka_unit_test(test_in_order_runs),
        cmocka_unit_test(test_random_leveled), cmocka_unit_test(test_random_in_order),
        cmocka_unit_test(test_hold), cmocka_unit_test(test_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
