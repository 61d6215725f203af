/*
 * load.c: the orchestrator of a `load` stream (see load.h).
 *
 * Order of work, chosen so that a crash at any point leaves a state the next run can
 * finish from: (1) the target's checkpoint table is created and read; (2) on a fresh
 * load every check runs before anything is written (tables exist in the source,
 * target tables are absent or empty, privileges), then tables are created and the
 * plan is stored; (3) readers and writers run, every batch committing with its
 * stripe's checkpoint; (4) indexes, constraints, foreign keys and counters are added
 * (idempotently) and a "complete" checkpoint ends the load.
 */
#include "engine/load.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "engine/load_int.h"
#include "engine/mapping.h"
#include "engine/progress.h"
#include "monitor/stats.h"

void sl_load_stripe_key(int stripe, char *buf, int size) { snprintf(buf, (size_t)size, "s:%d", stripe); }

/* ---- checkpoints of an earlier run ------------------------------------------------ */

typedef struct prior {
    char *plan;
    bool complete;
    int64_t max_epoch;
    struct {
        int stripe;
        sl_ckpt_t ck;
    } *cks;
    int ncks;
} prior_t;

static int collect(void *ctx, const char *key, const sl_ckpt_t *ck, sl_err_t *err)
{
    prior_t *p = ctx;
    if (ck->epoch > p->max_epoch)
        p->max_epoch = ck->epoch;
    if (strcmp(key, "plan") == 0) {
        free(p->plan);
        p->plan = sl_strdup(ck->position ? ck->position : "");
    } else if (strcmp(key, "complete") == 0) {
        p->complete = ck->done;
    } else if (strncmp(key, "s:", 2) == 0) {
        void *v = realloc(p->cks, sizeof *p->cks * (size_t)(p->ncks + 1));
        if (!v)
            sl_oom();
        p->cks = v;
        p->cks[p->ncks].stripe = atoi(key + 2);
        p->cks[p->ncks].ck = *ck;
        p->cks[p->ncks].ck.position = sl_strdup(ck->position);
        p->ncks++;
    }
    return 0;
}

static void prior_free(prior_t *p)
{
    free(p->plan);
    for (int i = 0; i < p->ncks; i++)
        free(p->cks[i].ck.position);
    free(p->cks);
}

/* ---- a fresh plan ---------------------------------------------------------------- */

static int resolve_tables(const sl_spec_t *spec, sl_source_t *src, char ***names, int *n,
                          sl_err_t *err)
{
    if (!sl_spec_all_tables(spec)) {
        *names = calloc((size_t)spec->ntables, sizeof **names);
        for (int i = 0; i < spec->ntables; i++)
            (*names)[i] = sl_strdup(spec->tables[i]);
        *n = spec->ntables;
        return 0;
    }
    if (src->ops->list_tables(src, names, n, err))
        return -1;
    if (*n == 0) {
        sl_err_set(err, SL_E_NOT_FOUND, "the source database has no tables");
        sl_err_hint(err, "check the database (and schema) in the source URL");
        return -1;
    }
    return 0;
}

static int check_target(const load_t *ld, sl_target_t *tgt, const sl_table_t *t, sl_err_t *err)
{
    const sl_spec_t *spec = ld->spec;
    bool exists = false, has_rows = false;
    if (tgt->ops->table_state(tgt, t, &exists, &has_rows, err))
        return -1;
    const sl_options_t *o = &spec->opt;
    if (!exists && o->schema == SL_SCHEMA_NONE) {
        sl_err_set(err, SL_E_SCHEMA, "target table \"%s\" does not exist", t->name);
        sl_err_hint(err, "create it, or set options.schema to \"create_missing\"");
        return -1;
    }
    /* (initial_load false copies no row: rows already there are the user's starting point) */
    if (exists && has_rows && o->schema != SL_SCHEMA_RECREATE && o->write_mode == SL_WRITE_INSERT &&
        !ld->opts->truncate_existing && !ld->opts->schema_only) {
        sl_err_set(err, SL_E_CONFLICT, "target table \"%s\" already holds rows", t->name);
        sl_err_detail(err, "write_mode \"insert\" loads into empty tables only, so that no row is doubled");
        sl_err_hint(err, "empty the table, or set options.write_mode to \"truncate_insert\" or "
                         "options.schema to \"recreate\"");
        return -1;
    }
    return 0;
}

static int prepare_target(const load_t *ld, sl_target_t *tgt, const sl_table_t *t, sl_err_t *err)
{
    const sl_spec_t *spec = ld->spec;
    bool exists = false, has_rows = false;
    if (tgt->ops->table_state(tgt, t, &exists, &has_rows, err))
        return -1;
    if (spec->opt.schema == SL_SCHEMA_RECREATE || !exists) {
        sl_info("creating target table \"%s\"%s", t->name, exists ? " (dropped first)" : "");
        return tgt->ops->create_table(tgt, t, exists, err);
    }
    if ((spec->opt.write_mode == SL_WRITE_TRUNCATE_INSERT || ld->opts->truncate_existing) && has_rows) {
        sl_info("emptying target table \"%s\"", t->name);
        return tgt->ops->truncate_table(tgt, t, err);
    }
    return 0;
}

/* Counts the checkpoints of a stream (ckpt_list callback). */
static int count_ckpt(void *ctx, const char *key, const sl_ckpt_t *ck, sl_err_t *err)
{
    (void)key;
    (void)ck;
    (void)err;
    (*(int *)ctx)++;
    return 0;
}

/* Whether a spec's table entry ("name" or "schema.name") names source table t. */
static bool table_named(const sl_table_t *t, const char *name)
{
    char label[512];
    snprintf(label, sizeof label, "%s.%s", t->schema ? t->schema : "", t->name);
    return strcmp(name, t->name) == 0 || strcmp(name, label) == 0;
}

/* Whether the plan holds the table a spec's entry names. */
static bool plan_has(const sl_plan_t *plan, const char *name)
{
    for (int j = 0; j < plan->ntables; j++)
        if (table_named(plan->maps[j]->src, name))
            return true;
    return false;
}

/* The maps of source tables names[0..n), described at the source; none may load into
 * a target table of another (among them or in ld->plan). */
static int describe_maps(const load_t *ld, sl_source_t *src, char **names, int n, sl_map_t **maps,
                         sl_err_t *err)
{
    const sl_spec_t *spec = ld->spec;
    sl_map_env_t env;
    if (sl_map_env(spec, &env, err))
        return -1;
    for (int i = 0; i < n; i++) {
        sl_table_t *t = NULL;
        if (src->ops->describe(src, names[i], &t, err)) {
            sl_err_prefix(err, "source: ");
            return -1;
        }
        int rc = sl_map_build(spec, t, &env, &maps[i], err);
        sl_table_free(t);
        if (rc)
            return -1;
        bool dup = false;
        for (int j = 0; j < i && !dup; j++)
            dup = sl_map_same_target(maps[i], maps[j]);
        for (int j = 0; j < ld->plan.ntables && !dup; j++)
            dup = sl_map_same_target(maps[i], ld->plan.maps[j]);
        if (dup) {
            sl_err_set(err, SL_E_CONFIG, "two source tables would both load into target table \"%s\"",
                       maps[i]->tgt->name);
            sl_err_hint(err, "give one of them another \"target\" in source.tables (docs/mapping.md)");
            return -1;
        }
    }
    sl_map_link(maps, n);
    return 0;
}

/* Describes the source tables names[0..n) with their maps, checks their target tables,
 * creates or empties them and adds them to ld->plan (after the tables it holds).
 * Nothing is written before every table passed its checks. */
static int add_tables(load_t *ld, sl_source_t *src, sl_target_t *tgt, char **names, int n, sl_err_t *err)
{
    const sl_spec_t *spec = ld->spec;
    int rc = -1;
    bool fresh = ld->plan.ntables == 0;
    sl_map_t **maps = calloc((size_t)n + 1, sizeof *maps);
    if (!maps)
        sl_oom();
    if (describe_maps(ld, src, names, n, maps, err))
        goto done;
    for (int i = 0; i < n; i++)
        if (check_target(ld, tgt, maps[i]->tgt, err)) {
            sl_err_prefix(err, "target: ");
            goto done;
        }
    if (tgt->ops->ckpt_setup(tgt, err)) {
        sl_err_prefix(err, "target: ");
        goto done;
    }
    if (ld->opts->restart) {
        /* only when an earlier run left some: the first run of a stream has nothing to forget */
        int had = 0;
        if (tgt->ops->ckpt_list(tgt, spec->name, count_ckpt, &had, err))
            goto done;
        if (had > 0) {
            sl_info("starting stream \"%s\" over: deleting the %d checkpoint%s of its earlier run, so every "
                    "table is copied again from the start",
                    spec->name, had, had == 1 ? "" : "s");
            if (tgt->ops->ckpt_delete(tgt, spec->name, err))
                goto done;
        }
    }
    /* the fence first (docs/cluster.md "Fencing"): a fresh target had no table to raise it in */
    if (sl_target_fence_raise(tgt, spec->name, err)) {
        sl_err_prefix(err, "target: ");
        goto done;
    }
    /* a fresh load: the stream's rejects of an earlier load go with its checkpoints */
    if (spec->opt.on_error == SL_ON_ERROR_REJECT && tgt->ops->rejects_setup &&
        tgt->ops->rejects_setup(tgt, spec->name, fresh, err)) {
        sl_err_prefix(err, "target: ");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        if (prepare_target(ld, tgt, maps[i]->tgt, err)) {
            sl_err_prefix(err, "target: ");
            goto done;
        }
        sl_map_t *m = maps[i];
        maps[i] = NULL;
        if (sl_plan_add_map(&ld->plan, m, src, spec->opt.chunk_rows, err))
            goto done;
    }
    rc = 0;
done:
    for (int i = 0; i < n; i++)
        sl_map_free(maps[i]);
    free(maps);
    return rc;
}

static int store_plan(load_t *ld, sl_target_t *tgt, sl_err_t *err)
{
    char *json = sl_plan_to_json(&ld->plan);
    sl_ckpt_t ck = {.epoch = 0, .seq = 0, .position = json, .done = false};
    int rc = tgt->ops->ckpt_put(tgt, ld->spec->name, "plan", &ck, err);
    free(json);
    return rc;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static int fresh_plan(load_t *ld, sl_source_t *src, sl_target_t *tgt, sl_err_t *err)
{
    char **names = NULL;
    int n = 0;
    if (resolve_tables(ld->spec, src, &names, &n, err))
        return -1;
    int rc = add_tables(ld, src, tgt, names, n, err);
    free_names(names, n);
    if (rc == 0 && (rc = store_plan(ld, tgt, err)) == 0)
        sl_info("planned %d tables in %d chunks", ld->plan.ntables, ld->plan.nstripes);
    return rc;
}

/* An unfinished load must finish what it started: it maps its tables as it did, and
 * the spec's explicit table list must name every table of the stored plan (it may
 * name more: they are added). */
static int check_plan_matches(const load_t *ld, char **names, int n, sl_err_t *err)
{
    for (int j = 0; j < ld->plan.ntables; j++)
        if (sl_map_same_rules(ld->plan.maps[j], ld->spec, "load", err))
            return -1;
    if (sl_spec_all_tables(ld->spec))
        return 0;
    for (int j = 0; j < ld->plan.ntables; j++) {
        bool named = false;
        for (int i = 0; i < n && !named; i++)
            named = table_named(ld->plan.maps[j]->src, names[i]);
        if (!named) {
            sl_err_set(err, SL_E_CONFLICT, "table \"%s\" of the unfinished load \"%s\" is not in the spec any more",
                       ld->plan.maps[j]->label, ld->spec->name);
            sl_err_hint(err, "run with the table in the spec to finish the load, or with --restart to start over");
            return -1;
        }
    }
    return 0;
}

/* A load run again, completed or not: the spec's tables that the stored plan lacks (a
 * table added to the list, or with "*" a table new in the source) are planned after the
 * others and loaded. Tables of a completed load that the spec no longer names are left
 * as they are on the target; an unfinished load must still name all of its tables.
 * *more is false when a completed load has nothing to load. The plan is stored before
 * "complete" is cleared, and a stripe of the plan without a done checkpoint counts as
 * work too, so a run killed in between finds the new tables again. */
static int extend_plan(load_t *ld, const prior_t *prior, sl_source_t *src, sl_target_t *tgt, bool *more,
                       sl_err_t *err)
{
    const sl_spec_t *spec = ld->spec;
    char **names = NULL;
    int n = 0, nnew = 0, rc = -1;
    *more = false;
    if (sl_plan_from_json(prior->plan, &ld->plan, err) || resolve_tables(spec, src, &names, &n, err))
        return -1;
    if (!prior->complete && check_plan_matches(ld, names, n, err))
        goto out;
    for (int i = 0; i < n; i++)
        if (!plan_has(&ld->plan, names[i])) {
            char *keep = names[nnew];
            names[nnew++] = names[i];
            names[i] = keep;
        }
    for (int j = 0; prior->complete && j < ld->plan.ntables; j++) {
        bool named = false;
        for (int i = nnew; i < n && !named; i++)
            named = table_named(ld->plan.maps[j]->src, names[i]);
        if (!named)
            sl_info("table \"%s\" of the earlier load is not among the spec's tables any more; its target "
                    "table is left as it is",
                    ld->plan.maps[j]->label);
    }
    int undone = ld->plan.nstripes;
    for (int i = 0; i < prior->ncks; i++)
        if (prior->cks[i].ck.done && prior->cks[i].stripe >= 0 && prior->cks[i].stripe < ld->plan.nstripes)
            undone--;
    if (nnew == 0 && (undone <= 0 || !prior->complete)) {
        *more = undone > 0;
        rc = 0;
        goto out;
    }
    int before = ld->plan.ntables;
    if (nnew && add_tables(ld, src, tgt, names, nnew, err))
        goto out;
    if (nnew && store_plan(ld, tgt, err))
        goto out;
    sl_ckpt_t ck = {.epoch = prior->max_epoch, .seq = 0, .position = NULL, .done = false};
    if (prior->complete && tgt->ops->ckpt_put(tgt, spec->name, "complete", &ck, err))
        goto out;
    for (int t = before; t < ld->plan.ntables; t++)
        sl_info("load \"%s\" was %s; loading table \"%s\", which is new in the spec", spec->name,
                prior->complete ? "completed" : "not finished", ld->plan.maps[t]->label);
    *more = true;
    rc = 0;
out:
    free_names(names, n);
    return rc;
}

/* ---- after the data --------------------------------------------------------------- */

static int finish(load_t *ld, sl_target_t *tgt, sl_err_t *err)
{
    for (int i = 0; i < ld->plan.ntables; i++)
        if (tgt->ops->finish_table(tgt, ld->plan.tables[i], err)) {
            sl_err_prefix(err, "target: ");
            return -1;
        }
    for (int i = 0; i < ld->plan.ntables; i++)
        if (tgt->ops->finish_fkeys(tgt, ld->plan.tables[i], err)) {
            sl_err_prefix(err, "target: ");
            return -1;
        }
    sl_ckpt_t ck = {.epoch = (int64_t)ld->epoch, .seq = 0, .position = NULL, .done = true};
    return tgt->ops->ckpt_put(tgt, ld->spec->name, "complete", &ck, err);
}

/* The admin connection sat idle during the data phase and the target may have been
 * restarted meanwhile: reconnect and retry while the errors are retriable. */
static int finish_with_retry(load_t *ld, sl_target_t **admin, sl_err_t *err)
{
    for (int attempt = 0;; attempt++) {
        if (*admin && finish(ld, *admin, err) == 0)
            return 0;
        if (*admin && (!err->retriable || attempt >= 8))
            return -1;
        if (sl_run_stopping(&ld->run))
            return -1;
        if (*admin)
            sl_warn("finishing the target failed (%s); reconnecting and retrying", err->message);
        sl_target_close(*admin);
        *admin = NULL;
        sl_run_sleep(&ld->run, 500 << (attempt < 4 ? attempt : 4));
        if (sl_target_open(ld->spec->target_url, admin, err) && (!err->retriable || attempt >= 8)) {
            sl_err_prefix(err, "target: ");
            return -1;
        }
    }
}

/* ---- running ---------------------------------------------------------------------- */

static int open_readers(load_t *ld, sl_source_t *coord, sl_place_t *pl, sl_source_t ***out, int *nout,
                        sl_err_t *err)
{
    char *token = NULL;
    int maxr = 1;
    const char *ext = ld->opts->snapshot; /* a cdc slot's snapshot: every reader imports it */
    if (ext) {
        token = sl_strdup(ext);
        maxr = 64;
        if (coord->ops->snapshot_import(coord, token, err)) {
            free(token);
            return -1;
        }
    } else if (coord->ops->snapshot_export(coord, &token, &maxr, err)) {
        return -1;
    }
    int want = ld->spec->opt.readers ? ld->spec->opt.readers : ld->lanes;
    int left = atomic_load(&ld->stripes_left);
    if (want > maxr)
        want = maxr;
    if (want > left)
        want = left;
    if (want < 1)
        want = 1;
    sl_source_t **rd = calloc((size_t)want, sizeof *rd);
    rd[0] = coord;
    int n = 1;
    for (; n < want; n++) {
        if (sl_source_open(ld->spec->source_url, &rd[n], err) ||
            rd[n]->ops->snapshot_import(rd[n], token, err)) {
            sl_source_close(rd[n]);
            for (int i = 1; i < n; i++)
                sl_source_close(rd[i]);
            free(rd);
            free(token);
            return -1;
        }
    }
    /* stripes for the workers too (place.c): they join this snapshot while coord keeps it */
    int prc = pl && sl_place_can_read(ld, coord) ? sl_place_reads(pl, token, want, err) : 0;
    free(token);
    if (prc || (!ext && coord->ops->snapshot_release(coord, err))) {
        for (int i = 1; i < n; i++)
            sl_source_close(rd[i]);
        free(rd);
        return -1;
    }
    uint64_t *want_pos = ld->opts->snapshot_pos;
    if (want_pos && !ext) {
        uint64_t pos = 0;
        int prc = coord->ops->snapshot_position
                      ? coord->ops->snapshot_position(coord, &pos, err)
                      : sl_err_set(err, SL_E_INTERNAL, "this source cannot tell the position of its snapshot");
        if (prc == 0 && *want_pos && pos != *want_pos) {
            /* a restarted data phase reads from a newer snapshot than the stripes done before */
            prc = sl_err_set(err, SL_E_CONFLICT, "the initial load had to take a second snapshot");
            sl_err_detail(err, "rows read from two snapshots cannot hand over to one change-stream position");
            sl_err_hint(err, "run the same command again: the initial load starts over");
        }
        if (prc) {
            for (int i = 1; i < n; i++)
                sl_source_close(rd[i]);
            free(rd);
            return -1;
        }
        *want_pos = pos;
    }
    sl_info("reading with %d connection%s in one snapshot, writing with %d lane%s", n, n == 1 ? "" : "s",
            ld->lanes, ld->lanes == 1 ? "" : "s");
    *out = rd;
    *nout = n;
    return 0;
}

/* One pass of the data phase over the stripes not done yet. Returns 0 when every
 * stripe is done, or when it stopped (failure, interrupt, or *restart set: the broker
 * reconnected, or nothing moved for a minute with no writer busy, so batches may have
 * been lost and the pass must be redone from the target's checkpoints). */
static int run_data(load_t *ld, bool *restart, sl_err_t *err)
{
    sl_source_t *coord = NULL;
    *restart = false;
    atomic_store(&ld->run.restart, false);
    pthread_mutex_lock(&ld->run.mu);
    ld->next_stripe = 0;
    ld->inflight = 0;
    pthread_mutex_unlock(&ld->run.mu);
    /* taken first, so that a reconnect while the stream is recreated counts too */
    int reconnects = sl_bus_reconnects(ld->run.bus);
    sl_debug("data phase: recreating the broker stream");
    char tag[32];
    sl_place_tag(ld->epoch, tag, sizeof tag);
    sl_place_t *pl = NULL;
    sl_placement_t where = ld->spec->opt.placement;
    ld->remote = where != SL_PLACE_LOCAL;
    ld->queued = false;
    if (sl_bus_stream_reset_tagged(ld->run.bus, ld->spec->name, ld->lanes, tag, err) ||
        (ld->remote && sl_place_start(ld, &pl, err)))
        return -1;
    sl_debug("data phase: broker stream ready; opening readers");
    if (sl_source_open(ld->spec->source_url, &coord, err)) {
        sl_err_prefix(err, "source: ");
        sl_place_stop(pl);
        return -1;
    }
    sl_source_t **rd = NULL;
    int nrd = 0;
    if (open_readers(ld, coord, pl, &rd, &nrd, err)) {
        sl_err_prefix(err, "source: ");
        sl_source_close(coord);
        sl_place_stop(pl);
        return -1;
    }
    sl_lane_cfg_t lc = {.run = &ld->run,
                        .stream = ld->spec->name,
                        .target_url = ld->spec->target_url,
                        .fetch_ms = 500,
                        .ops = &sl_load_lane_ops,
                        .mode = ld};
    sl_lanes_t *lanes = where == SL_PLACE_WORKERS ? NULL : sl_lanes_start(&lc, ld->lanes);
    /* with placement workers and the stripes queued, the workers read: rd[0] only keeps
     * the snapshot they join */
    int nthreads = where == SL_PLACE_WORKERS && ld->queued ? 0 : nrd;
    pthread_t *rt = calloc((size_t)nrd, sizeof *rt);
    reader_arg_t *ra = calloc((size_t)nrd, sizeof *ra);
    for (int i = 0; i < nthreads; i++) {
        ra[i] = (reader_arg_t){.ld = ld, .src = rd[i], .id = i};
        pthread_create(&rt[i], NULL, sl_load_reader_main, &ra[i]);
    }
    sl_progress_t *pg = sl_progress_start(ld, ld->opts->progress_tty);
    int64_t last_moves = -1;
    time_t last_move_at = time(NULL);
    while (atomic_load(&ld->stripes_left) > 0 && !sl_run_stopping(&ld->run)) {
        pthread_mutex_lock(&ld->run.mu);
        sl_run_wait(&ld->run, 250);
        pthread_mutex_unlock(&ld->run.mu);
        sl_progress_tick(pg);
        if (pl)
            sl_place_tick(pl);
        int64_t moves = atomic_load(&ld->moves);
        if (moves != last_moves || atomic_load(&ld->busy) > 0) {
            last_moves = moves;
            last_move_at = time(NULL);
        }
        const char *why = NULL;
        if (sl_bus_reconnects(ld->run.bus) != reconnects)
            why = "the connection to the broker was re-established";
        else if (time(NULL) - last_move_at >= SL_LOAD_STALL_SECS)
            why = where == SL_PLACE_WORKERS ? "no worker applied a batch for a minute (does a `sluice worker` run "
                                              "on this NATS, with the servers' secret key?)"
                                            : "nothing moved for a minute";
        if (why) {
            sl_warn("%s: batches the broker had not stored may be lost; restarting the data phase "
                    "from the target's checkpoints (applied rows are kept, none is written twice)",
                    why);
            sl_run_restart(&ld->run, why);
            *restart = true;
        }
    }
    sl_debug("data phase: waiting for readers");
    for (int i = 0; i < nthreads; i++)
        pthread_join(rt[i], NULL);
    sl_debug("data phase: waiting for writers");
    sl_lanes_join(lanes);
    sl_place_stop(pl);
    sl_debug("data phase: all threads stopped");
    sl_progress_stop(pg);
    for (int i = 0; i < nrd; i++)
        sl_source_close(rd[i]);
    free(rd);
    free(rt);
    free(ra);
    return sl_run_failure(&ld->run, err);
}

/* Reads the stream's checkpoints (fresh connection: the target may have restarted) and
 * sets every stripe's state, the counts of stripes left, and the next epoch. */
static int load_states(load_t *ld, sl_err_t *err)
{
    sl_target_t *tgt = NULL;
    prior_t prior = {0};
    int rc = -1;
    if (sl_target_open(ld->spec->target_url, &tgt, err)) {
        sl_err_prefix(err, "target: ");
        return -1;
    }
    if (tgt->ops->ckpt_list(tgt, ld->spec->name, collect, &prior, err))
        goto out;
    if (ld->epoch <= (uint64_t)prior.max_epoch)
        ld->epoch = (uint64_t)prior.max_epoch + 1;
    else
        ld->epoch++;
    for (int s = 0; s < ld->plan.nstripes; s++) {
        free(ld->st[s].position);
        memset(&ld->st[s], 0, sizeof ld->st[s]);
    }
    for (int i = 0; i < prior.ncks; i++) {
        int s = prior.cks[i].stripe;
        if (s < 0 || s >= ld->plan.nstripes)
            continue;
        ld->st[s].done = prior.cks[i].ck.done;
        ld->st[s].seq = prior.cks[i].ck.seq;
        ld->st[s].position = prior.cks[i].ck.position;
        prior.cks[i].ck.position = NULL;
    }
    int left = 0;
    for (int t = 0; t < ld->plan.ntables; t++)
        atomic_store(&ld->ts[t].stripes_left, 0);
    for (int s = 0; s < ld->plan.nstripes; s++)
        if (!ld->st[s].done) {
            left++;
            atomic_fetch_add(&ld->ts[ld->plan.stripes[s].table].stripes_left, 1);
        }
    atomic_store(&ld->stripes_left, left);
    rc = 0;
out:
    prior_free(&prior);
    sl_target_close(tgt);
    return rc;
}

sl_load_result_t sl_load_run(const sl_spec_t *spec, sl_bus_t *bus, const sl_load_opts_t *opts,
                             sl_err_t *err)
{
    load_t ld = {.spec = spec, .opts = opts, .lanes = sl_spec_writers(spec)};
    sl_run_init(&ld.run, bus, opts->stop);
    sl_source_t *src = NULL;
    sl_target_t *admin = NULL;
    prior_t prior = {0};
    sl_load_result_t res = SL_LOAD_FAILED;
    time_t started = time(NULL);
    sl_stats_t *own_stats = NULL; /* the stats publisher, when this load owns it */

    int64_t payload = sl_bus_max_payload(bus);
    ld.batch_bytes = (size_t)spec->opt.batch_bytes;
    if (payload > 0 && (int64_t)ld.batch_bytes > payload - 128 * 1024)
        ld.batch_bytes = (size_t)(payload - 128 * 1024);
    ld.max_inflight = 2 * ld.lanes + 2;

    if (sl_source_open(spec->source_url, &src, err)) {
        sl_err_prefix(err, "source: ");
        goto out;
    }
    if (sl_target_open(spec->target_url, &admin, err)) {
        sl_err_prefix(err, "target: ");
        goto out;
    }
    /* Read-only until every check of a fresh load has passed: the checkpoint table is
     * created only then (fresh_plan), so a refused load leaves the target as it was. */
    /* --restart ignores the stream's checkpoints; they are deleted only once the fresh
     * load has passed its checks (fresh_plan), so a refused restart loses nothing. */
    if (!opts->restart && admin->ops->ckpt_list(admin, spec->name, collect, &prior, err))
        goto out;
    if (prior.complete || prior.plan) {
        bool more = false;
        if (extend_plan(&ld, &prior, src, admin, &more, err))
            goto out;
        if (prior.complete && !more) {
            sl_info("load \"%s\" already completed and the spec names no new table; nothing to do (use "
                    "--restart to load everything again)",
                    spec->name);
            res = SL_LOAD_ALREADY_DONE;
            goto out;
        }
        if (!prior.complete)
            sl_info("resuming load \"%s\" (%d tables, %d chunks)", spec->name, ld.plan.ntables, ld.plan.nstripes);
        if (spec->opt.on_error == SL_ON_ERROR_REJECT && admin->ops->rejects_setup &&
            admin->ops->rejects_setup(admin, spec->name, false, err)) {
            sl_err_prefix(err, "target: ");
            goto out;
        }
    } else if (fresh_plan(&ld, src, admin, err)) {
        goto out;
    }
    sl_source_close(src); /* the data phase opens its own connections */
    src = NULL;
    ld.st = calloc((size_t)ld.plan.nstripes + 1, sizeof *ld.st);
    ld.ts = calloc((size_t)ld.plan.ntables + 1, sizeof *ld.ts);
    if (!ld.st || !ld.ts)
        sl_oom();
    if (load_states(&ld, err))
        goto out;
    /* monitoring: the figures of the data phase, published every second (monitor/stats.h) */
    if (opts->stats) {
        ld.run.stats = opts->stats;
    } else {
        sl_err_t serr = {0};
        if (sl_stats_start(sl_bus_nats(bus), spec->name, 0, &own_stats, &serr) == 0)
            ld.run.stats = own_stats;
        else
            sl_warn("stats will not be published: %s", serr.message);
    }
    sl_stats_attach(ld.run.stats, sl_progress_collect, &ld);
    int resumed = ld.plan.nstripes - atomic_load(&ld.stripes_left);
    if (resumed && prior.plan)
        sl_info("%d of %d chunks were finished by an earlier run", resumed, ld.plan.nstripes);
    if (opts->schema_only)
        sl_info("initial_load is off: tables are created empty");
    for (int pass = 0; !opts->schema_only && atomic_load(&ld.stripes_left) > 0; pass++) {
        bool restart = false;
        if (run_data(&ld, &restart, err))
            goto out;
        if (!restart || sl_run_stop_asked(&ld.run))
            break;
        if (pass >= SL_LOAD_MAX_RESTARTS) {
            sl_err_set(err, SL_E_BROKER, "the data phase had to restart %d times", pass + 1);
            sl_err_hint(err, "check the broker's log (data dir nats/nats-server.log) and run again to resume");
            goto out;
        }
        if (load_states(&ld, err))
            goto out;
    }
    if (sl_run_stop_asked(&ld.run)) {
        sl_err_set(err, SL_E_CANCELED, "load interrupted");
        sl_err_hint(err, "run the same command again to resume where it stopped");
        res = SL_LOAD_INTERRUPTED;
        goto out;
    }
    sl_info("all rows written; adding indexes, constraints and foreign keys");
    if (finish_with_retry(&ld, &admin, err))
        goto out;
    sl_err_t ignored;
    sl_bus_stream_delete(bus, spec->name, &ignored);
    sl_progress_summary(&ld, difftime(time(NULL), started));
    res = SL_LOAD_DONE;
out:
    if (res == SL_LOAD_FAILED && sl_run_stop_asked(&ld.run) && err->code == SL_E_CANCELED)
        res = SL_LOAD_INTERRUPTED;
    sl_stats_detach(ld.run.stats); /* keeps the final figures; ld.ts goes away below */
    if (own_stats) {
        if (res == SL_LOAD_FAILED)
            sl_stats_error(own_stats);
        if (res == SL_LOAD_DONE)
            sl_stats_phase(own_stats, "done");
        sl_stats_stop(own_stats); /* publishes the final snapshot */
    }
    sl_source_close(src);
    sl_target_close(admin);
    prior_free(&prior);
    if (ld.st)
        for (int s = 0; s < ld.plan.nstripes; s++)
            free(ld.st[s].position);
    free(ld.st);
    free(ld.ts);
    sl_plan_free(&ld.plan);
    sl_run_destroy(&ld.run);
    return res;
}
