/*
 * test_writer.c — the writer's group commit (bridge/writer.c): how a batch
 * is taken off the queue (writer_batch_take), that a failing job is undone
 * alone while the rest of its batch commits (writer_batch_apply), that a
 * batch whose transaction cannot begin or commit (a write failing, as on
 * a full disk) leaves nothing and fails every job with a reason worth
 * retrying, and that many submitting threads each learn their own job's
 * result (writer_run).
 */
#include "check.h"
#include "store_fixture.h"
#include "writer.h"
#include "writer_int.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#define THREADS 8
#define JOBS_PER_THREAD 25

/* A job: adds the follower named actor, then fails when asked to. */
struct add_job {
	char actor[96];
	bool fail;
};

static enum bb_rc add_fn(struct store *st, void *arg, struct err *e)
{
	struct add_job *j = arg;
	char inbox[128], follow[128];
	struct store_follower f;
	enum bb_rc rc;

	snprintf(inbox, sizeof(inbox), "%s/inbox", j->actor);
	snprintf(follow, sizeof(follow), "%s#follow", j->actor);
	f = follower(j->actor, NULL, inbox, NULL, follow, 1700000000);
	rc = store_follower_put(st, &f, e);
	if (rc == BB_OK && j->fail)
		rc = err_set(e, BB_ERR_INVALID, "job %s refused", j->actor);
	return rc;
}

static bool is_follower(struct store *st, const char *actor)
{
	struct store_follower f = {0};
	struct err e = {0};
	enum bb_rc rc = store_follower_get(st, actor, &f, &e);

	store_follower_clear(&f);
	CHECK(rc == BB_OK || rc == BB_ERR_NOTFOUND);
	return rc == BB_OK;
}

static void t_batch_take(void)
{
	struct writer_job jobs[5] = {0}, *head = &jobs[0], *tail = &jobs[4], *b;

	for (int i = 0; i < 4; i++)
		jobs[i].next = &jobs[i + 1];
	/* Two off the front; the rest keep their order and tail. */
	b = writer_batch_take(&head, &tail, 2);
	CHECK(b == &jobs[0] && b->next == &jobs[1] && jobs[1].next == NULL);
	CHECK(head == &jobs[2] && tail == &jobs[4]);
	/* Exactly what is left. */
	b = writer_batch_take(&head, &tail, 3);
	CHECK(b == &jobs[2] && jobs[4].next == NULL);
	CHECK(head == NULL && tail == NULL);

	/* More room than jobs: all of them, the queue emptied. */
	head = &jobs[0], tail = &jobs[1];
	jobs[0].next = &jobs[1];
	jobs[1].next = NULL;
	b = writer_batch_take(&head, &tail, WRITER_BATCH_MAX);
	CHECK(b == &jobs[0] && jobs[0].next == &jobs[1] && jobs[1].next == NULL);
	CHECK(head == NULL && tail == NULL);

	/* One job, max 1. */
	head = tail = &jobs[3];
	jobs[3].next = NULL;
	b = writer_batch_take(&head, &tail, 1);
	CHECK(b == &jobs[3] && head == NULL && tail == NULL);
}

static void t_batch_take_max(void)
{
	static struct writer_job jobs[WRITER_BATCH_MAX + 3];
	struct writer_job *head = &jobs[0], *tail = &jobs[WRITER_BATCH_MAX + 2], *b;
	size_t n = 0;

	for (size_t i = 0; i + 1 < WRITER_BATCH_MAX + 3; i++)
		jobs[i].next = &jobs[i + 1];
	b = writer_batch_take(&head, &tail, WRITER_BATCH_MAX);
	for (struct writer_job *j = b; j; j = j->next)
		n++;
	CHECK_INT(n, WRITER_BATCH_MAX);
	CHECK(head == &jobs[WRITER_BATCH_MAX] && tail == &jobs[WRITER_BATCH_MAX + 2]);
}

static void t_batch_apply(void)
{
	const char *dir;
	char *path;
	struct store *st = fresh(&dir, &path);
	struct add_job a = {"https://a.example/users/a", false};
	struct add_job b = {"https://b.example/users/b", true};
	struct add_job c = {"https://c.example/users/c", false};
	struct writer_job jobs[3] = {
	    {.fn = add_fn, .arg = &a}, {.fn = add_fn, .arg = &b}, {.fn = add_fn, .arg = &c}};

	if (st == NULL)
		return;
	jobs[0].next = &jobs[1];
	jobs[1].next = &jobs[2];
	writer_batch_apply(st, jobs);
	CHECK_INT(jobs[0].rc, BB_OK);
	CHECK_INT(jobs[1].rc, BB_ERR_INVALID);
	CHECK(check_contains(jobs[1].err.msg, "refused"));
	CHECK_INT(jobs[2].rc, BB_OK);
	/* b's row, written before it failed, was undone with it alone. */
	CHECK(is_follower(st, a.actor));
	CHECK(!is_follower(st, b.actor));
	CHECK(is_follower(st, c.actor));
	CHECK_INT(count_of(st), 2);
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

static void t_batch_apply_no_transaction(void)
{
	const char *dir;
	char *path;
	struct store *st = fresh(&dir, &path);
	struct add_job a = {"https://a.example/users/a", false};
	struct add_job c = {"https://c.example/users/c", false};
	struct writer_job jobs[2] = {{.fn = add_fn, .arg = &a}, {.fn = add_fn, .arg = &c}};
	struct err e = {0};

	if (st == NULL)
		return;
	jobs[0].next = &jobs[1];
	/* A transaction already open: the batch's cannot begin, and every
	 * job fails with that reason, none of them run. */
	CHECK_INT(store_begin(st, &e), BB_OK);
	writer_batch_apply(st, jobs);
	store_rollback(st);
	CHECK(jobs[0].rc != BB_OK && jobs[1].rc != BB_OK);
	CHECK(jobs[0].err.msg[0] != '\0');
	CHECK_STR(jobs[0].err.msg, jobs[1].err.msg);
	CHECK_INT(count_of(st), 0);
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

static off_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_size : 0;
}

/* Caps this process's file size (RLIMIT_FSIZE) at the larger of the
 * database's files, so that the next write growing either fails (EFBIG:
 * an SQLite I/O error); false when it cannot be set. */
static bool cap_files(const char *path, struct rlimit *saved)
{
	char wal[4096];
	off_t db = file_size(path), w;
	struct rlimit cap;

	snprintf(wal, sizeof(wal), "%s-wal", path);
	w = file_size(wal);
	if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR || getrlimit(RLIMIT_FSIZE, saved) != 0)
		return false;
	cap = *saved;
	cap.rlim_cur = (rlim_t)(db > w ? db : w);
	return setrlimit(RLIMIT_FSIZE, &cap) == 0;
}

static void t_batch_apply_write_fails(void)
{
	const char *dir;
	char *path;
	struct store *st = fresh(&dir, &path);
	struct add_job a = {"https://a.example/users/a", false};
	struct add_job b = {"https://b.example/users/b", true};
	struct add_job c = {"https://c.example/users/c", false};
	struct add_job first = {"https://first.example/users/f", false};
	struct writer_job one = {.fn = add_fn, .arg = &first};
	struct writer_job jobs[3] = {
	    {.fn = add_fn, .arg = &a}, {.fn = add_fn, .arg = &b}, {.fn = add_fn, .arg = &c}};
	struct rlimit saved;

	if (st == NULL)
		return;
	writer_batch_apply(st, &one);
	CHECK_INT(one.rc, BB_OK);
	if (!cap_files(path, &saved)) {
		CHECK(!"file size limit set");
		goto out;
	}
	jobs[0].next = &jobs[1];
	jobs[1].next = &jobs[2];
	writer_batch_apply(st, jobs);
	CHECK(setrlimit(RLIMIT_FSIZE, &saved) == 0);
	/* The commit could not be written: the jobs that had succeeded
	 * learn it as a reason to retry, the refused one keeps its own. */
	CHECK_INT(jobs[0].rc, BB_ERR_TEMPFAIL);
	CHECK(check_contains(jobs[0].err.msg, "database"));
	CHECK_INT(jobs[1].rc, BB_ERR_INVALID);
	CHECK_INT(jobs[2].rc, BB_ERR_TEMPFAIL);
	/* Nothing of the batch remains; what was committed before does. */
	CHECK_INT(count_of(st), 1);
	CHECK(is_follower(st, first.actor));
	CHECK(!is_follower(st, a.actor) && !is_follower(st, c.actor));

	/* Space is back: the same batch, applied again, commits. */
	for (int i = 0; i < 3; i++) {
		jobs[i].rc = BB_OK;
		err_clear(&jobs[i].err);
	}
	writer_batch_apply(st, jobs);
	CHECK_INT(jobs[0].rc, BB_OK);
	CHECK_INT(jobs[1].rc, BB_ERR_INVALID);
	CHECK_INT(jobs[2].rc, BB_OK);
	CHECK_INT(count_of(st), 3);
out:
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

struct submitter {
	struct writer *w;
	int n;
	int ok, refused, other;
};

static void *submit_main(void *arg)
{
	struct submitter *s = arg;

	for (int i = 0; i < JOBS_PER_THREAD; i++) {
		struct add_job j = {{0}, i % 5 == 4};
		struct err e = {0};
		enum bb_rc rc;
		snprintf(j.actor, sizeof(j.actor), "https://t%d.example/users/%d", s->n, i);
		rc = writer_run(s->w, add_fn, &j, &e);
		if (rc == BB_OK)
			s->ok++;
		else if (rc == BB_ERR_INVALID && strstr(e.msg, "refused") != NULL)
			s->refused++;
		else
			s->other++;
	}
	return NULL;
}

static void t_run_threads(void)
{
	const char *dir;
	char *path;
	struct store *st = fresh(&dir, &path);
	struct writer *w = NULL;
	struct submitter subs[THREADS];
	pthread_t threads[THREADS];
	struct err e = {0};
	int started = 0;

	if (st == NULL)
		return;
	CHECK_INT(writer_start(path, &w, &e), BB_OK);
	if (w == NULL)
		goto out;
	for (int i = 0; i < THREADS; i++) {
		subs[i] = (struct submitter){w, i, 0, 0, 0};
		if (pthread_create(&threads[i], NULL, submit_main, &subs[i]) != 0)
			break;
		started++;
	}
	CHECK_INT(started, THREADS);
	for (int i = 0; i < started; i++) {
		pthread_join(threads[i], NULL);
		/* Every job's own answer: 4 in 5 stored, the fifth refused. */
		CHECK_INT(subs[i].ok, JOBS_PER_THREAD * 4 / 5);
		CHECK_INT(subs[i].refused, JOBS_PER_THREAD / 5);
		CHECK_INT(subs[i].other, 0);
	}
	writer_stop(w);
	/* Committed (read through another connection), the refused undone. */
	CHECK_INT(count_of(st), started * JOBS_PER_THREAD * 4 / 5);
	CHECK(is_follower(st, "https://t0.example/users/0"));
	CHECK(!is_follower(st, "https://t0.example/users/4"));
out:
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

static const struct check_case cases[] = {
    {"batch_take", t_batch_take},
    {"batch_take_max", t_batch_take_max},
    {"batch_apply", t_batch_apply},
    {"batch_apply_no_transaction", t_batch_apply_no_transaction},
    {"batch_apply_write_fails", t_batch_apply_write_fails},
    {"run_threads", t_run_threads},
};

CHECK_MAIN(cases)
