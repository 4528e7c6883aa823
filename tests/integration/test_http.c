/*
 * test_http.c — the real blogbridge binary, asked over HTTP the way
 * Mastodon and browsers ask.  Invoked as `test_http PATH/TO/blogbridge
 * [CASE...]`.  Each server runs in a fresh temporary folder with a
 * bridge.conf written here whose base_url is https://blog.test while the
 * server listens on plain loopback: every URL in the answers must come from
 * base_url.  The server is started with fork/exec in the folder "/" (so the
 * config's relative paths must resolve against the config's folder), waited
 * for with bounded retries, and stopped with SIGTERM, which must end it
 * with status 0 within a few seconds (all through bridge_proc.h).  Every
 * wait is bounded and a server still running at exit is killed.  Answers
 * are parsed with jansson and the published key is checked with OpenSSL
 * against the key file on disk.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strptime, timegm */
#endif
#include "bridge_proc.h"
#include "check.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <limits.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The site the main server is configured for. */
#define BASE_URL "https://blog.test"
#define HOST "blog.test"
#define HANDLE "blog"
#define ACCT HANDLE "@" HOST
#define ACTOR_ID BASE_URL "/ap/actor"
#define BLOG_URL "https://blog.test/journal/"
#define ICON_URL "https://blog.test/media/avatar.png"
#define BLOG_NAME "Test Blog"
#define SUMMARY_TEXT "Essays & notes"
#define SUMMARY_HTML "<p>Essays &amp; notes</p>"

#define AS_CONTEXT "https://www.w3.org/ns/activitystreams"
#define SEC_CONTEXT "https://w3id.org/security/v1"
#define AP_TYPE "application/activity+json"
#define NODEINFO_REL "http://nodeinfo.diaspora.software/ns/schema/2.1"
#define BROWSER_ACCEPT "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

/* Bounds on every wait, in milliseconds. */
#define START_WAIT_MS 30000
#define STOP_WAIT_MS 5000
#define HTTP_TIMEOUT_S 15L
/* Largest answer body kept. */
#define BODY_MAX (4 * 1024 * 1024)

/* One HTTP exchange. */
struct answer {
	long status; /* 0 when the transfer failed */
	char *body;  /* NUL-terminated */
	size_t len;
	char *headers; /* raw header lines */
	size_t hlen;
	long connects; /* new connections the transfer opened */
};

static const char *binary;
static struct bridge main_srv, port_srv;

/* A fresh folder holding a feed and a bridge.conf for a free port, with
 * base_url (NULL: http://localhost:PORT, the port it listens on);
 * extra_site lines are appended to [site]. */
static bool server_setup(struct bridge *s, const char *base_url, const char *extra_site)
{
	char text[2048], local[64];

	if (!bridge_prepare(s, binary))
		return false;
	s->start_wait_ms = START_WAIT_MS;
	s->stop_wait_ms = STOP_WAIT_MS;
	snprintf(local, sizeof(local), "http://localhost:%d", s->port);
	free(check_write_file(s->dir, "feed.xml",
			      "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>"
			      "<title>Test Blog</title><link>https://blog.test/journal/</link>"
			      "<description>d</description></channel></rss>\n"));
	snprintf(text, sizeof(text),
		 "# written by test_http\n"
		 "[site]\n"
		 "base_url = %s\n"
		 "handle = " HANDLE "\n"
		 "name = " BLOG_NAME "\n"
		 "summary = " SUMMARY_TEXT "\n"
		 "feed = feed.xml\n"
		 "%s"
		 "\n[server]\n"
		 "listen = 127.0.0.1:%d\n",
		 base_url ? base_url : local, extra_site, s->port);
	bridge_write_conf(s, text);
	return true;
}

/* The shared server for most cases, started on first use. */
static struct bridge *main_server(void)
{
	static bool set_up, failed;

	if (failed) {
		CHECK(!"the server failed to start before");
		return NULL;
	}
	if (!set_up) {
		if (!server_setup(&main_srv, BASE_URL,
				  "url = " BLOG_URL "\nicon = " ICON_URL "\n")) {
			CHECK(!"cannot prepare the server folder");
			return NULL;
		}
		set_up = true;
	}
	if (main_srv.pid == 0 && !bridge_start(&main_srv)) {
		CHECK(!"the server did not start");
		failed = true;
		return NULL;
	}
	return &main_srv;
}

/* ---- HTTP ---- */

static bool grow_append(char **buf, size_t *len, const char *data, size_t n)
{
	char *p;

	if (*len + n > BODY_MAX)
		return false;
	p = realloc(*buf, *len + n + 1);
	if (p == NULL)
		return false;
	memcpy(p + *len, data, n);
	*len += n;
	p[*len] = '\0';
	*buf = p;
	return true;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct answer *r = arg;

	return grow_append(&r->body, &r->len, data, size * nmemb) ? size * nmemb : 0;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct answer *r = arg;

	/* A new status line starts a new header block (after a 100). */
	if (size * nmemb >= 5 && strncmp(data, "HTTP/", 5) == 0)
		r->hlen = 0;
	return grow_append(&r->headers, &r->hlen, data, size * nmemb) ? size * nmemb : 0;
}

static void answer_free(struct answer *r)
{
	free(r->body);
	free(r->headers);
	memset(r, 0, sizeof(*r));
}

/*
 * One request to s: method ("GET", "HEAD", "POST" or another), path (with
 * its query), accept (NULL sends no Accept header at all), extra (one more
 * header line, or NULL).  handle, when not NULL, is reused (keep-alive).
 * Fills r (free with answer_free); false when the transfer failed.
 */
static bool fetch(const struct bridge *s, CURL *handle, const char *method, const char *path,
		  const char *accept, const char *extra, struct answer *r)
{
	CURL *h = handle ? handle : curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char accept_line[1024], url[256];
	size_t ul = strlen(s->origin) + strlen(path) + 1;
	char *full = malloc(ul);
	CURLcode rc = CURLE_FAILED_INIT;

	memset(r, 0, sizeof(*r));
	r->body = calloc(1, 1);
	r->headers = calloc(1, 1);
	if (h == NULL || full == NULL || r->body == NULL || r->headers == NULL)
		goto out;
	snprintf(full, ul, "%s%s", s->origin, path);
	snprintf(accept_line, sizeof(accept_line), "Accept:%s%s", accept ? " " : "",
		 accept ? accept : "");
	hdrs = curl_slist_append(hdrs, accept_line);
	if (extra)
		hdrs = curl_slist_append(hdrs, extra);
	if (strcmp(method, "POST") == 0)
		hdrs = curl_slist_append(hdrs, "Content-Type: " AP_TYPE);
	if (hdrs == NULL)
		goto out;
	curl_easy_setopt(h, CURLOPT_URL, full);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, HTTP_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "{\"type\":\"Follow\"}");
	} else if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(h, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0 ? 1L : 0L);
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
		curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &r->connects);
	} else {
		snprintf(url, sizeof(url), "%.200s", full);
		fprintf(stderr, "    %s %s: %s\n", method, url, curl_easy_strerror(rc));
	}
	/* Leave a reused handle without pointers into this call. */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
out:
	curl_slist_free_all(hdrs);
	if (handle == NULL && h != NULL)
		curl_easy_cleanup(h);
	free(full);
	return rc == CURLE_OK;
}

static bool get(const struct bridge *s, const char *path, const char *accept, struct answer *r)
{
	return fetch(s, NULL, "GET", path, accept, NULL, r);
}

/* The value of the last header named name, trimmed, in buf; NULL when the
 * answer has none. */
static const char *header(const struct answer *r, const char *name, char *buf, size_t n)
{
	size_t nl = strlen(name);
	const char *p = r->headers, *found = NULL;

	buf[0] = '\0';
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		const char *end = eol ? eol : p + strlen(p);
		if ((size_t)(end - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1, *ve = end;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			snprintf(buf, n, "%.*s", (int)(ve - v), v);
			found = buf;
		}
		p = eol ? eol + 1 : end;
	}
	return found;
}

/* The body as JSON, or NULL (reported). */
static json_t *reply_json(const struct answer *r)
{
	json_error_t err;
	json_t *j = json_loadb(r->body ? r->body : "", r->len, 0, &err);

	if (j == NULL)
		fprintf(stderr, "    not JSON (%s): %.200s\n", err.text, r->body ? r->body : "");
	return j;
}

static bool array_has_string(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	}
	return false;
}

/* The element of j.links whose rel is rel, or NULL. */
static json_t *link_with_rel(json_t *j, const char *rel)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(j, "links"), i, v)
	{
		const char *r = jstr(v, "rel");
		if (r && strcmp(r, rel) == 0)
			return v;
	}
	return NULL;
}

/* The path of a URL under BASE_URL (what the loopback server answers), or
 * NULL when url is elsewhere. */
static const char *path_of(const char *url, const char *base)
{
	size_t bl = strlen(base);

	if (url == NULL || strncmp(url, base, bl) != 0 || url[bl] != '/')
		return NULL;
	return url + bl;
}

/* Checks a 4xx/5xx answer: its status and a JSON {"error": "..."} body. */
static void check_error_reply(const struct answer *r, long status)
{
	char hv[256];
	json_t *j;

	CHECK_INT(r->status, status);
	CHECK_STR(header(r, "Content-Type", hv, sizeof(hv)), "application/json");
	j = reply_json(r);
	CHECK(json_is_object(j));
	CHECK(jstr(j, "error") != NULL && jstr(j, "error")[0] != '\0');
	json_decref(j);
}

/* ---- WebFinger ---- */

/* Checks a WebFinger answer for acct, whose actor is actor_id. */
static void check_webfinger_reply(const struct answer *r, const char *acct, const char *actor_id,
				  const char *blog_url)
{
	char hv[256], subject[256];
	json_t *j, *self, *page;

	snprintf(subject, sizeof(subject), "acct:%s", acct);
	CHECK_INT(r->status, 200);
	CHECK_STR(header(r, "Content-Type", hv, sizeof(hv)), "application/jrd+json");
	CHECK_STR(header(r, "Access-Control-Allow-Origin", hv, sizeof(hv)), "*");
	j = reply_json(r);
	CHECK_STR(jstr(j, "subject"), subject);
	self = link_with_rel(j, "self");
	CHECK(self != NULL);
	CHECK_STR(jstr(self, "type"), AP_TYPE);
	CHECK_STR(jstr(self, "href"), actor_id);
	page = link_with_rel(j, "http://webfinger.net/rel/profile-page");
	CHECK(page != NULL);
	CHECK_STR(jstr(page, "href"), blog_url);
	CHECK_STR(jstr(page, "type"), "text/html");
	json_decref(j);
}

static void t_webfinger_forms(void)
{
	static const char *const resources[] = {
	    "acct:" ACCT,
	    "acct%3Ablog%40blog.test",
	    "acct:BLOG@BLOG.TEST",
	    "ACCT:Blog@Blog.Test",
	    "@" ACCT,
	    "%40blog%40blog.test",
	    ACCT,
	    ACTOR_ID,
	    "https%3A%2F%2Fblog.test%2Fap%2Factor",
	};
	struct bridge *s = main_server();

	if (s == NULL)
		return;
	for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++) {
		char path[512];
		struct answer r;
		snprintf(path, sizeof(path), "/.well-known/webfinger?resource=%s", resources[i]);
		if (!get(s, path, "application/jrd+json, application/json", &r))
			CHECK(!"WebFinger request failed");
		else if (r.status != 200)
			check_fail(__FILE__, __LINE__, "resource %s: status %ld", resources[i],
				   r.status);
		else
			check_webfinger_reply(&r, ACCT, ACTOR_ID, BLOG_URL);
		answer_free(&r);
	}
}

static void t_webfinger_errors(void)
{
	static const struct {
		const char *query;
		long status;
	} cases[] = {
	    {"?resource=acct:other@blog.test", 404},
	    {"?resource=acct:blo@blog.test", 404},
	    {"?resource=acct:blogs@blog.test", 404},
	    {"?resource=acct:blog@other.test", 404},
	    {"?resource=acct:blog@blog.test.evil", 404},
	    {"?resource=acct:blog@blog.test:8443", 404},
	    {"?resource=acct:blog", 404},
	    {"?resource=https://blog.test/ap/actor/followers", 404},
	    {"?resource=http://blog.test/ap/actor", 404},
	    {"", 400},
	    {"?resource=", 400},
	    {"?other=acct:blog@blog.test", 400},
	};
	struct bridge *s = main_server();

	if (s == NULL)
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[512], hv[64];
		struct answer r;
		int before = check_failures;
		snprintf(path, sizeof(path), "/.well-known/webfinger%s", cases[i].query);
		get(s, path, "application/jrd+json", &r);
		check_error_reply(&r, cases[i].status);
		CHECK_STR(header(&r, "Access-Control-Allow-Origin", hv, sizeof(hv)), "*");
		if (check_failures != before)
			fprintf(stderr, "    (for %s)\n", path);
		answer_free(&r);
	}
}

/* A bridge whose base_url has a port: the acct: host carries it. */
static void t_webfinger_port(void)
{
	struct bridge *s = &port_srv;
	char base[64], acct[96], actor[128], blog[96], path[256], want[256];
	struct answer r;
	json_t *j;

	/* base_url http://localhost:PORT, no name, url or icon. */
	if (!server_setup(s, NULL, "")) {
		CHECK(!"cannot prepare the server folder");
		return;
	}
	snprintf(base, sizeof(base), "http://localhost:%d", s->port);
	snprintf(acct, sizeof(acct), HANDLE "@localhost:%d", s->port);
	snprintf(actor, sizeof(actor), "%s/ap/actor", base);
	snprintf(blog, sizeof(blog), "%s/", base);
	if (!bridge_start(s)) {
		CHECK(!"the server did not start");
		return;
	}
	snprintf(path, sizeof(path), "/.well-known/webfinger?resource=acct:%s", acct);
	get(s, path, "application/jrd+json", &r);
	/* Without url, the blog's page defaults to the bridge's origin. */
	check_webfinger_reply(&r, acct, actor, blog);
	answer_free(&r);

	get(s, "/.well-known/webfinger?resource=acct:" HANDLE "@localhost", NULL, &r);
	check_error_reply(&r, 404);
	answer_free(&r);

	get(s, "/ap/actor", AP_TYPE, &r);
	CHECK_INT(r.status, 200);
	j = reply_json(&r);
	CHECK_STR(jstr(j, "id"), actor);
	CHECK_STR(jstr(j, "webfinger"), acct);
	snprintf(want, sizeof(want), "%s/ap/actor/inbox", base);
	CHECK_STR(jstr(j, "inbox"), want);
	CHECK_STR(jstr(j, "name"), BLOG_NAME);
	CHECK(jget(j, "icon") == NULL);
	json_decref(j);
	answer_free(&r);

	get(s, "/.well-known/host-meta", NULL, &r);
	CHECK_INT(r.status, 200);
	snprintf(want, sizeof(want), "template=\"%s/.well-known/webfinger?resource={uri}\"", base);
	CHECK(check_contains(r.body, want));
	answer_free(&r);

	get(s, "/.well-known/nodeinfo", NULL, &r);
	j = reply_json(&r);
	snprintf(want, sizeof(want), "%s/ap/nodeinfo/2.1", base);
	CHECK_STR(jstr(link_with_rel(j, NODEINFO_REL), "href"), want);
	json_decref(j);
	answer_free(&r);

	CHECK_INT(bridge_stop(s, SIGTERM), 0);
}

/* ---- host-meta and NodeInfo ---- */

static void t_host_meta(void)
{
	struct bridge *s = main_server();
	struct answer r;
	char hv[256];

	if (s == NULL)
		return;
	get(s, "/.well-known/host-meta", "application/xrd+xml, application/xml, text/xml", &r);
	CHECK_INT(r.status, 200);
	CHECK(check_contains(header(&r, "Content-Type", hv, sizeof(hv)), "application/xrd+xml"));
	CHECK_STR(header(&r, "Access-Control-Allow-Origin", hv, sizeof(hv)), "*");
	CHECK(strncmp(r.body, "<?xml", 5) == 0);
	/* The default namespace, as Mastodon's XPath needs. */
	CHECK(check_contains(r.body, "<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">"));
	CHECK(check_contains(r.body, "rel=\"lrdd\""));
	CHECK(check_contains(r.body,
			     "template=\"" BASE_URL "/.well-known/webfinger?resource={uri}\""));
	CHECK(check_contains(r.body, "</XRD>"));
	answer_free(&r);
}

static void t_nodeinfo(void)
{
	struct bridge *s = main_server();
	char *argv[] = {(char *)binary, "version", NULL};
	char *out = NULL, want[64], hv[256], path[256];
	struct answer r;
	json_t *j, *protocols;
	const char *href;

	if (s == NULL)
		return;
	get(s, "/.well-known/nodeinfo", NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK(check_contains(header(&r, "Content-Type", hv, sizeof(hv)), "application/json"));
	j = reply_json(&r);
	href = jstr(link_with_rel(j, NODEINFO_REL), "href");
	CHECK_STR(href, BASE_URL "/ap/nodeinfo/2.1");
	CHECK(path_of(href, BASE_URL) != NULL);
	snprintf(path, sizeof(path), "%s", path_of(href, BASE_URL) ? path_of(href, BASE_URL) : "");
	json_decref(j);
	answer_free(&r);
	if (path[0] == '\0')
		return;
	get(s, path, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK(check_contains(header(&r, "Content-Type", hv, sizeof(hv)), "application/json"));
	CHECK(check_contains(hv, "schema/2.1"));
	j = reply_json(&r);
	CHECK_STR(jstr(j, "version"), "2.1");
	CHECK_STR(jstr(j, "software.name"), "blogbridge");
	/* The version is the one the binary prints. */
	CHECK_INT(check_run(argv, NULL, &out, NULL), 0);
	snprintf(want, sizeof(want), "blogbridge %s\n", jstr(j, "software.version"));
	CHECK_STR(out, want);
	free(out);
	protocols = jget(j, "protocols");
	CHECK(json_is_array(protocols) && json_array_size(protocols) == 1);
	CHECK_STR(json_string_value(json_array_get(protocols, 0)), "activitypub");
	CHECK(json_is_integer(jget(j, "usage.users.total")));
	CHECK_INT(json_integer_value(jget(j, "usage.users.total")), 1);
	CHECK(json_is_false(jget(j, "openRegistrations")));
	CHECK_STR(jstr(j, "metadata.nodeName"), BLOG_NAME);
	json_decref(j);
	answer_free(&r);
}

/* ---- the actor ---- */

/* The actor id from WebFinger, as Mastodon finds it (caller frees). */
static char *actor_id_from_webfinger(const struct bridge *s)
{
	struct answer r;
	json_t *j;
	char *id = NULL;

	get(s, "/.well-known/webfinger?resource=acct:" ACCT, "application/jrd+json", &r);
	j = reply_json(&r);
	if (jstr(link_with_rel(j, "self"), "href"))
		id = strdup(jstr(link_with_rel(j, "self"), "href"));
	json_decref(j);
	answer_free(&r);
	return id;
}

/* True when s is an RFC 3339 date-time of a plausible moment. */
static bool is_rfc3339_recent(const char *s)
{
	struct tm tm = {0};
	const char *end;
	time_t t, now = time(NULL);

	if (s == NULL)
		return false;
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL || strlen(s) < 20 || s[4] != '-' || s[10] != 'T')
		return false;
	if (*end == '.') /* fraction */
		for (end++; *end >= '0' && *end <= '9'; end++)
			;
	if (!(strcmp(end, "Z") == 0 ||
	      ((end[0] == '+' || end[0] == '-') && strlen(end) == 6 && end[3] == ':')))
		return false;
	t = timegm(&tm);
	/* Written when the database was made: this run, give or take. */
	return t > now - 86400 && t < now + 86400;
}

static void t_actor_accept(void)
{
	static const char *const accepts[] = {
	    AP_TYPE,
	    "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
	    "application/ld+json",
	    "application/activity+json, application/ld+json",
	    "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\", "
	    "application/activity+json, text/html;q=0.1",
	    "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\", "
	    "application/activity+json",
	    NULL, /* no Accept header */
	    "*/*",
	};
	struct bridge *s = main_server();
	char *id;
	const char *path;

	if (s == NULL)
		return;
	id = actor_id_from_webfinger(s);
	CHECK_STR(id, ACTOR_ID);
	path = path_of(id, BASE_URL);
	CHECK(path != NULL);
	for (size_t i = 0; path && i < sizeof(accepts) / sizeof(accepts[0]); i++) {
		struct answer r;
		char hv[256];
		json_t *j;
		int before = check_failures;
		get(s, path, accepts[i], &r);
		CHECK_INT(r.status, 200);
		CHECK_STR(header(&r, "Content-Type", hv, sizeof(hv)), AP_TYPE);
		CHECK_STR(header(&r, "Vary", hv, sizeof(hv)), "Accept");
		j = reply_json(&r);
		CHECK_STR(jstr(j, "id"), id);
		CHECK_STR(jstr(j, "type"), "Person");
		if (check_failures != before)
			fprintf(stderr, "    (for Accept: %s)\n",
				accepts[i] ? accepts[i] : "(none)");
		json_decref(j);
		answer_free(&r);
	}
	free(id);
}

static void t_actor_document(void)
{
	static const struct {
		const char *field, *value;
	} urls[] = {
	    {"inbox", BASE_URL "/ap/actor/inbox"},
	    {"outbox", BASE_URL "/ap/actor/outbox"},
	    {"followers", BASE_URL "/ap/actor/followers"},
	    {"following", BASE_URL "/ap/actor/following"},
	    {"endpoints.sharedInbox", BASE_URL "/ap/inbox"},
	};
	struct bridge *s = main_server();
	struct answer r;
	json_t *j, *ctx;

	if (s == NULL)
		return;
	get(s, "/ap/actor", "application/activity+json, application/ld+json", &r);
	CHECK_INT(r.status, 200);
	j = reply_json(&r);
	CHECK(json_is_object(j));
	ctx = jget(j, "@context");
	CHECK(json_is_array(ctx));
	CHECK(array_has_string(ctx, AS_CONTEXT));
	CHECK(array_has_string(ctx, SEC_CONTEXT));
	CHECK_STR(jstr(j, "id"), ACTOR_ID);
	CHECK_STR(jstr(j, "type"), "Person");
	CHECK_STR(jstr(j, "preferredUsername"), HANDLE);
	CHECK_STR(jstr(j, "webfinger"), ACCT);
	CHECK_STR(jstr(j, "name"), BLOG_NAME);
	CHECK_STR(jstr(j, "summary"), SUMMARY_HTML);
	CHECK_STR(jstr(j, "url"), BLOG_URL);
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		CHECK_STR(jstr(j, urls[i].field), urls[i].value);
	CHECK(json_is_false(jget(j, "manuallyApprovesFollowers")));
	CHECK(json_is_true(jget(j, "discoverable")));
	CHECK(json_is_true(jget(j, "indexable")));
	CHECK(is_rfc3339_recent(jstr(j, "published")));
	CHECK_STR(jstr(j, "publicKey.id"), ACTOR_ID "#main-key");
	CHECK_STR(jstr(j, "publicKey.owner"), ACTOR_ID);
	CHECK(check_contains(jstr(j, "publicKey.publicKeyPem"), "-----BEGIN PUBLIC KEY-----"));
	CHECK_STR(jstr(j, "icon.type"), "Image");
	CHECK_STR(jstr(j, "icon.url"), ICON_URL);
	CHECK_STR(jstr(j, "icon.mediaType"), "image/png");
	/* Every URL the actor names is under base_url, never the loopback. */
	CHECK(!check_contains(r.body, "127.0.0.1"));
	CHECK(!check_contains(r.body, "http://blog.test"));
	json_decref(j);
	answer_free(&r);
}

/* Loads the PEM text as a public key, or NULL. */
static EVP_PKEY *public_key_from_pem(const char *pem)
{
	BIO *bio = pem ? BIO_new_mem_buf(pem, -1) : NULL;
	EVP_PKEY *k = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;

	BIO_free(bio);
	return k;
}

/* The public half of a private key as SPKI PEM (caller frees), or NULL. */
static char *public_pem_of(EVP_PKEY *k)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *copy = NULL;
	long len;

	if (bio && PEM_write_bio_PUBKEY(bio, k) == 1 && (len = BIO_get_mem_data(bio, &data)) > 0) {
		copy = malloc((size_t)len + 1);
		if (copy) {
			memcpy(copy, data, (size_t)len);
			copy[len] = '\0';
		}
	}
	BIO_free(bio);
	return copy;
}

/* The key file the server made: data/actor.pem beside the config. */
static EVP_PKEY *server_private_key(const struct bridge *s)
{
	char path[PATH_MAX];
	EVP_PKEY *k = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/data/actor.pem", s->dir);
	f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

static void t_actor_key(void)
{
	struct bridge *s = main_server();
	EVP_PKEY *pub = NULL, *priv = NULL;
	char *pem = NULL;
	struct answer r;
	json_t *j;

	if (s == NULL)
		return;
	get(s, "/ap/actor", AP_TYPE, &r);
	j = reply_json(&r);
	pub = public_key_from_pem(jstr(j, "publicKey.publicKeyPem"));
	CHECK(pub != NULL);
	CHECK(pub && EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA);
	CHECK_INT(pub ? EVP_PKEY_get_bits(pub) : 0, 2048);
	priv = server_private_key(s);
	CHECK(priv != NULL);
	CHECK(pub && priv && EVP_PKEY_eq(pub, priv) == 1);
	pem = priv ? public_pem_of(priv) : NULL;
	CHECK_STR(jstr(j, "publicKey.publicKeyPem"), pem);
	free(pem);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(priv);
	json_decref(j);
	answer_free(&r);
}

static void t_actor_negotiation(void)
{
	struct bridge *s = main_server();
	struct answer r;
	char hv[256];

	if (s == NULL)
		return;
	get(s, "/ap/actor", BROWSER_ACCEPT, &r);
	CHECK_INT(r.status, 302);
	CHECK_STR(header(&r, "Location", hv, sizeof(hv)), BLOG_URL);
	CHECK_STR(header(&r, "Vary", hv, sizeof(hv)), "Accept");
	answer_free(&r);

	get(s, "/ap/actor", "text/html", &r);
	CHECK_INT(r.status, 302);
	CHECK_STR(header(&r, "Location", hv, sizeof(hv)), BLOG_URL);
	answer_free(&r);

	get(s, "/ap/actor", "image/png", &r);
	check_error_reply(&r, 406);
	CHECK_STR(header(&r, "Vary", hv, sizeof(hv)), "Accept");
	answer_free(&r);
}

/* ---- collections ---- */

static void check_collection(const struct bridge *s, const char *id)
{
	static const char *const bad_pages[] = {"0", "abc", "-1", "", "1x", "99999999999999999999"};
	const char *path = path_of(id, BASE_URL);
	char p[512], want[512], hv[256];
	struct answer r;
	json_t *j;

	CHECK(path != NULL);
	if (path == NULL)
		return;
	get(s, path, AP_TYPE, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(header(&r, "Content-Type", hv, sizeof(hv)), AP_TYPE);
	j = reply_json(&r);
	CHECK_STR(jstr(j, "@context"), AS_CONTEXT);
	CHECK_STR(jstr(j, "id"), id);
	CHECK_STR(jstr(j, "type"), "OrderedCollection");
	CHECK(json_is_integer(jget(j, "totalItems")));
	CHECK_INT(json_integer_value(jget(j, "totalItems")), 0);
	snprintf(want, sizeof(want), "%s?page=1", id);
	CHECK_STR(jstr(j, "first"), want);
	json_decref(j);
	answer_free(&r);

	snprintf(p, sizeof(p), "%s?page=1", path);
	get(s, p, AP_TYPE, &r);
	CHECK_INT(r.status, 200);
	j = reply_json(&r);
	CHECK_STR(jstr(j, "type"), "OrderedCollectionPage");
	CHECK_STR(jstr(j, "id"), want);
	CHECK_STR(jstr(j, "partOf"), id);
	CHECK(json_is_array(jget(j, "orderedItems")));
	CHECK_INT(json_array_size(jget(j, "orderedItems")), 0);
	CHECK(jget(j, "next") == NULL);
	json_decref(j);
	answer_free(&r);

	for (size_t i = 0; i < sizeof(bad_pages) / sizeof(bad_pages[0]); i++) {
		int before = check_failures;
		snprintf(p, sizeof(p), "%s?page=%s", path, bad_pages[i]);
		get(s, p, AP_TYPE, &r);
		check_error_reply(&r, 400);
		if (check_failures != before)
			fprintf(stderr, "    (for %s)\n", p);
		answer_free(&r);
	}
}

static void t_collections(void)
{
	struct bridge *s = main_server();
	struct answer r;
	json_t *j;
	char *ids[3] = {0};

	if (s == NULL)
		return;
	/* Follow the actor's own links, as a client does. */
	get(s, "/ap/actor", AP_TYPE, &r);
	j = reply_json(&r);
	if (jstr(j, "followers"))
		ids[0] = strdup(jstr(j, "followers"));
	if (jstr(j, "outbox"))
		ids[1] = strdup(jstr(j, "outbox"));
	if (jstr(j, "following"))
		ids[2] = strdup(jstr(j, "following"));
	json_decref(j);
	answer_free(&r);
	for (size_t i = 0; i < 3; i++) {
		CHECK(ids[i] != NULL);
		if (ids[i])
			check_collection(s, ids[i]);
		free(ids[i]);
	}
}

/* ---- errors and methods ---- */

static void t_errors_and_methods(void)
{
	struct bridge *s = main_server();
	struct answer r, full;
	char hv[256], len[32];

	if (s == NULL)
		return;
	get(s, "/no/such/page", AP_TYPE, &r);
	check_error_reply(&r, 404);
	answer_free(&r);

	get(s, "/", NULL, &r);
	check_error_reply(&r, 404);
	answer_free(&r);

	fetch(s, NULL, "POST", "/ap/actor", AP_TYPE, NULL, &r);
	check_error_reply(&r, 405);
	CHECK_STR(header(&r, "Allow", hv, sizeof(hv)), "GET, HEAD");
	answer_free(&r);

	fetch(s, NULL, "DELETE", "/.well-known/webfinger?resource=acct:" ACCT, NULL, NULL, &r);
	check_error_reply(&r, 405);
	CHECK_STR(header(&r, "Allow", hv, sizeof(hv)), "GET, HEAD");
	answer_free(&r);

	get(s, "/ap/actor", AP_TYPE, &full);
	CHECK_INT(full.status, 200);
	fetch(s, NULL, "HEAD", "/ap/actor", AP_TYPE, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_INT(r.len, 0);
	CHECK_STR(header(&r, "Content-Type", hv, sizeof(hv)), AP_TYPE);
	snprintf(len, sizeof(len), "%zu", full.len);
	CHECK_STR(header(&r, "Content-Length", hv, sizeof(hv)), len);
	answer_free(&r);
	answer_free(&full);
}

/* ---- robustness ---- */

/* A string of n copies of c (caller frees). */
static char *filler(const char *prefix, size_t n, char c)
{
	size_t pl = strlen(prefix);
	char *s = malloc(pl + n + 1);

	if (s == NULL)
		abort();
	memcpy(s, prefix, pl);
	memset(s + pl, c, n);
	s[pl + n] = '\0';
	return s;
}

/* The server still answers WebFinger correctly. */
static void check_still_answers(const struct bridge *s)
{
	struct answer r;

	get(s, "/.well-known/webfinger?resource=acct:" ACCT, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK(check_contains(r.body, "\"acct:" ACCT "\""));
	answer_free(&r);
}

static void t_oversized_requests(void)
{
	struct bridge *s = main_server();
	struct answer r;
	char *big;

	if (s == NULL)
		return;
	/* A 10 KB header is within the server's header memory: it must be
	 * answered properly (no crash, no 5xx). */
	big = filler("X-Filler: ", 10 * 1024, 'a');
	fetch(s, NULL, "GET", "/ap/actor", AP_TYPE, big, &r);
	CHECK_INT(r.status, 200);
	free(big);
	answer_free(&r);
	check_still_answers(s);

	/* 64 KB of header is beyond it: 431, and the server lives on. */
	big = filler("X-Filler: ", 64 * 1024, 'b');
	fetch(s, NULL, "GET", "/ap/actor", AP_TYPE, big, &r);
	CHECK_INT(r.status, 431);
	free(big);
	answer_free(&r);
	check_still_answers(s);

	/* A 10 KB path names nothing here: 404. */
	big = filler("/ap/", 10 * 1024, 'c');
	get(s, big, AP_TYPE, &r);
	CHECK_INT(r.status, 404);
	free(big);
	answer_free(&r);
	check_still_answers(s);

	/* A 64 KB URL: 414. */
	big = filler("/.well-known/webfinger?resource=", 64 * 1024, 'd');
	get(s, big, AP_TYPE, &r);
	CHECK_INT(r.status, 414);
	free(big);
	answer_free(&r);
	check_still_answers(s);
}

/* Many requests over one connection: responses must not close it. */
static void t_keep_alive(void)
{
	static const struct {
		const char *path;
		long status;
	} rounds[] = {
	    {"/ap/actor", 200},
	    {"/.well-known/webfinger?resource=acct:" ACCT, 200},
	    {"/ap/actor/followers?page=1", 200},
	    {"/.well-known/nodeinfo", 200},
	    {"/no/such/page", 404},
	    {"/ap/actor/outbox?page=abc", 400},
	};
	struct bridge *s = main_server();
	CURL *h;
	long connects = 0;
	int wrong = 0;

	if (s == NULL)
		return;
	h = curl_easy_init();
	CHECK(h != NULL);
	if (h == NULL)
		return;
	for (int i = 0; i < 200; i++) {
		size_t k = (size_t)i % (sizeof(rounds) / sizeof(rounds[0]));
		struct answer r;
		fetch(s, h, "GET", rounds[k].path, AP_TYPE, NULL, &r);
		if (r.status != rounds[k].status || r.len == 0) {
			if (wrong++ < 3)
				check_fail(__FILE__, __LINE__, "round %d, %s: status %ld", i,
					   rounds[k].path, r.status);
		}
		connects += r.connects;
		answer_free(&r);
	}
	CHECK_INT(wrong, 0);
	/* One connection for all of them (two at most, for slack). */
	CHECK(connects >= 1 && connects <= 2);
	if (connects > 2)
		fprintf(stderr, "    200 requests opened %ld connections\n", connects);
	curl_easy_cleanup(h);
}

/* ---- shutdown and restart ---- */

/* The actor's publicKeyPem and published (caller frees both). */
static void actor_identity(const struct bridge *s, char **pem, char **published)
{
	struct answer r;
	json_t *j;

	*pem = *published = NULL;
	get(s, "/ap/actor", AP_TYPE, &r);
	j = reply_json(&r);
	if (jstr(j, "publicKey.publicKeyPem"))
		*pem = strdup(jstr(j, "publicKey.publicKeyPem"));
	if (jstr(j, "published"))
		*published = strdup(jstr(j, "published"));
	json_decref(j);
	answer_free(&r);
}

/* The whole content of a file (caller frees), or NULL. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char chunk[4096], *buf = calloc(1, 1);
	size_t len = 0, n;

	if (f == NULL || buf == NULL) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (!grow_append(&buf, &len, chunk, n))
			break;
	fclose(f);
	return buf;
}

static void t_shutdown_and_restart(void)
{
	struct bridge *s = main_server();
	char db[PATH_MAX], key[PATH_MAX];
	char *pem1, *pub1, *pem2, *pub2, *key1, *key2;
	struct stat sb;

	if (s == NULL)
		return;
	actor_identity(s, &pem1, &pub1);
	CHECK(pem1 != NULL && pub1 != NULL);
	CHECK_INT(bridge_stop(s, SIGTERM), 0);
	CHECK(!port_answers(s->port));

	snprintf(db, sizeof(db), "%s/data/bridge.db", s->dir);
	snprintf(key, sizeof(key), "%s/data/actor.pem", s->dir);
	CHECK(stat(db, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0);
	CHECK(stat(key, &sb) == 0 && S_ISREG(sb.st_mode));
	CHECK_INT(sb.st_mode & 07777, 0600);
	key1 = slurp(key);
	CHECK(check_contains(key1, "-----BEGIN PRIVATE KEY-----"));

	/* A restart keeps the identity: same key (file untouched), same
	 * published date; SIGINT stops it as cleanly. */
	CHECK(bridge_start(s));
	actor_identity(s, &pem2, &pub2);
	CHECK_STR(pem2, pem1);
	CHECK_STR(pub2, pub1);
	key2 = slurp(key);
	CHECK_STR(key2, key1);
	CHECK_INT(bridge_stop(s, SIGINT), 0);
	free(pem1);
	free(pub1);
	free(pem2);
	free(pub2);
	free(key1);
	free(key2);
}

/* Sends all of buf on fd; false on error. */
static bool send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* Bytes sent on fds not yet read by the server listening on port: in the
 * senders' queues (SIOCOUTQ), or received by the kernel but not read by
 * the server (rx_queue of its sockets in /proc/net/tcp); -1 when unknown. */
static long long unread_bytes(const int *fds, int n, int port)
{
	char line[512];
	long long total = 0;
	FILE *f;

	for (int i = 0; i < n; i++) {
		int q = 0;
		if (fds[i] >= 0 && ioctl(fds[i], SIOCOUTQ, &q) != 0)
			return -1;
		total += q;
	}
	f = fopen("/proc/net/tcp", "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned lport, state;
		unsigned long tx, rx;
		int got = sscanf(line, " %*u: %*x:%x %*x:%*x %x %lx:%lx", &lport, &state, &tx, &rx);
		if (got == 4 && (int)lport == port && state == 1 /* ESTABLISHED */)
			total += (long long)rx;
	}
	fclose(f);
	return total;
}

#define BUDGET_WAIT_MS 30000

/* Waits (bounded) until the server listening on port has read all that
 * was sent on fds. */
static bool wait_all_read(const int *fds, int n, int port)
{
	for (int waited = 0; waited < BUDGET_WAIT_MS; waited += 5) {
		if (unread_bytes(fds, n, port) == 0)
			return true;
		sleep_ms(5);
	}
	return unread_bytes(fds, n, port) == 0;
}

/* Bodies held at once across connections are bounded (64 MiB): 70
 * connections each holding most of a 1 MiB body in flight take more than
 * that, so some are answered 503 with Retry-After, the others go on to
 * the inbox (401: unsigned), and the server still answers afterwards. */
#define BUDGET_CONNS 70
static void t_body_budget(void)
{
	struct bridge *s = main_server();
	static char chunk[1000 * 1000];
	int fds[BUDGET_CONNS];
	int n503 = 0, n401 = 0, other = 0;
	struct sockaddr_in sin = {.sin_family = AF_INET};

	if (s == NULL)
		return;
	memset(chunk, 'x', sizeof(chunk));
	sin.sin_port = htons((uint16_t)s->port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	for (int i = 0; i < BUDGET_CONNS; i++) {
		char head[256];
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&sin, sizeof(sin)) != 0) {
			CHECK(!"connect");
			fds[i] = -1;
			continue;
		}
		snprintf(head, sizeof(head),
			 "POST /ap/inbox HTTP/1.1\r\nHost: blog.test\r\nContent-Type: "
			 "application/activity+json\r\nContent-Length: %d\r\n\r\n",
			 1024 * 1024);
		CHECK(send_all(fds[i], head, strlen(head)));
		CHECK(send_all(fds[i], chunk, sizeof(chunk)));
		/* One first part at a time, read by the server before the
		 * next is sent: the budget fills in order and the last few
		 * are over it (read all at once, many would each be refused
		 * part-way, holding what they had: far fewer 401s). */
		CHECK(wait_all_read(fds, i + 1, s->port));
	}
	for (int i = 0; i < BUDGET_CONNS; i++) {
		static char rest[1024 * 1024 - sizeof(chunk)];
		char resp[4096];
		ssize_t got;
		struct timeval tv = {10, 0};
		if (fds[i] < 0)
			continue;
		memset(rest, '}', sizeof(rest));
		CHECK(send_all(fds[i], rest, sizeof(rest)));
		setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		got = recv(fds[i], resp, sizeof(resp) - 1, 0);
		resp[got > 0 ? got : 0] = '\0';
		if (strncmp(resp, "HTTP/1.1 503", 12) == 0) {
			n503++;
			CHECK(check_contains(resp, "Retry-After: 30"));
		} else if (strncmp(resp, "HTTP/1.1 401", 12) == 0) {
			n401++;
		} else {
			other++;
		}
		close(fds[i]);
	}
	fprintf(stderr, "     %d answered 401, %d answered 503, %d other\n", n401, n503, other);
	/* 64 MiB hold 67 of the 1,000,000-byte parts sent first: the others
	 * are over budget; every connection gets one of the two answers. */
	CHECK(n503 >= BUDGET_CONNS - 67);
	CHECK(n401 >= 60);
	CHECK_INT(n401 + n503, BUDGET_CONNS);
	CHECK_INT(other, 0);
	check_still_answers(s);
}

static const struct check_case cases[] = {
    {"webfinger_forms", t_webfinger_forms},
    {"webfinger_errors", t_webfinger_errors},
    {"webfinger_port", t_webfinger_port},
    {"host_meta", t_host_meta},
    {"nodeinfo", t_nodeinfo},
    {"actor_accept", t_actor_accept},
    {"actor_document", t_actor_document},
    {"actor_key", t_actor_key},
    {"actor_negotiation", t_actor_negotiation},
    {"collections", t_collections},
    {"errors_and_methods", t_errors_and_methods},
    {"oversized_requests", t_oversized_requests},
    {"body_budget", t_body_budget},
    {"keep_alive", t_keep_alive},
    {"shutdown_and_restart", t_shutdown_and_restart},
};

/* Kills what is still running and removes the folders. */
static void cleanup(bool keep_logs)
{
	struct bridge *all[] = {&main_srv, &port_srv};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		bridge_stop(all[i], SIGKILL);
		if (keep_logs)
			bridge_dump_log(all[i]);
		bridge_remove(all[i]);
	}
}

int main(int argc, char **argv)
{
	int rc;

	binary = bridge_main_init(argc, argv, "test_http");
	if (binary == NULL)
		return 2;
	/* argv[1] takes the place of the program name: the rest are cases. */
	rc = check_main(argc - 1, argv + 1, cases, sizeof(cases) / sizeof(cases[0]));
	cleanup(rc != 0);
	curl_global_cleanup();
	return rc;
}
