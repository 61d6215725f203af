/*
 * job.c: the workers' jobs, stripes and reports, both ways (see job.h).
 */
#include "engine/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model/schema.h"

static const char *const kinds[] = {"load-lane", "load-read"};

char *sl_job_encode(const sl_job_t *job, const sl_secret_key_t *key)
{
    json_t *inner = json_pack("{s:s}", "target_url", job->target_url ? job->target_url : "");
    if (job->source_url)
        json_object_set_new(inner, "source_url", json_string(job->source_url));
    if (job->snapshot)
        json_object_set_new(inner, "snapshot", json_string(job->snapshot));
    char *plain = json_dumps(inner, JSON_COMPACT);
    json_decref(inner);
    char *sealed = sl_secret_seal(key, plain, strlen(plain));
    sl_secret_free(plain);
    json_t *o = json_pack("{s:i, s:s, s:s, s:i, s:I, s:I, s:i, s:i, s:i, s:s}", "v", 1, "stream", job->stream, "kind",
                          kinds[job->kind], "lane", job->lane, "epoch", (json_int_t)job->epoch, "fence",
                          (json_int_t)job->fence, "batch_rows", job->batch_rows, "batch_bytes", job->batch_bytes,
                          "window", job->window, "sealed", sealed);
    free(sealed);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

static int bad(sl_err_t *err, const char *what)
{
    return sl_err_set(err, SL_E_PROTOCOL, "not a sluice job: %s", what);
}

/* An integer member k of o in [lo, hi] into *v. */
static int int_in(const json_t *o, const char *k, json_int_t lo, json_int_t hi, json_int_t *v)
{
    json_t *j = json_object_get(o, k);
    if (!json_is_integer(j) || json_integer_value(j) < lo || json_integer_value(j) > hi)
        return -1;
    *v = json_integer_value(j);
    return 0;
}

/* A copy of string member k of o (NULL when absent or empty). */
static char *str_dup(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v && *v ? sl_strdup(v) : NULL;
}

int sl_job_decode(const void *data, size_t len, const sl_secret_key_t *key, sl_job_t *job, sl_err_t *err)
{
    memset(job, 0, sizeof *job);
    json_t *o = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
    int rc = -1;
    json_int_t v, lane, epoch, fence, rows, bytes, window;
    const char *stream = json_string_value(json_object_get(o, "stream"));
    const char *kind = json_string_value(json_object_get(o, "kind"));
    const char *sealed = json_string_value(json_object_get(o, "sealed"));
    if (!json_is_object(o) || int_in(o, "v", 1, 1, &v)) {
        bad(err, "no version 1 object");
        goto out;
    }
    int k = 0;
    while (kind && k < 2 && strcmp(kind, kinds[k]))
        k++;
    if (!stream || !*stream || strlen(stream) >= sizeof job->stream || !kind || k == 2 || !sealed ||
        int_in(o, "lane", 0, 1023, &lane) || int_in(o, "epoch", 0, INT64_MAX, &epoch) ||
        int_in(o, "fence", 0, INT64_MAX, &fence) || int_in(o, "batch_rows", 0, 1 << 30, &rows) ||
        int_in(o, "batch_bytes", 0, 1 << 30, &bytes) || int_in(o, "window", 0, 1 << 20, &window)) {
        bad(err, "a field is missing or out of range");
        goto out;
    }
    snprintf(job->stream, sizeof job->stream, "%s", stream);
    job->kind = (sl_job_kind_t)k;
    job->lane = (int)lane;
    job->epoch = (uint64_t)epoch;
    job->fence = fence;
    job->batch_rows = (int)rows;
    job->batch_bytes = (int)bytes;
    job->window = (int)window;
    size_t n = 0;
    char *plain = sl_secret_open(key, sealed, &n, err);
    if (!plain) {
        err->code = SL_E_CONFIG;
        sl_err_hint(err, "give the worker the servers' secret key (SLUICE_SECRET_KEY or DIR/secret.key)");
        goto out;
    }
    json_t *inner = json_loadb(plain, n, 0, NULL);
    sl_secret_free(plain);
    job->target_url = str_dup(inner, "target_url");
    job->source_url = str_dup(inner, "source_url");
    job->snapshot = str_dup(inner, "snapshot");
    json_decref(inner);
    if (!job->target_url || (job->kind == SL_JOB_LOAD_READ && (!job->source_url || !job->snapshot ||
                                                                job->batch_rows < 1 || job->batch_bytes < 1))) {
        bad(err, "what the job needs is not inside");
        goto out;
    }
    rc = 0;
out:
    json_decref(o);
    if (rc)
        sl_job_free(job);
    return rc;
}

void sl_job_free(sl_job_t *job)
{
    sl_secret_free(job->target_url);
    sl_secret_free(job->source_url);
    sl_secret_free(job->snapshot);
    job->target_url = job->source_url = job->snapshot = NULL;
}

/* ---- stripes ------------------------------------------------------------------------ */

char *sl_job_stripe_encode(const sl_job_stripe_t *s)
{
    json_t *o = json_pack("{s:i, s:I, s:s?}", "stripe", s->stripe, "seq", (json_int_t)s->seq, "position", s->position);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

int sl_job_stripe_decode(const void *data, size_t len, sl_job_stripe_t *s, sl_err_t *err)
{
    memset(s, 0, sizeof *s);
    json_t *o = json_loadb(data, len, 0, NULL), *pos = json_object_get(o, "position");
    json_int_t stripe, seq;
    int rc = 0;
    if (!json_is_object(o) || int_in(o, "stripe", 0, INT32_MAX, &stripe) || int_in(o, "seq", 0, INT64_MAX, &seq) ||
        (pos && !json_is_string(pos) && !json_is_null(pos)))
        rc = sl_err_set(err, SL_E_PROTOCOL, "not a stripe of a load");
    if (rc == 0) {
        s->stripe = (int)stripe;
        s->seq = seq;
        s->position = json_is_string(pos) ? sl_strdup(json_string_value(pos)) : NULL;
    }
    json_decref(o);
    return rc;
}

/* ---- reports ------------------------------------------------------------------------ */

static json_t *counts(const int64_t *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_integer(v ? v[i] : 0));
    return a;
}

char *sl_job_report_encode(const sl_job_report_t *r)
{
    int n = r->ntables;
    json_t *o = json_pack("{s:I, s:i, s:s, s:o, s:o, s:o, s:o, s:I, s:I, s:I}", "epoch", (json_int_t)r->epoch, "lane",
                          r->lane, "node", r->node, "rows", counts(r->rows, n), "bytes", counts(r->bytes, n), "read",
                          counts(r->read, n), "read_bytes", counts(r->read_bytes, n), "batches",
                          (json_int_t)r->batches, "duplicates", (json_int_t)r->duplicates, "retries",
                          (json_int_t)r->retries);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* Decodes counts a (n of them) into a new array at *out: -1 unless every one is a count. */
static int counts_in(const json_t *a, size_t n, int64_t **out)
{
    *out = calloc(n + 1, sizeof **out);
    if (!*out)
        sl_oom();
    if (!json_is_array(a) || json_array_size(a) != n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(a, i);
        if (!json_is_integer(x) || json_integer_value(x) < 0)
            return -1;
        (*out)[i] = json_integer_value(x);
    }
    return 0;
}

int sl_job_report_decode(const void *data, size_t len, sl_job_report_t *r, sl_err_t *err)
{
    memset(r, 0, sizeof *r);
    json_t *o = json_loadb(data, len, 0, NULL);
    json_t *rows = json_object_get(o, "rows");
    const char *node = json_string_value(json_object_get(o, "node"));
    json_int_t epoch, lane, b, d, t;
    int rc = -1;
    size_t n = json_array_size(rows);
    if (!json_is_object(o) || int_in(o, "epoch", 0, INT64_MAX, &epoch) || int_in(o, "lane", 0, 1023, &lane) ||
        int_in(o, "batches", 0, INT64_MAX, &b) || int_in(o, "duplicates", 0, INT64_MAX, &d) ||
        int_in(o, "retries", 0, INT64_MAX, &t) || n > SL_JOB_MAX_TABLES || (node && strlen(node) >= sizeof r->node) ||
        counts_in(rows, n, &r->rows) || counts_in(json_object_get(o, "bytes"), n, &r->bytes) ||
        counts_in(json_object_get(o, "read"), n, &r->read) ||
        counts_in(json_object_get(o, "read_bytes"), n, &r->read_bytes)) {
        sl_err_set(err, SL_E_PROTOCOL, "not a worker's report");
        goto out;
    }
    r->epoch = (uint64_t)epoch;
    r->lane = (int)lane;
    snprintf(r->node, sizeof r->node, "%s", node ? node : "");
    r->batches = b;
    r->duplicates = d;
    r->retries = t;
    r->ntables = (int)n;
    rc = 0;
out:
    json_decref(o);
    if (rc)
        sl_job_report_free(r);
    return rc;
}

void sl_job_report_free(sl_job_report_t *r)
{
    free(r->rows);
    free(r->bytes);
    free(r->read);
    free(r->read_bytes);
    r->rows = r->bytes = r->read = r->read_bytes = NULL;
    r->ntables = 0;
}
