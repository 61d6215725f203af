/*
 * test_s3_store.c: the S3 store (src/target/store/s3*.c) through its ops table against
 * the test S3 server of scripts/test-servers.sh: s3rver behind tests/s3/proxy.js, which
 * verifies every SigV4 signature and payload hash and can inject faults.
 *
 * Covers: put/get/list/remove under a prefix (lexical order, pagination, absent keys),
 * put_file (consumed on success) in one PUT and as a >100 MB multipart upload whose bytes
 * are checked against s3rver directly (bypassing sluice), retries of 503s and dropped
 * connections, abort of a multipart upload that keeps failing (no object appears, the file
 * stays), and the errors of a wrong secret, an unknown key id, a missing bucket, an
 * unreachable endpoint and missing credentials (clear, and never carrying the secret).
 *
 * Needs SLUICE_TEST_S3_ENDPOINT (the proxy), SLUICE_TEST_S3_DIRECT (s3rver itself),
 * SLUICE_TEST_S3_BUCKET, SLUICE_TEST_S3_ACCESS_KEY and SLUICE_TEST_S3_SECRET_KEY from the
 * env.sh that `scripts/test-servers.sh start DIR` writes; fails when they are missing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <openssl/evp.h>

#include "core/buf.h"
#include "core/url.h"
#include "target/store/store.h"

static const char *endpoint, *direct, *bucket, *akid, *secret;
static char prefix[64];
static char tmpdir[256];

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        fail_msg("%s is not set: source the env.sh of scripts/test-servers.sh start DIR", name);
    return v;
}

/* Opens the S3 store for "s3://USERINFO@bucket/prefix?endpoint=…" + extra. */
static int open_store(const char *userinfo, const char *bkt, const char *ep, const char *extra,
                      sl_store_t **st, sl_err_t *err)
{
    char url[1024];
    snprintf(url, sizeof url, "s3://%s%s%s/%s?endpoint=%s&region=us-east-1%s", userinfo ? userinfo : "",
             userinfo ? "@" : "", bkt, prefix, ep, extra ? extra : "");
    sl_url_t *u;
    if (sl_url_parse(url, &u, err))
        return -1;
    const struct sl_store_ops *ops = sl_store_lookup("s3");
    assert_non_null(ops);
    int rc = ops->open(u, st, err);
    sl_url_free(u);
    return rc;
}

static sl_store_t *open_ok(const char *extra)
{
    char ui[256];
    snprintf(ui, sizeof ui, "%s:%s", akid, secret);
    sl_store_t *st = NULL;
    sl_err_t err = {0};
    if (open_store(ui, bucket, endpoint, extra, &st, &err))
        fail_msg("open: %s (%s; %s)", err.message, err.detail, err.hint);
    return st;
}

/* ---- plain HTTP to the proxy's hooks and to s3rver directly ------------------------- */

static size_t to_buf(char *p, size_t s, size_t n, void *ctx)
{
    sl_err_t e;
    return sl_buf_add(ctx, p, s * n, &e) ? 0 : s * n;
}

static size_t to_hash(char *p, size_t s, size_t n, void *ctx)
{
    EVP_DigestUpdate(ctx, p, s * n);
    return s * n;
}

/* method URL; body into out (if any); returns the HTTP status. */
static long http(const char *method, const char *url, sl_buf_t *out, EVP_MD_CTX *md)
{
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (out) {
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_buf);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    } else if (md) {
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_hash);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, md);
    }
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

static void proxy(const char *what)
{
    char url[512];
    snprintf(url, sizeof url, "%s/__proxy/%s", endpoint, what);
    assert_int_equal(http("POST", url, NULL, NULL), 204);
}

/* The proxy's count of operation op since the last reset. */
static int proxy_count(const char *op)
{
    char url[512], pat[64];
    snprintf(url, sizeof url, "%s/__proxy/stats", endpoint);
    sl_buf_t b;
    sl_buf_init(&b, 1 << 16);
    assert_int_equal(http("GET", url, &b, NULL), 200);
    snprintf(pat, sizeof pat, "\"%s\":", op);
    const char *p = b.data ? strstr(b.data, pat) : NULL;
    int n = p ? atoi(p + strlen(pat)) : 0;
    sl_buf_free(&b);
    return n;
}

/* SHA-256 hex of the object bucket/prefix/key as s3rver itself serves it; "" if absent. */
static void direct_sha256(const char *key, char out[65])
{
    char url[1024];
    snprintf(url, sizeof url, "%s/%s/%s/%s", direct, bucket, prefix, key);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    long st = http("GET", url, NULL, md);
    unsigned char d[32];
    unsigned int n = 0;
    EVP_DigestFinal_ex(md, d, &n);
    EVP_MD_CTX_free(md);
    out[0] = '\0';
    if (st == 200)
        for (int i = 0; i < 32; i++)
            sprintf(out + 2 * i, "%02x", d[i]);
}

/* ---- listing ------------------------------------------------------------------------ */

typedef struct listing {
    char text[4096];
} listing_t;

static int add_key(void *ctx, const char *key, uint64_t size, sl_err_t *err)
{
    listing_t *l = ctx;
    size_t n = strlen(l->text);
    snprintf(l->text + n, sizeof l->text - n, "%s=%llu;", key, (unsigned long long)size);
    return 0;
}

static const char *list(sl_store_t *st, const char *pfx)
{
    static listing_t l;
    l.text[0] = '\0';
    sl_err_t err = {0};
    if (st->ops->list(st, pfx, add_key, &l, &err))
        fail_msg("list: %s", err.message);
    return l.text;
}

/* Writes a file of n pseudo-random bytes (seeded) and returns its path; its hash in hex. */
static const char *make_file(const char *name, size_t n, unsigned seed, char hex[65])
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    static uint32_t block[1 << 14];
    uint32_t x = seed * 2654435761u + 1;
    for (size_t done = 0; done < n;) {
        for (size_t i = 0; i < sizeof block / 4; i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            block[i] = x;
        }
        size_t k = n - done < sizeof block ? n - done : sizeof block;
        assert_int_equal(fwrite(block, 1, k, f), k);
        EVP_DigestUpdate(md, block, k);
        done += k;
    }
    fclose(f);
    unsigned char d[32];
    unsigned int dl;
    EVP_DigestFinal_ex(md, d, &dl);
    EVP_MD_CTX_free(md);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", d[i]);
    return path;
}

/* ---- tests -------------------------------------------------------------------------- */

static void put_get_list_remove(void **state)
{
    (void)state;
    sl_store_t *st = open_ok(NULL);
    sl_err_t err = {0};
    assert_string_equal(list(st, ""), "");
    const char *keys[] = {"orders/part-2.csv", "orders/part-10.csv", "_sluice/manifest.json",
                          "items/dt=2026-11-27/part-1.csv", "odd name/é + ü & x.csv"};
    for (int i = 0; i < 5; i++) {
        char body[64];
        snprintf(body, sizeof body, "body of %s", keys[i]);
        if (st->ops->put(st, keys[i], body, strlen(body), &err))
            fail_msg("put %s: %s (%s)", keys[i], err.message, err.detail);
    }
    /* Lexical (byte) order, keys relative to the prefix, sizes right. */
    assert_string_equal(list(st, ""), "_sluice/manifest.json=29;"
                                      "items/dt=2026-11-27/part-1.csv=38;"
                                      "odd name/\xc3\xa9 + \xc3\xbc & x.csv=32;"
                                      "orders/part-10.csv=26;orders/part-2.csv=25;");
    assert_string_equal(list(st, "orders/"), "orders/part-10.csv=26;orders/part-2.csv=25;");
    assert_string_equal(list(st, "nothing/"), "");

    sl_buf_t out;
    sl_buf_init(&out, 1024);
    bool found = false;
    assert_int_equal(st->ops->get(st, "odd name/é + ü & x.csv", &out, &found, &err), 0);
    assert_true(found);
    assert_string_equal(out.data, "body of odd name/é + ü & x.csv");
    assert_int_equal(st->ops->get(st, "orders/absent.csv", &out, &found, &err), 0);
    assert_false(found);
    /* Overwrite replaces. */
    assert_int_equal(st->ops->put(st, "orders/part-2.csv", "new", 3, &err), 0);
    assert_int_equal(st->ops->get(st, "orders/part-2.csv", &out, &found, &err), 0);
    assert_true(found);
    assert_string_equal(out.data, "new");
    /* An object bigger than the caller's buffer is an error, not a truncation. */
    sl_buf_t small;
    sl_buf_init(&small, 4);
    assert_int_equal(st->ops->get(st, "_sluice/manifest.json", &small, &found, &err), -1);
    assert_int_equal(err.code, SL_E_LIMIT);
    sl_buf_free(&small);

    /* Keys that escape are refused before any request. */
    assert_int_equal(st->ops->put(st, "../x", "a", 1, &err), -1);
    assert_int_equal(st->ops->put(st, "/abs", "a", 1, &err), -1);

    for (int i = 0; i < 5; i++)
        assert_int_equal(st->ops->remove(st, keys[i], &err), 0);
    assert_int_equal(st->ops->remove(st, "orders/never-was.csv", &err), 0);
    assert_string_equal(list(st, ""), "");
    sl_buf_free(&out);
    st->ops->close(st);
}

static int count_key(void *ctx, const char *key, uint64_t size, sl_err_t *err)
{
    (*(int *)ctx)++;
    return 0;
}

static void list_pages(void **state)
{
    (void)state;
    /* More keys than one ListObjectsV2 page (1000): the continuation token is followed. */
    sl_store_t *st = open_ok(NULL);
    sl_err_t err = {0};
    char key[64];
    for (int i = 0; i < 1001; i++) {
        snprintf(key, sizeof key, "many/k%04d", i);
        if (st->ops->put(st, key, "", 0, &err))
            fail_msg("put: %s", err.message);
    }
    proxy("reset");
    int n = 0;
    assert_int_equal(st->ops->list(st, "many/", count_key, &n, &err), 0);
    assert_int_equal(n, 1001);
    assert_int_equal(proxy_count("ListObjectsV2"), 2);
    /* The keys stay: the prefix is this run's own, and s3rver's data goes with the servers. */
    st->ops->close(st);
}

static void put_file_small_and_multipart(void **state)
{
    (void)state;
    sl_store_t *st = open_ok("&part_size_mb=8");
    sl_err_t err = {0};
    char hex[65], got[65];
    struct stat sb;

    const char *path = make_file("small.bin", 1000, 1, hex);
    proxy("reset");
    if (st->ops->put_file(st, "t/small.bin", path, &err))
        fail_msg("put_file: %s (%s)", err.message, err.detail);
    assert_int_equal(stat(path, &sb), -1); /* consumed */
    direct_sha256("t/small.bin", got);
    assert_string_equal(got, hex);
    assert_int_equal(proxy_count("PutObject"), 1);

    /* 105 MiB + 1 byte: 14 parts of 8 MiB, the last one short. */
    size_t big = (105u << 20) + 1;
    path = make_file("big.bin", big, 2, hex);
    proxy("reset");
    time_t t0 = time(NULL);
    if (st->ops->put_file(st, "t/big.bin", path, &err))
        fail_msg("put_file big: %s (%s)", err.message, err.detail);
    print_message("multipart upload of %zu bytes: %lds\n", big, (long)(time(NULL) - t0));
    assert_int_equal(stat(path, &sb), -1);
    assert_int_equal(proxy_count("CreateMultipartUpload"), 1);
    assert_int_equal(proxy_count("UploadPart"), 14);
    assert_int_equal(proxy_count("CompleteMultipartUpload"), 1);
    assert_int_equal(proxy_count("AbortMultipartUpload"), 0);
    char want[128];
    snprintf(want, sizeof want, "t/big.bin=%zu;t/small.bin=1000;", big);
    assert_string_equal(list(st, "t/"), want);
    direct_sha256("t/big.bin", got);
    assert_string_equal(got, hex);
    assert_int_equal(st->ops->remove(st, "t/big.bin", &err), 0);
    assert_int_equal(st->ops->remove(st, "t/small.bin", &err), 0);
    st->ops->close(st);
}

static void retries(void **state)
{
    (void)state;
    sl_store_t *st = open_ok("&part_size_mb=5");
    sl_err_t err = {0};
    char hex[65], got[65];
    proxy("reset");
    proxy("fail?op=UploadPart&count=2&status=503");
    proxy("fail?op=CompleteMultipartUpload&count=1&status=500");
    proxy("fail?op=PutObject&count=1&status=0"); /* a dropped connection */
    const char *path = make_file("r.bin", (11u << 20), 3, hex);
    if (st->ops->put_file(st, "r/r.bin", path, &err))
        fail_msg("put_file: %s (%s)", err.message, err.detail);
    assert_int_equal(proxy_count("UploadPart"), 3 + 2);
    assert_int_equal(proxy_count("CompleteMultipartUpload"), 2);
    direct_sha256("r/r.bin", got);
    assert_string_equal(got, hex);
    if (st->ops->put(st, "r/small", "x", 1, &err))
        fail_msg("put after a dropped connection: %s (%s)", err.message, err.detail);
    assert_int_equal(proxy_count("PutObject"), 2);
    assert_int_equal(st->ops->remove(st, "r/r.bin", &err), 0);
    assert_int_equal(st->ops->remove(st, "r/small", &err), 0);
    st->ops->close(st);
}

static void abort_on_failure(void **state)
{
    (void)state;
    sl_store_t *st = open_ok("&part_size_mb=5");
    sl_err_t err = {0};
    char hex[65], got[65];
    const char *path = make_file("a.bin", (12u << 20), 4, hex);
    proxy("reset");
    proxy("fail?op=UploadPart&count=100&status=503"); /* every try of part 1 fails */
    int rc = st->ops->put_file(st, "ab/a.bin", path, &err);
    proxy("reset");
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, SL_E_CONNECT);
    assert_true(err.retriable);
    assert_non_null(strstr(err.message, "could not write to s3://"));
    assert_non_null(strstr(err.message, "ab/a.bin"));
    assert_non_null(strstr(err.message, "503"));
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0); /* kept for the retry */
    assert_string_equal(list(st, "ab/"), "");
    direct_sha256("ab/a.bin", got);
    assert_string_equal(got, "");
    unlink(path);
    st->ops->close(st);
}

static void assert_no_secret(const sl_err_t *err, const char *s)
{
    char text[4096];
    sl_err_format(err, text, sizeof text);
    if (strstr(text, s) || strstr(text, "Signature="))
        fail_msg("error text leaks a secret or a signature: %s", text);
}

static void wrong_credentials(void **state)
{
    (void)state;
    sl_store_t *st = NULL;
    sl_err_t err = {0};
    char ui[256];
    const char *wrong = "Wr0ng-Secret-Value-42";
    snprintf(ui, sizeof ui, "%s:%s", akid, wrong);
    proxy("reset");
    assert_int_equal(open_store(ui, bucket, endpoint, NULL, &st, &err), -1);
    assert_null(st);
    assert_non_null(strstr(err.message, "could not write to s3://"));
    assert_non_null(strstr(err.message, "the secret access key is wrong"));
    assert_non_null(strstr(err.hint, akid));
    assert_true(err.fatal);
    assert_false(err.retriable);
    assert_no_secret(&err, wrong);
    assert_int_equal(proxy_count("ListObjectsV2"), 0); /* refused by the proxy */

    snprintf(ui, sizeof ui, "NOSUCHKEY:%s", secret);
    assert_int_equal(open_store(ui, bucket, endpoint, NULL, &st, &err), -1);
    assert_non_null(strstr(err.message, "access key id \"NOSUCHKEY\" is unknown"));
    assert_true(err.fatal);
    assert_no_secret(&err, secret);
}

static void missing_bucket_and_dead_endpoint(void **state)
{
    (void)state;
    sl_store_t *st = NULL;
    sl_err_t err = {0};
    char ui[256];
    snprintf(ui, sizeof ui, "%s:%s", akid, secret);
    assert_int_equal(open_store(ui, "no-such-bucket", endpoint, NULL, &st, &err), -1);
    assert_int_equal(err.code, SL_E_NOT_FOUND);
    assert_non_null(strstr(err.message, "bucket \"no-such-bucket\" does not exist"));
    assert_non_null(strstr(err.hint, "create the bucket"));

    assert_int_equal(open_store(ui, bucket, "http://127.0.0.1:1", NULL, &st, &err), -1);
    assert_int_equal(err.code, SL_E_CONNECT);
    assert_true(err.retriable);
    assert_non_null(strstr(err.message, "could not reach S3 endpoint \"http://127.0.0.1:1\""));
    assert_non_null(strstr(err.hint, "endpoint"));
    assert_no_secret(&err, secret);

    assert_int_equal(open_store(ui, bucket, endpoint, "&colour=blue", &st, &err), -1);
    assert_int_equal(err.code, SL_E_CONFIG);
    assert_non_null(strstr(err.message, "\"colour\""));
    assert_int_equal(open_store(ui, bucket, endpoint, "&secret_access_key=x", &st, &err), -1);
    assert_int_equal(err.code, SL_E_CONFIG);
}

static void credentials_sources(void **state)
{
    (void)state;
    sl_store_t *st = NULL;
    sl_err_t err = {0};
    char file[512];
    snprintf(file, sizeof file, "%s/credentials", tmpdir);
    setenv("AWS_SHARED_CREDENTIALS_FILE", file, 1);
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");

    /* Nothing anywhere. */
    assert_int_equal(open_store(NULL, bucket, endpoint, NULL, &st, &err), -1);
    assert_int_equal(err.code, SL_E_CONFIG);
    assert_non_null(strstr(err.message, "no S3 credentials"));

    /* The credentials file, profile from the URL. */
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fprintf(f, "[default]\naws_access_key_id = WRONG\naws_secret_access_key = WRONG\n\n"
               "[sluice]\naws_access_key_id = %s\naws_secret_access_key = %s\n", akid, secret);
    fclose(f);
    if (open_store(NULL, bucket, endpoint, "&profile=sluice", &st, &err))
        fail_msg("open with the credentials file: %s", err.message);
    st->ops->close(st);
    /* The default profile is wrong: the error says where the credentials came from. */
    assert_int_equal(open_store(NULL, bucket, endpoint, NULL, &st, &err), -1);
    assert_non_null(strstr(err.detail, "credentials"));

    /* The environment wins over the file. */
    setenv("AWS_ACCESS_KEY_ID", akid, 1);
    setenv("AWS_SECRET_ACCESS_KEY", secret, 1);
    if (open_store(NULL, bucket, endpoint, NULL, &st, &err))
        fail_msg("open with the environment: %s", err.message);
    st->ops->close(st);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    unlink(file);
}

static int setup(void **state)
{
    (void)state;
    endpoint = env("SLUICE_TEST_S3_ENDPOINT");
    direct = env("SLUICE_TEST_S3_DIRECT");
    bucket = env("SLUICE_TEST_S3_BUCKET");
    akid = env("SLUICE_TEST_S3_ACCESS_KEY");
    secret = env("SLUICE_TEST_S3_SECRET_KEY");
    snprintf(prefix, sizeof prefix, "live-%ld-%d", (long)time(NULL), (int)getpid());
    snprintf(tmpdir, sizeof tmpdir, "%s/sluice-s3-live.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(tmpdir));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rmdir(tmpdir);
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(put_get_list_remove),
        cmocka_unit_test(list_pages),
        cmocka_unit_test(put_file_small_and_multipart),
        cmocka_unit_test(retries),
        cmocka_unit_test(abort_on_failure),
        cmocka_unit_test(wrong_credentials),
        cmocka_unit_test(missing_bucket_and_dead_endpoint),
        cmocka_unit_test(credentials_sources),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
