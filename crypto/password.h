/*
 * password.h — the admin password, kept as a salted scrypt hash (RFC 7914,
 * through OpenSSL's EVP_KDF "SCRYPT").
 *
 * The stored form is one line of text, safe in bridge.conf:
 *
 *   $scrypt$N=32768,r=8,p=1$<base64 salt>$<base64 hash>
 *
 * The parameters travel with the hash, so a later build may raise them
 * and still verify the hashes it wrote before.
 */
#ifndef BB_PASSWORD_H
#define BB_PASSWORD_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>

/* The shortest password `blogbridge passwd` takes, in bytes, and the
 * longest either function takes (a bound on the work asked of scrypt). */
#define PASSWORD_MIN_LEN 10
#define PASSWORD_MAX_LEN 1024
/* The longest encoded hash password_hash writes, with its NUL. */
#define PASSWORD_HASH_MAX 160

/* Hashes the len bytes of password (any bytes, UTF-8 as typed) with a new
 * random 16-byte salt and writes the encoded form into out.
 * BB_ERR_INVALID for a password over PASSWORD_MAX_LEN; BB_ERR_CRYPTO when
 * OpenSSL fails. */
enum bb_rc password_hash(const char *password, size_t len, char out[PASSWORD_HASH_MAX],
			 struct err *e) BB_MUST_CHECK;

/* Whether password matches encoded (password_hash's form), compared in
 * constant time.  False for a malformed encoded value, parameters outside
 * what this build accepts, or a password over PASSWORD_MAX_LEN.  An empty
 * password is checked like any other (and does not match a hash of a
 * non-empty one). */
bool password_verify(const char *password, size_t len, const char *encoded);

#endif
