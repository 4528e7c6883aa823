/*
 * cli_comments.c — the replies from the fediverse on the command line:
 * `comments` lists them (by status, by post), `comments approve|reject|
 * delete ID` moderates one (through ops.h, as the admin pages do), and
 * `reactions` lists the likes, boosts and quotes of the posts and who
 * made them.  --json prints one JSON array with the fields SPEC.md lists,
 * times in RFC 3339.
 *
 * The store keeps comments and reactions by post rowid: the posts are
 * read first into a table so that each row can name its post's blog URL
 * (a walk must not query the store from its callback).
 */
#include "cli.h"
#include "ops.h"
#include "store.h"
#include "timeutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The posts by rowid, for the post column. */
struct post_table {
	int64_t *rowid;
	char **url;
	size_t n, cap;
};

static enum bb_rc post_table_add(const struct store_post *p, void *arg, struct err *e)
{
	struct post_table *t = arg;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		int64_t *r = realloc(t->rowid, cap * sizeof(*r));
		char **u = r ? realloc(t->url, cap * sizeof(*u)) : NULL;
		if (r)
			t->rowid = r;
		if (u == NULL)
			return err_set(e, BB_ERR_NOMEM, "out of memory");
		t->url = u;
		t->cap = cap;
	}
	t->url[t->n] = strdup(p->url ? p->url : p->ap_id);
	if (t->url[t->n] == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	t->rowid[t->n++] = p->rowid;
	return BB_OK;
}

static void post_table_clear(struct post_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->url[i]);
	free(t->url);
	free(t->rowid);
}

static const char *post_table_url(const struct post_table *t, int64_t rowid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->rowid[i] == rowid)
			return t->url[i];
	return "-";
}

struct comment_walk {
	const struct post_table *posts;
	json_t *arr; /* NULL for text output */
	int64_t n;
};

static enum bb_rc print_comment(const struct store_comment *c, void *arg, struct err *e)
{
	struct comment_walk *w = arg;
	const char *post = post_table_url(w->posts, c->post);
	char published[TIME_RFC3339_LEN], updated[TIME_RFC3339_LEN];

	w->n++;
	time_rfc3339(c->published, published);
	time_rfc3339(c->updated ? c->updated : c->published, updated);
	if (w->arr == NULL) {
		printf("%-8s %.10s  %-32s %s%s\n         on %s\n",
		       store_comment_status_name(c->status), published,
		       c->author_handle ? c->author_handle : c->author, c->ap_id,
		       c->edited ? " (edited)" : "", post);
		return BB_OK;
	}
	if (json_array_append_new(
		w->arr,
		json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:s}", "id", c->ap_id, "post", post,
			  "author", c->author, "author_handle", cli_json_nullable(c->author_handle),
			  "content", c->content, "status", store_comment_status_name(c->status),
			  "published", published, "updated", updated)) != 0)
		return err_set(e, BB_ERR_NOMEM, "cannot list the comments as JSON");
	return BB_OK;
}

/* Reads the posts into *t and, when ref is set, the post it names into
 * *rowid; false (printed, *status set) on failure. */
static bool posts_read(struct app *app, const char *ref, struct post_table *t, int64_t *rowid,
		       int *status)
{
	struct store_post p = {0};
	struct err e = {0};

	*rowid = 0;
	if (ops_posts_each(app, 0, -1, post_table_add, t, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		*status = EXIT_RUNTIME;
		return false;
	}
	if (ref == NULL)
		return true;
	if (ops_post_find(app, ref, &p, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		*status = EXIT_RUNTIME;
		return false;
	}
	*rowid = p.rowid;
	store_post_clear(&p);
	return true;
}

static int comments_list(struct app *app, unsigned statuses, const char *post, bool as_json)
{
	struct post_table posts = {0};
	struct comment_walk w = {&posts, as_json ? json_array() : NULL, 0};
	struct store_comment_filter f = {statuses, 0, 0, -1};
	struct err e = {0};
	int status = 0;

	if (as_json && w.arr == NULL) {
		cli_fail("out of memory");
		return EXIT_RUNTIME;
	}
	if (!posts_read(app, post, &posts, &f.post, &status))
		goto out;
	if (ops_comments_each(app, &f, print_comment, &w, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		status = EXIT_RUNTIME;
		goto out;
	}
	if (as_json) {
		status = cli_print_json(w.arr);
		w.arr = NULL;
	} else {
		printf("%lld comment%s\n", (long long)w.n, w.n == 1 ? "" : "s");
	}
out:
	json_decref(w.arr);
	post_table_clear(&posts);
	return status;
}

static int comment_moderate(struct app *app, const char *verb, const char *id)
{
	struct err e = {0};
	enum bb_rc rc;

	if (strcmp(verb, "approve") == 0)
		rc = ops_comment_approve(app, id, &e);
	else if (strcmp(verb, "reject") == 0)
		rc = ops_comment_reject(app, id, &e);
	else
		rc = ops_comment_delete(app, id, &e);
	if (rc != BB_OK) {
		cli_fail("%s", e.msg);
		return EXIT_RUNTIME;
	}
	printf("%s: %s\n",
	       strcmp(verb, "approve") == 0  ? "approved"
	       : strcmp(verb, "reject") == 0 ? "rejected"
					     : "deleted",
	       id);
	return 0;
}

/* The statuses a --status value selects; false for an unknown one. */
static bool statuses_parse(const char *v, unsigned *out)
{
	enum store_comment_status s;

	if (strcmp(v, "all") == 0) {
		*out = 0;
		return true;
	}
	if (!store_comment_status_parse(v, &s))
		return false;
	*out = STORE_COMMENT_BIT(s);
	return true;
}

#define COMMENTS_USAGE                                                                             \
	"usage: blogbridge comments [--json] "                                                     \
	"[--status pending|approved|rejected|private|deleted|all] [--post URL]"                    \
	" | comments approve|reject|delete ID | comments backfill"

int cmd_comments(struct cli *cli)
{
	/* Without --status: every comment but the deleted ones. */
	unsigned statuses =
	    ((1u << STORE_COMMENT_STATUS_COUNT) - 1) & ~STORE_COMMENT_BIT(STORE_COMMENT_DELETED);
	const char *post = NULL;
	bool as_json = false, moderate = false;
	struct app *app;
	int status = 0;

	if (cli->argc == 1 && strcmp(cli->argv[0], "backfill") == 0)
		return cmd_comments_backfill(cli);
	if (cli->argc == 2 &&
	    (strcmp(cli->argv[0], "approve") == 0 || strcmp(cli->argv[0], "reject") == 0 ||
	     strcmp(cli->argv[0], "delete") == 0)) {
		moderate = true;
	} else {
		for (int i = 0; i < cli->argc; i++) {
			if (strcmp(cli->argv[i], "--json") == 0) {
				as_json = true;
			} else if (strcmp(cli->argv[i], "--status") == 0 && i + 1 < cli->argc &&
				   statuses_parse(cli->argv[i + 1], &statuses)) {
				i++;
			} else if (strcmp(cli->argv[i], "--post") == 0 && i + 1 < cli->argc) {
				post = cli->argv[++i];
			} else {
				cli_fail(COMMENTS_USAGE);
				return EXIT_USAGE;
			}
		}
	}
	app = cli_app_open(cli, &status);
	if (app == NULL)
		return status;
	status = moderate ? comment_moderate(app, cli->argv[0], cli->argv[1])
			  : comments_list(app, statuses, post, as_json);
	app_free(app);
	return status;
}

/* The reactions, copied out of the walk (handles are looked up after). */
struct reaction_list {
	struct store_reaction *r;
	size_t n, cap;
};

static enum bb_rc collect_reaction(const struct store_reaction *r, void *arg, struct err *e)
{
	struct reaction_list *l = arg;
	struct store_reaction *c;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct store_reaction *n = realloc(l->r, cap * sizeof(*n));
		if (n == NULL)
			return err_set(e, BB_ERR_NOMEM, "out of memory");
		l->r = n;
		l->cap = cap;
	}
	c = &l->r[l->n];
	*c = *r;
	c->actor = strdup(r->actor);
	c->activity_id = strdup(r->activity_id);
	l->n++;
	if (c->actor == NULL || c->activity_id == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	return BB_OK;
}

/* Prints reaction r (to arr when set); false when out of memory. */
static bool reaction_print(struct app *app, const struct store_reaction *r, const char *post,
			   json_t *arr)
{
	struct store_actor a = {0};
	struct err e = {0};
	char published[TIME_RFC3339_LEN];
	bool ok = true;

	/* The handle when the actor is cached; a missing one is null. */
	if (ops_actor_get(app, r->actor, &a, &e) != BB_OK)
		store_actor_clear(&a);
	time_rfc3339(r->published, published);
	if (arr == NULL)
		printf("%-5s %.10s  %-32s %s\n      on %s\n", store_reaction_type_name(r->type),
		       published, a.handle ? a.handle : r->actor, r->activity_id, post);
	else
		ok = json_array_append_new(
			 arr, json_pack("{s:s, s:s, s:s, s:o, s:s, s:s}", "post", post, "type",
					store_reaction_type_name(r->type), "actor", r->actor,
					"handle", cli_json_nullable(a.handle), "activity",
					r->activity_id, "published", published)) == 0;
	store_actor_clear(&a);
	return ok;
}

static int reactions_list(struct app *app, const char *post, bool as_json)
{
	struct post_table posts = {0};
	struct reaction_list l = {0};
	json_t *arr = as_json ? json_array() : NULL;
	struct err e = {0};
	int64_t rowid = 0;
	int status = 0;

	if (as_json && arr == NULL) {
		cli_fail("out of memory");
		return EXIT_RUNTIME;
	}
	if (!posts_read(app, post, &posts, &rowid, &status))
		goto out;
	if (ops_reactions_each(app, rowid, collect_reaction, &l, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		status = EXIT_RUNTIME;
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		if (!reaction_print(app, &l.r[i], post_table_url(&posts, l.r[i].post), arr)) {
			cli_fail("cannot list the reactions as JSON");
			status = EXIT_RUNTIME;
			goto out;
		}
	}
	if (as_json) {
		status = cli_print_json(arr);
		arr = NULL;
	} else {
		printf("%zu reaction%s\n", l.n, l.n == 1 ? "" : "s");
	}
out:
	for (size_t i = 0; i < l.n; i++)
		store_reaction_clear(&l.r[i]);
	free(l.r);
	json_decref(arr);
	post_table_clear(&posts);
	return status;
}

int cmd_reactions(struct cli *cli)
{
	const char *post = NULL;
	bool as_json = false;
	struct app *app;
	int status = 0;

	for (int i = 0; i < cli->argc; i++) {
		if (strcmp(cli->argv[i], "--json") == 0) {
			as_json = true;
		} else if (strcmp(cli->argv[i], "--post") == 0 && i + 1 < cli->argc) {
			post = cli->argv[++i];
		} else {
			cli_fail("usage: blogbridge reactions [--json] [--post URL]");
			return EXIT_USAGE;
		}
	}
	app = cli_app_open(cli, &status);
	if (app == NULL)
		return status;
	status = reactions_list(app, post, as_json);
	app_free(app);
	return status;
}
