/*
 * test_config_edit.c — `blogbridge passwd`'s rewrite of bridge.conf
 * (bridge/config_edit.c): only the [admin] password_hash line changes;
 * comments, blank lines, other keys and line endings are kept byte for
 * byte; the key and section are added when missing; the mode is kept;
 * the result still loads.
 */
#include "check.h"
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HASH "$scrypt$N=32768,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaA=="

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s = calloc(1, 65536);
	size_t n;

	if (f == NULL || s == NULL) {
		if (f)
			fclose(f);
		free(s);
		return NULL;
	}
	n = fread(s, 1, 65535, f);
	s[n] = '\0';
	fclose(f);
	return s;
}

/* Writes before, rewrites, and compares with after. */
static void expect(const char *before, const char *after, int line)
{
	const char *dir = check_tmpdir();
	char *path = check_write_file(dir, "bridge.conf", before);
	struct err e = {0};
	char *got;

	if (path == NULL)
		return;
	if (config_password_hash_write(path, HASH, &e) != BB_OK)
		check_fail(__FILE__, line, "rewrite: %s", e.msg);
	got = slurp(path);
	if (got == NULL || strcmp(got, after) != 0)
		check_fail(__FILE__, line, "got:\n%s\nwant:\n%s", got ? got : "(none)", after);
	free(got);
	free(path);
	check_tmpdir_remove(dir);
}

static void t_replaces_only_the_line(void)
{
	expect("# my blog\n[site]\nbase_url = https://b.example   # origin\n\n"
	       "; a note\n[admin]\npassword_hash =                    # written by passwd\n"
	       "[notify]\nmail_to = a@b.example\n",
	       "# my blog\n[site]\nbase_url = https://b.example   # origin\n\n"
	       "; a note\n[admin]\npassword_hash = " HASH "   # written by passwd\n"
	       "[notify]\nmail_to = a@b.example\n",
	       __LINE__);
	/* An old hash replaced; indentation kept; CRLF kept on every line. */
	expect("[site]\r\nname = x\r\n[admin]\r\n  password_hash = $scrypt$old\r\n# end\r\n",
	       "[site]\r\nname = x\r\n[admin]\r\n  password_hash = " HASH "\r\n# end\r\n",
	       __LINE__);
	/* password_hash in another section is not ours. */
	expect("[other]\npassword_hash = keep\n[admin]\npassword_hash =\n",
	       "[other]\npassword_hash = keep\n[admin]\npassword_hash = " HASH "\n", __LINE__);
}

static void t_adds_when_missing(void)
{
	expect("[site]\nname = x\n", "[site]\nname = x\n\n[admin]\npassword_hash = " HASH "\n",
	       __LINE__);
	expect("[site]\nname = x", "[site]\nname = x\n\n[admin]\npassword_hash = " HASH "\n",
	       __LINE__);
	expect("[admin]\n# none yet\n[x]\n", "[admin]\n# none yet\npassword_hash = " HASH "\n[x]\n",
	       __LINE__);
	expect("[ admin ]\n", "[ admin ]\npassword_hash = " HASH "\n", __LINE__);
}

static void t_mode_kept_and_loads(void)
{
	const char *dir = check_tmpdir();
	char *path = check_write_file(dir, "bridge.conf",
				      "[site]\nbase_url = https://blog.test\nhandle = blog\n"
				      "feed = feed.xml\n[admin]\npassword_hash =\n");
	struct config_errors *errs = calloc(1, sizeof(*errs));
	struct config *cfg = NULL;
	struct err e = {0};
	struct stat sb;

	CHECK(path != NULL && errs != NULL);
	if (path == NULL || errs == NULL)
		goto out;
	CHECK(chmod(path, 0640) == 0);
	CHECK_INT(config_password_hash_write(path, HASH, &e), BB_OK);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0640);
	/* Run as root (on the service's file), the owner is kept too. */
	if (geteuid() == 0) {
		CHECK(chown(path, 4321, 4322) == 0);
		CHECK_INT(config_password_hash_write(path, HASH, &e), BB_OK);
		CHECK(stat(path, &sb) == 0 && sb.st_uid == 4321 && sb.st_gid == 4322);
	}
	CHECK_INT(config_load(path, &cfg, errs), BB_OK);
	CHECK(cfg != NULL && cfg->password_hash != NULL && strcmp(cfg->password_hash, HASH) == 0);
	/* The default of the new [server] key. */
	CHECK(cfg != NULL && strcmp(cfg->trusted_proxies, "127.0.0.1, ::1") == 0);
	/* A value a config line cannot hold is refused, the file unchanged. */
	CHECK_INT(config_password_hash_write(path, "a b", &e), BB_ERR_INVALID);
	CHECK_INT(config_password_hash_write(path, "a\nb", &e), BB_ERR_INVALID);
	CHECK_INT(config_password_hash_write("/nonexistent/dir/bridge.conf", HASH, &e), BB_ERR_IO);
out:
	config_free(cfg);
	free(errs);
	free(path);
	check_tmpdir_remove(dir);
}

static const struct check_case cases[] = {
    {"replaces_only_the_line", t_replaces_only_the_line},
    {"adds_when_missing", t_adds_when_missing},
    {"mode_kept_and_loads", t_mode_kept_and_loads},
};

CHECK_MAIN(cases)
