/*
 * url.c: see url.h. A small hand-written parser; it never reads past the input.
 */
#include "core/url.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into a new string. */
static char *decode(const char *s, size_t n)
{
    char *o = malloc(n + 1);
    if (!o)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            o[j++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            o[j++] = s[i];
        }
    }
    o[j] = '\0';
    return o;
}

void sl_url_free(sl_url_t *u)
{
    if (!u)
        return;
    free(u->scheme);
    free(u->user);
    free(u->password);
    free(u->host);
    free(u->path);
    for (int i = 0; i < u->nparams; i++) {
        free(u->params[i].key);
        free(u->params[i].value);
    }
    free(u->params);
    free(u->raw);
    free(u);
}

static int parse_params(sl_url_t *u, const char *q, sl_err_t *err)
{
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) : strlen(q);
        if (n) {
            const char *eq = memchr(q, '=', n);
            size_t kn = eq ? (size_t)(eq - q) : n;
            sl_url_param_t *p = realloc(u->params, sizeof *p * (size_t)(u->nparams + 1));
            if (!p)
                return sl_err_set(err, SL_E_INTERNAL, "out of memory");
            u->params = p;
            p[u->nparams].key = decode(q, kn);
            p[u->nparams].value = eq ? decode(eq + 1, n - kn - 1) : strdup("");
            u->nparams++;
        }
        q += n;
        if (*q == '&')
            q++;
    }
    return 0;
}

int sl_url_parse(const char *s, sl_url_t **out, sl_err_t *err)
{
    const char *sep = strstr(s, "://");
    if (!sep || sep == s)
        return sl_err_set(err, SL_E_CONFIG, "invalid URL: missing scheme"),
               sl_err_hint(err, "write it like postgres://user@host:5432/db or mysql://user@host:3306/db"),
               -1;
    sl_url_t *u = calloc(1, sizeof *u);
    if (!u)
        return sl_err_set(err, SL_E_INTERNAL, "out of memory");
    u->raw = strdup(s);
    u->scheme = decode(s, (size_t)(sep - s));
    for (char *c = u->scheme; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    const char *p = sep + 3;
    const char *end = p + strcspn(p, "/?");
    /* authority [user[:pw]@]host[:port] */
    const char *at = NULL;
    for (const char *c = p; c < end; c++)
        if (*c == '@')
            at = c;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon) {
            u->user = decode(p, (size_t)(colon - p));
            u->password = decode(colon + 1, (size_t)(at - colon - 1));
        } else {
            u->user = decode(p, (size_t)(at - p));
        }
        p = at + 1;
    }
    if (p < end) {
        const char *hend = end;
        if (*p == '[') { /* [ipv6]:port */
            const char *rb = memchr(p, ']', (size_t)(end - p));
            if (!rb) {
                sl_url_free(u);
                return sl_err_set(err, SL_E_CONFIG, "invalid URL: unterminated IPv6 address");
            }
            u->host = decode(p + 1, (size_t)(rb - p - 1));
            p = rb + 1;
        } else {
            const char *colon = memchr(p, ':', (size_t)(end - p));
            hend = colon ? colon : end;
            u->host = decode(p, (size_t)(hend - p));
            p = hend;
        }
        if (p < end && *p == ':') {
            char *e;
            long port = strtol(p + 1, &e, 10);
            if (e != end || port <= 0 || port > 65535) {
                sl_url_free(u);
                return sl_err_set(err, SL_E_CONFIG, "invalid URL: bad port number");
            }
            u->port = (int)port;
        }
        if (u->host && !u->host[0]) {
            free(u->host);
            u->host = NULL;
        }
    }
    p = end;
    if (*p == '/') {
        const char *q = strchr(p, '?');
        size_t n = q ? (size_t)(q - p - 1) : strlen(p + 1);
        u->path = decode(p + 1, n);
        p = q ? q : p + 1 + n;
    } else {
        u->path = strdup("");
    }
    if (*p == '?' && parse_params(u, p + 1, err)) {
        sl_url_free(u);
        return -1;
    }
    *out = u;
    return 0;
}

const char *sl_url_param(const sl_url_t *u, const char *key)
{
    for (int i = 0; i < u->nparams; i++)
        if (strcmp(u->params[i].key, key) == 0)
            return u->params[i].value;
    return NULL;
}

int sl_url_set_password(sl_url_t *u, const char *password, sl_err_t *err)
{
    char *p = strdup(password);
    if (!p)
        return sl_err_set(err, SL_E_INTERNAL, "out of memory");
    free(u->password);
    u->password = p;
    return 0;
}

const char *sl_url_redact(const char *url, char *buf, int size)
{
    const char *sep = strstr(url, "://");
    const char *auth = sep ? sep + 3 : url;
    const char *end = auth + strcspn(auth, "/?");
    const char *at = NULL;
    for (const char *c = auth; c < end; c++)
        if (*c == '@')
            at = c;
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (!colon) {
        snprintf(buf, (size_t)size, "%s", url);
        return buf;
    }
    snprintf(buf, (size_t)size, "%.*s:***%s", (int)(colon - url), url, at);
    return buf;
}

void sl_url_hint_password(sl_err_t *err, const char *where)
{
    if (err && strcmp(err->hint, SL_URL_HINT_PASSWORD) == 0)
        sl_err_hint(err, "check the user name in the URL and %s", where);
}
