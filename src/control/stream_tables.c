/*
 * stream_tables.c: the tables of a cdc stream (docs/api.md "Tables of a stream"):
 *
 *   POST   /api/v1/streams/{id}/tables                   add tables   {"tables": [...]}
 *   DELETE /api/v1/streams/{id}/tables/{table}?drop=true remove one (and drop its target table)
 *   POST   /api/v1/streams/{id}/tables/{table}/resync    copy one again
 *
 * The stream's spec (source.tables) is the truth for which tables it has: an add or a
 * remove stores the new spec first, so the stream's next start has it whatever happens.
 * A running stream is then asked to apply it at once (engine/cdc_ctl.h, on core NATS):
 * it answers when the change is recorded in its target, and the other tables stream on
 * meanwhile. A stream that refuses (a target table that holds rows, a table it cannot
 * replicate) gets its spec back as it was, and the request fails with its reason. One
 * that does not answer in time (paused, stopped, or starting) takes the change when it
 * next starts: the response says "applied": false.
 *
 * What the spec cannot say is written into the stream's target, where its next start
 * finds it: a resync ("cdc_resync": {table: request id}; the stream copies a table again
 * once per id) and a target table to drop with its removal ("cdc_drop": [table, …]).
 *
 * Threads: API handler threads; ctl->mu is held while the record and the target are
 * read and written, never while waiting for the stream's answer.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/ctl.h"
#include "core/log.h"
#include "engine/cdc_ctl.h"
#include "engine/spec.h"
#include "model/schema.h"
#include "source/source.h"
#include "target/target.h"

#define ASK_MS 30000 /* how long a running stream gets to record a change */

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* What a handler works on: the record, its full spec and the spec's table list. */
typedef struct job {
    char id[24], name[128];
    json_t *rec, *full, *tables; /* tables: borrowed from full */
    uint64_t rev;
    bool live;                   /* the stream runs (or is starting): ask it */
    bool all;                    /* it has every table of its source */
    char **secrets;
    sl_spec_t *spec;             /* the resolved spec */
} job_t;

static void job_free(job_t *j)
{
    json_decref(j->rec);
    json_decref(j->full);
    sl_secret_list_free(j->secrets);
    sl_spec_free(j->spec);
    memset(j, 0, sizeof *j);
}

/* Loads stream id_or_name (ctl->mu held): a cdc stream, with a list of tables when
 * listed (not every table of its source). */
static int job_load(sl_ctl_t *ctl, const char *id_or_name, bool listed, job_t *j, sl_api_err_t *e)
{
    if (sl_ctl_stream_find(ctl, id_or_name, &j->rec, &j->rev, e))
        return -1;
    snprintf(j->id, sizeof j->id, "%s", str(j->rec, "id"));
    snprintf(j->name, sizeof j->name, "%s", str(j->rec, "name"));
    const char *mode = json_string_value(json_object_get(json_object_get(j->rec, "spec"), "mode"));
    if (!mode || strcmp(mode, "cdc"))
        return sl_api_err_set(e, 409, "invalid_state", "stream \"%s\" is not a cdc stream: its tables are fixed",
                              j->name);
    const char *state = str(j->rec, "state");
    j->live = state && (!strcmp(state, "running") || !strcmp(state, "starting"));
    if (!(j->full = sl_ctl_spec_full(ctl, j->rec, e)))
        return -1;
    j->tables = json_object_get(json_object_get(j->full, "source"), "tables");
    size_t i;
    json_t *t;
    bool all = !json_is_array(j->tables) || json_array_size(j->tables) == 0;
    json_array_foreach(j->tables, i, t) all = all || (json_is_string(t) && !strcmp(json_string_value(t), "*"));
    j->all = all;
    if (all && listed) {
        sl_api_err_set(e, 409, "invalid_state", "stream \"%s\" copies every table of its source", j->name);
        snprintf(e->hint, sizeof e->hint, "give it a list of tables (PUT its spec with source.tables) to add, "
                                          "remove or resync tables one by one");
        return -1;
    }
    return 0;
}

/* The name an entry of source.tables gives its table (an object's "source" or "name"). */
static const char *entry_name(const json_t *e)
{
    if (json_is_string(e))
        return json_string_value(e);
    const char *s = str(e, "source");
    return s ? s : str(e, "name");
}

/* Whether entry e names table `table` ("name" or "schema.name", either way round). */
static bool entry_is(const json_t *e, const char *table)
{
    const char *n = entry_name(e);
    if (!n)
        return false;
    if (!strcmp(n, table))
        return true;
    const char *a = strchr(n, '.'), *b = strchr(table, '.');
    return (b && !a && !strcmp(b + 1, n)) || (a && !b && !strcmp(a + 1, table));
}

static int find_entry(const json_t *tables, const char *table)
{
    size_t i;
    json_t *t;
    json_array_foreach(tables, i, t) if (entry_is(t, table)) return (int)i;
    return -1;
}

/* Resolves j->full (connections to URLs) and parses it: a spec the engine takes. */
static int job_resolve(sl_ctl_t *ctl, job_t *j, sl_api_err_t *e)
{
    sl_secret_list_free(j->secrets);
    sl_spec_free(j->spec);
    j->secrets = NULL;
    j->spec = NULL;
    json_t *r = sl_ctl_spec_resolve(ctl, j->full, &j->secrets, &j->spec, e);
    json_decref(r);
    return r ? 0 : -1;
}

/* An engine error as an API error, its secrets scrubbed. */
static int engine_err(job_t *j, int status, const char *code, sl_err_t *err, sl_api_err_t *e)
{
    char *m = sl_secret_scrub(err->message, (const char *const *)j->secrets);
    snprintf(err->message, sizeof err->message, "%s", m);
    free(m);
    return sl_ctl_err(e, status, code, err);
}

/* Stores the record with j->full as its spec (compare-and-set on j->rev). */
static int job_store(sl_ctl_t *ctl, job_t *j, sl_api_err_t *e)
{
    sl_err_t err = {0};
    sl_ctl_stream_respec(ctl, j->rec, j->full);
    if (sl_kv_update(ctl->store, SL_BUCKET_STREAMS, j->id, j->rec, &j->rev, &err))
        return sl_ctl_err(e, err.code == SL_E_CONFLICT ? 409 : 500,
                          err.code == SL_E_CONFLICT ? "invalid_state" : "internal", &err);
    return 0;
}

/* Merges key -> value into the JSON checkpoint `key` of the stream on its target (an
 * object; or, value NULL, appends name to an array). */
static int target_note(job_t *j, const char *key, const char *name, const char *value, sl_api_err_t *e)
{
    sl_target_t *tgt = NULL;
    sl_err_t err = {0};
    sl_ckpt_t ck = {0};
    bool found = false;
    json_t *o = NULL;
    int rc = -1;
    if (sl_target_open(j->spec->target_url, &tgt, &err) || tgt->ops->ckpt_setup(tgt, &err) ||
        tgt->ops->begin(tgt, &err))
        goto out;
    if (tgt->ops->ckpt_get(tgt, j->spec->name, key, &ck, &found, &err)) {
        tgt->ops->rollback(tgt);
        goto out;
    }
    tgt->ops->rollback(tgt);
    o = found && ck.position ? json_loads(ck.position, 0, NULL) : NULL;
    if (value && !json_is_object(o)) {
        json_decref(o);
        o = json_object();
    } else if (!value && !json_is_array(o)) {
        json_decref(o);
        o = json_array();
    }
    if (value)
        json_object_set_new(o, name, json_string(value));
    else
        json_array_append_new(o, json_string(name));
    char *text = json_dumps(o, JSON_COMPACT);
    sl_ckpt_t put = {.position = text, .done = true};
    rc = tgt->ops->ckpt_put(tgt, j->spec->name, key, &put, &err);
    free(text);
out:
    sl_ckpt_clear(&ck);
    json_decref(o);
    sl_target_close(tgt);
    if (rc) {
        sl_err_prefix(&err, "target: ");
        return engine_err(j, 502, "target_failed", &err, e);
    }
    return 0;
}

/* Asks the running stream (no lock held): 1 it applied req, 0 it did not answer, -1 it
 * refused (e set from its answer). */
static int ask(sl_ctl_t *ctl, const char *stream, json_t *req, sl_api_err_t *e)
{
    json_t *answer = NULL;
    sl_err_t err = {0};
    int rc = sl_cdc_ctl_request(sl_bus_nats(ctl->bus), stream, req, ASK_MS, &answer, &err);
    if (rc < 0) {
        sl_warn("stream %s: could not ask it to change its tables: %s", stream, err.message);
        return 0;
    }
    if (rc == 1)
        return 0;
    const json_t *error = json_object_get(answer, "error");
    if (!error) {
        json_decref(answer);
        return 1;
    }
    const char *code = str(error, "code");
    sl_api_err_set(e, code && !strcmp(code, "not_found") ? 404 : 409, code && !strcmp(code, "not_found") ? "not_found"
                                                                                                       : "refused",
                   "stream \"%s\": %s", stream, str(error, "message") ? str(error, "message") : "refused");
    snprintf(e->detail, sizeof e->detail, "%s", str(error, "detail") ? str(error, "detail") : "");
    snprintf(e->hint, sizeof e->hint, "%s", str(error, "hint") ? str(error, "hint") : "");
    json_decref(answer);
    return -1;
}

/* The spec's table list goes back to `old` after the stream refused a change (unless
 * the record changed meanwhile). */
static void put_back(sl_ctl_t *ctl, const char *id, const json_t *want_now, const json_t *old)
{
    job_t j = {0};
    sl_api_err_t e = {0};
    pthread_mutex_lock(&ctl->mu);
    if (job_load(ctl, id, true, &j, &e) == 0 && json_equal(j.tables, want_now)) {
        json_object_set(json_object_get(j.full, "source"), "tables", (json_t *)old);
        if (job_store(ctl, &j, &e))
            sl_warn("stream %s: could not restore its tables: %s", id, e.message);
    }
    pthread_mutex_unlock(&ctl->mu);
    job_free(&j);
}

static int respond(sl_ctl_t *ctl, const char *id, sl_resp_t *resp, json_t *extra, sl_api_err_t *e)
{
    json_t *rec;
    if (sl_ctl_stream_find(ctl, id, &rec, NULL, e)) {
        json_decref(extra);
        return -1;
    }
    resp->body = json_pack("{s:o}", "stream", sl_ctl_stream_public(ctl, rec));
    json_object_update(resp->body, extra);
    json_decref(extra);
    json_decref(rec);
    return 0;
}

/* ---- routes ---------------------------------------------------------------------------- */

int sl_ctl_stream_tables_add(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    if (!req->body)
        return sl_api_err_set(e, 400, "bad_json", "adding tables needs {\"tables\": [...]} as the body");
    if (sl_req_tables(req->body, e))
        return -1;
    job_t j = {0};
    json_t *added = json_array(), *old = NULL;
    sl_source_t *src = NULL;
    int rc = -1;
    pthread_mutex_lock(&ctl->mu);
    if (job_load(ctl, req->m->id, true, &j, e))
        goto out;
    old = json_deep_copy(j.tables);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(req->body, "tables"), i, t)
    {
        const char *n = entry_name(t);
        if (!n || find_entry(j.tables, n) >= 0)
            continue; /* in the stream already */
        json_array_append(j.tables, t);
        json_array_append_new(added, json_string(n));
    }
    if (json_array_size(added) == 0) {
        rc = 0;
        goto out;
    }
    if (job_resolve(ctl, &j, e))
        goto out;
    /* each new table must be there to copy */
    sl_err_t err = {0};
    if (sl_source_open(j.spec->source_url, &src, &err)) {
        sl_err_prefix(&err, "source: ");
        engine_err(&j, 502, "source_failed", &err, e);
        goto out;
    }
    json_array_foreach(added, i, t)
    {
        sl_table_t *desc = NULL;
        if (src->ops->describe(src, json_string_value(t), &desc, &err)) {
            sl_err_prefix(&err, "source: ");
            engine_err(&j, err.code == SL_E_NOT_FOUND ? 404 : 502, err.code == SL_E_NOT_FOUND ? "not_found" : "source_failed",
                       &err, e);
            goto out;
        }
        sl_table_free(desc);
    }
    rc = job_store(ctl, &j, e);
out:
    pthread_mutex_unlock(&ctl->mu);
    sl_source_close(src);
    json_t *want = rc == 0 ? json_deep_copy(j.tables) : NULL;
    bool live = j.live && json_array_size(added) > 0;
    char id[24];
    snprintf(id, sizeof id, "%s", j.id);
    char name[128];
    snprintf(name, sizeof name, "%s", j.name);
    job_free(&j);
    int applied = json_array_size(added) == 0;
    if (rc == 0 && live) {
        json_t *ask_req = json_pack("{s:s, s:O}", "op", "tables", "tables", want);
        applied = ask(ctl, name, ask_req, e);
        json_decref(ask_req);
        if (applied < 0) {
            put_back(ctl, id, want, old);
            rc = -1;
        }
    }
    json_decref(want);
    json_decref(old);
    if (rc == 0)
        rc = respond(ctl, id, resp, json_pack("{s:O, s:b}", "added", added, "applied", applied > 0), e);
    json_decref(added);
    return rc;
}

int sl_ctl_stream_table_delete(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    bool drop;
    if (sl_req_bool(req->query(req->qctx, "drop"), false, &drop, "drop", e))
        return -1;
    job_t j = {0};
    json_t *old = NULL, *want = NULL;
    int rc = -1;
    pthread_mutex_lock(&ctl->mu);
    if (job_load(ctl, req->m->id, true, &j, e))
        goto out;
    int at = find_entry(j.tables, req->m->table);
    if (at < 0) {
        sl_api_err_set(e, 404, "not_found", "stream \"%s\" has no table \"%s\"", j.name, req->m->table);
        goto out;
    }
    if (json_array_size(j.tables) == 1) {
        sl_api_err_set(e, 409, "invalid_state", "\"%s\" is the last table of stream \"%s\"", req->m->table, j.name);
        snprintf(e->hint, sizeof e->hint, "delete the stream instead (DELETE /api/v1/streams/%s)", j.name);
        goto out;
    }
    old = json_deep_copy(j.tables);
    json_array_remove(j.tables, (size_t)at);
    want = json_deep_copy(j.tables);
    if (job_resolve(ctl, &j, e))
        goto out;
    /* a stream that is not running drops the target table when it next starts */
    if (drop && !j.live && target_note(&j, "cdc_drop", req->m->table, NULL, e))
        goto out;
    rc = job_store(ctl, &j, e);
out:
    pthread_mutex_unlock(&ctl->mu);
    int applied = 0;
    char id[24], name[128];
    snprintf(id, sizeof id, "%s", j.id);
    snprintf(name, sizeof name, "%s", j.name);
    bool live = j.live;
    job_free(&j);
    if (rc == 0 && live) {
        json_t *ask_req = json_pack("{s:s, s:O, s:[]}", "op", "tables", "tables", want, "drop");
        if (drop)
            json_array_append_new(json_object_get(ask_req, "drop"), json_string(req->m->table));
        applied = ask(ctl, name, ask_req, e);
        json_decref(ask_req);
        if (applied < 0) {
            put_back(ctl, id, want, old);
            rc = -1;
        }
    }
    json_decref(old);
    json_decref(want);
    if (rc == 0)
        rc = respond(ctl, id, resp,
                     json_pack("{s:s, s:b, s:b}", "removed", req->m->table, "dropped", drop, "applied", applied > 0), e);
    return rc;
}

int sl_ctl_stream_table_resync(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    job_t j = {0};
    int rc = -1;
    char rid[40];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(rid, sizeof rid, "r%" PRId64 "-%ld", (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, ts.tv_nsec % 1000);
    pthread_mutex_lock(&ctl->mu);
    if (job_load(ctl, req->m->id, false, &j, e))
        goto out;
    if (!j.all && find_entry(j.tables, req->m->table) < 0) {
        sl_api_err_set(e, 404, "not_found", "stream \"%s\" has no table \"%s\"", j.name, req->m->table);
        goto out;
    }
    /* recorded in the target first: the stream's next start resyncs it in any case */
    if (job_resolve(ctl, &j, e) || target_note(&j, "cdc_resync", req->m->table, rid, e))
        goto out;
    rc = 0;
out:
    pthread_mutex_unlock(&ctl->mu);
    char id[24], name[128];
    snprintf(id, sizeof id, "%s", j.id);
    snprintf(name, sizeof name, "%s", j.name);
    bool live = j.live;
    job_free(&j);
    int applied = 0;
    if (rc == 0 && live) {
        json_t *ask_req = json_pack("{s:s, s:[s], s:s}", "op", "resync", "tables", req->m->table, "id", rid);
        applied = ask(ctl, name, ask_req, e);
        json_decref(ask_req);
        rc = applied < 0 ? -1 : 0;
    }
    if (rc == 0)
        rc = respond(ctl, id, resp, json_pack("{s:s, s:s, s:b}", "resync", req->m->table, "request", rid, "applied",
                                              applied > 0), e);
    return rc;
}
