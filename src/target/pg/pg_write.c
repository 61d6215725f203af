/*
 * pg_write.c: writes a batch into a PostgreSQL table with COPY ... FROM STDIN in
 * text format, inside the writer's open transaction.
 *
 * Rows are escaped straight from the batch into one reused buffer that is sent
 * whenever it passes COPY_CHUNK, so a batch is never held twice. When PostgreSQL
 * rejects a value, its error context ("COPY t, line N, column c: ...") names the
 * line, which is the batch row: the error then names the table, the column and
 * the row's key. Runs on the writer lane's thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "target/pg/pg_target.h"

#define COPY_CHUNK (256u << 10)

/* Ends a COPY we give up on; the transaction is then failed and the caller rolls
 * back. */
void sl_pg_copy_abort(sl_pg_t *pg, const char *why)
{
    PQputCopyEnd(pg->conn, why);
    PGresult *r;
    while ((r = PQgetResult(pg->conn)))
        PQclear(r);
}

int sl_pg_copy_start(sl_pg_t *pg, const sl_table_t *t, const char *label, sl_err_t *err)
{
    sl_buf_t sql;
    sl_buf_init(&sql, 1u << 20);
    bool bad = sl_buf_adds(&sql, "COPY ", err) || sl_pg_add_qname(&sql, sl_pg_tschema(pg, t), t->name, err) ||
               sl_buf_adds(&sql, " (", err);
    bool first = true;
    for (int i = 0; i < t->ncolumns && !bad; i++) {
        if (sl_pg_is_recreated_generated(t, &t->columns[i]))
            continue; /* PostgreSQL computes it */
        bad = (!first && sl_buf_adds(&sql, ", ", err)) ||
              sl_pg_add_ident(&sql, t->columns[i].name, err);
        first = false;
    }
    if (bad || sl_buf_adds(&sql, ") FROM STDIN", err)) {
        sl_buf_free(&sql);
        return -1;
    }
    PGresult *r = PQexec(pg->conn, sql.data);
    sl_buf_free(&sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        char what[400];
        snprintf(what, sizeof what, "could not write into table \"%s\"", label);
        sl_pg_fail(pg, r, err, what);
        if (err && err->code == SL_E_PRIVILEGE) {
            char role[300];
            sl_err_hint(err, "GRANT INSERT ON \"%s\".\"%s\" TO %s", sl_pg_tschema(pg, t), t->name,
                        sl_pg_role_text(pg->user, role, sizeof role));
        }
        return -1;
    }
    PQclear(r);
    return 0;
}

int sl_pg_copy_send(sl_pg_t *pg, sl_buf_t *b, const char *label, sl_err_t *err)
{
    if (b->len && PQputCopyData(pg->conn, b->data, (int)b->len) != 1) {
        char what[400];
        snprintf(what, sizeof what, "could not write into table \"%s\"", label);
        return sl_pg_fail(pg, NULL, err, what);
    }
    sl_buf_reset(b);
    return 0;
}

int sl_pg_copy_end(sl_pg_t *pg, sl_buf_t *b, const char *label, PGresult **failed, sl_err_t *err)
{
    *failed = NULL;
    if (sl_pg_copy_send(pg, b, label, err))
        return -1;
    if (PQputCopyEnd(pg->conn, NULL) != 1) {
        char what[400];
        snprintf(what, sizeof what, "could not write into table \"%s\"", label);
        return sl_pg_fail(pg, NULL, err, what);
    }
    PGresult *r;
    while ((r = PQgetResult(pg->conn))) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && !*failed)
            *failed = r;
        else
            PQclear(r);
    }
    return *failed ? 1 : 0;
}

/* Fills err from the failed COPY result r, naming the row and column it points at. */
static int copy_failed(sl_pg_t *pg, const sl_table_t *t, const sl_batch_view_t *batch,
                       PGresult *r, const char *label, sl_err_t *err)
{
    long line;
    char col[256], key[512], what[1024];
    sl_pg_copy_context(r ? PQresultErrorField(r, PG_DIAG_CONTEXT) : NULL, &line, col, sizeof col);
    /* Checks that run at the end of the statement (foreign keys) have no line; the
     * server's detail then names the key. */
    if (line <= 0 || (uint32_t)line > batch->hdr.nrows)
        snprintf(what, sizeof what, "could not write into table \"%s\"", label);
    else if (sl_target_row_key(t, batch, (uint32_t)(line - 1), key, sizeof key) && col[0])
        snprintf(what, sizeof what, "could not write %s into table \"%s\", column \"%s\"", key,
                 label, col);
    else
        snprintf(what, sizeof what, "could not write %s into table \"%s\"", key, label);
    return sl_pg_fail(pg, r, err, what);
}

int sl_pg_target_write_rows(sl_target_t *tgt, const sl_table_t *t, sl_batch_view_t *batch,
                            sl_err_t *err)
{
    sl_pg_target_t *g = (sl_pg_target_t *)tgt;
    sl_pg_t *pg = &g->pg;
    char label[300];
    snprintf(label, sizeof label, "%s.%s", sl_pg_tschema(pg, t), t->name);
    if ((int)batch->hdr.ncols != t->ncolumns)
        return sl_err_set(err, SL_E_PROTOCOL, "batch for table \"%s\" has %u columns, the table %d",
                          label, batch->hdr.ncols, t->ncolumns);
    if (batch->hdr.nrows == 0)
        return 0;
    if (sl_pg_copy_start(pg, t, label, err))
        return -1;

    sl_value_t *vals = calloc((size_t)(t->ncolumns ? t->ncolumns : 1), sizeof *vals);
    if (!vals)
        sl_oom();
    sl_buf_t *b = &g->copy;
    sl_buf_reset(b);
    sl_batch_rewind(batch);
    uint32_t row = 0;
    int n, rc = 0, bad = -1;
    while ((n = sl_batch_next_row(batch, vals, err)) == 1) {
        rc = sl_pg_copy_row(t, vals, b, &bad, err);
        if (rc == 1) {
            char key[512];
            sl_target_row_key(t, batch, row, key, sizeof key);
            sl_err_set(err, SL_E_DATA, "could not write %s into table \"%s\", column \"%s\": "
                                       "the value contains a NUL byte",
                       key, label, t->columns[bad].name);
            sl_err_detail(err, "PostgreSQL text types cannot store the byte 0x00");
            sl_err_hint(err, "clean the value at the source, or set options.on_error to \"reject\" (docs/mapping.md)");
        }
        if (rc)
            break;
        row++;
        if (b->len >= COPY_CHUNK && (rc = sl_pg_copy_send(pg, b, label, err)))
            break;
    }
    free(vals);
    if (n < 0)
        rc = -1; /* a malformed batch; err is set by the decoder */
    if (rc) {
        sl_pg_copy_abort(pg, "sluice stopped this COPY");
        sl_buf_reset(b);
        return -1;
    }
    PGresult *r;
    rc = sl_pg_copy_end(pg, b, label, &r, err);
    return rc == 1 ? copy_failed(pg, t, batch, r, label, err) : rc;
}
