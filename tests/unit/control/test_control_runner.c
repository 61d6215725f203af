/*
 * test_control_runner.c: the stream-process runner (control/runner.c) with /bin/sh as the
 * child: the spec reaches its stdin, its lines come back with their level and with the
 * secrets scrubbed, its last error (with the hint) and exit status are reported, a
 * signal ends it (also one asked for before the fork), its secrets arrive on fd 3 and its
 * environment holds none.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "control/runner.h"

typedef struct seen {
    pthread_mutex_t mu;
    char lines[16][256];
    int nlines;
    int code;
    bool exited;
    char *err;
} seen_t;

static void on_line(void *ctx, const char *id, const char *label, const char *level, const char *msg)
{
    (void)id;
    seen_t *s = ctx;
    pthread_mutex_lock(&s->mu);
    if (s->nlines < 16)
        snprintf(s->lines[s->nlines++], 256, "%s|%s|%s", label, level, msg);
    pthread_mutex_unlock(&s->mu);
}

static void on_exit_cb(void *ctx, const char *id, int code, const json_t *last_error)
{
    (void)id;
    seen_t *s = ctx;
    pthread_mutex_lock(&s->mu);
    s->code = code;
    s->err = last_error ? json_dumps(last_error, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    s->exited = true;
    pthread_mutex_unlock(&s->mu);
}

static bool wait_exited(seen_t *s)
{
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&s->mu);
        bool done = s->exited;
        pthread_mutex_unlock(&s->mu);
        if (done)
            return true;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static void test_run(void **state)
{
    (void)state;
    seen_t s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    sl_runner_cb_t cb = {.ctx = &s, .on_line = on_line, .on_exit = on_exit_cb};
    sl_runner_t *r;
    sl_err_t err;
    assert_int_equal(sl_runner_start("/bin/sh", &cb, &r, &err), 0);
    const char *args[] = {"-c",
                          "read line; echo \"2026-11-27 05:00:00.000 WARN  got $line\";"
                          " echo 'error: bad p%40ss hunter2'; echo 'hint: fix it' >&2; exit 3",
                          NULL};
    const char *secrets[] = {"hunter2", "p@ss", NULL};
    sl_runner_spawn(r, "s_1", "shop", args, "spec hunter2\n", NULL, secrets);
    assert_true(wait_exited(&s));
    assert_false(sl_runner_active(r, "s_1"));
    assert_int_equal(s.code, 3);
    assert_int_equal(s.nlines, 3);
    assert_string_equal(s.lines[0], "shop|warn|got spec ****");
    assert_string_equal(s.lines[1], "shop|error|bad **** ****");
    assert_string_equal(s.err, "{\"hint\":\"fix it\",\"message\":\"bad **** ****\"}");
    free(s.err);

    /* A child that runs until signalled. */
    memset(&s.lines, 0, sizeof s.lines);
    s.nlines = 0;
    s.exited = false;
    s.err = NULL;
    const char *sleeper[] = {"-c", "exec sleep 30", NULL};
    sl_runner_spawn(r, "s_2", "idle", sleeper, "", NULL, NULL);
    /* A signal asked for before the fork (the runner forks on its own thread) is sent
     * right after it: a pause in a stream's first milliseconds must reach its child. */
    assert_true(sl_runner_signal(r, "s_2", SIGTERM));
    assert_true(sl_runner_wait(r, "s_2", 5000));
    assert_true(wait_exited(&s));
    assert_int_equal(s.code, 128 + SIGTERM);
    assert_null(s.err);
    assert_false(sl_runner_signal(r, "s_2", SIGTERM));
    sl_runner_stop(r, 1000);
}

/* The child's secrets: on fd 3 (a pipe), never in its environment (issue 12, 6). */
static void test_secrets_fd_and_env(void **state)
{
    (void)state;
    seen_t s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    sl_runner_cb_t cb = {.ctx = &s, .on_line = on_line, .on_exit = on_exit_cb};
    sl_runner_t *r;
    sl_err_t err;
    setenv("SLUICE_API_KEY", "sk_apikey", 1);
    setenv("SLUICE_SECRET_KEY", "00112233", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "awssecret", 1);
    setenv("SLUICE_TEST_KEEP", "kept", 1);
    assert_int_equal(sl_runner_start("/bin/sh", &cb, &r, &err), 0);
    const char *args[] = {"-c",
                          "read -r x <&3; echo \"fd3 $x\"; "
                          "echo \"env ${SLUICE_API_KEY-none} ${SLUICE_SECRET_KEY-none} "
                          "${AWS_SECRET_ACCESS_KEY-none} ${SLUICE_TEST_KEEP-none}\"; "
                          "ls /proc/self/fd | wc -l",
                          NULL};
    sl_runner_spawn(r, "s_3", "sec", args, "", "{\"nats_url\": \"nats://u:pw@h:1\"}\n", NULL);
    assert_true(wait_exited(&s));
    assert_int_equal(s.code, 0);
    assert_int_equal(s.nlines, 3);
    assert_string_equal(s.lines[0], "sec|info|fd3 {\"nats_url\": \"nats://u:pw@h:1\"}");
    assert_string_equal(s.lines[1], "sec|info|env none none none kept");
    /* 0, 1, 2, 3 and the one ls opens: nothing else of the server leaks into the child. */
    assert_string_equal(s.lines[2], "sec|info|5");
    sl_runner_stop(r, 1000);
    unsetenv("SLUICE_API_KEY");
    unsetenv("SLUICE_SECRET_KEY");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("SLUICE_TEST_KEEP");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run),
        cmocka_unit_test(test_secrets_fd_and_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
