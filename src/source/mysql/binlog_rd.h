/*
 * binlog_rd.h: the cursor the binlog decoder files (binlog.c, binlog_tmap.c) read their
 * input with: every read checks the bytes that remain first, so a short or lying event
 * fails with SL_E_PROTOCOL instead of reading past the end. Integers in the binlog are
 * little-endian unless said otherwise. Not a public interface (binlog.h is).
 */
#ifndef SL_SOURCE_MYSQL_BINLOG_RD_H
#define SL_SOURCE_MYSQL_BINLOG_RD_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "source/mysql/binlog.h"

/* MariaDB's compressed column types (column_compression), not carried. */
#define BT_VARCHAR_COMPRESSED 140
#define BT_BLOB_COMPRESSED 141

typedef struct rd {
    const unsigned char *p;
    size_t len;
    size_t pos;
    sl_err_t *err;
    const char *what; /* for error messages */
} rd_t;

static inline int bad(rd_t *r, const char *why)
{
    return sl_err_set(r->err, SL_E_PROTOCOL, "malformed binlog %s at byte %zu of %zu: %s", r->what,
                      r->pos, r->len, why);
}

static inline int need(rd_t *r, size_t n)
{
    return r->len - r->pos < n ? bad(r, "truncated") : 0;
}

static inline uint64_t le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static inline int uint_n(rd_t *r, int n, uint64_t *v)
{
    *v = 0;
    if (need(r, (size_t)n))
        return -1;
    *v = le(r->p + r->pos, n);
    r->pos += (size_t)n;
    return 0;
}

static inline int skip(rd_t *r, size_t n)
{
    if (need(r, n))
        return -1;
    r->pos += n;
    return 0;
}

/* A length-encoded ("packed") integer. */
static inline int lenenc(rd_t *r, uint64_t *v)
{
    *v = 0;
    if (need(r, 1))
        return -1;
    unsigned char c = r->p[r->pos++];
    if (c < 251) {
        *v = c;
        return 0;
    }
    if (c == 251 || c == 255)
        return bad(r, "bad packed integer");
    return uint_n(r, c == 252 ? 2 : c == 253 ? 3 : 8, v);
}

/* A lenenc count that must fit in what remains (each unit at least `unit` bytes). */
static inline int count(rd_t *r, size_t unit, size_t *n)
{
    uint64_t v;
    *n = 0;
    if (lenenc(r, &v))
        return -1;
    if (unit && v > (r->len - r->pos) / unit)
        return bad(r, "count larger than the event");
    *n = (size_t)v;
    return 0;
}


/* The table id of a TABLE_MAP or rows event (6 bytes; 4 and 2 unused before MySQL 5.1). */
static inline int table_id(rd_t *r, const sl_binlog_fmt_t *fmt, uint8_t type, uint64_t *id)
{
    size_t post = fmt->post[type];
    if (post == 6) /* MySQL 5.0: 4-byte table ids */
        return uint_n(r, 4, id) || skip(r, 2);
    if (post < 8)
        return bad(r, "post-header too short");
    return uint_n(r, 6, id);
}

#endif
