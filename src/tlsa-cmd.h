/*
 * tlsa-cmd.h - "certwatch tlsa FILE...": the DANE TLSA records and the pin
 * that would match each certificate file, ready to paste into a zone.
 */
#pragma once

#include <stddef.h>

#include <openssl/x509.h>

/*
 * The command; argv[0] is "tlsa".  Prints to stdout, errors to stderr.
 * Returns the exit status: 0, or 3 for a usage error or a file that
 * holds no certificate.
 */
int tlsa_main(int argc, char **argv);

/*
 * Reads the certificates of a PEM file in order (the leaf first in a
 * full chain), at most X509_MAX_CHAIN.  Returns 0, or a negative errno
 * with a message naming the file in err.
 */
int pem_chain_load(const char *path, X509 ***ret, size_t *ret_n, char *err, size_t errlen);
void pem_chain_free(X509 **chain, size_t n);
