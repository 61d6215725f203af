/*
 * log.h: leveled log lines on stderr, safe from any thread.
 *
 * Lines look like `2026-11-26 23:10:00.123 INFO  message`. Never pass a secret: URLs
 * go through sl_url_mask() first.
 */
#ifndef SL_CORE_LOG_H
#define SL_CORE_LOG_H

typedef enum { SL_LOG_DEBUG, SL_LOG_INFO, SL_LOG_WARN, SL_LOG_ERROR } sl_loglevel_t;

void sl_log_set_level(sl_loglevel_t level);
/* "debug", "info", "warn" or "error" into *out; -1 for anything else. */
int sl_log_level_parse(const char *s, sl_loglevel_t *out);
void sl_log(sl_loglevel_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hook run with the log mutex held before and after each line (the progress display
 * uses it to clear and redraw its bars). NULL to remove. */
void sl_log_set_hooks(void (*before)(void *), void (*after)(void *), void *arg);

#define sl_debug(...) sl_log(SL_LOG_DEBUG, __VA_ARGS__)
#define sl_info(...) sl_log(SL_LOG_INFO, __VA_ARGS__)
#define sl_warn(...) sl_log(SL_LOG_WARN, __VA_ARGS__)
#define sl_error(...) sl_log(SL_LOG_ERROR, __VA_ARGS__)

#endif
