/*
 * x509-int.h - what the x509 files share beyond x509.h.  Not an API.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/x509.h>

#include "x509.h"

/*
 * An X509_NAME as one line of RFC 2253 text, escaped and bounded, in a new
 * string.  Returns 0 or -ENOMEM; *ret is untouched on failure.
 */
int x509_name_text(const X509_NAME *name, char **ret);

#define PATH_TEXT_MAX 200           /* a path quoted in a detail message */

/*
 * What tells one version of a file from another without reading it: a
 * file replaced (a new inode), rewritten (size, mtime) or changed in its
 * mode or owner (ctime) has another identity.  All zeros: no such file.
 */
struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

void file_id_from_stat(const struct stat *st, struct file_id *ret);
/* The identity of what path names (links followed).  Returns 0 or -errno. */
int file_id_of(const char *path, struct file_id *ret);
bool file_id_same(const struct file_id *a, const struct file_id *b);

/* One file of a pair, read whole (x509-file.c). */
struct pem_file {
	const char *role;    /* "certificate", "chain", "key" */
	const char *path;
	bool secret;         /* a private key: its mode matters */
	mode_t mode;         /* once opened */
	struct file_id id;   /* once opened (have_id) */
	bool have_id;
	char *data;
	size_t len;
};

/*
 * What a pair's files say before the clock and the name are asked: the
 * first problem they show (or X509_VALID), the key's and the chain's
 * checks, and the certificates, parsed.  It depends on nothing but the
 * bytes and modes of the files, so it is kept (x509-cache.c) for as long
 * as their identities stay the same.  The private key is never kept.
 */
struct pair_parsed {
	unsigned refs;                    /* under the cache's lock */
	enum x509_status status;
	char *detail, *key_warning;       /* NULL when "" */
	X509 *certs[X509_MAX_CHAIN];      /* the leaf first; none when it could not be read */
	size_t n, n_total;                /* kept, and found in the files */
	bool key_matches, chain_in_order;
	bool complete;                    /* every file read: ids tell its version */
	struct file_id ids[3];            /* of the certificate, chain and key files */
};

/*
 * x509-cache.c: the parsed pair of those files when every one of them
 * still has the identity it had when parsed, with a reference the caller
 * gives back with pair_parsed_unref(); else NULL.
 */
struct pair_parsed *pair_cache_get(const struct pair_files *pf);
/* Keeps pp (a reference of its own) for pf, in place of what was kept. */
void pair_cache_put(const struct pair_files *pf, struct pair_parsed *pp);
/*
 * x509-info.c: the key type of x's public key: RSA for RSA and RSA-PSS,
 * ECDSA for EC (not SM2), ANY for any other.
 */
enum key_type x509_key_type(X509 *x);

/* A new parsed pair with one reference, or NULL. */
struct pair_parsed *pair_parsed_new(void);
void pair_parsed_unref(struct pair_parsed *pp);

/*
 * x509-issuers.c: the certificate of DER bytes whose SHA-256 is digest, as
 * d2i_X509() decodes it (NULL and OpenSSL's error queue when it cannot),
 * but decoded once per process for the same bytes: a new reference to a
 * shared X509, which no caller may change.  For the certificates after a
 * leaf, which many pairs share.  x509_issuers_clear() lets go of every one
 * kept.
 */
X509 *x509_issuer_d2i(const unsigned char *der, long len, const uint8_t digest[SHA256_LEN]);
void x509_issuers_clear(void);

/*
 * x509-key.c: the first private key of PEM bytes, as PEM_read_bio_PrivateKey()
 * reads it, never asking for a passphrase; NULL when there is none to read.
 */
EVP_PKEY *pem_private_key(const char *data, size_t len);

/* Sets the pair's status and its message. */
__attribute__((format(printf, 3, 4)))
void pair_status(struct disk_pair *p, enum x509_status s, const char *fmt, ...);

/* A path as a message quotes it: escaped and bounded. */
void path_text(const char *path, char out[PATH_TEXT_MAX]);

/*
 * Reads every file given (those with a path), then checks that each holds
 * PEM; a secret one's mode is noted in p->key_warning.  Returns 0, -ENOMEM,
 * or 1 after setting p's status.
 */
int pem_files_read(struct pem_file *files, size_t n, struct disk_pair *p);

/* Frees what f holds, wiping it first. */
void pem_file_done(struct pem_file *f);

/*
 * x509-postfix.c: of files[0..n) read as Postfix reads its chain files
 * (files without data are skipped), the pair of key type kt (any or auto:
 * the first): its certificates into certs (the leaf first; the caller
 * frees them), how many were kept and how many there were, and its key.
 * Returns 0, -ENOMEM, or 1 after setting p's status.
 */
int postfix_pair_select(const struct pem_file *files, size_t n, enum key_type kt,
			X509 **certs, size_t *n_certs, size_t *n_total, EVP_PKEY **ret_pkey,
			struct disk_pair *p);

/*
 * The key types of the pairs of such files, in order, at most max.
 * Returns how many, -ENOMEM, or 0 after setting p's status.
 */
int postfix_key_types(const struct pem_file *files, size_t n, enum key_type *ret, size_t max,
		      struct disk_pair *p);
