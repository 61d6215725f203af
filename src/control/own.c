/*
 * own.c: the leases this server holds, the keeper that renews them and takes streams
 * over, and the watchdog that stops a stream's process in time (see own.h).
 */
#include "control/own.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/ctl.h"
#include "control/lease.h"
#include "control/state.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"

#define SCAN_MS 2000     /* how often the keeper looks for streams to take over */
#define TICK_MS 250      /* the keeper's and the watchdog's pace */

/* A lease this server holds. */
typedef struct held {
    struct held *next;
    char id[24], name[128];
    sl_lease_t lease;
    int64_t ok_ms;    /* when the last take or renewal that succeeded was sent */
    int64_t tried_ms; /* when the last renewal was sent */
} held_t;

/* A stream's lease as this server last saw it: expired once its revision stays for
 * SL_LEASE_TTL_MS; and the state last reported to the monitor. */
typedef struct seen {
    struct seen *next;
    char name[128];
    uint64_t rev;
    int64_t since_ms;
    char state[16];
} seen_t;

struct sl_own {
    sl_ctl_t *ctl;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
    held_t *held;
    seen_t *seen;
    pthread_t keeper, watchdog;
    bool has_keeper, has_watchdog;
};

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* ---- the tables (o->mu held) ------------------------------------------------------ */

static held_t *held_find(sl_own_t *o, const char *id)
{
    for (held_t *h = o->held; h; h = h->next)
        if (!strcmp(h->id, id))
            return h;
    return NULL;
}

/* Removes stream id from the table; its lease into *l when given. False when absent. */
static bool held_remove(sl_own_t *o, const char *id, sl_lease_t *l, char *name, size_t nsize)
{
    for (held_t **pp = &o->held; *pp; pp = &(*pp)->next)
        if (!strcmp((*pp)->id, id)) {
            held_t *h = *pp;
            *pp = h->next;
            if (l)
                *l = h->lease;
            if (name)
                snprintf(name, nsize, "%s", h->name);
            free(h);
            return true;
        }
    return false;
}

static seen_t *seen_get(sl_own_t *o, const char *name)
{
    for (seen_t *s = o->seen; s; s = s->next)
        if (!strcmp(s->name, name))
            return s;
    seen_t *s = calloc(1, sizeof *s);
    if (!s)
        sl_oom();
    snprintf(s->name, sizeof s->name, "%s", name);
    s->next = o->seen;
    o->seen = s;
    return s;
}

/* Records lease l of stream name as seen now; true when it is held and has not moved
 * for SL_LEASE_TTL_MS (its holder stopped renewing it). */
static bool observe(sl_own_t *o, const char *name, const sl_lease_t *l)
{
    int64_t now = sl_mono_ms();
    pthread_mutex_lock(&o->mu);
    seen_t *s = seen_get(o, name);
    if (s->rev != l->rev || s->since_ms == 0) {
        s->rev = l->rev;
        s->since_ms = now;
    }
    bool expired = l->node[0] && now - s->since_ms >= SL_LEASE_TTL_MS;
    pthread_mutex_unlock(&o->mu);
    return expired;
}

/* ---- taking and letting go --------------------------------------------------------- */

int sl_own_take(sl_own_t *o, const char *id, const char *name, bool idle, int64_t *epoch, char *holder,
                size_t hsize, sl_err_t *err)
{
    const char *me = o->ctl->node;
    pthread_mutex_lock(&o->mu);
    held_t *h = held_find(o, id);
    if (h)
        *epoch = h->lease.epoch;
    pthread_mutex_unlock(&o->mu);
    if (h)
        return 0;
    sl_lease_t l;
    if (sl_lease_get(o->ctl->store, name, &l, err))
        return -1;
    bool expired = observe(o, name, &l);
    if (l.node[0] && strcmp(l.node, me) && !expired && !idle) {
        snprintf(holder, hsize, "%s", l.node);
        return sl_err_set(err, SL_E_CONFLICT, "stream \"%s\" runs on another server (%s)", name, l.node);
    }
    int64_t sent = sl_mono_ms();
    if (sl_lease_take(o->ctl->store, name, me, &l, err)) {
        if (err->code == SL_E_CONFLICT)
            snprintf(holder, hsize, "%s", "another server");
        return -1;
    }
    observe(o, name, &l);
    h = calloc(1, sizeof *h);
    if (!h)
        sl_oom();
    snprintf(h->id, sizeof h->id, "%s", id);
    snprintf(h->name, sizeof h->name, "%s", name);
    h->lease = l;
    h->ok_ms = h->tried_ms = sent;
    pthread_mutex_lock(&o->mu);
    h->next = o->held;
    o->held = h;
    pthread_mutex_unlock(&o->mu);
    *epoch = l.epoch;
    sl_debug("stream %s: lease taken, epoch %lld", name, (long long)l.epoch);
    return 0;
}

void sl_own_release(sl_own_t *o, const char *id)
{
    sl_lease_t l;
    char name[128];
    pthread_mutex_lock(&o->mu);
    bool had = held_remove(o, id, &l, name, sizeof name);
    pthread_mutex_unlock(&o->mu);
    sl_err_t err = {0};
    if (had && sl_lease_release(o->ctl->store, name, &l, &err))
        sl_warn("stream %s: could not release its lease (%s); it expires by itself", name, err.message);
}

bool sl_own_holds(sl_own_t *o, const char *id)
{
    pthread_mutex_lock(&o->mu);
    bool yes = held_find(o, id) != NULL;
    pthread_mutex_unlock(&o->mu);
    return yes;
}

int sl_own_holder(sl_own_t *o, const char *name, char *node, size_t size, sl_err_t *err)
{
    sl_lease_t l;
    if (sl_lease_get(o->ctl->store, name, &l, err))
        return -1;
    bool expired = observe(o, name, &l);
    snprintf(node, size, "%s", l.node[0] && !expired ? l.node : "");
    return 0;
}

/* ---- the keeper ------------------------------------------------------------------- */

/* Stops stream id's process at once: this server lost its lease (why). */
static void lost(sl_own_t *o, const char *id, const char *name, const char *why)
{
    sl_warn("stream %s: %s: stopping its process (SIGKILL) before another server takes it over", name, why);
    sl_runner_signal(o->ctl->runner, id, SIGKILL);
}

/* Renews one lease (a copy of h's, not under the lock). */
static void renew(sl_own_t *o, const char *id, const char *name, sl_lease_t l)
{
    sl_err_t err = {0};
    int64_t sent = sl_mono_ms();
    int rc = sl_lease_renew(o->ctl->store, name, &l, &err);
    if (rc && err.code == SL_E_CONFLICT) {
        /* a renewal whose answer timed out may have moved the revision: still ours? */
        sl_lease_t now;
        sl_err_t e2 = {0};
        if (sl_lease_get(o->ctl->store, name, &now, &e2) == 0 && !strcmp(now.node, l.node) &&
            now.epoch == l.epoch) {
            pthread_mutex_lock(&o->mu);
            held_t *h = held_find(o, id);
            if (h && h->lease.epoch == now.epoch)
                h->lease.rev = now.rev; /* ok_ms stays: the next renewal confirms it */
            pthread_mutex_unlock(&o->mu);
            return;
        }
        if (e2.message[0])
            return; /* cannot tell: the watchdog decides if this goes on */
        pthread_mutex_lock(&o->mu);
        bool had = held_find(o, id) && held_remove(o, id, NULL, NULL, 0);
        pthread_mutex_unlock(&o->mu);
        if (had)
            lost(o, id, name, "another server took its lease");
        return;
    }
    if (rc) {
        sl_debug("stream %s: could not renew its lease: %s", name, err.message);
        return;
    }
    pthread_mutex_lock(&o->mu);
    held_t *h = held_find(o, id);
    if (h && h->lease.epoch == l.epoch) {
        h->lease.rev = l.rev;
        if (sent > h->ok_ms)
            h->ok_ms = sent;
    }
    pthread_mutex_unlock(&o->mu);
}

/* Tells the monitor a state that another server stored (its SSE subscribers here). */
static void report_state(sl_own_t *o, const json_t *rec)
{
    const char *name = str(rec, "name"), *state = str(rec, "state");
    if (!name || !state)
        return;
    pthread_mutex_lock(&o->mu);
    seen_t *s = seen_get(o, name);
    bool changed = strcmp(s->state, state) != 0;
    snprintf(s->state, sizeof s->state, "%s", state);
    pthread_mutex_unlock(&o->mu);
    if (changed)
        sl_monitor_state(o->ctl->o.mon, name, state, json_object_get(rec, "error"));
}

/* One stream of the scan: taken over when it should run and nobody renews its lease. */
static void scan_one(sl_own_t *o, const json_t *rec)
{
    sl_ctl_t *ctl = o->ctl;
    const char *id = str(rec, "id"), *name = str(rec, "name");
    sl_state_t st;
    if (!id || !name || !sl_state_parse(str(rec, "state"), &st) || sl_own_holds(o, id))
        return;
    bool live = sl_state_allows(st, SL_ACT_RECOVER);
    if (!live && st != SL_ST_STOPPING)
        return;
    sl_lease_t l;
    sl_err_t err = {0};
    if (sl_lease_get(ctl->store, name, &l, &err))
        return;
    bool expired = observe(o, name, &l);
    if (l.node[0] && strcmp(l.node, ctl->node) && !expired)
        return;
    pthread_mutex_lock(&ctl->mu);
    if (!sl_ctl_stream_busy(ctl, id)) {
        const char *why = !l.node[0] ? "its lease is free"
                          : !strcmp(l.node, ctl->node) ? "this server ran it before"
                                                        : "its server stopped renewing its lease";
        if (!live) {
            sl_info("stream %s was stopping and %s: stopped", name, why);
            sl_ctl_stream_set_state(ctl, id, SL_ST_STOPPED, NULL);
        } else {
            sl_api_err_t e = {0};
            char sid[24];
            sl_info("stream %s is %s and %s: starting it here", name, str(rec, "state"), why);
            /* another server won the lease, or NATS did not answer: the next scan looks again */
            if (sl_ctl_stream_start_locked(ctl, id, SL_ACT_RECOVER, sid, &e) && strcmp(e.code, "not_owner") &&
                strcmp(e.code, "unavailable")) {
                json_t *error = json_pack("{s:s, s:s}", "code", e.code, "message", e.message);
                sl_ctl_stream_set_state(ctl, id, SL_ST_FAILED, error);
                json_decref(error);
            }
        }
    }
    pthread_mutex_unlock(&ctl->mu);
}

static void scan(sl_own_t *o)
{
    json_t *all;
    sl_err_t err = {0};
    if (sl_kv_list(o->ctl->store, SL_BUCKET_STREAMS, &all, &err)) {
        sl_debug("could not list the streams: %s", err.message);
        return;
    }
    size_t i;
    json_t *rec;
    json_array_foreach(all, i, rec)
    {
        if (!sl_own_holds(o, str(rec, "id") ? str(rec, "id") : ""))
            report_state(o, rec);
        pthread_mutex_lock(&o->mu);
        bool stop = o->stopping;
        pthread_mutex_unlock(&o->mu);
        if (stop)
            break;
        scan_one(o, rec);
    }
    json_decref(all);
}

static void *keeper_main(void *arg)
{
    sl_own_t *o = arg;
    int64_t next_scan = sl_mono_ms() + SCAN_MS;
    pthread_mutex_lock(&o->mu);
    while (!o->stopping) {
        int64_t now = sl_mono_ms();
        held_t *due = NULL;
        for (held_t *h = o->held; h && !due; h = h->next)
            if (now - h->tried_ms >= SL_LEASE_RENEW_MS)
                due = h;
        if (due) {
            due->tried_ms = now;
            char id[24], name[128];
            snprintf(id, sizeof id, "%s", due->id);
            snprintf(name, sizeof name, "%s", due->name);
            sl_lease_t l = due->lease;
            pthread_mutex_unlock(&o->mu);
            renew(o, id, name, l);
            pthread_mutex_lock(&o->mu);
            continue;
        }
        if (now >= next_scan) {
            pthread_mutex_unlock(&o->mu);
            scan(o);
            next_scan = sl_mono_ms() + SCAN_MS;
            pthread_mutex_lock(&o->mu);
            continue;
        }
        struct timespec until = sl_deadline_ms(TICK_MS);
        pthread_cond_timedwait(&o->cv, &o->mu, &until);
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

/* ---- the watchdog ------------------------------------------------------------------ */

static void *watchdog_main(void *arg)
{
    sl_own_t *o = arg;
    pthread_mutex_lock(&o->mu);
    while (!o->stopping) {
        int64_t now = sl_mono_ms();
        held_t *late = NULL;
        for (held_t *h = o->held; h && !late; h = h->next)
            if (now - h->ok_ms > SL_LEASE_KILL_MS)
                late = h;
        if (late) {
            char id[24], name[128];
            snprintf(id, sizeof id, "%s", late->id);
            held_remove(o, id, NULL, name, sizeof name);
            pthread_mutex_unlock(&o->mu);
            lost(o, id, name, "its lease could not be renewed for 6 s (cut off from NATS?)");
            pthread_mutex_lock(&o->mu);
            continue;
        }
        struct timespec until = sl_deadline_ms(TICK_MS);
        pthread_cond_timedwait(&o->cv, &o->mu, &until);
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

/* ---- start and stop ----------------------------------------------------------------- */

int sl_own_start(sl_ctl_t *ctl, sl_own_t **out, sl_err_t *err)
{
    sl_own_t *o = calloc(1, sizeof *o);
    if (!o)
        sl_oom();
    o->ctl = ctl;
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->cv, NULL);
    ctl->own = o; /* the first scan starts streams, which take leases through ctl */
    scan(o);
    o->has_keeper = pthread_create(&o->keeper, NULL, keeper_main, o) == 0;
    o->has_watchdog = o->has_keeper && pthread_create(&o->watchdog, NULL, watchdog_main, o) == 0;
    if (!o->has_watchdog) {
        sl_own_stop(o);
        ctl->own = NULL;
        return sl_err_set(err, SL_E_INTERNAL, "could not start the lease threads");
    }
    *out = o;
    return 0;
}

void sl_own_stop(sl_own_t *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->mu);
    o->stopping = true;
    pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->mu);
    if (o->has_keeper)
        pthread_join(o->keeper, NULL);
    if (o->has_watchdog)
        pthread_join(o->watchdog, NULL);
    while (o->held)
        sl_own_release(o, o->held->id);
    while (o->seen) {
        seen_t *s = o->seen;
        o->seen = s->next;
        free(s);
    }
    pthread_mutex_destroy(&o->mu);
    pthread_cond_destroy(&o->cv);
    free(o);
}
