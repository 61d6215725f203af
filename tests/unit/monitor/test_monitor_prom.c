/*
 * test_monitor_prom.c: unit tests of the Prometheus text format of the monitoring plane
 * (src/monitor/prom.c): the exact text for a small example (HELP and TYPE per family,
 * per-table and per-stream samples, gauges only where known, the state set), label
 * escaping, and the output buffer's limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/prom.h"

static const char EXPECTED[] =
    "# HELP sluice_rows_read_total Rows read from the source (cdc: row changes).\n"
    "# TYPE sluice_rows_read_total counter\n"
    "sluice_rows_read_total{stream=\"cdc1\",table=\"public.orders\"} 12\n"
    "sluice_rows_read_total{stream=\"load1\",table=\"we\\\"ird\\\\na\\nme\"} 100\n"
    "# HELP sluice_rows_written_total Rows written to the target (cdc: row changes applied).\n"
    "# TYPE sluice_rows_written_total counter\n"
    "sluice_rows_written_total{stream=\"cdc1\",table=\"public.orders\"} 11\n"
    "sluice_rows_written_total{stream=\"load1\",table=\"we\\\"ird\\\\na\\nme\"} 90\n"
    "# HELP sluice_bytes_read_total Bytes of rows read from the source, as encoded on the bus.\n"
    "# TYPE sluice_bytes_read_total counter\n"
    "sluice_bytes_read_total{stream=\"cdc1\",table=\"public.orders\"} 1200\n"
    "sluice_bytes_read_total{stream=\"load1\",table=\"we\\\"ird\\\\na\\nme\"} 10000\n"
    "# HELP sluice_bytes_written_total Bytes of rows written to the target, as encoded on the bus.\n"
    "# TYPE sluice_bytes_written_total counter\n"
    "sluice_bytes_written_total{stream=\"cdc1\",table=\"public.orders\"} 1100\n"
    "sluice_bytes_written_total{stream=\"load1\",table=\"we\\\"ird\\\\na\\nme\"} 9000\n"
    "# HELP sluice_rows_loaded_total Rows a load or a change stream's initial load wrote to the target.\n"
    "# TYPE sluice_rows_loaded_total counter\n"
    "sluice_rows_loaded_total{stream=\"cdc1\",table=\"public.orders\"} 0\n"
    "sluice_rows_loaded_total{stream=\"load1\",table=\"we\\\"ird\\\\na\\nme\"} 90\n"
    "# HELP sluice_changes_read_total Change events read from the source's log.\n"
    "# TYPE sluice_changes_read_total counter\n"
    "sluice_changes_read_total{stream=\"cdc1\",table=\"public.orders\"} 12\n"
    "sluice_changes_read_total{stream=\"load1\",table=\"we\\\"ird\\\\na\\nme\"} 0\n"
    "# HELP sluice_changes_applied_total Change events applied to the target.\n"
    "# TYPE sluice_changes_applied_total counter\n"
    "sluice_changes_applied_total{stream=\"cdc1\",table=\"public.orders\"} 11\n"
    "sluice_changes_applied_total{stream=\"load1\",table=\"we\\\"ird\\\\na\\nme\"} 0\n"
    "# HELP sluice_rows_rejected_total Rows (cdc: row changes) options.on_error \"reject\" recorded in "
    "_sluice_rejects instead of writing them.\n"
    "# TYPE sluice_rows_rejected_total counter\n"
    "sluice_rows_rejected_total{stream=\"cdc1\",table=\"public.orders\"} 0\n"
    "sluice_rows_rejected_total{stream=\"load1\",table=\"we\\\"ird\\\\na\\nme\"} 3\n"
    "# HELP sluice_batches_total Batches applied to the target.\n"
    "# TYPE sluice_batches_total counter\n"
    "sluice_batches_total{stream=\"cdc1\"} 3\n"
    "sluice_batches_total{stream=\"load1\"} 9\n"
    "# HELP sluice_redeliveries_total Batches the broker delivered more than once.\n"
    "# TYPE sluice_redeliveries_total counter\n"
    "sluice_redeliveries_total{stream=\"cdc1\"} 0\n"
    "sluice_redeliveries_total{stream=\"load1\"} 1\n"
    "# HELP sluice_duplicates_skipped_total Batches skipped because the target had applied them already.\n"
    "# TYPE sluice_duplicates_skipped_total counter\n"
    "sluice_duplicates_skipped_total{stream=\"cdc1\"} 0\n"
    "sluice_duplicates_skipped_total{stream=\"load1\"} 2\n"
    "# HELP sluice_errors_total Failures: retried ones and the stream's own.\n"
    "# TYPE sluice_errors_total counter\n"
    "sluice_errors_total{stream=\"cdc1\"} 0\n"
    "sluice_errors_total{stream=\"load1\"} 4\n"
    "# HELP sluice_lag_seconds Seconds from a change's commit on the source to its commit on the target (cdc).\n"
    "# TYPE sluice_lag_seconds gauge\n"
    "sluice_lag_seconds{stream=\"cdc1\"} 0.25\n"
    "# HELP sluice_slot_lag_bytes WAL bytes the PostgreSQL replication slot holds back (server end minus "
    "confirmed position).\n"
    "# TYPE sluice_slot_lag_bytes gauge\n"
    "sluice_slot_lag_bytes{stream=\"cdc1\"} 8192\n"
    "# HELP sluice_stream_state The stream's lifecycle state: 1 for the current one.\n"
    "# TYPE sluice_stream_state gauge\n"
    "sluice_stream_state{stream=\"cdc1\",state=\"created\"} 0\n"
    "sluice_stream_state{stream=\"cdc1\",state=\"starting\"} 0\n"
    "sluice_stream_state{stream=\"cdc1\",state=\"running\"} 1\n"
    "sluice_stream_state{stream=\"cdc1\",state=\"paused\"} 0\n"
    "sluice_stream_state{stream=\"cdc1\",state=\"stopping\"} 0\n"
    "sluice_stream_state{stream=\"cdc1\",state=\"stopped\"} 0\n"
    "sluice_stream_state{stream=\"cdc1\",state=\"completed\"} 0\n"
    "sluice_stream_state{stream=\"cdc1\",state=\"failed\"} 0\n"
    "# HELP sluice_streams Streams the server knows of.\n"
    "# TYPE sluice_streams gauge\n"
    "sluice_streams 2\n";

static void fill(sl_snap_t *s, const char *table, int64_t rr, int64_t rw)
{
    sl_snap_init(s);
    sl_snap_table_t *t = sl_snap_append(s, table);
    t->rows_read = rr;
    t->rows_written = rw;
    t->bytes_read = rr * 100;
    t->bytes_written = rw * 100;
    sl_snap_sum(s);
}

static void test_exact_text(void **state)
{
    sl_snap_t cdc, load;
    fill(&cdc, "public.orders", 12, 11);
    strcpy(cdc.phase, "cdc");
    sl_snap_kind(&cdc, true);
    cdc.batches = 3;
    cdc.lag_seconds = 0.25;
    cdc.slot_bytes = 8192;
    /* a table name with a quote, a backslash and a newline */
    fill(&load, "we\"ird\\na\nme", 100, 90);
    sl_snap_kind(&load, false);
    load.tables[0].rows_rejected = 3;
    load.batches = 9;
    load.redeliveries = 1;
    load.duplicates = 2;
    load.errors = 4;
    load.lag_seconds = 3; /* a load has no lag gauge whatever it says */
    const sl_prom_stream_t streams[] = {
        {"cdc1", "running", &cdc},
        {"load1", NULL, &load},  /* no state known: no state series */
        {"new1", "created", NULL}, /* nothing published yet: state only */
    };
    sl_buf_t out;
    sl_buf_init(&out, 1 << 20);
    sl_err_t err = {0};
    assert_int_equal(sl_prom_write(&out, streams, 2, &err), 0);
    assert_string_equal(out.data, EXPECTED);
    /* a stream with a state and no figures adds its state lines and counts */
    sl_buf_reset(&out);
    assert_int_equal(sl_prom_write(&out, streams, 3, &err), 0);
    assert_non_null(strstr(out.data, "sluice_stream_state{stream=\"new1\",state=\"created\"} 1\n"));
    assert_null(strstr(out.data, "{stream=\"new1\",table"));
    assert_non_null(strstr(out.data, "\nsluice_streams 3\n"));
    sl_buf_free(&out);
    sl_snap_clear(&cdc);
    sl_snap_clear(&load);
}

static void test_label_escaping(void **state)
{
    sl_buf_t out;
    sl_buf_init(&out, 1024);
    sl_err_t err = {0};
    assert_int_equal(sl_prom_label(&out, "a\\b\"c\nd\te", &err), 0);
    assert_string_equal(out.data, "a\\\\b\\\"c\\nd\te"); /* a tab stays as it is */
    sl_buf_free(&out);
}

static void test_buffer_limit(void **state)
{
    sl_snap_t s;
    fill(&s, "t", 1, 1);
    const sl_prom_stream_t streams[] = {{"x", "running", &s}};
    sl_buf_t out;
    sl_buf_init(&out, 100);
    sl_err_t err = {0};
    assert_int_equal(sl_prom_write(&out, streams, 1, &err), -1);
    assert_int_equal(err.code, SL_E_LIMIT);
    sl_buf_free(&out);
    sl_snap_clear(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_text),
        cmocka_unit_test(test_label_escaping),
        cmocka_unit_test(test_buffer_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
