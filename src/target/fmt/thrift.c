/*
 * thrift.c: a writer for the Thrift compact protocol, enough for Parquet's metadata
 * (PageHeader, FileMetaData): field headers with id deltas, zigzag varints, binaries,
 * lists and nested structs. Errors (a buffer limit) stick; check sl_tw_done().
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
