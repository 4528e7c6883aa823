/*
 * store_int.h — what the SQLite backend's files share, and nothing else
 * includes.
 *
 * The backend is split by responsibility: store_sqlite.c opens the
 * database, climbs the schema ladder and holds the followers and the
 * transaction calls; store_remote.c the cached remote actors, the replay
 * log and the per-host health; store_queue.c the outgoing activities and
 * their delivery queue; store_posts.c the blog posts, the fan-out of an
 * activity to the followers, and the small named values.  The helpers
 * below keep each function to its SQL: an error names the operation,
 * SQLITE_BUSY maps to BB_ERR_BUSY, and every statement is finalized by
 * the function that prepared it.
 */
#ifndef BB_STORE_INT_H
#define BB_STORE_INT_H

#include "store.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every connection runs in WAL mode (readers go on while one writer
 * commits) with synchronous=FULL (a commit is durable before it returns),
 * and waits this many milliseconds for a lock held by another connection
 * or process before failing with BB_ERR_BUSY. */
#define STORE_BUSY_TIMEOUT_MS 10000

/* Prepared statements kept per connection: preparing (parsing, planning)
 * costs more than running the short statements the inbox and the worker
 * repeat thousands of times a second. */
#define STMT_CACHE_SIZE 64

struct stmt_slot {
	const char *sql; /* the literal it was prepared from (NULL: free slot) */
	sqlite3_stmt *stmt;
	bool busy; /* handed out, not yet released */
};

struct store {
	sqlite3 *db;
	long long busy_since_us; /* when the current wait for a lock began */
	struct stmt_slot cache[STMT_CACHE_SIZE];
};

/* Maps a SQLite result to our error, with the operation named: BUSY and
 * LOCKED become BB_ERR_BUSY, FULL and IOERR BB_ERR_TEMPFAIL, everything
 * else BB_ERR_STORE. */
enum bb_rc sql_fail(struct store *st, int src, const char *what, struct err *e);

/* Runs one or more statements without parameters or results. */
enum bb_rc sql_exec(struct store *st, const char *sql, const char *what, struct err *e);

/* Prepares one statement; on failure *stmt is NULL. */
enum bb_rc sql_prepare(struct store *st, const char *sql, sqlite3_stmt **stmt, struct err *e);

/* Gives back a statement from sql_prepare (NULL is fine): a cached one is
 * reset for its next use, any other finalized.  Every sql_prepare is
 * paired with one sql_release, never with sqlite3_finalize. */
void sql_release(struct store *st, sqlite3_stmt *stmt);

/* Runs one statement without results (BEGIN, COMMIT, SAVEPOINT...)
 * through the cache. */
enum bb_rc sql_step_once(struct store *st, const char *sql, const char *what, struct err *e);

/* Binds a string, or NULL for a NULL pointer (SQLITE_STATIC: the string
 * must outlive the statement's use). */
int sql_bind_text(sqlite3_stmt *stmt, int i, const char *s);

/* Copies a nullable text column into *out (NULL for SQL NULL).  Returns
 * false when out of memory. */
bool sql_column_dup(sqlite3_stmt *stmt, int i, char **out);

/* A statement parameter, bound by position (?1 is the first).  Build them
 * with SQL_TEXT and SQL_INT so each value is converted to its type. */
enum sql_arg_type { SQL_ARG_TEXT, SQL_ARG_INT };
struct sql_arg {
	enum sql_arg_type type;
	const char *text; /* NULL binds SQL NULL */
	int64_t num;
};
#define SQL_TEXT(s) ((struct sql_arg){.type = SQL_ARG_TEXT, .text = (s)})
#define SQL_INT(n) ((struct sql_arg){.type = SQL_ARG_INT, .num = (int64_t)(n)})
/* Expands to the two arguments `args, count` (sizeof does not evaluate). */
#define SQL_ARGS(...)                                                                              \
	(const struct sql_arg[]){__VA_ARGS__},                                                     \
	    sizeof((const struct sql_arg[]){__VA_ARGS__}) / sizeof(struct sql_arg)

/* Prepares sql and binds args[0..n) to ?1..?n.  On failure *stmt is NULL
 * and e says what failed (`what`). */
enum bb_rc sql_prepare_args(struct store *st, const char *sql, const struct sql_arg *args, size_t n,
			    sqlite3_stmt **stmt, const char *what, struct err *e);

/* Prepares, binds, runs to completion and finalizes a statement that
 * returns no rows.  sqlite3_changes() tells the rows it touched. */
enum bb_rc sql_run(struct store *st, const char *sql, const struct sql_arg *args, size_t n,
		   const char *what, struct err *e);

/* Runs a query of one integer: *out is its first column of its first row;
 * *found (may be NULL) says whether there was a row with a non-NULL value
 * (*out is left alone when not). */
enum bb_rc sql_int(struct store *st, const char *sql, const struct sql_arg *args, size_t n,
		   int64_t *out, bool *found, const char *what, struct err *e);

/* A function's own transaction.  sql_txn_begin starts one (BEGIN
 * IMMEDIATE) when the connection is in none, or a savepoint inside the
 * caller's transaction (store_begin) otherwise, so that the function's
 * writes are all or nothing either way.  sql_txn_end commits (or
 * releases) when rc is BB_OK and rolls back otherwise; it returns rc, or
 * the commit's error.  Safe to call when begin failed (t->open false). */
struct sql_txn {
	bool open;
	bool nested;
};
enum bb_rc sql_txn_begin(struct store *st, struct sql_txn *t, struct err *e);
enum bb_rc sql_txn_end(struct store *st, struct sql_txn *t, enum bb_rc rc, struct err *e);

/* Longest host[:port] a delivery keeps: a DNS name (253) and a port, or
 * a bracketed IPv6 literal (url.h's URL_HOST_KEY_MAX fits). */
#define HOST_MAX 262

/* The delivery inserter behind store_delivery_add, prepared once and run
 * per inbox (store_fanout runs it for every follower), so every delivery
 * row, and the hosts row it needs, is made by the same code.  Run it in a
 * transaction (sql_txn_begin); finalize it before that ends. */
struct queue_insert {
	sqlite3_stmt *host; /* INSERT OR IGNORE INTO hosts */
	sqlite3_stmt *row;  /* INSERT INTO deliveries ... DO NOTHING */
};
enum bb_rc queue_insert_prepare(struct store *st, struct queue_insert *qi, struct err *e);
void queue_insert_finalize(struct store *st, struct queue_insert *qi);

/* Queues activity for inbox, whose host key is host, as
 * store_delivery_add documents it (BB_ERR_INVALID or BB_ERR_LIMIT for an
 * empty or over-long host, BB_ERR_NOTFOUND for an unknown activity).
 * *added is false when the pair was already queued. */
enum bb_rc queue_insert_add(struct store *st, struct queue_insert *qi, int64_t activity,
			    const char *inbox, const char *host, time_t now, bool *added,
			    struct err *e);

/* The server of a follower: the host of its actor id, what follows
 * "://" up to the next '/'.  The followers_server index (the admin
 * migration) is on this very expression; a query uses the index only
 * when it repeats it exactly, so both take it from here. */
#define FOLLOWER_SERVER_SQL                                                                        \
	"(CASE WHEN instr(substr(actor, instr(actor, '://') + 3), '/') > 0"                        \
	" THEN substr(substr(actor, instr(actor, '://') + 3), 1,"                                  \
	" instr(substr(actor, instr(actor, '://') + 3), '/') - 1)"                                 \
	" ELSE substr(actor, instr(actor, '://') + 3) END)"

#endif
