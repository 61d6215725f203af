/*
 * own.h: which streams this server runs, through their leases (control/lease.h,
 * docs/cluster.md "Failover"), and the two threads that keep it true:
 *
 *   the keeper renews every lease this server holds (SL_LEASE_RENEW_MS); a renewal
 *     refused on the revision means another server took the stream: its process is
 *     killed at once. Every 2 s it also scans the streams: one that should run
 *     (starting, running) and whose lease is free, was this server's before a restart,
 *     or has not been renewed for SL_LEASE_TTL_MS, is taken over (sl_ctl_stream_start_locked
 *     with SL_ACT_RECOVER); one left stopping by a server that is gone becomes stopped.
 *   the watchdog kills the process of every stream whose lease this server could not
 *     renew for SL_LEASE_KILL_MS (cut off from NATS): before any other server may take
 *     the lease. It takes only the table's own lock, never ctl->mu, so that a KV call
 *     hanging under ctl->mu cannot delay it.
 *
 * Threads: the API's handlers and the runner thread call sl_own_take/release/holds (with
 * ctl->mu held or not); the table is under its own mutex, and no KV call runs under it.
 */
#ifndef SL_CONTROL_OWN_H
#define SL_CONTROL_OWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct sl_ctl;
typedef struct sl_own sl_own_t;

/* Starts the keeper and the watchdog of ctl (its store, runner and node are ready). The
 * first scan runs before it returns: it brings back the streams this server ran. */
int sl_own_start(struct sl_ctl *ctl, sl_own_t **out, sl_err_t *err);
/* Stops both threads and releases the leases still held (call it once the streams'
 * processes have exited). NULL: no-op. */
void sl_own_stop(sl_own_t *o);

/* Takes the lease of stream (id, name) for this server (or finds it held here): *epoch
 * its epoch, the fence of the process's checkpoint writes. idle: the stream's stored
 * state says no process runs it (a start or resume), so a lease another server still
 * holds is stale and taken all the same (the fence stops a process it might still have).
 * Otherwise SL_E_CONFLICT, with the holder's node in holder, while another server
 * renews it. */
int sl_own_take(sl_own_t *o, const char *id, const char *name, bool idle, int64_t *epoch, char *holder,
                size_t hsize, sl_err_t *err);
/* Releases stream id's lease, if held (its process is gone and its state stored). */
void sl_own_release(sl_own_t *o, const char *id);
/* True while this server holds stream id's lease. */
bool sl_own_holds(sl_own_t *o, const char *id);
/* The server that holds a lease on stream name still renewed (as far as this server
 * has seen) into node, "" when none does. */
int sl_own_holder(sl_own_t *o, const char *name, char *node, size_t size, sl_err_t *err);

#endif
