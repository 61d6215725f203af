/*
 * normalize.c: see normalize.h.
 */
#include "engine/normalize.h"

#include <stdbool.h>

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/array.h"

/* Appends s[0..n) with the fractional-second digits' trailing zeros removed (and the
 * '.' when none remain). The fraction is the first '.' followed by digits. */
static int trim_fraction(const char *s, size_t n, sl_buf_t *out, sl_err_t *err)
{
    const char *dot = memchr(s, '.', n);
    if (!dot)
        return sl_buf_add(out, s, n, err);
    const char *d = dot + 1, *end = s + n;
    const char *q = d;
    while (q < end && isdigit((unsigned char)*q))
        q++;
    const char *last = q;
    while (last > d && last[-1] == '0')
        last--;
    if (sl_buf_add(out, s, (size_t)(last == d ? dot - s : last - s), err))
        return -1;
    return sl_buf_add(out, q, (size_t)(end - q), err);
}

static int norm_decimal(const char *s, size_t n, sl_buf_t *out, sl_err_t *err)
{
    char tmp[512];
    if (n >= sizeof tmp)
        return sl_buf_add(out, s, n, err);
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *p = tmp;
    if (*p == '+')
        p++;
    char *dot = strchr(p, '.');
    if (dot) {
        char *e = p + strlen(p);
        while (e > dot + 1 && e[-1] == '0')
            *--e = '\0';
        if (e == dot + 1)
            *dot = '\0';
    }
    if (strcmp(p, "-0") == 0)
        p++;
    return sl_buf_adds(out, p, err);
}

static int norm_float(const char *s, size_t n, bool single, sl_buf_t *out, sl_err_t *err)
{
    char tmp[128];
    if (n >= sizeof tmp)
        return sl_buf_add(out, s, n, err);
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    double d = strtod(tmp, NULL);
    if (isnan(d))
        return sl_buf_adds(out, "NaN", err);
    if (isinf(d))
        return sl_buf_adds(out, d > 0 ? "Infinity" : "-Infinity", err);
    if (d == 0) /* -0 and 0: MariaDB stores -0 as 0 (docs/type-mapping.md) */
        return sl_buf_addc(out, '0', err);
    if (single)
        return sl_buf_printf(out, err, "%.9g", (double)(float)d);
    return sl_buf_printf(out, err, "%.17g", d);
}

/* An interval as PostgreSQL prints it (IntervalStyle iso_8601: "P1Y2M3DT4H5M6.5S", each
 * field with its own sign) or as a duration "[-]HH:MM:SS[.ffffff]" (a MySQL TIME cast to
 * interval): into months, days and microseconds. Returns -1 when it is neither. */
static int parse_interval(const char *s, size_t n, long long *months, long long *days, long long *us)
{
    *months = *days = *us = 0;
    const char *e = s + n;
    if (n && s[0] != 'P') { /* [-]HH:MM:SS[.f] */
        bool neg = s[0] == '-';
        long long h = 0, m = 0, sec = 0, frac = 0;
        int fd = 0;
        const char *p = s + neg;
        if (sscanf(p, "%lld:%lld:%lld", &h, &m, &sec) != 3)
            return -1;
        const char *dot = memchr(p, '.', (size_t)(e - p));
        for (const char *q = dot ? dot + 1 : e; q < e && fd < 6; q++, fd++)
            frac = frac * 10 + (*q - '0');
        while (dot && fd++ < 6)
            frac *= 10;
        *us = ((h * 60 + m) * 60 + sec) * 1000000 + frac;
        if (neg)
            *us = -*us;
        return 0;
    }
    bool time = false;
    for (const char *p = s + 1; p < e;) {
        if (*p == 'T') {
            time = true;
            p++;
            continue;
        }
        char *end;
        double v = strtod(p, &end);
        if (end == p || end >= e)
            return -1;
        switch (*end) {
        case 'Y': *months += (long long)v * 12; break;
        case 'M': if (time) *us += llround(v * 60e6); else *months += (long long)v; break;
        case 'W': *days += (long long)v * 7; break;
        case 'D': *days += (long long)v; break;
        case 'H': *us += llround(v * 3600e6); break;
        case 'S': *us += llround(v * 1e6); break;
        default: return -1;
        }
        p = end + 1;
    }
    return 0;
}

int sl_value_normalize(const sl_column_t *col, const sl_value_t *v, sl_buf_t *out, sl_err_t *err)
{
    const char *s = v->p;
    size_t n = (size_t)v->len;
    switch (col->type) {
    case SL_T_BOOL: {
        /* Only the spellings of true and false fold: a TINYINT(1) target holding 2 must
         * not pass for false. */
        bool t = (n == 1 && (s[0] == 't' || s[0] == '1' || s[0] == 'y')) ||
                 (n == 4 && strncasecmp(s, "true", 4) == 0);
        bool f = (n == 1 && (s[0] == 'f' || s[0] == '0' || s[0] == 'n')) ||
                 (n == 5 && strncasecmp(s, "false", 5) == 0);
        if (t || f)
            return sl_buf_addc(out, t ? 't' : 'f', err);
        return sl_buf_add(out, s, n, err);
    }
    case SL_T_FLOAT32:
        return norm_float(s, n, true, out, err);
    case SL_T_FLOAT64:
        return norm_float(s, n, false, out, err);
    case SL_T_DECIMAL:
    case SL_T_MONEY:
        return norm_decimal(s, n, out, err);
    case SL_T_TEXT:
        if (col->fixed)
            while (n > 0 && s[n - 1] == ' ')
                n--;
        return sl_buf_add(out, s, n, err);
    case SL_T_TIME:
    case SL_T_TIMETZ:
    case SL_T_TIMESTAMP:
        return trim_fraction(s, n, out, err);
    case SL_T_TIMESTAMPTZ: {
        if ((n == 8 && memcmp(s, "infinity", 8) == 0) || (n == 9 && memcmp(s, "-infinity", 9) == 0))
            return sl_buf_add(out, s, n, err);
        /* drop a "+00" / "+00:00" suffix, then add "+00" back */
        size_t m = n;
        if (m > 6 && memcmp(s + m - 6, "+00:00", 6) == 0)
            m -= 6;
        else if (m > 3 && memcmp(s + m - 3, "+00", 3) == 0)
            m -= 3;
        if (trim_fraction(s, m, out, err))
            return -1;
        return sl_buf_adds(out, "+00", err);
    }
    case SL_T_INTERVAL: {
        long long mo, d, us;
        if (parse_interval(s, n, &mo, &d, &us))
            return sl_buf_add(out, s, n, err);
        return sl_buf_printf(out, err, "%lldmo%lldd%lldus", mo, d, us);
    }
    case SL_T_ARRAY: {
        /* a PostgreSQL array and the JSON array a MariaDB target holds (model/array.h)
         * compare as JSON */
        if (n && s[0] == '{') {
            char why[8];
            size_t at = out->len;
            int rc = sl_array_json(s, n, col->elem, out, why, sizeof why, err);
            if (rc <= 0)
                return rc;
            out->len = at;
        }
        return sl_buf_add(out, s, n, err);
    }
    case SL_T_UUID:
        for (size_t i = 0; i < n; i++)
            if (sl_buf_addc(out, (char)tolower((unsigned char)s[i]), err))
                return -1;
        return 0;
    default:
        return sl_buf_add(out, s, n, err);
    }
}
