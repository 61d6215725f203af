/*
 * file_state.c: the durable state of a file target's stream, all of it objects in the
 * store under "_sluice/<stream>/":
 *
 *   ckpt/<key>.json    one checkpoint per engine key (epoch, seq, position, done) and,
 *                      for data keys, the files written under it so far;
 *   intent/<key>.json  written before data files are stored: the files about to be
 *                      stored, the checkpoint they make true, and the files they
 *                      replace. Recovery rolls it forward when every file is there
 *                      (the checkpoint is stored) and back otherwise (the files that
 *                      made it are deleted), so no data file is ever outside a
 *                      checkpoint and no checkpoint promises a missing file;
 *   manifest.json      every file, its rows, schema and positions, derived from the
 *                      checkpoints (rewritten after every stored file);
 *   ckpt/fence.json    the stream's fence (target.h): the newest lease epoch. A connection
 *                      with a fence reads it before each intent and checkpoint it stores
 *                      and refuses to store under an older epoch; every checkpoint object
 *                      records the epoch it was written under ("fence"). A store has no
 *                      compare-and-set, so a write that passed the check just before a
 *                      raise may still land (docs/cluster.md "Fencing" says so).
 *
 * Thread: functions run on the calling connection's thread; the manifest cache and
 * the set of intents in progress are process-wide, under one mutex (several writer
 * lanes of one process share a stream).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "target/file/file_int.h"

#define STATE_MAX (64u * 1024 * 1024) /* a checkpoint object, intent or plan */

/* ---- keys ------------------------------------------------------------------------ */

static void safe_name(const char *s, char *out, int size)
{
    int n = 0;
    for (; *s && n < size - 1; s++) {
        bool keep = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
                    *s == '-' || (*s == '.' && n > 0);
        out[n] = keep ? *s : '_';
        n++;
    }
    out[n] = '\0';
}

void sl_file_state_key(const char *stream, const char *dir, const char *ckey, char *out, int size)
{
    char s[256], k[256];
    safe_name(stream, s, sizeof s);
    if (ckey) {
        safe_name(ckey, k, sizeof k);
        snprintf(out, (size_t)size, "_sluice/%s/%s/%s.json", s, dir, k);
    } else {
        snprintf(out, (size_t)size, "_sluice/%s/%s", s, dir);
    }
}

/* ---- process-wide: intents in progress, manifest cache ------------------------------ */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

typedef struct live {
    char *id;
    struct live *next;
} live_t;
static live_t *lives;

typedef struct mcache {
    char *id;
    json_t *cks; /* checkpoint key -> checkpoint object */
    struct mcache *next;
} mcache_t;
static mcache_t *caches;

static char *state_id(const ftgt_t *ft, const char *what)
{
    size_t n = strlen(ft->url_id) + strlen(ft->stream) + strlen(what) + 3;
    char *id = malloc(n);
    if (!id)
        sl_oom();
    snprintf(id, n, "%s\n%s\n%s", ft->url_id, ft->stream, what);
    return id;
}

static void live_set(const ftgt_t *ft, const char *ikey, bool on)
{
    char *id = state_id(ft, ikey);
    pthread_mutex_lock(&mu);
    if (on) {
        live_t *l = malloc(sizeof *l);
        if (!l)
            sl_oom();
        l->id = id;
        l->next = lives;
        lives = l;
        id = NULL;
    } else {
        for (live_t **p = &lives; *p; p = &(*p)->next)
            if (!strcmp((*p)->id, id)) {
                live_t *l = *p;
                *p = l->next;
                free(l->id);
                free(l);
                break;
            }
    }
    pthread_mutex_unlock(&mu);
    free(id);
}

static bool live_has(const ftgt_t *ft, const char *ikey)
{
    char *id = state_id(ft, ikey);
    pthread_mutex_lock(&mu);
    bool hit = false;
    for (live_t *l = lives; l && !hit; l = l->next)
        hit = !strcmp(l->id, id);
    pthread_mutex_unlock(&mu);
    free(id);
    return hit;
}

/* ---- small store helpers ---------------------------------------------------------- */

static int get_json(ftgt_t *ft, const char *key, json_t **out, sl_err_t *err)
{
    sl_buf_t b;
    bool found = false;
    *out = NULL;
    sl_buf_init(&b, STATE_MAX);
    if (ft->st->ops->get(ft->st, key, &b, &found, err)) {
        sl_buf_free(&b);
        return -1;
    }
    if (found) {
        json_error_t je;
        *out = json_loadb(b.data ? b.data : "", b.len, 0, &je);
        if (!*out) {
            sl_err_set(err, SL_E_CONFLICT, "state object \"%s\" of the file target is not JSON: %s", key, je.text);
            sl_err_hint(err, "it was changed by hand; run with --restart to write the stream again");
            sl_buf_free(&b);
            return -1;
        }
    }
    sl_buf_free(&b);
    return 0;
}

static int put_json(ftgt_t *ft, const char *key, const json_t *j, sl_err_t *err)
{
    char *text = json_dumps(j, JSON_COMPACT);
    if (!text)
        sl_oom();
    int rc = ft->st->ops->put(ft->st, key, text, strlen(text), err);
    free(text);
    return rc;
}

static int exists_fn(void *ctx, const char *key, uint64_t size, sl_err_t *err)
{
    const char **want = ctx;
    if (*want && !strcmp(key, *want))
        *want = NULL;
    return 0;
}

static int exists(ftgt_t *ft, const char *key, bool *yes, sl_err_t *err)
{
    const char *want = key;
    if (ft->st->ops->list(ft->st, key, exists_fn, &want, err))
        return -1;
    *yes = want == NULL;
    return 0;
}

/* ---- checkpoint objects ------------------------------------------------------------ */

void sl_file_ckpt_from_json(const json_t *obj, sl_ckpt_t *ck)
{
    memset(ck, 0, sizeof *ck);
    ck->epoch = json_integer_value(json_object_get(obj, "epoch"));
    ck->seq = json_integer_value(json_object_get(obj, "seq"));
    ck->done = json_is_true(json_object_get(obj, "done"));
    const char *pos = json_string_value(json_object_get(obj, "position"));
    ck->position = pos ? sl_strdup(pos) : NULL;
}

json_t *sl_file_ckpt_to_json(const char *ckey, const sl_ckpt_t *ck, int64_t batches, json_t *files)
{
    json_t *o = json_pack("{s:s,s:I,s:I,s:b,s:I}", "key", ckey, "epoch", (json_int_t)ck->epoch, "seq",
                          (json_int_t)ck->seq, "done", ck->done, "batches", (json_int_t)batches);
    json_object_set_new(o, "position", ck->position ? json_string(ck->position) : json_null());
    json_object_set_new(o, "files", files ? files : json_array());
    return o;
}

/* ---- the manifest ----------------------------------------------------------------- */

static int cache_fill_fn(void *ctx, const char *key, uint64_t size, sl_err_t *err)
{
    void **a = ctx;
    ftgt_t *ft = a[0];
    mcache_t *c = a[1];
    size_t n = strlen(key);
    if (n < 5 || strcmp(key + n - 5, ".json"))
        return 0;
    json_t *o;
    if (get_json(ft, key, &o, err))
        return -1;
    const char *ck = o ? json_string_value(json_object_get(o, "key")) : NULL;
    if (ck)
        json_object_set(c->cks, ck, o);
    json_decref(o);
    return 0;
}

static int cmp_file(const void *a, const void *b)
{
    const char *x = json_string_value(json_object_get(*(json_t *const *)a, "key"));
    const char *y = json_string_value(json_object_get(*(json_t *const *)b, "key"));
    return strcmp(x ? x : "", y ? y : "");
}

static json_t *manifest_build(const ftgt_t *ft, json_t *cks)
{
    json_t *tables = json_object(), *points = json_object(), *rejects = json_array();
    const char *ckey;
    json_t *ck;
    int64_t total = 0;
    json_object_foreach(cks, ckey, ck)
    {
        json_t *files = json_object_get(ck, "files");
        if (json_array_size(files) == 0 && strcmp(ckey, "complete") && strncmp(ckey, "s:", 2) &&
            strncmp(ckey, "cdc:", 4))
            continue;
        json_object_set_new(points, ckey,
                            json_pack("{s:O,s:O,s:O,s:O}", "epoch", json_object_get(ck, "epoch"), "seq",
                                      json_object_get(ck, "seq"), "position",
                                      json_object_get(ck, "position") ? json_object_get(ck, "position") : json_null(),
                                      "done", json_object_get(ck, "done")));
        size_t i;
        json_t *f;
        json_array_foreach(files, i, f)
        {
            const char *tn = json_string_value(json_object_get(f, "table"));
            if (!tn)
                continue;
            if (!strncmp(tn, "_sluice/rejects/", 16)) { /* rows on_error rejected: not a table */
                json_t *e = json_deep_copy(f);
                json_object_set_new(e, "checkpoint", json_string(ckey));
                json_array_append_new(rejects, e);
                continue;
            }
            json_t *t = json_object_get(tables, tn);
            if (!t) {
                t = json_pack("{s:I,s:[]}", "rows", (json_int_t)0, "files");
                json_object_set_new(tables, tn, t);
            }
            json_int_t rows = json_integer_value(json_object_get(f, "rows"));
            total += rows;
            json_object_set_new(t, "rows", json_integer(json_integer_value(json_object_get(t, "rows")) + rows));
            json_t *e = json_deep_copy(f);
            json_object_del(e, "table");
            json_object_set_new(e, "checkpoint", json_string(ckey));
            json_array_append_new(json_object_get(t, "files"), e);
        }
    }
    const char *tn;
    json_t *t;
    json_object_foreach(tables, tn, t)
    {
        json_t *files = json_object_get(t, "files");
        size_t n = json_array_size(files);
        json_t **v = malloc((n + 1) * sizeof *v);
        if (!v)
            sl_oom();
        for (size_t i = 0; i < n; i++)
            v[i] = json_incref(json_array_get(files, i));
        qsort(v, n, sizeof *v, cmp_file);
        json_t *sorted = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(sorted, v[i]);
        free(v);
        /* the table's schema: that of its last file; each file keeps its own */
        json_t *last = json_array_get(sorted, n - 1);
        if (last && json_object_get(last, "columns"))
            json_object_set(t, "columns", json_object_get(last, "columns"));
        json_object_set_new(t, "files", sorted);
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_pack("{s:i,s:s,s:s,s:s,s:I,s:o,s:o,s:o}", "version", 1, "stream", ft->stream, "format",
                     ft->o.fmt->name, "updated_at", ts, "rows", (json_int_t)total, "tables", tables,
                     "checkpoints", points, "rejects", rejects);
}

/* Records ckobj as ckey's checkpoint in the cache and rewrites the manifest. */
static int manifest_update(ftgt_t *ft, const char *ckey, json_t *ckobj, sl_err_t *err)
{
    char *id = state_id(ft, "manifest");
    int rc = 0;
    pthread_mutex_lock(&mu);
    mcache_t *c = caches;
    while (c && strcmp(c->id, id))
        c = c->next;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            sl_oom();
        c->id = id;
        id = NULL;
        c->cks = json_object();
        char prefix[600];
        sl_file_state_key(ft->stream, "ckpt/", NULL, prefix, sizeof prefix);
        void *ctx[2] = {ft, c};
        if (ft->st->ops->list(ft->st, prefix, cache_fill_fn, ctx, err)) {
            json_decref(c->cks);
            free(c->id);
            free(c);
            pthread_mutex_unlock(&mu);
            free(id);
            return -1;
        }
        c->next = caches;
        caches = c;
    }
    if (ckobj)
        json_object_set(c->cks, ckey, ckobj);
    json_t *m = manifest_build(ft, c->cks);
    char key[600];
    sl_file_state_key(ft->stream, "manifest.json", NULL, key, sizeof key);
    rc = put_json(ft, key, m, err);
    json_decref(m);
    pthread_mutex_unlock(&mu);
    free(id);
    return rc;
}

void sl_file_manifest_forget(ftgt_t *ft)
{
    char *id = state_id(ft, "manifest");
    pthread_mutex_lock(&mu);
    for (mcache_t **p = &caches; *p; p = &(*p)->next)
        if (!strcmp((*p)->id, id)) {
            mcache_t *c = *p;
            *p = c->next;
            json_decref(c->cks);
            free(c->id);
            free(c);
            break;
        }
    pthread_mutex_unlock(&mu);
    free(id);
}

/* The fence (target.h) before a write of ckey's checkpoint object obj: a raise (ckey
 * "fence") must not lower it, any other write needs the connection's epoch not older;
 * obj records the epoch it is written under. */
static int fence_check(ftgt_t *ft, const char *ckey, json_t *obj, sl_err_t *err)
{
    bool raise = !strcmp(ckey, SL_CKPT_FENCE);
    int64_t mine = raise ? (int64_t)json_integer_value(json_object_get(obj, "epoch")) : ft->base.fence;
    if (mine <= 0)
        return 0;
    if (!raise)
        json_object_set_new(obj, "fence", json_integer(mine));
    char key[600];
    json_t *f = NULL;
    sl_file_state_key(ft->stream, "ckpt", SL_CKPT_FENCE, key, sizeof key);
    if (get_json(ft, key, &f, err))
        return -1;
    int64_t theirs = f ? (int64_t)json_integer_value(json_object_get(f, "epoch")) : 0;
    json_decref(f);
    return theirs > mine ? sl_target_fenced(err, ft->stream, ckey, mine, theirs) : 0;
}

int sl_file_ckpt_store(ftgt_t *ft, const char *ckey, json_t *obj, sl_err_t *err)
{
    char key[600];
    sl_file_state_key(ft->stream, "ckpt", ckey, key, sizeof key);
    if (fence_check(ft, ckey, obj, err) || put_json(ft, key, obj, err))
        return -1;
    if (json_array_size(json_object_get(obj, "files")) > 0 || !strcmp(ckey, "complete"))
        return manifest_update(ft, ckey, obj, err);
    return 0;
}

/* ---- intents ----------------------------------------------------------------------- */

static int recover_one(ftgt_t *ft, const char *ikey, sl_err_t *err)
{
    if (live_has(ft, ikey))
        return 0; /* another lane of this process is storing it right now */
    json_t *in;
    if (get_json(ft, ikey, &in, err))
        return -1;
    if (!in)
        return 0;
    json_t *ck = json_object_get(in, "ckpt"), *nw = json_object_get(in, "new"), *drop = json_object_get(in, "drop");
    const char *ckey = json_string_value(json_object_get(ck, "key"));
    int rc = -1;
    if (!ckey || !json_is_array(nw)) {
        sl_err_set(err, SL_E_CONFLICT, "intent record \"%s\" of the file target is malformed", ikey);
        sl_err_hint(err, "it was changed by hand; run with --restart to write the stream again");
        goto out;
    }
    bool all = true;
    size_t i;
    json_t *f;
    json_array_foreach(nw, i, f)
    {
        bool yes = false;
        if (exists(ft, json_string_value(f), &yes, err))
            goto out;
        all = all && yes;
    }
    if (all) {
        sl_info("file target: rolling forward checkpoint \"%s\" (its %zu file%s were stored before a crash)", ckey,
                json_array_size(nw), json_array_size(nw) == 1 ? "" : "s");
        if (sl_file_ckpt_store(ft, ckey, ck, err))
            goto out;
        json_array_foreach(drop, i, f)
        {
            if (ft->st->ops->remove(ft->st, json_string_value(f), err))
                goto out;
        }
    } else {
        sl_info("file target: rolling back unfinished files of checkpoint \"%s\"", ckey);
        json_array_foreach(nw, i, f)
        {
            if (ft->st->ops->remove(ft->st, json_string_value(f), err))
                goto out;
        }
    }
    rc = ft->st->ops->remove(ft->st, ikey, err);
out:
    json_decref(in);
    return rc;
}

int sl_file_ckpt_load(ftgt_t *ft, const char *ckey, json_t **obj, sl_err_t *err)
{
    char ikey[600], key[600];
    sl_file_state_key(ft->stream, "intent", ckey, ikey, sizeof ikey);
    sl_file_state_key(ft->stream, "ckpt", ckey, key, sizeof key);
    if (recover_one(ft, ikey, err))
        return -1;
    return get_json(ft, key, obj, err);
}

typedef struct keys {
    char **v;
    int n;
} keys_t;

static int collect_fn(void *ctx, const char *key, uint64_t size, sl_err_t *err)
{
    keys_t *k = ctx;
    char **v = realloc(k->v, sizeof *v * (size_t)(k->n + 1));
    if (!v)
        sl_oom();
    k->v = v;
    k->v[k->n++] = sl_strdup(key);
    return 0;
}

int sl_file_recover_all(ftgt_t *ft, sl_err_t *err)
{
    char prefix[600];
    sl_file_state_key(ft->stream, "intent/", NULL, prefix, sizeof prefix);
    keys_t k = {0};
    int rc = ft->st->ops->list(ft->st, prefix, collect_fn, &k, err);
    for (int i = 0; i < k.n; i++) {
        if (rc == 0)
            rc = recover_one(ft, k.v[i], err);
        free(k.v[i]);
    }
    free(k.v);
    return rc;
}

/* Test hook (tests/integration/files_kill.sh): SLUICE_TEST_FILE_CRASH=after_intent,
 * after_data or after_ckpt ends the process with SIGKILL (exit status 137) at that
 * step of the first flush that stores files, so each crash window is tested every run.
 * Compiled only into test builds (CMake option SLUICE_TEST_HOOKS, which scripts/build.sh
 * turns on): a release binary ignores the variable. */
#ifdef SLUICE_TEST_HOOKS
static void crash_point(const char *step)
{
    const char *want = getenv("SLUICE_TEST_FILE_CRASH");
    if (want && !strcmp(want, step)) {
        fprintf(stderr, "SLUICE_TEST_FILE_CRASH: exiting %s\n", step);
        /* a real SIGKILL, not _exit(): ThreadSanitizer reports the threads an _exit()
         * leaves unjoined as leaks, and nothing may run at exit here anyway */
        kill(getpid(), SIGKILL);
    }
}
#else
#define crash_point(step) ((void)0)
#endif

int sl_file_commit_files(ftgt_t *ft, const char *ckey, json_t *ckobj, json_t *files_new, json_t *drop,
                         sl_err_t *err)
{
    char ikey[600];
    sl_file_state_key(ft->stream, "intent", ckey, ikey, sizeof ikey);
    json_t *keys = json_array();
    size_t i;
    json_t *f;
    json_array_foreach(files_new, i, f)
    json_array_append(keys, json_array_get(f, 1));
    json_t *in = json_pack("{s:O,s:o,s:O}", "ckpt", ckobj, "new", keys, "drop", drop);
    int rc = -1;
    live_set(ft, ikey, true);
    if (fence_check(ft, ckey, ckobj, err) || put_json(ft, ikey, in, err))
        goto out;
    crash_point("after_intent");
    json_array_foreach(files_new, i, f)
    {
        const char *spool = json_string_value(json_array_get(f, 0)), *key = json_string_value(json_array_get(f, 1));
        if (ft->st->ops->put_file(ft->st, key, spool, err)) {
            sl_err_prefix(err, "could not store \"%s\": ", key);
            goto out;
        }
    }
    crash_point("after_data");
    char key[600];
    sl_file_state_key(ft->stream, "ckpt", ckey, key, sizeof key);
    if (fence_check(ft, ckey, ckobj, err) || put_json(ft, key, ckobj, err))
        goto out;
    crash_point("after_ckpt");
    json_array_foreach(drop, i, f)
    {
        bool keep = false;
        size_t j;
        json_t *g;
        json_array_foreach(files_new, j, g)
        keep = keep || json_equal(json_array_get(g, 1), f);
        if (!keep && ft->st->ops->remove(ft->st, json_string_value(f), err))
            goto out;
    }
    if (ft->st->ops->remove(ft->st, ikey, err))
        goto out;
    rc = manifest_update(ft, ckey, ckobj, err);
out:
    live_set(ft, ikey, false);
    json_decref(in);
    return rc;
}
