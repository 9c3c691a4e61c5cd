/*
 * x509-info.c - struct cert_info from an X509: the SHA-256 of the
 * certificate and of its SubjectPublicKeyInfo, the dates, the subject and
 * issuer as one line, and the subject alternative names as text.
 *
 * Every field is untrusted (it also comes from the wire): text is escaped
 * and bounded before it is kept, and a DNS name that had to be escaped
 * keeps its backslash, so that x509-name.c never matches it.  Every name
 * is kept: how many there are is bounded by the size of the certificate
 * itself, never by a count that would hide the name that matters.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "x509.h"
#include "x509-int.h"

#define NAME_TEXT_MAX 1024          /* subject and issuer, escaped */
#define SAN_TEXT_MAX  512           /* one SAN, escaped; longer than any DNS name */

int x509_name_text(const X509_NAME *name, char **ret)
{
	char buf[NAME_TEXT_MAX], *data, *s;
	long len;
	BIO *bio;

	bio = BIO_new(BIO_s_mem());
	if (!bio)
		return -ENOMEM;
	/* RFC 2253 escapes controls and non-ASCII; escape_bytes() covers the rest. */
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0) {
		BIO_free(bio);
		return -ENOMEM;
	}
	len = BIO_get_mem_data(bio, &data);
	escape_bytes(data, len > 0 ? (size_t)len : 0, buf, sizeof(buf));
	BIO_free(bio);
	s = strdup(buf);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

/*
 * An unparsable date makes the certificate look expired since the epoch:
 * whatever went wrong, it must not pass as valid.
 */
static time_t asn1_time_to_time_t(const ASN1_TIME *t)
{
	struct tm tm = {};

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

/*
 * A dNSName is kept as text only if it is plain printable ASCII; otherwise
 * escaped, and the backslash of the escape keeps it from ever matching.
 * A dNSName that reads as an IP address is prefixed with "DNS:" so that it
 * cannot pass for an iPAddress SAN, which the list does not otherwise mark.
 */
static char *san_dns_text(const ASN1_IA5STRING *s)
{
	char buf[SAN_TEXT_MAX], prefixed[SAN_TEXT_MAX + 4];
	unsigned char addr[16];

	escape_bytes(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s),
		     buf, sizeof(buf));
	if (inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1) {
		snprintf(prefixed, sizeof(prefixed), "DNS:%s", buf);
		return strdup(prefixed);
	}
	return strdup(buf);
}

static char *san_ip_text(const ASN1_OCTET_STRING *s)
{
	char buf[INET6_ADDRSTRLEN];
	int family = ASN1_STRING_length(s) == 4 ? AF_INET : AF_INET6;

	if (!inet_ntop(family, ASN1_STRING_get0_data(s), buf, sizeof(buf)))
		return NULL;
	return strdup(buf);
}

static int sans_collect(X509 *x, char ***ret_sans, size_t *ret_n)
{
	GENERAL_NAMES *gens;
	char **sans = NULL;
	size_t n = 0;
	int r = 0, count;

	/* No extension, or a duplicated one (ambiguous): no names at all. */
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	/*
	 * Every name, however many: one dropped is a certificate that looks
	 * as if it did not cover its name.  The certificate's own size bounds
	 * them (a few bytes of DER each, from a file or a handshake of bounded
	 * size).
	 */
	count = gens ? sk_GENERAL_NAME_num(gens) : 0;
	if (count > 0) {
		sans = calloc((size_t)count, sizeof(*sans));
		if (!sans) {
			r = -ENOMEM;
			goto out;
		}
	}
	for (int i = 0; i < count; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_DNS) {
			sans[n] = san_dns_text(g->d.dNSName);
			if (!sans[n]) {
				r = -ENOMEM;
				goto out;
			}
			n++;
		} else if (g->type == GEN_IPADD) {
			/* Other lengths are ranges of name constraints, not addresses. */
			if (ASN1_STRING_length(g->d.iPAddress) != 4 &&
			    ASN1_STRING_length(g->d.iPAddress) != 16)
				continue;
			sans[n] = san_ip_text(g->d.iPAddress);
			if (!sans[n]) {
				r = -ENOMEM;
				goto out;
			}
			n++;
		}
	}
	*ret_sans = sans;
	*ret_n = n;
	sans = NULL;
	n = 0;
out:
	while (n > 0)
		free(sans[--n]);
	free(sans);
	GENERAL_NAMES_free(gens);
	return r;
}

enum key_type x509_key_type(X509 *x)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	int id = k ? EVP_PKEY_get_base_id(k) : EVP_PKEY_NONE;

	return id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS ? KEY_TYPE_RSA :
	       id == EVP_PKEY_EC ? KEY_TYPE_ECDSA : KEY_TYPE_ANY;
}

/* The key's algorithm, as the key-type setting names it where it can. */
static void key_facts(X509 *x, struct cert_info *ci)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	const char *name = k ? EVP_PKEY_get0_type_name(k) : NULL;

	ci->key_type = x509_key_type(x);
	if (ci->key_type != KEY_TYPE_ANY)
		snprintf(ci->key_alg, sizeof(ci->key_alg), "%s", key_type_to_string(ci->key_type));
	else
		snprintf(ci->key_alg, sizeof(ci->key_alg), "%s", name ? name : "unknown");
	for (char *p = ci->key_alg; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

int cert_info_from_x509(X509 *x, struct cert_info *ret)
{
	struct cert_info ci = {};
	unsigned char *der = NULL;
	unsigned int mdlen;
	int r = -ENOMEM, len;

	if (X509_digest(x, EVP_sha256(), ci.sha256, &mdlen) != 1)
		goto out;
	/* The whole SubjectPublicKeyInfo, as DANE's SPKI selector and pinning use. */
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	if (len <= 0)
		goto out;
	if (EVP_Digest(der, (size_t)len, ci.spki_sha256, &mdlen, EVP_sha256(), NULL) != 1)
		goto out;
	ci.not_before = asn1_time_to_time_t(X509_get0_notBefore(x));
	ci.not_after = asn1_time_to_time_t(X509_get0_notAfter(x));
	key_facts(x, &ci);
	r = x509_name_text(X509_get_subject_name(x), &ci.subject);
	if (r < 0)
		goto out;
	r = x509_name_text(X509_get_issuer_name(x), &ci.issuer);
	if (r < 0)
		goto out;
	r = sans_collect(x, &ci.sans, &ci.n_sans);
	if (r < 0)
		goto out;
	*ret = ci;
	memset(&ci, 0, sizeof(ci));
out:
	OPENSSL_free(der);
	cert_info_done(&ci);
	return r;
}

void cert_info_done(struct cert_info *ci)
{
	if (!ci)
		return;
	cert_info_drop_names(ci);
	memset(ci, 0, sizeof(*ci));
}

void cert_info_drop_names(struct cert_info *ci)
{
	free(ci->subject);
	free(ci->issuer);
	for (size_t i = 0; i < ci->n_sans; i++)
		free(ci->sans[i]);
	free(ci->sans);
	ci->subject = ci->issuer = NULL;
	ci->sans = NULL;
	ci->n_sans = 0;
}

bool cert_info_same(const struct cert_info *a, const struct cert_info *b)
{
	return memcmp(a->sha256, b->sha256, SHA256_LEN) == 0;
}

bool cert_info_same_key(const struct cert_info *a, const struct cert_info *b)
{
	return memcmp(a->spki_sha256, b->spki_sha256, SHA256_LEN) == 0;
}

int cert_chain_from_x509(X509 *const *certs, size_t n, struct cert_chain *ret)
{
	struct cert_chain c = {};
	int r = -ENOMEM;

	if (n > X509_MAX_CHAIN)
		n = X509_MAX_CHAIN;
	if (n == 0) {
		*ret = c;
		return 0;
	}
	c.x509 = calloc(n, sizeof(*c.x509));
	c.issuers = n > 1 ? calloc(n - 1, sizeof(*c.issuers)) : NULL;   /* the leaf is not one */
	if (!c.x509 || (n > 1 && !c.issuers))
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (X509_up_ref(certs[i]) != 1)
			goto out;
		c.x509[i] = certs[i];
	}
	for (size_t i = 1; i < n; i++) {
		r = cert_info_from_x509(certs[i], &c.issuers[i - 1]);
		if (r < 0)
			goto out;
		c.n_issuers++;
	}
	*ret = c;
	return 0;
out:
	if (c.x509)
		c.n_issuers = n - 1;    /* what cert_chain_done() must release */
	cert_chain_done(&c);
	return r;
}

void cert_chain_done(struct cert_chain *c)
{
	if (!c)
		return;
	for (size_t i = 0; c->x509 && i <= c->n_issuers; i++)
		X509_free(c->x509[i]);
	for (size_t i = 0; c->issuers && i < c->n_issuers; i++)
		cert_info_done(&c->issuers[i]);
	free(c->issuers);
	free(c->x509);
	memset(c, 0, sizeof(*c));
}

void cert_chain_drop_x509(struct cert_chain *c)
{
	for (size_t i = 0; c->x509 && i <= c->n_issuers; i++)
		X509_free(c->x509[i]);
	free(c->x509);
	c->x509 = NULL;
	c->n_proven = 0;
}

size_t cert_chain_proven(const struct cert_chain *c, STACK_OF(X509) *verified)
{
	size_t n = c->x509 ? c->n_issuers + 1 : 0, same = 0;
	int on_path = verified ? sk_X509_num(verified) : 0;

	while (same < n && same < (size_t)on_path &&
	       X509_cmp(c->x509[same], sk_X509_value(verified, (int)same)) == 0)
		same++;
	return same > 0 ? same - 1 : 0;
}

bool cert_chain_same_issuers(const struct cert_chain *a, const struct cert_chain *b)
{
	if (a->n_issuers != b->n_issuers)
		return false;
	for (size_t i = 0; i < a->n_issuers; i++)
		if (!cert_info_same(&a->issuers[i], &b->issuers[i]))
			return false;
	return true;
}
