/*
 * writer.c: writer lanes of a load. Each lane owns one target connection and one
 * pull subscription, takes one batch at a time, and applies it together with its
 * stripe's checkpoint in one target transaction before acknowledging it
 * (docs/design.md "Exactly once", step 3).
 *
 * The checkpoint of a stripe is (epoch, seq, last key, done). A batch of an older
 * epoch, or at or below the checkpoint's seq, was applied already (or belongs to a
 * dead run) and is skipped; a batch that is not the next one expected is handed back
 * (Nak with delay) so that a later batch can never be applied before an earlier one.
 *
 * Thread: one per lane; takes ld->mu only to release in-flight slots.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "engine/load_int.h"

typedef enum { APPLIED, SKIPPED, OUT_OF_ORDER, FAILED } outcome_t;

static outcome_t apply(load_t *ld, sl_target_t *tgt, sl_batch_view_t *v, bool *stripe_done,
                       sl_err_t *err)
{
    const sl_table_t *t = ld->plan.tables[v->hdr.table];
    char key[32];
    sl_load_stripe_key((int)v->hdr.stripe, key, sizeof key);
    sl_ckpt_t ck = {0};
    bool found = false;
    *stripe_done = false;
    if (tgt->ops->begin(tgt, err))
        return FAILED;
    if (tgt->ops->ckpt_get(tgt, ld->spec->name, key, &ck, &found, err))
        goto fail;
    int64_t epoch = (int64_t)v->hdr.epoch, seq = (int64_t)v->hdr.seq;
    if (found && (ck.done || epoch < ck.epoch || (epoch == ck.epoch && seq <= ck.seq))) {
        tgt->ops->rollback(tgt);
        sl_ckpt_clear(&ck);
        return SKIPPED;
    }
    if ((found && epoch == ck.epoch && seq != ck.seq + 1) || ((!found || epoch > ck.epoch) && seq != 1)) {
        tgt->ops->rollback(tgt);
        sl_ckpt_clear(&ck);
        return OUT_OF_ORDER;
    }
    if ((v->hdr.flags & SL_BATCH_RESET) && tgt->ops->delete_all(tgt, t, err))
        goto fail;
    if (v->hdr.nrows && tgt->ops->write_rows(tgt, t, v, err))
        goto fail;
    sl_ckpt_t next = {.epoch = epoch, .seq = seq, .done = (v->hdr.flags & SL_BATCH_LAST) != 0};
    char *pos = NULL;
    if (v->last_key_len) {
        pos = malloc(v->last_key_len + 1);
        if (!pos)
            abort();
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
    return APPLIED;
fail:
    tgt->ops->rollback(tgt);
fail_committed:
    sl_ckpt_clear(&ck);
    return FAILED;
}

static void release_slot(load_t *ld)
{
    pthread_mutex_lock(&ld->mu);
    if (ld->inflight > 0)
        ld->inflight--;
    pthread_cond_broadcast(&ld->cv);
    pthread_mutex_unlock(&ld->mu);
}

/* Reconnects after a retriable failure, with backoff; false when stopping. */
static bool reconnect(load_t *ld, sl_target_t **tgt, int attempt)
{
    sl_target_close(*tgt);
    *tgt = NULL;
    int wait = 250 << (attempt < 6 ? attempt : 6);
    for (;;) {
        sl_load_sleep(ld, wait);
        if (sl_load_stopping(ld))
            return false;
        sl_err_t err = {0};
        if (sl_target_open(ld->spec->target_url, tgt, &err) == 0)
            return true;
        sl_warn("could not reconnect to the target: %s; retrying", err.message);
        if (!err.retriable && err.fatal) {
            sl_load_fail(ld, &err);
            return false;
        }
        if (wait < 10000)
            wait *= 2;
    }
}

static void handle(load_t *ld, sl_target_t **tgt, natsMsg *msg)
{
    sl_err_t err = {0};
    sl_batch_view_t v;
    if (sl_batch_decode(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), &v, &err) ||
        v.hdr.table >= (uint32_t)ld->plan.ntables || (int)v.hdr.stripe >= ld->plan.nstripes ||
        v.hdr.ncols != (uint32_t)ld->plan.tables[v.hdr.table]->ncolumns) {
        if (!err.message[0])
            sl_err_set(&err, SL_E_PROTOCOL, "a batch does not match the load plan");
        sl_err_hint(&err, "the broker stream holds data of another load; run again with --restart");
        natsMsg_Term(msg, NULL);
        sl_load_fail(ld, &err);
        return;
    }
    uint64_t delivered = sl_bus_delivered(msg);
    if (delivered > 1)
        atomic_fetch_add(&ld->redeliveries, 1);
    for (int attempt = 0;; attempt++) {
        bool done = false;
        atomic_fetch_add(&ld->busy, 1);
        outcome_t o = apply(ld, *tgt, &v, &done, &err);
        atomic_fetch_sub(&ld->busy, 1);
        if (o == APPLIED || o == SKIPPED)
            atomic_fetch_add(&ld->moves, 1);
        if (o == APPLIED) {
            table_stats_t *ts = &ld->ts[v.hdr.table];
            atomic_fetch_add(&ts->rows_written, (int64_t)v.hdr.nrows);
            atomic_fetch_add(&ts->bytes_written, (int64_t)v.len);
            atomic_fetch_add(&ld->batches, 1);
            natsMsg_Ack(msg, NULL); /* a lost ack only causes a redelivery, skipped by the checkpoint */
            if (done) {
                atomic_fetch_sub(&ts->stripes_left, 1);
                atomic_fetch_sub(&ld->stripes_left, 1);
            }
            release_slot(ld);
            return;
        }
        if (o == SKIPPED) {
            atomic_fetch_add(&ld->duplicates, 1);
            natsMsg_Ack(msg, NULL);
            release_slot(ld);
            return;
        }
        if (o == OUT_OF_ORDER) {
            if (delivered > 100) {
                sl_err_set(&err, SL_E_BROKER,
                           "batch %u of stripe %u never arrived after batch %u was delivered",
                           v.hdr.seq - 1, v.hdr.stripe, v.hdr.seq);
                sl_err_detail(&err, "the broker lost a message; nothing was applied out of order");
                sl_err_hint(&err, "run the same command again: it resumes from the target's checkpoints");
                sl_load_fail(ld, &err);
                return;
            }
            natsMsg_NakWithDelay(msg, 200, NULL);
            return;
        }
        /* FAILED */
        if (err.retriable && !err.fatal && sl_load_stopping(ld))
            return; /* the batch is redone by the next pass or run */
        if (err.retriable && !err.fatal) {
            atomic_fetch_add(&ld->retries, 1);
            sl_warn("applying a batch of stripe %u failed (%s); reconnecting and retrying", v.hdr.stripe,
                    err.message);
            natsMsg_InProgress(msg, NULL);
            if (!reconnect(ld, tgt, attempt))
                return;
            continue;
        }
        sl_load_fail(ld, &err);
        return;
    }
}

void *sl_load_writer_main(void *arg)
{
    writer_arg_t *wa = arg;
    load_t *ld = wa->ld;
    sl_err_t err = {0};
    sl_target_t *tgt = NULL;
    sl_bus_sub_t *sub = NULL;
    /* A target or broker that is down right now is waited for (retriable errors);
     * anything else fails the load. */
    if (sl_target_open(ld->spec->target_url, &tgt, &err) && !err.retriable) {
        sl_load_fail(ld, &err);
        return NULL;
    }
    while (sl_bus_subscribe(ld->bus, ld->spec->name, wa->lane, &sub, &err)) {
        if (!err.retriable || sl_load_stopping(ld)) {
            if (!sl_load_stopping(ld))
                sl_load_fail(ld, &err);
            sl_target_close(tgt);
            return NULL;
        }
        sl_load_sleep(ld, 500);
    }
    while (!sl_load_stopping(ld) && atomic_load(&ld->stripes_left) > 0) {
        natsMsg *msg = NULL;
        int rc = sl_bus_fetch(sub, &msg, 500, &err);
        if (rc < 0) {
            sl_warn("lane %d: %s; retrying", wa->lane, err.message);
            sl_load_sleep(ld, 500);
            continue;
        }
        if (rc == 0)
            continue;
        if (!tgt && !reconnect(ld, &tgt, 0)) {
            natsMsg_Destroy(msg);
            break;
        }
        handle(ld, &tgt, msg);
        natsMsg_Destroy(msg);
    }
    sl_bus_unsubscribe(sub);
    sl_target_close(tgt);
    return NULL;
}
