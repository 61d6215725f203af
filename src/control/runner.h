/*
 * runner.h: stream child processes of `sluice server`.
 *
 * One long-lived thread (the runner) forks every child, so PR_SET_PDEATHSIG(SIGKILL),
 * which fires when the *thread* that forked exits, kills the children exactly when the
 * server dies. It writes the child's spec to its stdin (never to disk), reads its
 * stderr line by line (each line with the stream's secrets replaced by "****"), reaps
 * it and reports through callbacks. The callbacks run on the runner thread with no
 * runner lock held, so they may call any sl_runner_* function. A child's environment is
 * the server's without the variables that hold secrets (sl_runner_secret_env).
 *
 * sl_runner_spawn does not wait for the fork: a failure arrives as on_exit with
 * code -1. All functions are thread-safe.
 */
#ifndef SL_CONTROL_RUNNER_H
#define SL_CONTROL_RUNNER_H

#include <stdbool.h>

#include <jansson.h>

#include "core/err.h"

typedef struct sl_runner sl_runner_t;

typedef struct sl_runner_cb {
    void *ctx;
    /* One stderr line of the child: label as given to spawn, level
     * "debug|info|warn|error", message. */
    void (*on_line)(void *ctx, const char *id, const char *label, const char *level,
                    const char *message);
    /* The child has been alive for a second. */
    void (*on_up)(void *ctx, const char *id);
    /* The child exited: code is its exit status, 128+N when killed by signal N, -1 when
     * it could not be started. last_error: {"message", "detail"?, "hint"?} of its last
     * error lines, or NULL (borrowed). */
    void (*on_exit)(void *ctx, const char *id, int code, const json_t *last_error);
} sl_runner_cb_t;

/* exe: the sluice binary to run (resolved /proc/self/exe). */
int sl_runner_start(const char *exe, const sl_runner_cb_t *cb, sl_runner_t **out, sl_err_t *err);
/* SIGTERMs every child, waits up to grace_ms for them, SIGKILLs the rest, joins the
 * thread and frees. NULL: no-op. */
void sl_runner_stop(sl_runner_t *r, int grace_ms);

/* Starts `exe args…` for stream id (label: a name for its log lines) with stdin_text on
 * its stdin and fd3_text (NULL: none; at most 16 KiB) readable on its fd 3, a pipe (its
 * secrets: never on its command line or in its environment). secrets (NULL-terminated,
 * may be NULL) are scrubbed from its output. Copies everything. */
void sl_runner_spawn(sl_runner_t *r, const char *id, const char *label, const char *const *args,
                     const char *stdin_text, const char *fd3_text, const char *const *secrets);
/* The environment variables a child does not inherit (NULL-terminated): SLUICE_API_KEY,
 * SLUICE_SECRET_KEY, SLUICE_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN, PGPASSWORD, MYSQL_PWD. */
const char *const *sl_runner_secret_env(void);
/* True while stream id has a child (spawn requested and not yet reaped). */
bool sl_runner_active(sl_runner_t *r, const char *id);
/* Sends sig to stream id's child (right after its fork when it is not forked yet);
 * false when it has none. */
bool sl_runner_signal(sl_runner_t *r, const char *id, int sig);
/* Waits up to timeout_ms until stream id has no child; true when it has none. */
bool sl_runner_wait(sl_runner_t *r, const char *id, int timeout_ms);

#endif
