/*
 * store.h: where the files of a file target go: a local directory or an S3-compatible
 * bucket. One ops table, one implementation per file (local.c, s3.c), chosen by the
 * target URL's scheme (file://, s3://). Formats (target/fmt/) know nothing of stores.
 *
 * Keys are relative paths under the store's root (file:///dir) or prefix
 * (s3://bucket/prefix): "orders/part-….parquet", "_sluice/manifest.json". A key that is
 * empty, absolute, contains "..", a NUL or a backslash is refused (SL_E_INVALID): file
 * targets cannot escape their directory.
 *
 * Every put is atomic: the whole object appears under its key or nothing does (local:
 * temp file, fsync, rename, fsync of the directory; S3: one PUT, or a multipart upload
 * that is completed only when every part is in and aborted on failure). Writing an
 * existing key replaces it (a redelivered batch rewrites the same object).
 *
 * A sl_store_t is used by one thread at a time; open one per writer lane.
 */
#ifndef SL_TARGET_STORE_STORE_H
#define SL_TARGET_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/url.h"

typedef struct sl_store sl_store_t;

typedef int (*sl_store_list_fn)(void *ctx, const char *key, uint64_t size, sl_err_t *err);

struct sl_store_ops {
    const char *name; /* "local", "s3" */
    /* Checks access (local: the directory exists or can be created and is writable;
     * S3: the bucket answers a signed request) so that a wrong secret fails here with a
     * clear message and hint. */
    int (*open)(const sl_url_t *url, sl_store_t **out, sl_err_t *err);
    void (*close)(sl_store_t *st); /* NULL: no-op */
    /* Stores the local file at path under key and consumes it (the file is renamed or
     * deleted on success; left in place on failure). Large files go up in parts. */
    int (*put_file)(sl_store_t *st, const char *key, const char *path, sl_err_t *err);
    /* Stores a small object from memory (manifest, checkpoints). */
    int (*put)(sl_store_t *st, const char *key, const void *data, size_t len, sl_err_t *err);
    /* Reads a small object (at most out->max bytes); *found false when absent. */
    int (*get)(sl_store_t *st, const char *key, sl_buf_t *out, bool *found, sl_err_t *err);
    /* Calls fn for every key under prefix ("" = all), in lexical order. */
    int (*list)(sl_store_t *st, const char *prefix, sl_store_list_fn fn, void *ctx,
                sl_err_t *err);
    /* Deletes key; absent is not an error. */
    int (*remove)(sl_store_t *st, const char *key, sl_err_t *err);
    /* --- reading (the file source, source/file/) --- */
    /* Opens for reading only: the directory must exist (nothing is created) or the bucket
     * answer a signed listing. The URL's parameters are the store's own. */
    int (*open_read)(const sl_url_t *url, sl_store_t **out, sl_err_t *err);
    /* Reads exactly n bytes at offset off of key into dst (S3: a ranged GET). version
     * (when not NULL, vsize bytes) receives what changes when the object does: the ETag
     * on S3, size and modification time on disk. SL_E_NOT_FOUND when key is absent,
     * SL_E_DATA when it is shorter than off + n. */
    int (*get_range)(sl_store_t *st, const char *key, uint64_t off, void *dst, size_t n,
                     char *version, size_t vsize, sl_err_t *err);
};

struct sl_store {
    const struct sl_store_ops *ops;
};

/* By URL scheme: "file" -> local, "s3" -> S3; NULL when unknown. */
const struct sl_store_ops *sl_store_lookup(const char *scheme);
/* Whether key is a safe relative key (see above). */
bool sl_store_key_ok(const char *key);

#endif
