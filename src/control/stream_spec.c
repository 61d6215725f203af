/*
 * stream_spec.c: the secrets inside stream specs (docs/server.md "Secrets"): masking a
 * spec for responses and the record, restoring the secrets a PUT sends back as "****"
 * (only for an endpoint that did not move), resolving connection references into URLs
 * with passwords for the child, and opening a record's sealed spec.
 *
 * Thread: any (no shared state; the KV store and the secret key are thread-safe).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "control/ctl.h"
#include "core/url.h"
#include "engine/spec.h"
#include "model/schema.h"

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static bool secret_key(const char *k) { return !strcmp(k, "password") || !strcmp(k, "secret_access_key"); }

void sl_ctl_spec_mask(json_t *j)
{
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        if (json_is_object(v))
            sl_ctl_spec_mask(v);
        else if (json_is_string(v) && secret_key(k))
            json_object_set_new(j, k, json_string(SL_SECRET_MASK));
        else if (json_is_string(v) && !strcmp(k, "url")) {
            char *m = sl_url_mask(json_string_value(v));
            json_object_set_new(j, k, json_string(m));
            free(m);
        }
    }
}

/* Whether the object j (an endpoint when it has a "url") may keep the secrets stored in
 * old: only when its URL names the same endpoint (core/url.h sl_url_same_endpoint). */
static bool endpoint_kept(const json_t *j, const json_t *old)
{
    const char *url = str(j, "url"), *oldurl = old ? str(old, "url") : NULL;
    if (!url && !oldurl)
        return true;
    return url && oldurl && sl_url_same_endpoint(url, oldurl);
}

static int secret_required(sl_api_err_t *e, const char *where)
{
    sl_api_err_set(e, 400, "secret_required", "%s: the URL changed, so the stored secret is not sent along",
                   where);
    snprintf(e->detail, sizeof e->detail,
             "a secret sent back as \"****\" is kept only while the URL (scheme, user, host, port, "
             "database or path, parameters) stays the same");
    snprintf(e->hint, sizeof e->hint, "give the password (or secret key) again with the new URL");
    return -1;
}

int sl_ctl_spec_unmask(json_t *j, const json_t *old, const char *where, sl_api_err_t *e)
{
    const char *k;
    json_t *v;
    bool kept = endpoint_kept(j, old);
    json_object_foreach(j, k, v)
    {
        const json_t *o = old ? json_object_get(old, k) : NULL;
        if (json_is_object(v)) {
            char sub[128];
            snprintf(sub, sizeof sub, "%s%s%s", where, *where ? "." : "", k);
            if (sl_ctl_spec_unmask(v, o, sub, e))
                return -1;
        } else if (json_is_string(v) && secret_key(k) && !strcmp(json_string_value(v), SL_SECRET_MASK)) {
            if (json_is_string(o) && !kept)
                return secret_required(e, *where ? where : k);
            json_object_set_new(j, k, json_is_string(o) ? json_copy((json_t *)o) : json_string(""));
        } else if (json_is_string(v) && !strcmp(k, "url")) {
            char *pw = sl_secret_url_password(json_string_value(v));
            if (pw && !strcmp(pw, SL_SECRET_MASK)) {
                char *opw = json_is_string(o) ? sl_secret_url_password(json_string_value(o)) : NULL;
                if (opw && *opw && !kept) {
                    sodium_memzero(opw, strlen(opw));
                    free(opw);
                    free(pw);
                    return secret_required(e, *where ? where : k);
                }
                char *u = sl_url_with_password(json_string_value(v), opw ? opw : "");
                if (u)
                    json_object_set_new(j, k, json_string(u));
                free(u);
                if (opw)
                    sodium_memzero(opw, strlen(opw));
                free(opw);
            }
            free(pw);
        }
    }
    return 0;
}

/* Adds the secrets of an endpoint (its password and its URL's password) to list. */
static void add_secrets(const json_t *ep, char **list, int *n)
{
    const char *pw = str(ep, "password"), *url = str(ep, "url");
    if (pw && *pw)
        list[(*n)++] = sl_strdup(pw);
    char *up = url ? sl_secret_url_password(url) : NULL;
    if (up && *up)
        list[(*n)++] = up;
    else
        free(up);
}

json_t *sl_ctl_spec_resolve(sl_ctl_t *ctl, const json_t *full, char ***secrets, sl_spec_t **parsed,
                            sl_api_err_t *e)
{
    json_t *out = json_deep_copy(full);
    char **list = calloc(8, sizeof *list);
    if (!list)
        sl_oom();
    int n = 0;
    for (int side = 0; side < 2; side++) {
        const char *where = side ? "target" : "source";
        json_t *ep = json_object_get(out, where);
        const char *cname = str(ep, "connection");
        if (cname) {
            json_t *rec, *sec;
            if (sl_ctl_conn_find(ctl, cname, &rec, NULL, e)) {
                if (e->status == 404) {
                    e->status = 400;
                    snprintf(e->code, sizeof e->code, "invalid_field");
                    snprintf(e->hint, sizeof e->hint, "create it first: POST /api/v1/connections");
                }
                goto fail;
            }
            sec = sl_ctl_conn_secrets(ctl, rec, e);
            json_decref(rec);
            if (!sec)
                goto fail;
            json_object_del(ep, "connection");
            json_object_set(ep, "url", json_object_get(sec, "url"));
            if (json_object_get(sec, "password"))
                json_object_set(ep, "password", json_object_get(sec, "password"));
            json_decref(sec);
        }
        if (ep)
            add_secrets(ep, list, &n);
    }
    char *text = json_dumps(out, JSON_COMPACT);
    sl_spec_t *spec = NULL;
    sl_err_t err = {0};
    int rc = sl_spec_parse(text, &spec, &err);
    sodium_memzero(text, strlen(text));
    free(text);
    if (rc) {
        char *m = sl_secret_scrub(err.message, (const char *const *)list);
        char *h = sl_secret_scrub(err.hint, (const char *const *)list);
        sl_api_err_set(e, 400, strncmp(m, "unknown field", 13) ? "invalid_field" : "unknown_field",
                       "invalid spec: %s", m);
        snprintf(e->hint, sizeof e->hint, "%s", h);
        free(m);
        free(h);
        goto fail;
    }
    if (parsed)
        *parsed = spec;
    else
        sl_spec_free(spec);
    *secrets = list;
    return out;
fail:
    sl_secret_list_free(list);
    json_decref(out);
    return NULL;
}

json_t *sl_ctl_spec_full(sl_ctl_t *ctl, const json_t *rec, sl_api_err_t *e)
{
    return sl_ctl_unseal(ctl, rec, "sealed_spec", "stream spec", e);
}
