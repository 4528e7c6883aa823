/*
 * test_federation.c — the follow flow of the real blogbridge binary against
 * remote servers played here.  Invoked as `test_federation
 * PATH/TO/blogbridge [CASE...]`.
 *
 * The bridge runs `serve` in a temporary folder with base_url
 * http://127.0.0.1:PORT (its own listen address) and
 * allow_private_addresses = true (bridge_proc.h).  The remote servers are
 * peers (peer.h)
 * on other loopback addresses, each a distinct host to the bridge, with
 * actors whose keys are made here.  The test signs its POSTs to the
 * bridge's inboxes as those actors (draft-cavage, RFC 9421 in one case),
 * and checks three things for each step: the HTTP status, what the peers
 * receive (every Accept's signature verified with the key the bridge
 * publishes, its digest recomputed), and the store, through
 * `blogbridge followers --json` / `deliveries --json` and by reading the
 * SQLite file directly.  Two things are done to the database that only
 * time would do otherwise, each said where it is done: making a retry due
 * now (next_attempt = 0) and ending a lease (lease_until = 0).
 *
 * Blocked domains: loopback IPs are not domain names, so the blocked peer
 * is one reached as "localhost" (blocked_domains = localhost).  Its Follow
 * is verified and answered with a signed Reject (queued like an Accept,
 * so it adds an activity and a delivery, and no follower); its other
 * activities get 403 before any key is fetched.
 *
 * Every wait is a bounded poll; the bridge (a child process) is killed and
 * the peers stopped on every path, and its log printed when a case failed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strcasestr */
#endif
#include "bridge_proc.h"
#include "check.h"
#include "httpsig.h"
#include "key.h"
#include "peer.h"
#include "probe.h"
#include "site.h"
#include "timeutil.h"

#include <curl/curl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define AS_CONTEXT "https://www.w3.org/ns/activitystreams"
#define AS_PUBLIC AS_CONTEXT "#Public"
#define AP_TYPE "application/activity+json"

/* The healthy peer's Accept must come this fast while others fail. */
#define HEALTHY_MS 2000

/* The remote servers and their actors. */
struct world {
	const char *keydir;
	struct peer *pa;     /* 127.0.0.2: healthy, most actors */
	struct peer *pfail;  /* 127.0.0.3: 500, then 202 */
	struct peer *pdead;  /* 127.0.0.4: its actors' inboxes are on a closed port */
	struct peer *phang;  /* 127.0.0.5: hangs */
	struct peer *pknock; /* 127.0.0.6: 401 to cavage, 202 to RFC 9421 */
	struct peer *pgone;  /* 127.0.0.7: 500, then 410 */
	struct peer *phang2; /* 127.0.0.8: hangs across a kill -9 */
	struct peer *pblock; /* 127.0.0.1 reached as "localhost": a blocked domain */
	struct peer *pbusy;  /* 127.0.0.9: 503 with Retry-After and a hostile body */
	struct peer *pstrict; /* 127.0.0.10: RFC 9421 with alg only */
	struct peer_actor *alice, *bob, *mallory, *carol, *dave, *erin, *frank, *rita;
	struct peer_actor *fay, *dan, *dora, *hal, *kim, *ken, *gil, *gus, *ike, *eve;
	struct peer_actor *bea, *sam, *sue;
	struct key *forger; /* a key no actor publishes */
	struct pubkey *bridge_pub;
	char dead_host[64]; /* 127.0.0.4:PORT, where nobody listens */
};

static const char *binary;
static struct bridge br;
static struct world w;
static bool world_ready, world_failed;
static unsigned id_counter;

/* POSTs body to the bridge's path as actor a, signed as o says (NULL: a
 * good draft-cavage signature), but sending sent (tampering) when not
 * NULL.  Returns the status (0: no answer); the answer is kept in r (free
 * it) when r is not NULL. */
static long post_sending(const struct peer_actor *a, const char *path, const char *body,
			 const char *sent, const struct peer_sign_opts *o, struct reply *r)
{
	struct curl_slist *hdrs = NULL;
	struct reply local;
	char url[256];
	long status = 0;

	if (r == NULL)
		r = &local;
	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "%s%s", br.origin, path);
	if (sent == NULL)
		sent = body;
	if (peer_sign_post(a, url, body, o, &hdrs) &&
	    bridge_http(&br, "POST", path, hdrs, sent, strlen(sent), r))
		status = r->status;
	curl_slist_free_all(hdrs);
	if (r == &local)
		reply_free(&local);
	return status;
}

static long post_as(const struct peer_actor *a, const char *path, const char *body,
		    const struct peer_sign_opts *o, struct reply *r)
{
	return post_sending(a, path, body, NULL, o, r);
}

/* ---- activities ---- */

/* A fresh activity id on a's server. */
static void new_id(const struct peer_actor *a, const char *kind, char *out, size_t n)
{
	snprintf(out, n, "%s/activities/%s-%u-%ld", peer_base(a->peer), kind, ++id_counter,
		 (long)time(NULL));
}

/* A Follow of the bridge with the given id and actor, as Mastodon sends it
 * (no to/cc). */
static char *follow_json_as(const char *id, const char *actor_id)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "@context", AS_CONTEXT, "id", id, "type",
			      "Follow", "actor", actor_id, "object", br.actor_id);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	return s;
}

static char *follow_json(const struct peer_actor *a, const char *id)
{
	return follow_json_as(id, a->id);
}

/* Sends a new Follow from a to path (signed with scheme); the Follow id in
 * id (n bytes).  Returns the status. */
static long follow(const struct peer_actor *a, const char *path, enum httpsig_scheme scheme,
		   char *id, size_t n)
{
	struct peer_sign_opts o = {.scheme = scheme};
	char *body;
	long status;

	new_id(a, "follow", id, n);
	body = follow_json(a, id);
	status = body ? post_as(a, path, body, &o, NULL) : 0;
	free(body);
	return status;
}

/* ---- what the peers receive ---- */

/* Is pp an answer of type (Accept/Reject) to the Follow follow_id? */
static bool is_answer(const struct peer_post *pp, const char *type, const char *follow_id)
{
	json_t *j = json_loadb(pp->body, pp->len, 0, NULL);
	bool yes = j && jstr(j, "type") && strcmp(jstr(j, "type"), type) == 0 &&
		   jstr(j, "object.id") && strcmp(jstr(j, "object.id"), follow_id) == 0;

	json_decref(j);
	return yes;
}

static size_t count_answers(struct peer *p, const char *type, const char *follow_id)
{
	size_t n = 0, total = peer_post_count(p);

	for (size_t i = 0; i < total; i++)
		if (is_answer(peer_post_at(p, i), type, follow_id))
			n++;
	return n;
}

/* Waits (bounded) for p to receive an answer to follow_id, looking at its
 * POSTs from number from on; NULL if none came. */
static const struct peer_post *wait_answer(struct peer *p, const char *type, const char *follow_id,
					   size_t from)
{
	size_t seen = from;

	for (int waited = 0; waited <= BRIDGE_WAIT_MS; waited += BRIDGE_POLL_MS) {
		size_t total = peer_post_count(p);
		for (; seen < total; seen++) {
			const struct peer_post *pp = peer_post_at(p, seen);
			if (is_answer(pp, type, follow_id))
				return pp;
		}
		sleep_ms(BRIDGE_POLL_MS);
	}
	check_fail(__FILE__, __LINE__, "no %s of %s reached %s within %d ms", type, follow_id,
		   peer_host(p), BRIDGE_WAIT_MS);
	return NULL;
}

/* Waits (bounded) until p has received n POSTs. */
static bool wait_posts(struct peer *p, size_t n)
{
	for (int waited = 0; waited <= BRIDGE_WAIT_MS; waited += BRIDGE_POLL_MS) {
		if (peer_post_count(p) >= n)
			return true;
		sleep_ms(BRIDGE_POLL_MS);
	}
	check_fail(__FILE__, __LINE__, "%s received %zu POSTs, not %zu, within %d ms", peer_host(p),
		   peer_post_count(p), n, BRIDGE_WAIT_MS);
	return false;
}

/* Checks that the bridge signed pp (received by p) with the key it
 * publishes; the scheme, or -1. */
static int check_signed_by_bridge(struct peer *p, const struct peer_post *pp)
{
	return peer_check_signed(p, pp, w.bridge_pub, br.key_id);
}

/* Checks the body of an Accept/Reject of a's Follow follow_id. */
static void check_answer_body(const struct peer_post *pp, const char *type,
			      const struct peer_actor *a, const char *follow_id)
{
	json_t *j = json_loadb(pp->body, pp->len, 0, NULL);
	char prefix[128];

	snprintf(prefix, sizeof(prefix), "%s/ap/activities/", br.origin);
	CHECK(json_is_object(j));
	CHECK_STR(jstr(j, "@context"), AS_CONTEXT);
	CHECK_STR(jstr(j, "type"), type);
	CHECK_STR(jstr(j, "actor"), br.actor_id);
	CHECK(jstr(j, "id") && strncmp(jstr(j, "id"), prefix, strlen(prefix)) == 0);
	/* The received Follow, embedded with its id. */
	CHECK(json_is_object(jget(j, "object")));
	CHECK_STR(jstr(j, "object.id"), follow_id);
	CHECK_STR(jstr(j, "object.type"), "Follow");
	CHECK_STR(jstr(j, "object.actor"), a->id);
	CHECK_STR(jstr(j, "object.object"), br.actor_id);
	json_decref(j);
}

/* Waits for the Accept of a's Follow at a's peer (among its POSTs from
 * number from on) and checks it all; the post, or NULL. */
static const struct peer_post *expect_accept(const struct peer_actor *a, const char *follow_id,
					     size_t from)
{
	const struct peer_post *pp = wait_answer(a->peer, "Accept", follow_id, from);
	char path[PEER_URL_MAX];

	if (pp == NULL)
		return NULL;
	check_answer_body(pp, "Accept", a, follow_id);
	CHECK_INT(check_signed_by_bridge(a->peer, pp), HTTPSIG_CAVAGE);
	/* To the personal inbox, as Mastodon sends Accepts. */
	snprintf(path, sizeof(path), "/users/%s/inbox", a->name);
	CHECK_STR(pp->path, path);
	CHECK_INT(pp->status, 202);
	return pp;
}

/* ---- the store: the CLI and the SQLite file ---- */

static bool is_follower(const struct peer_actor *a)
{
	json_t *arr = bridge_cli_json(&br, "followers");
	bool yes = find_by(arr, "actor", a->id) != NULL;

	json_decref(arr);
	return yes;
}

/* Row counts that a refused request must leave as they were. */
struct counts {
	long long followers, activities, deliveries, seen;
	char *followers_json;
};

static void counts_take(struct counts *c)
{
	json_t *arr = bridge_cli_json(&br, "followers");

	c->followers = bridge_db_int(&br, "SELECT count(*) FROM followers");
	c->activities = bridge_db_int(&br, "SELECT count(*) FROM activities");
	c->deliveries = bridge_db_int(&br, "SELECT count(*) FROM deliveries");
	c->seen = bridge_db_int(&br, "SELECT count(*) FROM seen");
	c->followers_json = arr ? json_dumps(arr, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(arr);
}

static void counts_check_same(const struct counts *before, const char *what)
{
	struct counts now;

	counts_take(&now);
	if (now.followers != before->followers || now.activities != before->activities ||
	    now.deliveries != before->deliveries || now.seen != before->seen)
		check_fail(__FILE__, __LINE__,
			   "%s changed the store: followers %lld->%lld, activities %lld->%lld, "
			   "deliveries %lld->%lld, seen %lld->%lld",
			   what, before->followers, now.followers, before->activities,
			   now.activities, before->deliveries, now.deliveries, before->seen,
			   now.seen);
	CHECK_STR(now.followers_json, before->followers_json);
	free(now.followers_json);
}

/* ---- setup ---- */

static struct peer *start_peer(const char *ip, const char *name)
{
	struct peer *p = peer_start(ip, name, w.keydir);

	if (p == NULL)
		check_fail(__FILE__, __LINE__, "cannot start a peer on %s", ip);
	return p;
}

/* Reads the bridge's actor over HTTP and keeps its public key. */
static struct peer_actor *actor(struct peer *p, const char *name, const char *inbox_origin)
{
	struct peer_actor *a = p ? peer_actor_add(p, name, inbox_origin) : NULL;

	if (a == NULL)
		check_fail(__FILE__, __LINE__, "cannot make the actor %s", name);
	return a;
}

/* The bridge, the peers and their actors, made on first use. */
static bool world_up(void)
{
	struct err e = {0};
	char path[PATH_MAX], dead[80], odd[96];
	int dead_port;

	if (world_ready)
		return true;
	if (world_failed) {
		CHECK(!"the setup failed before");
		return false;
	}
	world_failed = true;
	w.keydir = check_tmpdir();
	if (!bridge_setup(&br, binary, "blocked_domains = localhost\n") || !bridge_start(&br) ||
	    !peer_bridge_key(&br, &w.bridge_pub)) {
		CHECK(!"the bridge did not start");
		return false;
	}
	w.pa = start_peer("127.0.0.2", NULL);
	w.pfail = start_peer("127.0.0.3", NULL);
	w.pdead = start_peer("127.0.0.4", NULL);
	w.phang = start_peer("127.0.0.5", NULL);
	w.pknock = start_peer("127.0.0.6", NULL);
	w.pgone = start_peer("127.0.0.7", NULL);
	w.phang2 = start_peer("127.0.0.8", NULL);
	w.pblock = start_peer("127.0.0.1", "localhost");
	w.pbusy = start_peer("127.0.0.9", NULL);
	w.pstrict = start_peer("127.0.0.10", NULL);
	dead_port = check_free_port("127.0.0.4");
	snprintf(w.dead_host, sizeof(w.dead_host), "127.0.0.4:%d", dead_port);
	snprintf(dead, sizeof(dead), "http://%s", w.dead_host);
	w.alice = actor(w.pa, "alice", NULL);
	w.bob = actor(w.pa, "bob", NULL);
	w.mallory = actor(w.pa, "mallory", NULL);
	w.carol = actor(w.pa, "carol", NULL);
	w.dave = actor(w.pa, "dave", NULL);
	w.erin = actor(w.pa, "erin", NULL);
	w.frank = actor(w.pa, "frank", NULL);
	w.rita = actor(w.pa, "rita", NULL);
	w.fay = actor(w.pfail, "fay", NULL);
	w.dan = actor(w.pdead, "dan", dead_port > 0 ? dead : NULL);
	w.dora = actor(w.pdead, "dora", dead_port > 0 ? dead : NULL);
	w.hal = actor(w.phang, "hal", NULL);
	w.kim = actor(w.pknock, "kim", NULL);
	w.ken = actor(w.pknock, "ken", NULL);
	w.gil = actor(w.pgone, "gil", NULL);
	/* An inbox URL as written, not as sent: "/x/../users/gus/inbox". */
	snprintf(odd, sizeof(odd), "%s/x/..", w.pgone ? peer_base(w.pgone) : "");
	w.gus = actor(w.pgone, "gus", odd);
	w.ike = actor(w.phang2, "ike", NULL);
	w.eve = actor(w.pblock, "eve", NULL);
	w.bea = actor(w.pbusy, "bea", NULL);
	w.sam = actor(w.pstrict, "sam", NULL);
	w.sue = actor(w.pstrict, "sue", NULL);
	snprintf(path, sizeof(path), "%s/forger.pem", w.keydir);
	if (key_load_or_create(path, &w.forger, NULL, &e) != BB_OK)
		check_fail(__FILE__, __LINE__, "forger key: %s", e.msg);
	if (!w.alice || !w.bob || !w.mallory || !w.carol || !w.dave || !w.erin || !w.frank ||
	    !w.rita || !w.fay || !w.dan || !w.dora || !w.hal || !w.kim || !w.ken || !w.gil ||
	    !w.gus || !w.ike || !w.eve || !w.bea || !w.sam || !w.sue || !w.forger || dead_port <= 0)
		return false;
	world_failed = false;
	world_ready = true;
	return true;
}

static void world_down(void)
{
	struct peer *peers[] = {w.pa,	  w.pfail, w.pdead,  w.phang,
				w.pknock, w.pgone, w.phang2, w.pblock, w.pbusy, w.pstrict};

	if (br.pid > 0) {
		kill(br.pid, SIGKILL);
		waitpid(br.pid, NULL, 0);
		br.pid = 0;
	}
	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++)
		peer_stop(peers[i]);
	key_free(w.forger);
	pubkey_free(w.bridge_pub);
	memset(&w, 0, sizeof(w));
}

/* ---- 1-5: the follow flow ---- */

/* A Follow at the actor inbox: 202, a signed Accept embedding it, and the
 * follower listed with its verified handle. */
static void t_follow(void)
{
	char id[PEER_URL_MAX], handle[PEER_URL_MAX + 1];
	struct reply r;
	char *body;
	json_t *arr, *f;
	time_t since;

	if (!world_up())
		return;
	new_id(w.alice, "follow", id, sizeof(id));
	body = follow_json(w.alice, id);
	CHECK_INT(post_as(w.alice, "/ap/actor/inbox", body, NULL, &r), 202);
	reply_free(&r);
	free(body);
	expect_accept(w.alice, id, 0);

	arr = bridge_cli_json(&br, "followers");
	f = find_by(arr, "actor", w.alice->id);
	CHECK(f != NULL);
	snprintf(handle, sizeof(handle), "@%s", w.alice->acct);
	CHECK_STR(jstr(f, "handle"), handle);
	CHECK_STR(jstr(f, "inbox"), w.alice->inbox);
	CHECK_STR(jstr(f, "shared_inbox"), w.alice->shared_inbox);
	CHECK(jstr(f, "since") && time_parse_rfc3339(jstr(f, "since"), &since) &&
	      since <= time(NULL) && since > time(NULL) - 120);
	json_decref(arr);
	CHECK_INT(
	    bridge_db_int(&br, "SELECT count(*) FROM followers WHERE actor = %Q AND follow_id = %Q",
			  w.alice->id, id),
	    1);
}

/* One POST of a concurrent burst. */
struct burst {
	const struct peer_actor *a;
	const char *body;
	long status;
};

static void *burst_post(void *arg)
{
	struct burst *b = arg;

	b->status = post_as(b->a, "/ap/actor/inbox", b->body, NULL, NULL);
	return NULL;
}

#define BURST 8

/* A repeated Follow (new id) gets a fresh Accept and keeps one row (and
 * its date); the same Follow replayed, also many times at once (as
 * Mastodon's RFC 9421 retry may), is acknowledged and changes nothing. */
static void t_follow_repeat(void)
{
	char id1[PEER_URL_MAX], id2[PEER_URL_MAX], id3[PEER_URL_MAX];
	const struct peer_post *a1, *a2;
	struct burst b[BURST];
	pthread_t th[BURST];
	bool started[BURST];
	struct counts before;
	json_t *j1 = NULL, *j2 = NULL;
	long long since1, acts;
	char *body;

	if (!world_up())
		return;
	CHECK_INT(follow(w.alice, "/ap/actor/inbox", HTTPSIG_CAVAGE, id1, sizeof(id1)), 202);
	a1 = expect_accept(w.alice, id1, 0);
	since1 = bridge_db_int(&br, "SELECT since FROM followers WHERE actor = %Q", w.alice->id);
	sleep_ms(1100); /* so that a new `since` would show */
	CHECK_INT(follow(w.alice, "/ap/actor/inbox", HTTPSIG_CAVAGE, id2, sizeof(id2)), 202);
	a2 = expect_accept(w.alice, id2, 0);
	if (a1 && a2) {
		j1 = json_loads(a1->body, 0, NULL);
		j2 = json_loads(a2->body, 0, NULL);
		CHECK(jstr(j1, "id") && jstr(j2, "id") && strcmp(jstr(j1, "id"), jstr(j2, "id")));
	}
	json_decref(j1);
	json_decref(j2);
	CHECK_INT(
	    bridge_db_int(&br, "SELECT count(*) FROM followers WHERE actor = %Q", w.alice->id), 1);
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM followers WHERE follow_id = %Q", id2),
		  1);
	CHECK_INT(bridge_db_int(&br, "SELECT since FROM followers WHERE actor = %Q", w.alice->id),
		  since1);

	/* The replay, freshly signed as a retry would be: nothing queued (the
	 * Accept would be queued in the same transaction as the 202). */
	counts_take(&before);
	body = follow_json(w.alice, id2);
	CHECK_INT(post_as(w.alice, "/ap/actor/inbox", body, NULL, NULL), 202);
	free(body);
	counts_check_same(&before, "a replayed Follow");
	free(before.followers_json);

	/* A new Follow sent BURST times at once: one Accept. */
	new_id(w.alice, "follow", id3, sizeof(id3));
	body = follow_json(w.alice, id3);
	acts = bridge_db_int(&br, "SELECT count(*) FROM activities");
	for (int i = 0; i < BURST; i++) {
		b[i] = (struct burst){w.alice, body, -1};
		started[i] = pthread_create(&th[i], NULL, burst_post, &b[i]) == 0;
		if (!started[i])
			burst_post(&b[i]);
	}
	for (int i = 0; i < BURST; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		CHECK_INT(b[i].status, 202);
	}
	free(body);
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM activities"), acts + 1);
	expect_accept(w.alice, id3, 0);
	bridge_wait_db(&br, 0, "SELECT count(*) FROM deliveries WHERE host = %Q AND state = 0",
		       peer_host(w.pa));
	CHECK_INT(count_answers(w.pa, "Accept", id2), 1);
	CHECK_INT(count_answers(w.pa, "Accept", id3), 1);
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM followers WHERE follow_id = %Q", id3),
		  1);
}

/* A follower's new key (key rotation) is fetched when its signature no
 * longer verifies with the cached one; the old key is then refused. */
static void t_key_rotation(void)
{
	char id[PEER_URL_MAX];
	struct peer_sign_opts old = {.scheme = HTTPSIG_CAVAGE};
	char *body;

	if (!world_up())
		return;
	CHECK_INT(follow(w.rita, "/ap/actor/inbox", HTTPSIG_CAVAGE, id, sizeof(id)), 202);
	expect_accept(w.rita, id, 0);
	if (!peer_actor_rekey(w.rita)) {
		CHECK(!"cannot rotate the key");
		return;
	}
	CHECK_INT(follow(w.rita, "/ap/actor/inbox", HTTPSIG_CAVAGE, id, sizeof(id)), 202);
	expect_accept(w.rita, id, 0);
	old.key = w.rita->old_key;
	new_id(w.rita, "follow", id, sizeof(id));
	body = follow_json(w.rita, id);
	CHECK_INT(body ? post_as(w.rita, "/ap/actor/inbox", body, &old, NULL) : 0, 401);
	free(body);
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM seen WHERE id = %Q", id), 0);
	CHECK(is_follower(w.rita));
}

/* Sends an Undo from a whose object is obj (taken). */
static long undo(const struct peer_actor *a, json_t *obj)
{
	char id[PEER_URL_MAX];
	json_t *j;
	char *body;
	long status;

	new_id(a, "undo", id, sizeof(id));
	j = json_pack("{s:s, s:s, s:s, s:s, s:o}", "@context", AS_CONTEXT, "id", id, "type", "Undo",
		      "actor", a->id, "object", obj);
	body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	status = body ? post_as(a, "/ap/actor/inbox", body, NULL, NULL) : 0;
	free(body);
	return status;
}

/* Undo with the Follow embedded, Undo by the bare Follow id (only the
 * current one), and the Delete of the actor itself each remove it. */
static void t_unfollow(void)
{
	char id[PEER_URL_MAX], old[PEER_URL_MAX], del[PEER_URL_MAX];
	size_t gets;
	json_t *j;
	char *body;

	if (!world_up())
		return;
	CHECK_INT(follow(w.alice, "/ap/actor/inbox", HTTPSIG_CAVAGE, id, sizeof(id)), 202);
	CHECK(is_follower(w.alice));
	CHECK_INT(undo(w.alice, json_pack("{s:s, s:s, s:s, s:s}", "id", id, "type", "Follow",
					  "actor", w.alice->id, "object", br.actor_id)),
		  202);
	CHECK(!is_follower(w.alice));

	/* By bare id: an older Follow's id is not this follow. */
	snprintf(old, sizeof(old), "%s", id);
	CHECK_INT(follow(w.alice, "/ap/actor/inbox", HTTPSIG_CAVAGE, id, sizeof(id)), 202);
	CHECK(is_follower(w.alice));
	CHECK_INT(undo(w.alice, json_string(old)), 202);
	CHECK(is_follower(w.alice));
	CHECK_INT(undo(w.alice, json_string(id)), 202);
	CHECK(!is_follower(w.alice));

	/* The account deleted: Delete whose object is the actor. */
	CHECK_INT(follow(w.alice, "/ap/actor/inbox", HTTPSIG_CAVAGE, id, sizeof(id)), 202);
	CHECK(is_follower(w.alice));
	new_id(w.alice, "delete", del, sizeof(del));
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s]}", "@context", AS_CONTEXT, "id", del, "type",
		      "Delete", "actor", w.alice->id, "object", w.alice->id, "to", AS_PUBLIC);
	body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	CHECK_INT(body ? post_as(w.alice, "/ap/actor/inbox", body, NULL, NULL) : 0, 202);
	free(body);
	CHECK(!is_follower(w.alice));
	CHECK_INT(
	    bridge_db_int(&br, "SELECT count(*) FROM followers WHERE actor = %Q", w.alice->id), 0);

	/* A stranger's self-Delete: acknowledged, nothing fetched (its actor
	 * would answer 410), nothing stored. */
	{
		char ghost[PEER_URL_MAX], kid[PEER_URL_MAX + 16];
		struct peer_sign_opts o = {
		    .scheme = HTTPSIG_CAVAGE, .key = w.forger, .key_id = kid};
		struct counts before;

		snprintf(ghost, sizeof(ghost), "%s/users/deleted-ghost", peer_base(w.pa));
		snprintf(kid, sizeof(kid), "%s#main-key", ghost);
		new_id(w.alice, "delete", del, sizeof(del));
		j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "@context", AS_CONTEXT, "id", del,
			      "type", "Delete", "actor", ghost, "object", ghost);
		body = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		counts_take(&before);
		gets = peer_get_count(w.pa);
		CHECK_INT(body ? post_as(w.alice, "/ap/actor/inbox", body, &o, NULL) : 0, 202);
		CHECK_INT(peer_get_count(w.pa), gets);
		counts_check_same(&before, "a stranger's self-Delete");
		free(before.followers_json);
		free(body);
		CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM actors WHERE id = %Q", ghost),
			  0);
	}
}

/* The shared inbox takes a Follow the same way (no to/cc naming us). */
static void t_shared_inbox(void)
{
	char id[PEER_URL_MAX];

	if (!world_up())
		return;
	CHECK_INT(follow(w.carol, "/ap/inbox", HTTPSIG_CAVAGE, id, sizeof(id)), 202);
	expect_accept(w.carol, id, 0);
	CHECK(is_follower(w.carol));
}

/* An RFC 9421 signature is as good as draft-cavage. */
static void t_rfc9421_follow(void)
{
	char id[PEER_URL_MAX];

	if (!world_up())
		return;
	CHECK_INT(follow(w.dave, "/ap/actor/inbox", HTTPSIG_RFC9421, id, sizeof(id)), 202);
	expect_accept(w.dave, id, 0);
	CHECK(is_follower(w.dave));
}

/* A Follow signed as Mastodon signs it is taken like ours. */
static void t_mastodon_signature(void)
{
	static const struct peer_sign_opts mastodon = {.mastodon_style = true};
	char id[PEER_URL_MAX];
	char *body;

	if (!world_up())
		return;
	new_id(w.bob, "follow", id, sizeof(id));
	body = follow_json(w.bob, id);
	CHECK_INT(body ? post_as(w.bob, "/ap/actor/inbox", body, &mastodon, NULL) : 0, 202);
	free(body);
	expect_accept(w.bob, id, 0);
	CHECK(is_follower(w.bob));
}

/* ---- 6: refusals ---- */

/* Checks an error answer: the status, and a JSON {"error": "..."} body
 * whose message contains want (case aside; NULL: any message). */
static void check_refusal(const char *what, long got, const struct reply *r, long status,
			  const char *want)
{
	json_t *j = json_loadb(r->body ? r->body : "", r->len, 0, NULL);
	const char *msg = jstr(j, "error");

	if (got != status)
		check_fail(__FILE__, __LINE__, "%s: status %ld, not %ld (%.200s)", what, got,
			   status, r->body ? r->body : "");
	if (strncmp(r->content_type, "application/json", 16) != 0 || msg == NULL || !msg[0])
		check_fail(__FILE__, __LINE__, "%s: no JSON error body (%s: %.200s)", what,
			   r->content_type, r->body ? r->body : "");
	else if (want && strcasestr(msg, want) == NULL)
		check_fail(__FILE__, __LINE__, "%s: \"%s\" does not mention %s", what, msg, want);
	json_decref(j);
}

/* A Follow by a with a fresh id and extra members (a JSON object text
 * without braces, or ""). */
static char *follow_with(const struct peer_actor *a, const char *extra)
{
	char id[PEER_URL_MAX], *body;
	size_t n;

	new_id(a, "follow", id, sizeof(id));
	n = strlen(extra) + 2 * PEER_URL_MAX + 256;
	body = malloc(n);
	if (body != NULL)
		snprintf(body, n,
			 "{\"@context\":\"" AS_CONTEXT "\",\"id\":\"%s\",\"type\":\"Follow\","
			 "\"actor\":\"%s\",\"object\":\"%s\"%s%s}",
			 id, a->id, br.actor_id, extra[0] ? "," : "", extra);
	return body;
}

/* A Follow by a with a fresh id, padded to exactly size bytes; NULL when
 * size is too small. */
static char *extra_big(const struct peer_actor *a, size_t size)
{
	char *head = follow_with(a, "\"pad\":\"\""), *big = NULL;
	size_t hl = head ? strlen(head) : 0;

	/* head ends with "\"pad\":\"\"}": the padding goes between the quotes. */
	if (head && size >= hl && (big = malloc(size + 1)) != NULL) {
		memcpy(big, head, hl - 2);
		memset(big + hl - 2, 'x', size - hl);
		memcpy(big + size - 2, "\"}", 3);
	}
	free(head);
	CHECK(big != NULL && strlen(big) == size);
	return big;
}

/* POSTs body as a with o and checks the refusal. */
static void refused(const char *what, const struct peer_actor *a, const char *path,
		    const char *body, const struct peer_sign_opts *o, long status, const char *want)
{
	struct reply r;
	long got = post_as(a, path, body, o, &r);

	check_refusal(what, got, &r, status, want);
	reply_free(&r);
}

static char *nested(size_t depth)
{
	size_t n = depth * 6 + 64;
	char *s = malloc(n), *p = s;

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < depth; i++, p += 5)
		memcpy(p, "{\"a\":", 5);
	*p++ = '1';
	memset(p, '}', depth);
	p[depth] = '\0';
	return s;
}

/* Each refusal leaves followers, activities, deliveries and the replay
 * log as they were. */
static void t_refusals(void)
{
	struct peer_sign_opts forged = {0}, stale = {.skew_s = -2 * 3600},
			      future = {.skew_s = 2 * 3600}, bare = {.unsigned_post = true};
	struct counts before;
	struct reply r;
	char *f, *g, *deep, *big;
	char tampered[4096], nobody[1024];
	size_t gets;
	long got;

	if (!world_up())
		return;
	forged.key = w.forger; /* with mallory's keyId */
	counts_take(&before);
	f = follow_with(w.mallory, "");
	refused("unsigned", w.mallory, "/ap/actor/inbox", f, &bare, 401, NULL);
	refused("forged", w.mallory, "/ap/actor/inbox", f, &forged, 401, NULL);
	refused("stale Date", w.mallory, "/ap/actor/inbox", f, &stale, 401, NULL);
	refused("future Date", w.mallory, "/ap/actor/inbox", f, &future, 401, NULL);
	refused("forged, shared inbox", w.mallory, "/ap/inbox", f, &forged, 401, NULL);

	/* The body changed after signing (same length). */
	snprintf(tampered, sizeof(tampered), "%s", f);
	tampered[strlen(tampered) - 3] ^= 1;
	got = post_sending(w.mallory, "/ap/actor/inbox", f, tampered, NULL, &r);
	check_refusal("tampered body", got, &r, 401, "digest");
	reply_free(&r);

	/* Signed by mallory, claiming to be bob. */
	g = follow_with(w.bob, "");
	{
		struct peer_sign_opts o = {.key = w.mallory->key, .key_id = w.mallory->key_id};
		refused("keyId of another actor", w.bob, "/ap/actor/inbox", g, &o, 401, NULL);
	}
	free(g);

	/* Over 1 MiB: 413 whatever the signature. */
	big = extra_big(w.mallory, 1024 * 1024 + 1);
	if (big)
		refused("over 1 MiB", w.mallory, "/ap/actor/inbox", big, NULL, 413, NULL);
	free(big);

	/* Malformed, validly signed. */
	refused("malformed JSON", w.mallory, "/ap/actor/inbox", "{\"type\":\"Follow\",", NULL, 400,
		NULL);
	deep = nested(100);
	g = deep ? follow_with(w.mallory, "\"deep\":") : NULL;
	if (g && deep) {
		size_t n = strlen(g) + strlen(deep) + 1;
		char *d = malloc(n);
		/* follow_with ends with "\"deep\":}": put the nesting before the brace. */
		if (d) {
			snprintf(d, n, "%.*s%s}", (int)(strlen(g) - 1), g, deep);
			refused("nested 100 deep", w.mallory, "/ap/actor/inbox", d, NULL, 400,
				NULL);
		}
		free(d);
	}
	free(g);
	free(deep);
	snprintf(nobody, sizeof(nobody),
		 "{\"@context\":\"" AS_CONTEXT "\",\"type\":\"Follow\",\"actor\":\"%s\","
		 "\"object\":\"%s\"}",
		 w.mallory->id, br.actor_id);
	refused("no id", w.mallory, "/ap/actor/inbox", nobody, NULL, 400, NULL);
	snprintf(nobody, sizeof(nobody),
		 "{\"@context\":\"" AS_CONTEXT "\",\"id\":\"%s/activities/dup\","
		 "\"type\":\"Follow\",\"actor\":\"%s\",\"actor\":\"%s\",\"object\":\"%s\"}",
		 peer_base(w.pa), w.bob->id, w.mallory->id, br.actor_id);
	refused("duplicate keys", w.mallory, "/ap/actor/inbox", nobody, NULL, 400, NULL);
	{
		struct peer_sign_opts o = {.scheme = HTTPSIG_RFC9421, .skew_s = -2 * 3600};
		refused("stale RFC 9421 created", w.mallory, "/ap/actor/inbox", f, &o, 401, NULL);
	}
	{
		/* Chunked, so no Content-Length tells the size in advance. */
		struct peer_sign_opts o = {.scheme = HTTPSIG_CAVAGE, .chunked = true};
		big = extra_big(w.mallory, 1024 * 1024 + 1);
		if (big)
			refused("over 1 MiB, chunked", w.mallory, "/ap/actor/inbox", big, &o, 413,
				NULL);
		free(big);
	}
	/* Keys that cannot be had: an actor that does not exist (401), and a
	 * server that refuses connections (503, as Mastodon since 4.5.4:
	 * worth retrying). */
	{
		char kid[PEER_URL_MAX + 16], act[PEER_URL_MAX], id[PEER_URL_MAX], *gb;
		struct peer_sign_opts o = {
		    .scheme = HTTPSIG_CAVAGE, .key = w.forger, .key_id = kid};
		const char *origins[] = {peer_base(w.pa), NULL};
		char dead[96];
		long want[] = {401, 503};

		snprintf(dead, sizeof(dead), "http://%s", w.dead_host);
		origins[1] = dead;
		for (int i = 0; i < 2; i++) {
			snprintf(act, sizeof(act), "%s/users/ghost", origins[i]);
			snprintf(kid, sizeof(kid), "%s#main-key", act);
			snprintf(id, sizeof(id), "%s/activities/ghost-follow", origins[i]);
			gb = follow_json_as(id, act);
			if (gb)
				refused(i ? "key server down" : "no such key", w.mallory,
					"/ap/actor/inbox", gb, &o, want[i], NULL);
			free(gb);
		}
	}

	/* GET on the inboxes. */
	CHECK(bridge_http(&br, "GET", "/ap/actor/inbox", NULL, NULL, 0, &r));
	check_refusal("GET inbox", r.status, &r, 405, NULL);
	CHECK_STR(r.allow, "POST");
	reply_free(&r);
	CHECK(bridge_http(&br, "GET", "/ap/inbox", NULL, NULL, 0, &r));
	check_refusal("GET shared inbox", r.status, &r, 405, NULL);
	reply_free(&r);

	/* A blocked domain's Undo: 403 before any key is fetched. */
	g = follow_with(w.eve, "");
	gets = peer_get_count(w.pblock);
	{
		char u[8192];
		snprintf(u, sizeof(u),
			 "{\"@context\":\"" AS_CONTEXT "\",\"id\":\"%s/activities/undo-blocked\","
			 "\"type\":\"Undo\",\"actor\":\"%s\",\"object\":%s}",
			 peer_base(w.pblock), w.eve->id, g ? g : "null");
		refused("blocked domain", w.eve, "/ap/actor/inbox", u, NULL, 403, NULL);
	}
	free(g);
	CHECK_INT(peer_get_count(w.pblock), gets);
	CHECK_INT(peer_post_count(w.pblock), 0);
	counts_check_same(&before, "the refused requests");
	free(before.followers_json);

	/* The bridge still works for the same actor, with a body of exactly
	 * 1 MiB (Mastodon refuses only what is larger). */
	free(f);
	big = extra_big(w.mallory, 1024 * 1024);
	got = big ? post_as(w.mallory, "/ap/actor/inbox", big, NULL, NULL) : 0;
	CHECK_INT(got, 202);
	free(big);
	CHECK(is_follower(w.mallory));
}

/* A blocked domain's Follow is verified and answered with a signed
 * Reject; it makes no follower. */
static void t_blocked_follow(void)
{
	char id[PEER_URL_MAX];
	const struct peer_post *pp;
	long long acts;

	if (!world_up())
		return;
	acts = bridge_db_int(&br, "SELECT count(*) FROM activities");
	CHECK_INT(follow(w.eve, "/ap/actor/inbox", HTTPSIG_CAVAGE, id, sizeof(id)), 202);
	pp = wait_answer(w.pblock, "Reject", id, 0);
	if (pp != NULL) {
		check_answer_body(pp, "Reject", w.eve, id);
		CHECK_INT(check_signed_by_bridge(w.pblock, pp), HTTPSIG_CAVAGE);
	}
	CHECK_INT(count_answers(w.pblock, "Accept", id), 0);
	CHECK(!is_follower(w.eve));
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM followers WHERE actor = %Q", w.eve->id),
		  0);
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM activities"), acts + 1);
}

/* The store's block list (`blogbridge blocks add`, the admin pages),
 * beside the config's: an actor blocked there has its Follow rejected
 * and any other activity refused (403).  (On the strict peer, which has
 * room for one more actor.) */
static void t_store_blocked(void)
{
	char *argv[] = {NULL, "-c", NULL, "blocks", "add", NULL, NULL};
	char id[PEER_URL_MAX];
	char *out = NULL, *err = NULL;
	struct peer_actor *zoe;

	if (!world_up())
		return;
	zoe = actor(w.pstrict, "zoe", NULL);
	if (zoe == NULL)
		return;
	argv[0] = (char *)br.binary; /* set by world_up */
	argv[2] = br.conf;
	argv[5] = (char *)zoe->id;
	CHECK_INT(check_run(argv, NULL, &out, &err), 0);
	free(out);
	free(err);
	CHECK_INT(follow(zoe, "/ap/actor/inbox", HTTPSIG_CAVAGE, id, sizeof(id)), 202);
	CHECK(wait_answer(w.pstrict, "Reject", id, 0) != NULL);
	CHECK_INT(count_answers(w.pstrict, "Accept", id), 0);
	CHECK(!is_follower(zoe));
	CHECK_INT(undo(zoe, json_string(id)), 403);
}

/* ---- 7-10: delivery ---- */

/* The deliveries --json entry of host h (a new reference), or NULL. */
static json_t *host_stats(const char *h)
{
	json_t *arr = bridge_cli_json(&br, "deliveries"), *e = find_by(arr, "host", h);

	json_incref(e);
	json_decref(arr);
	if (e == NULL)
		check_fail(__FILE__, __LINE__, "deliveries --json lists no host %s", h);
	return e;
}

/* Checks a host that failed once (its one delivery, to inbox): retrying,
 * its reason, the next attempt 15 + rand(10) s after the failure. */
static void check_retrying(const char *host, const char *inbox, const char *reason)
{
	json_t *h = host_stats(host);
	time_t next = 0, since = 0, now = time(NULL);
	long long backoff;

	CHECK_INT(jint(h, "retrying"), 1);
	CHECK_INT(jint(h, "pending"), 0);
	CHECK_INT(jint(h, "done"), 0);
	CHECK_INT(jint(h, "failed"), 0);
	CHECK(json_is_false(jget(h, "unavailable")));
	if (jstr(h, "last_error") == NULL || strcasestr(jstr(h, "last_error"), reason) == NULL)
		check_fail(__FILE__, __LINE__, "%s: last_error %s does not mention %s", host,
			   jstr(h, "last_error") ? jstr(h, "last_error") : "null", reason);
	CHECK(jstr(h, "next_attempt") && time_parse_rfc3339(jstr(h, "next_attempt"), &next));
	if (next < now + 15 - 5 || next > now + 25)
		check_fail(__FILE__, __LINE__, "%s: next attempt in %lld s", host,
			   (long long)(next - now));
	/* Its record: failing since its one failure, never a success. */
	CHECK(jstr(h, "failing_since") && time_parse_rfc3339(jstr(h, "failing_since"), &since));
	CHECK(since > now - 60 && since <= now);
	CHECK_STR(jstr(h, "last_failure"), jstr(h, "failing_since"));
	CHECK(json_is_null(jget(h, "last_success")));
	CHECK_INT(jint(h, "failing_days"), 1);
	json_decref(h);
	/* Exactly: the time of the failure plus the first backoff. */
	backoff = bridge_db_int(
	    &br, "SELECT next_attempt - updated_at FROM deliveries WHERE inbox = %Q", inbox);
	if (backoff < 15 || backoff > 24)
		check_fail(__FILE__, __LINE__, "%s: first backoff %lld s", host, backoff);
}

/* One follower on each of a hanging, a failing (500) and a dead (refused)
 * host do not delay a healthy one; the failures are scheduled for retry,
 * and the failing host, recovered, gets its Accept on the retry. */
static void t_delivery_resilience(void)
{
	char hid[PEER_URL_MAX], fid[PEER_URL_MAX], did[PEER_URL_MAX], eid[PEER_URL_MAX];
	const char *q_attempts = "SELECT attempts FROM deliveries WHERE inbox = %Q";
	const struct peer_post *pp;
	long long t0, lease;
	json_t *h;

	if (!world_up())
		return;
	peer_set_mode(w.phang, PEER_HANG);
	peer_set_mode(w.pfail, PEER_FAIL);
	CHECK_INT(follow(w.hal, "/ap/actor/inbox", HTTPSIG_CAVAGE, hid, sizeof(hid)), 202);
	CHECK(wait_posts(w.phang, 1));
	CHECK_INT(follow(w.fay, "/ap/actor/inbox", HTTPSIG_CAVAGE, fid, sizeof(fid)), 202);
	CHECK_INT(follow(w.dan, "/ap/actor/inbox", HTTPSIG_CAVAGE, did, sizeof(did)), 202);
	t0 = peer_now_ms();
	CHECK_INT(follow(w.erin, "/ap/actor/inbox", HTTPSIG_CAVAGE, eid, sizeof(eid)), 202);
	pp = expect_accept(w.erin, eid, 0);
	if (pp != NULL && pp->at_ms - t0 > HEALTHY_MS)
		check_fail(__FILE__, __LINE__, "the healthy Accept took %lld ms", pp->at_ms - t0);
	printf("     healthy Accept after %lld ms\n", pp ? pp->at_ms - t0 : -1);

	/* The failures are recorded with their retry time. */
	bridge_wait_db(&br, 1, q_attempts, w.fay->inbox);
	bridge_wait_db(&br, 1, q_attempts, w.dan->inbox);
	CHECK(wait_posts(w.pfail, 1));
	pp = peer_post_at(w.pfail, 0);
	CHECK(pp && pp->status == 500 && is_answer(pp, "Accept", fid));
	check_retrying(peer_host(w.pfail), w.fay->inbox, "HTTP 500");
	check_retrying(w.dead_host, w.dan->inbox, "connect");
	CHECK_INT(peer_post_count(w.pdead), 0);

	/* The hanging host: still leased, not yet failed. */
	h = host_stats(peer_host(w.phang));
	CHECK_INT(jint(h, "pending"), 1);
	CHECK_INT(jint(h, "retrying"), 0);
	json_decref(h);
	lease = bridge_db_int(&br, "SELECT lease_until FROM deliveries WHERE host = %Q",
			      peer_host(w.phang));
	CHECK(lease > (long long)time(NULL));
	CHECK_INT(peer_post_count(w.phang), 1);

	/* The failing host recovers; its row is made due now (only time
	 * would do that otherwise) and the Accept arrives on the retry. */
	peer_set_mode(w.pfail, PEER_ACCEPT);
	CHECK_INT(bridge_db_exec(
		      &br, "UPDATE deliveries SET next_attempt = 0 WHERE host = %Q AND state = 0",
		      peer_host(w.pfail)),
		  1);
	pp = expect_accept(w.fay, fid, 1);
	CHECK(pp != NULL && pp == peer_post_at(w.pfail, 1));
	bridge_wait_db(&br, 1, "SELECT state FROM deliveries WHERE host = %Q", peer_host(w.pfail));
	CHECK_INT(bridge_db_int(&br, q_attempts, w.fay->inbox), 2);
	h = host_stats(peer_host(w.pfail));
	CHECK_INT(jint(h, "done"), 1);
	CHECK_INT(jint(h, "retrying"), 0);
	/* The success ended the outage; the failure is remembered. */
	CHECK(json_is_null(jget(h, "failing_since")));
	CHECK(jstr(h, "last_success") != NULL && jstr(h, "last_failure") != NULL);
	CHECK_INT(jint(h, "failing_days"), 0);
	json_decref(h);
	/* Release the hung request (closed unanswered: one more retry). */
	peer_set_mode(w.phang, PEER_ACCEPT);
}

/* A host that stays dead: failing on a 7th distinct day marks it
 * unavailable (its rows wait, not attempted); a verified activity from it
 * lifts that; after the 17th attempt a delivery is given up.  (dora shares
 * the dead host with dan, whose Accept from delivery_resilience may still
 * be retrying there.) */
static void t_dead_host(void)
{
	const char *q_untried = "SELECT count(*) FROM deliveries WHERE inbox = %Q AND state = 0"
				" AND (attempts = 0 OR next_attempt = 0)";
	const char *q_unavailable = "SELECT unavailable FROM hosts WHERE host = %Q";
	char id[PEER_URL_MAX], like[PEER_URL_MAX];
	long long rows, attempts;
	json_t *h, *j;
	char *body;

	if (!world_up())
		return;
	CHECK_INT(follow(w.dora, "/ap/actor/inbox", HTTPSIG_CAVAGE, id, sizeof(id)), 202);
	bridge_wait_db(&br, 0, q_untried, w.dora->inbox);
	rows = bridge_db_int(&br, "SELECT count(*) FROM deliveries WHERE inbox = %Q AND state = 0",
			     w.dora->inbox);
	CHECK_INT(rows, 1);
	CHECK_INT(bridge_db_int(&br, q_unavailable, w.dead_host), 0);

	/* Simulated: it failed on each of the 6 days before today too. */
	for (int d = 1; d <= 6; d++)
		CHECK_INT(
		    bridge_db_exec(&br,
				   "INSERT OR IGNORE INTO host_failures(host, day) VALUES (%Q,"
				   " CAST(strftime('%%Y%%m%%d', 'now', '-%d days') AS INTEGER))",
				   w.dead_host, d),
		    1);
	/* Due now rather than in 15-25 s: today's failure is the 7th day. */
	CHECK_INT(bridge_db_exec(
		      &br, "UPDATE deliveries SET next_attempt = 0 WHERE inbox = %Q AND state = 0",
		      w.dora->inbox),
		  rows);
	bridge_wait_db(&br, 0, q_untried, w.dora->inbox);
	CHECK_INT(bridge_db_int(&br, q_unavailable, w.dead_host), 1);
	h = host_stats(w.dead_host);
	CHECK(json_is_true(jget(h, "unavailable")));
	CHECK(jint(h, "retrying") >= rows);
	CHECK_INT(jint(h, "failing_days"), 7);
	CHECK(jstr(h, "failing_since") != NULL);
	json_decref(h);

	/* Unavailable: due rows are not attempted. */
	attempts = bridge_db_int(&br, "SELECT sum(attempts) FROM deliveries WHERE inbox = %Q",
				 w.dora->inbox);
	CHECK_INT(bridge_db_exec(
		      &br, "UPDATE deliveries SET next_attempt = 0 WHERE inbox = %Q AND state = 0",
		      w.dora->inbox),
		  rows);
	sleep_ms(1500); /* more than the worker's poll interval */
	CHECK_INT(bridge_db_int(&br, "SELECT sum(attempts) FROM deliveries WHERE inbox = %Q",
				w.dora->inbox),
		  attempts);

	/* A verified activity from the host (a Like, otherwise ignored). */
	new_id(w.dora, "like", like, sizeof(like));
	j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "@context", AS_CONTEXT, "id", like, "type",
		      "Like", "actor", w.dora->id, "object", br.actor_id);
	body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	CHECK_INT(body ? post_as(w.dora, "/ap/actor/inbox", body, NULL, NULL) : 0, 202);
	free(body);
	CHECK_INT(bridge_db_int(&br, q_unavailable, w.dead_host), 0);
	bridge_wait_db(&br, 0, q_untried, w.dora->inbox);
	CHECK_INT(bridge_db_int(&br, "SELECT sum(attempts) FROM deliveries WHERE inbox = %Q",
				w.dora->inbox),
		  attempts + rows);
	CHECK_INT(bridge_db_int(&br, q_unavailable, w.dead_host), 0);

	/* Simulated: 16 attempts made; the 17th is the last. */
	CHECK_INT(
	    bridge_db_exec(&br,
			   "UPDATE deliveries SET attempts = 16, next_attempt = 0 WHERE inbox = %Q"
			   " AND state = 0",
			   w.dora->inbox),
	    rows);
	bridge_wait_db(&br, 0, "SELECT count(*) FROM deliveries WHERE inbox = %Q AND state = 0",
		       w.dora->inbox);
	CHECK_INT(bridge_db_int(&br,
				"SELECT count(*) FROM deliveries WHERE inbox = %Q AND state = 2"
				" AND attempts = 17",
				w.dora->inbox),
		  rows);
	h = host_stats(w.dead_host);
	CHECK(jint(h, "failed") >= rows);
	json_decref(h);
}

/* A host answering 401 to draft-cavage and 202 to RFC 9421 gets the Accept
 * twice in one attempt, the second signed with RFC 9421; the host is then
 * remembered as an RFC 9421 one. */
static void t_double_knock(void)
{
	char id[PEER_URL_MAX], id2[PEER_URL_MAX];
	const struct peer_post *p0, *p1, *p2;
	const char *q = "SELECT state FROM deliveries WHERE inbox = %Q";

	if (!world_up())
		return;
	peer_set_mode(w.pknock, PEER_KNOCK);
	CHECK_INT(follow(w.kim, "/ap/actor/inbox", HTTPSIG_CAVAGE, id, sizeof(id)), 202);
	if (!wait_posts(w.pknock, 2))
		return;
	p0 = peer_post_at(w.pknock, 0);
	p1 = peer_post_at(w.pknock, 1);
	CHECK_INT(p0->status, 401);
	CHECK_INT(check_signed_by_bridge(w.pknock, p0), HTTPSIG_CAVAGE);
	CHECK_INT(p1->status, 202);
	CHECK_INT(check_signed_by_bridge(w.pknock, p1), HTTPSIG_RFC9421);
	CHECK(p0->len == p1->len && memcmp(p0->body, p1->body, p0->len) == 0);
	check_answer_body(p1, "Accept", w.kim, id);
	bridge_wait_db(&br, 1, q, w.kim->inbox);
	CHECK_INT(
	    bridge_db_int(&br, "SELECT attempts FROM deliveries WHERE inbox = %Q", w.kim->inbox),
	    1);
	CHECK_INT(
	    bridge_db_int(&br, "SELECT scheme FROM hosts WHERE host = %Q", peer_host(w.pknock)), 1);

	/* The next delivery there goes out in RFC 9421 first. */
	CHECK_INT(follow(w.ken, "/ap/actor/inbox", HTTPSIG_CAVAGE, id2, sizeof(id2)), 202);
	bridge_wait_db(&br, 1, q, w.ken->inbox);
	CHECK_INT(peer_post_count(w.pknock), 3);
	p2 = peer_post_at(w.pknock, 2);
	if (p2) {
		CHECK_INT(p2->status, 202);
		CHECK_INT(check_signed_by_bridge(w.pknock, p2), HTTPSIG_RFC9421);
		check_answer_body(p2, "Accept", w.ken, id2);
	}
}

/* A strict RFC 9421 verifier (401 to draft-cavage, and to RFC 9421
 * without alg) still gets every delivery: the first after a 401 to
 * draft-cavage, the next in RFC 9421 at once, each with
 * alg="rsa-v1_5-sha256". */
static void t_strict_rfc9421(void)
{
	const struct peer_actor *who[2];
	char id[2][PEER_URL_MAX];
	const char *q = "SELECT state FROM deliveries WHERE inbox = %Q";
	size_t n;

	if (!world_up())
		return;
	who[0] = w.sam;
	who[1] = w.sue;
	peer_set_mode(w.pstrict, PEER_STRICT_9421);
	for (int i = 0; i < 2; i++) {
		CHECK_INT(follow(who[i], "/ap/actor/inbox", HTTPSIG_CAVAGE, id[i], sizeof(id[i])),
			  202);
		bridge_wait_db(&br, 1, q, who[i]->inbox);
	}
	n = peer_post_count(w.pstrict);
	CHECK_INT(n, 3);
	for (size_t i = 0; i < n; i++) {
		const struct peer_post *pp = peer_post_at(w.pstrict, i);
		const char *in = peer_post_header(pp, "Signature-Input");
		if (pp->status == 401) {
			CHECK_INT(check_signed_by_bridge(w.pstrict, pp), HTTPSIG_CAVAGE);
			continue;
		}
		CHECK_INT(pp->status, 202);
		CHECK_INT(check_signed_by_bridge(w.pstrict, pp), HTTPSIG_RFC9421);
		CHECK(in != NULL && check_contains(in, ";alg=\"rsa-v1_5-sha256\""));
	}
	if (n == 3) {
		CHECK_INT(peer_post_at(w.pstrict, 0)->status, 401);
		check_answer_body(peer_post_at(w.pstrict, 1), "Accept", w.sam, id[0]);
		check_answer_body(peer_post_at(w.pstrict, 2), "Accept", w.sue, id[1]);
	}
	/* Every delivery there is done. */
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM deliveries WHERE host = %Q AND state != 1",
				peer_host(w.pstrict)),
		  0);
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM deliveries WHERE host = %Q AND state = 1",
				peer_host(w.pstrict)),
		  2);
}

/* 410 Gone from a follower's personal inbox removes the follower, also
 * when the inbox URL it published is not written the way it is sent. */
static void t_gone(void)
{
	const struct peer_actor *gone[2];
	char id[PEER_URL_MAX];
	const char *q = "SELECT attempts FROM deliveries WHERE inbox = %Q";
	long long others;

	if (!world_up())
		return;
	gone[0] = w.gil;
	gone[1] = w.gus;
	/* First a 500, so the followers are seen listed before the 410. */
	peer_set_mode(w.pgone, PEER_FAIL);
	for (int i = 0; i < 2; i++) {
		CHECK_INT(follow(gone[i], "/ap/actor/inbox", HTTPSIG_CAVAGE, id, sizeof(id)), 202);
		bridge_wait_db(&br, 1, q, gone[i]->inbox);
		CHECK(is_follower(gone[i]));
	}
	others = bridge_db_int(&br, "SELECT count(*) FROM followers WHERE actor NOT IN (%Q, %Q)",
			       w.gil->id, w.gus->id);
	peer_set_mode(w.pgone, PEER_GONE);
	/* Due now rather than in 15-25 s. */
	CHECK_INT(bridge_db_exec(
		      &br, "UPDATE deliveries SET next_attempt = 0 WHERE host = %Q AND state = 0",
		      peer_host(w.pgone)),
		  2);
	for (int i = 0; i < 2; i++) {
		bridge_wait_db(&br, 2, "SELECT state FROM deliveries WHERE inbox = %Q",
			       gone[i]->inbox);
		CHECK_INT(bridge_db_int(&br, "SELECT last_status FROM deliveries WHERE inbox = %Q",
					gone[i]->inbox),
			  410);
		CHECK(!is_follower(gone[i]));
	}
	CHECK_INT(peer_post_count(w.pgone), 4);
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM followers"), others);
}

/* 503 with Retry-After: the retry waits as long as the peer asked (not
 * the first backoff of 15-25 s), and the peer's body, which holds a
 * newline and an escape sequence, is stored and logged escaped. */
static void t_retry_after(void)
{
	const char *q = "SELECT attempts FROM deliveries WHERE inbox = %Q";
	const char *esc = "busy\\n2026-01-01T00:00:00Z error forged\\x1b[2J";
	char id[PEER_URL_MAX], line[2048];
	const char *le;
	long long wait;
	bool logged = false;
	json_t *h;
	FILE *f;

	if (!world_up())
		return;
	peer_set_mode(w.pbusy, PEER_BUSY);
	CHECK_INT(follow(w.bea, "/ap/actor/inbox", HTTPSIG_CAVAGE, id, sizeof(id)), 202);
	bridge_wait_db(&br, 1, q, w.bea->inbox);
	CHECK_INT(
	    bridge_db_int(&br, "SELECT last_status FROM deliveries WHERE inbox = %Q", w.bea->inbox),
	    503);
	wait = bridge_db_int(
	    &br, "SELECT next_attempt - updated_at FROM deliveries WHERE inbox = %Q", w.bea->inbox);
	if (wait < PEER_BUSY_RETRY_S || wait > PEER_BUSY_RETRY_S + 60)
		check_fail(__FILE__, __LINE__, "retry in %lld s, not %d", wait, PEER_BUSY_RETRY_S);
	h = host_stats(peer_host(w.pbusy));
	le = jstr(h, "last_error");
	CHECK(le != NULL && strstr(le, esc) != NULL);
	CHECK(le != NULL && strchr(le, '\n') == NULL && strchr(le, '\x1b') == NULL);
	json_decref(h);
	/* In the log, on the line of the failure, never a line of its own. */
	f = fopen(br.log, "r");
	CHECK(f != NULL);
	while (f && fgets(line, sizeof(line), f) != NULL) {
		CHECK(strncmp(line, "2026-01-01T00:00:00Z error forged", 33) != 0);
		CHECK(strchr(line, '\x1b') == NULL);
		logged = logged || strstr(line, esc) != NULL;
	}
	if (f)
		fclose(f);
	CHECK(logged);
}

/* kill -9 while a delivery hangs: the restarted bridge releases the dead
 * worker's lease as it starts and sends the Accept again at once (not
 * once the lease would have ended).  kill -9 right after a 202: the
 * follower is there after the restart, and its Accept goes out. */
static void t_kill9(void)
{
	char id[PEER_URL_MAX], fid[PEER_URL_MAX];
	const char *q_lease = "SELECT lease_until FROM deliveries WHERE inbox = %Q AND state = 0";
	const struct peer_post *pp;
	long long t0;

	if (!world_up())
		return;
	peer_set_mode(w.phang2, PEER_HANG);
	CHECK_INT(follow(w.ike, "/ap/actor/inbox", HTTPSIG_CAVAGE, id, sizeof(id)), 202);
	CHECK(wait_posts(w.phang2, 1));
	CHECK(bridge_db_int(&br, q_lease, w.ike->inbox) > (long long)time(NULL));
	CHECK_INT(bridge_stop(&br, SIGKILL), -1);
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM deliveries WHERE inbox = %Q"
				     " AND lease_owner IS NOT NULL AND lease_until > 0",
				w.ike->inbox),
		  1);
	peer_set_mode(w.phang2, PEER_ACCEPT);
	t0 = peer_now_ms();
	if (!bridge_start(&br)) {
		CHECK(!"the bridge did not restart");
		return;
	}
	pp = expect_accept(w.ike, id, 1);
	CHECK(pp != NULL && pp == peer_post_at(w.phang2, 1));
	/* Well before DELIVERY_LEASE_S: the lease was released, not waited out. */
	if (peer_now_ms() - t0 > 10000)
		check_fail(__FILE__, __LINE__, "resent %lld ms after the restart", peer_now_ms() - t0);
	bridge_wait_db(&br, 1, "SELECT state FROM deliveries WHERE inbox = %Q", w.ike->inbox);
	/* The attempt the kill interrupted was never recorded. */
	CHECK_INT(
	    bridge_db_int(&br, "SELECT attempts FROM deliveries WHERE inbox = %Q", w.ike->inbox),
	    1);

	/* A 202 means stored: kill -9 at once. */
	CHECK_INT(follow(w.frank, "/ap/actor/inbox", HTTPSIG_CAVAGE, fid, sizeof(fid)), 202);
	CHECK_INT(bridge_stop(&br, SIGKILL), -1);
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM followers WHERE follow_id = %Q", fid),
		  1);
	if (!bridge_start(&br)) {
		CHECK(!"the bridge did not restart");
		return;
	}
	CHECK(is_follower(w.frank));
	CHECK_INT(
	    bridge_db_int(&br, "SELECT count(*) FROM deliveries WHERE inbox = %Q", w.frank->inbox),
	    1);
	/* Claimed before the kill, maybe: released by the restart. */
	expect_accept(w.frank, fid, 0);
	bridge_wait_db(&br, 1, "SELECT state FROM deliveries WHERE inbox = %Q", w.frank->inbox);
}

/* SIGTERM ends the bridge promptly with status 0, even with a delivery
 * hanging, and its log holds no sanitizer report (the sanitizer build runs
 * the bridge under ASan/UBSan). */
/* ---- the doctor's probe (probe.h) ---- */

/* POSTs the probe p to the actor's inbox with its signed headers, Date
 * replaced by date when not NULL. */
static long post_probe(const struct ap_probe *p, const char *date, struct reply *r)
{
	const char *names[] = {"Host", "Date", "Digest", "Content-Type", "Signature"};
	const char *values[] = {p->sig.host, date ? date : p->sig.date, p->sig.digest, AP_TYPE,
				p->sig.signature};
	struct curl_slist *h = NULL, *n;
	char line[8192];
	long status = 0;

	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < 5; i++) {
		snprintf(line, sizeof(line), "%s: %s", names[i], values[i]);
		if ((n = curl_slist_append(h, line)) == NULL)
			goto out;
		h = n;
	}
	if (bridge_http(&br, "POST", AP_PATH_INBOX, h, p->body, strlen(p->body), r))
		status = r->status;
out:
	curl_slist_free_all(h);
	return status;
}

/* The report's verdict on header name: unchanged or not. */
static bool probe_unchanged(const json_t *report, const char *name)
{
	json_t *h = json_object_get(json_object_get(report, "headers"), name);

	return json_is_true(json_object_get(h, "unchanged"));
}

static void t_doctor_probe(void)
{
	struct ap_site_config sc = {.base_url = br.origin, .handle = "blog"};
	struct ap_site site = {0};
	struct ap_probe p = {0};
	struct key *own = NULL;
	struct counts before;
	long long actors;
	struct reply r;
	struct err e = {0};
	char path[PATH_MAX], *self_follow = NULL;
	json_t *j;

	if (!world_up())
		return;
	snprintf(path, sizeof(path), "%s/data/actor.pem", br.dir);
	sc.host = br.origin + strlen("http://");
	if (key_load(path, &own, &e) != BB_OK || ap_site_init(&site, &sc, &e) != BB_OK) {
		check_fail(__FILE__, __LINE__, "cannot load the bridge's key: %s", e.msg);
		goto out;
	}
	CHECK_STR(site.actor_id, br.actor_id);
	counts_take(&before);
	actors = bridge_db_int(&br, "SELECT count(*) FROM actors");

	/* The bridge's own probe, as sent: all arrived, verified. */
	CHECK(ap_probe_make(&site, own, time(NULL), &p, &e) == BB_OK);
	CHECK(post_probe(&p, NULL, &r) == 200);
	j = json_loads(p.body, 0, NULL);
	CHECK(jstr(j, "id") != NULL && strstr(jstr(j, "id"), "#doctor-probe-") != NULL);
	snprintf(path, sizeof(path), "%s", jstr(j, "id") ? jstr(j, "id") : "");
	json_decref(j);
	j = json_loads(r.body ? r.body : "", 0, NULL);
	CHECK_STR(jstr(j, "probe"), path);
	CHECK(json_is_true(json_object_get(json_object_get(j, "signature"), "verified")));
	CHECK(probe_unchanged(j, "host") && probe_unchanged(j, "date") &&
	      probe_unchanged(j, "digest") && probe_unchanged(j, "content-type"));
	json_decref(j);
	reply_free(&r);
	/* Again: a replay is answered the same, and stores nothing either. */
	CHECK(post_probe(&p, NULL, &r) == 200);
	reply_free(&r);

	/* Date changed on the way: the report says so, and why the
	 * signature fails. */
	CHECK(post_probe(&p, "Mon, 01 Jan 2001 00:00:00 GMT", &r) == 200);
	j = json_loads(r.body ? r.body : "", 0, NULL);
	CHECK(!probe_unchanged(j, "date") && probe_unchanged(j, "host"));
	CHECK_STR(jstr(j, "headers.date.received"), "Mon, 01 Jan 2001 00:00:00 GMT");
	CHECK(json_is_false(json_object_get(json_object_get(j, "signature"), "verified")));
	CHECK(jstr(j, "signature.reason") != NULL);
	json_decref(j);
	reply_free(&r);
	ap_probe_clear(&p);

	/* A probe made with another key, signed with it under the bridge's
	 * keyId: refused, and told nothing. */
	CHECK(ap_probe_make(&site, w.forger, time(NULL), &p, &e) == BB_OK);
	CHECK(post_probe(&p, NULL, &r) == 401);
	check_refusal("forged probe", 401, &r, 401, "nothing but its doctor's probe");
	CHECK(r.body == NULL || strstr(r.body, "headers") == NULL);
	reply_free(&r);
	ap_probe_clear(&p);

	/* An old probe: refused. */
	CHECK(ap_probe_make(&site, own, time(NULL) - 3600, &p, &e) == BB_OK);
	CHECK(post_probe(&p, NULL, &r) == 401);
	reply_free(&r);
	ap_probe_clear(&p);

	/* The bridge's own actor, validly signed, is not a follower to take. */
	{
		static struct peer_actor me; /* large: not on the stack */
		char id[sizeof(br.actor_id) + 8];

		snprintf(me.id, sizeof(me.id), "%s", br.actor_id);
		snprintf(me.key_id, sizeof(me.key_id), "%s", br.key_id);
		me.key = own;
		snprintf(id, sizeof(id), "%s#f", br.actor_id);
		self_follow = follow_json_as(id, br.actor_id);
		CHECK(post_as(&me, AP_PATH_INBOX, self_follow, NULL, &r) == 401);
		reply_free(&r);
	}

	counts_check_same(&before, "the doctor's probe");
	CHECK(bridge_db_int(&br, "SELECT count(*) FROM actors") == actors);
	free(before.followers_json);
out:
	free(self_follow);
	ap_probe_clear(&p);
	ap_site_free(&site);
	key_free(own);
}

static void t_clean_shutdown(void)
{
	char id[PEER_URL_MAX];
	size_t posts;
	long long t0;

	if (!world_up())
		return;
	peer_set_mode(w.phang2, PEER_HANG);
	posts = peer_post_count(w.phang2);
	CHECK_INT(follow(w.ike, "/ap/actor/inbox", HTTPSIG_CAVAGE, id, sizeof(id)), 202);
	CHECK(wait_posts(w.phang2, posts + 1));
	t0 = peer_now_ms();
	CHECK_INT(bridge_stop(&br, SIGTERM), 0);
	if (peer_now_ms() - t0 > 3000)
		check_fail(__FILE__, __LINE__, "SIGTERM took %lld ms", peer_now_ms() - t0);
	printf("     stopped in %lld ms with a delivery hanging\n", peer_now_ms() - t0);
	/* The abandoned delivery is still queued for the next start. */
	CHECK_INT(bridge_db_int(&br,
				"SELECT count(*) FROM deliveries WHERE inbox = %Q AND state = 0",
				w.ike->inbox),
		  1);
	bridge_check_log_clean(&br);
}

/* Each case prints how long it took. */
#define TIMED(fn)                                                                                  \
	static void fn##_timed(void)                                                               \
	{                                                                                          \
		long long t0 = peer_now_ms();                                                      \
		fn();                                                                              \
		printf("     %s: %.2f s\n", #fn, (double)(peer_now_ms() - t0) / 1000.0);           \
	}

TIMED(t_follow)
TIMED(t_follow_repeat)
TIMED(t_key_rotation)
TIMED(t_unfollow)
TIMED(t_shared_inbox)
TIMED(t_rfc9421_follow)
TIMED(t_mastodon_signature)
TIMED(t_refusals)
TIMED(t_blocked_follow)
TIMED(t_store_blocked)
TIMED(t_delivery_resilience)
TIMED(t_dead_host)
TIMED(t_double_knock)
TIMED(t_strict_rfc9421)
TIMED(t_gone)
TIMED(t_retry_after)
TIMED(t_kill9)
TIMED(t_doctor_probe)
TIMED(t_clean_shutdown)

static const struct check_case cases[] = {
    {"follow", t_follow_timed},
    {"follow_repeat", t_follow_repeat_timed},
    {"key_rotation", t_key_rotation_timed},
    {"unfollow", t_unfollow_timed},
    {"shared_inbox", t_shared_inbox_timed},
    {"rfc9421_follow", t_rfc9421_follow_timed},
    {"mastodon_signature", t_mastodon_signature_timed},
    {"refusals", t_refusals_timed},
    {"blocked_follow", t_blocked_follow_timed},
    {"delivery_resilience", t_delivery_resilience_timed},
    {"dead_host", t_dead_host_timed},
    {"double_knock", t_double_knock_timed},
    {"strict_rfc9421", t_strict_rfc9421_timed},
    /* After strict_rfc9421: it adds an actor to the strict peer, whose
     * deliveries that case counts. */
    {"store_blocked", t_store_blocked_timed},
    {"gone", t_gone_timed},
    {"retry_after", t_retry_after_timed},
    {"kill9", t_kill9_timed},
    {"doctor_probe", t_doctor_probe_timed},
    {"clean_shutdown", t_clean_shutdown_timed},
};

int main(int argc, char **argv)
{
	long long t0 = peer_now_ms();
	int rc;

	binary = bridge_main_init(argc, argv, "test_federation");
	if (binary == NULL)
		return 2;
	/* argv[1] takes the place of the program name: the rest are cases. */
	rc = check_main(argc - 1, argv + 1, cases, sizeof(cases) / sizeof(cases[0]));
	rc = bridge_main_end(&br, rc, world_down, w.keydir);
	printf("total %.2f s\n", (double)(peer_now_ms() - t0) / 1000.0);
	return rc;
}
