/*
 * s3_sign.c: see s3_sign.h. Follows "Signature Version 4 signing process" of the AWS
 * docs: canonical request -> string to sign -> HMAC chain of the signing key -> signature.
 * SHA-256 and HMAC come from OpenSSL's libcrypto (SHA-NI accelerated where the CPU has
 * it, which matters for hashing every uploaded byte).
 */
#include "target/store/s3_sign.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

static const char HEX[] = "0123456789abcdef";

static void hex(const unsigned char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX[p[i] >> 4];
        out[2 * i + 1] = HEX[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void sl_s3_sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
    hex(md, 32, out);
}

void sl_s3_amz_date(time_t t, char out[17])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

int sl_s3_uri_encode(sl_buf_t *out, const char *s, bool keep_slash, sl_err_t *err)
{
    static const char UHEX[] = "0123456789ABCDEF";
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        bool plain = isalnum(*c) || *c == '-' || *c == '.' || *c == '_' || *c == '~' ||
                     (keep_slash && *c == '/');
        if (plain && *c < 0x80) {
            if (sl_buf_addc(out, (char)*c, err))
                return -1;
        } else {
            char e[3] = {'%', UHEX[*c >> 4], UHEX[*c & 15]};
            if (sl_buf_add(out, e, 3, err))
                return -1;
        }
    }
    return 0;
}

/* An encoded query parameter or a normalised header, for sorting. */
typedef struct pair {
    char *key;
    char *value;
} pair_t;

static int pair_cmp(const void *a, const void *b)
{
    const pair_t *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

static void pairs_free(pair_t *p, int n)
{
    if (!p)
        return;
    for (int i = 0; i < n; i++) {
        free(p[i].key);
        free(p[i].value);
    }
    free(p);
}

/* Encodes s into a new string (NULL on failure with err set). */
static char *encoded(const char *s, sl_err_t *err)
{
    sl_buf_t b;
    sl_buf_init(&b, 64 * 1024);
    if (sl_buf_adds(&b, "", err) || sl_s3_uri_encode(&b, s, false, err)) {
        sl_buf_free(&b);
        return NULL;
    }
    return sl_buf_steal(&b, NULL);
}

int sl_s3_canonical_query(sl_buf_t *out, const sl_s3_kv_t *q, int n, sl_err_t *err)
{
    if (n <= 0)
        return 0;
    pair_t *p = calloc((size_t)n, sizeof *p);
    if (!p)
        return sl_err_set(err, SL_E_INTERNAL, "out of memory");
    int rc = -1;
    for (int i = 0; i < n; i++) {
        if (!(p[i].key = encoded(q[i].key, err)) ||
            !(p[i].value = encoded(q[i].value ? q[i].value : "", err)))
            goto done;
    }
    qsort(p, (size_t)n, sizeof *p, pair_cmp);
    for (int i = 0; i < n; i++) {
        if ((i && sl_buf_addc(out, '&', err)) || sl_buf_adds(out, p[i].key, err) ||
            sl_buf_addc(out, '=', err) || sl_buf_adds(out, p[i].value, err))
            goto done;
    }
    rc = 0;
done:
    pairs_free(p, n);
    return rc;
}

/* Header name lowercased; value with leading/trailing spaces trimmed and inner runs of
 * spaces collapsed to one, as SigV4 wants. */
static int header_pair(pair_t *p, const sl_s3_kv_t *h, sl_err_t *err)
{
    p->key = strdup(h->key);
    p->value = malloc(strlen(h->value ? h->value : "") + 1);
    if (!p->key || !p->value)
        return sl_err_set(err, SL_E_INTERNAL, "out of memory");
    for (char *c = p->key; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    const char *s = h->value ? h->value : "";
    char *o = p->value;
    while (*s == ' ' || *s == '\t')
        s++;
    bool space = false;
    for (; *s; s++) {
        if (*s == ' ' || *s == '\t') {
            space = true;
            continue;
        }
        if (space && o != p->value)
            *o++ = ' ';
        space = false;
        *o++ = *s;
    }
    *o = '\0';
    return 0;
}

int sl_s3_canonical_request(sl_buf_t *out, sl_buf_t *signed_headers, const sl_s3_sigreq_t *r,
                            sl_err_t *err)
{
    if (sl_buf_adds(out, r->method, err) || sl_buf_addc(out, '\n', err))
        return -1;
    const char *path = r->path && r->path[0] ? r->path : "/";
    if (sl_s3_uri_encode(out, path, true, err) || sl_buf_addc(out, '\n', err) ||
        sl_s3_canonical_query(out, r->query, r->nquery, err) || sl_buf_addc(out, '\n', err))
        return -1;
    int n = r->nheaders;
    pair_t *h = calloc((size_t)(n > 0 ? n : 1), sizeof *h);
    if (!h)
        return sl_err_set(err, SL_E_INTERNAL, "out of memory");
    int rc = -1;
    for (int i = 0; i < n; i++)
        if (header_pair(&h[i], &r->headers[i], err))
            goto done;
    qsort(h, (size_t)n, sizeof *h, pair_cmp);
    for (int i = 0; i < n; i++)
        if (sl_buf_adds(out, h[i].key, err) || sl_buf_addc(out, ':', err) ||
            sl_buf_adds(out, h[i].value, err) || sl_buf_addc(out, '\n', err))
            goto done;
    if (sl_buf_addc(out, '\n', err))
        goto done;
    size_t mark = out->len;
    for (int i = 0; i < n; i++)
        if ((i && sl_buf_addc(out, ';', err)) || sl_buf_adds(out, h[i].key, err))
            goto done;
    if (signed_headers && sl_buf_add(signed_headers, out->data + mark, out->len - mark, err))
        goto done;
    if (sl_buf_addc(out, '\n', err) || sl_buf_adds(out, r->payload_hash, err))
        goto done;
    rc = 0;
done:
    pairs_free(h, n);
    return rc;
}

static void hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &len);
}

int sl_s3_authorization(sl_buf_t *out, const sl_s3_sigreq_t *r, sl_err_t *err)
{
    if (!r->amz_date || strlen(r->amz_date) != 16)
        return sl_err_set(err, SL_E_INTERNAL, "SigV4: bad x-amz-date");
    char day[9];
    memcpy(day, r->amz_date, 8);
    day[8] = '\0';
    sl_buf_t creq, sh, sts;
    sl_buf_init(&creq, 1 << 20);
    sl_buf_init(&sh, 64 * 1024);
    sl_buf_init(&sts, 64 * 1024);
    int rc = -1;
    if (sl_s3_canonical_request(&creq, &sh, r, err))
        goto done;
    char creq_hash[65];
    sl_s3_sha256_hex(creq.data, creq.len, creq_hash);
    if (sl_buf_printf(&sts, err, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", r->amz_date,
                      day, r->region, r->service, creq_hash))
        goto done;
    /* signing key = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service),
     * "aws4_request") */
    size_t slen = strlen(r->secret_key);
    char *k0 = malloc(slen + 5);
    if (!k0) {
        sl_err_set(err, SL_E_INTERNAL, "out of memory");
        goto done;
    }
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, r->secret_key, slen + 1);
    unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
    hmac(k0, slen + 4, day, k1);
    memset(k0, 0, slen + 4);
    free(k0);
    hmac(k1, 32, r->region, k2);
    hmac(k2, 32, r->service, k3);
    hmac(k3, 32, "aws4_request", k4);
    hmac(k4, 32, sts.data, sig);
    char sighex[65];
    hex(sig, 32, sighex);
    rc = sl_buf_printf(out, err,
                       "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
                       "SignedHeaders=%s, Signature=%s",
                       r->access_key, day, r->region, r->service, sh.data, sighex);
    memset(k4, 0, sizeof k4);
done:
    sl_buf_free(&creq);
    sl_buf_free(&sh);
    sl_buf_free(&sts);
    return rc;
}
