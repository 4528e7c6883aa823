/*
 * password.c — see password.h.  scrypt with N = 2^15, r = 8, p = 1 costs
 * 32 MiB and about a tenth of a second, the cost RFC 7914 section 2 gives
 * for interactive logins; the login's rate limit (bridge/web/) keeps an
 * attacker from asking for many.
 */
#include "password.h"
#include "digest.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCRYPT_N 32768
#define SCRYPT_R 8
#define SCRYPT_P 1
#define SALT_LEN 16
#define KEY_LEN 32
/* What verify accepts from a stored hash: enough to raise the cost later,
 * not enough for a hostile config to ask for gigabytes. */
#define SCRYPT_N_MAX (1u << 20)
#define SCRYPT_R_MAX 32
#define SCRYPT_P_MAX 16
#define SCRYPT_MAXMEM ((uint64_t)1 << 30)

/* Derives KEY_LEN bytes into key. */
static bool scrypt_derive(const char *pw, size_t len, const unsigned char *salt, size_t salt_len,
			  uint64_t n, uint32_t r, uint32_t p, unsigned char key[KEY_LEN])
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	EVP_KDF_CTX *ctx = NULL;
	uint64_t maxmem = SCRYPT_MAXMEM;
	OSSL_PARAM params[7];
	bool ok = false;

	if (kdf == NULL)
		return false;
	ctx = EVP_KDF_CTX_new(kdf);
	if (ctx == NULL)
		goto out;
	/* An empty password is a valid scrypt input; OpenSSL wants a
	 * non-NULL pointer for it. */
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
						      (void *)(len ? pw : ""), len);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
	params[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	params[3] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
	params[4] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
	params[5] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
	params[6] = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(ctx, key, KEY_LEN, params) == 1;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ok;
}

enum bb_rc password_hash(const char *password, size_t len, char out[PASSWORD_HASH_MAX],
			 struct err *e)
{
	unsigned char salt[SALT_LEN], key[KEY_LEN];
	char *salt64 = NULL, *key64 = NULL;
	enum bb_rc rc = BB_OK;
	int n;

	out[0] = '\0';
	if (len > PASSWORD_MAX_LEN)
		return err_set(e, BB_ERR_INVALID, "password longer than %d bytes",
			       PASSWORD_MAX_LEN);
	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    !scrypt_derive(password, len, salt, sizeof(salt), SCRYPT_N, SCRYPT_R, SCRYPT_P, key)) {
		rc = err_set(e, BB_ERR_CRYPTO, "scrypt failed");
		goto out;
	}
	salt64 = digest_base64_encode(salt, sizeof(salt));
	key64 = digest_base64_encode(key, sizeof(key));
	if (salt64 == NULL || key64 == NULL) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	n = snprintf(out, PASSWORD_HASH_MAX, "$scrypt$N=%u,r=%u,p=%u$%s$%s", SCRYPT_N, SCRYPT_R,
		     SCRYPT_P, salt64, key64);
	if (n < 0 || n >= PASSWORD_HASH_MAX) {
		out[0] = '\0';
		rc = err_set(e, BB_ERR_LIMIT, "encoded hash too long");
	}
out:
	OPENSSL_cleanse(key, sizeof(key));
	free(salt64);
	free(key64);
	return rc;
}

/* Reads "N=..,r=..,p=..$" at *s; false when malformed or out of range. */
static bool params_parse(const char **s, uint64_t *n, uint32_t *r, uint32_t *p)
{
	unsigned long long vn;
	unsigned vr, vp;
	int used = 0;

	if (sscanf(*s, "N=%llu,r=%u,p=%u$%n", &vn, &vr, &vp, &used) != 3 || used == 0)
		return false;
	/* N must be a power of two greater than 1. */
	if (vn < 2 || vn > SCRYPT_N_MAX || (vn & (vn - 1)) != 0 || vr < 1 || vr > SCRYPT_R_MAX ||
	    vp < 1 || vp > SCRYPT_P_MAX)
		return false;
	*n = vn;
	*r = vr;
	*p = vp;
	*s += used;
	return true;
}

bool password_verify(const char *password, size_t len, const char *encoded)
{
	static const char prefix[] = "$scrypt$";
	unsigned char *salt = NULL, *want = NULL, got[KEY_LEN];
	size_t salt_len = 0, want_len = 0;
	const char *s, *dollar;
	uint64_t n;
	uint32_t r, p;
	bool ok = false;

	if (encoded == NULL || len > PASSWORD_MAX_LEN ||
	    strncmp(encoded, prefix, sizeof(prefix) - 1) != 0)
		return false;
	s = encoded + sizeof(prefix) - 1;
	if (!params_parse(&s, &n, &r, &p) || (dollar = strchr(s, '$')) == NULL)
		return false;
	if (!digest_base64_decode(s, (size_t)(dollar - s), &salt, &salt_len) || salt_len < 8 ||
	    !digest_base64_decode(dollar + 1, strlen(dollar + 1), &want, &want_len) ||
	    want_len != KEY_LEN)
		goto out;
	if (!scrypt_derive(password, len, salt, salt_len, n, r, p, got))
		goto out;
	ok = CRYPTO_memcmp(got, want, KEY_LEN) == 0;
out:
	OPENSSL_cleanse(got, sizeof(got));
	free(salt);
	free(want);
	return ok;
}
