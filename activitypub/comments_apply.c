/*
 * comments_apply.c — comments_apply (comments.h): what a verified activity
 * changes in the comments and reactions, dispatched by type, inside the
 * caller's transaction.  Nothing here fetches: the copy of an object to
 * believe was settled by comments_resolve before the write began.
 *
 * Mastodon references (MASTODON.md): replies and their edits and deletes
 * §7.2-7.4 (an edit only when `updated` is newer, update.rb and
 * process_status_update_service.rb:28-37; a Delete of the actor takes
 * everything of theirs, delete.rb), quotes §6.8 (the Accept's `result` is
 * the QuoteAuthorization Mastodon fetches and checks,
 * app/lib/activitypub/activity/accept.rb:47-58 and
 * verify_quote_service.rb).
 */
#include "comments.h"
#include "log.h"
#include "rand.h"
#include "text.h"
#include "url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACTIVITY_ID_BYTES 16  /* random bytes in the ids of what we answer */
#define PUBLISHED_SKEW_S 3600 /* a reply dated further ahead is dated now */

/* FEP-044f's terms, as Mastodon's serializers write them, after the
 * ActivityStreams context (a new reference, NULL when out of memory). */
static json_t *quote_context(void)
{
	return json_pack("[s, {s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}}]", AP_CONTEXT_AS,
			 "QuoteRequest", "https://w3id.org/fep/044f#QuoteRequest",
			 "QuoteAuthorization", "https://w3id.org/fep/044f#QuoteAuthorization",
			 "gts", "https://gotosocial.org/ns#", "interactingObject", "@id",
			 "gts:interactingObject", "@type", "@id", "interactionTarget", "@id",
			 "gts:interactionTarget", "@type", "@id");
}

/* Whether url's host is blocked (or url has none, which is no better). */
static bool blocked(const struct comments_env *env, const char *url)
{
	char host[URL_HOST_KEY_MAX + 1];

	if (url == NULL || url_host_key(url, host, NULL) != BB_OK)
		return true;
	return url_host_blocked(env->blocked_domains, host);
}

/* The live post whose object id is id; BB_ERR_NOTFOUND otherwise. */
static enum bb_rc our_post(struct store *st, const char *id, int64_t *post, struct err *e)
{
	struct store_post p = {0};
	enum bb_rc rc;

	*post = 0;
	if (id == NULL)
		return err_set(e, BB_ERR_NOTFOUND, "no object");
	rc = store_post_by_ap_id(st, id, &p, e);
	if (rc == BB_ERR_NOTFOUND)
		rc = store_post_by_url(st, id, &p, e);
	if (rc == BB_OK && p.deleted != 0)
		rc = err_set(e, BB_ERR_NOTFOUND, "post %s is deleted", id);
	if (rc == BB_OK)
		*post = p.rowid;
	store_post_clear(&p);
	return rc;
}

/* rc, with NOTFOUND (not ours: nothing to do) turned into BB_OK. */
static enum bb_rc ours_or_ok(enum bb_rc rc, struct err *e)
{
	if (rc != BB_ERR_NOTFOUND)
		return rc;
	err_clear(e);
	return BB_OK;
}

static time_t published_of(const struct comment_note *n, time_t now)
{
	return n->published == 0 || n->published > now + PUBLISHED_SKEW_S ? now : n->published;
}

/* The status of a new reply: private when not public or unlisted, else
 * as [comments] moderation says. */
static enum bb_rc status_for(struct store *st, const struct comments_env *env,
			     const struct comment_note *n, enum store_comment_status *out,
			     struct err *e)
{
	bool known = false;
	enum bb_rc rc;

	if (n->audience == COMMENT_AUDIENCE_PRIVATE) {
		*out = STORE_COMMENT_PRIVATE;
		return BB_OK;
	}
	switch (env->moderation) {
	case COMMENTS_MODERATION_AUTO: *out = STORE_COMMENT_APPROVED; return BB_OK;
	case COMMENTS_MODERATION_KNOWN:
		rc = store_author_has_approved(st, n->attributed_to, &known, e);
		*out = known ? STORE_COMMENT_APPROVED : STORE_COMMENT_PENDING;
		return rc;
	default: *out = STORE_COMMENT_PENDING; return BB_OK;
	}
}

/* A post quoting one of ours (quote, quoteUrl, _misskey_quote). */
static enum bb_rc quote_reaction(struct store *st, const struct comment_note *n, time_t now,
				 struct err *e)
{
	int64_t post = 0;
	bool is_new = false;
	enum bb_rc rc;

	rc = our_post(st, n->quote, &post, e);
	if (rc == BB_OK)
		rc = store_reaction_add(st, post, STORE_REACTION_QUOTE, n->attributed_to, n->id,
					published_of(n, now), &is_new, e);
	return ours_or_ok(rc, e);
}

/* A note that mentions the blog but answers nothing of ours. */
static enum bb_rc mention_add(struct store *st, const struct comment_note *n, const char *content,
			      time_t now, struct err *e)
{
	struct store_mention m = {(char *)n->id, (char *)n->attributed_to, (char *)content,
				  published_of(n, now), now};
	bool is_new = false;
	enum bb_rc rc = store_mention_add(st, &m, &is_new, e);

	if (rc == BB_OK && is_new)
		log_info("mention %s by %s", n->id, n->attributed_to);
	return rc;
}

static enum bb_rc apply_create(struct store *st, const struct comments_env *env,
			       const struct ap_activity *a, const struct comment_prepared *note,
			       const char *inbox, time_t now, struct err *e)
{
	struct comment_target t = {0};
	struct store_comment c = {0};
	const struct comment_note *n = note ? &note->note : NULL;
	const char *html = note && note->html.data ? note->html.data : "";
	bool is_new = false;
	enum bb_rc rc;

	(void)a;
	(void)inbox;
	if (note == NULL || !note->parsed || n->attributed_to == NULL ||
	    blocked(env, n->attributed_to) || blocked(env, n->id))
		return BB_OK;
	rc = n->quote ? quote_reaction(st, n, now, e) : BB_OK;
	if (rc != BB_OK)
		goto out;
	/* Routed by inReplyTo alone: replies reach the shared inbox without
	 * our actor in to/cc (MASTODON.md §7.1). */
	rc = comments_route(st, n->in_reply_to, &t, e);
	if (rc == BB_ERR_NOTFOUND) {
		err_clear(e);
		if (!n->mentions_us || n->quote) {
			rc = BB_OK;
			goto out;
		}
	} else if (rc != BB_OK) {
		goto out;
	}
	if (rc == BB_ERR_NOTFOUND) {
		rc = mention_add(st, n, html, now, e);
		goto out;
	}
	c.ap_id = (char *)n->id;
	c.post = t.post;
	c.parent = t.parent;
	c.author = (char *)n->attributed_to;
	c.url = (char *)n->url;
	c.content = (char *)html;
	c.published = published_of(n, now);
	c.updated = n->updated > c.published ? n->updated : c.published;
	c.received = now;
	rc = status_for(st, env, n, &c.status, e);
	if (rc == BB_OK)
		rc = store_comment_add(st, &c, &is_new, e);
	if (rc == BB_OK && is_new)
		log_info("comment %s by %s (%s)", n->id, n->attributed_to,
			 store_comment_status_name(c.status));
	if (rc == BB_OK && is_new && c.status == STORE_COMMENT_PENDING)
		rc = ap_event_comment(st, &env->notify, env->site, &c, now, e);
out:
	comment_target_clear(&t);
	return rc;
}

static enum bb_rc apply_update(struct store *st, const struct comments_env *env,
			       const struct ap_activity *a, const struct comment_prepared *note,
			       const char *inbox, time_t now, struct err *e)
{
	const struct comment_note *n = note ? &note->note : NULL;
	bool applied = false;
	enum bb_rc rc = BB_OK;

	(void)inbox;
	(void)now;
	/* Only the author edits, and only with a strictly newer `updated`
	 * (the store compares). */
	(void)env;
	if (note == NULL || !note->parsed || n->attributed_to == NULL ||
	    strcmp(n->attributed_to, a->actor) != 0 || n->updated == 0)
		return BB_OK;
	rc = store_comment_edit(st, n->id, a->actor, note->html.data ? note->html.data : "",
				n->updated, &applied, e);
	if (rc == BB_OK && applied)
		log_info("comment %s edited", n->id);
	return rc;
}

static enum bb_rc apply_delete(struct store *st, const struct comments_env *env,
			       const struct ap_activity *a, const struct comment_prepared *note,
			       const char *inbox, time_t now, struct err *e)
{
	struct store_comment c = {0};
	int64_t n = 0;
	enum bb_rc rc;

	(void)env, (void)note, (void)inbox, (void)now;
	if (a->object.id == NULL)
		return BB_OK;
	if (strcmp(a->object.id, a->actor) == 0) {
		/* The actor is gone: everything of theirs goes (§7.4). */
		rc = store_comment_delete_by_author(st, a->actor, &n, e);
		if (rc == BB_OK)
			rc = store_reaction_remove_by_actor(st, a->actor, NULL, e);
		if (rc == BB_OK && n > 0)
			log_info("%s was deleted; %lld comments deleted", a->actor, (long long)n);
		return rc;
	}
	/* A quoting post deleted takes its quote along. */
	rc = store_reaction_remove(st, a->object.id, a->actor, NULL, e);
	if (rc != BB_OK)
		return rc;
	rc = store_comment_get(st, a->object.id, &c, e);
	if (rc == BB_OK && strcmp(c.author, a->actor) == 0 && c.status != STORE_COMMENT_DELETED) {
		rc = store_comment_status_set(st, c.ap_id, STORE_COMMENT_DELETED, e);
		if (rc == BB_OK)
			log_info("comment %s deleted by its author", c.ap_id);
	}
	store_comment_clear(&c);
	return ours_or_ok(rc, e);
}

static enum bb_rc apply_reaction(struct store *st, const struct comments_env *env,
				 const struct ap_activity *a, const struct comment_prepared *note,
				 const char *inbox, time_t now, struct err *e)
{
	enum store_reaction_type type =
	    a->type == AP_TYPE_LIKE ? STORE_REACTION_LIKE : STORE_REACTION_BOOST;
	int64_t post = 0;
	bool is_new = false;
	enum bb_rc rc;

	(void)env, (void)note, (void)inbox;
	rc = our_post(st, a->object.id, &post, e);
	if (rc == BB_OK)
		rc = store_reaction_add(st, post, type, a->actor, a->id, now, &is_new, e);
	return ours_or_ok(rc, e);
}

static enum bb_rc apply_undo(struct store *st, const struct comments_env *env,
			     const struct ap_activity *a, const struct comment_prepared *note,
			     const char *inbox, time_t now, struct err *e)
{
	const struct ap_object *o = &a->object;
	int64_t removed = 0, post = 0;
	enum bb_rc rc;

	(void)env, (void)note, (void)inbox, (void)now;
	if (o->id == NULL ||
	    (o->json != NULL && o->type != AP_TYPE_LIKE && o->type != AP_TYPE_ANNOUNCE))
		return BB_OK; /* an Undo of a Follow, or of nothing we keep */
	if (o->json != NULL && o->actor != NULL && strcmp(o->actor, a->actor) != 0)
		return BB_OK; /* an Undo of someone else's */
	/* By id, and only the actor's own (store_reaction_remove). */
	rc = store_reaction_remove(st, o->id, a->actor, &removed, e);
	if (rc != BB_OK || removed > 0 || o->json == NULL)
		return rc;
	/* A Like stored under another id (a repeat): by what it names. */
	rc = our_post(st, o->object, &post, e);
	if (rc == BB_OK)
		rc = store_reaction_remove_kind(
		    st, post, o->type == AP_TYPE_LIKE ? STORE_REACTION_LIKE : STORE_REACTION_BOOST,
		    a->actor, NULL, e);
	return ours_or_ok(rc, e);
}

/* A new id for something we answer with, under base_url. */
static enum bb_rc new_id(const struct comments_env *env, char *out, size_t outlen, struct err *e)
{
	char hex[2 * ACTIVITY_ID_BYTES + 1];
	int n;

	if (rand_hex(hex, ACTIVITY_ID_BYTES) != BB_OK)
		return err_set(e, BB_ERR_IO, "no random source");
	n = snprintf(out, outlen, "%s%s%s", env->site->cfg.base_url, AP_PATH_ACTIVITIES, hex);
	if (n < 0 || (size_t)n >= outlen)
		return err_set(e, BB_ERR_LIMIT, "base_url too long for an activity id");
	return BB_OK;
}

/* Stores j (taken) as an activity we serve at id; *rowid names it. */
static enum bb_rc activity_store(struct store *st, const char *id, json_t *j, time_t now,
				 int64_t *rowid, struct err *e)
{
	char *json = j ? json_dumps(j, JSON_COMPACT) : NULL;
	enum bb_rc rc;

	json_decref(j);
	if (json == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	rc = store_activity_add(st, id, json, now, rowid, e);
	free(json);
	return rc;
}

/* FEP-044f: the QuoteAuthorization (served at its id, for Mastodon's
 * verify_quote_service to fetch) and the Accept naming it as result,
 * queued to the requester's inbox. */
static enum bb_rc quote_accept(struct store *st, const struct comments_env *env,
			       const struct ap_activity *a, const char *post_id, const char *inbox,
			       time_t now, struct err *e)
{
	char auth_id[512], accept_id[512], host[URL_HOST_KEY_MAX + 1];
	const char *us = env->site->actor_id;
	int64_t rowid = 0;
	enum bb_rc rc;

	rc = url_host_key(inbox, host, e);
	if (rc == BB_OK)
		rc = new_id(env, auth_id, sizeof(auth_id), e);
	if (rc == BB_OK)
		rc = new_id(env, accept_id, sizeof(accept_id), e);
	if (rc != BB_OK)
		return rc;
	rc = activity_store(st, auth_id,
			    json_pack("{s:o, s:s, s:s, s:s, s:s, s:s}", "@context", quote_context(),
				      "id", auth_id, "type", "QuoteAuthorization", "attributedTo",
				      us, "interactionTarget", post_id, "interactingObject",
				      a->instrument),
			    now, &rowid, e);
	if (rc != BB_OK)
		return rc;
	rc = activity_store(st, accept_id,
			    json_pack("{s:o, s:s, s:s, s:s, s:[s],"
				      " s:{s:s, s:s, s:s, s:s, s:s}, s:s}",
				      "@context", quote_context(), "id", accept_id, "type",
				      "Accept", "actor", us, "to", a->actor, "object", "id", a->id,
				      "type", "QuoteRequest", "actor", a->actor, "object", post_id,
				      "instrument", a->instrument, "result", auth_id),
			    now, &rowid, e);
	if (rc != BB_OK)
		return rc;
	return store_delivery_add(st, rowid, inbox, host, now, e);
}

static enum bb_rc apply_quote_request(struct store *st, const struct comments_env *env,
				      const struct ap_activity *a,
				      const struct comment_prepared *note, const char *inbox,
				      time_t now, struct err *e)
{
	struct store_post p = {0};
	bool is_new = false;
	enum bb_rc rc;

	(void)note;
	if (a->instrument == NULL || inbox == NULL || blocked(env, a->instrument))
		return BB_OK;
	rc = store_post_by_ap_id(st, a->object.id ? a->object.id : "", &p, e);
	if (rc == BB_OK && p.deleted != 0)
		rc = err_set(e, BB_ERR_NOTFOUND, "post %s is deleted", p.ap_id);
	if (rc == BB_OK)
		rc = quote_accept(st, env, a, p.ap_id, inbox, now, e);
	if (rc == BB_OK)
		rc = store_reaction_add(st, p.rowid, STORE_REACTION_QUOTE, a->actor, a->instrument,
					now, &is_new, e);
	if (rc == BB_OK)
		log_info("quote of %s by %s accepted", p.ap_id, a->actor);
	store_post_clear(&p);
	return ours_or_ok(rc, e);
}

typedef enum bb_rc (*apply_fn)(struct store *st, const struct comments_env *env,
			       const struct ap_activity *a, const struct comment_prepared *note,
			       const char *inbox, time_t now, struct err *e);

static const struct {
	enum ap_type type;
	apply_fn fn;
} appliers[] = {
    {AP_TYPE_CREATE, apply_create},
    {AP_TYPE_UPDATE, apply_update},
    {AP_TYPE_DELETE, apply_delete},
    {AP_TYPE_LIKE, apply_reaction},
    {AP_TYPE_ANNOUNCE, apply_reaction},
    {AP_TYPE_UNDO, apply_undo},
    {AP_TYPE_QUOTE_REQUEST, apply_quote_request},
};

enum bb_rc comments_apply(struct store *st, const struct comments_env *env,
			  const struct ap_activity *a, const struct comment_prepared *note,
			  const char *inbox, time_t now, struct err *e)
{
	for (size_t i = 0; i < sizeof(appliers) / sizeof(appliers[0]); i++)
		if (appliers[i].type == a->type)
			return appliers[i].fn(st, env, a, note, inbox, now, e);
	return BB_OK;
}
