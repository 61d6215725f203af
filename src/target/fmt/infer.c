/*
 * infer.c: column types of CSV and JSONL files from a sample of their values, and each
 * value's canonical text once the type is known (the user can override a type with
 * `cast`; a value that then does not fit is an error naming it).
 *
 * A column starts with every candidate type and loses those a value rules out; what is
 * left decides, narrowest first: bool (true/false/t/f, or JSON booleans), int64,
 * decimal (plain notation; decimal(38, s) with s the most fraction digits seen, or
 * unconstrained past 38 digits), float64 (exponents, NaN, Infinity), date, timestamp
 * (dates widen to it), timestamptz (a zone: Z or +HH[:MM]), uuid, json (JSON objects or
 * arrays), else text. JSONL strings are never numbers or booleans: a JSON "123" stays
 * text. A column without a non-NULL value in the sample is text. Pure.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/hex.h"
#include "target/fmt/parquet_rd.h"

enum {
    C_BOOL = 1, C_INT = 2, C_DEC = 4, C_FLOAT = 8, C_DATE = 16, C_TS = 32, C_TSTZ = 64,
    C_UUID = 128, C_JSON = 256, C_ALL = 511,
};

void sl_infer_init(sl_infer_t *f)
{
    memset(f, 0, sizeof *f);
    f->cand = C_ALL;
}

static bool eqi(const char *p, size_t n, const char *s)
{
    return strlen(s) == n && strncasecmp(p, s, n) == 0;
}

static bool is_bool(const char *p, size_t n)
{
    return eqi(p, n, "true") || eqi(p, n, "false") || eqi(p, n, "t") || eqi(p, n, "f");
}

/* Whether p[0..n) is a special float name (nan, inf, infinity, with a sign). */
static int special_float(const char *p, size_t n, double *v)
{
    bool neg = n && p[0] == '-';
    size_t k = n && (p[0] == '-' || p[0] == '+');
    if (eqi(p + k, n - k, "nan")) {
        *v = NAN;
        return 1;
    }
    if (eqi(p + k, n - k, "inf") || eqi(p + k, n - k, "infinity")) {
        *v = neg ? -INFINITY : INFINITY;
        return 1;
    }
    return 0;
}

/* The numeric candidates of p[0..n), with the decimal shape seen. */
static uint32_t numeric(sl_infer_t *f, const char *p, size_t n)
{
    size_t i = n && p[0] == '-';
    size_t d0 = i;
    while (i < n && p[i] >= '0' && p[i] <= '9')
        i++;
    size_t idig = i - d0, fdig = 0;
    bool plain = idig > 0;
    if (plain && i < n && p[i] == '.') {
        size_t f0 = ++i;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
        fdig = i - f0;
        plain = fdig > 0;
    }
    double x;
    if (plain && i == n) {
        while (idig > 1 && p[d0] == '0') /* leading zeros do not count */
            d0++, idig--;
        if ((int)idig > f->int_digits)
            f->int_digits = (int)idig;
        if ((int)fdig > f->frac_digits)
            f->frac_digits = (int)fdig;
        int64_t v;
        uint32_t c = C_DEC | C_FLOAT;
        if (fdig == 0 && sl_fmtv_i64(p, n, &v) == 0)
            c |= C_INT;
        return c;
    }
    if (special_float(p, n, &x) || sl_fmtv_f64(p, n, &x) == 0)
        return C_FLOAT;
    return 0;
}

/* Whether a timestamp's text carries a zone (Z or an offset after the time). */
static bool has_zone(const char *p, size_t n)
{
    if (n && p[n - 1] == 'Z')
        return true;
    for (size_t i = n; i-- > 13;)
        if (p[i] == '+' || p[i] == '-')
            return true;
    return false;
}

static uint32_t textual(const char *p, size_t n)
{
    uint32_t c = 0;
    int32_t d;
    int64_t us;
    int inf;
    uint8_t u[16];
    if (sl_fmtv_date(p, n, &d, &inf) == 0 && !inf)
        c |= C_DATE | C_TS;
    else if (sl_fmtv_timestamp(p, n, &us, &inf) == 0 && !inf)
        c |= has_zone(p, n) ? C_TSTZ : C_TS;
    if (sl_fmtv_uuid(p, n, u) == 0)
        c |= C_UUID;
    return c;
}

void sl_infer_add(sl_infer_t *f, sl_json_kind_t kind, const char *p, size_t n)
{
    uint32_t ok = 0;
    switch (kind) {
    case SL_JK_NULL:
        return;
    case SL_JK_BOOL: ok = C_BOOL; break;
    case SL_JK_OBJECT:
    case SL_JK_ARRAY: ok = C_JSON; f->json_native = true; break;
    case SL_JK_NUMBER: ok = numeric(f, p, n); f->json_native = true; break;
    case SL_JK_STRING: ok = textual(p, n); break;
    case SL_JK_TEXT:
        ok = textual(p, n) | numeric(f, p, n);
        if (is_bool(p, n))
            ok |= C_BOOL;
        if (n && (p[0] == '{' || p[0] == '[') && sl_json_is_container(p, n))
            ok |= C_JSON;
        break;
    }
    f->seen++;
    f->cand &= ok;
}

void sl_infer_column(const sl_infer_t *f, sl_column_t *c)
{
    uint32_t k = f->seen ? f->cand : 0;
    c->precision = 0;
    c->scale = -1;
    if (k & C_BOOL)
        c->type = SL_T_BOOL;
    else if (k & C_INT)
        c->type = SL_T_INT64;
    else if (k & C_DEC) {
        c->type = SL_T_DECIMAL;
        if (f->int_digits + f->frac_digits <= 38) {
            c->precision = 38;
            c->scale = f->frac_digits;
        } else {
            c->scale = 0; /* unconstrained */
        }
    } else if (k & C_FLOAT)
        c->type = SL_T_FLOAT64;
    else if (k & C_DATE)
        c->type = SL_T_DATE;
    else if (k & C_TS)
        c->type = SL_T_TIMESTAMP;
    else if (k & C_TSTZ)
        c->type = SL_T_TIMESTAMPTZ;
    else if (k & C_UUID)
        c->type = SL_T_UUID;
    else if (k & C_JSON)
        c->type = SL_T_JSON;
    else
        c->type = SL_T_TEXT;
    if (c->type == SL_T_TIMESTAMP || c->type == SL_T_TIMESTAMPTZ)
        c->scale = 6;
}

/* --- values ------------------------------------------------------------------------- */

static int not_a(sl_err_t *err, const char *what)
{
    sl_err_set(err, SL_E_DATA, "not a valid %s", what);
    return -1;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

static int bytes(sl_json_kind_t kind, const char *p, size_t n, sl_buf_t *out, sl_err_t *err)
{
    if (kind == SL_JK_STRING) { /* base64, as jsonl.c writes bytes */
        uint32_t acc = 0;
        int bits = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '=')
                break;
            int v = b64val(p[i]);
            if (v < 0)
                return not_a(err, "base64 value");
            acc = acc << 6 | (uint32_t)v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                if (sl_buf_addc(out, (char)(acc >> bits), err) < 0)
                    return -1;
            }
        }
        return 0;
    }
    if (n >= 2 && p[0] == '\\' && p[1] == 'x' && n % 2 == 0) { /* PostgreSQL's hex text */
        for (size_t i = 2; i < n; i += 2) {
            int hi = sl_hex_value(p[i]), lo = sl_hex_value(p[i + 1]);
            if (hi < 0 || lo < 0)
                return not_a(err, "hex bytes value");
            if (sl_buf_addc(out, (char)(hi << 4 | lo), err) < 0)
                return -1;
        }
        return 0;
    }
    return sl_buf_add(out, p, n, err);
}

int sl_infer_canon(const sl_column_t *c, sl_json_kind_t kind, const char *p, size_t n,
                   sl_buf_t *out, sl_err_t *err)
{
    sl_buf_reset(out);
    int64_t i, us;
    uint64_t u;
    double x;
    int32_t d;
    int inf;
    switch (c->type) {
    case SL_T_BOOL:
        if (eqi(p, n, "t") || eqi(p, n, "true") || (n == 1 && p[0] == '1'))
            return sl_buf_addc(out, 't', err);
        if (eqi(p, n, "f") || eqi(p, n, "false") || (n == 1 && p[0] == '0'))
            return sl_buf_addc(out, 'f', err);
        return not_a(err, "boolean");
    case SL_T_INT16:
    case SL_T_INT32:
    case SL_T_INT64:
        if (sl_fmtv_i64(p, n, &i) < 0 || (c->type == SL_T_INT16 && (i < INT16_MIN || i > INT16_MAX)) ||
            (c->type == SL_T_INT32 && (i < INT32_MIN || i > INT32_MAX)))
            return not_a(err, "integer in range");
        break;
    case SL_T_UINT64:
        if (sl_fmtv_u64(p, n, &u) < 0)
            return not_a(err, "unsigned integer in range");
        break;
    case SL_T_FLOAT32:
    case SL_T_FLOAT64:
        if (special_float(p, n, &x))
            return sl_buf_adds(out, isnan(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity", err);
        if (sl_fmtv_f64(p, n, &x) < 0)
            return not_a(err, "floating-point number");
        break;
    case SL_T_DECIMAL: {
        __int128 v;
        if (eqi(p, n, "nan"))
            return sl_buf_adds(out, "NaN", err);
        if (sl_fmtv_decimal(p, n, c->precision > 0 ? c->scale : 1000, &v) < 0)
            return not_a(err, "decimal in plain notation (cast the column to float64 for exponents)");
        break;
    }
    case SL_T_DATE:
        if (sl_fmtv_date(p, n, &d, &inf) < 0)
            return not_a(err, "date (YYYY-MM-DD)");
        break;
    case SL_T_TIMESTAMP:
    case SL_T_TIMESTAMPTZ:
        if (sl_fmtv_date(p, n, &d, &inf) == 0 && !inf) {
            if (d > 106000000 || d < -106000000) /* ±290,000 years: what int64 µs can hold */
                return not_a(err, "timestamp in range");
            return sl_pq_ts_text(out, (int64_t)d * INT64_C(86400000000), c->type == SL_T_TIMESTAMPTZ, err);
        }
        if (sl_fmtv_timestamp(p, n, &us, &inf) < 0)
            return not_a(err, "timestamp (YYYY-MM-DD HH:MM:SS[.ffffff][zone])");
        if (inf)
            break;
        if (c->type == SL_T_TIMESTAMP && has_zone(p, n))
            return not_a(err, "timestamp without a time zone (cast the column to timestamptz)");
        return sl_pq_ts_text(out, us, c->type == SL_T_TIMESTAMPTZ, err);
    case SL_T_UUID: {
        uint8_t b[16];
        static const char hx[] = "0123456789abcdef";
        if (sl_fmtv_uuid(p, n, b) < 0)
            return not_a(err, "UUID");
        for (int k = 0; k < 16; k++) {
            if ((k == 4 || k == 6 || k == 8 || k == 10) && sl_buf_addc(out, '-', err) < 0)
                return -1;
            if (sl_buf_addc(out, hx[b[k] >> 4], err) < 0 || sl_buf_addc(out, hx[b[k] & 15], err) < 0)
                return -1;
        }
        return 0;
    }
    case SL_T_JSON:
        if (kind == SL_JK_STRING) /* a JSON string value: the JSON text of the string */
            return sl_fmt_json_str(out, p, n, err);
        if (kind == SL_JK_TEXT && !sl_json_is_container(p, n))
            return not_a(err, "JSON object or array");
        break;
    case SL_T_BYTES:
        return bytes(kind, p, n, out, err);
    default:
        break;
    }
    return sl_buf_add(out, p, n, err);
}
