/*
 * x509-keytype.c - the key type of the first certificate of a file, read
 * from its DER bytes without decoding the certificate.
 *
 * A probe asks for the key type of the certificate on disk before its
 * handshake (a server with an RSA and an ECDSA certificate serves the one
 * the client's signature algorithms pick).  Decoding the certificate for
 * that costs what a handshake's own decoding does, since OpenSSL 3 builds
 * a decoder for every certificate's public key; the judgement after the
 * handshake decodes the files anyway, and then takes the certificates the
 * server sent when the files hold the same bytes (x509.c).  So the type is
 * read here from the algorithm of the SubjectPublicKeyInfo (RFC 5280,
 * 4.1), walking the DER (X.690, 8.1: tag, length, contents) with every
 * length checked against what holds it; or, in the daemon, from the pair
 * kept parsed (x509-cache.c) while its files stand.  A leaf the walk does
 * not read as one certificate in DER with nothing after it (rare: lengths
 * only BER allows, a TRUSTED CERTIFICATE's settings) is decoded after
 * all, as the loaders take or refuse it.  Nothing here prints.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "x509.h"
#include "x509-int.h"

#define DER_SEQUENCE 0x30
#define DER_INTEGER  0x02
#define DER_OID      0x06
#define DER_VERSION  0xa0    /* [0] EXPLICIT, constructed: the tbsCertificate's version */

struct der {
	const uint8_t *p, *end;
};

/*
 * The next element of d, of tag (one identifier octet): its contents into
 * ret (bounded by d), and d past it.  False on another tag, a length that
 * does not fit, or a form DER does not allow here (indefinite, more than
 * four length octets).
 */
static bool der_take(struct der *d, uint8_t tag, struct der *ret)
{
	const uint8_t *p = d->p;
	size_t len, n;

	if (d->end - p < 2 || p[0] != tag)
		return false;
	len = p[1];
	p += 2;
	if (len & 0x80) {
		n = len & 0x7f;
		if (n == 0 || n > 4 || (size_t)(d->end - p) < n)
			return false;
		for (len = 0; n > 0; n--)
			len = len << 8 | *p++;
	}
	if ((size_t)(d->end - p) < len)
		return false;
	*ret = (struct der) { p, p + len };
	d->p = p + len;
	return true;
}

/* The NID of d's next element, an OBJECT IDENTIFIER; NID_undef when it is not one OpenSSL knows. */
static int der_take_nid(struct der *d)
{
	const unsigned char *p = d->p;
	struct der oid;
	ASN1_OBJECT *obj;
	int nid;

	if (!der_take(d, DER_OID, &oid))
		return NID_undef;
	obj = d2i_ASN1_OBJECT(NULL, &p, oid.end - p);
	nid = obj ? OBJ_obj2nid(obj) : NID_undef;
	ASN1_OBJECT_free(obj);
	return nid;
}

/*
 * The key type of the certificate of DER bytes, as x509-info.c's facts
 * give it from the decoded key: RSA for rsaEncryption and RSASSA-PSS
 * (RFC 8017, A.1), ECDSA for id-ecPublicKey (RFC 5480, 2.1.1) but on the
 * SM2 curve, which OpenSSL decodes as a key of its own; ANY for any other
 * algorithm.  False, ret untouched, for bytes this walk does not read as
 * one certificate in DER and nothing after it: damaged ones, but also
 * what OpenSSL's loaders take and DER does not allow (an indefinite
 * length, a long form with leading zeros) or take with more after the
 * certificate (a TRUSTED CERTIFICATE's trust settings).
 */
static bool der_key_type(const uint8_t *der, size_t len, enum key_type *ret)
{
	struct der d = { der, der + len }, cert, tbs, skip, spki, alg;
	int nid;

	if (!der_take(&d, DER_SEQUENCE, &cert) || d.p != d.end ||
	    !der_take(&cert, DER_SEQUENCE, &tbs))
		return false;
	(void)der_take(&tbs, DER_VERSION, &skip);
	/* serialNumber, signature, issuer, validity, subject; then the key's. */
	if (!der_take(&tbs, DER_INTEGER, &skip))
		return false;
	for (int i = 0; i < 4; i++)
		if (!der_take(&tbs, DER_SEQUENCE, &skip))
			return false;
	if (!der_take(&tbs, DER_SEQUENCE, &spki) || !der_take(&spki, DER_SEQUENCE, &alg))
		return false;
	nid = der_take_nid(&alg);
	if (nid == NID_rsaEncryption || nid == NID_rsassaPss)
		*ret = KEY_TYPE_RSA;
	else if (nid != NID_X9_62_id_ecPublicKey)
		*ret = KEY_TYPE_ANY;
	else
		*ret = der_take_nid(&alg) == NID_sm2 ? KEY_TYPE_ANY : KEY_TYPE_ECDSA;
	return true;
}

/*
 * The key type of a leaf the walk above does not read, decoded as the
 * loaders decode it (with a TRUSTED CERTIFICATE's settings): rare bytes,
 * whose type must still be the one the judgement finds, else a server
 * with a certificate per type is asked for the other one.  ANY when it
 * does not decode: no certificate to the loaders either.
 */
static enum key_type decoded_key_type(const unsigned char *der, long len)
{
	const unsigned char *q = der;
	X509 *x = d2i_X509_AUX(NULL, &q, len);
	enum key_type kt = x ? x509_key_type(x) : KEY_TYPE_ANY;

	X509_free(x);
	return kt;
}

int pair_leaf_key_type(const struct pair_files *pf, enum key_type *ret)
{
	struct pem_file f = { .role = "certificate", .path = pf->cert };
	struct disk_pair p = { .status = X509_VALID };
	unsigned char *der = NULL;
	struct pair_parsed *pp;
	long len = 0;
	BIO *bio;
	int r;

	/* Kept parsed, the files unchanged: a stat() of each, no read. */
	pp = pf->format == PAIR_FORMAT_PEM ? pair_cache_get(pf) : NULL;
	if (pp && pp->n > 0) {
		*ret = x509_key_type(pp->certs[0]);
		pair_parsed_unref(pp);
		return 0;
	}
	pair_parsed_unref(pp);

	r = pem_files_read(&f, 1, &p);
	disk_pair_done(&p);
	if (r != 0) {
		pem_file_done(&f);
		return r < 0 ? r : -EBADMSG;
	}
	bio = BIO_new_mem_buf(f.data, (int)f.len);
	/* The leaf as OpenSSL's loaders read it: a TRUSTED CERTIFICATE block counts. */
	if (!bio)
		r = -ENOMEM;
	else if (PEM_bytes_read_bio(&der, &len, NULL, PEM_STRING_X509_TRUSTED, bio, NULL,
				    NULL) != 1)
		r = -EBADMSG;
	else if (!der_key_type(der, (size_t)len, ret))
		*ret = decoded_key_type(der, len);
	ERR_clear_error();
	OPENSSL_free(der);
	BIO_free(bio);
	pem_file_done(&f);
	return r;
}
