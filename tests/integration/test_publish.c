/*
 * test_publish.c — publishing the blog's posts with the real blogbridge
 * binary: `poll`, `posts [--json]`, `posts delete URL`, and the poller
 * `serve` runs.  Invoked as `test_publish PATH/TO/blogbridge [CASE...]`.
 *
 * Each case works in a fresh temporary folder with its own bridge.conf and
 * SQLite file.  The feed is an RSS file the test writes and rewrites, or
 * (http cases) a document served by a small libmicrohttpd server here that
 * honours ETag / Last-Modified and records the conditional headers it
 * receives.  Followers are rows inserted into the SQLite file directly
 * (the follow flow itself is test_federation's); what the bridge queued is
 * read back from the activities and deliveries tables.  Nothing is
 * delivered: the followers' inboxes are on hosts that do not exist, and
 * only `serve` would send.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ITEMS_MAX 16
#define FEED_MAX (64 * 1024)
#define WAIT_MS 15000
#define POLL_MS 50
#define HANG_MAX_MS 30000
#define POST_PREFIX "/ap/posts/"
#define BIG_FEED_BYTES (17 * 1024 * 1024) /* over FEED_BYTES_MAX (16 MiB) */

static const char *binary;

/* ---- the bridge's folder ---------------------------------------------- */

struct env {
	const char *dir;
	char conf[PATH_MAX];
	char feed[PATH_MAX]; /* the feed file (file cases) */
	char db[PATH_MAX];
	char base[64]; /* base_url */
};

/* A folder with a bridge.conf whose feed is feed_url, or the file feed.xml
 * when NULL; listen on port (0: an arbitrary one, for commands other than
 * serve). */
static void env_init(struct env *v, const char *feed_url, int port)
{
	char text[2048];
	FILE *f;

	memset(v, 0, sizeof(*v));
	v->dir = check_tmpdir();
	if (port == 0)
		port = 9;
	snprintf(v->conf, sizeof(v->conf), "%s/bridge.conf", v->dir);
	snprintf(v->feed, sizeof(v->feed), "%s/feed.xml", v->dir);
	snprintf(v->db, sizeof(v->db), "%s/data/bridge.db", v->dir);
	snprintf(v->base, sizeof(v->base), "http://127.0.0.1:%d", port);
	snprintf(text, sizeof(text),
		 "[site]\nbase_url = %s\nhandle = blog\nname = Test blog\nsummary = A test\n"
		 "url = https://blog.example/\nfeed = %s\npoll_interval = 10\nlanguage = en\n"
		 "[server]\nlisten = 127.0.0.1:%d\n[store]\ndatabase = data/bridge.db\n"
		 "[federation]\nkey = data/actor.pem\nallow_private_addresses = true\n",
		 v->base, feed_url ? feed_url : "feed.xml", port);
	f = fopen(v->conf, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

/* Runs blogbridge -c conf ARGS... (NULL-terminated); *out and *err (may be
 * NULL) get its output, for the caller to free. */
static int bb(const struct env *v, char **out, char **err, ...)
{
	char *argv[12] = {(char *)binary, "-c", (char *)v->conf};
	char *o = NULL, *e = NULL;
	size_t n = 3;
	va_list ap;
	int status;

	va_start(ap, err);
	for (char *a; n < 11 && (a = va_arg(ap, char *)) != NULL;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	status = check_run(argv, NULL, &o, &e);
	if (out)
		*out = o;
	else
		free(o);
	if (err)
		*err = e;
	else
		free(e);
	return status;
}

/* ---- the feed ----------------------------------------------------------- */

struct item {
	int n; /* post number: guid, link and title derive from it */
	const char *content;
	time_t published;
};

#define DAY 86400
#define EPOCH_2024 1704067200 /* 2024-01-01T00:00:00Z */

static struct item item(int n, const char *content)
{
	return (struct item){n, content, EPOCH_2024 + (time_t)n * DAY};
}

static void post_url(int n, char *out, size_t len)
{
	snprintf(out, len, "https://blog.example/posts/%d/", n);
}

/* An RSS 2.0 document of the items, newest first as blogs write them. */
static char *feed_render(const struct item *items, size_t n)
{
	char *doc = malloc(FEED_MAX);
	size_t len = 0;

	if (doc == NULL)
		abort();
	len +=
	    (size_t)snprintf(doc + len, FEED_MAX - len,
			     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			     "<rss version=\"2.0\" "
			     "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">\n"
			     "<channel><title>Test blog</title><link>https://blog.example/</link>"
			     "<description>A test</description>\n");
	for (size_t i = n; i-- > 0;) {
		char date[64], url[128];
		struct tm tm;
		gmtime_r(&items[i].published, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
		post_url(items[i].n, url, sizeof(url));
		len += (size_t)snprintf(
		    doc + len, FEED_MAX - len,
		    "<item><title>Post %d</title><link>%s</link>"
		    "<guid isPermaLink=\"false\">tag:blog.example,2024:post-%d</guid>"
		    "<pubDate>%s</pubDate><category>Testing</category>"
		    "<content:encoded><![CDATA[%s]]></content:encoded></item>\n",
		    items[i].n, url, items[i].n, date, items[i].content);
		if (len >= FEED_MAX)
			abort();
	}
	len += (size_t)snprintf(doc + len, FEED_MAX - len, "</channel></rss>\n");
	if (len >= FEED_MAX)
		abort();
	return doc;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

static void feed_write(const struct env *v, const struct item *items, size_t n)
{
	char *doc = feed_render(items, n);

	write_text(v->feed, doc);
	free(doc);
}

/* ---- the database ---------------------------------------------------------- */

static sqlite3 *db_open(const struct env *v)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(v->db, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		fprintf(stderr, "    cannot open %s\n", v->db);
		abort();
	}
	sqlite3_busy_timeout(db, 10000);
	return db;
}

/* The first column of the first row of a query with one optional text
 * parameter, as an integer (-1 when no row). */
static long long db_int(const struct env *v, const char *sql, const char *arg)
{
	sqlite3 *db = db_open(v);
	sqlite3_stmt *st = NULL;
	long long n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		abort();
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* As db_int, a text (caller frees; NULL when no row). */
static char *db_text(const struct env *v, const char *sql, const char *arg)
{
	sqlite3 *db = db_open(v);
	sqlite3_stmt *st = NULL;
	char *s = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		abort();
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		s = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return s;
}

static void follower_add(const struct env *v, const char *actor, const char *inbox,
			 const char *shared)
{
	sqlite3 *db = db_open(v);
	sqlite3_stmt *st = NULL;
	char follow[256];

	snprintf(follow, sizeof(follow), "%s#follow", actor);
	if (sqlite3_prepare_v2(
		db,
		"INSERT INTO followers(actor, handle, inbox, shared_inbox, follow_id,"
		" since) VALUES (?1, NULL, ?2, ?3, ?4, unixepoch())",
		-1, &st, NULL) != SQLITE_OK)
		abort();
	sqlite3_bind_text(st, 1, actor, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, inbox, -1, SQLITE_TRANSIENT);
	if (shared)
		sqlite3_bind_text(st, 3, shared, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, follow, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		abort();
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* The JSON of the newest activity of a type (caller decrefs), or NULL. */
static json_t *activity_last(const struct env *v, const char *type)
{
	char *s = db_text(v,
			  "SELECT json FROM activities WHERE json ->> '$.type' = ?1"
			  " ORDER BY id DESC LIMIT 1",
			  type);
	json_t *j = s ? json_loads(s, 0, NULL) : NULL;

	free(s);
	return j;
}

static long long activities(const struct env *v)
{
	return db_int(v, "SELECT count(*) FROM activities", NULL);
}

static long long deliveries(const struct env *v)
{
	return db_int(v, "SELECT count(*) FROM deliveries", NULL);
}

/* A snapshot of everything a poll may write, to compare; the record of
 * the last poll (feed_poll_*, which a failed poll writes too) apart. */
static char *db_snapshot(const struct env *v)
{
	return db_text(v,
		       "SELECT (SELECT group_concat(guid || hash || updated || deleted, ';')"
		       " FROM posts) || '|' || (SELECT count(*) FROM activities) || '|' ||"
		       " (SELECT count(*) FROM deliveries) || '|' ||"
		       " (SELECT group_concat(key || '=' || value, ';') FROM meta"
		       "  WHERE substr(key, 1, 10) <> 'feed_poll_')",
		       NULL);
}

/* ---- output -------------------------------------------------------------- */

/* The number before word in a summary line ("3 new"), or -1. */
static long summary_count(const char *out, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = out; p && *p; p++) {
		if (*p >= '0' && *p <= '9' && (p == out || p[-1] == ' ')) {
			char *end;
			long n = strtol(p, &end, 10);
			if (*end == ' ' && strncmp(end + 1, word, wl) == 0)
				return n;
			p = end - 1;
		}
	}
	return -1;
}

/* `posts --json`, parsed (caller decrefs). */
static json_t *posts_json(const struct env *v)
{
	char *out = NULL, *err = NULL;
	json_t *j = NULL;

	if (bb(v, &out, &err, "posts", "--json", NULL) == 0)
		j = json_loads(out, 0, NULL);
	if (!json_is_array(j))
		fprintf(stderr, "    posts --json: %s %s\n", out, err);
	free(out);
	free(err);
	return j;
}

/* The entry of `posts --json` with that URL (borrowed from arr), or NULL. */
static json_t *post_by_url(json_t *arr, const char *url)
{
	size_t i;
	json_t *p;

	for (i = 0; i < json_array_size(arr) && (p = json_array_get(arr, i)); i++) {
		const char *u = json_string_value(json_object_get(p, "url"));
		if (u && strcmp(u, url) == 0)
			return p;
	}
	return NULL;
}

/* The ActivityPub id of post n, from `posts --json` (caller frees). */
static char *post_id(const struct env *v, int n)
{
	char url[128];
	json_t *arr = posts_json(v), *p;
	char *id = NULL;

	post_url(n, url, sizeof(url));
	p = post_by_url(arr, url);
	if (p && json_string_value(json_object_get(p, "id")))
		id = strdup(json_string_value(json_object_get(p, "id")));
	json_decref(arr);
	return id;
}

/* Runs `poll` (with arg when set), checks it succeeded, returns its
 * output (caller frees). */
static char *poll_ok(const struct env *v, const char *arg)
{
	char *out = NULL, *err = NULL;
	int status = bb(v, &out, &err, "poll", arg, NULL);

	if (status != 0)
		check_fail(__FILE__, __LINE__, "poll exited %d: %s%s", status, out, err);
	free(err);
	return out;
}

static time_t rfc3339(const char *s)
{
	struct tm tm = {0};

	if (s == NULL || strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
		return 0;
	return timegm(&tm);
}

static time_t object_time(json_t *activity, const char *field)
{
	return rfc3339(
	    json_string_value(json_object_get(json_object_get(activity, "object"), field)));
}

/* ---- cases: a file feed --------------------------------------------------- */

static void test_first_import(void)
{
	struct env v;
	struct item items[3] = {item(1, "<p>One.</p>"), item(2, "<p>Two.</p>"),
				item(3, "<p>Three.</p>")};
	char *out;
	json_t *arr, *p;
	size_t i;

	env_init(&v, NULL, 0);
	feed_write(&v, items, 3);
	/* The database exists after any command; a follower before the
	 * first import must still get nothing. */
	CHECK_INT(bb(&v, NULL, NULL, "posts", NULL), 0);
	follower_add(&v, "https://a.example/users/ann", "https://a.example/users/ann/inbox", NULL);
	out = poll_ok(&v, NULL);
	CHECK_INT(summary_count(out, "items:"), 3);
	CHECK_INT(summary_count(out, "new,"), 3);
	CHECK_INT(summary_count(out, "deliveries"), 0);
	free(out);
	CHECK_INT(activities(&v), 0);
	CHECK_INT(deliveries(&v), 0);
	arr = posts_json(&v);
	CHECK_INT(json_array_size(arr), 3);
	for (i = 0; i < json_array_size(arr) && (p = json_array_get(arr, i)); i++) {
		const char *id = json_string_value(json_object_get(p, "id"));
		char prefix[128];
		snprintf(prefix, sizeof(prefix), "%s" POST_PREFIX, v.base);
		/* SPEC.md's posts fields: six of the post, three counts. */
		CHECK(json_object_size(p) == 9);
		CHECK(json_integer_value(json_object_get(p, "comments")) == 0);
		CHECK(json_integer_value(json_object_get(p, "likes")) == 0);
		CHECK(json_integer_value(json_object_get(p, "boosts")) == 0);
		CHECK(json_is_integer(json_object_get(p, "comments")));
		CHECK(id && strncmp(id, prefix, strlen(prefix)) == 0 &&
		      strlen(id) == strlen(prefix) + 32 &&
		      strspn(id + strlen(prefix), "0123456789abcdef") == 32);
		CHECK(json_is_string(json_object_get(p, "url")));
		CHECK(json_is_string(json_object_get(p, "title")));
		CHECK(json_is_string(json_object_get(p, "published")));
		CHECK(json_is_string(json_object_get(p, "updated")));
		CHECK(json_is_null(json_object_get(p, "deleted")));
	}
	/* The id is base_url/ap/posts/ + 32 hex digits of SHA-256(guid). */
	{
		const char *guid = "tag:blog.example,2024:post-3";
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;
		char want[256];
		int n = snprintf(want, sizeof(want), "%s" POST_PREFIX, v.base);
		CHECK(EVP_Digest(guid, strlen(guid), md, &mdlen, EVP_sha256(), NULL) == 1);
		for (unsigned int k = 0; k < 16; k++)
			n += snprintf(want + n, sizeof(want) - (size_t)n, "%02x", md[k]);
		CHECK_STR(json_string_value(json_object_get(json_array_get(arr, 0), "id")), want);
	}
	/* Newest first, with the feed's dates. */
	CHECK_STR(json_string_value(json_object_get(json_array_get(arr, 0), "title")), "Post 3");
	CHECK_STR(json_string_value(json_object_get(json_array_get(arr, 0), "published")),
		  "2024-01-04T00:00:00Z");
	json_decref(arr);
	/* The text listing. */
	CHECK_INT(bb(&v, &out, NULL, "posts", NULL), 0);
	CHECK(check_contains(out, "2024-01-04  Post 3  https://blog.example/posts/3/"));
	CHECK(check_contains(out, "3 posts (0 deleted)"));
	free(out);
	check_tmpdir_remove(v.dir);
}

static void test_create_update_delete(void)
{
	struct env v;
	struct item items[4] = {item(1, "<p>One.</p>"), item(2, "<p>Two.</p>"),
				item(3, "<p>Three.</p>"), item(4, "<p>Four, new.</p>")};
	char url2[128], url4[128], *out, *err, *id4, *id2, *snap;
	json_t *act, *arr, *p;
	time_t upd1, upd2;

	post_url(2, url2, sizeof(url2));
	post_url(4, url4, sizeof(url4));
	env_init(&v, NULL, 0);
	feed_write(&v, items, 3);
	free(poll_ok(&v, NULL));
	follower_add(&v, "https://a.example/users/ann", "https://a.example/users/ann/inbox", NULL);

	/* A new item: one Create, one delivery. */
	feed_write(&v, items, 4);
	out = poll_ok(&v, NULL);
	CHECK_INT(summary_count(out, "items:"), 4);
	CHECK_INT(summary_count(out, "new,"), 1);
	CHECK_INT(summary_count(out, "updated,"), 0);
	CHECK_INT(summary_count(out, "unchanged,"), 3);
	CHECK_INT(summary_count(out, "deliveries"), 1);
	free(out);
	CHECK_INT(activities(&v), 1);
	CHECK_INT(deliveries(&v), 1);
	CHECK_INT(db_int(&v, "SELECT count(*) FROM deliveries WHERE inbox = ?1",
			 "https://a.example/users/ann/inbox"),
		  1);
	id4 = post_id(&v, 4);
	act = activity_last(&v, "Create");
	CHECK(id4 != NULL && act != NULL);
	CHECK_STR(json_string_value(json_object_get(json_object_get(act, "object"), "id")), id4);
	CHECK_STR(json_string_value(json_object_get(json_object_get(act, "object"), "url")), url4);
	CHECK(check_contains(
	    json_string_value(json_object_get(json_object_get(act, "object"), "content")),
	    "Four, new."));
	CHECK(json_object_get(json_object_get(act, "object"), "updated") == NULL);
	json_decref(act);

	/* An edit: an Update with the whole object, updated after published;
	 * a second edit at once: updated strictly later again. */
	items[1].content = "<p>Two, edited.</p>";
	feed_write(&v, items, 4);
	out = poll_ok(&v, NULL);
	CHECK_INT(summary_count(out, "new,"), 0);
	CHECK_INT(summary_count(out, "updated,"), 1);
	CHECK_INT(summary_count(out, "deliveries"), 1);
	free(out);
	id2 = post_id(&v, 2);
	act = activity_last(&v, "Update");
	CHECK(act != NULL && id2 != NULL);
	CHECK_STR(json_string_value(json_object_get(json_object_get(act, "object"), "id")), id2);
	CHECK(check_contains(
	    json_string_value(json_object_get(json_object_get(act, "object"), "content")),
	    "Two, edited."));
	upd1 = object_time(act, "updated");
	CHECK(upd1 > object_time(act, "published"));
	json_decref(act);
	items[1].content = "<p>Two, edited twice.</p>";
	feed_write(&v, items, 4);
	out = poll_ok(&v, NULL);
	CHECK_INT(summary_count(out, "updated,"), 1);
	free(out);
	act = activity_last(&v, "Update");
	upd2 = object_time(act, "updated");
	CHECK(upd1 != 0 && upd2 > upd1);
	CHECK(check_contains(
	    json_string_value(json_object_get(json_object_get(act, "object"), "content")),
	    "edited twice"));
	json_decref(act);
	CHECK_INT(activities(&v), 3);
	CHECK_INT(deliveries(&v), 3);
	arr = posts_json(&v);
	p = post_by_url(arr, url2);
	CHECK(p && rfc3339(json_string_value(json_object_get(p, "updated"))) == upd2);
	json_decref(arr);

	/* Unchanged: nothing. */
	snap = db_snapshot(&v);
	out = poll_ok(&v, NULL);
	CHECK(check_contains(out, "not modified") ||
	      (summary_count(out, "unchanged,") == 4 && summary_count(out, "deliveries") == 0));
	free(out);
	CHECK_INT(activities(&v), 3);
	free(snap);

	/* An item leaving the feed is not a deletion (feeds are windows). */
	feed_write(&v, items + 1, 3);
	out = poll_ok(&v, NULL);
	CHECK_INT(summary_count(out, "items:"), 3);
	CHECK_INT(summary_count(out, "deliveries"), 0);
	free(out);
	CHECK_INT(activities(&v), 3);
	arr = posts_json(&v);
	CHECK_INT(json_array_size(arr), 4);
	for (size_t i = 0; i < json_array_size(arr); i++)
		CHECK(json_is_null(json_object_get(json_array_get(arr, i), "deleted")));
	json_decref(arr);

	/* posts delete: a Delete with a Tombstone, the post marked deleted. */
	CHECK_INT(bb(&v, &out, &err, "posts", "delete", url2, NULL), 0);
	CHECK(check_contains(out, url2) && check_contains(out, "1 delivery"));
	free(out);
	free(err);
	act = activity_last(&v, "Delete");
	CHECK(act != NULL);
	CHECK_STR(json_string_value(json_object_get(json_object_get(act, "object"), "type")),
		  "Tombstone");
	CHECK_STR(json_string_value(json_object_get(json_object_get(act, "object"), "id")), id2);
	json_decref(act);
	CHECK_INT(deliveries(&v), 4);
	arr = posts_json(&v);
	p = post_by_url(arr, url2);
	CHECK(p && json_is_string(json_object_get(p, "deleted")) &&
	      rfc3339(json_string_value(json_object_get(p, "deleted"))) > 0);
	json_decref(arr);
	CHECK_INT(bb(&v, &out, NULL, "posts", NULL), 0);
	CHECK(check_contains(out, "[deleted] Post 2"));
	CHECK(check_contains(out, "4 posts (1 deleted)"));
	free(out);

	/* Again: no live post has that URL. */
	CHECK_INT(bb(&v, &out, &err, "posts", "delete", url2, NULL), 1);
	CHECK(check_contains(err, "no live post") && check_contains(err, url2));
	CHECK(out[0] == '\0');
	free(out);
	free(err);
	CHECK_INT(bb(&v, NULL, &err, "posts", "delete", "https://blog.example/nope/", NULL), 1);
	CHECK(check_contains(err, "no live post"));
	free(err);
	CHECK_INT(activities(&v), 4);

	/* The deleted item, still in the feed and edited, is never re-created
	 * nor updated: its id stays a Tombstone. */
	items[1].content = "<p>Two, back from the dead?</p>";
	feed_write(&v, items, 4);
	out = poll_ok(&v, NULL);
	CHECK_INT(summary_count(out, "new,"), 0);
	CHECK_INT(summary_count(out, "updated,"), 0);
	free(out);
	CHECK_INT(activities(&v), 4);

	/* Usage errors. */
	CHECK_INT(bb(&v, NULL, NULL, "posts", "bogus", NULL), 2);
	CHECK_INT(bb(&v, NULL, NULL, "posts", "delete", NULL), 2);
	CHECK_INT(bb(&v, NULL, NULL, "posts", "--json", "more", NULL), 2);
	CHECK_INT(bb(&v, NULL, NULL, "poll", "--now", NULL), 2);
	free(id2);
	free(id4);
	check_tmpdir_remove(v.dir);
}

static void test_deliver_existing(void)
{
	struct env v;
	struct item items[3] = {item(1, "<p>One.</p>"), item(2, "<p>Two.</p>"),
				item(3, "<p>Three.</p>")};
	char *out, *first, *id1;
	json_t *act;

	env_init(&v, NULL, 0);
	feed_write(&v, items, 3);
	CHECK_INT(bb(&v, NULL, NULL, "posts", NULL), 0);
	follower_add(&v, "https://a.example/users/ann", "https://a.example/users/ann/inbox",
		     "https://a.example/inbox");
	follower_add(&v, "https://a.example/users/bob", "https://a.example/users/bob/inbox",
		     "https://a.example/inbox");
	out = poll_ok(&v, "--deliver-existing");
	CHECK_INT(summary_count(out, "new,"), 3);
	CHECK_INT(summary_count(out, "deliveries"), 3);
	free(out);
	CHECK_INT(
	    db_int(&v, "SELECT count(*) FROM activities WHERE json ->> '$.type' = ?1", "Create"),
	    3);
	/* One shared inbox for both followers. */
	CHECK_INT(deliveries(&v), 3);
	CHECK_INT(db_int(&v, "SELECT count(DISTINCT inbox) FROM deliveries", NULL), 1);
	/* Oldest first: the first Create is post 1's, dated as the post. */
	first = db_text(&v, "SELECT json FROM activities ORDER BY id LIMIT 1", NULL);
	act = first ? json_loads(first, 0, NULL) : NULL;
	id1 = post_id(&v, 1);
	CHECK(act && id1);
	CHECK_STR(json_string_value(json_object_get(json_object_get(act, "object"), "id")), id1);
	CHECK_STR(json_string_value(json_object_get(act, "published")), "2024-01-02T00:00:00Z");
	json_decref(act);
	free(first);
	free(id1);
	check_tmpdir_remove(v.dir);
}

static void test_malformed(void)
{
	struct env v;
	struct item items[2] = {item(1, "<p>One.</p>"), item(2, "<p>Two.</p>")};
	char *out, *err, *before, *after;

	env_init(&v, NULL, 0);
	/* No feed at all. */
	CHECK_INT(bb(&v, &out, &err, "poll", NULL), 1);
	CHECK(check_contains(err, "feed.xml") && check_contains(err, "No such file"));
	free(out);
	free(err);

	feed_write(&v, items, 2);
	free(poll_ok(&v, NULL));
	follower_add(&v, "https://a.example/users/ann", "https://a.example/users/ann/inbox", NULL);
	before = db_snapshot(&v);
	write_text(v.feed, "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>"
			   "<item><title>Broken</title></channel>\n");
	CHECK_INT(bb(&v, &out, &err, "poll", NULL), 1);
	CHECK(out[0] == '\0');
	CHECK(check_contains(err, "blogbridge: feed ") && check_contains(err, "feed.xml"));
	fprintf(stderr, "    (malformed feed: %s", err);
	free(out);
	free(err);
	/* Neither RSS nor Atom. */
	write_text(v.feed, "<html><body>not a feed</body></html>\n");
	CHECK_INT(bb(&v, NULL, &err, "poll", NULL), 1);
	CHECK(check_contains(err, "feed.xml"));
	free(err);
	after = db_snapshot(&v);
	CHECK_STR(after, before);
	free(before);
	free(after);
	/* Fixed: the next poll works again. */
	items[0].content = "<p>One, edited.</p>";
	feed_write(&v, items, 2);
	out = poll_ok(&v, NULL);
	CHECK_INT(summary_count(out, "updated,"), 1);
	free(out);
	check_tmpdir_remove(v.dir);
}

/* 1,000 followers on 50 hosts; on each host ten share the host's shared
 * inbox and ten have only their own: 50 + 500 distinct targets. */
static void test_fanout(void)
{
	struct env v;
	struct item items[2] = {item(1, "<p>One.</p>"), item(2, "<p>Two.</p>")};
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	char *out;

	env_init(&v, NULL, 0);
	feed_write(&v, items, 1);
	free(poll_ok(&v, NULL));
	db = db_open(&v);
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(
		db,
		"INSERT INTO followers(actor, handle, inbox, shared_inbox, follow_id,"
		" since) VALUES (?1, NULL, ?2, ?3, ?1 || '#follow', 0)",
		-1, &st, NULL) != SQLITE_OK)
		abort();
	for (int h = 0; h < 50; h++) {
		for (int u = 0; u < 20; u++) {
			char actor[128], inbox[160], shared[128];
			snprintf(actor, sizeof(actor), "https://h%d.example/users/u%d", h, u);
			snprintf(inbox, sizeof(inbox), "%s/inbox", actor);
			snprintf(shared, sizeof(shared), "https://h%d.example/inbox", h);
			sqlite3_reset(st);
			sqlite3_bind_text(st, 1, actor, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 2, inbox, -1, SQLITE_TRANSIENT);
			if (u < 10)
				sqlite3_bind_text(st, 3, shared, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(st, 3);
			if (sqlite3_step(st) != SQLITE_DONE)
				abort();
		}
	}
	sqlite3_finalize(st);
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		abort();
	sqlite3_close(db);
	CHECK_INT(db_int(&v, "SELECT count(*) FROM followers", NULL), 1000);

	feed_write(&v, items, 2);
	out = poll_ok(&v, NULL);
	CHECK_INT(summary_count(out, "new,"), 1);
	CHECK_INT(summary_count(out, "deliveries"), 550);
	free(out);
	CHECK_INT(deliveries(&v), 550);
	CHECK_INT(db_int(&v, "SELECT count(DISTINCT inbox) FROM deliveries", NULL), 550);
	CHECK_INT(db_int(&v, "SELECT count(DISTINCT host) FROM deliveries", NULL), 50);
	CHECK_INT(db_int(&v, "SELECT count(*) FROM deliveries WHERE inbox LIKE '%/users/%'", NULL),
		  500);
	CHECK_INT(db_int(&v, "SELECT count(DISTINCT activity) FROM deliveries", NULL), 1);
	check_tmpdir_remove(v.dir);
}

/* ---- an http feed ----------------------------------------------------------- */

struct feed_server {
	struct MHD_Daemon *d;
	int port;
	pthread_mutex_t lock;
	char *doc;	   /* served at /feed.xml */
	char etag[64];	   /* with this ETag */
	char modified[64]; /* and Last-Modified */
	int status;	   /* 0: normal; else answer this status */
	bool big;	   /* serve BIG_FEED_BYTES */
	bool chunked;	   /* ... without a Content-Length */
	int requests;
	char if_none_match[128];
	char if_modified_since[128];
	char user_agent[256];
	char accept[256];
	atomic_bool stopping;
	atomic_int hanging; /* requests for /hang received */
};

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const char *body,
			       size_t len, const char *etag, const char *modified,
			       const char *location)
{
	struct MHD_Response *res =
	    MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (res == NULL)
		return MHD_NO;
	MHD_add_response_header(res, "Content-Type", "application/rss+xml");
	if (etag && etag[0])
		MHD_add_response_header(res, "ETag", etag);
	if (modified && modified[0])
		MHD_add_response_header(res, "Last-Modified", modified);
	if (location)
		MHD_add_response_header(res, "Location", location);
	ret = MHD_queue_response(conn, status, res);
	MHD_destroy_response(res);
	return ret;
}

/* Spaces, BIG_FEED_BYTES of them, chunked. */
static ssize_t big_chunk(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls;
	if (pos >= BIG_FEED_BYTES)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (max > BIG_FEED_BYTES - pos)
		max = (size_t)(BIG_FEED_BYTES - pos);
	memset(buf, ' ', max);
	return (ssize_t)max;
}

static enum MHD_Result respond_chunked(struct MHD_Connection *conn)
{
	struct MHD_Response *res =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, big_chunk, NULL, NULL);
	enum MHD_Result ret;

	if (res == NULL)
		return MHD_NO;
	ret = MHD_queue_response(conn, 200, res);
	MHD_destroy_response(res);
	return ret;
}

static void copy_header(struct MHD_Connection *conn, const char *name, char *out, size_t len)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);

	snprintf(out, len, "%s", v ? v : "");
}

static enum MHD_Result on_feed(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct feed_server *s = cls;
	enum MHD_Result ret;
	char *body = NULL;
	char etag[64], modified[64];
	size_t len = 0;
	int status;

	(void)method, (void)version, (void)upload, (void)upload_size, (void)con_cls;
	if (strcmp(url, "/hang") == 0) {
		atomic_fetch_add(&s->hanging, 1);
		for (int waited = 0; waited < HANG_MAX_MS && !atomic_load(&s->stopping);
		     waited += POLL_MS)
			usleep(POLL_MS * 1000);
		return MHD_NO;
	}
	if (strcmp(url, "/old") == 0)
		return respond(conn, 301, "", 0, NULL, NULL, "/feed.xml");
	pthread_mutex_lock(&s->lock);
	s->requests++;
	copy_header(conn, "If-None-Match", s->if_none_match, sizeof(s->if_none_match));
	copy_header(conn, "If-Modified-Since", s->if_modified_since, sizeof(s->if_modified_since));
	copy_header(conn, "User-Agent", s->user_agent, sizeof(s->user_agent));
	copy_header(conn, "Accept", s->accept, sizeof(s->accept));
	status = s->status;
	snprintf(etag, sizeof(etag), "%s", s->etag);
	snprintf(modified, sizeof(modified), "%s", s->modified);
	if (status == 0 && strcmp(s->if_none_match, etag) == 0)
		status = 304;
	if (status == 0 && s->chunked) {
		pthread_mutex_unlock(&s->lock);
		return respond_chunked(conn);
	}
	if (status == 0 && s->big) {
		len = BIG_FEED_BYTES;
		body = malloc(len);
		if (body)
			memset(body, ' ', len);
	} else if (status == 0) {
		body = strdup(s->doc ? s->doc : "");
		len = body ? strlen(body) : 0;
	}
	pthread_mutex_unlock(&s->lock);
	if (status == 304)
		return respond(conn, 304, "", 0, etag, modified, NULL);
	if (status != 0)
		return respond(conn, (unsigned)status, "oops", 4, NULL, NULL, NULL);
	if (body == NULL)
		return MHD_NO;
	ret = respond(conn, 200, body, len, etag, modified, NULL);
	free(body);
	return ret;
}

static bool feed_server_start(struct feed_server *s)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	const union MHD_DaemonInfo *info;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	atomic_init(&s->stopping, false);
	atomic_init(&s->hanging, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
				NULL, NULL, on_feed, s, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
	if (s->d == NULL)
		return false;
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL || info->port == 0)
		return false;
	s->port = info->port;
	return true;
}

static void feed_server_stop(struct feed_server *s)
{
	atomic_store(&s->stopping, true);
	if (s->d)
		MHD_stop_daemon(s->d);
	free(s->doc);
	pthread_mutex_destroy(&s->lock);
}

static void feed_server_set(struct feed_server *s, char *doc, const char *etag,
			    const char *modified)
{
	pthread_mutex_lock(&s->lock);
	free(s->doc);
	s->doc = doc;
	snprintf(s->etag, sizeof(s->etag), "%s", etag);
	snprintf(s->modified, sizeof(s->modified), "%s", modified);
	pthread_mutex_unlock(&s->lock);
}

static void test_http_feed(void)
{
	struct feed_server s;
	struct env v;
	struct item items[3] = {item(1, "<p>One.</p>"), item(2, "<p>Two.</p>"),
				item(3, "<p>Three.</p>")};
	char url[128], *out, *err, *before, *after;

	if (!feed_server_start(&s)) {
		CHECK(!"feed server started");
		feed_server_stop(&s);
		return;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/old", s.port);
	env_init(&v, url, 0);
	feed_server_set(&s, feed_render(items, 2), "\"v1\"", "Mon, 01 Jan 2024 00:00:00 GMT");

	/* Through a redirect; no validators yet. */
	out = poll_ok(&v, NULL);
	CHECK_INT(summary_count(out, "new,"), 2);
	free(out);
	/* The server's threads record each request under s.lock, and so
	 * the test reads the record. */
	pthread_mutex_lock(&s.lock);
	CHECK_INT(s.requests, 1);
	CHECK_STR(s.if_none_match, "");
	CHECK_STR(s.if_modified_since, "");
	CHECK(strncmp(s.user_agent, "blogbridge/", 11) == 0);
	CHECK(check_contains(s.accept, "application/rss+xml") &&
	      check_contains(s.accept, "application/atom+xml"));
	pthread_mutex_unlock(&s.lock);

	/* The second poll is conditional and gets 304. */
	out = poll_ok(&v, NULL);
	CHECK(check_contains(out, "not modified"));
	free(out);
	pthread_mutex_lock(&s.lock);
	CHECK_INT(s.requests, 2);
	CHECK_STR(s.if_none_match, "\"v1\"");
	CHECK_STR(s.if_modified_since, "Mon, 01 Jan 2024 00:00:00 GMT");
	pthread_mutex_unlock(&s.lock);

	/* A new version. */
	feed_server_set(&s, feed_render(items, 3), "\"v2\"", "");
	follower_add(&v, "https://a.example/users/ann", "https://a.example/users/ann/inbox", NULL);
	out = poll_ok(&v, NULL);
	CHECK_INT(summary_count(out, "new,"), 1);
	CHECK_INT(summary_count(out, "deliveries"), 1);
	free(out);
	pthread_mutex_lock(&s.lock);
	CHECK_STR(s.if_none_match, "\"v1\"");
	pthread_mutex_unlock(&s.lock);
	out = poll_ok(&v, NULL);
	CHECK(check_contains(out, "not modified"));
	free(out);
	pthread_mutex_lock(&s.lock);
	CHECK_STR(s.if_none_match, "\"v2\"");
	CHECK_STR(s.if_modified_since, ""); /* no Last-Modified on v2: none kept */
	pthread_mutex_unlock(&s.lock);

	/* Server errors: exit 1 naming the URL and the status; nothing kept. */
	before = db_snapshot(&v);
	pthread_mutex_lock(&s.lock);
	s.status = 503;
	pthread_mutex_unlock(&s.lock);
	CHECK_INT(bb(&v, &out, &err, "poll", NULL), 1);
	CHECK(check_contains(err, url) && check_contains(err, "503"));
	free(out);
	free(err);
	pthread_mutex_lock(&s.lock);
	s.status = 404;
	pthread_mutex_unlock(&s.lock);
	CHECK_INT(bb(&v, NULL, &err, "poll", NULL), 1);
	CHECK(check_contains(err, url) && check_contains(err, "404"));
	free(err);
	/* Over FEED_BYTES_MAX. */
	pthread_mutex_lock(&s.lock);
	s.status = 0;
	s.big = true;
	s.etag[0] = '\0';
	pthread_mutex_unlock(&s.lock);
	CHECK_INT(bb(&v, NULL, &err, "poll", NULL), 1);
	CHECK(check_contains(err, url) && check_contains(err, "larger than"));
	free(err);
	pthread_mutex_lock(&s.lock);
	s.big = false;
	s.chunked = true;
	pthread_mutex_unlock(&s.lock);
	CHECK_INT(bb(&v, NULL, &err, "poll", NULL), 1);
	CHECK(check_contains(err, url) && check_contains(err, "larger than"));
	free(err);
	after = db_snapshot(&v);
	CHECK_STR(after, before);
	free(before);
	free(after);
	check_tmpdir_remove(v.dir);

	/* Nobody listening. */
	env_init(&v, "http://127.0.0.1:1/feed.xml", 0);
	CHECK_INT(bb(&v, NULL, &err, "poll", NULL), 1);
	CHECK(check_contains(err, "http://127.0.0.1:1/feed.xml"));
	free(err);
	check_tmpdir_remove(v.dir);
	feed_server_stop(&s);
}

/* ---- serve -------------------------------------------------------------------- */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static pid_t serve_start(const struct env *v)
{
	char log[PATH_MAX];
	pid_t pid;

	snprintf(log, sizeof(log), "%s/serve.log", v->dir);
	pid = fork();
	if (pid == 0) {
		FILE *f = freopen(log, "w", stderr);
		if (f == NULL || freopen("/dev/null", "w", stdout) == NULL)
			_exit(126);
		execl(binary, binary, "-c", v->conf, "serve", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Sends SIGTERM and waits at most ms; returns the milliseconds it took,
 * or -1 when it did not exit 0 in time (then it is killed). */
static long serve_stop(pid_t pid, long ms)
{
	long start = now_ms();
	int status;

	kill(pid, SIGTERM);
	while (now_ms() - start < ms) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? now_ms() - start
									     : -1;
		usleep(POLL_MS * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static void serve_log(const struct env *v)
{
	char path[PATH_MAX], line[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/serve.log", v->dir);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		fprintf(stderr, "    | %s", line);
	if (f)
		fclose(f);
}

/* serve polls at start, and stops at once, even in the middle of a fetch. */
static void test_serve_poller(void)
{
	struct item items[2] = {item(1, "<p>One.</p>"), item(2, "<p>Two.</p>")};
	struct feed_server s;
	struct env v;
	long took, deadline;
	pid_t pid;
	int before = check_failures;
	char url[128];

	env_init(&v, NULL, check_free_port("127.0.0.1"));
	feed_write(&v, items, 2);
	pid = serve_start(&v);
	deadline = now_ms() + WAIT_MS;
	while (now_ms() < deadline &&
	       (access(v.db, F_OK) != 0 ||
		db_int(&v, "SELECT count(*) FROM sqlite_master WHERE name = 'posts'", NULL) != 1 ||
		db_int(&v, "SELECT count(*) FROM posts", NULL) != 2))
		usleep(POLL_MS * 1000);
	CHECK_INT(db_int(&v, "SELECT count(*) FROM posts", NULL), 2);
	took = serve_stop(pid, 5000);
	CHECK(took >= 0 && took < 3000);
	if (check_failures != before)
		serve_log(&v);
	check_tmpdir_remove(v.dir);

	/* A feed that hangs: SIGTERM still stops serve at once. */
	if (!feed_server_start(&s)) {
		CHECK(!"feed server started");
		feed_server_stop(&s);
		return;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hang", s.port);
	env_init(&v, url, check_free_port("127.0.0.1"));
	pid = serve_start(&v);
	/* Started, and waiting for the feed. */
	deadline = now_ms() + WAIT_MS;
	while (now_ms() < deadline && atomic_load(&s.hanging) == 0)
		usleep(POLL_MS * 1000);
	CHECK(atomic_load(&s.hanging) > 0);
	took = serve_stop(pid, 10000);
	CHECK(took >= 0 && took < 3000);
	if (check_failures != before)
		serve_log(&v);
	check_tmpdir_remove(v.dir);
	feed_server_stop(&s);
}

static const struct check_case cases[] = {
    {"first_import", test_first_import},
    {"create_update_delete", test_create_update_delete},
    {"deliver_existing", test_deliver_existing},
    {"malformed", test_malformed},
    {"fanout", test_fanout},
    {"http_feed", test_http_feed},
    {"serve_poller", test_serve_poller},
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_publish PATH/TO/blogbridge [CASE...]\n");
		return 2;
	}
	binary = argv[1];
	signal(SIGPIPE, SIG_IGN);
	return check_main(argc - 1, argv + 1, cases, sizeof(cases) / sizeof(cases[0]));
}
