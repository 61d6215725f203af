/*
 * http_int.h: what keeps libmicrohttpd's one thread from ever blocking (http_async.c):
 * API handlers on worker threads while their connection is suspended, and server-sent
 * event streams that suspend their connection while they have nothing to send and are
 * resumed by a ticker. Private to http.c and http_async.c.
 *
 * libmicrohttpd's rules this follows: a connection is suspended only from its own
 * callbacks; every suspended connection is resumed before MHD_stop_daemon; a suspended
 * connection neither times out nor notices a hang-up (hence the event streams' pings).
 */
#ifndef SL_CONTROL_HTTP_INT_H
#define SL_CONTROL_HTTP_INT_H

#include <stdbool.h>

#include <microhttpd.h>

#include "control/ctl.h"

typedef struct sl_async sl_async_t;

/* Starts the ticker thread. */
int sl_async_start(sl_ctl_t *ctl, sl_async_t **out, sl_err_t *err);
/* With ctl->stopping set: resumes every parked event stream (each then ends) and waits
 * up to wait_ms for the workers to finish and the event streams to close, so that the
 * daemon can be stopped. */
void sl_async_drain(sl_async_t *a, int wait_ms);
/* Stops the ticker and frees. NULL: no-op. */
void sl_async_free(sl_async_t *a);

/* Runs fn(arg) on a new worker thread while conn is suspended, and resumes conn when fn
 * has returned (libmicrohttpd then calls the access handler again). Call it from conn's
 * access handler. false when no worker may start (too many at once, or no thread): the
 * caller answers itself. */
bool sl_async_work(sl_async_t *a, struct MHD_Connection *conn, void (*fn)(void *), void *arg);

/* A server-sent-events response on conn for subscription sub (taken) that starts with
 * the text first (taken). */
struct MHD_Response *sl_async_events(sl_async_t *a, struct MHD_Connection *conn, sl_monitor_sub_t *sub,
                                     char *first);

#endif
