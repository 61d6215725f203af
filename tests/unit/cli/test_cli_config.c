/*
 * test_cli_config.c: unit tests of where the CLI clients find the server and the API key
 * (src/cli/client_config.c): flags over environment over the config file over the default,
 * each value on its own; the config file refused when others may read it; bad files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/client_config.h"

static char dir[64];
static char cfg_path[128], key_path[128];

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/sl-cli-config.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(cfg_path, sizeof cfg_path, "%s/cli.json", dir);
    snprintf(key_path, sizeof key_path, "%s/key", dir);
    return 0;
}

static int teardown(void **state)
{
    unlink(cfg_path);
    unlink(key_path);
    rmdir(dir);
    return 0;
}

static void resolve_ok(const sl_client_config_in_t *in, sl_client_config_t *cfg)
{
    sl_err_t err = {0};
    if (sl_client_config_resolve(in, cfg, &err) != 0)
        fail_msg("resolve failed: %s (hint: %s)", err.message, err.hint);
}

static void test_default(void **state)
{
    unlink(cfg_path);
    sl_client_config_in_t in = {.config_path = cfg_path};
    sl_client_config_t cfg;
    resolve_ok(&in, &cfg);
    assert_string_equal(cfg.url, SL_CLIENT_DEFAULT_URL);
    assert_string_equal(cfg.url_from, "default");
    assert_null(cfg.api_key);
    assert_null(cfg.key_from);
    sl_client_config_free(&cfg);
    /* No config path at all (neither HOME nor XDG_CONFIG_HOME). */
    in.config_path = NULL;
    resolve_ok(&in, &cfg);
    assert_string_equal(cfg.url, SL_CLIENT_DEFAULT_URL);
    sl_client_config_free(&cfg);
}

static void test_precedence(void **state)
{
    write_file(cfg_path, "{\"url\": \"http://file:1\", \"api_key\": \"file-key\"}", 0600);
    write_file(key_path, "flag-key\n", 0600);
    sl_client_config_t cfg;

    /* The config file alone. */
    sl_client_config_in_t in = {.config_path = cfg_path};
    resolve_ok(&in, &cfg);
    assert_string_equal(cfg.url, "http://file:1");
    assert_string_equal(cfg.api_key, "file-key");
    assert_string_equal(cfg.url_from, cfg_path);
    assert_string_equal(cfg.key_from, cfg_path);
    sl_client_config_free(&cfg);

    /* The environment beats the file, each value on its own. */
    in.env_url = "http://env:2";
    resolve_ok(&in, &cfg);
    assert_string_equal(cfg.url, "http://env:2");
    assert_string_equal(cfg.api_key, "file-key");
    sl_client_config_free(&cfg);
    in.env_api_key = "env-key";
    resolve_ok(&in, &cfg);
    assert_string_equal(cfg.url, "http://env:2");
    assert_string_equal(cfg.api_key, "env-key");
    assert_string_equal(cfg.key_from, "SLUICE_API_KEY");
    assert_null(cfg.config_path); /* not even read: nothing was missing */
    sl_client_config_free(&cfg);

    /* Flags beat the environment; the key file loses its newline. */
    in.flag_url = "https://flag:3/";
    in.flag_api_key_file = key_path;
    resolve_ok(&in, &cfg);
    assert_string_equal(cfg.url, "https://flag:3");
    assert_string_equal(cfg.url_from, "--url");
    assert_string_equal(cfg.api_key, "flag-key");
    assert_string_equal(cfg.key_from, "--api-key-file");
    sl_client_config_free(&cfg);

    /* Empty values count as unset. */
    sl_client_config_in_t empty = {.flag_url = "", .env_url = "", .env_api_key = "", .config_path = cfg_path};
    resolve_ok(&empty, &cfg);
    assert_string_equal(cfg.url, "http://file:1");
    assert_string_equal(cfg.api_key, "file-key");
    sl_client_config_free(&cfg);
}

static void test_config_file_readable_by_others_is_refused(void **state)
{
    write_file(cfg_path, "{\"api_key\": \"secret\"}", 0644);
    sl_client_config_in_t in = {.config_path = cfg_path};
    sl_client_config_t cfg;
    sl_err_t err = {0};
    assert_int_equal(sl_client_config_resolve(&in, &cfg, &err), -1);
    assert_int_equal(err.code, SL_E_CONFIG);
    assert_non_null(strstr(err.message, "may be read by other users"));
    assert_non_null(strstr(err.hint, "chmod 600"));
    assert_null(strstr(err.message, "secret"));
    assert_null(strstr(err.detail, "secret"));
    assert_null(cfg.url);
    /* With both values given elsewhere the file is not read, so it is no obstacle. */
    in.env_url = "http://env:2";
    in.env_api_key = "k";
    resolve_ok(&in, &cfg);
    sl_client_config_free(&cfg);
}

static void test_bad_files(void **state)
{
    sl_client_config_in_t in = {.config_path = cfg_path};
    sl_client_config_t cfg;
    sl_err_t err = {0};
    write_file(cfg_path, "{\"url\": ", 0600);
    assert_int_equal(sl_client_config_resolve(&in, &cfg, &err), -1);
    assert_non_null(strstr(err.message, "not a JSON object"));
    write_file(cfg_path, "{\"uri\": \"http://x\"}", 0600);
    assert_int_equal(sl_client_config_resolve(&in, &cfg, &err), -1);
    assert_non_null(strstr(err.message, "unknown field \"uri\""));
    write_file(cfg_path, "{\"url\": 8020}", 0600);
    assert_int_equal(sl_client_config_resolve(&in, &cfg, &err), -1);
    assert_non_null(strstr(err.message, "must be a string"));
    write_file(cfg_path, "{\"url\": \"127.0.0.1:8020\"}", 0600);
    assert_int_equal(sl_client_config_resolve(&in, &cfg, &err), -1);
    assert_non_null(strstr(err.message, "not an http:// or https:// URL"));

    /* Key files: missing, empty, two lines. */
    unlink(cfg_path);
    in.flag_api_key_file = key_path;
    unlink(key_path);
    assert_int_equal(sl_client_config_resolve(&in, &cfg, &err), -1);
    assert_int_equal(err.code, SL_E_IO);
    write_file(key_path, "\n", 0600);
    assert_int_equal(sl_client_config_resolve(&in, &cfg, &err), -1);
    assert_non_null(strstr(err.message, "is empty"));
    write_file(key_path, "a\nb\n", 0600);
    assert_int_equal(sl_client_config_resolve(&in, &cfg, &err), -1);
    assert_non_null(strstr(err.message, "more than one line"));
    sl_client_config_free(NULL);
}

static void test_default_path(void **state)
{
    char *old_xdg = getenv("XDG_CONFIG_HOME") ? strdup(getenv("XDG_CONFIG_HOME")) : NULL;
    char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    setenv("XDG_CONFIG_HOME", "/x/cfg", 1);
    setenv("HOME", "/home/u", 1);
    char *p = sl_client_config_default_path();
    assert_string_equal(p, "/x/cfg/sluice/cli.json");
    free(p);
    unsetenv("XDG_CONFIG_HOME");
    p = sl_client_config_default_path();
    assert_string_equal(p, "/home/u/.config/sluice/cli.json");
    free(p);
    unsetenv("HOME");
    assert_null(sl_client_config_default_path());
    if (old_xdg)
        setenv("XDG_CONFIG_HOME", old_xdg, 1);
    if (old_home)
        setenv("HOME", old_home, 1);
    free(old_xdg);
    free(old_home);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_config_file_readable_by_others_is_refused),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_default_path),
    };
    return cmocka_run_group_tests_name("cli_config", tests, setup, teardown);
}
