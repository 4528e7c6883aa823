/*
 * feed_fetch.c — see feed_fetch.h.  A local file is read whole unless its
 * stamp (mtime to the nanosecond, size, inode) is the one saved; a file
 * modified within the last FILE_STAMP_SETTLE_S seconds is not trusted to
 * its stamp (a rewrite of the same size in the same clock tick would look
 * unchanged: the "racy git" problem), so no stamp is given for it.  An URL
 * is fetched with curl (one easy handle per read), its body bounded by
 * d->body's limit and CURLOPT_MAXFILESIZE, and aborted from the progress
 * callback when the poller stops.
 */
#include "feed_fetch.h"
#include "buf.h"
#include "feed.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FEED_ACCEPT                                                                                \
	"Accept: application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8"
#define FEED_VALIDATOR_MAX 512 /* longer ETag / Last-Modified values are not kept */
#define FEED_HEADER_MAX (FEED_VALIDATOR_MAX + 32)
#define FILE_STAMP_MAX 128
#define FILE_STAMP_SETTLE_S 2

void feed_doc_clear(struct feed_doc *d)
{
	buf_free(&d->body);
	free(d->etag);
	free(d->last_modified);
	free(d->file_stamp);
	memset(d, 0, sizeof(*d));
}

/* ---- local file ------------------------------------------------------- */

enum bb_rc feed_fetch_file(const char *path, const char *known_stamp, time_t now,
			   struct feed_doc *d, struct err *e)
{
	char stamp[FILE_STAMP_MAX];
	struct stat sb;
	enum bb_rc rc = BB_OK;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_set(e, BB_ERR_IO, "feed %s: %s", path, strerror(errno));
	if (fstat(fd, &sb) != 0) {
		rc = err_set(e, BB_ERR_IO, "feed %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = err_set(e, BB_ERR_IO, "feed %s: not a regular file", path);
		goto out;
	}
	snprintf(stamp, sizeof(stamp), "%jd.%09ld:%jd:%ju", (intmax_t)sb.st_mtim.tv_sec,
		 (long)sb.st_mtim.tv_nsec, (intmax_t)sb.st_size, (uintmax_t)sb.st_ino);
	if (known_stamp != NULL && strcmp(known_stamp, stamp) == 0) {
		d->not_modified = true;
		goto out;
	}
	if (sb.st_mtim.tv_sec + FILE_STAMP_SETTLE_S < now &&
	    (d->file_stamp = strdup(stamp)) == NULL) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		char chunk[65536];
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_set(e, BB_ERR_IO, "feed %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		/* The buffer's limit is FEED_BYTES_MAX: one byte more fails. */
		rc = buf_append(&d->body, chunk, (size_t)n);
		if (rc == BB_ERR_LIMIT) {
			rc = err_set(e, BB_ERR_LIMIT, "feed %s: larger than %d bytes", path,
				     FEED_BYTES_MAX);
			goto out;
		}
		if (rc != BB_OK) {
			rc = err_set(e, rc, "out of memory");
			goto out;
		}
	}
out:
	close(fd);
	return rc;
}

/* ---- http(s) ------------------------------------------------------------ */

struct http_read {
	struct buf *body;
	bool over_limit;
	const atomic_bool *cancel; /* may be NULL */
};

static size_t http_write(char *data, size_t size, size_t n, void *arg)
{
	struct http_read *r = arg;

	if (buf_append(r->body, data, size * n) != BB_OK) {
		r->over_limit = r->body->len + size * n > r->body->limit;
		return 0; /* aborts the transfer */
	}
	return size * n;
}

static int http_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			 curl_off_t ulnow)
{
	struct http_read *r = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return r->cancel != NULL && atomic_load(r->cancel) ? 1 : 0;
}

/* A header of the last response (after redirects), copied, or NULL when
 * absent or too long to keep. */
static char *http_header(CURL *h, const char *name)
{
	struct curl_header *hh = NULL;

	if (curl_easy_header(h, name, 0, CURLH_HEADER, -1, &hh) != CURLHE_OK || hh == NULL ||
	    hh->value == NULL || hh->value[0] == '\0' || strlen(hh->value) > FEED_VALIDATOR_MAX)
		return NULL;
	return strdup(hh->value);
}

/* Adds "Name: value" to *list when value is set. */
static bool header_add(struct curl_slist **list, const char *name, const char *value)
{
	char line[FEED_HEADER_MAX];
	struct curl_slist *l;

	if (value == NULL || strlen(value) > FEED_VALIDATOR_MAX)
		return true;
	snprintf(line, sizeof(line), "%s: %s", name, value);
	l = curl_slist_append(*list, line);
	if (l == NULL)
		return false;
	*list = l;
	return true;
}

/* False with *failed naming the option when curl refused it. */
static bool setopt_ok(CURLcode cc, const char *option, const char **failed)
{
	if (cc == CURLE_OK)
		return true;
	*failed = option;
	return false;
}

static enum bb_rc http_setup(CURL *h, const struct feed_fetch_opts *o, struct http_read *r,
			     struct curl_slist *headers, char *errbuf, struct err *e)
{
	const char *url = o->url;
	const char *failed = NULL;
	bool ok;

#define SETOPT(opt, val) setopt_ok(curl_easy_setopt(h, opt, val), #opt, &failed)
	/* The admin's own URL: redirects followed by curl, private addresses
	 * allowed (the blog may sit beside the bridge). */
	ok = SETOPT(CURLOPT_URL, url) && SETOPT(CURLOPT_PROTOCOLS_STR, "http,https") &&
	     SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https") &&
	     SETOPT(CURLOPT_FOLLOWLOCATION, 1L) && SETOPT(CURLOPT_MAXREDIRS, FEED_REDIRECTS_MAX) &&
	     SETOPT(CURLOPT_CONNECTTIMEOUT, FEED_CONNECT_TIMEOUT_S) &&
	     SETOPT(CURLOPT_TIMEOUT, FEED_TOTAL_TIMEOUT_S) && SETOPT(CURLOPT_NOSIGNAL, 1L) &&
	     SETOPT(CURLOPT_USERAGENT, o->user_agent) &&
	     SETOPT(CURLOPT_HTTPHEADER, headers) && SETOPT(CURLOPT_ACCEPT_ENCODING, "") &&
	     SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)FEED_BYTES_MAX) &&
	     SETOPT(CURLOPT_WRITEFUNCTION, http_write) && SETOPT(CURLOPT_WRITEDATA, r) &&
	     SETOPT(CURLOPT_XFERINFOFUNCTION, http_progress) && SETOPT(CURLOPT_XFERINFODATA, r) &&
	     SETOPT(CURLOPT_NOPROGRESS, 0L) && SETOPT(CURLOPT_ERRORBUFFER, errbuf);
#undef SETOPT
	if (!ok)
		return err_set(e, BB_ERR_IO, "feed %s: cannot set %s", url, failed);
	return BB_OK;
}

/* Statuses worth retrying soon: the next poll does. */
static bool status_temporary(long status)
{
	return status == 408 || status == 429 || status >= 500;
}

enum bb_rc feed_fetch_http(const struct feed_fetch_opts *o, struct feed_doc *d, struct err *e)
{
	const char *url = o->url;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct http_read r = {.body = &d->body, .cancel = o->cancel};
	struct curl_slist *headers = NULL;
	enum bb_rc rc = BB_OK;
	long status = 0;
	CURLcode c;
	CURL *h = curl_easy_init();

	headers = curl_slist_append(NULL, FEED_ACCEPT);
	if (h == NULL || headers == NULL || !header_add(&headers, "If-None-Match", o->etag) ||
	    !header_add(&headers, "If-Modified-Since", o->last_modified)) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = http_setup(h, o, &r, headers, errbuf, e);
	if (rc != BB_OK)
		goto out;
	c = curl_easy_perform(h);
	if (r.over_limit || c == CURLE_FILESIZE_EXCEEDED) {
		rc = err_set(e, BB_ERR_LIMIT, "feed %s: larger than %d bytes", url, FEED_BYTES_MAX);
		goto out;
	}
	if (c == CURLE_ABORTED_BY_CALLBACK) {
		rc = err_set(e, BB_ERR_TEMPFAIL, "feed %s: stopped", url);
		goto out;
	}
	if (c == CURLE_WRITE_ERROR) {
		rc = err_set(e, BB_ERR_NOMEM, "feed %s: out of memory", url);
		goto out;
	}
	if (c != CURLE_OK) {
		rc = err_set(e, c == CURLE_TOO_MANY_REDIRECTS ? BB_ERR_IO : BB_ERR_TEMPFAIL,
			     "feed %s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(c));
		goto out;
	}
	if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK) {
		rc = err_set(e, BB_ERR_IO, "feed %s: no response code", url);
		goto out;
	}
	if (status == 304) {
		d->not_modified = true;
		goto out;
	}
	if (status < 200 || status > 299) {
		rc = err_set(e, status_temporary(status) ? BB_ERR_TEMPFAIL : BB_ERR_IO,
			     "feed %s: HTTP status %ld", url, status);
		goto out;
	}
	d->etag = http_header(h, "ETag");
	d->last_modified = http_header(h, "Last-Modified");
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	return rc;
}
