/*
 * api_html.c — the thread as an HTML fragment (GET /embed/comments), in
 * the markup comments.js builds: a <section class="fediverse-comments">
 * holding an ordered list of comments, each an <article> with its author
 * (linked, with an avatar and alt text), handle and date (<time
 * datetime>, linked to the reply), its content, and a nested list of the
 * replies to it.
 *
 * Every value is HTML-escaped except the content, which the intake
 * stored sanitized; a URL becomes an href or src only when it is http(s).
 */
#include "api.h"
#include "buf.h"
#include "timeutil.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The largest fragment written (500 comments of 64 KiB fit). */
#define API_HTML_MAX (64u * 1024 * 1024)

/* likes and boosts: the singular, then the plural. */
struct strings {
	const char *heading, *empty, *likes[2], *boosts[2], *reply, *avatar_of, *replies;
};

static const struct strings strings_en = {"Comments",
					  "No comments yet.",
					  {"like", "likes"},
					  {"boost", "boosts"},
					  "Reply from the fediverse",
					  "Avatar of ",
					  "Replies"};
static const struct strings strings_fr = {"Commentaires",
					  "Aucun commentaire pour l’instant.",
					  {"j’aime", "j’aime"},
					  {"partage", "partages"},
					  "Répondre depuis le fedivers",
					  "Avatar de ",
					  "Réponses"};

/* 0 for the singular, 1 for the plural: in French 0 and 1 take the
 * singular, in English 1 alone (as comments.js counts). */
static int plural(enum api_lang lang, long long n)
{
	return lang == API_LANG_FR ? n >= 2 : n != 1;
}

enum api_lang api_lang_parse(const char *lang)
{
	if (lang != NULL && strncasecmp(lang, "fr", 2) == 0 && (lang[2] == '\0' || lang[2] == '-'))
		return API_LANG_FR;
	return API_LANG_EN;
}

/* Appends s with &, <, >, " and ' escaped. */
static enum bb_rc put_escaped(struct buf *b, const char *s)
{
	enum bb_rc rc = BB_OK;
	const char *run = s;

	for (; rc == BB_OK && *s; s++) {
		const char *rep = NULL;
		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		rc = buf_append(b, run, (size_t)(s - run));
		if (rc == BB_OK)
			rc = buf_puts(b, rep);
		run = s + 1;
	}
	if (rc == BB_OK)
		rc = buf_append(b, run, (size_t)(s - run));
	return rc;
}

/* Whether u may be an href or a src: http(s), no space or control byte. */
static bool url_ok(const char *u)
{
	if (u == NULL || (strncasecmp(u, "https://", 8) != 0 && strncasecmp(u, "http://", 7) != 0))
		return false;
	for (; *u; u++)
		if ((unsigned char)*u <= ' ' || *u == 0x7f)
			return false;
	return true;
}

/* Appends `pre` escaped-value `post`: the common shape of an attribute. */
static enum bb_rc put_attr(struct buf *b, const char *pre, const char *value, const char *post)
{
	enum bb_rc rc = buf_puts(b, pre);

	if (rc == BB_OK)
		rc = put_escaped(b, value);
	if (rc == BB_OK)
		rc = buf_puts(b, post);
	return rc;
}

static enum bb_rc put_author(struct buf *b, const struct store_comment *c, const struct strings *s)
{
	const char *name = c->author_name && c->author_name[0] ? c->author_name
			   : c->author_handle		       ? c->author_handle
							       : c->author;
	const char *profile = url_ok(c->author_url) ? c->author_url : c->author;
	enum bb_rc rc = BB_OK;
	bool link = url_ok(profile);

	if (link)
		rc = put_attr(b, "<a class=\"fediverse-comment__author\" href=\"", profile,
			      "\" rel=\"nofollow noopener ugc\">");
	else
		rc = buf_puts(b, "<span class=\"fediverse-comment__author\">");
	if (rc == BB_OK && url_ok(c->author_avatar)) {
		rc = put_attr(b, "<img class=\"fediverse-comment__avatar\" src=\"",
			      c->author_avatar, "\" alt=\"");
		if (rc == BB_OK)
			rc = put_attr(b, s->avatar_of, name,
				      "\" width=\"48\" height=\"48\" loading=\"lazy\">");
	}
	if (rc == BB_OK)
		rc = put_attr(b, "<span class=\"fediverse-comment__name\">", name, "</span>");
	if (rc == BB_OK)
		rc = buf_puts(b, link ? "</a>" : "</span>");
	if (rc == BB_OK && c->author_handle)
		rc = put_attr(b, " <span class=\"fediverse-comment__handle\">", c->author_handle,
			      "</span>");
	return rc;
}

static enum bb_rc put_comment(struct buf *b, const struct store_comment *c, const struct strings *s)
{
	char when[TIME_RFC3339_LEN];
	const char *link = url_ok(c->url) ? c->url : url_ok(c->ap_id) ? c->ap_id : NULL;
	enum bb_rc rc;

	time_rfc3339(c->published, when);
	rc = buf_puts(b, "<article class=\"fediverse-comment__body\">"
			 "<header class=\"fediverse-comment__header\">");
	if (rc == BB_OK)
		rc = put_author(b, c, s);
	if (rc == BB_OK && link)
		rc = put_attr(b, " <a class=\"fediverse-comment__permalink\" href=\"", link,
			      "\" rel=\"nofollow noopener ugc\">");
	if (rc == BB_OK)
		rc = buf_printf(
		    b, "<time class=\"fediverse-comment__date\" datetime=\"%s\">%.10s</time>%s",
		    when, when, link ? "</a>" : "");
	if (rc == BB_OK)
		rc = buf_puts(b, "</header><div class=\"fediverse-comment__content\">");
	if (rc == BB_OK)
		rc = buf_puts(b, c->content); /* sanitized when stored */
	if (rc == BB_OK)
		rc = buf_puts(b, "</div></article>");
	return rc;
}

/* The list of the comments shown under `under` (-1: the top level). */
static enum bb_rc put_list(struct buf *b, const struct api_thread *t, const long *parent,
			   long under, const struct strings *s)
{
	enum bb_rc rc = buf_puts(b, under < 0 ? "<ol class=\"fediverse-comments__list\">"
					      : "<ol class=\"fediverse-comments__replies\">");

	for (size_t i = 0; rc == BB_OK && i < t->count; i++) {
		bool has_replies = false;
		if (parent[i] != under)
			continue;
		for (size_t k = i + 1; k < t->count && !has_replies; k++)
			has_replies = parent[k] == (long)i;
		rc = put_attr(b, "<li class=\"fediverse-comment\" data-id=\"", t->comments[i].ap_id,
			      "\">");
		if (rc == BB_OK)
			rc = put_comment(b, &t->comments[i], s);
		/* The depth is bounded by API_THREAD_DEPTH_MAX (api_thread_parents). */
		if (rc == BB_OK && has_replies)
			rc = put_list(b, t, parent, (long)i, s);
		if (rc == BB_OK)
			rc = buf_puts(b, "</li>");
	}
	if (rc == BB_OK)
		rc = buf_puts(b, "</ol>");
	return rc;
}

char *api_thread_html(const struct api_thread *t, enum api_lang lang)
{
	const struct strings *s = lang == API_LANG_FR ? &strings_fr : &strings_en;
	long *parent = api_thread_parents(t, true);
	struct buf b;
	enum bb_rc rc;

	buf_init(&b, API_HTML_MAX);
	if (t->count > 0 && parent == NULL) {
		buf_free(&b);
		return NULL;
	}
	rc = buf_printf(&b, "<section class=\"fediverse-comments\" lang=\"%s\">",
			lang == API_LANG_FR ? "fr" : "en");
	if (rc == BB_OK)
		rc = buf_printf(&b,
				"<h2 class=\"fediverse-comments__heading\">%s</h2>"
				"<p class=\"fediverse-comments__stats\">"
				"<span class=\"fediverse-comments__likes\">%lld %s</span> "
				"<span class=\"fediverse-comments__boosts\">%lld %s</span></p>",
				s->heading, (long long)t->likes,
				s->likes[plural(lang, (long long)t->likes)], (long long)t->boosts,
				s->boosts[plural(lang, (long long)t->boosts)]);
	if (rc == BB_OK)
		rc = t->count == 0
			 ? buf_printf(&b, "<p class=\"fediverse-comments__empty\">%s</p>", s->empty)
			 : put_list(&b, t, parent, -1, s);
	if (rc == BB_OK && url_ok(t->post_id))
		rc = put_attr(&b,
			      "<p class=\"fediverse-comments__reply\"><a "
			      "class=\"fediverse-comments__post-link\" href=\"",
			      t->post_id, "\">");
	if (rc == BB_OK && url_ok(t->post_id))
		rc = buf_printf(&b, "%s</a></p>", s->reply);
	if (rc == BB_OK)
		rc = buf_puts(&b, "</section>\n");
	free(parent);
	if (rc != BB_OK) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}
