/*
 * x509.c - disk_pair_load(): the check of a configured certificate, chain
 * and key on disk, in the order x509.h gives, with the first problem found
 * as the pair's status and a message that names the file and what to fix.
 *
 * Files are read whole and bounded; a file that grows while it is read is
 * an ACME client at work and is read on up to the bound.  The private key
 * is read only to check that it belongs to the leaf: its bytes are wiped
 * and never copied into a message.  The facts of the leaf come from
 * x509-info.c, the name check from x509-name.c.  Nothing here prints.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "x509.h"
#include "x509-int.h"

#define PATH_TEXT_MAX 200           /* a path quoted in a detail message */
#define FILE_MAX      (1024 * 1024) /* PEM files are a few KiB */

static const char *const status_names[_X509_STATUS_MAX] = {
	[X509_VALID]         = "valid",
	[X509_MISSING]       = "missing",
	[X509_UNREADABLE]    = "unreadable",
	[X509_NOT_PEM]       = "not-pem",
	[X509_NO_CERT]       = "no-certificate",
	[X509_BAD_KEY]       = "bad-key",
	[X509_KEY_MISMATCH]  = "key-mismatch",
	[X509_CHAIN_ORDER]   = "chain-order",
	[X509_EXPIRED]       = "expired",
	[X509_NOT_YET_VALID] = "not-yet-valid",
	[X509_NAME_MISMATCH] = "name-mismatch",
};

const char *x509_status_to_string(enum x509_status s)
{
	return (unsigned)s < _X509_STATUS_MAX ? status_names[s] : "?";
}

bool x509_status_loadable(enum x509_status s)
{
	return s == X509_VALID || s == X509_CHAIN_ORDER || s == X509_EXPIRED ||
	       s == X509_NOT_YET_VALID || s == X509_NAME_MISMATCH;
}

struct pem_file {
	const char *role;    /* "certificate", "chain", "key" */
	const char *path;
	bool secret;         /* a private key: its mode matters */
	mode_t mode;         /* once opened */
	char *data;
	size_t len;
};

__attribute__((format(printf, 3, 4)))
static void pair_status(struct disk_pair *p, enum x509_status s, const char *fmt, ...)
{
	va_list ap;

	p->status = s;
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
}

static void path_text(const char *path, char out[PATH_TEXT_MAX])
{
	escape_bytes(path, strlen(path), out, PATH_TEXT_MAX);
}

static void pem_file_done(struct pem_file *f)
{
	if (f->data) {
		/* The key file's bytes are the key: leave no copy in freed memory. */
		OPENSSL_cleanse(f->data, f->len);
		free(f->data);
	}
	f->data = NULL;
	f->len = 0;
}

/*
 * Opens f and learns its size.  open_regular() never blocks: a FIFO nobody
 * writes to, put where a certificate or key should be, would otherwise
 * hang `check` and the daemon's loop in open() for good.  Returns 0, sets
 * *ret_fd and *ret_size and notes f's mode, or 1 after setting the status.
 */
static int pem_file_open(struct pem_file *f, struct disk_pair *p, int *ret_fd,
			 size_t *ret_size)
{
	char path[PATH_TEXT_MAX];
	struct stat st;
	int fd;

	path_text(f->path, path);
	fd = open_regular(f->path, 0);
	if (fd == -ENOENT) {
		pair_status(p, X509_MISSING, "%s file %s does not exist", f->role, path);
		return 1;
	}
	if (fd == -EISDIR || fd == -ENXIO) {
		/* Only for the message: the file was refused, whatever it is by now. */
		if (stat(f->path, &st) == 0 && !S_ISREG(st.st_mode))
			pair_status(p, X509_UNREADABLE, "%s file %s is %s, not a regular file",
				    f->role, path, file_type_name(st.st_mode));
		else
			pair_status(p, X509_UNREADABLE, "%s file %s is not a regular file",
				    f->role, path);
		return 1;
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		pair_status(p, X509_UNREADABLE, "cannot read %s file %s: %s",
			    f->role, path, strerror(fd < 0 ? -fd : errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	f->mode = st.st_mode;
	*ret_fd = fd;
	*ret_size = (size_t)st.st_size;
	return 0;
}

/*
 * Doubles *buf, up to FILE_MAX + 1 bytes.  It copies by hand so that no
 * stale copy of a key is left behind, as realloc() could.  0 or -ENOMEM.
 */
static int buf_grow(char **buf, size_t *cap, size_t len)
{
	size_t ncap = *cap * 2 > FILE_MAX + 1 ? FILE_MAX + 1 : *cap * 2;
	char *nbuf = malloc(ncap);

	if (!nbuf)
		return -ENOMEM;
	memcpy(nbuf, *buf, len);
	OPENSSL_cleanse(*buf, len);
	free(*buf);
	*buf = nbuf;
	*cap = ncap;
	return 0;
}

/* Reads a whole file, bounded.  Returns 0, -ENOMEM, or 1 after setting the status. */
static int pem_file_read(struct pem_file *f, struct disk_pair *p)
{
	_cleanup_close_ int fd = -1;
	char path[PATH_TEXT_MAX];
	size_t size, cap, len = 0;
	char *buf = NULL;
	int r;

	r = pem_file_open(f, p, &fd, &size);
	if (r != 0)
		return r;
	path_text(f->path, path);
	r = 1;
	if (size > FILE_MAX)
		goto too_large;
	cap = size + 1;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		/* The file grew since it was opened: an ACME client is writing it. */
		if (len == cap && len > FILE_MAX)
			goto too_large;
		if (len == cap && buf_grow(&buf, &cap, len) < 0) {
			r = -ENOMEM;
			goto out;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pair_status(p, X509_UNREADABLE, "cannot read %s file %s: %s",
				    f->role, path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	f->data = buf;
	f->len = len;
	buf = NULL;
	r = 0;
	goto out;
too_large:
	pair_status(p, X509_UNREADABLE, "%s file %s is larger than %d KiB",
		    f->role, path, FILE_MAX / 1024);
out:
	if (buf) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	return r;
}

static bool has_pem_block(const struct pem_file *f)
{
	static const char begin[] = "-----BEGIN ";

	return memmem(f->data, f->len, begin, sizeof(begin) - 1) != NULL;
}

/* Whether PEM_read_bio_*() stopped for want of another block, not on damage. */
static bool pem_ended_cleanly(void)
{
	unsigned long e = ERR_peek_last_error();

	return e == 0 || (ERR_GET_LIB(e) == ERR_LIB_PEM &&
			  ERR_GET_REASON(e) == PEM_R_NO_START_LINE);
}

/*
 * Appends every certificate of f to certs.  Returns 0, -ENOMEM, or 1 after
 * setting the status (no certificate, or a damaged block: a file caught
 * half-written is not a certificate).
 */
static int certs_read(const struct pem_file *f, X509 **certs, size_t *n,
		      size_t *n_total, struct disk_pair *p)
{
	char path[PATH_TEXT_MAX];
	size_t found = 0;
	BIO *bio;
	int r = 1;

	path_text(f->path, path);
	bio = BIO_new_mem_buf(f->data, (int)f->len);
	if (!bio)
		return -ENOMEM;
	ERR_clear_error();
	for (;;) {
		X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);

		if (!x)
			break;
		found++;
		(*n_total)++;
		if (*n < X509_MAX_CHAIN)
			certs[(*n)++] = x;
		else
			X509_free(x);
	}
	if (!pem_ended_cleanly()) {
		pair_status(p, X509_NO_CERT, "%s file %s: certificate %zu is damaged or incomplete",
			f->role, path, found + 1);
		goto out;
	}
	if (found == 0) {
		pair_status(p, X509_NO_CERT, "%s file %s holds no CERTIFICATE block",
			f->role, path);
		goto out;
	}
	r = 0;
out:
	ERR_clear_error();
	BIO_free(bio);
	return r;
}

/* Never ask a terminal for a passphrase: an encrypted key is unusable here. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag; (void)u;
	return -1;
}

static int key_read(const struct pem_file *f, EVP_PKEY **ret, struct disk_pair *p)
{
	char path[PATH_TEXT_MAX];
	EVP_PKEY *pkey;
	BIO *bio;

	bio = BIO_new_mem_buf(f->data, (int)f->len);
	if (!bio)
		return -ENOMEM;
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (!pkey) {
		path_text(f->path, path);
		pair_status(p, X509_BAD_KEY,
			"key file %s holds no usable private key (unencrypted PEM)", path);
		return 1;
	}
	*ret = pkey;
	return 0;
}

static void subject_text(X509 *x, char *out, size_t outlen)
{
	char *s = NULL;

	/* Already escaped; cutting it short only shortens the message. */
	if (x509_name_text(X509_get_subject_name(x), &s) < 0)
		snprintf(out, outlen, "?");
	else
		snprintf(out, outlen, "%s", s);
	free(s);
}

static bool chain_check(X509 **certs, size_t n, size_t n_total, struct disk_pair *p)
{
	char a[160], b[160];

	if (n_total > n) {
		pair_status(p, X509_CHAIN_ORDER, "the chain holds %zu certificates, more than %d",
			n_total, X509_MAX_CHAIN);
		return false;
	}
	for (size_t i = 0; i + 1 < n; i++) {
		EVP_PKEY *issuer_key = X509_get0_pubkey(certs[i + 1]);

		/* A matching name is only a claim; the signature proves issuance. */
		if (X509_NAME_cmp(X509_get_issuer_name(certs[i]),
				  X509_get_subject_name(certs[i + 1])) == 0 &&
		    issuer_key && X509_verify(certs[i], issuer_key) == 1)
			continue;
		ERR_clear_error();
		subject_text(certs[i], a, sizeof(a));
		subject_text(certs[i + 1], b, sizeof(b));
		pair_status(p, X509_CHAIN_ORDER,
			"certificate %zu (subject %s) is not issued by certificate %zu (subject %s)",
			i + 1, a, i + 2, b);
		return false;
	}
	return true;
}

static void format_utc(time_t t, char out[32])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, 32, "@%lld", (long long)t);
}

/* "a, b, c" bounded to the room left in the detail, with "..." when cut. */
static void sans_list(const struct cert_info *ci, char *out, size_t outlen)
{
	size_t o = 0;

	out[0] = '\0';
	if (ci->n_sans == 0) {
		snprintf(out, outlen, "(no subject alternative names)");
		return;
	}
	for (size_t i = 0; i < ci->n_sans; i++) {
		size_t need = strlen(ci->sans[i]) + (i > 0 ? 2 : 0);

		if (o + need + 6 > outlen) {
			snprintf(out + o, outlen - o, "%s...", i > 0 ? ", " : "");
			return;
		}
		o += (size_t)snprintf(out + o, outlen - o, "%s%s", i > 0 ? ", " : "", ci->sans[i]);
	}
}

/* The checks once everything is parsed, in the order x509.h gives. */
static void checks_after_load(X509 **certs, size_t n, size_t n_total, EVP_PKEY *pkey,
			      const char *key_path, const char *name, time_t now,
			      struct disk_pair *ret)
{
	const struct cert_info *leaf = &ret->leaf;
	char when[32], text[PATH_TEXT_MAX], list[256];

	if (pkey && X509_check_private_key(certs[0], pkey) != 1) {
		ERR_clear_error();
		path_text(key_path, text);
		pair_status(ret, X509_KEY_MISMATCH,
			"key file %s does not belong to the certificate (subject %.200s)",
			text, leaf->subject);
		return;
	}
	ret->key_matches = pkey != NULL;
	ret->chain_in_order = chain_check(certs, n, n_total, ret);
	if (!ret->chain_in_order)
		return;
	/*
	 * Only the leaf's dates: an expired cross-signed root at the end of a
	 * chain is common and harmless, clients stop at their own trust anchor.
	 */
	if (now > leaf->not_after) {
		format_utc(leaf->not_after, when);
		pair_status(ret, X509_EXPIRED, "the certificate expired on %s", when);
		return;
	}
	if (now < leaf->not_before) {
		format_utc(leaf->not_before, when);
		pair_status(ret, X509_NOT_YET_VALID, "the certificate is not valid before %s", when);
		return;
	}
	if (name && !cert_info_covers(leaf, name)) {
		escape_bytes(name, strlen(name), text, sizeof(text));
		sans_list(leaf, list, sizeof(list));
		pair_status(ret, X509_NAME_MISMATCH, "the certificate does not cover %s; it covers %s",
			text, list);
		return;
	}
	format_utc(leaf->not_after, when);
	pair_status(ret, X509_VALID, "valid until %s", when);
}

/*
 * A key that group or others may read is no reason to refuse the pair (the
 * service loads it all the same), but worth a word: the pair keeps the
 * message and its caller says it once per file.
 */
static void key_mode_check(const struct pem_file *f, struct disk_pair *p)
{
	char path[PATH_TEXT_MAX];
	mode_t m = f->mode;

	if (!(m & (S_IRGRP | S_IROTH)))
		return;
	path_text(f->path, path);
	snprintf(p->key_warning, sizeof(p->key_warning),
		 "key file %s is readable by %s (mode %04o): chmod 600 it%s", path,
		 m & S_IROTH ? (m & S_IRGRP ? "group and others" : "others") : "its group",
		 (unsigned)(m & 07777), m & S_IROTH ? "" : ", unless that group must read it");
}

/*
 * Reads every file given, then checks that each holds PEM.  Returns 0,
 * -ENOMEM, or 1 after setting the status.
 */
static int pem_files_read(struct pem_file *files, size_t n, struct disk_pair *p)
{
	char path[PATH_TEXT_MAX];
	int r;

	for (size_t i = 0; i < n; i++) {
		if (!files[i].path)
			continue;
		r = pem_file_read(&files[i], p);
		if (r != 0)
			return r;
		if (files[i].secret)
			key_mode_check(&files[i], p);
	}
	for (size_t i = 0; i < n; i++) {
		if (!files[i].path || has_pem_block(&files[i]))
			continue;
		path_text(files[i].path, path);
		pair_status(p, X509_NOT_PEM, "%s file %s is not PEM (no -----BEGIN line)",
			    files[i].role, path);
		return 1;
	}
	return 0;
}

int disk_pair_load(const char *cert_path, const char *chain_path,
		   const char *key_path, const char *name, time_t now,
		   struct disk_pair *ret)
{
	struct pem_file files[3] = {
		{ .role = "certificate", .path = cert_path },
		{ .role = "chain",       .path = chain_path },
		{ .role = "key",         .path = key_path, .secret = true },
	};
	X509 *certs[X509_MAX_CHAIN] = {};
	size_t n = 0, n_total = 0;
	EVP_PKEY *pkey = NULL;
	int r = 0;

	assert(cert_path);
	memset(ret, 0, sizeof(*ret));
	ret->status = X509_VALID;

	r = pem_files_read(files, ELEMENTSOF(files), ret);
	if (r != 0)
		goto out;

	r = certs_read(&files[0], certs, &n, &n_total, ret);
	if (r != 0)
		goto out;
	r = cert_info_from_x509(certs[0], &ret->leaf);
	if (r < 0)
		goto out;
	ret->have_leaf = true;
	if (chain_path) {
		r = certs_read(&files[1], certs, &n, &n_total, ret);
		if (r != 0)
			goto out;
	}
	ret->chain_len = n_total - 1;
	r = cert_chain_from_x509(certs, n, &ret->chain);
	if (r < 0)
		goto out;

	if (key_path) {
		r = key_read(&files[2], &pkey, ret);
		if (r != 0)
			goto out;
		/* The key is parsed: its file's bytes are no longer needed anywhere. */
		pem_file_done(&files[2]);
	}

	checks_after_load(certs, n, n_total, pkey, key_path, name, now, ret);
out:
	EVP_PKEY_free(pkey);
	for (size_t i = 0; i < n; i++)
		X509_free(certs[i]);
	for (size_t i = 0; i < ELEMENTSOF(files); i++)
		pem_file_done(&files[i]);
	/* Leave no stale OpenSSL error for a later SSL_get_error() to misread. */
	ERR_clear_error();
	return r < 0 ? r : 0;
}

void disk_pair_done(struct disk_pair *p)
{
	if (!p)
		return;
	cert_info_done(&p->leaf);
	cert_chain_done(&p->chain);
	memset(p, 0, sizeof(*p));
}
