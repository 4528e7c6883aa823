/*
 * test_common.c — unit tests for common/: the time formats (RFC 3339,
 * IMF-fixdate, and RFC 822 as feeds write it: known values computed
 * independently with `date -u -d`, round trips, and rejection of malformed
 * dates), the bounded buffer, the file-system helpers, the error type, the
 * escaping of outside text (also as log_msg applies it) and strict integer
 * parsing.
 */
#include "check.h"

#include "buf.h"
#include "err.h"
#include "fsutil.h"
#include "log.h"
#include "text.h"
#include "timeutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A time and its two renderings, from `date -u -d @N '+%FT%TZ'` and
 * `date -u -d @N '+%a, %d %b %Y %T GMT'`. */
struct known_time {
	time_t t;
	const char *rfc3339;
	const char *imf;
};

static const struct known_time known_times[] = {
	{0, "1970-01-01T00:00:00Z", "Thu, 01 Jan 1970 00:00:00 GMT"},
	{951782400, "2000-02-29T00:00:00Z", "Tue, 29 Feb 2000 00:00:00 GMT"},
	{1700000000, "2023-11-14T22:13:20Z", "Tue, 14 Nov 2023 22:13:20 GMT"},
	{1784966400, "2026-07-25T08:00:00Z", "Sat, 25 Jul 2026 08:00:00 GMT"},
	{2147483647, "2038-01-19T03:14:07Z", "Tue, 19 Jan 2038 03:14:07 GMT"},
	{4102444799, "2099-12-31T23:59:59Z", "Thu, 31 Dec 2099 23:59:59 GMT"},
};

#define KNOWN_COUNT (sizeof(known_times) / sizeof(known_times[0]))

static void t_time_format_known(void)
{
	char r[TIME_RFC3339_LEN], m[TIME_IMF_LEN];

	for (size_t i = 0; i < KNOWN_COUNT; i++) {
		time_rfc3339(known_times[i].t, r);
		time_imf_fixdate(known_times[i].t, m);
		CHECK_STR(r, known_times[i].rfc3339);
		CHECK_STR(m, known_times[i].imf);
		CHECK_INT(strlen(r), TIME_RFC3339_LEN - 1);
		CHECK_INT(strlen(m), TIME_IMF_LEN - 1);
	}
}

static void t_time_parse_known(void)
{
	for (size_t i = 0; i < KNOWN_COUNT; i++) {
		time_t a = -1, b = -1;

		CHECK(time_parse_rfc3339(known_times[i].rfc3339, &a));
		CHECK_INT(a, known_times[i].t);
		CHECK(time_parse_imf_fixdate(known_times[i].imf, &b));
		CHECK_INT(b, known_times[i].t);
	}
}

static void t_time_round_trip(void)
{
	char r[TIME_RFC3339_LEN], m[TIME_IMF_LEN];

	/* Steps that are not multiples of a day, minute or second pattern. */
	for (time_t t = 0; t < 4102444800; t += 86400 * 37 + 3600 * 5 + 60 * 7 + 13) {
		time_t a = -1, b = -1;

		time_rfc3339(t, r);
		time_imf_fixdate(t, m);
		if (!time_parse_rfc3339(r, &a) || a != t) {
			check_fail(__FILE__, __LINE__, "rfc3339 round trip of %lld via %s",
				   (long long)t, r);
			break;
		}
		if (!time_parse_imf_fixdate(m, &b) || b != t) {
			check_fail(__FILE__, __LINE__, "imf round trip of %lld via %s",
				   (long long)t, m);
			break;
		}
	}
}

static void t_time_parse_rfc3339_variants(void)
{
	time_t t = -1;

	/* Fractional seconds are accepted and dropped. */
	CHECK(time_parse_rfc3339("2026-07-25T08:00:00.5Z", &t));
	CHECK_INT(t, 1784966400);
	t = -1;
	CHECK(time_parse_rfc3339("2026-07-25T08:00:00.123456789Z", &t));
	CHECK_INT(t, 1784966400);
	/* date -u -d '2026-07-25T14:30:00+02:00' +%s */
	t = -1;
	CHECK(time_parse_rfc3339("2026-07-25T14:30:00+02:00", &t));
	CHECK_INT(t, 1784982600);
	/* A negative offset: date -u -d '2026-07-25T02:30:00-05:30' +%s */
	t = -1;
	CHECK(time_parse_rfc3339("2026-07-25T02:30:00-05:30", &t));
	CHECK_INT(t, 1784966400);
	t = -1;
	CHECK(time_parse_rfc3339("2026-07-25T10:00:00.25+02:00", &t));
	CHECK_INT(t, 1784966400);
	/* Lowercase separators are allowed by RFC 3339 §5.6's note. */
	t = -1;
	CHECK(time_parse_rfc3339("2026-07-25t08:00:00z", &t));
	CHECK_INT(t, 1784966400);
	/* Leap day of a leap year. date -u -d '2024-02-29T00:00:00Z' +%s */
	t = -1;
	CHECK(time_parse_rfc3339("2024-02-29T00:00:00Z", &t));
	CHECK_INT(t, 1709164800);
}

static void t_time_parse_rfc3339_rejects(void)
{
	static const char *const bad[] = {
		"",
		"2026-13-01T00:00:00Z",      /* month 13 */
		"2026-00-01T00:00:00Z",      /* month 0 */
		"2026-02-30T00:00:00Z",      /* Feb 30 */
		"2023-02-29T00:00:00Z",      /* Feb 29 of a common year */
		"2026-04-31T00:00:00Z",      /* Apr 31 */
		"2026-01-00T00:00:00Z",      /* day 0 */
		"2026-07-25T24:00:00Z",      /* hour 24 */
		"2026-07-25T08:60:00Z",      /* minute 60 */
		"2026-07-25T08:00:00",       /* missing Z */
		"2026-07-25T08:00:00Zjunk",  /* trailing junk */
		"2026-07-25T08:00:00Z ",     /* trailing space */
		"2026-07-25T08:00:00.Z",     /* empty fraction */
		"2026-07-25T08:00:00+0200",  /* offset without colon */
		"2026-07-25T08:00:00+24:00", /* offset hour 24 */
		"2026-07-25T08:00Z",         /* no seconds */
		"2026-7-25T08:00:00Z",       /* one-digit month */
		"2026-07-25X08:00:00Z",      /* bad separator */
		"26-07-25T08:00:00Z",        /* two-digit year */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		time_t t = 12345;

		if (time_parse_rfc3339(bad[i], &t))
			check_fail(__FILE__, __LINE__, "accepted bad RFC 3339 \"%s\"", bad[i]);
		CHECK_INT(t, 12345); /* untouched on failure */
	}
}

static void t_time_parse_imf_rejects(void)
{
	static const char *const bad[] = {
		"",
		"Sat, 25 Jul 2026 08:00:00 gmt",  /* lowercase gmt */
		"Sat, 25 Jul 2026 08:00:00 UTC",  /* not GMT */
		"Sat, 25 Jul 2026 08:00:00",      /* no zone */
		"Sat, 25 Jul 2026 08:00:00 GMT ", /* trailing space */
		"Sat, 25 Jul 2026 08:00:00 GMTx", /* trailing junk */
		"Fri, 25 Jul 2026 08:00:00 GMT",  /* wrong weekday name */
		"Sun, 25 Jul 2026 08:00:00 GMT",  /* wrong weekday name */
		"sat, 25 Jul 2026 08:00:00 GMT",  /* lowercase weekday */
		"Sat, 25 jul 2026 08:00:00 GMT",  /* lowercase month */
		"Xyz, 25 Jul 2026 08:00:00 GMT",  /* no such weekday */
		"Sat, 25 Jux 2026 08:00:00 GMT",  /* no such month */
		"Mon, 30 Feb 2026 08:00:00 GMT",  /* Feb 30 */
		/* Feb 29 of a common year, with the weekday of the Mar 1 it
		 * would roll over to, so only the day check can catch it. */
		"Sun, 29 Feb 2026 08:00:00 GMT",
		"Sat, 5 Jul 2026 08:00:00 GMT",   /* one-digit day */
		"Sat, 25 Jul 26 08:00:00 GMT",    /* two-digit year */
		"Sat, 25 Jul 2026 24:00:00 GMT",  /* hour 24 */
		"Saturday, 25-Jul-26 08:00:00 GMT", /* RFC 850 form */
		"Sat Jul 25 08:00:00 2026",       /* asctime form */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		time_t t = 12345;

		if (time_parse_imf_fixdate(bad[i], &t))
			check_fail(__FILE__, __LINE__, "accepted bad IMF-fixdate \"%s\"", bad[i]);
		CHECK_INT(t, 12345);
	}
}

/* RFC 822 dates as feeds write them; expected values from
 * `date -u -d '<the same date>' +%s`. */
static void t_time_parse_rfc822_variants(void)
{
	static const struct {
		const char *s;
		time_t t;
	} good[] = {
		{"Mon, 04 Nov 2013 09:12:00 +0000", 1383556320},
		{"Mon, 04 Nov 2013 09:12:00 GMT", 1383556320},
		{"Mon, 04 Nov 2013 09:12:00 UT", 1383556320},
		{"Mon, 04 Nov 2013 09:12:00 Z", 1383556320},
		{"Mon, 04 Nov 2013 04:12:00 EST", 1383556320},
		{"Mon, 04 Nov 2013 01:12:00 PST", 1383556320},
		{"Mon, 04 Nov 2013 02:12:00 pdt", 1383556320}, /* any case */
		{"Mon, 04 Nov 2013 10:12:00 +0100", 1383556320},
		{"Mon, 04 Nov 2013 10:12:00 +01:00", 1383556320},
		{"Mon, 04 Nov 2013 10:12:00 CET", 1383556320},
		{"Sun, 03 Nov 2013 21:12:00 -1200", 1383556320},
		{"Mon, 04 Nov 2013 09:12:00 +0530", 1383536520},
		{"04 Nov 2013 09:12:00 +0000", 1383556320},    /* no weekday */
		{"4 Nov 2013 09:12:00 +0000", 1383556320},     /* one-digit day */
		{"Mon, 04 Nov 13 09:12 GMT", 1383556320},      /* 2-digit year, no secs */
		{"Thu, 04 Nov 99 09:12:00 GMT", 941706720},    /* 99 is 1999 */
		{"Monday, 04 November 2013 09:12:00 +0000", 1383556320},
		{"mon, 04 nov 2013 09:12:00 +0000", 1383556320},
		{"  Mon,  04 Nov 2013   09:12:00 +0000 \n", 1383556320},
		{"Mon, 04 Nov 2013 09:12:00", 1383556320},        /* no zone: UTC */
		{"Mon, 04 Nov 2013 09:12:00 XYZ", 1383556320},    /* unknown: UTC */
		{"Mon, 04 Nov 2013 09:12:00 +0000 (UTC)", 1383556320},
		{"Tue, 04 Nov 2013 09:12:00 +0000", 1383556320},  /* wrong day name */
		{"Thu, 29 Feb 2024 00:00:00 +0000", 1709164800},
		{"Tue, 19 Jan 2038 03:14:07 GMT", 2147483647},
		{"Thu, 01 Jan 1970 00:00:00 GMT", 0},
	};
	static const char *const bad[] = {
		"",
		"Mon, 04 Nov 2013",                  /* no time */
		"Mon, 04 Xyz 2013 09:12:00 +0000",   /* no such month */
		"Xyz, 04 Nov 2013 09:12:00 +0000",   /* no such day name */
		"Mon, 31 Nov 2013 09:12:00 +0000",   /* Nov 31 */
		"Fri, 29 Feb 2013 09:12:00 +0000",   /* common year */
		"Mon, 04 Nov 2013 24:12:00 +0000",   /* hour 24 */
		"Mon, 04 Nov 2013 09:60:00 +0000",   /* minute 60 */
		"Mon, 04 Nov 2013 09:12:00 +2400",   /* offset hour 24 */
		"Mon, 04 Nov 2013 09:12:00 +000",    /* short offset */
		"Mon, 04 Nov 2013 09:12:00 +0000 x", /* trailing junk */
		"Mon, 04 Nov 2013 09:12:00 +0000 (", /* open comment */
		"Mon, 04 Nov 20133 09:12:00 +0000",  /* five-digit year */
		"Mon, 004 Nov 2013 09:12:00 +0000",  /* three-digit day */
		"Mon, 04Nov 2013 09:12:00 +0000",    /* no space */
		"2013-11-04T09:12:00Z",              /* RFC 3339 */
		"Mon, 04 Nov 2013 09:12:00 Eastern", /* zone name too long */
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		time_t t = -1;

		if (!time_parse_rfc822(good[i].s, &t) || t != good[i].t)
			check_fail(__FILE__, __LINE__, "RFC 822 \"%s\": got %lld, want %lld",
				   good[i].s, (long long)t, (long long)good[i].t);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		time_t t = 12345;

		if (time_parse_rfc822(bad[i], &t))
			check_fail(__FILE__, __LINE__, "accepted bad RFC 822 \"%s\"", bad[i]);
		CHECK_INT(t, 12345);
	}
	/* Every IMF-fixdate is an RFC 822 date. */
	for (size_t i = 0; i < KNOWN_COUNT; i++) {
		time_t t = -1;

		CHECK(time_parse_rfc822(known_times[i].imf, &t));
		CHECK_INT(t, known_times[i].t);
	}
}

static void t_buf_growth(void)
{
	struct buf b;
	char *s;

	buf_init(&b, 1 << 20);
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
	CHECK_INT(buf_puts(&b, "abc"), BB_OK);
	CHECK_INT(buf_append(&b, "defXXX", 3), BB_OK);
	CHECK_INT(b.len, 6);
	CHECK_STR(b.data, "abcdef");
	CHECK_INT(buf_printf(&b, "-%d-%s-", 42, "x"), BB_OK);
	CHECK_STR(b.data, "abcdef-42-x-");
	CHECK_INT(b.len, 12);
	/* Grow well past the first allocation, one printf at a time. */
	for (int i = 0; i < 2000; i++)
		if (buf_printf(&b, "%04d,", i) != BB_OK) {
			check_fail(__FILE__, __LINE__, "buf_printf failed at %d", i);
			break;
		}
	CHECK_INT(b.len, 12 + 2000 * 5);
	CHECK(b.cap > b.len);
	CHECK_INT(b.data[b.len], '\0');
	CHECK(memcmp(b.data + 12, "0000,0001,", 10) == 0);
	CHECK(memcmp(b.data + b.len - 5, "1999,", 5) == 0);
	CHECK_INT(strlen(b.data), b.len);
	/* Binary data with a NUL inside is kept whole. */
	buf_reset(&b);
	CHECK_INT(b.len, 0);
	CHECK_STR(b.data, "");
	CHECK_INT(buf_append(&b, "a\0b", 3), BB_OK);
	CHECK_INT(b.len, 3);
	CHECK(memcmp(b.data, "a\0b", 4) == 0);
	s = buf_take(&b);
	CHECK(s != NULL);
	CHECK(s != NULL && memcmp(s, "a\0b", 4) == 0);
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
	CHECK_INT(b.limit, 1 << 20); /* the limit survives take */
	free(s);
	buf_free(&b);
}

static void t_buf_limit(void)
{
	struct buf b;

	buf_init(&b, 10);
	CHECK_INT(buf_puts(&b, "0123456"), BB_OK);
	/* Past the limit: refused, contents as they were. */
	CHECK_INT(buf_puts(&b, "7890"), BB_ERR_LIMIT);
	CHECK_INT(b.len, 7);
	CHECK_STR(b.data, "0123456");
	CHECK_INT(buf_printf(&b, "%s", "abcd"), BB_ERR_LIMIT);
	CHECK_INT(b.len, 7);
	CHECK_STR(b.data, "0123456");
	CHECK_INT(buf_printf(&b, "%d", 1234), BB_ERR_LIMIT);
	CHECK_STR(b.data, "0123456");
	/* A huge length must not wrap around the check. */
	CHECK_INT(buf_append(&b, "x", (size_t)-1), BB_ERR_LIMIT);
	CHECK_INT(b.len, 7);
	/* Exactly up to the limit is fine. */
	CHECK_INT(buf_printf(&b, "%d", 789), BB_OK);
	CHECK_INT(b.len, 10);
	CHECK_STR(b.data, "0123456789");
	CHECK_INT(buf_append(&b, "", 0), BB_OK);
	CHECK_INT(buf_puts(&b, "x"), BB_ERR_LIMIT);
	CHECK_STR(b.data, "0123456789");
	buf_free(&b);
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
	/* Reusable after free, limit kept. */
	CHECK_INT(buf_puts(&b, "01234567890"), BB_ERR_LIMIT);
	CHECK_INT(buf_puts(&b, "ok"), BB_OK);
	CHECK_STR(b.data, "ok");
	buf_free(&b);

	/* A zero limit allows only the empty string. */
	buf_init(&b, 0);
	CHECK_INT(buf_puts(&b, "a"), BB_ERR_LIMIT);
	CHECK_INT(buf_puts(&b, ""), BB_OK);
	CHECK_STR(b.data, "");
	buf_free(&b);
}

static void t_buf_take_empty(void)
{
	struct buf b;
	char *s;

	buf_init(&b, 100);
	s = buf_take(&b);
	CHECK(s != NULL);
	CHECK_STR(s, "");
	free(s);
	CHECK_INT(buf_puts(&b, "hello"), BB_OK);
	s = buf_take(&b);
	CHECK_STR(s, "hello");
	free(s);
	/* Empty again after take. */
	s = buf_take(&b);
	CHECK_STR(s, "");
	free(s);
	buf_free(&b);
}

static void t_fs_path_join(void)
{
	static const struct {
		const char *dir, *path, *want;
	} cases[] = {
		{"/etc/blogbridge", "key.pem", "/etc/blogbridge/key.pem"},
		{"/etc/blogbridge", "keys/key.pem", "/etc/blogbridge/keys/key.pem"},
		{"/etc/blogbridge", "/var/lib/bb.db", "/var/lib/bb.db"},
		{"", "key.pem", "key.pem"},
		{NULL, "key.pem", "key.pem"},
		{"rel", "x", "rel/x"},
		{".", "x", "./x"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = fs_path_join(cases[i].dir, cases[i].path);

		CHECK_STR(p, cases[i].want);
		free(p);
	}
}

/* Reads a whole small file into a NUL-terminated string (caller frees). */
static char *slurp(const char *path)
{
	char *data = calloc(1, 4096);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (data == NULL || fd < 0) {
		free(data);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	n = read(fd, data, 4095);
	close(fd);
	if (n < 0) {
		free(data);
		return NULL;
	}
	return data;
}

/* Counts the entries of dir other than . and .. (for leftover temp files). */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void t_fs_write_new_file(void)
{
	const char *dir = check_tmpdir();
	char *path = fs_path_join(dir, "secret.txt");
	char *mine = fs_path_join(dir, "mine.txt");
	char *text;
	struct stat sb;
	struct err e = {0};
	mode_t old_umask = umask(022);

	CHECK_INT(fs_write_new_file(path, "hello\n", 6, 0600, &e), BB_OK);
	CHECK(stat(path, &sb) == 0);
	CHECK_INT(sb.st_mode & 07777, 0600);
	CHECK_INT(sb.st_size, 6);
	text = slurp(path);
	CHECK_STR(text, "hello\n");
	free(text);

	/* A second write to the same path is refused and changes nothing. */
	err_clear(&e);
	CHECK_INT(fs_write_new_file(path, "other", 5, 0644, &e), BB_ERR_IO);
	CHECK_INT(e.code, BB_ERR_IO);
	CHECK(check_contains(e.msg, path));
	CHECK(check_contains(e.msg, strerror(EEXIST)));
	text = slurp(path);
	CHECK_STR(text, "hello\n");
	free(text);
	CHECK(stat(path, &sb) == 0);
	CHECK_INT(sb.st_mode & 07777, 0600);

	/* Someone else's file is not replaced either. */
	free(check_write_file(dir, "mine.txt", "theirs"));
	CHECK_INT(fs_write_new_file(mine, "ours", 4, 0600, &e), BB_ERR_IO);
	text = slurp(mine);
	CHECK_STR(text, "theirs");
	free(text);

	/* The mode is applied as given (0640 with umask 022). */
	free(path);
	path = fs_path_join(dir, "shared.txt");
	CHECK_INT(fs_write_new_file(path, "", 0, 0640, &e), BB_OK);
	CHECK(stat(path, &sb) == 0);
	CHECK_INT(sb.st_mode & 07777, 0640);
	CHECK_INT(sb.st_size, 0);

	/* No temporary files are left behind: secret, mine, shared. */
	CHECK_INT(count_entries(dir), 3);

	/* A missing folder is an error, not a crash. */
	free(path);
	path = fs_path_join(dir, "missing/x.txt");
	CHECK_INT(fs_write_new_file(path, "x", 1, 0600, &e), BB_ERR_IO);
	CHECK(access(path, F_OK) != 0);

	umask(old_umask);
	free(path);
	free(mine);
	check_tmpdir_remove(dir);
}

static void t_fs_mkdir_parents(void)
{
	const char *dir = check_tmpdir();
	char *path = fs_path_join(dir, "a/b/c/file.db");
	char *ab = fs_path_join(dir, "a/b");
	char *abc = fs_path_join(dir, "a/b/c");
	char *blocked = fs_path_join(dir, "plain/x/file");
	struct stat sb;
	struct err e = {0};
	mode_t old_umask = umask(022);

	CHECK_INT(fs_mkdir_parents(path, 0750, &e), BB_OK);
	CHECK(stat(abc, &sb) == 0 && S_ISDIR(sb.st_mode));
	CHECK_INT(sb.st_mode & 07777, 0750);
	CHECK(stat(ab, &sb) == 0 && S_ISDIR(sb.st_mode));
	/* The file itself is not created. */
	CHECK(access(path, F_OK) != 0);
	/* Again: existing folders are fine and left alone. */
	CHECK(chmod(ab, 0700) == 0);
	CHECK_INT(fs_mkdir_parents(path, 0755, &e), BB_OK);
	CHECK(stat(ab, &sb) == 0);
	CHECK_INT(sb.st_mode & 07777, 0700);
	/* A file where a folder should be is an I/O error naming the path. */
	free(check_write_file(dir, "plain", "x"));
	err_clear(&e);
	CHECK_INT(fs_mkdir_parents(blocked, 0700, &e), BB_ERR_IO);
	CHECK(check_contains(e.msg, "plain"));
	/* A bare file name has no parents to make. */
	CHECK_INT(fs_mkdir_parents("file.db", 0700, &e), BB_OK);

	umask(old_umask);
	free(path);
	free(ab);
	free(abc);
	free(blocked);
	check_tmpdir_remove(dir);
}

static void t_err(void)
{
	struct err e;
	char long_path[600];

	err_clear(&e);
	CHECK_INT(e.code, BB_OK);
	CHECK_STR(e.msg, "");
	CHECK_INT(err_set(&e, BB_ERR_IO, "cannot open %s: %s", "/x", "denied"), BB_ERR_IO);
	CHECK_INT(e.code, BB_ERR_IO);
	CHECK_STR(e.msg, "cannot open /x: denied");
	/* NULL is allowed and the code still comes back. */
	CHECK_INT(err_set(NULL, BB_ERR_LIMIT, "ignored %d", 1), BB_ERR_LIMIT);
	/* A long message is truncated, NUL-terminated. */
	memset(long_path, 'p', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	err_set(&e, BB_ERR_INVALID, "bad %s", long_path);
	CHECK_INT(strlen(e.msg), BB_ERR_MSG_MAX - 1);
	CHECK(strncmp(e.msg, "bad ppp", 7) == 0);
	err_clear(&e);
	CHECK_INT(e.code, BB_OK);
	CHECK_STR(e.msg, "");

	CHECK_STR(err_code_name(BB_OK), "ok");
	CHECK_STR(err_code_name(BB_ERR_USAGE), "usage");
	CHECK_STR(err_code_name(BB_ERR_CONFIG), "config");
	CHECK_STR(err_code_name(BB_ERR_INVALID), "invalid");
	CHECK_STR(err_code_name(BB_ERR_NOTFOUND), "notfound");
	CHECK_STR(err_code_name(BB_ERR_LIMIT), "limit");
	CHECK_STR(err_code_name(BB_ERR_NOMEM), "nomem");
	CHECK_STR(err_code_name(BB_ERR_IO), "io");
	CHECK_STR(err_code_name(BB_ERR_CRYPTO), "crypto");
	CHECK_STR(err_code_name(BB_ERR_UNSAFE), "unsafe");
	CHECK_STR(err_code_name(BB_ERR_STORE), "store");
	CHECK_STR(err_code_name(BB_ERR_BUSY), "busy");
	CHECK_STR(err_code_name((enum bb_rc)1000), "unknown");
	CHECK_STR(err_code_name((enum bb_rc)-1), "unknown");
}

static void t_text_utf8_len(void)
{
	CHECK_INT(text_utf8_len("a", 1), 1);
	CHECK_INT(text_utf8_len("\x7f", 1), 1);
	CHECK_INT(text_utf8_len("\xc3\xa9", 2), 2);
	CHECK_INT(text_utf8_len("\xc3\xa9", 1), 0);	     /* cut */
	CHECK_INT(text_utf8_len("\xe6\x97\xa5x", 4), 3);
	CHECK_INT(text_utf8_len("\xf0\x9f\x98\x80", 4), 4);
	CHECK_INT(text_utf8_len("\xc0\xaf", 2), 0);	     /* overlong */
	CHECK_INT(text_utf8_len("\xed\xa0\x80", 3), 0);     /* surrogate */
	CHECK_INT(text_utf8_len("\xf4\x90\x80\x80", 4), 0); /* past U+10FFFF */
	CHECK_INT(text_utf8_len("\x80", 1), 0);
	CHECK_INT(text_utf8_len("\xff", 1), 0);
	CHECK_INT(text_utf8_len("", 0), 0);
}

static void t_text_escape(void)
{
	char out[128];

	CHECK_STR(text_escape_str(out, sizeof(out), "plain text: 1 < 2"), "plain text: 1 < 2");
	/* A forged second log line stays on the first. */
	CHECK_STR(text_escape_str(out, sizeof(out), "ok\n2026-01-01T00:00:00Z error x"),
		  "ok\\n2026-01-01T00:00:00Z error x");
	CHECK_STR(text_escape_str(out, sizeof(out), "a\r\nb\tc"), "a\\r\\nb\\tc");
	CHECK_STR(text_escape_str(out, sizeof(out), "\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
	CHECK_STR(text_escape_str(out, sizeof(out), "del\x7f bell\x07"), "del\\x7f bell\\x07");
	/* A backslash is escaped, so "\\n" in the input cannot pass for an
	 * escaped newline. */
	CHECK_STR(text_escape_str(out, sizeof(out), "a\\nb"), "a\\\\nb");
	CHECK_STR(text_escape_str(out, sizeof(out), NULL), "(null)");
	CHECK_STR(text_escape_str(out, sizeof(out), ""), "");
	/* A NUL inside the given length is escaped, not an end. */
	CHECK_STR(text_escape(out, sizeof(out), "a\0b", 3), "a\\x00b");
	/* Only len bytes are read. */
	CHECK_STR(text_escape(out, sizeof(out), "abcdef", 3), "abc");
}

static void t_text_escape_utf8(void)
{
	char out[128];

	/* Valid UTF-8 (2, 3 and 4 bytes) is copied. */
	CHECK_STR(text_escape_str(out, sizeof(out), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* Stray continuation byte, lone lead byte, truncated sequence. */
	CHECK_STR(text_escape_str(out, sizeof(out), "a\x80z"), "a\\x80z");
	CHECK_STR(text_escape_str(out, sizeof(out), "a\xc3z"), "a\\xc3z");
	CHECK_STR(text_escape_str(out, sizeof(out), "\xe2\x82"), "\\xe2\\x82");
	/* Overlong "/" and overlong NUL, a surrogate, past U+10FFFF, 0xFF. */
	CHECK_STR(text_escape_str(out, sizeof(out), "\xc0\xaf"), "\\xc0\\xaf");
	CHECK_STR(text_escape_str(out, sizeof(out), "\xc0\x80"), "\\xc0\\x80");
	CHECK_STR(text_escape_str(out, sizeof(out), "\xe0\x80\xaf"), "\\xe0\\x80\\xaf");
	CHECK_STR(text_escape_str(out, sizeof(out), "\xed\xa0\x80"), "\\xed\\xa0\\x80");
	CHECK_STR(text_escape_str(out, sizeof(out), "\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
	CHECK_STR(text_escape_str(out, sizeof(out), "\xff"), "\\xff");
	/* C1 controls (U+009B is CSI) are escaped although valid UTF-8;
	 * U+00A0 is not a control. */
	CHECK_STR(text_escape_str(out, sizeof(out),
				  "\xc2\x9b"
				  "2J"),
		  "\\xc2\\x9b2J");
	CHECK_STR(text_escape_str(out, sizeof(out), "\xc2\xa0"), "\xc2\xa0");
}

static void t_text_escape_bound(void)
{
	char out[8];

	/* Exactly outsz - 1 bytes fit. */
	memset(out, 'X', sizeof(out));
	CHECK_STR(text_escape_str(out, sizeof(out), "abcdefg"), "abcdefg");
	CHECK_STR(text_escape_str(out, sizeof(out), "abcdefgh"), "abcdefg");
	/* An escape never is cut in half: "abcdef" + "\n" would need 8 bytes. */
	CHECK_STR(text_escape_str(out, sizeof(out), "abcdef\n"), "abcdef");
	CHECK_STR(text_escape_str(out, sizeof(out), "abcde\n"), "abcde\\n");
	CHECK_STR(text_escape_str(out, sizeof(out), "abc\x01"), "abc\\x01");
	CHECK_STR(text_escape_str(out, sizeof(out), "abcd\x01"), "abcd");
	/* Nor a UTF-8 character: the euro sign needs 3 bytes. */
	CHECK_STR(text_escape_str(out, sizeof(out), "abcde\xe2\x82\xac"), "abcde");
	CHECK_STR(text_escape_str(out, sizeof(out), "abcd\xe2\x82\xac"), "abcd\xe2\x82\xac");
	/* Nothing written past the bound. */
	{
		char big[16];
		memset(big, 'X', sizeof(big));
		text_escape_str(big, 5, "\n\n\n\n\n\n");
		CHECK_STR(big, "\\n\\n");
		CHECK(big[5] == 'X' && big[15] == 'X');
		text_escape_str(big, 1, "abc");
		CHECK_STR(big, "");
		CHECK(big[1] == 'n');
	}
}

/* Decoded apart from text.c: true when s has no control byte (C0, DEL,
 * C1) and is valid UTF-8 (no overlong form, surrogate or code point past
 * U+10FFFF). */
static bool utf8_valid_no_ctrl(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s, n, cp;
		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			s++;
			continue;
		}
		n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
		if (n == 0 || c > 0xF4)
			return false;
		cp = c & (0xFF >> (n + 1));
		for (unsigned i = 1; i < n; i++) {
			if ((s[i] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i] & 0x3F);
		}
		if ((n == 2 && cp < 0xA0) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false; /* overlong, C1, surrogate, too large */
		s += n;
	}
	return true;
}

/* Whatever the input and the bound, the output fits, nothing is written
 * past the bound, and it is printable UTF-8. */
static void t_text_escape_random(void)
{
	unsigned long long x = 0x9E3779B97F4A7C15ULL;
	unsigned char in[64];
	char out[80];

	for (int round = 0; round < 20000; round++) {
		size_t len = 0, outsz;
		for (; len < sizeof(in); len++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			/* Mostly bytes around the interesting ranges. */
			in[len] = (unsigned char)(x % 4 == 0 ? x >> 8 : 0x7f + (x >> 8) % 0x78);
		}
		outsz = 1 + (size_t)(x >> 40) % sizeof(out);
		memset(out, 'Z', sizeof(out));
		text_escape(out, outsz, (const char *)in, (size_t)(x >> 20) % (sizeof(in) + 1));
		if (strlen(out) >= outsz || !utf8_valid_no_ctrl((const unsigned char *)out) ||
		    (outsz < sizeof(out) && out[outsz] != 'Z')) {
			check_fail(__FILE__, __LINE__, "round %d: bad output", round);
			return;
		}
	}
}

static void t_text_int64_parse(void)
{
	int64_t v = 7;

	CHECK(text_int64_parse("0", 0, 10, &v) && v == 0);
	CHECK(text_int64_parse("10", 0, 10, &v) && v == 10);
	CHECK(text_int64_parse("-5", -10, 10, &v) && v == -5);
	CHECK(text_int64_parse("+5", -10, 10, &v) && v == 5);
	CHECK(text_int64_parse("9223372036854775807", INT64_MIN, INT64_MAX, &v) && v == INT64_MAX);
	CHECK(text_int64_parse("-9223372036854775808", INT64_MIN, INT64_MAX, &v) && v == INT64_MIN);
	v = 7;
	CHECK(!text_int64_parse("11", 0, 10, &v));
	CHECK(!text_int64_parse("-1", 0, 10, &v));
	CHECK(!text_int64_parse("9223372036854775808", INT64_MIN, INT64_MAX, &v));
	CHECK(!text_int64_parse("-9223372036854775809", INT64_MIN, INT64_MAX, &v));
	CHECK(!text_int64_parse("", 0, 10, &v));
	CHECK(!text_int64_parse("-", 0, 10, &v));
	CHECK(!text_int64_parse(" 5", 0, 10, &v));
	CHECK(!text_int64_parse("5 ", 0, 10, &v));
	CHECK(!text_int64_parse("5x", 0, 10, &v));
	CHECK(!text_int64_parse("0x5", 0, 10, &v));
	CHECK(!text_int64_parse("+-5", -10, 10, &v));
	CHECK(!text_int64_parse(NULL, 0, 10, &v));
	CHECK_INT(v, 7); /* untouched by every failure */
}

/* log_msg writes one escaped line, whatever the message holds. */
static void t_log_escapes(void)
{
	char path[] = "/tmp/bb_test_log_XXXXXX";
	char got[2048];
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	ssize_t n;

	CHECK(fd >= 0 && saved >= 0);
	if (fd < 0 || saved < 0)
		return;
	CHECK(dup2(fd, STDERR_FILENO) >= 0);
	log_warn("from %s: %s", "peer", "bad\n2026-01-01T00:00:00Z error forged\x1b[2J");
	CHECK(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	n = pread(fd, got, sizeof(got) - 1, 0);
	close(fd);
	unlink(path);
	CHECK(n > 0);
	if (n <= 0)
		return;
	got[n] = '\0';
	CHECK(strstr(got, " warn from peer: bad\\n2026-01-01T00:00:00Z error forged\\x1b[2J\n") !=
	      NULL);
	CHECK(strchr(got, '\n') == got + n - 1); /* one line */
}

static const struct check_case cases[] = {
	{"time_format_known", t_time_format_known},
	{"time_parse_known", t_time_parse_known},
	{"time_round_trip", t_time_round_trip},
	{"time_parse_rfc3339_variants", t_time_parse_rfc3339_variants},
	{"time_parse_rfc3339_rejects", t_time_parse_rfc3339_rejects},
	{"time_parse_imf_rejects", t_time_parse_imf_rejects},
	{"time_parse_rfc822_variants", t_time_parse_rfc822_variants},
	{"buf_growth", t_buf_growth},
	{"buf_limit", t_buf_limit},
	{"buf_take_empty", t_buf_take_empty},
	{"fs_path_join", t_fs_path_join},
	{"fs_write_new_file", t_fs_write_new_file},
	{"fs_mkdir_parents", t_fs_mkdir_parents},
	{"err", t_err},
	{"text_escape", t_text_escape},
	{"text_utf8_len", t_text_utf8_len},
	{"text_escape_utf8", t_text_escape_utf8},
	{"text_escape_bound", t_text_escape_bound},
	{"text_escape_random", t_text_escape_random},
	{"text_int64_parse", t_text_int64_parse},
	{"log_escapes", t_log_escapes},
};

CHECK_MAIN(cases)
