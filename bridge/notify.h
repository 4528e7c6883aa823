/*
 * notify.h — the admin told of new followers and of comments waiting for
 * moderation ([notify] in bridge.conf): by mail and by a webhook.
 *
 * The inbox records each event in the store, in the transaction that
 * stored the follower or the comment (activitypub/events.h).  Threads of
 * their own (notify.c), one per channel, send them: a mail through libcurl's SMTP with every
 * event waiting, at most one mail per NOTIFY_MAIL_INTERVAL_S (the first at
 * once), and one signed JSON POST per event to the webhook.  It has its
 * own store connection and its own curl handles, each transfer bounded by
 * timeouts, so a dead mail server or hook holds up only its own thread —
 * never the other channel, the delivery worker or the inbox.  A failed mail is tried again
 * after NOTIFY_MAIL_RETRY_S, doubling up to the interval; a failed POST
 * after NOTIFY_HOOK_RETRY_S, doubling up to an hour, NOTIFY_HOOK_ATTEMPTS
 * times, then given up.
 *
 * The webhook's body is signed: X-Blogbridge-Signature: sha256=HEX, the
 * HMAC-SHA256 of the exact body under the webhook secret, which is derived
 * from the actor's key (key_derive_secret, label NOTIFY_SECRET_LABEL) and
 * shown by `blogbridge notify secret`.
 *
 * notify_mail.c writes the mail (pure functions, for the unit tests).
 */
#ifndef BB_NOTIFY_H
#define BB_NOTIFY_H

#include "buf.h"
#include "config.h"
#include "err.h"
#include "key.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define NOTIFY_MAIL_INTERVAL_S 600
#define NOTIFY_MAIL_RETRY_S 5
#define NOTIFY_MAIL_EVENTS_MAX 100    /* listed in one mail; the rest go in the next */
#define NOTIFY_MAIL_MAX (1024 * 1024) /* the body's text, before quoted-printable */
#define NOTIFY_HOOK_RETRY_S 30
#define NOTIFY_HOOK_RETRY_MAX_S 3600
#define NOTIFY_HOOK_ATTEMPTS 12
#define NOTIFY_CONNECT_TIMEOUT_S 10
#define NOTIFY_MAIL_TIMEOUT_S 60
#define NOTIFY_HOOK_TIMEOUT_S 20
#define NOTIFY_PRUNE_AFTER_S (30 * 24 * 3600) /* events sent are kept this long */
#define NOTIFY_STALE_AFTER_S (90 * 24 * 3600) /* and those never sent (a channel turned off) */
#define NOTIFY_SECRET_LABEL "blogbridge webhook secret v1"
#define NOTIFY_SIGNATURE_HEADER "X-Blogbridge-Signature"

/* ---- the mail (notify_mail.c) ----------------------------------------- */

/* Appends s to out as the text of a header field: every control
 * character (CR and LF above all: no header can be injected) becomes a
 * space; pure printable ASCII is kept as it is, anything else is written
 * as RFC 2047 encoded-words (=?UTF-8?B?...?=, each at most 75 characters,
 * cut between characters, separated by CRLF SP folding).  Invalid UTF-8
 * becomes U+FFFD. */
enum bb_rc notify_header_text(const char *s, struct buf *out) BB_MUST_CHECK;

/* Appends s to out as a display name for From/To: a quoted string
 * (RFC 5322 §3.2.4, with \" and \\) when ASCII, encoded-words otherwise;
 * control characters as spaces. */
enum bb_rc notify_header_phrase(const char *s, struct buf *out) BB_MUST_CHECK;

/* Appends the n bytes at s to out as quoted-printable (RFC 2045 §6.7):
 * lines end in CRLF (a lone LF in s is taken for a line end), soft breaks
 * keep every line within 76 characters. */
enum bb_rc notify_qp(const char *s, size_t n, struct buf *out) BB_MUST_CHECK;

/* What one mail says. */
struct notify_mail {
	const char *from;      /* the sender's address */
	const char *from_name; /* the blog's name (may be NULL) */
	const char *to;
	const char *host;   /* for the Message-ID */
	const char *msg_id; /* its unique part (random hex) */
	time_t date;
	const char *const *events; /* the events' JSON (events.h), oldest first */
	size_t count;
	bool more;	       /* more events wait beyond these (a line says so) */
	const char *admin_url; /* BASE/admin/comments */
};

/* Writes the whole message (headers and quoted-printable body, CRLF line
 * ends) into out.  An event's JSON that cannot be read is left out. */
enum bb_rc notify_mail_write(const struct notify_mail *m, struct buf *out) BB_MUST_CHECK;

/* ---- the thread (notify.c) ------------------------------------------ */

struct notify_worker;

/* The webhook secret as 64 lower-case hex digits (out: 65 bytes). */
enum bb_rc notify_secret_hex(const struct key *k, char out[2 * KEY_SECRET_LEN + 1],
			     struct err *e) BB_MUST_CHECK;

/* Starts the thread when cfg has mail or a webhook (else *out is NULL and
 * nothing runs).  cfg and k must outlive it. */
enum bb_rc notify_start(const struct config *cfg, const struct key *k, const char *user_agent,
			struct notify_worker **out, struct err *e) BB_MUST_CHECK;

/* Stops the thread: a transfer under way is cut short.  NULL is fine. */
void notify_stop(struct notify_worker *w);

#endif
