/*
 * s3_sign.h: AWS Signature Version 4 for S3 requests, pure (no I/O, no clock, no globals
 * beyond OpenSSL's hash tables).
 *
 * Why our own signer: curl 7.88's CURLOPT_AWS_SIGV4 does not sort query parameters and
 * signs a streamed body as empty (docs/files.md "Signing"). Here the caller builds
 * the request's URL from the same encoders the signature uses (sl_s3_uri_encode,
 * sl_s3_canonical_query), so what is signed is exactly what is sent.
 *
 * Ownership: every input is borrowed; outputs go into caller-owned sl_buf_t or arrays.
 * Thread: any thread; no shared state.
 */
#ifndef SL_TARGET_STORE_S3_SIGN_H
#define SL_TARGET_STORE_S3_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"

/* A query parameter or header, unencoded. A bare flag like ?uploads is {"uploads", ""}. */
typedef struct sl_s3_kv {
    const char *key;
    const char *value;
} sl_s3_kv_t;

/* The hash of an empty payload (GET, DELETE, HEAD). */
#define SL_S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef struct sl_s3_sigreq {
    const char *method;       /* "GET", "PUT", ... */
    const char *path;         /* unencoded, from the root: "/bucket/key" or "/key" */
    const sl_s3_kv_t *query;  /* unencoded, any order */
    int nquery;
    const sl_s3_kv_t *headers; /* every header to sign, names in any case; must include
                                * host, x-amz-date and x-amz-content-sha256 */
    int nheaders;
    const char *payload_hash; /* lowercase hex SHA-256 of the body */
    const char *amz_date;     /* "20130524T000000Z" */
    const char *region;       /* "us-east-1" */
    const char *service;      /* "s3" */
    const char *access_key;
    const char *secret_key;
} sl_s3_sigreq_t;

/* Appends s URI-encoded the SigV4 way: A-Z a-z 0-9 - . _ ~ kept, every other byte as
 * %XX (upper case); '/' kept when keep_slash (object paths), else encoded. */
int sl_s3_uri_encode(sl_buf_t *out, const char *s, bool keep_slash, sl_err_t *err);
/* Appends the canonical query string: each key and value encoded, sorted by key then
 * value (byte order), "k=v" joined by '&' ("uploads=" for a flag). Also the query string
 * the request is sent with. */
int sl_s3_canonical_query(sl_buf_t *out, const sl_s3_kv_t *q, int n, sl_err_t *err);
/* Appends the canonical request (method, URI, query, headers, signed header list, hash)
 * and, when signed is not NULL, the signed header list alone into *signed. */
int sl_s3_canonical_request(sl_buf_t *out, sl_buf_t *signed_headers, const sl_s3_sigreq_t *r,
                            sl_err_t *err);
/* Appends the value of the Authorization header for r. Never logs; the caller must not log
 * the result either (it is not secret, but is enough to replay the request). */
int sl_s3_authorization(sl_buf_t *out, const sl_s3_sigreq_t *r, sl_err_t *err);

/* Lowercase hex SHA-256 of p[0..n) into out (65 bytes with the NUL). */
void sl_s3_sha256_hex(const void *p, size_t n, char out[65]);
/* "YYYYMMDDTHHMMSSZ" of t in UTC into out (17 bytes). */
void sl_s3_amz_date(time_t t, char out[17]);

#endif
