/*
 * server.c: `sluice server`: the control plane (src/control/, docs/server.md): the REST
 * API, the web UI and /metrics over HTTP or HTTPS, streams run as child processes,
 * connections, streams and named API keys kept in the broker's KV buckets. The embedded
 * broker unless --nats.
 *
 * Signals: SIGINT and SIGTERM stop the server; SIGHUP loads the TLS certificate and key
 * again (the main loop also does when either file changes).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/bus.h"
#include "broker/embedded.h"
#include "cli/cli.h"
#include "cli/demo.h"
#include "control/apikey.h"
#include "control/ctl.h"
#include "control/secret.h"
#include "control/tls.h"
#include "core/fs.h"
#include "core/log.h"
#include "model/schema.h"
#include "monitor/monitor.h"


static void usage(FILE *f)
{
    fprintf(f,
            "usage: sluice server [options]\n"
            "\n"
            "Runs the control plane: the REST API (docs/api.md), the web UI at / and Prometheus\n"
            "metrics at /metrics, with the embedded broker (or an external NATS). Streams run\n"
            "as child processes; connections and streams are kept in the broker. See\n"
            "docs/server.md.\n"
            "\n"
            "options:\n"
            "  --listen HOST:PORT   address of the API (default 127.0.0.1:8020; port 0: any free one)\n"
            "  --data-dir DIR       broker store, keys and stream state (default ./sluice-data)\n"
            SL_CLI_NATS_HELP
            "  --api-key-file FILE  the API key is the content of FILE (re-read when it changes;\n"
            "                       at most " SL_APIKEY_MAX_TEXT " bytes)\n"
            "  --rotate-api-key     write a new API key's hash to DIR/api-key.hash, print the key\n"
            "                       and exit (a running server takes it at its next request)\n"
            "  --tls-cert FILE      serve HTTPS with this certificate (PEM; the server's first,\n"
            "                       then intermediates); with --tls-key FILE, its private key\n"
            "                       (PEM, unencrypted, mode 0600 or 0640). Both are loaded again\n"
            "                       on SIGHUP and when either file changes\n"
            "  --log-level L        debug, info, warn or error (default info)\n"
            "  --demo               also start a demo: a private PostgreSQL and MariaDB under\n"
            "                       DIR/demo with sample data, a running CDC stream between them,\n"
            "                       a Parquet export and a small write load (docs/server.md)\n"
            "  -h, --help           this text\n"
            "\n"
            "environment: SLUICE_API_KEY (the API key), SLUICE_SECRET_KEY (32 bytes in hex or\n"
            "base64: encrypts stored secrets; default DIR/secret.key, created on the first start).\n"
            "More keys, read-only or admin: `sluice key add` (docs/server.md \"API keys\").\n");
}

static volatile sig_atomic_t hup;

static void on_hup(int sig)
{
    (void)sig;
    hup = 1;
}

/* Loads the TLS pair again when asked (SIGHUP) or when a file changed; a refused pair is
 * logged and the one in use stays. Main thread. */
static void tls_tick(sl_tls_t *tls, bool asked)
{
    if (!tls) {
        if (asked)
            sl_info("SIGHUP: nothing to reload (no --tls-cert)");
        return;
    }
    sl_err_t err = {0};
    int rc = sl_tls_reload(tls, asked, &err);
    if (rc > 0) {
        sl_info("TLS: now serving the certificate %s", sl_tls_describe(tls));
    } else if (rc < 0) {
        char buf[2048];
        sl_warn("TLS: keeping the certificate in use: %s", sl_err_format(&err, buf, sizeof buf));
    } else if (asked) {
        sl_info("TLS: the certificate and key are unchanged (%s)", sl_tls_describe(tls));
    }
}

/* The key the demo calls the API with: SLUICE_API_KEY, or the first line of key_file. */
static char *demo_api_key(const char *key_file, sl_err_t *err)
{
    const char *env = getenv("SLUICE_API_KEY");
    if (env && *env)
        return strdup(env);
    FILE *f = key_file ? fopen(key_file, "re") : NULL;
    char line[4096] = "";
    if (!f || !fgets(line, sizeof line, f)) {
        sl_err_set(err, SL_E_IO, "the demo could not read the API key from %s", key_file ? key_file : "(none)");
        if (f)
            fclose(f);
        return NULL;
    }
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    return strdup(line);
}

int sl_cli_server(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'L'},   {"data-dir", required_argument, NULL, 'd'},
        SL_CLI_NATS_LONGOPTS,                       {"api-key-file", required_argument, NULL, 'k'},
        {"rotate-api-key", no_argument, NULL, 'R'}, {"log-level", required_argument, NULL, 'l'},
        {"demo", no_argument, NULL, 'D'},           {"help", no_argument, NULL, 'h'},
        {"tls-cert", required_argument, NULL, 'C'}, {"tls-key", required_argument, NULL, 'K'},
        {NULL, 0, NULL, 0}};
    const char *listen = "127.0.0.1:8020", *data_dir = "./sluice-data";
    const char *key_file = NULL, *tls_cert = NULL, *tls_key = NULL;
    char *nats_url = NULL;
    sl_cli_nats_t nats = {0};
    bool rotate = false, demo = false;
    sl_loglevel_t lv;
    int c;
    optind = 1;
    while ((c = sl_cli_getopt(argc, argv, longopts, &nats)) != -1) {
        switch (c) {
        case -2: return SL_EXIT_USAGE;
        case 'L': listen = optarg; break;
        case 'd': data_dir = optarg; break;
        case 'k': key_file = optarg; break;
        case 'R': rotate = true; break;
        case 'D': demo = true; break;
        case 'C': tls_cert = optarg; break;
        case 'K': tls_key = optarg; break;
        case 'l':
            if (sl_log_level_parse(optarg, &lv)) {
                fprintf(stderr, "error: unknown log level \"%s\"\n", optarg);
                return SL_EXIT_USAGE;
            }
            sl_log_set_level(lv);
            break;
        case 'h': usage(stdout); return SL_EXIT_OK;
        default: usage(stderr); return SL_EXIT_USAGE;
        }
    }
    sl_err_t err = {0};
    int url_rc = optind == argc ? sl_cli_nats_url(&nats, &nats_url, &err) : 0;
    sl_cli_nats_free(&nats);
    if (optind != argc) {
        usage(stderr);
        return SL_EXIT_USAGE;
    }
    if (url_rc) {
        sl_cli_print_err(&err);
        return SL_EXIT_USAGE;
    }
    if (!tls_cert != !tls_key || (demo && tls_cert)) {
        if (demo && tls_cert)
            sl_err_set(&err, SL_E_CONFIG, "--demo serves plain HTTP on loopback; it does not take --tls-cert");
        else
            sl_err_set(&err, SL_E_CONFIG, "--%s needs --%s", tls_cert ? "tls-cert" : "tls-key",
                       tls_cert ? "tls-key" : "tls-cert");
        sl_err_hint(&err, "HTTPS needs both the certificate (--tls-cert FILE) and its key (--tls-key FILE)");
        sl_cli_print_err(&err);
        free(nats_url);
        return SL_EXIT_USAGE;
    }
    if (sl_fs_mkdirs(data_dir, 0700, &err)) {
        sl_cli_print_err(&err);
        free(nats_url);
        return SL_EXIT_FAIL;
    }
    if (rotate) {
        free(nats_url);
        char *key = sl_apikey_rotate(data_dir, &err);
        if (!key) {
            sl_cli_print_err(&err);
            return SL_EXIT_FAIL;
        }
        printf("api key: %s\n", key);
        fflush(stdout);
        free(key);
        return SL_EXIT_OK;
    }
    signal(SIGPIPE, SIG_IGN);
    volatile int *stop = sl_cli_stop_flag();
    int rc = SL_EXIT_FAIL, lockfd = -1;
    sl_broker_t *broker = NULL;
    sl_monitor_t *mon = NULL;
    sl_apikey_t *apikey = NULL;
    sl_ctl_t *ctl = NULL;
    sl_demo_t *dm = NULL;
    sl_tls_t *tls = NULL;
    char *generated = NULL, *demo_key_file = NULL, *demo_key = NULL, exe[4096];
    sl_ctl_opts_t o = {.listen = listen, .data_dir = data_dir};
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        sl_err_set(&err, SL_E_IO, "could not find the sluice binary (/proc/self/exe)");
        goto out;
    }
    exe[n] = '\0';
    o.exe = exe;
    if (demo) {
        if (sl_demo_prepare(data_dir, &demo_key_file, &err))
            goto out;
        /* unless given one, the demo signs in with a key it keeps, so that it can print it */
        if (!getenv("SLUICE_API_KEY") && !key_file)
            key_file = demo_key_file;
    }
    /* The TLS pair first: a key others may read stops the server before it touches anything. */
    if (tls_cert && sl_tls_open(tls_cert, tls_key, &tls, &err))
        goto out;
    if ((lockfd = sl_fs_lock_dir(data_dir, &err)) < 0 ||
        sl_secret_key_load(getenv("SLUICE_SECRET_KEY"), data_dir, &o.key, &err) ||
        sl_apikey_open(getenv("SLUICE_API_KEY"), key_file, data_dir, &apikey, &generated, &err))
        goto out;
    if (generated) {
        /* Printed at once: only its hash is kept, so a later failure must not lose it. */
        printf("api key: %s\n", generated);
        fflush(stdout);
    }
    if (demo && sl_demo_start(data_dir, &dm, &err)) {
        /* the bare server still starts: say why there is no demo, and how to get one */
        sl_cli_print_err(&err);
        printf("demo: could not start the demo's databases (the server runs on without them); see above\n");
        fflush(stdout);
        sl_err_clear(&err);
    }
    if (!nats_url) {
        if (sl_broker_start(data_dir, &broker, &err))
            goto out;
        nats_url = sl_strdup(sl_broker_url(broker));
    }
    if (sl_monitor_start(nats_url, &mon, &err))
        goto out;
    o.nats_url = nats_url;
    o.apikey = apikey;
    o.mon = mon;
    o.tls = tls;
    if (sl_ctl_start(&o, &ctl, &err))
        goto out;
    printf("listening on %s://%.*s:%d\n", tls ? "https" : "http", (int)(strrchr(listen, ':') - listen), listen,
           sl_ctl_port(ctl));
    fflush(stdout);
    if (tls)
        sl_info("TLS: serving the certificate %s", sl_tls_describe(tls));
    char *shown = sl_bus_url_public(nats_url);
    sl_info("sluice server: API on port %d, broker %s, data in %s", sl_ctl_port(ctl), shown, data_dir);
    free(shown);
    if (dm && (!(demo_key = demo_api_key(key_file, &err)) || sl_demo_run(dm, sl_ctl_port(ctl), demo_key, &err)))
        goto out;
    struct sigaction sa = {.sa_handler = on_hup};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    for (int tick = 0; !*stop; tick++) {
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
        bool asked = hup;
        hup = 0;
        if (asked || tick % 5 == 0)
            tls_tick(tls, asked); /* the files are looked at once a second */
    }
    sl_info("stopping: streams drain and start again with the next server");
    rc = SL_EXIT_OK;
out:
    if (rc != SL_EXIT_OK)
        sl_cli_print_err(&err);
    sl_ctl_stop(ctl);
    sl_demo_stop(dm); /* after the streams: they drain while the demo's databases still run */
    sl_monitor_stop(mon);
    sl_broker_stop(broker);
    sl_apikey_free(apikey);
    sl_tls_free(tls);
    free(generated);
    if (nats_url)
        memset(nats_url, 0, strlen(nats_url));
    free(nats_url);
    free(demo_key_file);
    free(demo_key);
    if (lockfd >= 0)
        close(lockfd);
    return rc;
}
