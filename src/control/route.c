/*
 * route.c: the route table, routing, request validation and the OpenAPI document (see
 * route.h). Pure: no I/O.
 */
#include "control/route.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hex.h"
#include "core/url.h"
#include "engine/options.h"

#define CONN "/api/v1/connections"
#define STRM "/api/v1/streams"
/* The access column: which key a route needs. Everything that changes state (POST, PUT,
 * DELETE, and actions such as start or test) needs admin; a unit test holds every route
 * that is not a GET to R_ADMIN. */
#define R_OPEN SL_ACCESS_OPEN
#define R_READ SL_ACCESS_READ
#define R_ADMIN SL_ACCESS_ADMIN

static const sl_route_t routes[SL_R_COUNT] = {
    {SL_R_HEALTHZ, "GET", "/healthz", R_OPEN, NULL, 200, "liveness check", NULL},
    {SL_R_METRICS, "GET", "/metrics", R_READ, NULL, 200, "Prometheus metrics (text 0.0.4)", NULL},
    {SL_R_OPENAPI, "GET", "/api/v1/openapi.json", R_READ, NULL, 200, "this document", NULL},
    {SL_R_CONN_LIST, "GET", CONN, R_READ, NULL, 200, "list connections", NULL},
    {SL_R_CONN_CREATE, "POST", CONN, R_ADMIN, "ConnectionInput", 201, "create a connection", NULL},
    {SL_R_CONN_GET, "GET", CONN "/{id}", R_READ, NULL, 200, "show a connection", NULL},
    {SL_R_CONN_PUT, "PUT", CONN "/{id}", R_ADMIN, "ConnectionInput", 200, "replace a connection", NULL},
    {SL_R_CONN_DELETE, "DELETE", CONN "/{id}", R_ADMIN, NULL, 204, "delete a connection", NULL},
    {SL_R_CONN_TEST, "POST", CONN "/{id}/test", R_ADMIN, "TestInput", 200,
     "connect and check what a mode needs", NULL},
    {SL_R_CONN_TABLES, "GET", CONN "/{id}/tables", R_READ, NULL, 200,
     "tables with row estimates", NULL},
    {SL_R_STREAM_LIST, "GET", STRM, R_READ, NULL, 200, "list streams", NULL},
    {SL_R_STREAM_CREATE, "POST", STRM, R_ADMIN, "StreamSpec", 201, "create a stream", "start"},
    {SL_R_STREAM_GET, "GET", STRM "/{id}", R_READ, NULL, 200, "show a stream", NULL},
    {SL_R_STREAM_PUT, "PUT", STRM "/{id}", R_ADMIN, "StreamSpec", 200, "replace a stream's spec", NULL},
    {SL_R_STREAM_DELETE, "DELETE", STRM "/{id}", R_ADMIN, NULL, 204, "delete a stream", "drop_slot"},
    {SL_R_STREAM_START, "POST", STRM "/{id}/start", R_ADMIN, NULL, 200, "start a stream", NULL},
    {SL_R_STREAM_PAUSE, "POST", STRM "/{id}/pause", R_ADMIN, NULL, 200, "pause a running stream", NULL},
    {SL_R_STREAM_RESUME, "POST", STRM "/{id}/resume", R_ADMIN, NULL, 200, "resume a paused stream", NULL},
    {SL_R_STREAM_STOP, "POST", STRM "/{id}/stop", R_ADMIN, NULL, 200, "stop a stream", NULL},
    {SL_R_STREAM_STATS, "GET", STRM "/{id}/stats", R_READ, NULL, 200, "live statistics", NULL},
    {SL_R_STREAM_EVENTS, "GET", STRM "/{id}/events", R_READ, NULL, 200,
     "server-sent events: state, stats, log, error", NULL},
    {SL_R_STREAM_LOGS, "GET", STRM "/{id}/logs", R_READ, NULL, 200, "recent log lines", "limit"},
    {SL_R_OPTIONS, "GET", "/api/v1/options", R_READ, NULL, 200,
     "the spec's options and the URL parameters, with types, defaults and bounds", NULL},
    {SL_R_STREAM_VERIFY_START, "POST", STRM "/{id}/verify", R_ADMIN, NULL, 202,
     "start a verify job: row counts and checksums per table, source against target", NULL},
    {SL_R_STREAM_VERIFY_GET, "GET", STRM "/{id}/verify", R_READ, NULL, 200, "the last verify job and its report",
     NULL},
    {SL_R_WHOAMI, "GET", "/api/v1/whoami", R_READ, NULL, 200, "the name and role of the key sent", NULL},
    {SL_R_STREAM_TABLES_ADD, "POST", STRM "/{id}/tables", R_ADMIN, "TablesInput", 200,
     "add tables to a cdc stream: each is copied while the others stream", NULL},
    {SL_R_STREAM_TABLE_DELETE, "DELETE", STRM "/{id}/tables/{table}", R_ADMIN, NULL, 200,
     "remove a table from a cdc stream (its target table is kept, or dropped)", "drop"},
    {SL_R_STREAM_TABLE_RESYNC, "POST", STRM "/{id}/tables/{table}/resync", R_ADMIN, NULL, 200,
     "copy one table of a cdc stream again while the others stream", NULL},
    {SL_R_CHECK, "POST", "/api/v1/check", R_ADMIN, "StreamSpec", 200,
     "what a spec would do, writing nothing: per table the target DDL after the mapping, its decisions and "
     "risks (with scan: each value the target would refuse, and the cast that carries it)",
     "scan"},
};

const sl_route_t *sl_route_table(void) { return routes; }

int sl_api_err_set(sl_api_err_t *e, int status, const char *code, const char *fmt, ...)
{
    e->status = status;
    snprintf(e->code, sizeof e->code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    e->detail[0] = e->hint[0] = '\0';
    return -1;
}

const char *sl_role_name(sl_role_t role)
{
    return role == SL_ROLE_ADMIN ? "admin" : role == SL_ROLE_READ ? "read" : NULL;
}

sl_role_t sl_role_parse(const char *s)
{
    if (s && !strcmp(s, "admin"))
        return SL_ROLE_ADMIN;
    if (s && !strcmp(s, "read"))
        return SL_ROLE_READ;
    return SL_ROLE_NONE;
}

int sl_route_authorize(const sl_route_t *r, sl_role_t role, bool key_sent, sl_api_err_t *e)
{
    if (r->access == SL_ACCESS_OPEN || role == SL_ROLE_ADMIN ||
        (role == SL_ROLE_READ && r->access == SL_ACCESS_READ))
        return 0;
    if (role == SL_ROLE_NONE) {
        sl_api_err_set(e, 401, "unauthorized", key_sent ? "wrong API key" : "no API key");
        snprintf(e->hint, sizeof e->hint, "send Authorization: Bearer <key>: the key `sluice server` printed "
                                          "(SLUICE_API_KEY, --api-key-file) or one made by `sluice key add`");
        return -1;
    }
    sl_api_err_set(e, 403, "forbidden", "this API key is read-only: %s %s needs an admin key", r->method,
                   r->pattern);
    snprintf(e->hint, sizeof e->hint, "use an admin key (`sluice key add NAME --role admin` makes one)");
    return -1;
}

/* Matches one pattern against path; fills m->id and m->table. */
static bool match_one(const char *pat, const char *path, sl_route_match_t *m)
{
    m->id[0] = m->table[0] = '\0';
    while (*pat && *path) {
        bool id = strncmp(pat, "{id}", 4) == 0, table = strncmp(pat, "{table}", 7) == 0;
        if (id || table) {
            char *out = id ? m->id : m->table;
            size_t cap = id ? sizeof m->id : sizeof m->table;
            size_t n = strcspn(path, "/");
            if (n == 0)
                return false;
            size_t o = 0;
            for (size_t i = 0; i < n; i++) {
                char c = path[i];
                if (c == '%' && i + 2 < n + 1 && sl_hex_value(path[i + 1]) >= 0 && sl_hex_value(path[i + 2]) >= 0) {
                    c = (char)(sl_hex_value(path[i + 1]) * 16 + sl_hex_value(path[i + 2]));
                    i += 2;
                }
                if (c == '\0' || o + 1 >= cap)
                    return false;
                out[o++] = c;
            }
            out[o] = '\0';
            pat += id ? 4 : 7;
            path += n;
            continue;
        }
        if (*pat != *path)
            return false;
        pat++;
        path++;
    }
    /* A trailing slash is accepted: "/api/v1/streams/" is the list. */
    if (*path == '/' && path[1] == '\0')
        path++;
    return *pat == '\0' && *path == '\0';
}

sl_match_result_t sl_route_match(const char *method, const char *path, sl_route_match_t *m)
{
    bool path_known = false;
    for (int i = 0; i < SL_R_COUNT; i++) {
        if (!match_one(routes[i].pattern, path, m))
            continue;
        path_known = true;
        if (strcmp(routes[i].method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
            m->route = &routes[i];
            return SL_MATCH_OK;
        }
    }
    m->route = NULL;
    m->id[0] = m->table[0] = '\0';
    return path_known ? SL_MATCH_BAD_METHOD : SL_MATCH_NOT_FOUND;
}

int sl_req_json_object(const char *body, size_t len, json_t **out, sl_api_err_t *e)
{
    json_error_t je;
    json_t *j = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        sl_api_err_set(e, 400, "bad_json", "malformed JSON body: %s at line %d, column %d", je.text,
                       je.line, je.column);
        snprintf(e->hint, sizeof e->hint, "send one JSON object with Content-Type: application/json");
        return -1;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        sl_api_err_set(e, 400, "bad_json", "the body must be a JSON object");
        return -1;
    }
    *out = j;
    return 0;
}

int sl_req_known_fields(const json_t *obj, const char *where, const char *const *allowed,
                        sl_api_err_t *e)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        bool ok = false;
        for (int i = 0; allowed[i] && !ok; i++)
            ok = strcmp(k, allowed[i]) == 0;
        if (ok)
            continue;
        sl_api_err_set(e, 400, "unknown_field", "unknown field \"%.100s\" in %s", k, where);
        size_t n = (size_t)snprintf(e->hint, sizeof e->hint, "fields allowed in %s:", where);
        for (int i = 0; allowed[i] && n < sizeof e->hint; i++)
            n += (size_t)snprintf(e->hint + n, sizeof e->hint - n, "%s %s", i ? "," : "", allowed[i]);
        return -1;
    }
    return 0;
}

bool sl_req_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || !strchr("_.-", c)))
            return false;
    }
    return true;
}

const char *sl_req_url_kind(const char *url)
{
    static const struct {
        const char *scheme, *kind;
    } kinds[] = {{"postgres", "postgres"}, {"postgresql", "postgres"}, {"mysql", "mysql"},
                 {"mariadb", "mysql"},     {"file", "file"},           {"s3", "s3"}};
    sl_url_t *u;
    sl_err_t err;
    if (sl_url_parse(url, &u, &err))
        return NULL;
    const char *kind = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(u->scheme, kinds[i].scheme) == 0)
            kind = kinds[i].kind;
    sl_url_free(u);
    return kind;
}

static int want_string(const json_t *obj, const char *field, bool required, sl_api_err_t *e)
{
    const json_t *v = json_object_get(obj, field);
    if (!v && !required)
        return 0;
    if (!json_is_string(v))
        return sl_api_err_set(e, 400, "invalid_field", "\"%s\" %s", field,
                              v ? "must be a string" : "is required");
    return 0;
}

int sl_req_connection(const json_t *obj, sl_api_err_t *e)
{
    static const char *const keys[] = {"name", "url", "password", "access_key_id",
                                       "secret_access_key", NULL};
    if (sl_req_known_fields(obj, "a connection", keys, e) || want_string(obj, "name", true, e) ||
        want_string(obj, "url", true, e) || want_string(obj, "password", false, e) ||
        want_string(obj, "access_key_id", false, e) || want_string(obj, "secret_access_key", false, e))
        return -1;
    const char *name = json_string_value(json_object_get(obj, "name"));
    if (!sl_req_name_ok(name)) {
        sl_api_err_set(e, 400, "invalid_field", "invalid connection name \"%.100s\"", name);
        snprintf(e->hint, sizeof e->hint,
                 "1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit");
        return -1;
    }
    const char *url = json_string_value(json_object_get(obj, "url"));
    sl_url_t *u;
    sl_err_t err;
    if (sl_url_parse(url, &u, &err)) {
        sl_api_err_set(e, 400, "invalid_field", "invalid url: %s", err.message);
        snprintf(e->hint, sizeof e->hint, "%s",
                 err.hint[0] ? err.hint : "e.g. postgres://user@host:5432/db or mysql://user@host:3306/db");
        return -1;
    }
    sl_url_free(u);
    if (!sl_req_url_kind(url)) {
        sl_api_err_set(e, 400, "invalid_field", "invalid url: unsupported scheme");
        snprintf(e->hint, sizeof e->hint, "URLs start with postgres://, mysql://, mariadb://, file:// or s3://");
        return -1;
    }
    return 0;
}

int sl_req_tables(const json_t *obj, sl_api_err_t *e)
{
    static const char *const keys[] = {"tables", NULL};
    if (sl_req_known_fields(obj, "the tables to add", keys, e))
        return -1;
    const json_t *t = json_object_get(obj, "tables");
    if (!json_is_array(t) || json_array_size(t) == 0)
        return sl_api_err_set(e, 400, "invalid_field", "\"tables\" must be a non-empty array of tables");
    size_t i;
    const json_t *v;
    json_array_foreach(t, i, v)
    {
        const char *s = json_string_value(v);
        if (!(s && s[0] && strcmp(s, "*")) && !json_is_object(v))
            return sl_api_err_set(e, 400, "invalid_field",
                                  "\"tables\"[%zu] must name a table, as an entry of source.tables", i);
    }
    return 0;
}

int sl_req_conn_test(const json_t *obj, sl_api_err_t *e)
{
    static const char *const keys[] = {"mode", "role", NULL};
    if (sl_req_known_fields(obj, "a connection test", keys, e) || want_string(obj, "mode", false, e) ||
        want_string(obj, "role", false, e))
        return -1;
    const char *mode = json_string_value(json_object_get(obj, "mode"));
    const char *role = json_string_value(json_object_get(obj, "role"));
    if (mode && strcmp(mode, "load") && strcmp(mode, "cdc"))
        return sl_api_err_set(e, 400, "invalid_field", "\"mode\" is \"load\" or \"cdc\"");
    if (role && strcmp(role, "source") && strcmp(role, "target"))
        return sl_api_err_set(e, 400, "invalid_field", "\"role\" is \"source\" or \"target\"");
    return 0;
}

int sl_req_stream(const json_t *obj, sl_api_err_t *e)
{
    static const char *const top[] = {"name", "mode", "source", "target", "options", NULL};
    static const char *const src[] = {"url", "password", "tables", "connection", NULL};
    static const char *const tgt[] = {"url", "password", "connection", NULL};
    if (sl_req_known_fields(obj, "the spec", top, e) || want_string(obj, "name", true, e))
        return -1;
    const char *name = json_string_value(json_object_get(obj, "name"));
    if (!sl_req_name_ok(name) || strchr(name, '.')) {
        sl_api_err_set(e, 400, "invalid_field", "invalid stream name \"%.100s\"", name);
        snprintf(e->hint, sizeof e->hint,
                 "1 to 63 letters, digits, '_' or '-', starting with a letter or digit");
        return -1;
    }
    for (int side = 0; side < 2; side++) {
        const char *where = side ? "target" : "source";
        const json_t *ep = json_object_get(obj, where);
        if (!json_is_object(ep))
            return sl_api_err_set(e, 400, "invalid_field",
                                  "\"%s\" must be an object with a \"url\" or a \"connection\"", where);
        if (sl_req_known_fields(ep, where, side ? tgt : src, e) || want_string(ep, "url", false, e) ||
            want_string(ep, "connection", false, e) || want_string(ep, "password", false, e))
            return -1;
        bool has_url = json_object_get(ep, "url"), has_conn = json_object_get(ep, "connection");
        if (has_url == has_conn)
            return sl_api_err_set(e, 400, "invalid_field", "\"%s\" needs exactly one of \"url\" and "
                                  "\"connection\"", where);
        if (has_conn && json_object_get(ep, "password"))
            return sl_api_err_set(e, 400, "invalid_field", "\"%s\".password goes with \"url\"; a "
                                  "connection has its own", where);
        if (has_url) {
            const char *url = json_string_value(json_object_get(ep, "url"));
            sl_url_t *u;
            sl_err_t err;
            if (sl_url_parse(url, &u, &err))
                return sl_api_err_set(e, 400, "invalid_field", "invalid %s url: %s", where, err.message);
            sl_url_free(u);
        }
    }
    return 0;
}

int sl_req_bool(const char *v, bool dflt, bool *out, const char *what, sl_api_err_t *e)
{
    if (!v)
        *out = dflt;
    else if (!strcmp(v, "true") || !strcmp(v, "1") || !*v)
        *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "0"))
        *out = false;
    else
        return sl_api_err_set(e, 400, "invalid_field", "query parameter \"%s\" must be true or false", what);
    return 0;
}

int sl_req_int(const char *v, int dflt, int lo, int hi, int *out, const char *what, sl_api_err_t *e)
{
    if (!v) {
        *out = dflt;
        return 0;
    }
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < lo || n > hi)
        return sl_api_err_set(e, 400, "invalid_field",
                              "query parameter \"%s\" must be an integer from %d to %d", what, lo, hi);
    *out = (int)n;
    return 0;
}

/* ---- OpenAPI ------------------------------------------------------------------ */

static json_t *schemas(void)
{
    static const char text[] =
        "{\"Error\": {\"type\": \"object\", \"properties\": {\"error\": {\"type\": \"object\","
        "  \"required\": [\"code\", \"message\"], \"properties\": {\"code\": {\"type\": \"string\"},"
        "  \"message\": {\"type\": \"string\"}, \"detail\": {\"type\": \"string\"},"
        "  \"hint\": {\"type\": \"string\"}}}}},"
        " \"ConnectionInput\": {\"type\": \"object\", \"required\": [\"name\", \"url\"],"
        "  \"additionalProperties\": false, \"properties\": {\"name\": {\"type\": \"string\"},"
        "  \"url\": {\"type\": \"string\"}, \"password\": {\"type\": \"string\"},"
        "  \"access_key_id\": {\"type\": \"string\"}, \"secret_access_key\": {\"type\": \"string\"}}},"
        " \"TestInput\": {\"type\": \"object\", \"additionalProperties\": false, \"properties\": {"
        "  \"mode\": {\"type\": \"string\", \"enum\": [\"load\", \"cdc\"]},"
        "  \"role\": {\"type\": \"string\", \"enum\": [\"source\", \"target\"]}}},"
        " \"StreamSpec\": {\"type\": \"object\", \"required\": [\"name\", \"source\", \"target\"],"
        "  \"additionalProperties\": false, \"properties\": {\"name\": {\"type\": \"string\"},"
        "  \"mode\": {\"type\": \"string\", \"enum\": [\"load\", \"cdc\"]},"
        "  \"source\": {\"type\": \"object\"}, \"target\": {\"type\": \"object\"},"
        "  \"options\": {\"type\": \"object\"}}},"
        " \"TablesInput\": {\"type\": \"object\", \"required\": [\"tables\"],"
        "  \"additionalProperties\": false, \"properties\": {\"tables\": {\"type\": \"array\","
        "  \"minItems\": 1, \"items\": {}}}},"
        " \"Any\": {\"type\": \"object\"}}";
    json_t *s = json_loads(text, 0, NULL);
    /* "options" from the property table that parses it (engine/options.c) */
    json_object_set_new(json_object_get(json_object_get(s, "StreamSpec"), "properties"), "options",
                        sl_options_schema());
    return s;
}

json_t *sl_route_openapi(const char *version)
{
    json_t *paths = json_object();
    for (int i = 0; i < SL_R_COUNT; i++) {
        const sl_route_t *r = &routes[i];
        json_t *item = json_object_get(paths, r->pattern);
        if (!item) {
            item = json_object();
            json_object_set_new(paths, r->pattern, item);
        }
        char method[8];
        size_t k;
        for (k = 0; r->method[k] && k < sizeof method - 1; k++)
            method[k] = (char)(r->method[k] | 0x20);
        method[k] = '\0';
        json_t *op = json_pack("{s:s, s:s}", "summary", r->summary, "operationId", method);
        char opid[96];
        snprintf(opid, sizeof opid, "route%d", (int)r->id);
        json_object_set_new(op, "operationId", json_string(opid));
        json_t *params = json_array();
        if (strstr(r->pattern, "{id}"))
            json_array_append_new(params, json_pack("{s:s, s:s, s:b, s:{s:s}}", "name", "id", "in",
                                                    "path", "required", 1, "schema", "type", "string"));
        if (strstr(r->pattern, "{table}"))
            json_array_append_new(params, json_pack("{s:s, s:s, s:b, s:{s:s}}", "name", "table", "in",
                                                    "path", "required", 1, "schema", "type", "string"));
        if (r->query)
            json_array_append_new(params, json_pack("{s:s, s:s, s:b, s:{s:s}}", "name", r->query,
                                                    "in", "query", "required", 0, "schema", "type",
                                                    strcmp(r->query, "limit") ? "boolean" : "integer"));
        json_object_set_new(op, "parameters", params);
        if (r->body) {
            char ref[96];
            snprintf(ref, sizeof ref, "#/components/schemas/%s", r->body);
            json_object_set_new(op, "requestBody",
                                json_pack("{s:b, s:{s:{s:{s:s}}}}", "required",
                                          r->id != SL_R_CONN_TEST, "content", "application/json",
                                          "schema", "$ref", ref));
        }
        char st[8];
        snprintf(st, sizeof st, "%d", r->status);
        const char *ctype = r->id == SL_R_METRICS ? "text/plain"
                            : r->id == SL_R_STREAM_EVENTS ? "text/event-stream"
                                                          : "application/json";
        json_t *responses = json_object();
        json_object_set_new(responses, st,
                            r->status == 204
                                ? json_pack("{s:s}", "description", "done")
                                : json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", "ok", "content",
                                            ctype, "schema", "$ref", "#/components/schemas/Any"));
        json_object_set_new(responses, "default",
                            json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", "an error (docs/api.md)",
                                      "content", "application/json", "schema", "$ref",
                                      "#/components/schemas/Error"));
        json_object_set_new(op, "responses", responses);
        if (r->access == SL_ACCESS_OPEN)
            json_object_set_new(op, "security", json_array());
        else
            json_object_set_new(op, "x-sluice-role",
                                json_string(r->access == SL_ACCESS_READ ? "read" : "admin"));
        json_object_set_new(item, method, op);
    }
    return json_pack("{s:s, s:{s:s, s:s}, s:o, s:{s:o, s:{s:{s:s, s:s}}}, s:[{s:[]}]}", "openapi",
                     "3.0.3", "info", "title", "sluice API", "version", version, "paths", paths,
                     "components", "schemas", schemas(), "securitySchemes", "bearer", "type", "http",
                     "scheme", "bearer", "security", "bearer");
}
