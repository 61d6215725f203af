/*
 * lane.c: the writer lane skeleton shared by loads and change streams (see lane.h):
 * subscribing, fetching, settling each message by the mode's verdict, and reconnecting
 * to the target with a capped backoff after a retriable failure.
 *
 * Thread: one per lane (sl_lanes_start); a lane touches the run context only through
 * its atomics and sl_run_fail, and the mode only through its callbacks.
 */
#include "engine/lane.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "core/mem.h"

#define NAK_DELAY_MS 200    /* an out-of-order batch comes back after this */
#define BROKER_RETRY_MS 500 /* between attempts to subscribe or fetch */
/* Reconnecting: the n-th retry of a message first waits 250 ms << min(n, 5), then twice
 * as long after each failed attempt, until the wait passes 10 s. */
#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_SHIFT 5
#define BACKOFF_CAP_MS 10000

typedef struct wlane {
    const sl_lane_cfg_t *cfg;
    int no;
    void *state; /* the mode's, for this lane */
    sl_target_t *tgt;
} wlane_t;

struct sl_lanes {
    sl_lane_cfg_t cfg;
    int n;
    pthread_t *th;
    struct lane_arg {
        sl_lanes_t *lanes;
        int no;
    } *args;
};

/* True when a retriable failure is left to the next pass or run. */
static bool ending(const wlane_t *l)
{
    const sl_lane_ops_t *ops = l->cfg->ops;
    return sl_run_stopping(l->cfg->run) || (ops->ending && ops->ending(l->state));
}

static void target_down(const wlane_t *l, bool down)
{
    if (l->cfg->ops->target_down)
        l->cfg->ops->target_down(l->state, down);
}

/* Opens the lane's target connection, with the lane's fence. */
static int open_target(wlane_t *l, sl_err_t *err)
{
    if (sl_target_open(l->cfg->target_url, &l->tgt, err))
        return -1;
    if (l->cfg->fence)
        l->tgt->fence = l->cfg->fence;
    return 0;
}

/* Reconnects to the target with backoff until it works; false when the pass ends
 * first or the failure is fatal (the run then fails). */
static bool reconnect(wlane_t *l, int attempt)
{
    sl_run_t *run = l->cfg->run;
    sl_target_close(l->tgt);
    l->tgt = NULL;
    target_down(l, true);
    int wait = BACKOFF_FIRST_MS << (attempt < BACKOFF_MAX_SHIFT ? attempt : BACKOFF_MAX_SHIFT);
    for (;;) {
        sl_run_sleep(run, wait);
        if (ending(l))
            return false;
        sl_err_t err = {0};
        if (open_target(l, &err) == 0) {
            target_down(l, false);
            return true;
        }
        sl_warn("lane %d: could not reconnect to the target: %s; retrying", l->no, err.message);
        if (!err.retriable && err.fatal) {
            sl_run_fail(run, &err);
            return false;
        }
        if (wait < BACKOFF_CAP_MS)
            wait *= 2;
    }
}

/* Applies one message until it is settled, the pass ends or the run fails. */
static void handle(wlane_t *l, sl_bus_msg_t *msg)
{
    const sl_lane_ops_t *ops = l->cfg->ops;
    sl_run_t *run = l->cfg->run;
    if (sl_bus_msg_delivered(msg) > 1)
        atomic_fetch_add(&run->redeliveries, 1);
    for (int attempt = 0;; attempt++) {
        sl_err_t err = {0};
        sl_lane_verdict_t v = ops->apply(l->state, l->tgt, msg, &err);
        switch (v) {
        case SL_LANE_APPLIED:
        case SL_LANE_SKIPPED:
        case SL_LANE_DROPPED:
            if (v != SL_LANE_DROPPED)
                atomic_fetch_add(v == SL_LANE_APPLIED ? &run->batches : &run->duplicates, 1);
            sl_bus_ack(msg); /* a lost ack only causes a redelivery, skipped by the checkpoint */
            if (ops->settled)
                ops->settled(l->state, v);
            return;
        case SL_LANE_LATER:
            sl_bus_nak(msg, NAK_DELAY_MS);
            return;
        case SL_LANE_REFUSED:
            sl_bus_term(msg);
            sl_run_fail(run, &err);
            return;
        case SL_LANE_FAILED:
            break;
        }
        if (!err.retriable || err.fatal) {
            sl_run_fail(run, &err);
            return;
        }
        if (ending(l))
            return; /* the message is applied by the next pass or run */
        atomic_fetch_add(&run->retries, 1);
        sl_warn("lane %d: applying broker message %" PRIu64 " failed (%s); reconnecting and retrying", l->no,
                sl_bus_msg_seq(msg), err.message);
        sl_bus_in_progress(msg);
        if (!reconnect(l, attempt))
            return;
    }
}

static void *lane_main(void *arg)
{
    struct lane_arg *a = arg;
    const sl_lane_cfg_t *cfg = &a->lanes->cfg;
    const sl_lane_ops_t *ops = cfg->ops;
    sl_run_t *run = cfg->run;
    wlane_t l = {.cfg = cfg, .no = a->no};
    l.state = ops->open ? ops->open(cfg->mode, a->no) : cfg->mode;
    sl_err_t err = {0};
    sl_bus_sub_t *sub = NULL;
    /* A target or broker that is down right now is waited for (retriable errors);
     * anything else fails the run. */
    if (open_target(&l, &err) && !err.retriable) {
        sl_run_fail(run, &err);
        goto out;
    }
    while (sl_bus_subscribe(run->bus, cfg->stream, l.no, &sub, &err)) {
        if (!err.retriable || ending(&l)) {
            if (!ending(&l))
                sl_run_fail(run, &err);
            goto out;
        }
        sl_run_sleep(run, BROKER_RETRY_MS);
    }
    while (ops->more(l.state)) {
        sl_bus_msg_t *msg = NULL;
        int rc = sl_bus_fetch(sub, &msg, cfg->fetch_ms, &err);
        if (rc < 0) {
            sl_warn("lane %d: %s; retrying", l.no, err.message);
            sl_run_sleep(run, BROKER_RETRY_MS);
            continue;
        }
        if (rc == 0) {
            if (ops->idle && l.tgt)
                ops->idle(l.state, l.tgt);
            continue;
        }
        if (!l.tgt && !reconnect(&l, 0)) {
            sl_bus_msg_free(msg);
            break;
        }
        handle(&l, msg);
        sl_bus_msg_free(msg);
    }
out:
    sl_bus_unsubscribe(sub);
    sl_target_close(l.tgt);
    if (ops->close)
        ops->close(l.state);
    return NULL;
}

sl_lanes_t *sl_lanes_start(const sl_lane_cfg_t *cfg, int n)
{
    sl_lanes_t *ls = calloc(1, sizeof *ls);
    if (!ls || !(ls->th = calloc((size_t)n, sizeof *ls->th)) || !(ls->args = calloc((size_t)n, sizeof *ls->args)))
        sl_oom();
    ls->cfg = *cfg;
    ls->n = n;
    for (int i = 0; i < n; i++) {
        ls->args[i] = (struct lane_arg){.lanes = ls, .no = cfg->first + i};
        if (pthread_create(&ls->th[i], NULL, lane_main, &ls->args[i]) != 0) {
            sl_error("could not start a writer lane thread");
            abort();
        }
    }
    return ls;
}

void sl_lanes_join(sl_lanes_t *ls)
{
    if (!ls)
        return;
    for (int i = 0; i < ls->n; i++)
        pthread_join(ls->th[i], NULL);
    free(ls->th);
    free(ls->args);
    free(ls);
}
