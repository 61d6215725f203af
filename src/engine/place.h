/*
 * place.h: the worker's side of options.placement (engine/place.c, docs/cluster.md
 * "Workers"): running one writer lane, or one reader of the stripe queue, of a load that a
 * job (engine/job.h) hands over.
 */
#ifndef SL_ENGINE_PLACE_H
#define SL_ENGINE_PLACE_H

#include <signal.h>

#include "broker/bus.h"
#include "core/err.h"
#include "engine/job.h"

/* Runs job (lane job->lane, or a reader) of load job->stream on this process until the
 * job's pass is over (0), *stop is set (SL_E_CANCELED) or it fails (its error: a fenced
 * write, a target that refuses the rows, a snapshot that is gone). Reports its figures
 * every second on core NATS as node, and calls alive(ctx) as often (the caller keeps the
 * job's message in progress). Runs on the caller's thread and one thread of its own. */
int sl_place_run(const sl_job_t *job, sl_bus_t *bus, const char *node, volatile sig_atomic_t *stop,
                 void (*alive)(void *ctx), void *ctx, sl_err_t *err);

#endif
