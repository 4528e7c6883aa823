/*
 * test_http_status.c — the one map from an error code to the HTTP status
 * a peer sees (bridge/http/http.c), and the rule that a peer reads a fixed
 * text for a failure of ours, never the message that is logged.
 */
#include "check.h"
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* The "error" member of res's JSON body (caller frees), or NULL. */
static char *error_text(const struct http_response *res)
{
	json_t *j = res->body ? json_loadb(res->body, res->body_len, 0, NULL) : NULL;
	const char *s = json_string_value(json_object_get(j, "error"));
	char *out = s ? strdup(s) : NULL;

	json_decref(j);
	return out;
}

static void response_free(struct http_response *res)
{
	if (res->body_owned)
		free(res->body);
	free(res->location);
}

static void t_status_map(void)
{
	CHECK_INT(http_status_for(BB_OK), 200);
	CHECK_INT(http_status_for(BB_ERR_INVALID), 400);
	CHECK_INT(http_status_for(BB_ERR_USAGE), 400);
	/* SPEC: 401 for a missing or bad signature; Mastodon retries it and
	 * then tries RFC 9421. */
	CHECK_INT(http_status_for(BB_ERR_AUTH), 401);
	/* A blocked domain (Mastodon answers 403 too). */
	CHECK_INT(http_status_for(BB_ERR_FORBIDDEN), 403);
	CHECK_INT(http_status_for(BB_ERR_NOTFOUND), 404);
	CHECK_INT(http_status_for(BB_ERR_LIMIT), 413);
	/* Worth retrying: Mastodon retries 5xx and never a 4xx other than
	 * 401/408/429 (since 4.5.4 it answers 503 itself when a key fetch
	 * failed for now). */
	CHECK_INT(http_status_for(BB_ERR_BUSY), 503);
	CHECK_INT(http_status_for(BB_ERR_TEMPFAIL), 503);
	/* Our own failures. */
	CHECK_INT(http_status_for(BB_ERR_CONFIG), 500);
	CHECK_INT(http_status_for(BB_ERR_NOMEM), 500);
	CHECK_INT(http_status_for(BB_ERR_IO), 500);
	CHECK_INT(http_status_for(BB_ERR_CRYPTO), 500);
	CHECK_INT(http_status_for(BB_ERR_UNSAFE), 500);
	CHECK_INT(http_status_for(BB_ERR_STORE), 500);
}

/* Every failure code has a fixed, non-empty text, and the status of a
 * failure is never 2xx. */
static void t_reasons(void)
{
	for (int rc = BB_ERR_USAGE; rc <= BB_ERR_TEMPFAIL; rc++) {
		const char *r = http_reason_for((enum bb_rc)rc);
		CHECK(r != NULL && r[0] != '\0');
		CHECK(http_status_for((enum bb_rc)rc) >= 400);
	}
	CHECK_STR(http_reason_for(BB_ERR_STORE), "internal error");
	CHECK_STR(http_reason_for(BB_ERR_BUSY), http_reason_for(BB_ERR_TEMPFAIL));
}

/* A 5xx shows none of the detail: no "database: ..." in a response. */
static void t_server_failure_hides_detail(void)
{
	static const enum bb_rc codes[] = {BB_ERR_STORE, BB_ERR_BUSY, BB_ERR_TEMPFAIL, BB_ERR_NOMEM,
					   BB_ERR_IO};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		struct http_response res = {0};
		char *text;

		http_respond_rc(&res, codes[i], "database: disk I/O error in /var/lib/bb.db");
		text = error_text(&res);
		CHECK_INT(res.status, http_status_for(codes[i]));
		CHECK_STR(res.content_type, "application/json");
		CHECK_STR(text, http_reason_for(codes[i]));
		CHECK(!check_contains(res.body, "database"));
		free(text);
		response_free(&res);
	}
}

/* A refusal of the peer's request carries the reason after the fixed
 * text (the integration test looks for "digest" in a tampered body's). */
static void t_refusal_keeps_reason(void)
{
	struct http_response res = {0};
	char *text;

	http_respond_rc(&res, BB_ERR_AUTH, "Digest does not match the body");
	text = error_text(&res);
	CHECK_INT(res.status, 401);
	CHECK_STR(text, "authentication failed: Digest does not match the body");
	free(text);

	http_respond_rc(&res, BB_ERR_INVALID, NULL);
	text = error_text(&res);
	CHECK_INT(res.status, 400);
	CHECK_STR(text, "malformed request");
	free(text);

	/* Not UTF-8: the fixed text alone, still a JSON body. */
	http_respond_rc(&res, BB_ERR_FORBIDDEN, "key \xff\xfe");
	text = error_text(&res);
	CHECK_INT(res.status, 403);
	CHECK_STR(text, "forbidden");
	free(text);
	response_free(&res);
}

/* Every 503 (busy, a full disk, a peer down) says when to come back; a
 * Retry-After already chosen is kept; other statuses carry none. */
static void t_retry_after(void)
{
	for (int rc = BB_OK; rc <= BB_ERR_TEMPFAIL; rc++) {
		struct http_response res = {0};

		http_respond_rc(&res, (enum bb_rc)rc, NULL);
		if (res.status == 503)
			CHECK(res.retry_after > 0);
		else
			CHECK_INT(res.retry_after, 0);
		response_free(&res);
	}
	{
		struct http_response res = {.retry_after = 120};

		http_respond_rc(&res, BB_ERR_TEMPFAIL, NULL);
		CHECK_INT(res.status, 503);
		CHECK_INT(res.retry_after, 120);
		response_free(&res);
	}
}

/* After a failed start: the listen socket closed once, whether
 * libmicrohttpd closed it or not, and never a file that took its number. */
static void t_listen_socket_release(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int keep = fcntl(fd, F_DUPFD_CLOEXEC, 0), other;
	struct stat sb;

	/* Not closed by the library: closed here, keep too. */
	CHECK(fd >= 0 && keep >= 0);
	http_listen_socket_release(fd, keep);
	CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF);
	CHECK(fcntl(keep, F_GETFD) < 0 && errno == EBADF);

	/* Closed by the library, its number taken by another file since:
	 * that file stays open. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	keep = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	CHECK(fd >= 0 && keep >= 0);
	close(fd);
	other = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK_INT(other, fd);
	http_listen_socket_release(fd, keep);
	CHECK(fstat(other, &sb) == 0 && S_ISCHR(sb.st_mode));
	CHECK(fcntl(keep, F_GETFD) < 0 && errno == EBADF);
	close(other);

	/* Closed, number free. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	keep = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	close(fd);
	http_listen_socket_release(fd, keep);
	CHECK(fcntl(keep, F_GETFD) < 0 && errno == EBADF);
}

static const struct check_case cases[] = {
    {"status_map", t_status_map},
    {"retry_after", t_retry_after},
    {"reasons", t_reasons},
    {"server_failure_hides_detail", t_server_failure_hides_detail},
    {"refusal_keeps_reason", t_refusal_keeps_reason},
    {"listen_socket_release", t_listen_socket_release},
};

CHECK_MAIN(cases)
