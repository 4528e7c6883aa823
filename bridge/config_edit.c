/*
 * config_edit.c — the one rewrite of bridge.conf the bridge makes:
 * `blogbridge passwd` setting `[admin] password_hash`.
 *
 * Only that line changes; every other byte of the file (comments, blank
 * lines, other keys, line endings) is written back as it was read.  The
 * new file is written beside the old one, flushed to disk, and renamed
 * over it, so a crash leaves either the old file or the new one, never a
 * half-written config; it keeps the old file's permission bits (a config
 * may hold an SMTP password) and, when it can, its owner.
 */
#include "buf.h"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A config larger than this is not one we wrote. */
#define CONFIG_EDIT_MAX (1024 * 1024)

/* The line at [s, end) without its line ending, trimmed of leading blanks. */
static const char *skip_blanks(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

/* Whether the line [s, end) is a section header, and if so whether it is
 * [name]. */
static bool line_section(const char *s, const char *end, const char *name, bool *is_name)
{
	size_t n = strlen(name);

	s = skip_blanks(s, end);
	if (s >= end || *s != '[')
		return false;
	s = skip_blanks(s + 1, end);
	*is_name =
	    (size_t)(end - s) > n && strncmp(s, name, n) == 0 && *skip_blanks(s + n, end) == ']';
	return true;
}

/* Whether the line [s, end) sets key. */
static bool line_sets(const char *s, const char *end, const char *key)
{
	size_t n = strlen(key);

	s = skip_blanks(s, end);
	if ((size_t)(end - s) < n || strncmp(s, key, n) != 0)
		return false;
	s = skip_blanks(s + n, end);
	return s < end && *s == '=';
}

/* Appends the new key line for value, keeping the old line's indentation
 * and trailing comment (s..end is the old line, or NULL). */
static enum bb_rc put_line(struct buf *out, const char *s, const char *end, const char *value,
			   const char *eol)
{
	const char *indent_end = s ? skip_blanks(s, end) : NULL;
	const char *comment = NULL;

	if (s != NULL) {
		/* A trailing comment is # or ; after whitespace (config.h). */
		for (const char *c = indent_end; c + 1 < end; c++)
			if ((c[0] == ' ' || c[0] == '\t') && (c[1] == '#' || c[1] == ';')) {
				comment = c + 1;
				break;
			}
		if (buf_append(out, s, (size_t)(indent_end - s)) != BB_OK)
			return BB_ERR_NOMEM;
	}
	if (buf_printf(out, "password_hash = %s", value) != BB_OK)
		return BB_ERR_NOMEM;
	if (comment && (buf_puts(out, "   ") != BB_OK ||
			buf_append(out, comment, (size_t)(end - comment)) != BB_OK))
		return BB_ERR_NOMEM;
	return buf_puts(out, eol);
}

/* Builds the new text from the old one in *in (len bytes) into out. */
static enum bb_rc rewrite(const char *in, size_t len, const char *value, struct buf *out)
{
	const char *p = in, *end = in + len;
	bool in_admin = false, done = false, seen_admin = false, is_admin;
	const char *eol_style = "\n";

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		const char *next = nl ? nl + 1 : end;
		const char *text_end = line_end;

		if (text_end > p && text_end[-1] == '\r')
			text_end--;
		if (nl && text_end != line_end)
			eol_style = "\r\n";
		if (!done && line_section(p, text_end, "admin", &is_admin)) {
			if (in_admin && !done) { /* [admin] without the key: add it */
				if (put_line(out, NULL, NULL, value, eol_style) != BB_OK)
					return BB_ERR_NOMEM;
				done = true;
			}
			in_admin = is_admin;
			seen_admin |= is_admin;
		} else if (!done && in_admin && line_sets(p, text_end, "password_hash")) {
			if (put_line(out, p, text_end, value,
				     nl ? (text_end != line_end ? "\r\n" : "\n") : "") != BB_OK)
				return BB_ERR_NOMEM;
			done = true;
			p = next;
			continue;
		}
		if (buf_append(out, p, (size_t)(next - p)) != BB_OK)
			return BB_ERR_NOMEM;
		p = next;
	}
	if (done)
		return BB_OK;
	if (len > 0 && in[len - 1] != '\n' && buf_puts(out, eol_style) != BB_OK)
		return BB_ERR_NOMEM;
	if (!seen_admin &&
	    buf_printf(out, "%s[admin]%s", len > 0 ? eol_style : "", eol_style) != BB_OK)
		return BB_ERR_NOMEM;
	return put_line(out, NULL, NULL, value, eol_style);
}

/* What the new file keeps of the old one. */
struct file_owner {
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

/* Reads the whole file into b; its mode and owner into *own. */
static enum bb_rc read_all(const char *path, struct buf *b, struct file_owner *own, struct err *e)
{
	char chunk[8192];
	struct stat sb;
	ssize_t n;
	enum bb_rc rc = BB_OK;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_set(e, BB_ERR_IO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &sb) != 0) {
		rc = err_set(e, BB_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	*own = (struct file_owner){sb.st_mode & 07777, sb.st_uid, sb.st_gid};
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_set(e, BB_ERR_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (buf_append(b, chunk, (size_t)n) != BB_OK) {
			rc = err_set(e, BB_ERR_LIMIT, "%s: larger than %d bytes", path,
				     CONFIG_EDIT_MAX);
			goto out;
		}
	}
out:
	close(fd);
	return rc;
}

/* Writes data to a new file beside path, flushes it, and renames it over
 * path; then flushes the folder so the rename itself is durable. */
static enum bb_rc replace_file(const char *path, const char *data, size_t len,
			       const struct file_owner *own, struct err *e)
{
	struct buf tmp;
	char *dir_copy = NULL;
	enum bb_rc rc = BB_OK;
	size_t off = 0;
	int fd = -1, dfd;

	buf_init(&tmp, 4096 + strlen(path));
	if (buf_printf(&tmp, "%s.tmpXXXXXX", path) != BB_OK)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	fd = mkstemp(tmp.data);
	if (fd < 0) {
		rc = err_set(e, BB_ERR_IO, "%s: cannot create a file beside it: %s", path,
			     strerror(errno));
		goto out;
	}
	if (fchmod(fd, own->mode) != 0)
		goto io;
	/* root running passwd on the service's file keeps it the service's;
	 * anyone else cannot give a file away, and need not. */
	if (fchown(fd, own->uid, own->gid) != 0 && errno != EPERM)
		goto io;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto io;
		off += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto io;
	if (close(fd) != 0) {
		fd = -1;
		goto io;
	}
	fd = -1;
	if (rename(tmp.data, path) != 0)
		goto io;
	dir_copy = strdup(path);
	if (dir_copy != NULL && (dfd = open(dirname(dir_copy), O_RDONLY | O_DIRECTORY)) >= 0) {
		(void)fsync(dfd); /* the rename is done; a failed flush only delays it */
		close(dfd);
	}
	goto out;
io:
	rc = err_set(e, BB_ERR_IO, "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp.data);
out:
	free(dir_copy);
	buf_free(&tmp);
	return rc;
}

enum bb_rc config_password_hash_write(const char *path, const char *hash, struct err *e)
{
	struct buf in, out;
	struct file_owner own = {0600, 0, 0};
	enum bb_rc rc;

	if (strpbrk(hash, "\r\n#; \t\"") != NULL)
		return err_set(e, BB_ERR_INVALID,
			       "the hash has characters a config line cannot keep");
	buf_init(&in, CONFIG_EDIT_MAX);
	buf_init(&out, CONFIG_EDIT_MAX + 4096);
	rc = read_all(path, &in, &own, e);
	if (rc != BB_OK)
		goto out;
	if (rewrite(in.data ? in.data : "", in.len, hash, &out) != BB_OK) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = replace_file(path, out.data ? out.data : "", out.len, &own, e);
out:
	buf_free(&in);
	buf_free(&out);
	return rc;
}
