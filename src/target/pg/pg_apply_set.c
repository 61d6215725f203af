/*
 * pg_apply_set.c: a group of changes, one statement, on the PostgreSQL target (the
 * steps target/apply_set.h plans).
 *
 * Values travel as text arrays, one parameter per column, read back row by row with
 * ROWS FROM (unnest($1::text[]), ...) and cast to each column's own type as the
 * catalog names it (pg_catalog.int4, public.mood, pg_catalog._text): the same input
 * functions a COPY or a text parameter goes through, and no type modifier in the cast,
 * so that the column's own length and precision apply as on assignment (an explicit
 * cast to varchar(3) would cut a longer value instead of refusing it). Statements are
 * pipelined like single ones; a large group of INSERTs goes through COPY instead, which
 * PostgreSQL writes several rows at a time.
 *
 *   INSERT INTO t (c...) SELECT v.a1::T1, ... FROM ROWS FROM (...) AS v(a1, ...)
 *   UPDATE t AS t SET c = v.a2::T2, ... FROM ROWS FROM (...) AS v(a1, a2, ...)
 *     WHERE t.k = v.a1::K
 *   WITH x AS (DELETE FROM t AS t USING ROWS FROM (...) AS v(a1) WHERE t.k = v.a1::K
 *              RETURNING t.k)
 *   SELECT w.ord FROM ROWS FROM (...) WITH ORDINALITY AS w(a1, ord)
 *     WHERE (w.a1::K) NOT IN (SELECT x.k FROM x) ORDER BY w.ord LIMIT 1
 *
 * (NOT IN, not NOT EXISTS: PostgreSQL plans the NOT EXISTS over the CTE as a nested loop,
 * quadratic in the group: 24 s for 10,000 deletes, where NOT IN hashes the CTE once. Keys
 * are never NULL, so NOT IN means the same.)
 *
 * The keys of a group are distinct (the plan sees to it), so an UPDATE that updates
 * fewer rows than it carries, or a DELETE whose tail returns an ordinal, missed a row:
 * the target has diverged. The DELETE names the missing key itself (once deleted, the
 * rows it found cannot be told from the missing ones); after an UPDATE the same
 * anti-join runs on the table (sl_pg_apply_missing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/apply.h"
#include "target/pg/pg_apply.h"

#define SET_BYTES (8u << 20) /* parameter bytes of one set statement */
#define COPY_MIN 256         /* INSERT groups at least this large go through COPY */
#define COPY_CHUNK (256u << 10)

/* The type to cast column c's text to, from the catalog; NULL when unknown. */
static const char *type_of(const sl_pg_tinfo_t *in, const sl_column_t *c)
{
    for (int i = 0; i < in->ncols; i++)
        if (!strcmp(in->cols[i], c->name))
            return in->types[i];
    return NULL;
}

/* Appends one array element: NULL, or the value double-quoted with " and \ escaped
 * (bytes as their bytea hex text). Returns 1 on a NUL byte in text. */
static int add_elem(sl_buf_t *b, const sl_column_t *c, const sl_value_t *v, sl_err_t *err)
{
    if (v->len < 0)
        return sl_buf_adds(b, "NULL", err);
    size_t n = (size_t)v->len;
    if (sl_type_is_binary(c->type)) {
        static const char hexdig[] = "0123456789abcdef";
        if (sl_buf_reserve(b, 2 * n + 6, err))
            return -1;
        char *o = b->data + b->len;
        memcpy(o, "\"\\\\x", 4);
        o += 4;
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)v->p[i];
            *o++ = hexdig[ch >> 4];
            *o++ = hexdig[ch & 15];
        }
        *o++ = '"';
        b->len = (size_t)(o - b->data);
        b->data[b->len] = '\0';
        return 0;
    }
    if (memchr(v->p, '\0', n))
        return 1;
    if (sl_buf_reserve(b, 2 * n + 3, err))
        return -1;
    char *o = b->data + b->len;
    *o++ = '"';
    const char *q = memchr(v->p, '"', n), *bs = memchr(v->p, '\\', n);
    for (size_t i = 0; i < n;) {
        /* copy up to the next character to escape in one go (values hold no NUL, but
         * need not end in one: memchr, not strcspn) */
        if (q && q < v->p + i)
            q = memchr(v->p + i, '"', n - i);
        if (bs && bs < v->p + i)
            bs = memchr(v->p + i, '\\', n - i);
        const char *next = q && (!bs || q < bs) ? q : bs;
        size_t run = next ? (size_t)(next - (v->p + i)) : n - i;
        memcpy(o, v->p + i, run);
        o += run;
        i += run;
        if (i < n) {
            *o++ = '\\';
            *o++ = v->p[i++];
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return 0;
}

/* Appends the next parameter: the array of column ci's values of chs[0..n), from each
 * change's key row (key) or new row. Returns 1 on a NUL byte (*bad = the change). */
static int add_array(struct sl_pg_apply *a, const sl_table_t *t, int ci,
                     const sl_change_t *const *chs, int n, bool key, int *bad, sl_err_t *err)
{
    sl_buf_t *b = &a->params;
    a->offs[a->nparams++] = b->len;
    if (sl_buf_addc(b, '{', err))
        return -1;
    for (int i = 0; i < n; i++) {
        const sl_value_t *row = key ? sl_apply_key_row(chs[i]) : chs[i]->row;
        if (i && sl_buf_addc(b, ',', err))
            return -1;
        int rc = add_elem(b, &t->columns[ci], &row[ci], err);
        if (rc) {
            *bad = i;
            return rc;
        }
    }
    return sl_buf_add(b, "}", 2, err); /* with its terminator */
}

/* Appends "ROWS FROM (unnest($first::text[]), ...) [WITH ORDINALITY] AS alias(a1, ...[, ord])"
 * over parameters first .. first + n - 1. */
static int add_rows_from(sl_buf_t *s, int first, int n, bool ordinality, const char *alias,
                         sl_err_t *err)
{
    if (sl_buf_adds(s, "ROWS FROM (", err))
        return -1;
    for (int i = 0; i < n; i++)
        if (sl_buf_printf(s, err, "%sunnest($%d::text[])", i ? ", " : "", first + i))
            return -1;
    if (sl_buf_printf(s, err, ")%s AS %s(", ordinality ? " WITH ORDINALITY" : "", alias))
        return -1;
    for (int i = 0; i < n; i++)
        if (sl_buf_printf(s, err, "%sa%d", i ? ", " : "", first + i))
            return -1;
    return sl_buf_adds(s, ordinality ? ", ord)" : ")", err);
}

/* Appends "left.k1 = right.a1::K1 AND ..." over the key columns (parameters 1..npk). */
/* "(w.a1::K1, ...) NOT IN (SELECT x.k1, ... FROM x)": the keys of w that x lacks. */
static int add_key_not_in(sl_buf_t *s, const sl_table_t *t, const sl_pg_tinfo_t *in, sl_err_t *err)
{
    int npk = sl_table_pk_count(t);
    if (sl_buf_adds(s, "(", err))
        return -1;
    for (int k = 0; k < npk; k++)
        if (sl_buf_printf(s, err, "%sw.a%d::%s", k ? ", " : "", k + 1, type_of(in, &t->columns[sl_table_pk_col(t, k)])))
            return -1;
    if (sl_buf_adds(s, ") NOT IN (SELECT ", err))
        return -1;
    for (int k = 0; k < npk; k++)
        if ((k && sl_buf_adds(s, ", ", err)) || sl_buf_adds(s, "x.", err) ||
            sl_pg_add_ident(s, t->columns[sl_table_pk_col(t, k)].name, err))
            return -1;
    return sl_buf_adds(s, " FROM x)", err);
}

static int add_key_match(sl_buf_t *s, const sl_table_t *t, const sl_pg_tinfo_t *in,
                         const char *left, const char *right, sl_err_t *err)
{
    int npk = sl_table_pk_count(t);
    for (int k = 0; k < npk; k++) {
        const sl_column_t *c = &t->columns[sl_table_pk_col(t, k)];
        if (sl_buf_printf(s, err, "%s%s.", k ? " AND " : "", left) || sl_pg_add_ident(s, c->name, err) ||
            sl_buf_printf(s, err, " = %s.a%d::%s", right, k + 1, type_of(in, c)))
            return -1;
    }
    return 0;
}

/* Starts a statement whose first parameters are the key arrays of chs[0..n). */
static int start_keys(sl_pg_target_t *g, const sl_table_t *t, const sl_change_t *const *chs,
                      int n, int *bad_row, int *bad_col, sl_err_t *err)
{
    struct sl_pg_apply *a = g->apply;
    sl_buf_reset(&a->sql);
    sl_buf_reset(&a->params);
    a->nparams = 0;
    sl_pg_apply_params(a, t->ncolumns + 1);
    int npk = sl_table_pk_count(t);
    for (int k = 0; k < npk; k++) {
        int ci = sl_table_pk_col(t, k), rc = add_array(a, t, ci, chs, n, true, bad_row, err);
        if (rc) {
            *bad_col = ci;
            return rc;
        }
    }
    return 0;
}

/* The set INSERT, UPDATE or DELETE of chs[0..n) into a->sql and a->params. Returns 1
 * on a NUL byte (*bad_row, *bad_col). */
static int build(sl_pg_target_t *g, const sl_table_t *t, const sl_pg_tinfo_t *in,
                 const sl_change_t *const *chs, int n, sl_step_kind_t kind, int *bad_row,
                 int *bad_col, sl_err_t *err)
{
    struct sl_pg_apply *a = g->apply;
    sl_buf_t *s = &a->sql;
    int rc, npk = sl_table_pk_count(t);
    if (kind == SL_STEP_INSERT) {
        sl_buf_reset(s);
        sl_buf_reset(&a->params);
        a->nparams = 0;
        sl_pg_apply_params(a, t->ncolumns + 1);
    } else if ((rc = start_keys(g, t, chs, n, bad_row, bad_col, err)) != 0) {
        return rc;
    }
    if (kind == SL_STEP_DELETE) {
        if (sl_buf_adds(s, "WITH x AS (DELETE FROM ", err) ||
            sl_pg_add_qname(s, sl_pg_tschema(&g->pg, t), t->name, err) || sl_buf_adds(s, " AS t USING ", err) ||
            add_rows_from(s, 1, npk, false, "v", err) || sl_buf_adds(s, " WHERE ", err) ||
            add_key_match(s, t, in, "t", "v", err) || sl_buf_adds(s, " RETURNING ", err))
            return -1;
        for (int k = 0; k < npk; k++)
            if ((k && sl_buf_adds(s, ", ", err)) || sl_buf_adds(s, "t.", err) ||
                sl_pg_add_ident(s, t->columns[sl_table_pk_col(t, k)].name, err))
                return -1;
        return sl_buf_adds(s, ") SELECT w.ord FROM ", err) ||
                       add_rows_from(s, 1, npk, true, "w", err) ||
                       sl_buf_adds(s, " WHERE ", err) || add_key_not_in(s, t, in, err) ||
                       sl_buf_adds(s, " ORDER BY w.ord LIMIT 1", err)
                   ? -1
                   : 0;
    }
    /* the columns written: for an UPDATE those it carries, beside the key */
    const sl_change_t *first = chs[0];
    int from = a->nparams + 1;
    sl_buf_t cols; /* "c1, c2" (INSERT) or "c1 = v.a2::T1, ..." (UPDATE) */
    sl_buf_init(&cols, 1u << 20);
    sl_buf_t sel;  /* "v.a1::T1, ..." (INSERT) */
    sl_buf_init(&sel, 1u << 20);
    rc = 0;
    for (int ci = 0; ci < t->ncolumns && !rc; ci++) {
        const sl_column_t *c = &t->columns[ci];
        if (sl_pg_is_recreated_generated(t, c) ||
            (kind == SL_STEP_UPDATE && (c->pk_pos > 0 || first->row[ci].len == SL_VALUE_UNCHANGED)))
            continue;
        int p = a->nparams + 1;
        bool more = cols.len > 0;
        if (kind == SL_STEP_INSERT)
            rc = (more && (sl_buf_adds(&cols, ", ", err) || sl_buf_adds(&sel, ", ", err))) ||
                         sl_pg_add_ident(&cols, c->name, err) ||
                         sl_buf_printf(&sel, err, "v.a%d::%s", p, type_of(in, c))
                     ? -1
                     : 0;
        else
            rc = (more && sl_buf_adds(&cols, ", ", err)) || sl_pg_add_ident(&cols, c->name, err) ||
                         sl_buf_printf(&cols, err, " = v.a%d::%s", p, type_of(in, c))
                     ? -1
                     : 0;
        if (!rc && (rc = add_array(a, t, ci, chs, n, false, bad_row, err)) == 1)
            *bad_col = ci;
    }
    if (!rc && kind == SL_STEP_UPDATE && cols.len == 0) {
        /* every column but the key unchanged: the rows must still exist */
        const char *k = t->columns[sl_table_pk_col(t, 0)].name;
        rc = sl_pg_add_ident(&cols, k, err) || sl_buf_adds(&cols, " = t.", err) ||
                     sl_pg_add_ident(&cols, k, err)
                 ? -1
                 : 0;
    }
    if (!rc && kind == SL_STEP_INSERT)
        rc = sl_buf_adds(s, "INSERT INTO ", err) || sl_pg_add_qname(s, sl_pg_tschema(&g->pg, t), t->name, err) ||
                     sl_buf_printf(s, err, " (%s) SELECT %s FROM ", cols.data, sel.data) ||
                     add_rows_from(s, from, a->nparams - from + 1, false, "v", err)
                 ? -1
                 : 0;
    else if (!rc)
        rc = sl_buf_adds(s, "UPDATE ", err) || sl_pg_add_qname(s, sl_pg_tschema(&g->pg, t), t->name, err) ||
                     sl_buf_printf(s, err, " AS t SET %s FROM ", cols.data) ||
                     add_rows_from(s, 1, a->nparams, false, "v", err) ||
                     sl_buf_adds(s, " WHERE ", err) || add_key_match(s, t, in, "t", "v", err)
                 ? -1
                 : 0;
    sl_buf_free(&cols);
    sl_buf_free(&sel);
    return rc;
}

/* Fills err from the failed COPY of chs[0..n), naming the change its context line
 * points at. */
static int copy_failed(sl_pg_target_t *g, const sl_table_t *t, const sl_change_t *const *chs,
                       int n, PGresult *r, const char *label, sl_err_t *err)
{
    long line;
    char col[256], key[600], what[1024];
    sl_pg_copy_context(r ? PQresultErrorField(r, PG_DIAG_CONTEXT) : NULL, &line, col, sizeof col);
    if (line <= 0 || line > n)
        snprintf(what, sizeof what, "could not insert into table \"%s\"", label);
    else if (col[0])
        snprintf(what, sizeof what, "could not insert %s into table \"%s\", column \"%s\"",
                 sl_apply_key_text(t, chs[line - 1], key, sizeof key), label, col);
    else
        snprintf(what, sizeof what, "could not insert %s into table \"%s\"",
                 sl_apply_key_text(t, chs[line - 1], key, sizeof key), label);
    return sl_pg_fail(&g->pg, r, err, what);
}

/* Writes the INSERTs chs[0..n) with one COPY (outside the pipeline). */
static int copy_inserts(sl_pg_target_t *g, const sl_table_t *t, const sl_change_t *const *chs,
                        int n, const char *label, sl_err_t *err)
{
    sl_pg_t *pg = &g->pg;
    if (sl_pg_apply_drain(g, err) || sl_pg_copy_start(pg, t, label, err))
        return -1;
    sl_buf_t *b = &g->copy;
    sl_buf_reset(b);
    int rc = 0, bad = -1;
    for (int i = 0; i < n && !rc; i++) {
        rc = sl_pg_copy_row(t, chs[i]->row, b, &bad, err);
        if (rc == 1)
            sl_pg_apply_nul(t, chs[i], bad, label, err);
        else if (!rc && b->len >= COPY_CHUNK)
            rc = sl_pg_copy_send(pg, b, label, err);
    }
    if (rc) {
        sl_pg_copy_abort(pg, "sluice stopped this COPY");
        sl_buf_reset(b);
        return -1;
    }
    PGresult *r;
    rc = sl_pg_copy_end(pg, b, label, &r, err);
    return rc == 1 ? copy_failed(g, t, chs, n, r, label, err) : rc;
}

/* Parameter bytes change ch will take in a set statement, about. */
static size_t row_bytes(const sl_change_t *ch)
{
    size_t n = 16;
    for (int i = 0; i < ch->ncols; i++) {
        if (ch->row && ch->row[i].len > 0)
            n += 2 * (size_t)ch->row[i].len + 8;
        if (ch->old && ch->old[i].len > 0)
            n += 2 * (size_t)ch->old[i].len + 8;
    }
    return n;
}

int sl_pg_apply_step(sl_pg_target_t *g, const sl_table_t *t, int info,
                     const sl_change_t *const *chs, int n, sl_step_kind_t kind, sl_err_t *err)
{
    struct sl_pg_apply *a = g->apply;
    char label[300], what[1024], key[600];
    sl_pg_apply_label(g, t, label, sizeof label);
    if (kind == SL_STEP_INSERT && n >= COPY_MIN)
        return copy_inserts(g, t, chs, n, label, err);
    for (int lo = 0; lo < n;) {
        /* as many as SET_BYTES of parameters allow */
        size_t bytes = 0;
        int hi = lo;
        while (hi < n && (hi == lo || bytes + row_bytes(chs[hi]) <= SET_BYTES))
            bytes += row_bytes(chs[hi++]);
        int bad_row = 0, bad_col = 0;
        int rc = build(g, t, &a->info[info], chs + lo, hi - lo, kind, &bad_row, &bad_col, err);
        if (rc == 1)
            return sl_pg_apply_nul(t, chs[lo + bad_row], bad_col, label, err);
        if (rc)
            return -1;
        const char *verb = kind == SL_STEP_INSERT ? "insert" : kind == SL_STEP_UPDATE ? "update"
                                                                                       : "delete";
        snprintf(what, sizeof what, "could not %s %d rows (%s and %d more) in table \"%s\"", verb,
                 hi - lo, sl_apply_key_text(t, chs[lo], key, sizeof key), hi - lo - 1, label);
        sl_pg_pend_kind_t pk = kind == SL_STEP_INSERT   ? PEND_INSERTS
                               : kind == SL_STEP_UPDATE ? PEND_UPDATES
                                                        : PEND_DELETES;
        if (sl_pg_apply_send(g, pk, t, chs + lo, hi - lo, info, what, err))
            return -1;
        lo = hi;
    }
    return 0;
}

const sl_change_t *sl_pg_apply_missing(sl_pg_target_t *g, const sl_table_t *t, int info,
                                       const sl_change_t *const *chs, int n, sl_err_t *err)
{
    struct sl_pg_apply *a = g->apply;
    const sl_pg_tinfo_t *in = &a->info[info];
    sl_buf_t *s = &a->sql;
    int bad_row, bad_col, npk = sl_table_pk_count(t);
    if (start_keys(g, t, chs, n, &bad_row, &bad_col, err) || sl_buf_adds(s, "SELECT w.ord FROM ", err) ||
        add_rows_from(s, 1, npk, true, "w", err) ||
        sl_buf_adds(s, " WHERE NOT EXISTS (SELECT FROM ", err) ||
        sl_pg_add_qname(s, sl_pg_tschema(&g->pg, t), t->name, err) || sl_buf_adds(s, " AS t WHERE ", err) ||
        add_key_match(s, t, in, "t", "w", err) || sl_buf_adds(s, ") ORDER BY w.ord LIMIT 1", err))
        return NULL;
    for (int i = 0; i < a->nparams; i++)
        a->vals[i] = a->params.data + a->offs[i];
    PGresult *r = sl_pg_query(&g->pg, s->data, a->nparams, a->vals, err,
                              "could not look for the rows an update missed");
    if (!r)
        return NULL;
    const sl_change_t *ch = NULL;
    if (PQntuples(r) > 0) {
        long ord = strtol(PQgetvalue(r, 0, 0), NULL, 10);
        ch = ord >= 1 && ord <= n ? chs[ord - 1] : NULL;
    }
    PQclear(r);
    return ch;
}
