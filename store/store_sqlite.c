/*
 * store_sqlite.c — the SQLite backend of store.h: opening, the schema
 * ladder, the followers, transactions, and the SQL helpers the other
 * backend files share (store_int.h).
 *
 * Schema changes are a ladder of numbered steps: step N brings a database
 * from `PRAGMA user_version` N-1 to N.  Steps are only ever appended, never
 * edited, once released.  The whole climb runs in one BEGIN IMMEDIATE
 * transaction, so two processes opening a new database at once cannot both
 * migrate it, and a crash mid-climb leaves the old version intact.
 */
#include "fsutil.h"
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
	/* 2: remote actors (cache), the replay log of incoming activities,
	 * outgoing activities and their delivery queue, per-host health; an
	 * index to find followers by inbox (a 410 Gone removes them).
	 * deliveries.state holds enum store_delivery_state (0 pending, 1 done,
	 * 2 failed).  Every deliveries.host has a hosts row (store_delivery_add
	 * makes it): the claim walks hosts and reads each one's due rows in
	 * deliveries_host_due order; rows in flight (leased, lease not yet
	 * cleared by an outcome) are few, and deliveries_leased holds just
	 * them.  A host's failure days are rows of host_failures (one
	 * per distinct UTC day, YYYYMMDD), so distinctness is the primary
	 * key's job and no list is parsed in C. */
	"CREATE TABLE actors ("
	"  id TEXT PRIMARY KEY,"
	"  inbox TEXT NOT NULL,"
	"  shared_inbox TEXT,"
	"  handle TEXT,"
	"  key_id TEXT NOT NULL UNIQUE,"
	"  public_key_pem TEXT NOT NULL,"
	"  fetched_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE seen ("
	"  id TEXT PRIMARY KEY,"
	"  received_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE INDEX seen_received ON seen(received_at);"
	"CREATE TABLE activities ("
	"  id INTEGER PRIMARY KEY,"
	"  ap_id TEXT NOT NULL UNIQUE,"
	"  json TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE deliveries ("
	"  id INTEGER PRIMARY KEY,"
	"  activity INTEGER NOT NULL REFERENCES activities(id),"
	"  inbox TEXT NOT NULL,"
	"  host TEXT NOT NULL,"
	"  state INTEGER NOT NULL DEFAULT 0,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt INTEGER NOT NULL,"
	"  lease_until INTEGER NOT NULL DEFAULT 0,"
	"  last_status INTEGER,"
	"  last_error TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  UNIQUE (activity, inbox)"
	") STRICT;"
	"CREATE INDEX deliveries_host_due ON deliveries(host, state, next_attempt);"
	"CREATE INDEX deliveries_leased ON deliveries(host, lease_until)"
	"  WHERE state = 0 AND lease_until > 0;"
	"CREATE TABLE hosts ("
	"  host TEXT PRIMARY KEY,"
	"  unavailable INTEGER NOT NULL DEFAULT 0,"
	"  scheme INTEGER,"
	"  last_success INTEGER,"
	"  last_failure INTEGER"
	") STRICT;"
	"CREATE TABLE host_failures ("
	"  host TEXT NOT NULL,"
	"  day INTEGER NOT NULL,"
	"  PRIMARY KEY (host, day)"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX followers_inbox ON followers(inbox);",
	/* 3: the blog's posts, one row per feed item (guid), with the object
	 * as last federated.  deleted is the time of deletion, 0 while live;
	 * a deleted row stays so its ap_id is never reused.  posts_published
	 * serves the newest-first walks (the outbox, the admin list),
	 * posts_url the lookup of a permalink. */
	"CREATE TABLE posts ("
	"  id INTEGER PRIMARY KEY,"
	"  guid TEXT NOT NULL UNIQUE,"
	"  ap_id TEXT NOT NULL UNIQUE,"
	"  url TEXT NOT NULL,"
	"  title TEXT NOT NULL,"
	"  hash TEXT NOT NULL,"
	"  object_json TEXT NOT NULL,"
	"  published INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL,"
	"  deleted INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE INDEX posts_published ON posts(published, id);"
	"CREATE INDEX posts_url ON posts(url);",
	/* 4: deliveries to one inbox go out in the order they were queued
	 * (a Create before its Update); the claim looks for an earlier
	 * pending row of the same inbox. */
	"CREATE INDEX deliveries_inbox ON deliveries(inbox, state, id);",
	/* 5: host keys as url_host_key writes them (common/url.h): no user
	 * info, no default port.  Before, the queue kept both, so
	 * "u@h.example:443" and "h.example" were two hosts for host health.
	 * A hosts or host_failures row whose new key exists already merges
	 * into it (the row under the canonical key wins). */
	"UPDATE deliveries SET host = substr(host, instr(host, '@') + 1)"
	"  WHERE instr(host, '@') > 0;"
	"UPDATE deliveries SET host = substr(host, 1, length(host) - 4)"
	"  WHERE host LIKE '%:443' AND inbox LIKE 'https:%';"
	"UPDATE deliveries SET host = substr(host, 1, length(host) - 3)"
	"  WHERE host LIKE '%:80' AND inbox LIKE 'http:%';"
	"CREATE TEMP TABLE host_rekey AS"
	"  SELECT host AS old, host AS new FROM hosts WHERE 0;"
	"INSERT INTO host_rekey SELECT host, substr(host, instr(host, '@') + 1) FROM"
	"  (SELECT host FROM hosts UNION SELECT host FROM host_failures)"
	"  WHERE instr(host, '@') > 0;"
	"INSERT INTO host_rekey SELECT host, host FROM"
	"  (SELECT host FROM hosts UNION SELECT host FROM host_failures)"
	"  WHERE instr(host, '@') = 0 AND (host LIKE '%:443' OR host LIKE '%:80');"
	"UPDATE host_rekey SET new = substr(new, 1, length(new) - 4) WHERE new LIKE '%:443';"
	"UPDATE host_rekey SET new = substr(new, 1, length(new) - 3) WHERE new LIKE '%:80';"
	"DELETE FROM host_rekey WHERE old = new;"
	"INSERT OR IGNORE INTO hosts(host, unavailable, scheme, last_success, last_failure)"
	"  SELECT r.new, h.unavailable, h.scheme, h.last_success, h.last_failure"
	"  FROM hosts h JOIN host_rekey r ON h.host = r.old;"
	"INSERT OR IGNORE INTO host_failures(host, day)"
	"  SELECT r.new, f.day FROM host_failures f JOIN host_rekey r ON f.host = r.old;"
	"DELETE FROM hosts WHERE host IN (SELECT old FROM host_rekey);"
	"DELETE FROM host_failures WHERE host IN (SELECT old FROM host_rekey);"
	"DROP TABLE host_rekey;",
	/* 6: replies to the posts as comments, reactions, mentions, and the
	 * authors' names and avatars in the actor cache.  comments.status
	 * holds enum store_comment_status (0 pending, 1 approved, 2 rejected,
	 * 3 private, 4 deleted); a row is never removed, so a replayed
	 * Create finds its id.  comments_post serves the per-post walks in
	 * their order, comments_author the `known` moderation check and an
	 * actor's Delete.  reactions.type holds enum store_reaction_type (0
	 * like, 1 boost, 2 quote): one like or boost per actor and post, one
	 * quote per quoting post, each a partial unique index.
	 * comments_versions counts changes per post (0 when no row). */
	"CREATE TABLE comments ("
	"  id INTEGER PRIMARY KEY,"
	"  ap_id TEXT NOT NULL UNIQUE,"
	"  post INTEGER NOT NULL REFERENCES posts(id),"
	"  parent TEXT,"
	"  author TEXT NOT NULL,"
	"  url TEXT,"
	"  content TEXT NOT NULL,"
	"  status INTEGER NOT NULL,"
	"  edited INTEGER NOT NULL DEFAULT 0,"
	"  published INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL,"
	"  received INTEGER NOT NULL"
	") STRICT;"
	"CREATE INDEX comments_post ON comments(post, published, id);"
	"CREATE INDEX comments_author ON comments(author, status);"
	"CREATE TABLE comments_versions ("
	"  post INTEGER PRIMARY KEY REFERENCES posts(id),"
	"  version INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE reactions ("
	"  id INTEGER PRIMARY KEY,"
	"  post INTEGER NOT NULL REFERENCES posts(id),"
	"  type INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  activity_id TEXT NOT NULL,"
	"  published INTEGER NOT NULL"
	") STRICT;"
	"CREATE UNIQUE INDEX reactions_one ON reactions(post, type, actor) WHERE type <> 2;"
	"CREATE UNIQUE INDEX reactions_quote ON reactions(post, activity_id) WHERE type = 2;"
	"CREATE INDEX reactions_activity ON reactions(activity_id);"
	"CREATE INDEX reactions_actor ON reactions(actor);"
	"CREATE TABLE mentions ("
	"  id INTEGER PRIMARY KEY,"
	"  ap_id TEXT NOT NULL UNIQUE,"
	"  author TEXT NOT NULL,"
	"  content TEXT NOT NULL,"
	"  published INTEGER NOT NULL,"
	"  received INTEGER NOT NULL"
	") STRICT;"
	"CREATE INDEX mentions_received ON mentions(received, id);"
	"ALTER TABLE actors ADD COLUMN name TEXT;"
	"ALTER TABLE actors ADD COLUMN avatar TEXT;"
	"ALTER TABLE actors ADD COLUMN url TEXT;",
	/* 7: who holds a lease.  An owner is one incarnation of a worker (a
	 * random id per process start) that heartbeats while it lives; the
	 * leases of an owner whose heartbeat has stopped are released
	 * (store_owners_reap, store_owner_release) instead of waiting for
	 * them to run out.  lease_owner means something only while
	 * lease_until > 0. */
	"CREATE TABLE owners ("
	"  id TEXT PRIMARY KEY,"
	"  pid INTEGER NOT NULL,"
	"  hostname TEXT NOT NULL,"
	"  heartbeat INTEGER NOT NULL"
	") STRICT;"
	"ALTER TABLE deliveries ADD COLUMN lease_owner TEXT;",
	/* 8: sessions of the admin pages (by the hash of their id, never
	 * the id) and the block list kept in the store (kind 0 a domain, 1 an
	 * actor id).  IF NOT EXISTS: a file rebuilt to an older version by
	 * taking later steps back (the migration tests do) may keep them. */
	"CREATE TABLE IF NOT EXISTS admin_sessions ("
	"  id_hash TEXT PRIMARY KEY,"
	"  csrf TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE IF NOT EXISTS blocks ("
	"  value TEXT PRIMARY KEY,"
	"  kind INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL"
	") STRICT;"
	/* The followers page: newest first, by handle, by server (and the
	 * search by a handle's or a server's beginning) each walk an index,
	 * so a page costs its rows, not the followers (bench/admin). */
	"CREATE INDEX IF NOT EXISTS followers_since ON followers(since);"
	"CREATE INDEX IF NOT EXISTS followers_handle ON followers(lower(handle));"
	"CREATE INDEX IF NOT EXISTS followers_server ON followers(" FOLLOWER_SERVER_SQL
	", lower(handle));",
	/* 9: since when each host has been failing without a success between
	 * (the deliveries page's "failing since"): a row from its first
	 * failure after a success, removed by the next success.  For hosts
	 * already failing it is estimated from their earliest failure day
	 * (its midnight UTC, not before their last success), else their
	 * last failure. */
	"CREATE TABLE IF NOT EXISTS host_outages ("
	"  host TEXT PRIMARY KEY,"
	"  since INTEGER NOT NULL"
	") STRICT, WITHOUT ROWID;"
	"INSERT OR IGNORE INTO host_outages(host, since)"
	"  SELECT h.host, max(coalesce(h.last_success, 0), coalesce("
	"    (SELECT CASE WHEN min(f.day) IS NULL THEN NULL ELSE"
	"       CAST(strftime('%s', printf('%04d-%02d-%02d', min(f.day) / 10000,"
	"       min(f.day) / 100 % 100, min(f.day) % 100)) AS INTEGER) END"
	"     FROM host_failures f WHERE f.host = h.host),"
	"    h.last_failure))"
	"  FROM hosts h WHERE h.last_failure IS NOT NULL"
	"   AND (h.unavailable <> 0 OR EXISTS (SELECT 1 FROM host_failures f WHERE f.host = h.host));",
	/* 10: what the admin is told of (store_notify_*): a new follower
	 * (kind 0) or a comment waiting for moderation (kind 1), written in
	 * the transaction that stored it.  json is the webhook's body, as
	 * sent.  mail and hook hold enum store_notify_state per channel (0
	 * waiting, 1 sent, 2 not to be sent); hook_next is when a waiting
	 * POST is tried next.  The partial indexes keep each channel's queue
	 * to the rows still waiting. */
	"CREATE TABLE IF NOT EXISTS notify_events ("
	"  id INTEGER PRIMARY KEY,"
	"  kind INTEGER NOT NULL,"
	"  json TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  mail INTEGER NOT NULL,"
	"  hook INTEGER NOT NULL,"
	"  hook_attempts INTEGER NOT NULL DEFAULT 0,"
	"  hook_next INTEGER NOT NULL DEFAULT 0,"
	"  hook_error TEXT"
	") STRICT;"
	"CREATE INDEX IF NOT EXISTS notify_mail_waiting ON notify_events(id) WHERE mail = 0;"
	"CREATE INDEX IF NOT EXISTS notify_hook_waiting ON notify_events(hook_next, id)"
	" WHERE hook = 0;",
	/* 11: the reply backfill's record (store_backfill.c): kind holds enum
	 * store_backfill_kind (0 replies, 1 context, 2 a comment's object, 3
	 * an item).  backfill_due serves the walk of due rows in its order,
	 * backfill_owner the search for comments without a row. */
	"CREATE TABLE IF NOT EXISTS backfill ("
	"  url TEXT PRIMARY KEY,"
	"  kind INTEGER NOT NULL,"
	"  owner TEXT NOT NULL,"
	"  post INTEGER NOT NULL REFERENCES posts(id),"
	"  depth INTEGER NOT NULL,"
	"  fetched_at INTEGER NOT NULL,"
	"  failures INTEGER NOT NULL DEFAULT 0"
	") STRICT;"
	"CREATE INDEX IF NOT EXISTS backfill_due ON backfill(fetched_at);"
	"CREATE INDEX IF NOT EXISTS backfill_owner ON backfill(owner);",
};

#define MIGRATION_COUNT ((int)(sizeof(migrations) / sizeof(migrations[0])))

int store_schema_latest(void)
{
	return MIGRATION_COUNT;
}

/* ---- helpers shared by the backend's files (contracts in store_int.h) ---- */

enum bb_rc sql_fail(struct store *st, int src, const char *what, struct err *e)
{
	/* Extended result codes are on: compare the primary code.  A full
	 * disk or a failing write is worth retrying once space returns (see
	 * store.h); SQLite has undone the statement or the transaction. */
	int primary = src & 0xff;
	enum bb_rc code = BB_ERR_STORE;

	if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
		code = BB_ERR_BUSY;
	else if (primary == SQLITE_FULL || primary == SQLITE_IOERR)
		code = BB_ERR_TEMPFAIL;

	return err_set(e, code, "database: %s: %s", what, sqlite3_errmsg(st->db));
}

enum bb_rc sql_exec(struct store *st, const char *sql, const char *what, struct err *e)
{
	int src = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return src == SQLITE_OK ? BB_OK : sql_fail(st, src, what, e);
}

enum bb_rc sql_prepare(struct store *st, const char *sql, sqlite3_stmt **stmt, struct err *e)
{
	struct stmt_slot *free_slot = NULL;
	int src;

	/* Keyed by the literal's address, and checked against the text, so
	 * SQL built at run time in a reused buffer is never confused. */
	for (size_t i = 0; i < STMT_CACHE_SIZE; i++) {
		struct stmt_slot *c = &st->cache[i];
		if (c->sql == NULL) {
			if (free_slot == NULL)
				free_slot = c;
			continue;
		}
		if (c->sql == sql && !c->busy && strcmp(sqlite3_sql(c->stmt), sql) == 0) {
			c->busy = true;
			*stmt = c->stmt;
			return BB_OK;
		}
	}
	src = sqlite3_prepare_v3(st->db, sql, -1, free_slot ? SQLITE_PREPARE_PERSISTENT : 0, stmt,
				 NULL);
	if (src != SQLITE_OK)
		return sql_fail(st, src, "prepare", e);
	if (free_slot) {
		free_slot->sql = sql;
		free_slot->stmt = *stmt;
		free_slot->busy = true;
	}
	return BB_OK;
}

void sql_release(struct store *st, sqlite3_stmt *stmt)
{
	if (stmt == NULL)
		return;
	for (size_t i = 0; i < STMT_CACHE_SIZE; i++) {
		struct stmt_slot *c = &st->cache[i];
		if (c->stmt == stmt && c->busy) {
			/* reset reports the last step's error, already handled */
			(void)sqlite3_reset(stmt);
			(void)sqlite3_clear_bindings(stmt);
			c->busy = false;
			return;
		}
	}
	sqlite3_finalize(stmt);
}

enum bb_rc sql_step_once(struct store *st, const char *sql, const char *what, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc = sql_prepare(st, sql, &stmt, e);
	int src;

	if (rc != BB_OK)
		return rc;
	src = sqlite3_step(stmt);
	if (src != SQLITE_DONE && src != SQLITE_ROW)
		rc = sql_fail(st, src, what, e);
	sql_release(st, stmt);
	return rc;
}

int sql_bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
	return s ? sqlite3_bind_text(stmt, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(stmt, i);
}

bool sql_column_dup(sqlite3_stmt *stmt, int i, char **out)
{
	const unsigned char *s = sqlite3_column_text(stmt, i);

	*out = NULL;
	if (s == NULL)
		return sqlite3_errcode(sqlite3_db_handle(stmt)) != SQLITE_NOMEM;
	*out = strdup((const char *)s);
	return *out != NULL;
}

enum bb_rc sql_prepare_args(struct store *st, const char *sql, const struct sql_arg *args, size_t n,
			    sqlite3_stmt **stmt, const char *what, struct err *e)
{
	enum bb_rc rc;
	int src = SQLITE_OK;

	rc = sql_prepare(st, sql, stmt, e);
	if (rc != BB_OK)
		return rc;
	for (size_t i = 0; i < n && src == SQLITE_OK; i++) {
		int pos = (int)i + 1;

		if (args[i].type == SQL_ARG_TEXT)
			src = sql_bind_text(*stmt, pos, args[i].text);
		else
			src = sqlite3_bind_int64(*stmt, pos, (sqlite3_int64)args[i].num);
	}
	if (src != SQLITE_OK) {
		rc = sql_fail(st, src, what, e);
		sql_release(st, *stmt);
		*stmt = NULL;
	}
	return rc;
}

enum bb_rc sql_run(struct store *st, const char *sql, const struct sql_arg *args, size_t n,
		   const char *what, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	rc = sql_prepare_args(st, sql, args, n, &stmt, what, e);
	if (rc != BB_OK)
		goto out;
	src = sqlite3_step(stmt);
	if (src != SQLITE_DONE)
		rc = sql_fail(st, src, what, e);
out:
	sql_release(st, stmt);
	return rc;
}

enum bb_rc sql_int(struct store *st, const char *sql, const struct sql_arg *args, size_t n,
		   int64_t *out, bool *found, const char *what, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	if (found != NULL)
		*found = false;
	rc = sql_prepare_args(st, sql, args, n, &stmt, what, e);
	if (rc != BB_OK)
		goto out;
	src = sqlite3_step(stmt);
	if (src == SQLITE_DONE)
		goto out;
	if (src != SQLITE_ROW) {
		rc = sql_fail(st, src, what, e);
		goto out;
	}
	if (sqlite3_column_type(stmt, 0) == SQLITE_NULL)
		goto out;
	*out = sqlite3_column_int64(stmt, 0);
	if (found != NULL)
		*found = true;
out:
	sql_release(st, stmt);
	return rc;
}

static enum bb_rc user_version(struct store *st, int *out, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	rc = sql_prepare(st, "PRAGMA user_version", &stmt, e);
	if (rc != BB_OK)
		goto out;
	src = sqlite3_step(stmt);
	if (src != SQLITE_ROW) {
		rc = sql_fail(st, src, "read schema version", e);
		goto out;
	}
	*out = sqlite3_column_int(stmt, 0);
out:
	sql_release(st, stmt);
	return rc;
}

static enum bb_rc migrate(struct store *st, struct err *e)
{
	enum bb_rc rc;
	int version = 0;
	char sql[64];

	/* Every connection opens here (one per HTTP connection thread): when
	 * the schema is current, a read settles it without the write lock. */
	rc = user_version(st, &version, e);
	if (rc != BB_OK)
		return rc;
	if (version == MIGRATION_COUNT)
		return BB_OK;
	rc = sql_exec(st, "BEGIN IMMEDIATE", "begin migration", e);
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
		rc = sql_exec(st, migrations[v], "migrate schema", e);
		if (rc != BB_OK)
			goto out;
	}
	if (version < MIGRATION_COUNT) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", MIGRATION_COUNT);
		rc = sql_exec(st, sql, "set schema version", e);
		if (rc != BB_OK)
			goto out;
	}
	rc = sql_exec(st, "COMMIT", "commit migration", e);
out:
	if (rc != BB_OK)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static long long monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Waits for a lock another connection holds, up to STORE_BUSY_TIMEOUT_MS.
 * SQLite's own busy_timeout sleeps 1, 2, 5, 10... ms, which turns every
 * brief overlap between the inbox's writer and the delivery worker into
 * milliseconds of stall; locks here are held for well under a
 * millisecond, so poll finely first, then back off. */
static int busy_wait(void *arg, int count)
{
	struct store *st = arg;
	long long now = monotonic_us();

	if (count == 0)
		st->busy_since_us = now;
	if (now - st->busy_since_us >= (long long)STORE_BUSY_TIMEOUT_MS * 1000)
		return 0;
	usleep(count < 20 ? 50 : count < 200 ? 250 : 2000);
	return 1;
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
	src = sqlite3_busy_handler(st->db, busy_wait, st);
	if (src != SQLITE_OK) {
		rc = sql_fail(st, src, "busy timeout", e);
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
		rc = sql_fail(st, src, "configure", e);
		goto out;
	}
	/* synchronous=FULL makes each commit durable before we answer 202
	 * for it. */
	rc = sql_exec(st,
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
	for (size_t i = 0; i < STMT_CACHE_SIZE; i++)
		sqlite3_finalize(st->cache[i].stmt);
	/* Fails only with unfinalized statements, which every function here
	 * releases on its way out. */
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

	rc = sql_prepare(st, "PRAGMA integrity_check", &stmt, e);
	if (rc != BB_OK)
		goto out;
	src = sqlite3_step(stmt);
	if (src != SQLITE_ROW) {
		rc = sql_fail(st, src, "integrity check", e);
		goto out;
	}
	if (strcmp((const char *)sqlite3_column_text(stmt, 0), "ok") != 0) {
		rc = err_set(e, BB_ERR_STORE, "database is damaged: %s",
			     (const char *)sqlite3_column_text(stmt, 0));
		goto out;
	}
out:
	sql_release(st, stmt);
	return rc;
}

enum bb_rc store_actor_published(struct store *st, time_t *out, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	rc = sql_prepare(st, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'actor_published'",
		     &stmt, e);
	if (rc != BB_OK)
		goto out;
	src = sqlite3_step(stmt);
	if (src == SQLITE_DONE) {
		rc = err_set(e, BB_ERR_NOTFOUND, "database: actor creation date missing");
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = sql_fail(st, src, "read actor creation date", e);
		goto out;
	}
	*out = (time_t)sqlite3_column_int64(stmt, 0);
out:
	sql_release(st, stmt);
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

enum bb_rc store_follower_put(struct store *st, const struct store_follower *f, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	rc = sql_prepare(st,
		     "INSERT INTO followers(actor, handle, inbox, shared_inbox, follow_id, since)"
		     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		     " ON CONFLICT(actor) DO UPDATE SET handle = excluded.handle,"
		     " inbox = excluded.inbox, shared_inbox = excluded.shared_inbox,"
		     " follow_id = excluded.follow_id",
		     &stmt, e);
	if (rc != BB_OK)
		goto out;
	if (sql_bind_text(stmt, 1, f->actor) != SQLITE_OK ||
	    sql_bind_text(stmt, 2, f->handle) != SQLITE_OK ||
	    sql_bind_text(stmt, 3, f->inbox) != SQLITE_OK ||
	    sql_bind_text(stmt, 4, f->shared_inbox) != SQLITE_OK ||
	    sql_bind_text(stmt, 5, f->follow_id) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 6, (sqlite3_int64)f->since) != SQLITE_OK) {
		rc = sql_fail(st, SQLITE_ERROR, "bind follower", e);
		goto out;
	}
	src = sqlite3_step(stmt);
	if (src != SQLITE_DONE) {
		rc = sql_fail(st, src, "store follower", e);
		goto out;
	}
out:
	sql_release(st, stmt);
	return rc;
}

enum bb_rc store_follower_remove(struct store *st, const char *actor, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	rc = sql_prepare(st, "DELETE FROM followers WHERE actor = ?1", &stmt, e);
	if (rc != BB_OK)
		goto out;
	if (sql_bind_text(stmt, 1, actor) != SQLITE_OK) {
		rc = sql_fail(st, SQLITE_ERROR, "bind follower", e);
		goto out;
	}
	src = sqlite3_step(stmt);
	if (src != SQLITE_DONE) {
		rc = sql_fail(st, src, "remove follower", e);
		goto out;
	}
	if (sqlite3_changes(st->db) == 0)
		rc = err_set(e, BB_ERR_NOTFOUND, "%s is not a follower", actor);
out:
	sql_release(st, stmt);
	return rc;
}

enum bb_rc store_follower_count(struct store *st, int64_t *out, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	rc = sql_prepare(st, "SELECT count(*) FROM followers", &stmt, e);
	if (rc != BB_OK)
		goto out;
	src = sqlite3_step(stmt);
	if (src != SQLITE_ROW) {
		rc = sql_fail(st, src, "count followers", e);
		goto out;
	}
	*out = sqlite3_column_int64(stmt, 0);
out:
	sql_release(st, stmt);
	return rc;
}

/* Fills f (empty on entry) from a row of FOLLOWER_COLUMNS; false when out
 * of memory (f then holds what was copied, for the caller to clear). */
static bool follower_read(sqlite3_stmt *stmt, struct store_follower *f)
{
	if (!sql_column_dup(stmt, 0, &f->actor) || !sql_column_dup(stmt, 1, &f->handle) ||
	    !sql_column_dup(stmt, 2, &f->inbox) || !sql_column_dup(stmt, 3, &f->shared_inbox) ||
	    !sql_column_dup(stmt, 4, &f->follow_id))
		return false;
	f->since = (time_t)sqlite3_column_int64(stmt, 5);
	return true;
}

#define FOLLOWER_COLUMNS "actor, handle, inbox, shared_inbox, follow_id, since"

enum bb_rc store_follower_each(struct store *st, int64_t offset, int64_t limit,
			       store_follower_fn fn, void *arg, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	struct store_follower f = {0};
	enum bb_rc rc;
	int src;

	rc = sql_prepare(st,
			 "SELECT " FOLLOWER_COLUMNS " FROM followers"
			 " ORDER BY since, rowid LIMIT ?1 OFFSET ?2",
			 &stmt, e);
	if (rc != BB_OK)
		goto out;
	if (sqlite3_bind_int64(stmt, 1, limit) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 2, offset) != SQLITE_OK) {
		rc = sql_fail(st, SQLITE_ERROR, "bind paging", e);
		goto out;
	}
	while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (!follower_read(stmt, &f)) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		rc = fn(&f, arg, e);
		if (rc != BB_OK)
			goto out;
		store_follower_clear(&f);
	}
	if (src != SQLITE_DONE)
		rc = sql_fail(st, src, "list followers", e);
out:
	store_follower_clear(&f);
	sql_release(st, stmt);
	return rc;
}

enum bb_rc store_follower_get(struct store *st, const char *actor, struct store_follower *out,
			      struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	memset(out, 0, sizeof(*out));
	rc = sql_prepare_args(st, "SELECT " FOLLOWER_COLUMNS " FROM followers WHERE actor = ?1",
			      SQL_ARGS(SQL_TEXT(actor)), &stmt, "read follower", e);
	if (rc != BB_OK)
		goto out;
	src = sqlite3_step(stmt);
	if (src == SQLITE_DONE) {
		rc = err_set(e, BB_ERR_NOTFOUND, "%s is not a follower", actor);
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = sql_fail(st, src, "read follower", e);
		goto out;
	}
	if (!follower_read(stmt, out))
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
out:
	if (rc != BB_OK)
		store_follower_clear(out);
	sql_release(st, stmt);
	return rc;
}

enum bb_rc store_follower_remove_follow(struct store *st, const char *actor, const char *follow_id,
					struct err *e)
{
	enum bb_rc rc;

	rc = sql_run(st, "DELETE FROM followers WHERE actor = ?1 AND follow_id = ?2",
		     SQL_ARGS(SQL_TEXT(actor), SQL_TEXT(follow_id)), "remove follower", e);
	if (rc == BB_OK && sqlite3_changes(st->db) == 0)
		rc = err_set(e, BB_ERR_NOTFOUND, "%s is not a follower by %s", actor, follow_id);
	return rc;
}

enum bb_rc store_follower_remove_by_inbox(struct store *st, const char *inbox, int64_t *removed,
					  struct err *e)
{
	enum bb_rc rc;

	/* One statement: all of them go, or none. */
	*removed = 0;
	rc = sql_run(st, "DELETE FROM followers WHERE inbox = ?1", SQL_ARGS(SQL_TEXT(inbox)),
		     "remove followers by inbox", e);
	if (rc == BB_OK)
		*removed = sqlite3_changes(st->db);
	return rc;
}

/* ---- transactions ------------------------------------------------------
 * The caller's savepoint and a function's own nested one have different
 * names, so a function joining a job's savepoint never releases it. */

#define JOB_SAVEPOINT "store_job"
#define OWN_SAVEPOINT "store_own"

enum bb_rc store_begin(struct store *st, struct err *e)
{
	return sql_step_once(st, "BEGIN IMMEDIATE", "begin transaction", e);
}

enum bb_rc store_commit(struct store *st, struct err *e)
{
	return sql_step_once(st, "COMMIT", "commit", e);
}

void store_rollback(struct store *st)
{
	/* Fails only when no transaction is open (or SQLite already rolled
	 * it back after an I/O error): either way nothing is left to undo. */
	struct err ignored = {0};

	(void)sql_step_once(st, "ROLLBACK", "rollback", &ignored);
}

enum bb_rc store_read_begin(struct store *st, struct err *e)
{
	if (!sqlite3_get_autocommit(st->db))
		return err_set(e, BB_ERR_INVALID, "database: a read snapshot inside a transaction");
	return sql_step_once(st, "BEGIN DEFERRED", "begin reading", e);
}

void store_read_end(struct store *st)
{
	/* Nothing was written: ending it cannot lose anything. */
	if (!sqlite3_get_autocommit(st->db))
		store_rollback(st);
}

enum bb_rc store_savepoint(struct store *st, struct err *e)
{
	/* Outside a transaction SAVEPOINT would open a deferred one, which
	 * could later fail for a lock upgrade and which RELEASE would
	 * commit: a job belongs inside store_begin. */
	if (sqlite3_get_autocommit(st->db))
		return err_set(e, BB_ERR_INVALID, "database: savepoint outside a transaction");
	return sql_step_once(st, "SAVEPOINT " JOB_SAVEPOINT, "savepoint", e);
}

enum bb_rc store_savepoint_release(struct store *st, struct err *e)
{
	return sql_step_once(st, "RELEASE " JOB_SAVEPOINT, "release savepoint", e);
}

void store_savepoint_rollback(struct store *st)
{
	/* ROLLBACK TO keeps the savepoint open; RELEASE closes it, leaving
	 * the enclosing transaction as it was before store_savepoint.  Errors
	 * mean there was no such savepoint: nothing to undo. */
	(void)sqlite3_exec(st->db, "ROLLBACK TO " JOB_SAVEPOINT "; RELEASE " JOB_SAVEPOINT, NULL,
			   NULL, NULL);
}

enum bb_rc sql_txn_begin(struct store *st, struct sql_txn *t, struct err *e)
{
	enum bb_rc rc;

	t->open = false;
	t->nested = !sqlite3_get_autocommit(st->db);
	if (t->nested)
		rc = sql_exec(st, "SAVEPOINT " OWN_SAVEPOINT, "savepoint", e);
	else
		rc = sql_exec(st, "BEGIN IMMEDIATE", "begin transaction", e);
	t->open = rc == BB_OK;
	return rc;
}

enum bb_rc sql_txn_end(struct store *st, struct sql_txn *t, enum bb_rc rc, struct err *e)
{
	if (!t->open)
		return rc;
	t->open = false;
	if (rc == BB_OK) {
		rc = sql_exec(st, t->nested ? "RELEASE " OWN_SAVEPOINT : "COMMIT", "commit", e);
		if (rc == BB_OK)
			return rc;
	}
	/* Errors ignored: when SQLite has already rolled the transaction
	 * back (I/O error, full disk) there is nothing left to undo. */
	if (t->nested)
		(void)sqlite3_exec(st->db, "ROLLBACK TO " OWN_SAVEPOINT "; RELEASE " OWN_SAVEPOINT,
				   NULL, NULL, NULL);
	else
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* PRAGMA data_version: a per-connection number that changes when another
 * connection commits.  The token is it plus one, so that it is never
 * STORE_CHANGES_START (0). */
enum bb_rc store_changes_since(struct store *st, uint64_t *token, bool *changed, struct err *e)
{
	int64_t v = 0;
	uint64_t mark;
	enum bb_rc rc;

	*changed = false;
	rc = sql_int(st, "PRAGMA data_version", NULL, 0, &v, NULL, "read data version", e);
	if (rc != BB_OK)
		return rc;
	if (v < 0 || v == INT64_MAX)
		return err_set(e, BB_ERR_STORE, "data version %lld out of range", (long long)v);
	mark = (uint64_t)v + 1;
	*changed = *token != STORE_CHANGES_START && *token != mark;
	*token = mark;
	return BB_OK;
}
