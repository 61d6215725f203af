/*
 * apikey.h: the API keys of `sluice server` (docs/server.md "API keys").
 *
 * The server key (apikey.c), an admin key: from SLUICE_API_KEY, or --api-key-file FILE
 * (re-read when the file changes), else DATA_DIR/api-key.hash holds the SHA-256 of a key
 * generated on the first start (printed once; `--rotate-api-key` replaces it; a running
 * server re-reads the hash file when it changes).
 *
 * Named keys (keys.c), made by `sluice key add NAME --role read|admin`: their hashes live
 * in the broker's SLUICE_KEYS bucket (control/store.h), so every server on one NATS knows
 * the same keys, and a running server follows the bucket (a watcher thread), so an added
 * or removed key counts at once, without a restart.
 *
 * Only hashes are kept, in memory and in store; a key is shown once, when it is made.
 * Both checks are thread-safe and never wait for I/O beyond a stat (the HTTP thread calls
 * them).
 */
#ifndef SL_CONTROL_APIKEY_H
#define SL_CONTROL_APIKEY_H

#include <stdbool.h>

#include <jansson.h>

#include "control/route.h"
#include "control/store.h"
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
/* A new random key, "sk_" and 48 hex digits (caller frees), and the SHA-256 of a key. */
char *sl_apikey_new(void);
void sl_apikey_hash(const char *key, unsigned char out[32]);

/* ---- named keys (keys.c) ---------------------------------------------------------- */

typedef struct sl_keys sl_keys_t;

/* Loads the keys of the bucket (waits until they are all read) and starts the thread
 * that follows it and records when keys are used. st is borrowed and must outlive k. */
int sl_keys_open(sl_kv_t *st, sl_keys_t **out, sl_err_t *err);
void sl_keys_free(sl_keys_t *k); /* NULL: no-op */
/* The role of the named key presented (SL_ROLE_NONE: none matches); name (64 bytes)
 * gets its name. Notes the use ("last_used_at" is written by the thread, at most once a
 * minute per key and server). */
sl_role_t sl_keys_check(sl_keys_t *k, const char *presented, char *name);

/* What `sluice key` does, on the bucket directly (so it works with the server stopped). */
/* Makes key NAME with role: *key (caller frees) is the new key, to show once. 409-like
 * SL_E_CONFLICT when NAME exists. */
int sl_keys_add(sl_kv_t *st, const char *name, sl_role_t role, char **key, sl_err_t *err);
/* Every key's record without its hash: [{"name", "role", "created_at", "last_used_at"?}]
 * sorted by creation (new reference). */
int sl_keys_list(sl_kv_t *st, json_t **out, sl_err_t *err);
/* Deletes key NAME (SL_E_NOT_FOUND when there is none). */
int sl_keys_rm(sl_kv_t *st, const char *name, sl_err_t *err);

#endif
