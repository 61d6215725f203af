/*
 * source.h: the one ops table every source (PostgreSQL, MariaDB/MySQL, files and S3)
 * implements.
 *
 * A sl_source_t is one connection to a source database. Implementations embed
 * `sl_source_t base` as their first member and are found by URL scheme through
 * sl_source_lookup(). Each connection is used by one thread at a time.
 *
 * Values handed to a row callback are canonical (model/types.h) and borrowed: they
 * are valid only during the callback.
 */
#ifndef SL_SOURCE_SOURCE_H
#define SL_SOURCE_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/url.h"
#include "filter/filter.h"
#include "model/batch.h"
#include "model/schema.h"

typedef struct sl_source sl_source_t;

/* Called once per row; a non-zero return stops the scan and is returned by scan(). */
typedef int (*sl_row_fn)(void *ctx, const sl_value_t *vals, int nvals, sl_err_t *err);

typedef struct sl_scan {
    const sl_table_t *table;
    /* Key bounds as JSON arrays of canonical key values in primary-key order:
     * rows with key > after_key (exclusive) and key <= upto_key (inclusive).
     * NULL means unbounded. Rows come in primary-key order when the table has one. */
    const char *after_key;
    const char *upto_key;
    /* A unit of work from units() (file sources), NULL otherwise. Rows of a unit come in
     * a fixed order; after_key ["N"] then skips its first N rows (resuming a unit). */
    const char *unit;
    /* Databases: at most `limit` rows (0: all), and only the row whose key is key_eq (a
     * JSON array as above) when set: a table copied in chunks beside a change stream
     * (engine/cdc_copy.c). */
    int64_t limit;
    const char *key_eq;
    /* Only the rows this filter keeps (bound to the described table, which may have
     * more columns than `table`), pushed into the SELECT. NULL: every row. */
    const sl_filter_t *filter;
} sl_scan_t;

struct sl_source_ops {
    const char *name; /* "pg", "mysql" */
    /* Opens a connection. The URL's path is the database; for PostgreSQL, ?schema=
     * sets the default schema for unqualified table names (default "public"). */
    int (*connect)(const sl_url_t *url, sl_source_t **out, sl_err_t *err);
    void (*close)(sl_source_t *src); /* NULL is a no-op */
    /* Every base table of the database (PostgreSQL: of the default schema), as names
     * describe() accepts. Caller frees each string and the array. */
    int (*list_tables)(sl_source_t *src, char ***names, int *n, sl_err_t *err);
    /* Describes "name" or "schema.name"; SL_E_NOT_FOUND with a hint when missing. */
    int (*describe)(sl_source_t *src, const char *table, sl_table_t **out, sl_err_t *err);
    /* Starts a snapshot on this connection that other connections can join.
     * *token: an opaque string for snapshot_import (caller frees); *max_readers: how
     * many connections may share it (1 when the engine cannot share snapshots, e.g.
     * MariaDB without the RELOAD privilege; the reason is logged). */
    int (*snapshot_export)(sl_source_t *src, char **token, int *max_readers, sl_err_t *err);
    /* Joins the snapshot on this (fresh) connection. */
    int (*snapshot_import)(sl_source_t *src, const char *token, sl_err_t *err);
    /* Called on the exporting connection once every reader has imported. The
     * exporting connection may then also be used as a reader. */
    int (*snapshot_release)(sl_source_t *src, sl_err_t *err);
    /* On the exporting connection after snapshot_release: the change-stream position
     * the snapshot corresponds to (source/cdc.h encoding; MariaDB/MySQL: binlog file
     * number << 32 | offset). NULL when the source has no such notion (PostgreSQL: the
     * replication slot gives it). */
    int (*snapshot_position)(sl_source_t *src, uint64_t *pos, sl_err_t *err);
    /* For a table whose primary key is one integer column: the smallest and largest
     * key (*has_rows false on an empty table). */
    int (*key_range)(sl_source_t *src, const sl_table_t *t, int64_t *min, int64_t *max,
                     bool *has_rows, sl_err_t *err);
    /* For a table with a primary key: the key of every `every`-th row in key order
     * (one index scan), as JSON arrays of canonical key texts, to cut the table into
     * stripes of about `every` rows. Caller frees each string and the array. */
    int (*key_sample)(sl_source_t *src, const sl_table_t *t, int64_t every, char ***keys, int *n,
                      sl_err_t *err);
    /* Streams rows (bounded memory whatever the table size) to fn. */
    int (*scan)(sl_source_t *src, const sl_scan_t *scan, sl_row_fn fn, void *ctx, sl_err_t *err);
    /* Sources that are files, not key ranges (NULL for databases): the units of work of
     * t, each about `every` rows (a file, or some of a Parquet file's row groups), as
     * opaque JSON strings that scan() takes in sl_scan_t.unit. Caller frees each string
     * and the array. The plan's stripes are then these units. */
    int (*units)(sl_source_t *src, const sl_table_t *t, int64_t every, char ***units, int *n,
                 sl_err_t *err);
};

struct sl_source {
    const struct sl_source_ops *ops;
};

/* The ops for a URL scheme ("postgres", "postgresql", "mysql", "mariadb", "file", "s3"),
 * or NULL. */
const struct sl_source_ops *sl_source_lookup(const char *scheme);
/* Parses the URL and connects with the right ops. */
int sl_source_open(const char *url, sl_source_t **out, sl_err_t *err);

static inline void sl_source_close(sl_source_t *src)
{
    if (src)
        src->ops->close(src);
}

#endif
