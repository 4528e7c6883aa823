/*
 * httpsig.c — see httpsig.h.
 *
 * References: draft-cavage-http-signatures-12 §2.1-2.3 (parameters and
 * the signing string); Mastodon app/lib/signed_request.rb (which rules it
 * enforces: required coverage, the time window, duplicate parameters);
 * RFC 9421 §2 (components, the signature base), §3.1-3.2, §4 (the
 * Signature-Input and Signature fields); RFC 8941 (structured fields, the
 * subset those fields use); RFC 9530 (Content-Digest).
 */
#include "httpsig.h"
#include "buf.h"
#include "digest.h"
#include "timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A signature base never needs more than this. */
#define HTTPSIG_BASE_MAX (64 * 1024)

struct httpsig {
	enum httpsig_scheme scheme;
	char *key_id;
	bool alg_given;
	enum pubkey_alg alg;
	unsigned char *sig;
	size_t siglen;
	time_t created, expires;
	bool has_created, has_expires;
	/* The covered items, in order: cavage header names (lower case) or
	 * RFC 9421 component identifiers. */
	char *items[HTTPSIG_COMPONENTS_MAX];
	size_t nitems;
	char *params_raw; /* RFC 9421: the member value, for @signature-params */
};

void httpsig_free(struct httpsig *s)
{
	if (s == NULL)
		return;
	free(s->key_id);
	free(s->sig);
	for (size_t i = 0; i < s->nitems; i++)
		free(s->items[i]);
	free(s->params_raw);
	free(s);
}

enum httpsig_scheme httpsig_scheme_of(const struct httpsig *s)
{
	return s->scheme;
}

const char *httpsig_key_id(const struct httpsig *s)
{
	return s->key_id;
}

/* The value of header name in m: repeated fields joined with ", ", each
 * trimmed (RFC 9421 §2.1).  *out is NULL when absent.  False when out of
 * memory or too long. */
static bool header_value(const struct httpsig_message *m, const char *name, char **out)
{
	struct buf b;
	bool found = false;

	*out = NULL;
	buf_init(&b, HTTPSIG_HEADER_MAX);
	for (size_t i = 0; i < m->header_count; i++) {
		const char *v = m->headers[i].value, *end;
		if (strcasecmp(m->headers[i].name, name) != 0)
			continue;
		while (*v == ' ' || *v == '\t')
			v++;
		end = v + strlen(v);
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if ((found && buf_puts(&b, ", ") != BB_OK) ||
		    buf_append(&b, v, (size_t)(end - v)) != BB_OK) {
			buf_free(&b);
			return false;
		}
		found = true;
	}
	if (found)
		*out = buf_take(&b);
	return !found || *out != NULL;
}

/* Splits an absolute URL into its lower-case scheme and authority and the
 * path (with the query, without the fragment).  Returns false when url is
 * not absolute. */
struct url_parts {
	char scheme[16];
	char authority[256];
	char target[2048]; /* path[?query] */
};

static bool url_split(const char *url, struct url_parts *u)
{
	const char *sep = strstr(url, "://"), *auth, *path;
	size_t sl, al, tl;

	if (sep == NULL || (sl = (size_t)(sep - url)) == 0 || sl >= sizeof(u->scheme))
		return false;
	auth = sep + 3;
	path = auth + strcspn(auth, "/?#");
	al = (size_t)(path - auth);
	if (al == 0 || al >= sizeof(u->authority))
		return false;
	for (size_t i = 0; i < sl; i++)
		u->scheme[i] = (char)tolower((unsigned char)url[i]);
	u->scheme[sl] = '\0';
	for (size_t i = 0; i < al; i++)
		u->authority[i] = (char)tolower((unsigned char)auth[i]);
	u->authority[al] = '\0';
	/* A default port is not part of @authority (RFC 9421 §2.2.3). */
	if ((strcmp(u->scheme, "https") == 0 && al > 4 && strcmp(u->authority + al - 4, ":443") == 0) ||
	    (strcmp(u->scheme, "http") == 0 && al > 3 && strcmp(u->authority + al - 3, ":80") == 0))
		*strrchr(u->authority, ':') = '\0';
	tl = strcspn(path, "#");
	if (tl + 2 > sizeof(u->target))
		return false;
	if (path[0] != '/') { /* "https://host?q" has the path "/" */
		u->target[0] = '/';
		memcpy(u->target + 1, path, tl);
		u->target[tl + 1] = '\0';
	} else {
		memcpy(u->target, path, tl);
		u->target[tl] = '\0';
	}
	return true;
}

static bool item_covered(const struct httpsig *s, const char *name)
{
	for (size_t i = 0; i < s->nitems; i++)
		if (strcmp(s->items[i], name) == 0)
			return true;
	return false;
}

static enum bb_rc item_add(struct httpsig *s, const char *name, size_t len, struct err *e)
{
	if (s->nitems >= HTTPSIG_COMPONENTS_MAX)
		return err_set(e, BB_ERR_AUTH, "too many signed components");
	s->items[s->nitems] = strndup(name, len);
	if (s->items[s->nitems] == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	s->nitems++;
	return BB_OK;
}

/* Parses a decimal integer string (possibly with a fraction, which
 * draft-cavage allows for created/expires). */
static bool parse_epoch(const char *s, time_t *out)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return false;
	if (*end == '.') {
		end++;
		while (isdigit((unsigned char)*end))
			end++;
	}
	if (*end != '\0')
		return false;
	*out = (time_t)v;
	return true;
}

/* Mastodon's window: reject created more than an hour ahead, or expires
 * (default created + 5 min, at most created + 12 h) more than an hour
 * past. */
static enum bb_rc check_window(struct httpsig *s, time_t now, struct err *e)
{
	time_t expires = s->has_expires ? s->expires : s->created + HTTPSIG_EXPIRES_DEFAULT;

	if (expires > s->created + HTTPSIG_EXPIRES_CAP)
		expires = s->created + HTTPSIG_EXPIRES_CAP;
	if (s->created > now + HTTPSIG_CLOCK_SKEW)
		return err_set(e, BB_ERR_AUTH, "Signed request date is in the future");
	if (now > expires + HTTPSIG_CLOCK_SKEW)
		return err_set(e, BB_ERR_AUTH, "Signed request date outside acceptable time window");
	return BB_OK;
}

static enum bb_rc decode_signature(struct httpsig *s, const char *b64, size_t len,
				   struct err *e)
{
	if (!digest_base64_decode(b64, len, &s->sig, &s->siglen) || s->siglen == 0)
		return err_set(e, BB_ERR_AUTH, "signature is not valid base64");
	return BB_OK;
}

/* ---- draft-cavage ---------------------------------------------------- */

enum cavage_param { CP_KEYID, CP_ALGORITHM, CP_HEADERS, CP_SIGNATURE, CP_CREATED, CP_EXPIRES,
		    CP_COUNT };

static const char *const cavage_names[CP_COUNT] = {"keyId",     "algorithm", "headers",
						   "signature", "created",   "expires"};

/* Splits `k1="v1",k2=v2` into the known parameters (copies in vals).
 * Duplicates are refused (Mastodon 4.5.5+); unknown ones skipped. */
static enum bb_rc cavage_params(const char *p, char *vals[CP_COUNT], struct err *e)
{
	if (strncasecmp(p, "Signature ", 10) == 0)
		p += 10;
	for (;;) {
		const char *name, *v, *vend;
		size_t nl;
		int which = -1;
		char *copy;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			return BB_OK;
		name = p;
		while (isalnum((unsigned char)*p) || *p == '-' || *p == '_')
			p++;
		nl = (size_t)(p - name);
		if (nl == 0 || *p != '=')
			return err_set(e, BB_ERR_AUTH, "malformed Signature header");
		p++;
		if (*p == '"') {
			v = ++p;
			while (*p && *p != '"')
				p++;
			if (*p != '"')
				return err_set(e, BB_ERR_AUTH, "malformed Signature header");
			vend = p++;
		} else {
			v = p;
			while (*p && *p != ',' && *p != ' ')
				p++;
			vend = p;
		}
		for (int i = 0; i < CP_COUNT; i++)
			if (strlen(cavage_names[i]) == nl && strncmp(name, cavage_names[i], nl) == 0)
				which = i;
		if (which < 0)
			continue;
		if (vals[which] != NULL)
			return err_set(e, BB_ERR_AUTH, "duplicate parameter '%s' in Signature",
				       cavage_names[which]);
		copy = strndup(v, (size_t)(vend - v));
		if (copy == NULL)
			return err_set(e, BB_ERR_NOMEM, "out of memory");
		vals[which] = copy;
	}
}

static enum bb_rc cavage_parse(struct httpsig *s, const struct httpsig_message *m,
			       const char *header, time_t now, struct err *e)
{
	char *vals[CP_COUNT] = {0};
	char *date = NULL, *digest = NULL;
	const char *alg, *list;
	bool hs2019;
	enum bb_rc rc;

	s->scheme = HTTPSIG_CAVAGE;
	s->alg = PUBKEY_ALG_RSA_V1_5_SHA256;
	rc = cavage_params(header, vals, e);
	if (rc != BB_OK)
		goto out;
	if (vals[CP_KEYID] == NULL || vals[CP_SIGNATURE] == NULL) {
		rc = err_set(e, BB_ERR_AUTH, "Incompatible request signature. keyId and signature "
					     "are required");
		goto out;
	}
	alg = vals[CP_ALGORITHM] ? vals[CP_ALGORITHM] : "hs2019";
	hs2019 = strcmp(alg, "hs2019") == 0;
	if (!hs2019 && strcmp(alg, "rsa-sha256") != 0) {
		rc = err_set(e, BB_ERR_AUTH, "Unsupported signature algorithm '%.40s' (only "
					     "rsa-sha256 and hs2019 are supported)",
			     alg);
		goto out;
	}
	/* The list, lower-cased, split on spaces. */
	list = vals[CP_HEADERS] ? vals[CP_HEADERS] : hs2019 ? "(created)" : "date";
	for (const char *p = list; *p;) {
		const char *w = p;
		while (*p && *p != ' ')
			p++;
		if (p > w) {
			rc = item_add(s, w, (size_t)(p - w), e);
			if (rc != BB_OK)
				goto out;
			for (char *c = s->items[s->nitems - 1]; *c; c++)
				*c = (char)tolower((unsigned char)*c);
		}
		while (*p == ' ')
			p++;
	}
	if (!hs2019 && (item_covered(s, "(created)") || item_covered(s, "(expires)"))) {
		rc = err_set(e, BB_ERR_AUTH, "Invalid pseudo-header (created)/(expires) for "
					     "rsa-sha256");
		goto out;
	}
	if (!item_covered(s, "date") && !item_covered(s, "(created)")) {
		rc = err_set(e, BB_ERR_AUTH, "Mastodon requires the Date header or (created) "
					     "pseudo-header to be signed");
		goto out;
	}
	if (!item_covered(s, "(request-target)") && !item_covered(s, "digest")) {
		rc = err_set(e, BB_ERR_AUTH, "Mastodon requires the Digest header or "
					     "(request-target) pseudo-header to be signed");
		goto out;
	}
	if (strcmp(m->method, "GET") == 0 && !item_covered(s, "host")) {
		rc = err_set(e, BB_ERR_AUTH, "Mastodon requires the Host header to be signed when "
					     "doing a GET request");
		goto out;
	}
	if (strcmp(m->method, "POST") == 0 && !item_covered(s, "digest")) {
		rc = err_set(e, BB_ERR_AUTH, "Mastodon requires the Digest header to be signed when "
					     "doing a POST request");
		goto out;
	}
	/* created/expires move the time window only when the signature
	 * covers them: an unsigned parameter could be rewritten by anyone
	 * replaying the request. */
	if (vals[CP_CREATED] && (!hs2019 || !parse_epoch(vals[CP_CREATED], &s->created))) {
		rc = err_set(e, BB_ERR_AUTH, "Invalid created parameter");
		goto out;
	}
	s->has_created = vals[CP_CREATED] != NULL && item_covered(s, "(created)");
	if (vals[CP_EXPIRES] && (!hs2019 || !parse_epoch(vals[CP_EXPIRES], &s->expires))) {
		rc = err_set(e, BB_ERR_AUTH, "Invalid expires parameter");
		goto out;
	}
	s->has_expires = vals[CP_EXPIRES] != NULL && item_covered(s, "(expires)");
	if ((item_covered(s, "(created)") && vals[CP_CREATED] == NULL) ||
	    (item_covered(s, "(expires)") && vals[CP_EXPIRES] == NULL)) {
		rc = err_set(e, BB_ERR_AUTH, "(created)/(expires) signed without the parameter");
		goto out;
	}
	if (!s->has_created) {
		if (!header_value(m, "date", &date)) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (date == NULL || !time_parse_imf_fixdate(date, &s->created)) {
			rc = err_set(e, BB_ERR_AUTH, "Invalid Date header: %.60s",
				     date ? date : "(none)");
			goto out;
		}
	}
	rc = check_window(s, now, e);
	if (rc != BB_OK)
		goto out;
	if (item_covered(s, "digest")) {
		if (!header_value(m, "digest", &digest)) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (digest == NULL) {
			rc = err_set(e, BB_ERR_AUTH, "header digest is signed but missing");
			goto out;
		}
		rc = digest_header_check(digest, m->body ? m->body : "", m->body_len, e);
		if (rc != BB_OK)
			goto out;
	}
	s->key_id = vals[CP_KEYID];
	vals[CP_KEYID] = NULL;
	rc = decode_signature(s, vals[CP_SIGNATURE], strlen(vals[CP_SIGNATURE]), e);
out:
	for (int i = 0; i < CP_COUNT; i++)
		free(vals[i]);
	free(date);
	free(digest);
	return rc;
}

/* Builds the cavage signing string; with_query says whether
 * (request-target) keeps the query (Mastodon 4.3 and older dropped it). */
static enum bb_rc cavage_string(const struct httpsig *s, const struct httpsig_message *m,
				bool with_query, struct buf *b, struct err *e)
{
	struct url_parts u;
	enum bb_rc rc = BB_OK;

	if (!url_split(m->target_uri, &u))
		return err_set(e, BB_ERR_INVALID, "bad request target");
	if (!with_query)
		u.target[strcspn(u.target, "?")] = '\0';
	for (size_t i = 0; i < s->nitems && rc == BB_OK; i++) {
		const char *name = s->items[i];
		char *value = NULL;

		if (i > 0)
			rc = buf_puts(b, "\n");
		if (rc != BB_OK)
			break;
		if (strcmp(name, "(request-target)") == 0) {
			rc = buf_puts(b, "(request-target): ");
			for (const char *c = m->method; *c && rc == BB_OK; c++) {
				char lc = (char)tolower((unsigned char)*c);
				rc = buf_append(b, &lc, 1);
			}
			if (rc == BB_OK)
				rc = buf_printf(b, " %s", u.target);
		} else if (strcmp(name, "(created)") == 0) {
			rc = buf_printf(b, "(created): %lld", (long long)s->created);
		} else if (strcmp(name, "(expires)") == 0) {
			rc = buf_printf(b, "(expires): %lld", (long long)s->expires);
		} else {
			if (!header_value(m, name, &value))
				return err_set(e, BB_ERR_NOMEM, "out of memory");
			if (value == NULL)
				return err_set(e, BB_ERR_AUTH, "header %.60s is signed but missing",
					       name);
			rc = buf_printf(b, "%s: %s", name, value);
			free(value);
		}
	}
	if (rc != BB_OK)
		return err_set(e, rc, "signing string too long");
	return BB_OK;
}

static enum bb_rc cavage_verify(const struct httpsig *s, const struct httpsig_message *m,
				const struct pubkey *pk, struct err *e)
{
	struct buf b;
	enum bb_rc rc;
	bool has_query = strchr(m->target_uri, '?') != NULL;

	if (pubkey_type_of(pk) != PUBKEY_RSA)
		return err_set(e, BB_ERR_AUTH, "draft-cavage signatures need an RSA key");
	buf_init(&b, HTTPSIG_BASE_MAX);
	for (int attempt = 0; attempt < (has_query ? 2 : 1); attempt++) {
		buf_reset(&b);
		rc = cavage_string(s, m, attempt == 0, &b, e);
		if (rc != BB_OK)
			break;
		rc = pubkey_verify(pk, PUBKEY_ALG_RSA_V1_5_SHA256, b.data, b.len, s->sig,
				   s->siglen, e);
		if (rc != BB_ERR_AUTH)
			break;
		err_set(e, BB_ERR_AUTH, "Verification failed for %.200s using rsa-sha256 "
					"(RSASSA-PKCS1-v1_5 with SHA-256)",
			s->key_id);
	}
	buf_free(&b);
	return rc;
}

/* ---- RFC 9421 -------------------------------------------------------- */

/* RFC 8941 key: lcalpha / "*", then lcalpha / DIGIT / "_" / "-" / "." / "*". */
static const char *sf_key(const char *p)
{
	if (!islower((unsigned char)*p) && *p != '*')
		return p;
	p++;
	while (islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_' ||
	       *p == '-' || *p == '.' || *p == '*')
		p++;
	return p;
}

/* RFC 8941 sf-string: returns the end (after the closing quote), or NULL.
 * The unescaped text goes to out (bounded). */
static const char *sf_string(const char *p, char *out, size_t outlen)
{
	size_t n = 0;

	if (*p != '"')
		return NULL;
	for (p++; *p && *p != '"'; p++) {
		if (*p == '\\') {
			p++;
			if (*p != '"' && *p != '\\')
				return NULL;
		} else if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
			return NULL;
		}
		if (n + 1 >= outlen)
			return NULL;
		out[n++] = *p;
	}
	if (*p != '"')
		return NULL;
	out[n] = '\0';
	return p + 1;
}

/* Skips one bare item (integer, decimal, string, token, byte sequence,
 * boolean) of a parameter value; NULL when malformed. */
static const char *sf_skip_bare(const char *p)
{
	char tmp[HTTPSIG_HEADER_MAX];

	if (*p == '"')
		return sf_string(p, tmp, sizeof(tmp));
	if (*p == ':') {
		const char *end = strchr(p + 1, ':');
		return end ? end + 1 : NULL;
	}
	if (*p == '?')
		return (p[1] == '0' || p[1] == '1') ? p + 2 : NULL;
	if (*p == '-' || isdigit((unsigned char)*p) || isalpha((unsigned char)*p) || *p == '*') {
		p++;
		while (*p && strchr(" ,;()=\"", *p) == NULL)
			p++;
		return p;
	}
	return NULL;
}

/* Parses the parameters of the signature (after the inner list). */
static enum bb_rc rfc9421_params(struct httpsig *s, const char *p, const char **end,
				 struct err *e)
{
	bool seen_created = false, seen_keyid = false, seen_alg = false, seen_expires = false;

	while (*p == ';') {
		const char *k = p + 1, *kend = sf_key(k), *v;
		size_t kl = (size_t)(kend - k);
		char sval[HTTPSIG_HEADER_MAX];

		if (kl == 0)
			return err_set(e, BB_ERR_AUTH, "malformed Signature-Input parameters");
		p = kend;
		if (*p != '=') { /* a boolean true parameter */
			continue;
		}
		v = p + 1;
#define PARAM_IS(lit) (kl == sizeof(lit) - 1 && strncmp(k, lit, kl) == 0)
		if (PARAM_IS("created") || PARAM_IS("expires")) {
			bool *seen = PARAM_IS("created") ? &seen_created : &seen_expires;
			time_t *slot = PARAM_IS("created") ? &s->created : &s->expires;
			char *iend;
			long long t;
			if (*seen)
				return err_set(e, BB_ERR_AUTH, "duplicate parameter '%.*s'", (int)kl,
					       k);
			errno = 0;
			t = strtoll(v, &iend, 10);
			if (iend == v || errno != 0 || t < 0)
				return err_set(e, BB_ERR_AUTH, "invalid '%.*s' parameter", (int)kl,
					       k);
			*seen = true;
			*slot = (time_t)t;
			p = iend;
		} else if (PARAM_IS("keyid") || PARAM_IS("alg")) {
			bool is_keyid = PARAM_IS("keyid");
			bool *seen = is_keyid ? &seen_keyid : &seen_alg;
			if (*seen)
				return err_set(e, BB_ERR_AUTH, "duplicate parameter '%.*s'", (int)kl,
					       k);
			*seen = true;
			p = sf_string(v, sval, sizeof(sval));
			if (p == NULL)
				return err_set(e, BB_ERR_AUTH, "invalid '%.*s' parameter", (int)kl,
					       k);
			if (is_keyid) {
				s->key_id = strdup(sval);
				if (s->key_id == NULL)
					return err_set(e, BB_ERR_NOMEM, "out of memory");
			} else {
				s->alg_given = true;
				if (strcmp(sval, "rsa-v1_5-sha256") == 0)
					s->alg = PUBKEY_ALG_RSA_V1_5_SHA256;
				else if (strcmp(sval, "rsa-pss-sha512") == 0)
					s->alg = PUBKEY_ALG_RSA_PSS_SHA512;
				else if (strcmp(sval, "ed25519") == 0)
					s->alg = PUBKEY_ALG_ED25519;
				else
					return err_set(e, BB_ERR_AUTH,
						       "unsupported signature algorithm '%.40s'",
						       sval);
			}
		} else {
			p = sf_skip_bare(v); /* nonce, tag, ...: not used */
			if (p == NULL)
				return err_set(e, BB_ERR_AUTH,
					       "malformed Signature-Input parameters");
		}
#undef PARAM_IS
	}
	s->has_created = seen_created;
	s->has_expires = seen_expires;
	*end = p;
	if (!seen_created)
		return err_set(e, BB_ERR_AUTH, "the created parameter is required");
	if (!seen_keyid)
		return err_set(e, BB_ERR_AUTH, "the keyid parameter is required");
	return BB_OK;
}

/* Parses `label=("c1" "c2");params` (exactly one member). */
static enum bb_rc rfc9421_input(struct httpsig *s, const char *input, char *label,
				size_t labellen, struct err *e)
{
	const char *p = input, *lend, *vstart, *end;
	enum bb_rc rc;

	while (*p == ' ')
		p++;
	lend = sf_key(p);
	if (lend == p || (size_t)(lend - p) >= labellen || *lend != '=' || lend[1] != '(')
		return err_set(e, BB_ERR_AUTH, "malformed Signature-Input header");
	memcpy(label, p, (size_t)(lend - p));
	label[lend - p] = '\0';
	vstart = lend + 1;
	p = vstart + 1;
	for (;;) {
		char comp[256];
		const char *cend;
		while (*p == ' ')
			p++;
		if (*p == ')')
			break;
		cend = sf_string(p, comp, sizeof(comp));
		if (cend == NULL)
			return err_set(e, BB_ERR_AUTH, "malformed Signature-Input header");
		if (*cend == ';')
			return err_set(e, BB_ERR_AUTH,
				       "unsupported component parameter on \"%s\"", comp);
		if (item_covered(s, comp))
			return err_set(e, BB_ERR_AUTH, "component \"%s\" covered twice", comp);
		rc = item_add(s, comp, strlen(comp), e);
		if (rc != BB_OK)
			return rc;
		p = cend;
		if (*p != ' ' && *p != ')')
			return err_set(e, BB_ERR_AUTH, "malformed Signature-Input header");
	}
	rc = rfc9421_params(s, p + 1, &end, e);
	if (rc != BB_OK)
		return rc;
	while (*end == ' ')
		end++;
	if (*end == ',')
		return err_set(e, BB_ERR_AUTH, "Only one signature is supported");
	if (*end != '\0')
		return err_set(e, BB_ERR_AUTH, "malformed Signature-Input header");
	s->params_raw = strndup(vstart, (size_t)(end - vstart));
	if (s->params_raw == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	/* Trailing spaces are not part of the serialization. */
	for (size_t n = strlen(s->params_raw); n > 0 && s->params_raw[n - 1] == ' '; n--)
		s->params_raw[n - 1] = '\0';
	return BB_OK;
}

/* Finds label's byte sequence in the Signature dictionary. */
static enum bb_rc rfc9421_signature(struct httpsig *s, const char *sig, const char *label,
				    struct err *e)
{
	size_t ll = strlen(label);
	const char *p = sig;
	int members = 0;
	enum bb_rc rc = err_set(e, BB_ERR_AUTH, "no signature labelled '%s'", label);

	while (*p) {
		const char *k, *kend, *colon, *close;
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		k = p;
		kend = sf_key(k);
		if (kend == k || kend[0] != '=' || kend[1] != ':')
			return err_set(e, BB_ERR_AUTH, "malformed Signature header");
		colon = kend + 2;
		close = strchr(colon, ':');
		if (close == NULL)
			return err_set(e, BB_ERR_AUTH, "malformed Signature header");
		members++;
		if ((size_t)(kend - k) == ll && strncmp(k, label, ll) == 0)
			rc = decode_signature(s, colon, (size_t)(close - colon), e);
		p = close + 1;
		while (*p && *p != ',')
			p++;
	}
	if (members > 1)
		return err_set(e, BB_ERR_AUTH, "Only one signature is supported");
	return rc;
}

static enum bb_rc rfc9421_parse(struct httpsig *s, const struct httpsig_message *m,
				const char *input, time_t now, struct err *e)
{
	char label[64];
	char *sig = NULL, *cdigest = NULL;
	enum bb_rc rc;

	s->scheme = HTTPSIG_RFC9421;
	rc = rfc9421_input(s, input, label, sizeof(label), e);
	if (rc != BB_OK)
		goto out;
	if (!header_value(m, "signature", &sig)) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (sig == NULL) {
		rc = err_set(e, BB_ERR_AUTH, "Signature-Input without a Signature header");
		goto out;
	}
	rc = rfc9421_signature(s, sig, label, e);
	if (rc != BB_OK)
		goto out;
	if (!item_covered(s, "@method") || !item_covered(s, "@target-uri")) {
		rc = err_set(e, BB_ERR_AUTH, "the signature must cover \"@method\" and "
					     "\"@target-uri\"");
		goto out;
	}
	rc = check_window(s, now, e);
	if (rc != BB_OK)
		goto out;
	if (strcmp(m->method, "POST") == 0 && !item_covered(s, "content-digest")) {
		rc = err_set(e, BB_ERR_AUTH, "a POST signature must cover \"content-digest\"");
		goto out;
	}
	if (item_covered(s, "content-digest")) {
		if (!header_value(m, "content-digest", &cdigest)) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (cdigest == NULL) {
			rc = err_set(e, BB_ERR_AUTH, "content-digest is signed but missing");
			goto out;
		}
		rc = digest_content_check(cdigest, m->body ? m->body : "", m->body_len, e);
	}
out:
	free(sig);
	free(cdigest);
	return rc;
}

/* Appends the value of one component (RFC 9421 §2.1-2.2). */
static enum bb_rc rfc9421_component(const char *c, const struct httpsig_message *m,
				    const struct url_parts *u, struct buf *b, struct err *e)
{
	const char *q = strchr(u->target, '?');
	char *value = NULL;
	enum bb_rc rc;

	if (strcmp(c, "@method") == 0)
		rc = buf_puts(b, m->method);
	else if (strcmp(c, "@target-uri") == 0)
		rc = buf_puts(b, m->target_uri);
	else if (strcmp(c, "@authority") == 0)
		rc = buf_puts(b, u->authority);
	else if (strcmp(c, "@scheme") == 0)
		rc = buf_puts(b, u->scheme);
	else if (strcmp(c, "@request-target") == 0)
		rc = buf_puts(b, u->target);
	else if (strcmp(c, "@path") == 0)
		rc = buf_append(b, u->target, q ? (size_t)(q - u->target) : strlen(u->target));
	else if (strcmp(c, "@query") == 0)
		rc = buf_puts(b, q ? q : "?");
	else if (c[0] == '@')
		return err_set(e, BB_ERR_AUTH, "unsupported component \"%.40s\"", c);
	else {
		for (const char *p = c; *p; p++)
			if (isupper((unsigned char)*p))
				return err_set(e, BB_ERR_AUTH, "component \"%.40s\" not lower case",
					       c);
		if (!header_value(m, c, &value))
			return err_set(e, BB_ERR_NOMEM, "out of memory");
		if (value == NULL)
			return err_set(e, BB_ERR_AUTH, "header %.60s is signed but missing", c);
		rc = buf_puts(b, value);
		free(value);
	}
	return rc == BB_OK ? BB_OK : err_set(e, rc, "signature base too long");
}

static enum bb_rc rfc9421_base(const struct httpsig *s, const struct httpsig_message *m,
			       struct buf *b, struct err *e)
{
	struct url_parts u;
	enum bb_rc rc;

	if (!url_split(m->target_uri, &u))
		return err_set(e, BB_ERR_INVALID, "bad request target");
	for (size_t i = 0; i < s->nitems; i++) {
		if (buf_printf(b, "\"%s\": ", s->items[i]) != BB_OK)
			return err_set(e, BB_ERR_LIMIT, "signature base too long");
		rc = rfc9421_component(s->items[i], m, &u, b, e);
		if (rc != BB_OK)
			return rc;
		if (buf_puts(b, "\n") != BB_OK)
			return err_set(e, BB_ERR_LIMIT, "signature base too long");
	}
	if (buf_printf(b, "\"@signature-params\": %s", s->params_raw) != BB_OK)
		return err_set(e, BB_ERR_LIMIT, "signature base too long");
	return BB_OK;
}

static enum bb_rc rfc9421_verify(const struct httpsig *s, const struct httpsig_message *m,
				 const struct pubkey *pk, struct err *e)
{
	struct buf b;
	enum pubkey_alg alg = s->alg;
	enum bb_rc rc;

	if (!s->alg_given)
		alg = pubkey_type_of(pk) == PUBKEY_ED25519 ? PUBKEY_ALG_ED25519
							   : PUBKEY_ALG_RSA_V1_5_SHA256;
	buf_init(&b, HTTPSIG_BASE_MAX);
	rc = rfc9421_base(s, m, &b, e);
	if (rc == BB_OK) {
		rc = pubkey_verify(pk, alg, b.data, b.len, s->sig, s->siglen, e);
		if (rc == BB_ERR_AUTH)
			err_set(e, BB_ERR_AUTH, "Verification failed for %.200s (RFC 9421)",
				s->key_id);
	}
	buf_free(&b);
	return rc;
}

/* ---- entry points ---------------------------------------------------- */

enum bb_rc httpsig_parse(const struct httpsig_message *m, time_t now, struct httpsig **out,
			 struct err *e)
{
	struct httpsig *s = NULL;
	char *input = NULL, *sig = NULL, *auth = NULL;
	enum bb_rc rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	if (!header_value(m, "signature-input", &input) || !header_value(m, "signature", &sig) ||
	    !header_value(m, "authorization", &auth)) {
		rc = err_set(e, BB_ERR_AUTH, "signature headers too long");
		goto out;
	}
	/* A Signature-Input header means RFC 9421 (signed_request.rb:233). */
	if (input != NULL)
		rc = rfc9421_parse(s, m, input, now, e);
	else if (sig != NULL)
		rc = cavage_parse(s, m, sig, now, e);
	else if (auth != NULL && strncasecmp(auth, "Signature ", 10) == 0)
		rc = cavage_parse(s, m, auth, now, e);
	else
		rc = err_set(e, BB_ERR_AUTH, "Request not signed");
	if (rc != BB_OK)
		goto out;
	*out = s;
	s = NULL;
out:
	free(input);
	free(sig);
	free(auth);
	httpsig_free(s);
	return rc;
}

enum bb_rc httpsig_verify(const struct httpsig *s, const struct httpsig_message *m,
			  const struct pubkey *pk, struct err *e)
{
	if (s->scheme == HTTPSIG_CAVAGE)
		return cavage_verify(s, m, pk, e);
	return rfc9421_verify(s, m, pk, e);
}

/* ---- signing ---------------------------------------------------------- */

void httpsig_signed_clear(struct httpsig_signed *out)
{
	free(out->host);
	free(out->date);
	free(out->digest);
	free(out->content_digest);
	free(out->signature);
	free(out->signature_input);
	memset(out, 0, sizeof(*out));
}

/* Signs the base in b and returns the base64 signature (new string). */
static enum bb_rc sign_b64(const struct key *k, const struct buf *b, char **out, struct err *e)
{
	unsigned char *sig = NULL;
	size_t siglen = 0;
	enum bb_rc rc;

	rc = key_sign_rsa_sha256(k, b->data, b->len, &sig, &siglen, e);
	if (rc != BB_OK)
		return rc;
	*out = digest_base64_encode(sig, siglen);
	free(sig);
	return *out ? BB_OK : err_set(e, BB_ERR_NOMEM, "out of memory");
}

static enum bb_rc sign_cavage(const struct key *k, const char *key_id, const char *method,
			      const struct url_parts *u, const char *content_type, bool body,
			      struct httpsig_signed *out, struct buf *b, struct err *e)
{
	struct buf hdr;
	char *sig = NULL, lm[16];
	size_t i;
	enum bb_rc rc;

	for (i = 0; method[i] && i < sizeof(lm) - 1; i++)
		lm[i] = (char)tolower((unsigned char)method[i]);
	lm[i] = '\0';
	if (buf_printf(b, "(request-target): %s %s\nhost: %s\ndate: %s", lm, u->target, out->host,
		       out->date) != BB_OK ||
	    (body && buf_printf(b, "\ndigest: %s\ncontent-type: %s", out->digest,
				content_type) != BB_OK))
		return err_set(e, BB_ERR_LIMIT, "signing string too long");
	rc = sign_b64(k, b, &sig, e);
	if (rc != BB_OK)
		return rc;
	buf_init(&hdr, HTTPSIG_HEADER_MAX);
	if (buf_printf(&hdr,
		       "keyId=\"%s\",algorithm=\"rsa-sha256\",headers=\"(request-target) host "
		       "date%s\",signature=\"%s\"",
		       key_id, body ? " digest content-type" : "", sig) != BB_OK) {
		free(sig);
		buf_free(&hdr);
		return err_set(e, BB_ERR_LIMIT, "Signature header too long");
	}
	free(sig);
	out->signature = buf_take(&hdr);
	return out->signature ? BB_OK : err_set(e, BB_ERR_NOMEM, "out of memory");
}

static enum bb_rc sign_rfc9421(const struct key *k, const char *key_id, const char *method,
			       const char *url, bool body, time_t now,
			       struct httpsig_signed *out, struct buf *b, struct err *e)
{
	char params[HTTPSIG_HEADER_MAX];
	char *sig = NULL;
	struct buf hdr;
	int n;
	enum bb_rc rc;

	n = snprintf(params, sizeof(params), "(\"@method\" \"@target-uri\"%s);created=%lld;keyid=\"%s\"",
		     body ? " \"content-digest\"" : "", (long long)now, key_id);
	if (n < 0 || (size_t)n >= sizeof(params))
		return err_set(e, BB_ERR_LIMIT, "Signature-Input too long");
	if (buf_printf(b, "\"@method\": %s\n\"@target-uri\": %s\n", method, url) != BB_OK ||
	    (body && buf_printf(b, "\"content-digest\": %s\n", out->content_digest) != BB_OK) ||
	    buf_printf(b, "\"@signature-params\": %s", params) != BB_OK)
		return err_set(e, BB_ERR_LIMIT, "signature base too long");
	rc = sign_b64(k, b, &sig, e);
	if (rc != BB_OK)
		return rc;
	buf_init(&hdr, HTTPSIG_HEADER_MAX);
	rc = buf_printf(&hdr, "sig1=:%s:", sig);
	free(sig);
	out->signature = rc == BB_OK ? buf_take(&hdr) : NULL;
	buf_free(&hdr);
	buf_init(&hdr, HTTPSIG_HEADER_MAX);
	out->signature_input =
	    buf_printf(&hdr, "sig1=%s", params) == BB_OK ? buf_take(&hdr) : NULL;
	buf_free(&hdr);
	if (out->signature == NULL || out->signature_input == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	return BB_OK;
}

enum bb_rc httpsig_sign(enum httpsig_scheme scheme, const struct key *k, const char *key_id,
			const char *method, const char *url, const char *content_type,
			const void *body, size_t body_len, time_t now, struct httpsig_signed *out,
			struct err *e)
{
	struct url_parts u;
	char date[TIME_IMF_LEN], dig[DIGEST_SHA256_B64_LEN];
	struct buf b;
	bool has_body = body != NULL;
	enum bb_rc rc;

	memset(out, 0, sizeof(*out));
	if (!url_split(url, &u))
		return err_set(e, BB_ERR_INVALID, "cannot sign for '%.100s': not an absolute URL",
			       url);
	if (strpbrk(key_id, "\"\\") != NULL)
		return err_set(e, BB_ERR_INVALID, "key id may not hold quotes or backslashes");
	time_imf_fixdate(now, date);
	out->host = strdup(u.authority);
	out->date = strdup(date);
	if (out->host == NULL || out->date == NULL) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (has_body) {
		size_t n = sizeof(dig) + 16;
		rc = digest_b64(DIGEST_SHA256, body, body_len, dig, sizeof(dig));
		if (rc != BB_OK) {
			err_set(e, rc, "cannot compute the body digest");
			goto out;
		}
		char **slot = scheme == HTTPSIG_CAVAGE ? &out->digest : &out->content_digest;
		*slot = malloc(n);
		if (*slot == NULL) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (scheme == HTTPSIG_CAVAGE)
			snprintf(*slot, n, "SHA-256=%s", dig);
		else
			snprintf(*slot, n, "sha-256=:%s:", dig);
	}
	buf_init(&b, HTTPSIG_BASE_MAX);
	if (scheme == HTTPSIG_CAVAGE)
		rc = sign_cavage(k, key_id, method, &u,
				 content_type ? content_type : "application/activity+json", has_body,
				 out, &b, e);
	else
		rc = sign_rfc9421(k, key_id, method, url, has_body, now, out, &b, e);
	buf_free(&b);
out:
	if (rc != BB_OK)
		httpsig_signed_clear(out);
	return rc;
}
