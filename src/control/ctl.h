/*
 * ctl.h: the control plane of `sluice server` (docs/server.md): the HTTP API over
 * libmicrohttpd (http.c), connections (conns.c), streams and their lifecycle
 * (streams.c), on top of the KV store (store.c), the secret box (secret.c), the API keys
 * (apikey.c, keys.c), HTTPS (tls.c), the child-process runner (runner.c) and the
 * monitoring plane (monitor/).
 *
 * Threads: libmicrohttpd runs one thread for every connection (epoll); each API handler
 * runs on a worker thread of its own (http_async.c), so handlers may run at once.
 * ctl->mu serialises lifecycle changes of streams (start, pause, stop, delete, and the
 * runner's callbacks); it is never held while waiting for a child. Reads of the KV store
 * take no lock.
 */
#ifndef SL_CONTROL_CTL_H
#define SL_CONTROL_CTL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <jansson.h>

#include "broker/bus.h"
#include "control/apikey.h"
#include "control/route.h"
#include "control/runner.h"
#include "control/secret.h"
#include "control/state.h"
#include "control/store.h"
#include "control/tls.h"
#include "core/err.h"
#include "monitor/monitor.h"

typedef struct sl_ctl_opts {
    const char *listen;   /* "host:port" (port 0: any free one) */
    const char *data_dir;
    const char *nats_url; /* the broker (embedded or external) */
    const char *exe;      /* the sluice binary for stream children */
    sl_apikey_t *apikey;  /* borrowed: the server key (admin) */
    sl_tls_t *tls;        /* borrowed: HTTPS with this identity; NULL: plain HTTP */
    sl_secret_key_t key;
    sl_monitor_t *mon;    /* borrowed */
} sl_ctl_opts_t;

typedef struct sl_ctl sl_ctl_t;
typedef struct sl_verify sl_verify_t;

/* Opens the store, starts the runner, brings streams back (running → started again,
 * stopping → stopped) and starts the HTTP server. */
int sl_ctl_start(const sl_ctl_opts_t *o, sl_ctl_t **out, sl_err_t *err);
/* The port the API listens on. */
int sl_ctl_port(const sl_ctl_t *ctl);
/* Stops HTTP, stops the children (their stored state stays, so they start again with the
 * server), closes and frees. NULL: no-op. */
void sl_ctl_stop(sl_ctl_t *ctl);

/* ---- internal: shared by http.c, conns.c, streams.c ---------------------------- */

typedef struct sl_resp {
    int status;
    json_t *body;      /* JSON response (owned), or */
    char *text;        /* a text body (owned) with ctype */
    const char *ctype;
} sl_resp_t;

typedef struct sl_req {
    const sl_route_match_t *m;
    json_t *body;      /* the parsed body object, NULL when none was sent */
    /* Query parameter lookup (NULL when absent). */
    const char *(*query)(void *qctx, const char *key);
    void *qctx;
} sl_req_t;

struct sl_ctl {
    sl_ctl_opts_t o;
    char *data_dir;
    char *nats_url;
    char node[40];  /* this server's id (DIR/node-id): which server runs a stream */
    sl_kv_t *store;
    sl_keys_t *keys; /* the named API keys, following the broker (keys.c) */
    sl_bus_t *bus;
    sl_runner_t *runner;
    struct MHD_Daemon *httpd;
    struct sl_async *async; /* workers and parked event streams (http_async.c) */
    int port;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_bool stopping; /* written by sl_ctl_stop, read by the HTTP threads */
    struct rt *rts; /* streams with a child or an action in flight (streams.c) */
    struct sl_own *own;            /* the leases of the streams it runs (own.h) */
    struct sl_bus_server *forward; /* answers other servers' forwarded actions (cluster.c) */
    sl_verify_t *verify; /* verify jobs (verify_job.c) */
};

typedef int (*sl_handler_fn)(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e);

/* conns.c */
int sl_ctl_conn_list(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
int sl_ctl_conn_create(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
int sl_ctl_conn_get(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
int sl_ctl_conn_put(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
int sl_ctl_conn_delete(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
int sl_ctl_conn_test(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
int sl_ctl_conn_tables(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
/* The connection record by id or name (*rec new reference, *rev its revision): 404. */
int sl_ctl_conn_find(sl_ctl_t *ctl, const char *id_or_name, json_t **rec, uint64_t *rev,
                     sl_api_err_t *e);
/* The opened secrets of a connection record: {"url": with the password, "password"?,
 * "access_key_id"?, "secret_access_key"?} (new reference). */
json_t *sl_ctl_conn_secrets(sl_ctl_t *ctl, const json_t *rec, sl_api_err_t *e);

/* streams.c */
int sl_ctl_stream_list(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
int sl_ctl_stream_create(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
int sl_ctl_stream_get(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
int sl_ctl_stream_put(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
int sl_ctl_stream_delete(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
int sl_ctl_stream_start(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
int sl_ctl_stream_pause(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
int sl_ctl_stream_resume(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
int sl_ctl_stream_stop(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
int sl_ctl_stream_stats(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
int sl_ctl_stream_logs(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
/* verify_job.c: POST/GET /api/v1/streams/{id}/verify, jobs run by a runner of their own. */
int sl_verify_start(sl_ctl_t *ctl, sl_verify_t **out, sl_err_t *err);
void sl_verify_stop(sl_verify_t *v); /* NULL: no-op */
int sl_ctl_stream_verify_start(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
int sl_ctl_stream_verify_get(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
/* stream_tables.c: the tables of a cdc stream (docs/api.md "Tables of a stream"). */
int sl_ctl_stream_tables_add(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
int sl_ctl_stream_table_delete(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
int sl_ctl_stream_table_resync(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
/* A stream record as responses show it (no sealed spec, with a stats summary). */
json_t *sl_ctl_stream_public(sl_ctl_t *ctl, const json_t *rec);
/* Sets rec's "spec" (masked), "sealed_spec" and "updated_at" from the full spec. */
void sl_ctl_stream_respec(sl_ctl_t *ctl, json_t *rec, const json_t *full);
/* options.c */
int sl_ctl_options(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
/* POST /api/v1/check (check.c). */
int sl_ctl_check(sl_ctl_t *, const sl_req_t *, sl_resp_t *, sl_api_err_t *);
/* The stream record by id or name: 404 when absent. */
int sl_ctl_stream_find(sl_ctl_t *ctl, const char *id_or_name, json_t **rec, uint64_t *rev,
                       sl_api_err_t *e);
/* stream_run.c: the processes and states of streams (ctl->mu serialises them). */
/* cluster.c: servers on one NATS (docs/cluster.md). Starts the leases' threads (which
 * bring back the streams this server ran and take over those nobody runs, own.h) and
 * the answering of forwarded actions. */
int sl_ctl_cluster_start(sl_ctl_t *ctl, sl_err_t *err);
/* This process's id in DIR/node-id ("<prefix>_" + 16 hex digits, created on the first
 * start): a server's is the "node" of the streams it runs, a worker's names it in logs. */
int sl_ctl_node_load(const char *data_dir, char prefix, char *node, size_t size, sl_err_t *err);
/* Stops answering forwarded actions (before the children are stopped). */
void sl_ctl_cluster_unserve(sl_ctl_t *ctl);
/* Asks server node to do action ("pause", "stop", "logs") on stream id (req: its query,
 * may be NULL): 0 with its body in *body (new reference, may be NULL), or its API error.
 * 503 unavailable when it does not answer; 409 when this request came from another
 * server already (an action is forwarded once). */
int sl_ctl_forward(sl_ctl_t *ctl, const char *node, const char *action, const char *id, const sl_req_t *req,
                   json_t **body, sl_api_err_t *e);
/* 409 invalid_state unless action a is allowed in the state of stream record rec. */
int sl_ctl_stream_check(const json_t *rec, sl_action_t a, sl_api_err_t *e);
/* Stores state st (and error, borrowed, NULL for none) of stream id and reports it. */
int sl_ctl_stream_set_state(sl_ctl_t *ctl, const char *id, sl_state_t st, const json_t *error);
/* start, resume or recover (a) stream id_or_name: spawns its child. ctl->mu held. */
int sl_ctl_stream_start_locked(sl_ctl_t *ctl, const char *id_or_name, sl_action_t a, char *id_out,
                               sl_api_err_t *e);
/* pause or stop (intent) stream id_or_name: SIGTERMs its child and waits for the exit
 * (takes ctl->mu). id_out (24 bytes): the stream's id. */
int sl_ctl_stream_halt(sl_ctl_t *ctl, const char *id_or_name, sl_intent_t intent, char *id_out,
                       sl_api_err_t *e);
/* Whether this server runs a child for stream id (ctl->mu held). */
bool sl_ctl_stream_busy(sl_ctl_t *ctl, const char *id);
/* Drops what this server keeps about stream id (after a delete; ctl->mu held). */
void sl_ctl_stream_forget_rt(sl_ctl_t *ctl, const char *id);
/* Frees what streams.c keeps in memory (at the end of sl_ctl_stop). */
void sl_ctl_streams_forget(sl_ctl_t *ctl);
/* Runner callbacks. */
void sl_ctl_on_line(void *ctx, const char *id, const char *name, const char *level,
                    const char *message);
void sl_ctl_on_up(void *ctx, const char *id);
void sl_ctl_on_exit(void *ctx, const char *id, int code, const json_t *last_error);

/* Helpers (conns.c). */
/* The record of bucket b by id or name (*rec new reference, *rev its revision): 404
 * not_found when there is none. */
int sl_ctl_find(sl_ctl_t *ctl, sl_bucket_t b, const char *id_or_name, json_t **rec, uint64_t *rev,
                sl_api_err_t *e);
/* "c_" or "s_" + 16 random hex digits into buf (20 bytes). */
void sl_ctl_new_id(char prefix, char *buf);
/* RFC 3339 UTC now with milliseconds into buf (32 bytes). */
const char *sl_ctl_now(char *buf);
/* The JSON object sealed in field of record rec (new reference): 500 internal when it is
 * missing, sealed with another key or damaged (what names it in the message). */
json_t *sl_ctl_unseal(sl_ctl_t *ctl, const json_t *rec, const char *field, const char *what, sl_api_err_t *e);
/* An sl_err_t as an API error with status and code. */
int sl_ctl_err(sl_api_err_t *e, int status, const char *code, const sl_err_t *err);

/* names.c: unique names (atomic, also across servers on one NATS). */
/* Claims name of bucket b for record id: 0 (also when id owns it already), or 409
 * name_taken. */
int sl_ctl_name_claim(sl_ctl_t *ctl, sl_bucket_t b, const char *name, const char *id, sl_api_err_t *e);
/* Frees name if record id still owns it. */
void sl_ctl_name_release(sl_ctl_t *ctl, sl_bucket_t b, const char *name, const char *id);
/* The id of the record that owns name into id: 0, or -1 when none does. */
int sl_ctl_name_lookup(sl_ctl_t *ctl, sl_bucket_t b, const char *name, char *id, size_t size);
/* Stores rec over old (compare-and-set on *rev), claiming its new name first and
 * releasing the old one after: 0, or the API error (409 name_taken, 409 invalid_state
 * when the record changed meanwhile). */
int sl_ctl_rename(sl_ctl_t *ctl, sl_bucket_t b, const json_t *old, const json_t *rec, uint64_t *rev,
                  sl_api_err_t *e);
/* Claims the names of records stored without one (by an older server). At start. */
void sl_ctl_names_rebuild(sl_ctl_t *ctl);

/* stream_spec.c: secrets inside stream specs. */
/* Masks, in place, every secret of a spec: "password", "secret_access_key", URL passwords. */
void sl_ctl_spec_mask(json_t *spec);
/* Replaces, in place, each "****" of spec by the secret at the same place in old (the
 * stored full spec, may be NULL), where the endpoint's URL did not change; 400
 * secret_required where it did. where: the path for messages ("" at the top). */
int sl_ctl_spec_unmask(json_t *spec, const json_t *old, const char *where, sl_api_err_t *e);
/* Resolves a full spec: every {"connection": …} endpoint becomes {"url", "password"?,
 * "tables"?} of that connection. *secrets: every secret in the result (NULL-terminated,
 * sl_secret_list_free). Validates the result with the spec parser (*parsed, may be NULL). */
struct sl_spec;
json_t *sl_ctl_spec_resolve(sl_ctl_t *ctl, const json_t *full, char ***secrets, struct sl_spec **parsed,
                            sl_api_err_t *e);
/* The full spec (with its inline secrets) of a stream record (new reference). */
json_t *sl_ctl_spec_full(sl_ctl_t *ctl, const json_t *rec, sl_api_err_t *e);

#endif
