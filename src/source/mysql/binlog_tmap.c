/*
 * binlog_tmap.c: TABLE_MAP events (see binlog.h): the table id, the database and table
 * names, the column types with their metadata, and the optional metadata of
 * binlog_row_metadata=FULL (column names, signedness, character sets, ENUM/SET labels,
 * the primary key). A table map is copied (sl_binlog_tmap_decode allocates it), because
 * the caller keeps it across events.
 */
#include "source/mysql/binlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/mysql/binlog_rd.h"

/* ---- table maps --------------------------------------------------------------- */

int sl_binlog_table_id(const sl_binlog_event_t *ev, const sl_binlog_fmt_t *fmt, uint64_t *id,
                       sl_err_t *err)
{
    rd_t r = {.p = ev->body, .len = ev->len, .err = err, .what = "rows event"};
    return table_id(&r, fmt, ev->type, id);
}

/* Columns with a SIGNEDNESS bit. MariaDB counts YEAR (its YEAR is a TINYINT
 * underneath), MySQL does not. */
static bool is_numeric(uint8_t t, bool mariadb)
{
    switch (t) {
    case SL_BT_YEAR:
        return mariadb;
    case SL_BT_TINY: case SL_BT_SHORT: case SL_BT_INT24: case SL_BT_LONG: case SL_BT_LONGLONG:
    case SL_BT_FLOAT: case SL_BT_DOUBLE: case SL_BT_NEWDECIMAL: case SL_BT_DECIMAL:
        return true;
    default:
        return false;
    }
}

/* Columns with a character set of their own (DEFAULT_CHARSET / COLUMN_CHARSET).
 * MariaDB counts GEOMETRY too (with the binary set), MySQL does not. */
static bool is_character(uint8_t t, bool mariadb)
{
    switch (t) {
    case SL_BT_STRING: case SL_BT_VARCHAR: case SL_BT_VAR_STRING: case SL_BT_BLOB:
    case SL_BT_TINY_BLOB: case SL_BT_MEDIUM_BLOB: case SL_BT_LONG_BLOB:
        return true;
    case SL_BT_GEOMETRY:
        return mariadb;
    default:
        return false;
    }
}

static bool is_blob(uint8_t t)
{
    return t == SL_BT_BLOB || t == SL_BT_TINY_BLOB || t == SL_BT_MEDIUM_BLOB ||
           t == SL_BT_LONG_BLOB || t == SL_BT_GEOMETRY || t == SL_BT_JSON;
}

/* The per-type metadata of one column. */
static int col_meta(rd_t *r, sl_binlog_col_t *c)
{
    uint64_t v;
    switch (c->type) {
    case SL_BT_FLOAT: case SL_BT_DOUBLE:
    case SL_BT_TIME2: case SL_BT_DATETIME2: case SL_BT_TIMESTAMP2:
    case SL_BT_BLOB: case SL_BT_TINY_BLOB: case SL_BT_MEDIUM_BLOB: case SL_BT_LONG_BLOB:
    case SL_BT_GEOMETRY: case SL_BT_JSON: case BT_BLOB_COMPRESSED:
        if (uint_n(r, 1, &v))
            return -1;
        c->meta = (uint32_t)v;
        if (is_blob(c->type) && (c->meta < 1 || c->meta > 4))
            return bad(r, "bad blob length size");
        if ((c->type == SL_BT_FLOAT && v != 4) || (c->type == SL_BT_DOUBLE && v != 8))
            return bad(r, "bad floating point size");
        if ((c->type == SL_BT_TIME2 || c->type == SL_BT_DATETIME2 || c->type == SL_BT_TIMESTAMP2) &&
            v > 6)
            return bad(r, "fractional seconds above 6");
        return 0;
    case SL_BT_VARCHAR: case SL_BT_VAR_STRING: case BT_VARCHAR_COMPRESSED:
        if (uint_n(r, 2, &v))
            return -1;
        c->meta = (uint32_t)v;
        return 0;
    case SL_BT_BIT:
        if (need(r, 2))
            return -1;
        c->meta = (uint32_t)r->p[r->pos + 1] * 8 + r->p[r->pos];
        r->pos += 2;
        if (r->p[r->pos - 2] > 7 || c->meta > 64)
            return bad(r, "bad BIT length");
        return 0;
    case SL_BT_NEWDECIMAL:
        if (need(r, 2))
            return -1;
        c->meta = (uint32_t)r->p[r->pos] << 8 | r->p[r->pos + 1];
        r->pos += 2;
        if ((c->meta >> 8) < 1 || (c->meta >> 8) > 65 || (c->meta & 0xff) > 30 ||
            (c->meta & 0xff) > (c->meta >> 8))
            return bad(r, "bad DECIMAL precision or scale");
        return 0;
    case SL_BT_STRING: case SL_BT_ENUM: case SL_BT_SET: {
        if (need(r, 2))
            return -1;
        unsigned b0 = r->p[r->pos], b1 = r->p[r->pos + 1];
        r->pos += 2;
        unsigned real = b0, maxlen = b1;
        if ((b0 & 0x30) != 0x30) { /* long CHAR: two length bits hide in the type byte */
            real = b0 | 0x30;
            maxlen = b1 | (((b0 & 0x30) ^ 0x30) << 4);
        }
        if (real == SL_BT_ENUM || real == SL_BT_SET) {
            c->type = (uint8_t)real;
            c->meta = b1;
            if ((real == SL_BT_ENUM && (b1 < 1 || b1 > 2)) || (real == SL_BT_SET && (b1 < 1 || b1 > 8)))
                return bad(r, "bad ENUM/SET size");
        } else if (real == SL_BT_STRING) {
            c->meta = maxlen;
        } else {
            return bad(r, "unknown real type of a STRING column");
        }
        return 0;
    }
    default:
        return 0;
    }
}

/* Optional metadata that lists one value per column of a kind (charsets). */
/* Which columns a charset field lists: character columns or ENUM/SET ones. */
static bool of_kind(const sl_binlog_col_t *c, bool enumset, bool mariadb)
{
    return enumset ? c->type == SL_BT_ENUM || c->type == SL_BT_SET : is_character(c->type, mariadb);
}

static int per_kind(rd_t *r, size_t end, sl_binlog_tmap_t *tm, bool enumset, bool mariadb,
                    bool with_default)
{
    uint64_t def = 0;
    if (with_default) {
        if (lenenc(r, &def))
            return -1;
        for (int i = 0; i < tm->ncols; i++)
            if (of_kind(&tm->cols[i], enumset, mariadb))
                tm->cols[i].collation = (uint32_t)def;
        while (r->pos < end) { /* (index among the kind, collation) pairs */
            uint64_t idx, coll;
            if (lenenc(r, &idx) || lenenc(r, &coll))
                return -1;
            int k = 0;
            for (int i = 0; i < tm->ncols; i++)
                if (of_kind(&tm->cols[i], enumset, mariadb) && (uint64_t)k++ == idx)
                    tm->cols[i].collation = (uint32_t)coll;
        }
        return 0;
    }
    for (int i = 0; i < tm->ncols && r->pos < end; i++) {
        if (!of_kind(&tm->cols[i], enumset, mariadb))
            continue;
        uint64_t coll;
        if (lenenc(r, &coll))
            return -1;
        tm->cols[i].collation = (uint32_t)coll;
    }
    return 0;
}

static int labels(rd_t *r, size_t end, sl_binlog_tmap_t *tm, uint8_t type, size_t *nstrs, size_t capstrs)
{
    for (int i = 0; i < tm->ncols && r->pos < end; i++) {
        sl_binlog_col_t *c = &tm->cols[i];
        if (c->type != type)
            continue;
        size_t n;
        if (count(r, 1, &n))
            return -1;
        if (n > capstrs - *nstrs || n > 65535)
            return bad(r, "too many ENUM/SET values");
        c->labels = tm->strs + *nstrs;
        c->nlabels = (int)n;
        for (size_t k = 0; k < n; k++) {
            size_t len;
            if (count(r, 1, &len) || need(r, len))
                return -1;
            tm->strs[*nstrs] = (sl_binlog_str_t){(const char *)r->p + r->pos, len};
            (*nstrs)++;
            r->pos += len;
        }
    }
    return 0;
}

static int optional_metadata(rd_t *r, sl_binlog_tmap_t *tm, bool mariadb)
{
    size_t nstrs = 0, capstrs = r->len - r->pos;
    tm->strs = calloc(capstrs + 1, sizeof *tm->strs);
    if (!tm->strs)
        return sl_err_set(r->err, SL_E_LIMIT, "out of memory decoding a table map");
    while (r->pos < r->len) {
        uint64_t type;
        size_t len;
        if (uint_n(r, 1, &type) || count(r, 1, &len))
            return -1;
        size_t end = r->pos + len;
        rd_t f = *r; /* each field reads only its own bytes */
        f.len = end;
        int rc = 0;
        switch (type) {
        case 1: { /* SIGNEDNESS: a bit per numeric column, most significant first */
            int k = 0;
            for (int i = 0; i < tm->ncols; i++) {
                if (!is_numeric(tm->cols[i].type, mariadb))
                    continue;
                if ((size_t)(k / 8) >= len)
                    return bad(r, "SIGNEDNESS too short");
                tm->cols[i].is_unsigned = (f.p[f.pos + (size_t)k / 8] >> (7 - k % 8)) & 1;
                k++;
            }
            tm->has_signedness = true;
            break;
        }
        case 2: rc = per_kind(&f, end, tm, false, mariadb, true); break;
        case 3: rc = per_kind(&f, end, tm, false, mariadb, false); break;
        case 4: /* COLUMN_NAME */
            for (int i = 0; i < tm->ncols; i++) {
                size_t n;
                if (count(&f, 1, &n) || need(&f, n))
                    return -1;
                tm->cols[i].name = (sl_binlog_str_t){(const char *)f.p + f.pos, n};
                f.pos += n;
            }
            tm->has_names = true;
            break;
        case 5: rc = labels(&f, end, tm, SL_BT_SET, &nstrs, capstrs); break;
        case 6: rc = labels(&f, end, tm, SL_BT_ENUM, &nstrs, capstrs); break;
        case 7: /* GEOMETRY_TYPE */
            for (int i = 0; i < tm->ncols && f.pos < end; i++) {
                uint64_t g;
                if (tm->cols[i].type != SL_BT_GEOMETRY)
                    continue;
                if (lenenc(&f, &g))
                    return -1;
                tm->cols[i].geom_type = (uint32_t)g;
            }
            break;
        case 8: /* SIMPLE_PRIMARY_KEY */
        case 9: /* PRIMARY_KEY_WITH_PREFIX */
            while (f.pos < end) {
                uint64_t idx, prefix;
                if (lenenc(&f, &idx) || (type == 9 && lenenc(&f, &prefix)))
                    return -1;
                if (idx >= (uint64_t)tm->ncols)
                    return bad(&f, "primary key column out of range");
                tm->cols[idx].pk = true;
            }
            break;
        case 10: rc = per_kind(&f, end, tm, true, mariadb, true); break;
        case 11: rc = per_kind(&f, end, tm, true, mariadb, false); break;
        default: /* COLUMN_VISIBILITY and later: not needed */
            break;
        }
        if (rc)
            return -1;
        r->pos = end;
    }
    return 0;
}

void sl_binlog_tmap_free(sl_binlog_tmap_t *tm)
{
    if (!tm)
        return;
    free(tm->cols);
    free(tm->strs);
    free(tm->copy);
    free(tm);
}

bool sl_binlog_tmap_same(const sl_binlog_tmap_t *tm, const sl_binlog_event_t *ev)
{
    return tm && ev->type == SL_BL_TABLE_MAP && tm->copy_len == ev->len &&
           memcmp(tm->copy, ev->body, ev->len) == 0;
}

/* A NUL-terminated name of `n` bytes at r's cursor (the byte after must be NUL). */
static int cstr(rd_t *r, char **out)
{
    uint64_t n;
    if (uint_n(r, 1, &n) || need(r, n + 1))
        return -1;
    if (r->p[r->pos + n] != '\0' || memchr(r->p + r->pos, '\0', n))
        return bad(r, "name not terminated");
    *out = (char *)r->p + r->pos;
    r->pos += n + 1;
    return 0;
}

int sl_binlog_tmap_decode(const sl_binlog_event_t *ev, const sl_binlog_fmt_t *fmt,
                          sl_binlog_tmap_t **out, sl_err_t *err)
{
    sl_binlog_tmap_t *tm = calloc(1, sizeof *tm);
    unsigned char *copy = malloc(ev->len ? ev->len : 1);
    if (!tm || !copy) {
        free(tm);
        free(copy);
        return sl_err_set(err, SL_E_LIMIT, "out of memory decoding a table map");
    }
    memcpy(copy, ev->body, ev->len);
    tm->copy = copy;
    tm->copy_len = ev->len;
    rd_t r = {.p = copy, .len = ev->len, .err = err, .what = "TABLE_MAP event"};
    size_t post = fmt->post[SL_BL_TABLE_MAP];
    size_t ncols, metalen;
    if (table_id(&r, fmt, SL_BL_TABLE_MAP, &tm->table_id) || r.pos > post || skip(&r, post - r.pos) ||
        cstr(&r, &tm->db) || cstr(&r, &tm->table) || count(&r, 1, &ncols))
        goto fail;
    if (ncols == 0 || ncols > SL_BINLOG_MAX_COLS) {
        bad(&r, "column count out of range");
        goto fail;
    }
    tm->ncols = (int)ncols;
    tm->cols = calloc(ncols, sizeof *tm->cols);
    if (!tm->cols) {
        sl_err_set(err, SL_E_LIMIT, "out of memory decoding a table map");
        goto fail;
    }
    if (need(&r, ncols))
        goto fail;
    for (size_t i = 0; i < ncols; i++)
        tm->cols[i].type = r.p[r.pos + i];
    r.pos += ncols;
    if (count(&r, 1, &metalen) || need(&r, metalen))
        goto fail;
    rd_t m = r;
    m.len = r.pos + metalen;
    for (size_t i = 0; i < ncols; i++)
        if (col_meta(&m, &tm->cols[i]))
            goto fail;
    if (m.pos != m.len) {
        bad(&m, "metadata longer than its columns need");
        goto fail;
    }
    r.pos += metalen;
    size_t nbytes = (ncols + 7) / 8;
    if (need(&r, nbytes))
        goto fail;
    for (size_t i = 0; i < ncols; i++)
        tm->cols[i].nullable = (r.p[r.pos + i / 8] >> (i % 8)) & 1;
    r.pos += nbytes;
    if (optional_metadata(&r, tm, fmt->mariadb))
        goto fail;
    *out = tm;
    return 0;
fail:
    sl_binlog_tmap_free(tm);
    return -1;
}

