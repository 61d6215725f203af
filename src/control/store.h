/*
 * store.h: the control plane's records in NATS JetStream KV buckets, so that they
 * survive restarts and several servers on one NATS share them:
 *   SLUICE_CONNECTIONS  key = connection id ("c_<hex>"), value = connection record JSON
 *   SLUICE_STREAMS      key = stream id ("s_<hex>"), value = stream record JSON
 *   SLUICE_NAMES        key = "c.<name>" / "s.<name>", value = {"id", "at"}: which record
 *                       owns a name (names.c)
 *   SLUICE_LEASES       key = stream name, value = {"node", "epoch", "at"}: which server
 *                       runs the stream (lease.c); its calls give up after 2 s, so that
 *                       a server cut off from NATS learns it in time to stop its streams
 *   SLUICE_KEYS         key = an API key's name, value = {"name", "role", "hash",
 *                       "created_at", "last_used_at"?}: the keys of `sluice key` (keys.c)
 * Records hold secrets only sealed (control/secret.h); see docs/server.md for the layout.
 *
 * Updates are compare-and-set on the revision (kvStore_Update), so two servers never
 * overwrite each other's change silently. A sl_kv_t is one NATS connection, safe to
 * share between threads. (Named sl_kv_*, not sl_store_*: that is the file targets' object
 * store, target/store/.)
 */
#ifndef SL_CONTROL_STORE_H
#define SL_CONTROL_STORE_H

#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

typedef struct sl_kv sl_kv_t;

typedef enum {
    SL_BUCKET_CONNECTIONS,
    SL_BUCKET_STREAMS,
    SL_BUCKET_NAMES,
    SL_BUCKET_LEASES,
    SL_BUCKET_KEYS,
    SL_BUCKET_COUNT
} sl_bucket_t;

/* Connects to the broker and creates the buckets when missing. */
int sl_kv_open(const char *nats_url, sl_kv_t **out, sl_err_t *err);
void sl_kv_close(sl_kv_t *st); /* NULL: no-op */

/* The record at key: *out a new reference, *rev its revision. SL_E_NOT_FOUND when absent. */
int sl_kv_get(sl_kv_t *st, sl_bucket_t b, const char *key, json_t **out, uint64_t *rev,
                 sl_err_t *err);
/* Creates key (SL_E_CONFLICT when it exists). */
int sl_kv_create(sl_kv_t *st, sl_bucket_t b, const char *key, const json_t *rec, sl_err_t *err);
/* The same, *rev the new record's revision (from the leader's acknowledgement: a read
 * back may be answered by a replica that has not seen the record yet). */
int sl_kv_create_rev(sl_kv_t *st, sl_bucket_t b, const char *key, const json_t *rec, uint64_t *rev,
                        sl_err_t *err);
/* Replaces key if its revision is still rev (SL_E_CONFLICT otherwise); *rev is updated. */
int sl_kv_update(sl_kv_t *st, sl_bucket_t b, const char *key, const json_t *rec,
                    uint64_t *rev, sl_err_t *err);
int sl_kv_delete(sl_kv_t *st, sl_bucket_t b, const char *key, sl_err_t *err);
/* Every record of a bucket, as a JSON array (new reference), sorted by "created_at". */
int sl_kv_list(sl_kv_t *st, sl_bucket_t b, json_t **out, sl_err_t *err);

/* A watcher over every key of a bucket: first the current records, then each change as it
 * happens. Used from one thread at a time. */
typedef struct sl_kv_watch sl_kv_watch_t;
typedef enum {
    SL_WATCH_NONE,   /* nothing within the timeout */
    SL_WATCH_PUT,    /* *key, *rec (new reference) and *rev: a record as now stored */
    SL_WATCH_DEL,    /* *key: deleted */
    SL_WATCH_SYNCED, /* the current records have all been given (once, after the first ones) */
} sl_watch_ev_t;
int sl_kv_watch(sl_kv_t *st, sl_bucket_t b, sl_kv_watch_t **out, sl_err_t *err);
/* The next event within timeout_ms; *key is malloc'd (PUT and DEL). -1 with err when the
 * watcher broke (make a new one). A record that is not JSON is skipped. */
int sl_kv_watch_next(sl_kv_watch_t *w, int timeout_ms, sl_watch_ev_t *ev, char **key, json_t **rec,
                        uint64_t *rev, sl_err_t *err);
void sl_kv_watch_free(sl_kv_watch_t *w); /* NULL: no-op */

#endif
