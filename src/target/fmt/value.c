/*
 * value.c: parses the canonical text forms of model/types.h into the binary values that
 * Parquet stores (and that CSV/JSONL validate or reshape). Pure functions, no allocation
 * except a stack copy for strtod; see fmt_int.h for the contracts.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/fmt/fmt_int.h"
#include "core/hex.h"

static bool eq(const char *p, size_t n, const char *s)
{
    size_t k = strlen(s);
    return n == k && memcmp(p, s, k) == 0;
}

int sl_fmtv_u64(const char *p, size_t n, uint64_t *out)
{
    if (n == 0 || n > 20)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int sl_fmtv_i64(const char *p, size_t n, int64_t *out)
{
    bool neg = n > 0 && p[0] == '-';
    uint64_t u;
    if (sl_fmtv_u64(p + neg, n - neg, &u) < 0)
        return -1;
    if (neg) {
        if (u > (uint64_t)INT64_MAX + 1)
            return -1;
        *out = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
    } else {
        if (u > (uint64_t)INT64_MAX)
            return -1;
        *out = (int64_t)u;
    }
    return 0;
}

int sl_fmtv_f64(const char *p, size_t n, double *out)
{
    if (eq(p, n, "NaN")) {
        *out = NAN;
        return 0;
    }
    if (eq(p, n, "Infinity")) {
        *out = INFINITY;
        return 0;
    }
    if (eq(p, n, "-Infinity")) {
        *out = -INFINITY;
        return 0;
    }
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    for (size_t i = 0; i < n; i++) /* strtod would also take "inf", hex, spaces */
        if (!isdigit((unsigned char)p[i]) && !strchr("+-.eE", p[i]))
            return -1;
    memcpy(tmp, p, n);
    tmp[n] = 0;
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    if (end != tmp + n || (errno == ERANGE && isinf(v)))
        return -1;
    *out = v;
    return 0;
}

int sl_fmtv_bool(const char *p, size_t n, bool *out)
{
    if (eq(p, n, "t") || eq(p, n, "true") || eq(p, n, "1"))
        *out = true;
    else if (eq(p, n, "f") || eq(p, n, "false") || eq(p, n, "0"))
        *out = false;
    else
        return -1;
    return 0;
}

/* Reads exactly k digits at p. */
static int digits(const char *p, int k, int *out)
{
    int v = 0;
    for (int i = 0; i < k; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days from civil (H. Hinnant's algorithm), proleptic Gregorian. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void sl_fmtv_civil(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int infinity(const char *p, size_t n, int *inf)
{
    *inf = eq(p, n, "infinity") ? 1 : eq(p, n, "-infinity") ? -1 : 0;
    return *inf;
}

/* Whether p[0..*n) ends with PostgreSQL's " BC" (then cut off: *n shrinks). */
static bool strip_bc(const char *p, size_t *n)
{
    if (*n > 3 && memcmp(p + *n - 3, " BC", 3) == 0) {
        *n -= 3;
        return true;
    }
    return false;
}

/* "YYYY-MM-DD" at the start of p (years of 4 or more digits; bc: the year before 1 AD
 * counted as 1 BC, as PostgreSQL prints it); returns chars used. */
static int date_part(const char *p, size_t n, bool bc, int64_t *days)
{
    size_t i = 0;
    while (i < n && i < 7 && p[i] >= '0' && p[i] <= '9')
        i++;
    if (i < 4 || i + 6 > n || p[i] != '-' || p[i + 3] != '-')
        return -1;
    int y = 0, m, d;
    for (size_t k = 0; k < i; k++)
        y = y * 10 + (p[k] - '0');
    if (bc && y == 0)
        return -1;
    if (bc)
        y = 1 - y;
    if (digits(p + i + 1, 2, &m) < 0 || digits(p + i + 4, 2, &d) < 0)
        return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
        return -1;
    *days = days_from_civil(y, m, d);
    return (int)(i + 6);
}

int sl_fmtv_date(const char *p, size_t n, int32_t *days, int *inf)
{
    if (infinity(p, n, inf))
        return 0;
    int64_t dd;
    bool bc = strip_bc(p, &n);
    int k = date_part(p, n, bc, &dd);
    if (k < 0 || (size_t)k != n || dd < INT32_MIN || dd > INT32_MAX)
        return -1;
    *days = (int32_t)dd;
    return 0;
}

/* "HH:MM:SS[.f{1,6}]" at p; returns chars used, µs in *us. Hours 00..24. */
static int time_part(const char *p, size_t n, int64_t *us)
{
    int h, mi, s;
    if (n < 8 || p[2] != ':' || p[5] != ':' || digits(p, 2, &h) < 0 ||
        digits(p + 3, 2, &mi) < 0 || digits(p + 6, 2, &s) < 0 || mi > 59 || s > 59)
        return -1;
    size_t i = 8;
    int64_t frac = 0;
    if (i < n && p[i] == '.') {
        int k = 0;
        for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++, k++) {
            if (k >= 6)
                return -1;
            frac = frac * 10 + (p[i] - '0');
        }
        if (k == 0)
            return -1;
        for (; k < 6; k++)
            frac *= 10;
    }
    int64_t v = ((int64_t)h * 3600 + mi * 60 + s) * 1000000 + frac;
    if (v > INT64_C(86400000000))
        return -1;
    *us = v;
    return (int)i;
}

int sl_fmtv_time(const char *p, size_t n, int64_t *us)
{
    int k = time_part(p, n, us);
    return k < 0 || (size_t)k != n ? -1 : 0;
}

int sl_fmtv_timestamp(const char *p, size_t n, int64_t *us, int *inf)
{
    if (infinity(p, n, inf))
        return 0;
    int64_t days, t;
    bool bc = strip_bc(p, &n);
    int k = date_part(p, n, bc, &days);
    if (k < 0 || (size_t)k >= n || (p[k] != ' ' && p[k] != 'T'))
        return -1;
    size_t i = (size_t)k + 1;
    int tk = time_part(p + i, n - i, &t);
    if (tk < 0)
        return -1;
    i += (size_t)tk;
    int64_t off = 0;
    if (i < n && (p[i] == 'Z' && i + 1 == n)) {
        i++;
    } else if (i < n && (p[i] == '+' || p[i] == '-')) {
        int oh, om = 0, os = 0;
        if (i + 3 > n || digits(p + i + 1, 2, &oh) < 0)
            return -1;
        size_t j = i + 3;
        if (j < n && p[j] == ':') {
            if (j + 3 > n || digits(p + j + 1, 2, &om) < 0)
                return -1;
            j += 3;
            if (j < n && p[j] == ':') {
                if (j + 3 > n || digits(p + j + 1, 2, &os) < 0)
                    return -1;
                j += 3;
            }
        }
        off = ((int64_t)oh * 3600 + om * 60 + os) * 1000000 * (p[i] == '-' ? -1 : 1);
        i = j;
    }
    if (i != n)
        return -1;
    /* Years stay below 10^7, so this cannot overflow int64 (about ±292,000 years). */
    if (days > INT64_C(106000000) || days < INT64_C(-106000000))
        return -1;
    *us = days * INT64_C(86400000000) + t - off;
    return 0;
}

int sl_fmtv_uuid(const char *p, size_t n, uint8_t out[16])
{
    if (n != 36)
        return -1;
    int o = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (p[i++] != '-')
                return -1;
            continue;
        }
        int hi = sl_hex_value(p[i]), lo = sl_hex_value(p[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[o++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return 0;
}

int sl_fmtv_decimal(const char *p, size_t n, int scale, __int128 *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (p[i] == '-' || p[i] == '+'))
        neg = p[i++] == '-';
    unsigned __int128 v = 0;
    int ndig = 0, fdig = -1;
    bool any = false;
    for (; i < n; i++) {
        if (p[i] == '.') {
            if (fdig >= 0)
                return -1;
            fdig = 0;
            continue;
        }
        if (p[i] < '0' || p[i] > '9')
            return -1;
        any = true;
        if (fdig >= 0 && ++fdig > scale) {
            if (p[i] != '0') /* more digits than the scale: only zeros may be dropped */
                return -1;
            continue;
        }
        if (v == 0 && p[i] == '0')
            continue;
        if (++ndig > 38)
            return -1;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (!any)
        return -1;
    for (int k = fdig < 0 ? 0 : (fdig > scale ? scale : fdig); k < scale; k++) {
        if (++ndig > 38 && v != 0)
            return -1;
        v *= 10;
    }
    *out = neg ? -(__int128)v : (__int128)v;
    return 0;
}

int sl_fmtv_error(sl_err_t *err, const sl_table_t *t, int col, const sl_value_t *v,
                  const char *why)
{
    char tb[256];
    sl_err_set(err, SL_E_DATA, "invalid %s value for column \"%s\" of table %s",
               sl_type_name(t->columns[col].type), t->columns[col].name,
               sl_table_label(t, tb, sizeof tb));
    int n = v->len > 80 ? 80 : (int)v->len;
    if (sl_type_is_binary(t->columns[col].type))
        sl_err_detail(err, "%s (a binary value of %lld bytes)", why, (long long)v->len);
    else
        sl_err_detail(err, "%s: \"%.*s\"%s", why, n, v->p, v->len > 80 ? "..." : "");
    return -1;
}
