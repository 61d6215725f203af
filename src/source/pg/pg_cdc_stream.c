/*
 * pg_cdc_stream.c: the replication stream of a PostgreSQL change stream: pgoutput
 * messages (decoded by pgoutput.c) to change events for the engine's handler.
 *
 * Values sent and not sent. pgoutput 'u' (a TOASTed value the update did not touch)
 * becomes SL_VALUE_UNCHANGED, in the old row too (REPLICA IDENTITY FULL can log one
 * there): a target must not match on it. Generated columns are never sent
 * (PostgreSQL 15): they are NULL in inserted and old rows and unchanged in the new
 * row of an update, so a target that recreated them as generated columns computes
 * them, and any other target keeps what it has (stale after an update of the
 * columns they derive from; the load path copies computed values). What COPY text
 * still needs work for (bytea hex, char(n) padding) is done here as pg_scan.c does,
 * and money, which COPY reads as numeric, is stripped of its currency symbol and
 * separators.
 *
 * The stream loop follows pg_recvlogical: non-blocking PQgetCopyData, a poll on the
 * socket of at most 100 ms so that stopping() is seen, a standby status update at
 * least once a second and whenever the server asks. One message is in memory at a
 * time; the decoded message, the value arrays and the relation map are reused.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "source/pg/pg_cdc.h"

/* A publication lists the stream's tables, so this only bounds a hostile server. */
#define MAX_RELATIONS 100000
#define STATUS_EVERY_MS 1000
#define POLL_MS 100

static void rels_clear(sl_pg_cdc_t *c)
{
    for (int i = 0; i < c->nrels; i++) {
        for (int j = 0; j < c->rels[i].nnames; j++)
            free(c->rels[i].names[j]);
        free(c->rels[i].names);
        free(c->rels[i].rcol);
        free(c->rels[i].types);
        free(c->rels[i].typmods);
    }
    free(c->rels);
    c->rels = NULL;
    c->nrels = c->caprels = 0;
    c->last_rel = -1;
}

/* ---- relations ------------------------------------------------------------- */

static sl_pg_relmap_t *rel_find(sl_pg_cdc_t *c, uint32_t relid)
{
    if (c->last_rel >= 0 && c->last_rel < c->nrels && c->rels[c->last_rel].relid == relid)
        return &c->rels[c->last_rel];
    for (int i = 0; i < c->nrels; i++)
        if (c->rels[i].relid == relid) {
            c->last_rel = i;
            return &c->rels[i];
        }
    return NULL;
}

static int find_table(const sl_pg_cdc_t *c, const char *nsp, const char *name)
{
    for (int i = 0; i < c->ntables; i++)
        if (!strcmp(sl_pg_cdc_schema(c, c->tables[i]), nsp) && !strcmp(c->tables[i]->name, name))
            return i;
    return -1;
}

/* Maps the table's columns to the relation's by name, in order. Generated columns
 * are not sent by pgoutput (PostgreSQL 15), so a generated table column the
 * relation lacks is allowed and maps to -1. Returns 0, or 1 when they differ. */
static int rel_map(sl_pg_cdc_t *c, sl_pg_relmap_t *r)
{
    const sl_table_t *t = c->tables[r->table];
    int *rcol = realloc(r->rcol, sizeof *rcol * (size_t)(t->ncolumns ? t->ncolumns : 1));
    if (!rcol)
        sl_oom();
    r->rcol = rcol;
    r->t = NULL;
    int j = 0;
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *col = &t->columns[i];
        if (j < r->nnames && !strcmp(col->name, r->names[j]))
            rcol[i] = j++;
        else if (col->generated)
            rcol[i] = -1;
        else
            return 1;
    }
    if (j != r->nnames)
        return 1;
    r->t = t;
    r->nrcol = t->ncolumns;
    return 0;
}

static void names_list(sl_buf_t *b, char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        sl_buf_printf(b, NULL, "%s%s", i ? ", " : "", names[i]);
}

static int schema_differs(sl_pg_cdc_t *c, const sl_pg_relmap_t *r, sl_err_t *err)
{
    const sl_table_t *t = c->tables[r->table];
    char label[300];
    sl_table_label(t, label, sizeof label);
    sl_err_set(err, SL_E_SCHEMA, "the columns of table \"%s\" changed on the source", label);
    sl_buf_t a, b;
    sl_buf_init(&a, 64 * 1024);
    sl_buf_init(&b, 64 * 1024);
    names_list(&a, r->names, r->nnames);
    for (int i = 0; i < t->ncolumns; i++)
        sl_buf_printf(&b, NULL, "%s%s", i ? ", " : "", t->columns[i].name);
    sl_err_detail(err, "the source sends (%s); the stream's description has (%s)",
                  a.data ? a.data : "", b.data ? b.data : "");
    sl_err_hint(err, "run `sluice run --restart` to copy the table again with its new shape");
    sl_buf_free(&a);
    sl_buf_free(&b);
    return -1;
}

static int on_relation(sl_pg_cdc_t *c, const sl_pgo_msg_t *m, sl_err_t *err)
{
    sl_pg_relmap_t *r = rel_find(c, m->rel.relid);
    if (!r) {
        if (c->nrels >= MAX_RELATIONS)
            return sl_err_set(err, SL_E_LIMIT, "the replication stream described more than %d "
                                               "relations", MAX_RELATIONS);
        if (c->nrels == c->caprels) {
            int cap = c->caprels ? c->caprels * 2 : 16;
            sl_pg_relmap_t *p = realloc(c->rels, sizeof *p * (size_t)cap);
            if (!p)
                sl_oom();
            c->rels = p;
            c->caprels = cap;
        }
        r = &c->rels[c->nrels++];
        memset(r, 0, sizeof *r);
        r->relid = m->rel.relid;
    }
    /* same names, other types: a column changed type (ALTER COLUMN ... TYPE) */
    bool retyped = false;
    if (r->types && r->nnames == m->rel.ncols)
        for (int j = 0; j < r->nnames && !retyped; j++)
            retyped = !strcmp(r->names[j], m->relcols[j].name) &&
                      (r->types[j] != m->relcols[j].type || r->typmods[j] != m->relcols[j].typmod);
    size_t ntyp = (size_t)(m->rel.ncols ? m->rel.ncols : 1);
    uint32_t *types = realloc(r->types, sizeof *types * ntyp);
    int32_t *typmods = realloc(r->typmods, sizeof *typmods * ntyp);
    if (!types || !typmods)
        sl_oom();
    r->types = types;
    r->typmods = typmods;
    for (int j = 0; j < m->rel.ncols; j++) {
        types[j] = m->relcols[j].type;
        typmods[j] = m->relcols[j].typmod;
    }
    for (int j = 0; j < r->nnames; j++)
        free(r->names[j]);
    char **names = realloc(r->names, sizeof *names * (size_t)(m->rel.ncols ? m->rel.ncols : 1));
    if (!names)
        sl_oom();
    r->names = names;
    for (int j = 0; j < m->rel.ncols; j++)
        names[j] = sl_strdup(m->relcols[j].name);
    r->nnames = m->rel.ncols;
    r->t = NULL;
    r->table = find_table(c, m->rel.nspname, m->rel.relname);
    if (r->table < 0 || (!rel_map(c, r) && !retyped))
        return 0;

    /* The table changed on the source: the handler brings the stream's description
     * (and the target) in line, then the columns must match. */
    sl_cdc_event_t ev = {.kind = SL_CDC_RELATION,
                         .xact_lsn = c->xact_lsn,
                         .commit_us = c->commit_us,
                         .table = r->table,
                         .nrelcols = r->nnames,
                         .relcols = (const char *const *)r->names,
                         .xid = c->in_stream ? c->stream_xid : 0};
    int rc = c->h->on_event(c->h->ctx, &ev, err);
    if (rc)
        return rc;
    return rel_map(c, r) ? schema_differs(c, r, err) : 0;
}

/* ---- values ---------------------------------------------------------------- */

/* money as printed under lc_monetary=C ("-$1,234.56", "($1.00)") to plain decimal
 * text, in place: the result is never longer. */
static int money_plain(char *p, int64_t *len)
{
    char out[64];
    size_t n = 0;
    bool neg = false, digits = false;
    for (int64_t i = 0; i < *len; i++) {
        char ch = p[i];
        if (ch == '-' || ch == '(')
            neg = true;
        else if ((ch >= '0' && ch <= '9') || ch == '.') {
            if (n + 2 >= sizeof out)
                return -1;
            digits = digits || ch != '.';
            out[n++] = ch;
        }
    }
    if (!digits || (int64_t)n + neg > *len)
        return -1;
    size_t k = 0;
    if (neg)
        p[k++] = '-';
    memcpy(p + k, out, n);
    *len = (int64_t)(k + n);
    return 0;
}

/* One pgoutput column to a canonical value, as pg_scan.c's canonicalize() does for
 * COPY text (the message buffer is ours, so conversions work in place). */
static int to_value(const sl_table_t *t, const sl_column_t *col, const sl_pgo_datum_t *d,
                    sl_value_t *v, sl_err_t *err)
{
    if (d->kind == 'n') {
        *v = (sl_value_t){NULL, -1};
        return 0;
    }
    if (d->kind == 'u') {
        *v = (sl_value_t){NULL, SL_VALUE_UNCHANGED};
        return 0;
    }
    char *p = (char *)d->p;
    v->p = p;
    v->len = d->len;
    if (d->kind == 'b')
        return 0; /* binary output is never asked for: raw bytes as they come */
    if (col->type == SL_T_BYTES) {
        long long n = sl_pg_hex_decode(p, d->len);
        if (n < 0)
            return sl_err_set(err, SL_E_PROTOCOL, "unexpected bytea text in column \"%s\" of \"%s\"",
                              col->name, t->name);
        v->len = n;
    } else if (col->type == SL_T_TEXT && col->fixed) {
        while (v->len > 0 && p[v->len - 1] == ' ')
            v->len--;
    } else if (col->type == SL_T_MONEY && money_plain(p, &v->len)) {
        return sl_err_set(err, SL_E_PROTOCOL, "unexpected money text \"%.*s\" in column \"%s\" of \"%s\"",
                          (int)(d->len > 64 ? 64 : d->len), d->p, col->name, t->name);
    }
    return 0;
}

typedef enum { TUP_INSERT, TUP_NEW, TUP_OLD } tup_role_t;

/* A tuple in the relation's column order to vals[] in the table's. Columns the
 * relation does not send (generated ones): NULL in an inserted or old row, unchanged
 * in the new row of an update (the target computes or keeps them). */
static int fill(sl_pg_cdc_t *c, const sl_pg_relmap_t *r, const sl_pgo_datum_t *tup, int n, tup_role_t role,
                sl_value_t *vals, sl_err_t *err)
{
    const sl_table_t *t = r->t;
    if (n != r->nnames)
        return sl_err_set(err, SL_E_PROTOCOL, "a change of \"%s\" has %d columns, its relation %d",
                          t->name, n, r->nnames);
    for (int i = 0; i < t->ncolumns; i++) {
        int j = r->rcol[i];
        if (j < 0)
            vals[i] = (sl_value_t){NULL, role == TUP_NEW ? SL_VALUE_UNCHANGED : -1};
        else if (to_value(t, &t->columns[i], &tup[j], &vals[i], err))
            return -1;
    }
    return 0;
}

static void ensure_vals(sl_pg_cdc_t *c, int n)
{
    if (n <= c->capvals)
        return;
    free(c->row);
    free(c->old);
    c->row = calloc((size_t)n, sizeof *c->row);
    c->old = calloc((size_t)n, sizeof *c->old);
    if (!c->row || !c->old)
        sl_oom();
    c->capvals = n;
}

static int emit_change(sl_pg_cdc_t *c, sl_change_op_t op, int table, int ncols, const sl_value_t *row,
                       const sl_value_t *old, uint32_t subxid, sl_err_t *err)
{
    if (!c->in_xact && !c->in_stream)
        return sl_err_set(err, SL_E_PROTOCOL, "a change outside a transaction in the replication "
                                              "stream");
    sl_cdc_event_t ev = {.kind = SL_CDC_CHANGE, .table = table};
    ev.change = (sl_change_t){.op = op, .table = (uint32_t)table, .ncols = ncols, .row = row, .old = old};
    if (c->in_stream) {
        /* a streamed transaction: the engine numbers its changes at its commit */
        ev.xid = c->stream_xid;
        ev.subxid = subxid ? subxid : c->stream_xid;
    } else {
        ev.xact_lsn = c->xact_lsn;
        ev.commit_us = c->commit_us;
        ev.change.pos = (sl_pos_t){c->xact_lsn, ++c->idx};
        ev.change.commit_us = c->commit_us;
    }
    return c->h->on_event(c->h->ctx, &ev, err);
}

static int on_row(sl_pg_cdc_t *c, const sl_pgo_msg_t *m, sl_err_t *err)
{
    sl_pg_relmap_t *r = rel_find(c, m->row.relid);
    if (!r)
        return sl_err_set(err, SL_E_PROTOCOL, "a change of relation %" PRIu32 " before its "
                                              "Relation message", m->row.relid);
    if (r->table < 0)
        return 0; /* published, but not part of this stream */
    if (r->t != c->tables[r->table] && rel_map(c, r))
        return schema_differs(c, r, err); /* the handler replaced the description */
    const sl_table_t *t = r->t;
    ensure_vals(c, t->ncolumns ? t->ncolumns : 1);
    const sl_value_t *row = NULL, *old = NULL;
    sl_change_op_t op = (sl_change_op_t)m->kind;
    if (m->kind != SL_PGO_DELETE) {
        if (fill(c, r, m->newt, m->nnew, m->kind == SL_PGO_INSERT ? TUP_INSERT : TUP_NEW, c->row,
                 err))
            return -1;
        row = c->row;
    }
    if (m->row.old_kind) {
        if (fill(c, r, m->oldt, m->nold, TUP_OLD, c->old, err))
            return -1;
        old = c->old;
    }
    return emit_change(c, op, r->table, t->ncolumns, row, old, m->xid, err);
}

static int on_truncate(sl_pg_cdc_t *c, const sl_pgo_msg_t *m, sl_err_t *err)
{
    for (int i = 0; i < m->truncate.nrels; i++) {
        uint32_t relid = sl_pgo_truncate_relid(m, i);
        sl_pg_relmap_t *r = rel_find(c, relid);
        if (!r)
            return sl_err_set(err, SL_E_PROTOCOL, "a truncate of relation %" PRIu32 " before its "
                                                  "Relation message", relid);
        if (r->table < 0)
            continue;
        int rc = emit_change(c, SL_OP_TRUNCATE, r->table, c->tables[r->table]->ncolumns, NULL, NULL,
                             m->xid, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* The stream has delivered every transaction before pos. */
static int mark(sl_pg_cdc_t *c, uint64_t pos, sl_err_t *err)
{
    if (c->in_xact || c->in_stream)
        return 0;
    sl_cdc_event_t ev = {.kind = SL_CDC_MARK, .end_lsn = pos, .table = -1};
    return c->h->on_event(c->h->ctx, &ev, err);
}

/* Protocol 2's stream messages: blocks of a transaction in progress, then its end. A
 * block never nests, nor lies inside a BEGIN/COMMIT transaction. */
static int on_stream(sl_pg_cdc_t *c, const sl_pgo_msg_t *m, sl_err_t *err)
{
    sl_cdc_event_t ev = {.table = -1};
    bool stop = m->kind == SL_PGO_STREAM_STOP, abort_ = m->kind == SL_PGO_STREAM_ABORT;
    if (c->in_xact || (!abort_ && c->in_stream != stop))
        return sl_err_set(err, SL_E_PROTOCOL, "an unexpected stream message '%c' in the replication stream%s",
                          (char)m->kind, c->in_xact ? " (inside a transaction)" : "");
    switch (m->kind) {
    case SL_PGO_STREAM_START:
        c->in_stream = true;
        c->stream_xid = m->stream_start.xid;
        ev.kind = SL_CDC_STREAM_START;
        ev.xid = c->stream_xid;
        break;
    case SL_PGO_STREAM_STOP:
        c->in_stream = false;
        ev.kind = SL_CDC_STREAM_STOP;
        ev.xid = c->stream_xid;
        break;
    case SL_PGO_STREAM_COMMIT:
        ev.kind = SL_CDC_STREAM_COMMIT;
        ev.xid = m->stream_commit.xid;
        ev.xact_lsn = m->stream_commit.commit_lsn;
        ev.end_lsn = m->stream_commit.end_lsn;
        ev.commit_us = m->stream_commit.commit_us;
        break;
    default:
        ev.kind = SL_CDC_STREAM_ABORT;
        ev.xid = m->stream_abort.xid;
        ev.subxid = m->stream_abort.subxid;
        break;
    }
    if (!ev.xid)
        return sl_err_set(err, SL_E_PROTOCOL, "a stream message '%c' without a transaction id", (char)m->kind);
    return c->h->on_event(c->h->ctx, &ev, err);
}

/* One pgoutput message (an XLogData payload; the buffer is ours to modify). */
static int on_message(sl_pg_cdc_t *c, char *data, size_t len, sl_err_t *err)
{
    sl_pgo_msg_t *m = c->msg;
    if (sl_pgo_decode(data, len, c->in_stream, m, err))
        return -1;
    switch (m->kind) {
    case SL_PGO_BEGIN: {
        if (c->in_stream)
            return sl_err_set(err, SL_E_PROTOCOL, "a transaction began inside a stream block");
        c->in_xact = true;
        c->xact_lsn = m->begin.final_lsn;
        c->commit_us = m->begin.commit_us;
        c->idx = 0;
        sl_cdc_event_t ev = {.kind = SL_CDC_BEGIN,
                             .xact_lsn = c->xact_lsn,
                             .commit_us = c->commit_us,
                             .xid = m->begin.xid,
                             .table = -1};
        return c->h->on_event(c->h->ctx, &ev, err);
    }
    case SL_PGO_COMMIT: {
        if (!c->in_xact)
            return sl_err_set(err, SL_E_PROTOCOL, "a commit without a transaction in the "
                                                  "replication stream");
        c->in_xact = false;
        sl_cdc_event_t ev = {.kind = SL_CDC_COMMIT,
                             .xact_lsn = c->xact_lsn,
                             .end_lsn = m->commit.end_lsn,
                             .commit_us = m->commit.commit_us,
                             .table = -1};
        return c->h->on_event(c->h->ctx, &ev, err);
    }
    case SL_PGO_RELATION:
        return on_relation(c, m, err);
    case SL_PGO_INSERT:
    case SL_PGO_UPDATE:
    case SL_PGO_DELETE:
        return on_row(c, m, err);
    case SL_PGO_TRUNCATE:
        return on_truncate(c, m, err);
    case SL_PGO_MESSAGE:
        /* a logical message outside a transaction (sluice writes one after reading a
         * chunk, engine/cdc_copy.c) is decoded at its position: a position report */
        return m->message.flags & 1 ? 0 : mark(c, m->message.lsn, err);
    case SL_PGO_STREAM_START:
    case SL_PGO_STREAM_STOP:
    case SL_PGO_STREAM_COMMIT:
    case SL_PGO_STREAM_ABORT:
        return on_stream(c, m, err);
    default:
        return 0; /* Origin, Type: nothing to apply */
    }
}

/* ---- the replication stream ---------------------------------------------- */

static int64_t pg_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - SL_PGO_EPOCH_OFFSET_US;
}

static int lost(sl_pg_cdc_t *c, sl_err_t *err)
{
    char line[400];
    sl_pg_cdc_first_line(PQerrorMessage(c->pg.conn), line, sizeof line);
    sl_err_set(err, SL_E_CONNECT, "lost the replication connection to PostgreSQL at \"%s\": %s",
               c->pg.where, line[0] ? line : "connection closed");
    sl_err_hint(err, "sluice reconnects and resumes from the last confirmed position");
    sl_err_retriable(err);
    return -1;
}

/* A standby status update: write = flush = apply = the highest position the handler
 * let us confirm, never lower than one sent before. */
static int send_status(sl_pg_cdc_t *c, bool ask_reply, sl_err_t *err)
{
    uint64_t ok = c->h->confirm ? c->h->confirm(c->h->ctx, c->server_end) : 0;
    if (ok > c->confirmed)
        c->confirmed = ok;
    unsigned char msg[34];
    msg[0] = 'r';
    sl_pgo_put64(msg + 1, c->confirmed);
    sl_pgo_put64(msg + 9, c->confirmed);
    sl_pgo_put64(msg + 17, c->confirmed);
    sl_pgo_put64(msg + 25, (uint64_t)pg_now_us());
    msg[33] = ask_reply;
    if (PQputCopyData(c->pg.conn, (const char *)msg, sizeof msg) <= 0 || PQflush(c->pg.conn))
        return lost(c, err);
    return 0;
}

int sl_pg_cdc_ping(sl_cdc_t *base, sl_err_t *err)
{
    sl_pg_cdc_t *c = (sl_pg_cdc_t *)base;
    return c->h ? send_status(c, false, err) : 0;
}

/* An error the server ended the stream with, classified. */
static int stream_fail(sl_pg_cdc_t *c, PGresult *res, sl_err_t *err)
{
    const char *state = sl_pg_sqlstate(res);
    const char *prim = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char msg[400];
    snprintf(msg, sizeof msg, "%s", prim ? prim : "");
    if (!strcmp(state, "55006")) {
        sl_err_set(err, SL_E_CONFLICT, "replication slot \"%s\" is in use", c->slot);
        sl_err_detail(err, "%s: another process streams from it", msg);
        sl_err_hint(err, "stop the other run of this stream; sluice retries");
        sl_err_retriable(err);
    } else if (!strcmp(state, "42704") && strstr(msg, "replication slot")) {
        sl_err_set(err, SL_E_NOT_FOUND, "replication slot \"%s\" does not exist", c->slot);
        sl_err_detail(err, "the changes since the last confirmed position cannot be read");
        sl_err_hint(err, "run `sluice run --restart` to copy the tables again and create a new "
                         "slot");
    } else if (strstr(msg, "has already been removed") || strstr(msg, "can no longer get changes") ||
               strstr(msg, "invalidated")) {
        sl_err_set(err, SL_E_NOT_FOUND,
                   "the WAL that replication slot \"%s\" needs was removed from the server", c->slot);
        sl_err_detail(err, "%s", msg);
        sl_err_hint(err, "the stream fell too far behind (see max_slot_wal_keep_size); run "
                         "`sluice run --restart` to copy the tables again");
    } else if (strstr(msg, "publication")) {
        sl_err_set(err, SL_E_NOT_FOUND, "could not stream from replication slot \"%s\": %s",
                   c->slot, msg);
        sl_err_hint(err, "the publication \"%s\" must exist and list the stream's tables since "
                         "the slot was created; run `sluice run --restart` to set both up again",
                   c->pub);
    } else {
        char what[160];
        snprintf(what, sizeof what, "could not stream from replication slot \"%s\"", c->slot);
        sl_pg_fail(&c->pg, res, err, what);
        return -1;
    }
    PQclear(res);
    return -1;
}

/* Ends the COPY: CopyDone, then drain what the walsender still sends and its final
 * results (pg_recvlogical does the same so as not to miss a late error). */
static void end_copy(sl_pg_cdc_t *c)
{
    PGconn *conn = c->pg.conn;
    if (PQstatus(conn) != CONNECTION_OK)
        return;
    PQputCopyEnd(conn, NULL);
    PQflush(conn);
    PQsetnonblocking(conn, 0);
    char *buf;
    PGresult *res;
    while ((res = PQgetResult(conn))) {
        ExecStatusType st = PQresultStatus(res);
        PQclear(res);
        if (st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
            while (PQgetCopyData(conn, &buf, 0) > 0)
                PQfreemem(buf);
        }
    }
}

static int start_replication(sl_pg_cdc_t *c, uint64_t start, sl_err_t *err)
{
    char at[32];
    sl_lsn_format(start, at, sizeof at);
    sl_buf_t b;
    sl_buf_init(&b, 4096);
    /* The publication's name is [a-z0-9_] (sl_pg_cdc_name, checked when read from the
     * recorded state), so it needs no escaping in the option's string literal. Protocol
     * 2 streams transactions in progress (PostgreSQL 14+), when the engine takes them. */
    bool streaming = c->version >= 140000 && c->h->streaming;
    int rc = sl_buf_adds(&b, "START_REPLICATION SLOT ", err) || sl_pg_add_ident(&b, c->slot, err) ||
             sl_buf_printf(&b, err, " LOGICAL %s (proto_version '%d', publication_names '\"%s\"'%s%s)", at,
                           streaming ? 2 : 1, c->pub, c->version >= 140000 ? ", messages 'true'" : "",
                           streaming ? ", streaming 'on'" : "");
    PGresult *res = rc ? NULL : PQexec(c->pg.conn, b.data);
    sl_buf_free(&b);
    if (rc)
        return -1;
    if (!res || PQresultStatus(res) != PGRES_COPY_BOTH) {
        if (PQstatus(c->pg.conn) == CONNECTION_BAD) {
            PQclear(res);
            return lost(c, err);
        }
        return stream_fail(c, res, err);
    }
    PQclear(res);
    sl_debug("streaming changes from replication slot \"%s\" at %s (pgoutput protocol %d%s)", c->slot, at,
             streaming ? 2 : 1, streaming ? ", transactions in progress too" : "");
    return 0;
}

/* One CopyData message from the walsender. *reply is set when it asks for a status
 * update now. */
static int on_copydata(sl_pg_cdc_t *c, char *buf, int n, bool *reply, sl_err_t *err)
{
    const unsigned char *u = (const unsigned char *)buf;
    if (n >= 1 && buf[0] == 'k') {
        if (n < 18)
            return sl_err_set(err, SL_E_PROTOCOL, "a keepalive message of %d bytes", n);
        uint64_t end = sl_pgo_get64(u + 1);
        if (end > c->server_end)
            c->server_end = end;
        *reply = u[17] != 0;
        return mark(c, end, err);
    }
    if (n >= 1 && buf[0] == 'w') {
        if (n < 25)
            return sl_err_set(err, SL_E_PROTOCOL, "an XLogData message of %d bytes", n);
        return on_message(c, buf + 25, (size_t)n - 25, err);
    }
    return sl_err_set(err, SL_E_PROTOCOL, "unexpected replication message '%c' (%d bytes)",
                      n >= 1 && buf[0] >= 32 && buf[0] < 127 ? buf[0] : '?', n);
}

static int stream_loop(sl_pg_cdc_t *c, sl_err_t *err)
{
    PGconn *conn = c->pg.conn;
    const sl_cdc_handler_t *h = c->h;
    int64_t last_status = sl_mono_ms();
    for (;;) {
        if (h->stopping(h->ctx)) {
            int rc = send_status(c, false, err);
            end_copy(c);
            if (!rc) {
                char at[32];
                sl_lsn_format(c->confirmed, at, sizeof at);
                sl_debug("replication stream \"%s\" stopped; confirmed %s", c->slot, at);
            }
            return rc;
        }
        int64_t now = sl_mono_ms();
        if (now - last_status >= STATUS_EVERY_MS) {
            if (send_status(c, false, err))
                return -1;
            last_status = now;
        }
        char *buf = NULL;
        int n = PQgetCopyData(conn, &buf, 1);
        if (n == 0) {
            int64_t wait = STATUS_EVERY_MS - (now - last_status);
            struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
            if (pfd.fd < 0)
                return lost(c, err);
            if (poll(&pfd, 1, (int)(wait < POLL_MS ? (wait > 0 ? wait : 0) : POLL_MS)) < 0 &&
                errno != EINTR)
                return lost(c, err);
            if (!PQconsumeInput(conn))
                return lost(c, err);
            continue;
        }
        if (n == -1) {
            /* The server ended the COPY: an error, or a shutdown. */
            PGresult *res = PQgetResult(conn);
            if (res && PQresultStatus(res) == PGRES_FATAL_ERROR)
                return stream_fail(c, res, err);
            PQclear(res);
            while ((res = PQgetResult(conn)))
                PQclear(res);
            sl_err_set(err, SL_E_CONNECT, "PostgreSQL at \"%s\" ended the replication stream",
                       c->pg.where);
            sl_err_hint(err, "the server may be shutting down; sluice reconnects and resumes");
            sl_err_retriable(err);
            return -1;
        }
        if (n < 0)
            return lost(c, err);
        bool reply = false;
        int rc = on_copydata(c, buf, n, &reply, err);
        PQfreemem(buf);
        if (rc) {
            end_copy(c);
            return rc;
        }
        if (reply) {
            if (send_status(c, false, err))
                return -1;
            last_status = sl_mono_ms();
        }
    }
}

int sl_pg_cdc_stream(sl_cdc_t *base, uint64_t start, sl_table_t **tables, int n, const sl_cdc_handler_t *h,
                     sl_err_t *err)
{
    sl_pg_cdc_t *c = (sl_pg_cdc_t *)base;
    sl_pg_slot_t st;
    if (sl_pg_cdc_slot_state(c, c->slot, &st, err) || sl_pg_cdc_pub_check(c, tables, n, err))
        return -1;
    if (!st.exists) {
        sl_err_set(err, SL_E_NOT_FOUND, "replication slot \"%s\" does not exist", c->slot);
        sl_err_detail(err, "the changes since the last confirmed position cannot be read");
        sl_err_hint(err, "run `sluice run --restart` to copy the tables again and create a new slot");
        return -1;
    }
    if (st.lost) {
        sl_err_set(err, SL_E_NOT_FOUND,
                   "the WAL that replication slot \"%s\" needs was removed from the server", c->slot);
        sl_err_hint(err, "the stream fell too far behind (see max_slot_wal_keep_size); run "
                         "`sluice run --restart` to copy the tables again");
        return -1;
    }
    if (!c->msg && !(c->msg = malloc(sizeof *c->msg)))
        sl_oom();
    rels_clear(c);
    c->tables = tables;
    c->ntables = n;
    c->h = h;
    c->confirmed = st.confirmed; /* never send less than the slot already has */
    c->server_end = 0;
    c->in_xact = false;
    c->in_stream = false;
    c->stream_xid = 0;
    c->xact_lsn = 0;
    c->commit_us = 0;
    if (start < st.confirmed)
        start = st.confirmed;
    if (start_replication(c, start, err))
        return -1;
    if (PQsetnonblocking(c->pg.conn, 0)) /* writes block; reads poll */
        return lost(c, err);
    int rc = stream_loop(c, err);
    rels_clear(c);
    c->tables = NULL;
    c->h = NULL;
    return rc;
}

void sl_pg_cdc_stream_free(sl_pg_cdc_t *c)
{
    rels_clear(c);
    free(c->msg);
    free(c->row);
    free(c->old);
    c->msg = NULL;
    c->row = c->old = NULL;
    c->capvals = 0;
}
