/*
 * comments_seed.h — a post with a thread of comments and reactions,
 * written through store.h, for the tests of what the blog shows (the
 * comments API unit test, the API integration test and the browser test).
 *
 * The thread (oldest first):
 *   c1  alice  approved               "<p>First comment</p>"
 *   c2  bob    approved, answers c1   "<p>A reply to the first</p>"
 *   c3  alice  approved, answers c2   "<p>Third level</p>"
 *   c4  mallory approved              "<p>Hostile author</p>", whose cached
 *       name is an <img onerror> that would request `attacker` and set
 *       body's data-pwned, whose handle carries markup and whose avatar and
 *       profile are javascript: URLs
 *   c5  alice  pending    c6 bob private    c7 bob rejected
 * bob is not in the actor cache (his name, handle, avatar are unknown).
 * Reactions: likes by alice and bob, a boost by alice, a quote by bob.
 */
#ifndef BB_COMMENTS_SEED_H
#define BB_COMMENTS_SEED_H

#include "store.h"

#include <stdbool.h>
#include <stdint.h>

#define SEED_ALICE "https://m.example/users/alice"
#define SEED_BOB "https://p.example/users/bob"
#define SEED_MALLORY "https://evil.example/users/mallory"
#define SEED_C(n) "https://m.example/users/alice/statuses/" #n
#define SEED_C1 SEED_C(1)
#define SEED_C2 "https://p.example/objects/2"
#define SEED_C3 SEED_C(3)
#define SEED_C4 "https://evil.example/notes/4"
#define SEED_C5 SEED_C(5)
#define SEED_C6 "https://p.example/objects/6"
#define SEED_C7 "https://p.example/objects/7"
#define SEED_HOSTILE_HANDLE "@<b>mallory</b>@evil.example"

/* Stores the post (post_id its object id, post_url its blog URL) and its
 * thread; attacker (e.g. http://127.0.0.1:PORT/x) is where the hostile
 * name's image points.  *rowid gets the post's rowid.  False (reported
 * through check.h) on failure. */
bool seed_comments(struct store *st, const char *post_id, const char *post_url,
		   const char *attacker, int64_t *rowid);

#endif
