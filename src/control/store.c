/*
 * store.c: the KV buckets of the control plane (see store.h).
 */
#include "control/store.h"

#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "broker/bus.h"
#include "core/mem.h"

struct sl_kv {
    natsConnection *nc;
    jsCtx *js;
    jsCtx *js_lease; /* the leases' calls: a short wait (store.h) */
    kvStore *kv[SL_BUCKET_COUNT];
};

static const char *const bucket_names[SL_BUCKET_COUNT] = {"SLUICE_CONNECTIONS", "SLUICE_STREAMS",
                                                          "SLUICE_NAMES", "SLUICE_LEASES", "SLUICE_KEYS"};

#define LEASE_WAIT_MS 2000

static int fail(sl_err_t *err, natsStatus s, const char *what, const char *key)
{
    sl_err_set(err, SL_E_BROKER, "%s %s: %s", what, key ? key : "", natsStatus_GetText(s));
    const char *last = nats_GetLastError(NULL);
    if (last && *last)
        sl_err_detail(err, "%s", last);
    sl_err_retriable(err);
    return -1;
}

/* Makes a replicated bucket's reads go to its stream leader. nats.c creates KV buckets
 * with AllowDirect, which lets any replica answer a get, and a replica may not have seen
 * a record just written: a server read back the stream it had just created as missing
 * (404 on POST ?start=true) and took its own fresh lease for another's. A bucket bound
 * with AllowDirect off reads through the leader, which has every acknowledged write. */
static natsStatus leader_reads(jsCtx *js, const char *bucket, kvStore **kv)
{
    char name[64];
    snprintf(name, sizeof name, "KV_%s", bucket);
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, js, name, NULL, &jerr);
    if (s != NATS_OK)
        return s;
    if (si->Config->AllowDirect && si->Config->Replicas > 1) {
        jsStreamInfo *up = NULL;
        si->Config->AllowDirect = false;
        s = js_UpdateStream(&up, js, si->Config, NULL, &jerr);
        jsStreamInfo_Destroy(up);
    }
    bool rebind = si->Config->Replicas > 1;
    jsStreamInfo_Destroy(si);
    if (s != NATS_OK || !rebind)
        return s;
    kvStore_Destroy(*kv); /* bound again: a store decides direct gets when it binds */
    *kv = NULL;
    return js_KeyValue(kv, js, bucket);
}

int sl_kv_open(const char *nats_url, sl_kv_t **out, sl_err_t *err)
{
    sl_kv_t *st = calloc(1, sizeof *st);
    if (!st)
        sl_oom();
    natsOptions *opts = NULL;
    if (sl_bus_options(nats_url, &opts, err)) {
        free(st);
        return -1;
    }
    natsStatus s = natsOptions_SetMaxReconnect(opts, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(opts, 200);
    if (s == NATS_OK)
        s = natsConnection_Connect(&st->nc, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) {
        char *shown = sl_bus_url_public(nats_url);
        fail(err, s, "could not connect to the broker", shown);
        free(shown);
        sl_kv_close(st);
        return -1;
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = LEASE_WAIT_MS;
    if ((s = natsConnection_JetStream(&st->js, st->nc, NULL)) != NATS_OK ||
        (s = natsConnection_JetStream(&st->js_lease, st->nc, &jo)) != NATS_OK) {
        fail(err, s, "could not open JetStream", NULL);
        sl_kv_close(st);
        return -1;
    }
    bool exact;
    int replicas = sl_bus_replicas(nats_url, &exact);
    for (int i = 0; i < SL_BUCKET_COUNT; i++) {
        jsCtx *js = i == SL_BUCKET_LEASES ? st->js_lease : st->js;
        s = js_KeyValue(&st->kv[i], js, bucket_names[i]);
        for (int attempt = 0;
             attempt < 2 && (s == NATS_NOT_FOUND || (s != NATS_OK && replicas > 1 && !exact && sl_bus_unclustered(s, 0)));
             attempt++) {
            if (s != NATS_NOT_FOUND)
                replicas = 1; /* the broker has no cluster */
            kvConfig cfg;
            kvConfig_Init(&cfg);
            cfg.Bucket = bucket_names[i];
            cfg.History = 1;
            cfg.StorageType = js_FileStorage;
            cfg.MaxValueSize = 4 * 1024 * 1024;
            cfg.Replicas = replicas;
            s = js_CreateKeyValue(&st->kv[i], js, &cfg);
        }
        if (s == NATS_OK && replicas > 1)
            s = leader_reads(js, bucket_names[i], &st->kv[i]);
        if (s != NATS_OK) {
            fail(err, s, "could not open KV bucket", bucket_names[i]);
            sl_kv_close(st);
            return -1;
        }
    }
    *out = st;
    return 0;
}

void sl_kv_close(sl_kv_t *st)
{
    if (!st)
        return;
    for (int i = 0; i < SL_BUCKET_COUNT; i++)
        kvStore_Destroy(st->kv[i]);
    jsCtx_Destroy(st->js);
    jsCtx_Destroy(st->js_lease);
    natsConnection_Destroy(st->nc);
    free(st);
}

int sl_kv_get(sl_kv_t *st, sl_bucket_t b, const char *key, json_t **out, uint64_t *rev,
                 sl_err_t *err)
{
    kvEntry *e = NULL;
    natsStatus s = kvStore_Get(&e, st->kv[b], key);
    if (s == NATS_NOT_FOUND)
        return sl_err_set(err, SL_E_NOT_FOUND, "no record %s", key);
    if (s != NATS_OK)
        return fail(err, s, "could not read", key);
    json_error_t je;
    json_t *j = json_loadb(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), 0, &je);
    if (rev)
        *rev = kvEntry_Revision(e);
    kvEntry_Destroy(e);
    if (!j)
        return sl_err_set(err, SL_E_PROTOCOL, "record %s in the broker is not JSON: %s", key, je.text);
    *out = j;
    return 0;
}

int sl_kv_create(sl_kv_t *st, sl_bucket_t b, const char *key, const json_t *rec, sl_err_t *err)
{
    uint64_t rev;
    return sl_kv_create_rev(st, b, key, rec, &rev, err);
}

int sl_kv_create_rev(sl_kv_t *st, sl_bucket_t b, const char *key, const json_t *rec, uint64_t *rev,
                        sl_err_t *err)
{
    char *text = json_dumps(rec, JSON_COMPACT);
    *rev = 0;
    natsStatus s = kvStore_Create(rev, st->kv[b], key, text, (int)strlen(text));
    free(text);
    if (s == NATS_OK)
        return 0;
    if (nats_GetLastError(NULL) && strstr(nats_GetLastError(NULL), "wrong last sequence"))
        return sl_err_set(err, SL_E_CONFLICT, "record %s exists", key);
    return fail(err, s, "could not create", key);
}

int sl_kv_update(sl_kv_t *st, sl_bucket_t b, const char *key, const json_t *rec,
                    uint64_t *rev, sl_err_t *err)
{
    char *text = json_dumps(rec, JSON_COMPACT);
    /* A failed kvStore_Update zeroes the revision passed in: work on a copy. */
    uint64_t last = *rev, next = 0;
    natsStatus s = kvStore_Update(&next, st->kv[b], key, text, (int)strlen(text), last);
    free(text);
    if (s == NATS_OK) {
        *rev = next;
        return 0;
    }
    if (nats_GetLastError(NULL) && strstr(nats_GetLastError(NULL), "wrong last sequence"))
        return sl_err_set(err, SL_E_CONFLICT, "record %s was changed meanwhile", key);
    return fail(err, s, "could not update", key);
}

int sl_kv_delete(sl_kv_t *st, sl_bucket_t b, const char *key, sl_err_t *err)
{
    natsStatus s = kvStore_Purge(st->kv[b], key, NULL);
    if (s != NATS_OK)
        return fail(err, s, "could not delete", key);
    return 0;
}

static int by_created(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *cx = json_string_value(json_object_get(x, "created_at"));
    const char *cy = json_string_value(json_object_get(y, "created_at"));
    int c = strcmp(cx ? cx : "", cy ? cy : "");
    if (c)
        return c;
    cx = json_string_value(json_object_get(x, "id"));
    cy = json_string_value(json_object_get(y, "id"));
    return strcmp(cx ? cx : "", cy ? cy : "");
}

int sl_kv_list(sl_kv_t *st, sl_bucket_t b, json_t **out, sl_err_t *err)
{
    kvKeysList keys = {0};
    kvWatchOptions wo;
    kvWatchOptions_Init(&wo);
    /* The whole listing (a watcher over the bucket) must end within this; 5 s was seen
     * to run out on a machine at load average 20, failing a plain GET with a 500. */
    wo.Timeout = 30000;
    natsStatus s = kvStore_Keys(&keys, st->kv[b], &wo);
    if (s != NATS_OK && s != NATS_NOT_FOUND)
        return fail(err, s, "could not list", bucket_names[b]);
    json_t **recs = calloc((size_t)keys.Count + 1, sizeof *recs);
    if (!recs)
        sl_oom();
    int n = 0;
    for (int i = 0; i < keys.Count; i++) {
        sl_err_t e2 = {0};
        if (sl_kv_get(st, b, keys.Keys[i], &recs[n], NULL, &e2) == 0)
            n++;
        else if (e2.code != SL_E_NOT_FOUND) {
            *err = e2;
            for (int k = 0; k < n; k++)
                json_decref(recs[k]);
            free(recs);
            kvKeysList_Destroy(&keys);
            return -1;
        }
    }
    kvKeysList_Destroy(&keys);
    qsort(recs, (size_t)n, sizeof *recs, by_created);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, recs[i]);
    free(recs);
    *out = arr;
    return 0;
}

/* ---- watching ------------------------------------------------------------------- */

struct sl_kv_watch {
    kvWatcher *w;
    sl_bucket_t b;
};

int sl_kv_watch(sl_kv_t *st, sl_bucket_t b, sl_kv_watch_t **out, sl_err_t *err)
{
    kvWatcher *w = NULL;
    natsStatus s = kvStore_WatchAll(&w, st->kv[b], NULL);
    if (s != NATS_OK)
        return fail(err, s, "could not watch", bucket_names[b]);
    sl_kv_watch_t *sw = calloc(1, sizeof *sw);
    if (!sw)
        sl_oom();
    sw->w = w;
    sw->b = b;
    *out = sw;
    return 0;
}

int sl_kv_watch_next(sl_kv_watch_t *sw, int timeout_ms, sl_watch_ev_t *ev, char **key, json_t **rec,
                        uint64_t *rev, sl_err_t *err)
{
    *ev = SL_WATCH_NONE;
    *key = NULL;
    *rec = NULL;
    for (;;) {
        kvEntry *e = NULL;
        natsStatus s = kvWatcher_Next(&e, sw->w, timeout_ms);
        if (s == NATS_TIMEOUT)
            return 0;
        if (s != NATS_OK)
            return fail(err, s, "watching", bucket_names[sw->b]);
        if (!e) {
            *ev = SL_WATCH_SYNCED;
            return 0;
        }
        kvOperation op = kvEntry_Operation(e);
        if (op == kvOp_Delete || op == kvOp_Purge) {
            *ev = SL_WATCH_DEL;
            *key = strdup(kvEntry_Key(e));
        } else {
            *rec = json_loadb(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), 0, NULL);
            if (*rec) {
                *ev = SL_WATCH_PUT;
                *key = strdup(kvEntry_Key(e));
                *rev = kvEntry_Revision(e);
            }
        }
        kvEntry_Destroy(e);
        if (*ev != SL_WATCH_NONE) {
            if (!*key)
                sl_oom();
            return 0;
        }
    }
}

void sl_kv_watch_free(sl_kv_watch_t *sw)
{
    if (!sw)
        return;
    kvWatcher_Stop(sw->w);
    kvWatcher_Destroy(sw->w);
    free(sw);
}
