/*
 * pg_apply_row.c: one change, one statement, on the PostgreSQL target: the single
 * INSERTs, UPDATEs and DELETEs the plan (target/apply_set.h) does not group, and the
 * cache of prepared statements every apply statement goes through.
 *
 * Statements are prepared with text parameters and cached on the connection per
 * statement text, which is what makes them distinct per (table, operation, column
 * set). Parameters are the canonical text, which PostgreSQL reads with the same input
 * functions COPY uses; bytes are sent as the bytea hex text "\x..." that COPY sends
 * too. So a value lands the same whichever path writes it.
 *
 * Rows are found by primary key. A keyless table matches one row on every column of
 * the old row with IS NOT DISTINCT FROM and updates or deletes it by ctid.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "target/apply.h"
#include "target/pg/pg_apply.h"

int sl_pg_apply_param(struct sl_pg_apply *a, const sl_column_t *c, const sl_value_t *v,
                      sl_err_t *err)
{
    if (sl_buf_printf(&a->sql, err, "$%d", a->nparams + 1))
        return -1;
    if (v->len < 0) {
        a->offs[a->nparams++] = SL_PG_NO_VALUE;
        return 0;
    }
    size_t n = (size_t)v->len;
    a->offs[a->nparams++] = a->params.len;
    if (sl_type_is_binary(c->type)) {
        static const char hexdig[] = "0123456789abcdef";
        if (sl_buf_add(&a->params, "\\x", 2, err) || sl_buf_reserve(&a->params, 2 * n + 1, err))
            return -1;
        char *o = a->params.data + a->params.len;
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)v->p[i];
            *o++ = hexdig[ch >> 4];
            *o++ = hexdig[ch & 15];
        }
        a->params.len += 2 * n;
    } else {
        if (memchr(v->p, '\0', n))
            return 1;
        if (sl_buf_add(&a->params, v->p, n, err))
            return -1;
    }
    return sl_buf_add(&a->params, "", 1, err); /* the terminator is part of the value */
}

/* Whether PostgreSQL can compare values of column c with "=": json, xml and the
 * geometric types have no equality operator (or, for box and circle, one that
 * compares areas), so a keyless match leaves them out. */
static bool has_equality(const sl_table_t *t, const sl_column_t *c)
{
    static const char *const none[] = {"json", "xml", "point", "line", "lseg",
                                       "box", "path", "polygon", "circle"};
    if (!sl_pg_same_engine(t) || !c->native || !c->native[0])
        return (c->type == SL_T_ARRAY ? c->elem : c->type) != SL_T_JSON;
    const char *s = strrchr(c->native, '.');
    s = s ? s + 1 : c->native;
    if (*s == '"')
        s++;
    size_t n = strcspn(s, "\"[( ");
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
        if (n == strlen(none[i]) && !strncasecmp(s, none[i], n))
            return false;
    return true;
}

/* Appends the WHERE clause that finds the row ch changes. */
static int add_where(struct sl_pg_apply *a, const sl_pg_t *pg, const sl_table_t *t,
                     const sl_change_t *ch, int *bad, sl_err_t *err)
{
    sl_buf_t *s = &a->sql;
    int npk = sl_table_pk_count(t), rc;
    if (npk) {
        const sl_value_t *key = sl_apply_key_row(ch);
        for (int k = 0; k < npk; k++) {
            int ci = sl_table_pk_col(t, k);
            if (sl_buf_adds(s, k ? " AND " : " WHERE ", err) ||
                sl_pg_add_ident(s, t->columns[ci].name, err) || sl_buf_adds(s, " = ", err))
                return -1;
            if ((rc = sl_pg_apply_param(a, &t->columns[ci], &key[ci], err)) != 0) {
                *bad = ci;
                return rc;
            }
        }
        return 0;
    }
    if (sl_buf_adds(s, " WHERE ctid = (SELECT ctid FROM ", err) ||
        sl_pg_add_qname(s, sl_pg_tschema(pg, t), t->name, err))
        return -1;
    bool first = true;
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *c = &t->columns[i];
        if (sl_pg_is_recreated_generated(t, c) || !has_equality(t, c) ||
            ch->old[i].len == SL_VALUE_UNCHANGED)
            continue;
        if (sl_buf_adds(s, first ? " WHERE " : " AND ", err) || sl_pg_add_ident(s, c->name, err) ||
            sl_buf_adds(s, " IS NOT DISTINCT FROM ", err))
            return -1;
        first = false;
        if ((rc = sl_pg_apply_param(a, c, &ch->old[i], err)) != 0) {
            *bad = i;
            return rc;
        }
    }
    if (first)
        return sl_err_set(err, SL_E_SCHEMA, "table \"%s\" has no primary key and no column that "
                                            "can be compared, so rows cannot be matched", t->name);
    return sl_buf_adds(s, " LIMIT 1)", err);
}

/* Builds the UPDATE, DELETE or INSERT statement of ch with its parameters. */
static int build(struct sl_pg_apply *a, const sl_pg_t *pg, const sl_table_t *t,
                 const sl_change_t *ch, int *bad, sl_err_t *err)
{
    sl_buf_t *s = &a->sql;
    int rc;
    sl_buf_reset(&a->sql);
    sl_buf_reset(&a->params);
    a->nparams = 0;
    if (ch->op == SL_OP_DELETE) {
        if (sl_buf_adds(s, "DELETE FROM ", err) || sl_pg_add_qname(s, sl_pg_tschema(pg, t), t->name, err))
            return -1;
        return add_where(a, pg, t, ch, bad, err);
    }
    bool ins = ch->op == SL_OP_INSERT, first = true;
    if (sl_buf_adds(s, ins ? "INSERT INTO " : "UPDATE ", err) ||
        sl_pg_add_qname(s, sl_pg_tschema(pg, t), t->name, err) || sl_buf_adds(s, ins ? " (" : " SET ", err))
        return -1;
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *c = &t->columns[i];
        if (sl_pg_is_recreated_generated(t, c) || ch->row[i].len == SL_VALUE_UNCHANGED)
            continue; /* PostgreSQL computes it / the target keeps its value */
        if ((!first && sl_buf_adds(s, ", ", err)) || sl_pg_add_ident(s, c->name, err))
            return -1;
        first = false;
        if (ins)
            continue;
        if (sl_buf_adds(s, " = ", err))
            return -1;
        if ((rc = sl_pg_apply_param(a, c, &ch->row[i], err)) != 0) {
            *bad = i;
            return rc;
        }
    }
    if (ins) {
        if (sl_buf_adds(s, ") VALUES (", err))
            return -1;
        first = true;
        for (int i = 0; i < t->ncolumns; i++) {
            if (sl_pg_is_recreated_generated(t, &t->columns[i]))
                continue;
            if (!first && sl_buf_adds(s, ", ", err))
                return -1;
            first = false;
            if ((rc = sl_pg_apply_param(a, &t->columns[i], &ch->row[i], err)) != 0) {
                *bad = i;
                return rc;
            }
        }
        return sl_buf_addc(s, ')', err);
    }
    if (first) { /* every value unchanged: the row must still exist */
        int ci = sl_table_pk_count(t) ? sl_table_pk_col(t, 0) : 0;
        if (sl_pg_add_ident(s, t->columns[ci].name, err) || sl_buf_adds(s, " = ", err) ||
            sl_pg_add_ident(s, t->columns[ci].name, err))
            return -1;
    }
    return add_where(a, pg, t, ch, bad, err);
}

/* ---- prepared statements --------------------------------------------------------- */

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

const sl_pg_stmt_t *sl_pg_apply_prepared(sl_pg_target_t *g, const char *what, sl_err_t *err)
{
    struct sl_pg_apply *a = g->apply;
    uint64_t h = fnv1a(a->sql.data, a->sql.len);
    sl_pg_stmt_t *slot = NULL;
    for (int i = 0; i < SL_PG_STMT_CACHE; i++) {
        sl_pg_stmt_t *st = &a->stmts[i];
        if (st->sql && st->hash == h && !strcmp(st->sql, a->sql.data)) {
            st->used = ++a->tick;
            return st;
        }
        if (!slot || !st->sql || (slot->sql && st->used < slot->used))
            slot = st;
    }
    if (sl_pg_apply_drain(g, err))
        return NULL;
    if (slot->sql) {
        char sql[64];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", slot->name);
        if (sl_pg_exec(&g->pg, sql, err, what))
            return NULL;
        free(slot->sql);
        slot->sql = NULL;
    }
    snprintf(slot->name, sizeof slot->name, "sl_apply_%llu", (unsigned long long)++a->next_id);
    PGresult *r = PQprepare(g->pg.conn, slot->name, a->sql.data, a->nparams, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        sl_pg_fail(&g->pg, r, err, what);
        return NULL;
    }
    PQclear(r);
    slot->sql = sl_strdup(a->sql.data);
    slot->hash = h;
    slot->used = ++a->tick;
    return slot;
}

void sl_pg_apply_forget(sl_pg_target_t *g)
{
    struct sl_pg_apply *a = g->apply;
    if (!a)
        return;
    bool any = false;
    for (int i = 0; i < SL_PG_STMT_CACHE; i++) {
        any = any || a->stmts[i].sql;
        free(a->stmts[i].sql);
        a->stmts[i].sql = NULL;
    }
    if (any)
        sl_pg_exec(&g->pg, "DEALLOCATE ALL", NULL, "could not deallocate statements");
}

int sl_pg_apply_one(sl_pg_target_t *g, const sl_table_t *t, const sl_change_t *ch, sl_err_t *err)
{
    struct sl_pg_apply *a = g->apply;
    sl_pg_apply_params(a, 2 * t->ncolumns + 1); /* a column is at most in SET and in WHERE */
    char label[300], key[600], what[1024];
    sl_pg_apply_label(g, t, label, sizeof label);
    int bad = -1;
    int rc = build(a, &g->pg, t, ch, &bad, err);
    if (rc == 1)
        return sl_pg_apply_nul(t, ch, bad, label, err);
    if (rc)
        return -1;
    const char *verb = ch->op == SL_OP_INSERT ? "insert" : ch->op == SL_OP_UPDATE ? "update"
                                                                                   : "delete";
    snprintf(what, sizeof what, "could not %s %s in table \"%s\"", verb,
             sl_apply_key_text(t, ch, key, sizeof key), label);
    return sl_pg_apply_send(g, PEND_ROW, t, &ch, 1, -1, what, err);
}
