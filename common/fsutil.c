/*
 * fsutil.c — see fsutil.h.
 */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum bb_rc fs_mkdir_parents(const char *path, mode_t mode, struct err *e)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(tmp))
		return err_set(e, BB_ERR_LIMIT, "%s: path too long", path);
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) != 0 && errno != EEXIST) {
			int saved = errno;
			return err_set(e, BB_ERR_IO, "cannot create directory %s: %s", tmp,
				       strerror(saved));
		}
		*p = '/';
	}
	return BB_OK;
}

/* Writes all of data to fd, retrying short writes. */
static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

enum bb_rc fs_write_new_file(const char *path, const void *data, size_t len, mode_t mode,
			     struct err *e)
{
	char tmp[PATH_MAX];
	int fd = -1, n;
	enum bb_rc rc = BB_OK;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return err_set(e, BB_ERR_LIMIT, "%s: path too long", path);
	/* O_EXCL and the explicit mode: the file is never, even briefly,
	 * readable by others (the umask can only remove bits). */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		rc = err_set(e, BB_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		rc = err_set(e, BB_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = err_set(e, BB_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	/* link(2) fails if path exists: two processes starting at once cannot
	 * overwrite each other's key. */
	if (link(tmp, path) != 0) {
		rc = err_set(e, BB_ERR_IO, "cannot create %s: %s", path, strerror(errno));
		goto out;
	}
out:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

char *fs_path_join(const char *dir, const char *path)
{
	size_t dl, pl;
	char *out;

	if (path[0] == '/' || dir == NULL || dir[0] == '\0')
		return strdup(path);
	dl = strlen(dir);
	pl = strlen(path);
	out = malloc(dl + 1 + pl + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, dir, dl);
	out[dl] = '/';
	memcpy(out + dl + 1, path, pl + 1);
	return out;
}
