/*
 * secret.h: the secret box: encrypts connection and stream secrets before they go into
 * the broker's KV buckets (libsodium crypto_secretbox, XSalsa20-Poly1305).
 *
 * The key is 32 bytes: from SLUICE_SECRET_KEY (64 hex digits, or standard base64 of 32
 * bytes), else DATA_DIR/secret.key (64 hex digits, created 0600 on the first start).
 * A sealed value is base64(nonce || box): text that fits in a JSON string.
 *
 * Also the scrubbing every child's output line and error message goes through (a URL's
 * password is masked by core/url.h sl_url_mask, the one URL splitter). Pure functions
 * apart from sl_secret_key_load; thread-safe.
 */
#ifndef SL_CONTROL_SECRET_H
#define SL_CONTROL_SECRET_H

#include <stddef.h>

#include "core/err.h"

#define SL_SECRET_KEYLEN 32
#define SL_SECRET_MASK "****" /* as core/url.c masks */

typedef struct sl_secret_key {
    unsigned char k[SL_SECRET_KEYLEN];
} sl_secret_key_t;

/* Decodes a key given as 64 hex digits or base64 of 32 bytes. */
int sl_secret_key_parse(const char *text, sl_secret_key_t *key, sl_err_t *err);
/* The key from env_value (when not NULL) or DATA_DIR/secret.key (created when absent). */
int sl_secret_key_load(const char *env_value, const char *data_dir, sl_secret_key_t *key,
                       sl_err_t *err);
/* The key for one purpose (at most 8 characters, e.g. "jobs") derived from key
 * (libsodium crypto_kdf): a stream's process seals the workers' jobs with one, and gets
 * it instead of the secret key itself (docs/cluster.md "What crosses the broker"). */
void sl_secret_key_derive(const sl_secret_key_t *key, const char *purpose, sl_secret_key_t *out);
/* Seals len bytes of plain: a new NUL-terminated base64 string (caller frees). */
char *sl_secret_seal(const sl_secret_key_t *key, const void *plain, size_t len);
/* Opens a sealed string: a new NUL-terminated buffer (caller frees), *len its length;
 * NULL with an error when it was sealed with another key or is damaged. */
char *sl_secret_open(const sl_secret_key_t *key, const char *sealed, size_t *len, sl_err_t *err);

/* The password of url (caller frees), NULL when it has none or does not parse. */
char *sl_secret_url_password(const char *url);

/* A copy of s with every occurrence of each secret (NULL-terminated list, empty ones
 * skipped) replaced by "****". Caller frees. */
char *sl_secret_scrub(const char *s, const char *const *secrets);
/* Zeroes and frees a secret string. NULL: no-op. */
void sl_secret_free(char *s);
/* Zeroes and frees a NULL-terminated list of secrets (and the list). NULL: no-op. */
void sl_secret_list_free(char **list);

#endif
