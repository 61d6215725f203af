/*
 * local.c: the local-disk store (file:///dir). Keys are paths under the root
 * directory; every put is atomic and durable: the bytes go to a temp file in the
 * key's own directory (or, for put_file, the caller's spool file is used as is when
 * it sits on the same file system), the file is fsynced, renamed over the key, and
 * the directory is fsynced, so after a crash a key holds either its old content or
 * its whole new content, never a part.
 *
 * Temp files are named ".<name>.tmp-<pid>-<n>"; list() never shows them and deletes
 * those whose process is gone (left by a killed run).
 *
 * Thread: a store is used by one thread at a time; several stores (one per writer
 * lane) may share a directory, since every temp name is unique in the process.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"
#include "target/store/store.h"

extern const struct sl_store_ops sl_local_store_ops;

typedef struct local_store {
    sl_store_t base;
    char root[PATH_MAX];
} local_store_t;

static atomic_uint tmp_counter;

static int io_err(sl_err_t *err, const char *what, const char *path)
{
    int e = errno;
    sl_err_set(err, SL_E_IO, "could not %s \"%s\": %s", what, path, strerror(e));
    if (e == ENOSPC)
        sl_err_hint(err, "free space on the target's file system and run again: the load resumes");
    else if (e == EACCES || e == EPERM || e == EROFS)
        sl_err_hint(err, "check that sluice's user may write to the target directory");
    return -1;
}

static int key_path(local_store_t *ls, const char *key, char *out, sl_err_t *err)
{
    if (!sl_store_key_ok(key)) {
        sl_err_set(err, SL_E_CONFIG, "invalid object key \"%s\"", key ? key : "");
        sl_err_detail(err, "keys are relative paths without \"..\", empty parts or backslashes");
        return -1;
    }
    if ((size_t)snprintf(out, PATH_MAX, "%s/%s", ls->root, key) >= PATH_MAX)
        return sl_err_set(err, SL_E_LIMIT, "path too long for key \"%s\"", key);
    return 0;
}

/* mkdir -p of the directories above path (not path itself). */
static int make_parents(const char *path, sl_err_t *err)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0777) && errno != EEXIST)
            return io_err(err, "create directory", tmp);
        *p = '/';
    }
    return 0;
}

static int fsync_path(const char *path, bool dir, sl_err_t *err)
{
    int fd = open(path, (dir ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_err(err, "open", path);
    if (fsync(fd) && errno != EINVAL) {
        io_err(err, "fsync", path);
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

static int fsync_parent(const char *path, sl_err_t *err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    return fsync_path(dir, true, err);
}

/* "<dir>/.<base>.tmp-<pid>-<n>" beside path. */
static void temp_beside(const char *path, char *out)
{
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path) : 0;
    snprintf(out, PATH_MAX, "%.*s/.%s.tmp-%ld-%u", dirlen, path, slash ? slash + 1 : path, (long)getpid(),
             atomic_fetch_add(&tmp_counter, 1));
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes a temp file beside final with the bytes (or a copy of file src), fsyncs it
 * and renames it over final. */
static int put_via_temp(const char *final, const void *data, size_t len, const char *src, sl_err_t *err)
{
    char tmp[PATH_MAX];
    temp_beside(final, tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0)
        return io_err(err, "create", tmp);
    int rc = 0;
    if (src) {
        int in = open(src, O_RDONLY | O_CLOEXEC);
        if (in < 0) {
            rc = io_err(err, "open", src);
        } else {
            char buf[1 << 16];
            for (;;) {
                ssize_t n = read(in, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n < 0) {
                    rc = io_err(err, "read", src);
                    break;
                }
                if (n == 0)
                    break;
                if (write_all(fd, buf, (size_t)n)) {
                    rc = io_err(err, "write", tmp);
                    break;
                }
            }
            close(in);
        }
    } else if (write_all(fd, data, len)) {
        rc = io_err(err, "write", tmp);
    }
    if (rc == 0 && fsync(fd))
        rc = io_err(err, "fsync", tmp);
    if (close(fd) && rc == 0)
        rc = io_err(err, "close", tmp);
    if (rc == 0 && rename(tmp, final))
        rc = io_err(err, "rename into place", final);
    if (rc) {
        unlink(tmp);
        return -1;
    }
    return fsync_parent(final, err);
}

/* The checks of a file:// URL that opening for writing and for reading share. */
static int check_url(const sl_url_t *url, const char *role, sl_err_t *err)
{
    if (url->host && url->host[0] && strcmp(url->host, "localhost")) {
        sl_err_set(err, SL_E_CONFIG, "file %s URL \"%s\" names a host", role, url->raw);
        sl_err_hint(err, "give an absolute directory with three slashes: file:///var/lib/out");
        return -1;
    }
    if (!url->path[0]) {
        sl_err_set(err, SL_E_CONFIG, "file %s URL \"%s\" has no directory", role, url->raw);
        sl_err_hint(err, "give an absolute directory with three slashes: file:///var/lib/out");
        return -1;
    }
    if (url->nparams > 0) {
        sl_err_set(err, SL_E_CONFIG, "unknown parameter \"%s\" in the %s URL", url->params[0].key, role);
        sl_err_hint(err, "see docs/files.md for the parameters of file:// %ss", role);
        return -1;
    }
    return 0;
}

/* A store rooted at the URL's directory (trailing slashes cut). */
static local_store_t *new_store(const sl_url_t *url)
{
    local_store_t *ls = calloc(1, sizeof *ls);
    if (!ls)
        sl_oom();
    ls->base.ops = &sl_local_store_ops;
    size_t n = (size_t)snprintf(ls->root, sizeof ls->root, "/%s", url->path);
    while (n > 1 && ls->root[n - 1] == '/')
        ls->root[--n] = '\0';
    return ls;
}

static int l_open(const sl_url_t *url, sl_store_t **out, sl_err_t *err)
{
    if (check_url(url, "target", err))
        return -1;
    local_store_t *ls = new_store(url);
    char probe[PATH_MAX + 2];
    snprintf(probe, sizeof probe, "%s/", ls->root);
    struct stat st;
    if (make_parents(probe, err)) {
        free(ls);
        return -1;
    }
    int bad = stat(ls->root, &st) ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR : access(ls->root, W_OK | X_OK) ? errno : 0;
    if (bad) {
        errno = bad;
        io_err(err, "use target directory", ls->root);
        free(ls);
        return -1;
    }
    *out = &ls->base;
    return 0;
}

static void l_close(sl_store_t *st)
{
    free(st);
}

static int l_put_file(sl_store_t *st, const char *key, const char *path, sl_err_t *err)
{
    local_store_t *ls = (local_store_t *)st;
    char final[PATH_MAX];
    if (key_path(ls, key, final, err) || make_parents(final, err))
        return -1;
    if (fsync_path(path, false, err))
        return -1;
    if (rename(path, final) == 0) {
        if (fsync_parent(final, err))
            return -1;
        return fsync_parent(path, err);
    }
    if (errno != EXDEV)
        return io_err(err, "rename into place", final);
    if (put_via_temp(final, NULL, 0, path, err))
        return -1;
    unlink(path);
    return 0;
}

static int l_put(sl_store_t *st, const char *key, const void *data, size_t len, sl_err_t *err)
{
    local_store_t *ls = (local_store_t *)st;
    char final[PATH_MAX];
    if (key_path(ls, key, final, err) || make_parents(final, err))
        return -1;
    return put_via_temp(final, data, len, NULL, err);
}

static int l_get(sl_store_t *st, const char *key, sl_buf_t *out, bool *found, sl_err_t *err)
{
    local_store_t *ls = (local_store_t *)st;
    char path[PATH_MAX];
    *found = false;
    if (key_path(ls, key, path, err))
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return io_err(err, "open", path);
    }
    char buf[1 << 14];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            io_err(err, "read", path);
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        if (sl_buf_add(out, buf, (size_t)n, err)) {
            close(fd);
            sl_err_prefix(err, "object \"%s\": ", key);
            return -1;
        }
    }
    close(fd);
    *found = true;
    return 0;
}

/* A temp file of ours: ".<name>.tmp-<pid>-<n>"; *pid gets the writer's pid. */
static bool is_temp(const char *name, long *pid)
{
    const char *t = name[0] == '.' ? strstr(name, ".tmp-") : NULL;
    if (!t)
        return false;
    *pid = strtol(t + 5, NULL, 10);
    return true;
}

typedef struct entry {
    char *key;
    uint64_t size;
} entry_t;

typedef struct walk {
    entry_t *v;
    size_t n, cap;
    const char *prefix;
} walk_t;

static int walk_dir(const char *root, const char *rel, walk_t *w, sl_err_t *err)
{
    char dirpath[PATH_MAX];
    snprintf(dirpath, sizeof dirpath, "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(dirpath);
    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return io_err(err, "read directory", dirpath);
    }
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char key[PATH_MAX], path[PATH_MAX];
        snprintf(key, sizeof key, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
        snprintf(path, sizeof path, "%s/%s", root, key);
        long pid = 0;
        if (is_temp(de->d_name, &pid)) {
            if (pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) && errno == ESRCH)
                unlink(path); /* left by a killed run */
            continue;
        }
        struct stat st;
        if (lstat(path, &st))
            continue;
        size_t plen = strlen(w->prefix), klen = strlen(key);
        size_t cmp = plen < klen ? plen : klen;
        if (strncmp(key, w->prefix, cmp))
            continue; /* neither under the prefix nor on the way to it */
        if (S_ISDIR(st.st_mode)) {
            rc = walk_dir(root, key, w, err);
            continue;
        }
        if (!S_ISREG(st.st_mode) || klen < plen)
            continue;
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 64;
            w->v = realloc(w->v, w->cap * sizeof *w->v);
            if (!w->v)
                sl_oom();
        }
        w->v[w->n].key = strdup(key);
        if (!w->v[w->n].key)
            sl_oom();
        w->v[w->n++].size = (uint64_t)st.st_size;
    }
    closedir(d);
    return rc;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const entry_t *)a)->key, ((const entry_t *)b)->key);
}

static int l_list(sl_store_t *st, const char *prefix, sl_store_list_fn fn, void *ctx, sl_err_t *err)
{
    local_store_t *ls = (local_store_t *)st;
    walk_t w = {.prefix = prefix ? prefix : ""};
    int rc = walk_dir(ls->root, "", &w, err);
    if (rc == 0 && w.n > 1)
        qsort(w.v, w.n, sizeof *w.v, cmp_entry);
    for (size_t i = 0; i < w.n; i++) {
        if (rc == 0)
            rc = fn(ctx, w.v[i].key, w.v[i].size, err);
        free(w.v[i].key);
    }
    free(w.v);
    return rc;
}

static int l_remove(sl_store_t *st, const char *key, sl_err_t *err)
{
    local_store_t *ls = (local_store_t *)st;
    char path[PATH_MAX];
    if (key_path(ls, key, path, err))
        return -1;
    if (unlink(path)) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return io_err(err, "remove", path);
    }
    return fsync_parent(path, err);
}

static int l_open_read(const sl_url_t *url, sl_store_t **out, sl_err_t *err)
{
    if (check_url(url, "source", err))
        return -1;
    local_store_t *ls = new_store(url);
    struct stat st;
    int bad = stat(ls->root, &st) ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR : access(ls->root, R_OK | X_OK) ? errno : 0;
    if (bad) {
        errno = bad;
        io_err(err, "read source directory", ls->root);
        if (bad == ENOENT)
            sl_err_hint(err, "check the directory in the source URL (file:///absolute/path)");
        free(ls);
        return -1;
    }
    *out = &ls->base;
    return 0;
}

static int l_get_range(sl_store_t *st, const char *key, uint64_t off, void *dst, size_t n,
                       char *version, size_t vsize, sl_err_t *err)
{
    local_store_t *ls = (local_store_t *)st;
    char path[PATH_MAX];
    if (key_path(ls, key, path, err))
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return sl_err_set(err, SL_E_NOT_FOUND, "file \"%s\" does not exist any more", path);
        return io_err(err, "open", path);
    }
    struct stat sb;
    int rc = 0;
    if (fstat(fd, &sb)) {
        rc = io_err(err, "stat", path);
    } else if (version) {
        snprintf(version, vsize, "%lld.%lld.%09ld", (long long)sb.st_size, (long long)sb.st_mtim.tv_sec,
                 sb.st_mtim.tv_nsec);
    }
    for (size_t got = 0; rc == 0 && got < n;) {
        ssize_t r = pread(fd, (char *)dst + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = io_err(err, "read", path);
        else if (r == 0)
            rc = sl_err_set(err, SL_E_DATA, "file \"%s\" ends at byte %llu, before %llu", path,
                            (unsigned long long)(off + got), (unsigned long long)(off + n));
        else
            got += (size_t)r;
    }
    close(fd);
    return rc;
}

const struct sl_store_ops sl_local_store_ops = {
    .name = "local",
    .open = l_open,
    .close = l_close,
    .put_file = l_put_file,
    .put = l_put,
    .get = l_get,
    .list = l_list,
    .remove = l_remove,
    .open_read = l_open_read,
    .get_range = l_get_range,
};
