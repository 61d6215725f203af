/*
 * streams.c: the /api/v1/streams routes and the stream lifecycle (docs/design.md): created →
 * starting → running ⇄ paused → stopping → stopped | completed | failed.
 *
 * A stream record in KV: {"id", "name", "spec" (secrets masked), "sealed_spec" (secret
 * box of the spec as given, with its inline secrets), "state", "error", "created_at",
 * "updated_at"}. The state there is the truth; struct rt keeps what only this server
 * knows: whether it runs a child for the stream and why it signalled it.
 *
 * A stream runs as a child `sluice run -` (runner.c) that gets the resolved spec
 * (connection references replaced by their URLs with passwords) on stdin. pause and
 * stop SIGTERM it (it drains, commits, confirms and exits) and wait for the exit; start
 * and resume spawn it again and it continues from its checkpoints.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "control/ctl.h"
#include "core/log.h"
#include "engine/cdc.h"
#include "engine/spec.h"
#include "model/schema.h"

enum { INTENT_NONE, INTENT_PAUSE, INTENT_STOP };

struct rt {
    struct rt *next;
    char id[24];
    char name[128];
    bool child;
    bool load;
    int intent;
};

#define WAIT_EXIT_MS 120000

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
            abort();
        snprintf(r->id, sizeof r->id, "%s", id);
        r->next = ctl->rts;
        ctl->rts = r;
    }
    snprintf(r->name, sizeof r->name, "%s", name);
    return r;
}

static void rt_drop(sl_ctl_t *ctl, const char *id)
{
    for (struct rt **pp = &ctl->rts; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->id, id) == 0) {
            struct rt *r = *pp;
            *pp = r->next;
            free(r);
            return;
        }
}

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* ---- secrets in specs ---------------------------------------------------------- */

static bool secret_key(const char *k) { return !strcmp(k, "password") || !strcmp(k, "secret_access_key"); }

/* Masks, in place, every secret of a spec: "password", "secret_access_key" and URL passwords. */
static void mask_spec(json_t *j)
{
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        if (json_is_object(v))
            mask_spec(v);
        else if (json_is_string(v) && secret_key(k))
            json_object_set_new(j, k, json_string(SL_SECRET_MASK));
        else if (json_is_string(v) && !strcmp(k, "url")) {
            char *m = sl_secret_mask_url(json_string_value(v));
            json_object_set_new(j, k, json_string(m));
            free(m);
        }
    }
}

/* A PUT that sends "****" back keeps the stored secret: replaces, in place, every masked
 * value of j by the one at the same place in old. */
static void unmask_spec(json_t *j, const json_t *old)
{
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        const json_t *o = old ? json_object_get(old, k) : NULL;
        if (json_is_object(v))
            unmask_spec(v, o);
        else if (json_is_string(v) && secret_key(k) && !strcmp(json_string_value(v), SL_SECRET_MASK))
            json_object_set_new(j, k, json_is_string(o) ? json_copy((json_t *)o) : json_string(""));
        else if (json_is_string(v) && !strcmp(k, "url")) {
            char *pw = sl_secret_url_password(json_string_value(v));
            if (pw && !strcmp(pw, SL_SECRET_MASK)) {
                char *opw = json_is_string(o) ? sl_secret_url_password(json_string_value(o)) : NULL;
                char *u = sl_secret_url_with_password(json_string_value(v), opw ? opw : "");
                if (u)
                    json_object_set_new(j, k, json_string(u));
                free(u);
                free(opw);
            }
            free(pw);
        }
    }
}

/* Adds the secrets of an endpoint (its password and its URL's password) to list. */
static void add_secrets(const json_t *ep, char **list, int *n)
{
    const char *pw = str(ep, "password"), *url = str(ep, "url");
    if (pw && *pw)
        list[(*n)++] = sl_strdup(pw);
    char *up = url ? sl_secret_url_password(url) : NULL;
    if (up && *up)
        list[(*n)++] = up;
    else
        free(up);
}

static void free_list(char **v)
{
    for (char **p = v; p && *p; p++) {
        sodium_memzero(*p, strlen(*p));
        free(*p);
    }
    free(v);
}

/* Resolves a full spec: every {"connection": …} endpoint becomes {"url", "password"?,
 * "tables"?} of that connection. *secrets: every secret in the result (NULL-terminated,
 * free_list). Validates the result with the spec parser (*parsed, may be NULL). */
static json_t *resolve(sl_ctl_t *ctl, const json_t *full, char ***secrets, sl_spec_t **parsed,
                       sl_api_err_t *e)
{
    json_t *out = json_deep_copy(full);
    char **list = calloc(8, sizeof *list);
    if (!list)
        abort();
    int n = 0;
    for (int side = 0; side < 2; side++) {
        const char *where = side ? "target" : "source";
        json_t *ep = json_object_get(out, where);
        const char *cname = str(ep, "connection");
        if (cname) {
            json_t *rec, *sec;
            if (sl_ctl_conn_find(ctl, cname, &rec, NULL, e)) {
                if (e->status == 404) {
                    e->status = 400;
                    snprintf(e->code, sizeof e->code, "invalid_field");
                    snprintf(e->hint, sizeof e->hint, "create it first: POST /api/v1/connections");
                }
                goto fail;
            }
            sec = sl_ctl_conn_secrets(ctl, rec, e);
            json_decref(rec);
            if (!sec)
                goto fail;
            json_object_del(ep, "connection");
            json_object_set(ep, "url", json_object_get(sec, "url"));
            if (json_object_get(sec, "password"))
                json_object_set(ep, "password", json_object_get(sec, "password"));
            json_decref(sec);
        }
        if (ep)
            add_secrets(ep, list, &n);
    }
    char *text = json_dumps(out, JSON_COMPACT);
    sl_spec_t *spec = NULL;
    sl_err_t err = {0};
    int rc = sl_spec_parse(text, &spec, &err);
    sodium_memzero(text, strlen(text));
    free(text);
    if (rc) {
        char *m = sl_secret_scrub(err.message, (const char *const *)list);
        char *h = sl_secret_scrub(err.hint, (const char *const *)list);
        sl_api_err_set(e, 400, strncmp(m, "unknown field", 13) ? "invalid_field" : "unknown_field",
                       "invalid spec: %s", m);
        snprintf(e->hint, sizeof e->hint, "%s", h);
        free(m);
        free(h);
        goto fail;
    }
    if (parsed)
        *parsed = spec;
    else
        sl_spec_free(spec);
    *secrets = list;
    return out;
fail:
    free_list(list);
    json_decref(out);
    return NULL;
}

/* The full spec (with its inline secrets) of a record (new reference). */
static json_t *full_spec(sl_ctl_t *ctl, const json_t *rec, sl_api_err_t *e)
{
    sl_err_t err = {0};
    const char *sealed = str(rec, "sealed_spec");
    char *plain = sealed ? sl_secret_open(&ctl->o.key, sealed, NULL, &err) : NULL;
    if (!plain) {
        if (!sealed)
            sl_err_set(&err, SL_E_PROTOCOL, "stream record has no sealed spec");
        sl_ctl_err(e, 500, "internal", &err);
        return NULL;
    }
    json_t *j = json_loads(plain, 0, NULL);
    sodium_memzero(plain, strlen(plain));
    free(plain);
    if (!j)
        sl_api_err_set(e, 500, "internal", "a stream's sealed spec is damaged");
    return j;
}

json_t *sl_ctl_spec_full(sl_ctl_t *ctl, const json_t *rec, sl_api_err_t *e) { return full_spec(ctl, rec, e); }

json_t *sl_ctl_spec_resolve(sl_ctl_t *ctl, const json_t *full, char ***secrets, sl_spec_t **parsed, sl_api_err_t *e)
{
    return resolve(ctl, full, secrets, parsed, e);
}

/* ---- records ------------------------------------------------------------------- */

static json_t *stream_public(sl_ctl_t *ctl, const json_t *rec)
{
    json_t *o = json_deep_copy(rec);
    json_object_del(o, "sealed_spec");
    json_t *sum = sl_monitor_summary(ctl->o.mon, str(rec, "name"));
    json_object_set_new(o, "summary", sum ? sum : json_null());
    return o;
}

int sl_ctl_stream_find(sl_ctl_t *ctl, const char *id_or_name, json_t **rec, uint64_t *rev,
                       sl_api_err_t *e)
{
    return sl_ctl_find(ctl, SL_BUCKET_STREAMS, id_or_name, rec, rev, e);
}

/* Stores a new state (and error, borrowed, NULL for none) of stream id and reports it.
 * Retries when another writer changed the record meanwhile. */
static int set_state(sl_ctl_t *ctl, const char *id, const char *state, const json_t *error)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        json_t *rec;
        uint64_t rev;
        sl_err_t err = {0};
        if (sl_store_get(ctl->store, SL_BUCKET_STREAMS, id, &rec, &rev, &err)) {
            sl_warn("stream %s: could not store state %s: %s", id, state, err.message);
            return -1;
        }
        char now[32];
        json_object_set_new(rec, "state", json_string(state));
        json_object_set_new(rec, "error", error ? json_deep_copy(error) : json_null());
        json_object_set_new(rec, "updated_at", json_string(sl_ctl_now(now)));
        if (!strcmp(state, "starting"))
            json_object_set_new(rec, "node", json_string(ctl->node));
        int rc = sl_store_update(ctl->store, SL_BUCKET_STREAMS, id, rec, &rev, &err);
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

static bool state_in(const char *state, const char *const *allowed)
{
    for (int i = 0; allowed[i]; i++)
        if (!strcmp(state, allowed[i]))
            return true;
    return false;
}

static int bad_state(sl_api_err_t *e, const char *name, const char *state, const char *action,
                     const char *const *allowed)
{
    sl_api_err_set(e, 409, "invalid_state", "stream \"%s\" is %s: %s needs it %s", name, state, action,
                   allowed[1] ? "in one of these states:" : allowed[0]);
    if (allowed[1]) {
        size_t n = strlen(e->message);
        for (int i = 0; allowed[i] && n < sizeof e->message; i++)
            n += (size_t)snprintf(e->message + n, sizeof e->message - n, "%s %s", i ? "," : "", allowed[i]);
    }
    return -1;
}

/* Spawns the child of stream rec. Called with ctl->mu held, after the state checks. */
static int spawn(sl_ctl_t *ctl, const json_t *rec, sl_api_err_t *e)
{
    const char *id = str(rec, "id");
    json_t *full = full_spec(ctl, rec, e);
    if (!full)
        return -1;
    char **secrets = NULL;
    sl_spec_t *spec = NULL;
    json_t *resolved = resolve(ctl, full, &secrets, &spec, e);
    json_decref(full);
    if (!resolved)
        return -1;
    struct rt *r = rt_get(ctl, id, str(rec, "name"));
    r->load = spec->mode == SL_MODE_LOAD;
    sl_spec_free(spec);
    if (set_state(ctl, id, "starting", NULL)) {
        json_decref(resolved);
        free_list(secrets);
        return sl_api_err_set(e, 500, "internal", "could not store the state of stream \"%s\"", r->name);
    }
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/streams/%s", ctl->data_dir, id);
    const char *args[] = {"run", "-", "--nats", ctl->nats_url, "--data-dir", dir, "--no-progress", NULL};
    char *text = json_dumps(resolved, JSON_COMPACT);
    r->child = true;
    r->intent = INTENT_NONE;
    sl_runner_spawn(ctl->runner, id, r->name, args, text, (const char *const *)secrets);
    sodium_memzero(text, strlen(text));
    free(text);
    json_decref(resolved);
    free_list(secrets);
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
    if (r && r->child && r->intent == INTENT_NONE &&
        sl_store_get(ctl->store, SL_BUCKET_STREAMS, id, &rec, NULL, &err) == 0) {
        if (!strcmp(str(rec, "state"), "starting"))
            set_state(ctl, id, "running", NULL);
        json_decref(rec);
    }
    pthread_mutex_unlock(&ctl->mu);
}

void sl_ctl_on_exit(void *ctx, const char *id, int code, const json_t *last_error)
{
    sl_ctl_t *ctl = ctx;
    pthread_mutex_lock(&ctl->mu);
    struct rt *r = rt_find(ctl, id);
    int intent = r ? r->intent : INTENT_NONE;
    bool load = r && r->load;
    if (r) {
        r->child = false;
        r->intent = INTENT_NONE;
    }
    sl_info("stream %s: child exited with status %d", r ? r->name : id, code);
    if (ctl->stopping && intent == INTENT_NONE) {
        /* The server stops: the stored state stays, the stream starts with it again. */
    } else if ((code == 0 || code == 130) && intent == INTENT_PAUSE) {
        set_state(ctl, id, "paused", NULL);
    } else if ((code == 0 || code == 130) && intent == INTENT_STOP) {
        set_state(ctl, id, "stopped", NULL);
    } else if (code == 0) {
        set_state(ctl, id, load ? "completed" : "stopped", NULL);
    } else {
        json_t *error = last_error ? json_deep_copy(last_error) : json_object();
        if (!json_object_get(error, "message")) {
            char m[128];
            snprintf(m, sizeof m, code < 0 ? "could not start `sluice run`" : "`sluice run` exited with status %d", code);
            json_object_set_new(error, "message", json_string(m));
        }
        json_object_set_new(error, "code", json_string(code == 130 ? "interrupted" : "stream_failed"));
        set_state(ctl, id, "failed", error);
        json_decref(error);
    }
    pthread_cond_broadcast(&ctl->cv);
    pthread_mutex_unlock(&ctl->mu);
}

/* Waits (ctl->mu held, released while waiting) until stream id has no child. */
static void wait_exit(sl_ctl_t *ctl, const char *id)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += WAIT_EXIT_MS / 1000;
    for (;;) {
        struct rt *r = rt_find(ctl, id);
        if (!r || !r->child)
            return;
        if (pthread_cond_timedwait(&ctl->cv, &ctl->mu, &deadline) != 0)
            return;
    }
}

/* ---- routes -------------------------------------------------------------------- */

int sl_ctl_stream_list(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    (void)req;
    json_t *all, *out = json_array();
    sl_err_t err = {0};
    if (sl_store_list(ctl->store, SL_BUCKET_STREAMS, &all, &err)) {
        json_decref(out);
        return sl_ctl_err(e, 500, "internal", &err);
    }
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r) json_array_append_new(out, stream_public(ctl, r));
    json_decref(all);
    resp->body = json_pack("{s:o}", "streams", out);
    return 0;
}

/* Validates body as the new spec of a stream (old: the record it replaces, or NULL) and
 * returns the record to store (new reference). */
static json_t *stream_record(sl_ctl_t *ctl, const json_t *body, const char *id, const json_t *old,
                             sl_api_err_t *e)
{
    if (!body) {
        sl_api_err_set(e, 400, "bad_json", "a stream needs its spec as a JSON body");
        return NULL;
    }
    if (sl_req_stream(body, e) ||
        sl_ctl_name_free(ctl, SL_BUCKET_STREAMS, str(body, "name"), old ? id : NULL, e))
        return NULL;
    json_t *full = json_deep_copy(body);
    if (old) {
        json_t *oldfull = full_spec(ctl, old, e);
        if (!oldfull) {
            json_decref(full);
            return NULL;
        }
        unmask_spec(full, oldfull);
        json_decref(oldfull);
    }
    char **secrets = NULL;
    json_t *resolved = resolve(ctl, full, &secrets, NULL, e);
    if (!resolved) {
        json_decref(full);
        return NULL;
    }
    json_decref(resolved);
    free_list(secrets);
    char *text = json_dumps(full, JSON_COMPACT);
    char *sealed = sl_secret_seal(&ctl->o.key, text, strlen(text));
    sodium_memzero(text, strlen(text));
    free(text);
    mask_spec(full);
    char now[32];
    sl_ctl_now(now);
    json_t *rec = json_pack("{s:s, s:s, s:o, s:s, s:s, s:n, s:s, s:s}", "id", id, "name",
                            str(body, "name"), "spec", full, "sealed_spec", sealed, "state",
                            old ? str(old, "state") : "created", "error", "created_at",
                            old ? str(old, "created_at") : now, "updated_at", now);
    free(sealed);
    return rec;
}

static int respond_stream(sl_ctl_t *ctl, const char *id, sl_resp_t *resp, sl_api_err_t *e)
{
    json_t *rec;
    if (sl_ctl_stream_find(ctl, id, &rec, NULL, e))
        return -1;
    resp->body = stream_public(ctl, rec);
    json_decref(rec);
    return 0;
}

static const char *const startable[] = {"created", "stopped", "completed", "failed", NULL};

/* start/resume: ctl->mu held. */
static int do_start(sl_ctl_t *ctl, const char *id_or_name, const char *action,
                    const char *const *allowed, char *id_out, sl_api_err_t *e)
{
    json_t *rec;
    if (sl_ctl_stream_find(ctl, id_or_name, &rec, NULL, e))
        return -1;
    snprintf(id_out, 24, "%s", str(rec, "id"));
    struct rt *r = rt_find(ctl, id_out);
    int rc;
    if (!state_in(str(rec, "state"), allowed))
        rc = bad_state(e, str(rec, "name"), str(rec, "state"), action, allowed);
    else if ((r && r->child) || sl_runner_active(ctl->runner, id_out))
        rc = sl_api_err_set(e, 409, "invalid_state", "stream \"%s\" still has a process running",
                            str(rec, "name"));
    else
        rc = spawn(ctl, rec, e);
    json_decref(rec);
    return rc;
}

int sl_ctl_stream_create(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    bool start;
    if (sl_req_bool(req->query(req->qctx, "start"), false, &start, "start", e))
        return -1;
    char id[24];
    sl_ctl_new_id('s', id);
    pthread_mutex_lock(&ctl->mu);
    json_t *rec = stream_record(ctl, req->body, id, NULL, e);
    sl_err_t err = {0};
    int rc = rec ? 0 : -1;
    if (rec && sl_store_create(ctl->store, SL_BUCKET_STREAMS, id, rec, &err))
        rc = sl_ctl_err(e, 500, "internal", &err);
    if (rc == 0)
        sl_monitor_state(ctl->o.mon, str(rec, "name"), "created", NULL);
    if (rc == 0 && start)
        rc = do_start(ctl, id, "start", startable, id, e);
    pthread_mutex_unlock(&ctl->mu);
    json_decref(rec);
    if (rc == 0 && respond_stream(ctl, id, resp, e) == 0)
        resp->status = 201;
    return resp->body ? 0 : -1;
}

int sl_ctl_stream_get(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    return respond_stream(ctl, req->m->id, resp, e);
}

int sl_ctl_stream_put(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    /* no process runs in these states; start or resume runs the new spec (docs/api.md) */
    static const char *const editable[] = {"created", "paused", "stopped", "completed", "failed", NULL};
    json_t *old, *rec = NULL;
    uint64_t rev;
    char id[24] = "";
    pthread_mutex_lock(&ctl->mu);
    int rc = sl_ctl_stream_find(ctl, req->m->id, &old, &rev, e);
    if (rc == 0) {
        snprintf(id, sizeof id, "%s", str(old, "id"));
        if (!state_in(str(old, "state"), editable))
            rc = bad_state(e, str(old, "name"), str(old, "state"), "changing its spec", editable);
        else if (!(rec = stream_record(ctl, req->body, id, old, e)))
            rc = -1;
        json_decref(old);
    }
    sl_err_t err = {0};
    if (rc == 0 && sl_store_update(ctl->store, SL_BUCKET_STREAMS, id, rec, &rev, &err))
        rc = sl_ctl_err(e, err.code == SL_E_CONFLICT ? 409 : 500,
                        err.code == SL_E_CONFLICT ? "invalid_state" : "internal", &err);
    pthread_mutex_unlock(&ctl->mu);
    json_decref(rec);
    return rc ? rc : respond_stream(ctl, id, resp, e);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int sl_ctl_stream_delete(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    static const char *const deletable[] = {"created", "paused", "stopped", "completed", "failed", NULL};
    bool drop_slot;
    if (sl_req_bool(req->query(req->qctx, "drop_slot"), false, &drop_slot, "drop_slot", e))
        return -1;
    json_t *rec;
    pthread_mutex_lock(&ctl->mu);
    if (sl_ctl_stream_find(ctl, req->m->id, &rec, NULL, e)) {
        pthread_mutex_unlock(&ctl->mu);
        return -1;
    }
    const char *id = str(rec, "id"), *name = str(rec, "name");
    struct rt *r = rt_find(ctl, id);
    int rc = 0;
    sl_err_t err = {0};
    if (!state_in(str(rec, "state"), deletable))
        rc = bad_state(e, name, str(rec, "state"), "delete", deletable);
    else if ((r && r->child) || sl_runner_active(ctl->runner, id))
        rc = sl_api_err_set(e, 409, "invalid_state", "stream \"%s\" still has a process running", name);
    if (rc == 0 && drop_slot) {
        json_t *full = full_spec(ctl, rec, e);
        char **secrets = NULL;
        sl_spec_t *spec = NULL;
        json_t *resolved = full ? resolve(ctl, full, &secrets, &spec, e) : NULL;
        if (!resolved) {
            rc = -1;
        } else if (spec->mode == SL_MODE_CDC && sl_cdc_cleanup(spec, &err)) {
            char *m = sl_secret_scrub(err.message, (const char *const *)secrets);
            snprintf(err.message, sizeof err.message, "%s", m);
            free(m);
            sl_err_prefix(&err, "could not drop the replication slot: ");
            rc = sl_ctl_err(e, 500, "internal", &err);
        }
        sl_spec_free(spec);
        json_decref(resolved);
        json_decref(full);
        free_list(secrets);
    }
    if (rc == 0 && sl_bus_stream_delete(ctl->bus, name, &err))
        sl_warn("stream %s: could not delete its broker stream: %s", name, err.message);
    if (rc == 0) {
        char dir[1200];
        snprintf(dir, sizeof dir, "%s/streams/%s", ctl->data_dir, id);
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        if (sl_store_delete(ctl->store, SL_BUCKET_STREAMS, id, &err))
            rc = sl_ctl_err(e, 500, "internal", &err);
    }
    if (rc == 0) {
        sl_info("stream %s: deleted%s", name, drop_slot ? " (slot and publication dropped)" : "");
        sl_monitor_forget(ctl->o.mon, name);
        rt_drop(ctl, id);
        resp->status = 204;
    }
    pthread_mutex_unlock(&ctl->mu);
    json_decref(rec);
    return rc;
}

int sl_ctl_stream_start(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    char id[24] = "";
    pthread_mutex_lock(&ctl->mu);
    int rc = do_start(ctl, req->m->id, "start", startable, id, e);
    pthread_mutex_unlock(&ctl->mu);
    return rc ? rc : respond_stream(ctl, id, resp, e);
}

int sl_ctl_stream_resume(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    static const char *const paused[] = {"paused", NULL};
    char id[24] = "";
    pthread_mutex_lock(&ctl->mu);
    int rc = do_start(ctl, req->m->id, "resume", paused, id, e);
    pthread_mutex_unlock(&ctl->mu);
    return rc ? rc : respond_stream(ctl, id, resp, e);
}

/* pause and stop: SIGTERM the child (it drains, commits, confirms and exits) and wait. */
static int halt(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e, int intent)
{
    static const char *const pausable[] = {"running", NULL};
    static const char *const stoppable[] = {"starting", "running", "paused", NULL};
    const char *const *allowed = intent == INTENT_PAUSE ? pausable : stoppable;
    json_t *rec;
    char id[24] = "";
    pthread_mutex_lock(&ctl->mu);
    int rc = sl_ctl_stream_find(ctl, req->m->id, &rec, NULL, e);
    if (rc == 0) {
        snprintf(id, sizeof id, "%s", str(rec, "id"));
        struct rt *r = rt_find(ctl, id);
        if (!state_in(str(rec, "state"), allowed)) {
            rc = bad_state(e, str(rec, "name"), str(rec, "state"),
                           intent == INTENT_PAUSE ? "pause" : "stop", allowed);
        } else if (r && r->child) {
            r->intent = intent;
            set_state(ctl, id, "stopping", NULL);
            sl_runner_signal(ctl->runner, id, SIGTERM);
            wait_exit(ctl, id);
        } else if (strcmp(str(rec, "state"), "paused") && str(rec, "node") &&
                   strcmp(str(rec, "node"), ctl->node)) {
            rc = sl_api_err_set(e, 409, "invalid_state", "stream \"%s\" runs on another server (%s)",
                                str(rec, "name"), str(rec, "node"));
            snprintf(e->hint, sizeof e->hint, "%s it through the server that started it",
                     intent == INTENT_PAUSE ? "pause" : "stop");
        } else {
            /* No child here (paused, or its server died): only the state changes. */
            set_state(ctl, id, intent == INTENT_PAUSE ? "paused" : "stopped", NULL);
        }
        json_decref(rec);
    }
    pthread_mutex_unlock(&ctl->mu);
    return rc ? rc : respond_stream(ctl, id, resp, e);
}

int sl_ctl_stream_pause(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    return halt(ctl, req, resp, e, INTENT_PAUSE);
}

int sl_ctl_stream_stop(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    return halt(ctl, req, resp, e, INTENT_STOP);
}

int sl_ctl_stream_stats(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    json_t *rec;
    if (sl_ctl_stream_find(ctl, req->m->id, &rec, NULL, e))
        return -1;
    resp->body = sl_monitor_stats(ctl->o.mon, str(rec, "name"));
    if (json_is_object(resp->body))
        json_object_set(resp->body, "state", json_object_get(rec, "state"));
    json_decref(rec);
    return 0;
}

int sl_ctl_stream_logs(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    int limit;
    json_t *rec;
    if (sl_req_int(req->query(req->qctx, "limit"), 200, 1, 1000, &limit, "limit", e) ||
        sl_ctl_stream_find(ctl, req->m->id, &rec, NULL, e))
        return -1;
    resp->body = sl_monitor_logs(ctl->o.mon, str(rec, "name"), limit);
    json_decref(rec);
    return 0;
}

void sl_ctl_streams_recover(sl_ctl_t *ctl)
{
    static const char *const live[] = {"starting", "running", NULL};
    json_t *all;
    sl_err_t err = {0};
    if (sl_store_list(ctl->store, SL_BUCKET_STREAMS, &all, &err)) {
        sl_warn("could not list the streams to resume: %s", err.message);
        return;
    }
    pthread_mutex_lock(&ctl->mu);
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r)
    {
        const char *state = str(r, "state"), *id = str(r, "id");
        sl_monitor_state(ctl->o.mon, str(r, "name"), state, json_object_get(r, "error"));
        if (!strcmp(state, "stopping")) {
            set_state(ctl, id, "stopped", NULL);
        } else if (state_in(state, live) && str(r, "node") && strcmp(str(r, "node"), ctl->node)) {
            sl_info("stream %s is %s on another server (%s): left to it", str(r, "name"), state,
                    str(r, "node"));
        } else if (state_in(state, live)) {
            sl_api_err_t e = {0};
            char sid[24];
            sl_info("stream %s was %s: starting it again", str(r, "name"), state);
            if (do_start(ctl, id, "start", live, sid, &e)) {
                json_t *error = json_pack("{s:s, s:s}", "code", e.code, "message", e.message);
                set_state(ctl, id, "failed", error);
                json_decref(error);
            }
        }
    }
    pthread_mutex_unlock(&ctl->mu);
    json_decref(all);
}

void sl_ctl_streams_forget(sl_ctl_t *ctl)
{
    while (ctl->rts) {
        struct rt *r = ctl->rts;
        ctl->rts = r->next;
        free(r);
    }
}
