/*
 * x509.h - certificates on disk and on the wire, as plain facts.
 *
 * A cert_info is what certwatch knows of one certificate: fingerprints,
 * dates, subject, issuer and names.  A disk_pair is what it knows of a
 * configured certificate, chain and key, with the first problem found.
 * Nothing here prints; messages go into the structures.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "key-type.h"
#include "msg.h"
#include "pair-format.h"
#include "util.h"

#define X509_MAX_CHAIN 16     /* certificates kept per chain */

enum x509_status {
	X509_VALID,
	X509_MISSING,          /* a file does not exist */
	X509_UNREADABLE,       /* a file exists but cannot be read, or is no regular file */
	X509_NOT_PEM,          /* a file has no PEM block at all */
	X509_NO_CERT,          /* PEM, but no CERTIFICATE block */
	X509_BAD_KEY,          /* the key file holds no usable private key */
	X509_KEY_MISMATCH,     /* the key does not belong to the leaf */
	X509_CHAIN_ORDER,      /* a certificate is not issued by the next one */
	X509_EXPIRED,
	X509_NOT_YET_VALID,
	X509_NAME_MISMATCH,    /* the leaf does not cover the required name */
	X509_REFUSED,          /* the daemon that loads the files refuses them (its rules) */
	_X509_STATUS_MAX,
};

struct cert_info {
	uint8_t sha256[SHA256_LEN];       /* of the DER certificate */
	uint8_t spki_sha256[SHA256_LEN];  /* of the DER SubjectPublicKeyInfo */
	time_t not_before, not_after;
	enum key_type key_type;           /* of its public key: RSA, ECDSA, or ANY for others */
	char key_alg[16];                 /* "rsa", "ecdsa", "ed25519", ...: for messages */
	char *subject;                    /* one line, RFC 2253, escaped */
	char *issuer;
	char **sans;                      /* every DNS name and IP address, as text */
	size_t n_sans;
};

/*
 * A chain as it came (from a handshake, or from the files on disk): the
 * facts of every certificate after the leaf, and every certificate itself,
 * the leaf first, for what must look deeper (DANE's judge takes them as
 * they are).  At most X509_MAX_CHAIN certificates are kept.
 */
struct cert_chain {
	struct cert_info *issuers;        /* after the leaf, in order; n_issuers of them */
	size_t n_issuers;
	X509 **x509;                      /* the leaf, then the issuers: n_issuers + 1, one
					   * reference each; NULL when there is no leaf */
	/*
	 * Links proven already: for i < n_proven, OpenSSL checked the
	 * signature of x509[i] with the key of x509[i + 1] while verifying
	 * a served chain (cert_chain_proven()); 0 for chains read from files.
	 */
	size_t n_proven;
};

/* The bounds of a pair's messages (msg.h), the NUL included. */
#define X509_DETAIL_MAX      512
#define X509_TRUST_ERROR_MAX 128
#define X509_KEY_WARNING_MAX 512

struct disk_pair {
	enum x509_status status;          /* the first problem found, or X509_VALID */
	char *detail;                     /* the human message for status (msg.h), or NULL */
	bool have_leaf;                   /* leaf and chain are filled in */
	struct cert_info leaf;
	struct cert_chain chain;          /* the leaf and what follows it in the files */
	size_t chain_len;                 /* certificates after the leaf */
	bool chain_in_order;
	bool key_matches;
	/*
	 * disk_pair_trust()'s answer: whether the chain on disk leads to a
	 * root of the system's trust store, and why not.
	 */
	bool trust_checked, trusted;
	char *trust_error;                /* msg.h; NULL when trusted */
	/*
	 * Not a problem that refuses the pair, but one its caller should say
	 * once per key file: the key is readable by group or others.  NULL
	 * when not; else the message (msg.h), naming the file and the fix.
	 */
	char *key_warning;
};

/*
 * Fills *ret from an X509 certificate.  Returns 0 or -ENOMEM; *ret is left
 * untouched on failure.
 */
int cert_info_from_x509(X509 *x, struct cert_info *ret);
void cert_info_done(struct cert_info *ci);
/*
 * Frees what only a report shows (subject, issuer, names), keeping what a
 * decision reads: the digests, the validity, the key's type.
 */
void cert_info_drop_names(struct cert_info *ci);

/*
 * Fills *ret from certs[0..n) (the leaf first), taking a reference to each
 * of the first X509_MAX_CHAIN.  Returns 0 or -ENOMEM; *ret is left
 * untouched on failure.
 */
int cert_chain_from_x509(X509 *const *certs, size_t n, struct cert_chain *ret);
void cert_chain_done(struct cert_chain *c);
/*
 * How many leading links of c (the leaf first) a verification that
 * succeeded checked: verified is the path it built (SSL_get0_verified_chain()),
 * and X509_verify_cert() checks the signature of each certificate of its
 * path with the next one's key (RFC 5280 6.1.3 (a)(1)).  A link counts
 * while both its certificates stand, byte for byte, at the same place of
 * the path.  Call it only for a path that verified (X509_V_OK).
 */
size_t cert_chain_proven(const struct cert_chain *c, STACK_OF(X509) *verified);
/* Lets go of the certificates themselves, keeping their facts: x509 becomes NULL. */
void cert_chain_drop_x509(struct cert_chain *c);

/* Whether two chains hold the same certificates after the leaf, in the same order. */
bool cert_chain_same_issuers(const struct cert_chain *a, const struct cert_chain *b);

/*
 * Verifies the pair's chain against the system trust store (the one the
 * probe uses, SSL_CERT_FILE and SSL_CERT_DIR included) for name (a host
 * name or an address; NULL: none) at now, as a TLS client would: sets
 * trust_checked, trusted and trust_error.  Nothing to do without a leaf.
 * Returns 0 or -ENOMEM.
 */
int disk_pair_trust(struct disk_pair *p, const char *name, time_t now);

/*
 * A new reference to the process's trust store (the system's, as the
 * probe and disk_pair_trust() use it: SSL_CERT_FILE and SSL_CERT_DIR
 * included), built once and again only when the CA bundle file changes.
 * Returns 0 and sets *ret, which the caller frees with X509_STORE_free(),
 * or -ENOMEM.
 */
int x509_trust_store(X509_STORE **ret);

/* Whether two cert_info describe the same certificate / the same key. */
bool cert_info_same(const struct cert_info *a, const struct cert_info *b);
bool cert_info_same_key(const struct cert_info *a, const struct cert_info *b);

/*
 * Whether pattern (a SAN dNSName) matches host, by RFC 6125: case-insensitive,
 * a trailing dot ignored, a wildcard only as the whole left-most label of a
 * pattern with at least two further labels, matching exactly one label.
 */
bool x509_name_matches(const char *pattern, const char *host);

/* Whether the certificate covers name: SAN DNS names or IP addresses, never CN. */
bool cert_info_covers(const struct cert_info *ci, const char *name);

/* A pair's files, and how the daemon that loads them reads them. */
struct pair_files {
	const char *cert, *chain, *key;   /* cert required; chain and key optional */
	enum pair_format format;
	/*
	 * Of files that hold a pair per key type (Postfix's chain files), the
	 * one to judge: RSA or ECDSA; any (or auto): the first.
	 */
	enum key_type key_type;
	/*
	 * Certificates decoded already, which a CERTIFICATE block of the
	 * files may be byte for byte: what a server sent (its leaf's facts
	 * and its chain), NULL when nothing was.  A block with the same bytes
	 * is taken from there instead of being decoded again, since OpenSSL 3
	 * builds a decoder for the public key of every certificate it
	 * decodes.  Not part of what the pair is kept by.
	 */
	const struct cert_info *seen_leaf;
	const struct cert_chain *seen_chain;
};

/*
 * The key type of the first certificate of the pair's certificate file
 * (a TRUSTED CERTIFICATE block counts; of Postfix's chain files, the first
 * pair's): what a probe asks the server for, before the judgement reads
 * the pair.  Taken from the pair kept parsed while its files stand, else
 * read from the algorithm of the certificate's public key without
 * decoding it (RFC 5280, 4.1.2.7) unless its bytes are not plain DER.
 * KEY_TYPE_ANY for a key of another algorithm or bytes that are not a
 * certificate.  Returns 0, -ENOMEM, or
 * -EBADMSG when the file cannot be read (as disk_pair_load() reads it:
 * bounded, never blocking) or holds no PEM certificate block.
 */
int pair_leaf_key_type(const struct pair_files *pf, enum key_type *ret);

/*
 * disk_pair_load() for files read by format's rules: a file the daemon
 * would refuse is X509_REFUSED with the daemon's reason.  For
 * PAIR_FORMAT_POSTFIX_CHAIN_FILES the key file, the certificate file (when
 * it is another) and the chain file are read in that order, as one.
 */
int disk_pair_load_files(const struct pair_files *f, const char *name, time_t now,
			 struct disk_pair *ret);

/*
 * The key types of the pairs the files hold, in order, at most max: one
 * for PAIR_FORMAT_PEM, one per key for Postfix's chain files.  Returns how
 * many, 0 when the files cannot be read or refused, or -ENOMEM.
 */
int pair_files_key_types(const struct pair_files *f, enum key_type *ret, size_t max);

/*
 * Loads and checks a certificate (full chain, or leaf when chain_path is
 * given), an optional separate chain and an optional key (key_path NULL:
 * the key checks are skipped and key_matches stays false).  Checks, in order: files
 * present and readable, PEM, a certificate, the key, key matches leaf,
 * chain order, validity at now, name covered (when name is not NULL).
 * Always fills *ret with what could be learnt; returns 0, or -ENOMEM with
 * *ret empty.  *ret is overwritten: the caller lets go of a pair it held
 * before (disk_pair_done()), and of this one too, its messages included.
 * The verdict is ret->status and ret->detail; ret->key_warning is apart.
 * Never blocks on a file: one that is not a regular file (a FIFO nobody
 * writes to, a directory, a device) is X509_UNREADABLE at once.
 */
int disk_pair_load(const char *cert_path, const char *chain_path,
		   const char *key_path, const char *name, time_t now,
		   struct disk_pair *ret);
void disk_pair_done(struct disk_pair *p);

/*
 * What disk_pair_load*() parsed is kept, and used again while every file
 * of the pair keeps its identity (device, inode, size, mtime, ctime).
 * x509_pair_cache_forget() drops what is kept of the pairs that path
 * (as configured) belongs to: the watcher's word that it changed, which
 * also frees the memory; x509_pair_cache_clear() drops everything.
 */
void x509_pair_cache_forget(const char *path);
void x509_pair_cache_clear(void);
/* Drops what is kept of that one pair: its caller is done with it. */
void x509_pair_cache_drop(const struct pair_files *pf);

const char *x509_status_to_string(enum x509_status s);

/*
 * Whether a daemon loads a pair of that status all the same (an expired
 * or not yet valid certificate, one for another name, a chain out of
 * order: clients reject it, the daemon does not), as opposed to a pair it
 * cannot load at all (missing, unreadable, no key, a key of another
 * certificate).
 */
bool x509_status_loadable(enum x509_status s);
