/*
 * thrift.c: the Thrift compact protocol, enough for Parquet's metadata (PageHeader,
 * FileMetaData), both ways.
 *
 * Writer (sl_tw_*): field headers with id deltas, zigzag varints, binaries, lists and
 * nested structs. Errors (a buffer limit) stick; check sl_tw_done().
 *
 * Reader (sl_tr_*): a cursor over bytes that never reads past its end. Field headers,
 * varints, binaries (borrowed: they point into the input), list headers and skipping of
 * any value the caller does not want, nested at most SL_TR_DEPTH deep. Running out of
 * input sets `eof` as well as `failed`, so a caller reading a header from a window of a
 * file can tell "read more bytes" from "malformed".
 */
#include "target/fmt/parquet_int.h"

void sl_tw_init(sl_tw_t *w, sl_buf_t *b, sl_err_t *err)
{
    w->b = b;
    w->depth = 0;
    w->last[0] = 0;
    w->failed = false;
    w->err = err;
}

static void byte(sl_tw_t *w, uint8_t c)
{
    if (!w->failed && sl_buf_addc(w->b, (char)c, w->err) < 0)
        w->failed = true;
}

static void varint(sl_tw_t *w, uint64_t v)
{
    if (!w->failed && sl_buf_add_varint(w->b, v, w->err) < 0)
        w->failed = true;
}

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

static void field(sl_tw_t *w, int id, int type)
{
    int delta = id - w->last[w->depth];
    if (delta > 0 && delta <= 15) {
        byte(w, (uint8_t)(delta << 4 | type));
    } else {
        byte(w, (uint8_t)type);
        varint(w, zigzag(id));
    }
    w->last[w->depth] = (int16_t)id;
}

void sl_tw_i8(sl_tw_t *w, int id, int8_t v)
{
    field(w, id, TC_BYTE);
    byte(w, (uint8_t)v);
}

void sl_tw_i16(sl_tw_t *w, int id, int16_t v)
{
    field(w, id, TC_I16);
    varint(w, zigzag(v));
}

void sl_tw_i32(sl_tw_t *w, int id, int32_t v)
{
    field(w, id, TC_I32);
    varint(w, zigzag(v));
}

void sl_tw_i64(sl_tw_t *w, int id, int64_t v)
{
    field(w, id, TC_I64);
    varint(w, zigzag(v));
}

void sl_tw_bool(sl_tw_t *w, int id, bool v) { field(w, id, v ? TC_TRUE : TC_FALSE); }

void sl_tw_raw_bin(sl_tw_t *w, const void *p, size_t n)
{
    varint(w, n);
    if (!w->failed && sl_buf_add(w->b, p, n, w->err) < 0)
        w->failed = true;
}

void sl_tw_bin(sl_tw_t *w, int id, const void *p, size_t n)
{
    field(w, id, TC_BINARY);
    sl_tw_raw_bin(w, p, n);
}

static void push(sl_tw_t *w)
{
    if (w->depth + 1 >= (int)(sizeof w->last / sizeof w->last[0])) {
        if (!w->failed)
            sl_err_set(w->err, SL_E_INTERNAL, "thrift structs nested too deep");
        w->failed = true;
        return;
    }
    w->last[++w->depth] = 0;
}

void sl_tw_struct(sl_tw_t *w, int id)
{
    field(w, id, TC_STRUCT);
    push(w);
}

void sl_tw_elem(sl_tw_t *w) { push(w); }

void sl_tw_end(sl_tw_t *w)
{
    byte(w, 0);
    if (w->depth > 0)
        w->depth--;
}

void sl_tw_empty(sl_tw_t *w, int id)
{
    sl_tw_struct(w, id);
    sl_tw_end(w);
}

void sl_tw_list(sl_tw_t *w, int id, int elem, uint32_t n)
{
    field(w, id, TC_LIST);
    if (n < 15) {
        byte(w, (uint8_t)(n << 4 | (uint32_t)elem));
    } else {
        byte(w, (uint8_t)(0xf0 | elem));
        varint(w, n);
    }
}

void sl_tw_raw_i32(sl_tw_t *w, int32_t v) { varint(w, zigzag(v)); }

int sl_tw_done(sl_tw_t *w)
{
    byte(w, 0);
    return w->failed ? -1 : 0;
}

/* --- reader ---------------------------------------------------------------------------- */

void sl_tr_init(sl_tr_t *r, const void *p, size_t n)
{
    r->p = p;
    r->end = r->p + n;
    r->depth = 0;
    r->last[0] = 0;
    r->failed = r->eof = false;
}

static int bad(sl_tr_t *r)
{
    r->failed = true;
    return -1;
}

static int rbyte(sl_tr_t *r, uint8_t *c)
{
    if (r->failed)
        return -1;
    if (r->p >= r->end) {
        r->eof = true;
        return bad(r);
    }
    *c = *r->p++;
    return 0;
}

static int rvarint(sl_tr_t *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t c;
        if (rbyte(r, &c) < 0)
            return -1;
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return bad(r); /* more than 10 bytes */
}

static int64_t unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

int sl_tr_field(sl_tr_t *r, int *id, int *type)
{
    uint8_t c;
    if (rbyte(r, &c) < 0)
        return -1;
    if (c == 0) { /* STOP: the struct ends */
        if (r->depth > 0)
            r->depth--;
        return 0;
    }
    *type = c & 0x0f;
    int delta = c >> 4;
    if (delta) {
        *id = r->last[r->depth] + delta;
    } else {
        uint64_t v;
        if (rvarint(r, &v) < 0)
            return -1;
        int64_t z = unzigzag(v);
        if (z < INT16_MIN || z > INT16_MAX)
            return bad(r);
        *id = (int)z;
    }
    if (*id < INT16_MIN || *id > INT16_MAX)
        return bad(r);
    r->last[r->depth] = (int16_t)*id;
    return 1;
}

int sl_tr_int(sl_tr_t *r, int type, int64_t *v)
{
    if (type == TC_BYTE) {
        uint8_t c;
        if (rbyte(r, &c) < 0)
            return -1;
        *v = (int8_t)c;
        return 0;
    }
    if (type != TC_I16 && type != TC_I32 && type != TC_I64)
        return bad(r);
    uint64_t u;
    if (rvarint(r, &u) < 0)
        return -1;
    *v = unzigzag(u);
    if ((type == TC_I16 && (*v < INT16_MIN || *v > INT16_MAX)) ||
        (type == TC_I32 && (*v < INT32_MIN || *v > INT32_MAX)))
        return bad(r);
    return 0;
}

int sl_tr_i32(sl_tr_t *r, int type, int32_t *v)
{
    int64_t x;
    if (sl_tr_int(r, type, &x) < 0)
        return -1;
    if (x < INT32_MIN || x > INT32_MAX)
        return bad(r);
    *v = (int32_t)x;
    return 0;
}

int sl_tr_bool(sl_tr_t *r, int type, bool *v)
{
    if (type == TC_TRUE || type == TC_FALSE) { /* a field: the value is the type */
        *v = type == TC_TRUE;
        return r->failed ? -1 : 0;
    }
    return bad(r);
}

int sl_tr_bin(sl_tr_t *r, int type, const uint8_t **p, size_t *n)
{
    uint64_t len;
    if (type != TC_BINARY)
        return bad(r);
    if (rvarint(r, &len) < 0)
        return -1;
    if (len > (uint64_t)(r->end - r->p)) {
        r->eof = true;
        return bad(r);
    }
    *p = r->p;
    *n = (size_t)len;
    r->p += len;
    return 0;
}

int sl_tr_list(sl_tr_t *r, int type, int *elem, uint32_t *n)
{
    uint8_t c;
    if ((type != TC_LIST && type != TC_SET) || rbyte(r, &c) < 0)
        return bad(r);
    *elem = c & 0x0f;
    uint64_t size = c >> 4;
    if (size == 15 && rvarint(r, &size) < 0)
        return -1;
    /* Every element takes at least one byte: a larger count is a lie, not a big list. */
    if (size > (uint64_t)(r->end - r->p)) {
        r->eof = true;
        return bad(r);
    }
    *n = (uint32_t)size;
    return 0;
}

int sl_tr_struct(sl_tr_t *r, int type)
{
    if (type != TC_STRUCT || r->failed)
        return bad(r);
    if (r->depth + 1 >= SL_TR_DEPTH)
        return bad(r);
    r->last[++r->depth] = 0;
    return 0;
}

int sl_tr_skip(sl_tr_t *r, int type)
{
    int64_t i;
    const uint8_t *p;
    size_t n;
    switch (type) {
    case TC_TRUE:
    case TC_FALSE:
        return r->failed ? -1 : 0;
    case TC_BYTE:
    case TC_I16:
    case TC_I32:
    case TC_I64:
        return sl_tr_int(r, type, &i);
    case TC_DOUBLE:
        if (r->end - r->p < 8) {
            r->eof = true;
            return bad(r);
        }
        r->p += 8;
        return 0;
    case TC_BINARY:
        return sl_tr_bin(r, type, &p, &n);
    case TC_LIST:
    case TC_SET: {
        int elem;
        uint32_t cnt;
        if (sl_tr_list(r, type, &elem, &cnt) < 0)
            return -1;
        for (uint32_t k = 0; k < cnt; k++) {
            if (elem == TC_TRUE || elem == TC_FALSE) { /* list booleans are one byte */
                uint8_t c;
                if (rbyte(r, &c) < 0)
                    return -1;
            } else if (sl_tr_skip_elem(r, elem) < 0) {
                return -1;
            }
        }
        return 0;
    }
    case TC_MAP: {
        uint64_t cnt;
        uint8_t kv = 0;
        if (rvarint(r, &cnt) < 0 || (cnt && rbyte(r, &kv) < 0))
            return -1;
        if (cnt > (uint64_t)(r->end - r->p))
            return bad(r);
        for (uint64_t k = 0; k < cnt; k++)
            if (sl_tr_skip_elem(r, kv >> 4) < 0 || sl_tr_skip_elem(r, kv & 0x0f) < 0)
                return -1;
        return 0;
    }
    case TC_STRUCT: {
        if (sl_tr_struct(r, type) < 0)
            return -1;
        int id, t, rc;
        while ((rc = sl_tr_field(r, &id, &t)) > 0)
            if (sl_tr_skip(r, t) < 0)
                return -1;
        return rc;
    }
    }
    return bad(r);
}

int sl_tr_skip_elem(sl_tr_t *r, int type)
{
    if (type == TC_TRUE || type == TC_FALSE) {
        uint8_t c;
        return rbyte(r, &c);
    }
    return sl_tr_skip(r, type);
}

int sl_tr_elem(sl_tr_t *r, int type)
{
    return sl_tr_struct(r, type);
}
