/*
 * move.c — see move.h.
 */
#include "move.h"
#include "log.h"
#include "publish.h"
#include "render.h"
#include "timeutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const actor_types[] = {"Application", "Group", "Organization", "Person",
					  "Service"};

static bool is_actor_type(const char *t)
{
	for (size_t i = 0; t != NULL && i < sizeof(actor_types) / sizeof(actor_types[0]); i++)
		if (strcmp(t, actor_types[i]) == 0)
			return true;
	return false;
}

/* An entry of alsoKnownAs: a string, or an object with an id, as Mastodon
 * reads it (process_account_service.rb: value_or_id). */
static const char *aka_id(const json_t *x)
{
	if (json_is_object(x))
		x = json_object_get(x, "id");
	return json_is_string(x) ? json_string_value(x) : NULL;
}

/* Whether the alsoKnownAs value v (one entry, or an array whose first
 * MOVE_AKA_MAX entries are looked at) holds id.  Mastodon compares the
 * ids as strings (move.rb: also_known_as.include?). */
static bool aka_has(const json_t *v, const char *id)
{
	const char *s;

	if (!json_is_array(v))
		return (s = aka_id(v)) != NULL && strcmp(s, id) == 0;
	for (size_t i = 0; i < json_array_size(v) && i < MOVE_AKA_MAX; i++)
		if ((s = aka_id(json_array_get(v, i))) != NULL && strcmp(s, id) == 0)
			return true;
	return false;
}

enum bb_rc move_target_check(const json_t *doc, const char *target, const char *our_id,
			     struct err *e)
{
	const json_t *type = json_object_get(doc, "type");

	if (!json_is_object(doc) || !json_is_string(type) ||
	    !is_actor_type(json_string_value(type)))
		return err_set(e, BB_ERR_INVALID, "%s is not an actor", target);
	if (!aka_has(json_object_get(doc, "alsoKnownAs"), our_id))
		return err_set(
		    e, BB_ERR_FORBIDDEN,
		    "%s does not list %s in its alsoKnownAs: add this blog's actor as an "
		    "alias of the new account first (Mastodon: Preferences, Account, Moving "
		    "from a different account)",
		    target, our_id);
	return BB_OK;
}

/* The Move, as Mastodon serializes its own (move_serializer.rb): actor and
 * object our actor, target the new account. */
static char *move_render(const struct ap_site *site, const char *id, const char *target, time_t now)
{
	char date[TIME_RFC3339_LEN];

	time_rfc3339(now, date);
	return ap_json_dump(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "@context",
				      AP_CONTEXT_AS, "id", id, "type", "Move", "actor",
				      site->actor_id, "object", site->actor_id, "target", target,
				      "published", date));
}

enum bb_rc move_publish(struct store *st, const struct ap_site *site, const char *actor_json,
			const char *target, time_t now, int64_t *deliveries, struct err *e)
{
	char id[2048];
	char *moved = NULL, *act = NULL;
	int64_t rowid = 0, count = 0, updates = 0;
	bool sent = false, committed = false;
	enum bb_rc rc;

	*deliveries = 0;
	if ((size_t)snprintf(id, sizeof(id), "%s#moves/1", site->actor_id) >= sizeof(id))
		return err_set(e, BB_ERR_LIMIT, "the actor id is too long");
	act = move_render(site, id, target, now);
	if (act == NULL)
		return err_set(e, BB_ERR_NOMEM, "cannot render the Move");
	if ((rc = store_begin(st, e)) != BB_OK)
		goto out;
	/* Read again inside the transaction: two moves at once send one. */
	if ((rc = store_moved_to_get(st, &moved, e)) != BB_OK)
		goto out;
	if (moved != NULL) {
		rc = err_set(e, BB_ERR_FORBIDDEN, "the blog has already moved to %s", moved);
		goto out;
	}
	/* The Update first: a server reading the actor again finds movedTo. */
	if ((rc = store_meta_set(st, STORE_META_MOVED_TO, target, e)) != BB_OK ||
	    (rc = publish_actor_sync_tx(st, site, actor_json, now, &sent, &updates, e)) != BB_OK ||
	    (rc = store_activity_add(st, id, act, now, &rowid, e)) != BB_OK ||
	    (rc = store_fanout(st, rowid, now, &count, e)) != BB_OK ||
	    (rc = store_commit(st, e)) != BB_OK)
		goto out;
	committed = true;
	*deliveries = count;
	log_info("moved to %s: Move %s queued for %" PRId64 " inboxes", target, id, count);
out:
	if (!committed)
		store_rollback(st);
	free(moved);
	free(act);
	return rc;
}
