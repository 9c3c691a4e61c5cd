/*
 * x509.c - disk_pair_load(): the check of a configured certificate, chain
 * and key on disk, in the order x509.h gives, with the first problem found
 * as the pair's status and a message that names the file and what to fix.
 *
 * The files are read by x509-file.c (whole, bounded, never blocking).  The
 * private key is read only to check that it belongs to the leaf: its
 * bytes are wiped and never copied into a message.  The facts of the leaf
 * come from x509-info.c, the name check from x509-name.c.  What the files
 * say (pair_parse()) is kept by x509-cache.c while they keep their
 * identity; what the clock and the name say (pair_judge()) is asked at
 * every load.  Nothing here prints.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "x509.h"
#include "x509-int.h"


/* Whether PEM_read_bio_*() stopped for want of another block, not on damage. */
static bool pem_ended_cleanly(void)
{
	unsigned long e = ERR_peek_last_error();

	return e == 0 || (ERR_GET_LIB(e) == ERR_LIB_PEM &&
			  ERR_GET_REASON(e) == PEM_R_NO_START_LINE);
}

/* Of the certificates pf says were seen already, the one whose DER bytes have digest. */
static X509 *seen_find(const struct pair_files *pf, const uint8_t digest[SHA256_LEN])
{
	const struct cert_chain *c = pf->seen_chain;

	if (!c || !c->x509)
		return NULL;
	if (pf->seen_leaf && memcmp(pf->seen_leaf->sha256, digest, SHA256_LEN) == 0)
		return c->x509[0];
	for (size_t i = 0; i < c->n_issuers; i++)
		if (memcmp(c->issuers[i].sha256, digest, SHA256_LEN) == 0)
			return c->x509[i + 1];
	return NULL;
}

/*
 * The next certificate block of bio as OpenSSL's loaders (nginx's,
 * Dovecot's, Postfix's) read it, the same blocks skipped and the same
 * errors left in OpenSSL's queue: for the leaf as PEM_read_bio_X509_AUX()
 * (a TRUSTED CERTIFICATE block counts there), after it as
 * PEM_read_bio_X509(), where only CERTIFICATE blocks do.  A certificate
 * seen already (pf) is taken, another after the leaf is decoded once per
 * process (x509-issuers.c).
 */
static X509 *block_read(BIO *bio, bool leaf, const struct pair_files *pf)
{
	uint8_t digest[SHA256_LEN];
	unsigned char *der = NULL;
	const unsigned char *q;
	long len = 0;
	X509 *x;

	if (PEM_bytes_read_bio(&der, &len, NULL, leaf ? PEM_STRING_X509_TRUSTED : PEM_STRING_X509,
			       bio, NULL, NULL) != 1)
		return NULL;
	if (!SHA256(der, (size_t)len, digest)) {
		OPENSSL_free(der);
		return NULL;
	}
	x = seen_find(pf, digest);
	q = der;
	if (x && X509_up_ref(x) != 1)
		x = NULL;
	else if (!x && leaf)
		x = d2i_X509_AUX(NULL, &q, len);
	else if (!x)
		x = x509_issuer_d2i(der, len, digest);
	OPENSSL_free(der);
	return x;
}

/*
 * Appends every certificate of f to certs.  Returns 0, -ENOMEM, or 1 after
 * setting the status (no certificate, or a damaged block: a file caught
 * half-written is not a certificate).
 */
static int certs_read(const struct pem_file *f, const struct pair_files *pf, X509 **certs,
		      size_t *n, size_t *n_total, struct disk_pair *p)
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
		X509 *x = block_read(bio, *n_total == 0, pf);

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

static bool key_is_encrypted(const struct pem_file *f)
{
	static const char pkcs8[] = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
	static const char legacy[] = "Proc-Type: 4,ENCRYPTED";

	return memmem(f->data, f->len, pkcs8, sizeof(pkcs8) - 1) ||
	       memmem(f->data, f->len, legacy, sizeof(legacy) - 1);
}

/*
 * An encrypted key is a form nginx (ssl_password_file) and Dovecot
 * (ssl_key_password) read with a passphrase certwatch does not have: not
 * a reason to refuse the pair, but the check of the key is not made, and
 * that is said beside the verdict, once per key file.
 */
static void key_cannot_check(struct disk_pair *p, const char *path)
{
	msg_append(&p->key_warning, X509_KEY_WARNING_MAX, "%skey file %s is encrypted: "
		   "certwatch cannot check that it belongs to the certificate",
		   p->key_warning ? "; " : "", path);
}

/* *ret stays NULL for a key that cannot be checked (key_cannot_check()). */
static int key_read(const struct pem_file *f, EVP_PKEY **ret, struct disk_pair *p)
{
	char path[PATH_TEXT_MAX];
	EVP_PKEY *pkey = pem_private_key(f->data, f->len);

	path_text(f->path, path);
	if (!pkey && key_is_encrypted(f)) {
		key_cannot_check(p, path);
		return 0;
	}
	if (!pkey) {
		pair_status(p, X509_BAD_KEY, "key file %s holds no private key that can be read "
			    "(PEM: PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY)", path);
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

/* Whether seen proves that issuer's key signed cert (struct cert_chain's n_proven). */
static bool link_proven(const struct cert_chain *seen, const X509 *cert, const X509 *issuer)
{
	for (size_t i = 0; seen && seen->x509 && i < seen->n_proven; i++)
		if (seen->x509[i] == cert && seen->x509[i + 1] == issuer)
			return true;
	return false;
}

/*
 * Whether each certificate is issued by the next: the name, and the
 * signature, unless the same two certificates (taken from what a server
 * sent, block_read()) were proven in its handshake.
 */
static bool chain_check(X509 **certs, size_t n, size_t n_total, const struct cert_chain *seen,
			struct disk_pair *p)
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
		    (link_proven(seen, certs[i], certs[i + 1]) ||
		     (issuer_key && X509_verify(certs[i], issuer_key) == 1)))
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

/*
 * A certificate that names the host in its subject CN alone is a form
 * clients stopped reading (RFC 6125): that is said, rather than a bare
 * "does not cover".
 */
static void name_mismatch(X509 *leaf, const char *name, struct disk_pair *p)
{
	char text[PATH_TEXT_MAX], list[256], cn[256];
	int n = X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn,
					  sizeof(cn));

	escape_bytes(name, strlen(name), text, sizeof(text));
	if (p->leaf.n_sans == 0 && n > 0 && x509_name_matches(cn, name)) {
		pair_status(p, X509_NAME_MISMATCH, "the certificate names %s in its subject CN only, "
			    "which clients do not read (RFC 6125): it needs a subjectAltName DNS:%s",
			    text, text);
		return;
	}
	sans_list(&p->leaf, list, sizeof(list));
	pair_status(p, X509_NAME_MISMATCH, "the certificate does not cover %s; it covers %s",
		    text, list);
}

/*
 * The checks of the files themselves, once parsed, in the order x509.h
 * gives: the key belongs to the leaf, the chain is in order.
 */
static void checks_of_files(X509 **certs, size_t n, size_t n_total, EVP_PKEY *pkey,
			    const struct pair_files *pf, struct disk_pair *p, struct pair_parsed *pp)
{
	char text[PATH_TEXT_MAX], subject[PATH_TEXT_MAX + 1];

	if (pkey && X509_check_private_key(certs[0], pkey) != 1) {
		ERR_clear_error();
		path_text(pf->key, text);
		subject_text(certs[0], subject, sizeof(subject));
		pair_status(p, X509_KEY_MISMATCH,
			"key file %s does not belong to the certificate (subject %s)",
			text, subject);
		return;
	}
	pp->key_matches = pkey != NULL;
	pp->chain_in_order = chain_check(certs, n, n_total, pf->seen_chain, p);
}

/* The checks that ask the clock and the name, of a pair whose files are sound. */
static void checks_of_leaf(X509 *leaf_x509, const char *name, time_t now, struct disk_pair *ret)
{
	const struct cert_info *leaf = &ret->leaf;
	char when[32];

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
		name_mismatch(leaf_x509, name, ret);
		return;
	}
	format_utc(leaf->not_after, when);
	pair_status(ret, X509_VALID, "valid until %s", when);
}

/*
 * The files in the order the format reads them: Postfix's chain files
 * start with the key, and a certificate file that is the key file is read
 * once.
 */
static void files_of(const struct pair_files *pf, struct pem_file files[3])
{
	bool postfix = pf->format == PAIR_FORMAT_POSTFIX_CHAIN_FILES;
	const char *cert = postfix && pf->key && strcmp(pf->key, pf->cert) == 0 ? NULL : pf->cert;

	files[postfix ? 1 : 0] = (struct pem_file) { .role = "certificate", .path = cert };
	files[2] = (struct pem_file) { .role = "chain", .path = pf->chain };
	files[postfix ? 0 : 1] = (struct pem_file) { .role = "key", .path = pf->key,
						     .secret = true };
}

/* The certificates of a certificate file and a chain file, as OpenSSL reads them. */
static int pem_certs_read(const struct pem_file *cert, const struct pem_file *chain,
			  const struct pair_files *pf, X509 **certs, size_t *n, size_t *n_total,
			  struct disk_pair *p)
{
	int r = certs_read(cert, pf, certs, n, n_total, p);

	if (r == 0 && chain->path)
		r = certs_read(chain, pf, certs, n, n_total, p);
	return r;
}

/*
 * The identities of the files read, by role; complete when every file
 * given was read, and none changed within the last RECENT_SEC: a file's
 * times have the kernel's coarse clock, so a file rewritten in place to
 * the same size within the same tick as it was read would keep its
 * identity.  A file that is that young is read again next time instead.
 */
#define RECENT_SEC 2

static void note_ids(const struct pem_file *files, size_t n, const struct pair_files *pf,
		     struct pair_parsed *pp)
{
	const char *const paths[3] = { pf->cert, pf->chain, pf->key };
	time_t now = time(NULL);

	pp->complete = true;
	for (size_t r = 0; r < 3; r++) {
		bool found = !paths[r];

		/* A Postfix certificate file that is the key file is read once, as the key. */
		for (size_t i = 0; i < n && !found; i++)
			if (files[i].have_id && files[i].path && strcmp(files[i].path, paths[r]) == 0) {
				pp->ids[r] = files[i].id;
				found = files[i].id.ctime.tv_sec < now - RECENT_SEC;
			}
		pp->complete = pp->complete && found;
	}
}

/* Hands what p says of the files over to pp. */
static void keep_messages(struct disk_pair *p, struct pair_parsed *pp)
{
	pp->status = p->status;
	pp->detail = p->detail;
	pp->key_warning = p->key_warning;
	p->detail = p->key_warning = NULL;
}

/* Reads, parses and checks the files of pf into pp.  Returns 0 or -ENOMEM. */
static int pair_parse(const struct pair_files *pf, struct pair_parsed *pp)
{
	bool postfix = pf->format == PAIR_FORMAT_POSTFIX_CHAIN_FILES;
	struct disk_pair p = { .status = X509_VALID };
	struct pem_file files[3];
	EVP_PKEY *pkey = NULL;
	int r;

	files_of(pf, files);
	r = pem_files_read(files, ELEMENTSOF(files), &p);
	note_ids(files, ELEMENTSOF(files), pf, pp);
	if (r != 0)
		goto out;
	if (postfix)
		r = postfix_pair_select(files, ELEMENTSOF(files), pf->key_type, pp->certs, &pp->n,
					&pp->n_total, &pkey, &p);
	else
		r = pem_certs_read(&files[0], &files[2], pf, pp->certs, &pp->n, &pp->n_total, &p);
	if (r != 0) {
		/* No leaf to speak of: what was read of a broken sequence is not the pair. */
		for (size_t i = 0; i < pp->n; i++)
			X509_free(pp->certs[i]);
		pp->n = 0;
		goto out;
	}
	if (!postfix && pf->key) {
		r = key_read(&files[1], &pkey, &p);
		if (r != 0)
			goto out;
		/* The key is parsed: its file's bytes are no longer needed anywhere. */
		pem_file_done(&files[1]);
	}
	checks_of_files(pp->certs, pp->n, pp->n_total, pkey, pf, &p, pp);
out:
	EVP_PKEY_free(pkey);
	for (size_t i = 0; i < ELEMENTSOF(files); i++)
		pem_file_done(&files[i]);
	/* Leave no stale OpenSSL error for a later SSL_get_error() to misread. */
	ERR_clear_error();
	if (r >= 0)
		keep_messages(&p, pp);
	disk_pair_done(&p);
	return r < 0 ? r : 0;
}

/* The pair as the files say it (pp), judged at now for name. */
static int pair_judge(const struct pair_parsed *pp, const char *name, time_t now,
		      struct disk_pair *ret)
{
	int r;

	ret->status = pp->status;
	if (msg_set(&ret->detail, X509_DETAIL_MAX, "%s", msg_text(pp->detail)) < 0 ||
	    msg_set(&ret->key_warning, X509_KEY_WARNING_MAX, "%s", msg_text(pp->key_warning)) < 0)
		return -ENOMEM;
	if (pp->n == 0)
		return 0;
	r = cert_info_from_x509(pp->certs[0], &ret->leaf);
	if (r < 0)
		return r;
	ret->have_leaf = true;
	ret->chain_len = pp->n_total - 1;
	r = cert_chain_from_x509(pp->certs, pp->n, &ret->chain);
	if (r < 0)
		return r;
	ret->key_matches = pp->key_matches;
	ret->chain_in_order = pp->chain_in_order;
	if (pp->status == X509_VALID)
		checks_of_leaf(pp->certs[0], name, now, ret);
	return 0;
}

int disk_pair_load_files(const struct pair_files *pf, const char *name, time_t now,
			 struct disk_pair *ret)
{
	struct pair_parsed *pp;
	int r;

	assert(pf->cert);
	memset(ret, 0, sizeof(*ret));
	ret->status = X509_VALID;
	pp = pair_cache_get(pf);
	if (!pp) {
		pp = pair_parsed_new();
		if (!pp)
			return -ENOMEM;
		r = pair_parse(pf, pp);
		if (r < 0) {
			pair_parsed_unref(pp);
			return r;
		}
		pair_cache_put(pf, pp);
	}
	r = pair_judge(pp, name, now, ret);
	pair_parsed_unref(pp);
	if (r < 0)
		disk_pair_done(ret);
	return r;
}

int disk_pair_load(const char *cert_path, const char *chain_path,
		   const char *key_path, const char *name, time_t now,
		   struct disk_pair *ret)
{
	const struct pair_files pf = { .cert = cert_path, .chain = chain_path, .key = key_path };

	return disk_pair_load_files(&pf, name, now, ret);
}

int pair_files_key_types(const struct pair_files *pf, enum key_type *ret, size_t max)
{
	struct disk_pair p;
	struct pem_file files[3];
	int r;

	if (pf->format != PAIR_FORMAT_POSTFIX_CHAIN_FILES) {
		r = disk_pair_load_files(pf, NULL, time(NULL), &p);
		if (r == 0 && p.have_leaf && max > 0) {
			ret[0] = p.leaf.key_type;
			r = 1;
		}
		disk_pair_done(&p);
		return r;
	}
	memset(&p, 0, sizeof(p));
	files_of(pf, files);
	r = pem_files_read(files, ELEMENTSOF(files), &p);
	if (r == 0)
		r = postfix_key_types(files, ELEMENTSOF(files), ret, max, &p);
	else if (r > 0)
		r = 0;
	for (size_t i = 0; i < ELEMENTSOF(files); i++)
		pem_file_done(&files[i]);
	disk_pair_done(&p);
	return r;
}

void disk_pair_done(struct disk_pair *p)
{
	if (!p)
		return;
	cert_info_done(&p->leaf);
	cert_chain_done(&p->chain);
	free(p->detail);
	free(p->trust_error);
	free(p->key_warning);
	memset(p, 0, sizeof(*p));
}
