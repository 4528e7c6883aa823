/*
 * activity.h — incoming activities, parsed once at the boundary into a
 * typed struct; the rest of the code never looks JSON keys up again.
 *
 * Bounded: the body is at most ACTIVITY_BODY_MAX bytes (checked by the
 * caller before parsing) and nested at most ACTIVITY_DEPTH_MAX deep.  An LD
 * `signature` member is ignored (Mastodon adds one to public activities).
 */
#ifndef BB_ACTIVITY_H
#define BB_ACTIVITY_H

#include "err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define ACTIVITY_BODY_MAX (1024 * 1024) /* Mastodon's MAX_JSON_SIZE */
#define ACTIVITY_DEPTH_MAX 32
#define ACTIVITY_ID_MAX 2048 /* longest id or URL we accept */

enum ap_type {
	AP_TYPE_OTHER = 0, /* anything we do not act on */
	AP_TYPE_FOLLOW,
	AP_TYPE_UNDO,
	AP_TYPE_DELETE,
	AP_TYPE_ACCEPT,
	AP_TYPE_REJECT,
	AP_TYPE_CREATE,
	AP_TYPE_UPDATE,
	AP_TYPE_ANNOUNCE,
	AP_TYPE_LIKE,
	AP_TYPE_TOMBSTONE,
	AP_TYPE_NOTE,  /* Note, and Article, Page, Question: read as text */
	AP_TYPE_ACTOR, /* Person, Service, Application, Group, Organization */
	AP_TYPE_QUOTE_REQUEST, /* FEP-044f: asks leave to quote our post */
};

/* The object of an activity: a bare id, or an embedded object. */
struct ap_object {
	enum ap_type type; /* AP_TYPE_OTHER for a bare id or an unknown type */
	const char *id;     /* may be NULL for an embedded object without id */
	const char *actor;  /* embedded activities (Follow inside Undo) */
	const char *object; /* embedded activities: their object's id */
	json_t *json;       /* the embedded object, or NULL for a bare id */
};

struct ap_activity {
	json_t *root; /* owns everything below */
	enum ap_type type;
	const char *type_name; /* as received */
	const char *id;
	const char *actor; /* the actor's id (from a string or an object) */
	struct ap_object object;
	const char *instrument; /* a QuoteRequest's quoting post (its id), or NULL */
};

/* Parses body into *out (free with ap_activity_free).  BB_ERR_INVALID with
 * the reason for malformed JSON, a missing id/type/actor, ids that are not
 * http(s) URLs, or nesting beyond ACTIVITY_DEPTH_MAX. */
enum bb_rc ap_activity_parse(const char *body, size_t len, struct ap_activity *out,
			     struct err *e) BB_MUST_CHECK;

void ap_activity_free(struct ap_activity *a);

#endif
