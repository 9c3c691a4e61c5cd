/*
 * dane.h - DNSSEC-validated look-ups of TLSA records, on an sd-event loop.
 *
 * A dane_resolver is a libunbound context that validates from a trust
 * anchor file and sends its queries to a resolver (the system's, from
 * /etc/resolv.conf, or a given address).  A look-up of "_PORT._tcp.NAME"
 * ends in exactly one call of its done callback, from the loop, never from
 * inside dane_lookup_start(), with one of five results: secure records,
 * secure proof that there are none, insecure (no DNSSEC: DANE cannot
 * apply), bogus (validation failed), or failed (no usable answer, with the
 * reason).  Nothing here prints; messages go into the answer or the
 * caller's buffer.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "tlsa.h"

#define DANE_DEFAULT_TRUST_ANCHOR "/usr/share/dns/root.key"
#define DANE_DEFAULT_TIMEOUT_USEC (10 * USEC_PER_SEC)
#define DANE_MAX_RECORDS 64       /* records kept of one RRset */

enum dane_status {
	DANE_SECURE,          /* validated records */
	DANE_SECURE_NONE,     /* validated proof that there are none (NXDOMAIN or NODATA) */
	DANE_INSECURE,        /* provably unsigned, or outside every trust anchor */
	DANE_BOGUS,           /* DNSSEC validation failed: an alarm in itself */
	DANE_FAILED,          /* no usable answer: timeout, SERVFAIL, a local error */
	_DANE_STATUS_MAX,
};

struct dane_answer {
	enum dane_status status;
	char owner[TLSA_OWNER_MAX];   /* "_25._tcp.mx.example.com." */
	struct tlsa_record *records;  /* DANE_SECURE, and DANE_INSECURE when the zone has some */
	size_t n_records;
	size_t n_malformed;           /* RDATA too short to be a record, dropped */
	size_t n_dropped;             /* records past DANE_MAX_RECORDS, dropped */
	uint32_t ttl;                 /* seconds, as the resolver gave it; 0 on failure */
	char reason[512];             /* why not secure (unbound's own words), or "" */
};

struct dane_options {
	const char *trust_anchor;     /* NULL: DANE_DEFAULT_TRUST_ANCHOR */
	const char *resolver;         /* NULL: the nameservers of /etc/resolv.conf;
					 else "ADDRESS" or "ADDRESS@PORT" */
	uint64_t timeout_usec;        /* per look-up; 0: DANE_DEFAULT_TIMEOUT_USEC */
};

struct dane_resolver;
struct dane_lookup;

/*
 * The callee owns the answer: it keeps it (and later calls
 * dane_answer_done()) or calls dane_answer_done() now.  done must not free
 * the resolver; it may start and cancel look-ups.
 */
typedef void (*dane_done_t)(struct dane_answer *a, void *userdata);

/*
 * A resolver reporting through sources of its own on event.  Reads the
 * trust anchor file and, without options->resolver, /etc/resolv.conf now.
 * Returns 0, or a negative errno with a message in err naming the file or
 * setting and what to do.
 */
int dane_resolver_new(sd_event *event, const struct dane_options *options,
		      struct dane_resolver **ret, char *err, size_t errlen);

/*
 * Starts the look-up of the TLSA records of _PORT._tcp.NAME.  Returns 0
 * (and *ret, when ret is not NULL, valid until done runs), or -EINVAL for a
 * name that cannot be a host name, or another negative errno; done is then
 * never called and dane_resolver_error() says why.
 */
int dane_lookup_start(struct dane_resolver *r, const char *name, uint16_t port,
		      dane_done_t done, void *userdata, struct dane_lookup **ret);

/* done will not be called; l is gone.  Only before done runs.  NULL is fine. */
void dane_lookup_cancel(struct dane_lookup *l);

/* Look-ups started whose done has not run yet. */
unsigned dane_resolver_pending(const struct dane_resolver *r);

/* The message of the last failed dane_lookup_start(). */
const char *dane_resolver_error(const struct dane_resolver *r);

/* Cancels every look-up (no done is called) and frees; NULL is fine. */
void dane_resolver_free(struct dane_resolver *r);

void dane_answer_done(struct dane_answer *a);
const char *dane_status_to_string(enum dane_status s);   /* "secure", "bogus", ... */

/*
 * Whether two answers carry the same records, in any order (what the
 * daemon watches to know when an RRset changed).
 */
bool dane_answer_same_records(const struct dane_answer *a, const struct dane_answer *b);
