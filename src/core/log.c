/*
 * log.c: see log.h. One mutex serialises lines so threads never interleave.
 */
#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static sl_loglevel_t min_level = SL_LOG_INFO;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static void (*hook_before)(void *);
static void (*hook_after)(void *);
static void *hook_arg;

void sl_log_set_level(sl_loglevel_t level) { min_level = level; }
void sl_log_set_hooks(void (*before)(void *), void (*after)(void *), void *arg)
{
    pthread_mutex_lock(&log_mu);
    hook_before = before;
    hook_after = after;
    hook_arg = arg;
    pthread_mutex_unlock(&log_mu);
}

void sl_log(sl_loglevel_t level, const char *fmt, ...)
{
    static const char *names[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
    if (level < min_level)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&log_mu);
    if (hook_before)
        hook_before(hook_arg);
    fprintf(stderr, "%s.%03d %s %s\n", ts, (int)(tv.tv_usec / 1000), names[level], line);
    fflush(stderr);
    if (hook_after)
        hook_after(hook_arg);
    pthread_mutex_unlock(&log_mu);
}

int sl_log_level_parse(const char *s, sl_loglevel_t *out)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (sl_loglevel_t)i;
            return 0;
        }
    return -1;
}
