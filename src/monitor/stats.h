/*
 * stats.h: the monitoring plane, publishing side. Runs inside `sluice run` (load and
 * cdc): one thread samples the engine's counters every second and publishes the
 * snapshot (monitor/snap.h) on the core NATS subject "sluice.stats.<stream>".
 *
 * Never on the data path: a core publish is fire-and-forget (no JetStream, no reply
 * awaited), the engine's hot path only bumps its own atomics, and sampling reads them
 * on the publisher's thread. A slow or absent subscriber costs the engine nothing: the
 * broker drops messages for slow consumers, and a publish that fails is skipped.
 *
 * Sources: the engine attaches a collect function that fills a snapshot from its
 * counters (engine/progress.c for a load, engine/cdc.c for the change stream). When a
 * source detaches, its last sample is kept as a base that later samples add to, so a
 * cdc stream's figures include its initial load.
 *
 * Threads: every function may be called from any thread; the collect function runs on
 * the publisher's thread with the publisher's lock held (attach/detach wait for it).
 * Ownership: the NATS connection is borrowed and must outlive sl_stats_stop().
 */
#ifndef SL_MONITOR_STATS_H
#define SL_MONITOR_STATS_H

#include <nats/nats.h>

#include "core/err.h"
#include "monitor/snap.h"

typedef struct sl_stats sl_stats_t;

/* Fills snap's tables and counters (snap arrives initialised and empty). */
typedef void (*sl_stats_collect_fn)(void *arg, sl_snap_t *snap);

/* Starts publishing for stream (the spec's name) on nc every interval_ms (0: 1000);
 * nc NULL: nothing is sent (tests read sl_stats_sample).
 * The control plane's stream id, when it runs the process, comes from the environment
 * variable SLUICE_STREAM_ID. */
int sl_stats_start(natsConnection *nc, const char *stream, int interval_ms, sl_stats_t **out, sl_err_t *err);
/* Samples and publishes once more (the final figures), flushes, stops and frees. NULL: no-op. */
void sl_stats_stop(sl_stats_t *st);

/* Sets the phase: "load", "cdc" or "done". */
void sl_stats_phase(sl_stats_t *st, const char *phase);
/* Makes fn(arg) the source of the counters (replacing any other, which is detached). */
void sl_stats_attach(sl_stats_t *st, sl_stats_collect_fn fn, void *arg);
/* Takes a last sample of the source and keeps it as the base; arg may be freed after. */
void sl_stats_detach(sl_stats_t *st);
/* Counts one error (a retried failure or the stream's failure). */
void sl_stats_error(sl_stats_t *st);
/* Publishes a snapshot now (e.g. at a phase change) instead of at the next tick. */
void sl_stats_publish_now(sl_stats_t *st);

/* The snapshot the publisher would send now (for tests); caller clears it. */
void sl_stats_sample(sl_stats_t *st, sl_snap_t *out);

#endif
