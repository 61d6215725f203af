/*
 * apikey.h: the API key of `sluice server` (docs/server.md "Keys").
 *
 * The key comes from SLUICE_API_KEY, or --api-key-file FILE (re-read when the file
 * changes), else DATA_DIR/api-key.hash holds the SHA-256 of a key generated on the first
 * start (printed once; `--rotate-api-key` replaces it; a running server re-reads the hash
 * file when it changes). Only hashes are kept in memory, and the comparison is in
 * constant time. Thread-safe (a mutex guards the reload).
 */
#ifndef SL_CONTROL_APIKEY_H
#define SL_CONTROL_APIKEY_H

#include <stdbool.h>

#include "core/err.h"

/* The longest key, in bytes (a key file's trailing newline and blanks aside): a longer
 * one is refused, never cut. */
#define SL_APIKEY_MAX 4096
#define SL_APIKEY_MAX_TEXT "4096"

typedef struct sl_apikey sl_apikey_t;

/* Sets up the key source. When a key is generated, *generated (caller frees) is the new
 * key to print once; otherwise NULL. A key over SL_APIKEY_MAX bytes is an error. */
int sl_apikey_open(const char *env_key, const char *key_file, const char *data_dir,
                   sl_apikey_t **out, char **generated, sl_err_t *err);
void sl_apikey_free(sl_apikey_t *k); /* NULL: no-op */
/* True when presented (the bearer token, may be NULL) is the key. */
bool sl_apikey_check(sl_apikey_t *k, const char *presented);
/* Writes the hash of a new key to DATA_DIR/api-key.hash (atomically) and returns the
 * key (caller frees). */
char *sl_apikey_rotate(const char *data_dir, sl_err_t *err);

#endif
