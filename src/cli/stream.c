/*
 * stream.c: `sluice stream create|list|show|start|pause|resume|stop|rm|stats|logs|verify|tables`
 * (and watch, in client_watch.c), clients of the REST API's /api/v1/streams routes
 * (docs/api.md). Runs on the main thread.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/client.h"
#include "cli/client_table.h"
#include "cli/http_client.h"
#include "core/buf.h"
#include "core/clock.h"

#define MAX_SPEC (1u << 20) /* the API's body limit */

bool sl_stream_state_final(const char *s)
{
    return s && (strcmp(s, "completed") == 0 || strcmp(s, "stopped") == 0 || strcmp(s, "failed") == 0);
}

static bool transitional(const char *s)
{
    return s && (strcmp(s, "starting") == 0 || strcmp(s, "stopping") == 0);
}

static const char *spec_mode(const json_t *st)
{
    return sl_json_str(json_object_get(st, "spec"), "mode", "load");
}

/* Prints a stream's error (why it failed), if it has one, in PostgreSQL style. */
static void print_stream_error(FILE *f, const json_t *st)
{
    sl_err_t err = {0};
    char buf[4096];
    if (sl_client_err_from_json(json_object_get(st, "error"), SL_E_INTERNAL, &err))
        fprintf(f, "%s\n", sl_err_format(&err, buf, sizeof buf));
}

/* Reads SPEC (a file, or "-" for stdin) and parses it. Returns 0 or an exit code. */
static int read_spec(const char *file, json_t **out)
{
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
    if (!f) {
        fprintf(stderr, "sluice: error: could not open spec \"%s\": %s\n", file, strerror(errno));
        return SL_EXIT_USAGE;
    }
    sl_buf_t b;
    sl_buf_init(&b, MAX_SPEC);
    char chunk[8192];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (sl_buf_add(&b, chunk, n, NULL)) {
            fprintf(stderr, "sluice: error: spec \"%s\" is larger than %u bytes\n"
                            "hint: the API takes request bodies up to 1 MiB\n", file, MAX_SPEC);
            rc = SL_EXIT_USAGE;
            break;
        }
    if (!rc && ferror(f)) {
        fprintf(stderr, "sluice: error: could not read spec \"%s\": %s\n", file, strerror(errno));
        rc = SL_EXIT_USAGE;
    }
    if (f != stdin)
        fclose(f);
    if (!rc) {
        json_error_t jerr;
        *out = json_loadb(b.data ? b.data : "", b.len, 0, &jerr);
        if (!*out || !json_is_object(*out)) {
            fprintf(stderr, "sluice: error: spec \"%s\" is not a JSON object\n", file);
            if (!*out)
                fprintf(stderr, "detail: line %d, column %d: %s\n", jerr.line, jerr.column, jerr.text);
            fprintf(stderr, "hint: docs/spec.md describes the stream spec\n");
            json_decref(*out);
            *out = NULL;
            rc = SL_EXIT_USAGE;
        }
    }
    sl_buf_free(&b);
    return rc;
}

static int cmd_create(sl_client_t *cl)
{
    json_t *spec = NULL;
    int rc = read_spec(cl->a.pos[0], &spec);
    if (rc)
        return rc;
    json_t *st = NULL;
    rc = sl_client_call(cl, "POST", cl->a.start ? "/api/v1/streams?start=true" : "/api/v1/streams", spec, &st);
    json_decref(spec);
    if (rc == SL_EXIT_OK) {
        if (cl->a.json)
            sl_client_print_json(st);
        else
            printf("stream \"%s\" created (%s), state %s\n", sl_json_str(st, "name", "?"), sl_json_str(st, "id", "?"),
                   sl_json_str(st, "state", "?"));
    }
    json_decref(st);
    return rc;
}

/* Summary cells of a stream: rows written, rows/s, lag, progress. */
static void summary_cells(const json_t *st, char rows[32], char rate[32], char lag[32], char prog[16])
{
    const json_t *sum = json_object_get(st, "summary");
    sl_fmt_count((int64_t)sl_json_num(sum, "rows_written", 0), rows, 32);
    sl_fmt_rate(sl_json_num(sum, "rows_per_sec", 0), rate, 32);
    sl_fmt_secs(sl_json_num(sum, "lag_seconds", -1), lag, 32);
    if (sl_json_is_num(sum, "progress"))
        snprintf(prog, 16, "%.1f%%", sl_json_num(sum, "progress", 0) * 100);
    else
        snprintf(prog, 16, "-");
}

static int cmd_list(sl_client_t *cl)
{
    json_t *resp = NULL;
    int rc = sl_client_fetch(cl, "/api/v1/streams", &resp);
    if (rc != SL_EXIT_OK || !resp)
        return rc;
    static const char *const hdr[] = {"NAME", "STATE", "MODE", ">ROWS", ">ROWS/S", ">LAG", ">PROGRESS", "ID"};
    sl_tab_t *t = sl_tab_new(8, hdr);
    size_t i;
    json_t *st;
    json_array_foreach(json_object_get(resp, "streams"), i, st)
    {
        char rows[32], rate[32], lag[32], prog[16];
        summary_cells(st, rows, rate, lag, prog);
        const char *row[] = {sl_json_str(st, "name", NULL), sl_json_str(st, "state", NULL), spec_mode(st), rows,
                             rate, lag, prog, sl_json_str(st, "id", NULL)};
        sl_tab_row(t, row);
    }
    sl_tab_print_free(t, stdout, "no streams (create one with `sluice stream create SPEC.json`)");
    json_decref(resp);
    return rc;
}

/* "connection NAME" or the (masked) URL, plus the tables, for a spec's source or target. */
static void endpoint(const json_t *ep, char *buf, size_t size)
{
    const char *conn = sl_json_str(ep, "connection", NULL);
    int n = conn ? snprintf(buf, size, "connection %s", conn) : snprintf(buf, size, "%s", sl_json_str(ep, "url", "-"));
    const json_t *tables = json_object_get(ep, "tables");
    if (json_array_size(tables) > 0 && n > 0 && (size_t)n < size) {
        n += snprintf(buf + n, size - (size_t)n, ", tables:");
        size_t i;
        json_t *t;
        json_array_foreach(tables, i, t)
        {
            if ((size_t)n >= size)
                break;
            n += snprintf(buf + n, size - (size_t)n, " %s", json_is_string(t) ? json_string_value(t) : "?");
        }
    }
}

static void show_stream(const json_t *st)
{
    char rows[32], rate[32], lag[32], prog[16], src[512], tgt[512];
    summary_cells(st, rows, rate, lag, prog);
    const json_t *spec = json_object_get(st, "spec");
    endpoint(json_object_get(spec, "source"), src, sizeof src);
    endpoint(json_object_get(spec, "target"), tgt, sizeof tgt);
    const json_t *sum = json_object_get(st, "summary");
    char rd[32];
    sl_fmt_count((int64_t)sl_json_num(sum, "rows_read", 0), rd, sizeof rd);
    printf("name        %s\n", sl_json_str(st, "name", "-"));
    printf("id          %s\n", sl_json_str(st, "id", "-"));
    printf("state       %s\n", sl_json_str(st, "state", "-"));
    printf("mode        %s\n", spec_mode(st));
    printf("source      %s\n", src);
    printf("target      %s\n", tgt);
    printf("rows        %s read, %s written\n", rd, rows);
    printf("rows/s      %s\n", rate);
    printf("lag         %s\n", lag);
    printf("progress    %s\n", prog);
    printf("created_at  %s\n", sl_json_str(st, "created_at", "-"));
    printf("updated_at  %s\n", sl_json_str(st, "updated_at", "-"));
    print_stream_error(stdout, st);
}

static int cmd_show(sl_client_t *cl)
{
    char *path = sl_client_path("streams", cl->a.pos[0], NULL);
    json_t *st = NULL;
    int rc = sl_client_fetch(cl, path, &st);
    free(path);
    if (rc == SL_EXIT_OK && st)
        show_stream(st);
    json_decref(st);
    return rc;
}

/* Polls the stream until it leaves starting/stopping; *st gets the last answer. A server
 * error (5xx) or a lost connection while polling is retried until the deadline: the
 * action was accepted, only its outcome is being read. */
static int wait_settled(sl_client_t *cl, json_t **st)
{
    volatile int *stop = sl_cli_stop_flag();
    double deadline = sl_mono_s() + cl->a.timeout_s;
    sl_err_t err = {0};
    int rc = SL_EXIT_OK;
    while (rc != SL_EXIT_OK || transitional(sl_json_str(*st, "state", NULL))) {
        if (*stop)
            return SL_EXIT_INTERRUPTED;
        if (sl_mono_s() >= deadline) {
            if (rc != SL_EXIT_OK) {
                sl_client_print_err(&err);
                return rc;
            }
            fprintf(stderr, "sluice: error: stream \"%s\" is still %s after %.0f s\n"
                            "hint: `sluice stream watch %s` follows it; --timeout waits longer\n",
                    cl->a.pos[0], sl_json_str(*st, "state", "?"), cl->a.timeout_s, cl->a.pos[0]);
            return SL_EXIT_FAIL;
        }
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
        json_t *next = NULL;
        char *path = sl_client_path("streams", cl->a.pos[0], NULL);
        rc = sl_client_request(cl, "GET", path, NULL, 30, &next, &err);
        free(path);
        if (rc == SL_EXIT_OK) {
            json_decref(*st);
            *st = next;
        } else if (rc != SL_EXIT_FAIL && rc != SL_EXIT_UNREACHABLE) {
            sl_client_print_err(&err);
            return rc;
        }
    }
    return SL_EXIT_OK;
}

static int action(sl_client_t *cl, const char *what)
{
    char suffix[16];
    snprintf(suffix, sizeof suffix, "/%s", what);
    char *path = sl_client_path("streams", cl->a.pos[0], suffix);
    json_t *st = NULL;
    int rc = sl_client_call(cl, "POST", path, NULL, &st);
    free(path);
    if (rc == SL_EXIT_OK && cl->a.wait)
        rc = wait_settled(cl, &st);
    if (rc == SL_EXIT_OK) {
        if (cl->a.json)
            sl_client_print_json(st);
        else
            printf("stream \"%s\": %s\n", sl_json_str(st, "name", cl->a.pos[0]), sl_json_str(st, "state", "?"));
        if (cl->a.wait && strcmp(sl_json_str(st, "state", ""), "failed") == 0) {
            print_stream_error(stderr, st);
            rc = SL_EXIT_FAIL;
        }
    }
    json_decref(st);
    return rc;
}

static int cmd_start(sl_client_t *cl) { return action(cl, "start"); }
static int cmd_pause(sl_client_t *cl) { return action(cl, "pause"); }
static int cmd_resume(sl_client_t *cl) { return action(cl, "resume"); }
static int cmd_stop(sl_client_t *cl) { return action(cl, "stop"); }

static int cmd_rm(sl_client_t *cl)
{
    char *path = sl_client_path("streams", cl->a.pos[0], cl->a.drop_slot ? "?drop_slot=true" : NULL);
    int rc = sl_client_call(cl, "DELETE", path, NULL, NULL);
    free(path);
    if (rc == SL_EXIT_OK && !cl->a.json)
        printf("stream \"%s\" removed%s\n", cl->a.pos[0],
               cl->a.drop_slot ? ", with its replication slot and publication" : "");
    return rc;
}

const char *sl_stats_line(const json_t *s, char *buf, size_t size)
{
    const json_t *tot = json_object_get(s, "totals");
    const json_t *lag = json_object_get(s, "lag");
    char rows[32], rate[32], lagtxt[32], slot[32];
    sl_fmt_count((int64_t)sl_json_num(tot, "rows_written", 0), rows, sizeof rows);
    sl_fmt_rate(sl_json_num(tot, "rows_per_sec_written", 0), rate, sizeof rate);
    int n = snprintf(buf, size, "%s", sl_json_str(s, "state", "?"));
    const char *phase = sl_json_str(s, "phase", NULL);
    if (phase && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, " (%s)", phase);
    if ((size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, ": %s rows written, %s rows/s", rows, rate);
    if (json_is_object(lag) && (size_t)n < size) {
        sl_fmt_secs(sl_json_num(lag, "seconds", -1), lagtxt, sizeof lagtxt);
        n += snprintf(buf + n, size - (size_t)n, ", lag %s", lagtxt);
        if (sl_json_is_num(lag, "slot_bytes") && (size_t)n < size)
            n += snprintf(buf + n, size - (size_t)n, " (slot %s)",
                          sl_fmt_bytes(sl_json_num(lag, "slot_bytes", 0), slot, sizeof slot));
    }
    double errors = sl_json_num(tot, "errors", 0);
    if (errors > 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, ", %.0f errors", errors);
    return buf;
}

static int cmd_stats(sl_client_t *cl)
{
    char *path = sl_client_path("streams", cl->a.pos[0], "/stats");
    json_t *s = NULL;
    int rc = sl_client_fetch(cl, path, &s);
    free(path);
    if (rc != SL_EXIT_OK || !s)
        return rc;
    char line[512];
    printf("stream \"%s\": %s\n", sl_json_str(s, "stream", cl->a.pos[0]), sl_stats_line(s, line, sizeof line));
    const char *pos = sl_json_str(s, "position", NULL);
    if (pos)
        printf("position: %s\n", pos);
    /* loaded rows and change events apart (docs/monitoring.md); a cdc stream's tables
     * each with its state (docs/api.md "Tables of a stream") */
    static const char *const hdr[] = {"TABLE",     "STATE",     ">READ",    ">WRITTEN", ">LOADED",
                                      ">CHANGES",  ">ESTIMATE", ">PROGRESS", ">ROWS/S", ">ETA"};
    sl_tab_t *t = sl_tab_new(10, hdr);
    size_t i;
    json_t *tb;
    json_array_foreach(json_object_get(s, "tables"), i, tb)
    {
        char rd[32], wr[32], ld[32], ch[32], est[32], prog[16], rate[32], eta[32];
        sl_fmt_count((int64_t)sl_json_num(tb, "rows_read", 0), rd, sizeof rd);
        sl_fmt_count((int64_t)sl_json_num(tb, "rows_written", 0), wr, sizeof wr);
        sl_fmt_count((int64_t)sl_json_num(tb, "rows_loaded", 0), ld, sizeof ld);
        sl_fmt_count((int64_t)sl_json_num(tb, "changes_applied", 0), ch, sizeof ch);
        if (sl_json_is_num(tb, "est_rows"))
            sl_fmt_count((int64_t)sl_json_num(tb, "est_rows", 0), est, sizeof est);
        else
            snprintf(est, sizeof est, "-");
        if (sl_json_is_num(tb, "progress"))
            snprintf(prog, sizeof prog, "%.1f%%", sl_json_num(tb, "progress", 0) * 100);
        else
            snprintf(prog, sizeof prog, "-");
        sl_fmt_rate(sl_json_num(tb, "rows_per_sec", 0), rate, sizeof rate);
        if (sl_json_num(tb, "progress", 0) >= 1)
            snprintf(eta, sizeof eta, "done");
        else
            sl_fmt_secs(sl_json_num(tb, "eta_seconds", -1), eta, sizeof eta);
        const char *row[] = {sl_json_str(tb, "name", NULL), sl_json_str(tb, "state", "-"), rd, wr, ld, ch, est, prog, rate, eta};
        sl_tab_row(t, row);
    }
    sl_tab_print_free(t, stdout, NULL);
    json_array_foreach(json_object_get(s, "tables"), i, tb) if (sl_json_str(tb, "error", NULL))
        printf("table \"%s\" failed: %s\n", sl_json_str(tb, "name", "?"), sl_json_str(tb, "error", ""));
    json_decref(s);
    return rc;
}

/* `sluice stream tables add|rm|resync STREAM TABLE…`: one request per table (add: one
 * for all), each answered once the running stream recorded it (docs/api.md "Tables of a
 * stream"). */
static int cmd_tables(sl_client_t *cl)
{
    const char *op = cl->a.pos[0], *stream = cl->a.pos[1];
    bool add = !strcmp(op, "add"), rm = !strcmp(op, "rm"), resync = !strcmp(op, "resync");
    if (!add && !rm && !resync) {
        fprintf(stderr, "sluice: error: unknown tables command \"%s\"\nhint: use add, rm or resync\n", op);
        return SL_EXIT_USAGE;
    }
    if (cl->a.drop && !rm) {
        fprintf(stderr, "sluice: error: --drop goes with `tables rm`\n");
        return SL_EXIT_USAGE;
    }
    int rc = SL_EXIT_OK;
    for (int i = 2; i < cl->a.npos && rc == SL_EXIT_OK; i++) {
        json_t *body = NULL, *r = NULL;
        char *path;
        if (add) {
            body = json_pack("{s:[]}", "tables");
            for (int k = 2; k < cl->a.npos; k++)
                json_array_append_new(json_object_get(body, "tables"), json_string(cl->a.pos[k]));
            path = sl_client_path("streams", stream, "/tables");
            i = cl->a.npos; /* one request for all */
        } else {
            char *table = sl_http_escape(cl->a.pos[i]), suffix[1200];
            snprintf(suffix, sizeof suffix, "/tables/%s%s", table, rm ? (cl->a.drop ? "?drop=true" : "") : "/resync");
            free(table);
            path = sl_client_path("streams", stream, suffix);
        }
        rc = sl_client_call(cl, rm ? "DELETE" : "POST", path, body, &r);
        free(path);
        json_decref(body);
        if (rc == SL_EXIT_OK && cl->a.json) {
            sl_client_print_json(r);
        } else if (rc == SL_EXIT_OK) {
            bool applied = json_is_true(json_object_get(r, "applied"));
            const char *what = add ? "added (each is copied while the others stream)"
                               : rm ? (cl->a.drop ? "removed, its target table dropped" : "removed, its target table kept")
                                    : "resyncing (emptied and copied again while the others stream)";
            if (add)
                printf("stream \"%s\": %d table%s %s", stream, cl->a.npos - 2, cl->a.npos == 3 ? "" : "s", what);
            else
                printf("stream \"%s\": table \"%s\" %s", stream, cl->a.pos[i], what);
            printf("%s\n", applied ? "" : "; the stream takes it when it next starts");
        }
        json_decref(r);
    }
    return rc;
}

static int cmd_logs(sl_client_t *cl)
{
    char suffix[32];
    snprintf(suffix, sizeof suffix, "/logs?limit=%ld", cl->a.limit);
    char *path = sl_client_path("streams", cl->a.pos[0], suffix);
    json_t *r = NULL;
    int rc = sl_client_fetch(cl, path, &r);
    free(path);
    if (rc != SL_EXIT_OK || !r)
        return rc;
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(r, "lines"), i, l)
        printf("%s %-5s %s\n", sl_json_str(l, "ts", "-"), sl_json_str(l, "level", "-"), sl_json_str(l, "message", ""));
    json_decref(r);
    return rc;
}

/* A verify job (docs/api.md "Verify"): its report as `sluice verify` prints it, or the job
 * as JSON; the exit code is verify's (a running job: 0, it says so). */
static int print_verify_job(sl_client_t *cl, const json_t *job)
{
    const char *state = sl_json_str(job, "state", "?");
    const json_t *report = json_object_get(job, "report");
    int rc = SL_EXIT_OK;
    if (!strcmp(state, "running")) {
        if (!cl->a.json)
            printf("verify job %s of stream \"%s\" is running since %s\n", sl_json_str(job, "id", "?"),
                   sl_json_str(job, "stream", "?"), sl_json_str(job, "started_at", "?"));
    } else if (json_is_object(report)) {
        rc = sl_verify_print(report, cl->a.json ? stderr : stdout);
    } else {
        sl_err_t err = {0};
        if (!sl_client_err_from_json(json_object_get(job, "error"), SL_E_INTERNAL, &err))
            sl_err_set(&err, SL_E_INTERNAL, "the verify job failed without a report");
        sl_client_print_err(&err);
        rc = SL_EXIT_USAGE;
    }
    if (cl->a.json)
        sl_client_print_json(job);
    return rc;
}

/* POST /streams/{id}/verify, then GET it until the job ends; prints the report as
 * `sluice verify` does, with its exit codes (0 equal, 1 different, 2 error). */
static int cmd_verify(sl_client_t *cl)
{
    volatile int *stop = sl_cli_stop_flag();
    char *path = sl_client_path("streams", cl->a.pos[0], "/verify");
    json_t *job = NULL;
    int rc = sl_client_call(cl, "POST", path, NULL, &job);
    sl_err_t err = {0};
    while (rc == SL_EXIT_OK && !strcmp(sl_json_str(job, "state", ""), "running")) {
        if (*stop) {
            fprintf(stderr, "sluice: the verify job %s goes on on the server; `sluice stream verify-status %s` "
                            "shows it\n",
                    sl_json_str(job, "id", "?"), cl->a.pos[0]);
            rc = SL_EXIT_INTERRUPTED;
            break;
        }
        struct timespec ts = {0, 500 * 1000 * 1000};
        nanosleep(&ts, NULL);
        json_t *next = NULL;
        int r = sl_client_request(cl, "GET", path, NULL, 30, &next, &err);
        if (r == SL_EXIT_OK) {
            json_decref(job);
            job = next;
        } else if (r != SL_EXIT_FAIL && r != SL_EXIT_UNREACHABLE) { /* a 5xx or a lost connection: again */
            sl_client_print_err(&err);
            rc = r;
        }
    }
    free(path);
    if (rc == SL_EXIT_OK)
        rc = print_verify_job(cl, job);
    json_decref(job);
    return rc;
}

/* GET /streams/{id}/verify: the last job, printed as cmd_verify does. */
static int cmd_verify_status(sl_client_t *cl)
{
    char *path = sl_client_path("streams", cl->a.pos[0], "/verify");
    json_t *job = NULL;
    int rc = sl_client_call(cl, "GET", path, NULL, &job);
    free(path);
    if (rc == SL_EXIT_OK)
        rc = print_verify_job(cl, job);
    json_decref(job);
    return rc;
}

static const sl_client_cmd_t cmds[] = {
    {"create", "SPEC.json|-", "create a stream from a spec (a file, or - for stdin)",
     "Creates a stream from the spec in SPEC.json, or read from standard input with -\n"
     "(docs/spec.md; a source or target may name a stored connection:\n"
     "{\"connection\": \"NAME\", \"tables\": [...]}). It is created in state `created`;\n"
     "--start also starts it.",
     1, 1, SL_OPT_START, cmd_create},
    {"list", "", "list the streams with state, rows, rows/s, lag", "Lists the streams.", 0, 0, 0, cmd_list},
    {"show", "ID", "show a stream: spec, state, summary, error",
     "Shows stream ID (its id or its name): where it reads and writes, its state, rows, rate,\n"
     "lag and progress, and why it failed if it did.",
     1, 1, 0, cmd_show},
    {"start", "ID", "start a created, stopped, completed or failed stream",
     "Starts stream ID. A stream that was stopped continues from its position.", 1, 1, SL_OPT_WAIT | SL_OPT_TIMEOUT,
     cmd_start},
    {"pause", "ID", "pause a running stream (it keeps its position)",
     "Pauses stream ID: reading and writing stop; the position is kept (CDC: the slot or binlog\n"
     "position is held, so the source keeps its WAL or binlogs meanwhile).",
     1, 1, SL_OPT_WAIT | SL_OPT_TIMEOUT, cmd_pause},
    {"resume", "ID", "resume a paused stream",
     "Resumes stream ID from where it paused. --wait waits until it is running again.", 1, 1,
     SL_OPT_WAIT | SL_OPT_TIMEOUT, cmd_resume},
    {"stop", "ID", "stop a stream: drain, commit, confirm",
     "Stops stream ID: what was read is applied and committed, and the position confirmed to\n"
     "the source. A later start continues from there. --wait waits until it is stopped.",
     1, 1, SL_OPT_WAIT | SL_OPT_TIMEOUT, cmd_stop},
    {"rm", "ID", "delete a stream (not while it runs)",
     "Deletes stream ID and its state on the server. --drop-slot also drops its replication\n"
     "slot and publication on a PostgreSQL source (what `sluice cleanup` does): without it they\n"
     "stay, and an abandoned slot keeps WAL on the source. Refused (exit 6) while the stream is\n"
     "starting, running or stopping.",
     1, 1, SL_OPT_DROP_SLOT, cmd_rm},
    {"watch", "ID", "follow a stream live: progress bars, rows/s, ETA, lag",
     "Follows stream ID through the server's events: on a terminal, a progress bar per table\n"
     "with rows/s and ETA, the totals, lag and state, redrawn every second; otherwise a line\n"
     "every --interval seconds and one per state change. Exits when the stream is completed (0),\n"
     "stopped (0) or failed (1), or on Ctrl-C (130); reconnects when the connection drops.\n"
     "--json prints each event as one JSON line {\"event\": ..., \"data\": ...}.",
     1, 1, SL_OPT_INTERVAL | SL_OPT_NO_RECONNECT, sl_stream_watch},
    {"stats", "ID", "print a stream's stats per table",
     "Prints stream ID's totals, lag, position and per-table rows (read, written, and apart:\n"
     "rows loaded, change events applied), progress, rows/s and ETA.", 1, 1, 0,
     cmd_stats},
    {"logs", "ID", "print a stream's recent log lines", "Prints the last --limit log lines of stream ID, oldest first.",
     1, 1, SL_OPT_LIMIT, cmd_logs},
    {"verify", "ID", "compare source and target: row counts and checksums per table",
     "Starts a verify job of stream ID on the server (with its stored connections) and waits\n"
     "for its report: per table the row counts on both sides, equal or DIFFERENT, and sample\n"
     "keys of rows that differ, as `sluice verify SPEC` prints it. Exit 0 when every table is\n"
     "equal, 1 on a difference, 2 when a side could not be read; Ctrl-C stops waiting (130),\n"
     "not the job. --json prints the job with its report (docs/api.md \"Verify\").",
     1, 1, 0, cmd_verify},
    {"verify-status", "ID", "print the last verify job of a stream and its report",
     "Prints the last verify job of stream ID: running, or its report as `stream verify` does\n"
     "(with its exit codes).",
     1, 1, 0, cmd_verify_status},
    {"tables", "add|rm|resync STREAM TABLE...", "add, remove or resync tables of a cdc stream",
     "Changes the tables of cdc stream STREAM (id or name) while the others go on streaming:\n"
     "  add TABLE...     adds tables; each is copied beside the stream, then streams\n"
     "  rm TABLE...      removes tables: their changes are no longer applied; the target\n"
     "                   tables are kept, or dropped with --drop\n"
     "  resync TABLE...  empties each table on the target and copies it again (also one\n"
     "                   that failed alone, options.table_errors \"stop_table\")\n"
     "A running stream applies the change at once; a paused or stopped one when it next\n"
     "starts. `sluice stream stats STREAM` shows each table's state.",
     3, 4096, SL_OPT_DROP, cmd_tables},
    {NULL, NULL, NULL, NULL, 0, 0, 0, NULL},
};

int sl_cli_stream(int argc, char **argv)
{
    return sl_client_main("stream", "Manages the streams of a sluice server.", cmds, argc, argv);
}
