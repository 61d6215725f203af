/*
 * file_src.h: internals of the file source (file:///dir and s3://bucket/prefix as
 * SOURCE URLs), shared by its files:
 *   file_source.c    the sl_source_ops table, URL options, listing files and tables
 *   file_describe.c  a table's schema: Parquet footers or a CSV/JSONL sample, merged
 *                    over the table's files (types widen safely or the file is refused)
 *   file_rows.c      one file's rows mapped onto the table's columns (all formats)
 *   file_scan.c      units of work (a file, or some of a Parquet file's row groups) and
 *                    scan, with resume inside a unit and a check that no file changed
 *
 * A table is a subdirectory (all its files of the format, at any depth, in name order)
 * or a file at the top (its name without extension). Files are read through the store
 * (target/store/: a local directory or S3 with ranged GETs) by the readers of
 * target/fmt/fmt_read.h. docs/files.md, "Files as sources", is the user's view.
 *
 * Ownership: an fsrc_t owns its store, options and file listing. Thread: one source
 * "connection" is used by one thread at a time, like every source.
 */
#ifndef SL_SOURCE_FILE_FILE_SRC_H
#define SL_SOURCE_FILE_FILE_SRC_H

#include <stdbool.h>
#include <stdint.h>

#include "source/source.h"
#include "target/fmt/fmt_read.h"
#include "target/store/store.h"

typedef enum ffmt { FF_NONE = 0, FF_PARQUET, FF_CSV, FF_JSONL } ffmt_t;

typedef struct ffile {
    char *key;       /* the store key, e.g. "orders/2024/part-1.parquet" */
    uint64_t size;
    ffmt_t fmt;
} ffile_t;

typedef struct fsrc {
    sl_source_t base;
    sl_store_t *st;
    ffmt_t fmt;              /* from ?format=, FF_NONE: by each file's extension */
    sl_csvr_opts_t csv;
    bool header;             /* CSV files start with a header row */
    int sample_rows;         /* CSV/JSONL rows sampled for the types */
    char *null_marker;       /* owned copy of csv.null_marker */
    ffile_t *files;          /* every file of a known format, in key order */
    int nfiles;
    bool listed;
} fsrc_t;

/* --- file_source.c --------------------------------------------------------------------- */
/* Lists the store once (cached). */
int sl_fsrc_list(fsrc_t *fs, sl_err_t *err);
/* The files of table `name` (indexes into fs->files, in key order), *n 0 when none. */
int sl_fsrc_table_files(fsrc_t *fs, const char *name, int **idx, int *n, sl_err_t *err);

/* A range reader over one file through the store. `version` keeps what the store says
 * identifies the file's content (S3 ETag, or size and mtime); when `expect` is set, a
 * read that sees another version fails naming the file (it changed under the load). */
typedef struct frange {
    fsrc_t *fs;
    const char *key;
    char version[256];
    const char *expect;
    sl_fmt_range_t r;
} frange_t;

void sl_frange_init(frange_t *fr, fsrc_t *fs, const ffile_t *f, const char *expect);

/* --- file_rows.c ---------------------------------------------------------------------- */
/* One open file of a table, its rows as the table's columns. */
typedef struct frows frows_t;

/* Opens file f for table t (NULL: for the file's own columns, describe's use). */
int sl_frows_open(fsrc_t *fs, const ffile_t *f, const sl_table_t *t, const char *expect,
                  frows_t **out, sl_err_t *err);
void sl_frows_free(frows_t *r);
/* Parquet: the reader (row groups, the file's own table), else NULL. */
sl_pq_reader_t *sl_frows_parquet(frows_t *r);
/* Reads row groups [from, to) of a Parquet file (default: all). */
void sl_frows_row_groups(frows_t *r, int from, int to);
/* The next row: 1 with vals[0..t->ncolumns), 0 at the end (a file opened with a table). */
int sl_frows_next(frows_t *r, sl_value_t *vals, sl_err_t *err);
/* A CSV/JSONL record as it is, for sampling: its field names (CSV: the header; JSONL:
 * the keys), values and JSON kinds. */
int sl_frows_next_raw(frows_t *r, const sl_value_t **names, const sl_value_t **vals,
                      const sl_json_kind_t **kinds, int *n, sl_err_t *err);
/* The version tag the file had when read. */
const char *sl_frows_version(frows_t *r);

/* --- file_describe.c ------------------------------------------------------------------ */
int sl_fsrc_describe(sl_source_t *src, const char *table, sl_table_t **out, sl_err_t *err);

/* --- file_scan.c ---------------------------------------------------------------------- */
int sl_fsrc_units(sl_source_t *src, const sl_table_t *t, int64_t every, char ***units, int *n,
                  sl_err_t *err);
int sl_fsrc_scan(sl_source_t *src, const sl_scan_t *scan, sl_row_fn fn, void *ctx, sl_err_t *err);

#endif
