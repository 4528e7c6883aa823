/*
 * fuzz_reply.c — comment_note_parse, the typed reading of a reply object,
 * and comments_sanitize on the content it yields.
 *
 * Input: a JSON document, parsed as the inbox and the fetcher parse
 * (jansson, duplicate keys refused).  The document itself is read as a
 * reply object, and so is its "object" member when that is an object (a
 * Create or Update carrying the reply).  A reply that parses must keep
 * comments.h's promises (an http(s) id; the other ids http(s) or NULL; at
 * most COMMENT_EMOJI_MAX emoji), and its content is sanitized with its id
 * as base, as comments_apply does, within COMMENT_CONTENT_MAX bytes.
 */
#include "fuzz.h"

#include "activity.h"
#include "buf.h"
#include "comments.h"
#include "err.h"
#include "html.h"
#include "url.h"

#include <jansson.h>

#define OUR_ACTOR "https://bridge.example/ap/actor"

static void check_id(const char *s)
{
	if (s != NULL && !url_is_http_str(s))
		abort(); /* an id that is not http(s) */
}

static void reply_check(const json_t *obj)
{
	struct comment_note n;
	struct err e = {0};
	struct buf html;
	enum bb_rc rc;

	if (comment_note_parse(obj, OUR_ACTOR, &n, &e) != BB_OK)
		return;
	if (n.id == NULL || !url_is_http_str(n.id))
		abort();
	check_id(n.attributed_to);
	check_id(n.in_reply_to);
	check_id(n.url);
	check_id(n.quote);
	if (n.nemoji > COMMENT_EMOJI_MAX)
		abort();
	for (size_t i = 0; i < n.nemoji; i++)
		if (n.emoji[i] == NULL)
			abort();
	if (n.audience != COMMENT_AUDIENCE_PUBLIC && n.audience != COMMENT_AUDIENCE_UNLISTED &&
	    n.audience != COMMENT_AUDIENCE_PRIVATE)
		abort();
	if (n.content == NULL)
		return;
	buf_init(&html, COMMENT_CONTENT_MAX + 1);
	rc = comments_sanitize(n.content, n.id, &html);
	if (rc == BB_ERR_LIMIT || html.len > COMMENT_CONTENT_MAX)
		abort(); /* the buffer comments.h asks for was too small */
	buf_free(&html);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *root, *obj;

	if (size > ACTIVITY_BODY_MAX)
		return 0;
	root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		return 0;
	reply_check(root);
	obj = json_object_get(root, "object");
	if (json_is_object(obj))
		reply_check(obj);
	json_decref(root);
	return 0;
}
