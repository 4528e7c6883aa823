/*
 * backfill.c — see backfill.h: reading the replies and context
 * collections of the comments, and importing what answers ours.
 *
 * A pass reads the due rows (store_backfill_due_each) into memory first
 * (a walk must not query the store from its callback), then each row in
 * turn: a collection (its pages, its items) or a comment's object (its
 * collections); what a round reads makes rows for the next (a reply's
 * own replies), BACKFILL_DEPTH_MAX + 2 rounds at most.  The budgets
 * (backfill_budget.c) live in memory, per process: the serve's worker
 * keeps them across passes; a pass of `comments backfill` starts afresh
 * (bounded all the same).
 *
 * Mastodon references (MASTODON.md §7.4): the collection formats read
 * (json_ld_helper.rb:278-307: Collection/CollectionPage with items,
 * OrderedCollection/OrderedCollectionPage with orderedItems, items as
 * URIs or objects), a replies collection on the host of the object
 * owning it and its pages on that host too (json_ld_helper.rb:320-325),
 * its own fetch-all bounds
 * (fetch_all_replies_worker.rb:15-17: 500 pages, 1000 replies, which ours
 * undercut: a blog needs less).
 */
#include "backfill_int.h"
#include "log.h"
#include "remote.h"
#include "url.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BACKFILL_DEFERRED_MAX BACKFILL_ITEMS_MAX
#define ACTOR_FETCH_COST 2 /* an actor document and its WebFinger check */

/* ---- writes ---- */

static enum bb_rc write_job(struct pass *p, backfill_job_fn fn, void *arg, struct err *e)
{
	return p->bf->env.write(p->bf->env.write_arg, fn, arg, e);
}

struct rows_job {
	const struct comments_env *env;
	const json_t *note; /* believed */
	const char *owner;  /* the comment's id */
	int64_t post;
	int depth; /* of the rows made */
	time_t now;
};

/* Adds the note's replies (on the note's host) and context as rows, and
 * marks the comment known (an OBJECT row read now). */
static enum bb_rc rows_job_run(struct store *st, void *arg, struct err *e)
{
	struct rows_job *j = arg;
	const char *replies = bf_id_of(json_object_get(j->note, "replies"));
	const char *context = bf_id_of(json_object_get(j->note, "context"));
	struct store_backfill b = {.owner = (char *)j->owner, .post = j->post, .depth = j->depth};
	enum bb_rc rc;

	if (j->depth <= BACKFILL_DEPTH_MAX && replies && bf_same_host(replies, j->owner) &&
	    !bf_same_host(replies, j->env->site->actor_id)) {
		b.url = (char *)replies;
		b.kind = STORE_BACKFILL_REPLIES;
		rc = store_backfill_add(st, &b, e);
		if (rc != BB_OK)
			return rc;
	}
	if (j->depth <= BACKFILL_DEPTH_MAX && context &&
	    !bf_same_host(context, j->env->site->actor_id) &&
	    (replies == NULL || strcmp(context, replies) != 0)) {
		b.url = (char *)context;
		b.kind = STORE_BACKFILL_CONTEXT;
		rc = store_backfill_add(st, &b, e);
		if (rc != BB_OK)
			return rc;
	}
	b.url = (char *)j->owner;
	b.kind = STORE_BACKFILL_OBJECT;
	b.fetched_at = j->now;
	rc = store_backfill_add(st, &b, e);
	if (rc == BB_OK)
		rc = store_backfill_done(st, j->owner, j->now, STORE_BACKFILL_OK, e);
	return rc;
}

struct done_job {
	const struct store_backfill *row; /* with url, kind, owner, post */
	time_t now;
	enum store_backfill_outcome outcome;
	bool add; /* add the row first (an item) */
};

static enum bb_rc done_job_run(struct store *st, void *arg, struct err *e)
{
	struct done_job *j = arg;
	enum bb_rc rc = BB_OK;

	if (j->add)
		rc = store_backfill_add(st, j->row, e);
	if (rc == BB_OK)
		rc = store_backfill_done(st, j->row->url, j->now, j->outcome, e);
	return rc;
}

static enum bb_rc row_done(struct pass *p, const struct store_backfill *row,
			   enum store_backfill_outcome outcome, struct err *e)
{
	struct done_job j = {row, p->now, outcome, false};

	return write_job(p, done_job_run, &j, e);
}

/* An item fetched and not imported: not fetched again this interval. */
static enum bb_rc item_refused(struct pass *p, const char *id, struct err *e)
{
	struct store_backfill b = {
	    (char *)id, STORE_BACKFILL_ITEM, p->row->owner, p->row->post, p->row->depth, p->now, 0};
	struct done_job j = {&b, p->now, STORE_BACKFILL_OK, true};

	p->stats->refused++;
	return write_job(p, done_job_run, &j, e);
}

struct import_job {
	const struct comments_env *env;
	const struct ap_activity *a;
	const struct comment_prepared *note; /* the believed note, read and reduced */
	const struct store_actor *author;    /* to cache, or NULL */
	int depth;			     /* of the reply's own collections */
	time_t now;
	bool stored; /* out: it is a comment now */
};

/* The reply, applied as an inbox Create's object would be; then its own
 * collections become rows. */
static enum bb_rc import_job_run(struct store *st, void *arg, struct err *e)
{
	struct import_job *j = arg;
	struct store_comment c = {0};
	struct rows_job rj;
	enum bb_rc rc = BB_OK;

	j->stored = false;
	if (j->author != NULL)
		rc = store_actor_put(st, j->author, e);
	if (rc == BB_OK)
		rc = comments_apply(st, j->env, j->a, j->note, NULL, j->now, e);
	if (rc != BB_OK)
		return rc;
	rc = store_comment_get(st, j->a->object.id, &c, e);
	if (rc == BB_ERR_NOTFOUND) {
		err_clear(e);
		return BB_OK;
	}
	if (rc == BB_OK) {
		j->stored = true;
		rj = (struct rows_job){j->env, j->note->object, c.ap_id, c.post, j->depth, j->now};
		rc = rows_job_run(st, &rj, e);
	}
	store_comment_clear(&c);
	return rc;
}

/* ---- items ---- */

/* Whether id is a stored comment already. */
static enum bb_rc comment_known(struct pass *p, const char *id, bool *known, struct err *e)
{
	struct store_comment c = {0};
	enum bb_rc rc;

	*known = false;
	if (id == NULL)
		return BB_OK;
	rc = store_comment_get(p->st, id, &c, e);
	store_comment_clear(&c);
	*known = rc == BB_OK;
	if (rc == BB_ERR_NOTFOUND) {
		err_clear(e);
		rc = BB_OK;
	}
	return rc;
}

/* Imports a believed note when it answers ours; *routed false (nothing
 * done) when it answers nothing stored. */
static enum bb_rc note_import(struct pass *p, json_t *trusted, bool *routed, struct err *e)
{
	const struct comments_env *env = p->bf->env.comments;
	struct ap_activity a = {.type = AP_TYPE_CREATE, .type_name = "Create"};
	struct comment_target t = {0};
	struct store_actor author = {0};
	struct comment_prepared prep;
	const struct comment_note *n = &prep.note;
	struct import_job j;
	bool barred = false, have_author = false;
	enum bb_rc rc;

	*routed = false;
	rc = comment_prepare(&a, trusted, env->site->actor_id, &prep);
	if (rc != BB_OK || !prep.parsed || prep.note.attributed_to == NULL) {
		comment_prepared_clear(&prep);
		return rc == BB_OK ? BB_OK : err_set(e, rc, "preparing a reply: out of memory");
	}
	rc = comments_route(p->st, n->in_reply_to, &t, e);
	comment_target_clear(&t);
	if (rc == BB_ERR_NOTFOUND) {
		err_clear(e);
		comment_prepared_clear(&prep);
		return BB_OK;
	}
	if (rc == BB_OK) {
		*routed = true;
		rc = bf_url_barred(p, n->attributed_to, n->attributed_to, &barred, e);
	}
	if (rc == BB_OK && barred)
		rc = item_refused(p, n->id, e);
	if (rc != BB_OK || barred) {
		comment_prepared_clear(&prep);
		return rc;
	}
	/* Its author's name and avatar, as for a reply that reached the
	 * inbox (there the signature fetched them). */
	rc = store_actor_get(p->st, n->attributed_to, &author, e);
	if (rc == BB_ERR_NOTFOUND) {
		err_clear(e);
		store_actor_clear(&author);
		if (bf_budget_take(p, n->attributed_to, ACTOR_FETCH_COST, e) == BB_OK) {
			rc =
			    remote_actor_fetch(&p->bf->fetch, n->attributed_to, p->now, &author, e);
			have_author = rc == BB_OK;
			bf_host_failed(p, n->attributed_to, rc);
		}
		err_clear(e);
	} else if (rc != BB_OK) {
		comment_prepared_clear(&prep);
		return rc;
	}
	a.id = n->id;
	a.actor = n->attributed_to;
	a.object.id = n->id;
	a.object.json = trusted;
	j = (struct import_job){
	    env, &a, &prep, have_author ? &author : NULL, p->row->depth + 1, p->now, false};
	rc = write_job(p, import_job_run, &j, e);
	store_actor_clear(&author);
	if (rc == BB_OK && j.stored) {
		p->stats->imported++;
		log_info("backfill: comment %s by %s, found in %s", n->id, n->attributed_to,
			 p->row->url);
	} else if (rc == BB_OK) {
		rc = item_refused(p, n->id, e);
	}
	comment_prepared_clear(&prep);
	return rc;
}

/* The copy of item id to believe, in *trusted (NULL: none): embedded as
 * it is when it and its author are on the host that served the page,
 * else what its origin serves (comments_resolve, the inbox's rules). */
static enum bb_rc item_resolve(struct pass *p, const char *id, const json_t *embedded,
			       const char *page_url, json_t **trusted, struct err *e)
{
	struct ap_activity a = {.type = AP_TYPE_CREATE, .type_name = "Create", .actor = ""};
	struct comment_note n;
	struct err ignored = {0};
	enum bb_rc rc;

	*trusted = NULL;
	p->skipped = false;
	a.id = id;
	a.object.id = id;
	if (embedded != NULL && comment_note_parse(embedded, NULL, &n, &ignored) == BB_OK &&
	    n.attributed_to != NULL && strcmp(n.id, id) == 0 && bf_same_host(id, page_url) &&
	    bf_same_host(n.attributed_to, page_url)) {
		a.actor = n.attributed_to;
		a.object.json = (json_t *)embedded;
		return comments_resolve(&p->bf->fetch, &a, trusted, e);
	}
	rc = bf_budget_take(p, id, 1, e);
	if (rc == BB_OK)
		rc = comments_resolve(&p->bf->fetch, &a, trusted, e);
	bf_host_failed(p, id, rc);
	return rc;
}

/* One item of a page served from page_url: a URI, a note, or an activity
 * (its object, by id: an embedded activity vouches for nothing). */
static enum bb_rc item_take(struct pass *p, const json_t *item, const char *page_url, struct err *e)
{
	struct store_backfill seen = {0};
	const json_t *embedded = json_is_object(item) ? item : NULL;
	const char *type = json_string_value(json_object_get(item, "type"));
	const char *id = bf_id_of(item);
	json_t *trusted = NULL;
	bool barred = false, routed = false, known = false;
	enum bb_rc rc;

	if (type && (strcmp(type, "Create") == 0 || strcmp(type, "Update") == 0)) {
		id = bf_id_of(json_object_get(item, "object"));
		embedded = NULL;
	}
	if (id == NULL)
		return BB_OK;
	rc = bf_url_barred(p, id, NULL, &barred, e);
	if (rc != BB_OK || barred)
		return rc;
	/* Known already: a comment, or fetched lately for nothing. */
	rc = comment_known(p, id, &known, e);
	if (rc != BB_OK || known)
		return rc;
	rc = store_backfill_get(p->st, id, &seen, e);
	if (rc == BB_OK && seen.kind == STORE_BACKFILL_ITEM &&
	    seen.fetched_at > p->now - BACKFILL_INTERVAL_S) {
		store_backfill_clear(&seen);
		return BB_OK;
	}
	store_backfill_clear(&seen);
	if (rc != BB_OK && rc != BB_ERR_NOTFOUND)
		return rc;
	err_clear(e);
	if (!bf_post_item_take(p)) {
		p->stop_row = true;
		return BB_OK;
	}
	rc = item_resolve(p, id, embedded, page_url, &trusted, e);
	if (rc == BB_ERR_TEMPFAIL || p->stop_pass) {
		p->stats->skipped++;
		err_clear(e);
		return BB_OK; /* tried again another time */
	}
	if (rc != BB_OK || trusted == NULL) {
		log_debug("backfill: %s not believed: %s", id, rc != BB_OK ? e->msg : "not a note");
		err_clear(e);
		json_decref(trusted);
		return item_refused(p, id, e);
	}
	rc = note_import(p, trusted, &routed, e);
	if (rc == BB_OK && !routed) {
		/* Perhaps an answer to one later in the collection. */
		if (json_array_size(p->deferred) < BACKFILL_DEFERRED_MAX)
			json_array_append(p->deferred, trusted);
		else
			rc = item_refused(p, id, e);
	}
	json_decref(trusted);
	return rc;
}

/* The items of page (items or orderedItems: an array or one). */
static enum bb_rc page_take(struct pass *p, const json_t *page, const char *page_url, struct err *e)
{
	const json_t *items = json_object_get(page, "orderedItems"), *item;
	size_t i;
	enum bb_rc rc;

	if (items == NULL)
		items = json_object_get(page, "items");
	if (items != NULL && !json_is_array(items))
		return p->items++ < BACKFILL_ITEMS_MAX ? item_take(p, items, page_url, e) : BB_OK;
	json_array_foreach(items, i, item)
	{
		if (p->stop_row || p->stop_pass || bf_cancelled(p->bf))
			break;
		if (p->items >= BACKFILL_ITEMS_MAX) {
			p->stop_row = true;
			break;
		}
		p->items++;
		rc = item_take(p, item, page_url, e);
		if (rc != BB_OK)
			return rc;
	}
	return BB_OK;
}

/* The deferred notes again, while some are imported; those left are
 * refused.  A note stored meanwhile (listed twice, or again after
 * its parent) is dropped: it is imported once. */
static enum bb_rc deferred_retry(struct pass *p, struct err *e)
{
	bool progress = true, routed, known;
	enum bb_rc rc;

	while (progress && json_array_size(p->deferred) > 0) {
		progress = false;
		for (size_t i = 0; i < json_array_size(p->deferred);) {
			json_t *n = json_array_get(p->deferred, i);

			routed = false;
			rc = comment_known(p, bf_id_of(n), &known, e);
			if (rc == BB_OK && !known)
				rc = note_import(p, n, &routed, e);
			if (rc != BB_OK)
				return rc;
			if (known || routed) {
				json_array_remove(p->deferred, i);
				progress = progress || routed;
			} else {
				i++;
			}
		}
	}
	for (size_t i = 0; i < json_array_size(p->deferred); i++) {
		rc = item_refused(p, bf_id_of(json_array_get(p->deferred, i)), e);
		if (rc != BB_OK)
			return rc;
	}
	json_array_clear(p->deferred);
	return BB_OK;
}

/* ---- rows ---- */

static bool collection_typed(const json_t *doc)
{
	static const char *const types[] = {"Collection", "OrderedCollection", "CollectionPage",
					    "OrderedCollectionPage"};
	const char *t = json_string_value(json_object_get(doc, "type"));

	for (size_t i = 0; t && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(t, types[i]) == 0)
			return true;
	return false;
}

/* A copy of v's id (id_of), or NULL. */
static char *id_dup(const json_t *v)
{
	const char *s = bf_id_of(v);

	return s ? strdup(s) : NULL;
}

/* A collection: itself, its first page (embedded or linked) and the
 * next ones, on its own host, BACKFILL_PAGES_MAX documents at most. */
static enum bb_rc collection_read(struct pass *p, enum store_backfill_outcome *outcome,
				  struct err *e)
{
	const char *url = p->row->url;
	char *visited[BACKFILL_PAGES_MAX] = {0}; /* owned */
	json_t *doc = NULL, *page = NULL;
	const json_t *first;
	char *next = NULL; /* owned until it is visited */
	size_t pages = 0;
	enum bb_rc rc;

	*outcome = STORE_BACKFILL_FAILED;
	rc = bf_doc_get(p, url, &doc, e);
	if (rc != BB_OK || !collection_typed(doc)) {
		if (p->skipped)
			*outcome = STORE_BACKFILL_SKIPPED;
		log_debug("backfill: %s: %s", url, rc != BB_OK ? e->msg : "not a collection");
		err_clear(e);
		rc = BB_OK;
		goto out;
	}
	*outcome = STORE_BACKFILL_OK;
	pages = 1;
	rc = page_take(p, doc, url, e);
	/* The first page embedded (with its items), or linked (a URI, or
	 * an object that only names it). */
	first = json_object_get(doc, "first");
	if (json_is_object(first) &&
	    (json_object_get(first, "items") || json_object_get(first, "orderedItems"))) {
		if (rc == BB_OK)
			rc = page_take(p, first, url, e);
		next = id_dup(json_object_get(first, "next"));
	} else {
		next = id_dup(first);
	}
	while (rc == BB_OK && next != NULL && pages < BACKFILL_PAGES_MAX && !p->stop_row &&
	       !p->stop_pass && !bf_cancelled(p->bf)) {
		bool again = strcmp(next, url) == 0;
		const char *cur;

		for (size_t i = 1; i < pages; i++)
			again = again || strcmp(visited[i], next) == 0;
		if (again || !bf_same_host(next, url))
			break; /* a loop, or a page elsewhere */
		cur = visited[pages++] = next;
		next = NULL;
		json_decref(page);
		page = NULL;
		if (bf_doc_get(p, cur, &page, e) != BB_OK || !collection_typed(page)) {
			log_debug("backfill: %s: %s", cur, page ? "not a page" : e->msg);
			err_clear(e);
			break;
		}
		rc = page_take(p, page, cur, e);
		next = id_dup(json_object_get(page, "next"));
	}
	if (next != NULL && pages >= BACKFILL_PAGES_MAX)
		log_info("backfill: %s: stopped after %d pages", url, BACKFILL_PAGES_MAX);
	if (rc == BB_OK)
		rc = deferred_retry(p, e);
out:
	for (size_t i = 0; i < pages; i++)
		free(visited[i]);
	free(next);
	json_decref(page);
	json_decref(doc);
	return rc;
}

/* A comment stored without its collections: its object, from its origin. */
static enum bb_rc object_read(struct pass *p, enum store_backfill_outcome *outcome, struct err *e)
{
	struct ap_activity a = {.type = AP_TYPE_CREATE, .type_name = "Create", .actor = ""};
	struct rows_job j;
	json_t *trusted = NULL;
	bool barred = false;
	enum bb_rc rc;

	*outcome = STORE_BACKFILL_FAILED;
	p->skipped = false;
	a.id = a.object.id = p->row->url;
	rc = bf_url_barred(p, p->row->url, NULL, &barred, e);
	if (rc != BB_OK)
		return rc;
	rc = barred ? err_set(e, BB_ERR_FORBIDDEN, "not fetched")
		    : bf_budget_take(p, p->row->url, 1, e);
	if (rc == BB_OK)
		rc = comments_resolve(&p->bf->fetch, &a, &trusted, e);
	if (p->skipped)
		*outcome = STORE_BACKFILL_SKIPPED;
	bf_host_failed(p, p->row->url, rc);
	if (rc != BB_OK || trusted == NULL) {
		log_debug("backfill: %s: %s", p->row->url, rc != BB_OK ? e->msg : "not a note");
		err_clear(e);
		return BB_OK;
	}
	*outcome = STORE_BACKFILL_OK;
	j = (struct rows_job){p->bf->env.comments, trusted,	  p->row->owner,
			      p->row->post,	   p->row->depth, p->now};
	rc = write_job(p, rows_job_run, &j, e);
	json_decref(trusted);
	return rc;
}

/* ---- passes ---- */

struct row_list {
	struct store_backfill *r;
	size_t n;
};

static enum bb_rc row_collect(const struct store_backfill *b, void *arg, struct err *e)
{
	struct row_list *l = arg;
	struct store_backfill *c = &l->r[l->n];

	*c = *b;
	c->url = strdup(b->url);
	c->owner = strdup(b->owner);
	l->n++;
	if (c->url == NULL || c->owner == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	return BB_OK;
}

struct probe_job {
	time_t now;
	int64_t added;
};

static enum bb_rc probe_job_run(struct store *st, void *arg, struct err *e)
{
	struct probe_job *j = arg;

	return store_backfill_probe_add(st, j->now - BACKFILL_YOUNG_S, j->now - BACKFILL_INTERVAL_S,
					&j->added, e);
}

enum bb_rc backfill_note_add(struct backfill *bf, struct store *st, const json_t *note, time_t now,
			     struct err *e)
{
	const char *id = bf_id_of(json_object_get(note, "id"));
	struct store_comment c = {0};
	struct rows_job j;
	enum bb_rc rc;

	if (id == NULL)
		return BB_OK;
	rc = store_comment_get(st, id, &c, e);
	if (rc == BB_ERR_NOTFOUND) {
		err_clear(e);
		return BB_OK;
	}
	if (rc == BB_OK) {
		j = (struct rows_job){bf->env.comments, note, c.ap_id, c.post, 0, now};
		rc = bf->env.write(bf->env.write_arg, rows_job_run, &j, e);
	}
	store_comment_clear(&c);
	return rc;
}

/* Reads the rows of l; *total counts them. */
static enum bb_rc rows_read(struct pass *p, struct row_list *l, size_t *total, struct err *e)
{
	struct backfill_stats *stats = p->stats;
	enum store_backfill_outcome outcome;
	enum bb_rc rc = BB_OK;

	for (size_t i = 0; rc == BB_OK && i < l->n && !p->stop_pass && !bf_cancelled(p->bf); i++) {
		p->row = &l->r[i];
		p->items = 0;
		p->stop_row = false;
		p->now = time(NULL) > p->now ? time(NULL) : p->now;
		(*total)++;
		rc = p->row->kind == STORE_BACKFILL_OBJECT ? object_read(p, &outcome, e)
							   : collection_read(p, &outcome, e);
		if (rc != BB_OK)
			break;
		if (p->stop_pass && outcome != STORE_BACKFILL_OK)
			break; /* not begun: due as it was, next hour */
		stats->rows += outcome != STORE_BACKFILL_SKIPPED;
		stats->skipped += outcome == STORE_BACKFILL_SKIPPED;
		stats->failed += outcome == STORE_BACKFILL_FAILED;
		rc = row_done(p, p->row, outcome, e);
	}
	for (size_t i = 0; i < l->n; i++)
		store_backfill_clear(&l->r[i]);
	l->n = 0;
	return rc;
}

enum bb_rc backfill_pass(struct backfill *bf, struct store *st, bool probe, time_t now,
			 struct backfill_stats *out, struct err *e)
{
	struct backfill_stats stats = {0};
	struct row_list l = {calloc(BACKFILL_ROWS_PER_PASS, sizeof(*l.r)), 0};
	struct pass p = {bf, st, now, &stats, NULL, 0, json_array(), false, false, false};
	struct probe_job pj = {now, 0};
	size_t total = 0;
	enum bb_rc rc = BB_OK;

	if (l.r == NULL || p.deferred == NULL) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (probe) {
		rc = bf->env.write(bf->env.write_arg, probe_job_run, &pj, e);
		if (rc != BB_OK)
			goto out;
	}
	/* Rounds: what one round reads (a comment's object, a reply
	 * imported) makes rows for the next; each row read is tried at most
	 * once in a pass (its fetched_at is now). */
	for (int round = 0; rc == BB_OK && round < BACKFILL_DEPTH_MAX + 2 &&
			    total < BACKFILL_ROWS_PER_PASS && !p.stop_pass && !bf_cancelled(bf);
	     round++) {
		rc = store_backfill_due_each(
		    st, now - BACKFILL_YOUNG_S, now - BACKFILL_INTERVAL_S, BACKFILL_FAILURES_MAX,
		    (int64_t)(BACKFILL_ROWS_PER_PASS - total), row_collect, &l, e);
		if (rc == BB_OK && l.n == 0)
			break;
		if (rc == BB_OK)
			rc = rows_read(&p, &l, &total, e);
	}
	if (rc == BB_OK && (stats.imported > 0 || stats.rows > 0))
		log_info("backfill: %zu read, %zu fetches, %zu new comments, %zu refused, "
			 "%zu skipped, %zu failed%s",
			 stats.rows, stats.fetches, stats.imported, stats.refused, stats.skipped,
			 stats.failed, stats.limited ? " (hourly budget spent)" : "");
out:
	for (size_t i = 0; i < l.n; i++)
		store_backfill_clear(&l.r[i]);
	free(l.r);
	json_decref(p.deferred);
	if (out)
		*out = stats;
	return rc;
}
