/*
 * bus_conf.c: how sluice reaches its broker: the NATS URL with its credentials and TLS
 * settings (docs/server.md "Broker"), parsed once and applied to nats.c's options for
 * every connection sluice opens (data path, monitor, KV store).
 *
 *   nats://[user:password@ | token@]host:port[,host:port…][?creds=FILE&nkey=FILE
 *          &ca=FILE&cert=FILE&key=FILE&tls=true&replicas=N]   (tls://… means tls=true)
 *
 * replicas= is not the client's: it is how many copies of its JetStream streams and KV
 * buckets sluice asks a cluster for (docs/cluster.md).
 *
 * The password and token never reach nats.c inside a URL (its errors would print them):
 * the servers go to natsOptions_SetServers without user info. An NKey seed file's public
 * key is derived here (ed25519 from the seed, libsodium), since nats.c wants both.
 * sl_bus_conf_parse and sl_bus_nkey_public are pure.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "broker/bus.h"
#include "core/url.h"
#include "model/schema.h"

void sl_bus_conf_free(sl_bus_conf_t *c)
{
    for (int i = 0; i < c->nservers; i++)
        free(c->servers[i]);
    free(c->servers);
    free(c->user);
    if (c->password)
        sodium_memzero(c->password, strlen(c->password));
    free(c->password);
    if (c->token)
        sodium_memzero(c->token, strlen(c->token));
    free(c->token);
    free(c->creds);
    free(c->nkey);
    free(c->ca);
    free(c->cert);
    free(c->key);
    memset(c, 0, sizeof *c);
}

static int conf_bad(sl_err_t *err, const char *hint, const char *fmt, const char *what)
{
    sl_err_set(err, SL_E_CONFIG, fmt, what);
    sl_err_hint(err, "%s", hint);
    return -1;
}

/* One server of the list: its "scheme://host:port" and its settings into c. */
static int one_server(const char *text, sl_bus_conf_t *c, sl_err_t *err)
{
    static const char *const known[] = {"creds", "nkey", "ca", "cert", "key", "tls", "replicas", NULL};
    sl_url_t *u;
    if (sl_url_parse(text, &u, err)) {
        sl_err_prefix(err, "NATS URL: ");
        return -1;
    }
    int rc = -1;
    if (strcmp(u->scheme, "nats") && strcmp(u->scheme, "tls")) {
        conf_bad(err, "write it like nats://127.0.0.1:4222 (tls://… for TLS)", "NATS URL: unknown scheme \"%s\"",
                 u->scheme);
        goto out;
    }
    if (!u->host) {
        conf_bad(err, "write it like nats://127.0.0.1:4222", "NATS URL: %s", "no host");
        goto out;
    }
    if (u->path[0]) {
        conf_bad(err, "a NATS URL has no path: nats://host:port?creds=FILE", "NATS URL: unexpected path \"/%s\"",
                 u->path);
        goto out;
    }
    c->tls = c->tls || !strcmp(u->scheme, "tls");
    for (int i = 0; i < u->nparams; i++) {
        const char *k = u->params[i].key, *v = u->params[i].value;
        int j = 0;
        while (known[j] && strcmp(known[j], k))
            j++;
        if (!known[j]) {
            conf_bad(err, "NATS URL parameters are creds, nkey, ca, cert, key, tls and replicas",
                     "NATS URL: unknown parameter \"%s\"", k);
            goto out;
        }
        if (!strcmp(k, "tls")) {
            c->tls = c->tls || !strcmp(v, "true") || !strcmp(v, "1");
            continue;
        }
        if (!strcmp(k, "replicas")) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 1 || n > 5) {
                conf_bad(err, "a JetStream stream has 1 to 5 replicas: replicas=3", "NATS URL: bad replicas \"%s\"", v);
                goto out;
            }
            c->replicas = (int)n;
            continue;
        }
        char **slot = !strcmp(k, "creds") ? &c->creds
                      : !strcmp(k, "nkey") ? &c->nkey
                      : !strcmp(k, "ca")   ? &c->ca
                      : !strcmp(k, "cert") ? &c->cert
                                           : &c->key;
        free(*slot);
        *slot = sl_strdup(v);
    }
    if (u->user && !c->user && !c->token) {
        if (u->password) {
            c->user = sl_strdup(u->user);
            c->password = sl_strdup(u->password);
        } else {
            c->token = sl_strdup(u->user); /* nats://TOKEN@host */
        }
    }
    char server[600];
    bool v6 = strchr(u->host, ':') != NULL;
    snprintf(server, sizeof server, "%s://%s%s%s:%d", u->scheme, v6 ? "[" : "", u->host, v6 ? "]" : "",
             u->port ? u->port : 4222);
    c->servers = realloc(c->servers, sizeof *c->servers * (size_t)(c->nservers + 1));
    if (!c->servers)
        sl_oom();
    c->servers[c->nservers++] = sl_strdup(server);
    rc = 0;
out:
    sl_url_free(u);
    return rc;
}

int sl_bus_conf_parse(const char *url, sl_bus_conf_t *c, sl_err_t *err)
{
    memset(c, 0, sizeof *c);
    if (!url || !*url)
        return conf_bad(err, "write it like nats://127.0.0.1:4222", "NATS URL: %s", "empty");
    char *copy = sl_strdup(url);
    int rc = 0;
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && rc == 0; t = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*t))
            t++;
        rc = one_server(t, c, err);
    }
    sodium_memzero(copy, strlen(copy));
    free(copy);
    if (rc == 0 && !c->nservers)
        rc = conf_bad(err, "write it like nats://127.0.0.1:4222", "NATS URL: %s", "no server");
    if (rc == 0 && (!c->cert) != (!c->key))
        rc = conf_bad(err, "give both: cert=FILE&key=FILE (or --nats-cert and --nats-key)",
                      "NATS URL: a TLS client %s needs the other half", c->cert ? "certificate" : "key");
    if (rc == 0 && c->creds && c->nkey)
        rc = conf_bad(err, "a .creds file holds its own key: give one of them", "NATS URL: %s",
                      "both creds and nkey");
    if (rc == 0 && (c->ca || c->cert))
        c->tls = true;
    if (rc)
        sl_bus_conf_free(c);
    return rc;
}

int sl_bus_replicas(const char *url, bool *exact)
{
    sl_bus_conf_t c;
    sl_err_t ignored;
    *exact = false;
    if (sl_bus_conf_parse(url, &c, &ignored))
        return 3;
    int n = c.replicas ? c.replicas : 3;
    *exact = c.replicas != 0;
    sl_bus_conf_free(&c);
    return n;
}

bool sl_bus_unclustered(natsStatus s, int jerr)
{
    if (s == NATS_OK)
        return false;
    if (jerr == JSStreamReplicasNotSupportedErr || jerr == JSClusterNotActiveErr)
        return true;
    const char *last = nats_GetLastError(NULL);
    return last && (strstr(last, "non-clustered") || strstr(last, "replicas > 1"));
}

/* ---- NKeys -------------------------------------------------------------------------- */

static uint16_t crc16(const unsigned char *p, size_t n)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* Base32 (RFC 4648, no padding) of n bytes into out (room for 8n/5+2). */
static void b32_encode(const unsigned char *p, size_t n, char *out)
{
    unsigned buf = 0;
    int bits = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        buf = (buf << 8) | p[i];
        bits += 8;
        while (bits >= 5) {
            out[k++] = B32[(buf >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits)
        out[k++] = B32[(buf << (5 - bits)) & 31];
    out[k] = '\0';
}

/* Decodes base32 text (n chars) into out (cap bytes): the byte count, or -1. */
static int b32_decode(const char *t, size_t n, unsigned char *out, size_t cap)
{
    unsigned buf = 0;
    int bits = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *at = strchr(B32, t[i]);
        if (!t[i] || !at)
            return -1;
        buf = (buf << 5) | (unsigned)(at - B32);
        bits += 5;
        if (bits >= 8) {
            if (k == cap)
                return -1;
            out[k++] = (unsigned char)(buf >> (bits - 8));
            bits -= 8;
        }
    }
    return (int)k;
}

int sl_bus_nkey_public(const char *seed, char *pub, size_t size, sl_err_t *err)
{
    enum { PREFIX_SEED = 18 << 3, PREFIX_USER = 20 << 3 };
    unsigned char raw[40], pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    size_t n = strcspn(seed, " \t\r\n");
    int got = b32_decode(seed, n, raw, sizeof raw);
    int rc = -1;
    if (got != 36 || crc16(raw, 34) != (uint16_t)(raw[34] | raw[35] << 8) || (raw[0] & 0xf8) != PREFIX_SEED) {
        sl_err_set(err, SL_E_CONFIG, "not an NKey seed");
        sl_err_hint(err, "an NKey seed file holds one line starting with \"SU\" (a user seed)");
        goto out;
    }
    int prefix = (raw[0] & 7) << 5 | (raw[1] & 0xf8) >> 3;
    if (prefix != PREFIX_USER) {
        sl_err_set(err, SL_E_CONFIG, "the NKey seed is not a user's");
        sl_err_hint(err, "sluice connects as a user: give a seed starting with \"SU\"");
        goto out;
    }
    if (sodium_init() < 0 || crypto_sign_seed_keypair(pk, sk, raw + 2) != 0) {
        sl_err_set(err, SL_E_INTERNAL, "could not derive the NKey's public key");
        goto out;
    }
    unsigned char p[35];
    p[0] = PREFIX_USER;
    memcpy(p + 1, pk, sizeof pk);
    uint16_t crc = crc16(p, 33);
    p[33] = (unsigned char)(crc & 0xff);
    p[34] = (unsigned char)(crc >> 8);
    if (size < 58) {
        sl_err_set(err, SL_E_INTERNAL, "NKey public key buffer too small");
        goto out;
    }
    b32_encode(p, sizeof p, pub);
    rc = 0;
out:
    sodium_memzero(raw, sizeof raw);
    sodium_memzero(sk, sizeof sk);
    return rc;
}

/* ---- nats.c options --------------------------------------------------------------- */

static int read_seed(const char *path, char *pub, size_t size, sl_err_t *err)
{
    char text[256];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sl_err_set(err, SL_E_CONFIG, "could not open the NKey seed file \"%s\": %s", path, strerror(errno));
    ssize_t r = read(fd, text, sizeof text - 1);
    close(fd);
    text[r > 0 ? r : 0] = '\0';
    /* The seed is the first line that looks like one (nsc writes comments around it). */
    const char *s = strstr(text, "SU");
    int rc = sl_bus_nkey_public(s ? s : text, pub, size, err);
    sodium_memzero(text, sizeof text);
    if (rc)
        sl_err_prefix(err, "%s: ", path);
    return rc;
}

static int opt_fail(sl_err_t *err, natsStatus s, const char *what, const char *file)
{
    sl_err_set(err, SL_E_CONFIG, "NATS %s%s%s%s: %s", what, file ? " \"" : "", file ? file : "", file ? "\"" : "",
               natsStatus_GetText(s));
    const char *last = nats_GetLastError(NULL);
    if (last && *last)
        sl_err_detail(err, "%s", last);
    return -1;
}

int sl_bus_options(const char *url, natsOptions **out, sl_err_t *err)
{
    sl_bus_conf_t c;
    if (sl_bus_conf_parse(url, &c, err))
        return -1;
    natsOptions *o = NULL;
    natsStatus s = natsOptions_Create(&o);
    int rc = -1;
    char pub[64];
    if (s != NATS_OK) {
        opt_fail(err, s, "options", NULL);
        goto out;
    }
    if ((s = natsOptions_SetServers(o, (const char **)c.servers, c.nservers)) != NATS_OK) {
        opt_fail(err, s, "servers", NULL);
        goto out;
    }
    if (c.user && (s = natsOptions_SetUserInfo(o, c.user, c.password)) != NATS_OK) {
        opt_fail(err, s, "user", NULL);
        goto out;
    }
    if (c.token && (s = natsOptions_SetToken(o, c.token)) != NATS_OK) {
        opt_fail(err, s, "token", NULL);
        goto out;
    }
    if (c.creds && (s = natsOptions_SetUserCredentialsFromFiles(o, c.creds, NULL)) != NATS_OK) {
        opt_fail(err, s, "credentials file", c.creds);
        goto out;
    }
    if (c.nkey) {
        if (read_seed(c.nkey, pub, sizeof pub, err))
            goto out;
        if ((s = natsOptions_SetNKeyFromSeed(o, pub, c.nkey)) != NATS_OK) {
            opt_fail(err, s, "NKey seed file", c.nkey);
            goto out;
        }
    }
    if (c.tls && (s = natsOptions_SetSecure(o, true)) != NATS_OK) {
        opt_fail(err, s, "TLS", NULL);
        goto out;
    }
    if (c.ca && (s = natsOptions_LoadCATrustedCertificates(o, c.ca)) != NATS_OK) {
        opt_fail(err, s, "CA file", c.ca);
        goto out;
    }
    if (c.cert && (s = natsOptions_LoadCertificatesChain(o, c.cert, c.key)) != NATS_OK) {
        opt_fail(err, s, "client certificate", c.cert);
        goto out;
    }
    rc = 0;
out:
    sl_bus_conf_free(&c);
    if (rc)
        natsOptions_Destroy(o);
    else
        *out = o;
    return rc;
}

char *sl_bus_url_public(const char *url)
{
    /* Every server's userinfo goes: it is a password or a token. At most 4 bytes more
     * per "://" ("@" becomes "****@"). */
    char *o = malloc(3 * strlen(url) + 16), *w = o;
    if (!o)
        sl_oom();
    const char *p = url, *sep;
    while ((sep = strstr(p, "://"))) {
        sep += 3;
        memcpy(w, p, (size_t)(sep - p));
        w += sep - p;
        const char *end = sep + strcspn(sep, "/?#,"), *at = NULL;
        for (const char *q = sep; q < end; q++)
            if (*q == '@')
                at = q;
        if (at) {
            memcpy(w, "****@", 5);
            w += 5;
        }
        p = at ? at + 1 : sep;
    }
    strcpy(w, p);
    return o;
}
