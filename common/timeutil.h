/*
 * timeutil.h — the two time formats the bridge speaks.
 *
 * RFC 3339 (ActivityStreams `published`/`updated`, JSON output), always UTC
 * with a `Z`, second precision; and IMF-fixdate (RFC 9110 §5.6.7), the HTTP
 * `Date` header that draft-cavage signatures cover.  A third, read only:
 * RFC 822 dates as RSS feeds write them (`pubDate`), parsed leniently.
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

/* Parses an RFC 822 / RFC 5322 §3.3 date the way feeds write them, e.g.
 * "Mon, 04 Nov 2013 09:12:00 +0000".  Lenient where feeds differ: the day
 * name is optional and not checked against the date, names are matched in
 * any case (full names too), the day may have one digit, the year two
 * (RFC 5322 §4.3: 00-49 is 20xx, 50-99 is 19xx) or four, seconds are
 * optional, and runs of white space count as one.  The zone is a numeric
 * offset (+hhmm, also +hh:mm), GMT/UT/UTC/Z, a North American name of RFC
 * 822 (EST, EDT, CST, CDT, MST, MDT, PST, PDT), CET/CEST; another
 * alphabetic zone, or none, means UTC (RFC 5322 §4.3).  A trailing comment
 * "(...)" is ignored.  Returns false on other syntax errors and impossible
 * dates, leaving *out untouched. */
bool time_parse_rfc822(const char *s, time_t *out) BB_MUST_CHECK;

/* Milliseconds on a monotonic clock (for intervals, not dates). */
long long time_monotonic_ms(void);

#endif
