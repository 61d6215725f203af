/*
 * cdc_reader.c: the reader side of a cdc stream, on the orchestrator's thread: the
 * handler the source's stream() calls. It routes each change to a lane, groups
 * changes into bounded batches, publishes them, and decides which source position
 * may be confirmed.
 *
 * Batching: a lane's batch is published when it is full, or once it is 50 ms old at a
 * transaction boundary (checked at each commit and at each tick: the source calls
 * stopping() between messages and at least every 100 ms), so that many small source
 * transactions share one target transaction and an idle stream still delivers
 * promptly. A batch is always cut at a transaction boundary: a transaction larger than
 * a batch is spilled through the broker and applied whole (cdc_txn.c). While the lane's
 * writer is behind (BUSY_BATCHES published batches not yet committed), an old batch
 * keeps growing instead (up to batch_rows / batch_bytes, or BATCH_AGE_MAX_MS): the writer
 * could not start on it sooner anyway, and a backlog then goes to the target in a few
 * large transactions (one COPY of 50,000 rows costs the target far less than a dozen of
 * 4,000) instead of one per 50 ms of reading.
 *
 * Confirming (docs/design.md "Idle lanes"): U is the lowest position not yet committed
 * anywhere: the first unapplied batch of any lane, an unpublished batch, or the open
 * transaction. Every transaction that started below U is applied on every lane, so
 * the end of the last of them may be confirmed. When nothing is pending and the server
 * reports a later end of WAL, a heartbeat batch carries that position through every
 * lane; once the lanes have committed it (their checkpoints now say so), it is
 * confirmed too, so WAL does not pile up behind a quiet stream and the confirmed
 * position never passes a committed checkpoint. A target that makes commits durable
 * later (the file target's change files, stored when they rotate) holds its lane at the
 * checkpoint a crash would keep (lane.safe): nothing at or after it is confirmed until
 * the files are stored (docs/files.md "Exactly once").
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "engine/cdc_copy_int.h"
#include "source/source.h"

#define BATCH_AGE_MS 50
#define BATCH_AGE_MAX_MS 1000 /* an old batch is cut at a boundary after this, busy or not */
#define BUSY_BATCHES 2        /* in-flight batches that make a lane's writer busy */
#define LANE_WINDOW 4        /* published, uncommitted batches per lane */
#define HEARTBEAT_MS 1000
#define LOG_EVERY_MS 10000
#define DRAIN_LIMIT_MS 60000
#define STOP_WAIT_MS 10000   /* a stop waits this long for the open source transaction */
#define TARGET_DOWN_MS 5000  /* the source connection is let go when the target is down this long */

static const sl_pos_t POS_MAX = {UINT64_MAX, UINT32_MAX};

void sl_cdc_reader_reset(sl_cdc_run_t *cd)
{
    for (int i = 0; i < cd->lanes; i++) {
        lane_t *l = &cd->lane[i];
        l->open = false;
        l->sent_first = false;
        l->qhead = l->qn = 0;
        l->published = cd->start;
        l->safe = l->committed; /* read from the durable checkpoints */
    }
    sl_cdc_txn_reset(cd);
    cd->xhead = cd->xn = 0;
    cd->in_xact = false;
    cd->empty_end = 0;
    cd->last_end = cd->start.lsn;
    cd->flushable = 0;
    cd->last_hb_ms = sl_cdc_now_ms();
}

/* ---- queues --------------------------------------------------------------------- */

/* Makes room for one more element in a ring of n elements of sz bytes starting at
 * *head: doubles it (from `first`) when full, unrolled so the head is at 0. Returns the
 * (possibly new) buffer. */
static void *ring_grow(void *buf, int *head, int n, int *cap, size_t sz, int first)
{
    if (n < *cap)
        return buf;
    int nc = *cap ? *cap * 2 : first;
    char *q = malloc((size_t)nc * sz);
    if (!q)
        sl_oom();
    for (int i = 0; i < n; i++)
        memcpy(q + (size_t)i * sz, (char *)buf + (size_t)((*head + i) % *cap) * sz, sz);
    free(buf);
    *cap = nc;
    *head = 0;
    return q;
}

static void pend_push(lane_t *l, pend_t p)
{
    l->q = ring_grow(l->q, &l->qhead, l->qn, &l->qcap, sizeof *l->q, 16);
    l->q[(l->qhead + l->qn) % l->qcap] = p;
    l->qn++;
}

static void xact_push(sl_cdc_run_t *cd, xact_t x)
{
    cd->xq = ring_grow(cd->xq, &cd->xhead, cd->xn, &cd->xcap, sizeof *cd->xq, 64);
    cd->xq[(cd->xhead + cd->xn) % cd->xcap] = x;
    cd->xn++;
}

/* Drops the lanes' pending batches that are committed. Caller holds mu. */
static void retire(sl_cdc_run_t *cd)
{
    for (int i = 0; i < cd->lanes; i++) {
        lane_t *l = &cd->lane[i];
        while (l->qn > 0 && sl_pos_cmp(l->q[l->qhead].last, l->committed) <= 0) {
            l->qhead = (l->qhead + 1) % l->qcap;
            l->qn--;
        }
    }
}

/* The lowest position not committed everywhere (POS_MAX when none). Caller holds mu. */
static sl_pos_t lowest_pending(sl_cdc_run_t *cd)
{
    sl_pos_t u = POS_MAX;
    for (int i = 0; i < cd->lanes; i++) {
        lane_t *l = &cd->lane[i];
        if (l->qn > 0 && sl_pos_cmp(l->q[l->qhead].first, u) < 0)
            u = l->q[l->qhead].first;
        if (l->open && sl_pos_cmp(l->first, u) < 0)
            u = l->first;
        /* committed but not durable: the transaction of the durable checkpoint and
         * every later one stay unconfirmed */
        if (sl_pos_cmp(l->safe, l->committed) < 0 && sl_pos_cmp(l->safe, u) < 0)
            u = l->safe;
    }
    if (cd->in_xact && cd->cur_lsn < u.lsn)
        u = (sl_pos_t){cd->cur_lsn, 0};
    return u;
}

/* ---- publishing ----------------------------------------------------------------- */

int sl_cdc_send(sl_cdc_run_t *cd, int li, uint64_t spill, const char *msgid, const char *data, size_t len,
                uint64_t *seq, sl_err_t *err)
{
    for (int attempt = 0;; attempt++) {
        int rc = spill ? sl_bus_spill_publish(cd->run.bus, cd->spec->name, spill, msgid, data, len, seq, err)
                       : sl_bus_publish(cd->run.bus, cd->spec->name, li, msgid, data, len, err);
        if (rc == 0)
            return 0;
        if (!err->retriable || attempt >= 10) {
            sl_err_hint(err, "check the broker's log (data dir nats/nats-server.log) and free disk space");
            return -1;
        }
        sl_run_sleep(&cd->run, 200 << (attempt < 5 ? attempt : 5));
        if (sl_run_stopping(&cd->run) && !sl_run_stop_asked(&cd->run))
            return -1;
    }
}

int sl_cdc_publish(sl_cdc_run_t *cd, int li, sl_err_t *err)
{
    lane_t *l = &cd->lane[li];
    if (!l->open)
        return 0;
    /* back-pressure: at most LANE_WINDOW batches of a lane in flight */
    pthread_mutex_lock(&cd->run.mu);
    for (;;) {
        retire(cd);
        if (l->qn < LANE_WINDOW || atomic_load(&cd->run.failed) || atomic_load(&cd->run.restart))
            break;
        sl_run_wait(&cd->run, 100);
    }
    pthread_mutex_unlock(&cd->run.mu);
    if (atomic_load(&cd->run.failed) || atomic_load(&cd->run.restart))
        return sl_err_set(err, SL_E_CANCELED, "the session is ending");
    l->bb.hdr.flush = cd->last_end;
    l->bb.hdr.commit_us = cd->cur_commit_us;
    const char *data;
    size_t len;
    sl_cbatch_finish(&l->bb, &data, &len);
    char msgid[96];
    snprintf(msgid, sizeof msgid, "%" PRIu64 "-%d-%" PRIX64 "-%u", cd->epoch, li, l->bb.hdr.last.lsn,
             l->bb.hdr.last.idx);
    if (sl_cdc_send(cd, li, 0, msgid, data, len, NULL, err))
        return -1;
    pthread_mutex_lock(&cd->run.mu);
    pend_push(l, (pend_t){l->first, l->bb.hdr.last});
    pthread_mutex_unlock(&cd->run.mu);
    sl_cdc_txn_published(cd, li);
    l->published = l->bb.hdr.last;
    l->sent_first = true;
    l->open = false;
    return 0;
}

void sl_cdc_open_batch(sl_cdc_run_t *cd, int li, sl_pos_t first, uint32_t flags)
{
    lane_t *l = &cd->lane[li];
    sl_cbatch_hdr_t h = {.flags = flags | (l->sent_first ? 0 : SL_CBATCH_FIRST),
                         .epoch = cd->epoch,
                         .lane = (uint32_t)li,
                         .prev = l->published};
    sl_cbatch_start(&l->bb, &h);
    l->open = true;
    l->first = first;
    l->opened_ms = sl_cdc_now_ms();
}

/* True when lane li's open batch is due at a transaction boundary: old enough, and its
 * writer is ready for more (or it is very old). Takes mu. */
static bool due(sl_cdc_run_t *cd, int li, int64_t now)
{
    lane_t *l = &cd->lane[li];
    int64_t age = now - l->opened_ms;
    if (age < BATCH_AGE_MS)
        return false;
    if (age >= BATCH_AGE_MAX_MS)
        return true;
    pthread_mutex_lock(&cd->run.mu);
    retire(cd);
    bool ready = l->qn < BUSY_BATCHES;
    pthread_mutex_unlock(&cd->run.mu);
    return ready;
}

static int publish_all(sl_cdc_run_t *cd, bool only_old, sl_err_t *err)
{
    int64_t now = sl_cdc_now_ms();
    for (int i = 0; i < cd->lanes; i++)
        if (cd->lane[i].open && (!only_old || due(cd, i, now)) && sl_cdc_publish(cd, i, err))
            return -1;
    return 0;
}

/* Waits until the lanes committed everything they were sent (and, with durable, until
 * the target made it durable: the lanes store what they spool while want_durable is
 * set), DRAIN_LIMIT_MS at most. */
static bool wait_drained(sl_cdc_run_t *cd, bool durable)
{
    int64_t until = sl_cdc_now_ms() + DRAIN_LIMIT_MS;
    if (durable)
        atomic_store(&cd->want_durable, true);
    pthread_mutex_lock(&cd->run.mu);
    bool done = false;
    while (!atomic_load(&cd->run.failed) && !atomic_load(&cd->run.restart)) {
        retire(cd);
        done = true;
        for (int i = 0; i < cd->lanes; i++)
            if (cd->lane[i].qn > 0 || (durable && sl_pos_cmp(cd->lane[i].safe, cd->lane[i].committed) < 0))
                done = false;
        if (done || sl_cdc_now_ms() > until)
            break;
        sl_run_wait(&cd->run, 100);
    }
    pthread_mutex_unlock(&cd->run.mu);
    atomic_store(&cd->want_durable, false);
    return done;
}

/* Publishes every open batch and waits until the lanes committed everything (durable:
 * see wait_drained). */
static bool drain(sl_cdc_run_t *cd, bool durable)
{
    sl_err_t err = {0};
    if (publish_all(cd, false, &err)) {
        if (err.code != SL_E_CANCELED)
            sl_run_fail(&cd->run, &err);
        return false;
    }
    return wait_drained(cd, durable);
}

bool sl_cdc_drain(sl_cdc_run_t *cd) { return drain(cd, true); }

bool sl_cdc_barrier(sl_cdc_run_t *cd) { return drain(cd, false); }

/* Stopping: publishes and applies what the source transactions that ended hold; the
 * share of one still open is left to the next run, which reads it again whole. */
static bool drain_ended(sl_cdc_run_t *cd)
{
    sl_err_t err = {0};
    for (int i = 0; i < cd->lanes; i++)
        if (sl_cdc_txn_publish_ended(cd, i, &err)) {
            if (err.code != SL_E_CANCELED)
                sl_run_fail(&cd->run, &err);
            return false;
        }
    return wait_drained(cd, true);
}

/* ---- routing -------------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* ordering "key": lane by hash of table and primary key; keyless tables stay on lane 0. */
int sl_cdc_reader_lane(const sl_cdc_run_t *cd, const sl_change_t *c)
{
    if (cd->lanes == 1 || c->op == SL_OP_TRUNCATE)
        return 0;
    const sl_table_t *t = cd->maps[c->table]->tgt;
    int npk = sl_table_pk_count(t);
    if (npk == 0)
        return 0;
    const sl_value_t *v = c->old ? c->old : c->row;
    uint64_t h = fnv(14695981039346656037ull, &c->table, sizeof c->table);
    for (int i = 0; i < npk; i++) {
        const sl_value_t *k = &v[sl_table_pk_col(t, i)];
        if (k->len > 0)
            h = fnv(h, k->p, (size_t)k->len);
        h = fnv(h, "|", 1);
    }
    return (int)(h % (uint64_t)cd->lanes);
}

/* An UPDATE whose old row (sent when the key changed) has another key than its new row. */
static bool key_changes(const sl_cdc_run_t *cd, const sl_change_t *c)
{
    if (c->op != SL_OP_UPDATE || !c->old || !c->row)
        return false;
    const sl_table_t *t = cd->maps[c->table]->tgt;
    for (int i = 0; i < sl_table_pk_count(t); i++) {
        int k = sl_table_pk_col(t, i);
        const sl_value_t *a = &c->old[k], *b = &c->row[k];
        if (a->len != b->len || (a->len > 0 && memcmp(a->p, b->p, (size_t)a->len)))
            return true;
    }
    return false;
}

void sl_cdc_count_read(sl_cdc_run_t *cd, const sl_change_t *c, size_t size)
{
    atomic_fetch_add(&cd->changes_read, 1);
    if (c->table < (uint32_t)cd->ntstats) { /* monitoring */
        atomic_fetch_add(&cd->tstats[c->table].rows_read, 1);
        atomic_fetch_add(&cd->tstats[c->table].bytes_read, (int64_t)size);
    }
}

static int add_change(sl_cdc_run_t *cd, const sl_change_t *c, sl_err_t *err)
{
    /* with lanes by key, a truncate or a key change must not overtake other lanes */
    bool barrier = cd->lanes > 1 && (c->op == SL_OP_TRUNCATE || key_changes(cd, c));
    if (barrier && !drain(cd, false))
        return sl_err_set(err, SL_E_CANCELED, "the session is ending");
    if (sl_cdc_reader_put(cd, sl_cdc_reader_lane(cd, c), c, err))
        return -1;
    if (barrier && !drain(cd, false))
        return sl_err_set(err, SL_E_CANCELED, "the session is ending");
    return 0;
}

int sl_cdc_reader_put(sl_cdc_run_t *cd, int li, const sl_change_t *c, sl_err_t *err)
{
    lane_t *l = &cd->lane[li];
    size_t size = sl_cbatch_change_size(c);
    /* a copy row or mark (sent between transactions) is a share of its own: a chunk
     * larger than a batch is cut into batches, never spilled as one transaction */
    if (c->op == SL_OP_COPY || c->op == SL_OP_MARK)
        l->mark_lsn = ~c->pos.lsn;
    if (sl_cdc_txn_room(cd, li, c, size, err))
        return -1;
    sl_change_t cc = *c;
    cc.commit_us = cd->cur_commit_us;
    if (sl_cbatch_add(&l->bb, &cc, err))
        return -1;
    sl_cdc_count_read(cd, c, size);
    return 0;
}

/* A change of the stream, after the copy's rule (engine/cdc_copy.c) for a table being
 * copied: sent as it is, cut in halves, or dropped. */
static int on_change(sl_cdc_run_t *cd, const sl_change_t *c, sl_err_t *err)
{
    sl_change_t out[2];
    int n;
    if (sl_cdc_copy_filter(cd, c, out, &n, err))
        return -1;
    for (int i = 0; i < n; i++)
        if (add_change(cd, &out[i], err))
            return -1;
    return 0;
}

int sl_cdc_map(sl_cdc_run_t *cd, const sl_change_t *c, sl_change_t *out, sl_err_t *err)
{
    const sl_map_t *m = cd->maps[c->table];
    if (m->identity && !m->filter) {
        *out = *c;
        return 1;
    }
    int need = 3 * m->src->ncolumns + 1;
    if (need > cd->mapx_cap) {
        free(cd->mapx);
        if (!(cd->mapx = malloc(sizeof *cd->mapx * (size_t)need)))
            sl_oom();
        cd->mapx_cap = need;
    }
    return sl_map_change(m, c, cd->mapx, out, err);
}

/* A change as its table's mapping makes it, then through the copy's rule: a table being
 * copied is read through the same mapping (its chunks hold the filtered rows in the
 * target's columns), so the copy judges the mapped changes. */
static int add_mapped(sl_cdc_run_t *cd, const sl_change_t *c, sl_err_t *err)
{
    sl_change_t out;
    int keep = sl_cdc_map(cd, c, &out, err);
    return keep <= 0 ? keep : on_change(cd, &out, err);
}

/* ---- the handler ---------------------------------------------------------------- */

static void log_progress(sl_cdc_run_t *cd)
{
    int64_t now = sl_cdc_now_ms();
    if (now - cd->last_log_ms < LOG_EVERY_MS)
        return;
    int64_t applied = atomic_load(&cd->changes_applied);
    double secs = (double)(now - cd->last_log_ms) / 1000.0;
    uint64_t end = atomic_load(&cd->server_end), conf = atomic_load(&cd->confirmed);
    char cbuf[96], slot[64] = "";
    if (cd->ops && cd->ops->byte_positions)
        snprintf(slot, sizeof slot, ", slot lag %" PRIu64 " bytes", end > conf ? end - conf : 0);
    sl_info("cdc \"%s\": %" PRId64 " changes applied (%.0f/s), lag %.1f s%s, confirmed %s", cd->spec->name, applied,
            cd->last_log_ms ? (double)(applied - cd->last_log_applied) / secs : 0.0,
            (double)atomic_load(&cd->lag_us) / 1e6, slot, sl_cdc_pos_text(cd, conf, cbuf, sizeof cbuf));
    cd->last_log_ms = now;
    cd->last_log_applied = applied;
}

void sl_cdc_xact_ended(sl_cdc_run_t *cd, uint64_t lsn, uint64_t end, int64_t commit_us, bool empty)
{
    if (empty) {
        /* an empty transaction (PostgreSQL before 15 sends them): its end is confirmed
         * through a heartbeat, as when idle, so that the confirmed position never passes
         * a lane checkpoint (pg_cdc_slot.c relies on it) */
        if (end > cd->empty_end)
            cd->empty_end = end;
        return;
    }
    cd->cur_commit_us = commit_us;
    if (end > cd->last_end)
        cd->last_end = end;
    xact_push(cd, (xact_t){lsn, end});
}

static int on_event(void *ctx, const sl_cdc_event_t *ev, sl_err_t *err)
{
    sl_cdc_run_t *cd = ctx;
    switch (ev->kind) {
    case SL_CDC_BEGIN:
        cd->in_xact = true;
        cd->xact_changes = 0;
        cd->cur_lsn = ev->xact_lsn;
        cd->cur_commit_us = ev->commit_us;
        sl_cdc_copy_begin(cd, ev);
        return 0;
    case SL_CDC_CHANGE:
        if (ev->change.table >= (uint32_t)cd->ntables)
            return sl_err_set(err, SL_E_INTERNAL, "a change of unknown table %u", ev->change.table);
        if (ev->xid)
            return sl_cdc_txn_stream_event(cd, ev, err);
        cd->xact_changes++;
        return add_mapped(cd, &ev->change, err);
    case SL_CDC_MARK:
        sl_cdc_copy_reached(cd, ev->end_lsn);
        return 0;
    case SL_CDC_COMMIT:
        cd->in_xact = false;
        sl_cdc_copy_reached(cd, ev->end_lsn);
        sl_cdc_xact_ended(cd, ev->xact_lsn, ev->end_lsn, ev->commit_us, !cd->xact_changes);
        return cd->xact_changes ? publish_all(cd, true, err) : 0;
    case SL_CDC_RELATION:
        if (ev->table < 0 || ev->table >= cd->ntables)
            return sl_err_set(err, SL_E_INTERNAL, "a relation message for unknown table %d", ev->table);
        if (ev->xid || cd->nsx)
            return sl_cdc_txn_stream_event(cd, ev, err); /* read again without streaming */
        if (!sl_cdc_drain(cd))
            return sl_err_set(err, SL_E_CANCELED, "the session is ending");
        return sl_cdc_schema_change(cd, ev->table, ev->relcols, ev->nrelcols, err) ||
                       sl_cdc_copy_schema(cd, ev->table, err)
                   ? -1
                   : 0;
    case SL_CDC_STREAM_START:
    case SL_CDC_STREAM_STOP:
    case SL_CDC_STREAM_COMMIT:
    case SL_CDC_STREAM_ABORT:
        return sl_cdc_txn_stream_event(cd, ev, err);
    }
    return 0;
}

/* Publishes a heartbeat at position end on every lane. */
static void heartbeat(sl_cdc_run_t *cd, uint64_t end)
{
    sl_err_t err = {0};
    sl_pos_t pos = sl_cdc_copy_slot(cd); /* between transactions, past what was sent */
    for (int i = 0; i < cd->lanes; i++) {
        sl_cdc_open_batch(cd, i, pos, SL_CBATCH_HEARTBEAT);
        cd->lane[i].bb.hdr.last = pos;
        cd->last_end = end;
        if (sl_cdc_publish(cd, i, &err)) {
            if (err.code != SL_E_CANCELED)
                sl_run_fail(&cd->run, &err);
            return;
        }
    }
    xact_push(cd, (xact_t){end, end});
    cd->last_hb_ms = sl_cdc_now_ms();
}

static uint64_t confirm(void *ctx, uint64_t server_end)
{
    sl_cdc_run_t *cd = ctx;
    if (server_end > atomic_load(&cd->server_end))
        atomic_store(&cd->server_end, server_end);
    sl_cdc_copy_reached(cd, server_end);
    pthread_mutex_lock(&cd->run.mu);
    retire(cd);
    sl_pos_t u = lowest_pending(cd);
    pthread_mutex_unlock(&cd->run.mu);
    while (cd->xn > 0) {
        xact_t *x = &cd->xq[cd->xhead];
        bool applied = sl_pos_cmp(u, POS_MAX) == 0 ? true : x->lsn < u.lsn;
        if (!applied)
            break;
        if (x->end > cd->flushable)
            cd->flushable = x->end;
        cd->xhead = (cd->xhead + 1) % cd->xcap;
        cd->xn--;
    }
    if (cd->empty_end > server_end)
        server_end = cd->empty_end; /* everything before it was read */
    /* no heartbeat while a streamed transaction is open: the confirmed position stays
     * below where it began (cdc_txn.c) */
    if (sl_pos_cmp(u, POS_MAX) == 0 && cd->xn == 0 && !cd->nsx && server_end > cd->last_end &&
        sl_cdc_now_ms() - cd->last_hb_ms >= HEARTBEAT_MS && !sl_run_stopping(&cd->run))
        heartbeat(cd, server_end);
    if (cd->flushable > atomic_load(&cd->confirmed))
        sl_cdc_set_confirmed(cd, cd->flushable);
    return atomic_load(&cd->confirmed);
}

static bool stopping(void *ctx)
{
    sl_cdc_run_t *cd = ctx;
    sl_err_t err = {0};
    log_progress(cd);
    if (atomic_load(&cd->run.failed) || atomic_load(&cd->run.restart))
        return true;
    int64_t down = atomic_load(&cd->target_down_ms);
    if (down && sl_cdc_now_ms() - down > TARGET_DOWN_MS) {
        /* Nothing can be applied: let go of the source until the target is back. A
         * PostgreSQL source could not even shut down meanwhile (its WAL sender waits for
         * the position sent to be confirmed). */
        sl_run_restart(&cd->run, "the target has been unreachable for 5 s");
        return true;
    }
    if (sl_run_stop_asked(&cd->run)) {
        /* finish the source transaction being read first (up to STOP_WAIT_MS), so that
         * the target is left with whole transactions */
        int64_t now = sl_cdc_now_ms();
        if (!cd->stop_seen_ms)
            cd->stop_seen_ms = now;
        if (cd->in_xact && now - cd->stop_seen_ms < STOP_WAIT_MS)
            return false;
        if (!drain_ended(cd))
            sl_warn("stopping before every change was applied; the next run reads them again");
        return true;
    }
    /* a batch is cut between transactions, unless it is full (add_change); tables are
     * copied between transactions too */
    if (!cd->in_xact && (publish_all(cd, true, &err) || sl_cdc_copy_tick(cd, &err)) && err.code != SL_E_CANCELED) {
        if (err.retriable && !err.fatal)
            sl_run_restart(&cd->run, "copying a table failed; the session starts again");
        else
            sl_run_fail(&cd->run, &err);
    }
    return atomic_load(&cd->run.failed) || atomic_load(&cd->run.restart);
}

void sl_cdc_reader_handler(sl_cdc_run_t *cd, sl_cdc_handler_t *h)
{
    cd->streams_xacts = !cd->no_streaming && !sl_cdc_copy_any(cd);
    *h = (sl_cdc_handler_t){
        .ctx = cd, .on_event = on_event, .confirm = confirm, .stopping = stopping, .streaming = cd->streams_xacts};
}
