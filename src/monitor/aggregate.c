/*
 * aggregate.c: one stream's figures from its snapshots (see aggregate.h).
 */
#include "monitor/aggregate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/schema.h" /* sl_strdup */

#define NSAMPLES 16 /* one a second covers the window with room to spare */
#define NRETIRED 4

/* One snapshot of the current run, reduced to what rates need. */
typedef struct sample {
    double t;
    int64_t rows_read, rows_written;
    uint64_t names;  /* hash of the table names, in order: per-table counts line up */
    int ntables;
    int64_t *tw;     /* rows written per table */
} sample_t;

struct sl_agg {
    sl_snap_t base;     /* finished runs */
    sl_snap_t latest;   /* the current run's last snapshot */
    sl_snap_t totals;   /* base + latest */
    bool have;
    double recv;        /* when latest arrived */
    sample_t ring[NSAMPLES];
    int head, n;
    char *retired[NRETIRED];
    int nretired;
};

static uint64_t names_hash(const sl_snap_t *s)
{
    uint64_t h = 14695981039346656037ull;
    for (int i = 0; i < s->ntables; i++) {
        for (const char *p = s->tables[i].name; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull;
    }
    return h;
}

sl_agg_t *sl_agg_new(void)
{
    sl_agg_t *a = calloc(1, sizeof *a);
    if (!a)
        sl_oom();
    sl_snap_init(&a->base);
    sl_snap_init(&a->latest);
    sl_snap_init(&a->totals);
    return a;
}

static void ring_clear(sl_agg_t *a)
{
    for (int i = 0; i < NSAMPLES; i++) {
        free(a->ring[i].tw);
        a->ring[i].tw = NULL;
    }
    a->head = a->n = 0;
}

void sl_agg_free(sl_agg_t *a)
{
    if (!a)
        return;
    ring_clear(a);
    sl_snap_clear(&a->base);
    sl_snap_clear(&a->latest);
    sl_snap_clear(&a->totals);
    for (int i = 0; i < a->nretired; i++)
        free(a->retired[i]);
    free(a);
}

static bool retired(const sl_agg_t *a, const char *run)
{
    for (int i = 0; i < a->nretired; i++)
        if (strcmp(a->retired[i], run) == 0)
            return true;
    return false;
}

/* The previous run is over: its last figures join the base. */
static void retire(sl_agg_t *a)
{
    sl_snap_add(&a->base, &a->latest);
    if (a->nretired == NRETIRED) {
        free(a->retired[0]);
        memmove(a->retired, a->retired + 1, (NRETIRED - 1) * sizeof *a->retired);
        a->nretired--;
    }
    a->retired[a->nretired++] = sl_strdup(a->latest.run ? a->latest.run : "");
    ring_clear(a);
}

static void push_sample(sl_agg_t *a, const sl_snap_t *s)
{
    /* drop samples that fell out of the window (keeping one older than it, so the
     * window is covered), and the oldest when full */
    while (a->n > 1 && s->t - a->ring[(a->head + 1) % NSAMPLES].t >= SL_AGG_WINDOW_SECS) {
        free(a->ring[a->head].tw);
        a->ring[a->head].tw = NULL;
        a->head = (a->head + 1) % NSAMPLES;
        a->n--;
    }
    if (a->n == NSAMPLES) {
        free(a->ring[a->head].tw);
        a->ring[a->head].tw = NULL;
        a->head = (a->head + 1) % NSAMPLES;
        a->n--;
    }
    sample_t *p = &a->ring[(a->head + a->n) % NSAMPLES];
    p->t = s->t;
    p->rows_read = s->rows_read;
    p->rows_written = s->rows_written;
    p->names = names_hash(s);
    p->ntables = s->ntables;
    p->tw = malloc(((size_t)s->ntables + 1) * sizeof *p->tw);
    if (!p->tw)
        sl_oom();
    for (int i = 0; i < s->ntables; i++)
        p->tw[i] = s->tables[i].rows_written;
    a->n++;
}

bool sl_agg_add(sl_agg_t *a, const sl_snap_t *s, double now)
{
    const char *run = s->run ? s->run : "";
    if (a->have && strcmp(run, a->latest.run ? a->latest.run : "") == 0) {
        if (s->seq <= a->latest.seq)
            return false;
    } else if (retired(a, run)) {
        return false;
    } else if (a->have) {
        retire(a);
    }
    sl_snap_copy(&a->latest, s);
    a->have = true;
    a->recv = now;
    push_sample(a, s);
    sl_snap_copy(&a->totals, &a->base);
    sl_snap_add(&a->totals, &a->latest);
    snprintf(a->totals.phase, sizeof a->totals.phase, "%s", a->latest.phase);
    /* lag, slot lag and position describe the current run only */
    a->totals.lag_seconds = a->latest.lag_seconds;
    a->totals.slot_bytes = a->latest.slot_bytes;
    sl_snap_set(&a->totals.position, a->latest.position);
    sl_snap_set(&a->totals.stream, a->latest.stream);
    sl_snap_set(&a->totals.id, a->latest.id);
    sl_snap_set(&a->totals.run, a->latest.run);
    a->totals.seq = a->latest.seq;
    a->totals.ts = a->latest.ts;
    return true;
}

const sl_snap_t *sl_agg_totals(const sl_agg_t *a) { return a && a->have ? &a->totals : NULL; }

/* The oldest sample of the window, or NULL when rates are unknown or zero. */
static const sample_t *window_start(const sl_agg_t *a, double now)
{
    if (!a || !a->have || a->n < 2 || strcmp(a->latest.phase, "done") == 0 || now - a->recv > SL_AGG_STALE_SECS)
        return NULL;
    const sample_t *last = &a->ring[(a->head + a->n - 1) % NSAMPLES];
    for (int i = 0; i < a->n - 1; i++) {
        const sample_t *p = &a->ring[(a->head + i) % NSAMPLES];
        if (last->t - p->t <= SL_AGG_WINDOW_SECS + 0.5 && last->t - p->t > 0.2)
            return p;
    }
    return NULL;
}

static const sample_t *last_sample(const sl_agg_t *a) { return &a->ring[(a->head + a->n - 1) % NSAMPLES]; }

double sl_agg_rate(const sl_agg_t *a, bool written, double now)
{
    const sample_t *p = window_start(a, now);
    if (!p)
        return 0.0;
    const sample_t *l = last_sample(a);
    int64_t d = written ? l->rows_written - p->rows_written : l->rows_read - p->rows_read;
    return d > 0 ? (double)d / (l->t - p->t) : 0.0;
}

double sl_agg_table_rate(const sl_agg_t *a, const char *table, double now)
{
    const sample_t *p = window_start(a, now);
    if (!p)
        return 0.0;
    const sample_t *l = last_sample(a);
    if (p->names != l->names || p->ntables != l->ntables)
        return 0.0;
    for (int i = 0; i < a->latest.ntables; i++)
        if (strcmp(a->latest.tables[i].name, table) == 0) {
            int64_t d = l->tw[i] - p->tw[i];
            return d > 0 ? (double)d / (l->t - p->t) : 0.0;
        }
    return 0.0;
}

/* ---- JSON ----------------------------------------------------------------------- */

void sl_agg_time(double ts, char buf[32])
{
    time_t sec = (time_t)ts;
    int ms = (int)((ts - (double)sec) * 1000.0);
    if (ms < 0)
        ms = 0;
    if (ms > 999)
        ms = 999;
    struct tm tm;
    gmtime_r(&sec, &tm);
    char day[24];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, 32, "%s.%03dZ", day, ms);
}

static bool is_load(const sl_snap_t *s) { return strcmp(s->phase, "cdc") != 0; }

/* A table's progress (-1 unknown) and ETA in seconds (-1 unknown). */
static void table_progress(const sl_snap_t *s, const sl_snap_table_t *t, double rate, double *progress,
                           double *eta)
{
    *progress = *eta = -1;
    if (!is_load(s)) {
        /* a cdc stream's table being copied: rows copied of its estimate */
        if (!strcmp(t->state, "copying") && t->copied >= 0 && t->est_rows > 0)
            *progress = fmin((double)t->copied / (double)t->est_rows, 0.99);
        else if (!strcmp(t->state, "streaming"))
            *progress = 1.0;
        return;
    }
    if (t->done || strcmp(s->phase, "done") == 0) {
        *progress = 1.0;
        *eta = 0.0;
        return;
    }
    if (t->est_rows <= 0)
        return;
    *progress = fmin((double)t->rows_written / (double)t->est_rows, 0.99);
    if (rate > 0 && t->est_rows > t->rows_written)
        *eta = (double)(t->est_rows - t->rows_written) / rate;
}

/* The stream's progress, -1 unknown: rows written over the rows expected (a done
 * table expects what it wrote, any other its estimate). */
static double stream_progress(const sl_snap_t *s)
{
    if (!s || !is_load(s))
        return -1;
    if (strcmp(s->phase, "done") == 0)
        return 1.0;
    if (s->ntables == 0 || s->truncated)
        return -1;
    double written = 0, expected = 0;
    for (int i = 0; i < s->ntables; i++) {
        const sl_snap_table_t *t = &s->tables[i];
        if (t->done) {
            written += (double)t->rows_written;
            expected += (double)t->rows_written;
        } else if (t->est_rows >= 0) {
            written += (double)t->rows_written;
            expected += (double)(t->est_rows > t->rows_written ? t->est_rows : t->rows_written);
        } else {
            return -1;
        }
    }
    if (expected <= 0)
        return -1;
    return fmin(written / expected, 0.99);
}

static json_t *num_or_null(double v) { return v >= 0 ? json_real(v) : json_null(); }

/* Whether rows can be moving in this state (NULL: unknown, as the snapshots say). A
 * paused, stopped or finished stream has no process: its rates are 0, whatever its last
 * snapshots said. */
static bool moving(const char *state)
{
    return !state || !strcmp(state, "starting") || !strcmp(state, "running") || !strcmp(state, "stopping");
}

json_t *sl_agg_stats_json(const sl_agg_t *a, const char *stream, const char *state, double now)
{
    const sl_snap_t *s = sl_agg_totals(a);
    sl_snap_t empty;
    sl_snap_init(&empty);
    json_t *tables = json_array();
    json_t *lag = json_null();
    json_t *updated = json_null();
    if (s) {
        char ts[32];
        sl_agg_time(s->ts, ts);
        json_decref(updated);
        updated = json_string(ts);
        for (int i = 0; i < s->ntables; i++) {
            const sl_snap_table_t *t = &s->tables[i];
            double rate = moving(state) ? sl_agg_table_rate(a, t->name, now) : 0.0, progress, eta;
            table_progress(s, t, rate, &progress, &eta);
            json_t *tj = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:f}", "name", t->name,
                                   "rows_read", (json_int_t)t->rows_read, "rows_written",
                                   (json_int_t)t->rows_written, "bytes_read", (json_int_t)t->bytes_read,
                                   "bytes_written", (json_int_t)t->bytes_written, "rows_loaded",
                                   (json_int_t)t->rows_loaded, "changes_read", (json_int_t)t->changes_read,
                                   "changes_applied", (json_int_t)t->changes_applied, "rows_rejected",
                                   (json_int_t)t->rows_rejected, "est_rows",
                                   t->est_rows >= 0 ? json_integer(t->est_rows) : json_null(), "progress",
                                   num_or_null(progress), "eta_seconds", num_or_null(eta), "rows_per_sec", rate);
            if (!tj)
                sl_oom();
            if (t->state[0]) { /* a cdc stream's table (docs/api.md "Tables of a stream") */
                json_object_set_new(tj, "state", json_string(t->state));
                json_object_set_new(tj, "copied_rows", t->copied >= 0 ? json_integer(t->copied) : json_null());
                json_object_set_new(tj, "error", t->error[0] ? json_string(t->error) : json_null());
            }
            json_array_append_new(tables, tj);
        }
        if (!is_load(s)) {
            json_decref(lag);
            lag = json_pack("{s:o, s:o}", "seconds", num_or_null(s->lag_seconds), "slot_bytes",
                            s->slot_bytes >= 0 ? json_integer(s->slot_bytes) : json_null());
        }
    } else {
        s = &empty;
    }
    bool mv = moving(state);
    json_t *o = json_pack(
        "{s:s, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f}, s:o, s:o, s:o}",
        "stream", stream ? stream : "", "state", state ? json_string(state) : json_null(), "phase",
        sl_agg_totals(a) ? json_string(s->phase) : json_null(), "updated_at", updated, "totals", "rows_read",
        (json_int_t)s->rows_read, "rows_written", (json_int_t)s->rows_written, "bytes_read",
        (json_int_t)s->bytes_read, "bytes_written", (json_int_t)s->bytes_written, "rows_loaded",
        (json_int_t)s->rows_loaded, "changes_read", (json_int_t)s->changes_read, "changes_applied",
        (json_int_t)s->changes_applied, "rows_rejected", (json_int_t)s->rows_rejected, "batches",
        (json_int_t)s->batches, "redeliveries",
        (json_int_t)s->redeliveries, "duplicates_skipped", (json_int_t)s->duplicates, "errors",
        (json_int_t)s->errors, "rows_per_sec_read", mv ? sl_agg_rate(a, false, now) : 0.0, "rows_per_sec_written",
        mv ? sl_agg_rate(a, true, now) : 0.0, "lag", lag, "position",
        s->position ? json_string(s->position) : json_null(), "tables", tables);
    if (!o)
        sl_oom();
    return o;
}

json_t *sl_agg_summary_json(const sl_agg_t *a, const char *state, double now)
{
    const sl_snap_t *s = sl_agg_totals(a);
    json_t *o = json_pack("{s:I, s:I, s:f, s:o, s:o}", "rows_read", (json_int_t)(s ? s->rows_read : 0),
                          "rows_written", (json_int_t)(s ? s->rows_written : 0), "rows_per_sec",
                          moving(state) ? sl_agg_rate(a, true, now) : 0.0, "lag_seconds",
                          s && !is_load(s) ? num_or_null(s->lag_seconds) : json_null(), "progress",
                          num_or_null(stream_progress(s)));
    if (!o)
        sl_oom();
    return o;
}
