/*
 * cluster.c: servers on one NATS form one deployment (docs/cluster.md "Any node
 * answers"): every server answers the API for every stream (records, stats and events
 * come from NATS, which they share), and an action that needs the stream's process
 * (pause, stop, and its log lines, which only that server keeps) is forwarded to the
 * server that holds the stream's lease, over NATS request and reply on the subject
 * "sluice.node.<node>.api" that each server serves:
 *
 *   request {"action": "pause" | "stop" | "logs", "id": "<stream id>", "limit"?: N}
 *   reply   {"status": 200, "body": …} or {"status": N, "error": {"code", "message",
 *           "detail", "hint"}}
 *
 * The answering server runs the same handler the API runs (streams.c), on a thread of
 * its own; a forwarded request is never forwarded again (a lease that moved meanwhile
 * gets 409, and the caller asks again). The subject carries no secret and changes only
 * what the API would: NATS's own credentials and permissions guard who may publish.
 *
 * Threads: API handlers (sl_ctl_forward), bus_rpc.c's handler threads (serve).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/ctl.h"
#include "control/own.h"
#include "core/log.h"

#define FORWARD_WAIT_MS 130000 /* a pause waits up to 2 minutes for the process */
#define LOGS_WAIT_MS 3000

/* True on the thread that answers a forwarded request: nothing is forwarded again. */
static _Thread_local bool answering;

int sl_ctl_node_load(const char *data_dir, char prefix, char *node, size_t size, sl_err_t *err)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/node-id", data_dir);
    FILE *f = fopen(path, "r");
    if (f) {
        char line[64] = "";
        if (!fgets(line, sizeof line, f))
            line[0] = '\0';
        fclose(f);
        line[strcspn(line, "\r\n")] = '\0';
        if (sl_req_name_ok(line)) {
            snprintf(node, size, "%s", line);
            return 0;
        }
    }
    sl_ctl_new_id(prefix, node);
    f = fopen(path, "w");
    if (!f || fprintf(f, "%s\n", node) < 0 || fclose(f) != 0)
        return sl_err_set(err, SL_E_IO, "could not write \"%s\"", path);
    return 0;
}

static void subject(const char *node, char *buf, size_t size) { snprintf(buf, size, "sluice.node.%s.api", node); }

/* ---- answering ---------------------------------------------------------------------- */

typedef struct fwd_query {
    char limit[16];
} fwd_query_t;

static const char *fwd_query(void *qctx, const char *key)
{
    fwd_query_t *q = qctx;
    return !strcmp(key, "limit") && q->limit[0] ? q->limit : NULL;
}

static void serve(void *ctx, sl_bus_req_t *breq)
{
    sl_ctl_t *ctl = ctx;
    json_t *in = json_loadb(sl_bus_req_data(breq), sl_bus_req_len(breq), 0, NULL);
    const char *action = json_string_value(json_object_get(in, "action"));
    const char *id = json_string_value(json_object_get(in, "id"));
    sl_route_match_t m = {0};
    fwd_query_t q = {0};
    if (json_is_integer(json_object_get(in, "limit")))
        snprintf(q.limit, sizeof q.limit, "%lld", (long long)json_integer_value(json_object_get(in, "limit")));
    snprintf(m.id, sizeof m.id, "%s", id ? id : "");
    sl_req_t req = {.m = &m, .query = fwd_query, .qctx = &q};
    sl_resp_t resp = {0};
    sl_api_err_t e = {0};
    int rc;
    answering = true;
    if (!action || !id)
        rc = sl_api_err_set(&e, 400, "bad_json", "a forwarded request needs \"action\" and \"id\"");
    else if (!strcmp(action, "pause"))
        rc = sl_ctl_stream_pause(ctl, &req, &resp, &e);
    else if (!strcmp(action, "stop"))
        rc = sl_ctl_stream_stop(ctl, &req, &resp, &e);
    else if (!strcmp(action, "logs"))
        rc = sl_ctl_stream_logs(ctl, &req, &resp, &e);
    else
        rc = sl_api_err_set(&e, 400, "bad_request", "unknown forwarded action \"%s\"", action);
    answering = false;
    json_t *out = rc ? json_pack("{s:i, s:{s:s, s:s, s:s, s:s}}", "status", e.status, "error", "code", e.code,
                                 "message", e.message, "detail", e.detail, "hint", e.hint)
                     : json_pack("{s:i, s:O?}", "status", resp.status ? resp.status : 200, "body", resp.body);
    char *text = json_dumps(out, JSON_COMPACT);
    sl_bus_respond(breq, text, strlen(text));
    free(text);
    json_decref(out);
    json_decref(resp.body);
    free(resp.text);
    json_decref(in);
}

int sl_ctl_cluster_start(sl_ctl_t *ctl, sl_err_t *err)
{
    char subj[96];
    subject(ctl->node, subj, sizeof subj);
    if (sl_bus_serve(ctl->bus, subj, serve, ctl, &ctl->forward, err))
        return -1;
    return sl_own_start(ctl, &ctl->own, err);
}

void sl_ctl_cluster_unserve(sl_ctl_t *ctl)
{
    if (ctl->forward && !sl_bus_unserve(ctl->forward, FORWARD_WAIT_MS))
        sl_warn("a forwarded action did not finish; the server stops without it");
    ctl->forward = NULL;
}

/* ---- forwarding -------------------------------------------------------------------- */

int sl_ctl_forward(sl_ctl_t *ctl, const char *node, const char *action, const char *id, const sl_req_t *req,
                   json_t **body, sl_api_err_t *e)
{
    *body = NULL;
    if (answering)
        return sl_api_err_set(e, 409, "not_owner", "this server no longer runs the stream; %s runs it now", node);
    json_t *in = json_pack("{s:s, s:s}", "action", action, "id", id);
    const char *limit = req ? req->query(req->qctx, "limit") : NULL;
    if (limit)
        json_object_set_new(in, "limit", json_integer(atoi(limit)));
    char *text = json_dumps(in, JSON_COMPACT), *reply = NULL, subj[96];
    json_decref(in);
    size_t rlen = 0;
    sl_err_t err = {0};
    subject(node, subj, sizeof subj);
    int rc = sl_bus_request(ctl->bus, subj, text, strlen(text), !strcmp(action, "logs") ? LOGS_WAIT_MS : FORWARD_WAIT_MS,
                            &reply, &rlen, &err);
    free(text);
    if (rc) {
        sl_api_err_set(e, 503, "unavailable", "server %s, which runs the stream, does not answer", node);
        snprintf(e->detail, sizeof e->detail, "%s", err.message);
        snprintf(e->hint, sizeof e->hint, "try again: if that server is gone, another takes the stream over "
                                          "within 30 s");
        return -1;
    }
    json_t *out = json_loadb(reply, rlen, 0, NULL);
    free(reply);
    json_t *status = json_object_get(out, "status"), *error = json_object_get(out, "error");
    if (!json_is_integer(status)) {
        json_decref(out);
        return sl_api_err_set(e, 502, "bad_gateway", "server %s gave no answer to a forwarded %s", node, action);
    }
    if (error) {
        const char *f[4] = {json_string_value(json_object_get(error, "code")),
                            json_string_value(json_object_get(error, "message")),
                            json_string_value(json_object_get(error, "detail")),
                            json_string_value(json_object_get(error, "hint"))};
        sl_api_err_set(e, (int)json_integer_value(status), f[0] ? f[0] : "internal", "%s", f[1] ? f[1] : "");
        snprintf(e->detail, sizeof e->detail, "%s", f[2] ? f[2] : "");
        snprintf(e->hint, sizeof e->hint, "%s", f[3] ? f[3] : "");
        json_decref(out);
        return -1;
    }
    *body = json_incref(json_object_get(out, "body"));
    json_decref(out);
    return 0;
}
