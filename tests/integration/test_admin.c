/*
 * test_admin.c — the admin pages of the real binary, over loopback:
 * `passwd`, the login and its cookies, the security headers of every
 * answer, the CSRF check (a wrong token changes nothing in the store),
 * removing a follower, blocking a server (its followers go, its follows
 * are refused), resending a post, logout, session fixation, the login's
 * rate limit behind a trusted proxy, and hostile names escaped.
 * Invoked as `test_admin PATH/TO/blogbridge [CASE...]`.
 */
#include "bridge_proc.h"
#include "check.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSWORD "a long admin password"
#define XSS "<script>alert(1)</script>"

static const char *binary;

/* One exchange, with the raw response headers kept. */
struct answer {
	long status;
	char *body;
	size_t len;
	char headers[8192];
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct answer *a = arg;
	size_t n = size * nmemb;
	char *b = realloc(a->body, a->len + n + 1);

	if (b == NULL)
		return 0;
	memcpy(b + a->len, data, n);
	a->body = b;
	a->len += n;
	b[a->len] = '\0';
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct answer *a = arg;
	size_t n = size * nmemb, have = strlen(a->headers);

	if (have + n < sizeof(a->headers)) {
		memcpy(a->headers + have, data, n);
		a->headers[have + n] = '\0';
	}
	return n;
}

static void answer_free(struct answer *a)
{
	free(a->body);
	memset(a, 0, sizeof(*a));
}

/* A request to path with cookie (may be NULL) and a form body (NULL for a
 * GET); xff an X-Forwarded-For (may be NULL). */
static bool ask(const struct bridge *b, const char *path, const char *cookie, const char *form,
		const char *xff, struct answer *a)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char url[2048], line[1024];
	CURLcode rc;

	memset(a, 0, sizeof(*a));
	if (h == NULL)
		return false;
	snprintf(url, sizeof(url), "%s%s", b->origin, path);
	if (cookie != NULL) {
		snprintf(line, sizeof(line), "Cookie: %s", cookie);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (xff != NULL) {
		snprintf(line, sizeof(line), "X-Forwarded-For: %s", xff);
		hdrs = curl_slist_append(hdrs, line);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
	if (form != NULL)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (a->body == NULL)
		a->body = calloc(1, 1);
	return rc == CURLE_OK && a->body != NULL;
}

/* The value of the first header name (case-insensitive) into out. */
static const char *header(const struct answer *a, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);

	for (const char *p = a->headers; p && *p;
	     p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (*v == ' ')
				v++;
			snprintf(out, n, "%.*s", (int)strcspn(v, "\r\n"), v);
			return out;
		}
	}
	return NULL;
}

/* The value of cookie name set by a, into out (64 hex digits). */
static const char *set_cookie(const struct answer *a, const char *name, char *out, size_t n,
			      char *attrs, size_t an)
{
	char want[64];
	const char *p;

	snprintf(want, sizeof(want), "Set-Cookie: %s=", name);
	p = strstr(a->headers, want);
	if (p == NULL)
		return NULL;
	p += strlen(want);
	snprintf(out, n, "%.*s", (int)strcspn(p, ";\r\n"), p);
	if (attrs)
		snprintf(attrs, an, "%.*s", (int)strcspn(p, "\r\n"), p);
	return out;
}

/* The value of the first hidden csrf field of a page. */
static const char *csrf_of(const char *body, char *out, size_t n)
{
	const char *p = strstr(body, "name=\"csrf\" value=\"");

	if (p == NULL)
		return NULL;
	p += strlen("name=\"csrf\" value=\"");
	snprintf(out, n, "%.*s", (int)strcspn(p, "\""), p);
	return out;
}

static void check_security_headers(const struct answer *a, int line)
{
	char v[256];

	if (!header(a, "Cache-Control", v, sizeof(v)) || strcmp(v, "no-store") != 0)
		check_fail(__FILE__, line, "Cache-Control: %s",
			   header(a, "Cache-Control", v, sizeof(v)) ? v : "none");
	/* Nothing from elsewhere but avatars (https: images): no script at
	 * all, inline or not. */
	if (!header(a, "Content-Security-Policy", v, sizeof(v)) ||
	    strcmp(v, "default-src 'self'; img-src 'self' https:") != 0)
		check_fail(__FILE__, line, "CSP: %s",
			   header(a, "Content-Security-Policy", v, sizeof(v)) ? v : "none");
	if (!header(a, "X-Frame-Options", v, sizeof(v)) || strcmp(v, "DENY") != 0)
		check_fail(__FILE__, line, "no X-Frame-Options");
	if (!header(a, "Referrer-Policy", v, sizeof(v)) || strcmp(v, "same-origin") != 0)
		check_fail(__FILE__, line, "no Referrer-Policy");
}

/* Sets the password with `passwd` (stdin), and creates the database. */
static bool set_password(struct bridge *b, const char *pw)
{
	char *argv[] = {(char *)b->binary, "-c", b->conf, "passwd", NULL};
	char *argv2[] = {(char *)b->binary, "-c", b->conf, "followers", NULL};
	char input[256];
	char *out = NULL, *err = NULL;
	int st;

	snprintf(input, sizeof(input), "%s\n", pw);
	st = check_run(argv, input, &out, &err);
	if (st != 0)
		check_fail(__FILE__, __LINE__, "passwd: %d %s", st, err ? err : "");
	free(out);
	free(err);
	out = err = NULL;
	if (check_run(argv2, NULL, &out, &err) != 0)
		st = -1;
	free(out);
	free(err);
	return st == 0;
}

/* Followers on three servers (one name hostile), and a post whose
 * Create failed for one server. */
static void seed(struct bridge *b)
{
	bridge_db_exec(
	    b, "INSERT INTO followers VALUES"
	       " ('https://good.example/u/alice', '@alice@good.example',"
	       "  'https://good.example/u/alice/inbox', 'https://good.example/inbox',"
	       "  'https://good.example/f/1', 1700000000),"
	       " ('https://good.example/u/x', '@\"><img src=x onerror=alert(2)>@good.example',"
	       "  'https://good.example/u/x/inbox', NULL, 'https://good.example/f/2', 1700000001),"
	       " ('https://evil.example/u/1', '@" XSS "@evil.example',"
	       "  'https://evil.example/u/1/inbox', NULL, 'https://evil.example/f/3', 1700000002),"
	       " ('https://a.evil.example/u/2', '@two@a.evil.example',"
	       "  'https://a.evil.example/u/2/inbox', NULL, 'https://a.evil.example/f/4',"
	       "  1700000003)");
	bridge_db_exec(b,
		       "INSERT INTO posts(guid, ap_id, url, title, hash, object_json, published,"
		       " updated, created_at) VALUES ('g1', '%q/ap/posts/p1',"
		       " 'https://blog.test/p1', '" XSS " post', 'h', '{}', 1700000000, 1700000000,"
		       " 1700000000)",
		       b->origin);
	bridge_db_exec(b,
		       "INSERT INTO activities(ap_id, json, created_at) VALUES"
		       " ('%q/ap/posts/p1/activity', '{}', 1700000000)",
		       b->origin);
	bridge_db_exec(b, "INSERT INTO hosts(host) VALUES ('good.example')");
	bridge_db_exec(b, "INSERT INTO deliveries(activity, inbox, host, state, attempts,"
			  " next_attempt, last_status, last_error, created_at, updated_at)"
			  " VALUES (1, 'https://good.example/inbox', 'good.example', 2, 9, 0, 410,"
			  " 'gone', 1700000000, 1700000000)");
}

struct session {
	char cookie[256];
	char csrf[80];
};

/* Logs in (from xff, may be NULL); the answer's status. */
static long login(const struct bridge *b, const char *pw, const char *extra_cookie, const char *xff,
		  struct session *s)
{
	struct answer a;
	char token[80], form[512], cookie[512], esc_pw[256];
	long status;

	memset(s, 0, sizeof(*s));
	if (!ask(b, "/admin/login", NULL, NULL, xff, &a))
		return 0;
	if (!set_cookie(&a, "bb_login", token, sizeof(token), NULL, 0)) {
		answer_free(&a);
		return 0;
	}
	answer_free(&a);
	snprintf(esc_pw, sizeof(esc_pw), "%s", pw);
	for (char *p = esc_pw; *p; p++)
		if (*p == ' ')
			*p = '+';
	snprintf(form, sizeof(form), "csrf=%s&password=%s", token, esc_pw);
	snprintf(cookie, sizeof(cookie), "bb_login=%s%s%s", token, extra_cookie ? "; " : "",
		 extra_cookie ? extra_cookie : "");
	if (!ask(b, "/admin/login", cookie, form, xff, &a))
		return 0;
	status = a.status;
	if (status == 303) {
		char id[128];
		if (set_cookie(&a, "bb_admin", id, sizeof(id), NULL, 0))
			snprintf(s->cookie, sizeof(s->cookie), "bb_admin=%s", id);
		answer_free(&a);
		if (ask(b, "/admin", s->cookie, NULL, NULL, &a) && a.status == 200)
			csrf_of(a.body, s->csrf, sizeof(s->csrf));
	}
	answer_free(&a);
	return status;
}

static bool started(struct bridge *b)
{
	if (!bridge_setup(b, binary, "blocked_domains = config-blocked.example\n"))
		return false;
	if (!set_password(b, PASSWORD)) {
		bridge_remove(b);
		return false;
	}
	seed(b);
	if (!bridge_start(b)) {
		bridge_dump_log(b);
		bridge_remove(b);
		return false;
	}
	return true;
}

static void stopped(struct bridge *b)
{
	bridge_stop(b, SIGTERM);
	bridge_check_log_clean(b);
	if (check_failures)
		bridge_dump_log(b);
	bridge_remove(b);
}

static void t_no_password(void)
{
	struct bridge b = {0};
	struct answer a;

	if (!bridge_setup(&b, binary, ""))
		return;
	if (!bridge_start(&b)) {
		bridge_remove(&b);
		return;
	}
	CHECK(ask(&b, "/admin", NULL, NULL, NULL, &a));
	CHECK(a.status == 200);
	CHECK(check_contains(a.body, "blogbridge -c bridge.conf passwd"));
	CHECK(!check_contains(a.body, "/admin/followers"));
	check_security_headers(&a, __LINE__);
	answer_free(&a);
	CHECK(ask(&b, "/admin/followers", NULL, NULL, NULL, &a));
	CHECK(a.status == 200 && !check_contains(a.body, "<table"));
	answer_free(&a);
	CHECK(ask(&b, "/admin/login", NULL, "csrf=x&password=", NULL, &a));
	CHECK_INT((int)a.status, 403);
	answer_free(&a);
	/* `passwd` while serve runs: the login works at once. */
	CHECK(set_password(&b, PASSWORD));
	{
		struct session s;
		CHECK_INT((int)login(&b, PASSWORD, NULL, NULL, &s), 303);
		CHECK(s.csrf[0] != '\0');
	}
	stopped(&b);
}

static void t_login_and_headers(void)
{
	struct bridge b = {0};
	struct session s;
	struct answer a;
	char token[80], attrs[256], form[256], cookie[320], v[256];

	if (!started(&b))
		return;
	/* Without a session: pages redirect to the login, POSTs are 403. */
	CHECK(ask(&b, "/admin/followers", NULL, NULL, NULL, &a));
	CHECK_INT((int)a.status, 303);
	CHECK(header(&a, "Location", v, sizeof(v)) && check_contains(v, "/admin/login"));
	check_security_headers(&a, __LINE__);
	answer_free(&a);
	CHECK(ask(&b, "/admin/followers/remove", NULL, "csrf=&actor=x", NULL, &a));
	CHECK_INT((int)a.status, 403);
	answer_free(&a);
	/* The login form, and its cookie. */
	CHECK(ask(&b, "/admin/login", NULL, NULL, NULL, &a));
	CHECK_INT((int)a.status, 200);
	check_security_headers(&a, __LINE__);
	CHECK(set_cookie(&a, "bb_login", token, sizeof(token), attrs, sizeof(attrs)) != NULL);
	CHECK(check_contains(a.body, "name=\"password\"") && check_contains(a.body, token));
	answer_free(&a);
	/* The login form's token is checked too. */
	snprintf(form, sizeof(form), "csrf=wrong&password=%s", "a+long+admin+password");
	snprintf(cookie, sizeof(cookie), "bb_login=%s", token);
	CHECK(ask(&b, "/admin/login", cookie, form, NULL, &a));
	CHECK_INT((int)a.status, 403);
	CHECK(set_cookie(&a, "bb_admin", v, sizeof(v), NULL, 0) == NULL);
	answer_free(&a);
	/* A wrong password. */
	CHECK_INT((int)login(&b, "not the password", NULL, NULL, &s), 403);
	CHECK(s.cookie[0] == '\0');
	/* The right one: a session cookie with every flag, no Secure on http. */
	CHECK(ask(&b, "/admin/login", NULL, NULL, NULL, &a));
	CHECK(set_cookie(&a, "bb_login", token, sizeof(token), NULL, 0) != NULL);
	answer_free(&a);
	snprintf(form, sizeof(form), "csrf=%s&password=%s", token, "a+long+admin+password");
	snprintf(cookie, sizeof(cookie), "bb_login=%s", token);
	CHECK(ask(&b, "/admin/login", cookie, form, NULL, &a));
	CHECK_INT((int)a.status, 303);
	check_security_headers(&a, __LINE__);
	CHECK(set_cookie(&a, "bb_admin", v, sizeof(v), attrs, sizeof(attrs)) != NULL);
	CHECK_INT((int)strlen(v), 64);
	CHECK(check_contains(attrs, "HttpOnly") && check_contains(attrs, "SameSite=Strict") &&
	      check_contains(attrs, "Path=/admin") && !check_contains(attrs, "Secure"));
	/* The store keeps the id's hash, never the id. */
	CHECK_INT(
	    (int)bridge_db_int(&b, "SELECT count(*) FROM admin_sessions WHERE id_hash = %Q", v), 0);
	CHECK_INT((int)bridge_db_int(&b, "SELECT count(*) FROM admin_sessions"), 1);
	answer_free(&a);
	/* Every page answers, with the headers. */
	snprintf(cookie, sizeof(cookie), "bb_admin=%s", v);
	{
		const char *pages[] = {
		    "/admin",	     "/admin/followers", "/admin/posts",	"/admin/deliveries",
		    "/admin/blocks", "/admin/style.css", "/admin/followers.csv"};
		for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
			CHECK(ask(&b, pages[i], cookie, NULL, NULL, &a));
			if (a.status != 200)
				check_fail(__FILE__, __LINE__, "%s: %ld", pages[i], a.status);
			check_security_headers(&a, __LINE__);
			answer_free(&a);
		}
	}
	stopped(&b);
}

static void t_csrf_and_actions(void)
{
	struct bridge b = {0};
	struct session s;
	struct answer a;
	char form[512];
	json_t *arr;

	if (!started(&b))
		return;
	CHECK_INT((int)login(&b, PASSWORD, NULL, NULL, &s), 303);
	CHECK(s.csrf[0] != '\0');
	/* A display name from the actor cache, hostile. */
	bridge_db_exec(
	    &b, "INSERT INTO actors(id, inbox, handle, key_id, public_key_pem, fetched_at,"
		" name) VALUES ('https://good.example/u/alice', 'https://good.example/i',"
		" '@alice@good.example', 'https://good.example/u/alice#k', 'pem', 1700000000,"
		" 'Alice " XSS "')");
	/* (A leading @ = + - is quoted with ' so that a spreadsheet does not
	 * take the field for a formula.) */
	CHECK(ask(&b, "/admin/followers.csv", s.cookie, NULL, NULL, &a));
	CHECK(check_contains(a.body, "actor,handle,name,server,inbox,shared_inbox,since\r\n"));
	CHECK(check_contains(a.body, "\"https://good.example/u/alice\",\"'@alice@good.example\","
				     "\"Alice " XSS "\",\"good.example\""));
	answer_free(&a);
	CHECK(ask(&b, "/admin/followers", s.cookie, NULL, NULL, &a));
	CHECK(check_contains(a.body, "Alice &lt;script&gt;alert(1)&lt;/script&gt;"));
	answer_free(&a);
	/* Avatars: an https one shown, escaped; http and other schemes left
	 * out (the CSP takes https: images only). */
	bridge_db_exec(&b, "UPDATE actors SET avatar = 'https://good.example/a.png?s=1&t=\"x'"
			   " WHERE id = 'https://good.example/u/alice'");
	bridge_db_exec(
	    &b, "INSERT INTO actors(id, inbox, handle, key_id, public_key_pem, fetched_at, avatar)"
		" VALUES ('https://good.example/u/x', 'https://good.example/i', '@x@good.example',"
		" 'https://good.example/u/x#k', 'pem', 1700000000, 'http://good.example/x.png'),"
		" ('https://evil.example/u/1', 'https://evil.example/i', '@e@evil.example',"
		" 'https://evil.example/u/1#k', 'pem', 1700000000, 'javascript:alert(1)')");
	CHECK(ask(&b, "/admin/followers", s.cookie, NULL, NULL, &a));
	CHECK(check_contains(a.body, "<img class=\"avatar\" src=\"https://good.example/a.png?s=1"
				     "&amp;t=&quot;x\" alt=\"\""));
	CHECK(!check_contains(a.body, "http://good.example/x.png"));
	CHECK(!check_contains(a.body, "javascript:"));
	check_security_headers(&a, __LINE__);
	answer_free(&a);
	/* Hostile names are escaped. */
	CHECK(ask(&b, "/admin/followers", s.cookie, NULL, NULL, &a));
	CHECK(!check_contains(a.body, XSS) && check_contains(a.body, "&lt;script&gt;"));
	CHECK(!check_contains(a.body, "<img src=x"));
	CHECK(check_contains(a.body, "4 followers"));
	answer_free(&a);
	CHECK(ask(&b, "/admin/posts", s.cookie, NULL, NULL, &a));
	CHECK(!check_contains(a.body, XSS) && check_contains(a.body, "&lt;script&gt;"));
	answer_free(&a);
	/* Search by a server's or a handle's beginning. */
	CHECK(ask(&b, "/admin/followers?q=evil.example", s.cookie, NULL, NULL, &a));
	CHECK(check_contains(a.body, "1 follower matching"));
	answer_free(&a);
	CHECK(ask(&b, "/admin/followers?q=good.ex", s.cookie, NULL, NULL, &a));
	CHECK(check_contains(a.body, "2 followers matching"));
	answer_free(&a);
	CHECK(ask(&b, "/admin/followers?q=%40two", s.cookie, NULL, NULL, &a));
	CHECK(check_contains(a.body, "1 follower matching") &&
	      check_contains(a.body, "a.evil.example"));
	answer_free(&a);
	/* A wrong or missing CSRF token: 403, nothing removed. */
	CHECK(ask(&b, "/admin/followers/remove", s.cookie,
		  "csrf=0000&actor=https%3A%2F%2Fgood.example%2Fu%2Falice", NULL, &a));
	CHECK_INT((int)a.status, 403);
	check_security_headers(&a, __LINE__);
	answer_free(&a);
	CHECK(ask(&b, "/admin/followers/remove", s.cookie,
		  "actor=https%3A%2F%2Fgood.example%2Fu%2Falice", NULL, &a));
	CHECK_INT((int)a.status, 403);
	answer_free(&a);
	CHECK(ask(&b, "/admin/blocks/add", s.cookie, "csrf=&value=good.example", NULL, &a));
	CHECK_INT((int)a.status, 403);
	answer_free(&a);
	CHECK_INT((int)bridge_db_int(&b, "SELECT count(*) FROM followers"), 4);
	CHECK_INT((int)bridge_db_int(&b, "SELECT count(*) FROM blocks"), 0);
	/* The right token: removed. */
	snprintf(form, sizeof(form), "csrf=%s&actor=https%%3A%%2F%%2Fgood.example%%2Fu%%2Falice",
		 s.csrf);
	CHECK(ask(&b, "/admin/followers/remove", s.cookie, form, NULL, &a));
	CHECK_INT((int)a.status, 303);
	answer_free(&a);
	CHECK_INT((int)bridge_db_int(&b, "SELECT count(*) FROM followers WHERE actor ="
					 " 'https://good.example/u/alice'"),
		  0);
	/* Block a server: its followers (subdomains too) go. */
	snprintf(form, sizeof(form), "csrf=%s&value=Evil.Example", s.csrf);
	CHECK(ask(&b, "/admin/blocks/add", s.cookie, form, NULL, &a));
	CHECK_INT((int)a.status, 303);
	answer_free(&a);
	CHECK_INT(
	    (int)bridge_db_int(&b, "SELECT count(*) FROM followers WHERE actor LIKE '%%evil%%'"),
	    0);
	CHECK_INT((int)bridge_db_int(&b, "SELECT count(*) FROM followers"), 1);
	arr = bridge_cli_json(&b, "blocks");
	CHECK(arr != NULL && json_array_size(arr) == 2);
	CHECK(find_by(arr, "value", "evil.example") != NULL);
	CHECK(find_by(arr, "value", "config-blocked.example") != NULL);
	json_decref(arr);
	CHECK(ask(&b, "/admin/blocks", s.cookie, NULL, NULL, &a));
	CHECK(check_contains(a.body, "evil.example") &&
	      check_contains(a.body, "config-blocked.example"));
	answer_free(&a);
	/* Resend the post to the failed server: queued again. */
	snprintf(form, sizeof(form), "csrf=%s&url=https%%3A%%2F%%2Fblog.test%%2Fp1&all=0", s.csrf);
	CHECK(ask(&b, "/admin/posts/resend", s.cookie, form, NULL, &a));
	CHECK_INT((int)a.status, 303);
	answer_free(&a);
	CHECK_INT((int)bridge_db_int(&b, "SELECT count(*) FROM deliveries WHERE state = 2"), 0);
	CHECK(ask(&b, "/admin/post?url=https%3A%2F%2Fblog.test%2Fp1", s.cookie, NULL, NULL, &a));
	CHECK_INT((int)a.status, 200);
	CHECK(check_contains(a.body, "good.example"));
	answer_free(&a);
	/* The server's record, and "retry now" for an unavailable one: once
	 * the worker has tried the resent delivery (its failure writes the
	 * host's record too, which would overwrite the one set here). */
	CHECK(bridge_wait_db(&b, 0,
			     "SELECT count(*) FROM deliveries WHERE host = %Q AND state = 0"
			     " AND attempts = 0",
			     "good.example"));
	bridge_db_exec(&b, "UPDATE hosts SET unavailable = 1, last_failure = 1700000000,"
			   " last_success = 1690000000 WHERE host = 'good.example'");
	bridge_db_exec(&b, "INSERT INTO host_failures VALUES ('good.example', 20231114),"
			   " ('good.example', 20231113)");
	/* The worker's failure started the server's outage; set it back to
	 * when the test says it began. */
	CHECK_INT((int)bridge_db_int(&b, "SELECT count(*) FROM host_outages"
					 " WHERE host = 'good.example'"),
		  1);
	bridge_db_exec(&b, "UPDATE host_outages SET since = 1699900000");
	CHECK(ask(&b, "/admin/deliveries", s.cookie, NULL, NULL, &a));
	CHECK(check_contains(a.body, "unavailable") && check_contains(a.body, "2023-11-14 22:13") &&
	      check_contains(a.body, "2023-07-22") && check_contains(a.body, "Retry now"));
	CHECK(check_contains(a.body, "<th>Failing since</th>"));
	CHECK(check_contains(a.body, "unavailable</span><br><span class=\"muted\">since "
				     "2023-11-13 18:26"));
	answer_free(&a);
	snprintf(form, sizeof(form), "csrf=%s&host=good.example", s.csrf);
	CHECK(ask(&b, "/admin/deliveries/retry", s.cookie, form, NULL, &a));
	CHECK_INT((int)a.status, 303);
	answer_free(&a);
	CHECK_INT(
	    (int)bridge_db_int(&b, "SELECT unavailable FROM hosts WHERE host = 'good.example'"), 0);
	/* Its failure days are gone (the worker, trying the row made due,
	 * may already have recorded today's: good.example does not resolve). */
	CHECK_INT((int)bridge_db_int(&b, "SELECT count(*) FROM host_failures"
					 " WHERE day IN (20231113, 20231114)"),
		  0);
	/* "Retry now" does not end the outage: only a success does. */
	CHECK(ask(&b, "/admin/deliveries", s.cookie, NULL, NULL, &a));
	CHECK(check_contains(a.body, "<td>2023-11-13 18:26"));
	answer_free(&a);
	/* Logout: the session is over. */
	snprintf(form, sizeof(form), "csrf=%s", s.csrf);
	CHECK(ask(&b, "/admin/logout", s.cookie, form, NULL, &a));
	CHECK_INT((int)a.status, 303);
	answer_free(&a);
	CHECK_INT((int)bridge_db_int(&b, "SELECT count(*) FROM admin_sessions"), 0);
	CHECK(ask(&b, "/admin/followers", s.cookie, NULL, NULL, &a));
	CHECK_INT((int)a.status, 303);
	answer_free(&a);
	snprintf(form, sizeof(form), "csrf=%s&value=good.example", s.csrf);
	CHECK(ask(&b, "/admin/blocks/add", s.cookie, form, NULL, &a));
	CHECK_INT((int)a.status, 403);
	answer_free(&a);
	CHECK_INT((int)bridge_db_int(&b, "SELECT count(*) FROM blocks"), 1);
	stopped(&b);
}

/* Comments under the post: two waiting (hostile content and author
 * name among them), one private, and a mention. */
static void seed_comments(struct bridge *b)
{
	bridge_db_exec(b,
		       "INSERT INTO actors(id, inbox, handle, key_id, public_key_pem, fetched_at,"
		       " name, url, avatar) VALUES ('https://good.example/u/bob',"
		       " 'https://good.example/i', '@bob@good.example',"
		       " 'https://good.example/u/bob#k', 'pem', 1700000000, '" XSS "Bob',"
		       " 'https://good.example/@bob', 'https://good.example/bob.png')");
	bridge_db_exec(b,
		       "INSERT INTO comments(ap_id, post, parent, author, content, status,"
		       " published, updated, received) VALUES"
		       " ('https://good.example/n/1', 1, NULL, 'https://good.example/u/bob',"
		       "  '<p>first " XSS "<img src=x onerror=alert(3)></p>', 0, 1700000100,"
		       "  1700000100, 1700000100),"
		       " ('https://good.example/n/2', 1, 'https://good.example/n/1',"
		       "  'https://good.example/u/bob', '<p>second</p>', 0, 1700000200, 1700000200,"
		       "  1700000200),"
		       " ('https://good.example/n/3', 1, NULL, 'https://good.example/u/bob',"
		       "  '<p>just for you</p>', 3, 1700000300, 1700000300, 1700000300)");
	bridge_db_exec(
	    b, "INSERT INTO mentions(ap_id, author, content, published, received) VALUES"
	       " ('https://good.example/n/9', 'https://good.example/u/bob', '<p>hey @blog</p>',"
	       "  1700000400, 1700000400)");
}

static void t_comments(void)
{
	struct bridge b = {0};
	struct session s;
	struct answer a;
	char form[1024];

	if (!started(&b))
		return;
	seed_comments(&b);
	CHECK_INT((int)bridge_db_int(&b, "SELECT count(*) FROM mentions"), 1);
	CHECK_INT((int)login(&b, PASSWORD, NULL, NULL, &s), 303);
	CHECK(ask(&b, "/admin", s.cookie, NULL, NULL, &a));
	CHECK(check_contains(a.body, "<b>2</b>comments waiting"));
	answer_free(&a);
	/* The queue: waiting ones first, private replies apart. */
	CHECK(ask(&b, "/admin/comments", s.cookie, NULL, NULL, &a));
	CHECK_INT((int)a.status, 200);
	CHECK(check_contains(a.body, "first") && check_contains(a.body, "second"));
	CHECK(!check_contains(a.body, "just for you"));
	CHECK(check_contains(a.body, "in reply to"));
	CHECK(!check_contains(a.body, XSS) && !check_contains(a.body, "onerror"));
	CHECK(check_contains(a.body, "&lt;script&gt;alert(1)&lt;/script&gt;Bob"));
	CHECK(check_contains(a.body, "<img class=\"avatar\" src=\"https://good.example/bob.png\""));
	check_security_headers(&a, __LINE__);
	answer_free(&a);
	CHECK(ask(&b, "/admin/comments?show=private", s.cookie, NULL, NULL, &a));
	CHECK(check_contains(a.body, "just for you") && !check_contains(a.body, "second"));
	answer_free(&a);
	CHECK(ask(&b, "/admin/comments?show=mentions", s.cookie, NULL, NULL, &a));
	CHECK(check_contains(a.body, "hey @blog"));
	answer_free(&a);
	/* A wrong token changes nothing. */
	CHECK(ask(&b, "/admin/comments/moderate", s.cookie,
		  "csrf=00&action=approve&id=https%3A%2F%2Fgood.example%2Fn%2F1", NULL, &a));
	CHECK_INT((int)a.status, 403);
	answer_free(&a);
	CHECK_INT((int)bridge_db_int(&b, "SELECT count(*) FROM comments WHERE status = 0"), 2);
	/* One approved; then both at once rejected (bulk). */
	snprintf(form, sizeof(form),
		 "csrf=%s&action=approve&show=pending&id=https%%3A%%2F%%2Fgood.example%%2Fn%%2F1",
		 s.csrf);
	CHECK(ask(&b, "/admin/comments/moderate", s.cookie, form, NULL, &a));
	CHECK_INT((int)a.status, 303);
	answer_free(&a);
	CHECK_INT((int)bridge_db_int(
		      &b, "SELECT status FROM comments WHERE ap_id = 'https://good.example/n/1'"),
		  1);
	snprintf(form, sizeof(form),
		 "csrf=%s&action=reject&id=https%%3A%%2F%%2Fgood.example%%2Fn%%2F1"
		 "&id=https%%3A%%2F%%2Fgood.example%%2Fn%%2F2",
		 s.csrf);
	CHECK(ask(&b, "/admin/comments/moderate", s.cookie, form, NULL, &a));
	CHECK_INT((int)a.status, 303);
	answer_free(&a);
	CHECK_INT((int)bridge_db_int(&b, "SELECT count(*) FROM comments WHERE status = 2"), 2);
	/* A private reply is never made public. */
	snprintf(form, sizeof(form),
		 "csrf=%s&action=approve&id=https%%3A%%2F%%2Fgood.example%%2Fn%%2F3", s.csrf);
	CHECK(ask(&b, "/admin/comments/moderate", s.cookie, form, NULL, &a));
	answer_free(&a);
	CHECK_INT((int)bridge_db_int(
		      &b, "SELECT status FROM comments WHERE ap_id = 'https://good.example/n/3'"),
		  3);
	/* A block hides the server's comments (waiting or shown): rejected;
	 * a private reply stays as it was. */
	bridge_db_exec(&b,
		       "INSERT INTO comments(ap_id, post, author, content, status, published,"
		       " updated, received) VALUES ('https://good.example/n/4', 1,"
		       " 'https://good.example/u/bob', '<p>later</p>', 1, 1700000500, 1700000500,"
		       " 1700000500)");
	snprintf(form, sizeof(form), "csrf=%s&value=good.example", s.csrf);
	CHECK(ask(&b, "/admin/blocks/add", s.cookie, form, NULL, &a));
	CHECK_INT((int)a.status, 303);
	answer_free(&a);
	CHECK_INT((int)bridge_db_int(&b, "SELECT status FROM comments WHERE ap_id = "
					 "'https://good.example/n/4'"),
		  2);
	CHECK_INT((int)bridge_db_int(&b, "SELECT status FROM comments WHERE ap_id = "
					 "'https://good.example/n/3'"),
		  3);
	stopped(&b);
}

static void t_fixation_and_rate_limit(void)
{
	struct bridge b = {0};
	struct session s;
	const char *planted =
	    "bb_admin=1111111111111111111111111111111111111111111111111111111111111111";

	if (!started(&b))
		return;
	/* A session id planted in the browser is never the one given. */
	CHECK_INT((int)login(&b, PASSWORD, planted, NULL, &s), 303);
	CHECK(s.cookie[0] && strcmp(s.cookie, planted) != 0);
	/* Failed logins from one client (X-Forwarded-For, believed from
	 * 127.0.0.1): refused after 5, even with the right password. */
	for (int i = 0; i < 5; i++)
		CHECK_INT((int)login(&b, "wrong password!", NULL, "198.51.100.77", &s), 403);
	CHECK_INT((int)login(&b, PASSWORD, NULL, "198.51.100.77", &s), 429);
	/* Another client is not affected. */
	CHECK_INT((int)login(&b, PASSWORD, NULL, "198.51.100.78", &s), 303);
	stopped(&b);
}

static void t_cli(void)
{
	struct bridge b = {0};
	char *argv_short[] = {NULL, "-c", NULL, "passwd", NULL};
	char *argv_resend[] = {NULL, "-c", NULL, "posts", "resend", "https://blog.test/p1", NULL};
	char *argv_dl[] = {NULL,     "-c", NULL, "posts", "deliveries", "https://blog.test/p1",
			   "--json", NULL};
	char *out = NULL, *err = NULL;
	json_t *j;

	if (!bridge_setup(&b, binary, ""))
		return;
	argv_short[0] = argv_resend[0] = argv_dl[0] = (char *)b.binary;
	argv_short[2] = argv_resend[2] = argv_dl[2] = b.conf;
	/* Under 10 characters: refused, the file unchanged. */
	CHECK_INT(check_run(argv_short, "short\n", &out, &err), 2);
	CHECK(err && check_contains(err, "at least 10"));
	free(out);
	free(err);
	CHECK(set_password(&b, PASSWORD));
	seed(&b);
	CHECK_INT(check_run(argv_dl, NULL, &out, &err), 0);
	j = out ? json_loads(out, 0, NULL) : NULL;
	CHECK(json_is_array(j) && json_array_size(j) == 1);
	CHECK(jstr(json_array_get(j, 0), "state") &&
	      strcmp(jstr(json_array_get(j, 0), "state"), "failed") == 0);
	CHECK_INT((int)jint(json_array_get(j, 0), "last_status"), 410);
	json_decref(j);
	free(out);
	free(err);
	CHECK_INT(check_run(argv_resend, NULL, &out, &err), 0);
	CHECK(out && check_contains(out, "1 delivery queued again"));
	free(out);
	free(err);
	CHECK_INT((int)bridge_db_int(&b, "SELECT state FROM deliveries"), 0);
	bridge_remove(&b);
}

/* The likes of the post p1 as /api/comments counts them, or -1. */
static long long api_likes(const struct bridge *b)
{
	struct reply r = {0};
	long long n = -1;
	json_t *j;

	if (!bridge_http(b, "GET", "/api/comments?post=https%3A%2F%2Fblog.test%2Fp1", NULL, NULL, 0,
			 &r) ||
	    r.status != 200) {
		reply_free(&r);
		return -1;
	}
	j = json_loads(r.body, 0, NULL);
	if (json_is_integer(json_object_get(j, "likes")))
		n = json_integer_value(json_object_get(j, "likes"));
	json_decref(j);
	reply_free(&r);
	return n;
}

/* The likes and boosts of p1 as `posts --json` and the posts page (its
 * row ends with the comments, likes, boosts and quotes) count them,
 * checked against want (p1 has no shown comment nor quote here). */
static void posts_counts(const struct bridge *b, const struct session *s, long long likes,
			 long long boosts, int line)
{
	struct answer a;
	char want[128];
	json_t *arr = bridge_cli_json(b, "posts");
	json_t *p = arr ? find_by(arr, "url", "https://blog.test/p1") : NULL;

	if (p == NULL || jint(p, "likes") != likes || jint(p, "boosts") != boosts)
		check_fail(__FILE__, line, "posts --json: %lld likes %lld boosts, not %lld %lld",
			   p ? jint(p, "likes") : -1, p ? jint(p, "boosts") : -1, likes, boosts);
	json_decref(arr);
	snprintf(want, sizeof(want), "<td>0</td><td>%lld</td><td>%lld</td><td>0</td></tr>", likes,
		 boosts);
	if (!ask(b, "/admin/posts", s->cookie, NULL, NULL, &a) || a.status != 200 ||
	    !check_contains(a.body, want))
		check_fail(__FILE__, line, "the posts page (%ld) lacks %s", a.status, want);
	answer_free(&a);
}

/* Rewrites the line "key = ..." of b's config with value. */
static void set_conf(struct bridge *b, const char *key, const char *value)
{
	char text[4096], rewritten[4600], line[64];
	FILE *f = fopen(b->conf, "r");
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	char *at, *end;

	if (f)
		fclose(f);
	text[n] = '\0';
	snprintf(line, sizeof(line), "\n%s = ", key);
	at = strstr(text, line);
	end = at ? strchr(at + 1, '\n') : NULL;
	CHECK(at != NULL && end != NULL);
	if (at == NULL || end == NULL)
		return;
	snprintf(rewritten, sizeof(rewritten), "%.*s%s%s%s", (int)(at - text), text, line, value,
		 end);
	bridge_write_conf(b, rewritten);
}

static void set_feed(struct bridge *b, const char *value)
{
	set_conf(b, "feed", value);
}

static void set_blocked(struct bridge *b, const char *value)
{
	set_conf(b, "blocked_domains", value);
}

/* Reactions of a blocked server are not counted: a block (the admin's)
 * removes its likes, boosts and quotes, as a config block does at start;
 * lifting the block brings none back. */
static void t_blocked_reactions(void)
{
	struct bridge b = {0};
	struct session s;
	struct answer a;
	char form[512];

	if (!bridge_setup(&b, binary,
			  "blocked_domains = config-blocked.example, other-blocked.example\n"))
		return;
	if (!set_password(&b, PASSWORD)) {
		bridge_remove(&b);
		return;
	}
	seed(&b);
	bridge_db_exec(&b, "INSERT INTO reactions(post, type, actor, activity_id, published) VALUES"
			   " (1, 2, 'https://sub.other-blocked.example/u/8',"
			   "  'https://sub.other-blocked.example/q/8', 1),"
			   " (1, 0, 'https://good.example/u/alice', 'https://good.example/l/1', 1),"
			   " (1, 0, 'https://evil.example/u/1', 'https://evil.example/l/1', 2),"
			   " (1, 1, 'https://a.evil.example/u/2', 'https://a.evil.example/b/1', 3),"
			   " (1, 0, 'https://config-blocked.example/u/9',"
			   "  'https://config-blocked.example/l/9', 4)");
	bridge_db_exec(&b, "INSERT INTO comments(ap_id, post, author, content, status, published,"
			   " updated, received) VALUES ('https://config-blocked.example/n/1', 1,"
			   " 'https://config-blocked.example/u/9', '<p>hidden</p>', 1, 5, 5, 5)");
	if (!bridge_start(&b)) {
		bridge_dump_log(&b);
		bridge_remove(&b);
		return;
	}
	/* The config's block took the like and the comment at start. */
	CHECK_INT((int)bridge_db_int(&b, "SELECT count(*) FROM reactions WHERE actor LIKE"
					 " 'https://config-blocked.example/%%'"),
		  0);
	CHECK_INT((int)bridge_db_int(&b, "SELECT count(*) FROM reactions WHERE type = 2"), 0);
	CHECK_INT((int)bridge_db_int(&b, "SELECT status FROM comments WHERE ap_id ="
					 " 'https://config-blocked.example/n/1'"),
		  2);
	CHECK_INT((int)api_likes(&b), 2);
	CHECK_INT((int)login(&b, PASSWORD, NULL, NULL, &s), 303);
	posts_counts(&b, &s, 2, 1, __LINE__);
	/* The admin blocks evil.example: its like and its subdomain's boost go. */
	snprintf(form, sizeof(form), "csrf=%s&value=evil.example", s.csrf);
	CHECK(ask(&b, "/admin/blocks/add", s.cookie, form, NULL, &a));
	CHECK_INT((int)a.status, 303);
	answer_free(&a);
	CHECK_INT((int)api_likes(&b), 1);
	posts_counts(&b, &s, 1, 0, __LINE__);
	CHECK_INT((int)bridge_db_int(&b, "SELECT count(*) FROM reactions"), 1);
	/* An actor block takes only that actor's. */
	snprintf(form, sizeof(form), "csrf=%s&value=https%%3A%%2F%%2Fgood.example%%2Fu%%2Falice",
		 s.csrf);
	CHECK(ask(&b, "/admin/blocks/add", s.cookie, form, NULL, &a));
	CHECK_INT((int)a.status, 303);
	answer_free(&a);
	CHECK_INT((int)api_likes(&b), 0);
	/* Unblocking brings nothing back. */
	snprintf(form, sizeof(form), "csrf=%s&value=evil.example", s.csrf);
	CHECK(ask(&b, "/admin/blocks/remove", s.cookie, form, NULL, &a));
	CHECK_INT((int)a.status, 303);
	answer_free(&a);
	CHECK_INT((int)bridge_db_int(&b, "SELECT count(*) FROM blocks"), 1);
	CHECK_INT((int)api_likes(&b), 0);
	/* A domain added to the config is applied at the next start. */
	bridge_stop(&b, SIGTERM);
	bridge_db_exec(&b, "INSERT INTO reactions(post, type, actor, activity_id, published) VALUES"
			   " (1, 0, 'https://late.example/u/1', 'https://late.example/l/1', 6),"
			   " (1, 0, 'https://kept.example/u/1', 'https://kept.example/l/1', 7)");
	set_blocked(&b, "config-blocked.example, other-blocked.example, late.example");
	CHECK(bridge_start(&b));
	CHECK_INT((int)bridge_db_int(&b, "SELECT count(*) FROM reactions"), 1);
	CHECK_INT((int)api_likes(&b), 1);
	stopped(&b);
}

/* The feed at path in b's folder. */
static void write_feed(struct bridge *b, const char *text)
{
	free(check_write_file(b->dir, "feed.xml", text));
}

/* The overview's last poll: the one at start (items found), one that
 * failed on a broken feed, one whose feed is gone, one whose http feed
 * answers 404, each with its error shown escaped; `blogbridge poll`
 * records its polls too. */
static void t_last_poll(void)
{
	struct bridge b = {0};
	struct session s;
	struct answer a;
	char *argv[] = {NULL, "-c", NULL, "poll", NULL};
	char *out = NULL, *err = NULL;

	if (!bridge_setup(&b, binary, ""))
		return;
	argv[0] = (char *)b.binary;
	argv[2] = b.conf;
	write_feed(&b,
		   "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>T</title>"
		   "<link>https://blog.test/</link><description>d</description>"
		   "<item><title>One</title><link>https://blog.test/1</link><guid>g1</guid>"
		   "<pubDate>Tue, 14 Nov 2023 10:00:00 GMT</pubDate><description>a</description>"
		   "</item><item><title>Two</title><link>https://blog.test/2</link>"
		   "<guid>g2</guid><pubDate>Tue, 14 Nov 2023 11:00:00 GMT</pubDate>"
		   "<description>b</description></item></channel></rss>\n");
	if (!set_password(&b, PASSWORD) || !bridge_start(&b)) {
		bridge_dump_log(&b);
		bridge_remove(&b);
		return;
	}
	/* serve polls at start. */
	CHECK(bridge_wait_db(&b, 1, "SELECT count(*) FROM meta WHERE key = %Q", "feed_poll_at"));
	CHECK_INT((int)login(&b, PASSWORD, NULL, NULL, &s), 303);
	CHECK(ask(&b, "/admin", s.cookie, NULL, NULL, &a));
	CHECK(check_contains(a.body, "<p id=\"last-poll\">Last poll: "));
	CHECK(check_contains(a.body, ", ok: 2 items, 0 new, 2 imported, 0 updated, 0 unchanged."));
	answer_free(&a);
	/* A malformed feed: `poll` fails, and the overview says why. */
	write_feed(&b, "<rss><channel><title>broken</titl></channel>");
	CHECK(check_run(argv, NULL, &out, &err) != 0);
	free(out);
	free(err);
	CHECK(ask(&b, "/admin", s.cookie, NULL, NULL, &a));
	CHECK(check_contains(a.body, "<p id=\"last-poll\" class=\"bad\">Last poll: "));
	CHECK(check_contains(a.body, ", error: <span id=\"poll-error\">feed /"));
	CHECK(check_contains(a.body, "/feed.xml: "));
	if (check_failures)
		fprintf(stderr, "%s\n", a.body);
	CHECK(check_contains(a.body, "</span>. Last good poll: 20"));
	answer_free(&a);
	/* The feed gone, under a name that is markup: shown as text. */
	set_feed(&b, "gone<b>x</b>.xml");
	out = err = NULL;
	CHECK(check_run(argv, NULL, &out, &err) != 0);
	CHECK(err != NULL && check_contains(err, "gone<b>x</b>.xml"));
	free(out);
	free(err);
	CHECK(ask(&b, "/admin", s.cookie, NULL, NULL, &a));
	CHECK(check_contains(a.body, "gone&lt;b&gt;x&lt;/b&gt;.xml"));
	CHECK(!check_contains(a.body, "gone<b>"));
	CHECK(check_contains(a.body, "class=\"bad\">Last poll: "));
	answer_free(&a);
	/* An http feed answering an error status (the bridge's own 404). */
	{
		char url[160];
		snprintf(url, sizeof(url), "%s/no-such-feed.xml", b.origin);
		set_feed(&b, url);
	}
	out = err = NULL;
	CHECK(check_run(argv, NULL, &out, &err) != 0);
	free(out);
	free(err);
	CHECK(ask(&b, "/admin", s.cookie, NULL, NULL, &a));
	CHECK(check_contains(a.body, "/no-such-feed.xml: HTTP status 404</span>"));
	CHECK(!check_contains(a.body, "id=\"moved\""));
	answer_free(&a);
	/* After a move (recorded as `blogbridge move` records it), the
	 * overview says where to, escaped. */
	CHECK_INT(bridge_db_exec(&b, "INSERT INTO meta (key, value) VALUES ('moved_to', %Q)",
				 "https://new.test/@a<b>"),
		  1);
	CHECK(ask(&b, "/admin", s.cookie, NULL, NULL, &a));
	CHECK(check_contains(a.body, "<p id=\"moved\" class=\"bad\">Moved to "
				     "https://new.test/@a&lt;b&gt; (blogbridge move)"));
	answer_free(&a);
	stopped(&b);
}

static const struct check_case cases[] = {
    {"blocked_reactions", t_blocked_reactions},
    {"last_poll", t_last_poll},
    {"no_password", t_no_password},
    {"login_and_headers", t_login_and_headers},
    {"csrf_and_actions", t_csrf_and_actions},
    {"comments", t_comments},
    {"fixation_and_rate_limit", t_fixation_and_rate_limit},
    {"cli", t_cli},
};

int main(int argc, char **argv)
{
	binary = bridge_main_init(argc, argv, "test_admin");
	if (binary == NULL)
		return 2;
	return check_main(argc - 1, argv + 1, cases, sizeof(cases) / sizeof(cases[0]));
}
