/*
 * lane.h: the writer lane, one skeleton for every mode (docs/design.md "Exactly once").
 *
 * A lane owns one target connection and one pull subscription to its subject of the
 * broker stream (at most one unacknowledged message: the lane sees its batches in
 * order), and runs on its own thread:
 *
 *   subscribe (retrying while the broker is not there yet)
 *   until the mode says it has no more work, or the run stops:
 *     fetch one message
 *     the mode applies it in one target transaction together with the lane's
 *       checkpoint, and says what happened (sl_lane_verdict_t)
 *     the lane settles it: ack, nak with a delay, or term
 *     a retriable failure: reconnect with a capped backoff, then the same message again
 *
 * The lane acknowledges only what the target committed (or found committed): a lost
 * acknowledgement makes the broker deliver the message again, and the checkpoint skips
 * it. It never applies a message after a failure of the one before: a message is
 * settled, or the lane retries it, or the run stops.
 *
 * The mode (a load's stripes, a change stream's positions: engine/writer.c,
 * engine/cdc_writer.c) supplies the callbacks below. What a lane needs from its
 * process is what sl_lane_cfg_t holds: the run context (broker connection, stop and
 * failure flags, counters), the stream's name, the target's URL and the mode's state.
 * Nothing else is shared with the reader side except through the mode's callbacks,
 * so a lane runs in another process on another machine too, given the mode's state
 * there: a worker's (engine/place.c, docs/cluster.md "Workers").
 */
#ifndef SL_ENGINE_LANE_H
#define SL_ENGINE_LANE_H

#include <stdbool.h>

#include "broker/bus.h"
#include "core/err.h"
#include "engine/run.h"
#include "target/target.h"

/* What the mode's apply made of a message, and what the lane then does with it. */
typedef enum sl_lane_verdict {
    SL_LANE_APPLIED, /* committed with the checkpoint: ack, count a batch */
    SL_LANE_SKIPPED, /* at or below the checkpoint (a redelivery, a republished batch):
                        ack, count a duplicate */
    SL_LANE_DROPPED, /* not to be applied by this lane, ever (a batch of an earlier
                        session; or one after a lost one, and the mode restarted the
                        pass): ack */
    SL_LANE_LATER,   /* an earlier batch of the lane must come first: nak with a delay,
                        so that the broker delivers the earlier one */
    SL_LANE_FAILED,  /* rolled back; err->retriable && !err->fatal: reconnect and retry
                        the same message; otherwise the run fails with err */
    SL_LANE_REFUSED, /* unreadable, or never to be applied: term (the broker never
                        delivers it again), and the run fails with err as it is */
} sl_lane_verdict_t;

typedef struct sl_lane_ops {
    /* The lane's own state (scratch buffers, what apply leaves for settled), made on
     * the lane's thread; NULL: the lane's state is `mode` itself. */
    void *(*open)(void *mode, int lane);
    void (*close)(void *state);
    /* Applies msg on tgt in one transaction together with the lane's checkpoint. */
    sl_lane_verdict_t (*apply)(void *state, sl_target_t *tgt, const sl_bus_msg_t *msg, sl_err_t *err);
    /* After an APPLIED, SKIPPED or DROPPED message was acknowledged: the mode's own
     * accounting and its reports to the reader side. */
    void (*settled)(void *state, sl_lane_verdict_t v);
    /* True while the lane should wait for more messages. */
    bool (*more)(void *state);
    /* True when the pass ends even though the run does not stop (optional): a
     * retriable failure is then left to the next pass instead of retried here. */
    bool (*ending)(void *state);
    /* The lane lost its target connection (down) or has it again (optional). */
    void (*target_down)(void *state, bool down);
    /* A fetch found no message (every fetch_ms while the lane waits): the mode's work
     * between transactions on the lane's target, e.g. storing what the target spools
     * once it is due (optional). */
    void (*idle)(void *state, sl_target_t *tgt);
} sl_lane_ops_t;

typedef struct sl_lane_cfg {
    sl_run_t *run;            /* the bus, the flags, the counters */
    const char *stream;       /* the broker stream: the sluice stream's name */
    const char *target_url;   /* each lane opens its own connection */
    int fetch_ms;             /* how long one fetch waits before more() is asked again */
    const sl_lane_ops_t *ops;
    void *mode;               /* the mode's shared state, handed to ops->open */
    int first;                /* the number of the first lane (a worker runs lane k alone) */
    int64_t fence;            /* the lease epoch its checkpoints are written under (target.h);
                                 0: the process's default */
} sl_lane_cfg_t;

typedef struct sl_lanes sl_lanes_t;

/* Starts n lanes (first..first+n-1), one thread each; cfg is copied. */
sl_lanes_t *sl_lanes_start(const sl_lane_cfg_t *cfg, int n);
/* Waits for every lane to end (more() false, or the run stopping) and frees them. */
void sl_lanes_join(sl_lanes_t *lanes);

#endif
