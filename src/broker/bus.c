/*
 * bus.c: JetStream publish/consume for the data path, the messages a lane fetched, and
 * core NATS listening for the monitoring plane (see bus.h).
 */
#include "broker/bus.h"
#include "broker/bus_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"

struct sl_bus {
    natsConnection *nc;
    jsCtx *js;
    _Atomic int replicas;  /* of the streams it creates (sl_bus_replicas) */
    bool replicas_exact;   /* given in the URL: no falling back to 1 */
    _Atomic int reconnects;
    _Atomic bool closing;
    /* nats.c runs connection callbacks on its own thread, after natsConnection_Close()
     * returns: sl_bus_close() waits for the closed callback (queued after the
     * disconnected one) before it frees the struct the callbacks point to. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool closed;
};

/* nats.c's reconnect thread: counts reconnections so the engine can tell that
 * unsynchronised broker state may have been lost. */
static void on_reconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    sl_bus_t *bus = closure;
    atomic_fetch_add(&bus->reconnects, 1);
    sl_warn("reconnected to the broker");
}

static void on_closed(natsConnection *nc, void *closure)
{
    (void)nc;
    sl_bus_t *bus = closure;
    pthread_mutex_lock(&bus->mu);
    bus->closed = true;
    pthread_cond_broadcast(&bus->cv);
    pthread_mutex_unlock(&bus->mu);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    sl_bus_t *bus = closure;
    if (!atomic_load(&bus->closing))
        sl_warn("lost the connection to the broker; reconnecting");
}

struct sl_bus_sub {
    natsSubscription *sub;
};

/* A fetched message and its JetStream metadata, read once at fetch. */
struct sl_bus_msg {
    natsMsg *m;
    uint64_t delivered;
    uint64_t seq;
};

static int nats_fail(sl_err_t *err, natsStatus s, jsErrCode jerr, const char *what)
{
    sl_err_set(err, SL_E_BROKER, "%s: %s%s", what, natsStatus_GetText(s),
               jerr ? " (JetStream error)" : "");
    if (jerr)
        sl_err_detail(err, "JetStream error code %d; %s", (int)jerr, nats_GetLastError(NULL));
    sl_err_retriable(err);
    return -1;
}

int sl_bus_connect(const char *url, sl_bus_t **out, sl_err_t *err)
{
    natsOptions *opts = NULL;
    sl_bus_t *bus = calloc(1, sizeof *bus);
    if (!bus)
        sl_oom();
    pthread_mutex_init(&bus->mu, NULL);
    pthread_cond_init(&bus->cv, NULL);
    if (sl_bus_options(url, &opts, err)) {
        pthread_mutex_destroy(&bus->mu);
        pthread_cond_destroy(&bus->cv);
        free(bus);
        return -1;
    }
    natsStatus s = natsOptions_SetMaxReconnect(opts, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(opts, 250);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(opts, 5000);
    if (s == NATS_OK)
        s = natsOptions_SetName(opts, "sluice");
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(opts, on_reconnected, bus);
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(opts, on_disconnected, bus);
    if (s == NATS_OK)
        s = natsOptions_SetClosedCB(opts, on_closed, bus);
    if (s == NATS_OK)
        s = natsConnection_Connect(&bus->nc, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) {
        natsConnection_Destroy(bus->nc);
        pthread_mutex_destroy(&bus->mu);
        pthread_cond_destroy(&bus->cv);
        free(bus);
        char *shown = sl_bus_url_public(url);
        sl_err_set(err, SL_E_BROKER, "could not connect to NATS at \"%s\": %s", shown, natsStatus_GetText(s));
        free(shown);
        sl_err_hint(err, s == NATS_NOT_PERMITTED || s == NATS_CONNECTION_AUTH_FAILED
                             ? "check the broker's credentials (user and password, token, creds or nkey)"
                             : "check that the broker runs and the URL is right");
        sl_err_retriable(err);
        return -1;
    }
    bus->replicas = sl_bus_replicas(url, &bus->replicas_exact);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 10000;
    s = natsConnection_JetStream(&bus->js, bus->nc, &jo);
    if (s != NATS_OK) {
        nats_fail(err, s, 0, "could not open a JetStream context");
        sl_bus_close(bus);
        return -1;
    }
    *out = bus;
    return 0;
}

void sl_bus_close(sl_bus_t *bus)
{
    if (!bus)
        return;
    atomic_store(&bus->closing, true);
    jsCtx_Destroy(bus->js);
    natsConnection_Close(bus->nc);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    pthread_mutex_lock(&bus->mu);
    while (!bus->closed)
        if (pthread_cond_timedwait(&bus->cv, &bus->mu, &ts) != 0)
            break;
    bool closed = bus->closed;
    pthread_mutex_unlock(&bus->mu);
    natsConnection_Destroy(bus->nc);
    if (!closed) {
        /* never freed rather than freed under a late callback */
        sl_warn("the broker connection did not report closing; not freeing it");
        return;
    }
    pthread_mutex_destroy(&bus->mu);
    pthread_cond_destroy(&bus->cv);
    free(bus);
}

jsCtx *sl_bus_js(sl_bus_t *bus) { return bus->js; }

int sl_bus_stream_replicas(sl_bus_t *bus, bool *exact)
{
    *exact = bus->replicas_exact;
    return atomic_load(&bus->replicas);
}

int64_t sl_bus_max_payload(sl_bus_t *bus) { return natsConnection_GetMaxPayload(bus->nc); }

natsConnection *sl_bus_nats(sl_bus_t *bus) { return bus->nc; }

int sl_bus_reconnects(sl_bus_t *bus) { return atomic_load(&bus->reconnects); }

static void names(const char *stream, int lane, char *js_name, size_t jn, char *subject, size_t sn)
{
    if (js_name)
        snprintf(js_name, jn, "SLUICE_%s", stream);
    if (subject) {
        if (lane < 0)
            snprintf(subject, sn, "sluice.%s.data.*", stream);
        else
            snprintf(subject, sn, "sluice.%s.data.%d", stream, lane);
    }
}

int sl_bus_stream_delete(sl_bus_t *bus, const char *stream, sl_err_t *err)
{
    char name[160];
    names(stream, -1, name, sizeof name, NULL, 0);
    jsErrCode jerr = 0;
    natsStatus s = js_DeleteStream(bus->js, name, NULL, &jerr);
    if (s == NATS_OK || s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr)
        return sl_bus_stripes_delete(bus, stream, err);
    return nats_fail(err, s, jerr, "could not delete the broker stream");
}

int sl_bus_stream_reset(sl_bus_t *bus, const char *stream, int lanes, sl_err_t *err)
{
    return sl_bus_stream_reset_tagged(bus, stream, lanes, NULL, err);
}

int sl_bus_stream_reset_tagged(sl_bus_t *bus, const char *stream, int lanes, const char *tag, sl_err_t *err)
{
    char name[160], subject[200];
    names(stream, -1, name, sizeof name, subject, sizeof subject);
    if (sl_bus_stream_delete(bus, stream, err))
        return -1;
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char *subjects[1] = {subject};
    cfg.Name = name;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Retention = js_WorkQueuePolicy;
    cfg.Duplicates = (int64_t)120 * 1000 * 1000 * 1000; /* 2 minutes, in ns */
    cfg.AllowDirect = true; /* spills are read back by subject (sl_bus_spill_read) */
    cfg.Description = tag;
    jsErrCode jerr = 0;
    jsStreamInfo *si = NULL;
    /* JetStream may still be starting right after the server accepts connections. */
    natsStatus s = NATS_ERR;
    for (int attempt = 0; attempt < 50; attempt++) {
        cfg.Replicas = atomic_load(&bus->replicas);
        s = js_AddStream(&si, bus->js, &cfg, NULL, &jerr);
        if (s == NATS_OK)
            break;
        if (cfg.Replicas > 1 && !bus->replicas_exact && sl_bus_unclustered(s, jerr)) {
            sl_debug("the broker has no cluster: its streams get one replica");
            atomic_store(&bus->replicas, 1);
            continue;
        }
        nats_Sleep(200);
    }
    if (s != NATS_OK)
        return nats_fail(err, s, jerr, "could not create the broker stream");
    jsStreamInfo_Destroy(si);
    for (int lane = 0; lane < lanes; lane++) {
        char durable[32], filter[200];
        snprintf(durable, sizeof durable, "lane%d", lane);
        names(stream, lane, NULL, 0, filter, sizeof filter);
        jsConsumerConfig cc;
        jsConsumerConfig_Init(&cc);
        cc.Durable = durable;
        cc.FilterSubject = filter;
        cc.AckPolicy = js_AckExplicit;
        cc.AckWait = (int64_t)30 * 1000 * 1000 * 1000; /* a redelivery is skipped by the checkpoint */
        cc.MaxAckPending = 1;
        cc.DeliverPolicy = js_DeliverAll;
        jsConsumerInfo *ci = NULL;
        s = js_AddConsumer(&ci, bus->js, name, &cc, NULL, &jerr);
        if (s != NATS_OK)
            return nats_fail(err, s, jerr, "could not create a broker consumer");
        jsConsumerInfo_Destroy(ci);
    }
    return 0;
}

/* Publishes to subject of stream `name`; *seq (when not NULL) gets the message's
 * broker sequence. */
static int publish(sl_bus_t *bus, const char *name, const char *subject, const char *msgid, const void *data,
                   size_t len, uint64_t *seq, const char *what, sl_err_t *err)
{
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = msgid;
    po.ExpectStream = name;
    po.MaxWait = 5000; /* a timed-out publish is retried with the same Msg-Id: deduplicated */
    jsErrCode jerr = 0;
    jsPubAck *pa = NULL;
    natsStatus s = js_Publish(&pa, bus->js, subject, data, (int)len, &po, &jerr);
    if (s != NATS_OK)
        return nats_fail(err, s, jerr, what);
    if (seq)
        *seq = pa->Sequence;
    jsPubAck_Destroy(pa);
    return 0;
}

int sl_bus_publish(sl_bus_t *bus, const char *stream, int lane, const char *msgid,
                   const void *data, size_t len, sl_err_t *err)
{
    char subject[200], name[160];
    names(stream, lane, name, sizeof name, subject, sizeof subject);
    return publish(bus, name, subject, msgid, data, len, NULL, "could not publish a batch", err);
}

int sl_bus_pull(sl_bus_t *bus, const char *js_stream, const char *subject, const char *durable, sl_bus_sub_t **out,
                sl_err_t *err)
{
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = js_stream;
    so.Consumer = durable;
    sl_bus_sub_t *sub = calloc(1, sizeof *sub);
    if (!sub)
        sl_oom();
    jsErrCode jerr = 0;
    natsStatus s = js_PullSubscribe(&sub->sub, bus->js, subject, durable, NULL, &so, &jerr);
    if (s != NATS_OK) {
        free(sub);
        return nats_fail(err, s, jerr, "could not subscribe to a lane");
    }
    *out = sub;
    return 0;
}

int sl_bus_subscribe(sl_bus_t *bus, const char *stream, int lane, sl_bus_sub_t **out, sl_err_t *err)
{
    char subject[200], name[160], durable[32];
    names(stream, lane, name, sizeof name, subject, sizeof subject);
    snprintf(durable, sizeof durable, "lane%d", lane);
    return sl_bus_pull(bus, name, subject, durable, out, err);
}

void sl_bus_unsubscribe(sl_bus_sub_t *sub)
{
    if (!sub)
        return;
    natsSubscription_Destroy(sub->sub);
    free(sub);
}

int sl_bus_fetch(sl_bus_sub_t *sub, sl_bus_msg_t **msg, int64_t timeout_ms, sl_err_t *err)
{
    natsMsgList list = {0};
    natsStatus s = natsSubscription_Fetch(&list, sub->sub, 1, timeout_ms, NULL);
    if (s == NATS_TIMEOUT || (s == NATS_OK && list.Count == 0)) {
        natsMsgList_Destroy(&list);
        return 0;
    }
    if (s != NATS_OK) {
        natsMsgList_Destroy(&list);
        return nats_fail(err, s, 0, "could not fetch from the broker");
    }
    sl_bus_msg_t *m = calloc(1, sizeof *m);
    if (!m)
        sl_oom();
    m->m = list.Msgs[0];
    list.Msgs[0] = NULL;
    natsMsgList_Destroy(&list);
    m->delivered = 1;
    jsMsgMetaData *meta = NULL;
    if (natsMsg_GetMetaData(&meta, m->m) == NATS_OK) {
        m->delivered = meta->NumDelivered;
        m->seq = meta->Sequence.Stream;
        jsMsgMetaData_Destroy(meta);
    }
    *msg = m;
    return 1;
}

void sl_bus_msg_free(sl_bus_msg_t *msg)
{
    if (!msg)
        return;
    natsMsg_Destroy(msg->m);
    free(msg);
}

const void *sl_bus_msg_data(const sl_bus_msg_t *msg) { return natsMsg_GetData(msg->m); }

size_t sl_bus_msg_len(const sl_bus_msg_t *msg) { return (size_t)natsMsg_GetDataLength(msg->m); }

uint64_t sl_bus_msg_delivered(const sl_bus_msg_t *msg) { return msg->delivered; }

uint64_t sl_bus_msg_seq(const sl_bus_msg_t *msg) { return msg->seq; }

void sl_bus_ack(sl_bus_msg_t *msg) { natsMsg_Ack(msg->m, NULL); }

void sl_bus_nak(sl_bus_msg_t *msg, int64_t delay_ms) { natsMsg_NakWithDelay(msg->m, delay_ms, NULL); }

void sl_bus_in_progress(sl_bus_msg_t *msg) { natsMsg_InProgress(msg->m, NULL); }

void sl_bus_term(sl_bus_msg_t *msg) { natsMsg_Term(msg->m, NULL); }

/* ---- spills --------------------------------------------------------------------- */

static void spill_subject(const char *stream, uint64_t id, char *subject, size_t size)
{
    snprintf(subject, size, "sluice.%s.data.s%llu", stream, (unsigned long long)id);
}

int sl_bus_spill_publish(sl_bus_t *bus, const char *stream, uint64_t id, const char *msgid, const void *data,
                         size_t len, uint64_t *seq, sl_err_t *err)
{
    char subject[200], name[160];
    names(stream, -1, name, sizeof name, NULL, 0);
    spill_subject(stream, id, subject, sizeof subject);
    /* a retry with the same Msg-Id is deduplicated and gets the same sequence */
    return publish(bus, name, subject, msgid, data, len, seq, "could not publish a spilled batch", err);
}

int sl_bus_spill_read(sl_bus_t *bus, const char *stream, uint64_t id, uint64_t from, sl_bus_msg_t **msg,
                      sl_err_t *err)
{
    char subject[200], name[160];
    names(stream, -1, name, sizeof name, NULL, 0);
    spill_subject(stream, id, subject, sizeof subject);
    jsDirectGetMsgOptions o;
    jsDirectGetMsgOptions_Init(&o);
    o.Sequence = from;
    o.NextBySubject = subject;
    natsMsg *m = NULL;
    natsStatus s = js_DirectGetMsg(&m, bus->js, name, NULL, &o);
    if (s == NATS_NOT_FOUND)
        return 0;
    if (s != NATS_OK)
        return nats_fail(err, s, 0, "could not read a spilled batch");
    sl_bus_msg_t *out = calloc(1, sizeof *out);
    if (!out)
        sl_oom();
    out->m = m;
    out->delivered = 1;
    out->seq = natsMsg_GetSequence(m);
    if (!out->seq) {
        const char *v = NULL;
        if (natsMsgHeader_Get(m, "Nats-Sequence", &v) == NATS_OK && v)
            out->seq = strtoull(v, NULL, 10);
    }
    *msg = out;
    return 1;
}

int sl_bus_spill_drop(sl_bus_t *bus, const char *stream, uint64_t id, sl_err_t *err)
{
    char subject[200], name[160];
    names(stream, -1, name, sizeof name, NULL, 0);
    spill_subject(stream, id, subject, sizeof subject);
    jsOptions o;
    jsOptions_Init(&o);
    o.Stream.Purge.Subject = subject;
    jsErrCode jerr = 0;
    natsStatus s = js_PurgeStream(bus->js, name, &o, &jerr);
    if (s != NATS_OK && s != NATS_NOT_FOUND)
        return nats_fail(err, s, jerr, "could not drop a spill from the broker");
    return 0;
}

/* ---- core NATS listening (monitoring) ------------------------------------------- */

struct sl_bus_listener {
    natsSubscription *sub;
    sl_bus_listen_fn fn;
    void *ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool completed; /* nats.c will not call on_listened again */
};

/* nats.c's delivery thread: one message. */
static void on_listened(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    sl_bus_listener_t *l = closure;
    l->fn(l->ctx, natsMsg_GetSubject(msg), natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg));
    natsMsg_Destroy(msg);
}

/* nats.c: the subscription is closed and on_listened has returned for good. */
static void on_listen_complete(void *closure)
{
    sl_bus_listener_t *l = closure;
    pthread_mutex_lock(&l->mu);
    l->completed = true;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

int sl_bus_listen(sl_bus_t *bus, const char *subject, sl_bus_listen_fn fn, void *ctx, sl_bus_listener_t **out,
                  sl_err_t *err)
{
    sl_bus_listener_t *l = calloc(1, sizeof *l);
    if (!l)
        sl_oom();
    l->fn = fn;
    l->ctx = ctx;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    natsStatus s = natsConnection_Subscribe(&l->sub, bus->nc, subject, on_listened, l);
    if (s == NATS_OK)
        s = natsSubscription_SetOnCompleteCB(l->sub, on_listen_complete, l);
    if (s == NATS_OK)
        s = natsSubscription_SetPendingLimits(l->sub, 4096, 64 * 1024 * 1024);
    if (s != NATS_OK) {
        sl_err_set(err, SL_E_BROKER, "could not subscribe to %s: %s", subject, natsStatus_GetText(s));
        sl_err_retriable(err);
        if (l->sub)
            natsSubscription_Unsubscribe(l->sub); /* only an invalid new subscription fails here */
        natsSubscription_Destroy(l->sub);
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
        free(l);
        return -1;
    }
    *out = l;
    return 0;
}

bool sl_bus_unlisten(sl_bus_listener_t *l, int timeout_ms)
{
    if (!l)
        return true;
    natsSubscription_Unsubscribe(l->sub);
    struct timespec until = sl_deadline_ms(timeout_ms);
    pthread_mutex_lock(&l->mu);
    while (!l->completed)
        if (pthread_cond_timedwait(&l->cv, &l->mu, &until) != 0)
            break;
    bool completed = l->completed;
    pthread_mutex_unlock(&l->mu);
    natsSubscription_Destroy(l->sub);
    if (!completed)
        return false; /* never freed rather than freed under a late callback */
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
    return true;
}
