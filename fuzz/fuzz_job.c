/*
 * fuzz_job.c: libFuzzer target for what crosses the broker between a load's owner and
 * the workers (engine/job.c): jobs (opened with a fixed key), stripes and reports. The
 * first byte picks the decoder (0 job, 1 stripe, 2 report), the rest is its input.
 * Besides memory errors it checks that what decodes encodes back to the same thing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/job.h"

static void job(const uint8_t *data, size_t size)
{
    sl_secret_key_t key;
    memset(key.k, 1, sizeof key.k);
    sl_job_t j, back;
    sl_err_t err;
    if (sl_job_decode(data, size, &key, &j, &err))
        return;
    char *text = sl_job_encode(&j, &key);
    if (sl_job_decode(text, strlen(text), &key, &back, &err) || back.kind != j.kind || back.lane != j.lane ||
        back.epoch != j.epoch || back.fence != j.fence || strcmp(back.stream, j.stream) ||
        strcmp(back.target_url, j.target_url))
        abort(); /* a job does not survive its own encoding */
    sl_job_free(&back);
    sl_job_free(&j);
    free(text);
}

static void stripe(const uint8_t *data, size_t size)
{
    sl_job_stripe_t s, back;
    sl_err_t err;
    if (sl_job_stripe_decode(data, size, &s, &err))
        return;
    char *text = sl_job_stripe_encode(&s);
    if (sl_job_stripe_decode(text, strlen(text), &back, &err) || back.stripe != s.stripe || back.seq != s.seq ||
        (!s.position) != (!back.position) || (s.position && strcmp(s.position, back.position)))
        abort();
    free(s.position);
    free(back.position);
    free(text);
}

static void report(const uint8_t *data, size_t size)
{
    sl_job_report_t r, back;
    sl_err_t err;
    if (sl_job_report_decode(data, size, &r, &err))
        return;
    char *text = sl_job_report_encode(&r);
    if (sl_job_report_decode(text, strlen(text), &back, &err) || back.ntables != r.ntables ||
        back.batches != r.batches || (r.ntables && memcmp(back.rows, r.rows, (size_t)r.ntables * sizeof *r.rows)))
        abort();
    sl_job_report_free(&r);
    sl_job_report_free(&back);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0: job(data + 1, size - 1); break;
    case 1: stripe(data + 1, size - 1); break;
    default: report(data + 1, size - 1); break;
    }
    return 0;
}
