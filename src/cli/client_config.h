/*
 * client_config.h: where the CLI clients find the server and its API key.
 *
 * Each of the three values is resolved on its own, first found wins:
 *   URL: --url, then $SLUICE_URL, then the config file's "url", then http://127.0.0.1:8020
 *   key: --api-key-file FILE, then $SLUICE_API_KEY, then the config file's "api_key"
 *   CA:  --ca FILE, then $SLUICE_CA, then the config file's "ca" (else the system's CAs)
 * The config file is $XDG_CONFIG_HOME/sluice/cli.json, else ~/.config/sluice/cli.json:
 * {"url": "...", "api_key": "...", "ca": "..."}. It is read only when the URL or the key
 * is still missing (its "ca" counts only then), and it
 * is refused when group or others may read it (it holds the key; hint: chmod 600). A
 * missing file is not an error; malformed JSON or an unknown field is.
 *
 * sl_client_config_resolve is pure apart from reading the two files it is given, so the
 * precedence is unit-tested (tests/unit/test_cli_config.c). The result owns its strings
 * (sl_client_config_free). The key is a secret: never print it.
 */
#ifndef SL_CLI_CLIENT_CONFIG_H
#define SL_CLI_CLIENT_CONFIG_H

#include "core/err.h"

#define SL_CLIENT_DEFAULT_URL "http://127.0.0.1:8020"

typedef struct sl_client_config {
    char *url;            /* never NULL after a successful resolve */
    char *api_key;        /* NULL when none was found */
    char *ca;             /* a CA file for https, NULL: the system's */
    const char *url_from; /* "--url", "SLUICE_URL", the config file's path, or "default" */
    const char *key_from; /* "--api-key-file", "SLUICE_API_KEY", the config file's path, or NULL */
    char *config_path;    /* the config file looked at (NULL when none was needed) */
} sl_client_config_t;

typedef struct sl_client_config_in {
    const char *flag_url;          /* --url, or NULL */
    const char *flag_api_key_file; /* --api-key-file, or NULL */
    const char *env_url;           /* $SLUICE_URL, or NULL */
    const char *env_api_key;       /* $SLUICE_API_KEY, or NULL */
    const char *flag_ca;           /* --ca, or NULL */
    const char *env_ca;            /* $SLUICE_CA, or NULL */
    const char *config_path;       /* the config file to look at, or NULL for none */
} sl_client_config_in_t;

/* Resolves the URL and the key; on error (a file that cannot be read, a config file others
 * may read, bad JSON, an empty key file) fills err (SL_E_CONFIG / SL_E_IO) and leaves *out
 * empty. Empty strings count as unset. */
int sl_client_config_resolve(const sl_client_config_in_t *in, sl_client_config_t *out, sl_err_t *err);
void sl_client_config_free(sl_client_config_t *cfg);

/* The default config file path from $XDG_CONFIG_HOME or $HOME (malloc'd; NULL when
 * neither is set). */
char *sl_client_config_default_path(void);

#endif
