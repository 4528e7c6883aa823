/*
 * ops.c — the admin's operations (see ops.h): each is the one place the
 * command line and the admin pages reach the store or the publisher for
 * that task.
 */
#include "ops.h"
#include "publish.h"

#include "buf.h"
#include "log.h"
#include "url.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum bb_rc ops_follower_remove(struct app *app, const char *actor, struct err *e)
{
	struct store *st = app_store(app, e);

	if (st == NULL)
		return e->code;
	return store_follower_remove(st, actor, e);
}

enum bb_rc ops_followers_each(struct app *app, int64_t offset, int64_t limit, store_follower_fn fn,
			      void *arg, struct err *e)
{
	struct store *st = app_store(app, e);

	if (st == NULL)
		return e->code;
	return store_follower_each(st, offset, limit, fn, arg, e);
}

enum bb_rc ops_post_delete(struct app *app, const char *url, int64_t *deliveries, struct err *e)
{
	struct store *st = app_store(app, e);
	enum bb_rc rc;

	*deliveries = 0;
	if (st == NULL)
		return e->code;
	rc = publish_post_delete(st, &app->site, url, time(NULL), deliveries, e);
	if (rc == BB_OK && *deliveries > 0)
		delivery_wake(app->delivery);
	return rc;
}

enum bb_rc ops_posts_each(struct app *app, int64_t offset, int64_t limit, store_post_fn fn,
			  void *arg, struct err *e)
{
	struct store *st = app_store(app, e);

	if (st == NULL)
		return e->code;
	return store_post_each(st, offset, limit, true, fn, arg, e);
}

enum bb_rc ops_host_stats_each(struct app *app, store_host_stats_fn fn, void *arg, struct err *e)
{
	struct store *st = app_store(app, e);

	if (st == NULL)
		return e->code;
	return store_host_stats_each(st, fn, arg, e);
}

enum bb_rc ops_post_find(struct app *app, const char *ref, struct store_post *out, struct err *e)
{
	struct store *st = app_store(app, e);
	enum bb_rc rc;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return e->code;
	rc = store_post_by_url(st, ref, out, e);
	if (rc == BB_ERR_NOTFOUND)
		rc = store_post_by_ap_id(st, ref, out, e);
	if (rc == BB_ERR_NOTFOUND)
		err_set(e, rc, "no post has the URL or id %s", ref);
	return rc;
}

enum bb_rc ops_post_counts(struct app *app, int64_t post, int64_t *comments, int64_t *likes,
			   int64_t *boosts, struct err *e)
{
	struct store_comment_filter f = {STORE_COMMENT_BIT(STORE_COMMENT_APPROVED), post, 0, -1};
	struct store *st = app_store(app, e);
	enum bb_rc rc;

	if (st == NULL)
		return e->code;
	rc = comments ? store_comment_count(st, &f, comments, e) : BB_OK;
	if (rc == BB_OK)
		rc = store_reaction_counts(st, post, likes, boosts, NULL, e);
	return rc;
}

/* Moves the comment id to status `to`, refusing it for a private one when
 * `to` is a moderation verdict. */
static enum bb_rc comment_status_set(struct app *app, const char *id, enum store_comment_status to,
				     struct err *e)
{
	struct store_comment c = {0};
	struct store *st = app_store(app, e);
	enum bb_rc rc;

	if (st == NULL)
		return e->code;
	rc = store_comment_get(st, id, &c, e);
	if (rc == BB_ERR_NOTFOUND)
		err_set(e, rc, "no comment has the id %s", id);
	if (rc != BB_OK)
		goto out;
	if (c.status == STORE_COMMENT_DELETED && to != STORE_COMMENT_DELETED) {
		rc = err_set(e, BB_ERR_INVALID, "comment %s is deleted", id);
		goto out;
	}
	if (c.status == STORE_COMMENT_PRIVATE && to != STORE_COMMENT_DELETED) {
		rc = err_set(e, BB_ERR_INVALID,
			     "comment %s is private (followers-only or direct): "
			     "it can only be deleted",
			     id);
		goto out;
	}
	rc = store_comment_status_set(st, id, to, e);
out:
	store_comment_clear(&c);
	return rc;
}

enum bb_rc ops_comment_approve(struct app *app, const char *id, struct err *e)
{
	return comment_status_set(app, id, STORE_COMMENT_APPROVED, e);
}

enum bb_rc ops_comment_reject(struct app *app, const char *id, struct err *e)
{
	return comment_status_set(app, id, STORE_COMMENT_REJECTED, e);
}

enum bb_rc ops_comment_delete(struct app *app, const char *id, struct err *e)
{
	return comment_status_set(app, id, STORE_COMMENT_DELETED, e);
}

enum bb_rc ops_comments_each(struct app *app, const struct store_comment_filter *f,
			     store_comment_fn fn, void *arg, struct err *e)
{
	struct store *st = app_store(app, e);

	if (st == NULL)
		return e->code;
	return store_comment_each(st, f, fn, arg, e);
}

enum bb_rc ops_reactions_each(struct app *app, int64_t post, store_reaction_fn fn, void *arg,
			      struct err *e)
{
	struct store *st = app_store(app, e);

	if (st == NULL)
		return e->code;
	return store_reaction_each(st, post, fn, arg, e);
}

enum bb_rc ops_actor_get(struct app *app, const char *id, struct store_actor *out, struct err *e)
{
	struct store *st = app_store(app, e);

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return e->code;
	return store_actor_get(st, id, out, e);
}

enum bb_rc ops_post_deliveries_each(struct app *app, const char *url, store_post_delivery_fn fn,
				    void *arg, struct err *e)
{
	struct store_post p;
	enum bb_rc rc = ops_post_find(app, url, &p, e);

	if (rc == BB_OK)
		rc = store_post_delivery_each(app_store(app, e), p.ap_id, fn, arg, e);
	store_post_clear(&p);
	return rc;
}

enum bb_rc ops_post_delivery_count(struct app *app, const char *ap_id,
				   struct store_post_delivery_counts *out, struct err *e)
{
	struct store *st = app_store(app, e);

	if (st == NULL)
		return e->code;
	return store_post_delivery_count(st, ap_id, out, e);
}

enum bb_rc ops_post_resend(struct app *app, const char *url, bool all, int64_t *queued,
			   struct err *e)
{
	struct store_post p;
	enum bb_rc rc = ops_post_find(app, url, &p, e);

	*queued = 0;
	if (rc == BB_OK)
		rc = store_post_resend(app_store(app, e), p.ap_id, all, time(NULL), queued, e);
	if (rc == BB_OK) {
		log_info("admin: %s queued again for %" PRId64 " inboxes (%s)", p.ap_id, *queued,
			 all ? "all" : "failed");
		if (*queued > 0)
			delivery_wake(app->delivery);
	}
	store_post_clear(&p);
	return rc;
}

enum bb_rc ops_host_retry_now(struct app *app, const char *host, int64_t *count, struct err *e)
{
	struct store *st = app_store(app, e);
	enum bb_rc rc;

	*count = 0;
	if (st == NULL)
		return e->code;
	rc = store_host_retry_now(st, host, time(NULL), count, e);
	if (rc == BB_OK)
		delivery_wake(app->delivery);
	return rc;
}

/* ---- blocks ------------------------------------------------------------ */

enum bb_rc ops_block_normalize(const char *input, char out[OPS_BLOCK_MAX], bool *is_actor,
			       struct err *e)
{
	struct url u;
	char tmp[URL_MAX + 16];
	enum bb_rc rc;

	*is_actor = false;
	out[0] = '\0';
	if (input == NULL || input[0] == '\0' || strlen(input) > URL_MAX)
		return err_set(e, BB_ERR_INVALID, "give a domain or an actor id");
	if (strncmp(input, "https://", 8) == 0 || strncmp(input, "http://", 7) == 0) {
		rc = url_parse(input, 0, &u, e);
		if (rc != BB_OK)
			return err_set(e, BB_ERR_INVALID, "not an actor id: %s", e->msg);
		snprintf(out, OPS_BLOCK_MAX, "%s", input);
		*is_actor = true;
		return BB_OK;
	}
	/* A bare domain: parsed as a URL's host so it has url.h's one
	 * canonical spelling (lower case, punycode, no trailing dot). */
	if (strpbrk(input, "/:@?#[] \t") != NULL)
		return err_set(e, BB_ERR_INVALID, "not a domain: %s", input);
	snprintf(tmp, sizeof(tmp), "https://%s/", input);
	if (url_parse(tmp, 0, &u, e) != BB_OK || strchr(u.host, '.') == NULL)
		return err_set(e, BB_ERR_INVALID, "not a domain: %s", input);
	snprintf(out, OPS_BLOCK_MAX, "%s", u.host);
	return BB_OK;
}

/* Walk state: the followers (comments, reactions) a block covers: an
 * actor id, or a list of domains (url_host_blocked's). */
struct block_sweep {
	const char *actor;
	char *const *domains;
	char **ids;
	size_t n, cap;
};

/* Whether the block s covers actor: the actor itself, or its host is one
 * of the domains or under one. */
static bool block_covers(const struct block_sweep *s, const char *actor)
{
	struct err ignored = {0};
	struct url u;

	if (s->actor != NULL)
		return strcmp(actor, s->actor) == 0;
	return url_parse(actor, 0, &u, &ignored) == BB_OK && url_host_blocked(s->domains, u.host);
}

static enum bb_rc sweep_keep(struct block_sweep *s, const char *id, struct err *e)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **a = realloc(s->ids, cap * sizeof(*a));
		if (a == NULL)
			return err_set(e, BB_ERR_NOMEM, "out of memory");
		s->ids = a;
		s->cap = cap;
	}
	if ((s->ids[s->n] = strdup(id)) == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	s->n++;
	return BB_OK;
}

static enum bb_rc sweep_follower(const struct store_follower *f, void *arg, struct err *e)
{
	struct block_sweep *s = arg;

	return block_covers(s, f->actor) ? sweep_keep(s, f->actor, e) : BB_OK;
}

static enum bb_rc sweep_comment(const struct store_comment *c, void *arg, struct err *e)
{
	struct block_sweep *s = arg;

	return block_covers(s, c->author) ? sweep_keep(s, c->ap_id, e) : BB_OK;
}

static enum bb_rc sweep_reaction(const struct store_reaction *r, void *arg, struct err *e)
{
	struct block_sweep *s = arg;

	/* One entry per actor: consecutive reactions of one actor are common. */
	if (!block_covers(s, r->actor) || (s->n > 0 && strcmp(s->ids[s->n - 1], r->actor) == 0))
		return BB_OK;
	return sweep_keep(s, r->actor, e);
}

static void sweep_clear(struct block_sweep *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->ids[i]);
	free(s->ids);
	s->ids = NULL;
	s->n = s->cap = 0;
}

/* What a block takes away, counted. */
struct block_effect {
	int64_t followers, comments, reactions;
};

/* Applies a block (of the actor id, or of the NULL-terminated domains)
 * to what the store holds: the followers it covers removed, their shown
 * or waiting comments rejected, their reactions removed, in one
 * transaction; with add (the value to add, is_actor its kind), the block
 * is added to the store's list in that transaction too.  One walk each,
 * however many domains. */
static enum bb_rc block_apply(struct store *st, const char *actor, char *const *domains,
			      const char *add, bool is_actor, struct block_effect *out,
			      struct err *e)
{
	struct block_sweep fs = {.actor = actor, .domains = domains};
	struct block_sweep cs = fs, rs = fs;
	/* Shown or waiting: what a block hides (rejected, as the admin would). */
	struct store_comment_filter shown = {.statuses = STORE_COMMENT_BIT(STORE_COMMENT_PENDING) |
							 STORE_COMMENT_BIT(STORE_COMMENT_APPROVED),
					     .limit = -1};
	struct block_effect n = {0};
	enum bb_rc rc;

	/* Collected first: a walk may not write (store.h). */
	if ((rc = store_follower_each(st, 0, -1, sweep_follower, &fs, e)) != BB_OK ||
	    (rc = store_comment_each(st, &shown, sweep_comment, &cs, e)) != BB_OK ||
	    (rc = store_reaction_each(st, 0, sweep_reaction, &rs, e)) != BB_OK)
		goto out;
	if (add == NULL && fs.n == 0 && cs.n == 0 && rs.n == 0)
		goto out;
	if ((rc = store_begin(st, e)) != BB_OK)
		goto out;
	if (add != NULL)
		rc = store_block_add(st, add, is_actor, time(NULL), e);
	for (size_t i = 0; rc == BB_OK && i < fs.n; i++) {
		rc = store_follower_remove(st, fs.ids[i], e);
		if (rc == BB_ERR_NOTFOUND) /* gone meanwhile */
			rc = BB_OK;
		else if (rc == BB_OK)
			n.followers++;
	}
	for (size_t i = 0; rc == BB_OK && i < cs.n; i++) {
		rc = store_comment_status_set(st, cs.ids[i], STORE_COMMENT_REJECTED, e);
		if (rc == BB_OK)
			n.comments++;
	}
	for (size_t i = 0; rc == BB_OK && i < rs.n; i++) {
		int64_t k = 0;
		rc = store_reaction_remove_by_actor(st, rs.ids[i], &k, e);
		n.reactions += k;
	}
	if (rc == BB_OK)
		rc = store_commit(st, e);
	if (rc != BB_OK) {
		store_rollback(st);
		n = (struct block_effect){0};
	}
out:
	*out = n;
	sweep_clear(&fs);
	sweep_clear(&cs);
	sweep_clear(&rs);
	return rc;
}

enum bb_rc ops_block_add(struct app *app, const char *input, int64_t *removed, struct err *e)
{
	struct store *st = app_store(app, e);
	struct block_effect n = {0};
	char value[OPS_BLOCK_MAX];
	bool is_actor;
	enum bb_rc rc;

	if (removed != NULL)
		*removed = 0;
	if (st == NULL)
		return e->code;
	if ((rc = ops_block_normalize(input, value, &is_actor, e)) != BB_OK)
		return rc;
	{
		char *const domains[] = {value, NULL};
		rc = block_apply(st, is_actor ? value : NULL, is_actor ? NULL : domains, value,
				 is_actor, &n, e);
	}
	if (rc != BB_OK)
		return rc;
	log_info("admin: blocked %s; %" PRId64 " followers removed, %" PRId64
		 " comments hidden, %" PRId64 " reactions removed",
		 value, n.followers, n.comments, n.reactions);
	if (removed != NULL)
		*removed = n.followers;
	return BB_OK;
}

/* The config's list last applied (store meta): a restart with the same
 * list walks nothing, since the inbox has refused the domains since. */
#define META_BLOCKS_APPLIED "blocked_domains_applied"

enum bb_rc ops_blocks_apply_config(struct app *app, struct err *e)
{
	struct store *st = app_store(app, e);
	struct block_effect n = {0};
	struct buf list;
	const char *value;
	char *applied = NULL;
	enum bb_rc rc = BB_OK;

	if (st == NULL)
		return e->code;
	buf_init(&list, 1024 * 1024);
	for (size_t i = 0; i < app->cfg->blocked_domains_count; i++)
		if ((rc = buf_printf(&list, "%s%s", i ? "," : "", app->cfg->blocked_domains[i])) !=
		    BB_OK) {
			rc = err_set(e, rc, "blocked_domains: too long");
			goto out;
		}
	value = list.data ? list.data : "";
	rc = store_meta_get(st, META_BLOCKS_APPLIED, &applied, e);
	if (rc == BB_ERR_NOTFOUND) {
		err_clear(e);
		rc = BB_OK;
	}
	if (rc != BB_OK || (applied != NULL && strcmp(applied, value) == 0))
		goto out;
	if (app->cfg->blocked_domains_count > 0 &&
	    (rc = block_apply(st, NULL, app->cfg->blocked_domains, NULL, false, &n, e)) != BB_OK)
		goto out;
	if ((rc = store_meta_set(st, META_BLOCKS_APPLIED, value, e)) != BB_OK)
		goto out;
	if (n.followers + n.comments + n.reactions > 0)
		log_info("blocked_domains: %" PRId64 " followers removed, %" PRId64
			 " comments hidden, %" PRId64 " reactions removed",
			 n.followers, n.comments, n.reactions);
out:
	free(applied);
	buf_free(&list);
	return rc;
}

enum bb_rc ops_block_remove(struct app *app, const char *input, struct err *e)
{
	struct store *st = app_store(app, e);
	char value[OPS_BLOCK_MAX];
	bool is_actor;
	enum bb_rc rc;

	if (st == NULL)
		return e->code;
	if ((rc = ops_block_normalize(input, value, &is_actor, e)) != BB_OK)
		return rc;
	rc = store_block_remove(st, value, e);
	if (rc == BB_OK)
		log_info("admin: unblocked %s", value);
	return rc;
}

enum bb_rc ops_blocks_each(struct app *app, store_block_fn fn, void *arg, struct err *e)
{
	struct store *st = app_store(app, e);

	if (st == NULL)
		return e->code;
	return store_block_each(st, fn, arg, e);
}

/* ---- comments: moderation ------------------------------------------------ */

enum bb_rc ops_comment_moderate(struct app *app, const char *ap_id,
				enum store_comment_status status, struct err *e)
{
	struct store *st = app_store(app, e);
	struct store_comment c = {0};
	enum bb_rc rc;

	if (st == NULL)
		return e->code;
	if (status != STORE_COMMENT_APPROVED && status != STORE_COMMENT_REJECTED &&
	    status != STORE_COMMENT_DELETED)
		return err_set(e, BB_ERR_INVALID, "approve, reject or delete");
	rc = store_comment_get(st, ap_id, &c, e);
	if (rc == BB_OK && c.status == STORE_COMMENT_PRIVATE && status == STORE_COMMENT_APPROVED)
		rc = err_set(e, BB_ERR_INVALID, "a private reply cannot be made public");
	if (rc == BB_OK)
		rc = store_comment_status_set(st, ap_id, status, e);
	if (rc == BB_OK)
		log_info("admin: comment %s %s", ap_id, store_comment_status_name(status));
	store_comment_clear(&c);
	return rc;
}
