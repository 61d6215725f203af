/*
 * test_job.c: what crosses the broker between a load's owner and the workers
 * (engine/job.c): a job round-trips and its URLs cross only sealed; a worker with another
 * secret key cannot open it (SL_E_CONFIG, so that it hands the job back); stripes and
 * reports round-trip; damaged input is refused. And the lease record's decoder
 * (control/lease.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control/lease.h"
#include "engine/job.h"

static sl_secret_key_t key_of(unsigned char b)
{
    sl_secret_key_t k;
    memset(k.k, b, sizeof k.k);
    return k;
}

static void test_job_round_trip(void **state)
{
    (void)state;
    sl_secret_key_t k = key_of(7);
    sl_job_t j = {.kind = SL_JOB_LOAD_READ, .lane = 2, .epoch = 9, .fence = 41, .batch_rows = 500,
                  .batch_bytes = 1 << 20, .window = 6, .target_url = "postgres://u:tgt-secret@h/t",
                  .source_url = "postgres://u:src-secret@h/s", .snapshot = "00000004-00000002-1"};
    strcpy(j.stream, "orders");
    char *text = sl_job_encode(&j, &k);
    assert_null(strstr(text, "secret"));          /* the passwords are sealed */
    assert_null(strstr(text, "00000004-00000002")); /* so is the snapshot */
    sl_job_t d;
    sl_err_t err = {0};
    assert_int_equal(sl_job_decode(text, strlen(text), &k, &d, &err), 0);
    assert_int_equal(d.kind, SL_JOB_LOAD_READ);
    assert_string_equal(d.stream, "orders");
    assert_int_equal(d.lane, 2);
    assert_int_equal(d.epoch, 9);
    assert_int_equal(d.fence, 41);
    assert_int_equal(d.batch_rows, 500);
    assert_int_equal(d.window, 6);
    assert_string_equal(d.target_url, j.target_url);
    assert_string_equal(d.source_url, j.source_url);
    assert_string_equal(d.snapshot, j.snapshot);
    sl_job_free(&d);
    sl_secret_key_t other = key_of(8);
    assert_int_equal(sl_job_decode(text, strlen(text), &other, &d, &err), -1);
    assert_int_equal(err.code, SL_E_CONFIG);
    assert_null(d.target_url);
    free(text);
}

static void test_job_refused(void **state)
{
    (void)state;
    sl_secret_key_t k = key_of(7);
    const char *bad[] = {"", "[]", "{\"v\":2}", "{\"v\":1,\"stream\":\"s\",\"kind\":\"load-lane\",\"lane\":-1}",
                         ("{\"v\":1,\"stream\":\"s\",\"kind\":\"cdc\",\"lane\":0,\"epoch\":1,\"fence\":0,"
                          "\"batch_rows\":0,\"batch_bytes\":0,\"window\":0,\"sealed\":\"x\"}")};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sl_job_t d;
        sl_err_t err = {0};
        assert_int_equal(sl_job_decode(bad[i], strlen(bad[i]), &k, &d, &err), -1);
        assert_int_equal(err.code, SL_E_PROTOCOL);
    }
    /* a read job needs its source and snapshot inside */
    sl_job_t j = {.kind = SL_JOB_LOAD_READ, .batch_rows = 1, .batch_bytes = 1, .target_url = "file:///x"};
    strcpy(j.stream, "s");
    char *text = sl_job_encode(&j, &k);
    sl_job_t d;
    sl_err_t err = {0};
    assert_int_equal(sl_job_decode(text, strlen(text), &k, &d, &err), -1);
    free(text);
}

static void test_stripe_and_report(void **state)
{
    (void)state;
    sl_job_stripe_t s = {.stripe = 12, .seq = 30, .position = "[\"a\",\"7\"]"}, d;
    sl_err_t err = {0};
    char *text = sl_job_stripe_encode(&s);
    assert_int_equal(sl_job_stripe_decode(text, strlen(text), &d, &err), 0);
    assert_int_equal(d.stripe, 12);
    assert_int_equal(d.seq, 30);
    assert_string_equal(d.position, s.position);
    free(d.position);
    free(text);
    assert_int_equal(sl_job_stripe_decode("{\"stripe\":-1,\"seq\":0}", 21, &d, &err), -1);

    int64_t rows[] = {5, 0}, bytes[] = {50, 0}, read[] = {0, 9}, rbytes[] = {0, 90};
    sl_job_report_t r = {.epoch = 3, .lane = 1, .node = "w_1", .ntables = 2, .rows = rows, .bytes = bytes,
                         .read = read, .read_bytes = rbytes, .batches = 4, .duplicates = 1},
                    b;
    text = sl_job_report_encode(&r);
    assert_int_equal(sl_job_report_decode(text, strlen(text), &b, &err), 0);
    assert_int_equal(b.ntables, 2);
    assert_int_equal(b.rows[0], 5);
    assert_int_equal(b.read_bytes[1], 90);
    assert_int_equal(b.duplicates, 1);
    assert_string_equal(b.node, "w_1");
    sl_job_report_free(&b);
    free(text);
    const char *neg = "{\"epoch\":1,\"lane\":0,\"rows\":[-1],\"bytes\":[0],\"read\":[0],\"read_bytes\":[0],"
                      "\"batches\":0,\"duplicates\":0,\"retries\":0}";
    assert_int_equal(sl_job_report_decode(neg, strlen(neg), &b, &err), -1);
}

static void test_lease_decode(void **state)
{
    (void)state;
    sl_lease_t l;
    json_t *ok = json_pack("{s:s, s:i, s:s}", "node", "n_1", "epoch", 4, "at", "2024-01-01T00:00:00Z");
    assert_int_equal(sl_lease_decode(ok, &l), 0);
    assert_string_equal(l.node, "n_1");
    assert_int_equal(l.epoch, 4);
    json_t *free_lease = json_pack("{s:s, s:i}", "node", "", "epoch", 4);
    assert_int_equal(sl_lease_decode(free_lease, &l), 0);
    assert_string_equal(l.node, "");
    json_t *bad = json_pack("{s:s, s:i}", "node", "n_1", "epoch", -1);
    assert_int_equal(sl_lease_decode(bad, &l), -1);
    json_decref(ok);
    json_decref(free_lease);
    json_decref(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_round_trip),
        cmocka_unit_test(test_job_refused),
        cmocka_unit_test(test_stripe_and_report),
        cmocka_unit_test(test_lease_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
