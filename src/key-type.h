/*
 * key-type.h - which of a server's certificates to ask for, when it has
 * one per key type (nginx with two ssl_certificate lines, Postfix's
 * eccert), and the type of a certificate's key.  A name of its own, so
 * that the configuration, the probe engine and the reports share it
 * without depending on one another.
 */
#pragma once

enum key_type {
	KEY_TYPE_ANY,         /* whatever the server prefers; of a key: another algorithm */
	KEY_TYPE_RSA,
	KEY_TYPE_ECDSA,
	KEY_TYPE_AUTO,        /* the type of the certificate on disk (check.c aims it) */
	_KEY_TYPE_MAX,
};

/* "any", "rsa", "ecdsa", "auto"; "?" for a value out of range. */
const char *key_type_to_string(enum key_type k);

/* The type named s, or -EINVAL. */
int key_type_from_string(const char *s);
