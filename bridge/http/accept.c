/*
 * accept.c — see accept.h.
 */
#include "accept.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Specificity of a media range match: none < * / * < type/ * < exact. */
enum spec { SPEC_NONE, SPEC_ANY, SPEC_TYPE, SPEC_EXACT };

struct pref {
	enum spec spec;
	int q; /* thousandths */
};

/* Parses "q=0.5" style weights into thousandths; bad values count as 1. */
static int parse_q(const char *s, size_t len)
{
	int q = 0, scale = 1000;
	size_t i = 0;

	if (len == 0 || (s[0] != '0' && s[0] != '1'))
		return 1000;
	q = (s[0] - '0') * 1000;
	i = 1;
	if (i < len && s[i] == '.') {
		for (i++; i < len && isdigit((unsigned char)s[i]) && scale > 1; i++) {
			scale /= 10;
			q += (s[i] - '0') * scale;
		}
	}
	return q > 1000 ? 1000 : q;
}

static void consider(struct pref *p, enum spec spec, int q)
{
	/* The most specific range decides; among equally specific ones (the
	 * three JSON types), the most welcome. */
	if (spec > p->spec || (spec == p->spec && q > p->q)) {
		p->spec = spec;
		p->q = q;
	}
}

static bool range_is(const char *r, size_t len, const char *type)
{
	return strlen(type) == len && strncasecmp(r, type, len) == 0;
}

enum accept_choice accept_negotiate(const char *accept)
{
	struct pref json = {SPEC_NONE, 0}, html = {SPEC_NONE, 0};
	const char *p = accept;

	if (accept == NULL || accept[0] == '\0')
		return ACCEPT_ACTIVITY_JSON;
	while (*p) {
		const char *end = strchr(p, ',');
		const char *semi, *r, *rend;
		size_t len;
		int q = 1000;

		if (end == NULL)
			end = p + strlen(p);
		r = p;
		while (r < end && isspace((unsigned char)*r))
			r++;
		for (semi = r; semi < end && *semi != ';'; semi++)
			;
		rend = semi;
		if (semi == end)
			semi = NULL;
		while (rend > r && isspace((unsigned char)rend[-1]))
			rend--;
		len = (size_t)(rend - r);
		/* Parameters: only q matters here (the ActivityStreams profile
		 * on ld+json is accepted with or without it). */
		for (const char *s = semi ? semi + 1 : end; s < end;) {
			const char *v = s, *vend = s;
			while (vend < end && *vend != ';')
				vend++;
			while (v < vend && isspace((unsigned char)*v))
				v++;
			if (vend - v >= 2 && (v[0] == 'q' || v[0] == 'Q') && v[1] == '=')
				q = parse_q(v + 2, (size_t)(vend - v - 2));
			s = vend < end ? vend + 1 : end;
		}
		if (range_is(r, len, "application/activity+json") ||
		    range_is(r, len, "application/ld+json") || range_is(r, len, "application/json"))
			consider(&json, SPEC_EXACT, q);
		else if (range_is(r, len, "application/*"))
			consider(&json, SPEC_TYPE, q);
		else if (range_is(r, len, "text/html") || range_is(r, len, "application/xhtml+xml"))
			consider(&html, SPEC_EXACT, q);
		else if (range_is(r, len, "text/*"))
			consider(&html, SPEC_TYPE, q);
		else if (range_is(r, len, "*/*")) {
			consider(&json, SPEC_ANY, q);
			consider(&html, SPEC_ANY, q);
		}
		p = *end ? end + 1 : end;
	}
	if (json.q == 0 && html.q == 0)
		return ACCEPT_NONE;
	return json.q >= html.q ? ACCEPT_ACTIVITY_JSON : ACCEPT_HTML;
}
