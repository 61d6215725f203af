/*
 * binlog_value.c: one cell of a binlog row image to sluice's canonical text (see
 * binlog.h; text in a character set other than UTF-8 is converted by binlog_text.c),
 * byte-identical to what the load path reads through the text protocol
 * (source/mysql/mysql_types.c does the last step there, and is reused here where it
 * applies: FLOAT shortening, BIT strings).
 *
 * Storage formats (MySQL's and MariaDB's "binlog row format" documentation): integers
 * little-endian; DECIMAL in the packed 9-digits-per-4-bytes form; TIME2, DATETIME2 and
 * TIMESTAMP2 big-endian with a fraction of (fsp + 1) / 2 bytes; strings with a length
 * prefix, in the column's character set (converted here to UTF-8: utf8mb3/utf8mb4 and
 * ascii as they are, latin1 (MySQL's cp1252), ucs2, utf16, utf16le, utf32; other sets
 * are refused); GEOMETRY as a 4-byte SRID then WKB (the load path reads
 * ST_AsBinary(), which is the WKB alone); MySQL's JSON in its binary form.
 * Pure: no I/O, no allocation, no globals.
 */
#include "source/mysql/binlog.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <mysql.h>

#include "model/change.h"
#include "source/mysql/mysql_source.h"

static uint64_t le(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i > 0; i--)
        v = v << 8 | p[i - 1];
    return v;
}

static uint64_t be(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static int malformed(const sl_column_t *col, const char *what, sl_err_t *err)
{
    return sl_err_set(err, SL_E_PROTOCOL, "malformed %s value of column \"%s\" in a binlog row",
                      what, col ? col->name : "?");
}

/* ---- numbers ------------------------------------------------------------------- */

/* u in decimal at o, NUL-terminated like sprintf's "%llu" (which this replaces on the
 * per-value path: it cost a tenth of the reader's time). Returns the length. */
static int u64_text(char *o, uint64_t u)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    for (int i = 0; i < n; i++)
        o[i] = tmp[n - 1 - i];
    o[n] = '\0';
    return n;
}

/* s as "%lld" does. */
static int i64_text(char *o, int64_t s)
{
    if (s >= 0)
        return u64_text(o, (uint64_t)s);
    o[0] = '-';
    return 1 + u64_text(o + 1, (uint64_t)0 - (uint64_t)s);
}

size_t sl_binlog_double_text(double d, char *out)
{
    if (d == 0 || !isfinite(d)) { /* the server prints -0 as 0 and stores no NaN */
        strcpy(out, d == 0 || isnan(d) ? "0" : d > 0 ? "Infinity" : "-Infinity");
        return strlen(out);
    }
    char e[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, d);
        if (strtod(e, NULL) == d)
            break;
    }
    /* e is "-d.ddde-XX": take the digits and the exponent apart */
    const char *s = e;
    bool neg = *s == '-';
    if (neg)
        s++;
    char dig[24];
    int n = 0;
    for (; *s && *s != 'e' && n < 20; s++)
        if (*s >= '0' && *s <= '9')
            dig[n++] = *s;
    int exp = *s == 'e' ? atoi(s + 1) : 0;
    while (n > 1 && dig[n - 1] == '0')
        n--;
    int decpt = exp + 1; /* d = 0.DIGITS * 10^decpt */
    char *o = out;
    if (neg)
        *o++ = '-';
    if (decpt >= -14 && (decpt <= 15 || n > decpt)) {
        if (decpt <= 0) {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -decpt; i++)
                *o++ = '0';
            memcpy(o, dig, (size_t)n);
            o += n;
        } else if (decpt < n) {
            memcpy(o, dig, (size_t)decpt);
            o += decpt;
            *o++ = '.';
            memcpy(o, dig + decpt, (size_t)(n - decpt));
            o += n - decpt;
        } else {
            memcpy(o, dig, (size_t)n);
            o += n;
            for (int i = n; i < decpt; i++)
                *o++ = '0';
        }
    } else {
        *o++ = dig[0];
        if (n > 1) {
            *o++ = '.';
            memcpy(o, dig + 1, (size_t)(n - 1));
            o += n - 1;
        }
        o += sprintf(o, "e%d", exp);
    }
    *o = '\0';
    return (size_t)(o - out);
}

/* DECIMAL(prec, scale) in its binary form (n bytes) to text with exactly `scale`
 * fraction digits, as the server prints it. Returns the length, -1 if malformed. */
static long decimal_text(const unsigned char *p, size_t n, int prec, int scale, char *out)
{
    static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
    static const uint32_t pow10[10] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                       100000000, 1000000000};
    int intg = prec - scale;
    int intg0 = intg / 9, intg0x = intg % 9, frac0 = scale / 9, frac0x = scale % 9;
    size_t size = (size_t)(intg0 * 4 + dig2bytes[intg0x] + frac0 * 4 + dig2bytes[frac0x]);
    if (size != n || size == 0 || size > 40)
        return -1;
    unsigned char b[40];
    memcpy(b, p, n);
    bool neg = !(b[0] & 0x80);
    b[0] ^= 0x80;
    if (neg)
        for (size_t i = 0; i < n; i++)
            b[i] = (unsigned char)~b[i];
    char digits[96];
    int nd = 0;
    size_t at = 0;
    /* integer part: a partial group, then whole groups of 9 */
    int groups[2][2] = {{intg0x, intg0}, {frac0, frac0x}};
    for (int part = 0; part < 2; part++) {
        for (int g = 0; g < 2; g++) {
            bool partial = (part == 0) == (g == 0);
            int cnt = partial ? 1 : groups[part][g];
            int ndig = partial ? groups[part][g] : 9;
            if (partial && ndig == 0)
                continue;
            for (int k = 0; k < cnt; k++) {
                size_t nb = (size_t)dig2bytes[ndig];
                uint32_t v = (uint32_t)be(b + at, nb);
                at += nb;
                if (v >= pow10[ndig])
                    return -1;
                for (int d = ndig - 1; d >= 0; d--)
                    digits[nd++] = (char)('0' + v / pow10[d] % 10);
            }
        }
    }
    /* digits holds intg integer digits, then scale fraction digits */
    char *o = out;
    int first = 0;
    while (first < intg - 1 && digits[first] == '0')
        first++;
    bool zero = true;
    for (int i = 0; i < nd; i++)
        zero = zero && digits[i] == '0';
    if (neg && !zero)
        *o++ = '-';
    if (intg == 0)
        *o++ = '0';
    for (int i = first; i < intg; i++)
        *o++ = digits[i];
    if (scale > 0) {
        *o++ = '.';
        memcpy(o, digits + intg, (size_t)scale);
        o += scale;
    }
    return (long)(o - out);
}

/* ---- dates and times ------------------------------------------------------------- */

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil(int64_t days, int *y, unsigned *m, unsigned *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

/* ".ffffff" with trailing zeros dropped (nothing for 0), like the load path's trim. */
static int frac_text(char *o, uint32_t usec)
{
    if (usec == 0)
        return 0;
    if (usec > 999999)
        return 0; /* callers refuse these first */
    o[0] = '.';
    for (int i = 6; i >= 1; i--, usec /= 10)
        o[i] = (char)('0' + usec % 10);
    int n = 7;
    while (o[n - 1] == '0')
        n--;
    o[n] = '\0';
    return n;
}

/* The fraction of TIME2/DATETIME2/TIMESTAMP2 in microseconds; *neg_adjust for TIME2. */
static int64_t frac_usec(const unsigned char *p, unsigned fsp)
{
    switch ((fsp + 1) / 2) {
    case 1: return (int64_t)p[0] * 10000;
    case 2: return (int64_t)be(p, 2) * 100;
    case 3: return (int64_t)be(p, 3);
    default: return 0;
    }
}

static int datetime_text(char *o, int y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s,
                         uint32_t usec)
{
    if (y < 0 || y > 9999 || mo > 99 || d > 99 || h > 99 || mi > 99 || s > 99) {
        int n = sprintf(o, "%04d-%02u-%02u %02u:%02u:%02u", y, mo, d, h, mi, s);
        return n + frac_text(o + n, usec);
    }
    /* the common case without sprintf: "YYYY-MM-DD hh:mm:ss" */
    const unsigned f[6] = {(unsigned)y / 100, (unsigned)y % 100, mo, d, h, mi};
    static const char sep[6] = {0, 0, '-', '-', ' ', ':'};
    char *q = o;
    for (int i = 0; i < 6; i++) {
        if (sep[i])
            *q++ = sep[i];
        *q++ = (char)('0' + f[i] / 10);
        *q++ = (char)('0' + f[i] % 10);
    }
    *q++ = ':';
    *q++ = (char)('0' + s / 10);
    *q++ = (char)('0' + s % 10);
    *q = '\0';
    return 19 + frac_text(q, usec);
}

/* A temporal cell to text in out; returns the length, 0 for a zero date (NULL), -1 if
 * malformed. */
static long temporal_text(const sl_binlog_col_t *bc, const unsigned char *p, size_t n, char *o)
{
    switch (bc->type) {
    case SL_BT_DATE:
    case SL_BT_NEWDATE: {
        uint32_t v = (uint32_t)le(p, 3);
        unsigned d = v & 31, m = (v >> 5) & 15, y = v >> 9;
        if (y == 0 || m == 0 || d == 0)
            return 0;
        return sprintf(o, "%04u-%02u-%02u", y, m, d);
    }
    case SL_BT_TIME: { /* HHMMSS as a signed 3-byte integer */
        int32_t v = (int32_t)le(p, 3);
        if (v & 0x800000)
            v -= 0x1000000;
        bool neg = v < 0;
        uint32_t a = (uint32_t)(neg ? -v : v);
        return sprintf(o, "%s%02u:%02u:%02u", neg ? "-" : "", a / 10000, a / 100 % 100, a % 100);
    }
    case SL_BT_TIME2: {
        int64_t packed;
        int64_t intpart = (int64_t)be(p, 3) - 0x800000;
        switch ((bc->meta + 1) / 2) {
        case 0: packed = intpart * (1 << 24); break;
        case 3: packed = (int64_t)be(p, 6) - INT64_C(0x800000000000); break;
        default: {
            /* negative values keep the fraction in reverse order */
            int64_t frac = bc->meta <= 2 ? p[3] : (int64_t)be(p + 3, 2);
            int64_t range = bc->meta <= 2 ? 0x100 : 0x10000, mul = bc->meta <= 2 ? 10000 : 100;
            if (intpart < 0 && frac) {
                intpart++;
                frac -= range;
            }
            packed = intpart * (1 << 24) + frac * mul;
        }
        }
        bool neg = packed < 0;
        uint64_t a = (uint64_t)(neg ? -packed : packed);
        uint64_t hms = a >> 24;
        uint32_t usec = (uint32_t)(a % (1 << 24));
        if (usec > 999999)
            return -1;
        int len = sprintf(o, "%s%02u:%02u:%02u", neg ? "-" : "", (unsigned)((hms >> 12) % 1024),
                          (unsigned)((hms >> 6) % 64), (unsigned)(hms % 64));
        return len + frac_text(o + len, usec);
    }
    case SL_BT_DATETIME: { /* YYYYMMDDhhmmss as an integer */
        uint64_t v = le(p, 8);
        uint64_t date = v / 1000000, time = v % 1000000;
        unsigned y = (unsigned)(date / 10000), m = (unsigned)(date / 100 % 100), d = (unsigned)(date % 100);
        if (y == 0 || m == 0 || d == 0 || y > 9999)
            return y > 9999 ? -1 : 0;
        return datetime_text(o, (int)y, m, d, (unsigned)(time / 10000), (unsigned)(time / 100 % 100),
                             (unsigned)(time % 100), 0);
    }
    case SL_BT_DATETIME2: {
        uint64_t intpart = be(p, 5) - UINT64_C(0x8000000000);
        if (be(p, 5) < UINT64_C(0x8000000000))
            return -1;
        int64_t usec = frac_usec(p + 5, bc->meta);
        uint64_t ymd = intpart >> 17, ym = ymd >> 5, hms = intpart % (1 << 17);
        unsigned d = (unsigned)(ymd % 32), m = (unsigned)(ym % 13), y = (unsigned)(ym / 13);
        if (y == 0 || m == 0 || d == 0)
            return 0;
        if (y > 9999 || usec > 999999)
            return -1;
        return datetime_text(o, (int)y, m, d, (unsigned)(hms >> 12), (unsigned)((hms >> 6) % 64),
                             (unsigned)(hms % 64), (uint32_t)usec);
    }
    case SL_BT_TIMESTAMP:
    case SL_BT_TIMESTAMP2: {
        int64_t secs = bc->type == SL_BT_TIMESTAMP ? (int64_t)le(p, 4) : (int64_t)be(p, 4);
        int64_t usec = bc->type == SL_BT_TIMESTAMP2 ? frac_usec(p + 4, bc->meta) : 0;
        if (secs == 0 && usec == 0)
            return 0; /* '0000-00-00 00:00:00' */
        if (usec > 999999)
            return -1;
        int y;
        unsigned mo, d;
        civil(secs / 86400, &y, &mo, &d);
        int64_t t = secs % 86400;
        int len = datetime_text(o, y, mo, d, (unsigned)(t / 3600), (unsigned)(t / 60 % 60),
                                (unsigned)(t % 60), (uint32_t)usec);
        memcpy(o + len, "+00", 4);
        return len + 3;
    }
    default:
        (void)n;
        return -1;
    }
}

/* ---- type checks ------------------------------------------------------------------ */

/* MariaDB's INET4 / INET6 column types (4 or 16 bytes in the binlog); 0 otherwise. */
static int mariadb_inet(const sl_column_t *col)
{
    if (col->native && !strncasecmp(col->native, "inet4", 5))
        return 4;
    if (col->native && !strncasecmp(col->native, "inet6", 5))
        return 16;
    return 0;
}

/* MariaDB's uuid (16 bytes, in text order in the binlog; trailing zero bytes may be cut
 * like BINARY(n)'s), inet4 (4 bytes, network order) and inet6 (16) into the text the
 * server prints, which is what the load reads. */
static int fixed_binary_text(const sl_column_t *col, const unsigned char *p, size_t n, char *o,
                             sl_value_t *v, size_t *used, sl_err_t *err)
{
    unsigned char b[16] = {0};
    size_t want = col->type == SL_T_UUID ? 16 : (size_t)mariadb_inet(col);
    if (n > want || want == 0)
        return malformed(col, col->type == SL_T_UUID ? "UUID" : "INET", err);
    memcpy(b, p, n);
    int len;
    if (col->type == SL_T_UUID) {
        len = sprintf(o, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                      b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    } else if (want == 4) {
        len = sprintf(o, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
    } else {
        if (!inet_ntop(AF_INET6, b, o, INET6_ADDRSTRLEN))
            return malformed(col, "INET6", err);
        len = (int)strlen(o);
    }
    *v = (sl_value_t){o, len};
    *used += (size_t)len + 1;
    return 0;
}

bool sl_binlog_type_fits(const sl_binlog_col_t *bc, const sl_column_t *col)
{
    sl_type_t t = col->type;
    switch (bc->type) {
    case SL_BT_TINY: case SL_BT_SHORT: case SL_BT_INT24: case SL_BT_LONG: case SL_BT_LONGLONG:
        return sl_type_is_integer(t) || t == SL_T_BOOL;
    case SL_BT_YEAR:
        return t == SL_T_INT16;
    case SL_BT_FLOAT:
        return t == SL_T_FLOAT32;
    case SL_BT_DOUBLE:
        return t == SL_T_FLOAT64;
    case SL_BT_NEWDECIMAL:
        return t == SL_T_DECIMAL && col->precision == (int)(bc->meta >> 8) &&
               col->scale == (int)(bc->meta & 0xff);
    case SL_BT_BIT:
        return t == SL_T_BIT && col->length == (int)bc->meta;
    case SL_BT_DATE: case SL_BT_NEWDATE:
        return t == SL_T_DATE;
    case SL_BT_TIME:
        return t == SL_T_TIME && col->scale <= 0;
    case SL_BT_TIME2:
        return t == SL_T_TIME && col->scale == (int)bc->meta;
    case SL_BT_DATETIME:
        return t == SL_T_TIMESTAMP && col->scale <= 0;
    case SL_BT_DATETIME2:
        return t == SL_T_TIMESTAMP && col->scale == (int)bc->meta;
    case SL_BT_TIMESTAMP:
        return t == SL_T_TIMESTAMPTZ && col->scale <= 0;
    case SL_BT_TIMESTAMP2:
        return t == SL_T_TIMESTAMPTZ && col->scale == (int)bc->meta;
    case SL_BT_ENUM:
        return t == SL_T_ENUM;
    case SL_BT_SET:
        return t == SL_T_SET;
    case SL_BT_STRING: case SL_BT_VARCHAR: case SL_BT_VAR_STRING:
        /* MariaDB's uuid, inet4 and inet6 are fixed binary strings in the binlog */
        return t == SL_T_TEXT || t == SL_T_BYTES ||
               (bc->type == SL_BT_STRING && (t == SL_T_UUID || (t == SL_T_NET && mariadb_inet(col))));
    case SL_BT_BLOB: case SL_BT_TINY_BLOB: case SL_BT_MEDIUM_BLOB: case SL_BT_LONG_BLOB:
        return t == SL_T_TEXT || t == SL_T_BYTES || t == SL_T_JSON;
    case SL_BT_JSON:
        return t == SL_T_JSON;
    case SL_BT_GEOMETRY:
        return t == SL_T_GEOMETRY;
    default:
        return false;
    }
}

static size_t labels_size(const sl_binlog_col_t *bc, const sl_column_t *col)
{
    size_t n = 0;
    if (bc->nlabels)
        for (int i = 0; i < bc->nlabels; i++)
            n += bc->labels[i].len + 1;
    else if (col)
        for (int i = 0; i < col->nlabels; i++)
            n += strlen(col->labels[i]) + 1;
    return n;
}

size_t sl_binlog_value_bound(const sl_binlog_col_t *bc, const sl_column_t *col,
                             const sl_binlog_cell_t *cell)
{
    if (cell->state != 2)
        return 0;
    switch (bc->type) {
    case SL_BT_JSON:
        return (size_t)cell->len * 8 + 64;
    case SL_BT_ENUM:
    case SL_BT_SET:
        return labels_size(bc, col) * 3 + 16;
    case SL_BT_STRING:
        return (size_t)cell->len * 3 + bc->meta + 16; /* BINARY(n) is padded back to n */
    default:
        return (size_t)cell->len * 3 + 96;
    }
}

/* ---- one value ------------------------------------------------------------------- */

static int labels_text(const sl_binlog_col_t *bc, const sl_column_t *col, uint64_t v, bool set,
                       char *out, size_t cap, size_t *used, sl_value_t *val, sl_err_t *err)
{
    int n = bc->nlabels ? bc->nlabels : col->nlabels;
    char *o = out + *used;
    size_t len = 0;
    bool first = true;
    for (int i = 0; i < 64 && (set ? v >> i : i == 0); i++) {
        uint64_t idx = set ? (uint64_t)i : v - 1;
        if (set && !((v >> i) & 1))
            continue;
        if (!set && v == 0)
            break; /* the empty string MySQL keeps for an invalid value */
        if (idx >= (uint64_t)n)
            return malformed(col, set ? "SET" : "ENUM", err);
        if (!first)
            o[len++] = ',';
        first = false;
        if (bc->nlabels) {
            sl_binlog_col_t lc = *bc;
            sl_value_t t;
            size_t at = *used + len;
            if (sl_binlog_text_value(&lc, col, (const unsigned char *)bc->labels[idx].p, bc->labels[idx].len, out,
                           &at, &t, err))
                return -1;
            if (t.p != out + *used + len)
                memmove(o + len, t.p, (size_t)t.len);
            len += (size_t)t.len;
        } else {
            size_t l = strlen(col->labels[idx]);
            memcpy(o + len, col->labels[idx], l);
            len += l;
        }
        if (*used + len > cap)
            return sl_err_set(err, SL_E_INTERNAL, "ENUM/SET value of column \"%s\" overflows", col->name);
    }
    val->p = o;
    val->len = (int64_t)len;
    *used += len;
    return 0;
}

int sl_binlog_value(const sl_binlog_col_t *bc, const sl_column_t *col, const sl_binlog_cell_t *cell,
                    char *out, size_t cap, size_t *used, sl_value_t *v, sl_err_t *err)
{
    if (cell->state != 2) {
        *v = (sl_value_t){NULL, cell->state == 1 ? -1 : SL_VALUE_UNCHANGED};
        return 0;
    }
    const unsigned char *p = cell->p;
    size_t n = cell->len;
    char *o = out + *used;
    switch (bc->type) {
    case SL_BT_TINY: case SL_BT_SHORT: case SL_BT_INT24: case SL_BT_LONG: case SL_BT_LONGLONG: {
        uint64_t u = le(p, n);
        int len;
        if (bc->is_unsigned || (col->native && strstr(col->native, "unsigned"))) {
            len = u64_text(o, u);
        } else {
            int bits = (int)n * 8;
            int64_t s = bits < 64 && (u >> (bits - 1)) ? (int64_t)(u - (UINT64_C(1) << bits)) : (int64_t)u;
            len = i64_text(o, s);
        }
        *v = (sl_value_t){o, len};
        *used += (size_t)len;
        return 0;
    }
    case SL_BT_YEAR: {
        int len = sprintf(o, "%u", p[0] ? 1900u + p[0] : 0u);
        *v = (sl_value_t){o, len};
        *used += (size_t)len;
        return 0;
    }
    case SL_BT_FLOAT: {
        uint32_t bits = (uint32_t)le(p, 4);
        float f;
        memcpy(&f, &bits, 4);
        char tmp[48];
        int tl = snprintf(tmp, sizeof tmp, "%.17g", (double)f);
        sl_value_t t;
        if (!isfinite(f) || sl_mysql_canon_value(SL_MYV_FLOAT32, col, tmp, (size_t)tl, o, &t) != 1)
            return malformed(col, "FLOAT", err);
        *v = t;
        *used += (size_t)t.len;
        return 0;
    }
    case SL_BT_DOUBLE: {
        uint64_t bits = le(p, 8);
        double d;
        memcpy(&d, &bits, 8);
        if (!isfinite(d))
            return malformed(col, "DOUBLE", err);
        size_t len = sl_binlog_double_text(d, o);
        *v = (sl_value_t){o, (int64_t)len};
        *used += len;
        return 0;
    }
    case SL_BT_NEWDECIMAL: {
        long len = decimal_text(p, n, (int)(bc->meta >> 8), (int)(bc->meta & 0xff), o);
        if (len < 0)
            return malformed(col, "DECIMAL", err);
        *v = (sl_value_t){o, len};
        *used += (size_t)len;
        return 0;
    }
    case SL_BT_BIT: {
        int nbits = col->length > 0 ? col->length : (int)bc->meta;
        if (nbits > 64 || sl_mysql_bits_to_text(p, n, nbits, o))
            return malformed(col, "BIT", err);
        *v = (sl_value_t){o, nbits};
        *used += (size_t)nbits + 1;
        return 0;
    }
    case SL_BT_DATE: case SL_BT_NEWDATE: case SL_BT_TIME: case SL_BT_TIME2: case SL_BT_DATETIME:
    case SL_BT_DATETIME2: case SL_BT_TIMESTAMP: case SL_BT_TIMESTAMP2: {
        long len = temporal_text(bc, p, n, o);
        if (len < 0)
            return malformed(col, "date/time", err);
        *v = len == 0 ? (sl_value_t){NULL, -1} : (sl_value_t){o, len};
        *used += (size_t)len;
        return 0;
    }
    case SL_BT_ENUM:
    case SL_BT_SET:
        return labels_text(bc, col, le(p, n), bc->type == SL_BT_SET, out, cap, used, v, err);
    case SL_BT_GEOMETRY:
        if (n < 4)
            return n == 0 ? (*v = (sl_value_t){(const char *)p, 0}, 0) : malformed(col, "GEOMETRY", err);
        *v = (sl_value_t){(const char *)p + 4, (int64_t)n - 4}; /* SRID, then WKB */
        return 0;
    case SL_BT_JSON: {
        size_t len = 0;
        if (sl_binlog_json_text(p, n, o, cap - *used, &len, err)) {
            sl_err_prefix(err, "column \"%s\": ", col->name);
            return -1;
        }
        *v = (sl_value_t){o, (int64_t)len};
        *used += len;
        return 0;
    }
    case SL_BT_STRING: case SL_BT_VARCHAR: case SL_BT_VAR_STRING: case SL_BT_BLOB:
    case SL_BT_TINY_BLOB: case SL_BT_MEDIUM_BLOB: case SL_BT_LONG_BLOB:
        if (bc->type == SL_BT_STRING && (col->type == SL_T_UUID || col->type == SL_T_NET))
            return fixed_binary_text(col, p, n, o, v, used, err);
        if (col->type == SL_T_BYTES) {
            if (bc->type == SL_BT_STRING && col->fixed && n < (size_t)col->length &&
                (size_t)col->length <= bc->meta) {
                /* BINARY(n): the binlog drops the trailing zero bytes the server returns */
                memcpy(o, p, n);
                memset(o + n, 0, (size_t)col->length - n);
                *v = (sl_value_t){o, col->length};
                *used += (size_t)col->length;
                return 0;
            }
            *v = (sl_value_t){(const char *)p, (int64_t)n};
            return 0;
        }
        if (sl_binlog_text_value(bc, col, p, n, out, used, v, err))
            return -1;
        if (col->fixed && bc->type == SL_BT_STRING)
            while (v->len > 0 && v->p[v->len - 1] == ' ')
                v->len--; /* CHAR(n): no pad spaces in canonical form */
        return 0;
    default:
        sl_err_set(err, SL_E_SCHEMA, "column \"%s\" has binlog type %u, which change data capture "
                                     "cannot read", col->name, bc->type);
        sl_err_hint(err, "leave the table out of the stream, or change the column's type");
        return -1;
    }
}

/* ---- rows ------------------------------------------------------------------------ */

int sl_binlog_map_columns(const sl_binlog_tmap_t *tm, const sl_table_t *t, int *map)
{
    if (!tm->has_names) { /* binlog_row_metadata=MINIMAL: only the order can tell */
        if (tm->ncols != t->ncolumns)
            return 1;
        for (int i = 0; i < t->ncolumns; i++) {
            if (!sl_binlog_type_fits(&tm->cols[i], &t->columns[i]))
                return 1;
            map[i] = i;
        }
        return 0;
    }
    int j = 0;
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *col = &t->columns[i];
        const sl_binlog_col_t *bc = j < tm->ncols ? &tm->cols[j] : NULL;
        if (bc && bc->name.len == strlen(col->name) && !memcmp(bc->name.p, col->name, bc->name.len)) {
            if (!sl_binlog_type_fits(bc, col))
                return 1;
            map[i] = j++;
        } else if (col->generated) {
            map[i] = -1;
        } else {
            return 1;
        }
    }
    return j == tm->ncols ? 0 : 1;
}

int sl_binlog_row_values(const sl_binlog_tmap_t *tm, const sl_table_t *t, const int *map,
                         const sl_binlog_cell_t *cells, bool new_row, sl_buf_t *arena,
                         sl_value_t *vals, sl_err_t *err)
{
    size_t bound = 0;
    for (int i = 0; i < t->ncolumns; i++)
        if (map[i] >= 0)
            bound += sl_binlog_value_bound(&tm->cols[map[i]], &t->columns[i], &cells[map[i]]);
    sl_buf_reset(arena);
    if (sl_buf_reserve(arena, bound + 1, err))
        return -1;
    size_t used = 0;
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *col = &t->columns[i];
        if (map[i] < 0) { /* a generated column the binlog does not carry */
            vals[i] = (sl_value_t){NULL, new_row ? SL_VALUE_UNCHANGED : -1};
            continue;
        }
        const sl_binlog_cell_t *c = &cells[map[i]];
        if (c->state == 0) { /* not in the image (binlog_row_image other than FULL) */
            vals[i] = (sl_value_t){NULL, new_row ? SL_VALUE_UNCHANGED : -1};
            continue;
        }
        if (sl_binlog_value(&tm->cols[map[i]], col, c, arena->data, bound + 1, &used, &vals[i], err)) {
            char label[300];
            sl_table_label(t, label, sizeof label);
            sl_err_prefix(err, "table \"%s\": ", label);
            return -1;
        }
    }
    arena->len = used;
    return 0;
}
