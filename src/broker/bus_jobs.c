/*
 * bus_jobs.c: the work queue of the workers, and what a stream's owner asks the broker
 * about its own stream while workers apply its batches (bus.h, docs/cluster.md
 * "Workers").
 *
 * SLUICE_JOBS is one JetStream stream on "sluice.jobs.<stream>" (file storage, a work
 * queue, the cluster's replicas), read by one durable pull consumer, "workers", that all
 * workers share: each fetch hands one job to one worker, which keeps it unacknowledged
 * while it does it (sl_bus_in_progress at least every SL_BUS_JOB_WAIT_MS / 3); a worker
 * that dies leaves it unacknowledged, and the broker hands it to another worker after
 * SL_BUS_JOB_WAIT_MS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/bus.h"
#include "broker/bus_int.h"
#include "core/log.h"

#define JOBS_STREAM "SLUICE_JOBS"
#define JOBS_CONSUMER "workers"

static int fail(sl_err_t *err, natsStatus s, jsErrCode jerr, const char *what)
{
    sl_err_set(err, SL_E_BROKER, "%s: %s", what, natsStatus_GetText(s));
    if (jerr)
        sl_err_detail(err, "JetStream error code %d; %s", (int)jerr, nats_GetLastError(NULL));
    sl_err_retriable(err);
    return -1;
}

int sl_bus_jobs_ensure(sl_bus_t *bus, sl_err_t *err)
{
    jsCtx *js = sl_bus_js(bus);
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, js, JOBS_STREAM, NULL, &jerr);
    if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
        jsStreamConfig cfg;
        jsStreamConfig_Init(&cfg);
        const char *subjects[1] = {"sluice.jobs.>"};
        cfg.Name = JOBS_STREAM;
        cfg.Subjects = subjects;
        cfg.SubjectsLen = 1;
        cfg.Storage = js_FileStorage;
        cfg.Retention = js_WorkQueuePolicy;
        cfg.Duplicates = (int64_t)120 * 1000 * 1000 * 1000;
        cfg.MaxAge = (int64_t)7 * 24 * 3600 * 1000 * 1000 * 1000; /* a job nobody took for a week */
        bool exact;
        cfg.Replicas = sl_bus_stream_replicas(bus, &exact);
        jerr = 0;
        s = js_AddStream(&si, js, &cfg, NULL, &jerr);
        if (s != NATS_OK && cfg.Replicas > 1 && !exact && sl_bus_unclustered(s, jerr)) {
            cfg.Replicas = 1;
            s = js_AddStream(&si, js, &cfg, NULL, &jerr);
        }
        if (s != NATS_OK && jerr != JSStreamNameExistErr)
            return fail(err, s, jerr, "could not create the workers' job queue");
    } else if (s != NATS_OK) {
        return fail(err, s, jerr, "could not look up the workers' job queue");
    }
    jsStreamInfo_Destroy(si);
    jsConsumerInfo *ci = NULL;
    jerr = 0;
    s = js_GetConsumerInfo(&ci, js, JOBS_STREAM, JOBS_CONSUMER, NULL, &jerr);
    if (s == NATS_OK) {
        jsConsumerInfo_Destroy(ci);
        return 0;
    }
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = JOBS_CONSUMER;
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = (int64_t)SL_BUS_JOB_WAIT_MS * 1000 * 1000;
    cc.MaxAckPending = 10000;
    cc.DeliverPolicy = js_DeliverAll;
    jerr = 0;
    s = js_AddConsumer(&ci, js, JOBS_STREAM, &cc, NULL, &jerr);
    if (s != NATS_OK && jerr != JSConsumerNameExistErr)
        return fail(err, s, jerr, "could not create the workers' consumer");
    jsConsumerInfo_Destroy(ci);
    return 0;
}

int sl_bus_job_publish(sl_bus_t *bus, const char *stream, const char *msgid, const void *data, size_t len,
                       sl_err_t *err)
{
    char subject[200];
    snprintf(subject, sizeof subject, "sluice.jobs.%s", stream);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = msgid;
    po.ExpectStream = JOBS_STREAM;
    jsErrCode jerr = 0;
    jsPubAck *pa = NULL;
    natsStatus s = js_Publish(&pa, sl_bus_js(bus), subject, data, (int)len, &po, &jerr);
    if (s != NATS_OK)
        return fail(err, s, jerr, "could not publish a job for the workers");
    jsPubAck_Destroy(pa);
    return 0;
}

int sl_bus_jobs_purge(sl_bus_t *bus, const char *stream, sl_err_t *err)
{
    char subject[200];
    snprintf(subject, sizeof subject, "sluice.jobs.%s", stream);
    jsOptions o;
    jsOptions_Init(&o);
    o.Stream.Purge.Subject = subject;
    jsErrCode jerr = 0;
    natsStatus s = js_PurgeStream(sl_bus_js(bus), JOBS_STREAM, &o, &jerr);
    if (s == NATS_OK || s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr)
        return 0;
    return fail(err, s, jerr, "could not withdraw the workers' jobs");
}

int sl_bus_jobs_subscribe(sl_bus_t *bus, sl_bus_sub_t **out, sl_err_t *err)
{
    return sl_bus_pull(bus, JOBS_STREAM, "sluice.jobs.>", JOBS_CONSUMER, out, err);
}

/* ---- a load's stripes to read ------------------------------------------------------- */

static void stripes_names(const char *stream, char *name, size_t nsize, char *subject, size_t ssize)
{
    snprintf(name, nsize, "SLUICE_%s_STRIPES", stream);
    snprintf(subject, ssize, "sluice.%s.stripes", stream);
}

int sl_bus_stripes_delete(sl_bus_t *bus, const char *stream, sl_err_t *err)
{
    char name[200], subject[200];
    stripes_names(stream, name, sizeof name, subject, sizeof subject);
    jsErrCode jerr = 0;
    natsStatus s = js_DeleteStream(sl_bus_js(bus), name, NULL, &jerr);
    if (s == NATS_OK || s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr)
        return 0;
    return fail(err, s, jerr, "could not delete the stripe queue");
}

int sl_bus_stripes_reset(sl_bus_t *bus, const char *stream, sl_err_t *err)
{
    char name[200], subject[200];
    stripes_names(stream, name, sizeof name, subject, sizeof subject);
    if (sl_bus_stripes_delete(bus, stream, err))
        return -1;
    jsCtx *js = sl_bus_js(bus);
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char *subjects[1] = {subject};
    cfg.Name = name;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Retention = js_WorkQueuePolicy;
    cfg.Duplicates = (int64_t)120 * 1000 * 1000 * 1000;
    bool exact;
    cfg.Replicas = sl_bus_stream_replicas(bus, &exact);
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_AddStream(&si, js, &cfg, NULL, &jerr);
    if (s != NATS_OK)
        return fail(err, s, jerr, "could not create the stripe queue");
    jsStreamInfo_Destroy(si);
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = "readers";
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = (int64_t)SL_BUS_JOB_WAIT_MS * 1000 * 1000;
    cc.MaxAckPending = 10000;
    cc.DeliverPolicy = js_DeliverAll;
    jsConsumerInfo *ci = NULL;
    s = js_AddConsumer(&ci, js, name, &cc, NULL, &jerr);
    if (s != NATS_OK)
        return fail(err, s, jerr, "could not create the stripe queue's consumer");
    jsConsumerInfo_Destroy(ci);
    return 0;
}

int sl_bus_stripe_publish(sl_bus_t *bus, const char *stream, const char *msgid, const void *data, size_t len,
                          sl_err_t *err)
{
    char name[200], subject[200];
    stripes_names(stream, name, sizeof name, subject, sizeof subject);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = msgid;
    po.ExpectStream = name;
    jsErrCode jerr = 0;
    jsPubAck *pa = NULL;
    natsStatus s = js_Publish(&pa, sl_bus_js(bus), subject, data, (int)len, &po, &jerr);
    if (s != NATS_OK)
        return fail(err, s, jerr, "could not queue a stripe");
    jsPubAck_Destroy(pa);
    return 0;
}

int sl_bus_stripes_subscribe(sl_bus_t *bus, const char *stream, sl_bus_sub_t **out, sl_err_t *err)
{
    char name[200], subject[200];
    stripes_names(stream, name, sizeof name, subject, sizeof subject);
    return sl_bus_pull(bus, name, subject, "readers", out, err);
}

int sl_bus_stream_pending(sl_bus_t *bus, const char *stream, int64_t *n, char *tag, size_t size, bool *exists,
                          sl_err_t *err)
{
    char name[160];
    snprintf(name, sizeof name, "SLUICE_%s", stream);
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, sl_bus_js(bus), name, NULL, &jerr);
    *n = 0;
    *exists = false;
    if (size)
        tag[0] = '\0';
    if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr)
        return 0;
    if (s != NATS_OK)
        return fail(err, s, jerr, "could not read the broker stream's state");
    *exists = true;
    *n = (int64_t)si->State.Msgs;
    if (size && si->Config && si->Config->Description)
        snprintf(tag, size, "%s", si->Config->Description);
    jsStreamInfo_Destroy(si);
    return 0;
}

int sl_bus_notify(sl_bus_t *bus, const char *subject, const void *data, size_t len)
{
    return natsConnection_Publish(sl_bus_nats(bus), subject, data, (int)len) == NATS_OK ? 0 : -1;
}
