/*
 * genexpr_cast.c: the typed leaves and conversions of the generation expression
 * translator (genexpr.h): a column's PostgreSQL type, numeric and string literals, casts
 * (::type, CAST) and the final conversion to the generated column's own type.
 *
 * A conversion is translated only where both engines convert alike: numeric to integer
 * and numeric(p,s) round half away from zero on both, float to integer rounds half to
 * even on both; float to numeric is refused (PostgreSQL goes through 15 significant
 * digits), and so are text to numbers or dates, floats and booleans to text (the
 * engines spell them differently), and casts with a time precision (rounding differs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/mysql/mysql_db.h"
#include "target/fmt/fmt_int.h"
#include "target/mysql/genexpr_int.h"

/* ---- columns and literals ------------------------------------------------------------- */

/* The PostgreSQL type of a column as the source described it. */
gx_ty_t sl_gx_column_type(const sl_column_t *col)
{
    gx_ty_t ty = {TY_OTHER, 0, -1};
    const char *n = col->native ? col->native : "";
    switch (col->type) {
    case SL_T_INT16: return (gx_ty_t){TY_INT, 16, 0};
    case SL_T_INT32: return (gx_ty_t){TY_INT, 32, 0};
    case SL_T_INT64: return (gx_ty_t){TY_INT, 64, 0};
    case SL_T_DECIMAL: return (gx_ty_t){TY_NUMERIC, 0, col->precision > 0 ? col->scale : -1};
    case SL_T_FLOAT32: return (gx_ty_t){TY_FLOAT4, 0, -1};
    case SL_T_FLOAT64: return (gx_ty_t){TY_FLOAT8, 0, -1};
    case SL_T_BOOL: return (gx_ty_t){TY_BOOL, 0, -1};
    case SL_T_DATE: return (gx_ty_t){TY_DATE, 0, -1};
    case SL_T_TIMESTAMP: return (gx_ty_t){TY_TIMESTAMP, 0, -1};
    case SL_T_TIMESTAMPTZ: return (gx_ty_t){TY_TIMESTAMPTZ, 0, -1};
    case SL_T_TIME: return (gx_ty_t){TY_TIME, 0, -1};
    case SL_T_TEXT:
        /* Only PostgreSQL's own string types: xml, citext, name ... compare and cast
         * differently. */
        if (!strncmp(n, "character(", 10) || !strcmp(n, "character") || !strcmp(n, "bpchar"))
            return (gx_ty_t){TY_BPCHAR, 0, -1};
        if (!strcmp(n, "text") || !strncmp(n, "character varying", 17) || !n[0])
            return (gx_ty_t){TY_TEXT, 0, -1};
        return ty;
    default:
        return ty;
    }
}


/* "-12" or "3.50": an integer (the type by its range) or a numeric with its scale. */
int sl_gx_number(gx_ctx_t *c, const char *s, gx_out_t *o)
{
    size_t k = s[0] == '-';
    size_t digits = strspn(s + k, "0123456789");
    const char *dot = s[k + digits] == '.' ? s + k + digits : NULL;
    size_t frac = dot ? strspn(dot + 1, "0123456789") : 0;
    if (s[k + digits + (dot ? 1 + frac : 0)] != '\0' || (!digits && !frac))
        return sl_gx_refuse(c, "it has the number \"%.40s\", which is not plain decimal", s);
    if (dot) {
        o->ty = (gx_ty_t){TY_NUMERIC, 0, (int)frac};
    } else {
        const char *d = s + k + strspn(s + k, "0"); /* significant digits */
        size_t n = strlen(d);
        int bits = n < 10 || (n == 10 && strcmp(d, k ? "2147483648" : "2147483647") <= 0) ? 32
                   : n < 19 || (n == 19 && strcmp(d, k ? "9223372036854775808" : "9223372036854775807") <= 0)
                       ? 64 : 0;
        o->ty = bits ? (gx_ty_t){TY_INT, bits, 0} : (gx_ty_t){TY_NUMERIC, 0, 0};
    }
    if (digits + frac > 65)
        return sl_gx_refuse(c, "it has a number of more than 65 digits");
    return k ? sl_buf_printf(&o->b, c->err, "(%s)", s) : sl_buf_adds(&o->b, s, c->err);
}

/* A plain literal: MariaDB mangles introduced ones (_utf8mb4'é') when it stores a
 * generation expression, and the target's session is utf8mb4 anyway. */
int sl_gx_string(gx_ctx_t *c, const char *s, gx_out_t *o)
{
    return sl_mysql_add_string(&o->b, s, strlen(s), c->err);
}

/* ---- types of casts -------------------------------------------------------------------- */

typedef struct target {
    gx_ty_t ty;
    int len;           /* varchar(n) / char(n), 0 none */
    int prec, scale;   /* numeric(p,s), prec 0 none */
    bool tmod;         /* timestamp(n) / time(n): a typmod we do not reproduce */
} target_t;

static int cast_target(gx_ctx_t *c, const gx_t *g, target_t *tg)
{
    static const struct {
        const char *name;
        gx_type_t t;
        int bits;
    } names[] = {
        {"integer", TY_INT, 32}, {"int", TY_INT, 32}, {"int4", TY_INT, 32},
        {"bigint", TY_INT, 64}, {"int8", TY_INT, 64}, {"smallint", TY_INT, 16}, {"int2", TY_INT, 16},
        {"numeric", TY_NUMERIC, 0}, {"decimal", TY_NUMERIC, 0},
        {"double precision", TY_FLOAT8, 0}, {"float8", TY_FLOAT8, 0},
        {"real", TY_FLOAT4, 0}, {"float4", TY_FLOAT4, 0},
        {"text", TY_TEXT, 0}, {"character varying", TY_TEXT, 0}, {"varchar", TY_TEXT, 0},
        {"bpchar", TY_BPCHAR, 0}, {"character", TY_BPCHAR, 0}, {"char", TY_BPCHAR, 0},
        {"boolean", TY_BOOL, 0}, {"bool", TY_BOOL, 0}, {"date", TY_DATE, 0},
        {"timestamp without time zone", TY_TIMESTAMP, 0}, {"timestamp", TY_TIMESTAMP, 0},
        {"timestamp with time zone", TY_TIMESTAMPTZ, 0}, {"timestamptz", TY_TIMESTAMPTZ, 0},
        {"time without time zone", TY_TIME, 0}, {"time", TY_TIME, 0},
    };
    memset(tg, 0, sizeof *tg);
    if (g->array)
        return sl_gx_refuse(c, "it casts to the array type %s[]", g->s);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(g->s, names[i].name))
            continue;
        tg->ty = (gx_ty_t){names[i].t, names[i].bits, -1};
        if (names[i].t == TY_NUMERIC && g->nmods) {
            tg->prec = g->mods[0];
            tg->scale = g->nmods > 1 ? g->mods[1] : 0;
            tg->ty.scale = tg->scale;
            if (tg->prec < 1 || tg->prec > 65 || tg->scale < 0 || tg->scale > 30 || tg->scale > tg->prec)
                return sl_gx_refuse(c, "it casts to numeric(%d,%d), which MariaDB's decimal cannot hold",
                                    tg->prec, tg->scale);
        } else if (names[i].t == TY_TEXT || names[i].t == TY_BPCHAR) {
            tg->len = g->nmods ? g->mods[0] : 0;
            if (names[i].t == TY_BPCHAR && strcmp(g->s, "bpchar") && !g->nmods)
                tg->len = 1; /* character without a length is character(1) */
        } else if (g->nmods) {
            tg->tmod = true;
        }
        if (tg->ty.t == TY_TIMESTAMPTZ)
            return sl_gx_refuse(c, "it uses timestamp with time zone, which depends on the session's time zone");
        return 0;
    }
    return sl_gx_refuse(c, "it casts to %s, which has no MariaDB equivalent here", g->s);
}

/* ---- conversions ------------------------------------------------------------------- */

static int wrap(gx_ctx_t *c, gx_out_t *in, gx_out_t *out, const char *fmt)
{
    return sl_gx_compose(c, out, fmt, in, NULL);
}

/* Converts in (already translated) to tg; assign: PostgreSQL's assignment to a column
 * rather than an explicit cast (char and varchar lengths are checked, not cut). */
static int convert(gx_ctx_t *c, gx_out_t *in, const target_t *tg, bool assign, gx_out_t *out)
{
    gx_type_t f = in->ty.t, t = tg->ty.t;
    const char *fn = sl_gx_type_name(f), *tn = sl_gx_type_name(t);
    out->ty = tg->ty;
    char dec[64];
    snprintf(dec, sizeof dec, "CAST(%%s AS DECIMAL(%d,%d))", tg->prec, tg->scale);
    if (f == TY_NULL) {
        out->ty.t = TY_NULL; /* NULL::integer still skips in GREATEST, unifies anywhere */
        return sl_buf_adds(&out->b, "NULL", c->err);
    }
    if (tg->tmod && !(assign && f == t))
        return sl_gx_refuse(c, "it casts to %s with a precision, which rounds differently", tn);
    switch (t) {
    case TY_INT:
        if (f == TY_INT || f == TY_BOOL)
            return wrap(c, in, out, "%s");
        if (f == TY_NUMERIC || f == TY_FLOAT8 || f == TY_FLOAT4)
            return wrap(c, in, out, "CAST(%s AS SIGNED)"); /* both round as PostgreSQL does */
        break;
    case TY_NUMERIC:
        if (f == TY_INT || f == TY_NUMERIC) {
            if (!tg->prec) {
                out->ty.scale = f == TY_INT ? 0 : in->ty.scale;
                return wrap(c, in, out, "%s");
            }
            return wrap(c, in, out, dec);
        }
        if (f == TY_FLOAT8 || f == TY_FLOAT4)
            return sl_gx_refuse(c, "it converts %s to numeric, which PostgreSQL rounds to 15 digits "
                                   "first", fn);
        break;
    case TY_FLOAT8:
        if (f == TY_FLOAT8)
            return wrap(c, in, out, "%s");
        if (f == TY_INT || f == TY_NUMERIC || f == TY_FLOAT4)
            return wrap(c, in, out, "CAST(%s AS DOUBLE)");
        break;
    case TY_FLOAT4:
        /* Storing rounds a double to float once, as PostgreSQL does; a value that is not
         * exactly a double first (numeric, bigint) would be rounded twice. */
        if (f == TY_FLOAT4 || (assign && (f == TY_FLOAT8 || (f == TY_INT && in->ty.bits <= 32))))
            return wrap(c, in, out, "%s");
        return sl_gx_refuse(c, "it converts %s to real, which MariaDB cannot round alike", fn);
    case TY_TEXT:
    case TY_BPCHAR: {
        const char *fmt = NULL;
        if (f == TY_TEXT || f == TY_UNKNOWN)
            fmt = "%s";
        else if (f == TY_BPCHAR)
            fmt = t == TY_BPCHAR ? "%s" : "RTRIM(%s)"; /* bpchar to text drops the padding */
        else if (f == TY_INT || f == TY_DATE || (f == TY_NUMERIC && in->ty.scale >= 0))
            fmt = "CAST(%s AS CHAR CHARACTER SET utf8mb4)";
        else if (f == TY_NUMERIC)
            return sl_gx_refuse(c, "it converts a numeric of unknown scale to text");
        if (!fmt)
            break;
        if (t == TY_BPCHAR && tg->len && !assign)
            return sl_gx_refuse(c, "it casts to character(%d), which pads with spaces", tg->len);
        if (t == TY_TEXT && tg->len && !assign) {
            char left[64];
            snprintf(left, sizeof left, "LEFT(%s, %d)", fmt, tg->len);
            return wrap(c, in, out, left);
        }
        return wrap(c, in, out, fmt);
    }
    case TY_BOOL:
        if (f == TY_BOOL)
            return wrap(c, in, out, "%s");
        if (f == TY_INT && !assign)
            return wrap(c, in, out, "(%s <> 0)");
        break;
    case TY_DATE:
        if (f == TY_DATE)
            return wrap(c, in, out, "%s");
        if (f == TY_TIMESTAMP)
            return wrap(c, in, out, "CAST(%s AS DATE)");
        break;
    case TY_TIMESTAMP:
        if (f == TY_TIMESTAMP)
            return wrap(c, in, out, "%s");
        if (f == TY_DATE)
            return wrap(c, in, out, "CAST(%s AS DATETIME)");
        break;
    case TY_TIME:
        if (f == TY_TIME)
            return wrap(c, in, out, "%s");
        if (f == TY_TIMESTAMP)
            return wrap(c, in, out, "CAST(%s AS TIME(6))");
        break;
    default:
        break;
    }
    return sl_gx_refuse(c, "it converts %s to %s, which the engines do differently", fn, tn);
}

/* 'text'::type: the literal read as PostgreSQL reads it. */
static int literal_cast(gx_ctx_t *c, const char *s, const target_t *tg, gx_out_t *o)
{
    size_t n = strlen(s);
    int32_t days;
    int64_t us;
    int inf = 0;
    o->ty = tg->ty;
    switch (tg->ty.t) {
    case TY_INT:
    case TY_NUMERIC: {
        gx_out_t num;
        sl_gx_out_init(&num);
        int rc = sl_gx_number(c, s, &num);
        if (rc == 0 && tg->ty.t == TY_INT && num.ty.t != TY_INT)
            rc = sl_gx_refuse(c, "it casts '%.40s' to an integer", s);
        if (rc == 0)
            rc = convert(c, &num, tg, false, o);
        sl_gx_out_free(&num);
        return rc;
    }
    case TY_FLOAT8: {
        double d;
        if (sl_fmtv_f64(s, n, &d) || d != d || d - d != 0)
            return sl_gx_refuse(c, "it has the double precision literal '%.40s'", s);
        return sl_buf_printf(&o->b, c->err, "%.17e", d);
    }
    case TY_TEXT:
    case TY_BPCHAR: {
        gx_out_t lit;
        sl_gx_out_init(&lit);
        lit.ty.t = TY_UNKNOWN;
        int rc = sl_gx_string(c, s, &lit);
        if (rc == 0)
            rc = convert(c, &lit, tg, false, o);
        sl_gx_out_free(&lit);
        return rc;
    }
    case TY_BOOL: {
        bool v;
        if (sl_fmtv_bool(s, n, &v))
            return sl_gx_refuse(c, "it has the boolean literal '%.40s'", s);
        return sl_buf_adds(&o->b, v ? "TRUE" : "FALSE", c->err);
    }
    case TY_DATE:
        if (sl_fmtv_date(s, n, &days, &inf) || inf || strspn(s, "0123456789") != 4)
            return sl_gx_refuse(c, "it has the date '%.40s', which MariaDB cannot hold", s);
        return sl_buf_printf(&o->b, c->err, "DATE'%s'", s);
    case TY_TIMESTAMP:
        if (tg->tmod || sl_fmtv_timestamp(s, n, &us, &inf) || inf || strspn(s, "0123456789") != 4 ||
            strchr(s + 10, '+') || strchr(s + 10, '-'))
            return sl_gx_refuse(c, "it has the timestamp '%.40s', which MariaDB cannot hold", s);
        return sl_buf_printf(&o->b, c->err, "TIMESTAMP'%s'", s);
    case TY_TIME:
        if (tg->tmod || sl_fmtv_time(s, n, &us))
            return sl_gx_refuse(c, "it has the time '%.40s'", s);
        return sl_buf_printf(&o->b, c->err, "TIME'%s'", s);
    default:
        return sl_gx_refuse(c, "it has a literal of type %s", sl_gx_type_name(tg->ty.t));
    }
}

int sl_gx_emit_cast(gx_ctx_t *c, const gx_t *g, gx_out_t *o)
{
    target_t tg;
    int rc = cast_target(c, g, &tg);
    if (rc)
        return rc;
    const gx_t *arg = g->a[0];
    if (arg->kind == GX_STR)
        return literal_cast(c, arg->s, &tg, o);
    if (arg->kind == GX_NEG && arg->a[0]->kind == GX_NUM && tg.ty.t != TY_FLOAT8) {
        /* (- 5)::numeric: a negative literal */
        char s[80];
        snprintf(s, sizeof s, "-%.70s", arg->a[0]->s);
        return literal_cast(c, s, &tg, o);
    }
    gx_out_t in;
    sl_gx_out_init(&in);
    rc = sl_gx_emit(c, arg, &in);
    if (rc == 0)
        rc = convert(c, &in, &tg, false, o);
    sl_gx_out_free(&in);
    return rc;
}

/* PostgreSQL converts the value to the column's type as an assignment does. */
int sl_gx_assign(gx_ctx_t *c, gx_out_t *e, const sl_column_t *gc, gx_out_t *r)
{
    target_t tg = {.ty = sl_gx_column_type(gc)};
    if (gc->type == SL_T_DECIMAL && gc->precision > 0) {
        tg.prec = gc->precision;
        tg.scale = gc->scale;
        if (tg.scale < 0 || tg.prec > 65 || tg.scale > 30)
            return sl_gx_refuse(c, "its type numeric(%d,%d) is wider than MariaDB's decimal",
                                tg.prec, tg.scale);
    }
    if (tg.ty.t == TY_OTHER)
        return sl_gx_refuse(c, "its type %s has no translation", gc->native ? gc->native : "?");
    if (tg.ty.t == TY_NUMERIC && e->ty.t == TY_NUMERIC && !tg.prec)
        return wrap(c, e, r, "%s");
    return convert(c, e, &tg, true, r);
}
