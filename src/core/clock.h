/*
 * clock.h: the monotonic clock, for intervals, deadlines and rates (never wall time).
 * sl_mono_ms reads the coarse clock (a few ms of resolution, a fifth of the precise
 * clock's cost): the change-stream readers ask it several times per event. sl_mono_s
 * reads the precise one, for rates and progress. sl_realtime_after_ms makes a
 * deadline for pthread_cond_timedwait. All are thread-safe.
 */
#ifndef SL_CORE_CLOCK_H
#define SL_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t sl_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline double sl_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The deadline ms milliseconds from now for pthread_cond_timedwait, which reads the
 * realtime clock (the one use of wall time here: a jump only shortens or stretches one
 * wait, and every waiter re-checks its condition). */
static inline struct timespec sl_deadline_ms(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

#endif
