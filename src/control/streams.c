/*
 * streams.c: the /api/v1/streams routes (docs/api.md "Streams"): the records and the
 * requests; the processes and their states are stream_run.c's, the secrets inside specs
 * stream_spec.c's.
 *
 * A stream record in KV: {"id", "name", "spec" (secrets masked), "sealed_spec" (secret
 * box of the spec as given, with its inline secrets), "state", "error", "node"?,
 * "created_at", "updated_at"}.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "control/ctl.h"
#include "control/own.h"
#include "control/state.h"
#include "core/log.h"
#include "engine/cdc.h"
#include "engine/spec.h"
#include "model/schema.h"

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* ---- records ------------------------------------------------------------------- */

json_t *sl_ctl_stream_public(sl_ctl_t *ctl, const json_t *rec)
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

/* ---- routes -------------------------------------------------------------------- */

int sl_ctl_stream_list(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    (void)req;
    json_t *all, *out = json_array();
    sl_err_t err = {0};
    if (sl_kv_list(ctl->store, SL_BUCKET_STREAMS, &all, &err)) {
        json_decref(out);
        return sl_ctl_err(e, 500, "internal", &err);
    }
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r) json_array_append_new(out, sl_ctl_stream_public(ctl, r));
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
    if (sl_req_stream(body, e))
        return NULL;
    json_t *full = json_deep_copy(body);
    if (old) {
        json_t *oldfull = sl_ctl_spec_full(ctl, old, e);
        int rc = oldfull ? sl_ctl_spec_unmask(full, oldfull, "", e) : -1;
        json_decref(oldfull);
        if (rc) {
            json_decref(full);
            return NULL;
        }
    }
    char **secrets = NULL;
    json_t *resolved = sl_ctl_spec_resolve(ctl, full, &secrets, NULL, e);
    if (!resolved) {
        json_decref(full);
        return NULL;
    }
    json_decref(resolved);
    sl_secret_list_free(secrets);
    char now[32];
    sl_ctl_now(now);
    json_t *rec = json_pack("{s:s, s:s, s:s, s:n, s:s}", "id", id, "name", str(body, "name"), "state",
                            old ? str(old, "state") : sl_state_name(SL_ST_CREATED), "error", "created_at",
                            old ? str(old, "created_at") : now);
    sl_ctl_stream_respec(ctl, rec, full);
    json_decref(full);
    return rec;
}

void sl_ctl_stream_respec(sl_ctl_t *ctl, json_t *rec, const json_t *full)
{
    char *text = json_dumps(full, JSON_COMPACT);
    char *sealed = sl_secret_seal(&ctl->o.key, text, strlen(text));
    sl_secret_free(text);
    json_t *masked = json_deep_copy(full);
    sl_ctl_spec_mask(masked);
    char now[32];
    json_object_set_new(rec, "spec", masked);
    json_object_set_new(rec, "sealed_spec", json_string(sealed));
    json_object_set_new(rec, "updated_at", json_string(sl_ctl_now(now)));
    free(sealed);
}

static int respond_stream(sl_ctl_t *ctl, const char *id, sl_resp_t *resp, sl_api_err_t *e)
{
    json_t *rec;
    if (sl_ctl_stream_find(ctl, id, &rec, NULL, e))
        return -1;
    resp->body = sl_ctl_stream_public(ctl, rec);
    json_decref(rec);
    return 0;
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
    int rc = rec ? sl_ctl_name_claim(ctl, SL_BUCKET_STREAMS, str(rec, "name"), id, e) : -1;
    if (rc == 0 && sl_kv_create(ctl->store, SL_BUCKET_STREAMS, id, rec, &err)) {
        sl_ctl_name_release(ctl, SL_BUCKET_STREAMS, str(rec, "name"), id);
        rc = sl_ctl_err(e, 500, "internal", &err);
    }
    if (rc == 0)
        sl_monitor_state(ctl->o.mon, str(rec, "name"), sl_state_name(SL_ST_CREATED), NULL);
    if (rc == 0 && start)
        rc = sl_ctl_stream_start_locked(ctl, id, SL_ACT_START, id, e);
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
    json_t *old, *rec = NULL;
    uint64_t rev;
    char id[24] = "";
    pthread_mutex_lock(&ctl->mu);
    int rc = sl_ctl_stream_find(ctl, req->m->id, &old, &rev, e);
    if (rc == 0) {
        snprintf(id, sizeof id, "%s", str(old, "id"));
        if (sl_ctl_stream_check(old, SL_ACT_EDIT, e) || !(rec = stream_record(ctl, req->body, id, old, e)) ||
            sl_ctl_rename(ctl, SL_BUCKET_STREAMS, old, rec, &rev, e))
            rc = -1;
        json_decref(old);
    }
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

/* drop_slot: what `sluice cleanup` does, with the stream's resolved spec. */
static int drop_slot(sl_ctl_t *ctl, const json_t *rec, sl_api_err_t *e)
{
    json_t *full = sl_ctl_spec_full(ctl, rec, e);
    char **secrets = NULL;
    sl_spec_t *spec = NULL;
    sl_err_t err = {0};
    json_t *resolved = full ? sl_ctl_spec_resolve(ctl, full, &secrets, &spec, e) : NULL;
    int rc = 0;
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
    sl_secret_list_free(secrets);
    return rc;
}

int sl_ctl_stream_delete(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    bool drop;
    if (sl_req_bool(req->query(req->qctx, "drop_slot"), false, &drop, "drop_slot", e))
        return -1;
    json_t *rec;
    pthread_mutex_lock(&ctl->mu);
    if (sl_ctl_stream_find(ctl, req->m->id, &rec, NULL, e)) {
        pthread_mutex_unlock(&ctl->mu);
        return -1;
    }
    const char *id = str(rec, "id"), *name = str(rec, "name");
    int rc = 0;
    sl_err_t err = {0};
    if (sl_ctl_stream_check(rec, SL_ACT_DELETE, e))
        rc = -1;
    else if (sl_ctl_stream_busy(ctl, id))
        rc = sl_api_err_set(e, 409, "invalid_state", "stream \"%s\" still has a process running", name);
    if (rc == 0 && drop)
        rc = drop_slot(ctl, rec, e);
    if (rc == 0 && sl_bus_stream_delete(ctl->bus, name, &err))
        sl_warn("stream %s: could not delete its broker stream: %s", name, err.message);
    if (rc == 0) {
        char dir[1200];
        snprintf(dir, sizeof dir, "%s/streams/%s", ctl->data_dir, id);
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        if (sl_kv_delete(ctl->store, SL_BUCKET_STREAMS, id, &err))
            rc = sl_ctl_err(e, 500, "internal", &err);
    }
    if (rc == 0) {
        sl_ctl_name_release(ctl, SL_BUCKET_STREAMS, name, id);
        sl_info("stream %s: deleted%s", name, drop ? " (and cleaned up on its source and target)" : "");
        sl_monitor_forget(ctl->o.mon, name);
        sl_ctl_stream_forget_rt(ctl, id);
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
    int rc = sl_ctl_stream_start_locked(ctl, req->m->id, SL_ACT_START, id, e);
    pthread_mutex_unlock(&ctl->mu);
    return rc ? rc : respond_stream(ctl, id, resp, e);
}

int sl_ctl_stream_resume(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    char id[24] = "";
    pthread_mutex_lock(&ctl->mu);
    int rc = sl_ctl_stream_start_locked(ctl, req->m->id, SL_ACT_RESUME, id, e);
    pthread_mutex_unlock(&ctl->mu);
    return rc ? rc : respond_stream(ctl, id, resp, e);
}

/* pause and stop: SIGTERM the child (it drains, commits, confirms and exits) and wait. */
int sl_ctl_stream_pause(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    char id[24] = "";
    int rc = sl_ctl_stream_halt(ctl, req->m->id, SL_INTENT_PAUSE, id, e);
    return rc ? rc : respond_stream(ctl, id, resp, e);
}

int sl_ctl_stream_stop(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    char id[24] = "";
    int rc = sl_ctl_stream_halt(ctl, req->m->id, SL_INTENT_STOP, id, e);
    return rc ? rc : respond_stream(ctl, id, resp, e);
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
    /* the log lines are kept by the server that runs the stream (docs/cluster.md) */
    const char *node = str(rec, "node");
    char holder[40] = "";
    sl_err_t err = {0};
    sl_api_err_t fe = {0};
    if (node && strcmp(node, ctl->node) &&
        sl_own_holder(ctl->own, str(rec, "name"), holder, sizeof holder, &err) == 0 && !strcmp(holder, node) &&
        sl_ctl_forward(ctl, node, "logs", str(rec, "id"), req, &resp->body, &fe) == 0 && resp->body) {
        json_decref(rec);
        return 0;
    }
    resp->body = sl_monitor_logs(ctl->o.mon, str(rec, "name"), limit);
    json_decref(rec);
    return 0;
}

