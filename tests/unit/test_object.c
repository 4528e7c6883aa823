/*
 * test_object.c — blog posts rendered as Notes and Articles, checked field
 * by field against what Mastodon reads (MASTODON.md §6): the demo feed's
 * first post (tests/data/objects/first-post.html), the HTML reduction on
 * small inputs with exact expected output, hostile HTML, hashtag names and
 * tag pages, the byte cap, and the Create/Update/Delete/Tombstone shapes.
 */
#include "check.h"
#include "object.h"
#include "site.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define POST_URL                                                                                   \
	"https://blog.example/2013/11/04/des-entreprises-qui-utilisent-bien-les-medias-sociaux/"
#define POST_ID "https://bridge.example/ap/posts/14000"
#define TITLE "Des entreprises qui utilisent bien les médias sociaux"
#define TAG_URL "https://blog.example/tag/{slug}/"
#define PUBLISHED 1383556320 /* Mon, 04 Nov 2013 09:12:00 +0000 */
#define ELLIPSIS "\xE2\x80\xA6"

static const char *demo_tags[] = {"Corporate", "blog",	   "business", "entreprise",
				  "examples",  "exemples", "facebook", "médias sociaux",
				  "pinterest", "twitter",  "vine"};

static struct ap_site site;

static void site_make(void)
{
	struct ap_site_config sc = {
	    .base_url = "https://bridge.example",
	    .host = "bridge.example",
	    .handle = "blog",
	    .name = "Climb to the Stars",
	    .summary = "",
	    .blog_url = "https://blog.example/",
	    .language = "fr",
	    .public_key_pem = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n",
	    .software_version = "9.8.7",
	    .published = 1700000000,
	};
	struct err e = {0};

	if (ap_site_init(&site, &sc, &e) != BB_OK)
		abort();
}

static char *xstrdup(const char *s)
{
	char *d = s ? strdup(s) : NULL;

	if (s && d == NULL)
		abort();
	return d;
}

static char *fixture(const char *name)
{
	char path[1024], *text;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/objects/%s", BB_TEST_DATA, name);
	f = fopen(path, "rb");
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > 1 << 20 ||
	    fseek(f, 0, SEEK_SET) != 0)
		abort();
	text = calloc(1, (size_t)n + 1);
	if (text == NULL || fread(text, 1, (size_t)n, f) != (size_t)n)
		abort();
	fclose(f);
	return text;
}

/* The demo feed's first post, built as bridge/feed.c would. */
static void demo_post(struct post *p, bool with_summary)
{
	memset(p, 0, sizeof(*p));
	p->guid = xstrdup("https://blog.example/?p=14000");
	p->url = xstrdup(POST_URL);
	p->title = xstrdup(TITLE);
	p->content = fixture("first-post.html");
	p->summary = with_summary ? fixture("first-post-summary.html") : NULL;
	p->author = xstrdup("Stephanie Booth");
	p->language = xstrdup("fr-FR");
	p->published = PUBLISHED;
	p->updated = PUBLISHED;
	for (size_t i = 0; i < sizeof(demo_tags) / sizeof(demo_tags[0]); i++)
		p->tags[p->ntags++] = xstrdup(demo_tags[i]);
	p->images[0].url = xstrdup("https://blog.example/wp-content/uploads/2013/11/achille.jpg");
	p->images[0].alt = xstrdup("Achille Talon, perplexe");
	p->images[0].media_type = xstrdup("image/jpeg");
	p->images[0].width = 640;
	p->images[0].height = 480;
	p->nimages = 1;
}

/* A post with only HTML content, no title, tags or images. */
static void bare_post(struct post *p, const char *html)
{
	memset(p, 0, sizeof(*p));
	p->url = xstrdup(POST_URL);
	p->title = xstrdup("");
	p->content = xstrdup(html);
	p->published = p->updated = PUBLISHED;
}

static json_t *render(const struct object_options *opt, const struct post *p)
{
	char *text = object_render(&site, opt, p, POST_ID);
	json_t *j = NULL;

	CHECK(text != NULL);
	if (text != NULL) {
		CHECK(strlen(text) < 1024 * 1024); /* Mastodon's limit on JSON */
		j = json_loads(text, 0, NULL);
	}
	CHECK(j != NULL);
	free(text);
	return j ? j : json_object();
}

static const char *str(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

static bool starts_with(const char *s, const char *prefix)
{
	return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = s ? strlen(s) : 0, m = strlen(suffix);

	return s != NULL && n >= m && strcmp(s + n - m, suffix) == 0;
}

static size_t utf8_chars(const char *s)
{
	size_t c = 0;

	for (; *s; s++)
		c += ((unsigned char)*s & 0xC0) != 0x80;
	return c;
}

/* The text of HTML: tags removed, the end of a block (and <br>) as '\n',
 * the four entities decoded.  Caller frees. */
static char *html_text(const char *html)
{
	static const char *ents[][2] = {
	    {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}};
	char *out = calloc(1, strlen(html) + 1), *o = out;

	if (out == NULL)
		abort();
	while (*html) {
		if (*html == '<') {
			const char *end = strchr(html, '>');
			if (end == NULL)
				break;
			if (starts_with(html, "</p") || starts_with(html, "</li") ||
			    starts_with(html, "<br") || starts_with(html, "</blockquote"))
				*o++ = '\n';
			html = end + 1;
			continue;
		}
		if (*html == '&') {
			size_t i;
			for (i = 0; i < 4 && !starts_with(html, ents[i][0]); i++)
				;
			if (i < 4) {
				*o++ = ents[i][1][0];
				html += strlen(ents[i][0]);
				continue;
			}
		}
		*o++ = *html++;
	}
	return out;
}

/* True when every tag in html is closed in order (void <br> aside). */
static bool balanced(const char *html)
{
	char stack[128][16];
	size_t n = 0;

	while ((html = strchr(html, '<')) != NULL) {
		bool close = html[1] == '/';
		const char *name = html + 1 + close;
		size_t len = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789");
		const char *end = strchr(html, '>');

		if (end == NULL || len == 0 || len >= 16)
			return false;
		if (len == 2 && strncmp(name, "br", 2) == 0) {
			html = end;
			continue;
		}
		if (!close) {
			if (n == 128)
				return false;
			memcpy(stack[n], name, len);
			stack[n++][len] = '\0';
		} else if (n == 0 || strlen(stack[n - 1]) != len ||
			   strncmp(stack[--n], name, len) != 0) {
			return false;
		}
		html = end;
	}
	return n == 0;
}

static void t_hashtag_name(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"médias sociaux", "#médiasSociaux"},
	    {"Does This Need a New Category?", "#DoesThisNeedANewCategory"},
	    {"Corporate", "#Corporate"},
	    {"web 2.0", "#web20"},
	    {"e-mail", "#eMail"},
	    {"C++", "#C"},
	    {"snake_case tag", "#snake_caseTag"},
	    {"1er mai", "#1erMai"},
	    {"日本 語", "#日本語"},
	    {"Москва city", "#МоскваCity"},
	    {"l’été «chaud»", "#létéChaud"},
	    {"emoji \xF0\x9F\x8E\x89 party", "#emojiParty"},
	    {"a\xFF\xFE"
	     "b",
	     "#ab"},
	    {"caf\xC3", "#caf"},
	    {"  leading\ttabs\nand\xC2\xA0nbsp  ", "#leadingTabsAndNbsp"},
	    {"", NULL},
	    {"?!., ;", NULL},
	    {"2013", NULL},
	    {" 20 13 ", NULL},
	    {"___", NULL},
	    {"\xE2\x80\x9C\xE2\x80\x9D", NULL},
	};
	char out[128], small[16], big[4096];
	char *long_in = malloc(20001);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = object_hashtag_name(cases[i].in, out, sizeof(out));
		if (cases[i].out == NULL) {
			if (ok)
				check_fail(__FILE__, __LINE__, "\"%s\" gave \"%s\"", cases[i].in,
					   out);
		} else {
			CHECK(ok);
			CHECK_STR(out, cases[i].out);
		}
	}
	/* Bounded, and never half a character. */
	if (long_in == NULL)
		abort();
	for (size_t i = 0; i < 10000; i++)
		memcpy(long_in + 2 * i, "é", 2);
	long_in[20000] = '\0';
	CHECK(object_hashtag_name(long_in, small, sizeof(small)));
	CHECK_STR(small, "#ééééééé"); /* 1 + 7 * 2 bytes + NUL */
	CHECK(object_hashtag_name(long_in, big, sizeof(big)));
	CHECK_INT(strlen(big), 4095);
	CHECK(!object_hashtag_name("abc", small, 2));
	CHECK(object_hashtag_name("abc", small, 3));
	CHECK_STR(small, "#a");
	free(long_in);
}

/* Checks shared by every object of the demo post. */
static void check_common(json_t *j, const char *type)
{
	json_t *ctx = json_object_get(j, "@context"), *att, *a;

	CHECK_STR(json_string_value(json_array_get(ctx, 0)),
		  "https://www.w3.org/ns/activitystreams");
	CHECK_STR(str(json_array_get(ctx, 1), "Hashtag"), "as:Hashtag");
	CHECK_STR(str(json_array_get(ctx, 1), "sensitive"), "as:sensitive");
	CHECK_STR(str(j, "id"), POST_ID);
	CHECK_STR(str(j, "type"), type);
	CHECK_STR(str(j, "attributedTo"), "https://bridge.example/ap/actor");
	CHECK_STR(str(j, "url"), POST_URL);
	CHECK_STR(str(j, "published"), "2013-11-04T09:12:00Z");
	CHECK(json_object_get(j, "updated") == NULL);
	CHECK_INT(json_array_size(json_object_get(j, "to")), 1);
	CHECK_STR(json_string_value(json_array_get(json_object_get(j, "to"), 0)),
		  "https://www.w3.org/ns/activitystreams#Public");
	CHECK_STR(json_string_value(json_array_get(json_object_get(j, "cc"), 0)),
		  "https://bridge.example/ap/actor/followers");
	CHECK(json_is_false(json_object_get(j, "sensitive")));
	CHECK_STR(str(j, "replies"), POST_ID "/replies");
	/* Quotes approved at once for everyone (FEP-044f), with the terms
	 * in the context. */
	CHECK_INT(json_array_size(json_object_get(
		      json_object_get(json_object_get(j, "interactionPolicy"), "canQuote"),
		      "automaticApproval")),
		  1);
	CHECK_STR(json_string_value(json_array_get(
		      json_object_get(json_object_get(json_object_get(j, "interactionPolicy"),
						      "canQuote"),
				      "automaticApproval"),
		      0)),
		  "https://www.w3.org/ns/activitystreams#Public");
	CHECK_STR(str(json_array_get(ctx, 1), "gts"), "https://gotosocial.org/ns#");
	CHECK_STR(str(json_object_get(json_array_get(ctx, 1), "canQuote"), "@id"), "gts:canQuote");
	/* contentMap carries the same HTML under the primary subtag. */
	CHECK_INT(json_object_size(json_object_get(j, "contentMap")), 1);
	CHECK_STR(str(json_object_get(j, "contentMap"), "fr"), str(j, "content"));

	att = json_object_get(j, "attachment");
	CHECK_INT(json_array_size(att), 1);
	a = json_array_get(att, 0);
	CHECK_STR(str(a, "type"), "Document");
	CHECK_STR(str(a, "mediaType"), "image/jpeg");
	CHECK_STR(str(a, "url"), "https://blog.example/wp-content/uploads/2013/11/achille.jpg");
	CHECK_STR(str(a, "name"), "Achille Talon, perplexe");
	CHECK_INT(json_integer_value(json_object_get(a, "width")), 640);
	CHECK_INT(json_integer_value(json_object_get(a, "height")), 480);
	CHECK(json_object_get(a, "href") == NULL);
}

/* The demo's Hashtags: names, hrefs from the template, and their links. */
static void check_tags(json_t *j)
{
	json_t *tags = json_object_get(j, "tag"), *t;
	const char *content = str(j, "content");

	CHECK_INT(json_array_size(tags), 11);
	t = json_array_get(tags, 7);
	CHECK_STR(str(t, "type"), "Hashtag");
	CHECK_STR(str(t, "name"), "#médiasSociaux");
	CHECK_STR(str(t, "href"), "https://blog.example/tag/m%C3%A9dias-sociaux/");
	CHECK_STR(str(json_array_get(tags, 0), "name"), "#Corporate");
	CHECK_STR(str(json_array_get(tags, 0), "href"), "https://blog.example/tag/corporate/");
	CHECK_STR(str(json_array_get(tags, 10), "name"), "#vine");
	CHECK(check_contains(
	    content, "<a href=\"https://blog.example/tag/m%C3%A9dias-sociaux/\" "
		     "class=\"mention hashtag\" rel=\"tag\">#<span>médiasSociaux</span></a>"));
	CHECK(check_contains(content,
			     "<p><a href=\"https://blog.example/tag/corporate/\" "
			     "class=\"mention hashtag\" rel=\"tag\">#<span>Corporate</span>"
			     "</a> <a href=\"https://blog.example/tag/blog/\""));
	CHECK(ends_with(content, "#<span>vine</span></a></p>"));
}

static void t_note_full(void)
{
	struct object_options opt = {OBJECT_NOTE, false, NULL, TAG_URL};
	struct post p;
	json_t *j;
	const char *c;

	site_make();
	demo_post(&p, true);
	j = render(&opt, &p);
	c = str(j, "content");
	check_common(j, "Note");
	check_tags(j);
	CHECK(json_object_get(j, "summary") == NULL);
	CHECK(json_object_get(j, "name") == NULL);
	CHECK(starts_with(c, "<p><strong>" TITLE "</strong></p>"));
	/* The post itself, reduced: class dropped, quotes byte for byte. */
	CHECK(check_contains(c, "</strong></p><p>[en] A round-up of some companies which use "
				"social media well."));
	CHECK(check_contains(c, "<p>On est en mode “réseautage”, couleur “faut vraiment que je "
				"bosse sur mon pitch et je vais t’en faire la démo”.</p><p>Alors"));
	CHECK(check_contains(c, "<ul><li>marketing</li><li>service client</li>"));
	CHECK(check_contains(c, "<li>veille stratégique</li></ul><p>Tout ceci"));
	CHECK(check_contains(c, "à vous de les présenter dans les commentaires!</p>"
				"<p><a href=\"" POST_URL "\">" POST_URL "</a></p><p><a href="));
	CHECK(!check_contains(c, "class=\"translation\""));
	CHECK(!check_contains(c, "<img"));
	CHECK(!check_contains(c, "<script"));
	CHECK(!check_contains(c, "\n"));
	CHECK(!check_contains(c, "Lire la suite"));
	CHECK(balanced(c));
	json_decref(j);
	post_clear(&p);
	ap_site_free(&site);
}

static void t_note_excerpt(void)
{
	struct object_options opt = {OBJECT_NOTE, true, NULL, TAG_URL};
	struct post p;
	json_t *j, *full;
	const char *c, *body, *end;
	char *text, *full_text, *cut;

	site_make();
	/* The feed's summary is the excerpt. */
	demo_post(&p, true);
	j = render(&opt, &p);
	c = str(j, "content");
	check_common(j, "Note");
	check_tags(j);
	CHECK(json_object_get(j, "summary") == NULL);
	CHECK(starts_with(c, "<p><strong>" TITLE "</strong></p><p>[en] A round-up of some "
			     "companies which use social media well. Follow the links... (Most of "
			     "them are in English.)</p><p><a href=\"" POST_URL
			     "\">Lire la suite</a></p><p><a href=\"https://blog.example/tag/"));
	CHECK(!check_contains(c, "La semaine dernière"));
	json_decref(j);

	/* Without one: the first ~500 characters, cut at a word boundary. */
	free(p.summary);
	p.summary = xstrdup("<p> </p><img src=\"https://blog.example/x.png\">");
	j = render(&opt, &p);
	c = str(j, "content");
	body = c + strlen("<p><strong>" TITLE "</strong></p>");
	end = strstr(c, "<p><a href=\"" POST_URL "\">Lire la suite</a></p>");
	CHECK(starts_with(c, "<p><strong>" TITLE "</strong></p><p>[en] A round-up"));
	CHECK(end != NULL);
	if (end != NULL) {
		char *excerpt = strndup(body, (size_t)(end - body));
		size_t chars, lines = 0;
		opt.excerpt = false;
		full = render(&opt, &p);
		full_text = html_text(str(full, "content") + (body - c));
		text = html_text(excerpt);
		for (size_t i = 0; text[i]; i++)
			lines += text[i] == '\n';
		chars = utf8_chars(text) - lines; /* html_text's newlines aside */
		CHECK(balanced(excerpt));
		CHECK(ends_with(excerpt, ELLIPSIS "</p>"));
		CHECK(chars <= OBJECT_EXCERPT_CHARS + 1);
		CHECK(chars >= OBJECT_EXCERPT_CHARS - 40);
		CHECK(strlen(text) > chars + lines); /* counted in characters, not bytes */
		/* A prefix of the whole text, ending at a word boundary. */
		cut = strstr(text, ELLIPSIS);
		CHECK(cut != NULL && strcmp(cut, ELLIPSIS "\n") == 0);
		if (cut != NULL) {
			size_t n = (size_t)(cut - text);
			CHECK(strncmp(full_text, text, n) == 0);
			CHECK(full_text[n] == ' ' || full_text[n] == '\n');
			CHECK(text[n - 1] != ' ');
		}
		free(excerpt);
		free(text);
		free(full_text);
		json_decref(full);
		opt.excerpt = true;
	}
	json_decref(j);

	/* English (or unknown): "Read more", and no contentMap when unknown. */
	free(p.language);
	p.language = xstrdup("en-GB");
	j = render(&opt, &p);
	CHECK(check_contains(str(j, "content"), "\">Read more</a></p>"));
	CHECK(str(json_object_get(j, "contentMap"), "en") != NULL);
	json_decref(j);
	free(p.language);
	p.language = NULL;
	j = render(&opt, &p);
	CHECK(check_contains(str(j, "content"), "\">Read more</a></p>"));
	CHECK(json_object_get(j, "contentMap") == NULL);
	json_decref(j);
	opt.language = "fr";
	j = render(&opt, &p);
	CHECK(check_contains(str(j, "content"), "\">Lire la suite</a></p>"));
	CHECK(str(json_object_get(j, "contentMap"), "fr") != NULL);
	json_decref(j);

	/* A long summary is cut too. */
	free(p.summary);
	p.summary = xstrdup(p.content);
	j = render(&opt, &p);
	text = html_text(str(j, "content"));
	CHECK(utf8_chars(text) < OBJECT_EXCERPT_CHARS + 300); /* + title, link, tags */
	CHECK(check_contains(str(j, "content"), ELLIPSIS "</p><p><a href=\"" POST_URL "\">Lire"));
	free(text);
	json_decref(j);
	post_clear(&p);
	ap_site_free(&site);
}

static void t_article(void)
{
	struct object_options opt = {OBJECT_ARTICLE, false, NULL, TAG_URL};
	struct post p;
	json_t *j;
	const char *c, *s;
	char *inner;

	site_make();
	demo_post(&p, true);
	j = render(&opt, &p);
	c = str(j, "content");
	check_common(j, "Article");
	check_tags(j);
	CHECK_STR(str(j, "name"), TITLE);
	CHECK_STR(str(json_object_get(j, "nameMap"), "fr"), TITLE);
	CHECK_STR(str(j, "summary"),
		  "<p>[en] A round-up of some companies which use social media "
		  "well. Follow the links... (Most of them are in English.)</p>");
	CHECK_STR(str(json_object_get(j, "summaryMap"), "fr"), str(j, "summary"));
	/* The content is the whole post, without the title line or a link. */
	CHECK(starts_with(c, "<p>[en] A round-up"));
	CHECK(check_contains(c, "“réseautage”"));
	CHECK(check_contains(c, "à vous de les présenter dans les commentaires!</p><p><a href="
				"\"https://blog.example/tag/corporate/\""));
	CHECK(!check_contains(c, "Lire la suite"));
	CHECK(balanced(c));
	json_decref(j);

	/* No summary: a plain-text teaser of the post, escaped, in one <p>. */
	free(p.summary);
	p.summary = NULL;
	free(p.title);
	p.title = xstrdup("Tom & Jerry <3");
	free(p.content);
	p.content = fixture("first-post.html");
	j = render(&opt, &p);
	s = str(j, "summary");
	CHECK_STR(str(j, "name"), "Tom &amp; Jerry &lt;3");
	CHECK(starts_with(s, "<p>[en] A round-up of some companies which use social media well. "
			     "Follow the links... (Most of them are in English.) La semaine"));
	CHECK(ends_with(s, ELLIPSIS "</p>"));
	inner = s ? strndup(s + 3, strlen(s) - 7) : NULL;
	CHECK(inner != NULL && strchr(inner, '<') == NULL && strchr(inner, '>') == NULL);
	CHECK(inner != NULL && utf8_chars(inner) <= OBJECT_EXCERPT_CHARS + 1);
	CHECK(inner != NULL && utf8_chars(inner) >= OBJECT_EXCERPT_CHARS - 40);
	CHECK(check_contains(inner, "question très pertinente. On est en mode “réseautage”"));
	free(inner);
	json_decref(j);

	/* Plain text is escaped in the teaser. */
	free(p.content);
	p.content = xstrdup("<p>Fish &amp; chips &lt;b&gt;</p><ul><li>a</li><li>b</li></ul>");
	j = render(&opt, &p);
	CHECK_STR(str(j, "summary"), "<p>Fish &amp; chips &lt;b&gt; a b</p>");
	json_decref(j);
	post_clear(&p);
	ap_site_free(&site);
}

/* The content of a Note for html alone, less the closing permalink. */
static char *reduce(const char *html)
{
	struct object_options opt = {OBJECT_NOTE, false, NULL, NULL};
	const char *link = "<p><a href=\"" POST_URL "\">" POST_URL "</a></p>";
	struct post p;
	json_t *j;
	const char *c;
	char *body = NULL;

	bare_post(&p, html);
	j = render(&opt, &p);
	c = str(j, "content");
	CHECK(ends_with(c, link));
	if (ends_with(c, link))
		body = strndup(c, strlen(c) - strlen(link));
	json_decref(j);
	post_clear(&p);
	return body ? body : xstrdup("(none)");
}

static void t_reduce(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"", ""},
	    {"plain text", "<p>plain text</p>"},
	    {"<div>a</div><div>b</div>", "<p>a</p><p>b</p>"},
	    {"<p>x</p>\n\n<p>y</p>", "<p>x</p><p>y</p>"},
	    {"<h2>Title &amp; more</h2><p>x</p>",
	     "<p><strong>Title &amp; more</strong></p><p>x</p>"},
	    {"<ul><li><h3>S</h3></li></ul>", "<ul><li><p><strong>S</strong></p></li></ul>"},
	    {"<p><img src=\"https://x.example/y.jpg\"></p><p>after</p>", "<p>after</p>"},
	    {"<p>   </p><p>&nbsp;</p><p><br></p><p>z</p>", "<p>z</p>"},
	    {"<p>a<br>b</p>", "<p>a<br>b</p>"},
	    {"<ul>\n<li>one</li>\n<li>two</li>\n</ul>", "<ul><li>one</li><li>two</li></ul>"},
	    {"<ol><li>a<ul><li>b</li></ul></li></ol>", "<ol><li>a<ul><li>b</li></ul></li></ol>"},
	    {"<ul><li>a<div>b</div>c</li></ul>", "<ul><li>a<br>b<br>c</li></ul>"},
	    {"<li>stray</li>", "<p>stray</p>"},
	    {"<table><tr><td>1</td><td>2</td></tr></table>", "<p>1</p><p>2</p>"},
	    {"<blockquote>q<p>p</p></blockquote>", "<blockquote><p>q</p><p>p</p></blockquote>"},
	    {"<pre>  x\n  y</pre>", "<pre>  x\n  y</pre>"},
	    {"<p><code>a &lt; b</code> <kbd>k</kbd></p>",
	     "<p><code>a &lt; b</code> <code>k</code></p>"},
	    {"<p><em>e</em> <strong>s</strong> <b>b</b> <i>i</i> <u>u</u> <del>d</del> "
	     "<s>s</s></p>",
	     "<p><em>e</em> <strong>s</strong> <b>b</b> <i>i</i> <u>u</u> <del>d</del> "
	     "<s>s</s></p>"},
	    {"<p>a<!-- c -->b<script>x()</script>c</p>", "<p>abc</p>"},
	    {"<p>x <a href=\"javascript:alert(1)\">y</a></p>", "<p>x y</p>"},
	    {"<p><a href=\"HTTPS://Ex.example/A?b=1&amp;c=2\" onclick=\"x\">l</a></p>",
	     "<p><a href=\"https://Ex.example/A?b=1&amp;c=2\">l</a></p>"},
	    {"<p><a href=\"https://x.example/a&quot;b\" title=\"t\">q</a></p>",
	     "<p><a href=\"https://x.example/a&quot;b\">q</a></p>"},
	    {"<a href=\"/p/1\">rel</a> <a href=\"//cdn.example/x\">net</a> <a "
	     "href=\"x.html\">no</a>",
	     "<p><a href=\"https://blog.example/p/1\">rel</a> <a href=\"https://cdn.example/x\">net"
	     "</a> no</p>"},
	    {"<p><a href=\"https://x.example/\"><img src=\"https://x.example/i.png\"></a>t</p>",
	     "<p>t</p>"},
	    {"<p><span class=\"hashtag evil\">#x</span> <span style=\"c\">y</span></p>",
	     "<p><span class=\"hashtag\">#x</span> <span>y</span></p>"},
	    {"<p>“quote” l’été — ok…</p>", "<p>“quote” l’été — ok…</p>"},
	    {"<p>Tom &amp; Jerry &lt;3 &quot;q&quot;</p>", "<p>Tom &amp; Jerry &lt;3 \"q\"</p>"},
	    {"<p>a\xFF"
	     "b</p>",
	     "<p>a\xEF\xBF\xBD"
	     "b</p>"},
	    {"<p>x<font color=\"red\">y</font><sup>2</sup></p>", "<p>xy2</p>"},
	    {"<div>a<p>b</p>c</div>", "<p>a</p><p>b</p><p>c</p>"},
	};

	site_make();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = reduce(cases[i].in);
		if (strcmp(got, cases[i].out) != 0)
			check_fail(__FILE__, __LINE__,
				   "reduce(\"%s\"):\n      got  \"%s\"\n"
				   "      want \"%s\"",
				   cases[i].in, got, cases[i].out);
		free(got);
	}
	ap_site_free(&site);
}

static void t_hostile(void)
{
	static const char *absent[] = {
	    "<script",	"alert",  "onclick",   "onmouseover", "onerror", "javascript", "JaVa",
	    "style=",	"<style", "<iframe",   "evil",	      "secret",	 "<img",       "<!--",
	    "noscript", "data:",  "vbscript",  "<svg",	      "<object", "fallback",   "<font",
	    "color",	"<div",	  "<table",    "<td",	      "<form",	 "<input",     "<meta",
	    "<base",	"<link",  "area text", "target",      "id=",	 "<h1",	       "u-url",
	    "<math",	"<text",  "svg text",  "form text"};
	static const char *present[] = {
	    "<p>Hello <b>bold</b></p>",
	    "<p>js link js2 js3 data link vb</p>",
	    "<p><a href=\"https://ok.example/?a=1&amp;b=&quot;2&quot;\" class=\"mention\">ok link"
	    "</a></p>",
	    "<p><span><em>nested <u>junk</u></em> after</span></p>",
	    "<p>unclosed <strong>strong <em>em\n</em></strong></p><ul>",
	    "<ul><li>one</li><li>two</li></ul>",
	    "<p><strong>Big <i>title</i></strong></p>",
	    "<p>cell 1</p><p>cell 2</p>",
	    "<p>&lt;script&gt; stays text &amp; so does \"this\"</p>",
	    "<p>styled</p>",
	    "<a href=\"https://blog.example/2013/11/relative/\">relative</a> "
	    "<a href=\"https://cdn.example/p\">protocol-relative</a> path-relative",
	    "<blockquote><p>quoted</p><p>para in quote</p></blockquote>",
	    "<pre>  code\n   kept  </pre>",
	    "<p>end</p>",
	};
	struct object_options opt = {OBJECT_NOTE, false, NULL, NULL};
	char errpath[] = "/tmp/test_object_stderr_XXXXXX";
	int fd = mkstemp(errpath), saved = dup(2);
	struct post p;
	struct stat sb;
	char *html = fixture("hostile.html"), *text;
	const char *c;
	json_t *j;

	site_make();
	bare_post(&p, html);
	free(html);
	/* The parser stays silent: nothing on stderr. */
	CHECK(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	text = object_render(&site, &opt, &p, POST_ID);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	CHECK(fstat(fd, &sb) == 0 && sb.st_size == 0);
	close(fd);
	unlink(errpath);
	CHECK(text != NULL);
	j = json_loads(text ? text : "{}", 0, NULL);
	free(text);
	c = str(j, "content");
	CHECK(c != NULL);
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		if (check_contains(c, absent[i]))
			check_fail(__FILE__, __LINE__, "\"%s\" in %s", absent[i], c);
	for (size_t i = 0; i < sizeof(present) / sizeof(present[0]); i++)
		if (!check_contains(c, present[i]))
			check_fail(__FILE__, __LINE__, "\"%s\" not in %s", present[i], c);
	CHECK(balanced(c));
	json_decref(j);
	post_clear(&p);
	ap_site_free(&site);
}

static void t_tags(void)
{
	static const char *cats[] = {"Corporate",
				     "corporate",
				     "CORPORATE!",
				     "???",
				     "médias sociaux",
				     "Médias Sociaux",
				     "Does This Need a New Category?",
				     "  Web 2.0 -- news ",
				     "2013"};
	struct object_options opt = {OBJECT_NOTE, false, NULL, TAG_URL};
	struct post p;
	json_t *j, *tags;
	const char *c;

	site_make();
	bare_post(&p, "<p>x</p>");
	for (size_t i = 0; i < sizeof(cats) / sizeof(cats[0]); i++)
		p.tags[p.ntags++] = xstrdup(cats[i]);
	j = render(&opt, &p);
	tags = json_object_get(j, "tag");
	CHECK_INT(json_array_size(tags), 4);
	CHECK_STR(str(json_array_get(tags, 0), "name"), "#Corporate");
	CHECK_STR(str(json_array_get(tags, 1), "name"), "#médiasSociaux");
	CHECK_STR(str(json_array_get(tags, 1), "href"),
		  "https://blog.example/tag/m%C3%A9dias-sociaux/");
	CHECK_STR(str(json_array_get(tags, 2), "name"), "#DoesThisNeedANewCategory");
	CHECK_STR(str(json_array_get(tags, 2), "href"),
		  "https://blog.example/tag/does-this-need-a-new-category/");
	CHECK_STR(str(json_array_get(tags, 3), "name"), "#Web20News");
	CHECK_STR(str(json_array_get(tags, 3), "href"), "https://blog.example/tag/web-20-news/");
	c = str(j, "content");
	CHECK(ends_with(c,
			"<p><a href=\"https://blog.example/tag/corporate/\" class=\"mention "
			"hashtag\" rel=\"tag\">#<span>Corporate</span></a> <a href=\"https://"
			"blog.example/tag/m%C3%A9dias-sociaux/\" class=\"mention hashtag\" rel="
			"\"tag\">#<span>médiasSociaux</span></a> <a href=\"https://blog.example/"
			"tag/does-this-need-a-new-category/\" class=\"mention hashtag\" rel=\"tag"
			"\">#<span>DoesThisNeedANewCategory</span></a> <a href=\"https://blog."
			"example/tag/web-20-news/\" class=\"mention hashtag\" rel=\"tag\">#<span>"
			"Web20News</span></a></p>"));
	json_decref(j);

	/* A template without {slug}: the slug is appended. */
	opt.tag_url = "https://blog.example/tags/";
	j = render(&opt, &p);
	CHECK_STR(str(json_array_get(json_object_get(j, "tag"), 3), "href"),
		  "https://blog.example/tags/web-20-news");
	json_decref(j);

	/* No tag pages: no href, and the links point to the post. */
	opt.tag_url = NULL;
	j = render(&opt, &p);
	tags = json_object_get(j, "tag");
	CHECK_INT(json_array_size(tags), 4);
	CHECK(json_object_get(json_array_get(tags, 0), "href") == NULL);
	CHECK(check_contains(str(j, "content"),
			     "<p><a href=\"" POST_URL "\" class=\"mention "
			     "hashtag\" rel=\"tag\">#<span>Corporate</span></a>"));
	json_decref(j);

	/* No usable tag: no tag array, no hashtag paragraph. */
	post_clear(&p);
	bare_post(&p, "<p>x</p>");
	p.tags[p.ntags++] = xstrdup("2013");
	j = render(&opt, &p);
	CHECK(json_object_get(j, "tag") == NULL);
	CHECK(!check_contains(str(j, "content"), "hashtag"));
	json_decref(j);
	post_clear(&p);
	ap_site_free(&site);
}

static void t_attachments(void)
{
	struct object_options opt = {OBJECT_NOTE, false, NULL, NULL};
	struct post p;
	json_t *j, *att;

	site_make();
	bare_post(&p, "<p>x</p>");
	p.images[0].url = xstrdup("https://blog.example/a.PNG?v=2");
	p.images[1].url = xstrdup("ftp://blog.example/b.jpg"); /* not http(s): skipped */
	p.images[2].url = xstrdup("https://blog.example/c");
	p.images[2].media_type = xstrdup("image/webp");
	p.images[2].alt = xstrdup("");
	p.images[2].width = 10;
	p.images[3].url = xstrdup("https://blog.example/d.unknown");
	p.images[3].alt = xstrdup("Tom & \"Jerry\" <3");
	p.nimages = 4;
	j = render(&opt, &p);
	att = json_object_get(j, "attachment");
	CHECK_INT(json_array_size(att), 3);
	for (size_t i = 0; i < json_array_size(att); i++) {
		CHECK_STR(str(json_array_get(att, i), "type"), "Document");
		CHECK(json_object_get(json_array_get(att, i), "href") == NULL);
	}
	CHECK_STR(str(json_array_get(att, 0), "url"), "https://blog.example/a.PNG?v=2");
	CHECK_STR(str(json_array_get(att, 0), "mediaType"), "image/png");
	CHECK(json_object_get(json_array_get(att, 0), "name") == NULL);
	CHECK(json_object_get(json_array_get(att, 0), "width") == NULL);
	CHECK(json_object_get(json_array_get(att, 0), "height") == NULL);
	CHECK_STR(str(json_array_get(att, 1), "mediaType"), "image/webp");
	CHECK(json_object_get(json_array_get(att, 1), "name") == NULL);
	CHECK_INT(json_integer_value(json_object_get(json_array_get(att, 1), "width")), 10);
	CHECK(json_object_get(json_array_get(att, 1), "height") == NULL);
	CHECK(json_object_get(json_array_get(att, 2), "mediaType") == NULL);
	CHECK_STR(str(json_array_get(att, 2), "name"), "Tom & \"Jerry\" <3"); /* plain text */
	json_decref(j);
	post_clear(&p);

	bare_post(&p, "<p>x</p>");
	j = render(&opt, &p);
	CHECK(json_object_get(j, "attachment") == NULL);
	json_decref(j);
	post_clear(&p);
	ap_site_free(&site);
}

static void t_dates_language(void)
{
	static const struct {
		const char *post, *opt, *key;
	} langs[] = {{"fr-FR", NULL, "fr"}, {"EN_us", NULL, "en"}, {"de", "fr", "de"},
		     {NULL, "pt-BR", "pt"}, {"fil", NULL, "fil"},  {"x-klingon", NULL, NULL},
		     {"?", "it", "it"},	    {"fren", NULL, NULL},  {"", NULL, NULL},
		     {NULL, NULL, NULL}};
	struct object_options opt = {OBJECT_NOTE, false, NULL, NULL};
	struct post p;
	json_t *j, *map;

	site_make();
	bare_post(&p, "<p>x</p>");
	p.updated = PUBLISHED + 3600;
	j = render(&opt, &p);
	CHECK_STR(str(j, "published"), "2013-11-04T09:12:00Z");
	CHECK_STR(str(j, "updated"), "2013-11-04T10:12:00Z");
	json_decref(j);
	p.updated = PUBLISHED - 3600;
	j = render(&opt, &p);
	CHECK(json_object_get(j, "updated") == NULL);
	json_decref(j);

	for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++) {
		free(p.language);
		p.language = langs[i].post ? xstrdup(langs[i].post) : NULL;
		opt.language = langs[i].opt;
		j = render(&opt, &p);
		map = json_object_get(j, "contentMap");
		if (langs[i].key == NULL) {
			CHECK(map == NULL);
		} else {
			CHECK_INT(json_object_size(map), 1);
			CHECK_STR(str(map, langs[i].key), str(j, "content"));
		}
		json_decref(j);
	}
	post_clear(&p);
	ap_site_free(&site);
}

/* Fills big (n bytes and a NUL) with copies of "<p>" + count * sentence + "</p>\n". */
static void fill_paragraphs(char *big, size_t n, const char *sentence, size_t count)
{
	size_t sl = strlen(sentence), i = 0;

	while (i + 8 + count * sl <= n) {
		memcpy(big + i, "<p>", 3), i += 3;
		for (size_t k = 0; k < count; k++)
			memcpy(big + i, sentence, sl), i += sl;
		memcpy(big + i, "</p>\n", 5), i += 5;
	}
	big[i] = '\0';
}

/* Oversized or deeply nested input: cut at an element boundary, bounded. */
static void t_limits(void)
{
	struct object_options opt = {OBJECT_NOTE, false, NULL, TAG_URL};
	const char *sentence =
	    "Une phrase <em>en</em> français, “entre guillemets” &amp; c’est tout. ";
	struct post p;
	json_t *j;
	const char *c;
	char *big;
	size_t n = 1300 * 1024, pl;

	site_make();
	big = malloc(n + 1);
	if (big == NULL)
		abort();
	demo_post(&p, false);
	free(p.content);
	p.content = big;
	/* Short paragraphs, then long ones (the budget runs out inside one):
	 * the content ends with the last whole paragraph. */
	for (size_t count = 1; count <= 100; count += 99) {
		fill_paragraphs(big, n, sentence, count);
		j = render(&opt, &p);
		c = str(j, "content");
		CHECK(c != NULL && strlen(c) <= OBJECT_CONTENT_MAX);
		CHECK(c != NULL && strlen(c) > OBJECT_CONTENT_MAX - 16 * 1024);
		CHECK(balanced(c));
		CHECK(check_contains(c, "c’est tout.</p><p><a href=\"" POST_URL "\">"));
		CHECK(!check_contains(c, ELLIPSIS));
		CHECK(ends_with(c, "#<span>vine</span></a></p>"));
		json_decref(j);
	}

	/* One giant text node: cut at a space, with "…". */
	for (size_t i = 0; i < n; i++)
		big[i] = i % 5 == 4 ? ' ' : 'a';
	big[n] = '\0';
	j = render(&opt, &p);
	c = str(j, "content");
	CHECK(c != NULL && strlen(c) <= OBJECT_CONTENT_MAX);
	CHECK(check_contains(c, "aaaa" ELLIPSIS "</p><p><a href=\"" POST_URL "\">"));
	json_decref(j);

	/* Deep nesting (within libxml2's 256 levels): kept elements past our
	 * depth limit are unwrapped, their text kept. */
	pl = strlen("<blockquote><em>");
	for (size_t i = 0; i < 120; i++)
		memcpy(big + i * pl, "<blockquote><em>", pl);
	memcpy(big + 120 * pl, "deep text", 10);
	j = render(&opt, &p);
	c = str(j, "content");
	CHECK(check_contains(c, "deep text"));
	CHECK(balanced(c));
	json_decref(j);
	/* Deeper than libxml2 goes: whatever it keeps stays well formed. */
	for (size_t i = 0; i < 20000; i++)
		memcpy(big + i * 3, "<i>", 3);
	memcpy(big + 20000 * 3, "x", 2);
	j = render(&opt, &p);
	CHECK(balanced(str(j, "content")));
	json_decref(j);
	post_clear(&p);
	ap_site_free(&site);
}

static void t_activities(void)
{
	struct object_options opt = {OBJECT_NOTE, false, NULL, TAG_URL};
	static const char *types[] = {"Create", "Update"};
	struct post p;
	char *obj, *text;
	json_t *o, *a, *inner;

	site_make();
	demo_post(&p, true);
	obj = object_render(&site, &opt, &p, POST_ID);
	CHECK(obj != NULL);
	o = json_loads(obj ? obj : "{}", 0, NULL);
	for (size_t i = 0; i < 2; i++) {
		text = object_activity_render(&site, types[i], POST_ID "#create", obj, 1700000000);
		CHECK(text != NULL);
		a = json_loads(text ? text : "{}", 0, NULL);
		free(text);
		inner = json_object_get(a, "object");
		CHECK(json_equal(json_object_get(a, "@context"), json_object_get(o, "@context")));
		CHECK_STR(str(a, "id"), POST_ID "#create");
		CHECK_STR(str(a, "type"), types[i]);
		CHECK_STR(str(a, "actor"), "https://bridge.example/ap/actor");
		CHECK_STR(str(a, "published"), "2023-11-14T22:13:20Z");
		CHECK_STR(json_string_value(json_array_get(json_object_get(a, "to"), 0)),
			  "https://www.w3.org/ns/activitystreams#Public");
		CHECK_STR(json_string_value(json_array_get(json_object_get(a, "cc"), 0)),
			  "https://bridge.example/ap/actor/followers");
		CHECK(json_is_object(inner));
		CHECK_STR(str(inner, "id"), POST_ID);
		CHECK_STR(str(inner, "type"), "Note");
		CHECK_STR(str(inner, "content"), str(o, "content"));
		CHECK(json_object_get(inner, "@context") == NULL);
		CHECK_INT(json_object_size(inner), json_object_size(o) - 1);
		json_decref(a);
	}
	CHECK(object_activity_render(&site, "Create", "x", "not json", 0) == NULL);
	CHECK(object_activity_render(&site, "Create", "x", "[1]", 0) == NULL);
	CHECK(object_activity_render(&site, "Create", "x", "{\"a\":1,\"a\":2}", 0) == NULL);
	text = object_activity_render(&site, "Create", "x", "{\"id\":\"y\"}", 0);
	a = json_loads(text ? text : "{}", 0, NULL);
	CHECK_STR(str(a, "@context"), "https://www.w3.org/ns/activitystreams");
	CHECK_STR(str(json_object_get(a, "object"), "id"), "y");
	json_decref(a);
	free(text);
	json_decref(o);
	free(obj);
	post_clear(&p);
	ap_site_free(&site);
}

static void t_delete_tombstone(void)
{
	char *text;
	json_t *j, *obj;

	site_make();
	text = object_delete_render(&site, POST_ID "#delete", POST_ID, 1700000000);
	CHECK(text != NULL);
	j = json_loads(text ? text : "{}", 0, NULL);
	free(text);
	CHECK_STR(str(j, "@context"), "https://www.w3.org/ns/activitystreams");
	CHECK_STR(str(j, "id"), POST_ID "#delete");
	CHECK_STR(str(j, "type"), "Delete");
	CHECK_STR(str(j, "actor"), "https://bridge.example/ap/actor");
	CHECK_STR(str(j, "published"), "2023-11-14T22:13:20Z");
	CHECK_STR(json_string_value(json_array_get(json_object_get(j, "to"), 0)),
		  "https://www.w3.org/ns/activitystreams#Public");
	CHECK_STR(json_string_value(json_array_get(json_object_get(j, "cc"), 0)),
		  "https://bridge.example/ap/actor/followers");
	obj = json_object_get(j, "object");
	CHECK_INT(json_object_size(obj), 2);
	CHECK_STR(str(obj, "id"), POST_ID);
	CHECK_STR(str(obj, "type"), "Tombstone");
	json_decref(j);

	text = object_tombstone_render(POST_ID, 1700000000);
	CHECK(text != NULL);
	j = json_loads(text ? text : "{}", 0, NULL);
	free(text);
	CHECK_INT(json_object_size(j), 4);
	CHECK_STR(str(j, "@context"), "https://www.w3.org/ns/activitystreams");
	CHECK_STR(str(j, "id"), POST_ID);
	CHECK_STR(str(j, "type"), "Tombstone");
	CHECK_STR(str(j, "deleted"), "2023-11-14T22:13:20Z");
	json_decref(j);
	ap_site_free(&site);
}

/* Invalid UTF-8 anywhere in the post still gives valid JSON. */
static void t_bad_utf8(void)
{
	struct object_options opt = {OBJECT_ARTICLE, false, "fr", TAG_URL};
	struct post p;
	json_t *j;

	site_make();
	bare_post(&p, "<p>caf\xC3 cr\xE8me</p>");
	free(p.title);
	p.title = xstrdup("Titre \xFF");
	p.tags[p.ntags++] = xstrdup("cr\xE8me br\xC3\xBBl\xC3\xA9"
				    "e");
	p.images[0].url = xstrdup("https://blog.example/\xE9.jpg");
	p.images[0].alt = xstrdup("alt \xC0\xAF");
	p.nimages = 1;
	j = render(&opt, &p);
	CHECK_STR(str(j, "name"), "Titre \xEF\xBF\xBD");
	CHECK(check_contains(str(j, "content"), "<p>caf\xEF\xBF\xBD cr\xEF\xBF\xBDme</p>"));
	CHECK_STR(str(json_array_get(json_object_get(j, "tag"), 0), "name"), "#crmeBrûlée");
	CHECK_STR(str(json_array_get(json_object_get(j, "tag"), 0), "href"),
		  "https://blog.example/tag/cr%E8me-br%C3%BBl%C3%A9e/");
	CHECK_STR(str(json_array_get(json_object_get(j, "attachment"), 0), "name"),
		  "alt \xEF\xBF\xBD\xEF\xBF\xBD");
	json_decref(j);
	post_clear(&p);
	ap_site_free(&site);
}

static const struct check_case cases[] = {
    {"hashtag_name", t_hashtag_name},
    {"note_full", t_note_full},
    {"note_excerpt", t_note_excerpt},
    {"article", t_article},
    {"reduce", t_reduce},
    {"hostile", t_hostile},
    {"tags", t_tags},
    {"attachments", t_attachments},
    {"dates_language", t_dates_language},
    {"limits", t_limits},
    {"activities", t_activities},
    {"delete_tombstone", t_delete_tombstone},
    {"bad_utf8", t_bad_utf8},
};

CHECK_MAIN(cases)
