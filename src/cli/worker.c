/*
 * worker.c: `sluice worker --nats URL [--data-dir DIR] [--lanes N]`: a process on any
 * machine of a NATS cluster that takes writer lanes and read stripes of loads
 * (options.placement "workers" or "any") from the workers' job queue and runs them
 * (engine/place.h, docs/cluster.md "Workers").
 *
 * It authenticates to NATS as a server does (the same --nats URL and credential flags)
 * and opens jobs with the key derived from the cluster's secret key (SLUICE_SECRET_KEY, or
 * DIR/secret.key, which it never creates: a key of its own would open no job). Its target
 * connections name it (application_name "sluice-worker <node>" on PostgreSQL). SIGINT or
 * SIGTERM: the lanes finish the batch they apply, the jobs go back to the queue at once
 * (another worker or the owner takes them), and it exits 0.
 *
 * Threads: the main thread fetches jobs while fewer than --lanes run; each job runs on a
 * thread of its own (sl_place_run_lane) that keeps the job's message in progress.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "broker/bus.h"
#include "cli/cli.h"
#include "control/ctl.h"
#include "control/secret.h"
#include "core/fs.h"
#include "core/log.h"
#include "db/pg/pg.h"
#include "engine/job.h"
#include "engine/place.h"
#include "model/schema.h"
#include "target/target.h"


#define BAD_KEY_DELAY_MS 30000 /* a job this worker cannot open: another may */
#define FAILED_DELAY_MS 5000

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sluice worker --nats URL [options]\n"
            "\n"
            "Takes writer lanes and read stripes of the loads whose options.placement is\n"
            "\"workers\" or \"any\" from the job queue of a NATS cluster and runs them\n"
            "(docs/cluster.md).\n"
            "\n"
            "options:\n" SL_CLI_NATS_HELP
            "  --data-dir DIR       this worker's node-id, lock and secret.key (default\n"
            "                       ./sluice-worker)\n"
            "  --lanes N            lanes run at once (default 4)\n"
            "  --log-level L        debug, info, warn or error (default info)\n"
            "  -h, --help           this text\n"
            "\n"
            "environment: SLUICE_SECRET_KEY, the servers' secret key (else DIR/secret.key):\n"
            "the jobs' URLs are sealed with a key derived from it.\n");
}

typedef struct slot {
    pthread_t th;
    bool used, done;
    sl_bus_msg_t *msg;
    sl_job_t job;
    struct worker *w;
} slot_t;

typedef struct worker {
    sl_bus_t *bus;
    char node[40];
    volatile sig_atomic_t *stop;
    pthread_mutex_t mu;
} worker_t;

static void alive(void *ctx)
{
    slot_t *s = ctx;
    sl_bus_in_progress(s->msg);
}

static void *job_main(void *arg)
{
    slot_t *s = arg;
    worker_t *w = s->w;
    sl_err_t err = {0};
    int rc = sl_place_run(&s->job, w->bus, w->node, w->stop, alive, s, &err);
    if (rc == 0) {
        sl_bus_ack(s->msg); /* its pass is over */
    } else if (err.code == SL_E_CANCELED) {
        sl_bus_nak(s->msg, 0); /* this worker stops: another takes it at once */
    } else if (err.code == SL_E_CONFLICT && err.fatal) {
        sl_warn("load \"%s\": %s", s->job.stream, err.message);
        sl_bus_term(s->msg); /* fenced: a job of an older lease, never to run again */
    } else {
        sl_warn("load \"%s\": job %d failed: %s%s%s; handing it back", s->job.stream, s->job.lane, err.message,
                err.hint[0] ? "; " : "", err.hint);
        sl_bus_nak(s->msg, FAILED_DELAY_MS);
    }
    pthread_mutex_lock(&w->mu);
    s->done = true;
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Joins and frees the slots whose jobs ended (all of them when wait). */
static int reap(worker_t *w, slot_t *slots, int n, bool wait)
{
    int used = 0;
    for (int i = 0; i < n; i++) {
        if (!slots[i].used)
            continue;
        pthread_mutex_lock(&w->mu);
        bool done = slots[i].done;
        pthread_mutex_unlock(&w->mu);
        if (!done && !wait) {
            used++;
            continue;
        }
        pthread_join(slots[i].th, NULL);
        sl_bus_msg_free(slots[i].msg);
        sl_job_free(&slots[i].job);
        memset(&slots[i], 0, sizeof slots[i]);
    }
    return used;
}

/* The cluster's secret key: SLUICE_SECRET_KEY, or DIR/secret.key when it exists. */
static int cluster_key(const char *dir, sl_secret_key_t *key, sl_err_t *err)
{
    const char *env = getenv("SLUICE_SECRET_KEY");
    char path[1100];
    struct stat st;
    snprintf(path, sizeof path, "%s/secret.key", dir);
    if ((!env || !*env) && stat(path, &st) != 0) {
        sl_err_set(err, SL_E_CONFIG, "the worker has no secret key");
        sl_err_detail(err, "neither SLUICE_SECRET_KEY nor %s is there", path);
        sl_err_hint(err, "copy the servers' key: set SLUICE_SECRET_KEY, or put their secret.key into %s (0600)",
                    dir);
        return -1;
    }
    return sl_secret_key_load(env, dir, key, err);
}

/* Fetches jobs and runs them until *stop. */
static int serve(worker_t *w, const sl_secret_key_t *jk, int lanes, sl_err_t *err)
{
    sl_bus_sub_t *sub = NULL;
    if (sl_bus_jobs_ensure(w->bus, err) || sl_bus_jobs_subscribe(w->bus, &sub, err))
        return -1;
    slot_t *slots = calloc((size_t)lanes, sizeof *slots);
    if (!slots)
        sl_oom();
    sl_info("sluice worker %s: taking up to %d lane%s", w->node, lanes, lanes == 1 ? "" : "s");
    while (!*w->stop) {
        if (reap(w, slots, lanes, false) >= lanes) {
            usleep(200 * 1000);
            continue;
        }
        sl_bus_msg_t *msg = NULL;
        int rc = sl_bus_fetch(sub, &msg, 1000, err);
        if (rc < 0) {
            sl_warn("%s; retrying", err->message);
            sleep(1);
            continue;
        }
        if (rc == 0)
            continue;
        int i = 0;
        while (slots[i].used)
            i++;
        slot_t *s = &slots[i];
        if (sl_job_decode(sl_bus_msg_data(msg), sl_bus_msg_len(msg), jk, &s->job, err)) {
            sl_warn("a job could not be opened: %s%s%s", err->message, err->hint[0] ? "; " : "", err->hint);
            if (err->code == SL_E_CONFIG)
                sl_bus_nak(msg, BAD_KEY_DELAY_MS);
            else
                sl_bus_term(msg);
            sl_bus_msg_free(msg);
            continue;
        }
        s->used = true;
        s->msg = msg;
        s->w = w;
        if (pthread_create(&s->th, NULL, job_main, s)) {
            sl_bus_nak(msg, 0);
            sl_bus_msg_free(msg);
            sl_job_free(&s->job);
            memset(s, 0, sizeof *s);
            sl_err_set(err, SL_E_INTERNAL, "could not start a lane thread");
            break;
        }
    }
    reap(w, slots, lanes, true);
    free(slots);
    sl_bus_unsubscribe(sub);
    return *w->stop ? 0 : -1;
}

int sl_cli_worker(int argc, char **argv)
{
    static const struct option longopts[] = {
        SL_CLI_NATS_LONGOPTS,
        {"data-dir", required_argument, NULL, 'd'},
        {"lanes", required_argument, NULL, 'n'},
        {"log-level", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    volatile int *stop = sl_cli_stop_flag();
    const char *dir = "./sluice-worker";
    sl_cli_nats_t nats = {0};
    int c, lanes = 4;
    sl_loglevel_t lv;
    optind = 1;
    while ((c = sl_cli_getopt(argc, argv, longopts, &nats)) != -1) {
        switch (c) {
        case -2: return SL_EXIT_USAGE;
        case 'd': dir = optarg; break;
        case 'n':
            lanes = atoi(optarg);
            if (lanes < 1 || lanes > 256) {
                fprintf(stderr, "error: --lanes takes 1 to 256\n");
                sl_cli_nats_free(&nats);
                return SL_EXIT_USAGE;
            }
            break;
        case 'l':
            if (sl_log_level_parse(optarg, &lv)) {
                fprintf(stderr, "error: unknown log level \"%s\"\n", optarg);
                sl_cli_nats_free(&nats);
                return SL_EXIT_USAGE;
            }
            sl_log_set_level(lv);
            break;
        case 'h': usage(stdout); sl_cli_nats_free(&nats); return SL_EXIT_OK;
        default: usage(stderr); sl_cli_nats_free(&nats); return SL_EXIT_USAGE;
        }
    }
    sl_err_t err = {0};
    char *url = NULL;
    int rc = optind == argc ? sl_cli_nats_url(&nats, &url, &err) : -1;
    sl_cli_nats_free(&nats);
    if (optind != argc) {
        usage(stderr);
        return SL_EXIT_USAGE;
    }
    if (rc == 0 && !url) {
        sl_err_set(&err, SL_E_CONFIG, "a worker needs the NATS cluster it joins");
        sl_err_hint(&err, "give its URLs with --nats nats://HOST:4222,nats://HOST2:4222 (or --nats-url-file)");
        rc = -1;
    }
    if (rc) {
        sl_cli_print_err(&err);
        return SL_EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    worker_t w = {.stop = (volatile sig_atomic_t *)stop};
    pthread_mutex_init(&w.mu, NULL);
    sl_secret_key_t key, jk;
    int lockfd = -1;
    rc = SL_EXIT_FAIL;
    if ((lockfd = sl_fs_lock_dir(dir, &err)) < 0 || sl_ctl_node_load(dir, 'w', w.node, sizeof w.node, &err) ||
        cluster_key(dir, &key, &err))
        goto out;
    sl_secret_key_derive(&key, SL_JOB_PURPOSE, &jk);
    sodium_memzero(&key, sizeof key);
    char app[64];
    snprintf(app, sizeof app, "sluice-worker %s", w.node);
    sl_pg_application_name(app);
    sl_target_spool_root(dir);
    if (sl_bus_connect(url, &w.bus, &err))
        goto out;
    char *shown = sl_bus_url_public(url);
    sl_info("sluice worker %s: broker %s, data in %s", w.node, shown, dir);
    free(shown);
    if (serve(&w, &jk, lanes, &err) == 0) {
        sl_info("sluice worker %s: stopped", w.node);
        rc = SL_EXIT_OK;
    }
out:
    if (rc != SL_EXIT_OK)
        sl_cli_print_err(&err);
    sodium_memzero(&jk, sizeof jk);
    sl_bus_close(w.bus);
    if (lockfd >= 0)
        close(lockfd);
    memset(url, 0, strlen(url));
    free(url);
    pthread_mutex_destroy(&w.mu);
    return rc;
}
