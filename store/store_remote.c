/*
 * store_remote.c — what the SQLite backend keeps about the rest of the
 * fediverse: remote actors and their keys (a cache, refetched when stale),
 * the ids of incoming activities already applied (replays are no-ops),
 * and per-host delivery health.
 *
 * Host health follows Mastodon's DeliveryFailureTracker (MASTODON.md §8):
 * each failed attempt records its UTC day; a host with failures on
 * STORE_HOST_FAILURE_DAYS distinct days is unavailable, and any success
 * clears both the days and the mark.  Host names are compared in lower
 * case, as store_delivery_add writes them.
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- remote actors ---------------------------------------------------- */

void store_actor_clear(struct store_actor *a)
{
	free(a->id);
	free(a->inbox);
	free(a->shared_inbox);
	free(a->handle);
	free(a->key_id);
	free(a->public_key_pem);
	free(a->name);
	free(a->avatar);
	free(a->url);
	memset(a, 0, sizeof(*a));
}

enum bb_rc store_actor_put(struct store *st, const struct store_actor *a, struct err *e)
{
	struct sql_txn t = {0};
	enum bb_rc rc;

	if (a->id == NULL || a->inbox == NULL || a->key_id == NULL || a->public_key_pem == NULL) {
		rc = err_set(e, BB_ERR_INVALID, "actor %s: id, inbox, key id and key are required",
			     a->id ? a->id : "(no id)");
		goto out;
	}
	rc = sql_txn_begin(st, &t, e);
	if (rc != BB_OK)
		goto out;
	/* The key now belongs to this actor: whichever other actor had it
	 * (an account moved, a key reused) is forgotten, to be refetched. */
	rc = sql_run(st, "DELETE FROM actors WHERE key_id = ?1 AND id <> ?2",
		     SQL_ARGS(SQL_TEXT(a->key_id), SQL_TEXT(a->id)), "replace actor key", e);
	if (rc != BB_OK)
		goto out;
	/* What a comment shows of its author changed: the renderings of
	 * the posts it commented on are stale (store_post_comments_version). */
	rc = sql_run(st,
		     "INSERT INTO comments_versions(post, version)"
		     " SELECT DISTINCT post, 1 FROM comments WHERE author = ?1"
		     " AND NOT EXISTS (SELECT 1 FROM actors WHERE id = ?1 AND handle IS ?2"
		     " AND name IS ?3 AND avatar IS ?4 AND url IS ?5)"
		     " ON CONFLICT(post) DO UPDATE SET version = version + 1",
		     SQL_ARGS(SQL_TEXT(a->id), SQL_TEXT(a->handle), SQL_TEXT(a->name),
			      SQL_TEXT(a->avatar), SQL_TEXT(a->url)),
		     "note author change", e);
	if (rc != BB_OK)
		goto out;
	rc = sql_run(st,
		     "INSERT INTO actors(id, inbox, shared_inbox, handle, key_id, public_key_pem,"
		     " name, avatar, url, fetched_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
		     " ON CONFLICT(id) DO UPDATE SET inbox = excluded.inbox,"
		     " shared_inbox = excluded.shared_inbox, handle = excluded.handle,"
		     " key_id = excluded.key_id, public_key_pem = excluded.public_key_pem,"
		     " name = excluded.name, avatar = excluded.avatar, url = excluded.url,"
		     " fetched_at = excluded.fetched_at",
		     SQL_ARGS(SQL_TEXT(a->id), SQL_TEXT(a->inbox), SQL_TEXT(a->shared_inbox),
			      SQL_TEXT(a->handle), SQL_TEXT(a->key_id), SQL_TEXT(a->public_key_pem),
			      SQL_TEXT(a->name), SQL_TEXT(a->avatar), SQL_TEXT(a->url),
			      SQL_INT(a->fetched_at)),
		     "store actor", e);
out:
	return sql_txn_end(st, &t, rc, e);
}

/* The one-row query behind store_actor_get and store_actor_by_key: fills
 * *out (zeroed first; left empty on error) from the row sql's ?1 = value
 * selects. */
static enum bb_rc actor_read(struct store *st, const char *sql, const char *value,
			     struct store_actor *out, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	memset(out, 0, sizeof(*out));
	rc = sql_prepare_args(st, sql, SQL_ARGS(SQL_TEXT(value)), &stmt, "read actor", e);
	if (rc != BB_OK)
		goto out;
	src = sqlite3_step(stmt);
	if (src == SQLITE_DONE) {
		rc = err_set(e, BB_ERR_NOTFOUND, "actor %s is not cached", value);
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = sql_fail(st, src, "read actor", e);
		goto out;
	}
	if (!sql_column_dup(stmt, 0, &out->id) || !sql_column_dup(stmt, 1, &out->inbox) ||
	    !sql_column_dup(stmt, 2, &out->shared_inbox) ||
	    !sql_column_dup(stmt, 3, &out->handle) || !sql_column_dup(stmt, 4, &out->key_id) ||
	    !sql_column_dup(stmt, 5, &out->public_key_pem) ||
	    !sql_column_dup(stmt, 7, &out->name) || !sql_column_dup(stmt, 8, &out->avatar) ||
	    !sql_column_dup(stmt, 9, &out->url)) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	out->fetched_at = (time_t)sqlite3_column_int64(stmt, 6);
out:
	if (rc != BB_OK)
		store_actor_clear(out);
	sql_release(st, stmt);
	return rc;
}

#define ACTOR_COLUMNS                                                                              \
	"id, inbox, shared_inbox, handle, key_id, public_key_pem, fetched_at, name, avatar, url"

enum bb_rc store_actor_get(struct store *st, const char *id, struct store_actor *out, struct err *e)
{
	return actor_read(st, "SELECT " ACTOR_COLUMNS " FROM actors WHERE id = ?1", id, out, e);
}

enum bb_rc store_actor_by_key(struct store *st, const char *key_id, struct store_actor *out,
			      struct err *e)
{
	return actor_read(st, "SELECT " ACTOR_COLUMNS " FROM actors WHERE key_id = ?1", key_id, out,
			  e);
}

/* ---- incoming activities already applied ------------------------------ */

enum bb_rc store_seen_add(struct store *st, const char *activity_id, time_t now, bool *is_new,
			  struct err *e)
{
	enum bb_rc rc;

	*is_new = false;
	rc = sql_run(st, "INSERT OR IGNORE INTO seen(id, received_at) VALUES (?1, ?2)",
		     SQL_ARGS(SQL_TEXT(activity_id), SQL_INT(now)), "record activity id", e);
	if (rc == BB_OK)
		*is_new = sqlite3_changes(st->db) > 0;
	return rc;
}

/* ---- remote hosts ----------------------------------------------------- */

enum bb_rc store_host_troubled(struct store *st, const char *host, bool *troubled,
				struct err *e)
{
	int64_t n = 0;
	enum bb_rc rc;

	rc = sql_int(st,
		     "SELECT count(*) FROM hosts h WHERE h.host = lower(?1) AND (h.unavailable = 1"
		     " OR EXISTS (SELECT 1 FROM host_failures f WHERE f.host = h.host)"
		     " OR EXISTS (SELECT 1 FROM host_outages o WHERE o.host = h.host))",
		     SQL_ARGS(SQL_TEXT(host)), &n, NULL, "read host health", e);
	*troubled = rc == BB_OK && n > 0;
	return rc;
}

enum bb_rc store_host_success(struct store *st, const char *host, time_t now, struct err *e)
{
	struct sql_txn t = {0};
	enum bb_rc rc;

	rc = sql_txn_begin(st, &t, e);
	if (rc != BB_OK)
		goto out;
	rc = sql_run(st, "DELETE FROM host_failures WHERE host = lower(?1)",
		     SQL_ARGS(SQL_TEXT(host)), "clear host failures", e);
	if (rc != BB_OK)
		goto out;
	rc = sql_run(st, "DELETE FROM host_outages WHERE host = lower(?1)",
		     SQL_ARGS(SQL_TEXT(host)), "clear host outage", e);
	if (rc != BB_OK)
		goto out;
	rc = sql_run(st,
		     "INSERT INTO hosts(host, unavailable, last_success) VALUES (lower(?1), 0, ?2)"
		     " ON CONFLICT(host) DO UPDATE SET unavailable = 0,"
		     " last_success = excluded.last_success",
		     SQL_ARGS(SQL_TEXT(host), SQL_INT(now)), "record host success", e);
out:
	return sql_txn_end(st, &t, rc, e);
}

enum bb_rc store_host_failure(struct store *st, const char *host, time_t now, bool *unavailable,
			      struct err *e)
{
	struct sql_txn t = {0};
	enum bb_rc rc;
	int64_t flag = 0;
	bool found = false;

	*unavailable = false;
	rc = sql_txn_begin(st, &t, e);
	if (rc != BB_OK)
		goto out;
	rc = sql_run(st,
		     "INSERT INTO hosts(host, last_failure) VALUES (lower(?1), ?2)"
		     " ON CONFLICT(host) DO UPDATE SET last_failure = excluded.last_failure",
		     SQL_ARGS(SQL_TEXT(host), SQL_INT(now)), "record host failure", e);
	if (rc != BB_OK)
		goto out;
	/* The first failure since the last success starts the outage. */
	rc = sql_run(st, "INSERT OR IGNORE INTO host_outages(host, since) VALUES (lower(?1), ?2)",
		     SQL_ARGS(SQL_TEXT(host), SQL_INT(now)), "record host outage", e);
	if (rc != BB_OK)
		goto out;
	/* The day in UTC, as Mastodon counts it; a second failure the same
	 * day is the same row. */
	rc = sql_run(st,
		     "INSERT OR IGNORE INTO host_failures(host, day)"
		     " VALUES (lower(?1), CAST(strftime('%Y%m%d', ?2, 'unixepoch') AS INTEGER))",
		     SQL_ARGS(SQL_TEXT(host), SQL_INT(now)), "record host failure day", e);
	if (rc != BB_OK)
		goto out;
	rc = sql_run(st,
		     "UPDATE hosts SET unavailable = 1 WHERE host = lower(?1) AND"
		     " (SELECT count(*) FROM host_failures WHERE host = lower(?1)) >= ?2",
		     SQL_ARGS(SQL_TEXT(host), SQL_INT(STORE_HOST_FAILURE_DAYS)),
		     "mark host unavailable", e);
	if (rc != BB_OK)
		goto out;
	rc = sql_int(st, "SELECT unavailable FROM hosts WHERE host = lower(?1)",
		     SQL_ARGS(SQL_TEXT(host)), &flag, &found, "read host", e);
	if (rc != BB_OK)
		goto out;
	*unavailable = found && flag != 0;
out:
	rc = sql_txn_end(st, &t, rc, e);
	if (rc != BB_OK)
		*unavailable = false;
	return rc;
}

enum bb_rc store_host_scheme_get(struct store *st, const char *host, enum store_sig_scheme *scheme,
				 struct err *e)
{
	enum bb_rc rc;
	int64_t v = 0;
	bool found = false;

	rc = sql_int(st, "SELECT scheme FROM hosts WHERE host = lower(?1)",
		     SQL_ARGS(SQL_TEXT(host)), &v, &found, "read host scheme", e);
	if (rc != BB_OK)
		return rc;
	if (!found)
		return err_set(e, BB_ERR_NOTFOUND, "no signature scheme known for %s", host);
	/* Stored as the enum's value: 0 cavage, 1 RFC 9421. */
	if (v != STORE_SIG_CAVAGE && v != STORE_SIG_RFC9421)
		return err_set(e, BB_ERR_STORE, "signature scheme %lld stored for %s: not 0 or 1",
			       (long long)v, host);
	*scheme = (enum store_sig_scheme)v;
	return BB_OK;
}

enum bb_rc store_host_scheme_set(struct store *st, const char *host, enum store_sig_scheme scheme,
				 struct err *e)
{
	if (scheme != STORE_SIG_CAVAGE && scheme != STORE_SIG_RFC9421)
		return err_set(e, BB_ERR_INVALID, "signature scheme %d for %s: not 0 or 1",
			       (int)scheme, host);
	return sql_run(st,
		       "INSERT INTO hosts(host, scheme) VALUES (lower(?1), ?2)"
		       " ON CONFLICT(host) DO UPDATE SET scheme = excluded.scheme",
		       SQL_ARGS(SQL_TEXT(host), SQL_INT(scheme)), "record host scheme", e);
}
