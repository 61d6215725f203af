/*
 * test_url.c: unit tests of the connection URL parser (src/core/url.c): components,
 * percent-decoding, query parameters, IPv6 hosts, errors, and password redaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

static void test_redact_hides_password(void **state)
{
    char buf[256];
    assert_string_equal(sl_url_redact("postgres://alice:secret@h:5432/db?x=1", buf, sizeof buf),
                        "postgres://alice:***@h:5432/db?x=1");
    assert_null(strstr(buf, "secret"));
    /* The last '@' of the authority ends the credentials. */
    sl_url_redact("mysql://u:p@ss@h/db", buf, sizeof buf);
    assert_string_equal(buf, "mysql://u:***@h/db");
    /* Nothing to hide: unchanged. */
    sl_url_redact("mysql://root@h:3306/db", buf, sizeof buf);
    assert_string_equal(buf, "mysql://root@h:3306/db");
    sl_url_redact("s3://bucket/p?endpoint=http://u:x@y", buf, sizeof buf);
    assert_string_equal(buf, "s3://bucket/p?endpoint=http://u:x@y");
    /* A short buffer truncates; it never overflows nor leaks the password. */
    char small[12];
    sl_url_redact("postgres://alice:secret@h/db", small, sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_null(strstr(small, "secret"));
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
        cmocka_unit_test(test_redact_hides_password),
        cmocka_unit_test(test_set_password_and_free_null),
    };
    return cmocka_run_group_tests_name("url", tests, NULL, NULL);
}
