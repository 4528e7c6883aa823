/*
 * test_api_browser.c — the embed script in a real browser: headless
 * Chromium loads a blog page served here on loopback (its own origin, so
 * the API is reached across origins, as on a real blog) that includes
 * /embed/comments.js from the bridge.  From the DOM Chromium dumps: the
 * thread is rendered and nested (c1 > c2 > c3, then c4), the hostile
 * author's name is text (its <img onerror> neither ran, which would mark
 * <body data-pwned>, nor reached the attacker listener, which counts every
 * request), no javascript: URL became a link, and the plain link to the
 * post's fediverse id is there.  A screenshot is kept in the test output
 * folder (BB_TEST_OUTPUT, printed).
 *
 * Without Chromium (BB_CHROMIUM, else chromium or chromium-browser on
 * PATH) the case is skipped: it says so and test_api exits 77, which CTest
 * counts as skipped (scripts/install-deps.sh test installs it).
 */
#include "bridge_proc.h"
#include "check.h"
#include "comments_seed.h"
#include "test_api.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHROMIUM_WAIT_MS 120000
#define PAGE_MAX 4096

struct site {
	struct MHD_Daemon *d;
	int port;
	char page[PAGE_MAX]; /* served at /page.html */
	const char *seed;    /* served at /seed.html when set */
	atomic_int requests; /* every other request */
};

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct site *s = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	const char *body = strcmp(url, "/page.html") == 0 && s->page[0] ? s->page
			   : strcmp(url, "/seed.html") == 0 && s->seed	? s->seed
									: NULL;

	(void)method, (void)version, (void)upload, (void)upload_size, (void)con_cls;
	if (body == NULL)
		atomic_fetch_add(&s->requests, 1);
	r = MHD_create_response_from_buffer(body ? strlen(body) : 0, (void *)(body ? body : ""),
					    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
	ret = MHD_queue_response(conn, body ? 200 : 404, r);
	MHD_destroy_response(r);
	return ret;
}

static bool site_start(struct site *s)
{
	s->port = check_free_port("127.0.0.1");
	if (s->port <= 0)
		return false;
	s->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
				(uint16_t)s->port, NULL, NULL, on_request, s, MHD_OPTION_END);
	return s->d != NULL;
}

/* The browser to drive, or NULL. */
static const char *chromium_path(void)
{
	static const char *const names[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser",
					    "/usr/local/bin/chromium"};
	const char *env = getenv("BB_CHROMIUM");

	if (env && env[0])
		return access(env, X_OK) == 0 ? env : NULL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (access(names[i], X_OK) == 0)
			return names[i];
	return NULL;
}

/* Runs argv with stdout to out_path and stderr to err_path, bounded by
 * CHROMIUM_WAIT_MS; its exit status, or -1. */
static int run_bounded(char *const argv[], const char *out_path, const char *err_path)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int err = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
		setpgid(0, 0); /* its helpers go with it on a timeout */
		if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
		    dup2(err, 2) < 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	for (int waited = 0; waited < CHROMIUM_WAIT_MS; waited += 50) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		sleep_ms(50);
	}
	fprintf(stderr, "    chromium still running after %d ms: killed\n", CHROMIUM_WAIT_MS);
	kill(-pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = calloc(1, (size_t)n + 1)) != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static long pos(const char *hay, const char *needle)
{
	const char *p = hay ? strstr(hay, needle) : NULL;

	return p ? (long)(p - hay) : -1;
}

/* The server a reader typed on an earlier visit (the seed page stores it
 * in the page origin's localStorage, as the form does on submit). */
#define SEED_PAGE                                                                                  \
	"<!doctype html><html><body><script>"                                                      \
	"localStorage.setItem('fediverse-server','@bob@Mastodon.Social');"                         \
	"</script></body></html>"

/* The checks on the DOM Chromium dumped. */
static void check_dom(const char *dom)
{
	long c1 = pos(dom, "data-id=\"" SEED_C1 "\""), c2 = pos(dom, "data-id=\"" SEED_C2 "\"");
	long c3 = pos(dom, "data-id=\"" SEED_C3 "\""), c4 = pos(dom, "data-id=\"" SEED_C4 "\"");
	long replies = pos(dom, "<ol class=\"fediverse-comments__replies\">");
	char link[512];

	CHECK(check_contains(dom, "<section class=\"fediverse-comments\" lang=\"en\">"));
	CHECK(check_contains(dom, "<ol class=\"fediverse-comments__list\">"));
	CHECK(c1 > 0 && replies > c1 && c2 > replies && c3 > c2 && c4 > c3);
	/* c3 closes two levels of replies before c4 opens at the top. */
	CHECK(check_contains(dom, "Third level</p></div></article></li></ol></li></ol></li>"
				  "<li class=\"fediverse-comment\" data-id=\"" SEED_C4));
	CHECK(check_contains(dom, "<p>First comment</p>"));
	CHECK(check_contains(dom, "<p>A reply to the first</p>"));
	CHECK(check_contains(dom, "<span class=\"fediverse-comments__likes\">2 likes</span>"));
	CHECK(check_contains(dom, "<span class=\"fediverse-comments__boosts\">1 boost</span>"));
	CHECK(check_contains(dom, "<time class=\"fediverse-comment__date\" "
				  "datetime=\"1970-01-01T00:01:40Z\">"));
	CHECK(check_contains(dom, "alt=\"Avatar of Alice Example\""));
	CHECK(pos(dom, "Waiting") < 0 && pos(dom, "Just for you") < 0);
	/* The hostile name and handle are text. */
	CHECK(check_contains(dom, "&lt;img src=\""));
	CHECK(check_contains(dom, "@&lt;b&gt;mallory&lt;/b&gt;@evil.example"));
	CHECK(pos(dom, "data-pwned") < 0);
	CHECK(pos(dom, "href=\"javascript:") < 0 && pos(dom, "src=\"javascript:") < 0);
	snprintf(link, sizeof(link), "class=\"fediverse-comments__post-link\" href=\"%s\"",
		 api.post_id);
	CHECK(check_contains(dom, link));
	/* The remembered server, normalised, is where the form sends the
	 * reader: that server's authorize_interaction for the post's id. */
	CHECK(check_contains(dom, "<form class=\"fediverse-comments__form\""));
	snprintf(link, sizeof(link),
		 "data-target=\"https://mastodon.social/authorize_interaction?uri=%s\"",
		 api.post_id_escaped);
	CHECK(check_contains(dom, link));
	CHECK(pos(dom, "fediverse-comments__error") < 0);
}

void t_browser(void)
{
	const char *chromium = chromium_path(), *outdir = getenv("BB_TEST_OUTPUT");
	struct site page = {0}, attacker = {0};
	char url[128], dom_path[PATH_MAX], err_path[PATH_MAX], shot[PATH_MAX], profile[PATH_MAX];
	char shot_arg[PATH_MAX + 16], profile_arg[PATH_MAX + 20];
	char *dom = NULL;
	struct stat stt;

	if (chromium == NULL) {
		printf("    SKIP browser: no chromium (set BB_CHROMIUM, or run "
		       "scripts/install-deps.sh test)\n");
		api.skipped = true;
		return;
	}
	if (!site_start(&attacker)) {
		check_fail(__FILE__, __LINE__, "cannot start the test sites");
		goto out;
	}
	snprintf(api.attacker, sizeof(api.attacker), "http://127.0.0.1:%d/pwned.png",
		 attacker.port);
	if (!api_up())
		goto out;
	/* An empty attribute: the post is the page's canonical URL. */
	snprintf(page.page, sizeof(page.page),
		 "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
		 "<title>Seeded post</title>"
		 "<link rel=\"canonical\" href=\"https://blog.test/2026/seeded/\"></head>"
		 "<body><article><h1>Seeded post</h1><p>The post.</p></article>"
		 "<div id=\"comments\" data-fediverse-comments=\"\"></div>"
		 "<script src=\"%s/embed/comments.js\" defer></script></body></html>",
		 api.b.origin);
	page.seed = SEED_PAGE;
	/* Started once what it serves is written: its threads only read. */
	if (!site_start(&page)) {
		check_fail(__FILE__, __LINE__, "cannot start the test sites");
		goto out;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/seed.html", page.port);
	snprintf(dom_path, sizeof(dom_path), "%s/dom.html", api.b.dir);
	snprintf(err_path, sizeof(err_path), "%s/chromium.log", api.b.dir);
	snprintf(profile, sizeof(profile), "%s/chromium-profile", api.b.dir);
	snprintf(profile_arg, sizeof(profile_arg), "--user-data-dir=%s", profile);
	{
		char *argv[] = {(char *)chromium,
				"--headless",
				"--disable-gpu",
				"--no-sandbox",
				"--no-first-run",
				"--disable-extensions",
				profile_arg,
				"--virtual-time-budget=15000",
				"--dump-dom",
				url,
				NULL};
		/* The seed page first (same profile), then the blog page. */
		CHECK_INT(run_bounded(argv, dom_path, err_path), 0);
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/page.html", page.port);
		CHECK_INT(run_bounded(argv, dom_path, err_path), 0);
	}
	dom = slurp(dom_path);
	CHECK(dom != NULL && dom[0] != '\0');
	if (dom)
		check_dom(dom);
	if (outdir == NULL || outdir[0] == '\0')
		outdir = api.b.dir;
	if (mkdir(outdir, 0755) != 0 && errno != EEXIST)
		check_fail(__FILE__, __LINE__, "mkdir %s: %s", outdir, strerror(errno));
	snprintf(shot, sizeof(shot), "%s/embed-comments.png", outdir);
	snprintf(shot_arg, sizeof(shot_arg), "--screenshot=%s", shot);
	unlink(shot);
	{
		char *argv[] = {(char *)chromium,
				"--headless",
				"--disable-gpu",
				"--no-sandbox",
				"--no-first-run",
				"--disable-extensions",
				"--hide-scrollbars",
				profile_arg,
				"--virtual-time-budget=15000",
				"--window-size=900,1200",
				shot_arg,
				url,
				NULL};
		CHECK_INT(run_bounded(argv, dom_path, err_path), 0);
	}
	CHECK(stat(shot, &stt) == 0 && stt.st_size > 1000);
	printf("    screenshot: %s\n", shot);
	/* Nothing reached the attacker. */
	CHECK_INT(atomic_load(&attacker.requests), 0);
	if (check_failures > 0 && dom)
		fprintf(stderr, "    --- DOM ---\n%s\n", dom);
out:
	free(dom);
	if (page.d)
		MHD_stop_daemon(page.d);
	if (attacker.d)
		MHD_stop_daemon(attacker.d);
}
