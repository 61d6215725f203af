/*
 * test_monitor_sse.c: unit tests of the monitor's event subscriptions and records
 * (src/monitor/sse.c, src/monitor/monitor.c without a broker): a full queue drops stats
 * but keeps state events, timeouts, -1 after forget and after stop (also when the
 * reader lets go first or last), the log ring of 1000 lines, and snapshots found by the
 * control plane's id or by the stream's name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/monitor.h"
#include "monitor/snap.h"
#include "monitor/sse.h"

/* Pops one event, failing unless it is `event`; returns its data (caller frees). */
static char *expect(sl_monitor_sub_t *q, const char *event)
{
    char *ev = NULL, *data = NULL;
    assert_int_equal(sl_sse_next(q, 1000, &ev, &data), 1);
    assert_string_equal(ev, event);
    free(ev);
    return data;
}

static void test_full_queue_drops_stats_keeps_state(void **state)
{
    sl_monitor_sub_t *q = sl_sse_new("s", 4);
    sl_sse_push(q, "state", "{\"state\":\"starting\"}", false);
    for (int i = 0; i < 10; i++) {
        char d[32];
        snprintf(d, sizeof d, "{\"n\":%d}", i);
        sl_sse_push(q, "stats", d, true);
    }
    sl_sse_push(q, "state", "{\"state\":\"running\"}", false);
    sl_sse_push(q, "state", "{\"state\":\"paused\"}", false);
    sl_sse_push(q, "stats", "{\"n\":99}", true);
    /* 4 slots: both state changes survive in order with the newest stats; stats went */
    char *d = expect(q, "state");
    assert_string_equal(d, "{\"state\":\"starting\"}");
    free(d);
    d = expect(q, "state");
    assert_string_equal(d, "{\"state\":\"running\"}");
    free(d);
    d = expect(q, "state");
    assert_string_equal(d, "{\"state\":\"paused\"}");
    free(d);
    d = expect(q, "stats");
    assert_string_equal(d, "{\"n\":99}");
    free(d);
    assert_int_equal(sl_sse_dropped(q), 10);
    /* empty: a timeout, not an error */
    char *ev = NULL, *data = NULL;
    assert_int_equal(sl_sse_next(q, 50, &ev, &data), 0);
    /* state events beyond the soft bound are still kept */
    for (int i = 0; i < 20; i++)
        sl_sse_push(q, "state", "{}", false);
    for (int i = 0; i < 20; i++)
        free(expect(q, "state"));
    sl_sse_close(q);
    assert_int_equal(sl_sse_next(q, 50, &ev, &data), -1);
    sl_sse_release(q);
}

static void test_hopeless_reader_closed(void **state)
{
    sl_monitor_sub_t *q = sl_sse_new("s", 2);
    for (int i = 0; i < 2 * SL_SSE_HARD_FACTOR + 1; i++)
        sl_sse_push(q, "state", "{}", false);
    char *ev = NULL, *data = NULL;
    assert_int_equal(sl_sse_next(q, 50, &ev, &data), -1); /* it reconnects and starts afresh */
    sl_sse_release(q);
    sl_sse_close(q); /* the monitor's reference goes last: frees */
}

static char *snapshot(const char *stream, const char *id, const char *run, int64_t seq, int64_t rows)
{
    sl_snap_t s;
    sl_snap_init(&s);
    sl_snap_set(&s.stream, stream);
    sl_snap_set(&s.id, id);
    sl_snap_set(&s.run, run);
    s.seq = seq;
    s.t = (double)seq;
    s.ts = 1795000000.0;
    sl_snap_table_t *t = sl_snap_append(&s, "public.t");
    t->rows_read = t->rows_written = rows;
    t->est_rows = 100;
    sl_snap_sum(&s);
    char *text = sl_snap_encode(&s);
    sl_snap_clear(&s);
    return text;
}

static void ingest(sl_monitor_t *mon, const char *text)
{
    sl_err_t err = {0};
    assert_int_equal(sl_monitor_ingest(mon, text, strlen(text), &err), 0);
}

static void test_monitor_events_and_forget(void **state)
{
    sl_monitor_t *mon = NULL;
    sl_err_t err = {0};
    assert_int_equal(sl_monitor_start(NULL, &mon, &err), 0);
    /* the control plane knows the stream by its id; the child publishes its name and id */
    sl_monitor_state(mon, "s_42", "starting", NULL);
    sl_monitor_sub_t *sub = sl_monitor_subscribe(mon, "s_42");
    sl_monitor_state(mon, "s_42", "running", NULL);
    char *d = expect(sub, "state");
    assert_string_equal(d, "{\"state\":\"running\",\"error\":null}");
    free(d);
    char *snap = snapshot("shop", "s_42", "r1", 1, 40);
    ingest(mon, snap);
    free(snap);
    d = expect(sub, "stats");
    json_error_t je;
    json_t *j = json_loads(d, 0, &je);
    free(d);
    assert_string_equal(json_string_value(json_object_get(j, "stream")), "shop");
    assert_string_equal(json_string_value(json_object_get(j, "state")), "running");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "totals"), "rows_written")), 40);
    json_decref(j);
    /* by id and by name alike */
    j = sl_monitor_stats(mon, "shop");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "totals"), "rows_read")), 40);
    json_decref(j);
    j = sl_monitor_summary(mon, "s_42");
    assert_float_equal(json_real_value(json_object_get(j, "progress")), 0.4, 1e-9);
    json_decref(j);
    /* a failure: a state event and an error event */
    json_t *fail = json_pack("{s:s, s:s}", "code", "internal", "message", "target went away");
    sl_monitor_state(mon, "s_42", "failed", fail);
    json_decref(fail);
    d = expect(sub, "state");
    assert_non_null(strstr(d, "\"failed\""));
    assert_non_null(strstr(d, "target went away"));
    free(d);
    free(expect(sub, "error"));
    /* then the figures in the new state: no process, so no rate */
    d = expect(sub, "stats");
    j = json_loads(d, 0, &je);
    free(d);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "failed");
    assert_float_equal(json_real_value(json_object_get(json_object_get(j, "totals"), "rows_per_sec_written")), 0.0, 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "totals"), "rows_written")), 40);
    json_decref(j);
    sl_monitor_log(mon, "s_42", "info", "hello");
    d = expect(sub, "log");
    assert_non_null(strstr(d, "\"message\":\"hello\""));
    free(d);
    /* Prometheus knows it under its name */
    sl_buf_t out;
    sl_buf_init(&out, 1 << 20);
    assert_int_equal(sl_monitor_prometheus(mon, &out, &err), 0);
    assert_non_null(strstr(out.data, "sluice_rows_written_total{stream=\"shop\",table=\"public.t\"} 40\n"));
    assert_non_null(strstr(out.data, "sluice_stream_state{stream=\"shop\",state=\"failed\"} 1\n"));
    sl_buf_free(&out);
    /* deleted: the subscriber is told, the figures are gone, late snapshots ignored */
    sl_monitor_forget(mon, "s_42");
    char *ev = NULL, *data = NULL;
    assert_int_equal(sl_monitor_next(sub, 100, &ev, &data), -1);
    sl_monitor_unsubscribe(sub);
    snap = snapshot("shop", "s_42", "r1", 2, 50);
    ingest(mon, snap);
    free(snap);
    j = sl_monitor_stats(mon, "s_42");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "totals"), "rows_written")), 0);
    assert_true(json_is_null(json_object_get(j, "state")));
    json_decref(j);
    sl_monitor_stop(mon);
}

static void test_monitor_stop_closes_subscribers(void **state)
{
    sl_monitor_t *mon = NULL;
    sl_err_t err = {0};
    assert_int_equal(sl_monitor_start(NULL, &mon, &err), 0);
    sl_monitor_sub_t *a = sl_monitor_subscribe(mon, "x");
    sl_monitor_sub_t *b = sl_monitor_subscribe(mon, "x");
    sl_monitor_unsubscribe(b); /* one leaves before the stop */
    sl_monitor_stop(mon);
    char *ev = NULL, *data = NULL;
    assert_int_equal(sl_monitor_next(a, 100, &ev, &data), -1);
    sl_monitor_unsubscribe(a); /* the other after it */
    sl_monitor_unsubscribe(NULL);
    sl_monitor_stop(NULL);
}

static void test_log_ring(void **state)
{
    sl_monitor_t *mon = NULL;
    sl_err_t err = {0};
    assert_int_equal(sl_monitor_start(NULL, &mon, &err), 0);
    for (int i = 0; i < 1205; i++) {
        char m[32];
        snprintf(m, sizeof m, "line %d", i);
        sl_monitor_log(mon, "s", i % 2 ? "warn" : "info", m);
    }
    json_t *j = sl_monitor_logs(mon, "s", 5000);
    json_t *lines = json_object_get(j, "lines");
    assert_int_equal(json_array_size(lines), 1000);
    assert_string_equal(json_string_value(json_object_get(json_array_get(lines, 0), "message")), "line 205");
    assert_string_equal(json_string_value(json_object_get(json_array_get(lines, 999), "message")), "line 1204");
    json_decref(j);
    j = sl_monitor_logs(mon, "s", 3);
    lines = json_object_get(j, "lines");
    assert_int_equal(json_array_size(lines), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(lines, 0), "message")), "line 1202");
    assert_string_equal(json_string_value(json_object_get(json_array_get(lines, 0), "level")), "info");
    const char *ts = json_string_value(json_object_get(json_array_get(lines, 0), "ts"));
    assert_int_equal(strlen(ts), 24); /* 2026-11-27T05:00:00.123Z */
    json_decref(j);
    j = sl_monitor_logs(mon, "unknown", 10);
    assert_int_equal(json_array_size(json_object_get(j, "lines")), 0);
    json_decref(j);
    /* a bad message is refused with a reason */
    assert_int_equal(sl_monitor_ingest(mon, "{}", 2, &err), -1);
    assert_non_null(strstr(err.message, "stats snapshot"));
    sl_monitor_stop(mon);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_queue_drops_stats_keeps_state),
        cmocka_unit_test(test_hopeless_reader_closed),
        cmocka_unit_test(test_monitor_events_and_forget),
        cmocka_unit_test(test_monitor_stop_closes_subscribers),
        cmocka_unit_test(test_log_ring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
