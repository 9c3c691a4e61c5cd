/*
 * check.h - one pass over a set of endpoints: probe each (concurrently),
 * load what is on disk, apply the decision table.  Used by `certwatch
 * check` and, later, by every other command that needs a fresh view.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "check-dane.h"
#include "conf.h"
#include "probe.h"
#include "reconcile.h"
#include "x509.h"

struct check_item {
	const char *service;          /* "-" when ad hoc */
	const char *endpoint;
	struct probe_target target;   /* strings borrowed from conf or argv */
	enum key_type key_type;       /* as configured; check_item_aim() sets the target's */
	enum pair_format pair_format; /* the rules by which the daemon reads the files */
	const char *cert, *chain, *key;   /* cert NULL: nothing on disk to compare */
	struct thresholds th;
	struct probe_result probe;    /* owned */
	struct disk_pair disk;        /* owned; valid when cert != NULL */
	struct verdict verdict;
	struct check_dane *dane;      /* owned; NULL: neither DANE nor pins apply */
};

/*
 * Whether the item has a verdict: judged at least once since it was made.
 * Until then (a daemon's endpoint before its first pass ends) nothing of
 * it is known, whatever its zeroed verdict and probe result seem to say,
 * nor what a probe under way has found.
 */
static inline bool check_item_judged(const struct check_item *it)
{
	return it->verdict.state != STATE_PENDING;
}

/*
 * Makes one item per endpoint of every service, or of the service named
 * (NULL: all).  Returns 0, -ENOENT when there is no such service, -ENOMEM.
 */
int check_items_from_conf(const struct conf *c, const char *service,
			  struct check_item **ret_items, size_t *ret_n);

/*
 * Probes every item, at most max_in_flight at once (fewer when the limit
 * of open files says so: said once on stderr), on a few threads, looks up
 * the TLSA records of those that want them (through a resolver per thread
 * made with dane), loads the disk pairs and fills each verdict at time
 * now.  Then each item keeps the facts of the certificates, not the
 * certificates themselves (the chains' x509 are NULL).  Returns the worst
 * severity, or a negative errno when an event loop itself failed; a
 * resolver that cannot be made or a look-up that cannot start is said in
 * err (and those items are judged without records), which may be NULL.
 */
int check_items_run(struct check_item *items, size_t n, unsigned max_in_flight,
		    const struct dane_options *dane, time_t now, char *err, size_t errlen);

/*
 * One endpoint given on the command line (service and endpoint "-"), with
 * the probe deadline and thresholds of defaults.  The strings are borrowed.
 */
void check_item_adhoc(struct check_item *it, const struct conf *defaults, const char *host,
		      uint16_t port, int starttls, const char *sni, const char *cert,
		      const char *chain, const char *key);

/* "service/endpoint", or "host:port" ("[address]:port" for IPv6) when ad hoc. */
void check_item_name(const struct check_item *it, char *out, size_t outlen);

/* "host:port", or "[address]:port" for IPv6. */
void check_item_address(const struct check_item *it, char *out, size_t outlen);

/*
 * Sets the key type the next probe of the item asks for: the configured
 * one, or for auto the type of the certificate on disk (any when there is
 * none, or another type), asking again for any when the server refuses
 * that type.  Called before each probe: a renewal may change the type.
 */
void check_item_aim(struct check_item *it);

/*
 * Loads the item's disk pair (afresh) and applies the decision table to
 * it and the probe's result.  A pair that cannot be loaded at all (out of
 * memory) counts as unreadable: never a reason to reload.  A served
 * certificate whose facts were thinned (check_item_keep_verdict_facts())
 * is not judged again: the verdict stands until the next probe's result.
 */
void check_item_judge(struct check_item *it, time_t now);

/*
 * Lets go of the certificates of a judged item, keeping their facts (the
 * chains' x509 become NULL), and of the parsed pair kept for its files:
 * what is left of an item is its verdict and facts, so that memory does
 * not follow the number of endpoints.  Judging it again loads the pair
 * anew.  keep_pair: the parsed pair stays in the cache (x509-cache.c), for
 * the next pass to take unread while its files stand: a verification
 * polls the few endpoints a reload was for ten times a second, and reading
 * their pairs was a third of what it cost; check_item_forget_pair() lets
 * it go when the verification ends.
 */
void check_item_let_go(struct check_item *it, bool keep_pair);
void check_item_forget_pair(struct check_item *it);

/*
 * Lets go, beyond check_item_let_go(), of the facts only a report of the
 * item shows: the names of both leaves and the facts of every issuer.
 * What stays is what the daemon reads of an endpoint until its next
 * judgement (fingerprints, validity, key type, the messages, the
 * verdict): at 10,000 endpoints the rest was about 8 MB.  A `check`
 * report needs them all: only the daemon calls this.  What is left is not
 * enough to judge the served side again (check_item_judge()).
 */
void check_item_keep_verdict_facts(struct check_item *it);

/* The protocol column: "tls" for implicit TLS, else the STARTTLS driver. */
const char *check_item_protocol(const struct check_item *it);

void check_items_free(struct check_item *items, size_t n);
