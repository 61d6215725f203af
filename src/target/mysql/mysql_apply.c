/*
 * mysql_apply.c: CDC on the MariaDB/MySQL target: applying row changes
 * (apply_changes) inside the writer's open transaction, and adding or dropping
 * columns.
 *
 * apply_changes checks the changes and copies them into the hold
 * (target/apply_set.h); they are applied when the hold is full, or before the writer
 * reads or writes its checkpoint or commits (sl_mysql_apply_flush, called by
 * mysql_target.c), so that one table's changes of a whole batch are applied together
 * even when the source interleaves tables. Every table may move that way: sluice's
 * sessions run with foreign_key_checks off, so no foreign key ties tables together.
 * Each table's changes are planned by per-key levels (by source order where a unique
 * index besides the primary key needs it), and the plan's groups become one statement
 * each: a multi-row INSERT, built as a load batch is (sl_mysql_insert_head,
 * sl_mysql_literal) and split by bytes below max_allowed_packet, or a set UPDATE or
 * DELETE (mysql_apply_set.c). Single UPDATEs and DELETEs find their row by primary
 * key; a keyless table matches one row on every column of the old row with the
 * NULL-safe <=> and LIMIT 1. TRUNCATE becomes DELETE FROM, since TRUNCATE TABLE would
 * commit the transaction. Connections use CLIENT_FOUND_ROWS (db/mysql/mysql_db.c), so
 * the affected-row count of an UPDATE is the number of rows it matched: fewer rows
 * than changes means a row is missing, not that its values were already there.
 *
 * Runs on the writer lane's thread; add_column and drop_column run autocommit on
 * the engine's schema thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "target/apply.h"
#include "target/mysql/mysql_apply.h"

#define STMT_TARGET (4u << 20)
#define SQL_MAX (1u << 20)
#define HOLD_CHANGES 131072
#define HOLD_BYTES (32u << 20)
#define INFO_TTL_MS 60000
#define INSERT_NOW 64 /* inserts applied at once, not held, when nothing else is */

size_t sl_mysql_apply_bound(const sl_mysql_tgt_t *tgt)
{
    size_t bound = tgt->my.max_packet > 2048 ? tgt->my.max_packet - 1024 : tgt->my.max_packet;
    return bound > STMT_TARGET ? STMT_TARGET : bound;
}

int sl_mysql_apply_value(sl_buf_t *b, const sl_table_t *t, int col, const sl_value_t *v,
                         const sl_change_t *ch, sl_err_t *err)
{
    if (v->len < 0)
        return sl_buf_adds(b, "NULL", err);
    const sl_column_t *c = &t->columns[col];
    char why[256], key[600];
    int rc = sl_mysql_literal(b, t, c, v->p, (size_t)v->len, why, sizeof why, err);
    if (rc != 1)
        return rc;
    sl_err_set(err, SL_E_DATA, "cannot store a value in column \"%s\" of table \"%s\" at %s",
               c->name, t->name, sl_apply_key_text(t, ch, key, sizeof key));
    sl_err_detail(err, "%s.", why);
    sl_err_hint(err, "carry it with a cast in the table's entry, or set options.on_error to \"reject\" (docs/mapping.md)");
    return -1;
}

int sl_mysql_apply_run(sl_mysql_tgt_t *tgt, const sl_table_t *t, const sl_change_t *ch,
                       const char *verb, sl_err_t *err)
{
    if (!mysql_real_query(tgt->my.db, tgt->stmt.data, tgt->stmt.len))
        return 0;
    char key[600], what[800];
    snprintf(what, sizeof what, "%s %s in table \"%s\"", verb,
             ch ? sl_apply_key_text(t, ch, key, sizeof key) : "rows", t->name);
    return sl_mysql_fail(&tgt->my, err, what);
}

/* ---- inserts ------------------------------------------------------------------- */

/* Renders ch's row as "(v1, v2, ...)" into tgt->row. */
static int render_row(sl_mysql_tgt_t *tgt, const sl_table_t *t, const sl_change_t *ch,
                      sl_err_t *err)
{
    sl_buf_t *b = &tgt->row;
    bool first = true;
    sl_buf_reset(b);
    if (sl_buf_addc(b, '(', err))
        return -1;
    for (int i = 0; i < t->ncolumns; i++) {
        if (!sl_mysql_col_written(t, &t->columns[i]))
            continue;
        if ((!first && sl_buf_adds(b, ", ", err)) || sl_mysql_apply_value(b, t, i, &ch->row[i], ch, err))
            return -1;
        first = false;
    }
    return sl_buf_addc(b, ')', err);
}

/* Sends the INSERT of chs[0..n); a failure names the row the server points at. */
static int flush_insert(sl_mysql_tgt_t *tgt, const sl_table_t *t, const sl_change_t *const *chs,
                        int n, sl_err_t *err)
{
    const sl_change_t *ch = n == 1 ? chs[0] : NULL;
    if (!ch) {
        const char *at = strstr(mysql_error(tgt->my.db), " at row ");
        long row = at ? strtol(at + 8, NULL, 10) : 0;
        ch = row >= 1 && row <= n ? chs[row - 1] : NULL;
    }
    return sl_mysql_apply_run(tgt, t, ch, "insert", err);
}

/* Writes the INSERTs chs[0..n) with as few statements as the byte bound allows. */
static int insert_run(sl_mysql_tgt_t *tgt, const sl_table_t *t, const sl_change_t *const *chs,
                      int n, sl_err_t *err)
{
    size_t bound = sl_mysql_apply_bound(tgt);
    if (sl_mysql_insert_head(&tgt->stmt, t, err))
        return -1;
    size_t head_len = tgt->stmt.len;
    int first = 0, rows = 0;
    for (int i = 0; i < n; i++) {
        if (render_row(tgt, t, chs[i], err))
            return -1;
        if (rows > 0 && tgt->stmt.len + 1 + tgt->row.len > bound) {
            if (flush_insert(tgt, t, chs + first, rows, err))
                return -1;
            tgt->stmt.len = head_len;
            tgt->stmt.data[head_len] = '\0';
            rows = 0;
        }
        if (rows == 0)
            first = i;
        if ((rows > 0 && sl_buf_addc(&tgt->stmt, ',', err)) ||
            sl_buf_add(&tgt->stmt, tgt->row.data, tgt->row.len, err))
            return -1;
        rows++;
    }
    return rows ? flush_insert(tgt, t, chs + first, rows, err) : 0;
}

/* ---- updates and deletes --------------------------------------------------------- */

/* Whether a keyless match can compare column c: MySQL 8 compares a JSON column
 * with a string literal as JSON (an object never equals a string), so JSON is left
 * out there; MariaDB stores JSON as text and compares it as text. Columns the
 * target computes are left out too (a row image may not carry them). */
static bool comparable(const sl_mysql_tgt_t *tgt, const sl_table_t *t, const sl_column_t *c)
{
    return sl_mysql_col_written(t, c) && (tgt->my.mariadb || c->type != SL_T_JSON);
}

/* Appends the WHERE clause that finds the row ch changes. */
static int add_where(sl_mysql_tgt_t *tgt, const sl_table_t *t, const sl_change_t *ch,
                     sl_err_t *err)
{
    sl_buf_t *b = &tgt->stmt;
    int npk = sl_table_pk_count(t);
    if (npk) {
        const sl_value_t *key = sl_apply_key_row(ch);
        for (int k = 0; k < npk; k++) {
            int ci = sl_table_pk_col(t, k);
            if (sl_buf_adds(b, k ? " AND " : " WHERE ", err) ||
                sl_mysql_add_ident(b, t->columns[ci].name, err) || sl_buf_adds(b, " = ", err) ||
                sl_mysql_apply_value(b, t, ci, &key[ci], ch, err))
                return -1;
        }
        return 0;
    }
    bool first = true;
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *c = &t->columns[i];
        if (!comparable(tgt, t, c) || ch->old[i].len == SL_VALUE_UNCHANGED)
            continue;
        if (sl_buf_adds(b, first ? " WHERE " : " AND ", err) ||
            sl_mysql_add_ident(b, c->name, err) || sl_buf_adds(b, " <=> ", err) ||
            sl_mysql_apply_value(b, t, i, &ch->old[i], ch, err))
            return -1;
        first = false;
    }
    if (first)
        return sl_err_set(err, SL_E_SCHEMA, "table \"%s\" has no primary key and no column that "
                                            "can be compared, so rows cannot be matched", t->name);
    return sl_buf_adds(b, " LIMIT 1", err);
}

static int build_update(sl_mysql_tgt_t *tgt, const sl_table_t *t, const sl_change_t *ch,
                        sl_err_t *err)
{
    sl_buf_t *b = &tgt->stmt;
    bool first = true;
    if (sl_buf_adds(b, "UPDATE ", err) || sl_mysql_add_ident(b, t->name, err) ||
        sl_buf_adds(b, " SET ", err))
        return -1;
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *c = &t->columns[i];
        if (!sl_mysql_col_written(t, c) || ch->row[i].len == SL_VALUE_UNCHANGED)
            continue; /* the target computes it / keeps its value */
        if ((!first && sl_buf_adds(b, ", ", err)) || sl_mysql_add_ident(b, c->name, err) ||
            sl_buf_adds(b, " = ", err) || sl_mysql_apply_value(b, t, i, &ch->row[i], ch, err))
            return -1;
        first = false;
    }
    if (first) { /* every value unchanged: the row must still exist */
        const char *name = t->columns[sl_table_pk_count(t) ? sl_table_pk_col(t, 0) : 0].name;
        if (sl_mysql_add_ident(b, name, err) || sl_buf_adds(b, " = ", err) ||
            sl_mysql_add_ident(b, name, err))
            return -1;
    }
    return add_where(tgt, t, ch, err);
}

static int apply_one(sl_mysql_tgt_t *tgt, const sl_table_t *t, const sl_change_t *ch,
                     sl_err_t *err)
{
    sl_buf_reset(&tgt->stmt);
    bool upd = ch->op == SL_OP_UPDATE;
    int rc = upd ? build_update(tgt, t, ch, err)
                 : sl_buf_adds(&tgt->stmt, "DELETE FROM ", err) ||
                       sl_mysql_add_ident(&tgt->stmt, t->name, err) || add_where(tgt, t, ch, err);
    if (rc || sl_mysql_apply_run(tgt, t, ch, upd ? "update" : "delete", err))
        return -1;
    if (mysql_affected_rows(tgt->my.db) == 0)
        return sl_apply_missing(t, ch, t->name, err);
    return 0;
}

/* ---- the hold ------------------------------------------------------------------- */

static void info_clear(sl_mysql_tinfo_t *in)
{
    free(in->name);
    memset(in, 0, sizeof *in);
}

void sl_mysql_apply_free(struct sl_mysql_apply *a)
{
    if (!a)
        return;
    sl_apply_hold_free(&a->hold);
    sl_apply_plan_free(&a->plan);
    for (int i = 0; i < a->ninfo; i++)
        info_clear(&a->info[i]);
    free(a->info);
    free(a);
}

/* Reads what table t allows into in. */
static int info_read(sl_mysql_tgt_t *tgt, const sl_table_t *t, sl_mysql_tinfo_t *in, sl_err_t *err)
{
    sl_buf_t b;
    sl_buf_init(&b, SQL_MAX);
    char *v = NULL;
    int rc = sl_buf_adds(&b, "SELECT (SELECT COUNT(*) FROM information_schema.TABLES WHERE "
                             "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ", err) ||
                     sl_mysql_add_string(&b, t->name, strlen(t->name), err) ||
                     sl_buf_adds(&b, ") * 1000 + (SELECT COUNT(*) FROM information_schema.STATISTICS "
                                     "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ", err) ||
                     sl_mysql_add_string(&b, t->name, strlen(t->name), err) ||
                     sl_buf_adds(&b, " AND NON_UNIQUE = 0 AND INDEX_NAME <> 'PRIMARY')", err) ||
                     sl_mysql_query_value(&tgt->my, b.data, &v, err)
                 ? -1
                 : 0;
    sl_buf_free(&b);
    if (rc) {
        sl_err_prefix(err, "table \"%s\": ", t->name);
        return -1;
    }
    long n = v ? strtol(v, NULL, 10) : 0;
    free(v);
    info_clear(in);
    in->name = sl_strdup(t->name);
    in->read_ms = sl_mono_ms();
    in->found = n >= 1000;
    in->leveled = in->found && n % 1000 == 0;
    return 0;
}

/* t's entry in a->info, read or refreshed as needed; NULL on error. */
static const sl_mysql_tinfo_t *info_of(sl_mysql_tgt_t *tgt, const sl_table_t *t, sl_err_t *err)
{
    struct sl_mysql_apply *a = tgt->apply;
    sl_mysql_tinfo_t *in = NULL;
    for (int i = 0; i < a->ninfo && !in; i++)
        if (!strcmp(a->info[i].name, t->name))
            in = &a->info[i];
    if (in && sl_mono_ms() - in->read_ms < INFO_TTL_MS)
        return in;
    if (!in) {
        sl_mysql_tinfo_t *info = realloc(a->info, (size_t)(a->ninfo + 1) * sizeof *info);
        if (!info)
            sl_oom();
        a->info = info;
        in = &a->info[a->ninfo++];
        memset(in, 0, sizeof *in);
    }
    if (info_read(tgt, t, in, err)) {
        info_clear(in);
        *in = a->info[--a->ninfo];
        return NULL;
    }
    return in;
}

/* Applies the changes of queue q, step by step. */
static int apply_queue(sl_mysql_tgt_t *tgt, sl_apply_queue_t *q, sl_err_t *err)
{
    struct sl_mysql_apply *a = tgt->apply;
    const sl_table_t *t = q->t;
    const sl_mysql_tinfo_t *in = NULL;
    for (int i = 0; i < a->ninfo && !in; i++)
        if (!strcmp(a->info[i].name, t->name))
            in = &a->info[i];
    bool sets = in && in->found;
    /* Without pipelining each statement costs a round trip: groups pay from 4 rows. */
    sl_apply_mode_t mode = {.leveled = sets && in->leveled, .group_updates = false,
                            .set_min = sets ? 4 : 1 << 30, .set_max = 10000};
    if (mode.leveled)
        sl_apply_merge(&a->plan, q);
    sl_apply_plan_build(&a->plan, t, q->chs, q->n, &mode);
    for (int s = 0; s < a->plan.nsteps; s++) {
        const sl_apply_step_t *st = &a->plan.steps[s];
        const sl_change_t *const *chs = a->plan.order + st->first;
        int rc;
        switch (st->kind) {
        case SL_STEP_INSERT:
            rc = insert_run(tgt, t, chs, st->n, err);
            break;
        case SL_STEP_UPDATE: case SL_STEP_DELETE:
            rc = sl_mysql_apply_group(tgt, t, chs, st->n, st->kind, err);
            break;
        case SL_STEP_TRUNCATE:
            sl_buf_reset(&tgt->stmt);
            rc = sl_buf_adds(&tgt->stmt, "DELETE FROM ", err) ||
                         sl_mysql_add_ident(&tgt->stmt, t->name, err) ||
                         sl_mysql_apply_run(tgt, t, NULL, "truncate", err)
                     ? -1
                     : 0;
            break;
        default:
            rc = chs[0]->op == SL_OP_INSERT ? insert_run(tgt, t, chs, 1, err)
                                            : apply_one(tgt, t, chs[0], err);
        }
        if (rc)
            return -1;
    }
    return 0;
}

int sl_mysql_apply_flush(sl_mysql_tgt_t *tgt, sl_err_t *err)
{
    struct sl_mysql_apply *a = tgt->apply;
    if (!a)
        return 0;
    int rc = 0;
    for (int i = 0; err && i < a->hold.nq && !rc; i++)
        rc = apply_queue(tgt, &a->hold.q[i], err);
    sl_apply_hold_reset(&a->hold);
    /* A large transaction must not pin its statement buffers for the lane's lifetime. */
    if (tgt->stmt.cap > 2 * STMT_TARGET) {
        sl_buf_free(&tgt->stmt);
        sl_buf_free(&tgt->row);
    }
    return rc;
}

int sl_mysql_tgt_apply_changes(sl_target_t *base, const sl_table_t *t, const sl_change_t *chs,
                               int n, sl_err_t *err)
{
    sl_mysql_tgt_t *tgt = (sl_mysql_tgt_t *)base;
    for (int i = 0; i < n; i++)
        if (sl_apply_check(t, &chs[i], err))
            return -1;
    if (!tgt->apply) {
        if (!(tgt->apply = calloc(1, sizeof *tgt->apply)))
            sl_oom();
        sl_apply_hold_init(&tgt->apply->hold, HOLD_CHANGES, HOLD_BYTES);
    }
    if (!info_of(tgt, t, err))
        return -1;
    if (tgt->apply->hold.nchanges == 0 && n >= INSERT_NOW && sl_apply_insert_run(chs, 0, n) == n) {
        /* Only inserts and nothing held: the INSERTs now keep every order and save the
         * copy into the hold (an insert-only stream). */
        const sl_change_t **p = malloc((size_t)n * sizeof *p);
        if (!p)
            sl_oom();
        for (int i = 0; i < n; i++)
            p[i] = &chs[i];
        int rc = insert_run(tgt, t, p, n, err);
        free(p);
        return rc;
    }
    sl_apply_hold_add(&tgt->apply->hold, t, true, chs, n);
    return sl_apply_hold_full(&tgt->apply->hold) ? sl_mysql_apply_flush(tgt, err) : 0;
}

/* ---- columns --------------------------------------------------------------------- */

/* Whether column name exists in t (MySQL has no ADD/DROP COLUMN IF [NOT] EXISTS). */
static int column_exists(sl_mysql_tgt_t *tgt, const sl_table_t *t, const char *name, bool *exists,
                         sl_err_t *err)
{
    sl_buf_t b;
    sl_buf_init(&b, SQL_MAX);
    char *v = NULL;
    int rc = sl_buf_adds(&b, "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE "
                             "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ", err) ||
                     sl_mysql_add_string(&b, t->name, strlen(t->name), err) ||
                     sl_buf_adds(&b, " AND COLUMN_NAME = ", err) ||
                     sl_mysql_add_string(&b, name, strlen(name), err) ||
                     sl_mysql_query_value(&tgt->my, b.data, &v, err)
                 ? -1
                 : 0;
    *exists = v && strcmp(v, "0") != 0;
    free(v);
    sl_buf_free(&b);
    return rc;
}

/* Runs "ALTER TABLE `t` <verb> [IF [NOT] EXISTS] <rest>"; on MySQL the existence is
 * checked first (want_exists: the column must exist for the change to be needed). */
static int alter(sl_mysql_tgt_t *tgt, const sl_table_t *t, const char *verb, const char *cond,
                 const char *name, bool want_exists, const sl_buf_t *rest, sl_err_t *err)
{
    if (!tgt->my.mariadb) {
        bool exists;
        if (column_exists(tgt, t, name, &exists, err))
            return -1;
        if (exists != want_exists)
            return 0;
    }
    sl_buf_t b;
    sl_buf_init(&b, SQL_MAX);
    int rc = sl_buf_adds(&b, "ALTER TABLE ", err) || sl_mysql_add_ident(&b, t->name, err) ||
                     sl_buf_printf(&b, err, " %s %s", verb, tgt->my.mariadb ? cond : "") ||
                     sl_buf_add(&b, rest->data, rest->len, err) ||
                     sl_mysql_exec(&tgt->my, b.data, err)
                 ? -1
                 : 0;
    sl_buf_free(&b);
    return rc;
}

int sl_mysql_tgt_add_column(sl_target_t *base, const sl_table_t *t, const sl_column_t *c,
                            sl_err_t *err)
{
    sl_mysql_tgt_t *tgt = (sl_mysql_tgt_t *)base;
    /* The width rules look at the whole row: size the column as part of t. */
    sl_table_t wide = *t;
    wide.ncolumns = t->ncolumns + 1;
    wide.columns = calloc((size_t)wide.ncolumns, sizeof *wide.columns);
    int *w = calloc((size_t)wide.ncolumns, sizeof *w);
    if (!wide.columns || !w)
        sl_oom();
    if (t->ncolumns)
        memcpy(wide.columns, t->columns, (size_t)t->ncolumns * sizeof *wide.columns);
    sl_column_t *nc = &wide.columns[t->ncolumns];
    *nc = *c;
    nc->pk_pos = 0;
    nc->autoinc = false;
    /* Rows that exist get the default, so NOT NULL holds; without one it could not. */
    if (!nc->default_value)
        nc->nullable = true;
    sl_mysql_widths(&wide, w);
    sl_buf_t def;
    sl_buf_init(&def, SQL_MAX);
    int rc = sl_mysql_column_def(&def, &wide, nc, w[t->ncolumns], false, err) ||
                     alter(tgt, t, "ADD COLUMN", "IF NOT EXISTS ", c->name, false, &def, err)
                 ? -1
                 : 0;
    if (rc)
        sl_err_prefix(err, "table \"%s\", adding column \"%s\": ", t->name, c->name);
    sl_buf_free(&def);
    free(wide.columns);
    free(w);
    return rc;
}

int sl_mysql_tgt_drop_column(sl_target_t *base, const sl_table_t *t, const char *name,
                             sl_err_t *err)
{
    sl_mysql_tgt_t *tgt = (sl_mysql_tgt_t *)base;
    sl_buf_t id;
    sl_buf_init(&id, SQL_MAX);
    int rc = sl_mysql_add_ident(&id, name, err) ||
                     alter(tgt, t, "DROP COLUMN", "IF EXISTS ", name, true, &id, err)
                 ? -1
                 : 0;
    if (rc)
        sl_err_prefix(err, "table \"%s\", dropping column \"%s\": ", t->name, name);
    sl_buf_free(&id);
    return rc;
}
