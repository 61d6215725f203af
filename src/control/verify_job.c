/*
 * verify_job.c: POST and GET /api/v1/streams/{id}/verify (docs/api.md "Verify"): a
 * verify job compares a stream's source and target (`sluice verify`, row counts and
 * checksums per table) with the stream's stored connections, and keeps its report.
 *
 * A job is a child `sluice verify - --report FILE` of a runner of its own (runner.h),
 * so its callbacks are this file's and a verify never collides with the stream's own
 * child: the resolved spec (stored connections replaced by their URLs with passwords)
 * goes to its stdin, never to its command line; its output lines are the job's log, with
 * the stream's secrets scrubbed. The child writes its report (cli/verify.c) to
 * DIR/streams/<id>/verify-report.json; when it exits, the job's record (state, times,
 * exit code, report, error, last log lines) is stored beside it as verify.json, so the
 * last job of a stream is still there after a restart of the server. One job per stream
 * at a time. A stream may run while it is verified: rows in flight then show as
 * differences.
 *
 * Threads: API handlers and the runner's thread; `mu` guards the jobs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "control/ctl.h"
#include "core/log.h"
#include "model/schema.h"

#define JOB_LINES 50  /* log lines kept per job */

typedef struct vjob {
    struct vjob *next;
    char stream_id[24];
    char name[128];
    char job_id[24];
    const char *state; /* "running", "done", "failed" */
    char started_at[32], finished_at[32];
    int exit_code;     /* -1 while running */
    json_t *report;    /* the child's report, NULL before it wrote one */
    json_t *error;     /* why the job failed, NULL when it did not */
    char *lines[JOB_LINES];
    int lhead, ln;
} vjob_t;

struct sl_verify {
    pthread_mutex_t mu;
    sl_ctl_t *ctl;
    sl_runner_t *runner;
    vjob_t *jobs;
};

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static vjob_t *job_find(sl_verify_t *v, const char *stream_id)
{
    for (vjob_t *j = v->jobs; j; j = j->next)
        if (!strcmp(j->stream_id, stream_id))
            return j;
    return NULL;
}

static void job_clear(vjob_t *j)
{
    json_decref(j->report);
    json_decref(j->error);
    j->report = j->error = NULL;
    for (int i = 0; i < j->ln; i++)
        free(j->lines[(j->lhead + i) % JOB_LINES]);
    j->lhead = j->ln = 0;
}

static void path_of(const sl_verify_t *v, const char *stream_id, const char *file, char *buf, size_t size)
{
    snprintf(buf, size, "%s/streams/%s%s%s", v->ctl->data_dir, stream_id, file ? "/" : "", file ? file : "");
}

/* The job as the API shows it (new reference). Caller holds mu. */
static json_t *job_json(const vjob_t *j)
{
    json_t *log = json_array();
    for (int i = 0; i < j->ln; i++)
        json_array_append_new(log, json_string(j->lines[(j->lhead + i) % JOB_LINES]));
    const char *result = NULL;
    if (j->report && json_is_object(json_object_get(j->report, "error")))
        result = "error";
    else if (j->report)
        result = json_is_true(json_object_get(j->report, "equal")) ? "equal" : "different";
    else if (strcmp(j->state, "running"))
        result = "error";
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:O, s:O, s:o}", "id", j->job_id, "stream", j->name,
                          "state", j->state, "started_at", j->started_at, "finished_at",
                          j->finished_at[0] ? json_string(j->finished_at) : json_null(), "exit_code",
                          j->exit_code >= 0 ? json_integer(j->exit_code) : json_null(), "result",
                          result ? json_string(result) : json_null(), "report", j->report ? j->report : json_null(),
                          "error", j->error ? j->error : json_null(), "log", log);
    if (!o)
        sl_oom();
    return o;
}

/* Reads a JSON file (NULL when absent or unreadable). */
static json_t *read_json(const char *path)
{
    json_error_t je;
    return json_load_file(path, JSON_DISABLE_EOF_CHECK, &je);
}

/* ---- the runner's callbacks (runner thread) ----------------------------------------- */

static void on_line(void *ctx, const char *id, const char *label, const char *level, const char *message)
{
    (void)label;
    (void)level;
    sl_verify_t *v = ctx;
    pthread_mutex_lock(&v->mu);
    vjob_t *j = job_find(v, id);
    if (j) {
        if (j->ln == JOB_LINES) {
            free(j->lines[j->lhead]);
            j->lhead = (j->lhead + 1) % JOB_LINES;
            j->ln--;
        }
        j->lines[(j->lhead + j->ln++) % JOB_LINES] = sl_strdup(message);
    }
    pthread_mutex_unlock(&v->mu);
}

static void on_up(void *ctx, const char *id)
{
    (void)ctx;
    (void)id;
}

static void on_exit_cb(void *ctx, const char *id, int code, const json_t *last_error)
{
    sl_verify_t *v = ctx;
    char rpath[1300], jpath[1300], tmp[1320];
    path_of(v, id, "verify-report.json", rpath, sizeof rpath);
    path_of(v, id, "verify.json", jpath, sizeof jpath);
    json_t *report = read_json(rpath);
    unlink(rpath);
    pthread_mutex_lock(&v->mu);
    vjob_t *j = job_find(v, id);
    if (j) {
        j->exit_code = code;
        sl_ctl_now(j->finished_at);
        j->report = report;
        report = NULL;
        /* 0 equal, 1 different: the job did its work; anything else is a failure */
        bool ok = (code == 0 || code == 1) && j->report && !json_is_object(json_object_get(j->report, "error"));
        j->state = ok ? "done" : "failed";
        if (!ok) {
            const json_t *e = j->report ? json_object_get(j->report, "error") : NULL;
            j->error = json_is_object(e) ? json_deep_copy(e) : last_error ? json_deep_copy(last_error) : NULL;
            if (!j->error) {
                char m[128];
                snprintf(m, sizeof m, code < 0 ? "could not start `sluice verify`" : "`sluice verify` exited with status %d",
                         code);
                j->error = json_pack("{s:s}", "message", m);
            }
        }
        json_t *rec = job_json(j);
        snprintf(tmp, sizeof tmp, "%s.tmp", jpath);
        if (json_dump_file(rec, tmp, JSON_COMPACT) || rename(tmp, jpath))
            sl_warn("stream %s: could not store its verify job in %s: %s", j->name, jpath, strerror(errno));
        json_decref(rec);
        sl_info("stream %s: verify job %s %s (exit %d)", j->name, j->job_id, j->state, code);
    }
    pthread_mutex_unlock(&v->mu);
    json_decref(report);
}

/* ---- life ---------------------------------------------------------------------------- */

int sl_verify_start(sl_ctl_t *ctl, sl_verify_t **out, sl_err_t *err)
{
    sl_verify_t *v = calloc(1, sizeof *v);
    if (!v)
        sl_oom();
    pthread_mutex_init(&v->mu, NULL);
    v->ctl = ctl;
    sl_runner_cb_t cb = {.ctx = v, .on_line = on_line, .on_up = on_up, .on_exit = on_exit_cb};
    if (sl_runner_start(ctl->o.exe, &cb, &v->runner, err)) {
        pthread_mutex_destroy(&v->mu);
        free(v);
        return -1;
    }
    *out = v;
    return 0;
}

void sl_verify_stop(sl_verify_t *v)
{
    if (!v)
        return;
    sl_runner_stop(v->runner, 5000); /* a verify has no state to save: it is run again */
    while (v->jobs) {
        vjob_t *j = v->jobs;
        v->jobs = j->next;
        job_clear(j);
        free(j);
    }
    pthread_mutex_destroy(&v->mu);
    free(v);
}

/* ---- routes ----------------------------------------------------------------------------- */

int sl_ctl_stream_verify_start(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    sl_verify_t *v = ctl->verify;
    json_t *rec = NULL, *full = NULL, *resolved = NULL;
    char **secrets = NULL;
    int rc = -1;
    if (sl_ctl_stream_find(ctl, req->m->id, &rec, NULL, e))
        return -1;
    const char *id = str(rec, "id"), *name = str(rec, "name");
    pthread_mutex_lock(&v->mu);
    vjob_t *j = job_find(v, id);
    if (j && !strcmp(j->state, "running")) {
        sl_api_err_set(e, 409, "verify_running", "a verify job of stream \"%s\" is running (%s)", name, j->job_id);
        snprintf(e->hint, sizeof e->hint, "GET /api/v1/streams/%s/verify follows it", name);
        goto out;
    }
    if (!(full = sl_ctl_spec_full(ctl, rec, e)) || !(resolved = sl_ctl_spec_resolve(ctl, full, &secrets, NULL, e)))
        goto out;
    char dir[1300], report[1300];
    path_of(v, id, NULL, dir, sizeof dir);
    path_of(v, id, "verify-report.json", report, sizeof report);
    char parent[1300];
    snprintf(parent, sizeof parent, "%s/streams", ctl->data_dir);
    if ((mkdir(parent, 0700) && errno != EEXIST) || (mkdir(dir, 0700) && errno != EEXIST)) {
        sl_api_err_set(e, 500, "internal", "could not create \"%s\": %s", dir, strerror(errno));
        goto out;
    }
    unlink(report);
    if (!j) {
        j = calloc(1, sizeof *j);
        if (!j)
            sl_oom();
        snprintf(j->stream_id, sizeof j->stream_id, "%s", id);
        j->next = v->jobs;
        v->jobs = j;
    }
    job_clear(j);
    snprintf(j->name, sizeof j->name, "%s", name);
    sl_ctl_new_id('v', j->job_id);
    j->state = "running";
    sl_ctl_now(j->started_at);
    j->finished_at[0] = '\0';
    j->exit_code = -1;
    const char *args[] = {"verify", "-", "--report", report, NULL};
    char *text = json_dumps(resolved, JSON_COMPACT);
    /* no fd 3: a verify needs no broker, and reads with the passwords of the spec, not with
     * the server's ambient credentials (PGPASSWORD, …, which children do not inherit) */
    sl_runner_spawn(v->runner, id, name, args, text, NULL, (const char *const *)secrets);
    sodium_memzero(text, strlen(text));
    free(text);
    sl_info("stream %s: verify job %s started", name, j->job_id);
    resp->status = 202;
    resp->body = job_json(j);
    rc = 0;
out:
    pthread_mutex_unlock(&v->mu);
    sl_secret_list_free(secrets);
    json_decref(resolved);
    json_decref(full);
    json_decref(rec);
    return rc;
}

int sl_ctl_stream_verify_get(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    sl_verify_t *v = ctl->verify;
    json_t *rec = NULL;
    if (sl_ctl_stream_find(ctl, req->m->id, &rec, NULL, e))
        return -1;
    const char *id = str(rec, "id"), *name = str(rec, "name");
    pthread_mutex_lock(&v->mu);
    vjob_t *j = job_find(v, id);
    if (j) {
        resp->body = job_json(j);
    } else {
        /* a job of an earlier run of the server */
        char path[1300];
        path_of(v, id, "verify.json", path, sizeof path);
        resp->body = read_json(path);
    }
    pthread_mutex_unlock(&v->mu);
    if (!resp->body) {
        sl_api_err_set(e, 404, "not_found", "stream \"%s\" has not been verified", name);
        snprintf(e->hint, sizeof e->hint, "start a verify job: POST /api/v1/streams/%s/verify", name);
    }
    json_decref(rec);
    return resp->body ? 0 : -1;
}
