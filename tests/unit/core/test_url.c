/*
 * test_url.c: unit tests of the connection URL parser (src/core/url.c): components,
 * percent-decoding, query parameters, IPv6 hosts, errors, password masking, passwords
 * the splitter cannot isolate (refused), and the endpoint comparison.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/url.h"

/* Parses s, failing the test on error. */
static sl_url_t *parse_ok(const char *s)
{
    sl_url_t *u = NULL;
    sl_err_t err = {0};
    if (sl_url_parse(s, &u, &err) != 0)
        fail_msg("sl_url_parse(\"%s\") failed: %s", s, err.message);
    assert_non_null(u);
    return u;
}

static void test_full_postgres_url(void **state)
{
    sl_url_t *u = parse_ok("postgres://alice:secret@db.example.com:5433/shop?schema=sales&sslmode=disable");
    assert_string_equal(u->scheme, "postgres");
    assert_string_equal(u->user, "alice");
    assert_string_equal(u->password, "secret");
    assert_string_equal(u->host, "db.example.com");
    assert_int_equal(u->port, 5433);
    assert_string_equal(u->path, "shop");
    assert_int_equal(u->nparams, 2);
    assert_string_equal(sl_url_param(u, "schema"), "sales");
    assert_string_equal(sl_url_param(u, "sslmode"), "disable");
    assert_null(sl_url_param(u, "missing"));
    assert_string_equal(u->raw, "postgres://alice:secret@db.example.com:5433/shop?schema=sales&sslmode=disable");
    sl_url_free(u);
}

static void test_optional_parts_absent(void **state)
{
    sl_url_t *u = parse_ok("mysql://127.0.0.1");
    assert_string_equal(u->scheme, "mysql");
    assert_null(u->user);
    assert_null(u->password);
    assert_string_equal(u->host, "127.0.0.1");
    assert_int_equal(u->port, 0);
    assert_string_equal(u->path, "");
    assert_int_equal(u->nparams, 0);
    sl_url_free(u);

    u = parse_ok("mysql://root@h/db");
    assert_string_equal(u->user, "root");
    assert_null(u->password);
    assert_string_equal(u->path, "db");
    sl_url_free(u);

    u = parse_ok("mysql://root:@h:3306/db");
    assert_string_equal(u->password, "");
    assert_int_equal(u->port, 3306);
    sl_url_free(u);
}

static void test_scheme_is_lowercased(void **state)
{
    sl_url_t *u = parse_ok("PostgreSQL://h/db");
    assert_string_equal(u->scheme, "postgresql");
    sl_url_free(u);
}

static void test_percent_decoding(void **state)
{
    /* '@', ':' and '/' in credentials must be encoded; '%' itself too. */
    sl_url_t *u = parse_ok("postgres://us%65r%40corp:p%40ss%3Aw%2Fo%25rd@h:5432/my%20db?application_name=a%26b");
    assert_string_equal(u->user, "user@corp");
    assert_string_equal(u->password, "p@ss:w/o%rd");
    assert_string_equal(u->path, "my db");
    assert_string_equal(sl_url_param(u, "application_name"), "a&b");
    sl_url_free(u);

    /* An incomplete or invalid escape is kept as written. */
    u = parse_ok("mysql://u:50%25%zz%4@h/db");
    assert_string_equal(u->password, "50%%zz%4");
    sl_url_free(u);
}

static void test_ipv6_host(void **state)
{
    sl_url_t *u = parse_ok("postgres://u:pw@[::1]:5432/db");
    assert_string_equal(u->host, "::1");
    assert_int_equal(u->port, 5432);
    assert_string_equal(u->path, "db");
    sl_url_free(u);

    u = parse_ok("mysql://[fe80::1:2]/x");
    assert_string_equal(u->host, "fe80::1:2");
    assert_int_equal(u->port, 0);
    sl_url_free(u);
}

static void test_file_and_s3_urls(void **state)
{
    sl_url_t *u = parse_ok("file:///var/out?format=parquet&compression=zstd");
    assert_string_equal(u->scheme, "file");
    assert_null(u->host);
    assert_string_equal(u->path, "var/out");
    assert_string_equal(sl_url_param(u, "format"), "parquet");
    assert_string_equal(sl_url_param(u, "compression"), "zstd");
    sl_url_free(u);

    /* The endpoint parameter holds a URL of its own, as docs/files.md writes it. */
    u = parse_ok("s3://bucket/pre/fix?endpoint=http://127.0.0.1:9000&region=us-east-1&flag");
    assert_string_equal(u->scheme, "s3");
    assert_string_equal(u->host, "bucket");
    assert_string_equal(u->path, "pre/fix");
    assert_string_equal(sl_url_param(u, "endpoint"), "http://127.0.0.1:9000");
    assert_string_equal(sl_url_param(u, "region"), "us-east-1");
    assert_string_equal(sl_url_param(u, "flag"), "");
    sl_url_free(u);
}

static void expect_error(const char *s, const char *message_part)
{
    sl_url_t *u = NULL;
    sl_err_t err = {0};
    assert_int_equal(sl_url_parse(s, &u, &err), -1);
    assert_null(u);
    assert_int_equal(err.code, SL_E_CONFIG);
    assert_true(err.fatal);
    if (!strstr(err.message, message_part))
        fail_msg("parsing \"%s\": message \"%s\" lacks \"%s\"", s, err.message, message_part);
}

static void test_errors(void **state)
{
    expect_error("mysql://h:99999/db", "bad port");
    expect_error("mysql://h:0/db", "bad port");
    expect_error("mysql://h:12ab/db", "bad port");
    expect_error("mysql://h:/db", "bad port");
    expect_error("postgres://[::1:5432/db", "IPv6");
    expect_error("localhost:5432/db", "missing scheme");
    expect_error("://h/db", "missing scheme");

    sl_err_t err = {0};
    sl_url_t *u = NULL;
    sl_url_parse("db.example.com", &u, &err);
    assert_true(err.hint[0] != '\0');
}

/* sl_url_mask(url) is want (and never contains secret). */
static void mask_is(const char *url, const char *want, const char *secret)
{
    char *m = sl_url_mask(url);
    assert_string_equal(m, want);
    if (secret)
        assert_null(strstr(m, secret));
    free(m);
}

static void test_mask_hides_password(void **state)
{
    mask_is("postgres://alice:secret@h:5432/db?x=1", "postgres://alice:****@h:5432/db?x=1", "secret");
    mask_is("postgres://u:p%40ss@h:5432/db?x=1", "postgres://u:****@h:5432/db?x=1", "p%40ss");
    /* Nothing to hide: unchanged. */
    mask_is("mysql://root@h:3306/db", "mysql://root@h:3306/db", NULL);
    mask_is("mysql://u:@h/db", "mysql://u:****@h/db", NULL);
    mask_is("file:///data/a@b/out", "file:///data/a@b/out", NULL);
    mask_is("s3://bucket/p?endpoint=http://u:x@y", "s3://bucket/p?endpoint=http://u:x@y", NULL);
    /* What does not split keeps only the scheme and what follows the last '@'. */
    mask_is("postgres://u:p#ss@h/db", "postgres://****@h/db", "p#ss");
    mask_is("mysql://u:p@ss@h/db", "mysql://****@h/db", "p@ss");
    mask_is("not a url", "not a url", NULL);
}

/* The defect of issue 12 (4): the masker ended the authority at '#', the parser did not,
 * so "u:p#ss@h" was stored with the password "p#ss" and shown in clear. Every password
 * the splitter cannot isolate is an error now, for the parser and the masker alike. */
static void test_ambiguous_passwords_refused(void **state)
{
    const char *bad[] = {
        "postgres://u:p#ss@h:5432/db", "postgres://u:p/ss@h:5432/db", "postgres://u:p?ss@h/db",
        "mysql://u:p@ss@h/db",         "postgres://u:p@h/d@b",        "postgres://u:1234/x@h/db",
        "postgres://u:p#a=b@h/db",     "mysql://u:p?a=b@h/db",        "postgres://u:p@s#x?y@z@h/db",
        "postgres://u:p@s/x#y@h",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sl_url_t *u = NULL;
        sl_err_t err = {0};
        if (sl_url_parse(bad[i], &u, &err) == 0)
            fail_msg("\"%s\" parsed (password \"%s\")", bad[i], u->password ? u->password : "(none)");
        assert_int_equal(err.code, SL_E_CONFIG);
        assert_non_null(strstr(err.message, "password"));
        assert_non_null(strstr(err.hint, "percent-encode"));
        assert_non_null(strstr(err.hint, "\"password\" field"));
        /* The error never repeats the URL. */
        assert_null(strstr(err.message, "ss@"));
        assert_null(strstr(err.detail, "ss@"));
        assert_null(sl_url_with_password(bad[i], "x"));
        char *m = sl_url_mask(bad[i]);
        const char *at = strrchr(bad[i], '@');
        assert_null(strstr(m, "p#ss"));
        assert_null(strstr(m, "1234/x"));
        assert_string_equal(m + strlen(m) - strlen(at), at);
        free(m);
    }
    /* Encoded, the same passwords are fine, and parse and mask agree. */
    const char *good[][2] = {{"postgres://u:p%23ss@h:5432/db", "p#ss"},
                             {"postgres://u:p%2Fss@h/db", "p/ss"},
                             {"postgres://u:p%3Fss@h/db", "p?ss"},
                             {"mysql://u:p%40ss@h/db", "p@ss"},
                             {"postgres://u:a:b@h/db", "a:b"}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        sl_url_t *u = parse_ok(good[i][0]);
        assert_string_equal(u->password, good[i][1]);
        assert_string_equal(u->host, "h");
        sl_url_free(u);
    }
    /* An '@' where no password can be: a query value after a userinfo, a file path. */
    sl_url_t *u = parse_ok("postgres://u:pw@h/db?application_name=me@x");
    assert_string_equal(u->password, "pw");
    assert_string_equal(sl_url_param(u, "application_name"), "me@x");
    sl_url_free(u);
    u = parse_ok("file:///var/a@b");
    assert_string_equal(u->path, "var/a@b");
    sl_url_free(u);
    /* '#' ends the authority. */
    u = parse_ok("postgres://u:pw@h:5432#frag");
    assert_string_equal(u->host, "h");
    assert_int_equal(u->port, 5432);
    sl_url_free(u);
}

static void test_with_password(void **state)
{
    char *s = sl_url_with_password("postgres://u:old@h/db", "n@w pw#/?");
    assert_string_equal(s, "postgres://u:n%40w%20pw%23%2F%3F@h/db");
    sl_url_t *u = parse_ok(s);
    assert_string_equal(u->password, "n@w pw#/?");
    sl_url_free(u);
    free(s);
    s = sl_url_with_password("mysql://root@h:3306/db", "x");
    assert_string_equal(s, "mysql://root:x@h:3306/db");
    free(s);
    assert_null(sl_url_with_password("postgres://h/db", "x"));
}

static void test_same_endpoint(void **state)
{
    const char *base = "postgres://u:pw@db.example.com:5432/shop?sslmode=require&schema=s";
    assert_true(sl_url_same_endpoint(base, "postgresql://u:other@DB.example.com:5432/shop?schema=s&sslmode=require"));
    assert_true(sl_url_same_endpoint(base, "postgres://u:****@db.example.com:5432/shop?sslmode=require&schema=s"));
    const char *moved[] = {
        "postgres://u:pw@evil.example.com:5432/shop?sslmode=require&schema=s",
        "postgres://u:pw@db.example.com:5433/shop?sslmode=require&schema=s",
        "postgres://v:pw@db.example.com:5432/shop?sslmode=require&schema=s",
        "postgres://u:pw@db.example.com:5432/other?sslmode=require&schema=s",
        "postgres://u:pw@db.example.com:5432/shop?sslmode=disable&schema=s",
        "postgres://u:pw@db.example.com:5432/shop?sslmode=require",
        "mysql://u:pw@db.example.com:5432/shop?sslmode=require&schema=s",
        "postgres://u:p#w@db.example.com:5432/shop",
    };
    for (size_t i = 0; i < sizeof moved / sizeof moved[0]; i++)
        if (sl_url_same_endpoint(base, moved[i]))
            fail_msg("\"%s\" counted as the same endpoint", moved[i]);
    assert_true(sl_url_same_endpoint("s3://b/p?endpoint=http://127.0.0.1:9000", "s3://b/p?endpoint=http://127.0.0.1:9000"));
    assert_false(sl_url_same_endpoint("s3://b/p?endpoint=http://127.0.0.1:9000", "s3://b/p?endpoint=http://10.0.0.1:9000"));
    assert_false(sl_url_same_endpoint("s3://b/p", "s3://c/p"));
}

static void test_set_password_and_free_null(void **state)
{
    sl_url_t *u = parse_ok("postgres://u:old@h/db");
    sl_err_t err = {0};
    assert_int_equal(sl_url_set_password(u, "n3w", &err), 0);
    assert_string_equal(u->password, "n3w");
    sl_url_free(u);
    sl_url_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_postgres_url),
        cmocka_unit_test(test_optional_parts_absent),
        cmocka_unit_test(test_scheme_is_lowercased),
        cmocka_unit_test(test_percent_decoding),
        cmocka_unit_test(test_ipv6_host),
        cmocka_unit_test(test_file_and_s3_urls),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_mask_hides_password),
        cmocka_unit_test(test_ambiguous_passwords_refused),
        cmocka_unit_test(test_with_password),
        cmocka_unit_test(test_same_endpoint),
        cmocka_unit_test(test_set_password_and_free_null),
    };
    return cmocka_run_group_tests_name("url", tests, NULL, NULL);
}
