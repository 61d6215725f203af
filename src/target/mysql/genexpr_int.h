/*
 * genexpr_int.h: what the files of the generation expression translator share: the
 * syntax tree of a PostgreSQL expression as pg_get_expr prints it (genexpr_parse.c builds
 * it), the types the translator infers, and the emit context (genexpr.c for operators and
 * CASE, genexpr_cast.c for literals, casts and the column's own type, genexpr_func.c for
 * function calls).
 */
#ifndef SL_TARGET_MYSQL_GENEXPR_INT_H
#define SL_TARGET_MYSQL_GENEXPR_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "model/schema.h"

#define GX_MAX_TEXT (64u << 10)
#define GX_MAX_DEPTH 100
#define GX_MAX_NODES 10000

typedef enum gx_kind {
    GX_COL,     /* s: the column name */
    GX_NUM,     /* s: the digits as written */
    GX_STR,     /* s: the string's value */
    GX_NULL,
    GX_BOOL,    /* s: "t" / "f" */
    GX_CAST,    /* a[0]; s: the type name, mods[] its modifiers, array: name[] */
    GX_NEG,     /* - a[0] */
    GX_NOT,     /* NOT a[0] */
    GX_BINOP,   /* a[0] s a[1], s the operator ("+", "AND", "~~", ...) */
    GX_IS,      /* a[0] IS s (s: "NULL", "NOT NULL", "TRUE", ..., "DISTINCT FROM" with a[1]) */
    GX_ANY,     /* a[0] s ANY|ALL (a[1]); all says which */
    GX_ARRAY,   /* ARRAY[a...] */
    GX_FUNC,    /* s(a...); s lowercased when written bare */
    GX_CASE,    /* a: [operand or NULL], when, then, when, then, ..., [else]; see has_* */
    GX_EXTRACT, /* EXTRACT(s FROM a[0]) */
    GX_SUBSTRING, /* SUBSTRING(a[0] FROM a[1] [FOR a[2]]) */
    GX_TRIM,    /* TRIM(s [a[1]] FROM a[0]); s: "BOTH", "LEADING", "TRAILING" */
    GX_POSITION, /* POSITION(a[0] IN a[1]) */
} gx_kind_t;

typedef struct gx {
    gx_kind_t kind;
    char *s;
    struct gx **a;
    int n;
    int mods[2];   /* type modifiers of a cast, nmods of them */
    int nmods;
    bool array;    /* a cast to an array type; GX_ANY: ALL rather than ANY */
    bool has_operand, has_else; /* GX_CASE */
} gx_t;

/* Parses text; -1 with err (SL_E_CONFIG, with the position) when it is not an
 * expression the parser knows. */
int sl_gx_parse(const char *text, gx_t **out, sl_err_t *err);
void sl_gx_free(gx_t *g);

/* ---- types and emitting ---- */

typedef enum gx_type {
    TY_UNKNOWN = 0, /* an untyped string literal */
    TY_NULL,
    TY_INT,
    TY_NUMERIC,
    TY_FLOAT8,
    TY_FLOAT4,
    TY_TEXT,
    TY_BPCHAR,
    TY_BOOL,
    TY_DATE,
    TY_TIMESTAMP,
    TY_TIMESTAMPTZ,
    TY_TIME,
    TY_OTHER,
} gx_type_t;

typedef struct gx_ty {
    gx_type_t t;
    int bits;   /* TY_INT: 16, 32 or 64 */
    int scale;  /* TY_NUMERIC: the result's scale, -1 when PostgreSQL's would be unknown */
} gx_ty_t;

typedef struct gx_ctx {
    const sl_table_t *t;
    const char *const *names;
    int case_map; /* sl_genexpr_case_t */
    char *why;
    size_t whylen;
    sl_err_t *err;
} gx_ctx_t;

/* One translated subexpression: its MariaDB text and PostgreSQL type. */
typedef struct gx_out {
    sl_buf_t b;
    gx_ty_t ty;
} gx_out_t;

/* Every emitting function returns 0, 1 for "not translatable" (ctx->why says why) or -1
 * with ctx->err. */
int sl_gx_emit(gx_ctx_t *c, const gx_t *g, gx_out_t *o);
void sl_gx_out_init(gx_out_t *o);
void sl_gx_out_free(gx_out_t *o);
int sl_gx_refuse(gx_ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *sl_gx_type_name(gx_type_t t);
bool sl_gx_numeric(gx_type_t t);
bool sl_gx_textual(gx_type_t t);
/* Whether two text operands compare as character(n) does, ignoring trailing spaces. */
bool sl_gx_pad(gx_type_t a, gx_type_t b);
/* Equality of two translated operands with PostgreSQL's text semantics ("=" or "<>" or
 * "<=>"), into out. */
int sl_gx_equality(gx_ctx_t *c, const char *op, gx_out_t *a, gx_out_t *b, gx_out_t *out);
/* Widens *acc to also hold t (CASE branches, COALESCE arguments); 1 when they mix types
 * PostgreSQL would not. */
int sl_gx_unify_add(gx_ctx_t *c, gx_ty_t *acc, gx_ty_t t);
/* out += fmt with the k-th "%s" replaced by args[k]'s text (k < nargs). */
int sl_gx_format(gx_ctx_t *c, gx_out_t *out, const char *fmt, gx_out_t *const *args, int nargs);
/* sl_gx_format with one or two operands (b may be NULL). */
int sl_gx_compose(gx_ctx_t *c, gx_out_t *out, const char *fmt, gx_out_t *a, gx_out_t *b);
/* genexpr_cast.c: a column's type, literals, casts, the column's own type. */
gx_ty_t sl_gx_column_type(const sl_column_t *col);
int sl_gx_number(gx_ctx_t *c, const char *s, gx_out_t *o);
int sl_gx_string(gx_ctx_t *c, const char *s, gx_out_t *o);
int sl_gx_emit_cast(gx_ctx_t *c, const gx_t *g, gx_out_t *o);
int sl_gx_assign(gx_ctx_t *c, gx_out_t *e, const sl_column_t *gc, gx_out_t *r);
/* genexpr_func.c: a function call, EXTRACT, SUBSTRING, TRIM or POSITION. */
int sl_gx_emit_func(gx_ctx_t *c, const gx_t *g, gx_out_t *o);

#endif
