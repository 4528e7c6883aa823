/*
 * test_api.h — what test_api.c and test_api_browser.c share: the bridge
 * under test with its seeded posts.
 */
#ifndef BB_TEST_API_H
#define BB_TEST_API_H

#include "bridge_proc.h"

#include <stdbool.h>

struct api_world {
	struct bridge b;
	bool up;
	bool skipped;		   /* a case found what it needs missing: exit 77 */
	char attacker[64];	   /* where the hostile author name points */
	char post_id[128];	   /* the seeded post's object id */
	char post_id_escaped[256]; /* as encodeURIComponent writes it */
	char post2_id[128];	   /* the post with more than a page of comments */
};

extern struct api_world api;

/* Starts the bridge and seeds it (once); false (reported) on failure. */
bool api_up(void);

/* test_api_browser.c */
void t_browser(void);

#endif
