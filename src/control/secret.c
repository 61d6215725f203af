/*
 * secret.c: the secret box and URL masking (see secret.h).
 */
#include "control/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/url.h"
#include "model/schema.h"

int sl_secret_key_parse(const char *text, sl_secret_key_t *key, sl_err_t *err)
{
    size_t n = strlen(text), got = 0;
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        n--;
    if (sodium_init() < 0)
        return sl_err_set(err, SL_E_INTERNAL, "could not initialise libsodium");
    if (n == 2 * SL_SECRET_KEYLEN &&
        sodium_hex2bin(key->k, sizeof key->k, text, n, NULL, &got, NULL) == 0 && got == SL_SECRET_KEYLEN)
        return 0;
    if (sodium_base642bin(key->k, sizeof key->k, text, n, NULL, &got, NULL,
                          sodium_base64_VARIANT_ORIGINAL) == 0 &&
        got == SL_SECRET_KEYLEN)
        return 0;
    sl_err_set(err, SL_E_CONFIG, "invalid secret key: not 32 bytes in hex or base64");
    sl_err_hint(err, "create one with `openssl rand -hex 32`");
    return -1;
}

int sl_secret_key_load(const char *env_value, const char *data_dir, sl_secret_key_t *key,
                       sl_err_t *err)
{
    if (env_value && *env_value) {
        if (sl_secret_key_parse(env_value, key, err)) {
            sl_err_prefix(err, "SLUICE_SECRET_KEY: ");
            return -1;
        }
        return 0;
    }
    char path[1100], text[200];
    snprintf(path, sizeof path, "%s/secret.key", data_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t r = read(fd, text, sizeof text - 1);
        close(fd);
        text[r > 0 ? r : 0] = '\0';
        if (sl_secret_key_parse(text, key, err)) {
            sl_err_prefix(err, "%s: ", path);
            return -1;
        }
        return 0;
    }
    if (errno != ENOENT)
        return sl_err_set(err, SL_E_IO, "could not open \"%s\": %s", path, strerror(errno));
    if (sodium_init() < 0)
        return sl_err_set(err, SL_E_INTERNAL, "could not initialise libsodium");
    randombytes_buf(key->k, sizeof key->k);
    sodium_bin2hex(text, sizeof text, key->k, sizeof key->k);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return sl_err_set(err, SL_E_IO, "could not create \"%s\": %s", path, strerror(errno));
    size_t len = strlen(text);
    text[len++] = '\n';
    if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
        close(fd);
        unlink(path);
        return sl_err_set(err, SL_E_IO, "could not write \"%s\": %s", path, strerror(errno));
    }
    close(fd);
    sodium_memzero(text, sizeof text);
    return 0;
}

void sl_secret_key_derive(const sl_secret_key_t *key, const char *purpose, sl_secret_key_t *out)
{
    char ctx[crypto_kdf_CONTEXTBYTES];
    memset(ctx, '_', sizeof ctx);
    memcpy(ctx, purpose, strnlen(purpose, sizeof ctx));
    if (sodium_init() < 0 || crypto_kdf_derive_from_key(out->k, sizeof out->k, 1, ctx, key->k) != 0)
        sl_oom(); /* sizes are constants: cannot fail */
}

char *sl_secret_seal(const sl_secret_key_t *key, const void *plain, size_t len)
{
    size_t blen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
    unsigned char *bin = malloc(blen);
    if (!bin)
        sl_oom();
    randombytes_buf(bin, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(bin + crypto_secretbox_NONCEBYTES, plain, len, bin, key->k);
    size_t tlen = sodium_base64_encoded_len(blen, sodium_base64_VARIANT_ORIGINAL);
    char *text = malloc(tlen);
    if (!text)
        sl_oom();
    sodium_bin2base64(text, tlen, bin, blen, sodium_base64_VARIANT_ORIGINAL);
    free(bin);
    return text;
}

char *sl_secret_open(const sl_secret_key_t *key, const char *sealed, size_t *len, sl_err_t *err)
{
    size_t slen = strlen(sealed), blen = 0;
    unsigned char *bin = malloc(slen + 1);
    if (!bin)
        sl_oom();
    if (sodium_base642bin(bin, slen + 1, sealed, slen, NULL, &blen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        blen < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
        free(bin);
        sl_err_set(err, SL_E_PROTOCOL, "a stored secret is damaged");
        return NULL;
    }
    size_t plen = blen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    char *plain = malloc(plen + 1);
    if (!plain)
        sl_oom();
    if (crypto_secretbox_open_easy((unsigned char *)plain, bin + crypto_secretbox_NONCEBYTES,
                                   blen - crypto_secretbox_NONCEBYTES, bin, key->k) != 0) {
        free(bin);
        free(plain);
        sl_err_set(err, SL_E_CONFIG, "could not decrypt a stored secret");
        sl_err_detail(err, "it was encrypted with another secret key, or it is damaged");
        sl_err_hint(err, "start the server with the SLUICE_SECRET_KEY or DATA_DIR/secret.key it "
                         "had when the secret was stored");
        return NULL;
    }
    free(bin);
    plain[plen] = '\0';
    if (len)
        *len = plen;
    return plain;
}

char *sl_secret_url_password(const char *url)
{
    sl_url_t *u;
    sl_err_t err;
    if (sl_url_parse(url, &u, &err))
        return NULL;
    char *p = u->password ? sl_strdup(u->password) : NULL;
    sl_url_free(u);
    return p;
}

char *sl_secret_scrub(const char *s, const char *const *secrets)
{
    char *cur = sl_strdup(s);
    for (const char *const *p = secrets; p && *p; p++) {
        size_t sl = strlen(*p);
        if (sl == 0)
            continue;
        char *hit;
        while ((hit = strstr(cur, *p))) {
            size_t pre = (size_t)(hit - cur), n = strlen(cur) - sl + strlen(SL_SECRET_MASK) + 1;
            char *o = malloc(n);
            if (!o)
                sl_oom();
            snprintf(o, n, "%.*s%s%s", (int)pre, cur, SL_SECRET_MASK, hit + sl);
            free(cur);
            cur = o;
        }
    }
    return cur;
}

void sl_secret_free(char *s)
{
    if (s)
        sodium_memzero(s, strlen(s));
    free(s);
}

void sl_secret_list_free(char **list)
{
    for (char **p = list; p && *p; p++)
        sl_secret_free(*p);
    free(list);
}
