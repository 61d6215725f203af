/*
 * fmt_read.h: the file formats read back (CSV, JSONL, Parquet), the decoders beside the
 * encoders of fmt.h. Like the encoders they do no I/O of their own: bytes come through a
 * range reader (Parquet: read N bytes at an offset, so a local file and an S3 object with
 * ranged GETs share the code: the footer first, then column chunks) or a stream (CSV,
 * JSONL: sequential chunks, optionally through gzip/zstd).
 *
 * Values come out as sluice's canonical values (model/types.h), borrowed from the reader
 * until its next call. Memory is bounded by one page per column (Parquet) or one record
 * (CSV, JSONL), never by the file. Thread: one reader, one thread.
 */
#ifndef SL_TARGET_FMT_FMT_READ_H
#define SL_TARGET_FMT_FMT_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "model/batch.h"
#include "model/schema.h"
#include "target/fmt/fmt.h"

/* Random access: reads exactly n bytes at off into dst (0), or -1 with err (a short read
 * is an error). size is the object's size. */
typedef struct sl_fmt_range {
    int (*read)(void *ctx, uint64_t off, void *dst, size_t n, sl_err_t *err);
    void *ctx;
    uint64_t size;
} sl_fmt_range_t;

/* Sequential: up to cap bytes into dst, *got 0 at the end. */
typedef struct sl_fmt_stream {
    int (*read)(void *ctx, void *dst, size_t cap, size_t *got, sl_err_t *err);
    void *ctx;
} sl_fmt_stream_t;

/* A stream over bytes in memory, handing out at most `chunk` bytes a read (0: as many as
 * asked), for tests and fuzzers that cut records across reads. */
typedef struct sl_fmt_mem {
    const uint8_t *p;
    size_t n, chunk;
} sl_fmt_mem_t;

sl_fmt_stream_t sl_fmt_mem_stream(sl_fmt_mem_t *m, const void *p, size_t n, size_t chunk);

/* --- in.c: a stream over a range reader, decompressing gzip or zstd ------------------- */
typedef struct sl_fmt_in sl_fmt_in_t;

/* codec NONE, GZIP (also concatenated members) or ZSTD (frames). The range is borrowed. */
int sl_fmt_in_open(const sl_fmt_range_t *src, sl_codec_t codec, sl_fmt_in_t **out,
                   sl_err_t *err);
sl_fmt_stream_t sl_fmt_in_stream(sl_fmt_in_t *in);
void sl_fmt_in_free(sl_fmt_in_t *in);
/* The codec a file name's suffix says (".gz", ".zst"), NONE otherwise. */
sl_codec_t sl_fmt_codec_of_name(const char *name);

/* --- Parquet (parquet_read.c) ---------------------------------------------------------- */
typedef struct sl_pq_read_opts {
    size_t window_bytes;   /* bytes of a column chunk fetched at once (default 1 MiB) */
    size_t max_page_bytes; /* the largest page accepted (default 1 GiB) */
    size_t max_value_bytes;/* the largest assembled value, e.g. a list as JSON (1 GiB) */
} sl_pq_read_opts_t;

void sl_pq_read_opts_default(sl_pq_read_opts_t *o);

typedef struct sl_pq_reader sl_pq_reader_t;

/* Reads the footer of the file through src (borrowed, must outlive the reader) and
 * derives the table: one column per top-level field (docs/files.md has the mapping).
 * name is used in messages. SL_E_DATA when the file is not Parquet or its metadata is
 * malformed; SL_E_CONFIG for what sluice does not read (encrypted files, LZO). */
int sl_pq_reader_open(const sl_fmt_range_t *src, const char *name, const sl_pq_read_opts_t *o,
                      sl_pq_reader_t **out, sl_err_t *err);
void sl_pq_reader_free(sl_pq_reader_t *r);
/* The table (name "", schema NULL, engine NULL): borrowed from the reader. */
const sl_table_t *sl_pq_reader_table(const sl_pq_reader_t *r);
int sl_pq_reader_row_groups(const sl_pq_reader_t *r);
int64_t sl_pq_reader_rg_rows(const sl_pq_reader_t *r, int rg);
int64_t sl_pq_reader_rows(const sl_pq_reader_t *r);
/* The writer's name from the footer ("parquet-cpp-arrow version 14.0.1"), or "". */
const char *sl_pq_reader_created_by(const sl_pq_reader_t *r);
/* Positions the reader at the first row of row group rg. */
int sl_pq_reader_seek(sl_pq_reader_t *r, int rg, sl_err_t *err);
/* The next row of the current row group into vals[0..ncolumns): 1, or 0 after its last
 * row. SL_E_DATA naming the file, row group and column when a page is corrupt. */
int sl_pq_reader_next(sl_pq_reader_t *r, sl_value_t *vals, sl_err_t *err);

/* --- CSV (csv_read.c) ------------------------------------------------------------------ */
typedef struct sl_csvr_opts {
    char delimiter;          /* ',' */
    char quote;              /* '"' (quotes inside are doubled, RFC 4180) */
    const char *null_marker; /* an unquoted field equal to this is NULL ("" default: an
                              * empty unquoted field; NULL: no NULL marker at all) */
} sl_csvr_opts_t;

void sl_csvr_opts_default(sl_csvr_opts_t *o);

typedef struct sl_csvr sl_csvr_t;

/* A record reader over in (borrowed). A UTF-8 byte order mark at the start is skipped;
 * records end at LF or CRLF outside quotes. */
int sl_csvr_open(sl_fmt_stream_t in, const sl_csvr_opts_t *o, sl_csvr_t **out, sl_err_t *err);
void sl_csvr_free(sl_csvr_t *r);
/* The next record: 1 with *vals (fields, NULL ones len -1) and *n, 0 at the end. An
 * unterminated quote is SL_E_DATA naming the line. */
int sl_csvr_next(sl_csvr_t *r, const sl_value_t **vals, int *n, sl_err_t *err);
/* The 1-based line the last record started on; records returned so far. */
int64_t sl_csvr_line(const sl_csvr_t *r);
int64_t sl_csvr_records(const sl_csvr_t *r);

/* --- JSONL (jsonl_read.c) -------------------------------------------------------------- */
typedef enum sl_json_kind {
    SL_JK_NULL, SL_JK_BOOL, SL_JK_NUMBER, SL_JK_STRING, SL_JK_OBJECT, SL_JK_ARRAY,
    SL_JK_TEXT, /* not JSON: a CSV field, whose type only its text tells */
} sl_json_kind_t;

/* One key of a line's object. key and str are unescaped (str: a string's text; a
 * number's, a boolean's or a nested value's JSON text as written). */
typedef struct sl_jsonl_kv {
    sl_value_t key;
    sl_json_kind_t kind;
    sl_value_t val;
} sl_jsonl_kv_t;

typedef struct sl_jsonlr sl_jsonlr_t;

int sl_jsonlr_open(sl_fmt_stream_t in, sl_jsonlr_t **out, sl_err_t *err);
void sl_jsonlr_free(sl_jsonlr_t *r);
/* The next line's object (blank lines are skipped): 1 with its keys in order, 0 at the
 * end. A line that is not one JSON object is SL_E_DATA naming the line. */
int sl_jsonlr_next(sl_jsonlr_t *r, const sl_jsonl_kv_t **kv, int *n, sl_err_t *err);
int64_t sl_jsonlr_line(const sl_jsonlr_t *r);
/* Parses one JSON object text (pure): the keys into kv (a growable array the caller
 * frees), unescaped strings into scratch. */
int sl_json_object_parse(const char *p, size_t n, sl_jsonl_kv_t **kv, int *nkv, int *cap,
                         sl_buf_t *scratch, sl_err_t *err);
/* Whether p[0..n) is one JSON object or array (surrounding blanks allowed). */
bool sl_json_is_container(const char *p, size_t n);

/* --- type inference (infer.c) ---------------------------------------------------------- */
/* What a sample of a column's values looks like; feed every sampled value, then read
 * the type. Pure. */
typedef struct sl_infer {
    uint32_t seen;     /* non-NULL values */
    uint32_t cand;     /* candidate types still possible (bit per kind) */
    int int_digits, frac_digits; /* decimal shape */
    bool json_native;  /* a JSON (JSONL) number or nested value was seen */
} sl_infer_t;

void sl_infer_init(sl_infer_t *f);
/* A value in its text (CSV) or JSON (JSONL, kind says which JSON value it was). */
void sl_infer_add(sl_infer_t *f, sl_json_kind_t kind, const char *p, size_t n);
/* Sets c->type (and precision, scale) from what was seen: bool, int64, decimal, float64,
 * date, timestamp, timestamptz, uuid, json, else text. */
void sl_infer_column(const sl_infer_t *f, sl_column_t *c);
/* One value of a CSV field (kind SL_JK_TEXT) or JSONL key (its JSON kind) as the
 * canonical text of column c's type into out (reset first): booleans to t/f, timestamps
 * to "YYYY-MM-DD HH:MM:SS[.ffffff]" (timestamptz converted to UTC "+00"; without a zone
 * taken as UTC), a date into a timestamp column at midnight, UUIDs lowercase, bytes from
 * "\x" hex (CSV) or base64 (JSONL); other text as it is. SL_E_DATA (detail: why) when
 * the value is not of the type. */
int sl_infer_canon(const sl_column_t *c, sl_json_kind_t kind, const char *p, size_t n,
                   sl_buf_t *out, sl_err_t *err);

#endif
