/*
 * run.c: `sluice run SPEC.json [--data-dir DIR] [--nats URL…] [--restart]`: runs one
 * stream in the foreground with the embedded broker (or an external one) and exits
 * when the load completes, fails or is interrupted.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "broker/bus.h"
#include "broker/embedded.h"
#include "cli/cli.h"
#include "core/fs.h"
#include "core/log.h"
#include "control/secret.h"
#include "engine/cdc.h"
#include "engine/job.h"
#include "engine/load.h"
#include "engine/spec.h"
#include "model/schema.h"
#include "target/target.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sluice run SPEC.json [options]     (SPEC.json \"-\": read the spec from stdin)\n"
            "\n"
            "Runs one stream in the foreground. A load exits 0 when every table is copied;\n"
            "a cdc stream runs until SIGINT/SIGTERM, then drains, commits and exits 0.\n"
            "Run it again with the same spec and data directory to resume after a crash.\n"
            "\n"
            "options:\n"
            "  --data-dir DIR       broker store and local state (default ./sluice-data)\n"
            SL_CLI_NATS_HELP
            "  --restart            forget this stream's checkpoints and load again from scratch\n"
            "                       (cdc: also drops and recreates the replication slot)\n"
            "  --no-progress        log lines instead of progress bars\n"
            "  --log-level L        debug, info, warn or error (default info)\n"
            "  --secrets-fd N       read {\"nats_url\", \"env\"} from file descriptor N (how\n"
            "                       `sluice server` hands a stream its secrets)\n"
            "  --fence-epoch N      write every checkpoint under lease epoch N and raise the\n"
            "                       stream's fence to it first (how `sluice server` runs a\n"
            "                       stream it holds the lease of; docs/cluster.md)\n"
            "  -h, --help           this text\n");
}

/* Locks DIR/lock so two processes never share a data directory. Returns the fd. */
/* --secrets-fd N: what `sluice server` hands a stream's process on fd N (control/runner.h):
 * {"nats_url": URL, "job_key": HEX, "env": {NAME: VALUE}} (job_key: the key that seals
 * the workers' jobs, derived from the server's secret key; engine/job.h). The URL becomes the broker's; the variables
 * (the server's ambient credentials, e.g. AWS_SECRET_ACCESS_KEY for an S3 target) are
 * set in this process only: they never were in its initial environment, which other
 * processes of the user can read in /proc. */
static int read_secrets(int fd, sl_cli_nats_t *nats, sl_secret_key_t *job_key, bool *has_job_key, sl_err_t *err)
{
    char buf[16384];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            close(fd);
            return sl_err_set(err, SL_E_IO, "could not read --secrets-fd %d: %s", fd, strerror(errno));
        }
        n += (size_t)r;
    }
    close(fd);
    json_t *j = json_loadb(buf, n, 0, NULL);
    memset(buf, 0, sizeof buf);
    const char *url = json_string_value(json_object_get(j, "nats_url"));
    if (!json_is_object(j) || (json_object_get(j, "nats_url") && !url)) {
        json_decref(j);
        return sl_err_set(err, SL_E_CONFIG, "--secrets-fd %d: not a JSON object with \"nats_url\"", fd);
    }
    if (url && !nats->url)
        nats->url = sl_strdup(url);
    const char *jk = json_string_value(json_object_get(j, "job_key"));
    if (jk && sl_secret_key_parse(jk, job_key, err)) {
        json_decref(j);
        return -1;
    }
    *has_job_key = jk != NULL;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(j, "env"), k, v) if (json_is_string(v)) setenv(k, json_string_value(v), 1);
    json_decref(j);
    return 0;
}

/* Outside a server, the workers' job key comes from SLUICE_SECRET_KEY (the cluster's
 * secret key), when set. */
static int cli_job_key(sl_secret_key_t *job_key, bool *has, sl_err_t *err)
{
    const char *env = getenv("SLUICE_SECRET_KEY");
    sl_secret_key_t key;
    if (!env || !*env)
        return 0;
    if (sl_secret_key_parse(env, &key, err)) {
        sl_err_prefix(err, "SLUICE_SECRET_KEY: ");
        return -1;
    }
    sl_secret_key_derive(&key, SL_JOB_PURPOSE, job_key);
    *has = true;
    return 0;
}

/* --fence-epoch N: every target connection writes under epoch N, and the stream's fence
 * is raised to N before anything reads the checkpoints, so that a process that ran the
 * stream under an older lease can commit nothing after this one has read them. Waits
 * while the target is not there (as the lanes would). */
static int raise_fence(const sl_spec_t *spec, long long fence, volatile int *stop, sl_err_t *err)
{
    sl_target_fence_default(fence);
    for (int wait = 500;; wait = wait < 8000 ? wait * 2 : wait) {
        sl_target_t *tgt = NULL;
        int rc = sl_target_open(spec->target_url, &tgt, err);
        if (rc == 0)
            rc = sl_target_fence_raise(tgt, spec->name, err);
        sl_target_close(tgt);
        if (rc == 0) {
            sl_info("stream \"%s\": fence raised to lease epoch %lld", spec->name, fence);
            return 0;
        }
        if (!err->retriable || *stop) {
            sl_err_prefix(err, "target: ");
            return -1;
        }
        sl_warn("could not raise the stream's fence on the target (%s); retrying", err->message);
        struct timespec ts = {wait / 1000, (wait % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* --log-level L: sets the level, or says what is wrong and returns -1. */
static int set_log_level(const char *arg)
{
    sl_loglevel_t lv;
    if (sl_log_level_parse(arg, &lv)) {
        fprintf(stderr, "error: unknown log level \"%s\"\n", arg);
        return -1;
    }
    sl_log_set_level(lv);
    return 0;
}

int sl_cli_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"data-dir", required_argument, NULL, 'd'},  SL_CLI_NATS_LONGOPTS,
        {"restart", no_argument, NULL, 'r'},         {"no-progress", no_argument, NULL, 'p'},
        {"log-level", required_argument, NULL, 'l'}, {"secrets-fd", required_argument, NULL, 's'},
        {"fence-epoch", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    /* First: a SIGTERM (a pause) may come at once; it must stop the run, not kill it. */
    volatile int *stop = sl_cli_stop_flag();
    const char *data_dir = "./sluice-data";
    char *nats_url = NULL;
    sl_cli_nats_t nats = {0};
    bool restart = false, progress = isatty(2);
    int c, secrets_fd = -1, taken;
    long long fence = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if ((taken = sl_cli_nats_opt(&nats, c, optarg)) != 0) {
            if (taken < 0) {
                sl_cli_nats_free(&nats);
                return SL_EXIT_USAGE;
            }
            continue;
        }
        switch (c) {
        case 'd': data_dir = optarg; break;
        case 'r': restart = true; break;
        case 'p': progress = false; break;
        case 's': secrets_fd = atoi(optarg); break;
        case 'f':
            fence = strtoll(optarg, NULL, 10);
            if (fence <= 0) {
                fprintf(stderr, "error: --fence-epoch takes a positive number\n");
                return SL_EXIT_USAGE;
            }
            break;
        case 'l':
            if (set_log_level(optarg))
                return SL_EXIT_USAGE;
            break;
        case 'h': usage(stdout); return SL_EXIT_OK;
        default: usage(stderr); return SL_EXIT_USAGE;
        }
    }
    sl_err_t err = {0};
    if (optind != argc - 1) {
        usage(stderr);
        sl_cli_nats_free(&nats);
        return SL_EXIT_USAGE;
    }
    sl_secret_key_t job_key;
    bool has_job_key = false;
    if ((secrets_fd >= 0 ? read_secrets(secrets_fd, &nats, &job_key, &has_job_key, &err) : 0) ||
        (!has_job_key && cli_job_key(&job_key, &has_job_key, &err)) || sl_cli_nats_url(&nats, &nats_url, &err)) {
        sl_cli_print_err(&err);
        sl_cli_nats_free(&nats);
        return SL_EXIT_USAGE;
    }
    sl_cli_nats_free(&nats);
    sl_spec_t *spec = NULL;
    if (sl_spec_load_file(argv[optind], &spec, &err)) {
        sl_cli_print_err(&err);
        free(nats_url);
        return SL_EXIT_USAGE;
    }
    int lockfd = -1, rc = SL_EXIT_FAIL;
    sl_broker_t *broker = NULL;
    sl_bus_t *bus = NULL;
    if ((lockfd = sl_fs_lock_dir(data_dir, &err)) < 0)
        goto out;
    sl_target_spool_root(data_dir);
    if (!nats_url) {
        if (sl_broker_start(data_dir, &broker, &err))
            goto out;
        nats_url = sl_strdup(sl_broker_url(broker));
    }
    if (sl_bus_connect(nats_url, &bus, &err) || (fence && raise_fence(spec, fence, stop, &err)))
        goto out;
    sl_load_opts_t lo = {.restart = restart, .progress_tty = progress, .stop = (volatile sig_atomic_t *)stop,
                         .job_key = has_job_key ? &job_key : NULL};
    if (spec->mode == SL_MODE_CDC) {
        if (sl_cdc_run(spec, bus, &lo, &err) == SL_CDC_STOPPED)
            rc = SL_EXIT_OK;
        else
            rc = *stop && err.code == SL_E_CANCELED ? SL_EXIT_INTERRUPTED : SL_EXIT_FAIL;
        goto out;
    }
    switch (sl_load_run(spec, bus, &lo, &err)) {
    case SL_LOAD_DONE:
    case SL_LOAD_ALREADY_DONE:
        rc = SL_EXIT_OK;
        break;
    case SL_LOAD_INTERRUPTED:
        rc = SL_EXIT_INTERRUPTED;
        break;
    case SL_LOAD_FAILED:
        rc = SL_EXIT_FAIL;
        break;
    }
out:
    if (rc != SL_EXIT_OK) {
        sl_spec_password_hint(spec, &err);
        sl_cli_print_err(&err);
    }
    sl_bus_close(bus);
    sl_broker_stop(broker);
    if (lockfd >= 0)
        close(lockfd);
    sl_spec_free(spec);
    if (nats_url)
        memset(nats_url, 0, strlen(nats_url));
    free(nats_url);
    return rc;
}

static void cleanup_usage(FILE *f)
{
    fprintf(f, "usage: sluice cleanup SPEC.json [--log-level L]\n"
               "\n"
               "Drops the replication slot and the publication of a cdc stream (sluice_<name>)\n"
               "and deletes the stream's checkpoints on the target. The target's tables and\n"
               "rows stay. A later `sluice run` of the spec starts from scratch.\n");
}

int sl_cli_cleanup(int argc, char **argv)
{
    static const struct option longopts[] = {{"log-level", required_argument, NULL, 'l'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (set_log_level(optarg))
                return SL_EXIT_USAGE;
            break;
        case 'h': cleanup_usage(stdout); return SL_EXIT_OK;
        default: cleanup_usage(stderr); return SL_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cleanup_usage(stderr);
        return SL_EXIT_USAGE;
    }
    sl_err_t err = {0};
    sl_spec_t *spec = NULL;
    if (sl_spec_load_file(argv[optind], &spec, &err)) {
        sl_cli_print_err(&err);
        return SL_EXIT_USAGE;
    }
    int rc = SL_EXIT_OK;
    if (spec->mode != SL_MODE_CDC) {
        sl_err_set(&err, SL_E_CONFIG, "stream \"%s\" is a load: it has no slot or publication", spec->name);
        sl_err_hint(&err, "cleanup is for cdc streams; run the load with --restart to load again");
        rc = SL_EXIT_USAGE;
    } else if (sl_cdc_cleanup(spec, &err)) {
        rc = SL_EXIT_FAIL;
    }
    if (rc != SL_EXIT_OK)
        sl_cli_print_err(&err);
    sl_spec_free(spec);
    return rc;
}
