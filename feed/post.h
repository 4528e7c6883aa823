/*
 * post.h — one blog post as the bridge knows it: a plain feed item, what
 * the feed says (feed/feed.c fills it) and what the ActivityPub object is
 * rendered from (activitypub/object.c, which includes this header from the
 * layer below).  All strings are owned by the struct, UTF-8,
 * NUL-terminated; URLs absolute (relative ones are resolved against the
 * item's link when the feed is parsed).
 */
#ifndef BB_POST_H
#define BB_POST_H

#include <stddef.h>
#include <time.h>

#define POST_TAGS_MAX 32
#define POST_IMAGES_MAX 4 /* Mastodon keeps 4 attachments */

struct post_image {
	char *url;
	char *alt;        /* alt text, or NULL */
	char *media_type; /* e.g. image/jpeg, or NULL when unknown */
	int width, height; /* 0 when unknown */
};

struct post {
	char *guid;    /* identity in the feed: <guid>/<id>, else the link */
	char *url;     /* permalink on the blog */
	char *title;   /* plain text, may be empty, never NULL */
	char *content; /* the post's HTML (content:encoded / Atom content) */
	char *summary; /* the feed's teaser HTML (description / Atom summary), or NULL */
	char *author;  /* plain text, or NULL */
	char *language; /* BCP 47 from the item or the feed, or NULL */
	time_t published;
	time_t updated; /* == published when the feed gives none */
	char *tags[POST_TAGS_MAX]; /* category names as the feed gives them */
	size_t ntags;
	struct post_image images[POST_IMAGES_MAX]; /* enclosures, media:*, then <img> */
	size_t nimages;
};

/* Frees every string and zeroes the struct. */
void post_clear(struct post *p);

/* The media type of an image from its URL's extension (before any query
 * or fragment), or NULL when unknown.  A static string. */
const char *post_image_media_type(const char *url);

#endif
