/*
 * s3.c: the S3 store (store.h) for s3:// targets: AWS S3 and S3-compatible servers
 * (MinIO, Ceph, s3rver…), signed with our own SigV4 (s3_sign.c) over libcurl
 * (s3_http.c).
 *
 * put_file sends a file up to part_size in one PUT, a larger one as a multipart upload:
 * parts read from the file one at a time into one buffer (memory is one part, whatever
 * the file's size), each PUT retried by s3_http.c, completed only when every part is in,
 * aborted on any failure, so an object is either whole or absent (store.h). A process
 * killed mid-upload leaves an incomplete multipart upload, which is invisible to readers
 * and listings (see docs/files.md for the bucket lifecycle rule that reclaims it).
 *
 * Errors name s3://bucket/key, never a credential, and say which source the credentials
 * came from. Thread: a store is used by one thread at a time (store.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "target/store/s3_conf.h"
#include "target/store/s3_http.h"
#include "target/store/s3_xml.h"
#include "target/store/store.h"

#define LIST_BODY_MAX (8u << 20)
#define MAX_PARTS 10000

typedef struct s3_store {
    sl_store_t base;
    sl_s3_conf_t conf;
    sl_s3_http_t http;
} s3_store_t;

extern const struct sl_store_ops sl_s3_store_ops;

/* "prefix/key" (or "key" at the bucket's root) into out. */
static int full_key(const s3_store_t *s, const char *key, sl_buf_t *out, sl_err_t *err)
{
    sl_buf_reset(out);
    if (s->conf.prefix[0] && sl_buf_printf(out, err, "%s/", s->conf.prefix))
        return -1;
    return sl_buf_adds(out, key, err);
}

static int check_key(const s3_store_t *s, const char *key, sl_err_t *err)
{
    if (sl_store_key_ok(key))
        return 0;
    sl_err_set(err, SL_E_CONFIG, "invalid object key \"%s\" for s3://%s/%s", key, s->conf.bucket,
               s->conf.prefix);
    sl_err_hint(err, "keys are relative paths without \"..\", \"//\" or backslashes");
    return -1;
}

/* Turns a response with an unexpected status into err: "could not VERB s3://WHERE: …". */
static int fail(const s3_store_t *s, const char *verb, const char *fkey,
                const sl_s3_resp_t *resp, sl_err_t *err)
{
    const sl_s3_conf_t *c = &s->conf;
    char where[700];
    snprintf(where, sizeof where, "s3://%s/%s", c->bucket, fkey ? fkey : c->prefix);
    const char *code = resp->code;
    long st = resp->status;
    if (!strcmp(code, "SignatureDoesNotMatch")) {
        sl_err_set(err, SL_E_CONNECT, "could not %s %s: the secret access key is wrong", verb, where);
        sl_err_detail(err, "the server answered %ld SignatureDoesNotMatch for access key id \"%s\" "
                           "(credentials from %s)", st, c->access_key, c->creds_from);
        sl_err_hint(err, "give the secret that belongs to access key id \"%s\": the target URL's "
                         "password (percent-encode '/' as %%2F), AWS_SECRET_ACCESS_KEY or the "
                         "credentials file", c->access_key);
    } else if (!strcmp(code, "InvalidAccessKeyId")) {
        sl_err_set(err, SL_E_CONNECT, "could not %s %s: the access key id \"%s\" is unknown to the server",
                   verb, where, c->access_key);
        sl_err_detail(err, "credentials from %s", c->creds_from);
        sl_err_hint(err, "check the access key id (the target URL's user, AWS_ACCESS_KEY_ID or the "
                         "credentials file) and the endpoint");
    } else if (!strcmp(code, "NoSuchBucket")) {
        sl_err_set(err, SL_E_NOT_FOUND, "could not %s %s: bucket \"%s\" does not exist", verb, where,
                   c->bucket);
        sl_err_detail(err, "endpoint %s, region %s", c->endpoint, c->region);
        sl_err_hint(err, "create the bucket, or fix the bucket name or endpoint in the target URL");
    } else if (!strcmp(code, "RequestTimeTooSkewed")) {
        sl_err_set(err, SL_E_CONNECT, "could not %s %s: this machine's clock is too far from the "
                                      "server's", verb, where);
        sl_err_hint(err, "synchronise the clock (NTP); S3 refuses signatures more than 15 minutes off");
    } else if (!strcmp(code, "PermanentRedirect") || !strcmp(code, "AuthorizationHeaderMalformed")) {
        sl_err_set(err, SL_E_CONFIG, "could not %s %s: the bucket is not in region \"%s\"", verb, where,
                   c->region);
        sl_err_detail(err, "the server answered %ld %s: %s", st, code, resp->message);
        sl_err_hint(err, "give the bucket's region as region=… in the target URL (or AWS_REGION)");
    } else if (st == 403) {
        sl_err_set(err, SL_E_PRIVILEGE, "could not %s %s: access denied", verb, where);
        sl_err_detail(err, "the server answered 403 %s: %s (access key id \"%s\", credentials from %s)",
                      code[0] ? code : "Forbidden", resp->message, c->access_key, c->creds_from);
        sl_err_hint(err, "grant s3:ListBucket, s3:GetObject, s3:PutObject, s3:DeleteObject and "
                         "s3:AbortMultipartUpload on the bucket and prefix");
    } else if (st >= 500 || st == 429 || !strcmp(code, "RequestTimeout")) {
        sl_err_set(err, SL_E_CONNECT, "could not %s %s: the server answered %ld %s", verb, where, st,
                   code[0] ? code : "");
        sl_err_detail(err, "%s (after %d attempts)", resp->message, resp->attempts);
        sl_err_hint(err, "the S3 server is failing or overloaded; sluice retries the batch later");
        return -1; /* SL_E_CONNECT is retriable */
    } else {
        sl_err_set(err, SL_E_PROTOCOL, "could not %s %s: the server answered %ld %s", verb, where, st,
                   code[0] ? code : "");
        if (resp->message[0])
            sl_err_detail(err, "%s", resp->message);
    }
    err->fatal = true;
    err->retriable = false;
    return -1;
}

static int request(s3_store_t *s, const char *verb, const sl_s3_req_t *r, sl_s3_resp_t *resp,
                   sl_err_t *err)
{
    if (sl_s3_http_do(&s->http, r, resp, err) == 0)
        return 0;
    sl_err_prefix(err, "could not %s s3://%s/%s: ", verb, s->conf.bucket,
                  r->key ? r->key : s->conf.prefix);
    return -1;
}

/* Headers of a new object: storage class, server-side encryption. */
static int object_headers(const s3_store_t *s, sl_s3_kv_t *h)
{
    int n = 0;
    if (s->conf.storage_class)
        h[n++] = (sl_s3_kv_t){"x-amz-storage-class", s->conf.storage_class};
    if (s->conf.sse)
        h[n++] = (sl_s3_kv_t){"x-amz-server-side-encryption", s->conf.sse};
    if (s->conf.sse_kms_key_id)
        h[n++] = (sl_s3_kv_t){"x-amz-server-side-encryption-aws-kms-key-id", s->conf.sse_kms_key_id};
    return n;
}

static void s3_close(sl_store_t *st)
{
    s3_store_t *s = (s3_store_t *)st;
    if (!s)
        return;
    sl_s3_http_free(&s->http);
    sl_s3_conf_clear(&s->conf);
    free(s);
}

/* Opens the store for a target (verb "write to") or a source ("read from"). */
static int open_as(const sl_url_t *url, sl_store_t **out, const char *verb, sl_err_t *err)
{
    for (int i = 0; i < url->nparams; i++)
        if (!sl_s3_conf_param(url->params[i].key)) {
            sl_err_set(err, SL_E_CONFIG, "unknown parameter \"%s\" in the S3 %s URL",
                       url->params[i].key, strcmp(verb, "write to") ? "source" : "target");
            char names[256];
            sl_err_hint(err, "S3 parameters are %s (docs/files.md)",
                        sl_opt_names_text(&sl_s3_url_params, names, sizeof names));
            return -1;
        }
    s3_store_t *s = calloc(1, sizeof *s);
    if (!s)
        return sl_err_set(err, SL_E_INTERNAL, "out of memory");
    s->base.ops = &sl_s3_store_ops;
    if (sl_s3_conf_from_url(url, &s->conf, err)) {
        free(s);
        return -1;
    }
    if (sl_s3_http_init(&s->http, &s->conf, err)) {
        sl_s3_conf_clear(&s->conf);
        free(s);
        return -1;
    }
    /* A signed listing of one key under the prefix: a wrong secret, an unknown key id, a
     * missing bucket or a dead endpoint fail here, before any data is read. */
    sl_buf_t pfx, body;
    sl_buf_init(&pfx, 4096);
    sl_buf_init(&body, LIST_BODY_MAX);
    int rc = -1;
    if (s->conf.prefix[0] && sl_buf_printf(&pfx, err, "%s/", s->conf.prefix))
        goto done;
    sl_s3_kv_t q[] = {{"list-type", "2"}, {"max-keys", "1"}, {"prefix", pfx.data ? pfx.data : ""}};
    sl_s3_req_t r = {.method = "GET", .query = q, .nquery = 3};
    sl_s3_resp_t resp = {.body = &body};
    if (request(s, verb, &r, &resp, err))
        goto done;
    if (resp.status != 200) {
        fail(s, verb, NULL, &resp, err);
        goto done;
    }
    rc = 0;
done:
    sl_buf_free(&pfx);
    sl_buf_free(&body);
    if (rc) {
        s3_close(&s->base);
        return -1;
    }
    *out = &s->base;
    return 0;
}

static int s3_open(const sl_url_t *url, sl_store_t **out, sl_err_t *err)
{
    return open_as(url, out, "write to", err);
}

static int s3_open_read(const sl_url_t *url, sl_store_t **out, sl_err_t *err)
{
    return open_as(url, out, "read from", err);
}

/* One PUT of data under the full key fk. */
static int put_object(s3_store_t *s, const char *fk, const void *data, size_t len, sl_err_t *err)
{
    sl_s3_kv_t h[4];
    int nh = object_headers(s, h);
    sl_s3_req_t r = {.method = "PUT", .key = fk, .headers = h, .nheaders = nh, .body = data,
                     .len = len};
    sl_s3_resp_t resp = {0};
    if (request(s, "write to", &r, &resp, err))
        return -1;
    return resp.status == 200 ? 0 : fail(s, "write to", fk, &resp, err);
}

static int s3_put(sl_store_t *st, const char *key, const void *data, size_t len, sl_err_t *err)
{
    s3_store_t *s = (s3_store_t *)st;
    if (check_key(s, key, err))
        return -1;
    sl_buf_t fk;
    sl_buf_init(&fk, 4096);
    int rc = full_key(s, key, &fk, err) ? -1 : put_object(s, fk.data, data, len, err);
    sl_buf_free(&fk);
    return rc;
}

/* Reads exactly n bytes at off of fd into buf. */
static int read_at(int fd, char *buf, size_t n, off_t off, const char *path, sl_err_t *err)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, buf + got, n - got, off + (off_t)got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            sl_err_set(err, SL_E_IO, "could not read file \"%s\": %s", path,
                       k < 0 ? strerror(errno) : "it shrank while being uploaded");
            return -1;
        }
        got += (size_t)k;
    }
    return 0;
}

typedef struct upload {
    char *id;
    char **etags;
    int nparts;
} upload_t;

static void abort_upload(s3_store_t *s, const char *fk, const upload_t *up)
{
    sl_s3_kv_t q[] = {{"uploadId", up->id}};
    sl_s3_req_t r = {.method = "DELETE", .key = fk, .query = q, .nquery = 1};
    sl_s3_resp_t resp = {0};
    sl_err_t ignored;
    sl_s3_http_do(&s->http, &r, &resp, &ignored); /* best effort: the failure is reported */
}

static int multipart(s3_store_t *s, const char *fk, int fd, const char *path, uint64_t size,
                     sl_err_t *err)
{
    size_t part = s->conf.part_size;
    while ((size + part - 1) / part > MAX_PARTS)
        part *= 2;
    int nparts = (int)((size + part - 1) / part);
    upload_t up = {0};
    char *buf = NULL;
    sl_buf_t body;
    sl_buf_init(&body, 1u << 20);
    int rc = -1;
    sl_s3_kv_t h[4];
    int nh = object_headers(s, h);
    sl_s3_kv_t qi[] = {{"uploads", ""}};
    sl_s3_req_t ri = {.method = "POST", .key = fk, .query = qi, .nquery = 1, .headers = h,
                      .nheaders = nh};
    sl_s3_resp_t resp = {.body = &body};
    if (request(s, "write to", &ri, &resp, err))
        goto done;
    if (resp.status != 200) {
        fail(s, "write to", fk, &resp, err);
        goto done;
    }
    sl_buf_t id;
    sl_buf_init(&id, 4096);
    int found = sl_s3_xml_text(body.data, body.len, "UploadId", &id, err);
    up.id = sl_buf_steal(&id, NULL);
    if (found <= 0 || !up.id || !up.id[0]) {
        if (found == 0)
            sl_err_set(err, SL_E_PROTOCOL, "could not write to s3://%s/%s: no UploadId in the "
                                           "server's answer to InitiateMultipartUpload", s->conf.bucket, fk);
        free(up.id);
        up.id = NULL;
        goto done;
    }
    up.etags = calloc((size_t)nparts, sizeof *up.etags);
    buf = malloc(part);
    if (!up.etags || !buf) {
        sl_err_set(err, SL_E_INTERNAL, "out of memory for a %zu-byte part", part);
        goto fail_abort;
    }
    for (int i = 0; i < nparts; i++) {
        uint64_t off = (uint64_t)i * part;
        size_t n = (size_t)(size - off < part ? size - off : part);
        if (read_at(fd, buf, n, (off_t)off, path, err))
            goto fail_abort;
        char num[16];
        snprintf(num, sizeof num, "%d", i + 1);
        sl_s3_kv_t q[] = {{"partNumber", num}, {"uploadId", up.id}};
        sl_s3_req_t r = {.method = "PUT", .key = fk, .query = q, .nquery = 2, .body = buf, .len = n};
        sl_s3_resp_t pr = {0};
        if (request(s, "write to", &r, &pr, err))
            goto fail_abort;
        if (pr.status != 200) {
            fail(s, "write to", fk, &pr, err);
            goto fail_abort;
        }
        if (!pr.etag[0]) {
            sl_err_set(err, SL_E_PROTOCOL, "could not write to s3://%s/%s: no ETag for part %d",
                       s->conf.bucket, fk, i + 1);
            goto fail_abort;
        }
        if (!(up.etags[i] = strdup(pr.etag))) {
            sl_err_set(err, SL_E_INTERNAL, "out of memory");
            goto fail_abort;
        }
        up.nparts = i + 1;
    }
    free(buf);
    buf = NULL;
    sl_buf_t xml;
    sl_buf_init(&xml, (size_t)nparts * 400 + 256);
    if (sl_s3_xml_complete_body(&xml, up.etags, nparts, err)) {
        sl_buf_free(&xml);
        goto fail_abort;
    }
    sl_s3_kv_t qc[] = {{"uploadId", up.id}};
    sl_s3_req_t rc2 = {.method = "POST", .key = fk, .query = qc, .nquery = 1, .body = xml.data,
                       .len = xml.len};
    resp = (sl_s3_resp_t){.body = &body};
    int sent = request(s, "write to", &rc2, &resp, err);
    sl_buf_free(&xml);
    if (sent)
        goto fail_abort;
    /* S3 may answer 200 and still fail the completion in the body. */
    if (resp.status == 200 && sl_s3_xml_root_is(body.data, body.len, "Error")) {
        sl_s3_xml_error(body.data, body.len, resp.code, sizeof resp.code, resp.message,
                        sizeof resp.message);
        resp.status = 500;
    }
    if (resp.status != 200) {
        fail(s, "write to", fk, &resp, err);
        goto fail_abort;
    }
    rc = 0;
    goto done;
fail_abort:
    abort_upload(s, fk, &up);
done:
    free(buf);
    if (up.etags)
        for (int i = 0; i < up.nparts; i++)
            free(up.etags[i]);
    free(up.etags);
    free(up.id);
    sl_buf_free(&body);
    return rc;
}

static int s3_put_file(sl_store_t *st, const char *key, const char *path, sl_err_t *err)
{
    s3_store_t *s = (s3_store_t *)st;
    if (check_key(s, key, err))
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sl_err_set(err, SL_E_IO, "could not open file \"%s\": %s", path, strerror(errno));
    struct stat sb;
    sl_buf_t fk;
    sl_buf_init(&fk, 4096);
    char *data = NULL;
    int rc = -1;
    if (fstat(fd, &sb)) {
        sl_err_set(err, SL_E_IO, "could not stat file \"%s\": %s", path, strerror(errno));
        goto done;
    }
    if (full_key(s, key, &fk, err))
        goto done;
    uint64_t size = (uint64_t)sb.st_size;
    if (size > s->conf.part_size) {
        rc = multipart(s, fk.data, fd, path, size, err);
    } else {
        data = malloc(size ? size : 1);
        if (!data) {
            sl_err_set(err, SL_E_INTERNAL, "out of memory");
            goto done;
        }
        if (read_at(fd, data, size, 0, path, err))
            goto done;
        rc = put_object(s, fk.data, data, size, err);
    }
    if (rc == 0 && unlink(path) && errno != ENOENT) /* consumed (store.h) */
        sl_err_set(err, SL_E_IO, "could not remove uploaded file \"%s\": %s", path, strerror(errno)),
            rc = -1;
done:
    free(data);
    close(fd);
    sl_buf_free(&fk);
    return rc;
}

/* Checks key, points r->key at its full key (built in fk, which the caller frees whatever
 * happens) and sends r. */
static int send_key(s3_store_t *s, const char *verb, const char *key, sl_buf_t *fk, sl_s3_req_t *r,
                    sl_s3_resp_t *resp, sl_err_t *err)
{
    sl_buf_init(fk, 4096);
    if (check_key(s, key, err) || full_key(s, key, fk, err))
        return -1;
    r->key = fk->data;
    return request(s, verb, r, resp, err);
}

static int s3_get(sl_store_t *st, const char *key, sl_buf_t *out, bool *found, sl_err_t *err)
{
    s3_store_t *s = (s3_store_t *)st;
    sl_buf_t fk;
    sl_s3_req_t r = {.method = "GET"};
    sl_s3_resp_t resp = {.body = out};
    *found = false;
    int rc = send_key(s, "read from", key, &fk, &r, &resp, err);
    if (rc == 0 && resp.status == 404 && !strcmp(resp.code, "NoSuchKey"))
        sl_buf_reset(out);
    else if (rc == 0 && resp.status == 200)
        *found = true;
    else if (rc == 0)
        rc = fail(s, "read from", fk.data, &resp, err);
    sl_buf_free(&fk);
    return rc;
}

static int s3_get_range(sl_store_t *st, const char *key, uint64_t off, void *dst, size_t n,
                        char *version, size_t vsize, sl_err_t *err)
{
    s3_store_t *s = (s3_store_t *)st;
    if (n == 0)
        return 0;
    char range[64];
    snprintf(range, sizeof range, "bytes=%llu-%llu", (unsigned long long)off,
             (unsigned long long)(off + n - 1));
    sl_s3_kv_t h[] = {{"range", range}};
    sl_buf_t fk, body;
    sl_buf_init(&body, n);
    sl_s3_req_t r = {.method = "GET", .headers = h, .nheaders = 1};
    sl_s3_resp_t resp = {.body = &body};
    int rc = send_key(s, "read from", key, &fk, &r, &resp, err);
    if (rc == 0 && resp.status == 404 && !strcmp(resp.code, "NoSuchKey")) {
        rc = sl_err_set(err, SL_E_NOT_FOUND, "object s3://%s/%s does not exist any more",
                        s->conf.bucket, fk.data);
    } else if (rc == 0 && resp.status != 206 && resp.status != 200) {
        rc = fail(s, "read from", fk.data, &resp, err);
    } else if (rc == 0 && body.len != n) {
        rc = sl_err_set(err, SL_E_DATA, "object s3://%s/%s ends before byte %llu",
                        s->conf.bucket, fk.data, (unsigned long long)(off + n));
    } else if (rc == 0) {
        memcpy(dst, body.data, n);
        if (version)
            snprintf(version, vsize, "%s", resp.etag);
    }
    sl_buf_free(&fk);
    sl_buf_free(&body);
    return rc;
}

typedef struct list_ctx {
    size_t strip; /* length of "prefix/" */
    sl_store_list_fn fn;
    void *ctx;
} list_ctx_t;

static int on_key(void *ctx, const char *key, uint64_t size, sl_err_t *err)
{
    list_ctx_t *lc = ctx;
    if (strlen(key) < lc->strip)
        return 0; /* cannot happen: S3 lists only under the prefix asked for */
    return lc->fn(lc->ctx, key + lc->strip, size, err);
}

static int s3_list(sl_store_t *st, const char *prefix, sl_store_list_fn fn, void *ctx, sl_err_t *err)
{
    s3_store_t *s = (s3_store_t *)st;
    sl_buf_t fp, body, token;
    sl_buf_init(&fp, 4096);
    sl_buf_init(&body, LIST_BODY_MAX);
    sl_buf_init(&token, 4096);
    int rc = -1;
    if (s->conf.prefix[0] && sl_buf_printf(&fp, err, "%s/", s->conf.prefix))
        goto done;
    list_ctx_t lc = {.strip = fp.len, .fn = fn, .ctx = ctx};
    if (sl_buf_adds(&fp, prefix ? prefix : "", err))
        goto done;
    for (;;) {
        sl_s3_kv_t q[] = {{"list-type", "2"}, {"prefix", fp.data}, {"continuation-token", token.data}};
        sl_s3_req_t r = {.method = "GET", .query = q, .nquery = token.len ? 3 : 2};
        sl_s3_resp_t resp = {.body = &body};
        if (request(s, "list", &r, &resp, err))
            goto done;
        if (resp.status != 200) {
            fail(s, "list", fp.data, &resp, err);
            goto done;
        }
        bool more;
        sl_buf_t next;
        sl_buf_init(&next, 4096);
        int lrc = sl_s3_xml_list(body.data, body.len, on_key, &lc, &more, &next, err);
        sl_buf_reset(&token);
        if (lrc == 0 && more)
            lrc = sl_buf_add(&token, next.data, next.len, err);
        sl_buf_free(&next);
        if (lrc)
            goto done;
        if (!more)
            break;
    }
    rc = 0;
done:
    sl_buf_free(&fp);
    sl_buf_free(&body);
    sl_buf_free(&token);
    return rc;
}

static int s3_remove(sl_store_t *st, const char *key, sl_err_t *err)
{
    s3_store_t *s = (s3_store_t *)st;
    sl_buf_t fk;
    sl_s3_req_t r = {.method = "DELETE"};
    sl_s3_resp_t resp = {0};
    int rc = send_key(s, "delete from", key, &fk, &r, &resp, err);
    bool gone = resp.status == 204 || resp.status == 200 ||
                (resp.status == 404 && !strcmp(resp.code, "NoSuchKey"));
    if (rc == 0 && !gone)
        rc = fail(s, "delete from", fk.data, &resp, err);
    sl_buf_free(&fk);
    return rc;
}

const struct sl_store_ops sl_s3_store_ops = {
    .name = "s3",
    .open = s3_open,
    .close = s3_close,
    .put_file = s3_put_file,
    .put = s3_put,
    .get = s3_get,
    .list = s3_list,
    .remove = s3_remove,
    .open_read = s3_open_read,
    .get_range = s3_get_range,
};
