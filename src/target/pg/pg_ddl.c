/*
 * pg_ddl.c: the pure half of the PostgreSQL target: which PostgreSQL type a column
 * gets, the CREATE TABLE text, and the COPY text of a row. No I/O, so the type
 * mapping (docs/type-mapping.md) is unit-tested without a server.
 *
 * A table that comes from PostgreSQL keeps its native types verbatim (domains were
 * resolved to base types by the source); enums are the exception, since they are
 * created again in the target schema. Other engines go through the canonical type.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/pg/pg_target.h"

/* PostgreSQL's varchar(n) limit; longer declared lengths become text. */
#define PG_VARCHAR_MAX 10485760

bool sl_pg_same_engine(const sl_table_t *t)
{
    return t->engine && !strcmp(t->engine, "pg");
}

bool sl_pg_is_recreated_generated(const sl_table_t *t, const sl_column_t *c)
{
    return c->generated && c->generation_expr && sl_pg_same_engine(t);
}

bool sl_pg_is_identity(const sl_table_t *t, const sl_column_t *c)
{
    return c->autoinc && !sl_pg_is_recreated_generated(t, c) &&
           (c->type == SL_T_INT16 || c->type == SL_T_INT32 || c->type == SL_T_INT64);
}

/* The last identifier of a possibly qualified, possibly quoted type name, without
 * a trailing "[]": `"My"."Mood"[]` → My Mood → Mood. */
static void last_ident(const char *s, char *out, size_t size)
{
    size_t o = 0;
    out[0] = '\0';
    while (*s) {
        o = 0;
        if (*s == '"') {
            for (s++; *s; s++) {
                if (*s == '"' && s[1] != '"')
                    break;
                if (*s == '"')
                    s++;
                if (o + 1 < size)
                    out[o++] = *s;
            }
            if (*s)
                s++;
        } else {
            for (; *s && *s != '.' && *s != '['; s++)
                if (o + 1 < size)
                    out[o++] = *s;
        }
        out[o] = '\0';
        if (*s != '.')
            break;
        s++;
    }
}

void sl_pg_enum_name(const sl_table_t *t, const sl_column_t *c, char *out, size_t size)
{
    out[0] = '\0';
    bool arr = c->type == SL_T_ARRAY && c->elem == SL_T_ENUM;
    if ((c->type != SL_T_ENUM && !arr) || c->cast)
        return;
    const char *native = arr ? c->elem_native : c->native;
    if (sl_pg_same_engine(t) && native && native[0])
        last_ident(native, out, size);
    else
        snprintf(out, size, "%s_%s", t->name, c->name);
}

static int add_scaled(sl_buf_t *b, const char *name, int scale, const char *suffix, sl_err_t *err)
{
    if (scale < 0)
        return sl_buf_printf(b, err, "%s%s", name, suffix);
    return sl_buf_printf(b, err, "%s(%d)%s", name, scale > 6 ? 6 : scale, suffix);
}

/* The canonical mapping of one (non-array) type with c's size facts. */
static int add_canonical(const sl_table_t *t, const sl_column_t *c, sl_type_t type,
                         const char *schema, sl_buf_t *b, sl_err_t *err)
{
    switch (type) {
    case SL_T_BOOL: return sl_buf_adds(b, "boolean", err);
    case SL_T_INT16: return sl_buf_adds(b, "smallint", err);
    case SL_T_INT32: return sl_buf_adds(b, "integer", err);
    case SL_T_INT64: return sl_buf_adds(b, "bigint", err);
    case SL_T_UINT64: return sl_buf_adds(b, "numeric(20,0)", err);
    case SL_T_FLOAT32: return sl_buf_adds(b, "real", err);
    case SL_T_FLOAT64: return sl_buf_adds(b, "double precision", err);
    case SL_T_DECIMAL:
        if (c->precision <= 0)
            return sl_buf_adds(b, "numeric", err);
        return sl_buf_printf(b, err, "numeric(%d,%d)", c->precision, c->scale > 0 ? c->scale : 0);
    case SL_T_MONEY: return sl_buf_adds(b, "numeric(19,2)", err);
    case SL_T_TEXT:
        if (c->fixed && c->length > 0 && c->length <= PG_VARCHAR_MAX)
            return sl_buf_printf(b, err, "character(%d)", c->length);
        if (c->fixed)
            return sl_buf_adds(b, "bpchar", err);
        if (c->length > 0 && c->length <= PG_VARCHAR_MAX)
            return sl_buf_printf(b, err, "varchar(%d)", c->length);
        return sl_buf_adds(b, "text", err);
    case SL_T_BYTES:
    case SL_T_GEOMETRY: /* WKB */
        return sl_buf_adds(b, "bytea", err);
    case SL_T_DATE: return sl_buf_adds(b, "date", err);
    case SL_T_TIME: return add_scaled(b, "time", c->scale, "", err);
    case SL_T_TIMETZ: return add_scaled(b, "timetz", c->scale, "", err);
    case SL_T_TIMESTAMP: return add_scaled(b, "timestamp", c->scale, "", err);
    case SL_T_TIMESTAMPTZ: return add_scaled(b, "timestamptz", c->scale, "", err);
    case SL_T_INTERVAL: return sl_buf_adds(b, "interval", err);
    case SL_T_JSON: return sl_buf_adds(b, "json", err); /* json keeps the exact text */
    case SL_T_UUID: return sl_buf_adds(b, "uuid", err);
    case SL_T_ENUM: {
        char name[256];
        sl_pg_enum_name(t, c, name, sizeof name);
        return sl_pg_add_qname(b, schema, name, err);
    }
    case SL_T_BIT:
        if (c->fixed)
            return c->length > 0 ? sl_buf_printf(b, err, "bit(%d)", c->length)
                                 : sl_buf_adds(b, "bit", err);
        return c->length > 0 ? sl_buf_printf(b, err, "varbit(%d)", c->length)
                             : sl_buf_adds(b, "varbit", err);
    case SL_T_SET: /* members joined by ',' (docs/type-mapping.md) */
    case SL_T_NET:
    case SL_T_TSVECTOR:
    default:
        return sl_buf_adds(b, "text", err);
    }
}

int sl_pg_ddl_type(const sl_table_t *t, const sl_column_t *c, const char *schema, sl_buf_t *b,
                   sl_err_t *err)
{
    bool arr = c->type == SL_T_ARRAY;
    sl_type_t base = arr ? c->elem : c->type;
    if (c->cast) /* a mapping's cast: the user's PostgreSQL type, verbatim */
        return sl_buf_adds(b, c->cast, err);
    if (base == SL_T_ENUM) {
        char name[256];
        sl_pg_enum_name(t, c, name, sizeof name);
        if (sl_pg_add_qname(b, schema, name, err))
            return -1;
        return arr ? sl_buf_adds(b, "[]", err) : 0;
    }
    if (sl_pg_same_engine(t) && c->native && c->native[0])
        return sl_buf_adds(b, c->native, err);
    if (add_canonical(t, c, base, schema, b, err))
        return -1;
    return arr ? sl_buf_adds(b, "[]", err) : 0;
}

int sl_pg_default_sql(const sl_table_t *t, const sl_column_t *c, const char *schema, sl_buf_t *b,
                      sl_err_t *err)
{
    const char *v = c->default_value;
    if (sl_type_is_binary(c->type)) /* already cast to bytea, the only binary type here */
        return sl_pg_add_bytea_literal(b, v, strlen(v), err);
    if (sl_pg_add_literal(b, v, strlen(v), err) || sl_buf_adds(b, "::", err))
        return -1;
    return sl_pg_ddl_type(t, c, schema, b, err);
}

int sl_pg_create_sql(const sl_table_t *t, const char *schema, const bool *keep_default,
                     sl_buf_t *b, sl_err_t *err)
{
    if (sl_buf_adds(b, "CREATE TABLE ", err) || sl_pg_add_qname(b, schema, t->name, err) ||
        sl_buf_adds(b, " (", err))
        return -1;
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *c = &t->columns[i];
        if ((i && sl_buf_adds(b, ",", err)) || sl_buf_adds(b, "\n  ", err) ||
            sl_pg_add_ident(b, c->name, err) || sl_buf_addc(b, ' ', err) ||
            sl_pg_ddl_type(t, c, schema, b, err))
            return -1;
        bool gen = sl_pg_is_recreated_generated(t, c), ident = sl_pg_is_identity(t, c);
        if (gen && sl_buf_printf(b, err, " GENERATED ALWAYS AS (%s) STORED", c->generation_expr))
            return -1;
        if (ident && sl_buf_adds(b, " GENERATED BY DEFAULT AS IDENTITY", err))
            return -1;
        if (!c->nullable && sl_buf_adds(b, " NOT NULL", err))
            return -1;
        if (c->default_value && !gen && !ident && (!keep_default || keep_default[i]) &&
            (sl_buf_adds(b, " DEFAULT ", err) || sl_pg_default_sql(t, c, schema, b, err)))
            return -1;
    }
    int npk = sl_table_pk_count(t);
    for (int k = 0; k < npk; k++) {
        int ci = sl_table_pk_col(t, k);
        if (ci < 0)
            return sl_err_set(err, SL_E_INTERNAL, "primary key of \"%s\" has a gap at %d", t->name,
                              k + 1);
        if (sl_buf_adds(b, k ? ", " : ",\n  PRIMARY KEY (", err) ||
            sl_pg_add_ident(b, t->columns[ci].name, err))
            return -1;
    }
    if (npk && sl_buf_addc(b, ')', err))
        return -1;
    return sl_buf_adds(b, "\n)", err);
}

int sl_pg_copy_row(const sl_table_t *t, const sl_value_t *vals, sl_buf_t *b, int *bad,
                   sl_err_t *err)
{
    bool first = true;
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *c = &t->columns[i];
        if (sl_pg_is_recreated_generated(t, c))
            continue;
        if (!first && sl_buf_addc(b, '\t', err))
            return -1;
        first = false;
        const sl_value_t *v = &vals[i];
        int rc;
        if (v->len < 0)
            rc = sl_buf_add(b, "\\N", 2, err);
        else if (sl_type_is_binary(c->type))
            rc = sl_pg_copy_add_bytea(b, v->p, (size_t)v->len, err);
        else
            rc = sl_pg_copy_escape(b, v->p, (size_t)v->len, err);
        if (rc == 1)
            *bad = i;
        if (rc)
            return rc;
    }
    return sl_buf_addc(b, '\n', err);
}

void sl_pg_copy_context(const char *context, long *line, char *col, size_t colsize)
{
    *line = 0;
    col[0] = '\0';
    if (!context)
        return;
    const char *l = strstr(context, ", line ");
    if (!l)
        return;
    *line = strtol(l + 7, NULL, 10);
    const char *c = strstr(l, ", column ");
    if (!c)
        return;
    c += 9;
    const char *e = strstr(c, ": ");
    size_t n = e ? (size_t)(e - c) : strcspn(c, "\n");
    if (n >= colsize)
        n = colsize - 1;
    memcpy(col, c, n);
    col[n] = '\0';
}

/* A MySQL TIME (a signed duration up to 838:59:59) that PostgreSQL's time
 * (00:00:00 to 24:00:00) cannot hold. */
static bool time_out_of_range(const char *p, size_t n)
{
    if (n && p[0] == '-')
        return true;
    size_t h = 0;
    while (h < n && p[h] >= '0' && p[h] <= '9')
        h++;
    if (h > 2 || (h == 2 && (p[0] > '2' || (p[0] == '2' && p[1] > '4'))))
        return true;
    if (h == 2 && p[0] == '2' && p[1] == '4') /* 24:00:00 is the only 24 */
        for (size_t i = h; i < n; i++)
            if (p[i] >= '1' && p[i] <= '9')
                return true;
    return false;
}

int sl_pg_refuses(const sl_table_t *t, const sl_column_t *c, const sl_value_t *v, sl_refusal_t *r)
{
    if (v->len < 0 || c->cast || sl_type_is_binary(c->type))
        return 0;
    size_t n = (size_t)v->len;
    int show = n > 80 ? 80 : (int)n;
    if (c->type == SL_T_TIME && !sl_pg_same_engine(t) && time_out_of_range(v->p, n)) {
        snprintf(r->why, sizeof r->why, "PostgreSQL's time holds 00:00:00 to 24:00:00, not %.*s", show, v->p);
        r->cast = "interval";
        return 1;
    }
    if (memchr(v->p, '\0', n)) {
        snprintf(r->why, sizeof r->why, "PostgreSQL text cannot hold a NUL byte");
        r->cast = NULL;
        return 1;
    }
    if (c->type == SL_T_ENUM && !sl_pg_same_engine(t)) {
        for (int i = 0; i < c->nlabels; i++)
            if (strlen(c->labels[i]) == n && !memcmp(c->labels[i], v->p, n))
                return 0;
        snprintf(r->why, sizeof r->why, "\"%.*s\" is not a label of the enum", show, v->p);
        r->cast = "text";
        return 1;
    }
    return 0;
}

/* (Text with a NUL byte is refused too, but any MySQL text could hold one: `check
 * --scan` finds them rather than every text column being flagged.) */
int sl_pg_may_refuse(const sl_table_t *t, const sl_column_t *c, sl_refusal_t *r)
{
    if (c->cast || sl_pg_same_engine(t))
        return 0;
    switch (c->type) {
    case SL_T_TIME:
        snprintf(r->why, sizeof r->why, "MySQL TIME values below 00:00:00 or past 24:00:00 do not fit PostgreSQL's time");
        r->cast = "interval";
        return 1;
    case SL_T_ENUM:
        snprintf(r->why, sizeof r->why, "a value that is not one of the labels (MySQL's '' for an invalid one) cannot be "
                                        "stored in the enum type");
        r->cast = "text";
        return 1;
    default:
        return 0;
    }
}
