/*
 * store_notify.c — the events the admin is told of (store.h, "notifications
 * for the admin"): one row per event in notify_events (migration 9), with
 * the state of its mail and of its webhook POST.  Each channel's waiting
 * rows are a partial index of their own, so a queue costs its waiting rows
 * whatever the history kept.
 */
#include "store_int.h"

#include <string.h>

enum bb_rc store_notify_add(struct store *st, enum store_notify_kind kind, const char *json,
			    time_t now, bool mail, bool hook, struct err *e)
{
	if (kind != STORE_NOTIFY_FOLLOW && kind != STORE_NOTIFY_COMMENT)
		return err_set(e, BB_ERR_INVALID, "no such notification kind %d", (int)kind);
	if (json == NULL || json[0] == '\0')
		return err_set(e, BB_ERR_INVALID, "a notification needs its JSON");
	if (strlen(json) > STORE_NOTIFY_JSON_MAX)
		return err_set(e, BB_ERR_LIMIT, "notification over %d bytes",
			       STORE_NOTIFY_JSON_MAX);
	if (!mail && !hook)
		return BB_OK;
	return sql_run(st,
		       "INSERT INTO notify_events (kind, json, created, mail, hook, hook_next)"
		       " VALUES (?1, ?2, ?3, ?4, ?5, ?3)",
		       SQL_ARGS(SQL_INT(kind), SQL_TEXT(json), SQL_INT(now),
				SQL_INT(mail ? STORE_NOTIFY_WAITING : STORE_NOTIFY_NONE),
				SQL_INT(hook ? STORE_NOTIFY_WAITING : STORE_NOTIFY_NONE)),
		       "add notification", e);
}

/* The walk behind both queues: sql selects id, kind, json, created,
 * hook_attempts; at most max rows are handed to fn, and *more says
 * whether the query had a row beyond them (sql must allow max + 1). */
static enum bb_rc notify_walk(struct store *st, const char *sql, const struct sql_arg *args,
			      size_t nargs, size_t max, store_notify_fn fn, void *arg, bool *more,
			      struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	size_t seen = 0;
	enum bb_rc rc;
	int src;

	if (more)
		*more = false;
	rc = sql_prepare_args(st, sql, args, nargs, &stmt, "list notifications", e);
	if (rc != BB_OK)
		goto out;
	while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_notify_event ev = {
		    .id = sqlite3_column_int64(stmt, 0),
		    .kind = (enum store_notify_kind)sqlite3_column_int64(stmt, 1),
		    .json = (const char *)sqlite3_column_text(stmt, 2),
		    .created = (time_t)sqlite3_column_int64(stmt, 3),
		    .hook_attempts = (int)sqlite3_column_int64(stmt, 4),
		};
		if (seen == max) {
			if (more)
				*more = true;
			goto out;
		}
		if (ev.json == NULL) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		seen++;
		if ((rc = fn(&ev, arg, e)) != BB_OK)
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = sql_fail(st, src, "list notifications", e);
out:
	sql_release(st, stmt);
	return rc;
}

enum bb_rc store_notify_mail_each(struct store *st, size_t max, store_notify_fn fn, void *arg,
				  bool *more, struct err *e)
{
	return notify_walk(st,
			   "SELECT id, kind, json, created, hook_attempts FROM notify_events"
			   " WHERE mail = 0 ORDER BY id LIMIT ?1",
			   SQL_ARGS(SQL_INT(max + 1)), max, fn, arg, more, e);
}

enum bb_rc store_notify_mail_sent(struct store *st, int64_t up_to, struct err *e)
{
	return sql_run(st, "UPDATE notify_events SET mail = 1 WHERE mail = 0 AND id <= ?1",
		       SQL_ARGS(SQL_INT(up_to)), "mark notification mailed", e);
}

enum bb_rc store_notify_hook_each(struct store *st, time_t now, size_t max, store_notify_fn fn,
				  void *arg, struct err *e)
{
	return notify_walk(st,
			   "SELECT id, kind, json, created, hook_attempts FROM notify_events"
			   " WHERE hook = 0 AND hook_next <= ?1 ORDER BY hook_next, id LIMIT ?2",
			   SQL_ARGS(SQL_INT(now), SQL_INT(max + 1)), max, fn, arg, NULL, e);
}

/* Runs an update of one waiting POST; BB_ERR_NOTFOUND when none changed. */
static enum bb_rc hook_update(struct store *st, const char *sql, const struct sql_arg *args,
			      size_t n, int64_t id, struct err *e)
{
	enum bb_rc rc = sql_run(st, sql, args, n, "record webhook outcome", e);

	if (rc == BB_OK && sqlite3_changes(st->db) == 0)
		return err_set(e, BB_ERR_NOTFOUND, "notification %lld has no waiting POST",
			       (long long)id);
	return rc;
}

enum bb_rc store_notify_hook_sent(struct store *st, int64_t id, struct err *e)
{
	return hook_update(st,
			   "UPDATE notify_events SET hook = 1, hook_attempts = hook_attempts + 1,"
			   " hook_error = NULL WHERE id = ?1 AND hook = 0",
			   SQL_ARGS(SQL_INT(id)), id, e);
}

enum bb_rc store_notify_hook_retry(struct store *st, int64_t id, time_t next, const char *error,
				   struct err *e)
{
	return hook_update(st,
			   "UPDATE notify_events SET hook_attempts = hook_attempts + 1,"
			   " hook_next = ?2, hook_error = ?3 WHERE id = ?1 AND hook = 0",
			   SQL_ARGS(SQL_INT(id), SQL_INT(next), SQL_TEXT(error)), id, e);
}

enum bb_rc store_notify_hook_fail(struct store *st, int64_t id, const char *error, struct err *e)
{
	return hook_update(st,
			   "UPDATE notify_events SET hook = 2, hook_attempts = hook_attempts + 1,"
			   " hook_error = ?2 WHERE id = ?1 AND hook = 0",
			   SQL_ARGS(SQL_INT(id), SQL_TEXT(error)), id, e);
}

enum bb_rc store_notify_hook_next(struct store *st, time_t *out, struct err *e)
{
	int64_t next = 0;
	enum bb_rc rc;

	*out = 0;
	rc = sql_int(st, "SELECT min(hook_next) FROM notify_events WHERE hook = 0", NULL, 0, &next,
		     NULL, "next webhook POST", e);
	if (rc == BB_OK)
		*out = (time_t)next;
	return rc;
}

enum bb_rc store_notify_prune(struct store *st, time_t before, time_t stale, int64_t *removed,
			      struct err *e)
{
	enum bb_rc rc = sql_run(st,
				"DELETE FROM notify_events WHERE created < ?2"
				" OR (created < ?1 AND mail <> 0 AND hook <> 0)",
				SQL_ARGS(SQL_INT(before), SQL_INT(stale)), "prune notifications", e);

	if (removed)
		*removed = rc == BB_OK ? sqlite3_changes(st->db) : 0;
	return rc;
}
