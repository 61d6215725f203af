/*
 * s3_conf.h: an S3 store's settings from its target URL, the environment and the AWS
 * credentials file.
 *
 *   s3://[ACCESS_KEY_ID:SECRET@]bucket[/prefix]?endpoint=http://127.0.0.1:9000
 *        &region=us-east-1&style=path|virtual&storage_class=STANDARD_IA
 *        &sse=AES256|aws:kms&sse_kms_key_id=…&profile=NAME&part_size_mb=8
 *
 * Credentials, first found wins: the URL's user and password (or a stored connection's
 * "password" field, merged into the URL by the spec); else AWS_ACCESS_KEY_ID +
 * AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN); else the profile (profile=, AWS_PROFILE,
 * "default") of AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials. A secret is never a
 * query parameter: sluice logs URLs with only the password redacted.
 *
 * Ownership: sl_s3_conf_t owns its strings; sl_s3_conf_clear() frees them (and wipes the
 * secret). Thread: reads the environment; call it from one thread.
 */
#ifndef SL_TARGET_STORE_S3_CONF_H
#define SL_TARGET_STORE_S3_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/opt.h"
#include "core/url.h"

typedef struct sl_s3_conf {
    char *bucket;
    char *prefix;        /* without leading or trailing '/', "" for the bucket's root */
    char *endpoint;      /* "http://127.0.0.1:9000", no trailing '/' */
    char *host;          /* Host header: the endpoint's host[:port], "bucket." first when
                          * virtual-hosted */
    char *base;          /* URL up to the object path: endpoint (virtual: with the bucket
                          * in the host) */
    bool path_style;
    char *region;
    char *access_key;
    char *secret_key;
    char *session_token; /* NULL when none */
    const char *creds_from; /* "the URL", "the environment", "~/.aws/credentials [default]"
                             * (static or points into creds_buf) */
    char creds_buf[600];
    char *storage_class; /* NULL: the bucket's default */
    char *sse;           /* NULL, "AES256", "aws:kms" */
    char *sse_kms_key_id;
    size_t part_size;    /* bytes per multipart part; files above it go up in parts */
} sl_s3_conf_t;

/* The S3 store's URL parameters (core/opt.h). */
extern const sl_opt_table_t sl_s3_url_params;
/* Whether key is a query parameter the S3 store reads (a row of sl_s3_url_params). */
bool sl_s3_conf_param(const char *key);

/* Fills c from u (scheme s3); SL_E_CONFIG with a hint for a bad or incomplete URL or no
 * credentials. On error c holds nothing to free. */
int sl_s3_conf_from_url(const sl_url_t *u, sl_s3_conf_t *c, sl_err_t *err);
void sl_s3_conf_clear(sl_s3_conf_t *c);

/* Reads profile's aws_access_key_id, aws_secret_access_key and aws_session_token from the
 * text of an INI credentials file (pure). Returns 1 when the profile has a key id and a
 * secret, 0 when not, -1 on out of memory. Outputs are malloc'd (NULL when absent). */
int sl_s3_creds_parse(const char *text, const char *profile, char **akid, char **secret,
                      char **token, sl_err_t *err);

#endif
