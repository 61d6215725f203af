/*
 * s3_http.h: one signed S3 request over libcurl, with retries.
 *
 * sl_s3_http_do() builds the URL from the same encoders the SigV4 signature uses, signs
 * with the current time, sends, and retries with exponential backoff (and fresh
 * signatures) when the transport fails, times out or stalls, or the server answers 500,
 * 502, 503, 504, 429, or S3's 400 RequestTimeout. A body comes from memory (parts are read
 * from their file into one part buffer by the caller); its SHA-256 is signed, so a body
 * altered on the way is refused by the server.
 *
 * Nothing here logs: the Authorization header, the secret and the signature stay inside.
 *
 * Ownership: sl_s3_http_t owns its curl handle (kept for keep-alive) and a scratch buffer;
 * the conf is borrowed and must outlive it. Thread: one thread at a time (like the store).
 */
#ifndef SL_TARGET_STORE_S3_HTTP_H
#define SL_TARGET_STORE_S3_HTTP_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "target/store/s3_conf.h"
#include "target/store/s3_sign.h"

typedef struct sl_s3_http {
    void *curl; /* CURL * */
    const sl_s3_conf_t *conf;
    sl_buf_t scratch; /* response bodies nobody asked for (errors of PUTs) */
    int attempts;     /* tries per request, >= 1 */
    int backoff_ms;   /* first retry delay; doubles, capped at 8 s */
} sl_s3_http_t;

typedef struct sl_s3_req {
    const char *method;        /* GET, PUT, POST, DELETE, HEAD */
    const char *key;           /* object key in the bucket (prefix included); NULL: the bucket */
    const sl_s3_kv_t *query;   /* unencoded */
    int nquery;
    const sl_s3_kv_t *headers; /* extra headers, all signed (x-amz-storage-class, …) */
    int nheaders;
    const void *body;          /* PUT/POST body or NULL */
    size_t len;
    const char *body_sha256;   /* its hex SHA-256 when already known, else NULL */
} sl_s3_req_t;

typedef struct sl_s3_resp {
    long status;
    sl_buf_t *body;   /* in: where the body goes (reset per attempt), NULL: scratch */
    char etag[256];
    char code[64];    /* S3 error Code and Message when status >= 300 ("" if none) */
    char message[256];
    int attempts;     /* how many tries it took */
} sl_s3_resp_t;

int sl_s3_http_init(sl_s3_http_t *h, const sl_s3_conf_t *conf, sl_err_t *err);
void sl_s3_http_free(sl_s3_http_t *h);

/* Sends r. Returns 0 once a final response arrived, whatever its status (resp filled);
 * -1 when none did after every attempt (SL_E_CONNECT, retriable: the endpoint is down or
 * unreachable; message names the endpoint, never a secret), or SL_E_LIMIT when the
 * response body exceeds resp->body's maximum. */
int sl_s3_http_do(sl_s3_http_t *h, const sl_s3_req_t *r, sl_s3_resp_t *resp, sl_err_t *err);

#endif
