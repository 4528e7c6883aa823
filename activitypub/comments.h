/*
 * comments.h — replies from the fediverse become comments on the blog's
 * posts; likes, boosts and quotes of the posts become reactions
 * (MASTODON.md §7, §6.8).
 *
 * Two steps, as for the rest of the inbox (inbox.h):
 * 1. comments_resolve, on the request's thread, before the write: which
 *    copy of a Create's or Update's object may be believed (§7.3).  The
 *    embedded one only when its attributedTo is the activity's actor and
 *    its id is on the actor's host; otherwise, and whenever the object is
 *    a bare URI, the copy its origin serves (a signed GET through the
 *    SSRF-safe fetch; its id must be the URI, and its attributedTo on the
 *    id's host).
 * 2. comments_apply, inside the caller's transaction (with the replay
 *    record): routing by inReplyTo (one of our post ids, a post's blog
 *    URL, or a comment already stored, threads of any depth), never by
 *    which inbox was used nor by whether our actor is in to/cc; the
 *    audience (Public in to: public, in cc: unlisted; otherwise private,
 *    kept for the admin); moderation; the HTML reduced (html.h) to 64 KiB
 *    at most; edits when strictly newer, deletes by the author, an
 *    actor's Delete taking their comments and reactions; Like, Announce,
 *    quotes and Undo; a QuoteRequest answered with a signed Accept whose
 *    result is a QuoteAuthorization we serve at its id (FEP-044f).
 * Activities of blocked domains never get here (inbox_verify refuses
 * them); objects attributed to a blocked domain are ignored here.
 */
#ifndef BB_COMMENTS_H
#define BB_COMMENTS_H

#include "activity.h"
#include "buf.h"
#include "err.h"
#include "events.h"
#include "fetch.h"
#include "site.h"
#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#define COMMENT_CONTENT_MAX (64 * 1024) /* bytes of sanitized HTML kept */
#define COMMENT_EMOJI_MAX 32		/* Emoji tags read */

/* [comments] moderation: what status a public or unlisted reply gets. */
enum comments_moderation {
	COMMENTS_MODERATION_MANUAL, /* pending until approved */
	COMMENTS_MODERATION_KNOWN,  /* approved when the author has an approved one */
	COMMENTS_MODERATION_AUTO,   /* approved at once */
};

enum comment_audience {
	COMMENT_AUDIENCE_PUBLIC,   /* Public in to */
	COMMENT_AUDIENCE_UNLISTED, /* Public in cc */
	COMMENT_AUDIENCE_PRIVATE,  /* followers-only or direct */
};

/* A reply object, read once.  Strings are borrowed from the JSON it was
 * parsed from; NULL when absent (or not an http(s) URL, for ids). */
struct comment_note {
	const char *id;
	const char *attributed_to; /* a string, an object's id, or an array's first */
	const char *in_reply_to;   /* a string or an object's id */
	const char *url;	   /* a string, a Link's href, or an array's first */
	const char *content;	   /* HTML as received */
	const char *quote;	   /* quote, quoteUrl or _misskey_quote */
	time_t published;	   /* 0 when absent or unreadable */
	time_t updated;		   /* 0 when absent or unreadable */
	enum comment_audience audience;
	bool mentions_us;		      /* our actor in to, cc, or a Mention tag */
	const char *emoji[COMMENT_EMOJI_MAX]; /* Emoji tags' ":shortcode:" names */
	size_t nemoji;
};

/* Whether s names Public: the full IRI, "as:Public" or "Public" (all three
 * are sent in the wild). */
bool comments_is_public(const char *s);

/* Reads obj (a Note, Article, Page or Question) into *out; our_actor is
 * the blog actor's id (for mentions_us).  BB_ERR_INVALID when obj is not
 * an object of such a type or has no http(s) id. */
enum bb_rc comment_note_parse(const json_t *obj, const char *our_actor, struct comment_note *out,
			      struct err *e) BB_MUST_CHECK;

/* Where a reply goes: a post (rowid) and the comment it answers (its id,
 * owned; NULL for the post itself). */
struct comment_target {
	int64_t post;
	char *parent;
};

void comment_target_clear(struct comment_target *t);

/* Routes in_reply_to: one of our posts by object id or blog URL (a
 * deleted post takes no replies), or a stored comment (then its post,
 * with it as parent).  BB_ERR_NOTFOUND when it is none of ours. */
enum bb_rc comments_route(struct store *st, const char *in_reply_to, struct comment_target *out,
			  struct err *e) BB_MUST_CHECK;

/* Appends content reduced for a reply (html_reduce_reply, at most
 * COMMENT_CONTENT_MAX bytes, links resolved against base) to out, which
 * must allow COMMENT_CONTENT_MAX bytes. */
enum bb_rc comments_sanitize(const char *content, const char *base, struct buf *out) BB_MUST_CHECK;

/* A believed note made ready for comments_apply before the write: read
 * once (comment_note_parse) and its HTML reduced (comments_sanitize), on
 * the thread that received or fetched it, so the writer's transaction
 * waits on neither. */
struct comment_prepared {
	const json_t *object;	  /* the believed note (borrowed), or NULL */
	bool parsed;		  /* note was read from it */
	struct comment_note note; /* strings borrowed from object */
	struct buf html;	  /* note.content reduced, when it may be kept */
};

/* Prepares trusted (comments_resolve's object, may be NULL: then nothing
 * is parsed) for the activity a; our_actor as for comment_note_parse.  The
 * HTML is reduced unless the note can change no comment (a Create that
 * answers nothing and mentions no one of ours).  BB_ERR_NOMEM only; an
 * object that is not a note leaves parsed false.  Clear with
 * comment_prepared_clear (also after a failure). */
enum bb_rc comment_prepare(const struct ap_activity *a, const json_t *trusted,
			   const char *our_actor, struct comment_prepared *out) BB_MUST_CHECK;
void comment_prepared_clear(struct comment_prepared *p);

/* What comments_apply needs of the bridge's set-up. */
struct comments_env {
	const struct ap_site *site;
	char *const *blocked_domains; /* url_host_blocked's list; may be NULL */
	enum comments_moderation moderation;
	struct ap_notify notify; /* a comment left waiting is an event (events.h) */
};

/* Step 1: for a Create or Update, the copy of its object to believe, in
 * *trusted (json_decref it; NULL when the activity is of another type, or
 * its object is not a note).  BB_ERR_AUTH, BB_ERR_NOTFOUND, BB_ERR_INVALID,
 * BB_ERR_LIMIT or BB_ERR_UNSAFE when no copy can be believed (the caller
 * acknowledges the activity and ignores it); BB_ERR_TEMPFAIL when the
 * origin could not be asked for now. */
enum bb_rc comments_resolve(const struct fetch_config *fetch, const struct ap_activity *a,
			    json_t **trusted, struct err *e) BB_MUST_CHECK;

/* Step 2: applies a (verified, not a replay) inside the caller's
 * transaction: Create, Update, Delete, Like, Announce, Undo (of a Like or
 * Announce) and QuoteRequest; other types change nothing.  note is
 * comment_prepare's reading of comments_resolve's object (may be NULL);
 * inbox is the signer's inbox (for the Accept of a QuoteRequest). */
enum bb_rc comments_apply(struct store *st, const struct comments_env *env,
			  const struct ap_activity *a, const struct comment_prepared *note,
			  const char *inbox, time_t now, struct err *e) BB_MUST_CHECK;

#endif
