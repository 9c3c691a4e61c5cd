/*
 * pki.h - certificates made at test time for the unit tests of tlsa.c and
 * dane-judge.c: a root, an intermediate, leaves for mx.example.com on
 * several keys (the one in use, the renewal's), and the broken ones
 * (expired, another name, a forged issuer).
 */
#pragma once

#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#define DAY 86400L

static void pki_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!e || !X509_add_ext(x, e, -1))
		abort();
	X509_EXTENSION_free(e);
}

/*
 * A certificate for key, signed by issuer_key (itself when NULL), valid
 * from..to seconds from now; a leaf for san when san is given, else a CA.
 */
static X509 *pki_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
		      const char *san, long from, long to)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *name = X509_get_subject_name(x);

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509_set_pubkey(x, key);
	if (san) {
		pki_add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
		pki_add_ext(x, issuer, NID_subject_alt_name, san);
	} else {
		pki_add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
		pki_add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
	}
	if (!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()))
		abort();
	return x;
}

static EVP_PKEY *k_root, *k_int, *k_leaf, *k_next, *k_other;
static X509 *root, *inter, *leaf, *leaf_renewed_same_key, *leaf_next, *leaf_expired,
	    *leaf_other_name, *leaf_forged, *inter_other;

static void pki_make(void)
{
	const char *mx = "DNS:mx.example.com";

	k_root = EVP_EC_gen("P-256");
	k_int = EVP_EC_gen("P-256");
	k_leaf = EVP_EC_gen("P-256");
	k_next = EVP_EC_gen("P-256");
	k_other = EVP_EC_gen("P-256");
	root = pki_cert("test root", k_root, NULL, NULL, NULL, -DAY, 3650 * DAY);
	inter = pki_cert("test intermediate", k_int, root, k_root, NULL, -DAY, 3650 * DAY);
	leaf = pki_cert("mx.example.com", k_leaf, inter, k_int, mx, -DAY, 90 * DAY);
	leaf_renewed_same_key = pki_cert("mx.example.com", k_leaf, inter, k_int, mx, -3600, 90 * DAY);
	leaf_next = pki_cert("mx.example.com", k_next, inter, k_int, mx, -3600, 90 * DAY);
	leaf_expired = pki_cert("mx.example.com", k_leaf, inter, k_int, mx, -100 * DAY, -10 * DAY);
	leaf_other_name = pki_cert("www.example.org", k_leaf, inter, k_int, "DNS:www.example.org",
				   -DAY, 90 * DAY);
	/* The intermediate's name on another key: right names, wrong signature. */
	inter_other = pki_cert("test intermediate", k_other, root, k_root, NULL, -DAY, 3650 * DAY);
	leaf_forged = pki_cert("mx.example.com", k_leaf, inter_other, k_other, mx, -DAY, 90 * DAY);
}

static void pki_free(void)
{
	X509 *all[] = { root, inter, leaf, leaf_renewed_same_key, leaf_next, leaf_expired,
			leaf_other_name, leaf_forged, inter_other };
	EVP_PKEY *keys[] = { k_root, k_int, k_leaf, k_next, k_other };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		X509_free(all[i]);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		EVP_PKEY_free(keys[i]);
}
