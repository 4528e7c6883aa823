/*
 * peer.h — a remote fediverse server, played by the federation tests.
 *
 * A peer is one libmicrohttpd daemon (a thread per connection, so a hung
 * request holds only its own) on a loopback address of its own: the bridge
 * names deliveries by host, so 127.0.0.2, 127.0.0.3, … are distinct
 * servers to it.  It serves, for each actor added to it, what a Mastodon
 * instance serves: the actor document (Person, inbox, endpoints.sharedInbox,
 * publicKey {ACTOR#main-key, owner, publicKeyPem} of an RSA key made with
 * key_load_or_create, name NAME, icon BASE/avatars/NAME.png, url
 * BASE/@NAME), WebFinger (acct:NAME@HOST:PORT → the self link), and
 * the personal and shared inboxes, which record every POST (path, headers,
 * body, the status answered) and answer as the peer's mode says: 202, 500,
 * 410, 401 to a draft-cavage signature but 202 to an RFC 9421 one (to make
 * the bridge double-knock), 401 to all but an RFC 9421 signature with an
 * alg parameter (a strict verifier), or hang (the request is recorded,
 * then held unanswered until the mode changes or the peer stops, and its
 * connection closed without an answer).  Everything is bounded and thread-safe; the
 * test reads the records while the daemon adds to them.
 *
 * As a client, a peer signs the POSTs its actors send (draft-cavage or RFC
 * 9421 through httpsig_sign, or draft-cavage written out as Mastodon 4.7
 * does, with deliberate faults on request), and checks the signatures and
 * digests of what it receives.
 */
#ifndef BB_TEST_PEER_H
#define BB_TEST_PEER_H

#include "httpsig.h"
#include "key.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define PEER_ACTORS_MAX 8
#define PEER_URL_MAX 192
#define PEER_OBJECTS_MAX 32 /* documents peer_object_put serves */

enum peer_mode {
	PEER_ACCEPT, /* 202 */
	PEER_FAIL,   /* 500 */
	PEER_GONE,   /* 410 */
	PEER_KNOCK,  /* 401 without Signature-Input (draft-cavage), 202 with it */
	PEER_HANG,   /* no answer */
	/* Held unanswered until the mode changes, then answered as the new
	 * mode says (recorded with status 0). */
	PEER_HOLD,
	PEER_BUSY, /* 503, Retry-After: PEER_BUSY_RETRY_S, a body with control bytes */
	/* A strict RFC 9421 verifier: 401 to draft-cavage and to an RFC 9421
	 * Signature-Input without alg="rsa-v1_5-sha256", 202 with it. */
	PEER_STRICT_9421,
};

#define PEER_BUSY_RETRY_S 7200
/* PEER_BUSY's body: a newline and an escape sequence, as a hostile peer
 * would send to forge a log line and clear the terminal. */
#define PEER_BUSY_BODY "busy\n2026-01-01T00:00:00Z error forged\x1b[2J"

/* One POST to an inbox, as received.  Immutable once recorded. */
struct peer_post {
	char *path;
	struct httpsig_header *headers; /* names and values owned */
	size_t header_count;
	char *body; /* NUL-terminated, len bytes */
	size_t len;
	unsigned status; /* the answer; 0 when none was given (hung) */
	long long at_ms; /* peer_now_ms() when the request was complete */
};

struct peer;

struct peer_actor {
	struct peer *peer;
	char name[32];
	char id[PEER_URL_MAX];		/* BASE/users/NAME */
	char key_id[PEER_URL_MAX + 16]; /* id#main-key */
	char inbox[PEER_URL_MAX];
	char shared_inbox[PEER_URL_MAX];
	char acct[PEER_URL_MAX]; /* NAME@HOST:PORT */
	struct key *key;	 /* the key published now */
	struct key *old_key;	 /* the one before peer_actor_rekey, or NULL */
	char *doc;		 /* the actor document served */
	int generation;		 /* keys made so far */
};

/* Milliseconds on a monotonic clock. */
long long peer_now_ms(void);

/* Starts a peer listening on ip (a free port is chosen); its URLs name it
 * host_name when not NULL (e.g. "localhost"), else ip.  Keys go to
 * keydir.  NULL on failure (reported on stderr). */
struct peer *peer_start(const char *ip, const char *host_name, const char *keydir);

/* Releases hung requests, stops the daemon and frees everything (the
 * actors too).  NULL is fine. */
void peer_stop(struct peer *p);

const char *peer_base(const struct peer *p); /* "http://HOST:PORT" */
const char *peer_host(const struct peer *p); /* "HOST:PORT", as deliveries name hosts */

/* Adds an actor NAME with a new key.  inbox_origin, when not NULL,
 * replaces the peer's origin in the advertised inboxes (an origin nobody
 * listens on makes a dead inbox).  NULL on failure. */
struct peer_actor *peer_actor_add(struct peer *p, const char *name, const char *inbox_origin);

/* peer_actor_add with the peer's own inboxes, a failure reported as a
 * test failure; p may be NULL (a peer that did not start). */
struct peer_actor *peer_actor_checked(struct peer *p, const char *name);
/* Gives a a new key and publishes it in place of the old one (key
 * rotation); the old key stays in a->old_key until the next rekey. */
bool peer_actor_rekey(struct peer_actor *a);

void peer_set_mode(struct peer *p, enum peer_mode m);

/* Serves doc (copied) as application/activity+json at path ("/notes/1"),
 * replacing what was served there: a note's origin, for the bridge to
 * fetch.  False when out of room or memory. */
bool peer_object_put(struct peer *p, const char *path, const char *doc);

/* The number of GETs answered (actor documents, WebFinger): what the
 * bridge fetched. */
size_t peer_get_count(struct peer *p);

/* Secure mode, as a Mastodon with AUTHORIZED_FETCH: every GET but
 * WebFinger must be signed (draft-cavage or RFC 9421, Host covered) under
 * key_id with pk (borrowed until turned off with NULL), else it gets 401
 * {"error":"Request not signed"}.  The counts: GETs refused so, and GETs
 * whose signature held. */
void peer_require_signed_gets(struct peer *p, const struct pubkey *pk, const char *key_id);
size_t peer_get_refused(struct peer *p);
size_t peer_get_verified(struct peer *p);

/* While hold is true, GETs other than WebFinger wait unanswered (at most
 * two minutes, or until the peer stops): a server slow to give a key.
 * peer_get_held: how many wait now. */
void peer_hold_gets(struct peer *p, bool hold);
size_t peer_get_held(struct peer *p);

/* The number of POSTs recorded, and one of them (borrowed until
 * peer_stop). */
size_t peer_post_count(struct peer *p);
const struct peer_post *peer_post_at(struct peer *p, size_t i);

/* The value of a header of pp (any case), or NULL. */
const char *peer_post_header(const struct peer_post *pp, const char *name);

/* ---- the peer as a client: what it signs, what it verifies ---- */

/* How a POST is signed; all zero: a good draft-cavage signature by the
 * actor, as httpsig_sign makes it. */
struct peer_sign_opts {
	enum httpsig_scheme scheme;
	const struct key *key; /* NULL: the actor's */
	const char *key_id;    /* NULL: the actor's */
	long skew_s;	       /* added to now for the Date / created */
	bool unsigned_post;    /* Date and Content-Type only */
	bool chunked;	       /* Transfer-Encoding: chunked */
	/* draft-cavage exactly as Mastodon 4.7 signs deliveries
	 * (http_signature_draft.rb): rsa-sha256 over "host date content-type
	 * digest (request-target)", in that order. */
	bool mastodon_style;
};

/* Appends "name: value" to *l; a NULL value adds nothing.  False when out
 * of memory. */
bool peer_add_header(struct curl_slist **l, const char *name, const char *value);

/* The headers for a POST of body to url from actor a, signed as o says
 * (NULL: a good signature), appended to *hdrs.  False (reported) on
 * failure. */
bool peer_sign_post(const struct peer_actor *a, const char *url, const char *body,
		    const struct peer_sign_opts *o, struct curl_slist **hdrs);

/* Padded base64 of the SHA-256 of data, computed here (not by the code
 * under test), in out (at least 45 bytes). */
void peer_sha256_b64(const void *data, size_t len, char *out);

/* Checks that pp, received by p, is signed under key_id with pk (httpsig
 * parse and verify), with a correct Digest (draft-cavage, and then no
 * Signature-Input) or Content-Digest (RFC 9421) recomputed here, and an
 * ActivityStreams Content-Type.  Returns the scheme, or -1; failures are
 * reported through check.h. */
int peer_check_signed(struct peer *p, const struct peer_post *pp, const struct pubkey *pk,
		      const char *key_id);

/* ---- the bridge as a peer sees it ---- */

struct bridge;

/* The bridge's public key as its actor document publishes it, in *out
 * (pubkey_free it), the document's id, key id and owner checked against
 * b's; false (reported) when it cannot be had. */
bool peer_bridge_key(const struct bridge *b, struct pubkey **out);

/* POSTs the JSON j (taken) to b's path, signed by a (draft-cavage, as
 * peer_sign_post makes it); the status, 0 when nothing answered. */
long peer_post_json(const struct bridge *b, const struct peer_actor *a, const char *path,
		    json_t *j);

#endif
