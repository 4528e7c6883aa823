/*
 * post.c — see post.h.
 */
#include "post.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

const char *post_image_media_type(const char *url)
{
	static const struct {
		const char *ext, *type;
	} types[] = {{".png", "image/png"},   {".jpg", "image/jpeg"},	{".jpeg", "image/jpeg"},
		     {".gif", "image/gif"},   {".webp", "image/webp"},	{".avif", "image/avif"},
		     {".heic", "image/heic"}, {".svg", "image/svg+xml"}};
	size_t ul = strcspn(url, "?#");

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t el = strlen(types[i].ext);
		if (ul >= el && strncasecmp(url + ul - el, types[i].ext, el) == 0)
			return types[i].type;
	}
	return NULL;
}
