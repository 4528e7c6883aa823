/*
 * store_fixture.h — helpers the store's test programs share: a fresh
 * database in a temporary folder, followers and posts to store, and
 * walks that collect what store_follower_each and store_delivery_claim
 * hand out.  Through store.h only, so the contract tests built on them
 * run against any backend.
 */
#ifndef BB_STORE_FIXTURE_H
#define BB_STORE_FIXTURE_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Collects the followers a walk visits (deep copies). */
#define COLLECT_MAX 64
struct collect {
	struct store_follower f[COLLECT_MAX];
	int n;
	int stop_after; /* stop (BB_ERR_INVALID) after this many (0: never) */
};

/* Collects what a claim hands out ("id:host:attempts,..." in order). */
#define CLAIMS_MAX 32
struct claims {
	int n;
	int64_t id[CLAIMS_MAX];
	char list[1024];
	char body[CLAIMS_MAX][64];
	char inbox[CLAIMS_MAX][128];
};
/* A follower to store; strings borrowed. */
struct store_follower follower(char *actor, char *handle, char *inbox, char *shared,
			       char *follow_id, time_t since);

/* strdup, NULL for NULL. */
char *dup_or_null(const char *s);

/* Walk callback: appends a deep copy of f to the struct collect at arg. */
enum bb_rc collect_fn(const struct store_follower *f, void *arg, struct err *e);
void collect_clear(struct collect *c);

/* Walks offset/limit and checks the actors seen, in order ("a,b,c"). */
void expect_walk(struct store *st, int64_t offset, int64_t limit, const char *want, int line);

/* The number of followers (-1, and a failed check, on error). */
int64_t count_of(struct store *st);

/* Opens a fresh database in a new folder; *dir and *path for the caller
 * (path freed by it, dir removed by it). */
struct store *fresh(const char **dir, char **path);

/* Claim callback: appends d to the struct claims at arg. */
enum bb_rc claims_fn(const struct store_delivery *d, void *arg, struct err *e);

/* Claims and returns the list; the count in c->n. */
const char *claim(struct store *st, struct claims *c, time_t now, int lease, size_t max,
		  size_t per_host, int line);
/* The same, leasing to owner (NULL: none). */
const char *claim_as(struct store *st, const char *owner, struct claims *c, time_t now, int lease,
		     size_t max, size_t per_host, int line);

/* A post to store; strings borrowed (store_post_put does not keep them). */
struct store_post post(char *guid, char *ap_id, char *url, char *title, char *hash,
		       time_t published);

/* The host key of inbox, as store_delivery_add's callers give it (a
 * static buffer, valid until the next call). */
const char *host_of(const char *inbox);

#endif
