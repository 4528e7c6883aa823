/*
 * test_store.c — unit tests for store/: the schema ladder from an empty
 * file (checked with SQLite directly on the file), refusal of a newer
 * schema, the followers table (upsert, paging, order, removal), several
 * processes opening and writing one new database at once, and SIGKILL of a
 * writer at random moments: the database must stay sound and hold every
 * follower the writer saw committed, plus at most the one in flight.
 */
#include "check.h"

#include "fsutil.h"
#include "store.h"

#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* --- SQLite on the file, bypassing the store --- */

/* Runs sql on the database file; returns true on success. */
static bool raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	bool ok;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return false;
	}
	ok = sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK;
	if (!ok)
		fprintf(stderr, "    raw_exec %s: %s\n", sql, msg ? msg : "?");
	sqlite3_free(msg);
	sqlite3_close(db);
	return ok;
}

/* Runs a one-value query; copies the text of the first column of the first
 * row to out.  Returns false on error or no row. */
static bool raw_text(const char *path, const char *sql, char *out, size_t size)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	bool ok = false;

	out[0] = '\0';
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(stmt) != SQLITE_ROW)
		goto out;
	snprintf(out, size, "%s",
		 sqlite3_column_text(stmt, 0) ? (const char *)sqlite3_column_text(stmt, 0)
					      : "(null)");
	ok = true;
out:
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return ok;
}

/* raw_text for an integer; -1 on error. */
static long long raw_int(const char *path, const char *sql)
{
	char text[64];
	char *end;
	long long v;

	if (!raw_text(path, sql, text, sizeof(text)))
		return -1;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || end == text || *end)
		return -1;
	return v;
}

/* Reads a whole file (caller frees); NULL on error. */
static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	data = malloc((size_t)n + 1);
	if (data == NULL)
		goto out;
	if (fread(data, 1, (size_t)n, f) != (size_t)n) {
		free(data);
		data = NULL;
		goto out;
	}
	*len = (size_t)n;
out:
	fclose(f);
	return data;
}

/* --- follower helpers --- */

static struct store_follower follower(char *actor, char *handle, char *inbox, char *shared,
				      char *follow_id, time_t since)
{
	struct store_follower f = {actor, handle, inbox, shared, follow_id, since};

	return f;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Collects the followers a walk visits (deep copies). */
#define COLLECT_MAX 64
struct collect {
	struct store_follower f[COLLECT_MAX];
	int n;
	int stop_after; /* return non-zero after this many (0: never) */
};

static int collect_fn(const struct store_follower *f, void *arg)
{
	struct collect *c = arg;

	if (c->n < COLLECT_MAX) {
		struct store_follower *d = &c->f[c->n];

		d->actor = dup_or_null(f->actor);
		d->handle = dup_or_null(f->handle);
		d->inbox = dup_or_null(f->inbox);
		d->shared_inbox = dup_or_null(f->shared_inbox);
		d->follow_id = dup_or_null(f->follow_id);
		d->since = f->since;
	}
	c->n++;
	return c->stop_after && c->n >= c->stop_after;
}

static void collect_clear(struct collect *c)
{
	for (int i = 0; i < c->n && i < COLLECT_MAX; i++)
		store_follower_clear(&c->f[i]);
	memset(c, 0, sizeof(*c));
}

/* Walks offset/limit and checks the actors seen, in order ("a,b,c"). */
static void expect_walk(struct store *st, int64_t offset, int64_t limit, const char *want,
			int line)
{
	struct collect c = {0};
	struct err e = {0};
	char got[512] = "";
	size_t used = 0;
	enum bb_rc rc = store_follower_each(st, offset, limit, collect_fn, &c, &e);

	if (rc != BB_OK)
		check_fail(__FILE__, line, "store_follower_each: %s", e.msg);
	for (int i = 0; i < c.n && i < COLLECT_MAX; i++) {
		int n = snprintf(got + used, sizeof(got) - used, "%s%s", i ? "," : "",
				 c.f[i].actor);
		if (n < 0 || (size_t)n >= sizeof(got) - used)
			break;
		used += (size_t)n;
	}
	if (strcmp(got, want) != 0)
		check_fail(__FILE__, line, "walk offset %lld limit %lld: \"%s\", want \"%s\"",
			   (long long)offset, (long long)limit, got, want);
	collect_clear(&c);
}

static int64_t count_of(struct store *st)
{
	int64_t n = -1;
	struct err e = {0};

	if (store_follower_count(st, &n, &e) != BB_OK)
		check_fail(__FILE__, __LINE__, "store_follower_count: %s", e.msg);
	return n;
}

/* --- migrations --- */

static void t_migrate_from_empty(void)
{
	const char *dir = check_tmpdir();
	char *folder = fs_path_join(dir, "state/db");
	char *path = fs_path_join(dir, "state/db/blogbridge.sqlite");
	struct store *st = NULL;
	struct err e = {0};
	struct stat sb;
	int version = -1;
	time_t before = time(NULL), after, published = 0, published2 = 0;
	char text[64];

	CHECK(store_schema_latest() >= 1);
	CHECK_INT(store_open(path, &st, &e), BB_OK);
	after = time(NULL);
	CHECK(st != NULL);
	if (st == NULL) {
		fprintf(stderr, "    %s\n", e.msg);
		goto out;
	}
	CHECK(stat(folder, &sb) == 0 && S_ISDIR(sb.st_mode));
	CHECK(stat(path, &sb) == 0 && S_ISREG(sb.st_mode));
	CHECK_INT(store_schema_version(st, &version, &e), BB_OK);
	CHECK_INT(version, store_schema_latest());
	CHECK_INT(store_actor_published(st, &published, &e), BB_OK);
	CHECK(published >= before && published <= after);
	CHECK_INT(store_check_integrity(st, &e), BB_OK);
	CHECK_INT(count_of(st), 0);
	store_close(st);
	st = NULL;

	/* What is on disk, seen by SQLite alone. */
	CHECK_INT(raw_int(path, "PRAGMA user_version"), store_schema_latest());
	CHECK_INT(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
				" AND name IN ('meta', 'followers')"),
		  2);
	CHECK(raw_text(path, "PRAGMA journal_mode", text, sizeof(text)));
	CHECK_STR(text, "wal");
	CHECK_INT(raw_int(path, "SELECT count(*) FROM meta WHERE key = 'actor_published'"), 1);
	CHECK_INT(raw_int(path, "SELECT value FROM meta WHERE key = 'actor_published'"),
		  published);

	/* Reopening migrates nothing and keeps the birth date. */
	CHECK_INT(store_open(path, &st, &e), BB_OK);
	if (st == NULL)
		goto out;
	version = -1;
	CHECK_INT(store_schema_version(st, &version, &e), BB_OK);
	CHECK_INT(version, store_schema_latest());
	CHECK_INT(store_actor_published(st, &published2, &e), BB_OK);
	CHECK_INT(published2, published);
	store_close(st);
	st = NULL;
	CHECK_INT(raw_int(path, "SELECT count(*) FROM meta"), 1);

	/* The date is read from the file, not made up at open. */
	CHECK(raw_exec(path, "UPDATE meta SET value = '1234567890'"
			     " WHERE key = 'actor_published'"));
	CHECK_INT(store_open(path, &st, &e), BB_OK);
	if (st == NULL)
		goto out;
	CHECK_INT(store_actor_published(st, &published2, &e), BB_OK);
	CHECK_INT(published2, 1234567890);
out:
	store_close(st);
	free(folder);
	free(path);
	check_tmpdir_remove(dir);
}

static void t_newer_schema_refused(void)
{
	const char *dir = check_tmpdir();
	char *path = fs_path_join(dir, "bb.db");
	char *other = fs_path_join(dir, "junk.db");
	struct store *st = NULL;
	struct err e = {0};
	struct store_follower f = follower("https://a.example/u/1", NULL, "https://a.example/in",
					   NULL, "https://a.example/f/1", 100);
	char sql[64], want[32];
	char *before = NULL, *after = NULL;
	size_t blen = 0, alen = 0;
	int future = store_schema_latest() + 1;

	CHECK_INT(store_open(path, &st, &e), BB_OK);
	if (st == NULL)
		goto out;
	CHECK_INT(store_follower_put(st, &f, &e), BB_OK);
	store_close(st);
	st = NULL;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", future);
	CHECK(raw_exec(path, sql));
	CHECK_INT(raw_int(path, "PRAGMA user_version"), future);
	before = read_all(path, &blen);
	CHECK(before != NULL);

	st = (struct store *)&st; /* store_open must clear it */
	CHECK_INT(store_open(path, &st, &e), BB_ERR_STORE);
	CHECK(st == NULL);
	CHECK_INT(e.code, BB_ERR_STORE);
	CHECK(check_contains(e.msg, "newer"));
	CHECK(check_contains(e.msg, "upgrade"));
	snprintf(want, sizeof(want), "%d", future);
	CHECK(check_contains(e.msg, want));

	/* Left exactly as it was. */
	CHECK_INT(raw_int(path, "PRAGMA user_version"), future);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM followers"), 1);
	after = read_all(path, &alen);
	CHECK(after != NULL);
	CHECK_INT(alen, blen);
	CHECK(before && after && alen == blen && memcmp(before, after, blen) == 0);

	/* Not SQLite at all, and a URL this version does not speak. */
	free(check_write_file(dir, "junk.db", "this is not a database, it is just text\n"));
	err_clear(&e);
	CHECK(store_open(other, &st, &e) != BB_OK);
	CHECK(st == NULL);
	CHECK_INT(e.code, BB_ERR_STORE);
	CHECK_INT(store_open("postgresql://localhost/bb", &st, &e), BB_ERR_CONFIG);
	CHECK(st == NULL);
out:
	free(before);
	free(after);
	store_close(st);
	free(path);
	free(other);
	check_tmpdir_remove(dir);
}

/* --- followers --- */

static void t_followers(void)
{
	const char *dir = check_tmpdir();
	char *path = fs_path_join(dir, "bb.db");
	struct store *st = NULL;
	struct err e = {0};
	struct collect c = {0};
	struct store_follower a = follower("https://a.example/users/alice", NULL,
					   "https://a.example/users/alice/inbox", NULL,
					   "https://a.example/follows/1", 100);
	struct store_follower b = follower("https://b.example/users/bob", "@bob@b.example",
					   "https://b.example/users/bob/inbox",
					   "https://b.example/inbox", "https://b.example/follows/9", 50);
	struct store_follower cc = follower("https://c.example/@carol", "@carol@c.example",
					    "https://c.example/@carol/inbox",
					    "https://c.example/inbox", "https://c.example/f/3", 200);
	struct store_follower a2 = follower("https://a.example/users/alice", "@alice@a.example",
					    "https://a.example/users/alice/inbox2",
					    "https://a.example/inbox", "https://a.example/follows/2",
					    999);
	struct store_follower b2 = b;

	CHECK_INT(store_open(path, &st, &e), BB_OK);
	if (st == NULL)
		goto out;
	CHECK_INT(count_of(st), 0);
	expect_walk(st, 0, -1, "", __LINE__);

	CHECK_INT(store_follower_put(st, &a, &e), BB_OK);
	CHECK_INT(store_follower_put(st, &b, &e), BB_OK);
	CHECK_INT(store_follower_put(st, &cc, &e), BB_OK);
	CHECK_INT(count_of(st), 3);

	/* Oldest first, by since (b 50, a 100, c 200), every field back. */
	CHECK_INT(store_follower_each(st, 0, -1, collect_fn, &c, &e), BB_OK);
	CHECK_INT(c.n, 3);
	if (c.n == 3) {
		CHECK_STR(c.f[0].actor, b.actor);
		CHECK_STR(c.f[0].handle, b.handle);
		CHECK_STR(c.f[0].inbox, b.inbox);
		CHECK_STR(c.f[0].shared_inbox, b.shared_inbox);
		CHECK_STR(c.f[0].follow_id, b.follow_id);
		CHECK_INT(c.f[0].since, 50);
		/* NULL handle and shared inbox come back as NULL, not "". */
		CHECK_STR(c.f[1].actor, a.actor);
		CHECK(c.f[1].handle == NULL);
		CHECK(c.f[1].shared_inbox == NULL);
		CHECK_STR(c.f[1].inbox, a.inbox);
		CHECK_STR(c.f[1].follow_id, a.follow_id);
		CHECK_INT(c.f[1].since, 100);
		CHECK_STR(c.f[2].actor, cc.actor);
		CHECK_INT(c.f[2].since, 200);
	}
	collect_clear(&c);

	/* A repeated Follow: fields replaced, since kept, no new row. */
	CHECK_INT(store_follower_put(st, &a2, &e), BB_OK);
	CHECK_INT(count_of(st), 3);
	CHECK_INT(store_follower_each(st, 1, 1, collect_fn, &c, &e), BB_OK);
	CHECK_INT(c.n, 1);
	if (c.n == 1) {
		CHECK_STR(c.f[0].actor, a.actor);
		CHECK_STR(c.f[0].handle, "@alice@a.example");
		CHECK_STR(c.f[0].inbox, "https://a.example/users/alice/inbox2");
		CHECK_STR(c.f[0].shared_inbox, "https://a.example/inbox");
		CHECK_STR(c.f[0].follow_id, "https://a.example/follows/2");
		CHECK_INT(c.f[0].since, 100);
	}
	collect_clear(&c);
	/* Replacing with NULLs clears them. */
	b2.handle = NULL;
	b2.shared_inbox = NULL;
	b2.since = 7;
	CHECK_INT(store_follower_put(st, &b2, &e), BB_OK);
	CHECK_INT(store_follower_each(st, 0, 1, collect_fn, &c, &e), BB_OK);
	CHECK_INT(c.n, 1);
	if (c.n == 1) {
		CHECK_STR(c.f[0].actor, b.actor);
		CHECK(c.f[0].handle == NULL);
		CHECK(c.f[0].shared_inbox == NULL);
		CHECK_INT(c.f[0].since, 50);
	}
	collect_clear(&c);

	/* Paging. */
	expect_walk(st, 0, -1, "https://b.example/users/bob,https://a.example/users/alice,"
			       "https://c.example/@carol",
		    __LINE__);
	expect_walk(st, 0, 2, "https://b.example/users/bob,https://a.example/users/alice",
		    __LINE__);
	expect_walk(st, 2, 2, "https://c.example/@carol", __LINE__);
	expect_walk(st, 1, -1, "https://a.example/users/alice,https://c.example/@carol",
		    __LINE__);
	expect_walk(st, 3, 10, "", __LINE__);
	expect_walk(st, 0, 0, "", __LINE__);

	/* Equal dates keep insertion order. */
	{
		struct store_follower y = follower("https://y.example/u", NULL, "https://y.example/i",
						   NULL, "https://y.example/f", 300);
		struct store_follower x = follower("https://x.example/u", NULL, "https://x.example/i",
						   NULL, "https://x.example/f", 300);

		CHECK_INT(store_follower_put(st, &y, &e), BB_OK);
		CHECK_INT(store_follower_put(st, &x, &e), BB_OK);
		expect_walk(st, 3, -1, "https://y.example/u,https://x.example/u", __LINE__);
	}

	/* A callback that says stop ends the walk. */
	c.stop_after = 2;
	CHECK_INT(store_follower_each(st, 0, -1, collect_fn, &c, &e), BB_ERR_INVALID);
	CHECK_INT(c.n, 2);
	collect_clear(&c);

	/* Removal. */
	CHECK_INT(store_follower_remove(st, a.actor, &e), BB_OK);
	CHECK_INT(count_of(st), 4);
	err_clear(&e);
	CHECK_INT(store_follower_remove(st, a.actor, &e), BB_ERR_NOTFOUND);
	CHECK(check_contains(e.msg, a.actor));
	CHECK_INT(store_follower_remove(st, "https://nobody.example/u", &e), BB_ERR_NOTFOUND);
	CHECK_INT(count_of(st), 4);
	expect_walk(st, 0, 2, "https://b.example/users/bob,https://c.example/@carol", __LINE__);

	/* It all survives a reopen; a removed follower may come back, newly dated. */
	store_close(st);
	st = NULL;
	CHECK_INT(store_open(path, &st, &e), BB_OK);
	if (st == NULL)
		goto out;
	CHECK_INT(count_of(st), 4);
	CHECK_INT(store_follower_put(st, &a2, &e), BB_OK);
	expect_walk(st, 4, -1, "https://a.example/users/alice", __LINE__);
	CHECK_INT(store_check_integrity(st, &e), BB_OK);
out:
	collect_clear(&c);
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

/* --- several processes --- */

#define RACERS 3
#define RACER_FOLLOWERS 300

/* A child: waits for the start signal, opens the database (racing the
 * others to create and migrate it), adds its followers, exits 0. */
static void racer(int id, int start_fd, const char *path)
{
	struct store *st = NULL;
	struct err e = {0};
	char actor[128], inbox[160], follow[160];
	char c;

	if (read(start_fd, &c, 1) < 0)
		_exit(2);
	if (store_open(path, &st, &e) != BB_OK) {
		fprintf(stderr, "    racer %d: open: %s\n", id, e.msg);
		_exit(3);
	}
	for (int i = 0; i < RACER_FOLLOWERS; i++) {
		struct store_follower f;

		snprintf(actor, sizeof(actor), "https://r%d.example/users/%d", id, i);
		snprintf(inbox, sizeof(inbox), "%s/inbox", actor);
		snprintf(follow, sizeof(follow), "%s/follows/1", actor);
		f = follower(actor, NULL, inbox, NULL, follow, 1000 + i);
		if (store_follower_put(st, &f, &e) != BB_OK) {
			fprintf(stderr, "    racer %d: put %d: %s (%s)\n", id, i, e.msg,
				err_code_name(e.code));
			_exit(4);
		}
	}
	store_close(st);
	_exit(0);
}

static void t_concurrent_processes(void)
{
	const char *dir = check_tmpdir();
	char *path = fs_path_join(dir, "new/bb.db");
	pid_t pids[RACERS];
	int start[2];
	struct store *st = NULL;
	struct err e = {0};
	int version = -1;

	CHECK(pipe(start) == 0);
	fflush(NULL);
	for (int i = 0; i < RACERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			close(start[1]);
			racer(i, start[0], path);
		}
		CHECK(pids[i] > 0);
	}
	/* Closing the write end wakes every child at once. */
	close(start[0]);
	close(start[1]);
	for (int i = 0; i < RACERS; i++) {
		int status = 0;

		if (pids[i] <= 0)
			continue;
		CHECK(waitpid(pids[i], &status, 0) == pids[i]);
		CHECK(WIFEXITED(status));
		CHECK_INT(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
	}
	CHECK_INT(store_open(path, &st, &e), BB_OK);
	if (st == NULL)
		goto out;
	CHECK_INT(count_of(st), RACERS * RACER_FOLLOWERS);
	CHECK_INT(store_check_integrity(st, &e), BB_OK);
	CHECK_INT(store_schema_version(st, &version, &e), BB_OK);
	CHECK_INT(version, store_schema_latest());
	store_close(st);
	st = NULL;
	/* One migration ran: one birth date, distinct actors only. */
	CHECK_INT(raw_int(path, "SELECT count(*) FROM meta"), 1);
	CHECK_INT(raw_int(path, "SELECT count(DISTINCT actor) FROM followers"),
		  RACERS * RACER_FOLLOWERS);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM followers WHERE actor LIKE 'https://r1.%'"),
		  RACER_FOLLOWERS);
out:
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

/* Many rounds of children that only open a fresh database at the same
 * moment: the migration race, without the writes. */
#define OPEN_RACE_ROUNDS 10
#define OPEN_RACERS 4

static void t_concurrent_open(void)
{
	const char *dir = check_tmpdir();

	for (int round = 0; round < OPEN_RACE_ROUNDS; round++) {
		char name[32];
		char *path;
		pid_t pids[OPEN_RACERS];
		int start[2], failed = 0;

		snprintf(name, sizeof(name), "r%d/bb.db", round);
		path = fs_path_join(dir, name);
		CHECK(pipe(start) == 0);
		fflush(NULL);
		for (int i = 0; i < OPEN_RACERS; i++) {
			pids[i] = fork();
			if (pids[i] == 0) {
				struct store *st = NULL;
				struct err e = {0};
				int version = -1;
				char c;

				close(start[1]);
				if (read(start[0], &c, 1) < 0)
					_exit(2);
				if (store_open(path, &st, &e) != BB_OK) {
					fprintf(stderr, "    opener %d: %s\n", i, e.msg);
					_exit(3);
				}
				if (store_schema_version(st, &version, &e) != BB_OK ||
				    version != store_schema_latest())
					_exit(4);
				store_close(st);
				_exit(0);
			}
			CHECK(pids[i] > 0);
		}
		close(start[0]);
		close(start[1]);
		for (int i = 0; i < OPEN_RACERS; i++) {
			int status = 0;

			if (pids[i] <= 0)
				continue;
			if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) ||
			    WEXITSTATUS(status) != 0)
				failed++;
		}
		if (failed)
			check_fail(__FILE__, __LINE__, "round %d: %d of %d openers failed", round,
				   failed, OPEN_RACERS);
		CHECK_INT(raw_int(path, "PRAGMA user_version"), store_schema_latest());
		CHECK_INT(raw_int(path, "SELECT count(*) FROM meta"), 1);
		free(path);
		if (failed)
			break;
	}
	check_tmpdir_remove(dir);
}

/* --- SIGKILL mid-write --- */

#define KILL_ROUNDS 5
#define KILL_CHILD_MAX 100000

/* A child: adds followers one transaction each, and after each commit
 * writes how many it has added to report_fd. */
static void writer(int round, int report_fd, const char *path)
{
	struct store *st = NULL;
	struct err e = {0};
	char actor[128], inbox[160], follow[160];

	if (store_open(path, &st, &e) != BB_OK) {
		fprintf(stderr, "    writer: open: %s\n", e.msg);
		_exit(3);
	}
	for (int i = 1; i <= KILL_CHILD_MAX; i++) {
		struct store_follower f;

		snprintf(actor, sizeof(actor), "https://k.example/rounds/%d/users/%d", round, i);
		snprintf(inbox, sizeof(inbox), "%s/inbox", actor);
		snprintf(follow, sizeof(follow), "%s/follows/1", actor);
		f = follower(actor, "@k@k.example", inbox, "https://k.example/inbox", follow, i);
		if (store_follower_put(st, &f, &e) != BB_OK) {
			fprintf(stderr, "    writer: put %d: %s\n", i, e.msg);
			_exit(4);
		}
		if (write(report_fd, &i, sizeof(i)) != (ssize_t)sizeof(i))
			_exit(5);
	}
	_exit(0);
}

static void t_kill_mid_write(void)
{
	const char *dir = check_tmpdir();
	char *path = fs_path_join(dir, "bb.db");
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	int64_t total = 0;

	srandom(seed);
	for (int round = 0; round < KILL_ROUNDS; round++) {
		int report[2], last = 0, v, status = 0;
		ssize_t n;
		pid_t pid;
		struct store *st = NULL;
		struct err e = {0};
		int64_t count = -1;
		struct timespec nap;

		CHECK(pipe(report) == 0);
		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			close(report[0]);
			writer(round, report[1], path);
		}
		close(report[1]);
		CHECK(pid > 0);
		if (pid <= 0) {
			close(report[0]);
			break;
		}
		/* Once it is writing, give it a random 1–25 ms, then kill it. */
		n = read(report[0], &v, sizeof(v));
		CHECK_INT(n, sizeof(v));
		if (n == (ssize_t)sizeof(v))
			last = v;
		nap.tv_sec = 0;
		nap.tv_nsec = (1 + random() % 25) * 1000000L;
		nanosleep(&nap, NULL);
		CHECK(kill(pid, SIGKILL) == 0);
		CHECK(waitpid(pid, &status, 0) == pid);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			check_fail(__FILE__, __LINE__, "round %d: writer ended on its own (%d)",
				   round, status);
		/* Every report up to the kill; the last one counts. */
		while ((n = read(report[0], &v, sizeof(v))) == (ssize_t)sizeof(v))
			last = v;
		close(report[0]);

		CHECK_INT(store_open(path, &st, &e), BB_OK);
		if (st == NULL) {
			fprintf(stderr, "    round %d: %s\n", round, e.msg);
			break;
		}
		CHECK_INT(store_check_integrity(st, &e), BB_OK);
		CHECK_INT(store_follower_count(st, &count, &e), BB_OK);
		if (count < total + last || count > total + last + 1)
			check_fail(__FILE__, __LINE__,
				   "round %d (seed %u): %lld followers, writer reported %d more "
				   "than %lld",
				   round, seed, (long long)count, last, (long long)total);
		CHECK(last > 0);
		total = count;
		store_close(st);
	}
	free(path);
	check_tmpdir_remove(dir);
}

static const struct check_case cases[] = {
	{"migrate_from_empty", t_migrate_from_empty},
	{"newer_schema_refused", t_newer_schema_refused},
	{"followers", t_followers},
	{"concurrent_processes", t_concurrent_processes},
	{"concurrent_open", t_concurrent_open},
	{"kill_mid_write", t_kill_mid_write},
};

CHECK_MAIN(cases)
