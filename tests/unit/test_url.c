/*
 * test_url.c — unit tests for common/url.c: parsing (form, user info,
 * IPv6 literals, ports, IDN, trailing dots, percent-encoding, limits), the
 * canonical host key (the cases the store's own parser was tested with),
 * same-origin, reference resolution and the blocked-domain match.
 */
#include "check.h"

#include "url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct url u;

/* Parses s with flags into the file's u; returns the code. */
static enum bb_rc parse(const char *s, unsigned flags)
{
	struct err e = {0};

	return url_parse(s, flags, &u, &e);
}

/* The host key of s, or the code's name when it fails. */
static const char *key(const char *s)
{
	static char out[URL_HOST_KEY_MAX + 1];
	struct err e = {0};
	enum bb_rc rc = url_host_key(s, out, &e);

	return rc == BB_OK ? out : err_code_name(rc);
}

static void test_parse_parts(void)
{
	CHECK_INT(parse("HTTPS://H.Example:443/a/b?c=d#f", 0), BB_OK);
	CHECK_STR(u.scheme, "https");
	CHECK_STR(u.host, "h.example");
	CHECK_STR(u.port, "");
	CHECK_STR(u.target, "/a/b?c=d");
	CHECK_INT(u.path_len, 4);
	CHECK(u.has_query && u.has_fragment && !u.has_userinfo);
	CHECK(url_is_http(&u));

	/* No path: "/"; an empty query is still a query. */
	CHECK_INT(parse("https://h.example?q", 0), BB_OK);
	CHECK_STR(u.target, "/?q");
	CHECK_INT(u.path_len, 1);
	CHECK_INT(parse("https://h.example/a?", 0), BB_OK);
	CHECK_STR(u.target, "/a?");
	CHECK(u.has_query && !u.has_fragment);
	CHECK_INT(parse("https://h.example", 0), BB_OK);
	CHECK_STR(u.target, "/");
	CHECK(!u.has_query);

	CHECK_INT(parse("wss://h.example/x", 0), BB_OK);
	CHECK_STR(u.scheme, "wss");
	CHECK(!url_is_http(&u));
}

static void test_parse_form(void)
{
	struct err e = {0};
	const char *bad[] = {
	    "mastodon.social/inbox",
	    "https:///inbox",
	    "https://",
	    "://x.example/inbox",
	    "https://x .example/inbox",
	    "",
	    "https:/h.example/x",
	    "https:h.example",
	    "https://h.example/a b",
	    "https://h.example/\x01",
	    "https://h.example/\x7f",
	    "https://a@b@c/",
	    "https://h%00x/",
	    "https://h%2Fx/",
	    "https://h%zz/",
	    "https://a..b/",
	    "https://.h.example/",
	    "https://h.example../",
	    "https://./",
	    "https://%2e/",
	    "https://h!x/",
	    "javascript:alert(1)",
	    "https://h.example:65536/",
	    "https://h.example:x/",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum bb_rc rc = parse(bad[i], 0);
		if (rc != BB_ERR_INVALID)
			check_fail(__FILE__, __LINE__, "'%s' gave %s", bad[i], err_code_name(rc));
	}
	CHECK_INT(url_parse(NULL, 0, &u, &e), BB_ERR_INVALID);
	CHECK_INT(url_parse("https://h.example/ x", 0, &u, &e), BB_ERR_INVALID);
	CHECK(check_contains(e.msg, "space or control"));
}

static void test_parse_userinfo(void)
{
	CHECK_INT(parse("https://u:p@H.example:8443/users/x/inbox?q=1", 0), BB_OK);
	CHECK(u.has_userinfo);
	CHECK_STR(u.host, "h.example");
	CHECK_STR(u.port, "8443");
	CHECK_STR(u.target, "/users/x/inbox?q=1");
	CHECK_INT(parse("https://u@h.example/", 0), BB_OK);
	CHECK(u.has_userinfo);
	CHECK_INT(parse("https://:p@h.example/", 0), BB_OK);
	CHECK(u.has_userinfo);
	CHECK_INT(parse("https://h.example/@x", 0), BB_OK);
	CHECK(!u.has_userinfo);
	CHECK_STR(u.target, "/@x");
}

static void test_parse_ipv6(void)
{
	CHECK_INT(parse("http://[::1]:8080/inbox", 0), BB_OK);
	CHECK_STR(u.host, "[::1]");
	CHECK_STR(u.port, "8080");
	/* One text form (RFC 5952): lower case, zeros compressed. */
	CHECK_INT(parse("http://[0:0::1]/", 0), BB_OK);
	CHECK_STR(u.host, "[::1]");
	CHECK_INT(parse("https://[2001:DB8:0:0:0:0:0:1]:443/", 0), BB_OK);
	CHECK_STR(u.host, "[2001:db8::1]");
	CHECK_STR(u.port, "");
	CHECK_INT(parse("https://[::FFFF:1.2.3.4]/", 0), BB_OK);
	CHECK_STR(u.host, "[::ffff:1.2.3.4]");
	/* A zone id names no remote host; broken literals. */
	CHECK_INT(parse("https://[fe80::1%25eth0]/", 0), BB_ERR_INVALID);
	CHECK_INT(parse("https://[::1/", 0), BB_ERR_INVALID);
	CHECK_INT(parse("https://[zz::1]/", 0), BB_ERR_INVALID);
	/* IPv4 in dotted decimal. */
	CHECK_INT(parse("https://0x7f.1/", 0), BB_OK);
	CHECK_STR(u.host, "127.0.0.1");
}

static void test_parse_ports(void)
{
	CHECK_INT(parse("http://h.example:80/", 0), BB_OK);
	CHECK_STR(u.port, "");
	CHECK_INT(parse("https://h.example:443/", 0), BB_OK);
	CHECK_STR(u.port, "");
	/* Another scheme's default is a port like any. */
	CHECK_INT(parse("https://h.example:80/", 0), BB_OK);
	CHECK_STR(u.port, "80");
	CHECK_INT(parse("http://h.example:443/", 0), BB_OK);
	CHECK_STR(u.port, "443");
	CHECK_INT(parse("https://h.example:8443/", 0), BB_OK);
	CHECK_STR(u.port, "8443");
	CHECK_INT(parse("https://h.example:/x", 0), BB_OK);
	CHECK_STR(u.port, "");
	CHECK_INT(parse("https://h.example:65535/", 0), BB_OK);
	CHECK_STR(u.port, "65535");
}

static void test_parse_idn(void)
{
	CHECK_INT(parse("https://B\xc3\xbc"
			"cher.example/a",
			0),
		  BB_OK);
	CHECK_STR(u.host, "xn--bcher-kva.example");
	CHECK_STR(u.target, "/a");
	CHECK_INT(parse("https://XN--BCHER-KVA.example/", 0), BB_OK);
	CHECK_STR(u.host, "xn--bcher-kva.example");
	CHECK_STR(key("https://b\xc3\xbc"
		      "cher.example.:443/"),
		  "xn--bcher-kva.example");
	/* Not UTF-8. */
	CHECK_INT(parse("https://\xff.example/", 0), BB_ERR_INVALID);
}

static void test_parse_trailing_dot(void)
{
	CHECK_INT(parse("https://H.example./x", 0), BB_OK);
	CHECK_STR(u.host, "h.example");
	CHECK_STR(key("https://h.example.:8443/"), "h.example:8443");
	CHECK_STR(key("https://h.example./"), key("https://h.example/"));
}

static void test_parse_percent(void)
{
	/* Escapes in the host are decoded; in the path kept as written. */
	CHECK_INT(parse("https://h%2Eexample/", 0), BB_OK);
	CHECK_STR(u.host, "h.example");
	CHECK_INT(parse("https://h%41.example/a%2Fb/%7e?x=%20", 0), BB_OK);
	CHECK_STR(u.host, "ha.example");
	CHECK_STR(u.target, "/a%2Fb/%7e?x=%20");
	/* Dot segments: kept unless asked. */
	CHECK_INT(parse("https://h.example/a/../b/./c", 0), BB_OK);
	CHECK_STR(u.target, "/a/../b/./c");
	CHECK_INT(parse("https://h.example/a/../b/./c?q", URL_REMOVE_DOTS), BB_OK);
	CHECK_STR(u.target, "/b/c?q");
}

/* The per-thread memo of recent parses (url.c) gives what a parse gives:
 * keyed by the flags too, every field as parsed, nothing of a failure or
 * of a URL too long to keep. */
static void test_parse_memo(void)
{
	static const char dots[] = "https://u@H.example:8443/a/../b?q#f";
	char long_url[600];
	struct err e = {0};

	for (int round = 0; round < 3; round++) {
		CHECK_INT(parse(dots, 0), BB_OK);
		CHECK_STR(u.target, "/a/../b?q");
		CHECK_STR(u.host, "h.example");
		CHECK_STR(u.port, "8443");
		CHECK_INT(u.path_len, 7);
		CHECK(u.has_query && u.has_fragment && u.has_userinfo);
		CHECK_INT(parse(dots, URL_REMOVE_DOTS), BB_OK);
		CHECK_STR(u.target, "/b?q");
		CHECK_INT(u.path_len, 2);
	}
	/* More distinct URLs than the memo keeps, then the first again. */
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 20; i++) {
			char s[64], host[32], target[16];
			snprintf(s, sizeof(s), "http://h%d.example/p%d", i, i);
			snprintf(host, sizeof(host), "h%d.example", i);
			snprintf(target, sizeof(target), "/p%d", i);
			CHECK_INT(parse(s, 0), BB_OK);
			CHECK_STR(u.host, host);
			CHECK_STR(u.target, target);
			CHECK_STR(u.scheme, "http");
			CHECK(!u.has_query && !u.has_fragment && !u.has_userinfo);
		}
	CHECK_INT(parse(dots, 0), BB_OK);
	CHECK_STR(u.target, "/a/../b?q");
	/* A failure is one every time, with its message. */
	for (int round = 0; round < 2; round++) {
		err_clear(&e);
		CHECK_INT(url_parse("https://h.example:99999/", 0, &u, &e), BB_ERR_INVALID);
		CHECK(e.msg[0] != '\0');
	}
	/* Past the memo's key size: parsed every time, the same result. */
	snprintf(long_url, sizeof(long_url), "https://h.example/%0500d", 7);
	for (int round = 0; round < 2; round++) {
		CHECK_INT(parse(long_url, 0), BB_OK);
		CHECK_INT(strlen(u.target), 501);
	}
}

static void test_parse_limits(void)
{
	char *s = malloc(URL_MAX + 2);
	char host[URL_HOST_MAX + 20];
	size_t n;

	if (s == NULL) {
		CHECK(s != NULL);
		return;
	}
	n = (size_t)snprintf(s, URL_MAX + 2, "https://h.example/");
	memset(s + n, 'a', URL_MAX - n);
	s[URL_MAX] = '\0';
	CHECK_INT(parse(s, 0), BB_OK);
	CHECK_INT(strlen(u.target), URL_MAX - strlen("https://h.example"));
	s[URL_MAX] = 'a';
	s[URL_MAX + 1] = '\0';
	CHECK_INT(parse(s, 0), BB_ERR_LIMIT);
	free(s);

	/* A 253-byte name (three labels of 63, one of 61) passes; 254 not. */
	memset(host, 'a', 253);
	host[63] = host[127] = host[191] = '.';
	host[253] = '\0';
	CHECK_INT(strlen(host), 253);
	{
		char url[URL_HOST_MAX + 40];

		snprintf(url, sizeof(url), "https://%s/", host);
		CHECK_INT(parse(url, 0), BB_OK);
		CHECK_STR(u.host, host);
		/* Its trailing dot does not count. */
		snprintf(url, sizeof(url), "https://%s./", host);
		CHECK_INT(parse(url, 0), BB_OK);
		snprintf(url, sizeof(url), "https://a%s/", host);
		CHECK_INT(parse(url, 0), BB_ERR_LIMIT);
	}
}

static void test_format(void)
{
	char hp[URL_HOST_KEY_MAX + 1], origin[URL_ORIGIN_MAX + 1], *s = NULL;
	struct err e = {0};

	CHECK_INT(parse("HTTPS://u:p@H.Example:443/a/./b?x#y", URL_REMOVE_DOTS), BB_OK);
	url_host_port(&u, hp);
	CHECK_STR(hp, "h.example");
	url_origin(&u, origin);
	CHECK_STR(origin, "https://h.example");
	CHECK_INT(url_format(&u, &s, &e), BB_OK);
	CHECK_STR(s, "https://h.example/a/b?x");
	free(s);
	CHECK_INT(parse("http://[::1]:8080", 0), BB_OK);
	url_host_port(&u, hp);
	CHECK_STR(hp, "[::1]:8080");
	url_origin(&u, origin);
	CHECK_STR(origin, "http://[::1]:8080");
	CHECK_INT(url_format(&u, &s, &e), BB_OK);
	CHECK_STR(s, "http://[::1]:8080/");
	free(s);
}

/* The host rules the delivery queue's own parser had (test_store.c), and
 * the one it lacked: the default port. */
static void test_host_key(void)
{
	struct err e = {0};
	char out[URL_HOST_KEY_MAX + 1];

	CHECK_STR(key("https://Mastodon.Social/inbox"), "mastodon.social");
	CHECK_STR(key("https://u:p@H.example:8443/users/x/inbox?q=1"), "h.example:8443");
	CHECK_STR(key("http://[::1]:8080/inbox"), "[::1]:8080");
	CHECK_STR(key("https://B.example:8443/u/x/inbox"), "b.example:8443");
	CHECK_STR(key("https://H.example:443/x"), "h.example");
	CHECK_STR(key("https://H.example:443/x"), key("https://h.example/y"));
	CHECK_STR(key("http://h.example:80/"), "h.example");
	/* No authority. */
	CHECK_STR(key("mastodon.social/inbox"), "invalid");
	CHECK_STR(key("https:///inbox"), "invalid");
	CHECK_STR(key("https://"), "invalid");
	CHECK_STR(key("://x.example/inbox"), "invalid");
	CHECK_STR(key("https://x .example/inbox"), "invalid");
	CHECK_STR(key(""), "invalid");
	CHECK_INT(url_host_key("https:///inbox", out, &e), BB_ERR_INVALID);
	CHECK_STR(out, "");
	CHECK(e.msg[0] != '\0');
}

static void test_same_origin(void)
{
	CHECK(url_same_origin("https://H.example:443/a", "https://h.example/b?c"));
	CHECK(url_same_origin("https://h.example./a", "https://h.example/b"));
	CHECK(url_same_origin("https://u@h.example/", "https://h.example/"));
	CHECK(url_same_origin("http://[0::1]:80/", "http://[::1]/"));
	CHECK(!url_same_origin("https://h.example/", "http://h.example/"));
	CHECK(!url_same_origin("https://h.example/", "https://h.example:8443/"));
	CHECK(!url_same_origin("https://h.example/", "https://a.h.example/"));
	CHECK(!url_same_origin("https://h.example/", "h.example/"));
	CHECK(!url_same_origin("nope", "nope"));
	CHECK(url_same_origin("https://b\xc3\xbc"
			      "cher.example/",
			      "https://xn--bcher-kva.example/"));
}

/* ref against base: the result, or the code's name. */
static const char *resolve(const char *base, const char *ref)
{
	static char out[256];
	struct err e = {0};
	char *s = NULL;
	enum bb_rc rc = url_resolve(base, ref, &s, &e);

	snprintf(out, sizeof(out), "%s", rc == BB_OK ? s : err_code_name(rc));
	free(s);
	return out;
}

static void test_resolve(void)
{
	const char *b = "https://blog.example/2013/11/post/";
	char *big;

	CHECK_STR(resolve(b, "/p/1"), "https://blog.example/p/1");
	CHECK_STR(resolve(b, "//cdn.example/x"), "https://cdn.example/x");
	CHECK_STR(resolve(b, "x.html"), "https://blog.example/2013/11/post/x.html");
	CHECK_STR(resolve(b, "../a"), "https://blog.example/2013/11/a");
	CHECK_STR(resolve(b, "?q"), "https://blog.example/2013/11/post/?q");
	CHECK_STR(resolve(b, "#f"), "https://blog.example/2013/11/post/#f");
	CHECK_STR(resolve(b, ""), b);
	CHECK_STR(resolve(b, "https://o.example/"), "https://o.example/");
	/* The host keeps its spelling; the scheme is lower-cased. */
	CHECK_STR(resolve(b, "HTTPS://Ex.example/A?b=1&c=2"), "https://Ex.example/A?b=1&c=2");
	/* Spaces and non-ASCII bytes of a relative ref are encoded. */
	CHECK_STR(resolve(b, "a b"), "https://blog.example/2013/11/post/a%20b");
	CHECK_STR(resolve(b, "/\xc3\xa9"), "https://blog.example/%c3%a9");
	CHECK_STR(resolve(NULL, "https://h.example/a/../b"), "https://h.example/b");
	CHECK_STR(resolve(NULL, "/p/1"), "invalid");
	CHECK_STR(resolve(b, "javascript:alert(1)"), "invalid");
	CHECK_STR(resolve(b, "mailto:x@y"), "invalid");
	CHECK_STR(resolve(b, "//"), "invalid");
	CHECK_STR(resolve(b, "/a\x01"), "invalid");
	CHECK_STR(resolve(b, NULL), "invalid");
	CHECK_STR(resolve("/relative/base", "x"), "invalid");
	CHECK_STR(resolve("https:///x", "y"), "invalid");
	big = malloc(URL_MAX + 2);
	if (big != NULL) {
		memset(big, 'a', URL_MAX + 1);
		big[0] = '/';
		big[URL_MAX + 1] = '\0';
		CHECK_STR(resolve(b, big), "limit");
		/* In bounds, but the result is not. */
		big[URL_MAX] = '\0';
		CHECK_STR(resolve(b, big + 1), "limit");
		free(big);
	}
}

static void test_host_blocked(void)
{
	char *blocked[] = {"spam.example", "x.y", NULL};
	char *none[] = {NULL};

	CHECK(url_host_blocked(blocked, "spam.example"));
	CHECK(url_host_blocked(blocked, "a.spam.example"));
	CHECK(url_host_blocked(blocked, "a.b.spam.example:8443"));
	CHECK(url_host_blocked(blocked, "Spam.Example"));
	CHECK(url_host_blocked(blocked, "spam.example."));
	CHECK(url_host_blocked(blocked, "spam.example.:443"));
	CHECK(url_host_blocked(blocked, "x.y"));
	CHECK(!url_host_blocked(blocked, "notspam.example"));
	CHECK(!url_host_blocked(blocked, "spam.example.org"));
	CHECK(!url_host_blocked(blocked, "example"));
	CHECK(!url_host_blocked(blocked, "y"));
	CHECK(!url_host_blocked(blocked, "[::1]:8080"));
	CHECK(!url_host_blocked(blocked, ""));
	CHECK(!url_host_blocked(none, "spam.example"));
	CHECK(!url_host_blocked(NULL, "spam.example"));
	CHECK(!url_host_blocked(blocked, NULL));
	/* With a host key, as the inbox passes it. */
	CHECK(url_host_blocked(blocked, key("https://U@A.Spam.Example.:443/actor")));
}

/* The cases test_host_blocked leaves out: direction, empty entries, the
 * last entry of a longer list, a subdomain with a dot and a port, IDN. */
static void test_host_blocked_more(void)
{
	char *sub[] = {"a.spam.example", NULL};
	char *with_empty[] = {"", "other.example", NULL};
	char *many[] = {"one.example", "two.example", "idn.xn--bcher-kva.example", NULL};

	/* A blocked subdomain does not block its parent or its siblings. */
	CHECK(url_host_blocked(sub, "a.spam.example"));
	CHECK(url_host_blocked(sub, "x.a.spam.example"));
	CHECK(!url_host_blocked(sub, "spam.example"));
	CHECK(!url_host_blocked(sub, "b.spam.example"));
	CHECK(!url_host_blocked(sub, "aa.spam.example"));
	/* An empty entry blocks nothing (not every host). */
	CHECK(!url_host_blocked(with_empty, "spam.example"));
	CHECK(!url_host_blocked(with_empty, "example"));
	CHECK(url_host_blocked(with_empty, "www.other.example"));
	/* Any entry of the list; case, trailing dot and port together. */
	CHECK(url_host_blocked(many, "two.example"));
	CHECK(url_host_blocked(many, "WWW.Two.Example.:8443"));
	CHECK(!url_host_blocked(many, "three.example"));
	/* Nothing but a dot, or a port alone, names no host. */
	CHECK(!url_host_blocked(many, "."));
	CHECK(!url_host_blocked(many, ":443"));
	/* The entry is matched whole at a dot, never inside a label. */
	CHECK(!url_host_blocked(many, "xtwo.example"));
	CHECK(!url_host_blocked(many, "two.example.net"));
	/* An internationalized host (b\303\274cher: UTF-8 for "ü") reaches
	 * the list as its host key, in ACE. */
	CHECK_STR(key("https://IDN.B\303\274cher.example/inbox"), "idn.xn--bcher-kva.example");
	CHECK(url_host_blocked(many, key("https://IDN.B\303\274cher.example/inbox")));
	CHECK(!url_host_blocked(many, key("https://b\303\274cher.example/inbox")));
}

/* url_is_http_str: the one "is this a web URL" test. */
static void test_is_http_str(void)
{
	CHECK(url_is_http_str("https://m.example/users/a"));
	CHECK(url_is_http_str("HTTP://M.example:8080/x?y#k"));
	CHECK(url_is_http_str("https://m.example/users/a#main-key"));
	CHECK(!url_is_http_str(NULL));
	CHECK(!url_is_http_str(""));
	CHECK(!url_is_http_str("ftp://m.example/x"));
	CHECK(!url_is_http_str("javascript:alert(1)"));
	CHECK(!url_is_http_str("https:/m.example/x"));
	CHECK(!url_is_http_str("https://"));
	CHECK(!url_is_http_str("https://m .example/x"));
	CHECK(!url_is_http_str("https://a..b/x"));
	CHECK(!url_is_http_str("/relative/path"));
}

static const struct check_case cases[] = {
    {"parse_parts", test_parse_parts},
    {"parse_form", test_parse_form},
    {"parse_userinfo", test_parse_userinfo},
    {"parse_ipv6", test_parse_ipv6},
    {"parse_ports", test_parse_ports},
    {"parse_idn", test_parse_idn},
    {"parse_trailing_dot", test_parse_trailing_dot},
    {"parse_percent", test_parse_percent},
    {"parse_memo", test_parse_memo},
    {"parse_limits", test_parse_limits},
    {"format", test_format},
    {"host_key", test_host_key},
    {"same_origin", test_same_origin},
    {"resolve", test_resolve},
    {"host_blocked", test_host_blocked},
    {"host_blocked_more", test_host_blocked_more},
    {"is_http_str", test_is_http_str},
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
