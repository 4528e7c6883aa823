/*
 * test_followers_sync.c — FEP-8fcf, followers collection synchronization,
 * with the real blogbridge binary.  Invoked as `test_followers_sync
 * PATH/TO/blogbridge [CASE...]`.
 *
 * The bridge runs `serve` on loopback (bridge_proc.h, authorized_fetch
 * off); three peers (peer.h) are three servers: 127.0.0.2 (alice and bob
 * follow the blog), 127.0.0.3 (carol) and 127.0.0.4 (dave), which refuses
 * draft-cavage so that the bridge signs with RFC 9421 there.  A post is
 * published with `blogbridge poll` from a feed the test rewrites; the
 * peers record the deliveries.  For each server the test checks the delivery's
 * Collection-Synchronization: present on the Create and not on the
 * Accepts, covered by the signature (verified with the key the bridge
 * publishes, the header in the signed list), its collectionId our
 * followers, its url the partial collection of that server, and its
 * digest the FEP's — the XOR of SHA-256 of each follower id — recomputed
 * here with OpenSSL over that server's followers alone; then again after
 * bob unfollows.  The partial collection is fetched signed by each
 * server's actor (its followers, exactly), by the other server's (403)
 * and unsigned (401).
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
#include <openssl/sha.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define AS_CONTEXT "https://www.w3.org/ns/activitystreams"
#define AP_TYPE "application/activity+json"
#define SYNC "Collection-Synchronization"

static const char *binary;
static struct bridge br;
static struct {
	const char *keydir;
	struct peer *pa, *pb, *pc;
	struct peer_actor *alice, *bob, *carol, *dave;
	struct pubkey *bridge_pub;
	char bob_follow[PEER_URL_MAX];
	bool ready, failed;
	int posts;
} w;
static unsigned counter;

/* a follows the blog with the Follow id (written in id); true once it is
 * a follower. */
static bool follow(const struct peer_actor *a, char *id)
{
	snprintf(id, PEER_URL_MAX, "%s/follows/%u-%ld", peer_base(a->peer), ++counter,
		 (long)time(NULL));
	CHECK_INT(
	    peer_post_json(&br, a, "/ap/inbox",
			   json_pack("{s:s, s:s, s:s, s:s, s:s}", "@context", AS_CONTEXT, "id", id,
				     "type", "Follow", "actor", a->id, "object", br.actor_id)),
	    202);
	return bridge_wait_db(&br, 1, "SELECT count(*) FROM followers WHERE actor = %Q", a->id);
}

/* Publishes one more post: the feed rewritten with n items, `poll`. */
static bool publish(void)
{
	char feed[4096], *argv[] = {(char *)br.binary, "-c", br.conf, "poll", NULL};
	char *out = NULL, *err = NULL;
	size_t len;
	int rc;

	w.posts++;
	len = (size_t)snprintf(feed, sizeof(feed),
			       "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>"
			       "<title>Fed</title><link>https://blog.test/</link>"
			       "<description>d</description>");
	for (int i = 1; i <= w.posts && len < sizeof(feed) - 400; i++)
		len +=
		    (size_t)snprintf(feed + len, sizeof(feed) - len,
				     "<item><title>Post %d</title><link>https://blog.test/%d</link>"
				     "<guid>g%d</guid><pubDate>Tue, 14 Nov 2023 1%d:00:00 GMT"
				     "</pubDate><description>text %d</description></item>",
				     i, i, i, i, i);
	snprintf(feed + len, sizeof(feed) - len, "</channel></rss>\n");
	free(check_write_file(br.dir, "feed.xml", feed));
	rc = check_run(argv, NULL, &out, &err);
	if (rc != 0)
		check_fail(__FILE__, __LINE__, "poll: %d %s %s", rc, out ? out : "",
			   err ? err : "");
	free(out);
	free(err);
	return rc == 0;
}

static bool world_up(void)
{
	char id[PEER_URL_MAX];

	if (w.ready)
		return true;
	if (w.failed)
		return false;
	w.failed = true;
	w.keydir = check_tmpdir();
	if (!bridge_setup(&br, binary, "") || !bridge_start(&br) ||
	    !peer_bridge_key(&br, &w.bridge_pub))
		return false;
	w.pa = peer_start("127.0.0.2", NULL, w.keydir);
	w.pb = peer_start("127.0.0.3", NULL, w.keydir);
	w.alice = w.pa ? peer_actor_add(w.pa, "alice", NULL) : NULL;
	w.bob = w.pa ? peer_actor_add(w.pa, "bob", NULL) : NULL;
	w.carol = w.pb ? peer_actor_add(w.pb, "carol", NULL) : NULL;
	w.pc = peer_start("127.0.0.4", NULL, w.keydir);
	w.dave = w.pc ? peer_actor_add(w.pc, "dave", NULL) : NULL;
	if (!w.alice || !w.bob || !w.carol || !w.dave) {
		check_fail(__FILE__, __LINE__, "cannot start the peers");
		return false;
	}
	/* dave's server takes RFC 9421 alone: the bridge knocks again. */
	peer_set_mode(w.pc, PEER_KNOCK);
	if (!follow(w.alice, id) || !follow(w.bob, w.bob_follow) || !follow(w.carol, id) ||
	    !follow(w.dave, id))
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
	pubkey_free(w.bridge_pub);
}

/* The FEP's digest of ids, computed here. */
static void expected(const char *const *ids, size_t n, char hex[65])
{
	unsigned char acc[32] = {0}, md[32];

	for (size_t i = 0; i < n; i++) {
		SHA256((const unsigned char *)ids[i], strlen(ids[i]), md);
		for (int j = 0; j < 32; j++)
			acc[j] ^= md[j];
	}
	for (int j = 0; j < 32; j++)
		sprintf(hex + 2 * j, "%02x", acc[j]);
}

/* The index of the first POST to p from `from` on whose body holds
 * `type` and `mark`, waited for (bounded); -1 when none came. */
static long wait_post(struct peer *p, size_t from, const char *type, const char *mark)
{
	long long end = peer_now_ms() + BRIDGE_WAIT_MS;

	do {
		size_t n = peer_post_count(p);
		for (size_t i = from; i < n; i++) {
			const struct peer_post *pp = peer_post_at(p, i);
			if (strstr(pp->body, type) && strstr(pp->body, mark))
				return (long)i;
		}
		sleep_ms(BRIDGE_POLL_MS);
	} while (peer_now_ms() < end);
	check_fail(__FILE__, __LINE__, "no %s holding %s reached %s", type, mark, peer_host(p));
	return -1;
}

/* A parameter of the header ("name=\"value\""), in out. */
static bool param(const char *h, const char *name, char *out, size_t n)
{
	char key[64];
	const char *p, *q;

	snprintf(key, sizeof(key), "%s=\"", name);
	p = strstr(h, key);
	if (p == NULL || (q = strchr(p + strlen(key), '"')) == NULL ||
	    (size_t)(q - p - strlen(key)) >= n)
		return false;
	memcpy(out, p + strlen(key), (size_t)(q - p - strlen(key)));
	out[q - p - strlen(key)] = '\0';
	return true;
}

/* Checks the delivery pp to p: its header, signed, for ids. */
static void check_sync(struct peer *p, const struct peer_post *pp, const char *const *ids, size_t n)
{
	const char *input = peer_post_header(pp, "Signature-Input");
	const char *h = peer_post_header(pp, SYNC), *sig = peer_post_header(pp, "Signature");
	char v[512], want[512], hex[65];

	if (h == NULL || sig == NULL) {
		check_fail(__FILE__, __LINE__, "no %s on the delivery to %s", SYNC, peer_host(p));
		return;
	}
	if (input == NULL) {
		CHECK_INT(peer_check_signed(p, pp, w.bridge_pub, br.key_id), HTTPSIG_CAVAGE);
		CHECK(check_contains(sig, "content-type collection-synchronization\""));
	} else {
		CHECK_INT(peer_check_signed(p, pp, w.bridge_pub, br.key_id), HTTPSIG_RFC9421);
		CHECK(check_contains(input, "\"content-digest\" \"collection-synchronization\")"));
	}
	CHECK(param(h, "collectionId", v, sizeof(v)));
	snprintf(want, sizeof(want), "%s/followers", br.actor_id);
	CHECK_STR(v, want);
	CHECK(param(h, "url", v, sizeof(v)));
	snprintf(want, sizeof(want), "%s/ap/actor/followers/sync?host=%s", br.origin, peer_host(p));
	CHECK_STR(v, want);
	CHECK(param(h, "digest", v, sizeof(v)));
	expected(ids, n, hex);
	CHECK_STR(v, hex);
}

/* Each server's delivery of a new post carries its own digest; the
 * Accepts carried none. */
static void t_header(void)
{
	const char *a_ids[2], *b_ids[1], *c_ids[1];
	long ia, ib, ic;

	if (!world_up())
		return;
	a_ids[0] = w.alice->id;
	a_ids[1] = w.bob->id;
	b_ids[0] = w.carol->id;
	c_ids[0] = w.dave->id;
	for (size_t i = 0; i < peer_post_count(w.pa); i++)
		CHECK(peer_post_header(peer_post_at(w.pa, i), SYNC) == NULL);
	for (size_t i = 0; i < peer_post_count(w.pb); i++)
		CHECK(peer_post_header(peer_post_at(w.pb, i), SYNC) == NULL);
	if (!publish())
		return;
	ia = wait_post(w.pa, 0, "\"Create\"", "Post 1");
	ib = wait_post(w.pb, 0, "\"Create\"", "Post 1");
	if (ia >= 0)
		check_sync(w.pa, peer_post_at(w.pa, (size_t)ia), a_ids, 2);
	if (ib >= 0)
		check_sync(w.pb, peer_post_at(w.pb, (size_t)ib), b_ids, 1);
	/* The Create dave's server took: the RFC 9421 one, its header covered. */
	ic = wait_post(w.pc, 0, "\"Create\"", "Post 1");
	while (ic >= 0 && peer_post_at(w.pc, (size_t)ic)->status != 202)
		ic = wait_post(w.pc, (size_t)ic + 1, "\"Create\"", "Post 1");
	if (ic >= 0) {
		CHECK(peer_post_header(peer_post_at(w.pc, (size_t)ic), "Signature-Input") != NULL);
		check_sync(w.pc, peer_post_at(w.pc, (size_t)ic), c_ids, 1);
	}
}

/* bob unfollows: the next delivery to his server counts alice alone, the
 * other server's is as it was. */
static void t_unfollow(void)
{
	const char *a_ids[1], *b_ids[1];
	size_t fa, fb;
	long ia, ib;
	char id[PEER_URL_MAX];

	if (!world_up())
		return;
	a_ids[0] = w.alice->id;
	b_ids[0] = w.carol->id;
	snprintf(id, sizeof(id), "%s/undo/%u", peer_base(w.pa), ++counter);
	CHECK_INT(peer_post_json(&br, w.bob, "/ap/inbox",
				 json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}}",
					   "@context", AS_CONTEXT, "id", id, "type", "Undo",
					   "actor", w.bob->id, "object", "id", w.bob_follow, "type",
					   "Follow", "actor", w.bob->id, "object", br.actor_id)),
		  202);
	CHECK(bridge_wait_db(&br, 0, "SELECT count(*) FROM followers WHERE actor = %Q", w.bob->id));
	fa = peer_post_count(w.pa);
	fb = peer_post_count(w.pb);
	if (!publish())
		return;
	ia = wait_post(w.pa, fa, "\"Create\"", "Post 2");
	ib = wait_post(w.pb, fb, "\"Create\"", "Post 2");
	if (ia >= 0)
		check_sync(w.pa, peer_post_at(w.pa, (size_t)ia), a_ids, 1);
	if (ib >= 0)
		check_sync(w.pb, peer_post_at(w.pb, (size_t)ib), b_ids, 1);
}

/* GETs the partial collection of server, signed by a (NULL: unsigned). */
static long get_partial(const struct peer_actor *a, const char *server, struct reply *r)
{
	struct curl_slist *hdrs = NULL;
	struct httpsig_signed s = {0};
	struct err e = {0};
	char path[256], url[512];
	bool ok;

	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "/ap/actor/followers/sync?host=%s", server);
	snprintf(url, sizeof(url), "%s%s", br.origin, path);
	ok = peer_add_header(&hdrs, "Accept", AP_TYPE);
	if (a != NULL) {
		if (httpsig_sign(HTTPSIG_CAVAGE, a->key, a->key_id, "GET", url, NULL, NULL, 0,
				 time(NULL), &s, &e) != BB_OK) {
			check_fail(__FILE__, __LINE__, "cannot sign: %s", e.msg);
			ok = false;
		}
		ok = ok && peer_add_header(&hdrs, "Host", s.host) &&
		     peer_add_header(&hdrs, "Date", s.date) &&
		     peer_add_header(&hdrs, "Signature", s.signature);
		httpsig_signed_clear(&s);
	}
	ok = ok && bridge_http(&br, "GET", path, hdrs, NULL, 0, r);
	curl_slist_free_all(hdrs);
	return ok ? r->status : 0;
}

/* The partial collection: exactly the server's followers, to its own
 * actors alone. */
static void t_partial(void)
{
	struct reply r;
	json_t *j;

	if (!world_up())
		return;
	/* After t_unfollow when run in order: alice alone on pa. */
	CHECK_INT(get_partial(w.alice, peer_host(w.pa), &r), 200);
	j = r.body ? json_loads(r.body, 0, NULL) : NULL;
	CHECK(j != NULL);
	if (j) {
		json_t *items = jget(j, "orderedItems");
		size_t want =
		    bridge_db_int(&br, "SELECT count(*) FROM followers WHERE actor = '%q'",
				  w.bob->id) == 1
			? 2
			: 1;
		CHECK_STR(jstr(j, "type"), "OrderedCollection");
		CHECK_INT((long long)json_array_size(items), (long long)want);
		CHECK_STR(json_string_value(json_array_get(items, 0)), w.alice->id);
		if (want == 2)
			CHECK_STR(json_string_value(json_array_get(items, 1)), w.bob->id);
	}
	json_decref(j);
	reply_free(&r);
	CHECK_INT(get_partial(w.carol, peer_host(w.pb), &r), 200);
	j = r.body ? json_loads(r.body, 0, NULL) : NULL;
	CHECK(j != NULL && json_array_size(jget(j, "orderedItems")) == 1 &&
	      strcmp(json_string_value(json_array_get(jget(j, "orderedItems"), 0)), w.carol->id) ==
		  0);
	json_decref(j);
	reply_free(&r);
	/* Another server's actor: 403; unsigned: 401. */
	CHECK_INT(get_partial(w.carol, peer_host(w.pa), &r), 403);
	CHECK(r.body && !check_contains(r.body, w.alice->id));
	reply_free(&r);
	CHECK_INT(get_partial(NULL, peer_host(w.pa), &r), 401);
	CHECK(r.body && !check_contains(r.body, w.alice->id));
	reply_free(&r);
	/* A forged signature (bob's key id, carol's key): 401. */
	{
		struct peer_actor forged = *w.bob;
		forged.key = w.carol->key;
		CHECK_INT(get_partial(&forged, peer_host(w.pa), &r), 401);
		reply_free(&r);
	}
}

static void t_log_clean(void)
{
	bridge_check_log_clean(&br);
}

static const struct check_case cases[] = {
    {"header", t_header},
    {"unfollow", t_unfollow},
    {"partial", t_partial},
    {"log_clean", t_log_clean},
};

int main(int argc, char **argv)
{
	int rc;

	binary = bridge_main_init(argc, argv, "test_followers_sync");
	if (binary == NULL)
		return 2;
	rc = check_main(argc - 1, argv + 1, cases, sizeof(cases) / sizeof(cases[0]));
	rc = bridge_main_end(&br, rc, world_down, w.keydir);
	return rc;
}
