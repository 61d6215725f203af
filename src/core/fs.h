/*
 * fs.h: directories of sluice's own: made private, and a data directory locked so that two
 * processes never share one.
 */
#ifndef SL_CORE_FS_H
#define SL_CORE_FS_H

#include <sys/types.h>

#include "core/err.h"

/* Creates dir and its missing parents: dir itself 0700, parents with parent_mode (0700
 * for sluice's own trees; 0777, i.e. as the umask says, for a directory the user names
 * under paths of their own). An existing directory is left as it is. */
int sl_fs_mkdirs(const char *dir, mode_t parent_mode, sl_err_t *err);

/* Locks DIR/lock (creating DIR, 0700) so two processes never share a data directory:
 * the fd to keep open, or -1 with the error (SL_E_CONFLICT when another holds it). */
int sl_fs_lock_dir(const char *dir, sl_err_t *err);

#endif
