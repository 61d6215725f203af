/*
 * embedded.h: the embedded broker, a supervised `nats-server` child process.
 *
 * sl_broker_start() writes a config under <data_dir>/nats (JetStream file store there,
 * a free loopback port, max_payload raised to 8 MB, the user "sluice" with the password
 * of <data_dir>/nats/password, made on the first start), starts nats-server, waits until
 * it accepts connections, and watches it from a supervisor thread that restarts it
 * (same port, same store) if it dies. The directory, its store, the config and the
 * password file are this user's only (0700 / 0600): no other local user can connect,
 * read the rows in flight or touch the KV buckets. The child gets PR_SET_PDEATHSIG so it never
 * outlives a killed sluice. sl_broker_stop() stops it and frees the handle.
 */
#ifndef SL_BROKER_EMBEDDED_H
#define SL_BROKER_EMBEDDED_H

#include "core/err.h"

typedef struct sl_broker sl_broker_t;

int sl_broker_start(const char *data_dir, sl_broker_t **out, sl_err_t *err);
/* nats://sluice:PASSWORD@127.0.0.1:PORT, owned by the broker: a secret (show it with
 * broker/bus.h sl_bus_url_public). */
const char *sl_broker_url(const sl_broker_t *b);
void sl_broker_stop(sl_broker_t *b);
/* The URL (a secret, caller frees) of the embedded broker another process runs over
 * data_dir, from the config and password it wrote there: for a command that must not
 * start a second broker on a store in use (`sluice key`). */
int sl_broker_url_of(const char *data_dir, char **url, sl_err_t *err);

#endif
