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

/* The CLOCK_REALTIME time ms milliseconds from now: the deadline of a
 * pthread_cond_timedwait (whose condition variable uses the default clock). */
static inline struct timespec sl_realtime_after_ms(int64_t ms)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += (time_t)(ms / 1000);
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

#endif
