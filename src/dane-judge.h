/*
 * dane-judge.h - what the DANE records of an endpoint and its pinned keys
 * say about a reload: the served chain and the chain on disk are each
 * judged against them, and the reload is held, let go, or left to the
 * rest of the decision table.  Pure: no I/O, no clock (the caller passes
 * the times), nothing printed.
 *
 * The rows, for records in force (a secure RRset with a usable record,
 * or pins), S the served chain and D the disk's:
 *
 *   S does not match              CRITICAL, whatever D says ("senders that
 *                                 validate DANE refuse this server"); the
 *                                 reload proceeds when D matches
 *   S matches, D does not         hold, WARNING; CRITICAL once S is within
 *                                 the critical threshold, and then the
 *                                 reload goes ahead only with override
 *   both match                    proceed, OK; but when the record D matches
 *                                 was first seen less than two TTLs ago,
 *                                 hold (WARNING) until caches have
 *                                 forgotten the old RRset, or S nears expiry
 *
 * and without records: secure proof of none or an unsigned zone is
 * nothing to act on (CRITICAL with mode yes); bogus is CRITICAL (senders
 * defer mail) and holds, since what the records say is unknown (near
 * expiry, override lets it go); a failed look-up is a WARNING, and with
 * mode yes holds like a mismatch.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "dane.h"
#include "reconcile.h"

enum dane_mode {
	DANE_MODE_AUTO,       /* SMTP endpoints, and any where records were seen */
	DANE_MODE_YES,        /* always; no secure records is an error */
	DANE_MODE_NO,
	_DANE_MODE_MAX,
};

enum dane_action {
	DANE_ACTION_NONE,     /* DANE and pins have no say: decide as without them */
	DANE_ACTION_HOLD,     /* do not reload now */
	DANE_ACTION_PROCEED,  /* the reload may go ahead; after it, verify the served
				 chain against the records too */
	_DANE_ACTION_MAX,
};

enum dane_side {
	DANE_SIDE_NOT_JUDGED, /* no records or pins in force */
	DANE_SIDE_MATCH,
	DANE_SIDE_MISMATCH,
	DANE_SIDE_UNKNOWN,    /* no chain to judge (no probe result, no valid pair) */
	_DANE_SIDE_MAX,
};

/*
 * Since when each record of an endpoint's RRset has been seen, kept by the
 * caller from one look-up to the next (and across restarts, if it likes),
 * so that a record published moments ago is not trusted before caches
 * elsewhere have let go of the RRset without it.
 */
struct dane_track {
	size_t n;
	struct {
		uint8_t sha256[SHA256_LEN];   /* of usage, selector, type and data */
		uint64_t since_usec;          /* CLOCK_REALTIME */
	} seen[DANE_MAX_RECORDS];
	uint32_t max_ttl;                     /* the largest TTL seen for the RRset */
};

/*
 * Takes in a look-up: a secure RRset updates the records seen (a record
 * new to the set is seen from now_usec); secure proof of none and an
 * unsigned zone forget them; a bogus or failed look-up changes nothing.
 * Returns 0 or -ENOMEM.
 */
int dane_track_update(struct dane_track *t, const struct dane_answer *a, uint64_t now_usec);

/* Whether an endpoint is looked up: always, never, or for auto when it speaks SMTP or had records. */
bool dane_wanted(enum dane_mode mode, uint16_t port, bool starttls_smtp, const struct dane_track *t);

struct dane_input {
	enum dane_mode mode;
	const struct dane_answer *answer;     /* the latest look-up; NULL: none yet */
	const struct dane_track *track;       /* updated with answer first; NULL: every record
						 counts as long published (so does one the
						 track does not know) */
	X509 *const *served;                  /* leaf first; n_served 0: unknown */
	size_t n_served;
	X509 *const *disk;                    /* the valid pair on disk; n_disk 0: none */
	size_t n_disk;
	const char *name;                     /* the TLSA base domain (for SMTP, the MX host) */
	uint16_t port;
	const struct tlsa_pin *pins;          /* pin-sha256 */
	size_t n_pins;
	bool served_critical;                 /* S is within the critical threshold */
	bool override;                        /* dane-override = yes */
	time_t now;                           /* for DANE-TA's date checks */
	uint64_t now_usec;                    /* CLOCK_REALTIME, the track's clock */
};

struct dane_verdict {
	enum dane_action action;
	enum severity severity;
	bool overridden;                      /* PROCEED only because of override */
	enum dane_side served, disk;          /* against the TLSA records */
	enum dane_side served_pins, disk_pins;
	uint64_t recheck_usec;                /* look the records up again after this long */
	/* What would match each chain: the 3 1 1 line, the 2 1 1 line ("" when unknown). */
	char served_records[2][TLSA_LINE_MAX];
	char disk_records[2][TLSA_LINE_MAX];
	char disk_pin[TLSA_PIN_TEXT_LEN];     /* the disk leaf's pin-sha256, "" when unknown */
	char reason[2048];
};

/*
 * Judges one endpoint.  Returns 0, -EINVAL when name cannot form an owner
 * name, or -ENOMEM; *ret is filled only on success.
 */
int dane_judge(const struct dane_input *in, struct dane_verdict *ret);

const char *dane_mode_to_string(enum dane_mode m);          /* "auto", "yes", "no" */
int dane_mode_from_string(const char *s);                   /* -1 when unknown */
const char *dane_action_to_string(enum dane_action a);      /* "none", "hold", "proceed" */
const char *dane_side_to_string(enum dane_side s);          /* "match", "mismatch", ... */
