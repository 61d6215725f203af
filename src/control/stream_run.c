/*
 * stream_run.c: the life of streams' processes (docs/server.md "Streams: processes and
 * lifecycle"): start, resume, pause and stop, the runner's callbacks, and bringing streams
 * back when the server starts. Which action is allowed in which state, and where it leads,
 * is the one table of state.c; the state stored in KV is the truth, struct rt keeps what
 * only this server knows: whether it runs a child for the stream and why it signalled it.
 *
 * A stream runs as a child `sluice run - --secrets-fd 3` (runner.c) that gets the resolved
 * spec (connection references replaced by their URLs with passwords) on stdin and its
 * other secrets (the broker URL, the server's ambient credentials) as JSON on fd 3:
 * nothing secret on its command line or in its environment. pause and stop SIGTERM it
 * (it drains, commits, confirms and exits) and wait for the exit; start and resume spawn
 * it again and it continues from its checkpoints.
 *
 * In a cluster (docs/cluster.md) a server runs a stream only under its lease (own.h): a
 * spawn takes it first and hands its epoch to the child (`--fence-epoch`, the fence of
 * its checkpoint writes); the child's exit stores the next state and releases it; a child
 * killed because the lease was lost stores nothing (the new holder runs the stream).
 * pause and stop of a stream that another server runs are forwarded to it.
 *
 * Threads: API handlers and the runner thread; ctl->mu serialises every change here.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "control/ctl.h"
#include "control/lease.h"
#include "control/own.h"
#include "control/state.h"
#include "core/clock.h"
#include "core/log.h"
#include "engine/job.h"
#include "engine/spec.h"
#include "model/schema.h"

struct rt {
    struct rt *next;
    char id[24];
    char name[128];
    bool child;
    bool load;
    sl_intent_t intent;
};

#define WAIT_EXIT_MS 120000

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static struct rt *rt_find(sl_ctl_t *ctl, const char *id)
{
    for (struct rt *r = ctl->rts; r; r = r->next)
        if (strcmp(r->id, id) == 0)
            return r;
    return NULL;
}

static struct rt *rt_get(sl_ctl_t *ctl, const char *id, const char *name)
{
    struct rt *r = rt_find(ctl, id);
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            sl_oom();
        snprintf(r->id, sizeof r->id, "%s", id);
        r->next = ctl->rts;
        ctl->rts = r;
    }
    snprintf(r->name, sizeof r->name, "%s", name);
    return r;
}

void sl_ctl_stream_forget_rt(sl_ctl_t *ctl, const char *id)
{
    for (struct rt **pp = &ctl->rts; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->id, id) == 0) {
            struct rt *r = *pp;
            *pp = r->next;
            free(r);
            return;
        }
}

bool sl_ctl_stream_busy(sl_ctl_t *ctl, const char *id)
{
    struct rt *r = rt_find(ctl, id);
    return (r && r->child) || sl_runner_active(ctl->runner, id);
}

/* The state of a record (a record with an unknown state counts as failed: no action but
 * those of a failed stream applies to it). */
static sl_state_t state_of(const json_t *rec)
{
    sl_state_t s;
    return sl_state_parse(str(rec, "state"), &s) ? s : SL_ST_FAILED;
}

int sl_ctl_stream_check(const json_t *rec, sl_action_t a, sl_api_err_t *e)
{
    if (sl_state_allows(state_of(rec), a))
        return 0;
    char list[160];
    sl_state_allowed_list(a, list, sizeof list);
    sl_api_err_set(e, 409, "invalid_state", "stream \"%s\" is %s: %s needs it %s%s", str(rec, "name"),
                   str(rec, "state"), sl_action_name(a), strchr(list, ',') ? "in one of these states: " : "",
                   list);
    return -1;
}

int sl_ctl_stream_set_state(sl_ctl_t *ctl, const char *id, sl_state_t st, const json_t *error)
{
    const char *state = sl_state_name(st);
    for (int attempt = 0; attempt < 5; attempt++) {
        json_t *rec;
        uint64_t rev;
        sl_err_t err = {0};
        if (sl_kv_get(ctl->store, SL_BUCKET_STREAMS, id, &rec, &rev, &err)) {
            sl_warn("stream %s: could not store state %s: %s", id, state, err.message);
            return -1;
        }
        char now[32];
        json_object_set_new(rec, "state", json_string(state));
        json_object_set_new(rec, "error", error ? json_deep_copy(error) : json_null());
        json_object_set_new(rec, "updated_at", json_string(sl_ctl_now(now)));
        if (st == SL_ST_STARTING)
            json_object_set_new(rec, "node", json_string(ctl->node));
        int rc = sl_kv_update(ctl->store, SL_BUCKET_STREAMS, id, rec, &rev, &err);
        if (rc == 0) {
            sl_info("stream %s: %s", str(rec, "name"), state);
            sl_monitor_state(ctl->o.mon, str(rec, "name"), state, error);
        }
        json_decref(rec);
        if (rc == 0)
            return 0;
        if (err.code != SL_E_CONFLICT) {
            sl_warn("stream %s: could not store state %s: %s", id, state, err.message);
            return -1;
        }
    }
    return -1;
}

/* The secrets a child gets on fd 3 (runner.h): {"nats_url", "job_key" (the key that
 * seals the workers' jobs, engine/job.h), "env": {…}} with the
 * server's ambient credentials that the runner keeps out of its environment, so that an
 * S3 target still finds AWS_* and libpq PGPASSWORD (caller frees, secret). */
static char *child_secrets(const sl_ctl_t *ctl)
{
    json_t *env = json_object();
    for (const char *const *v = sl_runner_secret_env(); *v; v++) {
        const char *val = getenv(*v);
        if (val && strncmp(*v, "SLUICE_", 7))
            json_object_set_new(env, *v, json_string(val));
    }
    sl_secret_key_t jk;
    char hex[2 * SL_SECRET_KEYLEN + 1];
    sl_secret_key_derive(&ctl->o.key, SL_JOB_PURPOSE, &jk);
    sodium_bin2hex(hex, sizeof hex, jk.k, sizeof jk.k);
    json_t *j = json_pack("{s:s, s:s, s:o}", "nats_url", ctl->nats_url, "job_key", hex, "env", env);
    sodium_memzero(&jk, sizeof jk);
    sodium_memzero(hex, sizeof hex);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return text;
}

/* Spawns the child of stream rec (ctl->mu held, after the state checks) under its lease
 * (taken here; idle: no process runs it as far as its state says): starting. */
static int spawn(sl_ctl_t *ctl, const json_t *rec, bool idle, sl_api_err_t *e)
{
    const char *id = str(rec, "id");
    json_t *full = sl_ctl_spec_full(ctl, rec, e);
    if (!full)
        return -1;
    char **secrets = NULL;
    sl_spec_t *spec = NULL;
    json_t *resolved = sl_ctl_spec_resolve(ctl, full, &secrets, &spec, e);
    json_decref(full);
    if (!resolved)
        return -1;
    struct rt *r = rt_get(ctl, id, str(rec, "name"));
    r->load = spec->mode == SL_MODE_LOAD;
    sl_spec_free(spec);
    int64_t epoch = 0;
    char holder[40] = "";
    sl_err_t err = {0};
    if (sl_own_take(ctl->own, id, r->name, idle, &epoch, holder, sizeof holder, &err)) {
        json_decref(resolved);
        sl_secret_list_free(secrets);
        if (err.code != SL_E_CONFLICT)
            return sl_ctl_err(e, 503, "unavailable", &err);
        sl_api_err_set(e, 409, "not_owner", "stream \"%s\" runs on another server (%s)", r->name, holder);
        snprintf(e->hint, sizeof e->hint, "pause or stop it first (through any server), or wait: a lease that "
                                          "is not renewed expires within %d s", SL_LEASE_TTL_MS / 1000);
        return -1;
    }
    if (sl_ctl_stream_set_state(ctl, id, SL_ST_STARTING, NULL)) {
        json_decref(resolved);
        sl_secret_list_free(secrets);
        sl_own_release(ctl->own, id);
        return sl_api_err_set(e, 500, "internal", "could not store the state of stream \"%s\"", r->name);
    }
    char dir[1200], fence[24];
    snprintf(dir, sizeof dir, "%s/streams/%s", ctl->data_dir, id);
    snprintf(fence, sizeof fence, "%lld", (long long)epoch);
    const char *args[] = {"run", "-", "--secrets-fd", "3", "--data-dir", dir, "--no-progress",
                          "--fence-epoch", fence, NULL};
    char *text = json_dumps(resolved, JSON_COMPACT), *fd3 = child_secrets(ctl);
    r->child = true;
    r->intent = SL_INTENT_NONE;
    sl_runner_spawn(ctl->runner, id, r->name, args, text, fd3, (const char *const *)secrets);
    sl_secret_free(text);
    sl_secret_free(fd3);
    json_decref(resolved);
    sl_secret_list_free(secrets);
    return 0;
}

/* ---- runner callbacks (runner thread) ------------------------------------------- */

void sl_ctl_on_line(void *ctx, const char *id, const char *name, const char *level,
                    const char *message)
{
    (void)id;
    sl_ctl_t *ctl = ctx;
    sl_monitor_log(ctl->o.mon, name, level, message);
    sl_loglevel_t lv = !strcmp(level, "error")  ? SL_LOG_ERROR
                       : !strcmp(level, "warn") ? SL_LOG_WARN
                       : !strcmp(level, "debug") ? SL_LOG_DEBUG
                                                 : SL_LOG_INFO;
    sl_log(lv, "[%s] %s", name, message);
}

void sl_ctl_on_up(void *ctx, const char *id)
{
    sl_ctl_t *ctl = ctx;
    pthread_mutex_lock(&ctl->mu);
    struct rt *r = rt_find(ctl, id);
    json_t *rec;
    sl_err_t err;
    if (r && r->child && r->intent == SL_INTENT_NONE &&
        sl_kv_get(ctl->store, SL_BUCKET_STREAMS, id, &rec, NULL, &err) == 0) {
        if (sl_state_allows(state_of(rec), SL_ACT_UP))
            sl_ctl_stream_set_state(ctl, id, sl_state_next(state_of(rec), SL_ACT_UP), NULL);
        json_decref(rec);
    }
    pthread_mutex_unlock(&ctl->mu);
}

void sl_ctl_on_exit(void *ctx, const char *id, int code, const json_t *last_error)
{
    sl_ctl_t *ctl = ctx;
    pthread_mutex_lock(&ctl->mu);
    struct rt *r = rt_find(ctl, id);
    sl_intent_t intent = r ? r->intent : SL_INTENT_NONE;
    bool load = r && r->load;
    if (r) {
        r->child = false;
        r->intent = SL_INTENT_NONE;
    }
    sl_info("stream %s: child exited with status %d", r ? r->name : id, code);
    sl_state_t next = sl_state_after_exit(intent, code, load);
    if (!sl_own_holds(ctl->own, id)) {
        /* killed when the lease was lost: the server that holds it now runs the stream */
        sl_info("stream %s: this server no longer holds its lease; its state is the new holder's", r ? r->name : id);
    } else if (atomic_load(&ctl->stopping) && intent == SL_INTENT_NONE) {
        /* The server stops: the stored state stays, the stream starts with it again. */
    } else if (next != SL_ST_FAILED) {
        sl_ctl_stream_set_state(ctl, id, next, NULL);
    } else {
        json_t *error = last_error ? json_deep_copy(last_error) : json_object();
        if (!json_object_get(error, "message")) {
            char m[128];
            snprintf(m, sizeof m, code < 0 ? "could not start `sluice run`" : "`sluice run` exited with status %d", code);
            json_object_set_new(error, "message", json_string(m));
        }
        json_object_set_new(error, "code", json_string(code == 130 ? "interrupted" : "stream_failed"));
        sl_ctl_stream_set_state(ctl, id, SL_ST_FAILED, error);
        json_decref(error);
    }
    sl_own_release(ctl->own, id); /* after the state: a free lease of a live stream is taken over */
    pthread_cond_broadcast(&ctl->cv);
    pthread_mutex_unlock(&ctl->mu);
}

/* Waits (ctl->mu held, released while waiting) until stream id has no child. */
static void wait_exit(sl_ctl_t *ctl, const char *id)
{
    struct timespec deadline = sl_deadline_ms(WAIT_EXIT_MS);
    for (;;) {
        struct rt *r = rt_find(ctl, id);
        if (!r || !r->child)
            return;
        if (pthread_cond_timedwait(&ctl->cv, &ctl->mu, &deadline) != 0)
            return;
    }
}

/* ---- actions ------------------------------------------------------------------- */

int sl_ctl_stream_start_locked(sl_ctl_t *ctl, const char *id_or_name, sl_action_t a, char *id_out,
                               sl_api_err_t *e)
{
    json_t *rec;
    if (sl_ctl_stream_find(ctl, id_or_name, &rec, NULL, e))
        return -1;
    snprintf(id_out, 24, "%s", str(rec, "id"));
    int rc;
    if (sl_ctl_stream_check(rec, a, e))
        rc = -1;
    else if (sl_ctl_stream_busy(ctl, id_out))
        rc = sl_api_err_set(e, 409, "invalid_state", "stream \"%s\" still has a process running",
                            str(rec, "name"));
    else
        rc = spawn(ctl, rec, a != SL_ACT_RECOVER, e);
    json_decref(rec);
    return rc;
}

int sl_ctl_stream_halt(sl_ctl_t *ctl, const char *id_or_name, sl_intent_t intent, char *id_out,
                       sl_api_err_t *e)
{
    sl_action_t a = intent == SL_INTENT_PAUSE ? SL_ACT_PAUSE : SL_ACT_STOP;
    sl_state_t done = intent == SL_INTENT_PAUSE ? SL_ST_PAUSED : SL_ST_STOPPED;
    json_t *rec;
    char holder[40] = "";
    pthread_mutex_lock(&ctl->mu);
    int rc = sl_ctl_stream_find(ctl, id_or_name, &rec, NULL, e);
    if (rc == 0) {
        snprintf(id_out, 24, "%s", str(rec, "id"));
        struct rt *r = rt_find(ctl, id_out);
        sl_err_t err = {0};
        if (sl_ctl_stream_check(rec, a, e)) {
            rc = -1;
        } else if (r && r->child) {
            r->intent = intent;
            sl_ctl_stream_set_state(ctl, id_out, sl_state_next(state_of(rec), a), NULL);
            sl_runner_signal(ctl->runner, id_out, SIGTERM);
            wait_exit(ctl, id_out);
        } else if (state_of(rec) != SL_ST_PAUSED &&
                   sl_own_holder(ctl->own, str(rec, "name"), holder, sizeof holder, &err) == 0 && holder[0] &&
                   strcmp(holder, ctl->node)) {
            /* another server runs it: forwarded there (below, without the lock) */
        } else {
            /* No child anywhere (paused, or its server died): only the state changes. */
            sl_ctl_stream_set_state(ctl, id_out, done, NULL);
        }
        json_decref(rec);
    }
    pthread_mutex_unlock(&ctl->mu);
    if (rc == 0 && holder[0] && strcmp(holder, ctl->node)) {
        json_t *body = NULL;
        rc = sl_ctl_forward(ctl, holder, sl_action_name(a), id_out, NULL, &body, e);
        json_decref(body);
    }
    return rc;
}

void sl_ctl_streams_forget(sl_ctl_t *ctl)
{
    while (ctl->rts) {
        struct rt *r = ctl->rts;
        ctl->rts = r->next;
        free(r);
    }
}
