/*
 * cli.h: the sluice commands. Each takes argv after the command name and returns the
 * process exit code (documented in docs/cli.md):
 *   0 success, 1 failure (the error says why), 2 bad usage or spec,
 *   1 also: verify found differences, 130 interrupted (run again to resume).
 */
#ifndef SL_CLI_CLI_H
#define SL_CLI_CLI_H

#include <getopt.h>
#include <stdio.h>

#include <jansson.h>

enum { SL_EXIT_OK = 0, SL_EXIT_FAIL = 1, SL_EXIT_USAGE = 2, SL_EXIT_DIFF = 1, SL_EXIT_INTERRUPTED = 130 };

int sl_cli_run(int argc, char **argv);
int sl_cli_worker(int argc, char **argv);
int sl_cli_verify(int argc, char **argv);
int sl_cli_check(int argc, char **argv);
int sl_cli_server(int argc, char **argv);
int sl_cli_cleanup(int argc, char **argv);
int sl_cli_options(int argc, char **argv);
int sl_cli_key(int argc, char **argv);

/* Prints an error (message, detail, hint) to stderr. */
struct sl_err;
void sl_cli_print_err(const struct sl_err *err);
/* Prints a verify report (docs/api.md "Verify") as `sluice verify` does, a line per
 * table and a summary to out, an error to stderr; returns verify's exit code. */
int sl_verify_print(const json_t *report, FILE *out);
/* Installs SIGINT/SIGTERM handlers that set the returned flag. */
volatile int *sl_cli_stop_flag(void);

/* The broker options `sluice run` and `sluice server` share (docs/server.md "Broker"):
 * --nats URL, --nats-url-file FILE, --nats-creds, --nats-nkey, --nats-ca, --nats-cert,
 * --nats-key FILE. They make one NATS URL (broker/bus.h), whose user info is a secret. */
typedef struct sl_cli_nats {
    char *url;  /* from --nats or --nats-url-file (owned) */
    const char *creds, *nkey, *ca, *cert, *key; /* borrowed from argv */
    const char *replicas; /* --nats-replicas N (docs/cluster.md) */
} sl_cli_nats_t;
enum { SL_CLI_NATS_FIRST = 1000 };
#define SL_CLI_NATS_LONGOPTS                                                                   \
    {"nats", required_argument, NULL, SL_CLI_NATS_FIRST},                                      \
        {"nats-url-file", required_argument, NULL, SL_CLI_NATS_FIRST + 1},                     \
        {"nats-creds", required_argument, NULL, SL_CLI_NATS_FIRST + 2},                        \
        {"nats-nkey", required_argument, NULL, SL_CLI_NATS_FIRST + 3},                         \
        {"nats-ca", required_argument, NULL, SL_CLI_NATS_FIRST + 4},                           \
        {"nats-cert", required_argument, NULL, SL_CLI_NATS_FIRST + 5},                         \
        {"nats-key", required_argument, NULL, SL_CLI_NATS_FIRST + 6},                          \
        {"nats-replicas", required_argument, NULL, SL_CLI_NATS_FIRST + 7}
#define SL_CLI_NATS_HELP                                                                       \
    "  --nats URL           use an external NATS server (with JetStream) instead of the\n"     \
    "                       embedded one: nats://[USER:PASSWORD@|TOKEN@]HOST:PORT, tls://…\n" \
    "                       (a cluster: its servers' URLs, comma-separated)\n"               \
    "  --nats-url-file FILE the --nats URL is the first line of FILE (keeps it out of ps)\n"   \
    "  --nats-creds FILE    a NATS .creds file (JWT and NKey seed)\n"                           \
    "  --nats-nkey FILE     a NATS user NKey seed file\n"                                        \
    "  --nats-ca FILE       CA certificates that sign the NATS server's (turns on TLS)\n"      \
    "  --nats-cert FILE     TLS client certificate, with --nats-key FILE its private key\n"  \
    "  --nats-replicas N    copies of sluice's JetStream streams and KV buckets in a NATS\n" \
    "                       cluster (default 3; 1 on a server without a cluster)\n"
/* Takes option c (a getopt_long value) when it is a broker option: 1 taken, 0 not one,
 * -1 bad (printed). A password in a --nats URL is overwritten in argv at once, so that
 * ps shows "****" (a short window remains: prefer --nats-url-file or --nats-creds). */
int sl_cli_nats_opt(sl_cli_nats_t *n, int c, char *arg);
/* getopt_long over longopts (short options: only -h) that takes the broker options into
 * n on the way: the next other option, -1 at the end, or -2 after a bad broker option
 * (printed; n is freed). */
int sl_cli_getopt(int argc, char **argv, const struct option *longopts, sl_cli_nats_t *n);
/* The NATS URL of the options (caller frees), NULL when none was given (the embedded
 * broker), or -1 with the error (e.g. --nats-cert without --nats). */
int sl_cli_nats_url(sl_cli_nats_t *n, char **url, struct sl_err *err);
void sl_cli_nats_free(sl_cli_nats_t *n);

#endif
