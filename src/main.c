/*
 * main.c: the sluice binary: dispatches to a command (src/cli/).
 */
#include <stdio.h>
#include <string.h>

#include <nats/nats.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "core/log.h"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
    fprintf(f,
            "sluice %s: moves data between databases, exactly once\n"
            "\n"
            "usage: sluice COMMAND [options]\n"
            "\n"
            "commands:\n"
            "  run SPEC.json      run one stream in the foreground (load: until complete; cdc: until stopped)\n"
            "  check SPEC.json    show what a stream would do (DDL, mapping, values that do not fit)\n"
            "  verify SPEC.json   compare row counts and checksums of source and target\n"
            "  cleanup SPEC.json  drop a cdc stream's replication slot, publication and checkpoints\n"
            "  server             run the API server with its embedded broker\n"
            "  worker             take writer lanes of streams on a NATS cluster (docs/cluster.md)\n"
            "  connection ...     add, list, show, test, rm connections on a server\n"
            "  stream ...         create, list, show, start, pause, resume, stop, rm, watch streams\n"
            "  key ...            add, list, rm the server's API keys (read-only or admin)\n"
            "  options            print the spec options and URL parameters (Markdown or --json)\n"
            "  version            print the version\n"
            "\n"
            "`sluice COMMAND --help` describes a command. See docs/ for the rest.\n",
            SLUICE_VERSION);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return SL_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    int rc;
    if (strcmp(cmd, "run") == 0)
        rc = sl_cli_run(argc - 1, argv + 1);
    else if (strcmp(cmd, "verify") == 0)
        rc = sl_cli_verify(argc - 1, argv + 1);
    else if (strcmp(cmd, "check") == 0)
        rc = sl_cli_check(argc - 1, argv + 1);
    else if (strcmp(cmd, "cleanup") == 0)
        rc = sl_cli_cleanup(argc - 1, argv + 1);
    else if (strcmp(cmd, "server") == 0)
        rc = sl_cli_server(argc - 1, argv + 1);
    else if (strcmp(cmd, "worker") == 0)
        rc = sl_cli_worker(argc - 1, argv + 1);
    else if (strcmp(cmd, "connection") == 0)
        rc = sl_cli_connection(argc - 1, argv + 1);
    else if (strcmp(cmd, "stream") == 0)
        rc = sl_cli_stream(argc - 1, argv + 1);
    else if (strcmp(cmd, "key") == 0)
        rc = sl_cli_key(argc - 1, argv + 1);
    else if (strcmp(cmd, "options") == 0)
        rc = sl_cli_options(argc - 1, argv + 1);
    else if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("sluice %s\n", SLUICE_VERSION);
        rc = SL_EXIT_OK;
    } else if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        rc = SL_EXIT_OK;
    } else {
        fprintf(stderr, "error: unknown command \"%s\"\n", cmd);
        usage(stderr);
        rc = SL_EXIT_USAGE;
    }
    nats_Close();
    return rc;
}
