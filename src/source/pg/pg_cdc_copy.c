/*
 * pg_cdc_copy.c: what copying a table beside a PostgreSQL change stream needs of the
 * source (source/cdc.h, engine/cdc_copy.c says how the copy works):
 *
 *   - a snapshot per chunk, on a plain connection of the snapshot side (pg_source.h):
 *     REPEATABLE READ, and pg_current_snapshot() says which transactions it sees, by
 *     transaction id. pg_current_wal_insert_lsn(), read after the snapshot was taken, is
 *     its horizon: every transaction the snapshot sees wrote its commit record before
 *     the snapshot was taken, so before that position; the stream is past the horizon
 *     once it delivered a transaction that commits at or after it, or reported a
 *     position at or after it. pg_logical_emit_message(false, 'sluice', …) after the
 *     chunk makes an idle walsender report one at once (a non-transactional logical
 *     message is decoded at its own position; pgoutput passes it on with `messages`,
 *     PostgreSQL 14+, and older servers still send a keepalive past it). No table is
 *     written on the source.
 *   - publication membership: ALTER PUBLICATION … ADD TABLE between sessions. A
 *     transaction that was running when the table was added may be decoded with the
 *     publication as it was before (the publication is looked up with the catalog of
 *     the transaction), so the first snapshot after a change waits until every
 *     transaction older than the change has ended: whatever such a transaction wrote is
 *     then in the chunk, whether the stream sends it or not.
 *   - whether a table's key is ordered the way sl_cdc_key_cmp() compares: the key
 *     columns' collations (C or POSIX, or the database's default when that is C).
 *
 * Thread: the reader's (the one that uses the stream's connection).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "source/pg/pg_cdc.h"
#include "source/pg/pg_source.h"

uint64_t sl_pg_cdc_pos_next(uint64_t end)
{
    return end; /* a commit record starts at or after the end of the one before */
}

static sl_pg_t *src_pg(sl_source_t *src) { return &((sl_pg_source_t *)src)->pg; }

/* The xmax of a snapshot taken now: every transaction id below it has begun. */
static int current_xmax(sl_pg_cdc_t *c, uint64_t *xmax, sl_err_t *err)
{
    sl_buf_t b;
    sl_buf_init(&b, 256);
    int rc = sl_buf_adds(&b, c->version >= 130000 ? "SELECT pg_current_snapshot()::text"
                                                  : "SELECT txid_current_snapshot()::text",
                         err);
    PGresult *r = rc ? NULL : sl_pg_cdc_query(c, &b, err, "could not read the current snapshot");
    sl_buf_free(&b);
    if (!r)
        return -1;
    sl_cdc_snap_t s;
    rc = sl_cdc_snap_parse_pg(PQgetvalue(r, 0, 0), &s);
    PQclear(r);
    if (rc)
        return sl_err_set(err, SL_E_PROTOCOL, "unexpected snapshot text from PostgreSQL");
    *xmax = s.xmax;
    sl_cdc_snap_clear(&s);
    return 0;
}

int sl_pg_cdc_publish_op(sl_cdc_t *base, sl_table_t *const *tables, int n, sl_table_t *const *gone, int ngone,
                         sl_err_t *err)
{
    sl_pg_cdc_t *c = (sl_pg_cdc_t *)base;
    bool changed = false;
    if (sl_pg_cdc_publish(c, tables, n, gone, ngone, &changed, err))
        return -1;
    return changed ? current_xmax(c, &c->pub_xmax, err) : 0;
}

int sl_pg_cdc_snap_take(sl_cdc_t *base, sl_source_t *src, sl_cdc_snap_t *snap, sl_err_t *err)
{
    sl_pg_cdc_t *c = (sl_pg_cdc_t *)base;
    sl_pg_t *pg = src_pg(src);
    const char *what = "could not take a snapshot to copy in";
    memset(snap, 0, sizeof *snap);
    if (sl_pg_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, what))
        return -1;
    /* the snapshot is taken for this statement (and kept by the transaction); the
     * insert position is read while it runs, after the snapshot */
    PGresult *r = sl_pg_query(pg,
                              c->version >= 130000
                                  ? "SELECT pg_current_snapshot()::text, pg_current_wal_insert_lsn()::text"
                                  : "SELECT txid_current_snapshot()::text, pg_current_wal_insert_lsn()::text",
                              0, NULL, err, what);
    if (!r) {
        sl_pg_exec(pg, "ROLLBACK", NULL, what);
        return -1;
    }
    int rc = sl_cdc_snap_parse_pg(PQgetvalue(r, 0, 0), snap) || sl_lsn_parse(PQgetvalue(r, 0, 1), &snap->horizon)
                 ? sl_err_set(err, SL_E_PROTOCOL, "%s: unexpected reply \"%s\", \"%s\"", what, PQgetvalue(r, 0, 0),
                              PQgetvalue(r, 0, 1))
                 : 0;
    PQclear(r);
    if (rc == 0 && snap->xmin < c->pub_xmax) {
        sl_debug("a transaction older than the publication change still runs (xmin %llu < %llu); the copy "
                 "waits for it",
                 (unsigned long long)snap->xmin, (unsigned long long)c->pub_xmax);
        rc = 1;
    }
    if (rc) {
        sl_cdc_snap_clear(snap);
        sl_pg_exec(pg, "ROLLBACK", NULL, what);
    }
    return rc;
}

int sl_pg_cdc_snap_done(sl_cdc_t *base, sl_source_t *src, sl_err_t *err)
{
    sl_pg_cdc_t *c = (sl_pg_cdc_t *)base;
    sl_pg_t *pg = src_pg(src);
    if (sl_pg_exec(pg, "COMMIT", err, "could not end the snapshot to copy in"))
        return -1;
    if (c->no_messages)
        return 0;
    sl_buf_t b;
    sl_err_t e = {0};
    sl_buf_init(&b, 1024);
    int rc = sl_buf_adds(&b, "SELECT pg_logical_emit_message(false, 'sluice', ", &e) ||
             sl_pg_add_literal(&b, c->stream, strlen(c->stream), &e) || sl_buf_adds(&b, ")", &e) ||
             sl_pg_exec(pg, b.data, &e, "could not write a watermark message");
    sl_buf_free(&b);
    if (rc) {
        /* the stream still gets past the horizon, with the next keepalive or change */
        sl_warn("%s; copies wait for the next change or keepalive of the stream instead", e.message);
        c->no_messages = true;
    }
    return 0;
}

int sl_pg_cdc_key_ordered(sl_cdc_t *base, sl_source_t *src, const sl_table_t *t, bool *ordered, sl_err_t *err)
{
    sl_pg_cdc_t *c = (sl_pg_cdc_t *)base;
    sl_pg_t *pg = src_pg(src);
    *ordered = false;
    sl_buf_t b, q;
    sl_buf_init(&b, 4096);
    sl_buf_init(&q, 4096);
    /* per key column: no collation (not a text type), or one that compares bytes */
    int rc = sl_buf_printf(&b, err,
                           "SELECT coalesce(bool_and(a.attcollation = 0 OR l.collname IN ('C', 'POSIX', 'ucs_basic')"
                           " OR (l.collname = 'default' AND d.datcollate IN ('C', 'POSIX')%s)), false), count(*)"
                           " FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
                           "  AND a.attnum = ANY (i.indkey)"
                           " LEFT JOIN pg_collation l ON l.oid = a.attcollation"
                           " JOIN pg_database d ON d.datname = current_database()"
                           " WHERE i.indisprimary AND i.indrelid = ",
                           c->version >= 150000 ? " AND d.datlocprovider = 'c'" : "") ||
             sl_pg_add_qname(&q, t->schema, t->name, err) || sl_pg_add_literal(&b, q.data, q.len, err) ||
             sl_buf_adds(&b, "::regclass", err);
    char what[400];
    snprintf(what, sizeof what, "could not read the key collations of \"%s.%s\"", t->schema, t->name);
    PGresult *r = rc ? NULL : sl_pg_query(pg, b.data, 0, NULL, err, what);
    sl_buf_free(&b);
    sl_buf_free(&q);
    if (!r)
        return -1;
    *ordered = PQgetvalue(r, 0, 0)[0] == 't' && atoi(PQgetvalue(r, 0, 1)) == sl_table_pk_count(t);
    PQclear(r);
    return 0;
}
