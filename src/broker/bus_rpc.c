/*
 * bus_rpc.c: request and reply on core NATS between sluice processes (bus.h): how a
 * server forwards an API action to the server that owns the stream (docs/cluster.md
 * "Any node answers"). Not the data path: a request that gets no answer in time is an
 * error for the caller, which decides what to do.
 *
 * Threads: nats.c's delivery thread receives a request and hands it to a thread of its
 * own (an action may wait minutes for a stream's process to exit; the delivery thread
 * must not). sl_bus_unserve waits for those threads. `mu` guards `running`.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/bus.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"

struct sl_bus_server {
    natsConnection *nc;
    natsSubscription *sub;
    sl_bus_serve_fn fn;
    void *ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running;    /* handler threads not yet returned */
    bool completed; /* nats.c will not deliver again */
};

struct sl_bus_req {
    sl_bus_server_t *srv;
    natsMsg *m;
    bool answered;
};

const void *sl_bus_req_data(const sl_bus_req_t *r) { return natsMsg_GetData(r->m); }

size_t sl_bus_req_len(const sl_bus_req_t *r) { return (size_t)natsMsg_GetDataLength(r->m); }

void sl_bus_respond(sl_bus_req_t *r, const void *data, size_t len)
{
    const char *reply = natsMsg_GetReply(r->m);
    if (reply && !r->answered)
        natsConnection_Publish(r->srv->nc, reply, data, (int)len);
    r->answered = true;
}

static void *handler_main(void *arg)
{
    sl_bus_req_t *r = arg;
    sl_bus_server_t *s = r->srv;
    s->fn(s->ctx, r);
    if (!r->answered)
        sl_bus_respond(r, "", 0);
    natsMsg_Destroy(r->m);
    free(r);
    pthread_mutex_lock(&s->mu);
    s->running--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* nats.c's delivery thread: one request, handled on a detached thread. */
static void on_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    sl_bus_server_t *s = closure;
    sl_bus_req_t *r = calloc(1, sizeof *r);
    if (!r)
        sl_oom();
    r->srv = s;
    r->m = msg;
    pthread_mutex_lock(&s->mu);
    s->running++;
    pthread_mutex_unlock(&s->mu);
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &at, handler_main, r) != 0) {
        sl_warn("could not start a thread for a forwarded request; it goes unanswered");
        natsMsg_Destroy(msg);
        free(r);
        pthread_mutex_lock(&s->mu);
        s->running--;
        pthread_mutex_unlock(&s->mu);
    }
    pthread_attr_destroy(&at);
}

static void on_serve_complete(void *closure)
{
    sl_bus_server_t *s = closure;
    pthread_mutex_lock(&s->mu);
    s->completed = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

int sl_bus_serve(sl_bus_t *bus, const char *subject, sl_bus_serve_fn fn, void *ctx, sl_bus_server_t **out,
                 sl_err_t *err)
{
    sl_bus_server_t *s = calloc(1, sizeof *s);
    if (!s)
        sl_oom();
    s->nc = sl_bus_nats(bus);
    s->fn = fn;
    s->ctx = ctx;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    natsStatus st = natsConnection_Subscribe(&s->sub, s->nc, subject, on_request, s);
    if (st == NATS_OK)
        st = natsSubscription_SetOnCompleteCB(s->sub, on_serve_complete, s);
    if (st != NATS_OK) {
        sl_err_set(err, SL_E_BROKER, "could not serve %s: %s", subject, natsStatus_GetText(st));
        sl_err_retriable(err);
        if (s->sub)
            natsSubscription_Unsubscribe(s->sub);
        natsSubscription_Destroy(s->sub);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

bool sl_bus_unserve(sl_bus_server_t *s, int timeout_ms)
{
    if (!s)
        return true;
    natsSubscription_Unsubscribe(s->sub);
    struct timespec until = sl_deadline_ms(timeout_ms);
    pthread_mutex_lock(&s->mu);
    while (!s->completed || s->running > 0)
        if (pthread_cond_timedwait(&s->cv, &s->mu, &until) != 0)
            break;
    bool done = s->completed && s->running == 0;
    pthread_mutex_unlock(&s->mu);
    natsSubscription_Destroy(s->sub);
    if (!done)
        return false; /* never freed rather than freed under a late handler */
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
    return true;
}

int sl_bus_request(sl_bus_t *bus, const char *subject, const void *data, size_t len, int timeout_ms, char **reply,
                   size_t *rlen, sl_err_t *err)
{
    natsMsg *m = NULL;
    natsStatus st = natsConnection_Request(&m, sl_bus_nats(bus), subject, data, (int)len, timeout_ms);
    if (st != NATS_OK) {
        sl_err_set(err, SL_E_BROKER, "no answer on %s: %s", subject, natsStatus_GetText(st));
        sl_err_retriable(err);
        return -1;
    }
    int n = natsMsg_GetDataLength(m);
    *reply = malloc((size_t)n + 1);
    if (!*reply)
        sl_oom();
    memcpy(*reply, natsMsg_GetData(m), (size_t)n);
    (*reply)[n] = '\0';
    *rlen = (size_t)n;
    natsMsg_Destroy(m);
    return 0;
}
