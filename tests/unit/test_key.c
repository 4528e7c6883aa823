/*
 * test_key.c — unit tests for crypto/key: first-run creation of the actor's
 * RSA key (size, file mode, folder), reloading the same key, the public PEM
 * matching the private key on disk (a signature made with the file verifies
 * with the PEM), and every refusal: loose modes, symbolic links, folders,
 * garbage, non-RSA and weak keys, and a missing file.  Foreign keys are made
 * here with OpenSSL directly.
 */
#include "check.h"

#include "fsutil.h"
#include "key.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PUBLIC_PEM_HEAD "-----BEGIN PUBLIC KEY-----\n"

/* Reads the private key file with OpenSSL alone, bypassing key.c. */
static EVP_PKEY *read_private(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *pkey;

	if (f == NULL)
		return NULL;
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return pkey;
}

/* Parses a SubjectPublicKeyInfo PEM string. */
static EVP_PKEY *parse_public(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pkey;

	if (bio == NULL)
		return NULL;
	pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return pkey;
}

/* Signs msg with priv (RSA-SHA256, as HTTP signatures do) and verifies the
 * signature with pub; returns true only when it verifies. */
static bool sign_verify(EVP_PKEY *priv, EVP_PKEY *pub, const char *msg)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	bool ok = false;

	if (ctx == NULL)
		return false;
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, priv) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)msg, strlen(msg)) != 1)
		goto out;
	EVP_MD_CTX_free(ctx);
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return false;
	if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) != 1)
		goto out;
	ok = EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)msg, strlen(msg)) == 1;
out:
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* Writes pkey as PKCS#8 PEM to a new file of the given mode. */
static bool write_private(const char *path, EVP_PKEY *pkey, mode_t mode)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;
	struct err e = {0};
	bool ok = false;

	if (bio == NULL)
		return false;
	if (PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1)
		goto out;
	len = BIO_get_mem_data(bio, &data);
	if (len <= 0)
		goto out;
	ok = fs_write_new_file(path, data, (size_t)len, mode, &e) == BB_OK;
	if (!ok)
		fprintf(stderr, "    %s\n", e.msg);
out:
	BIO_free(bio);
	return ok;
}

/* Creates a key with key_load_or_create at dir/name; returns the path. */
static char *make_key(const char *dir, const char *name)
{
	char *path = fs_path_join(dir, name);
	struct key *k = NULL;
	struct err e = {0};
	bool created = false;

	CHECK_INT(key_load_or_create(path, &k, &created, &e), BB_OK);
	CHECK(created);
	key_free(k);
	return path;
}

/* key_load must fail with code, and the message name the path. */
static void expect_refused(const char *path, enum bb_rc code, const char *words)
{
	struct key *k = (struct key *)&k; /* not NULL: key_load must clear it */
	struct err e = {0};
	enum bb_rc rc = key_load(path, &k, &e);

	if (rc != code)
		check_fail(__FILE__, __LINE__, "key_load(%s): %s (%s), want %s", path,
			   err_code_name(rc), e.msg, err_code_name(code));
	CHECK(k == NULL);
	CHECK_INT(e.code, code);
	if (!check_contains(e.msg, path))
		check_fail(__FILE__, __LINE__, "message does not name %s: %s", path, e.msg);
	if (words && !check_contains(e.msg, words))
		check_fail(__FILE__, __LINE__, "message lacks \"%s\": %s", words, e.msg);
	/* key_load_or_create refuses as well and does not replace the file. */
	k = NULL;
	err_clear(&e);
	rc = key_load_or_create(path, &k, NULL, &e);
	if (rc != code)
		check_fail(__FILE__, __LINE__, "key_load_or_create(%s): %s (%s), want %s", path,
			   err_code_name(rc), e.msg, err_code_name(code));
	key_free(k);
}

static void t_create_and_reload(void)
{
	const char *dir = check_tmpdir();
	char *path = fs_path_join(dir, "missing/deeper/actor.pem");
	char *folder = fs_path_join(dir, "missing/deeper");
	struct key *k = NULL, *k2 = NULL;
	struct err e = {0};
	bool created = false;
	struct stat sb;
	EVP_PKEY *priv = NULL, *pub = NULL, *pub2 = NULL;
	char *pem1 = NULL;

	CHECK_INT(key_load_or_create(path, &k, &created, &e), BB_OK);
	CHECK(k != NULL);
	CHECK(created);
	CHECK(lstat(path, &sb) == 0);
	CHECK(S_ISREG(sb.st_mode));
	CHECK_INT(sb.st_mode & 07777, 0600);
	CHECK(sb.st_size > 1000);
	CHECK(stat(folder, &sb) == 0 && S_ISDIR(sb.st_mode));
	CHECK_INT(sb.st_mode & 077, 0); /* the key's folder is private too */
	if (k == NULL)
		goto out;
	CHECK(strncmp(key_public_pem(k), PUBLIC_PEM_HEAD, strlen(PUBLIC_PEM_HEAD)) == 0);
	CHECK(check_contains(key_public_pem(k), "-----END PUBLIC KEY-----\n"));
	CHECK(!check_contains(key_public_pem(k), "PRIVATE"));
	pem1 = strdup(key_public_pem(k));

	/* The file holds an RSA-2048 private key, in PKCS#8 form. */
	priv = read_private(path);
	CHECK(priv != NULL);
	if (priv) {
		CHECK_INT(EVP_PKEY_get_base_id(priv), EVP_PKEY_RSA);
		CHECK_INT(EVP_PKEY_get_bits(priv), KEY_RSA_BITS);
		CHECK_INT(KEY_RSA_BITS, 2048);
	}

	/* The published half belongs to that private key. */
	pub = parse_public(key_public_pem(k));
	CHECK(pub != NULL);
	if (priv && pub) {
		CHECK_INT(EVP_PKEY_eq(priv, pub), 1);
		CHECK(sign_verify(priv, pub, "(request-target): post /inbox\nhost: example.com"));
	}

	/* Second run: same key, not created. */
	created = true;
	CHECK_INT(key_load_or_create(path, &k2, &created, &e), BB_OK);
	CHECK(!created);
	if (k2)
		CHECK_STR(key_public_pem(k2), pem1);
	key_free(k2);
	k2 = NULL;
	CHECK_INT(key_load(path, &k2, &e), BB_OK);
	if (k2)
		CHECK_STR(key_public_pem(k2), pem1);

	/* A different key does not verify: the check above can fail. */
	{
		char *other = make_key(dir, "other.pem");
		struct key *ko = NULL;

		CHECK_INT(key_load(other, &ko, &e), BB_OK);
		if (ko) {
			CHECK(strcmp(key_public_pem(ko), pem1) != 0);
			pub2 = parse_public(key_public_pem(ko));
			CHECK(pub2 != NULL);
			if (priv && pub2) {
				CHECK_INT(EVP_PKEY_eq(priv, pub2), 0);
				CHECK(!sign_verify(priv, pub2, "hello"));
			}
		}
		key_free(ko);
		free(other);
	}
out:
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(pub2);
	free(pem1);
	key_free(k);
	key_free(k2);
	free(path);
	free(folder);
	check_tmpdir_remove(dir);
}

static void t_loose_modes(void)
{
	const char *dir = check_tmpdir();
	char *path = make_key(dir, "actor.pem");
	static const mode_t bad[] = {0644, 0640, 0604, 0660, 0606, 0610};
	struct stat sb;
	struct key *k = NULL;
	struct err e = {0};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(chmod(path, bad[i]) == 0);
		expect_refused(path, BB_ERR_UNSAFE, "chmod");
		/* The file is neither replaced nor re-moded. */
		CHECK(stat(path, &sb) == 0);
		CHECK_INT(sb.st_mode & 07777, bad[i]);
	}
	/* Owner-only modes are accepted. */
	CHECK(chmod(path, 0400) == 0);
	CHECK_INT(key_load(path, &k, &e), BB_OK);
	key_free(k);
	k = NULL;
	CHECK(chmod(path, 0600) == 0);
	CHECK_INT(key_load(path, &k, &e), BB_OK);
	key_free(k);
	free(path);
	check_tmpdir_remove(dir);
}

static void t_not_a_file(void)
{
	const char *dir = check_tmpdir();
	char *path = make_key(dir, "actor.pem");
	char *link = fs_path_join(dir, "link.pem");
	char *sub = fs_path_join(dir, "folder.pem");
	char *dangling = fs_path_join(dir, "dangling.pem");
	char *nowhere = fs_path_join(dir, "nowhere.pem");

	CHECK(symlink(path, link) == 0);
	expect_refused(link, BB_ERR_UNSAFE, "symbolic link");
	/* A link to nowhere is not "missing": creating through it is refused. */
	CHECK(symlink(nowhere, dangling) == 0);
	expect_refused(dangling, BB_ERR_UNSAFE, NULL);
	CHECK(access(nowhere, F_OK) != 0);
	CHECK(mkdir(sub, 0700) == 0);
	expect_refused(sub, BB_ERR_UNSAFE, "not a regular file");
	free(path);
	free(link);
	free(sub);
	free(dangling);
	free(nowhere);
	check_tmpdir_remove(dir);
}

static void t_bad_contents(void)
{
	const char *dir = check_tmpdir();
	char *garbage = fs_path_join(dir, "garbage.pem");
	char *empty = fs_path_join(dir, "empty.pem");
	char *ec = fs_path_join(dir, "ec.pem");
	char *weak = fs_path_join(dir, "weak.pem");
	char *pub = fs_path_join(dir, "public.pem");
	const char *text = "this is not a key\n-----BEGIN PRIVATE KEY-----\nAAAA\n";
	struct err e = {0};
	EVP_PKEY *pkey;
	BIO *bio;
	char *data = NULL;
	long len;

	CHECK_INT(fs_write_new_file(garbage, text, strlen(text), 0600, &e), BB_OK);
	expect_refused(garbage, BB_ERR_CRYPTO, NULL);
	CHECK_INT(fs_write_new_file(empty, "", 0, 0600, &e), BB_OK);
	expect_refused(empty, BB_ERR_CRYPTO, NULL);

	pkey = EVP_EC_gen("P-256");
	CHECK(pkey != NULL);
	if (pkey) {
		CHECK(write_private(ec, pkey, 0600));
		expect_refused(ec, BB_ERR_CRYPTO, "not an RSA key");
	}
	EVP_PKEY_free(pkey);

	pkey = EVP_RSA_gen(1024);
	CHECK(pkey != NULL);
	if (pkey) {
		CHECK(write_private(weak, pkey, 0600));
		expect_refused(weak, BB_ERR_CRYPTO, "1024");
		/* A public key alone is not a private key. */
		bio = BIO_new(BIO_s_mem());
		CHECK(bio != NULL && PEM_write_bio_PUBKEY(bio, pkey) == 1);
		len = bio ? BIO_get_mem_data(bio, &data) : 0;
		CHECK(len > 0);
		if (len > 0) {
			CHECK_INT(fs_write_new_file(pub, data, (size_t)len, 0600, &e), BB_OK);
			expect_refused(pub, BB_ERR_CRYPTO, NULL);
		}
		BIO_free(bio);
	}
	EVP_PKEY_free(pkey);

	free(garbage);
	free(empty);
	free(ec);
	free(weak);
	free(pub);
	check_tmpdir_remove(dir);
}

static void t_missing(void)
{
	const char *dir = check_tmpdir();
	char *path = fs_path_join(dir, "no/such/key.pem");
	struct key *k = NULL;
	struct err e = {0};

	CHECK_INT(key_load(path, &k, &e), BB_ERR_NOTFOUND);
	CHECK(k == NULL);
	CHECK(check_contains(e.msg, path));
	/* key_load never creates anything. */
	CHECK(access(path, F_OK) != 0);
	free(path);
	path = fs_path_join(dir, "no");
	CHECK(access(path, F_OK) != 0);
	free(path);
	check_tmpdir_remove(dir);
}

static const struct check_case cases[] = {
	{"create_and_reload", t_create_and_reload},
	{"loose_modes", t_loose_modes},
	{"not_a_file", t_not_a_file},
	{"bad_contents", t_bad_contents},
	{"missing", t_missing},
};

CHECK_MAIN(cases)
