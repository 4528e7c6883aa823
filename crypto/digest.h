/*
 * digest.h — body digests for HTTP signatures: the legacy `Digest` header
 * (RFC 3230, "SHA-256=<base64>") that draft-cavage signatures cover, and
 * `Content-Digest` (RFC 9530, "sha-256=:<base64>:") for RFC 9421.
 */
#ifndef BB_DIGEST_H
#define BB_DIGEST_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>

/* Padded base64 of a SHA-256 (44 chars) or SHA-512 (88 chars), plus NUL. */
#define DIGEST_SHA256_B64_LEN 45
#define DIGEST_SHA512_B64_LEN 89

enum digest_alg { DIGEST_SHA256, DIGEST_SHA512 };

/* Writes the padded standard base64 of the digest of data into out, which
 * holds DIGEST_SHA256_B64_LEN or DIGEST_SHA512_B64_LEN bytes. */
enum bb_rc digest_b64(enum digest_alg alg, const void *data, size_t len, char *out,
		      size_t outlen) BB_MUST_CHECK;

/* Lower-case hex of a SHA-256 (64 chars), plus NUL. */
#define DIGEST_SHA256_HEX_LEN 65

/* Writes the lower-case hex SHA-256 of data into out (for content hashes
 * and stable ids, not for signatures).  BB_ERR_CRYPTO when OpenSSL fails. */
enum bb_rc digest_sha256_hex(const void *data, size_t len, char out[DIGEST_SHA256_HEX_LEN])
    BB_MUST_CHECK;

/* acc ^= SHA-256(data): the followers digest of FEP-8fcf is this over
 * each follower id, from 32 zero bytes. */
enum bb_rc digest_sha256_xor(unsigned char acc[32], const void *data, size_t len) BB_MUST_CHECK;

/* Checks a `Digest` header value against body: a comma-separated list of
 * alg=value pairs; the SHA-256 one (name case-insensitive) must be present
 * and equal byte for byte.  BB_ERR_AUTH with the reason otherwise. */
enum bb_rc digest_header_check(const char *header, const void *body, size_t len,
			       struct err *e) BB_MUST_CHECK;

/* Checks a `Content-Digest` header (RFC 9530 dictionary): every sha-256
 * or sha-512 member must match, and at least one must be present.
 * BB_ERR_INVALID for a malformed header (Mastodon answers 400),
 * BB_ERR_AUTH for a mismatch or no supported algorithm. */
enum bb_rc digest_content_check(const char *header, const void *body, size_t len,
				struct err *e) BB_MUST_CHECK;

/* Base64 (standard alphabet, padded) encode into a new string; NULL when
 * out of memory. */
char *digest_base64_encode(const void *data, size_t len);

/* Strict base64 decode (padded standard alphabet, no whitespace) into a
 * new buffer; false on any invalid input. */
bool digest_base64_decode(const char *s, size_t slen, unsigned char **out, size_t *outlen)
    BB_MUST_CHECK;

#endif
