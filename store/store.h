/*
 * store.h — persistence for blogbridge, behind one interface.
 *
 * The only code that knows SQL lives below this header.  Callers see typed
 * functions and an opaque `struct store`, one per thread (a connection is
 * never shared between threads).  Every function that changes more than one
 * row does so in one transaction, so a crash at any moment leaves either the
 * old state or the new one.
 *
 * Today the backend is SQLite (WAL mode, busy timeout, synchronous=FULL).
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

/* Milliseconds a connection waits for a lock held by another connection or
 * process before failing with BB_ERR_BUSY. */
#define STORE_BUSY_TIMEOUT_MS 10000

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

enum bb_rc store_follower_count(struct store *st, int64_t *out, struct err *e) BB_MUST_CHECK;

/* Calls fn for each follower, oldest first, `limit` of them after skipping
 * `offset` (limit < 0: all).  fn borrows f for the call; a non-zero return
 * from fn stops the walk and is returned as BB_ERR_INVALID. */
typedef int (*store_follower_fn)(const struct store_follower *f, void *arg);
enum bb_rc store_follower_each(struct store *st, int64_t offset, int64_t limit,
			       store_follower_fn fn, void *arg, struct err *e) BB_MUST_CHECK;

#endif
