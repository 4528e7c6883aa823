/*
 * test_accept.c — content negotiation with the Accept headers that
 * Mastodon, Fedify and browsers really send.
 */
#include "accept.h"
#include "check.h"

static void t_activitypub_clients(void)
{
	/* Mastodon's JsonLdHelper#build_request (json_ld_helper.rb:357-362). */
	CHECK_INT(accept_negotiate("application/activity+json, application/ld+json"),
		  ACCEPT_ACTIVITY_JSON);
	/* Mastodon's search by URL (fetch_resource_service.rb:6). */
	CHECK_INT(accept_negotiate("application/ld+json; "
				   "profile=\"https://www.w3.org/ns/activitystreams\", "
				   "application/activity+json, text/html;q=0.1"),
		  ACCEPT_ACTIVITY_JSON);
	CHECK_INT(accept_negotiate("application/ld+json; "
				   "profile=\"https://www.w3.org/ns/activitystreams\""),
		  ACCEPT_ACTIVITY_JSON);
	CHECK_INT(accept_negotiate("application/activity+json"), ACCEPT_ACTIVITY_JSON);
	CHECK_INT(accept_negotiate("Application/Activity+JSON"), ACCEPT_ACTIVITY_JSON);
	CHECK_INT(accept_negotiate("application/json"), ACCEPT_ACTIVITY_JSON);
	CHECK_INT(accept_negotiate(NULL), ACCEPT_ACTIVITY_JSON);
	CHECK_INT(accept_negotiate(""), ACCEPT_ACTIVITY_JSON);
	CHECK_INT(accept_negotiate("*/*"), ACCEPT_ACTIVITY_JSON);
	CHECK_INT(accept_negotiate("application/*"), ACCEPT_ACTIVITY_JSON);
}

static void t_browsers(void)
{
	/* Firefox and Chromium. */
	CHECK_INT(accept_negotiate("text/html,application/xhtml+xml,application/xml;q=0.9,"
				   "*/*;q=0.8"),
		  ACCEPT_HTML);
	CHECK_INT(accept_negotiate("text/html,application/xhtml+xml,application/xml;q=0.9,"
				   "image/avif,image/webp,image/apng,*/*;q=0.8,"
				   "application/signed-exchange;v=b3;q=0.7"),
		  ACCEPT_HTML);
	CHECK_INT(accept_negotiate("text/html"), ACCEPT_HTML);
	CHECK_INT(accept_negotiate("text/*"), ACCEPT_HTML);
	/* q decides, in both directions. */
	CHECK_INT(accept_negotiate("text/html;q=0.5, application/activity+json;q=0.9"),
		  ACCEPT_ACTIVITY_JSON);
	CHECK_INT(accept_negotiate("text/html;q=0.9, application/activity+json;q=0.5"),
		  ACCEPT_HTML);
	CHECK_INT(accept_negotiate("text/html ; q=1.0 , application/activity+json ; q=0.50"),
		  ACCEPT_HTML);
	/* An explicit q=0 refuses a type even when a wildcard would allow it. */
	CHECK_INT(accept_negotiate("application/activity+json;q=0, text/html;q=0.1"),
		  ACCEPT_HTML);
	CHECK_INT(accept_negotiate("*/*;q=0.5, application/json;q=0, application/ld+json;q=0"),
		  ACCEPT_HTML);
	/* Any one of the JSON types suffices. */
	CHECK_INT(accept_negotiate("application/json;q=0, application/ld+json, text/html;q=0.9"),
		  ACCEPT_ACTIVITY_JSON);
}

static void t_none(void)
{
	CHECK_INT(accept_negotiate("image/png"), ACCEPT_NONE);
	CHECK_INT(accept_negotiate("image/png, text/plain"), ACCEPT_NONE);
	CHECK_INT(accept_negotiate("*/*;q=0"), ACCEPT_NONE);
	CHECK_INT(accept_negotiate(",,,;;;"), ACCEPT_NONE);
}

static const struct check_case cases[] = {
	{"activitypub_clients", t_activitypub_clients},
	{"browsers", t_browsers},
	{"none", t_none},
};

CHECK_MAIN(cases)
