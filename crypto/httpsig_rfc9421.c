/*
 * httpsig_rfc9421.c — RFC 9421 HTTP Message Signatures on receipt: the
 * Signature-Input and Signature fields parsed (one signature), coverage,
 * the time window and Content-Digest pre-checked, the signature base
 * rebuilt and verified.
 *
 * References: RFC 9421 §2 (components, the signature base), §3.1-3.2, §4
 * (the Signature-Input and Signature fields); RFC 8941 (structured fields,
 * the subset those fields use: keys, strings, inner lists, parameters,
 * byte sequences); RFC 9530 (Content-Digest).
 */
#include "httpsig_int.h"
#include "buf.h"
#include "digest.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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
			if (iend == v || errno != 0 || t < 0 || t > HTTPSIG_TIME_MAX)
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
		if (httpsig_item_covered(s, comp))
			return err_set(e, BB_ERR_AUTH, "component \"%s\" covered twice", comp);
		rc = httpsig_item_add(s, comp, strlen(comp), e);
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
		/* Refused at the second member, before it is decoded: the same
		 * label twice would decode into s->sig again. */
		if (++members > 1)
			return err_set(e, BB_ERR_AUTH, "Only one signature is supported");
		if ((size_t)(kend - k) == ll && strncmp(k, label, ll) == 0)
			rc = httpsig_decode_signature(s, colon, (size_t)(close - colon), e);
		p = close + 1;
		while (*p && *p != ',')
			p++;
	}
	return rc;
}

enum bb_rc httpsig_rfc9421_parse(struct httpsig *s, const struct httpsig_message *m,
				 const char *input, time_t now, struct err *e)
{
	char label[64];
	char *sig = NULL, *cdigest = NULL;
	enum bb_rc rc;

	s->scheme = HTTPSIG_RFC9421;
	rc = rfc9421_input(s, input, label, sizeof(label), e);
	if (rc != BB_OK)
		goto out;
	if (!httpsig_header_value(m, "signature", &sig)) {
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
	if (!httpsig_item_covered(s, "@method") || !httpsig_item_covered(s, "@target-uri")) {
		rc = err_set(e, BB_ERR_AUTH, "the signature must cover \"@method\" and "
					     "\"@target-uri\"");
		goto out;
	}
	rc = httpsig_check_window(s, now, e);
	if (rc != BB_OK)
		goto out;
	if (strcmp(m->method, "POST") == 0 && !httpsig_item_covered(s, "content-digest")) {
		rc = err_set(e, BB_ERR_AUTH, "a POST signature must cover \"content-digest\"");
		goto out;
	}
	if (httpsig_item_covered(s, "content-digest")) {
		if (!httpsig_header_value(m, "content-digest", &cdigest)) {
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
				    const struct url *u, struct buf *b, struct err *e)
{
	const char *q = u->has_query ? u->target + u->path_len : NULL;
	char *value = NULL, authority[URL_HOST_KEY_MAX + 1];
	enum bb_rc rc;

	if (strcmp(c, "@method") == 0)
		rc = buf_puts(b, m->method);
	else if (strcmp(c, "@target-uri") == 0)
		rc = buf_puts(b, m->target_uri);
	else if (strcmp(c, "@authority") == 0) {
		url_host_port(u, authority);
		rc = buf_puts(b, authority);
	} else if (strcmp(c, "@scheme") == 0)
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
		if (!httpsig_header_value(m, c, &value))
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
	struct url u;
	enum bb_rc rc;

	if (url_parse(m->target_uri, 0, &u, NULL) != BB_OK)
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

enum bb_rc httpsig_rfc9421_verify(const struct httpsig *s, const struct httpsig_message *m,
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
