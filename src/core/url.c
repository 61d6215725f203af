/*
 * url.c: see url.h. A small hand-written parser; it never reads past the input.
 */
#include "core/mem.h"
#include "core/url.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MASK "****"

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static char *strdup_or_die(const char *s)
{
    char *o = strdup(s);
    if (!o)
        sl_oom();
    return o;
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

/* Whether rest (what follows the authority) has an '@' in its path or fragment: there,
 * unlike in a query value, it can only be the end of a password that held '/' or '#'. */
static bool at_outside_query(const char *rest)
{
    const char *q = strpbrk(rest, "?#");
    if (!q)
        return strchr(rest, '@') != NULL;
    if (memchr(rest, '@', (size_t)(q - rest)))
        return true;
    const char *frag = *q == '#' ? q : strchr(q, '#');
    return frag && strchr(frag, '@');
}

int sl_url_split(const char *s, sl_url_split_t *sp, sl_err_t *err)
{
    memset(sp, 0, sizeof *sp);
    const char *sep = strstr(s, "://");
    if (!sep || sep == s) {
        sl_err_set(err, SL_E_CONFIG, "invalid URL: missing scheme");
        sl_err_hint(err, "write it like postgres://user@host:5432/db or mysql://user@host:3306/db");
        return -1;
    }
    sp->scheme_end = (size_t)(sep - s);
    sp->auth = sp->scheme_end + 3;
    sp->auth_end = sp->auth + strcspn(s + sp->auth, "/?#");
    const char *a = s + sp->auth, *end = s + sp->auth_end;
    const char *at = memchr(a, '@', (size_t)(end - a));
    bool ambiguous = false;
    if (at) {
        /* A second '@' in the authority, or one past it outside the query, may end the
         * password. */
        ambiguous = memchr(at + 1, '@', (size_t)(end - at - 1)) != NULL || at_outside_query(end);
    } else if (end > a) {
        /* No userinfo by the rules; but "u:p#ss@h" means a password with '#' in it when
         * what precedes the next '@' looks like "user:…". */
        const char *later = strchr(end, '@');
        const char *colon = later ? memchr(a, ':', (size_t)(end - a)) : NULL;
        ambiguous = colon != NULL;
    }
    if (ambiguous) {
        sl_err_set(err, SL_E_CONFIG, "invalid URL: its password cannot be told apart from the rest");
        sl_err_detail(err, "an unencoded '@', '/', '?' or '#' in the user or password makes the URL ambiguous");
        sl_err_hint(err, "percent-encode them in the URL (@ as %%40, / as %%2F, ? as %%3F, # as %%23), or "
                         "leave the password out of the URL and give it in the separate \"password\" field");
        return -1;
    }
    sp->host = sp->auth;
    if (at) {
        const char *colon = memchr(a, ':', (size_t)(at - a));
        sp->has_user = true;
        sp->user_end = (size_t)((colon ? colon : at) - s);
        if (colon) {
            sp->has_password = true;
            sp->pw = (size_t)(colon + 1 - s);
            sp->pw_end = (size_t)(at - s);
        }
        sp->host = (size_t)(at + 1 - s);
    }
    return 0;
}

int sl_url_parse(const char *s, sl_url_t **out, sl_err_t *err)
{
    sl_url_split_t sp;
    if (sl_url_split(s, &sp, err))
        return -1;
    sl_url_t *u = calloc(1, sizeof *u);
    if (!u)
        return sl_err_set(err, SL_E_INTERNAL, "out of memory");
    u->raw = strdup(s);
    u->scheme = decode(s, sp.scheme_end);
    for (char *c = u->scheme; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    if (sp.has_user)
        u->user = decode(s + sp.auth, sp.user_end - sp.auth);
    if (sp.has_password)
        u->password = decode(s + sp.pw, sp.pw_end - sp.pw);
    const char *p = s + sp.host, *end = s + sp.auth_end;
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

char *sl_url_mask(const char *url)
{
    sl_url_split_t sp;
    sl_err_t err;
    char *o;
    if (sl_url_split(url, &sp, &err)) {
        const char *sep = strstr(url, "://"), *at = strrchr(url, '@');
        if (!sep || !at || at < sep)
            return strdup_or_die(url);
        o = malloc(strlen(url) + 8);
        if (!o)
            sl_oom();
        sprintf(o, "%.*s://" MASK "%s", (int)(sep - url), url, at);
        return o;
    }
    if (!sp.has_password)
        return strdup_or_die(url);
    o = malloc(strlen(url) + 8);
    if (!o)
        sl_oom();
    sprintf(o, "%.*s" MASK "%s", (int)sp.pw, url, url + sp.pw_end);
    return o;
}

char *sl_url_with_password(const char *url, const char *password)
{
    sl_url_split_t sp;
    sl_err_t err;
    if (sl_url_split(url, &sp, &err) || !sp.has_user)
        return NULL;
    size_t cap = strlen(url) + 3 * strlen(password) + 2;
    char *o = malloc(cap);
    if (!o)
        sl_oom();
    size_t n = (size_t)snprintf(o, cap, "%.*s:", (int)sp.user_end, url);
    for (const char *p = password; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (isalnum(ch) || strchr("-._~", ch))
            o[n++] = (char)ch;
        else
            n += (size_t)snprintf(o + n, cap - n, "%%%02X", ch);
    }
    snprintf(o + n, cap - n, "%s", url + sp.host - 1);
    return o;
}

/* The scheme's canonical name: aliases of one kind compare equal. */
static const char *canonical_scheme(const char *s)
{
    if (!strcmp(s, "postgresql"))
        return "postgres";
    if (!strcmp(s, "mariadb"))
        return "mysql";
    return s;
}

static bool same_str(const char *a, const char *b, bool nocase)
{
    if (!a || !b)
        return a == b;
    return nocase ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

/* Every parameter of a is in b with the same value. */
static bool params_in(const sl_url_t *a, const sl_url_t *b)
{
    for (int i = 0; i < a->nparams; i++)
        if (!same_str(a->params[i].value, sl_url_param(b, a->params[i].key), false))
            return false;
    return true;
}

bool sl_url_same_endpoint(const char *a, const char *b)
{
    sl_url_t *x = NULL, *y = NULL;
    sl_err_t err;
    bool same = sl_url_parse(a, &x, &err) == 0 && sl_url_parse(b, &y, &err) == 0 &&
                !strcmp(canonical_scheme(x->scheme), canonical_scheme(y->scheme)) &&
                same_str(x->user, y->user, false) && same_str(x->host, y->host, true) &&
                x->port == y->port && !strcmp(x->path, y->path) && x->nparams == y->nparams &&
                params_in(x, y) && params_in(y, x);
    sl_url_free(x);
    sl_url_free(y);
    return same;
}

void sl_url_hint_password(sl_err_t *err, const char *where)
{
    if (err && strcmp(err->hint, SL_URL_HINT_PASSWORD) == 0)
        sl_err_hint(err, "check the user name in the URL and %s", where);
}
