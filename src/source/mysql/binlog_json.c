/*
 * binlog_json.c: MySQL 8's binary JSON (the storage and binlog form of a JSON column,
 * MySQL's "json_binary" format) to the text MySQL prints for it: ", " between
 * elements, ": " after keys, keys in stored order, doubles as the server prints them
 * with ".0" when they have no fraction, dates and times of opaque values quoted.
 * MariaDB stores JSON as text and never gets here.
 *
 * Layout: a type byte, then the value. Objects and arrays (small: 2-byte offsets,
 * large: 4-byte) hold an element count and their byte size, key entries (objects),
 * value entries (a type byte and an offset into the container, or the value itself
 * for literals and small integers), then the keys and values. Strings and opaque
 * values carry a variable-length size (7 bits a byte, low first). Every offset is
 * checked against its container; nesting is bounded (MySQL's limit is 100).
 * Pure: writes into the caller's buffer and fails when it would overflow.
 */
#include <stdio.h>
#include <string.h>

#include "source/mysql/binlog.h"

#define MAX_DEPTH 100

enum {
    J_SMALL_OBJ = 0, J_LARGE_OBJ = 1, J_SMALL_ARR = 2, J_LARGE_ARR = 3, J_LITERAL = 4,
    J_INT16 = 5, J_UINT16 = 6, J_INT32 = 7, J_UINT32 = 8, J_INT64 = 9, J_UINT64 = 10,
    J_DOUBLE = 11, J_STRING = 12, J_OPAQUE = 15,
};

typedef struct jw {
    char *o;
    size_t cap, len;
    sl_err_t *err;
} jw_t;

static int bad(jw_t *w, const char *why)
{
    return sl_err_set(w->err, SL_E_PROTOCOL, "malformed binary JSON value: %s", why);
}

static int put(jw_t *w, const void *p, size_t n)
{
    if (w->cap - w->len < n)
        return sl_err_set(w->err, SL_E_LIMIT, "binary JSON value too large to print");
    memcpy(w->o + w->len, p, n);
    w->len += n;
    return 0;
}

static int puts_(jw_t *w, const char *s)
{
    return put(w, s, strlen(s));
}

static uint64_t le(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i > 0; i--)
        v = v << 8 | p[i - 1];
    return v;
}

/* A variable-length size at p[0..n); *used bytes. */
static int varlen(jw_t *w, const unsigned char *p, size_t n, size_t *used, uint64_t *v)
{
    *v = 0;
    for (size_t i = 0; i < 5; i++) {
        if (i >= n)
            return bad(w, "truncated length");
        *v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *used = i + 1;
            return 0;
        }
    }
    return bad(w, "length longer than 5 bytes");
}

static int quoted(jw_t *w, const unsigned char *s, size_t n)
{
    if (put(w, "\"", 1))
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        char esc[8];
        const char *e = NULL;
        switch (c) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        default:
            if (c < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                e = esc;
            }
        }
        if (e ? puts_(w, e) : put(w, &c, 1))
            return -1;
    }
    return put(w, "\"", 1);
}

static int number(jw_t *w, const char *fmt, long long s, unsigned long long u, bool is_unsigned)
{
    char buf[32];
    int n = is_unsigned ? snprintf(buf, sizeof buf, "%llu", u) : snprintf(buf, sizeof buf, fmt, s);
    return put(w, buf, (size_t)n);
}

/* MySQL's packed temporal (an int64: date and time bits above 24, microseconds below). */
static int opaque_time(jw_t *w, uint8_t ftype, const unsigned char *p, size_t n)
{
    if (n < 8)
        return bad(w, "short date/time");
    int64_t packed = (int64_t)le(p, 8);
    bool neg = packed < 0;
    uint64_t a = (uint64_t)(neg ? -packed : packed);
    uint64_t intpart = a >> 24;
    unsigned usec = (unsigned)(a % (1 << 24));
    char buf[64];
    int len;
    if (ftype == SL_BT_TIME) {
        len = snprintf(buf, sizeof buf, "\"%s%02u:%02u:%02u.%06u\"", neg ? "-" : "",
                       (unsigned)((intpart >> 12) % 1024), (unsigned)((intpart >> 6) % 64),
                       (unsigned)(intpart % 64), usec % 1000000);
    } else {
        uint64_t ymd = intpart >> 17, ym = ymd >> 5, hms = intpart % (1 << 17);
        if (ftype == SL_BT_DATE)
            len = snprintf(buf, sizeof buf, "\"%04u-%02u-%02u\"", (unsigned)(ym / 13 % 10000),
                           (unsigned)(ym % 13), (unsigned)(ymd % 32));
        else
            len = snprintf(buf, sizeof buf, "\"%04u-%02u-%02u %02u:%02u:%02u.%06u\"",
                           (unsigned)(ym / 13 % 10000), (unsigned)(ym % 13), (unsigned)(ymd % 32),
                           (unsigned)(hms >> 12), (unsigned)((hms >> 6) % 64), (unsigned)(hms % 64),
                           usec % 1000000);
    }
    return put(w, buf, (size_t)len);
}

static int opaque(jw_t *w, const unsigned char *p, size_t n)
{
    if (n < 1)
        return bad(w, "truncated opaque value");
    uint8_t ftype = p[0];
    size_t used;
    uint64_t len;
    if (varlen(w, p + 1, n - 1, &used, &len))
        return -1;
    if (len > n - 1 - used)
        return bad(w, "opaque value longer than its container");
    const unsigned char *d = p + 1 + used;
    switch (ftype) {
    case SL_BT_NEWDECIMAL: {
        if (len < 2)
            return bad(w, "short decimal");
        /* reuse the row decoder's DECIMAL: a fake column of that precision and scale */
        sl_binlog_col_t bc = {.type = SL_BT_NEWDECIMAL, .meta = (uint32_t)d[0] << 8 | d[1]};
        sl_column_t col = {.name = "json", .type = SL_T_DECIMAL};
        sl_binlog_cell_t cell = {.state = 2, .p = d + 2, .len = (uint32_t)(len - 2)};
        char buf[96];
        size_t u = 0;
        sl_value_t v;
        if (bc.meta >> 8 < 1 || bc.meta >> 8 > 65 || (bc.meta & 0xff) > (bc.meta >> 8) ||
            sl_binlog_value(&bc, &col, &cell, buf, sizeof buf, &u, &v, w->err))
            return bad(w, "bad decimal");
        return put(w, v.p, (size_t)v.len);
    }
    case SL_BT_DATE: case SL_BT_TIME: case SL_BT_DATETIME: case SL_BT_TIMESTAMP:
    case SL_BT_DATETIME2: case SL_BT_TIMESTAMP2: case SL_BT_TIME2:
        return opaque_time(w, ftype == SL_BT_TIME2 ? SL_BT_TIME : ftype == SL_BT_DATE ? SL_BT_DATE
                                                                                 : SL_BT_DATETIME,
                           d, len);
    default: { /* "base64:type<N>:<data>" as MySQL prints other opaque values */
        static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char head[32];
        int hl = snprintf(head, sizeof head, "\"base64:type%u:", ftype);
        if (put(w, head, (size_t)hl))
            return -1;
        for (uint64_t i = 0; i < len; i += 3) {
            uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < len ? (uint32_t)d[i + 1] << 8 : 0) |
                         (i + 2 < len ? d[i + 2] : 0);
            char q[4] = {b64[v >> 18], b64[(v >> 12) & 63], i + 1 < len ? b64[(v >> 6) & 63] : '=',
                         i + 2 < len ? b64[v & 63] : '='};
            if (put(w, q, 4))
                return -1;
        }
        return put(w, "\"", 1);
    }
    }
}

static int value(jw_t *w, uint8_t type, const unsigned char *p, size_t n, int depth);

/* An object or array at p[0..n) (after its type byte). */
static int container(jw_t *w, uint8_t type, const unsigned char *p, size_t n, int depth)
{
    if (depth > MAX_DEPTH)
        return bad(w, "nested too deeply");
    bool large = type == J_LARGE_OBJ || type == J_LARGE_ARR;
    bool obj = type == J_SMALL_OBJ || type == J_LARGE_OBJ;
    size_t osz = large ? 4 : 2;
    if (n < 2 * osz)
        return bad(w, "truncated container");
    uint64_t count = le(p, osz), size = le(p + osz, osz);
    if (size > n || size < 2 * osz)
        return bad(w, "container size out of range");
    size_t kentry = obj ? osz + 2 : 0, ventry = 1 + osz;
    if (count > (size - 2 * osz) / (kentry + ventry))
        return bad(w, "too many elements");
    size_t hdr = 2 * osz + (size_t)count * (kentry + ventry);
    if (puts_(w, obj ? "{" : "["))
        return -1;
    for (uint64_t i = 0; i < count; i++) {
        if (i && puts_(w, ", "))
            return -1;
        if (obj) {
            const unsigned char *ke = p + 2 * osz + i * kentry;
            uint64_t koff = le(ke, osz), klen = le(ke + osz, 2);
            if (koff < hdr || koff > size || klen > size - koff)
                return bad(w, "key out of range");
            if (quoted(w, p + koff, (size_t)klen) || puts_(w, ": "))
                return -1;
        }
        const unsigned char *ve = p + 2 * osz + count * kentry + i * ventry;
        uint8_t vt = ve[0];
        bool inlined = vt == J_LITERAL || vt == J_INT16 || vt == J_UINT16 ||
                       (large && (vt == J_INT32 || vt == J_UINT32));
        if (inlined) {
            if (value(w, vt, ve + 1, osz, depth + 1))
                return -1;
            continue;
        }
        uint64_t off = le(ve + 1, osz);
        if (off < hdr || off >= size)
            return bad(w, "value out of range");
        if (value(w, vt, p + off, (size_t)(size - off), depth + 1))
            return -1;
    }
    return puts_(w, obj ? "}" : "]");
}

static int value(jw_t *w, uint8_t type, const unsigned char *p, size_t n, int depth)
{
    static const size_t fixed[] = {[J_LITERAL] = 1, [J_INT16] = 2, [J_UINT16] = 2, [J_INT32] = 4,
                                   [J_UINT32] = 4, [J_INT64] = 8, [J_UINT64] = 8, [J_DOUBLE] = 8};
    if (type >= J_LITERAL && type <= J_DOUBLE && n < fixed[type])
        return bad(w, "truncated scalar");
    switch (type) {
    case J_SMALL_OBJ: case J_LARGE_OBJ: case J_SMALL_ARR: case J_LARGE_ARR:
        return container(w, type, p, n, depth);
    case J_LITERAL:
        switch (p[0]) {
        case 0: return puts_(w, "null");
        case 1: return puts_(w, "true");
        case 2: return puts_(w, "false");
        default: return bad(w, "unknown literal");
        }
    case J_INT16: return number(w, "%lld", (int16_t)le(p, 2), 0, false);
    case J_UINT16: return number(w, "%lld", 0, le(p, 2), true);
    case J_INT32: return number(w, "%lld", (int32_t)le(p, 4), 0, false);
    case J_UINT32: return number(w, "%lld", 0, le(p, 4), true);
    case J_INT64: return number(w, "%lld", (long long)le(p, 8), 0, false);
    case J_UINT64: return number(w, "%lld", 0, le(p, 8), true);
    case J_DOUBLE: {
        uint64_t bits = le(p, 8);
        double d;
        memcpy(&d, &bits, 8);
        char buf[48];
        size_t len = sl_binlog_double_text(d, buf);
        if (!strpbrk(buf, ".eIn")) { /* MySQL marks a double without a fraction: 1.0 */
            memcpy(buf + len, ".0", 3);
            len += 2;
        }
        return put(w, buf, len);
    }
    case J_STRING: {
        size_t used;
        uint64_t len;
        if (varlen(w, p, n, &used, &len))
            return -1;
        if (len > n - used)
            return bad(w, "string longer than its container");
        return quoted(w, p + used, (size_t)len);
    }
    case J_OPAQUE:
        return opaque(w, p, n);
    default:
        return bad(w, "unknown value type");
    }
}

int sl_binlog_json_text(const unsigned char *p, size_t n, char *out, size_t cap, size_t *used,
                        sl_err_t *err)
{
    jw_t w = {.o = out, .cap = cap, .err = err};
    *used = 0;
    if (n == 0) { /* MySQL writes an empty value for a JSON null */
        if (puts_(&w, "null"))
            return -1;
        *used = w.len;
        return 0;
    }
    if (value(&w, p[0], p + 1, n - 1, 0))
        return -1;
    *used = w.len;
    return 0;
}
