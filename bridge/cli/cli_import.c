/*
 * cli_import.c — `blogbridge import FILE|URL [--progress] [--dry-run]`:
 * the blog's older posts added to the outbox without being delivered, so
 * their ids exist (an old post's URL pasted into Mastodon finds it, and
 * replies to old posts become comments).  The source is a WordPress export
 * (WXR, read as a stream by feed/wxr.c), a feed file, or a feed URL read
 * page by page: its RFC 5005 "next" / "prev-archive" links, else
 * WordPress's ?paged=N, one request at a time with a pause between pages.
 *
 * Posts go through publish_items with deliver_new false, like the silent
 * first poll, in small batches.  A post whose guid is already stored is
 * counted as there and left alone (not even an Update: an import never
 * reaches the followers), which makes a second run add nothing and an
 * interrupted run resumable: each post is committed on its own.
 * --dry-run counts what would be imported.  --progress shows a bar on a
 * terminal (posts, share of the file, rate, time left), a plain line per
 * page or per 100 posts otherwise; a summary ends every run.
 */
#include "cli.h"
#include "feed.h"
#include "feed_fetch.h"
#include "publish.h"
#include "store.h"
#include "wxr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define IMPORT_BATCH 32
#define IMPORT_PAGES_MAX 10000
#define IMPORT_PAGE_PAUSE_S 1
#define IMPORT_REASONS_MAX 8
#define IMPORT_SNIFF_BYTES 4096

struct import_run {
	struct app *app;
	struct publish_env env;
	bool dry_run, progress, tty;
	size_t read, imported, existing, skipped;
	struct {
		const char *why;
		size_t n;
	} reasons[IMPORT_REASONS_MAX];
	size_t nreasons;
	struct post batch[IMPORT_BATCH];
	size_t nbatch;
	time_t started;
	unsigned page;
};

static void import_skip(struct import_run *run, const char *why)
{
	size_t i;

	run->skipped++;
	for (i = 0; i < run->nreasons; i++)
		if (strcmp(run->reasons[i].why, why) == 0)
			break;
	if (i == run->nreasons && run->nreasons < IMPORT_REASONS_MAX)
		run->reasons[run->nreasons++].why = why;
	if (i < run->nreasons)
		run->reasons[i].n++;
}

/* Stores the batch (nothing delivered), and empties it. */
static enum bb_rc import_flush(struct import_run *run, struct err *e)
{
	struct publish_counts counts = {0};
	enum bb_rc rc = BB_OK;

	if (run->nbatch > 0)
		rc = publish_items(&run->env, run->batch, run->nbatch, &counts, e);
	run->imported += counts.imported;
	/* Stored meanwhile by a running poll: there already. */
	run->existing += counts.unchanged + counts.updated + counts.created;
	for (size_t i = 0; i < run->nbatch; i++)
		post_clear(&run->batch[i]);
	run->nbatch = 0;
	return rc;
}

/* Takes post (cleared on every path): counted as there, or batched. */
static enum bb_rc import_post(struct import_run *run, struct post *post, struct err *e)
{
	struct store_post sp = {0};
	enum bb_rc rc = store_post_by_guid(run->env.st, post->guid, &sp, e);
	bool dup = false;

	store_post_clear(&sp);
	for (size_t i = 0; i < run->nbatch && !dup; i++)
		dup = strcmp(run->batch[i].guid, post->guid) == 0;
	if (rc == BB_OK || dup) {
		run->existing++;
		post_clear(post);
		return BB_OK;
	}
	if (rc != BB_ERR_NOTFOUND) {
		post_clear(post);
		return rc;
	}
	if (run->dry_run) {
		run->imported++;
		post_clear(post);
		return BB_OK;
	}
	run->batch[run->nbatch++] = *post;
	memset(post, 0, sizeof(*post));
	return run->nbatch == IMPORT_BATCH ? import_flush(run, e) : BB_OK;
}

/* The progress line: a bar on a terminal (share of done/total when
 * known), a plain line otherwise (every 100 posts, or each page). */
static void import_show(struct import_run *run, uint64_t done, uint64_t total, bool force)
{
	double elapsed = difftime(time(NULL), run->started);
	double rate = elapsed > 0 ? (double)run->read / elapsed : 0;

	if (!run->progress)
		return;
	if (run->tty) {
		char bar[31];
		double share = total > 0 ? (double)done / (double)total : 0;
		size_t fill = (size_t)(share * 30);
		double left = share > 0 ? elapsed / share - elapsed : 0;

		memset(bar, '#', fill > 30 ? 30 : fill);
		memset(bar + (fill > 30 ? 30 : fill), '.', 30 - (fill > 30 ? 30 : fill));
		bar[30] = '\0';
		fprintf(stderr, "\r[%s] %3.0f%%  %zu posts  %.0f/s  %.0f s left ", bar, share * 100,
			run->read, rate, left);
		return;
	}
	if (force || run->read % 100 == 0)
		fprintf(stderr, "import: %zu posts read%s%.0f%s\n", run->read,
			total > 0 ? " (" : "", total > 0 ? (double)done * 100 / (double)total : 0,
			total > 0 ? "%)" : "");
}

/* ---- the sources ------------------------------------------------------ */

static enum bb_rc import_wxr(struct import_run *run, const char *path, struct err *e)
{
	struct wxr *w = NULL;
	struct post post;
	const char *skip;
	uint64_t done = 0, total = 0;
	enum bb_rc rc = wxr_open(path, &w, e);

	while (rc == BB_OK && (rc = wxr_next(w, &post, &skip, e)) == BB_OK) {
		run->read++;
		if (skip)
			import_skip(run, skip);
		else
			rc = import_post(run, &post, e);
		wxr_progress(w, &done, &total);
		import_show(run, done, total, false);
	}
	if (rc == BB_ERR_NOTFOUND)
		rc = BB_OK;
	if (w)
		import_show(run, total, total, true);
	wxr_close(w);
	return rc;
}

/* The items of one feed document, each imported or counted as there. */
static enum bb_rc import_feed_doc(struct import_run *run, const struct buf *body, struct err *e)
{
	struct feed f = {0};
	enum bb_rc rc = feed_parse(body->data ? body->data : "", body->len, &f, e);

	for (size_t i = 0; rc == BB_OK && i < f.nitems; i++) {
		run->read++;
		rc = import_post(run, &f.items[i], e);
	}
	for (size_t i = 0; i < f.nskipped; i++)
		import_skip(run, "feed item without link or over a limit");
	feed_clear(&f);
	return rc;
}

/* url with its WordPress page number (malloc'd). */
static char *paged_url(const char *url, unsigned page)
{
	size_t n = strlen(url) + 32;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s%spaged=%u", url, strchr(url, '?') ? "&" : "?", page);
	return s;
}

/* A feed URL, page after page. */
static enum bb_rc import_feed_url(struct import_run *run, const char *url, struct err *e)
{
	char *next = strdup(url), *link = NULL;
	bool wordpress = false;
	enum bb_rc rc = next ? BB_OK : err_set(e, BB_ERR_NOMEM, "out of memory");

	for (run->page = 1; rc == BB_OK && next && run->page <= IMPORT_PAGES_MAX; run->page++) {
		struct feed_doc d = {0};
		struct feed_fetch_opts o = {.url = next, .user_agent = run->app->fetch.user_agent};
		size_t read = run->read, there = run->existing;
		struct err fe = {0};

		if (run->page > 1)
			sleep(IMPORT_PAGE_PAUSE_S); /* politely: one page at a time */
		buf_init(&d.body, FEED_BYTES_MAX);
		rc = feed_fetch_http(&o, &d, &fe);
		/* Past WordPress's last page: a 404 ends the walk. */
		if (rc == BB_ERR_IO && wordpress) {
			feed_doc_clear(&d);
			rc = BB_OK;
			break;
		}
		if (rc != BB_OK)
			rc = err_set(e, rc, "%s", fe.msg);
		if (rc == BB_OK)
			rc = wxr_feed_next(d.body.data ? d.body.data : "", d.body.len, next, &link,
					   e);
		if (rc == BB_OK)
			rc = import_feed_doc(run, &d.body, e);
		feed_doc_clear(&d);
		import_show(run, 0, 0, true);
		free(next);
		next = link;
		link = NULL;
		/* No RFC 5005 link: WordPress's pages, while they bring posts
		 * not seen before. */
		if (rc == BB_OK && next == NULL && (run->page == 1 || wordpress) &&
		    run->read - read > run->existing - there) {
			wordpress = true;
			next = paged_url(url, run->page + 1);
			if (next == NULL)
				rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		}
	}
	free(next);
	return rc;
}

/* A file: a WXR export, else a feed. */
static enum bb_rc import_file(struct import_run *run, const char *path, struct err *e)
{
	char head[IMPORT_SNIFF_BYTES];
	struct feed_doc d = {0};
	FILE *f = fopen(path, "rb");
	size_t n;
	enum bb_rc rc;

	if (f == NULL)
		return err_set(e, BB_ERR_IO, "%s: cannot be opened", path);
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	if (wxr_sniff(head, n))
		return import_wxr(run, path, e);
	buf_init(&d.body, FEED_BYTES_MAX);
	rc = feed_fetch_file(path, NULL, time(NULL), &d, e);
	if (rc == BB_OK)
		rc = import_feed_doc(run, &d.body, e);
	feed_doc_clear(&d);
	return rc;
}

/* ---- the command ------------------------------------------------------ */

static void import_summary(const struct import_run *run)
{
	if (run->progress && run->tty)
		fputc('\n', stderr);
	printf("%s %zu, already there %zu, skipped %zu", run->dry_run ? "would import" : "imported",
	       run->imported, run->existing, run->skipped);
	for (size_t i = 0; i < run->nreasons; i++)
		printf("%s%s %zu", i == 0 ? " (" : ", ", run->reasons[i].why, run->reasons[i].n);
	printf("%s\n", run->nreasons ? ")" : "");
}

int cmd_import(struct cli *cli)
{
	static struct import_run run; /* the batch is large: not on the stack */
	const char *source = NULL;
	struct err e = {0};
	char *moved = NULL;
	int status = 0;
	enum bb_rc rc;

	memset(&run, 0, sizeof(run));
	for (int i = 0; i < cli->argc; i++) {
		if (strcmp(cli->argv[i], "--progress") == 0)
			run.progress = true;
		else if (strcmp(cli->argv[i], "--dry-run") == 0)
			run.dry_run = true;
		else if (source == NULL && cli->argv[i][0] != '-')
			source = cli->argv[i];
		else
			source = NULL, i = cli->argc;
	}
	if (source == NULL) {
		cli_fail("usage: blogbridge import FILE|URL [--progress] [--dry-run]");
		return EXIT_USAGE;
	}
	if ((run.app = cli_app_open(cli, &status)) == NULL)
		return status;
	run.tty = isatty(STDERR_FILENO);
	run.started = time(NULL);
	run.env = (struct publish_env){
	    .site = &run.app->site,
	    .now = run.started,
	    .deliver_new = false,
	    .opt = {.kind = run.app->cfg->object_type == CONFIG_OBJECT_ARTICLE ? OBJECT_ARTICLE
									       : OBJECT_NOTE,
		    .excerpt = run.app->cfg->note_content == CONFIG_NOTE_EXCERPT,
		    .language = run.app->cfg->language,
		    .tag_url = run.app->cfg->tag_url},
	};
	run.env.st = app_store(run.app, &e);
	rc = run.env.st == NULL ? e.code : store_moved_to_get(run.env.st, &moved, &e);
	if (rc == BB_OK && moved != NULL)
		/* publish.c would store none of it (move.h): said once, here. */
		rc = err_set(&e, BB_ERR_FORBIDDEN, "the blog has moved to %s: nothing is added",
			     moved);
	else if (rc == BB_OK &&
		 (strncmp(source, "http://", 7) == 0 || strncmp(source, "https://", 8) == 0))
		rc = import_feed_url(&run, source, &e);
	else if (rc == BB_OK)
		rc = import_file(&run, source, &e);
	/* What was read before a failure is stored: a new run resumes. */
	if (rc == BB_OK)
		rc = import_flush(&run, &e);
	else
		(void)import_flush(&run, &(struct err){0});
	import_summary(&run);
	if (rc != BB_OK) {
		cli_fail("import: %s", e.msg);
		status = EXIT_RUNTIME;
	}
	free(moved);
	app_free(run.app);
	return status;
}
