/*
 * test_s3_sign.c: the SigV4 signer (src/target/store/s3_sign.c) against AWS's published
 * examples ("Signature Calculations for the Authorization Header", Amazon S3 API
 * reference: GET object, PUT object, GET bucket lifecycle, GET bucket list), plus the
 * URI encoding and query canonicalisation rules those examples do not cover.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "target/store/s3_sign.h"

#define AKID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define HOST "examplebucket.s3.amazonaws.com"
#define DATE "20130524T000000Z"

static sl_s3_sigreq_t req(const char *method, const char *path, const sl_s3_kv_t *q, int nq,
                          const sl_s3_kv_t *h, int nh, const char *hash)
{
    return (sl_s3_sigreq_t){.method = method, .path = path, .query = q, .nquery = nq,
                            .headers = h, .nheaders = nh, .payload_hash = hash,
                            .amz_date = DATE, .region = "us-east-1", .service = "s3",
                            .access_key = AKID, .secret_key = SECRET};
}

/* The Authorization header of r, into a static buffer the test compares. */
static char *auth(const sl_s3_sigreq_t *r)
{
    static char out[1024];
    sl_buf_t b;
    sl_err_t err = {0};
    sl_buf_init(&b, 4096);
    if (sl_s3_authorization(&b, r, &err))
        fail_msg("sl_s3_authorization: %s", err.message);
    snprintf(out, sizeof out, "%s", b.data);
    sl_buf_free(&b);
    return out;
}

static void get_object_example(void **state)
{
    (void)state;
    sl_s3_kv_t h[] = {{"Host", HOST}, {"Range", "bytes=0-9"},
                      {"x-amz-content-sha256", SL_S3_EMPTY_SHA256}, {"x-amz-date", DATE}};
    sl_s3_sigreq_t r = req("GET", "/test.txt", NULL, 0, h, 4, SL_S3_EMPTY_SHA256);

    sl_buf_t creq, sh;
    sl_err_t err = {0};
    sl_buf_init(&creq, 4096);
    sl_buf_init(&sh, 4096);
    assert_int_equal(sl_s3_canonical_request(&creq, &sh, &r, &err), 0);
    assert_string_equal(creq.data, "GET\n/test.txt\n\n"
                                   "host:examplebucket.s3.amazonaws.com\n"
                                   "range:bytes=0-9\n"
                                   "x-amz-content-sha256:" SL_S3_EMPTY_SHA256 "\n"
                                   "x-amz-date:20130524T000000Z\n\n"
                                   "host;range;x-amz-content-sha256;x-amz-date\n" SL_S3_EMPTY_SHA256);
    assert_string_equal(sh.data, "host;range;x-amz-content-sha256;x-amz-date");
    sl_buf_free(&creq);
    sl_buf_free(&sh);

    assert_string_equal(auth(&r),
                        "AWS4-HMAC-SHA256 Credential=" AKID "/20130524/us-east-1/s3/aws4_request, "
                        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");

    /* Header order and case in the input do not matter. */
    sl_s3_kv_t h2[] = {{"X-Amz-Date", DATE}, {"RANGE", "  bytes=0-9 "}, {"host", HOST},
                       {"X-Amz-Content-Sha256", SL_S3_EMPTY_SHA256}};
    sl_s3_sigreq_t r2 = req("GET", "/test.txt", NULL, 0, h2, 4, SL_S3_EMPTY_SHA256);
    assert_non_null(strstr(auth(&r2), "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));
}

static void put_object_example(void **state)
{
    (void)state;
    const char *body = "Welcome to Amazon S3.";
    char hash[65];
    sl_s3_sha256_hex(body, strlen(body), hash);
    assert_string_equal(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    sl_s3_kv_t h[] = {{"Host", HOST}, {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                      {"x-amz-date", DATE}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                      {"x-amz-content-sha256", hash}};
    sl_s3_sigreq_t r = req("PUT", "/test$file.text", NULL, 0, h, 5, hash);
    assert_non_null(strstr(auth(&r), "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;"
                                     "x-amz-storage-class, Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"));
}

static void get_lifecycle_example(void **state)
{
    (void)state;
    sl_s3_kv_t q[] = {{"lifecycle", ""}};
    sl_s3_kv_t h[] = {{"Host", HOST}, {"x-amz-date", DATE},
                      {"x-amz-content-sha256", SL_S3_EMPTY_SHA256}};
    sl_s3_sigreq_t r = req("GET", "/", q, 1, h, 3, SL_S3_EMPTY_SHA256);
    assert_non_null(strstr(auth(&r), "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"));
}

static void list_objects_example(void **state)
{
    (void)state;
    /* Given out of order: the signer sorts. */
    sl_s3_kv_t q[] = {{"prefix", "J"}, {"max-keys", "2"}};
    sl_s3_kv_t h[] = {{"Host", HOST}, {"x-amz-date", DATE},
                      {"x-amz-content-sha256", SL_S3_EMPTY_SHA256}};
    sl_s3_sigreq_t r = req("GET", "/", q, 2, h, 3, SL_S3_EMPTY_SHA256);
    assert_non_null(strstr(auth(&r), "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"));
}

static void query_canonicalisation(void **state)
{
    (void)state;
    sl_buf_t b;
    sl_err_t err = {0};
    sl_buf_init(&b, 4096);
    /* Sorted by encoded key, then value; flags get "="; reserved bytes, spaces, '/' and
     * UTF-8 percent-encoded in upper case; unreserved kept. */
    sl_s3_kv_t q[] = {{"uploads", ""},
                      {"prefix", "a b/c+d=e&f~g.h_i-j"},
                      {"list-type", "2"},
                      {"continuation-token", "1/Zm9v+YmFy=="},
                      {"Z", "caps sort first"},
                      {"prefix", "\xc3\xa9"}};
    assert_int_equal(sl_s3_canonical_query(&b, q, 6, &err), 0);
    assert_string_equal(b.data, "Z=caps%20sort%20first&"
                                "continuation-token=1%2FZm9v%2BYmFy%3D%3D&"
                                "list-type=2&"
                                "prefix=%C3%A9&"
                                "prefix=a%20b%2Fc%2Bd%3De%26f~g.h_i-j&"
                                "uploads=");
    sl_buf_reset(&b);
    assert_int_equal(sl_s3_canonical_query(&b, NULL, 0, &err), 0);
    assert_int_equal(b.len, 0);

    /* Object paths keep '/' but encode everything else the same way. */
    sl_buf_reset(&b);
    assert_int_equal(sl_s3_uri_encode(&b, "/bkt/dir/part-1 2$=.csv", true, &err), 0);
    assert_string_equal(b.data, "/bkt/dir/part-1%202%24%3D.csv");
    sl_buf_free(&b);
}

static void amz_date(void **state)
{
    (void)state;
    char d[17];
    sl_s3_amz_date(1369353600, d); /* 2013-05-24 00:00:00 UTC */
    assert_string_equal(d, DATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_object_example),     cmocka_unit_test(put_object_example),
        cmocka_unit_test(get_lifecycle_example),  cmocka_unit_test(list_objects_example),
        cmocka_unit_test(query_canonicalisation), cmocka_unit_test(amz_date),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
