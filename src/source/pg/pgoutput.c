/*
 * pgoutput.c: decoding pgoutput protocol version 1 and 2 messages (see pgoutput.h).
 *
 * A cursor walks the input; every read checks the bytes that remain first, so a
 * short or lying message fails with SL_E_PROTOCOL instead of reading past the end.
 * Pure: no I/O, no allocation, no globals. Fuzzed by fuzz/fuzz_pgoutput.c.
 */
#include "source/pg/pgoutput.h"

#include <string.h>

typedef struct rd {
    const unsigned char *p;
    size_t len;
    size_t pos;
    sl_err_t *err;
    char what; /* message kind, for error messages */
} rd_t;

uint64_t sl_pgo_get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

uint32_t sl_pgo_get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void sl_pgo_put64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

int64_t sl_pgo_unix_us(int64_t pg_us)
{
    if (pg_us > INT64_MAX - SL_PGO_EPOCH_OFFSET_US)
        return INT64_MAX;
    return pg_us + SL_PGO_EPOCH_OFFSET_US;
}

static int bad(rd_t *r, const char *why)
{
    return sl_err_set(r->err, SL_E_PROTOCOL,
                      "malformed pgoutput message '%c' at byte %zu of %zu: %s",
                      r->what >= 32 && r->what < 127 ? r->what : '?', r->pos, r->len, why);
}

static int need(rd_t *r, size_t n)
{
    return r->len - r->pos < n ? bad(r, "truncated") : 0;
}

static int u8(rd_t *r, uint8_t *v)
{
    if (need(r, 1))
        return -1;
    *v = r->p[r->pos++];
    return 0;
}

static int u16(rd_t *r, uint16_t *v)
{
    if (need(r, 2))
        return -1;
    *v = (uint16_t)(r->p[r->pos] << 8 | r->p[r->pos + 1]);
    r->pos += 2;
    return 0;
}

static int u32(rd_t *r, uint32_t *v)
{
    if (need(r, 4))
        return -1;
    *v = sl_pgo_get32(r->p + r->pos);
    r->pos += 4;
    return 0;
}

static int u64(rd_t *r, uint64_t *v)
{
    if (need(r, 8))
        return -1;
    *v = sl_pgo_get64(r->p + r->pos);
    r->pos += 8;
    return 0;
}

static int ts(rd_t *r, int64_t *unix_us)
{
    uint64_t v;
    if (u64(r, &v))
        return -1;
    *unix_us = sl_pgo_unix_us((int64_t)v);
    return 0;
}

/* A NUL-terminated string; the NUL must lie inside the input. */
static int str(rd_t *r, const char **s)
{
    const void *nul = memchr(r->p + r->pos, '\0', r->len - r->pos);
    if (!nul)
        return bad(r, "unterminated string");
    *s = (const char *)r->p + r->pos;
    r->pos = (size_t)((const unsigned char *)nul - r->p) + 1;
    return 0;
}

static int tuple(rd_t *r, sl_pgo_datum_t *cols, int *ncols)
{
    uint16_t n;
    if (u16(r, &n))
        return -1;
    /* Int16 on the wire, but signed in PostgreSQL: anything above the limit is bogus. */
    if (n > SL_PGO_MAX_COLS)
        return bad(r, "too many columns in a tuple");
    for (int i = 0; i < n; i++) {
        sl_pgo_datum_t *d = &cols[i];
        uint8_t k;
        if (u8(r, &k))
            return -1;
        d->kind = (char)k;
        d->len = 0;
        d->p = NULL;
        if (k == 'n' || k == 'u')
            continue;
        if (k != 't' && k != 'b')
            return bad(r, "unknown tuple column kind");
        uint32_t len;
        if (u32(r, &len))
            return -1;
        /* Int32 on the wire; -1 would mean NULL in other protocols, never here. */
        if (len > INT32_MAX || need(r, len))
            return len > INT32_MAX ? bad(r, "negative value length") : -1;
        d->p = (const char *)r->p + r->pos;
        d->len = len;
        r->pos += len;
    }
    *ncols = n;
    return 0;
}

static int relation(rd_t *r, sl_pgo_msg_t *m)
{
    uint8_t ident;
    uint16_t n;
    if (u32(r, &m->rel.relid) || str(r, &m->rel.nspname) || str(r, &m->rel.relname) ||
        u8(r, &ident) || u16(r, &n))
        return -1;
    if (n > SL_PGO_MAX_COLS)
        return bad(r, "too many columns in a relation");
    m->rel.replident = (char)ident;
    for (int i = 0; i < n; i++) {
        sl_pgo_relcol_t *c = &m->relcols[i];
        uint8_t flags;
        uint32_t typmod;
        if (u8(r, &flags) || str(r, &c->name) || u32(r, &c->type) || u32(r, &typmod))
            return -1;
        c->key = flags & 1;
        c->typmod = (int32_t)typmod;
    }
    m->rel.ncols = n;
    return 0;
}

static int row(rd_t *r, sl_pgo_msg_t *m)
{
    uint8_t k;
    if (u32(r, &m->row.relid) || u8(r, &k))
        return -1;
    m->row.old_kind = 0;
    if (m->kind != SL_PGO_INSERT && (k == 'K' || k == 'O')) {
        m->row.old_kind = (char)k;
        if (tuple(r, m->oldt, &m->nold))
            return -1;
        if (m->kind == SL_PGO_DELETE)
            return 0;
        if (u8(r, &k))
            return -1;
    }
    if (m->kind == SL_PGO_DELETE)
        return bad(r, "a delete without an old key or row");
    if (k != 'N')
        return bad(r, "expected a new tuple ('N')");
    return tuple(r, m->newt, &m->nnew);
}

static int truncate_msg(rd_t *r, sl_pgo_msg_t *m)
{
    uint32_t n;
    if (u32(r, &n) || u8(r, &m->truncate.options))
        return -1;
    if (n > INT32_MAX / 4 || need(r, (size_t)n * 4))
        return n > INT32_MAX / 4 ? bad(r, "relation count out of range") : -1;
    m->truncate.nrels = (int)n;
    m->truncate.relids = r->p + r->pos;
    r->pos += (size_t)n * 4;
    return 0;
}

static int message(rd_t *r, sl_pgo_msg_t *m)
{
    uint32_t len;
    if (u8(r, &m->message.flags) || u64(r, &m->message.lsn) || str(r, &m->message.prefix) ||
        u32(r, &len))
        return -1;
    if (need(r, len))
        return -1;
    m->message.content = (const char *)r->p + r->pos;
    m->message.len = len;
    r->pos += len;
    return 0;
}

static int stream_msg(rd_t *r, sl_pgo_msg_t *m)
{
    uint8_t first;
    switch (m->kind) {
    case SL_PGO_STREAM_START:
        if (u32(r, &m->stream_start.xid) || u8(r, &first))
            return -1;
        m->stream_start.first = first == 1;
        return 0;
    case SL_PGO_STREAM_COMMIT:
        return u32(r, &m->stream_commit.xid) || u8(r, &m->stream_commit.flags) ||
                       u64(r, &m->stream_commit.commit_lsn) || u64(r, &m->stream_commit.end_lsn) ||
                       ts(r, &m->stream_commit.commit_us)
                   ? -1
                   : 0;
    case SL_PGO_STREAM_ABORT:
        return u32(r, &m->stream_abort.xid) || u32(r, &m->stream_abort.subxid) ? -1 : 0;
    default: /* Stream Stop: the kind byte alone */
        return 0;
    }
}

/* The messages that carry the xid of their (sub)transaction inside a stream block. */
static bool has_xid(uint8_t kind)
{
    switch (kind) {
    case SL_PGO_RELATION:
    case SL_PGO_TYPE:
    case SL_PGO_INSERT:
    case SL_PGO_UPDATE:
    case SL_PGO_DELETE:
    case SL_PGO_TRUNCATE:
    case SL_PGO_MESSAGE:
        return true;
    default:
        return false;
    }
}

int sl_pgo_decode(const void *data, size_t len, bool in_stream, sl_pgo_msg_t *m, sl_err_t *err)
{
    rd_t r = {.p = data, .len = len, .err = err};
    uint8_t kind;
    m->nold = m->nnew = 0;
    m->xid = 0;
    if (!data || u8(&r, &kind))
        return sl_err_set(err, SL_E_PROTOCOL, "empty pgoutput message");
    r.what = (char)kind;
    m->kind = (sl_pgo_kind_t)kind;
    if (in_stream && has_xid(kind) && u32(&r, &m->xid))
        return -1;
    int rc;
    switch (kind) {
    case SL_PGO_BEGIN:
        rc = u64(&r, &m->begin.final_lsn) || ts(&r, &m->begin.commit_us) ||
             u32(&r, &m->begin.xid);
        break;
    case SL_PGO_COMMIT:
        rc = u8(&r, &m->commit.flags) || u64(&r, &m->commit.commit_lsn) ||
             u64(&r, &m->commit.end_lsn) || ts(&r, &m->commit.commit_us);
        break;
    case SL_PGO_ORIGIN:
        rc = u64(&r, &m->origin.commit_lsn) || str(&r, &m->origin.name);
        break;
    case SL_PGO_RELATION:
        rc = relation(&r, m);
        break;
    case SL_PGO_TYPE:
        rc = u32(&r, &m->type.oid) || str(&r, &m->type.nspname) || str(&r, &m->type.typname);
        break;
    case SL_PGO_INSERT:
    case SL_PGO_UPDATE:
    case SL_PGO_DELETE:
        rc = row(&r, m);
        break;
    case SL_PGO_TRUNCATE:
        rc = truncate_msg(&r, m);
        break;
    case SL_PGO_MESSAGE:
        rc = message(&r, m);
        break;
    case SL_PGO_STREAM_START:
    case SL_PGO_STREAM_STOP:
    case SL_PGO_STREAM_COMMIT:
    case SL_PGO_STREAM_ABORT:
        rc = stream_msg(&r, m);
        break;
    default:
        return bad(&r, "unknown message kind");
    }
    if (rc)
        return -1;
    if (r.pos != r.len)
        return bad(&r, "trailing bytes");
    return 0;
}

uint32_t sl_pgo_truncate_relid(const sl_pgo_msg_t *m, int i)
{
    return sl_pgo_get32(m->truncate.relids + (size_t)i * 4);
}
