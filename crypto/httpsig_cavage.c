/*
 * httpsig_cavage.c — draft-cavage HTTP signatures (`Signature:` or
 * `Authorization: Signature`) as Mastodon sends and verifies them: the
 * parameters parsed and pre-checked, the signing string rebuilt, the
 * RSA-SHA256 signature verified.
 *
 * References: draft-cavage-http-signatures-12 §2.1-2.3 (parameters and
 * the signing string), §2.5 (verifying); Mastodon app/lib/signed_request.rb
 * (which rules it enforces: required coverage, the time window, duplicate
 * parameters, (request-target) with or without the query).
 */
#include "httpsig_int.h"
#include "buf.h"
#include "digest.h"
#include "timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Parses a decimal integer string (possibly with a fraction, which
 * draft-cavage allows for created/expires), at most HTTPSIG_TIME_MAX. */
static bool parse_epoch(const char *s, time_t *out)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v > HTTPSIG_TIME_MAX)
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

enum bb_rc httpsig_cavage_parse(struct httpsig *s, const struct httpsig_message *m,
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
			rc = httpsig_item_add(s, w, (size_t)(p - w), e);
			if (rc != BB_OK)
				goto out;
			for (char *c = s->items[s->nitems - 1]; *c; c++)
				*c = (char)tolower((unsigned char)*c);
		}
		while (*p == ' ')
			p++;
	}
	if (!hs2019 &&
	    (httpsig_item_covered(s, "(created)") || httpsig_item_covered(s, "(expires)"))) {
		rc = err_set(e, BB_ERR_AUTH, "Invalid pseudo-header (created)/(expires) for "
					     "rsa-sha256");
		goto out;
	}
	if (!httpsig_item_covered(s, "date") && !httpsig_item_covered(s, "(created)")) {
		rc = err_set(e, BB_ERR_AUTH, "Mastodon requires the Date header or (created) "
					     "pseudo-header to be signed");
		goto out;
	}
	if (!httpsig_item_covered(s, "(request-target)") && !httpsig_item_covered(s, "digest")) {
		rc = err_set(e, BB_ERR_AUTH, "Mastodon requires the Digest header or "
					     "(request-target) pseudo-header to be signed");
		goto out;
	}
	if (strcmp(m->method, "GET") == 0 && !httpsig_item_covered(s, "host")) {
		rc = err_set(e, BB_ERR_AUTH, "Mastodon requires the Host header to be signed when "
					     "doing a GET request");
		goto out;
	}
	if (strcmp(m->method, "POST") == 0 && !httpsig_item_covered(s, "digest")) {
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
	s->has_created = vals[CP_CREATED] != NULL && httpsig_item_covered(s, "(created)");
	if (vals[CP_EXPIRES] && (!hs2019 || !parse_epoch(vals[CP_EXPIRES], &s->expires))) {
		rc = err_set(e, BB_ERR_AUTH, "Invalid expires parameter");
		goto out;
	}
	s->has_expires = vals[CP_EXPIRES] != NULL && httpsig_item_covered(s, "(expires)");
	if ((httpsig_item_covered(s, "(created)") && vals[CP_CREATED] == NULL) ||
	    (httpsig_item_covered(s, "(expires)") && vals[CP_EXPIRES] == NULL)) {
		rc = err_set(e, BB_ERR_AUTH, "(created)/(expires) signed without the parameter");
		goto out;
	}
	if (!s->has_created) {
		if (!httpsig_header_value(m, "date", &date)) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (date == NULL || !time_parse_imf_fixdate(date, &s->created)) {
			rc = err_set(e, BB_ERR_AUTH, "Invalid Date header: %.60s",
				     date ? date : "(none)");
			goto out;
		}
	}
	rc = httpsig_check_window(s, now, e);
	if (rc != BB_OK)
		goto out;
	if (httpsig_item_covered(s, "digest")) {
		if (!httpsig_header_value(m, "digest", &digest)) {
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
	rc = httpsig_decode_signature(s, vals[CP_SIGNATURE], strlen(vals[CP_SIGNATURE]), e);
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
	struct url u;
	enum bb_rc rc = BB_OK;

	if (url_parse(m->target_uri, 0, &u, NULL) != BB_OK)
		return err_set(e, BB_ERR_INVALID, "bad request target");
	if (!with_query)
		u.target[u.path_len] = '\0';
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
			if (!httpsig_header_value(m, name, &value))
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

enum bb_rc httpsig_cavage_verify(const struct httpsig *s, const struct httpsig_message *m,
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
