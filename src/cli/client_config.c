/*
 * client_config.c: resolving the server URL and API key (see client_config.h).
 */
#define _GNU_SOURCE /* asprintf */
#include "cli/client_config.h"
#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#define MAX_FILE 65536

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        sl_oom();
    return d;
}

static bool set(const char *s)
{
    return s && s[0];
}

/* Reads a small file whole (NUL-terminated); *st gets its mode. -1 with errno on failure
 * (ENOENT when absent, EFBIG when larger than MAX_FILE). */
static int read_small(const char *path, char **out, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    char *buf = malloc(MAX_FILE + 1);
    if (!buf)
        sl_oom();
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, MAX_FILE + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            close(fd);
            errno = e;
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > MAX_FILE) {
            free(buf);
            close(fd);
            errno = EFBIG;
            return -1;
        }
    }
    close(fd);
    buf[len] = '\0';
    *out = buf;
    return 0;
}

static int read_key_file(const char *path, char **key, sl_err_t *err)
{
    char *s = NULL;
    struct stat st;
    if (read_small(path, &s, &st) != 0) {
        sl_err_set(err, SL_E_IO, "could not read API key file \"%s\": %s", path, strerror(errno));
        sl_err_hint(err, "the file holds the key `sluice server` printed at its first start (or its SLUICE_API_KEY)");
        return -1;
    }
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    if (n == 0 || strchr(s, '\n')) {
        free(s);
        sl_err_set(err, SL_E_CONFIG, "API key file \"%s\" %s", path, n == 0 ? "is empty" : "holds more than one line");
        sl_err_hint(err, "put only the key in the file, on one line");
        return -1;
    }
    *key = s;
    return 0;
}

/* Reads the config file into *url / *key / *ca (each left NULL when absent). A missing
 * file is fine; one that group or others may read is refused. */
static int read_config(const char *path, char **url, char **key, char **ca, sl_err_t *err)
{
    char *text = NULL;
    struct stat st;
    if (read_small(path, &text, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        return sl_err_set(err, SL_E_IO, "could not read config file \"%s\": %s", path, strerror(errno));
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        free(text);
        sl_err_set(err, SL_E_CONFIG, "config file \"%s\" may be read by other users", path);
        sl_err_detail(err, "its mode is %04o; it holds the server's API key", (unsigned)(st.st_mode & 07777));
        sl_err_hint(err, "chmod 600 %s", path);
        return -1;
    }
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    free(text);
    if (!root || !json_is_object(root)) {
        sl_err_set(err, SL_E_CONFIG, "config file \"%s\" is not a JSON object", path);
        if (!root)
            sl_err_detail(err, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        sl_err_hint(err, "write it as {\"url\": \"http://127.0.0.1:8020\", \"api_key\": \"...\"} (and \"ca\": \"FILE\" for "
                         "an https:// server with a private CA)");
        json_decref(root);
        return -1;
    }
    const char *k;
    json_t *v;
    int rc = 0;
    json_object_foreach(root, k, v)
    {
        char **dst = !strcmp(k, "url") ? url : !strcmp(k, "api_key") ? key : !strcmp(k, "ca") ? ca : NULL;
        if (!dst) {
            sl_err_set(err, SL_E_CONFIG, "config file \"%s\": unknown field \"%s\"", path, k);
            sl_err_hint(err, "the fields are \"url\", \"api_key\" and \"ca\"");
            rc = -1;
            break;
        }
        if (!json_is_string(v)) {
            sl_err_set(err, SL_E_CONFIG, "config file \"%s\": \"%s\" must be a string", path, k);
            rc = -1;
            break;
        }
        if (json_string_length(v) > 0)
            *dst = xstrdup(json_string_value(v));
    }
    json_decref(root);
    if (rc) {
        free(*url);
        free(*key);
        free(*ca);
        *url = *key = *ca = NULL;
    }
    return rc;
}

static int check_url(const char *url, const char *from, sl_err_t *err)
{
    if (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0)
        return 0;
    sl_err_set(err, SL_E_CONFIG, "server URL \"%s\" (from %s) is not an http:// or https:// URL", url, from);
    sl_err_hint(err, "give the address `sluice server --listen` uses, e.g. %s", SL_CLIENT_DEFAULT_URL);
    return -1;
}

int sl_client_config_resolve(const sl_client_config_in_t *in, sl_client_config_t *out, sl_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (set(in->flag_url)) {
        out->url = xstrdup(in->flag_url);
        out->url_from = "--url";
    } else if (set(in->env_url)) {
        out->url = xstrdup(in->env_url);
        out->url_from = "SLUICE_URL";
    }
    if (set(in->flag_api_key_file)) {
        if (read_key_file(in->flag_api_key_file, &out->api_key, err))
            goto fail;
        out->key_from = "--api-key-file";
    } else if (set(in->env_api_key)) {
        out->api_key = xstrdup(in->env_api_key);
        out->key_from = "SLUICE_API_KEY";
    }
    if (set(in->flag_ca))
        out->ca = xstrdup(in->flag_ca);
    else if (set(in->env_ca))
        out->ca = xstrdup(in->env_ca);
    if ((!out->url || !out->api_key) && set(in->config_path)) {
        char *url = NULL, *key = NULL, *ca = NULL;
        if (read_config(in->config_path, &url, &key, &ca, err))
            goto fail;
        if (!out->ca)
            out->ca = ca;
        else
            free(ca);
        out->config_path = xstrdup(in->config_path);
        if (!out->url && url) {
            out->url = url;
            out->url_from = out->config_path;
        } else {
            free(url);
        }
        if (!out->api_key && key) {
            out->api_key = key;
            out->key_from = out->config_path;
        } else {
            free(key);
        }
    }
    if (!out->url) {
        out->url = xstrdup(SL_CLIENT_DEFAULT_URL);
        out->url_from = "default";
    }
    size_t n = strlen(out->url);
    while (n > 0 && out->url[n - 1] == '/')
        out->url[--n] = '\0';
    if (check_url(out->url, out->url_from, err))
        goto fail;
    return 0;
fail:
    sl_client_config_free(out);
    return -1;
}

void sl_client_config_free(sl_client_config_t *cfg)
{
    if (!cfg)
        return;
    free(cfg->url);
    free(cfg->ca);
    if (cfg->api_key) {
        /* The key is a secret: do not leave it in freed memory. */
        memset(cfg->api_key, 0, strlen(cfg->api_key));
        free(cfg->api_key);
    }
    free(cfg->config_path);
    memset(cfg, 0, sizeof *cfg);
}

char *sl_client_config_default_path(void)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    char *p = NULL;
    int n;
    if (set(xdg))
        n = asprintf(&p, "%s/sluice/cli.json", xdg);
    else if (set(home))
        n = asprintf(&p, "%s/.config/sluice/cli.json", home);
    else
        return NULL;
    if (n < 0)
        sl_oom();
    return p;
}
