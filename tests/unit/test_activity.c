/*
 * test_activity.c — incoming activities parsed into struct ap_activity
 * (activitypub/activity.h): every type name we act on, bare and embedded
 * objects, and the malformed bodies refused with BB_ERR_INVALID (or
 * BB_ERR_LIMIT over ACTIVITY_BODY_MAX).
 */
#include "activity.h"
#include "check.h"
#include "probe.h"
#include "site.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACTOR "https://m.example/users/ann"
#define ID "https://m.example/activities/1"

static enum bb_rc parse(const char *body, struct ap_activity *a)
{
	struct err e = {0};
	enum bb_rc rc = ap_activity_parse(body, strlen(body), a, &e);

	if (rc == BB_OK)
		CHECK_STR(e.msg, "");
	else
		CHECK(e.msg[0] != '\0');
	return rc;
}

static void t_every_type(void)
{
	static const struct {
		const char *name;
		enum ap_type type;
	} types[] = {
	    {"Follow", AP_TYPE_FOLLOW},	   {"Undo", AP_TYPE_UNDO},
	    {"Delete", AP_TYPE_DELETE},	   {"Accept", AP_TYPE_ACCEPT},
	    {"Reject", AP_TYPE_REJECT},	   {"Create", AP_TYPE_CREATE},
	    {"Update", AP_TYPE_UPDATE},	   {"Announce", AP_TYPE_ANNOUNCE},
	    {"Like", AP_TYPE_LIKE},	   {"Tombstone", AP_TYPE_TOMBSTONE},
	    {"Note", AP_TYPE_NOTE},	   {"Person", AP_TYPE_ACTOR},
	    {"Service", AP_TYPE_ACTOR},	   {"Application", AP_TYPE_ACTOR},
	    {"Group", AP_TYPE_ACTOR},	   {"Organization", AP_TYPE_ACTOR},
	    {"EmojiReact", AP_TYPE_OTHER}, {"follow", AP_TYPE_OTHER},
	    {"Move", AP_TYPE_OTHER},
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct ap_activity a;
		char body[512];
		snprintf(body, sizeof(body),
			 "{\"id\":\"" ID "\",\"type\":\"%s\",\"actor\":\"" ACTOR "\"}",
			 types[i].name);
		CHECK_INT(parse(body, &a), BB_OK);
		CHECK_INT(a.type, types[i].type);
		/* The name as received, even one we do not know. */
		CHECK_STR(a.type_name, types[i].name);
		CHECK_STR(a.id, ID);
		CHECK_STR(a.actor, ACTOR);
		CHECK(a.object.id == NULL && a.object.json == NULL);
		ap_activity_free(&a);
		CHECK(a.root == NULL);
	}
}

static void t_type_array(void)
{
	struct ap_activity a;

	/* The first known entry of an array decides; the name is its. */
	CHECK_INT(parse("{\"id\":\"" ID "\",\"type\":[\"Custom\",\"Follow\"],\"actor\":\"" ACTOR
			"\"}",
			&a),
		  BB_OK);
	CHECK_INT(a.type, AP_TYPE_FOLLOW);
	CHECK_STR(a.type_name, "Follow");
	ap_activity_free(&a);
	/* None known: OTHER, named by the last entry. */
	CHECK_INT(parse("{\"id\":\"" ID "\",\"type\":[\"A\",\"B\"],\"actor\":\"" ACTOR "\"}", &a),
		  BB_OK);
	CHECK_INT(a.type, AP_TYPE_OTHER);
	CHECK_STR(a.type_name, "B");
	ap_activity_free(&a);
}

static void t_bare_object(void)
{
	struct ap_activity a;

	CHECK_INT(parse("{\"@context\":\"https://www.w3.org/ns/activitystreams\",\"id\":\"" ID
			"\",\"type\":\"Follow\",\"actor\":\"" ACTOR
			"\",\"object\":\"https://blog.test/ap/actor\"}",
			&a),
		  BB_OK);
	CHECK_INT(a.type, AP_TYPE_FOLLOW);
	CHECK_STR(a.object.id, "https://blog.test/ap/actor");
	CHECK_INT(a.object.type, AP_TYPE_OTHER);
	CHECK(a.object.json == NULL && a.object.actor == NULL && a.object.object == NULL);
	ap_activity_free(&a);

	/* An actor given as an object: its id. */
	CHECK_INT(parse("{\"id\":\"" ID "\",\"type\":\"Like\",\"actor\":{\"id\":\"" ACTOR
			"\",\"type\":\"Person\"},\"object\":\"https://blog.test/p/1\"}",
			&a),
		  BB_OK);
	CHECK_STR(a.actor, ACTOR);
	CHECK_STR(a.object.id, "https://blog.test/p/1");
	ap_activity_free(&a);
}

static void t_embedded_object(void)
{
	struct ap_activity a;

	/* Undo of a Follow: the inner activity's actor and object. */
	CHECK_INT(parse("{\"id\":\"" ID "#undo\",\"type\":\"Undo\",\"actor\":\"" ACTOR
			"\",\"object\":{\"id\":\"" ID "\",\"type\":\"Follow\",\"actor\":\"" ACTOR
			"\",\"object\":\"https://blog.test/ap/actor\"}}",
			&a),
		  BB_OK);
	CHECK_INT(a.type, AP_TYPE_UNDO);
	CHECK_INT(a.object.type, AP_TYPE_FOLLOW);
	CHECK_STR(a.object.id, ID);
	CHECK_STR(a.object.actor, ACTOR);
	CHECK_STR(a.object.object, "https://blog.test/ap/actor");
	CHECK(json_is_object(a.object.json));
	ap_activity_free(&a);

	/* A Create of a Note, the Note embedded; its object is not an id. */
	CHECK_INT(parse("{\"id\":\"" ID "\",\"type\":\"Create\",\"actor\":\"" ACTOR
			"\",\"object\":{\"id\":\"https://m.example/notes/1\",\"type\":\"Note\","
			"\"content\":\"<p>hi</p>\",\"inReplyTo\":\"https://blog.test/p/1\"}}",
			&a),
		  BB_OK);
	CHECK_INT(a.object.type, AP_TYPE_NOTE);
	CHECK_STR(a.object.id, "https://m.example/notes/1");
	CHECK(a.object.actor == NULL && a.object.object == NULL);
	CHECK_STR(json_string_value(json_object_get(a.object.json, "content")), "<p>hi</p>");
	ap_activity_free(&a);

	/* Delete of a Tombstone; an embedded object may lack an id. */
	CHECK_INT(parse("{\"id\":\"" ID "\",\"type\":\"Delete\",\"actor\":\"" ACTOR
			"\",\"object\":{\"type\":\"Tombstone\"}}",
			&a),
		  BB_OK);
	CHECK_INT(a.object.type, AP_TYPE_TOMBSTONE);
	CHECK(a.object.id == NULL);
	CHECK(a.object.json != NULL);
	ap_activity_free(&a);

	/* An Update of an actor (a profile change). */
	CHECK_INT(parse("{\"id\":\"" ID "\",\"type\":\"Update\",\"actor\":\"" ACTOR
			"\",\"object\":{\"id\":\"" ACTOR "\",\"type\":\"Service\"}}",
			&a),
		  BB_OK);
	CHECK_INT(a.object.type, AP_TYPE_ACTOR);
	CHECK_STR(a.object.id, ACTOR);
	ap_activity_free(&a);

	/* An object of another JSON type is no object at all. */
	CHECK_INT(parse("{\"id\":\"" ID "\",\"type\":\"Like\",\"actor\":\"" ACTOR
			"\",\"object\":42}",
			&a),
		  BB_OK);
	CHECK(a.object.id == NULL && a.object.json == NULL);
	ap_activity_free(&a);
}

static void expect_invalid(const char *body)
{
	struct ap_activity a;

	CHECK_INT(parse(body, &a), BB_ERR_INVALID);
	/* Nothing is left to free on failure. */
	CHECK(a.root == NULL && a.id == NULL && a.type_name == NULL);
}

static void t_malformed(void)
{
	expect_invalid("");
	expect_invalid("{");
	expect_invalid("not json");
	expect_invalid("[]");
	expect_invalid("\"Follow\"");
	expect_invalid("null");
	/* Duplicate keys are refused (which one would count?). */
	expect_invalid("{\"id\":\"" ID "\",\"id\":\"https://x.example/2\",\"type\":\"Follow\","
		       "\"actor\":\"" ACTOR "\"}");
	/* No type, no id, no actor; a type that is not a string. */
	expect_invalid("{\"id\":\"" ID "\",\"actor\":\"" ACTOR "\"}");
	expect_invalid("{\"type\":\"Follow\",\"actor\":\"" ACTOR "\"}");
	expect_invalid("{\"id\":\"" ID "\",\"type\":\"Follow\"}");
	expect_invalid("{\"id\":\"" ID "\",\"type\":7,\"actor\":\"" ACTOR "\"}");
	expect_invalid("{\"id\":\"" ID "\",\"type\":[1,2],\"actor\":\"" ACTOR "\"}");
	/* Ids that are not http(s) URLs. */
	expect_invalid("{\"id\":\"urn:uuid:1\",\"type\":\"Follow\",\"actor\":\"" ACTOR "\"}");
	expect_invalid("{\"id\":\"" ID "\",\"type\":\"Follow\",\"actor\":\"acct:ann@m.example\"}");
	expect_invalid("{\"id\":\"" ID "\",\"type\":\"Follow\",\"actor\":{\"type\":\"Person\"}}");
	expect_invalid("{\"id\":\"" ID "\",\"type\":\"Follow\",\"actor\":\"" ACTOR
		       "\",\"object\":\"ftp://blog.test/ap/actor\"}");
	expect_invalid("{\"id\":\"" ID "\",\"type\":\"Undo\",\"actor\":\"" ACTOR
		       "\",\"object\":{\"id\":\"javascript:1\",\"type\":\"Follow\"}}");
}

static void t_limits(void)
{
	struct ap_activity a;
	struct err e = {0};
	char body[ACTIVITY_DEPTH_MAX * 8 + 256], *big;
	size_t n = 0;

	/* Nested exactly ACTIVITY_DEPTH_MAX deep passes; one more is refused. */
	for (int extra = 0; extra < 2; extra++) {
		int depth = ACTIVITY_DEPTH_MAX - 1 + extra; /* plus the root */
		n = (size_t)snprintf(body, sizeof(body),
				     "{\"id\":\"" ID "\",\"type\":\"Note\",\"actor\":\"" ACTOR
				     "\",\"x\":");
		for (int i = 0; i < depth; i++)
			body[n++] = '[';
		for (int i = 0; i < depth; i++)
			body[n++] = ']';
		body[n++] = '}';
		body[n] = '\0';
		CHECK_INT(ap_activity_parse(body, n, &a, &e), extra ? BB_ERR_INVALID : BB_OK);
		ap_activity_free(&a);
	}
	/* An id of ACTIVITY_ID_MAX bytes passes, one more does not. */
	for (int extra = 0; extra < 2; extra++) {
		size_t idlen = ACTIVITY_ID_MAX + (size_t)extra,
		       prefix = strlen("https://m.example/");
		char *id = malloc(idlen + 1), *doc = malloc(idlen + 256);
		CHECK(id && doc);
		if (id == NULL || doc == NULL) {
			free(id);
			free(doc);
			return;
		}
		memcpy(id, "https://m.example/", prefix);
		memset(id + prefix, 'a', idlen - prefix);
		id[idlen] = '\0';
		snprintf(doc, idlen + 256,
			 "{\"id\":\"%s\",\"type\":\"Like\",\"actor\":\"" ACTOR "\"}", id);
		CHECK_INT(ap_activity_parse(doc, strlen(doc), &a, &e),
			  extra ? BB_ERR_INVALID : BB_OK);
		ap_activity_free(&a);
		free(id);
		free(doc);
	}
	/* Over ACTIVITY_BODY_MAX: refused before parsing. */
	big = malloc(ACTIVITY_BODY_MAX + 1);
	CHECK(big != NULL);
	if (big) {
		memset(big, ' ', ACTIVITY_BODY_MAX + 1);
		CHECK_INT(ap_activity_parse(big, ACTIVITY_BODY_MAX + 1, &a, &e), BB_ERR_LIMIT);
		CHECK(a.root == NULL);
		free(big);
	}
}

/* The doctor's probe report on an activity without the probe's fields
 * (found by fuzz_probe: a NULL expected value reached strcmp): each header
 * is reported, none as unchanged. */
static void t_probe_report_without_fields(void)
{
	static const char body[] =
	    "{\"id\":\"https://blog.example/ap/actor#doctor-probe-1\","
	    "\"type\":\"Follow\",\"actor\":\"https://blog.example/ap/actor\","
	    "\"object\":\"https://blog.example/ap/actor\"}";
	struct httpsig_header h[] = {{"Host", "evil.example"}};
	struct httpsig_message m = {
	    "POST", "https://blog.example/ap/actor/inbox", h, 1, body, sizeof(body) - 1};
	struct ap_activity a;
	struct err e;
	char *report = NULL;

	CHECK_INT(ap_activity_parse(body, sizeof(body) - 1, &a, &e), BB_OK);
	CHECK_INT(ap_probe_report(&a, &m, NULL, &report, &e), BB_OK);
	CHECK(
	    report != NULL &&
	    check_contains(report, "\"host\":{\"unchanged\":false,\"received\":\"evil.example\"}"));
	CHECK(report != NULL &&
	      check_contains(report, "\"date\":{\"unchanged\":false,\"received\":null}"));
	free(report);
	ap_activity_free(&a);
}

static const struct check_case cases[] = {
    {"every_type", t_every_type},
    {"type_array", t_type_array},
    {"bare_object", t_bare_object},
    {"embedded_object", t_embedded_object},
    {"malformed", t_malformed},
    {"limits", t_limits},
    {"probe_report_without_fields", t_probe_report_without_fields},
};

CHECK_MAIN(cases)
