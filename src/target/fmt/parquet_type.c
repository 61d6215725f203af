/*
 * parquet_type.c: how each canonical type lands in Parquet (docs/formats.md has the
 * user's table), the SchemaElement that says so in the footer, and the conversion of one
 * value's canonical text into its PLAIN bytes.
 *
 *   bool -> BOOLEAN; int16 -> INT32 INT(16,signed); int32 -> INT32; int64 -> INT64;
 *   uint64 -> INT64 INT(64,unsigned); float32 -> FLOAT; float64 -> DOUBLE;
 *   decimal(p,s), 0<p<=38, 0<=s<=p -> DECIMAL on INT32 (p<=9), INT64 (p<=18) or
 *   FIXED_LEN_BYTE_ARRAY (minimal length); date -> INT32 DATE; time -> INT64
 *   TIME(MICROS, local); timestamp -> INT64 TIMESTAMP(MICROS, isAdjustedToUTC=false);
 *   timestamptz -> the same with isAdjustedToUTC=true; uuid -> FLBA(16) UUID;
 *   json -> BYTE_ARRAY JSON; bytes, geometry -> BYTE_ARRAY; everything else (text, enum,
 *   set, bit, interval, timetz, array, net, tsvector, money, unconstrained or wider
 *   decimals) -> BYTE_ARRAY STRING holding the canonical text.
 */
#include <math.h>
#include <string.h>

#include "target/fmt/parquet_int.h"

/* Smallest two's complement byte length that holds 10^p - 1. */
static int dec_bytes(int p)
{
    for (int n = 1; n <= 16; n++) {
        double maxv = ldexp(1.0, 8 * n - 1); /* 2^(8n-1) */
        if (pow(10.0, p) <= maxv)
            return n;
    }
    return 16;
}

void sl_pq_type(const sl_column_t *c, pq_type_t *pt)
{
    memset(pt, 0, sizeof *pt);
    pt->order = PO_SIGNED;
    switch (c->type) {
    case SL_T_BOOL: pt->kind = PK_BOOL; pt->ptype = PT_BOOLEAN; pt->order = PO_BOOL; return;
    case SL_T_INT16:
    case SL_T_INT32: pt->kind = PK_INT32; pt->ptype = PT_INT32; return;
    case SL_T_INT64: pt->kind = PK_INT64; pt->ptype = PT_INT64; return;
    case SL_T_UINT64: pt->kind = PK_UINT64; pt->ptype = PT_INT64; pt->order = PO_UNSIGNED; return;
    case SL_T_FLOAT32: pt->kind = PK_FLOAT; pt->ptype = PT_FLOAT; pt->order = PO_FLOAT; return;
    case SL_T_FLOAT64: pt->kind = PK_DOUBLE; pt->ptype = PT_DOUBLE; pt->order = PO_FLOAT; return;
    case SL_T_DATE: pt->kind = PK_DATE; pt->ptype = PT_INT32; return;
    case SL_T_TIME: pt->kind = PK_TIME; pt->ptype = PT_INT64; return;
    case SL_T_TIMESTAMP:
    case SL_T_TIMESTAMPTZ: pt->kind = PK_TS; pt->ptype = PT_INT64; return;
    case SL_T_UUID:
        pt->kind = PK_UUID; pt->ptype = PT_FLBA; pt->type_len = 16; pt->order = PO_BYTES;
        return;
    case SL_T_BYTES:
    case SL_T_GEOMETRY:
        pt->kind = PK_BINARY; pt->ptype = PT_BYTE_ARRAY; pt->order = PO_BYTES;
        return;
    case SL_T_DECIMAL:
        if (c->precision > 0 && c->precision <= 38 && c->scale >= 0 && c->scale <= c->precision) {
            pt->precision = c->precision;
            pt->scale = c->scale;
            if (c->precision <= 9) {
                pt->kind = PK_DEC32; pt->ptype = PT_INT32;
            } else if (c->precision <= 18) {
                pt->kind = PK_DEC64; pt->ptype = PT_INT64;
            } else {
                pt->kind = PK_DECFL; pt->ptype = PT_FLBA; pt->order = PO_DECBE;
                pt->type_len = dec_bytes(c->precision);
            }
            return;
        }
        break;
    default:
        break;
    }
    pt->kind = PK_STRING; /* text, json and every type without a Parquet home */
    pt->ptype = PT_BYTE_ARRAY;
    pt->order = PO_BYTES;
}

enum { CT_UTF8 = 0, CT_DECIMAL = 5, CT_DATE = 6, CT_TIMESTAMP_MICROS = 10, CT_UINT_64 = 14,
       CT_INT_16 = 16, CT_JSON = 19 };

/* LogicalType union members (parquet.thrift). */
enum { LT_STRING = 1, LT_DECIMAL = 5, LT_DATE = 6, LT_TIME = 7, LT_TIMESTAMP = 8,
       LT_INTEGER = 10, LT_JSON = 12, LT_UUID = 14 };

static void time_unit(sl_tw_t *w, int lt, bool utc)
{
    sl_tw_struct(w, 10); /* logicalType */
    sl_tw_struct(w, lt);
    sl_tw_bool(w, 1, utc);  /* isAdjustedToUTC */
    sl_tw_struct(w, 2);     /* unit: TimeUnit */
    sl_tw_empty(w, 2);      /* MICROS */
    sl_tw_end(w);
    sl_tw_end(w);
    sl_tw_end(w);
}

static void simple_lt(sl_tw_t *w, int lt)
{
    sl_tw_struct(w, 10);
    sl_tw_empty(w, lt);
    sl_tw_end(w);
}

void sl_pq_schema_elem(sl_tw_t *w, const sl_column_t *c, const pq_type_t *pt)
{
    sl_tw_elem(w);
    sl_tw_i32(w, 1, pt->ptype);
    if (pt->ptype == PT_FLBA)
        sl_tw_i32(w, 2, pt->type_len);
    sl_tw_i32(w, 3, 1); /* OPTIONAL: every column may hold NULL (docs/formats.md) */
    sl_tw_bin(w, 4, c->name, strlen(c->name));
    switch (pt->kind) {
    case PK_INT32:
        if (c->type == SL_T_INT16) {
            sl_tw_i32(w, 6, CT_INT_16);
            sl_tw_struct(w, 10);
            sl_tw_struct(w, LT_INTEGER);
            sl_tw_i8(w, 1, 16);
            sl_tw_bool(w, 2, true);
            sl_tw_end(w);
            sl_tw_end(w);
        }
        break;
    case PK_UINT64:
        sl_tw_i32(w, 6, CT_UINT_64);
        sl_tw_struct(w, 10);
        sl_tw_struct(w, LT_INTEGER);
        sl_tw_i8(w, 1, 64);
        sl_tw_bool(w, 2, false);
        sl_tw_end(w);
        sl_tw_end(w);
        break;
    case PK_DEC32:
    case PK_DEC64:
    case PK_DECFL:
        sl_tw_i32(w, 6, CT_DECIMAL);
        sl_tw_i32(w, 7, pt->scale);
        sl_tw_i32(w, 8, pt->precision);
        sl_tw_struct(w, 10);
        sl_tw_struct(w, LT_DECIMAL);
        sl_tw_i32(w, 1, pt->scale);
        sl_tw_i32(w, 2, pt->precision);
        sl_tw_end(w);
        sl_tw_end(w);
        break;
    case PK_DATE:
        sl_tw_i32(w, 6, CT_DATE);
        simple_lt(w, LT_DATE);
        break;
    case PK_TIME: /* local time: no converted type (TIME_MICROS means UTC-adjusted) */
        time_unit(w, LT_TIME, false);
        break;
    case PK_TS:
        if (c->type == SL_T_TIMESTAMPTZ) {
            sl_tw_i32(w, 6, CT_TIMESTAMP_MICROS);
            time_unit(w, LT_TIMESTAMP, true);
        } else {
            time_unit(w, LT_TIMESTAMP, false);
        }
        break;
    case PK_UUID:
        simple_lt(w, LT_UUID);
        break;
    case PK_STRING:
        if (c->type == SL_T_JSON) {
            sl_tw_i32(w, 6, CT_JSON);
            simple_lt(w, LT_JSON);
        } else {
            sl_tw_i32(w, 6, CT_UTF8);
            simple_lt(w, LT_STRING);
        }
        break;
    default:
        break;
    }
    sl_tw_end(w);
}

static int put_le(sl_buf_t *out, uint64_t v, int n, sl_err_t *err)
{
    char b[8];
    for (int i = 0; i < n; i++)
        b[i] = (char)(v >> (8 * i));
    return sl_buf_add(out, b, (size_t)n, err);
}

/* 10^p as an unsigned 128-bit integer. */
static unsigned __int128 pow10_128(int p)
{
    unsigned __int128 v = 1;
    while (p-- > 0)
        v *= 10;
    return v;
}

int sl_pq_plain(const sl_table_t *t, int col, const pq_type_t *pt, const sl_value_t *v,
                sl_buf_t *out, sl_err_t *err)
{
    const char *p = v->p;
    size_t n = (size_t)v->len;
    sl_buf_reset(out);
    switch (pt->kind) {
    case PK_BOOL: {
        bool x;
        if (sl_fmtv_bool(p, n, &x) < 0)
            return sl_fmtv_error(err, t, col, v, "not a boolean");
        return sl_buf_addc(out, x ? 1 : 0, err);
    }
    case PK_INT32: {
        int64_t x;
        bool i16 = t->columns[col].type == SL_T_INT16;
        if (sl_fmtv_i64(p, n, &x) < 0 || x < (i16 ? INT16_MIN : INT32_MIN) ||
            x > (i16 ? INT16_MAX : INT32_MAX))
            return sl_fmtv_error(err, t, col, v, "not an integer in range");
        return put_le(out, (uint64_t)x, 4, err);
    }
    case PK_INT64: {
        int64_t x;
        if (sl_fmtv_i64(p, n, &x) < 0)
            return sl_fmtv_error(err, t, col, v, "not an integer in range");
        return put_le(out, (uint64_t)x, 8, err);
    }
    case PK_UINT64: {
        uint64_t x;
        if (sl_fmtv_u64(p, n, &x) < 0)
            return sl_fmtv_error(err, t, col, v, "not an unsigned integer in range");
        return put_le(out, x, 8, err);
    }
    case PK_FLOAT:
    case PK_DOUBLE: {
        double x;
        if (sl_fmtv_f64(p, n, &x) < 0)
            return sl_fmtv_error(err, t, col, v, "not a floating-point number");
        if (pt->kind == PK_DOUBLE) {
            uint64_t u;
            memcpy(&u, &x, 8);
            return put_le(out, u, 8, err);
        }
        float f = (float)x;
        uint32_t u;
        memcpy(&u, &f, 4);
        return put_le(out, u, 4, err);
    }
    case PK_DEC32:
    case PK_DEC64:
    case PK_DECFL: {
        __int128 x;
        if (n == 3 && memcmp(p, "NaN", 3) == 0) {
            sl_fmtv_error(err, t, col, v, "NaN has no Parquet DECIMAL form");
            sl_err_hint(err, "Declare the column numeric without precision (written as a "
                             "string) or remove the NaN.");
            return -1;
        }
        if (sl_fmtv_decimal(p, n, pt->scale, &x) < 0)
            return sl_fmtv_error(err, t, col, v, "not a decimal that fits the column's scale");
        unsigned __int128 mag = x < 0 ? -(unsigned __int128)x : (unsigned __int128)x;
        if (mag >= pow10_128(pt->precision))
            return sl_fmtv_error(err, t, col, v, "more digits than the column's precision");
        if (pt->kind != PK_DECFL)
            return put_le(out, (uint64_t)(int64_t)x, pt->kind == PK_DEC32 ? 4 : 8, err);
        char be[16];
        for (int i = 0; i < pt->type_len; i++)
            be[pt->type_len - 1 - i] = (char)(unsigned char)((unsigned __int128)x >> (8 * i));
        return sl_buf_add(out, be, (size_t)pt->type_len, err);
    }
    case PK_DATE: {
        int32_t d;
        int inf;
        if (sl_fmtv_date(p, n, &d, &inf) < 0)
            return sl_fmtv_error(err, t, col, v, "not a date");
        if (inf) {
            sl_fmtv_error(err, t, col, v, "infinite dates have no Parquet DATE form");
            sl_err_hint(err, "Replace infinity with a real date in the source, or load the "
                             "table into CSV or JSONL.");
            return -1;
        }
        return put_le(out, (uint32_t)d, 4, err);
    }
    case PK_TIME: {
        int64_t us;
        if (sl_fmtv_time(p, n, &us) < 0) {
            sl_fmtv_error(err, t, col, v, "not a time of day between 00:00:00 and 24:00:00");
            sl_err_hint(err, "Parquet TIME holds a time of day; MySQL durations (negative or "
                             "past 24 hours) fit CSV or JSONL.");
            return -1;
        }
        return put_le(out, (uint64_t)us, 8, err);
    }
    case PK_TS: {
        int64_t us;
        int inf;
        if (sl_fmtv_timestamp(p, n, &us, &inf) < 0)
            return sl_fmtv_error(err, t, col, v, "not a timestamp");
        if (inf) {
            sl_fmtv_error(err, t, col, v, "infinite timestamps have no Parquet TIMESTAMP form");
            sl_err_hint(err, "Replace infinity with a real timestamp in the source, or load "
                             "the table into CSV or JSONL.");
            return -1;
        }
        return put_le(out, (uint64_t)us, 8, err);
    }
    case PK_UUID: {
        uint8_t u[16];
        if (sl_fmtv_uuid(p, n, u) < 0)
            return sl_fmtv_error(err, t, col, v, "not a UUID");
        return sl_buf_add(out, u, 16, err);
    }
    case PK_STRING:
    case PK_BINARY:
        if (n > INT32_MAX)
            return sl_fmtv_error(err, t, col, v, "longer than Parquet's 2 GB value limit");
        if (put_le(out, n, 4, err) < 0)
            return -1;
        return sl_buf_add(out, p, n, err);
    }
    return sl_err_set(err, SL_E_INTERNAL, "unknown Parquet kind %d", (int)pt->kind);
}
