/*
 * test_secure.c — secure mode ([federation] authorized_fetch) of the real
 * blogbridge binary.  Invoked as `test_secure PATH/TO/blogbridge [CASE...]`.
 *
 * The bridge runs `serve` on loopback (bridge_proc.h) with
 * authorized_fetch = true and blocked_domains = localhost; one post and
 * one approved comment are rows written into its SQLite file.  The remote
 * servers are peers (peer.h): 127.0.0.2 (alice, a follower; stan, a
 * stranger), 127.0.0.1 reached as "localhost" (eve, a blocked domain),
 * and 127.0.0.3 in secure mode itself (carol), which refuses every GET
 * but WebFinger that the bridge's key does not sign, as a Mastodon with
 * AUTHORIZED_FETCH does.  The test signs its GETs as the peers' actors
 * with httpsig_sign (draft-cavage "(request-target) host date", RFC 9421)
 * and checks the status, the JSON error body, the Vary and Cache-Control
 * headers, the GETs each peer answered (what the bridge fetched) and the
 * store, which no refused request may change.  The last cases restart
 * the bridge with authorized_fetch = false.
 *
 * Every wait is a bounded poll; the bridge is killed and the peers
 * stopped on every path, and its log printed when a case failed.
 */
#include "bridge_proc.h"
#include "check.h"
#include "httpsig.h"
#include "key.h"
#include "peer.h"

#include <curl/curl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define AS_CONTEXT "https://www.w3.org/ns/activitystreams"
#define AS_PUBLIC AS_CONTEXT "#Public"
#define AP_TYPE "application/activity+json"
#define BROWSER "text/html,application/xhtml+xml,*/*;q=0.8"
#define POST_URL "https://blog.test/2026/secure/"

static const char *binary;
static struct bridge br;
static struct {
	const char *keydir;
	struct peer *pa, *pblock, *psecure;
	struct peer_actor *alice, *stan, *eve, *carol, *zed;
	struct key *forger;
	struct pubkey *bridge_pub;
	char post[160], replies[192], comment[192];
	bool ready, failed;
} w;
static unsigned counter;

/* ---- the bridge and the peers ---- */

static void conf_write(bool authorized_fetch)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "[site]\nbase_url = %s\nhandle = blog\nname = Secure Test\nsummary = s\n"
		 "url = https://blog.test/\nfeed = feed.xml\n"
		 "\n[server]\nlisten = 127.0.0.1:%d\n\n[store]\ndatabase = data/bridge.db\n"
		 "\n[federation]\nkey = data/actor.pem\nallow_private_addresses = true\n"
		 "blocked_domains = localhost\nauthorized_fetch = %s\n"
		 "\n[comments]\nmoderation = auto\n",
		 br.origin, br.port, authorized_fetch ? "true" : "false");
	bridge_write_conf(&br, text);
}

static bool restart(bool authorized_fetch)
{
	if (br.pid > 0)
		(void)bridge_stop(&br, SIGTERM);
	conf_write(authorized_fetch);
	return bridge_start(&br);
}

/* The bridge's actor, unsigned (it must stay public); keeps its key. */
static bool world_up(void)
{
	struct err e = {0};
	char path[PATH_MAX];

	if (w.ready)
		return true;
	if (w.failed)
		return false;
	w.failed = true;
	w.keydir = check_tmpdir();
	if (!bridge_setup(&br, binary, ""))
		return false;
	conf_write(true);
	if (!bridge_start(&br) || !peer_bridge_key(&br, &w.bridge_pub))
		return false;
	snprintf(w.post, sizeof(w.post), "%s/ap/posts/secure", br.origin);
	snprintf(w.replies, sizeof(w.replies), "%s/replies", w.post);
	CHECK_INT(
	    bridge_db_exec(&br,
			   "INSERT INTO posts(guid, ap_id, url, title, hash, object_json,"
			   " published, updated, created_at) VALUES"
			   " ('g1', %Q, %Q, 'Secure', 'h1', '{\"id\":\"%q\",\"type\":\"Note\"}',"
			   " 1, 1, 1)",
			   w.post, POST_URL, w.post),
	    1);
	w.pa = peer_start("127.0.0.2", NULL, w.keydir);
	w.pblock = peer_start("127.0.0.1", "localhost", w.keydir);
	w.psecure = peer_start("127.0.0.3", NULL, w.keydir);
	w.alice = peer_actor_checked(w.pa, "alice");
	w.stan = peer_actor_checked(w.pa, "stan");
	w.zed = peer_actor_checked(w.pa, "zed");
	w.eve = peer_actor_checked(w.pblock, "eve");
	w.carol = peer_actor_checked(w.psecure, "carol");
	snprintf(path, sizeof(path), "%s/forger.pem", w.keydir);
	if (key_load_or_create(path, &w.forger, NULL, &e) != BB_OK)
		check_fail(__FILE__, __LINE__, "forger key: %s", e.msg);
	if (!w.alice || !w.stan || !w.zed || !w.eve || !w.carol || !w.forger)
		return false;
	peer_require_signed_gets(w.psecure, w.bridge_pub, br.key_id);
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
	peer_stop(w.pblock);
	peer_stop(w.psecure);
	key_free(w.forger);
	pubkey_free(w.bridge_pub);
}

/* ---- requests ---- */

/* How a GET is signed. */
struct get_opts {
	enum httpsig_scheme scheme;
	const struct key *key; /* NULL: the actor's */
	const char *key_id;    /* NULL: the actor's */
	long skew_s;
	const char *signed_path; /* NULL: the path sent */
};

/* GETs path with accept (NULL: ActivityStreams JSON), signed by a as o
 * says (a NULL: unsigned).  The status (0: no answer); r filled (free
 * it). */
static long get_as(const struct peer_actor *a, const char *path, const char *accept,
		   const struct get_opts *o, struct reply *r)
{
	static const struct get_opts good = {HTTPSIG_CAVAGE, NULL, NULL, 0, NULL};
	struct curl_slist *hdrs = NULL;
	struct httpsig_signed s = {0};
	struct err e = {0};
	char url[512];
	bool ok;

	memset(r, 0, sizeof(*r));
	ok = peer_add_header(&hdrs, "Accept", accept ? accept : AP_TYPE);
	if (a != NULL) {
		if (o == NULL)
			o = &good;
		snprintf(url, sizeof(url), "%s%s", br.origin,
			 o->signed_path ? o->signed_path : path);
		if (httpsig_sign(o->scheme, o->key ? o->key : a->key,
				 o->key_id ? o->key_id : a->key_id, "GET", url, NULL, NULL, 0,
				 time(NULL) + o->skew_s, &s, &e) != BB_OK) {
			check_fail(__FILE__, __LINE__, "cannot sign: %s", e.msg);
			ok = false;
		}
		ok = ok && peer_add_header(&hdrs, "Host", s.host) &&
		     peer_add_header(&hdrs, "Date", s.date) &&
		     peer_add_header(&hdrs, "Signature-Input", s.signature_input) &&
		     peer_add_header(&hdrs, "Signature", s.signature);
		httpsig_signed_clear(&s);
	}
	ok = ok && bridge_http(&br, "GET", path, hdrs, NULL, 0, r);
	curl_slist_free_all(hdrs);
	return ok ? r->status : 0;
}

/* Checks a refusal: status, a JSON {"error": ...} holding reason. */
static void check_refused(const char *what, const struct reply *r, long status, const char *reason)
{
	json_t *j = json_loads(r->body ? r->body : "", 0, NULL);
	const char *msg = jstr(j, "error");

	if (r->status != status || msg == NULL || strstr(msg, reason) == NULL ||
	    strncmp(r->content_type, "application/json", 16) != 0)
		check_fail(__FILE__, __LINE__, "%s: got %ld %s (%s), want %ld with \"%s\"", what,
			   r->status, r->body ? r->body : "", r->content_type, status, reason);
	json_decref(j);
}

/* What a refused GET must leave as it was (deliveries change on their
 * own as the Accepts go out). */
struct counts {
	long long followers, actors, activities, seen, comments;
	long long actors_fetched; /* sum of fetched_at: a refetch changes it */
};

static void counts_take(struct counts *c)
{
	c->followers = bridge_db_int(&br, "SELECT count(*) FROM followers");
	c->actors = bridge_db_int(&br, "SELECT count(*) FROM actors");
	c->actors_fetched = bridge_db_int(&br, "SELECT coalesce(sum(fetched_at), 0) FROM actors");
	c->activities = bridge_db_int(&br, "SELECT count(*) FROM activities");
	c->seen = bridge_db_int(&br, "SELECT count(*) FROM seen");
	c->comments = bridge_db_int(&br, "SELECT count(*) FROM comments");
}

static void counts_check_same(const struct counts *b, const char *what)
{
	struct counts n;

	counts_take(&n);
	if (memcmp(&n, b, sizeof(n)) != 0)
		check_fail(__FILE__, __LINE__,
			   "%s changed the store: followers %lld->%lld, actors %lld->%lld "
			   "(fetched %lld->%lld), activities %lld->%lld, seen %lld->%lld, "
			   "comments %lld->%lld",
			   what, b->followers, n.followers, b->actors, n.actors, b->actors_fetched,
			   n.actors_fetched, b->activities, n.activities, b->seen, n.seen,
			   b->comments, n.comments);
}

static void fresh(const struct peer_actor *a, const char *kind, char *out, size_t n)
{
	snprintf(out, n, "%s/%s/%u-%ld", peer_base(a->peer), kind, ++counter, (long)time(NULL));
}

/* a follows the blog; true once it is a follower. */
static bool follow(const struct peer_actor *a)
{
	char id[PEER_URL_MAX];

	fresh(a, "follows", id, sizeof(id));
	CHECK_INT(
	    peer_post_json(&br, a, "/ap/inbox",
			   json_pack("{s:s, s:s, s:s, s:s, s:s}", "@context", AS_CONTEXT, "id", id,
				     "type", "Follow", "actor", a->id, "object", br.actor_id)),
	    202);
	return bridge_wait_db(&br, 1, "SELECT count(*) FROM followers WHERE actor = %Q", a->id);
}

/* ---- cases ---- */

/* The protected documents a Mastodon would fetch. */
static const char *protected_paths(size_t i, char *buf, size_t n)
{
	switch (i) {
	case 0: return w.post + strlen(br.origin);
	case 1: snprintf(buf, n, "%s/replies", w.post + strlen(br.origin)); return buf;
	case 2: snprintf(buf, n, "%s/replies?page=1", w.post + strlen(br.origin)); return buf;
	case 3: return "/ap/actor/outbox";
	case 4: return "/ap/actor/outbox?page=1";
	case 5: return "/ap/actor/followers";
	case 6: return "/ap/actor/followers?page=1";
	case 7: return "/ap/actor/following";
	case 8: snprintf(buf, n, "%s/activity", w.post + strlen(br.origin)); return buf;
	default: return NULL;
	}
}

/* Unsigned GETs of objects and collections: 401 {"error": "... Request
 * not signed"}, not cacheable by others; the store as it was. */
static void t_unsigned(void)
{
	struct counts before;
	char buf[256];
	const char *p;

	if (!world_up())
		return;
	counts_take(&before);
	for (size_t i = 0; (p = protected_paths(i, buf, sizeof(buf))) != NULL; i++) {
		struct reply r;
		get_as(NULL, p, NULL, NULL, &r);
		check_refused(p, &r, 401, "Request not signed");
		CHECK_STR(r.vary, "Accept, Signature");
		CHECK_STR(r.cache_control, "private");
		reply_free(&r);
	}
	counts_check_same(&before, "unsigned GETs");
}

/* The actor (its key is in it), WebFinger, NodeInfo and host-meta answer
 * unsigned; a browser asking for the post is sent to the blog, unsigned;
 * the comments API for the blog's pages stays open. */
static void t_public(void)
{
	static const char *const open_paths[] = {"/ap/actor", "/.well-known/nodeinfo",
						 "/ap/nodeinfo/2.1", "/.well-known/host-meta"};
	struct reply r;
	char path[256];

	if (!world_up())
		return;
	for (size_t i = 0; i < sizeof(open_paths) / sizeof(open_paths[0]); i++) {
		CHECK_INT(get_as(NULL, open_paths[i], NULL, NULL, &r), 200);
		reply_free(&r);
	}
	snprintf(path, sizeof(path), "/.well-known/webfinger?resource=acct:blog@127.0.0.1:%d",
		 br.port);
	CHECK_INT(get_as(NULL, path, "application/jrd+json", NULL, &r), 200);
	CHECK(r.body && strstr(r.body, br.actor_id) != NULL);
	reply_free(&r);
	CHECK_INT(get_as(NULL, w.post + strlen(br.origin), BROWSER, NULL, &r), 302);
	CHECK_STR(r.location, POST_URL);
	reply_free(&r);
	CHECK_INT(get_as(NULL, "/ap/actor/outbox", BROWSER, NULL, &r), 302);
	reply_free(&r);
	snprintf(path, sizeof(path), "/api/comments?post=%s", POST_URL);
	CHECK_INT(get_as(NULL, path, "application/json", NULL, &r), 200);
	reply_free(&r);
}

/* A follower's signed GETs (draft-cavage as Mastodon signs them, and RFC
 * 9421): 200 with the documents, private and varying on the signature;
 * its key comes from the store's cache (no fetch). */
static void t_signed_follower(void)
{
	struct get_opts rfc = {HTTPSIG_RFC9421, NULL, NULL, 0, NULL};
	char buf[256];
	const char *p;
	json_t *j;
	size_t gets;
	struct reply r;

	if (!world_up() || !follow(w.alice))
		return;
	gets = peer_get_count(w.pa);
	for (size_t i = 0; (p = protected_paths(i, buf, sizeof(buf))) != NULL; i++) {
		if (i == 8)
			continue; /* the post's Create: not stored for a row written here */
		CHECK_INT(get_as(w.alice, p, NULL, NULL, &r), 200);
		CHECK_STR(r.content_type, AP_TYPE);
		CHECK_STR(r.vary, "Accept, Signature");
		CHECK_STR(r.cache_control, "private");
		reply_free(&r);
		CHECK_INT(get_as(w.alice, p, NULL, &rfc, &r), 200);
		reply_free(&r);
	}
	CHECK_INT(get_as(w.alice, w.post + strlen(br.origin), NULL, NULL, &r), 200);
	j = json_loads(r.body ? r.body : "", 0, NULL);
	CHECK_STR(jstr(j, "id"), w.post);
	json_decref(j);
	reply_free(&r);
	CHECK_INT(get_as(w.alice, "/ap/actor/followers?page=1", NULL, NULL, &r), 200);
	CHECK(r.body && strstr(r.body, w.alice->id) != NULL);
	reply_free(&r);
	CHECK_INT((long)(peer_get_count(w.pa) - gets), 0);
}

/* A stranger's signed GET: its key fetched once (then cached with its
 * actor), 200. */
static void t_signed_stranger(void)
{
	struct reply r;
	size_t gets;

	if (!world_up())
		return;
	gets = peer_get_count(w.pa);
	CHECK_INT(get_as(w.stan, "/ap/actor/outbox", NULL, NULL, &r), 200);
	reply_free(&r);
	CHECK(peer_get_count(w.pa) > gets);
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM actors WHERE id = %Q", w.stan->id), 1);
	gets = peer_get_count(w.pa);
	CHECK_INT(get_as(w.stan, w.replies + strlen(br.origin), NULL, NULL, &r), 200);
	reply_free(&r);
	CHECK_INT((long)(peer_get_count(w.pa) - gets), 0);
}

/* Bad signatures: 401, the store unchanged, and a keyId that failed is
 * not fetched again for each request. */
static void t_bad_signature(void)
{
	struct get_opts forged = {HTTPSIG_CAVAGE, NULL, NULL, 0, NULL};
	struct get_opts stale = {HTTPSIG_CAVAGE, NULL, NULL, -3 * 3600, NULL};
	struct get_opts other = {HTTPSIG_CAVAGE, NULL, NULL, 0, "/ap/actor/followers"};
	struct get_opts unknown = {HTTPSIG_CAVAGE, NULL, NULL, 0, NULL};
	char nobody[PEER_URL_MAX + 16];
	struct counts before;
	struct reply r;
	size_t gets;

	if (!world_up() || !follow(w.alice))
		return;
	forged.key = w.forger; /* alice's keyId, another key */
	counts_take(&before);
	get_as(w.alice, "/ap/actor/outbox", NULL, &forged, &r);
	check_refused("forged", &r, 401, "");
	reply_free(&r);
	/* The refetch (key rotation) happened once; not for the next one. */
	gets = peer_get_count(w.pa);
	get_as(w.alice, "/ap/actor/outbox", NULL, &forged, &r);
	check_refused("forged again", &r, 401, "");
	reply_free(&r);
	CHECK_INT((long)(peer_get_count(w.pa) - gets), 0);
	/* Alice's real signature still holds (her cached key). */
	CHECK_INT(get_as(w.alice, "/ap/actor/outbox", NULL, NULL, &r), 200);
	reply_free(&r);
	get_as(w.alice, "/ap/actor/outbox", NULL, &stale, &r);
	check_refused("stale Date", &r, 401, "");
	reply_free(&r);
	get_as(w.alice, "/ap/actor/outbox", NULL, &other, &r);
	check_refused("signed for another path", &r, 401, "");
	reply_free(&r);
	/* A keyId nobody serves: fetched once, then refused from memory. */
	snprintf(nobody, sizeof(nobody), "%s/users/nobody#main-key", peer_base(w.pa));
	unknown.key_id = nobody;
	gets = peer_get_count(w.pa);
	get_as(w.alice, "/ap/actor/outbox", NULL, &unknown, &r);
	check_refused("unknown key", &r, 401, "Public key not found");
	reply_free(&r);
	CHECK(peer_get_count(w.pa) > gets);
	gets = peer_get_count(w.pa);
	for (int i = 0; i < 5; i++) {
		get_as(w.alice, "/ap/actor/outbox", NULL, &unknown, &r);
		check_refused("unknown key again", &r, 401, "Public key not found");
		reply_free(&r);
	}
	CHECK_INT((long)(peer_get_count(w.pa) - gets), 0);
	counts_check_same(&before, "bad signatures");
}

/* A blocked domain's signed GET: 403 before any fetch from it; an actor
 * blocked in the store (blocks add): 403. */
static void t_blocked(void)
{
	char *argv[] = {(char *)binary, "-c", br.conf, "blocks", "add", NULL, NULL};
	char *out = NULL, *err = NULL;
	struct counts before;
	struct reply r;
	size_t gets;

	if (!world_up())
		return;
	counts_take(&before);
	gets = peer_get_count(w.pblock);
	get_as(w.eve, w.post + strlen(br.origin), NULL, NULL, &r);
	check_refused("blocked domain", &r, 403, "Instance is blocked");
	reply_free(&r);
	CHECK_INT((long)(peer_get_count(w.pblock) - gets), 0);
	counts_check_same(&before, "a blocked domain's GET");
	/* Zed is known (its key cached by a good GET), then blocked. */
	CHECK_INT(get_as(w.zed, "/ap/actor/outbox", NULL, NULL, &r), 200);
	reply_free(&r);
	argv[5] = (char *)w.zed->id;
	CHECK_INT(check_run(argv, NULL, &out, &err), 0);
	free(out);
	free(err);
	counts_take(&before);
	get_as(w.zed, "/ap/actor/outbox", NULL, NULL, &r);
	check_refused("blocked actor", &r, 403, "Instance is blocked");
	reply_free(&r);
	counts_check_same(&before, "a blocked actor's GET");
}

static size_t sink(char *data, size_t size, size_t nmemb, void *arg)
{
	(void)data;
	(void)arg;
	return size * nmemb;
}

/* The bridge's own GETs are signed: a peer that refuses unsigned GETs
 * (secure mode) still gets its Follow answered (the actor fetched with a
 * signed GET) and a reply by reference fetched from it. */
static void t_own_gets_signed(void)
{
	char id[PEER_URL_MAX], act[PEER_URL_MAX + 16], *doc;
	struct curl_slist *hdrs = NULL;
	struct reply r = {0};
	CURL *h;
	long status = 0;
	json_t *n;

	if (!world_up())
		return;
	/* The peer really refuses an unsigned GET. */
	h = curl_easy_init();
	if (h) {
		hdrs = curl_slist_append(NULL, "Accept: " AP_TYPE);
		curl_easy_setopt(h, CURLOPT_URL, w.carol->id);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
		if (curl_easy_perform(h) == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(h);
		curl_slist_free_all(hdrs);
	}
	CHECK_INT(status, 401);
	CHECK(follow(w.carol));
	CHECK(peer_get_verified(w.psecure) > 0);
	/* A reply by reference: the note fetched from its origin, signed. */
	fresh(w.carol, "statuses", id, sizeof(id));
	n = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "@context", AS_CONTEXT, "id",
		      id, "type", "Note", "attributedTo", w.carol->id, "content", "signed fetch",
		      "inReplyTo", w.post, "published", "2026-01-01T00:00:00Z", "to", AS_PUBLIC);
	doc = n ? json_dumps(n, JSON_COMPACT) : NULL;
	json_decref(n);
	CHECK(doc && peer_object_put(w.psecure, id + strlen(peer_base(w.psecure)), doc));
	free(doc);
	snprintf(act, sizeof(act), "%s/activity", id);
	CHECK_INT(
	    peer_post_json(&br, w.carol, "/ap/inbox",
			   json_pack("{s:s, s:s, s:s, s:s, s:s}", "@context", AS_CONTEXT, "id", act,
				     "type", "Create", "actor", w.carol->id, "object", id)),
	    202);
	CHECK(bridge_wait_db(&br, 1,
			     "SELECT count(*) FROM comments WHERE ap_id = %Q AND content ="
			     " '<p>signed fetch</p>'",
			     id));
	CHECK_INT((long)peer_get_refused(w.psecure), 1); /* the test's own unsigned GET */
	reply_free(&r);
}

/* Many signed GETs with made-up keyIds at once: at most
 * AUTHFETCH_FETCHES_MAX (4) key fetches run, the rest get 503 at once;
 * none is stored. */
struct burst {
	char key_id[PEER_URL_MAX + 16];
	atomic_long status; /* written by its thread, read while it runs */
};

static void *burst_get(void *arg)
{
	struct burst *b = arg;
	struct get_opts o = {HTTPSIG_CAVAGE, NULL, b->key_id, 0, NULL};
	struct reply r;

	atomic_store(&b->status, get_as(w.alice, "/ap/actor/outbox", NULL, &o, &r));
	reply_free(&r);
	return NULL;
}

static void t_fetch_bound(void)
{
	enum { N = 12 };
	struct burst b[N];
	pthread_t t[N];
	bool started[N] = {false};
	struct counts before;
	int ok = 0, busy = 0, refused = 0;

	if (!world_up())
		return;
	counts_take(&before);
	peer_hold_gets(w.pa, true);
	for (int i = 0; i < N; i++) {
		snprintf(b[i].key_id, sizeof(b[i].key_id), "%s/users/made-up-%d#main-key",
			 peer_base(w.pa), i);
		atomic_init(&b[i].status, 0);
		started[i] = pthread_create(&t[i], NULL, burst_get, &b[i]) == 0;
	}
	/* Those over the bound are answered while the held ones wait. */
	for (int waited = 0; waited < BRIDGE_WAIT_MS; waited += BRIDGE_POLL_MS) {
		busy = 0;
		for (int i = 0; i < N; i++)
			busy += atomic_load(&b[i].status) == 503;
		if (busy >= N - 4 && peer_get_held(w.pa) >= 4)
			break;
		sleep_ms(BRIDGE_POLL_MS);
	}
	CHECK_INT(busy, N - 4);
	CHECK_INT((long)peer_get_held(w.pa), 4);
	peer_hold_gets(w.pa, false);
	for (int i = 0; i < N; i++) {
		if (started[i])
			pthread_join(t[i], NULL);
		ok += atomic_load(&b[i].status) == 200;
		refused += atomic_load(&b[i].status) == 401;
	}
	CHECK_INT(ok, 0);
	CHECK_INT(refused, 4);
	counts_check_same(&before, "a burst of made-up keys");
}

/* authorized_fetch = false: everything is served unsigned or badly
 * signed, but a blocked domain's or actor's signed GET is still
 * refused. */
static void t_off(void)
{
	struct get_opts forged = {HTTPSIG_CAVAGE, NULL, NULL, 0, NULL};
	struct counts before;
	struct reply r;
	size_t gets;

	if (!world_up() || !restart(false))
		return;
	forged.key = w.forger;
	CHECK_INT(get_as(NULL, w.post + strlen(br.origin), NULL, NULL, &r), 200);
	CHECK_STR(r.vary, "Accept, Signature");
	CHECK_STR(r.cache_control, "");
	reply_free(&r);
	CHECK_INT(get_as(NULL, "/ap/actor/outbox?page=1", NULL, NULL, &r), 200);
	reply_free(&r);
	CHECK_INT(get_as(w.alice, "/ap/actor/followers", NULL, &forged, &r), 200);
	reply_free(&r);
	CHECK_INT(get_as(w.alice, "/ap/actor/followers", NULL, NULL, &r), 200);
	reply_free(&r);
	counts_take(&before);
	gets = peer_get_count(w.pblock);
	get_as(w.eve, w.post + strlen(br.origin), NULL, NULL, &r);
	check_refused("blocked domain, off", &r, 403, "Instance is blocked");
	reply_free(&r);
	CHECK_INT((long)(peer_get_count(w.pblock) - gets), 0);
	get_as(w.zed, w.replies + strlen(br.origin), NULL, NULL, &r);
	check_refused("blocked actor, off", &r, 403, "Instance is blocked");
	reply_free(&r);
	counts_check_same(&before, "blocked GETs, off");
	/* The actor stays open to the blocked, signed or not (it holds the
	 * key that verifies the Reject they are sent). */
	CHECK_INT(get_as(w.eve, "/ap/actor", NULL, NULL, &r), 200);
	reply_free(&r);
}

/* What a signed GET costs the bridge (printed, not asserted): a known
 * signer's GETs of the outbox, signed once here and sent again (the
 * bridge verifies each: the key from its caches, one RSA verification),
 * beside unsigned GETs of the actor, a GET's round trip with nothing to
 * check.  A new connection each. */
static void t_cost(void)
{
	enum { N = 200 };
	struct curl_slist *hdrs = NULL;
	struct httpsig_signed sg = {0};
	struct err e = {0};
	long long t0, t1, t2;
	char url[256];
	struct reply r;
	int ok = 0;

	if (!world_up() || !follow(w.alice))
		return;
	snprintf(url, sizeof(url), "%s/ap/actor/outbox", br.origin);
	if (httpsig_sign(HTTPSIG_CAVAGE, w.alice->key, w.alice->key_id, "GET", url, NULL, NULL, 0,
			 time(NULL), &sg, &e) != BB_OK ||
	    !peer_add_header(&hdrs, "Accept", AP_TYPE) ||
	    !peer_add_header(&hdrs, "Host", sg.host) || !peer_add_header(&hdrs, "Date", sg.date) ||
	    !peer_add_header(&hdrs, "Signature", sg.signature)) {
		check_fail(__FILE__, __LINE__, "cannot sign: %s", e.msg);
		goto out;
	}
	t0 = peer_now_ms();
	for (int i = 0; i < N; i++) {
		ok += bridge_http(&br, "GET", "/ap/actor/outbox", hdrs, NULL, 0, &r) &&
		      r.status == 200;
		reply_free(&r);
	}
	t1 = peer_now_ms();
	for (int i = 0; i < N; i++) {
		ok += get_as(NULL, "/ap/actor", NULL, NULL, &r) == 200;
		reply_free(&r);
	}
	t2 = peer_now_ms();
	CHECK_INT(ok, 2 * N);
	printf("%d signed GETs (outbox): %.2f ms each; %d unsigned GETs (actor): %.2f ms each\n", N,
	       (double)(t1 - t0) / N, N, (double)(t2 - t1) / N);
out:
	httpsig_signed_clear(&sg);
	curl_slist_free_all(hdrs);
}

static void t_log_clean(void)
{
	bridge_check_log_clean(&br);
}

static const struct check_case cases[] = {
    {"unsigned", t_unsigned},
    {"public", t_public},
    {"signed_follower", t_signed_follower},
    {"signed_stranger", t_signed_stranger},
    {"bad_signature", t_bad_signature},
    {"blocked", t_blocked},
    {"own_gets_signed", t_own_gets_signed},
    {"fetch_bound", t_fetch_bound},
    {"cost", t_cost},
    /* Restarts the bridge with authorized_fetch = false; after blocked,
     * whose block of zed it relies on. */
    {"off", t_off},
    {"log_clean", t_log_clean},
};

int main(int argc, char **argv)
{
	int rc;

	binary = bridge_main_init(argc, argv, "test_secure");
	if (binary == NULL)
		return 2;
	rc = check_main(argc - 1, argv + 1, cases, sizeof(cases) / sizeof(cases[0]));
	rc = bridge_main_end(&br, rc, world_down, w.keydir);
	return rc;
}
