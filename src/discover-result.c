/*
 * discover-result.c - struct discovered, what a parser found in a dump:
 * the one way to add an endpoint or a note to it, and freeing it.
 *
 * Both are bounded (DISCOVER_MAX_ENDPOINTS, DISCOVER_MAX_NOTES): a hostile
 * or enormous dump cannot make the output grow without end; the endpoints
 * past the bound are counted in one note, and a note already said is not
 * said again.  An endpoint whose address or paths could not be written
 * into certwatch.conf as they are is dropped with a note; a name to send
 * that the configuration loader would refuse is left out with a note, as
 * one line the loader refuses would refuse the whole file.  Every
 * endpoint gets an endpoint name that is valid and unique within its
 * service.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "conf.h"
#include "discover.h"
#include "discover-int.h"

static void pair_done(struct discovered_pair *p)
{
	free(p->cert);
	free(p->key);
	free(p->chain);
	*p = (struct discovered_pair){ 0 };
}

static void alts_done(struct discovered_pair *alt, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		pair_done(&alt[i]);
	*n = 0;
}

static void endpoint_done(struct discovered_endpoint *e)
{
	free(e->name);
	free(e->address);
	free(e->sni);
	free(e->cert);
	free(e->key);
	free(e->chain);
	alts_done(e->alt, &e->n_alt);
}

void discovered_done(struct discovered *d)
{
	if (!d)
		return;
	free(d->cert);
	free(d->key);
	free(d->chain);
	alts_done(d->alt, &d->n_alt);
	free(d->hostname);
	free(d->control_socket);
	for (size_t i = 0; i < d->n_endpoints; i++)
		endpoint_done(&d->endpoints[i]);
	free(d->endpoints);
	for (size_t i = 0; i < d->n_notes; i++)
		free(d->notes[i]);
	free(d->notes);
	*d = (struct discovered){ 0 };
}

__attribute__((format(printf, 2, 0)))
static int vnote(struct discovered *d, const char *fmt, va_list ap)
{
	char buf[512];

	if (d->n_notes >= DISCOVER_MAX_NOTES)
		return 0;
	if (!d->notes && !(d->notes = calloc(DISCOVER_MAX_NOTES, sizeof(*d->notes))))
		return -ENOMEM;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* The same file named on many lines says the same thing: once is enough. */
	for (size_t i = 0; i < d->n_notes; i++)
		if (strcmp(d->notes[i], buf) == 0)
			return 0;
	if (!(d->notes[d->n_notes] = strdup(buf)))
		return -ENOMEM;
	d->n_notes++;
	return 0;
}

int disc_note(struct discovered *d, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vnote(d, fmt, ap);
	va_end(ap);
	return r;
}

int disc_note_once(struct discovered *d, bool *noted, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*noted)
		return 0;
	*noted = true;
	va_start(ap, fmt);
	r = vnote(d, fmt, ap);
	va_end(ap);
	return r;
}

#define SKIPPED_NOTE_SIZE 128

int disc_skip_endpoint(struct discovered *d)
{
	if (!d->skipped_note) {
		/* Notes full: the count matters more than the last of them. */
		size_t slot = d->n_notes < DISCOVER_MAX_NOTES ? d->n_notes : DISCOVER_MAX_NOTES - 1;
		char *note = malloc(SKIPPED_NOTE_SIZE);

		if (!note || (!d->notes && !(d->notes = calloc(DISCOVER_MAX_NOTES,
							       sizeof(*d->notes))))) {
			free(note);
			return -ENOMEM;
		}
		if (slot < d->n_notes)
			free(d->notes[slot]);
		else
			d->n_notes++;
		d->notes[slot] = d->skipped_note = note;
	}
	d->n_skipped++;
	snprintf(d->skipped_note, SKIPPED_NOTE_SIZE, "%zu more endpoints not listed: at most %d "
		 "are; write the others by hand", d->n_skipped, DISCOVER_MAX_ENDPOINTS);
	return 0;
}

const char *disc_name_problem(const char *name)
{
	unsigned char buf[sizeof(struct in6_addr)];
	const char *why = conf_host_problem(name);

	/* RFC 6066, 3: "Literal IPv4 and IPv6 addresses are not permitted in HostName". */
	if (!why && (inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1))
		why = "is an IP address, which SNI does not carry";
	return why;
}

static bool valid_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

static bool name_taken(const struct discovered *d, const char *name)
{
	for (size_t i = 0; i < d->n_endpoints; i++)
		if (strcmp(d->endpoints[i].name, name) == 0)
			return true;
	return false;
}

/* A valid endpoint name from base (anything), unique within d. */
static int unique_name(const struct discovered *d, const char *base, char out[MAX_NAME + 1])
{
	char clean[MAX_NAME + 1];
	size_t n = 0;

	for (const char *p = base; *p && n < MAX_NAME - 6; p++) {
		char c = valid_name_char(*p) ? *p : '-';
		if (n == 0 && (c == '.' || c == '-'))
			continue;
		clean[n++] = c;
	}
	while (n > 0 && clean[n - 1] == '-')
		n--;
	clean[n] = '\0';
	if (n == 0)
		snprintf(clean, sizeof(clean), "endpoint");
	snprintf(out, MAX_NAME + 1, "%s", clean);
	for (unsigned i = 2; name_taken(d, out); i++) {
		if (i > 99999)
			return -E2BIG;
		snprintf(out, MAX_NAME + 1, "%s-%u", clean, i);
	}
	return 0;
}

int disc_dup_or_null(const char *s, char **ret)
{
	*ret = NULL;
	if (s && !(*ret = strdup(s)))
		return -ENOMEM;
	return 0;
}

/* Copies the pairs after the first into alt; 0 or -ENOMEM. */
static int alts_copy(const struct disc_pairs *pairs, struct discovered_pair *alt, size_t *n_alt)
{
	for (size_t i = 1; i < pairs->n && *n_alt < DISCOVER_MAX_PAIRS - 1; i++) {
		struct discovered_pair *p = &alt[*n_alt];
		int r;

		if ((r = disc_dup_or_null(pairs->cert[i], &p->cert)) < 0 ||
		    (r = disc_dup_or_null(pairs->key[i], &p->key)) < 0) {
			pair_done(p);
			return r;
		}
		(*n_alt)++;
	}
	return 0;
}

static bool pairs_printable(const struct disc_pairs *pairs)
{
	bool ok = !pairs->chain || disc_printable(pairs->chain);

	for (size_t i = 0; i < pairs->n; i++)
		ok &= (!pairs->cert[i] || disc_printable(pairs->cert[i])) &&
		      (!pairs->key[i] || disc_printable(pairs->key[i]));
	return ok;
}

int disc_set_service_pairs(struct discovered *d, const struct disc_pairs *pairs)
{
	int r;

	if (pairs->n == 0 || !pairs_printable(pairs))
		return 0;
	d->format = pairs->format;
	if ((r = disc_dup_or_null(pairs->cert[0], &d->cert)) < 0 ||
	    (r = disc_dup_or_null(pairs->key[0], &d->key)) < 0 ||
	    (r = disc_dup_or_null(pairs->chain, &d->chain)) < 0)
		return r;
	return alts_copy(pairs, d->alt, &d->n_alt);
}

int disc_add_endpoint_pairs(struct discovered *d, const char *base, const char *address,
			    unsigned port, int starttls, const char *sni,
			    const struct disc_pairs *pairs)
{
	struct discovered_endpoint *e;
	char name[MAX_NAME + 1];
	const char *cert = pairs->n ? pairs->cert[0] : NULL, *key = pairs->n ? pairs->key[0] : NULL;
	const char *why;
	int r;

	if (port == 0 || port > 65535)
		return disc_note(d, "%s: port %u is not usable", disc_show(base).s, port);
	if (!disc_printable(address) || !pairs_printable(pairs))
		return disc_note(d, "%s: skipped: a path or address holds control characters",
				 disc_show(base).s);
	if (d->n_endpoints >= DISCOVER_MAX_ENDPOINTS)
		return disc_skip_endpoint(d);
	if (sni && (why = disc_name_problem(sni))) {
		if ((r = disc_note(d, "%s: name \"%s\" %s; left out", disc_show(base).s,
				   disc_show(sni).s, why)) < 0)
			return r;
		sni = NULL;
	}
	if (!d->endpoints &&
	    !(d->endpoints = calloc(DISCOVER_MAX_ENDPOINTS, sizeof(*d->endpoints))))
		return -ENOMEM;
	if ((r = unique_name(d, base, name)) < 0)
		return disc_note(d, "%s: skipped: no unique name left", disc_show(base).s);
	e = &d->endpoints[d->n_endpoints];
	*e = (struct discovered_endpoint){ .port = (uint16_t)port, .starttls = starttls,
					   .format = pairs->format, .key_type = KEY_TYPE_AUTO };
	if ((r = disc_dup_or_null(name, &e->name)) < 0 ||
	    (r = disc_dup_or_null(address, &e->address)) < 0 ||
	    (r = disc_dup_or_null(sni, &e->sni)) < 0 ||
	    (r = disc_dup_or_null(cert, &e->cert)) < 0 ||
	    (r = disc_dup_or_null(key, &e->key)) < 0 ||
	    (r = disc_dup_or_null(pairs->n ? pairs->chain : NULL, &e->chain)) < 0 ||
	    (r = alts_copy(pairs, e->alt, &e->n_alt)) < 0) {
		endpoint_done(e);
		return r;
	}
	d->n_endpoints++;
	return 0;
}

int disc_add_endpoint(struct discovered *d, const char *base, const char *address,
		      unsigned port, int starttls, const char *sni, const char *cert,
		      const char *key)
{
	const struct disc_pairs pairs = { .cert = { cert }, .key = { key }, .n = cert ? 1 : 0 };

	return disc_add_endpoint_pairs(d, base, address, port, starttls, sni, &pairs);
}

/* One group of pairs a listener serves (a pair's files), and the key types they hold. */
struct split_group {
	struct discovered_pair files;   /* borrowed */
	bool inherited;                 /* the service's own pair: the endpoint names none */
	enum key_type types[DISCOVER_MAX_PAIRS];
	size_t n_types;
};

static size_t split_groups(const struct discovered *d, const struct discovered_endpoint *e,
			   discover_types_fn types, void *userdata,
			   struct split_group g[DISCOVER_MAX_PAIRS])
{
	bool own = e->cert || e->n_alt;
	const struct discovered_pair *alt = own ? e->alt : d->alt;
	size_t n = 0, n_alt = own ? e->n_alt : d->n_alt;

	if (e->cert)
		g[n++] = (struct split_group) { .files = { e->cert, e->key, e->chain, e->format } };
	else if (d->cert)
		g[n++] = (struct split_group) { .files = { d->cert, d->key, d->chain, d->format },
						.inherited = true };
	for (size_t i = 0; i < n_alt && n < DISCOVER_MAX_PAIRS; i++)
		g[n++] = (struct split_group) { .files = alt[i] };
	for (size_t i = 0; i < n; i++) {
		int k = types(&g[i].files, g[i].types, DISCOVER_MAX_PAIRS, userdata);

		g[i].n_types = k > 0 ? (size_t)k : 0;
	}
	return n;
}

/* One endpoint for pair index of group g, named after e. */
static int split_add(struct discovered *d, const struct discovered_endpoint *e,
		     const struct split_group *g, size_t index, size_t nth)
{
	enum key_type t = index < g->n_types ? g->types[index] : KEY_TYPE_AUTO;
	struct disc_pairs pairs = {
		.cert = { g->files.cert }, .key = { g->files.key }, .chain = g->files.chain,
		.format = g->files.format, .n = g->inherited ? 0 : 1,
	};
	char base[MAX_NAME + 16];
	size_t before = d->n_endpoints;
	int r;

	if (t == KEY_TYPE_RSA || t == KEY_TYPE_ECDSA)
		snprintf(base, sizeof(base), "%.*s-%s", MAX_NAME - 8, e->name, key_type_to_string(t));
	else
		snprintf(base, sizeof(base), "%.*s-%zu", MAX_NAME - 8, e->name, nth);
	r = disc_add_endpoint_pairs(d, base, e->address, e->port, e->starttls, e->sni, &pairs);
	if (r >= 0 && d->n_endpoints > before)
		d->endpoints[before].key_type = t == KEY_TYPE_RSA || t == KEY_TYPE_ECDSA ? t :
						KEY_TYPE_AUTO;
	return r;
}

/* e, moved into d's new list whole (one pair) or as one endpoint per pair. */
static int split_one(struct discovered *d, struct discovered_endpoint *e,
		     discover_types_fn types, void *userdata)
{
	struct split_group g[DISCOVER_MAX_PAIRS];
	size_t n = split_groups(d, e, types, userdata, g), total = 0, nth = 0;
	char name[MAX_NAME + 1];
	int r;

	for (size_t i = 0; i < n; i++)
		total += g[i].n_types > 1 ? g[i].n_types : 1;
	if (total > 1) {
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < (g[i].n_types > 1 ? g[i].n_types : 1); j++)
				if ((r = split_add(d, e, &g[i], j, ++nth)) < 0)
					return r;
		return 0;
	}
	/* A copy with a suffix may have taken its name: it gets one of its own. */
	if ((r = unique_name(d, e->name, name)) < 0)
		return disc_note(d, "%s: skipped: no unique name left", disc_show(e->name).s);
	if (strcmp(name, e->name) != 0) {
		free(e->name);
		if (!(e->name = strdup(name)))
			return -ENOMEM;
	}
	alts_done(e->alt, &e->n_alt);
	d->endpoints[d->n_endpoints++] = *e;
	*e = (struct discovered_endpoint){ 0 };
	return 0;
}

int discovered_split_pairs(struct discovered *d, discover_types_fn types, void *userdata)
{
	struct discovered_endpoint *old = d->endpoints;
	size_t n_old = d->n_endpoints;
	int r = 0;

	if (!old)
		return 0;
	d->endpoints = calloc(DISCOVER_MAX_ENDPOINTS, sizeof(*d->endpoints));
	if (!d->endpoints) {
		d->endpoints = old;
		return -ENOMEM;
	}
	d->n_endpoints = 0;
	for (size_t i = 0; i < n_old && r >= 0; i++)
		r = split_one(d, &old[i], types, userdata);
	for (size_t i = 0; i < n_old; i++)
		endpoint_done(&old[i]);
	free(old);
	alts_done(d->alt, &d->n_alt);
	return r < 0 ? r : 0;
}
