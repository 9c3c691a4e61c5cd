/*
 * reconcile.h - the decision table (doc/design.md): observed facts in, a verdict out.
 * No I/O and no clock: the caller passes the time, so every row of the
 * table is unit-tested without a network.
 */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "policy.h"
#include "probe.h"
#include "x509.h"

enum severity {
	SEVERITY_OK,
	SEVERITY_WARNING,
	SEVERITY_CRITICAL,
	SEVERITY_UNKNOWN,
	_SEVERITY_MAX,
};

/*
 * PENDING is the zero value on purpose: a verdict not made yet (an
 * endpoint the daemon has not judged since it started or re-read its
 * configuration) is never taken for OK, whoever reads a zeroed one.
 */
/* What an endpoint not judged yet says instead of a reason. */
#define VERDICT_PENDING_REASON \
	"not checked yet since the daemon started or re-read its configuration"

enum verdict_state {
	STATE_PENDING,          /* not judged yet: nothing is known of it */
	STATE_OK,               /* served = disk, plenty of lifetime */
	STATE_STALE,            /* a valid renewal on disk is not served: reload */
	STATE_DISK_INVALID,     /* what is on disk must not be loaded */
	STATE_OLDER_ON_DISK,    /* disk expires before the served one: no downgrade */
	STATE_RENEWAL_OVERDUE,  /* served = disk and little lifetime left */
	STATE_EXPIRED,          /* the served certificate has expired */
	STATE_SERVED_INVALID,   /* served: not yet valid, or not for the endpoint's name */
	STATE_UNREACHABLE,      /* no certificate could be fetched */
	STATE_DANE_HOLD,        /* the renewal on disk would break DANE or a pin: reload held */
	STATE_DANE_MISMATCH,    /* the served chain matches no TLSA record or pin */
	_STATE_MAX,
};

enum verdict_action {
	ACTION_NONE,
	ACTION_RELOAD,
	_ACTION_MAX,
};

struct thresholds {
	unsigned warn_days;     /* warn below min(warn_days, lifetime / 3) */
	unsigned crit_days;     /* critical below min(crit_days, lifetime / 6) */
	bool allow_downgrade;
};

struct verdict {
	enum verdict_state state;
	enum verdict_action action;
	enum severity severity;
	bool in_sync;           /* the endpoint serves the leaf on disk, and its chain */
	bool same_leaf;         /* the endpoint serves the leaf on disk (maybe not its chain) */
	/*
	 * The pair on disk must not be loaded, so no reload of the service
	 * may happen while it is so: it is not valid, and it is not the
	 * certificate served already in a form the daemon loads all the same
	 * (a reload would change nothing for this endpoint then); or its
	 * chain leads to no trusted root where the served one does.  Set
	 * whatever the probe found: an unreachable endpoint's pair is loaded
	 * too.
	 */
	bool vetoes_reload;
	/*
	 * The reload this verdict wanted waits for DANE records or pins
	 * (reconcile_dane()); look again after recheck_usec, when the
	 * records may have changed (0: no opinion).
	 */
	bool dane_held;
	uint64_t recheck_usec;
	char *reason;           /* msg.h, cut at VERDICT_REASON_MAX; see verdict_done() */
};

#define VERDICT_REASON_MAX 1024

/* Frees the verdict's reason and zeroes it: where a verdict's life ends. */
void verdict_done(struct verdict *v);

/*
 * Whether a renewal the endpoint saw on disk is one a reload must load:
 * not when its verdict holds it back for DANE records or pins, nor when it
 * refuses to serve it because it would downgrade what is served
 * (OLDER-ON-DISK: no reload unless allow-downgrade, the decision table).
 */
static inline bool verdict_loads_renewal(const struct verdict *v)
{
	return !v->dane_held && v->state != STATE_OLDER_ON_DISK;
}

/*
 * served: the probe's result (any status).  disk: the configured pair, or
 * NULL when there is nothing to compare with (ad-hoc checks).  name: the
 * name the endpoint must present a certificate for, or NULL.  *ret is
 * zeroed or a verdict made before, which this one replaces (its reason
 * freed).
 */
void reconcile(const struct probe_result *served, const struct disk_pair *disk,
	       const char *name, const struct thresholds *th, time_t now,
	       struct verdict *ret);

/*
 * Folds the judgement of the endpoint's TLSA records and pins (dane_judge())
 * into its verdict: a reload they hold is no reload (DANE-HOLD), a served
 * chain they reject is CRITICAL and not in sync (DANE-MISMATCH), and any
 * other say of theirs raises the severity and joins the reason.
 */
struct dane_verdict;
void reconcile_dane(struct verdict *v, const struct dane_verdict *d);

/*
 * Folds one endpoint's verdict into the facts its service's policy decides
 * on; start from RECONCILE_FACTS_INIT.  The first endpoint whose verdict
 * vetoes a reload is the facts' veto_index, in the order they are added.  now: the time the verdict was made.
 * target: during a verification, the SHA-256 of the leaf the reload was
 * for (the disk's when it started), which counts as served as well as the
 * disk's own, so that files renewed meanwhile do not fail a reload that
 * worked; NULL otherwise.  A verdict not made yet (PENDING) adds only that
 * the service is not known to be served: its probe result is no result.
 */
#define RECONCILE_FACTS_INIT \
	((struct policy_facts) { .all_served = true, .critical_in_usec = UINT64_MAX })
void reconcile_facts_add(struct policy_facts *f, const struct verdict *v,
			 const struct probe_result *served, const struct thresholds *th,
			 time_t now, const uint8_t *target);

/* The warning and critical thresholds, in seconds, for a certificate. */
void thresholds_for(const struct thresholds *th, const struct cert_info *ci,
		    long long *ret_warn_sec, long long *ret_crit_sec);

/*
 * The worse of two severities, when many are summed up in one: a problem
 * known outranks one not known yet, so UNKNOWN (what an endpoint not judged
 * yet is) ranks above OK and below WARNING, and hides no CRITICAL.
 */
enum severity severity_worse(enum severity a, enum severity b);

const char *severity_to_string(enum severity s);       /* "OK", "WARNING", ... */
const char *verdict_state_to_string(enum verdict_state s);  /* "STALE", ... */
const char *verdict_action_to_string(enum verdict_action a);
