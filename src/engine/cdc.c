/*
 * cdc.c: the orchestrator of a `cdc` stream (see cdc.h), for any change source
 * (source/cdc.h).
 *
 * First run: the source's prepare() checks what the stream needs (settings,
 * privileges, replica identity) before anything is created, then creates what it must
 * (PostgreSQL: the publication and the slot) and says where the stream starts. The
 * target tables are created, and what the stream owns on the source (checkpoint
 * "cdc_source"), its start position ("cdc_start"), the copy generation of each table
 * ("cdc_copy") and the tables' descriptions ("cdc_tables", which marks the hand-over)
 * are stored in the target. The tables are then copied beside the change stream
 * (engine/cdc_copy.h), in chunks whose progress the lanes commit with their
 * checkpoints: a run killed during the copy goes on from the chunks the target holds.
 *
 * Later runs: the stored descriptions and state, and the source's start(): PostgreSQL
 * streams from the slot's confirmed position, MariaDB from the lane checkpoints. What
 * the stream needs gone (a missing slot, lost WAL, a purged binlog, a slot that another
 * stream moved past the checkpoints) is an error with a hint, never a silent re-copy
 * or skip. A stream handed over by an earlier sluice has no "cdc_source": the source
 * then uses the names that version gave (sl_cdc_id_t legacy). A spec whose list of
 * tables changed adds and removes tables (engine/cdc_tables.c).
 *
 * Sessions: the change stream runs in sessions. Each starts the broker stream afresh,
 * reads the lanes' checkpoints (with the state of copies in progress), asks the source
 * where to start, starts the writers and streams. A retriable failure (the source or
 * the broker went away, a lost batch) ends the session; the next one starts again from
 * the confirmed position after a backoff, and the writers skip what their checkpoints
 * say they applied. A change of the table set asked while the stream runs ends the
 * session too, and is applied before the next one.
 */
#include "engine/cdc.h"

#include <inttypes.h>
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "engine/cdc_copy_int.h"
#include "engine/cdc_ctl.h"
#include "engine/cdc_tables.h"
#include "monitor/stats.h"
#include "source/source.h"

int64_t sl_cdc_now_ms(void)
{
    return sl_mono_ms();
}

void sl_cdc_lane_key(int lane, char *buf, int size) { snprintf(buf, (size_t)size, "cdc:%d", lane); }

char *sl_cdc_pos_json(sl_pos_t pos, uint64_t flush)
{
    char l[32], f[32], *out = malloc(128);
    if (!out)
        sl_oom();
    sl_lsn_format(pos.lsn, l, sizeof l);
    sl_lsn_format(flush, f, sizeof f);
    snprintf(out, 128, "{\"lsn\":\"%s\",\"idx\":%u,\"flush\":\"%s\"}", l, pos.idx, f);
    return out;
}

int sl_cdc_pos_parse(const char *text, sl_pos_t *pos, uint64_t *flush)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    const char *l = json_string_value(json_object_get(j, "lsn"));
    const char *f = json_string_value(json_object_get(j, "flush"));
    json_t *idx = json_object_get(j, "idx");
    int rc = -1;
    if (l && f && json_is_integer(idx) && json_integer_value(idx) >= 0 &&
        json_integer_value(idx) <= UINT32_MAX && sl_lsn_parse(l, &pos->lsn) == 0 &&
        sl_lsn_parse(f, flush) == 0) {
        pos->idx = (uint32_t)json_integer_value(idx);
        rc = 0;
    }
    json_decref(j);
    return rc;
}

const char *sl_cdc_pos_text(sl_cdc_run_t *cd, uint64_t pos, char *buf, size_t size)
{
    if (cd->conn)
        cd->conn->ops->pos_format(cd->conn, pos, buf, size);
    else
        sl_lsn_format(pos, buf, size);
    return buf;
}

void sl_cdc_set_confirmed(sl_cdc_run_t *cd, uint64_t pos)
{
    char text[sizeof cd->confirmed_text];
    sl_cdc_pos_text(cd, pos, text, sizeof text);
    atomic_store(&cd->confirmed, pos);
    pthread_mutex_lock(&cd->run.mu);
    memcpy(cd->confirmed_text, text, sizeof text);
    pthread_mutex_unlock(&cd->run.mu);
}

int sl_cdc_admin(sl_cdc_run_t *cd, sl_err_t *err)
{
    if (cd->admin)
        return 0;
    if (sl_target_open(cd->spec->target_url, &cd->admin, err)) {
        sl_err_prefix(err, "target: ");
        return -1;
    }
    return 0;
}

void sl_cdc_admin_lost(sl_cdc_run_t *cd)
{
    sl_target_close(cd->admin);
    cd->admin = NULL;
}

static int put_ckpt(sl_cdc_run_t *cd, sl_target_t *tgt, const char *key, const char *text, sl_err_t *err)
{
    sl_ckpt_t ck = {.epoch = 0, .seq = 0, .position = (char *)text, .done = true};
    if (tgt->ops->ckpt_put(tgt, cd->spec->name, key, &ck, err)) {
        sl_err_prefix(err, "target: ");
        return -1;
    }
    return 0;
}

/* The hand-over, but for the tables: what the stream owns on the source ("cdc_source")
 * and the position the change stream starts from ("cdc_start", packed). */
static int store_handover(sl_cdc_run_t *cd, sl_cdc_t *c, sl_target_t *tgt, sl_err_t *err)
{
    char lsn[32], *state = c->ops->state(c);
    sl_lsn_format(cd->handover, lsn, sizeof lsn);
    int rc = put_ckpt(cd, tgt, "cdc_source", state, err) || put_ckpt(cd, tgt, "cdc_start", lsn, err) ? -1 : 0;
    free(state);
    return rc;
}

/* ---- what the target remembers --------------------------------------------------- */

typedef struct prior {
    const struct sl_cdc_ops *ops;
    const char *stream;
    char *tables;   /* "cdc_tables" */
    char *state;    /* "cdc_source" */
    uint64_t start; /* "cdc_start" */
    uint64_t highest; /* the highest flush of the lane checkpoints */
    bool plan;      /* a load was started (an earlier sluice's first run) */
    bool complete;
    bool restarted; /* --restart forgot the earlier run's objects */
    json_t *gens;   /* "cdc_copy" */
    json_t *resync; /* "cdc_resync": resyncs asked while no process ran the stream */
    json_t *drop;   /* "cdc_drop": tables to drop on the target when they leave */
} prior_t;

/* The highest flush of lane checkpoint `key` ("cdc:<n>", any n) into *highest. */
static void lane_highest(const char *key, const sl_ckpt_t *ck, uint64_t *highest)
{
    int lane;
    char tail;
    sl_pos_t pos;
    uint64_t flush;
    if (sscanf(key, "cdc:%d%c", &lane, &tail) == 1 && ck->position &&
        !sl_cdc_pos_parse(ck->position, &pos, &flush) && flush > *highest)
        *highest = flush;
}

static int collect(void *ctx, const char *key, const sl_ckpt_t *ck, sl_err_t *err)
{
    prior_t *p = ctx;
    if (strcmp(key, "cdc_tables") == 0) {
        free(p->tables);
        p->tables = sl_strdup(ck->position ? ck->position : "");
    } else if (strcmp(key, "cdc_source") == 0) {
        free(p->state);
        p->state = sl_strdup(ck->position ? ck->position : "");
    } else if (strcmp(key, "cdc_start") == 0) {
        if (!ck->position || !p->ops || p->ops->pos_parse(ck->position, &p->start))
            p->start = 0;
    } else if (strcmp(key, "plan") == 0) {
        p->plan = true;
    } else if (strcmp(key, "complete") == 0) {
        p->complete = ck->done;
    } else if (strcmp(key, "cdc_copy") == 0 || strcmp(key, "cdc_resync") == 0 || strcmp(key, "cdc_drop") == 0) {
        json_t **j = key[4] == 'c' ? &p->gens : key[4] == 'r' ? &p->resync : &p->drop;
        json_decref(*j);
        *j = ck->position ? json_loads(ck->position, 0, NULL) : NULL;
        if (key[4] == 'd' ? !json_is_array(*j) : !json_is_object(*j))
            return sl_err_set(err, SL_E_PROTOCOL, "checkpoint \"%s\" of stream \"%s\" is not valid", key,
                              p->stream);
    } else {
        lane_highest(key, ck, &p->highest);
    }
    return 0;
}

/* Who the stream is to its source, from what its target remembers. */
static sl_cdc_id_t prior_id(const sl_spec_t *spec, const prior_t *p)
{
    return (sl_cdc_id_t){.stream = spec->name,
                         .state = p->state,
                         .legacy = p->tables && !p->state,
                         .cut_short = !p->tables && p->plan && !p->restarted};
}

/* Where the checkpoints of a handed-over stream stand (forget() needs only highest). */
static sl_cdc_mark_t prior_mark(const prior_t *p)
{
    uint64_t h = p->highest > p->start ? p->highest : p->start;
    return (sl_cdc_mark_t){.lowest = p->start, .highest = h};
}

static void prior_free(prior_t *p)
{
    free(p->tables);
    free(p->state);
    json_decref(p->gens);
    json_decref(p->resync);
    json_decref(p->drop);
    p->tables = p->state = NULL;
    p->gens = p->resync = p->drop = NULL;
}

/* The ops of the stream's source (NULL: not a change source; opening it says why). */
static const struct sl_cdc_ops *source_ops(const sl_spec_t *spec)
{
    sl_url_t *u = NULL;
    sl_err_t ignore;
    if (sl_url_parse(spec->source_url, &u, &ignore))
        return NULL;
    const struct sl_cdc_ops *ops = sl_cdc_lookup(u->scheme);
    sl_url_free(u);
    return ops;
}

typedef struct lanes_ctx {
    sl_cdc_run_t *cd;
    uint64_t highest; /* over every lane checkpoint, also of lanes this run does not have */
    json_t **copy;    /* [lanes]: the "copy" object of each lane's checkpoint */
    json_t *resync;   /* "cdc_resync" */
} lanes_ctx_t;

static int collect_lanes(void *ctx, const char *key, const sl_ckpt_t *ck, sl_err_t *err)
{
    lanes_ctx_t *lc = ctx;
    sl_cdc_run_t *cd = lc->cd;
    int lane;
    char tail;
    lane_highest(key, ck, &lc->highest);
    if (!strcmp(key, "cdc_resync") && ck->position) {
        json_decref(lc->resync);
        lc->resync = json_loads(ck->position, 0, NULL);
        return 0;
    }
    if (sscanf(key, "cdc:%d%c", &lane, &tail) != 1 || lane < 0 || lane >= cd->lanes || !ck->position)
        return 0;
    if (strstr(ck->position, "\"copy\"")) {
        json_t *j = json_loads(ck->position, 0, NULL);
        json_decref(lc->copy[lane]);
        lc->copy[lane] = json_incref(json_object_get(j, "copy"));
        json_decref(j);
    }
    sl_pos_t pos;
    uint64_t flush;
    if (sl_cdc_pos_parse(ck->position, &pos, &flush))
        return sl_err_set(err, SL_E_PROTOCOL, "checkpoint \"%s\" of stream \"%s\" is not a change position",
                          key, cd->spec->name);
    cd->lane[lane].committed = pos;
    cd->lane[lane].ck_found = true;
    cd->lane[lane].ck_flush = flush;
    return 0;
}

/* ---- the first run --------------------------------------------------------------- */

/* Checks and what the source needs (prepare), the target tables, the hand-over. On
 * success *conn is the source connection (the stream continues on it), cd->tables the
 * tables and cd->handover the position the change stream starts from. */
static int first_run(sl_cdc_run_t *cd, const prior_t *prior, sl_cdc_t **conn, sl_err_t *err)
{
    const sl_spec_t *spec = cd->spec;
    sl_table_t **tables = NULL;
    sl_map_t **maps = NULL;
    int n = 0, rc = -1;
    sl_cdc_t *c = NULL;
    sl_cdc_prep_t prep = {0};
    sl_cdc_id_t id = prior_id(spec, prior);
    bool all = sl_spec_all_tables(spec);
    if (sl_cdc_tables_describe(spec, all ? NULL : (const char *const *)spec->tables, all ? 0 : spec->ntables, &tables,
                               &n, err))
        goto out;
    if (n == 0) {
        sl_err_set(err, SL_E_NOT_FOUND, "the source database has no tables");
        sl_err_hint(err, "check the database (and schema) in the source URL");
        goto out;
    }
    if (sl_cdc_tables_map(cd, tables, NULL, n, &maps, err) || sl_cdc_open(spec->source_url, &id, &c, err) ||
        c->ops->prepare(c, tables, n, &prep, err) || sl_cdc_admin(cd, err) ||
        cd->admin->ops->ckpt_setup(cd->admin, err))
        goto out;
    /* a first run that an earlier run began may have filled the tables: they are ours */
    bool ours = prior->plan || prior->state || cd->opts->restart;
    if (prior->plan)
        sl_warn("the initial load of \"%s\" was cut short before the change stream took over; it starts over",
                spec->name);
    for (int i = 0; i < n; i++)
        if (sl_cdc_tables_target(spec, cd->admin, maps[i], ours, err))
            goto out;
    /* what an earlier run began and did not hand over is replaced, its rejects too */
    if (cd->admin->ops->ckpt_delete(cd->admin, spec->name, err))
        goto out;
    if (spec->opt.on_error == SL_ON_ERROR_REJECT && cd->admin->ops->rejects_setup &&
        cd->admin->ops->rejects_setup(cd->admin, spec->name, true, err)) {
        sl_err_prefix(err, "target: ");
        goto out;
    }
    json_decref(cd->gens);
    cd->gens = json_object();
    for (int i = 0; spec->opt.initial_load && i < n; i++)
        sl_cdc_gen_set(cd->gens, maps[i]->label, &(sl_cdc_gen_t){.gen = 1});
    sl_cdc_set_maps(cd, maps, n);
    maps = NULL;
    cd->handover = prep.start;
    if (store_handover(cd, c, cd->admin, err) || sl_cdc_copy_store_gens(cd, err) ||
        sl_cdc_store_tables(cd, cd->admin, err))
        goto out;
    if (spec->opt.initial_load)
        sl_info("%d table%s to copy beside the change stream", n, n == 1 ? "" : "s");
    else
        sl_info("initial_load is off: the tables are not copied, changes stream from now on");
    *conn = c;
    c = NULL;
    rc = 0;
out:
    for (int i = 0; maps && i < n; i++)
        sl_map_free(maps[i]);
    free(maps);
    sl_cdc_tables_free(tables, n);
    sl_cdc_close(c);
    return rc;
}

/* ---- sessions -------------------------------------------------------------------- */

static int stream_session(sl_cdc_run_t *cd, sl_cdc_t *c, sl_err_t *err);

/* One session of the change stream on connection c. Returns 0 when stopped on request,
 * -1 with err on failure (err->retriable: start another session). */
static int session(sl_cdc_run_t *cd, sl_cdc_t *c, sl_err_t *err)
{
    atomic_store(&cd->run.restart, false);
    atomic_store(&cd->session_over, false);
    cd->streams_xacts = false; /* until the handler says (sl_cdc_reader_handler) */
    cd->epoch++;
    if (sl_bus_stream_reset(cd->run.bus, cd->spec->name, cd->lanes, err))
        return -1;
    /* where the lanes stand */
    for (int i = 0; i < cd->lanes; i++) {
        cd->lane[i].committed = (sl_pos_t){0, 0};
        cd->lane[i].ck_found = false;
    }
    sl_target_t *tgt = NULL;
    if (sl_target_open(cd->spec->target_url, &tgt, err)) {
        sl_err_prefix(err, "target: ");
        return -1;
    }
    lanes_ctx_t lc = {.cd = cd, .copy = calloc((size_t)cd->lanes, sizeof *lc.copy)};
    if (!lc.copy)
        sl_oom();
    int rc = tgt->ops->ckpt_list(tgt, cd->spec->name, collect_lanes, &lc, err);
    sl_target_close(tgt);
    /* the copies in progress, as the lanes committed them; resyncs asked meanwhile */
    if (rc == 0)
        rc = sl_cdc_copy_session(cd, lc.copy, err);
    if (rc == 0 && lc.resync)
        rc = sl_cdc_tables_resyncs(cd, lc.resync, err);
    for (int i = 0; i < cd->lanes; i++)
        json_decref(lc.copy[i]);
    free(lc.copy);
    json_decref(lc.resync);
    if (rc)
        return -1;
    atomic_store(&cd->target_down_ms, 0); /* it answered just now */
    /* the lowest position a lane may confirm (its checkpoint's flush), or the hand-over
     * position for a lane without a checkpoint yet; and the highest */
    sl_cdc_mark_t mark = {.lowest = UINT64_MAX, .highest = lc.highest > cd->handover ? lc.highest : cd->handover};
    for (int i = 0; i < cd->lanes; i++) {
        uint64_t f = cd->lane[i].ck_found && cd->lane[i].ck_flush ? cd->lane[i].ck_flush : cd->handover;
        if (f < mark.lowest)
            mark.lowest = f;
    }
    uint64_t start = 0;
    cd->conn = c;
    if (c->ops->start(c, &mark, &start, err))
        return -1;
    cd->start = (sl_pos_t){start, 0};
    char at[96];
    if (cd->epoch == 1)
        sl_info("streaming changes from %s", sl_cdc_pos_text(cd, start, at, sizeof at));
    return stream_session(cd, c, err);
}

/* The part of a session after its start position is known. */
static int stream_session(sl_cdc_run_t *cd, sl_cdc_t *c, sl_err_t *err)
{
    int rc;
    sl_cdc_set_confirmed(cd, cd->start.lsn);
    sl_cdc_reader_reset(cd);
    sl_lane_cfg_t lc = {.run = &cd->run,
                        .stream = cd->spec->name,
                        .target_url = cd->spec->target_url,
                        .fetch_ms = 200,
                        .ops = &sl_cdc_lane_ops,
                        .mode = cd};
    sl_lanes_t *lanes = sl_lanes_start(&lc, cd->lanes);
    char at[96];
    sl_debug("cdc session %" PRIu64 ": streaming from %s with %d lane%s", cd->epoch,
             sl_cdc_pos_text(cd, cd->start.lsn, at, sizeof at), cd->lanes, cd->lanes == 1 ? "" : "s");
    sl_cdc_handler_t h;
    sl_cdc_reader_handler(cd, &h);
    rc = c->ops->stream(c, cd->start.lsn, cd->tables, cd->ntables, &h, err);
    if (rc && !err->retriable && !atomic_load(&cd->run.failed) && !atomic_load(&cd->run.restart)) {
        /* the stream stops on something it cannot pass (an unsupported schema change):
         * the changes read before it are still applied, so a fix-and-rerun loses nothing */
        sl_err_t keep = *err;
        if (!sl_cdc_drain(cd))
            sl_warn("could not apply every change read before the stream stopped; the next run reads them "
                    "again");
        *err = keep;
    }
    atomic_store(&cd->session_over, true);
    sl_run_wake(&cd->run);
    sl_lanes_join(lanes);
    if (sl_run_failure(&cd->run, err))
        return -1;
    if (rc == 0 && atomic_load(&cd->run.restart)) {
        const char *why = atomic_load(&cd->run.restart_why);
        sl_err_set(err, SL_E_BROKER, "%s", why ? why : "the session had to restart");
        err->retriable = true;
        return -1;
    }
    if (rc && err->code == SL_E_CANCELED && !sl_run_stop_asked(&cd->run)) {
        err->retriable = true; /* a session ended from inside: start the next one */
    }
    return rc;
}

/* ---- monitoring ------------------------------------------------------------------ */

/* The stats publisher's thread (monitor/stats.h): the change stream's figures. */
static void collect_stats(void *arg, sl_snap_t *snap)
{
    sl_cdc_run_t *cd = arg;
    for (int i = 0; i < cd->ntstats; i++) {
        sl_snap_table_t *t = sl_snap_append(snap, cd->tnames[i]);
        t->rows_read = atomic_load(&cd->tstats[i].rows_read);
        t->rows_written = atomic_load(&cd->tstats[i].rows_written);
        t->bytes_read = atomic_load(&cd->tstats[i].bytes_read);
        t->bytes_written = atomic_load(&cd->tstats[i].bytes_written);
        t->rows_rejected = atomic_load(&cd->tstats[i].rows_rejected);
        t->rows_copied = atomic_load(&cd->tstats[i].rows_copied);
        t->est_rows = cd->tstats[i].est_rows;
        snprintf(t->state, sizeof t->state, "%s",
                 sl_cdc_tstate_name(sl_cdc_copy_state(cd, i, &t->copied, t->error, sizeof t->error)));
    }
    for (int i = 0; cd->removed && cd->removed[i]; i++) {
        sl_snap_table_t *r = sl_snap_append(snap, cd->removed[i]);
        snprintf(r->state, sizeof r->state, "%s", sl_cdc_tstate_name(SL_CDC_T_REMOVED));
    }
    sl_run_snap(&cd->run, snap);
    snap->lag_seconds = (double)atomic_load(&cd->lag_us) / 1e6;
    uint64_t end = atomic_load(&cd->server_end), conf = atomic_load(&cd->confirmed);
    if (cd->ops && cd->ops->byte_positions) /* binlog positions are no byte offsets */
        snap->slot_bytes = end > conf ? (int64_t)(end - conf) : 0;
    char pos[sizeof cd->confirmed_text];
    pthread_mutex_lock(&cd->run.mu);
    memcpy(pos, cd->confirmed_text, sizeof pos);
    pthread_mutex_unlock(&cd->run.mu);
    if (conf && pos[0])
        sl_snap_set(&snap->position, pos);
}

static void stats_free(sl_cdc_run_t *cd)
{
    for (int i = 0; i < cd->ntstats; i++)
        free(cd->tnames[i]);
    free(cd->tnames);
    free(cd->tstats);
    cd->tnames = NULL;
    cd->tstats = NULL;
    cd->ntstats = 0;
}

/* Once the tables are known (and again when they change between sessions: the figures
 * so far stay in the publisher's base): per-table counters, the change stream's phase. */
static void stats_cdc_phase(sl_cdc_run_t *cd)
{
    sl_stats_detach(cd->run.stats);
    stats_free(cd);
    cd->tnames = calloc((size_t)cd->ntables + 1, sizeof *cd->tnames);
    cd->tstats = calloc((size_t)cd->ntables + 1, sizeof *cd->tstats);
    if (!cd->tnames || !cd->tstats)
        sl_oom();
    for (int i = 0; i < cd->ntables; i++) {
        cd->tnames[i] = sl_strdup(cd->maps[i]->label);
        cd->tstats[i].est_rows = cd->tables[i]->est_rows;
    }
    cd->ntstats = cd->ntables;
    sl_stats_phase(cd->run.stats, "cdc");
    sl_stats_attach(cd->run.stats, collect_stats, cd);
    sl_stats_publish_now(cd->run.stats);
}

/* Between two sessions: the table set change a request asked for (cdc_tables.c),
 * answered once it is recorded. */
static int retable(sl_cdc_run_t *cd, sl_cdc_t *c, sl_err_t *err)
{
    json_t *req = cd->retable, *answer = NULL;
    cd->retable = NULL;
    sl_err_t e = {0};
    int rc = sl_cdc_tables_change(cd, c, req, &answer, &e);
    stats_cdc_phase(cd);
    if (rc && e.retriable && !e.fatal) {
        /* e.g. the source has not ended the last session's binlog connection yet: the
         * change is tried again after the back-off, and answered then */
        cd->retable = req;
        *err = e;
        return -1;
    }
    sl_cdc_ctl_reply(cd, req, rc ? sl_cdc_ctl_error(&e) : answer);
    json_decref(req);
    if (rc && e.retriable) {
        *err = e;
        return -1;
    }
    return 0; /* a refused change leaves the stream as it was */
}

/* Batches of a few MB are built, sent and received over and over (nats.c copies each
 * message it receives into a fresh allocation). glibc would map each one anew, or give
 * the heap's top back to the system after it, and then fault every page in again: a
 * fifth of sluice's CPU time at 1 M changes. Keeping freed memory in the heap up to a
 * bound avoids that; the peak stays what the in-flight batches need. */
static void keep_heap(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
}

sl_cdc_result_t sl_cdc_run(const sl_spec_t *spec, sl_bus_t *bus, const sl_load_opts_t *opts, sl_err_t *err)
{
    keep_heap();
    sl_cdc_run_t cd = {.spec = spec, .opts = opts};
    sl_run_init(&cd.run, bus, opts->stop);
    cd.lanes = spec->opt.ordering == SL_ORDER_KEY ? sl_spec_writers(spec) : 1;
    pthread_rwlock_init(&cd.schema, NULL);
    cd.ops = source_ops(spec);
    int64_t payload = sl_bus_max_payload(bus);
    cd.batch_bytes = (size_t)spec->opt.batch_bytes;
    if (payload > 0 && (int64_t)cd.batch_bytes > payload - 128 * 1024)
        cd.batch_bytes = (size_t)(payload - 128 * 1024);
    cd.batch_rows = spec->opt.batch_rows;
    cd.lane = calloc((size_t)cd.lanes, sizeof *cd.lane);
    for (int i = 0; i < cd.lanes; i++)
        sl_cbatch_builder_init(&cd.lane[i].bb, (uint32_t)cd.batch_rows, cd.batch_bytes);
    sl_cdc_result_t res = SL_CDC_FAILED;
    sl_target_t *adm = NULL;
    sl_cdc_t *c = NULL;
    prior_t prior = {.ops = cd.ops, .stream = spec->name};
    sl_cdc_id_t id;

    if (sl_target_open(spec->target_url, &adm, err)) {
        sl_err_prefix(err, "target: ");
        goto out;
    }
    if (adm->ops->ckpt_list(adm, spec->name, collect, &prior, err))
        goto out;
    if (opts->restart) {
        sl_info("--restart: stream \"%s\" forgets what it has on the source and copies again", spec->name);
        id = prior_id(spec, &prior);
        sl_cdc_mark_t mark = prior_mark(&prior);
        if (sl_cdc_open(spec->source_url, &id, &c, err) || c->ops->forget(c, prior.tables ? &mark : NULL, err))
            goto out;
        sl_cdc_close(c);
        c = NULL;
        prior_free(&prior);
        prior = (prior_t){.ops = cd.ops, .stream = spec->name, .plan = true, .restarted = true}; /* may hold rows */
    }
    sl_err_t serr = {0};
    if (sl_stats_start(sl_bus_nats(bus), spec->name, 0, &cd.run.stats, &serr))
        sl_warn("stats will not be published: %s", serr.message);
    cd.gens = prior.gens ? json_incref(prior.gens) : json_object();
    if (prior.tables) {
        cd.handover = prior.start;
        if (sl_cdc_tables_from_json(&cd, prior.tables, err))
            goto out;
        sl_info("resuming change stream \"%s\" (%d table%s)", spec->name, cd.ntables, cd.ntables == 1 ? "" : "s");
        id = prior_id(spec, &prior);
        /* the spec may name other tables than the last run had */
        if (sl_cdc_open(spec->source_url, &id, &c, err) || sl_cdc_tables_reconcile(&cd, c, prior.drop, err))
            goto out;
    } else if (first_run(&cd, &prior, &c, err)) {
        goto out;
    } else {
        free(prior.state);
        prior.state = c->ops->state(c); /* what the next connections open with */
    }
    id = prior_id(spec, &prior);
    if (spec->opt.on_error == SL_ON_ERROR_REJECT && adm->ops->rejects_setup &&
        adm->ops->rejects_setup(adm, spec->name, false, err)) {
        sl_err_prefix(err, "target: ");
        goto out;
    }
    stats_cdc_phase(&cd);
    sl_target_close(adm);
    adm = NULL;
    if (sl_cdc_ctl_start(&cd, &serr))
        sl_warn("stream \"%s\" takes no requests while it runs (tables stay as they are until it restarts): %s",
                spec->name, serr.message);
    for (int attempt = 0;;) {
        int64_t began = sl_cdc_now_ms();
        if (!c && sl_cdc_open(spec->source_url, &id, &c, err)) {
            if (!err->retriable)
                goto out;
        } else if (cd.retable) {
            if (retable(&cd, c, err) == 0)
                continue;
            if (!err->retriable || err->fatal)
                goto out;
            /* a retriable failure: the back-off below, then the change again */
        } else if (session(&cd, c, err) == 0) {
            break;
        } else if (cd.retable) {
            atomic_store(&cd.run.restart_why, NULL);
            atomic_store(&cd.run.failed, false);
            continue; /* the next session has the new tables */
        } else if (!err->retriable || err->fatal) {
            goto out;
        }
        if (sl_cdc_now_ms() - began > 60000)
            attempt = 0; /* a session that ran a while: back off from the start again */
        atomic_store(&cd.run.restart_why, NULL);
        if (sl_run_stop_asked(&cd.run))
            break;
        atomic_store(&cd.run.failed, false);
        cd.conn = NULL;
        sl_cdc_close(c);
        c = NULL;
        int wait = 500 << (attempt < 5 ? attempt : 5);
        sl_warn("change stream interrupted (%s); starting again from the confirmed position in %d ms", err->message,
                wait);
        attempt++;
        sl_run_sleep(&cd.run, wait);
        if (sl_run_stop_asked(&cd.run))
            break;
    }
    sl_info("change stream \"%s\" stopped; %" PRId64 " changes applied in this run, confirmed position %s",
            spec->name, atomic_load(&cd.changes_applied), cd.confirmed_text[0] ? cd.confirmed_text : "none");
    res = SL_CDC_STOPPED;
out:
    sl_cdc_ctl_stop(&cd);
    sl_stats_detach(cd.run.stats);
    if (res == SL_CDC_FAILED)
        sl_stats_error(cd.run.stats);
    sl_stats_stop(cd.run.stats); /* the final snapshot */
    stats_free(&cd);
    sl_cdc_copy_free(&cd);
    json_decref(cd.gens);
    json_decref(cd.retable);
    for (int i = 0; cd.removed && cd.removed[i]; i++)
        free((char *)cd.removed[i]);
    free((void *)cd.removed);
    prior_free(&prior);
    cd.conn = NULL;
    sl_cdc_close(c);
    sl_target_close(adm);
    sl_target_close(cd.admin);
    for (int i = 0; i < cd.lanes; i++) {
        sl_cbatch_builder_free(&cd.lane[i].bb);
        free(cd.lane[i].q);
    }
    sl_cdc_txn_free(&cd);
    free(cd.lane);
    free(cd.xq);
    free(cd.mapx);
    sl_cdc_free_maps(&cd);
    pthread_rwlock_destroy(&cd.schema);
    sl_run_destroy(&cd.run);
    return res;
}

int sl_cdc_cleanup(const sl_spec_t *spec, sl_err_t *err)
{
    sl_cdc_t *c = NULL;
    sl_target_t *tgt = NULL;
    prior_t prior = {.ops = source_ops(spec), .stream = spec->name};
    sl_err_t terr = {0};
    int rc = -1;
    /* what the target remembers tells which objects on the source are the stream's;
     * without it (the target is gone), only what carries the stream's own name */
    bool known = sl_target_open(spec->target_url, &tgt, &terr) == 0 &&
                 tgt->ops->ckpt_list(tgt, spec->name, collect, &prior, &terr) == 0;
    if (!known)
        sl_warn("could not read the checkpoints of stream \"%s\" on the target: %s", spec->name, terr.message);
    sl_cdc_id_t id = prior_id(spec, &prior);
    sl_cdc_mark_t mark = prior_mark(&prior);
    if (sl_cdc_open(spec->source_url, &id, &c, err) || c->ops->forget(c, prior.tables ? &mark : NULL, err)) {
        sl_err_prefix(err, "source: ");
        goto out;
    }
    if (!known || tgt->ops->ckpt_delete(tgt, spec->name, &terr)) {
        *err = terr;
        sl_err_prefix(err, "target: ");
        goto out;
    }
    sl_info("deleted the checkpoints of stream \"%s\" on the target", spec->name);
    rc = 0;
out:
    prior_free(&prior);
    sl_cdc_close(c);
    sl_target_close(tgt);
    return rc;
}
