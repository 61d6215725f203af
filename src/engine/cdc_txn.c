/*
 * cdc_txn.c: source transactions larger than a batch, on the reader's side (the
 * writer's side is cdc_spill.c, the encoding model/change.h's). A source transaction
 * of any size is applied in one target transaction, at its commit, with the lane's
 * checkpoint; memory stays bounded by spilling it through the broker.
 *
 * Transactions sent whole (PostgreSQL's BEGIN..COMMIT, MariaDB's binlog transactions).
 * A lane's batch is cut only at transaction boundaries: when it fills up, what it holds
 * of transactions that ended is published, and the open transaction's share moves to a
 * fresh batch; when a share alone fills a batch, the batch is published as a part of
 * that share's spill (its own broker subject, no consumer), and the share goes on
 * filling the next one. The lane batch that finally holds the share's tail refers to
 * the spill in its footer: the writer applies the spilled parts, then the batch, in one
 * target transaction together with the checkpoint. Until then the share is in an open
 * batch, so the confirmed position stays below the transaction (cdc_reader.c: the
 * lowest position not yet committed bounds what is confirmed), and a run killed in the
 * middle, or a session that restarts, reads the transaction again from the source.
 * Only a drain in the middle of a transaction publishes a share before its end (a
 * schema change, or a barrier of ordering "key"): the transaction is then committed in
 * pieces, exactly once each, and the log says so.
 *
 * Under ordering "key" each lane holds the share of the keys routed to it: each share
 * is applied whole, but the lanes commit on their own, so a reader of the target may
 * see one lane's share before another's (as for any transaction under "key").
 *
 * Transactions the source streams while in progress (PostgreSQL 14+, pgoutput protocol 2
 * with streaming 'on': a transaction bigger than the server's logical_decoding_work_mem
 * arrives in blocks, between other transactions, before it ends). Its commit position
 * is unknown until it commits, and transactions that commit earlier may still follow,
 * so its changes go to a spill of their own as they come (numbered 1, 2, ... in the
 * spill), and nothing of it is applied until Stream Commit: then one batch on lane 0
 * refers to the spill with the commit position, and the writer applies the changes at
 * (commit LSN, 1..n). Under ordering "key" with several lanes that batch is a barrier:
 * every lane drains before it, and it is applied before anything after it, so the
 * transaction stays whole and in order on one lane. A Stream Abort of the transaction
 * drops its spill; a Stream Abort of a subtransaction leaves out the changes from that
 * subtransaction's first one to the last one spilled (those of the subtransactions that
 * began after it, which are its own: the rule of PostgreSQL's own apply worker). Nothing
 * needs confirming for a transaction in progress: PostgreSQL sends every transaction
 * whose commit lies past the confirmed position again, whole, from the start (the slot
 * keeps the WAL from the oldest transaction in progress); but while one is open no
 * heartbeat moves the position on (cdc_reader.c). A schema change seen while a streamed
 * transaction is open (its spilled changes may have the old columns), or more
 * rolled-back ranges than a footer holds, makes the session start again without
 * streaming for the rest of the run: PostgreSQL then sends each transaction whole at
 * its commit, in commit order, and the spill of whole transactions above takes over.
 *
 * Thread: the reader's (the orchestrator's).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "engine/cdc_int.h"

/* ---- spill parts ------------------------------------------------------------------ */

static sl_cspill_ref_t spill_ref(const spill_t *sp, uint64_t lsn)
{
    return (sl_cspill_ref_t){.id = sp->id,
                             .first_seq = sp->first_seq,
                             .nparts = sp->nparts,
                             .nchanges = sp->nchanges,
                             .lsn = lsn};
}

/* Publishes what builder b holds as the next part of spill sp (lane li). */
static int spill_part(sl_cdc_run_t *cd, int li, sl_cbatch_builder_t *b, spill_t *sp, sl_err_t *err)
{
    if (!sp->id)
        sp->id = ++cd->spill_ids;
    b->hdr.flags = SL_CBATCH_SPILL;
    b->hdr.epoch = cd->epoch;
    b->hdr.lane = (uint32_t)li;
    b->hdr.prev = (sl_pos_t){sp->id, sp->nparts + 1};
    b->hdr.flush = 0;
    b->hdr.commit_us = 0;
    const char *data;
    size_t len;
    sl_cbatch_finish(b, &data, &len);
    char msgid[96];
    snprintf(msgid, sizeof msgid, "%" PRIu64 "-s%" PRIu64 "-%u", cd->epoch, sp->id, sp->nparts + 1);
    uint64_t seq = 0;
    if (sl_cdc_send(cd, li, sp->id, msgid, data, len, &seq, err))
        return -1;
    if (!sp->nparts)
        sp->first_seq = seq;
    sp->nparts++;
    sp->nchanges += b->hdr.nchanges;
    return 0;
}

/* ---- a lane's share of a transaction sent whole ------------------------------------ */

/* Lane li's batch holds something of the open transaction (its share, or a spill of it). */
static bool holds_open(const sl_cdc_run_t *cd, const lane_t *l)
{
    return cd->in_xact && l->open && l->mark_lsn == cd->cur_lsn &&
           (l->mark.n < l->bb.hdr.nchanges || (l->mark.n == 0 && l->sp.id));
}

/* Publishes what lane li's batch holds before the open transaction's share (the
 * transactions that ended), and moves the share to a fresh batch. */
static int publish_head(sl_cdc_run_t *cd, int li, sl_err_t *err)
{
    lane_t *l = &cd->lane[li];
    uint32_t n;
    sl_pos_t last;
    if (sl_cbatch_split(&l->bb, l->mark, &cd->tail, &n, &last, err) || sl_cdc_publish(cd, li, err))
        return -1;
    sl_cdc_open_batch(cd, li, l->share_first, 0);
    l->mark = sl_cbatch_mark(&l->bb);
    return sl_cbatch_append(&l->bb, &cd->tail, n, last, err);
}

/* Lane li's batch holds nothing but the open transaction's share: spills it, and goes
 * on with a batch that refers to the spill. */
static int spill_share(sl_cdc_run_t *cd, int li, sl_err_t *err)
{
    lane_t *l = &cd->lane[li];
    if (!l->sp.id) {
        l->sp.first = l->share_first;
        char at[96];
        sl_info("a source transaction (%s) is larger than a batch: spilling it through the broker, to be applied "
                "whole at its commit",
                sl_cdc_pos_text(cd, cd->cur_lsn, at, sizeof at));
    }
    if (spill_part(cd, li, &l->bb, &l->sp, err))
        return -1;
    sl_cdc_open_batch(cd, li, l->sp.first, 0);
    sl_cspill_ref_t ref = spill_ref(&l->sp, 0);
    sl_cbatch_set_spilled(&l->bb, &ref, NULL);
    l->mark = sl_cbatch_mark(&l->bb);
    return 0;
}

int sl_cdc_txn_room(sl_cdc_run_t *cd, int li, const sl_change_t *c, size_t size, sl_err_t *err)
{
    lane_t *l = &cd->lane[li];
    if (!cd->tail.max)
        sl_buf_init(&cd->tail, cd->batch_bytes + 64 * 1024);
    if (l->open && l->mark_lsn != c->pos.lsn) {
        /* the transaction's share of this batch begins here */
        l->mark = sl_cbatch_mark(&l->bb);
        l->mark_lsn = c->pos.lsn;
        l->share_first = c->pos;
    }
    while (l->open && sl_cbatch_would_overflow(&l->bb, size)) {
        int rc;
        if (l->mark.n == l->bb.hdr.nchanges)
            rc = sl_cdc_publish(cd, li, err); /* no share yet: all of it ended */
        else if (l->mark.n > 0)
            rc = publish_head(cd, li, err);
        else
            rc = spill_share(cd, li, err);
        if (rc)
            return -1;
    }
    if (!l->open) {
        sl_cdc_open_batch(cd, li, c->pos, 0);
        l->mark = sl_cbatch_mark(&l->bb);
        l->mark_lsn = c->pos.lsn;
        l->share_first = c->pos;
    }
    return 0;
}

void sl_cdc_txn_published(sl_cdc_run_t *cd, int li)
{
    lane_t *l = &cd->lane[li];
    if (holds_open(cd, l) && cd->piece_lsn != cd->cur_lsn) {
        char at[96];
        cd->piece_lsn = cd->cur_lsn;
        sl_warn("the source transaction %s is committed on the target in pieces: a schema change or a key change "
                "under ordering \"key\" came in the middle of it while it was larger than a batch",
                sl_cdc_pos_text(cd, cd->cur_lsn, at, sizeof at));
    }
    l->sp = (spill_t){0};
}

int sl_cdc_txn_publish_ended(sl_cdc_run_t *cd, int li, sl_err_t *err)
{
    lane_t *l = &cd->lane[li];
    if (!l->open)
        return 0;
    if (!holds_open(cd, l))
        return sl_cdc_publish(cd, li, err);
    return l->mark.n > 0 ? publish_head(cd, li, err) : 0;
}

/* ---- streamed transactions --------------------------------------------------------- */

static sxact_t *sx_find(sl_cdc_run_t *cd, uint32_t xid)
{
    for (int i = 0; i < cd->nsx; i++)
        if (cd->sx[i].xid == xid)
            return &cd->sx[i];
    return NULL;
}

static sxact_t *sx_add(sl_cdc_run_t *cd, uint32_t xid)
{
    if (cd->nsx == cd->capsx) {
        int cap = cd->capsx ? cd->capsx * 2 : 8;
        sxact_t *p = realloc(cd->sx, sizeof *p * (size_t)cap);
        if (!p)
            sl_oom();
        cd->sx = p;
        cd->capsx = cap;
    }
    sxact_t *x = &cd->sx[cd->nsx++];
    *x = (sxact_t){.xid = xid};
    return x;
}

static void sx_remove(sl_cdc_run_t *cd, sxact_t *x)
{
    int i = (int)(x - cd->sx);
    free(x->ranges);
    free(x->subx);
    if (cd->sx_cur == i)
        cd->sx_cur = -1;
    else if (cd->sx_cur == cd->nsx - 1)
        cd->sx_cur = i;
    cd->sx[i] = cd->sx[--cd->nsx];
}

/* Drops transaction x's spill from the broker (best effort: the broker stream of the
 * session goes anyway when the next one starts). */
static void sx_drop(sl_cdc_run_t *cd, sxact_t *x)
{
    sl_err_t err = {0};
    if (x->sp.id && sl_bus_spill_drop(cd->run.bus, cd->spec->name, x->sp.id, &err))
        sl_warn("could not drop the spill of a rolled-back transaction from the broker: %s", err.message);
    sx_remove(cd, x);
}

static void sbb_start(sl_cdc_run_t *cd)
{
    if (!cd->sbb.max_bytes)
        sl_cbatch_builder_init(&cd->sbb, (uint32_t)cd->batch_rows, cd->batch_bytes);
    sl_cbatch_hdr_t h = {.epoch = cd->epoch};
    sl_cbatch_start(&cd->sbb, &h);
}

/* Publishes what the block builder holds of x as a part of x's spill. */
static int flush_block(sl_cdc_run_t *cd, sxact_t *x, sl_err_t *err)
{
    if (!cd->sbb.max_bytes || !cd->sbb.hdr.nchanges)
        return 0;
    if (!x->sp.id) {
        sl_info("PostgreSQL streams a transaction in progress (xid %u): spilling it through the broker, to be "
                "applied whole at its commit",
                x->xid);
    }
    int rc = spill_part(cd, 0, &cd->sbb, &x->sp, err);
    sbb_start(cd);
    return rc;
}

/* The session starts again without streaming transactions in progress. */
static int without_streaming(sl_cdc_run_t *cd, const char *why, sl_err_t *err)
{
    cd->no_streaming = true;
    sl_warn("%s: reading again from the confirmed position, without streaming transactions in progress (for "
            "the rest of this run)",
            why);
    sl_run_restart(&cd->run, why);
    return sl_err_set(err, SL_E_CANCELED, "the session is ending");
}

static int stream_change(sl_cdc_run_t *cd, const sl_cdc_event_t *ev, sl_err_t *err)
{
    sxact_t *x = cd->sx_cur >= 0 ? &cd->sx[cd->sx_cur] : NULL;
    if (!x || x->xid != ev->xid)
        return sl_err_set(err, SL_E_PROTOCOL, "a change of streamed transaction %u outside its block", ev->xid);
    if (x->n == UINT32_MAX)
        return sl_err_set(err, SL_E_LIMIT, "a streamed transaction with more than %u changes", UINT32_MAX);
    if (ev->subxid != x->xid && ev->subxid != x->last_subxid) {
        /* a subtransaction's first change (or a return to an earlier one) */
        uint32_t k = x->nsubx;
        while (k > 0 && x->subx[k - 1].xid != ev->subxid)
            k--;
        if (k == 0) {
            if (x->nsubx == x->capsubx) {
                uint32_t cap = x->capsubx ? x->capsubx * 2 : 16;
                subx_t *p = realloc(x->subx, sizeof *p * cap);
                if (!p)
                    sl_oom();
                x->subx = p;
                x->capsubx = cap;
            }
            x->subx[x->nsubx++] = (subx_t){ev->subxid, x->n, x->kept};
        }
        x->last_subxid = ev->subxid;
    }
    sl_change_t c;
    int keep = sl_cdc_map(cd, &ev->change, &c, err);
    if (keep <= 0)
        return keep; /* left out by the table's filter: numbered changes are those published */
    c.pos = (sl_pos_t){0, x->n + 1};
    c.commit_us = 0;
    size_t size = sl_cbatch_change_size(&c);
    if (sl_cbatch_would_overflow(&cd->sbb, size) && flush_block(cd, x, err))
        return -1;
    if (sl_cbatch_add(&cd->sbb, &c, err))
        return -1;
    x->n++;
    x->kept++;
    sl_cdc_count_read(cd, &c, size);
    return 0;
}

/* Subtransaction subxid of x rolled back: its changes and those of the subtransactions
 * that began after it are left out. */
static int stream_subabort(sl_cdc_run_t *cd, sxact_t *x, uint32_t subxid, sl_err_t *err)
{
    uint32_t k = x->nsubx;
    while (k > 0 && x->subx[k - 1].xid != subxid)
        k--;
    if (k == 0)
        return 0; /* it made no change we saw */
    const subx_t *s = &x->subx[k - 1];
    uint32_t from = s->n_before + 1, to = x->n;
    x->kept = s->kept_before;
    x->nsubx = k - 1;
    x->last_subxid = 0;
    if (from > to)
        return 0;
    while (x->nranges > 0 && x->ranges[2 * (x->nranges - 1)] >= from)
        x->nranges--; /* ranges inside this one */
    if (x->nranges >= SL_CSPILL_MAX_RANGES)
        return without_streaming(cd, "a streamed transaction rolled back too many subtransactions", err);
    if (x->nranges == x->capranges) {
        uint32_t cap = x->capranges ? x->capranges * 2 : 8;
        uint32_t *p = realloc(x->ranges, sizeof *p * 2 * cap);
        if (!p)
            sl_oom();
        x->ranges = p;
        x->capranges = cap;
    }
    x->ranges[2 * x->nranges] = from;
    x->ranges[2 * x->nranges + 1] = to;
    x->nranges++;
    return 0;
}

/* x committed: one batch on lane 0 refers to its spill, at its commit position. */
static int stream_commit(sl_cdc_run_t *cd, sxact_t *x, const sl_cdc_event_t *ev, sl_err_t *err)
{
    if (!x || !x->kept) {
        sl_cdc_xact_ended(cd, ev->xact_lsn, ev->end_lsn, ev->commit_us, true);
        if (x)
            sx_drop(cd, x);
        return 0;
    }
    if (cd->lanes > 1 && !sl_cdc_barrier(cd))
        return sl_err_set(err, SL_E_CANCELED, "the session is ending");
    lane_t *l = &cd->lane[0];
    if (sl_cdc_publish(cd, 0, err)) /* the transactions that committed before it */
        return -1;
    sl_cdc_xact_ended(cd, ev->xact_lsn, ev->end_lsn, ev->commit_us, false);
    sl_pos_t first = {ev->xact_lsn, 1};
    sl_cdc_open_batch(cd, 0, first, 0);
    sl_cspill_ref_t ref = spill_ref(&x->sp, ev->xact_lsn);
    ref.nranges = x->nranges;
    sl_cbatch_set_spilled(&l->bb, &ref, x->ranges);
    l->bb.hdr.last = (sl_pos_t){ev->xact_lsn, x->kept};
    l->mark = sl_cbatch_mark(&l->bb);
    l->mark_lsn = ev->xact_lsn;
    int rc = sl_cdc_publish(cd, 0, err);
    sx_remove(cd, x);
    if (rc)
        return -1;
    if (cd->lanes > 1 && !sl_cdc_barrier(cd))
        return sl_err_set(err, SL_E_CANCELED, "the session is ending");
    return 0;
}

int sl_cdc_txn_stream_event(sl_cdc_run_t *cd, const sl_cdc_event_t *ev, sl_err_t *err)
{
    sxact_t *x = ev->xid ? sx_find(cd, ev->xid) : NULL;
    switch (ev->kind) {
    case SL_CDC_STREAM_START:
        if (cd->sx_cur >= 0)
            return sl_err_set(err, SL_E_PROTOCOL, "a stream block began inside another");
        if (!x)
            x = sx_add(cd, ev->xid);
        cd->sx_cur = (int)(x - cd->sx);
        sbb_start(cd);
        return 0;
    case SL_CDC_CHANGE:
        return stream_change(cd, ev, err);
    case SL_CDC_STREAM_STOP:
        if (!x || cd->sx_cur != (int)(x - cd->sx))
            return sl_err_set(err, SL_E_PROTOCOL, "a stream block of transaction %u ended that had not begun",
                              ev->xid);
        cd->sx_cur = -1;
        return flush_block(cd, x, err);
    case SL_CDC_STREAM_ABORT:
        if (!x)
            return 0; /* none of its changes came in this session */
        if (cd->sx_cur == (int)(x - cd->sx) && flush_block(cd, x, err))
            return -1;
        if (ev->subxid && ev->subxid != ev->xid)
            return stream_subabort(cd, x, ev->subxid, err);
        sx_drop(cd, x);
        return 0;
    case SL_CDC_STREAM_COMMIT:
        if (cd->sx_cur >= 0)
            return sl_err_set(err, SL_E_PROTOCOL, "a streamed transaction committed inside a stream block");
        return stream_commit(cd, x, ev, err);
    case SL_CDC_RELATION:
        return without_streaming(cd, "a table changed shape while a transaction was streamed", err);
    default:
        return sl_err_set(err, SL_E_INTERNAL, "an unexpected change stream event %d", (int)ev->kind);
    }
}

/* ---- sessions -------------------------------------------------------------------- */

void sl_cdc_txn_reset(sl_cdc_run_t *cd)
{
    for (int i = 0; i < cd->lanes; i++) {
        cd->lane[i].sp = (spill_t){0};
        cd->lane[i].mark_lsn = 0;
    }
    while (cd->nsx > 0)
        sx_remove(cd, &cd->sx[cd->nsx - 1]);
    cd->sx_cur = -1;
    cd->spill_ids = 0;
    cd->piece_lsn = 0;
}

void sl_cdc_txn_free(sl_cdc_run_t *cd)
{
    sl_cdc_txn_reset(cd);
    free(cd->sx);
    cd->sx = NULL;
    cd->capsx = 0;
    sl_buf_free(&cd->tail);
    sl_cbatch_builder_free(&cd->sbb);
}
