/*
 * timeutil.h — the two time formats the bridge speaks.
 *
 * RFC 3339 (ActivityStreams `published`/`updated`, JSON output), always UTC
 * with a `Z`, second precision; and IMF-fixdate (RFC 9110 §5.6.7), the HTTP
 * `Date` header that draft-cavage signatures cover.
 */
#ifndef BB_TIMEUTIL_H
#define BB_TIMEUTIL_H

#include "err.h"

#include <stdbool.h>
#include <time.h>

#define TIME_RFC3339_LEN 21 /* "2026-11-26T07:21:29Z" + NUL */
#define TIME_IMF_LEN 30     /* "Thu, 26 Nov 2026 07:21:29 GMT" + NUL */

/* Formats t (UTC).  out must hold TIME_RFC3339_LEN / TIME_IMF_LEN bytes. */
void time_rfc3339(time_t t, char out[TIME_RFC3339_LEN]);
void time_imf_fixdate(time_t t, char out[TIME_IMF_LEN]);

/* Parses an RFC 3339 date-time ("2026-11-26T07:21:29Z", fractional seconds
 * and numeric offsets accepted).  Returns false on any syntax error. */
bool time_parse_rfc3339(const char *s, time_t *out) BB_MUST_CHECK;

/* Parses an IMF-fixdate exactly.  Returns false on any syntax error. */
bool time_parse_imf_fixdate(const char *s, time_t *out) BB_MUST_CHECK;

#endif
