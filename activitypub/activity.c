/*
 * activity.c — see activity.h.  Type names are dispatched by table.
 */
#include "activity.h"
#include "url.h"

#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	enum ap_type type;
} type_names[] = {
    {"Follow", AP_TYPE_FOLLOW},     {"Undo", AP_TYPE_UNDO},
    {"Delete", AP_TYPE_DELETE},     {"Accept", AP_TYPE_ACCEPT},
    {"Reject", AP_TYPE_REJECT},     {"Create", AP_TYPE_CREATE},
    {"Update", AP_TYPE_UPDATE},     {"Announce", AP_TYPE_ANNOUNCE},
    {"Like", AP_TYPE_LIKE},         {"Tombstone", AP_TYPE_TOMBSTONE},
    {"Note", AP_TYPE_NOTE},         {"Person", AP_TYPE_ACTOR},
    {"Service", AP_TYPE_ACTOR},     {"Application", AP_TYPE_ACTOR},
    {"Group", AP_TYPE_ACTOR},       {"Organization", AP_TYPE_ACTOR},
    {"Article", AP_TYPE_NOTE},      {"Page", AP_TYPE_NOTE},
    {"Question", AP_TYPE_NOTE},     {"QuoteRequest", AP_TYPE_QUOTE_REQUEST},
};

/* The type of a JSON `type` member: a string, or an array whose first
 * known entry decides. */
static enum ap_type type_of(json_t *t, const char **name)
{
	size_t i;
	json_t *v;

	*name = NULL;
	if (json_is_array(t)) {
		json_array_foreach(t, i, v)
		{
			enum ap_type ty = type_of(v, name);
			if (ty != AP_TYPE_OTHER)
				return ty;
		}
		return AP_TYPE_OTHER;
	}
	if (!json_is_string(t))
		return AP_TYPE_OTHER;
	*name = json_string_value(t);
	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcmp(type_names[i].name, *name) == 0)
			return type_names[i].type;
	return AP_TYPE_OTHER;
}

static bool is_http_url(const char *s)
{
	return s && strlen(s) <= ACTIVITY_ID_MAX && url_is_http_str(s);
}

/* An id: a string, or an object's `id` string. */
static const char *id_of(json_t *v)
{
	if (json_is_object(v))
		v = json_object_get(v, "id");
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static size_t depth_of(json_t *j, size_t limit)
{
	size_t max = 0, i;
	const char *k;
	json_t *v;

	if (limit == 0)
		return 1;
	if (json_is_object(j)) {
		json_object_foreach(j, k, v)
		{
			size_t d = depth_of(v, limit - 1);
			if (d > max)
				max = d;
		}
		return max + 1;
	}
	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
		{
			size_t d = depth_of(v, limit - 1);
			if (d > max)
				max = d;
		}
		return max + 1;
	}
	return 0;
}

enum bb_rc ap_activity_parse(const char *body, size_t len, struct ap_activity *out,
			     struct err *e)
{
	json_error_t je;
	json_t *root, *obj;
	const char *name;

	memset(out, 0, sizeof(*out));
	if (len > ACTIVITY_BODY_MAX)
		return err_set(e, BB_ERR_LIMIT, "body over %d bytes", ACTIVITY_BODY_MAX);
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		return err_set(e, BB_ERR_INVALID, "malformed JSON: %s (line %d)", je.text, je.line);
	out->root = root;
	if (!json_is_object(root)) {
		ap_activity_free(out);
		return err_set(e, BB_ERR_INVALID, "the body is not a JSON object");
	}
	if (depth_of(root, ACTIVITY_DEPTH_MAX + 1) > ACTIVITY_DEPTH_MAX) {
		ap_activity_free(out);
		return err_set(e, BB_ERR_INVALID, "JSON nested deeper than %d", ACTIVITY_DEPTH_MAX);
	}
	out->type = type_of(json_object_get(root, "type"), &name);
	out->type_name = name;
	out->id = id_of(json_object_get(root, "id"));
	out->actor = id_of(json_object_get(root, "actor"));
	if (out->type_name == NULL || !is_http_url(out->id) || !is_http_url(out->actor)) {
		ap_activity_free(out);
		return err_set(e, BB_ERR_INVALID,
			       "an activity needs a type, and http(s) URLs as id and actor");
	}
	obj = json_object_get(root, "object");
	if (json_is_string(obj)) {
		out->object.id = json_string_value(obj);
	} else if (json_is_object(obj)) {
		out->object.json = obj;
		out->object.type = type_of(json_object_get(obj, "type"), &name);
		out->object.id = id_of(obj);
		out->object.actor = id_of(json_object_get(obj, "actor"));
		out->object.object = id_of(json_object_get(obj, "object"));
	}
	out->instrument = id_of(json_object_get(root, "instrument"));
	if (out->instrument && !is_http_url(out->instrument))
		out->instrument = NULL;
	if (out->object.id && !is_http_url(out->object.id)) {
		ap_activity_free(out);
		return err_set(e, BB_ERR_INVALID, "the object id is not an http(s) URL");
	}
	return BB_OK;
}

void ap_activity_free(struct ap_activity *a)
{
	json_decref(a->root);
	memset(a, 0, sizeof(*a));
}
