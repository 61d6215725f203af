/*
 * progress.c: see progress.h.
 */
#include "engine/progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/meter.h"
#include "engine/load_int.h"
#include "monitor/snap.h"

#define MAX_BARS 15

struct sl_progress {
    load_t *ld;
    bool tty;
    int drawn;          /* lines currently on screen */
    double t0, last_log, last_tick;
    int64_t last_rows;
    double rate;        /* smoothed rows/s */
    int64_t *trows;     /* per table: rows at the last tick */
    double *trate;      /* per table: smoothed rows/s */
};

static int64_t total_written(load_t *ld)
{
    int64_t n = 0;
    for (int i = 0; i < ld->plan.ntables; i++)
        n += atomic_load(&ld->ts[i].rows_written);
    return n;
}

static void clear_bars(void *arg)
{
    sl_progress_t *pg = arg;
    if (pg->drawn) {
        fprintf(stderr, "\033[%dA\033[J", pg->drawn);
        pg->drawn = 0;
    }
}

static void draw_bars(void *arg)
{
    sl_progress_t *pg = arg;
    load_t *ld = pg->ld;
    int lines = 0;
    for (int i = 0; i < ld->plan.ntables && lines < MAX_BARS; i++) {
        const sl_table_t *t = ld->plan.tables[i];
        int64_t w = atomic_load(&ld->ts[i].rows_written);
        int left = atomic_load(&ld->ts[i].stripes_left);
        double frac = left == 0 ? 1.0 : (t->est_rows > 0 ? (double)w / (double)t->est_rows : 0.0);
        if (frac > 0.99 && left > 0)
            frac = 0.99;
        char bar[25];
        sl_meter_bar(frac, bar, 24);
        char eta[32];
        double rate = pg->trate[i];
        if (left == 0)
            snprintf(eta, sizeof eta, "done");
        else
            sl_meter_eta(rate > 0 && t->est_rows > w ? (double)(t->est_rows - w) / rate : -1, eta, sizeof eta);
        fprintf(stderr, "%-22.22s [%s] %5.1f%% %11" PRId64 " rows %9.0f rows/s  ETA %s\n", t->name, bar,
                frac * 100, w, rate, eta);
        lines++;
    }
    int64_t total = total_written(ld);
    int64_t est = 0;
    for (int i = 0; i < ld->plan.ntables; i++)
        est += ld->plan.tables[i]->est_rows > 0 ? ld->plan.tables[i]->est_rows : 0;
    char eta[32];
    sl_meter_eta(pg->rate > 0 && est > total ? (double)(est - total) / pg->rate : -1, eta, sizeof eta);
    fprintf(stderr, "total: %" PRId64 " rows, %.0f rows/s, ETA %s, %d chunks left\n", total, pg->rate,
            eta, atomic_load(&ld->stripes_left));
    pg->drawn = lines + 1;
}

sl_progress_t *sl_progress_start(load_t *ld, bool tty)
{
    sl_progress_t *pg = calloc(1, sizeof *pg);
    if (!pg)
        sl_oom();
    pg->ld = ld;
    pg->tty = tty;
    pg->t0 = pg->last_log = pg->last_tick = sl_mono_s();
    pg->trows = calloc((size_t)ld->plan.ntables + 1, sizeof *pg->trows);
    pg->trate = calloc((size_t)ld->plan.ntables + 1, sizeof *pg->trate);
    if (!pg->trows || !pg->trate)
        sl_oom();
    if (tty)
        sl_log_set_hooks(clear_bars, draw_bars, pg);
    return pg;
}

void sl_progress_tick(sl_progress_t *pg)
{
    double t = sl_mono_s();
    if (t - pg->last_tick < 0.5)
        return;
    int64_t rows = total_written(pg->ld);
    double inst = (double)(rows - pg->last_rows) / (t - pg->last_tick);
    pg->rate = pg->rate == 0 ? inst : 0.7 * pg->rate + 0.3 * inst;
    pg->last_rows = rows;
    for (int i = 0; i < pg->ld->plan.ntables; i++) {
        int64_t w = atomic_load(&pg->ld->ts[i].rows_written);
        double r = (double)(w - pg->trows[i]) / (t - pg->last_tick);
        pg->trate[i] = pg->trate[i] == 0 ? r : 0.7 * pg->trate[i] + 0.3 * r;
        pg->trows[i] = w;
    }
    pg->last_tick = t;
    if (pg->tty) {
        clear_bars(pg);
        draw_bars(pg);
        return;
    }
    if (t - pg->last_log >= 10) {
        pg->last_log = t;
        int64_t est = 0;
        for (int i = 0; i < pg->ld->plan.ntables; i++)
            est += pg->ld->plan.tables[i]->est_rows > 0 ? pg->ld->plan.tables[i]->est_rows : 0;
        char eta[32];
        sl_meter_eta(pg->rate > 0 && est > rows ? (double)(est - rows) / pg->rate : -1, eta, sizeof eta);
        sl_info("progress: %" PRId64 " rows written (estimated total %" PRId64 "), %.0f rows/s, ETA %s, "
                "%d chunks left",
                rows, est, pg->rate, eta, atomic_load(&pg->ld->stripes_left));
    }
}

void sl_progress_stop(sl_progress_t *pg)
{
    if (!pg)
        return;
    if (pg->tty) {
        sl_log_set_hooks(NULL, NULL, NULL);
        clear_bars(pg);
        draw_bars(pg);
    }
    free(pg->trows);
    free(pg->trate);
    free(pg);
}

void sl_progress_summary(load_t *ld, double seconds)
{
    int64_t total = total_written(ld);
    for (int i = 0; i < ld->plan.ntables; i++) {
        int64_t rej = atomic_load(&ld->ts[i].rows_rejected);
        char rejected[64] = "";
        if (rej)
            snprintf(rejected, sizeof rejected, ", %" PRId64 " rejected", rej);
        sl_info("table %-30s %12" PRId64 " rows written in this run%s", ld->plan.maps[i]->label,
                atomic_load(&ld->ts[i].rows_written), rejected);
    }
    sl_info("load \"%s\" complete: %" PRId64 " rows in %d tables in %.0f s (%.0f rows/s); %" PRId64
            " batches, %" PRId64 " duplicates skipped, %" PRId64 " redeliveries, %" PRId64 " retries",
            ld->spec->name, total, ld->plan.ntables, seconds, seconds > 0 ? (double)total / seconds : 0.0,
            atomic_load(&ld->run.batches), atomic_load(&ld->run.duplicates), atomic_load(&ld->run.redeliveries),
            atomic_load(&ld->run.retries));
}

void sl_progress_collect(void *arg, sl_snap_t *snap)
{
    load_t *ld = arg;
    for (int i = 0; i < ld->plan.ntables; i++) {
        const sl_table_t *t = ld->plan.tables[i];
        sl_snap_table_t *st = sl_snap_append(snap, ld->plan.maps[i]->label);
        st->rows_rejected = atomic_load(&ld->ts[i].rows_rejected);
        st->rows_read = atomic_load(&ld->ts[i].rows_read);
        st->rows_written = atomic_load(&ld->ts[i].rows_written);
        st->bytes_read = atomic_load(&ld->ts[i].bytes_read);
        st->bytes_written = atomic_load(&ld->ts[i].bytes_written);
        st->est_rows = t->est_rows;
        st->done = atomic_load(&ld->ts[i].stripes_left) == 0;
    }
    sl_run_snap(&ld->run, snap);
}
