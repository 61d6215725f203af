/*
 * demo.h: `sluice server --demo` (docs/server.md "The demo"): a private PostgreSQL and
 * MariaDB under DIR/demo, a sample shop database, a running CDC stream MariaDB →
 * PostgreSQL, a Parquet export, and a small write load, so that a first start shows the
 * job working without any database at hand.
 *
 * demo.c holds the setup through the server's own REST API and the write load; demo_db.c
 * starts and stops the two database servers. The servers start on the caller's thread (the
 * server's main thread, before the control plane brings back streams that were running, so
 * that those find their databases up); they are its children and die with it
 * (PR_SET_PDEATHSIG). The API setup and the write load run on the demo's own thread.
 */
#ifndef SL_CLI_DEMO_H
#define SL_CLI_DEMO_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/err.h"

typedef struct sl_demo sl_demo_t;

/* Before the API key is opened: DIR/demo exists (0711 when run as root, so that the
 * postgres user reaches its own dir below it) and DIR/demo/api-key holds the demo's API key
 * (created once, 0600). *key_file (caller frees) is its path. */
int sl_demo_prepare(const char *data_dir, char **key_file, sl_err_t *err);

/* Before the control plane starts: starts (the first time: initialises) both databases
 * and makes the sample data. Blocks until both accept logins (seconds; the first time about
 * ten). On failure nothing is left running. */
int sl_demo_start(const char *data_dir, sl_demo_t **out, sl_err_t *err);

/* Once the API listens on api_port: starts the demo's thread, which creates the
 * connections and streams (only those that do not exist yet: a second start reuses what the
 * first made) through the API with api_key, prints what it made and runs the write load.
 * Returns at once; a failure of the thread is printed and leaves the server running. */
int sl_demo_run(sl_demo_t *d, int api_port, const char *api_key, sl_err_t *err);

/* Stops the write load and both database servers, and frees d. Call it on the thread that
 * called sl_demo_start. NULL: no-op. */
void sl_demo_stop(sl_demo_t *d);

/* ---- demo_db.c: the database servers ------------------------------------------ */

typedef struct sl_demo_srv {
    const char *what; /* "PostgreSQL", "MariaDB" */
    pid_t pid;        /* 0 when not running */
    int port;
} sl_demo_srv_t;

/* Initialises (first time) and starts PostgreSQL in dir (DIR/demo/pg) on 127.0.0.1:port,
 * superuser postgres with password over TCP, wal_level=logical, and waits until it accepts
 * logins. Run as root, the server runs as the system user postgres. */
int sl_demo_pg_start(const char *dir, int port, const char *password, sl_demo_srv_t *s, sl_err_t *err);
/* The same for MariaDB in dir (DIR/demo/my): ROW binlog with full images and metadata,
 * root with password over TCP. */
int sl_demo_my_start(const char *dir, int port, const char *password, sl_demo_srv_t *s, sl_err_t *err);
/* Asks the server to shut down, waits up to 60 s, then kills it. */
void sl_demo_srv_stop(sl_demo_srv_t *s);
/* A loopback port nothing listens on now, or avoid's when avoid is free (> 0). */
int sl_demo_free_port(int avoid);

#endif
