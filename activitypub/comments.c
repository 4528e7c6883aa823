/*
 * comments.c — see comments.h: the typed reading of a reply, its routing,
 * its sanitizing, and which copy of it to believe.  The effects in the
 * store are in comments_apply.c.
 *
 * Mastodon references (MASTODON.md): the shape of a reply §7.2
 * (note_serializer.rb), the authenticity rules §7.3 (create.rb:18
 * non_matching_uri_hosts?, dereferencer.rb:42-59), the audience §6.1/§7.1
 * (Public in to: public; in cc: unlisted).
 */
#include "comments.h"
#include "html.h"
#include "remote.h"
#include "timeutil.h"
#include "url.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Members read from arrays (to, cc, tag, url): more are ignored. */
#define COMMENT_LIST_MAX 256

bool comments_is_public(const char *s)
{
	return s != NULL && (strcmp(s, AP_PUBLIC) == 0 || strcmp(s, "as:Public") == 0 ||
			     strcmp(s, "Public") == 0);
}

static bool is_http(const char *s)
{
	return s != NULL && strlen(s) <= ACTIVITY_ID_MAX && url_is_http_str(s);
}

/* An id: a string, or an object's `id`; http(s) only. */
static const char *id_of(const json_t *v)
{
	const char *s;

	if (json_is_object(v))
		v = json_object_get(v, "id");
	s = json_string_value(v);
	return is_http(s) ? s : NULL;
}

/* The first id of v: an id (id_of), or the first entry of an array that
 * is one. */
static const char *first_id(const json_t *v)
{
	const json_t *item;
	size_t i;

	if (!json_is_array(v))
		return id_of(v);
	json_array_foreach(v, i, item)
	{
		const char *s = id_of(item);
		if (s != NULL || i + 1 == COMMENT_LIST_MAX)
			return s;
	}
	return NULL;
}

/* A link: a string, a Link object's href (or url), or the first of an
 * array that gives one (a Note's url; Misskey sends an array). */
static const char *link_of(const json_t *v)
{
	const json_t *item;
	size_t i;

	if (json_is_array(v)) {
		json_array_foreach(v, i, item)
		{
			const char *s = json_is_array(item) ? NULL : link_of(item);
			if (s != NULL || i + 1 == COMMENT_LIST_MAX)
				return s;
		}
		return NULL;
	}
	if (json_is_object(v)) {
		const char *s = json_string_value(json_object_get(v, "href"));
		if (s == NULL)
			s = json_string_value(json_object_get(v, "url"));
		return is_http(s) ? s : NULL;
	}
	return is_http(json_string_value(v)) ? json_string_value(v) : NULL;
}

/* Whether the audience list v (a string or an array of strings or
 * objects with ids) holds Public (*public) and who (*who, may be NULL). */
static void audience_scan(const json_t *v, const char *who, bool *public, bool *has_who)
{
	const json_t *item;
	size_t i;

	*public = false;
	if (!json_is_array(v)) {
		const char *s = json_is_object(v) ? json_string_value(json_object_get(v, "id"))
						  : json_string_value(v);
		*public = comments_is_public(s);
		*has_who = *has_who || (who && s && strcmp(s, who) == 0);
		return;
	}
	json_array_foreach(v, i, item)
	{
		bool p = false;

		if (i == COMMENT_LIST_MAX)
			break;
		audience_scan(json_is_array(item) ? NULL : item, who, &p, has_who);
		*public = *public || p;
	}
}

/* Reads the tag list: Mention of our actor, Emoji names. */
static void tags_scan(const json_t *tags, const char *our_actor, struct comment_note *n)
{
	const json_t *t;
	size_t i;

	if (json_is_object(tags)) {
		json_t *one = json_array();
		if (one != NULL && json_array_append(one, (json_t *)tags) == 0)
			tags_scan(one, our_actor, n);
		json_decref(one);
		return;
	}
	json_array_foreach(tags, i, t)
	{
		const char *type = json_string_value(json_object_get(t, "type"));
		const char *name = json_string_value(json_object_get(t, "name"));
		const char *href = json_string_value(json_object_get(t, "href"));

		if (i == COMMENT_LIST_MAX || type == NULL)
			break;
		if (strcmp(type, "Mention") == 0 && href && our_actor &&
		    strcmp(href, our_actor) == 0)
			n->mentions_us = true;
		if (strcmp(type, "Emoji") == 0 && name && n->nemoji < COMMENT_EMOJI_MAX)
			n->emoji[n->nemoji++] = name;
	}
}

static time_t time_of(const json_t *v)
{
	time_t t = 0;

	if (!json_is_string(v) || !time_parse_rfc3339(json_string_value(v), &t))
		return 0;
	return t;
}

enum bb_rc comment_note_parse(const json_t *obj, const char *our_actor, struct comment_note *out,
			      struct err *e)
{
	static const char *const quote_keys[] = {"quote", "quoteUrl", "_misskey_quote"};
	bool to_public = false, cc_public = false, to_us = false;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(obj))
		return err_set(e, BB_ERR_INVALID, "the object is not a JSON object");
	out->id = id_of(json_object_get(obj, "id"));
	if (out->id == NULL)
		return err_set(e, BB_ERR_INVALID, "the object has no http(s) id");
	out->attributed_to = first_id(json_object_get(obj, "attributedTo"));
	out->in_reply_to = id_of(json_object_get(obj, "inReplyTo"));
	out->url = link_of(json_object_get(obj, "url"));
	out->content = json_string_value(json_object_get(obj, "content"));
	for (size_t i = 0; i < sizeof(quote_keys) / sizeof(quote_keys[0]) && !out->quote; i++)
		out->quote = id_of(json_object_get(obj, quote_keys[i]));
	out->published = time_of(json_object_get(obj, "published"));
	out->updated = time_of(json_object_get(obj, "updated"));
	audience_scan(json_object_get(obj, "to"), our_actor, &to_public, &to_us);
	audience_scan(json_object_get(obj, "cc"), our_actor, &cc_public, &to_us);
	out->audience = to_public   ? COMMENT_AUDIENCE_PUBLIC
			: cc_public ? COMMENT_AUDIENCE_UNLISTED
				    : COMMENT_AUDIENCE_PRIVATE;
	out->mentions_us = to_us;
	tags_scan(json_object_get(obj, "tag"), our_actor, out);
	return BB_OK;
}

void comment_target_clear(struct comment_target *t)
{
	free(t->parent);
	memset(t, 0, sizeof(*t));
}

enum bb_rc comments_route(struct store *st, const char *in_reply_to, struct comment_target *out,
			  struct err *e)
{
	struct store_post p = {0};
	struct store_comment c = {0};
	enum bb_rc rc;

	memset(out, 0, sizeof(*out));
	if (in_reply_to == NULL)
		return err_set(e, BB_ERR_NOTFOUND, "a reply to nothing");
	/* Our object id, as we published it (note_serializer.rb:99-107);
	 * some servers name the blog permalink instead. */
	rc = store_post_by_ap_id(st, in_reply_to, &p, e);
	if (rc == BB_ERR_NOTFOUND)
		rc = store_post_by_url(st, in_reply_to, &p, e);
	if (rc == BB_OK) {
		out->post = p.rowid;
		if (p.deleted != 0)
			rc = err_set(e, BB_ERR_NOTFOUND, "a reply to a deleted post");
		store_post_clear(&p);
		return rc;
	}
	if (rc != BB_ERR_NOTFOUND)
		return rc;
	/* A reply to a reply: the thread's post, this comment as parent. */
	rc = store_comment_get(st, in_reply_to, &c, e);
	if (rc != BB_OK)
		return rc;
	out->post = c.post;
	out->parent = c.ap_id;
	c.ap_id = NULL;
	store_comment_clear(&c);
	return BB_OK;
}

enum bb_rc comments_sanitize(const char *content, const char *base, struct buf *out)
{
	bool visible = false;

	return html_reduce_reply(content, base, COMMENT_CONTENT_MAX, out, &visible);
}

enum bb_rc comment_prepare(const struct ap_activity *a, const json_t *trusted,
			   const char *our_actor, struct comment_prepared *out)
{
	struct err ignored = {0};
	const struct comment_note *n = &out->note;

	memset(out, 0, sizeof(*out));
	buf_init(&out->html, COMMENT_CONTENT_MAX + 1);
	out->object = trusted;
	if (trusted == NULL ||
	    comment_note_parse(trusted, our_actor, &out->note, &ignored) != BB_OK)
		return BB_OK;
	out->parsed = true;
	if (n->attributed_to == NULL ||
	    (a->type == AP_TYPE_CREATE && n->in_reply_to == NULL && !n->mentions_us))
		return BB_OK;
	return comments_sanitize(n->content, n->id, &out->html);
}

void comment_prepared_clear(struct comment_prepared *p)
{
	buf_free(&p->html);
	memset(p, 0, sizeof(*p));
}

/* The host key of the URL s into host; false when it has none. */
static bool host_of(const char *s, char host[URL_HOST_KEY_MAX + 1])
{
	return s != NULL && url_host_key(s, host, NULL) == BB_OK;
}

/* Whether the copy of obj in the activity may be believed as it is:
 * attributed to the actor, with its id on the actor's host (§7.3). */
static bool embedded_trusted(const struct ap_activity *a, const json_t *obj)
{
	struct comment_note n;
	char h1[URL_HOST_KEY_MAX + 1], h2[URL_HOST_KEY_MAX + 1];
	struct err ignored = {0};

	if (comment_note_parse(obj, NULL, &n, &ignored) != BB_OK || n.attributed_to == NULL)
		return false;
	return strcmp(n.attributed_to, a->actor) == 0 && host_of(n.id, h1) &&
	       host_of(a->actor, h2) && strcmp(h1, h2) == 0;
}

/* Checks a copy fetched from its origin: a note, attributed to someone on
 * the id's host (the origin vouches only for its own accounts). */
static enum bb_rc fetched_check(const json_t *obj, const char *uri, struct err *e)
{
	struct comment_note n;
	char h1[URL_HOST_KEY_MAX + 1], h2[URL_HOST_KEY_MAX + 1];
	enum bb_rc rc;

	rc = comment_note_parse(obj, NULL, &n, e);
	if (rc != BB_OK)
		return rc;
	if (n.attributed_to == NULL || !host_of(n.id, h1) || !host_of(n.attributed_to, h2) ||
	    strcmp(h1, h2) != 0)
		return err_set(e, BB_ERR_AUTH, "%.200s is attributed to %.200s, off its host", uri,
			       n.attributed_to ? n.attributed_to : "nobody");
	return BB_OK;
}

/* Whether v's type is one read as a note. */
static bool note_typed(const json_t *v)
{
	static const char *const types[] = {"Note", "Article", "Page", "Question"};
	const char *t = json_string_value(json_object_get(v, "type"));

	for (size_t i = 0; t && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(t, types[i]) == 0)
			return true;
	return false;
}

enum bb_rc comments_resolve(const struct fetch_config *fetch, const struct ap_activity *a,
			    json_t **trusted, struct err *e)
{
	const json_t *obj = a->object.json;
	json_t *got = NULL;
	enum bb_rc rc;

	*trusted = NULL;
	if (a->type != AP_TYPE_CREATE && a->type != AP_TYPE_UPDATE)
		return BB_OK;
	if (a->object.id == NULL || strcmp(a->object.id, a->actor) == 0)
		return BB_OK; /* no object, or the actor updating itself */
	if (obj != NULL && !note_typed(obj))
		return BB_OK; /* not a note: nothing for comments */
	if (obj != NULL && embedded_trusted(a, obj)) {
		*trusted = json_incref((json_t *)obj);
		return BB_OK;
	}
	/* A bare URI, or a copy that does not vouch for itself: what the
	 * origin serves (§7.3 rules 3 and 4). */
	rc = remote_object_fetch(fetch, a->object.id, &got, e);
	if (rc != BB_OK)
		return rc;
	if (!note_typed(got)) {
		json_decref(got);
		return BB_OK;
	}
	rc = fetched_check(got, a->object.id, e);
	if (rc != BB_OK) {
		json_decref(got);
		return rc;
	}
	*trusted = got;
	return BB_OK;
}
