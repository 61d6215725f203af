/*
 * cdc_ctl.c: requests to a running change stream (docs/api.md "Tables of a stream"):
 * `sluice server` asks the `sluice run` that runs a stream to add, remove or resync
 * tables, on the core NATS subject "sluice.ctl.<stream>" of the broker they share.
 *
 * A request is a JSON object {"op": "tables" | "resync", …, "reply": "<subject>"}; the
 * stream queues it here (nats.c's delivery thread), its reader takes it between two
 * transactions (cdc_tables.c) and answers on the reply subject once what was asked is
 * recorded in the target: {"ok": true, …} or {"error": {"code", "message", "hint"}}.
 * What a request asks is also recorded by the server (the spec's tables, the target's
 * "cdc_resync"), so a request this process never answers still takes effect at the
 * stream's next start.
 *
 * Threads: the callback runs on nats.c's thread and takes only the queue's lock; the
 * reader takes requests and replies.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "engine/cdc_ctl.h"
#include "engine/cdc_int.h"

#define QUEUE_MAX 64

struct sl_cdc_ctl {
    sl_bus_listener_t *l;
    natsConnection *nc;
    pthread_mutex_t mu;
    json_t *queue; /* requests not taken yet */
};

bool sl_cdc_ctl_subject(const char *stream, char *buf, size_t size)
{
    size_t n = strlen(stream);
    if (!n || n + sizeof SL_CDC_CTL_PREFIX > size)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = stream[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '-'))
            return false;
    }
    snprintf(buf, size, "%s%s", SL_CDC_CTL_PREFIX, stream);
    return true;
}

static void on_request(void *ctx, const char *subject, const void *data, size_t len)
{
    (void)subject;
    sl_cdc_ctl_t *ctl = ctx;
    json_error_t je;
    json_t *req = json_loadb(data, len, 0, &je);
    if (!json_is_object(req) || !json_is_string(json_object_get(req, "op"))) {
        sl_warn("ignored a request to the stream that is not one: %s", req ? "no \"op\"" : je.text);
        json_decref(req);
        return;
    }
    pthread_mutex_lock(&ctl->mu);
    if (json_array_size(ctl->queue) < QUEUE_MAX)
        json_array_append_new(ctl->queue, req);
    else
        json_decref(req);
    pthread_mutex_unlock(&ctl->mu);
}

int sl_cdc_ctl_start(sl_cdc_run_t *cd, sl_err_t *err)
{
    char subject[256];
    if (!sl_cdc_ctl_subject(cd->spec->name, subject, sizeof subject)) {
        sl_debug("stream \"%s\": its name is not a NATS subject token; it takes no requests while it runs",
                 cd->spec->name);
        return 0;
    }
    sl_cdc_ctl_t *ctl = calloc(1, sizeof *ctl);
    if (!ctl)
        sl_oom();
    pthread_mutex_init(&ctl->mu, NULL);
    ctl->queue = json_array();
    ctl->nc = sl_bus_nats(cd->run.bus);
    if (sl_bus_listen(cd->run.bus, subject, on_request, ctl, &ctl->l, err)) {
        json_decref(ctl->queue);
        pthread_mutex_destroy(&ctl->mu);
        free(ctl);
        return -1;
    }
    cd->ctl = ctl;
    return 0;
}

void sl_cdc_ctl_stop(sl_cdc_run_t *cd)
{
    sl_cdc_ctl_t *ctl = cd->ctl;
    if (!ctl)
        return;
    cd->ctl = NULL;
    if (!sl_bus_unlisten(ctl->l, 5000))
        return; /* a late callback may still come: leave it its context */
    json_decref(ctl->queue);
    pthread_mutex_destroy(&ctl->mu);
    free(ctl);
}

bool sl_cdc_ctl_waiting(sl_cdc_run_t *cd)
{
    sl_cdc_ctl_t *ctl = cd->ctl;
    if (!ctl)
        return false;
    pthread_mutex_lock(&ctl->mu);
    bool any = json_array_size(ctl->queue) > 0;
    pthread_mutex_unlock(&ctl->mu);
    return any;
}

json_t *sl_cdc_ctl_next(sl_cdc_run_t *cd)
{
    sl_cdc_ctl_t *ctl = cd->ctl;
    if (!ctl)
        return NULL;
    pthread_mutex_lock(&ctl->mu);
    json_t *req = json_array_size(ctl->queue) ? json_incref(json_array_get(ctl->queue, 0)) : NULL;
    if (req)
        json_array_remove(ctl->queue, 0);
    pthread_mutex_unlock(&ctl->mu);
    return req;
}

void sl_cdc_ctl_reply(sl_cdc_run_t *cd, const json_t *req, json_t *answer)
{
    const char *to = json_string_value(json_object_get(req, "reply"));
    if (cd->ctl && to && to[0]) {
        char *text = json_dumps(answer, JSON_COMPACT);
        natsStatus s = natsConnection_PublishString(cd->ctl->nc, to, text);
        if (s == NATS_OK)
            natsConnection_Flush(cd->ctl->nc);
        else
            sl_warn("could not answer a request to the stream: %s", natsStatus_GetText(s));
        free(text);
    }
    json_decref(answer);
}

json_t *sl_cdc_ctl_error(const sl_err_t *err)
{
    json_t *e = json_pack("{s:s, s:s}", "code", err->code == SL_E_NOT_FOUND ? "not_found" : "invalid", "message",
                          err->message);
    if (err->detail[0])
        json_object_set_new(e, "detail", json_string(err->detail));
    if (err->hint[0])
        json_object_set_new(e, "hint", json_string(err->hint));
    return json_pack("{s:o}", "error", e);
}

/* ---- the server's side --------------------------------------------------------------- */

int sl_cdc_ctl_request(natsConnection *nc, const char *stream, json_t *req, int timeout_ms, json_t **answer,
                       sl_err_t *err)
{
    char subject[256];
    natsInbox *inbox = NULL;
    natsSubscription *sub = NULL;
    natsMsg *msg = NULL;
    *answer = NULL;
    if (!sl_cdc_ctl_subject(stream, subject, sizeof subject))
        return sl_err_set(err, SL_E_CONFIG, "stream \"%s\" takes no requests (its name is no subject token)", stream);
    natsStatus s = natsInbox_Create(&inbox);
    if (s == NATS_OK)
        s = natsConnection_SubscribeSync(&sub, nc, inbox);
    if (s == NATS_OK) {
        json_object_set_new(req, "reply", json_string(inbox));
        char *text = json_dumps(req, JSON_COMPACT);
        s = natsConnection_PublishString(nc, subject, text);
        free(text);
    }
    if (s == NATS_OK)
        s = natsSubscription_NextMsg(&msg, sub, timeout_ms);
    int rc = 0;
    if (s == NATS_TIMEOUT) {
        rc = 1;
    } else if (s != NATS_OK) {
        rc = sl_err_set(err, SL_E_BROKER, "could not ask stream \"%s\": %s", stream, natsStatus_GetText(s));
    } else {
        json_error_t je;
        *answer = json_loadb(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), 0, &je);
        if (!json_is_object(*answer)) {
            json_decref(*answer);
            *answer = NULL;
            rc = sl_err_set(err, SL_E_PROTOCOL, "stream \"%s\" answered with something that is not JSON", stream);
        }
    }
    natsMsg_Destroy(msg);
    if (sub)
        natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    natsInbox_Destroy(inbox);
    return rc;
}
