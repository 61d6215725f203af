/*
 * test_s3_conf.c: the S3 store's settings (src/target/store/s3_conf.c): bucket, prefix,
 * endpoint, path- vs virtual-hosted style, region, storage class, SSE and part size from
 * the URL; credentials from the URL, the environment and a credentials file (and their
 * order); clear errors for bad URLs and for secrets given as query parameters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "target/store/s3_conf.h"

static void clean_env(void)
{
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    unsetenv("AWS_PROFILE");
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/sluice-test-credentials", 1);
}

/* Parses url into c; returns the status, err filled. */
static int conf(const char *url, sl_s3_conf_t *c, sl_err_t *err)
{
    sl_url_t *u;
    if (sl_url_parse(url, &u, err))
        fail_msg("sl_url_parse(%s): %s", url, err->message);
    int rc = sl_s3_conf_from_url(u, c, err);
    sl_url_free(u);
    return rc;
}

static void path_style_endpoint(void **state)
{
    (void)state;
    clean_env();
    sl_s3_conf_t c;
    sl_err_t err = {0};
    assert_int_equal(conf("s3://AKID:se%2Fcret@my-bucket/out/daily/?endpoint=http://127.0.0.1:9000/"
                          "&storage_class=STANDARD_IA&sse=aws:kms&sse_kms_key_id=k-1&part_size_mb=16",
                          &c, &err), 0);
    assert_string_equal(c.bucket, "my-bucket");
    assert_string_equal(c.prefix, "out/daily");
    assert_string_equal(c.endpoint, "http://127.0.0.1:9000");
    assert_true(c.path_style);
    assert_string_equal(c.host, "127.0.0.1:9000");
    assert_string_equal(c.base, "http://127.0.0.1:9000");
    assert_string_equal(c.region, "us-east-1");
    assert_string_equal(c.access_key, "AKID");
    assert_string_equal(c.secret_key, "se/cret");
    assert_null(c.session_token);
    assert_string_equal(c.creds_from, "the URL");
    assert_string_equal(c.storage_class, "STANDARD_IA");
    assert_string_equal(c.sse, "aws:kms");
    assert_string_equal(c.sse_kms_key_id, "k-1");
    assert_int_equal(c.part_size, 16u << 20);
    sl_s3_conf_clear(&c);
}

static void virtual_style_and_aws_default(void **state)
{
    (void)state;
    clean_env();
    sl_s3_conf_t c;
    sl_err_t err = {0};
    assert_int_equal(conf("s3://A:B@bkt?endpoint=https://minio.local:9000&style=virtual", &c, &err), 0);
    assert_false(c.path_style);
    assert_string_equal(c.host, "bkt.minio.local:9000");
    assert_string_equal(c.base, "https://bkt.minio.local:9000");
    assert_string_equal(c.prefix, "");
    assert_int_equal(c.part_size, 8u << 20);
    sl_s3_conf_clear(&c);

    /* No endpoint: AWS, virtual-hosted, region from the environment. */
    setenv("AWS_REGION", "eu-west-3", 1);
    assert_int_equal(conf("s3://A:B@bkt/p", &c, &err), 0);
    assert_false(c.path_style);
    assert_string_equal(c.region, "eu-west-3");
    assert_string_equal(c.endpoint, "https://s3.eu-west-3.amazonaws.com");
    assert_string_equal(c.host, "bkt.s3.eu-west-3.amazonaws.com");
    sl_s3_conf_clear(&c);
    /* The URL's region wins; style=path is honoured on AWS too. */
    assert_int_equal(conf("s3://A:B@bkt/p?region=us-west-2&style=path", &c, &err), 0);
    assert_true(c.path_style);
    assert_string_equal(c.host, "s3.us-west-2.amazonaws.com");
    sl_s3_conf_clear(&c);
}

static void credentials_order(void **state)
{
    (void)state;
    clean_env();
    char file[] = "/tmp/sluice-s3-creds.XXXXXX";
    int fd = mkstemp(file);
    assert_true(fd >= 0);
    const char *text = "# comment\n[default]\naws_access_key_id=FILEKEY\naws_secret_access_key = FILESECRET\n"
                       "[profile other]\n  aws_access_key_id = OTHER \naws_secret_access_key=OS\n"
                       "aws_session_token=TOK\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    setenv("AWS_SHARED_CREDENTIALS_FILE", file, 1);
    sl_s3_conf_t c;
    sl_err_t err = {0};
    assert_int_equal(conf("s3://bkt?endpoint=http://h:1", &c, &err), 0);
    assert_string_equal(c.access_key, "FILEKEY");
    assert_string_equal(c.secret_key, "FILESECRET");
    assert_non_null(strstr(c.creds_from, "profile \"default\""));
    sl_s3_conf_clear(&c);
    setenv("AWS_PROFILE", "other", 1);
    assert_int_equal(conf("s3://bkt?endpoint=http://h:1", &c, &err), 0);
    assert_string_equal(c.access_key, "OTHER");
    assert_string_equal(c.session_token, "TOK");
    sl_s3_conf_clear(&c);
    /* The environment before the file, the URL before both. */
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
    setenv("AWS_SESSION_TOKEN", "ENVTOK", 1);
    assert_int_equal(conf("s3://bkt?endpoint=http://h:1", &c, &err), 0);
    assert_string_equal(c.access_key, "ENVKEY");
    assert_string_equal(c.session_token, "ENVTOK");
    sl_s3_conf_clear(&c);
    assert_int_equal(conf("s3://U:P@bkt?endpoint=http://h:1", &c, &err), 0);
    assert_string_equal(c.access_key, "U");
    assert_null(c.session_token);
    sl_s3_conf_clear(&c);
    unlink(file);

    /* Nowhere. */
    clean_env();
    assert_int_equal(conf("s3://bkt?endpoint=http://h:1", &c, &err), -1);
    assert_int_equal(err.code, SL_E_CONFIG);
    assert_non_null(strstr(err.message, "no S3 credentials for bucket \"bkt\""));
    assert_true(err.hint[0] != '\0');
    /* A key id without its secret. */
    assert_int_equal(conf("s3://U@bkt?endpoint=http://h:1", &c, &err), -1);
    assert_non_null(strstr(err.message, "no secret access key"));
}

static void creds_parse(void **state)
{
    (void)state;
    char *a, *s, *t;
    sl_err_t err = {0};
    assert_int_equal(sl_s3_creds_parse("[x]\naws_access_key_id=K\n", "x", &a, &s, &t, &err), 0);
    assert_null(a);
    assert_int_equal(sl_s3_creds_parse("[x]\r\naws_access_key_id=K\r\naws_secret_access_key=S\r\n[y]\n"
                                       "aws_secret_access_key=Y\n", "x", &a, &s, &t, &err), 1);
    assert_string_equal(a, "K");
    assert_string_equal(s, "S");
    assert_null(t);
    free(a);
    free(s);
    assert_int_equal(sl_s3_creds_parse("", "default", &a, &s, &t, &err), 0);
}

static void bad_urls(void **state)
{
    (void)state;
    clean_env();
    static const struct {
        const char *url, *msg;
    } cases[] = {
        {"s3:///prefix", "no bucket"},
        {"s3://A:B@bkt:9000/p", "port"},
        {"s3://A:B@Bad_Bucket/p", "invalid S3 bucket name"},
        {"s3://A:B@bkt/a//b", "invalid S3 prefix"},
        {"s3://A:B@bkt?endpoint=ftp://x", "not an http:// or https:// URL"},
        {"s3://A:B@bkt?endpoint=http://h:1/path", "no path is allowed"},
        {"s3://A:B@bkt?endpoint=http://h:1&style=sideways", "invalid S3 style"},
        {"s3://A:B@bkt?endpoint=http://h:1&storage_class=cheap", "invalid S3 storage class"},
        {"s3://A:B@bkt?endpoint=http://h:1&sse=rot13", "invalid S3 server-side encryption"},
        {"s3://A:B@bkt?endpoint=http://h:1&sse_kms_key_id=k", "needs sse=aws:kms"},
        {"s3://A:B@bkt?endpoint=http://h:1&part_size_mb=4", "invalid part_size_mb"},
        {"s3://A:B@bkt?endpoint=http://h:1&part_size_mb=x", "invalid part_size_mb"},
        {"s3://A@bkt?endpoint=http://h:1&secret_access_key=S", "not accepted"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_s3_conf_t c;
        sl_err_t err = {0};
        if (conf(cases[i].url, &c, &err) == 0)
            fail_msg("%s: accepted", cases[i].url);
        if (!strstr(err.message, cases[i].msg))
            fail_msg("%s: message \"%s\" lacks \"%s\"", cases[i].url, err.message, cases[i].msg);
        assert_int_equal(err.code, SL_E_CONFIG);
        assert_true(err.hint[0] != '\0');
    }
    assert_true(sl_s3_conf_param("endpoint"));
    assert_true(sl_s3_conf_param("part_size_mb"));
    assert_false(sl_s3_conf_param("format"));
    assert_false(sl_s3_conf_param("secret_access_key"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(path_style_endpoint), cmocka_unit_test(virtual_style_and_aws_default),
        cmocka_unit_test(credentials_order),   cmocka_unit_test(creds_parse),
        cmocka_unit_test(bad_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
