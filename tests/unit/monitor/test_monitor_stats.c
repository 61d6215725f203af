/*
 * test_monitor_stats.c: unit tests of the stats publisher's sampling (src/monitor/stats.c,
 * without a broker): a source's counters become a snapshot with totals, identity and
 * phase; a detached source's last figures stay as the base that the next source (a cdc
 * stream after its initial load) adds to, table by table, with loaded rows and change
 * events counted apart; errors are counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/stats.h"

typedef struct fake {
    int64_t a, b;    /* rows written into tables a and b */
    const char *pos; /* a position, NULL none */
} fake_t;

static void collect(void *arg, sl_snap_t *snap)
{
    fake_t *f = arg;
    sl_snap_table_t *t = sl_snap_append(snap, "public.a");
    t->rows_read = t->rows_written = f->a;
    t->bytes_written = f->a * 10;
    t->est_rows = 1000;
    t = sl_snap_append(snap, "public.b");
    t->rows_read = t->rows_written = f->b;
    snap->batches = 1;
    if (f->pos) {
        sl_snap_set(&snap->position, f->pos);
        snap->lag_seconds = 0.5;
    }
}

static void test_sample_attach_detach(void **state)
{
    setenv("SLUICE_STREAM_ID", "s_77", 1);
    sl_stats_t *st = NULL;
    sl_err_t err = {0};
    assert_int_equal(sl_stats_start(NULL, "shop", 50, &st, &err), 0);
    unsetenv("SLUICE_STREAM_ID");
    sl_snap_t s;
    /* nothing attached yet: an empty load snapshot that says who is alive */
    sl_stats_sample(st, &s);
    assert_string_equal(s.stream, "shop");
    assert_string_equal(s.id, "s_77");
    assert_string_equal(s.phase, "load");
    assert_int_equal(s.ntables, 0);
    int64_t seq = s.seq;
    char *run = strdup(s.run);
    sl_snap_clear(&s);
    /* the initial load */
    fake_t load = {.a = 100, .b = 7};
    sl_stats_attach(st, collect, &load);
    load.a = 600;
    sl_stats_sample(st, &s);
    assert_int_equal(s.rows_written, 607);
    assert_int_equal(s.tables[0].bytes_written, 6000);
    assert_true(s.seq > seq);
    assert_string_equal(s.run, run);
    sl_snap_clear(&s);
    load.a = 1000;
    sl_stats_detach(st); /* the load's last figures stay */
    load.a = 999999;     /* and its memory is no longer read */
    /* the change stream counts from zero on top of them */
    fake_t cdc = {.a = 5, .b = 0, .pos = "0/16B3748"};
    sl_stats_phase(st, "cdc");
    sl_stats_attach(st, collect, &cdc);
    sl_stats_error(st);
    sl_stats_sample(st, &s);
    assert_string_equal(s.phase, "cdc");
    assert_int_equal(s.ntables, 2);
    assert_string_equal(s.tables[0].name, "public.a");
    assert_int_equal(s.tables[0].rows_written, 1005);
    assert_int_equal(s.tables[1].rows_written, 7);
    assert_int_equal(s.rows_written, 1012);
    /* loaded rows and change events apart: the load's rows, then the change stream's */
    assert_int_equal(s.tables[0].rows_loaded, 1000);
    assert_int_equal(s.tables[0].changes_read, 5);
    assert_int_equal(s.tables[0].changes_applied, 5);
    assert_int_equal(s.tables[1].rows_loaded, 7);
    assert_int_equal(s.tables[1].changes_applied, 0);
    assert_int_equal(s.rows_loaded, 1007);
    assert_int_equal(s.changes_applied, 5);
    assert_int_equal(s.batches, 2);
    assert_int_equal(s.errors, 1);
    assert_string_equal(s.position, "0/16B3748");
    assert_true(s.lag_seconds > 0.49 && s.lag_seconds < 0.51);
    sl_snap_clear(&s);
    sl_stats_detach(st);
    free(run);
    sl_stats_stop(st);
    sl_stats_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_attach_detach),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
