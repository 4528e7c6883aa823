/*
 * api_thread.c — a post's shown thread read from the store, and its JSON
 * (GET /api/comments).  The store knows no threading: this file reads the
 * approved comments oldest first and decides, once, what is shown under
 * what (api_thread_parents), for the fragment and for any caller.
 */
#include "api.h"
#include "timeutil.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* strdup of s, NULL for NULL; *ok false when a copy failed. */
static char *dup_opt(const char *s, bool *ok)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*ok = false;
	return d;
}

/* A deep copy of c into *out; false (out cleared) when out of memory. */
static bool comment_copy(const struct store_comment *c, struct store_comment *out)
{
	bool ok = true;

	*out = *c;
	out->ap_id = dup_opt(c->ap_id, &ok);
	out->parent = dup_opt(c->parent, &ok);
	out->author = dup_opt(c->author, &ok);
	out->url = dup_opt(c->url, &ok);
	out->content = dup_opt(c->content, &ok);
	out->author_name = dup_opt(c->author_name, &ok);
	out->author_handle = dup_opt(c->author_handle, &ok);
	out->author_avatar = dup_opt(c->author_avatar, &ok);
	out->author_url = dup_opt(c->author_url, &ok);
	if (!ok)
		store_comment_clear(out);
	return ok;
}

static enum bb_rc collect_comment(const struct store_comment *c, void *arg, struct err *e)
{
	struct api_thread *t = arg;

	if (t->count == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct store_comment *n = realloc(t->comments, cap * sizeof(*n));
		if (n == NULL)
			return err_set(e, BB_ERR_NOMEM, "out of memory reading the comments");
		t->comments = n;
		t->cap = cap;
	}
	if (!comment_copy(c, &t->comments[t->count]))
		return err_set(e, BB_ERR_NOMEM, "out of memory reading the comments");
	t->count++;
	return BB_OK;
}

enum bb_rc api_thread_load(struct store *st, const struct store_post *p, struct api_thread *out,
			   struct err *e)
{
	struct store_comment_filter f = {STORE_COMMENT_BIT(STORE_COMMENT_APPROVED), p->rowid, 0,
					 -1};
	enum bb_rc rc;

	memset(out, 0, sizeof(*out));
	out->post = p->rowid;
	out->post_url = strdup(p->url ? p->url : p->ap_id);
	out->post_id = strdup(p->ap_id);
	if (out->post_url == NULL || out->post_id == NULL) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory reading the comments");
		goto out;
	}
	/* The version first: what is read after it is at least that new. */
	rc = store_post_comments_version(st, p->rowid, &out->version, e);
	if (rc != BB_OK)
		goto out;
	rc = store_comment_each(st, &f, collect_comment, out, e);
	if (rc != BB_OK)
		goto out;
	rc = store_reaction_counts(st, p->rowid, &out->likes, &out->boosts, NULL, e);
out:
	if (rc != BB_OK)
		api_thread_clear(out);
	return rc;
}

void api_thread_clear(struct api_thread *t)
{
	for (size_t i = 0; i < t->count; i++)
		store_comment_clear(&t->comments[i]);
	free(t->comments);
	free(t->post_url);
	free(t->post_id);
	memset(t, 0, sizeof(*t));
}

long *api_thread_parents(const struct api_thread *t, bool nest_max)
{
	long *parent, *depth;

	if (t->count == 0)
		return NULL;
	parent = calloc(t->count, sizeof(*parent));
	depth = calloc(t->count, sizeof(*depth));
	if (parent == NULL || depth == NULL) {
		free(parent);
		free(depth);
		return NULL;
	}
	for (size_t i = 0; i < t->count; i++) {
		const char *p = t->comments[i].parent;
		parent[i] = -1;
		/* Only an earlier comment can be a parent: no loop, whatever
		 * the stored parents say.  Quadratic, and bounded by the
		 * comments of one post (500 of them: well under a ms). */
		for (size_t j = 0; p != NULL && j < i; j++) {
			if (strcmp(t->comments[j].ap_id, p) == 0) {
				parent[i] = (long)j;
				break;
			}
		}
		if (nest_max && parent[i] >= 0 && depth[parent[i]] + 1 >= API_THREAD_DEPTH_MAX)
			parent[i] = parent[parent[i]]; /* beside its parent */
		depth[i] = parent[i] < 0 ? 0 : depth[parent[i]] + 1;
	}
	free(depth);
	return parent;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *time_json(time_t t)
{
	char s[TIME_RFC3339_LEN];

	time_rfc3339(t, s);
	return json_string(s);
}

static json_t *comment_json(const struct store_comment *c, const char *parent)
{
	json_t *author =
	    json_pack("{s:s, s:o, s:o, s:o, s:o}", "id", c->author, "name",
		      str_or_null(c->author_name), "handle", str_or_null(c->author_handle), "url",
		      str_or_null(c->author_url), "avatar", str_or_null(c->author_avatar));

	if (author == NULL)
		return NULL;
	return json_pack("{s:s, s:s, s:o, s:o, s:s, s:o, s:o}", "id", c->ap_id, "url",
			 c->url ? c->url : c->ap_id, "parent", str_or_null(parent), "author",
			 author, "content", c->content, "published", time_json(c->published),
			 "updated", time_json(c->updated ? c->updated : c->published));
}

char *api_thread_json(const struct api_thread *t)
{
	json_t *arr = json_array(), *j = NULL;
	long *parent = api_thread_parents(t, false);
	char *out = NULL;

	if (arr == NULL || (t->count > 0 && parent == NULL))
		goto out;
	for (size_t i = 0; i < t->count; i++) {
		/* parent: the comment it answers when that one is shown (and
		 * earlier), else null, so that a client nests as the embed does. */
		const char *p = parent[i] >= 0 ? t->comments[parent[i]].ap_id : NULL;
		if (json_array_append_new(arr, comment_json(&t->comments[i], p)) != 0)
			goto out;
	}
	j = json_pack("{s:s, s:s, s:I, s:I, s:O}", "post", t->post_url, "id", t->post_id, "likes",
		      (json_int_t)t->likes, "boosts", (json_int_t)t->boosts, "comments", arr);
	if (j != NULL)
		out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
	json_decref(j);
	json_decref(arr);
	free(parent);
	return out;
}
