/*
 * common.c: what every command shares: error printing, the stop flag, the broker
 * options.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/err.h"
#include "model/schema.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

volatile int *sl_cli_stop_flag(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return (volatile int *)&stop_flag;
}

void sl_cli_print_err(const sl_err_t *err)
{
    char buf[4096];
    fprintf(stderr, "%s\n", sl_err_format(err, buf, sizeof buf));
}

/* Overwrites, in place, the user info of every server of a NATS URL with '*'. */
static void hide_userinfo(char *url)
{
    for (char *p = url, *sep; (sep = strstr(p, "://")); p = sep) {
        sep += 3;
        char *end = sep + strcspn(sep, "/?#,"), *at = NULL;
        for (char *q = sep; q < end; q++)
            if (*q == '@')
                at = q;
        if (at)
            memset(sep, '*', (size_t)(at - sep));
    }
}

/* The first line of path (caller frees), NULL with the error. */
static char *first_line(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        fprintf(stderr, "error: could not open \"%s\": %s\n", path, strerror(errno));
        return NULL;
    }
    char line[8192];
    char *got = fgets(line, sizeof line, f);
    fclose(f);
    if (!got) {
        fprintf(stderr, "error: \"%s\" is empty\n", path);
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    char *o = sl_strdup(line);
    memset(line, 0, sizeof line);
    return o;
}

int sl_cli_nats_opt(sl_cli_nats_t *n, int c, char *arg)
{
    switch (c - SL_CLI_NATS_FIRST) {
    case 0:
    case 1:
        if (n->url) {
            fprintf(stderr, "error: give the NATS URL once (--nats or --nats-url-file)\n");
            return -1;
        }
        n->url = c == SL_CLI_NATS_FIRST ? sl_strdup(arg) : first_line(arg);
        if (c == SL_CLI_NATS_FIRST)
            hide_userinfo(arg);
        return n->url ? 1 : -1;
    case 2: n->creds = arg; return 1;
    case 3: n->nkey = arg; return 1;
    case 4: n->ca = arg; return 1;
    case 5: n->cert = arg; return 1;
    case 6: n->key = arg; return 1;
    case 7: n->replicas = arg; return 1;
    default: return 0;
    }
}

int sl_cli_getopt(int argc, char **argv, const struct option *longopts, sl_cli_nats_t *n)
{
    for (;;) {
        int c = getopt_long(argc, argv, "h", longopts, NULL);
        int taken = c == -1 ? 0 : sl_cli_nats_opt(n, c, optarg);
        if (taken == 0)
            return c;
        if (taken < 0) {
            sl_cli_nats_free(n);
            return -2;
        }
    }
}

int sl_cli_nats_url(sl_cli_nats_t *n, char **url, sl_err_t *err)
{
    const char *files[][2] = {{"creds", n->creds}, {"nkey", n->nkey}, {"ca", n->ca}, {"cert", n->cert},
                              {"key", n->key},     {"replicas", n->replicas}};
    enum { NFILES = sizeof files / sizeof files[0] };
    *url = NULL;
    size_t cap = (n->url ? strlen(n->url) : 0) + 16;
    for (int i = 0; i < NFILES; i++)
        cap += files[i][1] ? 3 * strlen(files[i][1]) + 12 : 0;
    if (!n->url) {
        for (int i = 0; i < NFILES; i++)
            if (files[i][1]) {
                sl_err_set(err, SL_E_CONFIG, "--nats-%s needs an external broker", files[i][0]);
                sl_err_hint(err, "give its URL with --nats URL or --nats-url-file FILE; the embedded broker "
                                 "makes its own credentials");
                return -1;
            }
        return 0;
    }
    char *o = malloc(cap);
    if (!o)
        sl_oom();
    size_t k = (size_t)snprintf(o, cap, "%s", n->url);
    char sep = strchr(n->url, '?') ? '&' : '?';
    for (int i = 0; i < NFILES; i++) {
        if (!files[i][1])
            continue;
        k += (size_t)snprintf(o + k, cap - k, "%c%s=", sep, files[i][0]);
        sep = '&';
        for (const char *p = files[i][1]; *p; p++)
            k += (size_t)(strchr("&#%+?,", *p) ? snprintf(o + k, cap - k, "%%%02X", (unsigned char)*p)
                                               : snprintf(o + k, cap - k, "%c", *p));
    }
    *url = o;
    return 0;
}

void sl_cli_nats_free(sl_cli_nats_t *n)
{
    if (n->url)
        memset(n->url, 0, strlen(n->url));
    free(n->url);
    n->url = NULL;
}
