/*
 * fmt.h: file formats (CSV, JSONL, Parquet) as pure encoders: rows of canonical values
 * (model/types.h) in, the bytes of one file out through a sink. No I/O of their own:
 * the file target (target/file/) pairs a format with a store (local disk, S3), so S3 is
 * not a copy of every format (docs/design.md "Ops tables").
 *
 * One encoder writes one file: open, write_row for every row, finish (which writes any
 * trailer, e.g. Parquet's footer, and flushes everything into the sink), free. Memory is
 * bounded: CSV and JSONL hold a small buffer; Parquet holds one row group (bounded by
 * row_group_bytes) and its footer metadata.
 *
 * Ownership: the table and options are borrowed and must outlive the encoder; values
 * passed to write_row are borrowed for the call only. Thread: one encoder, one thread.
 */
#ifndef SL_TARGET_FMT_FMT_H
#define SL_TARGET_FMT_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "model/batch.h"
#include "model/schema.h"

typedef enum sl_codec {
    SL_CODEC_NONE = 0,
    SL_CODEC_GZIP,
    SL_CODEC_ZSTD,
    SL_CODEC_SNAPPY, /* Parquet pages only */
} sl_codec_t;

/* Where the bytes go. write returns 0, or -1 with err set (e.g. a full disk). */
typedef struct sl_fmt_sink {
    int (*write)(void *ctx, const void *data, size_t len, sl_err_t *err);
    void *ctx;
} sl_fmt_sink_t;

typedef struct sl_fmt_opts {
    /* CSV */
    char delimiter;          /* ',' */
    char quote;              /* '"' */
    const char *null_marker; /* "" : an empty unquoted field; "" (empty string) is "\"\"" */
    bool header;             /* a header row with the column names (true) */
    /* JSONL */
    bool decimal_as_number;  /* decimals as JSON numbers instead of strings (false) */
    /* CSV and JSONL: the whole file compressed (NONE, GZIP, ZSTD); the store names it
     * .csv.gz / .jsonl.zst. Parquet: the page codec (NONE, SNAPPY, GZIP, ZSTD). */
    sl_codec_t codec;
    int level;               /* codec level, 0 = the codec's default */
    /* Parquet */
    int64_t row_group_bytes; /* uncompressed bytes per row group (default 64 MiB) */
    int64_t page_bytes;      /* uncompressed bytes per data page (default 1 MiB) */
    bool dictionary;         /* dictionary-encode columns where it pays (true) */
} sl_fmt_opts_t;

/* The defaults above. */
void sl_fmt_opts_default(sl_fmt_opts_t *o);

typedef struct sl_fmt_enc sl_fmt_enc_t;

struct sl_fmt_ops {
    const char *name; /* "csv", "jsonl", "parquet" */
    const char *ext;  /* file extension without the codec's: "csv", "jsonl", "parquet" */
    /* Every canonical type has a form in every format (docs/formats.md), so open only
     * fails on bad options (SL_E_CONFIG) or a table Parquet cannot describe (no columns:
     * SL_E_SCHEMA); values a format cannot hold are refused by write_row. */
    int (*open)(const sl_table_t *t, const sl_fmt_opts_t *o, sl_fmt_sink_t sink,
                sl_fmt_enc_t **out, sl_err_t *err);
    /* vals[0..t->ncolumns): one row; len < 0 is NULL. A value that does not parse as its
     * canonical type is SL_E_DATA naming the column. */
    int (*write_row)(sl_fmt_enc_t *enc, const sl_value_t *vals, sl_err_t *err);
    /* Writes whatever is buffered and the trailer. After finish, only free is allowed. */
    int (*finish)(sl_fmt_enc_t *enc, sl_err_t *err);
    void (*free)(sl_fmt_enc_t *enc); /* NULL: no-op */
    /* Bytes handed to the sink so far plus an estimate of what is buffered (for
     * rotation by size). */
    uint64_t (*size)(const sl_fmt_enc_t *enc);
    /* Pure: whether write_row would refuse value v (not NULL) of column col of t because
     * the format has no form for it (Parquet: infinite dates, NaN decimals, durations past
     * a day): 1 with why, else 0. NULL: the format holds every value. */
    int (*refuses)(const sl_table_t *t, int col, const sl_value_t *v, char *why, size_t whylen);
};

/* By name ("csv", "jsonl", "parquet"); NULL when unknown. */
const struct sl_fmt_ops *sl_fmt_lookup(const char *name);
/* "none", "gzip", "zstd", "snappy" -> codec; -1 when unknown. */
int sl_codec_from_name(const char *name);
/* ".gz", ".zst" or "" for CSV/JSONL file names. */
const char *sl_codec_ext(sl_codec_t c);

#endif
