/*
 * notify_mail.c — the mail that tells the admin of new followers and of
 * comments waiting (notify.h): RFC 5322 headers (Date, From, To, Subject,
 * Message-ID, MIME-Version, Content-Type, Content-Transfer-Encoding) and
 * a plain-text UTF-8 body in quoted-printable, so any relay takes it
 * whatever the lines hold.  Everything that reaches a header goes through
 * notify_header_text or notify_header_phrase, which turn CR and LF into
 * spaces: a follower named "x\r\nBcc: ..." stays one header.
 */
#include "notify.h"
#include "text.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Encoded-words are at most 75 characters (RFC 2047 §2): "=?UTF-8?B?" and
 * "?=" take 12, leaving 63 for base64, i.e. 45 bytes of text at most;
 * whole characters only. */
#define EW_TEXT_MAX 45
#define QP_LINE_MAX 76

/* s as one line of valid UTF-8 into out: controls become spaces, invalid
 * bytes U+FFFD; *ascii tells whether all of it is printable ASCII. */
static enum bb_rc clean_line(const char *s, struct buf *out, bool *ascii)
{
	size_t n = strlen(s);
	enum bb_rc rc = BB_OK;

	*ascii = true;
	for (size_t i = 0; i < n && rc == BB_OK;) {
		const unsigned char *p = (const unsigned char *)s + i;
		size_t len = text_utf8_len(p, n - i);
		if (len == 1) {
			rc = buf_append(out, p[0] < ' ' || p[0] == 0x7f ? " " : (const char *)p, 1);
		} else {
			*ascii = false;
			rc = len ? buf_append(out, p, len) : buf_puts(out, "\xef\xbf\xbd");
			/* C1 controls (U+0080..U+009F) are controls too. */
			if (len == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
				out->len -= 2;
				rc = rc == BB_OK ? buf_puts(out, " ") : rc;
			}
		}
		i += len ? len : 1;
	}
	return rc;
}

/* Appends text (valid UTF-8) as encoded-words. */
static enum bb_rc encoded_words(const char *text, size_t n, struct buf *out)
{
	enum bb_rc rc = BB_OK;
	bool first = true;

	for (size_t i = 0; i < n && rc == BB_OK;) {
		unsigned char b64[4 * ((EW_TEXT_MAX + 2) / 3) + 1];
		size_t take = 0;
		while (i + take < n) {
			size_t len =
			    text_utf8_len((const unsigned char *)text + i + take, n - i - take);
			if (len == 0)
				len = 1; /* cannot happen: clean_line made it valid */
			if (take + len > EW_TEXT_MAX)
				break;
			take += len;
		}
		EVP_EncodeBlock(b64, (const unsigned char *)text + i, (int)take);
		rc = buf_printf(out, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", b64);
		first = false;
		i += take;
	}
	return rc;
}

enum bb_rc notify_header_text(const char *s, struct buf *out)
{
	struct buf line;
	bool ascii;
	enum bb_rc rc;

	buf_init(&line, out->limit);
	rc = clean_line(s ? s : "", &line, &ascii);
	if (rc == BB_OK && line.len > 0)
		rc = ascii ? buf_append(out, line.data, line.len)
			   : encoded_words(line.data, line.len, out);
	buf_free(&line);
	return rc;
}

enum bb_rc notify_header_phrase(const char *s, struct buf *out)
{
	struct buf line;
	bool ascii;
	enum bb_rc rc;

	buf_init(&line, out->limit);
	rc = clean_line(s ? s : "", &line, &ascii);
	if (rc == BB_OK && !ascii)
		rc = encoded_words(line.data, line.len, out);
	else if (rc == BB_OK) {
		rc = buf_puts(out, "\"");
		for (size_t i = 0; i < line.len && rc == BB_OK; i++) {
			char c = line.data[i];
			rc = (c == '"' || c == '\\') ? buf_append(out, "\\", 1) : BB_OK;
			if (rc == BB_OK)
				rc = buf_append(out, &c, 1);
		}
		if (rc == BB_OK)
			rc = buf_puts(out, "\"");
	}
	buf_free(&line);
	return rc;
}

enum bb_rc notify_qp(const char *s, size_t n, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;
	enum bb_rc rc = BB_OK;

	for (size_t i = 0; i < n && rc == BB_OK; i++) {
		unsigned char c = (unsigned char)s[i];
		char enc[3];
		size_t len = 1;
		bool line_end = c == '\n' || (c == '\r' && i + 1 < n && s[i + 1] == '\n');

		if (line_end) {
			if (c == '\r')
				i++;
			rc = buf_puts(out, "\r\n");
			col = 0;
			continue;
		}
		/* A space or tab before a line end (or the end) is encoded, as
		 * relays may strip trailing blanks. */
		bool at_end = i + 1 == n || s[i + 1] == '\n' || s[i + 1] == '\r';
		if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_end)) {
			enc[0] = (char)c;
		} else {
			enc[0] = '=';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			len = 3;
		}
		if (col + len > QP_LINE_MAX - 1) {
			rc = buf_puts(out, "=\r\n");
			col = 0;
		}
		if (rc == BB_OK)
			rc = buf_append(out, enc, len);
		col += len;
	}
	return rc;
}

/* ---- the message ------------------------------------------------------ */

/* An event's string member, or NULL. */
static const char *ev_str(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

/* The first of a and b that is set, else "". */
static const char *either(const char *a, const char *b)
{
	return a ? a : b ? b : "";
}

/* prefix, then s as one line (control characters as spaces: a peer's
 * text never starts a line of its own), then suffix. */
static enum bb_rc put_line(struct buf *out, const char *prefix, const char *s, const char *suffix)
{
	enum bb_rc rc = buf_puts(out, prefix);
	size_t start = out->len;

	if (rc == BB_OK)
		rc = buf_puts(out, s);
	for (size_t i = start; rc == BB_OK && i < out->len; i++)
		if ((unsigned char)out->data[i] < ' ' || out->data[i] == 0x7f)
			out->data[i] = ' ';
	return rc == BB_OK ? buf_puts(out, suffix) : rc;
}

/* "@alice@host (Alice)", or the actor id when there is no handle. */
static enum bb_rc who(json_t *ev, struct buf *out)
{
	const char *name = ev_str(ev, "name");
	enum bb_rc rc =
	    put_line(out, "", either(ev_str(ev, "handle"), either(ev_str(ev, "actor"), "?")), "");

	if (rc == BB_OK && name)
		rc = put_line(out, " (", name, ")");
	return rc;
}

static enum bb_rc body_follow(json_t *ev, struct buf *b)
{
	enum bb_rc rc = buf_puts(b, "  ");

	if (rc == BB_OK)
		rc = who(ev, b);
	if (rc == BB_OK)
		rc = put_line(b, "\n    ", either(ev_str(ev, "url"), ev_str(ev, "actor")), "\n");
	return rc;
}

static enum bb_rc body_comment(json_t *ev, struct buf *b)
{
	json_t *post = json_object_get(ev, "post");
	const char *excerpt = ev_str(ev, "excerpt");
	enum bb_rc rc = buf_puts(b, "  ");

	if (rc == BB_OK)
		rc = who(ev, b);
	if (rc == BB_OK)
		rc = put_line(b, " on \"", either(ev_str(post, "title"), ev_str(post, "url")),
			      "\"\n");
	if (rc == BB_OK && excerpt)
		rc = put_line(b, "    ", excerpt, "\n");
	if (rc == BB_OK)
		rc = put_line(b, "    ", either(ev_str(ev, "url"), ev_str(ev, "id")), "\n");
	return rc;
}

/* The body text (LF line ends) and the subject of m. */
static enum bb_rc mail_text(const struct notify_mail *m, struct buf *body, struct buf *subject)
{
	json_t *evs[NOTIFY_MAIL_EVENTS_MAX] = {0};
	size_t n = m->count < NOTIFY_MAIL_EVENTS_MAX ? m->count : NOTIFY_MAIL_EVENTS_MAX;
	size_t follows = 0, comments = 0;
	enum bb_rc rc = BB_OK;
	json_t *only = NULL;

	for (size_t i = 0; i < n; i++) {
		const char *kind;
		evs[i] = json_loads(m->events[i], 0, NULL);
		kind = ev_str(evs[i], "event");
		if (kind && strcmp(kind, "follow") == 0)
			follows++, only = evs[i];
		else if (kind && strcmp(kind, "comment") == 0)
			comments++, only = evs[i];
	}
	if (m->from_name && m->from_name[0])
		rc = buf_printf(subject, "[%s] ", m->from_name);
	if (rc == BB_OK && follows + comments == 1 && follows == 1) {
		rc = buf_puts(subject, "New follower: ");
		rc = rc == BB_OK ? who(only, subject) : rc;
	} else if (rc == BB_OK && follows + comments == 1) {
		rc = buf_puts(subject, "Comment awaiting moderation from ");
		rc = rc == BB_OK ? who(only, subject) : rc;
	} else if (rc == BB_OK) {
		if (follows)
			rc = buf_printf(subject, "%zu new follower%s", follows,
					follows == 1 ? "" : "s");
		if (rc == BB_OK && comments)
			rc = buf_printf(subject, "%s%zu comment%s awaiting moderation",
					follows ? ", " : "", comments, comments == 1 ? "" : "s");
	}
	if (rc == BB_OK && follows)
		rc = buf_printf(body, "New followers (%zu):\n\n", follows);
	for (size_t i = 0; i < n && rc == BB_OK; i++)
		if (ev_str(evs[i], "event") && strcmp(ev_str(evs[i], "event"), "follow") == 0)
			rc = body_follow(evs[i], body);
	if (rc == BB_OK && comments)
		rc = buf_printf(body, "%sComments waiting for moderation (%zu):\n\n",
				follows ? "\n" : "", comments);
	for (size_t i = 0; i < n && rc == BB_OK; i++)
		if (ev_str(evs[i], "event") && strcmp(ev_str(evs[i], "event"), "comment") == 0)
			rc = body_comment(evs[i], body);
	if (rc == BB_OK && m->more)
		rc = buf_puts(body, "\nMore are waiting; they follow in the next mail.\n");
	if (rc == BB_OK && comments)
		rc = buf_printf(body, "\nApprove or reject them at %s\n", m->admin_url);
	if (rc == BB_OK)
		rc = buf_puts(body, "\n-- \nblogbridge\n");
	for (size_t i = 0; i < n; i++)
		json_decref(evs[i]);
	return rc;
}

enum bb_rc notify_mail_write(const struct notify_mail *m, struct buf *out)
{
	struct buf body, subject;
	char date[64];
	struct tm tm;
	enum bb_rc rc;

	buf_init(&body, NOTIFY_MAIL_MAX);
	buf_init(&subject, 4096);
	rc = mail_text(m, &body, &subject);
	/* RFC 5322 §3.3, in English whatever the locale. */
	gmtime_r(&m->date, &tm);
	{
		static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
		static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
						     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
		snprintf(date, sizeof(date), "%s, %02d %s %04d %02d:%02d:%02d +0000",
			 days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
			 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	}
	if (rc == BB_OK)
		rc = buf_printf(out, "Date: %s\r\nFrom: ", date);
	if (rc == BB_OK && m->from_name && m->from_name[0]) {
		rc = notify_header_phrase(m->from_name, out);
		rc = rc == BB_OK ? buf_puts(out, " ") : rc;
	}
	if (rc == BB_OK)
		rc = buf_puts(out, "<");
	if (rc == BB_OK)
		rc = notify_header_text(m->from, out);
	if (rc == BB_OK)
		rc = buf_puts(out, ">\r\nTo: <");
	if (rc == BB_OK)
		rc = notify_header_text(m->to, out);
	if (rc == BB_OK)
		rc = buf_puts(out, ">\r\nSubject: ");
	if (rc == BB_OK)
		rc = notify_header_text(subject.data ? subject.data : "", out);
	if (rc == BB_OK)
		rc = buf_puts(out, "\r\nMessage-ID: <");
	if (rc == BB_OK)
		rc = notify_header_text(m->msg_id, out);
	if (rc == BB_OK)
		rc = buf_puts(out, "@");
	if (rc == BB_OK)
		rc = notify_header_text(m->host, out);
	if (rc == BB_OK)
		rc = buf_puts(out, ">\r\nMIME-Version: 1.0\r\n"
				   "Content-Type: text/plain; charset=utf-8\r\n"
				   "Content-Transfer-Encoding: quoted-printable\r\n"
				   "Auto-Submitted: auto-generated\r\n\r\n");
	if (rc == BB_OK)
		rc = notify_qp(body.data ? body.data : "", body.len, out);
	buf_free(&body);
	buf_free(&subject);
	return rc;
}
