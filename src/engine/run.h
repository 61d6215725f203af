/*
 * run.h: the run context a load and a change stream share: the broker connection, the
 * stop, restart and failure flags, the lock and condition every thread of the run
 * waits on, and the counters of the writer lanes.
 *
 * A run is made of passes: a load's data phase, a change stream's session. `restart`
 * ends the current pass (the next one starts over from the target's checkpoints);
 * `failed` ends the run with the first error recorded; `*stop` (set by a signal
 * handler) asks the run to end cleanly. Every thread polls sl_run_stopping() and
 * sleeps with sl_run_sleep(), so that none of them outlives a stop by more than
 * 100 ms of sleep.
 *
 * Locking: `mu` guards fail_err and whatever state the mode keeps beside the run
 * (a load's stripe cursor and in-flight window, a change stream's lane positions);
 * `cv` is broadcast under it whenever the run fails, restarts, or that state moves.
 * Flags and counters are atomics, read without the lock. Any thread.
 */
#ifndef SL_ENGINE_RUN_H
#define SL_ENGINE_RUN_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker/bus.h"
#include "core/err.h"
#include "monitor/snap.h"

typedef struct sl_run {
    sl_bus_t *bus;                    /* borrowed */
    volatile sig_atomic_t *stop;      /* NULL: never asked */
    struct sl_stats *stats;           /* the stats publisher, NULL: none */

    pthread_mutex_t mu;
    pthread_cond_t cv;
    _Atomic bool failed;
    _Atomic bool restart;             /* the pass must end and start over */
    const char *_Atomic restart_why;  /* why (a static string), NULL: not said */
    sl_err_t fail_err;                /* the first failure, under mu */

    /* the writer lanes' figures (engine/lane.h) */
    _Atomic int64_t batches;          /* applied */
    _Atomic int64_t duplicates;       /* skipped: at or below a checkpoint */
    _Atomic int64_t redeliveries;     /* delivered more than once */
    _Atomic int64_t retries;          /* retriable failures retried */
} sl_run_t;

void sl_run_init(sl_run_t *run, sl_bus_t *bus, volatile sig_atomic_t *stop);
void sl_run_destroy(sl_run_t *run);

/* Records err as the run's failure unless one is recorded already, and wakes
 * everyone. */
void sl_run_fail(sl_run_t *run, const sl_err_t *err);
/* Copies the recorded failure into *err and returns -1 when the run failed, else 0. */
int sl_run_failure(sl_run_t *run, sl_err_t *err);
/* Ends the current pass (why: a static string, may be NULL), and wakes everyone. */
void sl_run_restart(sl_run_t *run, const char *why);
/* True once a stop was asked for. */
bool sl_run_stop_asked(const sl_run_t *run);
/* True once the run failed, the pass restarts, or a stop was asked for. */
bool sl_run_stopping(sl_run_t *run);
/* Sleeps ms milliseconds unless the run is stopping (checked every 100 ms). */
void sl_run_sleep(sl_run_t *run, int ms);
/* Waits on cv for at most ms milliseconds; the caller holds mu. */
void sl_run_wait(sl_run_t *run, int ms);
/* Broadcasts cv under mu. */
void sl_run_wake(sl_run_t *run);
/* The lanes' counters into a stats snapshot (monitor/stats.h). */
void sl_run_snap(sl_run_t *run, sl_snap_t *snap);

#endif
