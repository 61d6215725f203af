/*
 * pg_cdc.c: PostgreSQL change data capture (source/cdc.h) with a logical replication
 * slot and the pgoutput plugin, protocol version 1.
 *
 * One replication=database connection does everything: the catalog checks run on it
 * as simple queries (the walsender accepts SQL, but not the extended protocol, so
 * literals are quoted here), the slot is created and the changes are streamed on it.
 * The session options set at connect time (DateStyle, IntervalStyle, TimeZone,
 * extra_float_digits, bytea_output, lc_monetary, client_encoding) make the walsender
 * print values as the COPY path of pg_scan.c reads them; what COPY still needs work
 * for (bytea hex, char(n) padding) is done here the same way, and money, which COPY
 * reads as numeric, is stripped of its currency symbol and separators.
 *
 * Values sent and not sent. pgoutput 'u' (a TOASTed value the update did not touch)
 * becomes SL_VALUE_UNCHANGED, in the old row too (REPLICA IDENTITY FULL can log one
 * there): a target must not match on it. Generated columns are never sent
 * (PostgreSQL 15): they are NULL in inserted and old rows and unchanged in the new
 * row of an update, so a target that recreated them as generated columns computes
 * them, and any other target keeps what it has (stale after an update of the
 * columns they derive from; the load path copies computed values).
 *
 * The stream loop follows pg_recvlogical: non-blocking PQgetCopyData, a poll on the
 * socket of at most 100 ms so that stopping() is seen, a standby status update at
 * least once a second and whenever the server asks. One message is in memory at a
 * time; the decoded message, the value arrays and the relation map are reused.
 * Everything here runs on the stream's reader thread.
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
#include "db/pg/pg.h"
#include "model/schema.h"
#include "source/cdc.h"
#include "source/pg/pgoutput.h"

#define SQL_MAX (16u << 20)
/* A publication lists the stream's tables, so this only bounds a hostile server. */
#define MAX_RELATIONS 100000
#define STATUS_EVERY_MS 1000
#define POLL_MS 100

/* How the walsender must print values: the settings db/pg/pg_conn.c SETs on normal
 * connections, plus lc_monetary=C so that money prints as "$1,234.56" whatever the
 * server's locale, and we can take it apart without guessing separators. */
static const char session_options[] =
    "-c DateStyle=ISO -c IntervalStyle=iso_8601 -c extra_float_digits=3 -c TimeZone=UTC "
    "-c bytea_output=hex -c lc_monetary=C";

/* What we know about one relation the server described with a Relation message. */
typedef struct relmap {
    uint32_t relid;
    int table;               /* index in the stream, -1 when not streamed */
    char **names;            /* the relation's column names, in the server's order */
    int nnames;
    const sl_table_t *t;     /* the description rcol was built for */
    int *rcol;               /* table column i -> relation column, -1 when not sent */
    int nrcol;
    uint32_t *types;         /* the relation's column type OIDs and typmods, to see a */
    int32_t *typmods;        /* type change within a session */
} relmap_t;

typedef struct pg_cdc {
    sl_cdc_t base; /* first: the engine sees a sl_cdc_t */
    sl_pg_t pg;
    char name[64]; /* slot and publication */
    int version;   /* server_version_num */

    /* stream state, valid inside stream() */
    sl_table_t **tables;
    int ntables;
    const sl_cdc_handler_t *h;
    sl_pgo_msg_t *msg;
    relmap_t *rels;
    int nrels, caprels;
    int last_rel; /* index into rels of the last lookup */
    sl_value_t *row, *old;
    int capvals;
    uint64_t confirmed;  /* highest flush position sent (or the slot's at start) */
    uint64_t server_end; /* last keepalive walEnd */
    bool in_xact;
    uint64_t xact_lsn;
    int64_t commit_us;
    uint32_t idx;
} pg_cdc_t;

const struct sl_cdc_ops sl_pg_cdc_ops;

/* ---- connection ------------------------------------------------------------ */

static void first_line(const char *msg, char *out, size_t size)
{
    const char *p = msg ? msg : "";
    const char *f = strstr(p, " failed: ");
    if (f && !strncmp(p, "connection to server", 20))
        p = f + 9;
    if (!strncmp(p, "FATAL:  ", 8) || !strncmp(p, "ERROR:  ", 8))
        p += 8;
    snprintf(out, size, "%.*s", (int)strcspn(p, "\n"), p);
}

static void connect_fail(const sl_url_t *u, const char *where, const char *msg, sl_err_t *err)
{
    char line[400];
    first_line(msg, line, sizeof line);
    const char *user = u->user ? u->user : "the URL's user";
    if (strstr(line, "replication role") || strstr(line, "permission denied to start WAL")) {
        sl_err_set(err, SL_E_PRIVILEGE,
                   "could not open a replication connection to PostgreSQL at \"%s\": %s", where,
                   line);
        sl_err_detail(err, "change data capture reads the changes through a replication slot");
        sl_err_hint(err, "ALTER ROLE \"%s\" REPLICATION", user);
        return;
    }
    if (strstr(line, "max_wal_senders")) {
        sl_err_set(err, SL_E_CONFIG,
                   "could not open a replication connection to PostgreSQL at \"%s\": %s", where,
                   line);
        sl_err_hint(err, "raise max_wal_senders in postgresql.conf and restart the server, or "
                         "stop another replication client");
        sl_err_retriable(err); /* another sender may go away */
        return;
    }
    if (strstr(line, "database \"") && strstr(line, "does not exist")) {
        sl_err_set(err, SL_E_NOT_FOUND, "could not connect to PostgreSQL at \"%s\": %s", where,
                   line);
        sl_err_hint(err, "fix the database in the URL path");
        return;
    }
    sl_err_set(err, SL_E_CONNECT, "could not open a replication connection to PostgreSQL at \"%s\": %s",
               where, line);
    if (strstr(line, "password") || strstr(line, "role \"") || strstr(line, "pg_hba.conf")) {
        if (err) { /* retrying cannot fix credentials */
            err->fatal = true;
            err->retriable = false;
        }
        sl_err_hint(err, "check the user and password in the URL, and pg_hba.conf for %s", user);
    } else {
        sl_err_retriable(err);
        sl_err_hint(err, "check host and port; is the server running?");
    }
}

/* Server NOTICEs ("publication does not exist, skipping") go to our log, not to
 * stderr past the progress display. */
static void on_notice(void *arg, const char *msg)
{
    sl_debug("postgres: %.*s", (int)strcspn(msg, "\n"), msg);
}

/* A replication=database connection with the canonical session options, filling
 * the sl_pg_t that pg.h's query and error helpers work on. */
static int rep_connect(const sl_url_t *u, sl_pg_t *pg, sl_err_t *err)
{
    memset(pg, 0, sizeof *pg);
    char port[16] = "";
    if (u->port)
        snprintf(port, sizeof port, "%d", u->port);
    const char *schema = sl_url_param(u, "schema");
    const char *kv[][2] = {
        {"host", u->host},
        {"port", port},
        {"user", u->user},
        {"password", u->password},
        {"dbname", u->path && u->path[0] ? u->path : NULL},
        {"sslmode", sl_url_param(u, "sslmode")},
        {"application_name", "sluice"},
        {"connect_timeout", "10"},
        {"replication", "database"},
        {"client_encoding", "UTF8"},
        {"options", session_options},
    };
    const char *keys[16], *vals[16];
    int n = 0;
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (kv[i][1] && kv[i][1][0])
            keys[n] = kv[i][0], vals[n++] = kv[i][1];
    keys[n] = vals[n] = NULL;

    char where[300];
    snprintf(where, sizeof where, "%s:%s", u->host ? u->host : "localhost",
             port[0] ? port : "5432");
    PGconn *conn = PQconnectdbParams(keys, vals, 0);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        connect_fail(u, where, conn ? PQerrorMessage(conn) : "out of memory", err);
        PQfinish(conn);
        return -1;
    }
    pg->conn = conn;
    PQsetNoticeProcessor(conn, on_notice, NULL);
    pg->where = sl_strdup(where);
    pg->schema = sl_strdup(schema && schema[0] ? schema : "public");
    pg->user = sl_strdup(PQuser(conn));
    pg->dbname = sl_strdup(PQdb(conn));
    return 0;
}

static int pg_open(const char *url, const char *stream, sl_cdc_t **out, sl_err_t *err)
{
    sl_url_t *u;
    if (sl_url_parse(url, &u, err))
        return -1;
    pg_cdc_t *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    int rc = rep_connect(u, &c->pg, err);
    sl_url_free(u);
    if (rc) {
        free(c);
        return -1;
    }
    c->base.ops = &sl_pg_cdc_ops;
    sl_cdc_object_name(stream, c->name, sizeof c->name);
    c->version = PQserverVersion(c->pg.conn);
    *out = &c->base;
    return 0;
}

static void rels_clear(pg_cdc_t *c)
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

static void pg_close(sl_cdc_t *base)
{
    pg_cdc_t *c = (pg_cdc_t *)base;
    if (!c)
        return;
    rels_clear(c);
    free(c->msg);
    free(c->row);
    free(c->old);
    sl_pg_disconnect(&c->pg);
    free(c);
}

/* ---- SQL helpers (simple protocol only: this is a walsender) --------------- */

static const char *schema_of(const pg_cdc_t *c, const sl_table_t *t)
{
    return t->schema && t->schema[0] ? t->schema : c->pg.schema;
}

static int add_lit(sl_buf_t *b, const char *s, sl_err_t *err)
{
    return sl_pg_add_literal(b, s, strlen(s), err);
}

static PGresult *query(pg_cdc_t *c, sl_buf_t *sql, sl_err_t *err, const char *what)
{
    return sl_pg_query(&c->pg, sql->data, 0, NULL, err, what);
}

/* ---- check ----------------------------------------------------------------- */

static int check_server(pg_cdc_t *c, bool need_slot, sl_err_t *err)
{
    sl_buf_t b;
    sl_buf_init(&b, SQL_MAX);
    int rc = sl_buf_adds(&b, "SELECT current_setting('wal_level'), r.rolsuper, r.rolreplication,"
                             " current_setting('max_replication_slots')::int,"
                             " (SELECT count(*) FROM pg_replication_slots),"
                             " (SELECT count(*) FROM pg_replication_slots WHERE slot_name = ", err) ||
             add_lit(&b, c->name, err) ||
             sl_buf_adds(&b, "), current_setting('max_wal_senders')::int,"
                             " (SELECT count(*) FROM pg_stat_replication"
                             "   WHERE pid <> pg_backend_pid())"
                             " FROM pg_roles r WHERE r.rolname = current_user", err);
    PGresult *r = rc ? NULL : query(c, &b, err, "could not check the PostgreSQL server");
    sl_buf_free(&b);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return sl_err_set(err, SL_E_INTERNAL, "could not read the role of user \"%s\"", c->pg.user);
    }
    const char *wal_level = PQgetvalue(r, 0, 0);
    bool super = PQgetvalue(r, 0, 1)[0] == 't', repl = PQgetvalue(r, 0, 2)[0] == 't';
    int max_slots = atoi(PQgetvalue(r, 0, 3)), slots = atoi(PQgetvalue(r, 0, 4));
    bool ours = atoi(PQgetvalue(r, 0, 5)) > 0;
    int max_senders = atoi(PQgetvalue(r, 0, 6)), senders = atoi(PQgetvalue(r, 0, 7));
    rc = 0;
    if (strcmp(wal_level, "logical")) {
        rc = sl_err_set(err, SL_E_CONFIG, "PostgreSQL at \"%s\" has wal_level = %s",
                        c->pg.where, wal_level);
        sl_err_detail(err, "change data capture needs logical decoding");
        sl_err_hint(err, "set wal_level = logical in postgresql.conf and restart the server");
    } else if (!super && !repl) {
        rc = sl_err_set(err, SL_E_PRIVILEGE, "user \"%s\" lacks the REPLICATION privilege",
                        c->pg.user);
        sl_err_detail(err, "change data capture reads the changes through a replication slot");
        sl_err_hint(err, "ALTER ROLE \"%s\" REPLICATION", c->pg.user);
    } else if (need_slot && !ours && slots >= max_slots) {
        rc = sl_err_set(err, SL_E_CONFIG, "no free replication slot on PostgreSQL at \"%s\"",
                        c->pg.where);
        sl_err_detail(err, "%d of max_replication_slots = %d are in use", slots, max_slots);
        sl_err_hint(err, "raise max_replication_slots in postgresql.conf and restart the server, "
                         "or drop unused slots with pg_drop_replication_slot()");
    } else if (need_slot && senders + 1 > max_senders) {
        /* This connection already holds a WAL sender; this only catches a server
         * whose limit dropped below what is running. */
        rc = sl_err_set(err, SL_E_CONFIG, "no free WAL sender on PostgreSQL at \"%s\"",
                        c->pg.where);
        sl_err_detail(err, "%d other WAL senders run, max_wal_senders = %d", senders, max_senders);
        sl_err_hint(err, "raise max_wal_senders in postgresql.conf and restart the server");
    }
    PQclear(r);
    return rc;
}

/* Every table must let pgoutput send a key the target can find the row by: the
 * primary key (REPLICA IDENTITY DEFAULT) or the whole old row (FULL). */
static int check_tables(pg_cdc_t *c, sl_table_t *const *tables, int n, sl_err_t *err)
{
    if (n == 0)
        return 0;
    sl_buf_t b;
    sl_buf_init(&b, SQL_MAX);
    int rc = sl_buf_adds(&b, "SELECT v.i, c.relreplident FROM (VALUES ", err);
    for (int i = 0; i < n && !rc; i++)
        rc = sl_buf_printf(&b, err, "%s(%d, ", i ? ", " : "", i) ||
             add_lit(&b, schema_of(c, tables[i]), err) || sl_buf_adds(&b, "::name, ", err) ||
             add_lit(&b, tables[i]->name, err) || sl_buf_adds(&b, "::name)", err);
    rc = rc || sl_buf_adds(&b, ") v(i, s, t) LEFT JOIN pg_namespace n ON n.nspname = v.s"
                               " LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = v.t"
                               " AND c.relkind IN ('r', 'p') ORDER BY v.i", err);
    PGresult *r = rc ? NULL : query(c, &b, err, "could not check the replica identity of the tables");
    sl_buf_free(&b);
    if (!r)
        return -1;
    rc = 0;
    for (int k = 0; k < PQntuples(r) && !rc; k++) {
        int i = atoi(PQgetvalue(r, k, 0));
        if (i < 0 || i >= n)
            continue;
        const sl_table_t *t = tables[i];
        const char *s = schema_of(c, t);
        char ident = PQgetisnull(r, k, 1) ? 0 : PQgetvalue(r, k, 1)[0];
        bool pk = sl_table_pk_count(t) > 0;
        if (!ident) {
            rc = sl_err_set(err, SL_E_NOT_FOUND, "table \"%s.%s\" does not exist", s, t->name);
        } else if (ident == 'f' || (ident == 'd' && pk)) {
            continue;
        } else {
            rc = sl_err_set(err, SL_E_SCHEMA, "table \"%s.%s\" cannot be replicated", s, t->name);
            if (ident == 'd')
                sl_err_detail(err, "it has no primary key, so PostgreSQL logs no key for updates "
                                   "and deletes");
            else
                sl_err_detail(err, "its replica identity is %s, so PostgreSQL does not log the "
                                   "primary key for updates and deletes",
                              ident == 'n' ? "NOTHING" : "an index other than the primary key");
            sl_err_hint(err, "ALTER TABLE \"%s\".\"%s\" REPLICA IDENTITY %s", s, t->name,
                        pk ? "DEFAULT" : "FULL");
        }
    }
    PQclear(r);
    return rc;
}

static int pg_check(sl_cdc_t *base, sl_table_t *const *tables, int n, bool need_slot, sl_err_t *err)
{
    pg_cdc_t *c = (pg_cdc_t *)base;
    return check_server(c, need_slot, err) || check_tables(c, tables, n, err) ? -1 : 0;
}

/* ---- publication ----------------------------------------------------------- */

static int publication_fail(pg_cdc_t *c, sl_err_t *err)
{
    if (err && err->code == SL_E_PRIVILEGE)
        sl_err_hint(err, "a publication needs the CREATE privilege on the database (GRANT CREATE "
                         "ON DATABASE \"%s\" TO \"%s\") and ownership of its tables, or a "
                         "superuser", c->pg.dbname, c->pg.user);
    return -1;
}

static int pg_publication_ensure(sl_cdc_t *base, sl_table_t *const *tables, int n, sl_err_t *err)
{
    pg_cdc_t *c = (pg_cdc_t *)base;
    const char *what = "could not set up the publication";
    sl_buf_t b;
    sl_buf_init(&b, SQL_MAX);
    int rc = sl_buf_adds(&b, "SELECT schemaname, tablename FROM pg_publication_tables"
                             " WHERE pubname = ", err) || add_lit(&b, c->name, err) ||
             sl_buf_adds(&b, " UNION ALL SELECT NULL, NULL FROM pg_publication WHERE pubname = ",
                         err) || add_lit(&b, c->name, err);
    PGresult *r = rc ? NULL : query(c, &b, err, what);
    if (!r) {
        sl_buf_free(&b);
        return -1;
    }
    /* The NULL row says the publication exists (it may have no tables yet). */
    bool exists = false;
    sl_buf_reset(&b);
    int missing = 0;
    for (int i = 0; i < n && !rc; i++) {
        bool found = false;
        for (int k = 0; k < PQntuples(r) && !found; k++)
            found = !PQgetisnull(r, k, 0) && !strcmp(PQgetvalue(r, k, 0), schema_of(c, tables[i])) &&
                    !strcmp(PQgetvalue(r, k, 1), tables[i]->name);
        if (!found)
            rc = (missing++ && sl_buf_adds(&b, ", ", err)) ||
                 sl_pg_add_qname(&b, schema_of(c, tables[i]), tables[i]->name, err);
    }
    for (int k = 0; k < PQntuples(r); k++)
        exists = exists || PQgetisnull(r, k, 0);
    PQclear(r);
    if (rc || (exists && !missing)) {
        sl_buf_free(&b);
        return rc;
    }

    sl_buf_t sql;
    sl_buf_init(&sql, SQL_MAX);
    if (exists) {
        rc = sl_buf_adds(&sql, "ALTER PUBLICATION ", err) || sl_pg_add_ident(&sql, c->name, err) ||
             sl_buf_adds(&sql, " ADD TABLE ", err) || sl_buf_add(&sql, b.data, b.len, err);
    } else {
        /* Changes of partitions go out as their root's, the table the load read. */
        rc = sl_buf_adds(&sql, "CREATE PUBLICATION ", err) || sl_pg_add_ident(&sql, c->name, err) ||
             (missing && (sl_buf_adds(&sql, " FOR TABLE ", err) ||
                          sl_buf_add(&sql, b.data, b.len, err))) ||
             (c->version >= 130000 &&
              sl_buf_adds(&sql, " WITH (publish_via_partition_root = true)", err));
    }
    sl_buf_free(&b);
    rc = rc || sl_pg_exec(&c->pg, sql.data, err, what);
    if (!rc)
        sl_info("publication \"%s\": %s %d table(s)", c->name, exists ? "added" : "created with",
                missing);
    sl_buf_free(&sql);
    return rc ? publication_fail(c, err) : 0;
}

/* ---- slot ------------------------------------------------------------------ */

static int pg_slot_state(sl_cdc_t *base, sl_cdc_slot_t *st, sl_err_t *err)
{
    pg_cdc_t *c = (pg_cdc_t *)base;
    memset(st, 0, sizeof *st);
    sl_buf_t b;
    sl_buf_init(&b, 4096);
    int rc = sl_buf_printf(&b, err,
                           "SELECT %s, active, confirmed_flush_lsn, restart_lsn, slot_type,"
                           " plugin, database = current_database() FROM pg_replication_slots"
                           " WHERE slot_name = ",
                           c->version >= 130000 ? "wal_status" : "NULL") ||
             add_lit(&b, c->name, err);
    PGresult *r = rc ? NULL : query(c, &b, err, "could not read the replication slot");
    sl_buf_free(&b);
    if (!r)
        return -1;
    if (PQntuples(r) == 1) {
        if (strcmp(PQgetvalue(r, 0, 4), "logical") || strcmp(PQgetvalue(r, 0, 5), "pgoutput") ||
            PQgetvalue(r, 0, 6)[0] != 't') {
            sl_err_set(err, SL_E_CONFLICT,
                       "replication slot \"%s\" is not a pgoutput slot of database \"%s\"",
                       c->name, c->pg.dbname);
            sl_err_detail(err, "it is a %s slot with plugin \"%s\"", PQgetvalue(r, 0, 4),
                          PQgetvalue(r, 0, 5));
            sl_err_hint(err, "drop it (SELECT pg_drop_replication_slot('%s')) or rename the stream",
                        c->name);
            PQclear(r);
            return -1;
        }
        st->exists = true;
        st->lost = !strcmp(PQgetvalue(r, 0, 0), "lost");
        st->active = PQgetvalue(r, 0, 1)[0] == 't';
        if (!PQgetisnull(r, 0, 2))
            sl_lsn_parse(PQgetvalue(r, 0, 2), &st->confirmed);
        if (!PQgetisnull(r, 0, 3))
            sl_lsn_parse(PQgetvalue(r, 0, 3), &st->restart);
    }
    PQclear(r);
    return 0;
}

static int pg_slot_create(sl_cdc_t *base, char **snapshot, uint64_t *consistent, sl_err_t *err)
{
    pg_cdc_t *c = (pg_cdc_t *)base;
    sl_buf_t b;
    sl_buf_init(&b, 4096);
    int rc = sl_buf_adds(&b, "CREATE_REPLICATION_SLOT ", err) || sl_pg_add_ident(&b, c->name, err) ||
             sl_buf_adds(&b, c->version >= 150000 ? " LOGICAL pgoutput (SNAPSHOT 'export')"
                                                  : " LOGICAL pgoutput EXPORT_SNAPSHOT",
                         err);
    char what[160];
    snprintf(what, sizeof what, "could not create replication slot \"%s\"", c->name);
    PGresult *r = rc ? NULL : query(c, &b, err, what);
    sl_buf_free(&b);
    if (!r) {
        if (err && strstr(err->message, "already exists")) {
            err->code = SL_E_CONFLICT;
            sl_err_hint(err, "another run of this stream created it; run `sluice run --restart` "
                             "to start over");
        } else if (err && strstr(err->message, "replication slots are in use")) {
            err->code = SL_E_CONFIG;
            sl_err_hint(err, "raise max_replication_slots in postgresql.conf and restart the "
                             "server, or drop unused slots with pg_drop_replication_slot()");
        }
        return -1;
    }
    uint64_t lsn = 0;
    if (PQntuples(r) != 1 || PQnfields(r) < 3 || PQgetisnull(r, 0, 2) ||
        sl_lsn_parse(PQgetvalue(r, 0, 1), &lsn)) {
        PQclear(r);
        return sl_err_set(err, SL_E_PROTOCOL, "%s: unexpected reply from the server", what);
    }
    *snapshot = sl_strdup(PQgetvalue(r, 0, 2));
    *consistent = lsn;
    PQclear(r);
    char at[32];
    sl_lsn_format(lsn, at, sizeof at);
    sl_debug("replication slot \"%s\" created at %s, snapshot %s", c->name, at, *snapshot);
    return 0;
}

static int pg_drop(sl_cdc_t *base, sl_err_t *err)
{
    pg_cdc_t *c = (pg_cdc_t *)base;
    sl_cdc_slot_t st;
    int rc = 0;
    if (pg_slot_state(base, &st, err))
        return -1;
    if (st.exists && st.active) {
        sl_err_set(err, SL_E_CONFLICT, "replication slot \"%s\" is in use", c->name);
        sl_err_detail(err, "another connection streams from it");
        sl_err_hint(err, "stop the other run of this stream first, or end its connection "
                         "(SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
                         "WHERE slot_name = '%s')", c->name);
        sl_err_retriable(err);
        return -1;
    }
    sl_buf_t b;
    sl_buf_init(&b, 4096);
    if (st.exists) {
        rc = sl_buf_adds(&b, "DROP_REPLICATION_SLOT ", err) || sl_pg_add_ident(&b, c->name, err) ||
             sl_pg_exec(&c->pg, b.data, err, "could not drop the replication slot");
        sl_buf_reset(&b);
    }
    rc = rc || sl_buf_adds(&b, "DROP PUBLICATION IF EXISTS ", err) ||
         sl_pg_add_ident(&b, c->name, err) ||
         sl_pg_exec(&c->pg, b.data, err, "could not drop the publication");
    sl_buf_free(&b);
    if (!rc && st.exists)
        sl_info("dropped replication slot \"%s\" and its publication", c->name);
    return rc;
}

/* ---- relations ------------------------------------------------------------- */

static relmap_t *rel_find(pg_cdc_t *c, uint32_t relid)
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

static int find_table(const pg_cdc_t *c, const char *nsp, const char *name)
{
    for (int i = 0; i < c->ntables; i++)
        if (!strcmp(schema_of(c, c->tables[i]), nsp) && !strcmp(c->tables[i]->name, name))
            return i;
    return -1;
}

/* Maps the table's columns to the relation's by name, in order. Generated columns
 * are not sent by pgoutput (PostgreSQL 15), so a generated table column the
 * relation lacks is allowed and maps to -1. Returns 0, or 1 when they differ. */
static int rel_map(pg_cdc_t *c, relmap_t *r)
{
    const sl_table_t *t = c->tables[r->table];
    int *rcol = realloc(r->rcol, sizeof *rcol * (size_t)(t->ncolumns ? t->ncolumns : 1));
    if (!rcol)
        abort();
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

static int schema_differs(pg_cdc_t *c, const relmap_t *r, sl_err_t *err)
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

static int on_relation(pg_cdc_t *c, const sl_pgo_msg_t *m, sl_err_t *err)
{
    relmap_t *r = rel_find(c, m->rel.relid);
    if (!r) {
        if (c->nrels >= MAX_RELATIONS)
            return sl_err_set(err, SL_E_LIMIT, "the replication stream described more than %d "
                                               "relations", MAX_RELATIONS);
        if (c->nrels == c->caprels) {
            int cap = c->caprels ? c->caprels * 2 : 16;
            relmap_t *p = realloc(c->rels, sizeof *p * (size_t)cap);
            if (!p)
                abort();
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
        abort();
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
        abort();
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
                         .relcols = (const char *const *)r->names};
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
static int fill(pg_cdc_t *c, const relmap_t *r, const sl_pgo_datum_t *tup, int n, tup_role_t role,
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

static void ensure_vals(pg_cdc_t *c, int n)
{
    if (n <= c->capvals)
        return;
    free(c->row);
    free(c->old);
    c->row = calloc((size_t)n, sizeof *c->row);
    c->old = calloc((size_t)n, sizeof *c->old);
    if (!c->row || !c->old)
        abort();
    c->capvals = n;
}

static int emit_change(pg_cdc_t *c, sl_change_op_t op, int table, int ncols, const sl_value_t *row,
                       const sl_value_t *old, sl_err_t *err)
{
    if (!c->in_xact)
        return sl_err_set(err, SL_E_PROTOCOL, "a change outside a transaction in the replication "
                                              "stream");
    sl_cdc_event_t ev = {.kind = SL_CDC_CHANGE,
                         .xact_lsn = c->xact_lsn,
                         .commit_us = c->commit_us,
                         .table = table};
    ev.change = (sl_change_t){.op = op,
                              .table = (uint32_t)table,
                              .pos = {c->xact_lsn, ++c->idx},
                              .commit_us = c->commit_us,
                              .ncols = ncols,
                              .row = row,
                              .old = old};
    return c->h->on_event(c->h->ctx, &ev, err);
}

static int on_row(pg_cdc_t *c, const sl_pgo_msg_t *m, sl_err_t *err)
{
    relmap_t *r = rel_find(c, m->row.relid);
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
    return emit_change(c, op, r->table, t->ncolumns, row, old, err);
}

static int on_truncate(pg_cdc_t *c, const sl_pgo_msg_t *m, sl_err_t *err)
{
    for (int i = 0; i < m->truncate.nrels; i++) {
        uint32_t relid = sl_pgo_truncate_relid(m, i);
        relmap_t *r = rel_find(c, relid);
        if (!r)
            return sl_err_set(err, SL_E_PROTOCOL, "a truncate of relation %" PRIu32 " before its "
                                                  "Relation message", relid);
        if (r->table < 0)
            continue;
        int rc = emit_change(c, SL_OP_TRUNCATE, r->table, c->tables[r->table]->ncolumns, NULL, NULL,
                             err);
        if (rc)
            return rc;
    }
    return 0;
}

/* One pgoutput message (an XLogData payload; the buffer is ours to modify). */
static int on_message(pg_cdc_t *c, char *data, size_t len, sl_err_t *err)
{
    sl_pgo_msg_t *m = c->msg;
    if (sl_pgo_decode(data, len, m, err))
        return -1;
    switch (m->kind) {
    case SL_PGO_BEGIN: {
        c->in_xact = true;
        c->xact_lsn = m->begin.final_lsn;
        c->commit_us = m->begin.commit_us;
        c->idx = 0;
        sl_cdc_event_t ev = {.kind = SL_CDC_BEGIN,
                             .xact_lsn = c->xact_lsn,
                             .commit_us = c->commit_us,
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
    default:
        return 0; /* Origin, Type, Message: nothing to apply */
    }
}

/* ---- the replication stream ---------------------------------------------- */

static int64_t pg_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - SL_PGO_EPOCH_OFFSET_US;
}

static int lost(pg_cdc_t *c, sl_err_t *err)
{
    char line[400];
    first_line(PQerrorMessage(c->pg.conn), line, sizeof line);
    sl_err_set(err, SL_E_CONNECT, "lost the replication connection to PostgreSQL at \"%s\": %s",
               c->pg.where, line[0] ? line : "connection closed");
    sl_err_hint(err, "sluice reconnects and resumes from the last confirmed position");
    sl_err_retriable(err);
    return -1;
}

/* A standby status update: write = flush = apply = the highest position the handler
 * let us confirm, never lower than one sent before. */
static int send_status(pg_cdc_t *c, bool ask_reply, sl_err_t *err)
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

/* An error the server ended the stream with, classified. */
static int stream_fail(pg_cdc_t *c, PGresult *res, sl_err_t *err)
{
    const char *state = sl_pg_sqlstate(res);
    const char *prim = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char msg[400];
    snprintf(msg, sizeof msg, "%s", prim ? prim : "");
    if (!strcmp(state, "55006")) {
        sl_err_set(err, SL_E_CONFLICT, "replication slot \"%s\" is in use", c->name);
        sl_err_detail(err, "%s: another process streams from it", msg);
        sl_err_hint(err, "stop the other run of this stream; sluice retries");
        sl_err_retriable(err);
    } else if (!strcmp(state, "42704") && strstr(msg, "replication slot")) {
        sl_err_set(err, SL_E_NOT_FOUND, "replication slot \"%s\" does not exist", c->name);
        sl_err_detail(err, "the changes since the last confirmed position cannot be read");
        sl_err_hint(err, "run `sluice run --restart` to copy the tables again and create a new "
                         "slot");
    } else if (strstr(msg, "has already been removed") || strstr(msg, "can no longer get changes") ||
               strstr(msg, "invalidated")) {
        sl_err_set(err, SL_E_NOT_FOUND,
                   "the WAL that replication slot \"%s\" needs was removed from the server", c->name);
        sl_err_detail(err, "%s", msg);
        sl_err_hint(err, "the stream fell too far behind (see max_slot_wal_keep_size); run "
                         "`sluice run --restart` to copy the tables again");
    } else if (strstr(msg, "publication")) {
        sl_err_set(err, SL_E_NOT_FOUND, "could not stream from replication slot \"%s\": %s",
                   c->name, msg);
        sl_err_hint(err, "the publication \"%s\" must exist and list the stream's tables since "
                         "the slot was created; run `sluice run --restart` to set both up again",
                   c->name);
    } else {
        char what[160];
        snprintf(what, sizeof what, "could not stream from replication slot \"%s\"", c->name);
        sl_pg_fail(&c->pg, res, err, what);
        return -1;
    }
    PQclear(res);
    return -1;
}

/* Ends the COPY: CopyDone, then drain what the walsender still sends and its final
 * results (pg_recvlogical does the same so as not to miss a late error). */
static void end_copy(pg_cdc_t *c)
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

static int start_replication(pg_cdc_t *c, uint64_t start, sl_err_t *err)
{
    char at[32];
    sl_lsn_format(start, at, sizeof at);
    sl_buf_t b;
    sl_buf_init(&b, 4096);
    /* The name is [a-z0-9_] (sl_cdc_object_name), so it needs no escaping in the
     * option's string literal. */
    int rc = sl_buf_adds(&b, "START_REPLICATION SLOT ", err) || sl_pg_add_ident(&b, c->name, err) ||
             sl_buf_printf(&b, err, " LOGICAL %s (proto_version '1', publication_names '\"%s\"')",
                           at, c->name);
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
    sl_debug("streaming changes from replication slot \"%s\" at %s", c->name, at);
    return 0;
}

/* One CopyData message from the walsender. *reply is set when it asks for a status
 * update now. */
static int on_copydata(pg_cdc_t *c, char *buf, int n, bool *reply, sl_err_t *err)
{
    const unsigned char *u = (const unsigned char *)buf;
    if (n >= 1 && buf[0] == 'k') {
        if (n < 18)
            return sl_err_set(err, SL_E_PROTOCOL, "a keepalive message of %d bytes", n);
        uint64_t end = sl_pgo_get64(u + 1);
        if (end > c->server_end)
            c->server_end = end;
        *reply = u[17] != 0;
        return 0;
    }
    if (n >= 1 && buf[0] == 'w') {
        if (n < 25)
            return sl_err_set(err, SL_E_PROTOCOL, "an XLogData message of %d bytes", n);
        return on_message(c, buf + 25, (size_t)n - 25, err);
    }
    return sl_err_set(err, SL_E_PROTOCOL, "unexpected replication message '%c' (%d bytes)",
                      n >= 1 && buf[0] >= 32 && buf[0] < 127 ? buf[0] : '?', n);
}

static int stream_loop(pg_cdc_t *c, sl_err_t *err)
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
                sl_debug("replication stream \"%s\" stopped; confirmed %s", c->name, at);
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

static int pg_stream(sl_cdc_t *base, uint64_t start, sl_table_t **tables, int n,
                     const sl_cdc_handler_t *h, sl_err_t *err)
{
    pg_cdc_t *c = (pg_cdc_t *)base;
    sl_cdc_slot_t st;
    if (pg_slot_state(base, &st, err))
        return -1;
    if (!st.exists) {
        sl_err_set(err, SL_E_NOT_FOUND, "replication slot \"%s\" does not exist", c->name);
        sl_err_detail(err, "the changes since the last confirmed position cannot be read");
        sl_err_hint(err, "run `sluice run --restart` to copy the tables again and create a new slot");
        return -1;
    }
    if (st.lost) {
        sl_err_set(err, SL_E_NOT_FOUND,
                   "the WAL that replication slot \"%s\" needs was removed from the server", c->name);
        sl_err_hint(err, "the stream fell too far behind (see max_slot_wal_keep_size); run "
                         "`sluice run --restart` to copy the tables again");
        return -1;
    }
    if (!c->msg && !(c->msg = malloc(sizeof *c->msg)))
        abort();
    rels_clear(c);
    c->tables = tables;
    c->ntables = n;
    c->h = h;
    c->confirmed = st.confirmed; /* never send less than the slot already has */
    c->server_end = 0;
    c->in_xact = false;
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

const struct sl_cdc_ops sl_pg_cdc_ops = {
    .name = "postgres",
    .slot = true,
    .open = pg_open,
    .close = pg_close,
    .check = pg_check,
    .publication_ensure = pg_publication_ensure,
    .slot_state = pg_slot_state,
    .slot_create = pg_slot_create,
    .drop = pg_drop,
    .stream = pg_stream,
};
