/*
 * store.h — persistence for blogbridge, behind one interface.
 *
 * The only code that knows SQL lives below this header.  Callers see typed
 * functions and an opaque `struct store`, one per thread (a connection is
 * never shared between threads).  Every function that changes more than one
 * row does so in one transaction, so a crash at any moment leaves either the
 * old state or the new one.
 *
 * Today the backend is SQLite (store_int.h says how it is set up).  A
 * connection that waits too long for another's lock fails with
 * BB_ERR_BUSY; how long it waits is the backend's business.  A write the
 * storage cannot take (disk full, an I/O error) fails with BB_ERR_TEMPFAIL,
 * its transaction undone: worth retrying once space returns.
 * store_open() chooses the backend from the database string, so a second
 * backend (a "postgresql://" URL) can be added without touching callers.
 */
#ifndef BB_STORE_H
#define BB_STORE_H

#include "err.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct store;

/* ---- walks -----------------------------------------------------------
 * A walk (store_follower_each, store_delivery_claim, store_host_stats_each,
 * store_post_each, store_owner_each) calls fn once per row, with the
 * caller's arg and the walk's own e.  fn borrows what it is handed for that call only.  It
 * returns BB_OK to go on; anything else stops the walk, which returns that
 * code unchanged, e as fn left it (fn says why with err_set(e, ...)).
 *
 * fn must not call the store it is called from, not even to read: a
 * backend may be in the middle of a result and unable to run a second
 * query on the connection.  A caller that needs the store for each row
 * collects the rows in fn and acts on them once the walk has returned. */

/* Opens (creating it and its folder when missing) the database and brings
 * its schema to the latest version.  Concurrent openers are safe: the
 * migration runs in one exclusive transaction. */
enum bb_rc store_open(const char *database, struct store **out, struct err *e) BB_MUST_CHECK;

void store_close(struct store *st);

/* The schema version this build writes, and the one the database has. */
int store_schema_latest(void);
enum bb_rc store_schema_version(struct store *st, int *out, struct err *e) BB_MUST_CHECK;

/* Runs the backend's consistency check; BB_OK when the database is sound. */
enum bb_rc store_check_integrity(struct store *st, struct err *e) BB_MUST_CHECK;

/* When the actor was created (set once, with the database). */
enum bb_rc store_actor_published(struct store *st, time_t *out, struct err *e) BB_MUST_CHECK;

/* A follower of the blog actor. Strings are owned by the struct. */
struct store_follower {
	char *actor;        /* actor id URL */
	char *handle;       /* "@user@host", or NULL when not yet known */
	char *inbox;        /* personal inbox */
	char *shared_inbox; /* NULL when the server has none */
	char *follow_id;    /* id of the Follow activity that made this follow */
	time_t since;
};

void store_follower_clear(struct store_follower *f);

/* Adds a follower, or updates it when actor is already one (a repeated
 * Follow): handle, inboxes and follow_id are replaced, `since` kept. */
enum bb_rc store_follower_put(struct store *st, const struct store_follower *f, struct err *e)
    BB_MUST_CHECK;

/* Removes a follower; BB_ERR_NOTFOUND when actor was not one. */
enum bb_rc store_follower_remove(struct store *st, const char *actor, struct err *e)
    BB_MUST_CHECK;

/* Removes actor only when follow_id is the Follow that made it a follower
 * (an Undo naming the Follow by id); BB_ERR_NOTFOUND otherwise. */
enum bb_rc store_follower_remove_follow(struct store *st, const char *actor,
					const char *follow_id, struct err *e) BB_MUST_CHECK;

/* Removes the followers whose personal inbox is inbox (it answered 410
 * Gone); *removed counts them. */
enum bb_rc store_follower_remove_by_inbox(struct store *st, const char *inbox, int64_t *removed,
					  struct err *e) BB_MUST_CHECK;

/* Fills *out (clear it) or BB_ERR_NOTFOUND. */
enum bb_rc store_follower_get(struct store *st, const char *actor, struct store_follower *out,
			      struct err *e) BB_MUST_CHECK;

enum bb_rc store_follower_count(struct store *st, int64_t *out, struct err *e) BB_MUST_CHECK;

/* Walks the followers (see "walks" above), oldest first, `limit` of them
 * after skipping `offset` (limit < 0: all). */
typedef enum bb_rc (*store_follower_fn)(const struct store_follower *f, void *arg, struct err *e);
enum bb_rc store_follower_each(struct store *st, int64_t offset, int64_t limit,
			       store_follower_fn fn, void *arg, struct err *e) BB_MUST_CHECK;

/* ---- transactions ---------------------------------------------------
 * store_begin takes the write lock at once, so the transaction cannot
 * fail later for want of it.  Functions called
 * between begin and commit join the transaction (one that writes several
 * rows does so in a savepoint of its own: all or nothing, the caller's
 * transaction left open).  When store_commit fails, call store_rollback.
 * store_rollback with no transaction open does nothing. */
enum bb_rc store_begin(struct store *st, struct err *e) BB_MUST_CHECK;
enum bb_rc store_commit(struct store *st, struct err *e) BB_MUST_CHECK;
void store_rollback(struct store *st);
/* Savepoints, for one job inside a batch transaction: store_savepoint
 * outside store_begin is BB_ERR_INVALID.  store_savepoint_rollback undoes
 * the job's writes and ends the savepoint (no release after it). */
enum bb_rc store_savepoint(struct store *st, struct err *e) BB_MUST_CHECK;
enum bb_rc store_savepoint_release(struct store *st, struct err *e) BB_MUST_CHECK;
void store_savepoint_rollback(struct store *st);

/* A read snapshot: the reads between store_read_begin and store_read_end
 * see one state of the database, and pay once for starting to read it
 * (each read outside begins its own, and re-reads the pages another
 * connection changed).  Only reads belong inside: nothing that writes,
 * fetches or waits.  store_read_end ends it whatever happened inside, and
 * does nothing when none is open. */
enum bb_rc store_read_begin(struct store *st, struct err *e) BB_MUST_CHECK;
void store_read_end(struct store *st);

/* ---- remote actors, cached ------------------------------------------ */
struct store_actor {
	char *id;
	char *inbox;
	char *shared_inbox;   /* NULL when none */
	char *handle;         /* "@user@host", NULL until known */
	char *key_id;         /* the key this actor signs with */
	char *public_key_pem;
	time_t fetched_at;
	char *name;   /* display name; NULL when none */
	char *avatar; /* icon URL; NULL when none */
	char *url;    /* profile page URL; NULL when none */
};

void store_actor_clear(struct store_actor *a);

/* Inserts or replaces the cached actor (keyed by id; key_id is unique too:
 * a key moving to another actor replaces the old row).  When the name,
 * handle, avatar or profile URL of an actor with comments changes, the
 * comments version of each post they commented on moves on. */
enum bb_rc store_actor_put(struct store *st, const struct store_actor *a, struct err *e)
    BB_MUST_CHECK;

/* Fills *out (overwritten, not freed, first; owned by the caller: clear
 * it) or BB_ERR_NOTFOUND (*out then empty). */
enum bb_rc store_actor_get(struct store *st, const char *id, struct store_actor *out,
			   struct err *e) BB_MUST_CHECK;
enum bb_rc store_actor_by_key(struct store *st, const char *key_id, struct store_actor *out,
			      struct err *e) BB_MUST_CHECK;

/* ---- incoming activities already applied ---------------------------- */

/* Records an activity id; *is_new is false when it was already there
 * (a replay, to acknowledge and ignore). */
enum bb_rc store_seen_add(struct store *st, const char *activity_id, time_t now, bool *is_new,
			  struct err *e) BB_MUST_CHECK;

/* ---- outgoing activities and their deliveries ----------------------- */

/* Stores an activity we send (its JSON, rendered once); *rowid names it
 * for store_delivery_add.  ap_id must be new (BB_ERR_INVALID if not). */
enum bb_rc store_activity_add(struct store *st, const char *ap_id, const char *json,
			      time_t now, int64_t *rowid, struct err *e) BB_MUST_CHECK;

/* Queues the activity for inbox, due now.  A second add of the same pair
 * is a no-op.  host is the inbox's host key, as url_host_key (common/url.h)
 * makes it from the inbox URL: the store keeps it as given, and delivery
 * health is kept per host key.  A NULL or empty host is BB_ERR_INVALID, one
 * over 262 bytes BB_ERR_LIMIT, an unknown activity BB_ERR_NOTFOUND. */
enum bb_rc store_delivery_add(struct store *st, int64_t activity, const char *inbox,
			      const char *host, time_t now, struct err *e) BB_MUST_CHECK;

enum store_delivery_state {
	STORE_DELIVERY_PENDING, /* waiting for its next attempt */
	STORE_DELIVERY_DONE,
	STORE_DELIVERY_FAILED, /* given up: permanent refusal or too many attempts */
};

/* A claimed delivery, as the worker sees it.  Strings owned by the walk. */
struct store_delivery {
	int64_t id;
	const char *inbox;
	const char *host;
	const char *body; /* the activity JSON */
	int attempts;     /* made so far */
};

/* Claims up to max due deliveries (pending, next attempt <= now, not
 * leased: never leased, lease given back, or lease run out and its owner
 * not registered; host not unavailable),
 * oldest due first, leasing them until now + lease_s, in one
 * transaction; then calls fn for each.  A host never has more than
 * per_host rows leased at once (counting leases of other workers), so a
 * dead host's backlog cannot crowd out the others (per_host 0: no such
 * cap).  lease_s must be positive.  A worker that dies leaves its rows to
 * be claimed again when the lease ends (a delivery may then be sent
 * twice, never lost).  Inside store_begin the claim joins the caller's
 * transaction (and its leases stand or fall with it).  fn is called (a
 * walk, see above) only once the rows are leased; when it stops the walk,
 * the rows not yet handed to it stay leased, to be claimed again when the
 * lease ends. */
typedef enum bb_rc (*store_delivery_fn)(const struct store_delivery *d, void *arg, struct err *e);
/* owner (see "lease owners" below) is recorded on each lease; NULL leases
 * for no owner (the lease then only runs out). */
enum bb_rc store_delivery_claim(struct store *st, const char *owner, time_t now, int lease_s,
				size_t max, size_t per_host, store_delivery_fn fn, void *arg,
				struct err *e) BB_MUST_CHECK;

/* Gives up owner's lease on delivery id without an outcome (it could not
 * be started): the row may be claimed again at once.  A row that owner
 * does not hold is left alone (BB_OK). */
enum bb_rc store_delivery_release(struct store *st, int64_t id, const char *owner,
				  struct err *e) BB_MUST_CHECK;

/* ---- lease owners ----------------------------------------------------
 * An owner is one incarnation of a delivery worker: an id it makes at
 * random when it starts (never reused), its pid and host name (to tell
 * a dead process on this host at once), and a heartbeat time.  While it
 * lives it heartbeats (store_owner_heartbeat), which also extends its
 * leases, so leases can be short.  An owner whose heartbeat is older than
 * a grace period is dead: store_owners_reap releases its leases (the
 * rows can be claimed at once) and forgets it.  A lease of a registered
 * owner is never claimed by another, even past its end (a renewal may be
 * late); it counts against its host's cap until released. */
struct store_owner {
	const char *id; /* at most STORE_OWNER_ID_MAX bytes */
	long pid;
	const char *hostname; /* at most STORE_OWNER_HOST_MAX bytes */
	time_t heartbeat;
};
#define STORE_OWNER_ID_MAX 64
#define STORE_OWNER_HOST_MAX 255

/* Records o (heartbeat = o->heartbeat), replacing an owner of that id.
 * An empty or overlong id or host name is BB_ERR_INVALID. */
enum bb_rc store_owner_register(struct store *st, const struct store_owner *o,
				struct err *e) BB_MUST_CHECK;

/* Owner id is alive at now: its heartbeat is set to now and every lease it
 * holds is extended to lease_until; *renewed (may be NULL) counts them.
 * BB_ERR_NOTFOUND when id is not (or no longer) an owner: it was taken
 * for dead, its leases released; register again. */
enum bb_rc store_owner_heartbeat(struct store *st, const char *id, time_t now, time_t lease_until,
				 int64_t *renewed, struct err *e) BB_MUST_CHECK;

/* Releases every lease owner id holds and forgets it (an owner stopping,
 * or one known dead); *released (may be NULL) counts the rows.  An unknown
 * id releases what it holds and is BB_OK. */
enum bb_rc store_owner_release(struct store *st, const char *id, int64_t *released,
			       struct err *e) BB_MUST_CHECK;

/* Releases the leases of every owner whose heartbeat is before `before`
 * and forgets them; *released (may be NULL) counts the rows. */
enum bb_rc store_owners_reap(struct store *st, time_t before, int64_t *released,
			     struct err *e) BB_MUST_CHECK;

/* Walks the owners (see "walks" above), by id. */
typedef enum bb_rc (*store_owner_fn)(const struct store_owner *o, void *arg, struct err *e);
enum bb_rc store_owner_each(struct store *st, store_owner_fn fn, void *arg,
			    struct err *e) BB_MUST_CHECK;

/* The outcome of an attempt: done; retry at `next` (attempts + 1); or
 * failed for good.  status is the HTTP status (0 for none), error a short
 * reason (may be NULL).  Each clears the lease.  BB_ERR_NOTFOUND when id
 * names no pending delivery: a late outcome for a delivery already done
 * or failed (its lease ran out and another worker finished it) changes
 * nothing. */
enum bb_rc store_delivery_done(struct store *st, int64_t id, int status, time_t now,
			       struct err *e) BB_MUST_CHECK;
enum bb_rc store_delivery_retry(struct store *st, int64_t id, int status, const char *error,
				time_t next, time_t now, struct err *e) BB_MUST_CHECK;
enum bb_rc store_delivery_fail(struct store *st, int64_t id, int status, const char *error,
			       time_t now, struct err *e) BB_MUST_CHECK;

/* Whether another connection (or process) has committed to the database
 * since the last call on st: a cheap way to notice rows queued elsewhere.
 * *token is the caller's mark, STORE_CHANGES_START before the first call
 * (which only sets it: *changed false); each call moves it on.  A token
 * means something only to the st that gave it.  Commits through st itself
 * need not count; a backend may report a change when there was none, but
 * never misses one.  On error *token is left as it was and *changed is
 * false. */
#define STORE_CHANGES_START 0
enum bb_rc store_changes_since(struct store *st, uint64_t *token, bool *changed,
			       struct err *e) BB_MUST_CHECK;

/* When the next pending delivery is due (0 when none): the earliest
 * next attempt among pending rows of available hosts, a leased row counting
 * from when its lease ends. */
enum bb_rc store_delivery_next_due(struct store *st, time_t *out, struct err *e) BB_MUST_CHECK;

/* Delivery health per host, for `blogbridge deliveries` and the
 * deliveries page: a walk (see above), one call per host with deliveries,
 * by host name.  last_error is that of the host's most recently updated
 * retrying or failed row that has one.  The host's record says when it
 * last took a delivery, when one last failed, on how many distinct days
 * deliveries failed (STORE_HOST_FAILURE_DAYS make it unavailable), and
 * since when it has been failing without a success between ("Retry now"
 * does not end that, a success does). */
struct store_host_stats {
	const char *host;
	int64_t pending;  /* waiting, never failed */
	int64_t retrying; /* waiting after at least one failure */
	int64_t failed;
	int64_t done;
	bool unavailable;
	const char *last_error; /* NULL when none */
	time_t next_attempt;    /* 0 when nothing waits */
	/* The host's record: */
	time_t failing_since; /* its first failure after its last success; 0: not failing */
	time_t last_success;  /* 0: never */
	time_t last_failure;  /* 0: never */
	int64_t failure_days; /* distinct days with a failure since the last success */
};
typedef enum bb_rc (*store_host_stats_fn)(const struct store_host_stats *h, void *arg,
					  struct err *e);
enum bb_rc store_host_stats_each(struct store *st, store_host_stats_fn fn, void *arg,
				 struct err *e) BB_MUST_CHECK;

/* ---- remote hosts ----------------------------------------------------
 * Host keys as url_host_key makes them (the hosts store_delivery_add is
 * given); compared in lower case. */

/* A success clears the host's failure days, its unavailable mark and its
 * outage (see store_host_stats). */
enum bb_rc store_host_success(struct store *st, const char *host, time_t now, struct err *e)
    BB_MUST_CHECK;

/* Whether deliveries to host have been failing (or it is unavailable): a
 * read, so the inbox can check on its own thread whether a sender's host
 * needs store_host_success, and write only then. */
enum bb_rc store_host_troubled(struct store *st, const char *host, bool *troubled,
			       struct err *e) BB_MUST_CHECK;

/* A failed attempt records the UTC day; on the 7th distinct day the host
 * becomes unavailable (*unavailable set true, and on every failure after
 * while it stays so). */
#define STORE_HOST_FAILURE_DAYS 7
enum bb_rc store_host_failure(struct store *st, const char *host, time_t now,
			      bool *unavailable, struct err *e) BB_MUST_CHECK;

/* The HTTP signature schemes a host may accept. */
enum store_sig_scheme {
	STORE_SIG_CAVAGE,  /* draft-cavage-http-signatures */
	STORE_SIG_RFC9421, /* RFC 9421 HTTP Message Signatures */
};

/* Which signature scheme the host accepted last; BB_ERR_NOTFOUND when
 * unknown (*scheme then untouched).  Setting a value outside the enum is
 * BB_ERR_INVALID. */
enum bb_rc store_host_scheme_get(struct store *st, const char *host, enum store_sig_scheme *scheme,
				 struct err *e) BB_MUST_CHECK;
enum bb_rc store_host_scheme_set(struct store *st, const char *host, enum store_sig_scheme scheme,
				 struct err *e) BB_MUST_CHECK;

/* ---- blog posts ------------------------------------------------------
 * One row per feed item (by guid), with the object as last federated.
 * ap_id is never reused: a deleted post keeps its row (deleted != 0) and
 * its id answers 404 with a Tombstone. */
struct store_post {
	int64_t rowid;
	char *guid;
	char *ap_id;       /* our object id */
	char *url;         /* the blog permalink */
	char *title;
	char *hash;        /* of what is federated, to detect edits */
	char *object_json; /* the object as last rendered */
	time_t published;
	time_t updated;
	time_t deleted; /* 0 while live */
};

void store_post_clear(struct store_post *p);

/* Inserts a new post (rowid set on return) or, for an existing guid,
 * replaces url, title, hash, object_json and updated. */
enum bb_rc store_post_put(struct store *st, struct store_post *p, struct err *e) BB_MUST_CHECK;

/* Finds a post by guid, by object id, or by blog URL (the newest when
 * several share it); BB_ERR_NOTFOUND otherwise.  *out owned by the
 * caller. */
enum bb_rc store_post_by_guid(struct store *st, const char *guid, struct store_post *out,
			      struct err *e) BB_MUST_CHECK;
enum bb_rc store_post_by_ap_id(struct store *st, const char *ap_id, struct store_post *out,
			       struct err *e) BB_MUST_CHECK;
enum bb_rc store_post_by_url(struct store *st, const char *url, struct store_post *out,
			     struct err *e) BB_MUST_CHECK;

/* Marks a post deleted at `when`. */
enum bb_rc store_post_delete(struct store *st, int64_t rowid, time_t when, struct err *e)
    BB_MUST_CHECK;

/* Live (not deleted) posts. */
enum bb_rc store_post_count(struct store *st, int64_t *out, struct err *e) BB_MUST_CHECK;

/* Walks posts newest first (by published, then rowid), skipping offset,
 * at most limit (< 0: all); include_deleted for the admin's list.  A
 * walk: see above. */
typedef enum bb_rc (*store_post_fn)(const struct store_post *p, void *arg, struct err *e);
enum bb_rc store_post_each(struct store *st, int64_t offset, int64_t limit, bool include_deleted,
			   store_post_fn fn, void *arg, struct err *e) BB_MUST_CHECK;

/* Queues activity for every follower: one delivery per distinct target,
 * the follower's shared inbox when it has one, else its inbox (so 10,000
 * followers on 500 servers make 500 rows).  *count (may be NULL) gets the
 * number queued.  Call inside the transaction that stored the activity. */
enum bb_rc store_fanout(struct store *st, int64_t activity, time_t now, int64_t *count,
			struct err *e) BB_MUST_CHECK;

/* An activity we sent, by its id (its JSON, owned by the caller); for
 * serving Create/Update/Delete/Accept at their ids. */
enum bb_rc store_activity_get(struct store *st, const char *ap_id, char **json, struct err *e)
    BB_MUST_CHECK;

/* ---- small named values ------------------------------------------------
 * Feed state (ETag, Last-Modified, whether the first import happened). */
enum bb_rc store_meta_get(struct store *st, const char *key, char **value, struct err *e)
    BB_MUST_CHECK; /* BB_ERR_NOTFOUND when unset */
enum bb_rc store_meta_set(struct store *st, const char *key, const char *value, struct err *e)
    BB_MUST_CHECK; /* value NULL deletes */

/* The meta key of the account the blog moved to (`blogbridge move`). */
#define STORE_META_MOVED_TO "moved_to"
/* That account, in *out (free it); NULL when the blog has not moved.
 * BB_OK either way. */
enum bb_rc store_moved_to_get(struct store *st, char **out, struct err *e) BB_MUST_CHECK;

/* ---- housekeeping ------------------------------------------------------
 * What the bridge keeps only for a while, so the database stays small over
 * years: ids of received activities (a replay older than this fails the
 * signature's time window anyway), finished deliveries, and deliveries
 * given up on (kept longer, for the admin to see). */
#define STORE_KEEP_SEEN_S (7 * 24 * 3600)
#define STORE_KEEP_DONE_S (7 * 24 * 3600)
#define STORE_KEEP_FAILED_S (30 * 24 * 3600)

/* Deletes what is older than the STORE_KEEP_* spans at `now`, in one
 * transaction; *removed (may be NULL) counts the rows. */
enum bb_rc store_prune(struct store *st, time_t now, int64_t *removed, struct err *e)
    BB_MUST_CHECK;

/* ---- comments and reactions ------------------------------------------
 * Replies from the fediverse to the blog's posts, kept per post (a posts
 * rowid) and keyed by their ActivityPub id.  A comment's row is never
 * removed: a deleted one keeps its id and status `deleted` so that a
 * replayed Create cannot bring it back.  Reactions (likes, boosts,
 * quotes) are kept per post with who and when.  Every function that
 * changes what a post's comments or reactions look like moves that
 * post's comments version on (store_post_comments_version), so a caller
 * may cache a rendering under it. */
enum store_comment_status {
	STORE_COMMENT_PENDING,  /* waiting for the admin */
	STORE_COMMENT_APPROVED, /* shown under the post */
	STORE_COMMENT_REJECTED, /* refused by the admin */
	STORE_COMMENT_PRIVATE,  /* followers-only or direct: for the admin only */
	STORE_COMMENT_DELETED,  /* deleted by its author or the admin: final */
};
#define STORE_COMMENT_STATUS_COUNT 5

/* "pending", "approved", "rejected", "private", "deleted"; NULL for a
 * value outside the enum. */
const char *store_comment_status_name(enum store_comment_status s);
/* The status a name (as store_comment_status_name writes it) stands for;
 * false for any other string (NULL included). */
bool store_comment_status_parse(const char *name, enum store_comment_status *out);

/* A comment.  Strings are owned by the struct (store_comment_clear). */
struct store_comment {
	int64_t rowid;
	char *ap_id;   /* the reply's ActivityPub id */
	int64_t post;  /* posts rowid of the post it is under */
	char *parent;  /* ap_id of the comment it answers; NULL: the post itself */
	char *author;  /* actor id */
	char *url;     /* the reply's page; NULL when none */
	char *content; /* sanitized HTML */
	enum store_comment_status status;
	bool edited;
	time_t published;
	time_t updated; /* == published until edited */
	time_t received;
	/* From the remote actor cache when the comment is read (NULL when the
	 * author is not cached, or has none); ignored by store_comment_add. */
	char *author_name;
	char *author_handle;
	char *author_avatar;
	char *author_url;
};

void store_comment_clear(struct store_comment *c);

/* Stores a new comment (c->rowid and the author_* fields are ignored;
 * updated 0 means published).  ap_id, author and content are required and
 * status must be in the enum (else BB_ERR_INVALID); an unknown post is
 * BB_ERR_NOTFOUND.  When ap_id is already stored, nothing changes and
 * *is_new is false: a Create delivered twice, or replayed after a Delete,
 * is one comment as it was. */
enum bb_rc store_comment_add(struct store *st, const struct store_comment *c, bool *is_new,
			     struct err *e) BB_MUST_CHECK;

/* Fills *out (overwritten, not freed, first; clear it) with the comment
 * whose ActivityPub id is ap_id, or BB_ERR_NOTFOUND (*out then empty). */
enum bb_rc store_comment_get(struct store *st, const char *ap_id, struct store_comment *out,
			     struct err *e) BB_MUST_CHECK;

/* An edit by author: content and updated replaced, edited set, status
 * kept, only when the comment is author's, not deleted, and updated is
 * strictly newer than its stored updated; *applied says whether it was.
 * An unknown ap_id is BB_OK with *applied false (an Update for a reply
 * never stored changes nothing). */
enum bb_rc store_comment_edit(struct store *st, const char *ap_id, const char *author,
			      const char *content, time_t updated, bool *applied,
			      struct err *e) BB_MUST_CHECK;

/* Sets the status of a comment (the admin's approve, reject, delete; an
 * author's Delete).  BB_ERR_NOTFOUND for an unknown ap_id; a deleted
 * comment stays deleted (setting another status is BB_ERR_INVALID), as
 * does a status outside the enum.  Setting the status it has is BB_OK. */
enum bb_rc store_comment_status_set(struct store *st, const char *ap_id,
				    enum store_comment_status status, struct err *e) BB_MUST_CHECK;

/* Marks every comment by author deleted (an actor's Delete); *count (may
 * be NULL) gets how many were not deleted before. */
enum bb_rc store_comment_delete_by_author(struct store *st, const char *author, int64_t *count,
					  struct err *e) BB_MUST_CHECK;

/* Which comments a walk or a count covers.  statuses is a set of
 * STORE_COMMENT_BIT(status) (0: every status); post a posts rowid (0: any
 * post). */
#define STORE_COMMENT_BIT(s) (1u << (unsigned)(s))
struct store_comment_filter {
	unsigned statuses;
	int64_t post;
	int64_t offset; /* rows skipped (walks only) */
	int64_t limit;  /* at most this many (walks only; < 0: all) */
};

/* Walks the comments f selects (see "walks" above), oldest first (by
 * published, then rowid), with the author_* fields filled. */
typedef enum bb_rc (*store_comment_fn)(const struct store_comment *c, void *arg, struct err *e);
enum bb_rc store_comment_each(struct store *st, const struct store_comment_filter *f,
			      store_comment_fn fn, void *arg, struct err *e) BB_MUST_CHECK;

/* How many comments f selects (offset and limit ignored). */
enum bb_rc store_comment_count(struct store *st, const struct store_comment_filter *f,
			       int64_t *out, struct err *e) BB_MUST_CHECK;

/* Whether author has at least one approved comment (moderation `known`). */
enum bb_rc store_author_has_approved(struct store *st, const char *author, bool *out,
				     struct err *e) BB_MUST_CHECK;

/* A number that changes whenever anything about the post's comments or
 * reactions changes (a comment added, edited or given a status, a
 * reaction added or removed, a commenter's cached name or avatar
 * changed): 0 for a post with none ever.  Never goes back. */
enum bb_rc store_post_comments_version(struct store *st, int64_t post, int64_t *out,
				       struct err *e) BB_MUST_CHECK;

/* For a reader of a post's comments, in one statement: the live post
 * whose blog URL is key (several share a URL: the live one), else whose
 * object id is key, with its comments version (as above) read at once.
 * BB_ERR_NOTFOUND when there is none, or it is deleted. */
enum bb_rc store_post_comments_find(struct store *st, const char *key, int64_t *post,
				    int64_t *version, struct err *e) BB_MUST_CHECK;

enum store_reaction_type {
	STORE_REACTION_LIKE,
	STORE_REACTION_BOOST, /* an Announce */
	STORE_REACTION_QUOTE, /* a post quoting ours; activity_id is that post's id */
};
#define STORE_REACTION_TYPE_COUNT 3

/* "like", "boost", "quote"; NULL outside the enum. */
const char *store_reaction_type_name(enum store_reaction_type t);

/* A reaction.  Strings owned by the struct (store_reaction_clear). */
struct store_reaction {
	int64_t post;
	enum store_reaction_type type;
	char *actor;
	char *activity_id; /* the Like or Announce, or the quoting post */
	time_t published;
};

void store_reaction_clear(struct store_reaction *r);

/* Stores a reaction to post.  A like or boost is one per actor and post: a
 * second one (another activity id) changes nothing, *is_new false; a quote
 * is one per quoting post (activity_id).  An unknown post is
 * BB_ERR_NOTFOUND, a type outside the enum or a NULL actor or activity
 * id BB_ERR_INVALID. */
enum bb_rc store_reaction_add(struct store *st, int64_t post, enum store_reaction_type type,
			      const char *actor, const char *activity_id, time_t published,
			      bool *is_new, struct err *e) BB_MUST_CHECK;

/* Removes the reaction made by activity_id when actor made it (an Undo):
 * *removed (may be NULL) counts the rows, 0 when none matched, which
 * is BB_OK.  An Undo by anyone else changes nothing. */
enum bb_rc store_reaction_remove(struct store *st, const char *activity_id, const char *actor,
				 int64_t *removed, struct err *e) BB_MUST_CHECK;

/* Removes actor's reaction of type to post, whatever its activity id (an
 * Undo whose Like has another id than the one stored); *removed as above. */
enum bb_rc store_reaction_remove_kind(struct store *st, int64_t post,
				      enum store_reaction_type type, const char *actor,
				      int64_t *removed, struct err *e) BB_MUST_CHECK;

/* Removes every reaction of actor (an actor's Delete); *removed as above. */
enum bb_rc store_reaction_remove_by_actor(struct store *st, const char *actor, int64_t *removed,
					  struct err *e) BB_MUST_CHECK;

/* The reactions to post by type (each pointer may be NULL). */
enum bb_rc store_reaction_counts(struct store *st, int64_t post, int64_t *likes,
				 int64_t *boosts, int64_t *quotes, struct err *e) BB_MUST_CHECK;

/* Walks the reactions to post (0: every post), oldest first (by
 * published, then insertion). A walk: see above. */
typedef enum bb_rc (*store_reaction_fn)(const struct store_reaction *r, void *arg,
					struct err *e);
enum bb_rc store_reaction_each(struct store *st, int64_t post, store_reaction_fn fn, void *arg,
			       struct err *e) BB_MUST_CHECK;

/* A post that mentions the blog but answers nothing of ours: kept for the
 * admin.  Strings owned by the struct (store_mention_clear). */
struct store_mention {
	char *ap_id;
	char *author;
	char *content; /* sanitized HTML */
	time_t published;
	time_t received;
};

void store_mention_clear(struct store_mention *m);

/* Stores a mention; the same ap_id twice is one (*is_new false).  ap_id,
 * author and content are required (BB_ERR_INVALID). */
enum bb_rc store_mention_add(struct store *st, const struct store_mention *m, bool *is_new,
			     struct err *e) BB_MUST_CHECK;

/* Walks the mentions newest first (by received, then insertion), `limit`
 * after skipping `offset` (limit < 0: all).  A walk: see above. */
typedef enum bb_rc (*store_mention_fn)(const struct store_mention *m, void *arg, struct err *e);
enum bb_rc store_mention_each(struct store *st, int64_t offset, int64_t limit,
			      store_mention_fn fn, void *arg, struct err *e) BB_MUST_CHECK;

/* ---- the admin pages (store_admin.c) --------------------------------
 * Sessions of the admin pages, the store's block list, and the per-post
 * view of the delivery queue. */

/* A login session.  The id itself is never stored: callers pass its
 * hash (hex of SHA-256), so a copy of the database opens no session. */
struct store_session {
	char *csrf; /* the session's CSRF token */
	time_t created;
	time_t last_seen;
};

void store_session_clear(struct store_session *s);

/* Adds a session (id_hash new, else BB_ERR_INVALID). */
enum bb_rc store_session_add(struct store *st, const char *id_hash, const char *csrf, time_t now,
			     struct err *e) BB_MUST_CHECK;
/* Fills *out (clear it) or BB_ERR_NOTFOUND. */
enum bb_rc store_session_get(struct store *st, const char *id_hash, struct store_session *out,
			     struct err *e) BB_MUST_CHECK;
/* Sets last_seen to now; BB_ERR_NOTFOUND for no such session. */
enum bb_rc store_session_touch(struct store *st, const char *id_hash, time_t now,
			       struct err *e) BB_MUST_CHECK;
/* Ends a session (no such session is not an error). */
enum bb_rc store_session_remove(struct store *st, const char *id_hash, struct err *e)
    BB_MUST_CHECK;
/* Deletes the sessions last seen before idle_before or created before
 * created_before. */
enum bb_rc store_session_prune(struct store *st, time_t idle_before, time_t created_before,
			       struct err *e) BB_MUST_CHECK;

/* A block of the store's list: a domain (lower case; its subdomains are
 * blocked too) or an actor id. */
struct store_block {
	const char *value;
	bool is_actor;
	time_t created;
};

/* Adds a block (a second add of the same value is a no-op). */
enum bb_rc store_block_add(struct store *st, const char *value, bool is_actor, time_t now,
			   struct err *e) BB_MUST_CHECK;
/* BB_ERR_NOTFOUND when value is not blocked. */
enum bb_rc store_block_remove(struct store *st, const char *value, struct err *e) BB_MUST_CHECK;
/* Walks the blocks by value (see "walks"). */
typedef enum bb_rc (*store_block_fn)(const struct store_block *b, void *arg, struct err *e);
enum bb_rc store_block_each(struct store *st, store_block_fn fn, void *arg,
			    struct err *e) BB_MUST_CHECK;
/* Whether actor (an actor id, may be NULL) is blocked by the store's list:
 * itself, or host (a lower-case host name, may be NULL) or a domain it
 * is under. */
enum bb_rc store_block_matches(struct store *st, const char *actor, const char *host,
			       bool *blocked, struct err *e) BB_MUST_CHECK;

/* "Retry now": the pending deliveries to host become due at now and the
 * host's unavailable mark is cleared; *count (may be NULL) counts rows. */
enum bb_rc store_host_retry_now(struct store *st, const char *host, time_t now, int64_t *count,
				struct err *e) BB_MUST_CHECK;

/* One delivery of one of a post's activities (its Create, Updates,
 * Delete: the activities whose ids are under the post's id).  Strings
 * owned by the walk. */
struct store_post_delivery {
	const char *activity; /* its ap_id */
	const char *inbox;
	const char *host;
	enum store_delivery_state state;
	int attempts;
	int last_status; /* 0 when none */
	const char *last_error; /* NULL when none */
	time_t next_attempt;
	time_t updated;
};
typedef enum bb_rc (*store_post_delivery_fn)(const struct store_post_delivery *d, void *arg,
					     struct err *e);
/* Walks the deliveries of the post whose object id is post_ap_id, newest
 * activity first, then by host (see "walks"). */
enum bb_rc store_post_delivery_each(struct store *st, const char *post_ap_id,
				    store_post_delivery_fn fn, void *arg, struct err *e) BB_MUST_CHECK;

/* The delivery rows of the post's latest activity, by state. */
struct store_post_delivery_counts {
	int64_t done, pending, failed;
};
enum bb_rc store_post_delivery_count(struct store *st, const char *post_ap_id,
				     struct store_post_delivery_counts *out,
				     struct err *e) BB_MUST_CHECK;

/* Queues the post's latest activity again: with all false, its failed
 * deliveries become pending (due now, attempts from zero); with all true,
 * every delivery of it, and a row is added for each follower's target it
 * lacks (store_fanout).  *count (may be NULL) counts the rows queued.
 * BB_ERR_NOTFOUND when the post has no activity. */
enum bb_rc store_post_resend(struct store *st, const char *post_ap_id, bool all, time_t now,
			     int64_t *count, struct err *e) BB_MUST_CHECK;

/* The followers page: followers matching q (a part of the handle or of
 * the server's name; NULL or "" for all), sorted, limit after offset;
 * *total (may be NULL) counts all matches.  Each row comes with its
 * server (the actor id's host), that server's delivery health, as the
 * hosts table knows the host of its inbox, and its display name and
 * avatar when the actor cache has them. */
enum store_follower_sort {
	STORE_FOLLOWERS_BY_SINCE, /* newest first */
	STORE_FOLLOWERS_BY_HANDLE,
	STORE_FOLLOWERS_BY_SERVER,
};
enum store_host_health { STORE_HOST_OK, STORE_HOST_FAILING, STORE_HOST_UNAVAILABLE };
struct store_follower_row {
	const struct store_follower *f; /* borrowed, for the call */
	const char *server;
	enum store_host_health health;
	const char *name;   /* display name, from the actor cache; NULL when unknown */
	const char *avatar; /* avatar URL, from the actor cache; NULL when unknown */
};
typedef enum bb_rc (*store_follower_row_fn)(const struct store_follower_row *r, void *arg,
					    struct err *e);
enum bb_rc store_follower_search(struct store *st, const char *q, enum store_follower_sort sort,
				 int64_t offset, int64_t limit, int64_t *total,
				 store_follower_row_fn fn, void *arg, struct err *e) BB_MUST_CHECK;

/* Followers per server, most first, at most limit servers. */
typedef enum bb_rc (*store_server_count_fn)(const char *server, int64_t followers, void *arg,
					    struct err *e);
enum bb_rc store_follower_servers(struct store *st, int64_t limit, store_server_count_fn fn,
				  void *arg, struct err *e) BB_MUST_CHECK;

/* Walks the actor ids of the followers whose id is on server (its host,
 * with ":port" when the id has one, as written in the id), through the
 * followers_server index: it costs that server's followers, not all. */
typedef enum bb_rc (*store_follower_id_fn)(const char *actor, size_t len, void *arg,
					   struct err *e);
enum bb_rc store_follower_server_each(struct store *st, const char *server,
				      store_follower_id_fn fn, void *arg,
				      struct err *e) BB_MUST_CHECK;


/* ---- notifications for the admin (store_notify.c) -------------------
 * An event is a new follower or a comment waiting for moderation, added
 * in the transaction that stored it (so a crash loses none and a replay,
 * which stores nothing, adds none).  Each channel (mail, webhook) keeps
 * its own state per event. */
enum store_notify_kind { STORE_NOTIFY_FOLLOW, STORE_NOTIFY_COMMENT };
enum store_notify_state {
	STORE_NOTIFY_WAITING,
	STORE_NOTIFY_SENT,
	STORE_NOTIFY_NONE, /* not to be sent: the channel was off, or given up */
};

/* Longest event JSON kept (what the webhook POSTs). */
#define STORE_NOTIFY_JSON_MAX 8192

/* Adds an event; mail and hook say whether each channel is to send it
 * (an event for neither is not stored).  A kind outside the enum or an
 * empty json is BB_ERR_INVALID, one over STORE_NOTIFY_JSON_MAX
 * BB_ERR_LIMIT. */
enum bb_rc store_notify_add(struct store *st, enum store_notify_kind kind, const char *json,
			    time_t now, bool mail, bool hook, struct err *e) BB_MUST_CHECK;

/* An event as a walk hands it (strings owned by the walk). */
struct store_notify_event {
	int64_t id;
	enum store_notify_kind kind;
	const char *json;
	time_t created;
	int hook_attempts; /* webhook POSTs tried so far */
};
typedef enum bb_rc (*store_notify_fn)(const struct store_notify_event *ev, void *arg,
				      struct err *e);

/* Walks (see "walks") the events whose mail is waiting, oldest first, at
 * most max; *more (may be NULL) says whether more wait beyond them. */
enum bb_rc store_notify_mail_each(struct store *st, size_t max, store_notify_fn fn, void *arg,
				  bool *more, struct err *e) BB_MUST_CHECK;

/* Marks the waiting mail of every event up to id (inclusive) sent. */
enum bb_rc store_notify_mail_sent(struct store *st, int64_t up_to, struct err *e) BB_MUST_CHECK;

/* Walks the events whose webhook POST is waiting and due at now (next
 * attempt <= now), oldest due first, at most max. */
enum bb_rc store_notify_hook_each(struct store *st, time_t now, size_t max, store_notify_fn fn,
				  void *arg, struct err *e) BB_MUST_CHECK;

/* The outcome of a POST: sent; tried again at next (attempts + 1, error
 * kept); or given up (error kept).  BB_ERR_NOTFOUND when id's POST is not
 * waiting. */
enum bb_rc store_notify_hook_sent(struct store *st, int64_t id, struct err *e) BB_MUST_CHECK;
enum bb_rc store_notify_hook_retry(struct store *st, int64_t id, time_t next, const char *error,
				   struct err *e) BB_MUST_CHECK;
enum bb_rc store_notify_hook_fail(struct store *st, int64_t id, const char *error,
				  struct err *e) BB_MUST_CHECK;

/* When the next waiting webhook POST is due (0 when none). */
enum bb_rc store_notify_hook_next(struct store *st, time_t *out, struct err *e) BB_MUST_CHECK;

/* Deletes the events created before `before` that no channel waits for,
 * and every event created before `stale` (a channel turned off leaves its
 * events waiting); *removed (may be NULL) counts them. */
enum bb_rc store_notify_prune(struct store *st, time_t before, time_t stale, int64_t *removed,
			      struct err *e) BB_MUST_CHECK;

/* A post by its rowid; BB_ERR_NOTFOUND otherwise.  *out owned by the
 * caller (clear it). */
enum bb_rc store_post_get(struct store *st, int64_t rowid, struct store_post *out,
			  struct err *e) BB_MUST_CHECK;

/* ---- reply backfill ---------------------------------------------------
 * What the backfill (activitypub/backfill.h) reads and when it last did,
 * keyed by URL (store_backfill.c). */
enum store_backfill_kind {
	STORE_BACKFILL_REPLIES, /* a comment's `replies` collection */
	STORE_BACKFILL_CONTEXT, /* a comment's `context` collection (FEP-7888) */
	STORE_BACKFILL_OBJECT,	/* a comment itself, read to learn its collections */
	STORE_BACKFILL_ITEM,	/* an item fetched lately and not imported */
	STORE_BACKFILL_KIND_COUNT
};

/* A row.  Strings owned by the struct (store_backfill_clear), borrowed
 * in a walk. */
struct store_backfill {
	char *url;
	enum store_backfill_kind kind;
	char *owner;	   /* the comment it was found under (its ap_id) */
	int64_t post;	   /* that comment's post (rowid) */
	int depth;	   /* 0: under a comment that reached the inbox */
	time_t fetched_at; /* last attempt; 0: never */
	int failures;	   /* attempts failed in a row */
};

void store_backfill_clear(struct store_backfill *b);

/* Adds b (failures 0; b->fetched_at as given); a no-op when its url is
 * already a row.  BB_ERR_INVALID without url, owner or a valid kind. */
enum bb_rc store_backfill_add(struct store *st, const struct store_backfill *b, struct err *e)
    BB_MUST_CHECK;

/* The row of url in *out (clear it); BB_ERR_NOTFOUND when none. */
enum bb_rc store_backfill_get(struct store *st, const char *url, struct store_backfill *out,
			      struct err *e) BB_MUST_CHECK;

/* In one transaction: forgets the items tried before items_before, and
 * adds an OBJECT row (due now) for every comment, not deleted, on a live
 * post published since young_since that has no row of its own (a comment
 * stored before the backfill knew of it); *added (may be NULL) counts
 * them. */
enum bb_rc store_backfill_probe_add(struct store *st, time_t young_since, time_t items_before,
				    int64_t *added, struct err *e) BB_MUST_CHECK;

/* Walks (see "walks") at most limit rows due, never tried first, then
 * the longest waiting: on a live post, failed fewer than max_failures
 * times in a row, and either never tried, or tried at or before
 * fetched_before on a post published since young_since (an OBJECT row
 * only while its reading fails).  Items are never due. */
typedef enum bb_rc (*store_backfill_fn)(const struct store_backfill *b, void *arg, struct err *e);
enum bb_rc store_backfill_due_each(struct store *st, time_t young_since, time_t fetched_before,
				   int max_failures, int64_t limit, store_backfill_fn fn,
				   void *arg, struct err *e) BB_MUST_CHECK;

/* How an attempt at a row ended. */
enum store_backfill_outcome {
	STORE_BACKFILL_OK,	/* read: its failures reset */
	STORE_BACKFILL_FAILED,	/* could not be read: its failures grow by one */
	STORE_BACKFILL_SKIPPED, /* left alone (its server is failing): failures kept */
};

/* Records an attempt at url's row at now.  No row: nothing happens. */
enum bb_rc store_backfill_done(struct store *st, const char *url, time_t now,
			       enum store_backfill_outcome outcome, struct err *e) BB_MUST_CHECK;

#endif
