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
	char *data;
	size_t len;
};

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
