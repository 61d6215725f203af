/*
 * pg_rejects.c: the PostgreSQL target's rejected rows (options.on_error "reject",
 * docs/mapping.md): the table `_sluice_rejects` beside the checkpoint table, written in
 * the batch's own transaction, and the savepoint the engine isolates a refused row with.
 *
 * row_key and row_data are `json`, not `jsonb`: a rejected row may hold text with a NUL
 * byte (the very reason it was rejected), which json keeps as \u0000 and jsonb refuses.
 * A key is looked up by its JSON text, which the engine always writes the same way.
 *
 * Thread: the writer lane's that owns the connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/pg/pg_target.h"

#define REJECTS_BATCH 200 /* rows per INSERT */

/* sql with "%s" = the quoted rejects table. */
static PGresult *rq(sl_pg_t *pg, const char *fmt, int n, const char *const *params, sl_err_t *err,
                    const char *what)
{
    sl_buf_t q, b;
    sl_buf_init(&q, 1024);
    sl_buf_init(&b, 4096);
    PGresult *r = NULL;
    if (!sl_pg_add_qname(&q, pg->schema, SL_REJECTS_TABLE, err) && !sl_buf_printf(&b, err, fmt, q.data, q.data))
        r = sl_pg_query(pg, b.data, n, params, err, what);
    sl_buf_free(&q);
    sl_buf_free(&b);
    return r;
}

static int run(sl_pg_t *pg, const char *fmt, int n, const char *const *params, sl_err_t *err, const char *what)
{
    PGresult *r = rq(pg, fmt, n, params, err, what);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

int sl_pg_rejects_setup(sl_target_t *tgt, const char *stream, bool reset, sl_err_t *err)
{
    sl_pg_t *pg = &((sl_pg_target_t *)tgt)->pg;
    const char *what = "could not create the rejects table " SL_REJECTS_TABLE;
    const char *p1[] = {pg->schema};
    PGresult *r = sl_pg_query(pg,
                              "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                              " WHERE n.nspname = $1 AND c.relname = '" SL_REJECTS_TABLE "')",
                              1, p1, err, what);
    if (!r)
        return -1;
    bool has = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!has && run(pg,
                    "CREATE TABLE IF NOT EXISTS %s (stream text NOT NULL, table_name text NOT NULL, row_key json,"
                    " column_name text, reason text NOT NULL, row_data json, position text,"
                    " rejected_at timestamptz NOT NULL DEFAULT now());"
                    " CREATE INDEX IF NOT EXISTS _sluice_rejects_stream ON %s (stream, table_name)",
                    0, NULL, err, what)) {
        if (err && err->code == SL_E_PRIVILEGE)
            sl_err_hint(err, "GRANT CREATE ON SCHEMA \"%s\" TO %s", pg->schema, pg->user);
        return -1;
    }
    const char *p[] = {stream};
    return reset ? run(pg, "DELETE FROM %s WHERE stream = $1", 1, p, err, "could not clear the stream's rejects") : 0;
}

static int add_lit(sl_buf_t *b, const char *s, const char *cast, sl_err_t *err)
{
    if (!s)
        return sl_buf_adds(b, "NULL", err);
    if (sl_pg_add_literal(b, s, strlen(s), err))
        return -1;
    return cast ? sl_buf_adds(b, cast, err) : 0;
}

int sl_pg_rejects_write(sl_target_t *tgt, const char *stream, const sl_reject_t *rj, int n,
                            const char *clear_table, sl_err_t *err)
{
    sl_pg_target_t *g = (sl_pg_target_t *)tgt;
    sl_pg_t *pg = &g->pg;
    if (sl_pg_pipeline_flush(g, err))
        return -1;
    if (clear_table) {
        const char *p[] = {stream, clear_table};
        if (run(pg, "DELETE FROM %s WHERE stream = $1 AND table_name = $2", 2, p, err,
                "could not clear a table's rejects"))
            return -1;
    }
    sl_buf_t q, b;
    sl_buf_init(&q, 1024);
    sl_buf_init(&b, 256u << 20);
    int rc = sl_pg_add_qname(&q, pg->schema, SL_REJECTS_TABLE, err);
    for (int i = 0; i < n && !rc; i += REJECTS_BATCH) {
        sl_buf_reset(&b);
        rc = sl_buf_printf(&b, err,
                           "INSERT INTO %s (stream, table_name, row_key, column_name, reason, row_data, position)"
                           " VALUES ",
                           q.data);
        for (int k = i; k < n && k < i + REJECTS_BATCH && !rc; k++) {
            const sl_reject_t *r = &rj[k];
            rc = sl_buf_adds(&b, k > i ? ", (" : "(", err) || add_lit(&b, stream, NULL, err) ||
                 sl_buf_addc(&b, ',', err) || add_lit(&b, r->table, NULL, err) || sl_buf_addc(&b, ',', err) ||
                 add_lit(&b, r->key, "::json", err) || sl_buf_addc(&b, ',', err) ||
                 add_lit(&b, r->column, NULL, err) || sl_buf_addc(&b, ',', err) ||
                 add_lit(&b, r->reason, NULL, err) || sl_buf_addc(&b, ',', err) ||
                 add_lit(&b, r->row, "::json", err) || sl_buf_addc(&b, ',', err) ||
                 add_lit(&b, r->position, NULL, err) || sl_buf_addc(&b, ')', err);
        }
        if (!rc)
            rc = sl_pg_exec(pg, b.data, err, "could not record rejected rows");
    }
    sl_buf_free(&q);
    sl_buf_free(&b);
    return rc ? -1 : 0;
}

int sl_pg_rejects_find(sl_target_t *tgt, const char *stream, const char *table, const char *key, bool *found,
                           sl_err_t *err)
{
    sl_pg_target_t *g = (sl_pg_target_t *)tgt;
    *found = false;
    if (sl_pg_pipeline_flush(g, err))
        return -1;
    const char *p[] = {stream, table, key};
    PGresult *r = rq(&g->pg, "SELECT 1 FROM %s WHERE stream = $1 AND table_name = $2 AND row_key::text = $3 LIMIT 1",
                     3, p, err, "could not look up rejected rows");
    if (!r)
        return -1;
    *found = PQntuples(r) > 0;
    PQclear(r);
    return 0;
}

int sl_pg_savepoint(sl_target_t *tgt, sl_savepoint_op_t op, sl_err_t *err)
{
    sl_pg_target_t *g = (sl_pg_target_t *)tgt;
    if (op == SL_SAVEPOINT_ROLLBACK) {
        sl_pg_pipeline_flush(g, NULL); /* what the failed part held: dropped */
        return sl_pg_exec(&g->pg, "ROLLBACK TO SAVEPOINT sluice_row; RELEASE SAVEPOINT sluice_row", err,
                          "could not roll back to a savepoint");
    }
    if (sl_pg_pipeline_flush(g, err))
        return -1;
    return sl_pg_exec(&g->pg, op == SL_SAVEPOINT_SET ? "SAVEPOINT sluice_row" : "RELEASE SAVEPOINT sluice_row", err,
                      "could not set a savepoint");
}

int sl_pg_create_sql_op(const sl_url_t *url, const sl_table_t *t, sl_buf_t *out, sl_err_t *err)
{
    const char *schema = t->target_schema ? t->target_schema : sl_url_param(url, "schema");
    return sl_pg_create_sql(t, schema ? schema : "public", NULL, out, err);
}
