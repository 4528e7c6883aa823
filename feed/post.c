/*
 * post.c — see post.h.
 */
#include "post.h"

#include <stdlib.h>
#include <string.h>

void post_clear(struct post *p)
{
	free(p->guid);
	free(p->url);
	free(p->title);
	free(p->content);
	free(p->summary);
	free(p->author);
	free(p->language);
	for (size_t i = 0; i < p->ntags; i++)
		free(p->tags[i]);
	for (size_t i = 0; i < p->nimages; i++) {
		free(p->images[i].url);
		free(p->images[i].alt);
		free(p->images[i].media_type);
	}
	memset(p, 0, sizeof(*p));
}
