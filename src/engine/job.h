/*
 * job.h: what crosses the broker between a stream's owner and the workers (docs/cluster.md
 * "What crosses the broker"): jobs on the work queue (broker/bus.h SLUICE_JOBS) and the
 * figures a worker reports back.
 *
 *   job     {"v": 1, "stream", "kind": "load-lane" | "load-read", "lane", "epoch",
 *            "fence", "batch_rows", "batch_bytes", "window",
 *            "sealed": secret box of {"target_url", "source_url"?, "snapshot"?}}
 *   stripe  {"stripe", "seq", "position"}: a stripe to read (load-read), on the stream's
 *            stripe queue (broker/bus.h), with where it resumes
 *   report  {"epoch", "lane", "node", "rows": [per table], "bytes": [per table],
 *            "read": [per table], "read_bytes": [per table], "batches", "duplicates",
 *            "retries"}   on core NATS "sluice.load.<stream>.report"
 *
 * A job's URLs hold passwords: they cross only sealed, with a key derived from the
 * cluster's secret key (control/secret.h sl_secret_key_derive, purpose "jobs") that the
 * stream's process and the workers hold. epoch is the load's pass (the broker stream is
 * tagged with it: a worker drops a job whose pass is over); fence the lease epoch its
 * checkpoint writes carry (target/target.h). A report's figures are deltas since the last
 * one, for the owner's monitoring only: nothing depends on a report arriving. A read job
 * carries the owner's exported snapshot (a PostgreSQL snapshot name: readers elsewhere
 * import it, so every stripe is read in one snapshot) and the window (batches the
 * stream's broker stream may hold before readers wait).
 *
 * The decoders are pure (fuzz/fuzz_job.c); encoders and decoders sit side by side.
 */
#ifndef SL_ENGINE_JOB_H
#define SL_ENGINE_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "control/secret.h"
#include "core/err.h"

#define SL_JOB_PURPOSE "jobs" /* of the derived key that seals jobs */
#define SL_JOB_MAX_TABLES 100000

typedef enum { SL_JOB_LOAD_LANE, SL_JOB_LOAD_READ } sl_job_kind_t;

typedef struct sl_job {
    char stream[128];
    sl_job_kind_t kind;
    int lane;         /* load-lane: the lane; load-read: the reader's number */
    uint64_t epoch;
    int64_t fence;
    int batch_rows, batch_bytes, window; /* load-read */
    char *target_url; /* opened from "sealed" (secrets: sl_secret_free) */
    char *source_url; /* load-read */
    char *snapshot;   /* load-read: the token readers import */
} sl_job_t;

/* The job's text (caller frees), its URL sealed with key. */
char *sl_job_encode(const sl_job_t *job, const sl_secret_key_t *key);
/* Decodes and opens a job: SL_E_PROTOCOL when it is not one, SL_E_CONFIG when it was
 * sealed with another key (the worker's secret key is not the cluster's). */
int sl_job_decode(const void *data, size_t len, const sl_secret_key_t *key, sl_job_t *job, sl_err_t *err);
void sl_job_free(sl_job_t *job);

/* A stripe to read and where it resumes (engine/load_int.h stripe_state_t). */
typedef struct sl_job_stripe {
    int stripe;
    int64_t seq;
    char *position; /* owned, NULL when none */
} sl_job_stripe_t;

char *sl_job_stripe_encode(const sl_job_stripe_t *s);
int sl_job_stripe_decode(const void *data, size_t len, sl_job_stripe_t *s, sl_err_t *err);

typedef struct sl_job_report {
    uint64_t epoch;
    int lane;
    char node[40];
    int ntables;
    int64_t *rows, *bytes, *read, *read_bytes; /* ntables each (owned) */
    int64_t batches, duplicates, retries;
} sl_job_report_t;

char *sl_job_report_encode(const sl_job_report_t *r);
int sl_job_report_decode(const void *data, size_t len, sl_job_report_t *r, sl_err_t *err);
void sl_job_report_free(sl_job_report_t *r);

#endif
