/*
 * http_client.c: libcurl requests to `sluice server` (see http_client.h).
 */
#define _GNU_SOURCE /* asprintf */
#include "cli/http_client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "core/mem.h"

#define MAX_BODY (16u << 20)
#define CONNECT_TIMEOUT_S 5L

struct sl_http {
    CURL *curl;
    char *base;
    char *auth; /* "Authorization: Bearer <key>", or NULL */
    char *ca;   /* CA file for https, or NULL: the system's */
};

/* What a transfer's callbacks share. */
typedef struct xfer {
    sl_http_t *h;
    sl_buf_t body;
    bool too_large;
    /* streaming only */
    int (*on_data)(const char *, size_t, void *);
    void *arg;
    bool ended_by_callback;
    volatile int *stop;
} xfer_t;

static size_t on_write(char *p, size_t size, size_t n, void *arg)
{
    xfer_t *x = arg;
    size_t len = size * n;
    if (x->on_data) {
        long status = 0;
        curl_easy_getinfo(x->h->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status == 200) {
            if (x->on_data(p, len, x->arg) != 0) {
                x->ended_by_callback = true;
                return 0;
            }
            return len;
        }
    }
    if (sl_buf_add(&x->body, p, len, NULL)) {
        x->too_large = true;
        return 0;
    }
    return len;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    xfer_t *x = arg;
    return x->stop && *x->stop ? 1 : 0;
}

int sl_http_new(const char *base_url, const char *api_key, sl_http_t **out, sl_err_t *err)
{
    static bool global_done;
    if (!global_done) {
        /* The CLI is single-threaded when it gets here. */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return sl_err_set(err, SL_E_INTERNAL, "could not initialise libcurl");
        global_done = true;
    }
    sl_http_t *h = calloc(1, sizeof *h);
    if (!h)
        sl_oom();
    h->curl = curl_easy_init();
    h->base = strdup(base_url);
    if (!h->curl || !h->base)
        sl_oom();
    if (api_key && api_key[0] && asprintf(&h->auth, "Authorization: Bearer %s", api_key) < 0)
        sl_oom();
    *out = h;
    return 0;
}

int sl_http_set_ca(sl_http_t *h, const char *ca_file, sl_err_t *err)
{
    FILE *f = fopen(ca_file, "re");
    if (!f) {
        sl_err_set(err, SL_E_CONFIG, "could not read the CA file \"%s\": %s", ca_file, strerror(errno));
        sl_err_hint(err, "give the PEM file of the CA that signed the server's certificate (--ca or SLUICE_CA)");
        return -1;
    }
    fclose(f);
    free(h->ca);
    h->ca = strdup(ca_file);
    if (!h->ca)
        sl_oom();
    return 0;
}

void sl_http_free(sl_http_t *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->curl);
    free(h->base);
    free(h->ca);
    if (h->auth) {
        memset(h->auth, 0, strlen(h->auth));
        free(h->auth);
    }
    free(h);
}

/* Sets what every request shares; returns the header list to free after the transfer. */
static struct curl_slist *prepare(sl_http_t *h, xfer_t *x, const char *method, const char *path,
                                  const char *accept, char *errbuf, char **url)
{
    CURL *c = h->curl;
    curl_easy_reset(c);
    if (asprintf(url, "%s%s", h->base, path) < 0)
        sl_oom();
    curl_easy_setopt(c, CURLOPT_URL, *url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "sluice-cli");
    /* The peer and host checks stay on (libcurl's default): there is no switch to skip them. */
    if (h->ca)
        curl_easy_setopt(c, CURLOPT_CAINFO, h->ca);
    struct curl_slist *hdr = NULL;
    hdr = curl_slist_append(hdr, accept);
    if (h->auth)
        hdr = curl_slist_append(hdr, h->auth);
    return hdr;
}

/* A failed transfer as an error; the URL never holds the key. */
static int transfer_err(sl_http_t *h, CURLcode rc, const char *errbuf, sl_err_t *err)
{
    bool https = strncmp(h->base, "https://", 8) == 0;
    sl_err_set(err, SL_E_CONNECT, "could not reach sluice server at %s: %s", h->base,
               errbuf[0] ? errbuf : curl_easy_strerror(rc));
    if (rc == CURLE_PEER_FAILED_VERIFICATION)
        sl_err_hint(err, "the server's certificate is not one this client trusts%s: give the CA that signed it with "
                         "--ca FILE or SLUICE_CA, and use the host name the certificate names",
                    h->ca ? " with that CA file" : "");
    else if (rc == CURLE_SSL_CACERT_BADFILE)
        sl_err_hint(err, "the CA file (--ca or SLUICE_CA) must hold PEM certificates");
    else if (https && rc == CURLE_SSL_CONNECT_ERROR)
        sl_err_hint(err, "does the server serve HTTPS (sluice server --tls-cert)? If not, its URL starts with http://");
    else if (!https && (rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR))
        sl_err_hint(err, "a server started with --tls-cert speaks HTTPS only: use https:// in --url or SLUICE_URL");
    else
        sl_err_hint(err, "is `sluice server` running there? Give its address with --url or SLUICE_URL");
    return -1;
}

static void take_body(xfer_t *x, json_t **resp, char **raw)
{
    *resp = NULL;
    if (raw)
        *raw = NULL;
    if (x->body.len == 0)
        return;
    *resp = json_loadb(x->body.data, x->body.len, 0, NULL);
    if (!*resp && raw) {
        size_t n = x->body.len < 300 ? x->body.len : 300;
        *raw = strndup(x->body.data, n);
    }
}

int sl_http_call(sl_http_t *h, const char *method, const char *path, const char *body, long timeout_s,
                 long *status, json_t **resp, char **raw, sl_err_t *err)
{
    xfer_t x = {.h = h};
    sl_buf_init(&x.body, MAX_BODY);
    char errbuf[CURL_ERROR_SIZE] = "";
    char *url = NULL;
    struct curl_slist *hdr = prepare(h, &x, method, path, "Accept: application/json", errbuf, &url);
    if (body) {
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdr);
    if (timeout_s > 0)
        curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, timeout_s);
    CURLcode rc = curl_easy_perform(h->curl);
    curl_slist_free_all(hdr);
    free(url);
    int ret = 0;
    if (x.too_large) {
        ret = sl_err_set(err, SL_E_LIMIT, "the server's response to %s %s is larger than %u bytes", method, path,
                         MAX_BODY);
    } else if (rc != CURLE_OK) {
        ret = transfer_err(h, rc, errbuf, err);
    } else {
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, status);
        take_body(&x, resp, raw);
    }
    sl_buf_free(&x.body);
    return ret;
}

int sl_http_stream(sl_http_t *h, const char *path, long idle_s, int (*on_data)(const char *, size_t, void *),
                   void *arg, volatile int *stop, long *status, json_t **resp, sl_err_t *err)
{
    xfer_t x = {.h = h, .on_data = on_data, .arg = arg, .stop = stop};
    sl_buf_init(&x.body, MAX_BODY);
    char errbuf[CURL_ERROR_SIZE] = "";
    char *url = NULL;
    struct curl_slist *hdr = prepare(h, &x, "GET", path, "Accept: text/event-stream", errbuf, &url);
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h->curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, &x);
    if (idle_s > 0) {
        curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_TIME, idle_s);
    }
    CURLcode rc = curl_easy_perform(h->curl);
    curl_slist_free_all(hdr);
    free(url);
    *status = 0;
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, status);
    *resp = NULL;
    int ret = 0;
    if (x.too_large)
        ret = sl_err_set(err, SL_E_LIMIT, "the server's response to GET %s is larger than %u bytes", path, MAX_BODY);
    else if (rc != CURLE_OK && *status == 0 && rc != CURLE_ABORTED_BY_CALLBACK)
        ret = transfer_err(h, rc, errbuf, err);
    else if (*status != 200)
        take_body(&x, resp, NULL);
    sl_buf_free(&x.body);
    return ret;
}

char *sl_http_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(n * 3 + 1);
    if (!out)
        sl_oom();
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return out;
}
