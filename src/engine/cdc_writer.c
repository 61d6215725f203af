/*
 * cdc_writer.c: the change stream's mode of the writer lanes (engine/lane.h). A lane
 * takes one change batch at a time and applies the changes it has not applied yet,
 * together with its lane checkpoint (last position, flush position), in one target
 * transaction before the lane acknowledges it (docs/design.md "Exactly once").
 *
 * A batch that refers to a spill (a source transaction larger than a batch: cdc_txn.c)
 * has the spill's changes applied first, read back from the broker (cdc_spill.c), in the
 * same target transaction.
 *
 * A change at or below the checkpoint is skipped (a redelivery, or a session that
 * restarted from an older confirmed position). A batch whose predecessor in the lane
 * was never committed (its `prev` is past the checkpoint: the broker lost a message)
 * is not applied: the session restarts from the source.
 *
 * What a lane needs of the stream: the tables (stored on the target as checkpoint
 * "cdc_tables", swapped under `schema` after a schema change) and the session's epoch;
 * and, in this process only, the reader's view of the positions it committed and of
 * the target being down (settled(), target_down()). A lane in another process would
 * learn the epoch and schema changes, and report its positions, through the broker.
 *
 * A target may make commits durable later than they return (the file target's change
 * files, stored when they rotate): after each batch, and between batches while it has
 * some waiting (or a drain asks for it), the lane asks the target which of its
 * checkpoints a crash would keep (ckpt_durable) and publishes that as its safe position
 * beside the committed one; the reader confirms nothing past it.
 *
 * Thread: one per lane; takes cd->run.mu only to publish its committed and safe
 * positions, and cd->schema shared while it applies.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "engine/cdc_copy_lane.h"
#include "engine/cdc_int.h"
#include "engine/reject.h"

/* Changes handed to apply_changes at once: as many as RUN_VALUES values allow (a change
 * takes room for a new and an old row), between RUN_MIN and RUN_MAX. A run of inserts is
 * one COPY, and PostgreSQL loads 4,096 rows in a dozen COPYs at about half the speed of
 * one COPY of 50,000 (measured with psql; docs/benchmarks.md). */
#define RUN_MIN 4096
#define RUN_MAX 65536
#define RUN_VALUES (1 << 19) /* 8 MB of sl_value_t per lane */

typedef enum { APPLIED, SKIPPED, GAP, LOST, FAILED } outcome_t;

typedef struct wstate {
    sl_cdc_run_t *cd;
    int lane;
    sl_target_t *tgt; /* during apply */
    sl_change_t *chs;
    int run_max;  /* capacity of chs */
    sl_value_t *vals;
    size_t vals_cap;
    int64_t *trows, *tbytes; /* monitoring: per table, applied in the open transaction */
    sl_cdc_wcopy_t copy;     /* copies beside the stream (engine/cdc_copy_lane.c) */
    int fail_table;          /* the table whose changes the target refused, -1: none */
    sl_rejects_t rj;  /* the open transaction's rejects (options.on_error, reject.h) */
    bool isolate;     /* the server refused this batch once: find the changes it refuses */
    /* what apply leaves for settled */
    int64_t napplied;
    int64_t *trejected; /* per table */
    sl_cbatch_hdr_t hdr;
    bool have_safe;
    sl_pos_t safe;
    uint64_t spill;              /* the spill the batch referred to */
    /* applying a spill */
    const sl_bus_msg_t *msg;     /* the lane's message, kept in progress */
    sl_cspill_cursor_t cur;
    sl_pos_t at;                 /* the checkpoint */
} wstate_t;

/* Monitoring: counts a run of n changes of one table as applied (once committed). */
static void count_run(wstate_t *w, int n)
{
    uint32_t t = w->chs[0].table;
    if (t >= (uint32_t)w->cd->ntstats)
        return;
    w->trows[t] += n;
    for (int i = 0; i < n; i++)
        w->tbytes[t] += (int64_t)sl_cbatch_change_size(&w->chs[i]);
}

/* Publishes the lane's committed position (pos, unless NULL) and, when have_safe, the
 * position a crash would keep (at most the committed one). */
static void set_committed(wstate_t *w, const sl_pos_t *pos, bool have_safe, sl_pos_t safe)
{
    sl_cdc_run_t *cd = w->cd;
    lane_t *l = &cd->lane[w->lane];
    pthread_mutex_lock(&cd->run.mu);
    if (pos && sl_pos_cmp(*pos, l->committed) > 0)
        l->committed = *pos;
    if (have_safe)
        l->safe = sl_pos_cmp(safe, l->committed) < 0 ? safe : l->committed;
    pthread_cond_broadcast(&cd->run.cv);
    pthread_mutex_unlock(&cd->run.mu);
}

/* The checkpoint of this lane a crash would keep, from the target's ckpt_durable (which
 * first stores what is due, everything when all), into *safe; *safe is `committed` for a
 * target whose commits are durable at once. False when the target could not store what it
 * spooled: that may be gone, never confirmed, so the session starts again from the
 * confirmed position. Between transactions, on the lane's thread. */
static bool durable_pos(wstate_t *w, sl_target_t *tgt, bool all, sl_pos_t committed, sl_pos_t *safe)
{
    sl_cdc_run_t *cd = w->cd;
    *safe = committed;
    if (!tgt || !tgt->ops->ckpt_durable)
        return true;
    char key[32];
    sl_cdc_lane_key(w->lane, key, sizeof key);
    sl_ckpt_t ck = {0};
    bool found = false;
    uint64_t flush;
    sl_err_t err = {0};
    *safe = (sl_pos_t){0, 0};
    if (tgt->ops->ckpt_durable(tgt, cd->spec->name, key, all, &ck, &found, &err)) {
        sl_warn("lane %d: could not store the changes the target spooled (%s); reading them again from the "
                "last confirmed position",
                w->lane, err.message);
        sl_run_restart(&cd->run, "the target could not store its spooled changes");
        sl_ckpt_clear(&ck);
        return false;
    }
    if (found && ck.position && sl_cdc_pos_parse(ck.position, safe, &flush))
        *safe = (sl_pos_t){0, 0};
    sl_ckpt_clear(&ck);
    return true;
}

static int max_cols(const sl_cdc_run_t *cd)
{
    int m = 1;
    for (int i = 0; i < cd->ntables; i++)
        if (cd->maps[i]->tgt->ncolumns > m)
            m = cd->maps[i]->tgt->ncolumns;
    return m;
}

/* A change's position in rejects: the packed form the lane checkpoints hold (the source's
 * own form needs the reader's connection, which is not this thread's). */
static const char *pos_text(void *ctx, sl_pos_t pos, char *buf, size_t size)
{
    (void)ctx;
    sl_lsn_format(pos.lsn, buf, size);
    return buf;
}

/* Applies the run w->chs[0..*n) of one table, with on_error in force (reject.h). */
static int flush_run(wstate_t *w, int *n, int64_t *napplied, sl_err_t *err)
{
    if (*n == 0)
        return 0;
    sl_cdc_run_t *cd = w->cd;
    uint32_t t = w->chs[0].table;
    if (sl_rejects_apply(&w->rj, w->tgt, cd->maps[t], (int)t, w->chs, *n, w->isolate, pos_text, cd, err)) {
        w->fail_table = (int)t;
        return -1;
    }
    *napplied += *n;
    count_run(w, *n);
    *n = 0;
    return 0;
}

/* Applies the changes of v after `after`, in runs of one table; cur: v is a part of a
 * spill, whose changes cur numbers and leaves out. */
static int apply_changes(wstate_t *w, sl_cbatch_view_t *v, sl_pos_t after, sl_cspill_cursor_t *cur,
                         int64_t *napplied, sl_err_t *err)
{
    sl_cdc_run_t *cd = w->cd;
    int cap = max_cols(cd);
    int run_max = RUN_VALUES / (2 * cap);
    run_max = run_max < RUN_MIN ? RUN_MIN : run_max > RUN_MAX ? RUN_MAX : run_max;
    size_t need = (size_t)run_max * 2 * (size_t)cap;
    if (need > w->vals_cap) {
        free(w->vals);
        w->vals = malloc(need * sizeof *w->vals);
        if (!w->vals)
            sl_oom();
        w->vals_cap = need;
    }
    if (run_max > w->run_max) {
        free(w->chs);
        if (!(w->chs = malloc((size_t)run_max * sizeof *w->chs)))
            sl_oom();
        w->run_max = run_max;
    }
    sl_cbatch_rewind(v);
    int n = 0;
    for (;;) {
        sl_value_t *row = w->vals + (size_t)n * 2 * (size_t)cap, *old = row + cap;
        int rc = sl_cbatch_next(v, &w->chs[n], row, old, cap, err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return flush_run(w, &n, napplied, err);
        sl_change_t *c = &w->chs[n];
        if (c->table >= (uint32_t)cd->ntables)
            return sl_err_set(err, SL_E_PROTOCOL, "a change batch names table %u, the stream has %d", c->table,
                              cd->ntables);
        int kept = cur ? sl_cspill_keep(cur, c) : 1;
        if (kept < 0)
            return sl_err_set(err, SL_E_PROTOCOL, "a spilled change out of order (%u)", c->pos.idx);
        if (!kept)
            continue; /* of a rolled-back subtransaction */
        if (sl_pos_cmp(c->pos, after) <= 0)
            continue; /* applied by an earlier delivery */
        int k = sl_cdc_wcopy_change(cd, &w->copy, c, w->tgt->ops->takes_copy_rows);
        if (k == 1)
            continue; /* its table stopped alone on this lane */
        if (k == 2) { /* a copy mark: after what is pending */
            sl_change_t mark = *c;
            if (flush_run(w, &n, napplied, err) || sl_cdc_wcopy_mark(cd, &w->copy, w->tgt, &mark, err))
                return -1;
            continue;
        }
        if (c->op != SL_OP_TRUNCATE && c->ncols != cd->maps[c->table]->tgt->ncolumns)
            return sl_err_set(err, SL_E_PROTOCOL,
                              "a change batch does not match the stream's tables (table %u, %d columns)",
                              c->table, c->ncols);
        if (n > 0 && c->table != w->chs[0].table) {
            /* a new table: apply the run so far first, then start over with this one */
            sl_change_t keep = *c;
            if (flush_run(w, &n, napplied, err))
                return -1;
            /* move the pending change (and its values) to slot 0 */
            sl_value_t *dst = w->vals;
            if (keep.row) {
                memmove(dst, keep.row, (size_t)cap * sizeof *dst);
                keep.row = dst;
            }
            if (keep.old) {
                memmove(dst + cap, keep.old, (size_t)cap * sizeof *dst);
                keep.old = dst + cap;
            }
            w->chs[0] = keep;
            n = 1;
            continue;
        }
        n++;
        if (n == run_max && flush_run(w, &n, napplied, err))
            return -1;
    }
}

static int apply_part(void *ctx, sl_cbatch_view_t *part, sl_err_t *err)
{
    wstate_t *w = ctx;
    return apply_changes(w, part, w->at, &w->cur, &w->napplied, err);
}

static outcome_t apply_once(wstate_t *w, sl_cbatch_view_t *v, int64_t *napplied, sl_err_t *err)
{
    sl_cdc_run_t *cd = w->cd;
    sl_target_t *tgt = w->tgt;
    char key[32];
    sl_cdc_lane_key(w->lane, key, sizeof key);
    sl_ckpt_t ck = {0};
    bool found = false;
    sl_pos_t at = {0, 0};
    uint64_t flush = 0;
    *napplied = 0;
    for (int i = 0; i < cd->ntstats; i++)
        w->trows[i] = w->tbytes[i] = 0;
    sl_rejects_reset(&w->rj);
    if (tgt->ops->begin(tgt, err))
        return FAILED;
    if (tgt->ops->ckpt_get(tgt, cd->spec->name, key, &ck, &found, err))
        goto fail;
    if (found && ck.position && sl_cdc_pos_parse(ck.position, &at, &flush)) {
        sl_err_set(err, SL_E_PROTOCOL, "checkpoint \"%s\" of stream \"%s\" is not a change position: %s", key,
                   cd->spec->name, ck.position);
        sl_err_hint(err, "the checkpoint table was changed by hand; run with --restart to copy again");
        err->fatal = true;
        goto fail;
    }
    if (found && sl_pos_cmp(v->hdr.last, at) <= 0) {
        tgt->ops->rollback(tgt);
        sl_ckpt_clear(&ck);
        return SKIPPED;
    }
    if (sl_cdc_wcopy_load(cd, &w->copy, found ? ck.position : NULL, err)) {
        err->fatal = true;
        goto fail;
    }
    if (!(v->hdr.flags & SL_CBATCH_FIRST) && (!found || sl_pos_cmp(at, v->hdr.prev) < 0)) {
        tgt->ops->rollback(tgt);
        sl_ckpt_clear(&ck);
        return GAP;
    }
    if (v->hdr.flags & SL_CBATCH_SPILLED) {
        w->at = at;
        sl_cspill_cursor_init(&w->cur, &v->ref);
        int rc = sl_cdc_spill_each(cd, w->lane, &v->ref, w->msg, apply_part, w, err);
        if (rc > 0) {
            tgt->ops->rollback(tgt);
            sl_ckpt_clear(&ck);
            return LOST;
        }
        if (rc)
            goto fail;
    }
    if (v->hdr.nchanges && apply_changes(w, v, at, NULL, napplied, err))
        goto fail;
    if (sl_rejects_write(&w->rj, tgt, NULL, err))
        goto fail;
    char *pos = sl_cdc_wcopy_position(cd, &w->copy, v->hdr.last, v->hdr.flush > flush ? v->hdr.flush : flush);
    sl_ckpt_t next = {.epoch = (int64_t)v->hdr.epoch, .seq = ck.seq + 1, .position = pos, .done = false};
    int rc = tgt->ops->ckpt_put(tgt, cd->spec->name, key, &next, err);
    free(pos);
    if (rc)
        goto fail;
    if (tgt->ops->commit(tgt, err))
        goto fail_committed;
    sl_ckpt_clear(&ck);
    return APPLIED;
fail:
    tgt->ops->rollback(tgt);
fail_committed:
    sl_ckpt_clear(&ck);
    return FAILED;
}

/* apply_once; when the target refused a change: again isolating the changes it refuses
 * when options.on_error rejects them (reject.h), and again without the table whose
 * changes it still refuses when that table may stop alone (options.table_errors
 * "stop_table", engine/cdc_copy_lane.c). Rejects come first: a table stops alone only
 * on what on_error does not take (e.g. a row missing from the target). */
static outcome_t apply(wstate_t *w, sl_cbatch_view_t *v, int64_t *napplied, sl_err_t *err)
{
    w->isolate = false;
    for (;;) {
        w->fail_table = -1;
        outcome_t o = apply_once(w, v, napplied, err);
        if (o == FAILED && !w->isolate && sl_rejects_isolable(&w->rj, err)) {
            sl_debug("lane %d: the target refused a change (%s); finding it", w->lane, err->message);
            w->isolate = true;
            *err = (sl_err_t){0};
            continue;
        }
        if (o == FAILED && w->fail_table < 0) /* raised by held changes, at the checkpoint */
            w->fail_table = sl_cdc_wcopy_blame(w->cd, err);
        if (o != FAILED || !sl_cdc_wcopy_fail(w->cd, &w->copy, w->fail_table, err))
            return o;
        *err = (sl_err_t){0};
    }
}

static void *lane_open(void *mode, int lane)
{
    sl_cdc_run_t *cd = mode;
    wstate_t *w = calloc(1, sizeof *w);
    if (!w || !(w->trows = calloc((size_t)cd->ntstats + 1, sizeof *w->trows)) ||
        !(w->tbytes = calloc((size_t)cd->ntstats + 1, sizeof *w->tbytes)) ||
        !(w->trejected = calloc((size_t)cd->ntstats + 1, sizeof *w->trejected)))
        sl_oom();
    w->cd = cd;
    w->lane = lane;
    sl_cdc_wcopy_init(&w->copy, cd->ntables);
    sl_rejects_init(&w->rj, cd->spec->name, cd->spec->opt.on_error == SL_ON_ERROR_REJECT, cd->ntables);
    return w;
}

static void lane_close(void *state)
{
    wstate_t *w = state;
    free(w->chs);
    free(w->vals);
    free(w->trows);
    free(w->tbytes);
    sl_cdc_wcopy_free(&w->copy);
    free(w->trejected);
    sl_rejects_free(&w->rj);
    free(w);
}

static bool lane_more(void *state)
{
    sl_cdc_run_t *cd = ((wstate_t *)state)->cd;
    return !atomic_load(&cd->session_over) && !atomic_load(&cd->run.failed) && !atomic_load(&cd->run.restart);
}

static bool lane_ending(void *state) { return atomic_load(&((wstate_t *)state)->cd->session_over); }

/* The reader lets go of the source when the target has been down a while. */
static void lane_target_down(void *state, bool down)
{
    sl_cdc_run_t *cd = ((wstate_t *)state)->cd;
    int64_t none = 0;
    if (down)
        atomic_compare_exchange_strong(&cd->target_down_ms, &none, sl_cdc_now_ms());
    else
        atomic_store(&cd->target_down_ms, 0);
}

static sl_lane_verdict_t lane_apply(void *state, sl_target_t *tgt, const sl_bus_msg_t *msg, sl_err_t *err)
{
    wstate_t *w = state;
    sl_cdc_run_t *cd = w->cd;
    sl_cbatch_view_t v;
    if (sl_cbatch_decode(sl_bus_msg_data(msg), sl_bus_msg_len(msg), &v, err)) {
        sl_err_hint(err, "the broker stream holds data that is not sluice's; run again");
        return SL_LANE_REFUSED;
    }
    if (v.hdr.epoch != cd->epoch || v.hdr.lane != (uint32_t)w->lane)
        return SL_LANE_DROPPED; /* a batch of an earlier session: that session's data is read again */
    w->tgt = tgt;
    w->hdr = v.hdr;
    w->spill = (v.hdr.flags & SL_CBATCH_SPILLED) ? v.ref.id : 0;
    w->msg = msg;
    pthread_rwlock_rdlock(&cd->schema);
    sl_cdc_wcopy_batch(&w->copy);
    outcome_t o = apply(w, &v, &w->napplied, err);
    for (int i = 0; i < cd->ntstats; i++)
        w->trejected[i] = o == APPLIED && i < w->rj.ntables ? w->rj.counts[i] : 0;
    sl_rejects_reset(&w->rj);
    pthread_rwlock_unlock(&cd->schema);
    w->tgt = NULL;
    w->msg = NULL;
    /* what of it a crash would keep, for settled (the ack does not wait for it) */
    if (o == APPLIED || o == SKIPPED)
        w->have_safe = durable_pos(w, tgt, atomic_load(&cd->want_durable), v.hdr.last, &w->safe);
    switch (o) {
    case APPLIED:
        return SL_LANE_APPLIED;
    case SKIPPED:
        return SL_LANE_SKIPPED;
    case GAP:
        sl_warn("lane %d: a change batch before position %" PRIX64 ":%u never arrived; reading again "
                "from the last confirmed position",
                w->lane, v.hdr.last.lsn, v.hdr.last.idx);
        sl_run_restart(&cd->run, "a change batch was lost");
        return SL_LANE_DROPPED;
    case LOST:
        sl_run_restart(&cd->run, "a spilled part of a transaction was lost");
        return SL_LANE_DROPPED;
    case FAILED:
        break;
    }
    return SL_LANE_FAILED;
}

/* After the ack: the figures, and the committed position the reader confirms from. */
static void lane_settled(void *state, sl_lane_verdict_t verdict)
{
    wstate_t *w = state;
    sl_cdc_run_t *cd = w->cd;
    if (verdict == SL_LANE_DROPPED)
        return;
    if (w->spill)
        sl_cdc_spill_drop(cd, w->spill); /* its transaction is committed */
    if (verdict == SL_LANE_APPLIED) {
        sl_cdc_wcopy_settled(cd, &w->copy);
        atomic_fetch_add(&cd->changes_applied, w->napplied);
        for (int i = 0; i < cd->ntstats; i++) {
            if (w->trejected[i])
                atomic_fetch_add(&cd->tstats[i].rows_rejected, w->trejected[i]);
            if (w->trows[i])
                atomic_fetch_add(&cd->tstats[i].rows_written, w->trows[i] - w->trejected[i]);
            if (w->tbytes[i])
                atomic_fetch_add(&cd->tstats[i].bytes_written, w->tbytes[i]);
        }
        if (w->hdr.flags & SL_CBATCH_HEARTBEAT) {
            /* sent only when nothing was pending: caught up (its commit time is the last
             * transaction's, which would make an idle stream look late) */
            atomic_store(&cd->lag_us, 0);
        } else if (w->hdr.commit_us > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
            atomic_store(&cd->lag_us, now > w->hdr.commit_us ? now - w->hdr.commit_us : 0);
        }
    }
    set_committed(w, &w->hdr.last, w->have_safe, w->safe);
}

/* Between batches (a fetch found none): a target that spools committed changes stores
 * them once they are due (at once while a drain waits), and the lane publishes what is
 * durable then. */
static void lane_idle(void *state, sl_target_t *tgt)
{
    wstate_t *w = state;
    sl_cdc_run_t *cd = w->cd;
    if (!tgt->ops->ckpt_durable)
        return;
    bool all = atomic_load(&cd->want_durable);
    pthread_mutex_lock(&cd->run.mu);
    sl_pos_t committed = cd->lane[w->lane].committed;
    bool held = sl_pos_cmp(cd->lane[w->lane].safe, committed) < 0;
    pthread_mutex_unlock(&cd->run.mu);
    sl_pos_t safe;
    if ((all || held) && durable_pos(w, tgt, all, committed, &safe))
        set_committed(w, NULL, true, safe);
}

const sl_lane_ops_t sl_cdc_lane_ops = {
    .open = lane_open,
    .close = lane_close,
    .apply = lane_apply,
    .settled = lane_settled,
    .more = lane_more,
    .ending = lane_ending,
    .target_down = lane_target_down,
    .idle = lane_idle,
};
