/*
 * httpsig.h — HTTP signatures, both kinds the fediverse uses.
 *
 * - draft-cavage-http-signatures-12 (`Signature:`), as Mastodon sends and
 *   verifies it: rsa-sha256 or hs2019 (always RSASSA-PKCS1-v1_5 SHA-256),
 *   a `headers` list in any order, `(request-target)` with or without the
 *   query, `(created)`/`(expires)` with hs2019, `Digest: SHA-256=`.
 * - RFC 9421 HTTP Message Signatures (`Signature-Input` + `Signature`), one
 *   signature, `created` and `keyid` required, covering `@method` and
 *   `@target-uri` (and `content-digest`, RFC 9530, on POST);
 *   rsa-v1_5-sha256 (the default for RSA keys), rsa-pss-sha512, ed25519.
 *
 * Verification is two steps so the caller can fetch the key in between:
 * httpsig_parse() checks everything that needs no key (syntax, duplicate
 * parameters, required coverage, the time window, the body digest) and
 * names the keyId; httpsig_verify() checks the signature with that key.
 * Every refusal is BB_ERR_AUTH (answer 401) with a precise reason, except a
 * malformed Content-Digest, BB_ERR_INVALID (Mastodon answers 400).
 */
#ifndef BB_HTTPSIG_H
#define BB_HTTPSIG_H

#include "err.h"
#include "key.h"

#include <stddef.h>
#include <time.h>

/* Mastodon's window: a Date up to 65 minutes old (5 minutes of validity
 * plus an hour of clock skew) or up to an hour ahead (signed_request.rb). */
#define HTTPSIG_EXPIRES_DEFAULT (5 * 60)
#define HTTPSIG_EXPIRES_CAP (12 * 3600)
#define HTTPSIG_CLOCK_SKEW 3600
/* Bounds on what we parse. */
#define HTTPSIG_HEADER_MAX 8192
#define HTTPSIG_COMPONENTS_MAX 32

enum httpsig_scheme { HTTPSIG_CAVAGE, HTTPSIG_RFC9421 };

struct httpsig_header {
	const char *name; /* any case */
	const char *value;
};

/* One HTTP request as received (or about to be sent). */
struct httpsig_message {
	const char *method;     /* "POST", "GET" */
	const char *target_uri; /* absolute: "https://blog.example/ap/inbox?q=1" */
	const struct httpsig_header *headers;
	size_t header_count; /* repeated names are joined with ", " */
	const void *body;    /* NULL for none */
	size_t body_len;
};

struct httpsig;

/* Parses and pre-checks the signature of m at time now.  On BB_OK, *out
 * (free with httpsig_free) names the key to fetch. */
enum bb_rc httpsig_parse(const struct httpsig_message *m, time_t now, struct httpsig **out,
			 struct err *e) BB_MUST_CHECK;

enum httpsig_scheme httpsig_scheme_of(const struct httpsig *s);

/* The keyId (cavage) or keyid (RFC 9421), borrowed. */
const char *httpsig_key_id(const struct httpsig *s);

/* Verifies the parsed signature of m (the same message given to parse)
 * with pk.  BB_OK when it holds. */
enum bb_rc httpsig_verify(const struct httpsig *s, const struct httpsig_message *m,
			  const struct pubkey *pk, struct err *e) BB_MUST_CHECK;

void httpsig_free(struct httpsig *s);

/* The headers a signer adds to a request; strings owned, free with
 * httpsig_signed_clear.  Fields a scheme does not use are NULL. */
struct httpsig_signed {
	char *host;
	char *date;
	char *digest;         /* cavage, with a body: "SHA-256=..." */
	char *content_digest; /* RFC 9421, with a body: "sha-256=:...:" */
	char *signature;      /* the Signature header value */
	char *signature_input; /* RFC 9421 */
};

void httpsig_signed_clear(struct httpsig_signed *out);

/* Signs a request for sending: method, absolute URL, optional body (with
 * its Content-Type, which cavage covers), at time now, with k under
 * key_id.  Cavage covers "(request-target) host date" plus "digest
 * content-type" with a body; RFC 9421 covers "@method" "@target-uri"
 * (plus "content-digest") with created, keyid and alg="rsa-v1_5-sha256",
 * label sig1. */
enum bb_rc httpsig_sign(enum httpsig_scheme scheme, const struct key *k, const char *key_id,
			const char *method, const char *url, const char *content_type,
			const void *body, size_t body_len, time_t now, struct httpsig_signed *out,
			struct err *e) BB_MUST_CHECK;

/* The longest name of a header httpsig_sign_extra covers. */
#define HTTPSIG_EXTRA_NAME_MAX 64

/* httpsig_sign, and extra (NULL: none) covered too, after the others: its
 * name (letters, digits, '-') lowercased last in cavage's headers list, a
 * component of RFC 9421's.  Its value (no CR or LF) is
 * signed as given: the caller sends it so. */
enum bb_rc httpsig_sign_extra(enum httpsig_scheme scheme, const struct key *k,
			      const char *key_id, const char *method, const char *url,
			      const char *content_type, const void *body, size_t body_len,
			      const struct httpsig_header *extra, time_t now,
			      struct httpsig_signed *out, struct err *e) BB_MUST_CHECK;

#endif
