/*
 * httpsig_sign.c — signing an outgoing request in either scheme (see
 * httpsig_sign in httpsig.h): Host, Date, the body digest, and the
 * Signature (plus Signature-Input for RFC 9421) headers.
 *
 * References: draft-cavage-http-signatures-12 §2.1-2.4 (parameters, the
 * signing string, creating the signature); RFC 9421 §2.5 (the signature
 * base), §3.1 (creating a signature), §4 (the Signature-Input and Signature
 * fields); RFC 9530 (Content-Digest).
 */
#include "httpsig_int.h"
#include "buf.h"
#include "digest.h"
#include "timeutil.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The extra header's name, lowercased, in out (empty when none). */
static enum bb_rc extra_name(const struct httpsig_header *extra,
			     char out[HTTPSIG_EXTRA_NAME_MAX + 1], struct err *e)
{
	size_t i;

	out[0] = '\0';
	if (extra == NULL)
		return BB_OK;
	for (i = 0; extra->name[i]; i++) {
		unsigned char c = (unsigned char)extra->name[i];
		if (i >= HTTPSIG_EXTRA_NAME_MAX || !(isalnum(c) || c == '-'))
			return err_set(e, BB_ERR_INVALID, "bad header name to sign");
		out[i] = (char)tolower(c);
	}
	out[i] = '\0';
	if (i == 0 || strpbrk(extra->value, "\r\n") != NULL)
		return err_set(e, BB_ERR_INVALID, "bad header to sign");
	return BB_OK;
}

static enum bb_rc sign_cavage(const struct key *k, const char *key_id, const char *method,
			      const struct url *u, const char *content_type, bool body,
			      const struct httpsig_header *extra, const char *xname,
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
				content_type) != BB_OK) ||
	    (extra && buf_printf(b, "\n%s: %s", xname, extra->value) != BB_OK))
		return err_set(e, BB_ERR_LIMIT, "signing string too long");
	rc = sign_b64(k, b, &sig, e);
	if (rc != BB_OK)
		return rc;
	buf_init(&hdr, HTTPSIG_HEADER_MAX);
	if (buf_printf(&hdr,
		       "keyId=\"%s\",algorithm=\"rsa-sha256\",headers=\"(request-target) host "
		       "date%s%s%s\",signature=\"%s\"",
		       key_id, body ? " digest content-type" : "", extra ? " " : "", xname,
		       sig) != BB_OK) {
		free(sig);
		buf_free(&hdr);
		return err_set(e, BB_ERR_LIMIT, "Signature header too long");
	}
	free(sig);
	out->signature = buf_take(&hdr);
	return out->signature ? BB_OK : err_set(e, BB_ERR_NOMEM, "out of memory");
}

static enum bb_rc sign_rfc9421(const struct key *k, const char *key_id, const char *method,
			       const char *url, bool body, const struct httpsig_header *extra,
			       const char *xname, time_t now, struct httpsig_signed *out,
			       struct buf *b, struct err *e)
{
	char params[HTTPSIG_HEADER_MAX];
	char *sig = NULL;
	struct buf hdr;
	int n;
	enum bb_rc rc;

	/* alg is optional in RFC 9421 (§2.3), but some strict verifiers refuse
	 * a signature without it. */
	n = snprintf(params, sizeof(params),
		     "(\"@method\" \"@target-uri\"%s%s%s%s);created=%lld;keyid=\"%s\";"
		     "alg=\"rsa-v1_5-sha256\"",
		     body ? " \"content-digest\"" : "", extra ? " \"" : "", xname,
		     extra ? "\"" : "", (long long)now, key_id);
	if (n < 0 || (size_t)n >= sizeof(params))
		return err_set(e, BB_ERR_LIMIT, "Signature-Input too long");
	if (buf_printf(b, "\"@method\": %s\n\"@target-uri\": %s\n", method, url) != BB_OK ||
	    (body && buf_printf(b, "\"content-digest\": %s\n", out->content_digest) != BB_OK) ||
	    (extra && buf_printf(b, "\"%s\": %s\n", xname, extra->value) != BB_OK) ||
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
	return httpsig_sign_extra(scheme, k, key_id, method, url, content_type, body, body_len,
				  NULL, now, out, e);
}

enum bb_rc httpsig_sign_extra(enum httpsig_scheme scheme, const struct key *k, const char *key_id,
			      const char *method, const char *url, const char *content_type,
			      const void *body, size_t body_len, const struct httpsig_header *extra,
			      time_t now, struct httpsig_signed *out, struct err *e)
{
	struct url u;
	char date[TIME_IMF_LEN], dig[DIGEST_SHA256_B64_LEN], host[URL_HOST_KEY_MAX + 1];
	char xname[HTTPSIG_EXTRA_NAME_MAX + 1];
	struct buf b;
	bool has_body = body != NULL;
	enum bb_rc rc;

	memset(out, 0, sizeof(*out));
	if (url_parse(url, 0, &u, NULL) != BB_OK)
		return err_set(e, BB_ERR_INVALID, "cannot sign for '%.100s': not an absolute URL",
			       url);
	url_host_port(&u, host);
	if (strpbrk(key_id, "\"\\") != NULL)
		return err_set(e, BB_ERR_INVALID, "key id may not hold quotes or backslashes");
	rc = extra_name(extra, xname, e);
	if (rc != BB_OK)
		return rc;
	time_imf_fixdate(now, date);
	out->host = strdup(host);
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
				 extra, xname, out, &b, e);
	else
		rc = sign_rfc9421(k, key_id, method, url, has_body, extra, xname, now, out, &b,
				  e);
	buf_free(&b);
out:
	if (rc != BB_OK)
		httpsig_signed_clear(out);
	return rc;
}
