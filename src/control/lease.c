/*
 * lease.c: stream leases in KV (see lease.h).
 */
#include "control/lease.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int sl_lease_decode(const json_t *rec, sl_lease_t *l)
{
    const char *node = json_string_value(json_object_get(rec, "node"));
    json_t *epoch = json_object_get(rec, "epoch");
    if (!node || !json_is_integer(epoch) || json_integer_value(epoch) < 0 || strlen(node) >= sizeof l->node)
        return -1;
    snprintf(l->node, sizeof l->node, "%s", node);
    l->epoch = json_integer_value(epoch);
    return 0;
}

int sl_lease_get(sl_kv_t *st, const char *name, sl_lease_t *l, sl_err_t *err)
{
    json_t *rec = NULL;
    memset(l, 0, sizeof *l);
    if (sl_kv_get(st, SL_BUCKET_LEASES, name, &rec, &l->rev, err)) {
        if (err->code != SL_E_NOT_FOUND)
            return -1;
        sl_err_clear(err);
        l->rev = 0;
        return 0;
    }
    int rc = sl_lease_decode(rec, l);
    json_decref(rec);
    if (rc)
        return sl_err_set(err, SL_E_PROTOCOL, "the lease of stream \"%s\" in SLUICE_LEASES is damaged", name);
    return 0;
}

/* Writes {node, epoch, at} over revision l->rev (a create when 0); l->rev follows. */
static int put(sl_kv_t *st, const char *name, const char *node, int64_t epoch, sl_lease_t *l, sl_err_t *err)
{
    char at[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *rec = json_pack("{s:s, s:I, s:s}", "node", node, "epoch", (json_int_t)epoch, "at", at);
    uint64_t rev = l->rev;
    int rc;
    if (rev == 0) {
        /* the revision from the create's acknowledgement: reading the lease back could be
         * answered by a replica that has not applied the create yet (a direct get), and
         * would take our own fresh lease for someone else's */
        rc = sl_kv_create_rev(st, SL_BUCKET_LEASES, name, rec, &rev, err);
    } else {
        rc = sl_kv_update(st, SL_BUCKET_LEASES, name, rec, &rev, err);
    }
    json_decref(rec);
    if (rc)
        return -1;
    snprintf(l->node, sizeof l->node, "%s", node);
    l->epoch = epoch;
    l->rev = rev;
    return 0;
}

int sl_lease_take(sl_kv_t *st, const char *name, const char *node, sl_lease_t *l, sl_err_t *err)
{
    return put(st, name, node, l->epoch + 1, l, err);
}

int sl_lease_renew(sl_kv_t *st, const char *name, sl_lease_t *l, sl_err_t *err)
{
    return put(st, name, l->node, l->epoch, l, err);
}

int sl_lease_release(sl_kv_t *st, const char *name, sl_lease_t *l, sl_err_t *err)
{
    return put(st, name, "", l->epoch, l, err);
}
