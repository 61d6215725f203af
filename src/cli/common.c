/*
 * common.c: what every command shares: error printing and the stop flag.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/err.h"

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
