/*
 * pg_target.c: the PostgreSQL target's ops table (target/target.h): connecting,
 * transactions, and the checkpoint table that makes batches exactly-once.
 *
 * Checkpoints live in "<schema>"."_sluice_checkpoint" beside the data, so that a
 * batch and its checkpoint commit in one transaction (docs/design.md "Exactly once").
 * Schema work is in pg_schema.c, row writing in pg_write.c. A target connection is
 * used by one writer thread at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/pg/pg_target.h"

#define CKPT_TABLE "_sluice_checkpoint"
/* The largest COPY chunk a batch may build (a batch is bounded by the broker's
 * message size, far below this; escaping at most doubles it). */
#define COPY_BUF_MAX (256u << 20)

static int pg_connect(const sl_url_t *url, sl_target_t **out, sl_err_t *err)
{
    sl_pg_target_t *g = calloc(1, sizeof *g);
    if (!g)
        return sl_err_set(err, SL_E_LIMIT, "out of memory opening a PostgreSQL target");
    if (sl_pg_connect(url, &g->pg, err)) {
        free(g);
        return -1;
    }
    sl_buf_init(&g->copy, COPY_BUF_MAX);
    g->base.ops = &sl_pg_target_ops;
    *out = &g->base;
    return 0;
}

static void pg_close(sl_target_t *tgt)
{
    if (!tgt)
        return;
    sl_pg_target_t *g = (sl_pg_target_t *)tgt;
    sl_pg_pipeline_flush(g, NULL); /* drops what is pending */
    sl_pg_disconnect(&g->pg);
    sl_buf_free(&g->copy);
    sl_pg_apply_free(g->apply);
    free(g);
}

/* Runs sql with "$1" = the quoted checkpoint table substituted: the table name is
 * not a parameter, so the statements are assembled per call (they are short). */
static PGresult *ckpt_query(sl_pg_t *pg, const char *fmt, int n, const char *const *params,
                            sl_err_t *err, const char *what)
{
    sl_buf_t q, b;
    sl_buf_init(&q, 1024);
    sl_buf_init(&b, 4096);
    PGresult *r = NULL;
    if (!sl_pg_add_qname(&q, pg->schema, CKPT_TABLE, err) &&
        !sl_buf_printf(&b, err, fmt, q.data))
        r = sl_pg_query(pg, b.data, n, params, err, what);
    sl_buf_free(&q);
    sl_buf_free(&b);
    return r;
}

static int pg_ckpt_setup(sl_target_t *tgt, sl_err_t *err)
{
    sl_pg_t *pg = &((sl_pg_target_t *)tgt)->pg;
    const char *what = "could not create the checkpoint table";
    const char *p1[] = {pg->schema};
    PGresult *r = sl_pg_query(pg,
                              "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1),"
                              " EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n"
                              "  ON n.oid = c.relnamespace WHERE n.nspname = $1"
                              "  AND c.relname = '" CKPT_TABLE "')",
                              1, p1, err, what);
    if (!r)
        return -1;
    bool has_schema = PQgetvalue(r, 0, 0)[0] == 't', has_table = PQgetvalue(r, 0, 1)[0] == 't';
    PQclear(r);
    if (!has_schema) {
        sl_err_set(err, SL_E_NOT_FOUND, "schema \"%s\" does not exist in database \"%s\"",
                   pg->schema, pg->dbname);
        sl_err_hint(err, "create it with CREATE SCHEMA \"%s\", or fix ?schema= in the target URL",
                    pg->schema);
        return -1;
    }
    /* CREATE ... IF NOT EXISTS still needs CREATE on the schema, so skip it when the
     * table is there: a user with only table privileges can then run streams. */
    if (has_table)
        return 0;
    r = ckpt_query(pg,
                   "CREATE TABLE IF NOT EXISTS %s (stream text, key text, epoch bigint NOT NULL,"
                   " seq bigint NOT NULL, position text, done boolean NOT NULL DEFAULT false,"
                   " updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (stream, key))",
                   0, NULL, err, what);
    if (r) {
        PQclear(r);
        return 0;
    }
    char role[300];
    if (err && err->code == SL_E_PRIVILEGE)
        sl_err_hint(err, "GRANT CREATE ON SCHEMA \"%s\" TO %s", pg->schema,
                    sl_pg_role_text(pg->user, role, sizeof role));
    return -1;
}

static int pg_table_state(sl_target_t *tgt, const sl_table_t *t, bool *exists, bool *has_rows,
                          sl_err_t *err)
{
    sl_pg_t *pg = &((sl_pg_target_t *)tgt)->pg;
    sl_buf_t q;
    sl_buf_init(&q, 4096);
    if (sl_pg_add_qname(&q, sl_pg_tschema(pg, t), t->name, err)) {
        sl_buf_free(&q);
        return -1;
    }
    char what[300];
    snprintf(what, sizeof what, "could not inspect table \"%s.%s\"", sl_pg_tschema(pg, t), t->name);
    const char *p1[] = {q.data};
    PGresult *r = sl_pg_query(pg, "SELECT to_regclass($1) IS NOT NULL", 1, p1, err, what);
    if (!r)
        goto fail;
    *exists = PQgetvalue(r, 0, 0)[0] == 't';
    *has_rows = false;
    PQclear(r);
    if (*exists) {
        sl_buf_t s;
        sl_buf_init(&s, 4096);
        int rc = sl_buf_printf(&s, err, "SELECT EXISTS (SELECT 1 FROM %s LIMIT 1)", q.data);
        r = rc ? NULL : sl_pg_query(pg, s.data, 0, NULL, err, what);
        sl_buf_free(&s);
        if (!r)
            goto fail;
        *has_rows = PQgetvalue(r, 0, 0)[0] == 't';
        PQclear(r);
    }
    sl_buf_free(&q);
    return 0;
fail:
    if (err && err->code == SL_E_PRIVILEGE) {
        char role[300];
        sl_err_hint(err, "GRANT SELECT, INSERT, DELETE, TRUNCATE ON %s TO %s", q.data,
                    sl_pg_role_text(pg->user, role, sizeof role));
    }
    sl_buf_free(&q);
    return -1;
}

/* A fenced connection's transaction (target.h) that stays idle 60 s is ended by the
 * server: a process paused mid-transaction (SIGSTOP, a frozen VM) would otherwise hold its
 * share lock on the fence row, and the row locks of its batch, until it woke, and the new
 * owner's fence raise would wait for it that long. Its rows could not commit anyway. */
static int pg_begin(sl_target_t *tgt, sl_err_t *err)
{
    return sl_pg_exec(&((sl_pg_target_t *)tgt)->pg,
                      tgt->fence > 0 ? "BEGIN; SET LOCAL idle_in_transaction_session_timeout = '60s'" : "BEGIN",
                      err, "could not start a transaction");
}

static int pg_commit(sl_target_t *tgt, sl_err_t *err)
{
    sl_pg_t *pg = &((sl_pg_target_t *)tgt)->pg;
    if (sl_pg_pipeline_flush((sl_pg_target_t *)tgt, err)) {
        sl_pg_exec(pg, "ROLLBACK", NULL, "could not roll back"); /* a pipelined change failed */
        return -1;
    }
    PGresult *r = sl_pg_query(pg, "COMMIT", 0, NULL, err, "could not commit");
    if (!r)
        return -1;
    /* COMMIT of a failed transaction "succeeds" with the tag ROLLBACK. */
    bool rolled_back = !strcmp(PQcmdStatus(r), "ROLLBACK");
    PQclear(r);
    if (rolled_back) {
        sl_err_set(err, SL_E_CONFLICT,
                   "could not commit: the transaction had already failed and was rolled back");
        sl_err_retriable(err);
        return -1;
    }
    return 0;
}

static void pg_rollback(sl_target_t *tgt)
{
    sl_pg_t *pg = &((sl_pg_target_t *)tgt)->pg;
    sl_pg_pipeline_flush((sl_pg_target_t *)tgt, NULL); /* results of a failed batch: dropped */
    if (PQstatus(pg->conn) == CONNECTION_OK && PQtransactionStatus(pg->conn) != PQTRANS_IDLE)
        sl_pg_exec(pg, "ROLLBACK", NULL, "could not roll back");
}

static void fill_ckpt(PGresult *r, int row, int col, sl_ckpt_t *ck)
{
    ck->epoch = strtoll(PQgetvalue(r, row, col), NULL, 10);
    ck->seq = strtoll(PQgetvalue(r, row, col + 1), NULL, 10);
    ck->position = PQgetisnull(r, row, col + 2) ? NULL : sl_strdup(PQgetvalue(r, row, col + 2));
    ck->done = PQgetvalue(r, row, col + 3)[0] == 't';
}

static int pg_ckpt_get(sl_target_t *tgt, const char *stream, const char *key, sl_ckpt_t *ck,
                       bool *found, sl_err_t *err)
{
    sl_pg_t *pg = &((sl_pg_target_t *)tgt)->pg;
    if (sl_pg_pipeline_flush((sl_pg_target_t *)tgt, err))
        return -1;
    const char *p[] = {stream, key};
    PGresult *r = ckpt_query(pg,
                             "SELECT epoch, seq, position, done FROM %s"
                             " WHERE stream = $1 AND key = $2 FOR UPDATE",
                             2, p, err, "could not read a checkpoint");
    if (!r)
        return -1;
    memset(ck, 0, sizeof *ck);
    *found = PQntuples(r) == 1;
    if (*found)
        fill_ckpt(r, 0, 0, ck);
    PQclear(r);
    return 0;
}

/* The upsert of a checkpoint; "%s" is the table. */
#define CKPT_UPSERT_TAIL                                                                             \
    " ON CONFLICT (stream, key) DO UPDATE SET epoch = EXCLUDED.epoch,"                              \
    " seq = EXCLUDED.seq, position = EXCLUDED.position,"                                            \
    " done = EXCLUDED.done, updated_at = now()"

/* A fenced write (target.h): the stream's fence row, when there is one, is read under a
 * shared lock (which a raise waits for) and must not be newer than the connection's
 * epoch ($7); no row comes back when it is. A raise (key "fence") never lowers the fence
 * and returns no row when a newer one is there. */
static int pg_ckpt_put(sl_target_t *tgt, const char *stream, const char *key, const sl_ckpt_t *ck,
                       sl_err_t *err)
{
    sl_pg_t *pg = &((sl_pg_target_t *)tgt)->pg;
    if (sl_pg_pipeline_flush((sl_pg_target_t *)tgt, err))
        return -1;
    char epoch[32], seq[32], fence[32];
    snprintf(epoch, sizeof epoch, "%lld", (long long)ck->epoch);
    snprintf(seq, sizeof seq, "%lld", (long long)ck->seq);
    snprintf(fence, sizeof fence, "%lld", (long long)tgt->fence);
    const char *p[] = {stream, key, epoch, seq, ck->position, ck->done ? "t" : "f", fence};
    bool raise = !strcmp(key, SL_CKPT_FENCE), fenced = raise || tgt->fence > 0;
    const char *sql =
        raise ? "INSERT INTO %s AS c (stream, key, epoch, seq, position, done, updated_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, now())"
                " ON CONFLICT (stream, key) DO UPDATE SET epoch = EXCLUDED.epoch, updated_at = now()"
                " WHERE c.epoch <= EXCLUDED.epoch RETURNING c.epoch"
        : fenced ? "WITH f AS (SELECT epoch FROM %1$s WHERE stream = $1 AND key = '" SL_CKPT_FENCE "' FOR SHARE)"
                   " INSERT INTO %1$s (stream, key, epoch, seq, position, done, updated_at)"
                   " SELECT $1, $2, $3::bigint, $4::bigint, $5, $6::boolean, now()"
                   " WHERE NOT EXISTS (SELECT 1 FROM f WHERE f.epoch > $7::bigint)" CKPT_UPSERT_TAIL
                   " RETURNING 1"
                 : "INSERT INTO %s (stream, key, epoch, seq, position, done, updated_at)"
                   " VALUES ($1, $2, $3, $4, $5, $6, now())" CKPT_UPSERT_TAIL;
    PGresult *r = ckpt_query(pg, sql, fenced && !raise ? 7 : 6, p, err, "could not save a checkpoint");
    if (!r)
        return -1;
    bool refused = fenced && PQntuples(r) == 0;
    PQclear(r);
    if (!refused)
        return 0;
    /* the fence that refused it, for the message */
    const char *q[] = {stream};
    int64_t theirs = 0;
    r = ckpt_query(pg, "SELECT epoch FROM %s WHERE stream = $1 AND key = '" SL_CKPT_FENCE "'", 1, q, err,
                   "could not read the fence");
    if (r && PQntuples(r) == 1)
        theirs = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return sl_target_fenced(err, stream, key, raise ? ck->epoch : tgt->fence, theirs);
}

/* Whether the checkpoint table exists. A target no load has written to yet has none,
 * and listing or deleting its checkpoints then finds nothing rather than failing:
 * the table is created only once a fresh load has passed its checks. */
static int ckpt_exists(sl_pg_t *pg, bool *exists, sl_err_t *err)
{
    sl_buf_t q;
    sl_buf_init(&q, 1024);
    PGresult *r = NULL;
    if (!sl_pg_add_qname(&q, pg->schema, CKPT_TABLE, err)) {
        const char *p1[] = {q.data};
        r = sl_pg_query(pg, "SELECT to_regclass($1) IS NOT NULL", 1, p1, err,
                        "could not look for the checkpoint table");
    }
    sl_buf_free(&q);
    if (!r)
        return -1;
    *exists = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return 0;
}

static int pg_ckpt_list(sl_target_t *tgt, const char *stream, sl_ckpt_fn fn, void *ctx,
                        sl_err_t *err)
{
    sl_pg_t *pg = &((sl_pg_target_t *)tgt)->pg;
    bool exists = false;
    if (ckpt_exists(pg, &exists, err))
        return -1;
    if (!exists)
        return 0;
    const char *p[] = {stream};
    PGresult *r = ckpt_query(pg,
                             "SELECT key, epoch, seq, position, done FROM %s"
                             " WHERE stream = $1 ORDER BY key",
                             1, p, err, "could not list checkpoints");
    if (!r)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && !rc; i++) {
        sl_ckpt_t ck = {0};
        fill_ckpt(r, i, 1, &ck);
        rc = fn(ctx, PQgetvalue(r, i, 0), &ck, err);
        sl_ckpt_clear(&ck);
    }
    PQclear(r);
    return rc;
}

static int pg_ckpt_delete(sl_target_t *tgt, const char *stream, sl_err_t *err)
{
    sl_pg_t *pg = &((sl_pg_target_t *)tgt)->pg;
    bool exists = false;
    if (ckpt_exists(pg, &exists, err))
        return -1;
    if (!exists)
        return 0;
    const char *p[] = {stream};
    PGresult *r = ckpt_query(pg, "DELETE FROM %s WHERE stream = $1", 1, p, err,
                             "could not delete checkpoints");
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

/* The pure checks of the PostgreSQL target's mapping (a connection adds nothing to them). */
static int pg_refuses(const sl_target_t *tgt, const sl_table_t *t, const sl_column_t *c, const sl_value_t *v,
                      sl_refusal_t *r)
{
    (void)tgt;
    return sl_pg_refuses(t, c, v, r);
}

static int pg_may_refuse(const sl_target_t *tgt, const sl_table_t *t, const sl_column_t *c, sl_refusal_t *r)
{
    (void)tgt;
    return sl_pg_may_refuse(t, c, r);
}

const struct sl_target_ops sl_pg_target_ops = {
    .name = "pg",
    .connect = pg_connect,
    .close = pg_close,
    .ckpt_setup = pg_ckpt_setup,
    .table_state = pg_table_state,
    .create_table = sl_pg_target_create_table,
    .truncate_table = sl_pg_target_truncate_table,
    .drop_table = sl_pg_target_drop_table,
    .finish_table = sl_pg_target_finish_table,
    .finish_fkeys = sl_pg_target_finish_fkeys,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .ckpt_get = pg_ckpt_get,
    .ckpt_put = pg_ckpt_put,
    .ckpt_list = pg_ckpt_list,
    .ckpt_delete = pg_ckpt_delete,
    .write_rows = sl_pg_target_write_rows,
    .delete_all = sl_pg_target_delete_all,
    .apply_changes = sl_pg_target_apply_changes,
    .add_column = sl_pg_target_add_column,
    .drop_column = sl_pg_target_drop_column,
    .rejects_setup = sl_pg_rejects_setup,
    .rejects_write = sl_pg_rejects_write,
    .rejects_find = sl_pg_rejects_find,
    .savepoint = sl_pg_savepoint,
    .create_sql = sl_pg_create_sql_op,
    .refuses = pg_refuses,
    .may_refuse = pg_may_refuse,
};
