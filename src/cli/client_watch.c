/*
 * client_watch.c: `sluice stream watch ID`: follows a stream through the server-sent
 * events of GET /api/v1/streams/{id}/events (docs/api.md) until it reaches a final state
 * (completed, stopped, failed) or Ctrl-C.
 *
 * On a terminal it redraws a progress bar per table (the bar and ETA of `sluice run`, from
 * core/meter.h) with rows/s, and a totals line with state and lag; log lines and state
 * changes scroll above the bars. Otherwise it prints a line per state change and a
 * progress line every --interval seconds. With --json each event is printed as one JSON
 * line. When the connection drops it reconnects (after checking the stream's state, so a
 * final state reached meanwhile is not missed); after 60 s without the server it gives up
 * with exit 3.
 *
 * Single-threaded: curl calls back into the SSE parser, which calls on_event.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/client_sse.h"
#include "cli/client_table.h"
#include "core/clock.h"
#include "core/meter.h"

#define MAX_BARS 15
#define MAX_EVENT (4u << 20)
#define IDLE_S 45          /* the server pings every 15 s */
#define GIVE_UP_S 60       /* without the server */

typedef struct watch {
    sl_client_t *cl;
    const char *id;
    bool tty;
    int width;       /* terminal columns */
    char state[32];
    char name[128];
    json_t *stats;   /* the last stats event (owned) */
    json_t *error;   /* the stream's error when it failed (owned) */
    int drawn;       /* lines of bars on screen */
    double last_line; /* without a terminal: when the last progress line was printed */
    bool done;       /* a final state was reached */
    bool parse_failed;
    bool recheck;    /* a stats event said final: read the stream's state */
    char rechecked[32]; /* the final state last rechecked (once each) */
    sl_err_t perr;
    sl_sse_t sse;
} watch_t;

static void clock_text(char *buf, size_t size)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, size, "%H:%M:%S", &tm);
}

/* Prints s cut to the terminal's width (counting UTF-8 characters), then a newline. */
static void put_line(watch_t *w, const char *s)
{
    if (!w->tty) {
        printf("%s\n", s);
        return;
    }
    int cols = 0;
    const char *p = s;
    for (; *p; p++) {
        if (((unsigned char)*p & 0xC0) != 0x80 && ++cols > w->width - 1)
            break;
    }
    printf("%.*s\n", (int)(p - s), s);
}

static void clear_bars(watch_t *w)
{
    if (w->tty && w->drawn) {
        printf("\033[%dA\033[J", w->drawn);
        w->drawn = 0;
    }
}

/* The bars and the totals line, from the last stats (terminal only). */
static void draw_bars(watch_t *w)
{
    if (!w->tty)
        return;
    char line[512];
    int lines = 0;
    const json_t *tables = json_object_get(w->stats, "tables");
    double est = 0, written = 0;
    bool all_known = json_array_size(tables) > 0;
    size_t i;
    json_t *t;
    json_array_foreach(tables, i, t)
    {
        double wr = sl_json_num(t, "rows_written", 0);
        if (sl_json_is_num(t, "est_rows")) {
            est += fmax(sl_json_num(t, "est_rows", 0), wr);
            written += wr;
        }
        if (!sl_json_is_num(t, "progress"))
            all_known = false;
        if (lines >= MAX_BARS)
            continue;
        char rows[32], rate[32], eta[32], bar[25];
        sl_fmt_count((int64_t)wr, rows, sizeof rows);
        sl_fmt_rate(sl_json_num(t, "rows_per_sec", 0), rate, sizeof rate);
        const char *name = sl_json_str(t, "name", "?");
        bool wide = w->width >= 104; /* `sluice run`'s layout; a compact one below */
        if (sl_json_is_num(t, "progress")) {
            double frac = sl_json_num(t, "progress", 0);
            sl_meter_bar(frac, bar, wide ? 24 : 20);
            if (frac >= 1)
                snprintf(eta, sizeof eta, "done");
            else
                sl_meter_eta(sl_json_num(t, "eta_seconds", -1), eta, sizeof eta);
            if (wide)
                snprintf(line, sizeof line, "%-22.22s [%s] %5.1f%% %11s rows %9s rows/s  ETA %s", name, bar,
                         fmin(frac, 1) * 100, rows, rate, eta);
            else
                snprintf(line, sizeof line, "%-16.16s [%s] %5.1f%% %9s %7s/s ETA %s", name, bar,
                         fmin(frac, 1) * 100, rows, rate, eta);
        } else if (wide) {
            snprintf(line, sizeof line, "%-22.22s %-33s %11s rows %9s rows/s", name, "(changes)", rows, rate);
        } else {
            snprintf(line, sizeof line, "%-16.16s %-29s %9s %7s/s", name, "(changes)", rows, rate);
        }
        put_line(w, line);
        lines++;
    }
    if (json_array_size(tables) > MAX_BARS) {
        snprintf(line, sizeof line, "... and %zu more tables", json_array_size(tables) - MAX_BARS);
        put_line(w, line);
        lines++;
    }
    char sum[384];
    if (w->stats)
        sl_stats_line(w->stats, sum, sizeof sum);
    else
        snprintf(sum, sizeof sum, "%s", w->state);
    int n = snprintf(line, sizeof line, "stream \"%s\": %s", w->name, sum);
    double rate = sl_json_num(json_object_get(w->stats, "totals"), "rows_per_sec_written", 0);
    if (all_known && est > 0 && n > 0 && (size_t)n < sizeof line) {
        char eta[32];
        sl_meter_eta(rate > 0 && est > written ? (est - written) / rate : (est <= written ? 0 : -1), eta,
                     sizeof eta);
        snprintf(line + n, sizeof line - (size_t)n, ", ETA %s", eta);
    }
    put_line(w, line);
    w->drawn = lines + 1;
    fflush(stdout);
}

/* Prints a line above the bars (a state change, a log line, an error). */
static void say(watch_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(watch_t *w, const char *fmt, ...)
{
    char msg[1200], line[1300], clk[16];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    clock_text(clk, sizeof clk);
    snprintf(line, sizeof line, "%s %s", clk, msg);
    clear_bars(w);
    put_line(w, line);
    draw_bars(w);
    fflush(stdout);
}

/* Prints an error object (the stream's, or an error event's) line by line; false when e
 * is not one. */
static bool print_error_obj(watch_t *w, const json_t *e)
{
    sl_err_t err = {0};
    char buf[4096];
    if (!sl_client_err_from_json(e, SL_E_INTERNAL, &err))
        return false;
    sl_err_format(&err, buf, sizeof buf);
    for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        say(w, "%s", line);
    return true;
}

/* A new state (from a state event or the stream itself). */
static void set_state(watch_t *w, const char *state, const json_t *error)
{
    if (!state || strcmp(state, w->state) == 0)
        return;
    snprintf(w->state, sizeof w->state, "%s", state);
    if (w->stats)
        json_object_set_new(w->stats, "state", json_string(state));
    if (!w->cl->a.json)
        say(w, "stream \"%s\" is %s", w->name, state);
    if (json_is_object(error)) {
        json_decref(w->error);
        w->error = json_deep_copy(error);
        if (!w->cl->a.json)
            print_error_obj(w, error);
    }
    if (sl_stream_state_final(state))
        w->done = true;
}

static void progress_line(watch_t *w, bool force)
{
    double t = sl_mono_s();
    if (!force && t - w->last_line < w->cl->a.interval_s)
        return;
    w->last_line = t;
    char sum[384];
    sl_stats_line(w->stats, sum, sizeof sum);
    say(w, "stream \"%s\": %s", w->name, sum);
}

static void print_event_json(const char *event, const json_t *data, const char *raw)
{
    json_t *o = json_object();
    json_object_set_new(o, "event", json_string(event));
    if (data)
        json_object_set(o, "data", (json_t *)data);
    else
        json_object_set_new(o, "data", json_string(raw));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    if (s) {
        printf("%s\n", s);
        free(s);
    }
    fflush(stdout);
    json_decref(o);
}

static int on_event(const char *event, const char *data, size_t len, void *arg)
{
    watch_t *w = arg;
    json_t *d = json_loadb(data, len, JSON_DECODE_ANY, NULL);
    if (w->cl->a.json)
        print_event_json(event, d, data);
    if (strcmp(event, "state") == 0) {
        set_state(w, sl_json_str(d, "state", NULL), json_object_get(d, "error"));
    } else if (strcmp(event, "stats") == 0 && json_is_object(d)) {
        json_decref(w->stats);
        w->stats = json_incref(d);
        if (!w->cl->a.json) {
            if (w->tty) {
                clear_bars(w);
                draw_bars(w);
            } else {
                progress_line(w, false);
            }
        }
        /* State changes come as state events (never dropped); a stats event that already
         * says final is checked against the stream itself rather than trusted. */
        const char *st = sl_json_str(d, "state", NULL);
        if (sl_stream_state_final(st) && strcmp(st, w->state) != 0 && strcmp(st, w->rechecked) != 0) {
            w->recheck = true; /* ends this transfer: the main loop asks, then reconnects */
            snprintf(w->rechecked, sizeof w->rechecked, "%s", st);
        }
    } else if (strcmp(event, "log") == 0 && !w->cl->a.json) {
        say(w, "%s %s", sl_json_str(d, "level", "-"), sl_json_str(d, "message", data));
    } else if (strcmp(event, "error") == 0 && !w->cl->a.json) {
        if (!print_error_obj(w, json_object_get(d, "error")) && !print_error_obj(w, d))
            say(w, "error: %s", data);
    }
    json_decref(d);
    return w->done || w->recheck ? 1 : 0;
}

static int on_data(const char *p, size_t n, void *arg)
{
    watch_t *w = arg;
    int rc = sl_sse_feed(&w->sse, p, n, on_event, w, &w->perr);
    if (rc < 0)
        w->parse_failed = true;
    return rc != 0;
}

/* Reads the stream's state (quietly). Returns an exit code; on 0 the state is set. */
static int refresh(watch_t *w, bool first, sl_err_t *err)
{
    char *path = sl_client_path("streams", w->id, NULL);
    json_t *st = NULL;
    int rc = sl_client_request(w->cl, "GET", path, NULL, 30, &st, err);
    free(path);
    if (rc != SL_EXIT_OK)
        return rc;
    snprintf(w->name, sizeof w->name, "%s", sl_json_str(st, "name", w->id));
    if (first) {
        snprintf(w->state, sizeof w->state, "%s", sl_json_str(st, "state", "?"));
        if (w->cl->a.json) {
            json_t *d = json_object(), *e = json_object_get(st, "error");
            json_object_set_new(d, "state", json_string(w->state));
            json_object_set(d, "error", e ? e : json_null());
            print_event_json("state", d, NULL);
            json_decref(d);
        } else {
            say(w, "stream \"%s\" is %s", w->name, w->state);
        }
        if (json_is_object(json_object_get(st, "error"))) {
            w->error = json_deep_copy(json_object_get(st, "error"));
            if (!w->cl->a.json)
                print_error_obj(w, w->error);
        }
        if (sl_stream_state_final(w->state))
            w->done = true;
    } else {
        set_state(w, sl_json_str(st, "state", NULL), json_object_get(st, "error"));
    }
    json_decref(st);
    return SL_EXIT_OK;
}

/* Sleeps up to secs seconds, waking early on Ctrl-C. */
static void nap(double secs, volatile int *stop)
{
    double until = sl_mono_s() + secs;
    while (!*stop && sl_mono_s() < until) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

int sl_stream_watch(sl_client_t *cl)
{
    volatile int *stop = sl_cli_stop_flag();
    watch_t w = {.cl = cl, .id = cl->a.pos[0], .tty = isatty(STDOUT_FILENO) && !cl->a.json, .width = 80};
    struct winsize ws;
    if (w.tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
        w.width = ws.ws_col;
    sl_sse_init(&w.sse, MAX_EVENT);
    sl_err_t err = {0};
    int rc = refresh(&w, true, &err);
    char *events = sl_client_path("streams", w.id, "/events");
    double last_ok = sl_mono_s();
    while (rc == SL_EXIT_OK && !w.done) {
        if (*stop) {
            rc = SL_EXIT_INTERRUPTED;
            break;
        }
        sl_sse_reset(&w.sse);
        long status = 0;
        json_t *resp = NULL;
        int hr = sl_http_stream(cl->http, events, IDLE_S, on_data, &w, stop, &status, &resp, &err);
        if (w.parse_failed) {
            err = w.perr;
            rc = SL_EXIT_FAIL;
        } else if (w.done) {
            rc = SL_EXIT_OK;
        } else if (w.recheck) {
            w.recheck = false;
            sl_err_t rerr = {0};
            refresh(&w, false, &rerr); /* a failure here shows at the next connection */
        } else if (*stop) {
            rc = SL_EXIT_INTERRUPTED;
        } else if (hr == 0 && status != 200 && status < 500) {
            sl_client_api_err(status, "GET", events, resp, NULL, &err);
            rc = sl_client_exit_for_status(status);
        } else {
            /* The connection dropped, the server closed the stream, or it is restarting. */
            if (hr == 0 && status == 200)
                last_ok = sl_mono_s();
            if (cl->a.no_reconnect || sl_mono_s() - last_ok > GIVE_UP_S) {
                if (hr == 0 && status == 200)
                    sl_err_set(&err, SL_E_CONNECT, "the server ended the event stream of \"%s\" while it was %s",
                               w.name, w.state);
                else if (hr == 0)
                    sl_client_api_err(status, "GET", events, resp, NULL, &err);
                rc = SL_EXIT_UNREACHABLE;
            } else {
                if (!cl->a.json)
                    say(&w, "%s; reconnecting", hr == 0 && status == 200 ? "the server closed the event stream"
                                                                          : "lost the server");
                nap(1.0, stop);
                sl_err_t rerr = {0};
                int r = refresh(&w, false, &rerr);
                if (r == SL_EXIT_OK)
                    last_ok = sl_mono_s();
                else if (r != SL_EXIT_UNREACHABLE && r != SL_EXIT_FAIL) { /* not a 5xx: final */
                    err = rerr;
                    rc = r;
                }
            }
        }
        json_decref(resp);
    }
    free(events);
    if (!cl->a.json && w.name[0]) {
        clear_bars(&w);
        draw_bars(&w);
    }
    if (rc == SL_EXIT_OK && w.done) {
        if (strcmp(w.state, "failed") == 0)
            rc = SL_EXIT_FAIL; /* its error was printed with the state change */
    } else if (rc != SL_EXIT_OK && rc != SL_EXIT_INTERRUPTED) {
        fflush(stdout);
        sl_client_print_err(&err);
    }
    fflush(stdout);
    json_decref(w.stats);
    json_decref(w.error);
    sl_sse_free(&w.sse);
    return rc;
}
