/*
 * test_s3_xml.c: the S3 response parsers (src/target/store/s3_xml.c) on responses shaped
 * like AWS's and s3rver's: ListObjectsV2 pages (entities, truncation, empty results,
 * malformed entries), InitiateMultipartUpload, <Error> documents (including the late
 * error of a 200 CompleteMultipartUpload), and the CompleteMultipartUpload body.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "target/store/s3_xml.h"

typedef struct seen {
    char keys[8][128];
    uint64_t sizes[8];
    int n;
} seen_t;

static int collect(void *ctx, const char *key, uint64_t size, sl_err_t *err)
{
    seen_t *s = ctx;
    if (s->n >= 8)
        return sl_err_set(err, SL_E_LIMIT, "too many");
    snprintf(s->keys[s->n], sizeof s->keys[0], "%s", key);
    s->sizes[s->n++] = size;
    return 0;
}

#define S(x) x, strlen(x)

static void list_page(void **state)
{
    (void)state;
    const char *xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Name>bkt</Name><Prefix>out/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
        "<IsTruncated>true</IsTruncated>"
        "<Contents><Key>out/a&amp;b/part-1.csv</Key><LastModified>2026-11-27T00:00:00.000Z</LastModified>"
        "<ETag>&quot;abc&quot;</ETag><Size>123</Size><StorageClass>STANDARD</StorageClass></Contents>"
        "<Contents>\n  <Key>out/&#233;t&#xE9;/x &lt;y&gt;</Key>\n  <Size>0</Size>\n</Contents>"
        "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
        "</ListBucketResult>";
    seen_t s = {0};
    bool trunc;
    sl_buf_t next;
    sl_err_t err = {0};
    sl_buf_init(&next, 4096);
    assert_int_equal(sl_s3_xml_list(S(xml), collect, &s, &trunc, &next, &err), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.keys[0], "out/a&b/part-1.csv");
    assert_int_equal(s.sizes[0], 123);
    assert_string_equal(s.keys[1], "out/\xc3\xa9t\xc3\xa9/x <y>");
    assert_int_equal(s.sizes[1], 0);
    assert_true(trunc);
    assert_string_equal(next.data, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");

    /* The last page, and an empty one. */
    const char *last = "<ListBucketResult><IsTruncated>false</IsTruncated>"
                       "<Contents><Key>k</Key><Size>18446744073709551615</Size></Contents>"
                       "<KeyCount>1</KeyCount></ListBucketResult>";
    memset(&s, 0, sizeof s);
    assert_int_equal(sl_s3_xml_list(S(last), collect, &s, &trunc, &next, &err), 0);
    assert_int_equal(s.n, 1);
    assert_true(s.sizes[0] == UINT64_MAX);
    assert_false(trunc);
    assert_int_equal(next.len, 0);
    const char *empty = "<ListBucketResult><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>";
    memset(&s, 0, sizeof s);
    assert_int_equal(sl_s3_xml_list(S(empty), collect, &s, &trunc, &next, &err), 0);
    assert_int_equal(s.n, 0);
    sl_buf_free(&next);
}

static void list_malformed(void **state)
{
    (void)state;
    seen_t s = {0};
    bool trunc;
    sl_buf_t next;
    sl_err_t err = {0};
    sl_buf_init(&next, 4096);
    const char *nokey = "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>";
    assert_int_equal(sl_s3_xml_list(S(nokey), collect, &s, &trunc, &next, &err), -1);
    assert_int_equal(err.code, SL_E_PROTOCOL);
    const char *badsize = "<ListBucketResult><Contents><Key>a</Key><Size>-1</Size></Contents></ListBucketResult>";
    assert_int_equal(sl_s3_xml_list(S(badsize), collect, &s, &trunc, &next, &err), -1);
    assert_non_null(strstr(err.message, "bad Size of \"a\""));
    const char *badent = "<ListBucketResult><Contents><Key>a&bogus;</Key><Size>1</Size></Contents></ListBucketResult>";
    assert_int_equal(sl_s3_xml_list(S(badent), collect, &s, &trunc, &next, &err), -1);
    const char *notoken = "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>";
    assert_int_equal(sl_s3_xml_list(S(notoken), collect, &s, &trunc, &next, &err), -1);
    assert_non_null(strstr(err.message, "continuation token"));
    /* Cut short: no read past the end, no entry. */
    const char *cut = "<ListBucketResult><Contents><Key>abc";
    memset(&s, 0, sizeof s);
    assert_int_equal(sl_s3_xml_list(S(cut), collect, &s, &trunc, &next, &err), 0);
    assert_int_equal(s.n, 0);
    sl_buf_free(&next);
}

static void initiate_multipart(void **state)
{
    (void)state;
    const char *xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                      "<Bucket>bkt</Bucket><Key>out/big.csv</Key>"
                      "<UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>"
                      "</InitiateMultipartUploadResult>";
    sl_buf_t b;
    sl_err_t err = {0};
    sl_buf_init(&b, 1024);
    assert_true(sl_s3_xml_root_is(S(xml), "InitiateMultipartUploadResult"));
    assert_false(sl_s3_xml_root_is(S(xml), "Error"));
    assert_int_equal(sl_s3_xml_text(S(xml), "UploadId", &b, &err), 1);
    assert_string_equal(b.data, "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
    assert_int_equal(sl_s3_xml_text(S(xml), "Missing", &b, &err), 0);
    assert_int_equal(sl_s3_xml_text(S("<a><UploadId/></a>"), "UploadId", &b, &err), 1);
    assert_int_equal(b.len, 0);
    /* Too long for the buffer: an error, not a truncation. */
    sl_buf_t small;
    sl_buf_init(&small, 4);
    assert_int_equal(sl_s3_xml_text(S(xml), "UploadId", &small, &err), -1);
    assert_int_equal(err.code, SL_E_LIMIT);
    sl_buf_free(&small);
    sl_buf_free(&b);
}

static void error_documents(void **state)
{
    (void)state;
    const char *xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code>"
                      "<Message>The request signature we calculated does not match the signature you provided.</Message>"
                      "<StringToSign>AWS4-HMAC-SHA256…</StringToSign><SignatureProvided>abc</SignatureProvided>"
                      "<RequestId>1</RequestId></Error>";
    char code[64], msg[256];
    assert_true(sl_s3_xml_root_is(S(xml), "Error"));
    sl_s3_xml_error(S(xml), code, sizeof code, msg, sizeof msg);
    assert_string_equal(code, "SignatureDoesNotMatch");
    assert_string_equal(msg, "The request signature we calculated does not match the signature you provided.");
    /* A 200 CompleteMultipartUpload can carry an error. */
    const char *late = "<Error>\n<Code>InternalError</Code><Message>We encountered an internal error &amp; stopped.</Message></Error>";
    assert_true(sl_s3_xml_root_is(S(late), "Error"));
    sl_s3_xml_error(S(late), code, sizeof code, msg, 16);
    assert_string_equal(code, "InternalError");
    assert_int_equal(strlen(msg), 15); /* truncated, never overflowed */
    /* Not XML at all (a proxy's HTML page). */
    sl_s3_xml_error(S("<html>bad gateway</html>"), code, sizeof code, msg, sizeof msg);
    assert_string_equal(code, "");
    assert_string_equal(msg, "");
    assert_false(sl_s3_xml_root_is(S(""), "Error"));
    assert_false(sl_s3_xml_root_is(S("<ErrorX/>"), "Error"));
}

static void complete_body(void **state)
{
    (void)state;
    char *etags[] = {"\"a54357aff0632cce46d942af68356b38\"", "\"0c78aef83f66abc1fa1e8477f296d394\""};
    sl_buf_t b;
    sl_err_t err = {0};
    sl_buf_init(&b, 4096);
    assert_int_equal(sl_s3_xml_complete_body(&b, etags, 2, &err), 0);
    assert_string_equal(b.data,
                        "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                        "<Part><PartNumber>1</PartNumber><ETag>&quot;a54357aff0632cce46d942af68356b38&quot;</ETag></Part>"
                        "<Part><PartNumber>2</PartNumber><ETag>&quot;0c78aef83f66abc1fa1e8477f296d394&quot;</ETag></Part>"
                        "</CompleteMultipartUpload>");
    sl_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(list_page),       cmocka_unit_test(list_malformed),
        cmocka_unit_test(initiate_multipart), cmocka_unit_test(error_documents),
        cmocka_unit_test(complete_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
