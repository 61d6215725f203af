/*
 * binlog_text.c: the character sets of binlog strings (see binlog.h): the set of a
 * collation id, and text in a column's set to UTF-8: utf8mb3/utf8mb4, ascii and binary
 * as they are (borrowed), latin1 (MySQL's cp1252), ucs2, utf16, utf16le and utf32
 * converted; other sets are refused with a hint. Pure but for Connector/C's table of
 * collations.
 */
#include "source/mysql/binlog.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <mysql.h>

/* An n-byte code unit at p, little- or big-endian. */
static uint32_t code_unit(const unsigned char *p, size_t n, bool little)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[little ? n - 1 - i : i];
    return v;
}

/* ---- character sets ------------------------------------------------------------ */

const char *sl_binlog_charset(uint32_t collation)
{
    if (collation == 0)
        return NULL;
    const MARIADB_CHARSET_INFO *cs = mariadb_get_charset_by_nr(collation);
    return cs ? cs->csname : NULL;
}

/* MySQL's latin1 is Windows-1252 with the five unassigned bytes kept as C1 controls. */
static const uint16_t cp1252_80[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

typedef enum { CS_UTF8, CS_BINARY, CS_LATIN1, CS_UCS2, CS_UTF16, CS_UTF16LE, CS_UTF32, CS_OTHER } cs_t;

static cs_t cs_kind(const char *name)
{
    if (!name || !strcmp(name, "utf8mb4") || !strcmp(name, "utf8mb3") || !strcmp(name, "utf8") ||
        !strcmp(name, "ascii"))
        return CS_UTF8;
    if (!strcmp(name, "binary"))
        return CS_BINARY;
    if (!strcmp(name, "latin1"))
        return CS_LATIN1;
    if (!strcmp(name, "ucs2"))
        return CS_UCS2;
    if (!strcmp(name, "utf16"))
        return CS_UTF16;
    if (!strcmp(name, "utf16le"))
        return CS_UTF16LE;
    if (!strcmp(name, "utf32"))
        return CS_UTF32;
    return CS_OTHER;
}

/* p[0..n) in character set k to UTF-8 in out (room for 3 n bytes). Returns the length,
 * or -1 on bytes that are not text in that set. */
static long to_utf8(cs_t k, const unsigned char *p, size_t n, char *out)
{
    size_t o = 0;
    switch (k) {
    case CS_LATIN1:
        for (size_t i = 0; i < n; i++) {
            uint32_t cp = p[i] >= 0x80 && p[i] < 0xA0 ? cp1252_80[p[i] - 0x80] : p[i];
            o += put_utf8(out + o, cp);
        }
        return (long)o;
    case CS_UCS2:
    case CS_UTF16:
    case CS_UTF16LE: {
        if (n % 2)
            return -1;
        bool little = k == CS_UTF16LE;
        for (size_t i = 0; i < n; i += 2) {
            uint32_t u = code_unit(p + i, 2, little);
            if (k != CS_UCS2 && u >= 0xD800 && u < 0xDC00) {
                if (i + 4 > n)
                    return -1;
                uint32_t lo = code_unit(p + i + 2, 2, little);
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return -1;
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                i += 2;
            } else if (u >= 0xD800 && u < 0xE000) {
                return -1;
            }
            o += put_utf8(out + o, u);
        }
        return (long)o;
    }
    case CS_UTF32:
        if (n % 4)
            return -1;
        for (size_t i = 0; i < n; i += 4) {
            uint32_t u = code_unit(p + i, 4, false);
            if (u > 0x10FFFF || (u >= 0xD800 && u < 0xE000))
                return -1;
            o += put_utf8(out + o, u);
        }
        return (long)o;
    default:
        memcpy(out, p, n);
        return (long)n;
    }
}

int sl_binlog_text_value(const sl_binlog_col_t *bc, const sl_column_t *col, const unsigned char *p,
                      size_t n, char *out, size_t *used, sl_value_t *v, sl_err_t *err)
{
    const char *name = sl_binlog_charset(bc->collation);
    if (!name)
        name = col->charset;
    cs_t k = cs_kind(name);
    if (k == CS_OTHER) {
        sl_err_set(err, SL_E_SCHEMA, "column \"%s\" uses character set %s, which change data "
                                     "capture cannot read from the binlog", col->name, name);
        sl_err_hint(err, "convert the table named above on the source (ALTER TABLE with CONVERT TO CHARACTER "
                         "SET utf8mb4), or leave it out of the stream");
        return -1;
    }
    if (k == CS_UTF8 || k == CS_BINARY) {
        v->p = (const char *)p;
        v->len = (int64_t)n;
        return 0;
    }
    long m = to_utf8(k, p, n, out + *used);
    if (m < 0)
        return sl_err_set(err, SL_E_PROTOCOL, "malformed %s value of column \"%s\" in a binlog row", name,
                          col->name);
    v->p = out + *used;
    v->len = m;
    *used += (size_t)m;
    return 0;
}
