/*
 * check-dane.c - an endpoint's TLSA records and pins within its check; see
 * check-dane.h.
 *
 * The records are looked up afresh on every pass (libunbound keeps them
 * for their TTL, so this costs a query only when they may have changed),
 * and the track remembers since when each was seen.  Records already
 * there at the first look-up count as long published: a restart must not
 * hold a renewal for two TTLs.  A record that appears later is trusted
 * only two TTLs on (dane-judge.c says why).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "check-dane.h"
#include "starttls.h"

/* An IPv4 or IPv6 address written as such, which no TLSA record can hang off. */
static bool ip_literal(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int check_dane_new(const struct conf_endpoint *ep, struct check_dane **ret)
{
	const char *name = ep->dane_name ? ep->dane_name : ep->sni ? ep->sni : ep->address;
	bool smtp = ep->starttls >= 0 && strcmp(starttls_drivers[ep->starttls].name, "smtp") == 0;
	enum dane_mode mode = (enum dane_mode)ep->dane;
	struct check_dane *d;
	size_t n = 0;
	char err[128];

	while (ep->pins && ep->pins[n])
		n++;
	*ret = NULL;
	/*
	 * TLSA records belong to a domain name (RFC 6698 section 3): an
	 * endpoint known only by its address has none for auto to look up.
	 */
	if (mode == DANE_MODE_AUTO && ip_literal(name))
		mode = DANE_MODE_NO;
	/*
	 * Without pins, an endpoint whose records are never looked up has no
	 * DANE part: no, and auto for what is not SMTP (a look-up is what
	 * would make auto want them).  On a host of 10,000 HTTPS virtual
	 * hosts, that is most of the daemon's memory saved.
	 */
	if (n == 0 && (mode == DANE_MODE_NO || !dane_wanted(mode, ep->port, smtp, NULL)))
		return 0;
	d = calloc(1, sizeof(*d));
	if (!d || (n && !(d->pins = calloc(n, sizeof(*d->pins))))) {
		free(d);
		return -ENOMEM;
	}
	d->mode = mode;
	d->override = ep->dane_override;
	d->smtp = smtp;
	d->name = name;
	/* Checked when the configuration was loaded. */
	for (size_t i = 0; i < n; i++)
		if (tlsa_pin_parse(ep->pins[i], &d->pins[d->n_pins], err, sizeof(err)) == 0)
			d->n_pins++;
	*ret = d;
	return 0;
}

static void answer_free(struct dane_answer *a)
{
	dane_answer_done(a);
	free(a);
}

void check_dane_cancel(struct check_dane *d)
{
	if (!d)
		return;
	dane_lookup_cancel(d->lookup);
	d->lookup = NULL;
}

void check_dane_free(struct check_dane *d)
{
	if (!d)
		return;
	check_dane_cancel(d);
	answer_free(d->answer);
	free(d->pins);
	free(d);
}

bool check_dane_wanted(const struct check_item *it)
{
	const struct check_dane *d = it->dane;

	return d && dane_wanted(d->mode, it->target.port, d->smtp, &d->track);
}

bool check_items_want_dane(const struct check_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (check_dane_wanted(&items[i]))
			return true;
	return false;
}

struct dane_options check_dane_options(const struct conf *c)
{
	return (struct dane_options) {
		.trust_anchor = c->dane_trust_anchor,
		.resolver = c->dane_resolver,
		.timeout_usec = c->timeout_usec,
	};
}

static void on_answer(struct dane_answer *a, void *userdata)
{
	struct check_dane *d = userdata;

	struct dane_answer *copy = malloc(sizeof(*copy));

	d->lookup = NULL;
	if (!copy) {
		/* The previous answer stays: a look-up that did not happen changes nothing. */
		dane_answer_done(a);
		d->done(d->userdata);
		return;
	}
	*copy = *a;   /* a is the caller's; what it holds is ours */
	answer_free(d->answer);
	d->answer = copy;
	/* Out of memory, the track stays as it was: records count as older, never newer. */
	if (dane_track_update(&d->track, copy, d->primed ? now_realtime_usec() : 0) == 0)
		d->primed = d->primed || (a->status != DANE_BOGUS && a->status != DANE_FAILED);
	d->done(d->userdata);
}

int check_dane_start(struct check_item *it, struct dane_resolver *r,
		     void (*done)(void *userdata), void *userdata)
{
	struct check_dane *d = it->dane;
	int e;

	if (!r || !check_dane_wanted(it) || d->lookup)
		return 0;
	d->done = done;
	d->userdata = userdata;
	e = dane_lookup_start(r, d->name, it->target.port, on_answer, d, &d->lookup);
	return e < 0 ? e : 1;
}

static size_t chain_of(const struct cert_chain *c, bool usable, X509 *const **ret)
{
	*ret = usable ? c->x509 : NULL;
	return usable && c->x509 ? c->n_issuers + 1 : 0;
}

void check_dane_judge(struct check_item *it, time_t now)
{
	struct check_dane *d = it->dane;
	long long warn, crit;
	struct dane_input in;

	if (!d)
		return;
	d->judged = false;
	in = (struct dane_input) {
		.mode = check_dane_wanted(it) ? d->mode : DANE_MODE_NO,
		.answer = d->answer,
		.track = &d->track,
		.name = d->name,
		.port = it->target.port,
		.pins = d->pins,
		.n_pins = d->n_pins,
		.override = d->override,
		.now = now,
		.now_usec = now_realtime_usec(),
	};
	/* auto for an endpoint not looked up has no say, as no. */
	if (in.mode == DANE_MODE_NO && d->n_pins == 0)
		return;
	in.n_served = chain_of(&it->probe.chain, it->probe.status == PROBE_OK, &in.served);
	in.n_disk = chain_of(&it->disk.chain, it->cert && it->disk.status == X509_VALID, &in.disk);
	if (it->probe.status == PROBE_OK) {
		thresholds_for(&it->th, &it->probe.leaf, &warn, &crit);
		in.served_critical = (long long)it->probe.leaf.not_after - (long long)now < crit;
	}
	if (dane_judge(&in, &d->verdict) < 0)
		return;
	d->judged = true;
	reconcile_dane(&it->verdict, &d->verdict);
}
