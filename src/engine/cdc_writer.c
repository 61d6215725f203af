/*
 * cdc_writer.c: writer lanes of a cdc stream. Each lane owns one target connection
 * and one pull subscription, takes one change batch at a time and applies the changes
 * it has not applied yet, together with its lane checkpoint (last position, flush
 * position), in one target transaction before acknowledging (docs/design.md "Exactly once").
 *
 * A change at or below the checkpoint is skipped (a redelivery, or a session that
 * restarted from an older confirmed position). A batch whose predecessor in the lane
 * was never committed (its `prev` is past the checkpoint: the broker lost a message)
 * is not applied: the session restarts from the source.
 *
 * A target may make commits durable later than they return (the file target's change
 * files, stored when they rotate): after each batch, and between batches while it has
 * some waiting (or a drain asks for it), the lane asks the target which of its
 * checkpoints a crash would keep and publishes that as its safe position; the reader
 * confirms nothing past it.
 *
 * Thread: one per lane; takes cd->mu only to publish its committed and safe positions.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "engine/cdc_int.h"

/* Changes handed to apply_changes at once: as many as RUN_VALUES values allow (a change
 * takes room for a new and an old row), between RUN_MIN and RUN_MAX. A run of inserts is
 * one COPY, and PostgreSQL loads 4,096 rows in a dozen COPYs at about half the speed of
 * one COPY of 50,000 (measured with psql; docs/benchmarks.md). */
#define RUN_MIN 4096
#define RUN_MAX 65536
#define RUN_VALUES (1 << 19) /* 8 MB of sl_value_t per lane */

typedef enum { APPLIED, SKIPPED, GAP, FAILED } outcome_t;

typedef struct wstate {
    cdc_t *cd;
    int lane;
    sl_target_t *tgt;
    sl_change_t *chs;
    int run_max;  /* capacity of chs */
    sl_value_t *vals;
    size_t vals_cap;
    int64_t *trows, *tbytes; /* monitoring: per table, applied in the open transaction */
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

/* Publishes the lane's committed position (pos, or what it has when pos is NULL) and
 * the position a crash would keep: the committed one, or what the target's
 * ckpt_durable says (all: store everything it spools first). */
static void set_committed(wstate_t *w, const sl_pos_t *pos, bool all)
{
    cdc_t *cd = w->cd;
    lane_t *l = &cd->lane[w->lane];
    pthread_mutex_lock(&cd->mu);
    if (pos && sl_pos_cmp(*pos, l->committed) > 0)
        l->committed = *pos;
    sl_pos_t committed = l->committed, safe = committed;
    pthread_mutex_unlock(&cd->mu);
    bool known = true;
    if (w->tgt && w->tgt->ops->ckpt_durable) {
        char key[32];
        sl_cdc_lane_key(w->lane, key, sizeof key);
        sl_ckpt_t ck = {0};
        bool found = false;
        uint64_t flush;
        sl_err_t err = {0};
        safe = (sl_pos_t){0, 0};
        if (w->tgt->ops->ckpt_durable(w->tgt, cd->spec->name, key, all, &ck, &found, &err)) {
            /* the spooled changes may be gone: they were never confirmed, so a new
             * session reads them again */
            sl_warn("lane %d: could not store the changes the target spooled (%s); reading them again from the "
                    "last confirmed position",
                    w->lane, err.message);
            atomic_store(&cd->restart_why, "the target could not store its spooled changes");
            atomic_store(&cd->restart, true);
            known = false;
        } else if (found && ck.position && sl_cdc_pos_parse(ck.position, &safe, &flush)) {
            safe = (sl_pos_t){0, 0};
        }
        sl_ckpt_clear(&ck);
    }
    pthread_mutex_lock(&cd->mu);
    if (known)
        l->safe = sl_pos_cmp(safe, l->committed) < 0 ? safe : l->committed;
    pthread_cond_broadcast(&cd->cv);
    pthread_mutex_unlock(&cd->mu);
}

/* Between batches: whether the target holds committed changes not durable yet. */
static bool held(wstate_t *w)
{
    cdc_t *cd = w->cd;
    pthread_mutex_lock(&cd->mu);
    bool h = sl_pos_cmp(cd->lane[w->lane].safe, cd->lane[w->lane].committed) < 0;
    pthread_mutex_unlock(&cd->mu);
    return h;
}

static int max_cols(const cdc_t *cd)
{
    int m = 1;
    for (int i = 0; i < cd->ntables; i++)
        if (cd->tables[i]->ncolumns > m)
            m = cd->tables[i]->ncolumns;
    return m;
}

/* Applies the changes of v after `after`, in runs of one table. */
static int apply_changes(wstate_t *w, sl_cbatch_view_t *v, sl_pos_t after, int64_t *napplied,
                         sl_err_t *err)
{
    cdc_t *cd = w->cd;
    int cap = max_cols(cd);
    int run_max = RUN_VALUES / (2 * cap);
    run_max = run_max < RUN_MIN ? RUN_MIN : run_max > RUN_MAX ? RUN_MAX : run_max;
    size_t need = (size_t)run_max * 2 * (size_t)cap;
    if (need > w->vals_cap) {
        free(w->vals);
        w->vals = malloc(need * sizeof *w->vals);
        if (!w->vals)
            abort();
        w->vals_cap = need;
    }
    if (run_max > w->run_max) {
        free(w->chs);
        if (!(w->chs = malloc((size_t)run_max * sizeof *w->chs)))
            abort();
        w->run_max = run_max;
    }
    sl_cbatch_rewind(v);
    int n = 0;
    for (;;) {
        sl_value_t *row = w->vals + (size_t)n * 2 * (size_t)cap, *old = row + cap;
        int rc = sl_cbatch_next(v, &w->chs[n], row, old, cap, err);
        if (rc < 0)
            return -1;
        bool flush = rc == 0;
        if (rc == 1) {
            sl_change_t *c = &w->chs[n];
            if (c->table >= (uint32_t)cd->ntables ||
                (c->op != SL_OP_TRUNCATE && c->ncols != cd->tables[c->table]->ncolumns))
                return sl_err_set(err, SL_E_PROTOCOL,
                                  "a change batch does not match the stream's tables (table %u, %d columns)",
                                  c->table, c->ncols);
            if (sl_pos_cmp(c->pos, after) <= 0)
                continue; /* applied by an earlier delivery */
            if (n > 0 && c->table != w->chs[0].table) {
                /* a new table: apply the run so far first, then start over with this one */
                sl_change_t keep = *c;
                if (w->tgt->ops->apply_changes(w->tgt, cd->tables[w->chs[0].table], w->chs, n, err))
                    return -1;
                *napplied += n;
                count_run(w, n);
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
        }
        if (n > 0 && (flush || n == run_max)) {
            if (w->tgt->ops->apply_changes(w->tgt, cd->tables[w->chs[0].table], w->chs, n, err))
                return -1;
            *napplied += n;
            count_run(w, n);
            n = 0;
        }
        if (flush)
            return 0;
    }
}

static outcome_t apply(wstate_t *w, sl_cbatch_view_t *v, int64_t *napplied, sl_err_t *err)
{
    cdc_t *cd = w->cd;
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
    if (!(v->hdr.flags & SL_CBATCH_FIRST) && (!found || sl_pos_cmp(at, v->hdr.prev) < 0)) {
        tgt->ops->rollback(tgt);
        sl_ckpt_clear(&ck);
        return GAP;
    }
    if (v->hdr.nchanges && apply_changes(w, v, at, napplied, err))
        goto fail;
    char *pos = sl_cdc_pos_json(v->hdr.last, v->hdr.flush > flush ? v->hdr.flush : flush);
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

/* Reconnects with backoff (capped at 10 s) until it works or the session ends. */
static bool reconnect(wstate_t *w, int attempt)
{
    cdc_t *cd = w->cd;
    sl_target_close(w->tgt);
    w->tgt = NULL;
    int wait = 250 << (attempt < 5 ? attempt : 5);
    int64_t none = 0;
    atomic_compare_exchange_strong(&cd->target_down_ms, &none, sl_cdc_now_ms());
    for (;;) {
        sl_cdc_sleep(cd, wait);
        if (sl_cdc_stopping(cd) || atomic_load(&cd->session_over))
            return false;
        sl_err_t err = {0};
        if (sl_target_open(cd->spec->target_url, &w->tgt, &err) == 0) {
            atomic_store(&cd->target_down_ms, 0);
            return true;
        }
        sl_warn("lane %d: could not reconnect to the target: %s; retrying", w->lane, err.message);
        if (!err.retriable && err.fatal) {
            sl_cdc_fail(cd, &err);
            return false;
        }
        if (wait < 10000)
            wait *= 2;
    }
}

static void handle(wstate_t *w, natsMsg *msg)
{
    cdc_t *cd = w->cd;
    sl_err_t err = {0};
    sl_cbatch_view_t v;
    if (sl_cbatch_decode(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), &v, &err)) {
        sl_err_hint(&err, "the broker stream holds data that is not sluice's; run again");
        natsMsg_Term(msg, NULL);
        sl_cdc_fail(cd, &err);
        return;
    }
    if (sl_bus_delivered(msg) > 1)
        atomic_fetch_add(&cd->redeliveries, 1);
    if (v.hdr.epoch != cd->epoch || v.hdr.lane != (uint32_t)w->lane) {
        natsMsg_Ack(msg, NULL); /* a batch of an earlier session: that session's data is read again */
        return;
    }
    for (int attempt = 0;; attempt++) {
        int64_t n = 0;
        pthread_rwlock_rdlock(&cd->schema);
        outcome_t o = apply(w, &v, &n, &err);
        pthread_rwlock_unlock(&cd->schema);
        if (o == APPLIED || o == SKIPPED) {
            natsMsg_Ack(msg, NULL); /* a lost ack only causes a redelivery, skipped by the checkpoint */
            if (o == APPLIED) {
                atomic_fetch_add(&cd->changes_applied, n);
                atomic_fetch_add(&cd->batches, 1);
                for (int i = 0; i < cd->ntstats; i++) {
                    if (w->trows[i])
                        atomic_fetch_add(&cd->tstats[i].rows_written, w->trows[i]);
                    if (w->tbytes[i])
                        atomic_fetch_add(&cd->tstats[i].bytes_written, w->tbytes[i]);
                }
                if (v.hdr.flags & SL_CBATCH_HEARTBEAT) {
                    /* sent only when nothing was pending: caught up (its commit time is
                     * the last transaction's, which would make an idle stream look late) */
                    atomic_store(&cd->lag_us, 0);
                } else if (v.hdr.commit_us > 0) {
                    struct timespec ts;
                    clock_gettime(CLOCK_REALTIME, &ts);
                    int64_t now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
                    atomic_store(&cd->lag_us, now > v.hdr.commit_us ? now - v.hdr.commit_us : 0);
                }
            } else {
                atomic_fetch_add(&cd->duplicates, 1);
            }
            set_committed(w, &v.hdr.last, atomic_load(&cd->want_durable));
            return;
        }
        if (o == GAP) {
            sl_warn("lane %d: a change batch before position %" PRIX64 ":%u never arrived; reading again "
                    "from the last confirmed position",
                    w->lane, v.hdr.last.lsn, v.hdr.last.idx);
            atomic_store(&cd->restart_why, "a change batch was lost");
            atomic_store(&cd->restart, true);
            natsMsg_Ack(msg, NULL);
            return;
        }
        if (err.retriable && !err.fatal) {
            if (sl_cdc_stopping(cd) || atomic_load(&cd->session_over))
                return; /* read again by the next session or run */
            atomic_fetch_add(&cd->retries, 1);
            sl_warn("lane %d: applying changes failed (%s); reconnecting and retrying", w->lane, err.message);
            natsMsg_InProgress(msg, NULL);
            if (!reconnect(w, attempt))
                return;
            continue;
        }
        sl_cdc_fail(cd, &err);
        return;
    }
}

void *sl_cdc_writer_main(void *arg)
{
    cdc_writer_arg_t *wa = arg;
    cdc_t *cd = wa->cd;
    wstate_t w = {.cd = cd, .lane = wa->lane};
    sl_err_t err = {0};
    sl_bus_sub_t *sub = NULL;
    if (sl_target_open(cd->spec->target_url, &w.tgt, &err) && !err.retriable) {
        sl_cdc_fail(cd, &err);
        return NULL;
    }
    while (sl_bus_subscribe(cd->bus, cd->spec->name, wa->lane, &sub, &err)) {
        if (!err.retriable || sl_cdc_stopping(cd) || atomic_load(&cd->session_over)) {
            if (!sl_cdc_stopping(cd) && !atomic_load(&cd->session_over))
                sl_cdc_fail(cd, &err);
            sl_target_close(w.tgt);
            return NULL;
        }
        sl_cdc_sleep(cd, 500);
    }
    w.trows = calloc((size_t)cd->ntstats + 1, sizeof *w.trows);
    w.tbytes = calloc((size_t)cd->ntstats + 1, sizeof *w.tbytes);
    if (!w.trows || !w.tbytes)
        abort();
    while (!atomic_load(&cd->session_over) && !atomic_load(&cd->failed) && !atomic_load(&cd->restart)) {
        natsMsg *msg = NULL;
        int rc = sl_bus_fetch(sub, &msg, 200, &err);
        if (rc < 0) {
            sl_warn("lane %d: %s; retrying", wa->lane, err.message);
            sl_cdc_sleep(cd, 500);
            continue;
        }
        if (rc == 0) {
            /* idle: store what the target spools once it is due, or now for a drain */
            bool all = atomic_load(&cd->want_durable);
            if (w.tgt && w.tgt->ops->ckpt_durable && (all || held(&w)))
                set_committed(&w, NULL, all);
            continue;
        }
        if (!w.tgt && !reconnect(&w, 0)) {
            natsMsg_Destroy(msg);
            break;
        }
        handle(&w, msg);
        natsMsg_Destroy(msg);
    }
    sl_bus_unsubscribe(sub);
    sl_target_close(w.tgt);
    free(w.chs);
    free(w.vals);
    free(w.trows);
    free(w.tbytes);
    return NULL;
}
