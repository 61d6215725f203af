/*
 * cdc_ctl.h: requests to a running change stream over core NATS (cdc_ctl.c says the
 * protocol), the server's side and the stream's. The stream's side is engine-internal
 * (cdc_tables.c); the server sends with control/stream_tables.c.
 */
#ifndef SL_ENGINE_CDC_CTL_H
#define SL_ENGINE_CDC_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <nats/nats.h>

#include "core/err.h"

#define SL_CDC_CTL_PREFIX "sluice.ctl."

typedef struct sl_cdc_ctl sl_cdc_ctl_t;
struct sl_cdc_run;

/* The subject stream `stream` takes requests on, into buf: false when its name cannot be
 * a subject token (only [A-Za-z0-9_-]: every name the server accepts is). */
bool sl_cdc_ctl_subject(const char *stream, char *buf, size_t size);

/* The stream's side (reader thread, except the subscription's callback). */
int sl_cdc_ctl_start(struct sl_cdc_run *cd, sl_err_t *err);
void sl_cdc_ctl_stop(struct sl_cdc_run *cd);
bool sl_cdc_ctl_waiting(struct sl_cdc_run *cd);
/* The next request (new reference), NULL when none. */
json_t *sl_cdc_ctl_next(struct sl_cdc_run *cd);
/* Answers req (answer consumed). */
void sl_cdc_ctl_reply(struct sl_cdc_run *cd, const json_t *req, json_t *answer);
/* {"error": {"code", "message", "detail"?, "hint"?}} of err (new reference). */
json_t *sl_cdc_ctl_error(const sl_err_t *err);

/* The server's side: sends req (its "reply" is set here) to stream `stream` on nc and
 * waits up to timeout_ms for the answer (*answer, a new reference). 0 answered, 1 no
 * answer in time (no process runs the stream here, or it is busy), -1 failed. */
int sl_cdc_ctl_request(natsConnection *nc, const char *stream, json_t *req, int timeout_ms, json_t **answer,
                       sl_err_t *err);

#endif
