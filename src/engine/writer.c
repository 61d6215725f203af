/*
 * writer.c: the load's mode of the writer lanes (engine/lane.h). A lane applies a batch
 * together with its stripe's checkpoint in one target transaction before the lane
 * acknowledges it (docs/design.md "Exactly once", step 3).
 *
 * The checkpoint of a stripe is (epoch, seq, last key, done). A batch of an older
 * epoch, or at or below the checkpoint's seq, was applied already (or belongs to a
 * dead run) and is skipped; a batch that is not the next one expected is handed back
 * (Nak with delay) so that a later batch can never be applied before an earlier one.
 *
 * What a lane needs of the load: the plan (tables and stripe count, stored on the
 * target as checkpoint "plan"), and, in this process only, the stripe counts and the
 * in-flight window it reports to (settled()). A lane on a worker (place.c) reads the
 * plan from the target and reports its figures over NATS; the owner then counts the
 * stripes done from the checkpoints and the window from the broker stream.
 *
 * Thread: one per lane; takes ld->run.mu only to release in-flight slots.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "engine/load_int.h"
#include "engine/reject.h"

#define OUT_OF_ORDER_MAX 100 /* deliveries of a batch whose predecessor never comes */

/* One lane's state: the load, and what apply leaves for settled. */
typedef struct wstate {
    load_t *ld;
    uint32_t table, nrows;
    size_t len;
    bool stripe_done;
    sl_rejects_t rj;     /* the open transaction's rejects (options.on_error) */
    int64_t rejected;    /* what apply leaves for settled */
} wstate_t;

static void *lane_open(void *mode, int lane)
{
    (void)lane;
    wstate_t *w = calloc(1, sizeof *w);
    if (!w)
        sl_oom();
    w->ld = mode;
    sl_rejects_init(&w->rj, w->ld->spec->name, w->ld->spec->opt.on_error == SL_ON_ERROR_REJECT, w->ld->plan.ntables);
    return w;
}

static void lane_close(void *state)
{
    wstate_t *w = state;
    sl_rejects_free(&w->rj);
    free(w);
}

static bool lane_more(void *state)
{
    load_t *ld = ((wstate_t *)state)->ld;
    return !sl_run_stopping(&ld->run) && atomic_load(&ld->stripes_left) > 0;
}

/* The batch against its stripe's checkpoint, in one transaction, with its rejects
 * (isolate: the server refused the batch before, reject.h). */
static sl_lane_verdict_t apply_batch(wstate_t *w, sl_target_t *tgt, sl_batch_view_t *v, bool isolate,
                                     sl_err_t *err)
{
    load_t *ld = w->ld;
    bool *stripe_done = &w->stripe_done;
    const sl_map_t *m = ld->plan.maps[v->hdr.table];
    const sl_table_t *t = m->tgt;
    sl_rejects_reset(&w->rj);
    char key[32];
    sl_load_stripe_key((int)v->hdr.stripe, key, sizeof key);
    sl_ckpt_t ck = {0};
    bool found = false;
    *stripe_done = false;
    if (tgt->ops->begin(tgt, err))
        return SL_LANE_FAILED;
    if (tgt->ops->ckpt_get(tgt, ld->spec->name, key, &ck, &found, err))
        goto fail;
    int64_t epoch = (int64_t)v->hdr.epoch, seq = (int64_t)v->hdr.seq;
    if (found && (ck.done || epoch < ck.epoch || (epoch == ck.epoch && seq <= ck.seq))) {
        tgt->ops->rollback(tgt);
        sl_ckpt_clear(&ck);
        return SL_LANE_SKIPPED;
    }
    if ((found && epoch == ck.epoch && seq != ck.seq + 1) || ((!found || epoch > ck.epoch) && seq != 1)) {
        tgt->ops->rollback(tgt);
        sl_ckpt_clear(&ck);
        return SL_LANE_LATER;
    }
    if ((v->hdr.flags & SL_BATCH_RESET) && tgt->ops->delete_all(tgt, t, err))
        goto fail;
    char where[64];
    snprintf(where, sizeof where, "load chunk %u, batch %u", v->hdr.stripe, v->hdr.seq);
    if (v->hdr.nrows && sl_rejects_write_rows(&w->rj, tgt, m, (int)v->hdr.table, v, where, isolate, err))
        goto fail;
    /* a keyless stripe done again takes its table's rejects with its rows */
    bool reset = (v->hdr.flags & SL_BATCH_RESET) && w->rj.reject;
    if (sl_rejects_write(&w->rj, tgt, reset ? m->label : NULL, err))
        goto fail;
    sl_ckpt_t next = {.epoch = epoch, .seq = seq, .done = (v->hdr.flags & SL_BATCH_LAST) != 0};
    char *pos = NULL;
    if (v->last_key_len) {
        pos = malloc(v->last_key_len + 1);
        if (!pos)
            sl_oom();
        memcpy(pos, v->last_key, v->last_key_len);
        pos[v->last_key_len] = '\0';
        next.position = pos;
    } else {
        next.position = ck.position; /* an empty batch keeps the last key */
    }
    int rc = tgt->ops->ckpt_put(tgt, ld->spec->name, key, &next, err);
    free(pos);
    if (rc)
        goto fail;
    if (tgt->ops->commit(tgt, err))
        goto fail_committed;
    sl_ckpt_clear(&ck);
    *stripe_done = next.done;
    return SL_LANE_APPLIED;
fail:
    tgt->ops->rollback(tgt);
fail_committed:
    sl_ckpt_clear(&ck);
    return SL_LANE_FAILED;
}

static sl_lane_verdict_t lane_apply(void *state, sl_target_t *tgt, const sl_bus_msg_t *msg, sl_err_t *err)
{
    wstate_t *w = state;
    load_t *ld = w->ld;
    sl_batch_view_t v;
    if (sl_batch_decode(sl_bus_msg_data(msg), sl_bus_msg_len(msg), &v, err) ||
        v.hdr.table >= (uint32_t)ld->plan.ntables || (int)v.hdr.stripe >= ld->plan.nstripes ||
        v.hdr.ncols != (uint32_t)ld->plan.tables[v.hdr.table]->ncolumns) {
        if (!err->message[0])
            sl_err_set(err, SL_E_PROTOCOL, "a batch does not match the load plan");
        sl_err_hint(err, "the broker stream holds data of another load; run again with --restart");
        return SL_LANE_REFUSED;
    }
    atomic_fetch_add(&ld->busy, 1);
    sl_lane_verdict_t o = apply_batch(w, tgt, &v, false, err);
    if (o == SL_LANE_FAILED && sl_rejects_isolable(&w->rj, err)) {
        sl_debug("chunk %u, batch %u: the target refused a row (%s); finding it", v.hdr.stripe, v.hdr.seq,
                 err->message);
        o = apply_batch(w, tgt, &v, true, err);
    }
    w->rejected = o == SL_LANE_APPLIED ? w->rj.counts[v.hdr.table] : 0;
    sl_rejects_reset(&w->rj);
    atomic_fetch_sub(&ld->busy, 1);
    if (o == SL_LANE_LATER && sl_bus_msg_delivered(msg) > OUT_OF_ORDER_MAX) {
        sl_err_set(err, SL_E_BROKER, "batch %u of stripe %u never arrived after batch %u was delivered",
                   v.hdr.seq - 1, v.hdr.stripe, v.hdr.seq);
        sl_err_detail(err, "the broker lost a message; nothing was applied out of order");
        sl_err_hint(err, "run the same command again: it resumes from the target's checkpoints");
        return SL_LANE_REFUSED;
    }
    w->table = v.hdr.table;
    w->nrows = v.hdr.nrows;
    w->len = v.len;
    return o;
}

/* After the ack: the figures, the stripe count, and a slot of the in-flight window. */
static void lane_settled(void *state, sl_lane_verdict_t verdict)
{
    wstate_t *w = state;
    load_t *ld = w->ld;
    atomic_fetch_add(&ld->moves, 1);
    if (verdict == SL_LANE_APPLIED) {
        table_stats_t *ts = &ld->ts[w->table];
        atomic_fetch_add(&ts->rows_written, (int64_t)w->nrows - w->rejected);
        atomic_fetch_add(&ts->rows_rejected, w->rejected);
        atomic_fetch_add(&ts->bytes_written, (int64_t)w->len);
        if (w->stripe_done && !ld->remote) { /* else counted from the checkpoints (place.c) */
            atomic_fetch_sub(&ts->stripes_left, 1);
            atomic_fetch_sub(&ld->stripes_left, 1);
        }
    }
    pthread_mutex_lock(&ld->run.mu);
    if (ld->inflight > 0)
        ld->inflight--;
    pthread_cond_broadcast(&ld->run.cv);
    pthread_mutex_unlock(&ld->run.mu);
}

const sl_lane_ops_t sl_load_lane_ops = {
    .open = lane_open,
    .close = lane_close,
    .apply = lane_apply,
    .settled = lane_settled,
    .more = lane_more,
};
