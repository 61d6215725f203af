/*
 * test_fence.c: the fencing epoch of checkpoint writes (target/target.h "Fencing",
 * docs/cluster.md "Fencing") against real PostgreSQL and MariaDB servers and a local
 * file target: a connection writes its checkpoints only while the stream's fence is not
 * newer than its own epoch, a raise never lowers the fence, and (databases) a raise waits
 * for the transactions in flight under the old fence, so that nothing the old owner
 * commits can land after the new owner has raised it.
 *
 * Needs SLUICE_TEST_PG_URL and SLUICE_TEST_MYSQL_URL (source the env.sh that
 * `scripts/test-servers.sh start DIR` writes); fails when they are missing.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <mysql.h>

#include "core/url.h"
#include "target/target.h"

#define DB "sl_fence_test"
#define STREAM "fenced"

typedef struct ctx {
    const char *name;
    char url[700];
    bool locks; /* a database: a raise waits for the writes in flight */
} ctx_t;

static ctx_t pgx = {.name = "pg", .locks = true}, myx = {.name = "mysql", .locks = true}, filex = {.name = "file"};

static sl_target_t *open_fenced(ctx_t *c, int64_t fence)
{
    sl_err_t err = {0};
    char buf[2048];
    sl_target_t *t = NULL;
    if (sl_target_open(c->url, &t, &err))
        fail_msg("%s: open: %s", c->name, sl_err_format(&err, buf, sizeof buf));
    t->fence = fence;
    return t;
}

/* Puts checkpoint key (seq) in a transaction of its own: 0, or -1 with err. */
static int put(sl_target_t *t, const char *key, int64_t seq, sl_err_t *err)
{
    sl_ckpt_t ck = {.epoch = 1, .seq = seq, .position = "[\"k\"]"};
    if (t->ops->begin(t, err))
        return -1;
    if (t->ops->ckpt_put(t, STREAM, key, &ck, err)) {
        t->ops->rollback(t);
        return -1;
    }
    return t->ops->commit(t, err);
}

static void put_ok(ctx_t *c, sl_target_t *t, const char *key, int64_t seq)
{
    sl_err_t err = {0};
    char buf[2048];
    if (put(t, key, seq, &err))
        fail_msg("%s: put %s under fence %lld: %s", c->name, key, (long long)t->fence,
                 sl_err_format(&err, buf, sizeof buf));
}

static void refused(ctx_t *c, int rc, const sl_err_t *err, const char *what)
{
    if (rc == 0)
        fail_msg("%s: %s was not refused", c->name, what);
    if (err->code != SL_E_CONFLICT || !err->fatal || err->retriable || !strstr(err->message, "fenced"))
        fail_msg("%s: %s: not the fence's refusal: %s", c->name, what, err->message);
}

static int64_t seq_of(sl_target_t *t, const char *key)
{
    sl_ckpt_t ck = {0};
    bool found = false;
    sl_err_t err = {0};
    assert_int_equal(t->ops->begin(t, &err), 0);
    assert_int_equal(t->ops->ckpt_get(t, STREAM, key, &ck, &found, &err), 0);
    t->ops->rollback(t);
    int64_t s = found ? ck.seq : -1;
    sl_ckpt_clear(&ck);
    return s;
}

static void reset(ctx_t *c)
{
    sl_err_t err = {0};
    sl_target_t *t = open_fenced(c, 0);
    assert_int_equal(t->ops->ckpt_setup(t, &err), 0);
    assert_int_equal(t->ops->ckpt_delete(t, STREAM, &err), 0);
    sl_target_close(t);
}

/* An older epoch is refused once a newer one raised the fence; fence 0 is not fenced. */
static void test_stale_refused(void **state)
{
    ctx_t *c = *state;
    reset(c);
    sl_err_t err = {0};
    sl_target_t *a = open_fenced(c, 5), *b = open_fenced(c, 6), *none = open_fenced(c, 0);
    assert_int_equal(sl_target_fence_raise(a, STREAM, &err), 0);
    put_ok(c, a, "s:0", 1);
    put_ok(c, b, "s:1", 1); /* a newer epoch writes before its own raise */
    assert_int_equal(sl_target_fence_raise(b, STREAM, &err), 0);
    refused(c, put(a, "s:0", 2, &err), &err, "a checkpoint write of epoch 5 after a raise to 6");
    assert_int_equal(seq_of(b, "s:0"), 1);
    refused(c, sl_target_fence_raise(a, STREAM, &err), &err, "a raise back to epoch 5");
    put_ok(c, b, "s:0", 2);
    assert_int_equal(seq_of(b, "s:0"), 2);
    put_ok(c, none, "s:2", 1); /* `sluice run` outside a cluster */
    /* the fence is a checkpoint of its own, holding the newest epoch */
    sl_ckpt_t ck = {0};
    bool found = false;
    assert_int_equal(b->ops->begin(b, &err), 0);
    assert_int_equal(b->ops->ckpt_get(b, STREAM, SL_CKPT_FENCE, &ck, &found, &err), 0);
    b->ops->rollback(b);
    assert_true(found);
    assert_int_equal(ck.epoch, 6);
    sl_ckpt_clear(&ck);
    sl_target_close(a);
    sl_target_close(b);
    sl_target_close(none);
}

typedef struct raiser {
    sl_target_t *t;
    atomic_bool done;
    int rc;
    sl_err_t err;
} raiser_t;

static void *raise_main(void *arg)
{
    raiser_t *r = arg;
    r->rc = sl_target_fence_raise(r->t, STREAM, &r->err);
    atomic_store(&r->done, true);
    return NULL;
}

/* A raise waits for a write in flight under the old fence; that write commits (it came
 * first) and the next one is refused. */
static void test_raise_waits(void **state)
{
    ctx_t *c = *state;
    if (!c->locks)
        skip();
    reset(c);
    sl_err_t err = {0};
    char buf[2048];
    sl_target_t *a = open_fenced(c, 7), *b = open_fenced(c, 8);
    assert_int_equal(sl_target_fence_raise(a, STREAM, &err), 0);
    sl_ckpt_t ck = {.epoch = 1, .seq = 10, .position = "[\"k\"]"};
    assert_int_equal(a->ops->begin(a, &err), 0);
    if (a->ops->ckpt_put(a, STREAM, "s:0", &ck, &err))
        fail_msg("%s: put in flight: %s", c->name, sl_err_format(&err, buf, sizeof buf));
    raiser_t r = {.t = b};
    pthread_t th;
    pthread_create(&th, NULL, raise_main, &r);
    struct timespec ts = {0, 600 * 1000 * 1000};
    nanosleep(&ts, NULL);
    if (atomic_load(&r.done))
        fail_msg("%s: the raise did not wait for the write in flight under the old fence", c->name);
    assert_int_equal(a->ops->commit(a, &err), 0);
    pthread_join(th, NULL);
    if (r.rc)
        fail_msg("%s: raise: %s", c->name, sl_err_format(&r.err, buf, sizeof buf));
    assert_int_equal(seq_of(b, "s:0"), 10);
    refused(c, put(a, "s:0", 11, &err), &err, "the old owner's next write");
    assert_int_equal(seq_of(b, "s:0"), 10);
    sl_target_close(a);
    sl_target_close(b);
}

/* PostgreSQL: an owner paused mid-transaction (it holds the fence row's share lock and
 * never commits) does not hold a takeover up for ever: its fenced transaction's
 * idle_in_transaction_session_timeout (60 s) ends its session, the raise goes through,
 * and nothing of the paused transaction commits. */
static void test_raise_paused_owner(void **state)
{
    ctx_t *c = *state;
    reset(c);
    sl_err_t err = {0};
    char buf[2048];
    sl_target_t *a = open_fenced(c, 9), *b = open_fenced(c, 10);
    assert_int_equal(sl_target_fence_raise(a, STREAM, &err), 0);
    sl_ckpt_t ck = {.epoch = 1, .seq = 20, .position = "[\"k\"]"};
    assert_int_equal(a->ops->begin(a, &err), 0);
    if (a->ops->ckpt_put(a, STREAM, "s:0", &ck, &err))
        fail_msg("%s: put in flight: %s", c->name, sl_err_format(&err, buf, sizeof buf));
    raiser_t r = {.t = b};
    pthread_t th;
    pthread_create(&th, NULL, raise_main, &r);
    for (int i = 0; i < 1800 && !atomic_load(&r.done); i++) { /* 180 s: a loaded machine */
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (!atomic_load(&r.done))
        fail_msg("%s: the raise still waits for a transaction idle for 180 s", c->name);
    pthread_join(th, NULL);
    if (r.rc)
        fail_msg("%s: raise: %s", c->name, sl_err_format(&r.err, buf, sizeof buf));
    assert_int_not_equal(a->ops->commit(a, &err), 0);
    assert_int_equal(seq_of(b, "s:0"), -1); /* the paused owner's checkpoint never committed */
    sl_target_close(a);
    sl_target_close(b);
}

static int setup_pg(const char *base)
{
    char url[700];
    snprintf(url, sizeof url, "%s/postgres", base);
    PGconn *pg = PQconnectdb(url);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "test_fence: %s", PQerrorMessage(pg));
        PQfinish(pg);
        return -1;
    }
    PQclear(PQexec(pg, "DROP DATABASE IF EXISTS " DB " WITH (FORCE)"));
    PGresult *r = PQexec(pg, "CREATE DATABASE " DB);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc)
        fprintf(stderr, "test_fence: %s", PQerrorMessage(pg));
    PQclear(r);
    PQfinish(pg);
    snprintf(pgx.url, sizeof pgx.url, "%s/" DB, base);
    return rc;
}

static int setup_mysql(const char *base)
{
    sl_url_t *u;
    sl_err_t err = {0};
    if (sl_url_parse(base, &u, &err))
        return -1;
    MYSQL *my = mysql_init(NULL);
    int rc = -1;
    if (mysql_real_connect(my, u->host, u->user, u->password, NULL, (unsigned)u->port, NULL, 0) &&
        !mysql_query(my, "DROP DATABASE IF EXISTS " DB) && !mysql_query(my, "CREATE DATABASE " DB))
        rc = 0;
    else
        fprintf(stderr, "test_fence: %s\n", mysql_error(my));
    mysql_close(my);
    sl_url_free(u);
    snprintf(myx.url, sizeof myx.url, "%s/" DB, base);
    return rc;
}

int main(void)
{
    const char *pg = getenv("SLUICE_TEST_PG_URL"), *my = getenv("SLUICE_TEST_MYSQL_URL");
    if (!pg || !pg[0] || !my || !my[0]) {
        fprintf(stderr, "test_fence: SLUICE_TEST_PG_URL and SLUICE_TEST_MYSQL_URL must be set: "
                        "run `bash scripts/test-servers.sh start DIR` and source DIR/env.sh\n");
        return 1;
    }
    char dir[] = "/tmp/sl-fence.XXXXXX";
    if (!mkdtemp(dir) || setup_pg(pg) || setup_mysql(my))
        return 1;
    snprintf(filex.url, sizeof filex.url, "file://%s?format=jsonl", dir);
#define ALL(f) cmocka_unit_test_prestate(f, &pgx), cmocka_unit_test_prestate(f, &myx), \
               cmocka_unit_test_prestate(f, &filex)
    const struct CMUnitTest tests[] = {ALL(test_stale_refused), ALL(test_raise_waits),
                                       cmocka_unit_test_prestate(test_raise_paused_owner, &pgx)};
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[100];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "test_fence: could not remove %s\n", dir);
    return failed;
}
