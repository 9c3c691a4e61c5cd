/*
 * x509-postfix.c - a pair's files as Postfix reads smtpd_tls_chain_files.
 *
 * The files, concatenated in order, are one sequence of PEM objects: a
 * private key, its certificate, the rest of its chain, then the next key
 * with its certificate and chain, and so on, one pair per key type.
 * Postfix refuses the whole list, and offers no TLS at all, when the
 * sequence breaks its rules: a certificate before any key ("key not
 * first"), two keys in a row, a key without a certificate, an object of
 * any other type (an encrypted key among them: Postfix has no passphrase
 * to give), trailing bytes in an object, a key that does not belong to
 * the certificate after it.  Those are said in Postfix's own terms, as
 * X509_REFUSED.  Of the pairs, the one of the key type asked for is
 * handed back to be judged like any other.  Bytes already read are
 * parsed; nothing here prints.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "x509.h"
#include "x509-int.h"

#define MAX_PAIRS 8        /* Postfix takes one per key type */

struct pf_pair {
	EVP_PKEY *key;
	unsigned key_object;              /* its number in its file, from 1 */
	const char *key_file;
	X509 *certs[X509_MAX_CHAIN];      /* the leaf first */
	size_t n, total;
};

struct pf_seq {
	struct pf_pair pairs[MAX_PAIRS];
	size_t n;
	size_t too_many;                  /* keys past MAX_PAIRS */
	struct disk_pair *p;              /* for the status */
	const char *file;                 /* the file being read */
	unsigned object;                  /* the object being read, from 1 */
};

static void seq_done(struct pf_seq *s)
{
	for (size_t i = 0; i < s->n; i++) {
		EVP_PKEY_free(s->pairs[i].key);
		for (size_t j = 0; j < s->pairs[i].n; j++)
			X509_free(s->pairs[i].certs[j]);
	}
	s->n = 0;
}

__attribute__((format(printf, 2, 3)))
static int refuse(struct pf_seq *s, const char *fmt, ...)
{
	char path[PATH_TEXT_MAX], why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	path_text(s->file, path);
	pair_status(s->p, X509_REFUSED, "Postfix refuses %s as smtpd_tls_chain_files (and offers "
		    "no TLS): %s (PEM object %u)", path, why, s->object);
	return 1;
}

static bool is_cert_type(const char *name)
{
	return strcmp(name, PEM_STRING_X509) == 0 || strcmp(name, PEM_STRING_X509_OLD) == 0;
}

/* The key types Postfix decodes, as OpenSSL names their PEM blocks; NID_undef: PKCS#8. */
static int key_pem_type(const char *name)
{
	if (strcmp(name, PEM_STRING_PKCS8INF) == 0)
		return NID_undef;
	if (strcmp(name, PEM_STRING_RSA) == 0)
		return EVP_PKEY_RSA;
	if (strcmp(name, PEM_STRING_ECPRIVATEKEY) == 0)
		return EVP_PKEY_EC;
	if (strcmp(name, PEM_STRING_DSA) == 0)
		return EVP_PKEY_DSA;
	return -1;
}

static int add_cert(struct pf_seq *s, const unsigned char *data, long len)
{
	const unsigned char *p = data;
	struct pf_pair *pair = s->n > 0 ? &s->pairs[s->n - 1] : NULL;
	X509 *x;

	if (!pair)
		return refuse(s, "key not first: each private key must come before its certificate");
	x = d2i_X509(NULL, &p, len);
	if (!x)
		return refuse(s, "the certificate cannot be decoded");
	if (p - data != len) {
		X509_free(x);
		return refuse(s, "excess data after the certificate");
	}
	pair->total++;
	if (pair->n < X509_MAX_CHAIN)
		pair->certs[pair->n++] = x;
	else
		X509_free(x);
	return 0;
}

static int add_key(struct pf_seq *s, int type, const char *header, const unsigned char *data,
		   long len)
{
	const unsigned char *p = data;
	PKCS8_PRIV_KEY_INFO *p8;
	EVP_PKEY *k = NULL;

	if (s->n > 0 && s->pairs[s->n - 1].n == 0)
		return refuse(s, "the key at PEM object %u is not followed by a certificate",
			      s->pairs[s->n - 1].key_object);
	if (strstr(header, "ENCRYPTED"))
		return refuse(s, "the private key is encrypted; Postfix needs it in the clear");
	if (type != NID_undef)
		k = d2i_PrivateKey(type, NULL, &p, len);
	else if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, len))) {
		k = EVP_PKCS82PKEY(p8);
		PKCS8_PRIV_KEY_INFO_free(p8);
	}
	if (!k)
		return refuse(s, "the private key cannot be decoded");
	if (p - data != len) {
		EVP_PKEY_free(k);
		return refuse(s, "excess data after the private key");
	}
	if (s->n == MAX_PAIRS) {
		EVP_PKEY_free(k);
		s->too_many++;
		return 0;
	}
	s->pairs[s->n++] = (struct pf_pair) { .key = k, .key_object = s->object,
					      .key_file = s->file };
	return 0;
}

/* One PEM object of the sequence.  Returns 0, or 1 after setting the status. */
static int object(struct pf_seq *s, const char *name, const char *header,
		  const unsigned char *data, long len)
{
	int type;

	if (is_cert_type(name)) {
		/* Past MAX_PAIRS keys, their certificates are not kept either. */
		return s->too_many ? 0 : add_cert(s, data, len);
	}
	type = key_pem_type(name);
	if (type != -1)
		return add_key(s, type, header, data, len);
	if (strcmp(name, PEM_STRING_PKCS8) == 0)
		return refuse(s, "the private key is encrypted (%s); Postfix needs it in the clear",
			      name);
	return refuse(s, "unexpected PEM type %.60s", name);
}

/* Every object of one file.  Returns 0, -ENOMEM, or 1 after setting the status. */
static int read_file(struct pf_seq *s, const struct pem_file *f)
{
	BIO *bio = BIO_new_mem_buf(f->data, (int)f->len);
	int r = 0;

	if (!bio)
		return -ENOMEM;
	s->file = f->path;
	for (s->object = 1; r == 0; s->object++) {
		char *name = NULL, *header = NULL;
		unsigned char *data = NULL;
		long len = 0;
		unsigned long e;

		ERR_clear_error();
		if (!PEM_read_bio(bio, &name, &header, &data, &len)) {
			e = ERR_peek_last_error();
			if (ERR_GET_LIB(e) != ERR_LIB_PEM || ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
				r = refuse(s, "a damaged or incomplete PEM object");
			break;
		}
		r = object(s, name, header, data, len);
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_clear_free(data, (size_t)len);
	}
	ERR_clear_error();
	BIO_free(bio);
	return r;
}

/* The whole sequence, and its end: the last key needs its certificate; every pair must match. */
static int read_sequence(struct pf_seq *s, const struct pem_file *files, size_t n)
{
	int r;

	for (size_t i = 0; i < n; i++) {
		if (!files[i].data)
			continue;
		r = read_file(s, &files[i]);
		if (r != 0)
			return r;
	}
	if (s->n == 0) {
		pair_status(s->p, X509_BAD_KEY, "Postfix finds no private key in the files of "
			    "smtpd_tls_chain_files: each key must come before its certificate");
		return 1;
	}
	if (s->pairs[s->n - 1].n == 0) {
		s->object = s->pairs[s->n - 1].key_object;
		s->file = s->pairs[s->n - 1].key_file;
		return refuse(s, "the last private key has no certificate after it");
	}
	for (size_t i = 0; i < s->n; i++) {
		if (X509_check_private_key(s->pairs[i].certs[0], s->pairs[i].key) == 1)
			continue;
		ERR_clear_error();
		s->object = s->pairs[i].key_object;
		s->file = s->pairs[i].key_file;
		return refuse(s, "the private key does not belong to the certificate after it");
	}
	return 0;
}

static enum key_type pair_key_type(const struct pf_pair *pair)
{
	int id = EVP_PKEY_get_base_id(pair->key);

	return id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS ? KEY_TYPE_RSA :
	       id == EVP_PKEY_EC ? KEY_TYPE_ECDSA : KEY_TYPE_ANY;
}

int postfix_pair_select(const struct pem_file *files, size_t n, enum key_type kt,
			X509 **certs, size_t *n_certs, size_t *n_total, EVP_PKEY **ret_pkey,
			struct disk_pair *p)
{
	struct pf_seq s = { .p = p };
	struct pf_pair *pick = NULL;
	int r;

	r = read_sequence(&s, files, n);
	for (size_t i = 0; r == 0 && !pick && i < s.n; i++)
		if (kt == KEY_TYPE_ANY || kt == KEY_TYPE_AUTO || pair_key_type(&s.pairs[i]) == kt)
			pick = &s.pairs[i];
	if (r == 0 && !pick) {
		pair_status(p, X509_NO_CERT, "the files of smtpd_tls_chain_files hold no %s pair "
			    "(%zu pair%s of other key types)", key_type_to_string(kt), s.n,
			    s.n == 1 ? "" : "s");
		r = 1;
	}
	if (r == 0) {
		memcpy(certs, pick->certs, pick->n * sizeof(*certs));
		*n_certs = pick->n;
		*n_total = pick->total;
		*ret_pkey = pick->key;
		pick->n = 0;
		pick->key = NULL;
	}
	seq_done(&s);
	return r;
}

int postfix_key_types(const struct pem_file *files, size_t n, enum key_type *ret, size_t max,
		      struct disk_pair *p)
{
	struct pf_seq s = { .p = p };
	size_t k = 0;
	int r;

	r = read_sequence(&s, files, n);
	for (size_t i = 0; r == 0 && i < s.n && k < max; i++)
		ret[k++] = pair_key_type(&s.pairs[i]);
	seq_done(&s);
	return r < 0 ? r : r > 0 ? 0 : (int)k;
}
