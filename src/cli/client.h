/*
 * client.h: what the CLI clients of the REST API share (`sluice connection …`,
 * `sluice stream …`): a declarative table of options and subcommands that drives parsing
 * and --help, the connection to the server, and turning API errors into messages and
 * exit codes.
 *
 * Exit codes (docs/cli.md): 0 ok, 1 failure (an API error 500, a failed connection
 * check, a failed stream), 2 bad usage or a request the server refused as invalid (400,
 * 413, 415), 3 cannot reach the server, 4 unauthorized (401), 5 not found (404), 6
 * conflict: name taken, invalid state, in use (409), 130 interrupted.
 *
 * Everything here runs on the main thread. JSON values returned by sl_client_call are
 * owned by the caller (json_decref).
 */
#ifndef SL_CLI_CLIENT_H
#define SL_CLI_CLIENT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/http_client.h"
#include "core/err.h"

enum {
    SL_EXIT_UNREACHABLE = 3,
    SL_EXIT_UNAUTHORIZED = 4,
    SL_EXIT_NOT_FOUND = 5,
    SL_EXIT_CONFLICT = 6,
};

/* The options a subcommand may take (bits of sl_client_cmd_t.opts). --url,
 * --api-key-file, --ca, --json and --help are taken by every subcommand. */
enum {
    SL_OPT_PASSWORD_STDIN = 1 << 0,
    SL_OPT_PASSWORD_ENV = 1 << 1,
    SL_OPT_ACCESS_KEY_ID = 1 << 2,
    SL_OPT_SECRET_KEY_ENV = 1 << 3,
    SL_OPT_MODE = 1 << 4,
    SL_OPT_ROLE = 1 << 5,
    SL_OPT_START = 1 << 6,
    SL_OPT_DROP_SLOT = 1 << 7,
    SL_OPT_WAIT = 1 << 8,
    SL_OPT_TIMEOUT = 1 << 9,
    SL_OPT_LIMIT = 1 << 10,
    SL_OPT_INTERVAL = 1 << 11,
    SL_OPT_NO_RECONNECT = 1 << 12,
    SL_OPT_DROP = 1 << 13,
};

/* The parsed command line of one subcommand. Strings point into argv. */
typedef struct sl_client_args {
    const char *url, *api_key_file, *ca;
    bool json, help;
    bool password_stdin, start, drop_slot, wait, no_reconnect, drop;
    const char *password_env, *access_key_id, *secret_key_env, *mode, *role;
    double timeout_s;  /* --timeout (default 60) */
    long limit;        /* --limit (default 200) */
    double interval_s; /* --interval (default 5) */
    int npos;
    char **pos;
} sl_client_args_t;

typedef struct sl_client {
    sl_client_args_t a;
    sl_http_t *http;
    const char *group; /* "connection" or "stream" */
    char key_from[200]; /* where the key came from ("" when there is none), for a 401's hint */
} sl_client_t;

typedef struct sl_client_cmd {
    const char *name;    /* "add" */
    const char *args;    /* "NAME URL" (for the usage line) */
    const char *summary; /* one line, for the group's --help */
    const char *help;    /* a paragraph, for the command's --help */
    int min_pos, max_pos;
    unsigned opts; /* SL_OPT_* */
    int (*run)(sl_client_t *cl);
} sl_client_cmd_t;

/* Runs `sluice GROUP SUBCOMMAND ...`: parses, prints --help, resolves the server and key,
 * and calls the subcommand. cmds ends with an entry whose name is NULL. */
int sl_client_main(const char *group, const char *summary, const sl_client_cmd_t *cmds, int argc, char **argv);

/* Sends a request; body (borrowed, may be NULL) is sent as JSON. On a 2xx answer returns
 * 0 with *resp (NULL for 204). Otherwise prints the error (the server's message, detail
 * and hint) and returns the exit code for it. resp may be NULL to drop the body. */
int sl_client_call(sl_client_t *cl, const char *method, const char *path, json_t *body, json_t **resp);
/* The same without printing: on failure fills err and returns the exit code. */
int sl_client_request(sl_client_t *cl, const char *method, const char *path, json_t *body, long timeout_s,
                      json_t **resp, sl_err_t *err);
/* Fills err from a non-2xx answer: the server's {"error": {"message", "detail", "hint"}}
 * when it sent one (resp), else the status and raw (the start of the body, may be NULL). */
void sl_client_api_err(long status, const char *method, const char *path, const json_t *resp, const char *raw,
                       sl_err_t *err);
/* GETs path. With --json prints the answer and returns 0 with *resp NULL (nothing left to
 * do); else *resp is the answer for the caller to print. On failure prints the error and
 * returns its exit code. */
int sl_client_fetch(sl_client_t *cl, const char *path, json_t **resp);
/* Fills err from an API error object {"message", "detail"?, "hint"?} (a stream's error, an
 * error event, an error response's "error"); false when e is not one. */
bool sl_client_err_from_json(const json_t *e, sl_errcode_t code, sl_err_t *err);
/* The exit code for an HTTP status. */
int sl_client_exit_for_status(long status);

/* "/api/v1/<kind>/<escaped id><suffix>", malloc'd. */
char *sl_client_path(const char *kind, const char *id, const char *suffix);
/* Prints err in PostgreSQL style, prefixed "sluice: ". */
void sl_client_print_err(const sl_err_t *err);
/* Prints v as indented JSON on stdout (for --json). */
void sl_client_print_json(const json_t *v);

/* Field access that tolerates absent or mistyped fields (an older or newer server). */
const char *sl_json_str(const json_t *o, const char *key, const char *dflt);
double sl_json_num(const json_t *o, const char *key, double dflt); /* NaN-free: dflt if not a number */
bool sl_json_is_num(const json_t *o, const char *key);

/* Stream states (docs/api.md) that a stream leaves only by an action. */
bool sl_stream_state_final(const char *state);
/* One line about a stats object (docs/api.md "Stats"): state, phase, rows, rows/s, lag. */
const char *sl_stats_line(const json_t *stats, char *buf, size_t size);
/* `sluice stream watch` (client_watch.c). */
int sl_stream_watch(sl_client_t *cl);

/* The commands, for main.c. */
int sl_cli_connection(int argc, char **argv);
int sl_cli_stream(int argc, char **argv);

#endif
