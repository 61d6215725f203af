/*
 * parquet_rd.h: the pieces of sluice's Parquet reader (apache/parquet-format), beside the
 * writer's (parquet_int.h), whose Thrift codec, RLE code and type tables it shares:
 *   parquet_meta.c    FileMetaData and PageHeader from Thrift compact bytes (pure)
 *   parquet_dec.c     the value encodings as streaming cursors over one page (pure):
 *                     RLE/bit-packed hybrid, PLAIN, dictionary indices, DELTA_BINARY_PACKED,
 *                     DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT
 *   parquet_schema.c  the schema tree: levels, LIST/MAP/STRUCT shapes, the canonical
 *                     column of each top-level field and the value kind of each leaf
 *   parquet_text.c    one physical value -> its canonical text (and JSON) by value kind
 *   parquet_chunk.c   one column chunk: pages through a range reader, decompression,
 *                     levels and values, one entry at a time
 *   parquet_read.c    the reader (fmt_read.h): footer, row groups, rows (nested fields
 *                     assembled from levels into arrays or JSON)
 * Ownership: everything here is owned by the one reader that made it; decoded values
 * (pq_v_t) borrow the page, the dictionary or the cursor's scratch and are valid until
 * the cursor moves.
 */
#ifndef SL_TARGET_FMT_PARQUET_RD_H
#define SL_TARGET_FMT_PARQUET_RD_H

#include "target/fmt/fmt_read.h"
#include "target/fmt/parquet_int.h"

enum { PT_INT96 = 3 };
enum { REP_REQUIRED = 0, REP_OPTIONAL = 1, REP_REPEATED = 2 };
enum { PAGE_DATA_V1 = 0, PAGE_INDEX = 1, PAGE_DICT = 2, PAGE_DATA_V2 = 3 };
enum {
    ENC_PLAIN = 0, ENC_PLAIN_DICT = 2, ENC_RLE = 3, ENC_BIT_PACKED = 4, ENC_DELTA_BP = 5,
    ENC_DELTA_LBA = 6, ENC_DELTA_BA = 7, ENC_RLE_DICT = 8, ENC_BSS = 9,
};
enum {
    CODEC_NONE = 0, CODEC_SNAPPY = 1, CODEC_GZIP = 2, CODEC_LZO = 3, CODEC_BROTLI = 4,
    CODEC_LZ4 = 5, CODEC_ZSTD = 6, CODEC_LZ4_RAW = 7,
};
/* ConvertedType (parquet.thrift). */
enum {
    CV_UTF8 = 0, CV_MAP = 1, CV_MAP_KEY_VALUE = 2, CV_LIST = 3, CV_ENUM = 4, CV_DECIMAL = 5,
    CV_DATE = 6, CV_TIME_MILLIS = 7, CV_TIME_MICROS = 8, CV_TS_MILLIS = 9, CV_TS_MICROS = 10,
    CV_UINT_8 = 11, CV_UINT_16 = 12, CV_UINT_32 = 13, CV_UINT_64 = 14, CV_INT_8 = 15,
    CV_INT_16 = 16, CV_INT_32 = 17, CV_INT_64 = 18, CV_JSON = 19, CV_BSON = 20,
    CV_INTERVAL = 21,
};
/* LogicalType union members. */
enum {
    LG_NONE = 0, LG_STRING = 1, LG_MAP = 2, LG_LIST = 3, LG_ENUM = 4, LG_DECIMAL = 5,
    LG_DATE = 6, LG_TIME = 7, LG_TIMESTAMP = 8, LG_INTEGER = 10, LG_UNKNOWN = 11,
    LG_JSON = 12, LG_BSON = 13, LG_UUID = 14, LG_FLOAT16 = 15,
};
enum { TU_MILLIS = 1, TU_MICROS = 2, TU_NANOS = 3 };

/* --- parquet_meta.c -------------------------------------------------------------------- */
typedef struct pq_sel {
    char *name;
    int type;        /* PT_*, -1 for a group */
    int type_len;
    int rep;         /* REP_*, -1 when absent (the root) */
    int nchildren;
    int conv;        /* CV_*, -1 when absent */
    int scale, precision;
    int lt;          /* LG_* */
    int lt_scale, lt_precision;
    bool lt_utc;
    int lt_unit;     /* TU_* */
    int lt_bits;
    bool lt_signed;
} pq_sel_t;

typedef struct pq_cmeta {
    int type;
    int codec;
    int npath;        /* path_in_schema length (checked against the leaf's depth) */
    int64_t num_values;
    int64_t total_unc, total_comp;
    int64_t data_off, dict_off; /* dict_off -1 when absent */
} pq_cmeta_t;

typedef struct pq_rg {
    pq_cmeta_t *cols;
    int ncols;
    int64_t num_rows;
} pq_rg_t;

typedef struct pq_meta {
    pq_sel_t *schema;
    int nschema;
    int64_t num_rows;
    pq_rg_t *rgs;
    int nrg;
    char *created_by;
} pq_meta_t;

/* Parses FileMetaData from buf[0..n). SL_E_DATA "malformed Parquet metadata" when it
 * does not parse; *out is owned by the caller (sl_pq_meta_free). */
int sl_pq_meta_parse(const uint8_t *buf, size_t n, pq_meta_t *out, sl_err_t *err);
void sl_pq_meta_free(pq_meta_t *m);

typedef struct pq_page {
    int type;          /* PAGE_* */
    int32_t unc, comp; /* uncompressed and compressed sizes (of what follows the header) */
    int32_t nvals;     /* levels (entries) of a data page, entries of a dictionary */
    int enc;           /* the values' encoding */
    int def_enc, rep_enc;           /* v1 */
    int32_t nnulls, nrows, def_len, rep_len; /* v2 */
    bool v2_compressed;
} pq_page_t;

/* Parses a PageHeader at buf[0..n): 1 with *used set, 0 when buf ends before the header
 * does (read more), -1 when malformed (err set). */
int sl_pq_page_parse(const uint8_t *buf, size_t n, pq_page_t *h, size_t *used, sl_err_t *err);

/* --- parquet_dec.c --------------------------------------------------------------------- */
/* One decoded value: its bytes (PLAIN layout: little-endian numbers, 12-byte INT96,
 * BYTE_ARRAY without the length prefix, BOOLEAN one byte 0/1). */
typedef struct pq_v {
    const uint8_t *p;
    uint32_t n;
} pq_v_t;

/* RLE / bit-packed hybrid, streaming (levels, dictionary indices, RLE booleans). */
typedef struct pq_rle {
    const uint8_t *p, *end;
    int bw;
    uint32_t left;          /* values left in the current run */
    bool packed;
    uint32_t val;           /* RLE run value */
    const uint8_t *bits;    /* bit-packed run: its bytes */
    size_t nbits;           /* bits available in it */
    size_t bitpos;
    bool msb;               /* the old BIT_PACKED encoding: one endless run, MSB first */
} pq_rle_t;

/* bw 0..32; bw 0 yields zeros forever. */
void sl_pq_rle_init(pq_rle_t *d, const uint8_t *p, size_t n, int bw);
/* The next value: 0, or -1 when the data ends or is malformed. */
int sl_pq_rle_next(pq_rle_t *d, uint32_t *v);
/* The old BIT_PACKED level encoding (most significant bit first), count values. */
void sl_pq_bitpacked_init(pq_rle_t *d, const uint8_t *p, size_t n, int bw);

/* DELTA_BINARY_PACKED, streaming. */
typedef struct pq_dbp {
    const uint8_t *p, *end;   /* next unread byte (block header or miniblock) */
    uint64_t block, nmini, per_mini;
    uint64_t total, done;     /* values in the stream, values returned */
    int64_t last, min_delta;
    const uint8_t *widths;    /* the current block's miniblock bit widths */
    uint64_t mini;            /* miniblock index in the block */
    const uint8_t *start;     /* the first block (after the header) */
    const uint8_t *data;      /* the current miniblock */
    size_t dlen;              /* its bytes present */
    int bw;
    uint64_t in_mini;         /* values taken from it */
} pq_dbp_t;

int sl_pq_dbp_init(pq_dbp_t *d, const uint8_t *p, size_t n);
int sl_pq_dbp_next(pq_dbp_t *d, int64_t *v);
/* Where the encoded stream ends (walks the block headers), NULL when malformed. */
const uint8_t *sl_pq_dbp_end(const pq_dbp_t *d);

/* The values of one page (or a dictionary page), whatever their encoding. */
typedef struct pq_vcur {
    int enc, ptype, width;   /* width: fixed byte size (INT32 4, ..., FLBA type_len) */
    const uint8_t *p, *end;  /* PLAIN data; DLBA/DBA value bytes */
    const uint8_t *base;     /* BYTE_STREAM_SPLIT streams */
    uint64_t i, n;           /* BSS and PLAIN BOOLEAN position and count */
    pq_rle_t rle;            /* dictionary indices, RLE booleans */
    const pq_v_t *dict;
    uint32_t ndict;
    pq_dbp_t a, b;           /* DBP values; DLBA lengths (a); DBA prefixes (a), suffixes (b) */
    sl_buf_t val[2];         /* DELTA_BYTE_ARRAY: the previous and the current value */
    int cur;
    uint8_t tmp[16];         /* a value computed here (DBP, BSS, booleans) */
} pq_vcur_t;

void sl_pq_vcur_init(pq_vcur_t *c);
void sl_pq_vcur_free(pq_vcur_t *c);
/* Starts decoding n bytes at p in encoding enc (PLAIN_DICTIONARY and RLE_DICTIONARY use
 * dict[0..ndict)). nvals: how many values the page holds (BYTE_STREAM_SPLIT needs it).
 * SL_E_DATA when the encoding does not fit the physical type or the header is bad. */
int sl_pq_vcur_start(pq_vcur_t *c, int enc, int ptype, int width, const uint8_t *p, size_t n,
                     uint64_t nvals, const pq_v_t *dict, uint32_t ndict, sl_err_t *err);
/* The next value; SL_E_DATA when the data ends early or is malformed. */
int sl_pq_vcur_next(pq_vcur_t *c, pq_v_t *v, sl_err_t *err);
/* The fixed byte width of a physical type (BYTE_ARRAY 0). */
int sl_pq_width(int ptype, int type_len);

/* --- parquet_schema.c ------------------------------------------------------------------ */
/* How a leaf's physical values become canonical text. */
typedef enum pq_vk {
    VK_BOOL, VK_I32, VK_U32, VK_I64, VK_U64, VK_F16, VK_F32, VK_F64, VK_DEC_I32, VK_DEC_I64,
    VK_DEC_BE, VK_DATE, VK_TIME_MS, VK_TIME_US, VK_TIME_NS, VK_TS_MS, VK_TS_US, VK_TS_NS,
    VK_INT96, VK_TEXT, VK_BYTES, VK_UUID, VK_JSON, VK_INTERVAL,
} pq_vk_t;

typedef enum pq_shape { SH_PRIM, SH_STRUCT, SH_LIST, SH_MAP } pq_shape_t;

typedef struct pq_node {
    const pq_sel_t *el;
    const char *name;
    int rep;                 /* REP_* */
    int def, replvl;         /* levels reached at this node */
    pq_shape_t shape;
    struct pq_node **kids;
    int nkids;
    int first_leaf, nleaves; /* the leaves under this node (leaf order = column chunk order) */
    struct pq_node *elem;    /* LIST: the element (the repeated child or its only child);
                              * MAP: the value (NULL when the map has keys only) */
    struct pq_node *key;     /* MAP: the key */
    /* leaves */
    pq_vk_t vk;
    bool utc;                /* timestamps and times */
    int scale;               /* decimals */
    sl_type_t type;          /* the canonical type of the value */
} pq_node_t;

/* How a top-level field reaches the reader's output. */
typedef enum pq_out { OUT_FLAT, OUT_ARRAY, OUT_JSON } pq_out_t;

typedef struct pq_schema {
    pq_node_t *nodes;        /* nodes[0] is the root */
    int nnodes;
    pq_node_t **leaves;
    int nleaves;
    pq_node_t **fields;      /* the root's children = the table's columns */
    pq_out_t *out;
    int nfields;
} pq_schema_t;

/* Builds the tree from the flat schema and fills t's columns (names, canonical types,
 * precision/scale, array element types). SL_E_DATA when the schema is malformed. */
int sl_pq_schema_build(const pq_meta_t *m, pq_schema_t *s, sl_table_t *t, sl_err_t *err);
void sl_pq_schema_free(pq_schema_t *s);

/* --- parquet_text.c -------------------------------------------------------------------- */
/* Appends the canonical text of v (a value of leaf n) to b. SL_E_DATA for a value the
 * canonical type cannot hold (e.g. a timestamp out of range). */
int sl_pq_text(const pq_node_t *n, const pq_v_t *v, sl_buf_t *b, sl_err_t *err);
/* The same as a JSON value (numbers bare, NaN and infinities and text quoted, bytes as
 * base64 strings, JSON embedded). */
int sl_pq_json(const pq_node_t *n, const pq_v_t *v, sl_buf_t *b, sl_err_t *err);
/* The same as an element of a PostgreSQL array literal (quoted when needed). */
int sl_pq_array_elem(const pq_node_t *n, const pq_v_t *v, sl_buf_t *b, sl_buf_t *tmp,
                     sl_err_t *err);
/* Microseconds since the epoch as canonical timestamp text (tz: with "+00"). */
int sl_pq_ts_text(sl_buf_t *b, int64_t us, bool tz, sl_err_t *err);

/* --- parquet_chunk.c ------------------------------------------------------------------- */
typedef struct pq_chunk pq_chunk_t;

/* A reader of one column chunk of leaf n through src. */
int sl_pq_chunk_new(const sl_fmt_range_t *src, const sl_pq_read_opts_t *o, const pq_node_t *n,
                    pq_chunk_t **out, sl_err_t *err);
void sl_pq_chunk_free(pq_chunk_t *c);
/* Starts the chunk described by m (a row group's column). */
int sl_pq_chunk_start(pq_chunk_t *c, const pq_cmeta_t *m, sl_err_t *err);
/* Peeks at the next entry: 1 with its levels, 0 at the end of the chunk. */
int sl_pq_chunk_peek(pq_chunk_t *c, int *rep, int *def, sl_err_t *err);
/* Takes the next entry: 1 with its levels and (when def is the leaf's maximum) its value,
 * 0 at the end of the chunk. The value is valid until the next call. */
int sl_pq_chunk_take(pq_chunk_t *c, int *def, pq_v_t *v, sl_err_t *err);

/* --- parquet_nest.c -------------------------------------------------------------------- */
typedef struct pq_asm {
    pq_chunk_t **chunks;     /* by leaf index */
    sl_buf_t *out;           /* the value is appended here */
    sl_buf_t *tmp;
    size_t max;              /* max_value_bytes */
} pq_asm_t;

/* One row's value of top-level field f (OUT_ARRAY / OUT_JSON) appended to a->out, or
 * *null. SL_E_DATA when the levels of f's columns disagree. */
int sl_pq_asm_array(pq_asm_t *a, const pq_node_t *f, bool *null, sl_err_t *err);
int sl_pq_asm_json(pq_asm_t *a, const pq_node_t *f, bool *null, sl_err_t *err);

/* --- compress.c ------------------------------------------------------------------------ */
/* Decompresses in[0..n) of Parquet codec `codec` into dst (reset first), which must come
 * out exactly unc bytes long. SL_E_DATA when corrupt; SL_E_CONFIG for codecs sluice does
 * not read (LZO, BROTLI). */
int sl_fmt_decompress_block(int codec, const void *in, size_t n, size_t unc, sl_buf_t *dst,
                            sl_err_t *err);

#endif
