/*
 * test_web.c — the pure parts of the admin pages (bridge/web/): session
 * expiry, CSRF token comparison, the login's rate limit, the client
 * address behind a trusted proxy, form fields, and HTML escaping.
 */
#include "check.h"
#include "web_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void t_session_expiry(void)
{
	time_t t0 = 1700000000;

	CHECK(web_session_live(t0, t0, t0));
	CHECK(web_session_live(t0, t0, t0 + WEB_SESSION_IDLE_S - 1));
	/* Idle 12 h: over. */
	CHECK(!web_session_live(t0, t0, t0 + WEB_SESSION_IDLE_S));
	/* Kept alive, but 30 days after the login: over all the same. */
	CHECK(web_session_live(t0, t0 + WEB_SESSION_MAX_S - 60, t0 + WEB_SESSION_MAX_S - 1));
	CHECK(!web_session_live(t0, t0 + WEB_SESSION_MAX_S - 60, t0 + WEB_SESSION_MAX_S));
	/* A session from the future (a clock set back) is not trusted. */
	CHECK(!web_session_live(t0 + 100, t0 + 100, t0));
}

static void t_csrf(void)
{
	const char *tok = "5f1c0a9e5f1c0a9e5f1c0a9e5f1c0a9e5f1c0a9e5f1c0a9e5f1c0a9e5f1c0a9e";

	CHECK(web_csrf_ok(tok, tok));
	CHECK(!web_csrf_ok(tok, NULL));
	CHECK(!web_csrf_ok(tok, ""));
	CHECK(!web_csrf_ok(NULL, tok));
	CHECK(!web_csrf_ok("", ""));
	CHECK(!web_csrf_ok(tok, "5f1c0a9e"));
	CHECK(
	    !web_csrf_ok(tok, "5f1c0a9e5f1c0a9e5f1c0a9e5f1c0a9e5f1c0a9e5f1c0a9e5f1c0a9e5f1c0a9f"));
	CHECK(
	    !web_csrf_ok(tok, "5f1c0a9e5f1c0a9e5f1c0a9e5f1c0a9e5f1c0a9e5f1c0a9e5f1c0a9e5f1c0a9e0"));
}

static void t_rate_limit(void)
{
	static struct web_ratelimit rl = WEB_RATELIMIT_INIT;
	time_t t0 = 1700000000;
	unsigned wait = 0;

	for (int i = 0; i < WEB_LOGIN_FAILS_MAX; i++) {
		CHECK(web_ratelimit_allowed(&rl, "192.0.2.1", t0 + i, NULL));
		web_ratelimit_fail(&rl, "192.0.2.1", t0 + i);
	}
	CHECK(!web_ratelimit_allowed(&rl, "192.0.2.1", t0 + 10, &wait));
	CHECK_INT(wait, WEB_LOGIN_WINDOW_S - 10);
	/* Another address is not affected. */
	CHECK(web_ratelimit_allowed(&rl, "192.0.2.2", t0 + 10, NULL));
	/* The window ends. */
	CHECK(web_ratelimit_allowed(&rl, "192.0.2.1", t0 + WEB_LOGIN_WINDOW_S, NULL));
	web_ratelimit_fail(&rl, "192.0.2.1", t0 + WEB_LOGIN_WINDOW_S);
	CHECK(web_ratelimit_allowed(&rl, "192.0.2.1", t0 + WEB_LOGIN_WINDOW_S + 1, NULL));
	/* A good login forgets the failures. */
	for (int i = 0; i < WEB_LOGIN_FAILS_MAX; i++)
		web_ratelimit_fail(&rl, "192.0.2.3", t0);
	CHECK(!web_ratelimit_allowed(&rl, "192.0.2.3", t0, NULL));
	web_ratelimit_clear(&rl, "192.0.2.3");
	CHECK(web_ratelimit_allowed(&rl, "192.0.2.3", t0, NULL));
}

static void t_rate_limit_full_table(void)
{
	static struct web_ratelimit rl = WEB_RATELIMIT_INIT;
	time_t t0 = 1700000000;
	char addr[32];

	/* The attacker fails first; then more addresses than slots fail once
	 * each, later: the oldest entry (the attacker's) makes room. */
	for (int i = 0; i < WEB_LOGIN_FAILS_MAX; i++)
		web_ratelimit_fail(&rl, "203.0.113.9", t0);
	CHECK(!web_ratelimit_allowed(&rl, "203.0.113.9", t0 + 1, NULL));
	for (int i = 0; i < WEB_RATELIMIT_SLOTS; i++) {
		snprintf(addr, sizeof(addr), "198.51.100.%d", i);
		web_ratelimit_fail(&rl, addr, t0 + 2);
	}
	CHECK(web_ratelimit_allowed(&rl, "203.0.113.9", t0 + 3, NULL));
	/* Those recorded since are still counted. */
	CHECK(web_ratelimit_allowed(&rl, "198.51.100.7", t0 + 3, NULL));
	for (int i = 1; i < WEB_LOGIN_FAILS_MAX; i++)
		web_ratelimit_fail(&rl, "198.51.100.7", t0 + 3);
	CHECK(!web_ratelimit_allowed(&rl, "198.51.100.7", t0 + 3, NULL));
}

static void t_client_addr(void)
{
	char out[WEB_ADDR_MAX];
	const char *trusted = "127.0.0.1, ::1";

	web_client_addr("203.0.113.5", trusted, "198.51.100.1", out);
	CHECK_STR(out, "203.0.113.5"); /* not from a proxy: the header is ignored */
	web_client_addr("127.0.0.1", trusted, NULL, out);
	CHECK_STR(out, "127.0.0.1");
	web_client_addr("127.0.0.1", trusted, "198.51.100.1", out);
	CHECK_STR(out, "198.51.100.1");
	/* The last entry is the one our proxy added; earlier ones are the
	 * client's to forge. */
	web_client_addr("::1", trusted, "10.0.0.1, 198.51.100.2", out);
	CHECK_STR(out, "198.51.100.2");
	web_client_addr("127.0.0.1", "", "198.51.100.1", out);
	CHECK_STR(out, "127.0.0.1");
	web_client_addr("127.0.0.1", trusted, " ", out);
	CHECK_STR(out, "127.0.0.1");
}

static void t_form(void)
{
	const char *body = "csrf=ab12&password=a+b%26c%3D%25&empty=&x=%zz%4";
	char *v;

	v = web_form_value(body, strlen(body), "csrf");
	CHECK(v && strcmp(v, "ab12") == 0);
	free(v);
	v = web_form_value(body, strlen(body), "password");
	CHECK(v && strcmp(v, "a b&c=%") == 0);
	free(v);
	v = web_form_value(body, strlen(body), "empty");
	CHECK(v && strcmp(v, "") == 0);
	free(v);
	v = web_form_value(body, strlen(body), "x");
	CHECK(v && strcmp(v, "%zz%4") == 0);
	free(v);
	CHECK(web_form_value(body, strlen(body), "pass") == NULL);
	CHECK(web_form_value(body, strlen(body), "missing") == NULL);
	/* The length bounds the body: a field past it is not there. */
	CHECK(web_form_value(body, 9, "password") == NULL);
}

static void t_escape(void)
{
	struct web_page p;

	page_init(&p, NULL);
	page_text(&p, "<script>alert(\"x\")</script> & 'q'");
	page_raw(&p, "|");
	page_href(&p, "javascript:alert(1)");
	page_raw(&p, "|");
	page_href(&p, "https://a.example/?a=1&b=\"2\"");
	page_raw(&p, "|");
	page_urlenc(&p, "a b&c/é");
	CHECK(!p.failed);
	CHECK_STR(p.b.data, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"
			    "|#|https://a.example/?a=1&amp;b=&quot;2&quot;|a%20b%26c%2F%C3%A9");
	buf_free(&p.b);
}

/* Avatars: an https URL only, escaped; anything else leaves no <img>. */
static void t_avatar(void)
{
	struct web_page p;
	char long_url[WEB_AVATAR_URL_MAX + 16];

	memset(long_url, 'a', sizeof(long_url) - 1);
	memcpy(long_url, "https://a.example/", 18);
	long_url[sizeof(long_url) - 1] = '\0';
	page_init(&p, NULL);
	page_avatar(&p, "https://a.example/av.png?x=1&y=\"2\"><script>");
	page_raw(&p, "|");
	page_avatar(&p, "http://a.example/av.png");
	page_avatar(&p, "javascript:alert(1)");
	page_avatar(&p, "data:image/png;base64,AAAA");
	page_avatar(&p, "https://");
	page_avatar(&p, "https:///x");
	page_avatar(&p, " https://a.example/av.png");
	page_avatar(&p, long_url);
	page_avatar(&p, NULL);
	page_raw(&p, "|");
	CHECK(!p.failed);
	CHECK_STR(p.b.data, "<img class=\"avatar\" src=\"https://a.example/av.png?x=1&amp;y="
			    "&quot;2&quot;&gt;&lt;script&gt;\" alt=\"\" width=\"32\" height=\"32\" "
			    "loading=\"lazy\" referrerpolicy=\"no-referrer\">||");
	buf_free(&p.b);
}

static const struct check_case cases[] = {
    {"avatar", t_avatar},
    {"session_expiry", t_session_expiry},
    {"csrf", t_csrf},
    {"rate_limit", t_rate_limit},
    {"rate_limit_full_table", t_rate_limit_full_table},
    {"client_addr", t_client_addr},
    {"form", t_form},
    {"escape", t_escape},
};

CHECK_MAIN(cases)
