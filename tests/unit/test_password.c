/*
 * test_password.c — the admin password's scrypt hash (crypto/password.c):
 * a hash verifies with its password only; empty, long and non-ASCII
 * passwords; malformed or hostile stored forms are refused.
 */
#include "check.h"
#include "password.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool verify(const char *pw, const char *hash)
{
	return password_verify(pw, strlen(pw), hash);
}

static void t_roundtrip(void)
{
	char h[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];
	struct err e = {0};

	CHECK_INT(password_hash("correct horse", 13, h, &e), BB_OK);
	CHECK(strncmp(h, "$scrypt$N=32768,r=8,p=1$", 24) == 0);
	CHECK(verify("correct horse", h));
	CHECK(!verify("correct horsf", h));
	CHECK(!verify("correct hors", h));
	CHECK(!verify("correct horse ", h));
	CHECK(!verify("", h));
	/* A new salt each time: the same password, another hash. */
	CHECK_INT(password_hash("correct horse", 13, h2, &e), BB_OK);
	CHECK(strcmp(h, h2) != 0);
	CHECK(verify("correct horse", h2));
}

static void t_empty(void)
{
	char h[PASSWORD_HASH_MAX];
	struct err e = {0};

	CHECK_INT(password_hash("", 0, h, &e), BB_OK);
	CHECK(verify("", h));
	CHECK(!verify("x", h));
}

static void t_long(void)
{
	char *pw = malloc(PASSWORD_MAX_LEN + 2);
	char h[PASSWORD_HASH_MAX];
	struct err e = {0};

	CHECK(pw != NULL);
	if (pw == NULL)
		return;
	memset(pw, 'a', PASSWORD_MAX_LEN + 1);
	pw[PASSWORD_MAX_LEN + 1] = '\0';
	CHECK_INT(password_hash(pw, PASSWORD_MAX_LEN, h, &e), BB_OK);
	CHECK(password_verify(pw, PASSWORD_MAX_LEN, h));
	/* One byte more or less is another password. */
	CHECK(!password_verify(pw, PASSWORD_MAX_LEN - 1, h));
	/* Over the limit: refused, not silently cut. */
	CHECK(!password_verify(pw, PASSWORD_MAX_LEN + 1, h));
	CHECK_INT(password_hash(pw, PASSWORD_MAX_LEN + 1, h, &e), BB_ERR_INVALID);
	free(pw);
}

static void t_unicode(void)
{
	/* "pässwörd ☃ 密码" in UTF-8, and the same text with "ä" decomposed
	 * (a + U+0308): bytes differ, so the hashes do. */
	const char *nfc = "p\xc3\xa4sssw\xc3\xb6rd \xe2\x98\x83 \xe5\xaf\x86\xe7\xa0\x81";
	const char *nfd = "pa\xcc\x88sssw\xc3\xb6rd \xe2\x98\x83 \xe5\xaf\x86\xe7\xa0\x81";
	char h[PASSWORD_HASH_MAX];
	struct err e = {0};

	CHECK_INT(password_hash(nfc, strlen(nfc), h, &e), BB_OK);
	CHECK(verify(nfc, h));
	CHECK(!verify(nfd, h));
	/* An embedded NUL counts: verify takes a length. */
	CHECK_INT(password_hash("ab\0cd", 5, h, &e), BB_OK);
	CHECK(password_verify("ab\0cd", 5, h));
	CHECK(!password_verify("ab\0ce", 5, h));
	CHECK(!verify("ab", h));
}

static void t_malformed(void)
{
	char h[PASSWORD_HASH_MAX], bad[PASSWORD_HASH_MAX + 16];
	struct err e = {0};

	CHECK_INT(password_hash("secret-secret", 13, h, &e), BB_OK);
	CHECK(!verify("secret-secret", NULL));
	CHECK(!verify("secret-secret", ""));
	CHECK(!verify("secret-secret", "$scrypt$"));
	CHECK(!verify("secret-secret", "plaintext"));
	/* Parameters out of range, or N not a power of two. */
	CHECK(!verify("x", "$scrypt$N=1073741824,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA"));
	CHECK(!verify("x", "$scrypt$N=1000,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA"));
	CHECK(!verify("x", "$scrypt$N=1024,r=0,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA"));
	/* A cut hash, and one with a digit of the hash changed. */
	snprintf(bad, sizeof(bad), "%.*s", (int)strlen(h) - 4, h);
	CHECK(!verify("secret-secret", bad));
	snprintf(bad, sizeof(bad), "%s", h);
	/* (Not the last digit: its low bits are padding, which a decoder may
	 * ignore.) */
	bad[strlen(bad) - 10] = bad[strlen(bad) - 10] == 'A' ? 'B' : 'A';
	CHECK(!verify("secret-secret", bad));
	/* Other parameters in the stored form are honoured. */
	snprintf(bad, sizeof(bad), "%s", h);
	memcpy(bad + 8, "N=16384", 7);
	CHECK(!verify("secret-secret", bad));
}

static const struct check_case cases[] = {
    {"roundtrip", t_roundtrip}, {"empty", t_empty},	    {"long", t_long},
    {"unicode", t_unicode},	{"malformed", t_malformed},
};

CHECK_MAIN(cases)
