/*
 * binlog.c: decoding binlog v4 events and row images (see binlog.h). Table maps live
 * in binlog_tmap.c, values (the bytes of one cell to canonical text) in binlog_value.c
 * and binlog_text.c.
 *
 * A cursor (binlog_rd.h) walks the input; every read checks the bytes that remain
 * first, so a short or lying event fails with SL_E_PROTOCOL instead of reading past the
 * end.
 */
#include "source/mysql/binlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "source/mysql/binlog_rd.h"

/* ---- CRC-32 ------------------------------------------------------------------- */

/* The binlog's checksum is zlib's CRC-32; zlib computes it several bytes at a time
 * (a byte-wise table took a sixth of the reader's time at 1 M events). */
uint32_t sl_binlog_crc32(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *s = p;
    uLong c = crc;
    while (n > 0) {
        uInt k = n > (1u << 30) ? 1u << 30 : (uInt)n;
        c = crc32(c, s, k);
        s += k;
        n -= k;
    }
    return (uint32_t)c;
}

/* ---- events ------------------------------------------------------------------- */

void sl_binlog_fmt_init(sl_binlog_fmt_t *f, bool checksum, bool verify)
{
    memset(f, 0, sizeof *f);
    f->checksum = checksum;
    f->verify = verify;
    /* post-header lengths of binlog v4 as every server since 5.6 writes them */
    f->post[SL_BL_QUERY] = 13;
    f->post[SL_BL_ROTATE] = 8;
    f->post[SL_BL_TABLE_MAP] = 8;
    for (int t = SL_BL_WRITE_V1; t <= SL_BL_DELETE_V1; t++)
        f->post[t] = 8;
    for (int t = SL_BL_WRITE_V2; t <= SL_BL_DELETE_V2; t++)
        f->post[t] = 10;
    f->post[SL_BL_GTID_MYSQL] = f->post[SL_BL_ANON_GTID] = 42;
    f->post[SL_BL_GTID_MARIADB] = 19;
}

/* "10.11.6-MariaDB-log" -> 101106; 0 when unparsable. */
static long version_num(const char *v)
{
    long part[3] = {0, 0, 0};
    int i = 0;
    for (const char *s = v; *s && i < 3; s++) {
        if (*s >= '0' && *s <= '9') {
            if (part[i] < 1000)
                part[i] = part[i] * 10 + (*s - '0');
        } else if (*s == '.') {
            i++;
        } else {
            break;
        }
    }
    return part[0] * 10000 + part[1] * 100 + part[2];
}

static int decode_fde(rd_t *r, sl_binlog_fmt_t *fmt, const unsigned char *ev, size_t evlen)
{
    uint64_t binlog_version;
    if (uint_n(r, 2, &binlog_version) || need(r, 50 + 4 + 1))
        return -1;
    if (binlog_version != 4)
        return bad(r, "binlog version is not 4");
    char version[51];
    memcpy(version, r->p + r->pos, 50);
    version[50] = '\0';
    r->pos += 54;
    if (r->p[r->pos++] != SL_BINLOG_HEADER)
        return bad(r, "event header length is not 19");
    long vn = version_num(version);
    bool mariadb = strstr(version, "MariaDB") != NULL;
    /* A checksum-aware server (MySQL 5.6.1+, MariaDB 5.3+) always ends its
     * FORMAT_DESCRIPTION with the checksum algorithm and a CRC32 field. */
    bool aware = mariadb ? vn >= 50300 : vn >= 50601;
    size_t tail = aware ? 5 : 0;
    if (r->len - r->pos < tail)
        return bad(r, "truncated");
    size_t npost = r->len - r->pos - tail;
    bool checksum = false;
    if (aware) {
        uint8_t alg = r->p[r->len - 5];
        if (alg != 0 && alg != 1)
            return bad(r, "unknown checksum algorithm");
        checksum = alg == 1;
        if (checksum && fmt->verify) {
            /* the server computes it with the "binlog in use" flag clear */
            unsigned char h[SL_BINLOG_HEADER];
            memcpy(h, ev, sizeof h);
            h[17] &= (unsigned char)~0x01;
            uint32_t crc = sl_binlog_crc32(sl_binlog_crc32(0, h, sizeof h), ev + sizeof h,
                                           evlen - 4 - sizeof h);
            if (crc != (uint32_t)le(ev + evlen - 4, 4))
                return bad(r, "checksum mismatch");
        }
    }
    memset(fmt->post, 0, sizeof fmt->post);
    for (size_t i = 0; i < npost && i < 255; i++)
        fmt->post[i + 1] = r->p[r->pos + i];
    fmt->checksum = checksum;
    fmt->have_fde = true;
    fmt->mariadb = mariadb;
    memcpy(fmt->version, version, sizeof version);
    return 0;
}

int sl_binlog_event_decode(const void *data, size_t len, sl_binlog_fmt_t *fmt,
                           sl_binlog_event_t *ev, sl_err_t *err)
{
    rd_t r = {.p = data, .len = len, .err = err, .what = "event"};
    memset(ev, 0, sizeof *ev);
    if (need(&r, SL_BINLOG_HEADER))
        return -1;
    const unsigned char *h = r.p;
    ev->timestamp = (uint32_t)le(h, 4);
    ev->type = h[4];
    ev->server_id = (uint32_t)le(h + 5, 4);
    ev->size = (uint32_t)le(h + 9, 4);
    ev->log_pos = (uint32_t)le(h + 13, 4);
    ev->flags = (uint16_t)le(h + 17, 2);
    if (ev->size != len)
        return bad(&r, "event length does not match its header");
    r.pos = SL_BINLOG_HEADER;
    if (ev->type == SL_BL_FORMAT) {
        r.what = "FORMAT_DESCRIPTION event";
        if (decode_fde(&r, fmt, data, len))
            return -1;
        ev->body = r.p + SL_BINLOG_HEADER;
        ev->len = len - SL_BINLOG_HEADER;
        return 0;
    }
    size_t end = len;
    if (fmt->checksum) {
        if (len < SL_BINLOG_HEADER + 4)
            return bad(&r, "no room for the checksum");
        end -= 4;
        if (fmt->verify && sl_binlog_crc32(0, data, end) != (uint32_t)le(r.p + end, 4)) {
            sl_err_set(err, SL_E_PROTOCOL, "binlog event of type %u at end position %u fails its "
                                           "CRC32 checksum", ev->type, ev->log_pos);
            return -1;
        }
    }
    ev->body = r.p + SL_BINLOG_HEADER;
    ev->len = end - SL_BINLOG_HEADER;
    rd_t b = {.p = ev->body, .len = ev->len, .err = err};
    uint64_t v;
    switch (ev->type) {
    case SL_BL_ROTATE:
        b.what = "ROTATE event";
        if (uint_n(&b, 8, &ev->rotate.pos) || skip(&b, fmt->post[SL_BL_ROTATE] > 8 ?
                                                           fmt->post[SL_BL_ROTATE] - 8u : 0))
            return -1;
        ev->rotate.name = (const char *)b.p + b.pos;
        ev->rotate.namelen = b.len - b.pos;
        if (ev->rotate.namelen == 0 || ev->rotate.namelen > 512)
            return bad(&b, "bad file name length");
        return 0;
    case SL_BL_QUERY:
    case SL_BL_QUERY_COMPRESSED: {
        b.what = "QUERY event";
        uint64_t dblen, error, status;
        size_t post = fmt->post[ev->type] ? fmt->post[ev->type] : 13;
        if (post < 13)
            return bad(&b, "post-header too short");
        if (skip(&b, 8) || uint_n(&b, 1, &dblen) || uint_n(&b, 2, &error) || uint_n(&b, 2, &status) ||
            skip(&b, post - 13) || skip(&b, status))
            return -1;
        if (need(&b, dblen + 1))
            return -1;
        ev->query.db = (const char *)b.p + b.pos;
        ev->query.dblen = dblen;
        if (b.p[b.pos + dblen] != '\0')
            return bad(&b, "database name not terminated");
        b.pos += dblen + 1;
        ev->query.error = (uint16_t)error;
        ev->query.sql = (const char *)b.p + b.pos;
        ev->query.sqllen = b.len - b.pos;
        return 0;
    }
    case SL_BL_XID:
        b.what = "XID event";
        return uint_n(&b, 8, &ev->xid.xid);
    case SL_BL_GTID_MARIADB:
        b.what = "GTID event";
        if (uint_n(&b, 8, &ev->gtid.seq) || uint_n(&b, 4, &v))
            return -1;
        ev->gtid.domain = (uint32_t)v;
        if (uint_n(&b, 1, &v))
            return -1;
        ev->gtid.flags = (uint8_t)v;
        return 0;
    case SL_BL_GTID_MYSQL:
    case SL_BL_ANON_GTID:
        b.what = "GTID_LOG event";
        if (uint_n(&b, 1, &v) || skip(&b, 16) || uint_n(&b, 8, &ev->gtid.seq))
            return -1;
        ev->gtid.flags = (uint8_t)v;
        return 0;
    case SL_BL_HEARTBEAT:
        ev->heartbeat.name = (const char *)b.p;
        ev->heartbeat.namelen = b.len > 512 ? 0 : b.len;
        return 0;
    default:
        return 0;
    }
}

/* ---- rows events ---------------------------------------------------------------- */

int sl_binlog_rows_decode(const sl_binlog_event_t *ev, const sl_binlog_fmt_t *fmt,
                          sl_binlog_rows_t *rows, sl_err_t *err)
{
    memset(rows, 0, sizeof *rows);
    rd_t r = {.p = ev->body, .len = ev->len, .err = err, .what = "rows event"};
    bool v2 = ev->type >= SL_BL_WRITE_V2 && ev->type <= SL_BL_DELETE_V2;
    int k = ev->type - (v2 ? SL_BL_WRITE_V2 : SL_BL_WRITE_V1);
    if (!v2 && (ev->type < SL_BL_WRITE_V1 || ev->type > SL_BL_DELETE_V1))
        return bad(&r, "not a rows event");
    rows->kind = k == 0 ? 'I' : k == 1 ? 'U' : 'D';
    uint64_t flags, extra;
    if (table_id(&r, fmt, ev->type, &rows->table_id) || uint_n(&r, 2, &flags))
        return -1;
    rows->flags = (uint16_t)flags;
    if (v2) {
        if (uint_n(&r, 2, &extra))
            return -1;
        if (extra < 2)
            return bad(&r, "bad extra data length");
        if (skip(&r, extra - 2))
            return -1;
    } else if (fmt->post[ev->type] > r.pos && skip(&r, fmt->post[ev->type] - r.pos)) {
        return -1;
    }
    size_t ncols;
    if (count(&r, 0, &ncols))
        return -1;
    if (ncols == 0 || ncols > SL_BINLOG_MAX_COLS)
        return bad(&r, "column count out of range");
    rows->ncols = (int)ncols;
    size_t nbytes = (ncols + 7) / 8;
    if (need(&r, nbytes))
        return -1;
    rows->present = r.p + r.pos;
    r.pos += nbytes;
    if (rows->kind == 'U') {
        if (need(&r, nbytes))
            return -1;
        rows->present_after = r.p + r.pos;
        r.pos += nbytes;
    }
    rows->p = r.p + r.pos;
    rows->len = r.len - r.pos;
    rows->pos = 0;
    return 0;
}

static bool bit(const unsigned char *bits, int i)
{
    return (bits[i / 8] >> (i % 8)) & 1;
}

/* The byte length of one value of column c at r's cursor; for prefixed values the
 * prefix is consumed and *len is the payload. */
static int value_span(rd_t *r, const sl_binlog_col_t *c, uint32_t *len)
{
    *len = 0;
    uint64_t n;
    size_t fixed;
    switch (c->type) {
    case SL_BT_TINY: case SL_BT_YEAR: fixed = 1; break;
    case SL_BT_SHORT: fixed = 2; break;
    case SL_BT_INT24: case SL_BT_DATE: case SL_BT_NEWDATE: case SL_BT_TIME: fixed = 3; break;
    case SL_BT_LONG: case SL_BT_FLOAT: case SL_BT_TIMESTAMP: fixed = 4; break;
    case SL_BT_LONGLONG: case SL_BT_DOUBLE: case SL_BT_DATETIME: fixed = 8; break;
    case SL_BT_NULL: fixed = 0; break;
    case SL_BT_TIME2: fixed = 3 + (c->meta + 1) / 2; break;
    case SL_BT_DATETIME2: fixed = 5 + (c->meta + 1) / 2; break;
    case SL_BT_TIMESTAMP2: fixed = 4 + (c->meta + 1) / 2; break;
    case SL_BT_BIT: fixed = (c->meta + 7) / 8; break;
    case SL_BT_ENUM: case SL_BT_SET: fixed = c->meta; break;
    case SL_BT_NEWDECIMAL: {
        static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
        int prec = (int)(c->meta >> 8), scale = (int)(c->meta & 0xff), intg = prec - scale;
        fixed = (size_t)(intg / 9 * 4 + dig2bytes[intg % 9] + scale / 9 * 4 + dig2bytes[scale % 9]);
        break;
    }
    case SL_BT_VARCHAR: case SL_BT_VAR_STRING: case SL_BT_STRING: case BT_VARCHAR_COMPRESSED:
        if (uint_n(r, c->meta < 256 ? 1 : 2, &n))
            return -1;
        fixed = (size_t)n;
        break;
    case SL_BT_BLOB: case SL_BT_TINY_BLOB: case SL_BT_MEDIUM_BLOB: case SL_BT_LONG_BLOB:
    case SL_BT_GEOMETRY: case SL_BT_JSON: case BT_BLOB_COMPRESSED:
        if (uint_n(r, (int)c->meta, &n))
            return -1;
        fixed = (size_t)n;
        break;
    default:
        return sl_err_set(r->err, SL_E_SCHEMA, "binlog column type %u is not supported", c->type);
    }
    if (need(r, fixed))
        return -1;
    *len = (uint32_t)fixed;
    return 0;
}

static int image(rd_t *r, const sl_binlog_tmap_t *tm, const unsigned char *present,
                 sl_binlog_cell_t *cells)
{
    int n = 0;
    for (int i = 0; i < tm->ncols; i++)
        n += bit(present, i);
    size_t nbytes = ((size_t)n + 7) / 8;
    if (need(r, nbytes))
        return -1;
    const unsigned char *nulls = r->p + r->pos;
    r->pos += nbytes;
    int k = 0;
    for (int i = 0; i < tm->ncols; i++) {
        sl_binlog_cell_t *c = &cells[i];
        *c = (sl_binlog_cell_t){0};
        if (!bit(present, i))
            continue;
        if (bit(nulls, k++)) {
            c->state = 1;
            continue;
        }
        uint32_t len;
        if (value_span(r, &tm->cols[i], &len))
            return -1;
        c->state = 2;
        c->p = r->p + r->pos;
        c->len = len;
        r->pos += len;
    }
    return 0;
}

int sl_binlog_rows_next(sl_binlog_rows_t *rows, const sl_binlog_tmap_t *tm, sl_binlog_cell_t *before,
                        sl_binlog_cell_t *after, sl_err_t *err)
{
    rd_t r = {.p = rows->p, .len = rows->len, .pos = rows->pos, .err = err, .what = "row image"};
    if (r.pos >= r.len)
        return 0;
    if (rows->ncols != tm->ncols) {
        sl_err_set(err, SL_E_PROTOCOL, "a rows event of table %s.%s has %d columns, its table map %d",
                   tm->db, tm->table, rows->ncols, tm->ncols);
        return -1;
    }
    int rc = 0;
    switch (rows->kind) {
    case 'I': rc = image(&r, tm, rows->present, after); break;
    case 'D': rc = image(&r, tm, rows->present, before); break;
    default:
        rc = image(&r, tm, rows->present, before) || image(&r, tm, rows->present_after, after);
        break;
    }
    if (rc) {
        if (err && err->code == SL_E_PROTOCOL)
            sl_err_prefix(err, "table %s.%s: ", tm->db, tm->table);
        return -1;
    }
    rows->pos = r.pos;
    return 1;
}
