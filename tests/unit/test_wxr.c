/*
 * test_wxr.c — the WordPress export reader (feed/wxr.c) on the fixture
 * tests/data/import/export.wxr: published posts read with their fields
 * (CDATA, French text, paragraphs made, URLs resolved, tags, dates), the
 * draft, the page and the attachment skipped with their reasons; a large
 * export read in bounded memory; a DOCTYPE refused; and the RFC 5005 page
 * links of paged feeds.
 */
#include "check.h"
#include "wxr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define FIXTURE BB_TEST_DATA "/import/export.wxr"

/* Under a sanitizer, freed memory is held in quarantine (ASan) or shadowed
 * (TSan): the process's peak size says nothing of the reader's. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RSS_MEANINGFUL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RSS_MEANINGFUL 0
#endif
#endif
#ifndef RSS_MEANINGFUL
#define RSS_MEANINGFUL 1
#endif

static void t_fixture(void)
{
	static const char *const want[] = {"post", "draft", "page", "attachment",
					   "post", "post",  "post"};
	struct wxr *w = NULL;
	struct post p;
	const char *skip;
	struct err e = {0};
	size_t n = 0;
	uint64_t done, total;
	enum bb_rc rc;

	CHECK_INT(wxr_open(FIXTURE, &w, &e), BB_OK);
	if (w == NULL)
		return;
	while ((rc = wxr_next(w, &p, &skip, &e)) == BB_OK) {
		if (n < sizeof(want) / sizeof(want[0])) {
			if (strcmp(want[n], "post") == 0)
				CHECK(skip == NULL);
			else
				CHECK_STR(skip ? skip : "(none)", want[n]);
		}
		if (n == 0 && skip == NULL) {
			CHECK_STR(p.guid, "https://blog.test/?p=101");
			CHECK_STR(p.url, "https://blog.test/2009/03/le-cafe-de-la-gare/");
			CHECK_STR(p.title, "Le café de la gare");
			CHECK_STR(p.author, "steph");
			CHECK_STR(p.language, "fr-CH");
			CHECK_INT(p.published, 1237109400); /* 2009-03-15 09:30:00 UTC */
			CHECK_INT(p.updated, 1237190400);   /* 2009-03-16 08:00:00 UTC */
			CHECK(check_contains(
			    p.content, "<p>Un café crème, s'il vous plaît — « à emporter ».</p>"));
			CHECK(
			    check_contains(p.content, "href=\"https://blog.test/2009/02/avant/\""));
			CHECK(check_contains(p.content, "<br>"));
			CHECK(p.summary == NULL);
			CHECK_INT(p.ntags, 2);
			if (p.ntags == 2) {
				CHECK_STR(p.tags[0], "Voyages");
				CHECK_STR(p.tags[1], "café");
			}
			CHECK_INT(p.nimages, 1);
			if (p.nimages == 1)
				CHECK_STR(p.images[0].url,
					  "https://blog.test/wp-content/uploads/2009/03/cafe.jpg");
		}
		if (n == 4 && skip == NULL) {
			/* Block editor content is kept as it is, not put in a <p>. */
			CHECK(check_contains(p.content, "<p>Written with the block editor.</p>"));
			CHECK(!check_contains(p.content, "<p><!--"));
			CHECK_STR(p.summary, "The block editor.");
			CHECK(p.url != NULL);
		}
		if (n == 6 && skip == NULL)
			CHECK_STR(p.content, "<p>Line one<br>\nline two</p>\n");
		post_clear(&p);
		n++;
	}
	CHECK_INT(rc, BB_ERR_NOTFOUND);
	CHECK_INT(n, 7);
	wxr_progress(w, &done, &total);
	CHECK(total > 0);
	CHECK(done > 0 && done <= total);
	wxr_close(w);
}

/* An export of 2,000 posts of 20 KB each (40 MB) is read with the
 * process's memory growing far less than the file. */
static void t_bounded_memory(void)
{
	const char *dir = check_tmpdir();
	char path[4096], *body = malloc(20001);
	struct rusage before, after;
	struct wxr *w = NULL;
	struct err e = {0};
	struct post p;
	const char *skip;
	size_t posts = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/big.wxr", dir);
	f = fopen(path, "w");
	CHECK(f != NULL && body != NULL);
	if (f == NULL || body == NULL) {
		free(body);
		return;
	}
	memset(body, 'x', 20000);
	body[20000] = '\0';
	fprintf(f, "<?xml version=\"1.0\"?>\n<rss version=\"2.0\" "
		   "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" "
		   "xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel><title>t</title>\n");
	for (int i = 0; i < 2000; i++)
		fprintf(f,
			"<item><title>Post %d</title><link>https://blog.test/%d/</link>"
			"<guid>https://blog.test/?p=%d</guid><content:encoded><![CDATA[%s]]>"
			"</content:encoded><wp:status>%s</wp:status>"
			"<wp:post_type>post</wp:post_type></item>\n",
			i, i, i, body, i % 100 == 0 ? "draft" : "publish");
	fprintf(f, "</channel></rss>\n");
	CHECK(fclose(f) == 0);
	free(body);
	CHECK(getrusage(RUSAGE_SELF, &before) == 0);
	CHECK_INT(wxr_open(path, &w, &e), BB_OK);
	while (w && wxr_next(w, &p, &skip, &e) == BB_OK) {
		posts += skip == NULL;
		post_clear(&p);
	}
	wxr_close(w);
	CHECK(getrusage(RUSAGE_SELF, &after) == 0);
	CHECK_INT(posts, 1980);
	/* ru_maxrss is in KiB: less than 16 MB more for a 40 MB file. */
	if (RSS_MEANINGFUL && after.ru_maxrss - before.ru_maxrss >= 16 * 1024)
		check_fail(__FILE__, __LINE__, "max RSS grew by %ld KiB",
			   after.ru_maxrss - before.ru_maxrss);
	check_tmpdir_remove(dir);
}

static void t_refused(void)
{
	const char *dir = check_tmpdir();
	char *path = check_write_file(
	    dir, "lol.wxr",
	    "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [<!ENTITY a \"aaaa\">]>\n"
	    "<rss xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel><item>&a;</item>"
	    "</channel></rss>\n");
	char *bad = check_write_file(dir, "bad.wxr",
				     "<rss xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel>"
				     "<item><title>x</title></item><item><title>y</channel>");
	struct wxr *w = NULL;
	struct err e = {0};
	struct post p;
	const char *skip;
	enum bb_rc rc;

	CHECK_INT(wxr_open(path, &w, &e), BB_OK);
	CHECK_INT(wxr_next(w, &p, &skip, &e), BB_ERR_INVALID);
	CHECK(check_contains(e.msg, "DOCTYPE"));
	wxr_close(w);
	w = NULL;
	/* Malformed XML ends the walk with its line (a small document is
	 * parsed ahead: the first item may not be handed out). */
	CHECK_INT(wxr_open(bad, &w, &e), BB_OK);
	while ((rc = wxr_next(w, &p, &skip, &e)) == BB_OK)
		post_clear(&p);
	CHECK_INT(rc, BB_ERR_INVALID);
	CHECK(check_contains(e.msg, "line 1"));
	wxr_close(w);
	CHECK(wxr_sniff("xmlns:wp=\"http://wordpress.org/export/1.2/\"", 43));
	CHECK(!wxr_sniff("<rss version=\"2.0\">", 19));
	free(path);
	free(bad);
	check_tmpdir_remove(dir);
}

static void expect_next(const char *doc, const char *want)
{
	char *next = NULL;
	struct err e = {0};

	CHECK_INT(wxr_feed_next(doc, strlen(doc), "https://blog.test/feed/?page=1", &next, &e),
		  BB_OK);
	if (want == NULL)
		CHECK(next == NULL);
	else
		CHECK_STR(next ? next : "(none)", want);
	free(next);
}

static void t_feed_next(void)
{
	/* RFC 5005 §3: Atom, rel="next", relative to the page. */
	expect_next("<feed xmlns=\"http://www.w3.org/2005/Atom\"><link rel=\"self\" href=\"x\"/>"
		    "<link rel=\"next\" href=\"?page=2\"/><entry><link rel=\"next\" "
		    "href=\"/not-this\"/></entry></feed>",
		    "https://blog.test/feed/?page=2");
	/* §4: an archived feed's prev-archive, in RSS through atom:link. */
	expect_next("<rss xmlns:atom=\"http://www.w3.org/2005/Atom\"><channel>"
		    "<atom:link rel=\"prev-archive\" href=\"https://blog.test/2009.xml\"/>"
		    "</channel></rss>",
		    "https://blog.test/2009.xml");
	/* next wins over prev-archive, wherever it comes. */
	expect_next(
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\">"
	    "<link rel=\"prev-archive\" href=\"/a\"/><link rel=\"next\" href=\"/n\"/></feed>",
	    "https://blog.test/n");
	/* An entry's links and a link without the Atom namespace: none. */
	expect_next("<rss><channel><link>https://blog.test/</link><item><link>x</link></item>"
		    "</channel></rss>",
		    NULL);
}

static const struct check_case cases[] = {
    {"fixture", t_fixture},
    {"bounded_memory", t_bounded_memory},
    {"refused", t_refused},
    {"feed_next", t_feed_next},
};

CHECK_MAIN(cases)
