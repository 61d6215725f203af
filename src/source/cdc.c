/*
 * cdc.c: the change-stream registry (source/cdc.h): CDC ops by URL scheme, opening a
 * stream's connection from its source URL, and what the sources share.
 */
#include "source/cdc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/url.h"

extern const struct sl_cdc_ops sl_pg_cdc_ops;
extern const struct sl_cdc_ops sl_mysql_cdc_ops;

const struct sl_cdc_ops *sl_cdc_lookup(const char *scheme)
{
    if (scheme && (!strcmp(scheme, "postgres") || !strcmp(scheme, "postgresql")))
        return &sl_pg_cdc_ops;
    if (scheme && (!strcmp(scheme, "mysql") || !strcmp(scheme, "mariadb")))
        return &sl_mysql_cdc_ops;
    return NULL;
}

int sl_cdc_open(const char *url, const sl_cdc_id_t *id, sl_cdc_t **out, sl_err_t *err)
{
    sl_url_t *u;
    if (sl_url_parse(url, &u, err))
        return -1;
    const struct sl_cdc_ops *ops = sl_cdc_lookup(u->scheme);
    if (!ops) {
        sl_err_set(err, SL_E_CONFIG, "a %s source cannot stream changes yet", u->scheme);
        sl_err_hint(err, "change data capture is available from PostgreSQL and MariaDB/MySQL sources");
        sl_url_free(u);
        return -1;
    }
    sl_url_free(u);
    return ops->open(url, id, out, err);
}

int sl_cdc_bad_state(const char *stream, const char *state, const char *what, sl_err_t *err)
{
    sl_err_set(err, SL_E_PROTOCOL, "checkpoint \"cdc_source\" of stream \"%s\" does not name %s", stream, what);
    sl_err_detail(err, "it holds: %.200s", state);
    sl_err_hint(err, "run `sluice cleanup` and `sluice run --restart` to copy the tables again");
    if (err)
        err->fatal = true;
    return -1;
}

/* ---- snapshots that tables are copied in -------------------------------------------- */

/* xid widened to 64 bits with the epoch of ref (ids of the stream are within 2^31 of it). */
static uint64_t widen(uint64_t ref, uint32_t xid)
{
    uint64_t full = (ref & ~(uint64_t)UINT32_MAX) | xid;
    if (full > ref && full - ref > (uint64_t)INT32_MAX && full >= ((uint64_t)1 << 32))
        full -= (uint64_t)1 << 32;
    else if (full < ref && ref - full > (uint64_t)INT32_MAX)
        full += (uint64_t)1 << 32;
    return full;
}

bool sl_cdc_snap_running(const sl_cdc_snap_t *snap, uint32_t xid)
{
    if (snap->below)
        return false;
    uint64_t x = widen(snap->xmax, xid);
    if (x >= snap->xmax)
        return true;
    for (int i = 0; i < snap->nxip; i++)
        if (snap->xip[i] == x)
            return true;
    return false;
}

bool sl_cdc_snap_sees(const sl_cdc_snap_t *snap, uint64_t xact_lsn, uint32_t xid)
{
    if (snap->below)
        return xact_lsn < snap->below;
    return !sl_cdc_snap_running(snap, xid);
}

void sl_cdc_snap_clear(sl_cdc_snap_t *snap)
{
    free(snap->xip);
    memset(snap, 0, sizeof *snap);
}

int sl_cdc_snap_parse_pg(const char *text, sl_cdc_snap_t *snap)
{
    memset(snap, 0, sizeof *snap);
    const char *p = text;
    char *end;
    if (!p || *p < '0' || *p > '9')
        return -1;
    unsigned long long xmin = strtoull(p, &end, 10);
    if (*end != ':' || end[1] < '0' || end[1] > '9')
        return -1;
    unsigned long long xmax = strtoull(end + 1, &end, 10);
    if (*end != ':' || xmin > xmax)
        return -1;
    p = end + 1;
    size_t cap = 0;
    for (const char *q = p; *q; q++)
        cap += *q == ',';
    uint64_t *xip = calloc(cap + 2, sizeof *xip);
    if (!xip)
        sl_oom();
    int n = 0;
    while (*p) {
        if (*p < '0' || *p > '9')
            goto bad;
        unsigned long long x = strtoull(p, &end, 10);
        if (x < xmin || x >= xmax || (*end && *end != ','))
            goto bad;
        xip[n++] = x;
        p = *end ? end + 1 : end;
        if (*end && !*p)
            goto bad;
    }
    snap->xmin = xmin;
    snap->xmax = xmax;
    snap->xip = xip;
    snap->nxip = n;
    return 0;
bad:
    free(xip);
    return -1;
}
