/*
 * mysql_apply_set.c: a group of UPDATEs or DELETEs, one statement, on the MariaDB/MySQL
 * target (the steps target/apply_set.h plans; the keys of a group are distinct).
 *
 *   UPDATE `t` AS t JOIN (SELECT 1 AS a1, 'x' AS a2 UNION ALL SELECT 2, 'y') AS v
 *     ON t.`id` = v.a1 SET t.`c` = v.a2
 *   DELETE FROM `t` WHERE `id` IN (1, 2)          (or (`a`, `b`) IN ((1, 'x'), ...))
 *
 * Why not INSERT ... ON DUPLICATE KEY UPDATE: it would insert a row that is missing
 * (the target has diverged, and must say so), it fires the table's INSERT triggers for
 * rows that are only updated, a unique index besides the primary key can make it
 * update another row than the one meant, and it cannot leave unchanged (TOASTed)
 * columns alone without naming every NOT NULL column. The joined UPDATE only updates:
 * the server drives it from the derived rows into the primary key (eq_ref), and the
 * values are the same literals a single UPDATE would carry, converted on assignment.
 *
 * Connections use CLIENT_FOUND_ROWS, so the affected-row count is the rows matched: fewer
 * than the group means a row is missing. After an UPDATE the rows it found are still
 * there, so asking for each key names the missing one. A DELETE first counts the rows
 * it will delete (SELECT COUNT(*) over the same list), since afterwards a deleted row
 * cannot be told from a missing one. (Not a savepoint to roll back to: MariaDB writes
 * SAVEPOINT into the binlog as a statement of its own, which readers of the target's
 * binlog need not expect.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/apply.h"
#include "core/mem.h"
#include "target/mysql/mysql_apply.h"

/* Appends "`k1` = lit AND ..." for ch's key. */
static int add_key_eq(sl_buf_t *b, const sl_table_t *t, const sl_change_t *ch, sl_err_t *err)
{
    const sl_value_t *key = sl_apply_key_row(ch);
    for (int k = 0, npk = sl_table_pk_count(t); k < npk; k++) {
        int ci = sl_table_pk_col(t, k);
        if ((k && sl_buf_adds(b, " AND ", err)) || sl_mysql_add_ident(b, t->columns[ci].name, err) ||
            sl_buf_adds(b, " = ", err) || sl_mysql_apply_value(b, t, ci, &key[ci], ch, err))
            return -1;
    }
    return 0;
}

/* After a group of chs[0..n) matched fewer rows than it carries: the error naming the
 * first change whose row is not there. */
static int name_missing(sl_mysql_tgt_t *tgt, const sl_table_t *t, const sl_change_t *const *chs,
                        int n, sl_err_t *err)
{
    sl_buf_t b;
    sl_buf_init(&b, sl_mysql_apply_bound(tgt));
    for (int i = 0; i < n; i++) {
        char *v = NULL;
        sl_buf_reset(&b);
        if (sl_buf_adds(&b, "SELECT 1 FROM ", err) || sl_mysql_add_ident(&b, t->name, err) ||
            sl_buf_adds(&b, " WHERE ", err) || add_key_eq(&b, t, chs[i], err) ||
            sl_buf_adds(&b, " LIMIT 1", err) || sl_mysql_query_value(&tgt->my, b.data, &v, err)) {
            sl_buf_free(&b);
            return -1;
        }
        free(v);
        if (!v) {
            sl_buf_free(&b);
            return sl_apply_missing(t, chs[i], t->name, err);
        }
    }
    sl_buf_free(&b);
    return sl_apply_missing(t, chs[0], t->name, err); /* matched fewer, yet each is there */
}

/* The columns of a group's derived rows: the key, then (UPDATE) the columns the first
 * change carries. Returns how many, in cols. */
static int group_columns(const sl_table_t *t, const sl_change_t *first, sl_step_kind_t kind,
                         int *cols)
{
    int n = 0, npk = sl_table_pk_count(t);
    for (int k = 0; k < npk; k++)
        cols[n++] = sl_table_pk_col(t, k);
    if (kind != SL_STEP_UPDATE)
        return n;
    for (int ci = 0; ci < t->ncolumns; ci++)
        if (t->columns[ci].pk_pos == 0 && sl_mysql_col_written(t, &t->columns[ci]) &&
            first->row[ci].len != SL_VALUE_UNCHANGED)
            cols[n++] = ci;
    return n;
}

/* Renders ch into tgt->row: "SELECT v1 AS a1, ..." (first row of a statement) or
 * "SELECT v1, ..." (UPDATE), "v" or "(v1, v2)" (DELETE). */
static int render(sl_mysql_tgt_t *tgt, const sl_table_t *t, const sl_change_t *ch,
                  sl_step_kind_t kind, const int *cols, int ncols, bool first, sl_err_t *err)
{
    sl_buf_t *b = &tgt->row;
    int npk = sl_table_pk_count(t);
    sl_buf_reset(b);
    bool del = kind == SL_STEP_DELETE;
    if (sl_buf_adds(b, del ? (npk > 1 ? "(" : "") : "SELECT ", err))
        return -1;
    for (int i = 0; i < ncols; i++) {
        const sl_value_t *row = i < npk ? sl_apply_key_row(ch) : ch->row;
        if ((i && sl_buf_adds(b, ", ", err)) ||
            sl_mysql_apply_value(b, t, cols[i], &row[cols[i]], ch, err) ||
            (first && !del && sl_buf_printf(b, err, " AS a%d", i + 1)))
            return -1;
    }
    return del && npk > 1 ? sl_buf_addc(b, ')', err) : 0;
}

/* The statement around the rows: head (before the first row) and tail (after the last). */
static int frame(const sl_table_t *t, sl_step_kind_t kind, const int *cols, int ncols,
                 sl_buf_t *head, sl_buf_t *tail, sl_err_t *err)
{
    int npk = sl_table_pk_count(t);
    if (kind == SL_STEP_DELETE) {
        if (sl_buf_adds(head, "DELETE FROM ", err) || sl_mysql_add_ident(head, t->name, err) ||
            sl_buf_adds(head, npk > 1 ? " WHERE (" : " WHERE ", err))
            return -1;
        for (int k = 0; k < npk; k++)
            if ((k && sl_buf_adds(head, ", ", err)) ||
                sl_mysql_add_ident(head, t->columns[cols[k]].name, err))
                return -1;
        return sl_buf_adds(head, npk > 1 ? ") IN (" : " IN (", err) || sl_buf_addc(tail, ')', err);
    }
    if (sl_buf_adds(head, "UPDATE ", err) || sl_mysql_add_ident(head, t->name, err) ||
        sl_buf_adds(head, " AS t JOIN (", err) || sl_buf_adds(tail, ") AS v ON ", err))
        return -1;
    for (int k = 0; k < npk; k++)
        if (sl_buf_adds(tail, k ? " AND t." : "t.", err) ||
            sl_mysql_add_ident(tail, t->columns[cols[k]].name, err) ||
            sl_buf_printf(tail, err, " = v.a%d", k + 1))
            return -1;
    if (sl_buf_adds(tail, " SET ", err))
        return -1;
    if (ncols == npk) /* every column but the key unchanged: the rows must still exist */
        return sl_buf_adds(tail, "t.", err) || sl_mysql_add_ident(tail, t->columns[cols[0]].name, err) ||
               sl_buf_adds(tail, " = t.", err) || sl_mysql_add_ident(tail, t->columns[cols[0]].name, err);
    for (int i = npk; i < ncols; i++)
        if (sl_buf_adds(tail, i > npk ? ", t." : "t.", err) ||
            sl_mysql_add_ident(tail, t->columns[cols[i]].name, err) ||
            sl_buf_printf(tail, err, " = v.a%d", i + 1))
            return -1;
    return 0;
}

/* Runs the statement in tgt->stmt over chs[0..n) and checks that it matched n rows. */
static int run_chunk(sl_mysql_tgt_t *tgt, const sl_table_t *t, const sl_change_t *const *chs,
                     int n, sl_step_kind_t kind, sl_err_t *err)
{
    if (kind == SL_STEP_DELETE) {
        /* "DELETE FROM `t` WHERE ..." counted as "SELECT COUNT(*) FROM `t` WHERE ..." */
        static const char del[] = "DELETE FROM";
        sl_buf_t q;
        sl_buf_init(&q, tgt->stmt.len + 64);
        char *v = NULL;
        int rc = sl_buf_adds(&q, "SELECT COUNT(*) FROM", err) ||
                         sl_buf_adds(&q, tgt->stmt.data + sizeof del - 1, err) ||
                         sl_mysql_query_value(&tgt->my, q.data, &v, err)
                     ? -1
                     : 0;
        long found = v ? strtol(v, NULL, 10) : 0;
        free(v);
        sl_buf_free(&q);
        if (rc)
            return -1;
        if (found != n)
            return name_missing(tgt, t, chs, n, err);
    }
    if (sl_mysql_apply_run(tgt, t, NULL, kind == SL_STEP_DELETE ? "delete" : "update", err))
        return -1;
    if (mysql_affected_rows(tgt->my.db) == (my_ulonglong)n)
        return 0;
    return name_missing(tgt, t, chs, n, err);
}

int sl_mysql_apply_group(sl_mysql_tgt_t *tgt, const sl_table_t *t, const sl_change_t *const *chs,
                         int n, sl_step_kind_t kind, sl_err_t *err)
{
    int *cols = malloc((size_t)(t->ncolumns ? t->ncolumns : 1) * sizeof *cols);
    if (!cols)
        sl_oom();
    int ncols = group_columns(t, chs[0], kind, cols), rc = 0;
    sl_buf_t head, tail;
    sl_buf_init(&head, 1u << 20);
    sl_buf_init(&tail, 1u << 20);
    size_t bound = sl_mysql_apply_bound(tgt);
    const char *sep = kind == SL_STEP_DELETE ? ", " : " UNION ALL ";
    if (frame(t, kind, cols, ncols, &head, &tail, err))
        rc = -1;
    for (int lo = 0, i = 0; !rc && lo < n; lo = i) {
        sl_buf_reset(&tgt->stmt);
        rc = sl_buf_add(&tgt->stmt, head.data, head.len, err);
        for (i = lo; !rc && i < n; i++) {
            if ((rc = render(tgt, t, chs[i], kind, cols, ncols, i == lo, err)) != 0)
                break;
            if (i > lo && tgt->stmt.len + strlen(sep) + tgt->row.len + tail.len > bound)
                break; /* this row starts the next statement */
            rc = (i > lo && sl_buf_adds(&tgt->stmt, sep, err)) ||
                 sl_buf_add(&tgt->stmt, tgt->row.data, tgt->row.len, err);
        }
        if (!rc)
            rc = sl_buf_add(&tgt->stmt, tail.data, tail.len, err) ||
                 run_chunk(tgt, t, chs + lo, i - lo, kind, err);
    }
    sl_buf_free(&head);
    sl_buf_free(&tail);
    free(cols);
    return rc ? -1 : 0;
}
