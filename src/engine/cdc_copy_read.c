/*
 * cdc_copy_read.c: reading a table beside its change stream (cdc_copy.h): a chunk in a
 * snapshot of its own, sent at the point of the stream where the reader stands, and a
 * single row read again (the insert half of a key change, cdc_copy.c).
 *
 * A chunk: the snapshot is taken (source/cdc.h snap_take), and must see every
 * transaction the reader has read so far (PostgreSQL: none of their ids is in progress
 * in it: a transaction is in the WAL, and sent, a moment before it is visible); an open
 * mark with the snapshot goes to every lane; then the rows after the lowest key any lane
 * stands at (a row at or below its lane's key is skipped: a lane committed more than
 * another before a crash), at most options.chunk_rows of them, each to its key's lane;
 * then an end mark with the last key read, or "end" when the table ended. The rows go
 * straight to the lanes (publishing waits while a lane is LANE_WINDOW batches behind),
 * so memory stays bounded by the batches in flight, and the snapshot lasts as long as
 * one chunk takes. A table without a primary key, or whose key the source does not order
 * as sluice compares (cdc_keys.c), is read in one piece in one snapshot: it cannot
 * resume, and starts over when it was cut short.
 *
 * Thread: the reader's, between transactions (a chunk), or inside one (a row).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "engine/cdc_copy_int.h"

#define RETRY_MS 200
#define WAIT_LOG_MS 10000
#define PING_MS 2000
#define ROW_WAIT_MS 10000 /* how long reading a row again waits for its snapshot */

static int source(sl_cdc_run_t *cd, sl_err_t *err)
{
    sl_copy_t *cp = cd->copy;
    if (cp->src)
        return 0;
    if (sl_source_open(cd->spec->source_url, &cp->src, err)) {
        sl_err_prefix(err, "source: ");
        return -1;
    }
    return 0;
}

/* The snapshot side went away: the next chunk opens it again. */
static void source_lost(sl_cdc_run_t *cd)
{
    sl_source_close(cd->copy->src);
    cd->copy->src = NULL;
}

int sl_cdc_copy_order(sl_cdc_run_t *cd, int ti, sl_err_t *err)
{
    copy_table_t *T = &cd->copy->t[ti];
    const sl_table_t *t = cd->maps[ti]->scan;
    const char *why = NULL;
    bool ordered = false;
    if (sl_table_pk_count(t) == 0)
        why = "it has no primary key";
    else if (!sl_cdc_key_orderable(t))
        why = "its key has a type whose order sluice cannot reproduce";
    else if (source(cd, err) || cd->ops->key_ordered(cd->conn, cd->copy->src, t, &ordered, err))
        return -1;
    else if (!ordered)
        why = "its key is text in a collation that does not compare bytes";
    T->ordered = ordered;
    if (ordered)
        sl_info("table \"%s\": copied in chunks of up to %d rows, in key order", T->label, cd->spec->opt.chunk_rows);
    else
        sl_info("table \"%s\": copied in one piece in one snapshot (%s); it cannot resume part-way", T->label, why);
    return 0;
}

/* Whether the snapshot sees every transaction the reader has read (see the top). */
static bool sees_all_read(const sl_cdc_run_t *cd, const sl_copy_t *cp, const sl_cdc_snap_t *snap)
{
    /* A snapshot known by its position (MariaDB): the transaction read last must lie
     * before it. MariaDB writes a transaction to the binlog, where the stream reads it,
     * before the engine's commit makes it visible, and a snapshot taken in between holds
     * a position before it: a change the stream dropped as above the chunk would then be
     * in neither the chunk nor the stream. */
    if (snap->below && cd->cur_lsn && !sl_cdc_snap_sees(snap, cd->cur_lsn, 0))
        return false;
    for (int i = 0; i < cp->nxids; i++)
        if (sl_cdc_snap_running(snap, cp->xids[i]))
            return false;
    return true;
}

typedef struct chunk {
    sl_cdc_run_t *cd;
    int ti;
    const sl_table_t *t;
    bool ordered;
    int64_t rows, sent;
    sl_cdc_lcopy_t last; /* tracks the last key read */
    int64_t pinged_ms;
} chunk_t;

static int on_row(void *ctx, const sl_value_t *vals, int nvals, sl_err_t *err)
{
    chunk_t *k = ctx;
    sl_cdc_run_t *cd = k->cd;
    copy_table_t *T = &cd->copy->t[k->ti];
    k->rows++;
    sl_change_t c = {.op = SL_OP_COPY, .table = (uint32_t)k->ti, .ncols = nvals, .row = vals};
    int j = sl_cdc_reader_lane(cd, &c);
    if (k->ordered) {
        sl_cdc_lcopy_row(&k->last, k->t, vals);
        const sl_cdc_lcopy_t *L = &T->lane[j];
        if (L->after_end || (L->has_after && sl_cdc_key_cmp(k->t, vals, &L->after) <= 0))
            return 0; /* this lane committed it before (a crash cut the chunk) */
    }
    c.pos = sl_cdc_copy_slot(cd);
    if (sl_cdc_reader_put(cd, j, &c, err))
        return -1;
    sl_cdc_lcopy_row(&T->lane[j], k->t, vals);
    k->sent++;
    int64_t now = sl_cdc_now_ms();
    if (now - k->pinged_ms >= PING_MS) { /* the stream's connection waits meanwhile */
        k->pinged_ms = now;
        if (cd->conn->ops->ping(cd->conn, err))
            return -1;
    }
    return 0;
}

/* The mark JSON for every lane: open (with the snapshot) or end. */
static int mark_all(sl_cdc_run_t *cd, int ti, json_t *mark, sl_err_t *err)
{
    int rc = 0;
    for (int j = 0; j < cd->lanes && !rc; j++)
        rc = sl_cdc_copy_mark(cd, ti, j, json_deep_copy(mark), err);
    json_decref(mark);
    return rc;
}

/* The lowest key any lane has copied up to (NULL: from the start), as JSON. */
static char *low_key(sl_cdc_run_t *cd, int ti)
{
    copy_table_t *T = &cd->copy->t[ti];
    const sl_table_t *t = cd->maps[ti]->scan;
    const sl_cdc_key_t *lo = NULL;
    for (int j = 0; j < cd->lanes; j++) {
        const sl_cdc_lcopy_t *L = &T->lane[j];
        if (L->after_end)
            continue;
        if (!L->has_after)
            return NULL;
        if (!lo || sl_cdc_key_cmp_keys(t, &L->after, lo) < 0)
            lo = &L->after;
    }
    if (!lo)
        return NULL;
    json_t *a = json_array();
    for (int i = 0; i < lo->n; i++)
        json_array_append_new(a, json_stringn(lo->v[i].p, (size_t)lo->v[i].len));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

/* A snapshot that sees everything read so far: 1 taken, 0 not yet (retry later). */
static int take(sl_cdc_run_t *cd, copy_table_t *T, sl_cdc_snap_t *snap, bool need_cur, sl_err_t *err)
{
    sl_copy_t *cp = cd->copy;
    if (source(cd, err))
        return -1;
    int rc = cd->ops->snap_take(cd->conn, cp->src, snap, err);
    if (rc < 0) {
        if (err->retriable)
            source_lost(cd);
        return -1;
    }
    int64_t now = sl_cdc_now_ms();
    if (rc == 1) {
        if (now - T->wait_logged_ms >= WAIT_LOG_MS) {
            T->wait_logged_ms = now;
            sl_info("table \"%s\": waiting for the transactions that began before it joined the stream to end",
                    T->label);
        }
        return 0;
    }
    if (!sees_all_read(cd, cp, snap) || (need_cur && sl_cdc_snap_running(snap, cp->cur_xid))) {
        /* committed, and read from the stream, but not visible yet: a moment later */
        sl_cdc_snap_clear(snap);
        return cd->ops->snap_done(cd->conn, cp->src, err) ? -1 : 0;
    }
    return 1;
}

int sl_cdc_copy_chunk(sl_cdc_run_t *cd, int ti, sl_err_t *err)
{
    sl_copy_t *cp = cd->copy;
    copy_table_t *T = &cp->t[ti];
    const sl_table_t *t = cd->maps[ti]->scan;
    sl_cdc_snap_t snap;
    int rc = take(cd, T, &snap, false, err);
    if (rc <= 0) {
        cp->retry_ms = sl_cdc_now_ms() + (rc == 0 ? RETRY_MS : 0);
        return rc;
    }
    cp->nxids = 0; /* every later snapshot sees them too */
    chunk_t k = {.cd = cd, .ti = ti, .t = t, .ordered = T->ordered == 1, .pinged_ms = sl_cdc_now_ms()};
    k.last.win = true;
    char *lo = k.ordered ? low_key(cd, ti) : NULL;
    json_t *open = json_pack("{s:s, s:I, s:b, s:o}", "k", "open", "gen", (json_int_t)T->gen.gen, "all", !k.ordered,
                             "snap", sl_cdc_snap_to_json(&snap));
    sl_scan_t scan = {.table = t, .filter = cd->maps[ti]->filter, .after_key = lo, .limit = k.ordered ? cd->spec->opt.chunk_rows : 0};
    rc = mark_all(cd, ti, open, err);
    if (rc == 0)
        rc = cp->src->ops->scan(cp->src, &scan, on_row, &k, err);
    if (rc == 0) {
        bool end = !k.ordered || k.rows < scan.limit;
        json_t *m = json_pack("{s:s, s:I}", "k", "end", "gen", (json_int_t)T->gen.gen);
        if (end) {
            json_object_set_new(m, "upto", json_string("end"));
        } else {
            char *key = sl_cdc_key_json_of(t, &k.last.upto);
            json_object_set_new(m, "upto", json_string(key));
            free(key);
        }
        rc = mark_all(cd, ti, m, err);
        sl_debug("table \"%s\": chunk after %s: %" PRId64 " rows read, %" PRId64 " sent%s", T->label, lo ? lo : "the start",
                 k.rows, k.sent, end ? ", the last" : "");
    }
    sl_err_t e2 = {0};
    if (cd->ops->snap_done(cd->conn, cp->src, rc ? &e2 : err) && rc == 0)
        rc = -1;
    if (rc && err->retriable && err->code != SL_E_CANCELED)
        source_lost(cd);
    free(lo);
    sl_cdc_lcopy_clear(&k.last);
    sl_cdc_snap_clear(&snap);
    return rc ? -1 : 1;
}

/* ---- a row read again ---------------------------------------------------------------- */

typedef struct one_row {
    sl_copy_t *cp;
    sl_buf_t *buf;
    bool found;
} one_row_t;

static int keep_row(void *ctx, const sl_value_t *vals, int nvals, sl_err_t *err)
{
    one_row_t *o = ctx;
    sl_buf_reset(o->buf);
    size_t off[SL_COPY_MAX_COLS];
    for (int i = 0; i < nvals && i < SL_COPY_MAX_COLS; i++) {
        off[i] = o->buf->len;
        if (vals[i].len > 0 && sl_buf_add(o->buf, vals[i].p, (size_t)vals[i].len, err))
            return -1;
    }
    for (int i = 0; i < nvals && i < SL_COPY_MAX_COLS; i++)
        o->cp->vals[i] = vals[i].len < 0 ? vals[i] : (sl_value_t){o->buf->data + off[i], vals[i].len};
    o->found = true;
    return 0;
}

int sl_cdc_copy_insert_half(sl_cdc_run_t *cd, copy_table_t *T, const sl_table_t *t, const sl_change_t *c, sl_change_t *out,
                            int *n, sl_err_t *err)
{
    sl_copy_t *cp = cd->copy;
    if (c->ncols > SL_COPY_MAX_COLS)
        return sl_err_set(err, SL_E_LIMIT, "table \"%s\" has more than %d columns", T->label, SL_COPY_MAX_COLS);
    if (!cp->vals && !(cp->vals = calloc(SL_COPY_MAX_COLS, sizeof *cp->vals)))
        sl_oom();
    bool missing = false;
    for (int i = 0; i < c->ncols; i++) {
        cp->vals[i] = c->row[i];
        if (c->row[i].len == SL_VALUE_UNCHANGED) {
            /* the old row, when the source sent it whole (REPLICA IDENTITY FULL) */
            if (c->old[i].len >= 0)
                cp->vals[i] = c->old[i];
            else
                missing = true;
        }
    }
    *n = 1;
    out[0] = (sl_change_t){.op = SL_OP_INSERT, .table = c->table, .pos = c->pos, .commit_us = c->commit_us,
                           .ncols = c->ncols, .row = cp->vals};
    if (!missing)
        return 0;
    /* read it again, in a snapshot that sees this transaction */
    sl_cdc_snap_t snap;
    int64_t until = sl_cdc_now_ms() + ROW_WAIT_MS;
    int rc;
    while ((rc = take(cd, T, &snap, true, err)) == 0) {
        if (sl_cdc_now_ms() > until) {
            sl_err_set(err, SL_E_CONFLICT, "table \"%s\": could not read a moved row again in time", T->label);
            sl_err_retriable(err);
            return -1;
        }
        sl_run_sleep(&cd->run, 5);
    }
    if (rc < 0)
        return -1;
    char *key = sl_cdc_key_json(t, c->row);
    one_row_t o = {.cp = cp, .buf = &cp->rowbuf};
    sl_scan_t scan = {.table = t, .filter = cd->maps[c->table]->filter, .key_eq = key, .limit = 1};
    rc = cp->src->ops->scan(cp->src, &scan, keep_row, &o, err);
    sl_err_t e2 = {0};
    if (cd->ops->snap_done(cd->conn, cp->src, rc ? &e2 : err) && rc == 0)
        rc = -1;
    if (rc == 0) {
        copy_kwin_t *kw = realloc(T->kw, sizeof *kw * (size_t)(T->nkw + 1));
        if (!kw)
            sl_oom();
        T->kw = kw;
        T->kw[T->nkw].snap = snap;
        if (sl_cdc_key_parse(key, sl_table_pk_count(t), &T->kw[T->nkw].key)) {
            rc = sl_err_set(err, SL_E_INTERNAL, "table \"%s\": a key that does not read back", T->label);
        } else {
            T->nkw++;
            snap = (sl_cdc_snap_t){0};
            sl_cdc_copy_windows_changed(cd);
        }
        *n = o.found ? 1 : 0;
        sl_debug("table \"%s\": a row moved to key %s with unchanged values was read again (%s)", T->label, key,
                 o.found ? "found" : "gone");
    }
    free(key);
    sl_cdc_snap_clear(&snap);
    return rc;
}
