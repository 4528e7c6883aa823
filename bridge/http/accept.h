/*
 * accept.h — HTTP content negotiation between ActivityStreams JSON and HTML.
 *
 * Mastodon asks with `application/activity+json, application/ld+json`
 * (plain, or with the ActivityStreams profile, or with text/html;q=0.1);
 * browsers ask for text/html, with the any-type wildcard at a lower q.
 * RFC 9110 §12.5.1: the
 * most specific matching range gives each type its q; the higher q wins;
 * a tie goes to JSON, which is also the answer to no Accept at all.
 */
#ifndef BB_ACCEPT_H
#define BB_ACCEPT_H

enum accept_choice {
	ACCEPT_ACTIVITY_JSON, /* serve application/activity+json */
	ACCEPT_HTML,          /* the client wants a page: redirect to the blog */
	ACCEPT_NONE,          /* neither is acceptable: 406 */
};

/* accept may be NULL (header absent). */
enum accept_choice accept_negotiate(const char *accept);

#endif
