/*
 * fetch.c — see fetch.h.
 *
 * The address check sits in libcurl's open-socket callback, so it sees the
 * address each connection really goes to, after DNS resolution and for
 * every address curl tries (happy eyeballs included): a name that resolves
 * to 127.0.0.1, or is rebound to it between two lookups, is refused all
 * the same.  Redirects are never followed by curl: fetch_get follows them
 * itself so that each hop's URL passes fetch_url_allowed and is signed
 * afresh (the signature covers the path and the host).  Proxies from the
 * environment are ignored, because a proxy would make the checked address
 * the proxy's and not the target's.
 */
#include "fetch.h"
#include "buf.h"
#include "httpsig.h"
#include "url.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

void fetch_result_clear(struct fetch_result *r)
{
	free(r->body);
	free(r->content_type);
	free(r->url);
	memset(r, 0, sizeof(*r));
}

/* ---- addresses ------------------------------------------------------- */

/* IPv4 ranges a stranger's URL may not reach: the RFC 6890 special-purpose
 * registry, minus the documentation nets (unroutable anyway). */
static const struct {
	uint32_t net;
	unsigned bits;
} v4_refused[] = {
	{0x00000000, 8},  /* 0.0.0.0/8 "this network" (0.0.0.0 reaches localhost) */
	{0x0a000000, 8},  /* 10.0.0.0/8 private, RFC 1918 */
	{0x64400000, 10}, /* 100.64.0.0/10 carrier-grade NAT, RFC 6598 */
	{0x7f000000, 8},  /* 127.0.0.0/8 loopback */
	{0xa9fe0000, 16}, /* 169.254.0.0/16 link-local (cloud metadata lives here) */
	{0xac100000, 12}, /* 172.16.0.0/12 private */
	{0xc0000000, 24}, /* 192.0.0.0/24 IETF protocol assignments */
	{0xc0a80000, 16}, /* 192.168.0.0/16 private */
	{0xc6120000, 15}, /* 198.18.0.0/15 benchmarking */
	{0xe0000000, 4},  /* 224.0.0.0/4 multicast */
	{0xf0000000, 4},  /* 240.0.0.0/4 reserved */
	{0xffffffff, 32}, /* 255.255.255.255 broadcast (inside 240/4; named for the reader) */
};

/* a is in host byte order. */
static bool v4_allowed(uint32_t a)
{
	for (size_t i = 0; i < sizeof(v4_refused) / sizeof(v4_refused[0]); i++) {
		uint32_t mask = 0xffffffffu << (32 - v4_refused[i].bits);
		if ((a & mask) == v4_refused[i].net)
			return false;
	}
	return true;
}

static uint32_t load_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool v6_allowed(const unsigned char a[16])
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char compat[12] = {0};
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
	static const unsigned char nat64_local[6] = {0, 0x64, 0xff, 0x9b, 0, 0x01};

	/* ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible; :: and ::1 fall in
	 * 0.0.0.0/8 here) and 64:ff9b::a.b.c.d (NAT64, RFC 6052) reach the
	 * IPv4 address inside: the IPv4 rules apply to it. */
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, compat, 12) == 0 ||
	    memcmp(a, nat64, 12) == 0)
		return v4_allowed(load_be32(a + 12));
	if (memcmp(a, nat64_local, 6) == 0) /* 64:ff9b:1::/48, local-use NAT64, RFC 8215 */
		return false;
	if (a[0] == 0x20 && a[1] == 0x02) /* 2002::/16, 6to4: the IPv4 address follows */
		return v4_allowed(load_be32(a + 2));
	if ((a[0] & 0xfe) == 0xfc) /* fc00::/7 unique local */
		return false;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) /* fe80::/10 link-local */
		return false;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) /* fec0::/10 site-local (deprecated) */
		return false;
	if (a[0] == 0xff) /* ff00::/8 multicast */
		return false;
	return true;
}

bool fetch_address_allowed(const struct sockaddr *sa, bool allow_private)
{
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;

	if (sa == NULL)
		return false;
	/* Copied out: the caller's storage need not be aligned for the type. */
	if (sa->sa_family == AF_INET) {
		memcpy(&in4, sa, sizeof(in4));
		return allow_private || v4_allowed(ntohl(in4.sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(&in6, sa, sizeof(in6));
		return allow_private || v6_allowed(in6.sin6_addr.s6_addr);
	}
	return false;
}

/* ---- URLs ------------------------------------------------------------ */

/* Checks url against the policy and returns it as curl will send it
 * (url_format: canonical host, dot segments removed, no fragment) in *out
 * (caller frees).  false when refused; *out is NULL then, as it is when
 * out of memory (*nomem set). */
static bool url_normalize(const char *url, bool allow_private, char **out, bool *nomem)
{
	struct url *u = NULL;
	struct err e = {0};
	enum bb_rc rc;
	bool ok = false;

	*out = NULL;
	*nomem = false;
	if (url == NULL || strlen(url) > FETCH_URL_MAX)
		goto out;
	u = malloc(sizeof(*u));
	if (u == NULL) {
		*nomem = true;
		goto out;
	}
	/* url_parse also refuses what curl tolerates and the signer does
	 * not: "https:/host", "https:host", "https:///host", spaces. */
	rc = url_parse(url, URL_REMOVE_DOTS, u, &e);
	if (rc != BB_OK) {
		*nomem = rc == BB_ERR_NOMEM;
		goto out;
	}
	if (strcmp(u->scheme, "https") != 0 && !(allow_private && strcmp(u->scheme, "http") == 0))
		goto out;
	/* Credentials in a URL from a stranger: refused, never sent. */
	if (u->has_userinfo)
		goto out;
	rc = url_format(u, out, &e);
	if (rc != BB_OK) {
		*nomem = rc == BB_ERR_NOMEM;
		goto out;
	}
	if (strlen(*out) > FETCH_URL_MAX) {
		free(*out);
		*out = NULL;
		goto out;
	}
	ok = true;
out:
	free(u);
	return ok;
}

enum bb_rc fetch_url_normalize(const char *url, bool allow_private, char **out, struct err *e)
{
	bool nomem = false;

	if (url_normalize(url, allow_private, out, &nomem))
		return BB_OK;
	if (nomem)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	return err_set(e, BB_ERR_UNSAFE, "URL refused by the fetch policy: %.200s", url ? url : "");
}

bool fetch_url_allowed(const char *url, bool allow_private)
{
	char *norm = NULL;
	bool nomem, ok = url_normalize(url, allow_private, &norm, &nomem);

	free(norm);
	return ok;
}

/* ---- the policy on a handle ------------------------------------------ */

/* Opens the socket for one connection attempt, or refuses it. */
static curl_socket_t open_checked(bool allow_private, struct curl_sockaddr *a, bool *refused)
{
	struct sockaddr_storage ss;

	if (a->addrlen > sizeof(ss)) {
		*refused = true;
		return CURL_SOCKET_BAD;
	}
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, &a->addr, a->addrlen);
	if (!fetch_address_allowed((const struct sockaddr *)&ss, allow_private)) {
		*refused = true;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static curl_socket_t on_open_cfg(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	const struct fetch_config *cfg = arg;
	bool refused = false;

	(void)purpose;
	return open_checked(cfg->allow_private, a, &refused);
}

static curl_socket_t on_open_guard(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct fetch_guard *g = arg;

	(void)purpose;
	return open_checked(g->allow_private, a, &g->refused);
}

bool fetch_setopt_ok(CURLcode cc, const char *option, struct err *e)
{
	if (cc == CURLE_OK)
		return true;
	err_set(e, BB_ERR_IO, "cannot set %s: %s", option, curl_easy_strerror(cc));
	return false;
}

/* Everything but the socket callback. */
static enum bb_rc policy_common(CURL *h, const struct fetch_config *cfg, struct err *e)
{
	const char *protocols = cfg->allow_private ? "http,https" : "https";
	long connect_timeout = FETCH_CONNECT_TIMEOUT_S;
	const char *ua = cfg->user_agent[0] ? cfg->user_agent : "blogbridge";
	long timeout = cfg->timeout_s > 0 ? cfg->timeout_s : FETCH_TOTAL_TIMEOUT_S;

	if (!FETCH_SETOPT(h, CURLOPT_PROTOCOLS_STR, protocols, e) ||
	    !FETCH_SETOPT(h, CURLOPT_REDIR_PROTOCOLS_STR, protocols, e) ||
	    !FETCH_SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L, e) ||
	    !FETCH_SETOPT(h, CURLOPT_MAXREDIRS, 0L, e) || !FETCH_SETOPT(h, CURLOPT_PROXY, "", e) ||
	    !FETCH_SETOPT(h, CURLOPT_CONNECTTIMEOUT, connect_timeout, e) ||
	    !FETCH_SETOPT(h, CURLOPT_TIMEOUT, timeout, e) ||
	    !FETCH_SETOPT(h, CURLOPT_NOSIGNAL, 1L, e) ||
	    !FETCH_SETOPT(h, CURLOPT_ACCEPT_ENCODING, "", e) ||
	    !FETCH_SETOPT(h, CURLOPT_USERAGENT, ua, e))
		return BB_ERR_IO; /* e names the option */
	return BB_OK;
}

enum bb_rc fetch_curl_policy(CURL *h, const struct fetch_config *cfg, struct err *e)
{
	enum bb_rc rc = policy_common(h, cfg, e);

	if (rc != BB_OK)
		return rc;
	if (!FETCH_SETOPT(h, CURLOPT_OPENSOCKETFUNCTION, on_open_cfg, e) ||
	    !FETCH_SETOPT(h, CURLOPT_OPENSOCKETDATA, (void *)cfg, e))
		return BB_ERR_IO; /* e names the option */
	return BB_OK;
}

enum bb_rc fetch_curl_policy_guard(CURL *h, const struct fetch_config *cfg, struct fetch_guard *g,
				   struct err *e)
{
	enum bb_rc rc = policy_common(h, cfg, e);

	if (rc != BB_OK)
		return rc;
	g->allow_private = cfg->allow_private;
	g->refused = false;
	if (!FETCH_SETOPT(h, CURLOPT_OPENSOCKETFUNCTION, on_open_guard, e) ||
	    !FETCH_SETOPT(h, CURLOPT_OPENSOCKETDATA, g, e))
		return BB_ERR_IO; /* e names the option */
	return BB_OK;
}

/* ---- fetch_get -------------------------------------------------------- */

/* The body of the current hop, bounded in decoded bytes. */
struct sink {
	struct buf body;
	enum bb_rc rc; /* why the write callback stopped the transfer */
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n; /* size is always 1 */

	s->rc = buf_append(&s->body, data, len);
	return s->rc == BB_OK ? len : 0;
}

/* One transfer: the state fetch_get keeps across hops. */
struct fetch_ctx {
	const struct fetch_config *cfg;
	const char *accept;
	CURL *h;
	struct fetch_guard guard;
	struct sink sink;
	char errbuf[CURL_ERROR_SIZE];
	struct timespec deadline;
};

/* Appends "name: value" to *list. */
static enum bb_rc header_add(struct curl_slist **list, const char *name, const char *value,
			     struct err *e)
{
	struct buf line;
	struct curl_slist *l = NULL;

	buf_init(&line, HTTPSIG_HEADER_MAX + 64);
	if (buf_printf(&line, "%s: %s", name, value) == BB_OK)
		l = curl_slist_append(*list, line.data);
	buf_free(&line);
	if (l == NULL)
		return err_set(e, BB_ERR_NOMEM, "cannot build the %s header", name);
	*list = l;
	return BB_OK;
}

/* Milliseconds left before the deadline (at most 0 when past). */
static long ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(deadline->tv_sec - now.tv_sec) * 1000 +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* The request headers of one hop: Accept, and when signing the Host and
 * Date the signature covers, sent exactly as signed (curl would send the
 * URL's host unchanged; the signer lower-cases it). */
static enum bb_rc hop_headers(struct fetch_ctx *c, const char *url, struct curl_slist **list,
			      struct err *e)
{
	struct httpsig_signed s = {0};
	enum bb_rc rc;

	rc = header_add(list, "Accept", c->accept, e);
	if (rc != BB_OK || c->cfg->key == NULL)
		return rc;
	if (c->cfg->key_id == NULL)
		return err_set(e, BB_ERR_CONFIG, "signed fetch without a key id");
	rc = httpsig_sign(HTTPSIG_CAVAGE, c->cfg->key, c->cfg->key_id, "GET", url, NULL, NULL, 0,
			  time(NULL), &s, e);
	if (rc != BB_OK)
		goto out;
	rc = header_add(list, "Host", s.host, e);
	if (rc == BB_OK)
		rc = header_add(list, "Date", s.date, e);
	if (rc == BB_OK)
		rc = header_add(list, "Signature", s.signature, e);
out:
	httpsig_signed_clear(&s);
	return rc;
}

/* Performs one GET of url (normalized and allowed); *status on BB_OK. */
static enum bb_rc hop(struct fetch_ctx *c, const char *url, long *status, struct err *e)
{
	struct curl_slist *hdrs = NULL;
	long left = ms_left(&c->deadline);
	struct err oe = {0};
	CURLcode cc;
	enum bb_rc rc;

	if (left <= 0) {
		rc = err_set(e, BB_ERR_TEMPFAIL, "GET %.200s: timed out", url);
		goto out;
	}
	rc = hop_headers(c, url, &hdrs, e);
	if (rc != BB_OK)
		goto out;
	buf_reset(&c->sink.body);
	c->sink.rc = BB_OK;
	c->guard.refused = false;
	c->errbuf[0] = '\0';
	if (!FETCH_SETOPT(c->h, CURLOPT_URL, url, &oe) ||
	    !FETCH_SETOPT(c->h, CURLOPT_HTTPHEADER, hdrs, &oe) ||
	    !FETCH_SETOPT(c->h, CURLOPT_TIMEOUT_MS, left, &oe)) {
		rc = err_set(e, BB_ERR_IO, "GET %.200s: %s", url, oe.msg);
		goto out;
	}
	cc = curl_easy_perform(c->h);
	if (cc == CURLE_WRITE_ERROR && c->sink.rc == BB_ERR_LIMIT) {
		rc = err_set(e, BB_ERR_LIMIT, "GET %.200s: body over %zu bytes", url,
			     c->sink.body.limit);
	} else if (cc == CURLE_WRITE_ERROR && c->sink.rc == BB_ERR_NOMEM) {
		rc = err_set(e, BB_ERR_NOMEM, "GET %.200s: out of memory", url);
	} else if (cc == CURLE_COULDNT_CONNECT && c->guard.refused) {
		rc = err_set(e, BB_ERR_UNSAFE,
			     "GET %.200s: refused to connect to a private or special address", url);
	} else if (cc == CURLE_OUT_OF_MEMORY) {
		rc = err_set(e, BB_ERR_NOMEM, "GET %.200s: out of memory", url);
	} else if (cc != CURLE_OK) {
		rc = err_set(e, BB_ERR_TEMPFAIL, "GET %.200s: %s", url,
			     c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
	} else if (curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, status) != CURLE_OK) {
		rc = err_set(e, BB_ERR_IO, "GET %.200s: no response code", url);
	}
out:
	/* The handle must not keep pointing at the list freed here. */
	if (curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL) != CURLE_OK && rc == BB_OK)
		rc = err_set(e, BB_ERR_IO, "GET %.200s: cannot reset the headers", url);
	curl_slist_free_all(hdrs);
	return rc;
}

static bool is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* The next hop after a redirect from url: *next (caller frees), or NULL
 * when the response has no Location. */
static enum bb_rc redirect_target(struct fetch_ctx *c, const char *url, char **next,
				  struct err *e)
{
	struct curl_header *loc = NULL;
	char *abs = NULL;
	bool nomem = false;
	enum bb_rc rc = BB_OK;

	*next = NULL;
	if (curl_easy_header(c->h, "Location", 0, CURLH_HEADER, -1, &loc) != CURLHE_OK)
		goto out;
	/* A relative Location resolves against the URL it came from
	 * (RFC 9110 §10.2.2); any scheme parses so the policy can name it. */
	if (strlen(loc->value) > FETCH_URL_MAX ||
	    (rc = url_resolve(url, loc->value, &abs, e)) != BB_OK) {
		rc = rc == BB_ERR_NOMEM
			 ? rc
			 : err_set(e, BB_ERR_INVALID, "GET %.200s: unusable Location '%.200s'", url,
				   loc->value);
		goto out;
	}
	if (!url_normalize(abs, c->cfg->allow_private, next, &nomem)) {
		rc = nomem ? err_set(e, BB_ERR_NOMEM, "out of memory")
			   : err_set(e, BB_ERR_UNSAFE, "GET %.200s: refused redirect to '%.200s'",
				     url, abs);
		goto out;
	}
out:
	free(abs);
	return rc;
}

/* Fills out from the last hop; takes url. */
static enum bb_rc result_fill(struct fetch_ctx *c, long status, char *url,
			      struct fetch_result *out, struct err *e)
{
	char *ct = NULL;

	out->status = status;
	out->url = url;
	out->body_len = c->sink.body.len;
	out->body = buf_take(&c->sink.body);
	if (curl_easy_getinfo(c->h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL)
		out->content_type = strdup(ct);
	if (out->body == NULL || (ct != NULL && out->content_type == NULL)) {
		fetch_result_clear(out);
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	}
	return BB_OK;
}

enum bb_rc fetch_get(const struct fetch_config *cfg, const char *url, const char *accept,
		     size_t max_body, struct fetch_result *out, struct err *e)
{
	struct fetch_ctx c = {.cfg = cfg, .accept = accept};
	char *cur = NULL, *next = NULL;
	long status = 0;
	bool nomem = false;
	enum bb_rc rc;

	memset(out, 0, sizeof(*out));
	buf_init(&c.sink.body, max_body);
	clock_gettime(CLOCK_MONOTONIC, &c.deadline);
	c.deadline.tv_sec += cfg->timeout_s > 0 ? cfg->timeout_s : FETCH_TOTAL_TIMEOUT_S;
	if (!url_normalize(url, cfg->allow_private, &cur, &nomem)) {
		rc = nomem ? err_set(e, BB_ERR_NOMEM, "out of memory")
			   : err_set(e, BB_ERR_UNSAFE, "refusing to fetch '%.200s'",
				     url ? url : "(null)");
		goto out;
	}
	c.h = curl_easy_init();
	if (c.h == NULL) {
		rc = err_set(e, BB_ERR_NOMEM, "cannot create a curl handle");
		goto out;
	}
	rc = fetch_curl_policy_guard(c.h, cfg, &c.guard, e);
	if (rc != BB_OK)
		goto out;
	if (!FETCH_SETOPT(c.h, CURLOPT_WRITEFUNCTION, on_body, e) ||
	    !FETCH_SETOPT(c.h, CURLOPT_WRITEDATA, &c.sink, e) ||
	    !FETCH_SETOPT(c.h, CURLOPT_ERRORBUFFER, c.errbuf, e)) {
		rc = BB_ERR_IO; /* e names the option */
		goto out;
	}
	for (int redirects = 0;; redirects++) {
		rc = hop(&c, cur, &status, e);
		if (rc != BB_OK || !is_redirect(status))
			break;
		rc = redirect_target(&c, cur, &next, e);
		if (rc != BB_OK || next == NULL)
			break;
		if (redirects == FETCH_REDIRECTS_MAX) {
			rc = err_set(e, BB_ERR_LIMIT, "GET %.200s: more than %d redirects", url,
				     FETCH_REDIRECTS_MAX);
			break;
		}
		free(cur);
		cur = next;
		next = NULL;
	}
	if (rc == BB_OK) {
		rc = result_fill(&c, status, cur, out, e);
		cur = NULL;
	}
out:
	free(cur);
	free(next);
	buf_free(&c.sink.body);
	if (c.h)
		curl_easy_cleanup(c.h);
	return rc;
}
