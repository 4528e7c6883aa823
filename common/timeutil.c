/*
 * timeutil.c — see timeutil.h.  Parsing is by hand rather than strptime(3)
 * because strptime depends on the locale and accepts loose input.
 */
#include "timeutil.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const wdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void time_rfc3339(time_t t, char out[TIME_RFC3339_LEN])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 || tm.tm_year > 8099) {
		memcpy(out, "1970-01-01T00:00:00Z", TIME_RFC3339_LEN);
		return;
	}
	/* The year range above keeps this within TIME_RFC3339_LEN. */
	if (strftime(out, TIME_RFC3339_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		memcpy(out, "1970-01-01T00:00:00Z", TIME_RFC3339_LEN);
}

void time_imf_fixdate(time_t t, char out[TIME_IMF_LEN])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 || tm.tm_year > 8099) {
		memcpy(out, "Thu, 01 Jan 1970 00:00:00 GMT", TIME_IMF_LEN);
		return;
	}
	char tmp[64]; /* roomy enough that the compiler can prove no truncation */

	snprintf(tmp, sizeof(tmp), "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[tm.tm_wday],
		 tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
	memcpy(out, tmp, TIME_IMF_LEN - 1);
	out[TIME_IMF_LEN - 1] = '\0';
}

/* Reads exactly n decimal digits. */
static bool digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

static bool tm_valid(const struct tm *tm)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y = tm->tm_year + 1900;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	/* Feb 29 only in leap years: timegm would roll it to Mar 1. */
	if (tm->tm_mon == 1 && tm->tm_mday == 29 && !leap)
		return false;
	return tm->tm_mon >= 0 && tm->tm_mon < 12 && tm->tm_mday >= 1 &&
	       tm->tm_mday <= mdays[tm->tm_mon] && tm->tm_hour <= 23 && tm->tm_min <= 59 &&
	       tm->tm_sec <= 60;
}

/* The UTC time of a calendar date and time (month from 0), checked for
 * validity (no Feb 30, no Feb 29 in a common year); *wday (may be NULL)
 * gets its day of the week. */
static bool utc_time(int y, int mon, int d, int h, int mi, int sec, time_t *out, int *wday)
{
	struct tm tm = {0};

	tm.tm_year = y - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if (!tm_valid(&tm))
		return false;
	*out = timegm(&tm);
	if (wday)
		*wday = tm.tm_wday;
	return true;
}

bool time_parse_rfc3339(const char *s, time_t *out)
{
	time_t t;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	const char *p = s;

	if (!digits(&p, 4, &y) || !expect(&p, '-') || !digits(&p, 2, &mo) ||
	    !expect(&p, '-') || !digits(&p, 2, &d))
		return false;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return false;
	p++;
	if (!digits(&p, 2, &h) || !expect(&p, ':') || !digits(&p, 2, &mi) ||
	    !expect(&p, ':') || !digits(&p, 2, &sec))
		return false;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		p++;
		if (!digits(&p, 2, &oh) || !expect(&p, ':') || !digits(&p, 2, &om) || oh > 23 ||
		    om > 59)
			return false;
	} else {
		return false;
	}
	if (*p != '\0')
		return false;
	if (!utc_time(y, mo - 1, d, h, mi, sec, &t, NULL))
		return false;
	*out = t - sign * (oh * 3600 + om * 60);
	return true;
}

bool time_parse_imf_fixdate(const char *s, time_t *out)
{
	int d, y, h, mi, sec, mon = -1, wday = -1, day = -1;
	const char *p = s;
	time_t t;

	for (int i = 0; i < 7; i++)
		if (strncmp(p, wdays[i], 3) == 0)
			wday = i;
	if (wday < 0)
		return false;
	p += 3;
	if (!expect(&p, ',') || !expect(&p, ' ') || !digits(&p, 2, &d) || !expect(&p, ' '))
		return false;
	for (int i = 0; i < 12; i++)
		if (strncmp(p, months[i], 3) == 0)
			mon = i;
	if (mon < 0)
		return false;
	p += 3;
	if (!expect(&p, ' ') || !digits(&p, 4, &y) || !expect(&p, ' ') || !digits(&p, 2, &h) ||
	    !expect(&p, ':') || !digits(&p, 2, &mi) || !expect(&p, ':') ||
	    !digits(&p, 2, &sec) || strcmp(p, " GMT") != 0)
		return false;
	/* The weekday name given must be that date's. */
	if (!utc_time(y, mon, d, h, mi, sec, &t, &day) || day != wday)
		return false;
	*out = t;
	return true;
}

/* RFC 822 zone names with their offsets in minutes.  Other names are UTC. */
static const struct {
	const char *name;
	int minutes;
} rfc822_zones[] = {
    {"GMT", 0},    {"UT", 0},     {"UTC", 0},    {"Z", 0},      {"EST", -300},
    {"EDT", -240}, {"CST", -360}, {"CDT", -300}, {"MST", -420}, {"MDT", -360},
    {"PST", -480}, {"PDT", -420}, {"CET", 60},   {"CEST", 120},
};

static const char *const wday_names[] = {"sunday",   "monday", "tuesday", "wednesday",
					 "thursday", "friday", "saturday"};
static const char *const month_names[] = {"january", "february", "march",     "april",
					  "may",     "june",     "july",      "august",
					  "september", "october", "november", "december"};

static void skip_space(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\n')
		(*p)++;
}

/* Skips at least one white-space character. */
static bool need_space(const char **p)
{
	const char *start = *p;

	skip_space(p);
	return *p != start;
}

static size_t alpha_len(const char *p)
{
	size_t n = 0;

	while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z'))
		n++;
	return n;
}

/* The index of the name that the n letters at p abbreviate (three letters)
 * or spell out, in any case; -1 when none. */
static int name_index(const char *p, size_t n, const char *const *names, int count)
{
	for (int i = 0; i < count; i++) {
		size_t len = strlen(names[i]);

		if ((n == 3 || n == len) && strncasecmp(p, names[i], n) == 0)
			return i;
	}
	return -1;
}

/* Reads min..max decimal digits. */
static bool digits_between(const char **p, int min, int max, int *out, int *count)
{
	int v = 0, n = 0;

	while (n < max && (*p)[n] >= '0' && (*p)[n] <= '9') {
		v = v * 10 + ((*p)[n] - '0');
		n++;
	}
	if (n < min || ((*p)[n] >= '0' && (*p)[n] <= '9'))
		return false;
	*p += n;
	*out = v;
	if (count)
		*count = n;
	return true;
}

/* Reads the zone at p into minutes east of UTC. */
static bool rfc822_zone(const char **p, int *minutes)
{
	const char *q = *p;
	size_t n = alpha_len(q);
	int hh, mm;

	*minutes = 0;
	if (*q == '+' || *q == '-') {
		int sign = *q == '+' ? 1 : -1;

		q++;
		if (!digits(&q, 2, &hh))
			return false;
		if (*q == ':')
			q++;
		if (!digits(&q, 2, &mm) || hh > 23 || mm > 59)
			return false;
		*minutes = sign * (hh * 60 + mm);
	} else if (n > 0) {
		if (n > 5)
			return false;
		for (size_t i = 0; i < sizeof(rfc822_zones) / sizeof(rfc822_zones[0]); i++)
			if (strlen(rfc822_zones[i].name) == n &&
			    strncasecmp(q, rfc822_zones[i].name, n) == 0)
				*minutes = rfc822_zones[i].minutes;
		q += n;
	}
	*p = q;
	return true;
}

bool time_parse_rfc822(const char *s, time_t *out)
{
	time_t t;
	const char *p = s;
	int d, mon, y, ny, h, mi, sec = 0, zone;
	size_t n;

	skip_space(&p);
	n = alpha_len(p);
	if (n > 0) {
		if (name_index(p, n, wday_names, 7) < 0)
			return false;
		p += n;
		skip_space(&p);
		if (*p == ',')
			p++;
		skip_space(&p);
	}
	if (!digits_between(&p, 1, 2, &d, NULL) || !need_space(&p))
		return false;
	n = alpha_len(p);
	mon = name_index(p, n, month_names, 12);
	if (mon < 0)
		return false;
	p += n;
	if (!need_space(&p) || !digits_between(&p, 2, 4, &y, &ny) || !need_space(&p))
		return false;
	if (ny == 2)
		y += y < 50 ? 2000 : 1900;
	else if (ny == 3)
		y += 1900;
	if (!digits_between(&p, 1, 2, &h, NULL) || !expect(&p, ':') || !digits(&p, 2, &mi))
		return false;
	if (*p == ':' && (p++, !digits(&p, 2, &sec)))
		return false;
	skip_space(&p);
	if (!rfc822_zone(&p, &zone))
		return false;
	skip_space(&p);
	if (*p == '(') {
		const char *end = strchr(p, ')');

		if (end == NULL)
			return false;
		p = end + 1;
		skip_space(&p);
	}
	if (*p != '\0')
		return false;
	if (!utc_time(y, mon, d, h, mi, sec, &t, NULL))
		return false;
	*out = t - (time_t)zone * 60;
	return true;
}

long long time_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
