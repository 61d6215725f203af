/*
 * key.c: `sluice key add|list|rm`: the named API keys of `sluice server`, read-only or
 * admin (docs/server.md "API keys", control/apikey.h).
 *
 * The keys live in the broker (the SLUICE_KEYS bucket), so this command talks to the
 * broker, not to the server's API, and works whether the server runs or not:
 *   - with --nats: that (external) NATS, as the servers on it do;
 *   - else the embedded broker of --data-dir: the one the running server keeps there
 *     (found from its config), or, when no process holds the directory, one started for
 *     this command and stopped after it (holding the directory's lock meanwhile).
 * Only the key's SHA-256 is stored; the key itself is printed once, by `add`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/embedded.h"
#include "cli/cli.h"
#include "cli/client_table.h"
#include "control/apikey.h"
#include "core/fs.h"
#include "core/log.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sluice key add NAME --role read|admin [options]\n"
            "       sluice key list [--json] [options]\n"
            "       sluice key rm NAME [options]\n"
            "\n"
            "API keys of `sluice server` (docs/server.md \"API keys\"). A read-only key (read) may\n"
            "call every GET of the API (also /metrics and the event streams) and nothing else; an\n"
            "admin key may do everything. `add` prints the new key once: only its hash is kept.\n"
            "Keys live in the broker, so every server on one NATS knows them, and a running\n"
            "server takes an added or removed key at once. The server's own key (api-key.hash,\n"
            "--api-key-file, SLUICE_API_KEY) stays an admin key beside them.\n"
            "\n"
            "options:\n"
            "  --role ROLE          (add) read or admin\n"
            "  --data-dir DIR       the server's data directory (default ./sluice-data): its\n"
            "                       embedded broker, running or not\n" SL_CLI_NATS_HELP
            "  --json               (list) print JSON\n"
            "  -h, --help           this text\n");
}

/* Opens the key store: --nats, else the running server's embedded broker, else one
 * started here (*broker, *lockfd: to stop and close after). */
static int open_store(const char *data_dir, const char *nats_url, sl_kv_t **st, sl_broker_t **broker,
                      int *lockfd, sl_err_t *err)
{
    if (nats_url)
        return sl_kv_open(nats_url, st, err);
    struct stat sb;
    if (stat(data_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        sl_err_set(err, SL_E_CONFIG, "no data directory \"%s\"", data_dir);
        sl_err_hint(err, "give the server's --data-dir (the package's is /var/lib/sluice), or --nats for an "
                         "external broker");
        return -1;
    }
    *lockfd = sl_fs_lock_dir(data_dir, err);
    if (*lockfd >= 0) {
        if (sl_broker_start(data_dir, broker, err))
            return -1;
        return sl_kv_open(sl_broker_url(*broker), st, err);
    }
    if (err->code != SL_E_CONFLICT)
        return -1;
    /* a server (or `sluice run`) holds the directory: use the broker it runs there */
    sl_err_clear(err);
    char *url;
    if (sl_broker_url_of(data_dir, &url, err))
        return -1;
    int rc = sl_kv_open(url, st, err);
    memset(url, 0, strlen(url));
    free(url);
    if (rc)
        sl_err_hint(err, "\"%s\" is in use, but not by a running embedded broker: if its server uses an external "
                         "NATS, give the same --nats options", data_dir);
    return rc;
}

static int do_add(sl_kv_t *st, const char *name, const char *role_text, sl_err_t *err)
{
    sl_role_t role = sl_role_parse(role_text);
    if (role == SL_ROLE_NONE) {
        if (role_text)
            sl_err_set(err, SL_E_CONFIG, "unknown role \"%s\"", role_text);
        else
            sl_err_set(err, SL_E_CONFIG, "a new key needs --role");
        sl_err_hint(err, "--role read (every GET, nothing else) or --role admin (everything)");
        return SL_EXIT_USAGE;
    }
    char *key;
    if (sl_keys_add(st, name, role, &key, err))
        return err->code == SL_E_CONFIG ? SL_EXIT_USAGE : SL_EXIT_FAIL;
    printf("api key: %s\n", key);
    fflush(stdout);
    fprintf(stderr, "key \"%s\" (%s) added: keep it now, it is not shown again\n", name,
            role == SL_ROLE_READ ? "read-only" : "admin");
    memset(key, 0, strlen(key));
    free(key);
    return SL_EXIT_OK;
}

static int do_list(sl_kv_t *st, bool json, sl_err_t *err)
{
    json_t *keys;
    if (sl_keys_list(st, &keys, err))
        return SL_EXIT_FAIL;
    if (json) {
        char *text = json_dumps(keys, JSON_INDENT(2));
        printf("%s\n", text);
        free(text);
    } else {
        static const char *const head[] = {"NAME", "ROLE", "CREATED", "LAST USED"};
        sl_tab_t *t = sl_tab_new(4, head);
        size_t i;
        json_t *k;
        json_array_foreach(keys, i, k)
        {
            const char *row[4];
            for (int c = 0; c < 4; c++)
                row[c] = json_string_value(
                    json_object_get(k, (const char *[]){"name", "role", "created_at", "last_used_at"}[c]));
            sl_tab_row(t, row);
        }
        sl_tab_print_free(t, stdout, "no keys (`sluice key add NAME --role read|admin` makes one)");
        printf("(the server's own key, from api-key.hash, --api-key-file or SLUICE_API_KEY, is an admin key too)\n");
    }
    json_decref(keys);
    return SL_EXIT_OK;
}

int sl_cli_key(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"role", required_argument, NULL, 'r'}, {"data-dir", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},       {"help", no_argument, NULL, 'h'},
        SL_CLI_NATS_LONGOPTS,                   {NULL, 0, NULL, 0}};
    const char *role = NULL, *data_dir = "./sluice-data";
    bool json = false;
    sl_cli_nats_t nats = {0};
    int c;
    optind = 1;
    while ((c = sl_cli_getopt(argc, argv, longopts, &nats)) != -1) {
        switch (c) {
        case -2: return SL_EXIT_USAGE;
        case 'r': role = optarg; break;
        case 'd': data_dir = optarg; break;
        case 'j': json = true; break;
        case 'h': usage(stdout); sl_cli_nats_free(&nats); return SL_EXIT_OK;
        default: usage(stderr); sl_cli_nats_free(&nats); return SL_EXIT_USAGE;
        }
    }
    const char *cmd = optind < argc ? argv[optind] : "";
    int npos = argc - optind - 1;
    bool ok = (!strcmp(cmd, "add") && npos == 1) || (!strcmp(cmd, "rm") && npos == 1) ||
              (!strcmp(cmd, "list") && npos == 0);
    if (!ok || (role && strcmp(cmd, "add"))) {
        usage(stderr);
        sl_cli_nats_free(&nats);
        return SL_EXIT_USAGE;
    }
    sl_err_t err = {0};
    char *nats_url = NULL;
    int rc = SL_EXIT_USAGE;
    if (sl_cli_nats_url(&nats, &nats_url, &err)) {
        sl_cli_nats_free(&nats);
        sl_cli_print_err(&err);
        return rc;
    }
    sl_cli_nats_free(&nats);
    sl_log_set_level(SL_LOG_WARN); /* a broker started here says nothing unless it fails */
    sl_kv_t *st = NULL;
    sl_broker_t *broker = NULL;
    int lockfd = -1;
    if (strcmp(cmd, "add") == 0 && sl_role_parse(role) == SL_ROLE_NONE)
        rc = do_add(NULL, argv[optind + 1], role, &err); /* a usage error, before the broker */
    else if (open_store(data_dir, nats_url, &st, &broker, &lockfd, &err))
        rc = SL_EXIT_FAIL;
    else if (strcmp(cmd, "add") == 0)
        rc = do_add(st, argv[optind + 1], role, &err);
    else if (strcmp(cmd, "list") == 0)
        rc = do_list(st, json, &err);
    else
        rc = sl_keys_rm(st, argv[optind + 1], &err) ? SL_EXIT_FAIL : SL_EXIT_OK;
    if (rc != SL_EXIT_OK)
        sl_cli_print_err(&err);
    else if (strcmp(cmd, "rm") == 0)
        fprintf(stderr, "key \"%s\" removed: servers refuse it from now on\n", argv[optind + 1]);
    sl_kv_close(st);
    sl_broker_stop(broker);
    if (lockfd >= 0)
        close(lockfd);
    if (nats_url)
        memset(nats_url, 0, strlen(nats_url));
    free(nats_url);
    return rc;
}
