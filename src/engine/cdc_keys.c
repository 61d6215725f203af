/*
 * cdc_keys.c: primary keys of a table copied beside its change stream, in the order the
 * source reads the table (engine/cdc_copy.c: a change is above, inside or below the part
 * already copied). Keys travel as JSON arrays of canonical texts, as the load plan's
 * stripe bounds do (source.h sl_scan_t after_key), and compare value by value in the
 * order of the source's ORDER BY for the types whose order sluice can reproduce from the
 * canonical text (model/types.h):
 *
 *   integers          numerically (int64; BIGINT UNSIGNED as uint64)
 *   decimal           numerically, NaN above every number (PostgreSQL's order)
 *   bool              false < true
 *   uuid              by bytes (PostgreSQL compares the 16 bytes, canonical text is hex)
 *   text              by bytes: only for a binary collation, which the source checks
 *                     (source/cdc.h key_ordered); UTF-8 byte order is code point order
 *
 * Other key types (dates, enums, text in a linguistic collation) are copied in one piece.
 *
 * Pure: no I/O, no globals (fuzz/fuzz_cdc_keys.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/mem.h"
#include "engine/cdc_copy.h"

bool sl_cdc_key_type_ok(sl_type_t type)
{
    switch (type) {
    case SL_T_INT16: case SL_T_INT32: case SL_T_INT64: case SL_T_UINT64:
    case SL_T_DECIMAL: case SL_T_BOOL: case SL_T_UUID: case SL_T_TEXT:
        return true;
    default:
        return false;
    }
}

bool sl_cdc_key_orderable(const sl_table_t *t)
{
    int npk = sl_table_pk_count(t);
    for (int i = 0; i < npk; i++) {
        int c = sl_table_pk_col(t, i);
        if (c < 0 || !sl_cdc_key_type_ok(t->columns[c].type))
            return false;
    }
    return npk > 0;
}

void sl_cdc_key_free(sl_cdc_key_t *k)
{
    if (!k)
        return;
    for (int i = 0; i < k->n; i++)
        free((char *)k->v[i].p);
    free(k->v);
    memset(k, 0, sizeof *k);
}

int sl_cdc_key_parse(const char *json, int npk, sl_cdc_key_t *k)
{
    memset(k, 0, sizeof *k);
    json_error_t je;
    json_t *a = json ? json_loads(json, JSON_ALLOW_NUL, &je) : NULL;
    if (!json_is_array(a) || (int)json_array_size(a) != npk || npk <= 0) {
        json_decref(a);
        return -1;
    }
    k->v = calloc((size_t)npk, sizeof *k->v);
    if (!k->v)
        sl_oom();
    k->n = npk;
    for (int i = 0; i < npk; i++) {
        const json_t *e = json_array_get(a, (size_t)i);
        if (!json_is_string(e)) {
            json_decref(a);
            sl_cdc_key_free(k);
            return -1;
        }
        size_t n = json_string_length(e);
        char *p = malloc(n + 1);
        if (!p)
            sl_oom();
        memcpy(p, json_string_value(e), n + 1);
        k->v[i] = (sl_value_t){p, (int64_t)n};
    }
    json_decref(a);
    return 0;
}

char *sl_cdc_key_json(const sl_table_t *t, const sl_value_t *row)
{
    json_t *a = json_array();
    for (int i = 0; i < sl_table_pk_count(t); i++) {
        const sl_value_t *v = &row[sl_table_pk_col(t, i)];
        json_array_append_new(a, v->len >= 0 ? json_stringn(v->p, (size_t)v->len) : json_null());
    }
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    if (!s)
        sl_oom();
    return s;
}

char *sl_cdc_key_json_of(const sl_table_t *t, const sl_cdc_key_t *k)
{
    (void)t;
    json_t *a = json_array();
    for (int i = 0; i < k->n; i++)
        json_array_append_new(a, json_stringn(k->v[i].p, (size_t)k->v[i].len));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    if (!s)
        sl_oom();
    return s;
}

/* Text of v as a NUL-terminated string in buf (numbers are short). */
static const char *numtext(const sl_value_t *v, char *buf, size_t size)
{
    size_t n = v->len > 0 ? (size_t)v->len : 0;
    if (n >= size)
        n = size - 1;
    memcpy(buf, v->p, n);
    buf[n] = '\0';
    return buf;
}

static int cmp_int(const sl_value_t *a, const sl_value_t *b, bool is_unsigned)
{
    char x[32], y[32];
    if (is_unsigned) {
        unsigned long long p = strtoull(numtext(a, x, sizeof x), NULL, 10), q = strtoull(numtext(b, y, sizeof y), NULL, 10);
        return p < q ? -1 : p > q;
    }
    long long p = strtoll(numtext(a, x, sizeof x), NULL, 10), q = strtoll(numtext(b, y, sizeof y), NULL, 10);
    return p < q ? -1 : p > q;
}

static int cmp_bytes(const sl_value_t *a, const sl_value_t *b)
{
    size_t n = (size_t)(a->len < b->len ? a->len : b->len);
    int c = n ? memcmp(a->p, b->p, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* A canonical decimal: sign, integer digits without leading zeros, fraction digits
 * without trailing zeros. */
typedef struct dec {
    bool nan, neg;
    const char *ip, *fp;
    size_t in, fn;
} dec_t;

static void dec_split(const sl_value_t *v, dec_t *d)
{
    memset(d, 0, sizeof *d);
    const char *p = v->p, *end = v->p + (v->len > 0 ? v->len : 0);
    if (end - p == 3 && !memcmp(p, "NaN", 3)) {
        d->nan = true;
        return;
    }
    if (p < end && (*p == '-' || *p == '+'))
        d->neg = *p++ == '-';
    while (p < end && *p == '0')
        p++;
    d->ip = p;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    d->in = (size_t)(p - d->ip);
    if (p < end && *p == '.')
        p++;
    d->fp = p;
    const char *f = end;
    while (f > p && f[-1] == '0')
        f--;
    d->fn = (size_t)(f - p);
    if (!d->in && !d->fn)
        d->neg = false; /* -0 */
}

static int cmp_dec(const sl_value_t *a, const sl_value_t *b)
{
    dec_t x, y;
    dec_split(a, &x);
    dec_split(b, &y);
    if (x.nan || y.nan)
        return x.nan == y.nan ? 0 : x.nan ? 1 : -1;
    if (x.neg != y.neg)
        return x.neg ? -1 : 1;
    int s = x.neg ? -1 : 1, c;
    if (x.in != y.in)
        return x.in < y.in ? -s : s;
    if (x.in && (c = memcmp(x.ip, y.ip, x.in)))
        return c < 0 ? -s : s;
    size_t n = x.fn < y.fn ? x.fn : y.fn;
    if (n && (c = memcmp(x.fp, y.fp, n)))
        return c < 0 ? -s : s;
    return x.fn == y.fn ? 0 : x.fn < y.fn ? -s : s;
}

int sl_cdc_key_cmp_values(sl_type_t type, const sl_value_t *a, const sl_value_t *b)
{
    switch (type) {
    case SL_T_INT16: case SL_T_INT32: case SL_T_INT64:
        return cmp_int(a, b, false);
    case SL_T_UINT64:
        return cmp_int(a, b, true);
    case SL_T_DECIMAL:
        return cmp_dec(a, b);
    default:
        return cmp_bytes(a, b);
    }
}

int sl_cdc_key_cmp(const sl_table_t *t, const sl_value_t *row, const sl_cdc_key_t *k)
{
    for (int i = 0; i < k->n && i < sl_table_pk_count(t); i++) {
        int col = sl_table_pk_col(t, i);
        int c = sl_cdc_key_cmp_values(t->columns[col].type, &row[col], &k->v[i]);
        if (c)
            return c;
    }
    return 0;
}

int sl_cdc_key_cmp_keys(const sl_table_t *t, const sl_cdc_key_t *a, const sl_cdc_key_t *b)
{
    for (int i = 0; i < a->n && i < b->n && i < sl_table_pk_count(t); i++) {
        int c = sl_cdc_key_cmp_values(t->columns[sl_table_pk_col(t, i)].type, &a->v[i], &b->v[i]);
        if (c)
            return c;
    }
    return 0;
}
