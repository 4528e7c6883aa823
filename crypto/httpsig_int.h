/*
 * httpsig_int.h — what the HTTP-signature files share, and nothing else
 * includes.
 *
 * The module is split by responsibility: httpsig.c holds the entry points
 * (httpsig_parse, httpsig_verify, the accessors, httpsig_free);
 * httpsig_common.c the helpers below that both schemes use;
 * httpsig_cavage.c parses and
 * verifies draft-cavage-http-signatures-12 signatures; httpsig_rfc9421.c
 * parses and verifies RFC 9421 signatures (with the subset of RFC 8941
 * structured fields that Signature-Input and Signature use);
 * httpsig_sign.c signs outgoing requests in either scheme.
 *
 * References: RFC 9421 §2.1 (field values), §2.2.3 (@authority);
 * draft-cavage-http-signatures-12 §2.1 (parameters); Mastodon
 * app/lib/signed_request.rb (the time window).
 */
#ifndef BB_HTTPSIG_INT_H
#define BB_HTTPSIG_INT_H

#include "httpsig.h"
#include "url.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* A signature base never needs more than this. */
#define HTTPSIG_BASE_MAX (64 * 1024)
/* created/expires past 9999-12-31T23:59:59Z are refused when parsed, so
 * the window's sums (created + HTTPSIG_EXPIRES_CAP, expires +
 * HTTPSIG_CLOCK_SKEW) cannot overflow. */
#define HTTPSIG_TIME_MAX 253402300799LL

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

/* ---- shared helpers (httpsig_common.c) --------------------------------- */

/* The value of header name in m: repeated fields joined with ", ", each
 * trimmed (RFC 9421 §2.1).  *out (new string) is NULL when absent.  False
 * when out of memory or too long. */
bool httpsig_header_value(const struct httpsig_message *m, const char *name,
			  char **out) BB_MUST_CHECK;

/* URLs are read with url_parse (common/url.h), the path as given: its
 * scheme, its url_host_port as Host and @authority (lower case, default
 * port dropped, RFC 9421 §2.2.3), and its target (path[?query], no
 * fragment) as (request-target), @path and @query. */

/* Whether s covers the item (cavage header name or RFC 9421 component)
 * name, compared exactly. */
bool httpsig_item_covered(const struct httpsig *s, const char *name);

/* Appends a copy of the len bytes at name to the items s covers;
 * BB_ERR_AUTH past HTTPSIG_COMPONENTS_MAX. */
enum bb_rc httpsig_item_add(struct httpsig *s, const char *name, size_t len,
			    struct err *e) BB_MUST_CHECK;

/* Mastodon's window on s->created / s->expires at time now: BB_ERR_AUTH
 * when created is more than HTTPSIG_CLOCK_SKEW ahead or the (capped)
 * expiry more than HTTPSIG_CLOCK_SKEW past. */
enum bb_rc httpsig_check_window(struct httpsig *s, time_t now, struct err *e) BB_MUST_CHECK;

/* Decodes the base64 signature (len bytes at b64) into s->sig;
 * BB_ERR_AUTH when it is not valid base64 or empty. */
enum bb_rc httpsig_decode_signature(struct httpsig *s, const char *b64, size_t len,
				    struct err *e) BB_MUST_CHECK;

/* ---- the schemes (httpsig_cavage.c, httpsig_rfc9421.c) ------------------ */

/* Parse and pre-check the signature whose header value is header (cavage:
 * Signature or Authorization) or input (RFC 9421: Signature-Input) into s,
 * as httpsig_parse describes.  On failure s may be partly filled; the
 * caller frees it. */
enum bb_rc httpsig_cavage_parse(struct httpsig *s, const struct httpsig_message *m,
				const char *header, time_t now, struct err *e) BB_MUST_CHECK;
enum bb_rc httpsig_rfc9421_parse(struct httpsig *s, const struct httpsig_message *m,
				 const char *input, time_t now, struct err *e) BB_MUST_CHECK;

/* Verify a signature the matching parse accepted, as httpsig_verify
 * describes. */
enum bb_rc httpsig_cavage_verify(const struct httpsig *s, const struct httpsig_message *m,
				 const struct pubkey *pk, struct err *e) BB_MUST_CHECK;
enum bb_rc httpsig_rfc9421_verify(const struct httpsig *s, const struct httpsig_message *m,
				  const struct pubkey *pk, struct err *e) BB_MUST_CHECK;

#endif
