/*
 * bench_util.c — see bench_util.h.
 */
#include "bench_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

double bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

unsigned bench_free_port(const char *addr)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unsigned port = 0;

	if (fd >= 0 && inet_pton(AF_INET, addr, &sin.sin_addr) == 1 &&
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

long bench_peak_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

double bench_cpu_s(pid_t pid)
{
	char path[64], line[1024], *p;
	unsigned long long ut = 0, st = 0;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	p = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
	fclose(f);
	/* After "(comm)": state, then 10 fields, then utime and stime. */
	if (p == NULL || hz <= 0 ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)hz;
}

int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* See bench_util.h. */
void bench_reply_body(char *buf, size_t size, const char *actor, int k, const char *post,
		      unsigned bport)
{
	snprintf(
	    buf, size,
	    "{\"@context\":[\"https://www.w3.org/ns/activitystreams\",{\"ostatus\":"
	    "\"http://ostatus.org#\",\"atomUri\":\"ostatus:atomUri\",\"inReplyToAtomUri\":"
	    "\"ostatus:inReplyToAtomUri\",\"conversation\":\"ostatus:conversation\","
	    "\"sensitive\":\"as:sensitive\",\"toot\":\"http://joinmastodon.org/ns#\"}],"
	    "\"id\":\"%s/statuses/%d/activity\",\"type\":\"Create\",\"actor\":\"%s\","
	    "\"published\":\"2026-11-21T14:02:11Z\","
	    "\"to\":[\"https://www.w3.org/ns/activitystreams#Public\"],"
	    "\"cc\":[\"%s/followers\",\"http://127.0.0.1:%u/ap/actor\"],"
	    "\"object\":{\"id\":\"%s/statuses/%d\",\"type\":\"Note\",\"summary\":null,"
	    "\"inReplyTo\":\"%s\",\"published\":\"2026-11-21T14:02:11Z\","
	    "\"url\":\"%s/@u/%d\",\"attributedTo\":\"%s\","
	    "\"to\":[\"https://www.w3.org/ns/activitystreams#Public\"],"
	    "\"cc\":[\"%s/followers\",\"http://127.0.0.1:%u/ap/actor\"],"
	    "\"sensitive\":false,\"atomUri\":\"%s/statuses/%d\",\"inReplyToAtomUri\":\"%s\","
	    "\"conversation\":\"tag:127.0.0.2,2026-11-21:objectId=%d:objectType=Conversation\","
	    "\"content\":\"<p><span class=\\\"h-card\\\" translate=\\\"no\\\"><a "
	    "href=\\\"http://127.0.0.1:%u/\\\" class=\\\"u-url mention\\\">@<span>blog</span>"
	    "</a></span> Thanks for writing this up &amp; for the examples. It matches what "
	    "we saw last week, see <a href=\\\"https://example.org/notes/2026/11/field-report\\\" "
	    "target=\\\"_blank\\\" rel=\\\"nofollow noopener\\\" translate=\\\"no\\\"><span "
	    "class=\\\"invisible\\\">https://</span><span class=\\\"ellipsis\\\">example.org/"
	    "notes/2026/11/fi</span><span class=\\\"invisible\\\">eld-report</span></a></p>"
	    "<p>One question though: how do you handle the older posts? Reply %d.</p>\","
	    "\"contentMap\":{\"en\":\"<p>Reply %d.</p>\"},\"attachment\":[],"
	    "\"tag\":[{\"type\":\"Mention\",\"href\":\"http://127.0.0.1:%u/ap/actor\","
	    "\"name\":\"@blog@127.0.0.1\"}],"
	    "\"replies\":{\"id\":\"%s/statuses/%d/replies\",\"type\":\"Collection\"}}}",
	    actor, k, actor, actor, bport, actor, k, post, actor, k, actor, actor, bport, actor, k,
	    post, k, bport, k, k, bport, actor, k);
}
