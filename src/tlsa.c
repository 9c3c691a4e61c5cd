/*
 * tlsa.c - TLSA records, and how a chain matches them; see tlsa.h (pins
 * are in tlsa-pin.c).
 *
 * The rules are RFC 7671's as an SMTP client applies them (RFC 7672):
 * DANE-EE(3) binds the leaf alone, and then neither its names nor its
 * dates matter (the DNS record is the authority); DANE-TA(2) names an
 * anchor, and the chain from the leaf up to it is checked as PKIX would
 * (issued, signed, in date, the leaf covering the name).  PKIX-TA(0) and
 * PKIX-EE(1) are unusable for SMTP, and a record with parameters this code
 * does not know is ignored, not an error: a zone may carry records for
 * newer clients beside the ones in use.  Pure: no I/O, no clock.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "tlsa.h"
#include "x509.h"

static const char *const class_names[_TLSA_CLASS_MAX] = {
	[TLSA_USABLE]           = "usable",
	[TLSA_UNUSABLE_PKIX]    = "a PKIX usage (0 or 1), unusable for SMTP (RFC 7672)",
	[TLSA_UNUSABLE_UNKNOWN] = "unknown parameters",
	[TLSA_UNUSABLE_LENGTH]  = "a digest of the wrong length",
};

static const char *const match_names[_TLSA_MATCH_STATUS_MAX] = {
	[TLSA_MATCH]       = "match",
	[TLSA_MISMATCH]    = "mismatch",
	[TLSA_NONE_USABLE] = "none-usable",
	[TLSA_NO_CHAIN]    = "no-chain",
};

const char *tlsa_class_to_string(enum tlsa_class c)
{
	return (unsigned)c < _TLSA_CLASS_MAX ? class_names[c] : "?";
}

const char *tlsa_match_status_to_string(enum tlsa_match_status s)
{
	return (unsigned)s < _TLSA_MATCH_STATUS_MAX ? match_names[s] : "?";
}

/* The digest length of a matching type; 0 for exact, -1 when unknown. */
static int mtype_digest_len(uint8_t mtype)
{
	switch (mtype) {
	case TLSA_MTYPE_EXACT:  return 0;
	case TLSA_MTYPE_SHA256: return 32;
	case TLSA_MTYPE_SHA512: return 64;
	}
	return -1;
}

enum tlsa_class tlsa_record_class(const struct tlsa_record *r)
{
	int dlen = mtype_digest_len(r->mtype);

	if (r->usage == TLSA_USAGE_PKIX_TA || r->usage == TLSA_USAGE_PKIX_EE)
		return TLSA_UNUSABLE_PKIX;
	if (r->usage > TLSA_USAGE_DANE_EE || r->selector > TLSA_SELECTOR_SPKI || dlen < 0)
		return TLSA_UNUSABLE_UNKNOWN;
	if ((dlen > 0 && r->len != (size_t)dlen) || r->len == 0)
		return TLSA_UNUSABLE_LENGTH;
	return TLSA_USABLE;
}

void tlsa_record_done(struct tlsa_record *r)
{
	if (!r)
		return;
	free(r->data);
	r->data = NULL;
	r->len = 0;
}

void tlsa_records_free(struct tlsa_record *r, size_t n)
{
	if (!r)
		return;
	for (size_t i = 0; i < n; i++)
		tlsa_record_done(&r[i]);
	free(r);
}

bool tlsa_record_equal(const struct tlsa_record *a, const struct tlsa_record *b)
{
	return a->usage == b->usage && a->selector == b->selector && a->mtype == b->mtype &&
	       a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

int tlsa_record_from_rdata(const uint8_t *rdata, size_t len, struct tlsa_record *ret)
{
	uint8_t *data;

	if (len < 4 || len - 3 > TLSA_MAX_DATA)
		return -EBADMSG;
	data = malloc(len - 3);
	if (!data)
		return -ENOMEM;
	memcpy(data, rdata + 3, len - 3);
	*ret = (struct tlsa_record){
		.usage = rdata[0], .selector = rdata[1], .mtype = rdata[2],
		.len = len - 3, .data = data,
	};
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One decimal field from 0 to 255 at *p, which is moved past it and the blanks after. */
static int parse_octet(const char **p, uint8_t *ret)
{
	const char *s = *p;
	unsigned v = 0;
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9' && n < 4)
		v = v * 10 + (unsigned)(s[n++] - '0');
	if (n == 0 || n > 3 || v > 255 || (s[n] && !is_blank(s[n])))
		return -EINVAL;
	s += n;
	while (is_blank(*s))
		s++;
	*p = s;
	*ret = (uint8_t)v;
	return 0;
}

/* The hex digits of s up to an optional ')' closing, blanks anywhere, into out. */
static int parse_hex(const char *s, bool paren, uint8_t *out, size_t *ret_len,
		     char *err, size_t errlen)
{
	size_t nibbles = 0;
	bool closed = false;

	for (; *s; s++) {
		int v = hex_value(*s);

		if (is_blank(*s))
			continue;
		if (*s == ')' && paren && !closed) {
			closed = true;
			continue;
		}
		if (v < 0 || closed) {
			snprintf(err, errlen, "'%c' is not a hex digit of the certificate association data",
				 *s >= 0x20 && *s < 0x7f ? *s : '?');
			return -EINVAL;
		}
		if (nibbles % 2 == 0)
			out[nibbles / 2] = (uint8_t)(v << 4);
		else
			out[nibbles / 2] |= (uint8_t)v;
		nibbles++;
	}
	if (paren && !closed) {
		snprintf(err, errlen, "the '(' is never closed");
		return -EINVAL;
	}
	if (nibbles == 0 || nibbles % 2) {
		snprintf(err, errlen, nibbles ? "an odd number of hex digits (%zu)" :
			 "no certificate association data after the three numbers", nibbles);
		return -EINVAL;
	}
	*ret_len = nibbles / 2;
	return 0;
}

int tlsa_record_parse(const char *text, struct tlsa_record *ret, char *err, size_t errlen)
{
	static const char *const field[3] = { "certificate usage", "selector", "matching type" };
	struct tlsa_record r = { 0 };
	const char *p = text;
	uint8_t f[3];
	bool paren = false;
	int dlen, e;

	while (is_blank(*p))
		p++;
	if (*p == '(') {
		paren = true;
		for (p++; is_blank(*p); p++)
			;
	}
	for (int i = 0; i < 3; i++)
		if (parse_octet(&p, &f[i]) < 0) {
			snprintf(err, errlen, "the %s must be a number from 0 to 255 "
				 "(a record reads \"3 1 1 HEX\")", field[i]);
			return -EINVAL;
		}
	r.data = malloc(strlen(p) / 2 + 1);
	if (!r.data)
		return -ENOMEM;
	e = parse_hex(p, paren, r.data, &r.len, err, errlen);
	if (e < 0) {
		free(r.data);
		return e;
	}
	r.usage = f[0];
	r.selector = f[1];
	r.mtype = f[2];
	dlen = mtype_digest_len(r.mtype);
	if (dlen > 0 && r.len != (size_t)dlen) {
		snprintf(err, errlen, "matching type %u is %s: %d bytes (%d hex digits), not %zu",
			 r.mtype, dlen == 32 ? "SHA-256" : "SHA-512", dlen, 2 * dlen, r.len);
		free(r.data);
		return -EINVAL;
	}
	*ret = r;
	return 0;
}

/* The DER of x, or of its public key; OPENSSL_free() it. */
static int selected_der(X509 *x, uint8_t selector, unsigned char **ret, size_t *ret_len)
{
	unsigned char *der = NULL;
	int len;

	if (selector == TLSA_SELECTOR_CERT)
		len = i2d_X509(x, &der);
	else if (selector == TLSA_SELECTOR_SPKI)
		len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	else
		return -EINVAL;
	if (len <= 0)
		return -ENOMEM;
	*ret = der;
	*ret_len = (size_t)len;
	return 0;
}

/* The certificate association data of x for (selector, mtype), malloc'd. */
static int cert_data(X509 *x, uint8_t selector, uint8_t mtype, uint8_t **ret, size_t *ret_len)
{
	const EVP_MD *md = mtype == TLSA_MTYPE_SHA256 ? EVP_sha256() :
			   mtype == TLSA_MTYPE_SHA512 ? EVP_sha512() : NULL;
	unsigned char *der;
	unsigned int mdlen;
	size_t len;
	uint8_t *out;
	int e;

	if (mtype != TLSA_MTYPE_EXACT && !md)
		return -EINVAL;
	e = selected_der(x, selector, &der, &len);
	if (e < 0)
		return e;
	out = malloc(md ? EVP_MAX_MD_SIZE : len);
	if (!out)
		e = -ENOMEM;
	else if (!md)
		memcpy(out, der, len);
	else if (EVP_Digest(der, len, out, &mdlen, md, NULL) != 1)
		e = -ENOMEM;
	else
		len = mdlen;
	OPENSSL_free(der);
	if (e < 0) {
		free(out);
		return e;
	}
	*ret = out;
	*ret_len = len;
	return 0;
}

int tlsa_record_for_cert(X509 *x, uint8_t usage, uint8_t selector, uint8_t mtype,
			 struct tlsa_record *ret)
{
	struct tlsa_record r = { .usage = usage, .selector = selector, .mtype = mtype };
	int e = cert_data(x, selector, mtype, &r.data, &r.len);

	if (e < 0)
		return e;
	*ret = r;
	return 0;
}

/* 1 when the record's data is x's for its selector and matching type. */
static int cert_matches(X509 *x, const struct tlsa_record *r)
{
	_cleanup_free_ uint8_t *data = NULL;
	size_t len;
	int e = cert_data(x, r->selector, r->mtype, &data, &len);

	if (e < 0)
		return e;
	return len == r->len && memcmp(data, r->data, len) == 0;
}

int tlsa_record_to_text(const struct tlsa_record *r, char **ret)
{
	static const char hex[] = "0123456789abcdef";
	char *s = malloc(16 + 2 * r->len);
	int n;

	if (!s)
		return -ENOMEM;
	n = sprintf(s, "%u %u %u ", r->usage, r->selector, r->mtype);
	for (size_t i = 0; i < r->len; i++) {
		s[n++] = hex[r->data[i] >> 4];
		s[n++] = hex[r->data[i] & 15];
	}
	s[n] = '\0';
	*ret = s;
	return 0;
}

static bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

int tlsa_owner(const char *name, uint16_t port, char out[TLSA_OWNER_MAX])
{
	size_t len = name ? strlen(name) : 0, label = 0;
	int n;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (label == 0)
				return -EINVAL;
			label = 0;
		} else if (!label_char(name[i]) || ++label > 63)
			return -EINVAL;
	}
	if (label == 0)
		return -EINVAL;
	n = snprintf(out, TLSA_OWNER_MAX, "_%u._tcp.%.*s.", port, (int)len, name);
	/* 253 characters without the final dot is the longest name DNS carries. */
	return n - 1 > 253 ? -EINVAL : 0;
}

int tlsa_line_spki_sha256(const char *owner, uint8_t usage, X509 *x, char out[TLSA_LINE_MAX])
{
	struct tlsa_record r;
	_cleanup_free_ char *text = NULL;
	int e = tlsa_record_for_cert(x, usage, TLSA_SELECTOR_SPKI, TLSA_MTYPE_SHA256, &r);

	if (e < 0)
		return e;
	e = tlsa_record_to_text(&r, &text);
	tlsa_record_done(&r);
	if (e < 0)
		return e;
	snprintf(out, TLSA_LINE_MAX, "%s IN TLSA %s", owner, text);
	return 0;
}

/* Whether x is within its dates at now. */
static bool in_date(X509 *x, time_t now)
{
	return X509_cmp_time(X509_get0_notBefore(x), &now) < 0 &&
	       X509_cmp_time(X509_get0_notAfter(x), &now) > 0;
}

static int leaf_covers(X509 *leaf, const char *name)
{
	struct cert_info ci;
	bool covered;

	if (cert_info_from_x509(leaf, &ci) < 0)
		return -ENOMEM;
	covered = cert_info_covers(&ci, name);
	cert_info_done(&ci);
	return covered;
}

/*
 * Whether the path from the leaf up to an anchor holds: certificates
 * 0..top-1 are each in date and issued and signed by the next one, the
 * last of them by the anchor (its certificate, or with a record that
 * carries only a key, that key).  The anchor's own dates are not judged:
 * the DNS vouches for it.  1 when it holds; 0 with why set.
 */
static int path_holds(X509 *const *chain, size_t top, X509 *anchor, EVP_PKEY *anchor_key,
		      const char *name, time_t now, char *why, size_t whylen)
{
	int covered;

	for (size_t i = 0; i < top; i++) {
		X509 *issuer = i + 1 < top ? chain[i + 1] : anchor;
		EVP_PKEY *key = issuer ? X509_get0_pubkey(issuer) : anchor_key;

		if (issuer && X509_check_issued(issuer, chain[i]) != X509_V_OK) {
			snprintf(why, whylen, "certificate %zu is not issued by %s", i,
				 i + 1 < top ? "the next one" : "the anchor");
			return 0;
		}
		if (!key || X509_verify(chain[i], key) != 1) {
			snprintf(why, whylen, "the signature on certificate %zu does not verify "
				 "with the key of the %s", i, i + 1 < top ? "next one" : "anchor");
			return 0;
		}
		if (!in_date(chain[i], now)) {
			snprintf(why, whylen, "certificate %zu is not within its dates", i);
			return 0;
		}
	}
	if (!name)
		return 1;
	covered = leaf_covers(chain[0], name);
	if (covered == 0)
		snprintf(why, whylen, "the leaf does not cover %s", name);
	return covered;
}

/* The key a "2 0 0" or "2 1 0" record carries, or NULL. */
static EVP_PKEY *record_key(const struct tlsa_record *r)
{
	const unsigned char *p = r->data;
	EVP_PKEY *key = NULL;

	if (r->mtype != TLSA_MTYPE_EXACT)
		return NULL;
	if (r->selector == TLSA_SELECTOR_SPKI)
		key = d2i_PUBKEY(NULL, &p, (long)r->len);
	else {
		X509 *x = d2i_X509(NULL, &p, (long)r->len);

		if (x) {
			key = X509_get_pubkey(x);
			X509_free(x);
		}
	}
	if (key && p != r->data + r->len) {
		EVP_PKEY_free(key);   /* trailing bytes: not the DER of one object */
		key = NULL;
	}
	return key;
}

/*
 * A DANE-TA record: 1 and *ret_depth when it anchors the chain, 0 when
 * not (why says why, when a candidate anchor was found but the path failed).
 */
static int match_ta(const struct tlsa_record *r, X509 *const *chain, size_t n,
		    const char *name, time_t now, size_t *ret_depth, char *why, size_t whylen)
{
	EVP_PKEY *key;
	int m;

	for (size_t d = 1; d < n; d++) {
		m = cert_matches(chain[d], r);
		if (m <= 0) {
			if (m < 0)
				return m;
			continue;
		}
		m = path_holds(chain, d, chain[d], NULL, name, now, why, whylen);
		if (m != 0) {
			*ret_depth = d;
			return m;
		}
	}
	key = record_key(r);
	if (!key)
		return 0;
	m = path_holds(chain, n, NULL, key, name, now, why, whylen);
	EVP_PKEY_free(key);
	if (m > 0)
		*ret_depth = n;
	return m;
}

static void describe_match(struct tlsa_match *m, const struct tlsa_record *r, size_t n)
{
	char where[64];

	if (m->depth == 0)
		snprintf(where, sizeof(where), "the leaf");
	else if (m->depth < n)
		snprintf(where, sizeof(where), "certificate %zu of the chain", m->depth);
	else
		snprintf(where, sizeof(where), "the key it carries, which signs the chain");
	snprintf(m->detail, sizeof(m->detail), "record %u %u %u matches %s",
		 r->usage, r->selector, r->mtype, where);
}

static void describe_unusable(struct tlsa_match *m, const unsigned counts[_TLSA_CLASS_MAX])
{
	int o = snprintf(m->detail, sizeof(m->detail), "no record that SMTP clients use:");
	const char *sep = "";

	for (int c = TLSA_USABLE + 1; c < _TLSA_CLASS_MAX; c++) {
		if (!counts[c] || o >= (int)sizeof(m->detail))
			continue;
		o += snprintf(m->detail + o, sizeof(m->detail) - (size_t)o, "%s %u with %s", sep,
			      counts[c], class_names[c]);
		sep = ",";
	}
}

int tlsa_match_chain(const struct tlsa_record *recs, size_t n_recs,
		     X509 *const *chain, size_t chain_len,
		     const char *name, time_t now, struct tlsa_match *ret)
{
	struct tlsa_match m = { .status = TLSA_NO_CHAIN };
	unsigned counts[_TLSA_CLASS_MAX] = { 0 };
	char why[256] = "";
	int found;

	if (chain_len == 0) {
		snprintf(m.detail, sizeof(m.detail), "no certificate to match");
		*ret = m;
		return 0;
	}
	for (size_t i = 0; i < n_recs; i++) {
		const struct tlsa_record *r = &recs[i];
		enum tlsa_class c = tlsa_record_class(r);

		counts[c]++;
		if (c != TLSA_USABLE)
			continue;
		m.depth = 0;
		if (r->usage == TLSA_USAGE_DANE_EE)
			found = cert_matches(chain[0], r);
		else
			found = match_ta(r, chain, chain_len, name, now, &m.depth, why, sizeof(why));
		if (found < 0)
			return found;
		if (found) {
			m.status = TLSA_MATCH;
			m.record = i;
			describe_match(&m, r, chain_len);
			*ret = m;
			return 0;
		}
	}
	if (counts[TLSA_USABLE] == 0) {
		m.status = TLSA_NONE_USABLE;
		describe_unusable(&m, counts);
	} else {
		m.status = TLSA_MISMATCH;
		snprintf(m.detail, sizeof(m.detail), "none of the %u usable records matches%s%s",
			 counts[TLSA_USABLE], why[0] ? "; a DANE-TA record names a certificate "
			 "of the chain, but " : "", why);
	}
	*ret = m;
	return 0;
}
