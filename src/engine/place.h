/*
 * place.h: the worker's side of options.placement (engine/place.c, docs/cluster.md
 * "Workers"): running one writer lane of a load that a job (engine/job.h) hands over.
 */
#ifndef SL_ENGINE_PLACE_H
#define SL_ENGINE_PLACE_H

#include <signal.h>

#include "broker/bus.h"
#include "core/err.h"
#include "engine/job.h"

/* Runs lane job->lane of load job->stream on this process until the job's pass is over
 * (0), *stop is set (SL_E_CANCELED) or the lane fails (its error: a fenced write, a
 * target that refuses the rows). Reports its figures every second on core NATS as node,
 * and calls alive(ctx) as often (the caller keeps the job's message in progress). Runs on
 * the caller's thread and one lane thread of its own. */
int sl_place_run_lane(const sl_job_t *job, sl_bus_t *bus, const char *node, volatile sig_atomic_t *stop,
                      void (*alive)(void *ctx), void *ctx, sl_err_t *err);

#endif
