/*
 * digest.c — see digest.h.  RFC 3230 §4.3.2 (Digest), RFC 9530 §2
 * (Content-Digest), RFC 8941 §3.3.5 (byte sequences, :base64:).
 */
#include "digest.h"
#include "key.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The longest Digest/Content-Digest header we look at. */
#define DIGEST_HEADER_MAX 4096

char *digest_base64_encode(const void *data, size_t len)
{
	size_t outlen = 4 * ((len + 2) / 3) + 1;
	char *out;

	if (len > (size_t)1 << 30)
		return NULL;
	out = malloc(outlen);
	if (out == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

bool digest_base64_decode(const char *s, size_t slen, unsigned char **out, size_t *outlen)
{
	unsigned char *buf;
	size_t pad = 0, n = 0;

	*out = NULL;
	*outlen = 0;
	if (slen == 0 || slen % 4 != 0 || slen > (size_t)1 << 30)
		return false;
	if (s[slen - 1] == '=')
		pad++;
	if (s[slen - 2] == '=')
		pad++;
	buf = malloc(slen / 4 * 3);
	if (buf == NULL)
		return false;
	for (size_t i = 0; i < slen; i += 4) {
		int v[4];
		for (int j = 0; j < 4; j++) {
			bool pad_ok = i + 4 == slen && j >= 4 - (int)pad;
			v[j] = pad_ok ? 0 : b64_value(s[i + j]);
			if (v[j] < 0) {
				free(buf);
				return false;
			}
		}
		buf[n++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		buf[n++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		buf[n++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	*out = buf;
	*outlen = n - pad;
	return true;
}

enum bb_rc digest_b64(enum digest_alg alg, const void *data, size_t len, char *out,
		      size_t outlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const EVP_MD *type = alg == DIGEST_SHA256 ? key_md_sha256() : key_md_sha512();
	size_t need = alg == DIGEST_SHA256 ? DIGEST_SHA256_B64_LEN : DIGEST_SHA512_B64_LEN;

	if (outlen < need)
		return BB_ERR_LIMIT;
	if (EVP_Digest(data, len, md, &mdlen, type, NULL) != 1)
		return BB_ERR_CRYPTO;
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
	return BB_OK;
}

enum bb_rc digest_sha256_xor(unsigned char acc[32], const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return BB_ERR_CRYPTO;
	for (unsigned int i = 0; i < 32; i++)
		acc[i] ^= md[i];
	return BB_OK;
}

enum bb_rc digest_sha256_hex(const void *data, size_t len, char out[DIGEST_SHA256_HEX_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	out[0] = '\0';
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return BB_ERR_CRYPTO;
	for (unsigned int i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * mdlen] = '\0';
	return BB_OK;
}

/* Compares two NUL-terminated base64 strings in constant time. */
static bool b64_equal(const char *a, const char *b, size_t blen)
{
	return strlen(a) == blen && CRYPTO_memcmp(a, b, blen) == 0;
}

enum bb_rc digest_header_check(const char *header, const void *body, size_t len,
			       struct err *e)
{
	char want[DIGEST_SHA256_B64_LEN];
	const char *p = header;
	bool found = false;

	if (strlen(header) > DIGEST_HEADER_MAX)
		return err_set(e, BB_ERR_AUTH, "Digest header too long");
	if (digest_b64(DIGEST_SHA256, body, len, want, sizeof(want)) != BB_OK)
		return err_set(e, BB_ERR_CRYPTO, "cannot compute the body digest");
	while (*p) {
		const char *end = strchr(p, ','), *eq;
		char value[DIGEST_HEADER_MAX + 1];
		size_t vlen;

		if (end == NULL)
			end = p + strlen(p);
		while (p < end && isspace((unsigned char)*p))
			p++;
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq != NULL && (size_t)(eq - p) == 7 && strncasecmp(p, "sha-256", 7) == 0) {
			const char *v = eq + 1, *vend = end;
			while (vend > v && isspace((unsigned char)vend[-1]))
				vend--;
			vlen = (size_t)(vend - v);
			memcpy(value, v, vlen);
			value[vlen] = '\0';
			if (found)
				return err_set(e, BB_ERR_AUTH, "Digest header lists SHA-256 twice");
			found = true;
			if (!b64_equal(value, want, strlen(want)))
				return err_set(e, BB_ERR_AUTH,
					       "Invalid Digest value. Computed SHA-256 digest: %s; "
					       "given: %.100s",
					       want, value);
		}
		p = *end ? end + 1 : end;
	}
	if (!found)
		return err_set(e, BB_ERR_AUTH, "Mastodon requires the Digest header to be "
					       "SHA-256; none given");
	return BB_OK;
}

enum bb_rc digest_content_check(const char *header, const void *body, size_t len,
				struct err *e)
{
	const char *p = header;
	bool matched = false;

	if (strlen(header) > DIGEST_HEADER_MAX)
		return err_set(e, BB_ERR_INVALID, "Content-Digest header too long");
	/* sf-dictionary: key=:b64:, members separated by commas, optional
	 * parameters after ';' (ignored). */
	while (*p) {
		char key[32], want[DIGEST_SHA512_B64_LEN];
		const char *k, *colon, *close;
		size_t klen;
		enum digest_alg alg;
		bool known;

		while (*p == ' ' || *p == '\t')
			p++;
		k = p;
		while (islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' ||
		       *p == '_' || *p == '.' || *p == '*')
			p++;
		klen = (size_t)(p - k);
		if (klen == 0 || klen >= sizeof(key) || *p != '=' || p[1] != ':')
			return err_set(e, BB_ERR_INVALID, "malformed Content-Digest header");
		memcpy(key, k, klen);
		key[klen] = '\0';
		colon = p + 2;
		close = strchr(colon, ':');
		if (close == NULL)
			return err_set(e, BB_ERR_INVALID, "malformed Content-Digest header");
		for (const char *c = colon; c < close; c++)
			if (b64_value(*c) < 0 && *c != '=')
				return err_set(e, BB_ERR_INVALID, "malformed Content-Digest header");
		known = strcmp(key, "sha-256") == 0 || strcmp(key, "sha-512") == 0;
		if (known) {
			alg = strcmp(key, "sha-256") == 0 ? DIGEST_SHA256 : DIGEST_SHA512;
			if (digest_b64(alg, body, len, want, sizeof(want)) != BB_OK)
				return err_set(e, BB_ERR_CRYPTO, "cannot compute the body digest");
			if (strlen(want) != (size_t)(close - colon) ||
			    CRYPTO_memcmp(want, colon, strlen(want)) != 0)
				return err_set(e, BB_ERR_AUTH, "Content-Digest %s mismatch", key);
			matched = true;
		}
		p = close + 1;
		while (*p && *p != ',') /* parameters, ignored */
			p++;
		if (*p == ',')
			p++;
	}
	if (!matched)
		return err_set(e, BB_ERR_AUTH, "Content-Digest has no sha-256 or sha-512 member");
	return BB_OK;
}
