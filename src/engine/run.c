/*
 * run.c: the run context shared by a load and a change stream (see run.h).
 */
#include "engine/run.h"

#include <time.h>

#include "core/clock.h"

void sl_run_init(sl_run_t *run, sl_bus_t *bus, volatile sig_atomic_t *stop)
{
    *run = (sl_run_t){.bus = bus, .stop = stop};
    pthread_mutex_init(&run->mu, NULL);
    pthread_cond_init(&run->cv, NULL);
}

void sl_run_destroy(sl_run_t *run)
{
    pthread_mutex_destroy(&run->mu);
    pthread_cond_destroy(&run->cv);
}

void sl_run_fail(sl_run_t *run, const sl_err_t *err)
{
    pthread_mutex_lock(&run->mu);
    if (!atomic_load(&run->failed)) {
        run->fail_err = *err;
        atomic_store(&run->failed, true);
    }
    pthread_cond_broadcast(&run->cv);
    pthread_mutex_unlock(&run->mu);
}

int sl_run_failure(sl_run_t *run, sl_err_t *err)
{
    if (!atomic_load(&run->failed))
        return 0;
    pthread_mutex_lock(&run->mu);
    *err = run->fail_err;
    pthread_mutex_unlock(&run->mu);
    return -1;
}

void sl_run_restart(sl_run_t *run, const char *why)
{
    pthread_mutex_lock(&run->mu);
    if (why)
        atomic_store(&run->restart_why, why);
    atomic_store(&run->restart, true);
    pthread_cond_broadcast(&run->cv);
    pthread_mutex_unlock(&run->mu);
}

bool sl_run_stop_asked(const sl_run_t *run) { return run->stop && *run->stop; }

bool sl_run_stopping(sl_run_t *run)
{
    return atomic_load(&run->failed) || atomic_load(&run->restart) || sl_run_stop_asked(run);
}

void sl_run_sleep(sl_run_t *run, int ms)
{
    for (int slept = 0; slept < ms && !sl_run_stopping(run); slept += 100) {
        struct timespec ts = {0, (ms - slept < 100 ? ms - slept : 100) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

void sl_run_wait(sl_run_t *run, int ms)
{
    struct timespec ts = sl_deadline_ms(ms);
    pthread_cond_timedwait(&run->cv, &run->mu, &ts);
}

void sl_run_wake(sl_run_t *run)
{
    pthread_mutex_lock(&run->mu);
    pthread_cond_broadcast(&run->cv);
    pthread_mutex_unlock(&run->mu);
}

void sl_run_snap(sl_run_t *run, sl_snap_t *snap)
{
    snap->batches = atomic_load(&run->batches);
    snap->duplicates = atomic_load(&run->duplicates);
    snap->redeliveries = atomic_load(&run->redeliveries);
    snap->errors = atomic_load(&run->retries);
}
