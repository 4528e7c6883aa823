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

#endif
