/*
 * http_async.c: worker threads for API handlers and parked server-sent-event streams,
 * so that libmicrohttpd's one thread never waits (see http_int.h).
 *
 * Threads: the HTTP thread (sl_async_work, the event readers), one worker thread per API
 * request in flight (at most MAX_WORKERS), the ticker. `mu` guards the counts and the
 * list of event streams; an event stream is parked (its connection suspended) and
 * unparked (resumed) only under `mu`, so a resume never misses a suspend.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/http_int.h"
#include "core/clock.h"
#include "model/schema.h"

#define TICK_MS 200      /* how often parked event streams look for new events */
#define PING_MS 15000    /* a comment line after this long without an event */
#define MAX_WORKERS 128  /* API requests handled at once */
#define EVENTS_TIMEOUT_S 60 /* an event stream's idle timeout (pings keep it alive) */

typedef struct sse {
    struct sse *next;
    sl_async_t *a;
    struct MHD_Connection *conn;
    sl_monitor_sub_t *sub;
    char *pending;
    size_t len, off;
    int idle_ms;
    bool parked;
} sse_t;

struct sl_async {
    sl_ctl_t *ctl;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t ticker;
    bool quit;
    int workers; /* running */
    int streams; /* event streams open */
    sse_t *sses;
};

typedef struct work {
    sl_async_t *a;
    struct MHD_Connection *conn;
    void (*fn)(void *);
    void *arg;
} work_t;

/* Resumes every parked event stream. mu held. */
static void unpark_all(sl_async_t *a)
{
    for (sse_t *s = a->sses; s; s = s->next)
        if (s->parked) {
            s->parked = false;
            MHD_resume_connection(s->conn);
        }
}

static void *tick(void *arg)
{
    sl_async_t *a = arg;
    pthread_mutex_lock(&a->mu);
    while (!a->quit) {
        struct timespec t = sl_deadline_ms(TICK_MS);
        pthread_cond_timedwait(&a->cv, &a->mu, &t);
        unpark_all(a);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

int sl_async_start(sl_ctl_t *ctl, sl_async_t **out, sl_err_t *err)
{
    sl_async_t *a = calloc(1, sizeof *a);
    if (!a)
        sl_oom();
    a->ctl = ctl;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    if (pthread_create(&a->ticker, NULL, tick, a)) {
        pthread_mutex_destroy(&a->mu);
        pthread_cond_destroy(&a->cv);
        free(a);
        return sl_err_set(err, SL_E_INTERNAL, "could not start the HTTP ticker thread");
    }
    *out = a;
    return 0;
}

void sl_async_drain(sl_async_t *a, int wait_ms)
{
    if (!a)
        return;
    struct timespec until = sl_deadline_ms(wait_ms);
    pthread_mutex_lock(&a->mu);
    unpark_all(a);
    while (a->workers || a->streams) {
        if (pthread_cond_timedwait(&a->cv, &a->mu, &until) == ETIMEDOUT)
            break;
        unpark_all(a);
    }
    pthread_mutex_unlock(&a->mu);
}

void sl_async_free(sl_async_t *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->quit = true;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->ticker, NULL);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    free(a);
}

/* ---- workers ----------------------------------------------------------------------- */

static void *work_main(void *arg)
{
    work_t *w = arg;
    w->fn(w->arg);
    sl_async_t *a = w->a;
    pthread_mutex_lock(&a->mu);
    MHD_resume_connection(w->conn);
    a->workers--;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    free(w);
    return NULL;
}

bool sl_async_work(sl_async_t *a, struct MHD_Connection *conn, void (*fn)(void *), void *arg)
{
    work_t *w = malloc(sizeof *w);
    if (!w)
        sl_oom();
    *w = (work_t){a, conn, fn, arg};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_mutex_lock(&a->mu);
    /* Suspended before the worker can resume it: both under mu. */
    bool ok = a->workers < MAX_WORKERS && !atomic_load(&a->ctl->stopping);
    if (ok) {
        MHD_suspend_connection(conn);
        ok = pthread_create(&(pthread_t){0}, &attr, work_main, w) == 0;
        if (ok)
            a->workers++;
        else
            MHD_resume_connection(conn);
    }
    pthread_mutex_unlock(&a->mu);
    pthread_attr_destroy(&attr);
    if (!ok)
        free(w);
    return ok;
}

/* ---- server-sent events ------------------------------------------------------------- */

/* Takes the next event (or a ping that is due) into s->pending: 1 when there is one, 0
 * when there is none yet, -1 when the subscription ended. */
static int next_event(sse_t *s)
{
    char *ev = NULL, *data = NULL;
    int r = sl_monitor_next(s->sub, 0, &ev, &data);
    if (r < 0)
        return -1;
    free(s->pending);
    s->pending = NULL;
    s->len = s->off = 0;
    if (r == 1) {
        size_t n = strlen(ev) + strlen(data) + 32;
        s->pending = malloc(n);
        if (!s->pending)
            sl_oom();
        s->len = (size_t)snprintf(s->pending, n, "event: %s\ndata: %s\n\n", ev, data);
        s->idle_ms = 0;
        free(ev);
        free(data);
        return 1;
    }
    if (s->idle_ms >= PING_MS) {
        s->pending = sl_strdup(": ping\n\n");
        s->len = strlen(s->pending);
        s->idle_ms = 0;
        return 1;
    }
    return 0;
}

/* The content reader (HTTP thread): what is pending, else the next event, else the
 * connection is parked until the ticker's next round. */
static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    sse_t *s = cls;
    sl_async_t *a = s->a;
    if (s->off >= s->len) {
        if (atomic_load(&a->ctl->stopping))
            return MHD_CONTENT_READER_END_OF_STREAM;
        int got = next_event(s);
        if (got <= 0) {
            pthread_mutex_lock(&a->mu);
            bool ended = got < 0 || atomic_load(&a->ctl->stopping);
            if (!ended) {
                /* Counted as idle by ticks: a parked stream is looked at every TICK_MS. */
                s->idle_ms += TICK_MS;
                s->parked = true;
                MHD_suspend_connection(s->conn);
            }
            pthread_mutex_unlock(&a->mu);
            return ended ? MHD_CONTENT_READER_END_OF_STREAM : 0;
        }
    }
    size_t n = s->len - s->off < max ? s->len - s->off : max;
    memcpy(buf, s->pending + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    sse_t *s = cls;
    sl_async_t *a = s->a;
    pthread_mutex_lock(&a->mu);
    for (sse_t **pp = &a->sses; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    a->streams--;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    sl_monitor_unsubscribe(s->sub);
    free(s->pending);
    free(s);
}

struct MHD_Response *sl_async_events(sl_async_t *a, struct MHD_Connection *conn, sl_monitor_sub_t *sub,
                                     char *first)
{
    sse_t *s = calloc(1, sizeof *s);
    if (!s)
        sl_oom();
    s->a = a;
    s->conn = conn;
    s->sub = sub;
    s->pending = first;
    s->len = strlen(first);
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, s, sse_free);
    if (!r) {
        sl_monitor_unsubscribe(sub);
        free(first);
        free(s);
        return NULL;
    }
    pthread_mutex_lock(&a->mu);
    s->next = a->sses;
    a->sses = s;
    a->streams++;
    pthread_mutex_unlock(&a->mu);
    /* Longer than a request's: pings every 15 s keep a live stream from timing out. */
    MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)EVENTS_TIMEOUT_S);
    return r;
}
