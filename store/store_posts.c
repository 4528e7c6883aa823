/*
 * store_posts.c — the blog's posts, the fan-out of an outgoing activity to
 * every follower, the outgoing activities by id, and the small named
 * values (meta), in the SQLite backend.
 *
 * A post is one row per feed item, keyed by its guid; its object id
 * (ap_id) is fixed when the row is made and never reused: deletion marks
 * the row (deleted = when) and keeps it, so the id answers with a
 * Tombstone.  The fan-out makes one delivery row per distinct target inbox
 * (a follower's shared inbox when it has one) through the same inserter
 * as store_delivery_add (store_queue.c), prepared once for all of them:
 * 10,000 followers cost two index probes each, not two prepares each.
 */
#include "log.h"
#include "store_int.h"
#include "url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- blog posts ------------------------------------------------------- */

void store_post_clear(struct store_post *p)
{
	free(p->guid);
	free(p->ap_id);
	free(p->url);
	free(p->title);
	free(p->hash);
	free(p->object_json);
	memset(p, 0, sizeof(*p));
}

enum bb_rc store_post_put(struct store *st, struct store_post *p, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	if (p->guid == NULL || p->ap_id == NULL || p->url == NULL || p->title == NULL ||
	    p->hash == NULL || p->object_json == NULL) {
		rc = err_set(e, BB_ERR_INVALID,
			     "post %s: guid, id, URL, title, hash and object are required",
			     p->guid ? p->guid : "(no guid)");
		goto out;
	}
	/* An existing guid keeps its ap_id (never reused), its published
	 * date and its deletion mark; what the feed may change is replaced.
	 * One statement: no window between the lookup and the write. */
	rc = sql_prepare_args(
	    st,
	    "INSERT INTO posts(guid, ap_id, url, title, hash, object_json, published, updated,"
	    " deleted, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, unixepoch())"
	    " ON CONFLICT(guid) DO UPDATE SET url = excluded.url, title = excluded.title,"
	    " hash = excluded.hash, object_json = excluded.object_json,"
	    " updated = excluded.updated"
	    " RETURNING id",
	    SQL_ARGS(SQL_TEXT(p->guid), SQL_TEXT(p->ap_id), SQL_TEXT(p->url), SQL_TEXT(p->title),
		     SQL_TEXT(p->hash), SQL_TEXT(p->object_json), SQL_INT(p->published),
		     SQL_INT(p->updated), SQL_INT(p->deleted)),
	    &stmt, "store post", e);
	if (rc != BB_OK)
		goto out;
	src = sqlite3_step(stmt);
	if (src == SQLITE_CONSTRAINT_UNIQUE) {
		/* The guid conflict is handled above: this is another post's
		 * ap_id. */
		rc = err_set(e, BB_ERR_INVALID, "post %s: object id %s belongs to another post",
			     p->guid, p->ap_id);
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = sql_fail(st, src, "store post", e);
		goto out;
	}
	p->rowid = sqlite3_column_int64(stmt, 0);
	src = sqlite3_step(stmt);
	if (src != SQLITE_DONE)
		rc = sql_fail(st, src, "store post", e);
out:
	sql_release(st, stmt);
	return rc;
}

#define POST_COLUMNS "id, guid, ap_id, url, title, hash, object_json, published, updated, deleted"

/* Fills p (empty on entry) from a row of POST_COLUMNS; false when out of
 * memory (p then holds what was copied, for the caller to clear).  Every
 * text column is NOT NULL, so a NULL copy is out of memory too. */
static bool post_read(sqlite3_stmt *stmt, struct store_post *p)
{
	p->rowid = sqlite3_column_int64(stmt, 0);
	if (!sql_column_dup(stmt, 1, &p->guid) || !sql_column_dup(stmt, 2, &p->ap_id) ||
	    !sql_column_dup(stmt, 3, &p->url) || !sql_column_dup(stmt, 4, &p->title) ||
	    !sql_column_dup(stmt, 5, &p->hash) || !sql_column_dup(stmt, 6, &p->object_json))
		return false;
	if (!p->guid || !p->ap_id || !p->url || !p->title || !p->hash || !p->object_json)
		return false;
	p->published = (time_t)sqlite3_column_int64(stmt, 7);
	p->updated = (time_t)sqlite3_column_int64(stmt, 8);
	p->deleted = (time_t)sqlite3_column_int64(stmt, 9);
	return true;
}

/* The one-row query behind the store_post_by_* lookups: fills *out
 * (zeroed first; left empty on error) from the first row sql's ?1 = value
 * selects; `what` names the key in the not-found message. */
static enum bb_rc post_read_one(struct store *st, const char *sql, const char *value,
				const char *what, struct store_post *out, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	memset(out, 0, sizeof(*out));
	rc = sql_prepare_args(st, sql, SQL_ARGS(SQL_TEXT(value)), &stmt, "read post", e);
	if (rc != BB_OK)
		goto out;
	src = sqlite3_step(stmt);
	if (src == SQLITE_DONE) {
		rc = err_set(e, BB_ERR_NOTFOUND, "no post with %s %s", what, value);
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = sql_fail(st, src, "read post", e);
		goto out;
	}
	if (!post_read(stmt, out))
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
out:
	if (rc != BB_OK)
		store_post_clear(out);
	sql_release(st, stmt);
	return rc;
}

enum bb_rc store_post_get(struct store *st, int64_t rowid, struct store_post *out, struct err *e)
{
	char id[24];

	/* The id as text: SQLite compares an INTEGER PRIMARY KEY with a
	 * numeric text by its value. */
	snprintf(id, sizeof(id), "%lld", (long long)rowid);
	return post_read_one(st, "SELECT " POST_COLUMNS " FROM posts WHERE id = CAST(?1 AS INTEGER)",
			     id, "rowid", out, e);
}

enum bb_rc store_post_by_guid(struct store *st, const char *guid, struct store_post *out,
			      struct err *e)
{
	return post_read_one(st, "SELECT " POST_COLUMNS " FROM posts WHERE guid = ?1", guid, "guid",
			     out, e);
}

enum bb_rc store_post_by_ap_id(struct store *st, const char *ap_id, struct store_post *out,
			       struct err *e)
{
	return post_read_one(st, "SELECT " POST_COLUMNS " FROM posts WHERE ap_id = ?1", ap_id, "id",
			     out, e);
}

enum bb_rc store_post_by_url(struct store *st, const char *url, struct store_post *out,
			     struct err *e)
{
	/* Several rows share a URL when a post was deleted and republished
	 * under a new guid: a live one wins, else the newest deleted one
	 * (the caller answers it with a Tombstone). */
	return post_read_one(st,
			     "SELECT " POST_COLUMNS " FROM posts WHERE url = ?1"
			     " ORDER BY deleted <> 0, published DESC, id DESC LIMIT 1",
			     url, "URL", out, e);
}

enum bb_rc store_post_delete(struct store *st, int64_t rowid, time_t when, struct err *e)
{
	enum bb_rc rc;

	/* 0 means live: a deletion needs a time. */
	if (when <= 0)
		return err_set(e, BB_ERR_INVALID, "delete post %lld: no deletion time",
			       (long long)rowid);
	/* A second deletion keeps the first one's time (the Tombstone's). */
	rc = sql_run(st,
		     "UPDATE posts SET deleted = CASE WHEN deleted = 0 THEN ?2 ELSE deleted END"
		     " WHERE id = ?1",
		     SQL_ARGS(SQL_INT(rowid), SQL_INT(when)), "delete post", e);
	if (rc == BB_OK && sqlite3_changes(st->db) == 0)
		rc = err_set(e, BB_ERR_NOTFOUND, "no post %lld", (long long)rowid);
	return rc;
}

enum bb_rc store_post_count(struct store *st, int64_t *out, struct err *e)
{
	int64_t n = 0;
	enum bb_rc rc;

	rc = sql_int(st, "SELECT count(*) FROM posts WHERE deleted = 0", NULL, 0, &n, NULL,
		     "count posts", e);
	if (rc == BB_OK)
		*out = n;
	return rc;
}

enum bb_rc store_post_each(struct store *st, int64_t offset, int64_t limit, bool include_deleted,
			   store_post_fn fn, void *arg, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	struct store_post p = {0};
	enum bb_rc rc;
	int src;

	/* LIMIT -1 is "no limit" to SQLite; any negative limit means all. */
	rc = sql_prepare_args(st,
			      "SELECT " POST_COLUMNS " FROM posts WHERE ?3 OR deleted = 0"
			      " ORDER BY published DESC, id DESC LIMIT ?1 OFFSET ?2",
			      SQL_ARGS(SQL_INT(limit < 0 ? -1 : limit),
				       SQL_INT(offset < 0 ? 0 : offset), SQL_INT(include_deleted)),
			      &stmt, "list posts", e);
	if (rc != BB_OK)
		goto out;
	while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (!post_read(stmt, &p)) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		rc = fn(&p, arg, e);
		if (rc != BB_OK)
			goto out;
		store_post_clear(&p);
	}
	if (src != SQLITE_DONE)
		rc = sql_fail(st, src, "list posts", e);
out:
	store_post_clear(&p);
	sql_release(st, stmt);
	return rc;
}

/* ---- fan-out ---------------------------------------------------------- */

/* Queues one delivery per row of targets (distinct inboxes) with the
 * prepared inserter; *added counts the new rows.  The host is the inbox's
 * host key (url_host_key), the one store_delivery_add's callers give.  An
 * inbox without a usable host (a follower stored before inboxes were
 * checked) is skipped with a warning: one bad follower must not hold back
 * every other. */
static enum bb_rc fanout_rows(struct store *st, sqlite3_stmt *targets, struct queue_insert *qi,
			      int64_t activity, time_t now, int64_t *added, struct err *e)
{
	char host[URL_HOST_KEY_MAX + 1];
	struct err skip = {0};
	enum bb_rc rc = BB_OK;
	bool is_new;
	int src;

	while ((src = sqlite3_step(targets)) == SQLITE_ROW) {
		const char *inbox = (const char *)sqlite3_column_text(targets, 0);

		/* The column is coalesce() of an inbox that is NOT NULL. */
		if (inbox == NULL) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		rc = url_host_key(inbox, host, &skip);
		if (rc == BB_OK)
			rc = queue_insert_add(st, qi, activity, inbox, host, now, &is_new, &skip);
		if (rc == BB_ERR_INVALID || rc == BB_ERR_LIMIT) {
			log_warn("fan-out of activity %lld: skipped: %s", (long long)activity,
				 skip.msg);
			rc = BB_OK;
			continue;
		}
		if (rc != BB_OK) {
			rc = err_set(e, rc, "%s", skip.msg);
			goto out;
		}
		if (is_new)
			(*added)++;
	}
	if (src != SQLITE_DONE)
		rc = sql_fail(st, src, "fan out", e);
out:
	return rc;
}

enum bb_rc store_fanout(struct store *st, int64_t activity, time_t now, int64_t *count,
			struct err *e)
{
	struct sql_txn t = {0};
	struct queue_insert qi = {0};
	sqlite3_stmt *targets = NULL;
	int64_t added = 0, found = 0;
	bool exists = false;
	enum bb_rc rc;

	if (count != NULL)
		*count = 0;
	rc = sql_txn_begin(st, &t, e);
	if (rc != BB_OK)
		goto out;
	/* Checked up front: with no followers the inserts would never meet
	 * the foreign key. */
	rc = sql_int(st, "SELECT 1 FROM activities WHERE id = ?1", SQL_ARGS(SQL_INT(activity)),
		     &found, &exists, "fan out", e);
	if (rc != BB_OK)
		goto out;
	if (!exists) {
		rc = err_set(e, BB_ERR_NOTFOUND, "fan-out: no activity %lld", (long long)activity);
		goto out;
	}
	rc = queue_insert_prepare(st, &qi, e);
	if (rc != BB_OK)
		goto out;
	/* Reading followers while inserting into deliveries and hosts, on
	 * one connection: SQLite allows it, the tables differ. */
	rc = sql_prepare(st, "SELECT DISTINCT coalesce(shared_inbox, inbox) FROM followers",
			 &targets, e);
	if (rc != BB_OK)
		goto out;
	rc = fanout_rows(st, targets, &qi, activity, now, &added, e);
out:
	sql_release(st, targets);
	queue_insert_finalize(st, &qi);
	rc = sql_txn_end(st, &t, rc, e);
	if (rc == BB_OK && count != NULL)
		*count = added;
	return rc;
}

/* ---- outgoing activities by id ---------------------------------------- */

enum bb_rc store_activity_get(struct store *st, const char *ap_id, char **json, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	*json = NULL;
	rc = sql_prepare_args(st, "SELECT json FROM activities WHERE ap_id = ?1",
			      SQL_ARGS(SQL_TEXT(ap_id)), &stmt, "read activity", e);
	if (rc != BB_OK)
		goto out;
	src = sqlite3_step(stmt);
	if (src == SQLITE_DONE) {
		rc = err_set(e, BB_ERR_NOTFOUND, "no activity %s", ap_id);
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = sql_fail(st, src, "read activity", e);
		goto out;
	}
	/* json is NOT NULL: a NULL copy is out of memory. */
	if (!sql_column_dup(stmt, 0, json) || *json == NULL)
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
out:
	sql_release(st, stmt);
	return rc;
}

/* ---- small named values ----------------------------------------------- */

/* Set once with the database (store_actor_published): not for callers. */
#define META_RESERVED "actor_published"

enum bb_rc store_meta_get(struct store *st, const char *key, char **value, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	*value = NULL;
	rc = sql_prepare_args(st, "SELECT value FROM meta WHERE key = ?1", SQL_ARGS(SQL_TEXT(key)),
			      &stmt, "read setting", e);
	if (rc != BB_OK)
		goto out;
	src = sqlite3_step(stmt);
	if (src == SQLITE_DONE) {
		rc = err_set(e, BB_ERR_NOTFOUND, "setting %s is not set", key);
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = sql_fail(st, src, "read setting", e);
		goto out;
	}
	/* value is NOT NULL: a NULL copy is out of memory. */
	if (!sql_column_dup(stmt, 0, value) || *value == NULL)
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
out:
	sql_release(st, stmt);
	return rc;
}

enum bb_rc store_meta_set(struct store *st, const char *key, const char *value, struct err *e)
{
	if (key == NULL || strcmp(key, META_RESERVED) == 0)
		return err_set(e, BB_ERR_INVALID, "setting %s cannot be changed",
			       key ? key : "(no key)");
	if (value == NULL)
		return sql_run(st, "DELETE FROM meta WHERE key = ?1", SQL_ARGS(SQL_TEXT(key)),
			       "clear setting", e);
	return sql_run(st,
		       "INSERT INTO meta(key, value) VALUES (?1, ?2)"
		       " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
		       SQL_ARGS(SQL_TEXT(key), SQL_TEXT(value)), "store setting", e);
}

enum bb_rc store_moved_to_get(struct store *st, char **out, struct err *e)
{
	enum bb_rc rc = store_meta_get(st, STORE_META_MOVED_TO, out, e);

	if (rc == BB_ERR_NOTFOUND) {
		err_clear(e);
		*out = NULL;
		return BB_OK;
	}
	if (rc != BB_OK)
		*out = NULL;
	return rc;
}
