/*
 * url.h — the one URL parser: every layer reads URLs and hosts here.
 *
 * Built on curl's URL API (CURLU), so that what we check is what curl
 * requests.  A URL is accepted only in the form "scheme://authority...":
 * curl alone would also take "https:/h", "https:///h" (host "h"); we do not,
 * nor spaces or control bytes, nor more than URL_MAX bytes.
 *
 * The parsed host is canonical, one spelling per host, so that two URLs of
 * the same server give the same host key (delivery host health, blocked
 * domains, same-origin checks):
 * - lower case; percent-escapes in the host decoded (by curl); only
 *   letters, digits, '-' and '_' in non-empty labels;
 * - an internationalized name in its ASCII (punycode, IDNA2008/UTS 46)
 *   form (libidn2);
 * - one trailing dot dropped: "h.example." names the same host as
 *   "h.example" (the DNS root), so both are "h.example";
 * - an IPv6 literal in brackets, in its RFC 5952 text form ("[::1]"); a
 *   zone id ("%25eth0") is refused, it names no remote host;
 * - IPv4 in dotted decimal (curl turns "0x7f.1" into "127.0.0.1");
 * - the scheme's default port (80 for http, 443 for https, as curl knows
 *   them) dropped, so "https://h:443/" and "https://h/" are one host.
 * User info is parsed and reported (has_userinfo) but never part of a host.
 */
#ifndef BB_URL_H
#define BB_URL_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>

#define URL_MAX 4096			    /* longest URL (and reference) accepted, in bytes */
#define URL_SCHEME_MAX 16		    /* longest scheme */
#define URL_HOST_MAX 253		    /* longest host: a DNS name (RFC 1035), or "[v6]" */
#define URL_HOST_KEY_MAX (URL_HOST_MAX + 6) /* host ":" port */

/* url_parse flags. */
enum url_flag {
	/* Remove "." and ".." path segments (RFC 3986 §5.2.4), as curl does
	 * before it sends a request.  Without it the path is kept as given,
	 * which is what a signature over a received request needs. */
	URL_REMOVE_DOTS = 1 << 0,
};

/* A parsed absolute URL; all fields NUL-terminated. */
struct url {
	char scheme[URL_SCHEME_MAX + 1]; /* lower case */
	char host[URL_HOST_MAX + 1];	 /* canonical, see the top of this file */
	char port[6];			 /* decimal; "" when absent or the default */
	char target[URL_MAX + 1];	 /* path[?query]: "/" at least, no fragment */
	size_t path_len;		 /* bytes of target before the '?' */
	bool has_query;			 /* a '?' was present (even "?" alone) */
	bool has_fragment;		 /* a '#' was present */
	bool has_userinfo;		 /* a user name or password was present */
};

/* Parses s, an absolute "scheme://authority[/path][?query][#fragment]" URL
 * of any scheme, into *out (flags: enum url_flag).  BB_ERR_INVALID when s
 * is not such a URL (no "://", an empty authority, spaces or control
 * bytes, a bad host or port, a zone id, a host that is not a valid IDN); BB_ERR_LIMIT when s is over URL_MAX bytes or the host over
 * URL_HOST_MAX; BB_ERR_NOMEM.  *out is unspecified on failure. */
enum bb_rc url_parse(const char *s, unsigned flags, struct url *out, struct err *e) BB_MUST_CHECK;

/* Whether u's scheme is http or https. */
bool url_is_http(const struct url *u);

/* Whether s (NULL: false) is an absolute http(s) URL as url_parse reads
 * it: the one test of "is this a web URL" for ids, links and images. */
bool url_is_http_str(const char *s);

/* u's host with its port when that is not the default: "h.example",
 * "h.example:8443", "[::1]:8080" — the form of a Host header, RFC 9421's
 * @authority, and the host key.  out holds URL_HOST_KEY_MAX + 1 bytes. */
void url_host_port(const struct url *u, char out[URL_HOST_KEY_MAX + 1]);

/* "scheme://host[:port]" of u, as url_host_port writes the authority.
 * out holds URL_SCHEME_MAX + 3 + URL_HOST_KEY_MAX + 1 bytes. */
#define URL_ORIGIN_MAX (URL_SCHEME_MAX + 3 + URL_HOST_KEY_MAX)
void url_origin(const struct url *u, char out[URL_ORIGIN_MAX + 1]);

/* The URL u in canonical form, "scheme://host[:port]target" (no user info,
 * no fragment), in *out (caller frees).  BB_ERR_LIMIT over URL_MAX bytes,
 * BB_ERR_NOMEM. */
enum bb_rc url_format(const struct url *u, char **out, struct err *e) BB_MUST_CHECK;

/* The host key of the URL s (url_parse, then url_host_port): the one name
 * of a remote host for delivery health and host statistics.  User info is
 * dropped, not refused.  Errors as url_parse. */
enum bb_rc url_host_key(const char *s, char out[URL_HOST_KEY_MAX + 1], struct err *e) BB_MUST_CHECK;

/* True when a and b are URLs with the same origin (RFC 6454: scheme, host
 * and port, compared canonically); false when either does not parse. */
bool url_same_origin(const char *a, const char *b);

/* Resolves the reference ref against the absolute URL base (RFC 3986 §5;
 * base NULL: ref must be absolute itself) into *out (caller frees), as
 * curl writes it: the scheme in lower case, dot segments removed, spaces
 * and non-ASCII bytes of a relative ref percent-encoded (of an absolute
 * one, kept), the host as given (not canonical: a link keeps its
 * spelling).  An absolute ref of any scheme with an authority replaces
 * base.  BB_ERR_INVALID when base is not absolute or ref is malformed
 * (control bytes, "scheme:" without "//", a bad host or port); BB_ERR_LIMIT
 * when an input or the result is over URL_MAX bytes; BB_ERR_NOMEM. */
enum bb_rc url_resolve(const char *base, const char *ref, char **out, struct err *e) BB_MUST_CHECK;

/* True when host (a host or "host:port", as url_host_port writes it; case
 * and a trailing dot do not matter) is one of the domains of blocked or a
 * subdomain of one: "spam.example" blocks "spam.example" and
 * "a.spam.example", not "notspam.example".  blocked is a NULL-terminated
 * list of lower-case ASCII domains, or NULL for none. */
bool url_host_blocked(char *const *blocked, const char *host);


#endif
