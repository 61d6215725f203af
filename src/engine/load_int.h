/*
 * load_int.h: state shared by the load orchestrator (load.c), its reader threads
 * (reader.c) and its writer lanes (writer.c). Not a public interface.
 *
 * Locking: `mu` guards next_stripe, inflight and the failure record; counters are
 * atomics so the progress display can read them without the lock.
 */
#ifndef SL_ENGINE_LOAD_INT_H
#define SL_ENGINE_LOAD_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker/bus.h"
#include "engine/load.h"
#include "engine/plan.h"
#include "engine/spec.h"
#include "source/source.h"
#include "target/target.h"

/* Where one stripe stood when this run started (from the target's checkpoints). */
typedef struct stripe_state {
    bool done;
    int64_t seq;     /* batches applied in the checkpoint's epoch */
    char *position;  /* last applied key (JSON), NULL when none */
} stripe_state_t;

typedef struct table_stats {
    _Atomic int64_t rows_read;
    _Atomic int64_t rows_written;
    _Atomic int64_t bytes_read;    /* batch bytes published (monitoring) */
    _Atomic int64_t bytes_written;
    _Atomic int stripes_left;
    int64_t rows_before;   /* rows written by earlier runs (estimated from done stripes) */
} table_stats_t;

typedef struct load {
    const sl_spec_t *spec;
    const sl_load_opts_t *opts;
    sl_plan_t plan;
    sl_bus_t *bus;
    uint64_t epoch;
    int lanes;
    size_t batch_bytes;
    stripe_state_t *st;
    table_stats_t *ts;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    int next_stripe;
    int inflight;
    int max_inflight;
    _Atomic int stripes_left;
    _Atomic bool failed;
    _Atomic bool restart;  /* the data phase must stop and start over (see load.c) */
    _Atomic int64_t moves; /* batches published or applied: the stall detector's pulse */
    _Atomic int busy;      /* writers inside a target transaction right now */
    sl_err_t fail_err;

    _Atomic int64_t batches;
    _Atomic int64_t duplicates;
    _Atomic int64_t redeliveries;
    _Atomic int64_t retries;
    struct sl_stats *stats; /* monitoring publisher (monitor/stats.h), NULL: none */
} load_t;

#define SL_LOAD_STALL_SECS 60
#define SL_LOAD_MAX_RESTARTS 10

/* Records the first fatal error and wakes everyone. Any thread. */
void sl_load_fail(load_t *ld, const sl_err_t *err);
/* True once the run failed, a shutdown was asked for, or the data phase restarts. */
bool sl_load_stopping(load_t *ld);

/* reader.c: one thread per reader connection; src is owned by the thread. */
typedef struct reader_arg {
    load_t *ld;
    sl_source_t *src;
    int id;
} reader_arg_t;
void *sl_load_reader_main(void *arg);

/* writer.c: one thread per lane. */
typedef struct writer_arg {
    load_t *ld;
    int lane;
} writer_arg_t;
void *sl_load_writer_main(void *arg);

/* The checkpoint key of a stripe: "s:<n>". */
void sl_load_stripe_key(int stripe, char *buf, int size);
/* Sleeps ms milliseconds unless the load is stopping (checked every 100 ms). */
void sl_load_sleep(load_t *ld, int ms);

#endif
