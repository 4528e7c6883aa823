/*
 * peer.c — see peer.h.  Requests are handled in the daemon's connection
 * threads; the actors and the records are guarded by one mutex, the mode
 * and the stop flag are atomics (a hung handler polls them).
 */
#include "peer.h"
#include "bridge_proc.h"
#include "check.h"
#include "timeutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define PEER_BODY_MAX (2 * 1024 * 1024)
#define PEER_HEADERS_MAX 64
/* How often a hung handler looks at the mode, and the most it waits. */
#define PEER_HANG_POLL_MS 10
#define PEER_HANG_MAX_MS 120000
#define AP_TYPE "application/activity+json"

struct peer {
	struct MHD_Daemon *d;
	char host[64]; /* HOST:PORT */
	char base[80]; /* http://HOST:PORT */
	const char *keydir;
	atomic_int mode;
	atomic_bool stopping;
	atomic_size_t gets; /* GET requests answered */
	/* Secure mode (peer_require_signed_gets): the key GETs must be
	 * signed with, under get_key_id; NULL when off. */
	const struct pubkey *get_key;
	char get_key_id[PEER_URL_MAX + 16];
	atomic_size_t gets_refused, gets_verified;
	atomic_bool hold_gets;	 /* GETs of actors and objects wait (peer_hold_gets) */
	atomic_size_t gets_held; /* waiting now */
	pthread_mutex_t lock;
	struct peer_actor *actors[PEER_ACTORS_MAX];
	size_t nactors;
	struct peer_post **posts;
	size_t nposts, cap;
	/* Documents served at paths (peer_object_put): a note's origin. */
	char *object_path[PEER_OBJECTS_MAX];
	char *object_doc[PEER_OBJECTS_MAX];
	size_t nobjects;
};

/* What one request accumulates between the daemon's calls. */
struct request {
	char *body;
	size_t len;
	bool too_large;
};

long long peer_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void post_free(struct peer_post *pp)
{
	if (pp == NULL)
		return;
	for (size_t i = 0; i < pp->header_count; i++) {
		free((char *)pp->headers[i].name);
		free((char *)pp->headers[i].value);
	}
	free(pp->headers);
	free(pp->path);
	free(pp->body);
	free(pp);
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	struct peer_post *pp = cls;
	struct httpsig_header *h;

	(void)kind;
	if (pp->header_count >= PEER_HEADERS_MAX)
		return MHD_NO;
	h = &pp->headers[pp->header_count];
	h->name = strdup(key);
	h->value = strdup(value ? value : "");
	if (h->name == NULL || h->value == NULL) {
		free((char *)h->name);
		free((char *)h->value);
		return MHD_NO;
	}
	pp->header_count++;
	return MHD_YES;
}

/* Records a POST; returns it (owned by the peer) or NULL when out of
 * memory. */
static struct peer_post *record(struct peer *p, struct MHD_Connection *conn, const char *path,
				const struct request *r, unsigned status)
{
	struct peer_post *pp = calloc(1, sizeof(*pp));

	if (pp == NULL)
		return NULL;
	pp->headers = calloc(PEER_HEADERS_MAX, sizeof(*pp->headers));
	pp->path = strdup(path);
	pp->body = malloc(r->len + 1);
	if (pp->headers == NULL || pp->path == NULL || pp->body == NULL) {
		post_free(pp);
		return NULL;
	}
	if (r->len)
		memcpy(pp->body, r->body, r->len);
	pp->body[r->len] = '\0';
	pp->len = r->len;
	pp->status = status;
	pp->at_ms = peer_now_ms();
	MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, pp);
	pthread_mutex_lock(&p->lock);
	if (p->nposts == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct peer_post **grown = realloc(p->posts, cap * sizeof(*grown));
		if (grown == NULL) {
			pthread_mutex_unlock(&p->lock);
			post_free(pp);
			return NULL;
		}
		p->posts = grown;
		p->cap = cap;
	}
	p->posts[p->nposts++] = pp;
	pthread_mutex_unlock(&p->lock);
	return pp;
}

static enum MHD_Result respond_with(struct MHD_Connection *conn, unsigned status, const char *type,
				    const char *body, const char *retry_after)
{
	struct MHD_Response *res;
	enum MHD_Result ret;

	res = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (res == NULL)
		return MHD_NO;
	if ((type && MHD_add_response_header(res, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES) ||
	    (retry_after &&
	     MHD_add_response_header(res, MHD_HTTP_HEADER_RETRY_AFTER, retry_after) != MHD_YES)) {
		MHD_destroy_response(res);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, status, res);
	MHD_destroy_response(res);
	return ret;
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const char *type,
			       const char *body)
{
	return respond_with(conn, status, type, body, NULL);
}

/* The actor named name, or NULL. */
static struct peer_actor *actor_named(struct peer *p, const char *name, size_t len)
{
	struct peer_actor *found = NULL;

	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->nactors; i++)
		if (strlen(p->actors[i]->name) == len &&
		    strncmp(p->actors[i]->name, name, len) == 0)
			found = p->actors[i];
	pthread_mutex_unlock(&p->lock);
	return found;
}

static enum MHD_Result serve_webfinger(struct peer *p, struct MHD_Connection *conn)
{
	const char *res = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "resource");
	struct peer_actor *a = NULL;
	enum MHD_Result ret;
	const char *at;
	json_t *j;
	char *s;

	if (res && strncasecmp(res, "acct:", 5) == 0 && (at = strchr(res + 5, '@')) != NULL &&
	    strcasecmp(at + 1, p->host) == 0)
		a = actor_named(p, res + 5, (size_t)(at - res - 5));
	if (a == NULL)
		return respond(conn, 404, "application/json", "{\"error\":\"no such account\"}");
	j = json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "subject", res, "links", "rel", "self", "type",
		      AP_TYPE, "href", a->id);
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (s == NULL)
		return MHD_NO;
	ret = respond(conn, 200, "application/jrd+json", s);
	free(s);
	return ret;
}

/* The status mode answers conn with; 0 for none (hang or hold). */
static unsigned mode_status(enum peer_mode mode, struct MHD_Connection *conn)
{
	unsigned status;

	switch (mode) {
	case PEER_ACCEPT: status = 202; break;
	case PEER_FAIL: status = 500; break;
	case PEER_GONE: status = 410; break;
	case PEER_KNOCK:
		status = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Signature-Input")
			     ? 202
			     : 401;
		break;
	case PEER_BUSY: status = 503; break;
	case PEER_STRICT_9421: {
		const char *in =
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Signature-Input");
		status = in && strstr(in, ";alg=\"rsa-v1_5-sha256\"") ? 202 : 401;
		break;
	}
	case PEER_HANG:
	case PEER_HOLD:
	default: status = 0; break;
	}
	return status;
}

/* An inbox POST: recorded, then answered as the mode says. */
static enum MHD_Result serve_inbox(struct peer *p, struct MHD_Connection *conn, const char *path,
				   const struct request *r)
{
	enum peer_mode mode = (enum peer_mode)atomic_load(&p->mode);
	unsigned status = mode_status(mode, conn);

	if (record(p, conn, path, r, status) == NULL)
		return MHD_NO;
	if (status == 0) {
		/* Hold the request until the mode changes; then a hung one is
		 * closed without an answer, a held one answered as the new
		 * mode says. */
		for (long waited = 0; waited < PEER_HANG_MAX_MS; waited += PEER_HANG_POLL_MS) {
			if (atomic_load(&p->stopping) || atomic_load(&p->mode) != (int)mode)
				break;
			sleep_ms(PEER_HANG_POLL_MS);
		}
		if (mode != PEER_HOLD || atomic_load(&p->stopping))
			return MHD_NO;
		mode = (enum peer_mode)atomic_load(&p->mode);
		status = mode_status(mode, conn);
		if (status == 0)
			return MHD_NO;
	}
	if (mode == PEER_BUSY) {
		char secs[24];
		snprintf(secs, sizeof(secs), "%d", PEER_BUSY_RETRY_S);
		return respond_with(conn, status, "text/plain", PEER_BUSY_BODY, secs);
	}
	return respond(conn, status, "application/json",
		       status == 202 ? "{}" : "{\"error\":\"no\"}");
}

/* Secure mode, as Mastodon's require_account_signature!: true when the
 * mode is off, or when the GET of url carries a signature that holds
 * under the required key (httpsig parse and verify: for a GET, Host
 * must be covered). */
static bool get_signed(struct peer *p, struct MHD_Connection *conn, const char *url)
{
	struct peer_post pp = {0};
	struct httpsig_message m;
	struct httpsig *sig = NULL;
	struct err e = {0};
	const struct pubkey *pk;
	char uri[512], key_id[sizeof(p->get_key_id)];
	bool ok = false;

	pthread_mutex_lock(&p->lock);
	pk = p->get_key;
	snprintf(key_id, sizeof(key_id), "%s", p->get_key_id);
	pthread_mutex_unlock(&p->lock);
	if (pk == NULL)
		return true;
	pp.headers = calloc(PEER_HEADERS_MAX, sizeof(*pp.headers));
	if (pp.headers == NULL)
		return false;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &pp);
	snprintf(uri, sizeof(uri), "%s%s", p->base, url);
	m = (struct httpsig_message){"GET", uri, pp.headers, pp.header_count, NULL, 0};
	if (httpsig_parse(&m, time(NULL), &sig, &e) != BB_OK)
		fprintf(stderr, "peer %s: GET %s refused: %s\n", p->host, url, e.msg);
	else if (strcmp(httpsig_key_id(sig), key_id) != 0)
		fprintf(stderr, "peer %s: GET %s refused: signed by %s\n", p->host, url,
			httpsig_key_id(sig));
	else if (httpsig_verify(sig, &m, pk, &e) != BB_OK)
		fprintf(stderr, "peer %s: GET %s refused: %s\n", p->host, url, e.msg);
	else
		ok = true;
	if (ok)
		atomic_fetch_add(&p->gets_verified, 1);
	httpsig_free(sig);
	for (size_t i = 0; i < pp.header_count; i++) {
		free((char *)pp.headers[i].name);
		free((char *)pp.headers[i].value);
	}
	free(pp.headers);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct peer *p = cls;
	struct request *r = *con_cls;
	struct peer_actor *a;
	char *doc;
	size_t n;

	(void)version;
	if (r == NULL) {
		r = calloc(1, sizeof(*r));
		if (r == NULL)
			return MHD_NO;
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		n = *upload_data_size;
		if (!r->too_large && r->len + n <= PEER_BODY_MAX) {
			char *grown = realloc(r->body, r->len + n + 1);
			if (grown == NULL) {
				r->too_large = true;
			} else {
				memcpy(grown + r->len, upload_data, n);
				r->body = grown;
				r->len += n;
			}
		} else {
			r->too_large = true;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "POST") == 0) {
		if (r->too_large)
			return respond(conn, 413, "application/json", "{\"error\":\"too large\"}");
		if (strcmp(url, "/inbox") == 0 ||
		    (strncmp(url, "/users/", 7) == 0 && (n = strcspn(url + 7, "/")) > 0 &&
		     strcmp(url + 7 + n, "/inbox") == 0 && actor_named(p, url + 7, n) != NULL))
			return serve_inbox(p, conn, url, r);
		return respond(conn, 404, "application/json", "{\"error\":\"not found\"}");
	}
	if (strcmp(method, "GET") != 0)
		return respond(conn, 405, "application/json", "{\"error\":\"method\"}");
	atomic_fetch_add(&p->gets, 1);
	if (strcmp(url, "/.well-known/webfinger") == 0)
		return serve_webfinger(p, conn);
	if (atomic_load(&p->hold_gets)) {
		atomic_fetch_add(&p->gets_held, 1);
		for (long waited = 0; atomic_load(&p->hold_gets) && !atomic_load(&p->stopping) &&
				      waited < PEER_HANG_MAX_MS;
		     waited += PEER_HANG_POLL_MS)
			sleep_ms(PEER_HANG_POLL_MS);
		atomic_fetch_sub(&p->gets_held, 1);
	}
	if (!get_signed(p, conn, url)) {
		atomic_fetch_add(&p->gets_refused, 1);
		return respond(conn, 401, "application/json", "{\"error\":\"Request not signed\"}");
	}
	pthread_mutex_lock(&p->lock);
	doc = NULL;
	for (size_t i = 0; i < p->nobjects && doc == NULL; i++)
		if (strcmp(p->object_path[i], url) == 0)
			doc = strdup(p->object_doc[i]);
	pthread_mutex_unlock(&p->lock);
	if (doc != NULL) {
		enum MHD_Result ret = respond(conn, 200, AP_TYPE, doc);
		free(doc);
		return ret;
	}
	if (strncmp(url, "/users/", 7) == 0 && (a = actor_named(p, url + 7, strlen(url + 7)))) {
		enum MHD_Result ret = MHD_NO;
		/* Copied under the lock: peer_actor_rekey may replace it. */
		pthread_mutex_lock(&p->lock);
		doc = strdup(a->doc);
		pthread_mutex_unlock(&p->lock);
		if (doc)
			ret = respond(conn, 200, AP_TYPE, doc);
		free(doc);
		return ret;
	}
	return respond(conn, 404, "application/json", "{\"error\":\"not found\"}");
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (r == NULL)
		return;
	free(r->body);
	free(r);
	*con_cls = NULL;
}

struct peer *peer_start(const char *ip, const char *host_name, const char *keydir)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	const union MHD_DaemonInfo *info;
	struct peer *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	p->keydir = keydir;
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
		fprintf(stderr, "    peer: bad address %s\n", ip);
		goto fail;
	}
	p->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
				NULL, NULL, on_request, p, MHD_OPTION_SOCK_ADDR, &sa,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
	if (p->d == NULL) {
		fprintf(stderr, "    peer: cannot listen on %s\n", ip);
		goto fail;
	}
	info = MHD_get_daemon_info(p->d, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL || info->port == 0)
		goto fail;
	snprintf(p->host, sizeof(p->host), "%s:%u", host_name ? host_name : ip, info->port);
	snprintf(p->base, sizeof(p->base), "http://%s", p->host);
	return p;
fail:
	peer_stop(p);
	return NULL;
}

void peer_stop(struct peer *p)
{
	if (p == NULL)
		return;
	atomic_store(&p->stopping, true);
	if (p->d)
		MHD_stop_daemon(p->d);
	for (size_t i = 0; i < p->nactors; i++) {
		key_free(p->actors[i]->key);
		key_free(p->actors[i]->old_key);
		free(p->actors[i]->doc);
		free(p->actors[i]);
	}
	for (size_t i = 0; i < p->nposts; i++)
		post_free(p->posts[i]);
	free(p->posts);
	for (size_t i = 0; i < p->nobjects; i++) {
		free(p->object_path[i]);
		free(p->object_doc[i]);
	}
	pthread_mutex_destroy(&p->lock);
	free(p);
}

bool peer_object_put(struct peer *p, const char *path, const char *doc)
{
	char *d = strdup(doc), *old = NULL;
	bool ok = d != NULL;

	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; ok && i < p->nobjects; i++) {
		if (strcmp(p->object_path[i], path) == 0) {
			old = p->object_doc[i];
			p->object_doc[i] = d;
			d = NULL;
			break;
		}
	}
	if (ok && d != NULL) {
		ok = p->nobjects < PEER_OBJECTS_MAX &&
		     (p->object_path[p->nobjects] = strdup(path)) != NULL;
		if (ok)
			p->object_doc[p->nobjects++] = d;
		else
			free(d);
	}
	pthread_mutex_unlock(&p->lock);
	free(old);
	return ok;
}

const char *peer_base(const struct peer *p)
{
	return p->base;
}

const char *peer_host(const struct peer *p)
{
	return p->host;
}

/* Makes a new key for a (in a new file) and the document publishing it. */
static bool actor_make_doc(struct peer *p, struct peer_actor *a)
{
	char path[512], avatar[PEER_URL_MAX + 48], profile[PEER_URL_MAX + 40];
	struct err e = {0};
	struct key *k = NULL;
	json_t *j;
	char *doc;

	snprintf(path, sizeof(path), "%s/%s-%s-%d.pem", p->keydir, p->host, a->name,
		 a->generation++);
	for (char *c = path + strlen(p->keydir) + 1; *c; c++)
		if (*c == ':')
			*c = '_';
	if (key_load_or_create(path, &k, NULL, &e) != BB_OK) {
		fprintf(stderr, "    peer: key %s: %s\n", path, e.msg);
		return false;
	}
	snprintf(avatar, sizeof(avatar), "%s/avatars/%s.png", p->base, a->name);
	snprintf(profile, sizeof(profile), "%s/@%s", p->base, a->name);
	j = json_pack("{s:[s, s], s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s}, s:{s:s, s:s, s:s},"
		      " s:{s:s, s:s}, s:s}",
		      "@context", "https://www.w3.org/ns/activitystreams",
		      "https://w3id.org/security/v1", "id", a->id, "type", "Person",
		      "preferredUsername", a->name, "name", a->name, "inbox", a->inbox, "outbox",
		      "https://nowhere.invalid/outbox", "endpoints", "sharedInbox", a->shared_inbox,
		      "publicKey", "id", a->key_id, "owner", a->id, "publicKeyPem",
		      key_public_pem(k), "icon", "type", "Image", "url", avatar, "url", profile);
	doc = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (doc == NULL) {
		key_free(k);
		return false;
	}
	/* The old key stays valid until peer_stop: a caller may hold it. */
	pthread_mutex_lock(&p->lock);
	if (a->key)
		a->old_key = a->key;
	a->key = k;
	free(a->doc);
	a->doc = doc;
	pthread_mutex_unlock(&p->lock);
	return true;
}

struct peer_actor *peer_actor_add(struct peer *p, const char *name, const char *inbox_origin)
{
	struct peer_actor *a = calloc(1, sizeof(*a));
	const char *origin = inbox_origin ? inbox_origin : p->base;

	if (a == NULL || p->nactors >= PEER_ACTORS_MAX)
		goto fail;
	a->peer = p;
	snprintf(a->name, sizeof(a->name), "%s", name);
	snprintf(a->id, sizeof(a->id), "%s/users/%s", p->base, name);
	snprintf(a->key_id, sizeof(a->key_id), "%s#main-key", a->id);
	snprintf(a->inbox, sizeof(a->inbox), "%s/users/%s/inbox", origin, name);
	snprintf(a->shared_inbox, sizeof(a->shared_inbox), "%s/inbox", origin);
	snprintf(a->acct, sizeof(a->acct), "%s@%s", name, p->host);
	if (!actor_make_doc(p, a))
		goto fail;
	pthread_mutex_lock(&p->lock);
	p->actors[p->nactors++] = a;
	pthread_mutex_unlock(&p->lock);
	return a;
fail:
	if (a) {
		key_free(a->key);
		free(a->doc);
		free(a);
	}
	return NULL;
}

bool peer_actor_rekey(struct peer_actor *a)
{
	key_free(a->old_key);
	a->old_key = NULL;
	return actor_make_doc(a->peer, a);
}

void peer_set_mode(struct peer *p, enum peer_mode m)
{
	atomic_store(&p->mode, (int)m);
}

size_t peer_get_count(struct peer *p)
{
	return atomic_load(&p->gets);
}

void peer_require_signed_gets(struct peer *p, const struct pubkey *pk, const char *key_id)
{
	pthread_mutex_lock(&p->lock);
	p->get_key = pk;
	snprintf(p->get_key_id, sizeof(p->get_key_id), "%s", key_id ? key_id : "");
	pthread_mutex_unlock(&p->lock);
}

void peer_hold_gets(struct peer *p, bool hold)
{
	atomic_store(&p->hold_gets, hold);
}

size_t peer_get_held(struct peer *p)
{
	return atomic_load(&p->gets_held);
}

size_t peer_get_refused(struct peer *p)
{
	return atomic_load(&p->gets_refused);
}

size_t peer_get_verified(struct peer *p)
{
	return atomic_load(&p->gets_verified);
}

size_t peer_post_count(struct peer *p)
{
	size_t n;

	pthread_mutex_lock(&p->lock);
	n = p->nposts;
	pthread_mutex_unlock(&p->lock);
	return n;
}

const struct peer_post *peer_post_at(struct peer *p, size_t i)
{
	const struct peer_post *pp = NULL;

	pthread_mutex_lock(&p->lock);
	if (i < p->nposts)
		pp = p->posts[i];
	pthread_mutex_unlock(&p->lock);
	return pp;
}

const char *peer_post_header(const struct peer_post *pp, const char *name)
{
	for (size_t i = 0; i < pp->header_count; i++)
		if (strcasecmp(pp->headers[i].name, name) == 0)
			return pp->headers[i].value;
	return NULL;
}

/* ---- the peer as a client ---- */

bool peer_add_header(struct curl_slist **l, const char *name, const char *value)
{
	size_t n;
	char *line;
	struct curl_slist *grown;

	if (value == NULL)
		return true;
	n = strlen(name) + strlen(value) + 3;
	line = malloc(n);
	if (line == NULL)
		return false;
	snprintf(line, n, "%s: %s", name, value);
	grown = curl_slist_append(*l, line);
	free(line);
	if (grown == NULL)
		return false;
	*l = grown;
	return true;
}

void peer_sha256_b64(const void *data, size_t len, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	out[0] = '\0';
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) == 1)
		EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
}

/* The authority and the path of an http URL, in host and path. */
static bool split_url(const char *url, char *host, size_t hn, char *path, size_t pn)
{
	const char *h = strstr(url, "://"), *p;

	if (h == NULL)
		return false;
	h += 3;
	p = h + strcspn(h, "/");
	snprintf(host, hn, "%.*s", (int)(p - h), h);
	snprintf(path, pn, "%s", *p ? p : "/");
	return true;
}

/* Mastodon 4.7's signature (see struct peer_sign_opts). */
static bool sign_mastodon_style(const struct key *k, const char *key_id, const char *url,
				const char *body, time_t when, struct curl_slist **hdrs)
{
	char date[TIME_IMF_LEN], digest[96], b64[64], host[128], path[512], str[1024];
	unsigned char *sig = NULL;
	struct err e = {0};
	size_t siglen = 0, n;
	char *sig64 = NULL, *line = NULL;
	bool ok = false;

	time_imf_fixdate(when, date);
	peer_sha256_b64(body, strlen(body), b64);
	snprintf(digest, sizeof(digest), "SHA-256=%s", b64);
	if (!split_url(url, host, sizeof(host), path, sizeof(path)))
		return false;
	snprintf(str, sizeof(str),
		 "host: %s\ndate: %s\ncontent-type: application/activity+json\ndigest: %s\n"
		 "(request-target): post %s",
		 host, date, digest, path);
	if (key_sign_rsa_sha256(k, str, strlen(str), &sig, &siglen, &e) != BB_OK) {
		check_fail(__FILE__, __LINE__, "cannot sign: %s", e.msg);
		return false;
	}
	sig64 = malloc(4 * ((siglen + 2) / 3) + 1);
	n = strlen(key_id) + 4 * ((siglen + 2) / 3) + 128;
	line = malloc(n);
	if (sig64 && line) {
		EVP_EncodeBlock((unsigned char *)sig64, sig, (int)siglen);
		snprintf(line, n,
			 "keyId=\"%s\",algorithm=\"rsa-sha256\","
			 "headers=\"host date content-type digest (request-target)\","
			 "signature=\"%s\"",
			 key_id, sig64);
		ok = peer_add_header(hdrs, "Host", host) && peer_add_header(hdrs, "Date", date) &&
		     peer_add_header(hdrs, "Content-Type", "application/activity+json") &&
		     peer_add_header(hdrs, "Digest", digest) &&
		     peer_add_header(hdrs, "Signature", line);
	}
	free(line);
	free(sig64);
	free(sig);
	return ok;
}

bool peer_sign_post(const struct peer_actor *a, const char *url, const char *body,
		    const struct peer_sign_opts *o, struct curl_slist **hdrs)
{
	static const struct peer_sign_opts good = {.scheme = HTTPSIG_CAVAGE};
	struct httpsig_signed s = {0};
	struct err e = {0};
	char date[TIME_IMF_LEN];
	const struct key *k;
	const char *key_id;
	time_t when;
	bool ok;

	if (o == NULL)
		o = &good;
	k = o->key ? o->key : a->key;
	key_id = o->key_id ? o->key_id : a->key_id;
	when = time(NULL) + o->skew_s;
	if (!peer_add_header(hdrs, "Expect", "") ||
	    !peer_add_header(hdrs, "Transfer-Encoding", o->chunked ? "chunked" : NULL))
		return false;
	if (o->mastodon_style)
		return sign_mastodon_style(k, key_id, url, body, when, hdrs);
	if (o->unsigned_post) {
		time_imf_fixdate(when, date);
		return peer_add_header(hdrs, "Content-Type", "application/activity+json") &&
		       peer_add_header(hdrs, "Date", date);
	}
	if (httpsig_sign(o->scheme, k, key_id, "POST", url, "application/activity+json", body,
			 strlen(body), when, &s, &e) != BB_OK) {
		check_fail(__FILE__, __LINE__, "cannot sign: %s", e.msg);
		return false;
	}
	ok = peer_add_header(hdrs, "Content-Type", "application/activity+json") &&
	     peer_add_header(hdrs, "Host", s.host) && peer_add_header(hdrs, "Date", s.date) &&
	     peer_add_header(hdrs, "Digest", s.digest) &&
	     peer_add_header(hdrs, "Content-Digest", s.content_digest) &&
	     peer_add_header(hdrs, "Signature-Input", s.signature_input) &&
	     peer_add_header(hdrs, "Signature", s.signature);
	httpsig_signed_clear(&s);
	return ok;
}

int peer_check_signed(struct peer *p, const struct peer_post *pp, const struct pubkey *pk,
		      const char *key_id)
{
	const char *ct = peer_post_header(pp, "Content-Type");
	char uri[512], b64[64], want[96];
	struct httpsig_message m;
	struct httpsig *sig = NULL;
	struct err e = {0};
	int scheme = -1;

	snprintf(uri, sizeof(uri), "%s%s", p->base, pp->path);
	m = (struct httpsig_message){"POST", uri, pp->headers, pp->header_count, pp->body, pp->len};
	if (httpsig_parse(&m, time(NULL), &sig, &e) != BB_OK) {
		check_fail(__FILE__, __LINE__, "POST to %s: %s", uri, e.msg);
		return -1;
	}
	CHECK_STR(httpsig_key_id(sig), key_id);
	if (httpsig_verify(sig, &m, pk, &e) != BB_OK)
		check_fail(__FILE__, __LINE__, "POST to %s: %s", uri, e.msg);
	else
		scheme = (int)httpsig_scheme_of(sig);
	httpsig_free(sig);
	peer_sha256_b64(pp->body, pp->len, b64);
	if (scheme == HTTPSIG_CAVAGE) {
		snprintf(want, sizeof(want), "SHA-256=%s", b64);
		CHECK_STR(peer_post_header(pp, "Digest"), want);
		/* A Signature-Input would make Mastodon read it as RFC 9421. */
		CHECK(peer_post_header(pp, "Signature-Input") == NULL);
	} else if (scheme == HTTPSIG_RFC9421) {
		snprintf(want, sizeof(want), "sha-256=:%s:", b64);
		CHECK_STR(peer_post_header(pp, "Content-Digest"), want);
	}
	CHECK(ct != NULL && strncmp(ct, AP_TYPE, strlen(AP_TYPE)) == 0);
	return scheme;
}

/* ---- the bridge as a peer sees it ---- */

bool peer_bridge_key(const struct bridge *b, struct pubkey **out)
{
	struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/activity+json");
	struct reply r = {0};
	struct err e = {0};
	json_t *j = NULL;
	bool ok = false;

	*out = NULL;
	if (hdrs && bridge_http(b, "GET", "/ap/actor", hdrs, NULL, 0, &r) && r.status == 200 &&
	    (j = json_loads(r.body, 0, NULL)) != NULL) {
		CHECK_STR(jstr(j, "id"), b->actor_id);
		CHECK_STR(jstr(j, "publicKey.id"), b->key_id);
		CHECK_STR(jstr(j, "publicKey.owner"), b->actor_id);
		ok = jstr(j, "publicKey.publicKeyPem") &&
		     pubkey_from_pem(jstr(j, "publicKey.publicKeyPem"), out, &e) == BB_OK;
	}
	if (!ok)
		check_fail(__FILE__, __LINE__, "cannot read the bridge's key: %s (HTTP %ld)", e.msg,
			   r.status);
	json_decref(j);
	reply_free(&r);
	curl_slist_free_all(hdrs);
	return ok;
}

struct peer_actor *peer_actor_checked(struct peer *p, const char *name)
{
	struct peer_actor *a = p ? peer_actor_add(p, name, NULL) : NULL;

	if (a == NULL)
		check_fail(__FILE__, __LINE__, "cannot make the actor %s", name);
	return a;
}

long peer_post_json(const struct bridge *b, const struct peer_actor *a, const char *path, json_t *j)
{
	struct curl_slist *hdrs = NULL;
	struct reply r = {0};
	char url[256], *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	long status = 0;

	json_decref(j);
	snprintf(url, sizeof(url), "%s%s", b->origin, path);
	if (body && peer_sign_post(a, url, body, NULL, &hdrs) &&
	    bridge_http(b, "POST", path, hdrs, body, strlen(body), &r))
		status = r.status;
	curl_slist_free_all(hdrs);
	reply_free(&r);
	free(body);
	return status;
}
