/*
 * genexpr_func.c: function calls of generation expressions (genexpr.h lists them), each
 * mapped to the MariaDB form that agrees with PostgreSQL's on every argument it accepts,
 * or refused. Where the engines differ only on some arguments (substr before position 1,
 * left with a negative count, trim of a set of characters), the translation is limited to
 * literal arguments where they agree, or rewritten (GREATEST and LEAST skip NULLs in
 * PostgreSQL and not in MariaDB, so each argument is wrapped in a COALESCE of all).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/mysql/genexpr.h"
#include "target/mysql/genexpr_int.h"

#define MAXARGS 16

typedef struct args {
    gx_out_t a[MAXARGS];
    int n;
} args_t;

static void args_free(args_t *a)
{
    for (int i = 0; i < a->n; i++)
        sl_gx_out_free(&a->a[i]);
}

/* Translates g->a[from..] into a. */
static int args_emit(gx_ctx_t *c, const gx_t *g, int from, args_t *a)
{
    a->n = 0;
    if (g->n - from > MAXARGS)
        return sl_gx_refuse(c, "it calls %s with %d arguments", g->s ? g->s : "a function", g->n);
    for (int i = from; i < g->n; i++) {
        sl_gx_out_init(&a->a[a->n]);
        int rc = sl_gx_emit(c, g->a[i], &a->a[a->n++]);
        if (rc)
            return rc;
    }
    return 0;
}

/* out = fmt with the k-th "%s" replaced by args[idx[k]], k < nidx (by args[k], k < a->n,
 * when idx is NULL). */
static int put(gx_ctx_t *c, gx_out_t *out, const char *fmt, args_t *a, const int *idx, int nidx)
{
    gx_out_t *ptrs[MAXARGS];
    int n = idx ? nidx : a->n;
    for (int k = 0; k < n && k < MAXARGS; k++)
        ptrs[k] = &a->a[idx ? idx[k] : k];
    return sl_gx_format(c, out, fmt, ptrs, n < MAXARGS ? n : MAXARGS);
}

/* An integer literal argument: 5, -5, '-5'::integer, (5)::integer. */
static bool int_literal(const gx_t *g, long *v)
{
    if (g->kind == GX_CAST && (!strcmp(g->s, "integer") || !strcmp(g->s, "bigint")))
        g = g->a[0];
    bool neg = false;
    if (g->kind == GX_NEG) {
        neg = true;
        g = g->a[0];
    }
    const char *s = g->s;
    if ((g->kind != GX_NUM && g->kind != GX_STR) || !s)
        return false;
    if (s[0] == '-' && !neg) {
        neg = true;
        s++;
    }
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
        return false;
    *v = neg ? -atol(s) : atol(s);
    return true;
}

/* A one-character string literal argument (trim's characters). */
static bool one_char(const gx_t *g)
{
    if (g->kind == GX_CAST && !strcmp(g->s, "text"))
        g = g->a[0];
    if (g->kind != GX_STR || !g->s[0])
        return false;
    unsigned char c = (unsigned char)g->s[0];
    size_t k = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    return strlen(g->s) == k;
}

/* Requires argument i to be text; character values lose their padding first. */
static int text_arg(gx_ctx_t *c, args_t *a, int i, const char *fn)
{
    gx_out_t *x = &a->a[i];
    if (x->ty.t == TY_BPCHAR) {
        gx_out_t t;
        sl_gx_out_init(&t);
        if (sl_buf_adds(&t.b, "RTRIM(", c->err) || sl_buf_add(&t.b, x->b.data, x->b.len, c->err) ||
            sl_buf_addc(&t.b, ')', c->err)) {
            sl_gx_out_free(&t);
            return -1;
        }
        sl_gx_out_free(x);
        *x = t;
        x->ty.t = TY_TEXT;
    }
    if (!sl_gx_textual(x->ty.t) && x->ty.t != TY_NULL)
        return sl_gx_refuse(c, "it calls %s on %s", fn, sl_gx_type_name(x->ty.t));
    return 0;
}

static int nargs(gx_ctx_t *c, const char *fn, int n, int min, int max)
{
    if (n < min || n > max)
        return sl_gx_refuse(c, "it calls %s with %d arguments", fn, n);
    return 0;
}

/* lower() / upper() as the source's ctype maps case. */
static int case_map(gx_ctx_t *c, bool lower, args_t *a, gx_out_t *o)
{
    o->ty = (gx_ty_t){TY_TEXT, 0, -1};
    if (c->case_map == SL_GENEXPR_CASE_LIBC)
        return put(c, o, lower ? "LOWER(%s)" : "UPPER(%s)", a, NULL, 0);
    if (c->case_map != SL_GENEXPR_CASE_ASCII)
        return sl_gx_refuse(c, "it calls %s, which follows the source's LC_CTYPE, not known here",
                            lower ? "lower" : "upper");
    /* ctype C: the 26 ASCII letters and nothing else, as REPLACE does byte for byte. */
    for (int i = 0; i < 26; i++)
        if (sl_buf_adds(&o->b, "REPLACE(", c->err))
            return -1;
    if (put(c, o, "%s", a, NULL, 0))
        return -1;
    for (int i = 0; i < 26; i++)
        if (sl_buf_printf(&o->b, c->err, ", '%c', '%c')", lower ? 'A' + i : 'a' + i,
                          lower ? 'a' + i : 'A' + i))
            return -1;
    return 0;
}

/* ---- dates ---------------------------------------------------------------------------- */

static const struct {
    const char *field;
    const char *sql; /* %s is the argument, as often as it appears */
    int scale;       /* of EXTRACT's numeric result */
    bool time_ok;    /* also for a time value */
} fields[] = {
    {"year", "EXTRACT(YEAR FROM %s)", 0, false},
    {"month", "EXTRACT(MONTH FROM %s)", 0, false},
    {"day", "EXTRACT(DAY FROM %s)", 0, false},
    {"hour", "EXTRACT(HOUR FROM %s)", 0, true},
    {"minute", "EXTRACT(MINUTE FROM %s)", 0, true},
    {"second", "(SECOND(%s) + MICROSECOND(%s) * 0.000001)", 6, true},
    {"millisecond", "(SECOND(%s) * 1000 + MICROSECOND(%s) * 0.001)", 3, true},
    {"microsecond", "(SECOND(%s) * 1000000 + MICROSECOND(%s))", 0, true},
    {"quarter", "QUARTER(%s)", 0, false},
    {"dow", "(DAYOFWEEK(%s) - 1)", 0, false},
    {"isodow", "(WEEKDAY(%s) + 1)", 0, false},
    {"doy", "DAYOFYEAR(%s)", 0, false},
    {"week", "WEEK(%s, 3)", 0, false},
    {"isoyear", "(YEARWEEK(%s, 3) DIV 100)", 0, false},
};

/* EXTRACT(field FROM a[i]) (numeric result) or date_part (double precision). */
static int extract(gx_ctx_t *c, const char *field, args_t *a, int i, bool date_part, gx_out_t *o)
{
    gx_type_t t = a->a[i].ty.t;
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
        if (strcmp(field, fields[k].field))
            continue;
        if (t != TY_DATE && t != TY_TIMESTAMP && t != TY_NULL && !(t == TY_TIME && fields[k].time_ok))
            return sl_gx_refuse(c, "it extracts %s from %s", field, sl_gx_type_name(t));
        o->ty = date_part ? (gx_ty_t){TY_FLOAT8, 0, -1} : (gx_ty_t){TY_NUMERIC, 0, fields[k].scale};
        const int idx[] = {i, i};
        return put(c, o, fields[k].sql, a, idx, 2);
    }
    return sl_gx_refuse(c, "it extracts %s, which MariaDB computes differently or not at all", field);
}

/* ---- the calls --------------------------------------------------------------------------- */

static int greatest(gx_ctx_t *c, const gx_t *g, args_t *a, gx_out_t *o)
{
    int keep[MAXARGS], n = 0;
    gx_ty_t ty = {TY_NULL, 0, -1};
    for (int i = 0; i < a->n; i++) {
        if (a->a[i].ty.t == TY_NULL)
            continue; /* PostgreSQL ignores NULL arguments */
        if (sl_gx_textual(a->a[i].ty.t))
            return sl_gx_refuse(c, "it calls %s on text, which PostgreSQL orders by collation", g->s);
        int rc = sl_gx_unify_add(c, &ty, a->a[i].ty);
        if (rc)
            return rc;
        keep[n++] = i;
    }
    o->ty = ty;
    if (n == 0)
        return sl_buf_adds(&o->b, "NULL", c->err);
    if (n == 1)
        return put(c, o, "%s", a, keep, 1);
    if (sl_buf_adds(&o->b, !strcmp(g->s, "greatest") ? "GREATEST(" : "LEAST(", c->err))
        return -1;
    /* COALESCE(x_i, the others): NULL only when every argument is. */
    for (int i = 0; i < n; i++) {
        if (sl_buf_adds(&o->b, i ? ", COALESCE(" : "COALESCE(", c->err) || put(c, o, "%s", a, &keep[i], 1))
            return -1;
        for (int k = 0; k < n; k++)
            if (k != i && (sl_buf_adds(&o->b, ", ", c->err) || put(c, o, "%s", a, &keep[k], 1)))
                return -1;
        if (sl_buf_addc(&o->b, ')', c->err))
            return -1;
    }
    return sl_buf_addc(&o->b, ')', c->err);
}

/* substr(x, from [, count]) with literal positions PostgreSQL and MariaDB agree on. */
static int substr(gx_ctx_t *c, const gx_t *g, int first, args_t *a, gx_out_t *o)
{
    long from, count;
    int rc = nargs(c, "substr", a->n, 2, 3);
    if (rc || (rc = text_arg(c, a, 0, "substr")))
        return rc;
    if (!int_literal(g->a[first + 1], &from) || from < 1 ||
        (a->n == 3 && (!int_literal(g->a[first + 2], &count) || count < 0)))
        return sl_gx_refuse(c, "it takes a substring at a computed or non-positive position, where "
                               "the engines differ");
    o->ty = (gx_ty_t){TY_TEXT, 0, -1};
    return put(c, o, a->n == 3 ? "SUBSTRING(%s, %s, %s)" : "SUBSTRING(%s, %s)", a, NULL, 0);
}

static int trim(gx_ctx_t *c, const char *side, const gx_t *chars, args_t *a, gx_out_t *o)
{
    int rc = text_arg(c, a, 0, "trim");
    if (rc)
        return rc;
    o->ty = (gx_ty_t){TY_TEXT, 0, -1};
    if (!chars) {
        char fmt[40];
        snprintf(fmt, sizeof fmt, "TRIM(%s FROM %%s)", side);
        return put(c, o, fmt, a, NULL, 0);
    }
    if (!one_char(chars))
        return sl_gx_refuse(c, "it trims a set of characters, which MariaDB's TRIM takes as one string");
    char fmt[40];
    snprintf(fmt, sizeof fmt, "TRIM(%s %%s FROM %%s)", side);
    const int idx[] = {1, 0};
    return put(c, o, fmt, a, idx, 2);
}

int sl_gx_emit_func(gx_ctx_t *c, const gx_t *g, gx_out_t *o)
{
    args_t a;
    int rc;
    if (g->kind == GX_EXTRACT) {
        rc = args_emit(c, g, 0, &a);
        if (rc == 0)
            rc = extract(c, g->s, &a, 0, false, o);
        goto out;
    }
    if (g->kind == GX_TRIM) {
        rc = args_emit(c, g, 0, &a);
        if (rc == 0)
            rc = trim(c, g->s, g->n > 1 ? g->a[1] : NULL, &a, o);
        goto out;
    }
    if (g->kind == GX_POSITION || g->kind == GX_SUBSTRING) {
        rc = args_emit(c, g, 0, &a);
        if (rc == 0 && g->kind == GX_SUBSTRING) {
            rc = substr(c, g, 0, &a, o);
        } else if (rc == 0 && !(rc = text_arg(c, &a, 0, "position")) && !(rc = text_arg(c, &a, 1, "position"))) {
            o->ty = (gx_ty_t){TY_INT, 32, 0};
            rc = put(c, o, "LOCATE(%s, %s COLLATE utf8mb4_bin)", &a, NULL, 0);
        }
        goto out;
    }
    const char *fn = g->s;
    rc = args_emit(c, g, 0, &a);
    if (rc)
        goto out;
    gx_type_t t0 = a.n ? a.a[0].ty.t : TY_NULL;
    if (!strcmp(fn, "lower") || !strcmp(fn, "upper")) {
        if (!(rc = nargs(c, fn, a.n, 1, 1)) && !(rc = text_arg(c, &a, 0, fn)))
            rc = case_map(c, fn[0] == 'l', &a, o);
    } else if (!strcmp(fn, "md5") || !strcmp(fn, "reverse")) {
        if (!(rc = nargs(c, fn, a.n, 1, 1)) && !(rc = text_arg(c, &a, 0, fn))) {
            o->ty = (gx_ty_t){TY_TEXT, 0, -1};
            rc = put(c, o, !strcmp(fn, "md5") ? "MD5(%s)" : "REVERSE(%s)", &a, NULL, 0);
        }
    } else if (!strcmp(fn, "length") || !strcmp(fn, "char_length") || !strcmp(fn, "character_length") ||
               !strcmp(fn, "octet_length")) {
        bool octets = fn[0] == 'o';
        if (!(rc = nargs(c, fn, a.n, 1, 1)) && octets && t0 == TY_BPCHAR)
            rc = sl_gx_refuse(c, "it counts the bytes of a character(n) value with its padding");
        if (rc == 0 && !(rc = text_arg(c, &a, 0, fn))) {
            o->ty = (gx_ty_t){TY_INT, 32, 0};
            rc = put(c, o, octets ? "OCTET_LENGTH(%s)" : "CHAR_LENGTH(%s)", &a, NULL, 0);
        }
    } else if (!strcmp(fn, "substr") || !strcmp(fn, "substring")) {
        rc = substr(c, g, 0, &a, o);
    } else if (!strcmp(fn, "btrim") || !strcmp(fn, "ltrim") || !strcmp(fn, "rtrim")) {
        if (!(rc = nargs(c, fn, a.n, 1, 2)))
            rc = trim(c, fn[0] == 'b' ? "BOTH" : fn[0] == 'l' ? "LEADING" : "TRAILING",
                      a.n > 1 ? g->a[1] : NULL, &a, o);
    } else if (!strcmp(fn, "replace")) {
        if (!(rc = nargs(c, fn, a.n, 3, 3)) && !(rc = text_arg(c, &a, 0, fn)) &&
            !(rc = text_arg(c, &a, 1, fn)) && !(rc = text_arg(c, &a, 2, fn))) {
            o->ty = (gx_ty_t){TY_TEXT, 0, -1};
            rc = put(c, o, "REPLACE(%s, %s, %s)", &a, NULL, 0);
        }
    } else if (!strcmp(fn, "left") || !strcmp(fn, "right")) {
        long k;
        if (!(rc = nargs(c, fn, a.n, 2, 2)) && !(rc = text_arg(c, &a, 0, fn)) && !int_literal(g->a[1], &k))
            rc = sl_gx_refuse(c, "it calls %s with a computed count, which may be negative", fn);
        if (rc == 0) {
            o->ty = (gx_ty_t){TY_TEXT, 0, -1};
            char fmt[80];
            const int idx[] = {0, 0};
            if (k >= 0)
                snprintf(fmt, sizeof fmt, "%s(%%s, %ld)", fn[0] == 'l' ? "LEFT" : "RIGHT", k);
            else if (fn[0] == 'l') /* all but the last -k characters */
                snprintf(fmt, sizeof fmt, "LEFT(%%s, GREATEST(CHAR_LENGTH(%%s) - %ld, 0))", -k);
            else /* all but the first -k characters */
                snprintf(fmt, sizeof fmt, "SUBSTRING(%%s, %ld)", 1 - k);
            rc = put(c, o, fmt, &a, idx, 2);
        }
    } else if (!strcmp(fn, "repeat")) {
        if (!(rc = nargs(c, fn, a.n, 2, 2)) && !(rc = text_arg(c, &a, 0, fn)) && a.a[1].ty.t != TY_INT)
            rc = sl_gx_refuse(c, "it repeats by %s", sl_gx_type_name(a.a[1].ty.t));
        if (rc == 0) {
            o->ty = (gx_ty_t){TY_TEXT, 0, -1};
            rc = put(c, o, "REPEAT(%s, %s)", &a, NULL, 0);
        }
    } else if (!strcmp(fn, "strpos")) {
        if (!(rc = nargs(c, fn, a.n, 2, 2)) && !(rc = text_arg(c, &a, 0, fn)) && !(rc = text_arg(c, &a, 1, fn))) {
            o->ty = (gx_ty_t){TY_INT, 32, 0};
            const int idx[] = {1, 0};
            rc = put(c, o, "LOCATE(%s, %s COLLATE utf8mb4_bin)", &a, idx, 2);
        }
    } else if (!strcmp(fn, "abs") || !strcmp(fn, "sign") || !strcmp(fn, "floor") || !strcmp(fn, "ceil") ||
               !strcmp(fn, "ceiling") || !strcmp(fn, "round") || !strcmp(fn, "trunc")) {
        bool digits = !strcmp(fn, "round") || !strcmp(fn, "trunc");
        long k = 0;
        if (!(rc = nargs(c, fn, a.n, 1, digits ? 2 : 1)) && t0 != TY_INT && t0 != TY_NUMERIC &&
            t0 != TY_FLOAT8 && !(t0 == TY_FLOAT4 && fn[0] == 'a'))
            rc = sl_gx_refuse(c, "it calls %s on %s", fn, sl_gx_type_name(t0));
        if (rc == 0 && a.n == 2 && (t0 != TY_NUMERIC || !int_literal(g->a[1], &k)))
            rc = sl_gx_refuse(c, "it calls %s with computed digits or on %s", fn, sl_gx_type_name(t0));
        if (rc == 0) {
            o->ty = a.a[0].ty;
            if (t0 == TY_NUMERIC && strcmp(fn, "abs") && strcmp(fn, "sign"))
                o->ty.scale = digits && k > 0 ? (int)k : 0;
            char fmt[64];
            if (!strcmp(fn, "trunc"))
                snprintf(fmt, sizeof fmt, "TRUNCATE(%%s, %ld)", k);
            else if (a.n == 2)
                snprintf(fmt, sizeof fmt, "ROUND(%%s, %ld)", k);
            else
                snprintf(fmt, sizeof fmt, "%s(%%s)", !strcmp(fn, "ceil") ? "CEILING" : fn);
            for (char *p = fmt; *p && *p != '('; p++)
                *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
            rc = put(c, o, fmt, &a, NULL, 0);
        }
    } else if (!strcmp(fn, "mod")) {
        if (!(rc = nargs(c, fn, a.n, 2, 2)) &&
            ((t0 != TY_INT && t0 != TY_NUMERIC) || (a.a[1].ty.t != TY_INT && a.a[1].ty.t != TY_NUMERIC)))
            rc = sl_gx_refuse(c, "it calls mod on %s", sl_gx_type_name(t0));
        if (rc == 0) {
            o->ty = t0 == TY_INT && a.a[1].ty.t == TY_INT ? a.a[0].ty : (gx_ty_t){TY_NUMERIC, 0, -1};
            rc = put(c, o, "MOD(%s, %s)", &a, NULL, 0);
        }
    } else if (!strcmp(fn, "coalesce")) {
        gx_ty_t ty = {TY_NULL, 0, -1};
        for (int i = 0; rc == 0 && i < a.n; i++)
            rc = sl_gx_unify_add(c, &ty, a.a[i].ty);
        if (rc == 0 && a.n == 0)
            rc = sl_gx_refuse(c, "it calls coalesce without arguments");
        for (int i = 0; rc == 0 && i < a.n; i++)
            rc = sl_buf_adds(&o->b, i ? ", " : "COALESCE(", c->err) || put(c, o, "%s", &a, &i, 1) ? -1 : 0;
        if (rc == 0)
            rc = sl_buf_addc(&o->b, ')', c->err);
        o->ty = ty;
    } else if (!strcmp(fn, "nullif")) {
        gx_out_t eq;
        sl_gx_out_init(&eq);
        if (!(rc = nargs(c, fn, a.n, 2, 2)))
            rc = sl_gx_equality(c, "=", &a.a[0], &a.a[1], &eq); /* the type rules */
        if (rc == 0) {
            o->ty = a.a[0].ty;
            bool text = sl_gx_textual(t0) || sl_gx_textual(a.a[1].ty.t);
            bool pad = text && sl_gx_pad(t0, a.a[1].ty.t);
            const int idx[] = {0, 1, 0};
            rc = put(c, o, !text ? "NULLIF(%s, %s)"
                           : pad ? "(CASE WHEN (RTRIM(%s) COLLATE utf8mb4_nopad_bin = RTRIM(%s)) THEN NULL ELSE %s END)"
                                 : "NULLIF(%s COLLATE utf8mb4_nopad_bin, %s)",
                     &a, idx, 3);
        }
        sl_gx_out_free(&eq);
    } else if (!strcmp(fn, "greatest") || !strcmp(fn, "least")) {
        rc = greatest(c, g, &a, o);
    } else if (!strcmp(fn, "date_part")) {
        const gx_t *f = g->n == 2 ? g->a[0] : NULL;
        if (f && f->kind == GX_CAST && !strcmp(f->s, "text"))
            f = f->a[0];
        if (!f || f->kind != GX_STR)
            rc = sl_gx_refuse(c, "it calls date_part with a computed field");
        else
            rc = extract(c, f->s, &a, 1, true, o);
    } else {
        rc = sl_gx_refuse(c, "it calls %s(), which has no faithful MariaDB translation", fn);
    }
out:
    args_free(&a);
    return rc;
}
