/*
 * test_control_route.c: the control plane's pure request parsing (control/route.c):
 * routing, bodies with unknown-field rejection, query values, and the OpenAPI document
 * against the route table in both directions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "control/route.h"

static void test_match(void **state)
{
    (void)state;
    sl_route_match_t m;
    assert_int_equal(sl_route_match("GET", "/healthz", &m), SL_MATCH_OK);
    assert_int_equal(m.route->id, SL_R_HEALTHZ);
    assert_int_equal(sl_route_match("POST", "/api/v1/streams/s_12/pause", &m), SL_MATCH_OK);
    assert_int_equal(m.route->id, SL_R_STREAM_PAUSE);
    assert_string_equal(m.id, "s_12");
    assert_int_equal(sl_route_match("GET", "/api/v1/streams/", &m), SL_MATCH_OK);
    assert_int_equal(m.route->id, SL_R_STREAM_LIST);
    assert_int_equal(sl_route_match("GET", "/api/v1/connections/my%2Dconn", &m), SL_MATCH_OK);
    assert_string_equal(m.id, "my-conn");
    assert_int_equal(sl_route_match("HEAD", "/api/v1/connections", &m), SL_MATCH_OK);
    assert_int_equal(sl_route_match("DELETE", "/api/v1/connections", &m), SL_MATCH_BAD_METHOD);
    assert_int_equal(sl_route_match("GET", "/api/v1/streams/x/nope", &m), SL_MATCH_NOT_FOUND);
    assert_int_equal(sl_route_match("GET", "/api/v1/streams//stats", &m), SL_MATCH_NOT_FOUND);
    assert_int_equal(sl_route_match("GET", "/api/v1/streams/a%00b", &m), SL_MATCH_NOT_FOUND);
    assert_int_equal(sl_route_match("GET", "/", &m), SL_MATCH_NOT_FOUND);
    char longid[400];
    memset(longid, 'a', sizeof longid);
    memcpy(longid, "/api/v1/streams/", 16);
    longid[sizeof longid - 1] = '\0';
    assert_int_equal(sl_route_match("GET", longid, &m), SL_MATCH_NOT_FOUND);
}

static int body_rc(const char *text, int (*fn)(const json_t *, sl_api_err_t *), sl_api_err_t *e)
{
    json_t *j;
    memset(e, 0, sizeof *e);
    if (sl_req_json_object(text, strlen(text), &j, e))
        return -1;
    int rc = fn(j, e);
    json_decref(j);
    return rc;
}

static void test_bodies(void **state)
{
    (void)state;
    sl_api_err_t e;
    assert_int_equal(body_rc("{\"name\": \"a\", \"url\": ", sl_req_connection, &e), -1);
    assert_string_equal(e.code, "bad_json");
    assert_int_equal(e.status, 400);
    assert_int_equal(body_rc("[]", sl_req_connection, &e), -1);
    assert_string_equal(e.code, "bad_json");
    assert_int_equal(body_rc("{\"name\": \"a\", \"name\": \"b\", \"url\": \"postgres://h/d\"}", sl_req_connection, &e), -1);
    assert_string_equal(e.code, "bad_json");
    assert_int_equal(body_rc("{\"name\": \"a\", \"url\": \"postgres://h/d\", \"x\": 1}", sl_req_connection, &e), -1);
    assert_string_equal(e.code, "unknown_field");
    assert_non_null(strstr(e.message, "\"x\""));
    assert_non_null(strstr(e.hint, "password"));
    assert_int_equal(body_rc("{\"name\": \"a\", \"url\": \"gopher://h/d\"}", sl_req_connection, &e), -1);
    assert_string_equal(e.code, "invalid_field");
    assert_int_equal(body_rc("{\"name\": \"a\", \"url\": 5}", sl_req_connection, &e), -1);
    assert_string_equal(e.code, "invalid_field");
    assert_int_equal(body_rc("{\"name\": \".a\", \"url\": \"postgres://h/d\"}", sl_req_connection, &e), -1);
    assert_int_equal(body_rc("{\"name\": \"a.b-c_1\", \"url\": \"mysql://u:p@h:3306/d\"}", sl_req_connection, &e), 0);
    assert_int_equal(body_rc("{\"mode\": \"cdc\", \"role\": \"target\"}", sl_req_conn_test, &e), 0);
    assert_int_equal(body_rc("{\"mode\": \"both\"}", sl_req_conn_test, &e), -1);
    assert_int_equal(body_rc("{\"name\": \"s\", \"source\": {\"connection\": \"c\", \"tables\": [\"t\"]},"
                             " \"target\": {\"url\": \"postgres://h/d\"}}", sl_req_stream, &e), 0);
    assert_int_equal(body_rc("{\"name\": \"s\", \"source\": {\"connection\": \"c\", \"url\": \"postgres://h/d\"},"
                             " \"target\": {\"url\": \"postgres://h/d\"}}", sl_req_stream, &e), -1);
    assert_string_equal(e.code, "invalid_field");
    assert_int_equal(body_rc("{\"name\": \"s\", \"source\": {\"connection\": \"c\"}}", sl_req_stream, &e), -1);
    assert_int_equal(body_rc("{\"name\": \"s\", \"source\": {\"connection\": \"c\"}, \"target\": {\"conection\": \"c\"}}",
                             sl_req_stream, &e), -1);
    assert_string_equal(e.code, "unknown_field");
    assert_int_equal(body_rc("{\"name\": \"s.t\", \"source\": {\"connection\": \"c\"}, \"target\": {\"connection\": \"c\"}}",
                             sl_req_stream, &e), -1);
    assert_int_equal(body_rc("{\"nam\": \"s\"}", sl_req_stream, &e), -1);
    assert_string_equal(e.code, "unknown_field");
}

static void test_query(void **state)
{
    (void)state;
    sl_api_err_t e;
    bool b;
    int n;
    assert_int_equal(sl_req_bool(NULL, false, &b, "x", &e), 0);
    assert_false(b);
    assert_int_equal(sl_req_bool("true", false, &b, "x", &e), 0);
    assert_true(b);
    assert_int_equal(sl_req_bool("yes", false, &b, "x", &e), -1);
    assert_int_equal(e.status, 400);
    assert_int_equal(sl_req_int(NULL, 200, 1, 1000, &n, "limit", &e), 0);
    assert_int_equal(n, 200);
    assert_int_equal(sl_req_int("1000", 200, 1, 1000, &n, "limit", &e), 0);
    assert_int_equal(n, 1000);
    assert_int_equal(sl_req_int("1001", 200, 1, 1000, &n, "limit", &e), -1);
    assert_int_equal(sl_req_int("12x", 200, 1, 1000, &n, "limit", &e), -1);
    assert_int_equal(sl_req_int("", 200, 1, 1000, &n, "limit", &e), -1);
}

/* Every route is in the document, and every operation of the document routes. */
static void test_openapi(void **state)
{
    (void)state;
    json_t *doc = sl_route_openapi("test");
    assert_non_null(doc);
    json_t *paths = json_object_get(doc, "paths");
    const sl_route_t *t = sl_route_table();
    for (int i = 0; i < SL_R_COUNT; i++) {
        assert_int_equal(t[i].id, i);
        char m[8];
        size_t k;
        for (k = 0; t[i].method[k]; k++)
            m[k] = (char)(t[i].method[k] | 0x20);
        m[k] = '\0';
        assert_non_null(json_object_get(json_object_get(paths, t[i].pattern), m));
    }
    const char *path;
    json_t *item;
    int ops = 0;
    json_object_foreach(paths, path, item)
    {
        const char *method;
        json_t *op;
        json_object_foreach(item, method, op)
        {
            char up[8], concrete[256];
            size_t k;
            for (k = 0; method[k] && k < 7; k++)
                up[k] = (char)(method[k] & ~0x20);
            up[k] = '\0';
            const char *id = strstr(path, "{id}");
            if (id)
                snprintf(concrete, sizeof concrete, "%.*sX1%s", (int)(id - path), path, id + 4);
            else
                snprintf(concrete, sizeof concrete, "%s", path);
            sl_route_match_t mt;
            assert_int_equal(sl_route_match(up, concrete, &mt), SL_MATCH_OK);
            assert_string_equal(mt.route->pattern, path);
            ops++;
        }
    }
    assert_int_equal(ops, SL_R_COUNT);
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.0.3");
    json_decref(doc);
}

/* The access column: whatever is not a GET needs an admin key; GETs need a key of either
 * role (but /healthz); the document says so per operation. */
static void test_access(void **state)
{
    (void)state;
    const sl_route_t *t = sl_route_table();
    json_t *doc = sl_route_openapi("test");
    for (int i = 0; i < SL_R_COUNT; i++) {
        if (strcmp(t[i].method, "GET") != 0)
            assert_int_equal(t[i].access, SL_ACCESS_ADMIN);
        else if (t[i].id == SL_R_HEALTHZ)
            assert_int_equal(t[i].access, SL_ACCESS_OPEN);
        else
            assert_int_equal(t[i].access, SL_ACCESS_READ);
        char m[8];
        size_t k;
        for (k = 0; t[i].method[k]; k++)
            m[k] = (char)(t[i].method[k] | 0x20);
        m[k] = '\0';
        json_t *op = json_object_get(json_object_get(json_object_get(doc, "paths"), t[i].pattern), m);
        const char *role = json_string_value(json_object_get(op, "x-sluice-role"));
        if (t[i].access == SL_ACCESS_OPEN)
            assert_null(role);
        else
            assert_string_equal(role, t[i].access == SL_ACCESS_READ ? "read" : "admin");
    }
    json_decref(doc);
    sl_api_err_t e = {0};
    const sl_route_t *get = &t[SL_R_STREAM_LIST], *post = &t[SL_R_STREAM_START], *open = &t[SL_R_HEALTHZ];
    assert_int_equal(sl_route_authorize(open, SL_ROLE_NONE, false, &e), 0);
    assert_int_equal(sl_route_authorize(get, SL_ROLE_READ, true, &e), 0);
    assert_int_equal(sl_route_authorize(get, SL_ROLE_ADMIN, true, &e), 0);
    assert_int_equal(sl_route_authorize(post, SL_ROLE_ADMIN, true, &e), 0);
    assert_int_equal(sl_route_authorize(post, SL_ROLE_READ, true, &e), -1);
    assert_int_equal(e.status, 403);
    assert_string_equal(e.code, "forbidden");
    assert_non_null(strstr(e.message, "read-only"));
    assert_non_null(strstr(e.hint, "--role admin"));
    assert_int_equal(sl_route_authorize(get, SL_ROLE_NONE, true, &e), -1);
    assert_int_equal(e.status, 401);
    assert_string_equal(e.message, "wrong API key");
    assert_int_equal(sl_route_authorize(post, SL_ROLE_NONE, false, &e), -1);
    assert_string_equal(e.message, "no API key");
    assert_int_equal(sl_role_parse("read"), SL_ROLE_READ);
    assert_int_equal(sl_role_parse("admin"), SL_ROLE_ADMIN);
    assert_int_equal(sl_role_parse("Admin"), SL_ROLE_NONE);
    assert_int_equal(sl_role_parse(NULL), SL_ROLE_NONE);
    assert_string_equal(sl_role_name(SL_ROLE_READ), "read");
    assert_null(sl_role_name(SL_ROLE_NONE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_openapi),
        cmocka_unit_test(test_access),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
