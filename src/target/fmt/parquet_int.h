/*
 * parquet_int.h: the pieces of sluice's Parquet writer (apache/parquet-format: data page
 * v1, PLAIN and RLE_DICTIONARY values, RLE definition levels, Thrift compact metadata):
 *   thrift.c        a Thrift compact-protocol writer into a buffer
 *   rle.c           the RLE / bit-packed hybrid encoder (levels, dictionary indices)
 *   parquet_type.c  canonical type -> physical type, logical type and statistics order,
 *                   and one value's canonical text -> its PLAIN bytes
 *   parquet_col.c   one column chunk: pages, dictionary with fallback, statistics
 *   parquet.c       the encoder (fmt.h ops): row groups, schema, footer
 * Ownership: every struct here is owned by the one parquet encoder that made it.
 */
#ifndef SL_TARGET_FMT_PARQUET_INT_H
#define SL_TARGET_FMT_PARQUET_INT_H

#include "target/fmt/fmt_int.h"

/* --- thrift.c -------------------------------------------------------------------------- */
enum {
    TC_TRUE = 1, TC_FALSE = 2, TC_BYTE = 3, TC_I16 = 4, TC_I32 = 5, TC_I64 = 6,
    TC_DOUBLE = 7, TC_BINARY = 8, TC_LIST = 9, TC_SET = 10, TC_MAP = 11, TC_STRUCT = 12,
};

/* Writes into b; the first failure (buffer limit) sticks in `failed` and err. */
typedef struct sl_tw {
    sl_buf_t *b;
    int16_t last[32]; /* last field id per open struct */
    int depth;
    bool failed;
    sl_err_t *err;
} sl_tw_t;

void sl_tw_init(sl_tw_t *w, sl_buf_t *b, sl_err_t *err);
void sl_tw_i8(sl_tw_t *w, int id, int8_t v);
void sl_tw_i16(sl_tw_t *w, int id, int16_t v);
void sl_tw_i32(sl_tw_t *w, int id, int32_t v);
void sl_tw_i64(sl_tw_t *w, int id, int64_t v);
void sl_tw_bool(sl_tw_t *w, int id, bool v);
void sl_tw_bin(sl_tw_t *w, int id, const void *p, size_t n);
/* A struct field: begin, its fields, end (writes STOP). */
void sl_tw_struct(sl_tw_t *w, int id);
void sl_tw_end(sl_tw_t *w);
/* A field holding an empty struct (a union member such as StringType). */
void sl_tw_empty(sl_tw_t *w, int id);
/* A list field of n elements of type elem; then write the elements with the raw calls. */
void sl_tw_list(sl_tw_t *w, int id, int elem, uint32_t n);
void sl_tw_raw_i32(sl_tw_t *w, int32_t v);
void sl_tw_raw_bin(sl_tw_t *w, const void *p, size_t n);
/* A struct element of a list: begin (no field header), fields, sl_tw_end. */
void sl_tw_elem(sl_tw_t *w);
/* Ends the outermost struct (a top-level message): STOP, no pop needed. */
int sl_tw_done(sl_tw_t *w);

/* The reader: a cursor over p[0..n). Every call returns 0 (or 1 / 0 for sl_tr_field) or
 * -1 once `failed` is set; `eof` tells that the input ended early. Pure, no allocation. */
#define SL_TR_DEPTH 32
typedef struct sl_tr {
    const uint8_t *p, *end;
    int16_t last[SL_TR_DEPTH];
    int depth;
    bool failed, eof;
} sl_tr_t;

void sl_tr_init(sl_tr_t *r, const void *p, size_t n);
/* The next field header of the current struct: 1 with its id and type, 0 at its STOP
 * (the struct is closed), -1 when malformed. */
int sl_tr_field(sl_tr_t *r, int *id, int *type);
/* Values of a field (or list element) of the given wire type; a type that does not
 * match is malformed. Binaries are borrowed from the input. */
int sl_tr_int(sl_tr_t *r, int type, int64_t *v); /* BYTE, I16, I32, I64 */
int sl_tr_i32(sl_tr_t *r, int type, int32_t *v);
int sl_tr_bool(sl_tr_t *r, int type, bool *v);   /* a field's TRUE/FALSE type */
int sl_tr_bin(sl_tr_t *r, int type, const uint8_t **p, size_t *n);
/* A list (or set) header: element type and count (at most the bytes left). */
int sl_tr_list(sl_tr_t *r, int type, int *elem, uint32_t *n);
/* Enters a struct field (then sl_tr_field until 0); sl_tr_elem the same for a struct
 * element of a list. */
int sl_tr_struct(sl_tr_t *r, int type);
int sl_tr_elem(sl_tr_t *r, int type);
/* Skips a field's value / a list element's value of any type. */
int sl_tr_skip(sl_tr_t *r, int type);
int sl_tr_skip_elem(sl_tr_t *r, int type);

/* --- rle.c ----------------------------------------------------------------------------- */
/* Appends the RLE/bit-packed hybrid encoding of v[0..n) at bit width bw (1..32). */
int sl_rle_encode(sl_buf_t *b, const uint32_t *v, size_t n, int bw, sl_err_t *err);
/* Same for 0/1 bytes (definition levels, bit width 1). */
int sl_rle_encode_bits(sl_buf_t *b, const uint8_t *v, size_t n, sl_err_t *err);
/* Bits needed for values up to max (at least 1). */
int sl_rle_width(uint32_t max);

/* --- parquet_type.c -------------------------------------------------------------------- */
enum { PT_BOOLEAN = 0, PT_INT32 = 1, PT_INT64 = 2, PT_FLOAT = 4, PT_DOUBLE = 5,
       PT_BYTE_ARRAY = 6, PT_FLBA = 7 };

/* How a column's canonical text becomes a Parquet value. */
typedef enum pq_kind {
    PK_BOOL, PK_INT32, PK_INT64, PK_UINT64, PK_FLOAT, PK_DOUBLE, PK_DEC32, PK_DEC64,
    PK_DECFL, PK_DATE, PK_TIME, PK_TS, PK_STRING, PK_BINARY, PK_UUID,
} pq_kind_t;

/* The sort order of statistics. */
typedef enum pq_order { PO_SIGNED, PO_UNSIGNED, PO_FLOAT, PO_BYTES, PO_DECBE, PO_BOOL } pq_order_t;

typedef struct pq_type {
    pq_kind_t kind;
    int ptype;      /* PT_* */
    int type_len;   /* FIXED_LEN_BYTE_ARRAY length */
    pq_order_t order;
    int precision, scale; /* DECIMAL */
} pq_type_t;

/* Maps column c (see docs/formats.md for the rules). Never fails: anything without a
 * better home is a STRING. */
void sl_pq_type(const sl_column_t *c, pq_type_t *pt);
/* Writes the SchemaElement of column c (a list element of FileMetaData.schema). */
void sl_pq_schema_elem(sl_tw_t *w, const sl_column_t *c, const pq_type_t *pt);
/* The PLAIN bytes of one non-NULL value of column col into out (reset first; BYTE_ARRAY
 * values get their 4-byte length prefix; BOOLEAN is one byte 0/1). SL_E_DATA naming the
 * column when the text does not parse or the value cannot be held. */
int sl_pq_plain(const sl_table_t *t, int col, const pq_type_t *pt, const sl_value_t *v,
                sl_buf_t *out, sl_err_t *err);

/* --- parquet_col.c --------------------------------------------------------------------- */
typedef struct pq_col pq_col_t;

typedef struct pq_col_opts {
    sl_codec_t codec;
    int level;
    size_t page_bytes;
    bool dictionary;
} pq_col_opts_t;

int sl_pq_col_new(const pq_type_t *pt, const pq_col_opts_t *o, pq_col_t **out, sl_err_t *err);
void sl_pq_col_free(pq_col_t *c);
/* Adds one value: its PLAIN bytes from sl_pq_plain, or NULL (plain == NULL). */
int sl_pq_col_add(pq_col_t *c, const sl_value_t *plain, sl_err_t *err);
/* Bytes this column holds for the current row group (uncompressed estimate). */
size_t sl_pq_col_bytes(const pq_col_t *c);
/* Ends the row group for this column: writes its pages through sink at file offset *pos
 * (advanced) and appends its ColumnChunk (a list element) to w; then resets the column
 * for the next row group. */
int sl_pq_col_flush(pq_col_t *c, const char *name, sl_fmt_sink_t sink, int64_t *pos,
                    sl_tw_t *w, int64_t *unc_total, sl_err_t *err);

#endif
