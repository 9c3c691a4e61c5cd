/*
 * key-type.c - the names of enum key_type, as the configuration, the
 * command line and the reports write them.
 */
#include "config.h"

#include "key-type.h"
#include "util.h"

static const char *const key_type_names[_KEY_TYPE_MAX] = {
	[KEY_TYPE_ANY]   = "any",
	[KEY_TYPE_RSA]   = "rsa",
	[KEY_TYPE_ECDSA] = "ecdsa",
	[KEY_TYPE_AUTO]  = "auto",
};

const char *key_type_to_string(enum key_type k)
{
	return (unsigned)k < _KEY_TYPE_MAX ? key_type_names[k] : "?";
}

int key_type_from_string(const char *s)
{
	return name_index(key_type_names, _KEY_TYPE_MAX, s);
}
