/*
 * dane-judge.c - DANE records and pinned keys judged against the served
 * chain and the chain on disk; see dane-judge.h for the rows.
 *
 * Two sources may have a say, the TLSA records and the pin-sha256 pins;
 * each is judged on its own (judge_records, judge_pins) and the two are
 * merged: a hold wins over a go-ahead, the worse severity wins, and both
 * reasons are kept.  A hold is never silent: its reason says what to
 * publish (the 3 1 1 record of the key on disk, or the pin to add), and
 * that certwatch goes ahead by itself once it is there.
 *
 * Why two TTLs after a record first appears: a resolver elsewhere may have
 * cached the RRset without it just before it was published, and keeps it
 * for up to one TTL; the second covers secondaries that load the zone
 * late.  The TTL used is the largest seen, since a caching resolver counts
 * it down.  Pure: no I/O, no clock.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "dane-judge.h"

#define RECHECK_MIN_USEC (60 * USEC_PER_SEC)
#define RECHECK_MAX_USEC (3600 * USEC_PER_SEC)
#define RECHECK_BOGUS_USEC (300 * USEC_PER_SEC)

static const char *const mode_names[_DANE_MODE_MAX] = {
	[DANE_MODE_AUTO] = "auto",
	[DANE_MODE_YES]  = "yes",
	[DANE_MODE_NO]   = "no",
};

static const char *const action_names[_DANE_ACTION_MAX] = {
	[DANE_ACTION_NONE]    = "none",
	[DANE_ACTION_HOLD]    = "hold",
	[DANE_ACTION_PROCEED] = "proceed",
};

static const char *const side_names[_DANE_SIDE_MAX] = {
	[DANE_SIDE_NOT_JUDGED] = "not-judged",
	[DANE_SIDE_MATCH]      = "match",
	[DANE_SIDE_MISMATCH]   = "mismatch",
	[DANE_SIDE_UNKNOWN]    = "unknown",
};

const char *dane_mode_to_string(enum dane_mode m)
{
	return (unsigned)m < _DANE_MODE_MAX ? mode_names[m] : "?";
}

int dane_mode_from_string(const char *s)
{
	for (int i = 0; i < _DANE_MODE_MAX; i++)
		if (s && strcmp(s, mode_names[i]) == 0)
			return i;
	return -1;
}

const char *dane_action_to_string(enum dane_action a)
{
	return (unsigned)a < _DANE_ACTION_MAX ? action_names[a] : "?";
}

const char *dane_side_to_string(enum dane_side s)
{
	return (unsigned)s < _DANE_SIDE_MAX ? side_names[s] : "?";
}

bool dane_wanted(enum dane_mode mode, uint16_t port, bool starttls_smtp, const struct dane_track *t)
{
	if (mode != DANE_MODE_AUTO)
		return mode == DANE_MODE_YES;
	return port == 25 || port == 465 || port == 587 || starttls_smtp || (t && t->n > 0);
}

/* ---- the records seen, and since when ------------------------------------------ */

static int record_digest(const struct tlsa_record *r, uint8_t out[SHA256_LEN])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t head[3] = { r->usage, r->selector, r->mtype };
	int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
		 EVP_DigestUpdate(c, head, sizeof(head)) &&
		 EVP_DigestUpdate(c, r->data, r->len) && EVP_DigestFinal_ex(c, out, NULL);

	EVP_MD_CTX_free(c);
	return ok ? 0 : -ENOMEM;
}

/* When the record was first seen; false when the track does not know it. */
static bool track_since(const struct dane_track *t, const struct tlsa_record *r,
			uint64_t *ret_usec)
{
	uint8_t d[SHA256_LEN];

	if (!t || record_digest(r, d) < 0)
		return false;
	for (size_t i = 0; i < t->n; i++)
		if (memcmp(t->seen[i].sha256, d, SHA256_LEN) == 0) {
			*ret_usec = t->seen[i].since_usec;
			return true;
		}
	return false;
}

int dane_track_update(struct dane_track *t, const struct dane_answer *a, uint64_t now_usec)
{
	struct dane_track next = { 0 };
	bool kept = false;

	if (a->status == DANE_BOGUS || a->status == DANE_FAILED)
		return 0;
	for (size_t i = 0; a->status == DANE_SECURE && i < a->n_records; i++) {
		uint8_t *d = next.seen[next.n].sha256;
		size_t j;

		if (record_digest(&a->records[i], d) < 0)
			return -ENOMEM;
		next.seen[next.n].since_usec = now_usec;
		for (j = 0; j < t->n; j++)
			if (memcmp(t->seen[j].sha256, d, SHA256_LEN) == 0) {
				next.seen[next.n].since_usec = t->seen[j].since_usec;
				kept = true;
			}
		next.n++;
	}
	next.max_ttl = a->ttl;
	if (kept && t->max_ttl > next.max_ttl)
		next.max_ttl = t->max_ttl;
	*t = next;
	return 0;
}

/* ---- one source's say ---------------------------------------------------------- */

struct part {
	enum dane_action action;
	enum severity severity;
	bool overridden;
	char reason[1024];
	uint64_t recheck_usec;    /* 0: no opinion */
};

__attribute__((format(printf, 4, 5)))
static void say(struct part *p, enum dane_action action, enum severity severity,
		const char *fmt, ...)
{
	va_list ap;

	p->action = action;
	p->severity = severity;
	va_start(ap, fmt);
	vsnprintf(p->reason, sizeof(p->reason), fmt, ap);
	va_end(ap);
}

static void append(struct part *p, const char *text)
{
	size_t len = strlen(p->reason);

	snprintf(p->reason + len, sizeof(p->reason) - len, "%s", text);
}

/*
 * A renewal that must wait: WARNING; near expiry CRITICAL, and then it goes
 * ahead only with override, since an expired certificate breaks every
 * sender while a mismatch breaks only those that validate.
 */
static void hold(struct part *p, const struct dane_input *in)
{
	p->action = DANE_ACTION_HOLD;
	p->severity = SEVERITY_WARNING;
	if (!in->served_critical)
		return;
	p->severity = SEVERITY_CRITICAL;
	if (in->override) {
		p->action = DANE_ACTION_PROCEED;
		p->overridden = true;
		append(p, "; the served certificate is near expiry and dane-override is set: "
		       "reloading anyway");
	} else
		append(p, "; the served certificate is near expiry: set dane-override = yes "
		       "to reload anyway");
}

static enum dane_side side_of(const struct tlsa_match *m)
{
	switch (m->status) {
	case TLSA_MATCH:    return DANE_SIDE_MATCH;
	case TLSA_MISMATCH: return DANE_SIDE_MISMATCH;
	case TLSA_NO_CHAIN: return DANE_SIDE_UNKNOWN;
	default:            return DANE_SIDE_NOT_JUDGED;
	}
}

static uint64_t recheck_for_ttl(uint32_t ttl)
{
	uint64_t usec = (uint64_t)ttl * USEC_PER_SEC;

	return usec < RECHECK_MIN_USEC ? RECHECK_MIN_USEC :
	       usec > RECHECK_MAX_USEC ? RECHECK_MAX_USEC : usec;
}

/* Whether any usable record is a DANE-TA one: then a 2 1 1 is worth offering too. */
static bool uses_dane_ta(const struct dane_answer *a)
{
	for (size_t i = 0; i < a->n_records; i++)
		if (a->records[i].usage == TLSA_USAGE_DANE_TA &&
		    tlsa_record_class(&a->records[i]) == TLSA_USABLE)
			return true;
	return false;
}

/* Both match: go ahead, unless the record the disk matches is too new to be everywhere. */
static void both_match(struct part *p, const struct dane_input *in, const struct tlsa_match *ms,
		       const struct tlsa_match *md)
{
	const struct dane_answer *a = in->answer;
	uint32_t ttl = in->track && in->track->max_ttl > a->ttl ? in->track->max_ttl : a->ttl;
	uint64_t since = 0, wait = 2 * (uint64_t)ttl * USEC_PER_SEC, age;
	bool tracked = track_since(in->track, &a->records[md->record], &since);
	char age_text[32], left_text[32];

	age = in->now_usec > since ? in->now_usec - since : 0;
	if (!tracked || (ms->status == TLSA_MATCH && ms->record == md->record) || age >= wait) {
		say(p, DANE_ACTION_PROCEED, SEVERITY_OK, "the served chain and the one on disk "
		    "both match the TLSA records of %s", a->owner);
		return;
	}
	format_duration(age, age_text, sizeof(age_text));
	format_duration(wait - age, left_text, sizeof(left_text));
	say(p, DANE_ACTION_HOLD, SEVERITY_WARNING, "the TLSA record that the renewal on disk "
	    "matches was first seen %s ago: the reload waits %s more, until resolvers "
	    "elsewhere have let go of the records without it (twice their TTL of %us)",
	    age_text, left_text, ttl);
	p->recheck_usec = wait - age < RECHECK_MIN_USEC ? RECHECK_MIN_USEC : wait - age;
	if (in->served_critical) {
		p->action = DANE_ACTION_PROCEED;
		append(p, "; the served certificate is near expiry: reloading now");
	}
}

static void served_mismatch(struct part *p, const struct dane_input *in,
			    const struct tlsa_match *ms, const struct tlsa_match *md,
			    const struct dane_verdict *v)
{
	const char *publish = md->status == TLSA_NO_CHAIN ? v->served_records[0] :
			      v->disk_records[0];

	say(p, md->status == TLSA_MATCH ? DANE_ACTION_PROCEED : DANE_ACTION_NONE,
	    SEVERITY_CRITICAL, "senders that validate DANE refuse this server: the served "
	    "certificate matches none of the TLSA records of %s (%s)", in->answer->owner,
	    ms->detail);
	if (md->status == TLSA_MATCH)
		append(p, "; the certificate on disk matches: reloading puts it right");
	else if (publish[0]) {
		append(p, "; publish `");
		append(p, publish);
		append(p, "`");
	}
}

static void disk_mismatch(struct part *p, const struct dane_input *in,
			  const struct tlsa_match *md, const struct dane_verdict *v)
{
	say(p, DANE_ACTION_HOLD, SEVERITY_WARNING, "the renewal on disk would break DANE for "
	    "%s (%s): publish `%s`", in->name, md->detail, v->disk_records[0]);
	if (uses_dane_ta(in->answer) && v->disk_records[1][0]) {
		append(p, " (or, to trust its issuer, `");
		append(p, v->disk_records[1]);
		append(p, "`)");
	}
	append(p, " and wait a few TTLs, then certwatch reloads by itself");
	hold(p, in);
}

static int judge_secure(struct part *p, const struct dane_input *in, struct dane_verdict *v)
{
	const struct dane_answer *a = in->answer;
	struct tlsa_match ms, md;
	int e;

	e = tlsa_match_chain(a->records, a->n_records, in->served, in->n_served, in->name,
			     in->now, &ms);
	if (e == 0)
		e = tlsa_match_chain(a->records, a->n_records, in->disk, in->n_disk, in->name,
				     in->now, &md);
	if (e < 0)
		return e;
	v->served = side_of(&ms);
	v->disk = side_of(&md);
	if (ms.status == TLSA_NONE_USABLE || md.status == TLSA_NONE_USABLE) {
		say(p, DANE_ACTION_NONE, in->mode == DANE_MODE_YES ? SEVERITY_CRITICAL :
		    SEVERITY_WARNING, "%s has TLSA records but %s: DANE is not in effect",
		    a->owner, ms.status == TLSA_NONE_USABLE ? ms.detail : md.detail);
		return 0;
	}
	if (ms.status == TLSA_MISMATCH)
		served_mismatch(p, in, &ms, &md, v);
	else if (md.status == TLSA_MATCH)
		both_match(p, in, &ms, &md);
	else if (md.status == TLSA_MISMATCH)
		disk_mismatch(p, in, &md, v);
	else
		say(p, DANE_ACTION_NONE, SEVERITY_OK, "%s",
		    ms.status == TLSA_MATCH ? "the served chain matches the TLSA records" :
		    "nothing to judge against the TLSA records");
	return 0;
}

static void lookup_failed(struct part *p, const struct dane_input *in, const char *why)
{
	say(p, DANE_ACTION_NONE, SEVERITY_WARNING, "DANE cannot be checked: %s", why);
	p->recheck_usec = RECHECK_MIN_USEC;
	if (in->mode == DANE_MODE_YES) {
		append(p, "; with dane = yes, no reload without the records");
		hold(p, in);
	}
}

static int judge_records(struct part *p, const struct dane_input *in, struct dane_verdict *v)
{
	const struct dane_answer *a = in->answer;

	if (in->mode == DANE_MODE_NO)
		return 0;
	if (!a) {
		lookup_failed(p, in, "no look-up of the TLSA records has answered yet");
		return 0;
	}
	p->recheck_usec = recheck_for_ttl(a->ttl);
	switch (a->status) {
	case DANE_SECURE:
		return judge_secure(p, in, v);
	case DANE_SECURE_NONE:
	case DANE_INSECURE:
		if (in->mode != DANE_MODE_YES)
			say(p, DANE_ACTION_NONE, SEVERITY_OK, "%s", a->reason);
		else
			say(p, DANE_ACTION_NONE, SEVERITY_CRITICAL, "dane = yes, but %s: publish "
			    "`%s` in a signed zone", a->reason, v->disk_records[0][0] ?
			    v->disk_records[0] : v->served_records[0]);
		return 0;
	case DANE_BOGUS:
		/* Nobody can tell what the records say: a new key waits for them. */
		say(p, DANE_ACTION_NONE, SEVERITY_CRITICAL, "%s: senders that validate DANE "
		    "defer mail to this server until the zone's signatures are repaired; a "
		    "renewal waits until the records validate", a->reason);
		hold(p, in);
		p->severity = SEVERITY_CRITICAL;
		p->recheck_usec = RECHECK_BOGUS_USEC;
		return 0;
	default:
		lookup_failed(p, in, a->reason);
		return 0;
	}
}

/* ---- pins ------------------------------------------------------------------------- */

static int judge_pins(struct part *p, const struct dane_input *in, struct dane_verdict *v)
{
	struct tlsa_match ms, md;
	char served_pin[TLSA_PIN_TEXT_LEN] = "";
	struct tlsa_pin pin;
	int e;

	if (in->n_pins == 0)
		return 0;
	e = tlsa_match_pins(in->pins, in->n_pins, in->served, in->n_served, &ms);
	if (e == 0)
		e = tlsa_match_pins(in->pins, in->n_pins, in->disk, in->n_disk, &md);
	if (e == 0 && in->n_served > 0 && (e = tlsa_pin_for_cert(in->served[0], &pin)) == 0)
		tlsa_pin_to_text(&pin, served_pin);
	if (e < 0)
		return e;
	v->served_pins = side_of(&ms);
	v->disk_pins = side_of(&md);
	if (ms.status == TLSA_MISMATCH) {
		say(p, md.status == TLSA_MATCH ? DANE_ACTION_PROCEED : DANE_ACTION_NONE,
		    SEVERITY_CRITICAL, "clients that pin keys refuse this server: the served key "
		    "(pin-sha256 \"%s\") %s%s", served_pin, ms.detail,
		    md.status == TLSA_MATCH ? "; the key on disk is pinned: reloading puts it right" : "");
	} else if (md.status == TLSA_MATCH)
		say(p, DANE_ACTION_PROCEED, SEVERITY_OK, "the key on disk is pinned");
	else if (md.status == TLSA_MISMATCH) {
		say(p, DANE_ACTION_HOLD, SEVERITY_WARNING, "the renewal on disk has a key that "
		    "matches no pin-sha256: add pin-sha256 \"%s\" (and give it to the clients "
		    "that pin), then certwatch reloads by itself", v->disk_pin);
		hold(p, in);
	}
	return 0;
}

/* ---- the verdict --------------------------------------------------------------------- */

static int chain_lines(const char *owner, X509 *const *chain, size_t n,
		       char lines[2][TLSA_LINE_MAX])
{
	int e = 0;

	lines[0][0] = lines[1][0] = '\0';
	if (n > 0)
		e = tlsa_line_spki_sha256(owner, TLSA_USAGE_DANE_EE, chain[0], lines[0]);
	if (e == 0 && n > 1)
		e = tlsa_line_spki_sha256(owner, TLSA_USAGE_DANE_TA, chain[1], lines[1]);
	return e;
}

static void merge(struct dane_verdict *v, const struct part *p)
{
	size_t len = strlen(v->reason);

	if (p->action == DANE_ACTION_HOLD)
		v->action = DANE_ACTION_HOLD;
	else if (p->action == DANE_ACTION_PROCEED && v->action != DANE_ACTION_HOLD)
		v->action = DANE_ACTION_PROCEED;
	v->overridden = v->action == DANE_ACTION_PROCEED && (v->overridden || p->overridden);
	if (p->severity > v->severity)
		v->severity = p->severity;
	if (p->recheck_usec && (!v->recheck_usec || p->recheck_usec < v->recheck_usec))
		v->recheck_usec = p->recheck_usec;
	if (p->reason[0])
		snprintf(v->reason + len, sizeof(v->reason) - len, "%s%s", len ? "; " : "",
			 p->reason);
}

int dane_judge(const struct dane_input *in, struct dane_verdict *ret)
{
	char owner[TLSA_OWNER_MAX];
	struct dane_verdict *v;
	struct part records = { 0 }, pins = { 0 };
	struct tlsa_pin pin;
	int e;

	if (tlsa_owner(in->name, in->port, owner) < 0)
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	e = chain_lines(owner, in->served, in->n_served, v->served_records);
	if (e == 0)
		e = chain_lines(owner, in->disk, in->n_disk, v->disk_records);
	if (e == 0 && in->n_disk > 0 && (e = tlsa_pin_for_cert(in->disk[0], &pin)) == 0)
		tlsa_pin_to_text(&pin, v->disk_pin);
	if (e == 0)
		e = judge_records(&records, in, v);
	if (e == 0)
		e = judge_pins(&pins, in, v);
	if (e == 0) {
		merge(v, &records);
		merge(v, &pins);
		*ret = *v;
	}
	free(v);
	return e;
}
