/*
 * store_queue.c — outgoing activities and their delivery queue, in the
 * SQLite backend.
 *
 * An activity is stored once, rendered; each target inbox gets a delivery
 * row naming it.  Workers (threads or processes, each with its own
 * connection) claim due rows by leasing them: the claim runs in one
 * BEGIN IMMEDIATE transaction, so while a lease holds no other claim can
 * see the row, and a worker that dies leaves it to be claimed again when
 * the lease ends.  Every outcome (done, retry at a time, failed) clears
 * the lease.  Leases name their owner (a worker's incarnation), which
 * renews them by heartbeat; a dead owner's are released at once
 * (store_owners_reap).  A host marked unavailable (store_remote.c) is skipped by the
 * claim and by the next-due time, without touching its rows.
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

/* deliveries.state holds these numbers; the SQL below writes them as
 * literals (0 pending, 1 done, 2 failed). */
_Static_assert(STORE_DELIVERY_PENDING == 0 && STORE_DELIVERY_DONE == 1 &&
		   STORE_DELIVERY_FAILED == 2,
	       "deliveries.state literals in the SQL");

/* ---- activities and deliveries ---------------------------------------- */

enum bb_rc store_activity_add(struct store *st, const char *ap_id, const char *json, time_t now,
			      int64_t *rowid, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	if (ap_id == NULL || json == NULL) {
		rc = err_set(e, BB_ERR_INVALID, "activity: id and JSON are required");
		goto out;
	}
	rc = sql_prepare_args(
	    st, "INSERT INTO activities(ap_id, json, created_at) VALUES (?1, ?2, ?3)",
	    SQL_ARGS(SQL_TEXT(ap_id), SQL_TEXT(json), SQL_INT(now)), &stmt, "store activity", e);
	if (rc != BB_OK)
		goto out;
	src = sqlite3_step(stmt);
	if (src == SQLITE_CONSTRAINT_UNIQUE || src == SQLITE_CONSTRAINT_PRIMARYKEY) {
		rc = err_set(e, BB_ERR_INVALID, "activity %s is already stored", ap_id);
		goto out;
	}
	if (src != SQLITE_DONE) {
		rc = sql_fail(st, src, "store activity", e);
		goto out;
	}
	*rowid = sqlite3_last_insert_rowid(st->db);
out:
	sql_release(st, stmt);
	return rc;
}

/* ---- the inserter store_delivery_add and store_fanout share ------------ */

enum bb_rc queue_insert_prepare(struct store *st, struct queue_insert *qi, struct err *e)
{
	enum bb_rc rc;

	qi->host = NULL;
	qi->row = NULL;
	/* Every delivery's host has a hosts row: the claim walks hosts. */
	rc = sql_prepare(st, "INSERT OR IGNORE INTO hosts(host) VALUES (?1)", &qi->host, e);
	if (rc != BB_OK)
		goto out;
	rc = sql_prepare(st,
			 "INSERT INTO deliveries(activity, inbox, host, next_attempt,"
			 " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4, ?4)"
			 " ON CONFLICT(activity, inbox) DO NOTHING",
			 &qi->row, e);
out:
	if (rc != BB_OK)
		queue_insert_finalize(st, qi);
	return rc;
}

void queue_insert_finalize(struct store *st, struct queue_insert *qi)
{
	sql_release(st, qi->host);
	sql_release(st, qi->row);
	qi->host = NULL;
	qi->row = NULL;
}

/* Steps a prepared insert to completion and resets it for the next call;
 * the bindings (which may point at the caller's buffers) are replaced by
 * the next call before it steps. */
static int insert_step(sqlite3_stmt *stmt)
{
	int src = sqlite3_step(stmt);

	/* reset repeats the step's error, which src already holds. */
	(void)sqlite3_reset(stmt);
	return src;
}

enum bb_rc queue_insert_add(struct store *st, struct queue_insert *qi, int64_t activity,
			    const char *inbox, const char *host, time_t now, bool *added,
			    struct err *e)
{
	int src;

	*added = false;
	if (host == NULL || host[0] == '\0')
		return err_set(e, BB_ERR_INVALID, "delivery to %.200s: no host", inbox);
	if (strlen(host) > HOST_MAX)
		return err_set(e, BB_ERR_LIMIT, "delivery to %.200s: host longer than %d bytes",
			       inbox, HOST_MAX);
	src = sql_bind_text(qi->host, 1, host);
	if (src == SQLITE_OK)
		src = insert_step(qi->host);
	if (src != SQLITE_DONE)
		return sql_fail(st, src, "queue delivery", e);
	src = sqlite3_bind_int64(qi->row, 1, activity);
	if (src == SQLITE_OK)
		src = sql_bind_text(qi->row, 2, inbox);
	if (src == SQLITE_OK)
		src = sql_bind_text(qi->row, 3, host);
	if (src == SQLITE_OK)
		src = sqlite3_bind_int64(qi->row, 4, (sqlite3_int64)now);
	if (src == SQLITE_OK)
		src = insert_step(qi->row);
	if (src == SQLITE_CONSTRAINT_FOREIGNKEY)
		return err_set(e, BB_ERR_NOTFOUND, "delivery to %s: no activity %lld", inbox,
			       (long long)activity);
	if (src != SQLITE_DONE)
		return sql_fail(st, src, "queue delivery", e);
	/* 0 when the pair was already queued (DO NOTHING). */
	*added = sqlite3_changes(st->db) > 0;
	return BB_OK;
}

enum bb_rc store_delivery_add(struct store *st, int64_t activity, const char *inbox,
			      const char *host, time_t now, struct err *e)
{
	struct sql_txn t = {0};
	struct queue_insert qi = {0};
	bool added = false;
	enum bb_rc rc;

	rc = sql_txn_begin(st, &t, e);
	if (rc != BB_OK)
		goto out;
	rc = queue_insert_prepare(st, &qi, e);
	if (rc != BB_OK)
		goto out;
	rc = queue_insert_add(st, &qi, activity, inbox, host, now, &added, e);
out:
	queue_insert_finalize(st, &qi);
	return sql_txn_end(st, &t, rc, e);
}

/* ---- claiming --------------------------------------------------------- */

/* A claimed row, copied out of the transaction for the callbacks. */
struct claimed {
	int64_t id;
	char *inbox;
	char *host;
	char *body;
	int attempts;
};

static void claimed_free(struct claimed *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].inbox);
		free(rows[i].host);
		free(rows[i].body);
	}
	free(rows);
}

/* A row that may be claimed: its id and when it is due. */
struct candidate {
	int64_t id;
	int64_t due;
};

/* Oldest due first, then by id. */
static int candidate_cmp(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	if (x->due != y->due)
		return x->due < y->due ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* Appends one candidate, growing *c (capacity *cap). */
static bool candidate_push(struct candidate **c, size_t *n, size_t *cap, int64_t id, int64_t due)
{
	if (*n == *cap) {
		size_t grown = *cap ? *cap * 2 : 64;
		struct candidate *more = realloc(*c, grown * sizeof(**c));

		if (more == NULL)
			return false;
		*c = more;
		*cap = grown;
	}
	(*c)[*n].id = id;
	(*c)[*n].due = due;
	(*n)++;
	return true;
}

/* Finds the rows to claim: for each available host with due rows, its
 * oldest due rows, at most per_host minus its live leases (and at most
 * limit).  A lease is live while it has not run out, or while its owner
 * is registered (a live owner's lease is never taken, however late its
 * renewal: only the reap of a dead owner frees it); then the oldest `limit` of them all, in *c / *n (sorted).  A
 * row waits while an earlier row to the same inbox is pending (leased,
 * or retrying): one inbox receives its activities in the order they
 * were queued, so an Update never overtakes its Create.
 *
 * Per host, because one query ranking every due row (a window function)
 * costs a sort of the whole backlog on every claim, under the write lock:
 * a dead host with 100,000 rows made each claim take a second.  Here each
 * host costs a few index probes (deliveries_host_due, deliveries_leased),
 * and a host's backlog beyond its cap is never read. */
static enum bb_rc claim_candidates(struct store *st, time_t now, int64_t limit, int64_t per_host,
				   struct candidate **c, size_t *n, struct err *e)
{
	sqlite3_stmt *hosts = NULL, *rows = NULL;
	size_t cap = 0;
	enum bb_rc rc;
	int src;

	rc = sql_prepare_args(st,
			      "SELECT h.host, (SELECT count(*) FROM deliveries y"
			      "  WHERE y.host = h.host AND y.state = 0 AND y.lease_until > 0"
			      "  AND (y.lease_until > ?1 OR y.lease_owner IN (SELECT id FROM owners)))"
			      " FROM hosts h WHERE h.unavailable = 0 AND EXISTS (SELECT 1"
			      "  FROM deliveries x WHERE x.host = h.host AND x.state = 0"
			      "  AND x.next_attempt <= ?1)",
			      SQL_ARGS(SQL_INT(now)), &hosts, "claim deliveries", e);
	if (rc != BB_OK)
		goto out;
	rc = sql_prepare(st,
			 "SELECT id, next_attempt FROM deliveries d WHERE host = ?1 AND state = 0"
			 " AND next_attempt <= ?2 AND (lease_until = 0 OR (lease_until <= ?2"
			 "  AND (lease_owner IS NULL OR lease_owner NOT IN (SELECT id FROM owners))))"
			 " AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.inbox = d.inbox"
			 "  AND o.state = 0 AND o.id < d.id)"
			 " ORDER BY next_attempt, id LIMIT ?3",
			 &rows, e);
	if (rc != BB_OK)
		goto out;
	while ((src = sqlite3_step(hosts)) == SQLITE_ROW) {
		int64_t room = per_host - sqlite3_column_int64(hosts, 1);

		if (room <= 0)
			continue;
		src = sqlite3_bind_value(rows, 1, sqlite3_column_value(hosts, 0));
		if (src == SQLITE_OK)
			src = sqlite3_bind_int64(rows, 2, now);
		if (src == SQLITE_OK)
			src = sqlite3_bind_int64(rows, 3, room < limit ? room : limit);
		while (src == SQLITE_OK && (src = sqlite3_step(rows)) == SQLITE_ROW) {
			if (!candidate_push(c, n, &cap, sqlite3_column_int64(rows, 0),
					    sqlite3_column_int64(rows, 1))) {
				rc = err_set(e, BB_ERR_NOMEM, "out of memory");
				goto out;
			}
			src = SQLITE_OK;
		}
		if (src != SQLITE_DONE) {
			rc = sql_fail(st, src, "claim deliveries", e);
			goto out;
		}
		src = sqlite3_reset(rows);
		if (src != SQLITE_OK) {
			rc = sql_fail(st, src, "claim deliveries", e);
			goto out;
		}
	}
	if (src != SQLITE_DONE) {
		rc = sql_fail(st, src, "claim deliveries", e);
		goto out;
	}
	if (*n > 0)
		qsort(*c, *n, sizeof(**c), candidate_cmp);
	if (*n > (uint64_t)limit)
		*n = (size_t)limit;
out:
	sql_release(st, rows);
	sql_release(st, hosts);
	return rc;
}

/* Reads what the worker needs of each chosen row into *rows (n of them,
 * zeroed first); on error the caller frees what was read. */
static enum bb_rc claim_fetch(struct store *st, const struct candidate *c, size_t n,
			      struct claimed *rows, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	rc =
	    sql_prepare(st,
			"SELECT d.inbox, d.host, a.json, d.attempts"
			" FROM deliveries d JOIN activities a ON a.id = d.activity WHERE d.id = ?1",
			&stmt, e);
	if (rc != BB_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct claimed *r = &rows[i];

		src = sqlite3_bind_int64(stmt, 1, c[i].id);
		if (src == SQLITE_OK)
			src = sqlite3_step(stmt);
		if (src != SQLITE_ROW) {
			/* In our own transaction the row cannot vanish. */
			rc = src == SQLITE_DONE
				 ? err_set(e, BB_ERR_STORE, "database: delivery %lld vanished",
					   (long long)c[i].id)
				 : sql_fail(st, src, "claim deliveries", e);
			goto out;
		}
		r->id = c[i].id;
		r->attempts = sqlite3_column_int(stmt, 3);
		if (!sql_column_dup(stmt, 0, &r->inbox) || !sql_column_dup(stmt, 1, &r->host) ||
		    !sql_column_dup(stmt, 2, &r->body) || !r->inbox || !r->host || !r->body) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		src = sqlite3_reset(stmt);
		if (src != SQLITE_OK) {
			rc = sql_fail(st, src, "claim deliveries", e);
			goto out;
		}
	}
out:
	sql_release(st, stmt);
	return rc;
}

/* Leases rows[0..n) to owner (NULL: none) until `until`. */
static enum bb_rc claim_lease(struct store *st, const char *owner, const struct claimed *rows,
			      size_t n, int64_t until, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	rc = sql_prepare(
	    st, "UPDATE deliveries SET lease_until = ?1, lease_owner = ?3 WHERE id = ?2", &stmt, e);
	if (rc != BB_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		src = sqlite3_bind_int64(stmt, 1, until);
		if (src == SQLITE_OK)
			src = sqlite3_bind_int64(stmt, 2, rows[i].id);
		if (src == SQLITE_OK)
			src = owner ? sql_bind_text(stmt, 3, owner) : sqlite3_bind_null(stmt, 3);
		if (src == SQLITE_OK)
			src = sqlite3_step(stmt);
		if (src != SQLITE_DONE) {
			rc = sql_fail(st, src, "lease delivery", e);
			goto out;
		}
		src = sqlite3_reset(stmt);
		if (src != SQLITE_OK) {
			rc = sql_fail(st, src, "lease delivery", e);
			goto out;
		}
	}
out:
	sql_release(st, stmt);
	return rc;
}

/* size_t to a SQL integer, SIZE_MAX and beyond INT64_MAX as INT64_MAX. */
static int64_t clamp_count(size_t n)
{
	return n > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)n;
}

enum bb_rc store_delivery_claim(struct store *st, const char *owner, time_t now, int lease_s,
				size_t max, size_t per_host, store_delivery_fn fn, void *arg,
				struct err *e)
{
	struct sql_txn t = {0};
	struct candidate *cands = NULL;
	struct claimed *rows = NULL;
	size_t n = 0;
	enum bb_rc rc = BB_OK;

	if (lease_s <= 0) {
		rc = err_set(e, BB_ERR_INVALID, "claim deliveries: lease of %d s", lease_s);
		goto out;
	}
	if (max == 0)
		goto out;
	rc = sql_txn_begin(st, &t, e);
	if (rc != BB_OK)
		goto out;
	rc = claim_candidates(st, now, clamp_count(max),
			      per_host == 0 ? INT64_MAX : clamp_count(per_host), &cands, &n, e);
	if (rc == BB_OK && n > 0) {
		rows = calloc(n, sizeof(*rows));
		if (rows == NULL)
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
	}
	if (rc == BB_OK)
		rc = claim_fetch(st, cands, n, rows, e);
	if (rc == BB_OK)
		rc = claim_lease(st, owner, rows, n, (int64_t)now + lease_s, e);
	rc = sql_txn_end(st, &t, rc, e);
	if (rc != BB_OK)
		goto out;
	/* Committed: the rows are ours until the lease ends; those fn does
	 * not take (it stopped the walk) are claimed again after it. */
	for (size_t i = 0; i < n && rc == BB_OK; i++) {
		struct store_delivery d = {rows[i].id, rows[i].inbox, rows[i].host, rows[i].body,
					   rows[i].attempts};

		rc = fn(&d, arg, e);
	}
out:
	free(cands);
	claimed_free(rows, rows ? n : 0);
	return rc;
}

enum bb_rc store_delivery_release(struct store *st, int64_t id, const char *owner, struct err *e)
{
	return sql_run(st,
		       "UPDATE deliveries SET lease_until = 0, lease_owner = NULL"
		       " WHERE id = ?1 AND state = 0 AND lease_until > 0 AND lease_owner = ?2",
		       SQL_ARGS(SQL_INT(id), SQL_TEXT(owner)), "release delivery", e);
}

/* ---- lease owners ------------------------------------------------------
 * Leased rows are few (at most the in-flight limit per worker) and all in
 * the partial index deliveries_leased, so the updates below that look for
 * an owner's leases scan just that index. */

/* A valid owner id or host name: 1..max bytes. */
static bool owner_text_ok(const char *s, size_t max)
{
	return s != NULL && s[0] != '\0' && strlen(s) <= max;
}

enum bb_rc store_owner_register(struct store *st, const struct store_owner *o, struct err *e)
{
	if (!owner_text_ok(o->id, STORE_OWNER_ID_MAX) ||
	    !owner_text_ok(o->hostname, STORE_OWNER_HOST_MAX))
		return err_set(e, BB_ERR_INVALID, "lease owner: bad id or host name");
	return sql_run(st,
		       "INSERT INTO owners(id, pid, hostname, heartbeat) VALUES (?1, ?2, ?3, ?4)"
		       " ON CONFLICT(id) DO UPDATE SET pid = ?2, hostname = ?3, heartbeat = ?4",
		       SQL_ARGS(SQL_TEXT(o->id), SQL_INT(o->pid), SQL_TEXT(o->hostname),
				SQL_INT(o->heartbeat)),
		       "register lease owner", e);
}

enum bb_rc store_owner_heartbeat(struct store *st, const char *id, time_t now, time_t lease_until,
				 int64_t *renewed, struct err *e)
{
	struct sql_txn t = {0};
	enum bb_rc rc;

	if (renewed)
		*renewed = 0;
	rc = sql_txn_begin(st, &t, e);
	if (rc != BB_OK)
		return rc;
	rc = sql_run(st, "UPDATE owners SET heartbeat = ?2 WHERE id = ?1",
		     SQL_ARGS(SQL_TEXT(id), SQL_INT(now)), "heartbeat", e);
	/* Not an owner: taken for dead, its leases are another's now. */
	if (rc == BB_OK && sqlite3_changes(st->db) == 0)
		rc = err_set(e, BB_ERR_NOTFOUND, "lease owner %.64s is not registered", id);
	if (rc == BB_OK)
		rc = sql_run(st,
			     "UPDATE deliveries SET lease_until = ?2 WHERE state = 0"
			     " AND lease_until > 0 AND lease_owner = ?1",
			     SQL_ARGS(SQL_TEXT(id), SQL_INT(lease_until)), "renew leases", e);
	if (rc == BB_OK && renewed)
		*renewed = sqlite3_changes(st->db);
	return sql_txn_end(st, &t, rc, e);
}

/* Runs release_sql (freeing some owners' leases; ?1 is arg) and then
 * delete_sql (forgetting those owners) in one transaction. */
static enum bb_rc owners_drop(struct store *st, const char *release_sql, const char *delete_sql,
			      struct sql_arg arg, int64_t *released, struct err *e)
{
	struct sql_txn t = {0};
	enum bb_rc rc;

	if (released)
		*released = 0;
	rc = sql_txn_begin(st, &t, e);
	if (rc != BB_OK)
		return rc;
	rc = sql_run(st, release_sql, &arg, 1, "release leases", e);
	if (rc == BB_OK && released)
		*released = sqlite3_changes(st->db);
	if (rc == BB_OK)
		rc = sql_run(st, delete_sql, &arg, 1, "forget lease owners", e);
	return sql_txn_end(st, &t, rc, e);
}

enum bb_rc store_owner_release(struct store *st, const char *id, int64_t *released, struct err *e)
{
	return owners_drop(st,
			   "UPDATE deliveries SET lease_until = 0, lease_owner = NULL"
			   " WHERE state = 0 AND lease_until > 0 AND lease_owner = ?1",
			   "DELETE FROM owners WHERE id = ?1", SQL_TEXT(id), released, e);
}

enum bb_rc store_owners_reap(struct store *st, time_t before, int64_t *released, struct err *e)
{
	return owners_drop(st,
			   "UPDATE deliveries SET lease_until = 0, lease_owner = NULL"
			   " WHERE state = 0 AND lease_until > 0 AND lease_owner IN"
			   " (SELECT id FROM owners WHERE heartbeat < ?1)",
			   "DELETE FROM owners WHERE heartbeat < ?1", SQL_INT(before), released, e);
}

enum bb_rc store_owner_each(struct store *st, store_owner_fn fn, void *arg, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	rc = sql_prepare(st, "SELECT id, pid, hostname, heartbeat FROM owners ORDER BY id", &stmt,
			 e);
	if (rc != BB_OK)
		goto out;
	while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_owner o = {
		    .id = (const char *)sqlite3_column_text(stmt, 0),
		    .pid = (long)sqlite3_column_int64(stmt, 1),
		    .hostname = (const char *)sqlite3_column_text(stmt, 2),
		    .heartbeat = (time_t)sqlite3_column_int64(stmt, 3),
		};

		/* Both NOT NULL: NULL here means SQLite ran out of memory. */
		if (o.id == NULL || o.hostname == NULL) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		rc = fn(&o, arg, e);
		if (rc != BB_OK)
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = sql_fail(st, src, "lease owners", e);
out:
	sql_release(st, stmt);
	return rc;
}

/* ---- outcomes --------------------------------------------------------- */

/* Runs an outcome's UPDATE (whose WHERE keeps it to a pending row, ?1 the
 * id) and says BB_ERR_NOTFOUND when it touched none. */
static enum bb_rc outcome(struct store *st, int64_t id, const char *sql, const struct sql_arg *args,
			  size_t n, struct err *e)
{
	enum bb_rc rc = sql_run(st, sql, args, n, "record delivery outcome", e);

	if (rc == BB_OK && sqlite3_changes(st->db) == 0)
		rc = err_set(e, BB_ERR_NOTFOUND, "delivery %lld is not pending", (long long)id);
	return rc;
}

/* Status 0 (no HTTP answer) is stored as NULL. */
enum bb_rc store_delivery_done(struct store *st, int64_t id, int status, time_t now, struct err *e)
{
	return outcome(st, id,
		       "UPDATE deliveries SET state = 1, attempts = attempts + 1,"
		       " last_status = nullif(?2, 0), last_error = NULL, lease_until = 0,"
		       " updated_at = ?3 WHERE id = ?1 AND state = 0",
		       SQL_ARGS(SQL_INT(id), SQL_INT(status), SQL_INT(now)), e);
}

enum bb_rc store_delivery_retry(struct store *st, int64_t id, int status, const char *error,
				time_t next, time_t now, struct err *e)
{
	return outcome(
	    st, id,
	    "UPDATE deliveries SET attempts = attempts + 1, next_attempt = ?4,"
	    " last_status = nullif(?2, 0), last_error = ?3, lease_until = 0,"
	    " updated_at = ?5 WHERE id = ?1 AND state = 0",
	    SQL_ARGS(SQL_INT(id), SQL_INT(status), SQL_TEXT(error), SQL_INT(next), SQL_INT(now)),
	    e);
}

enum bb_rc store_delivery_fail(struct store *st, int64_t id, int status, const char *error,
			       time_t now, struct err *e)
{
	return outcome(st, id,
		       "UPDATE deliveries SET state = 2, attempts = attempts + 1,"
		       " last_status = nullif(?2, 0), last_error = ?3, lease_until = 0,"
		       " updated_at = ?4 WHERE id = ?1 AND state = 0",
		       SQL_ARGS(SQL_INT(id), SQL_INT(status), SQL_TEXT(error), SQL_INT(now)), e);
}

enum bb_rc store_delivery_next_due(struct store *st, time_t *out, struct err *e)
{
	enum bb_rc rc;
	int64_t due = 0;

	/* A leased row is due again only when its lease ends: without that,
	 * a worker asking while its own claims are in flight would be told
	 * "now" and spin.  Unleased rows: each available host's first in
	 * deliveries_host_due order; leased ones (few) from deliveries_leased;
	 * neither reads a host's whole backlog. */
	rc = sql_int(
	    st,
	    "SELECT min(due) FROM ("
	    " SELECT (SELECT x.next_attempt FROM deliveries x WHERE x.host = h.host"
	    "  AND x.state = 0 AND x.lease_until = 0 ORDER BY x.next_attempt LIMIT 1) AS due"
	    " FROM hosts h WHERE h.unavailable = 0"
	    " UNION ALL"
	    " SELECT max(y.next_attempt, y.lease_until) FROM deliveries y"
	    " WHERE y.state = 0 AND y.lease_until > 0 AND NOT EXISTS (SELECT 1 FROM hosts h"
	    "  WHERE h.host = y.host AND h.unavailable <> 0))",
	    NULL, 0, &due, NULL, "next due delivery", e);
	if (rc == BB_OK)
		*out = (time_t)due;
	return rc;
}

/* ---- health ----------------------------------------------------------- */

enum bb_rc store_host_stats_each(struct store *st, store_host_stats_fn fn, void *arg, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	/* last_error: of the host's most recently updated row that waits
	 * after a failure or has failed for good, among those with a reason. */
	rc =
	    sql_prepare(st,
			"SELECT d.host,"
			" sum(d.state = 0 AND d.attempts = 0), sum(d.state = 0 AND d.attempts > 0),"
			" sum(d.state = 2), sum(d.state = 1),"
			" coalesce((SELECT h.unavailable FROM hosts h WHERE h.host = d.host), 0),"
			" (SELECT x.last_error FROM deliveries x WHERE x.host = d.host"
			"  AND x.last_error IS NOT NULL"
			"  AND (x.state = 2 OR (x.state = 0 AND x.attempts > 0))"
			"  ORDER BY x.updated_at DESC, x.id DESC LIMIT 1),"
			" coalesce(min(CASE WHEN d.state = 0 THEN d.next_attempt END), 0),"
			" coalesce((SELECT o.since FROM host_outages o WHERE o.host = d.host), 0),"
			" coalesce((SELECT h.last_success FROM hosts h WHERE h.host = d.host), 0),"
			" coalesce((SELECT h.last_failure FROM hosts h WHERE h.host = d.host), 0),"
			" (SELECT count(*) FROM host_failures f WHERE f.host = d.host)"
			" FROM deliveries d GROUP BY d.host ORDER BY d.host",
			&stmt, e);
	if (rc != BB_OK)
		goto out;
	while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
		/* Asked before the text is read: after a conversion the type
		 * is undefined. */
		bool has_error = sqlite3_column_type(stmt, 6) != SQLITE_NULL;
		struct store_host_stats h = {
		    .host = (const char *)sqlite3_column_text(stmt, 0),
		    .pending = sqlite3_column_int64(stmt, 1),
		    .retrying = sqlite3_column_int64(stmt, 2),
		    .failed = sqlite3_column_int64(stmt, 3),
		    .done = sqlite3_column_int64(stmt, 4),
		    .unavailable = sqlite3_column_int64(stmt, 5) != 0,
		    .last_error = (const char *)sqlite3_column_text(stmt, 6),
		    .next_attempt = (time_t)sqlite3_column_int64(stmt, 7),
		    .failing_since = (time_t)sqlite3_column_int64(stmt, 8),
		    .last_success = (time_t)sqlite3_column_int64(stmt, 9),
		    .last_failure = (time_t)sqlite3_column_int64(stmt, 10),
		    .failure_days = sqlite3_column_int64(stmt, 11),
		};

		/* host is NOT NULL and last_error NULL only when absent: a
		 * NULL pointer otherwise means SQLite ran out of memory. */
		if (h.host == NULL || (h.last_error == NULL && has_error)) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		rc = fn(&h, arg, e);
		if (rc != BB_OK)
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = sql_fail(st, src, "delivery health", e);
out:
	sql_release(st, stmt);
	return rc;
}

enum bb_rc store_prune(struct store *st, time_t now, int64_t *removed, struct err *e)
{
	struct sql_txn t = {0};
	int64_t n = 0;
	enum bb_rc rc;

	if (removed)
		*removed = 0;
	rc = sql_txn_begin(st, &t, e);
	if (rc != BB_OK)
		return rc;
	rc = sql_run(st, "DELETE FROM seen WHERE received_at < ?1",
		     SQL_ARGS(SQL_INT(now - STORE_KEEP_SEEN_S)), "prune seen ids", e);
	if (rc == BB_OK) {
		n += sqlite3_changes(st->db);
		rc = sql_run(st,
			     "DELETE FROM deliveries WHERE (state = 1 AND updated_at < ?1)"
			     " OR (state = 2 AND updated_at < ?2)",
			     SQL_ARGS(SQL_INT(now - STORE_KEEP_DONE_S),
				      SQL_INT(now - STORE_KEEP_FAILED_S)),
			     "prune deliveries", e);
	}
	if (rc == BB_OK)
		n += sqlite3_changes(st->db);
	rc = sql_txn_end(st, &t, rc, e);
	if (rc == BB_OK && removed)
		*removed = n;
	return rc;
}
