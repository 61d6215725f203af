/*
 * pg_cdc_check.c: what PostgreSQL change data capture needs of the server, checked
 * before anything is created, each failure an error with the fix as its hint:
 * wal_level = logical, the REPLICATION attribute (or superuser), a free replication
 * slot and WAL sender, and tables whose changes carry a key (a primary key, or
 * REPLICA IDENTITY FULL).
 */
#include <stdlib.h>
#include <string.h>

#include "source/pg/pg_cdc.h"

int sl_pg_cdc_check_server(sl_pg_cdc_t *c, sl_err_t *err)
{
    sl_buf_t b;
    sl_buf_init(&b, SL_PG_CDC_SQL_MAX);
    int rc = sl_buf_adds(&b, "SELECT current_setting('wal_level'), r.rolsuper, r.rolreplication,"
                             " current_setting('max_replication_slots')::int,"
                             " (SELECT count(*) FROM pg_replication_slots),"
                             " (SELECT count(*) FROM pg_replication_slots WHERE slot_name = ", err) ||
             sl_pg_cdc_add_lit(&b, c->slot, err) ||
             sl_buf_adds(&b, "), current_setting('max_wal_senders')::int,"
                             " (SELECT count(*) FROM pg_stat_replication"
                             "   WHERE pid <> pg_backend_pid())"
                             " FROM pg_roles r WHERE r.rolname = current_user", err);
    PGresult *r = rc ? NULL : sl_pg_cdc_query(c, &b, err, "could not check the PostgreSQL server");
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
        char role[300];
        sl_err_hint(err, "ALTER ROLE %s REPLICATION", sl_pg_role_text(c->pg.user, role, sizeof role));
    } else if (!ours && slots >= max_slots) {
        rc = sl_err_set(err, SL_E_CONFIG, "no free replication slot on PostgreSQL at \"%s\"",
                        c->pg.where);
        sl_err_detail(err, "%d of max_replication_slots = %d are in use", slots, max_slots);
        sl_err_hint(err, "raise max_replication_slots in postgresql.conf and restart the server, "
                         "or drop unused slots with pg_drop_replication_slot()");
    } else if (senders + 1 > max_senders) {
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
int sl_pg_cdc_check_tables(sl_pg_cdc_t *c, sl_table_t *const *tables, int n, sl_err_t *err)
{
    if (n == 0)
        return 0;
    sl_buf_t b;
    sl_buf_init(&b, SL_PG_CDC_SQL_MAX);
    int rc = sl_buf_adds(&b, "SELECT v.i, c.relreplident FROM (VALUES ", err);
    for (int i = 0; i < n && !rc; i++)
        rc = sl_buf_printf(&b, err, "%s(%d, ", i ? ", " : "", i) ||
             sl_pg_cdc_add_lit(&b, sl_pg_cdc_schema(c, tables[i]), err) || sl_buf_adds(&b, "::name, ", err) ||
             sl_pg_cdc_add_lit(&b, tables[i]->name, err) || sl_buf_adds(&b, "::name)", err);
    rc = rc || sl_buf_adds(&b, ") v(i, s, t) LEFT JOIN pg_namespace n ON n.nspname = v.s"
                               " LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = v.t"
                               " AND c.relkind IN ('r', 'p') ORDER BY v.i", err);
    PGresult *r = rc ? NULL : sl_pg_cdc_query(c, &b, err, "could not check the replica identity of the tables");
    sl_buf_free(&b);
    if (!r)
        return -1;
    rc = 0;
    for (int k = 0; k < PQntuples(r) && !rc; k++) {
        int i = atoi(PQgetvalue(r, k, 0));
        if (i < 0 || i >= n)
            continue;
        const sl_table_t *t = tables[i];
        const char *s = sl_pg_cdc_schema(c, t);
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
