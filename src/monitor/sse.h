/*
 * sse.h: one server-sent-event subscription of the monitor (monitor.h
 * sl_monitor_subscribe): a bounded queue between the monitor, which pushes events from
 * its threads, and one HTTP handler, which pops them.
 *
 * Bounded: past `soft` queued events, a droppable event (stats, log) pushes out the
 * oldest droppable one, so a slow reader sees the newest figures and loses old ones; a
 * state or error event is never dropped. Should a reader fall so far behind that
 * SL_SSE_HARD_FACTOR * soft events wait, the subscription closes (its reader
 * reconnects) rather than hold unbounded memory.
 *
 * Lifetime: two references, the monitor's and the reader's. sl_sse_close() (monitor
 * side: stopping, stream forgotten) drops the first, sl_sse_release() (reader side:
 * unsubscribe) the second; the last frees. Neither touches the monitor, so either may
 * come first, from any thread.
 */
#ifndef SL_MONITOR_SSE_H
#define SL_MONITOR_SSE_H

#include <stdbool.h>
#include <stdint.h>

#include "monitor/monitor.h"

#define SL_SSE_HARD_FACTOR 16

sl_monitor_sub_t *sl_sse_new(const char *stream, int soft);
/* Queues copies of event and data (never blocks). No-op once closed. */
void sl_sse_push(sl_monitor_sub_t *q, const char *event, const char *data, bool droppable);
/* sl_monitor_next's contract (monitor.h). */
int sl_sse_next(sl_monitor_sub_t *q, int timeout_ms, char **event, char **data);
void sl_sse_close(sl_monitor_sub_t *q);   /* monitor side */
void sl_sse_release(sl_monitor_sub_t *q); /* reader side; NULL: no-op */
bool sl_sse_gone(sl_monitor_sub_t *q);    /* the reader released it */
int64_t sl_sse_dropped(sl_monitor_sub_t *q); /* events dropped so far */

#endif
