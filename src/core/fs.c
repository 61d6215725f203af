/*
 * fs.c: private directories and the data directory's lock (core/fs.h).
 */
#include "core/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int sl_fs_mkdirs(const char *dir, mode_t parent_mode, sl_err_t *err)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/", dir) >= (int)sizeof path)
        return sl_err_set(err, SL_E_CONFIG, "directory name too long: \"%.64s...\"", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, p[1] ? parent_mode : 0700) && errno != EEXIST)
            return sl_err_set(err, SL_E_IO, "could not create directory \"%s\": %s", path, strerror(errno));
        *p = '/';
    }
    return 0;
}

int sl_fs_lock_dir(const char *dir, sl_err_t *err)
{
    if (sl_fs_mkdirs(dir, 0700, err))
        return -1;
    char path[4200];
    snprintf(path, sizeof path, "%s/lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return sl_err_set(err, SL_E_IO, "could not open \"%s\": %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        sl_err_set(err, SL_E_CONFLICT, "data directory \"%s\" is in use by another sluice process", dir);
        sl_err_hint(err, "wait for it to finish, or give this run its own --data-dir");
        return -1;
    }
    return fd;
}
