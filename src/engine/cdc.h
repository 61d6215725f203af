/*
 * cdc.h: running a `cdc` stream: an initial load from a snapshot of the source
 * (optional), then the change stream from exactly the position of that snapshot, applied
 * exactly once by writer lanes (docs/design.md "Modes", "Exactly once", "Ordering"). The
 * source is any change source of source/cdc.h.
 *
 * sl_cdc_run() runs on the caller's thread (which reads the replication stream) and
 * starts writer threads of its own; it returns when *opts->stop is set (after draining
 * and confirming) or on a failure that retrying cannot fix.
 */
#ifndef SL_ENGINE_CDC_H
#define SL_ENGINE_CDC_H

#include "broker/bus.h"
#include "core/err.h"
#include "engine/load.h"
#include "engine/spec.h"

typedef enum { SL_CDC_STOPPED, SL_CDC_FAILED } sl_cdc_result_t;

sl_cdc_result_t sl_cdc_run(const sl_spec_t *spec, sl_bus_t *bus, const sl_load_opts_t *opts,
                           sl_err_t *err);

/* `sluice cleanup`: drops what the stream created on the source (PostgreSQL: its
 * replication slot and publication, each only if it is the stream's own; MariaDB:
 * nothing) and deletes its checkpoints on the target. */
int sl_cdc_cleanup(const sl_spec_t *spec, sl_err_t *err);

#endif
