/*
 * test-reconcile.c - every row of the decision table (doc/design.md), the
 * lifetime-relative thresholds, and the facts a service's policy decides
 * on, without a network or a clock.
 */
#include "config.h"

#include <string.h>

#include <openssl/x509_vfy.h>

#include "dane-judge.h"
#include "reconcile.h"
#include "tap.h"

#define DAY 86400
static const time_t NOW = 1800000000;   /* 2027-01-15 */

/* A certificate identified by one byte, valid from NOW+from to NOW+until days. */
static struct cert_info cert(uint8_t id, double from, double until)
{
	struct cert_info ci = {
		.not_before = NOW + (time_t)(from * DAY),
		.not_after = NOW + (time_t)(until * DAY),
	};

	memset(ci.sha256, id, sizeof(ci.sha256));
	memset(ci.spki_sha256, id, sizeof(ci.spki_sha256));
	return ci;
}

static struct probe_result served(struct cert_info ci)
{
	struct probe_result r = { .status = PROBE_OK, .phase = PROBE_PHASE_DONE, .leaf = ci,
				  .name_covered = true };

	return r;
}

/* The detail is borrowed (these pairs are never freed), NULL when "" as msg.h has it. */
static struct disk_pair disk(struct cert_info ci, enum x509_status st, const char *detail)
{
	struct disk_pair d = { .status = st, .have_leaf = true, .leaf = ci,
			       .detail = detail[0] ? (char *)detail : NULL };

	return d;
}

static const struct thresholds TH = { .warn_days = 21, .crit_days = 7 };

static void expect(const char *what, const struct probe_result *s, const struct disk_pair *d,
		   const struct thresholds *th, enum verdict_state st, enum verdict_action a,
		   enum severity sev, const char *reason_part)
{
	struct verdict v = { 0 };

	reconcile(s, d, "mail.example.com", th, NOW, &v);
	ok(v.state == st && v.action == a && v.severity == sev,
	   "%s: %s, %s, %s", what, verdict_state_to_string(st), verdict_action_to_string(a),
	   severity_to_string(sev));
	if (v.state != st || v.action != a || v.severity != sev)
		printf("#   got %s, %s, %s: %s\n", verdict_state_to_string(v.state),
		       verdict_action_to_string(v.action), severity_to_string(v.severity), v.reason);
	if (reason_part)
		like(v.reason, reason_part, "%s: the reason says \"%s\"", what, reason_part);
	verdict_done(&v);
}

static void served_equals_disk(void)
{
	struct probe_result s = served(cert(1, -30, 60));
	struct disk_pair d = disk(cert(1, -30, 60), X509_VALID, "");

	expect("S = D with 60 of 90 days left", &s, &d, &TH, STATE_OK, ACTION_NONE,
	       SEVERITY_OK, "60 days left");

	s = served(cert(1, -75, 15));
	d = disk(cert(1, -75, 15), X509_VALID, "");
	expect("S = D with 15 of 90 days left", &s, &d, &TH, STATE_RENEWAL_OVERDUE, ACTION_NONE,
	       SEVERITY_WARNING, "no renewal is on disk");

	s = served(cert(1, -85, 5));
	d = disk(cert(1, -85, 5), X509_VALID, "");
	expect("S = D with 5 of 90 days left", &s, &d, &TH, STATE_RENEWAL_OVERDUE, ACTION_NONE,
	       SEVERITY_CRITICAL, "5.0 days left");

	s = served(cert(1, -91, -1));
	d = disk(cert(1, -91, -1), X509_EXPIRED, "expired");
	expect("S = D, expired", &s, &d, &TH, STATE_EXPIRED, ACTION_NONE, SEVERITY_CRITICAL,
	       "renewal is not happening");

	s = served(cert(1, -30, 60));
	d = disk(cert(1, -30, 60), X509_KEY_MISMATCH, "the key does not match");
	expect("S = D but the key on disk no longer matches", &s, &d, &TH, STATE_DISK_INVALID,
	       ACTION_NONE, SEVERITY_CRITICAL, "the key does not match");
}

static void lifetime_relative_thresholds(void)
{
	struct probe_result s;
	struct disk_pair d;

	/* A 6-day certificate: warn below 2 days, critical below 1. */
	s = served(cert(2, -3, 3));
	d = disk(cert(2, -3, 3), X509_VALID, "");
	expect("6-day certificate with 3 days left", &s, &d, &TH, STATE_OK, ACTION_NONE,
	       SEVERITY_OK, NULL);
	s = served(cert(2, -4.5, 1.5));
	d = disk(cert(2, -4.5, 1.5), X509_VALID, "");
	expect("6-day certificate with 1.5 days left", &s, &d, &TH, STATE_RENEWAL_OVERDUE,
	       ACTION_NONE, SEVERITY_WARNING, NULL);
	s = served(cert(2, -5.5, 0.5));
	d = disk(cert(2, -5.5, 0.5), X509_VALID, "");
	expect("6-day certificate with half a day left", &s, &d, &TH, STATE_RENEWAL_OVERDUE,
	       ACTION_NONE, SEVERITY_CRITICAL, NULL);

	/* A 47-day certificate: warn below 15.7 days (a third), not 21. */
	s = served(cert(3, -30, 17));
	d = disk(cert(3, -30, 17), X509_VALID, "");
	expect("47-day certificate with 17 days left", &s, &d, &TH, STATE_OK, ACTION_NONE,
	       SEVERITY_OK, NULL);
	s = served(cert(3, -32, 15));
	d = disk(cert(3, -32, 15), X509_VALID, "");
	expect("47-day certificate with 15 days left", &s, &d, &TH, STATE_RENEWAL_OVERDUE,
	       ACTION_NONE, SEVERITY_WARNING, NULL);

	/* A 90-day certificate: the configured 21 days come before a third (30). */
	s = served(cert(4, -65, 25));
	d = disk(cert(4, -65, 25), X509_VALID, "");
	expect("90-day certificate with 25 days left", &s, &d, &TH, STATE_OK, ACTION_NONE,
	       SEVERITY_OK, NULL);
}

static void renewed_on_disk(void)
{
	struct probe_result s = served(cert(1, -60, 30));
	struct disk_pair d = disk(cert(2, -1, 89), X509_VALID, "");
	struct thresholds allow = TH;

	expect("S != D, D valid and newer", &s, &d, &TH, STATE_STALE, ACTION_RELOAD,
	       SEVERITY_WARNING, "reload pending");

	s = served(cert(1, -85, 5));
	expect("S != D, S within the critical threshold", &s, &d, &TH, STATE_STALE, ACTION_RELOAD,
	       SEVERITY_CRITICAL, "5.0 days left");

	s = served(cert(1, -92, -2));
	expect("S != D, S already expired", &s, &d, &TH, STATE_STALE, ACTION_RELOAD,
	       SEVERITY_CRITICAL, "which expired on");

	s = served(cert(1, -10, 80));
	d = disk(cert(2, -20, 70), X509_VALID, "");
	expect("S != D, D expires before S", &s, &d, &TH, STATE_OLDER_ON_DISK, ACTION_NONE,
	       SEVERITY_WARNING, "would downgrade");
	allow.allow_downgrade = true;
	expect("S != D, D expires before S, downgrade allowed", &s, &d, &allow, STATE_STALE,
	       ACTION_RELOAD, SEVERITY_WARNING, NULL);
}

static void invalid_on_disk(void)
{
	static const struct {
		enum x509_status st;
		bool have_leaf;
		const char *detail;
	} rows[] = {
		{ X509_MISSING,       false, "certificate file /x/cert.pem does not exist" },
		{ X509_UNREADABLE,    false, "cannot read /x/cert.pem: Permission denied" },
		{ X509_NOT_PEM,       false, "/x/cert.pem is not PEM" },
		{ X509_NO_CERT,       false, "/x/cert.pem holds no certificate" },
		{ X509_BAD_KEY,       true,  "/x/key.pem holds no private key" },
		{ X509_KEY_MISMATCH,  true,  "the key does not match the certificate" },
		{ X509_CHAIN_ORDER,   true,  "certificate 2 is not issued by certificate 3" },
		{ X509_EXPIRED,       true,  "expired on 2026-01-02" },
		{ X509_NOT_YET_VALID, true,  "not valid before 2027-02-01" },
		{ X509_NAME_MISMATCH, true,  "does not cover mail.example.com" },
	};
	struct probe_result s = served(cert(1, -60, 30));

	for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
		struct disk_pair d = disk(cert(2, -1, 89), rows[i].st, rows[i].detail);
		char what[96];

		d.have_leaf = rows[i].have_leaf;
		snprintf(what, sizeof(what), "S != D, D %s", x509_status_to_string(rows[i].st));
		expect(what, &s, &d, &TH, STATE_DISK_INVALID, ACTION_NONE, SEVERITY_CRITICAL,
		       rows[i].detail);
	}
}

static void unreachable(void)
{
	static const enum probe_status failures[] = {
		PROBE_RESOLVE_FAILED, PROBE_CONNECT_REFUSED, PROBE_CONNECT_FAILED, PROBE_TIMEOUT,
		PROBE_STARTTLS_REFUSED, PROBE_PROTOCOL_ERROR, PROBE_TLS_ALERT, PROBE_TLS_FAILED,
		PROBE_NO_CERT,
	};
	struct disk_pair d = disk(cert(2, -1, 89), X509_VALID, "");

	for (size_t i = 0; i < ELEMENTSOF(failures); i++) {
		struct probe_result s = { .status = failures[i] };
		char what[96];

		msg_set(&s.detail, PROBE_DETAIL_MAX, "probe failed: %s",
			probe_status_to_string(failures[i]));
		snprintf(what, sizeof(what), "probe %s", probe_status_to_string(failures[i]));
		expect(what, &s, &d, &TH, STATE_UNREACHABLE, ACTION_NONE, SEVERITY_CRITICAL,
		       s.detail);
		probe_result_done(&s);
	}
}

static void nothing_on_disk(void)
{
	struct probe_result s = served(cert(1, -30, 60));

	expect("ad hoc, no disk, 60 days left", &s, NULL, &TH, STATE_OK, ACTION_NONE,
	       SEVERITY_OK, NULL);
	s = served(cert(1, -80, 10));
	expect("ad hoc, no disk, 10 days left", &s, NULL, &TH, STATE_RENEWAL_OVERDUE,
	       ACTION_NONE, SEVERITY_WARNING, NULL);
	s = served(cert(1, -91, -1));
	expect("ad hoc, no disk, expired", &s, NULL, &TH, STATE_EXPIRED, ACTION_NONE,
	       SEVERITY_CRITICAL, NULL);
}

static void served_but_rejected_by_clients(void)
{
	struct probe_result s = served(cert(1, -30, 60));
	struct disk_pair d = disk(cert(2, -1, 89), X509_VALID, "");
	struct disk_pair shorter = disk(cert(2, -60, 30), X509_VALID, "");

	s.name_covered = false;
	expect("ad hoc, served certificate for another name", &s, NULL, &TH, STATE_SERVED_INVALID,
	       ACTION_NONE, SEVERITY_CRITICAL, "does not cover mail.example.com");
	expect("S != D, S for another name, D valid", &s, &d, &TH, STATE_STALE, ACTION_RELOAD,
	       SEVERITY_CRITICAL, "does not cover mail.example.com");
	expect("S != D, S for another name, D valid but shorter-lived", &s, &shorter, &TH,
	       STATE_STALE, ACTION_RELOAD, SEVERITY_CRITICAL, "reload pending");

	s = served(cert(1, 2, 92));
	expect("ad hoc, served certificate not yet valid", &s, NULL, &TH, STATE_SERVED_INVALID,
	       ACTION_NONE, SEVERITY_CRITICAL, "not valid before");
}

/* The facts of a service are the sum of its endpoints' verdicts. */
static void facts_of_a_service(void)
{
	struct probe_result same = served(cert(1, -60, 30)), old = served(cert(1, -60, 30));
	struct probe_result down = { .status = PROBE_TIMEOUT };
	struct disk_pair d_same = disk(cert(1, -60, 30), X509_VALID, "");
	struct disk_pair d_new = disk(cert(2, -1, 89), X509_VALID, "");
	struct policy_facts f;
	struct verdict v = { 0 };

	f = RECONCILE_FACTS_INIT;
	reconcile(&same, &d_same, "mail.example.com", &TH, NOW, &v);
	reconcile_facts_add(&f, &v, &same, &TH, NOW, NULL);
	ok(v.in_sync && f.all_served && !f.reload_wanted,
	   "facts: an endpoint that serves what is on disk is served, nothing to reload");
	/* 30 days left, critical at min(7 d, 90 d / 6 = 15 d) = 7 d before expiry */
	ok(f.critical_in_usec == (uint64_t)(23 * DAY) * 1000000,
	   "facts: it turns critical in 23 days (7 days before its expiry)");

	reconcile(&old, &d_new, "mail.example.com", &TH, NOW, &v);
	reconcile_facts_add(&f, &v, &old, &TH, NOW, NULL);
	ok(!v.in_sync && !f.all_served && f.reload_wanted,
	   "facts: a second endpoint that is stale: not all served, a reload wanted");

	f = RECONCILE_FACTS_INIT;
	reconcile(&down, &d_same, "mail.example.com", &TH, NOW, &v);
	reconcile_facts_add(&f, &v, &down, &TH, NOW, NULL);
	ok(!f.all_served && !f.reload_wanted && f.critical_in_usec == UINT64_MAX,
	   "facts: an unreachable endpoint: not served, no reload, no known deadline");

	f = RECONCILE_FACTS_INIT;
	old = served(cert(1, -88, 2));
	reconcile(&old, &d_new, "mail.example.com", &TH, NOW, &v);
	reconcile_facts_add(&f, &v, &old, &TH, NOW, NULL);
	ok(f.critical_in_usec == 0, "facts: a served certificate already critical: critical now");

	/* verifying a reload for leaf 1 while leaf 2 arrived on disk meanwhile */
	f = RECONCILE_FACTS_INIT;
	old = served(cert(1, -60, 30));
	reconcile(&old, &d_new, "mail.example.com", &TH, NOW, &v);
	reconcile_facts_add(&f, &v, &old, &TH, NOW, old.leaf.sha256);
	ok(f.all_served && f.reload_wanted, "facts: serving what the reload was for counts as "
	   "served while verifying, and the newer file still wants a reload");
	verdict_done(&v);

	/* An endpoint whose probe could not start: its verdict and result are zeroed. */
	f = RECONCILE_FACTS_INIT;
	{
		struct probe_result none = { 0 };
		struct verdict never = { 0 };

		reconcile_facts_add(&f, &never, &none, &TH, NOW, NULL);
		ok(!f.all_served && !f.reload_wanted && !f.vetoed && f.n_added == 1,
		   "facts: an endpoint never judged is not served, and asks or holds back nothing");
		ok(f.critical_in_usec == UINT64_MAX,
		   "facts: its zeroed probe result is no certificate that turned critical in 1970");
	}
}

/*
 * A service is reloaded only when every pair it will load is valid: which
 * pairs veto a reload, and which endpoint the facts name.
 */
static void a_broken_sibling_vetoes_the_reload(void)
{
	struct probe_result a_old = served(cert(1, -60, 30)), b_served = served(cert(3, -60, 30));
	struct probe_result down = { .status = PROBE_TLS_FAILED };
	struct disk_pair a_new = disk(cert(2, -1, 89), X509_VALID, "");
	struct disk_pair b_half = disk(cert(4, -1, 89), X509_KEY_MISMATCH, "key file b.key "
				       "does not belong to the certificate");
	struct disk_pair b_same_expired = disk(cert(3, -60, 30), X509_EXPIRED, "expired");
	struct disk_pair b_other_expired = disk(cert(5, -90, -1), X509_EXPIRED, "expired");
	struct disk_pair b_missing = { .status = X509_MISSING };
	struct policy_facts f = RECONCILE_FACTS_INIT;
	struct verdict va = { 0 }, vb = { 0 };

	reconcile(&a_old, &a_new, "a.example.test", &TH, NOW, &va);
	reconcile(&b_served, &b_half, "b.example.test", &TH, NOW, &vb);
	ok(!va.vetoes_reload && va.action == ACTION_RELOAD && vb.vetoes_reload &&
	   vb.state == STATE_DISK_INVALID, "veto: a renewed, b's new certificate with its old key: "
	   "a wants a reload, b vetoes it");
	reconcile_facts_add(&f, &va, &a_old, &TH, NOW, NULL);
	reconcile_facts_add(&f, &vb, &b_served, &TH, NOW, NULL);
	ok(f.reload_wanted && f.vetoed && f.veto_index == 1 && f.n_added == 2,
	   "veto: the facts want a reload, are vetoed, and name the second endpoint");

	reconcile(&down, &b_half, "b.example.test", &TH, NOW, &vb);
	ok(vb.state == STATE_UNREACHABLE && vb.vetoes_reload,
	   "veto: an unreachable endpoint's broken pair vetoes all the same (it is loaded too)");
	reconcile(&b_served, &b_missing, "b.example.test", &TH, NOW, &vb);
	ok(vb.vetoes_reload, "veto: a missing file vetoes (the daemon cannot load it)");
	reconcile(&b_served, &b_same_expired, "b.example.test", &TH, NOW, &vb);
	ok(!vb.vetoes_reload, "veto: none from the expired certificate already served: a reload "
	   "changes nothing for it");
	reconcile(&b_served, &b_other_expired, "b.example.test", &TH, NOW, &vb);
	ok(vb.vetoes_reload, "veto: an expired certificate that is not served yet would replace "
	   "the served one");
	reconcile(&b_served, NULL, "b.example.test", &TH, NOW, &vb);
	ok(!vb.vetoes_reload, "veto: none without a pair on disk");

	f = RECONCILE_FACTS_INIT;
	reconcile(&b_served, &b_half, "b.example.test", &TH, NOW, &vb);
	reconcile_facts_add(&f, &vb, &b_served, &TH, NOW, NULL);
	reconcile_facts_add(&f, &va, &a_old, &TH, NOW, NULL);
	reconcile_facts_add(&f, &vb, &b_served, &TH, NOW, NULL);
	ok(f.vetoed && f.veto_index == 0 && f.n_added == 3,
	   "veto: the first endpoint that vetoes is the one named");
	verdict_done(&va);
	verdict_done(&vb);
}

/* A chain of certificates after a leaf, for the rows on chains. */
static struct cert_chain chain_of(struct cert_info *issuers, size_t n)
{
	return (struct cert_chain) { .issuers = issuers, .n_issuers = n };
}

/*
 * The same leaf served and on disk: the chain decides.  A chain on disk
 * that differs has not been loaded (STALE); a leaf alone on disk leaves
 * the server its own chain, unless that one leads nowhere while the files
 * do; an expired certificate in the served chain is said.
 */
static void chains(void)
{
	struct cert_info int_old = cert(10, -400, -5), int_new = cert(11, -30, 700);
	struct cert_info cross = cert(12, -900, -100), other = cert(13, -30, 700);
	struct cert_info s_old[2] = { int_old, cross }, s_new[1] = { int_new };
	struct cert_info s_other[1] = { other }, s_cross[2] = { int_new, cross };
	struct probe_result s = served(cert(1, -30, 60));
	struct disk_pair d = disk(cert(1, -30, 60), X509_VALID, "");
	struct policy_facts f;
	struct verdict v = { 0 };

	s.chain = chain_of(s_new, 1);
	d.chain = chain_of(s_new, 1);
	expect("same leaf, same chain", &s, &d, &TH, STATE_OK, ACTION_NONE, SEVERITY_OK,
	       "valid until");

	s.chain = chain_of(s_old, 2);
	expect("same leaf, the chain on disk fixed", &s, &d, &TH, STATE_STALE, ACTION_RELOAD,
	       SEVERITY_WARNING, "the chain on disk differs: reload pending");
	reconcile(&s, &d, "mail.example.com", &TH, NOW, &v);
	ok(!v.in_sync && v.same_leaf, "same leaf, another chain: the leaf is served, the pair is not");
	like(v.reason, "expired on", "same leaf, another chain: the served chain's expired "
	     "certificate is said");
	s.verify_code = X509_V_ERR_CERT_HAS_EXPIRED;
	expect("same leaf, the chain on disk fixed, the served one rejected for its dates", &s, &d,
	       &TH, STATE_STALE, ACTION_RELOAD, SEVERITY_CRITICAL, "reload pending");
	s.verify_code = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;

	s.chain = chain_of(s_cross, 2);
	d.chain = chain_of(s_cross, 2);
	expect("same leaf, same chain, an expired cross-certificate in it", &s, &d, &TH,
	       STATE_SERVED_INVALID, ACTION_NONE, SEVERITY_WARNING, "the chain on disk is the same");

	s.chain = chain_of(s_other, 1);
	d.chain = chain_of(NULL, 0);
	expect("a leaf alone on disk, the server's own chain served", &s, &d, &TH, STATE_OK,
	       ACTION_NONE, SEVERITY_OK, NULL);
	d.trust_checked = d.trusted = true;
	expect("a leaf alone on disk that is trusted, a served chain that is not", &s, &d, &TH,
	       STATE_STALE, ACTION_RELOAD, SEVERITY_CRITICAL, "does not lead to a trusted root");
	s.verified = true;
	expect("a leaf alone on disk, a served chain that verifies", &s, &d, &TH, STATE_OK,
	       ACTION_NONE, SEVERITY_OK, NULL);

	/* Verifying a reload made for the chain: the leaf alone does not verify it. */
	s = served(cert(1, -30, 60));
	s.chain = chain_of(s_old, 2);
	d = disk(cert(1, -30, 60), X509_VALID, "");
	d.chain = chain_of(s_new, 1);
	f = RECONCILE_FACTS_INIT;
	reconcile(&s, &d, "mail.example.com", &TH, NOW, &v);
	reconcile_facts_add(&f, &v, &s, &TH, NOW, d.leaf.sha256);
	ok(!f.all_served && f.reload_wanted, "facts: while verifying a reload for a new chain, "
	   "the old chain served is not served");
	s.chain = chain_of(s_new, 1);
	f = RECONCILE_FACTS_INIT;
	reconcile(&s, &d, "mail.example.com", &TH, NOW, &v);
	reconcile_facts_add(&f, &v, &s, &TH, NOW, d.leaf.sha256);
	ok(f.all_served && !f.reload_wanted, "facts: the new chain served is");
	verdict_done(&v);
}

static struct dane_verdict dane(enum dane_action a, enum severity sev, enum dane_side served_side,
				enum dane_side served_pins, uint64_t recheck, const char *reason)
{
	struct dane_verdict d = { .action = a, .severity = sev, .served = served_side,
				  .served_pins = served_pins, .recheck_usec = recheck };

	snprintf(d.reason, sizeof(d.reason), "%s", reason);
	return d;
}

static void expect_dane(const char *what, const struct probe_result *s, const struct disk_pair *d,
			const struct dane_verdict *dv, enum verdict_state st, enum verdict_action a,
			enum severity sev, bool in_sync, const char *reason_part)
{
	struct verdict v = { 0 };

	reconcile(s, d, "mx.example.com", &TH, NOW, &v);
	reconcile_dane(&v, dv);
	ok(v.state == st && v.action == a && v.severity == sev && v.in_sync == in_sync &&
	   v.dane_held == (st == STATE_DANE_HOLD),
	   "dane: %s: %s, %s, %s%s", what, verdict_state_to_string(st),
	   verdict_action_to_string(a), severity_to_string(sev), in_sync ? ", in sync" : "");
	if (v.state != st || v.action != a || v.severity != sev)
		printf("#   got %s, %s, %s: %s\n", verdict_state_to_string(v.state),
		       verdict_action_to_string(v.action), severity_to_string(v.severity), v.reason);
	if (reason_part)
		like(v.reason, reason_part, "dane: %s: the reason says so", what);
	verdict_done(&v);
}

/* The rows of the decision table that DANE records and pins add. */
static void dane_rows(void)
{
	struct probe_result old = served(cert(1, -60, 30)), near = served(cert(1, -85, 5));
	struct disk_pair d_new = disk(cert(2, -1, 89), X509_VALID, "");
	struct disk_pair d_same = disk(cert(1, -60, 30), X509_VALID, "");
	struct dane_verdict hold = dane(DANE_ACTION_HOLD, SEVERITY_WARNING, DANE_SIDE_MATCH,
					DANE_SIDE_NOT_JUDGED, 300 * USEC_PER_SEC,
					"the renewal on disk would break DANE for mx.example.com: "
					"publish `_25._tcp.mx.example.com. IN TLSA 3 1 1 ab`");
	struct dane_verdict hold_crit = hold, overridden = hold, go = hold;
	struct dane_verdict refused = dane(DANE_ACTION_PROCEED, SEVERITY_CRITICAL,
					   DANE_SIDE_MISMATCH, DANE_SIDE_NOT_JUDGED, 0,
					   "senders that validate DANE refuse this server");
	struct dane_verdict refused_none = refused, pins_refused = refused;
	struct dane_verdict bogus = dane(DANE_ACTION_HOLD, SEVERITY_CRITICAL, DANE_SIDE_NOT_JUDGED,
					 DANE_SIDE_NOT_JUDGED, 300 * USEC_PER_SEC,
					 "DNSSEC validation failed");

	hold_crit.severity = SEVERITY_CRITICAL;
	overridden.action = DANE_ACTION_PROCEED;
	overridden.severity = SEVERITY_CRITICAL;
	overridden.overridden = true;
	snprintf(overridden.reason, sizeof(overridden.reason), "dane-override is set: reloading anyway");
	go.action = DANE_ACTION_PROCEED;
	go.severity = SEVERITY_OK;
	refused_none.action = DANE_ACTION_NONE;
	pins_refused.served = DANE_SIDE_NOT_JUDGED;
	pins_refused.served_pins = DANE_SIDE_MISMATCH;

	expect_dane("served matches, disk does not", &old, &d_new, &hold, STATE_DANE_HOLD,
		    ACTION_NONE, SEVERITY_WARNING, false, "publish `_25._tcp.mx.example.com. IN TLSA "
		    "3 1 1 ab` (the service serves");
	expect_dane("the same, near expiry", &near, &d_new, &hold_crit, STATE_DANE_HOLD,
		    ACTION_NONE, SEVERITY_CRITICAL, false, NULL);
	expect_dane("the same, near expiry, dane-override", &near, &d_new, &overridden,
		    STATE_STALE, ACTION_RELOAD, SEVERITY_CRITICAL, false, "reload pending; "
		    "dane-override is set: reloading anyway");
	expect_dane("both match", &old, &d_new, &go, STATE_STALE, ACTION_RELOAD, SEVERITY_WARNING,
		    false, NULL);
	expect_dane("served does not match, disk does", &old, &d_new, &refused,
		    STATE_DANE_MISMATCH, ACTION_RELOAD, SEVERITY_CRITICAL, false, "refuse this server");
	expect_dane("served does not match, disk neither", &old, &d_new, &refused_none,
		    STATE_DANE_MISMATCH, ACTION_RELOAD, SEVERITY_CRITICAL, false, NULL);
	expect_dane("served = disk, which the records reject", &old, &d_same, &refused_none,
		    STATE_DANE_MISMATCH, ACTION_NONE, SEVERITY_CRITICAL, false, NULL);
	expect_dane("served = disk, whose key is not pinned", &old, &d_same, &pins_refused,
		    STATE_DANE_MISMATCH, ACTION_NONE, SEVERITY_CRITICAL, false, NULL);
	expect_dane("served = disk, records match", &old, &d_same, &go, STATE_OK, ACTION_NONE,
		    SEVERITY_OK, true, NULL);
	expect_dane("bogus, a renewal on disk", &old, &d_new, &bogus, STATE_DANE_HOLD, ACTION_NONE,
		    SEVERITY_CRITICAL, false, "DNSSEC validation failed");
	expect_dane("bogus, nothing to reload", &old, &d_same, &bogus, STATE_OK, ACTION_NONE,
		    SEVERITY_CRITICAL, true, "days left); DNSSEC validation failed");
}

/* A held reload is no reload; the service looks again by the soonest hold's recheck. */
static void dane_facts(void)
{
	struct probe_result old = served(cert(1, -60, 30)), other = served(cert(3, -60, 30));
	struct disk_pair d_new = disk(cert(2, -1, 89), X509_VALID, "");
	struct disk_pair d_other = disk(cert(4, -1, 89), X509_VALID, "");
	struct dane_verdict hold = dane(DANE_ACTION_HOLD, SEVERITY_WARNING, DANE_SIDE_MATCH,
					DANE_SIDE_NOT_JUDGED, 300 * USEC_PER_SEC, "held");
	struct dane_verdict sooner = hold;
	struct policy_facts f = RECONCILE_FACTS_INIT;
	struct verdict v = { 0 };

	sooner.recheck_usec = 120 * USEC_PER_SEC;
	reconcile(&old, &d_new, "mx.example.com", &TH, NOW, &v);
	reconcile_dane(&v, &hold);
	reconcile_facts_add(&f, &v, &old, &TH, NOW, NULL);
	ok(!f.reload_wanted && !f.all_served && f.recheck_in_usec == 300 * USEC_PER_SEC,
	   "dane facts: a held endpoint wants no reload, is not served, and hints 300 s");
	reconcile(&other, &d_other, "mx.example.com", &TH, NOW, &v);
	reconcile_dane(&v, &sooner);
	reconcile_facts_add(&f, &v, &other, &TH, NOW, NULL);
	ok(!f.reload_wanted && f.recheck_in_usec == 120 * USEC_PER_SEC,
	   "dane facts: two holds: the sooner recheck wins");
	f = RECONCILE_FACTS_INIT;
	reconcile(&old, &d_new, "mx.example.com", &TH, NOW, &v);
	reconcile_facts_add(&f, &v, &old, &TH, NOW, NULL);
	ok(f.reload_wanted && f.recheck_in_usec == 0,
	   "dane facts: without a hold, a reload is wanted and there is no hint");
	verdict_done(&v);
}

static void every_enum_has_a_name(void)
{
	bool all = true;

	for (int i = 0; i < _STATE_MAX; i++)
		all = all && strcmp(verdict_state_to_string(i), "?") != 0;
	for (int i = 0; i < _SEVERITY_MAX; i++)
		all = all && strcmp(severity_to_string(i), "?") != 0;
	for (int i = 0; i < _ACTION_MAX; i++)
		all = all && strcmp(verdict_action_to_string(i), "?") != 0;
	ok(all, "every state, severity and action has a printable name");
}

int main(void)
{
	served_equals_disk();
	lifetime_relative_thresholds();
	renewed_on_disk();
	invalid_on_disk();
	unreachable();
	nothing_on_disk();
	served_but_rejected_by_clients();
	facts_of_a_service();
	a_broken_sibling_vetoes_the_reload();
	chains();
	dane_rows();
	dane_facts();
	every_enum_has_a_name();
	return tap_done();
}
