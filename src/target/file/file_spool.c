/*
 * file_spool.c: where the file target encodes files before it stores them (docs/files.md
 * "Spool"), kept private: rows bound for S3 must not be readable by other local users,
 * and sluice must never be made to write through a link someone else planted.
 *
 *   - The default spool of an s3:// target is <data dir>/spool (`sluice run --data-dir`
 *     sets the data dir); without one, a new mkdtemp(3) directory of its own. A
 *     file:// target spools beside its data (<dir>/_sluice/.spool), as before.
 *   - sluice creates the spool directory 0700. The default one it owns is made 0700
 *     again if it is wider; a directory it does not own is refused, and so is a
 *     spool_dir given in the URL that another user owns or that group or others may
 *     write to (with a hint).
 *   - Spool files are created 0600 with O_EXCL | O_NOFOLLOW: never an existing file,
 *     never through a symlink. Their names carry the pid and a random tag per target.
 *
 * Thread: sl_target_spool_root is set once at start, before any target opens.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fs.h"
#include "target/file/file_int.h"

static char spool_root[1024];

void sl_target_spool_root(const char *data_dir)
{
    snprintf(spool_root, sizeof spool_root, "%s", data_dir ? data_dir : "");
}

char *sl_file_spool_default(const sl_url_t *url)
{
    char buf[4096];
    if (!strcmp(url->scheme, "file"))
        snprintf(buf, sizeof buf, "/%s/_sluice/.spool", url->path); /* beside the data: storing is a rename */
    else if (spool_root[0])
        snprintf(buf, sizeof buf, "%s/spool", spool_root);
    else
        return NULL; /* a private temporary directory, made at connect */
    return sl_strdup(buf);
}

/* Creates dir (0700) and its missing parents (as the umask says: they may be the target's
 * own directories). */
static int mkdirs(const char *dir, sl_err_t *err)
{
    if (sl_fs_mkdirs(dir, 0777, err) == 0)
        return 0;
    sl_err_hint(err, "set spool_dir in the target URL to a writable directory");
    return -1;
}

static int refuse(sl_err_t *err, const char *dir, const char *why, const char *hint)
{
    sl_err_set(err, SL_E_CONFIG, "spool directory \"%s\" is not private: %s", dir, why);
    sl_err_detail(err, "the spool holds the rows on their way to the target; another user could read "
                       "them or plant links in it");
    sl_err_hint(err, "%s", hint);
    return -1;
}

int sl_file_spool_prepare(fopts_t *o, bool given, sl_err_t *err)
{
    if (getrandom(&o->spool_tag, sizeof o->spool_tag, 0) != (ssize_t)sizeof o->spool_tag)
        o->spool_tag = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL);
    if (!o->spool_dir) {
        const char *tmp = getenv("TMPDIR");
        char tmpl[4096];
        snprintf(tmpl, sizeof tmpl, "%s/sluice-spool-XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp");
        if (!mkdtemp(tmpl)) {
            sl_err_set(err, SL_E_IO, "could not create a spool directory in \"%s\": %s",
                       tmp && tmp[0] == '/' ? tmp : "/tmp", strerror(errno));
            sl_err_hint(err, "set spool_dir in the target URL, or run with --data-dir");
            return -1;
        }
        o->spool_dir = sl_strdup(tmpl);
        o->spool_temp = true;
        return 0;
    }
    if (mkdirs(o->spool_dir, err))
        return -1;
    struct stat sb;
    if (stat(o->spool_dir, &sb) != 0)
        return sl_err_set(err, SL_E_IO, "could not stat spool directory \"%s\": %s", o->spool_dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return refuse(err, o->spool_dir, "it is not a directory", "set spool_dir in the target URL to a directory");
    if (sb.st_uid != geteuid()) {
        char why[96];
        snprintf(why, sizeof why, "it belongs to uid %ld, not to this user (uid %ld)", (long)sb.st_uid,
                 (long)geteuid());
        return refuse(err, o->spool_dir, why,
                      given ? "give spool_dir a directory of your own, mode 0700 (or leave spool_dir out: "
                              "the spool then goes under the data dir)"
                            : "remove that directory (someone else made it), or set spool_dir in the target URL");
    }
    if (sb.st_mode & 022) {
        if (given)
            return refuse(err, o->spool_dir, "group or others may write to it",
                          "chmod 700 the directory, or give spool_dir a private one");
        if (chmod(o->spool_dir, 0700) != 0)
            return sl_err_set(err, SL_E_IO, "could not chmod spool directory \"%s\": %s", o->spool_dir,
                              strerror(errno));
    }
    return 0;
}

int sl_file_spool_open(const char *path, sl_err_t *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        sl_err_set(err, SL_E_IO, "could not create spool file \"%s\": %s", path, strerror(errno));
        sl_err_hint(err, errno == EEXIST || errno == ELOOP
                             ? "something else made a file or link of that name in the spool directory: "
                               "remove it and keep spool_dir private"
                             : "check spool_dir in the target URL");
    }
    return fd;
}
