/*
 * store_comments.c — the SQLite backend's comments, reactions and
 * mentions (store.h, "comments and reactions").
 *
 * A comment row is never removed: deletion is a status, so the UNIQUE
 * ap_id keeps a replayed Create out.  Every change to a post's comments or
 * reactions runs in one transaction with the bump of that post's row in
 * comments_versions, so a reader never sees the change without the new
 * version (or the reverse).  Statuses and reaction types are stored as
 * their enum values; the walks read them back through checked
 * conversions, never a bare cast of an unchecked integer.
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const status_names[STORE_COMMENT_STATUS_COUNT] = {
    [STORE_COMMENT_PENDING] = "pending",   [STORE_COMMENT_APPROVED] = "approved",
    [STORE_COMMENT_REJECTED] = "rejected", [STORE_COMMENT_PRIVATE] = "private",
    [STORE_COMMENT_DELETED] = "deleted",
};

static const char *const reaction_names[STORE_REACTION_TYPE_COUNT] = {
    [STORE_REACTION_LIKE] = "like",
    [STORE_REACTION_BOOST] = "boost",
    [STORE_REACTION_QUOTE] = "quote",
};

const char *store_comment_status_name(enum store_comment_status s)
{
	if ((int)s < 0 || (int)s >= STORE_COMMENT_STATUS_COUNT)
		return NULL;
	return status_names[s];
}

bool store_comment_status_parse(const char *name, enum store_comment_status *out)
{
	if (name == NULL)
		return false;
	for (int i = 0; i < STORE_COMMENT_STATUS_COUNT; i++) {
		if (strcmp(name, status_names[i]) == 0) {
			*out = (enum store_comment_status)i;
			return true;
		}
	}
	return false;
}

const char *store_reaction_type_name(enum store_reaction_type t)
{
	if ((int)t < 0 || (int)t >= STORE_REACTION_TYPE_COUNT)
		return NULL;
	return reaction_names[t];
}

static bool status_valid(enum store_comment_status s)
{
	return (int)s >= 0 && (int)s < STORE_COMMENT_STATUS_COUNT;
}

void store_comment_clear(struct store_comment *c)
{
	free(c->ap_id);
	free(c->parent);
	free(c->author);
	free(c->url);
	free(c->content);
	free(c->author_name);
	free(c->author_handle);
	free(c->author_avatar);
	free(c->author_url);
	memset(c, 0, sizeof(*c));
}

void store_reaction_clear(struct store_reaction *r)
{
	free(r->actor);
	free(r->activity_id);
	memset(r, 0, sizeof(*r));
}

void store_mention_clear(struct store_mention *m)
{
	free(m->ap_id);
	free(m->author);
	free(m->content);
	memset(m, 0, sizeof(*m));
}

/* ---- versions ----------------------------------------------------------- */

/* Moves post's comments version on; run inside the change's transaction. */
static enum bb_rc version_bump(struct store *st, int64_t post, struct err *e)
{
	return sql_run(st,
		       "INSERT INTO comments_versions(post, version) VALUES (?1, 1)"
		       " ON CONFLICT(post) DO UPDATE SET version = version + 1",
		       SQL_ARGS(SQL_INT(post)), "bump comments version", e);
}

enum bb_rc store_post_comments_version(struct store *st, int64_t post, int64_t *out, struct err *e)
{
	*out = 0;
	return sql_int(st, "SELECT version FROM comments_versions WHERE post = ?1",
		       SQL_ARGS(SQL_INT(post)), out, NULL, "read comments version", e);
}

/* One post by sql's ?1 = key (its id, deleted time and comments version),
 * into *post and *version; *found false when no row. */
static enum bb_rc post_version_read(struct store *st, const char *sql, const char *key,
				    int64_t *post, int64_t *version, bool *found, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	*found = false;
	rc = sql_prepare_args(st, sql, SQL_ARGS(SQL_TEXT(key)), &stmt, "find post", e);
	if (rc != BB_OK)
		return rc;
	src = sqlite3_step(stmt);
	if (src == SQLITE_ROW) {
		*found = true;
		*post = sqlite3_column_int64(stmt, 0);
		*version = sqlite3_column_int64(stmt, 2);
		if (sqlite3_column_int64(stmt, 1) != 0)
			rc = err_set(e, BB_ERR_NOTFOUND, "post %.200s is deleted", key);
	} else if (src != SQLITE_DONE) {
		rc = sql_fail(st, src, "find post", e);
	}
	sql_release(st, stmt);
	return rc;
}

#define POST_VERSION_SQL                                                                           \
	"SELECT p.id, p.deleted, coalesce((SELECT v.version FROM comments_versions v"              \
	" WHERE v.post = p.id), 0) FROM posts p"

enum bb_rc store_post_comments_find(struct store *st, const char *key, int64_t *post,
				    int64_t *version, struct err *e)
{
	bool found = false;
	enum bb_rc rc;

	*post = 0;
	*version = 0;
	/* As store_post_by_url, then store_post_by_ap_id. */
	rc = post_version_read(st,
			       POST_VERSION_SQL " WHERE p.url = ?1"
					       " ORDER BY p.deleted <> 0, p.published DESC, p.id DESC"
					       " LIMIT 1",
			       key, post, version, &found, e);
	if (rc == BB_OK && !found)
		rc = post_version_read(st, POST_VERSION_SQL " WHERE p.ap_id = ?1", key, post,
				       version, &found, e);
	if (rc == BB_OK && !found)
		rc = err_set(e, BB_ERR_NOTFOUND, "no post with URL or id %.200s", key);
	return rc;
}

static enum bb_rc post_exists(struct store *st, int64_t post, struct err *e)
{
	bool found = false;
	int64_t one = 0;
	enum bb_rc rc;

	rc = sql_int(st, "SELECT 1 FROM posts WHERE id = ?1", SQL_ARGS(SQL_INT(post)), &one, &found,
		     "find post", e);
	if (rc == BB_OK && !found)
		rc = err_set(e, BB_ERR_NOTFOUND, "no post %lld", (long long)post);
	return rc;
}

/* ---- comments ----------------------------------------------------------- */

enum bb_rc store_comment_add(struct store *st, const struct store_comment *c, bool *is_new,
			     struct err *e)
{
	struct sql_txn t = {0};
	enum bb_rc rc;

	*is_new = false;
	if (c->ap_id == NULL || c->author == NULL || c->content == NULL) {
		rc = err_set(e, BB_ERR_INVALID, "comment %s: id, author and content are required",
			     c->ap_id ? c->ap_id : "(no id)");
		goto out;
	}
	if (!status_valid(c->status)) {
		rc = err_set(e, BB_ERR_INVALID, "comment %s: status %d", c->ap_id, (int)c->status);
		goto out;
	}
	rc = sql_txn_begin(st, &t, e);
	if (rc != BB_OK)
		goto out;
	rc = post_exists(st, c->post, e);
	if (rc != BB_OK)
		goto out;
	rc =
	    sql_run(st,
		    "INSERT INTO comments(ap_id, post, parent, author, url, content, status,"
		    " edited, published, updated, received)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
		    " ON CONFLICT(ap_id) DO NOTHING",
		    SQL_ARGS(SQL_TEXT(c->ap_id), SQL_INT(c->post), SQL_TEXT(c->parent),
			     SQL_TEXT(c->author), SQL_TEXT(c->url), SQL_TEXT(c->content),
			     SQL_INT(c->status), SQL_INT(c->edited), SQL_INT(c->published),
			     SQL_INT(c->updated ? c->updated : c->published), SQL_INT(c->received)),
		    "store comment", e);
	if (rc != BB_OK)
		goto out;
	*is_new = sqlite3_changes(st->db) > 0;
	if (*is_new)
		rc = version_bump(st, c->post, e);
out:
	rc = sql_txn_end(st, &t, rc, e);
	if (rc != BB_OK)
		*is_new = false;
	return rc;
}

#define COMMENT_COLUMNS                                                                            \
	"c.id, c.ap_id, c.post, c.parent, c.author, c.url, c.content, c.status, c.edited,"         \
	" c.published, c.updated, c.received, a.name, a.handle, a.avatar, a.url"
#define COMMENT_FROM " FROM comments c LEFT JOIN actors a ON a.id = c.author"

/* Fills c (empty on entry) from a row of COMMENT_COLUMNS: BB_ERR_NOMEM
 * when out of memory, BB_ERR_STORE for a status outside the enum (c then
 * holds what was copied, for the caller to clear). */
static enum bb_rc comment_read(sqlite3_stmt *stmt, struct store_comment *c, struct err *e)
{
	int64_t status;

	c->rowid = sqlite3_column_int64(stmt, 0);
	if (!sql_column_dup(stmt, 1, &c->ap_id) || !sql_column_dup(stmt, 3, &c->parent) ||
	    !sql_column_dup(stmt, 4, &c->author) || !sql_column_dup(stmt, 5, &c->url) ||
	    !sql_column_dup(stmt, 6, &c->content) || !sql_column_dup(stmt, 12, &c->author_name) ||
	    !sql_column_dup(stmt, 13, &c->author_handle) ||
	    !sql_column_dup(stmt, 14, &c->author_avatar) ||
	    !sql_column_dup(stmt, 15, &c->author_url))
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	c->post = sqlite3_column_int64(stmt, 2);
	status = sqlite3_column_int64(stmt, 7);
	if (status < 0 || status >= STORE_COMMENT_STATUS_COUNT)
		return err_set(e, BB_ERR_STORE, "comment %s: status %lld stored", c->ap_id,
			       (long long)status);
	c->status = (enum store_comment_status)status;
	c->edited = sqlite3_column_int64(stmt, 8) != 0;
	c->published = (time_t)sqlite3_column_int64(stmt, 9);
	c->updated = (time_t)sqlite3_column_int64(stmt, 10);
	c->received = (time_t)sqlite3_column_int64(stmt, 11);
	return BB_OK;
}

enum bb_rc store_comment_get(struct store *st, const char *ap_id, struct store_comment *out,
			     struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	enum bb_rc rc;
	int src;

	memset(out, 0, sizeof(*out));
	rc = sql_prepare_args(st, "SELECT " COMMENT_COLUMNS COMMENT_FROM " WHERE c.ap_id = ?1",
			      SQL_ARGS(SQL_TEXT(ap_id)), &stmt, "read comment", e);
	if (rc != BB_OK)
		goto out;
	src = sqlite3_step(stmt);
	if (src == SQLITE_DONE) {
		rc = err_set(e, BB_ERR_NOTFOUND, "no comment %s", ap_id);
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = sql_fail(st, src, "read comment", e);
		goto out;
	}
	rc = comment_read(stmt, out, e);
out:
	if (rc != BB_OK)
		store_comment_clear(out);
	sql_release(st, stmt);
	return rc;
}

/* The post of the comment ap_id, or 0 (*post) when there is none. */
static enum bb_rc comment_post(struct store *st, const char *ap_id, int64_t *post, struct err *e)
{
	*post = 0;
	return sql_int(st, "SELECT post FROM comments WHERE ap_id = ?1", SQL_ARGS(SQL_TEXT(ap_id)),
		       post, NULL, "find comment", e);
}

enum bb_rc store_comment_edit(struct store *st, const char *ap_id, const char *author,
			      const char *content, time_t updated, bool *applied, struct err *e)
{
	struct sql_txn t = {0};
	int64_t post = 0;
	enum bb_rc rc;

	*applied = false;
	if (ap_id == NULL || author == NULL || content == NULL) {
		rc =
		    err_set(e, BB_ERR_INVALID, "comment edit: id, author and content are required");
		goto out;
	}
	rc = sql_txn_begin(st, &t, e);
	if (rc != BB_OK)
		goto out;
	rc = sql_run(st,
		     "UPDATE comments SET content = ?3, updated = ?4, edited = 1"
		     " WHERE ap_id = ?1 AND author = ?2 AND status <> ?5 AND updated < ?4",
		     SQL_ARGS(SQL_TEXT(ap_id), SQL_TEXT(author), SQL_TEXT(content),
			      SQL_INT(updated), SQL_INT(STORE_COMMENT_DELETED)),
		     "edit comment", e);
	if (rc != BB_OK || sqlite3_changes(st->db) == 0)
		goto out;
	*applied = true;
	rc = comment_post(st, ap_id, &post, e);
	if (rc != BB_OK)
		goto out;
	rc = version_bump(st, post, e);
out:
	rc = sql_txn_end(st, &t, rc, e);
	if (rc != BB_OK)
		*applied = false;
	return rc;
}

enum bb_rc store_comment_status_set(struct store *st, const char *ap_id,
				    enum store_comment_status status, struct err *e)
{
	struct store_comment c = {0};
	struct sql_txn t = {0};
	enum bb_rc rc;

	if (!status_valid(status)) {
		rc = err_set(e, BB_ERR_INVALID, "comment status %d", (int)status);
		goto out;
	}
	rc = sql_txn_begin(st, &t, e);
	if (rc != BB_OK)
		goto out;
	rc = store_comment_get(st, ap_id, &c, e);
	if (rc != BB_OK || c.status == status)
		goto out;
	if (c.status == STORE_COMMENT_DELETED) {
		rc = err_set(e, BB_ERR_INVALID, "comment %s is deleted", ap_id);
		goto out;
	}
	rc = sql_run(st, "UPDATE comments SET status = ?2 WHERE id = ?1",
		     SQL_ARGS(SQL_INT(c.rowid), SQL_INT(status)), "set comment status", e);
	if (rc != BB_OK)
		goto out;
	rc = version_bump(st, c.post, e);
out:
	rc = sql_txn_end(st, &t, rc, e);
	store_comment_clear(&c);
	return rc;
}

enum bb_rc store_comment_delete_by_author(struct store *st, const char *author, int64_t *count,
					  struct err *e)
{
	struct sql_txn t = {0};
	int64_t n = 0;
	enum bb_rc rc;

	if (count != NULL)
		*count = 0;
	rc = sql_txn_begin(st, &t, e);
	if (rc != BB_OK)
		goto out;
	/* The versions first: the posts are those with a comment that is
	 * about to change. */
	rc = sql_run(st,
		     "INSERT INTO comments_versions(post, version)"
		     " SELECT DISTINCT post, 1 FROM comments WHERE author = ?1 AND status <> ?2"
		     " ON CONFLICT(post) DO UPDATE SET version = version + 1",
		     SQL_ARGS(SQL_TEXT(author), SQL_INT(STORE_COMMENT_DELETED)),
		     "bump comments versions", e);
	if (rc != BB_OK)
		goto out;
	rc = sql_run(st, "UPDATE comments SET status = ?2 WHERE author = ?1 AND status <> ?2",
		     SQL_ARGS(SQL_TEXT(author), SQL_INT(STORE_COMMENT_DELETED)),
		     "delete comments of author", e);
	if (rc == BB_OK)
		n = sqlite3_changes(st->db);
out:
	rc = sql_txn_end(st, &t, rc, e);
	if (rc == BB_OK && count != NULL)
		*count = n;
	return rc;
}

/* The WHERE clause of a filter: ?1 the status set (0 all), ?2 the post
 * (0 any). */
#define COMMENT_FILTER " WHERE (?1 = 0 OR ((1 << c.status) & ?1) <> 0) AND (?2 = 0 OR c.post = ?2)"

enum bb_rc store_comment_each(struct store *st, const struct store_comment_filter *f,
			      store_comment_fn fn, void *arg, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	struct store_comment c = {0};
	enum bb_rc rc;
	int src;

	rc = sql_prepare_args(st,
			      "SELECT " COMMENT_COLUMNS COMMENT_FROM COMMENT_FILTER
			      " ORDER BY c.published, c.id LIMIT ?3 OFFSET ?4",
			      SQL_ARGS(SQL_INT(f->statuses), SQL_INT(f->post),
				       SQL_INT(f->limit < 0 ? -1 : f->limit),
				       SQL_INT(f->offset < 0 ? 0 : f->offset)),
			      &stmt, "list comments", e);
	if (rc != BB_OK)
		goto out;
	while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
		rc = comment_read(stmt, &c, e);
		if (rc != BB_OK)
			goto out;
		rc = fn(&c, arg, e);
		if (rc != BB_OK)
			goto out;
		store_comment_clear(&c);
	}
	if (src != SQLITE_DONE)
		rc = sql_fail(st, src, "list comments", e);
out:
	store_comment_clear(&c);
	sql_release(st, stmt);
	return rc;
}

enum bb_rc store_comment_count(struct store *st, const struct store_comment_filter *f, int64_t *out,
			       struct err *e)
{
	*out = 0;
	return sql_int(st, "SELECT count(*) FROM comments c" COMMENT_FILTER,
		       SQL_ARGS(SQL_INT(f->statuses), SQL_INT(f->post)), out, NULL,
		       "count comments", e);
}

enum bb_rc store_author_has_approved(struct store *st, const char *author, bool *out, struct err *e)
{
	int64_t one = 0;

	return sql_int(st, "SELECT 1 FROM comments WHERE author = ?1 AND status = ?2 LIMIT 1",
		       SQL_ARGS(SQL_TEXT(author), SQL_INT(STORE_COMMENT_APPROVED)), &one, out,
		       "find approved comment", e);
}

/* ---- reactions ---------------------------------------------------------- */

enum bb_rc store_reaction_add(struct store *st, int64_t post, enum store_reaction_type type,
			      const char *actor, const char *activity_id, time_t published,
			      bool *is_new, struct err *e)
{
	struct sql_txn t = {0};
	enum bb_rc rc;

	*is_new = false;
	if (store_reaction_type_name(type) == NULL || actor == NULL || activity_id == NULL) {
		rc = err_set(e, BB_ERR_INVALID, "reaction: type, actor and activity are required");
		goto out;
	}
	rc = sql_txn_begin(st, &t, e);
	if (rc != BB_OK)
		goto out;
	rc = post_exists(st, post, e);
	if (rc != BB_OK)
		goto out;
	/* OR IGNORE: the partial unique indexes make a second like or boost
	 * by the same actor, or a second copy of a quote, no row. */
	rc = sql_run(st,
		     "INSERT OR IGNORE INTO reactions(post, type, actor, activity_id, published)"
		     " VALUES (?1, ?2, ?3, ?4, ?5)",
		     SQL_ARGS(SQL_INT(post), SQL_INT(type), SQL_TEXT(actor), SQL_TEXT(activity_id),
			      SQL_INT(published)),
		     "store reaction", e);
	if (rc != BB_OK)
		goto out;
	*is_new = sqlite3_changes(st->db) > 0;
	if (*is_new)
		rc = version_bump(st, post, e);
out:
	rc = sql_txn_end(st, &t, rc, e);
	if (rc != BB_OK)
		*is_new = false;
	return rc;
}

/* Runs bump_sql (moving on the versions of the posts whose reactions
 * del_sql is about to remove), then del_sql, both with args, in one
 * transaction; *removed (may be NULL) counts the rows removed. */
static enum bb_rc reactions_remove(struct store *st, const char *bump_sql, const char *del_sql,
				   const struct sql_arg *args, size_t n, int64_t *removed,
				   struct err *e)
{
	struct sql_txn t = {0};
	int64_t count = 0;
	enum bb_rc rc;

	if (removed != NULL)
		*removed = 0;
	rc = sql_txn_begin(st, &t, e);
	if (rc != BB_OK)
		goto out;
	rc = sql_run(st, bump_sql, args, n, "bump comments versions", e);
	if (rc != BB_OK)
		goto out;
	rc = sql_run(st, del_sql, args, n, "remove reactions", e);
	if (rc == BB_OK)
		count = sqlite3_changes(st->db);
out:
	rc = sql_txn_end(st, &t, rc, e);
	if (rc == BB_OK && removed != NULL)
		*removed = count;
	return rc;
}

#define REACTIONS_BUMP(where)                                                                      \
	"INSERT INTO comments_versions(post, version)"                                             \
	" SELECT DISTINCT post, 1 FROM reactions WHERE " where                                     \
	" ON CONFLICT(post) DO UPDATE SET version = version + 1"

enum bb_rc store_reaction_remove(struct store *st, const char *activity_id, const char *actor,
				 int64_t *removed, struct err *e)
{
#define BY_ACTIVITY "activity_id = ?1 AND actor = ?2"
	return reactions_remove(st, REACTIONS_BUMP(BY_ACTIVITY),
				"DELETE FROM reactions WHERE " BY_ACTIVITY,
				SQL_ARGS(SQL_TEXT(activity_id), SQL_TEXT(actor)), removed, e);
#undef BY_ACTIVITY
}

enum bb_rc store_reaction_remove_kind(struct store *st, int64_t post, enum store_reaction_type type,
				      const char *actor, int64_t *removed, struct err *e)
{
#define BY_KIND "post = ?1 AND type = ?2 AND actor = ?3"
	return reactions_remove(st, REACTIONS_BUMP(BY_KIND), "DELETE FROM reactions WHERE " BY_KIND,
				SQL_ARGS(SQL_INT(post), SQL_INT(type), SQL_TEXT(actor)), removed,
				e);
#undef BY_KIND
}

enum bb_rc store_reaction_remove_by_actor(struct store *st, const char *actor, int64_t *removed,
					  struct err *e)
{
	return reactions_remove(st, REACTIONS_BUMP("actor = ?1"),
				"DELETE FROM reactions WHERE actor = ?1", SQL_ARGS(SQL_TEXT(actor)),
				removed, e);
}

enum bb_rc store_reaction_counts(struct store *st, int64_t post, int64_t *likes, int64_t *boosts,
				 int64_t *quotes, struct err *e)
{
	int64_t *out[STORE_REACTION_TYPE_COUNT] = {likes, boosts, quotes};
	enum bb_rc rc = BB_OK;

	for (int i = 0; i < STORE_REACTION_TYPE_COUNT && rc == BB_OK; i++) {
		int64_t n = 0;

		if (out[i] == NULL)
			continue;
		rc = sql_int(st, "SELECT count(*) FROM reactions WHERE post = ?1 AND type = ?2",
			     SQL_ARGS(SQL_INT(post), SQL_INT(i)), &n, NULL, "count reactions", e);
		*out[i] = n;
	}
	return rc;
}

enum bb_rc store_reaction_each(struct store *st, int64_t post, store_reaction_fn fn, void *arg,
			       struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	struct store_reaction r = {0};
	enum bb_rc rc;
	int src;

	rc = sql_prepare_args(st,
			      "SELECT post, type, actor, activity_id, published FROM reactions"
			      " WHERE ?1 = 0 OR post = ?1 ORDER BY published, id",
			      SQL_ARGS(SQL_INT(post)), &stmt, "list reactions", e);
	if (rc != BB_OK)
		goto out;
	while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t type = sqlite3_column_int64(stmt, 1);

		if (type < 0 || type >= STORE_REACTION_TYPE_COUNT) {
			rc = err_set(e, BB_ERR_STORE, "reaction type %lld stored", (long long)type);
			goto out;
		}
		r.post = sqlite3_column_int64(stmt, 0);
		r.type = (enum store_reaction_type)type;
		r.published = (time_t)sqlite3_column_int64(stmt, 4);
		if (!sql_column_dup(stmt, 2, &r.actor) ||
		    !sql_column_dup(stmt, 3, &r.activity_id)) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		rc = fn(&r, arg, e);
		if (rc != BB_OK)
			goto out;
		store_reaction_clear(&r);
	}
	if (src != SQLITE_DONE)
		rc = sql_fail(st, src, "list reactions", e);
out:
	store_reaction_clear(&r);
	sql_release(st, stmt);
	return rc;
}

/* ---- mentions ----------------------------------------------------------- */

enum bb_rc store_mention_add(struct store *st, const struct store_mention *m, bool *is_new,
			     struct err *e)
{
	enum bb_rc rc;

	*is_new = false;
	if (m->ap_id == NULL || m->author == NULL || m->content == NULL)
		return err_set(e, BB_ERR_INVALID, "mention: id, author and content are required");
	rc = sql_run(st,
		     "INSERT INTO mentions(ap_id, author, content, published, received)"
		     " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(ap_id) DO NOTHING",
		     SQL_ARGS(SQL_TEXT(m->ap_id), SQL_TEXT(m->author), SQL_TEXT(m->content),
			      SQL_INT(m->published), SQL_INT(m->received)),
		     "store mention", e);
	if (rc == BB_OK)
		*is_new = sqlite3_changes(st->db) > 0;
	return rc;
}

enum bb_rc store_mention_each(struct store *st, int64_t offset, int64_t limit, store_mention_fn fn,
			      void *arg, struct err *e)
{
	sqlite3_stmt *stmt = NULL;
	struct store_mention m = {0};
	enum bb_rc rc;
	int src;

	rc = sql_prepare_args(
	    st,
	    "SELECT ap_id, author, content, published, received FROM mentions"
	    " ORDER BY received DESC, id DESC LIMIT ?1 OFFSET ?2",
	    SQL_ARGS(SQL_INT(limit < 0 ? -1 : limit), SQL_INT(offset < 0 ? 0 : offset)), &stmt,
	    "list mentions", e);
	if (rc != BB_OK)
		goto out;
	while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (!sql_column_dup(stmt, 0, &m.ap_id) || !sql_column_dup(stmt, 1, &m.author) ||
		    !sql_column_dup(stmt, 2, &m.content)) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		m.published = (time_t)sqlite3_column_int64(stmt, 3);
		m.received = (time_t)sqlite3_column_int64(stmt, 4);
		rc = fn(&m, arg, e);
		if (rc != BB_OK)
			goto out;
		store_mention_clear(&m);
	}
	if (src != SQLITE_DONE)
		rc = sql_fail(st, src, "list mentions", e);
out:
	store_mention_clear(&m);
	sql_release(st, stmt);
	return rc;
}
