/*
 * cdc_copy.c: the reader side of copying tables beside the change stream (cdc_copy.h;
 * docs/cdc.md "Copying tables beside the stream" has the algorithm and its proofs).
 *
 * Per table, a copy has a generation ("cdc_copy" checkpoint: gen, done); a table whose
 * gen is past done is copying. Per lane, the reader keeps what the lane will have
 * applied of it (sl_cdc_lcopy_t): the same state the lane commits in its checkpoint,
 * updated by the same functions as the reader sends marks and rows. A session starts
 * from the lanes' checkpoints, so after a crash the reader knows exactly what each lane
 * committed.
 *
 * A copy goes: start marks (the first one empties the table) → chunks: an open mark
 * with the snapshot, the rows, an end mark with the last key; the window stays open
 * until the stream passes the snapshot's horizon → when every key is copied: the lanes
 * drain, "cdc_copy" records the generation done, clean marks, the table's indexes.
 *
 * What happens to a change of a table being copied (its key, on its lane):
 *   copied (at or below the lane's `after`)          applied
 *   in an open window (above `after`, up to `upto`)  applied iff the window's snapshot
 *                                                    did not see its transaction
 *   above                                            dropped: a later chunk reads it
 * An UPDATE that moves a row to another key is judged per half (delete the old key,
 * insert the new one); an insert half alone of a row with unchanged TOASTed values
 * (PostgreSQL sends no value for them) takes them from the old row when the source sent
 * it whole, else reads the row again in a snapshot of its own, whose changes are then
 * judged against that snapshot until its horizon (a one-key window). A TRUNCATE of a
 * table being copied starts its copy over.
 *
 * Work happens between transactions (sl_cdc_copy_tick, from the reader's stopping()):
 * at most one chunk per call, and never before the reader is past every lane's
 * checkpoint (a session replays what the lanes may already hold; nothing new is sent
 * where a lane would skip it). Thread: the reader's; the stats thread reads states
 * under `mu`, lanes report failures through sl_cdc_copy_failed().
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "engine/cdc_copy_int.h"

#define DXIDS_MAX 65536 /* transaction ids remembered between two snapshots */

const char *sl_cdc_tstate_name(sl_cdc_tstate_t s)
{
    static const char *const names[] = {"streaming", "copying", "failed", "removed"};
    return s >= 0 && s <= SL_CDC_T_REMOVED ? names[s] : "unknown";
}

/* ---- state ------------------------------------------------------------------------- */

static bool copying(const copy_table_t *T) { return T->gen.gen > T->gen.done && !atomic_load(&T->failed); }

static void recompute_horizon(sl_copy_t *cp, int lanes)
{
    cp->min_horizon = UINT64_MAX;
    for (int i = 0; i < cp->n; i++) {
        for (int j = 0; j < lanes; j++)
            if (cp->t[i].lane[j].win && cp->t[i].lane[j].snap.horizon < cp->min_horizon)
                cp->min_horizon = cp->t[i].lane[j].snap.horizon;
        for (int k = 0; k < cp->t[i].nkw; k++)
            if (cp->t[i].kw[k].snap.horizon < cp->min_horizon)
                cp->min_horizon = cp->t[i].kw[k].snap.horizon;
    }
}

/* Frees the tables' copy states (caller holds mu, or is alone). */
static void tables_free(sl_copy_t *cp, int lanes)
{
    for (int i = 0; i < cp->n; i++) {
        for (int j = 0; cp->t[i].lane && j < lanes; j++)
            sl_cdc_lcopy_clear(&cp->t[i].lane[j]);
        free(cp->t[i].lane);
        for (int k = 0; k < cp->t[i].nkw; k++) {
            sl_cdc_key_free(&cp->t[i].kw[k].key);
            sl_cdc_snap_clear(&cp->t[i].kw[k].snap);
        }
        free(cp->t[i].kw);
    }
    free(cp->t);
    cp->t = NULL;
    cp->n = 0;
}

void sl_cdc_copy_free(sl_cdc_run_t *cd)
{
    sl_copy_t *cp = cd->copy;
    if (!cp)
        return;
    tables_free(cp, cd->lanes);
    sl_source_close(cp->src);
    free(cp->xids);
    free(cp->vals);
    sl_buf_free(&cp->rowbuf);
    pthread_mutex_destroy(&cp->mu);
    free(cp);
    cd->copy = NULL;
}

/* Table i's state from the lanes' checkpoints. */
static int table_init(sl_cdc_run_t *cd, int i, json_t *const *lanes, copy_table_t *T, sl_err_t *err)
{
    const sl_table_t *t = cd->maps[i]->scan; /* the key as the copy reads it */
    sl_table_label(t, T->label, sizeof T->label);
    T->ordered = -1;
    T->lane = calloc((size_t)cd->lanes, sizeof *T->lane);
    if (!T->lane)
        sl_oom();
    if (sl_cdc_gen_get(cd->gens, T->label, &T->gen))
        return sl_err_set(err, SL_E_PROTOCOL, "checkpoint \"cdc_copy\" of stream \"%s\" is not valid (table \"%s\")",
                          cd->spec->name, T->label);
    for (int j = 0; j < cd->lanes; j++) {
        const json_t *e = lanes[j] ? json_object_get(lanes[j], T->label) : NULL;
        if (!e)
            continue;
        sl_cdc_lcopy_t *L = &T->lane[j];
        if (sl_cdc_lcopy_from_json(e, t, L))
            return sl_err_set(err, SL_E_PROTOCOL, "checkpoint \"cdc:%d\" of stream \"%s\" holds a copy state of "
                              "table \"%s\" that is not valid", j, cd->spec->name, T->label);
        if (L->fail && L->gen == T->gen.gen) {
            atomic_store(&T->failed, true);
            snprintf(T->error, sizeof T->error, "%s", L->fail);
        }
        if (L->gen == T->gen.gen)
            T->copied_base += L->rows;
    }
    if (T->gen.gen > T->gen.done && !atomic_load(&T->failed))
        sl_info("table \"%s\": copying (generation %" PRId64 ", %" PRId64 " rows copied so far)", T->label,
                T->gen.gen, T->copied_base);
    return 0;
}

int sl_cdc_copy_session(sl_cdc_run_t *cd, json_t *const *lanes, sl_err_t *err)
{
    sl_copy_t *cp = cd->copy;
    if (!cp) {
        if (!(cp = calloc(1, sizeof *cp)))
            sl_oom();
        pthread_mutex_init(&cp->mu, NULL);
        sl_buf_init(&cp->rowbuf, 1u << 30);
        /* published with release: the stats thread, already running, loads it with
         * acquire in sl_cdc_copy_state and must see the mutex initialized */
        __atomic_store_n(&cd->copy, cp, __ATOMIC_RELEASE);
    }
    if (!cd->gens)
        cd->gens = json_object();
    copy_table_t *t = calloc((size_t)cd->ntables + 1, sizeof *t);
    if (!t)
        sl_oom();
    int rc = 0;
    for (int i = 0; i < cd->ntables && !rc; i++)
        rc = table_init(cd, i, lanes, &t[i], err);
    /* the stats thread reads the states under mu */
    pthread_mutex_lock(&cp->mu);
    tables_free(cp, cd->lanes);
    cp->t = t;
    cp->n = cd->ntables;
    pthread_mutex_unlock(&cp->mu);
    cp->replay = (sl_pos_t){0, 0};
    for (int j = 0; j < cd->lanes; j++)
        if (sl_pos_cmp(cd->lane[j].committed, cp->replay) > 0)
            cp->replay = cd->lane[j].committed;
    cp->slot_last = (sl_pos_t){0, 0};
    cp->seen = 0;
    cp->nxids = 0;
    cp->retry_ms = 0;
    recompute_horizon(cp, cd->lanes);
    return rc;
}

sl_cdc_tstate_t sl_cdc_copy_state(sl_cdc_run_t *cd, int ti, int64_t *copied, char *error, size_t size)
{
    sl_copy_t *cp = __atomic_load_n(&cd->copy, __ATOMIC_ACQUIRE);
    *copied = -1;
    if (error && size)
        error[0] = '\0';
    if (!cp)
        return SL_CDC_T_STREAMING;
    pthread_mutex_lock(&cp->mu);
    if (ti < 0 || ti >= cp->n) {
        pthread_mutex_unlock(&cp->mu);
        return SL_CDC_T_STREAMING;
    }
    copy_table_t *T = &cp->t[ti];
    sl_cdc_tstate_t st = T->removed ? SL_CDC_T_REMOVED
                         : atomic_load(&T->failed) ? SL_CDC_T_FAILED
                         : T->gen.gen > T->gen.done ? SL_CDC_T_COPYING
                                                    : SL_CDC_T_STREAMING;
    if (st == SL_CDC_T_FAILED && error)
        snprintf(error, size, "%s", T->error);
    if (st == SL_CDC_T_COPYING)
        *copied = T->copied_base + atomic_load(&T->copied);
    pthread_mutex_unlock(&cp->mu);
    return st;
}

void sl_cdc_copy_failed(sl_cdc_run_t *cd, int ti, const char *why)
{
    sl_copy_t *cp = cd->copy;
    if (!cp || ti < 0 || ti >= cp->n)
        return;
    pthread_mutex_lock(&cp->mu);
    snprintf(cp->t[ti].error, sizeof cp->t[ti].error, "%s", why);
    atomic_store(&cp->t[ti].failed, true);
    pthread_mutex_unlock(&cp->mu);
}

/* ---- positions --------------------------------------------------------------------- */

sl_pos_t sl_cdc_copy_slot(sl_cdc_run_t *cd)
{
    sl_copy_t *cp = cd->copy;
    uint64_t e = cd->last_end;
    if (cd->empty_end > e)
        e = cd->empty_end;
    if (cp && cp->seen > e)
        e = cp->seen;
    uint64_t f = cd->ops && cd->ops->pos_next ? cd->ops->pos_next(e) : e;
    sl_pos_t p = {f ? f - 1 : 0, 0x80000000u};
    sl_pos_t floor = cp ? cp->slot_last : (sl_pos_t){0, 0};
    if (cp && sl_pos_cmp(cp->replay, floor) > 0) /* what a lane committed before this session */
        floor = cp->replay;
    /* (a lane that sent nothing yet stands at the session's start, where the next
     * transaction may begin: no slot fits before it, and none needs to) */
    for (int i = 0; i < cd->lanes; i++)
        if (cd->lane[i].sent_first && sl_pos_cmp(cd->lane[i].published, floor) > 0)
            floor = cd->lane[i].published;
    if (sl_pos_cmp(p, floor) <= 0)
        p = (sl_pos_t){floor.lsn, floor.idx + 1};
    if (cp)
        cp->slot_last = p;
    return p;
}

/* Whether new copy work may be sent now: past every lane's checkpoint. */
static bool past_replay(sl_cdc_run_t *cd)
{
    sl_copy_t *cp = cd->copy;
    uint64_t e = cd->last_end;
    if (cd->empty_end > e)
        e = cd->empty_end;
    if (cp->seen > e)
        e = cp->seen;
    uint64_t f = cd->ops->pos_next(e);
    return f && f - 1 >= cp->replay.lsn; /* then a slot past it exists (sl_cdc_copy_slot) */
}

static void close_windows(sl_cdc_run_t *cd, uint64_t at)
{
    sl_copy_t *cp = cd->copy;
    if (at < cp->min_horizon)
        return;
    for (int i = 0; i < cp->n; i++) {
        copy_table_t *T = &cp->t[i];
        for (int j = 0; j < cd->lanes; j++)
            if (T->lane[j].win && T->lane[j].snap.horizon <= at)
                sl_cdc_lcopy_close(&T->lane[j], cd->maps[i]->scan);
        for (int k = 0; k < T->nkw;)
            if (T->kw[k].snap.horizon <= at) {
                sl_cdc_key_free(&T->kw[k].key);
                sl_cdc_snap_clear(&T->kw[k].snap);
                T->kw[k] = T->kw[--T->nkw];
            } else {
                k++;
            }
    }
    recompute_horizon(cp, cd->lanes);
}

void sl_cdc_copy_begin(sl_cdc_run_t *cd, const sl_cdc_event_t *ev)
{
    sl_copy_t *cp = cd->copy;
    if (!cp)
        return;
    cp->cur_xid = ev->xid;
    if (cp->active && ev->xid) {
        if (cp->nxids == DXIDS_MAX) { /* the oldest are long visible to any new snapshot */
            memmove(cp->xids, cp->xids + DXIDS_MAX / 2, sizeof *cp->xids * (DXIDS_MAX / 2));
            cp->nxids = DXIDS_MAX / 2;
        }
        if (cp->nxids == cp->capxids) {
            cp->capxids = cp->capxids ? cp->capxids * 2 : 256;
            uint32_t *x = realloc(cp->xids, sizeof *x * (size_t)cp->capxids);
            if (!x)
                sl_oom();
            cp->xids = x;
        }
        cp->xids[cp->nxids++] = ev->xid;
    }
    /* a transaction at or past a horizon: no snapshot of those windows saw it */
    close_windows(cd, ev->xact_lsn);
}

void sl_cdc_copy_reached(sl_cdc_run_t *cd, uint64_t end)
{
    sl_copy_t *cp = cd->copy;
    if (!cp)
        return;
    if (end > cp->seen)
        cp->seen = end;
    close_windows(cd, cd->ops->pos_next(end));
}

/* ---- what to do with a change ------------------------------------------------------ */

/* Whether the change of table T at the key of `row` (a full row), on lane j, is applied:
 * the rule at the top of the file. */
static bool keep(sl_cdc_run_t *cd, copy_table_t *T, const sl_table_t *t, int j, const sl_value_t *row)
{
    sl_copy_t *cp = cd->copy;
    for (int k = 0; k < T->nkw; k++) /* a row read again, in a snapshot of its own */
        if (sl_cdc_key_cmp(t, row, &T->kw[k].key) == 0 &&
            sl_cdc_snap_sees(&T->kw[k].snap, cd->cur_lsn, cp->cur_xid))
            return false;
    const sl_cdc_lcopy_t *L = &T->lane[j];
    if (L->gen < T->gen.gen)
        return false; /* not started on this lane: its start empties the table */
    if (L->after_end)
        return true;
    if (!L->win_all && L->has_after && sl_cdc_key_cmp(t, row, &L->after) <= 0)
        return true;
    if (L->win && (L->win_all || L->upto_end || (L->has_upto && sl_cdc_key_cmp(t, row, &L->upto) <= 0)))
        return !sl_cdc_snap_sees(&L->snap, cd->cur_lsn, cp->cur_xid);
    return false;
}

static int lane_of(sl_cdc_run_t *cd, uint32_t table, const sl_value_t *row, int ncols)
{
    sl_change_t probe = {.op = SL_OP_INSERT, .table = table, .ncols = ncols, .row = row};
    return sl_cdc_reader_lane(cd, &probe);
}

static bool key_differs(const sl_table_t *t, const sl_value_t *a, const sl_value_t *b)
{
    for (int i = 0; i < sl_table_pk_count(t); i++) {
        const sl_value_t *x = &a[sl_table_pk_col(t, i)], *y = &b[sl_table_pk_col(t, i)];
        if (x->len != y->len || (x->len > 0 && memcmp(x->p, y->p, (size_t)x->len)))
            return true;
    }
    return false;
}

static int restart_copy(sl_cdc_run_t *cd, int ti, const char *why, sl_err_t *err);

int sl_cdc_copy_filter(sl_cdc_run_t *cd, const sl_change_t *c, sl_change_t *out, int *n, sl_err_t *err)
{
    sl_copy_t *cp = cd->copy;
    *n = 1;
    out[0] = *c;
    if (!cp || c->table >= (uint32_t)cp->n)
        return 0;
    copy_table_t *T = &cp->t[c->table];
    if (T->removed || atomic_load(&T->failed)) {
        *n = 0;
        return 0;
    }
    if (T->gen.gen <= T->gen.done)
        return 0;
    const sl_table_t *t = cd->maps[c->table]->scan; /* c has its columns (it is mapped) */
    bool replay = sl_pos_cmp(c->pos, cp->replay) <= 0;
    if (c->op == SL_OP_TRUNCATE) {
        *n = 0;
        return replay ? 0 : restart_copy(cd, (int)c->table, "it was truncated on the source", err);
    }
    bool keyless = sl_table_pk_count(t) == 0;
    const sl_value_t *oldk = c->old ? c->old : c->row; /* the key before the change */
    int j_old = keyless ? 0 : lane_of(cd, c->table, oldk, c->ncols);
    bool k_old = keep(cd, T, t, j_old, oldk);
    if (c->op != SL_OP_UPDATE || !c->old || !c->row || keyless || !key_differs(t, c->old, c->row)) {
        *n = k_old ? 1 : 0;
        return 0;
    }
    /* a row moves to another key: each half by its own key */
    bool k_new = keep(cd, T, t, lane_of(cd, c->table, c->row, c->ncols), c->row);
    if (k_old && k_new)
        return 0;
    if (!k_old && !k_new) {
        *n = 0;
        return 0;
    }
    if (k_old) {
        out[0] = (sl_change_t){.op = SL_OP_DELETE, .table = c->table, .pos = c->pos, .commit_us = c->commit_us,
                               .ncols = c->ncols, .old = c->old};
        return 0;
    }
    return sl_cdc_copy_insert_half(cd, T, t, c, out, n, err);
}

int sl_cdc_copy_schema(sl_cdc_run_t *cd, int ti, sl_err_t *err)
{
    sl_copy_t *cp = cd->copy;
    if (!cp || ti < 0 || ti >= cp->n || !copying(&cp->t[ti]))
        return 0;
    cp->t[ti].ordered = -1;
    return restart_copy(cd, ti, "its columns changed", err);
}

/* ---- marks -------------------------------------------------------------------------- */

int sl_cdc_copy_mark(sl_cdc_run_t *cd, int ti, int j, json_t *mark, sl_err_t *err)
{
    sl_copy_t *cp = cd->copy;
    copy_table_t *T = &cp->t[ti];
    bool trunc, clean;
    if (sl_cdc_lcopy_mark(&T->lane[j], cd->maps[ti]->scan, mark, &trunc, &clean)) {
        json_decref(mark);
        return sl_err_set(err, SL_E_INTERNAL, "a copy mark the reader cannot apply itself");
    }
    if (clean)
        sl_cdc_lcopy_clear(&T->lane[j]);
    char *text = json_dumps(mark, JSON_COMPACT);
    json_decref(mark);
    sl_value_t v = {text, (int64_t)strlen(text)};
    sl_change_t c = {.op = SL_OP_MARK, .table = (uint32_t)ti, .pos = sl_cdc_copy_slot(cd), .ncols = 1, .row = &v};
    int rc = sl_cdc_reader_put(cd, j, &c, err);
    free(text);
    recompute_horizon(cp, cd->lanes);
    return rc;
}

void sl_cdc_copy_windows_changed(sl_cdc_run_t *cd) { recompute_horizon(cd->copy, cd->lanes); }

int sl_cdc_copy_store_gens(sl_cdc_run_t *cd, sl_err_t *err)
{
    if (sl_cdc_admin(cd, err))
        return -1;
    char *text = json_dumps(cd->gens, JSON_COMPACT | JSON_SORT_KEYS);
    sl_ckpt_t ck = {.epoch = 0, .seq = 0, .position = text, .done = true};
    int rc = cd->admin->ops->ckpt_put(cd->admin, cd->spec->name, "cdc_copy", &ck, err);
    free(text);
    if (rc) {
        sl_err_prefix(err, "target: ");
        sl_cdc_admin_lost(cd);
    }
    return rc;
}

/* A new generation of table ti's copy (recorded before anything of it is sent). */
bool sl_cdc_copy_any(sl_cdc_run_t *cd)
{
    sl_copy_t *cp = cd->copy;
    for (int i = 0; cp && i < cp->n; i++)
        if (!cp->t[i].removed && copying(&cp->t[i]))
            return true;
    return false;
}

int sl_cdc_copy_new_gen(sl_cdc_run_t *cd, int ti, const char *rid, sl_err_t *err)
{
    sl_copy_t *cp = cd->copy;
    copy_table_t *T = &cp->t[ti];
    sl_cdc_gen_t g = T->gen;
    int64_t top = g.gen > g.done ? g.gen : g.done;
    g.gen = top + 1;
    if (rid)
        snprintf(g.rid, sizeof g.rid, "%s", rid);
    sl_cdc_gen_set(cd->gens, T->label, &g);
    if (sl_cdc_copy_store_gens(cd, err)) {
        sl_cdc_gen_set(cd->gens, T->label, &T->gen);
        return -1;
    }
    pthread_mutex_lock(&cp->mu);
    T->gen = g;
    T->copied_base = 0;
    atomic_store(&T->copied, 0);
    atomic_store(&T->failed, false);
    T->error[0] = '\0';
    pthread_mutex_unlock(&cp->mu);
    if (cd->streams_xacts) /* a copy needs whole transactions in commit order */
        sl_run_restart(&cd->run, "a table's copy starts: the session starts again without streaming transactions "
                                 "in progress");
    return 0;
}

static int restart_copy(sl_cdc_run_t *cd, int ti, const char *why, sl_err_t *err)
{
    sl_warn("table \"%s\": %s while it was being copied; its copy starts over", cd->copy->t[ti].label, why);
    return sl_cdc_copy_new_gen(cd, ti, NULL, err);
}

/* Start marks for the lanes that have not started generation gen; the first (lane 0)
 * empties the table, and no lane gets rows before that is committed. */
static int start_lanes(sl_cdc_run_t *cd, int ti, sl_err_t *err)
{
    copy_table_t *T = &cd->copy->t[ti];
    bool trunc = T->lane[0].gen < T->gen.gen;
    if (trunc && cd->lanes > 1 && !sl_cdc_drain(cd))
        return sl_err_set(err, SL_E_CANCELED, "the session is ending");
    for (int j = 0; j < cd->lanes; j++) {
        if (T->lane[j].gen >= T->gen.gen)
            continue;
        json_t *m = json_pack("{s:s, s:I, s:b}", "k", "start", "gen", (json_int_t)T->gen.gen, "trunc", j == 0 && trunc);
        if (sl_cdc_copy_mark(cd, ti, j, m, err))
            return -1;
        if (j == 0 && trunc && cd->lanes > 1 && !sl_cdc_drain(cd))
            return sl_err_set(err, SL_E_CANCELED, "the session is ending");
    }
    if (trunc)
        sl_info("table \"%s\": copy started (generation %" PRId64 "); its target table is emptied first", T->label,
                T->gen.gen);
    return 0;
}

/* ---- finishing a copy ---------------------------------------------------------------- */

static int finish(sl_cdc_run_t *cd, int ti, sl_err_t *err)
{
    sl_copy_t *cp = cd->copy;
    copy_table_t *T = &cp->t[ti];
    /* every row and mark of the copy is committed on every lane before it is done */
    if (!sl_cdc_drain(cd))
        return sl_err_set(err, SL_E_CANCELED, "the session is ending");
    sl_cdc_gen_t g = T->gen;
    g.done = g.gen;
    sl_cdc_gen_set(cd->gens, T->label, &g);
    if (sl_cdc_copy_store_gens(cd, err)) {
        sl_cdc_gen_set(cd->gens, T->label, &T->gen);
        return -1;
    }
    int64_t rows = T->copied_base + atomic_load(&T->copied);
    pthread_mutex_lock(&cp->mu);
    T->gen = g;
    pthread_mutex_unlock(&cp->mu);
    for (int j = 0; j < cd->lanes; j++)
        if (T->lane[j].gen && sl_cdc_copy_mark(cd, ti, j, json_pack("{s:s}", "k", "clean"), err))
            return -1;
    sl_info("table \"%s\": copied (%" PRId64 " rows); it streams from here on", T->label, rows);
    if (sl_cdc_admin(cd, err) || cd->admin->ops->finish_table(cd->admin, cd->maps[ti]->tgt, err)) {
        sl_err_prefix(err, "target: ");
        return -1;
    }
    bool all = true;
    for (int i = 0; i < cp->n; i++)
        all = all && (!copying(&cp->t[i]));
    if (all) {
        for (int i = 0; i < cp->n; i++)
            if (!cp->t[i].removed && cd->admin->ops->finish_fkeys(cd->admin, cd->maps[i]->tgt, err)) {
                sl_err_prefix(err, "target: ");
                return -1;
            }
        sl_info("every table is copied; foreign keys are in place");
    }
    return 0;
}

/* Lanes that hold a finished copy's state (a crash came between "cdc_copy" and the
 * clean marks): forget it. */
static int clean_stale(sl_cdc_run_t *cd, int ti, sl_err_t *err)
{
    copy_table_t *T = &cd->copy->t[ti];
    for (int j = 0; j < cd->lanes; j++)
        if (T->lane[j].gen && T->lane[j].gen <= T->gen.done &&
            sl_cdc_copy_mark(cd, ti, j, json_pack("{s:s}", "k", "clean"), err))
            return -1;
    return 0;
}

/* ---- the next step of one table's copy ------------------------------------------------ */

/* Test hook (tests/integration/cdc_tables.sh): with SLUICE_TEST_COPY_STEP=DIR a chunk
 * is read only when the file DIR/go exists, which it takes; DIR/chunks then counts the
 * chunks read. Compiled only into test builds (CMake option SLUICE_TEST_HOOKS, which
 * scripts/build.sh turns on): a release binary ignores the variable. */
#ifdef SLUICE_TEST_HOOKS
#include <unistd.h>
static bool test_may_read(void)
{
    const char *dir = getenv("SLUICE_TEST_COPY_STEP");
    char path[1024];
    if (!dir)
        return true;
    snprintf(path, sizeof path, "%s/go", dir);
    return unlink(path) == 0;
}

static void test_read(void)
{
    static int chunks;
    const char *dir = getenv("SLUICE_TEST_COPY_STEP");
    char path[1024];
    if (!dir)
        return;
    snprintf(path, sizeof path, "%s/chunks", dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "%d\n", ++chunks);
        fclose(f);
    }
}
#else
#define test_may_read() true
#define test_read() ((void)0)
#endif

/* 1: did something (one chunk at most per tick), 0: nothing to do now, -1: failed. */
static int step(sl_cdc_run_t *cd, int ti, sl_err_t *err)
{
    sl_copy_t *cp = cd->copy;
    copy_table_t *T = &cp->t[ti];
    bool started = true, open = false, end = true, touched = false;
    for (int j = 0; j < cd->lanes; j++) {
        const sl_cdc_lcopy_t *L = &T->lane[j];
        started = started && L->gen >= T->gen.gen;
        open = open || L->win;
        end = end && L->after_end;
        touched = touched || L->opens > 0;
    }
    if (!started)
        return start_lanes(cd, ti, err) ? -1 : 1;
    if (open)
        return 0; /* until the stream passes the window's horizon */
    if (end)
        return finish(cd, ti, err) ? -1 : 1;
    if (T->ordered < 0 && sl_cdc_copy_order(cd, ti, err))
        return -1;
    if (!T->ordered && touched) /* a piece cut short cannot resume */
        return restart_copy(cd, ti, "its copy in one piece was interrupted", err) ? -1 : 1;
    if (!test_may_read())
        return 0;
    int rc = sl_cdc_copy_chunk(cd, ti, err);
    if (rc > 0)
        test_read();
    return rc;
}

int sl_cdc_copy_tick(sl_cdc_run_t *cd, sl_err_t *err)
{
    sl_copy_t *cp = cd->copy;
    if (!cp || sl_run_stopping(&cd->run))
        return 0;
    if (sl_cdc_tables_pending(cd))
        return sl_cdc_tables_apply(cd, err);
    if (!past_replay(cd))
        return 0;
    int64_t now = sl_cdc_now_ms();
    if (now < cp->retry_ms)
        return 0;
    cp->active = false;
    for (int i = 0; i < cp->n; i++) {
        copy_table_t *T = &cp->t[i];
        if (T->removed)
            continue;
        if (T->gen.done >= T->gen.gen) {
            if (clean_stale(cd, i, err))
                return -1;
            continue;
        }
        if (atomic_load(&T->failed))
            continue;
        cp->active = true;
        int rc = step(cd, i, err);
        if (rc)
            return rc < 0 ? -1 : 0;
    }
    return 0;
}
