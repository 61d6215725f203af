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

#endif
