/*
 * bus.h: the data path over NATS JetStream.
 *
 * Each sluice stream gets its own JetStream stream "SLUICE_<name>" on subjects
 * "sluice.<name>.data.<lane>", with one durable pull consumer per lane ("lane<N>",
 * filtered to its subject, at most one unacknowledged message) so that a lane sees
 * its batches in order and several streams never mix. Messages are file-stored in a
 * work queue (deleted once acknowledged) and deduplicated by Nats-Msg-Id.
 *
 * A sl_bus_t is one NATS connection, safe to share between threads; a sl_bus_sub_t is
 * one lane's subscription, used by one writer thread; a sl_bus_msg_t is one message it
 * fetched, opaque outside src/broker/ (nats.c's message calls stay here).
 *
 * The monitoring plane also listens on core NATS subjects (sl_bus_listen), apart from
 * the JetStream data path.
 */
#ifndef SL_BROKER_BUS_H
#define SL_BROKER_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#include "core/err.h"

typedef struct sl_bus sl_bus_t;
typedef struct sl_bus_sub sl_bus_sub_t;
typedef struct sl_bus_msg sl_bus_msg_t;
typedef struct sl_bus_listener sl_bus_listener_t;

/* ---- reaching the broker (bus_conf.c, docs/server.md "Broker") -------------------- */

/* A NATS URL parsed: nats://[user:password@|token@]host:port[,…][?creds=FILE&nkey=FILE
 * &ca=FILE&cert=FILE&key=FILE&tls=true&replicas=N]. Owns its strings. */
typedef struct sl_bus_conf {
    char **servers;     /* "nats://host:port" (or tls://), without user info */
    int nservers;
    char *user, *password, *token;
    char *creds, *nkey; /* a .creds file; an NKey seed file */
    char *ca, *cert, *key;
    bool tls;
    int replicas;       /* copies of sluice's streams and KV buckets; 0: not given */
} sl_bus_conf_t;

/* How many replicas sluice asks for its JetStream streams and KV buckets on the broker of
 * url: replicas= when given (*exact), else 3, which a server without a cluster refuses:
 * sl_bus_unclustered then says to use 1 (docs/cluster.md "Replicas"). */
int sl_bus_replicas(const char *url, bool *exact);
/* True when a JetStream error says that the server runs without a cluster (more than
 * one replica refused): status s and JetStream error jerr (0: read nats.c's last error). */
bool sl_bus_unclustered(natsStatus s, int jerr);
/* Parses url (pure): SL_E_CONFIG naming the problem, never the password. */
int sl_bus_conf_parse(const char *url, sl_bus_conf_t *c, sl_err_t *err);
void sl_bus_conf_free(sl_bus_conf_t *c);
/* The public key ("U…", 56 characters, into pub of at least 58 bytes) of a user NKey
 * seed ("SU…", pure). */
int sl_bus_nkey_public(const char *seed, char *pub, size_t size, sl_err_t *err);
/* New nats.c options for url: its servers, credentials and TLS settings (reads the
 * seed file of nkey=). The caller adds its own settings and destroys them. */
int sl_bus_options(const char *url, natsOptions **out, sl_err_t *err);
/* url as it may be shown: every user info (password or token) replaced by "****"
 * (caller frees). */
char *sl_bus_url_public(const char *url);

int sl_bus_connect(const char *url, sl_bus_t **out, sl_err_t *err);
void sl_bus_close(sl_bus_t *bus);
/* How many times the connection was re-established (the broker restarted or the
 * network dropped): state the broker had not synchronised may be gone. */
int sl_bus_reconnects(sl_bus_t *bus);
/* The connection itself, borrowed (valid until sl_bus_close): the monitoring plane
 * publishes its stats on it with core NATS, apart from the JetStream data path. */
natsConnection *sl_bus_nats(sl_bus_t *bus);
/* The server's max_payload in bytes. */
int64_t sl_bus_max_payload(sl_bus_t *bus);
/* Deletes the stream's JetStream stream if present and creates it afresh with one
 * consumer per lane (stale batches of an earlier run are useless: the writers'
 * checkpoints say where to resume). */
int sl_bus_stream_reset(sl_bus_t *bus, const char *stream, int lanes, sl_err_t *err);
/* The same, with tag as the stream's description: which pass of the stream it serves
 * (a worker drops a job whose pass is over, sl_bus_stream_pending). */
int sl_bus_stream_reset_tagged(sl_bus_t *bus, const char *stream, int lanes, const char *tag, sl_err_t *err);
int sl_bus_stream_delete(sl_bus_t *bus, const char *stream, sl_err_t *err);
/* Publishes and waits for the broker's acknowledgement (the batch is stored). */
int sl_bus_publish(sl_bus_t *bus, const char *stream, int lane, const char *msgid,
                   const void *data, size_t len, sl_err_t *err);
int sl_bus_subscribe(sl_bus_t *bus, const char *stream, int lane, sl_bus_sub_t **out, sl_err_t *err);
void sl_bus_unsubscribe(sl_bus_sub_t *sub);
/* Waits up to timeout_ms for the lane's next message: 1 with *msg (the caller settles it
 * with one of ack, nak or term, or leaves it unsettled, then frees it with
 * sl_bus_msg_free), 0 on timeout, -1 on error. */
int sl_bus_fetch(sl_bus_sub_t *sub, sl_bus_msg_t **msg, int64_t timeout_ms, sl_err_t *err);
void sl_bus_msg_free(sl_bus_msg_t *msg);
/* The payload, borrowed until sl_bus_msg_free. */
const void *sl_bus_msg_data(const sl_bus_msg_t *msg);
size_t sl_bus_msg_len(const sl_bus_msg_t *msg);
/* How many times this message was delivered (1 the first time). */
uint64_t sl_bus_msg_delivered(const sl_bus_msg_t *msg);
/* Its sequence number in the broker stream (0 when unknown): names it in messages. */
uint64_t sl_bus_msg_seq(const sl_bus_msg_t *msg);
/* Settling a message. A lost ack, nak or in-progress only makes the broker deliver the
 * message again (the writers' checkpoints skip what they applied), so none reports
 * failure. */
void sl_bus_ack(sl_bus_msg_t *msg);                     /* done: never delivered again */
void sl_bus_nak(sl_bus_msg_t *msg, int64_t delay_ms);   /* deliver it again after delay_ms */
void sl_bus_in_progress(sl_bus_msg_t *msg);             /* still working: restart the ack timer */
void sl_bus_term(sl_bus_msg_t *msg);                    /* unreadable: never deliver it again */

/* Spills (engine/cdc_txn.c): the parts of a transaction larger than a batch, published
 * on subject "sluice.<name>.data.s<id>" of the stream while it is read (no consumer
 * takes them), read back in order by sequence when it is applied, then dropped. */
int sl_bus_spill_publish(sl_bus_t *bus, const char *stream, uint64_t id, const char *msgid, const void *data,
                         size_t len, uint64_t *seq, sl_err_t *err);
/* The first part of spill id at or after broker sequence `from`: 1 with *msg (its
 * sequence is sl_bus_msg_seq; free it with sl_bus_msg_free, never settle it), 0 when
 * there is none, -1 on error. */
int sl_bus_spill_read(sl_bus_t *bus, const char *stream, uint64_t id, uint64_t from, sl_bus_msg_t **msg,
                      sl_err_t *err);
/* Deletes every part of spill id. */
int sl_bus_spill_drop(sl_bus_t *bus, const char *stream, uint64_t id, sl_err_t *err);

/* Core NATS, for the monitoring plane: fn runs on nats.c's delivery thread with each
 * message on a subject matching `subject` (wildcards allowed), its subject and payload
 * borrowed for the call. At most 4,096 messages or 64 MiB wait for fn; beyond that
 * nats.c drops messages (the monitoring plane's figures are replaced every second). */
typedef void (*sl_bus_listen_fn)(void *ctx, const char *subject, const void *data, size_t len);
int sl_bus_listen(sl_bus_t *bus, const char *subject, sl_bus_listen_fn fn, void *ctx, sl_bus_listener_t **out,
                  sl_err_t *err);
/* Stops the delivery and waits up to timeout_ms until fn will not run again. Returns
 * true when it will not (ctx may go), false when it still may (the listener is then
 * left allocated rather than freed under a late call). sl_bus_unlisten(NULL) is true. */
bool sl_bus_unlisten(sl_bus_listener_t *l, int timeout_ms);

/* ---- work for workers (bus_jobs.c, docs/cluster.md "Workers") --------------------- */

/* A job a worker took goes to another worker this long after its last sign of life
 * (sl_bus_in_progress). */
#define SL_BUS_JOB_WAIT_MS 10000
/* Creates the job queue (JetStream stream SLUICE_JOBS, consumer "workers") if missing. */
int sl_bus_jobs_ensure(sl_bus_t *bus, sl_err_t *err);
/* Queues a job for stream's workers (msgid deduplicates a retried publish). */
int sl_bus_job_publish(sl_bus_t *bus, const char *stream, const char *msgid, const void *data, size_t len,
                       sl_err_t *err);
/* Withdraws every job of stream nobody has taken yet. */
int sl_bus_jobs_purge(sl_bus_t *bus, const char *stream, sl_err_t *err);
/* A worker's subscription to the job queue: fetch with sl_bus_fetch, keep a job with
 * sl_bus_in_progress, end it with ack (done), nak (another may do it) or term. */
int sl_bus_jobs_subscribe(sl_bus_t *bus, sl_bus_sub_t **out, sl_err_t *err);
/* A load's stripes to read (docs/cluster.md "Workers"): the work queue
 * SLUICE_<stream>_STRIPES on "sluice.<stream>.stripes", one consumer "readers" that the
 * owner's readers and the workers' share; a stripe stays unacknowledged while it is read
 * (in progress at least every SL_BUS_JOB_WAIT_MS / 3). reset deletes and creates it;
 * sl_bus_stream_delete deletes it too. */
int sl_bus_stripes_reset(sl_bus_t *bus, const char *stream, sl_err_t *err);
int sl_bus_stripes_delete(sl_bus_t *bus, const char *stream, sl_err_t *err);
int sl_bus_stripe_publish(sl_bus_t *bus, const char *stream, const char *msgid, const void *data, size_t len,
                          sl_err_t *err);
int sl_bus_stripes_subscribe(sl_bus_t *bus, const char *stream, sl_bus_sub_t **out, sl_err_t *err);
/* The messages of stream's JetStream stream published and not yet acknowledged (*n), its
 * tag into tag (size bytes, "" when none), and whether that stream exists. */
int sl_bus_stream_pending(sl_bus_t *bus, const char *stream, int64_t *n, char *tag, size_t size, bool *exists,
                          sl_err_t *err);
/* Publishes on core NATS, fire and forget (reports between a stream's owner and its
 * workers); -1 when the connection refused it. */
int sl_bus_notify(sl_bus_t *bus, const char *subject, const void *data, size_t len);

/* ---- request and reply (bus_rpc.c): the control plane's forwarding ---------------- */

typedef struct sl_bus_server sl_bus_server_t;
typedef struct sl_bus_req sl_bus_req_t;
/* Runs on a thread of its own for each request to a served subject; answers it with
 * sl_bus_respond (at most once; an unanswered request gets an empty reply when fn
 * returns). The request is freed after fn returns. */
typedef void (*sl_bus_serve_fn)(void *ctx, sl_bus_req_t *req);
int sl_bus_serve(sl_bus_t *bus, const char *subject, sl_bus_serve_fn fn, void *ctx, sl_bus_server_t **out,
                 sl_err_t *err);
/* Stops serving and waits up to timeout_ms for the handlers running: true when none is
 * left (ctx may go). NULL: true. */
bool sl_bus_unserve(sl_bus_server_t *s, int timeout_ms);
const void *sl_bus_req_data(const sl_bus_req_t *r); /* borrowed for the handler's call */
size_t sl_bus_req_len(const sl_bus_req_t *r);
void sl_bus_respond(sl_bus_req_t *r, const void *data, size_t len);
/* Sends a request and waits up to timeout_ms for the answer: *reply (NUL-terminated,
 * caller frees) and its length. SL_E_BROKER (retriable) when nobody answered in time. */
int sl_bus_request(sl_bus_t *bus, const char *subject, const void *data, size_t len, int timeout_ms, char **reply,
                   size_t *rlen, sl_err_t *err);

#endif
