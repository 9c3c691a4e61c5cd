/*
 * test-tlsa.c - TLSA records and pins: parsing (RFC 6698's own examples,
 * wrong lengths, either case of hex), the data computed for certificates
 * made here at test time (checked against a second route through OpenSSL),
 * and matching by RFC 7671's rules, table-driven.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "pki.h"
#include "tap.h"
#include "tlsa.h"

/* The SHA-256 of a key's SubjectPublicKeyInfo, the other way round: from the key itself. */
static void spki_sha256_of_key(EVP_PKEY *k, uint8_t out[SHA256_LEN])
{
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(k, &der);
	unsigned int mdlen;

	EVP_Digest(der, (size_t)len, out, &mdlen, EVP_sha256(), NULL);
	OPENSSL_free(der);
}

/* A record made by the code under test for x. */
static struct tlsa_record rec(X509 *x, uint8_t u, uint8_t s, uint8_t m)
{
	struct tlsa_record r;

	if (tlsa_record_for_cert(x, u, s, m, &r) < 0)
		abort();
	return r;
}

/* ---- parsing ------------------------------------------------------------------ */

static const char hex64[] =
	"d2abde240d7cd3ee6b4b28c54df034b97983a1d16e8a410e4561cb106618e971";

static void test_parse(void)
{
	static const struct {
		const char *text;
		int want;                 /* 0 or the negative errno */
		size_t len;               /* bytes of data when parsed */
		const char *err_like;
		const char *what;
	} rows[] = {
		/* RFC 6698 section 2.3's examples, split over lines as printed there. */
		{ "( 0 0 1 d2abde240d7cd3ee6b4b28c54df034b9\n"
		  "        7983a1d16e8a410e4561cb106618e971 )", 0, 32, NULL,
		  "RFC 6698's 0 0 1 example, in parentheses over two lines" },
		{ "1 1 2 92003ba34942dc74152e2f2c408d29ec\n a5a520e7f2e06bb944f4dca346baf63c\n"
		  " 1b177615d466f6c4b71c216a50292bd5\n 8c9ebdd2f74e38fe51ffd48c43326cbc", 0, 64, NULL,
		  "RFC 6698's 1 1 2 example (SHA-512)" },
		{ "3 1 1 D2ABDE240D7CD3EE6B4B28C54DF034B97983A1D16E8A410E4561CB106618E971", 0, 32,
		  NULL, "upper-case hex" },
		{ "3 0 0 308201", 0, 3, NULL, "exact data of any length" },
		{ "3 1 9 00", 0, 1, NULL, "an unknown matching type parses (it is ignored when matching)" },
		{ "3 1 1 d2abde240d7cd3ee6b4b28c54df034b97983a1d16e8a410e4561cb106618e9", -EINVAL, 0,
		  "SHA-256: 32 bytes (64 hex digits), not 31", "a SHA-256 one byte short" },
		{ "3 1 1 d2abde240d7cd3ee6b4b28c54df034b97983a1d16e8a410e4561cb106618e97100", -EINVAL,
		  0, "not 33", "a SHA-256 one byte long" },
		{ "3 1 2 d2abde240d7cd3ee6b4b28c54df034b97983a1d16e8a410e4561cb106618e971", -EINVAL, 0,
		  "SHA-512: 64 bytes", "a SHA-256 digest given as SHA-512" },
		{ "3 1 1 d2a", -EINVAL, 0, "odd number", "an odd number of hex digits" },
		{ "3 1 1 xyz0", -EINVAL, 0, "'x' is not a hex digit", "not hex" },
		{ "3 1 1", -EINVAL, 0, "no certificate association data", "no data" },
		{ "3 1", -EINVAL, 0, "matching type must be a number", "two numbers only" },
		{ "256 1 1 00", -EINVAL, 0, "certificate usage must be a number from 0 to 255",
		  "a usage over 255" },
		{ "-3 1 1 00", -EINVAL, 0, "certificate usage", "a negative usage" },
		{ "3 1 1x 00", -EINVAL, 0, "matching type", "a number run into letters" },
		{ "( 3 1 1 00", -EINVAL, 0, "never closed", "an unclosed parenthesis" },
		{ "3 1 1 00 ) ", -EINVAL, 0, "')' is not a hex digit", "a ')' never opened" },
	};

	for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
		struct tlsa_record r = { .len = 12345 };
		char err[256] = "";
		int e = tlsa_record_parse(rows[i].text, &r, err, sizeof(err));

		if (!ok(e == rows[i].want, "parse: %s", rows[i].what))
			printf("#   got %d (%s)\n", e, err);
		if (e == 0) {
			ok(r.len == rows[i].len, "parse: %s: %zu bytes", rows[i].what, rows[i].len);
			tlsa_record_done(&r);
		} else {
			like(err, rows[i].err_like, "parse: %s: the message says why", rows[i].what);
			ok(r.len == 12345, "parse: %s: ret untouched", rows[i].what);
		}
	}
}

static void test_parse_data(void)
{
	struct tlsa_record lo, up;
	char err[256];
	_cleanup_free_ char *text = NULL;
	char line[128];

	snprintf(line, sizeof(line), "3 1 1 %s", hex64);
	tlsa_record_parse(line, &lo, err, sizeof(err));
	for (char *p = line; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	tlsa_record_parse(line, &up, err, sizeof(err));
	ok(tlsa_record_equal(&lo, &up), "upper- and lower-case hex give the same record");
	ok(lo.usage == 3 && lo.selector == 1 && lo.mtype == 1 && lo.data[0] == 0xd2 &&
	   lo.data[31] == 0x71, "the fields and the bytes are read in order");
	ok(tlsa_record_to_text(&up, &text) == 0, "to_text works");
	snprintf(line, sizeof(line), "3 1 1 %s", hex64);
	is_str(text, line, "to_text prints lower-case hex, the way it parses back");
	tlsa_record_done(&lo);
	tlsa_record_done(&up);
}

static void test_rdata_and_class(void)
{
	static const uint8_t short3[] = { 3, 1, 1 }, one[] = { 3, 0, 0, 0x30 };
	static const struct {
		uint8_t u, s, m;
		size_t len;
		enum tlsa_class want;
	} classes[] = {
		{ 3, 1, 1, 32, TLSA_USABLE }, { 2, 0, 2, 64, TLSA_USABLE },
		{ 3, 0, 0, 1, TLSA_USABLE }, { 0, 0, 1, 32, TLSA_UNUSABLE_PKIX },
		{ 1, 1, 1, 32, TLSA_UNUSABLE_PKIX }, { 4, 1, 1, 32, TLSA_UNUSABLE_UNKNOWN },
		{ 3, 2, 1, 32, TLSA_UNUSABLE_UNKNOWN }, { 3, 1, 3, 32, TLSA_UNUSABLE_UNKNOWN },
		{ 3, 1, 1, 31, TLSA_UNUSABLE_LENGTH }, { 3, 1, 2, 32, TLSA_UNUSABLE_LENGTH },
	};
	uint8_t data[64] = { 0 };
	struct tlsa_record r = { .len = 7 };

	ok(tlsa_record_from_rdata(short3, sizeof(short3), &r) == -EBADMSG && r.len == 7,
	   "rdata: three bytes and no data is refused, ret untouched");
	ok(tlsa_record_from_rdata(one, sizeof(one), &r) == 0 && r.usage == 3 && r.len == 1 &&
	   r.data[0] == 0x30, "rdata: the fields and one byte of data");
	tlsa_record_done(&r);
	for (size_t i = 0; i < ELEMENTSOF(classes); i++) {
		struct tlsa_record c = { classes[i].u, classes[i].s, classes[i].m,
					 classes[i].len, data };

		ok(tlsa_record_class(&c) == classes[i].want, "class of %u %u %u with %zu bytes: %s",
		   c.usage, c.selector, c.mtype, c.len, tlsa_class_to_string(classes[i].want));
	}
}

/* ---- the data of certificates --------------------------------------------------- */

static void test_cert_data(void)
{
	uint8_t want[SHA256_LEN], cert_sha[SHA256_LEN];
	unsigned char *der = NULL, *spki = NULL;
	int der_len = i2d_X509(leaf, &der), spki_len = i2d_PUBKEY(k_leaf, &spki);
	struct tlsa_record r;
	unsigned int mdlen;
	uint8_t sha512[64];
	char want_hex[SHA256_HEX_LEN], line[TLSA_LINE_MAX], expect[TLSA_LINE_MAX];

	spki_sha256_of_key(k_leaf, want);
	r = rec(leaf, 3, 1, 1);
	ok(r.len == 32 && memcmp(r.data, want, 32) == 0, "3 1 1 is the SHA-256 of the key's SPKI");
	tlsa_record_done(&r);
	EVP_Digest(der, (size_t)der_len, cert_sha, &mdlen, EVP_sha256(), NULL);
	r = rec(leaf, 3, 0, 1);
	ok(r.len == 32 && memcmp(r.data, cert_sha, 32) == 0, "3 0 1 is the SHA-256 of the certificate");
	tlsa_record_done(&r);
	EVP_Digest(spki, (size_t)spki_len, sha512, &mdlen, EVP_sha512(), NULL);
	r = rec(leaf, 3, 1, 2);
	ok(r.len == 64 && memcmp(r.data, sha512, 64) == 0, "3 1 2 is the SHA-512 of the SPKI");
	tlsa_record_done(&r);
	r = rec(leaf, 3, 0, 0);
	ok(r.len == (size_t)der_len && memcmp(r.data, der, r.len) == 0, "3 0 0 is the DER certificate");
	tlsa_record_done(&r);
	r = rec(leaf, 3, 1, 0);
	ok(r.len == (size_t)spki_len && memcmp(r.data, spki, r.len) == 0, "3 1 0 is the DER SPKI");
	tlsa_record_done(&r);
	ok(tlsa_record_for_cert(leaf, 3, 2, 1, &r) == -EINVAL, "an unknown selector has no data");
	ok(tlsa_record_for_cert(leaf, 3, 1, 7, &r) == -EINVAL, "an unknown matching type has no data");

	sha256_to_hex(want, want_hex);
	ok(tlsa_line_spki_sha256("_25._tcp.mx.example.com.", 3, leaf, line) == 0, "a zone line");
	snprintf(expect, sizeof(expect), "_25._tcp.mx.example.com. IN TLSA 3 1 1 %s", want_hex);
	is_str(line, expect, "the zone line of 3 1 1");
	OPENSSL_free(der);
	OPENSSL_free(spki);
}

static void test_owner(void)
{
	static const struct {
		const char *name;
		uint16_t port;
		const char *want;         /* NULL: -EINVAL */
	} rows[] = {
		{ "mx.example.com", 25, "_25._tcp.mx.example.com." },
		{ "mx.example.com.", 465, "_465._tcp.mx.example.com." },
		{ "MX-1.Example.COM", 587, "_587._tcp.MX-1.Example.COM." },
		{ "", 25, NULL }, { ".", 25, NULL }, { "a..b", 25, NULL }, { ".a", 25, NULL },
		{ "mx.example.com..", 25, NULL }, { "mx example", 25, NULL },
		{ "mx\\.example", 25, NULL }, { "*.example.com", 25, NULL },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", 25, NULL },
	};
	char out[TLSA_OWNER_MAX], longname[260];

	for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
		int e = tlsa_owner(rows[i].name, rows[i].port, out);

		if (rows[i].want) {
			ok(e == 0, "owner of \"%s\"", rows[i].name);
			is_str(out, rows[i].want, "owner of \"%s\" reads right", rows[i].name);
		} else
			ok(e == -EINVAL, "owner of \"%s\" is refused", rows[i].name);
	}
	/* 61 + 4 * 48 = 253 characters: fine alone, too long with "_25._tcp." before it. */
	memset(longname, 'a', 61);
	for (int i = 0; i < 4; i++)
		memcpy(longname + 61 + 48 * i, ".bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 48);
	longname[61 + 4 * 48] = '\0';
	ok(tlsa_owner(longname, 25, out) == -EINVAL, "an owner over 253 characters is refused");
	longname[61 + 3 * 48] = '\0';
	ok(tlsa_owner(longname, 25, out) == 0, "a long owner within 253 characters is fine");
}

/* ---- matching ------------------------------------------------------------------- */

struct match_row {
	const char *what;
	struct tlsa_record recs[3];
	size_t n_recs;
	X509 *chain[4];
	size_t chain_len;
	const char *name;
	enum tlsa_match_status want;
	size_t want_record, want_depth;
	const char *detail_like;
};

static void run_match_rows(struct match_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct match_row *w = &rows[i];
		struct tlsa_match m;
		int e = tlsa_match_chain(w->recs, w->n_recs, w->chain, w->chain_len, w->name,
					 time(NULL), &m);

		if (!ok(e == 0 && m.status == w->want, "match: %s: %s", w->what,
			tlsa_match_status_to_string(w->want)))
			printf("#   got %s: %s\n", tlsa_match_status_to_string(m.status), m.detail);
		if (w->want == TLSA_MATCH)
			ok(m.record == w->want_record && m.depth == w->want_depth,
			   "match: %s: record %zu at depth %zu", w->what, w->want_record, w->want_depth);
		if (w->detail_like)
			like(m.detail, w->detail_like, "match: %s: the detail says so", w->what);
		for (size_t r = 0; r < w->n_recs; r++)
			tlsa_record_done(&w->recs[r]);
	}
}

static void test_match(void)
{
	struct tlsa_record pkix_ta = rec(root, 0, 0, 1), pkix_ee = rec(leaf, 1, 1, 1);
	struct tlsa_record unknown = rec(leaf, 4, 1, 1), short_ee = rec(leaf, 3, 1, 1), junk;
	char err[128];

	short_ee.len = 31;    /* the leaf's own digest, one byte short */
	if (tlsa_record_parse("3 1 1 0102030000000000000000000000000000000000000000000000000000000000",
			      &junk, err, sizeof(err)) < 0)
		abort();
	struct match_row rows[] = {
		{ "3 1 1 of the leaf", { rec(leaf, 3, 1, 1) }, 1, { leaf, inter }, 2, NULL,
		  TLSA_MATCH, 0, 0, "3 1 1 matches the leaf" },
		{ "3 1 1 binds the key: a renewal with the same key matches",
		  { rec(leaf, 3, 1, 1) }, 1, { leaf_renewed_same_key, inter }, 2, NULL, TLSA_MATCH, 0, 0, NULL },
		{ "3 0 1 binds the certificate: a renewal with the same key does not match",
		  { rec(leaf, 3, 0, 1) }, 1, { leaf_renewed_same_key, inter }, 2, NULL, TLSA_MISMATCH, 0, 0,
		  "none of the 1 usable records" },
		{ "DANE-EE checks no dates: an expired leaf matches", { rec(leaf, 3, 1, 1) }, 1,
		  { leaf_expired }, 1, "mx.example.com", TLSA_MATCH, 0, 0, NULL },
		{ "DANE-EE checks no names: another name matches", { rec(leaf, 3, 1, 1) }, 1,
		  { leaf_other_name }, 1, "mx.example.com", TLSA_MATCH, 0, 0, NULL },
		{ "current + next: the current key", { rec(leaf, 3, 1, 1), rec(leaf_next, 3, 1, 1) }, 2,
		  { leaf, inter }, 2, NULL, TLSA_MATCH, 0, 0, NULL },
		{ "current + next: the next key", { rec(leaf, 3, 1, 1), rec(leaf_next, 3, 1, 1) }, 2,
		  { leaf_next, inter }, 2, NULL, TLSA_MATCH, 1, 0, NULL },
		{ "only the old key published: the renewal does not match", { rec(leaf, 3, 1, 1) }, 1,
		  { leaf_next, inter }, 2, NULL, TLSA_MISMATCH, 0, 0, NULL },
		{ "3 1 2 (SHA-512)", { rec(leaf, 3, 1, 2) }, 1, { leaf }, 1, NULL, TLSA_MATCH, 0, 0, NULL },
		{ "3 0 0 (the whole certificate)", { rec(leaf, 3, 0, 0) }, 1, { leaf }, 1, NULL,
		  TLSA_MATCH, 0, 0, NULL },
		{ "3 1 0 (the whole key)", { rec(leaf, 3, 1, 0) }, 1, { leaf }, 1, NULL, TLSA_MATCH, 0, 0, NULL },
		{ "3 1 1 of the intermediate is not the leaf", { rec(inter, 3, 1, 1) }, 1,
		  { leaf, inter }, 2, NULL, TLSA_MISMATCH, 0, 0, NULL },
		{ "2 1 1 of the issuing CA", { rec(inter, 2, 1, 1) }, 1, { leaf, inter }, 2,
		  "mx.example.com", TLSA_MATCH, 0, 1, "certificate 1 of the chain" },
		{ "2 1 1 of the CA matches any key it certifies", { rec(inter, 2, 1, 1) }, 1,
		  { leaf_next, inter }, 2, "mx.example.com", TLSA_MATCH, 0, 1, NULL },
		{ "2 1 1 of the root, sent in the chain", { rec(root, 2, 1, 1) }, 1,
		  { leaf, inter, root }, 3, NULL, TLSA_MATCH, 0, 2, NULL },
		{ "2 1 1 of a root the server does not send", { rec(root, 2, 1, 1) }, 1,
		  { leaf, inter }, 2, NULL, TLSA_MISMATCH, 0, 0, NULL },
		{ "2 1 1 of the CA, but the CA is not sent", { rec(inter, 2, 1, 1) }, 1,
		  { leaf }, 1, NULL, TLSA_MISMATCH, 0, 0, NULL },
		{ "2 1 0 carries the CA's key, which signs a lone leaf", { rec(inter, 2, 1, 0) }, 1,
		  { leaf }, 1, "mx.example.com", TLSA_MATCH, 0, 1, "the key it carries" },
		{ "2 0 0 carries the CA's certificate, which signs a lone leaf", { rec(inter, 2, 0, 0) }, 1,
		  { leaf }, 1, NULL, TLSA_MATCH, 0, 1, NULL },
		{ "2 1 0 of a key that signed nothing here", { rec(inter_other, 2, 1, 0) }, 1,
		  { leaf }, 1, NULL, TLSA_MISMATCH, 0, 0, "does not verify" },
		{ "DANE-TA checks the name", { rec(inter, 2, 1, 1) }, 1, { leaf_other_name, inter }, 2,
		  "mx.example.com", TLSA_MISMATCH, 0, 0, "does not cover mx.example.com" },
		{ "DANE-TA checks the dates", { rec(inter, 2, 1, 1) }, 1, { leaf_expired, inter }, 2,
		  NULL, TLSA_MISMATCH, 0, 0, "not within its dates" },
		{ "DANE-TA checks the signature", { rec(inter_other, 2, 1, 1) }, 1,
		  { leaf, inter_other }, 2, NULL, TLSA_MISMATCH, 0, 0, "does not verify" },
		{ "DANE-TA checks the issuer", { rec(root, 2, 1, 1) }, 1, { leaf, root }, 2, NULL,
		  TLSA_MISMATCH, 0, 0, "not issued by" },
		{ "DANE-TA: a forged chain link", { rec(inter, 2, 1, 1) }, 1, { leaf_forged, inter }, 2,
		  NULL, TLSA_MISMATCH, 0, 0, "does not verify" },
		{ "2 1 1 of the leaf itself is no anchor", { rec(leaf, 2, 1, 1) }, 1, { leaf, inter }, 2,
		  NULL, TLSA_MISMATCH, 0, 0, NULL },
		{ "a mismatching 3 1 1 and a matching 2 1 1", { rec(leaf_next, 3, 1, 1), rec(inter, 2, 1, 1) },
		  2, { leaf, inter }, 2, NULL, TLSA_MATCH, 1, 1, NULL },
		{ "PKIX-TA and PKIX-EE only: unusable for SMTP", { pkix_ta, pkix_ee }, 2,
		  { leaf, inter, root }, 3, NULL, TLSA_NONE_USABLE, 0, 0, "RFC 7672" },
		{ "an unknown usage is skipped beside a usable record", { unknown, rec(leaf, 3, 1, 1) }, 2,
		  { leaf }, 1, NULL, TLSA_MATCH, 1, 0, NULL },
		{ "an unknown usage alone", { rec(leaf, 4, 1, 1) }, 1, { leaf }, 1, NULL,
		  TLSA_NONE_USABLE, 0, 0, "unknown parameters" },
		{ "a digest of the wrong length never matches", { short_ee }, 1, { leaf }, 1, NULL,
		  TLSA_NONE_USABLE, 0, 0, "wrong length" },
		{ "junk data", { junk }, 1, { leaf }, 1, NULL, TLSA_MISMATCH, 0, 0, NULL },
		{ "no chain", { rec(leaf, 3, 1, 1) }, 1, { NULL }, 0, NULL, TLSA_NO_CHAIN, 0, 0, NULL },
	};
	run_match_rows(rows, ELEMENTSOF(rows));
}

/* ---- pins ------------------------------------------------------------------------ */

static void test_pins(void)
{
	struct tlsa_pin p_leaf, p_inter, p_next, parsed = { { 9 } };
	char text[TLSA_PIN_TEXT_LEN], err[256] = "";
	uint8_t want[SHA256_LEN];
	struct tlsa_match m;
	static const char *const bad[] = {
		"", "abc=", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",    /* no '=' */
		"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU==",               /* 45 */
		"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSu!U=",                /* '!' */
		"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=",                /* low bits set */
		" 7DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
	};

	tlsa_pin_for_cert(leaf, &p_leaf);
	tlsa_pin_for_cert(inter, &p_inter);
	tlsa_pin_for_cert(leaf_next, &p_next);
	spki_sha256_of_key(k_leaf, want);
	ok(memcmp(p_leaf.sha256, want, SHA256_LEN) == 0, "a pin is the SHA-256 of the SPKI");
	tlsa_pin_to_text(&p_leaf, text);
	ok(strlen(text) == 44 && text[43] == '=', "a pin's text is 44 characters ending in '='");
	ok(tlsa_pin_parse(text, &parsed, err, sizeof(err)) == 0 &&
	   memcmp(parsed.sha256, p_leaf.sha256, SHA256_LEN) == 0, "a pin parses back");
	/* The SHA-256 of nothing, as RFC 7469's examples spell digests. */
	ok(tlsa_pin_parse("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", &parsed, err,
			  sizeof(err)) == 0 && parsed.sha256[0] == 0xe3 && parsed.sha256[31] == 0x55,
	   "the pin of SHA-256(\"\") decodes to e3b0...b855");
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		memset(&parsed, 7, sizeof(parsed));
		ok(tlsa_pin_parse(bad[i], &parsed, err, sizeof(err)) == -EINVAL && parsed.sha256[0] == 7,
		   "pin \"%s\" is refused, ret untouched", bad[i]);
	}
	like(err, "base64", "a bad pin's message names the form");
	tlsa_pin_parse("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=", &parsed, err, sizeof(err));
	like(err, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "a stray bit: the canonical form is offered");

	tlsa_match_pins((struct tlsa_pin[]){ p_next, p_leaf }, 2, (X509 *[]){ leaf, inter }, 2, &m);
	ok(m.status == TLSA_MATCH && m.record == 1 && m.depth == 0, "pins: the leaf's key matches");
	tlsa_match_pins(&p_inter, 1, (X509 *[]){ leaf_next, inter }, 2, &m);
	ok(m.status == TLSA_MATCH && m.depth == 1, "pins: a CA's key matches any leaf it signs");
	tlsa_match_pins(&p_leaf, 1, (X509 *[]){ leaf_next, inter }, 2, &m);
	ok(m.status == TLSA_MISMATCH, "pins: a new key with no pin does not match");
	like(m.detail, "none of the 1 pins", "pins: the detail says so");
	tlsa_match_pins(&p_leaf, 1, NULL, 0, &m);
	ok(m.status == TLSA_NO_CHAIN, "pins: no chain");
}

int main(void)
{
	pki_make();
	test_parse();
	test_parse_data();
	test_rdata_and_class();
	test_cert_data();
	test_owner();
	test_match();
	test_pins();
	pki_free();
	return tap_done();
}
