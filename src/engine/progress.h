/*
 * progress.h: progress of a running load: bars on a terminal (rows, rows/s, ETA per
 * table), a log line every 10 s otherwise, and the summary at the end.
 *
 * Thread: the orchestrator's thread calls tick; log lines from other threads clear
 * and redraw the bars through the log hooks.
 */
#ifndef SL_ENGINE_PROGRESS_H
#define SL_ENGINE_PROGRESS_H

#include <stdbool.h>

struct load;
typedef struct sl_progress sl_progress_t;

sl_progress_t *sl_progress_start(struct load *ld, bool tty);
void sl_progress_tick(sl_progress_t *pg);
void sl_progress_stop(sl_progress_t *pg);
void sl_progress_summary(struct load *ld, double seconds);

/* Monitoring (monitor/stats.h): fills a snapshot from the load's counters, the same
 * ones the bars show. arg is the load_t; runs on the stats publisher's thread. */
struct sl_snap;
void sl_progress_collect(void *arg, struct sl_snap *snap);

#endif
