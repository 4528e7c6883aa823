/*
 * test_notify_mail.c — the admin's notification mail (bridge/notify.h):
 * header text with CR and LF turned to spaces (no header injection),
 * RFC 2047 encoded-words for what is not ASCII (each within 75
 * characters, cut between characters), display names quoted,
 * quoted-printable lines, and the whole message of follows and comments.
 */
#include "check.h"
#include "notify.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* f(s) into a NUL-terminated string (static, for one check). */
static const char *run(enum bb_rc (*f)(const char *, struct buf *), const char *s)
{
	static char out[8192];
	struct buf b;

	buf_init(&b, sizeof(out) - 1);
	CHECK_INT(f(s, &b), BB_OK);
	snprintf(out, sizeof(out), "%.*s", (int)b.len, b.data ? b.data : "");
	buf_free(&b);
	return out;
}

/* Decodes the encoded-words of s (an independent reading: split at
 * "=?UTF-8?B?", base64 through OpenSSL), checking each word's length. */
static const char *decode(const char *s)
{
	static char out[8192];
	size_t o = 0;

	while ((s = strstr(s, "=?UTF-8?B?")) != NULL) {
		const char *end = strstr(s + 10, "?=");
		unsigned char dec[128];
		int n;
		if (end == NULL)
			break;
		CHECK((size_t)(end + 2 - s) <= 75);
		n = EVP_DecodeBlock(dec, (const unsigned char *)s + 10, (int)(end - s - 10));
		for (const char *q = end - 1; n > 0 && *q == '='; q--)
			n--;
		/* Each word is whole characters: it does not end inside one. */
		if (n > 0) {
			int i = n - 1;
			while (i > 0 && (dec[i] & 0xc0) == 0x80)
				i--;
			int want = dec[i] < 0x80 ? 1 : dec[i] >= 0xf0 ? 4 : dec[i] >= 0xe0 ? 3 : 2;
			CHECK_INT(n - i, want);
		}
		memcpy(out + o, dec, (size_t)n);
		o += (size_t)n;
		s = end + 2;
	}
	out[o] = '\0';
	return out;
}

static void t_header_text(void)
{
	CHECK_STR(run(notify_header_text, "New follower: @a@b.example"),
		  "New follower: @a@b.example");
	/* CR, LF and every other control: spaces. */
	CHECK_STR(run(notify_header_text, "x\r\nBcc: evil@x.example\r\n\r\nbody"),
		  "x  Bcc: evil@x.example    body");
	CHECK_STR(run(notify_header_text, "a\tb\x01"
					  "c\x7f"),
		  "a b c ");
	CHECK(strchr(run(notify_header_text, "\n\r"), '\n') == NULL);
	CHECK_STR(run(notify_header_text, ""), "");
	/* Not ASCII: encoded-words, with CR LF inside stripped too. */
	const char *enc = run(notify_header_text, "Blög\r\nBcc: x");
	CHECK(strncmp(enc, "=?UTF-8?B?", 10) == 0);
	CHECK(strstr(enc, "Bcc:") == NULL);
	CHECK_STR(decode(enc), "Blög  Bcc: x");
	/* A C1 control (U+0085, NEL) is a control too. */
	CHECK_STR(decode(run(notify_header_text, "a\xc2\x85"
						 "é")),
		  "a é");
	/* Long text: several words, each at most 75 characters, folded with
	 * CRLF SP, never cut inside a character. */
	char longs[400] = "";
	size_t ll = 0;
	for (int i = 0; i < 60; i++)
		ll += (size_t)snprintf(longs + ll, sizeof(longs) - ll, "%s", i % 3 ? "é" : "日");
	enc = run(notify_header_text, longs);
	CHECK_STR(decode(enc), longs);
	CHECK(strstr(enc, "?=\r\n =?UTF-8?B?") != NULL);
	for (const char *p = enc; (p = strstr(p, "\r\n")) != NULL; p += 2)
		CHECK(p[2] == ' '); /* every line break is a fold */
	/* Invalid UTF-8: U+FFFD. */
	CHECK_STR(decode(run(notify_header_text, "a\xff"
						 "b")),
		  "a\xef\xbf\xbd"
		  "b");
}

static void t_header_phrase(void)
{
	CHECK_STR(run(notify_header_phrase, "My Blog"), "\"My Blog\"");
	CHECK_STR(run(notify_header_phrase, "a \"b\" \\c"), "\"a \\\"b\\\" \\\\c\"");
	CHECK_STR(run(notify_header_phrase, "a\r\nTo: x"), "\"a  To: x\"");
	const char *enc = run(notify_header_phrase, "Blög \"x\"");
	CHECK(strncmp(enc, "=?UTF-8?B?", 10) == 0);
	CHECK_STR(decode(enc), "Blög \"x\"");
}

static const char *qp(const char *s)
{
	static char out[4096];
	struct buf b;

	buf_init(&b, sizeof(out) - 1);
	CHECK_INT(notify_qp(s, strlen(s), &b), BB_OK);
	snprintf(out, sizeof(out), "%.*s", (int)b.len, b.data ? b.data : "");
	buf_free(&b);
	return out;
}

static void t_qp(void)
{
	CHECK_STR(qp("plain text\n"), "plain text\r\n");
	CHECK_STR(qp("a=b é\r\n"), "a=3Db =C3=A9\r\n");
	CHECK_STR(qp("trailing \nand\t\n"), "trailing=20\r\nand=09\r\n");
	CHECK_STR(qp("end "), "end=20");
	/* A long line: soft breaks, no line over 76 characters, nothing lost. */
	char line[300];
	memset(line, 'x', 200);
	memcpy(line + 200, "\n", 2);
	const char *out = qp(line);
	size_t xs = 0, col = 0;
	for (const char *p = out; *p; p++) {
		if (p[0] == '\r' && p[1] == '\n') {
			CHECK(col <= 76);
			col = 0;
			p++;
			continue;
		}
		col++;
		xs += *p == 'x';
	}
	CHECK_INT(xs, 200);
	CHECK(strstr(out, "=\r\n") != NULL);
	/* An "=XX" is never split by a soft break. */
	char es[200] = "";
	for (int i = 0; i < 40; i++)
		memcpy(es + 2 * i, "é", 3);
	out = qp(es);
	for (const char *p = out; (p = strstr(p, "=\r\n")) != NULL; p += 3)
		CHECK(p[3] == '=' || p[3] == '\0');
}

/* The message of m, NUL-terminated (free it). */
static char *mail(const struct notify_mail *m)
{
	struct buf b;

	buf_init(&b, NOTIFY_MAIL_MAX + 8192);
	CHECK_INT(notify_mail_write(m, &b), BB_OK);
	CHECK_INT(buf_append(&b, "", 1), BB_OK);
	return buf_take(&b);
}

/* The header part of msg (up to the blank line) as its own string. */
static char *headers_of(const char *msg)
{
	const char *end = strstr(msg, "\r\n\r\n");

	return strndup(msg, end ? (size_t)(end - msg) + 2 : strlen(msg));
}

static void t_mail_follow(void)
{
	const char *ev[] = {
	    "{\"event\":\"follow\",\"actor\":\"https://m.example/users/a\",\"handle\":"
	    "\"@a@m.example\",\"name\":\"A\\r\\nBcc: evil@x.example\",\"url\":"
	    "\"https://m.example/@a\",\"time\":\"2026-01-02T03:04:05Z\"}"};
	struct notify_mail m = {.from = "blog@blog.example",
				.from_name = "My Blog",
				.to = "me@mail.example",
				.host = "blog.example",
				.msg_id = "0123abcd",
				.date = 86400 * 365,
				.events = ev,
				.count = 1,
				.admin_url = "https://blog.example/admin/comments"};
	char *msg = mail(&m), *h = msg ? headers_of(msg) : NULL;

	if (h == NULL)
		return;
	CHECK(strncmp(msg, "Date: Fri, 01 Jan 1971 00:00:00 +0000\r\n", 39) == 0);
	CHECK(check_contains(h, "\r\nFrom: \"My Blog\" <blog@blog.example>\r\n"));
	CHECK(check_contains(h, "\r\nTo: <me@mail.example>\r\n"));
	/* The peer's name is in the subject, its CR LF as spaces. */
	CHECK(check_contains(h, "\r\nSubject: [My Blog] New follower: @a@m.example (A  Bcc: "
				"evil@x.example)\r\n"));
	CHECK(!check_contains(h, "\nBcc:"));
	CHECK(check_contains(h, "\r\nMessage-ID: <0123abcd@blog.example>\r\n"));
	CHECK(check_contains(h, "\r\nMIME-Version: 1.0\r\n"));
	CHECK(check_contains(h, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
	CHECK(check_contains(h, "\r\nContent-Transfer-Encoding: quoted-printable\r\n"));
	/* Every line of the message ends in CRLF. */
	for (const char *p = msg; (p = strchr(p, '\n')) != NULL; p++)
		CHECK(p > msg && p[-1] == '\r');
	CHECK(check_contains(msg, "New followers (1):"));
	CHECK(check_contains(msg, "  @a@m.example (A  Bcc: evil@x.example)\r\n"));
	CHECK(check_contains(msg, "    https://m.example/@a\r\n"));
	CHECK(!check_contains(msg, "Approve or reject"));
	free(h);
	free(msg);
}

static void t_mail_batch(void)
{
	const char *ev[] = {
	    "{\"event\":\"follow\",\"actor\":\"https://m.example/users/a\",\"handle\":null,"
	    "\"name\":null,\"url\":null,\"time\":\"2026-01-02T03:04:05Z\"}",
	    "{\"event\":\"comment\",\"id\":\"https://m.example/notes/1\",\"url\":"
	    "\"https://m.example/@b/1\",\"actor\":\"https://m.example/users/b\",\"handle\":"
	    "\"@b@m.example\",\"name\":\"Bé\",\"post\":{\"title\":\"Hello\",\"url\":"
	    "\"https://blog.example/hello/\"},\"excerpt\":\"Nice = post\",\"admin_url\":"
	    "\"https://blog.example/admin/comments\",\"time\":\"2026-01-02T03:04:05Z\"}",
	    "not JSON",
	    "{\"event\":\"comment\",\"id\":\"https://m.example/notes/2\",\"actor\":"
	    "\"https://m.example/users/c\",\"post\":{\"title\":\"Hello\"},\"excerpt\":\"x\"}"};
	struct notify_mail m = {.from = "blog@blog.example",
				.from_name = "Blög",
				.to = "me@mail.example",
				.host = "blog.example",
				.msg_id = "1",
				.date = 0,
				.events = ev,
				.count = 4,
				.more = true,
				.admin_url = "https://blog.example/admin/comments"};
	char *msg = mail(&m), *h = msg ? headers_of(msg) : NULL;
	char subject[256] = "";
	const char *s;

	if (h == NULL)
		return;
	s = strstr(h, "\r\nSubject: ");
	CHECK(s != NULL);
	if (s) {
		const char *end = strstr(s + 2, "\r\n");
		while (end && end[2] == ' ')
			end = strstr(end + 2, "\r\n");
		snprintf(subject, sizeof(subject), "%.*s", (int)(end - s - 11), s + 11);
	}
	CHECK_STR(decode(subject), "[Blög] 1 new follower, 2 comments awaiting moderation");
	CHECK(check_contains(h, "\r\nFrom: =?UTF-8?B?"));
	CHECK(check_contains(msg, "New followers (1):"));
	CHECK(check_contains(msg, "  https://m.example/users/a\r\n"));
	CHECK(check_contains(msg, "Comments waiting for moderation (2):"));
	/* Quoted-printable: "é" and "=" encoded. */
	CHECK(check_contains(msg, "  @b@m.example (B=C3=A9) on \"Hello\"\r\n"));
	CHECK(check_contains(msg, "    Nice =3D post\r\n"));
	CHECK(check_contains(msg, "    https://m.example/@b/1\r\n"));
	CHECK(check_contains(msg, "    https://m.example/notes/2\r\n"));
	CHECK(check_contains(msg, "More are waiting"));
	CHECK(check_contains(msg, "Approve or reject them at https://blog.example/admin/comments"));
	free(h);
	free(msg);
}

static const struct check_case cases[] = {
    {"header_text", t_header_text}, {"header_phrase", t_header_phrase}, {"qp", t_qp},
    {"mail_follow", t_mail_follow}, {"mail_batch", t_mail_batch},
};

CHECK_MAIN(cases)
