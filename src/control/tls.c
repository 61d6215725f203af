/*
 * tls.c: the server's certificate and key (see tls.h), with GnuTLS, the TLS library
 * Debian's libmicrohttpd12 is built with (MHD_FEATURE_TLS).
 *
 * Why a callback and not MHD_OPTION_HTTPS_MEM_CERT/KEY: those two are read once, when the
 * daemon starts, so a renewed certificate would need a restart that drops every
 * connection and event stream. libmicrohttpd hands MHD_OPTION_HTTPS_CERT_CALLBACK to
 * gnutls_certificate_set_retrieve_function2, which asks for the pair at each handshake:
 * the pair in use can change between two handshakes.
 */
#include "control/tls.h"
#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sodium.h>

#define MAX_CHAIN 16          /* certificates in the chain file */
#define MAX_PEM (1024 * 1024) /* a PEM file larger than this is not a certificate or key */

typedef struct ident {
    struct ident *next; /* older identities, kept until sl_tls_free */
    gnutls_pcert_st certs[MAX_CHAIN];
    unsigned ncerts;
    gnutls_privkey_t key;
    unsigned char digest[crypto_hash_sha256_BYTES]; /* of both files' bytes */
    char desc[320];
} ident_t;

struct sl_tls {
    char *cert_file, *key_file;
    struct stat cert_seen, key_seen; /* at the last attempt */
    pthread_mutex_t mu;              /* guards cur against the callback */
    ident_t *cur;
    char desc[320];
};

/* The one handle of this process, for the callback (it gets no context pointer). */
static sl_tls_t *the_tls;

static int retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length, gnutls_pcert_st **pcert,
                    unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
    (void)session;
    (void)req_ca_dn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    sl_tls_t *t = the_tls;
    if (!t)
        return -1;
    pthread_mutex_lock(&t->mu);
    *pcert = t->cur->certs;
    *pcert_length = t->cur->ncerts;
    *pkey = t->cur->key;
    pthread_mutex_unlock(&t->mu);
    return 0;
}

static void ident_free(ident_t *id)
{
    while (id) {
        ident_t *next = id->next;
        for (unsigned i = 0; i < id->ncerts; i++)
            gnutls_pcert_deinit(&id->certs[i]);
        if (id->key)
            gnutls_privkey_deinit(id->key);
        free(id);
        id = next;
    }
}

/* Reads path whole into *out (malloc'd, NUL-terminated) and its stat into *sb. A key
 * file (is_key) that group may write or others may use is refused. */
static int read_pem(const char *path, bool is_key, char **out, size_t *len, struct stat *sb, sl_err_t *err)
{
    const char *what = is_key ? "TLS key" : "TLS certificate";
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        sl_err_set(err, SL_E_IO, "could not open %s file \"%s\": %s", what, path, strerror(errno));
        return -1;
    }
    if (fstat(fd, sb) != 0 || !S_ISREG(sb->st_mode)) {
        close(fd);
        return sl_err_set(err, SL_E_CONFIG, "%s file \"%s\" is not a regular file", what, path);
    }
    if (is_key && (sb->st_mode & 0037)) {
        close(fd);
        sl_err_set(err, SL_E_CONFIG, "TLS key file \"%s\" is open to other users", path);
        sl_err_detail(err, "its mode is %04o: a private key must not be readable by others (nor writable by its group)",
                      (unsigned)(sb->st_mode & 07777));
        sl_err_hint(err, "chmod 600 %s (or 640, with a group only the server's user is in)", path);
        return -1;
    }
    if (sb->st_size > MAX_PEM) {
        close(fd);
        return sl_err_set(err, SL_E_CONFIG, "%s file \"%s\" is larger than %d bytes", what, path, MAX_PEM);
    }
    char *buf = malloc((size_t)sb->st_size + 1);
    if (!buf)
        sl_oom();
    size_t n = 0;
    ssize_t r;
    while (n < (size_t)sb->st_size && (r = read(fd, buf + n, (size_t)sb->st_size - n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            sl_err_set(err, SL_E_IO, "could not read %s file \"%s\": %s", what, path, strerror(errno));
            sodium_memzero(buf, n);
            free(buf);
            close(fd);
            return -1;
        }
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

static int gnutls_fail(sl_err_t *err, int rc, const char *what, const char *path, const char *hint)
{
    sl_err_set(err, SL_E_CONFIG, "could not load %s \"%s\": %s", what, path, gnutls_strerror(rc));
    sl_err_hint(err, "%s", hint);
    return -1;
}

/* "CN=…, expires YYYY-MM-DD" (or "EXPIRED on …") of the first certificate into id->desc. */
static void describe(ident_t *id)
{
    gnutls_x509_crt_t crt;
    snprintf(id->desc, sizeof id->desc, "(unknown)");
    if (gnutls_x509_crt_init(&crt) != 0)
        return;
    if (gnutls_x509_crt_import(crt, &id->certs[0].cert, GNUTLS_X509_FMT_DER) == 0) {
        gnutls_datum_t dn = {0};
        time_t until = gnutls_x509_crt_get_expiration_time(crt);
        struct tm tm;
        char day[16] = "?";
        if (until != (time_t)-1 && gmtime_r(&until, &tm))
            strftime(day, sizeof day, "%Y-%m-%d", &tm);
        bool expired = until != (time_t)-1 && until < time(NULL);
        if (gnutls_x509_crt_get_dn3(crt, &dn, 0) == 0) {
            snprintf(id->desc, sizeof id->desc, "%.200s, %s %s", (const char *)dn.data,
                     expired ? "EXPIRED on" : "expires", day);
            gnutls_free(dn.data);
        }
    }
    gnutls_x509_crt_deinit(crt);
}

/* Whether the private key is the one of the first certificate. */
static bool key_matches(ident_t *id)
{
    gnutls_pubkey_t pub;
    unsigned char a[64], b[64];
    size_t na = sizeof a, nb = sizeof b;
    if (gnutls_pubkey_init(&pub) != 0)
        return false;
    bool ok = gnutls_pubkey_import_privkey(pub, id->key, 0, 0) == 0 &&
              gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, a, &na) == 0 &&
              gnutls_pubkey_get_key_id(id->certs[0].pubkey, GNUTLS_KEYID_USE_SHA256, b, &nb) == 0 &&
              na == nb && memcmp(a, b, na) == 0;
    gnutls_pubkey_deinit(pub);
    return ok;
}

/* Loads both files of t into a new identity (*sb_cert, *sb_key: what was read). */
static int load(sl_tls_t *t, ident_t **out, struct stat *sb_cert, struct stat *sb_key, sl_err_t *err)
{
    char *cert = NULL, *key = NULL;
    size_t ncert = 0, nkey = 0;
    if (read_pem(t->key_file, true, &key, &nkey, sb_key, err) ||
        read_pem(t->cert_file, false, &cert, &ncert, sb_cert, err)) {
        if (key)
            sodium_memzero(key, nkey);
        free(key);
        return -1;
    }
    ident_t *id = calloc(1, sizeof *id);
    if (!id)
        sl_oom();
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const unsigned char *)cert, ncert);
    crypto_hash_sha256_update(&h, (const unsigned char *)key, nkey);
    crypto_hash_sha256_final(&h, id->digest);
    gnutls_datum_t dc = {(unsigned char *)cert, (unsigned)ncert}, dk = {(unsigned char *)key, (unsigned)nkey};
    unsigned n = MAX_CHAIN;
    int rc = gnutls_pcert_list_import_x509_raw(id->certs, &n, &dc, GNUTLS_X509_FMT_PEM, 0);
    if (rc < 0 || n == 0) {
        gnutls_fail(err, rc < 0 ? rc : GNUTLS_E_NO_CERTIFICATE_FOUND, "the TLS certificate", t->cert_file,
                    "give the server's certificate in PEM (BEGIN CERTIFICATE), then any intermediates, "
                    "at most 16");
        goto fail;
    }
    id->ncerts = n;
    if ((rc = gnutls_privkey_init(&id->key)) != 0 ||
        (rc = gnutls_privkey_import_x509_raw(id->key, &dk, GNUTLS_X509_FMT_PEM, NULL, 0)) != 0) {
        gnutls_fail(err, rc, "the TLS key", t->key_file,
                    "give the certificate's private key in PEM, unencrypted (its file mode protects it), "
                    "e.g. `openssl pkey -in KEY -out KEY.plain`");
        goto fail;
    }
    if (!key_matches(id)) {
        sl_err_set(err, SL_E_CONFIG, "the TLS key \"%s\" is not the key of the certificate \"%s\"", t->key_file,
                   t->cert_file);
        sl_err_hint(err, "give the key the certificate was made for (a renewal writes both: reload after both "
                         "are in place)");
        goto fail;
    }
    describe(id);
    sodium_memzero(key, nkey);
    free(key);
    free(cert);
    *out = id;
    return 0;
fail:
    sodium_memzero(key, nkey);
    free(key);
    free(cert);
    ident_free(id);
    return -1;
}

int sl_tls_open(const char *cert_file, const char *key_file, sl_tls_t **out, sl_err_t *err)
{
    if (the_tls)
        return sl_err_set(err, SL_E_INTERNAL, "one TLS identity per process");
    if (sodium_init() < 0)
        return sl_err_set(err, SL_E_INTERNAL, "could not initialise libsodium");
    sl_tls_t *t = calloc(1, sizeof *t);
    if (!t)
        sl_oom();
    t->cert_file = strdup(cert_file);
    t->key_file = strdup(key_file);
    if (!t->cert_file || !t->key_file)
        sl_oom();
    pthread_mutex_init(&t->mu, NULL);
    if (load(t, &t->cur, &t->cert_seen, &t->key_seen, err)) {
        sl_tls_free(t);
        return -1;
    }
    snprintf(t->desc, sizeof t->desc, "%s", t->cur->desc);
    the_tls = t;
    *out = t;
    return 0;
}

static bool changed(const char *path, const struct stat *seen)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return false; /* a file being replaced: look again later */
    return sb.st_ino != seen->st_ino || sb.st_dev != seen->st_dev || sb.st_size != seen->st_size ||
           sb.st_mtim.tv_sec != seen->st_mtim.tv_sec || sb.st_mtim.tv_nsec != seen->st_mtim.tv_nsec ||
           sb.st_ctim.tv_sec != seen->st_ctim.tv_sec || sb.st_ctim.tv_nsec != seen->st_ctim.tv_nsec;
}

int sl_tls_reload(sl_tls_t *t, bool force, sl_err_t *err)
{
    if (!force && !changed(t->cert_file, &t->cert_seen) && !changed(t->key_file, &t->key_seen))
        return 0;
    ident_t *id;
    struct stat sc = t->cert_seen, sk = t->key_seen;
    int rc = load(t, &id, &sc, &sk, err);
    /* Remembered also after a failure: the same files are not tried again until they
     * change (a renewal that writes the certificate, then the key, is tried twice). */
    t->cert_seen = sc;
    t->key_seen = sk;
    if (rc)
        return -1;
    if (memcmp(id->digest, t->cur->digest, sizeof id->digest) == 0) {
        ident_free(id);
        return 0;
    }
    pthread_mutex_lock(&t->mu);
    id->next = t->cur;
    t->cur = id;
    pthread_mutex_unlock(&t->mu);
    snprintf(t->desc, sizeof t->desc, "%s", id->desc);
    return 1;
}

gnutls_certificate_retrieve_function2 *sl_tls_callback(void) { return retrieve; }

const char *sl_tls_describe(sl_tls_t *t) { return t->desc; }

void sl_tls_free(sl_tls_t *t)
{
    if (!t)
        return;
    if (the_tls == t)
        the_tls = NULL;
    ident_free(t->cur);
    pthread_mutex_destroy(&t->mu);
    free(t->cert_file);
    free(t->key_file);
    free(t);
}
