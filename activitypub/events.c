/*
 * events.c — see events.h.
 */
#include "events.h"
#include "buf.h"
#include "html.h"
#include "log.h"
#include "text.h"
#include "timeutil.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A JSON string of s as plain text of one line: control characters
 * (line breaks included) become spaces, runs of blanks one space, invalid
 * UTF-8 U+FFFD, at most max_chars characters ("…" after a cut).  NULL
 * (JSON null) for NULL or blank s; NULL also when out of memory, which
 * the caller tells by *oom. */
static json_t *text_json(const char *s, size_t max_chars, bool *oom)
{
	struct buf b;
	size_t chars = 0, n;
	bool space = false;
	json_t *j;

	if (s == NULL)
		return json_null();
	buf_init(&b, 4 * max_chars + 8);
	n = strlen(s);
	for (size_t i = 0; i < n;) {
		const unsigned char *p = (const unsigned char *)s + i;
		size_t len = text_utf8_len(p, n - i);
		bool blank = len == 1 && (p[0] <= ' ' || p[0] == 0x7f);
		enum bb_rc rc = BB_OK;

		if (blank) {
			space = b.len > 0;
			i++;
			continue;
		}
		if (chars + (space ? 1 : 0) >= max_chars) {
			rc = buf_puts(&b, "\u2026");
			if (rc != BB_OK)
				*oom = true;
			break;
		}
		if (space) {
			rc = buf_puts(&b, " ");
			chars++;
			space = false;
		}
		if (rc == BB_OK)
			rc = len ? buf_append(&b, p, len) : buf_puts(&b, "\xef\xbf\xbd");
		if (rc != BB_OK) {
			*oom = true;
			break;
		}
		chars++;
		i += len ? len : 1;
	}
	j = *oom ? NULL : b.len ? json_stringn(b.data, b.len) : json_null();
	if (j == NULL)
		*oom = true;
	buf_free(&b);
	return j;
}

/* Undoes the escaping html_reduce's plain text has (& < > " '), in place. */
static void unescape_entities(char *s)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}};
	char *w = s;

	for (const char *r = s; *r;) {
		size_t i;
		for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
			if (strncmp(r, ents[i].ent, strlen(ents[i].ent)) == 0)
				break;
		if (i < sizeof(ents) / sizeof(ents[0])) {
			*w++ = ents[i].c;
			r += strlen(ents[i].ent);
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

/* Sets key of obj to the text s (see text_json). */
static bool set_text(json_t *obj, const char *key, const char *s, size_t max_chars)
{
	bool oom = false;
	json_t *v = text_json(s, max_chars, &oom);

	return v != NULL && json_object_set_new(obj, key, v) == 0;
}

/* Dumps j (taken) and stores it as an event of kind. */
static enum bb_rc event_store(struct store *st, const struct ap_notify *n,
			      enum store_notify_kind kind, json_t *j, time_t now, struct err *e)
{
	char when[TIME_RFC3339_LEN];
	char *json = NULL;
	enum bb_rc rc;

	time_rfc3339(now, when);
	if (j == NULL || json_object_set_new(j, "time", json_string(when)) != 0 ||
	    (json = json_dumps(j, JSON_COMPACT)) == NULL) {
		json_decref(j);
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	}
	json_decref(j);
	rc = store_notify_add(st, kind, json, now, n->mail, n->hook, e);
	free(json);
	if (rc == BB_ERR_LIMIT) {
		/* Never the reason a follow or a comment is refused. */
		log_warn("notification not recorded: %s", e->msg);
		err_clear(e);
		rc = BB_OK;
	}
	return rc;
}

/* The actor's fields of an event: id, handle, name, profile URL. */
static bool actor_fields(json_t *j, const char *id, const struct store_actor *a)
{
	return set_text(j, "actor", id, AP_EVENT_URL_MAX) &&
	       set_text(j, "handle", a ? a->handle : NULL, AP_EVENT_TEXT_MAX) &&
	       set_text(j, "name", a ? a->name : NULL, AP_EVENT_TEXT_MAX) &&
	       set_text(j, "url", a ? a->url : NULL, AP_EVENT_URL_MAX);
}

enum bb_rc ap_event_follow(struct store *st, const struct ap_notify *n,
			   const struct store_actor *follower, time_t now, struct err *e)
{
	json_t *j;

	if (!n->mail && !n->hook)
		return BB_OK;
	j = json_pack("{s:s}", "event", "follow");
	if (j != NULL && !actor_fields(j, follower->id, follower)) {
		json_decref(j);
		j = NULL;
	}
	return event_store(st, n, STORE_NOTIFY_FOLLOW, j, now, e);
}

enum bb_rc ap_event_comment(struct store *st, const struct ap_notify *n, const struct ap_site *site,
			    const struct store_comment *c, time_t now, struct err *e)
{
	struct store_actor author = {0};
	struct store_post post = {0};
	struct buf text;
	json_t *j = NULL, *pj = NULL;
	char admin[512];
	bool visible = false, have_author, ok;
	enum bb_rc rc;

	if (!n->mail && !n->hook)
		return BB_OK;
	buf_init(&text, 4 * AP_EVENT_EXCERPT_MAX + 64);
	rc = store_actor_get(st, c->author, &author, e);
	have_author = rc == BB_OK;
	if (rc == BB_ERR_NOTFOUND)
		err_clear(e);
	else if (rc != BB_OK)
		goto out;
	rc = store_post_get(st, c->post, &post, e);
	if (rc != BB_OK)
		goto out;
	/* Plain text of the reduced HTML, within the excerpt's budget. */
	rc = html_reduce(c->content, NULL, text.limit - 1, AP_EVENT_EXCERPT_MAX, true, &text,
			 &visible);
	if (rc == BB_ERR_LIMIT)
		err_clear(e);
	else if (rc != BB_OK)
		goto out;
	rc = buf_append(&text, "", 1);
	if (rc != BB_OK) {
		rc = err_set(e, rc, "out of memory");
		goto out;
	}
	unescape_entities(text.data);
	snprintf(admin, sizeof(admin), "%s/admin/comments", site->cfg.base_url);
	j = json_pack("{s:s, s:s}", "event", "comment", "admin_url", admin);
	pj = json_object();
	ok = j && pj && set_text(j, "id", c->ap_id, AP_EVENT_URL_MAX) &&
	     actor_fields(j, c->author, have_author ? &author : NULL) &&
	     set_text(j, "excerpt", text.data, AP_EVENT_EXCERPT_MAX) &&
	     set_text(pj, "title", post.title, AP_EVENT_TEXT_MAX) &&
	     set_text(pj, "url", post.url, AP_EVENT_URL_MAX);
	/* The note's own page, in place of the author's profile. */
	ok = ok && set_text(j, "url", c->url, AP_EVENT_URL_MAX);
	if (ok && json_object_set_new(j, "post", pj) == 0) {
		pj = NULL;
	} else {
		json_decref(j);
		j = NULL;
	}
	rc = event_store(st, n, STORE_NOTIFY_COMMENT, j, now, e);
	j = NULL;
out:
	json_decref(pj);
	json_decref(j);
	buf_free(&text);
	store_post_clear(&post);
	store_actor_clear(&author);
	return rc;
}
