/*
 * job.c: the workers' jobs and reports, both ways (see job.h).
 */
#include "engine/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model/schema.h"

char *sl_job_encode(const sl_job_t *job, const sl_secret_key_t *key)
{
    json_t *inner = json_pack("{s:s}", "target_url", job->target_url ? job->target_url : "");
    char *plain = json_dumps(inner, JSON_COMPACT);
    json_decref(inner);
    char *sealed = sl_secret_seal(key, plain, strlen(plain));
    sl_secret_free(plain);
    json_t *o = json_pack("{s:i, s:s, s:s, s:i, s:I, s:I, s:s}", "v", 1, "stream", job->stream, "kind", "load-lane",
                          "lane", job->lane, "epoch", (json_int_t)job->epoch, "fence", (json_int_t)job->fence,
                          "sealed", sealed);
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

int sl_job_decode(const void *data, size_t len, const sl_secret_key_t *key, sl_job_t *job, sl_err_t *err)
{
    memset(job, 0, sizeof *job);
    json_t *o = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
    int rc = -1;
    json_int_t v, lane, epoch, fence;
    const char *stream = json_string_value(json_object_get(o, "stream"));
    const char *kind = json_string_value(json_object_get(o, "kind"));
    const char *sealed = json_string_value(json_object_get(o, "sealed"));
    if (!json_is_object(o) || int_in(o, "v", 1, 1, &v)) {
        bad(err, "no version 1 object");
        goto out;
    }
    if (!stream || !*stream || strlen(stream) >= sizeof job->stream || !kind || strcmp(kind, "load-lane") || !sealed ||
        int_in(o, "lane", 0, 1023, &lane) || int_in(o, "epoch", 0, INT64_MAX, &epoch) ||
        int_in(o, "fence", 0, INT64_MAX, &fence)) {
        bad(err, "a field is missing or out of range");
        goto out;
    }
    snprintf(job->stream, sizeof job->stream, "%s", stream);
    job->kind = SL_JOB_LOAD_LANE;
    job->lane = (int)lane;
    job->epoch = (uint64_t)epoch;
    job->fence = fence;
    size_t n = 0;
    char *plain = sl_secret_open(key, sealed, &n, err);
    if (!plain) {
        err->code = SL_E_CONFIG;
        sl_err_hint(err, "give the worker the servers' secret key (SLUICE_SECRET_KEY or DIR/secret.key)");
        goto out;
    }
    json_t *inner = json_loadb(plain, n, 0, NULL);
    sl_secret_free(plain);
    const char *url = json_string_value(json_object_get(inner, "target_url"));
    if (url && *url)
        job->target_url = sl_strdup(url);
    json_decref(inner);
    if (!job->target_url) {
        bad(err, "no target URL inside");
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
    job->target_url = NULL;
}

char *sl_job_report_encode(const sl_job_report_t *r)
{
    json_t *rows = json_array(), *bytes = json_array();
    for (int i = 0; i < r->ntables; i++) {
        json_array_append_new(rows, json_integer(r->rows[i]));
        json_array_append_new(bytes, json_integer(r->bytes[i]));
    }
    json_t *o = json_pack("{s:I, s:i, s:s, s:o, s:o, s:I, s:I, s:I}", "epoch", (json_int_t)r->epoch, "lane", r->lane,
                          "node", r->node, "rows", rows, "bytes", bytes, "batches", (json_int_t)r->batches,
                          "duplicates", (json_int_t)r->duplicates, "retries", (json_int_t)r->retries);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

int sl_job_report_decode(const void *data, size_t len, sl_job_report_t *r, sl_err_t *err)
{
    memset(r, 0, sizeof *r);
    json_t *o = json_loadb(data, len, 0, NULL);
    json_t *rows = json_object_get(o, "rows"), *bytes = json_object_get(o, "bytes");
    const char *node = json_string_value(json_object_get(o, "node"));
    json_int_t epoch, lane, b, d, t;
    int rc = -1;
    size_t n = json_array_size(rows);
    if (!json_is_object(o) || int_in(o, "epoch", 0, INT64_MAX, &epoch) || int_in(o, "lane", 0, 1023, &lane) ||
        int_in(o, "batches", 0, INT64_MAX, &b) || int_in(o, "duplicates", 0, INT64_MAX, &d) ||
        int_in(o, "retries", 0, INT64_MAX, &t) || !json_is_array(rows) || !json_is_array(bytes) ||
        json_array_size(bytes) != n || n > SL_JOB_MAX_TABLES || (node && strlen(node) >= sizeof r->node)) {
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
    r->rows = calloc(n + 1, sizeof *r->rows);
    r->bytes = calloc(n + 1, sizeof *r->bytes);
    if (!r->rows || !r->bytes)
        abort();
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(rows, i), *y = json_array_get(bytes, i);
        if (!json_is_integer(x) || !json_is_integer(y) || json_integer_value(x) < 0 || json_integer_value(y) < 0) {
            sl_err_set(err, SL_E_PROTOCOL, "not a worker's report: a figure is not a count");
            goto out;
        }
        r->rows[i] = json_integer_value(x);
        r->bytes[i] = json_integer_value(y);
    }
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
    r->rows = r->bytes = NULL;
    r->ntables = 0;
}
