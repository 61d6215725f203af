/*
 * load.h: running a `load` stream: source -> readers -> JetStream -> writer lanes ->
 * target, exactly once and resumable (docs/design.md "Modes", "Exactly once").
 *
 * sl_load_run() runs on the caller's thread and starts reader and writer threads of
 * its own; it returns once the load completed, failed or was interrupted.
 */
#ifndef SL_ENGINE_LOAD_H
#define SL_ENGINE_LOAD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker/bus.h"
#include "core/err.h"
#include "engine/spec.h"

typedef struct sl_load_opts {
    bool restart;               /* forget the stream's checkpoints and start over */
    bool progress_tty;          /* draw progress bars (else log lines) */
    volatile sig_atomic_t *stop; /* set by a signal handler to interrupt */
    /* For the initial load of a cdc stream (engine/cdc.c): */
    const char *snapshot;       /* import this exported snapshot on every reader */
    bool schema_only;           /* create the tables, copy no row (initial_load false) */
    bool truncate_existing;     /* empty target tables that hold rows (a load of ours
                                   that was cut short) instead of refusing them */
    uint64_t *snapshot_pos;     /* when set: receives the change-stream position of the
                                   load's own snapshot (source snapshot_position) */
    struct sl_stats *stats;     /* monitoring: the enclosing cdc stream's stats publisher
                                   (monitor/stats.h); NULL: the load publishes its own */
    const struct sl_secret_key *job_key; /* seals the workers' jobs (engine/job.h); needed
                                            by options.placement workers and any */
} sl_load_opts_t;

typedef enum { SL_LOAD_DONE, SL_LOAD_ALREADY_DONE, SL_LOAD_INTERRUPTED, SL_LOAD_FAILED } sl_load_result_t;

sl_load_result_t sl_load_run(const sl_spec_t *spec, sl_bus_t *bus, const sl_load_opts_t *opts,
                             sl_err_t *err);

#endif
