/*
 * store_backfill.c — the SQLite backend's record of the reply backfill
 * (store.h, "reply backfill"): the collections to read and when each was
 * last read, the comments whose object is still to be read for its
 * collections, and the items fetched lately that were not imported.
 *
 * One table, keyed by URL.  kind holds enum store_backfill_kind.  A row
 * is due when it was never tried (fetched_at 0), or when its post is
 * young and it was last tried before the caller's interval: so nothing is
 * fetched twice within an interval, and old threads are left alone.  A
 * comment's object, once read, is not due again (its collections are
 * rows of their own); items are never due (they only say "fetched
 * lately").
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

void store_backfill_clear(struct store_backfill *b)
{
	free(b->url);
	free(b->owner);
	memset(b, 0, sizeof(*b));
}

static bool kind_valid(int k)
{
	return k >= 0 && k < STORE_BACKFILL_KIND_COUNT;
}

enum bb_rc store_backfill_add(struct store *st, const struct store_backfill *b, struct err *e)
{
	if (b->url == NULL || b->owner == NULL || !kind_valid((int)b->kind))
		return err_set(e, BB_ERR_INVALID,
			       "a backfill row needs a url, an owner and a kind");
	return sql_run(st,
		       "INSERT INTO backfill(url, kind, owner, post, depth, fetched_at, failures)"
		       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0) ON CONFLICT(url) DO NOTHING",
		       SQL_ARGS(SQL_TEXT(b->url), SQL_INT(b->kind), SQL_TEXT(b->owner),
				SQL_INT(b->post), SQL_INT(b->depth), SQL_INT(b->fetched_at)),
		       "add a backfill row", e);
}

enum bb_rc store_backfill_get(struct store *st, const char *url, struct store_backfill *out,
			      struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src, kind;

	memset(out, 0, sizeof(*out));
	rc = sql_prepare_args(st,
			      "SELECT url, kind, owner, post, depth, fetched_at, failures FROM"
			      " backfill WHERE url = ?1",
			      SQL_ARGS(SQL_TEXT(url)), &stmt, "read a backfill row", e);
	if (rc != BB_OK)
		goto out;
	src = sqlite3_step(stmt);
	if (src == SQLITE_DONE) {
		rc = err_set(e, BB_ERR_NOTFOUND, "no backfill row for %.200s", url);
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = sql_fail(st, src, "read a backfill row", e);
		goto out;
	}
	kind = sqlite3_column_int(stmt, 1);
	if (!sql_column_dup(stmt, 0, &out->url) || !sql_column_dup(stmt, 2, &out->owner)) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	out->kind = kind_valid(kind) ? (enum store_backfill_kind)kind : STORE_BACKFILL_ITEM;
	out->post = sqlite3_column_int64(stmt, 3);
	out->depth = sqlite3_column_int(stmt, 4);
	out->fetched_at = (time_t)sqlite3_column_int64(stmt, 5);
	out->failures = sqlite3_column_int(stmt, 6);
out:
	if (rc != BB_OK)
		store_backfill_clear(out);
	sql_release(st, stmt);
	return rc;
}

enum bb_rc store_backfill_probe_add(struct store *st, time_t young_since, time_t items_before,
				    int64_t *added, struct err *e)
{
	struct sql_txn t = {0};
	enum bb_rc rc;

	if (added)
		*added = 0;
	rc = sql_txn_begin(st, &t, e);
	if (rc != BB_OK)
		return rc;
	/* Items are only a short memory: forget those of past intervals. */
	rc = sql_run(st, "DELETE FROM backfill WHERE kind = ?1 AND fetched_at < ?2",
		     SQL_ARGS(SQL_INT(STORE_BACKFILL_ITEM), SQL_INT(items_before)),
		     "forget backfill items", e);
	if (rc == BB_OK)
		rc = sql_run(st,
			     "INSERT INTO backfill(url, kind, owner, post, depth, fetched_at,"
			     " failures) SELECT c.ap_id, ?1, c.ap_id, c.post, 0, 0, 0"
			     " FROM comments c JOIN posts p ON p.id = c.post"
			     " WHERE p.published >= ?2 AND p.deleted = 0 AND c.status <> ?3"
			     " AND NOT EXISTS (SELECT 1 FROM backfill b WHERE b.owner = c.ap_id)"
			     " ON CONFLICT(url) DO NOTHING",
			     SQL_ARGS(SQL_INT(STORE_BACKFILL_OBJECT), SQL_INT(young_since),
				      SQL_INT(STORE_COMMENT_DELETED)),
			     "add backfill probes", e);
	if (rc == BB_OK && added)
		*added = sqlite3_changes(st->db);
	return sql_txn_end(st, &t, rc, e);
}

enum bb_rc store_backfill_due_each(struct store *st, time_t young_since, time_t fetched_before,
				   int max_failures, int64_t limit, store_backfill_fn fn, void *arg,
				   struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	struct store_backfill b = {0};
	enum bb_rc rc;
	int src, kind;

	/* The never tried first (a comment just arrived), then the longest
	 * waiting; a deleted post's rows never. */
	rc = sql_prepare_args(
	    st,
	    "SELECT b.url, b.kind, b.owner, b.post, b.depth, b.fetched_at, b.failures"
	    " FROM backfill b JOIN posts p ON p.id = b.post"
	    " WHERE p.deleted = 0 AND b.kind <> ?5 AND b.failures < ?3 AND (b.fetched_at = 0 OR"
	    " (b.fetched_at <= ?2 AND p.published >= ?1 AND (b.kind <> ?6 OR b.failures > 0)))"
	    " ORDER BY b.fetched_at, b.rowid LIMIT ?4",
	    SQL_ARGS(SQL_INT(young_since), SQL_INT(fetched_before), SQL_INT(max_failures),
		     SQL_INT(limit < 0 ? -1 : limit), SQL_INT(STORE_BACKFILL_ITEM),
		     SQL_INT(STORE_BACKFILL_OBJECT)),
	    &stmt, "list due backfill rows", e);
	if (rc != BB_OK)
		goto out;
	while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
		kind = sqlite3_column_int(stmt, 1);
		if (!kind_valid(kind))
			continue;
		if (!sql_column_dup(stmt, 0, &b.url) || !sql_column_dup(stmt, 2, &b.owner)) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		b.kind = (enum store_backfill_kind)kind;
		b.post = sqlite3_column_int64(stmt, 3);
		b.depth = sqlite3_column_int(stmt, 4);
		b.fetched_at = (time_t)sqlite3_column_int64(stmt, 5);
		b.failures = sqlite3_column_int(stmt, 6);
		rc = fn(&b, arg, e);
		if (rc != BB_OK)
			goto out;
		store_backfill_clear(&b);
	}
	if (src != SQLITE_DONE)
		rc = sql_fail(st, src, "list due backfill rows", e);
out:
	store_backfill_clear(&b);
	sql_release(st, stmt);
	return rc;
}

enum bb_rc store_backfill_done(struct store *st, const char *url, time_t now,
			       enum store_backfill_outcome outcome, struct err *e)
{
	return sql_run(st,
		       "UPDATE backfill SET fetched_at = ?2, failures = CASE ?3 WHEN 0 THEN 0"
		       " WHEN 1 THEN failures + 1 ELSE failures END WHERE url = ?1",
		       SQL_ARGS(SQL_TEXT(url), SQL_INT(now), SQL_INT(outcome)),
		       "record a backfill attempt", e);
}
