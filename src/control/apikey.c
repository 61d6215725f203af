/*
 * apikey.c: the API key (see apikey.h).
 */
#include "control/apikey.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "model/schema.h"

struct sl_apikey {
    pthread_mutex_t mu;
    char *path;      /* the file to watch (key file or hash file); NULL: fixed key */
    bool path_is_hash;
    struct stat seen; /* of path when last read */
    bool have;
    unsigned char hash[crypto_hash_sha256_BYTES];
};

static void hash_key(const char *key, size_t n, unsigned char *out)
{
    crypto_hash_sha256(out, (const unsigned char *)key, n);
}

void sl_apikey_hash(const char *key, unsigned char out[32])
{
    hash_key(key, strlen(key), out);
}

static int too_long(sl_err_t *err, const char *where)
{
    sl_err_set(err, SL_E_CONFIG, "the API key in %s is longer than %d bytes", where, SL_APIKEY_MAX);
    sl_err_hint(err, "use a key of at most %d bytes (e.g. `openssl rand -hex 32`)", SL_APIKEY_MAX);
    return -1;
}

/* Reads path (key or hex hash) into k->hash, the whole file: a key over SL_APIKEY_MAX is
 * refused, never cut. Called with k->mu held. */
static int load(sl_apikey_t *k, sl_err_t *err)
{
    char text[SL_APIKEY_MAX + 256];
    int fd = open(k->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sl_err_set(err, SL_E_IO, "could not open \"%s\": %s", k->path, strerror(errno));
    struct stat sb;
    fstat(fd, &sb);
    size_t n = 0;
    ssize_t r;
    while (n < sizeof text && (r = read(fd, text + n, sizeof text - n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    k->seen = sb;
    bool full = n == sizeof text;
    while (n && strchr("\r\n \t", text[n - 1]))
        n--;
    if (full || n > SL_APIKEY_MAX) {
        sodium_memzero(text, sizeof text);
        k->have = false;
        char where[1100];
        snprintf(where, sizeof where, "\"%s\"", k->path);
        return too_long(err, where);
    }
    text[n] = '\0';
    if (n == 0) {
        k->have = false;
        return sl_err_set(err, SL_E_CONFIG, "\"%s\" is empty", k->path);
    }
    if (k->path_is_hash) {
        size_t got = 0;
        if (sodium_hex2bin(k->hash, sizeof k->hash, text, n, NULL, &got, NULL) || got != sizeof k->hash) {
            k->have = false;
            return sl_err_set(err, SL_E_CONFIG, "\"%s\" is not a SHA-256 hash in hex", k->path);
        }
    } else {
        hash_key(text, n, k->hash);
    }
    sodium_memzero(text, sizeof text);
    k->have = true;
    return 0;
}

char *sl_apikey_new(void)
{
    unsigned char raw[24];
    randombytes_buf(raw, sizeof raw);
    char hex[2 * sizeof raw + 1];
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    size_t n = strlen("sk_") + strlen(hex) + 1;
    char *key = malloc(n);
    if (!key)
        sl_oom();
    snprintf(key, n, "sk_%s", hex);
    return key;
}

char *sl_apikey_rotate(const char *data_dir, sl_err_t *err)
{
    if (sodium_init() < 0) {
        sl_err_set(err, SL_E_INTERNAL, "could not initialise libsodium");
        return NULL;
    }
    char *key = sl_apikey_new();
    unsigned char h[crypto_hash_sha256_BYTES];
    hash_key(key, strlen(key), h);
    char hex[2 * sizeof h + 2];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    strcat(hex, "\n");
    char path[1100], tmp[1110];
    snprintf(path, sizeof path, "%s/api-key.hash", data_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, hex, strlen(hex)) != (ssize_t)strlen(hex) || fsync(fd) != 0 ||
        rename(tmp, path) != 0) {
        sl_err_set(err, SL_E_IO, "could not write \"%s\": %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        free(key);
        return NULL;
    }
    close(fd);
    return key;
}

int sl_apikey_open(const char *env_key, const char *key_file, const char *data_dir,
                   sl_apikey_t **out, char **generated, sl_err_t *err)
{
    *generated = NULL;
    if (sodium_init() < 0)
        return sl_err_set(err, SL_E_INTERNAL, "could not initialise libsodium");
    sl_apikey_t *k = calloc(1, sizeof *k);
    if (!k)
        sl_oom();
    pthread_mutex_init(&k->mu, NULL);
    if (env_key && *env_key) {
        if (strlen(env_key) > SL_APIKEY_MAX) {
            sl_apikey_free(k);
            return too_long(err, "SLUICE_API_KEY");
        }
        hash_key(env_key, strlen(env_key), k->hash);
        k->have = true;
        *out = k;
        return 0;
    }
    if (key_file) {
        k->path = sl_strdup(key_file);
    } else {
        char path[1100];
        snprintf(path, sizeof path, "%s/api-key.hash", data_dir);
        k->path = sl_strdup(path);
        k->path_is_hash = true;
        if (access(path, F_OK) != 0) {
            *generated = sl_apikey_rotate(data_dir, err);
            if (!*generated) {
                sl_apikey_free(k);
                return -1;
            }
        }
    }
    if (load(k, err)) {
        free(*generated);
        *generated = NULL;
        sl_apikey_free(k);
        return -1;
    }
    *out = k;
    return 0;
}

void sl_apikey_free(sl_apikey_t *k)
{
    if (!k)
        return;
    pthread_mutex_destroy(&k->mu);
    free(k->path);
    sodium_memzero(k->hash, sizeof k->hash);
    free(k);
}

bool sl_apikey_check(sl_apikey_t *k, const char *presented)
{
    if (!presented || !*presented || strlen(presented) > SL_APIKEY_MAX)
        return false;
    unsigned char h[crypto_hash_sha256_BYTES];
    hash_key(presented, strlen(presented), h);
    pthread_mutex_lock(&k->mu);
    if (k->path) {
        struct stat sb;
        if (stat(k->path, &sb) == 0 &&
            (sb.st_ino != k->seen.st_ino || sb.st_mtim.tv_sec != k->seen.st_mtim.tv_sec ||
             sb.st_mtim.tv_nsec != k->seen.st_mtim.tv_nsec || sb.st_size != k->seen.st_size)) {
            sl_err_t err;
            load(k, &err); /* a bad file leaves no key: every request is refused */
        }
    }
    bool ok = k->have && sodium_memcmp(h, k->hash, sizeof h) == 0;
    pthread_mutex_unlock(&k->mu);
    return ok;
}
