/*
 * monitor.c: the monitoring plane, server side (see monitor.h): the NATS subscription
 * to every stream's snapshots, the per-stream records (figures, state, log ring,
 * subscribers) and the calls the control plane makes.
 *
 * Streams are known by a key: the name or the id the control plane passes, or the
 * name a snapshot carries. A snapshot finds its record by its id (the child's
 * SLUICE_STREAM_ID) or its name, so the control plane may use either.
 *
 * Threads: nats.c's delivery thread runs on_msg; the control plane calls the rest from
 * any thread. `mu` guards every record; a subscription's own lock is taken inside it
 * (never the other way round, see sse.h).
 */
#include "monitor/monitor.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/bus.h"
#include "core/log.h"
#include "model/schema.h" /* sl_strdup */
#include "monitor/aggregate.h"
#include "monitor/prom.h"
#include "monitor/sse.h"

#define LOG_LINES 1000
#define LOG_MAX_BYTES 4096  /* longer lines are cut */
#define MAX_STREAMS 10000   /* snapshots of more streams than this are ignored */
#define SUB_QUEUE 64        /* events a subscriber may have waiting (sse.h) */
#define TOMBSTONES 64

typedef struct logline {
    char ts[32];
    char level[8];
    char *message;
} logline_t;

typedef struct entry {
    char *key;        /* as first named */
    char *name, *id;  /* from snapshots */
    char *state;
    json_t *error;
    sl_agg_t *agg;
    logline_t *logs;  /* ring of LOG_LINES, allocated on the first line */
    int lhead, ln;
    sl_monitor_sub_t **subs;
    int nsubs, capsubs;
} entry_t;

struct sl_monitor {
    pthread_mutex_t mu;
    sl_bus_t *bus;  /* its own connection, apart from the control plane's */
    sl_bus_listener_t *sub;
    bool stopping;
    entry_t **e;
    int n, cap;
    char *tomb[TOMBSTONES]; /* run ids of forgotten streams: their late snapshots are ignored */
    int ntomb;
    int bad_msgs;
};

/* ---- records -------------------------------------------------------------------- */

static bool same(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static entry_t *find(sl_monitor_t *mon, const char *key)
{
    for (int i = 0; i < mon->n; i++)
        if (same(mon->e[i]->key, key))
            return mon->e[i];
    for (int i = 0; i < mon->n; i++)
        if (same(mon->e[i]->id, key) || same(mon->e[i]->name, key))
            return mon->e[i];
    return NULL;
}

static entry_t *get(sl_monitor_t *mon, const char *key)
{
    entry_t *e = find(mon, key);
    if (e || mon->n >= MAX_STREAMS)
        return e;
    if (mon->n == mon->cap) {
        int nc = mon->cap ? mon->cap * 2 : 16;
        entry_t **v = realloc(mon->e, (size_t)nc * sizeof *v);
        if (!v)
            sl_oom();
        mon->e = v;
        mon->cap = nc;
    }
    e = calloc(1, sizeof *e);
    if (!e)
        sl_oom();
    e->key = sl_strdup(key);
    mon->e[mon->n++] = e;
    return e;
}

static const char *label(const entry_t *e) { return e->name ? e->name : e->key; }

static void entry_free(entry_t *e)
{
    for (int i = 0; i < e->nsubs; i++)
        sl_sse_close(e->subs[i]);
    free(e->subs);
    for (int i = 0; e->logs && i < e->ln; i++)
        free(e->logs[(e->lhead + i) % LOG_LINES].message);
    free(e->logs);
    sl_agg_free(e->agg);
    json_decref(e->error);
    free(e->state);
    free(e->key);
    free(e->name);
    free(e->id);
    free(e);
}

/* Queues an event for every subscriber of e, letting go of those that left. */
static void broadcast(entry_t *e, const char *event, const char *data, bool droppable)
{
    int k = 0;
    for (int i = 0; i < e->nsubs; i++) {
        if (sl_sse_gone(e->subs[i])) {
            sl_sse_close(e->subs[i]);
            continue;
        }
        sl_sse_push(e->subs[i], event, data, droppable);
        e->subs[k++] = e->subs[i];
    }
    e->nsubs = k;
}

static char *stats_text(entry_t *e, double now)
{
    json_t *j = sl_agg_stats_json(e->agg, label(e), e->state, now);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!s)
        sl_oom();
    return s;
}

static char *state_text(entry_t *e)
{
    json_t *j = json_pack("{s:o, s:O}", "state", e->state ? json_string(e->state) : json_null(), "error",
                          e->error ? e->error : json_null());
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!s)
        sl_oom();
    return s;
}

static bool tombstoned(sl_monitor_t *mon, const char *run)
{
    for (int i = 0; i < mon->ntomb; i++)
        if (same(mon->tomb[i], run))
            return true;
    return false;
}

/* ---- snapshots from NATS --------------------------------------------------------- */

/* Any thread: one snapshot into its stream's record. */
static int ingest(sl_monitor_t *mon, const void *data, size_t len, const char *subject, sl_err_t *err)
{
    sl_snap_t s;
    int rc = sl_snap_decode(data, len, &s, err);
    pthread_mutex_lock(&mon->mu);
    if (rc) {
        if (subject && mon->bad_msgs++ < 3)
            sl_warn("ignoring a message on %s: %s", subject, err->message);
    } else if (!mon->stopping && !tombstoned(mon, s.run)) {
        entry_t *e = (s.id ? find(mon, s.id) : NULL);
        if (!e)
            e = get(mon, s.stream);
        if (e) {
            sl_snap_set(&e->name, s.stream);
            if (s.id)
                sl_snap_set(&e->id, s.id);
            if (!e->agg)
                e->agg = sl_agg_new();
            double now = sl_snap_mono();
            if (sl_agg_add(e->agg, &s, now) && e->nsubs) {
                char *text = stats_text(e, now);
                broadcast(e, "stats", text, true);
                free(text);
            }
        }
    }
    pthread_mutex_unlock(&mon->mu);
    sl_snap_clear(&s);
    return rc;
}

int sl_monitor_ingest(sl_monitor_t *mon, const void *data, size_t len, sl_err_t *err)
{
    return ingest(mon, data, len, NULL, err);
}

/* nats.c's delivery thread (broker/bus.h): one snapshot. */
static void on_msg(void *closure, const char *subject, const void *data, size_t len)
{
    sl_err_t err = {0};
    ingest(closure, data, len, subject, &err);
}

int sl_monitor_start(const char *nats_url, sl_monitor_t **out, sl_err_t *err)
{
    sl_monitor_t *mon = calloc(1, sizeof *mon);
    if (!mon)
        sl_oom();
    pthread_mutex_init(&mon->mu, NULL);
    if (!nats_url) {
        *out = mon; /* no subscription to wait for */
        return 0;
    }
    if (sl_bus_connect(nats_url, &mon->bus, err) ||
        sl_bus_listen(mon->bus, SL_SNAP_SUBJECT_PREFIX ">", on_msg, mon, &mon->sub, err)) {
        sl_err_prefix(err, "monitor: ");
        sl_bus_close(mon->bus);
        pthread_mutex_destroy(&mon->mu);
        free(mon);
        return -1;
    }
    *out = mon;
    return 0;
}

void sl_monitor_stop(sl_monitor_t *mon)
{
    if (!mon)
        return;
    pthread_mutex_lock(&mon->mu);
    mon->stopping = true;
    pthread_mutex_unlock(&mon->mu);
    /* on_msg holds a pointer to mon: wait until nats.c says it will not run again */
    bool completed = sl_bus_unlisten(mon->sub, 5000);
    pthread_mutex_lock(&mon->mu);
    for (int i = 0; i < mon->n; i++)
        entry_free(mon->e[i]);
    mon->n = 0;
    pthread_mutex_unlock(&mon->mu);
    sl_bus_close(mon->bus);
    if (!completed) {
        /* freeing what a late callback could touch would be worse than this leak */
        sl_warn("monitor: the stats subscription did not close in 5 s");
        return;
    }
    free(mon->e);
    for (int i = 0; i < mon->ntomb; i++)
        free(mon->tomb[i]);
    pthread_mutex_destroy(&mon->mu);
    free(mon);
}

/* ---- what the control plane reports ----------------------------------------------- */

void sl_monitor_state(sl_monitor_t *mon, const char *stream, const char *state, const json_t *error)
{
    pthread_mutex_lock(&mon->mu);
    entry_t *e = get(mon, stream);
    if (e) {
        sl_snap_set(&e->state, state);
        json_decref(e->error);
        e->error = error ? json_deep_copy(error) : NULL;
        char *text = state_text(e);
        broadcast(e, "state", text, false);
        free(text);
        if (error) {
            char *et = json_dumps(error, JSON_COMPACT);
            if (et)
                broadcast(e, "error", et, false);
            free(et);
        }
        if (e->agg && e->nsubs) {
            /* the figures in the new state: a paused or stopped stream's rates are 0 */
            text = stats_text(e, sl_snap_mono());
            broadcast(e, "stats", text, true);
            free(text);
        }
    }
    pthread_mutex_unlock(&mon->mu);
}

/* Copies at most max bytes of s, not cutting a UTF-8 sequence. */
static char *cut(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    char *c = malloc(n + 1);
    if (!c)
        sl_oom();
    memcpy(c, s, n);
    c[n] = '\0';
    return c;
}

void sl_monitor_log(sl_monitor_t *mon, const char *stream, const char *level, const char *message)
{
    pthread_mutex_lock(&mon->mu);
    entry_t *e = get(mon, stream);
    if (e) {
        if (!e->logs && !(e->logs = calloc(LOG_LINES, sizeof *e->logs)))
            sl_oom();
        logline_t *l;
        if (e->ln == LOG_LINES) {
            l = &e->logs[e->lhead];
            free(l->message);
            e->lhead = (e->lhead + 1) % LOG_LINES;
        } else {
            l = &e->logs[(e->lhead + e->ln++) % LOG_LINES];
        }
        sl_agg_time(sl_snap_wall(), l->ts);
        snprintf(l->level, sizeof l->level, "%s", level ? level : "info");
        l->message = cut(message ? message : "", LOG_MAX_BYTES);
        if (e->nsubs) {
            json_t *j = json_pack("{s:s, s:s, s:s}", "ts", l->ts, "level", l->level, "message", l->message);
            char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
            if (text)
                broadcast(e, "log", text, true);
            free(text);
            json_decref(j);
        }
    }
    pthread_mutex_unlock(&mon->mu);
}

void sl_monitor_forget(sl_monitor_t *mon, const char *stream)
{
    pthread_mutex_lock(&mon->mu);
    entry_t *e;
    while ((e = find(mon, stream)) != NULL) {
        const sl_snap_t *t = sl_agg_totals(e->agg);
        if (t && t->run) {
            if (mon->ntomb == TOMBSTONES) {
                free(mon->tomb[0]);
                memmove(mon->tomb, mon->tomb + 1, (TOMBSTONES - 1) * sizeof *mon->tomb);
                mon->ntomb--;
            }
            mon->tomb[mon->ntomb++] = sl_strdup(t->run);
        }
        for (int i = 0; i < mon->n; i++)
            if (mon->e[i] == e) {
                mon->e[i] = mon->e[--mon->n];
                break;
            }
        entry_free(e);
    }
    pthread_mutex_unlock(&mon->mu);
}

/* ---- what the control plane asks ------------------------------------------------- */

json_t *sl_monitor_stats(sl_monitor_t *mon, const char *stream)
{
    pthread_mutex_lock(&mon->mu);
    entry_t *e = find(mon, stream);
    json_t *j = e ? sl_agg_stats_json(e->agg, label(e), e->state, sl_snap_mono())
                  : sl_agg_stats_json(NULL, stream, NULL, sl_snap_mono());
    pthread_mutex_unlock(&mon->mu);
    return j;
}

json_t *sl_monitor_summary(sl_monitor_t *mon, const char *stream)
{
    pthread_mutex_lock(&mon->mu);
    entry_t *e = find(mon, stream);
    json_t *j = sl_agg_summary_json(e ? e->agg : NULL, e ? e->state : NULL, sl_snap_mono());
    pthread_mutex_unlock(&mon->mu);
    return j;
}

json_t *sl_monitor_logs(sl_monitor_t *mon, const char *stream, int limit)
{
    if (limit <= 0)
        limit = 200;
    if (limit > LOG_LINES)
        limit = LOG_LINES;
    json_t *lines = json_array();
    pthread_mutex_lock(&mon->mu);
    entry_t *e = find(mon, stream);
    int n = e ? e->ln : 0;
    for (int i = n > limit ? n - limit : 0; i < n; i++) {
        const logline_t *l = &e->logs[(e->lhead + i) % LOG_LINES];
        json_array_append_new(lines, json_pack("{s:s, s:s, s:s}", "ts", l->ts, "level", l->level, "message",
                                               l->message));
    }
    pthread_mutex_unlock(&mon->mu);
    return json_pack("{s:o}", "lines", lines);
}

static int by_label(const void *a, const void *b)
{
    return strcmp(((const sl_prom_stream_t *)a)->name, ((const sl_prom_stream_t *)b)->name);
}

int sl_monitor_prometheus(sl_monitor_t *mon, sl_buf_t *out, sl_err_t *err)
{
    pthread_mutex_lock(&mon->mu);
    sl_prom_stream_t *v = calloc((size_t)mon->n + 1, sizeof *v);
    if (!v)
        sl_oom();
    for (int i = 0; i < mon->n; i++)
        v[i] = (sl_prom_stream_t){label(mon->e[i]), mon->e[i]->state, sl_agg_totals(mon->e[i]->agg)};
    qsort(v, (size_t)mon->n, sizeof *v, by_label);
    int rc = sl_prom_write(out, v, mon->n, err);
    pthread_mutex_unlock(&mon->mu);
    free(v);
    return rc;
}

/* ---- server-sent events ----------------------------------------------------------- */

sl_monitor_sub_t *sl_monitor_subscribe(sl_monitor_t *mon, const char *stream)
{
    sl_monitor_sub_t *q = sl_sse_new(stream, SUB_QUEUE);
    pthread_mutex_lock(&mon->mu);
    entry_t *e = mon->stopping ? NULL : get(mon, stream);
    if (!e) {
        pthread_mutex_unlock(&mon->mu);
        sl_sse_close(q); /* the reader sees -1 at once */
        return q;
    }
    if (e->nsubs == e->capsubs) {
        int nc = e->capsubs ? e->capsubs * 2 : 4;
        sl_monitor_sub_t **v = realloc(e->subs, (size_t)nc * sizeof *v);
        if (!v)
            sl_oom();
        e->subs = v;
        e->capsubs = nc;
    }
    e->subs[e->nsubs++] = q;
    /* the figures as they stand, so a new watcher need not wait for the next snapshot
     * (the control plane sends the current state itself) */
    if (e->agg) {
        char *text = stats_text(e, sl_snap_mono());
        sl_sse_push(q, "stats", text, true);
        free(text);
    }
    pthread_mutex_unlock(&mon->mu);
    return q;
}

int sl_monitor_next(sl_monitor_sub_t *sub, int timeout_ms, char **event, char **data)
{
    return sl_sse_next(sub, timeout_ms, event, data);
}

void sl_monitor_unsubscribe(sl_monitor_sub_t *sub) { sl_sse_release(sub); }
