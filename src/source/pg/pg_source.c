/*
 * pg_source.c: the PostgreSQL source's ops table (source/source.h): connecting,
 * listing tables, sharing one snapshot between parallel readers, and key ranges
 * for chunking. Describing lives in pg_describe.c, reading in pg_scan.c.
 *
 * Snapshot sharing uses pg_export_snapshot(): the exporting connection keeps its
 * REPEATABLE READ transaction open (and may read in it) until the engine closes
 * it; every other reader joins with SET TRANSACTION SNAPSHOT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "source/pg/pg_source.h"

/* Shares are limited by max_connections rather than by PostgreSQL itself. */
#define PG_MAX_READERS 64

static int pg_connect(const sl_url_t *url, sl_source_t **out, sl_err_t *err)
{
    sl_pg_source_t *s = calloc(1, sizeof *s);
    if (!s)
        return sl_err_set(err, SL_E_INTERNAL, "out of memory");
    if (sl_pg_connect(url, &s->pg, err)) {
        free(s);
        return -1;
    }
    s->base.ops = &sl_pg_source_ops;
    *out = &s->base;
    return 0;
}

static void pg_close(sl_source_t *src)
{
    if (!src)
        return;
    sl_pg_source_t *s = (sl_pg_source_t *)src;
    sl_pg_disconnect(&s->pg);
    free(s);
}

/* Partitions are left out: their rows are read through the partitioned parent. */
static int pg_list_tables(sl_source_t *src, char ***names, int *n, sl_err_t *err)
{
    sl_pg_t *pg = &((sl_pg_source_t *)src)->pg;
    const char *params[] = {pg->schema};
    PGresult *r = sl_pg_query(pg,
                              "SELECT c.relname FROM pg_class c"
                              " JOIN pg_namespace n ON n.oid = c.relnamespace"
                              " WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')"
                              " AND NOT c.relispartition AND c.relname NOT IN ('_sluice_checkpoint', '_sluice_rejects')"
                              " ORDER BY c.relname COLLATE \"C\"",
                              1, params, err, "could not list tables");
    if (!r)
        return -1;
    int rows = PQntuples(r);
    char **v = calloc((size_t)(rows ? rows : 1), sizeof *v);
    if (!v)
        sl_oom();
    for (int i = 0; i < rows; i++)
        v[i] = sl_strdup(PQgetvalue(r, i, 0));
    PQclear(r);
    *names = v;
    *n = rows;
    /* views are copied only when named: say which ones are skipped, in one line */
    r = sl_pg_query(pg,
                    "SELECT count(*), string_agg(c.relname, ', ' ORDER BY c.relname COLLATE \"C\") FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('v', 'm')",
                    1, params, NULL, "could not list views");
    if (r && PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "0"))
        sl_info("skipping %s view%s of schema \"%s\" (name a view in source.tables to copy it as a table): %s",
                PQgetvalue(r, 0, 0), strcmp(PQgetvalue(r, 0, 0), "1") ? "s" : "", pg->schema, PQgetvalue(r, 0, 1));
    PQclear(r);
    return 0;
}

static int pg_snapshot_export(sl_source_t *src, char **token, int *max_readers, sl_err_t *err)
{
    sl_pg_t *pg = &((sl_pg_source_t *)src)->pg;
    const char *what = "could not export a snapshot";
    if (sl_pg_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, what))
        return -1;
    PGresult *r = sl_pg_query(pg, "SELECT pg_export_snapshot()", 0, NULL, err, what);
    if (!r) {
        sl_pg_exec(pg, "ROLLBACK", NULL, what);
        return -1;
    }
    *token = sl_strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    *max_readers = PG_MAX_READERS;
    return 0;
}

static int pg_snapshot_import(sl_source_t *src, const char *token, sl_err_t *err)
{
    sl_pg_t *pg = &((sl_pg_source_t *)src)->pg;
    const char *what = "could not join the exported snapshot";
    if (sl_pg_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, what))
        return -1;
    sl_buf_t b;
    sl_buf_init(&b, 4096);
    int rc = sl_buf_adds(&b, "SET TRANSACTION SNAPSHOT ", err) ||
             sl_pg_add_literal(&b, token, strlen(token), err) ||
             sl_pg_exec(pg, b.data, err, what);
    sl_buf_free(&b);
    if (rc) {
        /* The exporter's transaction ended (22023 "invalid snapshot identifier"):
         * the run must start over, which is not a data error. */
        if (err && err->code == SL_E_DATA)
            err->code = SL_E_CONFLICT;
        sl_err_hint(err, "the exporting connection must stay open until every reader has joined");
        sl_pg_exec(pg, "ROLLBACK", NULL, what);
        return -1;
    }
    return 0;
}

static int pg_snapshot_release(sl_source_t *src, sl_err_t *err)
{
    /* Nothing to do: the exporting transaction stays open so that this connection
     * can read in the same snapshot; the engine ends it by closing the connection. */
    return 0;
}

static int pg_key_range(sl_source_t *src, const sl_table_t *t, int64_t *min, int64_t *max,
                        bool *has_rows, sl_err_t *err)
{
    sl_pg_t *pg = &((sl_pg_source_t *)src)->pg;
    int k = sl_table_pk_count(t) == 1 ? sl_table_pk_col(t, 0) : -1;
    if (k < 0 || !sl_type_is_integer(t->columns[k].type))
        return sl_err_set(err, SL_E_INTERNAL,
                          "key range asked for \"%s\", whose primary key is not one integer column",
                          t->name);
    sl_buf_t b;
    sl_buf_init(&b, 4096);
    int rc = sl_buf_adds(&b, "SELECT min(", err) || sl_pg_add_ident(&b, t->columns[k].name, err) ||
             sl_buf_adds(&b, ")::int8, max(", err) ||
             sl_pg_add_ident(&b, t->columns[k].name, err) || sl_buf_adds(&b, ")::int8 FROM ", err) ||
             sl_pg_add_qname(&b, t->schema, t->name, err);
    char what[300];
    snprintf(what, sizeof what, "could not read the key range of \"%s.%s\"", t->schema, t->name);
    PGresult *r = rc ? NULL : sl_pg_query(pg, b.data, 0, NULL, err, what);
    sl_buf_free(&b);
    if (!r)
        return -1;
    *has_rows = !PQgetisnull(r, 0, 0);
    *min = *has_rows ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    *max = *has_rows ? strtoll(PQgetvalue(r, 0, 1), NULL, 10) : 0;
    PQclear(r);
    return 0;
}

const struct sl_source_ops sl_pg_source_ops = {
    .name = "pg",
    .connect = pg_connect,
    .close = pg_close,
    .list_tables = pg_list_tables,
    .describe = sl_pg_source_describe,
    .snapshot_export = pg_snapshot_export,
    .snapshot_import = pg_snapshot_import,
    .snapshot_release = pg_snapshot_release,
    .key_range = pg_key_range,
    .key_sample = sl_pg_source_key_sample,
    .scan = sl_pg_source_scan,
};
