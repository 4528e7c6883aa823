/*
 * feed_fetch.h — the blog's feed read as bytes: a local file, or an
 * http(s) URL with a conditional GET.  The caller keeps the validators of
 * the last read (ETag, Last-Modified, a file's stamp), passes them in, and
 * saves the new ones once the items are stored (the bridge's poller).  Both
 * readers are bounded in size (FEED_BYTES_MAX); HTTP also in time
 * (FEED_CONNECT_TIMEOUT_S, FEED_TOTAL_TIMEOUT_S) and redirects
 * (FEED_REDIRECTS_MAX).
 */
#ifndef BB_FEED_FETCH_H
#define BB_FEED_FETCH_H

#include "buf.h"
#include "err.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#define FEED_CONNECT_TIMEOUT_S 10L
#define FEED_TOTAL_TIMEOUT_S 60L
#define FEED_REDIRECTS_MAX 3L

/* The feed as read: its bytes, or not modified; and the validators to save
 * once its items are stored (NULL: none). */
struct feed_doc {
	struct buf body;
	bool not_modified;
	char *etag;
	char *last_modified;
	char *file_stamp;
};

/* Frees what d holds and zeroes it. */
void feed_doc_clear(struct feed_doc *d);

/* Reads the regular file at path into d->body, which the caller has set up
 * with buf_init(&d->body, FEED_BYTES_MAX); only d->not_modified when the
 * file's stamp (mtime, size, inode) is known_stamp (NULL: none).  Sets
 * d->file_stamp unless the file was modified within FILE_STAMP_SETTLE_S
 * seconds of now (see feed_fetch.c).  BB_ERR_IO when the file cannot be
 * opened or read or is not a regular file, BB_ERR_LIMIT over
 * FEED_BYTES_MAX, BB_ERR_NOMEM. */
enum bb_rc feed_fetch_file(const char *path, const char *known_stamp, time_t now,
			   struct feed_doc *d, struct err *e) BB_MUST_CHECK;

/* What one HTTP read needs; borrowed strings. */
struct feed_fetch_opts {
	const char *url;	   /* http or https */
	const char *user_agent;	   /* sent as User-Agent; NULL: none */
	const char *etag;	   /* sent as If-None-Match; NULL: none */
	const char *last_modified; /* sent as If-Modified-Since; NULL: none */
	const atomic_bool *cancel; /* stops a transfer in progress when set; may be NULL */
};

/* GETs o->url into d->body (set up as for feed_fetch_file), with
 * If-None-Match: o->etag and If-Modified-Since: o->last_modified when they
 * are set; only d->not_modified on a 304.  http and https only, redirects
 * followed (private addresses allowed: the feed is the admin's own blog);
 * a transfer in progress stops as soon as *o->cancel is set.  After a 2xx,
 * d->etag and d->last_modified hold the response's validators (NULL when
 * absent or too long).  BB_ERR_TEMPFAIL when worth retrying soon (network
 * failure, stopped, 408, 429, 5xx); BB_ERR_IO for another status, too many
 * redirects, or a request that cannot be set up; BB_ERR_LIMIT over
 * FEED_BYTES_MAX; BB_ERR_NOMEM. */
enum bb_rc feed_fetch_http(const struct feed_fetch_opts *o, struct feed_doc *d,
			   struct err *e) BB_MUST_CHECK;

#endif
