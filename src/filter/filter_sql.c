/*
 * filter_sql.c: a bound filter as SQL for the load's SELECT ... WHERE, on PostgreSQL or
 * MariaDB, meaning exactly what filter_eval.c computes (filter.h says what that is).
 *
 * Every predicate is parenthesized, identifiers are quoted with the engine's own quoting
 * (db/pg, db/mysql) and literals escaped the same way. Text columns are compared under a
 * binary, no-pad collation on both engines; float columns as doubles; literals are written
 * in the type the predicate compares in, never left for the server to guess.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "db/mysql/mysql_db.h"
#include "db/pg/pg.h"
#include "filter/filter_int.h"

typedef struct render {
    const sl_filter_t *f;
    sl_filter_dialect_t d;
    sl_buf_t *b;
    sl_err_t *err;
} render_t;

static bool pg(const render_t *r)
{
    return r->d == SL_FILTER_PG;
}

static bool has_type(const render_t *r, const node_t *n, sl_type_t t)
{
    for (int i = 0; i < n->nops; i++)
        if (n->ops[i].is_col && r->f->cols[n->ops[i].col].type == t)
            return true;
    return false;
}

static int ident(render_t *r, int col)
{
    const char *name = r->f->cols[col].name;
    return pg(r) ? sl_pg_add_ident(r->b, name, r->err) : sl_mysql_add_ident(r->b, name, r->err);
}

static int column(render_t *r, const node_t *n, int col)
{
    sl_type_t t = r->f->cols[col].type;
    sl_buf_t *b = r->b;
    if (n->kind == N_ISNULL || n->kind == N_BOOLCOL)
        return ident(r, col);
    if (n->cls == CLS_TEXT)
        return pg(r) ? sl_buf_addc(b, '(', r->err) || ident(r, col) ||
                           sl_buf_adds(b, "::text COLLATE \"C\")", r->err)
                     : sl_buf_adds(b, "(CONVERT(", r->err) || ident(r, col) ||
                           sl_buf_adds(b, " USING utf8mb4) COLLATE utf8mb4_nopad_bin)", r->err);
    const char *cast = NULL;
    if (pg(r) && n->cls == CLS_FLOAT && t != SL_T_FLOAT64)
        cast = "::float8"; /* float4 widened exactly; integers and numerics as PostgreSQL would */
    else if (pg(r) && t == SL_T_MONEY)
        cast = "::numeric";
    if (!cast)
        return ident(r, col);
    return sl_buf_addc(b, '(', r->err) || ident(r, col) || sl_buf_adds(b, cast, r->err) ||
           sl_buf_addc(b, ')', r->err);
}

static int unsupported(render_t *r, const operand_t *o)
{
    sl_err_set(r->err, SL_E_CONFIG, "MariaDB cannot express the literal \"%.80s\" of the filter of "
               "table \"%s\"", o->text ? o->text : "", r->f->table);
    return -1;
}

static int literal(render_t *r, const node_t *n, const operand_t *o)
{
    sl_buf_t *b = r->b;
    sl_err_t *err = r->err;
    const fval_t *v = &o->v;
    char tmp[96];
    if (v->null)
        return sl_buf_adds(b, "NULL", err);
    switch (n->cls) {
    case CLS_EXACT:
        if (!strchr("-0123456789", v->s[0]) || strstr(v->s, "Infinity")) {
            if (!pg(r))
                return unsupported(r, o);
            return sl_pg_add_literal(b, v->s, v->n, err) || sl_buf_adds(b, "::numeric", err);
        }
        if (v->s[0] == '-')
            return sl_buf_printf(b, err, "(%.*s)", (int)v->n, v->s);
        return sl_buf_add(b, v->s, v->n, err);
    case CLS_FLOAT:
        if (pg(r)) {
            const char *s = isnan(v->d) ? "NaN" : isinf(v->d) ? (v->d < 0 ? "-Infinity" : "Infinity")
                                                                : NULL;
            if (!s)
                s = (snprintf(tmp, sizeof tmp, "%.17g", v->d), tmp);
            return sl_buf_printf(b, err, "'%s'::float8", s);
        }
        if (!isfinite(v->d))
            return unsupported(r, o);
        return sl_buf_printf(b, err, "%.17e", v->d); /* a DOUBLE literal: the exponent says so */
    case CLS_TEXT:
        return pg(r) ? sl_pg_add_literal(b, v->s, v->n, err) : sl_mysql_add_string(b, v->s, v->n, err);
    case CLS_BOOL:
        return sl_buf_adds(b, v->i ? "TRUE" : "FALSE", err);
    case CLS_INSTANT: {
        bool inf = v->i == INT64_MAX || v->i == INT64_MIN;
        bool tz = has_type(r, n, SL_T_TIMESTAMPTZ);
        if (!pg(r) && (inf || v->i < INT64_C(-62135596800000000))) /* before 0001-01-01 */
            return unsupported(r, o);
        sl_filter_instant_text(v->i, o->with_time, pg(r) && tz ? "+00" : NULL, tmp, sizeof tmp);
        if (pg(r))
            return sl_buf_printf(b, err, "'%s'::%s", tmp,
                                 !o->with_time ? "date" : tz ? "timestamptz" : "timestamp");
        return sl_buf_printf(b, err, "%s'%s'", o->with_time ? "TIMESTAMP" : "DATE", tmp);
    }
    case CLS_TIME:
        sl_filter_time_text(v->i, tmp, sizeof tmp);
        return pg(r) ? sl_buf_printf(b, err, "'%s'::time", tmp) : sl_buf_printf(b, err, "TIME'%s'", tmp);
    default:
        return sl_err_set(err, SL_E_INTERNAL, "filter literal of no class");
    }
}

static int operand(render_t *r, const node_t *n, const operand_t *o)
{
    return o->is_col ? column(r, n, o->col) : literal(r, n, o);
}

static int node(render_t *r, const node_t *n)
{
    static const char *const cmp[] = {" = ", " <> ", " < ", " <= ", " > ", " >= "};
    sl_buf_t *b = r->b;
    sl_err_t *err = r->err;
    if (sl_buf_addc(b, '(', err))
        return -1;
    switch (n->kind) {
    case N_AND:
    case N_OR:
        for (int i = 0; i < n->nkids; i++)
            if ((i && sl_buf_adds(b, n->kind == N_AND ? " AND " : " OR ", err)) || node(r, n->kids[i]))
                return -1;
        break;
    case N_NOT:
        if (sl_buf_adds(b, "NOT ", err) || node(r, n->kids[0]))
            return -1;
        break;
    case N_CMP:
        if (operand(r, n, &n->ops[0]) || sl_buf_adds(b, cmp[n->op], err) ||
            operand(r, n, &n->ops[1]))
            return -1;
        break;
    case N_ISNULL:
        if (operand(r, n, &n->ops[0]) || sl_buf_adds(b, n->neg ? " IS NOT NULL" : " IS NULL", err))
            return -1;
        break;
    case N_BOOLCOL:
        if (operand(r, n, &n->ops[0]))
            return -1;
        break;
    case N_BETWEEN:
        if (operand(r, n, &n->ops[0]) || sl_buf_adds(b, n->neg ? " NOT BETWEEN " : " BETWEEN ", err) ||
            operand(r, n, &n->ops[1]) || sl_buf_adds(b, " AND ", err) || operand(r, n, &n->ops[2]))
            return -1;
        break;
    case N_IN:
        if (operand(r, n, &n->ops[0]) || sl_buf_adds(b, n->neg ? " NOT IN (" : " IN (", err))
            return -1;
        for (int i = 1; i < n->nops; i++)
            if ((i > 1 && sl_buf_adds(b, ", ", err)) || operand(r, n, &n->ops[i]))
                return -1;
        if (sl_buf_addc(b, ')', err))
            return -1;
        break;
    case N_LIKE:
        if (operand(r, n, &n->ops[0]) || sl_buf_adds(b, n->neg ? " NOT LIKE " : " LIKE ", err) ||
            (pg(r) ? sl_pg_add_literal(b, n->pattern, n->plen, err)
                   : sl_mysql_add_string(b, n->pattern, n->plen, err)) ||
            sl_buf_adds(b, " ESCAPE ", err) ||
            (pg(r) ? sl_pg_add_literal(b, "\\", 1, err) : sl_mysql_add_string(b, "\\", 1, err)))
            return -1;
        break;
    }
    return sl_buf_addc(b, ')', err);
}

int sl_filter_sql(const sl_filter_t *f, sl_filter_dialect_t d, sl_buf_t *out, sl_err_t *err)
{
    if (!f->bound)
        return sl_err_set(err, SL_E_INTERNAL, "filter rendered before it was bound");
    render_t r = {.f = f, .d = d, .b = out, .err = err};
    size_t mark = out->len;
    if (node(&r, f->root) == 0)
        return 0;
    out->len = mark; /* leave no half-written condition behind */
    if (out->data)
        out->data[mark] = '\0';
    return -1;
}
