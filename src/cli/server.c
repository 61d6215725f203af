/*
 * server.c: `sluice server [--data-dir DIR]`: for now, the embedded broker on its
 * defaults, kept running until SIGINT/SIGTERM. The REST API, the UI and the stream
 * worker are the control-plane issue's work; `sluice run` runs streams today.
 */
#include <getopt.h>
#include <stdio.h>
#include <time.h>

#include "broker/embedded.h"
#include "cli/cli.h"
#include "core/log.h"

int sl_cli_server(int argc, char **argv)
{
    static const struct option longopts[] = {{"data-dir", required_argument, NULL, 'd'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *data_dir = "./sluice-data";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'd')
            data_dir = optarg;
        else {
            fprintf(c == 'h' ? stdout : stderr,
                    "usage: sluice server [--data-dir DIR]\n\n"
                    "Starts the embedded broker (nats-server, JetStream store under DIR/nats) and keeps\n"
                    "it running until interrupted. The REST API and web UI are not built yet: run\n"
                    "streams with `sluice run SPEC.json`.\n");
            return c == 'h' ? SL_EXIT_OK : SL_EXIT_USAGE;
        }
    }
    volatile int *stop = sl_cli_stop_flag();
    sl_err_t err = {0};
    sl_broker_t *broker = NULL;
    if (sl_broker_start(data_dir, &broker, &err)) {
        sl_cli_print_err(&err);
        return SL_EXIT_FAIL;
    }
    sl_info("sluice server running with the embedded broker at %s; the REST API is not built yet "
            "(run streams with `sluice run SPEC.json`); Ctrl-C stops",
            sl_broker_url(broker));
    while (!*stop) {
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    sl_info("stopping");
    sl_broker_stop(broker);
    return SL_EXIT_OK;
}
