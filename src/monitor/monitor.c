/*
 * monitor.c: STUB of the monitoring plane (monitor.h) so that the control plane builds
 * while the real one is written: it knows nothing and delivers no event. Replaced by the
 * monitoring-plane work.
 */
#include <stdlib.h>
#include <time.h>

#include "monitor/monitor.h"

struct sl_monitor {
    int unused;
};
struct sl_monitor_sub {
    int unused;
};

int sl_monitor_start(const char *nats_url, sl_monitor_t **out, sl_err_t *err)
{
    *out = calloc(1, sizeof(sl_monitor_t));
    return 0;
}

void sl_monitor_stop(sl_monitor_t *mon) { free(mon); }
void sl_monitor_state(sl_monitor_t *mon, const char *stream, const char *state,
                      const json_t *error) {}
void sl_monitor_log(sl_monitor_t *mon, const char *stream, const char *level,
                    const char *message) {}
void sl_monitor_forget(sl_monitor_t *mon, const char *stream) {}

json_t *sl_monitor_stats(sl_monitor_t *mon, const char *stream)
{
    return json_pack("{s:s, s:s, s:[]}", "stream", stream, "phase", "load", "tables");
}

json_t *sl_monitor_summary(sl_monitor_t *mon, const char *stream)
{
    return json_pack("{s:i, s:i, s:f, s:n, s:n}", "rows_read", 0, "rows_written", 0,
                     "rows_per_sec", 0.0, "lag_seconds", "progress");
}

json_t *sl_monitor_logs(sl_monitor_t *mon, const char *stream, int limit)
{
    return json_pack("{s:[]}", "lines");
}

int sl_monitor_prometheus(sl_monitor_t *mon, sl_buf_t *out, sl_err_t *err) { return 0; }

sl_monitor_sub_t *sl_monitor_subscribe(sl_monitor_t *mon, const char *stream)
{
    return calloc(1, sizeof(sl_monitor_sub_t));
}

int sl_monitor_next(sl_monitor_sub_t *sub, int timeout_ms, char **event, char **data)
{
    struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    return 0;
}

void sl_monitor_unsubscribe(sl_monitor_sub_t *sub) { free(sub); }
