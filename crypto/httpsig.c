/*
 * httpsig.c — see httpsig.h: the entry points (httpsig_parse dispatches on
 * the headers present, httpsig_verify on the scheme parsed, the accessors
 * and httpsig_free).  The schemes themselves are in httpsig_cavage.c and
 * httpsig_rfc9421.c, the helpers both share in httpsig_common.c, signing
 * in httpsig_sign.c.
 *
 * Reference: Mastodon app/lib/signed_request.rb (which scheme a request
 * uses).
 */
#include "httpsig_int.h"

#include <strings.h>

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
	if (!httpsig_header_value(m, "signature-input", &input) ||
	    !httpsig_header_value(m, "signature", &sig) ||
	    !httpsig_header_value(m, "authorization", &auth)) {
		rc = err_set(e, BB_ERR_AUTH, "signature headers too long");
		goto out;
	}
	/* A Signature-Input header means RFC 9421 (signed_request.rb:233). */
	if (input != NULL)
		rc = httpsig_rfc9421_parse(s, m, input, now, e);
	else if (sig != NULL)
		rc = httpsig_cavage_parse(s, m, sig, now, e);
	else if (auth != NULL && strncasecmp(auth, "Signature ", 10) == 0)
		rc = httpsig_cavage_parse(s, m, auth, now, e);
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
		return httpsig_cavage_verify(s, m, pk, e);
	return httpsig_rfc9421_verify(s, m, pk, e);
}
