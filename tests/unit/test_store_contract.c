/*
 * test_store_contract.c — what store.h promises, checked through store.h
 * alone, so any backend can be run against it: the followers (upsert,
 * paging, order, removal), SIGKILL of a writer at random moments (the
 * database stays sound and holds every follower the writer saw committed,
 * plus at most the one in flight), follower lookup and removal by Follow
 * or inbox, blog posts by URL (the live row preferred), outgoing
 * activities by id, and deliveries to one inbox claimed in the order they
 * were queued.  What needs SQLite itself is in test_store_sqlite.c.
 */
#include "check.h"

#include "fsutil.h"
#include "store.h"
#include "store_fixture.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* --- followers: lookup and the removals Undo and 410 need --- */

static void t_follower_lookup(void)
{
	const char *dir;
	char *path;
	struct store *st = fresh(&dir, &path);
	struct err e = {0};
	struct store_follower got = {0};
	struct store_follower a =
	    follower("https://a.example/u/a", "@a@a.example", "https://a.example/u/a/inbox", NULL,
		     "https://a.example/f/1", 10);
	struct store_follower b =
	    follower("https://a.example/u/b", NULL, "https://a.example/shared", NULL,
		     "https://a.example/f/2", 20);
	struct store_follower c =
	    follower("https://a.example/u/c", NULL, "https://a.example/shared",
		     "https://a.example/inbox", "https://a.example/f/3", 30);
	int64_t removed = -1;

	if (st == NULL)
		goto out;
	CHECK_INT(store_follower_put(st, &a, &e), BB_OK);
	CHECK_INT(store_follower_put(st, &b, &e), BB_OK);
	CHECK_INT(store_follower_put(st, &c, &e), BB_OK);

	CHECK_INT(store_follower_get(st, a.actor, &got, &e), BB_OK);
	CHECK_STR(got.actor, a.actor);
	CHECK_STR(got.handle, a.handle);
	CHECK_STR(got.inbox, a.inbox);
	CHECK(got.shared_inbox == NULL);
	CHECK_STR(got.follow_id, a.follow_id);
	CHECK_INT(got.since, 10);
	store_follower_clear(&got);
	err_clear(&e);
	CHECK_INT(store_follower_get(st, "https://a.example/u/zz", &got, &e), BB_ERR_NOTFOUND);
	CHECK(check_contains(e.msg, "https://a.example/u/zz"));
	CHECK(got.actor == NULL && got.inbox == NULL);

	/* An Undo naming another Follow leaves the follower alone. */
	CHECK_INT(store_follower_remove_follow(st, a.actor, "https://a.example/f/2", &e),
		  BB_ERR_NOTFOUND);
	CHECK_INT(store_follower_remove_follow(st, "https://a.example/u/zz", a.follow_id, &e),
		  BB_ERR_NOTFOUND);
	CHECK_INT(count_of(st), 3);
	CHECK_INT(store_follower_remove_follow(st, a.actor, a.follow_id, &e), BB_OK);
	CHECK_INT(count_of(st), 2);
	CHECK_INT(store_follower_get(st, a.actor, &got, &e), BB_ERR_NOTFOUND);

	/* 410 Gone on an inbox removes every follower with that personal inbox. */
	CHECK_INT(store_follower_remove_by_inbox(st, "https://a.example/inbox", &removed, &e),
		  BB_OK);
	CHECK_INT(removed, 0);
	CHECK_INT(store_follower_remove_by_inbox(st, "https://a.example/shared", &removed, &e),
		  BB_OK);
	CHECK_INT(removed, 2);
	CHECK_INT(count_of(st), 0);
out:
	store_follower_clear(&got);
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

static void t_post_by_url(void)
{
	const char *dir;
	char *path;
	struct store *st = fresh(&dir, &path);
	struct err e = {0};
	struct store_post got = {0};
	const char *url = "https://blog.example/same";
	struct store_post old_live = post("g-a", "https://blog.example/o/a", (char *)url, "A", "h",
					  100);
	struct store_post new_dead = post("g-b", "https://blog.example/o/b", (char *)url, "B", "h",
					  300);
	struct store_post mid_dead = post("g-c", "https://blog.example/o/c", (char *)url, "C", "h",
					  200);
	struct store_post tie = post("g-d", "https://blog.example/o/d", (char *)url, "D", "h", 300);
	struct store_post tie2 =
	    post("g-f", "https://blog.example/o/f", (char *)url, "F", "h", 300);
	struct store_post other = post("g-e", "https://blog.example/o/e",
				       "https://blog.example/other", "E", "h", 900);

	if (st == NULL)
		goto out;
	err_clear(&e);
	CHECK_INT(store_post_by_url(st, url, &got, &e), BB_ERR_NOTFOUND);
	CHECK(check_contains(e.msg, url));
	CHECK_INT(store_post_put(st, &old_live, &e), BB_OK);
	CHECK_INT(store_post_put(st, &new_dead, &e), BB_OK);
	CHECK_INT(store_post_put(st, &mid_dead, &e), BB_OK);
	CHECK_INT(store_post_put(st, &other, &e), BB_OK);
	CHECK_INT(store_post_delete(st, new_dead.rowid, 5000, &e), BB_OK);
	CHECK_INT(store_post_delete(st, mid_dead.rowid, 5000, &e), BB_OK);

	/* A live row wins over newer deleted ones. */
	CHECK_INT(store_post_by_url(st, url, &got, &e), BB_OK);
	CHECK_STR(got.guid, "g-a");
	CHECK_INT(got.deleted, 0);
	store_post_clear(&got);

	/* Only deleted rows left: the newest of them, marked deleted. */
	CHECK_INT(store_post_delete(st, old_live.rowid, 6000, &e), BB_OK);
	CHECK_INT(store_post_by_url(st, url, &got, &e), BB_OK);
	CHECK_STR(got.guid, "g-b");
	CHECK_INT(got.deleted, 5000);
	store_post_clear(&got);

	/* Among live rows the newest; equal dates: the later row. */
	CHECK_INT(store_post_put(st, &tie, &e), BB_OK);
	CHECK_INT(store_post_by_url(st, url, &got, &e), BB_OK);
	CHECK_STR(got.guid, "g-d");
	CHECK_INT(got.deleted, 0);
	store_post_clear(&got);
	CHECK_INT(store_post_put(st, &tie2, &e), BB_OK);
	CHECK_INT(store_post_by_url(st, url, &got, &e), BB_OK);
	CHECK_STR(got.guid, "g-f");
	store_post_clear(&got);
	CHECK_INT(store_post_by_url(st, "https://blog.example/other", &got, &e), BB_OK);
	CHECK_STR(got.guid, "g-e");
	store_post_clear(&got);
	CHECK_INT(store_post_by_url(st, "https://blog.example/none", &got, &e), BB_ERR_NOTFOUND);
	CHECK(got.guid == NULL);
out:
	store_post_clear(&got);
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

static void t_activity_get(void)
{
	const char *dir;
	char *path;
	struct store *st = fresh(&dir, &path);
	struct err e = {0};
	char *json = NULL;
	int64_t id = 0;

	if (st == NULL)
		goto out;
	CHECK_INT(store_activity_add(st, "https://blog.example/a/1", "{\"type\":\"Create\"}", 5,
				     &id, &e),
		  BB_OK);
	CHECK_INT(store_activity_get(st, "https://blog.example/a/1", &json, &e), BB_OK);
	CHECK_STR(json, "{\"type\":\"Create\"}");
	free(json);
	json = (char *)"x"; /* must be cleared */
	err_clear(&e);
	CHECK_INT(store_activity_get(st, "https://blog.example/a/2", &json, &e), BB_ERR_NOTFOUND);
	CHECK(json == NULL);
	CHECK(check_contains(e.msg, "https://blog.example/a/2"));
	json = NULL;
out:
	free(json);
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

/* Activities reach one inbox in the order they were queued: a later row
 * waits while an earlier one to the same inbox is pending, whether leased
 * or retrying; other inboxes, even on the same host, are not held up. */
static void t_claim_inbox_order(void)
{
	const char *dir;
	char *path;
	struct store *st = fresh(&dir, &path);
	struct err e = {0};
	struct claims c;
	int64_t create = 0, update = 0;

	if (st == NULL)
		goto out;
	CHECK_INT(store_activity_add(st, "https://blog.example/p/1/activity", "{\"type\":\"Create\"}",
				     1, &create, &e),
		  BB_OK);
	CHECK_INT(store_activity_add(st, "https://blog.example/p/1/updates/2", "{\"type\":\"Update\"}",
				     1, &update, &e),
		  BB_OK);
	/* ids 1, 2: Create to two inboxes of one host; 3: the Update to the
	 * first inbox, due earlier than the Create (it must still wait). */
	CHECK_INT(store_delivery_add(st, create, "https://m.example/inbox", "m.example", 100, &e), BB_OK);
	CHECK_INT(store_delivery_add(st, create, "https://m.example/u/z/inbox", "m.example", 100,
				     &e), BB_OK);
	CHECK_INT(store_delivery_add(st, update, "https://m.example/inbox", "m.example", 50, &e), BB_OK);
	CHECK_STR(claim(st, &c, 1000, 60, 10, 0, __LINE__), "1:m.example:0,2:m.example:0");
	CHECK_INT(store_delivery_done(st, 2, 202, 1001, &e), BB_OK);
	/* The Create is leased: the Update still waits, even after a retry. */
	CHECK_STR(claim(st, &c, 1000, 60, 10, 0, __LINE__), "");
	CHECK_INT(store_delivery_retry(st, 1, 500, "HTTP 500", 1001, 1000, &e), BB_OK);
	CHECK_STR(claim(st, &c, 2000, 60, 10, 0, __LINE__), "1:m.example:1");
	CHECK_INT(store_delivery_done(st, 1, 202, 2001, &e), BB_OK);
	CHECK_STR(claim(st, &c, 2002, 60, 10, 0, __LINE__), "3:m.example:0");
	CHECK_STR(c.body[0], "{\"type\":\"Update\"}");
out:
	store_close(st);
	free(path);
	if (dir)
		check_tmpdir_remove(dir);
}

/* --- walks: what a callback returns --- */

/* Stops a walk at its stop_at-th row (0: never) with code. */
struct stopper {
	int n;
	int stop_at;
	enum bb_rc code;
};

static enum bb_rc stop_here(struct stopper *s, struct err *e)
{
	if (++s->n == s->stop_at)
		return err_set(e, s->code, "stopped at row %d", s->n);
	return BB_OK;
}

static enum bb_rc stop_follower(const struct store_follower *f, void *arg, struct err *e)
{
	(void)f;
	return stop_here(arg, e);
}

static enum bb_rc stop_post(const struct store_post *p, void *arg, struct err *e)
{
	(void)p;
	return stop_here(arg, e);
}

static enum bb_rc stop_host(const struct store_host_stats *h, void *arg, struct err *e)
{
	(void)h;
	return stop_here(arg, e);
}

static enum bb_rc stop_delivery(const struct store_delivery *d, void *arg, struct err *e)
{
	(void)d;
	return stop_here(arg, e);
}

/* Whatever a callback returns other than BB_OK stops the walk and comes
 * back unchanged, with the callback's message; a claim whose callback
 * stops keeps the rows it did not hand over leased until the lease ends. */
static void t_walk_stop(void)
{
	const char *dir;
	char *path;
	struct store *st = fresh(&dir, &path);
	struct err e = {0};
	struct stopper s;
	struct claims c;
	int64_t act = 0;
	static const char *const hosts[] = {"a", "b", "c"};

	if (st == NULL)
		goto out;
	for (int i = 0; i < 3; i++) {
		char actor[64], inbox[80], follow[80], guid[8], ap_id[64], url[64];
		struct store_follower f;
		struct store_post p;

		snprintf(actor, sizeof(actor), "https://%s.example/u", hosts[i]);
		snprintf(inbox, sizeof(inbox), "%s/inbox", actor);
		snprintf(follow, sizeof(follow), "%s/follows/1", actor);
		f = follower(actor, NULL, inbox, NULL, follow, 10 + i);
		CHECK_INT(store_follower_put(st, &f, &e), BB_OK);
		snprintf(guid, sizeof(guid), "g%d", i);
		snprintf(ap_id, sizeof(ap_id), "https://blog.example/o/%d", i);
		snprintf(url, sizeof(url), "https://blog.example/%d", i);
		p = post(guid, ap_id, url, "t", "h", 100 + i);
		CHECK_INT(store_post_put(st, &p, &e), BB_OK);
	}
	CHECK_INT(store_activity_add(st, "https://blog.example/o/0/activity", "{}", 1, &act, &e),
		  BB_OK);
	for (int i = 0; i < 3; i++) {
		char inbox[80];

		snprintf(inbox, sizeof(inbox), "https://%s.example/u/inbox", hosts[i]);
		CHECK_INT(store_delivery_add(st, act, inbox, host_of(inbox), 100, &e), BB_OK);
	}

	s = (struct stopper){0, 2, BB_ERR_NOMEM};
	err_clear(&e);
	CHECK_INT(store_follower_each(st, 0, -1, stop_follower, &s, &e), BB_ERR_NOMEM);
	CHECK_INT(s.n, 2);
	CHECK_STR(e.msg, "stopped at row 2");
	s = (struct stopper){0, 0, BB_ERR_NOMEM};
	CHECK_INT(store_follower_each(st, 0, -1, stop_follower, &s, &e), BB_OK);
	CHECK_INT(s.n, 3);

	s = (struct stopper){0, 1, BB_ERR_IO};
	err_clear(&e);
	CHECK_INT(store_post_each(st, 0, -1, true, stop_post, &s, &e), BB_ERR_IO);
	CHECK_INT(s.n, 1);
	CHECK_STR(e.msg, "stopped at row 1");
	s = (struct stopper){0, 0, BB_ERR_IO};
	CHECK_INT(store_post_each(st, 0, -1, true, stop_post, &s, &e), BB_OK);
	CHECK_INT(s.n, 3);

	s = (struct stopper){0, 3, BB_ERR_TEMPFAIL};
	err_clear(&e);
	CHECK_INT(store_host_stats_each(st, stop_host, &s, &e), BB_ERR_TEMPFAIL);
	CHECK_INT(s.n, 3);
	CHECK_STR(e.msg, "stopped at row 3");

	/* The claim leases all three, hands over two and stops. */
	s = (struct stopper){0, 2, BB_ERR_LIMIT};
	err_clear(&e);
	CHECK_INT(store_delivery_claim(st, NULL, 1000, 60, 10, 0, stop_delivery, &s, &e),
		  BB_ERR_LIMIT);
	CHECK_INT(s.n, 2);
	CHECK_STR(e.msg, "stopped at row 2");
	CHECK_STR(claim(st, &c, 1000, 60, 10, 0, __LINE__), "");
	claim(st, &c, 1100, 60, 10, 0, __LINE__);
	CHECK_INT(c.n, 3);
out:
	store_close(st);
	free(path);
	if (dir)
		check_tmpdir_remove(dir);
}

/* --- changes made elsewhere --- */

/* A commit through another connection shows as a change, once; the first
 * call only sets the mark. */
static void t_changes_since(void)
{
	const char *dir;
	char *path;
	struct store *st = fresh(&dir, &path), *other = NULL;
	struct err e = {0};
	struct store_follower f = follower("https://a.example/u", NULL, "https://a.example/u/inbox",
					   NULL, "https://a.example/f/1", 1);
	uint64_t token = STORE_CHANGES_START, before;
	bool changed = true;

	if (st == NULL)
		goto out;
	CHECK_INT(store_open(path, &other, &e), BB_OK);
	if (other == NULL)
		goto out;
	CHECK_INT(store_changes_since(st, &token, &changed, &e), BB_OK);
	CHECK(!changed);
	CHECK(token != STORE_CHANGES_START);
	changed = true;
	CHECK_INT(store_changes_since(st, &token, &changed, &e), BB_OK);
	CHECK(!changed);
	before = token;
	CHECK_INT(store_follower_put(other, &f, &e), BB_OK);
	CHECK_INT(store_changes_since(st, &token, &changed, &e), BB_OK);
	CHECK(changed);
	CHECK(token != before);
	CHECK_INT(store_changes_since(st, &token, &changed, &e), BB_OK);
	CHECK(!changed);
out:
	store_close(other);
	store_close(st);
	free(path);
	if (dir)
		check_tmpdir_remove(dir);
}

/* --- lease owners --- */

static enum bb_rc owner_names(const struct store_owner *o, void *arg, struct err *e)
{
	char *list = arg;
	size_t len = strlen(list);

	(void)e;
	snprintf(list + len, 256 - len, "%s%s/%ld/%s/%lld", len ? "," : "", o->id, o->pid,
		 o->hostname, (long long)o->heartbeat);
	return BB_OK;
}

/* Leases carry their owner: a live owner's (heartbeat renewed) are never
 * claimed by another and count against the host's cap; a dead owner's
 * are released by the reap, a stopping one's by its release. */
static void t_lease_owners(void)
{
	const char *dir;
	char *path;
	struct store *st = fresh(&dir, &path);
	struct err e = {0};
	struct claims c;
	struct store_owner a = {"aaaa", 11, "node1", 1000}, b = {"bbbb", 12, "node2", 1000};
	struct store_owner bad = {"", 1, "node1", 1000};
	char owners[256] = "";
	int64_t act = 0, n = -1, first = 0;

	if (st == NULL)
		goto out;
	CHECK_INT(store_activity_add(st, "https://blog.example/a/1", "{}", 1, &act, &e), BB_OK);
	for (int i = 0; i < 4; i++) {
		char inbox[80];

		snprintf(inbox, sizeof(inbox), "https://h.example/u/%d/inbox", i);
		CHECK_INT(store_delivery_add(st, act, inbox, host_of(inbox), 100, &e), BB_OK);
	}
	CHECK_INT(store_owner_register(st, &bad, &e), BB_ERR_INVALID);
	CHECK_INT(store_owner_register(st, &a, &e), BB_OK);
	CHECK_INT(store_owner_register(st, &b, &e), BB_OK);
	CHECK_INT(store_owner_each(st, owner_names, owners, &e), BB_OK);
	CHECK_STR(owners, "aaaa/11/node1/1000,bbbb/12/node2/1000");

	/* a takes two, b one: the host's cap of 3 is full for anyone. */
	claim_as(st, "aaaa", &c, 1000, 30, 2, 3, __LINE__);
	CHECK_INT(c.n, 2);
	claim_as(st, "bbbb", &c, 1000, 30, 10, 3, __LINE__);
	CHECK_INT(c.n, 1);
	claim_as(st, NULL, &c, 1000, 30, 10, 3, __LINE__);
	CHECK_INT(c.n, 0);

	/* a lives on: its leases are renewed past their first end (1030). */
	CHECK_INT(store_owner_heartbeat(st, "aaaa", 1020, 1050, &n, &e), BB_OK);
	CHECK_INT(n, 2);
	/* b's heartbeat stopped: the reap frees its one row, not a's two. */
	CHECK_INT(store_owners_reap(st, 1015, &n, &e), BB_OK);
	CHECK_INT(n, 1);
	CHECK_INT(store_owner_heartbeat(st, "bbbb", 1021, 1051, &n, &e), BB_ERR_NOTFOUND);
	owners[0] = '\0';
	CHECK_INT(store_owner_each(st, owner_names, owners, &e), BB_OK);
	CHECK_STR(owners, "aaaa/11/node1/1020");
	/* At 1040 a's leases hold (renewed): the free row and the fourth
	 * only, within the cap of 3 minus a's 2. */
	claim_as(st, NULL, &c, 1040, 30, 10, 3, __LINE__);
	CHECK_INT(c.n, 1);
	claim_as(st, NULL, &c, 1040, 30, 10, 0, __LINE__);
	CHECK_INT(c.n, 1);

	/* At 1200 a's leases have run out but a is registered: they hold
	 * (the NULL-owned ones, run out at 1070, do not). */
	claim_as(st, NULL, &c, 1200, 30, 10, 0, __LINE__);
	CHECK_INT(c.n, 2);
	claim_as(st, NULL, &c, 1200, 30, 10, 3, __LINE__);
	CHECK_INT(c.n, 0);
	CHECK_INT(store_owner_release(st, "aaaa", &n, &e), BB_OK);
	CHECK_INT(n, 2);
	CHECK_INT(store_owner_register(st, &a, &e), BB_OK);
	/* Now every lease has run out or was released. */
	claim_as(st, "aaaa", &c, 1300, 30, 10, 0, __LINE__);
	CHECK_INT(c.n, 4);
	first = c.id[0];
	/* A lease given back without an outcome is free at once; only its
	 * owner can give it back. */
	CHECK_INT(store_delivery_release(st, first, "bbbb", &e), BB_OK);
	claim_as(st, NULL, &c, 1300, 30, 10, 0, __LINE__);
	CHECK_INT(c.n, 0);
	CHECK_INT(store_delivery_release(st, first, "aaaa", &e), BB_OK);
	claim_as(st, NULL, &c, 1300, 30, 10, 0, __LINE__);
	CHECK_INT(c.n, 1);
	CHECK(c.id[0] == first);
	CHECK_INT(store_owner_heartbeat(st, "aaaa", 1301, 1400, &n, &e), BB_OK);
	CHECK_INT(n, 3);
	/* a stops: everything it held is free at once, and a is forgotten. */
	CHECK_INT(store_owner_release(st, "aaaa", &n, &e), BB_OK);
	CHECK_INT(n, 3);
	owners[0] = '\0';
	CHECK_INT(store_owner_each(st, owner_names, owners, &e), BB_OK);
	CHECK_STR(owners, "");
	claim_as(st, NULL, &c, 1301, 30, 10, 0, __LINE__);
	CHECK_INT(c.n, 3);
out:
	store_close(st);
	free(path);
	if (dir)
		check_tmpdir_remove(dir);
}

/* Collects the ids a notification walk hands out ("id:kind:attempts,..."). */
static enum bb_rc notify_ids(const struct store_notify_event *ev, void *arg, struct err *e)
{
	char *list = arg;
	size_t n = strlen(list);

	(void)e;
	snprintf(list + n, 256 - n, "%s%lld:%d:%d", n ? "," : "", (long long)ev->id, (int)ev->kind,
		 ev->hook_attempts);
	return BB_OK;
}

/* The events of each channel: added with their state, walked in order,
 * marked, retried, given up, pruned. */
static void t_notify(void)
{
	const char *dir = NULL;
	char *path = NULL, list[256], big[STORE_NOTIFY_JSON_MAX + 2];
	struct store *st = fresh(&dir, &path);
	struct err e = {0};
	bool more = true;
	time_t next = 1;

	if (st == NULL)
		goto out;
	CHECK_INT(store_notify_add(st, STORE_NOTIFY_FOLLOW, "{\"a\":1}", 100, true, true, &e),
		  BB_OK);
	CHECK_INT(store_notify_add(st, STORE_NOTIFY_COMMENT, "{\"b\":2}", 101, true, false, &e),
		  BB_OK);
	CHECK_INT(store_notify_add(st, STORE_NOTIFY_FOLLOW, "{\"c\":3}", 102, false, true, &e),
		  BB_OK);
	/* Neither channel: not kept.  Bad input: refused. */
	CHECK_INT(store_notify_add(st, STORE_NOTIFY_FOLLOW, "{}", 103, false, false, &e), BB_OK);
	CHECK_INT(store_notify_add(st, (enum store_notify_kind)7, "{}", 103, true, true, &e),
		  BB_ERR_INVALID);
	CHECK_INT(store_notify_add(st, STORE_NOTIFY_FOLLOW, "", 103, true, true, &e),
		  BB_ERR_INVALID);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_INT(store_notify_add(st, STORE_NOTIFY_FOLLOW, big, 103, true, true, &e), BB_ERR_LIMIT);

	list[0] = '\0';
	CHECK_INT(store_notify_mail_each(st, 10, notify_ids, list, &more, &e), BB_OK);
	CHECK_STR(list, "1:0:0,2:1:0");
	CHECK(!more);
	list[0] = '\0';
	CHECK_INT(store_notify_mail_each(st, 1, notify_ids, list, &more, &e), BB_OK);
	CHECK_STR(list, "1:0:0");
	CHECK(more);
	CHECK_INT(store_notify_mail_sent(st, 1, &e), BB_OK);
	list[0] = '\0';
	CHECK_INT(store_notify_mail_each(st, 10, notify_ids, list, &more, &e), BB_OK);
	CHECK_STR(list, "2:1:0");

	/* Webhook: due by time; a retry moves it on, counting. */
	list[0] = '\0';
	CHECK_INT(store_notify_hook_each(st, 99, 10, notify_ids, list, &e), BB_OK);
	CHECK_STR(list, "");
	CHECK_INT(store_notify_hook_each(st, 200, 10, notify_ids, list, &e), BB_OK);
	CHECK_STR(list, "1:0:0,3:0:0");
	CHECK_INT(store_notify_hook_retry(st, 1, 500, "HTTP 500", &e), BB_OK);
	CHECK_INT(store_notify_hook_next(st, &next, &e), BB_OK);
	CHECK_INT(next, 102);
	list[0] = '\0';
	CHECK_INT(store_notify_hook_each(st, 200, 10, notify_ids, list, &e), BB_OK);
	CHECK_STR(list, "3:0:0");
	list[0] = '\0';
	CHECK_INT(store_notify_hook_each(st, 500, 10, notify_ids, list, &e), BB_OK);
	CHECK_STR(list, "3:0:0,1:0:1");
	CHECK_INT(store_notify_hook_sent(st, 3, &e), BB_OK);
	CHECK_INT(store_notify_hook_sent(st, 3, &e), BB_ERR_NOTFOUND);
	CHECK_INT(store_notify_hook_sent(st, 2, &e), BB_ERR_NOTFOUND); /* no POST for it */
	CHECK_INT(store_notify_hook_fail(st, 1, "gone", &e), BB_OK);
	CHECK_INT(store_notify_hook_retry(st, 1, 600, "x", &e), BB_ERR_NOTFOUND);
	CHECK_INT(store_notify_hook_next(st, &next, &e), BB_OK);
	CHECK_INT(next, 0);

	/* Prune: only what no channel waits for, and old enough. */
	int64_t removed = -1;
	CHECK_INT(store_notify_prune(st, 1000, 0, &removed, &e), BB_OK);
	CHECK_INT(removed, 2); /* 1 and 3; 2's mail still waits */
	CHECK_INT(store_notify_prune(st, 1000, 101, &removed, &e), BB_OK);
	CHECK_INT(removed, 0); /* 2 is not stale yet */
	CHECK_INT(store_notify_mail_sent(st, 2, &e), BB_OK);
	CHECK_INT(store_notify_prune(st, 101, 0, &removed, &e), BB_OK);
	CHECK_INT(removed, 0);
	CHECK_INT(store_notify_prune(st, 102, 0, &removed, &e), BB_OK);
	CHECK_INT(removed, 1);
	/* A stale event goes even while a channel waits for it. */
	CHECK_INT(store_notify_add(st, STORE_NOTIFY_FOLLOW, "{}", 200, true, true, &e), BB_OK);
	CHECK_INT(store_notify_prune(st, 0, 201, &removed, &e), BB_OK);
	CHECK_INT(removed, 1);
out:
	store_close(st);
	free(path);
	if (dir)
		check_tmpdir_remove(dir);
}

static const struct check_case cases[] = {
    {"notify", t_notify},
	{"claim_inbox_order", t_claim_inbox_order},
    {"followers", t_followers},
    {"kill_mid_write", t_kill_mid_write},
    {"follower_lookup", t_follower_lookup},
    {"post_by_url", t_post_by_url},
    {"activity_get", t_activity_get},
    {"walk_stop", t_walk_stop},
    {"changes_since", t_changes_since},
    {"lease_owners", t_lease_owners},
};

CHECK_MAIN(cases)
