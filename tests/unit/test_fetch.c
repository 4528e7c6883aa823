/*
 * test_fetch.c — unit tests for activitypub/fetch and activitypub/remote.
 *
 * The address policy is checked against a table of every refused range
 * (both families, IPv4-mapped, -compatible, NAT64 and 6to4 forms) and of
 * public addresses on each range's edges; the URL policy against good,
 * refused and malformed URLs.  Everything else runs against a real HTTP
 * server on 127.0.0.1 (libmicrohttpd, a random port) playing a remote
 * instance: actors, keys (embedded, in an array, standalone), WebFinger,
 * redirects, an oversize body (plain and gzip), a slow answer, wrong
 * content types and ids, foreign keys, 404/410/429/5xx.  The server checks
 * every signed GET with httpsig_parse/httpsig_verify against our public
 * key, so signing is proven end to end, and it counts requests, so the SSRF
 * guard is seen to refuse before anything is sent.
 */
#include "check.h"

#include "fetch.h"
#include "httpsig.h"
#include "key.h"
#include "remote.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define AS_CTX "https://www.w3.org/ns/activitystreams"
#define SEC_CTX "https://w3id.org/security/v1"
#define AP_JSON "application/activity+json"
#define LD_JSON_AS "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""
#define BOMB_SIZE (2 * 1024 * 1024) /* decoded size of the gzip bomb */
#define MAX_HEADERS 64

#define CHECK_RC(got, want, e)                                                                \
	do {                                                                                  \
		enum bb_rc check_g_ = (got), check_w_ = (want);                               \
		if (check_g_ != check_w_)                                                     \
			check_fail(__FILE__, __LINE__, "%s: %s != %s (%s)", #got,             \
				   err_code_name(check_g_), err_code_name(check_w_), (e)->msg);   \
	} while (0)

/* ---- the test server ---------------------------------------------------- */

static struct {
	struct MHD_Daemon *d;
	unsigned port;
	char base[64];      /* "http://127.0.0.1:PORT" */
	char authority[32]; /* "127.0.0.1:PORT" */
	const char *dir;
	struct key *key, *other; /* ours (the fetcher's, also alice's), another actor's */
	struct pubkey *pub;
	char key_id[128]; /* the keyId we sign with */
	unsigned char *bomb;
	size_t bomb_len;
	unsigned char *small_gz;
	size_t small_gz_len;

	pthread_mutex_t lock; /* guards what the server saw, below */
	int requests;
	int signed_ok, signed_bad, unsigned_n;
	int webfinger_n, webfinger_signed;
	char last_host[128];
	char last_key_id[256];
	char last_accept_encoding[128];
	char last_sig_error[BB_ERR_MSG_MAX];
} srv = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* What the server saw, copied under the lock. */
struct seen {
	int requests, signed_ok, signed_bad, unsigned_n, webfinger_n, webfinger_signed;
	char last_host[128];
	char last_key_id[256];
	char last_accept_encoding[128];
};

static struct seen seen_now(void)
{
	struct seen s;

	pthread_mutex_lock(&srv.lock);
	s.requests = srv.requests;
	s.signed_ok = srv.signed_ok;
	s.signed_bad = srv.signed_bad;
	s.unsigned_n = srv.unsigned_n;
	s.webfinger_n = srv.webfinger_n;
	s.webfinger_signed = srv.webfinger_signed;
	memcpy(s.last_host, srv.last_host, sizeof(s.last_host));
	memcpy(s.last_key_id, srv.last_key_id, sizeof(s.last_key_id));
	memcpy(s.last_accept_encoding, srv.last_accept_encoding, sizeof(s.last_accept_encoding));
	pthread_mutex_unlock(&srv.lock);
	return s;
}

/* One request as the handlers see it. */
struct req {
	struct MHD_Connection *c;
	const char *path; /* without the query */
	bool sig_ok;      /* carried a signature that verified with our key */
};

static char *url_of(const char *path)
{
	size_t n = strlen(srv.base) + strlen(path) + 1;
	char *s = malloc(n);

	if (s == NULL)
		abort();
	snprintf(s, n, "%s%s", srv.base, path);
	return s;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *ctype,
			     const void *body, size_t len, const char *location,
			     const char *encoding)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	if ((ctype && MHD_add_response_header(r, "Content-Type", ctype) != MHD_YES) ||
	    (location && MHD_add_response_header(r, "Location", location) != MHD_YES) ||
	    (encoding && MHD_add_response_header(r, "Content-Encoding", encoding) != MHD_YES)) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *ctype,
				  const char *text)
{
	return reply(c, status, ctype, text, strlen(text), NULL, NULL);
}

/* Sends j (consumed) as JSON of type ctype. */
static enum MHD_Result reply_json(struct MHD_Connection *c, const char *ctype, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	enum MHD_Result ret;

	json_decref(j);
	if (s == NULL)
		return MHD_NO;
	ret = reply_text(c, MHD_HTTP_OK, ctype, s);
	free(s);
	return ret;
}

static json_t *key_obj(const char *id_path, const char *owner_path, const struct key *k)
{
	char *id = url_of(id_path), *owner = url_of(owner_path);
	json_t *o = json_pack("{s:s, s:s}", "id", id, "owner", owner);

	free(id);
	free(owner);
	if (o && k && json_object_set_new(o, "publicKeyPem", json_string(key_public_pem(k))) != 0)
		abort();
	return o;
}

/* A Person at path, its key "path#main-key" (alice's key) embedded. */
static json_t *actor_obj(const char *path, const char *username)
{
	char *id = url_of(path), *inbox = url_of("/inbox"), *kid;
	size_t n = strlen(path) + 16;
	json_t *a;

	kid = malloc(n);
	if (kid == NULL)
		abort();
	snprintf(kid, n, "%s#main-key", path);
	a = json_pack("{s:[s,s], s:s, s:s, s:s, s:s, s:{s:s}, s:o}", "@context", AS_CTX, SEC_CTX,
		      "id", id, "type", "Person", "preferredUsername", username, "inbox", inbox,
		      "endpoints", "sharedInbox", inbox, "publicKey", key_obj(kid, path, srv.key));
	free(id);
	free(inbox);
	free(kid);
	if (a == NULL)
		abort();
	return a;
}

static void set_str(json_t *o, const char *key, const char *value)
{
	if (json_object_set_new(o, key, json_string(value)) != 0)
		abort();
}

static void set_url(json_t *o, const char *key, const char *path)
{
	char *u = url_of(path);

	set_str(o, key, u);
	free(u);
}

/* Nests an empty array levels deep (levels >= 1). */
static json_t *nested(int levels)
{
	json_t *j = json_array();

	for (int i = 1; i < levels; i++) {
		json_t *outer = json_array();
		if (outer == NULL || json_array_append_new(outer, j) != 0)
			abort();
		j = outer;
	}
	return j;
}

/* Variations of the actor, one per path. */
static void tw_none(json_t *a)
{
	(void)a;
}
static void tw_wrong_id(json_t *a)
{
	set_url(a, "id", "/actor");
}
static void tw_thief(json_t *a) /* its key claims alice as owner */
{
	set_url(json_object_get(a, "publicKey"), "owner", "/actor");
}
static void tw_multi(json_t *a)
{
	json_t *keys = json_pack("[o,o]", key_obj("/multi2#other", "/multi2", srv.other),
				 key_obj("/multi2#main-key", "/multi2", srv.key));
	if (keys == NULL || json_object_set_new(a, "publicKey", keys) != 0)
		abort();
}
static void tw_nokey(json_t *a)
{
	json_object_del(a, "publicKey");
}
static void tw_badpem(json_t *a)
{
	set_str(json_object_get(a, "publicKey"), "publicKeyPem",
		"-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n");
}
static void tw_noinbox(json_t *a)
{
	json_object_del(a, "inbox");
}
static void tw_ftpinbox(json_t *a)
{
	set_str(a, "inbox", "ftp://127.0.0.1/inbox");
}
static void tw_note(json_t *a)
{
	set_str(a, "type", "Note");
}
static void tw_ctx(json_t *a)
{
	set_str(a, "@context", "https://example.com/not-activitystreams");
}
static void tw_ctx_str(json_t *a) /* @context a plain string, type an array, sharedInbox on top */
{
	set_str(a, "@context", AS_CTX);
	if (json_object_set_new(a, "type", json_pack("[s,s]", "Other", "Service")) != 0)
		abort();
	json_object_del(a, "endpoints");
	set_url(a, "sharedInbox", "/top-shared");
}
static void tw_profile(json_t *a) /* name (over 256 bytes), icon Image, url Link array */
{
	char name[300];

	memset(name, 'n', sizeof(name));
	memcpy(name + 255, "\xc3\xa9", 2); /* a character across byte 256 */
	name[sizeof(name) - 1] = '\0';
	set_str(a, "name", name);
	if (json_object_set_new(a, "icon",
				json_pack("{s:s, s:s, s:s}", "type", "Image", "mediaType",
					  "image/png", "url", "https://cdn.example/a.png")) != 0 ||
	    json_object_set_new(a, "url",
				json_pack("[s, {s:s, s:s}]", "javascript:x", "type", "Link",
					  "href", "https://p.example/@profile")) != 0)
		abort();
}
static void tw_deep32(json_t *a)
{
	if (json_object_set_new(a, "x", nested(31)) != 0) /* 1 + 31 levels */
		abort();
}
static void tw_deep33(json_t *a)
{
	if (json_object_set_new(a, "x", nested(32)) != 0)
		abort();
}
static void tw_owner(json_t *a) /* lists the standalone /keys/1, no PEM */
{
	if (json_object_set_new(a, "publicKey", key_obj("/keys/1", "/owner", NULL)) != 0)
		abort();
}
static void tw_owner5(json_t *a)
{
	json_t *keys = json_pack("[o,o,o,o]", key_obj("/keys/5", "/owner5", NULL),
				 key_obj("/keys/6", "/owner5", NULL),
				 key_obj("/keys/7", "/owner5", NULL),
				 key_obj("/keys/8", "/owner5", NULL));
	if (keys == NULL || json_object_set_new(a, "publicKey", keys) != 0)
		abort();
}
static void tw_ext_key(json_t *a) /* first key lives at /keys/3; embedded PEM is a lie */
{
	if (json_object_set_new(a, "publicKey", key_obj("/keys/3", "/ext-key", srv.other)) != 0)
		abort();
}
static void tw_ext_liar(json_t *a) /* claims /keys/1, which /owner owns */
{
	if (json_object_set_new(a, "publicKey", key_obj("/keys/1", "/ext-liar", srv.key)) != 0)
		abort();
}

static const struct actor_route {
	const char *path;
	const char *username;
	const char *ctype;
	void (*tweak)(json_t *a);
} actor_routes[] = {
	{"/actor", "alice", AP_JSON "; charset=utf-8", tw_none},
	{"/bob", "bob", AP_JSON, tw_none},
	{"/multi", "multi", AP_JSON, tw_none},
	{"/multi2", "multi2", AP_JSON, tw_multi},
	{"/wrong-id", "alice", AP_JSON, tw_wrong_id},
	{"/thief", "thief", AP_JSON, tw_thief},
	{"/nokey", "nokey", AP_JSON, tw_nokey},
	{"/badpem", "badpem", AP_JSON, tw_badpem},
	{"/noinbox", "noinbox", AP_JSON, tw_noinbox},
	{"/ftpinbox", "ftpinbox", AP_JSON, tw_ftpinbox},
	{"/note", "note", AP_JSON, tw_note},
	{"/ctx", "ctx", AP_JSON, tw_ctx},
	{"/ctx-str", "ctxstr", AP_JSON, tw_ctx_str},
	{"/profile", "profile", AP_JSON, tw_profile},
	{"/ld", "ld", "application/ld+json; profile=\"https://example.com/p " AS_CTX "\"",
	 tw_none},
	{"/ld-bare", "ld", "application/ld+json", tw_none},
	{"/json", "json", "application/json", tw_none},
	{"/html", "html", "text/html; charset=utf-8", tw_none},
	{"/deep32", "deep", AP_JSON, tw_deep32},
	{"/deep33", "deep", AP_JSON, tw_deep33},
	{"/owner", "owner", AP_JSON, tw_owner},
	{"/owner5", "owner5", AP_JSON, tw_owner5},
	{"/ext-key", "ext", AP_JSON, tw_ext_key},
	{"/ext-liar", "liar", AP_JSON, tw_ext_liar},
	{"/same-origin", "same", AP_JSON, tw_none},
	{"/cross-origin", "cross", AP_JSON, tw_none},
};

/* Actor documents served at another path than their id (after redirects). */
static const struct {
	const char *path, *id_path;
} actor_aliases[] = {
	{"/same-origin-doc", "/same-origin"},
	{"/cross-origin-doc", "/cross-origin"},
};

static enum MHD_Result serve_actor(struct req *rq, const char *id_path)
{
	for (size_t i = 0; i < sizeof(actor_routes) / sizeof(actor_routes[0]); i++) {
		const struct actor_route *r = &actor_routes[i];
		json_t *a;

		if (strcmp(r->path, id_path) != 0)
			continue;
		a = actor_obj(r->path, r->username);
		r->tweak(a);
		return reply_json(rq->c, r->ctype, a);
	}
	return MHD_NO;
}

/* Standalone keys. */
static const struct {
	const char *path, *owner, *id_path, *ctx;
	bool bad_pem;
} key_routes[] = {
	{"/keys/1", "/owner", "/keys/1", SEC_CTX, false},     /* /owner lists it */
	{"/keys/2", "/actor", "/keys/2", AS_CTX, false},      /* alice does not list it */
	{"/keys/3", "/ext-key", "/keys/3", SEC_CTX, false},   /* confirms /ext-key's first key */
	{"/keys/4", "/owner", "/keys/other", SEC_CTX, false}, /* wrong id */
	/* /owner5 lists 5, 6 and 7; only 7 is sound. */
	{"/keys/5", "/owner5", "/keys/5-other", SEC_CTX, false},
	{"/keys/6", "/owner5", "/keys/6", SEC_CTX, true},
	{"/keys/7", "/owner5", "/keys/7", AS_CTX, false},
	{"/keys/8", "/owner5", "/keys/8", "https://example.com/ctx", false},
};

static enum MHD_Result serve_key(struct req *rq, size_t i)
{
	json_t *k = key_obj(key_routes[i].id_path, key_routes[i].owner, srv.key);

	if (k == NULL || json_object_set_new(k, "@context", json_string(key_routes[i].ctx)) != 0)
		abort();
	if (key_routes[i].bad_pem)
		set_str(k, "publicKeyPem",
			"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
	return reply_json(rq->c, LD_JSON_AS, k);
}

/* WebFinger: alice loops back, bob points elsewhere, multi has a wrong type. */
static enum MHD_Result serve_webfinger(struct req *rq)
{
	static const struct {
		const char *user, *href, *type;
	} jrds[] = {
		{"alice", "/actor", AP_JSON},
		{"bob", "/someone-else", AP_JSON},
		{"multi", "/multi", AP_JSON "; charset=utf-8"}, /* not one Mastodon accepts */
		{"multi2", "/multi2", LD_JSON_AS},
	};
	const char *res = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, "resource");
	char want[128];

	for (size_t i = 0; res && i < sizeof(jrds) / sizeof(jrds[0]); i++) {
		char *href;
		json_t *j;

		snprintf(want, sizeof(want), "acct:%s@%s", jrds[i].user, srv.authority);
		if (strcmp(res, want) != 0)
			continue;
		href = url_of(jrds[i].href);
		j = json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "subject", want, "links", "rel", "self",
			      "type", jrds[i].type, "href", href);
		free(href);
		return reply_json(rq->c, "application/jrd+json", j);
	}
	return reply_text(rq->c, MHD_HTTP_NOT_FOUND, "text/plain", "no such account");
}

/* Redirects and plain answers, by path. */
static const struct {
	const char *path;
	unsigned status;
	const char *location; /* "@" prefix: relative to srv.base */
} redirects[] = {
	{"/r/1", 302, "/r/0"},           /* relative */
	{"/r/2", 301, "/r/1"},
	{"/r/3", 307, "/r/2"},
	{"/r/4", 308, "/r/3"},
	{"/r/abs", 303, "@/plain"},      /* absolute */
	{"/r/ftp", 302, "ftp://127.0.0.1/plain"},
	{"/r/file", 302, "file:///etc/passwd"},
	{"/r/gopher", 302, "gopher://127.0.0.1:70/"},
	{"/r/signed", 302, "/signed-only?x=1"},
	{"/r/none", 302, NULL},
	{"/same-origin", 302, "/same-origin-doc"},
	{"/cross-origin", 302, "cross"}, /* http://localhost:PORT/cross-origin-doc */
};

static enum MHD_Result serve_redirect(struct req *rq, size_t i)
{
	char loc[256];

	if (redirects[i].location == NULL)
		return reply_text(rq->c, redirects[i].status, "text/plain", "moved");
	if (redirects[i].location[0] == '@')
		snprintf(loc, sizeof(loc), "%s%s", srv.base, redirects[i].location + 1);
	else if (strcmp(redirects[i].location, "cross") == 0)
		snprintf(loc, sizeof(loc), "http://localhost:%u/cross-origin-doc", srv.port);
	else
		snprintf(loc, sizeof(loc), "%s", redirects[i].location);
	return reply(rq->c, redirects[i].status, "text/plain", "moved", 5, loc, NULL);
}

/* Everything that is neither actor, key nor redirect. */
static enum MHD_Result serve_misc(struct req *rq)
{
	const char *p = rq->path;
	static const unsigned statuses[] = {403, 404, 410, 429, 500, 503};

	if (strcmp(p, "/plain") == 0 || strcmp(p, "/r/0") == 0)
		return reply_text(rq->c, MHD_HTTP_OK, "text/plain", "hello");
	if (strcmp(p, "/signed-only") == 0) /* authorized fetch */
		return rq->sig_ok ? reply_text(rq->c, MHD_HTTP_OK, "text/plain", "secret")
				  : reply_text(rq->c, MHD_HTTP_UNAUTHORIZED, "application/json",
					       "{\"error\":\"Request not signed\"}");
	if (strcmp(p, "/dup") == 0) {
		/* alice's document with inbox given twice (both good URLs). */
		json_t *a = actor_obj("/dup", "dup");
		char *s = json_dumps(a, JSON_COMPACT), *inbox = url_of("/inbox"), *dup;
		enum MHD_Result ret;
		size_t n;

		json_decref(a);
		if (s == NULL || s[0] != '{')
			abort();
		n = strlen(s) + strlen(inbox) + 32;
		if ((dup = malloc(n)) == NULL)
			abort();
		snprintf(dup, n, "{\"inbox\":\"%s\",%s", inbox, s + 1);
		ret = reply_text(rq->c, MHD_HTTP_OK, AP_JSON, dup);
		free(s);
		free(inbox);
		free(dup);
		return ret;
	}
	if (strcmp(p, "/big") == 0 || strcmp(p, "/big-ap") == 0) {
		size_t n = FETCH_BODY_MAX + 1;
		char *body = malloc(n);
		enum MHD_Result ret;

		if (body == NULL)
			abort();
		memset(body, ' ', n);
		body[0] = '{';
		ret = reply(rq->c, MHD_HTTP_OK, AP_JSON, body, n, NULL, NULL);
		free(body);
		return ret;
	}
	if (strcmp(p, "/gzip-small") == 0)
		return reply(rq->c, MHD_HTTP_OK, "text/plain", srv.small_gz, srv.small_gz_len, NULL,
			     "gzip");
	if (strcmp(p, "/gzip-bomb") == 0)
		return reply(rq->c, MHD_HTTP_OK, "text/plain", srv.bomb, srv.bomb_len, NULL,
			     "gzip");
	if (strcmp(p, "/slow") == 0) {
		sleep(2);
		return reply_text(rq->c, MHD_HTTP_OK, "text/plain", "late");
	}
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		char sp[32];
		snprintf(sp, sizeof(sp), "/status/%u", statuses[i]);
		if (strcmp(p, sp) == 0)
			return reply_text(rq->c, statuses[i], AP_JSON, "{}");
	}
	return reply_text(rq->c, MHD_HTTP_NOT_FOUND, "text/plain", "not found");
}

struct header_list {
	struct httpsig_header h[MAX_HEADERS];
	size_t n;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	struct header_list *l = cls;

	(void)kind;
	if (l->n < MAX_HEADERS) {
		l->h[l->n].name = key;
		l->h[l->n].value = value ? value : "";
		l->n++;
	}
	return MHD_YES;
}

/* Verifies the request's signature (if any) with our public key, the way
 * a Mastodon in authorized-fetch mode would, and records the outcome. */
static bool check_signature(struct MHD_Connection *c, const char *raw_uri)
{
	struct header_list hl = {.n = 0};
	struct httpsig_message m = {0};
	struct httpsig *s = NULL;
	struct err e = {0};
	const char *host, *sig, *ae;
	char target[1024];
	bool ok = false;

	MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &hl);
	host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Signature");
	ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
	snprintf(target, sizeof(target), "http://%s%s", host ? host : "", raw_uri);
	m.method = "GET";
	m.target_uri = target;
	m.headers = hl.h;
	m.header_count = hl.n;
	if (sig && httpsig_parse(&m, time(NULL), &s, &e) == BB_OK &&
	    httpsig_verify(s, &m, srv.pub, &e) == BB_OK)
		ok = true;
	pthread_mutex_lock(&srv.lock);
	srv.requests++;
	if (sig == NULL)
		srv.unsigned_n++;
	else if (ok)
		srv.signed_ok++;
	else
		srv.signed_bad++;
	snprintf(srv.last_host, sizeof(srv.last_host), "%s", host ? host : "");
	snprintf(srv.last_accept_encoding, sizeof(srv.last_accept_encoding), "%s", ae ? ae : "");
	if (s)
		snprintf(srv.last_key_id, sizeof(srv.last_key_id), "%s", httpsig_key_id(s));
	if (sig && !ok)
		snprintf(srv.last_sig_error, sizeof(srv.last_sig_error), "%s", e.msg);
	if (strncmp(raw_uri, "/.well-known/webfinger", 22) == 0) {
		srv.webfinger_n++;
		srv.webfinger_signed += sig != NULL;
	}
	pthread_mutex_unlock(&srv.lock);
	httpsig_free(s);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	struct req rq = {.c = c, .path = url};

	(void)cls;
	(void)version;
	(void)upload;
	(void)upload_size;
	if (strcmp(method, "GET") != 0)
		return MHD_NO;
	rq.sig_ok = check_signature(c, *req_cls ? (const char *)*req_cls : url);
	if (strcmp(url, "/.well-known/webfinger") == 0)
		return serve_webfinger(&rq);
	for (size_t i = 0; i < sizeof(redirects) / sizeof(redirects[0]); i++)
		if (strcmp(url, redirects[i].path) == 0)
			return serve_redirect(&rq, i);
	for (size_t i = 0; i < sizeof(key_routes) / sizeof(key_routes[0]); i++)
		if (strcmp(url, key_routes[i].path) == 0)
			return serve_key(&rq, i);
	for (size_t i = 0; i < sizeof(actor_aliases) / sizeof(actor_aliases[0]); i++)
		if (strcmp(url, actor_aliases[i].path) == 0)
			return serve_actor(&rq, actor_aliases[i].id_path);
	for (size_t i = 0; i < sizeof(actor_routes) / sizeof(actor_routes[0]); i++)
		if (strcmp(url, actor_routes[i].path) == 0)
			return serve_actor(&rq, url);
	return serve_misc(&rq);
}

/* The raw request target (with its query), kept for signature checks. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	(void)cls;
	(void)c;
	return strdup(uri);
}

static void on_done(void *cls, struct MHD_Connection *c, void **req_cls,
		    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*req_cls);
	*req_cls = NULL;
}

/* gzip-compresses in into *out (malloc'd). */
static bool gzip_make(const void *in, size_t len, unsigned char **out, size_t *outlen)
{
	z_stream z = {0};
	size_t cap = len / 100 + 1024;

	*out = malloc(cap);
	if (*out == NULL || deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)len;
	z.next_out = *out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		return false;
	}
	*outlen = z.total_out;
	return deflateEnd(&z) == Z_OK;
}

static bool server_start(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	const union MHD_DaemonInfo *info;
	struct err e = {0};
	char *path, *zeros;
	bool ok;

	srv.dir = check_tmpdir();
	path = malloc(strlen(srv.dir) + 16);
	if (path == NULL)
		return false;
	snprintf(path, strlen(srv.dir) + 16, "%s/ours.pem", srv.dir);
	ok = key_load_or_create(path, &srv.key, NULL, &e) == BB_OK;
	snprintf(path, strlen(srv.dir) + 16, "%s/other.pem", srv.dir);
	ok = ok && key_load_or_create(path, &srv.other, NULL, &e) == BB_OK &&
	     pubkey_from_key(srv.key, &srv.pub, &e) == BB_OK;
	free(path);
	if (!ok) {
		fprintf(stderr, "keys: %s\n", e.msg);
		return false;
	}
	zeros = calloc(1, BOMB_SIZE);
	ok = zeros && gzip_make(zeros, BOMB_SIZE, &srv.bomb, &srv.bomb_len) &&
	     gzip_make("hello gzip", 10, &srv.small_gz, &srv.small_gz_len);
	free(zeros);
	if (!ok)
		return false;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv.d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
				 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, &sa,
				 MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
				 MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_END);
	if (srv.d == NULL)
		return false;
	info = MHD_get_daemon_info(srv.d, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL || info->port == 0)
		return false;
	srv.port = info->port;
	snprintf(srv.authority, sizeof(srv.authority), "127.0.0.1:%u", srv.port);
	snprintf(srv.base, sizeof(srv.base), "http://%s", srv.authority);
	snprintf(srv.key_id, sizeof(srv.key_id), "https://blog.example/ap/actor#main-key");
	return true;
}

static void server_stop(void)
{
	if (srv.d)
		MHD_stop_daemon(srv.d);
	key_free(srv.key);
	key_free(srv.other);
	pubkey_free(srv.pub);
	free(srv.bomb);
	free(srv.small_gz);
	if (srv.dir)
		check_tmpdir_remove(srv.dir);
}

/* A fetch configuration: signed or not, private addresses allowed or not. */
static struct fetch_config config(bool sign, bool allow_private)
{
	struct fetch_config c = {0};

	c.key = sign ? srv.key : NULL;
	c.key_id = sign ? srv.key_id : NULL;
	c.allow_private = allow_private;
	c.timeout_s = 5;
	snprintf(c.user_agent, sizeof(c.user_agent), "blogbridge-test/1");
	return c;
}

/* ---- the address and URL policies -------------------------------------------- */

static const struct {
	const char *addr;
	bool allowed;
} addresses[] = {
	/* IPv4, refused: each range and its edges */
	{"0.0.0.0", false}, {"0.255.255.255", false}, {"10.0.0.1", false},
	{"10.255.255.255", false}, {"100.64.0.0", false}, {"100.127.255.255", false},
	{"127.0.0.1", false}, {"127.255.255.254", false}, {"169.254.0.1", false},
	{"169.254.169.254", false}, {"172.16.0.1", false}, {"172.31.255.255", false},
	{"192.0.0.1", false}, {"192.0.0.255", false}, {"192.168.0.1", false},
	{"192.168.255.255", false}, {"198.18.0.1", false}, {"198.19.255.255", false},
	{"224.0.0.1", false}, {"239.255.255.250", false}, {"240.0.0.1", false},
	{"255.255.255.254", false}, {"255.255.255.255", false},
	/* IPv4, public: just outside each range */
	{"1.1.1.1", true}, {"8.8.8.8", true}, {"9.255.255.255", true}, {"11.0.0.0", true},
	{"100.63.255.255", true}, {"100.128.0.0", true}, {"126.255.255.255", true},
	{"128.0.0.0", true}, {"169.253.255.255", true}, {"169.255.0.0", true},
	{"172.15.255.255", true}, {"172.32.0.0", true}, {"191.255.255.255", true},
	{"192.0.1.0", true}, {"192.167.255.255", true}, {"192.169.0.0", true},
	{"198.17.255.255", true}, {"198.20.0.0", true}, {"223.255.255.255", true},
	{"93.184.216.34", true},
	/* IPv6, refused */
	{"::", false}, {"::1", false}, {"fc00::1", false}, {"fdff:ffff::1", false},
	{"fe80::1", false}, {"febf:ffff::1", false}, {"fec0::1", false}, {"ff02::1", false},
	{"ff0e::1", false}, {"::ffff:127.0.0.1", false}, {"::ffff:10.1.2.3", false},
	{"::ffff:169.254.169.254", false}, {"::ffff:192.168.1.1", false},
	{"::ffff:0.0.0.0", false}, {"::ffff:255.255.255.255", false},
	{"::127.0.0.1", false}, {"::10.0.0.1", false}, {"::172.16.0.1", false},
	{"64:ff9b::127.0.0.1", false}, {"64:ff9b::a9fe:a9fe", false},
	{"64:ff9b::192.168.0.1", false}, {"64:ff9b:1::1", false},
	{"2002:7f00:1::1", false}, {"2002:c0a8:101::1", false},
	/* IPv6, public (also mapped / embedded public IPv4) */
	{"2606:4700:4700::1111", true}, {"2001:4860:4860::8888", true}, {"2a00:1450::1", true},
	{"fbff::1", true}, {"fe7f::1", true}, {"fe00::1", true}, {"::ffff:8.8.8.8", true},
	{"::ffff:1.1.1.1", true}, {"::8.8.8.8", true}, {"64:ff9b::8.8.8.8", true},
	{"2002:808:808::1", true},
};

static void t_address_table(void)
{
	for (size_t i = 0; i < sizeof(addresses) / sizeof(addresses[0]); i++) {
		struct sockaddr_storage ss = {0};
		struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		const char *a = addresses[i].addr;
		int ok;

		if (strchr(a, ':')) {
			in6->sin6_family = AF_INET6;
			ok = inet_pton(AF_INET6, a, &in6->sin6_addr);
		} else {
			in4->sin_family = AF_INET;
			ok = inet_pton(AF_INET, a, &in4->sin_addr);
		}
		CHECK_INT(ok, 1);
		if (fetch_address_allowed((struct sockaddr *)&ss, false) != addresses[i].allowed)
			check_fail(__FILE__, __LINE__, "%s should be %s", a,
				   addresses[i].allowed ? "allowed" : "refused");
		if (!fetch_address_allowed((struct sockaddr *)&ss, true))
			check_fail(__FILE__, __LINE__, "%s refused with allow_private", a);
	}
}

static void t_address_other(void)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};

	CHECK(!fetch_address_allowed(NULL, false));
	CHECK(!fetch_address_allowed(NULL, true));
	CHECK(!fetch_address_allowed((struct sockaddr *)&un, false));
	CHECK(!fetch_address_allowed((struct sockaddr *)&un, true));
}

static void t_url_policy(void)
{
	static const struct {
		const char *url;
		bool strict, lax; /* allowed without / with allow_private */
	} urls[] = {
		{"https://example.com/", true, true},
		{"https://example.com", true, true},
		{"HTTPS://Example.COM:8443/a/b?c=d#frag", true, true},
		{"https://[2001:db8::1]/x", true, true},
		{"https://127.0.0.1/", true, true}, /* the address is checked on connect */
		{"http://example.com/", false, true},
		{"ftp://example.com/f", false, false},
		{"file:///etc/passwd", false, false},
		{"gopher://example.com/", false, false},
		{"ws://example.com/", false, false},
		{"javascript:alert(1)", false, false},
		{"data:text/plain,hi", false, false},
		{"", false, false},
		{"not a url", false, false},
		{"example.com/path", false, false},
		{"//example.com/path", false, false},
		{"https://", false, false},
		{"https:///path", false, false},
		{"https://?q", false, false},
		{"https://#f", false, false},
		{"https:/example.com/", false, false},
		{"https:example.com/", false, false},
		{"https://user:pw@example.com/", false, false},
		{"https://user@example.com/", false, false},
		{"https://exa mple.com/", false, false},
		{"https://example.com/a b", false, false},
		{"https://example.com/\n", false, false},
		{"https://example.com/\x7f", false, false},
	};
	char *longurl;

	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		if (fetch_url_allowed(urls[i].url, false) != urls[i].strict)
			check_fail(__FILE__, __LINE__, "'%s' strict: expected %d", urls[i].url,
				   urls[i].strict);
		if (fetch_url_allowed(urls[i].url, true) != urls[i].lax)
			check_fail(__FILE__, __LINE__, "'%s' lax: expected %d", urls[i].url,
				   urls[i].lax);
	}
	CHECK(!fetch_url_allowed(NULL, true));
	longurl = malloc(FETCH_URL_MAX + 2);
	if (longurl == NULL)
		abort();
	memcpy(longurl, "https://example.com/", 20);
	memset(longurl + 20, 'a', FETCH_URL_MAX + 1 - 20);
	longurl[FETCH_URL_MAX + 1] = '\0';
	CHECK(!fetch_url_allowed(longurl, false));
	longurl[FETCH_URL_MAX] = '\0';
	CHECK(fetch_url_allowed(longurl, false));
	free(longurl);
}

/* ---- fetch_get against the server --------------------------------------- */

/* GETs path from the test server (base + path unless path is absolute). */
static enum bb_rc get(const struct fetch_config *cfg, const char *path, size_t max,
		      struct fetch_result *r, struct err *e)
{
	char *u = strstr(path, "://") ? strdup(path) : url_of(path);
	enum bb_rc rc;

	if (u == NULL)
		abort();
	rc = fetch_get(cfg, u, "text/plain", max, r, e);
	free(u);
	return rc;
}

static void t_ssrf_guard(void)
{
	struct fetch_config strict = config(true, false), lax = config(true, true);
	struct fetch_result r = {0};
	struct err e = {0};
	struct seen before = seen_now();
	char u[128];

	/* https to loopback: the scheme passes, the address does not. */
	snprintf(u, sizeof(u), "https://127.0.0.1:%u/plain", srv.port);
	CHECK_RC(fetch_get(&strict, u, "text/plain", 100, &r, &e), BB_ERR_UNSAFE, &e);
	CHECK(check_contains(e.msg, "private or special address"));
	fetch_result_clear(&r);
	/* A DNS name that resolves to loopback, and the IPv6 loopback. */
	snprintf(u, sizeof(u), "https://localhost:%u/plain", srv.port);
	CHECK_RC(fetch_get(&strict, u, "text/plain", 100, &r, &e), BB_ERR_UNSAFE, &e);
	fetch_result_clear(&r);
	snprintf(u, sizeof(u), "https://[::1]:%u/plain", srv.port);
	CHECK_RC(fetch_get(&strict, u, "text/plain", 100, &r, &e), BB_ERR_UNSAFE, &e);
	fetch_result_clear(&r);
	snprintf(u, sizeof(u), "https://[::ffff:127.0.0.1]:%u/plain", srv.port);
	CHECK_RC(fetch_get(&strict, u, "text/plain", 100, &r, &e), BB_ERR_UNSAFE, &e);
	fetch_result_clear(&r);
	/* http is refused before any connection. */
	CHECK_RC(get(&strict, "/plain", 100, &r, &e), BB_ERR_UNSAFE, &e);
	fetch_result_clear(&r);
	CHECK_INT(seen_now().requests, before.requests);
	/* The same server, allowed. */
	CHECK_RC(get(&lax, "/plain", 100, &r, &e), BB_OK, &e);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.body, "hello");
	CHECK_INT(r.body_len, 5);
	CHECK_STR(r.content_type, "text/plain");
	fetch_result_clear(&r);
	snprintf(u, sizeof(u), "http://localhost:%u/plain", srv.port);
	CHECK_RC(fetch_get(&lax, u, "text/plain", 100, &r, &e), BB_OK, &e);
	CHECK_STR(r.body, "hello");
	fetch_result_clear(&r);
	CHECK_INT(seen_now().requests, before.requests + 2);
	/* And the remote layer says the same. */
	{
		struct store_actor a = {0};
		char *kid = url_of("/actor#main-key");
		CHECK_RC(remote_key_fetch(&strict, kid, time(NULL), &a, &e), BB_ERR_UNSAFE, &e);
		CHECK_RC(remote_actor_fetch(&strict, srv.base, time(NULL), &a, &e), BB_ERR_UNSAFE,
			 &e);
		CHECK(a.id == NULL);
		free(kid);
	}
}

static size_t discard(char *data, size_t size, size_t n, void *arg)
{
	(void)data;
	(void)arg;
	return size * n;
}

/* fetch_curl_policy on a handle of the caller's own. */
static void t_curl_policy(void)
{
	struct fetch_config strict = config(false, false), lax = config(false, true);
	struct fetch_guard g;
	struct err e = {0};
	struct seen before = seen_now();
	char u[128];
	CURL *h = curl_easy_init();

	if (h == NULL)
		abort();
	snprintf(u, sizeof(u), "https://127.0.0.1:%u/plain", srv.port);
	CHECK_RC(fetch_curl_policy(h, &strict, &e), BB_OK, &e);
	CHECK_INT(curl_easy_setopt(h, CURLOPT_URL, u), CURLE_OK);
	CHECK_INT(curl_easy_perform(h), CURLE_COULDNT_CONNECT);
	snprintf(u, sizeof(u), "http://127.0.0.1:%u/plain", srv.port);
	CHECK_INT(curl_easy_setopt(h, CURLOPT_URL, u), CURLE_OK);
	CHECK_INT(curl_easy_perform(h), CURLE_UNSUPPORTED_PROTOCOL);
	curl_easy_reset(h);
	snprintf(u, sizeof(u), "https://127.0.0.1:%u/plain", srv.port);
	CHECK_RC(fetch_curl_policy_guard(h, &strict, &g, &e), BB_OK, &e);
	CHECK_INT(curl_easy_setopt(h, CURLOPT_URL, u), CURLE_OK);
	CHECK(!g.refused);
	CHECK_INT(curl_easy_perform(h), CURLE_COULDNT_CONNECT);
	CHECK(g.refused);
	CHECK_INT(seen_now().requests, before.requests);
	/* With private addresses allowed the same handle type gets through
	 * (http), and nothing is marked refused. */
	curl_easy_reset(h);
	snprintf(u, sizeof(u), "http://127.0.0.1:%u/plain", srv.port);
	CHECK_RC(fetch_curl_policy_guard(h, &lax, &g, &e), BB_OK, &e);
	CHECK_INT(curl_easy_setopt(h, CURLOPT_URL, u), CURLE_OK);
	CHECK_INT(curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard), CURLE_OK);
	CHECK_INT(curl_easy_perform(h), CURLE_OK);
	CHECK(!g.refused);
	curl_easy_cleanup(h);
}

static void t_signed_get(void)
{
	struct fetch_config sig = config(true, true), unsig = config(false, true);
	struct fetch_result r = {0};
	struct err e = {0};
	struct seen s0 = seen_now(), s1;
	char u[128];

	CHECK_RC(get(&sig, "/signed-only", 100, &r, &e), BB_OK, &e);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.body, "secret");
	fetch_result_clear(&r);
	s1 = seen_now();
	CHECK_INT(s1.signed_ok, s0.signed_ok + 1);
	CHECK_INT(s1.signed_bad, s0.signed_bad);
	CHECK_STR(s1.last_key_id, srv.key_id);
	CHECK_STR(s1.last_host, srv.authority);
	/* The query is covered too; an upper-case host is signed and sent
	 * lower-cased, so what the server reads is what was signed. */
	CHECK_RC(get(&sig, "/signed-only?x=1&y=a%20b", 100, &r, &e), BB_OK, &e);
	CHECK_INT(r.status, 200);
	fetch_result_clear(&r);
	snprintf(u, sizeof(u), "http://LOCALHOST:%u/signed-only", srv.port);
	CHECK_RC(fetch_get(&sig, u, "text/plain", 100, &r, &e), BB_OK, &e);
	CHECK_INT(r.status, 200);
	fetch_result_clear(&r);
	s1 = seen_now();
	CHECK_INT(s1.signed_ok, s0.signed_ok + 3);
	CHECK_INT(s1.signed_bad, s0.signed_bad);
	/* Unsigned: the authorized-fetch endpoint refuses. */
	CHECK_RC(get(&unsig, "/signed-only", 100, &r, &e), BB_OK, &e);
	CHECK_INT(r.status, 401);
	fetch_result_clear(&r);
	CHECK_INT(seen_now().unsigned_n, s1.unsigned_n + 1);
	/* A key id the signer cannot quote is refused before sending. */
	sig.key_id = "https://blog.example/\"actor";
	CHECK_RC(get(&sig, "/signed-only", 100, &r, &e), BB_ERR_INVALID, &e);
	sig.key_id = NULL;
	CHECK_RC(get(&sig, "/signed-only", 100, &r, &e), BB_ERR_CONFIG, &e);
}

/* The server's verifier must be able to say no: a forged Signature. */
static void t_server_rejects_forgery(void)
{
	struct curl_slist *h = NULL;
	struct seen s0 = seen_now();
	char u[128], date[64], sighdr[512];
	long status = 0;
	time_t now = time(NULL);
	struct tm tm;
	CURL *c = curl_easy_init();

	if (c == NULL || gmtime_r(&now, &tm) == NULL)
		abort();
	strftime(date, sizeof(date), "Date: %a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(sighdr, sizeof(sighdr),
		 "Signature: keyId=\"%s\",algorithm=\"rsa-sha256\",headers=\"(request-target) "
		 "host date\",signature=\"%s\"",
		 srv.key_id, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	h = curl_slist_append(h, date);
	h = curl_slist_append(h, sighdr);
	snprintf(u, sizeof(u), "%s/signed-only", srv.base);
	CHECK(h != NULL);
	CHECK_INT(curl_easy_setopt(c, CURLOPT_URL, u), CURLE_OK);
	CHECK_INT(curl_easy_setopt(c, CURLOPT_HTTPHEADER, h), CURLE_OK);
	CHECK_INT(curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard), CURLE_OK);
	CHECK_INT(curl_easy_setopt(c, CURLOPT_PROXY, ""), CURLE_OK);
	CHECK_INT(curl_easy_perform(c), CURLE_OK);
	CHECK_INT(curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status), CURLE_OK);
	CHECK_INT(status, 401);
	CHECK_INT(seen_now().signed_bad, s0.signed_bad + 1);
	CHECK_INT(seen_now().signed_ok, s0.signed_ok);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

static void t_redirects(void)
{
	struct fetch_config sig = config(true, true), unsig = config(false, true);
	struct fetch_result r = {0};
	struct err e = {0};
	struct seen s0 = seen_now();
	char *want;

	CHECK_RC(get(&unsig, "/r/1", 100, &r, &e), BB_OK, &e);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.body, "hello");
	want = url_of("/r/0");
	CHECK_STR(r.url, want);
	free(want);
	fetch_result_clear(&r);
	CHECK_RC(get(&unsig, "/r/3", 100, &r, &e), BB_OK, &e); /* FETCH_REDIRECTS_MAX hops */
	CHECK_STR(r.body, "hello");
	fetch_result_clear(&r);
	CHECK_RC(get(&unsig, "/r/4", 100, &r, &e), BB_ERR_LIMIT, &e);
	CHECK(r.body == NULL);
	CHECK_RC(get(&unsig, "/r/abs", 100, &r, &e), BB_OK, &e);
	CHECK_STR(r.body, "hello");
	fetch_result_clear(&r);
	CHECK_RC(get(&unsig, "/r/ftp", 100, &r, &e), BB_ERR_UNSAFE, &e);
	CHECK(check_contains(e.msg, "ftp://"));
	CHECK_RC(get(&unsig, "/r/file", 100, &r, &e), BB_ERR_UNSAFE, &e);
	CHECK_RC(get(&unsig, "/r/gopher", 100, &r, &e), BB_ERR_UNSAFE, &e);
	/* A 3xx without Location is an answer like any other. */
	CHECK_RC(get(&unsig, "/r/none", 100, &r, &e), BB_OK, &e);
	CHECK_INT(r.status, 302);
	fetch_result_clear(&r);
	/* Re-signed for the new path on each hop. */
	s0 = seen_now();
	CHECK_RC(get(&sig, "/r/signed", 100, &r, &e), BB_OK, &e);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.body, "secret");
	fetch_result_clear(&r);
	CHECK_INT(seen_now().signed_ok, s0.signed_ok + 2);
	CHECK_INT(seen_now().signed_bad, s0.signed_bad);
}

static void t_body_limit(void)
{
	struct fetch_config c = config(false, true);
	struct fetch_result r = {0};
	struct err e = {0};

	CHECK_RC(get(&c, "/plain", 5, &r, &e), BB_OK, &e); /* exactly the limit */
	CHECK_STR(r.body, "hello");
	fetch_result_clear(&r);
	CHECK_RC(get(&c, "/plain", 4, &r, &e), BB_ERR_LIMIT, &e);
	CHECK(r.body == NULL);
	CHECK_RC(get(&c, "/big", FETCH_BODY_MAX, &r, &e), BB_ERR_LIMIT, &e);
	/* gzip is asked for and decoded; the limit counts decoded bytes. */
	CHECK_RC(get(&c, "/gzip-small", 100, &r, &e), BB_OK, &e);
	CHECK_STR(r.body, "hello gzip");
	fetch_result_clear(&r);
	CHECK(check_contains(seen_now().last_accept_encoding, "gzip"));
	CHECK(srv.bomb_len < 64 * 1024);
	CHECK_RC(get(&c, "/gzip-bomb", FETCH_BODY_MAX, &r, &e), BB_ERR_LIMIT, &e);
	CHECK_RC(get(&c, "/gzip-bomb", BOMB_SIZE, &r, &e), BB_OK, &e);
	CHECK_INT(r.body_len, BOMB_SIZE);
	fetch_result_clear(&r);
}

static void t_timeouts(void)
{
	struct fetch_config c = config(false, true);
	struct fetch_result r = {0};
	struct err e = {0};
	struct timespec t0, t1;
	double secs;

	c.timeout_s = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_RC(get(&c, "/slow", 100, &r, &e), BB_ERR_TEMPFAIL, &e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK(secs < 1.9);
	CHECK(r.body == NULL);
	/* A closed port is a network failure, not a policy refusal. */
	CHECK_RC(fetch_get(&c, "http://127.0.0.1:1/", "text/plain", 100, &r, &e), BB_ERR_TEMPFAIL,
		 &e);
}

/* ---- remote actors and keys -------------------------------------------------- */

static void t_remote_actor(void)
{
	struct fetch_config c = config(true, true);
	struct store_actor a = {0};
	struct err e = {0};
	struct seen s0 = seen_now(), s1;
	char *kid = url_of("/actor#main-key"), *id = url_of("/actor"), *inbox = url_of("/inbox");
	char handle[64];
	time_t now = time(NULL);

	snprintf(handle, sizeof(handle), "@alice@%s", srv.authority);
	CHECK_RC(remote_key_fetch(&c, kid, now, &a, &e), BB_OK, &e);
	CHECK_STR(a.id, id);
	CHECK_STR(a.inbox, inbox);
	CHECK_STR(a.shared_inbox, inbox);
	CHECK_STR(a.key_id, kid);
	CHECK_STR(a.public_key_pem, key_public_pem(srv.key));
	CHECK_STR(a.handle, handle);
	CHECK_INT(a.fetched_at, now);
	store_actor_clear(&a);
	s1 = seen_now();
	CHECK_INT(s1.signed_ok, s0.signed_ok + 1); /* the actor GET */
	CHECK_INT(s1.signed_bad, s0.signed_bad);
	CHECK_INT(s1.webfinger_n, s0.webfinger_n + 1);
	CHECK_INT(s1.webfinger_signed, s0.webfinger_signed); /* WebFinger goes unsigned */

	CHECK_RC(remote_actor_fetch(&c, id, now, &a, &e), BB_OK, &e);
	CHECK_STR(a.key_id, kid);
	CHECK_STR(a.handle, handle);
	store_actor_clear(&a);
	free(kid);
	free(id);
	free(inbox);

	/* WebFinger pointing elsewhere, or with a self type Mastodon does not
	 * accept: no handle, but the actor is fine. */
	id = url_of("/bob");
	CHECK_RC(remote_actor_fetch(&c, id, now, &a, &e), BB_OK, &e);
	CHECK(a.handle == NULL);
	store_actor_clear(&a);
	free(id);
	id = url_of("/multi");
	CHECK_RC(remote_actor_fetch(&c, id, now, &a, &e), BB_OK, &e);
	CHECK(a.handle == NULL);
	store_actor_clear(&a);
	free(id);

	/* A plain-string @context, type in an array, a top-level
	 * sharedInbox; and ld+json with the profile among several. */
	id = url_of("/ctx-str");
	inbox = url_of("/top-shared");
	CHECK_RC(remote_actor_fetch(&c, id, now, &a, &e), BB_OK, &e);
	CHECK_STR(a.shared_inbox, inbox);
	store_actor_clear(&a);
	free(id);
	free(inbox);
	id = url_of("/ld");
	CHECK_RC(remote_actor_fetch(&c, id, now, &a, &e), BB_OK, &e);
	CHECK(a.name == NULL && a.avatar == NULL && a.url == NULL);
	store_actor_clear(&a);
	free(id);

	/* Name, icon and profile url kept: the name cut at a character
	 * within REMOTE_NAME_MAX, the first http(s) url taken. */
	id = url_of("/profile");
	CHECK_RC(remote_actor_fetch(&c, id, now, &a, &e), BB_OK, &e);
	CHECK(a.name != NULL && strlen(a.name) == 255);
	CHECK_STR(a.avatar, "https://cdn.example/a.png");
	CHECK_STR(a.url, "https://p.example/@profile");
	store_actor_clear(&a);
	free(id);
	/* An object fetched from its origin: its id must be the URL. */
	{
		json_t *doc = NULL;

		id = url_of("/actor");
		CHECK_RC(remote_object_fetch(&c, id, &doc, &e), BB_OK, &e);
		CHECK_STR(json_string_value(json_object_get(doc, "id")), id);
		json_decref(doc);
		free(id);
		doc = NULL;
		id = url_of("/wrong-id");
		CHECK_RC(remote_object_fetch(&c, id, &doc, &e), BB_ERR_AUTH, &e);
		CHECK(doc == NULL);
		free(id);
		CHECK_RC(remote_object_fetch(&c, "file:///etc/passwd", &doc, &e), BB_ERR_UNSAFE, &e);
	}
}

static void t_remote_key_array(void)
{
	struct fetch_config c = config(true, true);
	struct store_actor a = {0};
	struct err e = {0};
	char *kid = url_of("/multi2#main-key"), *other = url_of("/multi2#other");
	char handle[64];

	snprintf(handle, sizeof(handle), "@multi2@%s", srv.authority);
	CHECK_RC(remote_key_fetch(&c, kid, time(NULL), &a, &e), BB_OK, &e);
	CHECK_STR(a.key_id, kid);
	CHECK_STR(a.public_key_pem, key_public_pem(srv.key));
	CHECK_STR(a.handle, handle); /* the ld+json self link type counts too */
	store_actor_clear(&a);
	CHECK_RC(remote_key_fetch(&c, other, time(NULL), &a, &e), BB_OK, &e);
	CHECK_STR(a.key_id, other);
	CHECK_STR(a.public_key_pem, key_public_pem(srv.other));
	store_actor_clear(&a);
	free(kid);
	free(other);
	/* A key id the actor does not list. */
	kid = url_of("/multi2#third");
	CHECK_RC(remote_key_fetch(&c, kid, time(NULL), &a, &e), BB_ERR_AUTH, &e);
	CHECK(a.id == NULL);
	free(kid);
}

static void t_remote_key_standalone(void)
{
	struct fetch_config c = config(true, true);
	struct store_actor a = {0};
	struct err e = {0};
	char *kid = url_of("/keys/1"), *owner = url_of("/owner");

	CHECK_RC(remote_key_fetch(&c, kid, time(NULL), &a, &e), BB_OK, &e);
	CHECK_STR(a.id, owner);
	CHECK_STR(a.key_id, kid);
	CHECK_STR(a.public_key_pem, key_public_pem(srv.key));
	CHECK(a.handle == NULL); /* no WebFinger for "owner" */
	store_actor_clear(&a);
	/* The owner's own fetch finds the same key, confirmed by its document. */
	CHECK_RC(remote_actor_fetch(&c, owner, time(NULL), &a, &e), BB_OK, &e);
	CHECK_STR(a.key_id, kid);
	CHECK_STR(a.public_key_pem, key_public_pem(srv.key));
	store_actor_clear(&a);
	free(kid);
	free(owner);
	/* Owned by alice, who does not list it. */
	kid = url_of("/keys/2");
	CHECK_RC(remote_key_fetch(&c, kid, time(NULL), &a, &e), BB_ERR_AUTH, &e);
	free(kid);
	/* Its id is another key's. */
	kid = url_of("/keys/4");
	CHECK_RC(remote_key_fetch(&c, kid, time(NULL), &a, &e), BB_ERR_AUTH, &e);
	free(kid);
	CHECK(a.id == NULL);
	/* Listed by its owner, but: its document names another id; a bad
	 * PEM; a context that is neither AS nor security.  Then a sound one. */
	kid = url_of("/keys/5");
	CHECK_RC(remote_key_fetch(&c, kid, time(NULL), &a, &e), BB_ERR_AUTH, &e);
	free(kid);
	kid = url_of("/keys/6");
	CHECK_RC(remote_key_fetch(&c, kid, time(NULL), &a, &e), BB_ERR_INVALID, &e);
	free(kid);
	kid = url_of("/keys/8");
	CHECK_RC(remote_key_fetch(&c, kid, time(NULL), &a, &e), BB_ERR_INVALID, &e);
	free(kid);
	CHECK(a.id == NULL);
	kid = url_of("/keys/7");
	owner = url_of("/owner5");
	CHECK_RC(remote_key_fetch(&c, kid, time(NULL), &a, &e), BB_OK, &e);
	CHECK_STR(a.id, owner);
	CHECK_STR(a.key_id, kid);
	store_actor_clear(&a);
	free(kid);
	free(owner);
}

static void t_remote_key_owner(void)
{
	struct fetch_config c = config(true, true);
	struct store_actor a = {0};
	struct err e = {0};
	char *u;

	/* /thief publishes a key whose owner is alice. */
	u = url_of("/thief#main-key");
	CHECK_RC(remote_key_fetch(&c, u, time(NULL), &a, &e), BB_ERR_AUTH, &e);
	free(u);
	u = url_of("/thief");
	CHECK_RC(remote_actor_fetch(&c, u, time(NULL), &a, &e), BB_ERR_AUTH, &e);
	free(u);
	/* The document at /wrong-id says it is /actor. */
	u = url_of("/wrong-id#main-key");
	CHECK_RC(remote_key_fetch(&c, u, time(NULL), &a, &e), BB_ERR_AUTH, &e);
	CHECK(check_contains(e.msg, "wrong id"));
	free(u);
	/* A first key outside the actor's document: its own document decides
	 * the PEM (the embedded one is ignored). */
	u = url_of("/ext-key");
	CHECK_RC(remote_actor_fetch(&c, u, time(NULL), &a, &e), BB_OK, &e);
	CHECK_STR(a.public_key_pem, key_public_pem(srv.key));
	store_actor_clear(&a);
	free(u);
	/* ... and it must name this actor as owner. */
	u = url_of("/ext-liar");
	CHECK_RC(remote_actor_fetch(&c, u, time(NULL), &a, &e), BB_ERR_AUTH, &e);
	free(u);
	CHECK(a.id == NULL);
}

static void t_remote_refusals(void)
{
	static const struct {
		const char *path;
		/* remote_key_fetch(path#main-key), remote_actor_fetch(path) */
		enum bb_rc key, actor;
	} tab[] = {
		{"/html", BB_ERR_INVALID, BB_ERR_INVALID},
		{"/json", BB_ERR_INVALID, BB_ERR_INVALID},
		{"/ld-bare", BB_ERR_INVALID, BB_ERR_INVALID},
		{"/status/404", BB_ERR_NOTFOUND, BB_ERR_NOTFOUND},
		{"/status/410", BB_ERR_NOTFOUND, BB_ERR_NOTFOUND},
		{"/status/500", BB_ERR_TEMPFAIL, BB_ERR_TEMPFAIL},
		{"/status/503", BB_ERR_TEMPFAIL, BB_ERR_TEMPFAIL},
		{"/status/429", BB_ERR_TEMPFAIL, BB_ERR_TEMPFAIL},
		{"/status/403", BB_ERR_INVALID, BB_ERR_INVALID},
		{"/r/none", BB_ERR_INVALID, BB_ERR_INVALID},
		{"/dup", BB_ERR_INVALID, BB_ERR_INVALID},
		{"/deep33", BB_ERR_LIMIT, BB_ERR_LIMIT},
		{"/deep32", BB_OK, BB_OK},
		{"/big-ap", BB_ERR_LIMIT, BB_ERR_LIMIT},
		{"/note", BB_ERR_INVALID, BB_ERR_INVALID},
		{"/ctx", BB_ERR_INVALID, BB_ERR_INVALID},
		{"/noinbox", BB_ERR_INVALID, BB_ERR_INVALID},
		{"/ftpinbox", BB_ERR_INVALID, BB_ERR_INVALID},
		{"/badpem", BB_ERR_INVALID, BB_ERR_INVALID},
		{"/nokey", BB_ERR_AUTH, BB_ERR_INVALID},
		{"/same-origin", BB_OK, BB_OK},
		{"/cross-origin", BB_ERR_AUTH, BB_ERR_AUTH},
		{"/r/ftp", BB_ERR_UNSAFE, BB_ERR_UNSAFE},
	};
	struct fetch_config c = config(true, true);
	struct err e = {0};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct store_actor a = {0};
		char kid[256];
		char *id = url_of(tab[i].path);
		enum bb_rc rc;

		snprintf(kid, sizeof(kid), "%s#main-key", id);
		rc = remote_key_fetch(&c, kid, time(NULL), &a, &e);
		if (rc != tab[i].key)
			check_fail(__FILE__, __LINE__, "key %s: %s, expected %s (%s)", kid,
				   err_code_name(rc), err_code_name(tab[i].key), e.msg);
		CHECK((rc == BB_OK) == (a.id != NULL));
		store_actor_clear(&a);
		rc = remote_actor_fetch(&c, id, time(NULL), &a, &e);
		if (rc != tab[i].actor)
			check_fail(__FILE__, __LINE__, "actor %s: %s, expected %s (%s)", id,
				   err_code_name(rc), err_code_name(tab[i].actor), e.msg);
		CHECK((rc == BB_OK) == (a.id != NULL));
		store_actor_clear(&a);
		free(id);
	}
	/* Key ids the policy refuses outright. */
	{
		static const char *const bad[] = {"not a url", "acct:alice@example.com",
						  "ftp://example.com/key", ""};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct store_actor a = {0};
			CHECK_RC(remote_key_fetch(&c, bad[i], time(NULL), &a, &e), BB_ERR_UNSAFE,
				 &e);
			CHECK_RC(remote_actor_fetch(&c, bad[i], time(NULL), &a, &e), BB_ERR_UNSAFE,
				 &e);
		}
	}
}

static const struct check_case cases[] = {
	{"address_table", t_address_table},
	{"address_other", t_address_other},
	{"url_policy", t_url_policy},
	{"ssrf_guard", t_ssrf_guard},
	{"curl_policy", t_curl_policy},
	{"signed_get", t_signed_get},
	{"server_rejects_forgery", t_server_rejects_forgery},
	{"redirects", t_redirects},
	{"body_limit", t_body_limit},
	{"timeouts", t_timeouts},
	{"remote_actor", t_remote_actor},
	{"remote_key_array", t_remote_key_array},
	{"remote_key_standalone", t_remote_key_standalone},
	{"remote_key_owner", t_remote_key_owner},
	{"remote_refusals", t_remote_refusals},
};

int main(int argc, char **argv)
{
	int rc;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "curl_global_init failed\n");
		return 1;
	}
	if (!server_start()) {
		fprintf(stderr, "cannot start the test server\n");
		server_stop();
		curl_global_cleanup();
		return 1;
	}
	rc = check_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
	server_stop();
	curl_global_cleanup();
	return rc;
}
