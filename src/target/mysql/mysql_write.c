/*
 * mysql_write.c: writing a batch into a MariaDB/MySQL table with multi-row
 * INSERT statements, and turning a failed statement back into an error that names
 * the table, the column and the row's key.
 *
 * Statements are kept under 4 MB and under the server's max_allowed_packet (read at
 * connect); a single row that does not fit the packet is refused with a hint.
 * Values are converted by sl_mysql_literal(), which refuses what MySQL would store
 * wrongly before the server sees it. The server names the failing row of a
 * multi-row INSERT in many messages ("... at row 3"); that number is relative to
 * the statement, so each statement remembers which batch row it started with.
 *
 * Runs on the writer lane's thread, inside the transaction begin() opened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "target/mysql/mysql_target.h"

#define STMT_TARGET (4u << 20)

/* The column name a server message mentions: 'c' or `db`.`t`.`c` after "column ",
 * into out (empty when none). */
static void message_column(const char *msg, char *out, size_t size)
{
    out[0] = '\0';
    const char *p = strstr(msg, "column ");
    if (!p)
        p = strstr(msg, "Column ");
    if (!p)
        return;
    p += 7;
    const char *start = NULL, *end = NULL;
    if (*p == '\'') {
        start = p + 1;
        end = strchr(start, '\'');
    } else {
        /* `db`.`t`.`c`: the last backticked part */
        while (*p == '`') {
            start = p + 1;
            end = strchr(start, '`');
            if (!end)
                return;
            p = end + 1;
            if (*p != '.')
                break;
            p++;
        }
    }
    if (start && end && end > start)
        snprintf(out, size, "%.*s", (int)(end - start), start);
}

/* "at row N" in a server message, or 0. */
static long message_row(const char *msg)
{
    const char *p = strstr(msg, " at row ");
    return p ? strtol(p + 8, NULL, 10) : 0;
}

/* The batch row of statement rows [first, first+n) whose primary key, joined with
 * '-' as MySQL prints it in "Duplicate entry 'a-b' for key 'PRIMARY'", equals entry. */
static long find_duplicate(const sl_table_t *t, const sl_batch_view_t *batch, uint32_t first,
                           uint32_t n, const char *entry, size_t elen)
{
    int npk = sl_table_pk_count(t);
    sl_value_t *vals = calloc((size_t)t->ncolumns, sizeof *vals);
    long found = -1;
    sl_err_t ignored;
    for (uint32_t r = 0; vals && npk && r < n && found < 0; r++) {
        if (sl_batch_row_at(batch, first + r, vals, &ignored) != 1)
            break;
        size_t pos = 0;
        bool same = true;
        for (int k = 0; k < npk && same; k++) {
            const sl_value_t *v = &vals[sl_table_pk_col(t, k)];
            size_t len = v->len < 0 ? 0 : (size_t)v->len;
            if (k) {
                same = pos < elen && entry[pos] == '-';
                pos++;
            }
            same = same && pos + len <= elen && memcmp(entry + pos, v->p, len) == 0;
            pos += len;
        }
        if (same && pos == elen)
            found = (long)(first + r);
    }
    free(vals);
    return found;
}

/* The first row of the statement with NULL in column col, or -1. */
static long find_null(const sl_table_t *t, const sl_batch_view_t *batch, uint32_t first,
                      uint32_t n, int col)
{
    sl_value_t *vals = calloc((size_t)t->ncolumns, sizeof *vals);
    long found = -1;
    sl_err_t ignored;
    for (uint32_t r = 0; vals && r < n && found < 0; r++) {
        if (sl_batch_row_at(batch, first + r, vals, &ignored) != 1)
            break;
        if (vals[col].len < 0)
            found = (long)(first + r);
    }
    free(vals);
    return found;
}

/* Maps a failed INSERT of batch rows [first, first+n) to an error naming the
 * table, and where the message allows, the column and the row's key. */
static int write_fail(sl_mysql_tgt_t *tgt, const sl_table_t *t, const sl_batch_view_t *batch,
                      uint32_t first, uint32_t n, sl_err_t *err)
{
    const char *msg = mysql_error(tgt->my.db);
    unsigned int num = mysql_errno(tgt->my.db);
    char col[128];
    message_column(msg, col, sizeof col);
    long row = -1;
    long at = message_row(msg);
    if (at >= 1 && (uint32_t)at <= n)
        row = (long)first + at - 1;
    const char *dup = num == 1062 ? strstr(msg, "Duplicate entry '") : NULL;
    if (row < 0 && dup && strstr(msg, "'PRIMARY'")) {
        const char *e = dup + 17;
        const char *q = strstr(e, "' for key");
        if (q)
            row = find_duplicate(t, batch, first, n, e, (size_t)(q - e));
    }
    int ci = col[0] ? sl_table_find_col(t, col) : -1;
    if (row < 0 && num == 1048 && ci >= 0)
        row = find_null(t, batch, first, n, ci);
    sl_mysql_fail(&tgt->my, err, "write rows");
    char key[300] = "";
    if (row >= 0)
        sl_target_row_key(t, batch, (uint32_t)row, key, sizeof key);
    if (col[0] && key[0])
        sl_err_prefix(err, "table \"%s\", column \"%s\", %s: ", t->name, col, key);
    else if (key[0])
        sl_err_prefix(err, "table \"%s\", %s: ", t->name, key);
    else if (col[0])
        sl_err_prefix(err, "table \"%s\", column \"%s\": ", t->name, col);
    else
        sl_err_prefix(err, "table \"%s\": ", t->name);
    return -1;
}

/* A value that sl_mysql_literal() refused. */
static int refuse_value(const sl_table_t *t, const sl_column_t *c, const sl_batch_view_t *batch,
                        uint32_t row, const char *why, sl_err_t *err)
{
    char key[300];
    sl_target_row_key(t, batch, row, key, sizeof key);
    sl_err_set(err, SL_E_DATA, "cannot store a value in column \"%s\" of table \"%s\" at %s",
               c->name, t->name, key);
    sl_err_detail(err, "%s.", why);
    sl_err_hint(err, "carry it with a cast in the table's entry, or set options.on_error to \"reject\" "
                     "(docs/mapping.md)");
    return -1;
}

/* Renders one row as "(v1, v2, ...)" into tgt->row. */
static int render_row(sl_mysql_tgt_t *tgt, const sl_table_t *t, const sl_value_t *vals,
                      const sl_batch_view_t *batch, uint32_t idx, sl_err_t *err)
{
    sl_buf_t *b = &tgt->row;
    char why[256];
    bool first = true;
    sl_buf_reset(b);
    if (sl_buf_addc(b, '(', err))
        return -1;
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *c = &t->columns[i];
        if (!sl_mysql_col_written(t, c))
            continue;
        if (!first && sl_buf_adds(b, ", ", err))
            return -1;
        first = false;
        const sl_value_t *v = &vals[i];
        if (v->len < 0) {
            if (sl_buf_adds(b, "NULL", err))
                return -1;
            continue;
        }
        int rc = sl_mysql_literal(b, t, c, v->p, (size_t)v->len, why, sizeof why, err);
        if (rc == 1)
            return refuse_value(t, c, batch, idx, why, err);
        if (rc < 0)
            return -1;
    }
    return sl_buf_addc(b, ')', err);
}

int sl_mysql_insert_head(sl_buf_t *b, const sl_table_t *t, sl_err_t *err)
{
    bool first = true;
    sl_buf_reset(b);
    if (sl_buf_adds(b, "INSERT INTO ", err) || sl_mysql_add_ident(b, t->name, err) ||
        sl_buf_adds(b, " (", err))
        return -1;
    for (int i = 0; i < t->ncolumns; i++) {
        if (!sl_mysql_col_written(t, &t->columns[i]))
            continue;
        if ((!first && sl_buf_adds(b, ", ", err)) || sl_mysql_add_ident(b, t->columns[i].name, err))
            return -1;
        first = false;
    }
    return sl_buf_adds(b, ") VALUES ", err);
}

static int flush(sl_mysql_tgt_t *tgt, const sl_table_t *t, const sl_batch_view_t *batch,
                 uint32_t first, uint32_t n, sl_err_t *err)
{
    if (mysql_real_query(tgt->my.db, tgt->stmt.data, tgt->stmt.len))
        return write_fail(tgt, t, batch, first, n, err);
    return 0;
}

int sl_mysql_tgt_write_rows(sl_target_t *base, const sl_table_t *t, sl_batch_view_t *batch,
                            sl_err_t *err)
{
    sl_mysql_tgt_t *tgt = (sl_mysql_tgt_t *)base;
    if ((int)batch->hdr.ncols != t->ncolumns)
        return sl_err_set(err, SL_E_PROTOCOL, "batch for table \"%s\" has %u columns, expected %d",
                          t->name, batch->hdr.ncols, t->ncolumns);
    size_t bound = tgt->my.max_packet > 2048 ? tgt->my.max_packet - 1024 : tgt->my.max_packet;
    if (bound > STMT_TARGET)
        bound = STMT_TARGET;
    sl_value_t *vals = calloc((size_t)(t->ncolumns > 0 ? t->ncolumns : 1), sizeof *vals);
    if (!vals)
        return sl_err_set(err, SL_E_LIMIT, "out of memory writing table \"%s\"", t->name);
    int rc = -1, got;
    uint32_t idx = 0, first = 0, n = 0;
    size_t head_len;
    if (sl_mysql_insert_head(&tgt->stmt, t, err))
        goto out;
    head_len = tgt->stmt.len;
    sl_batch_rewind(batch);
    while ((got = sl_batch_next_row(batch, vals, err)) == 1) {
        if (render_row(tgt, t, vals, batch, idx, err)) {
            if (err && err->code == SL_E_LIMIT) {
                char key[300];
                sl_target_row_key(t, batch, idx, key, sizeof key);
                sl_err_set(err, SL_E_LIMIT, "row of table \"%s\" at %s is larger than the "
                           "server's max_allowed_packet (%lu bytes)", t->name, key,
                           tgt->my.max_packet);
                sl_err_hint(err, "raise max_allowed_packet on the MySQL server (SET GLOBAL "
                                 "max_allowed_packet = 1073741824)");
            }
            goto out;
        }
        if (n > 0 && tgt->stmt.len + 2 + tgt->row.len > bound) {
            if (flush(tgt, t, batch, first, n, err))
                goto out;
            tgt->stmt.len = head_len;
            tgt->stmt.data[head_len] = '\0';
            n = 0;
        }
        if (n == 0)
            first = idx;
        if ((n > 0 && sl_buf_addc(&tgt->stmt, ',', err)) ||
            sl_buf_add(&tgt->stmt, tgt->row.data, tgt->row.len, err))
            goto out;
        n++;
        idx++;
    }
    if (got < 0)
        goto out;
    if (n > 0 && flush(tgt, t, batch, first, n, err))
        goto out;
    rc = 0;
out:
    free(vals);
    /* A large batch must not pin its statement buffers for the lane's lifetime. */
    if (tgt->stmt.cap > 2 * STMT_TARGET) {
        sl_buf_free(&tgt->stmt);
        sl_buf_free(&tgt->row);
    }
    return rc;
}
