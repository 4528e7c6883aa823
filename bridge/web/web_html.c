/*
 * web_html.c — HTML for the admin pages: the one escaping function every
 * value goes through, the page frame, and the stylesheet.  No script and
 * no outside asset but the remote actors' avatars: the CSP (WEB_CSP)
 * refuses any other, and takes images from https: URLs only.
 */
#include "html.h"
#include "url.h"
#include "web_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Small, readable at 360 px: one column, tables that scroll sideways. */
const char web_style_css[] =
    "*{box-sizing:border-box}"
    "body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}"
    "header{background:#263246;color:#fff;padding:.6em 1em}"
    "header a{color:#fff;margin-right:1em;text-decoration:none;display:inline-block}"
    "header form{display:inline}"
    "main{padding:1em;max-width:1100px;margin:auto;overflow-wrap:anywhere}"
    "h1{font-size:1.3em;margin:.2em 0 .6em}"
    ".scroll{overflow-x:auto;background:#fff;border:1px solid #dde1e6}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #eceef1;"
    "vertical-align:top;overflow-wrap:anywhere}"
    "td{min-width:5em}"
    "th{background:#eef1f5;font-weight:600;white-space:nowrap}"
    "form.inline{display:inline;margin:0}"
    "button{font:inherit;padding:.25em .7em;border:1px solid #8a94a6;border-radius:4px;"
    "background:#fff;cursor:pointer}"
    "button.danger{border-color:#b3261e;color:#b3261e}"
    "input[type=text],input[type=search],input[type=password]{font:inherit;padding:.3em;"
    "max-width:100%}"
    ".cards{display:flex;flex-wrap:wrap;gap:.6em;margin-bottom:1em}"
    ".card{background:#fff;border:1px solid #dde1e6;padding:.6em .9em;min-width:9em}"
    ".card b{display:block;font-size:1.4em}"
    ".bad{color:#b3261e}.ok{color:#1e7b34}.muted{color:#6b7280}"
    ".notice{background:#fff8e1;border:1px solid #e6c65c;padding:.6em .9em;margin-bottom:1em}"
    "nav.pages a{margin-right:1em}"
    ".comment{background:#fff;border:1px solid #dde1e6;padding:.6em .9em;margin:.6em 0}"
    ".avatar{width:32px;height:32px;border-radius:4px;vertical-align:middle;margin-right:.4em;"
    "object-fit:cover}"
    ".comment .meta{font-size:.9em;color:#6b7280}.tabs a{margin-right:1em}"
    ".tabs a.on{font-weight:700}"
    /* A phone: each row a small card, the header row hidden. */
    "@media(max-width:640px){table,tbody,tr,td{display:block}tr:first-child{display:none}"
    "tr{border-bottom:1px solid #dde1e6;padding:.4em 0}td{border:0;padding:.1em .6em;"
    "min-width:0}td:first-child{font-weight:600}}";

enum bb_rc web_html_escape(struct buf *b, const char *s)
{
	const char *run = s;

	if (s == NULL)
		return BB_OK;
	for (; *s; s++) {
		const char *ent;
		switch (*s) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		default: continue;
		}
		if (buf_append(b, run, (size_t)(s - run)) != BB_OK || buf_puts(b, ent) != BB_OK)
			return BB_ERR_LIMIT;
		run = s + 1;
	}
	return buf_append(b, run, (size_t)(s - run));
}

/* The largest page: 100 rows of long URLs fit many times over. */
#define WEB_PAGE_MAX (8 * 1024 * 1024)

void page_init(struct web_page *p, const char *csrf)
{
	buf_init(&p->b, WEB_PAGE_MAX);
	p->failed = false;
	p->csrf = csrf;
}

void page_raw(struct web_page *p, const char *html)
{
	if (!p->failed && buf_puts(&p->b, html) != BB_OK)
		p->failed = true;
}

void page_text(struct web_page *p, const char *text)
{
	if (!p->failed && web_html_escape(&p->b, text) != BB_OK)
		p->failed = true;
}

void page_int(struct web_page *p, int64_t n)
{
	if (!p->failed && buf_printf(&p->b, "%" PRId64, n) != BB_OK)
		p->failed = true;
}

void page_time(struct web_page *p, time_t t)
{
	char s[32];
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(s, sizeof(s), "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(s, sizeof(s), "-");
	page_raw(p, s);
}

void page_href(struct web_page *p, const char *url)
{
	if (url != NULL && (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0))
		page_text(p, url);
	else
		page_raw(p, "#");
}

void page_avatar(struct web_page *p, const char *url)
{
	if (url == NULL || strncmp(url, "https://", 8) != 0 || strlen(url) > WEB_AVATAR_URL_MAX ||
	    !url_is_http_str(url))
		return;
	page_raw(p, "<img class=\"avatar\" src=\"");
	page_text(p, url);
	page_raw(p, "\" alt=\"\" width=\"32\" height=\"32\" loading=\"lazy\" "
		    "referrerpolicy=\"no-referrer\">");
}

void page_urlenc(struct web_page *p, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; s && *s && !p->failed; s++) {
		unsigned char c = (unsigned char)*s;
		char enc[4] = {(char)c, 0, 0, 0};
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == '~')) {
			enc[0] = '%';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
		}
		page_raw(p, enc);
	}
}

/* The most a comment shows on the moderation page. */
#define WEB_COMMENT_MAX (64 * 1024)

void page_html(struct web_page *p, const char *html, const char *base)
{
	struct buf out;
	bool visible = false;

	buf_init(&out, WEB_COMMENT_MAX + 1024);
	if (html != NULL && html_reduce_reply(html, base, WEB_COMMENT_MAX, &out, &visible) == BB_OK)
		page_raw(p, out.data ? out.data : "");
	else
		page_raw(p, "<p class=\"muted\">(unreadable content)</p>");
	buf_free(&out);
}

void page_begin(struct web_page *p, const char *title, bool nav)
{
	page_raw(p, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
		    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
		    "<title>");
	page_text(p, title);
	page_raw(p, " · blogbridge admin</title>"
		    "<link rel=\"stylesheet\" href=\"/admin/style.css\"></head><body><header>");
	if (nav) {
		page_raw(
		    p, "<a href=\"/admin\">Overview</a><a href=\"/admin/followers\">Followers</a>"
		       "<a href=\"/admin/comments\">Comments</a><a href=\"/admin/posts\">Posts</a>"
		       "<a href=\"/admin/deliveries\">Deliveries</a>"
		       "<a href=\"/admin/blocks\">Blocks</a>");
		page_form_button(p, "/admin/logout", "Log out", NULL);
	} else {
		page_raw(p, "blogbridge admin");
	}
	page_raw(p, "</header><main><h1>");
	page_text(p, title);
	page_raw(p, "</h1>");
}

void page_form_button(struct web_page *p, const char *action, const char *label,
		      const char *const *fields)
{
	page_raw(p, "<form class=\"inline\" method=\"post\" action=\"");
	page_text(p, action);
	page_raw(p, "\"><input type=\"hidden\" name=\"csrf\" value=\"");
	page_text(p, p->csrf ? p->csrf : "");
	page_raw(p, "\">");
	for (size_t i = 0; fields && fields[i] && fields[i + 1]; i += 2) {
		page_raw(p, "<input type=\"hidden\" name=\"");
		page_text(p, fields[i]);
		page_raw(p, "\" value=\"");
		page_text(p, fields[i + 1]);
		page_raw(p, "\">");
	}
	page_raw(p, strstr(label, "Remove") || strstr(label, "Block") || strstr(label, "Delete") ||
			    strstr(label, "again")
			? "<button class=\"danger\" type=\"submit\">"
			: "<button type=\"submit\">");
	page_text(p, label);
	page_raw(p, "</button></form>");
}

void page_end(struct web_page *p, struct http_response *res)
{
	page_raw(p, "</main></body></html>");
	if (p->failed) {
		buf_free(&p->b);
		http_respond_error(res, 500, "page too large");
		return;
	}
	http_respond_owned(res, 200, "text/html; charset=utf-8", buf_take(&p->b));
	buf_free(&p->b);
}
