/*
 * bus_int.h: what the files of src/broker/ share about a sl_bus_t (bus.c owns it). Not a
 * public interface: the rest of sluice sees bus.h only.
 */
#ifndef SL_BROKER_BUS_INT_H
#define SL_BROKER_BUS_INT_H

#include "broker/bus.h"

/* The connection's JetStream context, borrowed. */
jsCtx *sl_bus_js(sl_bus_t *bus);
/* The replicas new streams get (*exact: given in the URL, no falling back to 1). */
int sl_bus_stream_replicas(sl_bus_t *bus, bool *exact);
/* A pull subscription to durable consumer `durable` of JetStream stream `js_stream`,
 * filtered to subject. */
int sl_bus_pull(sl_bus_t *bus, const char *js_stream, const char *subject, const char *durable, sl_bus_sub_t **out,
                sl_err_t *err);

#endif
