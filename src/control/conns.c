/*
 * conns.c: the /api/v1/connections routes (docs/api.md "Connections"), the connection
 * test and table listing, and helpers shared with streams.c.
 *
 * A connection record in KV: {"id", "name", "kind", "url" (password masked),
 * "access_key_id"?, "has_password", "has_secret_key", "sealed" (secret box of
 * {"url" with the password, "password"?, "secret_access_key"?}), "created_at",
 * "updated_at"}. Responses are the record without "sealed" and "has_*".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <sodium.h>

#include "control/ctl.h"
#include "core/url.h"
#include "model/schema.h"
#include "source/cdc.h"
#include "source/source.h"
#include "target/target.h"

void sl_ctl_new_id(char prefix, char *buf)
{
    unsigned char raw[8];
    randombytes_buf(raw, sizeof raw);
    buf[0] = prefix;
    buf[1] = '_';
    sodium_bin2hex(buf + 2, 17, raw, sizeof raw);
}

const char *sl_ctl_now(char *buf)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[24];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, 32, "%s.%03dZ", ts, (int)(tv.tv_usec / 1000));
    return buf;
}

int sl_ctl_err(sl_api_err_t *e, int status, const char *code, const sl_err_t *err)
{
    sl_api_err_set(e, status, code, "%s", err->message);
    snprintf(e->detail, sizeof e->detail, "%s", err->detail);
    snprintf(e->hint, sizeof e->hint, "%s", err->hint);
    return -1;
}

/* The public form of a record (new reference). */
static json_t *conn_public(const json_t *rec)
{
    json_t *o = json_deep_copy(rec);
    if (json_is_true(json_object_get(rec, "has_password")))
        json_object_set_new(o, "password", json_string(SL_SECRET_MASK));
    if (json_is_true(json_object_get(rec, "has_secret_key")))
        json_object_set_new(o, "secret_access_key", json_string(SL_SECRET_MASK));
    json_object_del(o, "sealed");
    json_object_del(o, "has_password");
    json_object_del(o, "has_secret_key");
    return o;
}

int sl_ctl_find(sl_ctl_t *ctl, sl_bucket_t b, const char *id_or_name, json_t **rec, uint64_t *rev,
                sl_api_err_t *e)
{
    sl_err_t err = {0};
    const char *prefix = b == SL_BUCKET_CONNECTIONS ? "c_" : "s_";
    if (strncmp(id_or_name, prefix, 2) == 0 && sl_req_name_ok(id_or_name)) {
        if (sl_kv_get(ctl->store, b, id_or_name, rec, rev, &err) == 0)
            return 0;
        if (err.code != SL_E_NOT_FOUND)
            return sl_ctl_err(e, 500, "internal", &err);
    }
    /* By name: the name index (names.c) first, then a scan for records it lacks. */
    char id[64];
    if (sl_req_name_ok(id_or_name) && sl_ctl_name_lookup(ctl, b, id_or_name, id, sizeof id) == 0 &&
        sl_kv_get(ctl->store, b, id, rec, rev, &err) == 0) {
        if (strcmp(json_string_value(json_object_get(*rec, "name")), id_or_name) == 0)
            return 0;
        json_decref(*rec);
    }
    json_t *all;
    if (sl_kv_list(ctl->store, b, &all, &err))
        return sl_ctl_err(e, 500, "internal", &err);
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "name")), id_or_name) == 0) {
            const char *rid = json_string_value(json_object_get(r, "id"));
            int rc = sl_kv_get(ctl->store, b, rid, rec, rev, &err);
            json_decref(all);
            return rc ? sl_ctl_err(e, 500, "internal", &err) : 0;
        }
    }
    json_decref(all);
    return sl_api_err_set(e, 404, "not_found", "%s \"%.100s\" does not exist",
                          b == SL_BUCKET_CONNECTIONS ? "connection" : "stream", id_or_name);
}

int sl_ctl_conn_find(sl_ctl_t *ctl, const char *id_or_name, json_t **rec, uint64_t *rev,
                     sl_api_err_t *e)
{
    return sl_ctl_find(ctl, SL_BUCKET_CONNECTIONS, id_or_name, rec, rev, e);
}

json_t *sl_ctl_unseal(sl_ctl_t *ctl, const json_t *rec, const char *field, const char *what, sl_api_err_t *e)
{
    sl_err_t err = {0};
    const char *sealed = json_string_value(json_object_get(rec, field));
    char *plain = sealed ? sl_secret_open(&ctl->o.key, sealed, NULL, &err) : NULL;
    if (!plain) {
        if (!sealed)
            sl_err_set(&err, SL_E_PROTOCOL, "a record has no sealed %s", what);
        sl_ctl_err(e, 500, "internal", &err);
        return NULL;
    }
    json_t *j = json_loads(plain, 0, NULL);
    sl_secret_free(plain);
    if (!json_is_object(j)) {
        json_decref(j);
        sl_api_err_set(e, 500, "internal", "a record's sealed %s is damaged", what);
        return NULL;
    }
    return j;
}

json_t *sl_ctl_conn_secrets(sl_ctl_t *ctl, const json_t *rec, sl_api_err_t *e)
{
    return sl_ctl_unseal(ctl, rec, "sealed", "connection secrets", e);
}

int sl_ctl_conn_list(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    (void)req;
    json_t *all, *out = json_array();
    sl_err_t err = {0};
    if (sl_kv_list(ctl->store, SL_BUCKET_CONNECTIONS, &all, &err)) {
        json_decref(out);
        return sl_ctl_err(e, 500, "internal", &err);
    }
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r) json_array_append_new(out, conn_public(r));
    json_decref(all);
    resp->body = json_pack("{s:o}", "connections", out);
    return 0;
}

/* The secret old (may be NULL) kept for a PUT that sent it back as "****" (given): only
 * while the URL names the same endpoint, else 400 secret_required (issue: a PUT that moves
 * a connection must not carry its stored password to a server of the caller's choosing). */
static int keep_secret(const char *given, const char *old, bool same, const char *what, const char **out,
                       sl_api_err_t *e)
{
    *out = given;
    if (!given || strcmp(given, SL_SECRET_MASK))
        return 0;
    if (old && *old && !same) {
        sl_api_err_set(e, 400, "secret_required", "the URL changed, so the stored %s is not kept", what);
        snprintf(e->detail, sizeof e->detail,
                 "a secret sent back as \"****\" is kept only while the URL (scheme, user, host, port, "
                 "database or path, parameters) stays the same");
        snprintf(e->hint, sizeof e->hint, "send the %s again with the new URL", what);
        return -1;
    }
    *out = old;
    return 0;
}

/* Builds the record from a validated body; old: the record it replaces (PUT), whose
 * secrets a "****" keeps while the endpoint stays. */
static json_t *conn_record(sl_ctl_t *ctl, const json_t *body, const char *id, const json_t *old,
                           sl_api_err_t *e)
{
    json_t *oldsec = old ? sl_ctl_conn_secrets(ctl, old, e) : NULL;
    if (old && !oldsec)
        return NULL;
    const char *url = json_string_value(json_object_get(body, "url"));
    const char *pw = json_string_value(json_object_get(body, "password"));
    const char *sk = json_string_value(json_object_get(body, "secret_access_key"));
    const char *oldurl = oldsec ? json_string_value(json_object_get(oldsec, "url")) : NULL;
    bool same = oldurl && sl_url_same_endpoint(url, oldurl);
    char *url_pw = sl_secret_url_password(url), *oldpw = oldurl ? sl_secret_url_password(oldurl) : NULL;
    char *full = NULL;
    const char *kept_pw;
    int rc = keep_secret(url_pw, oldpw, same, "password", &kept_pw, e);
    if (rc == 0 && url_pw && kept_pw != url_pw)
        full = sl_url_with_password(url, kept_pw ? kept_pw : ""); /* the stored one */
    else if (rc == 0)
        full = sl_strdup(url);
    if (rc == 0)
        rc = keep_secret(pw, oldsec ? json_string_value(json_object_get(oldsec, "password")) : NULL, same,
                         "password", &pw, e);
    if (rc == 0)
        rc = keep_secret(sk, oldsec ? json_string_value(json_object_get(oldsec, "secret_access_key")) : NULL,
                         same, "secret_access_key", &sk, e);
    sl_secret_free(url_pw);
    sl_secret_free(oldpw);
    if (rc) {
        free(full);
        json_decref(oldsec);
        return NULL;
    }
    json_t *sec = json_pack("{s:s}", "url", full);
    sl_secret_free(full);
    if (pw)
        json_object_set_new(sec, "password", json_string(pw));
    if (sk)
        json_object_set_new(sec, "secret_access_key", json_string(sk));
    char *plain = json_dumps(sec, JSON_COMPACT);
    char *sealed = sl_secret_seal(&ctl->o.key, plain, strlen(plain));
    sodium_memzero(plain, strlen(plain));
    free(plain);
    char *masked = sl_url_mask(json_string_value(json_object_get(sec, "url")));
    char now[32];
    sl_ctl_now(now);
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:s, s:s, s:s}", "id", id, "name",
                            json_string_value(json_object_get(body, "name")), "kind",
                            sl_req_url_kind(url), "url", masked, "has_password", pw != NULL,
                            "has_secret_key", sk != NULL, "sealed", sealed, "created_at",
                            old ? json_string_value(json_object_get(old, "created_at")) : now,
                            "updated_at", now);
    const json_t *ak = json_object_get(body, "access_key_id");
    if (ak)
        json_object_set(rec, "access_key_id", (json_t *)ak);
    free(masked);
    free(sealed);
    json_decref(sec);
    json_decref(oldsec);
    return rec;
}

int sl_ctl_conn_create(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    if (!req->body)
        return sl_api_err_set(e, 400, "bad_json", "a connection needs a JSON body");
    if (sl_req_connection(req->body, e))
        return -1;
    const char *name = json_string_value(json_object_get(req->body, "name"));
    char id[20];
    sl_ctl_new_id('c', id);
    json_t *rec = conn_record(ctl, req->body, id, NULL, e);
    if (!rec || sl_ctl_name_claim(ctl, SL_BUCKET_CONNECTIONS, name, id, e)) {
        json_decref(rec);
        return -1;
    }
    sl_err_t err = {0};
    if (sl_kv_create(ctl->store, SL_BUCKET_CONNECTIONS, id, rec, &err)) {
        sl_ctl_name_release(ctl, SL_BUCKET_CONNECTIONS, name, id);
        json_decref(rec);
        return sl_ctl_err(e, 500, "internal", &err);
    }
    resp->status = 201;
    resp->body = conn_public(rec);
    json_decref(rec);
    return 0;
}

int sl_ctl_conn_get(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    json_t *rec;
    if (sl_ctl_conn_find(ctl, req->m->id, &rec, NULL, e))
        return -1;
    resp->body = conn_public(rec);
    json_decref(rec);
    return 0;
}

int sl_ctl_conn_put(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    if (!req->body)
        return sl_api_err_set(e, 400, "bad_json", "a connection needs a JSON body");
    json_t *old;
    uint64_t rev;
    if (sl_req_connection(req->body, e) || sl_ctl_conn_find(ctl, req->m->id, &old, &rev, e))
        return -1;
    json_t *rec = conn_record(ctl, req->body, json_string_value(json_object_get(old, "id")), old, e);
    int rc = rec ? sl_ctl_rename(ctl, SL_BUCKET_CONNECTIONS, old, rec, &rev, e) : -1;
    json_decref(old);
    if (rc == 0)
        resp->body = conn_public(rec);
    json_decref(rec);
    return rc;
}

int sl_ctl_conn_delete(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    json_t *rec, *streams;
    if (sl_ctl_conn_find(ctl, req->m->id, &rec, NULL, e))
        return -1;
    const char *id = json_string_value(json_object_get(rec, "id"));
    const char *name = json_string_value(json_object_get(rec, "name"));
    sl_err_t err = {0};
    if (sl_kv_list(ctl->store, SL_BUCKET_STREAMS, &streams, &err)) {
        json_decref(rec);
        return sl_ctl_err(e, 500, "internal", &err);
    }
    size_t i;
    json_t *s;
    int rc = 0;
    json_array_foreach(streams, i, s)
    {
        for (int side = 0; side < 2 && !rc; side++) {
            const char *c = json_string_value(json_object_get(
                json_object_get(json_object_get(s, "spec"), side ? "target" : "source"), "connection"));
            if (c && (strcmp(c, id) == 0 || strcmp(c, name) == 0)) {
                rc = sl_api_err_set(e, 409, "in_use", "connection \"%s\" is used by stream \"%s\"", name,
                                    json_string_value(json_object_get(s, "name")));
                snprintf(e->hint, sizeof e->hint, "delete the stream or point it at another connection first");
            }
        }
    }
    json_decref(streams);
    if (!rc && sl_kv_delete(ctl->store, SL_BUCKET_CONNECTIONS, id, &err))
        rc = sl_ctl_err(e, 500, "internal", &err);
    if (!rc)
        sl_ctl_name_release(ctl, SL_BUCKET_CONNECTIONS, name, id);
    json_decref(rec);
    if (!rc)
        resp->status = 204;
    return rc;
}

/* ---- test and tables ----------------------------------------------------------- */

/* The URL with the password to connect with (caller frees). */
static char *conn_url(const json_t *sec)
{
    const char *url = json_string_value(json_object_get(sec, "url"));
    const char *pw = json_string_value(json_object_get(sec, "password"));
    char *u = pw ? sl_url_with_password(url, pw) : NULL;
    return u ? u : sl_strdup(url);
}

/* The secrets of a connection (password, secret key, the URL's password), for
 * scrubbing messages: a NULL-terminated list the caller frees with sl_secret_list_free(). */
static char **conn_secret_list(const json_t *sec)
{
    char **out = calloc(4, sizeof *out);
    if (!out)
        sl_oom();
    int k = 0;
    const char *pw = json_string_value(json_object_get(sec, "password"));
    const char *sk = json_string_value(json_object_get(sec, "secret_access_key"));
    if (pw)
        out[k++] = sl_strdup(pw);
    if (sk)
        out[k++] = sl_strdup(sk);
    if ((out[k] = sl_secret_url_password(json_string_value(json_object_get(sec, "url")))))
        k++;
    return out;
}

static void add_check(json_t *checks, const char *name, bool ok, const char *message,
                      const char *hint, const char *const *secrets)
{
    char *m = sl_secret_scrub(message, secrets);
    json_t *c = json_pack("{s:s, s:b, s:s}", "name", name, "ok", ok, "message", m);
    free(m);
    if (hint && *hint) {
        char *h = sl_secret_scrub(hint, secrets);
        json_object_set_new(c, "hint", json_string(h));
        free(h);
    }
    json_array_append_new(checks, c);
}

/* Reports the CDC checks of source.h/cdc.h `check`: it stops at the first failure,
 * so the checks before the failed one passed and the ones after it were not run. */
static void cdc_checks(json_t *checks, const char *kind, int rc, const sl_err_t *err,
                       bool opened, const char *const *secrets)
{
    static const char *const pg[][2] = {{"wal_level", "wal_level"},
                                        {"replication_privilege", "REPLICATION privilege"},
                                        {"max_replication_slots", "replication slot"},
                                        {"max_wal_senders", "WAL sender"},
                                        {NULL, NULL}};
    static const char *const my[][2] = {{"log_bin", "log_bin"},
                                        {"binlog_format", "binlog_format"},
                                        {"binlog_row_image", "binlog_row_image"},
                                        {"binlog_row_metadata", "binlog_row_metadata"},
                                        {"replication_privileges", "privilege"},
                                        {NULL, NULL}};
    const char *const(*list)[2] = strcmp(kind, "postgres") == 0 ? pg : my;
    int failed = -1;
    for (int i = 0; rc && list[i][0] && failed < 0; i++)
        if (strstr(err->message, list[i][1]) ||
            (err->code == SL_E_PRIVILEGE && strstr(list[i][0], "privilege")))
            failed = i;
    if (rc && !opened) {
        /* The replication connection itself was refused: only what that says is known. */
        add_check(checks, failed >= 0 ? list[failed][0] : "replication_connection", false,
                  err->message, err->hint, secrets);
        return;
    }
    for (int i = 0; list[i][0]; i++) {
        if (rc && failed >= 0 && i > failed)
            break;
        if (rc && i == failed)
            add_check(checks, list[i][0], false, err->message, err->hint, secrets);
        else
            add_check(checks, list[i][0], true, "ok", NULL, secrets);
    }
    if (rc && failed < 0)
        add_check(checks, "cdc", false, err->message, err->hint, secrets);
}

int sl_ctl_conn_test(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    if (req->body && sl_req_conn_test(req->body, e))
        return -1;
    const char *mode = req->body ? json_string_value(json_object_get(req->body, "mode")) : NULL;
    const char *role = req->body ? json_string_value(json_object_get(req->body, "role")) : NULL;
    bool cdc = mode && strcmp(mode, "cdc") == 0, target = role && strcmp(role, "target") == 0;
    json_t *rec, *sec;
    if (sl_ctl_conn_find(ctl, req->m->id, &rec, NULL, e))
        return -1;
    if (!(sec = sl_ctl_conn_secrets(ctl, rec, e))) {
        json_decref(rec);
        return -1;
    }
    const char *kind = json_string_value(json_object_get(rec, "kind"));
    char **sv = conn_secret_list(sec);
    const char *const *secrets = (const char *const *)sv;
    char *url = conn_url(sec);
    json_t *checks = json_array();
    sl_err_t err = {0};
    if (strcmp(kind, "postgres") && strcmp(kind, "mysql")) {
        add_check(checks, "connect", true, "file and S3 connections are checked when a stream writes",
                  NULL, secrets);
    } else if (target) {
        sl_target_t *tgt = NULL;
        int rc = sl_target_open(url, &tgt, &err);
        if (rc && json_object_get(sec, "password")) /* a refused login names the connection's own field */
            sl_url_hint_password(&err, "the connection's \"password\"");
        add_check(checks, "connect", rc == 0, rc ? err.message : "connected", rc ? err.hint : NULL, secrets);
        sl_target_close(tgt);
    } else {
        sl_source_t *src = NULL;
        int rc = sl_source_open(url, &src, &err);
        if (rc && json_object_get(sec, "password"))
            sl_url_hint_password(&err, "the connection's \"password\"");
        add_check(checks, "connect", rc == 0, rc ? err.message : "connected", rc ? err.hint : NULL, secrets);
        sl_source_close(src);
        if (rc == 0 && cdc) {
            sl_cdc_t *c = NULL;
            rc = sl_cdc_open(url, &(sl_cdc_id_t){.stream = "connection_test"}, &c, &err);
            bool opened = rc == 0;
            if (opened)
                rc = c->ops->check(c, NULL, 0, &err);
            cdc_checks(checks, kind, rc, &err, opened, secrets);
            sl_cdc_close(c);
        }
    }
    bool ok = true;
    size_t i;
    json_t *c;
    json_array_foreach(checks, i, c) ok = ok && json_is_true(json_object_get(c, "ok"));
    resp->body = json_pack("{s:b, s:o}", "ok", ok, "checks", checks);
    sl_secret_list_free(sv);
    sl_secret_free(url);
    json_decref(sec);
    json_decref(rec);
    return 0;
}

int sl_ctl_conn_tables(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    json_t *rec, *sec;
    if (sl_ctl_conn_find(ctl, req->m->id, &rec, NULL, e))
        return -1;
    const char *kind = json_string_value(json_object_get(rec, "kind"));
    if (strcmp(kind, "postgres") && strcmp(kind, "mysql")) {
        sl_api_err_set(e, 400, "invalid_field", "connection \"%s\" is not a database",
                       json_string_value(json_object_get(rec, "name")));
        json_decref(rec);
        return -1;
    }
    if (!(sec = sl_ctl_conn_secrets(ctl, rec, e))) {
        json_decref(rec);
        return -1;
    }
    char **sv = conn_secret_list(sec);
    char *url = conn_url(sec);
    sl_err_t err = {0};
    sl_source_t *src = NULL;
    char **names = NULL;
    int n = 0, rc = sl_source_open(url, &src, &err) || src->ops->list_tables(src, &names, &n, &err);
    json_t *tables = json_array();
    for (int i = 0; i < n && !rc; i++) {
        sl_table_t *t = NULL;
        if (src->ops->describe(src, names[i], &t, &err)) {
            rc = -1;
            break;
        }
        json_t *row = json_pack("{s:s?, s:s, s:I, s:b}", "schema", t->schema, "name", t->name,
                                "est_rows", (json_int_t)t->est_rows, "has_primary_key",
                                sl_table_pk_count(t) > 0);
        if (t->est_rows < 0)
            json_object_set_new(row, "est_rows", json_null());
        json_array_append_new(tables, row);
        sl_table_free(t);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    sl_source_close(src);
    sl_secret_free(url);
    if (rc) {
        char *m = sl_secret_scrub(err.message, (const char *const *)sv);
        snprintf(err.message, sizeof err.message, "%s", m);
        free(m);
        sl_ctl_err(e, 500, "internal", &err);
        json_decref(tables);
    } else {
        resp->body = json_pack("{s:o}", "tables", tables);
    }
    sl_secret_list_free(sv);
    json_decref(sec);
    json_decref(rec);
    return rc ? -1 : 0;
}
