/*
 * cdc_spill.c: spills on the writer's side (cdc_txn.c says what they are). A lane
 * batch that refers to a spill (flag SPILLED) has the spill's parts applied before its
 * own changes, in the same target transaction: they are read back from the broker one
 * at a time, in order, by broker sequence on the spill's subject, so a transaction of
 * any size is applied with one part in memory. The lane's message stays unacknowledged
 * meanwhile and is kept in progress, so the broker does not deliver it again; once the
 * transaction is committed (or found committed) the spill is dropped.
 *
 * A part that is not there (the broker lost it) cannot be read again in this session:
 * the caller restarts the session, which reads the transaction again from the source.
 *
 * Thread: the lane's.
 */
#include <inttypes.h>
#include <stdio.h>

#include "core/log.h"
#include "engine/cdc_int.h"

#define KEEP_ALIVE_MS 5000 /* well inside the consumers' 30 s AckWait */

int sl_cdc_spill_each(sl_cdc_run_t *cd, int lane, const sl_cspill_ref_t *ref, const sl_bus_msg_t *msg,
                      sl_cdc_part_fn fn, void *ctx, sl_err_t *err)
{
    uint64_t from = ref->first_seq;
    uint64_t total = 0;
    int64_t alive = sl_cdc_now_ms();
    for (uint32_t part = 1; part <= ref->nparts; part++) {
        sl_bus_msg_t *m = NULL;
        int rc = sl_bus_spill_read(cd->run.bus, cd->spec->name, ref->id, from, &m, err);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            sl_warn("lane %d: part %u of %u of a spilled transaction is not in the broker; reading again from the "
                    "last confirmed position",
                    lane, part, ref->nparts);
            return 1;
        }
        sl_cbatch_view_t v;
        rc = sl_cbatch_decode(sl_bus_msg_data(m), sl_bus_msg_len(m), &v, err);
        if (!rc && (!(v.hdr.flags & SL_CBATCH_SPILL) || v.hdr.epoch != cd->epoch || v.hdr.lane != (uint32_t)lane ||
                    v.hdr.prev.lsn != ref->id || v.hdr.prev.idx != part || !sl_bus_msg_seq(m)))
            rc = sl_err_set(err, SL_E_PROTOCOL, "spilled part %u of spill %" PRIu64 " is not what the broker holds "
                                                "under its name",
                            part, ref->id);
        if (!rc) {
            from = sl_bus_msg_seq(m) + 1;
            total += v.hdr.nchanges;
            rc = fn(ctx, &v, err);
        }
        sl_bus_msg_free(m);
        if (rc)
            return -1;
        int64_t now = sl_cdc_now_ms();
        if (now - alive >= KEEP_ALIVE_MS) {
            /* the lane holds msg for the whole transaction: not to be delivered again */
            sl_bus_in_progress((sl_bus_msg_t *)msg);
            alive = now;
        }
    }
    if (total != ref->nchanges)
        return sl_err_set(err, SL_E_PROTOCOL, "spill %" PRIu64 " holds %" PRIu64 " changes, its reference says %u",
                          ref->id, total, ref->nchanges);
    return 0;
}

void sl_cdc_spill_drop(sl_cdc_run_t *cd, uint64_t id)
{
    sl_err_t err = {0};
    if (sl_bus_spill_drop(cd->run.bus, cd->spec->name, id, &err))
        sl_warn("could not drop an applied spill from the broker: %s (the broker stream is recreated with the "
                "next session)",
                err.message);
}
