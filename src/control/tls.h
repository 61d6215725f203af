/*
 * tls.h: the HTTPS identity of `sluice server --tls-cert FILE --tls-key FILE`
 * (docs/server.md "HTTPS").
 *
 * The certificate chain and its private key (PEM, the key unencrypted) are read with
 * GnuTLS and handed to libmicrohttpd through its certificate callback, so that a new
 * pair can replace them while the server runs: sl_tls_reload, called on SIGHUP and when
 * either file changes. A pair that does not load (a key that does not match, a file half
 * written) leaves the one in use in place.
 *
 * A key file that other users may read is refused, as ssh refuses such a private key:
 * its mode must give nothing to others and at most read to the group (0600, or 0640 for
 * a group such as Debian's ssl-cert).
 *
 * One identity per process (the callback has no context pointer). sl_tls_reload and
 * sl_tls_free run on one thread; the callback runs on libmicrohttpd's thread. Identities
 * replaced by a reload are freed with the handle, never while a handshake may use them.
 */
#ifndef SL_CONTROL_TLS_H
#define SL_CONTROL_TLS_H

#include <stdbool.h>

#include <gnutls/abstract.h>

#include "core/err.h"

typedef struct sl_tls sl_tls_t;

/* Loads the pair (errors name the file and say what to do). */
int sl_tls_open(const char *cert_file, const char *key_file, sl_tls_t **out, sl_err_t *err);
/* Loads the pair again when a file changed since the last attempt (force: also when not,
 * e.g. on SIGHUP): 1 when a new pair is in use, 0 when nothing changed, -1 with err when
 * the new pair was refused (the current one stays). */
int sl_tls_reload(sl_tls_t *t, bool force, sl_err_t *err);
/* The value for libmicrohttpd's MHD_OPTION_HTTPS_CERT_CALLBACK: hands out the pair in use. */
gnutls_certificate_retrieve_function2 *sl_tls_callback(void);
/* What is in use, for the log: "CN=…, expires 2027-01-31" (static per handle). */
const char *sl_tls_describe(sl_tls_t *t);
void sl_tls_free(sl_tls_t *t); /* NULL: no-op */

#endif
