/*
 * key.h — the actor's RSA key pair.
 *
 * The private key lives in one PEM file (PKCS#8), mode 0600, and in memory;
 * it never goes to the database, a queue row or a log.  Mastodon generates
 * RSA-2048 keys for its own accounts and parses ours with
 * OpenSSL::PKey::RSA.new, so that is what we make; the public half is
 * published as SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY").
 */
#ifndef BB_KEY_H
#define BB_KEY_H

#include "err.h"

#include <openssl/evp.h>
#include <stdbool.h>

#define KEY_RSA_BITS 2048

struct key;

/* Loads the private key at path.  Refuses (BB_ERR_UNSAFE) a file that the
 * group or others may read or write, or that is not a regular file; fails
 * with BB_ERR_NOTFOUND when it does not exist, BB_ERR_CRYPTO when it is not
 * an RSA private key. */
enum bb_rc key_load(const char *path, struct key **out, struct err *e) BB_MUST_CHECK;

/* Loads the key at path, or, when there is none, generates an RSA-2048 key
 * and writes it there atomically with mode 0600 (creating the folder).
 * *created tells which happened (may be NULL). */
enum bb_rc key_load_or_create(const char *path, struct key **out, bool *created, struct err *e)
    BB_MUST_CHECK;

/* The public key as SPKI PEM, borrowed from k (valid until key_free). */
const char *key_public_pem(const struct key *k);

void key_free(struct key *k);

/* A secret of 32 bytes derived from the private key for one purpose:
 * HMAC-SHA256 keyed with the key's DER encoding over label.  The same key
 * and label always give the same secret; it tells nothing of the key
 * (a new key gives a new secret). */
#define KEY_SECRET_LEN 32
enum bb_rc key_derive_secret(const struct key *k, const char *label,
			     unsigned char out[KEY_SECRET_LEN], struct err *e) BB_MUST_CHECK;

/* Signs data with the private key: RSASSA-PKCS1-v1_5 with SHA-256, the one
 * algorithm every Mastodon verifies.  *sig is a new buffer of *siglen
 * bytes. */
enum bb_rc key_sign_rsa_sha256(const struct key *k, const void *data, size_t len,
			       unsigned char **sig, size_t *siglen, struct err *e) BB_MUST_CHECK;

/* A remote actor's public key: RSA (2048 bits or more) or Ed25519. */
struct pubkey;

enum pubkey_type { PUBKEY_RSA, PUBKEY_ED25519 };

/* Parses an SPKI PEM ("BEGIN PUBLIC KEY"; "BEGIN RSA PUBLIC KEY" too).
 * BB_ERR_CRYPTO for anything else or a weak key. */
enum bb_rc pubkey_from_pem(const char *pem, struct pubkey **out, struct err *e) BB_MUST_CHECK;

/* The public half of our own key (for tests and self-checks). */
enum bb_rc pubkey_from_key(const struct key *k, struct pubkey **out, struct err *e)
    BB_MUST_CHECK;

enum pubkey_type pubkey_type_of(const struct pubkey *pk);

/* Signature algorithms a verifier may be asked for. */
enum pubkey_alg {
	PUBKEY_ALG_RSA_V1_5_SHA256, /* draft-cavage rsa-sha256/hs2019; RFC 9421 rsa-v1_5-sha256 */
	PUBKEY_ALG_RSA_PSS_SHA512,  /* RFC 9421 rsa-pss-sha512 */
	PUBKEY_ALG_ED25519,         /* RFC 9421 ed25519 */
};

/* Verifies sig over data.  BB_OK when valid; BB_ERR_AUTH when not (or the
 * algorithm does not fit the key); BB_ERR_CRYPTO on an OpenSSL failure. */
enum bb_rc pubkey_verify(const struct pubkey *pk, enum pubkey_alg alg, const void *data,
			 size_t len, const unsigned char *sig, size_t siglen, struct err *e)
    BB_MUST_CHECK;

void pubkey_free(struct pubkey *pk);

/* A thread-safe cache of parsed public keys, keyed by key id and checked
 * against the PEM: parsing a PEM costs far more than verifying with the
 * key (OpenSSL 3's decoders), so the inbox parses each key once. */
struct pubkey_cache;

#define PUBKEY_CACHE_SLOTS 4096

struct pubkey_cache *pubkey_cache_new(void);
void pubkey_cache_free(struct pubkey_cache *c);

/* The key for key_id whose PEM is pem: from the cache, or parsed and
 * cached.  *out is the caller's own reference (pubkey_free it). */
enum bb_rc pubkey_cache_get(struct pubkey_cache *c, const char *key_id, const char *pem,
			    struct pubkey **out, struct err *e) BB_MUST_CHECK;

/* Message digests fetched once (OpenSSL 3 fetches an implementation on
 * every use of EVP_sha256(), taking locks each time). */
const EVP_MD *key_md_sha256(void);
const EVP_MD *key_md_sha512(void);

#endif
