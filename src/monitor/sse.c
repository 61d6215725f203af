/*
 * sse.c: the bounded event queue of one subscription (see sse.h).
 *
 * Thread: `mu` guards everything; pushes come from the monitor's threads (NATS
 * callbacks, the control plane's calls), the reader waits on `cv`.
 */
#include "monitor/sse.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/schema.h" /* sl_strdup */

typedef struct event {
    char *event, *data;
    bool droppable;
} event_t;

struct sl_monitor_sub {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *stream;
    event_t *q;   /* a plain array: small, removal from the middle is a memmove */
    int n, soft, hard;
    int refs;
    bool closed, gone;
    int64_t dropped;
};

sl_monitor_sub_t *sl_sse_new(const char *stream, int soft)
{
    sl_monitor_sub_t *q = calloc(1, sizeof *q);
    if (!q)
        sl_oom();
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cv, &ca);
    pthread_condattr_destroy(&ca);
    q->stream = sl_strdup(stream);
    q->soft = soft > 0 ? soft : 1;
    q->hard = q->soft * SL_SSE_HARD_FACTOR;
    q->q = calloc((size_t)q->hard, sizeof *q->q);
    if (!q->q)
        sl_oom();
    q->refs = 2;
    return q;
}

static void drop_all(sl_monitor_sub_t *q)
{
    for (int i = 0; i < q->n; i++) {
        free(q->q[i].event);
        free(q->q[i].data);
    }
    q->n = 0;
}

/* Drops one reference; the caller holds mu, which this releases. */
static void unref(sl_monitor_sub_t *q)
{
    bool last = --q->refs == 0;
    pthread_mutex_unlock(&q->mu);
    if (!last)
        return;
    drop_all(q);
    free(q->q);
    free(q->stream);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    free(q);
}

/* Removes the oldest droppable event; false when there is none. Caller holds mu. */
static bool drop_oldest(sl_monitor_sub_t *q)
{
    for (int i = 0; i < q->n; i++)
        if (q->q[i].droppable) {
            free(q->q[i].event);
            free(q->q[i].data);
            memmove(&q->q[i], &q->q[i + 1], (size_t)(q->n - i - 1) * sizeof *q->q);
            q->n--;
            q->dropped++;
            return true;
        }
    return false;
}

void sl_sse_push(sl_monitor_sub_t *q, const char *event, const char *data, bool droppable)
{
    pthread_mutex_lock(&q->mu);
    if (q->closed || q->gone) {
        pthread_mutex_unlock(&q->mu);
        return;
    }
    if (q->n >= q->soft && !drop_oldest(q) && droppable) {
        q->dropped++; /* the queue holds only events that must not be dropped */
        pthread_mutex_unlock(&q->mu);
        return;
    }
    if (q->n >= q->hard) {
        /* a reader this far behind on state events is gone in all but name */
        q->dropped += q->n;
        drop_all(q);
        q->closed = true;
        pthread_cond_broadcast(&q->cv);
        pthread_mutex_unlock(&q->mu);
        return;
    }
    q->q[q->n++] = (event_t){sl_strdup(event), sl_strdup(data), droppable};
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

int sl_sse_next(sl_monitor_sub_t *q, int timeout_ms, char **event, char **data)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    if (timeout_ms < 0)
        timeout_ms = 0;
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&q->mu);
    while (!q->closed && q->n == 0)
        if (pthread_cond_timedwait(&q->cv, &q->mu, &until) == ETIMEDOUT)
            break;
    int rc;
    if (q->closed) {
        rc = -1;
    } else if (q->n == 0) {
        rc = 0;
    } else {
        *event = q->q[0].event;
        *data = q->q[0].data;
        memmove(&q->q[0], &q->q[1], (size_t)(q->n - 1) * sizeof *q->q);
        q->n--;
        rc = 1;
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

void sl_sse_close(sl_monitor_sub_t *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    drop_all(q);
    pthread_cond_broadcast(&q->cv);
    unref(q);
}

void sl_sse_release(sl_monitor_sub_t *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->gone = true;
    drop_all(q);
    unref(q);
}

bool sl_sse_gone(sl_monitor_sub_t *q)
{
    pthread_mutex_lock(&q->mu);
    bool g = q->gone;
    pthread_mutex_unlock(&q->mu);
    return g;
}

int64_t sl_sse_dropped(sl_monitor_sub_t *q)
{
    pthread_mutex_lock(&q->mu);
    int64_t d = q->dropped;
    pthread_mutex_unlock(&q->mu);
    return d;
}
