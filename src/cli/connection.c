/*
 * connection.c: `sluice connection add|list|show|test|rm`, clients of the REST API's
 * /api/v1/connections routes (docs/api.md). Passwords come from the URL, standard input
 * or an environment variable; they are sent to the server only (which encrypts them at
 * rest) and never printed. Runs on the main thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/client_table.h"
#include "core/mem.h"
#include "core/url.h"

#define MAX_SECRET 4096

static int usage(const char *fmt, const char *what, const char *hint)
{
    fprintf(stderr, "sluice: error: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\nhint: %s\n", hint);
    return SL_EXIT_USAGE;
}

/* Reads one line from stdin (without echo on a terminal) into a malloc'd string. */
static char *read_secret_line(const char *prompt)
{
    bool tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty && tcgetattr(STDIN_FILENO, &old) == 0) {
        fprintf(stderr, "%s", prompt);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    } else {
        tty = false;
    }
    char *line = calloc(1, MAX_SECRET + 2);
    if (!line)
        sl_oom();
    bool ok = fgets(line, MAX_SECRET + 2, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    size_t n = strlen(line);
    if (!ok || (n > MAX_SECRET && line[n - 1] != '\n')) {
        memset(line, 0, MAX_SECRET + 2);
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

/* Prints a connection's one-line description. */
static void describe(const char *verb, const json_t *c)
{
    printf("connection \"%s\" %s (%s): %s %s\n", sl_json_str(c, "name", "?"), verb, sl_json_str(c, "id", "?"),
           sl_json_str(c, "kind", "?"), sl_json_str(c, "url", "?"));
}

static int cmd_add(sl_client_t *cl)
{
    const char *name = cl->a.pos[0], *url = cl->a.pos[1];
    if (cl->a.password_stdin && cl->a.password_env)
        return usage("%s", "--password-stdin and --password-env exclude each other", "give the password one way");
    sl_url_t *u = NULL;
    sl_err_t err = {0};
    bool url_has_pw = false;
    if (sl_url_parse(url, &u, &err) == 0) {
        url_has_pw = u->password != NULL;
        sl_url_free(u);
    }
    if (url_has_pw && (cl->a.password_stdin || cl->a.password_env))
        return usage("%s", "the URL already holds a password", "drop it from the URL, or drop --password-*");
    char *password = NULL, *secret = NULL;
    if (cl->a.password_stdin) {
        password = read_secret_line("password: ");
        if (!password)
            return usage("%s", "could not read a password from standard input",
                         "pipe the password on one line (at most 4096 bytes)");
    } else if (cl->a.password_env) {
        const char *v = getenv(cl->a.password_env);
        if (!v)
            return usage("environment variable %s is not set", cl->a.password_env,
                         "export it, or use --password-stdin");
        password = strdup(v);
    }
    if (cl->a.secret_key_env) {
        const char *v = getenv(cl->a.secret_key_env);
        if (!v) {
            wipe_free(password);
            return usage("environment variable %s is not set", cl->a.secret_key_env, "export it first");
        }
        secret = strdup(v);
    }
    if (url_has_pw && isatty(STDERR_FILENO))
        fprintf(stderr, "note: a password in the URL shows in `ps` and the shell history; "
                        "--password-stdin or --password-env keep it out\n");
    json_t *body = json_pack("{s:s, s:s}", "name", name, "url", url);
    if (password)
        json_object_set_new(body, "password", json_string(password));
    if (cl->a.access_key_id)
        json_object_set_new(body, "access_key_id", json_string(cl->a.access_key_id));
    if (secret)
        json_object_set_new(body, "secret_access_key", json_string(secret));
    wipe_free(password);
    wipe_free(secret);
    json_t *resp = NULL;
    int rc = sl_client_call(cl, "POST", "/api/v1/connections", body, &resp);
    json_decref(body);
    if (rc == SL_EXIT_OK) {
        if (cl->a.json)
            sl_client_print_json(resp);
        else
            describe("added", resp);
    }
    json_decref(resp);
    return rc;
}

static int cmd_list(sl_client_t *cl)
{
    json_t *resp = NULL;
    int rc = sl_client_fetch(cl, "/api/v1/connections", &resp);
    if (rc != SL_EXIT_OK || !resp)
        return rc;
    const json_t *list = json_object_get(resp, "connections");
    static const char *const hdr[] = {"NAME", "KIND", "URL", "CREATED", "ID"};
    sl_tab_t *t = sl_tab_new(5, hdr);
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c)
    {
        const char *row[] = {sl_json_str(c, "name", NULL), sl_json_str(c, "kind", NULL), sl_json_str(c, "url", NULL),
                             sl_json_str(c, "created_at", NULL), sl_json_str(c, "id", NULL)};
        sl_tab_row(t, row);
    }
    sl_tab_print_free(t, stdout, "no connections (add one with `sluice connection add NAME URL`)");
    json_decref(resp);
    return rc;
}

static int cmd_show(sl_client_t *cl)
{
    char *path = sl_client_path("connections", cl->a.pos[0], NULL);
    json_t *c = NULL;
    int rc = sl_client_fetch(cl, path, &c);
    free(path);
    if (rc != SL_EXIT_OK || !c)
        return rc;
    static const char *const keys[] = {"name", "id", "kind", "url", "created_at", "updated_at"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        printf("%-11s %s\n", keys[i], sl_json_str(c, keys[i], "-"));
    json_decref(c);
    return rc;
}

static int cmd_test(sl_client_t *cl)
{
    const char *mode = cl->a.mode, *role = cl->a.role;
    if (mode && strcmp(mode, "load") != 0 && strcmp(mode, "cdc") != 0)
        return usage("unknown mode \"%s\"", mode, "--mode is load or cdc");
    if (role && strcmp(role, "source") != 0 && strcmp(role, "target") != 0)
        return usage("unknown role \"%s\"", role, "--role is source or target");
    json_t *body = json_object();
    if (mode)
        json_object_set_new(body, "mode", json_string(mode));
    if (role)
        json_object_set_new(body, "role", json_string(role));
    char *path = sl_client_path("connections", cl->a.pos[0], "/test");
    json_t *resp = NULL;
    int rc = sl_client_call(cl, "POST", path, body, &resp);
    free(path);
    json_decref(body);
    if (rc != SL_EXIT_OK)
        return rc;
    bool ok = json_is_true(json_object_get(resp, "ok"));
    if (cl->a.json) {
        sl_client_print_json(resp);
    } else {
        const json_t *checks = json_object_get(resp, "checks");
        int failed = 0, n = (int)json_array_size(checks);
        printf("connection \"%s\" (mode %s, role %s):\n", cl->a.pos[0], mode ? mode : "default",
               role ? role : "default");
        size_t i;
        json_t *ck;
        json_array_foreach(checks, i, ck)
        {
            bool pass = json_is_true(json_object_get(ck, "ok"));
            failed += !pass;
            printf("  %s  %-24s %s\n", pass ? "pass" : "FAIL", sl_json_str(ck, "name", "?"),
                   sl_json_str(ck, "message", ""));
            const char *hint = sl_json_str(ck, "hint", NULL);
            if (hint && hint[0] && !pass)
                printf("        hint: %s\n", hint);
        }
        if (failed)
            printf("%d of %d checks failed\n", failed, n);
        else
            printf("all %d checks passed\n", n);
        ok = ok && failed == 0;
    }
    json_decref(resp);
    return ok ? SL_EXIT_OK : SL_EXIT_FAIL;
}

static int cmd_rm(sl_client_t *cl)
{
    char *path = sl_client_path("connections", cl->a.pos[0], NULL);
    int rc = sl_client_call(cl, "DELETE", path, NULL, NULL);
    free(path);
    if (rc == SL_EXIT_OK && !cl->a.json)
        printf("connection \"%s\" removed\n", cl->a.pos[0]);
    return rc;
}

static const sl_client_cmd_t cmds[] = {
    {"add", "NAME URL", "store a connection (a database, a directory or an S3 bucket)",
     "Stores a connection on the server under NAME (1-63 of A-Z a-z 0-9 _ . -), for stream specs to\n"
     "name with {\"connection\": NAME}. URL is postgres://, mysql://, file:// or s3://. A password\n"
     "may be in the URL, but there it shows in `ps` and the shell history: prefer\n"
     "--password-stdin (e.g. `printf %s \"$PW\" | sluice connection add ...`) or --password-env.\n"
     "The server encrypts it at rest and shows **** in its place.",
     2, 2, SL_OPT_PASSWORD_STDIN | SL_OPT_PASSWORD_ENV | SL_OPT_ACCESS_KEY_ID | SL_OPT_SECRET_KEY_ENV, cmd_add},
    {"list", "", "list the connections", "Lists the stored connections (passwords masked).", 0, 0, 0, cmd_list},
    {"show", "ID", "show one connection", "Shows connection ID (its id or its name).", 1, 1, 0, cmd_show},
    {"test", "ID", "check a connection: reachable, privileges, server settings",
     "Connects with connection ID and checks what --mode and --role need (e.g. for a PostgreSQL\n"
     "cdc source: wal_level, the REPLICATION privilege, max_replication_slots, max_wal_senders).\n"
     "Prints each check as pass or FAIL with a hint to fix it; exits 1 when one fails.",
     1, 1, SL_OPT_MODE | SL_OPT_ROLE, cmd_test},
    {"rm", "ID", "delete a connection",
     "Deletes connection ID. Refused (exit 6) while a stream names it.", 1, 1, 0, cmd_rm},
    {NULL, NULL, NULL, NULL, 0, 0, 0, NULL},
};

int sl_cli_connection(int argc, char **argv)
{
    return sl_client_main("connection", "Manages the connections stored on a sluice server.", cmds, argc, argv);
}
