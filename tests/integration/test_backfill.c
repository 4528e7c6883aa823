/*
 * test_backfill.c — replies that never reached the inbox become comments
 * through the reply backfill, on the real blogbridge binary.  Invoked as
 * `test_backfill PATH/TO/blogbridge [CASE...]`.
 *
 * As in test_comments.c, the bridge runs `serve` on loopback with
 * allow_private_addresses, its posts are rows written into the SQLite
 * file, and remote servers are peers (peer.h) whose actors sign what the
 * test POSTs; the notes and collections the bridge must fetch are served
 * by the peers (peer_object_put), and what it fetched is counted by them
 * (peer_get_count).  The slow pass is `blogbridge comments backfill`,
 * and the passing of time is a change of the backfill rows' fetched_at.
 *
 * Hosts: 127.0.0.2 (alice), 127.0.0.3 (bob, who never delivers to us),
 * 127.0.0.4 (carol, whose server pages forever).
 */
#include "bridge_proc.h"
#include "check.h"
#include "peer.h"

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define AS_CONTEXT "https://www.w3.org/ns/activitystreams"
#define AS_PUBLIC AS_CONTEXT "#Public"
#define SHARED "/ap/inbox"
#define PAGES_MAX 10	 /* BACKFILL_PAGES_MAX */
#define ENDLESS_PAGES 16 /* more than that */
#define ID_MAX (PEER_URL_MAX + 64)

static const char *binary;
static struct bridge br;
static struct {
	const char *keydir;
	struct peer *pa, *pb, *pc;
	struct peer_actor *alice, *bob, *carol;
	char young[160], old[160];
	bool ready, failed;
} w;
static unsigned counter;

/* ---- the bridge and the peers ---- */

static bool world_up(void)
{
	if (w.ready)
		return true;
	if (w.failed)
		return false;
	w.failed = true;
	w.keydir = check_tmpdir();
	CHECK(bridge_setup(&br, binary, "\n[comments]\nmoderation = auto\n"));
	if (!bridge_start(&br))
		return false;
	snprintf(w.young, sizeof(w.young), "%s/ap/posts/young", br.origin);
	snprintf(w.old, sizeof(w.old), "%s/ap/posts/old", br.origin);
	/* A post of today, and one of 1970 (older than 30 days). */
	CHECK_INT(
	    bridge_db_exec(&br,
			   "INSERT INTO posts(guid, ap_id, url, title, hash, object_json,"
			   " published, updated, created_at) VALUES"
			   " ('g1', %Q, 'https://blog.test/young/', 'Young', 'h1', '{}',"
			   " unixepoch(), unixepoch(), 1),"
			   " ('g2', %Q, 'https://blog.test/old/', 'Old', 'h2', '{}', 1, 1, 1)",
			   w.young, w.old),
	    2);
	w.pa = peer_start("127.0.0.2", NULL, w.keydir);
	w.pb = peer_start("127.0.0.3", NULL, w.keydir);
	w.pc = peer_start("127.0.0.4", NULL, w.keydir);
	w.alice = peer_actor_checked(w.pa, "alice");
	w.bob = peer_actor_checked(w.pb, "bob");
	w.carol = peer_actor_checked(w.pc, "carol");
	if (!w.alice || !w.bob || !w.carol)
		return false;
	w.failed = false;
	w.ready = true;
	return true;
}

static void world_down(void)
{
	if (br.pid > 0) {
		kill(br.pid, SIGKILL);
		waitpid(br.pid, NULL, 0);
		br.pid = 0;
	}
	peer_stop(w.pa);
	peer_stop(w.pb);
	peer_stop(w.pc);
}

/* ---- documents ---- */

/* A fresh URL on a's server: BASE/users/NAME/statuses/N. */
static void fresh(const struct peer_actor *a, char *out, size_t n)
{
	snprintf(out, n, "%s/statuses/%u-%ld", a->id, ++counter, (long)time(NULL));
}

/* A public Note by author answering in_reply_to. */
static json_t *note(const char *id, const char *author, const char *in_reply_to,
		    const char *content)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:[s]}", "@context",
			 AS_CONTEXT, "id", id, "type", "Note", "attributedTo", author, "inReplyTo",
			 in_reply_to, "content", content, "published", "2026-01-01T00:00:00Z", "to",
			 AS_PUBLIC, "cc", author);
}

/* Serves j (taken) at its URL url on p. */
static void serve(struct peer *p, const char *url, json_t *j)
{
	char *doc = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	CHECK(doc && strncmp(url, peer_base(p), strlen(peer_base(p))) == 0 &&
	      peer_object_put(p, url + strlen(peer_base(p)), doc));
	free(doc);
}

/* A CollectionPage at id listing items (taken), with next when set. */
static json_t *page(const char *id, const char *part_of, json_t *items, const char *next)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o}", "@context", AS_CONTEXT, "id", id, "type",
			      "CollectionPage", "partOf", part_of, "items", items);

	if (j && next)
		json_object_set_new(j, "next", json_string(next));
	return j;
}

/* A Collection at id whose first page (embedded, as Mastodon does) is
 * empty and links to next. */
static json_t *collection(const char *id, const char *next)
{
	return json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:[], s:s}}", "@context", AS_CONTEXT, "id",
			 id, "type", "Collection", "first", "type", "CollectionPage", "partOf", id,
			 "items", "next", next);
}

/* a's note n (taken) in a Create POSTed to the shared inbox; the status. */
static long deliver_note(const struct peer_actor *a, json_t *n)
{
	struct curl_slist *hdrs = NULL;
	struct reply r = {0};
	char url[256], act[ID_MAX + 16], *body;
	const char *id = json_string_value(json_object_get(n, "id"));
	json_t *j;
	long status = 0;

	snprintf(act, sizeof(act), "%s/activity", id ? id : "");
	j = json_pack("{s:s, s:s, s:s, s:s, s:o}", "@context", AS_CONTEXT, "id", act, "type",
		      "Create", "actor", a->id, "object", n);
	body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	snprintf(url, sizeof(url), "%s%s", br.origin, SHARED);
	if (body && peer_sign_post(a, url, body, NULL, &hdrs) &&
	    bridge_http(&br, "POST", SHARED, hdrs, body, strlen(body), &r))
		status = r.status;
	curl_slist_free_all(hdrs);
	reply_free(&r);
	free(body);
	return status;
}

/* a replies to in_reply_to with note id (the note's replies collection
 * named when replies is set); the status. */
static long deliver(const struct peer_actor *a, const char *id, const char *in_reply_to,
		    const char *content, const char *replies)
{
	json_t *n = note(id, a->id, in_reply_to, content);

	if (n && replies)
		json_object_set_new(n, "replies", json_string(replies));
	return deliver_note(a, n);
}

/* Runs `blogbridge comments backfill`; its output (free it), or NULL. */
static char *backfill_cli(void)
{
	char *argv[] = {(char *)binary, "-c", br.conf, "comments", "backfill", NULL};
	char *out = NULL, *err = NULL;
	int status = check_run(argv, NULL, &out, &err);

	if (status != 0) {
		check_fail(__FILE__, __LINE__, "comments backfill: status %d: %s", status,
			   err ? err : "");
		free(out);
		out = NULL;
	}
	free(err);
	return out;
}

/* Waits until the backfill row of url was tried. */
static bool wait_tried(const char *url)
{
	return bridge_wait_db(&br, 1, "SELECT fetched_at > 0 FROM backfill WHERE url = %Q", url);
}

static long long comment_where(const char *sql, const char *id)
{
	return bridge_db_int(&br, sql, id);
}

/* Everything the peers were asked. */
static size_t gets_all(void)
{
	return peer_get_count(w.pa) + peer_get_count(w.pb) + peer_get_count(w.pc);
}

/* ---- cases ---- */

/* Alice's reply is delivered; Bob's answer to it never is, but Alice's
 * server lists it in the reply's replies collection (on its second
 * page): after the backfill it is a comment, threaded under Alice's, with
 * Bob's name. */
static void t_thread(void)
{
	char a[ID_MAX], b[ID_MAX], coll[ID_MAX + 16], pg[ID_MAX + 16];

	if (!world_up())
		return;
	fresh(w.alice, a, sizeof(a));
	fresh(w.bob, b, sizeof(b));
	snprintf(coll, sizeof(coll), "%s/replies", a);
	snprintf(pg, sizeof(pg), "%s/replies/2", a);
	serve(w.pb, b, note(b, w.bob->id, a, "<p>never delivered</p>"));
	serve(w.pa, coll, collection(coll, pg));
	serve(w.pa, pg, page(pg, coll, json_pack("[s]", b), NULL));
	CHECK_INT(deliver(w.alice, a, w.young, "<p>first</p>", coll), 202);
	CHECK(bridge_wait_db(&br, 1, "SELECT count(*) FROM comments WHERE ap_id = %Q", b));
	CHECK_INT(bridge_db_int(&br,
				"SELECT count(*) FROM comments WHERE ap_id = %Q AND parent = %Q"
				" AND author = %Q AND content = '<p>never delivered</p>' AND"
				" status = 1 AND post = (SELECT id FROM posts WHERE guid = 'g1')",
				b, a, w.bob->id),
		  1);
	/* Bob's name and handle, from his actor document. */
	CHECK_INT(comment_where("SELECT count(*) FROM actors WHERE id = %Q AND name = 'bob'"
				" AND handle IS NOT NULL",
				w.bob->id),
		  1);
	/* Bob's reply's own replies collection is not known (it names none),
	 * but the reply is known: it is never read again for one. */
	CHECK_INT(comment_where("SELECT count(*) FROM backfill WHERE url = %Q AND kind = 2 AND"
				" fetched_at > 0",
				b),
		  1);
}

/* Embedded items are believed only when they and their author are on the
 * server that served the page: a copy of Bob's note with other words is
 * replaced by what Bob's server serves; a note on Alice's server
 * attributed to Bob is refused; Alice's own, embedded, is taken as it is
 * (her server serves no copy of it). */
static void t_forged(void)
{
	char a[ID_MAX], f1[ID_MAX], f2[ID_MAX], f3[ID_MAX];
	char coll[ID_MAX + 16], pg[ID_MAX + 16];
	json_t *items;

	if (!world_up())
		return;
	fresh(w.alice, a, sizeof(a));
	fresh(w.bob, f1, sizeof(f1));
	fresh(w.alice, f2, sizeof(f2));
	fresh(w.alice, f3, sizeof(f3));
	snprintf(coll, sizeof(coll), "%s/replies", a);
	snprintf(pg, sizeof(pg), "%s/replies/2", a);
	serve(w.pb, f1, note(f1, w.bob->id, a, "<p>what bob wrote</p>"));
	serve(w.pa, f2, note(f2, w.bob->id, a, "<p>not bob's</p>"));
	items = json_pack("[o, o, o]", note(f1, w.bob->id, a, "<p>forged words</p>"),
			  note(f2, w.bob->id, a, "<p>not bob's</p>"),
			  note(f3, w.alice->id, a, "<p>alice, embedded</p>"));
	serve(w.pa, coll, collection(coll, pg));
	serve(w.pa, pg, page(pg, coll, items, NULL));
	CHECK_INT(deliver(w.alice, a, w.young, "<p>second</p>", coll), 202);
	CHECK(wait_tried(coll));
	CHECK_INT(bridge_db_int(&br,
				"SELECT count(*) FROM comments WHERE ap_id = %Q AND author = %Q AND"
				" content = '<p>what bob wrote</p>' AND parent = %Q",
				f1, w.bob->id, a),
		  1);
	CHECK_INT(comment_where("SELECT count(*) FROM comments WHERE ap_id = %Q", f2), 0);
	CHECK_INT(bridge_db_int(&br,
				"SELECT count(*) FROM comments WHERE ap_id = %Q AND author = %Q AND"
				" content = '<p>alice, embedded</p>' AND parent = %Q",
				f3, w.alice->id, a),
		  1);
	/* The refused one is remembered, so it is not fetched again soon. */
	CHECK_INT(comment_where("SELECT count(*) FROM backfill WHERE url = %Q AND kind = 3", f2),
		  1);
}

/* The conversation's context collection (FEP-7888), on a third server,
 * lists activities (FEP-f228) and notes: Bob's answer to Alice's reply,
 * given as a Create whose embedded copy is not believed (his server's
 * is), is imported; a note answering nothing of ours is not. */
static void t_context(void)
{
	char a[ID_MAX], b[ID_MAX], x[ID_MAX], ctx[ID_MAX + 16];
	json_t *n, *items;

	if (!world_up())
		return;
	fresh(w.alice, a, sizeof(a));
	fresh(w.bob, b, sizeof(b));
	fresh(w.bob, x, sizeof(x));
	snprintf(ctx, sizeof(ctx), "%s/contexts/1", peer_base(w.pc));
	serve(w.pb, b, note(b, w.bob->id, a, "<p>in the context</p>"));
	serve(w.pb, x, note(x, w.bob->id, "https://elsewhere.test/1", "<p>not ours</p>"));
	items = json_pack("[s, {s:s, s:s, s:s, s:o}, s]", a, "id", "https://x.test/act", "type",
			  "Create", "actor", w.bob->id, "object",
			  note(b, w.bob->id, a, "<p>a forged copy</p>"), x);
	serve(w.pc, ctx,
	      json_pack("{s:s, s:s, s:s, s:o}", "@context", AS_CONTEXT, "id", ctx, "type",
			"OrderedCollection", "orderedItems", items));
	n = note(a, w.alice->id, w.young, "<p>with a context</p>");
	json_object_set_new(n, "context", json_string(ctx));
	CHECK_INT(deliver_note(w.alice, n), 202);
	CHECK(wait_tried(ctx));
	CHECK_INT(bridge_db_int(&br,
				"SELECT count(*) FROM comments WHERE ap_id = %Q AND parent = %Q"
				" AND content = '<p>in the context</p>'",
				b, a),
		  1);
	CHECK_INT(comment_where("SELECT count(*) FROM comments WHERE ap_id = %Q", x), 0);
	CHECK_INT(comment_where("SELECT count(*) FROM mentions WHERE ap_id = %Q", x), 0);
}

/* Carol's server pages her reply's replies forever (each page has a
 * next): the bridge reads PAGES_MAX documents and stops. */
static void t_endless(void)
{
	char a[ID_MAX], coll[ID_MAX + 16], pg[ENDLESS_PAGES + 1][ID_MAX + 32];
	char like[ID_MAX + 16];
	struct curl_slist *hdrs = NULL;
	struct reply r = {0};
	char url[256], *body;
	json_t *j;
	size_t before;

	if (!world_up())
		return;
	fresh(w.carol, a, sizeof(a));
	snprintf(coll, sizeof(coll), "%s/replies", a);
	for (int i = 0; i <= ENDLESS_PAGES; i++)
		snprintf(pg[i], sizeof(pg[i]), "%s/replies/p%d", a, i + 1);
	serve(w.pc, coll,
	      json_pack("{s:s, s:s, s:s, s:s}", "@context", AS_CONTEXT, "id", coll, "type",
			"OrderedCollection", "first", pg[0]));
	for (int i = 0; i < ENDLESS_PAGES; i++)
		serve(w.pc, pg[i],
		      json_pack("{s:s, s:s, s:s, s:s, s:[], s:s}", "@context", AS_CONTEXT, "id",
				pg[i], "type", "OrderedCollectionPage", "partOf", coll,
				"orderedItems", "next", pg[i + 1]));
	/* A Like first, so that Carol's key is cached before the count. */
	snprintf(like, sizeof(like), "%s#like", a);
	j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "@context", AS_CONTEXT, "id", like, "type",
		      "Like", "actor", w.carol->id, "object", w.young);
	body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	snprintf(url, sizeof(url), "%s%s", br.origin, SHARED);
	CHECK(body && peer_sign_post(w.carol, url, body, NULL, &hdrs) &&
	      bridge_http(&br, "POST", SHARED, hdrs, body, strlen(body), &r) && r.status == 202);
	curl_slist_free_all(hdrs);
	reply_free(&r);
	free(body);
	before = peer_get_count(w.pc);
	CHECK_INT(deliver(w.carol, a, w.young, "<p>pages</p>", coll), 202);
	CHECK(wait_tried(coll));
	CHECK_INT((long long)(peer_get_count(w.pc) - before), PAGES_MAX);
}

/* A second pass within the interval fetches nothing; once the interval
 * is over, the young post's collections are read again and a reply added
 * since is imported; the old post's are not. */
static void t_again(void)
{
	char a[ID_MAX], b[ID_MAX], b2[ID_MAX], c[ID_MAX];
	char coll[ID_MAX + 16], pg[ID_MAX + 16], ocoll[ID_MAX + 16];
	char *out;
	size_t before;

	if (!world_up())
		return;
	/* A reply on the old post, its answer listed: read once on arrival. */
	fresh(w.alice, a, sizeof(a));
	fresh(w.bob, b, sizeof(b));
	snprintf(ocoll, sizeof(ocoll), "%s/replies", a);
	serve(w.pb, b, note(b, w.bob->id, a, "<p>on the old one</p>"));
	serve(w.pa, ocoll,
	      json_pack("{s:s, s:s, s:s, s:[s]}", "@context", AS_CONTEXT, "id", ocoll, "type",
			"Collection", "items", b));
	CHECK_INT(deliver(w.alice, a, w.old, "<p>old post</p>", ocoll), 202);
	CHECK(bridge_wait_db(&br, 1, "SELECT count(*) FROM comments WHERE ap_id = %Q", b));
	/* One on the young post whose answers come later. */
	fresh(w.alice, c, sizeof(c));
	snprintf(coll, sizeof(coll), "%s/replies", c);
	snprintf(pg, sizeof(pg), "%s/replies/2", c);
	serve(w.pa, coll, collection(coll, pg));
	serve(w.pa, pg, page(pg, coll, json_array(), NULL));
	CHECK_INT(deliver(w.alice, c, w.young, "<p>third</p>", coll), 202);
	CHECK(wait_tried(coll));

	before = gets_all();
	out = backfill_cli();
	CHECK(out && strstr(out, " 0 fetches") != NULL);
	free(out);
	CHECK_INT((long long)(gets_all() - before), 0);

	/* Replies added since; then seven hours pass. */
	fresh(w.bob, b2, sizeof(b2));
	serve(w.pb, b2, note(b2, w.bob->id, c, "<p>later</p>"));
	serve(w.pa, pg, page(pg, coll, json_pack("[s]", b2), NULL));
	fresh(w.bob, b, sizeof(b));
	serve(w.pb, b, note(b, w.bob->id, a, "<p>later, old post</p>"));
	serve(w.pa, ocoll,
	      json_pack("{s:s, s:s, s:s, s:[s]}", "@context", AS_CONTEXT, "id", ocoll, "type",
			"Collection", "items", b));
	CHECK(bridge_db_exec(&br, "UPDATE backfill SET fetched_at = fetched_at - 7 * 3600") > 0);
	out = backfill_cli();
	CHECK(out && strstr(out, " 1 new comment,") != NULL);
	free(out);
	CHECK_INT(bridge_db_int(
		      &br, "SELECT count(*) FROM comments WHERE ap_id = %Q AND parent = %Q", b2, c),
		  1);
	CHECK_INT(comment_where("SELECT count(*) FROM comments WHERE ap_id = %Q", b), 0);
}

/* A comment stored without its collections (while the backfill was off,
 * or before it existed) is read from its origin by the slow pass, and
 * the answers its collection lists are imported. */
static void t_probe(void)
{
	char a[ID_MAX], b[ID_MAX], coll[ID_MAX + 16];
	json_t *n;
	char *out;

	if (!world_up())
		return;
	fresh(w.alice, a, sizeof(a));
	fresh(w.bob, b, sizeof(b));
	snprintf(coll, sizeof(coll), "%s/replies", a);
	n = note(a, w.alice->id, w.young, "<p>stored before</p>");
	json_object_set_new(n, "replies", json_string(coll));
	serve(w.pa, a, n);
	serve(w.pa, coll,
	      json_pack("{s:s, s:s, s:s, s:[s]}", "@context", AS_CONTEXT, "id", coll, "type",
			"OrderedCollection", "orderedItems", b));
	serve(w.pb, b, note(b, w.bob->id, a, "<p>while we were away</p>"));
	CHECK_INT(bridge_db_exec(&br,
				 "INSERT INTO comments(ap_id, post, author, content, status,"
				 " published, updated, received) VALUES (%Q, (SELECT id FROM posts"
				 " WHERE guid = 'g1'), %Q, '<p>stored before</p>', 1, 1, 1, 1)",
				 a, w.alice->id),
		  1);
	out = backfill_cli();
	CHECK(out && strstr(out, " 1 new comment,") != NULL);
	free(out);
	CHECK_INT(bridge_db_int(
		      &br, "SELECT count(*) FROM comments WHERE ap_id = %Q AND parent = %Q", b, a),
		  1);
}

/* A server that does not answer: its first collection fails, the next
 * one on it is skipped without a try. */
static void t_failing(void)
{
	char u1[128], u2[128];
	int port = check_free_port("127.0.0.5");
	char *out;

	if (!world_up() || port < 0)
		return;
	snprintf(u1, sizeof(u1), "http://127.0.0.5:%d/c/1", port);
	snprintf(u2, sizeof(u2), "http://127.0.0.5:%d/c/2", port);
	CHECK_INT(bridge_db_exec(&br,
				 "INSERT INTO backfill(url, kind, owner, post, depth, fetched_at)"
				 " VALUES (%Q, 0, 'https://x.test/1', (SELECT id FROM posts WHERE"
				 " guid = 'g1'), 0, 0), (%Q, 0, 'https://x.test/2', (SELECT id FROM"
				 " posts WHERE guid = 'g1'), 0, 0)",
				 u1, u2),
		  2);
	out = backfill_cli();
	CHECK(out && strstr(out, " 1 skipped, 1 failed") != NULL);
	if (out && strstr(out, " 1 skipped, 1 failed") == NULL)
		fprintf(stderr, "    %s", out);
	free(out);
	CHECK_INT(bridge_db_int(&br, "SELECT failures FROM backfill WHERE url = %Q", u1), 1);
	CHECK_INT(bridge_db_int(&br, "SELECT failures FROM backfill WHERE url = %Q", u2), 0);
}

/* Under the sanitizers, the bridge's log has no report. */
static void t_log_clean(void)
{
	if (world_up())
		bridge_check_log_clean(&br);
}

static const struct check_case cases[] = {
    {"thread", t_thread}, {"forged", t_forged}, {"context", t_context}, {"endless", t_endless},
    {"again", t_again},	  {"probe", t_probe},	{"failing", t_failing}, {"log_clean", t_log_clean},
};

int main(int argc, char **argv)
{
	int rc;

	binary = bridge_main_init(argc, argv, "test_backfill");
	if (binary == NULL)
		return 2;
	rc = check_main(argc - 1, argv + 1, cases, sizeof(cases) / sizeof(cases[0]));
	rc = bridge_main_end(&br, rc, world_down, w.keydir);
	return rc;
}
