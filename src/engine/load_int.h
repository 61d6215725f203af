/*
 * load_int.h: state shared by the load orchestrator (load.c), its reader threads
 * (reader.c) and its writer lanes (writer.c, engine/lane.h). Not a public interface.
 *
 * Locking: the run context's `mu` (engine/run.h) guards next_stripe and inflight, and
 * its `cv` is broadcast when a slot of the in-flight window frees; counters are
 * atomics so the progress display can read them without the lock.
 */
#ifndef SL_ENGINE_LOAD_INT_H
#define SL_ENGINE_LOAD_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker/bus.h"
#include "engine/lane.h"
#include "engine/load.h"
#include "engine/plan.h"
#include "engine/run.h"
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
    _Atomic int64_t rows_rejected; /* options.on_error "reject" */
    _Atomic int stripes_left;
    int64_t rows_before;   /* rows written by earlier runs (estimated from done stripes) */
} table_stats_t;

typedef struct load {
    sl_run_t run;          /* the bus, the flags, the lanes' counters, the stats publisher */
    const sl_spec_t *spec;
    const sl_load_opts_t *opts;
    sl_plan_t plan;
    uint64_t epoch;
    int lanes;
    size_t batch_bytes;
    stripe_state_t *st;
    table_stats_t *ts;

    int next_stripe;       /* under run.mu */
    int inflight;          /* under run.mu */
    int max_inflight;
    _Atomic int stripes_left;
    _Atomic int64_t moves; /* batches published or applied: the stall detector's pulse */
    _Atomic int busy;      /* writers inside a target transaction right now */
    /* options.placement workers or any (place.c): lanes run in other processes too, so
     * stripes done are counted from the target's checkpoints, not by the lanes here */
    bool remote;
    /* readers take stripes from the stripe queue (place.c) instead of next_stripe */
    bool queued;
    /* a worker's reader: the in-flight window is the broker stream's pending messages,
     * at most `window` */
    bool worker;
    int window;
} load_t;

#define SL_LOAD_STALL_SECS 60
#define SL_LOAD_MAX_RESTARTS 10

/* reader.c: one thread per reader connection; src is owned by the thread. */
typedef struct reader_arg {
    load_t *ld;
    sl_source_t *src;
    int id;
} reader_arg_t;
void *sl_load_reader_main(void *arg);

/* writer.c: the load's writer lanes (the mode given to engine/lane.h, with the load_t
 * as its state). */
extern const sl_lane_ops_t sl_load_lane_ops;

/* The checkpoint key of a stripe: "s:<n>". */
void sl_load_stripe_key(int stripe, char *buf, int size);

/* place.c: a load's lanes on workers (options.placement, docs/cluster.md "Workers"), the
 * owner's side. Start queues one job per lane for the workers and listens to their
 * reports; tick (run_data's loop, every 250 ms) counts the stripes done from the
 * target's checkpoints and lets the readers go on as the broker stream drains; stop
 * withdraws the jobs nobody took. */
typedef struct sl_place sl_place_t;
int sl_place_start(load_t *ld, sl_place_t **out, sl_err_t *err);
void sl_place_tick(sl_place_t *pl);
void sl_place_stop(sl_place_t *pl);
/* Whether the stripes of this load can be read elsewhere: the source's snapshot can be
 * joined from another process (PostgreSQL's exported snapshot; files need none). */
bool sl_place_can_read(const load_t *ld, const sl_source_t *coord);
/* Queues the stripes not done and one read job per reader for the workers, which join
 * snapshot `token`; ld->queued from then on. */
int sl_place_reads(sl_place_t *pl, const char *token, int readers, sl_err_t *err);
/* The tag of a pass's broker stream ("e<epoch>"): a worker's job ends with its pass. */
void sl_place_tag(uint64_t epoch, char *buf, size_t size);

#endif
