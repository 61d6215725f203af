/*
 * test_monitor_aggregate.c: unit tests of the monitoring plane's snapshots and their
 * aggregation (src/monitor/snap.c, src/monitor/aggregate.c): the wire format round
 * trip and its refusals, rows/s over the window, progress and ETA of a load, totals
 * across runs (pause/resume), out-of-order and stale snapshots, and the stats JSON of
 * docs/api.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/aggregate.h"
#include "monitor/snap.h"

/* A load snapshot of run `run` at publisher time t: table "public.a" (est 1000) and
 * "public.b" (est unknown) with the given rows written (read = written + 10). */
static void make(sl_snap_t *s, const char *run, int64_t seq, double t, int64_t a, int64_t b)
{
    sl_snap_init(s);
    sl_snap_set(&s->stream, "shop");
    sl_snap_set(&s->run, run);
    s->seq = seq;
    s->t = t;
    s->ts = 1795000000.5 + t;
    sl_snap_table_t *ta = sl_snap_append(s, "public.a");
    ta->rows_written = a;
    ta->rows_read = a + 10;
    ta->bytes_written = a * 100;
    ta->bytes_read = (a + 10) * 100;
    ta->est_rows = 1000;
    sl_snap_table_t *tb = sl_snap_append(s, "public.b");
    tb->rows_written = b;
    tb->rows_read = b + 10;
    tb->est_rows = -1;
    sl_snap_sum(s);
    s->batches = seq;
}

static void add(sl_agg_t *a, const char *run, int64_t seq, double t, int64_t ra, int64_t rb, double now)
{
    sl_snap_t s;
    make(&s, run, seq, t, ra, rb);
    assert_true(sl_agg_add(a, &s, now));
    sl_snap_clear(&s);
}

static void test_wire_round_trip(void **state)
{
    sl_snap_t s, d;
    make(&s, "r1", 3, 2.5, 400, 7);
    sl_snap_set(&s.id, "s_1234");
    sl_snap_set(&s.position, "0/1A2B3C8");
    s.lag_seconds = 0.25;
    s.slot_bytes = 4096;
    strcpy(s.phase, "cdc");
    s.tables[1].done = true;
    s.tables[0].rows_loaded = 300;
    s.tables[0].changes_read = 110;
    s.tables[0].changes_applied = 100;
    sl_snap_sum(&s);
    char *text = sl_snap_encode(&s);
    sl_err_t err = {0};
    assert_int_equal(sl_snap_decode(text, strlen(text), &d, &err), 0);
    assert_string_equal(d.stream, "shop");
    assert_string_equal(d.id, "s_1234");
    assert_string_equal(d.run, "r1");
    assert_string_equal(d.phase, "cdc");
    assert_string_equal(d.position, "0/1A2B3C8");
    assert_int_equal(d.seq, 3);
    assert_true(d.lag_seconds > 0.249 && d.lag_seconds < 0.251);
    assert_int_equal(d.slot_bytes, 4096);
    assert_int_equal(d.rows_written, 407);
    assert_int_equal(d.rows_read, 427);
    assert_int_equal(d.ntables, 2);
    assert_string_equal(d.tables[0].name, "public.a");
    assert_int_equal(d.tables[0].bytes_written, 40000);
    assert_int_equal(d.tables[0].est_rows, 1000);
    assert_int_equal(d.tables[1].est_rows, -1);
    assert_false(d.tables[0].done);
    assert_true(d.tables[1].done);
    assert_int_equal(d.tables[0].rows_loaded, 300);
    assert_int_equal(d.tables[0].changes_read, 110);
    assert_int_equal(d.tables[0].changes_applied, 100);
    assert_int_equal(d.rows_loaded, 300);
    assert_int_equal(d.changes_applied, 100);
    free(text);
    sl_snap_clear(&s);
    sl_snap_clear(&d);
}

static void test_wire_refusals(void **state)
{
    const char *bad[] = {
        "not json",
        "[1]",
        "{\"v\":2}",
        /* a stream name that is no NATS token */
        "{\"v\":1,\"stream\":\"a.b\",\"run\":\"r\",\"seq\":1,\"t\":0,\"ts\":0,\"phase\":\"load\",\"batches\":0,"
        "\"redeliveries\":0,\"duplicates_skipped\":0,\"errors\":0,\"totals\":{\"rows_read\":0,\"rows_written\":0,"
        "\"bytes_read\":0,\"bytes_written\":0},\"tables\":[]}",
        /* a negative counter */
        "{\"v\":1,\"stream\":\"a\",\"run\":\"r\",\"seq\":1,\"t\":0,\"ts\":0,\"phase\":\"load\",\"batches\":-1,"
        "\"redeliveries\":0,\"duplicates_skipped\":0,\"errors\":0,\"totals\":{\"rows_read\":0,\"rows_written\":0,"
        "\"bytes_read\":0,\"bytes_written\":0},\"tables\":[]}",
        /* an unknown phase */
        "{\"v\":1,\"stream\":\"a\",\"run\":\"r\",\"seq\":1,\"t\":0,\"ts\":0,\"phase\":\"zzz\",\"batches\":0,"
        "\"redeliveries\":0,\"duplicates_skipped\":0,\"errors\":0,\"totals\":{\"rows_read\":0,\"rows_written\":0,"
        "\"bytes_read\":0,\"bytes_written\":0},\"tables\":[]}",
        NULL};
    for (int i = 0; bad[i]; i++) {
        sl_snap_t d;
        sl_err_t err = {0};
        assert_int_equal(sl_snap_decode(bad[i], strlen(bad[i]), &d, &err), -1);
        assert_true(err.message[0] != '\0');
        assert_null(d.stream); /* cleared on failure */
    }
}

static void test_rates_progress_eta(void **state)
{
    sl_agg_t *a = sl_agg_new();
    /* 100 rows/s into public.a, 10 rows/s into public.b, one snapshot a second */
    for (int i = 0; i <= 8; i++)
        add(a, "r1", i + 1, (double)i, 100 * i, 10 * i, 50.0 + i);
    double now = 58.1;
    /* window of 5 s: (800 - 300 + 80 - 30) / 5 */
    assert_float_equal(sl_agg_rate(a, true, now), 110.0, 1e-9);
    assert_float_equal(sl_agg_rate(a, false, now), 110.0, 1e-9);
    assert_float_equal(sl_agg_table_rate(a, "public.a", now), 100.0, 1e-9);
    assert_float_equal(sl_agg_table_rate(a, "public.b", now), 10.0, 1e-9);
    json_t *j = sl_agg_stats_json(a, "shop", "running", now);
    json_t *ta = json_array_get(json_object_get(j, "tables"), 0);
    json_t *tb = json_array_get(json_object_get(j, "tables"), 1);
    assert_string_equal(json_string_value(json_object_get(ta, "name")), "public.a");
    assert_float_equal(json_real_value(json_object_get(ta, "progress")), 0.8, 1e-9);
    assert_float_equal(json_real_value(json_object_get(ta, "eta_seconds")), 2.0, 1e-9); /* 200 rows at 100/s */
    assert_true(json_is_null(json_object_get(tb, "progress")));                      /* no estimate */
    assert_true(json_is_null(json_object_get(tb, "eta_seconds")));
    assert_true(json_is_null(json_object_get(j, "lag"))); /* a load */
    json_decref(j);
    /* stream progress is unknown while a table without estimate is unfinished */
    j = sl_agg_summary_json(a, "running", now);
    assert_true(json_is_null(json_object_get(j, "progress")));
    assert_int_equal(json_integer_value(json_object_get(j, "rows_written")), 880);
    assert_float_equal(json_real_value(json_object_get(j, "rows_per_sec")), 110.0, 1e-9);
    json_decref(j);
    /* stale: the process went away without a word, so nothing moves any more */
    assert_float_equal(sl_agg_rate(a, true, now + SL_AGG_STALE_SECS + 1), 0.0, 0);
    /* paused (or stopped): no process, rates 0 at once, whatever the last snapshots said */
    const char *still[] = {"paused", "stopped", "created", "completed", "failed"};
    for (size_t i = 0; i < sizeof still / sizeof *still; i++) {
        j = sl_agg_stats_json(a, "shop", still[i], now);
        json_t *tot = json_object_get(j, "totals");
        assert_float_equal(json_real_value(json_object_get(tot, "rows_per_sec_read")), 0.0, 0);
        assert_float_equal(json_real_value(json_object_get(tot, "rows_per_sec_written")), 0.0, 0);
        assert_float_equal(json_real_value(json_object_get(json_array_get(json_object_get(j, "tables"), 0),
                                                           "rows_per_sec")), 0.0, 0);
        assert_int_equal(json_integer_value(json_object_get(tot, "rows_written")), 880); /* counts stay */
        json_decref(j);
        j = sl_agg_summary_json(a, still[i], now);
        assert_float_equal(json_real_value(json_object_get(j, "rows_per_sec")), 0.0, 0);
        json_decref(j);
    }
    sl_agg_free(a);
}

static void test_progress_capped_and_done(void **state)
{
    sl_agg_t *a = sl_agg_new();
    sl_snap_t s;
    make(&s, "r1", 1, 0, 1500, 0); /* more rows than estimated, not done */
    s.tables[1].est_rows = 0;
    s.tables[1].done = true;
    assert_true(sl_agg_add(a, &s, 1.0));
    json_t *j = sl_agg_stats_json(a, "shop", "running", 1.0);
    json_t *ta = json_array_get(json_object_get(j, "tables"), 0);
    json_t *tb = json_array_get(json_object_get(j, "tables"), 1);
    assert_float_equal(json_real_value(json_object_get(ta, "progress")), 0.99, 1e-9);
    assert_float_equal(json_real_value(json_object_get(tb, "progress")), 1.0, 1e-9);
    assert_float_equal(json_real_value(json_object_get(tb, "eta_seconds")), 0.0, 1e-9);
    json_decref(j);
    j = sl_agg_summary_json(a, "running", 1.0);
    assert_float_equal(json_real_value(json_object_get(j, "progress")), 0.99, 1e-9);
    json_decref(j);
    /* the load completes: everything at 1.0, rates 0 */
    sl_snap_clear(&s);
    make(&s, "r1", 2, 1, 1600, 0);
    strcpy(s.phase, "done");
    assert_true(sl_agg_add(a, &s, 2.0));
    j = sl_agg_summary_json(a, "completed", 2.0);
    assert_float_equal(json_real_value(json_object_get(j, "progress")), 1.0, 1e-9);
    assert_float_equal(json_real_value(json_object_get(j, "rows_per_sec")), 0.0, 0);
    json_decref(j);
    j = sl_agg_stats_json(a, "shop", "completed", 2.0);
    assert_string_equal(json_string_value(json_object_get(j, "phase")), "done");
    assert_string_equal(json_string_value(json_object_get(j, "state")), "completed");
    json_decref(j);
    sl_snap_clear(&s);
    sl_agg_free(a);
}

static void test_runs_accumulate(void **state)
{
    sl_agg_t *a = sl_agg_new();
    add(a, "r1", 1, 0, 100, 5, 1.0);
    add(a, "r1", 2, 1, 300, 6, 2.0);
    /* an older snapshot of the same run arrives late: ignored */
    sl_snap_t s;
    make(&s, "r1", 1, 0, 100, 5);
    assert_false(sl_agg_add(a, &s, 2.5));
    sl_snap_clear(&s);
    assert_int_equal(sl_agg_totals(a)->rows_written, 306);
    /* paused and resumed: a new process counts from zero */
    add(a, "r2", 1, 0, 50, 1, 10.0);
    const sl_snap_t *t = sl_agg_totals(a);
    assert_int_equal(t->rows_written, 357);
    assert_int_equal(t->tables[0].rows_written, 350);
    assert_int_equal(t->batches, 3);
    /* no rate across runs: one snapshot of r2 so far */
    assert_float_equal(sl_agg_rate(a, true, 10.0), 0.0, 0);
    /* a late snapshot of the finished run is not counted twice */
    make(&s, "r1", 3, 2, 400, 6);
    assert_false(sl_agg_add(a, &s, 10.5));
    sl_snap_clear(&s);
    assert_int_equal(sl_agg_totals(a)->rows_written, 357);
    sl_agg_free(a);
}

static void test_unknown_stream_json(void **state)
{
    json_t *j = sl_agg_stats_json(NULL, "nothing", NULL, 1.0);
    assert_string_equal(json_string_value(json_object_get(j, "stream")), "nothing");
    assert_true(json_is_null(json_object_get(j, "state")));
    assert_true(json_is_null(json_object_get(j, "phase")));
    assert_true(json_is_null(json_object_get(j, "updated_at")));
    json_t *tot = json_object_get(j, "totals");
    const char *keys[] = {"rows_read", "rows_written", "bytes_read", "bytes_written", "rows_loaded", "changes_read",
                          "changes_applied", "batches", "redeliveries", "duplicates_skipped", "errors", NULL};
    for (int i = 0; keys[i]; i++)
        assert_int_equal(json_integer_value(json_object_get(tot, keys[i])), 0);
    assert_true(json_is_real(json_object_get(tot, "rows_per_sec_read")));
    assert_int_equal(json_array_size(json_object_get(j, "tables")), 0);
    json_decref(j);
    j = sl_agg_summary_json(NULL, NULL, 1.0);
    assert_int_equal(json_integer_value(json_object_get(j, "rows_read")), 0);
    assert_true(json_is_null(json_object_get(j, "lag_seconds")));
    assert_true(json_is_null(json_object_get(j, "progress")));
    json_decref(j);
}

static void test_cdc_json(void **state)
{
    sl_agg_t *a = sl_agg_new();
    sl_snap_t s;
    make(&s, "r1", 1, 0, 10, 0);
    strcpy(s.phase, "cdc");
    s.lag_seconds = 0.08;
    s.slot_bytes = -1; /* MySQL source */
    sl_snap_set(&s.position, "mysql-bin.000003:4");
    assert_true(sl_agg_add(a, &s, 1.0));
    json_t *j = sl_agg_stats_json(a, "shop", "running", 1.0);
    json_t *lag = json_object_get(j, "lag");
    assert_float_equal(json_real_value(json_object_get(lag, "seconds")), 0.08, 1e-9);
    assert_true(json_is_null(json_object_get(lag, "slot_bytes")));
    assert_string_equal(json_string_value(json_object_get(j, "position")), "mysql-bin.000003:4");
    assert_string_equal(json_string_value(json_object_get(j, "updated_at")), "2026-11-18T11:06:40.500Z");
    json_t *ta = json_array_get(json_object_get(j, "tables"), 0);
    assert_true(json_is_null(json_object_get(ta, "progress")));
    json_decref(j);
    sl_snap_clear(&s);
    sl_agg_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_round_trip),     cmocka_unit_test(test_wire_refusals),
        cmocka_unit_test(test_rates_progress_eta),  cmocka_unit_test(test_progress_capped_and_done),
        cmocka_unit_test(test_runs_accumulate),     cmocka_unit_test(test_unknown_stream_json),
        cmocka_unit_test(test_cdc_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
