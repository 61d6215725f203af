/*
 * mysql_literal.c: the pure half of the MariaDB/MySQL target: canonical types to
 * MySQL column types, and canonical values to SQL literals. No server and no
 * globals, so the unit tests cover every type.
 *
 * The rule is "nothing silently lossy": wherever MySQL would round, truncate or
 * refuse a value in a way that strict mode does not catch (a decimal with more
 * fraction digits than the column, NaN, infinity, BC dates), the value is refused
 * here with a reason, and the writer turns that into an SL_E_DATA error that names
 * the table, the column and the row's key.
 *
 * Documented mappings (docs/type-mapping.md): TIMESTAMPTZ is stored as DATETIME
 * holding the UTC time; TIMETZ, INTERVAL and network types as text; arrays and
 * tsvector as their PostgreSQL text; BIT VARYING and BIT longer than 64 bits as '0'/'1'
 * text; an enum with a label ending in a space (MySQL would strip it) as varchar.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/array.h"
#include "target/mysql/mysql_target.h"

#define UTF8_BIN " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
#define ASCII_BIN " CHARACTER SET ascii COLLATE ascii_bin"

bool sl_mysql_same_engine(const sl_table_t *t)
{
    return t->engine && strcmp(t->engine, "mysql") == 0;
}

bool sl_mysql_col_written(const sl_table_t *t, const sl_column_t *c)
{
    return !c->target_expr && !(c->generated && c->generation_expr && sl_mysql_same_engine(t));
}

bool sl_mysql_array_json(const sl_table_t *t, const sl_column_t *c)
{
    return c->type == SL_T_ARRAY && !c->cast && !c->pk_pos && !sl_mysql_same_engine(t);
}

/* Whether a canonical type becomes a varying text / bytes column on a cross-engine
 * target, and the bytes one character or byte of it takes in a row or a key. */
static int width_unit(const sl_column_t *c)
{
    switch (c->type) {
    case SL_T_TEXT:
        return c->fixed && c->length >= 1 && c->length <= 255 ? 0 : 4;
    case SL_T_ARRAY: case SL_T_TSVECTOR:
        return 4;
    case SL_T_BIT: /* MySQL's BIT(n) is fixed: a varying bit string keeps its length as text */
        return c->fixed && c->length >= 1 && c->length <= 64 ? 0 : 1;
    case SL_T_BYTES:
        return c->fixed && c->length >= 1 && c->length <= 255 ? 0 : 1;
    default:
        return 0;
    }
}

/* 0 when every label of an enum column fits a MySQL ENUM; otherwise the byte length of
 * the longest label. MySQL strips trailing spaces from ENUM members, so a PostgreSQL
 * label 'x ' would store every 'x ' as 'x': such a column becomes a varchar instead. */
static int enum_text_width(const sl_column_t *c)
{
    int longest = 1;
    bool fits = true;
    for (int i = 0; i < c->nlabels; i++) {
        size_t n = strlen(c->labels[i]);
        fits = fits && !(n > 0 && c->labels[i][n - 1] == ' ');
        if ((int)n > longest)
            longest = (int)n;
    }
    return fits ? 0 : longest;
}

/* Approximate bytes a column counts towards MySQL's 65,535-byte row limit. */
static int row_cost(const sl_column_t *c, int width)
{
    int unit = width_unit(c);
    if (unit)
        return width > 0 ? unit * width + 2 : 12;
    switch (c->type) {
    case SL_T_TEXT: return 4 * c->length;
    case SL_T_BYTES: return c->length;
    case SL_T_UUID: return 36;
    case SL_T_TIMETZ: return 33;
    case SL_T_INTERVAL: case SL_T_NET: return 65;
    case SL_T_DECIMAL: case SL_T_MONEY: return 30;
    case SL_T_ENUM: return enum_text_width(c) ? 4 * enum_text_width(c) + 2 : 12;
    default: return 12;
    }
}

void sl_mysql_widths(const sl_table_t *t, int *w)
{
    int npk = sl_table_pk_count(t);
    int key_budget = npk ? SL_MYSQL_MAX_KEY_BYTES / npk : SL_MYSQL_MAX_KEY_BYTES;
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *c = &t->columns[i];
        int unit = width_unit(c);
        w[i] = -1;
        if (sl_mysql_same_engine(t) || !unit)
            continue;
        int max = unit == 4 ? 16383 : 65535; /* varchar / varbinary maxima */
        w[i] = c->length >= 1 && c->length <= max ? c->length : 0;
        if (c->type == SL_T_ARRAY || c->type == SL_T_TSVECTOR)
            w[i] = 0;
        /* A key column must fit the index: a longer value then fails loudly on
         * insert instead of the key silently covering a prefix only. */
        if (c->pk_pos > 0 && (w[i] == 0 || w[i] * unit > key_budget))
            w[i] = key_budget / unit;
    }
    if (sl_mysql_same_engine(t))
        return;
    for (;;) {
        long total = 0;
        int widest = -1, widest_cost = 0;
        for (int i = 0; i < t->ncolumns; i++) {
            int cost = row_cost(&t->columns[i], w[i]);
            total += cost;
            if (w[i] > 0 && t->columns[i].pk_pos == 0 && cost > widest_cost) {
                widest = i;
                widest_cost = cost;
            }
        }
        if (total <= SL_MYSQL_MAX_ROW_BYTES - 512 || widest < 0)
            break;
        w[widest] = 0; /* becomes longtext / longblob, stored off the row */
    }
}

/* The decimal(p,s) a DECIMAL or MONEY column gets on the target. */
static void decimal_bounds(const sl_table_t *t, const sl_column_t *c, int *p, int *s)
{
    if (c->type == SL_T_MONEY) {
        *p = 19;
        *s = 2;
        return;
    }
    /* PostgreSQL's numeric(5,-2) rounds to hundreds and holds up to 9999900: seven
     * integer digits, so decimal(7,0). */
    *p = c->precision > 0 && c->scale < 0 ? c->precision - c->scale : c->precision;
    *s = c->scale < 0 ? 0 : c->scale;
    if (*p <= 0 || *p > 65 || *s > 30 || *s > *p) {
        *p = 65;
        *s = 30;
    }
}

static int fsp(const sl_column_t *c)
{
    return c->scale < 0 || c->scale > 6 ? 6 : c->scale;
}

static int add_labels(sl_buf_t *b, const char *kw, const sl_column_t *c, sl_err_t *err)
{
    if (sl_buf_adds(b, kw, err) || sl_buf_addc(b, '(', err))
        return -1;
    for (int i = 0; i < c->nlabels; i++)
        if ((i && sl_buf_addc(b, ',', err)) ||
            sl_mysql_add_string(b, c->labels[i], strlen(c->labels[i]), err))
            return -1;
    return sl_buf_adds(b, ")" UTF8_BIN, err);
}

static int varying(sl_buf_t *b, int width, const char *var, const char *lng, const char *cs,
                   sl_err_t *err)
{
    if (width > 0)
        return sl_buf_printf(b, err, "%s(%d)%s", var, width, cs);
    return sl_buf_printf(b, err, "%s%s", lng, cs);
}

int sl_mysql_column_type(sl_buf_t *b, const sl_table_t *t, const sl_column_t *c, int width,
                         sl_err_t *err)
{
    if (c->cast) /* a mapping's cast: the user's MariaDB type, verbatim */
        return sl_buf_adds(b, c->cast, err);
    if (sl_mysql_array_json(t, c)) /* a JSON array (docs/type-mapping.md) */
        return sl_buf_adds(b, "json", err);
    if (sl_mysql_same_engine(t)) {
        if (c->type == SL_T_JSON) /* MariaDB shows JSON as longtext + CHECK */
            return sl_buf_adds(b, "json", err);
        if (!c->native || !c->native[0])
            return sl_err_set(err, SL_E_SCHEMA, "column \"%s\" of table \"%s\" has no native type",
                              c->name, t->name);
        if (sl_buf_adds(b, c->native, err))
            return -1;
        /* sl_column_t carries no collation: the binary one keeps every value the
         * source holds distinct ('a' and 'A' in a utf8mb4_bin key), where the
         * charset's default collation could refuse them as duplicates. */
        bool textual = c->type == SL_T_TEXT || c->type == SL_T_ENUM || c->type == SL_T_SET;
        if (textual && c->charset && c->charset[0] && strcmp(c->charset, "binary") != 0)
            return sl_buf_printf(b, err, " CHARACTER SET %s COLLATE %s_bin", c->charset,
                                 c->charset);
        return 0;
    }
    int p, s;
    switch (c->type) {
    case SL_T_BOOL: return sl_buf_adds(b, "tinyint(1)", err);
    case SL_T_INT16: return sl_buf_adds(b, "smallint", err);
    case SL_T_INT32: return sl_buf_adds(b, "int", err);
    case SL_T_INT64: return sl_buf_adds(b, "bigint", err);
    case SL_T_UINT64: return sl_buf_adds(b, "bigint unsigned", err);
    case SL_T_FLOAT32: return sl_buf_adds(b, "float", err);
    case SL_T_FLOAT64: return sl_buf_adds(b, "double", err);
    case SL_T_DECIMAL:
    case SL_T_MONEY:
        decimal_bounds(t, c, &p, &s);
        return sl_buf_printf(b, err, "decimal(%d,%d)", p, s);
    case SL_T_TEXT:
        if (width < 0)
            return sl_buf_printf(b, err, "char(%d)" UTF8_BIN, c->length);
        return varying(b, width, "varchar", "longtext", UTF8_BIN, err);
    case SL_T_ARRAY:
    case SL_T_TSVECTOR:
        return varying(b, width, "varchar", "longtext", UTF8_BIN, err);
    case SL_T_BYTES:
        if (width < 0)
            return sl_buf_printf(b, err, "binary(%d)", c->length);
        return varying(b, width, "varbinary", "longblob", "", err);
    case SL_T_DATE: return sl_buf_adds(b, "date", err);
    case SL_T_TIME: return sl_buf_printf(b, err, "time(%d)", fsp(c));
    case SL_T_TIMETZ: return sl_buf_adds(b, "varchar(32)" ASCII_BIN, err);
    case SL_T_TIMESTAMP:
    case SL_T_TIMESTAMPTZ: return sl_buf_printf(b, err, "datetime(%d)", fsp(c));
    case SL_T_INTERVAL: return sl_buf_adds(b, "varchar(64)" ASCII_BIN, err);
    case SL_T_JSON: return sl_buf_adds(b, "json", err);
    case SL_T_UUID: return sl_buf_adds(b, "char(36)" ASCII_BIN, err);
    case SL_T_ENUM:
        if (enum_text_width(c))
            return sl_buf_printf(b, err, "varchar(%d)" UTF8_BIN, enum_text_width(c));
        return add_labels(b, "enum", c, err);
    case SL_T_SET: return add_labels(b, "set", c, err);
    case SL_T_BIT:
        if (width < 0)
            return sl_buf_printf(b, err, "bit(%d)", c->length);
        return varying(b, width, "varchar", "longtext", ASCII_BIN, err);
    case SL_T_GEOMETRY: return sl_buf_adds(b, "geometry", err);
    case SL_T_NET: return sl_buf_adds(b, "varchar(64)" ASCII_BIN, err);
    default:
        sl_err_set(err, SL_E_SCHEMA, "column \"%s\" of table \"%s\" has a type MySQL cannot hold (%s)",
                   c->name, t->name, c->native ? c->native : sl_type_name(c->type));
        sl_err_hint(err, "leave the table out of the stream");
        return -1;
    }
}

int sl_mysql_index_prefix(const sl_table_t *t, const sl_column_t *c, int width, int ncols)
{
    int unit = width_unit(c);
    if (sl_mysql_same_engine(t) || !unit || width < 0)
        return 0;
    int budget = SL_MYSQL_MAX_KEY_BYTES / (ncols > 0 ? ncols : 1);
    if (width > 0 && width * unit <= budget)
        return 0;
    return budget / unit;
}

/* ---- values ---------------------------------------------------------------- */

static bool eq(const char *p, size_t n, const char *s)
{
    return n == strlen(s) && memcmp(p, s, n) == 0;
}

static int refuse(char *why, size_t whylen, const char *fmt, const char *p, size_t n)
{
    snprintf(why, whylen, fmt, (int)(n > 80 ? 80 : n), p);
    return 1;
}

/* Dates MySQL cannot hold: infinities, BC, and years past 9999. */
static int check_date(const char *p, size_t n, char *why, size_t whylen)
{
    if (eq(p, n, "infinity") || eq(p, n, "-infinity"))
        return refuse(why, whylen, "MySQL has no \"%.*s\" date", p, n);
    if (n >= 3 && memcmp(p + n - 3, " BC", 3) == 0)
        return refuse(why, whylen, "MySQL cannot store the BC date \"%.*s\"", p, n);
    size_t y = strspn(p, "0123456789");
    if (y != 4 || n < 10)
        return refuse(why, whylen, "\"%.*s\" is outside MySQL's date range (years 1 to 9999)", p, n);
    return 0;
}

static int decimal_literal(sl_buf_t *b, const sl_table_t *t, const sl_column_t *c, const char *p,
                           size_t n, char *why, size_t whylen, sl_err_t *err)
{
    if (eq(p, n, "NaN"))
        return refuse(why, whylen, "MySQL decimals have no %.*s", p, n);
    if (!sl_mysql_is_plain_decimal(p, n))
        return refuse(why, whylen, "\"%.*s\" is not a plain decimal number", p, n);
    int prec, scale, id, fd;
    decimal_bounds(t, c, &prec, &scale);
    sl_mysql_decimal_digits(p, n, &id, &fd);
    /* MySQL rounds extra fraction digits without an error even in strict mode. */
    if (id > prec - scale || fd > scale) {
        snprintf(why, whylen,
                 "%.*s has %d integer and %d fraction digits; decimal(%d,%d) would round or "
                 "refuse it", (int)(n > 80 ? 80 : n), p, id, fd, prec, scale);
        return 1;
    }
    return sl_buf_add(b, p, n, err);
}

/* The shortest text of a float can lie just outside the float range when read as a
 * double ("3.4028235e+38" > FLT_MAX), and MySQL range-checks the double before
 * rounding it to FLOAT: write the float's exact value instead. */
static int float32_literal(sl_buf_t *b, const char *p, size_t n, char *why, size_t whylen,
                           sl_err_t *err)
{
    char tmp[64];
    if (n >= sizeof tmp)
        return refuse(why, whylen, "\"%.*s\" is not a number", p, n);
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    float f = strtof(tmp, NULL);
    if (isinf(f))
        return refuse(why, whylen, "%.*s is outside the FLOAT range", p, n);
    return sl_buf_printf(b, err, "%.16e", (double)f /* 17 digits, always an exponent */) ? -1 : 0;
}

int sl_mysql_literal(sl_buf_t *b, const sl_table_t *t, const sl_column_t *c, const char *p,
                     size_t n, char *why, size_t whylen, sl_err_t *err)
{
    int rc;
    if (c->cast) /* the canonical text, which the server converts to the cast type */
        return sl_type_is_binary(c->type) ? sl_mysql_add_hex(b, p, n, err) : sl_mysql_add_string(b, p, n, err);
    if (sl_mysql_array_json(t, c)) {
        sl_buf_t j;
        sl_buf_init(&j, b->max);
        rc = sl_array_json(p, n, c->elem, &j, why, whylen, err);
        if (rc == 0)
            rc = sl_mysql_add_string(b, j.data ? j.data : "", j.len, err);
        sl_buf_free(&j);
        return rc;
    }
    switch (c->type) {
    case SL_T_BOOL:
        if (eq(p, n, "t") || eq(p, n, "true") || eq(p, n, "1"))
            return sl_buf_addc(b, '1', err);
        if (eq(p, n, "f") || eq(p, n, "false") || eq(p, n, "0"))
            return sl_buf_addc(b, '0', err);
        return refuse(why, whylen, "\"%.*s\" is not a boolean", p, n);
    case SL_T_INT16: case SL_T_INT32: case SL_T_INT64: case SL_T_UINT64:
        if (!sl_mysql_is_integer(p, n))
            return refuse(why, whylen, "\"%.*s\" is not an integer", p, n);
        return sl_buf_add(b, p, n, err);
    case SL_T_FLOAT32: case SL_T_FLOAT64:
        if (eq(p, n, "NaN") || eq(p, n, "Infinity") || eq(p, n, "-Infinity"))
            return refuse(why, whylen, "MySQL floating-point columns cannot store %.*s", p, n);
        if (!sl_mysql_is_float(p, n))
            return refuse(why, whylen, "\"%.*s\" is not a number", p, n);
        if (c->type == SL_T_FLOAT32)
            return float32_literal(b, p, n, why, whylen, err);
        /* An exponent makes the server parse a double (exactly rounded), not a
         * decimal that is then converted. */
        if (sl_buf_add(b, p, n, err))
            return -1;
        return memchr(p, 'e', n) || memchr(p, 'E', n) ? 0 : sl_buf_adds(b, "e0", err);
    case SL_T_DECIMAL: case SL_T_MONEY:
        return decimal_literal(b, t, c, p, n, why, whylen, err);
    /* `_binary x'..'`, not a bare x'..': a bare hex literal is a hybrid of number and
     * string, and MariaDB 10.11 types it in a derived table (the grouped UPDATE's
     * JOIN (SELECT .. UNION ALL ..)) as a BLOB whose length wraps at 64 KB, silently
     * storing length mod 65536; beside a geometry column the server crashed instead. */
    case SL_T_BYTES:
        return sl_buf_adds(b, "_binary ", err) || sl_mysql_add_hex(b, p, n, err);
    case SL_T_GEOMETRY:
        if (sl_buf_adds(b, "ST_GeomFromWKB(_binary ", err) || sl_mysql_add_hex(b, p, n, err) ||
            sl_buf_addc(b, ')', err))
            return -1;
        return 0;
    case SL_T_DATE:
    case SL_T_TIMESTAMP:
        if ((rc = check_date(p, n, why, whylen)) != 0)
            return rc;
        return sl_mysql_add_string(b, p, n, err);
    case SL_T_TIMESTAMPTZ:
        if ((rc = check_date(p, n, why, whylen)) != 0)
            return rc;
        /* Canonical TIMESTAMPTZ is UTC; the DATETIME column holds the UTC time. */
        if (n > 6 && memcmp(p + n - 6, "+00:00", 6) == 0)
            n -= 6;
        else if (n > 3 && memcmp(p + n - 3, "+00", 3) == 0)
            n -= 3;
        else
            return refuse(why, whylen, "\"%.*s\" is not in UTC", p, n);
        return sl_mysql_add_string(b, p, n, err);
    case SL_T_BIT:
        if (strspn(p, "01") < n)
            return refuse(why, whylen, "\"%.*s\" is not a bit string", p, n);
        if (!c->fixed || c->length < 1 || c->length > 64)
            return sl_mysql_add_string(b, p, n, err);
        if (sl_buf_adds(b, "b'", err) || sl_buf_add(b, p, n, err) || sl_buf_addc(b, '\'', err))
            return -1;
        return 0;
    case SL_T_TEXT: case SL_T_JSON: case SL_T_UUID: case SL_T_ENUM: case SL_T_SET:
    case SL_T_TIME: case SL_T_TIMETZ: case SL_T_INTERVAL: case SL_T_ARRAY: case SL_T_NET:
    case SL_T_TSVECTOR:
        return sl_mysql_add_string(b, p, n, err);
    default:
        snprintf(why, whylen, "the column's type (%s) cannot be written to MySQL",
                 sl_type_name(c->type));
        return 1;
    }
}

/* Types whose values sl_mysql_literal may refuse (the others are written as they are). */
static bool may_refuse(const sl_table_t *t, const sl_column_t *c)
{
    if (c->cast)
        return false;
    switch (c->type) {
    case SL_T_BOOL: case SL_T_INT16: case SL_T_INT32: case SL_T_INT64: case SL_T_UINT64:
    case SL_T_FLOAT32: case SL_T_FLOAT64: case SL_T_DECIMAL: case SL_T_MONEY: case SL_T_DATE:
    case SL_T_TIMESTAMP: case SL_T_TIMESTAMPTZ: case SL_T_BIT:
        return true;
    case SL_T_ARRAY:
        return sl_mysql_array_json(t, c);
    default:
        return false;
    }
}

/* The type that stores the text of a value MariaDB's own type refuses. */
static const char *carrier(const sl_column_t *c)
{
    switch (c->type) {
    case SL_T_FLOAT32: case SL_T_FLOAT64: case SL_T_DECIMAL: case SL_T_MONEY:
        return "varchar(64)";
    case SL_T_DATE: case SL_T_TIMESTAMP: case SL_T_TIMESTAMPTZ:
        return "varchar(40)";
    case SL_T_ARRAY:
        return "longtext";
    default:
        return NULL;
    }
}

int sl_mysql_refuses(const sl_table_t *t, const sl_column_t *c, const sl_value_t *v, sl_refusal_t *r)
{
    if (v->len < 0 || !may_refuse(t, c))
        return 0;
    sl_buf_t b;
    sl_buf_init(&b, (size_t)v->len * 2 + 256);
    sl_err_t err = {0};
    int rc = sl_mysql_literal(&b, t, c, v->p, (size_t)v->len, r->why, sizeof r->why, &err);
    sl_buf_free(&b);
    if (rc < 0)
        snprintf(r->why, sizeof r->why, "%s", err.message);
    r->cast = rc ? carrier(c) : NULL;
    return rc ? 1 : 0;
}

int sl_mysql_may_refuse(const sl_table_t *t, const sl_column_t *c, sl_refusal_t *r)
{
    if (!may_refuse(t, c) || sl_mysql_same_engine(t))
        return 0;
    int p, sc;
    switch (c->type) {
    case SL_T_FLOAT32: case SL_T_FLOAT64:
        snprintf(r->why, sizeof r->why, "NaN, Infinity and -Infinity cannot be stored in a MariaDB %s",
                 c->type == SL_T_FLOAT32 ? "float" : "double");
        break;
    case SL_T_DECIMAL: case SL_T_MONEY:
        decimal_bounds(t, c, &p, &sc);
        snprintf(r->why, sizeof r->why, "NaN, and numbers with more digits than decimal(%d,%d) holds, cannot be stored",
                 p, sc);
        break;
    case SL_T_DATE: case SL_T_TIMESTAMP: case SL_T_TIMESTAMPTZ:
        snprintf(r->why, sizeof r->why, "infinity, -infinity, BC dates and years past 9999 cannot be stored");
        break;
    case SL_T_ARRAY:
        snprintf(r->why, sizeof r->why, "arrays holding NaN or Infinity, or with explicit bounds, are no JSON arrays");
        break;
    default:
        return 0;
    }
    r->cast = carrier(c);
    return 1;
}
