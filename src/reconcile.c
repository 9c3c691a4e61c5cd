/*
 * reconcile.c - the decision table of doc/design.md.
 *
 * Input: what the endpoint serves (S), what is on disk (D), thresholds and
 * the time.  Output: a state, an action and a severity, with a reason an
 * administrator can act on.  Pure: no I/O, no clock; nothing allocated but
 * the reason (msg.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509_vfy.h>

#include "dane-judge.h"
#include "reconcile.h"
#include "util.h"

#define SEC_PER_DAY 86400LL

static const char *const severity_names[_SEVERITY_MAX] = {
	[SEVERITY_OK]       = "OK",
	[SEVERITY_WARNING]  = "WARNING",
	[SEVERITY_CRITICAL] = "CRITICAL",
	[SEVERITY_UNKNOWN]  = "UNKNOWN",
};

static const char *const state_names[_STATE_MAX] = {
	[STATE_PENDING]         = "PENDING",
	[STATE_OK]              = "OK",
	[STATE_STALE]           = "STALE",
	[STATE_DISK_INVALID]    = "DISK-INVALID",
	[STATE_OLDER_ON_DISK]   = "OLDER-ON-DISK",
	[STATE_RENEWAL_OVERDUE] = "RENEWAL-OVERDUE",
	[STATE_EXPIRED]         = "EXPIRED",
	[STATE_SERVED_INVALID]  = "SERVED-INVALID",
	[STATE_UNREACHABLE]     = "UNREACHABLE",
	[STATE_DANE_HOLD]       = "DANE-HOLD",
	[STATE_DANE_MISMATCH]   = "DANE-MISMATCH",
};

static const char *const action_names[_ACTION_MAX] = {
	[ACTION_NONE]   = "none",
	[ACTION_RELOAD] = "reload",
};

const char *severity_to_string(enum severity s)
{
	return (unsigned)s < _SEVERITY_MAX ? severity_names[s] : "?";
}

enum severity severity_worse(enum severity a, enum severity b)
{
	static const int rank[_SEVERITY_MAX] = {
		[SEVERITY_OK] = 0, [SEVERITY_UNKNOWN] = 1, [SEVERITY_WARNING] = 2,
		[SEVERITY_CRITICAL] = 3,
	};

	if ((unsigned)a >= _SEVERITY_MAX || (unsigned)b >= _SEVERITY_MAX)
		return SEVERITY_UNKNOWN;
	return rank[a] >= rank[b] ? a : b;
}

const char *verdict_state_to_string(enum verdict_state s)
{
	return (unsigned)s < _STATE_MAX ? state_names[s] : "?";
}

const char *verdict_action_to_string(enum verdict_action a)
{
	return (unsigned)a < _ACTION_MAX ? action_names[a] : "?";
}

/*
 * An ACME client renews when about a third of the lifetime is left, so less
 * than that means a missed renewal; for long-lived certificates the
 * configured days are the earlier alarm.  Critical at half that margin.
 */
void thresholds_for(const struct thresholds *th, const struct cert_info *ci,
		    long long *ret_warn_sec, long long *ret_crit_sec)
{
	long long lifetime = (long long)ci->not_after - (long long)ci->not_before;
	long long warn = (long long)th->warn_days * SEC_PER_DAY;
	long long crit = (long long)th->crit_days * SEC_PER_DAY;

	if (lifetime > 0) {
		if (lifetime / 3 < warn)
			warn = lifetime / 3;
		if (lifetime / 6 < crit)
			crit = lifetime / 6;
	}
	*ret_warn_sec = warn;
	*ret_crit_sec = crit;
}

static void format_when(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(out, outlen, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(out, outlen, "@%lld", (long long)t);
}

static void set(struct verdict *v, enum verdict_state st, enum verdict_action a,
		enum severity sev)
{
	v->state = st;
	v->action = a;
	v->severity = sev;
}

/* S = D, or nothing on disk to compare with: only S's lifetime matters. */
static void judge_lifetime(const struct cert_info *s, bool compared,
			   const struct thresholds *th, time_t now, struct verdict *v)
{
	long long left = (long long)s->not_after - (long long)now, warn, crit;
	char when[40];

	thresholds_for(th, s, &warn, &crit);
	format_when(s->not_after, when, sizeof(when));
	if (left <= 0) {
		set(v, STATE_EXPIRED, ACTION_NONE, SEVERITY_CRITICAL);
		msg_set(&v->reason, VERDICT_REASON_MAX,
			"the served certificate expired on %s%s", when,
			compared ? " and the file on disk is the same one: renewal is not happening" : "");
	} else if (left < warn) {
		set(v, STATE_RENEWAL_OVERDUE, ACTION_NONE,
		    left < crit ? SEVERITY_CRITICAL : SEVERITY_WARNING);
		msg_set(&v->reason, VERDICT_REASON_MAX,
			"the served certificate expires on %s (%.1f days left)%s", when,
			(double)left / SEC_PER_DAY,
			compared ? " and no renewal is on disk: check the ACME client" : "");
	} else {
		set(v, STATE_OK, ACTION_NONE, SEVERITY_OK);
		msg_set(&v->reason, VERDICT_REASON_MAX, "%s until %s (%.0f days left)",
			compared ? "served certificate is the one on disk, valid" : "valid",
			when, (double)left / SEC_PER_DAY);
	}
}

/*
 * What makes clients reject the served certificate before its expiry: a
 * notBefore in the future, or a name it does not cover.  Empty if neither.
 */
static void served_problem(const struct probe_result *served, const char *name, time_t now,
			   char *out, size_t outlen)
{
	char when[40];

	out[0] = '\0';
	if (served->leaf.not_before > now) {
		format_when(served->leaf.not_before, when, sizeof(when));
		snprintf(out, outlen, "the served certificate is not valid before %s", when);
	} else if (name && !served->name_covered)
		snprintf(out, outlen, "the served certificate does not cover %s", name);
}

/* See struct verdict's vetoes_reload. */
static bool pair_vetoes_reload(const struct probe_result *served, const struct disk_pair *disk)
{
	if (disk->status == X509_VALID)
		return false;
	if (!x509_status_loadable(disk->status))
		return true;
	return !(served->status == PROBE_OK && disk->have_leaf &&
		 cert_info_same(&disk->leaf, &served->leaf));
}

/* "a1b2c3d4e5f6, 0f1e2d3c4b5a" for the certificates after the leaf, or "none". */
static void chain_list(const struct cert_chain *c, char *out, size_t outlen)
{
	char fp[SHA256_SHORT_HEX_LEN];
	size_t o = 0;

	snprintf(out, outlen, "none");
	for (size_t i = 0; i < c->n_issuers && o + SHA256_SHORT_HEX_LEN + 2 < outlen; i++) {
		sha256_to_short_hex(c->issuers[i].sha256, fp);
		o += (size_t)snprintf(out + o, outlen - o, "%s%s", i ? ", " : "", fp);
	}
}

/*
 * The first certificate of the served chain that clients reject for its
 * dates ("" when none): an expired cross-certificate breaks clients that
 * do not look for another path, as the 2020 AddTrust expiry showed.
 */
static void chain_dates(const struct cert_chain *c, time_t now, char *out, size_t outlen)
{
	char when[40];

	out[0] = '\0';
	for (size_t i = 0; i < c->n_issuers; i++) {
		const struct cert_info *ci = &c->issuers[i];

		if (ci->not_after < now) {
			format_when(ci->not_after, when, sizeof(when));
			snprintf(out, outlen, "the served chain holds %.100s, expired on %s",
				 ci->subject ? ci->subject : "a certificate", when);
			return;
		}
		if (ci->not_before > now) {
			format_when(ci->not_before, when, sizeof(when));
			snprintf(out, outlen, "the served chain holds %.100s, not valid before %s",
				 ci->subject ? ci->subject : "a certificate", when);
			return;
		}
	}
}

/*
 * S = D, the leaf: the chain decides whether the endpoint serves what is
 * on disk.  A daemon sends the chain of its files as it is, so a chain on
 * disk that differs from the served one has not been loaded yet.  A leaf
 * alone on disk lets OpenSSL build a chain of its own from the server's
 * store, which is no difference, unless that one leads to no trusted root
 * while the files do (the caller has asked: disk_pair_trust()).
 */
static void judge_chain(const struct probe_result *served, const struct disk_pair *disk,
			time_t now, struct verdict *v)
{
	const struct cert_chain *sc = &served->chain, *dc = &disk->chain;
	bool differs = dc->n_issuers > 0 && !cert_chain_same_issuers(sc, dc);
	bool untrusted = !served->verified && disk->trust_checked && disk->trusted;
	bool date_rejected = served->verify_code == X509_V_ERR_CERT_HAS_EXPIRED ||
			     served->verify_code == X509_V_ERR_CERT_NOT_YET_VALID;
	char bad[200], slist[100], dlist[100];

	chain_dates(sc, now, bad, sizeof(bad));
	if (differs || untrusted) {
		v->in_sync = false;
		set(v, STATE_STALE, ACTION_RELOAD, severity_worse(v->severity,
			untrusted || date_rejected ? SEVERITY_CRITICAL : SEVERITY_WARNING));
		chain_list(sc, slist, sizeof(slist));
		chain_list(dc, dlist, sizeof(dlist));
		if (differs)
			msg_set(&v->reason, VERDICT_REASON_MAX, "the served leaf is the one on disk, but "
				"the chain on disk differs: reload pending (served after the leaf: %s; "
				"on disk: %s)%s%s", slist, dlist, bad[0] ? "; " : "", bad);
		else
			msg_set(&v->reason, VERDICT_REASON_MAX, "the served chain does not lead to a "
				"trusted root (%s) while the chain on disk does: reload pending%s%s",
				msg_text(served->verify_error), bad[0] ? "; " : "", bad);
		return;
	}
	if (bad[0]) {
		set(v, STATE_SERVED_INVALID, ACTION_NONE, severity_worse(v->severity,
			date_rejected ? SEVERITY_CRITICAL : SEVERITY_WARNING));
		msg_set(&v->reason, VERDICT_REASON_MAX, "%s; the chain on disk is the same: replace "
			"that certificate in it%s", bad, date_rejected ?
			" (clients that find no other path reject the chain)" : "");
	}
}

/*
 * Files that would replace a served chain that verifies with one that does
 * not (an intermediate expired, a root the host does not trust): clients
 * would reject what a reload serves, a pair as unusable as a broken one.
 * Only files with a chain of their own are asked (check.c): with a leaf
 * alone, the server may build a chain from its own store.
 */
static bool chain_breaks(const struct probe_result *served, const struct disk_pair *disk)
{
	return served->status == PROBE_OK && served->verified && disk->chain.n_issuers > 0 &&
	       disk->trust_checked && !disk->trusted;
}

/* The verdict on such files (chain_breaks()).  Returns whether they are. */
static bool disk_chain_breaks(const struct probe_result *served, const struct disk_pair *disk,
			      struct verdict *v)
{
	if (!chain_breaks(served, disk))
		return false;
	set(v, STATE_DISK_INVALID, ACTION_NONE, SEVERITY_CRITICAL);
	v->in_sync = false;
	msg_set(&v->reason, VERDICT_REASON_MAX, "the chain on disk does not lead to a trusted "
		"root (%s) while the served one does; no reload: clients would reject what it "
		"serves; fix the chain in the files", msg_text(disk->trust_error));
	return true;
}

/* The decision table's row for S and D. */
static void reconcile_pair(const struct probe_result *served, const struct disk_pair *disk,
			   const char *name, const struct thresholds *th, time_t now,
			   struct verdict *ret)
{
	const struct cert_info *s = &served->leaf;
	long long warn, crit, left;
	char sfp[SHA256_SHORT_HEX_LEN], dfp[SHA256_SHORT_HEX_LEN], swhen[40], dwhen[40], problem[200];

	verdict_done(ret);
	if (served->status != PROBE_OK) {
		set(ret, STATE_UNREACHABLE, ACTION_NONE, SEVERITY_CRITICAL);
		msg_set(&ret->reason, VERDICT_REASON_MAX, "%s", msg_text(served->detail));
		return;
	}
	served_problem(served, name, now, problem, sizeof(problem));
	if (!disk && problem[0]) {
		set(ret, STATE_SERVED_INVALID, ACTION_NONE, SEVERITY_CRITICAL);
		msg_set(&ret->reason, VERDICT_REASON_MAX, "%s", problem);
		return;
	}
	if (!disk) {
		judge_lifetime(s, false, th, now, ret);
		return;
	}
	if (disk->have_leaf && cert_info_same(&disk->leaf, s)) {
		judge_lifetime(s, true, th, now, ret);
		ret->in_sync = ret->same_leaf = true;
		/* Expiry says the most; a broken pair on disk comes next, then the chain. */
		if (ret->state != STATE_EXPIRED && disk->status != X509_VALID) {
			set(ret, STATE_DISK_INVALID, ACTION_NONE, SEVERITY_CRITICAL);
			msg_set(&ret->reason, VERDICT_REASON_MAX,
				"the served certificate is the one on disk, but the pair on disk "
				"is not usable: %s", msg_text(disk->detail));
		} else if (ret->state != STATE_EXPIRED && !disk_chain_breaks(served, disk, ret))
			judge_chain(served, disk, now, ret);
		return;
	}

	sha256_to_short_hex(s->sha256, sfp);
	thresholds_for(th, s, &warn, &crit);
	left = (long long)s->not_after - (long long)now;
	format_when(s->not_after, swhen, sizeof(swhen));
	if (disk->status != X509_VALID) {
		set(ret, STATE_DISK_INVALID, ACTION_NONE, SEVERITY_CRITICAL);
		msg_set(&ret->reason, VERDICT_REASON_MAX,
			"%s; no reload: the service keeps serving %s (expires %s)",
			msg_text(disk->detail), sfp, swhen);
		return;
	}
	if (disk_chain_breaks(served, disk, ret))
		return;

	sha256_to_short_hex(disk->leaf.sha256, dfp);
	format_when(disk->leaf.not_after, dwhen, sizeof(dwhen));
	/* A served certificate that clients reject is replaced even by a shorter-lived one. */
	if (disk->leaf.not_after < s->not_after && !th->allow_downgrade && !problem[0]) {
		set(ret, STATE_OLDER_ON_DISK, ACTION_NONE,
		    left < crit ? SEVERITY_CRITICAL : SEVERITY_WARNING);
		msg_set(&ret->reason, VERDICT_REASON_MAX,
			"the certificate on disk (%s, expires %s) expires before the served one "
			"(%s, expires %s); no reload, it would downgrade (allow-downgrade = true "
			"permits it)", dfp, dwhen, sfp, swhen);
		return;
	}
	set(ret, STATE_STALE, ACTION_RELOAD,
	    left < crit || problem[0] ? SEVERITY_CRITICAL : SEVERITY_WARNING);
	if (problem[0])
		msg_set(&ret->reason, VERDICT_REASON_MAX,
			"%s (%s), while the valid %s (expires %s) is on disk: reload pending", problem,
			sfp, dfp, dwhen);
	else if (left <= 0)
		msg_set(&ret->reason, VERDICT_REASON_MAX,
			"the service serves %s, which expired on %s, while %s (expires %s) is "
			"on disk: reload the service", sfp, swhen, dfp, dwhen);
	else
		msg_set(&ret->reason, VERDICT_REASON_MAX,
			"the service serves %s (expires %s, %.1f days left) while %s "
			"(expires %s) is on disk: reload pending", sfp, swhen,
			(double)left / SEC_PER_DAY, dfp, dwhen);
}

void verdict_done(struct verdict *v)
{
	free(v->reason);
	memset(v, 0, sizeof(*v));
}

void reconcile(const struct probe_result *served, const struct disk_pair *disk,
	       const char *name, const struct thresholds *th, time_t now,
	       struct verdict *ret)
{
	reconcile_pair(served, disk, name, th, now, ret);
	ret->vetoes_reload = disk && (pair_vetoes_reload(served, disk) || chain_breaks(served, disk));
}

void reconcile_dane(struct verdict *v, const struct dane_verdict *d)
{
	bool refused = d->served == DANE_SIDE_MISMATCH || d->served_pins == DANE_SIDE_MISMATCH;
	bool held = d->action == DANE_ACTION_HOLD && v->action == ACTION_RELOAD;

	v->severity = severity_worse(v->severity, d->severity);
	if (!refused && !held) {
		if (d->severity > SEVERITY_OK && d->reason[0])
			msg_append(&v->reason, VERDICT_REASON_MAX, "; %s", d->reason);
		return;
	}
	if (held) {
		v->state = STATE_DANE_HOLD;
		v->action = ACTION_NONE;
		v->dane_held = true;
		v->recheck_usec = d->recheck_usec;
	}
	/* Whatever the disk holds, and even when it is what is served: not in sync. */
	if (refused) {
		v->state = STATE_DANE_MISMATCH;
		v->in_sync = false;
	}
	/* What was said is kept inside: msg_set() reads the old reason before freeing it. */
	msg_set(&v->reason, VERDICT_REASON_MAX, "%s (%s)", d->reason, msg_text(v->reason));
}

void reconcile_facts_add(struct policy_facts *f, const struct verdict *v,
			 const struct probe_result *served, const struct thresholds *th,
			 time_t now, const uint8_t *target)
{
	long long warn, crit, until;
	/* The leaf on disk is served: whether its chain is too, in_sync says. */
	bool on_target = target && served->status == PROBE_OK && !v->same_leaf &&
		memcmp(served->leaf.sha256, target, sizeof(served->leaf.sha256)) == 0;

	if (v->state == STATE_PENDING) {
		/* Not judged (its probe could not start): not served, and nothing else known. */
		f->n_added++;
		f->all_served = false;
		return;
	}
	if (v->action == ACTION_RELOAD)
		f->reload_wanted = true;
	if (v->vetoes_reload && !f->vetoed) {
		f->vetoed = true;
		f->veto_index = f->n_added;
	}
	f->n_added++;
	if (v->dane_held && v->recheck_usec &&
	    (!f->recheck_in_usec || v->recheck_usec < f->recheck_in_usec))
		f->recheck_in_usec = v->recheck_usec;
	if (!v->in_sync && !on_target)
		f->all_served = false;
	if (served->status != PROBE_OK)
		return;
	thresholds_for(th, &served->leaf, &warn, &crit);
	until = (long long)served->leaf.not_after - crit - (long long)now;
	if (until <= 0)
		f->critical_in_usec = 0;
	else if ((uint64_t)until * USEC_PER_SEC < f->critical_in_usec)
		f->critical_in_usec = (uint64_t)until * USEC_PER_SEC;
}
