/*
 * httpsig_common.c — what both verifiers share (contracts in
 * httpsig_int.h): a request header's value, the covered components, the
 * time window and the signature bytes.
 *
 * References: RFC 9421 §2.1 (a field's value: repeated fields joined with
 * ", ", each trimmed); Mastodon app/lib/signed_request.rb (the time
 * window).
 */
#include "httpsig_int.h"
#include "buf.h"
#include "digest.h"

#include <string.h>

/* The value of header name in m: repeated fields joined with ", ", each
 * trimmed (RFC 9421 §2.1).  *out is NULL when absent.  False when out of
 * memory or too long. */
bool httpsig_header_value(const struct httpsig_message *m, const char *name, char **out)
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

bool httpsig_item_covered(const struct httpsig *s, const char *name)
{
	for (size_t i = 0; i < s->nitems; i++)
		if (strcmp(s->items[i], name) == 0)
			return true;
	return false;
}

enum bb_rc httpsig_item_add(struct httpsig *s, const char *name, size_t len, struct err *e)
{
	if (s->nitems >= HTTPSIG_COMPONENTS_MAX)
		return err_set(e, BB_ERR_AUTH, "too many signed components");
	s->items[s->nitems] = strndup(name, len);
	if (s->items[s->nitems] == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	s->nitems++;
	return BB_OK;
}

/* Mastodon's window: reject created more than an hour ahead, or expires
 * (default created + 5 min, at most created + 12 h) more than an hour
 * past. */
enum bb_rc httpsig_check_window(struct httpsig *s, time_t now, struct err *e)
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

enum bb_rc httpsig_decode_signature(struct httpsig *s, const char *b64, size_t len, struct err *e)
{
	if (!digest_base64_decode(b64, len, &s->sig, &s->siglen) || s->siglen == 0)
		return err_set(e, BB_ERR_AUTH, "signature is not valid base64");
	return BB_OK;
}
