/*
 * route.h: the REST API's route table (docs/api.md) and the pure request parsing of the
 * control plane: path routing, query values, and JSON body validation with unknown-field
 * rejection. No I/O and no globals besides the constant table, so all of it is unit-tested
 * and fuzzed (fuzz/fuzz_http.c). The OpenAPI document is generated from the same table,
 * so the documented routes and the served ones cannot drift.
 *
 * Ownership: results that are json_t are new references the caller decrefs; path ids
 * point into the caller's path buffer copy inside sl_route_match_t.
 */
#ifndef SL_CONTROL_ROUTE_H
#define SL_CONTROL_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

typedef enum sl_route_id {
    SL_R_HEALTHZ,
    SL_R_METRICS,
    SL_R_OPENAPI,
    SL_R_CONN_LIST,
    SL_R_CONN_CREATE,
    SL_R_CONN_GET,
    SL_R_CONN_PUT,
    SL_R_CONN_DELETE,
    SL_R_CONN_TEST,
    SL_R_CONN_TABLES,
    SL_R_STREAM_LIST,
    SL_R_STREAM_CREATE,
    SL_R_STREAM_GET,
    SL_R_STREAM_PUT,
    SL_R_STREAM_DELETE,
    SL_R_STREAM_START,
    SL_R_STREAM_PAUSE,
    SL_R_STREAM_RESUME,
    SL_R_STREAM_STOP,
    SL_R_STREAM_STATS,
    SL_R_STREAM_EVENTS,
    SL_R_STREAM_LOGS,
    SL_R_OPTIONS,
    SL_R_STREAM_VERIFY_START,
    SL_R_STREAM_VERIFY_GET,
    SL_R_WHOAMI,
    SL_R_STREAM_TABLES_ADD,
    SL_R_STREAM_TABLE_DELETE,
    SL_R_STREAM_TABLE_RESYNC,
    SL_R_CHECK,
    SL_R_COUNT
} sl_route_id_t;

/* Who may call a route (docs/security.md "Roles"). The values are ordered so that a row
 * written the old way, with `true` for "needs the key", asks for the most: admin. */
typedef enum sl_access { SL_ACCESS_OPEN = 0, SL_ACCESS_ADMIN = 1, SL_ACCESS_READ = 2 } sl_access_t;

/* The role of an API key: read-only keys may call SL_ACCESS_READ routes, admin keys all. */
typedef enum sl_role { SL_ROLE_NONE = 0, SL_ROLE_READ, SL_ROLE_ADMIN } sl_role_t;

typedef struct sl_route {
    sl_route_id_t id;
    const char *method;   /* "GET", "POST", "PUT", "DELETE" */
    const char *pattern;  /* "/api/v1/streams/{id}/start": "{id}" (and "{table}") match one segment */
    sl_access_t access;   /* open, any key (read), or an admin key */
    const char *body;     /* OpenAPI schema name of the request body, NULL: none */
    int status;           /* success status: 200, 201, 204 */
    const char *summary;
    const char *query;    /* "start", "drop_slot", "limit", "drop", "scan" or NULL: the one query parameter */
} sl_route_t;

/* The table, SL_R_COUNT entries in sl_route_id_t order. */
const sl_route_t *sl_route_table(void);

typedef enum { SL_MATCH_OK, SL_MATCH_NOT_FOUND, SL_MATCH_BAD_METHOD } sl_match_result_t;

typedef struct sl_route_match {
    const sl_route_t *route;
    char id[128];    /* the {id} segment, percent-decoded; "" when the route has none */
    char table[256]; /* the {table} segment, likewise */
} sl_route_match_t;

/* Routes method + path (without the query string). */
sl_match_result_t sl_route_match(const char *method, const char *path, sl_route_match_t *m);

/* A request problem: HTTP status, API error code (docs/api.md), message, hint. */
typedef struct sl_api_err {
    int status;
    char code[32];
    char message[512];
    char detail[512];
    char hint[512];
} sl_api_err_t;

int sl_api_err_set(sl_api_err_t *e, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Whether a caller whose key has role may call route r: 0, or 401 unauthorized (no key,
 * or one that matches none: key_sent says which) or 403 forbidden (a read-only key on a
 * route that needs admin). */
int sl_route_authorize(const sl_route_t *r, sl_role_t role, bool key_sent, sl_api_err_t *e);
/* "read", "admin"; NULL for SL_ROLE_NONE. sl_role_parse: the inverse (SL_ROLE_NONE when
 * s is neither). */
const char *sl_role_name(sl_role_t role);
sl_role_t sl_role_parse(const char *s);

/* Parses a body that must be one JSON object (len bytes, need not be NUL-terminated):
 * *out a new reference. 400 bad_json otherwise. */
int sl_req_json_object(const char *body, size_t len, json_t **out, sl_api_err_t *e);
/* Rejects keys of obj not in allowed (NULL-terminated): 400 unknown_field naming it. */
int sl_req_known_fields(const json_t *obj, const char *where, const char *const *allowed,
                        sl_api_err_t *e);
/* Validates a connection body ({"name", "url", "password"?, "access_key_id"?,
 * "secret_access_key"?}): names, types, and a URL that parses with a known scheme. */
int sl_req_connection(const json_t *obj, sl_api_err_t *e);
/* The kind of a connection URL's scheme: "postgres", "mysql", "file", "s3"; NULL unknown. */
const char *sl_req_url_kind(const char *url);
/* Validates {"tables": [entry, …]} of tables added to a stream: a non-empty array whose
 * entries are what a spec's source.tables holds (engine/spec.c checks them further). */
int sl_req_tables(const json_t *obj, sl_api_err_t *e);
/* Validates {"mode": "load|cdc"?, "role": "source|target"?} of a connection test. */
int sl_req_conn_test(const json_t *obj, sl_api_err_t *e);
/* Checks the shape of a stream body before connections are resolved: an object with a
 * valid "name", known top-level fields, source/target objects with known fields. */
int sl_req_stream(const json_t *obj, sl_api_err_t *e);
/* A name of a connection or stream: 1–63 of [A-Za-z0-9_.-], starting alphanumeric. */
bool sl_req_name_ok(const char *name);
/* Query values: "true"/"1"/"false"/"0"/NULL (→ dflt) and an integer in [lo, hi]. */
int sl_req_bool(const char *v, bool dflt, bool *out, const char *what, sl_api_err_t *e);
int sl_req_int(const char *v, int dflt, int lo, int hi, int *out, const char *what, sl_api_err_t *e);

/* The OpenAPI 3.0 document of the route table (new reference). */
json_t *sl_route_openapi(const char *version);

#endif
