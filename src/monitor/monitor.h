/*
 * monitor.h: the monitoring plane, server side (docs/design.md "Monitoring").
 *
 * Readers and writers of every running stream publish counters on core NATS subjects,
 * apart from the data path (see monitor/stats.h for the publishing side). The monitor
 * subscribes to them, keeps the latest figures per stream and per table, computes rates,
 * progress and ETA, and serves them to the control plane: stats JSON (docs/api.md
 * "Stats"), a short summary for stream lists, recent log lines, Prometheus text, and
 * server-sent-event subscriptions.
 *
 * Threads: every function may be called from any thread (HTTP handlers, the lifecycle
 * supervisor); the monitor locks its own state. JSON results are new references the
 * caller decrefs; strings returned through out-parameters are the caller's to free().
 */
#ifndef SL_MONITOR_MONITOR_H
#define SL_MONITOR_MONITOR_H

#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

typedef struct sl_monitor sl_monitor_t;
typedef struct sl_monitor_sub sl_monitor_sub_t;

/* Connects to the broker at nats_url and subscribes to every stream's stats
 * ("sluice.stats.>", docs/monitoring.md). nats_url NULL: no broker, snapshots come
 * only through sl_monitor_ingest (tests). */
int sl_monitor_start(const char *nats_url, sl_monitor_t **out, sl_err_t *err);
/* Takes in one stats snapshot (monitor/snap.h wire JSON) as if it came from NATS.
 * Returns -1 with err for a message that is not one. */
int sl_monitor_ingest(sl_monitor_t *mon, const void *data, size_t len, sl_err_t *err);
/* Closes every subscription (their sl_monitor_next returns -1) and frees. NULL: no-op. */
void sl_monitor_stop(sl_monitor_t *mon);

/* The lifecycle reports a state change (an SSE "state" event; error is NULL or
 * {"code", "message", "detail"?, "hint"?}, borrowed). */
void sl_monitor_state(sl_monitor_t *mon, const char *stream, const char *state,
                      const json_t *error);
/* One log line of a stream (kept in a ring of the last 1000; an SSE "log" event). */
void sl_monitor_log(sl_monitor_t *mon, const char *stream, const char *level,
                    const char *message);
/* Forgets a deleted stream: its figures, logs and metrics; its subscribers get -1. */
void sl_monitor_forget(sl_monitor_t *mon, const char *stream);

/* The stats object of docs/api.md; zeros and nulls for a stream nothing is known of. */
json_t *sl_monitor_stats(sl_monitor_t *mon, const char *stream);
/* {"rows_read", "rows_written", "rows_per_sec", "lag_seconds", "progress"}. */
json_t *sl_monitor_summary(sl_monitor_t *mon, const char *stream);
/* {"lines": [{"ts", "level", "message"}]}: the last limit lines, oldest first. */
json_t *sl_monitor_logs(sl_monitor_t *mon, const char *stream, int limit);
/* Appends every metric in Prometheus text format 0.0.4 to out. */
int sl_monitor_prometheus(sl_monitor_t *mon, sl_buf_t *out, sl_err_t *err);

/* Server-sent events of one stream: state changes, stats every second while it runs,
 * log lines, errors. A bounded queue per subscriber: a slow one loses stats events,
 * never state events. */
sl_monitor_sub_t *sl_monitor_subscribe(sl_monitor_t *mon, const char *stream);
/* Waits up to timeout_ms for the next event: 1 with *event ("state", "stats", "log",
 * "error") and *data (one line of JSON text), 0 on timeout, -1 when the subscription was
 * closed (monitor stopping, stream forgotten). */
int sl_monitor_next(sl_monitor_sub_t *sub, int timeout_ms, char **event, char **data);
void sl_monitor_unsubscribe(sl_monitor_sub_t *sub); /* NULL: no-op */

#endif
