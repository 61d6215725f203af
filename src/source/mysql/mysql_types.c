/*
 * mysql_types.c: the pure half of the MariaDB/MySQL source: native column types to
 * canonical types (model/types.h), column defaults to canonical text, and scanned
 * values to canonical text. No server and no globals, so the unit tests drive
 * every corner (zero dates, BIT bytes, FLOAT digits, escaped enum labels).
 *
 * Lossy corners, documented in docs/type-mapping.md:
 *  - zero dates ('0000-00-00', a zero month or day, year 0) become NULL;
 *  - tinyint(1) / BOOL stays INT16: MySQL lets it hold -128..127, so mapping it to
 *    bool would lose values;
 *  - TIMESTAMP is read in the UTC session time zone and carried as TIMESTAMPTZ.
 */
#define _GNU_SOURCE /* strcasestr */
#include "source/mysql/mysql_source.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The numbers in the first parentheses of a COLUMN_TYPE: "decimal(10,2)" -> 10, 2. */
static int type_args(const char *column_type, int *a, int *b)
{
    *a = *b = -1;
    const char *p = strchr(column_type, '(');
    if (!p)
        return 0;
    char *end;
    long v = strtol(p + 1, &end, 10);
    if (end == p + 1)
        return 0;
    *a = (int)v;
    if (*end == ',') {
        v = strtol(end + 1, &end, 10);
        *b = (int)v;
        return 2;
    }
    return 1;
}

static bool has_word(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = s; (p = strcasestr(p, word)) != NULL; p += n) {
        bool start = p == s || !isalnum((unsigned char)p[-1]);
        bool end = !isalnum((unsigned char)p[n]);
        if (start && end)
            return true;
    }
    return false;
}

typedef struct typemap {
    const char *data_type;
    sl_type_t type;
    sl_type_t type_unsigned;
    int kind; /* what the type's arguments mean */
} typemap_t;

enum { ARG_NONE, ARG_LEN, ARG_FIXED, ARG_BITS, ARG_DEC, ARG_FSP, ARG_LABELS, ARG_UNBOUNDED };

static const typemap_t typemaps[] = {
    {"tinyint", SL_T_INT16, SL_T_INT16, ARG_NONE},
    {"smallint", SL_T_INT16, SL_T_INT32, ARG_NONE},
    {"mediumint", SL_T_INT32, SL_T_INT32, ARG_NONE},
    {"int", SL_T_INT32, SL_T_INT64, ARG_NONE},
    {"integer", SL_T_INT32, SL_T_INT64, ARG_NONE},
    {"bigint", SL_T_INT64, SL_T_UINT64, ARG_NONE},
    {"year", SL_T_INT16, SL_T_INT16, ARG_NONE},
    {"decimal", SL_T_DECIMAL, SL_T_DECIMAL, ARG_DEC},
    {"numeric", SL_T_DECIMAL, SL_T_DECIMAL, ARG_DEC},
    {"float", SL_T_FLOAT32, SL_T_FLOAT32, ARG_NONE},
    {"double", SL_T_FLOAT64, SL_T_FLOAT64, ARG_NONE},
    {"double precision", SL_T_FLOAT64, SL_T_FLOAT64, ARG_NONE},
    {"real", SL_T_FLOAT64, SL_T_FLOAT64, ARG_NONE},
    {"bit", SL_T_BIT, SL_T_BIT, ARG_BITS},
    {"char", SL_T_TEXT, SL_T_TEXT, ARG_FIXED},
    {"varchar", SL_T_TEXT, SL_T_TEXT, ARG_LEN},
    {"tinytext", SL_T_TEXT, SL_T_TEXT, ARG_UNBOUNDED},
    {"text", SL_T_TEXT, SL_T_TEXT, ARG_UNBOUNDED},
    {"mediumtext", SL_T_TEXT, SL_T_TEXT, ARG_UNBOUNDED},
    {"longtext", SL_T_TEXT, SL_T_TEXT, ARG_UNBOUNDED},
    {"binary", SL_T_BYTES, SL_T_BYTES, ARG_FIXED},
    {"varbinary", SL_T_BYTES, SL_T_BYTES, ARG_LEN},
    {"tinyblob", SL_T_BYTES, SL_T_BYTES, ARG_UNBOUNDED},
    {"blob", SL_T_BYTES, SL_T_BYTES, ARG_UNBOUNDED},
    {"mediumblob", SL_T_BYTES, SL_T_BYTES, ARG_UNBOUNDED},
    {"longblob", SL_T_BYTES, SL_T_BYTES, ARG_UNBOUNDED},
    {"date", SL_T_DATE, SL_T_DATE, ARG_NONE},
    {"time", SL_T_TIME, SL_T_TIME, ARG_FSP},
    {"datetime", SL_T_TIMESTAMP, SL_T_TIMESTAMP, ARG_FSP},
    {"timestamp", SL_T_TIMESTAMPTZ, SL_T_TIMESTAMPTZ, ARG_FSP},
    {"enum", SL_T_ENUM, SL_T_ENUM, ARG_LABELS},
    {"set", SL_T_SET, SL_T_SET, ARG_LABELS},
    {"json", SL_T_JSON, SL_T_JSON, ARG_NONE},
    {"uuid", SL_T_UUID, SL_T_UUID, ARG_NONE},  /* MariaDB 10.7+ */
    {"inet4", SL_T_NET, SL_T_NET, ARG_NONE},   /* MariaDB 10.10+ */
    {"inet6", SL_T_NET, SL_T_NET, ARG_NONE},
    {"geometry", SL_T_GEOMETRY, SL_T_GEOMETRY, ARG_NONE},
    {"point", SL_T_GEOMETRY, SL_T_GEOMETRY, ARG_NONE},
    {"linestring", SL_T_GEOMETRY, SL_T_GEOMETRY, ARG_NONE},
    {"polygon", SL_T_GEOMETRY, SL_T_GEOMETRY, ARG_NONE},
    {"multipoint", SL_T_GEOMETRY, SL_T_GEOMETRY, ARG_NONE},
    {"multilinestring", SL_T_GEOMETRY, SL_T_GEOMETRY, ARG_NONE},
    {"multipolygon", SL_T_GEOMETRY, SL_T_GEOMETRY, ARG_NONE},
    {"geometrycollection", SL_T_GEOMETRY, SL_T_GEOMETRY, ARG_NONE},
    {"geomcollection", SL_T_GEOMETRY, SL_T_GEOMETRY, ARG_NONE},
};

int sl_mysql_map_type(sl_column_t *col, const char *data_type, const char *column_type)
{
    const typemap_t *m = NULL;
    for (size_t i = 0; i < sizeof typemaps / sizeof typemaps[0]; i++) {
        if (strcasecmp(typemaps[i].data_type, data_type) == 0) {
            m = &typemaps[i];
            break;
        }
    }
    col->type = SL_T_UNKNOWN;
    if (!m)
        return -1;
    bool is_unsigned = has_word(column_type, "unsigned");
    col->type = is_unsigned ? m->type_unsigned : m->type;
    int a, b;
    type_args(column_type, &a, &b);
    switch (m->kind) {
    case ARG_LEN:
        col->length = a > 0 ? a : 0;
        break;
    case ARG_FIXED:
        col->length = a >= 0 ? a : 1; /* CHAR is CHAR(1) */
        col->fixed = true;
        break;
    case ARG_BITS:
        col->length = a > 0 ? a : 1;
        col->fixed = true;
        break;
    case ARG_DEC:
        /* DECIMAL alone is DECIMAL(10,0) in MySQL. */
        col->precision = a > 0 ? a : 10;
        col->scale = b >= 0 ? b : 0;
        break;
    case ARG_FSP:
        col->scale = a >= 0 ? a : 0; /* MySQL's default precision is 0, not "engine default" */
        break;
    case ARG_LABELS:
        if (sl_mysql_parse_labels(column_type, &col->labels, &col->nlabels))
            return -1;
        break;
    default:
        break;
    }
    return 0;
}

/* Reads one quoted SQL string at *pp (which points at the opening quote) into a new
 * string, honouring '' and backslash escapes; advances *pp past the closing quote.
 * *outlen gets the length (the value may hold NUL). NULL on malformed input. */
static char *read_quoted(const char **pp, size_t *outlen)
{
    const char *p = *pp;
    char q = *p++;
    char *out = malloc(strlen(p) + 1);
    size_t n = 0;
    if (!out)
        return NULL;
    for (;;) {
        char c = *p++;
        if (c == '\0') {
            free(out);
            return NULL;
        }
        if (c == q) {
            if (*p == q) {
                out[n++] = q;
                p++;
                continue;
            }
            break;
        }
        if (c == '\\' && *p) {
            c = *p++;
            switch (c) {
            case '0': c = '\0'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'b': c = '\b'; break;
            case 'Z': c = '\032'; break;
            default: break; /* \\ \' \" \% \_ and unknown: the character itself */
            }
        }
        out[n++] = c;
    }
    out[n] = '\0';
    *pp = p;
    if (outlen)
        *outlen = n;
    return out;
}

int sl_mysql_parse_labels(const char *column_type, char ***labels, int *n)
{
    *labels = NULL;
    *n = 0;
    const char *p = strchr(column_type, '(');
    if (!p)
        return -1;
    p++;
    char **v = NULL;
    int count = 0;
    while (*p == '\'') {
        char *s = read_quoted(&p, NULL);
        char **nv = s ? realloc(v, sizeof *v * (size_t)(count + 1)) : NULL;
        if (!nv) {
            free(s);
            goto bad;
        }
        v = nv;
        v[count++] = s;
        if (*p == ',')
            p++;
        else
            break;
    }
    if (*p != ')')
        goto bad;
    *labels = v;
    *n = count;
    return 0;
bad:
    for (int i = 0; i < count; i++)
        free(v[i]);
    free(v);
    return -1;
}

/* Parses b'0101' (or 0b0101) into '0'/'1' text padded on the left to col->length. */
static char *bit_default(const sl_column_t *col, const char *shown)
{
    const char *p = shown;
    if ((p[0] == 'b' || p[0] == 'B') && p[1] == '\'')
        p += 2;
    else if (p[0] == '0' && p[1] == 'b')
        p += 2;
    else
        return NULL;
    size_t nd = strspn(p, "01");
    if (nd > (size_t)col->length)
        return NULL;
    char *out = malloc((size_t)col->length + 1);
    if (!out)
        return NULL;
    size_t pad = (size_t)col->length - nd;
    memset(out, '0', pad);
    memcpy(out + pad, p, nd);
    out[col->length] = '\0';
    return out;
}

static bool looks_numeric(const char *s)
{
    return sl_mysql_is_float(s, strlen(s));
}

char *sl_mysql_parse_default(const sl_column_t *col, const char *shown, const char *extra,
                             bool mariadb)
{
    if (!shown || col->generated)
        return NULL;
    if (extra && strcasestr(extra, "DEFAULT_GENERATED"))
        return NULL; /* MySQL 8: an expression default */
    if (col->type == SL_T_BIT)
        return bit_default(col, shown);
    char *raw = NULL;
    size_t rawlen = 0;
    if (mariadb) {
        if (strcasecmp(shown, "NULL") == 0)
            return NULL;
        if (shown[0] == '\'') {
            const char *p = shown;
            raw = read_quoted(&p, &rawlen);
            if (!raw || *p != '\0') { /* 'a' || 'b' and the like are expressions */
                free(raw);
                return NULL;
            }
        } else if (looks_numeric(shown)) {
            raw = strdup(shown);
            rawlen = raw ? strlen(raw) : 0;
        } else {
            return NULL; /* current_timestamp(), (1 + 1), functions */
        }
    } else {
        /* MySQL before 8.0.13 marks no expression; CURRENT_TIMESTAMP is the only one. */
        if (strncasecmp(shown, "CURRENT_TIMESTAMP", 17) == 0)
            return NULL;
        raw = strdup(shown);
        rawlen = raw ? strlen(raw) : 0;
    }
    if (!raw)
        return NULL;
    if (memchr(raw, '\0', rawlen)) { /* a binary default with NUL: no C string form */
        free(raw);
        return NULL;
    }
    sl_mysql_vkind_t kind = sl_mysql_value_kind(col);
    if (kind == SL_MYV_PLAIN)
        return raw;
    char scratch[SL_MYV_SCRATCH];
    sl_value_t v;
    char *out = NULL;
    if (sl_mysql_canon_value(kind, col, raw, rawlen, scratch, &v) == 1) {
        out = malloc((size_t)v.len + 1);
        if (out) {
            memcpy(out, v.p, (size_t)v.len);
            out[v.len] = '\0';
        }
    }
    free(raw);
    return out;
}

sl_mysql_vkind_t sl_mysql_value_kind(const sl_column_t *col)
{
    switch (col->type) {
    case SL_T_FLOAT32:
        return SL_MYV_FLOAT32;
    case SL_T_DATE:
        return SL_MYV_DATE;
    case SL_T_TIMESTAMP:
        return SL_MYV_DATETIME;
    case SL_T_TIMESTAMPTZ:
        return SL_MYV_TSTZ;
    case SL_T_TIME:
        return SL_MYV_TIME;
    case SL_T_BIT:
        return SL_MYV_BIT;
    case SL_T_INT16:
        if (col->native && strncasecmp(col->native, "year", 4) == 0)
            return SL_MYV_YEAR;
        /* fallthrough */
    case SL_T_INT32:
    case SL_T_INT64:
    case SL_T_UINT64:
    case SL_T_DECIMAL:
    case SL_T_FLOAT64:
        if (col->native && has_word(col->native, "zerofill"))
            return SL_MYV_NUMPAD;
        return SL_MYV_PLAIN;
    default:
        return SL_MYV_PLAIN;
    }
}

/* Shortest text that reads back as the same float: MySQL prints FLOAT with 6
 * significant digits, so the scan reads CAST(c AS DOUBLE) (exact) and shortens here. */
static int float32_text(const char *p, size_t n, char *scratch, sl_value_t *out)
{
    char tmp[64];
    if (n >= sizeof tmp)
        return -1;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    char *end;
    float f = (float)strtod(tmp, &end);
    if (end == tmp || *end)
        return -1;
    int len = 0;
    for (int prec = 1; prec <= 9; prec++) {
        len = snprintf(scratch, SL_MYV_SCRATCH, "%.*g", prec, (double)f);
        if (strtof(scratch, NULL) == f)
            break;
    }
    out->p = scratch;
    out->len = len;
    return 1;
}

/* "-000123.50" -> "-123.50"; "0000" -> "0". */
static int strip_zeros(const char *p, size_t n, char *scratch, sl_value_t *out)
{
    size_t i = 0, o = 0;
    if (n + 1 > SL_MYV_SCRATCH)
        return -1;
    if (i < n && p[i] == '-')
        scratch[o++] = p[i++];
    while (i + 1 < n && p[i] == '0' && p[i + 1] != '.')
        i++;
    memcpy(scratch + o, p + i, n - i);
    out->p = scratch;
    out->len = (int64_t)(o + n - i);
    return 1;
}

int sl_mysql_canon_value(sl_mysql_vkind_t kind, const sl_column_t *col, const char *p,
                         size_t n, char *scratch, sl_value_t *out)
{
    out->p = p;
    out->len = (int64_t)n;
    switch (kind) {
    case SL_MYV_PLAIN:
        return 1;
    case SL_MYV_FLOAT32:
        return float32_text(p, n, scratch, out);
    case SL_MYV_NUMPAD:
    case SL_MYV_YEAR:
        return strip_zeros(p, n, scratch, out);
    case SL_MYV_DATE:
        return sl_mysql_is_zero_date(p, n) ? 0 : 1;
    case SL_MYV_DATETIME:
        if (sl_mysql_is_zero_date(p, n))
            return 0;
        out->len = (int64_t)sl_mysql_trim_fraction(p, n);
        return 1;
    case SL_MYV_TSTZ: {
        if (sl_mysql_is_zero_date(p, n))
            return 0;
        size_t len = sl_mysql_trim_fraction(p, n);
        if (len + 4 > SL_MYV_SCRATCH)
            return -1;
        memcpy(scratch, p, len);
        memcpy(scratch + len, "+00", 3);
        out->p = scratch;
        out->len = (int64_t)len + 3;
        return 1;
    }
    case SL_MYV_TIME:
        out->len = (int64_t)sl_mysql_trim_fraction(p, n);
        return 1;
    case SL_MYV_BIT:
        if (col->length + 1 > SL_MYV_SCRATCH ||
            sl_mysql_bits_to_text((const unsigned char *)p, n, col->length, scratch))
            return -1;
        out->p = scratch;
        out->len = col->length;
        return 1;
    }
    return -1;
}
