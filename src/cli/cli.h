/*
 * cli.h: the sluice commands. Each takes argv after the command name and returns the
 * process exit code (documented in docs/cli.md):
 *   0 success, 1 failure (the error says why), 2 bad usage or spec,
 *   1 also: verify found differences, 130 interrupted (run again to resume).
 */
#ifndef SL_CLI_CLI_H
#define SL_CLI_CLI_H

#include <stdio.h>

#include <jansson.h>

enum { SL_EXIT_OK = 0, SL_EXIT_FAIL = 1, SL_EXIT_USAGE = 2, SL_EXIT_DIFF = 1, SL_EXIT_INTERRUPTED = 130 };

int sl_cli_run(int argc, char **argv);
int sl_cli_verify(int argc, char **argv);
int sl_cli_server(int argc, char **argv);
int sl_cli_cleanup(int argc, char **argv);
int sl_cli_options(int argc, char **argv);

/* Prints an error (message, detail, hint) to stderr. */
struct sl_err;
void sl_cli_print_err(const struct sl_err *err);
/* Locks DIR/lock (creating DIR) so two processes never share a data directory: the
 * fd to keep open, or -1 with the error. */
int sl_cli_lock_dir(const char *dir, struct sl_err *err);
/* Prints a verify report (docs/api.md "Verify") as `sluice verify` does, a line per
 * table and a summary to out, an error to stderr; returns verify's exit code. */
int sl_verify_print(const json_t *report, FILE *out);
/* Installs SIGINT/SIGTERM handlers that set the returned flag. */
volatile int *sl_cli_stop_flag(void);

#endif
