/*
 * pg_text.c: the pure text half of the PostgreSQL helpers (see pg.h): quoting for
 * SQL text, and the COPY text format in both directions, encoder beside decoder.
 *
 * COPY text format (PostgreSQL docs, "COPY", File Formats): fields are separated by
 * tabs, rows end with a newline, NULL is \N, and backslash escapes the separators.
 * We always quote identifiers ourselves (rather than PQescapeIdentifier) so that
 * SQL can be built without a connection and tested without a server.
 */
#include "db/pg/pg.h"

#include <stdio.h>
#include "core/hex.h"

#include <string.h>

static const char hexdig[] = "0123456789abcdef";

int sl_pg_add_ident(sl_buf_t *b, const char *id, sl_err_t *err)
{
    if (sl_buf_addc(b, '"', err))
        return -1;
    for (const char *c = id; *c; c++) {
        if (*c == '"' && sl_buf_addc(b, '"', err))
            return -1;
        if (sl_buf_addc(b, *c, err))
            return -1;
    }
    return sl_buf_addc(b, '"', err);
}

const char *sl_pg_role_text(const char *user, char *buf, size_t size)
{
    if (!user || !user[0]) {
        snprintf(buf, size, "CURRENT_USER");
        return buf;
    }
    sl_buf_t b;
    sl_buf_init(&b, size > 1 ? size - 1 : 1);
    if (sl_pg_add_ident(&b, user, NULL))
        snprintf(buf, size, "CURRENT_USER"); /* too long for buf: a hint cannot show it */
    else
        snprintf(buf, size, "%s", b.data);
    sl_buf_free(&b);
    return buf;
}

int sl_pg_add_qname(sl_buf_t *b, const char *schema, const char *name, sl_err_t *err)
{
    if (sl_pg_add_ident(b, schema, err) || sl_buf_addc(b, '.', err))
        return -1;
    return sl_pg_add_ident(b, name, err);
}

int sl_pg_add_literal(sl_buf_t *b, const char *s, size_t n, sl_err_t *err)
{
    if (memchr(s, '\0', n))
        return sl_err_set(err, SL_E_DATA, "a PostgreSQL string cannot contain a NUL byte");
    bool bs = memchr(s, '\\', n) != NULL;
    if (bs && sl_buf_add(b, " E", 2, err)) /* the space keeps E from gluing to an identifier */
        return -1;
    if (sl_buf_addc(b, '\'', err))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if ((s[i] == '\'' || (bs && s[i] == '\\')) && sl_buf_addc(b, s[i], err))
            return -1;
        if (sl_buf_addc(b, s[i], err))
            return -1;
    }
    return sl_buf_addc(b, '\'', err);
}

int sl_pg_add_bytea_literal(sl_buf_t *b, const char *p, size_t n, sl_err_t *err)
{
    if (sl_buf_add(b, "'\\x", 3, err) || sl_buf_reserve(b, n * 2 + 9, err))
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        b->data[b->len++] = hexdig[c >> 4];
        b->data[b->len++] = hexdig[c & 15];
    }
    b->data[b->len] = '\0';
    return sl_buf_adds(b, "'::bytea", err);
}

/* ---- COPY text: encoder ----------------------------------------------------- */

int sl_pg_copy_escape(sl_buf_t *b, const char *p, size_t n, sl_err_t *err)
{
    /* Worst case every byte doubles; reserving once keeps the loop branch-light. */
    if (sl_buf_reserve(b, n * 2, err))
        return -1;
    char *o = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        switch (c) {
        case '\0':
            b->len = (size_t)(o - b->data);
            b->data[b->len] = '\0';
            return 1;
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        default: *o++ = c; break;
        }
    }
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return 0;
}

int sl_pg_copy_add_bytea(sl_buf_t *b, const char *p, size_t n, sl_err_t *err)
{
    /* bytea input takes \x<hex>; the backslash itself is escaped for COPY. */
    if (sl_buf_reserve(b, 3 + n * 2, err))
        return -1;
    char *o = b->data + b->len;
    *o++ = '\\';
    *o++ = '\\';
    *o++ = 'x';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        *o++ = hexdig[c >> 4];
        *o++ = hexdig[c & 15];
    }
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return 0;
}

/* ---- COPY text: decoder ----------------------------------------------------- */

size_t sl_pg_copy_unescape(char *s, size_t n)
{
    char *r = s, *end = s + n, *w = s;
    const char *bs = memchr(s, '\\', n);
    if (!bs)
        return n; /* the common case: nothing to rewrite */
    w = r = (char *)bs;
    while (r < end) {
        if (*r != '\\' || r + 1 >= end) {
            *w++ = *r++;
            continue;
        }
        char c = r[1];
        r += 2;
        switch (c) {
        case 'b': *w++ = '\b'; break;
        case 'f': *w++ = '\f'; break;
        case 'n': *w++ = '\n'; break;
        case 'r': *w++ = '\r'; break;
        case 't': *w++ = '\t'; break;
        case 'v': *w++ = '\v'; break;
        case 'x':
            if (r < end && sl_hex_value(*r) >= 0) {
                int v = sl_hex_value(*r++);
                if (r < end && sl_hex_value(*r) >= 0)
                    v = v * 16 + sl_hex_value(*r++);
                *w++ = (char)v;
            } else {
                *w++ = 'x';
            }
            break;
        default:
            if (c >= '0' && c <= '7') {
                int v = c - '0';
                for (int k = 0; k < 2 && r < end && *r >= '0' && *r <= '7'; k++)
                    v = v * 8 + (*r++ - '0');
                *w++ = (char)(v & 0xff);
            } else {
                *w++ = c;
            }
            break;
        }
    }
    return (size_t)(w - s);
}

int sl_pg_copy_split(char *line, size_t len, sl_value_t *vals, int nvals)
{
    if (len && line[len - 1] == '\n')
        len--;
    char *p = line, *end = line + len;
    int i = 0;
    for (;;) {
        char *tab = memchr(p, '\t', (size_t)(end - p));
        char *fe = tab ? tab : end;
        if (i < nvals) {
            size_t fl = (size_t)(fe - p);
            if (fl == 2 && p[0] == '\\' && p[1] == 'N') {
                vals[i].p = NULL;
                vals[i].len = -1;
            } else {
                vals[i].p = p;
                vals[i].len = (int64_t)sl_pg_copy_unescape(p, fl);
            }
        }
        i++;
        if (!tab)
            break;
        p = tab + 1;
    }
    return i;
}

long long sl_pg_hex_decode(char *s, size_t n)
{
    if (n < 2 || s[0] != '\\' || s[1] != 'x' || (n - 2) % 2)
        return -1;
    size_t o = 0;
    for (size_t i = 2; i < n; i += 2) {
        int hi = sl_hex_value(s[i]), lo = sl_hex_value(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        s[o++] = (char)(hi * 16 + lo);
    }
    return (long long)o;
}
