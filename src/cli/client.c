/*
 * client.c: option parsing, --help, server resolution and API error handling for the CLI
 * clients (see client.h).
 */
#define _GNU_SOURCE /* asprintf */
#include "cli/client.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client_config.h"
#include "core/mem.h"

#define REQUEST_TIMEOUT_S 120

/* Options every subcommand takes, beyond the SL_OPT_* bits. */
enum { OPT_URL = 1 << 20, OPT_KEY_FILE = 1 << 21, OPT_JSON = 1 << 22, OPT_HELP = 1 << 23, OPT_CA = 1 << 24 };

/* One declarative table drives parsing and --help. */
static const struct opt {
    unsigned id;
    const char *name;
    const char *arg; /* NULL: a flag */
    const char *help;
} options[] = {
    {SL_OPT_PASSWORD_STDIN, "password-stdin", NULL, "read the password from the first line of standard input"},
    {SL_OPT_PASSWORD_ENV, "password-env", "VAR", "take the password from environment variable VAR"},
    {SL_OPT_ACCESS_KEY_ID, "access-key-id", "ID", "S3: the access key id"},
    {SL_OPT_SECRET_KEY_ENV, "secret-access-key-env", "VAR",
     "S3: take the secret access key from environment variable VAR"},
    {SL_OPT_MODE, "mode", "MODE", "check what mode MODE needs: load or cdc"},
    {SL_OPT_ROLE, "role", "ROLE", "check the connection as a source or a target"},
    {SL_OPT_START, "start", NULL, "start the stream once it is created"},
    {SL_OPT_DROP_SLOT, "drop-slot", NULL,
     "also drop the stream's replication slot and publication (PostgreSQL source)"},
    {SL_OPT_WAIT, "wait", NULL, "wait until the stream has left starting/stopping (see --timeout)"},
    {SL_OPT_TIMEOUT, "timeout", "SECONDS", "how long --wait waits (default 60)"},
    {SL_OPT_LIMIT, "limit", "N", "how many of the last lines to print, 1 to 1000 (default 200)"},
    {SL_OPT_INTERVAL, "interval", "SECONDS", "without a terminal: seconds between progress lines (default 5)"},
    {SL_OPT_NO_RECONNECT, "no-reconnect", NULL, "exit (code 3) when the connection drops instead of reconnecting"},
    {SL_OPT_DROP, "drop", NULL, "also drop the removed tables on the target"},
    {OPT_URL, "url", "URL", "the server (default: $SLUICE_URL, then the config file, then " SL_CLIENT_DEFAULT_URL ")"},
    {OPT_KEY_FILE, "api-key-file", "FILE", "read the API key from FILE (default: $SLUICE_API_KEY, then the config file)"},
    {OPT_CA, "ca", "FILE", "https: trust the CA certificates in FILE (PEM) instead of the system's (default: $SLUICE_CA, "
                           "then the config file)"},
    {OPT_JSON, "json", NULL, "print the API's JSON instead of text"},
    {OPT_HELP, "help", NULL, "print this help"},
};
#define NOPTIONS (sizeof options / sizeof options[0])
#define COMMON (OPT_URL | OPT_KEY_FILE | OPT_CA | OPT_JSON | OPT_HELP)

static void usage_err(const char *group, const char *cmd, const char *fmt, const char *what)
{
    fprintf(stderr, "sluice: error: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\nhint: see `sluice %s%s%s --help`\n", group, cmd ? " " : "", cmd ? cmd : "");
}

static void print_group_help(FILE *f, const char *group, const char *summary, const sl_client_cmd_t *cmds)
{
    fprintf(f, "usage: sluice %s COMMAND [options]\n\n%s\n\ncommands:\n", group, summary);
    for (const sl_client_cmd_t *c = cmds; c->name; c++) {
        char head[64];
        snprintf(head, sizeof head, "%s %s", c->name, c->args);
        fprintf(f, "  %-30s %s\n", head, c->summary);
    }
    fprintf(f,
            "\nThe server is --url, else $SLUICE_URL, else \"url\" in ~/.config/sluice/cli.json, else %s;\n"
            "the API key --api-key-file, else $SLUICE_API_KEY, else \"api_key\" in that file; for an\n"
            "https:// server with a private CA, the CA --ca, else $SLUICE_CA, else \"ca\" in that file.\n"
            "`sluice %s COMMAND --help` describes a command; docs/cli.md lists the exit codes.\n",
            SL_CLIENT_DEFAULT_URL, group);
}

static void print_cmd_help(FILE *f, const char *group, const sl_client_cmd_t *c)
{
    fprintf(f, "usage: sluice %s %s%s%s [options]\n\n%s\n\noptions:\n", group, c->name, c->args[0] ? " " : "",
            c->args, c->help);
    for (size_t i = 0; i < NOPTIONS; i++) {
        const struct opt *o = &options[i];
        if (!(o->id & (c->opts | COMMON)))
            continue;
        char head[64];
        snprintf(head, sizeof head, "%s--%s%s%s", o->id == OPT_HELP ? "-h, " : "", o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
        fprintf(f, "  %-30s %s\n", head, o->help);
    }
}

/* Parses a positive number for an option; -1 on a bad value. */
static int parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

/* Applies option o with value v (NULL for a flag). Returns 0 or -1 after a usage error. */
static int apply(sl_client_args_t *a, const struct opt *o, const char *v, const char *group, const char *cmd)
{
    double d;
    switch (o->id) {
    case SL_OPT_PASSWORD_STDIN: a->password_stdin = true; break;
    case SL_OPT_PASSWORD_ENV: a->password_env = v; break;
    case SL_OPT_ACCESS_KEY_ID: a->access_key_id = v; break;
    case SL_OPT_SECRET_KEY_ENV: a->secret_key_env = v; break;
    case SL_OPT_MODE: a->mode = v; break;
    case SL_OPT_ROLE: a->role = v; break;
    case SL_OPT_START: a->start = true; break;
    case SL_OPT_DROP_SLOT: a->drop_slot = true; break;
    case SL_OPT_DROP: a->drop = true; break;
    case SL_OPT_WAIT: a->wait = true; break;
    case SL_OPT_NO_RECONNECT: a->no_reconnect = true; break;
    case SL_OPT_TIMEOUT:
        if (parse_num(v, 0.1, 86400, &d))
            goto bad;
        a->timeout_s = d;
        break;
    case SL_OPT_LIMIT:
        if (parse_num(v, 1, 1000, &d) || d != floor(d))
            goto bad;
        a->limit = (long)d;
        break;
    case SL_OPT_INTERVAL:
        if (parse_num(v, 0.2, 3600, &d))
            goto bad;
        a->interval_s = d;
        break;
    case OPT_URL: a->url = v; break;
    case OPT_KEY_FILE: a->api_key_file = v; break;
    case OPT_CA: a->ca = v; break;
    case OPT_JSON: a->json = true; break;
    case OPT_HELP: a->help = true; break;
    }
    return 0;
bad:
    fprintf(stderr, "sluice: error: invalid value \"%s\" for --%s\nhint: see `sluice %s %s --help`\n", v, o->name,
            group, cmd);
    return -1;
}

/* Parses argv (after the subcommand's name) into a; positionals are collected in order.
 * Returns 0, or -1 after printing a usage error. */
static int parse_args(const char *group, const sl_client_cmd_t *c, int argc, char **argv, sl_client_args_t *a)
{
    a->timeout_s = 60;
    a->limit = 200;
    a->interval_s = 5;
    a->pos = calloc((size_t)argc + 1, sizeof *a->pos);
    if (!a->pos)
        sl_oom();
    bool only_pos = false;
    for (int i = 0; i < argc; i++) {
        char *s = argv[i];
        if (only_pos || s[0] != '-' || strcmp(s, "-") == 0) {
            a->pos[a->npos++] = s;
            continue;
        }
        if (strcmp(s, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (strcmp(s, "-h") == 0) {
            a->help = true;
            continue;
        }
        if (strncmp(s, "--", 2) != 0) {
            usage_err(group, c->name, "unknown option \"%s\"", s);
            return -1;
        }
        const char *name = s + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const struct opt *o = NULL;
        for (size_t k = 0; k < NOPTIONS; k++)
            if ((options[k].id & (c->opts | COMMON)) && strlen(options[k].name) == nlen &&
                strncmp(options[k].name, name, nlen) == 0)
                o = &options[k];
        if (!o) {
            usage_err(group, c->name, "unknown option \"%s\"", s);
            return -1;
        }
        const char *v = NULL;
        if (o->arg) {
            if (eq)
                v = eq + 1;
            else if (i + 1 < argc)
                v = argv[++i];
            else {
                usage_err(group, c->name, "option \"%s\" needs a value", s);
                return -1;
            }
        } else if (eq) {
            usage_err(group, c->name, "option \"%s\" takes no value", s);
            return -1;
        }
        if (apply(a, o, v, group, c->name))
            return -1;
    }
    return 0;
}

int sl_client_main(const char *group, const char *summary, const sl_client_cmd_t *cmds, int argc, char **argv)
{
    /* argv[0] is the group's name. */
    if (argc < 2) {
        print_group_help(stderr, group, summary, cmds);
        return SL_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        print_group_help(stdout, group, summary, cmds);
        return SL_EXIT_OK;
    }
    const sl_client_cmd_t *c = cmds;
    while (c->name && strcmp(c->name, name) != 0)
        c++;
    if (!c->name) {
        usage_err(group, NULL, "unknown command \"%s\"", name);
        return SL_EXIT_USAGE;
    }
    sl_client_t cl = {.group = group};
    int rc = SL_EXIT_USAGE;
    if (parse_args(group, c, argc - 2, argv + 2, &cl.a))
        goto out;
    if (cl.a.help) {
        print_cmd_help(stdout, group, c);
        rc = SL_EXIT_OK;
        goto out;
    }
    if (cl.a.npos < c->min_pos || cl.a.npos > c->max_pos) {
        char what[160];
        snprintf(what, sizeof what, "%s %s: expected %s", cl.a.npos < c->min_pos ? "missing arguments to" : "too many arguments to",
                 c->name, c->args[0] ? c->args : "no arguments");
        usage_err(group, c->name, "%s", what);
        goto out;
    }
    sl_err_t err = {0};
    char *path = sl_client_config_default_path();
    sl_client_config_in_t in = {.flag_url = cl.a.url,
                                .flag_api_key_file = cl.a.api_key_file,
                                .env_url = getenv("SLUICE_URL"),
                                .env_api_key = getenv("SLUICE_API_KEY"),
                                .flag_ca = cl.a.ca,
                                .env_ca = getenv("SLUICE_CA"),
                                .config_path = path};
    sl_client_config_t cfg;
    if (sl_client_config_resolve(&in, &cfg, &err)) {
        free(path);
        sl_client_print_err(&err);
        rc = err.code == SL_E_IO ? SL_EXIT_FAIL : SL_EXIT_USAGE;
        goto out;
    }
    free(path);
    if (sl_http_new(cfg.url, cfg.api_key, &cl.http, &err) || (cfg.ca && sl_http_set_ca(cl.http, cfg.ca, &err))) {
        sl_client_print_err(&err);
        sl_client_config_free(&cfg);
        rc = SL_EXIT_FAIL;
        goto out;
    }
    if (cfg.key_from)
        snprintf(cl.key_from, sizeof cl.key_from, "%s", cfg.key_from);
    sl_client_config_free(&cfg); /* the HTTP client keeps its own copy of the key */
    rc = c->run(&cl);
    sl_http_free(cl.http);
out:
    free(cl.a.pos);
    return rc;
}

void sl_client_print_err(const sl_err_t *err)
{
    char buf[4096];
    fprintf(stderr, "sluice: %s\n", sl_err_format(err, buf, sizeof buf));
}

void sl_client_print_json(const json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    if (s) {
        printf("%s\n", s);
        free(s);
    }
}

int sl_client_exit_for_status(long status)
{
    if (status >= 200 && status < 300)
        return SL_EXIT_OK;
    switch (status) {
    case 401:
    case 403: return SL_EXIT_UNAUTHORIZED;
    case 404: return SL_EXIT_NOT_FOUND;
    case 409: return SL_EXIT_CONFLICT;
    case 400:
    case 405:
    case 413:
    case 415:
    case 422: return SL_EXIT_USAGE;
    default: return SL_EXIT_FAIL;
    }
}

static sl_errcode_t errcode_for_status(long status)
{
    switch (status) {
    case 401:
    case 403: return SL_E_PRIVILEGE;
    case 404: return SL_E_NOT_FOUND;
    case 409: return SL_E_CONFLICT;
    case 500: return SL_E_INTERNAL;
    default: return status >= 500 ? SL_E_CONNECT : SL_E_CONFIG;
    }
}

void sl_client_api_err(long status, const char *method, const char *path, const json_t *resp, const char *raw,
                    sl_err_t *err)
{
    if (!sl_client_err_from_json(json_object_get(resp, "error"), errcode_for_status(status), err)) {
        sl_err_set(err, errcode_for_status(status), "the server answered HTTP %ld to %s %s", status, method, path);
        if (raw && raw[0])
            sl_err_detail(err, "%s", raw);
        if (status == 404)
            sl_err_hint(err, "is the server at that address `sluice server` (and of this version)?");
    }
}

/* A 401's hint says where the CLI looked for the key: the server cannot know. */
static void unauthorized_hint(const sl_client_t *cl, sl_err_t *err)
{
    if (cl->key_from[0])
        sl_err_hint(err, "the key from %s was refused: give the key `sluice server` printed at its first start "
                         "(or the SLUICE_API_KEY it runs with), or one `sluice key add` made", cl->key_from);
    else
        sl_err_hint(err, "no API key was given: set SLUICE_API_KEY, use --api-key-file, or put \"api_key\" in "
                         "~/.config/sluice/cli.json");
}

int sl_client_request(sl_client_t *cl, const char *method, const char *path, json_t *body, long timeout_s,
                      json_t **resp, sl_err_t *err)
{
    char *text = NULL;
    if (body) {
        text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!text)
            sl_oom();
    }
    long status = 0;
    json_t *r = NULL;
    char *raw = NULL;
    int rc = sl_http_call(cl->http, method, path, text, timeout_s, &status, &r, &raw, err);
    free(text);
    if (rc) {
        return err->code == SL_E_CONNECT ? SL_EXIT_UNREACHABLE : SL_EXIT_FAIL;
    }
    int code = sl_client_exit_for_status(status);
    if (code != SL_EXIT_OK) {
        sl_client_api_err(status, method, path, r, raw, err);
        if (status == 401)
            unauthorized_hint(cl, err);
        else if (status == 404 && !err->hint[0] && r)
            sl_err_hint(err, "`sluice %s list` shows the %ss there are", cl->group, cl->group);
        json_decref(r);
        free(raw);
        return code;
    }
    free(raw);
    if (resp)
        *resp = r;
    else
        json_decref(r);
    return SL_EXIT_OK;
}

int sl_client_call(sl_client_t *cl, const char *method, const char *path, json_t *body, json_t **resp)
{
    sl_err_t err = {0};
    if (resp)
        *resp = NULL;
    int rc = sl_client_request(cl, method, path, body, REQUEST_TIMEOUT_S, resp, &err);
    if (rc != SL_EXIT_OK)
        sl_client_print_err(&err);
    return rc;
}

bool sl_client_err_from_json(const json_t *e, sl_errcode_t code, sl_err_t *err)
{
    const char *msg = sl_json_str(e, "message", NULL);
    if (!msg)
        return false;
    sl_err_set(err, code, "%s", msg);
    const char *d = sl_json_str(e, "detail", NULL), *h = sl_json_str(e, "hint", NULL);
    if (d)
        sl_err_detail(err, "%s", d);
    if (h)
        sl_err_hint(err, "%s", h);
    return true;
}

int sl_client_fetch(sl_client_t *cl, const char *path, json_t **resp)
{
    int rc = sl_client_call(cl, "GET", path, NULL, resp);
    if (rc == SL_EXIT_OK && cl->a.json) {
        sl_client_print_json(*resp);
        json_decref(*resp);
        *resp = NULL;
    }
    return rc;
}

char *sl_client_path(const char *kind, const char *id, const char *suffix)
{
    char *e = sl_http_escape(id), *p = NULL;
    if (asprintf(&p, "/api/v1/%s/%s%s", kind, e, suffix ? suffix : "") < 0)
        sl_oom();
    free(e);
    return p;
}

const char *sl_json_str(const json_t *o, const char *key, const char *dflt)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

bool sl_json_is_num(const json_t *o, const char *key)
{
    return json_is_number(json_object_get(o, key));
}

double sl_json_num(const json_t *o, const char *key, double dflt)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : dflt;
}
