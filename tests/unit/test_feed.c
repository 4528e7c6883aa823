/*
 * test_feed.c — the feed parser (feed/feed.c) on real and hand-written
 * feeds from tests/data/feeds/: the blog's own WordPress feed field by
 * field, Atom with xml:base and xml:lang, images, relative URLs, identity
 * and duplicates, malformed and foreign documents; hostile input (external
 * entities watched with inotify and a loopback listener, billion laughs,
 * 50 MB, 2,000 items, oversize fields); RFC 822 dates inside a feed; two
 * threads at once; and not a byte on stderr.
 */
#include "check.h"

#include "feed.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Reads tests/data/feeds/name (caller frees); aborts when missing. */
static char *fixture(const char *name, size_t *len)
{
	char path[512];
	struct stat st;
	char *data;
	FILE *f;

	snprintf(path, sizeof(path), "%s/feeds/%s", BB_TEST_DATA, name);
	f = fopen(path, "rb");
	if (f == NULL || fstat(fileno(f), &st) != 0)
		abort();
	data = malloc((size_t)st.st_size + 1);
	if (data == NULL || fread(data, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
		abort();
	data[st.st_size] = '\0';
	fclose(f);
	*len = (size_t)st.st_size;
	return data;
}

static enum bb_rc parse_fixture(const char *name, struct feed *f, struct err *e)
{
	size_t len;
	char *data = fixture(name, &len);
	enum bb_rc rc = feed_parse(data, len, f, e);

	free(data);
	return rc;
}

static enum bb_rc parse_text(const char *text, struct feed *f, struct err *e)
{
	return feed_parse(text, strlen(text), f, e);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const struct post *find_guid(const struct feed *f, const char *guid)
{
	for (size_t i = 0; i < f->nitems; i++)
		if (strcmp(f->items[i].guid, guid) == 0)
			return &f->items[i];
	return NULL;
}

static bool has_tag(const struct post *p, const char *tag)
{
	for (size_t i = 0; i < p->ntags; i++)
		if (strcmp(p->tags[i], tag) == 0)
			return true;
	return false;
}

/* The raw CDATA text of the n-th <content:encoded> in the fixture. */
static char *raw_content(const char *data, int n)
{
	const char *open = "<content:encoded><![CDATA[", *p = data, *end;

	for (int i = 0; i <= n; i++) {
		p = strstr(p, open);
		if (p == NULL)
			return NULL;
		p += strlen(open);
	}
	end = strstr(p, "]]></content:encoded>");
	return end ? strndup(p, (size_t)(end - p)) : NULL;
}

/* ---- the blog's feed -------------------------------------------------- */

static void t_demo_feed(void)
{
	static const char *const tags[] = {"Corporate", "blog",	    "business", "entreprise",
					   "examples",	"exemples", "facebook", "médias sociaux",
					   "pinterest", "twitter",  "vine"};
	struct feed f;
	struct err e = {0};
	const struct post *p;

	CHECK_INT(parse_fixture("blog-feed.xml", &f, &e), BB_OK);
	CHECK_STR(f.title, "Climb to the Stars");
	CHECK_STR(f.link, "https://blog.example");
	CHECK_STR(f.language, "fr-FR");
	CHECK_INT(f.nitems, 10);
	CHECK_INT(f.nskipped, 0);
	if (f.nitems != 10)
		goto out;
	p = &f.items[0];
	CHECK_STR(p->guid, "https://blog.example/?p=14000");
	CHECK_STR(p->title, "Des entreprises qui utilisent bien les médias sociaux");
	CHECK_STR(p->url,
		  "https://blog.example/2013/11/04/des-entreprises-qui-utilisent-bien-les-medias-"
		  "sociaux/");
	CHECK_INT(p->published, 1383556320);
	CHECK_INT(p->updated, 1383556320);
	CHECK_STR(p->author, "Stephanie Booth");
	CHECK_STR(p->language, "fr-FR");
	CHECK_INT(p->ntags, 11);
	for (size_t i = 0; i < p->ntags && i < 11; i++)
		CHECK_STR(p->tags[i], tags[i]);
	CHECK_STR(p->summary, "[en] A round-up of some companies which use social media well. "
			      "Follow the links... (Most of them are in English.)");
	CHECK(check_contains(p->content,
			     "On est en mode “réseautage”, couleur “faut vraiment "
			     "que je bosse sur mon pitch et je vais t’en faire la démo”."));
	CHECK(check_contains(p->content, "<ul>\n<li>marketing</li>\n<li>service client</li>"));
	CHECK(strncmp(p->content, "<p class=\"translation\">[en] A round-up", 38) == 0);
	CHECK_INT(p->nimages, 0);
	CHECK_INT(f.items[9].published, 1290427200); /* Mon, 22 Nov 2010 12:00:00 +0000 */
	CHECK_STR(f.items[9].guid, "https://blog.example/?p=12767");

	for (size_t i = 0; i < f.nitems; i++) {
		CHECK(f.items[i].guid &&
		      strncmp(f.items[i].guid, "https://blog.example/?p=", 24) == 0);
		CHECK(f.items[i].url &&
		      strncmp(f.items[i].url, "https://blog.example/20", 22) == 0);
		CHECK(f.items[i].published > 1262304000 && f.items[i].published < 1388534400);
		CHECK(f.items[i].ntags > 0);
		CHECK(has_tag(&f.items[i], "médias sociaux"));
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(f.items[i].guid, f.items[j].guid) != 0);
	}
	/* The WordPress category with a question mark and spaces. */
	p = NULL;
	for (size_t i = 0; i < f.nitems; i++)
		if (has_tag(&f.items[i], "Does This Need a New Category?"))
			p = &f.items[i];
	CHECK(p != NULL);
	if (p) {
		CHECK_STR(p->guid, "https://blog.example/?p=12904");
		CHECK_STR(p->title, "Pollens Pédagogiques 2011");
		CHECK_INT(p->ntags, 10);
		CHECK_STR(p->tags[1], "Does This Need a New Category?");
		CHECK_STR(p->tags[3], "école");
	}
out:
	feed_clear(&f);
}

/* The demo feed's HTML has nothing to resolve or normalize: each content
 * comes out byte for byte as the feed has it. */
static void t_demo_content_faithful(void)
{
	size_t len;
	char *data = fixture("blog-feed.xml", &len);
	struct feed f;
	struct err e = {0};

	CHECK_INT(feed_parse(data, len, &f, &e), BB_OK);
	CHECK_INT(f.nitems, 10);
	for (size_t i = 0; i < f.nitems; i++) {
		char *raw = raw_content(data, (int)i);

		CHECK(raw != NULL);
		if (raw && strcmp(raw, f.items[i].content) != 0)
			check_fail(__FILE__, __LINE__, "item %zu content differs from the feed", i);
		free(raw);
	}
	feed_clear(&f);
	free(data);
}

/* ---- Atom ------------------------------------------------------------- */

static void t_atom(void)
{
	struct feed f;
	struct err e = {0};
	const struct post *p;

	CHECK_INT(parse_fixture("atom.xml", &f, &e), BB_OK);
	CHECK_STR(f.title, "Le carnet d’Anne");
	CHECK_STR(f.link, "https://atom.example/blog/");
	CHECK_STR(f.language, "fr");
	CHECK_INT(f.nitems, 4);
	CHECK_INT(f.nskipped, 1); /* the duplicate id */

	p = find_guid(&f, "tag:atom.example,2024:1");
	CHECK(p != NULL);
	if (p) {
		CHECK(p == &f.items[0]);
		CHECK_STR(p->title, "Premier billet : “l’été”");
		CHECK_STR(p->url, "https://atom.example/blog/2024/03/premier");
		CHECK_INT(p->published, 1709281800);
		CHECK_INT(p->updated, 1709373600);
		CHECK_STR(p->author, "Anne Exemple");
		CHECK_STR(p->language, "fr");
		CHECK_INT(p->ntags, 3);
		CHECK_STR(p->tags[0], "vacances");
		CHECK_STR(p->tags[1], "Seulement un libellé");
		CHECK_STR(p->tags[2], "été");
		CHECK_STR(p->content,
			  "<p>Voir <a href=\"https://atom.example/about\">à propos</a> et "
			  "<img src=\"https://atom.example/blog/img/plage.jpg\" "
			  "alt=\"La plage\"></p>");
		CHECK_STR(p->summary, "Un résumé &amp; du texte &lt;pas du HTML&gt;");
		CHECK_INT(p->nimages, 2);
		CHECK_STR(p->images[0].url, "https://atom.example/media/cover.png");
		CHECK_STR(p->images[0].media_type, "image/png");
		CHECK(p->images[0].alt == NULL);
		CHECK_STR(p->images[1].url, "https://atom.example/blog/img/plage.jpg");
		CHECK_STR(p->images[1].alt, "La plage");
		CHECK_STR(p->images[1].media_type, "image/jpeg");
	}
	p = find_guid(&f, "tag:atom.example,2024:2");
	CHECK(p != NULL);
	if (p) {
		CHECK_STR(p->title, "Second post");
		CHECK_STR(p->url, "https://other.example/en/second");
		CHECK_INT(p->published, 1709452800); /* no <published>: updated */
		CHECK_INT(p->updated, 1709452800);
		CHECK_STR(p->author, "Bob");
		CHECK_STR(p->language, "en-GB");
		CHECK_INT(p->ntags, 0);
		CHECK_STR(p->content, "<p>Hello <a href=\"https://other.example/x\">x</a> <img "
				      "src=\"https://other.example/en/pic.png\" alt=\"A pic\" "
				      "width=\"300\" height=\"200\"></p>");
		CHECK(p->summary == NULL);
		CHECK_INT(p->nimages, 1);
		CHECK_STR(p->images[0].url, "https://other.example/en/pic.png");
		CHECK_STR(p->images[0].alt, "A pic");
		CHECK_INT(p->images[0].width, 300);
		CHECK_INT(p->images[0].height, 200);
		CHECK_STR(p->images[0].media_type, "image/png");
	}
	p = find_guid(&f, "tag:atom.example,2024:3");
	CHECK(p != NULL);
	if (p) {
		CHECK(p->url == NULL);
		CHECK_STR(p->title, "Sans lien");
		CHECK_INT(p->published, 0);
		CHECK_INT(p->updated, 0);
		CHECK_STR(p->author, "Anne Exemple"); /* inherited from the feed */
		CHECK_STR(p->summary, "<b>gras</b> &amp; maigre");
		CHECK_STR(p->content, p->summary);
	}
	p = find_guid(&f, "tag:atom.example,2024:4");
	CHECK(p != NULL);
	if (p) {
		CHECK_STR(p->content, "<p>Un <strong>texte</strong> l’été</p>");
		CHECK_INT(p->published, 1709510400);
		CHECK_INT(p->updated, 1709510400);
	}
	feed_clear(&f);
}

/* ---- images and URLs -------------------------------------------------- */

static void t_images(void)
{
	struct feed f;
	struct err e = {0};
	const struct post *p;

	CHECK_INT(parse_fixture("wp-images.xml", &f, &e), BB_OK);
	CHECK_INT(f.nitems, 3);
	if (f.nitems != 3)
		goto out;
	p = &f.items[0];
	CHECK_STR(p->author, "Pat");
	CHECK_STR(p->language, "en-US");
	CHECK_INT(p->published, 1714824000);
	CHECK_INT(p->nimages, 4);
	CHECK_STR(p->images[0].url, "https://photo.example/wp-content/uploads/cover.jpg");
	CHECK_STR(p->images[0].media_type, "image/jpeg");
	CHECK(p->images[0].alt == NULL);
	CHECK_INT(p->images[0].width, 0);
	CHECK_STR(p->images[1].url, "https://photo.example/wp-content/uploads/beach.webp");
	CHECK_STR(p->images[1].media_type, "image/webp");
	CHECK_STR(p->images[1].alt, "A sandy beach");
	CHECK_INT(p->images[1].width, 1200);
	CHECK_INT(p->images[1].height, 800);
	CHECK_STR(p->images[2].url, "https://photo.example/2024/05/holiday/img/one.png");
	CHECK_STR(p->images[2].alt, "First “day”");
	CHECK_STR(p->images[2].media_type, "image/png");
	CHECK_INT(p->images[2].width, 640);
	CHECK_INT(p->images[2].height, 480);
	CHECK_STR(p->images[3].url, "https://photo.example/2024/05/holiday/img/two.gif");
	CHECK_STR(p->images[3].alt, "Second");
	CHECK_STR(p->images[3].media_type, "image/gif");
	/* The fifth image is not an attachment, but its src is resolved. */
	CHECK(check_contains(p->content,
			     "<img src=\"https://photo.example/2024/05/holiday/img/three.jpg\" "
			     "alt=\"Third\">"));
	CHECK(check_contains(p->content, "<img src=\"https://stats.example/pixel.gif\""));
	CHECK_STR(
	    p->summary,
	    "Day one <img src=\"https://photo.example/2024/05/holiday/img/summary-only.png\">");

	/* No content: images from the description, deduplicated, http only. */
	p = &f.items[1];
	CHECK_STR(p->content, p->summary);
	CHECK_INT(p->nimages, 2);
	CHECK_STR(p->images[0].url, "https://photo.example/a.JPEG");
	CHECK_STR(p->images[0].alt, "An image");
	CHECK_STR(p->images[0].media_type, "image/jpeg");
	CHECK_STR(p->images[1].url, "https://photo.example/2024/05/inline/b?x=1");
	CHECK(p->images[1].media_type == NULL);
	CHECK(check_contains(p->content, "src=\"data:image/png;base64,AAAA\""));

	/* media:group, an image known by its extension, a relative thumbnail. */
	p = &f.items[2];
	CHECK_STR(p->guid, "https://photo.example/2024/05/group/");
	CHECK_STR(p->content, "");
	CHECK_INT(p->nimages, 2);
	CHECK_STR(p->images[0].url, "https://photo.example/big.jpg");
	CHECK_STR(p->images[0].alt, "Big one");
	CHECK_STR(p->images[0].media_type, "image/jpeg");
	CHECK_INT(p->images[0].width, 2000);
	CHECK_INT(p->images[0].height, 1000);
	CHECK_STR(p->images[1].url, "https://photo.example/2024/05/group/thumbs/small.png");
	CHECK_STR(p->images[1].media_type, "image/png");
	CHECK_INT(p->images[1].width, 150);
	CHECK_INT(p->images[1].height, 75);
out:
	feed_clear(&f);
}

static void t_relative_urls(void)
{
	struct feed f;
	struct err e = {0};
	const struct post *p;

	CHECK_INT(parse_fixture("relative.xml", &f, &e), BB_OK);
	CHECK_INT(f.nitems, 2);
	if (f.nitems != 2)
		goto out;
	p = &f.items[0];
	CHECK_INT(p->published, 1612256400);
	CHECK_STR(p->content,
		  "<p><a href=\"https://rel.example/2020/01/post\">old</a> "
		  "<img src=\"https://rel.example/2021/02/note/img/a.png\"> "
		  "<a href=\"https://rel.example/2021/02/note/#top\">top</a> "
		  "<a href=\"mailto:me@rel.example\">mail</a> "
		  "<a href=\"https://cdn.example/x\">cdn</a> "
		  "<a href=\"https://rel.example/2021/02/up/\">up</a> "
		  "<a href=\"https://abs.example/\">abs</a> "
		  "<a href=\"https://rel.example/2021/02/note/spaced.html\">sp</a></p>");
	CHECK_STR(p->summary, "See <a href=\"https://rel.example/2020/01/post\">the post</a>.");
	CHECK_INT(p->nimages, 1);
	CHECK_STR(p->images[0].url, "https://rel.example/2021/02/note/img/a.png");

	/* A relative <link> resolves against the channel's. */
	p = &f.items[1];
	CHECK_STR(p->url, "https://rel.example/2021/03/rel/");
	CHECK_STR(p->content, "<p><img src=\"https://rel.example/2021/03/rel/pic.png\" "
			      "alt=\"pic\"></p>");
	CHECK_STR(p->images[0].url, "https://rel.example/2021/03/rel/pic.png");
	CHECK_INT(p->published, 0);
	CHECK_INT(p->updated, 0);
	CHECK(p->language == NULL);
out:
	feed_clear(&f);
}

/* ---- identity, errors ------------------------------------------------- */

static void t_identity(void)
{
	struct feed f;
	struct err e = {0};
	const struct post *p;

	CHECK_INT(parse_fixture("identity.xml", &f, &e), BB_OK);
	CHECK_INT(f.nitems, 5);
	CHECK_INT(f.nskipped, 3);
	p = find_guid(&f, "id-1");
	CHECK(p != NULL);
	if (p) {
		CHECK_STR(p->title, "One"); /* the first of the two is kept */
		CHECK_STR(p->url, "https://id.example/one");
	}
	p = find_guid(&f, "https://id.example/two");
	CHECK(p != NULL);
	if (p) {
		CHECK_STR(p->title, "Two has no guid");
		CHECK_STR(p->url, "https://id.example/two");
	}
	p = find_guid(&f, "id-5");
	CHECK(p != NULL);
	if (p) {
		CHECK(p->url == NULL); /* isPermaLink="false" */
		CHECK_STR(p->content, "");
		CHECK(p->summary == NULL);
	}
	p = find_guid(&f, "https://id.example/?p=6");
	CHECK(p != NULL);
	if (p)
		CHECK_STR(p->title, "");
	p = find_guid(&f, "https://id.example/perma");
	CHECK(p != NULL);
	if (p) {
		CHECK_STR(p->url, "https://id.example/perma");
		CHECK_STR(p->title, "Permalink guid, no link ’");
	}
	for (size_t i = 0; i < f.nitems; i++)
		CHECK(f.items[i].title != NULL && f.items[i].content != NULL);
	feed_clear(&f);
}

static void t_malformed(void)
{
	struct feed f;
	struct err e = {0};

	CHECK_INT(parse_fixture("malformed.xml", &f, &e), BB_ERR_INVALID);
	CHECK(strncmp(e.msg, "feed: line 7: ", 14) == 0);
	CHECK(check_contains(e.msg, "title line 6 and item"));
	CHECK(strchr(e.msg, '\n') == NULL);
	CHECK_INT(f.nitems, 0);
	CHECK(f.items == NULL && f.title == NULL);

	CHECK_INT(parse_text("<rss version=\"2.0\"><channel><title>x</title>", &f, &e),
		  BB_ERR_INVALID);
	CHECK(strncmp(e.msg, "feed: line 1: ", 14) == 0);
	CHECK_INT(parse_text("not xml at all", &f, &e), BB_ERR_INVALID);
	CHECK_INT(parse_text("", &f, &e), BB_ERR_INVALID);
	CHECK_INT(
	    parse_text("<rss><channel><title>a &undefined; b</title></channel></rss>", &f, &e),
	    BB_ERR_INVALID);
	CHECK(check_contains(e.msg, "undefined"));
	/* Too deep for libxml2's default limit. */
	{
		size_t n = 300, len = 14;
		char *deep = malloc(n * 3 + 14);

		memcpy(deep, "<rss><channel>", 14);
		for (size_t i = 0; i < n; i++, len += 3)
			memcpy(deep + len, "<a>", 3);
		CHECK_INT(feed_parse(deep, len, &f, &e), BB_ERR_INVALID);
		free(deep);
	}
	feed_clear(&f);
}

static void t_not_a_feed(void)
{
	struct feed f;
	struct err e = {0};

	CHECK_INT(parse_fixture("not-a-feed.html", &f, &e), BB_ERR_INVALID);
	CHECK(check_contains(e.msg, "<html>"));
	CHECK_INT(f.nitems, 0);
	/* RSS 1.0 (RDF), Atom 0.3 and an <rss> without <channel>. */
	CHECK_INT(parse_text("<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" "
			     "xmlns=\"http://purl.org/rss/1.0/\"><channel/></rdf:RDF>",
			     &f, &e),
		  BB_ERR_INVALID);
	CHECK_INT(
	    parse_text("<feed xmlns=\"http://purl.org/atom/ns#\"><title>x</title></feed>", &f, &e),
	    BB_ERR_INVALID);
	CHECK_INT(parse_text("<feed><title>no namespace</title></feed>", &f, &e), BB_ERR_INVALID);
	CHECK_INT(parse_text("<rss version=\"2.0\"><item/></rss>", &f, &e), BB_ERR_INVALID);
	CHECK(check_contains(e.msg, "channel"));
	feed_clear(&f);
}

static void t_empty_feed(void)
{
	struct feed f;
	struct err e = {0};

	CHECK_INT(parse_fixture("empty.xml", &f, &e), BB_OK);
	CHECK_INT(f.nitems, 0);
	CHECK_INT(f.nskipped, 0);
	CHECK(f.items == NULL);
	CHECK_STR(f.title, "Nothing yet");
	CHECK_STR(f.link, "https://empty.example/");
	CHECK(f.language == NULL);
	feed_clear(&f);

	CHECK_INT(parse_text("<feed xmlns=\"http://www.w3.org/2005/Atom\"/>", &f, &e), BB_OK);
	CHECK_INT(f.nitems, 0);
	CHECK_STR(f.title, "");
	CHECK(f.link == NULL);
	feed_clear(&f);
}

/* Another encoding than UTF-8 comes out as UTF-8. */
static void t_encoding(void)
{
	const char *latin1 = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
			     "<rss version=\"2.0\"><channel><title>Caf\xe9</title><item>"
			     "<title>\xc9t\xe9</title><guid>e</guid>"
			     "<description>&lt;p&gt;cr\xe8me&lt;/p&gt;</description>"
			     "</item></channel></rss>";
	struct feed f;
	struct err e = {0};

	CHECK_INT(parse_text(latin1, &f, &e), BB_OK);
	CHECK_STR(f.title, "Café");
	CHECK_INT(f.nitems, 1);
	if (f.nitems == 1) {
		CHECK_STR(f.items[0].title, "Été");
		CHECK_STR(f.items[0].content, "<p>crème</p>");
	}
	feed_clear(&f);
}

/* ---- hostile documents ------------------------------------------------ */

/* A loopback listener: whether anything connected to it. */
static int listener(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 8) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
		abort();
	*port = ntohs(a.sin_port);
	return fd;
}

static bool connected(int fd)
{
	int c = accept(fd, NULL, NULL);

	if (c >= 0)
		close(c);
	return c >= 0;
}

static void t_xxe_file(void)
{
	char path[512], doc[2048];
	struct feed f;
	struct err e = {0};
	char ev[4096];
	int in, w;
	double t0;

	/* The entity of the fixture names /etc/passwd. */
	t0 = now();
	CHECK_INT(parse_fixture("xxe-file.xml", &f, &e), BB_ERR_INVALID);
	CHECK(now() - t0 < 1.0);
	CHECK(strncmp(e.msg, "feed: line 3: ", 14) == 0);
	CHECK(check_contains(e.msg, "entity declarations are refused"));
	CHECK(!check_contains(e.msg, "root:"));
	CHECK_INT(f.nitems, 0);

	/* A file we watch: it must not even be opened. */
	snprintf(path, sizeof(path), "%s/feeds/secret.txt", BB_TEST_DATA);
	in = inotify_init1(IN_NONBLOCK);
	CHECK(in >= 0);
	w = inotify_add_watch(in, path, IN_OPEN | IN_ACCESS);
	CHECK(w >= 0);
	snprintf(doc, sizeof(doc),
		 "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [<!ENTITY s SYSTEM \"file://%s\">]>\n"
		 "<rss version=\"2.0\"><channel><title>&s;</title><item><guid>s</guid>"
		 "<title>&s;</title></item></channel></rss>",
		 path);
	CHECK_INT(parse_text(doc, &f, &e), BB_ERR_INVALID);
	CHECK(!check_contains(e.msg, "SECRET"));
	CHECK(read(in, ev, sizeof(ev)) < 0); /* no event: never opened */
	/* Parameter entities, unparsed entities: refused alike. */
	snprintf(doc, sizeof(doc),
		 "<!DOCTYPE rss [<!ENTITY %% p SYSTEM \"file://%s\"> %%p;]>\n"
		 "<rss version=\"2.0\"><channel><title>t</title></channel></rss>",
		 path);
	CHECK_INT(parse_text(doc, &f, &e), BB_ERR_INVALID);
	snprintf(doc, sizeof(doc),
		 "<!DOCTYPE rss [<!NOTATION n SYSTEM \"x\"><!ENTITY u SYSTEM \"file://%s\" "
		 "NDATA n>]>\n<rss version=\"2.0\"><channel><title>t</title></channel></rss>",
		 path);
	CHECK_INT(parse_text(doc, &f, &e), BB_ERR_INVALID);
	CHECK(read(in, ev, sizeof(ev)) < 0);
	if (in >= 0)
		close(in);
	feed_clear(&f);
}

static void t_xxe_http(void)
{
	char doc[2048];
	struct feed f;
	struct err e = {0};
	int port, fd = listener(&port);
	double t0 = now();

	snprintf(doc, sizeof(doc),
		 "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n"
		 "<!ENTITY x SYSTEM \"http://127.0.0.1:%d/evil.xml\">]>\n"
		 "<rss version=\"2.0\"><channel><title>&x;</title><item><guid>h</guid>"
		 "<title>&x;</title></item></channel></rss>",
		 port);
	CHECK_INT(parse_text(doc, &f, &e), BB_ERR_INVALID);
	CHECK(check_contains(e.msg, "entity declarations are refused"));
	CHECK(!connected(fd));

	/* An external DTD without entity declarations is allowed, never
	 * fetched, and its entities stay unknown. */
	snprintf(doc, sizeof(doc),
		 "<?xml version=\"1.0\"?>\n<!DOCTYPE rss PUBLIC \"-//Netscape Communications//DTD "
		 "RSS 0.91//EN\" \"http://127.0.0.1:%d/rss-0.91.dtd\">\n"
		 "<rss version=\"0.91\"><channel><title>Old</title><item><title>A</title>"
		 "<link>https://old.example/a</link></item></channel></rss>",
		 port);
	CHECK_INT(parse_text(doc, &f, &e), BB_OK);
	CHECK_INT(f.nitems, 1);
	CHECK_STR(f.title, "Old");
	CHECK(!connected(fd));
	CHECK(now() - t0 < 1.0);
	close(fd);
	feed_clear(&f);
}

static void t_billion_laughs(void)
{
	struct feed f;
	struct err e = {0};
	double t0 = now();

	CHECK_INT(parse_fixture("billion-laughs.xml", &f, &e), BB_ERR_INVALID);
	CHECK(check_contains(e.msg, "entity declarations are refused"));
	CHECK(strncmp(e.msg, "feed: line 3: ", 14) == 0);
	CHECK_INT(f.nitems, 0);
	/* Quadratic blowup: one big entity used many times. */
	{
		size_t big = 50000, uses = 50000, len = 0;
		char *doc = malloc(big + uses * 3 + 256);

		len += (size_t)snprintf(doc, 64, "<!DOCTYPE r [<!ENTITY a \"");
		memset(doc + len, 'a', big);
		len += big;
		len += (size_t)snprintf(doc + len, 64, "\">]><rss><channel><title>");
		for (size_t i = 0; i < uses; i++, len += 3)
			memcpy(doc + len, "&a;", 3);
		len += (size_t)snprintf(doc + len, 64, "</title></channel></rss>");
		CHECK_INT(feed_parse(doc, len, &f, &e), BB_ERR_INVALID);
		free(doc);
	}
	CHECK(now() - t0 < 1.0);
	feed_clear(&f);
}

/* ---- limits ----------------------------------------------------------- */

static void t_too_big(void)
{
	size_t len = 50 * 1024 * 1024;
	char *data = malloc(len);
	struct feed f;
	struct err e = {0};
	double t0;

	CHECK(data != NULL);
	if (data == NULL)
		return;
	/* Well-formed start, then junk: parsing it would say INVALID. */
	memset(data, 'x', len);
	memcpy(data, "<rss><channel>", 14);
	t0 = now();
	CHECK_INT(feed_parse(data, len, &f, &e), BB_ERR_LIMIT);
	CHECK(now() - t0 < 0.5); /* a length check, not a parse */
	CHECK(check_contains(e.msg, "52428800"));
	CHECK_INT(f.nitems, 0);
	CHECK_INT(feed_parse(data, FEED_BYTES_MAX + 1, &f, &e), BB_ERR_LIMIT);
	CHECK_INT(feed_parse(data, FEED_BYTES_MAX, &f, &e), BB_ERR_INVALID);
	free(data);
}

/* A feed of n items "<item><guid>g%zu</guid>...</item>" in a buffer. */
static char *many_items(size_t n, size_t *len)
{
	size_t cap = 128 + n * 128, used = 0;
	char *s = malloc(cap);

	used += (size_t)snprintf(s, cap, "<rss version=\"2.0\"><channel><title>Many</title>\n");
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(s + used, cap - used,
					 "<item><title>Item %zu</title><guid>g%zu</guid>"
					 "<description>d</description></item>\n",
					 i, i);
	used += (size_t)snprintf(s + used, cap - used, "</channel></rss>\n");
	*len = used;
	return s;
}

static void t_many_items(void)
{
	size_t len;
	char *data = many_items(2000, &len);
	struct feed f;
	struct err e = {0};
	double t0 = now();

	CHECK_INT(feed_parse(data, len, &f, &e), BB_OK);
	CHECK(now() - t0 < 2.0);
	CHECK_INT(f.nitems, FEED_ITEMS_MAX);
	CHECK_INT(f.nskipped, 2000 - FEED_ITEMS_MAX);
	if (f.nitems == FEED_ITEMS_MAX) {
		CHECK_STR(f.items[0].guid, "g0");
		CHECK_STR(f.items[FEED_ITEMS_MAX - 1].guid, "g499");
		CHECK_STR(f.items[FEED_ITEMS_MAX - 1].title, "Item 499");
		CHECK_STR(f.items[FEED_ITEMS_MAX - 1].content, "d");
	}
	feed_clear(&f);
	free(data);
}

/* A one-item RSS feed around the given item body (caller frees). */
static char *one_item(const char *before, size_t fill, char c, const char *after)
{
	size_t n = strlen(before) + fill + strlen(after) + 128;
	char *s = malloc(n);
	size_t used = (size_t)snprintf(s, n,
				       "<rss version=\"2.0\"><channel><title>T</title>"
				       "<item><guid>ok</guid></item><item>%s",
				       before);

	memset(s + used, c, fill);
	used += fill;
	snprintf(s + used, n - used, "%s</item></channel></rss>", after);
	return s;
}

static void t_field_limits(void)
{
	struct feed f;
	struct err e = {0};
	char *doc;
	size_t n;

	/* A long title is cut at a UTF-8 boundary: 700 "é" are 1400 bytes. */
	{
		char title[1500] = "<guid>t</guid><title>";

		n = strlen(title);
		for (int i = 0; i < 700; i++, n += 2)
			memcpy(title + n, "\xc3\xa9", 2);
		memcpy(title + n, "</title>", 9);
		doc = one_item(title, 0, ' ', "");
		CHECK_INT(parse_text(doc, &f, &e), BB_OK);
		CHECK_INT(f.nitems, 2);
		if (f.nitems == 2) {
			CHECK_INT(strlen(f.items[1].title), FEED_TEXT_MAX);
			CHECK(strncmp(f.items[1].title + FEED_TEXT_MAX - 2, "\xc3\xa9", 2) == 0);
		}
		feed_clear(&f);
		free(doc);
		/* Odd: the cut must step back over a split character. */
		memmove(title + 21, title + 22, strlen(title + 22) + 1);
		title[21] = 'x';
		doc = one_item(title, 0, ' ', "");
		CHECK_INT(parse_text(doc, &f, &e), BB_OK);
		if (f.nitems == 2)
			CHECK_INT(strlen(f.items[1].title), FEED_TEXT_MAX - 1);
		feed_clear(&f);
		free(doc);
	}
	/* Content over FEED_HTML_MAX: that item is left out, the other kept. */
	doc = one_item("<guid>big</guid><description>", FEED_HTML_MAX + 1, 'a', "</description>");
	CHECK_INT(parse_text(doc, &f, &e), BB_OK);
	CHECK_INT(f.nitems, 1);
	CHECK_INT(f.nskipped, 1);
	feed_clear(&f);
	free(doc);
	/* Exactly FEED_HTML_MAX is fine. */
	doc = one_item("<guid>big</guid><description>", FEED_HTML_MAX, 'a', "</description>");
	CHECK_INT(parse_text(doc, &f, &e), BB_OK);
	CHECK_INT(f.nitems, 2);
	if (f.nitems == 2)
		CHECK_INT(strlen(f.items[1].content), FEED_HTML_MAX);
	feed_clear(&f);
	free(doc);
	/* URLs that grow the HTML past the limit by resolution. */
	{
		static const char head[] = "<guid>grow</guid><link>https://grow.example/a-long-"
					   "path-to-make-every-link-longer/</link><description>";
		static const char link[] = "&lt;a href=x&gt;&lt;/a&gt;"; /* 14 bytes as text */
		size_t count = 60000, len = sizeof(head) - 1;
		char *body = malloc(count * (sizeof(link) - 1) + sizeof(head));

		memcpy(body, head, len);
		for (size_t i = 0; i < count; i++, len += sizeof(link) - 1)
			memcpy(body + len, link, sizeof(link) - 1);
		body[len] = '\0';
		doc = one_item(body, 0, ' ', "</description>");
		CHECK_INT(parse_text(doc, &f, &e), BB_OK);
		CHECK_INT(f.nitems, 1);
		CHECK_INT(f.nskipped, 1);
		feed_clear(&f);
		free(doc);
		free(body);
	}
	/* A guid over FEED_URL_MAX: left out. */
	doc = one_item("<guid>", FEED_URL_MAX + 1, 'g', "</guid>");
	CHECK_INT(parse_text(doc, &f, &e), BB_OK);
	CHECK_INT(f.nitems, 1);
	CHECK_INT(f.nskipped, 1);
	feed_clear(&f);
	free(doc);
	/* At most POST_TAGS_MAX categories, duplicates in any case dropped. */
	{
		char cats[8192] = "<guid>tags</guid><category>Médias</category>"
				  "<category>mÉDIAS</category><category>  </category>";

		n = strlen(cats);
		for (int i = 0; i < 40; i++)
			n += (size_t)snprintf(cats + n, sizeof(cats) - n,
					      "<category>tag %d</category>", i);
		doc = one_item(cats, 0, ' ', "");
		CHECK_INT(parse_text(doc, &f, &e), BB_OK);
		if (f.nitems == 2) {
			CHECK_INT(f.items[1].ntags, POST_TAGS_MAX);
			CHECK_STR(f.items[1].tags[0], "Médias");
			CHECK_STR(f.items[1].tags[1], "tag 0");
			CHECK_STR(f.items[1].tags[POST_TAGS_MAX - 1], "tag 30");
		}
		feed_clear(&f);
		free(doc);
	}
}

/* ---- dates ------------------------------------------------------------ */

static void t_rss_dates(void)
{
	static const struct {
		const char *date;
		time_t t;
	} dates[] = {
	    {"Mon, 04 Nov 2013 09:12:00 +0000", 1383556320},
	    {"Mon, 04 Nov 2013 09:12:00 GMT", 1383556320},
	    {"Mon, 04 Nov 2013 04:12:00 EST", 1383556320},
	    {"Mon, 04 Nov 2013 02:12:00 PDT", 1383556320},
	    {"Mon, 04 Nov 2013 10:12:00 +0100", 1383556320},
	    {"04 Nov 2013 09:12:00 +0000", 1383556320},
	    {"Mon, 4 Nov 13 09:12 GMT", 1383556320},
	    {"\n\t\tMon, 04 Nov 2013 09:12:00 +0000\n", 1383556320},
	    {"2013-11-04T09:12:00Z", 1383556320}, /* RFC 3339 where it does not belong */
	    {"yesterday", 0},
	    {"", 0},
	};
	char doc[512];
	struct feed f;
	struct err e = {0};

	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		snprintf(doc, sizeof(doc),
			 "<rss version=\"2.0\"><channel><title>D</title><item><guid>d</guid>"
			 "<pubDate>%s</pubDate></item></channel></rss>",
			 dates[i].date);
		CHECK_INT(parse_text(doc, &f, &e), BB_OK);
		if (f.nitems != 1 || f.items[0].published != dates[i].t ||
		    f.items[0].updated != dates[i].t)
			check_fail(__FILE__, __LINE__, "pubDate \"%s\": got %lld, want %lld",
				   dates[i].date, f.nitems ? (long long)f.items[0].published : -1LL,
				   (long long)dates[i].t);
		feed_clear(&f);
	}
	/* dc:date when there is no pubDate. */
	CHECK_INT(parse_text("<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
			     "<channel><item><guid>d</guid><dc:date>2013-11-04T10:12:00+01:00"
			     "</dc:date></item></channel></rss>",
			     &f, &e),
		  BB_OK);
	CHECK(f.nitems == 1 && f.items[0].published == 1383556320);
	feed_clear(&f);
}

/* ---- threads and stderr ----------------------------------------------- */

struct worker {
	const char *name;
	enum bb_rc want;
	int runs;
	int failures;
};

static void *work(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < w->runs; i++) {
		struct feed f;
		struct err e = {0};
		enum bb_rc rc = parse_fixture(w->name, &f, &e);

		if (rc != w->want)
			w->failures++;
		else if (rc == BB_OK && (f.nitems != 10 ||
					 strcmp(f.items[0].guid, "https://blog.example/?p=14000")))
			w->failures++;
		else if (rc != BB_OK && strncmp(e.msg, "feed: line 7: ", 14) != 0)
			w->failures++;
		feed_clear(&f);
	}
	return NULL;
}

static void t_threads(void)
{
	struct worker w[3] = {{"blog-feed.xml", BB_OK, 30, 0},
			      {"blog-feed.xml", BB_OK, 30, 0},
			      {"malformed.xml", BB_ERR_INVALID, 200, 0}};
	pthread_t th[3];

	for (int i = 0; i < 3; i++)
		CHECK_INT(pthread_create(&th[i], NULL, work, &w[i]), 0);
	for (int i = 0; i < 3; i++) {
		CHECK_INT(pthread_join(th[i], NULL), 0);
		CHECK_INT(w[i].failures, 0);
	}
}

/* Malformed XML, refused entities, broken HTML: nothing on stderr. */
static void t_quiet(void)
{
	char path[] = "/tmp/bb-feed-stderr-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	struct feed f;
	struct err e = {0};
	struct stat st;

	CHECK(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	CHECK_INT(parse_fixture("malformed.xml", &f, &e), BB_ERR_INVALID);
	CHECK_INT(parse_fixture("xxe-file.xml", &f, &e), BB_ERR_INVALID);
	CHECK_INT(parse_fixture("billion-laughs.xml", &f, &e), BB_ERR_INVALID);
	CHECK_INT(parse_text("<rss><channel><title>x &nbsp; y</title></channel></rss>", &f, &e),
		  BB_ERR_INVALID);
	CHECK_INT(parse_text("<?xml version=\"1.0\" encoding=\"bogus-charset\"?><rss/>", &f, &e),
		  BB_ERR_INVALID);
	CHECK_INT(parse_text("<rss><channel><item><guid>h</guid><description>&lt;p&gt;&lt;b&gt;"
			     "&lt;/i&gt;&lt;/zz&gt;&lt;foo:bar&gt;&lt;/p&gt;&lt;p&gt;&amp;bogus;"
			     "</description></item></channel></rss>",
			     &f, &e),
		  BB_OK);
	feed_clear(&f);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	CHECK(fstat(fd, &st) == 0);
	CHECK_INT(st.st_size, 0);
	close(fd);
	unlink(path);
}

static const struct check_case cases[] = {
    {"demo_feed", t_demo_feed},
    {"demo_content_faithful", t_demo_content_faithful},
    {"atom", t_atom},
    {"images", t_images},
    {"relative_urls", t_relative_urls},
    {"identity", t_identity},
    {"malformed", t_malformed},
    {"not_a_feed", t_not_a_feed},
    {"empty_feed", t_empty_feed},
    {"encoding", t_encoding},
    {"xxe_file", t_xxe_file},
    {"xxe_http", t_xxe_http},
    {"billion_laughs", t_billion_laughs},
    {"too_big", t_too_big},
    {"many_items", t_many_items},
    {"field_limits", t_field_limits},
    {"rss_dates", t_rss_dates},
    {"threads", t_threads},
    {"quiet", t_quiet},
};

CHECK_MAIN(cases)
