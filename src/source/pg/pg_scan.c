/*
 * pg_scan.c: streams a PostgreSQL table (or one key range of it) to a row
 * callback with COPY (SELECT ...) TO STDOUT in text format.
 *
 * Text COPY is type-agnostic and, with the session settings of db/pg/pg_conn.c,
 * already prints canonical text; only bytea (hex → raw bytes), char(n) (pad
 * stripped) and money (selected as numeric) need work here. PQgetCopyData in
 * blocking mode hands over one row at a time, so memory stays bounded by the
 * largest row whatever the table size. Runs on the calling (reader) thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/mem.h"
#include "source/pg/pg_source.h"

#define SCAN_SQL_MAX (1u << 20)

int sl_pg_scan_column_expr(sl_buf_t *b, const sl_column_t *c, sl_err_t *err)
{
    if (sl_pg_add_ident(b, c->name, err))
        return -1;
    /* money prints with a currency symbol and separators from lc_monetary */
    if (c->type == SL_T_MONEY)
        return sl_buf_adds(b, "::numeric", err);
    return 0;
}

/* Appends one bound value of key column c as a literal. */
static int add_key_literal(sl_buf_t *b, const sl_column_t *c, const json_t *v, sl_err_t *err)
{
    char num[64];
    const char *s;
    size_t n;
    if (json_is_string(v)) {
        s = json_string_value(v);
        n = json_string_length(v);
    } else if (json_is_integer(v)) {
        n = (size_t)snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        s = num;
    } else if (json_is_real(v)) {
        n = (size_t)snprintf(num, sizeof num, "%.17g", json_real_value(v));
        s = num;
    } else if (json_is_boolean(v)) {
        s = json_is_true(v) ? "t" : "f";
        n = 1;
    } else {
        return sl_err_set(err, SL_E_INTERNAL, "key bound for column \"%s\" is not a value",
                          c->name);
    }
    if (c->type == SL_T_BYTES)
        return sl_pg_add_bytea_literal(b, s, n, err);
    return sl_pg_add_literal(b, s, n, err);
}

/* Appends "(k1, k2) <op> ('v1', 'v2')" for a JSON array bound. */
static int add_bound(sl_buf_t *b, const sl_table_t *t, const char *bound, const char *op,
                     sl_err_t *err)
{
    int npk = sl_table_pk_count(t);
    json_error_t jerr;
    json_t *a = json_loads(bound, JSON_DECODE_ANY, &jerr);
    if (!json_is_array(a) || (int)json_array_size(a) != npk) {
        json_decref(a);
        sl_err_set(err, SL_E_INTERNAL, "key bound %s does not match the primary key of \"%s\"",
                   bound, t->name);
        sl_err_detail(err, "expected a JSON array of %d value(s)", npk);
        return -1;
    }
    int rc = sl_buf_addc(b, '(', err);
    for (int i = 0; i < npk && !rc; i++) {
        rc = (i && sl_buf_adds(b, ", ", err)) ||
             sl_pg_add_ident(b, t->columns[sl_table_pk_col(t, i)].name, err);
    }
    rc = rc || sl_buf_printf(b, err, ") %s (", op);
    for (int i = 0; i < npk && !rc; i++) {
        rc = (i && sl_buf_adds(b, ", ", err)) ||
             add_key_literal(b, &t->columns[sl_table_pk_col(t, i)], json_array_get(a, (size_t)i),
                             err);
    }
    json_decref(a);
    return rc || sl_buf_addc(b, ')', err) ? -1 : 0;
}

static int build_sql(sl_buf_t *b, const sl_scan_t *scan, sl_err_t *err)
{
    const sl_table_t *t = scan->table;
    int npk = sl_table_pk_count(t);
    if (sl_buf_adds(b, "COPY (SELECT ", err))
        return -1;
    for (int i = 0; i < t->ncolumns; i++)
        if ((i && sl_buf_adds(b, ", ", err)) || sl_pg_scan_column_expr(b, &t->columns[i], err))
            return -1;
    if (sl_buf_adds(b, " FROM ", err) || sl_pg_add_qname(b, t->schema, t->name, err))
        return -1;
    if ((scan->after_key || scan->upto_key) && !npk)
        return sl_err_set(err, SL_E_INTERNAL, "key bounds given for \"%s\", which has no primary key",
                          t->name);
    if (scan->after_key &&
        (sl_buf_adds(b, " WHERE ", err) || add_bound(b, t, scan->after_key, ">", err)))
        return -1;
    if (scan->upto_key && (sl_buf_adds(b, scan->after_key ? " AND " : " WHERE ", err) ||
                           add_bound(b, t, scan->upto_key, "<=", err)))
        return -1;
    if (scan->filter && (sl_buf_adds(b, scan->after_key || scan->upto_key ? " AND " : " WHERE ", err) ||
                         sl_filter_sql(scan->filter, SL_FILTER_PG, b, err)))
        return -1;
    if (scan->key_eq && (!npk || sl_buf_adds(b, scan->after_key || scan->upto_key || scan->filter ? " AND " : " WHERE ", err) ||
                         add_bound(b, t, scan->key_eq, "=", err)))
        return npk ? -1 : sl_err_set(err, SL_E_INTERNAL, "a key given for \"%s\", which has no primary key", t->name);
    for (int i = 0; i < npk; i++)
        if (sl_buf_adds(b, i ? ", " : " ORDER BY ", err) ||
            sl_pg_add_ident(b, t->columns[sl_table_pk_col(t, i)].name, err))
            return -1;
    if (scan->limit > 0 && sl_buf_printf(b, err, " LIMIT %lld", (long long)scan->limit))
        return -1;
    return sl_buf_adds(b, ") TO STDOUT", err);
}

/* Stops a COPY we no longer want and leaves the connection ready for the next
 * command: cancel the query server-side (so a huge table is not streamed for
 * nothing), then drain what is already in flight. */
static void abandon_copy(PGconn *conn)
{
    PGcancel *cancel = PQgetCancel(conn);
    char ebuf[256];
    if (cancel) {
        PQcancel(cancel, ebuf, sizeof ebuf);
        PQfreeCancel(cancel);
    }
    char *line;
    int n;
    while ((n = PQgetCopyData(conn, &line, 0)) >= 0)
        PQfreemem(line);
    PGresult *res;
    while ((res = PQgetResult(conn)))
        PQclear(res);
}

/* Turns one decoded row into canonical values in place. */
static int canonicalize(const sl_table_t *t, sl_value_t *vals, sl_err_t *err)
{
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *c = &t->columns[i];
        sl_value_t *v = &vals[i];
        if (v->len < 0)
            continue;
        if (c->type == SL_T_BYTES) {
            long long n = sl_pg_hex_decode((char *)v->p, (size_t)v->len);
            if (n < 0)
                return sl_err_set(err, SL_E_PROTOCOL,
                                  "unexpected bytea text in column \"%s\" of \"%s\"", c->name,
                                  t->name);
            v->len = n;
        } else if (c->type == SL_T_TEXT && c->fixed) {
            while (v->len > 0 && v->p[v->len - 1] == ' ')
                v->len--;
        }
    }
    return 0;
}

int sl_pg_source_scan(sl_source_t *src, const sl_scan_t *scan, sl_row_fn fn, void *ctx,
                      sl_err_t *err)
{
    sl_pg_t *pg = &((sl_pg_source_t *)src)->pg;
    const sl_table_t *t = scan->table;
    char label[300];
    snprintf(label, sizeof label, "could not read table \"%s.%s\"", t->schema, t->name);

    sl_buf_t sql;
    sl_buf_init(&sql, SCAN_SQL_MAX);
    if (build_sql(&sql, scan, err)) {
        sl_buf_free(&sql);
        return -1;
    }
    /* Inside a snapshot transaction a cancelled COPY would abort the transaction;
     * a savepoint lets us roll back just the COPY and keep the snapshot. */
    bool in_tx = PQtransactionStatus(pg->conn) == PQTRANS_INTRANS;
    if (in_tx && sl_pg_exec(pg, "SAVEPOINT sl_scan", err, label)) {
        sl_buf_free(&sql);
        return -1;
    }
    PGresult *res = PQexec(pg->conn, sql.data);
    sl_buf_free(&sql);
    if (!res || PQresultStatus(res) != PGRES_COPY_OUT) {
        sl_pg_fail(pg, res, err, label);
        if (err && err->code == SL_E_PRIVILEGE) {
            char role[300];
            sl_err_hint(err, "GRANT SELECT ON \"%s\".\"%s\" TO %s", t->schema, t->name,
                        sl_pg_role_text(pg->user, role, sizeof role));
        }
        if (in_tx)
            sl_pg_exec(pg, "ROLLBACK TO SAVEPOINT sl_scan; RELEASE SAVEPOINT sl_scan", NULL, "");
        return -1;
    }
    PQclear(res);

    /* One value array for the whole scan; each line is libpq's buffer, decoded in
     * place and released before the next one arrives. */
    sl_value_t *vals = calloc((size_t)(t->ncolumns ? t->ncolumns : 1), sizeof *vals);
    if (!vals)
        sl_oom();
    int rc = 0;
    bool stopped = false;
    for (;;) {
        char *line = NULL;
        int n = PQgetCopyData(pg->conn, &line, 0);
        if (n == -1)
            break;
        if (n < 0) {
            rc = sl_pg_fail(pg, NULL, err, label);
            break;
        }
        int nf = sl_pg_copy_split(line, (size_t)n, vals, t->ncolumns);
        if (nf != t->ncolumns) {
            rc = sl_err_set(err, SL_E_PROTOCOL, "%s: a COPY row has %d fields, expected %d", label,
                            nf, t->ncolumns);
        } else if (!(rc = canonicalize(t, vals, err))) {
            rc = fn(ctx, vals, t->ncolumns, err);
        }
        PQfreemem(line);
        if (rc) {
            stopped = true;
            break;
        }
    }
    free(vals);

    if (stopped) {
        abandon_copy(pg->conn);
    } else {
        /* The COPY's own status comes after the data: an error mid-table shows here. */
        PGresult *r;
        while ((r = PQgetResult(pg->conn))) {
            if (PQresultStatus(r) != PGRES_COMMAND_OK && !rc)
                rc = sl_pg_fail(pg, r, err, label);
            else
                PQclear(r);
        }
    }
    if (in_tx && PQstatus(pg->conn) == CONNECTION_OK) {
        sl_err_t e2;
        const char *end = stopped || rc ? "ROLLBACK TO SAVEPOINT sl_scan; RELEASE SAVEPOINT sl_scan"
                                        : "RELEASE SAVEPOINT sl_scan";
        if (sl_pg_exec(pg, end, &e2, label) && !rc) {
            if (err)
                *err = e2;
            rc = -1;
        }
    }
    return rc;
}
