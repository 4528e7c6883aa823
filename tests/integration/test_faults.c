/*
 * test_faults.c — the bridge on a full disk, run as `test_faults
 * PATH/TO/blogbridge [CASE...]`.
 *
 * The bridge's data folder (key, database, WAL) is a small tmpfs of its
 * own; the test fills it with a file until writes fail with ENOSPC, so
 * SQLite answers SQLITE_FULL.  While it is full, a signed Follow is
 * answered 503 with Retry-After (worth retrying, not refused), the store
 * holds nothing of it (no follower, no replay record, no Accept queued, the
 * database intact), and the feed poller fails and says it will try again.
 * Once the file is removed, the same Follow, sent again, is stored and
 * answered with an Accept, and the poller's next round stores the post it
 * could not store before.
 *
 * delivery_full: a delivery is answered while the disk is full.  The
 * worker cannot record it; it keeps the outcome, backs off (the waits it
 * logs grow), claims nothing and sends nothing again meanwhile; once space
 * returns it records the delivery as done within its longest wait, with
 * no second POST to the peer.  Mounting needs root (CI runs as root): without
 * it the test prints SKIP and exits 77, which CTest counts as skipped.
 */
#include "bridge_proc.h"
#include "check.h"
#include "peer.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define SKIP_CODE 77
#define FS_SIZE "4m"
#define AS_CONTEXT "https://www.w3.org/ns/activitystreams"
/* The shortest poll interval the config allows; a round must come and
 * go within the wait below. */
#define POLL_INTERVAL_S 10
#define POLL_WAIT_MS ((POLL_INTERVAL_S * 2 + 10) * 1000)

static const char *binary;

/* Mounts a tmpfs of FS_SIZE on dir; false (errno set) when not allowed. */
static bool tmpfs_mount(const char *dir)
{
	return mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=" FS_SIZE ",mode=0700") ==
	       0;
}

/* Whether this process may mount a tmpfs (root, and allowed here). */
static bool can_mount(void)
{
	const char *dir;
	bool ok;

	if (geteuid() != 0)
		return false;
	dir = check_tmpdir();
	ok = tmpfs_mount(dir);
	if (ok && umount2(dir, MNT_DETACH) != 0)
		ok = false;
	check_tmpdir_remove(dir);
	return ok;
}

/* Fills the file system of path's folder with the file path, until a
 * write fails for want of space; false when it never did. */
static bool fill(const char *path)
{
	static char chunk[64 * 1024];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool full = false;

	if (fd < 0)
		return false;
	memset(chunk, 'f', sizeof(chunk));
	/* Big writes, then single bytes for the last partial page. */
	for (size_t step = sizeof(chunk); step > 0 && !full;) {
		ssize_t n = write(fd, chunk, step);
		if (n < 0 && errno == ENOSPC) {
			if (step == 1)
				full = true;
			else
				step = step > 4096 ? 4096 : 1;
		} else if (n <= 0) {
			break;
		}
	}
	if (close(fd) != 0 && errno != ENOSPC)
		full = false;
	return full;
}

/* A Follow of the bridge from a, with the id given. */
static char *follow_json(const struct bridge *b, const struct peer_actor *a, const char *id)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "@context", AS_CONTEXT, "id", id, "type",
			      "Follow", "actor", a->id, "object", b->actor_id);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	return s;
}

/* Sends body to the bridge's inbox, signed by a; the answer in r. */
static long post_signed(const struct bridge *b, const struct peer_actor *a, const char *body,
			struct reply *r)
{
	struct curl_slist *hdrs = NULL;
	char url[256];
	long status = 0;

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "%s/ap/actor/inbox", b->origin);
	if (peer_sign_post(a, url, body, NULL, &hdrs) &&
	    bridge_http(b, "POST", "/ap/actor/inbox", hdrs, body, strlen(body), r))
		status = r->status;
	curl_slist_free_all(hdrs);
	return status;
}

/* Waits (bounded) until the peer has an Accept of follow_id. */
static bool wait_accept(struct peer *p, const char *follow_id)
{
	for (int waited = 0; waited <= BRIDGE_WAIT_MS; waited += BRIDGE_POLL_MS) {
		size_t total = peer_post_count(p);
		for (size_t i = 0; i < total; i++) {
			const struct peer_post *pp = peer_post_at(p, i);
			json_t *j = json_loadb(pp->body, pp->len, 0, NULL);
			bool yes = jstr(j, "type") && strcmp(jstr(j, "type"), "Accept") == 0 &&
				   jstr(j, "object.id") &&
				   strcmp(jstr(j, "object.id"), follow_id) == 0;
			json_decref(j);
			if (yes)
				return true;
		}
		sleep_ms(BRIDGE_POLL_MS);
	}
	return false;
}

/* Waits (bounded, ms) until the log has a line containing text, from byte
 * from on. */
static bool wait_log(const struct bridge *b, const char *text, long from, int ms)
{
	char line[2048];

	for (int waited = 0; waited <= ms; waited += BRIDGE_POLL_MS) {
		FILE *f = fopen(b->log, "r");
		bool seen = false;
		if (f && fseek(f, from, SEEK_SET) == 0)
			while (!seen && fgets(line, sizeof(line), f))
				seen = strstr(line, text) != NULL;
		if (f)
			fclose(f);
		if (seen)
			return true;
		sleep_ms(BRIDGE_POLL_MS);
	}
	return false;
}

static long log_size(const struct bridge *b)
{
	struct stat sb;

	return stat(b->log, &sb) == 0 ? (long)sb.st_size : 0;
}

/* What the store holds, row counts of every table a Follow or a poll
 * writes, in one line ("followers seen activities deliveries posts"). */
static void store_counts(const struct bridge *b, char *out, size_t n)
{
	snprintf(out, n, "%lld %lld %lld %lld %lld",
		 bridge_db_int(b, "SELECT count(*) FROM followers"),
		 bridge_db_int(b, "SELECT count(*) FROM seen"),
		 bridge_db_int(b, "SELECT count(*) FROM activities"),
		 bridge_db_int(b, "SELECT count(*) FROM deliveries"),
		 bridge_db_int(b, "SELECT count(*) FROM posts"));
}

static const char *const FEED_ONE =
    "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>"
    "<title>Fed</title><link>https://blog.test/</link><description>d</description>"
    "<item><title>One</title><link>https://blog.test/one/</link>"
    "<guid isPermaLink=\"false\">tag:blog.test,2024:one</guid>"
    "<pubDate>Mon, 01 Jan 2024 00:00:00 +0000</pubDate>"
    "<description>One.</description></item></channel></rss>\n";

/* One case's bridge, its data folder on a tmpfs of its own, and a peer
 * with one actor. */
struct world {
	struct bridge b;
	struct peer *p;
	struct peer_actor *a;
	char data[PATH_MAX], filler[PATH_MAX + 16];
	const char *keydir;
	bool mounted;
	int fails;
};

/* Sets w up with an actor named name; poll_s, when not 0, is the feed's
 * poll interval.  False (reported) when it could not. */
static bool world_up(struct world *w, const char *name, int poll_s)
{
	memset(w, 0, sizeof(*w));
	w->fails = check_failures;
	w->keydir = check_tmpdir();
	if (!bridge_setup(&w->b, binary, "")) {
		CHECK(!"bridge set up");
		return false;
	}
	if (poll_s > 0) {
		char conf[2048];
		FILE *f = fopen(w->b.conf, "r");
		size_t n = f ? fread(conf, 1, sizeof(conf) - 1, f) : 0;
		char *site;
		if (f)
			fclose(f);
		conf[n] = '\0';
		site = strstr(conf, "[site]\n");
		CHECK(site != NULL);
		if (site) {
			char text[2200];
			snprintf(text, sizeof(text), "%.*s[site]\npoll_interval = %d\n%s",
				 (int)(site - conf), conf, poll_s, site + 7);
			bridge_write_conf(&w->b, text);
		}
	}
	snprintf(w->data, sizeof(w->data), "%s/data", w->b.dir);
	snprintf(w->filler, sizeof(w->filler), "%s/data/filler", w->b.dir);
	CHECK(mkdir(w->data, 0700) == 0);
	w->mounted = tmpfs_mount(w->data);
	CHECK(w->mounted);
	if (!w->mounted || !bridge_start(&w->b))
		return false;
	w->p = peer_start("127.0.0.2", NULL, w->keydir);
	w->a = w->p ? peer_actor_add(w->p, name, NULL) : NULL;
	CHECK(w->a != NULL);
	return w->a != NULL;
}

/* Stops and removes all of w (the log shown when the case failed). */
static void world_down(struct world *w)
{
	if (check_failures != w->fails)
		bridge_dump_log(&w->b);
	if (w->b.pid > 0)
		bridge_stop(&w->b, SIGKILL);
	peer_stop(w->p);
	if (w->mounted && umount2(w->data, MNT_DETACH) != 0)
		check_fail(__FILE__, __LINE__, "umount %s: %s", w->data, strerror(errno));
	bridge_remove(&w->b);
	check_tmpdir_remove(w->keydir);
}

static void t_disk_full(void)
{
	struct world w;
	struct bridge *b = &w.b;
	struct peer *p;
	struct peer_actor *alice;
	char id[PEER_URL_MAX], before[128], during[128];
	char *body = NULL;
	struct reply r = {0};
	long from;

	/* The poller's interval: as short as the config allows. */
	if (!world_up(&w, "alice", POLL_INTERVAL_S))
		goto out;
	p = w.p;
	alice = w.a;
	/* The first poll (the empty feed) is done before the disk fills. */
	CHECK(bridge_wait_db(b, 1, "SELECT count(*) FROM meta WHERE key = %Q", "feed_imported"));
	store_counts(b, before, sizeof(before));

	/* Full. */
	CHECK(fill(w.filler));
	from = log_size(b);
	snprintf(id, sizeof(id), "%s/activities/follow-1", peer_base(p));
	body = follow_json(b, alice, id);
	CHECK(body != NULL);
	if (body == NULL)
		goto out;
	CHECK_INT(post_signed(b, alice, body, &r), 503);
	CHECK_STR(r.retry_after, "30");
	CHECK(!check_contains(r.body, "database"));
	reply_free(&r);
	CHECK(wait_log(b, "full", from, BRIDGE_WAIT_MS));
	/* A new item: the poller cannot store it, and says it will retry. */
	free(check_write_file(b->dir, "feed.xml", FEED_ONE));
	CHECK(wait_log(b, "feed poll failed (next try in", from, POLL_WAIT_MS));
	/* Nothing of the Follow or the post was kept, and what is there is
	 * whole. */
	store_counts(b, during, sizeof(during));
	CHECK_STR(during, before);
	CHECK_INT(bridge_db_int(b, "SELECT count(*) FROM seen WHERE id = %Q", id), 0);
	CHECK_INT(bridge_db_int(b, "SELECT count(*) FROM pragma_integrity_check"
				   " WHERE integrity_check = 'ok'"),
		  1);
	CHECK_INT(peer_post_count(p), 0);

	/* Space returns: the Follow, sent again as a peer retries it, is
	 * stored and answered; the poller's next round stores the post. */
	CHECK(unlink(w.filler) == 0);
	CHECK_INT(post_signed(b, alice, body, &r), 202);
	reply_free(&r);
	CHECK(wait_accept(p, id));
	CHECK_INT(bridge_db_int(b, "SELECT count(*) FROM followers WHERE actor = %Q", alice->id),
		  1);
	for (int waited = 0; waited <= POLL_WAIT_MS; waited += BRIDGE_POLL_MS) {
		if (bridge_db_int(b, "SELECT count(*) FROM posts") == 1)
			break;
		sleep_ms(BRIDGE_POLL_MS);
	}
	CHECK_INT(bridge_db_int(b, "SELECT count(*) FROM posts"), 1);
	CHECK_INT(bridge_db_int(b, "SELECT count(*) FROM pragma_integrity_check"
				   " WHERE integrity_check = 'ok'"),
		  1);
	CHECK_INT(bridge_stop(b, SIGTERM), 0);
	bridge_check_log_clean(b);
out:
	free(body);
	world_down(&w);
}

/* The waits the worker logged while it could not write ("next try in N
 * ms"), from byte from on, in order; how many (at most max). */
static size_t logged_waits(const struct bridge *b, long from, long *waits, size_t max)
{
	char line[2048];
	size_t n = 0;
	FILE *f = fopen(b->log, "r");

	if (f == NULL)
		return 0;
	if (fseek(f, from, SEEK_SET) == 0)
		while (n < max && fgets(line, sizeof(line), f)) {
			const char *at = strstr(line, "delivery: cannot record what was sent");
			const char *in = at ? strstr(at, "; next try in ") : NULL;
			if (in)
				waits[n++] = strtol(in + strlen("; next try in "), NULL, 10);
		}
	fclose(f);
	return n;
}

static void t_delivery_full(void)
{
	struct world w;
	struct bridge *b = &w.b;
	struct peer *p;
	struct peer_actor *bob;
	char id[PEER_URL_MAX];
	const char *q_done = "SELECT count(*) FROM deliveries WHERE inbox = %Q AND state = 1";
	char *body = NULL;
	struct reply r = {0};
	long from, waits[8];
	size_t nwaits = 0;

	if (!world_up(&w, "bob", 0))
		goto out;
	p = w.p;
	bob = w.a;
	/* bob follows; the Accept reaches the peer, which holds it. */
	peer_set_mode(p, PEER_HOLD);
	snprintf(id, sizeof(id), "%s/activities/follow-2", peer_base(p));
	body = follow_json(b, bob, id);
	CHECK(body != NULL);
	if (body == NULL)
		goto out;
	CHECK_INT(post_signed(b, bob, body, &r), 202);
	reply_free(&r);
	for (int waited = 0; waited <= BRIDGE_WAIT_MS && peer_post_count(p) == 0;
	     waited += BRIDGE_POLL_MS)
		sleep_ms(BRIDGE_POLL_MS);
	CHECK_INT(peer_post_count(p), 1);

	/* The disk fills; then the peer answers 202. */
	CHECK(fill(w.filler));
	from = log_size(b);
	peer_set_mode(p, PEER_ACCEPT);
	/* The worker cannot record it and backs off: four tries, each wait
	 * longer than the one before. */
	for (int waited = 0; waited <= BRIDGE_WAIT_MS; waited += BRIDGE_POLL_MS) {
		nwaits = logged_waits(b, from, waits, 8);
		if (nwaits >= 4)
			break;
		sleep_ms(BRIDGE_POLL_MS);
	}
	CHECK(nwaits >= 4);
	for (size_t i = 1; i < nwaits; i++)
		if (waits[i] <= waits[i - 1])
			check_fail(__FILE__, __LINE__, "wait %zu: %ld ms after %ld ms", i, waits[i],
				   waits[i - 1]);
	/* Not recorded, not forgotten, not sent again. */
	CHECK_INT(bridge_db_int(b, q_done, bob->inbox), 0);
	CHECK_INT(bridge_db_int(b, "SELECT count(*) FROM deliveries WHERE inbox = %Q AND state = 0",
				bob->inbox),
		  1);
	CHECK_INT(peer_post_count(p), 1);

	/* Space returns: recorded at the next try (the wait then is under
	 * BRIDGE_WAIT_MS), not resent. */
	CHECK(unlink(w.filler) == 0);
	CHECK(bridge_wait_db(b, 1, q_done, bob->inbox));
	CHECK(wait_log(b, "delivery: the database can be written again", from, BRIDGE_WAIT_MS));
	CHECK_INT(peer_post_count(p), 1);
	CHECK_INT(bridge_db_int(b, "SELECT count(*) FROM pragma_integrity_check"
				   " WHERE integrity_check = 'ok'"),
		  1);
	CHECK_INT(bridge_stop(b, SIGTERM), 0);
	CHECK_INT(peer_post_count(p), 1);
	bridge_check_log_clean(b);
out:
	free(body);
	world_down(&w);
}

static const struct check_case cases[] = {
    {"disk_full", t_disk_full},
    {"delivery_full", t_delivery_full},
};

int main(int argc, char **argv)
{
	int rc;

	binary = bridge_main_init(argc, argv, "test_faults");
	if (binary == NULL)
		return 2;
	if (!can_mount()) {
		printf(
		    "SKIP disk_full: mounting a tmpfs needs root (and a system that allows it)\n");
		curl_global_cleanup();
		return SKIP_CODE;
	}
	/* argv[1] takes the place of the program name: the rest are cases. */
	rc = check_main(argc - 1, argv + 1, cases, sizeof(cases) / sizeof(cases[0]));
	curl_global_cleanup();
	return rc;
}
