/*
 * stats.c: the stats publisher of a running stream (see stats.h).
 *
 * Thread: one publisher thread per sl_stats_t; `mu` guards the source, the base, the
 * phase and the counters of this file; the engine's own counters are atomics read by
 * the collect function.
 */
#include "monitor/stats.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "model/schema.h" /* sl_strdup */

struct sl_stats {
    natsConnection *nc;
    char subject[160];
    char *stream, *id;
    char run[40];
    int interval_ms;
    double t0;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
    bool stopping;
    sl_stats_collect_fn fn;
    void *arg;
    sl_snap_t base;
    char phase[8];
    int64_t seq, errors;
    bool warned;
};

/* The current source's figures alone, their kind by the phase (the change stream's
 * rows are change events, a load's rows loaded). Caller holds mu. */
static void collect(sl_stats_t *st, sl_snap_t *cur)
{
    sl_snap_init(cur);
    if (st->fn)
        st->fn(st->arg, cur);
    sl_snap_kind(cur, strcmp(st->phase, "cdc") == 0);
    sl_snap_sum(cur);
}

/* base + the current source, with this publisher's identity. Caller holds mu. */
static void sample_locked(sl_stats_t *st, sl_snap_t *out)
{
    sl_snap_t cur;
    collect(st, &cur);
    sl_snap_init(out);
    sl_snap_copy(out, &st->base);
    sl_snap_add(out, &cur);
    sl_snap_clear(&cur);
    sl_snap_set(&out->stream, st->stream);
    sl_snap_set(&out->id, st->id);
    sl_snap_set(&out->run, st->run);
    out->seq = ++st->seq;
    out->t = sl_snap_mono() - st->t0;
    out->ts = sl_snap_wall();
    out->errors += st->errors;
    snprintf(out->phase, sizeof out->phase, "%s", st->phase);
}

void sl_stats_sample(sl_stats_t *st, sl_snap_t *out)
{
    pthread_mutex_lock(&st->mu);
    sample_locked(st, out);
    pthread_mutex_unlock(&st->mu);
}

/* Samples and sends one snapshot: fire-and-forget (a failure is logged once). */
static void publish(sl_stats_t *st)
{
    if (!st->nc)
        return;
    sl_snap_t s;
    pthread_mutex_lock(&st->mu);
    sample_locked(st, &s);
    pthread_mutex_unlock(&st->mu);
    char *text = sl_snap_encode(&s);
    sl_snap_clear(&s);
    natsStatus rc = natsConnection_PublishString(st->nc, st->subject, text);
    free(text);
    pthread_mutex_lock(&st->mu);
    if (rc != NATS_OK && !st->warned) {
        st->warned = true;
        sl_debug("could not publish stats on %s: %s (the data path is not affected)", st->subject,
                 natsStatus_GetText(rc));
    }
    pthread_mutex_unlock(&st->mu);
}

static void *run(void *arg)
{
    sl_stats_t *st = arg;
    pthread_mutex_lock(&st->mu);
    while (!st->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += st->interval_ms / 1000;
        ts.tv_nsec += (long)(st->interval_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        int w = 0;
        while (!st->stopping && w == 0)
            w = pthread_cond_timedwait(&st->cv, &st->mu, &ts);
        if (st->stopping)
            break;
        pthread_mutex_unlock(&st->mu);
        publish(st);
        pthread_mutex_lock(&st->mu);
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

int sl_stats_start(natsConnection *nc, const char *stream, int interval_ms, sl_stats_t **out, sl_err_t *err)
{
    if (!stream || !*stream)
        return sl_err_set(err, SL_E_INTERNAL, "stats publisher: no stream name");
    sl_stats_t *st = calloc(1, sizeof *st);
    if (!st)
        sl_oom();
    st->nc = nc;
    st->stream = sl_strdup(stream);
    const char *id = getenv("SLUICE_STREAM_ID");
    st->id = id && *id ? sl_strdup(id) : NULL;
    snprintf(st->subject, sizeof st->subject, SL_SNAP_SUBJECT_PREFIX "%s", stream);
    st->t0 = sl_snap_mono();
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(st->run, sizeof st->run, "%08x%08lx%08lx", (unsigned)getpid(), (unsigned long)now.tv_sec,
             (unsigned long)now.tv_nsec);
    st->interval_ms = interval_ms > 0 ? interval_ms : 1000;
    strcpy(st->phase, "load");
    sl_snap_init(&st->base);
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    if (pthread_create(&st->th, NULL, run, st) != 0) {
        pthread_mutex_destroy(&st->mu);
        pthread_cond_destroy(&st->cv);
        free(st->stream);
        free(st->id);
        free(st);
        return sl_err_set(err, SL_E_INTERNAL, "could not start the stats publisher thread");
    }
    *out = st;
    return 0;
}

void sl_stats_stop(sl_stats_t *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->mu);
    st->stopping = true;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    pthread_join(st->th, NULL);
    publish(st);
    /* the final figures should reach the server before the process exits; a broker
     * that is gone costs at most this wait */
    if (st->nc)
        natsConnection_FlushTimeout(st->nc, 2000);
    sl_snap_clear(&st->base);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    free(st->stream);
    free(st->id);
    free(st);
}

void sl_stats_phase(sl_stats_t *st, const char *phase)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->mu);
    snprintf(st->phase, sizeof st->phase, "%s", phase);
    pthread_mutex_unlock(&st->mu);
}

static void detach_locked(sl_stats_t *st)
{
    if (!st->fn)
        return;
    sl_snap_t cur;
    collect(st, &cur);
    sl_snap_add(&st->base, &cur);
    sl_snap_clear(&cur);
    st->fn = NULL;
    st->arg = NULL;
}

void sl_stats_attach(sl_stats_t *st, sl_stats_collect_fn fn, void *arg)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->mu);
    detach_locked(st);
    st->fn = fn;
    st->arg = arg;
    pthread_mutex_unlock(&st->mu);
}

void sl_stats_detach(sl_stats_t *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->mu);
    detach_locked(st);
    pthread_mutex_unlock(&st->mu);
}

void sl_stats_error(sl_stats_t *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->mu);
    st->errors++;
    pthread_mutex_unlock(&st->mu);
}

void sl_stats_publish_now(sl_stats_t *st)
{
    if (st)
        publish(st);
}
