/*
 * inbox.c — see inbox.h.  Mastodon references: app/controllers/concerns/
 * signature_verification.rb (verification, key refetch),
 * app/controllers/activitypub/inboxes_controller.rb (unknown self-deletes),
 * app/lib/activitypub/activity/{follow,undo,delete}.rb (semantics),
 * app/services/authorize_follow_service.rb (the Accept we send back).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "inbox.h"
#include "log.h"
#include "probe.h"
#include "rand.h"
#include "remote.h"
#include "url.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Random bytes in the ids of the activities we send. */
#define INBOX_ID_BYTES 16

void inbox_verified_clear(struct inbox_verified *v)
{
	ap_activity_free(&v->act);
	store_actor_clear(&v->signer);
	comment_prepared_clear(&v->note);
	json_decref(v->object);
	v->object = NULL;
	free(v->probe);
	v->probe = NULL;
	v->ignore = false;
}

/* The host key of an actor id into host; false when it has none, or has
 * user info, which is never legitimate in an actor id. */
static bool actor_host(const char *actor, char host[URL_HOST_KEY_MAX + 1])
{
	struct url u;

	if (url_parse(actor, 0, &u, NULL) != BB_OK || u.has_userinfo)
		return false;
	url_host_port(&u, host);
	return true;
}

/* Verifies with the key of a, mapping a crypto failure to AUTH. */
static enum bb_rc verify_with(const struct inbox_env *env, const struct httpsig *sig,
			      const struct httpsig_message *m, const struct store_actor *a,
			      struct err *e)
{
	struct pubkey *pk = NULL;
	enum bb_rc rc = env->keys ? pubkey_cache_get(env->keys, a->key_id, a->public_key_pem, &pk, e)
				  : pubkey_from_pem(a->public_key_pem, &pk, e);

	if (rc != BB_OK)
		return err_set(e, BB_ERR_AUTH, "the key of %.200s is unusable", a->id);
	rc = httpsig_verify(sig, m, pk, e);
	pubkey_free(pk);
	return rc;
}

/* Fetches the key's owner afresh, caches it, and verifies with it. */
static enum bb_rc verify_fetched(struct store *st, const struct inbox_env *env,
				 const struct httpsig *sig, const struct httpsig_message *m,
				 time_t now, struct store_actor *signer, struct err *e)
{
	struct err ce = {0};
	enum bb_rc rc;

	store_actor_clear(signer);
	rc = remote_key_fetch(env->fetch, httpsig_key_id(sig), now, signer, &ce);
	if (rc == BB_ERR_TEMPFAIL || rc == BB_ERR_NOMEM) {
		*e = ce;
		return rc;
	}
	if (rc != BB_OK)
		return err_set(e, BB_ERR_AUTH, "Public key not found for key %.200s: %s",
			       httpsig_key_id(sig), ce.msg);
	err_clear(&ce);
	if (store_actor_put(st, signer, &ce) != BB_OK)
		log_warn("cannot cache actor %s: %s", signer->id, ce.msg);
	return verify_with(env, sig, m, signer, e);
}

static size_t signer_hosts(const struct store_actor *signer, char hosts[2][URL_HOST_KEY_MAX + 1]);

/* Whether the sender's server had delivery failures (read only). */
static enum bb_rc sender_troubled(struct store *st, const struct store_actor *signer,
				  bool *troubled, struct err *e)
{
	char hosts[2][URL_HOST_KEY_MAX + 1];
	size_t n = signer_hosts(signer, hosts);

	*troubled = false;
	for (size_t i = 0; i < n && !*troubled; i++) {
		enum bb_rc rc = store_host_troubled(st, hosts[i], troubled, e);
		if (rc != BB_OK)
			return rc;
	}
	return BB_OK;
}

static bool self_activity(const struct ap_activity *a);

/* The author writes again: a cached actor over a day old (any age when
 * force: it announced a change of its own) is fetched afresh (by the key
 * it signed with, so the key stays the one that verified), for the name
 * and avatar shown under its comments.  A failure keeps the old copy. */
static void actor_refresh(struct store *st, const struct inbox_env *env, time_t now,
			  struct store_actor *signer, bool force)
{
	struct store_actor fresh = {0};
	struct err ce = {0};

	if (!force && now - signer->fetched_at < INBOX_ACTOR_REFRESH_S)
		return;
	if (remote_key_fetch(env->fetch, signer->key_id, now, &fresh, &ce) != BB_OK ||
	    strcmp(fresh.id, signer->id) != 0) {
		log_info("keeping the cached copy of %s: %s", signer->id, ce.msg);
		store_actor_clear(&fresh);
		return;
	}
	if (store_actor_put(st, &fresh, &ce) != BB_OK)
		log_warn("cannot cache actor %s: %s", fresh.id, ce.msg);
	store_actor_clear(signer);
	*signer = fresh;
}

/* The author of a note believed, when it is not the signer (a note
 * fetched from its origin, attributed to another account there): its
 * actor document, fetched and cached as the signer's is, for the name,
 * handle, avatar and profile shown under the comment; a cached copy is
 * fetched afresh when over a day old.  A failure keeps the comment
 * (shown under the author's id) and the old copy, if any. */
static void author_cache(struct store *st, const struct inbox_env *env, time_t now,
			 const struct inbox_verified *v)
{
	const struct comment_note *n = &v->note.note;
	struct store_actor a = {0};
	char host[URL_HOST_KEY_MAX + 1];
	struct err ce = {0};
	enum bb_rc rc;

	if (!v->note.parsed || n->attributed_to == NULL ||
	    (n->in_reply_to == NULL && !n->mentions_us) ||
	    strcmp(n->attributed_to, v->signer.id) == 0 ||
	    url_host_key(n->attributed_to, host, NULL) != BB_OK ||
	    url_host_blocked(env->blocked_domains, host))
		return;
	rc = store_actor_get(st, n->attributed_to, &a, &ce);
	if (rc == BB_OK && now - a.fetched_at < INBOX_ACTOR_REFRESH_S) {
		store_actor_clear(&a);
		return;
	}
	store_actor_clear(&a);
	if (rc != BB_OK && rc != BB_ERR_NOTFOUND) {
		log_warn("cannot read the cached actor %s: %s", n->attributed_to, ce.msg);
		return;
	}
	err_clear(&ce);
	if (remote_actor_fetch(env->fetch, n->attributed_to, now, &a, &ce) != BB_OK) {
		log_info("no actor document for %s: %s", n->attributed_to, ce.msg);
		return;
	}
	if (store_actor_put(st, &a, &ce) != BB_OK)
		log_warn("cannot cache actor %s: %s", a.id, ce.msg);
	store_actor_clear(&a);
}

/* The copy of a Create's or Update's note to believe (comments_resolve),
 * on this thread, before the writer's transaction.  No copy that can be
 * believed: the activity is acknowledged and ignored; the origin out of
 * reach for now: BB_ERR_TEMPFAIL, for the sender to retry. */
static enum bb_rc resolve_object(struct store *st, const struct inbox_env *env, time_t now,
				 struct inbox_verified *v, struct err *e)
{
	struct err ce = {0};
	enum bb_rc rc;

	rc = comments_resolve(env->fetch, &v->act, &v->object, &ce);
	if (rc == BB_ERR_TEMPFAIL || rc == BB_ERR_NOMEM) {
		*e = ce;
		return rc;
	}
	if (rc != BB_OK) {
		log_info("inbox: %s %s: object not believed: %s", v->act.type_name, v->act.id,
			 ce.msg);
		v->ignore = true;
		return BB_OK;
	}
	if (v->object != NULL) {
		/* Read and reduced here, not in the writer's transaction. */
		rc = comment_prepare(&v->act, v->object, env->site->actor_id, &v->note);
		if (rc != BB_OK)
			return err_set(e, rc, "preparing %.200s: out of memory", v->act.id);
		actor_refresh(st, env, now, &v->signer, false);
		author_cache(st, env, now, v);
	}
	else if (v->act.type == AP_TYPE_UPDATE && self_activity(&v->act))
		actor_refresh(st, env, now, &v->signer, true); /* Update(Person) */
	return BB_OK;
}

/* Is this Delete/Update the actor's own, about itself? */
static bool self_activity(const struct ap_activity *a)
{
	return (a->type == AP_TYPE_DELETE || a->type == AP_TYPE_UPDATE) && a->object.id &&
	       strcmp(a->object.id, a->actor) == 0;
}

/* Whether the store's block list (the admin's, beside the config's)
 * covers actor or its host; host is a host key, its port not part of a
 * blocked domain. */
static enum bb_rc store_blocked(struct store *st, const char *actor, const char *host,
				bool *blocked, struct err *e)
{
	char name[URL_HOST_KEY_MAX + 1];
	char *colon;

	snprintf(name, sizeof(name), "%s", host);
	colon = strrchr(name, ':');
	if (colon != NULL && strchr(colon, ']') == NULL)
		*colon = '\0';
	return store_block_matches(st, actor, name, blocked, e);
}

/* Whether the body holds s (a cheap test before parsing it). */
static bool mentions(const struct httpsig_message *m, const char *s)
{
	return m->body != NULL && memmem(m->body, m->body_len, s, strlen(s)) != NULL;
}

/* An activity of the bridge's own actor: the doctor's probe, answered
 * with its report and never stored (probe.h); anything else is refused.
 * The HTTP signature must be by the bridge's key: sig_failure is why
 * httpsig_parse refused it (NULL: parsed). */
static enum bb_rc answer_probe(const struct inbox_env *env, const struct httpsig_message *m,
			       const struct httpsig *sig, const char *sig_failure, time_t now,
			       struct inbox_verified *out, struct err *e)
{
	const struct ap_site *site = env->site;
	const char *pem = site->cfg.public_key_pem;
	struct pubkey *own = NULL;
	struct err ve = {0};
	enum bb_rc rc;

	rc = env->keys ? pubkey_cache_get(env->keys, site->key_id, pem, &own, e)
		       : pubkey_from_pem(pem, &own, e);
	if (rc != BB_OK)
		return rc;
	rc = ap_probe_check(site, own, &out->act, now, e);
	if (rc == BB_OK && sig_failure == NULL) {
		if (strcmp(httpsig_key_id(sig), site->key_id) != 0)
			sig_failure = "signed with another key than the bridge's";
		else if (httpsig_verify(sig, m, own, &ve) != BB_OK)
			sig_failure = ve.msg;
	}
	if (rc == BB_OK)
		rc = ap_probe_report(&out->act, m, sig_failure, &out->probe, e);
	pubkey_free(own);
	return rc;
}

enum bb_rc inbox_verify(struct store *st, const struct inbox_env *env,
			const struct httpsig_message *m, time_t now, struct inbox_verified *out,
			struct err *e)
{
	struct httpsig *sig = NULL;
	char host[URL_HOST_KEY_MAX + 1];
	struct err sig_e = {0};
	bool fetched = false;
	enum bb_rc rc, sig_rc;

	memset(out, 0, sizeof(*out));
	sig_rc = httpsig_parse(m, now, &sig, &sig_e);
	/* A failing signature is refused at once, unless the body may be
	 * the doctor's probe, which is answered even then (probe.h). */
	if (sig_rc != BB_OK && !mentions(m, env->site->actor_id)) {
		*e = sig_e;
		rc = sig_rc;
		goto out;
	}
	rc = ap_activity_parse(m->body, m->body_len, &out->act, e);
	if (rc == BB_OK && ap_probe_claimed(env->site, &out->act)) {
		rc = answer_probe(env, m, sig, sig_rc == BB_OK ? NULL : sig_e.msg, now, out, e);
		goto out;
	}
	if (sig_rc != BB_OK) {
		*e = sig_e;
		rc = sig_rc;
		goto out;
	}
	if (rc != BB_OK)
		goto out;
	if (!actor_host(out->act.actor, host)) {
		rc = err_set(e, BB_ERR_INVALID, "the actor has no host");
		goto out;
	}
	if (out->act.type != AP_TYPE_FOLLOW && url_host_blocked(env->blocked_domains, host)) {
		rc = err_set(e, BB_ERR_FORBIDDEN, "Instance is blocked");
		goto out;
	}
	/* The reads of a known sender, in one snapshot; fetches and writes
	 * (a key not cached yet, or rotated) come after it. */
	rc = store_read_begin(st, e);
	if (rc != BB_OK)
		goto out;
	if (out->act.type != AP_TYPE_FOLLOW) {
		bool blocked;
		rc = store_blocked(st, out->act.actor, host, &blocked, e);
		if (rc == BB_OK && blocked)
			rc = err_set(e, BB_ERR_FORBIDDEN, "Instance is blocked");
	}
	if (rc == BB_OK)
		rc = store_actor_by_key(st, httpsig_key_id(sig), &out->signer, e);
	if (rc == BB_OK)
		rc = sender_troubled(st, &out->signer, &out->revive, e);
	store_read_end(st);
	if (rc == BB_ERR_NOTFOUND && self_activity(&out->act)) {
		/* A stranger deleting itself: nothing of it here, and its key
		 * is gone with it (inboxes_controller.rb:29-38). */
		out->ignore = true;
		rc = BB_OK;
		goto out;
	}
	if (rc == BB_OK) {
		rc = verify_with(env, sig, m, &out->signer, e);
		/* Key rotation: one fresh fetch before refusing.  Not for a
		 * self-delete, whose actor answers 410 now. */
		if (rc == BB_ERR_AUTH && !self_activity(&out->act)) {
			fetched = true;
			rc = verify_fetched(st, env, sig, m, now, &out->signer, e);
		}
	} else if (rc == BB_ERR_NOTFOUND) {
		fetched = true;
		rc = verify_fetched(st, env, sig, m, now, &out->signer, e);
	}
	if (rc != BB_OK)
		goto out;
	/* The key must be the actor's own (process_activity_service.rb:36-58). */
	if (strcmp(out->signer.id, out->act.actor) != 0) {
		rc = err_set(e, BB_ERR_AUTH, "signed by %.200s but the activity's actor is %.200s",
			     out->signer.id, out->act.actor);
		goto out;
	}
	if (fetched) /* a signer other than the one read above */
		rc = sender_troubled(st, &out->signer, &out->revive, e);
	if (rc == BB_OK)
		rc = resolve_object(st, env, now, out, e);
out:
	httpsig_free(sig);
	if (rc != BB_OK)
		inbox_verified_clear(out);
	return rc;
}

/* Renders and queues an Accept or Reject of the Follow a, to inbox. */
static enum bb_rc queue_answer(struct store *st, const struct inbox_env *env,
			       const struct ap_activity *a, const char *type, const char *inbox,
			       time_t now, struct err *e)
{
	char hex[2 * INBOX_ID_BYTES + 1], id[512], host[URL_HOST_KEY_MAX + 1];
	json_t *j;
	char *json;
	int64_t rowid = 0;
	enum bb_rc rc;

	rc = url_host_key(inbox, host, e);
	if (rc != BB_OK)
		return rc;
	if (rand_hex(hex, INBOX_ID_BYTES) != BB_OK)
		return err_set(e, BB_ERR_IO, "no random source");
	snprintf(id, sizeof(id), "%s/ap/activities/%s", env->site->cfg.base_url, hex);
	/* The received Follow, embedded with its id: Mastodon matches it by
	 * id, else by (actor, object) (accept.rb:6-24). */
	j = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "@context", AP_CONTEXT_AS,
		      "id", id, "type", type, "actor", env->site->actor_id, "object", "id", a->id,
		      "type", "Follow", "actor", a->actor, "object", env->site->actor_id);
	json = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (json == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	rc = store_activity_add(st, id, json, now, &rowid, e);
	free(json);
	if (rc != BB_OK)
		return rc;
	return store_delivery_add(st, rowid, inbox, host, now, e);
}

static enum bb_rc apply_follow(struct store *st, const struct inbox_env *env,
			       const struct inbox_verified *v, time_t now, struct err *e)
{
	const struct ap_activity *a = &v->act;
	struct store_follower f = {0}, known = {0};
	char host[URL_HOST_KEY_MAX + 1];
	char *moved = NULL;
	enum bb_rc rc;

	if (a->object.id == NULL || strcmp(a->object.id, env->site->actor_id) != 0)
		return BB_OK; /* a follow of someone else: not ours to answer */
	/* A moved account takes no followers: Mastodon rejects those of its
	 * own moved accounts (follow.rb); the actor's movedTo points on. */
	if ((rc = store_moved_to_get(st, &moved, e)) != BB_OK)
		return rc;
	if (moved != NULL) {
		free(moved);
		log_info("rejecting the follow of %s (the blog has moved)", a->actor);
		return queue_answer(st, env, a, "Reject", v->signer.inbox, now, e);
	}
	if (actor_host(a->actor, host) && url_host_blocked(env->blocked_domains, host)) {
		log_info("rejecting the follow of %s (blocked domain)", a->actor);
		return queue_answer(st, env, a, "Reject", v->signer.inbox, now, e);
	}
	if (actor_host(a->actor, host)) {
		bool blocked;
		rc = store_blocked(st, a->actor, host, &blocked, e);
		if (rc != BB_OK)
			return rc;
		if (blocked) {
			log_info("rejecting the follow of %s (blocked)", a->actor);
			return queue_answer(st, env, a, "Reject", v->signer.inbox, now, e);
		}
	}
	f.actor = v->signer.id;
	f.handle = v->signer.handle;
	f.inbox = v->signer.inbox;
	f.shared_inbox = v->signer.shared_inbox;
	f.follow_id = (char *)a->id;
	f.since = now;
	/* A repeated Follow of a follower is not news to the admin (asked
	 * only when someone is to be told). */
	rc = BB_OK;
	if (env->notify.mail || env->notify.hook) {
		rc = store_follower_get(st, f.actor, &known, e);
		store_follower_clear(&known);
		if (rc == BB_ERR_NOTFOUND) {
			err_clear(e);
			rc = ap_event_follow(st, &env->notify, &v->signer, now, e);
		}
	}
	if (rc == BB_OK)
		rc = store_follower_put(st, &f, e);
	if (rc != BB_OK)
		return rc;
	log_info("new follower %s", a->actor);
	/* Accepts go to the personal inbox, as Mastodon sends them
	 * (authorize_follow_service.rb:21). */
	return queue_answer(st, env, a, "Accept", v->signer.inbox, now, e);
}

static enum bb_rc apply_undo(struct store *st, const struct inbox_env *env,
			     const struct ap_activity *a, struct err *e)
{
	const struct ap_object *o = &a->object;
	enum bb_rc rc;

	if (o->json != NULL) {
		/* An embedded Follow must be this actor's, of our actor. */
		if (o->type != AP_TYPE_FOLLOW || (o->actor && strcmp(o->actor, a->actor) != 0) ||
		    (o->object && strcmp(o->object, env->site->actor_id) != 0))
			return BB_OK;
		rc = store_follower_remove(st, a->actor, e);
	} else if (o->id != NULL) {
		/* A bare id: only the Follow we stored under that id. */
		rc = store_follower_remove_follow(st, a->actor, o->id, e);
	} else {
		return BB_OK;
	}
	if (rc == BB_ERR_NOTFOUND)
		return BB_OK;
	if (rc == BB_OK)
		log_info("%s unfollowed", a->actor);
	return rc;
}

static enum bb_rc apply_delete(struct store *st, const struct ap_activity *a, struct err *e)
{
	enum bb_rc rc;

	if (!self_activity(a))
		return BB_OK; /* deletes of replies come with comments */
	rc = store_follower_remove(st, a->actor, e);
	if (rc == BB_ERR_NOTFOUND)
		return BB_OK;
	if (rc == BB_OK)
		log_info("%s was deleted; no longer a follower", a->actor);
	return rc;
}

/* The host keys of an actor's inboxes (where our deliveries to it go), as
 * the deliveries to them are kept. */
static size_t signer_hosts(const struct store_actor *signer, char hosts[2][URL_HOST_KEY_MAX + 1])
{
	const char *urls[] = {signer->inbox, signer->shared_inbox};
	size_t n = 0;

	for (size_t i = 0; i < 2; i++)
		if (urls[i] && url_host_key(urls[i], hosts[n], NULL) == BB_OK &&
		    (n == 0 || strcmp(hosts[0], hosts[n]) != 0))
			n++;
	return n;
}

/* A verified activity from a host proves it is up: if our deliveries to
 * it were failing (or it was marked unavailable), they resume now, as
 * Mastodon does for us (inboxes_controller.rb:71-78).  Whether that is
 * needed is read in inbox_verify, on the request's thread; the writer
 * only writes when it is. */
static enum bb_rc host_alive(struct store *st, const struct store_actor *signer, time_t now,
			     struct err *e)
{
	char hosts[2][URL_HOST_KEY_MAX + 1];
	size_t n = signer_hosts(signer, hosts);

	for (size_t i = 0; i < n; i++) {
		enum bb_rc rc = store_host_success(st, hosts[i], now, e);
		if (rc != BB_OK)
			return rc;
	}
	return BB_OK;
}

/* The comments' part of an activity (comments.h). */
static enum bb_rc apply_comments(struct store *st, const struct inbox_env *env,
				 const struct inbox_verified *v, time_t now, struct err *e)
{
	struct comments_env cenv = {env->site, env->blocked_domains, env->moderation, env->notify};

	return comments_apply(st, &cenv, &v->act, &v->note, v->signer.inbox, now, e);
}

static enum bb_rc apply_follow_v(struct store *st, const struct inbox_env *env,
				 const struct inbox_verified *v, time_t now, struct err *e)
{
	return apply_follow(st, env, v, now, e);
}

/* An Undo: of a Follow, or of a Like or Announce (an Undo naming a bare
 * id may be either: both are tried, each only the actor's own). */
static enum bb_rc apply_undo_v(struct store *st, const struct inbox_env *env,
			       const struct inbox_verified *v, time_t now, struct err *e)
{
	enum bb_rc rc = apply_undo(st, env, &v->act, e);

	return rc == BB_OK ? apply_comments(st, env, v, now, e) : rc;
}

/* A Delete: of the follower's actor, and of comments (its or one). */
static enum bb_rc apply_delete_v(struct store *st, const struct inbox_env *env,
				 const struct inbox_verified *v, time_t now, struct err *e)
{
	enum bb_rc rc = apply_delete(st, &v->act, e);

	return rc == BB_OK ? apply_comments(st, env, v, now, e) : rc;
}

typedef enum bb_rc (*inbox_apply_fn)(struct store *st, const struct inbox_env *env,
				     const struct inbox_verified *v, time_t now, struct err *e);

static const struct {
	enum ap_type type;
	inbox_apply_fn fn;
} appliers[] = {
    {AP_TYPE_FOLLOW, apply_follow_v},  {AP_TYPE_UNDO, apply_undo_v},
    {AP_TYPE_DELETE, apply_delete_v},  {AP_TYPE_CREATE, apply_comments},
    {AP_TYPE_UPDATE, apply_comments},  {AP_TYPE_LIKE, apply_comments},
    {AP_TYPE_ANNOUNCE, apply_comments}, {AP_TYPE_QUOTE_REQUEST, apply_comments},
};

enum bb_rc inbox_apply(struct store *st, const struct inbox_env *env,
		       const struct inbox_verified *v, time_t now, struct err *e)
{
	bool is_new = false;
	enum bb_rc rc;

	if (v->ignore || v->probe)
		return BB_OK;
	rc = store_seen_add(st, v->act.id, now, &is_new, e);
	if (rc != BB_OK || !is_new)
		return rc; /* a replay (or Mastodon's RFC 9421 retry): done already */
	if (v->revive) {
		rc = host_alive(st, &v->signer, now, e);
		if (rc != BB_OK)
			return rc;
	}
	for (size_t i = 0; i < sizeof(appliers) / sizeof(appliers[0]); i++)
		if (appliers[i].type == v->act.type)
			return appliers[i].fn(st, env, v, now, e);
	return BB_OK;
}
