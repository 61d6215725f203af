/*
 * reader.c: reader threads of a load. Each owns one source connection inside the
 * shared snapshot, takes the next unfinished stripe, streams its rows in key order
 * into bounded batches and publishes them to the stripe's lane.
 *
 * Thread: one per reader connection. Takes ld->run.mu to pick stripes and to wait for
 * room in the in-flight window (back-pressure: at most max_inflight batches are
 * published and not yet applied, so neither the broker store nor memory grows with
 * the table).
 *
 * With options.placement workers or any (place.c, docs/cluster.md "Workers") the stripes
 * come from the stripe queue instead, each with where it resumes, and a reader may be a
 * worker's: it keeps its stripe in progress while it reads it, acknowledges it once its
 * last batch is published (a reader that dies leaves it to another, which publishes the
 * same batches again: deduplicated, or skipped by the checkpoint), and a worker's waits
 * for room by the broker stream's pending messages.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/clock.h"
#include "core/mem.h"
#include "engine/job.h"
#include "engine/load_int.h"

typedef struct rstate {
    load_t *ld;
    sl_bus_sub_t *queue; /* the stripe queue, when ld->queued */
    sl_bus_msg_t *cur;   /* the stripe being read, from the queue */
    int64_t touched_ms;  /* when cur was last kept in progress */
    int stripe;
    const sl_table_t *t;
    sl_batch_builder_t bb;
    sl_buf_t key;       /* the last row's key values: varint length + bytes each */
    int npk;
    int pkcol[32];
    bool counted;       /* a file unit: the key is the count of rows read in the stripe */
    int64_t nrows_in_stripe;
    const sl_map_t *filtered; /* a source that cannot filter (files): rows come whole and
                                 this map's filter and projection apply here */
    sl_value_t *proj;   /* the projected row (filtered) */
    int nproj;
} rstate_t;

/* A whole source row through r->filtered's filter and projection (into r->proj): 1 kept,
 * 0 left out, -1 on a value that is not valid. */
static int filter_here(rstate_t *r, const sl_value_t *vals, int n, sl_err_t *err)
{
    const sl_map_t *m = r->filtered;
    if (r->nproj < m->tgt->ncolumns) {
        free(r->proj);
        r->nproj = m->tgt->ncolumns;
        if (!(r->proj = calloc((size_t)r->nproj, sizeof *r->proj)))
            sl_oom();
    }
    return sl_map_filter_row(m, vals, n, r->proj, err);
}

/* The next stripe of the cursor: its number, or -1 when none is left. */
static int take_stripe(load_t *ld)
{
    pthread_mutex_lock(&ld->run.mu);
    int s = -1;
    while (ld->next_stripe < ld->plan.nstripes) {
        int c = ld->next_stripe++;
        if (!ld->st[c].done) {
            s = c;
            break;
        }
    }
    pthread_mutex_unlock(&ld->run.mu);
    return s;
}

/* The next stripe from the queue, and where it resumes (*st, its position owned): -1 when
 * the load or the pass is over. */
static int take_queued(rstate_t *r, stripe_state_t *st)
{
    load_t *ld = r->ld;
    sl_err_t err = {0};
    while (!sl_run_stopping(&ld->run) && (ld->worker || atomic_load(&ld->stripes_left) > 0)) {
        sl_bus_msg_t *msg = NULL;
        int rc = sl_bus_fetch(r->queue, &msg, 500, &err);
        if (rc < 0) {
            sl_warn("reading the stripe queue: %s; retrying", err.message);
            sl_run_sleep(&ld->run, 500);
            continue;
        }
        if (rc == 0)
            continue;
        sl_job_stripe_t js;
        if (sl_job_stripe_decode(sl_bus_msg_data(msg), sl_bus_msg_len(msg), &js, &err) ||
            js.stripe >= ld->plan.nstripes) {
            sl_warn("the stripe queue holds a message of another load; dropped");
            sl_bus_term(msg);
            sl_bus_msg_free(msg);
            free(js.position);
            continue;
        }
        *st = (stripe_state_t){.seq = js.seq, .position = js.position};
        r->cur = msg;
        r->touched_ms = sl_mono_ms();
        return js.stripe;
    }
    return -1;
}

/* A worker's reader: waits until the broker stream holds fewer than ld->window
 * batches; false when stopping. */
static bool wait_pending(load_t *ld)
{
    while (!sl_run_stopping(&ld->run)) {
        int64_t n = 0;
        bool exists = false;
        sl_err_t err = {0};
        if (sl_bus_stream_pending(ld->run.bus, ld->spec->name, &n, NULL, 0, &exists, &err) == 0 &&
            (!exists || n < ld->window))
            return exists;
        sl_run_sleep(&ld->run, 200);
    }
    return false;
}

/* Blocks until the in-flight window has room; false when stopping. */
static bool wait_window(load_t *ld)
{
    if (ld->worker)
        return wait_pending(ld);
    pthread_mutex_lock(&ld->run.mu);
    while (ld->inflight >= ld->max_inflight && !sl_run_stopping(&ld->run))
        sl_run_wait(&ld->run, 200);
    bool ok = !sl_run_stopping(&ld->run);
    if (ok)
        ld->inflight++;
    pthread_mutex_unlock(&ld->run.mu);
    return ok;
}

/* The last row's key as a JSON array of strings. */
static char *key_json(rstate_t *r)
{
    if (r->key.len == 0)
        return NULL;
    json_t *a = json_array();
    size_t pos = 0;
    const unsigned char *p = (const unsigned char *)r->key.data;
    while (pos < r->key.len) {
        uint64_t n = 0;
        int shift = 0;
        unsigned char c;
        do {
            c = p[pos++];
            n |= (uint64_t)(c & 0x7f) << shift;
            shift += 7;
        } while (c & 0x80);
        json_array_append_new(a, json_stringn_nocheck((const char *)p + pos, (size_t)n));
        pos += (size_t)n;
    }
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

static int publish(rstate_t *r, sl_err_t *err)
{
    load_t *ld = r->ld;
    char *last = key_json(r);
    const char *data;
    size_t len;
    if (sl_batch_finish(&r->bb, last, &data, &len, err)) {
        free(last);
        return -1;
    }
    free(last);
    if (!wait_window(ld))
        return sl_err_set(err, SL_E_CANCELED, "load stopping");
    char msgid[96];
    snprintf(msgid, sizeof msgid, "e%" PRIu64 ".s%d.%u", ld->epoch, r->stripe, r->bb.hdr.seq);
    int lane = r->stripe % ld->lanes;
    for (int attempt = 0;; attempt++) {
        if (sl_bus_publish(ld->run.bus, ld->spec->name, lane, msgid, data, len, err) == 0)
            break;
        if (!err->retriable || attempt >= 60 || sl_run_stopping(&ld->run)) {
            pthread_mutex_lock(&ld->run.mu);
            if (!ld->worker)
                ld->inflight--;
            pthread_mutex_unlock(&ld->run.mu);
            if (!err->hint[0])
                sl_err_hint(err, "check the broker's log (the data directory's nats/nats-server.log) and "
                                 "the free space where it stores; run again to resume");
            return -1;
        }
        sl_warn("publishing to the broker failed (%s); retrying", err->message);
        atomic_fetch_add(&ld->run.retries, 1);
        sl_run_sleep(&ld->run, 500);
    }
    atomic_fetch_add(&ld->moves, 1);
    if (r->cur && sl_mono_ms() - r->touched_ms >= SL_BUS_JOB_WAIT_MS / 3) {
        sl_bus_in_progress(r->cur); /* still reading it */
        r->touched_ms = sl_mono_ms();
    }
    atomic_fetch_add(&ld->ts[ld->plan.stripes[r->stripe].table].rows_read,
                     (int64_t)r->bb.hdr.nrows);
    atomic_fetch_add(&ld->ts[ld->plan.stripes[r->stripe].table].bytes_read, (int64_t)len);
    sl_batch_hdr_t next = r->bb.hdr;
    next.seq++;
    next.flags = 0;
    next.nrows = 0;
    sl_batch_start(&r->bb, &next);
    return 0;
}

static int on_row(void *ctx, const sl_value_t *vals, int n, sl_err_t *err)
{
    rstate_t *r = ctx;
    if (sl_run_stopping(&r->ld->run))
        return sl_err_set(err, SL_E_CANCELED, "load stopping");
    if (r->filtered) {
        int keep = filter_here(r, vals, n, err);
        if (keep <= 0) {
            r->nrows_in_stripe += keep == 0; /* a unit's count includes the rows left out */
            return keep;
        }
        vals = r->proj;
        n = r->filtered->tgt->ncolumns;
    }
    size_t rs = sl_batch_row_size(vals, n);
    if (sl_batch_would_overflow(&r->bb, rs) && publish(r, err))
        return -1;
    if (sl_batch_add_row(&r->bb, vals, n, err)) {
        char label[256];
        sl_err_prefix(err, "table \"%s\": ", sl_table_label(r->t, label, sizeof label));
        return -1;
    }
    if (r->counted) {
        char n[24];
        int k = snprintf(n, sizeof n, "%" PRId64, r->nrows_in_stripe + 1);
        sl_buf_reset(&r->key);
        if (sl_buf_add_varint(&r->key, (uint64_t)k, err) || sl_buf_add(&r->key, n, (size_t)k, err))
            return -1;
    } else if (r->npk) {
        sl_buf_reset(&r->key);
        for (int i = 0; i < r->npk; i++) {
            const sl_value_t *v = &vals[r->pkcol[i]];
            int64_t len = v->len < 0 ? 0 : v->len;
            if (sl_buf_add_varint(&r->key, (uint64_t)len, err) ||
                sl_buf_add(&r->key, v->p, (size_t)len, err))
                return -1;
        }
    }
    r->nrows_in_stripe++;
    if (sl_batch_full(&r->bb))
        return publish(r, err);
    return 0;
}

static int read_stripe(rstate_t *r, sl_source_t *src, int s, const stripe_state_t *st, sl_err_t *err)
{
    load_t *ld = r->ld;
    const sl_stripe_t *sp = &ld->plan.stripes[s];
    const sl_map_t *m = ld->plan.maps[sp->table];
    const sl_table_t *t = m->scan; /* the target's columns, under their source names */
    bool keyed = sl_plan_keyed(t);
    r->stripe = s;
    r->t = t;
    r->npk = keyed ? sl_table_pk_count(t) : 0;
    if (r->npk > 32)
        return sl_err_set(err, SL_E_SCHEMA, "primary keys of more than 32 columns are not supported");
    for (int i = 0; i < r->npk; i++)
        r->pkcol[i] = sl_table_pk_col(t, i);
    r->nrows_in_stripe = 0;
    r->counted = sp->unit != NULL;
    sl_buf_reset(&r->key);
    sl_batch_hdr_t h = {.flags = SL_BATCH_FIRST, .epoch = ld->epoch, .stripe = (uint32_t)s, .seq = 1,
                        .table = (uint32_t)sp->table, .ncols = (uint32_t)t->ncolumns};
    sl_scan_t scan = {.table = t, .after_key = sp->after_key, .upto_key = sp->upto_key,
                      .unit = sp->unit, .filter = m->filter};
    r->filtered = NULL;
    if (m->filter && src->ops->units) { /* files: read whole rows, filter and project here */
        r->filtered = m;
        scan.table = m->src;
        scan.filter = NULL;
    }
    if (st->seq > 0 || st->position) {
        if (r->counted) {
            /* a file unit resumes after its rows already committed (["N"]) */
            scan.after_key = st->position;
            if (st->position) {
                json_t *a = json_loads(st->position, 0, NULL);
                const char *c = json_string_value(json_array_get(a, 0));
                r->nrows_in_stripe = c ? strtoll(c, NULL, 10) : 0;
                json_decref(a);
            }
        } else if (keyed && st->position) {
            scan.after_key = st->position; /* resume after the last committed key */
        } else if (!keyed) {
            h.flags |= SL_BATCH_RESET; /* no key to resume from: redo the stripe whole */
        }
    }
    sl_batch_start(&r->bb, &h);
    if (src->ops->scan(src, &scan, on_row, r, err)) {
        char label[256];
        if (err->code != SL_E_CANCELED && !strstr(err->message, "table \""))
            sl_err_prefix(err, "reading table \"%s\": ", sl_table_label(t, label, sizeof label));
        return -1;
    }
    r->bb.hdr.flags |= SL_BATCH_LAST;
    return publish(r, err);
}

void *sl_load_reader_main(void *arg)
{
    reader_arg_t *ra = arg;
    load_t *ld = ra->ld;
    rstate_t r = {.ld = ld};
    sl_batch_builder_init(&r.bb, (uint32_t)ld->spec->opt.batch_rows, ld->batch_bytes);
    sl_buf_init(&r.key, 1 << 20);
    sl_err_t err = {0};
    if (ld->queued && sl_bus_stripes_subscribe(ld->run.bus, ld->spec->name, &r.queue, &err)) {
        sl_run_fail(&ld->run, &err);
        goto out;
    }
    for (;;) {
        if (sl_run_stopping(&ld->run))
            break;
        stripe_state_t queued = {0};
        int s = ld->queued ? take_queued(&r, &queued) : take_stripe(ld);
        if (s < 0) {
            sl_debug("reader %d: no stripe left", ra->id);
            break;
        }
        int rc = read_stripe(&r, ra->src, s, ld->queued ? &queued : &ld->st[s], &err);
        free(queued.position);
        if (r.cur) {
            if (rc == 0)
                sl_bus_ack(r.cur); /* its last batch is stored */
            else
                sl_bus_nak(r.cur, 0); /* another reader reads it again */
            sl_bus_msg_free(r.cur);
            r.cur = NULL;
        }
        if (rc) {
            /* stopping (interrupt, restart, another thread's failure) is not a failure */
            if (err.code != SL_E_CANCELED && !sl_run_stopping(&ld->run))
                sl_run_fail(&ld->run, &err);
            break;
        }
    }
out:
    sl_bus_unsubscribe(r.queue);
    sl_batch_builder_free(&r.bb);
    sl_buf_free(&r.key);
    free(r.proj);
    return NULL;
}
