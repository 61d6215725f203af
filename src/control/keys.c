/*
 * keys.c: the named API keys (see apikey.h): `sluice key add|list|rm` on the broker's
 * SLUICE_KEYS bucket, and the server's view of that bucket.
 *
 * Why the broker and not a file in the data dir: several servers on one NATS form one
 * deployment (any of them answers the API); a key made or removed once must count on
 * every one of them, and a revoked key must not live on in a copy some node kept.
 *
 * Threads: the HTTP thread calls sl_keys_check, which reads the in-memory table under
 * `mu` (no I/O). The follower thread owns the watcher: it applies each change of the
 * bucket to the table, and writes "last_used_at" for keys that were used. A watcher that
 * breaks (the broker restarted) is replaced; the table in use stays until the new watcher
 * has given every current record, so no key is ever missing meanwhile.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "control/apikey.h"
#include "control/ctl.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"

#define HASH_LEN crypto_hash_sha256_BYTES
#define USED_EVERY_MS 60000 /* how often one server writes a key's last_used_at */
#define SYNC_WAIT_MS 30000  /* at start, how long the first listing may take */

typedef struct entry {
    char name[64];
    sl_role_t role;
    unsigned char hash[HASH_LEN];
    int64_t used_ms;    /* when this server last saw the key used (0: not yet) */
    int64_t written_ms; /* when this server last wrote its last_used_at */
} entry_t;

typedef struct table {
    entry_t *e;
    size_t n, cap;
} table_t;

struct sl_keys {
    sl_kv_t *st;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    table_t live;
    bool synced; /* the first listing is complete */
    atomic_bool quit;
    pthread_t thread;
};

/* ---- records ----------------------------------------------------------------------- */

/* The entry of a stored record: false when the record is not a key's. */
static bool parse_record(const char *key, const json_t *rec, entry_t *out)
{
    const char *name = json_string_value(json_object_get(rec, "name"));
    const char *hex = json_string_value(json_object_get(rec, "hash"));
    sl_role_t role = sl_role_parse(json_string_value(json_object_get(rec, "role")));
    size_t got = 0;
    memset(out, 0, sizeof *out);
    if (!name || strcmp(name, key) || strlen(name) >= sizeof out->name || !hex || role == SL_ROLE_NONE ||
        sodium_hex2bin(out->hash, HASH_LEN, hex, strlen(hex), NULL, &got, NULL) || got != HASH_LEN)
        return false;
    snprintf(out->name, sizeof out->name, "%s", name);
    out->role = role;
    return true;
}

static entry_t *find(table_t *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->e[i].name, name))
            return &t->e[i];
    return NULL;
}

/* Puts e in t; an entry of the same name keeps its usage times. */
static void upsert(table_t *t, const entry_t *e)
{
    entry_t *old = find(t, e->name);
    if (old) {
        int64_t used = old->used_ms, written = old->written_ms;
        *old = *e;
        old->used_ms = used;
        old->written_ms = written;
        return;
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 8;
        t->e = realloc(t->e, t->cap * sizeof *t->e);
        if (!t->e)
            sl_oom();
    }
    t->e[t->n++] = *e;
}

static void drop(table_t *t, const char *name)
{
    entry_t *e = find(t, name);
    if (!e)
        return;
    sodium_memzero(e, sizeof *e);
    *e = t->e[--t->n];
}

static void table_free(table_t *t)
{
    if (t->e)
        sodium_memzero(t->e, t->cap * sizeof *t->e);
    free(t->e);
    memset(t, 0, sizeof *t);
}

/* ---- the follower thread ----------------------------------------------------------- */

/* Writes last_used_at of the keys used since this server last wrote it (a minute at
 * most). Compare-and-set: a key removed meanwhile is not brought back. */
static void write_usage(sl_keys_t *k)
{
    int64_t now = sl_mono_ms();
    char names[16][64];
    int n = 0;
    pthread_mutex_lock(&k->mu);
    for (size_t i = 0; i < k->live.n && n < 16; i++) {
        entry_t *e = &k->live.e[i];
        if (e->used_ms && e->used_ms > e->written_ms &&
            (!e->written_ms || now - e->written_ms >= USED_EVERY_MS)) {
            e->written_ms = now;
            snprintf(names[n++], sizeof names[0], "%s", e->name);
        }
    }
    pthread_mutex_unlock(&k->mu);
    for (int i = 0; i < n; i++) {
        json_t *rec;
        uint64_t rev;
        sl_err_t err = {0};
        if (sl_kv_get(k->st, SL_BUCKET_KEYS, names[i], &rec, &rev, &err))
            continue;
        char at[32];
        json_object_set_new(rec, "last_used_at", json_string(sl_ctl_now(at)));
        sl_kv_update(k->st, SL_BUCKET_KEYS, names[i], rec, &rev, &err);
        json_decref(rec);
    }
}

/* Applies one watcher event to t. */
static void apply(table_t *t, sl_watch_ev_t ev, const char *key, const json_t *rec)
{
    entry_t e;
    if (ev == SL_WATCH_DEL || (ev == SL_WATCH_PUT && !parse_record(key, rec, &e)))
        drop(t, key);
    else if (ev == SL_WATCH_PUT)
        upsert(t, &e);
}

static void *follow(void *arg)
{
    sl_keys_t *k = arg;
    sl_kv_watch_t *w = NULL;
    table_t fresh = {0}; /* filled by a new watcher until it has given every record */
    bool syncing = false;
    while (!atomic_load(&k->quit)) {
        sl_err_t err = {0};
        if (!w) {
            if (sl_kv_watch(k->st, SL_BUCKET_KEYS, &w, &err)) {
                sl_warn("API keys: %s; retrying", err.message);
                struct timespec ts = {1, 0};
                nanosleep(&ts, NULL);
                continue;
            }
            table_free(&fresh);
            syncing = true;
        }
        sl_watch_ev_t ev;
        char *key;
        json_t *rec;
        uint64_t rev;
        if (sl_kv_watch_next(w, 500, &ev, &key, &rec, &rev, &err)) {
            sl_warn("API keys: %s; watching the keys again", err.message);
            sl_kv_watch_free(w);
            w = NULL;
            continue;
        }
        pthread_mutex_lock(&k->mu);
        if (ev == SL_WATCH_SYNCED && syncing) {
            /* the new listing replaces the table, with the usage this server noted */
            for (size_t i = 0; i < fresh.n; i++) {
                entry_t *old = find(&k->live, fresh.e[i].name);
                if (old) {
                    fresh.e[i].used_ms = old->used_ms;
                    fresh.e[i].written_ms = old->written_ms;
                }
            }
            table_free(&k->live);
            k->live = fresh;
            memset(&fresh, 0, sizeof fresh);
            syncing = false;
            k->synced = true;
            pthread_cond_broadcast(&k->cv);
        } else if (ev == SL_WATCH_PUT || ev == SL_WATCH_DEL) {
            apply(syncing ? &fresh : &k->live, ev, key, rec);
        }
        pthread_mutex_unlock(&k->mu);
        free(key);
        json_decref(rec);
        write_usage(k);
    }
    sl_kv_watch_free(w);
    table_free(&fresh);
    return NULL;
}

int sl_keys_open(sl_kv_t *st, sl_keys_t **out, sl_err_t *err)
{
    if (sodium_init() < 0)
        return sl_err_set(err, SL_E_INTERNAL, "could not initialise libsodium");
    sl_keys_t *k = calloc(1, sizeof *k);
    if (!k)
        sl_oom();
    k->st = st;
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    if (pthread_create(&k->thread, NULL, follow, k)) {
        pthread_mutex_destroy(&k->mu);
        pthread_cond_destroy(&k->cv);
        free(k);
        return sl_err_set(err, SL_E_INTERNAL, "could not start the API keys thread");
    }
    struct timespec until = sl_deadline_ms(SYNC_WAIT_MS);
    pthread_mutex_lock(&k->mu);
    while (!k->synced && pthread_cond_timedwait(&k->cv, &k->mu, &until) == 0)
        ;
    bool ok = k->synced;
    pthread_mutex_unlock(&k->mu);
    if (!ok) {
        sl_keys_free(k);
        sl_err_set(err, SL_E_BROKER, "could not read the API keys from the broker within %d s", SYNC_WAIT_MS / 1000);
        sl_err_hint(err, "is the broker overloaded or unreachable? see the log above");
        return -1;
    }
    *out = k;
    return 0;
}

void sl_keys_free(sl_keys_t *k)
{
    if (!k)
        return;
    atomic_store(&k->quit, true);
    pthread_join(k->thread, NULL);
    table_free(&k->live);
    pthread_mutex_destroy(&k->mu);
    pthread_cond_destroy(&k->cv);
    free(k);
}

sl_role_t sl_keys_check(sl_keys_t *k, const char *presented, char *name)
{
    name[0] = '\0';
    if (!k || !presented || !*presented || strlen(presented) > SL_APIKEY_MAX)
        return SL_ROLE_NONE;
    unsigned char h[HASH_LEN];
    sl_apikey_hash(presented, h);
    sl_role_t role = SL_ROLE_NONE;
    pthread_mutex_lock(&k->mu);
    for (size_t i = 0; i < k->live.n; i++) {
        entry_t *e = &k->live.e[i];
        if (sodium_memcmp(h, e->hash, HASH_LEN) == 0) {
            role = e->role;
            snprintf(name, 64, "%s", e->name);
            e->used_ms = sl_mono_ms();
            if (!e->used_ms)
                e->used_ms = 1;
        }
    }
    pthread_mutex_unlock(&k->mu);
    return role;
}

/* ---- what `sluice key` does ---------------------------------------------------------- */

int sl_keys_add(sl_kv_t *st, const char *name, sl_role_t role, char **key, sl_err_t *err)
{
    if (!sl_req_name_ok(name)) {
        sl_err_set(err, SL_E_CONFIG, "invalid key name \"%s\"", name);
        sl_err_hint(err, "1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit");
        return -1;
    }
    if (!sl_role_name(role))
        return sl_err_set(err, SL_E_CONFIG, "a key's role is read or admin");
    if (sodium_init() < 0)
        return sl_err_set(err, SL_E_INTERNAL, "could not initialise libsodium");
    char *k = sl_apikey_new();
    unsigned char h[HASH_LEN];
    sl_apikey_hash(k, h);
    char hex[2 * HASH_LEN + 1], at[32];
    sodium_bin2hex(hex, sizeof hex, h, HASH_LEN);
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "role", sl_role_name(role), "hash", hex,
                            "created_at", sl_ctl_now(at));
    int rc = sl_kv_create(st, SL_BUCKET_KEYS, name, rec, err);
    json_decref(rec);
    if (rc) {
        sodium_memzero(k, strlen(k));
        free(k);
        if (err->code == SL_E_CONFLICT) {
            sl_err_set(err, SL_E_CONFLICT, "a key named \"%s\" exists", name);
            sl_err_hint(err, "choose another name, or remove it first with `sluice key rm %s`", name);
        }
        return -1;
    }
    *key = k;
    return 0;
}

int sl_keys_list(sl_kv_t *st, json_t **out, sl_err_t *err)
{
    json_t *all;
    if (sl_kv_list(st, SL_BUCKET_KEYS, &all, err))
        return -1;
    size_t i;
    json_t *rec;
    json_array_foreach(all, i, rec) json_object_del(rec, "hash");
    *out = all;
    return 0;
}

int sl_keys_rm(sl_kv_t *st, const char *name, sl_err_t *err)
{
    json_t *rec;
    if (!sl_req_name_ok(name) || sl_kv_get(st, SL_BUCKET_KEYS, name, &rec, NULL, err)) {
        if (!sl_req_name_ok(name) || err->code == SL_E_NOT_FOUND) {
            sl_err_set(err, SL_E_NOT_FOUND, "no key named \"%s\"", name);
            sl_err_hint(err, "`sluice key list` shows the keys");
        }
        return -1;
    }
    json_decref(rec);
    return sl_kv_delete(st, SL_BUCKET_KEYS, name, err);
}
