/*
 * key.c — see key.h.
 */
#include "key.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
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
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
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
