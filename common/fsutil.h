/*
 * fsutil.h — small file-system helpers shared by the store and the key code.
 */
#ifndef BB_FSUTIL_H
#define BB_FSUTIL_H

#include "err.h"

#include <sys/types.h>

/* Creates every missing directory above the file `path` (like mkdir -p of
 * its dirname) with the given mode.  Existing directories are left alone. */
enum bb_rc fs_mkdir_parents(const char *path, mode_t mode, struct err *e) BB_MUST_CHECK;

/* Writes len bytes to a new file at path with the given mode, atomically:
 * a temporary file beside it is written, fsynced and linked into place, so
 * a crash leaves either no file or the whole file.  Fails with BB_ERR_IO
 * (EEXIST in the message) when path already exists. */
enum bb_rc fs_write_new_file(const char *path, const void *data, size_t len, mode_t mode,
			     struct err *e) BB_MUST_CHECK;

/* Joins dir and a relative path; returns path unchanged (copied) when it is
 * absolute or dir is empty.  The caller frees the result; NULL when out of
 * memory. */
char *fs_path_join(const char *dir, const char *path);

#endif
