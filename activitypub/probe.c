/*
 * probe.c — see probe.h.
 */
#include "probe.h"
#include "buf.h"
#include "digest.h"
#include "rand.h"
#include "timeutil.h"
#include "url.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PROBE_ID_BYTES 16
/* Longest value of a proof field, and of a received header reported. */
#define PROBE_FIELD_MAX 512
#define PROBE_PROOF_MAX 1024
#define PROBE_REFUSED                                                                              \
	"the bridge's own actor sends nothing but its doctor's probe, and this is not one"

void ap_probe_clear(struct ap_probe *p)
{
	free(p->url);
	free(p->body);
	httpsig_signed_clear(&p->sig);
	memset(p, 0, sizeof(*p));
}

bool ap_probe_claimed(const struct ap_site *site, const struct ap_activity *a)
{
	return a->actor != NULL && strcmp(a->actor, site->actor_id) == 0;
}

/* What the proof signs. */
static enum bb_rc proof_base(struct buf *b, const char *id, const char *published,
			     const char *object, const char *host, const char *date,
			     const char *content_type)
{
	return buf_printf(b, "blogbridge doctor probe\n%s\n%s\n%s\n%s\n%s\n%s", id, published,
			  object, host, date, content_type);
}

enum bb_rc ap_probe_make(const struct ap_site *site, const struct key *k, time_t now,
			 struct ap_probe *out, struct err *e)
{
	char hex[2 * PROBE_ID_BYTES + 1], id[1024], published[TIME_RFC3339_LEN];
	char date[TIME_IMF_LEN], host[URL_HOST_KEY_MAX + 1];
	unsigned char *sig = NULL;
	size_t siglen = 0;
	char *proof = NULL;
	struct url u;
	struct buf b;
	json_t *j;
	enum bb_rc rc;

	memset(out, 0, sizeof(*out));
	if (url_parse(site->inbox, 0, &u, e) != BB_OK)
		return e->code;
	url_host_port(&u, host);
	if (rand_hex(hex, PROBE_ID_BYTES) != BB_OK)
		return err_set(e, BB_ERR_IO, "no random source");
	snprintf(id, sizeof(id), "%s%s%s", site->actor_id, AP_PROBE_FRAGMENT, hex);
	time_rfc3339(now, published);
	time_imf_fixdate(now, date);
	buf_init(&b, 8192);
	rc = proof_base(&b, id, published, site->inbox, host, date, AP_CONTENT_TYPE) == BB_OK
		 ? key_sign_rsa_sha256(k, b.data, b.len, &sig, &siglen, e)
		 : err_set(e, BB_ERR_NOMEM, "out of memory");
	buf_free(&b);
	if (rc != BB_OK)
		return rc;
	proof = digest_base64_encode(sig, siglen);
	free(sig);
	j = proof
		? json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "@context",
			    AP_CONTEXT_AS, "id", id, "type", AP_PROBE_TYPE, "actor", site->actor_id,
			    "object", site->inbox, "published", published, "probe", "host", host,
			    "date", date, "contentType", AP_CONTENT_TYPE, "proof", proof)
		: NULL;
	free(proof);
	out->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	out->url = strdup(site->inbox);
	if (out->body == NULL || out->url == NULL) {
		ap_probe_clear(out);
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	}
	rc = httpsig_sign(HTTPSIG_CAVAGE, k, site->key_id, "POST", out->url, AP_CONTENT_TYPE,
			  out->body, strlen(out->body), now, &out->sig, e);
	/* The proof names the Host and Date the signature covers. */
	if (rc == BB_OK && (strcmp(out->sig.host, host) != 0 || strcmp(out->sig.date, date) != 0))
		rc = err_set(e, BB_ERR_INVALID, "the probe's Host or Date is not the signed one");
	if (rc != BB_OK)
		ap_probe_clear(out);
	return rc;
}

/* A string field of o, bounded; NULL when absent, not a string, or long. */
static const char *field(const json_t *o, const char *name)
{
	const json_t *v = json_object_get(o, name);

	return json_is_string(v) && json_string_length(v) <= PROBE_FIELD_MAX ? json_string_value(v)
									     : NULL;
}

enum bb_rc ap_probe_check(const struct ap_site *site, const struct pubkey *own,
			  const struct ap_activity *a, time_t now, struct err *e)
{
	const json_t *p = json_object_get(a->root, "probe");
	const char *published = field(a->root, "published"), *object = field(a->root, "object");
	const char *host = field(p, "host"), *date = field(p, "date");
	const char *ctype = field(p, "contentType");
	const json_t *proof = json_object_get(p, "proof");
	size_t prefix = strlen(site->actor_id);
	unsigned char *sig = NULL;
	size_t siglen = 0;
	struct err ve = {0};
	struct buf b;
	time_t t;
	bool ok;

	if (!ap_probe_claimed(site, a) || a->type_name == NULL ||
	    strcmp(a->type_name, AP_PROBE_TYPE) != 0 || a->id == NULL ||
	    strncmp(a->id, site->actor_id, prefix) != 0 ||
	    strncmp(a->id + prefix, AP_PROBE_FRAGMENT, strlen(AP_PROBE_FRAGMENT)) != 0 ||
	    published == NULL || object == NULL || host == NULL || date == NULL || ctype == NULL ||
	    !json_is_string(proof) || json_string_length(proof) > PROBE_PROOF_MAX ||
	    (strcmp(object, site->inbox) != 0 && strcmp(object, site->shared_inbox) != 0) ||
	    !digest_base64_decode(json_string_value(proof), json_string_length(proof), &sig,
				  &siglen))
		return err_set(e, BB_ERR_AUTH, PROBE_REFUSED);
	buf_init(&b, 8192);
	ok = proof_base(&b, a->id, published, object, host, date, ctype) == BB_OK &&
	     pubkey_verify(own, PUBKEY_ALG_RSA_V1_5_SHA256, b.data, b.len, sig, siglen, &ve) ==
		 BB_OK;
	buf_free(&b);
	free(sig);
	if (!ok)
		return err_set(e, BB_ERR_AUTH, PROBE_REFUSED);
	/* Past the proof: the sender is the bridge itself. */
	if (!time_parse_rfc3339(published, &t) || t > now + AP_PROBE_WINDOW_S ||
	    t < now - AP_PROBE_WINDOW_S)
		return err_set(e, BB_ERR_AUTH,
			       "the probe was made %s, over %d s from the inbox's clock", published,
			       AP_PROBE_WINDOW_S);
	return BB_OK;
}

/* The received value of header name (repeats joined with ", " as the
 * verifier reads them) into b; false when absent. */
static bool received(const struct httpsig_message *m, const char *name, struct buf *b)
{
	bool found = false;

	buf_reset(b);
	for (size_t i = 0; i < m->header_count; i++) {
		if (strcasecmp(m->headers[i].name, name) != 0)
			continue;
		if ((found && buf_puts(b, ", ") != BB_OK) ||
		    buf_puts(b, m->headers[i].value) != BB_OK)
			return found; /* over the bound: what fits */
		found = true;
	}
	return found;
}

/* {"unchanged": B, "received": S|null} for header name, expected being
 * what was signed. */
static json_t *header_report(const struct httpsig_message *m, const char *name,
			     const char *expected, struct buf *b)
{
	bool got = received(m, name, b);
	size_t len = got ? b->len : 0;
	json_t *v;

	if (len > PROBE_FIELD_MAX)
		len = PROBE_FIELD_MAX;
	v = got ? json_stringn(b->data ? b->data : "", len) : NULL; /* NULL: not UTF-8 */
	return json_pack("{s:b, s:o}", "unchanged",
			 got && b->data != NULL && expected != NULL &&
			     strcmp(b->data, expected) == 0,
			 "received", v ? v : json_null());
}

enum bb_rc ap_probe_report(const struct ap_activity *a, const struct httpsig_message *m,
			   const char *sig_failure, char **out, struct err *e)
{
	const json_t *p = json_object_get(a->root, "probe");
	char digest[DIGEST_SHA256_B64_LEN + 16] = "SHA-256=";
	json_t *j, *sig;
	struct buf b;

	*out = NULL;
	if (digest_b64(DIGEST_SHA256, m->body ? m->body : "", m->body_len, digest + 8,
		       sizeof(digest) - 8) != BB_OK)
		return err_set(e, BB_ERR_CRYPTO, "cannot digest the probe");
	buf_init(&b, 2 * PROBE_FIELD_MAX);
	sig = sig_failure ? json_pack("{s:b, s:s}", "verified", 0, "reason", sig_failure)
			  : json_pack("{s:b}", "verified", 1);
	j = json_pack("{s:s, s:o, s:{s:o, s:o, s:o, s:o}}", "probe", a->id, "signature", sig,
		      "headers", "host", header_report(m, "Host", field(p, "host"), &b), "date",
		      header_report(m, "Date", field(p, "date"), &b), "digest",
		      header_report(m, "Digest", digest, &b), "content-type",
		      header_report(m, "Content-Type", field(p, "contentType"), &b));
	buf_free(&b);
	*out = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return *out ? BB_OK : err_set(e, BB_ERR_NOMEM, "out of memory");
}
