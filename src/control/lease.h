/*
 * lease.h: which server runs a stream (docs/cluster.md "Leases"): one record per stream
 * name in the KV bucket SLUICE_LEASES, {"node", "epoch", "at"}, changed only by
 * compare-and-set on its revision.
 *
 * A server takes a lease that is free (node ""), that it held itself before a restart, or
 * whose revision has not moved for SL_LEASE_TTL_MS as seen by its own clock (its holder
 * stopped renewing it): the take raises the epoch by one. The holder renews it every
 * SL_LEASE_RENEW_MS; a renewal that fails on the revision means another server took it.
 * The epoch is the fence of every checkpoint the stream's process writes (target/target.h):
 * the record is never deleted (a released lease keeps its epoch), so the epochs of a
 * stream name only grow.
 *
 * The functions are thin over control/store.h; sl_lease_decode is pure.
 */
#ifndef SL_CONTROL_LEASE_H
#define SL_CONTROL_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "control/store.h"
#include "core/err.h"

#define SL_LEASE_TTL_MS 10000  /* unrenewed this long: another server may take it */
#define SL_LEASE_RENEW_MS 2000 /* the holder's heartbeat */
/* The holder stops the stream's process when no renewal that it started within this
 * long has succeeded: well before any other server can take the lease (SL_LEASE_TTL_MS
 * after it last saw the revision move, which is after the holder sent that renewal). */
#define SL_LEASE_KILL_MS 6000

typedef struct sl_lease {
    char node[40];  /* the holder ("n_…"), "" when free */
    int64_t epoch;  /* raised by every take */
    uint64_t rev;   /* the record's KV revision; 0: no record yet */
} sl_lease_t;

/* Decodes a lease record's JSON into l (rev untouched): -1 when it is not one. Pure. */
int sl_lease_decode(const json_t *rec, sl_lease_t *l);
/* The lease of stream name (node "" and rev 0 when there is none). */
int sl_lease_get(sl_kv_t *st, const char *name, sl_lease_t *l, sl_err_t *err);
/* Takes l (as read, rev and epoch) for node: epoch + 1, compare-and-set on l->rev (a
 * create when 0). l then holds the new lease. SL_E_CONFLICT when it changed meanwhile. */
int sl_lease_take(sl_kv_t *st, const char *name, const char *node, sl_lease_t *l, sl_err_t *err);
/* Renews l (held by l->node): SL_E_CONFLICT when another server took it. */
int sl_lease_renew(sl_kv_t *st, const char *name, sl_lease_t *l, sl_err_t *err);
/* Frees l (node ""), keeping its epoch; SL_E_CONFLICT when it was not l any more. */
int sl_lease_release(sl_kv_t *st, const char *name, sl_lease_t *l, sl_err_t *err);

#endif
