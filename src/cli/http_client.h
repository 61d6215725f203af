/*
 * http_client.h: the CLI clients' HTTP to `sluice server` (libcurl, JSON with jansson).
 *
 * One client per command run, used from the main thread only. The API key is sent as
 * `Authorization: Bearer` and never printed or logged (curl's verbose mode stays off).
 * Response bodies are bounded (16 MiB); a server that cannot be reached is SL_E_CONNECT,
 * everything the server answers (any status) is a success of the transfer that the caller
 * interprets. sl_http_free(NULL) is a no-op.
 */
#ifndef SL_CLI_HTTP_CLIENT_H
#define SL_CLI_HTTP_CLIENT_H

#include <stddef.h>

#include <jansson.h>

#include "core/err.h"

typedef struct sl_http sl_http_t;

/* base_url without a trailing '/'; api_key may be NULL (requests then carry no key).
 * Both are copied. */
int sl_http_new(const char *base_url, const char *api_key, sl_http_t **out, sl_err_t *err);
void sl_http_free(sl_http_t *h);
/* For an https:// server: trust the CA certificates of ca_file (PEM) for its certificate.
 * The peer and host name are always checked; nothing turns that off. */
int sl_http_set_ca(sl_http_t *h, const char *ca_file, sl_err_t *err);

/* Sends METHOD base_url+path (path starts with '/', already escaped) with the JSON text
 * body (or NULL). On a response: 0, *status set, *resp the parsed JSON body (NULL when
 * the body was empty or not JSON; *raw, if given, then gets up to 300 bytes of it,
 * malloc'd). -1 with err when the transfer failed (SL_E_CONNECT) or the body was too
 * large (SL_E_LIMIT). timeout_s bounds the whole request (0 = none). */
int sl_http_call(sl_http_t *h, const char *method, const char *path, const char *body, long timeout_s,
                 long *status, json_t **resp, char **raw, sl_err_t *err);

/* Streams GET base_url+path (server-sent events): on_data gets each chunk of the body as it
 * arrives while the status is 200, and returns 0 to go on or non-zero to end the transfer.
 * *stop (if given) is polled a few times a second and ends it too. The transfer also ends
 * when nothing (not even a ping) arrived for idle_s seconds. Returns 0 when the server
 * closed the stream, on_data or *stop ended it, or the stream went idle (*status tells
 * what the server answered; a non-200 body goes to *resp as in sl_http_call); -1 with
 * err (SL_E_CONNECT) when the server could not be reached. */
int sl_http_stream(sl_http_t *h, const char *path, long idle_s, int (*on_data)(const char *, size_t, void *),
                   void *arg, volatile int *stop, long *status, json_t **resp, sl_err_t *err);

/* Percent-encodes s for a URL path segment into a malloc'd string. */
char *sl_http_escape(const char *s);

#endif
