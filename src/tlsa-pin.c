/*
 * tlsa-pin.c - RFC 7469's pin-sha256: the base64 of the SHA-256 of a
 * SubjectPublicKeyInfo, parsed strictly, and matched against every key of
 * a chain (a pinned CA key accepts any key that CA certifies).  The same
 * digest as a "3 1 1" TLSA record's; see tlsa.h.  Pure.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "tlsa.h"

int tlsa_pin_for_cert(X509 *x, struct tlsa_pin *ret)
{
	struct tlsa_record r;
	int e = tlsa_record_for_cert(x, TLSA_USAGE_DANE_EE, TLSA_SELECTOR_SPKI,
				     TLSA_MTYPE_SHA256, &r);

	if (e < 0)
		return e;
	memcpy(ret->sha256, r.data, SHA256_LEN);
	tlsa_record_done(&r);
	return 0;
}

void tlsa_pin_to_text(const struct tlsa_pin *p, char out[TLSA_PIN_TEXT_LEN])
{
	EVP_EncodeBlock((unsigned char *)out, p->sha256, SHA256_LEN);
}

int tlsa_pin_parse(const char *text, struct tlsa_pin *ret, char *err, size_t errlen)
{
	unsigned char buf[48];
	char again[TLSA_PIN_TEXT_LEN];
	struct tlsa_pin p;

	/* 32 bytes are 44 characters of base64, the last one padding. */
	if (strlen(text) != TLSA_PIN_TEXT_LEN - 1 || text[43] != '=' || text[42] == '=' ||
	    EVP_DecodeBlock(buf, (const unsigned char *)text, TLSA_PIN_TEXT_LEN - 1) != 33) {
		snprintf(err, errlen, "a pin-sha256 is the base64 of a SHA-256 digest: "
			 "44 characters ending in one '='");
		return -EINVAL;
	}
	memcpy(p.sha256, buf, SHA256_LEN);
	/* Refuses the spellings that decode to the same bytes (stray low bits). */
	tlsa_pin_to_text(&p, again);
	if (strcmp(again, text) != 0) {
		snprintf(err, errlen, "not the canonical base64 of a SHA-256 digest "
			 "(did you mean \"%s\"?)", again);
		return -EINVAL;
	}
	*ret = p;
	return 0;
}

int tlsa_match_pins(const struct tlsa_pin *pins, size_t n_pins,
		    X509 *const *chain, size_t chain_len, struct tlsa_match *ret)
{
	struct tlsa_match m = { .status = TLSA_NO_CHAIN };
	struct tlsa_pin have;
	int e;

	snprintf(m.detail, sizeof(m.detail), "no certificate to match");
	for (size_t d = 0; d < chain_len; d++) {
		e = tlsa_pin_for_cert(chain[d], &have);
		if (e < 0)
			return e;
		for (size_t i = 0; i < n_pins; i++)
			if (memcmp(have.sha256, pins[i].sha256, SHA256_LEN) == 0) {
				m.status = TLSA_MATCH;
				m.record = i;
				m.depth = d;
				snprintf(m.detail, sizeof(m.detail), "pin %zu matches the key of %s",
					 i + 1, d == 0 ? "the leaf" : "a certificate of the chain");
				*ret = m;
				return 0;
			}
	}
	if (chain_len > 0) {
		m.status = TLSA_MISMATCH;
		snprintf(m.detail, sizeof(m.detail), "none of the %zu pins matches a key of the chain",
			 n_pins);
	}
	*ret = m;
	return 0;
}
