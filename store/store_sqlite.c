/*
 * store_sqlite.c — the SQLite backend of store.h.
 *
 * Schema changes are a ladder of numbered steps: step N brings a database
 * from `PRAGMA user_version` N-1 to N.  Steps are only ever appended, never
 * edited, once released.  The whole climb runs in one BEGIN IMMEDIATE
 * transaction, so two processes opening a new database at once cannot both
 * migrate it, and a crash mid-climb leaves the old version intact.
 */
#include "store.h"
#include "fsutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct store {
	sqlite3 *db;
};

static const char *const migrations[] = {
	/* 1: the actor's birth date, and its followers. */
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL"
	") STRICT;"
	"INSERT INTO meta(key, value) VALUES ('actor_published', CAST(unixepoch() AS TEXT));"
	"CREATE TABLE followers ("
	"  actor TEXT PRIMARY KEY,"
	"  handle TEXT,"
	"  inbox TEXT NOT NULL,"
	"  shared_inbox TEXT,"
	"  follow_id TEXT NOT NULL,"
	"  since INTEGER NOT NULL"
	") STRICT;",
};

#define MIGRATION_COUNT ((int)(sizeof(migrations) / sizeof(migrations[0])))

int store_schema_latest(void)
{
	return MIGRATION_COUNT;
}

/* Maps a SQLite result to our error, with the operation named. */
static enum bb_rc db_fail(struct store *st, int src, const char *what, struct err *e)
{
	/* Extended result codes are on: compare the primary code. */
	int primary = src & 0xff;
	enum bb_rc code =
	    (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) ? BB_ERR_BUSY : BB_ERR_STORE;

	return err_set(e, code, "database: %s: %s", what, sqlite3_errmsg(st->db));
}

static enum bb_rc exec(struct store *st, const char *sql, const char *what, struct err *e)
{
	int src = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return src == SQLITE_OK ? BB_OK : db_fail(st, src, what, e);
}

static enum bb_rc prepare(struct store *st, const char *sql, sqlite3_stmt **stmt,
			  struct err *e)
{
	int src = sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL);

	return src == SQLITE_OK ? BB_OK : db_fail(st, src, "prepare", e);
}

static enum bb_rc user_version(struct store *st, int *out, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	rc = prepare(st, "PRAGMA user_version", &stmt, e);
	if (rc != BB_OK)
		goto out;
	src = sqlite3_step(stmt);
	if (src != SQLITE_ROW) {
		rc = db_fail(st, src, "read schema version", e);
		goto out;
	}
	*out = sqlite3_column_int(stmt, 0);
out:
	sqlite3_finalize(stmt);
	return rc;
}

static enum bb_rc migrate(struct store *st, struct err *e)
{
	enum bb_rc rc;
	int version = 0;
	char sql[64];

	rc = exec(st, "BEGIN IMMEDIATE", "begin migration", e);
	if (rc != BB_OK)
		return rc;
	rc = user_version(st, &version, e);
	if (rc != BB_OK)
		goto out;
	if (version > MIGRATION_COUNT) {
		rc = err_set(e, BB_ERR_STORE,
			     "database: schema version %d is newer than this program (%d); "
			     "upgrade blogbridge",
			     version, MIGRATION_COUNT);
		goto out;
	}
	for (int v = version; v < MIGRATION_COUNT; v++) {
		rc = exec(st, migrations[v], "migrate schema", e);
		if (rc != BB_OK)
			goto out;
	}
	if (version < MIGRATION_COUNT) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", MIGRATION_COUNT);
		rc = exec(st, sql, "set schema version", e);
		if (rc != BB_OK)
			goto out;
	}
	rc = exec(st, "COMMIT", "commit migration", e);
out:
	if (rc != BB_OK)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

enum bb_rc store_open(const char *database, struct store **out, struct err *e)
{
	struct store *st = NULL;
	enum bb_rc rc;
	int src;

	*out = NULL;
	if (strstr(database, "://") != NULL)
		return err_set(e, BB_ERR_CONFIG,
			       "database '%s': only SQLite files are supported in this version",
			       database);
	rc = fs_mkdir_parents(database, 0750, e);
	if (rc != BB_OK)
		return rc;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	src = sqlite3_open_v2(database, &st->db,
			      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			      NULL);
	if (src != SQLITE_OK) {
		rc = err_set(e, BB_ERR_STORE, "database %s: %s", database,
			     st->db ? sqlite3_errmsg(st->db) : "cannot open");
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 1);
	src = sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
	if (src != SQLITE_OK) {
		rc = db_fail(st, src, "busy timeout", e);
		goto out;
	}
	/* WAL lets readers (the HTTP threads, CLI commands) run while one
	 * writer commits.  Switching a new file to WAL needs an exclusive
	 * lock, and SQLite answers SQLITE_BUSY at once, without the busy
	 * handler, when another process is switching it too: retry within
	 * the busy timeout. */
	for (int waited = 0;; waited += 10) {
		src = sqlite3_exec(st->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
		if ((src & 0xff) != SQLITE_BUSY || waited >= STORE_BUSY_TIMEOUT_MS)
			break;
		sqlite3_sleep(10);
	}
	if (src != SQLITE_OK) {
		rc = db_fail(st, src, "configure", e);
		goto out;
	}
	/* synchronous=FULL makes each commit durable before we answer 202
	 * for it. */
	rc = exec(st,
		  "PRAGMA synchronous = FULL;"
		  "PRAGMA foreign_keys = ON;",
		  "configure", e);
	if (rc != BB_OK)
		goto out;
	rc = migrate(st, e);
	if (rc != BB_OK)
		goto out;
	*out = st;
	st = NULL;
out:
	store_close(st);
	return rc;
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	/* Fails only with unfinalized statements, which every function here
	 * finalizes on its way out. */
	sqlite3_close(st->db);
	free(st);
}

enum bb_rc store_schema_version(struct store *st, int *out, struct err *e)
{
	return user_version(st, out, e);
}

enum bb_rc store_check_integrity(struct store *st, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	rc = prepare(st, "PRAGMA integrity_check", &stmt, e);
	if (rc != BB_OK)
		goto out;
	src = sqlite3_step(stmt);
	if (src != SQLITE_ROW) {
		rc = db_fail(st, src, "integrity check", e);
		goto out;
	}
	if (strcmp((const char *)sqlite3_column_text(stmt, 0), "ok") != 0) {
		rc = err_set(e, BB_ERR_STORE, "database is damaged: %s",
			     (const char *)sqlite3_column_text(stmt, 0));
		goto out;
	}
out:
	sqlite3_finalize(stmt);
	return rc;
}

enum bb_rc store_actor_published(struct store *st, time_t *out, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	rc = prepare(st, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'actor_published'",
		     &stmt, e);
	if (rc != BB_OK)
		goto out;
	src = sqlite3_step(stmt);
	if (src == SQLITE_DONE) {
		rc = err_set(e, BB_ERR_NOTFOUND, "database: actor creation date missing");
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = db_fail(st, src, "read actor creation date", e);
		goto out;
	}
	*out = (time_t)sqlite3_column_int64(stmt, 0);
out:
	sqlite3_finalize(stmt);
	return rc;
}

void store_follower_clear(struct store_follower *f)
{
	free(f->actor);
	free(f->handle);
	free(f->inbox);
	free(f->shared_inbox);
	free(f->follow_id);
	memset(f, 0, sizeof(*f));
}

/* Binds a string, or NULL for a NULL pointer. */
static int bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
	return s ? sqlite3_bind_text(stmt, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(stmt, i);
}

enum bb_rc store_follower_put(struct store *st, const struct store_follower *f, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	rc = prepare(st,
		     "INSERT INTO followers(actor, handle, inbox, shared_inbox, follow_id, since)"
		     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		     " ON CONFLICT(actor) DO UPDATE SET handle = excluded.handle,"
		     " inbox = excluded.inbox, shared_inbox = excluded.shared_inbox,"
		     " follow_id = excluded.follow_id",
		     &stmt, e);
	if (rc != BB_OK)
		goto out;
	if (bind_text(stmt, 1, f->actor) != SQLITE_OK || bind_text(stmt, 2, f->handle) != SQLITE_OK ||
	    bind_text(stmt, 3, f->inbox) != SQLITE_OK ||
	    bind_text(stmt, 4, f->shared_inbox) != SQLITE_OK ||
	    bind_text(stmt, 5, f->follow_id) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 6, (sqlite3_int64)f->since) != SQLITE_OK) {
		rc = db_fail(st, SQLITE_ERROR, "bind follower", e);
		goto out;
	}
	src = sqlite3_step(stmt);
	if (src != SQLITE_DONE) {
		rc = db_fail(st, src, "store follower", e);
		goto out;
	}
out:
	sqlite3_finalize(stmt);
	return rc;
}

enum bb_rc store_follower_remove(struct store *st, const char *actor, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	rc = prepare(st, "DELETE FROM followers WHERE actor = ?1", &stmt, e);
	if (rc != BB_OK)
		goto out;
	if (bind_text(stmt, 1, actor) != SQLITE_OK) {
		rc = db_fail(st, SQLITE_ERROR, "bind follower", e);
		goto out;
	}
	src = sqlite3_step(stmt);
	if (src != SQLITE_DONE) {
		rc = db_fail(st, src, "remove follower", e);
		goto out;
	}
	if (sqlite3_changes(st->db) == 0)
		rc = err_set(e, BB_ERR_NOTFOUND, "%s is not a follower", actor);
out:
	sqlite3_finalize(stmt);
	return rc;
}

enum bb_rc store_follower_count(struct store *st, int64_t *out, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	rc = prepare(st, "SELECT count(*) FROM followers", &stmt, e);
	if (rc != BB_OK)
		goto out;
	src = sqlite3_step(stmt);
	if (src != SQLITE_ROW) {
		rc = db_fail(st, src, "count followers", e);
		goto out;
	}
	*out = sqlite3_column_int64(stmt, 0);
out:
	sqlite3_finalize(stmt);
	return rc;
}

/* Copies a nullable text column. Returns false when out of memory. */
static bool column_dup(sqlite3_stmt *stmt, int i, char **out)
{
	const unsigned char *s = sqlite3_column_text(stmt, i);

	*out = NULL;
	if (s == NULL)
		return sqlite3_errcode(sqlite3_db_handle(stmt)) != SQLITE_NOMEM;
	*out = strdup((const char *)s);
	return *out != NULL;
}

enum bb_rc store_follower_each(struct store *st, int64_t offset, int64_t limit,
			       store_follower_fn fn, void *arg, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	struct store_follower f = {0};
	enum bb_rc rc;
	int src;

	rc = prepare(st,
		     "SELECT actor, handle, inbox, shared_inbox, follow_id, since FROM followers"
		     " ORDER BY since, rowid LIMIT ?1 OFFSET ?2",
		     &stmt, e);
	if (rc != BB_OK)
		goto out;
	if (sqlite3_bind_int64(stmt, 1, limit) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 2, offset) != SQLITE_OK) {
		rc = db_fail(st, SQLITE_ERROR, "bind paging", e);
		goto out;
	}
	while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (!column_dup(stmt, 0, &f.actor) || !column_dup(stmt, 1, &f.handle) ||
		    !column_dup(stmt, 2, &f.inbox) || !column_dup(stmt, 3, &f.shared_inbox) ||
		    !column_dup(stmt, 4, &f.follow_id)) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		f.since = (time_t)sqlite3_column_int64(stmt, 5);
		if (fn(&f, arg) != 0) {
			rc = err_set(e, BB_ERR_INVALID, "follower walk stopped");
			goto out;
		}
		store_follower_clear(&f);
	}
	if (src != SQLITE_DONE)
		rc = db_fail(st, src, "list followers", e);
out:
	store_follower_clear(&f);
	sqlite3_finalize(stmt);
	return rc;
}
