/*
 * place.c: a load's writer lanes on workers (options.placement, docs/cluster.md
 * "Workers"), both sides.
 *
 * The owner (the stream's own process, which plans and reads) queues one job per lane
 * on the workers' queue (broker/bus.h SLUICE_JOBS, engine/job.h) at the start of each
 * pass of its data phase, tags the pass's broker stream with the pass ("e<epoch>") and
 * then knows the lanes only through what they leave behind: the stripes done from the
 * target's checkpoints (polled each second, the truth the load completes on), the
 * in-flight window from the broker stream's pending messages, and the figures from the
 * workers' reports (core NATS, for monitoring only). With "any" its own lanes serve the
 * same durable consumers as the workers' (one unacknowledged batch per lane at a time,
 * whoever fetched it); with "workers" it runs none.
 *
 * A worker (sl_place_run) runs lane k of a job alone: it reads the plan from the
 * target, serves the lane's consumer with the load's lane mode (writer.c), writes its
 * checkpoints under the job's fence, reports every second and ends when the job's pass
 * is over (the broker stream is gone or tagged with another pass). A worker that dies
 * leaves its batch unacknowledged: the broker gives it to whoever serves the lane next,
 * and the checkpoint, committed with the rows or not at all, says whether it was
 * applied.
 *
 * Read stripes go to workers only where the source's snapshot can be joined from another
 * process (sl_place_can_read): the owner then queues every stripe not done on the stripe
 * queue with where it resumes, and read jobs that carry its exported snapshot; its own
 * readers (with "any") and the workers' take stripes from that queue (reader.c), and a
 * worker's reader waits for room by the broker stream's pending messages. The owner keeps
 * the exporting connection open for the pass. MariaDB/MySQL sources keep their readers
 * with the owner (their snapshot is one process's).
 *
 * Threads: start, tick and stop run on run_data's thread; the report listener on nats.c's
 * delivery thread (atomics only); sl_place_run_lane on a worker's job thread.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "engine/job.h"
#include "engine/load_int.h"
#include "engine/place.h"

#define POLL_MS 1000
#define REPORT_MS 1000
#define PASS_CHECK_MS 2000

void sl_place_tag(uint64_t epoch, char *buf, size_t size) { snprintf(buf, size, "e%" PRIu64, epoch); }

static void report_subject(const char *stream, char *buf, size_t size)
{
    snprintf(buf, size, "sluice.load.%s.report", stream);
}

/* ---- the owner ----------------------------------------------------------------------- */

struct sl_place {
    load_t *ld;
    sl_target_t *tgt;    /* polls the checkpoints */
    sl_bus_listener_t *reports;
    int64_t polled_ms;
    int64_t seq_sum;     /* batches applied over all stripes, as last polled */
};

/* nats.c's delivery thread: a worker's figures. */
static void on_report(void *ctx, const char *subject, const void *data, size_t len)
{
    (void)subject;
    load_t *ld = ctx;
    sl_job_report_t r;
    sl_err_t err = {0};
    if (sl_job_report_decode(data, len, &r, &err))
        return;
    if (r.epoch == ld->epoch) {
        for (int i = 0; i < r.ntables && i < ld->plan.ntables; i++) {
            atomic_fetch_add(&ld->ts[i].rows_written, r.rows[i]);
            atomic_fetch_add(&ld->ts[i].bytes_written, r.bytes[i]);
            atomic_fetch_add(&ld->ts[i].rows_read, r.read[i]);
            atomic_fetch_add(&ld->ts[i].bytes_read, r.read_bytes[i]);
        }
        atomic_fetch_add(&ld->run.batches, r.batches);
        atomic_fetch_add(&ld->run.duplicates, r.duplicates);
        atomic_fetch_add(&ld->run.retries, r.retries);
        if (r.batches || r.duplicates || r.ntables)
            atomic_fetch_add(&ld->moves, 1);
    }
    sl_job_report_free(&r);
}

int sl_place_start(load_t *ld, sl_place_t **out, sl_err_t *err)
{
    const char *name = ld->spec->name;
    if (!ld->opts->job_key) {
        sl_err_set(err, SL_E_CONFIG, "options.placement \"%s\" needs the cluster's secret key",
                   ld->spec->opt.placement == SL_PLACE_WORKERS ? "workers" : "any");
        sl_err_detail(err, "the jobs that hand lanes to workers carry the target's URL sealed with it");
        sl_err_hint(err, "run the stream through `sluice server`, or set SLUICE_SECRET_KEY to the servers' key");
        return -1;
    }
    sl_place_t *pl = calloc(1, sizeof *pl);
    if (!pl)
        sl_oom();
    pl->ld = ld;
    pl->seq_sum = -1;
    char subject[200];
    report_subject(name, subject, sizeof subject);
    if (sl_bus_jobs_ensure(ld->run.bus, err) || sl_target_open(ld->spec->target_url, &pl->tgt, err) ||
        sl_bus_listen(ld->run.bus, subject, on_report, ld, &pl->reports, err))
        goto fail;
    for (int lane = 0; lane < ld->lanes; lane++) {
        sl_job_t job = {.kind = SL_JOB_LOAD_LANE, .lane = lane, .epoch = ld->epoch, .fence = pl->tgt->fence,
                        .target_url = ld->spec->target_url};
        snprintf(job.stream, sizeof job.stream, "%s", name);
        char *text = sl_job_encode(&job, ld->opts->job_key), msgid[200];
        snprintf(msgid, sizeof msgid, "%s.e%" PRIu64 ".l%d", name, ld->epoch, lane);
        int rc = sl_bus_job_publish(ld->run.bus, name, msgid, text, strlen(text), err);
        free(text);
        if (rc)
            goto fail;
    }
    sl_info("%d lane job%s queued for the workers (placement %s)", ld->lanes, ld->lanes == 1 ? "" : "s",
            ld->spec->opt.placement == SL_PLACE_WORKERS ? "workers" : "any");
    *out = pl;
    return 0;
fail:
    sl_place_stop(pl);
    return -1;
}

bool sl_place_can_read(const load_t *ld, const sl_source_t *coord)
{
    const char *kind = coord->ops->name;
    return ld->remote && !ld->opts->snapshot && (!strcmp(kind, "pg") || !strcmp(kind, "file"));
}

int sl_place_reads(sl_place_t *pl, const char *token, int readers, sl_err_t *err)
{
    load_t *ld = pl->ld;
    const char *name = ld->spec->name;
    if (sl_bus_stripes_reset(ld->run.bus, name, err))
        return -1;
    int queued = 0;
    for (int s = 0; s < ld->plan.nstripes; s++) {
        if (ld->st[s].done)
            continue;
        sl_job_stripe_t js = {.stripe = s, .seq = ld->st[s].seq, .position = ld->st[s].position};
        char *text = sl_job_stripe_encode(&js), msgid[200];
        snprintf(msgid, sizeof msgid, "e%" PRIu64 ".s%d", ld->epoch, s);
        int rc = sl_bus_stripe_publish(ld->run.bus, name, msgid, text, strlen(text), err);
        free(text);
        if (rc)
            return -1;
        queued++;
    }
    ld->queued = true;
    for (int i = 0; i < readers; i++) {
        sl_job_t job = {.kind = SL_JOB_LOAD_READ, .lane = i, .epoch = ld->epoch, .fence = pl->tgt->fence,
                        .batch_rows = ld->spec->opt.batch_rows, .batch_bytes = (int)ld->batch_bytes,
                        .window = ld->max_inflight, .target_url = ld->spec->target_url,
                        .source_url = ld->spec->source_url, .snapshot = (char *)token};
        snprintf(job.stream, sizeof job.stream, "%s", name);
        char *text = sl_job_encode(&job, ld->opts->job_key), msgid[200];
        snprintf(msgid, sizeof msgid, "%s.e%" PRIu64 ".r%d", name, ld->epoch, i);
        int rc = sl_bus_job_publish(ld->run.bus, name, msgid, text, strlen(text), err);
        free(text);
        if (rc)
            return -1;
    }
    sl_info("%d stripe%s queued, and %d read job%s for the workers", queued, queued == 1 ? "" : "s", readers,
            readers == 1 ? "" : "s");
    return 0;
}

typedef struct poll {
    load_t *ld;
    bool *done; /* per stripe */
    int64_t seq_sum;
} poll_t;

static int poll_fn(void *ctx, const char *key, const sl_ckpt_t *ck, sl_err_t *err)
{
    (void)err;
    poll_t *p = ctx;
    int s;
    char tail;
    if (sscanf(key, "s:%d%c", &s, &tail) != 1 || s < 0 || s >= p->ld->plan.nstripes)
        return 0;
    if (ck->epoch == (int64_t)p->ld->epoch)
        p->seq_sum += ck->seq;
    p->done[s] = ck->done;
    return 0;
}

/* The stripes done, from the checkpoints: the counts the load completes on. */
static void poll(sl_place_t *pl)
{
    load_t *ld = pl->ld;
    poll_t p = {.ld = ld, .done = calloc((size_t)ld->plan.nstripes + 1, sizeof *p.done)};
    if (!p.done)
        sl_oom();
    sl_err_t err = {0};
    if (pl->tgt->ops->ckpt_list(pl->tgt, ld->spec->name, poll_fn, &p, &err)) {
        sl_debug("could not read the checkpoints (%s); trying again", err.message);
        free(p.done);
        return; /* the next poll reconnects or the stall detector acts */
    }
    int left = 0;
    int *tleft = calloc((size_t)ld->plan.ntables + 1, sizeof *tleft);
    if (!tleft)
        sl_oom();
    pthread_mutex_lock(&ld->run.mu);
    for (int s = 0; s < ld->plan.nstripes; s++) {
        if (p.done[s])
            ld->st[s].done = true;
        if (!ld->st[s].done) {
            left++;
            tleft[ld->plan.stripes[s].table]++;
        }
    }
    pthread_mutex_unlock(&ld->run.mu);
    for (int t = 0; t < ld->plan.ntables; t++)
        atomic_store(&ld->ts[t].stripes_left, tleft[t]);
    atomic_store(&ld->stripes_left, left);
    if (p.seq_sum != pl->seq_sum) {
        pl->seq_sum = p.seq_sum;
        atomic_fetch_add(&ld->moves, 1);
    }
    free(tleft);
    free(p.done);
}

void sl_place_tick(sl_place_t *pl)
{
    load_t *ld = pl->ld;
    int64_t now = sl_mono_ms();
    if (now - pl->polled_ms >= POLL_MS) {
        pl->polled_ms = now;
        poll(pl);
    }
    /* the window: batches the workers applied leave the work queue */
    int64_t pending = 0;
    bool exists = false;
    sl_err_t err = {0};
    if (sl_bus_stream_pending(ld->run.bus, ld->spec->name, &pending, NULL, 0, &exists, &err) == 0 && exists) {
        pthread_mutex_lock(&ld->run.mu);
        if (pending < ld->inflight) {
            ld->inflight = (int)pending;
            pthread_cond_broadcast(&ld->run.cv);
        }
        pthread_mutex_unlock(&ld->run.mu);
    }
}

void sl_place_stop(sl_place_t *pl)
{
    if (!pl)
        return;
    sl_err_t err = {0};
    if (sl_bus_jobs_purge(pl->ld->run.bus, pl->ld->spec->name, &err))
        sl_debug("could not withdraw the lane jobs (%s): the workers drop them, their pass is over", err.message);
    if (pl->reports && !sl_bus_unlisten(pl->reports, 5000))
        sl_warn("the workers' report listener did not stop");
    sl_target_close(pl->tgt);
    free(pl);
}

/* ---- a worker ------------------------------------------------------------------------ */

/* Reads the load's plan (checkpoint "plan") from the target. */
static int read_plan(const sl_job_t *job, sl_plan_t *plan, sl_err_t *err)
{
    sl_target_t *tgt = NULL;
    sl_ckpt_t ck = {0};
    bool found = false;
    int rc = sl_target_open(job->target_url, &tgt, err);
    if (rc == 0 && (rc = tgt->ops->begin(tgt, err)) == 0) {
        rc = tgt->ops->ckpt_get(tgt, job->stream, "plan", &ck, &found, err);
        tgt->ops->rollback(tgt);
    }
    sl_target_close(tgt);
    if (rc == 0 && (!found || !ck.position))
        rc = sl_err_set(err, SL_E_NOT_FOUND, "load \"%s\" has no plan on its target", job->stream);
    if (rc == 0)
        rc = sl_plan_from_json(ck.position, plan, err);
    sl_ckpt_clear(&ck);
    if (rc)
        sl_err_prefix(err, "target: ");
    return rc;
}

/* The change of counter *now since *last, which then follows it. */
static int64_t delta(_Atomic int64_t *now, int64_t *last)
{
    int64_t v = atomic_load(now), d = v - *last;
    *last = v;
    return d;
}

/* Publishes what changed since last (the figures of ld: 3 run counters, then 4 per
 * table): a report. */
static void report(load_t *ld, const sl_job_t *job, const char *node, int64_t *last)
{
    int n = ld->plan.ntables;
    sl_job_report_t r = {.epoch = job->epoch, .lane = job->lane, .ntables = n};
    snprintf(r.node, sizeof r.node, "%s", node);
    r.rows = calloc((size_t)n + 1, sizeof *r.rows);
    r.bytes = calloc((size_t)n + 1, sizeof *r.bytes);
    r.read = calloc((size_t)n + 1, sizeof *r.read);
    r.read_bytes = calloc((size_t)n + 1, sizeof *r.read_bytes);
    if (!r.rows || !r.bytes || !r.read || !r.read_bytes)
        sl_oom();
    bool any = false;
    for (int i = 0; i < n; i++) {
        int64_t *l = last + 3 + 4 * i;
        r.rows[i] = delta(&ld->ts[i].rows_written, &l[0]);
        r.bytes[i] = delta(&ld->ts[i].bytes_written, &l[1]);
        r.read[i] = delta(&ld->ts[i].rows_read, &l[2]);
        r.read_bytes[i] = delta(&ld->ts[i].bytes_read, &l[3]);
        any = any || r.rows[i] || r.read[i];
    }
    r.batches = delta(&ld->run.batches, &last[0]);
    r.duplicates = delta(&ld->run.duplicates, &last[1]);
    r.retries = delta(&ld->run.retries, &last[2]);
    if (any || r.batches || r.duplicates || r.retries) {
        char *text = sl_job_report_encode(&r), subject[200];
        report_subject(job->stream, subject, sizeof subject);
        sl_bus_notify(ld->run.bus, subject, text, strlen(text));
        free(text);
    }
    sl_job_report_free(&r);
}

/* Whether job's pass still runs: its broker stream exists with its tag. A broker that
 * does not answer is no answer: the pass goes on. */
static bool pass_on(sl_bus_t *bus, const sl_job_t *job)
{
    char want[32], tag[64];
    int64_t pending;
    bool exists = false;
    sl_err_t err = {0};
    sl_place_tag(job->epoch, want, sizeof want);
    if (sl_bus_stream_pending(bus, job->stream, &pending, tag, sizeof tag, &exists, &err))
        return true;
    return exists && !strcmp(tag, want);
}

/* A worker's reader thread: the load's reader (reader.c) on the job's snapshot. */
static void *reader_main(void *arg) { return sl_load_reader_main(arg); }

int sl_place_run(const sl_job_t *job, sl_bus_t *bus, const char *node, volatile sig_atomic_t *stop,
                 void (*alive)(void *ctx), void *ctx, sl_err_t *err)
{
    bool lane = job->kind == SL_JOB_LOAD_LANE;
    sl_spec_t spec = {.name = (char *)job->stream, .mode = SL_MODE_LOAD, .target_url = job->target_url,
                      .source_url = job->source_url};
    spec.opt.batch_rows = job->batch_rows;
    sl_load_opts_t opts = {0};
    load_t ld = {.spec = &spec, .opts = &opts, .lanes = lane ? job->lane + 1 : 1, .epoch = job->epoch,
                 .remote = true, .queued = !lane, .worker = !lane, .window = job->window,
                 .batch_bytes = (size_t)job->batch_bytes};
    volatile sig_atomic_t over = 0; /* the pass is over, or the worker stops */
    sl_run_init(&ld.run, bus, &over);
    sl_source_t *src = NULL;
    int64_t *last = NULL;
    int rc = -1;
    if (read_plan(job, &ld.plan, err))
        goto out;
    ld.ts = calloc((size_t)ld.plan.ntables + 1, sizeof *ld.ts);
    last = calloc(3 + 4 * (size_t)ld.plan.ntables, sizeof *last);
    if (!ld.ts || !last)
        sl_oom();
    atomic_store(&ld.stripes_left, 1); /* more() until the pass is over */
    sl_lanes_t *lanes = NULL;
    pthread_t rt;
    reader_arg_t ra = {.ld = &ld, .id = job->lane};
    if (lane) {
        sl_lane_cfg_t lc = {.run = &ld.run,
                            .stream = job->stream,
                            .target_url = job->target_url,
                            .fetch_ms = 500,
                            .ops = &sl_load_lane_ops,
                            .mode = &ld,
                            .first = job->lane,
                            .fence = job->fence};
        sl_info("load \"%s\": running lane %d of pass %" PRIu64 " (fence %lld)", job->stream, job->lane, job->epoch,
                (long long)job->fence);
        lanes = sl_lanes_start(&lc, 1);
    } else {
        if (sl_source_open(job->source_url, &src, err) || src->ops->snapshot_import(src, job->snapshot, err)) {
            sl_err_prefix(err, "source: ");
            goto out;
        }
        ra.src = src;
        sl_info("load \"%s\": reading stripes of pass %" PRIu64 " in the owner's snapshot", job->stream, job->epoch);
        if (pthread_create(&rt, NULL, reader_main, &ra)) {
            rc = sl_err_set(err, SL_E_INTERNAL, "could not start a reader thread");
            goto out;
        }
    }
    int64_t checked = sl_mono_ms(), reported = checked;
    while (!over && !atomic_load(&ld.run.failed)) {
        sl_run_sleep(&ld.run, 250);
        if (*stop)
            over = 1;
        int64_t now = sl_mono_ms();
        if (now - reported >= REPORT_MS) {
            reported = now;
            report(&ld, job, node, last);
            alive(ctx);
        }
        if (now - checked >= PASS_CHECK_MS) {
            checked = now;
            if (!pass_on(bus, job))
                over = 1;
        }
    }
    over = 1;
    if (lane)
        sl_lanes_join(lanes);
    else
        pthread_join(rt, NULL);
    report(&ld, job, node, last);
    rc = sl_run_failure(&ld.run, err);
    if (rc == 0 && *stop)
        rc = sl_err_set(err, SL_E_CANCELED, "the worker stops");
    sl_info("load \"%s\": %s %d of pass %" PRIu64 " %s", job->stream, lane ? "lane" : "reader", job->lane,
            job->epoch, rc ? "ended" : "done");
out:
    sl_source_close(src);
    free(last);
    free(ld.ts);
    sl_plan_free(&ld.plan);
    sl_run_destroy(&ld.run);
    return rc;
}
