/*
 * url.c — see url.h.  curl parses (lib/urlapi.c: the same code that will
 * send the request); this file adds the form check curl is lenient about,
 * the canonical host (case, IDN, trailing dot, IPv6 text form, default
 * port), and the comparisons built on it.
 *
 * IDN: curl's own conversion (CURLU_PUNYCODE, 7.88) calls libidn2's
 * idn2_lookup_ul, which reads the name in the locale's charset: in the C
 * locale a server runs in, every non-ASCII name fails.  So libidn2 is
 * called directly, on the UTF-8 bytes.
 */
#include "url.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <idn2.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- form ------------------------------------------------------------- */

/* The form curl does not check: "scheme://" with a non-empty authority,
 * no space or control byte, at most URL_MAX bytes. */
static enum bb_rc form_check(const char *s, struct err *e)
{
	size_t len, sl;

	if (s == NULL || s[0] == '\0')
		return err_set(e, BB_ERR_INVALID, "empty URL");
	len = strlen(s);
	if (len > URL_MAX)
		return err_set(e, BB_ERR_LIMIT, "URL longer than %d bytes", URL_MAX);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return err_set(e, BB_ERR_INVALID, "'%.200s': space or control byte in URL",
				       s);
	sl = strcspn(s, ":/?#");
	if (sl == 0 || strncmp(s + sl, "://", 3) != 0 || strcspn(s + sl + 3, "/?#") == 0)
		return err_set(e, BB_ERR_INVALID, "'%.200s' is not an absolute scheme://host URL",
			       s);
	return BB_OK;
}

/* ---- the canonical host ---------------------------------------------- */

static bool is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* Copies the ASCII form of the non-ASCII host name (UTF-8) host into out
 * (n bytes). */
static enum bb_rc host_idn(const char *host, char *out, size_t n, struct err *e)
{
	char *ace = NULL;
	enum bb_rc rc = BB_OK;

	/* UTS 46 mapping (case folding, NFC) then IDNA2008, as browsers. */
	if (idn2_to_ascii_8z(host, &ace, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK) {
		rc = err_set(e, BB_ERR_INVALID, "host '%.200s' is not a valid IDN", host);
		goto out;
	}
	if (strlen(ace) >= n) {
		rc = err_set(e, BB_ERR_LIMIT, "host longer than %d bytes", URL_HOST_MAX);
		goto out;
	}
	memcpy(out, ace, strlen(ace) + 1);
out:
	free(ace);
	return rc;
}

/* "[v6]" in its RFC 5952 form into out (n bytes). */
static enum bb_rc host_v6(const char *host, char *out, size_t n, struct err *e)
{
	char inner[INET6_ADDRSTRLEN + 1], text[INET6_ADDRSTRLEN];
	struct in6_addr a;
	size_t len = strlen(host);

	if (len < 3 || host[len - 1] != ']' || len - 2 >= sizeof(inner))
		return err_set(e, BB_ERR_INVALID, "bad IPv6 host '%.200s'", host);
	memcpy(inner, host + 1, len - 2);
	inner[len - 2] = '\0';
	if (inet_pton(AF_INET6, inner, &a) != 1 ||
	    inet_ntop(AF_INET6, &a, text, sizeof(text)) == NULL)
		return err_set(e, BB_ERR_INVALID, "bad IPv6 host '%.200s'", host);
	if ((size_t)snprintf(out, n, "[%s]", text) >= n)
		return err_set(e, BB_ERR_LIMIT, "host longer than %d bytes", URL_HOST_MAX);
	return BB_OK;
}

/* Whether the lower-case ASCII name is one DNS could hold: letters,
 * digits, '-' and '_' (real hosts have it) in non-empty labels.  curl
 * takes more (a '%' that decodes to nothing, "a..b"): such a host could
 * never be reached, and would be a second spelling of a host key. */
static bool host_name_ok(const char *name)
{
	bool label = false;

	for (const char *c = name; *c; c++) {
		if (*c == '.') {
			if (!label)
				return false;
			label = false;
		} else if ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' ||
			   *c == '_') {
			label = true;
		} else {
			return false;
		}
	}
	return label;
}

/* The canonical host of u into out (URL_HOST_MAX + 1 bytes). */
static enum bb_rc host_get(CURLU *u, char *out, struct err *e)
{
	char *host = NULL, *zone = NULL;
	enum bb_rc rc = BB_OK;
	size_t len;
	CURLUcode uc;

	uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
	if (uc != CURLUE_OK || host[0] == '\0') {
		rc = uc == CURLUE_OUT_OF_MEMORY ? err_set(e, BB_ERR_NOMEM, "out of memory")
						: err_set(e, BB_ERR_INVALID, "URL without a host");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_ZONEID, &zone, 0) != CURLUE_NO_ZONEID) {
		rc = err_set(e, BB_ERR_INVALID, "host '%.200s' has a zone id", host);
		goto out;
	}
	if (host[0] == '[') {
		rc = host_v6(host, out, URL_HOST_MAX + 1, e);
		goto out;
	}
	if (!is_ascii(host)) {
		rc = host_idn(host, out, URL_HOST_MAX + 1, e);
	} else if (strlen(host) > URL_HOST_MAX + 1) { /* + 1: a trailing dot */
		rc = err_set(e, BB_ERR_LIMIT, "host longer than %d bytes", URL_HOST_MAX);
	} else {
		memcpy(out, host, strlen(host) + 1);
	}
	if (rc != BB_OK)
		goto out;
	len = strlen(out);
	if (len > 0 && out[len - 1] == '.')
		out[--len] = '\0';
	if (len == 0) {
		rc = err_set(e, BB_ERR_INVALID, "URL without a host");
		goto out;
	}
	if (len > URL_HOST_MAX) {
		rc = err_set(e, BB_ERR_LIMIT, "host longer than %d bytes", URL_HOST_MAX);
		goto out;
	}
	for (char *c = out; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	if (!host_name_ok(out))
		rc = err_set(e, BB_ERR_INVALID, "bad host name '%.200s'", host);
out:
	curl_free(host);
	curl_free(zone);
	return rc;
}

/* ---- parsing ---------------------------------------------------------- */

/* Copies the curl string s (may be NULL) into dst (n bytes) at *at. */
static bool put(char *dst, size_t n, size_t *at, const char *s)
{
	size_t len = s ? strlen(s) : 0;

	if (*at + len >= n)
		return false;
	memcpy(dst + *at, s ? s : "", len + 1);
	*at += len;
	return true;
}

/* The port, path, query and the presence of the rest. */
static enum bb_rc parts_get(CURLU *u, struct url *out, struct err *e)
{
	char *port = NULL, *path = NULL, *query = NULL, *frag = NULL, *user = NULL, *pw = NULL;
	enum bb_rc rc = BB_OK;
	size_t at = 0;
	CURLUcode pc, qc;

	pc = curl_url_get(u, CURLUPART_PORT, &port, CURLU_NO_DEFAULT_PORT);
	qc = curl_url_get(u, CURLUPART_QUERY, &query, 0);
	if ((pc != CURLUE_OK && pc != CURLUE_NO_PORT) ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK ||
	    (qc != CURLUE_OK && qc != CURLUE_NO_QUERY)) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (port != NULL && strlen(port) >= sizeof(out->port)) {
		rc = err_set(e, BB_ERR_INVALID, "bad port '%.20s'", port);
		goto out;
	}
	memcpy(out->port, port ? port : "", port ? strlen(port) + 1 : 1);
	if (!put(out->target, sizeof(out->target), &at, path[0] == '/' ? "" : "/") ||
	    !put(out->target, sizeof(out->target), &at, path)) {
		rc = err_set(e, BB_ERR_LIMIT, "URL longer than %d bytes", URL_MAX);
		goto out;
	}
	out->path_len = at;
	out->has_query = qc == CURLUE_OK;
	if (out->has_query && (!put(out->target, sizeof(out->target), &at, "?") ||
			       !put(out->target, sizeof(out->target), &at, query))) {
		rc = err_set(e, BB_ERR_LIMIT, "URL longer than %d bytes", URL_MAX);
		goto out;
	}
	out->has_fragment = curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) != CURLUE_NO_FRAGMENT;
	out->has_userinfo = curl_url_get(u, CURLUPART_USER, &user, 0) != CURLUE_NO_USER ||
			    curl_url_get(u, CURLUPART_PASSWORD, &pw, 0) != CURLUE_NO_PASSWORD;
out:
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_free(frag);
	curl_free(user);
	curl_free(pw);
	return rc;
}

/* ---- a memo of recent parses, per thread -------------------------------
 *
 * One activity names the same few URLs many times (its id, its actor, the
 * object, our post: each checked by several readers), and curl's parser
 * allocates and copies for each part.  Each thread keeps its last
 * URL_MEMO_SLOTS successful parses of short URLs, keyed by the exact
 * input and flags: a hit copies the same result the parse gave.
 * Failures are not kept (their messages name the input). */
#define URL_MEMO_SLOTS 8
#define URL_MEMO_KEY_MAX 255 /* longer URLs are parsed every time */

struct url_memo {
	unsigned flags;
	size_t key_len; /* 0: empty slot */
	char key[URL_MEMO_KEY_MAX + 1];
	char scheme[URL_SCHEME_MAX + 1];
	char host[URL_HOST_MAX + 1];
	char port[6];
	char target[URL_MEMO_KEY_MAX + 1]; /* never longer than the input */
	size_t path_len;
	bool has_query, has_fragment, has_userinfo;
};

static _Thread_local struct url_memo memo[URL_MEMO_SLOTS];
static _Thread_local unsigned memo_next;

static bool memo_get(const char *s, size_t len, unsigned flags, struct url *out)
{
	for (unsigned i = 0; i < URL_MEMO_SLOTS; i++) {
		const struct url_memo *m = &memo[i];
		if (m->key_len != len || m->flags != flags || memcmp(m->key, s, len) != 0)
			continue;
		memset(out, 0, offsetof(struct url, target));
		memcpy(out->scheme, m->scheme, sizeof(m->scheme));
		memcpy(out->host, m->host, sizeof(m->host));
		memcpy(out->port, m->port, sizeof(m->port));
		memcpy(out->target, m->target, strlen(m->target) + 1);
		out->path_len = m->path_len;
		out->has_query = m->has_query;
		out->has_fragment = m->has_fragment;
		out->has_userinfo = m->has_userinfo;
		return true;
	}
	return false;
}

static void memo_put(const char *s, size_t len, unsigned flags, const struct url *u)
{
	struct url_memo *m;
	size_t tlen = strlen(u->target);

	if (len == 0 || len > URL_MEMO_KEY_MAX || tlen > URL_MEMO_KEY_MAX)
		return;
	m = &memo[memo_next++ % URL_MEMO_SLOTS];
	m->flags = flags;
	m->key_len = len;
	memcpy(m->key, s, len + 1);
	memcpy(m->scheme, u->scheme, sizeof(m->scheme));
	memcpy(m->host, u->host, sizeof(m->host));
	memcpy(m->port, u->port, sizeof(m->port));
	memcpy(m->target, u->target, tlen + 1);
	m->path_len = u->path_len;
	m->has_query = u->has_query;
	m->has_fragment = u->has_fragment;
	m->has_userinfo = u->has_userinfo;
}

static enum bb_rc url_parse_curl(const char *s, unsigned flags, struct url *out, struct err *e);

enum bb_rc url_parse(const char *s, unsigned flags, struct url *out, struct err *e)
{
	size_t len = s ? strnlen(s, URL_MEMO_KEY_MAX + 1) : 0;
	enum bb_rc rc;

	if (len > 0 && len <= URL_MEMO_KEY_MAX && memo_get(s, len, flags, out))
		return BB_OK;
	rc = url_parse_curl(s, flags, out, e);
	if (rc == BB_OK)
		memo_put(s, len, flags, out);
	return rc;
}

static enum bb_rc url_parse_curl(const char *s, unsigned flags, struct url *out, struct err *e)
{
	CURLU *u = NULL;
	char *scheme = NULL;
	enum bb_rc rc;
	CURLUcode uc;

	memset(out, 0, sizeof(*out));
	rc = form_check(s, e);
	if (rc != BB_OK)
		goto out;
	u = curl_url();
	if (u == NULL) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	uc = curl_url_set(u, CURLUPART_URL, s,
			  CURLU_NON_SUPPORT_SCHEME |
			      ((flags & URL_REMOVE_DOTS) ? 0u : (unsigned)CURLU_PATH_AS_IS));
	if (uc != CURLUE_OK) {
		rc = uc == CURLUE_OUT_OF_MEMORY
			 ? err_set(e, BB_ERR_NOMEM, "out of memory")
			 : err_set(e, BB_ERR_INVALID, "'%.200s': %s", s, curl_url_strerror(uc));
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* curl writes schemes in lower case. */
	if (strlen(scheme) > URL_SCHEME_MAX) {
		rc = err_set(e, BB_ERR_INVALID, "'%.200s': scheme too long", s);
		goto out;
	}
	memcpy(out->scheme, scheme, strlen(scheme) + 1);
	rc = host_get(u, out->host, e);
	if (rc == BB_OK)
		rc = parts_get(u, out, e);
out:
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

bool url_is_http(const struct url *u)
{
	return strcmp(u->scheme, "https") == 0 || strcmp(u->scheme, "http") == 0;
}

bool url_is_http_str(const char *s)
{
	struct url u;

	return s != NULL && url_parse(s, 0, &u, NULL) == BB_OK && url_is_http(&u);
}

void url_host_port(const struct url *u, char out[URL_HOST_KEY_MAX + 1])
{
	/* Cannot truncate: host and port are bounded by their arrays. */
	snprintf(out, URL_HOST_KEY_MAX + 1, "%s%s%s", u->host, u->port[0] ? ":" : "", u->port);
}

void url_origin(const struct url *u, char out[URL_ORIGIN_MAX + 1])
{
	char hp[URL_HOST_KEY_MAX + 1];

	url_host_port(u, hp);
	snprintf(out, URL_ORIGIN_MAX + 1, "%s://%s", u->scheme, hp);
}

enum bb_rc url_format(const struct url *u, char **out, struct err *e)
{
	char origin[URL_ORIGIN_MAX + 1];
	size_t n;

	*out = NULL;
	url_origin(u, origin);
	n = strlen(origin) + strlen(u->target);
	if (n > URL_MAX)
		return err_set(e, BB_ERR_LIMIT, "URL longer than %d bytes", URL_MAX);
	*out = malloc(n + 1);
	if (*out == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	memcpy(*out, origin, strlen(origin));
	memcpy(*out + strlen(origin), u->target, strlen(u->target) + 1);
	return BB_OK;
}

enum bb_rc url_host_key(const char *s, char out[URL_HOST_KEY_MAX + 1], struct err *e)
{
	struct url *u = malloc(sizeof(*u));
	enum bb_rc rc;

	out[0] = '\0';
	if (u == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	rc = url_parse(s, 0, u, e);
	if (rc == BB_OK)
		url_host_port(u, out);
	free(u);
	return rc;
}

bool url_same_origin(const char *a, const char *b)
{
	struct url *x = malloc(sizeof(*x)), *y = malloc(sizeof(*y));
	bool same = x != NULL && y != NULL && url_parse(a, 0, x, NULL) == BB_OK &&
		    url_parse(b, 0, y, NULL) == BB_OK && strcmp(x->scheme, y->scheme) == 0 &&
		    strcmp(x->host, y->host) == 0 && strcmp(x->port, y->port) == 0;

	free(x);
	free(y);
	return same;
}

/* ---- references ------------------------------------------------------- */

enum bb_rc url_resolve(const char *base, const char *ref, char **out, struct err *e)
{
	CURLU *u = NULL;
	char *abs = NULL;
	enum bb_rc rc;
	CURLUcode uc;

	*out = NULL;
	rc = base ? form_check(base, e) : BB_OK;
	if (rc != BB_OK)
		goto out;
	if (ref == NULL || strlen(ref) > URL_MAX) {
		rc = err_set(e, ref ? BB_ERR_LIMIT : BB_ERR_INVALID,
			     "reference missing or too long");
		goto out;
	}
	u = curl_url();
	if (u == NULL) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* Setting a URL on a handle that holds one resolves it (RFC 3986
	 * §5.2); spaces are allowed in the ref and encoded when relative. */
	uc = base ? curl_url_set(u, CURLUPART_URL, base, CURLU_NON_SUPPORT_SCHEME) : CURLUE_OK;
	if (uc == CURLUE_OK)
		uc = curl_url_set(u, CURLUPART_URL, ref,
				  CURLU_NON_SUPPORT_SCHEME | CURLU_ALLOW_SPACE);
	if (uc == CURLUE_OK)
		uc = curl_url_get(u, CURLUPART_URL, &abs, 0);
	if (uc != CURLUE_OK) {
		rc = uc == CURLUE_OUT_OF_MEMORY
			 ? err_set(e, BB_ERR_NOMEM, "out of memory")
			 : err_set(e, BB_ERR_INVALID, "'%.200s' against '%.200s': %s", ref,
				   base ? base : "nothing", curl_url_strerror(uc));
		goto out;
	}
	if (strlen(abs) > URL_MAX) {
		rc = err_set(e, BB_ERR_LIMIT, "URL longer than %d bytes", URL_MAX);
		goto out;
	}
	*out = strdup(abs);
	if (*out == NULL)
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
out:
	curl_free(abs);
	curl_url_cleanup(u);
	return rc;
}

/* ---- blocked domains -------------------------------------------------- */

bool url_host_blocked(char *const *blocked, const char *host)
{
	size_t hl;

	if (blocked == NULL || host == NULL)
		return false;
	/* The name alone: no port, no trailing dot. */
	if (host[0] == '[') {
		const char *end = strchr(host, ']');
		hl = end ? (size_t)(end - host) + 1 : strlen(host);
	} else {
		hl = strcspn(host, ":");
	}
	if (hl > 0 && host[hl - 1] == '.')
		hl--;
	for (; *blocked; blocked++) {
		size_t bl = strlen(*blocked);

		if (bl == 0 || bl > hl)
			continue;
		if (strncasecmp(host + hl - bl, *blocked, bl) == 0 &&
		    (hl == bl || host[hl - bl - 1] == '.'))
			return true;
	}
	return false;
}
