/*
 * object.c — see object.h.  A post becomes a Note or an Article in three
 * steps: its HTML is reduced to what Mastodon keeps (html.c: MASTODON.md
 * §6.3, the MASTODON_STRICT config in lib/sanitize_ext/sanitize_config.rb),
 * its categories become Hashtags (§6.4, app/models/tag.rb), and jansson
 * assembles the fields (§6.7).
 *
 * Choices: the contentMap key is the primary language subtag, lower-cased
 * ("fr-FR" → "fr"), the ISO 639 code Mastodon stores (it has no "fr-FR"
 * language) and other software expects.  An Article's `name` is the title
 * HTML-escaped, because Mastodon inserts it into HTML raw (§6.3).  The
 * activity takes the object's @context and the embedded object drops its
 * own, as in §6.7.
 */
#include "object.h"
#include "url.h"
#include "buf.h"
#include "html.h"
#include "render.h"
#include "timeutil.h"

#include <ctype.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HREF_MAX 2048
#define TAG_HREF_MAX 1024
#define TITLE_CHARS 300
#define ALT_CHARS 10000 /* what Mastodon keeps of a remote description */
#define TEASER_BYTES (OBJECT_EXCERPT_CHARS * 8 + 64)
#define JSON_STRING_MAX (1024 * 1024)
#define REPLACEMENT "\xEF\xBF\xBD"

/* ---- JSON strings ---- */

/* A JSON string of s (at most max_chars characters, invalid UTF-8
 * replaced), or NULL when out of memory. */
static json_t *jstr_cut(const char *s, size_t max_chars)
{
	struct buf b;
	json_t *j = NULL;
	size_t i = 0, n = strlen(s), chars = 0;
	enum bb_rc rc = BB_OK;

	buf_init(&b, JSON_STRING_MAX);
	while (i < n && chars++ < max_chars && rc == BB_OK) {
		uint32_t cp;
		size_t len = html_utf8_decode(s + i, n - i, &cp);

		rc = len ? buf_append(&b, s + i, len) : buf_puts(&b, REPLACEMENT);
		i += len ? len : 1;
	}
	if (rc == BB_OK)
		j = json_stringn(b.data ? b.data : "", b.len);
	buf_free(&b);
	return j;
}

static json_t *jstr(const char *s)
{
	return jstr_cut(s, SIZE_MAX);
}

/* ---- hashtags ---- */

enum ht_class { HT_KEEP, HT_SEP, HT_DROP };

/* How a code point fares in a hashtag name: ASCII letters, digits and '_'
 * stay, spaces, '-' and '/' separate words, other ASCII punctuation goes;
 * beyond ASCII, the common spaces and dashes separate, quotes, other
 * punctuation and symbols (emoji) go, the rest (letters, digits and marks of
 * every script) stays. */
static enum ht_class ht_class(uint32_t c)
{
	if (c < 0x80) {
		if (isalnum((int)c) || c == '_')
			return HT_KEEP;
		return c == ' ' || c == '-' || c == '/' || (c >= '\t' && c <= '\r') ? HT_SEP
										    : HT_DROP;
	}
	if (c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
	    c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 ||
	    (c >= 0x2010 && c <= 0x2015) || c == 0x2212)
		return HT_SEP;
	if ((c < 0xC0 && c != 0xAA && c != 0xB5 && c != 0xBA) || c == 0xD7 || c == 0xF7 ||
	    c == 0x200B || (c >= 0x2016 && c <= 0x206F) || (c >= 0x2190 && c <= 0x2BFF) ||
	    (c >= 0x3001 && c <= 0x3003) || (c >= 0x3008 && c <= 0x3011) ||
	    (c >= 0xE000 && c <= 0xF8FF) || (c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF ||
	    (c >= 0xFF01 && c <= 0xFF0F) || (c >= 0x1F000 && c <= 0x1FAFF))
		return HT_DROP;
	return HT_KEEP;
}

bool object_hashtag_name(const char *category, char *out, size_t outlen)
{
	size_t o = 1, n, left;
	bool word = false, letter = false;

	if (category == NULL || out == NULL || outlen < 3)
		return false;
	out[0] = '#';
	left = strlen(category);
	for (const char *s = category; left > 0; s += n, left -= n) {
		uint32_t c;
		enum ht_class cls;

		n = html_utf8_decode(s, left, &c);
		if (n == 0) {
			n = 1; /* not UTF-8: skipped */
			continue;
		}
		cls = ht_class(c);
		if (cls == HT_SEP)
			word = o > 1;
		if (cls != HT_KEEP)
			continue;
		if (o + n >= outlen)
			break; /* full: never half a character */
		memcpy(out + o, s, n);
		if (word && c < 0x80)
			out[o] = (char)toupper((unsigned char)out[o]);
		word = false;
		letter = letter || (c != '_' && (c < '0' || c > '9'));
		o += n;
	}
	out[o] = '\0';
	if (!letter)
		out[0] = '\0';
	return letter;
}

/* The tag page's slug: ASCII lower-cased, spaces to '-', other ASCII
 * punctuation dropped, other bytes percent-encoded ("m%C3%A9dias-sociaux"). */
static enum bb_rc tag_slug(struct buf *b, const char *category)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t start = b->len;
	enum bb_rc rc = BB_OK;

	for (const unsigned char *s = (const unsigned char *)category; *s && rc == BB_OK; s++) {
		char c = (char)*s, pct[3] = {'%', hex[*s >> 4], hex[*s & 15]};
		bool dash = b->len == start || b->data[b->len - 1] == '-';

		if (*s >= 0x80)
			rc = buf_append(b, pct, 3);
		else if (isalnum(*s) || c == '_')
			rc = buf_append(b, (char[]){(char)tolower(*s)}, 1);
		else if ((c == '-' || isspace(*s)) && !dash)
			rc = buf_puts(b, "-");
	}
	while (rc == BB_OK && b->len > start && b->data[b->len - 1] == '-')
		b->data[--b->len] = '\0';
	return rc;
}

struct hashtag {
	char name[128]; /* "#Name" */
	char *href;	/* the blog's tag page, or NULL */
};

/* The tag page for category from the "{slug}" template (the slug is
 * appended when the template has none), or NULL. */
static char *tag_href(const char *tmpl, const char *category)
{
	const char *at;
	struct buf b;
	size_t mark;
	enum bb_rc rc = BB_OK;

	if (tmpl == NULL || !url_is_http_str(tmpl))
		return NULL;
	buf_init(&b, TAG_HREF_MAX);
	while (rc == BB_OK && (at = strstr(tmpl, "{slug}")) != NULL) {
		rc = buf_append(&b, tmpl, (size_t)(at - tmpl));
		mark = b.len;
		if (rc == BB_OK)
			rc = tag_slug(&b, category);
		if (rc == BB_OK && b.len == mark)
			rc = BB_ERR_INVALID; /* nothing left of the name */
		tmpl = at + 6;
	}
	if (rc == BB_OK && b.len == 0) { /* no {slug} */
		rc = buf_puts(&b, tmpl);
		mark = b.len;
		if (rc == BB_OK)
			rc = tag_slug(&b, category);
		if (rc == BB_OK && b.len == mark)
			rc = BB_ERR_INVALID;
		tmpl = "";
	}
	if (rc == BB_OK)
		rc = buf_puts(&b, tmpl);
	if (rc != BB_OK) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}

/* The distinct usable hashtags of p (names compared ignoring ASCII case);
 * a tag whose page cannot be named (or out of memory) has no href. */
static size_t hashtags_collect(const struct post *p, const char *tmpl, struct hashtag *tags)
{
	size_t ntags = 0;

	for (size_t i = 0; i < p->ntags && i < POST_TAGS_MAX; i++) {
		struct hashtag *t = &tags[ntags];
		bool dup = false;

		if (p->tags[i] == NULL ||
		    !object_hashtag_name(p->tags[i], t->name, sizeof(t->name)))
			continue;
		for (size_t j = 0; j < ntags && !dup; j++)
			dup = strcasecmp(tags[j].name, t->name) == 0;
		if (!dup) {
			t->href = tag_href(tmpl, p->tags[i]);
			ntags++;
		}
	}
	return ntags;
}

/* The paragraph of hashtag links closing the content; nothing without tags. */
static enum bb_rc hashtags_html(struct buf *b, const struct hashtag *tags, size_t ntags,
				const char *post_url)
{
	enum bb_rc rc = BB_OK;

	for (size_t i = 0; i < ntags && rc == BB_OK; i++) {
		rc = buf_puts(b, i == 0 ? "<p><a href=\"" : " <a href=\"");
		if (rc == BB_OK)
			rc = html_escape(b, tags[i].href ? tags[i].href : post_url, true);
		if (rc == BB_OK)
			rc = buf_puts(b, "\" class=\"mention hashtag\" rel=\"tag\">#<span>");
		if (rc == BB_OK)
			rc = html_escape(b, tags[i].name + 1, false);
		if (rc == BB_OK)
			rc = buf_puts(b, "</span></a>");
	}
	if (rc == BB_OK && ntags > 0)
		rc = buf_puts(b, "</p>");
	return rc;
}

/* ---- the object ---- */

/* The contentMap key for a BCP 47 tag: its primary subtag in lower case
 * ("fr-FR" → "fr"), or NULL when lang is not 2-3 letters then '-', '_' or
 * the end. */
static const char *language_key(const char *lang, char out[4])
{
	size_t n = 0;

	if (lang == NULL)
		return NULL;
	while (n < 4 && isalpha((unsigned char)lang[n]))
		n++;
	if (n < 2 || n > 3 || (lang[n] != '\0' && lang[n] != '-' && lang[n] != '_'))
		return NULL;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)lang[i]);
	out[n] = '\0';
	return out;
}

/* The last line of a Note: the permalink, or "Read more" for an excerpt. */
static enum bb_rc link_html(struct buf *b, const char *url, bool excerpt, const char *lang)
{
	enum bb_rc rc = buf_puts(b, "<p><a href=\"");

	if (rc == BB_OK)
		rc = html_escape(b, url, true);
	if (rc == BB_OK)
		rc = buf_puts(b, "\">");
	if (rc == BB_OK && !excerpt)
		rc = html_escape(b, url, false);
	else if (rc == BB_OK)
		rc = buf_puts(b, lang && strcmp(lang, "fr") == 0 ? "Lire la suite" : "Read more");
	if (rc == BB_OK)
		rc = buf_puts(b, "</a></p>");
	return rc;
}

/* An Article's summary: "<p>" + the feed's summary as plain text, else the
 * post's first ~OBJECT_EXCERPT_CHARS characters, + "</p>"; empty when the
 * post has no text at all. */
static enum bb_rc teaser_build(const struct post *p, const char *url, struct buf *teaser)
{
	enum bb_rc rc = buf_puts(teaser, "<p>");
	bool vis = false;

	if (rc == BB_OK && p->summary != NULL)
		rc = html_reduce(p->summary, url, TEASER_BYTES, OBJECT_EXCERPT_CHARS, true, teaser,
				 &vis);
	if (rc == BB_OK && !vis) {
		buf_reset(teaser);
		rc = buf_puts(teaser, "<p>");
		if (rc == BB_OK)
			rc = html_reduce(p->content, url, TEASER_BYTES, OBJECT_EXCERPT_CHARS, true,
					 teaser, &vis);
	}
	if (rc == BB_OK)
		rc = buf_puts(teaser, "</p>");
	if (rc == BB_OK && !vis)
		buf_reset(teaser);
	return rc;
}

/* The Note's or Article's content: for a Note, the title line, the post
 * (or its excerpt) and the link to it; then the hashtags. */
static enum bb_rc content_build(const struct object_options *opt, const struct post *p,
				const char *url, const char *lang, const struct hashtag *tags,
				size_t ntags, struct buf *content)
{
	struct buf head, tail;
	bool note = opt->kind == OBJECT_NOTE, vis = false;
	size_t fixed, room;
	enum bb_rc rc = BB_OK;

	buf_init(&head, OBJECT_CONTENT_MAX);
	buf_init(&tail, OBJECT_CONTENT_MAX);
	if (note && p->title != NULL && p->title[0] != '\0') {
		rc = buf_puts(&head, "<p><strong>");
		if (rc == BB_OK)
			rc = html_escape_cut(&head, p->title, strlen(p->title), false, TITLE_CHARS);
		if (rc == BB_OK)
			rc = buf_puts(&head, "</strong></p>");
	}
	if (rc == BB_OK && note)
		rc = link_html(&tail, url, opt->excerpt, lang);
	if (rc == BB_OK)
		rc = hashtags_html(&tail, tags, ntags, url);
	if (rc != BB_OK)
		goto out;
	fixed = head.len + tail.len;
	if (fixed > OBJECT_CONTENT_MAX / 2) {
		rc = BB_ERR_LIMIT; /* an absurd title or URL */
		goto out;
	}
	room = OBJECT_CONTENT_MAX - fixed;
	rc = buf_append(content, head.data ? head.data : "", head.len);
	if (rc == BB_OK && note && opt->excerpt && p->summary != NULL) {
		rc = html_reduce(p->summary, url, room, OBJECT_EXCERPT_CHARS, false, content, &vis);
		if (rc == BB_OK && !vis && content->data != NULL)
			content->len = head.len, content->data[head.len] = '\0';
	}
	if (rc == BB_OK && !vis)
		rc = html_reduce(p->content, url, room,
				 note && opt->excerpt ? OBJECT_EXCERPT_CHARS : SIZE_MAX, false,
				 content, &vis);
	if (rc == BB_OK)
		rc = buf_append(content, tail.data ? tail.data : "", tail.len);
out:
	buf_free(&head);
	buf_free(&tail);
	return rc;
}

/* Sets o[key] to v, taking v; non-zero when v is NULL or out of memory. */
static int put(json_t *o, const char *key, json_t *v)
{
	return v == NULL || json_object_set_new(o, key, v) != 0;
}

/* The attachments: Documents with url (never a top-level href, which
 * Mastodon 4.7 takes for a link preview), at most POST_IMAGES_MAX. */
static json_t *attachments(const struct post *p)
{
	json_t *arr = json_array();
	int bad = arr == NULL;

	for (size_t i = 0; i < p->nimages && i < POST_IMAGES_MAX && !bad; i++) {
		const struct post_image *im = &p->images[i];
		const char *mt = im->media_type && im->media_type[0] ? im->media_type : NULL;
		json_t *a;

		if (im->url == NULL || !url_is_http_str(im->url))
			continue;
		mt = mt ? mt : ap_image_media_type(im->url);
		a = json_object();
		bad = a == NULL || json_array_append_new(arr, a) != 0;
		if (!bad)
			bad = put(a, "type", json_string("Document"));
		if (!bad && mt != NULL)
			bad = put(a, "mediaType", jstr(mt));
		if (!bad)
			bad = put(a, "url", jstr(im->url));
		if (!bad && im->alt != NULL && im->alt[0] != '\0')
			bad = put(a, "name", jstr_cut(im->alt, ALT_CHARS));
		if (!bad && im->width > 0)
			bad = put(a, "width", json_integer(im->width));
		if (!bad && im->height > 0)
			bad = put(a, "height", json_integer(im->height));
	}
	if (bad) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

static json_t *hashtags_json(const struct hashtag *tags, size_t ntags)
{
	json_t *arr = json_array();
	int bad = arr == NULL;

	for (size_t i = 0; i < ntags && !bad; i++) {
		json_t *t = json_pack("{s:s, s:s}", "type", "Hashtag", "name", tags[i].name);
		bad = t == NULL || json_array_append_new(arr, t) != 0;
		if (!bad && tags[i].href != NULL)
			bad = put(t, "href", jstr(tags[i].href));
	}
	if (bad) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* A one-entry language map {lang: text}. */
static json_t *lang_map(const char *lang, const char *text)
{
	json_t *m = json_object();

	if (m != NULL && put(m, lang, jstr(text))) {
		json_decref(m);
		return NULL;
	}
	return m;
}

/* The ActivityStreams context, with the terms it lacks: Hashtag and
 * sensitive, and GoToSocial's interaction policy terms (as Mastodon 4.5
 * writes them) for interactionPolicy. */
static json_t *object_context(void)
{
	return json_pack("[s,{s:s,s:s,s:s,s:{s:s,s:s},s:{s:s,s:s},s:{s:s,s:s}}]", AP_CONTEXT_AS,
			 "Hashtag", "as:Hashtag", "sensitive", "as:sensitive", "gts",
			 "https://gotosocial.org/ns#", "interactionPolicy", "@id",
			 "gts:interactionPolicy", "@type", "@id", "canQuote", "@id", "gts:canQuote",
			 "@type", "@id", "automaticApproval", "@id", "gts:automaticApproval", "@type",
			 "@id");
}

/* Fills o with the fields after `type`, in the order of MASTODON.md §6.7. */
static int object_fields(json_t *o, const struct ap_site *site, const struct object_options *opt,
			 const struct post *p, const char *id, const char *url, const char *lang,
			 struct buf *content, struct buf *teaser, const struct hashtag *tags,
			 size_t ntags)
{
	char published[TIME_RFC3339_LEN], updated[TIME_RFC3339_LEN], replies[HREF_MAX];
	struct buf name;
	json_t *att = NULL;
	int bad;

	buf_init(&name, JSON_STRING_MAX);
	time_rfc3339(p->published, published);
	time_rfc3339(p->updated, updated);
	bad = put(o, "attributedTo", json_string(site->actor_id)) || put(o, "url", jstr(url)) ||
	      put(o, "published", json_string(published)) ||
	      (p->updated > p->published && put(o, "updated", json_string(updated))) ||
	      put(o, "to", json_pack("[s]", AP_PUBLIC)) ||
	      put(o, "cc", json_pack("[s]", site->followers)) || put(o, "sensitive", json_false());
	if (!bad && opt->kind == OBJECT_ARTICLE) {
		/* Mastodon puts `name` into HTML unescaped (status_parser.rb). */
		bad =
		    html_escape_cut(&name, p->title ? p->title : "",
				    p->title ? strlen(p->title) : 0, false, TITLE_CHARS) != BB_OK ||
		    put(o, "name", jstr(name.data ? name.data : "")) ||
		    (lang && put(o, "nameMap", lang_map(lang, name.data ? name.data : "")));
		if (!bad && teaser->len > 0)
			bad = put(o, "summary", jstr(teaser->data)) ||
			      (lang && put(o, "summaryMap", lang_map(lang, teaser->data)));
	}
	bad = bad || put(o, "content", jstr(content->data ? content->data : "")) ||
	      (lang && put(o, "contentMap", lang_map(lang, content->data ? content->data : "")));
	if (!bad && ntags > 0)
		bad = put(o, "tag", hashtags_json(tags, ntags));
	if (!bad)
		att = attachments(p);
	bad = bad || att == NULL;
	if (!bad && json_array_size(att) > 0)
		bad = put(o, "attachment", json_incref(att));
	if (!bad && (size_t)snprintf(replies, sizeof(replies), "%s/replies", id) < sizeof(replies))
		bad = put(o, "replies", json_string(replies));
	/* Anyone may quote a blog post, approved at once (FEP-044f): else
	 * Mastodon 4.5+ leaves quotes of it pending (status_parser.rb:126-136,
	 * MASTODON.md §6.8). */
	if (!bad)
		bad = put(o, "interactionPolicy", json_pack("{s:{s:[s]}}", "canQuote",
							    "automaticApproval", AP_PUBLIC));
	json_decref(att);
	buf_free(&name);
	return bad;
}

/* The object for p as a JSON tree (the caller decrefs it), or NULL. */
static json_t *object_build(const struct ap_site *site, const struct object_options *opt,
			    const struct post *p, const char *id)
{
	struct hashtag tags[POST_TAGS_MAX];
	struct buf content, teaser;
	char langbuf[4];
	const char *url = p->url && p->url[0] ? p->url : id, *lang;
	json_t *o = NULL;
	size_t ntags;

	lang = language_key(p->language, langbuf);
	if (lang == NULL) /* none, or not a language tag */
		lang = language_key(opt->language, langbuf);
	buf_init(&content, OBJECT_CONTENT_MAX);
	buf_init(&teaser, TEASER_BYTES + 16);
	ntags = hashtags_collect(p, opt->tag_url, tags);
	if (content_build(opt, p, url, lang, tags, ntags, &content) != BB_OK ||
	    (opt->kind == OBJECT_ARTICLE && teaser_build(p, url, &teaser) != BB_OK))
		goto out;
	o = json_pack("{s:o, s:s, s:s}", "@context", object_context(), "id", id, "type",
		      opt->kind == OBJECT_ARTICLE ? "Article" : "Note");
	if (o != NULL &&
	    object_fields(o, site, opt, p, id, url, lang, &content, &teaser, tags, ntags)) {
		json_decref(o);
		o = NULL;
	}
out:
	for (size_t i = 0; i < ntags; i++)
		free(tags[i].href);
	buf_free(&content);
	buf_free(&teaser);
	return o;
}

char *object_render(const struct ap_site *site, const struct object_options *opt,
		    const struct post *p, const char *id)
{
	json_t *o = object_build(site, opt, p, id);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(o);
	return text;
}

enum bb_rc object_render_forms(const struct ap_site *site, const struct object_options *opt,
			       const struct post *p, const char *id, char **unedited, char **edited)
{
	json_t *o = object_build(site, opt, p, id);
	enum bb_rc rc = BB_ERR_NOMEM;

	*unedited = *edited = NULL;
	if (o == NULL)
		goto out;
	/* `updated` is the only field the edit time changes (object_fields);
	 * without it the tree is the object rendered with updated =
	 * published, byte for byte: the other keys keep their order. */
	if (json_object_get(o, "updated") != NULL) {
		*edited = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (*edited == NULL || json_object_del(o, "updated") != 0)
			goto out;
	}
	*unedited = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (*unedited != NULL)
		rc = BB_OK;
out:
	if (rc != BB_OK) {
		free(*edited);
		*edited = NULL;
	}
	json_decref(o);
	return rc;
}

char *object_activity_render(const struct ap_site *site, const char *type, const char *id,
			     const char *object_json, time_t published)
{
	char date[TIME_RFC3339_LEN];
	json_t *obj, *ctx;

	if (type == NULL || id == NULL || object_json == NULL)
		return NULL;
	obj = json_loads(object_json, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(obj)) {
		json_decref(obj);
		return NULL;
	}
	/* The context moves up to the activity, as in MASTODON.md §6.7. */
	ctx = json_object_get(obj, "@context");
	ctx = ctx ? json_incref(ctx) : json_string(AP_CONTEXT_AS);
	json_object_del(obj, "@context");
	time_rfc3339(published, date);
	return ap_json_dump(json_pack("{s:o, s:s, s:s, s:s, s:s, s:[s], s:[s], s:o}", "@context", ctx, "id",
			      id, "type", type, "actor", site->actor_id, "published", date, "to",
			      AP_PUBLIC, "cc", site->followers, "object", obj));
}

char *object_delete_render(const struct ap_site *site, const char *id, const char *object_id,
			   time_t now)
{
	char date[TIME_RFC3339_LEN];

	time_rfc3339(now, date);
	return ap_json_dump(json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s], s:[s], s:{s:s, s:s}}", "@context",
			      AP_CONTEXT_AS, "id", id, "type", "Delete", "actor", site->actor_id,
			      "published", date, "to", AP_PUBLIC, "cc", site->followers, "object",
			      "id", object_id, "type", "Tombstone"));
}

char *object_tombstone_render(const char *object_id, time_t deleted)
{
	char date[TIME_RFC3339_LEN];

	time_rfc3339(deleted, date);
	return ap_json_dump(json_pack("{s:s, s:s, s:s, s:s}", "@context", AP_CONTEXT_AS, "id", object_id,
			      "type", "Tombstone", "deleted", date));
}
