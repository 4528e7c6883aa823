/*
 * fuzz_digest.c — the body digest headers: Digest (draft-cavage) and
 * Content-Digest (RFC 9530), and the strict base64 decoder under both.
 *
 * Input: the header value, a NUL, then the body.
 */
#include "fuzz.h"

#include "digest.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *header = fuzz_field(&data, &size, 0);
	unsigned char *bin = NULL;
	size_t binlen = 0;
	struct err e;

	(void)digest_header_check(header, data, size, &e);
	(void)digest_content_check(header, data, size, &e);
	if (digest_base64_decode(header, strlen(header), &bin, &binlen)) {
		char *again = digest_base64_encode(bin, binlen);
		/* What decodes encodes to text of the same length. */
		if (again == NULL || strlen(again) != strlen(header))
			abort();
		free(again);
		free(bin);
	}
	free(header);
	return 0;
}
