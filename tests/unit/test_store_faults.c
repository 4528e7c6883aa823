/*
 * test_store_faults.c — the store when a write fails: with the process's
 * file size limit (RLIMIT_FSIZE) just above what the database and its WAL
 * hold, the next write that would grow them fails (EFBIG, an SQLite I/O
 * error).  The store answers BB_ERR_TEMPFAIL (store.h: worth retrying),
 * leaves nothing of the failed write, stays usable, and once the limit is
 * lifted the same write succeeds.  Unprivileged: the limit is the
 * process's own.  (A full disk, SQLITE_FULL, is exercised through the
 * whole bridge in tests/integration/test_faults.c.)
 */
#include "check.h"
#include "store.h"
#include "store_fixture.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

/* Bytes of a follower's handle: several pages of the database. */
#define BIG_HANDLE 64000

static off_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_size : 0;
}

/* Lowers the file size limit to the larger of the database's files (the
 * limit applies to each file); false when it cannot be set. */
static bool cap_files(const char *path, struct rlimit *saved)
{
	char wal[4096];
	off_t db = file_size(path), w;
	struct rlimit cap;

	snprintf(wal, sizeof(wal), "%s-wal", path);
	w = file_size(wal);
	if (getrlimit(RLIMIT_FSIZE, saved) != 0)
		return false;
	cap = *saved;
	cap.rlim_cur = (rlim_t)(db > w ? db : w);
	return setrlimit(RLIMIT_FSIZE, &cap) == 0;
}

static enum bb_rc put(struct store *st, const char *actor, char *handle, struct err *e)
{
	char inbox[160], follow[160];
	struct store_follower f;

	snprintf(inbox, sizeof(inbox), "%s/inbox", actor);
	snprintf(follow, sizeof(follow), "%s#follow", actor);
	f = follower((char *)actor, handle, inbox, NULL, follow, 1700000000);
	return store_follower_put(st, &f, e);
}

static void t_write_fails(void)
{
	const char *dir;
	char *path = NULL, *handle = malloc(BIG_HANDLE + 1);
	struct store *st = fresh(&dir, &path);
	struct rlimit saved;
	struct err e = {0};
	bool capped = false;

	if (st == NULL || handle == NULL)
		goto out;
	memset(handle, 'h', BIG_HANDLE);
	handle[BIG_HANDLE] = '\0';
	CHECK_INT(put(st, "https://a.example/users/a", NULL, &e), BB_OK);
	/* Writing past the limit raises SIGXFSZ: ignored, write(2) fails. */
	CHECK(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
	capped = cap_files(path, &saved);
	CHECK(capped);
	if (!capped)
		goto out;

	/* Alone, and inside a transaction of the caller's. */
	CHECK_INT(put(st, "https://b.example/users/b", handle, &e), BB_ERR_TEMPFAIL);
	CHECK(check_contains(e.msg, "database"));
	err_clear(&e);
	if (store_begin(st, &e) == BB_OK) {
		enum bb_rc rc = put(st, "https://c.example/users/c", handle, &e);
		if (rc == BB_OK)
			rc = store_commit(st, &e);
		CHECK_INT(rc, BB_ERR_TEMPFAIL);
		store_rollback(st);
	} else {
		/* Beginning may itself need to write: the same answer. */
		CHECK_INT(e.code, BB_ERR_TEMPFAIL);
	}
	/* Nothing half-written, and the store still answers reads. */
	CHECK_INT(count_of(st), 1);

	CHECK(setrlimit(RLIMIT_FSIZE, &saved) == 0);
	capped = false;
	/* Space is back: the same writes go through, whole. */
	err_clear(&e);
	CHECK_INT(put(st, "https://b.example/users/b", handle, &e), BB_OK);
	CHECK_INT(put(st, "https://c.example/users/c", handle, &e), BB_OK);
	CHECK_INT(count_of(st), 3);
	{
		struct store_follower f = {0};
		CHECK_INT(store_follower_get(st, "https://b.example/users/b", &f, &e), BB_OK);
		CHECK(f.handle != NULL && strlen(f.handle) == BIG_HANDLE);
		store_follower_clear(&f);
	}
	CHECK_INT(store_check_integrity(st, &e), BB_OK);
out:
	if (capped)
		CHECK(setrlimit(RLIMIT_FSIZE, &saved) == 0);
	store_close(st);
	free(handle);
	free(path);
	check_tmpdir_remove(dir);
}

/* Reopened after the failure (another process, or a restart), the
 * database is whole and has only what was committed. */
static void t_reopen_after_failure(void)
{
	const char *dir;
	char *path = NULL, *handle = malloc(BIG_HANDLE + 1);
	struct store *st = fresh(&dir, &path), *st2 = NULL;
	struct rlimit saved;
	struct err e = {0};

	if (st == NULL || handle == NULL)
		goto out;
	memset(handle, 'h', BIG_HANDLE);
	handle[BIG_HANDLE] = '\0';
	CHECK_INT(put(st, "https://a.example/users/a", NULL, &e), BB_OK);
	CHECK(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
	if (!cap_files(path, &saved)) {
		CHECK(!"file size limit set");
		goto out;
	}
	CHECK_INT(put(st, "https://b.example/users/b", handle, &e), BB_ERR_TEMPFAIL);
	CHECK(setrlimit(RLIMIT_FSIZE, &saved) == 0);
	store_close(st);
	st = NULL;
	err_clear(&e);
	CHECK_INT(store_open(path, &st2, &e), BB_OK);
	if (st2 == NULL)
		goto out;
	CHECK_INT(store_check_integrity(st2, &e), BB_OK);
	CHECK_INT(count_of(st2), 1);
	expect_walk(st2, 0, -1, "https://a.example/users/a", __LINE__);
out:
	store_close(st);
	store_close(st2);
	free(handle);
	free(path);
	check_tmpdir_remove(dir);
}

static const struct check_case cases[] = {
    {"write_fails", t_write_fails},
    {"reopen_after_failure", t_reopen_after_failure},
};

CHECK_MAIN(cases)
