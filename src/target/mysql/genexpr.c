/*
 * genexpr.c: the translator of genexpr.h: columns, operators, CASE and the entry point
 * (literals and casts are in genexpr_cast.c, function calls in genexpr_func.c).
 *
 * Each subexpression is translated into its own buffer together with the type PostgreSQL
 * gives it, because the right MariaDB form depends on the operands' types: integer
 * division is DIV, text equality needs a no-pad binary collation, a numeric cast rounds
 * like PostgreSQL's only from exact types. Whatever has no form that computes the same
 * value on every row refuses with a reason instead of guessing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/mysql/mysql_db.h"
#include "target/mysql/genexpr.h"
#include "target/mysql/genexpr_int.h"

#define OUT_MAX (1u << 20)
#define NOPAD " COLLATE utf8mb4_nopad_bin"

void sl_gx_out_init(gx_out_t *o)
{
    sl_buf_init(&o->b, OUT_MAX);
    o->ty = (gx_ty_t){TY_UNKNOWN, 0, -1};
}

void sl_gx_out_free(gx_out_t *o)
{
    sl_buf_free(&o->b);
}

int sl_gx_refuse(gx_ctx_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, c->whylen, fmt, ap);
    va_end(ap);
    return 1;
}

const char *sl_gx_type_name(gx_type_t t)
{
    static const char *const names[] = {"unknown", "null", "integer", "numeric", "double precision",
                                        "real", "text", "character", "boolean", "date",
                                        "timestamp", "timestamp with time zone", "time", "other"};
    return names[t];
}

bool sl_gx_numeric(gx_type_t t)
{
    return t == TY_INT || t == TY_NUMERIC || t == TY_FLOAT8 || t == TY_FLOAT4;
}

bool sl_gx_textual(gx_type_t t)
{
    return t == TY_TEXT || t == TY_BPCHAR || t == TY_UNKNOWN;
}

int sl_gx_format(gx_ctx_t *c, gx_out_t *out, const char *fmt, gx_out_t *const *args, int nargs)
{
    int k = 0;
    for (const char *p = fmt; *p; p++) {
        if (p[0] == '%' && p[1] == 's' && k < nargs) {
            gx_out_t *x = args[k++];
            if (sl_buf_add(&out->b, x->b.data ? x->b.data : "", x->b.len, c->err))
                return -1;
            p++;
        } else if (sl_buf_addc(&out->b, *p, c->err)) {
            return -1;
        }
    }
    return 0;
}

int sl_gx_compose(gx_ctx_t *c, gx_out_t *out, const char *fmt, gx_out_t *a, gx_out_t *b)
{
    gx_out_t *args[2] = {a, b};
    return sl_gx_format(c, out, fmt, args, b ? 2 : 1);
}

static int emit_column(gx_ctx_t *c, const gx_t *g, gx_out_t *o)
{
    const sl_table_t *t = c->t;
    int i = sl_table_find_col(t, g->s);
    if (i < 0)
        return sl_gx_refuse(c, "it refers to \"%s\", which is not a column of the table", g->s);
    const sl_column_t *col = &t->columns[i];
    if (col->generated)
        return sl_gx_refuse(c, "it refers to generated column \"%s\"", col->name);
    if (c->names && !c->names[i])
        return sl_gx_refuse(c, "it refers to column \"%s\", which the target leaves out", col->name);
    o->ty = sl_gx_column_type(col);
    if (o->ty.t == TY_OTHER)
        return sl_gx_refuse(c, "it uses column \"%s\" of type %s", col->name,
                            col->native ? col->native : sl_type_name(col->type));
    return sl_mysql_add_ident(&o->b, c->names ? c->names[i] : col->name, c->err);
}

/* ---- operators ----------------------------------------------------------------------- */

bool sl_gx_pad(gx_type_t a, gx_type_t b)
{
    /* character = character ignores trailing spaces; text (either side) does not. */
    return (a == TY_BPCHAR || b == TY_BPCHAR) && a != TY_TEXT && b != TY_TEXT;
}

int sl_gx_equality(gx_ctx_t *c, const char *op, gx_out_t *a, gx_out_t *b, gx_out_t *out)
{
    gx_type_t x = a->ty.t, y = b->ty.t;
    out->ty = (gx_ty_t){TY_BOOL, 0, -1};
    char fmt[64];
    if (sl_gx_textual(x) || sl_gx_textual(y)) {
        if (!(sl_gx_textual(x) || x == TY_NULL) || !(sl_gx_textual(y) || y == TY_NULL))
            return sl_gx_refuse(c, "it compares %s with %s", sl_gx_type_name(x), sl_gx_type_name(y));
        /* character(n) compares without trailing spaces. MariaDB refuses a PAD SPACE
         * comparison of a CHAR column in a generated column (it would depend on
         * PAD_CHAR_TO_FULL_LENGTH), so the spaces are trimmed instead. */
        const char *f = sl_gx_pad(x, y) ? "(RTRIM(%s)" NOPAD " %s RTRIM(%s))" : "(%s" NOPAD " %s %s)";
        snprintf(fmt, sizeof fmt, f, "%s", op, "%s");
        return sl_gx_compose(c, out, fmt, a, b);
    }
    bool num = sl_gx_numeric(x) && sl_gx_numeric(y);
    bool dt = (x == TY_DATE || x == TY_TIMESTAMP) && (y == TY_DATE || y == TY_TIMESTAMP);
    if (!num && !dt && x != y && x != TY_NULL && y != TY_NULL)
        return sl_gx_refuse(c, "it compares %s with %s", sl_gx_type_name(x), sl_gx_type_name(y));
    snprintf(fmt, sizeof fmt, "(%%s %s %%s)", op);
    return sl_gx_compose(c, out, fmt, a, b);
}

/* The type of a + - * result; TY_OTHER when not arithmetic. */
static gx_ty_t arith_type(const char *op, gx_ty_t a, gx_ty_t b)
{
    gx_ty_t r = {TY_OTHER, 0, -1};
    if (a.t == TY_NULL)
        a = b;
    if (b.t == TY_NULL)
        b = a;
    if (!sl_gx_numeric(a.t) || !sl_gx_numeric(b.t))
        return r;
    /* real with double precision computes in double (float48 operators); real alone in
     * single precision, which MariaDB never does. */
    if ((a.t == TY_FLOAT4 && b.t != TY_FLOAT8) || (b.t == TY_FLOAT4 && a.t != TY_FLOAT8))
        return r;
    if (a.t == TY_FLOAT8 || b.t == TY_FLOAT8)
        return (gx_ty_t){TY_FLOAT8, 0, -1};
    if (a.t == TY_NUMERIC || b.t == TY_NUMERIC) {
        int sa = a.t == TY_INT ? 0 : a.scale, sb = b.t == TY_INT ? 0 : b.scale;
        r = (gx_ty_t){TY_NUMERIC, 0, -1};
        if (sa >= 0 && sb >= 0)
            r.scale = op[0] == '*' ? sa + sb : sa > sb ? sa : sb;
        return r;
    }
    return (gx_ty_t){TY_INT, a.bits > b.bits ? a.bits : b.bits, 0};
}

/* Flattens a || b || c into CONCAT(a, b, c). */
static int concat_parts(gx_ctx_t *c, const gx_t *g, gx_out_t *o, int *n)
{
    if (g->kind == GX_BINOP && !strcmp(g->s, "||")) {
        int rc = concat_parts(c, g->a[0], o, n);
        return rc ? rc : concat_parts(c, g->a[1], o, n);
    }
    gx_out_t x;
    sl_gx_out_init(&x);
    int rc = sl_gx_emit(c, g, &x);
    if (rc == 0 && !sl_gx_textual(x.ty.t) && x.ty.t != TY_NULL)
        rc = sl_gx_refuse(c, "it concatenates %s", sl_gx_type_name(x.ty.t));
    if (rc == 0 && x.ty.t == TY_BPCHAR) /* bpchar || text: the padding goes first */
        rc = sl_buf_adds(&o->b, *n ? ", RTRIM(" : "CONCAT(RTRIM(", c->err) ||
             sl_buf_add(&o->b, x.b.data, x.b.len, c->err) || sl_buf_addc(&o->b, ')', c->err) ? -1 : 0;
    else if (rc == 0)
        rc = sl_buf_adds(&o->b, *n ? ", " : "CONCAT(", c->err) ||
             sl_buf_add(&o->b, x.b.data ? x.b.data : "", x.b.len, c->err) ? -1 : 0;
    (*n)++;
    sl_gx_out_free(&x);
    return rc;
}

static int emit_binop(gx_ctx_t *c, const gx_t *g, gx_out_t *o)
{
    const char *op = g->s;
    if (!strcmp(op, "||")) {
        int n = 0, rc = concat_parts(c, g, o, &n);
        o->ty = (gx_ty_t){TY_TEXT, 0, -1};
        return rc ? rc : sl_buf_addc(&o->b, ')', c->err);
    }
    gx_out_t a, b;
    sl_gx_out_init(&a);
    sl_gx_out_init(&b);
    int rc = sl_gx_emit(c, g->a[0], &a);
    if (rc == 0)
        rc = sl_gx_emit(c, g->a[1], &b);
    if (rc)
        goto out;
    gx_type_t x = a.ty.t, y = b.ty.t;
    if (!strcmp(op, "AND") || !strcmp(op, "OR")) {
        if ((x != TY_BOOL && x != TY_NULL) || (y != TY_BOOL && y != TY_NULL)) {
            rc = sl_gx_refuse(c, "it applies %s to %s", op, sl_gx_type_name(x));
            goto out;
        }
        o->ty = (gx_ty_t){TY_BOOL, 0, -1};
        rc = sl_gx_compose(c, o, !strcmp(op, "AND") ? "(%s AND %s)" : "(%s OR %s)", &a, &b);
    } else if (!strcmp(op, "=") || !strcmp(op, "<>")) {
        rc = sl_gx_equality(c, op, &a, &b, o);
    } else if (!strcmp(op, "<") || !strcmp(op, "<=") || !strcmp(op, ">") || !strcmp(op, ">=")) {
        if (sl_gx_textual(x) || sl_gx_textual(y)) {
            rc = sl_gx_refuse(c, "it orders text, which PostgreSQL does by the column's collation");
            goto out;
        }
        rc = sl_gx_equality(c, op, &a, &b, o);
    } else if (!strcmp(op, "~~") || !strcmp(op, "!~~")) {
        if ((x != TY_TEXT && x != TY_NULL) || (!sl_gx_textual(y) && y != TY_NULL) || y == TY_BPCHAR) {
            rc = sl_gx_refuse(c, "it applies LIKE to %s", sl_gx_type_name(x == TY_TEXT ? y : x));
            goto out;
        }
        o->ty = (gx_ty_t){TY_BOOL, 0, -1};
        rc = sl_gx_compose(c, o, op[0] == '!' ? "(%s" NOPAD " NOT LIKE %s ESCAPE '\\\\')"
                                        : "(%s" NOPAD " LIKE %s ESCAPE '\\\\')", &a, &b);
    } else if (!strcmp(op, "+") || !strcmp(op, "-") || !strcmp(op, "*")) {
        gx_ty_t r = arith_type(op, a.ty, b.ty);
        if (r.t != TY_OTHER) {
            o->ty = r;
            char fmt[16];
            snprintf(fmt, sizeof fmt, "(%%s %s %%s)", op);
            rc = sl_gx_compose(c, o, fmt, &a, &b);
        } else if (op[0] != '*' && x == TY_DATE && y == TY_INT) {
            o->ty = (gx_ty_t){TY_DATE, 0, -1};
            rc = sl_gx_compose(c, o, op[0] == '+' ? "(%s + INTERVAL (%s) DAY)" : "(%s - INTERVAL (%s) DAY)", &a, &b);
        } else if (op[0] == '+' && x == TY_INT && y == TY_DATE) {
            o->ty = (gx_ty_t){TY_DATE, 0, -1};
            rc = sl_gx_compose(c, o, "(%s + INTERVAL (%s) DAY)", &b, &a);
        } else if (op[0] == '-' && x == TY_DATE && y == TY_DATE) {
            o->ty = (gx_ty_t){TY_INT, 32, 0};
            rc = sl_gx_compose(c, o, "DATEDIFF(%s, %s)", &a, &b);
        } else {
            rc = sl_gx_refuse(c, "it applies %s to %s and %s%s", op, sl_gx_type_name(x), sl_gx_type_name(y),
                              x == TY_FLOAT4 || y == TY_FLOAT4 ? " (real arithmetic rounds to single precision)" : "");
        }
    } else if (!strcmp(op, "/") || !strcmp(op, "%")) {
        gx_ty_t r = arith_type(op, a.ty, b.ty);
        if (r.t == TY_INT) {
            o->ty = r;
            rc = sl_gx_compose(c, o, op[0] == '/' ? "(%s DIV %s)" : "MOD(%s, %s)", &a, &b);
        } else if (r.t == TY_FLOAT8 && op[0] == '/') {
            o->ty = r;
            rc = sl_gx_compose(c, o, "(%s / %s)", &a, &b);
        } else if (r.t == TY_NUMERIC && op[0] == '%') {
            o->ty = r;
            rc = sl_gx_compose(c, o, "MOD(%s, %s)", &a, &b);
        } else {
            rc = sl_gx_refuse(c, r.t == TY_NUMERIC ? "it divides numeric values, and PostgreSQL and MariaDB "
                                                     "give the quotient different scales"
                                                   : "it applies %s to %s and %s", op,
                              sl_gx_type_name(x), sl_gx_type_name(y));
        }
    } else {
        rc = sl_gx_refuse(c, "it uses the operator %s", op);
    }
out:
    sl_gx_out_free(&a);
    sl_gx_out_free(&b);
    return rc;
}

static int emit_is(gx_ctx_t *c, const gx_t *g, gx_out_t *o)
{
    gx_out_t a, b;
    sl_gx_out_init(&a);
    sl_gx_out_init(&b);
    int rc = sl_gx_emit(c, g->a[0], &a);
    bool not = !strncmp(g->s, "NOT ", 4);
    const char *what = not ? g->s + 4 : g->s;
    if (rc)
        goto out;
    o->ty = (gx_ty_t){TY_BOOL, 0, -1};
    if (!strcmp(what, "DISTINCT FROM")) {
        gx_out_t eq;
        sl_gx_out_init(&eq);
        rc = sl_gx_emit(c, g->a[1], &b);
        if (rc == 0)
            rc = sl_gx_equality(c, "<=>", &a, &b, &eq);
        if (rc == 0)
            rc = sl_gx_compose(c, o, not ? "%s" : "(NOT %s)", &eq, NULL);
        sl_gx_out_free(&eq);
    } else if (!strcmp(what, "NULL")) {
        rc = sl_gx_compose(c, o, not ? "(%s IS NOT NULL)" : "(%s IS NULL)", &a, NULL);
    } else if (a.ty.t != TY_BOOL && a.ty.t != TY_NULL) {
        rc = sl_gx_refuse(c, "it tests %s IS %s", sl_gx_type_name(a.ty.t), what);
    } else {
        char fmt[40];
        snprintf(fmt, sizeof fmt, "(%%s IS %s%s)", not ? "NOT " : "", what);
        rc = sl_gx_compose(c, o, fmt, &a, NULL);
    }
out:
    sl_gx_out_free(&a);
    sl_gx_out_free(&b);
    return rc;
}

/* x = ANY (ARRAY[...]) and x <> ALL (ARRAY[...]): [NOT] IN. */
static int emit_any(gx_ctx_t *c, const gx_t *g, gx_out_t *o)
{
    bool in = !strcmp(g->s, "=") && !g->array, notin = !strcmp(g->s, "<>") && g->array;
    const gx_t *arr = g->a[1];
    if ((!in && !notin) || arr->kind != GX_ARRAY || arr->n == 0)
        return sl_gx_refuse(c, "it uses %s %s with something else than a list", g->s,
                            g->array ? "ALL" : "ANY");
    gx_out_t x, list;
    sl_gx_out_init(&x);
    sl_gx_out_init(&list);
    int rc = sl_gx_emit(c, g->a[0], &x);
    for (int i = 0; rc == 0 && i < arr->n; i++) {
        gx_out_t e, eq;
        sl_gx_out_init(&e);
        sl_gx_out_init(&eq);
        rc = sl_gx_emit(c, arr->a[i], &e);
        if (rc == 0) /* the type rules of =; its text is not used */
            rc = sl_gx_equality(c, "=", &x, &e, &eq);
        if (rc == 0 && (x.ty.t == TY_BPCHAR || e.ty.t == TY_BPCHAR))
            rc = sl_gx_refuse(c, "it compares character values in a list");
        if (rc == 0)
            rc = sl_buf_adds(&list.b, i ? ", " : "", c->err) ||
                 sl_buf_add(&list.b, e.b.data, e.b.len, c->err) ? -1 : 0;
        sl_gx_out_free(&e);
        sl_gx_out_free(&eq);
    }
    if (rc == 0) {
        o->ty = (gx_ty_t){TY_BOOL, 0, -1};
        const char *fmt = sl_gx_textual(x.ty.t) ? (in ? "(%s" NOPAD " IN (%s))" : "(%s" NOPAD " NOT IN (%s))")
                                                 : (in ? "(%s IN (%s))" : "(%s NOT IN (%s))");
        rc = sl_gx_compose(c, o, fmt, &x, &list);
    }
    sl_gx_out_free(&x);
    sl_gx_out_free(&list);
    return rc;
}

/* The common type of CASE branches and COALESCE arguments; TY_OTHER when none. */
static gx_ty_t unify(gx_ty_t a, gx_ty_t b)
{
    if (a.t == TY_NULL)
        return b;
    if (b.t == TY_NULL)
        return a;
    if (sl_gx_textual(a.t) && sl_gx_textual(b.t))
        return (gx_ty_t){a.t == b.t && a.t != TY_UNKNOWN ? a.t : TY_TEXT, 0, -1};
    if ((a.t == TY_DATE || a.t == TY_TIMESTAMP) && (b.t == TY_DATE || b.t == TY_TIMESTAMP))
        return (gx_ty_t){a.t == b.t ? a.t : TY_TIMESTAMP, 0, -1};
    if (sl_gx_numeric(a.t) && sl_gx_numeric(b.t) && a.t != TY_FLOAT4 && b.t != TY_FLOAT4) {
        gx_ty_t r = arith_type("+", a, b);
        if (r.t == TY_NUMERIC && !(a.t == TY_NUMERIC && b.t == TY_NUMERIC && a.scale == b.scale))
            r.scale = -1; /* each row keeps its own branch's scale in PostgreSQL */
        return r;
    }
    if (a.t == b.t && a.t != TY_FLOAT4)
        return a;
    return (gx_ty_t){TY_OTHER, 0, -1};
}

int sl_gx_unify_add(gx_ctx_t *c, gx_ty_t *acc, gx_ty_t t)
{
    gx_ty_t u = unify(*acc, t);
    if (u.t == TY_OTHER)
        return sl_gx_refuse(c, "it mixes %s and %s results", sl_gx_type_name(acc->t), sl_gx_type_name(t.t));
    *acc = u;
    return 0;
}

static int emit_case(gx_ctx_t *c, const gx_t *g, gx_out_t *o)
{
    gx_out_t x;
    sl_gx_out_init(&x);
    int rc = 0, i = 0;
    gx_ty_t ty = {TY_NULL, 0, -1};
    if (g->has_operand)
        rc = sl_gx_emit(c, g->a[i++], &x);
    if (rc == 0)
        rc = sl_buf_adds(&o->b, "(CASE", c->err);
    int end = g->n - g->has_else;
    for (; rc == 0 && i + 1 < end; i += 2) {
        gx_out_t w, r, cond;
        sl_gx_out_init(&w);
        sl_gx_out_init(&r);
        sl_gx_out_init(&cond);
        rc = sl_gx_emit(c, g->a[i], &w);
        if (rc == 0 && g->has_operand)
            rc = sl_gx_equality(c, "=", &x, &w, &cond);
        else if (rc == 0 && w.ty.t != TY_BOOL && w.ty.t != TY_NULL)
            rc = sl_gx_refuse(c, "its CASE tests a %s", sl_gx_type_name(w.ty.t));
        if (rc == 0)
            rc = sl_gx_emit(c, g->a[i + 1], &r);
        if (rc == 0)
            rc = sl_gx_unify_add(c, &ty, r.ty);
        if (rc == 0)
            rc = sl_gx_compose(c, o, " WHEN %s THEN %s", g->has_operand ? &cond : &w, &r);
        sl_gx_out_free(&w);
        sl_gx_out_free(&r);
        sl_gx_out_free(&cond);
    }
    if (rc == 0 && g->has_else) {
        gx_out_t e;
        sl_gx_out_init(&e);
        rc = sl_gx_emit(c, g->a[g->n - 1], &e);
        if (rc == 0)
            rc = sl_gx_unify_add(c, &ty, e.ty);
        if (rc == 0)
            rc = sl_gx_compose(c, o, " ELSE %s", &e, NULL);
        sl_gx_out_free(&e);
    }
    if (rc == 0)
        rc = sl_buf_adds(&o->b, " END)", c->err);
    o->ty = ty;
    sl_gx_out_free(&x);
    return rc;
}

int sl_gx_emit(gx_ctx_t *c, const gx_t *g, gx_out_t *o)
{
    gx_out_t a;
    int rc;
    switch (g->kind) {
    case GX_COL:
        return emit_column(c, g, o);
    case GX_NUM:
        return sl_gx_number(c, g->s, o);
    case GX_STR:
        o->ty = (gx_ty_t){TY_UNKNOWN, 0, -1};
        return sl_gx_string(c, g->s, o);
    case GX_NULL:
        o->ty = (gx_ty_t){TY_NULL, 0, -1};
        return sl_buf_adds(&o->b, "NULL", c->err);
    case GX_BOOL:
        o->ty = (gx_ty_t){TY_BOOL, 0, -1};
        return sl_buf_adds(&o->b, g->s[0] == 't' ? "TRUE" : "FALSE", c->err);
    case GX_CAST:
        return sl_gx_emit_cast(c, g, o);
    case GX_NEG:
    case GX_NOT:
        sl_gx_out_init(&a);
        rc = sl_gx_emit(c, g->a[0], &a);
        if (rc == 0 && g->kind == GX_NEG && !sl_gx_numeric(a.ty.t) && a.ty.t != TY_NULL)
            rc = sl_gx_refuse(c, "it negates %s", sl_gx_type_name(a.ty.t));
        if (rc == 0 && g->kind == GX_NOT && a.ty.t != TY_BOOL && a.ty.t != TY_NULL)
            rc = sl_gx_refuse(c, "it applies NOT to %s", sl_gx_type_name(a.ty.t));
        if (rc == 0) {
            o->ty = g->kind == GX_NOT ? (gx_ty_t){TY_BOOL, 0, -1} : a.ty;
            rc = sl_gx_compose(c, o, g->kind == GX_NEG ? "(-%s)" : "(NOT %s)", &a, NULL);
        }
        sl_gx_out_free(&a);
        return rc;
    case GX_BINOP:
        return emit_binop(c, g, o);
    case GX_IS:
        return emit_is(c, g, o);
    case GX_ANY:
        return emit_any(c, g, o);
    case GX_ARRAY:
        return sl_gx_refuse(c, "it builds an array");
    case GX_CASE:
        return emit_case(c, g, o);
    default:
        return sl_gx_emit_func(c, g, o);
    }
}

/* ---- the entry point ----------------------------------------------------------------- */

int sl_genexpr_mariadb(const sl_table_t *t, int col, const char *const *names,
                       const sl_genexpr_opts_t *opts, sl_buf_t *out, char *why, size_t whylen,
                       sl_err_t *err)
{
    if (col < 0 || col >= t->ncolumns || !t->columns[col].generated || !t->columns[col].generation_expr)
        return sl_err_set(err, SL_E_INTERNAL, "column %d of table \"%s\" is not a generated column",
                          col, t->name);
    const sl_column_t *gc = &t->columns[col];
    gx_ctx_t c = {.t = t, .names = names, .case_map = opts ? (int)opts->case_map : 0, .why = why,
                  .whylen = whylen, .err = err};
    gx_t *g;
    sl_err_t perr;
    if (sl_gx_parse(gc->generation_expr, &g, &perr))
        return sl_gx_refuse(&c, "its expression could not be read: %s", perr.message);
    gx_out_t e, r;
    sl_gx_out_init(&e);
    sl_gx_out_init(&r);
    int rc = sl_gx_emit(&c, g, &e);
    if (rc == 0)
        rc = sl_gx_assign(&c, &e, gc, &r);
    if (rc == 0)
        rc = sl_buf_add(out, r.b.data ? r.b.data : "", r.b.len, err);
    if (rc > 0 && c.why[0] == '\0')
        snprintf(why, whylen, "it cannot be translated");
    sl_gx_out_free(&e);
    sl_gx_out_free(&r);
    sl_gx_free(g);
    return rc;
}
