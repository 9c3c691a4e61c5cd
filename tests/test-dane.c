/*
 * test-dane.c - the DANE decision, row by row: records and pins against
 * the served chain and the chain on disk (certificates made at test time),
 * near expiry or not, with or without override; the tracking of when each
 * record was first seen; and the small helpers the daemon needs.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "check-dane.h"
#include "conf.h"
#include "dane-judge.h"
#include "pki.h"
#include "tap.h"

#define MINUTE (60 * USEC_PER_SEC)
#define NOW (UINT64_C(1800000000) * USEC_PER_SEC)

/* An answer of that status with records made for (cert, usage, selector, mtype). */
struct spec {
	X509 *cert;
	uint8_t u, s, m;
};

static struct dane_answer answer(enum dane_status status, uint32_t ttl, const struct spec *specs,
				 size_t n)
{
	struct dane_answer a = { .status = status, .ttl = ttl };

	tlsa_owner("mx.example.com", 25, a.owner);
	a.records = calloc(n ? n : 1, sizeof(*a.records));
	for (size_t i = 0; i < n; i++)
		if (tlsa_record_for_cert(specs[i].cert, specs[i].u, specs[i].s, specs[i].m,
					 &a.records[i]) < 0)
			abort();
	a.n_records = n;
	snprintf(a.reason, sizeof(a.reason), "%s",
		 status == DANE_SECURE_NONE ? "validated: _25._tcp.mx.example.com. does not exist" :
		 status == DANE_INSECURE ? "_25._tcp.mx.example.com. is not signed with DNSSEC" :
		 status == DANE_BOGUS ? "DNSSEC validation of _25._tcp.mx.example.com. failed: x" :
		 status == DANE_FAILED ? "no answer for _25._tcp.mx.example.com. within 10s" : "");
	return a;
}

static char hex_cur[65], hex_next[65], hex_inter[65];
static char pin_cur[TLSA_PIN_TEXT_LEN], pin_next[TLSA_PIN_TEXT_LEN];
static struct tlsa_pin p_cur, p_next, p_inter;
static X509 *cur[2], *next[2], *next_alone[1];
static struct dane_answer only_cur, only_next, both, ca, pkix, none, insecure, bogus, failed;
static struct dane_track young, old;

static void spki_hex(X509 *x, char out[65])
{
	struct tlsa_pin p;

	tlsa_pin_for_cert(x, &p);
	sha256_to_hex(p.sha256, out);
}

struct row {
	const char *what;
	enum dane_mode mode;
	const struct dane_answer *answer;
	const struct dane_track *track;
	X509 **served;
	size_t n_served;
	X509 **disk;
	size_t n_disk;
	const struct tlsa_pin *pins;
	size_t n_pins;
	bool critical, override;
	/* expected: */
	enum dane_action action;
	enum severity severity;
	enum dane_side served_side, disk_side;
	const char *reason_like, *reason_like2;
};

static void run(const struct row *w)
{
	struct dane_input in = {
		.mode = w->mode, .answer = w->answer, .track = w->track,
		.served = w->served, .n_served = w->n_served, .disk = w->disk, .n_disk = w->n_disk,
		.name = "mx.example.com", .port = 25, .pins = w->pins, .n_pins = w->n_pins,
		.served_critical = w->critical, .override = w->override,
		.now = time(NULL),   /* the certificates' dates are real */
		.now_usec = NOW,
	};
	struct dane_verdict v;
	int e = dane_judge(&in, &v);

	if (!ok(e == 0 && v.action == w->action && v.severity == w->severity,
		"%s: %s, %s", w->what, dane_action_to_string(w->action),
		severity_to_string(w->severity)))
		printf("#   got %d: %s, %s: %s\n", e, dane_action_to_string(v.action),
		       severity_to_string(v.severity), v.reason);
	if (w->n_pins == 0 && w->mode != DANE_MODE_NO)
		ok(v.served == w->served_side && v.disk == w->disk_side,
		   "%s: served %s, disk %s", w->what, dane_side_to_string(w->served_side),
		   dane_side_to_string(w->disk_side));
	if (w->reason_like)
		like(v.reason, w->reason_like, "%s: the reason says so", w->what);
	if (w->reason_like2)
		like(v.reason, w->reason_like2, "%s: the reason says what to do", w->what);
	ok(v.overridden == (w->override && w->critical && v.action == DANE_ACTION_PROCEED),
	   "%s: overridden only by override near expiry", w->what);
}

static void setup(void)
{
	pki_make();
	spki_hex(leaf, hex_cur);
	spki_hex(leaf_next, hex_next);
	spki_hex(inter, hex_inter);
	tlsa_pin_for_cert(leaf, &p_cur);
	tlsa_pin_for_cert(leaf_next, &p_next);
	tlsa_pin_for_cert(inter, &p_inter);
	tlsa_pin_to_text(&p_cur, pin_cur);
	tlsa_pin_to_text(&p_next, pin_next);
	cur[0] = leaf;
	cur[1] = inter;
	next[0] = next_alone[0] = leaf_next;
	next[1] = inter;
	only_cur = answer(DANE_SECURE, 3600, (struct spec[]){ { leaf, 3, 1, 1 } }, 1);
	only_next = answer(DANE_SECURE, 3600, (struct spec[]){ { leaf_next, 3, 1, 1 } }, 1);
	both = answer(DANE_SECURE, 3600, (struct spec[]){ { leaf, 3, 1, 1 },
						      { leaf_next, 3, 1, 1 } }, 2);
	ca = answer(DANE_SECURE, 3600, (struct spec[]){ { inter, 2, 1, 1 } }, 1);
	pkix = answer(DANE_SECURE, 3600, (struct spec[]){ { root, 0, 0, 1 } }, 1);
	none = answer(DANE_SECURE_NONE, 300, NULL, 0);
	insecure = answer(DANE_INSECURE, 300, NULL, 0);
	bogus = answer(DANE_BOGUS, 300, NULL, 0);
	failed = answer(DANE_FAILED, 0, NULL, 0);
	/* "next" published ten minutes ago (young) or three hours ago (old). */
	dane_track_update(&young, &only_cur, NOW - 600 * MINUTE);
	dane_track_update(&young, &both, NOW - 10 * MINUTE);
	dane_track_update(&old, &only_cur, NOW - 600 * MINUTE);
	dane_track_update(&old, &both, NOW - 180 * MINUTE);
}

static void test_rows(void)
{
	char publish_next[256], pin_add[128];

	snprintf(publish_next, sizeof(publish_next),
		 "publish `_25._tcp.mx.example.com. IN TLSA 3 1 1 %s` and wait a few TTLs, "
		 "then certwatch reloads by itself", hex_next);
	snprintf(pin_add, sizeof(pin_add), "add pin-sha256 \"%s\"", pin_next);

	const struct row rows[] = {
		{ "3 1 1 of the key in use, nothing to reload", DANE_MODE_AUTO, &only_cur, NULL,
		  cur, 2, cur, 2, NULL, 0, false, false, DANE_ACTION_PROCEED, SEVERITY_OK,
		  DANE_SIDE_MATCH, DANE_SIDE_MATCH, "both match", NULL },
		{ "only the old key published, renewal with a new key", DANE_MODE_AUTO, &only_cur, NULL,
		  cur, 2, next, 2, NULL, 0, false, false, DANE_ACTION_HOLD, SEVERITY_WARNING,
		  DANE_SIDE_MATCH, DANE_SIDE_MISMATCH,
		  "the renewal on disk would break DANE for mx.example.com", publish_next },
		{ "only the old key, near expiry", DANE_MODE_AUTO, &only_cur, NULL,
		  cur, 2, next, 2, NULL, 0, true, false, DANE_ACTION_HOLD, SEVERITY_CRITICAL,
		  DANE_SIDE_MATCH, DANE_SIDE_MISMATCH, "set dane-override = yes", publish_next },
		{ "only the old key, near expiry, with override", DANE_MODE_AUTO, &only_cur, NULL,
		  cur, 2, next, 2, NULL, 0, true, true, DANE_ACTION_PROCEED, SEVERITY_CRITICAL,
		  DANE_SIDE_MATCH, DANE_SIDE_MISMATCH, "dane-override is set: reloading anyway", NULL },
		{ "only the old key, override far from expiry", DANE_MODE_AUTO, &only_cur, NULL,
		  cur, 2, next, 2, NULL, 0, false, true, DANE_ACTION_HOLD, SEVERITY_WARNING,
		  DANE_SIDE_MATCH, DANE_SIDE_MISMATCH, NULL, NULL },
		{ "current + next", DANE_MODE_AUTO, &both, NULL, cur, 2, next, 2, NULL, 0,
		  false, false, DANE_ACTION_PROCEED, SEVERITY_OK, DANE_SIDE_MATCH, DANE_SIDE_MATCH,
		  NULL, NULL },
		{ "current + next, next first seen 10 minutes ago", DANE_MODE_AUTO, &both, &young,
		  cur, 2, next, 2, NULL, 0, false, false, DANE_ACTION_HOLD, SEVERITY_WARNING,
		  DANE_SIDE_MATCH, DANE_SIDE_MATCH, "first seen 10m ago: the reload waits 110m more",
		  "twice their TTL of 3600s" },
		{ "current + next, next young, near expiry", DANE_MODE_AUTO, &both, &young,
		  cur, 2, next, 2, NULL, 0, true, false, DANE_ACTION_PROCEED, SEVERITY_WARNING,
		  DANE_SIDE_MATCH, DANE_SIDE_MATCH, "near expiry: reloading now", NULL },
		{ "current + next, next seen 3 hours ago", DANE_MODE_AUTO, &both, &old,
		  cur, 2, next, 2, NULL, 0, false, false, DANE_ACTION_PROCEED, SEVERITY_OK,
		  DANE_SIDE_MATCH, DANE_SIDE_MATCH, NULL, NULL },
		{ "served does not match, the disk does", DANE_MODE_AUTO, &only_next, NULL,
		  cur, 2, next, 2, NULL, 0, false, false, DANE_ACTION_PROCEED, SEVERITY_CRITICAL,
		  DANE_SIDE_MISMATCH, DANE_SIDE_MATCH, "senders that validate DANE refuse this server",
		  "reloading puts it right" },
		{ "served does not match, nor the disk", DANE_MODE_AUTO, &only_next, NULL,
		  cur, 2, cur, 2, NULL, 0, false, false, DANE_ACTION_NONE, SEVERITY_CRITICAL,
		  DANE_SIDE_MISMATCH, DANE_SIDE_MISMATCH, "senders that validate DANE refuse this server",
		  "publish `_25._tcp.mx.example.com. IN TLSA 3 1 1 " },
		{ "served does not match, no valid disk pair", DANE_MODE_AUTO, &only_next, NULL,
		  cur, 2, NULL, 0, NULL, 0, false, false, DANE_ACTION_NONE, SEVERITY_CRITICAL,
		  DANE_SIDE_MISMATCH, DANE_SIDE_UNKNOWN, "refuse this server", NULL },
		{ "2 1 1 of the issuing CA: a new key from the same CA", DANE_MODE_AUTO, &ca, &young,
		  cur, 2, next, 2, NULL, 0, false, false, DANE_ACTION_PROCEED, SEVERITY_OK,
		  DANE_SIDE_MATCH, DANE_SIDE_MATCH, NULL, NULL },
		{ "2 1 1 of the CA, the renewal without its chain", DANE_MODE_AUTO, &ca, NULL,
		  cur, 2, next_alone, 1, NULL, 0, false, false, DANE_ACTION_HOLD, SEVERITY_WARNING,
		  DANE_SIDE_MATCH, DANE_SIDE_MISMATCH, "would break DANE", NULL },
		{ "2 1 1 in use: the 2 1 1 of the renewal's issuer is offered too", DANE_MODE_AUTO, &ca,
		  NULL, cur, 2, (X509 *[]){ leaf_forged, inter_other }, 2, NULL, 0, false, false,
		  DANE_ACTION_HOLD, SEVERITY_WARNING, DANE_SIDE_MATCH, DANE_SIDE_MISMATCH,
		  "(or, to trust its issuer, `_25._tcp.mx.example.com. IN TLSA 2 1 1 ", NULL },
		{ "served unknown, the disk does not match", DANE_MODE_AUTO, &only_cur, NULL,
		  NULL, 0, next, 2, NULL, 0, false, false, DANE_ACTION_HOLD, SEVERITY_WARNING,
		  DANE_SIDE_UNKNOWN, DANE_SIDE_MISMATCH, NULL, NULL },
		{ "served matches, no valid disk pair", DANE_MODE_AUTO, &only_cur, NULL,
		  cur, 2, NULL, 0, NULL, 0, false, false, DANE_ACTION_NONE, SEVERITY_OK,
		  DANE_SIDE_MATCH, DANE_SIDE_UNKNOWN, NULL, NULL },
		{ "PKIX records only (auto)", DANE_MODE_AUTO, &pkix, NULL, cur, 2, next, 2, NULL, 0,
		  false, false, DANE_ACTION_NONE, SEVERITY_WARNING, DANE_SIDE_NOT_JUDGED,
		  DANE_SIDE_NOT_JUDGED, "DANE is not in effect", "RFC 7672" },
		{ "PKIX records only (yes)", DANE_MODE_YES, &pkix, NULL, cur, 2, next, 2, NULL, 0,
		  false, false, DANE_ACTION_NONE, SEVERITY_CRITICAL, DANE_SIDE_NOT_JUDGED,
		  DANE_SIDE_NOT_JUDGED, NULL, NULL },
		{ "secure, no records (auto)", DANE_MODE_AUTO, &none, NULL, cur, 2, next, 2, NULL, 0,
		  false, false, DANE_ACTION_NONE, SEVERITY_OK, DANE_SIDE_NOT_JUDGED, DANE_SIDE_NOT_JUDGED,
		  "does not exist", NULL },
		{ "secure, no records (yes)", DANE_MODE_YES, &none, NULL, cur, 2, next, 2, NULL, 0,
		  false, false, DANE_ACTION_NONE, SEVERITY_CRITICAL, DANE_SIDE_NOT_JUDGED,
		  DANE_SIDE_NOT_JUDGED, "dane = yes, but", "publish `_25._tcp.mx.example.com. IN TLSA 3 1 1 " },
		{ "insecure (auto)", DANE_MODE_AUTO, &insecure, NULL, cur, 2, next, 2, NULL, 0,
		  false, false, DANE_ACTION_NONE, SEVERITY_OK, DANE_SIDE_NOT_JUDGED, DANE_SIDE_NOT_JUDGED,
		  "not signed", NULL },
		{ "insecure (yes)", DANE_MODE_YES, &insecure, NULL, cur, 2, next, 2, NULL, 0,
		  false, false, DANE_ACTION_NONE, SEVERITY_CRITICAL, DANE_SIDE_NOT_JUDGED,
		  DANE_SIDE_NOT_JUDGED, "in a signed zone", NULL },
		{ "bogus", DANE_MODE_AUTO, &bogus, NULL, cur, 2, next, 2, NULL, 0, false, false,
		  DANE_ACTION_HOLD, SEVERITY_CRITICAL, DANE_SIDE_NOT_JUDGED, DANE_SIDE_NOT_JUDGED,
		  "validation of _25._tcp.mx.example.com. failed", "defer mail" },
		{ "bogus, near expiry, override", DANE_MODE_AUTO, &bogus, NULL, cur, 2, next, 2, NULL,
		  0, true, true, DANE_ACTION_PROCEED, SEVERITY_CRITICAL, DANE_SIDE_NOT_JUDGED,
		  DANE_SIDE_NOT_JUDGED, "renewal waits until the records validate", "reloading anyway" },
		{ "look-up failed (auto)", DANE_MODE_AUTO, &failed, NULL, cur, 2, next, 2, NULL, 0,
		  false, false, DANE_ACTION_NONE, SEVERITY_WARNING, DANE_SIDE_NOT_JUDGED,
		  DANE_SIDE_NOT_JUDGED, "DANE cannot be checked: no answer", NULL },
		{ "look-up failed (yes)", DANE_MODE_YES, &failed, NULL, cur, 2, next, 2, NULL, 0,
		  false, false, DANE_ACTION_HOLD, SEVERITY_WARNING, DANE_SIDE_NOT_JUDGED,
		  DANE_SIDE_NOT_JUDGED, "no reload without the records", NULL },
		{ "look-up failed (yes), near expiry", DANE_MODE_YES, &failed, NULL, cur, 2, next, 2,
		  NULL, 0, true, false, DANE_ACTION_HOLD, SEVERITY_CRITICAL, DANE_SIDE_NOT_JUDGED,
		  DANE_SIDE_NOT_JUDGED, NULL, NULL },
		{ "look-up failed (yes), near expiry, override", DANE_MODE_YES, &failed, NULL,
		  cur, 2, next, 2, NULL, 0, true, true, DANE_ACTION_PROCEED, SEVERITY_CRITICAL,
		  DANE_SIDE_NOT_JUDGED, DANE_SIDE_NOT_JUDGED, NULL, NULL },
		{ "no look-up yet (auto)", DANE_MODE_AUTO, NULL, NULL, cur, 2, next, 2, NULL, 0,
		  false, false, DANE_ACTION_NONE, SEVERITY_WARNING, DANE_SIDE_NOT_JUDGED,
		  DANE_SIDE_NOT_JUDGED, "no look-up", NULL },
		{ "dane = no: the records are not judged", DANE_MODE_NO, &only_cur, NULL,
		  cur, 2, next, 2, NULL, 0, false, false, DANE_ACTION_NONE, SEVERITY_OK,
		  DANE_SIDE_NOT_JUDGED, DANE_SIDE_NOT_JUDGED, NULL, NULL },
		{ "pins: the renewal's key is not pinned", DANE_MODE_NO, NULL, NULL, cur, 2, next, 2,
		  &p_cur, 1, false, false, DANE_ACTION_HOLD, SEVERITY_WARNING, 0, 0,
		  "matches no pin-sha256", pin_add },
		{ "pins: not pinned, near expiry, override", DANE_MODE_NO, NULL, NULL, cur, 2, next, 2,
		  &p_cur, 1, true, true, DANE_ACTION_PROCEED, SEVERITY_CRITICAL, 0, 0, NULL, NULL },
		{ "pins: current and next pinned", DANE_MODE_NO, NULL, NULL, cur, 2, next, 2,
		  (struct tlsa_pin[]){ p_cur, p_next }, 2, false, false, DANE_ACTION_PROCEED,
		  SEVERITY_OK, 0, 0, NULL, NULL },
		{ "pins: the CA's key pinned", DANE_MODE_NO, NULL, NULL, cur, 2, next, 2,
		  &p_inter, 1, false, false, DANE_ACTION_PROCEED, SEVERITY_OK, 0, 0, NULL, NULL },
		{ "pins: the served key is not pinned, the disk's is", DANE_MODE_NO, NULL, NULL,
		  cur, 2, next, 2, &p_next, 1, false, false, DANE_ACTION_PROCEED, SEVERITY_CRITICAL,
		  0, 0, "clients that pin keys refuse this server", "reloading puts it right" },
		{ "records fine, pins hold: the hold wins", DANE_MODE_AUTO, &both, NULL,
		  cur, 2, next, 2, &p_cur, 1, false, false, DANE_ACTION_HOLD, SEVERITY_WARNING, 0, 0,
		  "both match the TLSA records", pin_add },
		{ "records and pins both refuse the server", DANE_MODE_AUTO, &only_next,
		  NULL, cur, 2, cur, 2, &p_next, 1, false, false, DANE_ACTION_NONE, SEVERITY_CRITICAL,
		  0, 0, "refuse this server", NULL },
	};

	for (size_t i = 0; i < ELEMENTSOF(rows); i++)
		run(&rows[i]);
}

/* What would match each chain is shown, whatever the decision; when to look again. */
static void test_lines_and_recheck(void)
{
	struct dane_input in = { .mode = DANE_MODE_AUTO, .answer = &only_cur, .served = cur,
				 .n_served = 2, .disk = next, .n_disk = 2, .name = "mx.example.com.",
				 .port = 465, .now = time(NULL), .now_usec = NOW };
	struct dane_verdict v;
	char want[TLSA_LINE_MAX];

	ok(dane_judge(&in, &v) == 0, "judge on port 465");
	snprintf(want, sizeof(want), "_465._tcp.mx.example.com. IN TLSA 3 1 1 %s", hex_cur);
	is_str(v.served_records[0], want, "the served leaf's 3 1 1");
	snprintf(want, sizeof(want), "_465._tcp.mx.example.com. IN TLSA 2 1 1 %s", hex_inter);
	is_str(v.served_records[1], want, "the served issuer's 2 1 1");
	snprintf(want, sizeof(want), "_465._tcp.mx.example.com. IN TLSA 3 1 1 %s", hex_next);
	is_str(v.disk_records[0], want, "the disk leaf's 3 1 1");
	is_str(v.disk_pin, pin_next, "the disk leaf's pin");
	ok(v.recheck_usec == 3600 * USEC_PER_SEC, "records with a TTL of an hour: look again in an hour");
	in.answer = &failed;
	dane_judge(&in, &v);
	ok(v.recheck_usec == MINUTE, "a failed look-up: look again in a minute");
	in.answer = &both;
	in.track = &young;
	in.disk = next;
	dane_judge(&in, &v);
	ok(v.recheck_usec == 110 * MINUTE, "waiting for caches: look again when the wait is over");
	in.name = "not a name";
	memset(&v, 7, sizeof(v));
	ok(dane_judge(&in, &v) == -EINVAL && v.action == 0x07070707,
	   "a name that cannot own records: -EINVAL, untouched");
}

static void test_track(void)
{
	struct dane_track t = { 0 };
	struct dane_answer swapped;

	dane_track_update(&t, &only_cur, NOW);
	ok(t.n == 1 && t.seen[0].since_usec == NOW && t.max_ttl == 3600, "track: one record seen now");
	only_cur.ttl = 1200;    /* a cache counting down */
	dane_track_update(&t, &only_cur, NOW + MINUTE);
	ok(t.n == 1 && t.seen[0].since_usec == NOW && t.max_ttl == 3600,
	   "track: the same record keeps its first sight and the largest TTL");
	dane_track_update(&t, &both, NOW + 2 * MINUTE);
	ok(t.n == 2 && t.seen[0].since_usec == NOW && t.seen[1].since_usec == NOW + 2 * MINUTE,
	   "track: a new record is seen from now, the old one keeps its time");
	dane_track_update(&t, &failed, NOW + 3 * MINUTE);
	dane_track_update(&t, &bogus, NOW + 3 * MINUTE);
	ok(t.n == 2, "track: a failed or bogus look-up changes nothing");
	dane_track_update(&t, &only_next, NOW + 4 * MINUTE);
	ok(t.n == 1 && t.seen[0].since_usec == NOW + 2 * MINUTE,
	   "track: a record withdrawn is forgotten");
	dane_track_update(&t, &none, NOW + 5 * MINUTE);
	ok(t.n == 0, "track: secure proof of no records forgets them all");

	ok(dane_answer_same_records(&both, &both) && !dane_answer_same_records(&both, &only_cur),
	   "same records: by content");
	swapped = answer(DANE_SECURE, 60, (struct spec[]){ { leaf_next, 3, 1, 1 },
							   { leaf, 3, 1, 1 } }, 2);
	ok(dane_answer_same_records(&both, &swapped), "same records: in any order");
	dane_answer_done(&swapped);
}

/* Which endpoints are looked up. */
static void test_wanted(void)
{
	struct dane_track t = { 0 };

	ok(dane_wanted(DANE_MODE_AUTO, 25, false, NULL) &&
	   dane_wanted(DANE_MODE_AUTO, 465, false, NULL) &&
	   dane_wanted(DANE_MODE_AUTO, 587, false, NULL) &&
	   dane_wanted(DANE_MODE_AUTO, 2525, true, NULL),
	   "auto: SMTP ports and STARTTLS smtp are looked up");
	ok(!dane_wanted(DANE_MODE_AUTO, 993, false, NULL) &&
	   !dane_wanted(DANE_MODE_AUTO, 443, false, &t), "auto: other endpoints are not");
	dane_track_update(&t, &both, NOW);
	ok(dane_wanted(DANE_MODE_AUTO, 443, false, &t), "auto: an endpoint where records were seen is");
	ok(dane_wanted(DANE_MODE_YES, 993, false, NULL) && !dane_wanted(DANE_MODE_NO, 25, true, &t),
	   "yes: always; no: never");
	ok(dane_mode_from_string("auto") == DANE_MODE_AUTO &&
	   dane_mode_from_string("yes") == DANE_MODE_YES &&
	   dane_mode_from_string("no") == DANE_MODE_NO && dane_mode_from_string("maybe") == -1,
	   "mode names");
}

/* Which endpoints get a DANE part at all (check_dane_new()). */
static void test_part(void)
{
	struct conf_endpoint ep = { .address = (char *)"127.0.0.1", .port = 25, .starttls = -1,
				    .dane = DANE_MODE_AUTO };
	struct check_dane *d = NULL;

	ok(check_dane_new(&ep, &d) == 0 && !d,
	   "auto, SMTP, known only by its IPv4 address: no look-up, no DANE part");
	ep.address = (char *)"::1";
	ok(check_dane_new(&ep, &d) == 0 && !d, "the same with an IPv6 address");
	ep.sni = (char *)"mx.example.test";
	ok(check_dane_new(&ep, &d) == 0 && d && d->mode == DANE_MODE_AUTO &&
	   strcmp(d->name, "mx.example.test") == 0, "with a name: looked up under that name");
	check_dane_free(d);
	d = NULL;
	ep.sni = NULL;
	ep.dane_name = (char *)"mx.example.test";
	ok(check_dane_new(&ep, &d) == 0 && d && strcmp(d->name, "mx.example.test") == 0,
	   "with dane-name: looked up under it");
	check_dane_free(d);
	d = NULL;
	ep.dane_name = NULL;
	ep.port = 443;
	ok(check_dane_new(&ep, &d) == 0 && !d, "auto, HTTPS: no DANE part");
	ep.dane = DANE_MODE_YES;
	ep.address = (char *)"127.0.0.1";
	ok(check_dane_new(&ep, &d) == 0 && d && d->mode == DANE_MODE_YES,
	   "yes: kept as asked, an address or not");
	check_dane_free(d);
}

int main(void)
{
	struct dane_answer *all[] = { &only_cur, &only_next, &both, &ca, &pkix, &none, &insecure,
				      &bogus, &failed };

	setup();
	test_rows();
	test_lines_and_recheck();
	test_track();
	test_wanted();
	test_part();
	for (size_t i = 0; i < ELEMENTSOF(all); i++)
		dane_answer_done(all[i]);
	pki_free();
	return tap_done();
}
