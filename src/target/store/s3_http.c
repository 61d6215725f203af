/*
 * s3_http.c: see s3_http.h.
 */
#include "target/store/s3_http.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "target/store/s3_xml.h"

#define SCRATCH_MAX (1u << 20)
#define MAX_HEADERS 16

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int sl_s3_http_init(sl_s3_http_t *h, const sl_s3_conf_t *conf, sl_err_t *err)
{
    pthread_once(&curl_once, curl_init_once);
    memset(h, 0, sizeof *h);
    h->curl = curl_easy_init();
    if (!h->curl)
        return sl_err_set(err, SL_E_INTERNAL, "could not create a curl handle");
    h->conf = conf;
    h->attempts = 5;
    h->backoff_ms = 200;
    sl_buf_init(&h->scratch, SCRATCH_MAX);
    return 0;
}

void sl_s3_http_free(sl_s3_http_t *h)
{
    if (!h)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    h->curl = NULL;
    sl_buf_free(&h->scratch);
}

typedef struct io {
    const char *start; /* request body */
    const char *p;     /* what is left to send */
    size_t left;
    sl_buf_t *out; /* response body */
    bool over;     /* out's maximum was hit */
    sl_s3_resp_t *resp;
} io_t;

static size_t on_read(char *dst, size_t size, size_t n, void *ctx)
{
    io_t *io = ctx;
    size_t k = size * n < io->left ? size * n : io->left;
    if (!k)
        return 0;
    memcpy(dst, io->p, k);
    io->p += k;
    io->left -= k;
    return k;
}

/* curl rewinds the body when it resends on a reused connection that turned out dead. */
static int on_seek(void *ctx, curl_off_t off, int origin)
{
    io_t *io = ctx;
    if (!io->start)
        return origin == SEEK_SET && off == 0 ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_CANTSEEK;
    size_t total = (size_t)(io->p - io->start) + io->left;
    if (origin != SEEK_SET || off < 0 || (size_t)off > total)
        return CURL_SEEKFUNC_CANTSEEK;
    io->p = io->start + off;
    io->left = total - (size_t)off;
    return CURL_SEEKFUNC_OK;
}

static size_t on_write(char *src, size_t size, size_t n, void *ctx)
{
    io_t *io = ctx;
    sl_err_t e;
    if (sl_buf_add(io->out, src, size * n, &e)) {
        io->over = true;
        return 0;
    }
    return size * n;
}

static size_t on_header(char *src, size_t size, size_t n, void *ctx)
{
    io_t *io = ctx;
    size_t len = size * n;
    if (len > 5 && !strncasecmp(src, "etag:", 5)) {
        const char *v = src + 5;
        size_t vl = len - 5;
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        snprintf(io->resp->etag, sizeof io->resp->etag, "%.*s", (int)vl, v);
    }
    return len;
}

/* The request path from the root: "/bucket/key" (path style) or "/key". */
static int build_path(const sl_s3_conf_t *c, const char *key, sl_buf_t *out, sl_err_t *err)
{
    if (c->path_style && (sl_buf_addc(out, '/', err) || sl_buf_adds(out, c->bucket, err)))
        return -1;
    if (key && *key)
        return sl_buf_addc(out, '/', err) || sl_buf_adds(out, key, err) ? -1 : 0;
    return c->path_style ? 0 : sl_buf_addc(out, '/', err);
}

static bool retriable_status(const sl_s3_resp_t *resp)
{
    long s = resp->status;
    return s == 500 || s == 502 || s == 503 || s == 504 || s == 429 ||
           (s == 400 && !strcmp(resp->code, "RequestTimeout"));
}

static bool retriable_curl(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* One attempt. Returns the curl code; fills resp on a response. */
static CURLcode attempt(sl_s3_http_t *h, const sl_s3_req_t *r, const char *url, const char *path,
                        const char *hash, sl_s3_resp_t *resp, io_t *io, sl_err_t *err,
                        char *errbuf)
{
    const sl_s3_conf_t *c = h->conf;
    CURL *cu = h->curl;
    char date[17];
    sl_s3_amz_date(time(NULL), date);
    sl_s3_kv_t hs[MAX_HEADERS];
    int nh = 0;
    hs[nh++] = (sl_s3_kv_t){"host", c->host};
    hs[nh++] = (sl_s3_kv_t){"x-amz-content-sha256", hash};
    hs[nh++] = (sl_s3_kv_t){"x-amz-date", date};
    if (c->session_token)
        hs[nh++] = (sl_s3_kv_t){"x-amz-security-token", c->session_token};
    for (int i = 0; i < r->nheaders && nh < MAX_HEADERS; i++)
        hs[nh++] = r->headers[i];
    sl_s3_sigreq_t sr = {.method = r->method, .path = path, .query = r->query,
                         .nquery = r->nquery, .headers = hs, .nheaders = nh,
                         .payload_hash = hash, .amz_date = date, .region = c->region,
                         .service = "s3", .access_key = c->access_key,
                         .secret_key = c->secret_key};
    sl_buf_t auth, line;
    sl_buf_init(&auth, 8192);
    sl_buf_init(&line, 16384);
    struct curl_slist *list = NULL;
    CURLcode rc = CURLE_OUT_OF_MEMORY;
    if (sl_s3_authorization(&auth, &sr, err))
        goto done;
    for (int i = 0; i < nh; i++) {
        sl_buf_reset(&line);
        if (sl_buf_printf(&line, err, "%s: %s", hs[i].key, hs[i].value))
            goto done;
        struct curl_slist *nl = curl_slist_append(list, line.data);
        if (!nl)
            goto done;
        list = nl;
    }
    sl_buf_reset(&line);
    if (sl_buf_printf(&line, err, "Authorization: %s", auth.data))
        goto done;
    const char *fixed[] = {line.data, "Expect:",
                           !strcmp(r->method, "POST") ? "Content-Type: application/xml" : NULL};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        if (!fixed[i])
            continue;
        struct curl_slist *nl = curl_slist_append(list, fixed[i]);
        if (!nl)
            goto done;
        list = nl;
    }

    curl_easy_reset(cu);
    sl_buf_reset(io->out);
    io->over = false;
    io->start = io->p = r->body;
    io->left = r->body ? r->len : 0;
    resp->status = 0;
    resp->etag[0] = resp->code[0] = resp->message[0] = '\0';
    errbuf[0] = '\0';
    curl_easy_setopt(cu, CURLOPT_URL, url);
    curl_easy_setopt(cu, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(cu, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(cu, CURLOPT_LOW_SPEED_LIMIT, 1L); /* a stalled transfer, not a slow one */
    curl_easy_setopt(cu, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(cu, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(cu, CURLOPT_WRITEDATA, io);
    curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(cu, CURLOPT_HEADERDATA, io);
    if (!strcmp(r->method, "PUT")) {
        curl_easy_setopt(cu, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(cu, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(cu, CURLOPT_READDATA, io);
        curl_easy_setopt(cu, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(cu, CURLOPT_SEEKDATA, io);
        curl_easy_setopt(cu, CURLOPT_INFILESIZE_LARGE, (curl_off_t)io->left);
    } else if (!strcmp(r->method, "POST")) {
        curl_easy_setopt(cu, CURLOPT_POST, 1L);
        curl_easy_setopt(cu, CURLOPT_POSTFIELDS, r->body ? (const char *)r->body : "");
        curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)io->left);
    } else if (!strcmp(r->method, "HEAD")) {
        curl_easy_setopt(cu, CURLOPT_NOBODY, 1L);
    } else if (strcmp(r->method, "GET")) {
        curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, r->method);
    }
    rc = curl_easy_perform(cu);
    if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && io->over))
        curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &resp->status);
    if (rc == CURLE_OK && resp->status >= 300)
        sl_s3_xml_error(io->out->data ? io->out->data : "", io->out->len, resp->code,
                        sizeof resp->code, resp->message, sizeof resp->message);
    curl_easy_setopt(cu, CURLOPT_HTTPHEADER, NULL);
done:
    curl_slist_free_all(list);
    sl_buf_free(&auth);
    sl_buf_free(&line);
    return rc;
}

int sl_s3_http_do(sl_s3_http_t *h, const sl_s3_req_t *r, sl_s3_resp_t *resp, sl_err_t *err)
{
    const sl_s3_conf_t *c = h->conf;
    char hash[65];
    if (r->body_sha256)
        snprintf(hash, sizeof hash, "%s", r->body_sha256);
    else
        sl_s3_sha256_hex(r->body ? r->body : "", r->body ? r->len : 0, hash);
    sl_buf_t path, url;
    sl_buf_init(&path, 64 * 1024);
    sl_buf_init(&url, 128 * 1024);
    int rc = -1;
    if (build_path(c, r->key, &path, err) || sl_buf_adds(&url, c->base, err) ||
        sl_s3_uri_encode(&url, path.data, true, err))
        goto done;
    if (r->nquery &&
        (sl_buf_addc(&url, '?', err) || sl_s3_canonical_query(&url, r->query, r->nquery, err)))
        goto done;
    io_t io = {.out = resp->body ? resp->body : &h->scratch, .resp = resp};
    char errbuf[CURL_ERROR_SIZE];
    long delay = h->backoff_ms;
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)h;
    for (int i = 1;; i++) {
        resp->attempts = i;
        CURLcode cc = attempt(h, r, url.data, path.data, hash, resp, &io, err, errbuf);
        if (cc == CURLE_OUT_OF_MEMORY) {
            if (!err || err->code == SL_OK)
                sl_err_set(err, SL_E_INTERNAL, "out of memory");
            goto done;
        }
        if (cc == CURLE_WRITE_ERROR && io.over) {
            sl_err_set(err, SL_E_LIMIT, "S3 response larger than %zu bytes", io.out->max);
            goto done;
        }
        bool again = cc != CURLE_OK ? retriable_curl(cc) : retriable_status(resp);
        if (!again || i >= h->attempts) {
            if (cc != CURLE_OK) {
                sl_err_set(err, SL_E_CONNECT, "could not reach S3 endpoint \"%s\": %s",
                           c->endpoint, errbuf[0] ? errbuf : curl_easy_strerror(cc));
                sl_err_detail(err, "%s %s failed after %d attempt%s", r->method,
                              r->key && *r->key ? "an object" : "the bucket", i, i > 1 ? "s" : "");
                sl_err_hint(err, "check that the endpoint=… of the target URL is right and that "
                                 "the S3 server runs and is reachable from here");
                if (retriable_curl(cc))
                    sl_err_retriable(err);
                goto done;
            }
            rc = 0;
            goto done;
        }
        /* Exponential backoff with jitter, so parallel writers do not retry in step. */
        sleep_ms(delay + rand_r(&seed) % (delay / 2 + 1));
        delay = delay * 2 > 8000 ? 8000 : delay * 2;
    }
done:
    sl_buf_free(&path);
    sl_buf_free(&url);
    return rc;
}
