/*
 * parquet_text.c: one Parquet value (its PLAIN bytes, as the decoders of parquet_dec.c
 * yield them) as canonical text (model/types.h), as a JSON value (inside a struct, map
 * or nested list) and as an element of a PostgreSQL array literal (a list of scalars).
 * The reverse of parquet_type.c's sl_pq_plain. Pure.
 *
 * Forms worth a note: floats in the shortest text that reads back to the same bits, laid
 * out as PostgreSQL prints them (exponent below 1e-4 and from 1e15, 1e6 for float32);
 * decimals with exactly `scale` fraction digits; times and timestamps with trailing
 * fraction zeros dropped, nanoseconds cut to microseconds (toward the past), years before
 * 1 as "... BC"; DuckDB's infinity sentinels (INT32_MAX days, INT64_MAX ticks) as
 * "infinity"; INT96 as Impala's nanoseconds-of-day + Julian day.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "target/fmt/parquet_rd.h"

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

static int add_u64(sl_buf_t *b, uint64_t v, bool neg, sl_err_t *err)
{
    char tmp[24];
    int i = (int)sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (neg)
        tmp[--i] = '-';
    return sl_buf_add(b, tmp + i, sizeof tmp - (size_t)i, err);
}

static int add_i64(sl_buf_t *b, int64_t v, sl_err_t *err)
{
    return add_u64(b, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0, err);
}

/* --- floats ---------------------------------------------------------------------------- */

/* Writes v in decimal at p (no terminator); returns the number of chars. */
static int put_int(char *p, int v)
{
    char tmp[12];
    int n = 0, o = 0;
    unsigned u = v < 0 ? -(unsigned)v : (unsigned)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        p[o++] = '-';
    while (n)
        p[o++] = tmp[--n];
    return o;
}

/* Fast, exact-or-refuse decimal work for doubles of 1e-5 <= |v| < 1e15 (the plain-notation
 * range), where x86's 64-bit long double mantissa allows it: 10^n is exact in long double
 * for n <= 27, so scaling by it is one rounding (relative error 2^-64), far below what a
 * 17-digit rounding or a double's rounding can see, except near a tie or a midpoint: there
 * these return false and the caller asks printf / strtod, which are exact but slow (they
 * were most of the reader's CPU on float columns). */
#if LDBL_MANT_DIG == 64
static long double pow10l_exact(int n)
{
    long double p = 1;
    for (int i = 0; i < n; i++)
        p *= 10;
    return p;
}

/* The correctly rounded 17 significant digits of |v| and the decimal exponent of the
 * first, as printf's "%.16e" gives them. */
static bool digits17(double v, char all[17], int *exp0)
{
    long double a = fabsl((long double)v);
    if (!(a >= 1e-5L && a < 1e15L))
        return false;
    long double lo = 1e16L, hi = 1e17L, s = 0;
    int n = 2;
    for (; n <= 21; n++) { /* the scale that puts 17 digits before the point */
        s = a * pow10l_exact(n);
        if (s >= lo)
            break;
    }
    if (n > 21 || s >= hi || s < lo * (1 + 0x1p-58L) || s > hi * (1 - 0x1p-58L))
        return false;
    long double fl = floorl(s), fr = s - fl;
    if (fabsl(fr - 0.5L) < 0x1p-5L)
        return false; /* too near a tie to know the rounding */
    uint64_t d = (uint64_t)fl + (fr > 0.5L);
    if (d >= 100000000000000000ULL)
        return false;
    for (int i = 16; i >= 0; i--, d /= 10)
        all[i] = (char)('0' + d % 10);
    *exp0 = 16 - n;
    return true;
}

/* Whether the k digits c (first digit at 10^ce, sign apart) read back as |v| exactly;
 * -1 when too near a midpoint between two doubles to tell. */
static int reads_back(const char *c, int k, int ce, double v)
{
    int q = k - 1 - ce;
    if (q < 0 || q > 27)
        return -1;
    uint64_t d = 0;
    for (int i = 0; i < k; i++)
        d = d * 10 + (uint64_t)(c[i] - '0');
    long double x = (long double)d / pow10l_exact(q);
    double r = (double)x;
    long double below = ((long double)r + nextafter(r, 0)) / 2;
    long double above = ((long double)r + nextafter(r, INFINITY)) / 2;
    long double tol = x * 0x1p-61L;
    if (fabsl(x - below) <= tol || fabsl(x - above) <= tol)
        return -1;
    return r == fabs(v);
}
#endif

static int add_float(sl_buf_t *b, double v, bool single, sl_err_t *err)
{
    if (isnan(v))
        return sl_buf_adds(b, "NaN", err);
    if (isinf(v))
        return sl_buf_adds(b, v > 0 ? "Infinity" : "-Infinity", err);
    if (v == 0)
        return sl_buf_adds(b, signbit(v) ? "-0" : "0", err);
    /* A whole number below the exponent threshold has at most FLT_DIG / DBL_DIG digits, so
     * its shortest text is its integer text: no printf, no strtod. */
    if (fabs(v) < (single ? 1e6 : 1e15) && v == (double)(int64_t)v)
        return add_i64(b, (int64_t)v, err);
    /* FLT_DIG / DBL_DIG digits always read back when a representation that short exists
     * (not so for subnormals, which have fewer significant bits: try from one digit);
     * past that, the correctly rounded 16/17 (8/9) digits are the closest ones. The most
     * digits come from one printf; shorter candidates are rounded from them (printf again
     * only on an exact tie, where rounding twice could differ), each tried with strtod. */
    bool sub = single ? fabs(v) < FLT_MIN : fabs(v) < DBL_MIN;
    int most = single ? 9 : 17;
    char all[24];
    bool neg = signbit(v);
    int na = 0, exp0 = 0;
#if LDBL_MANT_DIG == 64
    if (!single && !sub && digits17(v, all, &exp0))
        na = 17;
#endif
    if (!na) {
        char e[40];
        snprintf(e, sizeof e, "%.*e", most - 1, v);
        const char *p = e + neg;
        for (; *p && *p != 'e'; p++)
            if (*p != '.')
                all[na++] = *p;
        exp0 = atoi(p + 1);
    }
    char digits[24];
    int nd = most, exp = exp0;
    memcpy(digits, all, (size_t)most);
    for (int k = sub ? 1 : single ? 6 : 15; k < most; k++) {
        char c[24];
        int ce = exp0;
        memcpy(c, all, (size_t)k);
        bool tie = all[k] == '5';
        for (int j = k + 1; j < na && tie; j++)
            tie = all[j] == '0';
        if (tie) { /* ask printf for the correctly rounded k digits */
            char t[40];
            snprintf(t, sizeof t, "%.*e", k - 1, v);
            const char *q = t + neg;
            int n = 0;
            for (; *q && *q != 'e'; q++)
                if (*q != '.')
                    c[n++] = *q;
            ce = atoi(q + 1);
        } else if (all[k] >= '5') { /* round up, carrying */
            int j = k - 1;
            while (j >= 0 && c[j] == '9')
                c[j--] = '0';
            if (j >= 0) {
                c[j]++;
            } else {
                memmove(c + 1, c, (size_t)k - 1);
                c[0] = '1';
                ce++;
            }
        }
        int ok = -1;
#if LDBL_MANT_DIG == 64
        if (!single)
            ok = reads_back(c, k, ce, v);
#endif
        if (ok < 0) {
            char t[48]; /* "-d.ddde-ddd" by hand: a printf here cost as much as the strtod */
            int tn = 0;
            if (neg)
                t[tn++] = '-';
            t[tn++] = c[0];
            t[tn++] = '.';
            memcpy(t + tn, c + 1, (size_t)k - 1);
            tn += k - 1;
            t[tn++] = 'e';
            tn += put_int(t + tn, ce);
            t[tn] = '\0';
            double back = strtod(t, NULL);
            ok = single ? (float)back == (float)v : back == v;
        }
        if (ok) {
            memcpy(digits, c, (size_t)k);
            nd = k;
            exp = ce;
            break;
        }
    }
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    char out[48];
    int o = 0;
    if (neg)
        out[o++] = '-';
    if (exp < -4 || exp >= (single ? 6 : 15)) {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            memcpy(out + o, digits + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        o += snprintf(out + o, sizeof out - (size_t)o, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
    } else if (exp < 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (int k = 0; k < -exp - 1; k++)
            out[o++] = '0';
        memcpy(out + o, digits, (size_t)nd);
        o += nd;
    } else {
        for (int k = 0; k <= exp || k < nd; k++) {
            if (k == exp + 1)
                out[o++] = '.';
            out[o++] = k < nd ? digits[k] : '0';
        }
    }
    return sl_buf_add(b, out, (size_t)o, err);
}

static float half_to_float(uint16_t h)
{
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    float v;
    if (e == 0)
        v = ldexpf((float)m, -24);
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexpf((float)(m | 1024), e - 25);
    return s ? -v : v;
}

/* --- decimals -------------------------------------------------------------------------- */

/* Appends the magnitude's digits (mag: big-endian, n bytes, destroyed) with `scale`
 * fraction digits. */
static int add_decimal_digits(sl_buf_t *b, bool neg, uint8_t *mag, size_t n, int scale,
                              sl_err_t *err)
{
    /* Repeated division by 10^9 gives base-10^9 limbs, least significant first. */
    uint32_t limbs[64];
    int nl = 0;
    size_t start = 0;
    while (start < n && mag[start] == 0)
        start++;
    while (start < n) {
        uint64_t rem = 0;
        for (size_t i = start; i < n; i++) {
            uint64_t cur = rem << 8 | mag[i];
            mag[i] = (uint8_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        if (nl == (int)(sizeof limbs / sizeof limbs[0]))
            return sl_err_set(err, SL_E_DATA, "a Parquet decimal with more than 570 digits");
        limbs[nl++] = (uint32_t)rem;
        while (start < n && mag[start] == 0)
            start++;
    }
    char digits[600];
    int nd = 0;
    for (int i = nl - 1; i >= 0; i--)
        nd += snprintf(digits + nd, sizeof digits - (size_t)nd, i == nl - 1 ? "%u" : "%09u",
                       limbs[i]);
    if (nd == 0)
        digits[nd++] = '0';
    bool zero = nd == 1 && digits[0] == '0';
    if (neg && !zero && sl_buf_addc(b, '-', err) < 0)
        return -1;
    if (scale <= 0)
        return sl_buf_add(b, digits, (size_t)nd, err);
    if (nd <= scale) { /* 0.00ddd */
        if (sl_buf_adds(b, "0.", err) < 0)
            return -1;
        for (int k = nd; k < scale; k++)
            if (sl_buf_addc(b, '0', err) < 0)
                return -1;
        return sl_buf_add(b, digits, (size_t)nd, err);
    }
    if (sl_buf_add(b, digits, (size_t)(nd - scale), err) < 0 || sl_buf_addc(b, '.', err) < 0)
        return -1;
    return sl_buf_add(b, digits + nd - scale, (size_t)scale, err);
}

/* The two's complement big-endian integer p[0..n) with `scale` fraction digits. */
static int add_decimal_be(sl_buf_t *b, const uint8_t *p, size_t n, int scale, sl_err_t *err)
{
    uint8_t mag[256];
    if (n > sizeof mag)
        return sl_err_set(err, SL_E_DATA, "a Parquet decimal of %zu bytes is too large", n);
    bool neg = n > 0 && (p[0] & 0x80);
    memcpy(mag, p, n);
    if (neg) { /* negate: invert and add one */
        int carry = 1;
        for (size_t i = n; i-- > 0;) {
            int x = (uint8_t)~mag[i] + carry;
            mag[i] = (uint8_t)x;
            carry = x >> 8;
        }
    }
    return add_decimal_digits(b, neg, mag, n, scale, err);
}

static int add_decimal_i64(sl_buf_t *b, int64_t v, int scale, sl_err_t *err)
{
    if (scale >= 0 && scale <= 18) { /* the common case, without big-number division */
        uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
        char t[48];
        int i = (int)sizeof t, k = 0;
        do {
            if (k++ == scale && scale > 0)
                t[--i] = '.';
            t[--i] = (char)('0' + mag % 10);
            mag /= 10;
        } while (mag || k <= scale);
        if (v < 0)
            t[--i] = '-';
        return sl_buf_add(b, t + i, sizeof t - (size_t)i, err);
    }
    uint8_t be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
    return add_decimal_be(b, be, 8, scale, err);
}

/* --- dates and times ------------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/* Writes v as exactly k digits at p (printf's %0kd without printf: this is the hot path of
 * every date and timestamp). */
static void digits_at(char *p, int64_t v, int k)
{
    while (k-- > 0) {
        p[k] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* HH:MM:SS[.ffffff] of us microseconds into the day (0 .. 24h). */
static int add_tod(sl_buf_t *b, int64_t us, sl_err_t *err)
{
    int64_t s = us / 1000000, f = us % 1000000;
    char t[16];
    digits_at(t, s / 3600, 2);
    t[2] = ':';
    digits_at(t + 3, s / 60 % 60, 2);
    t[5] = ':';
    digits_at(t + 6, s % 60, 2);
    int n = 8;
    if (f) {
        t[8] = '.';
        digits_at(t + 9, f, 6);
        n = 15;
        while (t[n - 1] == '0')
            n--;
    }
    return sl_buf_add(b, t, (size_t)n, err);
}

/* YYYY-MM-DD of days since the epoch; *bc set for years before 1 (printed as 1 - y). */
static int add_date(sl_buf_t *b, int64_t days, bool *bc, sl_err_t *err)
{
    int64_t y;
    int m, d;
    sl_fmtv_civil(days, &y, &m, &d);
    *bc = y <= 0;
    int64_t yy = *bc ? 1 - y : y;
    if (yy > 9999)
        return sl_buf_printf(b, err, "%lld-%02d-%02d", (long long)yy, m, d);
    char t[10];
    digits_at(t, yy, 4);
    t[4] = '-';
    digits_at(t + 5, m, 2);
    t[7] = '-';
    digits_at(t + 8, d, 2);
    return sl_buf_add(b, t, sizeof t, err);
}

static int out_of_range(sl_err_t *err, const char *what)
{
    return sl_err_set(err, SL_E_DATA, "a Parquet %s value out of range", what);
}

int sl_pq_ts_text(sl_buf_t *b, int64_t us, bool tz, sl_err_t *err)
{
    int64_t days = floor_div(us, INT64_C(86400000000));
    int64_t rest = us - days * INT64_C(86400000000);
    bool bc;
    if (add_date(b, days, &bc, err) < 0 || sl_buf_addc(b, ' ', err) < 0 ||
        add_tod(b, rest, err) < 0)
        return -1;
    if (tz && sl_buf_adds(b, "+00", err) < 0)
        return -1;
    return bc ? sl_buf_adds(b, " BC", err) : 0;
}

/* A timestamp in `mult` microseconds per unit (1000 for millis) or nanoseconds (mult 0). */
static int add_ts_unit(sl_buf_t *b, int64_t v, int64_t mult, bool tz, sl_err_t *err)
{
    if (v == INT64_MAX)
        return sl_buf_adds(b, "infinity", err);
    if (v == INT64_MIN || v == -INT64_MAX)
        return sl_buf_adds(b, "-infinity", err);
    int64_t us;
    if (mult == 0)
        us = floor_div(v, 1000);
    else if (__builtin_mul_overflow(v, mult, &us))
        return out_of_range(err, "timestamp");
    return sl_pq_ts_text(b, us, tz, err);
}

static int add_time_unit(sl_buf_t *b, int64_t v, int64_t mult, bool tz, sl_err_t *err)
{
    int64_t us = mult == 0 ? floor_div(v, 1000) : v * mult; /* |v| checked below */
    if (v < 0 || (mult && v > INT64_C(86400000000) / mult) || us > INT64_C(86400000000))
        return out_of_range(err, "time");
    if (add_tod(b, us, err) < 0)
        return -1;
    return tz ? sl_buf_adds(b, "+00", err) : 0;
}

static int add_interval(sl_buf_t *b, const uint8_t *p, sl_err_t *err)
{
    uint32_t months = le32(p), days = le32(p + 4), ms = le32(p + 8);
    if (!months && !days && !ms)
        return sl_buf_adds(b, "PT0S", err);
    if (sl_buf_addc(b, 'P', err) < 0 ||
        (months / 12 && sl_buf_printf(b, err, "%uY", months / 12) < 0) ||
        (months % 12 && sl_buf_printf(b, err, "%uM", months % 12) < 0) ||
        (days && sl_buf_printf(b, err, "%uD", days) < 0))
        return -1;
    if (!ms)
        return 0;
    uint32_t h = ms / 3600000, mi = ms / 60000 % 60, s = ms / 1000 % 60, f = ms % 1000;
    if (sl_buf_addc(b, 'T', err) < 0 || (h && sl_buf_printf(b, err, "%uH", h) < 0) ||
        (mi && sl_buf_printf(b, err, "%uM", mi) < 0))
        return -1;
    if (!s && !f)
        return 0;
    if (!f)
        return sl_buf_printf(b, err, "%uS", s);
    char fr[8];
    int n = snprintf(fr, sizeof fr, "%03u", f);
    while (fr[n - 1] == '0')
        fr[--n] = 0;
    return sl_buf_printf(b, err, "%u.%sS", s, fr);
}

static int add_uuid(sl_buf_t *b, const uint8_t *p, sl_err_t *err)
{
    static const char hx[] = "0123456789abcdef";
    char u[36];
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            u[o++] = '-';
        u[o++] = hx[p[i] >> 4];
        u[o++] = hx[p[i] & 15];
    }
    return sl_buf_add(b, u, sizeof u, err);
}

/* --- the three forms ------------------------------------------------------------------- */

int sl_pq_text(const pq_node_t *n, const pq_v_t *v, sl_buf_t *b, sl_err_t *err)
{
    const uint8_t *p = v->p;
    int width = n->el->type == PT_FLBA ? n->el->type_len : sl_pq_width(n->el->type, 0);
    if (width && (int)v->n != width)
        return sl_err_set(err, SL_E_DATA, "a Parquet value of %u bytes where %d are due",
                          v->n, width);
    switch (n->vk) {
    case VK_BOOL: return sl_buf_addc(b, p[0] ? 't' : 'f', err);
    case VK_I32: return add_i64(b, (int32_t)le32(p), err);
    case VK_U32: return add_u64(b, le32(p), false, err);
    case VK_I64: return add_i64(b, (int64_t)le64(p), err);
    case VK_U64: return add_u64(b, le64(p), false, err);
    case VK_F16: return add_float(b, half_to_float((uint16_t)(p[0] | p[1] << 8)), true, err);
    case VK_F32: {
        float f;
        memcpy(&f, p, 4);
        return add_float(b, f, true, err);
    }
    case VK_F64: {
        double d;
        memcpy(&d, p, 8);
        return add_float(b, d, false, err);
    }
    case VK_DEC_I32: return add_decimal_i64(b, (int32_t)le32(p), n->scale, err);
    case VK_DEC_I64: return add_decimal_i64(b, (int64_t)le64(p), n->scale, err);
    case VK_DEC_BE:
        if (v->n == 0)
            return sl_err_set(err, SL_E_DATA, "an empty Parquet decimal");
        return add_decimal_be(b, p, v->n, n->scale, err);
    case VK_DATE: {
        int32_t d = (int32_t)le32(p);
        bool bc;
        if (d == INT32_MAX)
            return sl_buf_adds(b, "infinity", err);
        if (d == INT32_MIN || d == -INT32_MAX)
            return sl_buf_adds(b, "-infinity", err);
        if (add_date(b, d, &bc, err) < 0)
            return -1;
        return bc ? sl_buf_adds(b, " BC", err) : 0;
    }
    case VK_TIME_MS: return add_time_unit(b, (int32_t)le32(p), 1000, n->type == SL_T_TIMETZ, err);
    case VK_TIME_US: return add_time_unit(b, (int64_t)le64(p), 1, n->type == SL_T_TIMETZ, err);
    case VK_TIME_NS: return add_time_unit(b, (int64_t)le64(p), 0, n->type == SL_T_TIMETZ, err);
    case VK_TS_MS: return add_ts_unit(b, (int64_t)le64(p), 1000, n->utc, err);
    case VK_TS_US: return add_ts_unit(b, (int64_t)le64(p), 1, n->utc, err);
    case VK_TS_NS: return add_ts_unit(b, (int64_t)le64(p), 0, n->utc, err);
    case VK_INT96: {
        int64_t ns = (int64_t)le64(p), jd = (int32_t)le32(p + 8), us;
        if (ns < 0 || ns >= INT64_C(86400000000000) ||
            __builtin_mul_overflow(jd - 2440588, INT64_C(86400000000), &us))
            return out_of_range(err, "INT96 timestamp");
        return sl_pq_ts_text(b, us + ns / 1000, n->utc, err);
    }
    case VK_UUID: return add_uuid(b, p, err);
    case VK_INTERVAL: return add_interval(b, p, err);
    case VK_TEXT:
    case VK_BYTES:
    case VK_JSON:
        return sl_buf_add(b, p, v->n, err);
    }
    return sl_err_set(err, SL_E_INTERNAL, "unknown Parquet value kind %d", (int)n->vk);
}

int sl_pq_json(const pq_node_t *n, const pq_v_t *v, sl_buf_t *b, sl_err_t *err)
{
    size_t at = b->len;
    switch (n->vk) {
    case VK_BOOL:
        return sl_buf_adds(b, v->p[0] ? "true" : "false", err);
    case VK_BYTES:
        return sl_buf_addc(b, '"', err) < 0 || sl_fmt_base64(b, v->p, v->n, err) < 0
                   ? -1 : sl_buf_addc(b, '"', err);
    case VK_JSON:
        return v->n ? sl_buf_add(b, v->p, v->n, err) : sl_buf_adds(b, "null", err);
    case VK_I32: case VK_U32: case VK_I64: case VK_U64: case VK_DEC_I32: case VK_DEC_I64:
    case VK_DEC_BE:
        return sl_pq_text(n, v, b, err);
    case VK_F16: case VK_F32: case VK_F64: {
        if (sl_pq_text(n, v, b, err) < 0)
            return -1;
        char c = b->data[b->len - 1];
        if (c >= '0' && c <= '9')
            return 0;
        break; /* NaN, Infinity: not JSON numbers, quoted below */
    }
    default:
        if (sl_pq_text(n, v, b, err) < 0)
            return -1;
        break;
    }
    /* quote what was just appended */
    size_t len = b->len - at;
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return sl_err_set(err, SL_E_LIMIT, "out of memory");
    memcpy(copy, b->data + at, len);
    b->len = at;
    int rc = sl_fmt_json_str(b, copy, len, err);
    free(copy);
    return rc;
}

int sl_pq_array_elem(const pq_node_t *n, const pq_v_t *v, sl_buf_t *b, sl_buf_t *tmp,
                     sl_err_t *err)
{
    sl_buf_reset(tmp);
    if ((n->vk == VK_BYTES ? sl_fmt_hex(tmp, v->p, v->n, err) : sl_pq_text(n, v, tmp, err)) < 0)
        return -1;
    /* Quoted as PostgreSQL's array_out quotes: empty, NULL, or holding a special. */
    bool q = tmp->len == 0 || (tmp->len == 4 && strncasecmp(tmp->data, "null", 4) == 0);
    for (size_t i = 0; i < tmp->len && !q; i++)
        q = strchr("{}\",\\ \t\n\r\v\f", tmp->data[i]) != NULL && tmp->data[i] != 0;
    if (!q)
        return sl_buf_add(b, tmp->data, tmp->len, err);
    if (sl_buf_addc(b, '"', err) < 0)
        return -1;
    for (size_t i = 0; i < tmp->len; i++) {
        char c = tmp->data[i];
        if ((c == '"' || c == '\\') && sl_buf_addc(b, '\\', err) < 0)
            return -1;
        if (sl_buf_addc(b, c, err) < 0)
            return -1;
    }
    return sl_buf_addc(b, '"', err);
}
