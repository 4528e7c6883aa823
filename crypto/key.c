/*
 * key.c — see key.h.
 */
#include "key.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/decoder.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A PEM private key of any sane size is far below this. */
#define KEY_FILE_MAX (64 * 1024)

struct key {
	EVP_PKEY *pkey;
	char *public_pem;
};

/* Exports the SPKI PEM of pkey into a new string. */
static enum bb_rc public_pem(EVP_PKEY *pkey, char **out, struct err *e)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;
	enum bb_rc rc = BB_OK;

	*out = NULL;
	if (bio == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	if (PEM_write_bio_PUBKEY(bio, pkey) != 1) {
		rc = err_set(e, BB_ERR_CRYPTO, "cannot export the public key");
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	if (len <= 0) {
		rc = err_set(e, BB_ERR_CRYPTO, "cannot export the public key");
		goto out;
	}
	*out = strndup(data, (size_t)len);
	if (*out == NULL)
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
out:
	BIO_free(bio);
	return rc;
}

static enum bb_rc key_wrap(EVP_PKEY *pkey, struct key **out, struct err *e)
{
	struct key *k = calloc(1, sizeof(*k));
	enum bb_rc rc;

	if (k == NULL) {
		EVP_PKEY_free(pkey);
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	}
	k->pkey = pkey;
	rc = public_pem(pkey, &k->public_pem, e);
	if (rc != BB_OK) {
		key_free(k);
		return rc;
	}
	*out = k;
	return BB_OK;
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

enum bb_rc key_load(const char *path, struct key **out, struct err *e)
{
	struct stat sb;
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	FILE *f = NULL;
	int fd = -1;
	enum bb_rc rc = BB_OK;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return err_set(e, BB_ERR_NOTFOUND, "key %s: no such file", path);
		if (errno == ELOOP)
			return err_set(e, BB_ERR_UNSAFE, "key %s: refusing a symbolic link", path);
		return err_set(e, BB_ERR_IO, "key %s: %s", path, strerror(errno));
	}
	if (fstat(fd, &sb) != 0) {
		rc = err_set(e, BB_ERR_IO, "key %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = err_set(e, BB_ERR_UNSAFE, "key %s: not a regular file", path);
		goto out;
	}
	if (sb.st_mode & 077) {
		rc = err_set(e, BB_ERR_UNSAFE,
			     "key %s: mode %04o lets others read it; run chmod 600 on it",
			     path, (unsigned)(sb.st_mode & 07777));
		goto out;
	}
	if (sb.st_size > KEY_FILE_MAX) {
		rc = err_set(e, BB_ERR_CRYPTO, "key %s: file too large for a key", path);
		goto out;
	}
	f = fdopen(fd, "r");
	if (f == NULL) {
		rc = err_set(e, BB_ERR_IO, "key %s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	bio = BIO_new_fp(f, BIO_NOCLOSE);
	if (bio == NULL) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* A passphrase callback that gives none: an encrypted key fails
	 * here instead of OpenSSL prompting on the terminal. */
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (pkey == NULL) {
		rc = err_set(e, BB_ERR_CRYPTO, "key %s: not a PEM private key", path);
		goto out;
	}
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		rc = err_set(e, BB_ERR_CRYPTO, "key %s: not an RSA key", path);
		goto out;
	}
	if (EVP_PKEY_get_bits(pkey) < 2048) {
		rc = err_set(e, BB_ERR_CRYPTO, "key %s: RSA key of %d bits is too weak (2048 at least)",
			     path, EVP_PKEY_get_bits(pkey));
		goto out;
	}
	rc = key_wrap(pkey, out, e);
	pkey = NULL;
out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Generates a key and writes it, PKCS#8 PEM, to a new 0600 file. */
static enum bb_rc key_create(const char *path, struct err *e)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	char *data = NULL;
	long len;
	enum bb_rc rc;

	pkey = EVP_RSA_gen(KEY_RSA_BITS);
	if (pkey == NULL) {
		rc = err_set(e, BB_ERR_CRYPTO, "cannot generate an RSA key");
		goto out;
	}
	bio = BIO_new(BIO_s_secmem());
	if (bio == NULL) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		rc = err_set(e, BB_ERR_CRYPTO, "cannot encode the new key");
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	if (len <= 0) {
		rc = err_set(e, BB_ERR_CRYPTO, "cannot encode the new key");
		goto out;
	}
	rc = fs_mkdir_parents(path, 0700, e);
	if (rc != BB_OK)
		goto out;
	rc = fs_write_new_file(path, data, (size_t)len, 0600, e);
out:
	BIO_free(bio); /* a secure-heap BIO: the PEM is wiped on free */
	EVP_PKEY_free(pkey);
	return rc;
}

enum bb_rc key_load_or_create(const char *path, struct key **out, bool *created, struct err *e)
{
	enum bb_rc rc;
	struct err create_err;

	if (created)
		*created = false;
	rc = key_load(path, out, e);
	if (rc != BB_ERR_NOTFOUND)
		return rc;
	rc = key_create(path, &create_err);
	/* Another process may have created it meanwhile: load whatever won. */
	if (rc != BB_OK && access(path, F_OK) != 0)
		return err_set(e, rc, "%s", create_err.msg);
	if (rc == BB_OK && created)
		*created = true;
	return key_load(path, out, e);
}

const char *key_public_pem(const struct key *k)
{
	return k->public_pem;
}

void key_free(struct key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k->public_pem);
	free(k);
}

enum bb_rc key_sign_rsa_sha256(const struct key *k, const void *data, size_t len,
			       unsigned char **sig, size_t *siglen, struct err *e)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *out = NULL;
	size_t outlen = 0;
	enum bb_rc rc = BB_OK;

	*sig = NULL;
	*siglen = 0;
	if (ctx == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	if (EVP_DigestSignInit(ctx, NULL, key_md_sha256(), NULL, k->pkey) != 1 ||
	    EVP_DigestSign(ctx, NULL, &outlen, data, len) != 1) {
		rc = err_set(e, BB_ERR_CRYPTO, "cannot sign");
		goto out;
	}
	out = malloc(outlen);
	if (out == NULL) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestSign(ctx, out, &outlen, data, len) != 1) {
		rc = err_set(e, BB_ERR_CRYPTO, "cannot sign");
		goto out;
	}
	*sig = out;
	*siglen = outlen;
	out = NULL;
out:
	free(out);
	EVP_MD_CTX_free(ctx);
	return rc;
}

struct pubkey {
	EVP_PKEY *pkey;
	enum pubkey_type type;
};

static enum bb_rc pubkey_wrap(EVP_PKEY *pkey, struct pubkey **out, struct err *e)
{
	struct pubkey *pk;
	int id = EVP_PKEY_get_base_id(pkey);

	/* Remote keys: 1024 bits at least, as old servers still publish them
	 * (Mastodon accepts any size); our own key is 2048. */
	if (id == EVP_PKEY_RSA && EVP_PKEY_get_bits(pkey) < 1024) {
		int bits = EVP_PKEY_get_bits(pkey);
		EVP_PKEY_free(pkey);
		return err_set(e, BB_ERR_CRYPTO, "RSA key of %d bits is too weak", bits);
	}
	if (id != EVP_PKEY_RSA && id != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		return err_set(e, BB_ERR_CRYPTO, "unsupported public key type");
	}
	pk = calloc(1, sizeof(*pk));
	if (pk == NULL) {
		EVP_PKEY_free(pkey);
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	}
	pk->pkey = pkey;
	pk->type = id == EVP_PKEY_RSA ? PUBKEY_RSA : PUBKEY_ED25519;
	*out = pk;
	return BB_OK;
}

enum bb_rc pubkey_from_pem(const char *pem, struct pubkey **out, struct err *e)
{
	OSSL_DECODER_CTX *dctx;
	EVP_PKEY *pkey = NULL;
	const unsigned char *data = (const unsigned char *)pem;
	size_t len = strlen(pem);

	*out = NULL;
	/* The decoder takes SPKI ("BEGIN PUBLIC KEY") and PKCS#1 ("BEGIN RSA
	 * PUBLIC KEY", which some servers publish) alike. */
	dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, NULL, EVP_PKEY_PUBLIC_KEY, NULL,
					     NULL);
	if (dctx == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	if (OSSL_DECODER_from_data(dctx, &data, &len) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	OSSL_DECODER_CTX_free(dctx);
	if (pkey == NULL)
		return err_set(e, BB_ERR_CRYPTO, "not a PEM public key");
	return pubkey_wrap(pkey, out, e);
}

enum bb_rc pubkey_from_key(const struct key *k, struct pubkey **out, struct err *e)
{
	return pubkey_from_pem(k->public_pem, out, e);
}

enum pubkey_type pubkey_type_of(const struct pubkey *pk)
{
	return pk->type;
}

enum bb_rc pubkey_verify(const struct pubkey *pk, enum pubkey_alg alg, const void *data,
			 size_t len, const unsigned char *sig, size_t siglen, struct err *e)
{
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md = NULL;
	enum bb_rc rc = BB_OK;
	int r;

	if ((alg == PUBKEY_ALG_ED25519) != (pk->type == PUBKEY_ED25519))
		return err_set(e, BB_ERR_AUTH, "signature algorithm does not match the key type");
	if (alg == PUBKEY_ALG_RSA_V1_5_SHA256)
		md = key_md_sha256();
	else if (alg == PUBKEY_ALG_RSA_PSS_SHA512)
		md = key_md_sha512();
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pk->pkey) != 1) {
		rc = err_set(e, BB_ERR_CRYPTO, "cannot start verification");
		goto out;
	}
	if (alg == PUBKEY_ALG_RSA_PSS_SHA512 &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 64) != 1)) {
		rc = err_set(e, BB_ERR_CRYPTO, "cannot set RSA-PSS parameters");
		goto out;
	}
	r = EVP_DigestVerify(ctx, sig, siglen, data, len);
	if (r != 1)
		rc = err_set(e, BB_ERR_AUTH, "signature does not verify with the key");
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

void pubkey_free(struct pubkey *pk)
{
	if (pk == NULL)
		return;
	EVP_PKEY_free(pk->pkey);
	free(pk);
}

static EVP_MD *md_sha256, *md_sha512;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void md_fetch(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	md_sha512 = EVP_MD_fetch(NULL, "SHA512", NULL);
}

const EVP_MD *key_md_sha256(void)
{
	pthread_once(&md_once, md_fetch);
	return md_sha256 ? md_sha256 : EVP_sha256();
}

const EVP_MD *key_md_sha512(void)
{
	pthread_once(&md_once, md_fetch);
	return md_sha512 ? md_sha512 : EVP_sha512();
}

struct pubkey_slot {
	char *key_id;
	char *pem;
	EVP_PKEY *pkey; /* one reference held by the cache */
	enum pubkey_type type;
};

struct pubkey_cache {
	pthread_mutex_t lock;
	struct pubkey_slot slots[PUBKEY_CACHE_SLOTS];
};

struct pubkey_cache *pubkey_cache_new(void)
{
	struct pubkey_cache *c = calloc(1, sizeof(*c));

	if (c && pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		c = NULL;
	}
	return c;
}

static void slot_clear(struct pubkey_slot *s)
{
	free(s->key_id);
	free(s->pem);
	EVP_PKEY_free(s->pkey);
	memset(s, 0, sizeof(*s));
}

void pubkey_cache_free(struct pubkey_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < PUBKEY_CACHE_SLOTS; i++)
		slot_clear(&c->slots[i]);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* FNV-1a: the slot of a key id (a direct-mapped cache: a collision just
 * evicts the older key). */
static size_t slot_of(const char *key_id)
{
	uint64_t h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *)key_id; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (size_t)(h % PUBKEY_CACHE_SLOTS);
}

/* A new pubkey sharing pkey (one more reference). */
static enum bb_rc pubkey_share(EVP_PKEY *pkey, enum pubkey_type type, struct pubkey **out,
			       struct err *e)
{
	struct pubkey *pk = calloc(1, sizeof(*pk));

	if (pk == NULL || EVP_PKEY_up_ref(pkey) != 1) {
		free(pk);
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	}
	pk->pkey = pkey;
	pk->type = type;
	*out = pk;
	return BB_OK;
}

enum bb_rc pubkey_cache_get(struct pubkey_cache *c, const char *key_id, const char *pem,
			    struct pubkey **out, struct err *e)
{
	struct pubkey_slot *s = &c->slots[slot_of(key_id)];
	struct pubkey *parsed = NULL;
	enum bb_rc rc;

	*out = NULL;
	pthread_mutex_lock(&c->lock);
	if (s->pkey && strcmp(s->key_id, key_id) == 0 && strcmp(s->pem, pem) == 0) {
		rc = pubkey_share(s->pkey, s->type, out, e);
		pthread_mutex_unlock(&c->lock);
		return rc;
	}
	pthread_mutex_unlock(&c->lock);
	/* Parse outside the lock: it is the slow part. */
	rc = pubkey_from_pem(pem, &parsed, e);
	if (rc != BB_OK)
		return rc;
	pthread_mutex_lock(&c->lock);
	if (EVP_PKEY_up_ref(parsed->pkey) == 1) {
		char *kid = strdup(key_id), *p = strdup(pem);
		if (kid && p) {
			slot_clear(s);
			s->key_id = kid;
			s->pem = p;
			s->pkey = parsed->pkey;
			s->type = parsed->type;
		} else {
			free(kid);
			free(p);
			EVP_PKEY_free(parsed->pkey); /* the reference taken above */
		}
	}
	pthread_mutex_unlock(&c->lock);
	*out = parsed;
	return BB_OK;
}

enum bb_rc key_derive_secret(const struct key *k, const char *label,
			     unsigned char out[KEY_SECRET_LEN], struct err *e)
{
	unsigned char *der = NULL;
	unsigned int outlen = 0;
	enum bb_rc rc = BB_OK;
	int len;

	len = i2d_PrivateKey(k->pkey, &der);
	if (len <= 0) {
		rc = err_set(e, BB_ERR_CRYPTO, "cannot encode the key");
		goto out;
	}
	if (HMAC(key_md_sha256(), der, len, (const unsigned char *)label, strlen(label), out,
		 &outlen) == NULL ||
	    outlen != KEY_SECRET_LEN)
		rc = err_set(e, BB_ERR_CRYPTO, "cannot derive a secret");
out:
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)len);
	return rc;
}
