/*
 * x509-int.h - what the x509 files share beyond x509.h.  Not an API.
 */
#pragma once

#include <openssl/x509.h>

/*
 * An X509_NAME as one line of RFC 2253 text, escaped and bounded, in a new
 * string.  Returns 0 or -ENOMEM; *ret is untouched on failure.
 */
int x509_name_text(const X509_NAME *name, char **ret);
