/*
 * store_admin.c — what the admin pages keep and read (store.h, "the admin
 * pages"): login sessions, the store's block list, "retry now" for a host,
 * and the delivery queue seen per post.
 *
 * A post's activities are found by id: publish.c names them under the
 * post's object id ("<id>/activity", "<id>/updates/<t>", "<id>/delete"),
 * so they are the activities whose ap_id lies in the range
 * ["<id>/", "<id>0") ('0' follows '/'), which the unique index on
 * activities.ap_id serves without a scan.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sessions ---------------------------------------------------------- */

void store_session_clear(struct store_session *s)
{
	free(s->csrf);
	memset(s, 0, sizeof(*s));
}

enum bb_rc store_session_add(struct store *st, const char *id_hash, const char *csrf, time_t now,
			     struct err *e)
{
	enum bb_rc rc =
	    sql_run(st,
		    "INSERT INTO admin_sessions(id_hash, csrf, created_at, last_seen)"
		    " VALUES (?1, ?2, ?3, ?3) ON CONFLICT DO NOTHING",
		    SQL_ARGS(SQL_TEXT(id_hash), SQL_TEXT(csrf), SQL_INT(now)), "add session", e);

	if (rc == BB_OK && sqlite3_changes(st->db) == 0)
		return err_set(e, BB_ERR_INVALID, "session exists already");
	return rc;
}

enum bb_rc store_session_get(struct store *st, const char *id_hash, struct store_session *out,
			     struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	memset(out, 0, sizeof(*out));
	rc = sql_prepare_args(st,
			      "SELECT csrf, created_at, last_seen FROM admin_sessions"
			      " WHERE id_hash = ?1",
			      SQL_ARGS(SQL_TEXT(id_hash)), &stmt, "read session", e);
	if (rc != BB_OK)
		goto out;
	src = sqlite3_step(stmt);
	if (src == SQLITE_DONE) {
		rc = err_set(e, BB_ERR_NOTFOUND, "no such session");
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = sql_fail(st, src, "read session", e);
		goto out;
	}
	if (!sql_column_dup(stmt, 0, &out->csrf) || out->csrf == NULL) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	out->created = (time_t)sqlite3_column_int64(stmt, 1);
	out->last_seen = (time_t)sqlite3_column_int64(stmt, 2);
out:
	sql_release(st, stmt);
	return rc;
}

enum bb_rc store_session_touch(struct store *st, const char *id_hash, time_t now, struct err *e)
{
	enum bb_rc rc = sql_run(st, "UPDATE admin_sessions SET last_seen = ?2 WHERE id_hash = ?1",
				SQL_ARGS(SQL_TEXT(id_hash), SQL_INT(now)), "touch session", e);

	if (rc == BB_OK && sqlite3_changes(st->db) == 0)
		return err_set(e, BB_ERR_NOTFOUND, "no such session");
	return rc;
}

enum bb_rc store_session_remove(struct store *st, const char *id_hash, struct err *e)
{
	return sql_run(st, "DELETE FROM admin_sessions WHERE id_hash = ?1",
		       SQL_ARGS(SQL_TEXT(id_hash)), "end session", e);
}

enum bb_rc store_session_prune(struct store *st, time_t idle_before, time_t created_before,
			       struct err *e)
{
	return sql_run(st, "DELETE FROM admin_sessions WHERE last_seen < ?1 OR created_at < ?2",
		       SQL_ARGS(SQL_INT(idle_before), SQL_INT(created_before)), "prune sessions",
		       e);
}

/* ---- blocks ------------------------------------------------------------ */

enum bb_rc store_block_add(struct store *st, const char *value, bool is_actor, time_t now,
			   struct err *e)
{
	if (value == NULL || value[0] == '\0')
		return err_set(e, BB_ERR_INVALID, "nothing to block");
	return sql_run(st,
		       "INSERT INTO blocks(value, kind, created_at) VALUES (?1, ?2, ?3)"
		       " ON CONFLICT DO NOTHING",
		       SQL_ARGS(SQL_TEXT(value), SQL_INT(is_actor ? 1 : 0), SQL_INT(now)),
		       "add block", e);
}

enum bb_rc store_block_remove(struct store *st, const char *value, struct err *e)
{
	enum bb_rc rc = sql_run(st, "DELETE FROM blocks WHERE value = ?1",
				SQL_ARGS(SQL_TEXT(value)), "remove block", e);

	if (rc == BB_OK && sqlite3_changes(st->db) == 0)
		return err_set(e, BB_ERR_NOTFOUND, "%s is not blocked", value);
	return rc;
}

enum bb_rc store_block_each(struct store *st, store_block_fn fn, void *arg, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	rc = sql_prepare(st, "SELECT value, kind, created_at FROM blocks ORDER BY value", &stmt, e);
	if (rc != BB_OK)
		goto out;
	while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_block b = {
		    .value = (const char *)sqlite3_column_text(stmt, 0),
		    .is_actor = sqlite3_column_int64(stmt, 1) != 0,
		    .created = (time_t)sqlite3_column_int64(stmt, 2),
		};
		if (b.value == NULL) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((rc = fn(&b, arg, e)) != BB_OK)
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = sql_fail(st, src, "list blocks", e);
out:
	sql_release(st, stmt);
	return rc;
}

enum bb_rc store_block_matches(struct store *st, const char *actor, const char *host, bool *blocked,
			       struct err *e)
{
	int64_t n = 0;
	enum bb_rc rc;

	*blocked = false;
	/* A domain blocks itself and every name under it: host is
	 * "value" or ends in ".value". */
	rc = sql_int(
	    st,
	    "SELECT count(*) FROM blocks WHERE (kind = 1 AND value = ?1)"
	    " OR (kind = 0 AND (value = ?2 OR substr(?2, -length(value) - 1) = '.' || value))",
	    SQL_ARGS(SQL_TEXT(actor), SQL_TEXT(host)), &n, NULL, "check blocks", e);
	if (rc == BB_OK)
		*blocked = n > 0;
	return rc;
}

/* ---- deliveries, per host and per post --------------------------------- */

enum bb_rc store_host_retry_now(struct store *st, const char *host, time_t now, int64_t *count,
				struct err *e)
{
	struct sql_txn t = {0};
	int64_t n = 0;
	enum bb_rc rc;

	rc = sql_txn_begin(st, &t, e);
	if (rc != BB_OK)
		goto out;
	rc = sql_run(st,
		     "UPDATE deliveries SET next_attempt = ?2, updated_at = ?2"
		     " WHERE host = ?1 AND state = 0 AND next_attempt > ?2",
		     SQL_ARGS(SQL_TEXT(host), SQL_INT(now)), "retry host", e);
	if (rc != BB_OK)
		goto out;
	n = sqlite3_changes(st->db);
	rc = sql_run(st, "UPDATE hosts SET unavailable = 0 WHERE host = ?1",
		     SQL_ARGS(SQL_TEXT(host)), "retry host", e);
	if (rc == BB_OK)
		rc = sql_run(st, "DELETE FROM host_failures WHERE host = ?1",
			     SQL_ARGS(SQL_TEXT(host)), "retry host", e);
out:
	rc = sql_txn_end(st, &t, rc, e);
	if (count != NULL)
		*count = rc == BB_OK ? n : 0;
	return rc;
}

/* The activities of a post: ap_id in ["<id>/", "<id>0"). */
#define POST_ACTIVITIES "a.ap_id >= ?1 || '/' AND a.ap_id < ?1 || '0'"

enum bb_rc store_post_delivery_each(struct store *st, const char *post_ap_id,
				    store_post_delivery_fn fn, void *arg, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	rc = sql_prepare_args(
	    st,
	    "SELECT a.ap_id, d.inbox, d.host, d.state, d.attempts,"
	    " coalesce(d.last_status, 0), d.last_error, d.next_attempt, d.updated_at"
	    " FROM activities a JOIN deliveries d ON d.activity = a.id"
	    " WHERE " POST_ACTIVITIES " ORDER BY a.id DESC, d.host, d.inbox",
	    SQL_ARGS(SQL_TEXT(post_ap_id)), &stmt, "post deliveries", e);
	if (rc != BB_OK)
		goto out;
	while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
		bool has_error = sqlite3_column_type(stmt, 6) != SQLITE_NULL;
		struct store_post_delivery d = {
		    .activity = (const char *)sqlite3_column_text(stmt, 0),
		    .inbox = (const char *)sqlite3_column_text(stmt, 1),
		    .host = (const char *)sqlite3_column_text(stmt, 2),
		    .state = (enum store_delivery_state)sqlite3_column_int(stmt, 3),
		    .attempts = sqlite3_column_int(stmt, 4),
		    .last_status = sqlite3_column_int(stmt, 5),
		    .last_error = (const char *)sqlite3_column_text(stmt, 6),
		    .next_attempt = (time_t)sqlite3_column_int64(stmt, 7),
		    .updated = (time_t)sqlite3_column_int64(stmt, 8),
		};
		if (d.activity == NULL || d.inbox == NULL || d.host == NULL ||
		    (has_error && d.last_error == NULL)) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((rc = fn(&d, arg, e)) != BB_OK)
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = sql_fail(st, src, "post deliveries", e);
out:
	sql_release(st, stmt);
	return rc;
}

/* The rowid of the post's latest activity; *found false when none. */
static enum bb_rc latest_activity(struct store *st, const char *post_ap_id, int64_t *id,
				  bool *found, struct err *e)
{
	*id = 0;
	return sql_int(st, "SELECT max(a.id) FROM activities a WHERE " POST_ACTIVITIES,
		       SQL_ARGS(SQL_TEXT(post_ap_id)), id, found, "latest activity", e);
}

enum bb_rc store_post_delivery_count(struct store *st, const char *post_ap_id,
				     struct store_post_delivery_counts *out, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	int64_t act;
	bool found;
	enum bb_rc rc;
	int src;

	memset(out, 0, sizeof(*out));
	rc = latest_activity(st, post_ap_id, &act, &found, e);
	if (rc != BB_OK || !found)
		return rc;
	rc = sql_prepare_args(st,
			      "SELECT coalesce(sum(state = 1), 0), coalesce(sum(state = 0), 0),"
			      " coalesce(sum(state = 2), 0) FROM deliveries WHERE activity = ?1",
			      SQL_ARGS(SQL_INT(act)), &stmt, "count post deliveries", e);
	if (rc != BB_OK)
		goto out;
	src = sqlite3_step(stmt);
	if (src != SQLITE_ROW) {
		rc = sql_fail(st, src, "count post deliveries", e);
		goto out;
	}
	out->done = sqlite3_column_int64(stmt, 0);
	out->pending = sqlite3_column_int64(stmt, 1);
	out->failed = sqlite3_column_int64(stmt, 2);
out:
	sql_release(st, stmt);
	return rc;
}

enum bb_rc store_post_resend(struct store *st, const char *post_ap_id, bool all, time_t now,
			     int64_t *count, struct err *e)
{
	struct sql_txn t = {0};
	int64_t act, n = 0, added = 0;
	bool found;
	enum bb_rc rc;

	rc = sql_txn_begin(st, &t, e);
	if (rc != BB_OK)
		goto out;
	rc = latest_activity(st, post_ap_id, &act, &found, e);
	if (rc == BB_OK && !found)
		rc = err_set(e, BB_ERR_NOTFOUND, "%s has no activity to send", post_ap_id);
	if (rc != BB_OK)
		goto out;
	rc = sql_run(st,
		     "UPDATE deliveries SET state = 0, attempts = 0, next_attempt = ?2,"
		     " lease_until = 0, updated_at = ?2"
		     " WHERE activity = ?1 AND (state = 2 OR (?3 AND state = 1))",
		     SQL_ARGS(SQL_INT(act), SQL_INT(now), SQL_INT(all ? 1 : 0)), "resend", e);
	if (rc != BB_OK)
		goto out;
	n = sqlite3_changes(st->db);
	if (all)
		rc = store_fanout(st, act, now, &added, e);
out:
	rc = sql_txn_end(st, &t, rc, e);
	if (count != NULL)
		*count = rc == BB_OK ? n + added : 0;
	return rc;
}

/* ---- the followers page -------------------------------------------------- */

/* The host of a URL column (an inbox): what follows "://" up to the next
 * '/'.  Computed only for the rows of a page. */
#define HOST_OF(col)                                                                               \
	"(CASE WHEN instr(substr(" col ", instr(" col ", '://') + 3), '/') > 0"                    \
	" THEN substr(substr(" col ", instr(" col ", '://') + 3), 1,"                              \
	" instr(substr(" col ", instr(" col ", '://') + 3), '/') - 1)"                             \
	" ELSE substr(" col ", instr(" col ", '://') + 3) END)"

/* A search is a beginning: of the server (?1), or of the handle (?2,
 * "@" first), lower case; char(1114111) is past every character, so
 * [q, q + U+10FFFF) is "starts with q" as a range an index serves (the
 * two ranges, one index each). */
#define FOLLOWER_MATCH                                                                             \
	" WHERE (" FOLLOWER_SERVER_SQL " >= ?1 AND " FOLLOWER_SERVER_SQL " < ?1 || char(1114111))" \
	" OR (lower(handle) >= ?2 AND lower(handle) < ?2 || char(1114111))"

/* A row of the page: the follower, its server, and its inbox host's
 * health. */
#define INBOX_HOST HOST_OF("coalesce(shared_inbox, inbox)")
#define FOLLOWER_COLUMNS                                                                           \
	"actor, handle, inbox, shared_inbox, follow_id, since, " FOLLOWER_SERVER_SQL               \
	", coalesce((SELECT h.unavailable FROM hosts h WHERE h.host = " INBOX_HOST "), 0),"        \
	" EXISTS (SELECT 1 FROM host_failures x WHERE x.host = " INBOX_HOST "),"                   \
	" (SELECT a.name FROM actors a WHERE a.id = followers.actor),"                             \
	" (SELECT a.avatar FROM actors a WHERE a.id = followers.actor)"

/* Each order is an index's (store_sqlite.c, the admin migration). */
static const char *const follower_order[] = {
    [STORE_FOLLOWERS_BY_SINCE] = " ORDER BY since DESC",
    [STORE_FOLLOWERS_BY_HANDLE] = " ORDER BY lower(handle)",
    [STORE_FOLLOWERS_BY_SERVER] = " ORDER BY " FOLLOWER_SERVER_SQL ", lower(handle)",
};

static enum bb_rc follower_rows(struct store *st, sqlite3_stmt *stmt, store_follower_row_fn fn,
				void *arg, struct err *e)
{
	int src;

	while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_follower f = {
		    .actor = (char *)sqlite3_column_text(stmt, 0),
		    .handle = (char *)sqlite3_column_text(stmt, 1),
		    .inbox = (char *)sqlite3_column_text(stmt, 2),
		    .shared_inbox = (char *)sqlite3_column_text(stmt, 3),
		    .follow_id = (char *)sqlite3_column_text(stmt, 4),
		    .since = (time_t)sqlite3_column_int64(stmt, 5),
		};
		struct store_follower_row r = {
		    .f = &f,
		    .server = (const char *)sqlite3_column_text(stmt, 6),
		    .health = sqlite3_column_int64(stmt, 7)   ? STORE_HOST_UNAVAILABLE
			      : sqlite3_column_int64(stmt, 8) ? STORE_HOST_FAILING
							      : STORE_HOST_OK,
		    .name = (const char *)sqlite3_column_text(stmt, 9),
		    .avatar = (const char *)sqlite3_column_text(stmt, 10),
		};
		enum bb_rc rc;

		if (f.actor == NULL || f.inbox == NULL || r.server == NULL)
			return err_set(e, BB_ERR_NOMEM, "out of memory");
		if ((rc = fn(&r, arg, e)) != BB_OK)
			return rc;
	}
	return src == SQLITE_DONE ? BB_OK : sql_fail(st, src, "search followers", e);
}

/* The search terms: lower case; the handle's with its leading "@". */
static bool search_terms(const char *q, char **server, char **handle)
{
	size_t n = strlen(q);

	*server = malloc(n + 1);
	*handle = malloc(n + 2);
	if (*server == NULL || *handle == NULL)
		return false;
	for (size_t i = 0; i <= n; i++)
		(*server)[i] = (char)(q[i] >= 'A' && q[i] <= 'Z' ? q[i] - 'A' + 'a' : q[i]);
	snprintf(*handle, n + 2, "%s%s", (*server)[0] == '@' ? "" : "@", *server);
	return true;
}

enum bb_rc store_follower_search(struct store *st, const char *q, enum store_follower_sort sort,
				 int64_t offset, int64_t limit, int64_t *total,
				 store_follower_row_fn fn, void *arg, struct err *e)
{
	char sql[4096];
	sqlite3_stmt *stmt = NULL;
	char *server = NULL, *handle = NULL;
	enum bb_rc rc = BB_OK;

	if ((unsigned)sort > STORE_FOLLOWERS_BY_SERVER)
		return err_set(e, BB_ERR_INVALID, "no such order");
	if (q != NULL && q[0] != '\0' && !search_terms(q, &server, &handle)) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (total != NULL) {
		/* Two statements: an "all" term in the WHERE would keep the
		 * planner from the indexes. */
		rc = server == NULL ? sql_int(st, "SELECT count(*) FROM followers", NULL, 0, total,
					      NULL, "count followers", e)
				    : sql_int(st, "SELECT count(*) FROM followers" FOLLOWER_MATCH,
					      SQL_ARGS(SQL_TEXT(server), SQL_TEXT(handle)), total,
					      NULL, "count followers", e);
		if (rc != BB_OK)
			goto out;
	}
	snprintf(sql, sizeof(sql),
		 "SELECT " FOLLOWER_COLUMNS " FROM followers%s%s LIMIT ?3 OFFSET ?4",
		 server ? FOLLOWER_MATCH : "", follower_order[sort]);
	rc = sql_prepare_args(
	    st, sql, SQL_ARGS(SQL_TEXT(server), SQL_TEXT(handle), SQL_INT(limit), SQL_INT(offset)),
	    &stmt, "search followers", e);
	if (rc == BB_OK)
		rc = follower_rows(st, stmt, fn, arg, e);
out:
	sql_release(st, stmt);
	free(server);
	free(handle);
	return rc;
}

enum bb_rc store_follower_servers(struct store *st, int64_t limit, store_server_count_fn fn,
				  void *arg, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	rc = sql_prepare_args(
	    st,
	    "SELECT " HOST_OF("actor") " AS server, count(*) AS n FROM followers"
				       " GROUP BY server ORDER BY n DESC, server LIMIT ?1",
	    SQL_ARGS(SQL_INT(limit)), &stmt, "followers per server", e);
	if (rc != BB_OK)
		goto out;
	while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *server = (const char *)sqlite3_column_text(stmt, 0);
		if (server == NULL) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((rc = fn(server, sqlite3_column_int64(stmt, 1), arg, e)) != BB_OK)
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = sql_fail(st, src, "followers per server", e);
out:
	sql_release(st, stmt);
	return rc;
}

enum bb_rc store_follower_server_each(struct store *st, const char *server, store_follower_id_fn fn,
				      void *arg, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	/* The followers_server index (the expression repeated exactly), in its
	 * order: no sort. */
	rc = sql_prepare_args(st,
			      "SELECT actor FROM followers WHERE " FOLLOWER_SERVER_SQL " = ?1"
			      " ORDER BY lower(handle)",
			      SQL_ARGS(SQL_TEXT(server)), &stmt, "followers of a server", e);
	if (rc != BB_OK)
		goto out;
	while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *actor = (const char *)sqlite3_column_text(stmt, 0);
		if (actor == NULL) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((rc = fn(actor, (size_t)sqlite3_column_bytes(stmt, 0), arg, e)) != BB_OK)
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = sql_fail(st, src, "followers of a server", e);
out:
	sql_release(st, stmt);
	return rc;
}
