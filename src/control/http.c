/*
 * http.c: the HTTP server of the control plane and the life of the whole control plane
 * (sl_ctl_start / sl_ctl_stop, see ctl.h).
 *
 * libmicrohttpd runs one internal thread over epoll, so an idle client costs a socket, not
 * a thread: many connections that send half a request cannot lock others out. Each
 * connection must make progress within HTTP_TIMEOUT_S, and one client address may hold
 * at most HTTP_PER_IP connections. That thread never blocks: an API handler (which may
 * connect to a database or wait two minutes for a stream to drain) runs on a worker
 * thread of its own while its connection is suspended, and is resumed with the answer; a
 * server-sent-events reader that has nothing to send suspends its connection, and a
 * ticker resumes the parked ones every TICK_MS to look again.
 *
 * Every request is routed by the pure route table (route.c) at its first callback, when
 * only the headers are known: unknown routes, methods, a missing or wrong key, a
 * read-only key on a route that needs admin, a body over 1 MiB (by Content-Length) and a
 * body that is not JSON are answered before any of the body is read. Bodies arrive in
 * pieces into a buffer bounded at 1 MiB.
 *
 * With --tls-cert/--tls-key the same daemon speaks HTTPS only (libmicrohttpd over
 * GnuTLS; the pair comes from tls.c at each handshake): the timeouts, the per-address
 * cap, the workers and the parked event streams work the same, on decrypted requests.
 */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include <microhttpd.h>

#include "control/assets.h"
#include "control/ctl.h"
#include "control/own.h"
#include "control/http_int.h"
#include "core/buf.h"
#include "core/log.h"
#include "model/schema.h"

#define BODY_MAX (1024 * 1024)
#define HTTP_TIMEOUT_S 10 /* a connection that makes no progress for this long is closed */
#define HTTP_PER_IP 64    /* connections one client address may hold */
#define DRAIN_MS 130000   /* at stop, how long handlers in flight may take (a pause: 2 min) */
/* GnuTLS's defaults without TLS 1.0 and 1.1 */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.1.0"
#endif

typedef struct reqst {
    sl_route_match_t m;
    sl_role_t role;    /* of the key sent (SL_ROLE_NONE on open routes) */
    char key_name[64]; /* of a named key; "" for the server key */
    sl_buf_t body;
    bool body_seen;
    bool responded;
    /* An API request on a worker: its handler's request, answer and status. */
    sl_ctl_t *ctl;
    sl_req_t req;
    sl_resp_t resp;
    sl_api_err_t e;
    int rc;
    atomic_bool done;
    sl_monitor_sub_t *sub; /* an event stream's subscription and first event */
    char *first;
} reqst_t;

static const sl_handler_fn handlers[SL_R_COUNT] = {
    [SL_R_CONN_LIST] = sl_ctl_conn_list,         [SL_R_CONN_CREATE] = sl_ctl_conn_create,
    [SL_R_CONN_GET] = sl_ctl_conn_get,           [SL_R_CONN_PUT] = sl_ctl_conn_put,
    [SL_R_CONN_DELETE] = sl_ctl_conn_delete,     [SL_R_CONN_TEST] = sl_ctl_conn_test,
    [SL_R_CONN_TABLES] = sl_ctl_conn_tables,     [SL_R_STREAM_LIST] = sl_ctl_stream_list,
    [SL_R_STREAM_CREATE] = sl_ctl_stream_create, [SL_R_STREAM_GET] = sl_ctl_stream_get,
    [SL_R_STREAM_PUT] = sl_ctl_stream_put,       [SL_R_STREAM_DELETE] = sl_ctl_stream_delete,
    [SL_R_STREAM_START] = sl_ctl_stream_start,   [SL_R_STREAM_PAUSE] = sl_ctl_stream_pause,
    [SL_R_STREAM_RESUME] = sl_ctl_stream_resume, [SL_R_STREAM_STOP] = sl_ctl_stream_stop,
    [SL_R_STREAM_STATS] = sl_ctl_stream_stats,   [SL_R_STREAM_LOGS] = sl_ctl_stream_logs,
    [SL_R_OPTIONS] = sl_ctl_options,
    [SL_R_STREAM_VERIFY_START] = sl_ctl_stream_verify_start, [SL_R_STREAM_VERIFY_GET] = sl_ctl_stream_verify_get,
    [SL_R_STREAM_TABLES_ADD] = sl_ctl_stream_tables_add,
    [SL_R_STREAM_TABLE_DELETE] = sl_ctl_stream_table_delete,
    [SL_R_STREAM_TABLE_RESYNC] = sl_ctl_stream_table_resync,
    [SL_R_CHECK] = sl_ctl_check,
};

/* libmicrohttpd's own messages, into our log. Most are about one client: a broken TLS
 * handshake (a plain-HTTP client on the HTTPS port, a client that does not trust the
 * certificate), a client gone in the middle of an answer, an address over its connection
 * cap. Those are debug (a flood must not flood the log too). What says the server itself
 * is short of something (memory, threads, epoll, a socket) is warn. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    static const char *const server_side[] = {"memory", "thread", "epoll", "Failed to create", "bind", "listen"};
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\r\n")] = '\0';
    for (size_t i = 0; i < sizeof server_side / sizeof server_side[0]; i++)
        if (strcasestr(line, server_side[i])) {
            sl_warn("http: %s", line);
            return;
        }
    sl_debug("http: %s", line);
}

static enum MHD_Result send_text(struct MHD_Connection *conn, int status, const char *ctype,
                                 char *text, size_t len, bool close)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", ctype);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (close)
        MHD_add_response_header(r, "Connection", "close");
    if (status == 401)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, int status, json_t *body, bool close)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return send_text(conn, status, "application/json", text, strlen(text), close);
}

static enum MHD_Result send_err(struct MHD_Connection *conn, const sl_api_err_t *e, bool close)
{
    json_t *err = json_pack("{s:s, s:s}", "code", e->code, "message", e->message);
    if (e->detail[0])
        json_object_set_new(err, "detail", json_string(e->detail));
    if (e->hint[0])
        json_object_set_new(err, "hint", json_string(e->hint));
    sl_debug("http: %d %s: %s", e->status, e->code, e->message);
    return send_json(conn, e->status, json_pack("{s:o}", "error", err), close);
}

static const char *query(void *qctx, const char *key)
{
    return MHD_lookup_connection_value(qctx, MHD_GET_ARGUMENT_KIND, key);
}

/* ---- server-sent events ---------------------------------------------------------- */

/* A worker: finds the stream and subscribes to its events, the current state first, so a
 * client needs no separate GET (respond() then starts the stream). */
static int events_prepare(sl_ctl_t *ctl, reqst_t *rs)
{
    json_t *rec;
    if (sl_ctl_stream_find(ctl, rs->m.id, &rec, NULL, &rs->e))
        return -1;
    rs->sub = sl_monitor_subscribe(ctl->o.mon, json_string_value(json_object_get(rec, "name")));
    json_t *st = json_pack("{s:O, s:O}", "state", json_object_get(rec, "state"), "error",
                           json_object_get(rec, "error") ? json_object_get(rec, "error") : json_null());
    char *data = json_dumps(st, JSON_COMPACT);
    size_t n = strlen(data) + 32;
    rs->first = malloc(n);
    if (!rs->first)
        sl_oom();
    snprintf(rs->first, n, "event: state\ndata: %s\n\n", data);
    free(data);
    json_decref(st);
    json_decref(rec);
    return 0;
}

/* HTTP thread: the event stream prepared by events_prepare. */
static enum MHD_Result serve_events(sl_ctl_t *ctl, struct MHD_Connection *conn, reqst_t *rs)
{
    struct MHD_Response *r = sl_async_events(ctl->async, conn, rs->sub, rs->first);
    rs->sub = NULL;
    rs->first = NULL;
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return rc;
}

/* ---- dispatch ---------------------------------------------------------------------- */

/* A worker thread: the route's handler (http_int.h sl_async_work). */
static void run_handler(void *arg)
{
    reqst_t *rs = arg;
    if (rs->m.route->id == SL_R_STREAM_EVENTS)
        rs->rc = events_prepare(rs->ctl, rs);
    else
        rs->rc = handlers[rs->m.route->id](rs->ctl, &rs->req, &rs->resp, &rs->e);
    atomic_store(&rs->done, true);
}

static enum MHD_Result dispatch(sl_ctl_t *ctl, struct MHD_Connection *conn, reqst_t *rs)
{
    const sl_route_t *route = rs->m.route;
    sl_api_err_t e = {0};
    switch (route->id) {
    case SL_R_HEALTHZ:
        return send_json(conn, 200, json_pack("{s:s}", "status", "ok"), false);
    case SL_R_OPENAPI:
        return send_json(conn, 200, sl_route_openapi(SLUICE_VERSION), false);
    case SL_R_WHOAMI:
        return send_json(conn, 200, json_pack("{s:s?, s:s}", "name", rs->key_name[0] ? rs->key_name : NULL,
                                              "role", sl_role_name(rs->role)), false);
    case SL_R_METRICS: {
        sl_buf_t out;
        sl_err_t err = {0};
        sl_buf_init(&out, 64u * 1024 * 1024);
        if (sl_monitor_prometheus(ctl->o.mon, &out, &err)) {
            sl_buf_free(&out);
            sl_ctl_err(&e, 500, "internal", &err);
            return send_err(conn, &e, false);
        }
        size_t len;
        char *text = sl_buf_steal(&out, &len);
        if (!text)
            text = sl_strdup("");
        return send_text(conn, 200, "text/plain; version=0.0.4; charset=utf-8", text, len, false);
    }
    default:
        break;
    }
    if (rs->body.len && sl_req_json_object(rs->body.data, rs->body.len, &rs->req.body, &e))
        return send_err(conn, &e, false);
    rs->ctl = ctl;
    rs->req = (sl_req_t){.m = &rs->m, .body = rs->req.body, .query = query, .qctx = conn};
    rs->resp = (sl_resp_t){.status = route->status};
    if (sl_async_work(ctl->async, conn, run_handler, rs))
        return MHD_YES; /* answered in respond() once the worker is done */
    sl_api_err_set(&e, 503, "busy", "the server is handling too many requests at once");
    snprintf(e.hint, sizeof e.hint, "retry in a moment");
    return send_err(conn, &e, false);
}

/* The answer of a handler that ran on a worker (HTTP thread, after the resume). */
static enum MHD_Result respond(struct MHD_Connection *conn, reqst_t *rs)
{
    json_decref(rs->req.body);
    rs->req.body = NULL;
    if (rs->rc) {
        json_decref(rs->resp.body);
        rs->resp.body = NULL;
        if (!rs->e.status)
            sl_api_err_set(&rs->e, 500, "internal", "request failed");
        return send_err(conn, &rs->e, false);
    }
    if (rs->m.route->id == SL_R_STREAM_EVENTS)
        return serve_events(rs->ctl, conn, rs);
    json_t *body = rs->resp.body;
    rs->resp.body = NULL;
    if (rs->resp.status == 204) {
        json_decref(body);
        return send_text(conn, 204, "application/json", sl_strdup(""), 0, false);
    }
    return send_json(conn, rs->resp.status, body ? body : json_object(), false);
}

/* Answers what the headers alone decide (true when it answered). */
static bool early(sl_ctl_t *ctl, struct MHD_Connection *conn, reqst_t *rs, sl_match_result_t mr,
                  const char *method, const char *url, enum MHD_Result *ret)
{
    sl_api_err_t e = {0};
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding");
    bool has_body = (cl && strtoull(cl, NULL, 10) > 0) || te;
    if (mr == SL_MATCH_NOT_FOUND) {
        const sl_asset_t *a = NULL;
        if ((!strcmp(method, "GET") || !strcmp(method, "HEAD")) && strncmp(url, "/api/", 5))
            a = sl_asset_find(url);
        if (a) {
            struct MHD_Response *r = MHD_create_response_from_buffer(a->len, (void *)a->data,
                                                                     MHD_RESPMEM_PERSISTENT);
            MHD_add_response_header(r, "Content-Type", a->content_type);
            *ret = MHD_queue_response(conn, 200, r);
            MHD_destroy_response(r);
            return true;
        }
        sl_api_err_set(&e, 404, "not_found", "no route %s %.200s", method, url);
        snprintf(e.hint, sizeof e.hint, "the routes are in GET /api/v1/openapi.json and docs/api.md");
    } else if (mr == SL_MATCH_BAD_METHOD) {
        sl_api_err_set(&e, 405, "method_not_allowed", "%s is not allowed on %.200s", method, url);
    } else if (rs->m.route->access != SL_ACCESS_OPEN) {
        const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
        const char *key = auth && !strncasecmp(auth, "Bearer ", 7) ? auth + 7 : NULL;
        rs->role = sl_apikey_check(ctl->o.apikey, key) ? SL_ROLE_ADMIN : sl_keys_check(ctl->keys, key, rs->key_name);
        sl_route_authorize(rs->m.route, rs->role, auth != NULL, &e);
    }
    if (!e.status && cl && strtoull(cl, NULL, 10) > BODY_MAX) {
        sl_api_err_set(&e, 413, "too_large", "the body has %s bytes; the limit is %d", cl, BODY_MAX);
    }
    if (!e.status && has_body) {
        const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
        if (!ct || strncasecmp(ct, "application/json", 16))
            sl_api_err_set(&e, 415, "unsupported_media_type", "the body must be application/json, not %.100s",
                           ct ? ct : "(none)");
    }
    if (!e.status)
        return false;
    *ret = send_err(conn, &e, has_body);
    return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    sl_ctl_t *ctl = cls;
    reqst_t *rs = *con_cls;
    if (!rs) {
        rs = calloc(1, sizeof *rs);
        if (!rs)
            return MHD_NO;
        sl_buf_init(&rs->body, BODY_MAX);
        *con_cls = rs;
        sl_match_result_t mr = sl_route_match(method, url, &rs->m);
        enum MHD_Result ret;
        if (early(ctl, conn, rs, mr, method, url, &ret)) {
            rs->responded = true;
            return ret;
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (rs->responded) {
            *upload_size = 0;
            return MHD_YES;
        }
        sl_err_t err;
        if (sl_buf_add(&rs->body, upload, *upload_size, &err))
            return MHD_NO; /* over 1 MiB without a Content-Length: close the connection */
        *upload_size = 0;
        return MHD_YES;
    }
    if (atomic_load(&rs->done))
        return respond(conn, rs);
    if (rs->responded)
        return MHD_YES;
    rs->responded = true;
    return dispatch(ctl, conn, rs);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    reqst_t *rs = *con_cls;
    if (rs) {
        sl_buf_free(&rs->body);
        json_decref(rs->req.body);
        json_decref(rs->resp.body);
        sl_monitor_unsubscribe(rs->sub);
        free(rs->first);
        free(rs);
        *con_cls = NULL;
    }
}

/* ---- life -------------------------------------------------------------------------- */

static int parse_listen(const char *s, struct sockaddr_in *sa, sl_err_t *err)
{
    const char *colon = strrchr(s, ':');
    char host[64];
    if (!colon || (size_t)(colon - s) >= sizeof host)
        goto bad;
    snprintf(host, sizeof host, "%.*s", (int)(colon - s), s);
    if (!strcmp(host, "localhost") || !*host)
        snprintf(host, sizeof host, "127.0.0.1");
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || !colon[1] || port < 0 || port > 65535)
        goto bad;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        goto bad;
    return 0;
bad:
    sl_err_set(err, SL_E_CONFIG, "invalid --listen address \"%s\"", s);
    sl_err_hint(err, "HOST:PORT with an IPv4 address, e.g. 127.0.0.1:8020 (port 0: any free port)");
    return -1;
}

/* As many connections as the descriptors allow (the soft limit raised to the hard one),
 * less what the broker connections and stream children need. */
static unsigned connection_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 256;
    if (rl.rlim_cur < rl.rlim_max && rl.rlim_cur < 65536) {
        rl.rlim_cur = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < 512)
        return 256;
    return rl.rlim_cur - 256 > 4096 ? 4096 : (unsigned)(rl.rlim_cur - 256);
}

int sl_ctl_start(const sl_ctl_opts_t *o, sl_ctl_t **out, sl_err_t *err)
{
    struct sockaddr_in sa;
    if (parse_listen(o->listen, &sa, err))
        return -1;
    sl_ctl_t *ctl = calloc(1, sizeof *ctl);
    if (!ctl)
        sl_oom();
    ctl->o = *o;
    ctl->data_dir = sl_strdup(o->data_dir);
    ctl->nats_url = sl_strdup(o->nats_url);
    pthread_mutex_init(&ctl->mu, NULL);
    pthread_cond_init(&ctl->cv, NULL);
    sl_runner_cb_t cb = {.ctx = ctl, .on_line = sl_ctl_on_line, .on_up = sl_ctl_on_up,
                         .on_exit = sl_ctl_on_exit};
    if (sl_ctl_node_load(o->data_dir, 'n', ctl->node, sizeof ctl->node, err) || sl_kv_open(o->nats_url, &ctl->store, err) ||
        sl_keys_open(ctl->store, &ctl->keys, err) || sl_bus_connect(o->nats_url, &ctl->bus, err) ||
        sl_runner_start(o->exe, &cb, &ctl->runner, err) || sl_verify_start(ctl, &ctl->verify, err)) {
        sl_ctl_stop(ctl);
        return -1;
    }
    sl_ctl_names_rebuild(ctl);
    if (sl_ctl_cluster_start(ctl, err) || sl_async_start(ctl, &ctl->async, err)) {
        sl_ctl_stop(ctl);
        return -1;
    }
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (o->tls)
        flags |= MHD_USE_TLS;
    /* The TLS options come last: without TLS the list ends before them. */
    ctl->httpd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, ctl, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                                  MHD_OPTION_SOCK_ADDR, &sa,
                                  MHD_OPTION_CONNECTION_LIMIT, connection_limit(),
                                  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_PER_IP,
                                  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S,
                                  MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                                  o->tls ? MHD_OPTION_HTTPS_CERT_CALLBACK : MHD_OPTION_END, sl_tls_callback(),
                                  MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES, MHD_OPTION_END);
    if (!ctl->httpd) {
        sl_err_set(err, SL_E_IO, "could not listen on %s", o->listen);
        sl_err_hint(err, "is another server using the port? choose another with --listen");
        sl_ctl_stop(ctl);
        return -1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(ctl->httpd, MHD_DAEMON_INFO_BIND_PORT);
    ctl->port = di ? di->port : ntohs(sa.sin_port);
    *out = ctl;
    return 0;
}

int sl_ctl_port(const sl_ctl_t *ctl) { return ctl->port; }

void sl_ctl_stop(sl_ctl_t *ctl)
{
    if (!ctl)
        return;
    atomic_store(&ctl->stopping, true);
    if (ctl->httpd) {
        /* No new connections; the parked event streams end, the handlers in flight finish
         * (a pause waits for its stream's exit), then the daemon stops. */
        MHD_socket lfd = MHD_quiesce_daemon(ctl->httpd);
        sl_async_drain(ctl->async, DRAIN_MS);
        MHD_stop_daemon(ctl->httpd);
        if (lfd != MHD_INVALID_SOCKET)
            close(lfd);
    }
    sl_async_free(ctl->async);
    sl_ctl_cluster_unserve(ctl);
    sl_runner_stop(ctl->runner, 60000); /* the leases are renewed until the children are gone */
    sl_verify_stop(ctl->verify);
    sl_own_stop(ctl->own);
    sl_keys_free(ctl->keys);
    sl_bus_close(ctl->bus);
    sl_kv_close(ctl->store);
    sl_ctl_streams_forget(ctl);
    pthread_mutex_destroy(&ctl->mu);
    pthread_cond_destroy(&ctl->cv);
    free(ctl->data_dir);
    free(ctl->nats_url);
    free(ctl);
}
