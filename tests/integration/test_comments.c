/*
 * test_comments.c — replies from the fediverse become comments, through the
 * real blogbridge binary.  Invoked as `test_comments PATH/TO/blogbridge
 * [CASE...]`.
 *
 * As in test_federation.c, the bridge runs `serve` on loopback with
 * allow_private_addresses, and remote servers are peers (peer.h) on other
 * loopback addresses whose actors sign what the test POSTs to the bridge's
 * inboxes.  The blog's posts are rows written into the SQLite file (the
 * feed is empty); notes that the bridge must fetch from their origin are
 * served by the peers (peer_object_put).  What each activity changed is
 * read back from the SQLite file: the comments, reactions and mentions
 * tables.  The moderation cases restart the bridge with another
 * `[comments] moderation`.
 *
 * Hosts: 127.0.0.2 (alice, bob, mallory), 127.0.0.3 (carol, a second
 * server), and 127.0.0.1 reached as "localhost" (eve), a blocked domain.
 */
#include "bridge_proc.h"
#include "check.h"
#include "httpsig.h"
#include "key.h"
#include "peer.h"

#include <curl/curl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define AS_CONTEXT "https://www.w3.org/ns/activitystreams"
#define AS_PUBLIC AS_CONTEXT "#Public"
#define AP_TYPE "application/activity+json"
#define SHARED "/ap/inbox"
#define PERSONAL "/ap/actor/inbox"
#define POST1_URL "https://blog.test/2026/one/"
#define POST2_URL "https://blog.test/2026/two/"

static const char *binary;
static struct bridge br;
static struct {
	const char *keydir;
	struct peer *pa, *pb, *pblock;
	struct peer_actor *alice, *bob, *mallory, *carol, *eve;
	struct pubkey *bridge_pub;
	char post1[160], post2[160];
	bool ready, failed;
} w;
static unsigned counter;

/* ---- the bridge and the peers ---- */

static void conf_write(const char *moderation)
{
	char extra[256];

	snprintf(extra, sizeof(extra),
		 "blocked_domains = localhost\n\n[comments]\nmoderation = %s\n", moderation);
	if (br.dir == NULL)
		CHECK(bridge_setup(&br, binary, extra));
	else {
		/* Same folder and port: rewrite the file as bridge_setup does. */
		char text[2048];
		snprintf(text, sizeof(text),
			 "[site]\nbase_url = %s\nhandle = blog\nname = Comments Test\n"
			 "summary = s\nfeed = feed.xml\n\n[server]\nlisten = 127.0.0.1:%d\n"
			 "\n[store]\ndatabase = data/bridge.db\n"
			 "\n[federation]\nkey = data/actor.pem\nallow_private_addresses = true\n%s",
			 br.origin, br.port, extra);
		bridge_write_conf(&br, text);
	}
}

/* Restarts the bridge with another moderation mode (same database). */
static bool restart(const char *moderation)
{
	if (br.pid > 0)
		(void)bridge_stop(&br, SIGTERM);
	conf_write(moderation);
	return bridge_start(&br);
}

static bool world_up(void)
{
	if (w.ready)
		return true;
	if (w.failed)
		return false;
	w.failed = true;
	w.keydir = check_tmpdir();
	conf_write("auto");
	if (!bridge_start(&br) || !peer_bridge_key(&br, &w.bridge_pub))
		return false;
	snprintf(w.post1, sizeof(w.post1), "%s/ap/posts/one", br.origin);
	snprintf(w.post2, sizeof(w.post2), "%s/ap/posts/two", br.origin);
	CHECK_INT(bridge_db_exec(&br,
				 "INSERT INTO posts(guid, ap_id, url, title, hash, object_json,"
				 " published, updated, created_at) VALUES"
				 " ('g1', %Q, %Q, 'One', 'h1', '{}', 1, 1, 1),"
				 " ('g2', %Q, %Q, 'Two', 'h2', '{}', 2, 2, 2)",
				 w.post1, POST1_URL, w.post2, POST2_URL),
		  2);
	w.pa = peer_start("127.0.0.2", NULL, w.keydir);
	w.pb = peer_start("127.0.0.3", NULL, w.keydir);
	w.pblock = peer_start("127.0.0.1", "localhost", w.keydir);
	w.alice = peer_actor_checked(w.pa, "alice");
	w.bob = peer_actor_checked(w.pa, "bob");
	w.mallory = peer_actor_checked(w.pa, "mallory");
	w.carol = peer_actor_checked(w.pb, "carol");
	w.eve = peer_actor_checked(w.pblock, "eve");
	if (!w.alice || !w.bob || !w.mallory || !w.carol || !w.eve)
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
	peer_stop(w.pblock);
	pubkey_free(w.bridge_pub);
}

/* ---- activities ---- */

/* A fresh URL on a's server: BASE/KIND/N. */
static void fresh(const struct peer_actor *a, const char *kind, char *out, size_t n)
{
	snprintf(out, n, "%s/%s/%u-%ld", peer_base(a->peer), kind, ++counter, (long)time(NULL));
}

/* A Note by author answering in_reply_to, to the audience to (a JSON
 * array text, or NULL: public). */
static json_t *note(const char *id, const char *author, const char *in_reply_to,
		    const char *content, const char *updated, json_t *to)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:[s]}", "@context", AS_CONTEXT,
			      "id", id, "type", "Note", "attributedTo", author, "content", content,
			      "published", "2026-01-01T00:00:00Z", "to",
			      to ? to : json_pack("[s]", AS_PUBLIC), "cc", author);

	if (j && in_reply_to)
		json_object_set_new(j, "inReplyTo", json_string(in_reply_to));
	if (j && updated)
		json_object_set_new(j, "updated", json_string(updated));
	return j;
}

/* An activity of type by a on obj (taken: an object or a string). */
static json_t *activity(const char *id, const char *type, const struct peer_actor *a, json_t *obj)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:o}", "@context", AS_CONTEXT, "id", id, "type",
			 type, "actor", a->id, "object", obj);
}

/* a replies (a Create with the note embedded) to in_reply_to; the note's
 * id in id.  The status. */
static long reply(const struct peer_actor *a, const char *path, const char *in_reply_to,
		  const char *content, char *id, size_t idlen)
{
	char act[PEER_URL_MAX + 32];

	fresh(a, "statuses", id, idlen);
	snprintf(act, sizeof(act), "%s/activity", id);
	return peer_post_json(
	    &br, a, path,
	    activity(act, "Create", a, note(id, a->id, in_reply_to, content, NULL, NULL)));
}

static long long status_of(const char *id)
{
	return bridge_db_int(&br, "SELECT status FROM comments WHERE ap_id = %Q", id);
}

static long long count_where(const char *sql, const char *arg)
{
	return bridge_db_int(&br, sql, arg);
}

/* ---- cases ---- */

/* Replies by object id at the shared inbox and by blog URL at the
 * personal one; a thread of three across two servers. */
static void t_reply_thread(void)
{
	char a[PEER_URL_MAX], b[PEER_URL_MAX], c[PEER_URL_MAX], d[PEER_URL_MAX];

	if (!world_up())
		return;
	CHECK_INT(
	    reply(w.alice, SHARED, w.post1, "<p>Nice <script>x()</script>post</p>", a, sizeof(a)),
	    202);
	CHECK_INT(status_of(a), 1); /* approved (auto) */
	CHECK_INT(bridge_db_int(&br,
				"SELECT count(*) FROM comments WHERE ap_id = %Q AND content ="
				" '<p>Nice post</p>' AND parent IS NULL AND post ="
				" (SELECT id FROM posts WHERE guid = 'g1')",
				a),
		  1);
	/* The author's name, from its actor document. */
	CHECK_INT(count_where("SELECT count(*) FROM actors WHERE id = %Q AND name = 'alice'",
			      w.alice->id),
		  1);
	CHECK_INT(reply(w.bob, PERSONAL, POST2_URL, "by url", d, sizeof(d)), 202);
	CHECK_INT(bridge_db_int(&br,
				"SELECT count(*) FROM comments WHERE ap_id = %Q AND post ="
				" (SELECT id FROM posts WHERE guid = 'g2')",
				d),
		  1);
	CHECK_INT(reply(w.bob, SHARED, a, "two", b, sizeof(b)), 202);
	CHECK_INT(reply(w.carol, SHARED, b, "three", c, sizeof(c)), 202);
	CHECK_INT(count_where("SELECT count(*) FROM comments WHERE parent = %Q", a), 1);
	CHECK_INT(bridge_db_int(&br,
				"SELECT count(*) FROM comments WHERE ap_id = %Q AND parent = %Q"
				" AND post = (SELECT id FROM posts WHERE guid = 'g1')",
				c, b),
		  1);
	/* A reply to something not ours: no comment. */
	CHECK_INT(reply(w.bob, SHARED, "https://elsewhere.test/x", "no", d, sizeof(d)), 202);
	CHECK_INT(status_of(d), -1);
}

/* The same Create twice, and the same note in another Create: one. */
static void t_duplicates(void)
{
	char id[PEER_URL_MAX], act[PEER_URL_MAX + 16];
	json_t *n;

	if (!world_up())
		return;
	fresh(w.alice, "statuses", id, sizeof(id));
	snprintf(act, sizeof(act), "%s/activity", id);
	n = note(id, w.alice->id, w.post1, "once", NULL, NULL);
	CHECK_INT(
	    peer_post_json(&br, w.alice, SHARED, activity(act, "Create", w.alice, json_incref(n))),
	    202);
	CHECK_INT(
	    peer_post_json(&br, w.alice, SHARED, activity(act, "Create", w.alice, json_incref(n))),
	    202);
	snprintf(act, sizeof(act), "%s/activity2", id);
	CHECK_INT(peer_post_json(&br, w.alice, PERSONAL,
				 activity(act, "Create", w.alice, json_incref(n))),
		  202);
	CHECK_INT(count_where("SELECT count(*) FROM comments WHERE ap_id = %Q", id), 1);
	json_decref(n);
}

/* Edits newer and older; a Delete; a replayed Create after it. */
static void t_edit_delete(void)
{
	char id[PEER_URL_MAX], act[PEER_URL_MAX + 32];

	if (!world_up())
		return;
	CHECK_INT(reply(w.alice, SHARED, w.post1, "<p>v1</p>", id, sizeof(id)), 202);
	snprintf(act, sizeof(act), "%s#updates/2", id);
	CHECK_INT(peer_post_json(&br, w.alice, SHARED,
				 activity(act, "Update", w.alice,
					  note(id, w.alice->id, w.post1, "<p>v2</p>",
					       "2026-01-03T00:00:00Z", NULL))),
		  202);
	snprintf(act, sizeof(act), "%s#updates/1", id);
	CHECK_INT(peer_post_json(&br, w.alice, SHARED,
				 activity(act, "Update", w.alice,
					  note(id, w.alice->id, w.post1, "<p>older</p>",
					       "2026-01-02T00:00:00Z", NULL))),
		  202);
	CHECK_INT(bridge_db_int(&br,
				"SELECT count(*) FROM comments WHERE ap_id = %Q AND content ="
				" '<p>v2</p>' AND edited = 1 AND status = 1",
				id),
		  1);
	/* Bob cannot delete Alice's. */
	snprintf(act, sizeof(act), "%s#bobdelete", id);
	CHECK_INT(
	    peer_post_json(&br, w.bob, SHARED, activity(act, "Delete", w.bob, json_string(id))),
	    202);
	CHECK_INT(status_of(id), 1);
	snprintf(act, sizeof(act), "%s#delete", id);
	CHECK_INT(peer_post_json(&br, w.alice, SHARED,
				 activity(act, "Delete", w.alice,
					  json_pack("{s:s, s:s}", "id", id, "type", "Tombstone"))),
		  202);
	CHECK_INT(status_of(id), 4);
	snprintf(act, sizeof(act), "%s/activity-again", id);
	CHECK_INT(peer_post_json(&br, w.alice, SHARED,
				 activity(act, "Create", w.alice,
					  note(id, w.alice->id, w.post1, "back", NULL, NULL))),
		  202);
	CHECK_INT(status_of(id), 4);
}

/* Likes, boosts and quotes, and their Undo; an Undo by the wrong actor. */
static void t_reactions(void)
{
	char like[PEER_URL_MAX], boost[PEER_URL_MAX], q[PEER_URL_MAX], act[PEER_URL_MAX + 16];
	char undo[PEER_URL_MAX];
	json_t *n;

	if (!world_up())
		return;
	fresh(w.bob, "likes", like, sizeof(like));
	CHECK_INT(
	    peer_post_json(&br, w.bob, SHARED, activity(like, "Like", w.bob, json_string(w.post2))),
	    202);
	fresh(w.bob, "likes", act, sizeof(act));
	CHECK_INT(peer_post_json(&br, w.bob, PERSONAL,
				 activity(act, "Like", w.bob, json_string(w.post2))),
		  202); /* a repeat */
	fresh(w.carol, "boosts", boost, sizeof(boost));
	CHECK_INT(peer_post_json(&br, w.carol, SHARED,
				 activity(boost, "Announce", w.carol, json_string(w.post2))),
		  202);
	fresh(w.alice, "statuses", q, sizeof(q));
	n = note(q, w.alice->id, NULL, "look at this", NULL, NULL);
	json_object_set_new(n, "quote", json_string(w.post2));
	snprintf(act, sizeof(act), "%s/activity", q);
	CHECK_INT(peer_post_json(&br, w.alice, SHARED, activity(act, "Create", w.alice, n)), 202);
	CHECK_INT(count_where("SELECT count(*) FROM reactions WHERE post ="
			      " (SELECT id FROM posts WHERE ap_id = %Q) AND type = 0",
			      w.post2),
		  1);
	CHECK_INT(count_where("SELECT count(*) FROM reactions WHERE post ="
			      " (SELECT id FROM posts WHERE ap_id = %Q) AND type = 1",
			      w.post2),
		  1);
	CHECK_INT(
	    count_where("SELECT count(*) FROM reactions WHERE activity_id = %Q AND type = 2", q),
	    1);
	CHECK_INT(status_of(q), -1); /* a quote is no comment */
	/* Mallory undoes Bob's like: nothing. */
	fresh(w.mallory, "undo", undo, sizeof(undo));
	CHECK_INT(peer_post_json(&br, w.mallory, SHARED,
				 activity(undo, "Undo", w.mallory, json_string(like))),
		  202);
	CHECK_INT(count_where("SELECT count(*) FROM reactions WHERE activity_id = %Q", like), 1);
	fresh(w.bob, "undo", undo, sizeof(undo));
	CHECK_INT(
	    peer_post_json(&br, w.bob, PERSONAL,
			   activity(undo, "Undo", w.bob,
				    json_pack("{s:s, s:s, s:s, s:s}", "id", like, "type", "Like",
					      "actor", w.bob->id, "object", w.post2))),
	    202);
	fresh(w.carol, "undo", undo, sizeof(undo));
	CHECK_INT(peer_post_json(&br, w.carol, SHARED,
				 activity(undo, "Undo", w.carol, json_string(boost))),
		  202);
	CHECK_INT(count_where("SELECT count(*) FROM reactions WHERE post ="
			      " (SELECT id FROM posts WHERE ap_id = %Q) AND type <> 2",
			      w.post2),
		  0);
}

/* A QuoteRequest: a signed Accept at the requester whose result is a
 * QuoteAuthorization the bridge serves. */
static void t_quote_request(void)
{
	char qr[PEER_URL_MAX], quoting[PEER_URL_MAX], path[256];
	struct curl_slist *hdrs = NULL;
	const struct peer_post *pp = NULL;
	struct reply r = {0};
	json_t *acc = NULL, *auth = NULL;
	size_t before;

	if (!world_up())
		return;
	before = peer_post_count(w.pa);
	fresh(w.bob, "quote-requests", qr, sizeof(qr));
	fresh(w.bob, "statuses", quoting, sizeof(quoting));
	CHECK_INT(peer_post_json(&br, w.bob, PERSONAL,
				 json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "@context", AS_CONTEXT,
					   "id", qr, "type", "QuoteRequest", "actor", w.bob->id,
					   "object", w.post1, "instrument", quoting)),
		  202);
	for (int waited = 0; waited <= BRIDGE_WAIT_MS && pp == NULL; waited += BRIDGE_POLL_MS) {
		for (size_t i = before; i < peer_post_count(w.pa) && pp == NULL; i++)
			if (strstr(peer_post_at(w.pa, i)->body, "\"Accept\"") &&
			    strstr(peer_post_at(w.pa, i)->body, qr))
				pp = peer_post_at(w.pa, i);
		if (pp == NULL)
			sleep_ms(BRIDGE_POLL_MS);
	}
	CHECK(pp != NULL);
	if (pp == NULL)
		return;
	CHECK_INT(peer_check_signed(w.pa, pp, w.bridge_pub, br.key_id), HTTPSIG_CAVAGE);
	CHECK_STR(pp->path, "/users/bob/inbox");
	acc = json_loadb(pp->body, pp->len, 0, NULL);
	CHECK_STR(jstr(acc, "type"), "Accept");
	CHECK_STR(jstr(acc, "actor"), br.actor_id);
	CHECK_STR(jstr(acc, "object.id"), qr);
	CHECK_STR(jstr(acc, "object.type"), "QuoteRequest");
	CHECK_STR(jstr(acc, "object.instrument"), quoting);
	CHECK(jstr(acc, "result") &&
	      strncmp(jstr(acc, "result"), br.origin, strlen(br.origin)) == 0);
	if (jstr(acc, "result") && strlen(jstr(acc, "result")) > strlen(br.origin)) {
		snprintf(path, sizeof(path), "%s", jstr(acc, "result") + strlen(br.origin));
		hdrs = curl_slist_append(NULL, "Accept: " AP_TYPE);
		CHECK(bridge_http(&br, "GET", path, hdrs, NULL, 0, &r));
		CHECK_INT(r.status, 200);
		auth = r.body ? json_loads(r.body, 0, NULL) : NULL;
		CHECK_STR(jstr(auth, "type"), "QuoteAuthorization");
		CHECK_STR(jstr(auth, "id"), jstr(acc, "result"));
		CHECK_STR(jstr(auth, "attributedTo"), br.actor_id);
		CHECK_STR(jstr(auth, "interactionTarget"), w.post1);
		CHECK_STR(jstr(auth, "interactingObject"), quoting);
	}
	CHECK_INT(count_where("SELECT count(*) FROM reactions WHERE activity_id = %Q AND type = 2",
			      quoting),
		  1);
	json_decref(acc);
	json_decref(auth);
	reply_free(&r);
	curl_slist_free_all(hdrs);
}

/* Followers-only and direct replies: private; a mention of the blog that
 * answers nothing of ours: a mention. */
static void t_private_and_mention(void)
{
	char id[PEER_URL_MAX], act[PEER_URL_MAX + 16], followers[PEER_URL_MAX + 16];

	if (!world_up())
		return;
	snprintf(followers, sizeof(followers), "%s/followers", w.alice->id);
	fresh(w.alice, "statuses", id, sizeof(id));
	snprintf(act, sizeof(act), "%s/activity", id);
	CHECK_INT(peer_post_json(&br, w.alice, SHARED,
				 activity(act, "Create", w.alice,
					  note(id, w.alice->id, w.post1, "f", NULL,
					       json_pack("[s]", followers)))),
		  202);
	CHECK_INT(status_of(id), 3);
	fresh(w.alice, "statuses", id, sizeof(id));
	snprintf(act, sizeof(act), "%s/activity", id);
	CHECK_INT(peer_post_json(&br, w.alice, PERSONAL,
				 activity(act, "Create", w.alice,
					  note(id, w.alice->id, w.post1, "d", NULL,
					       json_pack("[s]", br.actor_id)))),
		  202);
	CHECK_INT(status_of(id), 3);
	fresh(w.alice, "statuses", id, sizeof(id));
	snprintf(act, sizeof(act), "%s/activity", id);
	CHECK_INT(peer_post_json(&br, w.alice, PERSONAL,
				 activity(act, "Create", w.alice,
					  note(id, w.alice->id, NULL, "hello blog", NULL,
					       json_pack("[s]", br.actor_id)))),
		  202);
	CHECK_INT(status_of(id), -1);
	CHECK_INT(count_where("SELECT count(*) FROM mentions WHERE ap_id = %Q", id), 1);
}

/* A blocked domain: refused, nothing stored. */
static void t_blocked(void)
{
	char id[PEER_URL_MAX];

	if (!world_up())
		return;
	CHECK_INT(reply(w.eve, SHARED, w.post1, "spam", id, sizeof(id)), 403);
	CHECK_INT(status_of(id), -1);
}

/* Spoofed attributedTo; an object on a foreign host (fetched from its
 * origin); an object given as a URI. */
static void t_authenticity(void)
{
	char id[PEER_URL_MAX], act[PEER_URL_MAX + 16], *doc;
	json_t *n;

	if (!world_up())
		return;
	/* Mallory claims Alice wrote it; the origin has no such note. */
	fresh(w.mallory, "statuses", id, sizeof(id));
	snprintf(act, sizeof(act), "%s/activity", id);
	CHECK_INT(peer_post_json(&br, w.mallory, SHARED,
				 activity(act, "Create", w.mallory,
					  note(id, w.alice->id, w.post1, "forged", NULL, NULL))),
		  202);
	CHECK_INT(status_of(id), -1);
	/* The origin serves it attributed to Alice, with other words: the
	 * origin's copy is the one stored, under Alice. */
	fresh(w.mallory, "statuses", id, sizeof(id));
	n = note(id, w.alice->id, w.post1, "what alice wrote", NULL, NULL);
	doc = json_dumps(n, JSON_COMPACT);
	json_decref(n);
	CHECK(doc && peer_object_put(w.pa, id + strlen(peer_base(w.pa)), doc));
	free(doc);
	snprintf(act, sizeof(act), "%s/activity", id);
	CHECK_INT(
	    peer_post_json(&br, w.mallory, SHARED,
			   activity(act, "Create", w.mallory,
				    note(id, w.alice->id, w.post1, "forged words", NULL, NULL))),
	    202);
	CHECK_INT(bridge_db_int(&br,
				"SELECT count(*) FROM comments WHERE ap_id = %Q AND author = %Q AND"
				" content = '<p>what alice wrote</p>'",
				id, w.alice->id),
		  1);
	/* A note on Carol's server, sent by Alice: fetched from there. */
	fresh(w.carol, "statuses", id, sizeof(id));
	n = note(id, w.carol->id, w.post1, "carol's own", NULL, NULL);
	doc = json_dumps(n, JSON_COMPACT);
	json_decref(n);
	CHECK(doc && peer_object_put(w.pb, id + strlen(peer_base(w.pb)), doc));
	free(doc);
	fresh(w.alice, "activities", act, sizeof(act));
	CHECK_INT(
	    peer_post_json(&br, w.alice, SHARED,
			   activity(act, "Create", w.alice,
				    note(id, w.carol->id, w.post1, "not carol's", NULL, NULL))),
	    202);
	CHECK_INT(bridge_db_int(&br,
				"SELECT count(*) FROM comments WHERE ap_id = %Q AND author = %Q AND"
				" content = '<p>carol''s own</p>'",
				id, w.carol->id),
		  1);
	/* The object as a bare URI: fetched. */
	fresh(w.alice, "statuses", id, sizeof(id));
	n = note(id, w.alice->id, w.post2, "by reference", NULL, NULL);
	doc = json_dumps(n, JSON_COMPACT);
	json_decref(n);
	CHECK(doc && peer_object_put(w.pa, id + strlen(peer_base(w.pa)), doc));
	free(doc);
	snprintf(act, sizeof(act), "%s/activity", id);
	CHECK_INT(
	    peer_post_json(&br, w.alice, SHARED, activity(act, "Create", w.alice, json_string(id))),
	    202);
	CHECK_INT(bridge_db_int(&br,
				"SELECT count(*) FROM comments WHERE ap_id = %Q AND content ="
				" '<p>by reference</p>' AND post = (SELECT id FROM posts WHERE"
				" guid = 'g2')",
				id),
		  1);
}

/* The author shown under the comment /api/comments serves for the note
 * id, as "name|handle|avatar|url" in out ("" when not there). */
static void api_author(const char *id, char *out, size_t n)
{
	struct reply r = {0};
	json_t *j = NULL, *c, *a;

	out[0] = '\0';
	if (bridge_http(&br, "GET", "/api/comments?post=https%3A%2F%2Fblog.test%2F2026%2Fone%2F",
			NULL, NULL, 0, &r) &&
	    r.status == 200 && (j = json_loads(r.body, 0, NULL)) != NULL &&
	    (c = find_by(jget(j, "comments"), "id", id)) != NULL) {
		a = jget(c, "author");
		snprintf(out, n, "%s|%s|%s|%s", jstr(a, "name") ? jstr(a, "name") : "-",
			 jstr(a, "handle") ? jstr(a, "handle") : "-",
			 jstr(a, "avatar") ? jstr(a, "avatar") : "-",
			 jstr(a, "url") ? jstr(a, "url") : "-");
	}
	json_decref(j);
	reply_free(&r);
}

/* What an author new to the bridge, on Carol's server, looks like under
 * the comment: its actor document's name, handle, avatar and profile. */
static void expect_author(const struct peer_actor *who, const char *note_id)
{
	char got[1024], want[1024];

	snprintf(want, sizeof(want), "%s|@%s|%s/avatars/%s.png|%s/@%s", who->name, who->acct,
		 peer_base(who->peer), who->name, peer_base(who->peer), who->name);
	api_author(note_id, got, sizeof(got));
	CHECK_STR(got, want);
	CHECK_INT(count_where("SELECT count(*) FROM actors WHERE id = %Q AND name IS NOT NULL"
			      " AND handle IS NOT NULL AND avatar IS NOT NULL AND url IS NOT NULL",
			      who->id),
		  1);
}

/* A note fetched from its origin, by an author who never wrote to the
 * bridge: embedded by someone on another host, or given as a bare URI by
 * a third party or by its author; each comment shows its author's name,
 * handle, avatar and profile, from the author's actor document. */
static void t_foreign_author(void)
{
	struct peer_actor *dave, *erin;
	char id[PEER_URL_MAX], act[PEER_URL_MAX + 16], *doc;
	json_t *n;

	if (!world_up())
		return;
	dave = peer_actor_checked(w.pb, "dave");
	erin = peer_actor_checked(w.pb, "erin");
	if (dave == NULL || erin == NULL)
		return;
	CHECK_INT(count_where("SELECT count(*) FROM actors WHERE id = %Q", dave->id), 0);
	/* Embedded in Alice's Create, on Dave's host: fetched from there. */
	fresh(dave, "statuses", id, sizeof(id));
	n = note(id, dave->id, w.post1, "dave's words", NULL, NULL);
	doc = json_dumps(n, JSON_COMPACT);
	CHECK(doc && peer_object_put(w.pb, id + strlen(peer_base(w.pb)), doc));
	free(doc);
	fresh(w.alice, "activities", act, sizeof(act));
	CHECK_INT(peer_post_json(&br, w.alice, SHARED, activity(act, "Create", w.alice, n)), 202);
	CHECK_INT(count_where("SELECT count(*) FROM comments WHERE ap_id = %Q AND status = 1", id),
		  1);
	expect_author(dave, id);
	/* A bare URI sent by Alice: Erin's note, fetched. */
	fresh(erin, "statuses", id, sizeof(id));
	n = note(id, erin->id, w.post1, "erin's words", NULL, NULL);
	doc = json_dumps(n, JSON_COMPACT);
	json_decref(n);
	CHECK(doc && peer_object_put(w.pb, id + strlen(peer_base(w.pb)), doc));
	free(doc);
	fresh(w.alice, "activities", act, sizeof(act));
	CHECK_INT(
	    peer_post_json(&br, w.alice, SHARED, activity(act, "Create", w.alice, json_string(id))),
	    202);
	CHECK_INT(count_where("SELECT count(*) FROM comments WHERE ap_id = %Q AND status = 1", id),
		  1);
	expect_author(erin, id);
	/* A bare URI sent by its author, who signs for the first time. */
	fresh(dave, "statuses", id, sizeof(id));
	n = note(id, dave->id, w.post1, "dave again", NULL, NULL);
	doc = json_dumps(n, JSON_COMPACT);
	json_decref(n);
	CHECK(doc && peer_object_put(w.pb, id + strlen(peer_base(w.pb)), doc));
	free(doc);
	snprintf(act, sizeof(act), "%s/activity", id);
	CHECK_INT(bridge_db_exec(&br, "DELETE FROM actors WHERE id = %Q", dave->id), 1);
	CHECK_INT(peer_post_json(&br, dave, SHARED, activity(act, "Create", dave, json_string(id))),
		  202);
	expect_author(dave, id);
}

/* An actor's Delete: all their comments deleted, reactions gone. */
static void t_actor_delete(void)
{
	char a[PEER_URL_MAX], b[PEER_URL_MAX], like[PEER_URL_MAX], act[PEER_URL_MAX + 16];

	if (!world_up())
		return;
	CHECK_INT(reply(w.mallory, SHARED, w.post1, "m1", a, sizeof(a)), 202);
	CHECK_INT(reply(w.mallory, SHARED, w.post2, "m2", b, sizeof(b)), 202);
	fresh(w.mallory, "likes", like, sizeof(like));
	CHECK_INT(peer_post_json(&br, w.mallory, SHARED,
				 activity(like, "Like", w.mallory, json_string(w.post1))),
		  202);
	snprintf(act, sizeof(act), "%s#delete", w.mallory->id);
	CHECK_INT(peer_post_json(&br, w.mallory, SHARED,
				 activity(act, "Delete", w.mallory, json_string(w.mallory->id))),
		  202);
	CHECK_INT(count_where("SELECT count(*) FROM comments WHERE author = %Q AND status <> 4",
			      w.mallory->id),
		  0);
	CHECK(count_where("SELECT count(*) FROM comments WHERE author = %Q", w.mallory->id) >= 2);
	CHECK_INT(count_where("SELECT count(*) FROM reactions WHERE actor = %Q", w.mallory->id), 0);
}

/* manual: pending; known: pending until one is approved, then approved. */
static void t_moderation(void)
{
	char a[PEER_URL_MAX], b[PEER_URL_MAX];

	if (!world_up())
		return;
	if (!restart("manual"))
		return;
	CHECK_INT(reply(w.carol, SHARED, w.post1, "manual", a, sizeof(a)), 202);
	CHECK_INT(status_of(a), 0);
	if (!restart("known"))
		return;
	/* A new author (Bob's first comments were approved under auto). */
	CHECK_INT(bridge_db_exec(&br, "UPDATE comments SET status = 0 WHERE author = %Q",
				 w.carol->id) >= 1,
		  1);
	CHECK_INT(reply(w.carol, SHARED, w.post1, "known 1", a, sizeof(a)), 202);
	CHECK_INT(status_of(a), 0);
	CHECK_INT(bridge_db_exec(&br, "UPDATE comments SET status = 1 WHERE ap_id = %Q", a), 1);
	CHECK_INT(reply(w.carol, SHARED, w.post1, "known 2", b, sizeof(b)), 202);
	CHECK_INT(status_of(b), 1);
	if (!restart("auto"))
		return;
	CHECK_INT(reply(w.bob, SHARED, w.post1, "auto", a, sizeof(a)), 202);
	CHECK_INT(status_of(a), 1);
}

/* Under the sanitizers, the bridge's log has no report. */
static void t_log_clean(void)
{
	if (world_up())
		bridge_check_log_clean(&br);
}

static const struct check_case cases[] = {
    {"reply_thread", t_reply_thread},
    {"duplicates", t_duplicates},
    {"edit_delete", t_edit_delete},
    {"reactions", t_reactions},
    {"quote_request", t_quote_request},
    {"private_and_mention", t_private_and_mention},
    {"blocked", t_blocked},
    {"authenticity", t_authenticity},
    {"foreign_author", t_foreign_author},
    {"actor_delete", t_actor_delete},
    {"moderation", t_moderation},
    {"log_clean", t_log_clean},
};

int main(int argc, char **argv)
{
	int rc;

	binary = bridge_main_init(argc, argv, "test_comments");
	if (binary == NULL)
		return 2;
	rc = check_main(argc - 1, argv + 1, cases, sizeof(cases) / sizeof(cases[0]));
	rc = bridge_main_end(&br, rc, world_down, w.keydir);
	return rc;
}
