/*
 * tlsa.h - DANE TLSA records (RFC 6698) and SPKI pins (RFC 7469's
 * pin-sha256) as plain data, and whether a certificate chain matches them
 * the way an SMTP client that validates DANE decides it (RFC 7671, with
 * RFC 7672's rules for SMTP).
 *
 * Pure: no I/O, no clock (the caller passes the time), nothing printed.
 * Chains are arrays of OpenSSL certificates, the leaf first, then the
 * others in the order the server presents them (or the file holds them).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "util.h"

enum tlsa_usage {
	TLSA_USAGE_PKIX_TA = 0,   /* unusable for SMTP (RFC 7672) */
	TLSA_USAGE_PKIX_EE = 1,   /* unusable for SMTP (RFC 7672) */
	TLSA_USAGE_DANE_TA = 2,   /* a trust anchor above the leaf */
	TLSA_USAGE_DANE_EE = 3,   /* the leaf itself; no name or date checks */
};

enum tlsa_selector {
	TLSA_SELECTOR_CERT = 0,   /* the whole DER certificate */
	TLSA_SELECTOR_SPKI = 1,   /* its DER SubjectPublicKeyInfo */
};

enum tlsa_mtype {
	TLSA_MTYPE_EXACT  = 0,    /* the selected bytes themselves */
	TLSA_MTYPE_SHA256 = 1,
	TLSA_MTYPE_SHA512 = 2,
};

/* A TLSA record's data is its RDATA less the three one-byte fields. */
#define TLSA_MAX_DATA (65535 - 3)

struct tlsa_record {
	uint8_t usage, selector, mtype;
	size_t len;
	uint8_t *data;            /* len bytes, owned */
};

/* Why a record is or is not used, by RFC 7671 and RFC 7672. */
enum tlsa_class {
	TLSA_USABLE,
	TLSA_UNUSABLE_PKIX,       /* usage 0 or 1: SMTP clients ignore them */
	TLSA_UNUSABLE_UNKNOWN,    /* an unknown usage, selector or matching type */
	TLSA_UNUSABLE_LENGTH,     /* a digest of the wrong length never matches */
	_TLSA_CLASS_MAX,
};

/*
 * Parses the presentation form "USAGE SELECTOR MTYPE HEX", as in a zone
 * file: the hex digits (either case) may be split by blanks and the whole
 * wrapped in parentheses.  A SHA-256 or SHA-512 datum must have its
 * digest's length.  Returns 0, or -EINVAL with a message in err.
 */
int tlsa_record_parse(const char *text, struct tlsa_record *ret, char *err, size_t errlen);

/*
 * Takes a record from its wire RDATA.  Returns 0, or -EBADMSG when it is
 * shorter than the three fields and one byte of data or longer than an
 * RDATA can be, or -ENOMEM.
 */
int tlsa_record_from_rdata(const uint8_t *rdata, size_t len, struct tlsa_record *ret);

/*
 * The record of that usage, selector and matching type that matches x
 * (for a known selector and matching type).  Returns 0, -EINVAL or -ENOMEM.
 */
int tlsa_record_for_cert(X509 *x, uint8_t usage, uint8_t selector, uint8_t mtype,
			 struct tlsa_record *ret);

/* "3 1 1 <lowercase hex>", allocated.  Returns 0 or -ENOMEM. */
int tlsa_record_to_text(const struct tlsa_record *r, char **ret);

bool tlsa_record_equal(const struct tlsa_record *a, const struct tlsa_record *b);
enum tlsa_class tlsa_record_class(const struct tlsa_record *r);
const char *tlsa_class_to_string(enum tlsa_class c);

void tlsa_record_done(struct tlsa_record *r);
/* Frees n records and the array; NULL is fine. */
void tlsa_records_free(struct tlsa_record *r, size_t n);

/*
 * The owner name of the TLSA records of a TCP service: "_PORT._tcp.NAME."
 * with exactly one final dot.  Returns 0, or -EINVAL when name is empty,
 * has an empty label or is too long for DNS.
 */
#define TLSA_OWNER_MAX 272
int tlsa_owner(const char *name, uint16_t port, char out[TLSA_OWNER_MAX]);

/*
 * The zone-file line "OWNER IN TLSA U 1 1 <hex>" of the SHA-256 of x's key.
 * With usage 3 for the leaf and 2 for its issuer these are the records
 * people publish ("current + next" for a key rollover).
 */
#define TLSA_LINE_MAX (TLSA_OWNER_MAX + 16 + 2 * SHA256_LEN)
int tlsa_line_spki_sha256(const char *owner, uint8_t usage, X509 *x, char out[TLSA_LINE_MAX]);

enum tlsa_match_status {
	TLSA_MATCH,               /* a usable record matches the chain */
	TLSA_MISMATCH,            /* usable records, none of which matches */
	TLSA_NONE_USABLE,         /* records, but none that SMTP clients use */
	TLSA_NO_CHAIN,            /* no certificate was given */
	_TLSA_MATCH_STATUS_MAX,
};

struct tlsa_match {
	enum tlsa_match_status status;
	size_t record;            /* TLSA_MATCH: the record (or pin) that matched */
	size_t depth;             /* TLSA_MATCH: the certificate it matched, 0 the leaf;
				     chain_len when a "2 x 0" record's own key signs the chain */
	char detail[512];         /* what matched, or why nothing did */
};

/*
 * Matches a chain against an RRset by RFC 7671: DANE-EE(3) against the
 * leaf only, with no name or date checks; DANE-TA(2) against a certificate
 * above the leaf, or with a "2 0 0" / "2 1 0" record, the key it carries
 * signing the top of the chain; the path from the leaf up to that anchor
 * must then hold (each certificate issued and signed by the next, each
 * valid at now, and the leaf must cover name, when name is not NULL).
 * PKIX-TA(0) and PKIX-EE(1) records and records with unknown parameters
 * are skipped, and counted in detail.  Returns 0 or -ENOMEM.
 */
int tlsa_match_chain(const struct tlsa_record *recs, size_t n_recs,
		     X509 *const *chain, size_t chain_len,
		     const char *name, time_t now, struct tlsa_match *ret);

/* A pin: the SHA-256 of a DER SubjectPublicKeyInfo (RFC 7469). */
struct tlsa_pin {
	uint8_t sha256[SHA256_LEN];
};

#define TLSA_PIN_TEXT_LEN 45      /* 44 base64 characters and a NUL */

/* Parses the base64 form strictly.  Returns 0, or -EINVAL with a message in err. */
int tlsa_pin_parse(const char *text, struct tlsa_pin *ret, char *err, size_t errlen);
int tlsa_pin_for_cert(X509 *x, struct tlsa_pin *ret);
void tlsa_pin_to_text(const struct tlsa_pin *p, char out[TLSA_PIN_TEXT_LEN]);

/*
 * Pins match as RFC 7469 has them: the key of any certificate of the chain
 * (the leaf's, or a CA's to accept any key that CA certifies).  Sets
 * TLSA_MATCH, TLSA_MISMATCH, or TLSA_NO_CHAIN.  Returns 0 or -ENOMEM.
 */
int tlsa_match_pins(const struct tlsa_pin *pins, size_t n_pins,
		    X509 *const *chain, size_t chain_len, struct tlsa_match *ret);

const char *tlsa_match_status_to_string(enum tlsa_match_status s);
