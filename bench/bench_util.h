/*
 * bench_util.h — what the benchmark programs share: a monotonic clock, a
 * free loopback port, a process's peak RSS and CPU time, and sorting for
 * medians.
 */
#ifndef BB_BENCH_UTIL_H
#define BB_BENCH_UTIL_H

#include <sys/types.h>

/* Seconds on the monotonic clock. */
double bench_now_s(void);

/* A port free on addr (dotted IPv4) at the time of the call; 0 on error. */
unsigned bench_free_port(const char *addr);

/* The peak resident set (VmHWM) of pid in KiB, or -1. */
long bench_peak_rss_kb(pid_t pid);

/* The CPU time (user + system) pid has used so far, in seconds, or -1. */
double bench_cpu_s(pid_t pid);

/* qsort comparison of doubles, ascending. */
int bench_cmp_double(const void *a, const void *b);

/* A public reply as Mastodon sends it (Create of a Note with a mention, a
 * link and two paragraphs; about 2 KB): activity k of actor (an actor id
 * on the peer's host), answering post, mentioning the bridge on bport. */
void bench_reply_body(char *buf, size_t size, const char *actor, int k, const char *post,
		      unsigned bport);

#endif
