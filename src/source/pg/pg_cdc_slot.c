/*
 * pg_cdc_slot.c: what a PostgreSQL stream owns on the server, its publication and its
 * logical replication slot, and the three ops that handle them: prepare (the first
 * run: create both; the slot exports no snapshot, the tables are copied beside the stream), start (every session: is the
 * slot still the stream's, and does it still hold every change past the stream's
 * checkpoints?) and forget (cleanup: drop both).
 *
 * How a stream tells its own objects from another stream's:
 *   - names: new streams get names that carry a hash of their exact name
 *     (sl_pg_cdc_name), recorded at the hand-over and kept from then on;
 *   - the publication carries a COMMENT {"sluice_stream": "<exact name>"}, set when
 *     sluice creates it. A publication whose comment names another stream is never
 *     altered or dropped, and the slot of the same name is not touched either;
 *   - a slot cannot carry a mark, but its confirmed position can tell: sluice never
 *     confirms a position past the highest "flush" of the stream's lane checkpoints
 *     (engine/cdc_reader.c), and a slot created anew starts at the server's current
 *     end of WAL, past anything the stream read before. So a slot whose confirmed
 *     position is past the stream's checkpoints was dropped and created again under
 *     it, or is advanced by another stream: the changes in between cannot be read any
 *     more. start() then fails and never skips them; forget() leaves such a slot
 *     alone. Names of an earlier sluice (legacy) were shared by names that differ only
 *     in case or punctuation ("Sales-Sync", "sales_sync"), so for them this is the
 *     only evidence there is.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/log.h"
#include "core/mem.h"
#include "source/pg/pg_cdc.h"

typedef enum { PUB_ABSENT, PUB_OURS, PUB_UNMARKED, PUB_FOREIGN } pub_owner_t;

typedef struct pub_info {
    pub_owner_t owner;
    char other[128]; /* PUB_FOREIGN: the stream its comment names */
} pub_info_t;

/* The stream a publication comment names, or NULL when it is not sluice's mark. */
static char *marked_stream(const char *comment)
{
    json_error_t je;
    json_t *j = comment && comment[0] == '{' ? json_loads(comment, 0, &je) : NULL;
    const char *s = json_string_value(json_object_get(j, "sluice_stream"));
    char *out = s ? sl_strdup(s) : NULL;
    json_decref(j);
    return out;
}

static int pub_read(sl_pg_cdc_t *c, pub_info_t *pi, sl_err_t *err)
{
    memset(pi, 0, sizeof *pi);
    sl_buf_t b;
    sl_buf_init(&b, 4096);
    int rc = sl_buf_adds(&b, "SELECT obj_description(oid, 'pg_publication') FROM pg_publication WHERE pubname = ",
                         err) ||
             sl_pg_cdc_add_lit(&b, c->pub, err);
    PGresult *r = rc ? NULL : sl_pg_cdc_query(c, &b, err, "could not read the publication");
    sl_buf_free(&b);
    if (!r)
        return -1;
    if (PQntuples(r) == 1) {
        char *who = PQgetisnull(r, 0, 0) ? NULL : marked_stream(PQgetvalue(r, 0, 0));
        pi->owner = !who ? PUB_UNMARKED : strcmp(who, c->stream) ? PUB_FOREIGN : PUB_OURS;
        snprintf(pi->other, sizeof pi->other, "%s", who ? who : "");
        free(who);
    }
    PQclear(r);
    return 0;
}

static int pub_foreign(sl_pg_cdc_t *c, const pub_info_t *pi, sl_err_t *err)
{
    sl_err_set(err, SL_E_CONFLICT, "publication \"%s\" belongs to stream \"%s\", not to stream \"%s\"", c->pub,
               pi->other, c->stream);
    sl_err_detail(err, "sluice leaves another stream's publication and replication slot alone");
    sl_err_hint(err, "give this stream another name, or remove stream \"%s\" first (`sluice cleanup`)", pi->other);
    if (err)
        err->fatal = true;
    return -1;
}

int sl_pg_cdc_slot_state(sl_pg_cdc_t *c, const char *slot, sl_pg_slot_t *st, sl_err_t *err)
{
    memset(st, 0, sizeof *st);
    sl_buf_t b;
    sl_buf_init(&b, 4096);
    int rc = sl_buf_printf(&b, err,
                           "SELECT %s, active, confirmed_flush_lsn, slot_type,"
                           " plugin, database = current_database() FROM pg_replication_slots"
                           " WHERE slot_name = ",
                           c->version >= 130000 ? "wal_status" : "NULL") ||
             sl_pg_cdc_add_lit(&b, slot, err);
    PGresult *r = rc ? NULL : sl_pg_cdc_query(c, &b, err, "could not read the replication slot");
    sl_buf_free(&b);
    if (!r)
        return -1;
    if (PQntuples(r) == 1) {
        if (strcmp(PQgetvalue(r, 0, 3), "logical") || strcmp(PQgetvalue(r, 0, 4), "pgoutput") ||
            PQgetvalue(r, 0, 5)[0] != 't') {
            sl_err_set(err, SL_E_CONFLICT, "replication slot \"%s\" is not a pgoutput slot of database \"%s\"",
                       slot, c->pg.dbname);
            sl_err_detail(err, "it is a %s slot with plugin \"%s\"; sluice leaves it alone", PQgetvalue(r, 0, 3),
                          PQgetvalue(r, 0, 4));
            sl_err_hint(err, "drop it (SELECT pg_drop_replication_slot('%s')) or rename the stream", slot);
            if (err)
                err->fatal = true;
            PQclear(r);
            return -1;
        }
        st->exists = true;
        st->lost = !strcmp(PQgetvalue(r, 0, 0), "lost");
        st->active = PQgetvalue(r, 0, 1)[0] == 't';
        if (!PQgetisnull(r, 0, 2))
            sl_lsn_parse(PQgetvalue(r, 0, 2), &st->confirmed);
    }
    PQclear(r);
    return 0;
}

static int slot_in_use(sl_pg_cdc_t *c, sl_err_t *err)
{
    sl_err_set(err, SL_E_CONFLICT, "replication slot \"%s\" is in use", c->slot);
    sl_err_detail(err, "another connection streams from it");
    sl_err_hint(err, "stop the other run of stream \"%s\" first, or end its connection (SELECT "
                     "pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '%s')",
                c->stream, c->slot);
    sl_err_retriable(err);
    return -1;
}

/* ---- publication ----------------------------------------------------------- */

/* The stream's tables the publication does not list, as a list for ADD TABLE, and
 * whether it exists. */
static int pub_missing(sl_pg_cdc_t *c, sl_table_t *const *tables, int n, sl_buf_t *list, int *missing,
                       sl_err_t *err)
{
    sl_buf_t b;
    sl_buf_init(&b, SL_PG_CDC_SQL_MAX);
    int rc = sl_buf_adds(&b, "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = ", err) ||
             sl_pg_cdc_add_lit(&b, c->pub, err);
    PGresult *r = rc ? NULL : sl_pg_cdc_query(c, &b, err, "could not read the tables of the publication");
    sl_buf_free(&b);
    if (!r)
        return -1;
    *missing = 0;
    for (int i = 0; i < n && !rc; i++) {
        const char *s = sl_pg_cdc_schema(c, tables[i]);
        bool found = false;
        for (int k = 0; k < PQntuples(r) && !found; k++)
            found = !strcmp(PQgetvalue(r, k, 0), s) && !strcmp(PQgetvalue(r, k, 1), tables[i]->name);
        if (!found)
            rc = ((*missing)++ && sl_buf_adds(list, ", ", err)) || sl_pg_add_qname(list, s, tables[i]->name, err);
    }
    PQclear(r);
    return rc;
}

static int publication_fail(sl_pg_cdc_t *c, sl_err_t *err)
{
    char role[300];
    if (err && err->code == SL_E_PRIVILEGE)
        sl_err_hint(err, "a publication needs the CREATE privilege on the database (GRANT CREATE ON DATABASE \"%s\" "
                         "TO %s) and ownership of its tables, or a superuser; or create publication \"%s\" "
                         "for the stream's tables yourself",
                    c->pg.dbname, sl_pg_role_text(c->pg.user, role, sizeof role), c->pub);
    return -1;
}

/* Appends COMMENT ON PUBLICATION with the stream's mark. */
static int add_mark(sl_pg_cdc_t *c, sl_buf_t *sql, sl_err_t *err)
{
    json_t *j = json_pack("{s:s}", "sluice_stream", c->stream);
    char *mark = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!mark)
        sl_oom();
    int rc = sl_buf_adds(sql, "COMMENT ON PUBLICATION ", err) || sl_pg_add_ident(sql, c->pub, err) ||
             sl_buf_adds(sql, " IS ", err) || sl_pg_cdc_add_lit(sql, mark, err);
    free(mark);
    return rc;
}

/* Creates the publication for the tables with the stream's mark, or adds the tables it
 * lacks to the stream's own (one a user created for it is marked when we may). */
static int publication_ensure(sl_pg_cdc_t *c, const pub_info_t *pi, sl_table_t *const *tables, int n,
                              sl_err_t *err)
{
    const char *what = "could not set up the publication";
    sl_buf_t list, sql;
    sl_buf_init(&list, SL_PG_CDC_SQL_MAX);
    sl_buf_init(&sql, SL_PG_CDC_SQL_MAX);
    int missing = 0, rc = pi->owner == PUB_ABSENT ? 0 : pub_missing(c, tables, n, &list, &missing, err);
    if (pi->owner == PUB_ABSENT) {
        for (int i = 0; i < n && !rc; i++)
            rc = (missing++ && sl_buf_adds(&list, ", ", err)) ||
                 sl_pg_add_qname(&list, sl_pg_cdc_schema(c, tables[i]), tables[i]->name, err);
        /* Changes of partitions go out as their root's, the table the load read. */
        rc = rc || sl_buf_adds(&sql, "CREATE PUBLICATION ", err) || sl_pg_add_ident(&sql, c->pub, err) ||
             (missing && (sl_buf_adds(&sql, " FOR TABLE ", err) || sl_buf_add(&sql, list.data, list.len, err))) ||
             (c->version >= 130000 && sl_buf_adds(&sql, " WITH (publish_via_partition_root = true)", err)) ||
             sl_buf_adds(&sql, "; ", err) || add_mark(c, &sql, err);
    } else if (missing) {
        rc = rc || sl_buf_adds(&sql, "ALTER PUBLICATION ", err) || sl_pg_add_ident(&sql, c->pub, err) ||
             sl_buf_adds(&sql, " ADD TABLE ", err) || sl_buf_add(&sql, list.data, list.len, err);
    }
    if (!rc && sql.len)
        rc = sl_pg_exec(&c->pg, sql.data, err, what);
    if (!rc && sql.len)
        sl_info("publication \"%s\": %s %d table(s)", c->pub, pi->owner == PUB_ABSENT ? "created with" : "added",
                missing);
    if (!rc && pi->owner == PUB_UNMARKED) {
        sl_err_t ignore = {0};
        sl_buf_reset(&sql);
        if (add_mark(c, &sql, &ignore) || sl_pg_exec(&c->pg, sql.data, &ignore, "could not mark the publication"))
            sl_debug("publication \"%s\" stays without the mark of stream \"%s\": %s", c->pub, c->stream,
                     ignore.message);
    }
    sl_buf_free(&list);
    sl_buf_free(&sql);
    return rc ? publication_fail(c, err) : 0;
}

/* ---- slot ------------------------------------------------------------------ */

static int slot_create(sl_pg_cdc_t *c, sl_cdc_prep_t *prep, sl_err_t *err)
{
    sl_buf_t b;
    sl_buf_init(&b, 4096);
    int rc = sl_buf_adds(&b, "CREATE_REPLICATION_SLOT ", err) || sl_pg_add_ident(&b, c->slot, err) ||
             sl_buf_adds(&b, c->version >= 150000 ? " LOGICAL pgoutput (SNAPSHOT 'nothing')"
                                                  : " LOGICAL pgoutput NOEXPORT_SNAPSHOT",
                         err);
    char what[160];
    snprintf(what, sizeof what, "could not create replication slot \"%s\"", c->slot);
    PGresult *r = rc ? NULL : sl_pg_cdc_query(c, &b, err, what);
    sl_buf_free(&b);
    if (!r) {
        if (err && strstr(err->message, "already exists")) {
            err->code = SL_E_CONFLICT;
            sl_err_hint(err, "another run of stream \"%s\" created it meanwhile; stop it", c->stream);
        } else if (err && strstr(err->message, "replication slots are in use")) {
            err->code = SL_E_CONFIG;
            sl_err_hint(err, "raise max_replication_slots in postgresql.conf and restart the "
                             "server, or drop unused slots with pg_drop_replication_slot()");
        }
        return -1;
    }
    uint64_t lsn = 0;
    if (PQntuples(r) != 1 || PQnfields(r) < 2 || sl_lsn_parse(PQgetvalue(r, 0, 1), &lsn)) {
        PQclear(r);
        return sl_err_set(err, SL_E_PROTOCOL, "%s: unexpected reply from the server", what);
    }
    prep->start = lsn;
    PQclear(r);
    char at[32];
    sl_lsn_format(lsn, at, sizeof at);
    sl_info("created replication slot \"%s\" at %s", c->slot, at);
    return 0;
}

/* Drops `what` ("replication slot", "publication") `name` with command `cmd`. */
static int drop(sl_pg_cdc_t *c, const char *cmd, const char *what, const char *name, sl_err_t *err)
{
    sl_buf_t b;
    char msg[64];
    snprintf(msg, sizeof msg, "could not drop the %s", what);
    sl_buf_init(&b, 4096);
    int rc = sl_buf_adds(&b, cmd, err) || sl_pg_add_ident(&b, name, err) || sl_pg_exec(&c->pg, b.data, err, msg);
    sl_buf_free(&b);
    if (!rc)
        sl_info("dropped %s \"%s\"", what, name);
    return rc;
}

static int drop_slot(sl_pg_cdc_t *c, sl_err_t *err)
{
    return drop(c, "DROP_REPLICATION_SLOT ", "replication slot", c->slot, err);
}

/* A first run that began before this sluice named slots differently left a slot under
 * the earlier name: say so (it holds WAL), but leave it: that name may be another
 * stream's. */
static void legacy_leftover(sl_pg_cdc_t *c)
{
    char old[SL_PG_CDC_NAME_MAX + 1];
    sl_pg_cdc_name(c->stream, true, old, sizeof old);
    sl_pg_slot_t st;
    sl_err_t ignore = {0};
    if (!c->cut_short || !strcmp(old, c->slot) || sl_pg_cdc_slot_state(c, old, &st, &ignore) || !st.exists)
        return;
    sl_warn("replication slot \"%s\" exists: an earlier sluice gave stream \"%s\" (and streams whose names differ "
            "only in case or punctuation) that name, and this run uses \"%s\"; if no stream uses \"%s\" any more, "
            "drop it (SELECT pg_drop_replication_slot('%s'); DROP PUBLICATION \"%s\"), for it holds WAL",
            old, c->stream, c->slot, old, old, old);
}

int sl_pg_cdc_prepare(sl_cdc_t *base, sl_table_t *const *tables, int n, sl_cdc_prep_t *prep, sl_err_t *err)
{
    sl_pg_cdc_t *c = (sl_pg_cdc_t *)base;
    memset(prep, 0, sizeof *prep);
    pub_info_t pi;
    sl_pg_slot_t st;
    if (base->ops->check(base, tables, n, err) || pub_read(c, &pi, err))
        return -1;
    if (pi.owner == PUB_FOREIGN)
        return pub_foreign(c, &pi, err);
    if (sl_pg_cdc_slot_state(c, c->slot, &st, err))
        return -1;
    if (st.exists && st.active)
        return slot_in_use(c, err);
    if (st.exists && pi.owner != PUB_OURS && !c->cut_short) {
        sl_err_set(err, SL_E_CONFLICT, "replication slot \"%s\" exists, but stream \"%s\" did not create it",
                   c->slot, c->stream);
        sl_err_detail(err, "no initial load of the stream began, and no publication of the stream names it");
        sl_err_hint(err, "if nothing uses the slot, drop it (SELECT pg_drop_replication_slot('%s')) and run the "
                         "stream again",
                    c->slot);
        if (err)
            err->fatal = true;
        return -1;
    }
    if (st.exists) {
        sl_warn("replication slot \"%s\" exists but stream \"%s\" never handed over to it (an initial load was cut "
                "short); dropping it and starting over",
                c->slot, c->stream);
        if (drop_slot(c, err))
            return -1;
    }
    legacy_leftover(c);
    return publication_ensure(c, &pi, tables, n, err) || slot_create(c, prep, err) ? -1 : 0;
}

/* The slot confirms a position past the stream's checkpoints: see the top of the file. */
static int slot_ahead(sl_pg_cdc_t *c, uint64_t confirmed, uint64_t highest, sl_err_t *err)
{
    char a[32], b[32];
    sl_lsn_format(confirmed, a, sizeof a);
    sl_lsn_format(highest, b, sizeof b);
    sl_err_set(err, SL_E_CONFLICT, "replication slot \"%s\" has confirmed %s, past where stream \"%s\" stands (%s)",
               c->slot, a, c->stream, b);
    sl_err_detail(err, "the slot was dropped and created again, or another stream reads from it: the changes "
                       "between %s and %s cannot be read any more, so the stream stops rather than skip them",
                  b, a);
    sl_err_hint(err, "run `sluice run --restart` to copy the tables again (it leaves a slot that another stream "
                     "uses alone)");
    if (err)
        err->fatal = true;
    return -1;
}

int sl_pg_cdc_start(sl_cdc_t *base, const sl_cdc_mark_t *mark, uint64_t *start, sl_err_t *err)
{
    sl_pg_cdc_t *c = (sl_pg_cdc_t *)base;
    sl_pg_slot_t st;
    pub_info_t pi;
    if (sl_pg_cdc_slot_state(c, c->slot, &st, err) || pub_read(c, &pi, err))
        return -1;
    if (!st.exists) {
        sl_err_set(err, SL_E_NOT_FOUND, "replication slot \"%s\" does not exist", c->slot);
        sl_err_detail(err, "the changes made since the last confirmed position cannot be read any more");
        sl_err_hint(err, "to copy the tables again and stream from now on, run `sluice run --restart`");
        err->fatal = true;
        return -1;
    }
    if (st.lost) {
        sl_err_set(err, SL_E_NOT_FOUND, "replication slot \"%s\" lost the WAL it needs", c->slot);
        sl_err_detail(err, "the server removed WAL past max_slot_wal_keep_size before sluice read it");
        sl_err_hint(err, "raise max_slot_wal_keep_size, then run `sluice run --restart` to copy the tables again");
        err->fatal = true;
        return -1;
    }
    if (pi.owner == PUB_FOREIGN)
        return pub_foreign(c, &pi, err);
    if (pi.owner == PUB_ABSENT) {
        sl_err_set(err, SL_E_NOT_FOUND, "publication \"%s\" of stream \"%s\" does not exist", c->pub, c->stream);
        sl_err_detail(err, "the changes made since the publication was dropped cannot be read");
        sl_err_hint(err, "run `sluice run --restart` to set both up again and copy the tables again");
        err->fatal = true;
        return -1;
    }
    if (mark && mark->highest && st.confirmed > mark->highest)
        return slot_ahead(c, st.confirmed, mark->highest, err);
    *start = st.confirmed;
    return 0;
}

/* Whether the stream may drop its slot and publication: not when the publication is
 * another stream's, nor, for a name an earlier sluice gave, when the slot has moved
 * past the stream's checkpoints (another stream sharing that name took it over). */
static bool owned(sl_pg_cdc_t *c, const pub_info_t *pi, const sl_pg_slot_t *st, const sl_cdc_mark_t *mark)
{
    char a[32] = "", b[32] = "";
    if (pi->owner == PUB_FOREIGN) {
        sl_warn("left replication slot \"%s\" and publication \"%s\" alone: they belong to stream \"%s\"", c->slot,
                c->pub, pi->other);
        return false;
    }
    if (!c->legacy || !st->exists || pi->owner == PUB_OURS)
        return true;
    if (mark && mark->highest && st->confirmed <= mark->highest)
        return true;
    sl_lsn_format(st->confirmed, a, sizeof a);
    if (mark)
        sl_lsn_format(mark->highest, b, sizeof b);
    sl_warn("left replication slot \"%s\" and publication \"%s\" alone: the slot has confirmed %s, past where "
            "stream \"%s\" stands (%s), so another stream uses them; drop them yourself once no stream does",
            c->slot, c->pub, a, c->stream, mark ? b : "no checkpoint");
    return false;
}

int sl_pg_cdc_forget(sl_cdc_t *base, const sl_cdc_mark_t *mark, sl_err_t *err)
{
    sl_pg_cdc_t *c = (sl_pg_cdc_t *)base;
    sl_pg_slot_t st;
    pub_info_t pi;
    if (pub_read(c, &pi, err) || sl_pg_cdc_slot_state(c, c->slot, &st, err))
        return -1;
    if (!owned(c, &pi, &st, mark))
        return 0;
    if (st.exists && st.active)
        return slot_in_use(c, err);
    if (st.exists && drop_slot(c, err))
        return -1;
    return pi.owner != PUB_ABSENT ? drop(c, "DROP PUBLICATION IF EXISTS ", "publication", c->pub, err) : 0;
}

int sl_pg_cdc_pub_check(sl_pg_cdc_t *c, sl_table_t *const *tables, int n, sl_err_t *err)
{
    sl_buf_t list;
    sl_buf_init(&list, SL_PG_CDC_SQL_MAX);
    int missing = 0, rc = pub_missing(c, tables, n, &list, &missing, err);
    if (!rc && missing) {
        rc = sl_err_set(err, SL_E_CONFLICT, "publication \"%s\" does not publish %s of stream \"%s\"", c->pub,
                        list.data, c->stream);
        sl_err_detail(err, "it was changed or created again since the stream set it up; the changes of those "
                           "tables since then cannot be read");
        sl_err_hint(err, "run `sluice run --restart` to copy the tables again");
        if (err)
            err->fatal = true;
    }
    sl_buf_free(&list);
    return rc;
}

/* Whether the publication lists table t. */
static int pub_lists(sl_pg_cdc_t *c, const sl_table_t *t, bool *listed, sl_err_t *err)
{
    sl_buf_t b;
    sl_buf_init(&b, SL_PG_CDC_SQL_MAX);
    int rc = sl_buf_adds(&b, "SELECT count(*) FROM pg_publication_tables WHERE pubname = ", err) ||
             sl_pg_cdc_add_lit(&b, c->pub, err) || sl_buf_adds(&b, " AND schemaname = ", err) ||
             sl_pg_cdc_add_lit(&b, sl_pg_cdc_schema(c, t), err) || sl_buf_adds(&b, " AND tablename = ", err) ||
             sl_pg_cdc_add_lit(&b, t->name, err);
    PGresult *r = rc ? NULL : sl_pg_cdc_query(c, &b, err, "could not read the tables of the publication");
    sl_buf_free(&b);
    if (!r)
        return -1;
    *listed = atoi(PQgetvalue(r, 0, 0)) > 0;
    PQclear(r);
    return 0;
}

int sl_pg_cdc_publish(sl_pg_cdc_t *c, sl_table_t *const *tables, int n, sl_table_t *const *gone, int ngone,
                      bool *changed, sl_err_t *err)
{
    pub_info_t pi;
    *changed = false;
    if (pub_read(c, &pi, err))
        return -1;
    if (pi.owner == PUB_FOREIGN)
        return pub_foreign(c, &pi, err);
    if (pi.owner == PUB_ABSENT) {
        sl_err_set(err, SL_E_NOT_FOUND, "publication \"%s\" of stream \"%s\" does not exist", c->pub, c->stream);
        sl_err_hint(err, "run `sluice run --restart` to set it up again and copy the tables again");
        if (err)
            err->fatal = true;
        return -1;
    }
    sl_buf_t list, sql;
    sl_buf_init(&list, SL_PG_CDC_SQL_MAX);
    sl_buf_init(&sql, SL_PG_CDC_SQL_MAX);
    int missing = 0, dropped = 0;
    int rc = pub_missing(c, tables, n, &list, &missing, err);
    if (!rc && missing)
        rc = sl_buf_adds(&sql, "ALTER PUBLICATION ", err) || sl_pg_add_ident(&sql, c->pub, err) ||
             sl_buf_adds(&sql, " ADD TABLE ", err) || sl_buf_add(&sql, list.data, list.len, err) ||
             sl_buf_adds(&sql, "; ", err);
    for (int i = 0; i < ngone && !rc; i++) {
        bool listed = false;
        rc = pub_lists(c, gone[i], &listed, err);
        if (!rc && listed) {
            rc = sl_buf_adds(&sql, "ALTER PUBLICATION ", err) || sl_pg_add_ident(&sql, c->pub, err) ||
                 sl_buf_adds(&sql, " DROP TABLE ", err) ||
                 sl_pg_add_qname(&sql, sl_pg_cdc_schema(c, gone[i]), gone[i]->name, err) ||
                 sl_buf_adds(&sql, "; ", err);
            dropped++;
        }
    }
    if (!rc && sql.len)
        rc = sl_pg_exec(&c->pg, sql.data, err, "could not change the tables of the publication");
    if (!rc && sql.len) {
        sl_info("publication \"%s\": added %d table(s), dropped %d", c->pub, missing, dropped);
        *changed = true;
    }
    sl_buf_free(&list);
    sl_buf_free(&sql);
    return rc ? publication_fail(c, err) : 0;
}
