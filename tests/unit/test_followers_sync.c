/*
 * test_followers_sync.c — FEP-8fcf (followers_sync.h): the followers
 * digest per server of a real SQLite store, recomputed here with OpenSSL
 * from its definition (XOR of SHA-256 of each follower id); the header,
 * the partial collection's URL and document; the test of an activity's
 * addressing; and the signature covering the header (httpsig_sign_extra,
 * both schemes), verified, and refused once the header is altered.
 */
#include "check.h"
#include "followers_sync.h"
#include "httpsig.h"
#include "key.h"
#include "store.h"

#include <jansson.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE "https://blog.example"
#define FOLLOWERS BASE "/ap/actor/followers"

/* The FEP's digest of ids, in hex, computed here. */
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

static void put(struct store *st, const char *actor)
{
	char inbox[256], follow[256];
	struct store_follower f = {0};
	struct err e = {0};

	snprintf(inbox, sizeof(inbox), "%s/inbox", actor);
	snprintf(follow, sizeof(follow), "%s#follow", actor);
	f.actor = (char *)actor;
	f.inbox = inbox;
	f.follow_id = follow;
	f.since = 100;
	CHECK_INT(store_follower_put(st, &f, &e), BB_OK);
}

static struct store *open_store(void)
{
	const char *dir = check_tmpdir();
	char path[512];
	struct store *st = NULL;
	struct err e = {0};

	snprintf(path, sizeof(path), "%s/bridge.db", dir);
	CHECK_INT(store_open(path, &st, &e), BB_OK);
	return st;
}

static void t_digest(void)
{
	static const char *const a[] = {"https://a.example/users/1", "https://a.example/users/2",
					"https://a.example/users/3"};
	static const char *const b[] = {"http://b.example:8080/u/x"};
	struct store *st = open_store();
	char hex[AP_SYNC_DIGEST_HEX], want[65];
	int64_t n = -1;
	struct err e = {0};

	if (st == NULL)
		return;
	/* No follower: 32 zero bytes. */
	CHECK_INT(ap_sync_digest(st, "a.example", hex, &n, &e), BB_OK);
	CHECK_STR(hex, "0000000000000000000000000000000000000000000000000000000000000000");
	CHECK_INT(n, 0);
	for (size_t i = 0; i < 3; i++)
		put(st, a[i]);
	put(st, b[0]);
	put(st, "https://a.example.org/users/1"); /* another server, a longer name */
	CHECK_INT(ap_sync_digest(st, "a.example", hex, &n, &e), BB_OK);
	expected(a, 3, want);
	CHECK_STR(hex, want);
	CHECK_INT(n, 3);
	CHECK_INT(ap_sync_digest(st, "b.example:8080", hex, &n, &e), BB_OK);
	expected(b, 1, want);
	CHECK_STR(hex, want);
	CHECK_INT(n, 1);
	CHECK_INT(ap_sync_digest(st, "b.example", hex, &n, &e), BB_OK);
	CHECK_INT(n, 0);
	/* An unfollow changes it: what is left. */
	CHECK_INT(store_follower_remove(st, a[1], &e), BB_OK);
	CHECK_INT(ap_sync_digest(st, "a.example", hex, &n, &e), BB_OK);
	{
		const char *left[] = {a[0], a[2]};
		expected(left, 2, want);
	}
	CHECK_STR(hex, want);
	CHECK_INT(n, 2);
	store_close(st);
}

static void t_render(void)
{
	struct store *st = open_store();
	char *json = NULL;
	json_t *j, *items;
	struct err e = {0};

	if (st == NULL)
		return;
	put(st, "https://a.example/users/1");
	put(st, "https://a.example/users/2");
	put(st, "https://c.example/users/1");
	CHECK_INT(ap_sync_render(st, BASE, "a.example", &json, &e), BB_OK);
	j = json ? json_loads(json, 0, NULL) : NULL;
	CHECK(j != NULL);
	if (j) {
		CHECK_STR(json_string_value(json_object_get(j, "type")), "OrderedCollection");
		CHECK_STR(json_string_value(json_object_get(j, "id")),
			  BASE "/ap/actor/followers/sync?host=a.example");
		items = json_object_get(j, "orderedItems");
		CHECK_INT((long long)json_array_size(items), 2);
		CHECK_INT(json_integer_value(json_object_get(j, "totalItems")), 2);
		CHECK_STR(json_string_value(json_array_get(items, 0)), "https://a.example/users/1");
		CHECK_STR(json_string_value(json_array_get(items, 1)), "https://a.example/users/2");
	}
	json_decref(j);
	free(json);
	store_close(st);
}

static void t_header(void)
{
	char hex[65];
	char *h, *u;

	memset(hex, 'a', 64);
	hex[64] = '\0';
	h = ap_sync_header(BASE, FOLLOWERS, "m.example:8443", hex);
	CHECK_STR(h, "collectionId=\"" FOLLOWERS "\", url=\"" BASE
		     "/ap/actor/followers/sync?host=m.example:8443\", digest=\""
		     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"");
	free(h);
	u = ap_sync_url(BASE, "we ird&x");
	CHECK_STR(u, BASE "/ap/actor/followers/sync?host=we%20ird%26x");
	free(u);
}

static void t_addressed(void)
{
	CHECK(ap_sync_addressed("{\"cc\":[\"" FOLLOWERS "\"]}", FOLLOWERS));
	CHECK(ap_sync_addressed("{\"to\":\"x\",\"cc\":\"" FOLLOWERS "\"}", FOLLOWERS));
	/* An Accept names our actor, not our followers. */
	CHECK(
	    !ap_sync_addressed("{\"type\":\"Accept\",\"actor\":\"" BASE "/ap/actor\"}", FOLLOWERS));
	/* A longer URL that begins with it is not it. */
	CHECK(!ap_sync_addressed("{\"cc\":[\"" FOLLOWERS "/sync\"]}", FOLLOWERS));
	CHECK(!ap_sync_addressed("{\"cc\":[\"x" FOLLOWERS "\"]}", FOLLOWERS));
}

/* The header is covered: the request verifies as sent, and not once the
 * header's value is changed. */
static void t_signed(void)
{
	const char *dir = check_tmpdir();
	char path[512];
	const char *body = "{\"type\":\"Create\"}";
	const char *value = "collectionId=\"" FOLLOWERS "\", url=\"u\", digest=\"00\"";
	const char *url = "https://m.example/inbox";
	struct key *k = NULL;
	struct pubkey *pk = NULL;
	struct err e = {0};

	snprintf(path, sizeof(path), "%s/k.pem", dir);
	CHECK_INT(key_load_or_create(path, &k, NULL, &e), BB_OK);
	if (k == NULL)
		return;
	CHECK_INT(pubkey_from_pem(key_public_pem(k), &pk, &e), BB_OK);
	for (int scheme = HTTPSIG_CAVAGE; scheme <= HTTPSIG_RFC9421; scheme++) {
		for (int alter = 0; alter < 2; alter++) {
			struct httpsig_header extra = {AP_SYNC_HEADER, value};
			struct httpsig_signed s = {0};
			struct httpsig_header h[8];
			struct httpsig_message m;
			struct httpsig *sig = NULL;
			size_t n = 0;
			enum bb_rc rc;

			CHECK_INT(httpsig_sign_extra(scheme, k, BASE "/ap/actor#main-key", "POST",
						     url, "application/activity+json", body,
						     strlen(body), &extra, time(NULL), &s, &e),
				  BB_OK);
			if (s.signature == NULL)
				continue;
			if (scheme == HTTPSIG_CAVAGE)
				CHECK(strstr(s.signature,
					     "headers=\"(request-target) host date digest "
					     "content-type collection-synchronization\"") != NULL);
			else
				CHECK(strstr(s.signature_input,
					     "\"content-digest\" "
					     "\"collection-synchronization\")") != NULL);
			h[n++] = (struct httpsig_header){"Host", s.host};
			h[n++] = (struct httpsig_header){"Date", s.date};
			h[n++] =
			    (struct httpsig_header){"Content-Type", "application/activity+json"};
			if (s.digest)
				h[n++] = (struct httpsig_header){"Digest", s.digest};
			if (s.content_digest)
				h[n++] =
				    (struct httpsig_header){"Content-Digest", s.content_digest};
			if (s.signature_input)
				h[n++] =
				    (struct httpsig_header){"Signature-Input", s.signature_input};
			h[n++] = (struct httpsig_header){"Signature", s.signature};
			h[n++] = (struct httpsig_header){AP_SYNC_HEADER,
							 alter ? "collectionId=\"x\"" : value};
			m = (struct httpsig_message){"POST", url, h, n, body, strlen(body)};
			rc = httpsig_parse(&m, time(NULL), &sig, &e);
			CHECK_INT(rc, BB_OK);
			if (rc == BB_OK)
				CHECK_INT(httpsig_verify(sig, &m, pk, &e),
					  alter ? BB_ERR_AUTH : BB_OK);
			httpsig_free(sig);
			httpsig_signed_clear(&s);
		}
	}
	/* A header that cannot be signed as given. */
	{
		struct httpsig_header bad = {AP_SYNC_HEADER, "a\r\nX: y"};
		struct httpsig_signed s = {0};
		CHECK_INT(httpsig_sign_extra(HTTPSIG_CAVAGE, k, "k", "POST", url, NULL, body,
					     strlen(body), &bad, time(NULL), &s, &e),
			  BB_ERR_INVALID);
	}
	pubkey_free(pk);
	key_free(k);
}

static const struct check_case cases[] = {
    {"digest", t_digest},	{"render", t_render}, {"header", t_header},
    {"addressed", t_addressed}, {"signed", t_signed},
};

CHECK_MAIN(cases)
