/*
 * filter_value.c: canonical values (model/types.h) as the filter compares them: exact
 * decimal order on text, doubles, instants in µs, signed times, code point order on
 * UTF-8, and SQL LIKE. Pure.
 *
 * The orders are PostgreSQL's where the engines could differ only on values MariaDB
 * cannot hold: numeric and float NaN equal themselves and sort above everything,
 * infinities at the ends. Date and timestamp text is read with the canonical parsers of
 * target/fmt (value.c), extended here with PostgreSQL's " BC" suffix.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter/filter_int.h"
#include "target/fmt/fmt_int.h"

#define US_PER_DAY INT64_C(86400000000)
/* 12 Gregorian cycles of 400 years: shifts BC years (PostgreSQL goes back to 4713 BC)
 * into the positive years the canonical parsers read. */
#define BC_SHIFT_YEARS 4800
#define BC_SHIFT_DAYS (INT64_C(12) * 146097)

cls_t sl_filter_type_cls(sl_type_t t)
{
    switch (t) {
    case SL_T_BOOL: return CLS_BOOL;
    case SL_T_INT16: case SL_T_INT32: case SL_T_INT64: case SL_T_UINT64:
    case SL_T_DECIMAL: case SL_T_MONEY: return CLS_EXACT;
    case SL_T_FLOAT32: case SL_T_FLOAT64: return CLS_FLOAT;
    case SL_T_TEXT: case SL_T_ENUM: case SL_T_SET: case SL_T_UUID: return CLS_TEXT;
    case SL_T_DATE: case SL_T_TIMESTAMP: case SL_T_TIMESTAMPTZ: return CLS_INSTANT;
    case SL_T_TIME: return CLS_TIME;
    default: return CLS_NONE;
    }
}

static bool eq(const char *p, size_t n, const char *s)
{
    return n == strlen(s) && memcmp(p, s, n) == 0;
}

/* ---- exact numbers ------------------------------------------------------------------ */

#define DEC_INVALID (-9)

/* Rank of a decimal text: -2 -Infinity, 0 finite, 2 Infinity, 3 NaN; DEC_INVALID. */
static int dec_rank(const char *p, size_t n)
{
    if (eq(p, n, "NaN"))
        return 3;
    if (eq(p, n, "Infinity"))
        return 2;
    if (eq(p, n, "-Infinity"))
        return -2;
    size_t i = n && p[0] == '-';
    size_t digits = 0, dots = 0;
    for (; i < n; i++) {
        if (p[i] >= '0' && p[i] <= '9')
            digits++;
        else if (p[i] == '.' && !dots)
            dots++;
        else
            return DEC_INVALID;
    }
    return digits ? 0 : DEC_INVALID;
}

bool sl_filter_is_decimal(const char *p, size_t n)
{
    return dec_rank(p, n) != DEC_INVALID;
}

/* A finite decimal split into sign, integer digits without leading zeros and fraction
 * digits without trailing zeros. */
typedef struct dparts {
    int sign; /* -1, 0, 1 */
    const char *ip, *fp;
    size_t in, fn;
} dparts_t;

static void dec_split(const char *p, size_t n, dparts_t *d)
{
    bool neg = n && p[0] == '-';
    size_t i = neg;
    while (i < n && p[i] == '0')
        i++;
    d->ip = p + i;
    while (i < n && p[i] != '.')
        i++;
    d->in = (size_t)(p + i - d->ip);
    d->fp = p + (i < n ? i + 1 : n);
    d->fn = (size_t)(p + n - d->fp);
    while (d->fn && d->fp[d->fn - 1] == '0')
        d->fn--;
    d->sign = d->in || d->fn ? (neg ? -1 : 1) : 0;
}

static int dec_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int ra = dec_rank(a, an), rb = dec_rank(b, bn);
    if (ra || rb)
        return ra != rb ? (ra < rb ? -1 : 1) : 0;
    dparts_t x, y;
    dec_split(a, an, &x);
    dec_split(b, bn, &y);
    if (x.sign != y.sign)
        return x.sign < y.sign ? -1 : 1;
    int mag;
    if (x.in != y.in) {
        mag = x.in < y.in ? -1 : 1;
    } else {
        mag = memcmp(x.ip, y.ip, x.in);
        if (!mag) {
            size_t m = x.fn < y.fn ? x.fn : y.fn;
            mag = memcmp(x.fp, y.fp, m);
            if (!mag && x.fn != y.fn)
                mag = x.fn < y.fn ? -1 : 1;
        }
        mag = mag < 0 ? -1 : mag > 0;
    }
    return x.sign < 0 ? -mag : mag;
}

/* ---- floats ---------------------------------------------------------------------- */

static int read_double(sl_type_t t, const char *p, size_t n, double *out)
{
    char small[128];
    char *s = n < sizeof small ? small : malloc(n + 1);
    if (!s)
        return -1;
    memcpy(s, p, n);
    s[n] = '\0';
    char *end;
    int rc = 0;
    if (t == SL_T_FLOAT32)
        *out = (double)strtof(s, &end);
    else
        *out = strtod(s, &end);
    /* Only the canonical spellings of the special values (strtod also takes "inf",
     * "nan(...)" and hexadecimal). */
    size_t k = n && (p[0] == '-' || p[0] == '+');
    bool word = k < n && (p[k] | 0x20) >= 'a' && (p[k] | 0x20) <= 'z';
    if (n == 0 || *end != '\0' || memchr(p, 'x', n) || memchr(p, 'X', n) ||
        (word && !eq(p, n, "NaN") && !eq(p, n, "Infinity") && !eq(p, n, "-Infinity")))
        rc = -1;
    if (s != small)
        free(s);
    return rc;
}

static int dbl_cmp(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b) ? 0 : isnan(a) ? 1 : -1;
    return a < b ? -1 : a > b;
}

/* ---- dates and times ----------------------------------------------------------- */

int sl_filter_instant(const char *p, size_t n, int64_t *us, bool *with_time, bool *zoned)
{
    int inf = 0;
    *with_time = false;
    *zoned = false;
    if (eq(p, n, "infinity") || eq(p, n, "-infinity")) {
        *us = p[0] == '-' ? INT64_MIN : INT64_MAX;
        return 0;
    }
    char tmp[64], hm[64];
    /* "yyyy-mm-dd hh:mm" as people write it: seconds 00. */
    size_t t = 0;
    while (t < n && p[t] != ' ' && p[t] != 'T')
        t++;
    if (t + 6 <= n && n < sizeof hm - 3 && p[t + 3] == ':' &&
        (t + 6 == n || p[t + 6] == '+' || p[t + 6] == '-' || p[t + 6] == ' ' || p[t + 6] == 'Z')) {
        snprintf(hm, sizeof hm, "%.*s:00%.*s", (int)(t + 6), p, (int)(n - t - 6), p + t + 6);
        p = hm;
        n += 3;
    }
    bool bc = n > 3 && memcmp(p + n - 3, " BC", 3) == 0;
    if (bc) {
        /* Year y BC is astronomical year 1 - y; shift it by whole 400-year cycles. */
        size_t y = 0;
        while (y < n && p[y] >= '0' && p[y] <= '9')
            y++;
        if (y < 4 || y > 4 || n - 3 - y + 8 > sizeof tmp)
            return -1;
        int year = atoi(p) /* 4 digits, checked */;
        if (year < 1 || year > BC_SHIFT_YEARS)
            return -1;
        int shifted = 1 - year + BC_SHIFT_YEARS;
        int k = snprintf(tmp, sizeof tmp, "%04d%.*s", shifted, (int)(n - 3 - y), p + y);
        p = tmp;
        n = (size_t)k;
    }
    int32_t days;
    int64_t v;
    if (sl_fmtv_date(p, n, &days, &inf) == 0 && !inf) {
        v = days * US_PER_DAY;
    } else if (sl_fmtv_timestamp(p, n, &v, &inf) == 0 && !inf) {
        *with_time = true;
        for (size_t i = 10; i < n; i++)
            if (p[i] == '+' || p[i] == 'Z' || (p[i] == '-' && i > 12))
                *zoned = true;
    } else {
        return -1;
    }
    if (bc)
        v -= BC_SHIFT_DAYS * US_PER_DAY;
    *us = v;
    return 0;
}

int sl_filter_time(const char *p, size_t n, int64_t *us)
{
    /* [-]H..H (up to 838 for MariaDB) then :MM[:SS[.ffffff]]; minutes, seconds and the
     * fraction are read by the canonical parser on hour 00. */
    bool neg = n && p[0] == '-';
    size_t i = neg, hd = 0;
    int64_t h = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9' && hd < 4) {
        h = h * 10 + (p[i++] - '0');
        hd++;
    }
    char tmp[40];
    if (hd < 2 || i >= n || p[i] != ':' || n - i > 20)
        return -1;
    int k = snprintf(tmp, sizeof tmp, "00%.*s%s", (int)(n - i), p + i, n - i == 3 ? ":00" : "");
    int64_t rest;
    if (sl_fmtv_time(tmp, (size_t)k, &rest) || rest >= INT64_C(3600000000))
        return -1;
    int64_t t = h * INT64_C(3600000000) + rest;
    *us = neg ? -t : t;
    return 0;
}

const char *sl_filter_instant_text(int64_t us, bool with_time, const char *zone, char *buf,
                                   size_t size)
{
    if (us == INT64_MAX || us == INT64_MIN) {
        snprintf(buf, size, "%sinfinity", us == INT64_MIN ? "-" : "");
        return buf;
    }
    int64_t days = us / US_PER_DAY, rest = us % US_PER_DAY;
    if (rest < 0) {
        rest += US_PER_DAY;
        days--;
    }
    int64_t y;
    int m, d;
    sl_fmtv_civil(days, &y, &m, &d);
    bool bc = y <= 0;
    int n = snprintf(buf, size, "%04lld-%02d-%02d", (long long)(bc ? 1 - y : y), m, d);
    if (with_time && n > 0 && (size_t)n < size) {
        int64_t s = rest / 1000000, f = rest % 1000000;
        n += snprintf(buf + n, size - (size_t)n, " %02d:%02d:%02d", (int)(s / 3600),
                      (int)(s / 60 % 60), (int)(s % 60));
        if (f && (size_t)n < size)
            n += snprintf(buf + n, size - (size_t)n, ".%06d", (int)f);
    }
    if (with_time && zone && n > 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, "%s", zone);
    if (bc && n > 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, " BC");
    return buf;
}

const char *sl_filter_time_text(int64_t us, char *buf, size_t size)
{
    uint64_t a = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
    uint64_t s = a / 1000000, f = a % 1000000;
    int n = snprintf(buf, size, "%s%02llu:%02llu:%02llu", us < 0 ? "-" : "",
                     (unsigned long long)(s / 3600), (unsigned long long)(s / 60 % 60),
                     (unsigned long long)(s % 60));
    if (f && n > 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, ".%06llu", (unsigned long long)f);
    return buf;
}

/* ---- reading and comparing ------------------------------------------------------ */

int sl_filter_read(sl_type_t t, cls_t c, const char *p, size_t n, fval_t *out)
{
    memset(out, 0, sizeof *out);
    bool wt, zoned;
    switch (c) {
    case CLS_EXACT:
        out->s = p;
        out->n = n;
        return sl_filter_is_decimal(p, n) ? 0 : -1;
    case CLS_FLOAT:
        return read_double(t, p, n, &out->d);
    case CLS_TEXT:
        out->s = p;
        out->n = n;
        return 0;
    case CLS_BOOL:
        if (n != 1 || (p[0] != 't' && p[0] != 'f'))
            return -1;
        out->i = p[0] == 't';
        return 0;
    case CLS_INSTANT:
        return sl_filter_instant(p, n, &out->i, &wt, &zoned);
    case CLS_TIME:
        return sl_filter_time(p, n, &out->i);
    default:
        return -1;
    }
}

int sl_filter_cmp(cls_t c, const fval_t *a, const fval_t *b)
{
    switch (c) {
    case CLS_EXACT:
        return dec_cmp(a->s, a->n, b->s, b->n);
    case CLS_FLOAT:
        return dbl_cmp(a->d, b->d);
    case CLS_TEXT: {
        size_t m = a->n < b->n ? a->n : b->n;
        int r = m ? memcmp(a->s, b->s, m) : 0;
        if (r)
            return r < 0 ? -1 : 1;
        return a->n < b->n ? -1 : a->n > b->n;
    }
    default:
        return a->i < b->i ? -1 : a->i > b->i;
    }
}

/* ---- LIKE ------------------------------------------------------------------------ */

/* Bytes of the UTF-8 character at s[0] (1 for a stray byte), at most n. */
static size_t u8len(const char *s, size_t n)
{
    unsigned char c = (unsigned char)s[0];
    size_t k = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    return k > n ? n : k;
}

bool sl_filter_like(const char *s, size_t n, const char *pat, size_t pn)
{
    size_t i = 0, j = 0, star_j = 0, star_i = 0;
    bool star = false;
    while (i < n) {
        if (j < pn && pat[j] == '%') {
            star = true;
            star_j = ++j;
            star_i = i;
            continue;
        }
        if (j < pn && pat[j] == '_') {
            i += u8len(s + i, n - i);
            j++;
            continue;
        }
        if (j < pn) {
            size_t pj = j + (pat[j] == '\\' && j + 1 < pn);
            size_t k = u8len(pat + pj, pn - pj);
            if (n - i >= k && memcmp(s + i, pat + pj, k) == 0) {
                i += k;
                j = pj + k;
                continue;
            }
        }
        if (!star)
            return false;
        star_i += u8len(s + star_i, n - star_i);
        i = star_i;
        j = star_j;
    }
    while (j < pn && pat[j] == '%')
        j++;
    return j == pn;
}
