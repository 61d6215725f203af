/*
 * normalize.c: see normalize.h.
 */
#include "engine/normalize.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    case SL_T_UUID:
        for (size_t i = 0; i < n; i++)
            if (sl_buf_addc(out, (char)tolower((unsigned char)s[i]), err))
                return -1;
        return 0;
    default:
        return sl_buf_add(out, s, n, err);
    }
}
